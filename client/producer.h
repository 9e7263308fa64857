/* The producer: records batched per partition (batch.size, linger.ms),
 * partitioned as Kafka's Java client does (murmur2 for keys, sticky for null
 * keys), sent to each partition's leader with acks 0/1/all, retried on
 * leader changes within delivery.timeout.ms, and reported once each through
 * the delivery callback. */
#ifndef EDDY_CLIENT_PRODUCER_H
#define EDDY_CLIENT_PRODUCER_H

#include <stdint.h>

#include "client/client.h"
#include "client/consumer.h"
#include "wire/recordbatch.h"

typedef struct kc_producer kc_producer_t;
typedef struct kc_record kc_record_t;

/* An application's partitioner (a record's rec_partitioner): the partition
 * of rec among npartitions. Called once per record, on the loop thread:
 * from kc_produce when the topic's partition count is known, else when it
 * becomes known (the record waits, copied, and rec borrows that copy for
 * the call). A partition outside 0..npartitions-1 fails the record: its
 * delivery callback gets -EINVAL with that partition. */
typedef int32_t(kc_partition_fn)(kc_producer_t *p, const char *topic, const kc_record_t *rec,
                                 int32_t npartitions, void *opaque);

struct kc_record {
    const void *rec_key;
    int32_t rec_key_len; /* -1: null key */
    const void *rec_value;
    int32_t rec_value_len; /* -1: null value (tombstone) */
    int64_t rec_timestamp; /* -1: now */
    const wire_header_t *rec_headers;
    int32_t rec_nheaders;
    /* NULL: Kafka's default partitioner (murmur2, sticky for null keys).
     * Used only with partition -1. */
    kc_partition_fn *rec_partitioner;
    void *rec_partitioner_opaque; /* must live until the partition is chosen */
};

/* One call per record: err 0 and the offset it got, or an eddy_err
 * (-ETIMEDOUT when delivery.timeout.ms ran out) with kafka_err the last
 * error the broker gave (or 0). */
typedef void(kc_delivery_fn)(kc_producer_t *p, int err, int16_t kafka_err, const char *topic,
                             int32_t partition, int64_t offset, void *opaque);

kc_producer_t *kc_producer_new(kc_client_t *c, kc_delivery_fn *dr);
/* Queues a record (copied; the caller's buffers are free at return).
 * partition -1 lets the partitioner choose (rec's, else the default). opaque comes back in the
 * delivery callback. Returns 0, -EINVAL (bad partition), or
 * EDDY_ERR_TOO_LARGE (kc_record_size over max.request.size, as Kafka's
 * RecordTooLargeException). */
int kc_produce(kc_producer_t *p, const char *topic, int32_t partition, const kc_record_t *rec,
               void *opaque);
/* A record's size in a batch (an upper bound, as max.request.size sees it). */
int64_t kc_record_size(const kc_record_t *rec);
/* A pointer of the application's, for delivery callbacks to find their
 * context from the producer. */
void kc_producer_set_opaque(kc_producer_t *p, void *opaque);
void *kc_producer_opaque(const kc_producer_t *p);
/* Records queued or in flight, not yet reported. */
int64_t kc_producer_outstanding(const kc_producer_t *p);
/* Closes every open batch and sends what the in-flight limit allows now
 * (linger ignored); returns at once. For callers on the loop thread that
 * wait for the delivery callbacks themselves (kc_producer_outstanding). */
void kc_producer_send_now(kc_producer_t *p);
/* Sends everything now (linger ignored) and runs the loop until every
 * record is reported or timeout_ms passes: 0 or -ETIMEDOUT. */
int kc_producer_flush(kc_producer_t *p, int64_t timeout_ms);
/* Fails what is still queued with -ECANCELED and frees the producer. */
void kc_producer_destroy(kc_producer_t *p);

/* ---- transactions ----
 *
 * With transactional.id set the producer is transactional, as Kafka's
 * (KIP-98); the semantics follow Kafka's Java producer and librdkafka:
 *
 *   init_transactions -> ( begin -> kc_produce ... [send_offsets_to_transaction]
 *                          -> commit | abort )*
 *
 * transactional.id forces idempotence on: enable.idempotence=false, or a
 * setting idempotence cannot live with (acks other than all, retries 0,
 * max.in.flight.requests.per.connection > 5), is a configuration error
 * naming the setting. transaction.timeout.ms (60000) goes to the
 * coordinator, which aborts a transaction left open longer.
 *
 * Records may be produced only inside a transaction (begin .. commit or
 * abort); kc_produce returns EDDY_ERR_TXN_STATE otherwise. A partition
 * joins the transaction (AddPartitionsToTxn, batched) before its first
 * batch goes out; batches carry the transactional bit.
 *
 * Calls that talk to the cluster have the shape of kc_consumer_commit:
 * sync runs the loop until the result and returns it (done, when not NULL,
 * is called too); async returns 0 at once, or an error when the call
 * cannot start (then done is not called), and done reports the result on
 * the loop thread. Only one such call runs at a time; a second one
 * returns EDDY_ERR_TXN_STATE, except the same call again after a sync one
 * returned -ETIMEDOUT: the operation went on and the call waits for it
 * (as the Java producer's retried commitTransaction).
 *
 * Results (err, with kafka_err the broker's error code or 0):
 *   0                      done
 *   EDDY_ERR_TXN_ABORTABLE the transaction failed (a record's delivery
 *                          failed, the coordinator refused AddPartitionsToTxn
 *                          or TxnOffsetCommit, the coordinator aborted it on
 *                          timeout): abort it (kc_producer_abort_transaction)
 *                          and go on with the next one. Every later call but
 *                          abort returns this too until then.
 *   EDDY_ERR_TXN_FATAL     the producer is unusable: fenced by a newer one
 *                          with the same transactional.id (PRODUCER_FENCED,
 *                          INVALID_PRODUCER_EPOCH), refused
 *                          (TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
 *                          CLUSTER_AUTHORIZATION_FAILED), or the broker has no
 *                          transactions. Destroy it; every later call
 *                          returns this.
 *   EDDY_ERR_TXN_STATE     the call does not fit the state (begin twice,
 *                          commit without begin, ...); nothing was done.
 *   -ETIMEDOUT             (sync only) the result did not come within
 *                          transaction.timeout.ms + request.timeout.ms; the
 *                          same call again waits on.
 * kc_producer_txn_error gives the broker's error and a sentence for the
 * last two classes.
 */

/* The result of a transactional call (see above). */
typedef void(kc_txn_fn)(kc_producer_t *p, int err, int16_t kafka_err, void *opaque);

/* Whether the producer has a transactional.id. */
int kc_producer_transactional(const kc_producer_t *p);

/* Finds the transaction coordinator of transactional.id (FindCoordinator
 * key type 1) and gets the producer id and epoch from it (InitProducerId
 * with the id and transaction.timeout.ms), retrying while the coordinator
 * loads, moves, or finishes the previous producer's transaction
 * (CONCURRENT_TRANSACTIONS). That fences every older producer with the
 * same transactional.id, and the coordinator completes (aborts) a
 * transaction one of them left open. Once per producer, before anything
 * else. */
int kc_producer_init_transactions(kc_producer_t *p, int sync, kc_txn_fn *done, void *opaque);

/* Starts a transaction; local only (no request), as Kafka's. Returns 0,
 * EDDY_ERR_TXN_STATE (not initialised, one already open), or the error
 * class the producer is in. */
int kc_producer_begin_transaction(kc_producer_t *p);

/* An offset to commit in the transaction: the next offset the group's
 * consumer reads in topic-partition (the last processed + 1), as Kafka's
 * OffsetAndMetadata. */
typedef struct kc_txn_offset {
    const char *to_topic;
    int32_t to_partition;
    int64_t to_offset;
    int32_t to_leader_epoch; /* -1: unknown */
    const char *to_metadata; /* NULL: none */
} kc_txn_offset_t;

/* Commits offsets[0..n) for the consumer group gm (kc_consumer_group_metadata)
 * as part of the open transaction: AddOffsetsToTxn to the transaction
 * coordinator, then TxnOffsetCommit to the group's coordinator with gm's
 * generation, member id and group instance id (the group coordinator
 * fences a member of an older generation). The offsets become visible to
 * the group (OffsetFetch) only when the transaction commits; an abort
 * drops them. offsets and gm are copied. */
int kc_producer_send_offsets_to_transaction(kc_producer_t *p, const kc_txn_offset_t *offsets, int n,
                                            const kc_consumer_group_metadata_t *gm, int sync,
                                            kc_txn_fn *done, void *opaque);

/* Sends every record of the transaction (linger ignored), waits until each
 * is acknowledged, then ends the transaction with commit (EndTxn). A
 * record that failed makes the result EDDY_ERR_TXN_ABORTABLE instead (no
 * EndTxn commit is sent): abort then. */
int kc_producer_commit_transaction(kc_producer_t *p, int sync, kc_txn_fn *done, void *opaque);

/* Fails the records not yet sent (their delivery callbacks get
 * -ECANCELED), waits for the batches in flight, then ends the transaction
 * with abort (EndTxn) when anything was added to it. The way out of
 * EDDY_ERR_TXN_ABORTABLE; not of EDDY_ERR_TXN_FATAL. */
int kc_producer_abort_transaction(kc_producer_t *p, int sync, kc_txn_fn *done, void *opaque);

/* The error class the producer is in (0, EDDY_ERR_TXN_ABORTABLE,
 * EDDY_ERR_TXN_FATAL); *kafka_err (may be NULL) the broker's error behind
 * it (or 0), *why (may be NULL) a sentence naming the cause, valid until
 * the next call on the producer. */
int kc_producer_txn_error(const kc_producer_t *p, int16_t *kafka_err, const char **why);

#endif

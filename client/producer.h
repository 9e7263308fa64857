/* The producer: records batched per partition (batch.size, linger.ms),
 * partitioned as Kafka's Java client does (murmur2 for keys, sticky for null
 * keys), sent to each partition's leader with acks 0/1/all, retried on
 * leader changes within delivery.timeout.ms, and reported once each through
 * the delivery callback. */
#ifndef EDDY_CLIENT_PRODUCER_H
#define EDDY_CLIENT_PRODUCER_H

#include <stdint.h>

#include "client/client.h"
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

#endif

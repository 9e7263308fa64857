/* The transactional producer's requests (AddPartitionsToTxn,
 * AddOffsetsToTxn, EndTxn, TxnOffsetCommit) and the read_committed
 * consumer's aborted-transaction filter. Private to client/. Layouts follow
 * Kafka's message specs (*Request.json / *Response.json), versions 0-4
 * (AddPartitionsToTxn and AddOffsetsToTxn 0-3; v4 has v3's layout); v3 is the first flexible
 * one of each. */
#ifndef EDDY_CLIENT_TXN_WIRE_H
#define EDDY_CLIENT_TXN_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "wire/client_api.h"
#include "wire/recordbatch.h"

/* One partition of a transactional request or its answer. */
typedef struct kc_txn_tp {
    const char *tt_topic;
    int32_t tt_partition;
    int64_t tt_offset;       /* TxnOffsetCommit only */
    int32_t tt_leader_epoch; /* TxnOffsetCommit only (-1) */
    const char *tt_metadata; /* TxnOffsetCommit only (NULL: null) */
    int16_t tt_error;        /* the answer's error for it */
} kc_txn_tp_t;

/* AddPartitionsToTxn: tps sorted by topic (consecutive entries of a topic
 * go in one topic entry). */
void kc_txn_add_partitions_encode(eddy_wr_t *wr, int16_t v, const char *txn_id, int64_t pid,
                                  int16_t epoch, const kc_txn_tp_t *tps, int n);
/* Sets tt_error of each tps entry the answer names (others keep theirs);
 * returns 0 or an eddy_err. */
int kc_txn_add_partitions_decode(eddy_rd_t *rd, int16_t v, kc_txn_tp_t *tps, int n);

void kc_txn_add_offsets_encode(eddy_wr_t *wr, int16_t v, const char *txn_id, int64_t pid,
                               int16_t epoch, const char *group_id);
/* AddOffsetsToTxn and EndTxn answers: ThrottleTimeMs, ErrorCode. */
int kc_txn_error_decode(eddy_rd_t *rd, int16_t v, int api_key, int16_t *error);

void kc_txn_end_encode(eddy_wr_t *wr, int16_t v, const char *txn_id, int64_t pid, int16_t epoch,
                       int commit);

/* TxnOffsetCommit; generation, member id and instance id go at v3+ only
 * (below, the coordinator checks the producer's epoch alone). tps sorted by
 * topic. */
void kc_txn_offset_commit_encode(eddy_wr_t *wr, int16_t v, const char *txn_id, const char *group_id,
                                 int64_t pid, int16_t epoch, int32_t generation,
                                 const char *member_id, const char *instance_id,
                                 const kc_txn_tp_t *tps, int n);
int kc_txn_offset_commit_decode(eddy_rd_t *rd, int16_t v, kc_txn_tp_t *tps, int n);

/* ---- read_committed: the aborted-transaction filter ----
 *
 * Kafka's algorithm (the Java consumer's CompletedFetch, librdkafka's
 * msgset reader): the fetch answer lists the aborted transactions that
 * overlap the records returned, (producer id, first offset). Walking the
 * batches in offset order, a producer becomes "aborted" once a batch
 * reaches its first offset (first offset <= the batch's last offset); its
 * transactional batches are dropped until its ABORT marker (a control
 * batch), which ends that transaction. Control batches are never records
 * for the application. */
typedef struct kc_abort_filter {
    FetchResponseAbortedTransaction *af_txns; /* sorted by first offset */
    int32_t af_n, af_next;
    int64_t *af_pids; /* producers in an aborted transaction now */
    int32_t af_npids;
} kc_abort_filter_t;

/* txns: the partition's AbortedTransactions (n may be -1: null). Returns 0
 * or -ENOMEM. */
int kc_abort_filter_init(kc_abort_filter_t *f, const FetchResponseAbortedTransaction *txns,
                         int32_t n);
void kc_abort_filter_free(kc_abort_filter_t *f);
/* Whether the batch (header h, bytes batch[0..size)) is left out: 1 for a
 * control batch and for a transactional batch of an aborted transaction, 0
 * otherwise. Call for every batch in order. */
int kc_abort_filter_skip(kc_abort_filter_t *f, const wire_batch_header_t *h, const uint8_t *batch,
                         size_t size);

#endif

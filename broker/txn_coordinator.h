/* The transaction coordinator (Kafka's design, KIP-98): transactional ids,
 * their producer id and epoch, and the two-phase commit of a transaction,
 * kept as records in the compacted topic __transaction_state and replayed at
 * start-up.
 *
 * States (Kafka's TransactionState, with its numbers in the records):
 *
 *   Empty --AddPartitions/AddOffsets--> Ongoing --EndTxn(commit)--> PrepareCommit
 *     ^                                  |   \                           | markers
 *     |                                  |    \--EndTxn(abort), timeout,  v
 *     |                                  |       InitProducerId--> PrepareAbort --markers--> CompleteAbort
 *     |                                  v                                               CompleteCommit
 *     +-- InitProducerId (epoch bump) -- Complete* --AddPartitions--> Ongoing
 *   PrepareEpochFence: the epoch was bumped to fence a producer whose Ongoing
 *   transaction is being aborted (in memory only, as in Kafka). Dead: the id
 *   expired (a tombstone in the log).
 *
 * Every transition is appended to __transaction_state before it takes
 * effect in memory, so a broker killed at any step replays to the last
 * written state; a transaction found in PrepareCommit/PrepareAbort at start
 * gets its markers written again and is then completed.
 */
#ifndef EDDY_BROKER_TXN_COORDINATOR_H
#define EDDY_BROKER_TXN_COORDINATOR_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "wire/proto.h"

#define TXN_STATE_TOPIC "__transaction_state"

typedef struct txn_coordinator txn_coordinator_t;
struct eddy_broker;

enum txn_state {
    TXN_EMPTY = 0,
    TXN_ONGOING = 1,
    TXN_PREPARE_COMMIT = 2,
    TXN_PREPARE_ABORT = 3,
    TXN_COMPLETE_COMMIT = 4,
    TXN_COMPLETE_ABORT = 5,
    TXN_DEAD = 6,
    TXN_PREPARE_EPOCH_FENCE = 7,
    TXN_NSTATES = 8,
};
/* Kafka's names ("PrepareCommit"), as DescribeTransactions and
 * ListTransactions show them; NULL for a number outside the table. */
const char *txn_state_name(int state);
int txn_state_from_name(kstr_t name); /* -1: unknown */

typedef struct txn_part {
    char *tp_topic;
    int32_t tp_partition;
    int tp_marked; /* its marker is written (Prepare* only, not stored) */
} txn_part_t;

/* One transactional id. */
typedef struct txn_meta {
    struct txn_meta *t_next;
    char *t_id;
    int64_t t_pid;
    int64_t t_prev_pid; /* the id before an epoch exhaustion gave a new one, or -1 */
    int16_t t_epoch;      /* -1 before the first InitProducerId answer */
    int16_t t_last_epoch; /* the epoch before the last bump: a retried InitProducerId */
    int32_t t_timeout_ms;
    enum txn_state t_state;
    txn_part_t *t_parts;
    int t_nparts, t_parts_cap;
    int64_t t_start_ms;  /* wall clock: the transaction's first AddPartitions, or -1 */
    int64_t t_update_ms; /* wall clock: the last transition */
} txn_meta_t;

/* ---- records (txn_store.c), Kafka's TransactionLogKey v0 / TransactionLogValue v0 ----
 *   key   v0: int16 0, TransactionalId string
 *   value v0: int16 0, ProducerId int64, ProducerEpoch int16, TransactionTimeoutMs int32,
 *             TransactionStatus int8, TransactionPartitions nullable [Topic string,
 *             PartitionIds [int32]] (null for Empty), TransactionLastUpdateTimestampMs
 *             int64, TransactionStartTimestampMs int64
 *   a null value: the id expired. */
void txn_key_encode(eddy_wr_t *w, const char *id);
/* The value of m in state state, with the first nparts of m's partitions. */
void txn_value_encode(eddy_wr_t *w, const txn_meta_t *m, enum txn_state state, int nparts);
/* Reads a key: the id as a view into p. Returns 0 or EDDY_ERR_CORRUPT. */
int txn_key_decode(const uint8_t *p, size_t n, kstr_t *id);
/* Reads a value (v0 or v1, tagged fields skipped) into m's fields; m's
 * partitions are replaced. Returns 0, EDDY_ERR_CORRUPT or -ENOMEM. */
int txn_value_decode(const uint8_t *p, size_t n, txn_meta_t *m);
void txn_meta_clear_parts(txn_meta_t *m);
void txn_meta_free(txn_meta_t *m);
/* Adds a partition unless present; 1 added, 0 present, -ENOMEM. */
int txn_meta_add_part(txn_meta_t *m, kstr_t topic, int32_t partition);
int txn_meta_has_part(const txn_meta_t *m, kstr_t topic, int32_t partition);

/* ---- the state machine's checks (txn_coordinator.c), Kafka's order ----
 * Each returns KERR_NONE or the error the request gets; fenced is the code a
 * stale epoch gets at the request's version (txn_fenced_code). */
/* AddPartitionsToTxn / AddOffsetsToTxn. */
int16_t txn_check_add(const txn_meta_t *m, int64_t pid, int16_t epoch, int16_t fenced);
/* EndTxn: KERR_NONE with *start 1 to begin the commit/abort, *start 0 for a
 * retry of one already complete (answered NONE at once). */
int16_t txn_check_end(const txn_meta_t *m, int64_t pid, int16_t epoch, int commit, int16_t fenced,
                      int *start);
/* PRODUCER_FENCED, or INVALID_PRODUCER_EPOCH for a version before the
 * API knew PRODUCER_FENCED (InitProducerId < 4, the others < 2). */
int16_t txn_fenced_code(int api_key, int16_t version);
/* Kafka: an epoch this close to Short.MAX_VALUE gets a new producer id. */
static inline int txn_epoch_exhausted(int16_t epoch)
{
    return epoch >= INT16_MAX - 1;
}

/* ---- the coordinator ---- */
/* Creates __transaction_state if missing, replays it, completes the
 * transactions found in PrepareCommit/PrepareAbort. After the topics and
 * the group coordinator are open. */
int txn_coordinator_open(struct eddy_broker *b, txn_coordinator_t **out, char *errstr,
                         size_t errstr_size);
void txn_coordinator_close(txn_coordinator_t *tc);
/* Timed-out transactions, expired ids, markers to retry (every 100 ms). */
void txn_coordinator_tick(txn_coordinator_t *tc, int64_t wall_ms);

/* KIP-890's verification of a transactional write (Kafka's
 * transaction.partition.verification.enable), for the group coordinator's
 * TxnOffsetCommit: KERR_NONE when transactional id `id` is in an Ongoing
 * transaction of producer_id and producer_epoch that added `topic`
 * partition `partition`; else INVALID_PRODUCER_ID_MAPPING (unknown id, or
 * another producer id), INVALID_PRODUCER_EPOCH (another epoch) or
 * INVALID_TXN_STATE (no transaction open, or the partition not in it), the
 * codes Kafka answers. */
int16_t txn_verify_partition(txn_coordinator_t *tc, kstr_t id, int64_t producer_id,
                             int16_t producer_epoch, const char *topic, int32_t partition);

#endif

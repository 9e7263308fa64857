/* Private to the transaction coordinator: shared by txn_coordinator.c (the
 * state machine, markers, timers, replay) and handlers_txn.c (the APIs). */
#ifndef EDDY_BROKER_TXN_INT_H
#define EDDY_BROKER_TXN_INT_H

#include "broker/broker_int.h"
#include "broker/txn_coordinator.h"

/* EDDY_TEST_TXN_CRASH: where the broker kills itself (tests of kill -9). */
enum txn_crash { TXN_CRASH_NONE, TXN_CRASH_PREPARE, TXN_CRASH_MARKER, TXN_CRASH_COMPLETE };

struct txn_coordinator {
    eddy_broker_t *tc_broker;
    txn_meta_t *tc_txns;
    topic_t *tc_topic;
    enum txn_crash tc_crash;
    int64_t tc_next_abort_ms, tc_next_expire_ms; /* wall clock */
};

txn_meta_t *txn_find(txn_coordinator_t *tc, kstr_t id);
/* A new id: a never used producer id, epoch -1, Empty, not yet written.
 * NULL when out of memory; *kerr says why (COORDINATOR_LOAD_IN_PROGRESS
 * when no producer id could be reserved). */
txn_meta_t *txn_create(txn_coordinator_t *tc, kstr_t id, int16_t *kerr);

/* InitProducerId with a transactional id (the response's fields set). */
void txn_init_producer_id(txn_coordinator_t *tc, kstr_t id, int32_t timeout_ms,
                          int64_t expected_pid, int16_t expected_epoch, int16_t fenced,
                          int16_t *err, int64_t *pid, int16_t *epoch);
/* Adds partitions to m's transaction after txn_check_add passed (for
 * AddOffsetsToTxn the group's __consumer_offsets partition, as Kafka):
 * writes Ongoing unless all of them are in it already. */
int16_t txn_add(txn_coordinator_t *tc, txn_meta_t *m, const kstr_t *topics,
                const int32_t *partitions, int n);
/* EndTxn after txn_check_end said to start: Prepare* written, then the
 * markers and Complete*. KERR_NONE once Prepare* is written. */
int16_t txn_end(txn_coordinator_t *tc, txn_meta_t *m, int commit);

#endif

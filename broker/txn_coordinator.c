/* The transaction coordinator's state machine (txn_coordinator.h): the
 * transitions, each appended to __transaction_state before it takes effect;
 * the markers that end a transaction in its partitions; the timers
 * (transaction.timeout.ms, transactional.id.expiration.ms); the replay at
 * start-up.
 *
 * Everything runs on the loop thread. Ending a transaction is synchronous:
 * Prepare* is appended, then a marker is appended to every partition of the
 * transaction (local appends, no broker to wait for), then Complete*; the
 * client is answered after that (Kafka answers once Prepare* is written and
 * sends the markers afterwards). A marker that cannot be written leaves the
 * transaction in Prepare*: the client still gets NONE (the outcome was
 * decided when Prepare* was written) and the tick writes the rest later.
 *
 * The coordinator epoch in markers is 0: one broker is the coordinator of
 * every __transaction_state partition for the life of the data directory.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/group_int.h"
#include "broker/txn_int.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "wire/recordbatch.h"

#define TXN_COORDINATOR_EPOCH 0

/* ---- the checks (pure; unit-tested) ---- */

int16_t txn_fenced_code(int api_key, int16_t version)
{
    int first = api_key == API_INIT_PRODUCER_ID ? 4 : 2;
    return version >= first ? KERR_PRODUCER_FENCED : KERR_INVALID_PRODUCER_EPOCH;
}

int16_t txn_check_add(const txn_meta_t *m, int64_t pid, int16_t epoch, int16_t fenced)
{
    if (!m || m->t_state == TXN_DEAD || pid != m->t_pid)
        return KERR_INVALID_PRODUCER_ID_MAPPING;
    if (epoch != m->t_epoch)
        return fenced;
    switch (m->t_state) {
    case TXN_PREPARE_COMMIT:
    case TXN_PREPARE_ABORT:
    case TXN_PREPARE_EPOCH_FENCE: return KERR_CONCURRENT_TRANSACTIONS;
    default: return KERR_NONE;
    }
}

int16_t txn_check_end(const txn_meta_t *m, int64_t pid, int16_t epoch, int commit, int16_t fenced,
                      int *start)
{
    *start = 0;
    if (!m || m->t_state == TXN_DEAD || pid != m->t_pid)
        return KERR_INVALID_PRODUCER_ID_MAPPING;
    if (epoch != m->t_epoch)
        return fenced;
    switch (m->t_state) {
    case TXN_ONGOING: *start = 1; return KERR_NONE;
    /* A retry of an EndTxn whose answer was lost: the same outcome again. */
    case TXN_COMPLETE_COMMIT: return commit ? KERR_NONE : KERR_INVALID_TXN_STATE;
    case TXN_COMPLETE_ABORT: return commit ? KERR_INVALID_TXN_STATE : KERR_NONE;
    case TXN_PREPARE_COMMIT: return commit ? KERR_CONCURRENT_TRANSACTIONS : KERR_INVALID_TXN_STATE;
    case TXN_PREPARE_ABORT: return commit ? KERR_INVALID_TXN_STATE : KERR_CONCURRENT_TRANSACTIONS;
    case TXN_PREPARE_EPOCH_FENCE: return KERR_CONCURRENT_TRANSACTIONS;
    default: return KERR_INVALID_TXN_STATE; /* Empty: no transaction to end */
    }
}

/* ---- the registry ---- */

txn_meta_t *txn_find(txn_coordinator_t *tc, kstr_t id)
{
    for (txn_meta_t *m = tc->tc_txns; m; m = m->t_next)
        if (kstr_eq(id, m->t_id))
            return m;
    return NULL;
}

static txn_meta_t *txn_alloc(txn_coordinator_t *tc, kstr_t id)
{
    txn_meta_t *m = calloc(1, sizeof *m);
    if (!m || !(m->t_id = kstr_dup(id))) {
        free(m);
        return NULL;
    }
    m->t_pid = m->t_prev_pid = -1;
    m->t_epoch = m->t_last_epoch = -1;
    m->t_state = TXN_EMPTY;
    m->t_start_ms = -1;
    m->t_next = tc->tc_txns;
    tc->tc_txns = m;
    return m;
}

static void txn_remove(txn_coordinator_t *tc, txn_meta_t *m)
{
    for (txn_meta_t **pp = &tc->tc_txns; *pp; pp = &(*pp)->t_next)
        if (*pp == m) {
            *pp = m->t_next;
            break;
        }
    txn_meta_free(m);
}

txn_meta_t *txn_create(txn_coordinator_t *tc, kstr_t id, int16_t *kerr)
{
    int64_t pid;
    if (broker_pids_next(&tc->tc_broker->bk_pids, &pid) < 0) {
        *kerr = KERR_COORDINATOR_LOAD_IN_PROGRESS;
        return NULL;
    }
    txn_meta_t *m = txn_alloc(tc, id);
    if (!m) {
        *kerr = KERR_UNKNOWN_SERVER_ERROR;
        return NULL;
    }
    m->t_pid = pid;
    return m;
}

/* ---- writing __transaction_state ---- */

static partition_t *txn_log_partition(txn_coordinator_t *tc, const char *id)
{
    topic_t *t = tc->tc_topic;
    return t->t_parts[group_partition_for(id, strlen(id), t->t_npartitions)];
}

/* Appends the record (value NULL: a tombstone); returns a KERR_* code. */
static int16_t txn_append_record(txn_coordinator_t *tc, const char *id, const eddy_wr_t *val)
{
    eddy_wr_t batch, key;
    wr_init(&batch);
    wr_init(&key);
    txn_key_encode(&key, id);
    wire_batch_builder_t bb;
    wire_batch_header_t tmpl = wire_batch_header_default();
    int64_t now = eddy_wall_ms();
    wire_batch_begin(&bb, &batch, &tmpl);
    wire_batch_add(&bb, now, key.wr_buf, (int32_t)key.wr_len, val ? val->wr_buf : NULL,
                   val ? (int32_t)val->wr_len : -1, NULL, 0);
    int16_t kerr = KERR_NONE;
    if (wire_batch_end(&bb, 0) < 0) {
        kerr = KERR_UNKNOWN_SERVER_ERROR;
    } else {
        partition_t *p = txn_log_partition(tc, id);
        log_append_info_t info;
        char err[256];
        int rc = log_append(p->p_log, batch.wr_buf, batch.wr_len, 0, now, &info, err, sizeof err);
        if (rc < 0) {
            static eddy_log_limit_t lim = EDDY_LOG_LIMIT_INIT;
            EDDY_LOG_LIMITED(EDDY_LOG_LVL_ERROR, "txn", &lim, 10000,
                             "transactional id %s: cannot write to %s-%d: %s; its requests get "
                             "COORDINATOR_NOT_AVAILABLE until the partition can be written",
                             id, TXN_STATE_TOPIC, p->p_index,
                             rc == EDDY_ERR_LOG_OFFLINE ? "the log is offline" : err);
            kerr = KERR_COORDINATOR_NOT_AVAILABLE;
        } else if (info.ai_flush_due) {
            broker_flush_partition(tc->tc_broker, p);
        }
    }
    wr_free(&batch);
    wr_free(&key);
    return kerr;
}

/* The transition of m to state with the given producer id and epoch (and
 * its first nparts partitions): written first, then applied to m. */
static int16_t txn_transition(txn_coordinator_t *tc, txn_meta_t *m, enum txn_state state,
                              int64_t pid, int16_t epoch, int nparts, int64_t start_ms)
{
    txn_meta_t nx = *m;
    nx.t_pid = pid;
    nx.t_epoch = epoch;
    nx.t_start_ms = start_ms;
    nx.t_update_ms = eddy_wall_ms();
    eddy_wr_t val;
    wr_init(&val);
    txn_value_encode(&val, &nx, state, nparts);
    int16_t kerr = txn_append_record(tc, m->t_id, &val);
    wr_free(&val);
    if (kerr != KERR_NONE)
        return kerr;
    if (epoch != m->t_epoch || pid != m->t_pid)
        m->t_last_epoch = pid == m->t_pid ? m->t_epoch : -1;
    m->t_pid = pid;
    m->t_epoch = epoch;
    m->t_start_ms = start_ms;
    m->t_update_ms = nx.t_update_ms;
    m->t_state = state;
    return KERR_NONE;
}

/* ---- ending a transaction ---- */

static void txn_crash_at(txn_coordinator_t *tc, enum txn_crash at, const txn_meta_t *m)
{
    if (tc->tc_crash != at)
        return;
    EDDY_LOG_WARN("txn", "EDDY_TEST_TXN_CRASH: killing the broker (transactional id %s, %s)",
                  m->t_id, txn_state_name(m->t_state));
    raise(SIGKILL);
}

static int is_offsets_topic(const char *topic)
{
    return strcmp(topic, OFFSETS_TOPIC) == 0;
}

/* A __consumer_offsets partition of the transaction (AddOffsetsToTxn): the
 * group coordinator writes its marker and completes the producer's pending
 * offsets of every group stored there. */
static int txn_complete_offsets(txn_coordinator_t *tc, txn_meta_t *m, const txn_part_t *tp,
                                int commit)
{
    return group_txn_complete_partition(tc->tc_broker->bk_groups, tp->tp_partition, m->t_pid,
                                        m->t_epoch, commit, TXN_COORDINATOR_EPOCH);
}

/* Writes the markers m (in Prepare*) still lacks, then Complete*. Returns 0,
 * or the error of the marker or record that could not be written (the tick
 * tries again). */
static int txn_complete(txn_coordinator_t *tc, txn_meta_t *m)
{
    int commit = m->t_state == TXN_PREPARE_COMMIT;
    int nmarkers = 0;
    for (int i = 0; i < m->t_nparts; i++) {
        txn_part_t *tp = &m->t_parts[i];
        if (tp->tp_marked)
            continue;
        int rc = 0;
        if (is_offsets_topic(tp->tp_topic)) {
            rc = txn_complete_offsets(tc, m, tp, commit);
            if (rc == 0 && nmarkers++ == 0)
                txn_crash_at(tc, TXN_CRASH_MARKER, m);
        } else {
            topic_t *t = topics_find(&tc->tc_broker->bk_topics, tp->tp_topic, strlen(tp->tp_topic));
            /* A partition deleted meanwhile needs no marker (Kafka drops it too). */
            if (t && tp->tp_partition < t->t_npartitions) {
                partition_t *p = t->t_parts[tp->tp_partition];
                int64_t off;
                rc = log_append_marker(p->p_log, m->t_pid, m->t_epoch, commit,
                                       TXN_COORDINATOR_EPOCH, eddy_wall_ms(), &off);
                if (rc == 0) {
                    /* The LSO moved: read_committed fetches may have data now. */
                    broker_data_arrived(tc->tc_broker);
                    if (nmarkers++ == 0)
                        txn_crash_at(tc, TXN_CRASH_MARKER, m);
                }
            }
        }
        if (rc < 0) {
            static eddy_log_limit_t lim = EDDY_LOG_LIMIT_INIT;
            EDDY_LOG_LIMITED(EDDY_LOG_LVL_ERROR, "txn", &lim, 10000,
                             "transactional id %s: cannot write the %s marker to %s-%d: %s; "
                             "the transaction stays in %s and is retried",
                             m->t_id, commit ? "commit" : "abort", tp->tp_topic, tp->tp_partition,
                             eddy_strerror(rc), txn_state_name(m->t_state));
            return rc;
        }
        tp->tp_marked = 1;
    }
    txn_crash_at(tc, TXN_CRASH_COMPLETE, m);
    enum txn_state done = commit ? TXN_COMPLETE_COMMIT : TXN_COMPLETE_ABORT;
    if (txn_transition(tc, m, done, m->t_pid, m->t_epoch, 0, m->t_start_ms) != KERR_NONE)
        return EDDY_ERR_LOG_OFFLINE;
    txn_meta_clear_parts(m);
    return 0;
}

int16_t txn_end(txn_coordinator_t *tc, txn_meta_t *m, int commit)
{
    enum txn_state prep = commit ? TXN_PREPARE_COMMIT : TXN_PREPARE_ABORT;
    int16_t kerr = txn_transition(tc, m, prep, m->t_pid, m->t_epoch, m->t_nparts, m->t_start_ms);
    if (kerr != KERR_NONE)
        return kerr;
    for (int i = 0; i < m->t_nparts; i++)
        m->t_parts[i].tp_marked = 0;
    txn_crash_at(tc, TXN_CRASH_PREPARE, m);
    txn_complete(tc, m);
    return KERR_NONE;
}

/* Aborts m's Ongoing transaction with the epoch bumped, fencing the
 * producer that ran it (InitProducerId from a new instance, or the
 * transaction's timeout): Kafka's PrepareEpochFence, then PrepareAbort. */
static int16_t txn_fence_and_abort(txn_coordinator_t *tc, txn_meta_t *m)
{
    int16_t epoch = m->t_epoch < INT16_MAX ? (int16_t)(m->t_epoch + 1) : m->t_epoch;
    m->t_state = TXN_PREPARE_EPOCH_FENCE;
    int16_t kerr = txn_transition(tc, m, TXN_PREPARE_ABORT, m->t_pid, epoch, m->t_nparts,
                                  m->t_start_ms);
    if (kerr != KERR_NONE) {
        m->t_state = TXN_ONGOING; /* nothing was written: tried again later */
        return kerr;
    }
    /* Kafka forgets the last epoch here: the fenced producer's KIP-360
     * retry with its old epoch is fenced, not taken for a lost answer. */
    m->t_last_epoch = -1;
    for (int i = 0; i < m->t_nparts; i++)
        m->t_parts[i].tp_marked = 0;
    txn_crash_at(tc, TXN_CRASH_PREPARE, m);
    txn_complete(tc, m);
    return KERR_NONE;
}

/* ---- InitProducerId ---- */

void txn_init_producer_id(txn_coordinator_t *tc, kstr_t id, int32_t timeout_ms,
                          int64_t expected_pid, int16_t expected_epoch, int16_t fenced,
                          int16_t *err, int64_t *pid, int16_t *epoch)
{
    eddy_broker_t *b = tc->tc_broker;
    *pid = -1;
    *epoch = -1;
    if (id.len == 0) {
        *err = KERR_INVALID_REQUEST;
        return;
    }
    if (timeout_ms <= 0 || timeout_ms > b->bk_cfg.transaction_max_timeout_ms) {
        *err = KERR_INVALID_TRANSACTION_TIMEOUT;
        return;
    }
    txn_meta_t *m = txn_find(tc, id);
    if (!m && !(m = txn_create(tc, id, err)))
        return;
    /* KIP-360, Kafka's checks: a producer that names its id and epoch must
     * be the current one, or the one just before a bump whose answer it
     * lost, or the previous id at an exhausted epoch (the answer with the
     * new id was lost). An id just created (epoch -1) takes any. */
    int retry = 0;
    if (expected_pid >= 0 && m->t_epoch >= 0) {
        if (expected_pid != m->t_pid && expected_pid == m->t_prev_pid &&
            txn_epoch_exhausted(expected_epoch)) {
            retry = 1;
        } else if (expected_pid != m->t_pid ||
                   (expected_epoch != m->t_epoch && expected_epoch != m->t_last_epoch)) {
            *err = fenced;
            return;
        } else {
            retry = expected_epoch == m->t_last_epoch && m->t_last_epoch >= 0;
        }
    }
    switch (m->t_state) {
    case TXN_PREPARE_COMMIT:
    case TXN_PREPARE_ABORT:
    case TXN_PREPARE_EPOCH_FENCE:
    case TXN_DEAD: *err = KERR_CONCURRENT_TRANSACTIONS; return;
    case TXN_ONGOING:
        /* The previous instance's transaction is aborted first; the client
         * retries and then gets the epoch after this one. */
        *err = txn_fence_and_abort(tc, m);
        if (*err == KERR_NONE)
            *err = KERR_CONCURRENT_TRANSACTIONS;
        return;
    default: break;
    }
    if (retry) {
        *err = KERR_NONE;
        *pid = m->t_pid;
        *epoch = m->t_epoch;
        return;
    }
    int64_t next_pid = m->t_pid;
    int16_t next_epoch = (int16_t)(m->t_epoch + 1);
    if (txn_epoch_exhausted(m->t_epoch)) {
        if (broker_pids_next(&b->bk_pids, &next_pid) < 0) {
            *err = KERR_COORDINATOR_LOAD_IN_PROGRESS;
            return;
        }
        next_epoch = 0;
    }
    int32_t old_timeout = m->t_timeout_ms;
    int64_t old_pid = m->t_pid;
    m->t_timeout_ms = timeout_ms;
    *err = txn_transition(tc, m, TXN_EMPTY, next_pid, next_epoch, 0, -1);
    if (*err != KERR_NONE) {
        m->t_timeout_ms = old_timeout;
        return;
    }
    if (next_pid != old_pid)
        m->t_prev_pid = old_pid;
    *pid = m->t_pid;
    *epoch = m->t_epoch;
}

/* ---- AddPartitionsToTxn, AddOffsetsToTxn ---- */

int16_t txn_add(txn_coordinator_t *tc, txn_meta_t *m, const kstr_t *topics,
                const int32_t *partitions, int n)
{
    int16_t kerr = KERR_UNKNOWN_SERVER_ERROR;
    int fresh = m->t_state != TXN_ONGOING;
    if (fresh)
        txn_meta_clear_parts(m);
    int old = m->t_nparts;
    for (int i = 0; i < n; i++)
        if (txn_meta_add_part(m, topics[i], partitions[i]) < 0)
            goto undo;
    if (!fresh && m->t_nparts == old)
        return KERR_NONE; /* all of it is in the transaction already */
    int64_t start = fresh ? eddy_wall_ms() : m->t_start_ms;
    kerr = txn_transition(tc, m, TXN_ONGOING, m->t_pid, m->t_epoch, m->t_nparts, start);
    if (kerr == KERR_NONE)
        return KERR_NONE;
undo:
    /* Not written: the partitions are not in the transaction. */
    while (m->t_nparts > old)
        free(m->t_parts[--m->t_nparts].tp_topic);
    return kerr;
}

/* ---- timers ---- */

void txn_coordinator_tick(txn_coordinator_t *tc, int64_t now)
{
    eddy_broker_t *b = tc->tc_broker;
    if (now >= tc->tc_next_abort_ms) {
        tc->tc_next_abort_ms =
            now + b->bk_cfg.transaction_abort_timed_out_transaction_cleanup_interval_ms;
        for (txn_meta_t *m = tc->tc_txns; m; m = m->t_next) {
            if (m->t_state == TXN_PREPARE_COMMIT || m->t_state == TXN_PREPARE_ABORT) {
                txn_complete(tc, m); /* markers that failed before */
            } else if (m->t_state == TXN_ONGOING && m->t_start_ms >= 0 &&
                       now - m->t_start_ms > m->t_timeout_ms) {
                EDDY_LOG_INFO("txn",
                              "transactional id %s: transaction of producer %" PRId64
                              " epoch %d ran longer than transaction.timeout.ms (%d ms): "
                              "aborting it and fencing that epoch",
                              m->t_id, m->t_pid, m->t_epoch, m->t_timeout_ms);
                txn_fence_and_abort(tc, m);
            }
        }
    }
    if (now >= tc->tc_next_expire_ms) {
        tc->tc_next_expire_ms =
            now + b->bk_cfg.transaction_remove_expired_transaction_cleanup_interval_ms;
        for (txn_meta_t *m = tc->tc_txns, *next; m; m = next) {
            next = m->t_next;
            int idle = m->t_state == TXN_EMPTY || m->t_state == TXN_COMPLETE_COMMIT ||
                       m->t_state == TXN_COMPLETE_ABORT;
            if (!idle || now - m->t_update_ms <= b->bk_cfg.transactional_id_expiration_ms)
                continue;
            if (txn_append_record(tc, m->t_id, NULL) != KERR_NONE)
                continue;
            EDDY_LOG_INFO("txn",
                          "transactional id %s expired (unused for transactional.id.expiration.ms)",
                          m->t_id);
            txn_remove(tc, m);
        }
    }
}

/* ---- replay ---- */

static void txn_replay_record(txn_coordinator_t *tc, const wire_record_t *rec, int32_t part)
{
    kstr_t id;
    if (rec->keyLength < 0 || txn_key_decode(rec->key, (size_t)rec->keyLength, &id) < 0)
        return;
    txn_meta_t *m = txn_find(tc, id);
    if (rec->valueLength < 0) {
        if (m)
            txn_remove(tc, m);
        return;
    }
    if (!m && !(m = txn_alloc(tc, id)))
        return;
    int16_t epoch = m->t_epoch;
    int64_t pid = m->t_pid;
    if (txn_value_decode(rec->value, (size_t)rec->valueLength, m) < 0) {
        EDDY_LOG_ERROR("txn",
                       "%s-%d: record at offset %" PRId64 " of transactional id %.*s "
                       "unreadable, skipped",
                       TXN_STATE_TOPIC, part, rec->offset, (int)id.len, id.ptr);
        return;
    }
    m->t_last_epoch = (pid == m->t_pid && epoch != m->t_epoch) ? epoch : m->t_last_epoch;
}

static int txn_replay_partition(txn_coordinator_t *tc, partition_t *p)
{
    log_t *log = p->p_log;
    int64_t offset = log_start_offset(log);
    while (offset < log_end_offset(log)) {
        log_slice_t sl;
        int rc = log_read(log, offset, 1 << 20, &sl);
        if (rc < 0)
            return rc;
        if (sl.sl_len == 0)
            break;
        uint8_t *buf = malloc(sl.sl_len);
        rc = buf ? log_slice_read(log, &sl, buf) : -ENOMEM;
        log_slice_release(log, &sl);
        if (rc < 0) {
            free(buf);
            return rc;
        }
        for (size_t pos = 0; pos < sl.sl_len;) {
            int64_t size = wire_batch_size(buf + pos);
            wire_record_iter_t it;
            wire_record_t rec;
            char why[160];
            if (wire_record_iter_open(&it, buf + pos, (size_t)size,
                                      log_inflate_limit(&p->p_topic->t_cfg), why,
                                      sizeof why) == 0) {
                while (wire_record_next(&it, &rec) == 1)
                    if (rec.offset >= offset)
                        txn_replay_record(tc, &rec, p->p_index);
                offset = wire_batch_last_offset(&it.ri_hdr) + 1;
                wire_record_iter_close(&it);
            } else {
                EDDY_LOG_ERROR("txn",
                               "%s-%d: batch at offset %" PRId64 " unreadable, its "
                               "records are not replayed: %s",
                               TXN_STATE_TOPIC, p->p_index, offset, why);
                wire_batch_header_t h;
                wire_batch_header_read(buf + pos, (size_t)size, &h);
                offset = wire_batch_last_offset(&h) + 1;
            }
            pos += (size_t)size;
        }
        free(buf);
    }
    return 0;
}

static enum txn_crash crash_setting(void)
{
    const char *e = getenv("EDDY_TEST_TXN_CRASH");
    if (!e || !*e)
        return TXN_CRASH_NONE;
    if (strcmp(e, "prepare") == 0)
        return TXN_CRASH_PREPARE;
    if (strcmp(e, "marker") == 0)
        return TXN_CRASH_MARKER;
    if (strcmp(e, "complete") == 0)
        return TXN_CRASH_COMPLETE;
    EDDY_LOG_WARN("txn", "EDDY_TEST_TXN_CRASH=%s ignored: use prepare, marker or complete", e);
    return TXN_CRASH_NONE;
}

int txn_coordinator_open(eddy_broker_t *b, txn_coordinator_t **out, char *errstr,
                         size_t errstr_size)
{
    txn_coordinator_t *tc = calloc(1, sizeof *tc);
    if (!tc)
        return -ENOMEM;
    tc->tc_broker = b;
    topic_t *t = topics_open_internal(&b->bk_topics, TXN_STATE_TOPIC,
                                      b->bk_cfg.transaction_state_log_num_partitions,
                                      b->bk_cfg.transaction_state_log_segment_bytes, errstr,
                                      errstr_size);
    if (!t) {
        free(tc);
        return EDDY_ERR_CONFIG;
    }
    tc->tc_topic = t;
    int64_t start = eddy_mono_ms();
    for (int32_t p = 0; p < t->t_npartitions; p++) {
        int rc = txn_replay_partition(tc, t->t_parts[p]);
        if (rc < 0) {
            snprintf(errstr, errstr_size, "%s-%d: replay failed: %s%s", TXN_STATE_TOPIC, p,
                     eddy_strerror(rc),
                     rc == EDDY_ERR_LOG_OFFLINE ? " (the ERROR line above says why)" : "");
            txn_coordinator_close(tc);
            return rc;
        }
    }
    tc->tc_crash = crash_setting();
    /* Decided but not finished before the stop: markers again, then Complete*. */
    int n = 0, completed = 0;
    for (txn_meta_t *m = tc->tc_txns; m; m = m->t_next) {
        n++;
        if (m->t_state == TXN_PREPARE_COMMIT || m->t_state == TXN_PREPARE_ABORT) {
            EDDY_LOG_INFO("txn",
                          "transactional id %s: completing its %s left from before the "
                          "restart",
                          m->t_id, txn_state_name(m->t_state));
            if (txn_complete(tc, m) == 0)
                completed++;
        }
    }
    EDDY_LOG_INFO("txn",
                  "replayed %s: %d transactional id(s), %d transaction(s) completed, in %" PRId64
                  " ms",
                  TXN_STATE_TOPIC, n, completed, eddy_mono_ms() - start);
    int64_t now = eddy_wall_ms();
    tc->tc_next_abort_ms = now;
    tc->tc_next_expire_ms = now +
                            b->bk_cfg.transaction_remove_expired_transaction_cleanup_interval_ms;
    *out = tc;
    return 0;
}

void txn_coordinator_close(txn_coordinator_t *tc)
{
    if (!tc)
        return;
    while (tc->tc_txns) {
        txn_meta_t *m = tc->tc_txns;
        tc->tc_txns = m->t_next;
        txn_meta_free(m);
    }
    free(tc);
}

/* The changelog reader (Kafka Streams' StoreChangelogReader): a stream
 * thread's restore consumer, which brings a task's stores up to the end of
 * their changelogs before the task runs (restore) and keeps standby tasks
 * following theirs for good (standby updates).
 *
 *   restore start: each store's changelog partition assigned at its
 *   checkpoint (or, with an incarnation to verify, at that record)
 *   -> records: key-value stores in batches (state/restore.c), window and
 *      session stores record by record; offsets committed with the data
 *   -> end of the changelog: active task RUNNING (inputs resumed),
 *      standby goes on
 *   -> out of range / another incarnation: stale, wiped and restored anew
 *
 * It is its own file so that thread.c keeps dispatch, commits and
 * rebalances; the thread opens and closes tasks and asks this file to start
 * their restore.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "streams/changelog_reader.h"
#include "streams/incarnation.h"
#include "streams/streams_int.h"

/* A store's restore batch (state/restore.c) is applied, and its offset
 * committed, once it holds this many records or bytes, and at the end of
 * the changelog. Bigger batches sort more keys together and commit (fsync)
 * less often; a crash loses at most one batch of progress. */
#define RESTORE_BATCH_RECORDS 1000000
/* Window and session stores restore record by record; their offsets are
 * committed this often. */
#define RESTORE_WINDOWED_COMMIT_EVERY 10000
#define RESTORE_BATCH_BYTES ((size_t)16 << 20)

/* ---- restoring ---- */

static int restoring_actives(const sx_thread_t *th)
{
    int n = 0;
    for (int i = 0; i < th->th_ntasks; i++)
        n += !th->th_tasks[i]->tk_standby && th->th_tasks[i]->tk_state == TK_RESTORING;
    return n;
}

void sx_changelog_restore_start(sx_thread_t *th, sx_task_t *tk)
{
    if (!tk->tk_standby && restoring_actives(th) <= 1) {
        th->th_restore_started_ms = eddy_mono_ms();
        th->th_restore_base = __atomic_load_n(&th->th_restored, __ATOMIC_RELAXED);
    }
    for (int i = 0; i < tk->tk_nstores; i++) {
        sx_task_store_t *ts = &tk->tk_stores[i];
        int64_t from = st_env_checkpoint(tk->tk_env, ts->ts_changelog, tk->tk_id.ti_partition);
        ts->ts_restoring = 1;
        ts->ts_restored = 0;
        /* State from a checkpoint: first the incarnation record it covers
         * (on_restore_message goes on from the checkpoint). */
        if (ts->ts_verifying)
            from = ts->ts_inc.si_offset;
        kc_consumer_assign(th->th_restore, ts->ts_changelog, tk->tk_id.ti_partition,
                           from >= 0 ? from : KC_OFFSET_BEGINNING);
    }
    tk->tk_restore_started_ms = tk->tk_restore_logged_ms = eddy_mono_ms();
}

/* Applies the task's restore batches, then commits the offsets they reached
 * (topic: at; the others: the restore consumer's positions, which the
 * applied batches cover). */
int sx_changelog_commit(sx_thread_t *th, sx_task_t *tk, const char *topic, int64_t at)
{
    st_offset_t offs[64];
    int n = 0;
    for (int i = 0; i < tk->tk_nstores; i++) {
        sx_task_store_t *ts = &tk->tk_stores[i];
        if (!ts->ts_batch || st_restore_batch_count(ts->ts_batch) == 0)
            continue;
        int rc = st_store_restore_batch(ts->ts_store, ts->ts_batch);
        if (rc < 0)
            return rc;
    }
    for (int i = 0; i < tk->tk_nstores && n < 64; i++) {
        sx_task_store_t *ts = &tk->tk_stores[i];
        if (ts->ts_verifying)
            continue; /* its position is not the state's yet */
        int64_t pos = strcmp(ts->ts_changelog, topic) == 0
                          ? at
                          : kc_consumer_position(th->th_restore, ts->ts_changelog,
                                                 tk->tk_id.ti_partition);
        if (pos >= 0)
            offs[n++] = (st_offset_t){ts->ts_changelog, tk->tk_id.ti_partition, pos};
    }
    /* The stream time the windowed changelogs gave, with the state. */
    if (tk->tk_stream_time >= 0 && n < 64)
        offs[n++] = (st_offset_t){SX_STREAM_TIME_KEY, 0, tk->tk_stream_time};
    int rc = sx_inc_commit(tk);
    return rc < 0 ? rc : st_env_commit(tk->tk_env, offs, n);
}

static sx_task_t *restoring_task(sx_thread_t *th, const char *topic, int32_t partition,
                                 sx_task_store_t **ts)
{
    for (int i = 0; i < th->th_ntasks; i++) {
        sx_task_t *tk = th->th_tasks[i];
        if (tk->tk_id.ti_partition != partition || !tk->tk_env)
            continue;
        if ((*ts = sx_task_store_by_changelog(tk, topic)))
            return tk;
    }
    return NULL;
}

static int64_t restored_total(const sx_task_t *tk)
{
    int64_t n = 0;
    for (int i = 0; i < tk->tk_nstores; i++)
        n += tk->tk_stores[i].ts_restored;
    return n;
}

static int on_restore_message(kc_consumer_t *k, const kc_message_t *m, void *opaque)
{
    (void)k;
    sx_thread_t *th = opaque;
    sx_task_store_t *ts;
    sx_task_t *tk = restoring_task(th, m->msg_topic, m->msg_partition, &ts);
    if (!tk || th->th_stopping || tk->tk_stale[0])
        return 1;
    uint8_t id[ST_INCARNATION_ID_LEN];
    int is_inc = sx_inc_parse(m, id);
    if (ts->ts_verifying) {
        if (is_inc && m->msg_offset == ts->ts_inc.si_offset &&
            memcmp(id, ts->ts_inc.si_id, ST_INCARNATION_ID_LEN) == 0) {
            /* The changelog the state came from: on from the checkpoint. */
            ts->ts_verifying = 0;
            ts->ts_inc_ts = m->msg_timestamp;
            kc_consumer_seek(th->th_restore, m->msg_topic, m->msg_partition, ts->ts_verify_resume);
        } else {
            snprintf(tk->tk_stale, sizeof tk->tk_stale,
                     "its local state covers the incarnation record at offset %lld of %s-%d, "
                     "but the changelog holds %s there now (it was deleted and created again: "
                     "eddy app reset)",
                     (long long)ts->ts_inc.si_offset, m->msg_topic, (int)m->msg_partition,
                     m->msg_offset != ts->ts_inc.si_offset ? "no record"
                     : is_inc                              ? "another incarnation record"
                                                           : "a data record");
        }
        return 1;
    }
    if (is_inc) {
        /* Not the store's data: the newest one the state covers. */
        memcpy(ts->ts_inc.si_id, id, ST_INCARNATION_ID_LEN);
        ts->ts_inc.si_offset = m->msg_offset;
        ts->ts_inc_ts = m->msg_timestamp;
        ts->ts_has_inc = ts->ts_inc_dirty = 1;
        return 0;
    }
    int rc = 0;
    if (ts->ts_kind != DSL_STORE_KV) {
        /* Window and session stores, record by record: each record's key
         * carries its time, which picks the segment and moves stream time. */
        rc = sx_task_restore(tk, ts, m);
        if (rc == 0 && ts->ts_restored % RESTORE_WINDOWED_COMMIT_EVERY == 0)
            rc = sx_changelog_commit(th, tk, m->msg_topic, m->msg_offset + 1);
    } else {
        if (!ts->ts_batch && !(ts->ts_batch = st_restore_batch_new()))
            rc = -ENOMEM;
        eddy_bytes_t v = {m->msg_value, m->msg_value_len};
        sx_tsbuf_t tb = {.tb_heap = {0}};
        if (rc == 0 && ts->ts_timestamped && v.len >= 0) /* the record's time goes back in */
            rc = sx_ts_value(&tb, m->msg_timestamp, v, &v);
        if (rc == 0) /* the batch copies */
            rc = st_restore_batch_add(ts->ts_batch, (eddy_bytes_t){m->msg_key, m->msg_key_len}, v);
        sx_tsbuf_free(&tb);
        if (rc == 0 && (st_restore_batch_count(ts->ts_batch) >= RESTORE_BATCH_RECORDS ||
                        st_restore_batch_bytes(ts->ts_batch) >= RESTORE_BATCH_BYTES))
            rc = sx_changelog_commit(th, tk, m->msg_topic, m->msg_offset + 1);
        if (rc == 0)
            ts->ts_restored++;
    }
    if (rc < 0) {
        sx_thread_fail(th, rc, "task %s: restoring %s failed: %s", tk->tk_name, m->msg_topic,
                       eddy_strerror(rc));
        return 1;
    }
    __atomic_add_fetch(&th->th_restored, 1, __ATOMIC_RELAXED);
    return 0;
}

void sx_changelog_progress(sx_thread_t *th, sx_task_t *tk, int final)
{
    int64_t now = eddy_mono_ms();
    int64_t n = restored_total(tk);
    double secs = (double)(now - tk->tk_restore_started_ms) / 1000.0;
    int64_t left = 0;
    for (int i = 0; i < tk->tk_nstores; i++) {
        sx_task_store_t *ts = &tk->tk_stores[i];
        int64_t hw = kc_consumer_high_watermark(th->th_restore, ts->ts_changelog,
                                                tk->tk_id.ti_partition);
        int64_t pos = kc_consumer_position(th->th_restore, ts->ts_changelog,
                                           tk->tk_id.ti_partition);
        if (hw >= 0 && pos >= 0 && hw > pos)
            left += hw - pos;
    }
    double pct = n + left > 0 ? 100.0 * (double)n / (double)(n + left) : 100.0;
    if (final)
        EDDY_LOG_INFO("streams", "%s: task %s%s restored: %lld records in %.2f s (%.0f records/s)",
                      th->th_name, tk->tk_name, tk->tk_standby ? " (standby)" : "", (long long)n,
                      secs, secs > 0 ? (double)n / secs : 0.0);
    else
        EDDY_LOG_INFO("streams", "%s: task %s restoring: %lld records, %.0f records/s, %.1f%%",
                      th->th_name, tk->tk_name, (long long)n, secs > 0 ? (double)n / secs : 0.0,
                      pct);
    tk->tk_restore_logged_ms = now;
}

static void on_restore_eof(kc_consumer_t *k, const char *topic, int32_t partition, int64_t offset,
                           void *opaque)
{
    (void)k;
    sx_thread_t *th = opaque;
    sx_task_store_t *ts;
    sx_task_t *tk = restoring_task(th, topic, partition, &ts);
    if (!tk || !ts->ts_restoring || tk->tk_stale[0])
        return;
    if (ts->ts_verifying) {
        snprintf(tk->tk_stale, sizeof tk->tk_stale,
                 "its local state covers the incarnation record at offset %lld of %s-%d, but the "
                 "changelog ends at %lld now (it was deleted and created again: eddy app reset)",
                 (long long)ts->ts_inc.si_offset, topic, (int)partition, (long long)offset);
        return;
    }
    if (sx_changelog_commit(th, tk, topic, offset) < 0) {
        sx_thread_fail(th, EDDY_ERR_CORRUPT, "task %s: cannot commit restored state", tk->tk_name);
        return;
    }
    if (tk->tk_standby)
        return; /* a standby keeps following */
    ts->ts_restoring = 0;
    kc_consumer_unassign(th->th_restore, topic, partition);
    for (int i = 0; i < tk->tk_nstores; i++)
        if (tk->tk_stores[i].ts_restoring)
            return;
    sx_changelog_progress(th, tk, 1);
    /* Under exactly-once the task's first records (its incarnation) go in
     * a transaction: not while one is being committed or aborted. */
    if (th->th_app->ap_cfg.eos && (th->th_committing || th->th_txn_busy)) {
        tk->tk_restore_done_pending = 1;
        return;
    }
    sx_changelog_restore_done(th, tk);
}

void sx_changelog_restore_done(sx_thread_t *th, sx_task_t *tk)
{
    tk->tk_restore_done_pending = 0;
    int rc = sx_inc_start(tk);
    if (rc < 0) {
        sx_thread_fail(th, rc, "task %s: writing its changelog incarnation failed: %s", tk->tk_name,
                       eddy_strerror(rc));
        return;
    }
    tk->tk_state = TK_RUNNING;
    sx_app_publish_task(th->th_app, tk); /* now visible to queries */
    sx_thread_pause_inputs(th, tk, 0);
    if (restoring_actives(th) == 0) {
        /* The per-task rates above share the thread's time; this is its rate. */
        int64_t n = __atomic_load_n(&th->th_restored, __ATOMIC_RELAXED) - th->th_restore_base;
        double secs = (double)(eddy_mono_ms() - th->th_restore_started_ms) / 1000.0;
        EDDY_LOG_INFO("streams",
                      "%s: all active tasks ready; the thread restored %lld records "
                      "in %.2f s (%.0f records/s)",
                      th->th_name, (long long)n, secs, secs > 0 ? (double)n / secs : 0.0);
    }
}

static void on_restore_error(kc_consumer_t *k, const kc_consumer_error_t *e, void *opaque)
{
    (void)k;
    sx_thread_t *th = opaque;
    sx_task_store_t *ts;
    const char *topic = e->ce_topic;
    int32_t partition = e->ce_partition;
    sx_task_t *tk = restoring_task(th, topic, partition, &ts);
    if (!tk)
        return;
    if (e->ce_err < 0) {
        /* A changelog batch that cannot be read (a codec this build does not
         * know, a corrupt stream): the state cannot be rebuilt without its
         * records, and no handler may skip them, as in Kafka Streams. */
        sx_thread_fail(th, e->ce_err,
                       "task %s: changelog %s-%d offset %lld: %s; its state cannot "
                       "be restored",
                       tk->tk_name, topic, (int)partition, (long long)e->ce_offset, e->ce_why);
        return;
    }
    if (e->ce_kafka_err != KERR_OFFSET_OUT_OF_RANGE) {
        EDDY_LOG_WARN("streams", "%s: task %s: changelog %s-%d: %s", th->th_name, tk->tk_name,
                      topic, (int)partition, e->ce_why);
        return;
    }
    /* The checkpoint (or the incarnation record the state covers) is
     * outside the changelog: it was deleted (eddy app reset) or truncated.
     * The local state no longer matches: wipe and restore. */
    int64_t cp = st_env_checkpoint(tk->tk_env, topic, partition);
    snprintf(tk->tk_stale, sizeof tk->tk_stale,
             "its local state (checkpoint %lld of %s-%d%s) is not in the changelog any more (the "
             "app was reset, or the topic recreated)",
             (long long)cp, topic, (int)partition,
             ts->ts_verifying ? ", with its incarnation record" : "");
    sx_changelog_wipe_task(th, tk);
}

/* Wipes a task whose state is stale (tk_stale says why) and restores it
 * from the beginning of its changelogs. */
void sx_changelog_wipe_task(sx_thread_t *th, sx_task_t *tk)
{
    EDDY_LOG_WARN("streams",
                  "%s: task %s: %s: wiping %s (stale state) and restoring from the "
                  "beginning",
                  th->th_name, tk->tk_name, tk->tk_stale, tk->tk_dir);
    sx_task_id_t id = tk->tk_id;
    int standby = tk->tk_standby;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", tk->tk_dir);
    sx_thread_remove_task(th, tk);
    st_env_wipe(dir);
    char err[256];
    sx_task_t *nt = sx_task_open(th, id, standby, err, sizeof err);
    if (!nt) {
        sx_thread_fail(th, EDDY_ERR_CORRUPT, "task %d_%d: reopening after the wipe: %s",
                       (int)id.ti_subtopology, (int)id.ti_partition, err);
        return;
    }
    sx_task_t **na = realloc(th->th_tasks, (size_t)(th->th_ntasks + 1) * sizeof *na);
    if (!na) {
        sx_task_close(nt);
        return;
    }
    th->th_tasks = na;
    th->th_tasks[th->th_ntasks++] = nt;
    sx_changelog_restore_start(th, nt);
}


kc_consumer_cbs_t sx_changelog_reader_cbs(sx_thread_t *th)
{
    kc_consumer_cbs_t cbs = {on_restore_message, on_restore_eof, on_restore_error, th};
    return cbs;
}

/* A stream thread: one libuv loop, one group member over one consumer, the
 * record collector (collector.c: the producer), one restore consumer, and
 * the tasks the assignor gave it.
 *
 *   start -> member joins -> on_assigned: open tasks
 *              active stateful task: RESTORING (inputs paused, changelog
 *              read from the checkpoint to its end) -> RUNNING (inputs resumed)
 *              standby task: follows its changelog for good
 *              (both read by the changelog reader, changelog_reader.c)
 *
 * Commit (every commit.interval.ms, before giving tasks up, and on stop):
 *
 *   inputs paused -> stores flushed (outputs and changelog records queued)
 *   -> producer sent, every record acknowledged -> each task's LMDB
 *   transaction committed with its changelog offsets -> input offsets
 *   committed to the group -> inputs resumed (and, after a timer commit,
 *   the repartition records below the committed offsets deleted, without
 *   waiting for the answer: purge, below)
 *
 * so a committed input offset is always covered by state and outputs that
 * are already safe (at-least-once). The input offsets are read when the
 * commit starts (processing stops there): a rebalance's commit ends after
 * the member gave the partitions back to the consumer, which then knows no
 * position. A rebalance takes a hold on the member (kc_member_hold) in
 * on_revoked so the commit, input offsets of the revoked tasks included,
 * completes before the tasks may go elsewhere; tasks are then closed and
 * reopened from the new assignment (eager rebalancing: reopening a task
 * whose state is current restores nothing).
 *
 * Under processing.guarantee=exactly_once_v2 the producer flush and the
 * group commit are replaced by one Kafka transaction, and LMDB commits
 * after it: see "exactly once" below.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "streams/incarnation.h"
#include "streams/streams_int.h"

enum commit_reason { CR_TIMER, CR_REVOKE, CR_CLOSE };

static void maybe_finish_commit(sx_thread_t *th);
static void apply_assignment(sx_thread_t *th);
static void close_thread(sx_thread_t *th);

/* ---- small helpers ---- */

void sx_thread_fail(sx_thread_t *th, int err, const char *fmt, ...)
{
    if (th->th_error)
        return;
    th->th_error = err ? err : EDDY_ERR_INVALID_ARG;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(th->th_errstr, sizeof th->th_errstr, fmt, ap);
    va_end(ap);
    EDDY_LOG_ERROR("streams", "%s: %s", th->th_name, th->th_errstr);
    /* Stopping frees the tasks, and we may be deep inside one: the stop
     * runs from the loop (on_async), on every thread of the app. */
    eddy_app_stop(th->th_app);
}

int64_t sx_thread_wall_ms(const sx_thread_t *th)
{
    return th->th_wall_clock ? *th->th_wall_clock : eddy_wall_ms();
}

static sx_task_t *find_task(sx_thread_t *th, sx_task_id_t id, int standby)
{
    for (int i = 0; i < th->th_ntasks; i++)
        if (th->th_tasks[i]->tk_id.ti_subtopology == id.ti_subtopology &&
            th->th_tasks[i]->tk_id.ti_partition == id.ti_partition &&
            th->th_tasks[i]->tk_standby == standby)
            return th->th_tasks[i];
    return NULL;
}

/* Calls fn for each input topic partition of an active task. */
static void each_input(sx_thread_t *th, sx_task_t *tk,
                       void (*fn)(sx_thread_t *th, const char *topic, int32_t p, void *o), void *o)
{
    for (int i = 0; i < tk->tk_sub->st_nsources; i++)
        for (int j = 0; j < tk->tk_sub->st_sources[i]->dn_ntopics; j++) {
            char name[512];
            sx_topic_name(th->th_app, tk->tk_sub->st_sources[i], j, name, sizeof name);
            fn(th, name, tk->tk_id.ti_partition, o);
        }
}

typedef struct pause_arg {
    sx_task_t *pa_task;
    int pa_paused;
} pause_arg_t;

static void pause_fn(sx_thread_t *th, const char *topic, int32_t p, void *o)
{
    pause_arg_t *pa = o;
    int paused = pa->pa_paused;
    /* A full input buffer keeps its partition paused until it drains. */
    for (int i = 0; !paused && pa->pa_task->tk_pg && i < th->th_app->ap_nsource_topics; i++)
        if (strcmp(th->th_app->ap_source_topics[i], topic) == 0)
            paused = sx_pg_count(pa->pa_task->tk_pg, i) >=
                     th->th_app->ap_cfg.buffered_records_per_partition;
    kc_consumer_pause(th->th_consumer, topic, p, paused);
}

void sx_thread_pause_inputs(sx_thread_t *th, sx_task_t *tk, int paused)
{
    pause_arg_t pa = {tk, paused};
    each_input(th, tk, pause_fn, &pa);
}

void sx_thread_remove_task(sx_thread_t *th, sx_task_t *tk)
{
    for (int i = 0; i < th->th_ntasks; i++)
        if (th->th_tasks[i] == tk) {
            th->th_tasks[i] = th->th_tasks[--th->th_ntasks];
            break;
        }
    for (int i = 0; i < tk->tk_nstores; i++)
        if (tk->tk_stores[i].ts_restoring || tk->tk_standby)
            kc_consumer_unassign(th->th_restore, tk->tk_stores[i].ts_changelog,
                                 tk->tk_id.ti_partition);
    for (int i = 0; i < tk->tk_nstores; i++) {
        st_restore_batch_destroy(tk->tk_stores[i].ts_batch); /* not checkpointed either */
        tk->tk_stores[i].ts_batch = NULL;
    }
    sx_task_close(tk);
}

/* ---- processing ---- */

/* The partition of a task's input src goes on being fetched (its buffer
 * drained below buffered.records.per.partition). */
static void resume_input(sx_thread_t *th, sx_task_t *tk, int src)
{
    kc_consumer_pause(th->th_consumer, th->th_app->ap_source_topics[src], tk->tk_id.ti_partition,
                      0);
}

static int process_one(sx_thread_t *th, sx_task_t *tk, int src, const kc_message_t *m, int64_t ts)
{
    int rc = sx_task_process(tk, th->th_app->ap_source_nodes[src], m, ts);
    if (rc < 0) {
        if (!th->th_error)
            sx_thread_fail(th, rc, "task %s: processing %s-%d offset %lld failed: %s", tk->tk_name,
                           m->msg_topic, (int)m->msg_partition, (long long)m->msg_offset,
                           eddy_strerror(rc));
        return rc;
    }
    tk->tk_consumed[src] = m->msg_offset + 1;
    __atomic_add_fetch(&th->th_processed, 1, __ATOMIC_RELAXED);
    return 0;
}

static int64_t task_lag(const char *topic, void *opaque)
{
    const sx_task_t *tk = opaque;
    const kc_consumer_t *k = tk->tk_thread->th_consumer;
    int64_t hw = kc_consumer_high_watermark(k, topic, tk->tk_id.ti_partition);
    int64_t pos = kc_consumer_position(k, topic, tk->tk_id.ti_partition);
    return hw < 0 || pos < 0 ? -1 : hw > pos ? hw - pos : 0;
}

/* Buffers for the task's input partitions: those of its sub-topology's
 * topics in the thread's assignment (a topic with fewer partitions than
 * the task count has none for the last tasks, and nothing to wait for). */
static sx_pgroup_t *task_pgroup(sx_thread_t *th, sx_task_t *tk)
{
    const eddy_app_t *app = th->th_app;
    int np = 0, n = 0;
    const kc_topic_partition_t *parts = kc_member_assignment(th->th_member, &np);
    int *srcs = calloc((size_t)app->ap_nsource_topics + 1, sizeof *srcs);
    const char **topics = calloc((size_t)app->ap_nsource_topics + 1, sizeof *topics);
    sx_pgroup_t *pg = NULL;
    if (srcs && topics) {
        for (int j = 0; j < app->ap_nsource_topics; j++) {
            int in = 0;
            for (int i = 0; i < np && app->ap_source_subs[j] == tk->tk_id.ti_subtopology; i++)
                in |= parts[i].tp_partition == tk->tk_id.ti_partition &&
                      strcmp(parts[i].tp_topic, app->ap_source_topics[j]) == 0;
            if (in) {
                srcs[n] = j;
                topics[n++] = app->ap_source_topics[j];
            }
        }
        pg = sx_pg_new(srcs, topics, n);
    }
    free(srcs);
    free(topics);
    return pg;
}

/* Processes a task's buffered records in timestamp order while it may
 * (sx_pg_ready: max.task.idle.ms). */
static void run_task(sx_thread_t *th, sx_task_t *tk, int64_t now_ms)
{
    int limit = th->th_app->ap_cfg.buffered_records_per_partition;
    int64_t idle = th->th_app->ap_cfg.max_task_idle_ms;
    kc_message_t m;
    int src;
    int64_t ts;
    while (!th->th_committing && !th->th_txn_busy && !th->th_eos_failed && !th->th_stopping &&
           !th->th_error && tk->tk_state == TK_RUNNING &&
           sx_pg_ready(tk->tk_pg, idle, now_ms, task_lag, tk, tk->tk_name) &&
           sx_pg_peek(tk->tk_pg, &m, &src, &ts)) {
        m.msg_partition = tk->tk_id.ti_partition;
        if (process_one(th, tk, src, &m, ts) < 0)
            return;
        sx_pg_pop(tk->tk_pg, src);
        if (sx_pg_count(tk->tk_pg, src) == limit - 1)
            resume_input(th, tk, src);
    }
}

static void run_tasks(sx_thread_t *th)
{
    if (th->th_committing || th->th_txn_busy || th->th_eos_failed || th->th_stopping ||
        th->th_error)
        return;
    int64_t now = -1;
    for (int i = 0; i < th->th_ntasks; i++)
        if (sx_pg_buffered(th->th_tasks[i]->tk_pg) > 0) {
            if (now < 0)
                now = eddy_mono_ms();
            run_task(th, th->th_tasks[i], now);
        }
}

/* After the loop's I/O: the records of the fetch answers just delivered
 * are all buffered, so their order across partitions is known. */
static void eos_maybe_recover(sx_thread_t *th);

static void on_check(uv_check_t *c)
{
    eos_maybe_recover(c->data);
    run_tasks(c->data);
}

static int on_message(kc_consumer_t *k, const kc_message_t *m, void *opaque)
{
    (void)k;
    sx_thread_t *th = opaque;
    if (th->th_committing || th->th_txn_busy || th->th_eos_failed || th->th_stopping ||
        th->th_error)
        return 1;
    eddy_app_t *app = th->th_app;
    int src = -1;
    for (int i = 0; i < app->ap_nsource_topics && src < 0; i++)
        if (strcmp(app->ap_source_topics[i], m->msg_topic) == 0)
            src = i;
    sx_task_t *tk = src >= 0
                        ? find_task(th, (sx_task_id_t){app->ap_source_subs[src], m->msg_partition},
                                    0)
                        : NULL;
    if (!tk || tk->tk_state != TK_RUNNING)
        return 1;
    if (!tk->tk_pg && !(tk->tk_pg = task_pgroup(th, tk))) {
        sx_thread_fail(th, -ENOMEM, "task %s: out of memory for its input buffers", tk->tk_name);
        return 1;
    }
    const dsl_node_t *node = app->ap_source_nodes[src];
    if (sx_pg_nqueues(tk->tk_pg) <= 1) {
        /* One input partition: its own order is the task's; no buffering. */
        return process_one(th, tk, src, m, sx_task_timestamp(tk, node, m)) < 0;
    }
    /* Several: buffered, and taken in timestamp order by run_task. A full
     * queue pauses its partition until it drains. */
    int limit = app->ap_cfg.buffered_records_per_partition;
    if (sx_pg_count(tk->tk_pg, src) >= limit) {
        kc_consumer_pause(th->th_consumer, m->msg_topic, m->msg_partition, 1);
        return 1;
    }
    int n = sx_pg_add(tk->tk_pg, src, m, sx_task_timestamp(tk, node, m));
    if (n < 0) {
        sx_thread_fail(th, n, "task %s: buffering %s-%d offset %lld failed: %s", tk->tk_name,
                       m->msg_topic, (int)m->msg_partition, (long long)m->msg_offset,
                       eddy_strerror(n));
        return 1;
    }
    if (n >= limit)
        kc_consumer_pause(th->th_consumer, m->msg_topic, m->msg_partition, 1);
    return 0;
}

/* An input batch that cannot be read follows
 * default.deserialization.exception.handler, as a record that cannot be
 * deserialized does: log-and-fail stops the thread naming the batch (the
 * committed offset stays before it); log-and-continue logs an ERROR line,
 * counts the offsets it passes in records_skipped and goes on after the
 * batch. There is no record to send to a dead-letter topic. */
static void on_consumer_error(kc_consumer_t *k, const kc_consumer_error_t *e, void *opaque)
{
    sx_thread_t *th = opaque;
    if (e->ce_err >= 0) {
        EDDY_LOG_WARN("streams", "%s: %s-%d: %s", th->th_name, e->ce_topic, (int)e->ce_partition,
                      e->ce_why);
        return;
    }
    const sx_config_t *cfg = &th->th_app->ap_cfg;
    if (!cfg->log_and_continue || e->ce_next_offset < 0) {
        sx_thread_fail(th, e->ce_err,
                       "input %s-%d offset %lld: %s; stopping "
                       "(default.deserialization.exception.handler=%s)",
                       e->ce_topic, (int)e->ce_partition, (long long)e->ce_offset, e->ce_why,
                       cfg->log_and_continue ? "log-and-continue, but the batch's end is unknown"
                                             : "log-and-fail; log-and-continue skips such batches");
        return;
    }
    int64_t n = e->ce_next_offset - e->ce_offset;
    int64_t skipped = __atomic_add_fetch(&th->th_skipped, n, __ATOMIC_RELAXED);
    EDDY_LOG_ERROR("streams",
                   "%s: input %s-%d offset %lld: %s; skipping offsets %lld-%lld "
                   "(default.deserialization.exception.handler=log-and-continue; %lld skipped so "
                   "far)",
                   th->th_name, e->ce_topic, (int)e->ce_partition, (long long)e->ce_offset,
                   e->ce_why, (long long)e->ce_offset, (long long)e->ce_next_offset - 1,
                   (long long)skipped);
    kc_consumer_seek(k, e->ce_topic, e->ce_partition, e->ce_next_offset);
}

/* ---- committing ---- */

static int commit_offsets_snapshot(sx_thread_t *th);

static void eos_commit(sx_thread_t *th);

static void commit_start(sx_thread_t *th, int reason)
{
    if (th->th_committing || th->th_txn_busy || th->th_eos_failed || th->th_error)
        return;
    /* Nothing is processed from here to the commit's end: the input
     * offsets are final now, while the consumer still holds the partitions
     * (a rebalance's commit ends after the member took them back). */
    int snap = commit_offsets_snapshot(th);
    if (snap < 0) {
        sx_thread_fail(th, snap, "out of memory collecting the input offsets to commit");
        return;
    }
    th->th_committing = 1;
    th->th_commit_reason = reason;
    for (int i = 0; i < th->th_ntasks; i++) {
        sx_task_t *tk = th->th_tasks[i];
        if (tk->tk_standby || tk->tk_state != TK_RUNNING)
            continue;
        sx_thread_pause_inputs(th, tk, 1);
        /* A new incarnation record when the one the state covers is getting
         * old under a time retention: acknowledged with this commit. */
        int rc = sx_inc_start(tk);
        if (rc == 0)
            rc = sx_task_flush(tk);
        if (rc < 0) {
            sx_thread_fail(th, rc, "task %s: flushing its stores failed: %s", tk->tk_name,
                           eddy_strerror(rc));
            return;
        }
    }
    int rc = sx_combine_flush(th); /* after the stores: their flush may feed a sink */
    if (rc < 0) {
        sx_thread_fail(th, rc, "producing combined counts failed: %s", eddy_strerror(rc));
        return;
    }
    if (th->th_app->ap_cfg.eos && !th->th_transport) {
        eos_commit(th);
        return;
    }
    if (sx_collector_flush(&th->th_collector))
        maybe_finish_commit(th);
}

typedef struct offsets_acc {
    kc_topic_partition_t *oa_parts;
    int64_t *oa_offsets;
    int oa_n, oa_cap;
    sx_task_t *oa_task;
    int oa_nomem;
} offsets_acc_t;

static void collect_fn(sx_thread_t *th, const char *topic, int32_t p, void *o)
{
    static eddy_log_limit_t unknown_limit = EDDY_LOG_LIMIT_INIT;
    offsets_acc_t *acc = o;
    sx_task_t *tk = acc->oa_task;
    int src = -1;
    for (int i = 0; i < th->th_app->ap_nsource_topics && src < 0; i++)
        if (strcmp(th->th_app->ap_source_topics[i], topic) == 0)
            src = i;
    /* Records buffered but not processed yet are not committed: the first
     * of them is where a restart begins. */
    int64_t pos = src >= 0 && tk->tk_pg ? sx_pg_head_offset(tk->tk_pg, src) : -1;
    if (pos < 0)
        pos = kc_consumer_position(th->th_consumer, topic, p);
    int64_t consumed = src >= 0 ? tk->tk_consumed[src] : -1;
    if (pos < 0 && consumed >= 0) {
        /* The task processed records of a partition whose position the
         * consumer does not know (resetting it after OFFSET_OUT_OF_RANGE,
         * or no longer assigned): committing nothing there would read them
         * again into state that already counts them. The task's own
         * account covers them. */
        EDDY_LOG_LIMITED(EDDY_LOG_LVL_WARN, "streams", &unknown_limit, 10000,
                         "%s: task %s: the consumer does not know the position of %s-%d, which "
                         "the task processed up to offset %lld: committing offset %lld",
                         th->th_name, tk->tk_name, topic, (int)p, (long long)consumed - 1,
                         (long long)consumed);
        pos = consumed;
    }
    if (pos < 0)
        return; /* nothing processed, nothing known: the committed offset stays */
    char *name = acc->oa_n < acc->oa_cap ? strdup(topic) : NULL;
    if (!name) {
        acc->oa_nomem = 1;
        return;
    }
    acc->oa_parts[acc->oa_n] = (kc_topic_partition_t){name, p};
    acc->oa_offsets[acc->oa_n++] = pos;
}

static void commit_offsets_clear(sx_thread_t *th)
{
    for (int i = 0; i < th->th_commit_n; i++)
        free((char *)th->th_commit_parts[i].tp_topic);
    free(th->th_commit_parts);
    free(th->th_commit_offsets);
    th->th_commit_parts = NULL;
    th->th_commit_offsets = NULL;
    th->th_commit_n = 0;
}

/* The input offsets of the running active tasks, for the commit starting:
 * 0, or -ENOMEM. */
static int commit_offsets_snapshot(sx_thread_t *th)
{
    commit_offsets_clear(th);
    int cap = 0;
    for (int i = 0; i < th->th_ntasks; i++) {
        sx_task_t *tk = th->th_tasks[i];
        if (!tk->tk_standby && tk->tk_state == TK_RUNNING)
            for (int j = 0; j < tk->tk_sub->st_nsources; j++)
                cap += tk->tk_sub->st_sources[j]->dn_ntopics;
    }
    offsets_acc_t acc = {calloc((size_t)cap + 1, sizeof(kc_topic_partition_t)),
                         calloc((size_t)cap + 1, sizeof(int64_t)),
                         0,
                         cap,
                         NULL,
                         0};
    th->th_commit_parts = acc.oa_parts;
    th->th_commit_offsets = acc.oa_offsets;
    if (!acc.oa_parts || !acc.oa_offsets) {
        commit_offsets_clear(th);
        return -ENOMEM;
    }
    for (int i = 0; i < th->th_ntasks; i++)
        if (!th->th_tasks[i]->tk_standby && th->th_tasks[i]->tk_state == TK_RUNNING) {
            acc.oa_task = th->th_tasks[i];
            each_input(th, th->th_tasks[i], collect_fn, &acc);
        }
    th->th_commit_n = acc.oa_n;
    if (acc.oa_nomem) {
        commit_offsets_clear(th);
        return -ENOMEM;
    }
    return 0;
}

static void commit_done(sx_thread_t *th, int err);
static int task_between_commits(sx_thread_t *th, sx_task_t *tk);

/* ---- purging repartition topics ---- */

static void purge_clear(sx_thread_t *th)
{
    for (int i = 0; i < th->th_npurge; i++)
        free((char *)th->th_purge[i].dr_topic);
    free(th->th_purge);
    th->th_purge = NULL;
    th->th_npurge = 0;
}

/* Keeps the offsets a commit is about to commit for repartition topics, to
 * delete the records below them once the commit succeeded. Without memory
 * there is nothing to purge this time: the next commit tries again. */
static void purge_remember(sx_thread_t *th, const offsets_acc_t *acc)
{
    const eddy_app_t *app = th->th_app;
    purge_clear(th);
    if (acc->oa_n == 0 || !(th->th_purge = calloc((size_t)acc->oa_n, sizeof *th->th_purge)))
        return;
    for (int i = 0; i < acc->oa_n; i++) {
        int internal = 0;
        for (int j = 0; j < app->ap_nsource_topics; j++)
            if (strcmp(app->ap_source_topics[j], acc->oa_parts[i].tp_topic) == 0)
                internal = app->ap_source_nodes[j]->dn_internal;
        char *topic = internal ? strdup(acc->oa_parts[i].tp_topic) : NULL;
        if (topic)
            th->th_purge[th->th_npurge++] =
                (kc_delete_records_part_t){.dr_topic = topic,
                                           .dr_partition = acc->oa_parts[i].tp_partition,
                                           .dr_offset = acc->oa_offsets[i]};
    }
}

static void on_purged(kc_client_t *c, const kc_delete_records_part_t *parts, int n, void *opaque)
{
    (void)c;
    sx_thread_t *th = opaque;
    th->th_purge_inflight = 0;
    if (th->th_stopping)
        return; /* cancelled by the shutdown, or too late to matter */
    const kc_delete_records_part_t *bad = NULL;
    for (int i = 0; i < n && !bad; i++)
        if (parts[i].dr_err < 0 || parts[i].dr_error != KERR_NONE)
            bad = &parts[i];
    if (!bad) {
        if (th->th_purge_failures > 0)
            EDDY_LOG_INFO("streams",
                          "%s: deleting consumed repartition records works again (after %lld "
                          "failed attempt(s))",
                          th->th_name, (long long)th->th_purge_failures);
        th->th_purge_failures = 0;
        return;
    }
    /* Not fatal, as in Kafka Streams: the next purge deletes up to newer
     * offsets. Logged once per run of failures, not at every commit. */
    if (th->th_purge_failures++ == 0)
        EDDY_LOG_WARN("streams",
                      "%s: deleting consumed records of %s-%d below offset %lld failed (%s): "
                      "repartition topics keep them until a later purge succeeds; retried every "
                      "repartition.purge.interval.ms, logged again once it works",
                      th->th_name, bad->dr_topic, (int)bad->dr_partition, (long long)bad->dr_offset,
                      bad->dr_err < 0 ? eddy_strerror(bad->dr_err) : kafka_err_name(bad->dr_error));
}

/* After a timer commit that succeeded: deletes the repartition records
 * below the committed offsets, unless the last request is still out or the
 * interval has not passed. Nothing waits for the answer. */
static void maybe_purge(sx_thread_t *th)
{
    int64_t now = eddy_mono_ms();
    if (th->th_npurge == 0 || th->th_purge_inflight ||
        now - th->th_last_purge_ms < th->th_app->ap_cfg.repartition_purge_interval_ms)
        return;
    th->th_last_purge_ms = now;
    th->th_purge_inflight = 1;
    if (kc_delete_records(th->th_client, th->th_purge, th->th_npurge, on_purged, th) < 0)
        th->th_purge_inflight = 0; /* out of memory: the next commit tries again */
}

/* Whether the commit's input offsets cover every input partition a running
 * task processed records of. A commit that committed state and changelog
 * offsets but not those input offsets would have the records processed
 * again into state that already counts them; the thread stops instead,
 * naming the partition. */
static int commit_covers_tasks(sx_thread_t *th)
{
    const eddy_app_t *app = th->th_app;
    for (int i = 0; i < th->th_ntasks; i++) {
        const sx_task_t *tk = th->th_tasks[i];
        if (tk->tk_standby || tk->tk_state != TK_RUNNING)
            continue;
        for (int src = 0; src < app->ap_nsource_topics; src++) {
            if (tk->tk_consumed[src] < 0)
                continue;
            int found = 0;
            for (int k = 0; k < th->th_commit_n && !found; k++)
                found = th->th_commit_parts[k].tp_partition == tk->tk_id.ti_partition &&
                        strcmp(th->th_commit_parts[k].tp_topic, app->ap_source_topics[src]) == 0;
            if (!found) {
                sx_thread_fail(th, EDDY_ERR_INVALID_ARG,
                               "task %s: a commit without an input offset for %s-%d, which the "
                               "task processed up to offset %lld: committing its state alone "
                               "would count those records twice; stopping instead (a bug: "
                               "please report it)",
                               tk->tk_name, app->ap_source_topics[src], (int)tk->tk_id.ti_partition,
                               (long long)tk->tk_consumed[src] - 1);
                return 0;
            }
        }
    }
    return 1;
}

static void on_offsets_committed(kc_member_t *m, int err, int16_t kafka_err, void *opaque)
{
    (void)m;
    /* commit_done's log names a Kafka error by its code. */
    commit_done(opaque, kafka_err ? kafka_err : err);
}

/* Commits each task's LMDB transaction: an active task's with the
 * changelog offsets it covers, a standby's with its progress (so a
 * takeover starts from there). 0, or an error (the thread fails). */
static int commit_local_state(sx_thread_t *th)
{
    for (int i = 0; i < th->th_ntasks; i++) {
        sx_task_t *tk = th->th_tasks[i];
        int rc = 0;
        if (tk->tk_standby)
            rc = sx_changelog_commit(th, tk, "", -1);
        else if (tk->tk_state == TK_RUNNING)
            rc = sx_task_commit_state(tk);
        if (rc < 0) {
            sx_thread_fail(th, rc, "task %s: committing its state failed: %s", tk->tk_name,
                           eddy_strerror(rc));
            return rc;
        }
    }
    return 0;
}

void sx_thread_acks_done(sx_thread_t *th)
{
    maybe_finish_commit(th);
}

/* The thread failed during a commit: it ends committing nothing, and the
 * stop goes on. */
static void commit_give_up(sx_thread_t *th)
{
    commit_offsets_clear(th);
    sx_collector_stop_waiting(&th->th_collector);
    th->th_committing = 0;
    if (th->th_commit_reason == CR_REVOKE && th->th_member)
        kc_member_release(th->th_member);
    if (th->th_stopping)
        close_thread(th);
}

static void maybe_finish_commit(sx_thread_t *th)
{
    if (!sx_collector_all_acked(&th->th_collector))
        return;
    /* A record of this commit failed (the thread is stopping on it): the
     * commit must not cover its input, whatever was acknowledged after. It
     * ends here, committing nothing, and the stop goes on. So does a
     * commit that would leave out the input a task processed. */
    if (!th->th_error)
        commit_covers_tasks(th);
    if (th->th_error) {
        commit_give_up(th);
        return;
    }
    sx_collector_stop_waiting(&th->th_collector);
    if (commit_local_state(th) < 0)
        return;
    /* The offsets read when the commit started (commit_start). */
    offsets_acc_t acc = {
        th->th_commit_parts, th->th_commit_offsets, th->th_commit_n, th->th_commit_n, NULL, 0};
    purge_remember(th, &acc);
    int rc = acc.oa_n > 0 ? kc_member_commit_offsets(th->th_member, acc.oa_parts, acc.oa_offsets,
                                                     acc.oa_n, on_offsets_committed, th)
                          : 0;
    commit_offsets_clear(th);
    if (acc.oa_n == 0 || rc != 0)
        commit_done(th, rc);
}

static void commit_done(sx_thread_t *th, int err)
{
    if (!th->th_committing)
        return;
    th->th_committing = 0;
    commit_offsets_clear(th);
    __atomic_add_fetch(&th->th_commits, 1, __ATOMIC_RELAXED);
    if (err != 0)
        EDDY_LOG_WARN("streams",
                      "%s: committing input offsets failed (%s): the records since the last "
                      "commit will be processed again (at-least-once)",
                      th->th_name, err < 0 ? eddy_strerror(err) : kafka_err_name((int16_t)err));
    if (err == 0 && th->th_commit_reason == CR_TIMER)
        maybe_purge(th);
    purge_clear(th);
    switch (th->th_commit_reason) {
    case CR_TIMER:
        for (int i = 0; i < th->th_ntasks; i++)
            if (!th->th_tasks[i]->tk_standby && th->th_tasks[i]->tk_state == TK_RUNNING)
                sx_thread_pause_inputs(th, th->th_tasks[i], 0);
        /* Here, not only on the tick: the tick's period is the default
         * commit interval under exactly-once and both timers start
         * together, so while input keeps coming every tick lands inside
         * a commit (an open transaction makes it wait for answers). A
         * task restored meanwhile would wait until the input ran dry (no
         * output committed before then), a wall-clock punctuator would
         * not fire. */
        for (int i = 0; i < th->th_ntasks; i++)
            if (task_between_commits(th, th->th_tasks[i]) < 0)
                return;
        if (th->th_pending_assign)
            apply_assignment(th);
        break;
    case CR_REVOKE:
        /* The active tasks go; standbys stay until the new assignment says. */
        for (int i = th->th_ntasks - 1; i >= 0; i--)
            if (!th->th_tasks[i]->tk_standby)
                sx_thread_remove_task(th, th->th_tasks[i]);
        kc_member_release(th->th_member);
        break;
    case CR_CLOSE: break;
    }
    if (th->th_stopping)
        close_thread(th);
}

/* ---- exactly once (processing.guarantee=exactly_once_v2) ----
 *
 * Kafka Streams' EOS v2: the thread's producer is transactional
 * (transactional.id <application.id>-<process id>-<thread number>, so that
 * a restarted instance fences its predecessor's producer and aborts what
 * it left open), every record produced between two commits goes in one
 * transaction (begun by the first one, collector.c), and a commit is
 *
 *   stores and combiners flushed -> the input offsets added to the
 *   transaction with the consumer's group metadata (TxnOffsetCommit: a
 *   member of an older generation is refused) -> transaction committed
 *   (every record acknowledged, then EndTxn) -> each task's LMDB
 *   transaction committed with the changelog offsets it covers
 *
 * LMDB commits after Kafka does: a crash in between leaves LMDB at the
 * previous commit, and the restore replays the committed changelog from
 * there. A failure ends the transaction's work: the active tasks close
 * without a commit (LMDB's open transaction and the caches dropped, as
 * Kafka Streams' "task corrupted"), the transaction is aborted (or, when
 * the producer is fenced, a new producer is made and initialised), and the
 * tasks open again and read their inputs from the committed offsets.
 * Nothing is processed or produced meanwhile (th_txn_busy).
 */
enum { EOS_IDLE, EOS_OFFSETS, EOS_COMMIT, EOS_ABORT, EOS_INIT };

static void eos_settle(sx_thread_t *th);

static int64_t eos_seen(sx_thread_t *th)
{
    return __atomic_load_n(&th->th_processed, __ATOMIC_RELAXED) +
           __atomic_load_n(&th->th_skipped, __ATOMIC_RELAXED);
}

static const char *eos_why(sx_thread_t *th, int err)
{
    const char *why = NULL;
    if (th->th_collector.co_producer)
        kc_producer_txn_error(th->th_collector.co_producer, NULL, &why);
    return why && why[0] ? why : eddy_strerror(err);
}

/* The transaction failed (err) or the tasks were lost (err 0): the active
 * tasks close without a commit and the transaction ends (eos_settle);
 * reopen: the tasks open again afterwards from the committed offsets. */
static void eos_drop(sx_thread_t *th, int err, int reopen)
{
    static eddy_log_limit_t limit = EDDY_LOG_LIMIT_INIT;
    if (err)
        EDDY_LOG_LIMITED(EDDY_LOG_LVL_WARN, "streams", &limit, 10000,
                         "%s: the transaction failed (%s): the work since the last commit is "
                         "dropped (local state rolled back, %s)%s",
                         th->th_name, eos_why(th, err),
                         err == EDDY_ERR_TXN_FATAL ? "the producer fenced"
                                                   : "the transaction aborted",
                         reopen && !th->th_stopping && !th->th_error
                             ? " and the tasks read their inputs again from the committed offsets"
                             : "");
    if (err == EDDY_ERR_TXN_FATAL || th->th_eos_failed == EDDY_ERR_TXN_FATAL)
        th->th_eos_fatal = 1;
    th->th_eos_failed = 0;
    th->th_eos_reopen = reopen && !th->th_stopping && !th->th_error;
    th->th_txn_busy = 1;
    th->th_collector.co_txn_aborting = 1;
    for (int i = th->th_ntasks - 1; i >= 0; i--)
        if (!th->th_tasks[i]->tk_standby)
            sx_thread_remove_task(th, th->th_tasks[i]);
    sx_combine_drop(th);
    sx_collector_stop_waiting(&th->th_collector);
    eos_settle(th);
}

/* The transaction is over: the commit under way (if any) ends without
 * committing, and the tasks open again (or the rebalance or stop goes on). */
static void eos_recovered(sx_thread_t *th)
{
    th->th_txn_busy = 0;
    th->th_collector.co_txn_aborting = 0;
    th->th_collector.co_txn_open = 0;
    int was = th->th_committing, reason = th->th_commit_reason;
    if (was) {
        th->th_committing = 0;
        commit_offsets_clear(th);
        purge_clear(th);
    }
    if (th->th_stopping) {
        close_thread(th);
        return;
    }
    if (was && reason == CR_REVOKE) {
        kc_member_release(th->th_member); /* the tasks are closed already */
        return;
    }
    if (th->th_eos_reopen) {
        /* Back to the committed offsets: what was processed since is gone. */
        EDDY_LOG_INFO("streams",
                      "%s: transaction ended; the tasks open again from their last commit",
                      th->th_name);
        int np = 0;
        const kc_topic_partition_t *parts = kc_member_assignment(th->th_member, &np);
        for (int i = 0; i < np; i++)
            kc_consumer_seek(th->th_consumer, parts[i].tp_topic, parts[i].tp_partition,
                             KC_OFFSET_STORED);
        th->th_eos_reopen = 0;
        th->th_pending_assign = 1;
    }
    if (th->th_pending_assign)
        apply_assignment(th);
}

static void on_eos_result(kc_producer_t *p, int err, int16_t kafka_err, void *opaque);

/* While dropping: waits for the call in flight, then aborts the open
 * transaction, or replaces a fenced producer, then eos_recovered. */
static void eos_settle(sx_thread_t *th)
{
    if (th->th_eos_inflight)
        return; /* on_eos_result comes back here */
    sx_collector_t *co = &th->th_collector;
    if (th->th_eos_fatal && th->th_stopping) {
        /* No new producer for a thread that stops: its transaction is
         * aborted by the coordinator (the newer epoch, or the timeout). */
        co->co_txn_open = 0;
        th->th_eos_fatal = 0;
    }
    if (th->th_eos_fatal) {
        EDDY_LOG_WARN("streams",
                      "%s: the transactional producer cannot go on (%s): replacing it with a new "
                      "one (the same transactional.id, a newer epoch)",
                      th->th_name, eos_why(th, EDDY_ERR_TXN_FATAL));
        sx_collector_close(co); /* its records fail with -ECANCELED, ignored */
        int rc = sx_collector_renew(co, th->th_client);
        if (rc == 0) {
            th->th_eos_inflight = EOS_INIT;
            rc = kc_producer_init_transactions(co->co_producer, 0, on_eos_result, th);
            if (rc < 0)
                th->th_eos_inflight = EOS_IDLE;
        }
        if (rc < 0)
            sx_thread_fail(th, rc, "a new transactional producer failed: %s", eos_why(th, rc));
        return;
    }
    if (co->co_txn_open) {
        th->th_eos_inflight = EOS_ABORT;
        int rc = kc_producer_abort_transaction(co->co_producer, 0, on_eos_result, th);
        if (rc == 0)
            return;
        th->th_eos_inflight = EOS_IDLE;
        if (rc == EDDY_ERR_TXN_FATAL) {
            th->th_eos_fatal = 1;
            eos_settle(th);
        } else {
            sx_thread_fail(th, rc, "aborting the transaction failed: %s", eos_why(th, rc));
        }
        return;
    }
    eos_recovered(th);
}

static void on_eos_result(kc_producer_t *p, int err, int16_t kafka_err, void *opaque)
{
    (void)kafka_err;
    sx_thread_t *th = opaque;
    int stage = th->th_eos_inflight;
    th->th_eos_inflight = EOS_IDLE;
    if (err == EDDY_ERR_TXN_FATAL)
        th->th_eos_fatal = 1;
    switch (stage) {
    case EOS_OFFSETS:
        if (err == 0 && !th->th_txn_busy) {
            th->th_eos_inflight = EOS_COMMIT;
            int rc = kc_producer_commit_transaction(p, 0, on_eos_result, th);
            if (rc == 0)
                return;
            th->th_eos_inflight = EOS_IDLE;
            err = rc;
            if (rc == EDDY_ERR_TXN_FATAL)
                th->th_eos_fatal = 1;
        }
        break;
    case EOS_COMMIT:
        if (err == 0) {
            th->th_collector.co_txn_open = 0;
            if (!th->th_txn_busy) {
                /* Kafka has it all: now the local state. */
                if (commit_local_state(th) == 0)
                    commit_done(th, 0);
                else
                    commit_give_up(th);
                return;
            }
        }
        break;
    case EOS_ABORT:
        if (err == 0) {
            th->th_collector.co_txn_open = 0;
        } else if (err != EDDY_ERR_TXN_FATAL) {
            sx_thread_fail(th, err, "aborting the transaction failed: %s", eos_why(th, err));
            th->th_collector.co_txn_open = 0;
        }
        break;
    case EOS_INIT:
        if (err != 0) {
            sx_thread_fail(th, err, "initialising a new transactional producer failed: %s",
                           eos_why(th, err));
            th->th_eos_fatal = 0;
        } else {
            th->th_eos_fatal = 0;
            th->th_collector.co_txn_open = 0;
        }
        break;
    default: return;
    }
    if (th->th_txn_busy)
        eos_settle(th);
    else if (err != 0)
        eos_drop(th, err, 1);
}

/* The commit of commit_start under exactly-once, once the stores and
 * combiners are flushed (see above). */
static void eos_commit(sx_thread_t *th)
{
    if (!commit_covers_tasks(th)) {
        commit_give_up(th);
        return;
    }
    sx_collector_t *co = &th->th_collector;
    int64_t seen = eos_seen(th);
    if (!co->co_txn_open && seen == th->th_eos_seen) {
        /* Nothing processed or produced since the last commit: no
         * transaction (standbys still record their progress). */
        if (commit_local_state(th) == 0)
            commit_done(th, 0);
        else
            commit_give_up(th);
        return;
    }
    th->th_eos_seen = seen;
    int rc = 0;
    if (!co->co_txn_open && (rc = kc_producer_begin_transaction(co->co_producer)) == 0)
        co->co_txn_open = 1;
    offsets_acc_t acc = {
        th->th_commit_parts, th->th_commit_offsets, th->th_commit_n, th->th_commit_n, NULL, 0};
    purge_remember(th, &acc);
    if (rc == 0 && th->th_commit_n > 0) {
        kc_consumer_group_metadata_t gm;
        kc_txn_offset_t *offs = calloc((size_t)th->th_commit_n, sizeof *offs);
        if (!offs)
            rc = -ENOMEM;
        else if ((rc = kc_consumer_group_metadata(th->th_consumer, &gm)) == 0) {
            for (int i = 0; i < th->th_commit_n; i++)
                offs[i] = (kc_txn_offset_t){th->th_commit_parts[i].tp_topic,
                                            th->th_commit_parts[i].tp_partition,
                                            th->th_commit_offsets[i], -1, NULL};
            th->th_eos_inflight = EOS_OFFSETS;
            rc = kc_producer_send_offsets_to_transaction(co->co_producer, offs, th->th_commit_n,
                                                         &gm, 0, on_eos_result, th);
        }
        free(offs);
    } else if (rc == 0) {
        th->th_eos_inflight = EOS_COMMIT;
        rc = kc_producer_commit_transaction(co->co_producer, 0, on_eos_result, th);
    }
    if (rc < 0) {
        th->th_eos_inflight = EOS_IDLE;
        if (rc == -ENOMEM) {
            sx_thread_fail(th, rc, "out of memory committing the transaction");
            commit_give_up(th);
            return;
        }
        eos_drop(th, rc, 1);
    }
}

void sx_thread_txn_failed(sx_thread_t *th, int err)
{
    if (th->th_eos_failed != EDDY_ERR_TXN_FATAL)
        th->th_eos_failed = err;
}

/* Acts on sx_thread_txn_failed once no commit or abort is under way (the
 * commit's own failure ends up in eos_drop too): from the loop, never from
 * inside a task. */
static void eos_maybe_recover(sx_thread_t *th)
{
    if (th->th_eos_failed && !th->th_committing && !th->th_txn_busy && !th->th_eos_inflight &&
        !th->th_stopping && !th->th_error)
        eos_drop(th, th->th_eos_failed, 1);
}

static void on_commit_timer(uv_timer_t *t)
{
    commit_start(t->data, CR_TIMER);
}

/* ---- rebalances ---- */

static void remember_prev(sx_thread_t *th)
{
    free(th->th_prev_active);
    free(th->th_prev_standby);
    th->th_prev_active = calloc((size_t)th->th_ntasks + 1, sizeof(sx_task_id_t));
    th->th_prev_standby = calloc((size_t)th->th_ntasks + 1, sizeof(sx_task_id_t));
    th->th_nprev_active = th->th_nprev_standby = 0;
    if (!th->th_prev_active || !th->th_prev_standby)
        return;
    for (int i = 0; i < th->th_ntasks; i++) {
        if (th->th_tasks[i]->tk_standby)
            th->th_prev_standby[th->th_nprev_standby++] = th->th_tasks[i]->tk_id;
        else
            th->th_prev_active[th->th_nprev_active++] = th->th_tasks[i]->tk_id;
    }
}

static void on_revoked(kc_member_t *m, const kc_topic_partition_t *parts, int n, int lost,
                       void *opaque)
{
    (void)parts;
    (void)n;
    sx_thread_t *th = opaque;
    remember_prev(th);
    th->th_pending_assign = 0;
    if (th->th_eos_failed && !th->th_txn_busy && !th->th_committing)
        eos_drop(th, th->th_eos_failed, 0); /* nothing of it may be committed */
    if (th->th_txn_busy) {
        /* The active tasks are closed already and their transaction is
         * being aborted: nothing to commit, nothing to reopen. */
        th->th_eos_reopen = 0;
        return;
    }
    if (lost || th->th_error) {
        /* Someone else may own them already: no commit, drop the state
         * written since the last one (the changelog has what counts). */
        if (lost)
            EDDY_LOG_WARN("streams",
                          "%s: tasks lost to a rebalance; closing them without a "
                          "commit",
                          th->th_name);
        else /* not a rebalance: the thread is stopping on the error it logged */
            EDDY_LOG_WARN("streams",
                          "%s: closing the tasks without a commit after the error "
                          "above (%s)",
                          th->th_name, eddy_strerror(th->th_error));
        for (int i = th->th_ntasks - 1; i >= 0; i--)
            if (!th->th_tasks[i]->tk_standby)
                sx_thread_remove_task(th, th->th_tasks[i]);
        sx_combine_drop(th); /* their uncommitted partial counts */
        commit_offsets_clear(th);
        th->th_committing = 0;
        sx_collector_stop_waiting(&th->th_collector);
        if (th->th_app->ap_cfg.eos && !th->th_transport)
            eos_drop(th, 0, 0); /* their transaction aborted */
        return;
    }
    if (th->th_committing) {
        /* A timer commit is under way: let it finish, then close. */
        th->th_commit_reason = CR_REVOKE;
        kc_member_hold(m);
        return;
    }
    kc_member_hold(m);
    commit_start(th, CR_REVOKE);
}

static int want_has(const sx_task_id_t *ids, int n, sx_task_id_t id)
{
    for (int i = 0; i < n; i++)
        if (ids[i].ti_subtopology == id.ti_subtopology && ids[i].ti_partition == id.ti_partition)
            return 1;
    return 0;
}

static void update_cache_limits(sx_thread_t *th)
{
    int nstores = 0;
    for (int i = 0; i < th->th_ntasks; i++)
        if (!th->th_tasks[i]->tk_standby)
            nstores += th->th_tasks[i]->tk_nstores + sx_combine_task_sinks(th->th_tasks[i]);
    if (nstores == 0)
        return;
    int64_t per = th->th_app->ap_cfg.cache_max_bytes_buffering / th->th_app->ap_nthreads / nstores;
    for (int i = 0; i < th->th_ntasks; i++)
        if (!th->th_tasks[i]->tk_standby)
            sx_task_set_cache_limit(th->th_tasks[i], (size_t)per);
}

/* Opens the tasks of the assignment (th_want_*) that are not open yet and
 * closes standbys no longer wanted. A task whose directory another thread
 * of this process still holds is retried from the tick timer. */
static void apply_assignment(sx_thread_t *th)
{
    th->th_pending_assign = 0;
    for (int i = th->th_ntasks - 1; i >= 0; i--) {
        sx_task_t *tk = th->th_tasks[i];
        int keep = tk->tk_standby ? want_has(th->th_want_standby, th->th_nwant_standby, tk->tk_id)
                                  : want_has(th->th_want_active, th->th_nwant_active, tk->tk_id);
        if (!keep) {
            if (tk->tk_standby)
                sx_changelog_commit(th, tk, "", -1);
            sx_thread_remove_task(th, tk);
        }
    }
    for (int pass = 0; pass < 2; pass++) {
        const sx_task_id_t *ids = pass == 0 ? th->th_want_active : th->th_want_standby;
        int n = pass == 0 ? th->th_nwant_active : th->th_nwant_standby;
        for (int i = 0; i < n; i++) {
            if (find_task(th, ids[i], pass))
                continue;
            char err[512];
            sx_task_t *tk = sx_task_open(th, ids[i], pass, err, sizeof err);
            if (!tk) {
                if (errno == EBUSY) {
                    th->th_pending_assign = 1;
                    continue;
                }
                sx_thread_fail(th, EDDY_ERR_CORRUPT, "%s", err);
                return;
            }
            sx_task_t **na = realloc(th->th_tasks, (size_t)(th->th_ntasks + 1) * sizeof *na);
            if (!na) {
                sx_task_close(tk);
                sx_thread_fail(th, -ENOMEM, "out of memory opening task %s", tk->tk_name);
                return;
            }
            th->th_tasks = na;
            th->th_tasks[th->th_ntasks++] = tk;
            if (!tk->tk_standby)
                sx_thread_pause_inputs(th, tk, tk->tk_state != TK_RUNNING);
            if (tk->tk_state == TK_RESTORING)
                sx_changelog_restore_start(th, tk);
            else if (!tk->tk_standby)
                sx_app_publish_task(th->th_app, tk);
        }
    }
    /* Inputs of tasks this thread does not run yet stay paused. */
    const kc_topic_partition_t *parts;
    int np;
    parts = kc_member_assignment(th->th_member, &np);
    for (int i = 0; i < np; i++) {
        int sub = -1;
        for (int j = 0; j < th->th_app->ap_nsource_topics; j++)
            if (strcmp(th->th_app->ap_source_topics[j], parts[i].tp_topic) == 0)
                sub = th->th_app->ap_source_subs[j];
        sx_task_t *tk = sub >= 0 ? find_task(th, (sx_task_id_t){sub, parts[i].tp_partition}, 0)
                                 : NULL;
        if (!tk || tk->tk_state != TK_RUNNING)
            kc_consumer_pause(th->th_consumer, parts[i].tp_topic, parts[i].tp_partition, 1);
    }
    update_cache_limits(th);
}

static void on_assigned(kc_member_t *m, const kc_topic_partition_t *parts, int n, void *opaque)
{
    (void)m;
    (void)parts;
    sx_thread_t *th = opaque;
    EDDY_LOG_INFO("streams", "%s: assigned %d active and %d standby task(s), %d partition(s)",
                  th->th_name, th->th_nwant_active, th->th_nwant_standby, n);
    __atomic_store_n(&th->th_assigned_active, th->th_nwant_active, __ATOMIC_RELAXED);
    __atomic_store_n(&th->th_assigned_standby, th->th_nwant_standby, __ATOMIC_RELAXED);
    if (th->th_committing || th->th_txn_busy) {
        th->th_pending_assign = 1; /* after the commit, or the abort */
        return;
    }
    apply_assignment(th);
}

static void on_member_error(kc_member_t *m, int err, int16_t kafka_err, int fatal, const char *why,
                            void *opaque)
{
    (void)m;
    sx_thread_t *th = opaque;
    if (fatal)
        sx_thread_fail(th, kafka_err ? kafka_err : err, "group %s: %s",
                       th->th_app->ap_cfg.application_id, why);
    else
        EDDY_LOG_WARN("streams", "%s: group: %s", th->th_name, why);
}

/* ---- ticks: restore progress, waiting task directories ---- */

/* What the tick does for a task only while no commit or abort is under
 * way: a task whose restore ended during a commit under exactly-once
 * (changelog_reader.c) starts running; wall-clock punctuators fire (a
 * commit's flush would miss their records). -1 when the thread failed. */
static int task_between_commits(sx_thread_t *th, sx_task_t *tk)
{
    if (th->th_committing || th->th_txn_busy || th->th_stopping)
        return 0;
    if (tk->tk_restore_done_pending) {
        sx_changelog_restore_done(th, tk);
        if (th->th_error)
            return -1;
    }
    int rc;
    if (tk->tk_nprocs > 0 && tk->tk_state == TK_RUNNING && !th->th_eos_failed &&
        (rc = sx_procs_punctuate_wall(tk, eddy_wall_ms())) < 0) {
        sx_thread_fail(th, rc, "task %s: a wall-clock punctuator failed: %s", tk->tk_name,
                       eddy_strerror(rc));
        return -1;
    }
    return th->th_error ? -1 : 0;
}

static void on_tick(uv_timer_t *t)
{
    sx_thread_t *th = t->data;
    if (th->th_stopping)
        return;
    int64_t now = eddy_mono_ms();
    /* Stale state found by a restore callback, which must not unassign
     * the partition it is delivering. */
    for (int i = 0; i < th->th_ntasks; i++)
        if (th->th_tasks[i]->tk_stale[0]) {
            sx_changelog_wipe_task(th, th->th_tasks[i]);
            if (th->th_error)
                return;
            i = -1; /* the task list changed */
        }
    for (int i = 0; i < th->th_ntasks; i++) {
        sx_task_t *tk = th->th_tasks[i];
        if (tk->tk_state == TK_RESTORING && !tk->tk_standby &&
            now - tk->tk_restore_logged_ms >= 5000)
            sx_changelog_progress(th, tk, 0);
        if (task_between_commits(th, tk) < 0)
            return;
    }
    eos_maybe_recover(th);
    if (th->th_pending_assign && !th->th_committing && !th->th_txn_busy)
        apply_assignment(th);
    if (!th->th_committing && !th->th_txn_busy && !th->th_eos_failed && !th->th_error)
        sx_combine_tick(th); /* combine.c */
    run_tasks(th); /* tasks idling for max.task.idle.ms */
}

/* ---- start and stop ---- */

static void on_member_closed(kc_member_t *m, void *opaque)
{
    (void)m;
    sx_thread_t *th = opaque;
    th->th_member = NULL;
    close_thread(th);
}

static void on_handle_closed(uv_handle_t *h)
{
    (void)h;
}

/* Stop: final commit, close the tasks, leave the group, free the clients.
 * Re-entered as each step completes. */
static void close_thread(sx_thread_t *th)
{
    th->th_stopping = 1;
    if (th->th_committing || th->th_eos_inflight)
        return; /* commit_done (or eos_recovered) comes back here (CR_CLOSE or after) */
    if (!th->th_stopped && !th->th_error && th->th_member && th->th_ntasks > 0 &&
        th->th_commit_reason != CR_CLOSE) {
        th->th_commit_reason = CR_CLOSE;
        commit_start(th, CR_CLOSE);
        if (th->th_committing)
            return;
    }
    th->th_commit_reason = CR_CLOSE;
    if (th->th_app->ap_cfg.eos && !th->th_transport && th->th_collector.co_txn_open &&
        !th->th_txn_busy && th->th_collector.co_producer) {
        /* Stopping on an error with a transaction open: abort it now, so
         * that read_committed readers of its partitions do not wait for
         * transaction.timeout.ms. eos_recovered comes back here. */
        eos_drop(th, 0, 0);
        if (th->th_eos_inflight)
            return;
    }
    while (th->th_ntasks > 0)
        sx_thread_remove_task(th, th->th_tasks[th->th_ntasks - 1]);
    sx_combine_drop(th); /* empty after the final commit; else not covered by one */
    if (th->th_member) {
        kc_member_t *m = th->th_member;
        if (!th->th_stopped) {
            th->th_stopped = 1;
            kc_member_close(m, on_member_closed, th);
        }
        return;
    }
    if (th->th_stopped == 2)
        return;
    th->th_stopped = 2;
    commit_offsets_clear(th);
    uv_timer_stop(&th->th_commit_timer);
    uv_timer_stop(&th->th_tick_timer);
    uv_check_stop(&th->th_check);
    sx_collector_close(&th->th_collector);
    kc_consumer_destroy(th->th_consumer);
    kc_consumer_destroy(th->th_restore);
    kc_client_destroy(th->th_client);
    kc_client_destroy(th->th_restore_client);
    uv_close((uv_handle_t *)&th->th_commit_timer, on_handle_closed);
    uv_close((uv_handle_t *)&th->th_tick_timer, on_handle_closed);
    uv_close((uv_handle_t *)&th->th_check, on_handle_closed);
    /* th_async stays open (unreferenced) until sx_thread_join, so that
     * eddy_app_stop may signal a thread that has already finished. */
}

static void on_async(uv_async_t *a)
{
    sx_thread_t *th = a->data;
    if ((th->th_app->ap_stop_requested || th->th_error) && !th->th_stopping)
        close_thread(th);
}

/* Asks for the output topics' metadata at once, so that a sink's first
 * records find their partition count known (its partitioner runs while the
 * record is processed) instead of waiting for it in the producer. Topics
 * are not created here: that stays with the first record, as before. */
static void prefetch_sink_metadata(sx_thread_t *th)
{
    const eddy_app_t *app = th->th_app;
    const dsl_topology_t *t = app->ap_topo;
    const char **names = calloc((size_t)t->dt_nnodes + 1, sizeof *names);
    int n = 0;
    for (int i = 0; names && i < t->dt_nnodes; i++)
        if (t->dt_nodes[i]->dn_kind == DSL_SINK && app->ap_node_topics[t->dt_nodes[i]->dn_id])
            names[n++] = app->ap_node_topics[t->dt_nodes[i]->dn_id];
    if (n > 0)
        kc_metadata_refresh(th->th_client, names, n, 0, NULL, NULL);
    free(names);
}

static int client_config(sx_thread_t *th, kc_config_t *cfg, int restore, char *errstr,
                         size_t errstr_size)
{
    const sx_config_t *sc = &th->th_app->ap_cfg;
    eddy_props_t ps;
    eddy_props_init(&ps);
    char kv[1024];
    int rc = 0;
#define SET(...)                                                                                   \
    do {                                                                                           \
        snprintf(kv, sizeof kv, __VA_ARGS__);                                                      \
        if (rc == 0)                                                                               \
            rc = eddy_props_set(&ps, "streams", kv, errstr, errstr_size);                          \
    } while (0)
    SET("bootstrap.servers=%s", sc->bootstrap_servers);
    SET("client.id=%s-%.8s-StreamThread-%d%s",
        sc->client_id[0] ? sc->client_id : sc->application_id, th->th_app->ap_process_id,
        th->th_index + 1, restore ? "-restore-consumer" : "");
    SET("request.timeout.ms=%d", (int)sc->request_timeout_ms);
    SET("retry.backoff.ms=%d", (int)sc->retry_backoff_ms);
    if (sc->eos) {
        /* Exactly-once (Kafka Streams' overrides): every consumer reads
         * committed data only, the inputs as the changelogs (restore and
         * standbys); one transactional producer per thread, its id stable
         * across restarts of the instance (the process id lives in the
         * state directory) so that a restart fences the producer it
         * replaces; a transaction an instance left open is aborted by the
         * coordinator after 10 s (Kafka Streams' transaction.timeout.ms). */
        SET("isolation.level=read_committed");
        if (!restore) {
            SET("transactional.id=%s-%s-%d", sc->application_id, th->th_app->ap_process_id,
                th->th_index + 1);
            SET("transaction.timeout.ms=10000");
        }
    }
    if (restore) {
        SET("auto.offset.reset=none");
        SET("enable.auto.commit=false");
        /* Restores read whole changelogs: bigger fetches. A short long poll:
         * the end of an up-to-date changelog shows after one fetch, not
         * after the broker's wait (a 0.5 s empty restore at every start);
         * standbys poll a little more often. restore.consumer.* overrides. */
        SET("max.partition.fetch.bytes=%d", 8 << 20);
        SET("fetch.max.wait.ms=%d", 50);
    } else {
        SET("group.id=%s", sc->application_id);
        SET("enable.auto.commit=false");
        SET("auto.offset.reset=%s", sc->auto_offset_reset);
        SET("session.timeout.ms=%d", (int)sc->session_timeout_ms);
        SET("heartbeat.interval.ms=%d", (int)sc->heartbeat_interval_ms);
        SET("max.poll.interval.ms=%d", (int)sc->max_poll_interval_ms);
        SET("linger.ms=%d", (int)sc->linger_ms);
        SET("acks=all");
    }
#undef SET
    if (rc == 0)
        rc = sx_config_common_client_props(sc, &ps, errstr, errstr_size);
    for (size_t i = 0; rc == 0 && i < sc->client_props.ps_count; i++) {
        const eddy_prop_t *p = &sc->client_props.ps_items[i];
        const char *rest = NULL;
        if (restore && strncmp(p->pr_key, "restore.consumer.", 17) == 0)
            rest = p->pr_key + 17;
        else if (!restore && strncmp(p->pr_key, "consumer.", 9) == 0)
            rest = p->pr_key + 9;
        else if (!restore && strncmp(p->pr_key, "main.consumer.", 14) == 0)
            rest = p->pr_key + 14;
        else if (!restore && strncmp(p->pr_key, "producer.", 9) == 0)
            rest = p->pr_key + 9;
        if (!rest)
            continue;
        snprintf(kv, sizeof kv, "%s=%s", rest, p->pr_value);
        rc = eddy_props_set(&ps, p->pr_source, kv, errstr, errstr_size);
    }
    if (rc == 0)
        rc = kc_config_load(cfg, &ps, errstr, errstr_size);
    eddy_props_free(&ps);
    return rc;
}

static void thread_main(void *arg)
{
    sx_thread_t *th = arg;
    uv_run(&th->th_loop, UV_RUN_DEFAULT);
    sx_app_thread_done(th->th_app, th->th_error, th->th_errstr);
}

int sx_thread_start(sx_thread_t *th, eddy_app_t *app, int index)
{
    char err[512];
    th->th_app = app;
    th->th_index = index;
    snprintf(th->th_name, sizeof th->th_name, "%s-StreamThread-%d", app->ap_cfg.application_id,
             index + 1);
    int rc = uv_loop_init(&th->th_loop);
    if (rc < 0)
        return rc;
    if ((rc = client_config(th, &th->th_main_cfg, 0, err, sizeof err)) < 0 ||
        (rc = client_config(th, &th->th_restore_cfg, 1, err, sizeof err)) < 0) {
        snprintf(th->th_errstr, sizeof th->th_errstr, "%s", err);
        return rc;
    }
    th->th_client = kc_client_new(&th->th_loop, &th->th_main_cfg, err, sizeof err);
    th->th_restore_client = kc_client_new(&th->th_loop, &th->th_restore_cfg, err, sizeof err);
    if (!th->th_client || !th->th_restore_client) {
        snprintf(th->th_errstr, sizeof th->th_errstr, "%s", err);
        return EDDY_ERR_CONFIG;
    }
    /* The restore consumer only reads, with a short long poll: its
     * ListOffsets and Metadata may wait behind a fetch, and a thread keeps
     * to four connections to a broker (main, fetch, coordinator, restore). */
    kc_client_share_fetch_connection(th->th_restore_client);
    kc_consumer_cbs_t main_cbs = {on_message, NULL, on_consumer_error, th};
    kc_consumer_cbs_t restore_cbs = sx_changelog_reader_cbs(th);
    th->th_consumer = kc_consumer_new(th->th_client, &main_cbs);
    th->th_restore = kc_consumer_new(th->th_restore_client, &restore_cbs);
    if (!th->th_consumer || !th->th_restore ||
        sx_collector_init(&th->th_collector, th, th->th_client) < 0)
        return -ENOMEM;
    if (app->ap_cfg.eos) {
        /* Before the thread joins the group: nothing may be produced
         * outside a transaction. Fences an older producer with this
         * transactional.id (this instance before a crash) and has the
         * coordinator abort what it left open. */
        rc = kc_producer_init_transactions(th->th_collector.co_producer, 1, NULL, NULL);
        if (rc < 0) {
            snprintf(th->th_errstr, sizeof th->th_errstr,
                     "processing.guarantee=exactly_once_v2: initialising the transactional "
                     "producer (transactional.id %s) failed: %s",
                     th->th_main_cfg.transactional_id, eos_why(th, rc));
            return rc;
        }
    }
    prefetch_sink_metadata(th);
    sx_assignor_init(&th->th_assignor, th);
    kc_member_cbs_t mcbs = {on_revoked, on_assigned, on_member_error, th};
    th->th_member = kc_member_open(th->th_client, th->th_consumer,
                                   (const char *const *)app->ap_source_topics,
                                   app->ap_nsource_topics, &mcbs, err, sizeof err);
    if (!th->th_member) {
        snprintf(th->th_errstr, sizeof th->th_errstr, "%s", err);
        return EDDY_ERR_CONFIG;
    }
    kc_member_add_assignor(th->th_member, &th->th_assignor);
    uv_async_init(&th->th_loop, &th->th_async, on_async);
    th->th_async.data = th;
    uv_unref((uv_handle_t *)&th->th_async);
    uv_timer_init(&th->th_loop, &th->th_commit_timer);
    th->th_commit_timer.data = th;
    uv_timer_start(&th->th_commit_timer, on_commit_timer, (uint64_t)app->ap_cfg.commit_interval_ms,
                   (uint64_t)app->ap_cfg.commit_interval_ms);
    th->th_last_purge_ms = eddy_mono_ms();
    uv_timer_init(&th->th_loop, &th->th_tick_timer);
    th->th_tick_timer.data = th;
    uv_timer_start(&th->th_tick_timer, on_tick, 100, 100);
    uv_check_init(&th->th_loop, &th->th_check);
    th->th_check.data = th;
    uv_check_start(&th->th_check, on_check);
    rc = uv_thread_create(&th->th_tid, thread_main, th);
    if (rc == 0 && app->ap_stop_requested)
        uv_async_send(&th->th_async);
    return rc;
}

void sx_thread_stop(sx_thread_t *th)
{
    uv_async_send(&th->th_async);
}

void sx_thread_join(sx_thread_t *th)
{
    uv_thread_join(&th->th_tid);
    uv_close((uv_handle_t *)&th->th_async, on_handle_closed);
    uv_run(&th->th_loop, UV_RUN_DEFAULT);
    uv_loop_close(&th->th_loop);
    kc_config_free(&th->th_main_cfg);
    kc_config_free(&th->th_restore_cfg);
    sx_collector_free(&th->th_collector);
    purge_clear(th);
    sx_combine_drop(th);
    free(th->th_tasks);
    free(th->th_want_active);
    free(th->th_want_standby);
    free(th->th_prev_active);
    free(th->th_prev_standby);
}

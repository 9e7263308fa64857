/* Tasks: a sub-topology's processors run over one partition, with the
 * task's stores in its own LMDB environment. This file holds the task's
 * lifecycle (open, process, flush, commit, restore a record, close), its
 * store access and hooks, the dispatch of a record to a node
 * (process_node) and the error handlers; the operators themselves live in
 * files named for their family (ops.h: ops_stream.c, ops_table.c,
 * windows.c, join.c, process.c).
 *
 * Records go through the nodes depth first, as Kafka Streams' sx_forward():
 * a node handles a record and hands each result to its children before it
 * returns. Nodes downstream of a KTable get changes (new value, old value).
 * Nodes that write a store (aggregations, table sources, materialized table
 * operations and joins) do not forward themselves: the store does, when
 * its cache flushes the key (st_store_t's forward hook), so repeated
 * updates of a key between commits go downstream once, as with Kafka
 * Streams' record caches. The same flush sends the value to the store's
 * changelog topic.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "streams/ops.h"
#include "streams/streams_int.h"

/* ---- user functions that fail a record ---- */

/* The task whose records this thread is running user functions for. */
static __thread sx_task_t *tls_task;

sx_task_t *sx_task_set_current(sx_task_t *tk)
{
    sx_task_t *prev = tls_task;
    tls_task = tk;
    return prev;
}

int sx_task_user_failed(void)
{
    return tls_task && tls_task->tk_user_failed;
}

int eddy_fail_record(const char *fmt, ...)
{
    sx_task_t *tk = tls_task;
    if (!tk)
        return -EINVAL;
    if (tk->tk_user_failed)
        return 0; /* the first reason stays */
    tk->tk_user_failed = 1;
    tk->tk_user_node = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (fmt)
        vsnprintf(tk->tk_user_msg, sizeof tk->tk_user_msg, fmt, ap);
    else
        snprintf(tk->tk_user_msg, sizeof tk->tk_user_msg, "failed");
    va_end(ap);
    return 0;
}

/* A failure a record causes in the runtime (a store that refuses its key),
 * handled as a user function's would be. */
static int record_failed(sx_task_t *tk, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int record_failed(sx_task_t *tk, const char *fmt, ...)
{
    if (!tk->tk_user_failed) {
        tk->tk_user_failed = 1;
        tk->tk_user_node = NULL;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(tk->tk_user_msg, sizeof tk->tk_user_msg, fmt, ap);
        va_end(ap);
    }
    return EDDY_ERR_PROCESSING;
}

static int forward(sx_task_t *tk, const dsl_node_t *n, const sx_rec_t *r)
{
    for (int i = 0; i < n->dn_nchildren; i++) {
        int rc = sx_process(tk, n->dn_children[i], r);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int sx_forward(sx_task_t *tk, const dsl_node_t *n, const sx_rec_t *r)
{
    return forward(tk, n, r);
}

eddy_record_t sx_user_record(const sx_task_t *tk, eddy_bytes_t key, eddy_bytes_t value, int64_t ts)
{
    return (
        eddy_record_t){key, value, ts, tk->tk_cur_topic, tk->tk_id.ti_partition, tk->tk_cur_offset};
}

/* ---- stores ---- */

sx_task_store_t *sx_task_store(sx_task_t *tk, int index)
{
    for (int i = 0; i < tk->tk_nstores; i++)
        if (tk->tk_stores[i].ts_index == index)
            return &tk->tk_stores[i];
    return NULL;
}

/* A key-value store's value (borrowed until the next write) and, when ts
 * is not NULL, its timestamp (-1 when the store keeps none). */
int sx_task_store_get(sx_task_t *tk, int index, eddy_bytes_t key, eddy_bytes_t *value, int64_t *ts)
{
    sx_task_store_t *s = sx_task_store(tk, index);
    if (!s || key.len < 0)
        return -ENOENT;
    int rc = st_store_get(s->ts_store, key, value);
    int64_t t = -1;
    if (rc == 0 && s->ts_timestamped && sx_ts_split(*value, &t, value) < 0)
        return -ENOENT; /* not a value of this store's format */
    if (ts)
        *ts = t;
    return rc;
}

int sx_task_store_put(sx_task_t *tk, int index, eddy_bytes_t key, eddy_bytes_t value, int64_t ts)
{
    sx_task_store_t *s = sx_task_store(tk, index);
    if (!s)
        return -ENOENT;
    if (tk->tk_user_failed) /* what a failed user function left is not written */
        return EDDY_ERR_PROCESSING;
    sx_tsbuf_t tb = {.tb_heap = {0}};
    int rc = 0;
    if (s->ts_timestamped && value.len >= 0)
        rc = sx_ts_value(&tb, ts, value, &value);
    if (rc == 0)
        rc = st_store_put(s->ts_store, key, value, ts);
    sx_tsbuf_free(&tb);
    /* A store that refuses this record's key or value (a null key, a value
     * past what LMDB can hold) fails the record, not the app: the
     * processing handler decides. */
    if (rc == EDDY_ERR_TOO_LARGE || rc == EDDY_ERR_INVALID_ARG)
        return record_failed(tk,
                             "store %s cannot hold a key of %d bytes with a value of %d "
                             "bytes: %s",
                             st_store_name(s->ts_store), (int)key.len, (int)value.len,
                             eddy_strerror(rc));
    if (rc < 0)
        EDDY_LOG_ERROR("streams",
                       "task %s: store %s: write of a %d-byte key and a %d-byte value "
                       "failed: %s",
                       tk->tk_name, st_store_name(s->ts_store), (int)key.len, (int)value.len,
                       eddy_strerror(rc));
    return rc;
}

static void hook_changelog(st_store_t *s, eddy_bytes_t key, eddy_bytes_t value, int64_t ts,
                           void *opaque)
{
    (void)s;
    sx_task_store_t *tsr = opaque;
    sx_task_t *tk = tsr->ts_task;
    /* Kafka's changelog of a timestamped store: the plain value, its
     * timestamp as the record's */
    if (tsr->ts_timestamped && value.len >= 0 && sx_ts_split(value, &ts, &value) < 0)
        return;
    int rc = sx_collector_produce(tk->tk_collector, tsr->ts_changelog, tk->tk_id.ti_partition, key,
                                  value, ts, tsr->ts_tracker);
    if (rc < 0)
        tk->tk_failed = rc;
}

static void hook_forward(st_store_t *s, eddy_bytes_t key, eddy_bytes_t new_value,
                         eddy_bytes_t old_value, int64_t ts, void *opaque)
{
    (void)s;
    sx_task_store_t *tsr = opaque;
    sx_task_t *tk = tsr->ts_task;
    if (tk->tk_failed)
        return;
    sx_rec_t r = {key, new_value, old_value, ts};
    const char *topic = tk->tk_cur_topic;
    int64_t off = tk->tk_cur_offset;
    tk->tk_cur_topic = NULL; /* a store's record has no input record */
    tk->tk_cur_offset = -1;
    int rc = 0;
    if (tsr->ts_kind == DSL_STORE_KV) {
        if (tsr->ts_timestamped) {
            int64_t ots;
            if (new_value.len >= 0 && sx_ts_split(new_value, &r.ts, &r.value) < 0)
                r.value = EDDY_NULL_BYTES;
            if (old_value.len >= 0 && sx_ts_split(old_value, &ots, &r.old) < 0)
                r.old = EDDY_NULL_BYTES;
        }
        rc = sx_forward(tk, tsr->ts_node, &r);
    } else
        sx_window_forward_change(tsr, key, new_value, old_value, ts);
    tk->tk_cur_topic = topic;
    tk->tk_cur_offset = off;
    if (tk->tk_user_failed) {
        /* A user function downstream of the store failed the change: the
         * change has no input record of its own (the cache may flush it
         * long after), so the handler sees the change itself. */
        const kc_message_t *m = tk->tk_cur_msg;
        tk->tk_cur_msg = NULL;
        rc = sx_task_handle_failure(tk, NULL, SX_FAIL_PROCESSING, NULL, r.key, r.value, ts);
        tk->tk_cur_msg = m;
    }
    if (rc < 0)
        tk->tk_failed = rc;
}

void sx_task_late(sx_task_t *tk, const dsl_node_t *n, const sx_rec_t *r, int64_t start, int64_t end)
{
    int64_t late = __atomic_add_fetch(&tk->tk_thread->th_late_dropped, 1, __ATOMIC_RELAXED);
    if (late <= 10 || late % 1000 == 0)
        EDDY_LOG_WARN("streams",
                      "task %s: %s: dropping a record too late for its window [%lld,%lld) "
                      "(timestamp %lld, stream time %lld, grace %lld ms; %s-%d offset %lld; "
                      "%lld dropped so far)",
                      tk->tk_name, n->dn_name, (long long)start, (long long)end, (long long)r->ts,
                      (long long)tk->tk_stream_time,
                      (long long)(n->dn_kind == DSL_STREAM_JOIN_SIDE ||
                                          n->dn_kind == DSL_STREAM_JOIN_WINDOW
                                      ? n->dn_join_windows.jw_grace
                                      : n->dn_windows.w_grace),
                      tk->tk_cur_topic ? tk->tk_cur_topic : "-", (int)tk->tk_id.ti_partition,
                      (long long)tk->tk_cur_offset, (long long)late);
}

/* Whether the changes of the store n writes go to n's children through the
 * store's forward hook: aggregations and materialized table operations, but
 * not a join's buffer, nor an aggregation that emits final results only. */
static int forwards_changes(const dsl_node_t *n)
{
    return n && n->dn_kind != DSL_STREAM_JOIN_WINDOW && !n->dn_emit_final;
}

/* ---- the processors ---- */

/* 1 when b is valid for sd (or there is nothing to check); else 0 with
 * "<what> is not <serde> (<reason>)" in errstr. */
int sx_serde_ok(const eddy_serde_t *sd, eddy_bytes_t b, const char *what, char *errstr,
                size_t errstr_size)
{
    if (!sd || !sd->sd_check || b.len < 0)
        return 1;
    char why[160] = "";
    if (sd->sd_check(b, why, sizeof why) == 0)
        return 1;
    snprintf(errstr, errstr_size, "%s is not %s (%s)", what, sd->sd_name, why);
    return 0;
}

static int process_node(sx_task_t *tk, const dsl_node_t *n, const sx_rec_t *r);

/* One node: once a user function failed the record nothing more runs for
 * it, and the innermost node on the way back is the one that failed. */
int sx_process(sx_task_t *tk, const dsl_node_t *n, const sx_rec_t *r)
{
    if (tk->tk_user_failed)
        return EDDY_ERR_PROCESSING;
    int rc = process_node(tk, n, r);
    if (tk->tk_user_failed) {
        if (!tk->tk_user_node)
            tk->tk_user_node = n;
        return EDDY_ERR_PROCESSING;
    }
    return rc;
}

static int process_node(sx_task_t *tk, const dsl_node_t *n, const sx_rec_t *r)
{
    switch (n->dn_kind) {
    case DSL_SOURCE:
    case DSL_MERGE:
    case DSL_FILTER:
    case DSL_MAP:
    case DSL_MAP_VALUES:
    case DSL_FLAT_MAP:
    case DSL_FLAT_MAP_VALUES:
    case DSL_SELECT_KEY:
    case DSL_PEEK:
    case DSL_FOREACH:
    case DSL_BRANCH:
    case DSL_SINK:
    case DSL_STREAM_AGGREGATE:
    case DSL_STREAM_TABLE_JOIN: return sx_ops_stream_process(tk, n, r); /* ops_stream.c */
    case DSL_TABLE_SOURCE:
    case DSL_TABLE_FILTER:
    case DSL_TABLE_MAP_VALUES:
    case DSL_TABLE_TO_STREAM:
    case DSL_TABLE_GROUP_BY:
    case DSL_TABLE_AGGREGATE:
    case DSL_TABLE_JOIN_SIDE:
    case DSL_TABLE_JOIN_MERGE:
    case DSL_TABLE_SUPPRESS: return sx_ops_table_process(tk, n, r); /* ops_table.c */
    case DSL_WINDOW_AGGREGATE: return sx_window_process(tk, n, r);
    case DSL_SESSION_AGGREGATE: return sx_session_process(tk, n, r);
    case DSL_STREAM_JOIN_WINDOW:
    case DSL_STREAM_JOIN_SIDE: return sx_join_process(tk, n, r);
    case DSL_PROCESS: return sx_proc_process(tk, n, r);
    }
    return 0;
}

/* ---- the error handlers ---- */

/* A dead-letter record (KIP-1034's format): the input record's raw key and
 * value and timestamp, with headers naming the error and where the record
 * came from (no stack trace: C has none to give). */
static int dead_letter(sx_task_t *tk, const kc_message_t *m, const char *exception,
                       const char *message, eddy_bytes_t key, eddy_bytes_t value, int64_t ts)
{
    const char *dlq = tk->tk_thread->th_app->ap_cfg.dlq_topic;
    char part[16], off[24];
    wire_header_t h[5];
    int nh = 0;
#define HDR(k, v)                                                                                  \
    h[nh++] = (wire_header_t)                                                                      \
    {                                                                                              \
        (const uint8_t *)(k), (int32_t)strlen(k), (const uint8_t *)(v), (int32_t)strlen(v)         \
    }
    HDR("__streams.errors.exception", exception);
    HDR("__streams.errors.message", message);
    if (m) {
        snprintf(part, sizeof part, "%d", (int)m->msg_partition);
        snprintf(off, sizeof off, "%lld", (long long)m->msg_offset);
        HDR("__streams.errors.topic", m->msg_topic);
        HDR("__streams.errors.partition", part);
        HDR("__streams.errors.offset", off);
        key = (eddy_bytes_t){m->msg_key, m->msg_key_len};
        value = (eddy_bytes_t){m->msg_value, m->msg_value_len};
        ts = m->msg_timestamp;
    }
#undef HDR
    kc_record_t rec = {key.data, key.len, value.data, value.len, ts, h, nh, NULL, NULL};
    int32_t limit = kc_config(tk->tk_thread->th_client)->max_request_size;
    if (kc_record_size(&rec) > limit) {
        /* The record is skipped either way; its dead letter cannot be. */
        EDDY_LOG_WARN("streams",
                      "task %s: no dead letter in %s for it: %lld bytes is larger "
                      "than max.request.size (%d bytes)",
                      tk->tk_name, dlq, (long long)kc_record_size(&rec), (int)limit);
        return 0;
    }
    return sx_collector_send(tk->tk_collector, dlq, -1, &rec, -1);
}

int sx_task_handle_failure(sx_task_t *tk, const kc_message_t *m, sx_failure_t kind, const char *why,
                           eddy_bytes_t key, eddy_bytes_t value, int64_t ts)
{
    const sx_config_t *cfg = &tk->tk_thread->th_app->ap_cfg;
    char msg[700], where[400];
    if (kind != SX_FAIL_PROCESSING)
        snprintf(msg, sizeof msg, "%s", why);
    else
        snprintf(msg, sizeof msg, "%s failed: %s",
                 tk->tk_user_node ? tk->tk_user_node->dn_name : "a punctuator", tk->tk_user_msg);
    tk->tk_user_failed = 0;
    tk->tk_user_node = NULL;
    if (m)
        snprintf(where, sizeof where, "%s-%d offset %lld", m->msg_topic, (int)m->msg_partition,
                 (long long)m->msg_offset);
    else
        snprintf(where, sizeof where,
                 "a record with no input record (a store's change or a "
                 "punctuation)");
    static const char *const handlers[] = {"default.deserialization.exception.handler",
                                           "processing.exception.handler",
                                           "production.exception.handler",
                                           "production.exception.handler"};
    static const char *const exceptions[] = {"DeserializationException", "ProcessingException",
                                             "SerializationException", "RecordTooLargeException"};
    static const char *const whats[] = {"that cannot be read", "a user function failed",
                                        "a sink's serde rejects", "too large to send"};
    const char *handler = handlers[kind];
    int cont = kind == SX_FAIL_DESERIALIZATION ? cfg->log_and_continue
               : kind == SX_FAIL_PROCESSING    ? cfg->processing_continue
                                               : cfg->production_continue;
    if (!cont) {
        sx_thread_fail(tk->tk_thread, EDDY_ERR_PROCESSING,
                       "task %s: %s: %s; stopping (%s=log-and-fail; set it to log-and-continue "
                       "to skip such records%s)",
                       tk->tk_name, where, msg, handler,
                       cfg->dlq_topic[0] ? ", which then go to the dead-letter topic" : "");
        return EDDY_ERR_PROCESSING;
    }
    int64_t skipped = __atomic_add_fetch(&tk->tk_thread->th_skipped, 1, __ATOMIC_RELAXED);
    if (skipped <= 10 || skipped % 1000 == 0)
        EDDY_LOG_WARN("streams",
                      "task %s: skipping a record %s: %s: %s (%s=log-and-continue%s%s; "
                      "%lld skipped so far)",
                      tk->tk_name, whats[kind], where, msg, handler,
                      cfg->dlq_topic[0] ? "; sent to " : "", cfg->dlq_topic, (long long)skipped);
    if (!cfg->dlq_topic[0])
        return 0;
    return dead_letter(tk, m, exceptions[kind], msg, key, value, ts);
}

/* ---- the task ---- */

static int readable(const sx_task_t *tk, const dsl_node_t *src, const kc_message_t *m, char *why,
                    size_t why_size)
{
    const eddy_app_t *app = tk->tk_thread->th_app;
    const eddy_serde_t *ks = src->dn_key_serde ? src->dn_key_serde : app->ap_default_key_serde;
    const eddy_serde_t *vs = src->dn_value_serde ? src->dn_value_serde
                                                 : app->ap_default_value_serde;
    return src->dn_internal ||
           (sx_serde_ok(ks, (eddy_bytes_t){m->msg_key, m->msg_key_len}, "the key", why, why_size) &&
            sx_serde_ok(vs, (eddy_bytes_t){m->msg_value, m->msg_value_len}, "the value", why,
                        why_size));
}

int64_t sx_task_timestamp(sx_task_t *tk, const dsl_node_t *src, const kc_message_t *m)
{
    char why[400];
    if (!src->dn_ts_extractor)
        return m->msg_timestamp;
    if (!readable(tk, src, m, why, sizeof why))
        return -1;
    eddy_bytes_t key = {m->msg_key, m->msg_key_len}, value = {m->msg_value, m->msg_value_len};
    sx_task_t *prev_task = sx_task_set_current(tk);
    tk->tk_cur_msg = m;
    tk->tk_cur_topic = m->msg_topic;
    tk->tk_cur_offset = m->msg_offset;
    eddy_record_t ur = sx_user_record(tk, key, value, m->msg_timestamp);
    int64_t ts = src->dn_ts_extractor(&ur, tk->tk_stream_time, src->dn_ts_opaque);
    if (tk->tk_user_failed) { /* the extractor failed it (eddy_fail_record) */
        tk->tk_user_node = src;
        sx_task_handle_failure(tk, m, SX_FAIL_PROCESSING, NULL, key, value, m->msg_timestamp);
        ts = SX_TS_FAILED;
    }
    tk->tk_cur_msg = NULL;
    tk->tk_cur_topic = NULL;
    tk->tk_cur_offset = -1;
    sx_task_set_current(prev_task);
    return ts;
}

int sx_task_process(sx_task_t *tk, const dsl_node_t *src, const kc_message_t *m, int64_t ts)
{
    sx_rec_t r = {
        {m->msg_key, m->msg_key_len}, {m->msg_value, m->msg_value_len}, EDDY_NULL_BYTES, ts};
    char why[400];
    tk->tk_cur_combined = src->dn_internal && m->msg_header_count && sx_combine_is_combined(m);
    if (!readable(tk, src, m, why, sizeof why))
        return sx_task_handle_failure(tk, m, SX_FAIL_DESERIALIZATION, why, r.key, r.value,
                                      m->msg_timestamp);
    if (ts == SX_TS_FAILED) /* sx_task_timestamp handled it */
        return tk->tk_thread->th_error;
    sx_task_t *prev_task = sx_task_set_current(tk);
    tk->tk_cur_msg = m;
    tk->tk_cur_topic = m->msg_topic;
    tk->tk_cur_offset = m->msg_offset;
    int rc = 0;
    if (r.ts < 0) {
        /* Kafka's default extractor fails here; skipping keeps the app up. */
        int64_t skipped = __atomic_add_fetch(&tk->tk_thread->th_skipped, 1, __ATOMIC_RELAXED);
        if (skipped <= 10 || skipped % 1000 == 0)
            EDDY_LOG_WARN("streams",
                          "task %s: skipping a record with timestamp %lld: %s-%d "
                          "offset %lld (%lld skipped so far)",
                          tk->tk_name, (long long)r.ts, m->msg_topic, (int)m->msg_partition,
                          (long long)m->msg_offset, (long long)skipped);
        goto out;
    }
    if (r.ts > tk->tk_stream_time)
        tk->tk_stream_time = r.ts;
    rc = sx_process(tk, src, &r);
    if (tk->tk_user_failed)
        rc = sx_task_handle_failure(tk, m, SX_FAIL_PROCESSING, NULL, r.key, r.value, r.ts);
    if (rc == 0 && tk->tk_nprocs > 0) {
        rc = sx_procs_punctuate_stream(tk);
        if (tk->tk_user_failed) /* a punctuator has no input record */
            rc = sx_task_handle_failure(tk, NULL, SX_FAIL_PROCESSING, NULL, EDDY_NULL_BYTES,
                                        EDDY_NULL_BYTES, tk->tk_stream_time);
    }
out:
    tk->tk_cur_msg = NULL;
    tk->tk_cur_topic = NULL;
    tk->tk_cur_offset = -1;
    sx_task_set_current(prev_task);
    if (rc == 0 && tk->tk_failed)
        rc = tk->tk_failed;
    return rc;
}

int sx_task_flush(sx_task_t *tk)
{
    /* Until every cache is clean: a store's flush may dirty another store
     * of the task (a table join's result, say). */
    sx_task_t *prev = sx_task_set_current(tk);
    int rc = tk->tk_env ? st_env_flush(tk->tk_env) : 0;
    sx_task_set_current(prev);
    return rc < 0 ? rc : tk->tk_failed;
}

int sx_task_commit_state(sx_task_t *tk)
{
    if (!tk->tk_env)
        return 0;
    st_offset_t offs[130];
    int n = 0;
    for (int i = 0; i < tk->tk_nstores && i < 64; i++) {
        sx_task_store_t *ts = &tk->tk_stores[i];
        int64_t next = sx_collector_tracker_offset(tk->tk_collector, ts->ts_tracker);
        if (next >= 0)
            offs[n++] = (st_offset_t){ts->ts_changelog, tk->tk_id.ti_partition, next};
        if (ts->ts_emitted_key && ts->ts_emitted_upto >= 0)
            offs[n++] = (st_offset_t){ts->ts_emitted_key, 0, ts->ts_emitted_upto};
    }
    if (tk->tk_stream_time >= 0)
        offs[n++] = (st_offset_t){SX_STREAM_TIME_KEY, 0, tk->tk_stream_time};
    int rc = sx_inc_commit(tk);
    if (rc == 0)
        rc = st_env_commit(tk->tk_env, offs, n);
    if (rc < 0)
        EDDY_LOG_ERROR("streams", "task %s: committing its state failed: %s", tk->tk_name,
                       eddy_strerror(rc));
    return rc;
}

int sx_task_restore(sx_task_t *tk, sx_task_store_t *ts, const kc_message_t *m)
{
    eddy_bytes_t k = {m->msg_key, m->msg_key_len}, v = {m->msg_value, m->msg_value_len};
    sx_tsbuf_t tb = {.tb_heap = {0}};
    int rc;
    /* the changelog's record time goes back in */
    if (ts->ts_timestamped && v.len >= 0 && sx_ts_value(&tb, m->msg_timestamp, v, &v) < 0)
        return -ENOMEM;
    switch (ts->ts_kind) {
    case DSL_STORE_WINDOW: rc = st_window_restore(ts->ts_window, k, v); break;
    case DSL_STORE_SESSION: rc = st_session_restore(ts->ts_session, k, v); break;
    default: rc = st_store_restore(ts->ts_store, k, v); break;
    }
    sx_tsbuf_free(&tb);
    if (rc < 0)
        return rc;
    ts->ts_restored++;
    /* A takeover has no stream time of its own: the changelog's records
     * carry the times of the updates they log. */
    if (ts->ts_kind != DSL_STORE_KV && m->msg_timestamp > tk->tk_stream_time) {
        tk->tk_stream_time = m->msg_timestamp;
        if (ts->ts_window)
            st_window_advance(ts->ts_window, tk->tk_stream_time);
        if (ts->ts_session)
            st_session_advance(ts->ts_session, tk->tk_stream_time);
    }
    return 0;
}

void sx_task_set_cache_limit(sx_task_t *tk, size_t per_store)
{
    for (int i = 0; i < tk->tk_nstores; i++) {
        sx_task_store_t *ts = &tk->tk_stores[i];
        if (ts->ts_store)
            st_store_set_cache_limit(ts->ts_store, per_store);
        if (ts->ts_window)
            st_window_set_cache_limit(ts->ts_window, per_store);
        if (ts->ts_session)
            st_session_set_cache_limit(ts->ts_session, per_store);
    }
}

sx_task_store_t *sx_task_store_by_changelog(sx_task_t *tk, const char *topic)
{
    for (int i = 0; i < tk->tk_nstores; i++)
        if (strcmp(tk->tk_stores[i].ts_changelog, topic) == 0)
            return &tk->tk_stores[i];
    return NULL;
}

static sx_task_t *task_open(sx_thread_t *th, sx_task_id_t id, int standby, char *errstr,
                            size_t errstr_size)
{
    eddy_app_t *app = th->th_app;
    const dsl_topology_t *topo = app->ap_topo;
    sx_task_t *tk = calloc(1, sizeof *tk);
    if (!tk) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    tk->tk_id = id;
    snprintf(tk->tk_name, sizeof tk->tk_name, "%d_%d", (int)id.ti_subtopology,
             (int)id.ti_partition);
    tk->tk_standby = standby;
    tk->tk_thread = th;
    tk->tk_collector = &th->th_collector;
    tk->tk_sub = &topo->dt_subtopologies[id.ti_subtopology];
    tk->tk_stream_time = -1;
    tk->tk_cur_offset = -1;
    tk->tk_state = tk->tk_sub->st_nstores > 0 ? TK_RESTORING : TK_RUNNING;
    if (tk->tk_sub->st_nstores == 0 && !standby && sx_procs_open(tk, errstr, errstr_size) < 0) {
        free(tk);
        return NULL;
    }
    size_t dl = strlen(app->ap_app_dir) + 40;
    if (!(tk->tk_dir = malloc(dl)))
        goto nomem;
    snprintf(tk->tk_dir, dl, "%s/%s", app->ap_app_dir, tk->tk_name);
    if (!(tk->tk_consumed = malloc(((size_t)app->ap_nsource_topics + 1) * sizeof(int64_t))))
        goto nomem;
    for (int i = 0; i <= app->ap_nsource_topics; i++)
        tk->tk_consumed[i] = -1;
    if (tk->tk_sub->st_nstores == 0)
        return tk; /* stateless: no environment */
    int rc = sx_app_claim_task(app, tk);
    if (rc < 0) {
        snprintf(errstr, errstr_size, "task %s: its state is still held by another thread",
                 tk->tk_name);
        free(tk->tk_consumed);
        free(tk->tk_dir);
        free(tk);
        errno = EBUSY;
        return NULL;
    }
    int max_stores = 0; /* window and session stores: one per segment */
    for (int i = 0; i < tk->tk_sub->st_nstores; i++) {
        const dsl_store_t *ds = &topo->dt_stores[tk->tk_sub->st_stores[i]];
        max_stores += ds->ds_kind == DSL_STORE_KV ? 1
                                                  : st_window_max_segments(ds->ds_retention_ms, 0);
    }
    tk->tk_env = st_env_open(tk->tk_dir, max_stores, (size_t)app->ap_cfg.state_map_initial_bytes,
                             errstr, errstr_size);
    if (!tk->tk_env)
        goto fail;
    /* Under exactly-once, LMDB commits only after the Kafka transaction it
     * covers did (thread.c): a commit LMDB makes on its own in between
     * marks the state, and marked state is wiped at open (sx_task_open).
     * A standby writes committed changelog records only: nothing to mark. */
    st_env_mark_auto_commits(tk->tk_env, app->ap_cfg.eos && !standby);
    st_env_set_limits(tk->tk_env, 0, (size_t)app->ap_cfg.state_txn_max_writes, 0);
    tk->tk_stores = calloc((size_t)tk->tk_sub->st_nstores, sizeof *tk->tk_stores);
    if (!tk->tk_stores)
        goto nomem;
    for (int i = 0; i < tk->tk_sub->st_nstores; i++) {
        int idx = tk->tk_sub->st_stores[i];
        sx_task_store_t *ts = &tk->tk_stores[i];
        ts->ts_index = idx;
        ts->ts_task = tk;
        ts->ts_restore_end = -1;
        for (int j = 0; j < tk->tk_sub->st_nnodes; j++) {
            const dsl_node_t *nd = tk->tk_sub->st_nodes[j];
            if (nd->dn_store == idx)
                ts->ts_node = (dsl_node_t *)nd;
        }
        size_t cl = strlen(app->ap_cfg.application_id) + strlen(topo->dt_stores[idx].ds_name) + 16;
        if (!(ts->ts_changelog = malloc(cl)))
            goto nomem;
        snprintf(ts->ts_changelog, cl, "%s-%s-changelog", app->ap_cfg.application_id,
                 topo->dt_stores[idx].ds_name);
        ts->ts_tracker = sx_collector_tracker(&th->th_collector, ts->ts_changelog, id.ti_partition);
        if (ts->ts_tracker < 0)
            goto nomem;
        const dsl_store_t *ds = &topo->dt_stores[idx];
        st_store_hooks_t hooks = {hook_changelog,
                                  forwards_changes(ts->ts_node) ? hook_forward : NULL, ts};
        if (standby)
            hooks = (st_store_hooks_t){NULL, NULL, ts};
        ts->ts_kind = ds->ds_kind;
        ts->ts_timestamped = ds->ds_timestamped;
        ts->ts_emitted_upto = -1;
        tk->tk_nstores++;
        switch (ds->ds_kind) {
        case DSL_STORE_WINDOW:
            ts->ts_window = st_window_open(tk->tk_env, ds->ds_name, ds->ds_retention_ms, 0,
                                           ds->ds_retain_duplicates, &hooks, errstr, errstr_size);
            if (!ts->ts_window)
                goto fail;
            break;
        case DSL_STORE_SESSION:
            ts->ts_session = st_session_open(tk->tk_env, ds->ds_name, ds->ds_retention_ms, 0,
                                             &hooks, errstr, errstr_size);
            if (!ts->ts_session)
                goto fail;
            break;
        default:
            ts->ts_store = st_store_open(tk->tk_env, ds->ds_name, &hooks, errstr, errstr_size);
            if (!ts->ts_store)
                goto fail;
            break;
        }
        if (ts->ts_node && ts->ts_node->dn_emit_final) {
            size_t el = strlen(ds->ds_name) + 16;
            if (!(ts->ts_emitted_key = malloc(el)))
                goto nomem;
            snprintf(ts->ts_emitted_key, el, "__emitted:%s", ds->ds_name);
            ts->ts_emitted_upto = st_env_checkpoint(tk->tk_env, ts->ts_emitted_key, 0);
        }
    }
    tk->tk_stream_time = st_env_checkpoint(tk->tk_env, SX_STREAM_TIME_KEY, 0);
    if (!standby && sx_procs_open(tk, errstr, errstr_size) < 0)
        goto fail;
    return tk;
nomem:
    snprintf(errstr, errstr_size, "task %s: out of memory", tk->tk_name);
fail:
    sx_task_close(tk);
    return NULL;
}

sx_task_t *sx_task_open(sx_thread_t *th, sx_task_id_t id, int standby, char *errstr,
                        size_t errstr_size)
{
    sx_task_t *tk = task_open(th, id, standby, errstr, errstr_size);
    char why[600];
    if (!tk || !tk->tk_env)
        return tk;
    if (th->th_app->ap_cfg.eos && st_env_auto_committed(tk->tk_env))
        snprintf(why, sizeof why,
                 "its local state may hold updates of a transaction that never committed (LMDB "
                 "committed on its own between two commits, then the task stopped without its "
                 "commit: processing.guarantee=exactly_once_v2)");
    else if (sx_inc_open(tk, why, sizeof why) == 0)
        return tk;
    /* State that cannot be proven to come from the changelog there now. */
    EDDY_LOG_WARN("streams",
                  "%s: task %s: %s: wiping %s (stale state) and restoring from the "
                  "changelog",
                  th->th_name, tk->tk_name, why, tk->tk_dir);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", tk->tk_dir);
    sx_task_close(tk);
    st_env_wipe(dir);
    tk = task_open(th, id, standby, errstr, errstr_size);
    if (tk && tk->tk_env && sx_inc_open(tk, why, sizeof why) != 0) {
        snprintf(errstr, errstr_size, "task %s: %s, even after wiping %s", tk->tk_name, why, dir);
        sx_task_close(tk);
        return NULL;
    }
    return tk;
}

void sx_task_close(sx_task_t *tk)
{
    if (!tk)
        return;
    eddy_app_t *app = tk->tk_thread->th_app;
    sx_procs_close(tk);
    sx_pg_destroy(tk->tk_pg); /* not committed: fetched again from the committed offsets */
    tk->tk_pg = NULL;
    if (tk->tk_env || tk->tk_registered)
        sx_app_release_task(app, tk); /* no query sees it from here on */
    for (int i = 0; i < tk->tk_nstores; i++) {
        st_window_close(tk->tk_stores[i].ts_window);
        st_session_close(tk->tk_stores[i].ts_session);
    }
    if (tk->tk_env)
        st_env_close(tk->tk_env);
    for (int i = 0; i < tk->tk_nstores; i++) {
        free(tk->tk_stores[i].ts_changelog);
        free(tk->tk_stores[i].ts_emitted_key);
    }
    free(tk->tk_stores);
    free(tk->tk_consumed);
    free(tk->tk_dir);
    eddy_buf_free(&tk->tk_scratch);
    free(tk);
}

/* Tasks: a sub-topology's processors run over one partition, with the
 * task's stores in its own LMDB environment.
 *
 * Records go through the nodes depth first, as Kafka Streams' forward():
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
#include "streams/streams_int.h"

static int process(sx_task_t *tk, const dsl_node_t *n, const sx_rec_t *r);

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
        int rc = process(tk, n->dn_children[i], r);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int sx_forward(sx_task_t *tk, const dsl_node_t *n, const sx_rec_t *r)
{
    return forward(tk, n, r);
}

static eddy_record_t user_record(const sx_task_t *tk, eddy_bytes_t key, eddy_bytes_t value,
                                 int64_t ts)
{
    return (eddy_record_t){key, value, ts, tk->tk_cur_topic, tk->tk_id.ti_partition,
                           tk->tk_cur_offset};
}

/* ---- emitters ---- */

enum emit_mode { EM_FORWARD, EM_CAPTURE };

struct eddy_emitter {
    sx_task_t *em_task;
    const dsl_node_t *em_node;
    const sx_rec_t *em_in; /* key/value the partial emits keep */
    enum emit_mode em_mode;
    int em_rc;
    /* EM_CAPTURE: the first record emitted */
    eddy_buf_t *em_key, *em_value;
    int em_key_null, em_value_null;
    int em_count;
};

static void emit(eddy_emitter_t *e, eddy_bytes_t key, eddy_bytes_t value)
{
    if (e->em_rc < 0)
        return;
    e->em_count++;
    if (e->em_mode == EM_CAPTURE) {
        if (e->em_count > 1)
            return; /* a table mapping yields one value per change */
        e->em_key_null = key.len < 0;
        e->em_value_null = value.len < 0;
        if ((key.len > 0 && eddy_buf_set(e->em_key, key.data, (size_t)key.len) < 0) ||
            (value.len > 0 && eddy_buf_set(e->em_value, value.data, (size_t)value.len) < 0))
            e->em_rc = -ENOMEM;
        if (key.len == 0)
            e->em_key->len = 0;
        if (value.len == 0)
            e->em_value->len = 0;
        return;
    }
    sx_rec_t out = {key, value, EDDY_NULL_BYTES, e->em_in->ts};
    e->em_rc = forward(e->em_task, e->em_node, &out);
}

void eddy_emit(eddy_emitter_t *e, eddy_bytes_t key, eddy_bytes_t value)
{
    emit(e, key, value);
}

void eddy_emit_value(eddy_emitter_t *e, eddy_bytes_t value)
{
    emit(e, e->em_in->key, value);
}

void eddy_emit_key(eddy_emitter_t *e, eddy_bytes_t key)
{
    emit(e, key, e->em_in->value);
}

/* Runs a mapper over (key, value) and captures its one result. Returns 1
 * when it emitted, 0 when it did not, or an error. */
static int capture(sx_task_t *tk, const dsl_node_t *n, eddy_bytes_t key, eddy_bytes_t value,
                   int64_t ts, eddy_buf_t *kout, eddy_buf_t *vout, eddy_bytes_t *k,
                   eddy_bytes_t *v)
{
    sx_rec_t in = {key, value, EDDY_NULL_BYTES, ts};
    eddy_emitter_t e = {tk, n, &in, EM_CAPTURE, 0, kout, vout, 0, 0, 0};
    eddy_record_t ur = user_record(tk, key, value, ts);
    kout->len = vout->len = 0;
    n->dn_mapper(&ur, &e, n->dn_opaque);
    if (e.em_rc < 0)
        return e.em_rc;
    if (e.em_count == 0)
        return 0;
    *k = e.em_key_null ? EDDY_NULL_BYTES : eddy_buf_bytes(kout);
    *v = e.em_value_null ? EDDY_NULL_BYTES : eddy_buf_bytes(vout);
    return 1;
}

/* ---- stores ---- */

sx_task_store_t *sx_task_store(sx_task_t *tk, int index)
{
    for (int i = 0; i < tk->tk_nstores; i++)
        if (tk->tk_stores[i].ts_index == index)
            return &tk->tk_stores[i];
    return NULL;
}

int sx_ts_value(sx_tsbuf_t *b, int64_t ts, eddy_bytes_t value, eddy_bytes_t *out)
{
    size_t vlen = value.len > 0 ? (size_t)value.len : 0;
    uint8_t *p = b->tb_small;
    if (SX_TS_PREFIX + vlen > sizeof b->tb_small) {
        if (b->tb_heap.cap < SX_TS_PREFIX + vlen) {
            uint8_t *np = realloc(b->tb_heap.data, SX_TS_PREFIX + vlen);
            if (!np)
                return -ENOMEM;
            b->tb_heap.data = np;
            b->tb_heap.cap = SX_TS_PREFIX + vlen;
        }
        b->tb_heap.len = SX_TS_PREFIX + vlen;
        p = b->tb_heap.data;
    }
    eddy_int64_write(p, ts);
    if (vlen)
        memcpy(p + SX_TS_PREFIX, value.data, vlen);
    *out = eddy_bytes(p, SX_TS_PREFIX + vlen);
    return 0;
}

void sx_tsbuf_free(sx_tsbuf_t *b)
{
    eddy_buf_free(&b->tb_heap);
}

int sx_ts_split(eddy_bytes_t stored, int64_t *ts, eddy_bytes_t *value)
{
    if (stored.len < SX_TS_PREFIX)
        return -EINVAL;
    eddy_int64_read(eddy_bytes(stored.data, SX_TS_PREFIX), ts);
    *value = eddy_bytes((const uint8_t *)stored.data + SX_TS_PREFIX,
                        (size_t)stored.len - SX_TS_PREFIX);
    return 0;
}

/* A key-value store's value (borrowed until the next write) and, when ts
 * is not NULL, its timestamp (-1 when the store keeps none). */
static int store_get(sx_task_t *tk, int index, eddy_bytes_t key, eddy_bytes_t *value, int64_t *ts)
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

static int store_put(sx_task_t *tk, int index, eddy_bytes_t key, eddy_bytes_t value, int64_t ts)
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
        return record_failed(tk, "store %s cannot hold a key of %d bytes with a value of %d "
                             "bytes: %s", st_store_name(s->ts_store), (int)key.len,
                             (int)value.len, eddy_strerror(rc));
    if (rc < 0)
        EDDY_LOG_ERROR("streams", "task %s: store %s: write of a %d-byte key and a %d-byte value "
                       "failed: %s", tk->tk_name, st_store_name(s->ts_store), (int)key.len,
                       (int)value.len, eddy_strerror(rc));
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
        rc = forward(tk, tsr->ts_node, &r);
    }
    else
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

void sx_task_late(sx_task_t *tk, const dsl_node_t *n, const sx_rec_t *r, int64_t start,
                  int64_t end)
{
    int64_t late = __atomic_add_fetch(&tk->tk_thread->th_late_dropped, 1, __ATOMIC_RELAXED);
    if (late <= 10 || late % 1000 == 0)
        EDDY_LOG_WARN("streams",
                      "task %s: %s: dropping a record too late for its window [%lld,%lld) "
                      "(timestamp %lld, stream time %lld, grace %lld ms; %s-%d offset %lld; "
                      "%lld dropped so far)",
                      tk->tk_name, n->dn_name, (long long)start, (long long)end,
                      (long long)r->ts, (long long)tk->tk_stream_time,
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

/* A sink's partitioner (eddy_stream_to_partitioned), from the producer. A
 * partition out of range is a bug in the app, not in the record: it stops
 * the app, naming the sink (Kafka throws there too). */
static int32_t sink_partition(kc_producer_t *p, const char *topic, const kc_record_t *rec,
                              int32_t npartitions, void *opaque)
{
    const dsl_node_t *n = opaque;
    int32_t part = n->dn_partitioner(topic, (eddy_bytes_t){rec->rec_key, rec->rec_key_len},
                                     (eddy_bytes_t){rec->rec_value, rec->rec_value_len},
                                     npartitions, n->dn_opaque);
    if (part < 0 || part >= npartitions)
        sx_thread_fail(kc_producer_opaque(p), EDDY_ERR_INVALID_ARG,
                       "%s: the partitioner of eddy_stream_to_partitioned returned partition %d "
                       "for topic %s, which has %d partition(s): it must return 0..%d",
                       n->dn_name, (int)part, topic, (int)npartitions, (int)npartitions - 1);
    return part;
}

/* 1 when b is valid for sd (or there is nothing to check); else 0 with
 * "<what> is not <serde> (<reason>)" in errstr. */
static int serde_ok(const eddy_serde_t *sd, eddy_bytes_t b, const char *what, char *errstr,
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

static int64_t i64_or_zero(int rc, eddy_bytes_t v)
{
    int64_t x = 0;
    if (rc == 0)
        eddy_int64_read(v, &x);
    return x;
}

/* count / reduce / aggregate of value into the store (stream aggregations,
 * and a grouped table's add). old: the current aggregate (rc_old 0 when it
 * exists). */
static int aggregate_into(sx_task_t *tk, const dsl_node_t *n, const sx_rec_t *r, int subtract)
{
    eddy_bytes_t cur;
    int64_t old_ts = -1;
    int rc_old = store_get(tk, n->dn_store, r->key, &cur, &old_ts);
    if (rc_old < 0 && rc_old != -ENOENT)
        return rc_old;
    eddy_buf_t outb = {0}; /* per call: a write-through store may recurse into here */
    eddy_buf_t *out = &outb;
    uint8_t num[8];
    /* cur is borrowed until the next write to the task's environment: the
     * user functions below do not write, and store_put copies next first. */
    eddy_bytes_t old = rc_old == 0 ? cur : EDDY_NULL_BYTES;
    eddy_bytes_t next;
    switch (n->dn_agg_kind) {
    case DSL_AGG_COUNT:
        eddy_int64_write(num, i64_or_zero(rc_old, old) +
                                  (subtract ? -1 : sx_combine_increment(tk, n, r->value)));
        next = eddy_bytes(num, 8);
        break;
    case DSL_AGG_REDUCE:
        if (subtract) {
            if (rc_old != 0)
                goto skip; /* nothing to take from */
            n->dn_subtractor(r->key, r->value, old, out, n->dn_opaque);
        } else if (rc_old != 0) {
            if (eddy_buf_set(out, r->value.data, r->value.len > 0 ? (size_t)r->value.len : 0) < 0)
                goto nomem;
        } else {
            n->dn_adder(r->key, r->value, old, out, n->dn_opaque);
        }
        next = eddy_buf_bytes(out);
        break;
    default: {
        eddy_buf_t init = {0};
        if (rc_old != 0) {
            n->dn_init(&init, n->dn_opaque);
            old = eddy_buf_bytes(&init);
        }
        if (subtract)
            n->dn_subtractor(r->key, r->value, old, out, n->dn_opaque);
        else
            n->dn_adder(r->key, r->value, old, out, n->dn_opaque);
        eddy_buf_free(&init);
        next = eddy_buf_bytes(out);
        break;
    }
    }
    /* an aggregate's timestamp: the largest of its records' (Kafka's) */
    int rc = store_put(tk, n->dn_store, r->key, next, old_ts > r->ts ? old_ts : r->ts);
    eddy_buf_free(out);
    return rc;
skip:
    eddy_buf_free(out);
    return 0;
nomem:
    eddy_buf_free(out);
    return -ENOMEM;
}

/* A table operation's result: into its store when it has one (the store
 * forwards), else straight to the children. */
static int table_result(sx_task_t *tk, const dsl_node_t *n, eddy_bytes_t key, eddy_bytes_t nv,
                        eddy_bytes_t ov, int64_t ts)
{
    if (nv.len < 0 && ov.len < 0)
        return 0; /* nothing was there, nothing is */
    if (n->dn_store >= 0)
        return store_put(tk, n->dn_store, key, nv, ts);
    sx_rec_t out = {key, nv, ov, ts};
    return forward(tk, n, &out);
}

/* One side of a table-table join: the joined value for this side's value v
 * and the other side's current value. */
static int join_value(sx_task_t *tk, const dsl_node_t *n, eddy_bytes_t key, eddy_bytes_t v,
                      eddy_buf_t *out, eddy_bytes_t *joined, int64_t *joined_other_ts)
{
    eddy_bytes_t other;
    int64_t other_ts;
    int rc = store_get(tk, n->dn_other_store, key, &other, &other_ts);
    if (rc < 0 && rc != -ENOENT)
        return rc;
    int have_other = rc == 0; /* other is borrowed: the joiner does not write */
    *joined_other_ts = have_other ? other_ts : -1;
    eddy_bytes_t left = n->dn_left_side ? v : (have_other ? other : EDDY_NULL_BYTES);
    eddy_bytes_t right = n->dn_left_side ? (have_other ? other : EDDY_NULL_BYTES) : v;
    int emit_it;
    switch (n->dn_join_kind) {
    case DSL_JOIN_INNER:
        emit_it = left.len >= 0 && right.len >= 0;
        break;
    case DSL_JOIN_LEFT:
        emit_it = left.len >= 0;
        break;
    default:
        emit_it = left.len >= 0 || right.len >= 0;
        break;
    }
    out->len = 0;
    if (emit_it) {
        n->dn_joiner(key, left, right, out, n->dn_opaque);
        *joined = eddy_buf_bytes(out);
    } else {
        *joined = EDDY_NULL_BYTES;
    }
    return 0;
}

static int process_node(sx_task_t *tk, const dsl_node_t *n, const sx_rec_t *r);

/* One node: once a user function failed the record nothing more runs for
 * it, and the innermost node on the way back is the one that failed. */
static int process(sx_task_t *tk, const dsl_node_t *n, const sx_rec_t *r)
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
    int rc = 0;
    eddy_record_t ur = user_record(tk, r->key, r->value, r->ts);
    switch (n->dn_kind) {
    case DSL_SOURCE:
    case DSL_MERGE:
        return forward(tk, n, r);
    case DSL_FILTER:
        if ((n->dn_pred(&ur, n->dn_opaque) != 0) != (n->dn_negate != 0))
            return forward(tk, n, r);
        return 0;
    case DSL_MAP:
    case DSL_MAP_VALUES:
    case DSL_FLAT_MAP:
    case DSL_FLAT_MAP_VALUES:
    case DSL_SELECT_KEY: {
        eddy_emitter_t e = {tk, n, r, EM_FORWARD, 0, NULL, NULL, 0, 0, 0};
        n->dn_mapper(&ur, &e, n->dn_opaque);
        return e.em_rc;
    }
    case DSL_PEEK:
        n->dn_action(&ur, n->dn_opaque);
        return forward(tk, n, r);
    case DSL_FOREACH:
        n->dn_action(&ur, n->dn_opaque);
        return 0;
    case DSL_BRANCH:
        for (int i = 0; i < n->dn_nchildren; i++)
            if (!n->dn_branch_preds[i] || n->dn_branch_preds[i](&ur, n->dn_branch_opaques[i]))
                return process(tk, n->dn_children[i], r);
        return 0;
    case DSL_SINK: {
        if (tk->tk_thread->th_app->ap_combine_sink[n->dn_id])
            return sx_combine_sink(tk, n, r->key, r->value, r->ts); /* combine.c */
        const char *topic = tk->tk_thread->th_app->ap_node_topics[n->dn_id];
        char why[320];
        if (!serde_ok(n->dn_key_serde, r->key, "the key", why, sizeof why) ||
            !serde_ok(n->dn_value_serde, r->value, "the value", why, sizeof why)) {
            /* Kafka's serialization error at a sink: the production
             * handler's to decide */
            char what[600];
            snprintf(what, sizeof what, "%s to %s: %s", n->dn_name, topic, why);
            return sx_task_handle_failure(tk, tk->tk_cur_msg, SX_FAIL_SERIALIZATION, what, r->key,
                                          r->value, r->ts);
        }
        /* The producer calls the user's partitioner once it knows the
         * topic's partition count, holding the record until then: never
         * a default-partitioned guess. */
        kc_record_t rec = {r->key.data, r->key.len, r->value.data, r->value.len, r->ts, NULL, 0,
                           n->dn_partitioner ? sink_partition : NULL, (void *)n};
        int64_t size = kc_record_size(&rec);
        int32_t limit = kc_config(tk->tk_thread->th_client)->max_request_size;
        if (size > limit) { /* Kafka's RecordTooLargeException, from send() */
            char what[600];
            snprintf(what, sizeof what, "%s to %s: a record of %lld bytes (key %d, value %d) is "
                     "larger than max.request.size (%d bytes; producer.max.request.size raises "
                     "it, up to what the topic's max.message.bytes allows)",
                     n->dn_name, topic, (long long)size, (int)r->key.len, (int)r->value.len,
                     (int)limit);
            return sx_task_handle_failure(tk, tk->tk_cur_msg, SX_FAIL_TOO_LARGE, what, r->key,
                                          r->value, r->ts);
        }
        return sx_collector_send(tk->tk_collector, topic, -1, &rec, -1);
    }
    case DSL_STREAM_AGGREGATE:
        if (r->key.len < 0 || r->value.len < 0)
            return 0; /* Kafka skips null keys and values here */
        return aggregate_into(tk, n, r, 0);
    case DSL_TABLE_SOURCE:
        if (r->key.len < 0)
            return 0;
        return store_put(tk, n->dn_store, r->key, r->value, r->ts);
    case DSL_TABLE_FILTER: {
        eddy_bytes_t nv = r->value, ov = r->old;
        if (nv.len >= 0) {
            eddy_record_t x = user_record(tk, r->key, nv, r->ts);
            if ((n->dn_pred(&x, n->dn_opaque) != 0) == (n->dn_negate != 0))
                nv = EDDY_NULL_BYTES;
        }
        if (ov.len >= 0) {
            eddy_record_t x = user_record(tk, r->key, ov, r->ts);
            if ((n->dn_pred(&x, n->dn_opaque) != 0) == (n->dn_negate != 0))
                ov = EDDY_NULL_BYTES;
        }
        return table_result(tk, n, r->key, nv, ov, r->ts);
    }
    case DSL_TABLE_MAP_VALUES: {
        eddy_buf_t kb = {0}, nb = {0}, ob = {0};
        eddy_bytes_t k, nv = EDDY_NULL_BYTES, ov = EDDY_NULL_BYTES;
        if (r->value.len >= 0 && (rc = capture(tk, n, r->key, r->value, r->ts, &kb, &nb, &k, &nv)) == 0)
            nv = EDDY_NULL_BYTES;
        if (rc >= 0 && r->old.len >= 0 &&
            (rc = capture(tk, n, r->key, r->old, r->ts, &kb, &ob, &k, &ov)) == 0)
            ov = EDDY_NULL_BYTES;
        if (rc >= 0)
            rc = table_result(tk, n, r->key, nv, ov, r->ts);
        eddy_buf_free(&kb);
        eddy_buf_free(&nb);
        eddy_buf_free(&ob);
        return rc;
    }
    case DSL_TABLE_TO_STREAM: {
        sx_rec_t out = {r->key, r->value, EDDY_NULL_BYTES, r->ts};
        return forward(tk, n, &out);
    }
    case DSL_TABLE_GROUP_BY: {
        /* Subtract the old value under its key, then add the new one. */
        eddy_buf_t kb = {0}, vb = {0}, pre = {0};
        const eddy_bytes_t vals[2] = {r->old, r->value};
        for (int i = 0; i < 2 && rc >= 0; i++) {
            eddy_bytes_t k, v;
            if (vals[i].len < 0)
                continue;
            rc = capture(tk, n, r->key, vals[i], r->ts, &kb, &vb, &k, &v);
            if (rc <= 0 || k.len < 0 || v.len < 0)
                continue; /* no key: dropped, as Kafka */
            uint8_t flag = i == 0 ? DSL_CHANGE_SUBTRACT : DSL_CHANGE_ADD;
            if (eddy_buf_set(&pre, &flag, 1) < 0 ||
                eddy_buf_append(&pre, v.data, (size_t)v.len) < 0) {
                rc = -ENOMEM;
                break;
            }
            sx_rec_t out = {k, eddy_buf_bytes(&pre), EDDY_NULL_BYTES, r->ts};
            rc = forward(tk, n, &out);
        }
        eddy_buf_free(&kb);
        eddy_buf_free(&vb);
        eddy_buf_free(&pre);
        return rc < 0 ? rc : 0;
    }
    case DSL_TABLE_AGGREGATE: {
        if (r->key.len < 0 || r->value.len < 1)
            return 0;
        const uint8_t *p = r->value.data;
        sx_rec_t in = {r->key, eddy_bytes(p + 1, (size_t)r->value.len - 1), EDDY_NULL_BYTES, r->ts};
        return aggregate_into(tk, n, &in, p[0] == DSL_CHANGE_SUBTRACT);
    }
    case DSL_STREAM_TABLE_JOIN: {
        if (r->key.len < 0 || r->value.len < 0)
            return 0;
        eddy_bytes_t tv;
        rc = store_get(tk, n->dn_other_store, r->key, &tv, NULL);
        if (rc < 0 && rc != -ENOENT)
            return rc;
        if (rc == -ENOENT && n->dn_join_kind == DSL_JOIN_INNER)
            return 0;
        eddy_buf_t out = {0};
        /* tv is borrowed until the next write, which only forward() may do. */
        eddy_bytes_t right = rc == 0 ? tv : EDDY_NULL_BYTES;
        n->dn_joiner(r->key, r->value, right, &out, n->dn_opaque);
        sx_rec_t o = {r->key, eddy_buf_bytes(&out), EDDY_NULL_BYTES, r->ts};
        rc = forward(tk, n, &o);
        eddy_buf_free(&out);
        return rc;
    }
    case DSL_TABLE_JOIN_SIDE: {
        if (r->key.len < 0)
            return 0;
        eddy_buf_t nb = {0}, ob = {0};
        eddy_bytes_t nj = EDDY_NULL_BYTES, oj = EDDY_NULL_BYTES;
        int64_t other_ts = -1, unused;
        rc = join_value(tk, n, r->key, r->value, &nb, &nj, &other_ts);
        if (rc == 0 && r->old.len >= 0)
            rc = join_value(tk, n, r->key, r->old, &ob, &oj, &unused);
        if (rc == 0 && !(nj.len < 0 && oj.len < 0)) {
            /* a table-table join's result: the larger of both sides' times */
            sx_rec_t o = {r->key, nj, oj, other_ts > r->ts ? other_ts : r->ts};
            rc = forward(tk, n, &o);
        }
        eddy_buf_free(&nb);
        eddy_buf_free(&ob);
        return rc;
    }
    case DSL_TABLE_JOIN_MERGE:
        return table_result(tk, n, r->key, r->value, r->old, r->ts);
    case DSL_WINDOW_AGGREGATE:
        return sx_window_process(tk, n, r);
    case DSL_SESSION_AGGREGATE:
        return sx_session_process(tk, n, r);
    case DSL_TABLE_SUPPRESS: /* its aggregation emits final results only */
        return forward(tk, n, r);
    case DSL_STREAM_JOIN_WINDOW:
    case DSL_STREAM_JOIN_SIDE:
        return sx_join_process(tk, n, r);
    case DSL_PROCESS:
        return sx_proc_process(tk, n, r);
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
    h[nh++] = (wire_header_t){(const uint8_t *)(k), (int32_t)strlen(k), (const uint8_t *)(v),    \
                              (int32_t)strlen(v)}
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
        EDDY_LOG_WARN("streams", "task %s: no dead letter in %s for it: %lld bytes is larger "
                      "than max.request.size (%d bytes)", tk->tk_name, dlq,
                      (long long)kc_record_size(&rec), (int)limit);
        return 0;
    }
    return sx_collector_send(tk->tk_collector, dlq, -1, &rec, -1);
}

int sx_task_handle_failure(sx_task_t *tk, const kc_message_t *m, sx_failure_t kind,
                           const char *why, eddy_bytes_t key, eddy_bytes_t value, int64_t ts)
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
        snprintf(where, sizeof where, "a record with no input record (a store's change or a "
                 "punctuation)");
    static const char *const handlers[] = {
        "default.deserialization.exception.handler", "processing.exception.handler",
        "production.exception.handler", "production.exception.handler"};
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
        EDDY_LOG_WARN("streams", "task %s: skipping a record %s: %s: %s (%s=log-and-continue%s%s; "
                      "%lld skipped so far)", tk->tk_name, whats[kind], where, msg, handler,
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
    const eddy_serde_t *vs = src->dn_value_serde ? src->dn_value_serde : app->ap_default_value_serde;
    return src->dn_internal ||
           (serde_ok(ks, (eddy_bytes_t){m->msg_key, m->msg_key_len}, "the key", why, why_size) &&
            serde_ok(vs, (eddy_bytes_t){m->msg_value, m->msg_value_len}, "the value", why,
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
    eddy_record_t ur = user_record(tk, key, value, m->msg_timestamp);
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
    sx_rec_t r = {{m->msg_key, m->msg_key_len}, {m->msg_value, m->msg_value_len},
                  EDDY_NULL_BYTES, ts};
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
            EDDY_LOG_WARN("streams", "task %s: skipping a record with timestamp %lld: %s-%d "
                          "offset %lld (%lld skipped so far)", tk->tk_name, (long long)r.ts,
                          m->msg_topic, (int)m->msg_partition, (long long)m->msg_offset,
                          (long long)skipped);
        goto out;
    }
    if (r.ts > tk->tk_stream_time)
        tk->tk_stream_time = r.ts;
    rc = process(tk, src, &r);
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
    case DSL_STORE_WINDOW:
        rc = st_window_restore(ts->ts_window, k, v);
        break;
    case DSL_STORE_SESSION:
        rc = st_session_restore(ts->ts_session, k, v);
        break;
    default:
        rc = st_store_restore(ts->ts_store, k, v);
        break;
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
        max_stores += ds->ds_kind == DSL_STORE_KV ? 1 : st_window_max_segments(ds->ds_retention_ms, 0);
    }
    tk->tk_env = st_env_open(tk->tk_dir, max_stores,
                             (size_t)app->ap_cfg.state_map_initial_bytes, errstr, errstr_size);
    if (!tk->tk_env)
        goto fail;
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
        st_store_hooks_t hooks = {hook_changelog, forwards_changes(ts->ts_node) ? hook_forward : NULL,
                                  ts};
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
    if (!tk || !tk->tk_env || sx_inc_open(tk, why, sizeof why) == 0)
        return tk;
    /* State that cannot be proven to come from the changelog there now. */
    EDDY_LOG_WARN("streams", "%s: task %s: %s: wiping %s (stale state) and restoring from the "
                  "changelog", th->th_name, tk->tk_name, why, tk->tk_dir);
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
    sx_pg_free(tk->tk_pg); /* not committed: fetched again from the committed offsets */
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

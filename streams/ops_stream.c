/* The KStream operators (Kafka Streams' KStream processors): source and
 * merge, filter, the mappers (map, map_values, flat_map, flat_map_values,
 * select_key) with the emitters they call, peek, foreach, branch, sinks,
 * stream aggregations (count, reduce, aggregate; shared with a grouped
 * table's, ops_table.c) and stream-table joins. task.c dispatches a record
 * to a node by its kind; the operators of each family live in a file named
 * for it, beside windows.c, join.c and process.c, so that task.c keeps the
 * task's lifecycle.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "streams/ops.h"
#include "streams/collector.h"
#include "streams/streams_int.h"

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
    e->em_rc = sx_forward(e->em_task, e->em_node, &out);
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
int sx_capture(sx_task_t *tk, const dsl_node_t *n, eddy_bytes_t key, eddy_bytes_t value, int64_t ts,
               eddy_buf_t *kout, eddy_buf_t *vout, eddy_bytes_t *k, eddy_bytes_t *v)
{
    sx_rec_t in = {key, value, EDDY_NULL_BYTES, ts};
    eddy_emitter_t e = {tk, n, &in, EM_CAPTURE, 0, kout, vout, 0, 0, 0};
    eddy_record_t ur = sx_user_record(tk, key, value, ts);
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

/* A sink's partitioner (eddy_stream_to_partitioned), from the producer. A
 * partition out of range is a bug in the app, not in the record: it stops
 * the app, naming the sink (Kafka throws there too). The producer's opaque
 * is the thread's collector (collector.c). */
static int32_t sink_partition(kc_producer_t *p, const char *topic, const kc_record_t *rec,
                              int32_t npartitions, void *opaque)
{
    const dsl_node_t *n = opaque;
    int32_t part = n->dn_partitioner(topic, (eddy_bytes_t){rec->rec_key, rec->rec_key_len},
                                     (eddy_bytes_t){rec->rec_value, rec->rec_value_len},
                                     npartitions, n->dn_opaque);
    if (part < 0 || part >= npartitions)
        sx_thread_fail(((sx_collector_t *)kc_producer_opaque(p))->co_thread, EDDY_ERR_INVALID_ARG,
                       "%s: the partitioner of eddy_stream_to_partitioned returned partition %d "
                       "for topic %s, which has %d partition(s): it must return 0..%d",
                       n->dn_name, (int)part, topic, (int)npartitions, (int)npartitions - 1);
    return part;
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
int sx_ops_aggregate_into(sx_task_t *tk, const dsl_node_t *n, const sx_rec_t *r, int subtract)
{
    eddy_bytes_t cur;
    int64_t old_ts = -1;
    int rc_old = sx_task_store_get(tk, n->dn_store, r->key, &cur, &old_ts);
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
    int rc = sx_task_store_put(tk, n->dn_store, r->key, next, old_ts > r->ts ? old_ts : r->ts);
    eddy_buf_free(out);
    return rc;
skip:
    eddy_buf_free(out);
    return 0;
nomem:
    eddy_buf_free(out);
    return -ENOMEM;
}

/* ---- the stream operators ---- */

int sx_ops_stream_process(sx_task_t *tk, const dsl_node_t *n, const sx_rec_t *r)
{
    int rc = 0;
    eddy_record_t ur = sx_user_record(tk, r->key, r->value, r->ts);
    switch (n->dn_kind) {
    case DSL_SOURCE:
    case DSL_MERGE: return sx_forward(tk, n, r);
    case DSL_FILTER:
        if ((n->dn_pred(&ur, n->dn_opaque) != 0) != (n->dn_negate != 0))
            return sx_forward(tk, n, r);
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
    case DSL_PEEK: n->dn_action(&ur, n->dn_opaque); return sx_forward(tk, n, r);
    case DSL_FOREACH: n->dn_action(&ur, n->dn_opaque); return 0;
    case DSL_BRANCH:
        for (int i = 0; i < n->dn_nchildren; i++)
            if (!n->dn_branch_preds[i] || n->dn_branch_preds[i](&ur, n->dn_branch_opaques[i]))
                return sx_process(tk, n->dn_children[i], r);
        return 0;
    case DSL_SINK: {
        if (tk->tk_thread->th_app->ap_combine_sink[n->dn_id])
            return sx_combine_sink(tk, n, r->key, r->value, r->ts); /* combine.c */
        const char *topic = tk->tk_thread->th_app->ap_node_topics[n->dn_id];
        char why[320];
        if (!sx_serde_ok(n->dn_key_serde, r->key, "the key", why, sizeof why) ||
            !sx_serde_ok(n->dn_value_serde, r->value, "the value", why, sizeof why)) {
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
        kc_record_t rec = {r->key.data,
                           r->key.len,
                           r->value.data,
                           r->value.len,
                           r->ts,
                           NULL,
                           0,
                           n->dn_partitioner ? sink_partition : NULL,
                           (void *)n};
        int64_t size = kc_record_size(&rec);
        int32_t limit = kc_config(tk->tk_thread->th_client)->max_request_size;
        if (size > limit) { /* Kafka's RecordTooLargeException, from send() */
            char what[600];
            snprintf(what, sizeof what,
                     "%s to %s: a record of %lld bytes (key %d, value %d) is "
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
        return sx_ops_aggregate_into(tk, n, r, 0);
    case DSL_STREAM_TABLE_JOIN: {
        if (r->key.len < 0 || r->value.len < 0)
            return 0;
        eddy_bytes_t tv;
        rc = sx_task_store_get(tk, n->dn_other_store, r->key, &tv, NULL);
        if (rc < 0 && rc != -ENOENT)
            return rc;
        if (rc == -ENOENT && n->dn_join_kind == DSL_JOIN_INNER)
            return 0;
        eddy_buf_t out = {0};
        /* tv is borrowed until the next write, which only sx_forward() may do. */
        eddy_bytes_t right = rc == 0 ? tv : EDDY_NULL_BYTES;
        n->dn_joiner(r->key, r->value, right, &out, n->dn_opaque);
        sx_rec_t o = {r->key, eddy_buf_bytes(&out), EDDY_NULL_BYTES, r->ts};
        rc = sx_forward(tk, n, &o);
        eddy_buf_free(&out);
        return rc;
    }
    default: break;
    }
    return 0;
}

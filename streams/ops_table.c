/* The KTable operators (Kafka Streams' KTable processors): table sources,
 * filter and map_values over changes (new value, old value), to_stream,
 * group_by (a change becomes a subtraction under the old key and an
 * addition under the new), a grouped table's aggregation, table-table joins
 * (both sides and the merge) and suppress. Nodes that write a store do not
 * forward themselves: the store does when its cache flushes (task.c's
 * forward hook). Its own file, named for the family, beside ops_stream.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "streams/ops.h"
#include "streams/streams_int.h"

/* A table operation's result: into its store when it has one (the store
 * forwards), else straight to the children. */
static int table_result(sx_task_t *tk, const dsl_node_t *n, eddy_bytes_t key, eddy_bytes_t nv,
                        eddy_bytes_t ov, int64_t ts)
{
    if (nv.len < 0 && ov.len < 0)
        return 0; /* nothing was there, nothing is */
    if (n->dn_store >= 0)
        return sx_task_store_put(tk, n->dn_store, key, nv, ts);
    sx_rec_t out = {key, nv, ov, ts};
    return sx_forward(tk, n, &out);
}

/* One side of a table-table join: the joined value for this side's value v
 * and the other side's current value. */
static int join_value(sx_task_t *tk, const dsl_node_t *n, eddy_bytes_t key, eddy_bytes_t v,
                      eddy_buf_t *out, eddy_bytes_t *joined, int64_t *joined_other_ts)
{
    eddy_bytes_t other;
    int64_t other_ts;
    int rc = sx_task_store_get(tk, n->dn_other_store, key, &other, &other_ts);
    if (rc < 0 && rc != -ENOENT)
        return rc;
    int have_other = rc == 0; /* other is borrowed: the joiner does not write */
    *joined_other_ts = have_other ? other_ts : -1;
    eddy_bytes_t left = n->dn_left_side ? v : (have_other ? other : EDDY_NULL_BYTES);
    eddy_bytes_t right = n->dn_left_side ? (have_other ? other : EDDY_NULL_BYTES) : v;
    int emit_it;
    switch (n->dn_join_kind) {
    case DSL_JOIN_INNER: emit_it = left.len >= 0 && right.len >= 0; break;
    case DSL_JOIN_LEFT: emit_it = left.len >= 0; break;
    default: emit_it = left.len >= 0 || right.len >= 0; break;
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

/* ---- the table operators ---- */

int sx_ops_table_process(sx_task_t *tk, const dsl_node_t *n, const sx_rec_t *r)
{
    int rc = 0;
    switch (n->dn_kind) {
    case DSL_TABLE_SOURCE:
        if (r->key.len < 0)
            return 0;
        return sx_task_store_put(tk, n->dn_store, r->key, r->value, r->ts);
    case DSL_TABLE_FILTER: {
        eddy_bytes_t nv = r->value, ov = r->old;
        if (nv.len >= 0) {
            eddy_record_t x = sx_user_record(tk, r->key, nv, r->ts);
            if ((n->dn_pred(&x, n->dn_opaque) != 0) == (n->dn_negate != 0))
                nv = EDDY_NULL_BYTES;
        }
        if (ov.len >= 0) {
            eddy_record_t x = sx_user_record(tk, r->key, ov, r->ts);
            if ((n->dn_pred(&x, n->dn_opaque) != 0) == (n->dn_negate != 0))
                ov = EDDY_NULL_BYTES;
        }
        return table_result(tk, n, r->key, nv, ov, r->ts);
    }
    case DSL_TABLE_MAP_VALUES: {
        eddy_buf_t kb = {0}, nb = {0}, ob = {0};
        eddy_bytes_t k, nv = EDDY_NULL_BYTES, ov = EDDY_NULL_BYTES;
        if (r->value.len >= 0 &&
            (rc = sx_capture(tk, n, r->key, r->value, r->ts, &kb, &nb, &k, &nv)) == 0)
            nv = EDDY_NULL_BYTES;
        if (rc >= 0 && r->old.len >= 0 &&
            (rc = sx_capture(tk, n, r->key, r->old, r->ts, &kb, &ob, &k, &ov)) == 0)
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
        return sx_forward(tk, n, &out);
    }
    case DSL_TABLE_GROUP_BY: {
        /* Subtract the old value under its key, then add the new one. */
        eddy_buf_t kb = {0}, vb = {0}, pre = {0};
        const eddy_bytes_t vals[2] = {r->old, r->value};
        for (int i = 0; i < 2 && rc >= 0; i++) {
            eddy_bytes_t k, v;
            if (vals[i].len < 0)
                continue;
            rc = sx_capture(tk, n, r->key, vals[i], r->ts, &kb, &vb, &k, &v);
            if (rc <= 0 || k.len < 0 || v.len < 0)
                continue; /* no key: dropped, as Kafka */
            uint8_t flag = i == 0 ? DSL_CHANGE_SUBTRACT : DSL_CHANGE_ADD;
            if (eddy_buf_set(&pre, &flag, 1) < 0 ||
                eddy_buf_append(&pre, v.data, (size_t)v.len) < 0) {
                rc = -ENOMEM;
                break;
            }
            sx_rec_t out = {k, eddy_buf_bytes(&pre), EDDY_NULL_BYTES, r->ts};
            rc = sx_forward(tk, n, &out);
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
        return sx_ops_aggregate_into(tk, n, &in, p[0] == DSL_CHANGE_SUBTRACT);
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
            rc = sx_forward(tk, n, &o);
        }
        eddy_buf_free(&nb);
        eddy_buf_free(&ob);
        return rc;
    }
    case DSL_TABLE_JOIN_MERGE: return table_result(tk, n, r->key, r->value, r->old, r->ts);
    case DSL_TABLE_SUPPRESS: /* its aggregation emits final results only */
        return sx_forward(tk, n, r);
    default: break;
    }
    return 0;
}

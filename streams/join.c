/* Windowed stream-stream joins, as Kafka Streams' KStreamJoinWindow and
 * KStreamKStreamJoin run them.
 *
 * Each side's record first goes through its DSL_STREAM_JOIN_WINDOW node,
 * which buffers it in the side's window store (duplicates kept) under its
 * timestamp, then to its DSL_STREAM_JOIN_SIDE node, which looks up the
 * other side's buffer: a left record at t meets the right records of the
 * same key in [t - before, t + after]; a right record at t the left records
 * in [t - after, t + before]. Each pair is joined and forwarded with the
 * larger of the two timestamps.
 *
 * Late records. A record whose own window ended more than grace before the
 * task's stream time (t + after + grace < stream time for the left side,
 * t + before + grace for the right) is dropped and counted: it is neither
 * buffered nor joined.
 *
 * Left and outer joins. A record of a side that must appear even without a
 * partner (the left side of left and outer joins, the right side of outer
 * joins) that found none waits in the shared store (dn_aux_store) until its
 * window closes: then it is forwarded joined with null, with its own
 * timestamp. A partner that arrives before that removes it. The shared
 * store's entries are Kafka's TimestampedKeyAndJoinSide and a list of
 * LeftOrRightValue (Kafka's ListValueStore: records of one side with the same
 * key and timestamp share an entry, and each is forwarded):
 *
 *   key:   | timestamp (8 BE) | side (1: left, 0: right) | key bytes |
 *   value: ( | length n (4 BE) | side (1: left, 0: right) | n - 1 value bytes | )+
 *
 * so they come out of the store in timestamp order. A partner of one of them
 * is a partner of all (same key, time and side): it removes the entry.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "streams/streams_int.h"

/* The end of a record's own join window. */
static int64_t window_end(const dsl_node_t *n, int left_side, int64_t t)
{
    return t + (left_side ? n->dn_join_windows.jw_after : n->dn_join_windows.jw_before);
}

/* The side of a DSL_STREAM_JOIN_WINDOW node: that of its join child. */
static const dsl_node_t *side_of(const dsl_node_t *win)
{
    for (int i = 0; i < win->dn_nchildren; i++)
        if (win->dn_children[i]->dn_kind == DSL_STREAM_JOIN_SIDE)
            return win->dn_children[i];
    return NULL;
}

static int pending_key(eddy_buf_t *b, int64_t t, int left_side, eddy_bytes_t key)
{
    uint8_t h[9];
    eddy_int64_write(h, t);
    h[8] = left_side ? 1 : 0;
    if (eddy_buf_set(b, h, sizeof h) < 0 ||
        (key.len > 0 && eddy_buf_append(b, key.data, (size_t)key.len) < 0))
        return -ENOMEM;
    return 0;
}

/* ---- the buffer: DSL_STREAM_JOIN_WINDOW ---- */

static int buffer_record(sx_task_t *tk, const dsl_node_t *n, const sx_rec_t *r)
{
    const dsl_node_t *side = side_of(n);
    sx_task_store_t *ts = sx_task_store(tk, n->dn_store);
    if (!side || !ts || !ts->ts_window)
        return -ENOENT;
    int rc = st_window_advance(ts->ts_window, tk->tk_stream_time);
    if (rc < 0)
        return rc;
    int64_t end = window_end(side, side->dn_left_side, r->ts);
    if (end + side->dn_join_windows.jw_grace < tk->tk_stream_time) {
        sx_task_late(tk, side, r, r->ts, end);
        return 0;
    }
    rc = st_window_put(ts->ts_window, r->key, r->ts, r->value, r->ts);
    if (rc == 1) { /* behind the buffer's retention */
        sx_task_late(tk, side, r, r->ts, end);
        return 0;
    }
    if (rc < 0)
        return rc;
    return sx_forward(tk, n, r);
}

/* ---- the lookup: DSL_STREAM_JOIN_SIDE ---- */

typedef struct partners {
    eddy_buf_t data;
    struct partner {
        size_t off;
        int32_t len; /* -1: null */
        int64_t ts;
    } *p;
    int n, cap;
    int err;
} partners_t;

static int add_partner(eddy_bytes_t key, int64_t t, eddy_bytes_t value, void *opaque)
{
    (void)key;
    partners_t *ps = opaque;
    if (ps->n == ps->cap) {
        int ncap = ps->cap ? 2 * ps->cap : 8;
        struct partner *np = realloc(ps->p, (size_t)ncap * sizeof *np);
        if (!np) {
            ps->err = -ENOMEM;
            return 1;
        }
        ps->p = np;
        ps->cap = ncap;
    }
    ps->p[ps->n] = (struct partner){ps->data.len, value.len, t};
    if (value.len > 0 && eddy_buf_append(&ps->data, value.data, (size_t)value.len) < 0) {
        ps->err = -ENOMEM;
        return 1;
    }
    ps->n++;
    return 0;
}

static eddy_bytes_t partner_value(const partners_t *ps, int i)
{
    if (ps->p[i].len < 0)
        return EDDY_NULL_BYTES;
    return eddy_bytes(ps->data.data + ps->p[i].off, (size_t)ps->p[i].len);
}

static int forward_joined(sx_task_t *tk, const dsl_node_t *n, eddy_bytes_t key, eddy_bytes_t left,
                          eddy_bytes_t right, int64_t ts)
{
    eddy_buf_t out = {0};
    n->dn_joiner(key, left, right, &out, n->dn_opaque);
    sx_rec_t o = {key, eddy_buf_bytes(&out), EDDY_NULL_BYTES, ts};
    int rc = sx_forward(tk, n, &o);
    eddy_buf_free(&out);
    return rc;
}

/* Waiting records (of either side) whose window has closed. */
typedef struct closed {
    const dsl_node_t *n;
    int64_t stream_time;
    partners_t keys, vals; /* keys.p[i].ts: the record's timestamp */
} closed_t;

static int note_closed(eddy_bytes_t key, eddy_bytes_t value, void *opaque)
{
    closed_t *c = opaque;
    if (key.len < 9 || value.len < 1)
        return 0;
    int64_t t;
    eddy_int64_read(eddy_bytes(key.data, 8), &t);
    int left = ((const uint8_t *)key.data)[8] != 0;
    int64_t grace = c->n->dn_join_windows.jw_grace;
    if (window_end(c->n, left, t) + grace >= c->stream_time) {
        /* ordered by time: nothing after this can have closed, unless its
         * side's window is shorter */
        int64_t shortest = c->n->dn_join_windows.jw_after < c->n->dn_join_windows.jw_before
                               ? c->n->dn_join_windows.jw_after
                               : c->n->dn_join_windows.jw_before;
        return t + shortest + grace >= c->stream_time;
    }
    return add_partner(key, t, key, &c->keys) || add_partner(key, t, value, &c->vals);
}

static int emit_closed(sx_task_t *tk, const dsl_node_t *n, sx_task_store_t *shared)
{
    closed_t c = {n, tk->tk_stream_time, {{0}, NULL, 0, 0, 0}, {{0}, NULL, 0, 0, 0}};
    int rc = st_store_range(shared->ts_store, EDDY_NULL_BYTES, EDDY_NULL_BYTES, note_closed, &c);
    if (rc >= 0 && (c.keys.err || c.vals.err))
        rc = -ENOMEM;
    for (int i = 0; rc >= 0 && i < c.keys.n; i++) {
        /* pk and pv live in c's buffers, which no store write touches */
        eddy_bytes_t pk = partner_value(&c.keys, i), pv = partner_value(&c.vals, i);
        eddy_bytes_t key = eddy_bytes((const uint8_t *)pk.data + 9, (size_t)pk.len - 9);
        int left = ((const uint8_t *)pk.data)[8] != 0;
        /* delete first: the forward may flush this store */
        rc = st_store_put(shared->ts_store, pk, EDDY_NULL_BYTES, c.keys.p[i].ts);
        const uint8_t *p = pv.data, *end = p + (pv.len > 0 ? pv.len : 0);
        while (rc >= 0 && end - p >= 5) {
            int32_t len;
            eddy_int32_read(eddy_bytes(p, 4), &len);
            if (len < 1 || len > end - p - 4)
                break; /* not ours: nothing more to read */
            eddy_bytes_t v = eddy_bytes(p + 5, (size_t)len - 1);
            rc = forward_joined(tk, n, key, left ? v : EDDY_NULL_BYTES, left ? EDDY_NULL_BYTES : v,
                                c.keys.p[i].ts);
            p += 4 + len;
        }
    }
    eddy_buf_free(&c.keys.data);
    free(c.keys.p);
    eddy_buf_free(&c.vals.data);
    free(c.vals.p);
    return rc < 0 ? rc : 0;
}

static int join_lookup(sx_task_t *tk, const dsl_node_t *n, const sx_rec_t *r)
{
    sx_task_store_t *other = sx_task_store(tk, n->dn_other_store);
    sx_task_store_t *shared = n->dn_aux_store >= 0 ? sx_task_store(tk, n->dn_aux_store) : NULL;
    if (!other || !other->ts_window || (n->dn_aux_store >= 0 && (!shared || !shared->ts_store)))
        return -ENOENT;
    int rc = 0;
    if (shared && (rc = emit_closed(tk, n, shared)) < 0)
        return rc;
    const eddy_join_windows_t *w = &n->dn_join_windows;
    int left = n->dn_left_side;
    int64_t from = r->ts - (left ? w->jw_before : w->jw_after);
    int64_t to = r->ts + (left ? w->jw_after : w->jw_before);
    partners_t ps = {{0}, NULL, 0, 0, 0};
    rc = st_window_fetch(other->ts_window, r->key, from < 0 ? 0 : from, to, add_partner, &ps);
    if (rc >= 0 && ps.err)
        rc = ps.err;
    eddy_buf_t pk = {0};
    for (int i = 0; rc >= 0 && i < ps.n; i++) {
        if (shared) { /* the partner no longer waits for one */
            rc = pending_key(&pk, ps.p[i].ts, !left, r->key);
            if (rc >= 0)
                rc = st_store_put(shared->ts_store, eddy_buf_bytes(&pk), EDDY_NULL_BYTES, r->ts);
        }
        eddy_bytes_t pv = partner_value(&ps, i);
        int64_t ts = ps.p[i].ts > r->ts ? ps.p[i].ts : r->ts;
        if (rc >= 0)
            rc = forward_joined(tk, n, r->key, left ? r->value : pv, left ? pv : r->value, ts);
    }
    int keeps_unmatched = left ? n->dn_join_kind != DSL_JOIN_INNER
                               : n->dn_join_kind == DSL_JOIN_OUTER;
    if (rc >= 0 && ps.n == 0 && keeps_unmatched && shared) {
        /* appended to the records already waiting under this key, time and
         * side (the current value is borrowed until the put: copied first) */
        eddy_buf_t v = {0};
        eddy_bytes_t cur;
        uint8_t head[5];
        eddy_int32_write(head, (int32_t)(r->value.len > 0 ? r->value.len : 0) + 1);
        head[4] = left ? 1 : 0;
        rc = pending_key(&pk, r->ts, left, r->key);
        int got = rc >= 0 ? st_store_get(shared->ts_store, eddy_buf_bytes(&pk), &cur) : rc;
        if (got < 0 && got != -ENOENT)
            rc = got;
        if (rc >= 0 && got == 0 && cur.len > 0 && eddy_buf_set(&v, cur.data, (size_t)cur.len) < 0)
            rc = -ENOMEM;
        if (rc >= 0 &&
            (eddy_buf_append(&v, head, sizeof head) < 0 ||
             (r->value.len > 0 && eddy_buf_append(&v, r->value.data, (size_t)r->value.len) < 0)))
            rc = -ENOMEM;
        if (rc >= 0)
            rc = st_store_put(shared->ts_store, eddy_buf_bytes(&pk), eddy_buf_bytes(&v), r->ts);
        eddy_buf_free(&v);
    }
    eddy_buf_free(&pk);
    eddy_buf_free(&ps.data);
    free(ps.p);
    return rc < 0 ? rc : 0;
}

int sx_join_process(sx_task_t *tk, const dsl_node_t *n, const sx_rec_t *r)
{
    if (r->key.len < 0 || r->value.len < 0)
        return 0; /* Kafka drops them from stream-stream joins */
    if (n->dn_kind == DSL_STREAM_JOIN_WINDOW)
        return buffer_record(tk, n, r);
    return join_lookup(tk, n, r);
}

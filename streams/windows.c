/* Windowed aggregations: time (tumbling, hopping), sliding and session
 * windows, as Kafka Streams' KStreamWindowAggregate,
 * KStreamSlidingWindowAggregate and KStreamSessionWindowAggregate compute
 * them, over the window and session stores of state/window.h.
 *
 * Values. A window's or session's stored value is its aggregate prefixed
 * by the largest timestamp of the records in it (a timestamped store, see
 * SX_TS_PREFIX), which becomes the timestamp of the results.
 *
 * Time. The task's stream time (largest timestamp seen) closes windows: a
 * window [start, end) closes when end <= stream time - grace (sessions: when
 * end < stream time - grace, as Kafka). A record whose windows are all
 * closed is dropped and counted (sx_task_late), per window as Kafka counts.
 *
 * Emission. Changes go downstream from the store's cache flush (repeated
 * updates between commits collapse), with windowed keys: key + 8-byte start
 * (time, sliding), key + 8-byte end + 8-byte start (session). An
 * aggregation with dn_emit_final forwards nothing on update; instead, each
 * record that advances stream time first emits the windows it closed (those
 * not emitted before: ts_emitted_upto, kept with the state), once each.
 *
 * Sliding windows are defined by the records (Kafka's SlidingWindows): for
 * each record at t, its left window [t - d, t] (clamped at 0) and, when a
 * record lies in (t, t + d], its right window [t + 1, t + 1 + d]; each
 * window's value is the aggregate of the records it covers. The records
 * themselves are kept in a second window store (dn_aux_store), so a new
 * window is aggregated from the records it covers; existing windows
 * containing t are updated incrementally.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/err.h"
#include "streams/streams_int.h"

/* ---- values ---- */

static eddy_bytes_t strip(eddy_bytes_t v)
{
    int64_t ts;
    eddy_bytes_t agg;
    return sx_ts_split(v, &ts, &agg) == 0 ? agg : EDDY_NULL_BYTES;
}

/* The next aggregate from agg (null: none yet) and value, into out. */
static int agg_step(const dsl_node_t *n, eddy_bytes_t key, eddy_bytes_t value, eddy_bytes_t agg,
                    eddy_buf_t *out)
{
    out->len = 0;
    switch (n->dn_agg_kind) {
    case DSL_AGG_COUNT: {
        int64_t c = 0;
        if (agg.len >= 0)
            eddy_int64_read(agg, &c);
        uint8_t num[8];
        eddy_int64_write(num, c + 1);
        return eddy_buf_set(out, num, 8) < 0 ? -ENOMEM : 0;
    }
    case DSL_AGG_REDUCE:
        if (agg.len < 0)
            return eddy_buf_set(out, value.data, value.len > 0 ? (size_t)value.len : 0) < 0
                       ? -ENOMEM
                       : 0;
        n->dn_adder(key, value, agg, out, n->dn_opaque);
        return sx_task_user_failed() ? EDDY_ERR_PROCESSING : 0;
    default: {
        eddy_buf_t init = {0};
        if (agg.len < 0) {
            n->dn_init(&init, n->dn_opaque);
            agg = eddy_buf_bytes(&init);
        }
        n->dn_adder(key, value, agg, out, n->dn_opaque);
        eddy_buf_free(&init);
        return sx_task_user_failed() ? EDDY_ERR_PROCESSING : 0;
    }
    }
}

/* Merges a session's aggregate into the merged one (null: none yet). */
static int agg_merge(const dsl_node_t *n, eddy_bytes_t key, eddy_bytes_t session_agg,
                     eddy_bytes_t merged, eddy_buf_t *out)
{
    out->len = 0;
    if (merged.len < 0 && n->dn_agg_kind != DSL_AGG_AGGREGATE)
        return eddy_buf_set(out, session_agg.data,
                            session_agg.len > 0 ? (size_t)session_agg.len : 0) < 0
                   ? -ENOMEM
                   : 0;
    switch (n->dn_agg_kind) {
    case DSL_AGG_COUNT: {
        int64_t a = 0, b = 0;
        eddy_int64_read(session_agg, &a);
        eddy_int64_read(merged, &b);
        uint8_t num[8];
        eddy_int64_write(num, a + b);
        return eddy_buf_set(out, num, 8) < 0 ? -ENOMEM : 0;
    }
    case DSL_AGG_REDUCE:
        n->dn_merger(key, session_agg, merged, out, n->dn_opaque);
        return sx_task_user_failed() ? EDDY_ERR_PROCESSING : 0;
    default: {
        eddy_buf_t init = {0};
        if (merged.len < 0) {
            n->dn_init(&init, n->dn_opaque);
            merged = eddy_buf_bytes(&init);
        }
        n->dn_merger(key, session_agg, merged, out, n->dn_opaque);
        eddy_buf_free(&init);
        return sx_task_user_failed() ? EDDY_ERR_PROCESSING : 0;
    }
    }
}

/* ---- the forward path ---- */

static int forward_windowed(sx_task_t *tk, const dsl_node_t *n, eddy_bytes_t wkey, eddy_bytes_t nv,
                            eddy_bytes_t ov, int64_t ts)
{
    sx_rec_t r = {wkey, nv, ov, ts};
    return sx_forward(tk, n, &r);
}

void sx_window_forward_change(sx_task_store_t *ts, eddy_bytes_t composite, eddy_bytes_t nv,
                              eddy_bytes_t ov, int64_t timestamp)
{
    sx_task_t *tk = ts->ts_task;
    eddy_bytes_t wkey = composite;
    if (ts->ts_kind == DSL_STORE_WINDOW) {
        /* key + start + 4-byte sequence number -> Kafka's key + start */
        if (composite.len < 12)
            return;
        wkey.len -= 4;
    }
    int64_t vts;
    eddy_bytes_t agg;
    if (nv.len >= 0 && sx_ts_split(nv, &vts, &agg) == 0)
        timestamp = vts;
    int rc = forward_windowed(tk, ts->ts_node, wkey, strip(nv), strip(ov), timestamp);
    if (rc < 0)
        tk->tk_failed = rc;
}

/* Results collected from a store scan, forwarded after it (forwarding may
 * write to stores). */
typedef struct collected {
    eddy_buf_t data;   /* windowed key, then value, per entry */
    struct centry {
        size_t off;
        int32_t klen, vlen;
        int64_t ts;
        int64_t start, end;
    } *e;
    int n, cap;
    int err;
} collected_t;

static int collect(collected_t *c, eddy_bytes_t k1, eddy_bytes_t k2, eddy_bytes_t v, int64_t ts,
                   int64_t start, int64_t end)
{
    if (c->n == c->cap) {
        int ncap = c->cap ? 2 * c->cap : 16;
        struct centry *ne = realloc(c->e, (size_t)ncap * sizeof *ne);
        if (!ne)
            return c->err = -ENOMEM;
        c->e = ne;
        c->cap = ncap;
    }
    struct centry *e = &c->e[c->n];
    e->off = c->data.len;
    e->klen = k1.len + (k2.len > 0 ? k2.len : 0);
    e->vlen = v.len;
    e->ts = ts;
    e->start = start;
    e->end = end;
    if ((k1.len > 0 && eddy_buf_append(&c->data, k1.data, (size_t)k1.len) < 0) ||
        (k2.len > 0 && eddy_buf_append(&c->data, k2.data, (size_t)k2.len) < 0) ||
        (v.len > 0 && eddy_buf_append(&c->data, v.data, (size_t)v.len) < 0))
        return c->err = -ENOMEM;
    c->n++;
    return 0;
}

static eddy_bytes_t ckey(const collected_t *c, int i)
{
    return eddy_bytes(c->data.data + c->e[i].off, (size_t)c->e[i].klen);
}

static eddy_bytes_t cval(const collected_t *c, int i)
{
    if (c->e[i].vlen < 0)
        return EDDY_NULL_BYTES;
    return eddy_bytes(c->data.data + c->e[i].off + c->e[i].klen, (size_t)c->e[i].vlen);
}

static void collected_free(collected_t *c)
{
    eddy_buf_free(&c->data);
    free(c->e);
}

/* A window scan's entry: the windowed key (key + start) and the value. */
static int collect_window(eddy_bytes_t key, int64_t start, eddy_bytes_t value, void *opaque)
{
    uint8_t be[8];
    eddy_int64_write(be, start);
    int64_t ts = -1;
    eddy_bytes_t agg = value;
    sx_ts_split(value, &ts, &agg);
    return collect(opaque, key, eddy_bytes(be, 8), value, ts, start, -1) < 0;
}

/* A session scan's entry: the windowed key (key + end + start), the value. */
static int collect_session(eddy_bytes_t key, int64_t start, int64_t end, eddy_bytes_t value,
                           void *opaque)
{
    uint8_t be[16];
    eddy_int64_write(be, end);
    eddy_int64_write(be + 8, start);
    int64_t ts = -1;
    eddy_bytes_t agg;
    sx_ts_split(value, &ts, &agg);
    return collect(opaque, key, eddy_bytes(be, 16), value, ts, start, end) < 0;
}

/* Stream time - grace: the one closing rule of every window kind. A time
 * or sliding window whose end is <= it is closed; a session whose end is < it
 * (as Kafka). */
static int64_t close_time(const sx_task_t *tk, const dsl_node_t *n)
{
    return tk->tk_stream_time - n->dn_windows.w_grace;
}

/* Emits, once, the windows of a final-results aggregation that stream time
 * has closed: time and sliding windows whose end (start + size) is <= stream
 * time - grace; sessions whose end is < stream time - grace. Called before
 * the store's retention drops them. */
static int emit_closed(sx_task_t *tk, sx_task_store_t *ts, const dsl_node_t *n)
{
    if (tk->tk_stream_time < 0)
        return 0;
    int64_t close = close_time(tk, n);
    int session = ts->ts_kind == DSL_STORE_SESSION;
    /* the largest start (sessions: end) that is closed */
    int64_t upto = session ? close - 1 : close - n->dn_windows.w_size;
    if (upto < 0 || upto <= ts->ts_emitted_upto)
        return 0;
    int64_t from = ts->ts_emitted_upto + 1;
    /* A scan reads every key of the segments in range: time windows start
     * at multiples of the advance, so only stream time crossing one needs
     * one (tumbling 1-minute windows: once a minute of stream time). */
    if (n->dn_windows.w_kind == EDDY_WINDOWS_TIME) {
        int64_t adv = n->dn_windows.w_advance;
        if ((from + adv - 1) / adv * adv > upto) {
            ts->ts_emitted_upto = upto;
            return 0;
        }
    }
    collected_t c = {0};
    int rc = session ? st_session_fetch_all(ts->ts_session, from, upto, collect_session, &c)
                     : st_window_fetch_all(ts->ts_window, from, upto, collect_window, &c);
    if (rc >= 0 && c.err)
        rc = c.err;
    for (int i = 0; rc >= 0 && i < c.n; i++)
        rc = forward_windowed(tk, n, ckey(&c, i), strip(cval(&c, i)), EDDY_NULL_BYTES, c.e[i].ts);
    collected_free(&c);
    if (rc >= 0)
        ts->ts_emitted_upto = upto;
    return rc < 0 ? rc : 0;
}

/* ---- time windows ---- */

/* Adds r to the window of key at start (creating it) in ts's store. */
static int window_add(sx_task_t *tk, sx_task_store_t *ts, const dsl_node_t *n, const sx_rec_t *r,
                      int64_t start)
{
    eddy_bytes_t cur, agg = EDDY_NULL_BYTES;
    int64_t maxts = r->ts, ots;
    int rc = st_window_get(ts->ts_window, r->key, start, &cur);
    if (rc < 0 && rc != -ENOENT)
        return rc;
    if (rc == 0 && sx_ts_split(cur, &ots, &agg) == 0 && ots > maxts)
        maxts = ots;
    /* agg is borrowed until the next write: agg_step writes nothing. The
     * aggregate is copied into tb before the put, whose hooks may come back
     * here and reuse tk_scratch. */
    sx_tsbuf_t tb = {.tb_heap = {0}};
    eddy_bytes_t val;
    rc = agg_step(n, r->key, r->value, agg, &tk->tk_scratch);
    if (rc == 0)
        rc = sx_ts_value(&tb, maxts, eddy_buf_bytes(&tk->tk_scratch), &val);
    if (rc == 0) {
        rc = st_window_put(ts->ts_window, r->key, start, val, maxts);
        if (rc == 1) { /* behind the store's retention */
            sx_task_late(tk, n, r, start, start + n->dn_windows.w_size);
            rc = 0;
        }
    }
    sx_tsbuf_free(&tb);
    return rc;
}

static int sliding_process(sx_task_t *tk, sx_task_store_t *ts, const dsl_node_t *n,
                           const sx_rec_t *r);

int sx_window_process(sx_task_t *tk, const dsl_node_t *n, const sx_rec_t *r)
{
    if (r->key.len < 0 || r->value.len < 0)
        return 0; /* Kafka skips null keys and values */
    sx_task_store_t *ts = sx_task_store(tk, n->dn_store);
    if (!ts || !ts->ts_window)
        return -ENOENT;
    int rc = 0;
    if (n->dn_emit_final && (rc = emit_closed(tk, ts, n)) < 0)
        return rc;
    if ((rc = st_window_advance(ts->ts_window, tk->tk_stream_time)) < 0)
        return rc;
    if (n->dn_windows.w_kind == EDDY_WINDOWS_SLIDING)
        return sliding_process(tk, ts, n, r);
    int64_t size = n->dn_windows.w_size, adv = n->dn_windows.w_advance;
    int64_t close = close_time(tk, n);
    int64_t first = r->ts - size + adv;
    first = (first < 0 ? 0 : first) / adv * adv;
    for (int64_t start = first; start <= r->ts && rc == 0; start += adv) {
        if (start + size <= close) {
            sx_task_late(tk, n, r, start, start + size);
            continue;
        }
        rc = window_add(tk, ts, n, r, start);
    }
    return rc;
}

/* ---- sliding windows ---- */

typedef struct starts {
    int64_t *v;
    int n, cap;
} starts_t;

static int starts_add(eddy_bytes_t key, int64_t start, eddy_bytes_t value, void *opaque)
{
    (void)key;
    (void)value;
    starts_t *s = opaque;
    if (s->n == s->cap) {
        int ncap = s->cap ? 2 * s->cap : 16;
        int64_t *nv = realloc(s->v, (size_t)ncap * sizeof *nv);
        if (!nv)
            return 1;
        s->v = nv;
        s->cap = ncap;
    }
    s->v[s->n++] = start;
    return 0;
}

static int starts_has(const starts_t *s, int64_t x)
{
    for (int i = 0; i < s->n; i++)
        if (s->v[i] == x)
            return 1;
    return 0;
}

/* Folds the records of key in [start, start + d] into a new window. */
typedef struct fold {
    const dsl_node_t *n;
    eddy_buf_t agg, tmp;
    int have;
    int64_t maxts;
    int err;
} fold_t;

static int fold_record(eddy_bytes_t key, int64_t t, eddy_bytes_t value, void *opaque)
{
    fold_t *f = opaque;
    f->err = agg_step(f->n, key, value, f->have ? eddy_buf_bytes(&f->agg) : EDDY_NULL_BYTES,
                      &f->tmp);
    if (f->err < 0)
        return 1;
    eddy_buf_t x = f->agg;
    f->agg = f->tmp;
    f->tmp = x;
    f->have = 1;
    if (t > f->maxts)
        f->maxts = t;
    return 0;
}

static int sliding_create(sx_task_t *tk, sx_task_store_t *ts, sx_task_store_t *raw,
                          const dsl_node_t *n, const sx_rec_t *r, int64_t start, starts_t *made)
{
    fold_t f = {n, {0}, {0}, 0, -1, 0};
    int rc = st_window_fetch(raw->ts_window, r->key, start, start + n->dn_windows.w_size,
                             fold_record, &f);
    if (rc >= 0 && f.err < 0)
        rc = f.err;
    if (rc >= 0 && f.have) {
        sx_tsbuf_t tb = {.tb_heap = {0}};
        eddy_bytes_t val;
        rc = sx_ts_value(&tb, f.maxts, eddy_buf_bytes(&f.agg), &val);
        if (rc == 0)
            rc = st_window_put(ts->ts_window, r->key, start, val, f.maxts);
        if (rc == 1)
            rc = 0; /* behind retention: nothing to create */
        sx_tsbuf_free(&tb);
        if (rc == 0 && starts_add(r->key, start, EDDY_NULL_BYTES, made))
            rc = -ENOMEM;
    }
    eddy_buf_free(&f.agg);
    eddy_buf_free(&f.tmp);
    return rc < 0 ? rc : 0;
}

typedef struct last_ts {
    int64_t t;
} last_ts_t;

static int note_last(eddy_bytes_t key, int64_t t, eddy_bytes_t value, void *opaque)
{
    (void)key;
    (void)value;
    ((last_ts_t *)opaque)->t = t;
    return 0;
}

static int sliding_process(sx_task_t *tk, sx_task_store_t *ts, const dsl_node_t *n,
                           const sx_rec_t *r)
{
    sx_task_store_t *raw = sx_task_store(tk, n->dn_aux_store);
    if (!raw || !raw->ts_window)
        return -ENOENT;
    int64_t d = n->dn_windows.w_size, t = r->ts;
    int64_t close = close_time(tk, n);
    int rc = st_window_advance(raw->ts_window, tk->tk_stream_time);
    if (rc < 0)
        return rc;
    if (t + 1 + d <= close) { /* even its right window is closed */
        sx_task_late(tk, n, r, t - d < 0 ? 0 : t - d, t + 1);
        return 0;
    }
    rc = st_window_put(raw->ts_window, r->key, t, r->value, t);
    if (rc < 0)
        return rc;
    starts_t have = {0}, made = {0};
    rc = st_window_fetch(ts->ts_window, r->key, t - 2 * d < 0 ? 0 : t - 2 * d, t + 1, starts_add,
                         &have);
    /* existing windows that contain t */
    for (int i = 0; rc >= 0 && i < have.n; i++) {
        int64_t s = have.v[i];
        if (s <= t && t <= s + d && s + d > close)
            rc = window_add(tk, ts, n, r, s);
    }
    /* t's left window */
    int64_t left = t - d < 0 ? 0 : t - d;
    if (rc >= 0 && !starts_has(&have, left) && left + d > close)
        rc = sliding_create(tk, ts, raw, n, r, left, &made);
    /* t's right window, when a record follows within d */
    if (rc >= 0 && !starts_has(&have, t + 1) && t + 1 + d > close) {
        last_ts_t after = {-1};
        rc = st_window_fetch(raw->ts_window, r->key, t + 1, t + d, note_last, &after);
        if (rc >= 0 && after.t >= 0)
            rc = sliding_create(tk, ts, raw, n, r, t + 1, &made);
    }
    /* the right window of the record before t, which now holds t */
    if (rc >= 0 && t > 0) {
        last_ts_t before = {-1};
        rc = st_window_fetch(raw->ts_window, r->key, t - d < 0 ? 0 : t - d, t - 1, note_last,
                             &before);
        int64_t s = before.t + 1;
        if (rc >= 0 && before.t >= 0 && !starts_has(&have, s) && !starts_has(&made, s) &&
            s + d > close)
            rc = sliding_create(tk, ts, raw, n, r, s, &made);
    }
    free(have.v);
    free(made.v);
    return rc < 0 ? rc : 0;
}

/* ---- session windows ---- */

int sx_session_process(sx_task_t *tk, const dsl_node_t *n, const sx_rec_t *r)
{
    if (r->key.len < 0 || r->value.len < 0)
        return 0;
    sx_task_store_t *ts = sx_task_store(tk, n->dn_store);
    if (!ts || !ts->ts_session)
        return -ENOENT;
    int rc = 0;
    if (n->dn_emit_final && (rc = emit_closed(tk, ts, n)) < 0)
        return rc;
    if ((rc = st_session_advance(ts->ts_session, tk->tk_stream_time)) < 0)
        return rc;
    int64_t gap = n->dn_windows.w_gap;
    int64_t close = close_time(tk, n);
    /* the sessions r bridges or extends: end >= t - gap, start <= t + gap */
    collected_t c = {0};
    /* sessions end at 0 or later: a record closer to 0 than the gap
     * looks back to 0 */
    rc = st_session_find(ts->ts_session, r->key, r->ts - gap < 0 ? 0 : r->ts - gap, r->ts + gap,
                         collect_session, &c);
    if (rc >= 0 && c.err)
        rc = c.err;
    int64_t start = r->ts, end = r->ts, maxts = r->ts;
    eddy_buf_t merged = {0}, tmp = {0};
    sx_tsbuf_t tb = {.tb_heap = {0}};
    int have = 0;
    for (int i = 0; rc >= 0 && i < c.n; i++) {
        int64_t sts;
        eddy_bytes_t sagg;
        if (sx_ts_split(cval(&c, i), &sts, &sagg) < 0)
            continue;
        if (c.e[i].start < start)
            start = c.e[i].start;
        if (c.e[i].end > end)
            end = c.e[i].end;
        if (sts > maxts)
            maxts = sts;
        rc = agg_merge(n, r->key, sagg, have ? eddy_buf_bytes(&merged) : EDDY_NULL_BYTES, &tmp);
        eddy_buf_t x = merged;
        merged = tmp;
        tmp = x;
        have = 1;
    }
    if (rc >= 0 && end < close) {
        sx_task_late(tk, n, r, start, end);
        goto out;
    }
    if (rc >= 0)
        rc = agg_step(n, r->key, r->value, have ? eddy_buf_bytes(&merged) : EDDY_NULL_BYTES, &tmp);
    /* the merged sessions go (their removal goes downstream as a tombstone
     * of each), the new one comes */
    for (int i = 0; rc >= 0 && i < c.n; i++)
        if (c.e[i].start != start || c.e[i].end != end)
            rc = st_session_put(ts->ts_session, r->key, c.e[i].start, c.e[i].end, EDDY_NULL_BYTES,
                                maxts);
    eddy_bytes_t val;
    if (rc >= 0)
        rc = sx_ts_value(&tb, maxts, eddy_buf_bytes(&tmp), &val);
    if (rc >= 0) {
        rc = st_session_put(ts->ts_session, r->key, start, end, val, maxts);
        if (rc == 1) {
            sx_task_late(tk, n, r, start, end);
            rc = 0;
        }
    }
out:
    collected_free(&c);
    eddy_buf_free(&merged);
    eddy_buf_free(&tmp);
    sx_tsbuf_free(&tb);
    return rc < 0 ? rc : 0;
}

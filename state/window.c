/* Window and session stores: time segments of key-value stores.
 *
 * One core (struct st_window_store) serves both kinds; they differ only in
 * the suffix of the LMDB key and in which timestamp picks the segment:
 *
 *   window   key | window start (8, BE) | seqnum (4, BE)       by start
 *   session  key | session end (8, BE)  | session start (8, BE) by end
 *
 * Segments sit in w_segs by ascending start. A segment for time t starts at
 * t - t % segment_ms; it is a store of the environment (state/store.c)
 * named "<store>.<start>", created on the first put or restore into it and
 * dropped (st_store_drop) once start + segment_ms <= stream time -
 * retention. window.h describes the rules; docs/state.md the reasons.
 *
 * Views into LMDB. Creating or dropping a segment commits the environment's
 * open transaction, which ends any view into LMDB a caller may pass as a
 * key or value (a get's result, a fetch callback's arguments): puts and
 * restores copy the composite key to a buffer of their own (the stack, or
 * the heap past CKEY_STACK bytes: keys have any length) and, when a segment
 * is about to change, the value into w_val, before anything else.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "state/state_int.h"
#include "state/window.h"

#define WIN_SUFFIX 12
#define SES_SUFFIX 16
/* Composite keys are built on the stack up to this size, else on the heap. */
#define CKEY_STACK 512
#define SEQ_MAX 0x7fffffffu
#define SEGMENT_MS_MIN_DEFAULT 60000

enum { KIND_WINDOW, KIND_SESSION };

typedef struct win_seg {
    int64_t sg_start;
    st_store_t *sg_store;
} win_seg_t;

struct st_window_store {
    st_env_t *w_env;
    char *w_name;
    int w_kind;
    size_t w_suffix; /* WIN_SUFFIX or SES_SUFFIX */
    int64_t w_retention;
    int64_t w_seg_ms;
    int w_dups;
    st_store_hooks_t w_hooks;
    int64_t w_stream_time; /* -1: unknown, nothing expires */
    win_seg_t *w_segs;     /* ascending start */
    int w_nsegs;
    int w_segs_cap;
    size_t w_cache_limit; /* the whole store's */
    uint32_t w_seq;       /* the last seqnum handed out (duplicates) */
    int w_iter;           /* fetches running: drops wait */
    uint8_t *w_val;       /* a put's value, copied across a segment change */
    size_t w_val_cap;
};

struct st_session_store {
    st_window_store_t s_w;
};

/* Checks a record key: 0, or EDDY_ERR_INVALID_ARG (null). Any length
 * goes (state/keys.c), as long as the composite key fits an int32. */
static int check_key(const st_window_store_t *w, eddy_bytes_t key)
{
    if (eddy_bytes_is_null(key) || (key.len > 0 && !key.data))
        return EDDY_ERR_INVALID_ARG;
    if ((size_t)key.len > (size_t)INT32_MAX - w->w_suffix)
        return EDDY_ERR_TOO_LARGE;
    return 0;
}

/* A composite key's buffer: the stack for the usual sizes, the heap past. */
typedef struct ckbuf {
    uint8_t cb_stack[CKEY_STACK];
    uint8_t *cb_p;
} ckbuf_t;

static uint8_t *ck_alloc(ckbuf_t *b, size_t n)
{
    b->cb_p = n <= sizeof b->cb_stack ? b->cb_stack : malloc(n);
    return b->cb_p;
}

static void ck_release(ckbuf_t *b)
{
    if (b->cb_p != b->cb_stack)
        free(b->cb_p);
}

/* Writes key | a | b into buf (window: b is the seqnum, 4 bytes; session:
 * 8). Returns the length. The caller checked the key. */
static size_t ckey_build(const st_window_store_t *w, uint8_t *buf, eddy_bytes_t key, int64_t a,
                         int64_t b)
{
    size_t n = (size_t)key.len;
    if (n)
        memcpy(buf, key.data, n);
    be64_store(buf + n, (uint64_t)a);
    if (w->w_kind == KIND_WINDOW)
        be32_store(buf + n + 8, (uint32_t)b);
    else
        be64_store(buf + n + 8, (uint64_t)b);
    return n + w->w_suffix;
}

/* ---- segments --------------------------------------------------------------- */

int64_t st_window_segment_ms(int64_t retention_ms, int64_t segment_ms)
{
    if (segment_ms > 0)
        return segment_ms;
    return retention_ms / 2 > SEGMENT_MS_MIN_DEFAULT ? retention_ms / 2 : SEGMENT_MS_MIN_DEFAULT;
}

int st_window_max_segments(int64_t retention_ms, int64_t segment_ms)
{
    if (retention_ms < 0)
        retention_ms = 0;
    segment_ms = st_window_segment_ms(retention_ms, segment_ms);
    int64_t n = retention_ms / segment_ms + 2;
    return n > 1000000 ? 1000000 : (int)n;
}

static int64_t seg_start_of(const st_window_store_t *w, int64_t t)
{
    return t - t % w->w_seg_ms;
}

/* Index of the segment starting at start, or -(insertion point) - 1. */
static int seg_find(const st_window_store_t *w, int64_t start)
{
    int lo = 0, hi = w->w_nsegs;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (w->w_segs[mid].sg_start < start)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < w->w_nsegs && w->w_segs[lo].sg_start == start)
        return lo;
    return -lo - 1;
}

static int seg_insert(st_window_store_t *w, int at, int64_t start, st_store_t *store)
{
    if (w->w_nsegs == w->w_segs_cap) {
        int cap = w->w_segs_cap ? w->w_segs_cap * 2 : 8;
        win_seg_t *p = realloc(w->w_segs, (size_t)cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        w->w_segs = p;
        w->w_segs_cap = cap;
    }
    memmove(&w->w_segs[at + 1], &w->w_segs[at], (size_t)(w->w_nsegs - at) * sizeof *w->w_segs);
    w->w_segs[at] = (win_seg_t){start, store};
    w->w_nsegs++;
    return 0;
}

/* Divides the cache budget among the live segments. */
static void cache_rebalance(st_window_store_t *w)
{
    size_t each = w->w_nsegs ? w->w_cache_limit / (size_t)w->w_nsegs : 0;
    for (int i = 0; i < w->w_nsegs; i++)
        st_store_set_cache_limit(w->w_segs[i].sg_store, each);
}

/* Set while one of the store's segments runs its hooks. */
static int win_busy(const st_window_store_t *w)
{
    for (int i = 0; i < w->w_nsegs; i++)
        if (w->w_segs[i].sg_store->ss_flushing)
            return 1;
    return 0;
}

/* The oldest segment time still visible: stream time - retention (none
 * before any stream time). The one place the retention rule lives. */
static int64_t oldest_live(const st_window_store_t *w)
{
    return w->w_stream_time >= 0 ? w->w_stream_time - w->w_retention : INT64_MIN;
}

static int expired(const st_window_store_t *w, int64_t t)
{
    return t < oldest_live(w);
}

/* Whether the oldest segment is wholly expired at stream time st. */
static int drop_due(const st_window_store_t *w, int64_t st)
{
    if (!w->w_nsegs || st < 0)
        return 0;
    int64_t limit = st - w->w_retention;
    return limit >= 0 && w->w_segs[0].sg_start <= limit - w->w_seg_ms;
}

/* Drops the segments wholly expired (not while a fetch runs, nor from the
 * store's own hooks: they wait for the next call). */
static int drop_expired(st_window_store_t *w)
{
    if (w->w_iter || !drop_due(w, w->w_stream_time) || win_busy(w))
        return 0;
    int err = 0;
    while (drop_due(w, w->w_stream_time)) {
        win_seg_t g = w->w_segs[0];
        EDDY_LOG_DEBUG(ST_FAC,
                       "state dir %s: %s: dropping segment %" PRId64 " (stream time %" PRId64
                       ", retention %" PRId64 " ms)",
                       w->w_env->se_dir, w->w_name, g.sg_start, w->w_stream_time, w->w_retention);
        /* What its cache holds still goes to the hooks first (downstream
         * and the changelog), as Kafka's caching layer forwards updates of
         * windows that expire before the cache flushes. */
        int e = st_store_flush(g.sg_store);
        if (e < 0)
            return e;
        /* The store is gone even when the drop fails (logged there). */
        e = st_store_drop(g.sg_store);
        memmove(&w->w_segs[0], &w->w_segs[1], (size_t)(w->w_nsegs - 1) * sizeof *w->w_segs);
        w->w_nsegs--;
        if (e) {
            err = e;
            break;
        }
    }
    cache_rebalance(w);
    return err;
}

/* Stream time moves to t when later; expired segments go. */
static int observe(st_window_store_t *w, int64_t t)
{
    if (t > w->w_stream_time)
        w->w_stream_time = t;
    return drop_expired(w);
}

/* The segment for time t: 0 and *out, -ENOENT when it does not exist and
 * !create, or an error. */
static int seg_get(st_window_store_t *w, int64_t t, int create, st_store_t **out)
{
    int64_t start = seg_start_of(w, t);
    int i = seg_find(w, start);
    if (i >= 0) {
        *out = w->w_segs[i].sg_store;
        return 0;
    }
    if (!create)
        return -ENOENT;
    char name[600], errstr[512];
    snprintf(name, sizeof name, "%s.%" PRId64, w->w_name, start);
    st_store_t *s;
    int err = st_store_open_any(w->w_env, name, &w->w_hooks, &s, errstr, sizeof errstr);
    if (err) {
        EDDY_LOG_ERROR(ST_FAC, "%s%s", errstr,
                       err == EDDY_ERR_TOO_LARGE
                           ? " (count st_window_max_segments() stores for each window or session "
                             "store in st_env_open's max_stores)"
                           : "");
        return err;
    }
    if ((err = seg_insert(w, -i - 1, start, s))) {
        st_store_detach(s);
        return err;
    }
    cache_rebalance(w);
    *out = s;
    return 0;
}

/* Copies value into w_val when a put at segment time t is about to create
 * or drop a segment (which ends views into LMDB). */
static int value_guard(st_window_store_t *w, int64_t t, eddy_bytes_t *value)
{
    int64_t st = t > w->w_stream_time ? t : w->w_stream_time;
    if (eddy_bytes_is_null(*value) || value->len == 0)
        return 0;
    if (!drop_due(w, st) && seg_find(w, seg_start_of(w, t)) >= 0)
        return 0;
    if ((size_t)value->len > w->w_val_cap) {
        uint8_t *p = realloc(w->w_val, (size_t)value->len);
        if (!p)
            return -ENOMEM;
        w->w_val = p;
        w->w_val_cap = (size_t)value->len;
    }
    memcpy(w->w_val, value->data, (size_t)value->len);
    value->data = w->w_val;
    return 0;
}

/* ---- open, close ------------------------------------------------------------ */

/* The starts of the segments of w found in the environment (the named
 * databases "<name>.<digits>" of its main database): 0 and a malloc'd
 * sorted array, or an error. */
static int discover(st_window_store_t *w, int64_t **starts, int *n)
{
    st_env_t *env = w->w_env;
    *starts = NULL;
    *n = 0;
    int err = st_env_txn(env, 0);
    if (err)
        return err;
    MDB_dbi main_dbi;
    int rc = mdb_dbi_open(env->se_txn, NULL, 0, &main_dbi);
    MDB_cursor *cur = NULL;
    if (rc == 0)
        rc = mdb_cursor_open(env->se_txn, main_dbi, &cur);
    if (rc)
        return st_env_fail(env, rc, "listing the databases");
    size_t plen = strlen(w->w_name) + 1;
    char prefix[600];
    snprintf(prefix, sizeof prefix, "%s.", w->w_name);
    MDB_val k = {plen, prefix}, v;
    int cap = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
            break;
        const char *d = (const char *)k.mv_data + plen;
        size_t dn = k.mv_size - plen;
        if (dn == 0 || dn > 18)
            continue; /* not one of ours ("w.x", or a number we never write) */
        int64_t t = 0;
        size_t i = 0;
        for (; i < dn && d[i] >= '0' && d[i] <= '9'; i++)
            t = t * 10 + (d[i] - '0');
        if (i < dn)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            int64_t *p = realloc(*starts, (size_t)cap * sizeof *p);
            if (!p) {
                err = -ENOMEM;
                break;
            }
            *starts = p;
        }
        (*starts)[(*n)++] = t;
    }
    mdb_cursor_close(cur);
    if (!err && rc && rc != MDB_NOTFOUND)
        err = st_env_fail(env, rc, "listing the databases");
    if (err) {
        free(*starts);
        *starts = NULL;
        *n = 0;
        return err;
    }
    if (*n > 1)
        qsort(*starts, (size_t)*n, sizeof **starts, cmp_i64);
    return 0;
}

static st_window_store_t *core_open(st_env_t *env, const char *name, int kind, int64_t retention_ms,
                                    int64_t segment_ms, int dups, const st_store_hooks_t *hooks,
                                    char *errstr, size_t errstr_size)
{
    const char *what = kind == KIND_WINDOW ? "window store" : "session store";
    /* "<name>.<start>" must fit LMDB's key limit (the main database's keys). */
    if (!name || !*name || strlen(name) + 20 > env->se_max_key || strlen(name) > 500) {
        snprintf(errstr, errstr_size, "state dir %s: \"%s\" cannot name a %s (1 to %zu bytes)",
                 env->se_dir, name ? name : "(null)", what,
                 env->se_max_key - 20 < 500 ? env->se_max_key - 20 : 500);
        return NULL;
    }
    if (retention_ms < 0 || segment_ms < 0) {
        snprintf(errstr, errstr_size,
                 "state dir %s: %s %s: retention (%" PRId64 " ms) and "
                 "segment interval (%" PRId64 " ms) must not be negative",
                 env->se_dir, what, name, retention_ms, segment_ms);
        return NULL;
    }
    if (env->se_busy) {
        snprintf(errstr, errstr_size, "state dir %s: %s %s cannot be opened from a store hook",
                 env->se_dir, what, name);
        return NULL;
    }
    st_window_store_t *w = calloc(1, kind == KIND_WINDOW ? sizeof *w
                                                         : sizeof(struct st_session_store));
    if (!w || !(w->w_name = strdup(name))) {
        free(w);
        snprintf(errstr, errstr_size, "state dir %s: out of memory", env->se_dir);
        return NULL;
    }
    w->w_env = env;
    w->w_kind = kind;
    w->w_suffix = kind == KIND_WINDOW ? WIN_SUFFIX : SES_SUFFIX;
    w->w_retention = retention_ms;
    w->w_seg_ms = st_window_segment_ms(retention_ms, segment_ms);
    w->w_dups = dups ? 1 : 0;
    w->w_stream_time = -1;
    if (hooks)
        w->w_hooks = *hooks;

    int64_t *starts = NULL;
    int nstarts = 0;
    int err = discover(w, &starts, &nstarts);
    if (err) {
        snprintf(errstr, errstr_size, "state dir %s: %s %s: cannot list its segments: %s",
                 env->se_dir, what, name, eddy_strerror(err));
        goto fail;
    }
    for (int i = 0; i < nstarts; i++)
        if (starts[i] % w->w_seg_ms) {
            snprintf(errstr, errstr_size,
                     "state dir %s: %s %s: segment %s.%" PRId64 " does not "
                     "start at a multiple of the segment interval %" PRId64 " ms: the store was "
                     "written with another interval or retention; wipe the task's state (it is "
                     "restored from the changelog)",
                     env->se_dir, what, name, name, starts[i], w->w_seg_ms);
            goto fail;
        }
    int need = st_window_max_segments(w->w_retention, w->w_seg_ms);
    if (nstarts > need)
        need = nstarts;
    if (env->se_max_stores - env->se_nstores < need) {
        snprintf(errstr, errstr_size,
                 "state dir %s: %s %s needs room for %d segments, but the "
                 "environment has %d free store slots; count st_window_max_segments() stores "
                 "for each window or session store in st_env_open's max_stores",
                 env->se_dir, what, name, need, env->se_max_stores - env->se_nstores);
        goto fail;
    }
    for (int i = 0; i < nstarts; i++) {
        char sname[600];
        snprintf(sname, sizeof sname, "%s.%" PRId64, name, starts[i]);
        st_store_t *s;
        if ((err = st_store_open_any(env, sname, &w->w_hooks, &s, errstr, errstr_size)))
            goto fail;
        if ((err = seg_insert(w, w->w_nsegs, starts[i], s))) {
            st_store_detach(s);
            snprintf(errstr, errstr_size, "state dir %s: out of memory", env->se_dir);
            goto fail;
        }
    }
    free(starts);
    starts = NULL;
    /* Stream time reached at least the newest segment's start before. */
    if (w->w_nsegs && (err = observe(w, w->w_segs[w->w_nsegs - 1].sg_start))) {
        snprintf(errstr, errstr_size, "state dir %s: %s %s: dropping expired segments: %s",
                 env->se_dir, what, name, eddy_strerror(err));
        goto fail;
    }
    return w;

fail:
    free(starts);
    for (int i = 0; i < w->w_nsegs; i++)
        st_store_detach(w->w_segs[i].sg_store);
    free(w->w_segs);
    free(w->w_name);
    free(w);
    return NULL;
}

static void core_close(st_window_store_t *w)
{
    if (!w)
        return;
    free(w->w_segs);
    free(w->w_val);
    free(w->w_name);
    free(w);
}

/* ---- the core's operations ------------------------------------------------- */

static void core_set_cache_limit(st_window_store_t *w, size_t bytes)
{
    w->w_cache_limit = bytes;
    cache_rebalance(w);
}

static int core_advance(st_window_store_t *w, int64_t t)
{
    if (t < 0)
        return -EINVAL;
    if (win_busy(w))
        return -EBUSY;
    return observe(w, t);
}

static int core_flush(st_window_store_t *w)
{
    if (win_busy(w))
        return -EBUSY;
    for (int i = 0; i < w->w_nsegs; i++) {
        int err = st_store_flush(w->w_segs[i].sg_store);
        if (err)
            return err;
    }
    return 0;
}

static int64_t core_count(st_window_store_t *w)
{
    int64_t n = 0;
    for (int i = 0; i < w->w_nsegs; i++) {
        int64_t c = st_store_count(w->w_segs[i].sg_store);
        if (c < 0)
            return c;
        n += c;
    }
    return n;
}

/* The largest seqnum LMDB holds for ck's key and window (ck's seqnum
 * ignored), 0 when none: a reopened store must not overwrite duplicates
 * written before. One seek for the last key <= ck with seqnum 2^32 - 1. */
static int dup_max_seq(st_window_store_t *w, st_store_t *seg, uint8_t *ck, size_t cklen,
                       uint32_t *max)
{
    st_env_t *env = w->w_env;
    *max = 0;
    int err = st_env_txn(env, 0);
    if (err)
        return err;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(env->se_txn, seg->ss_dbi, &cur);
    if (rc)
        return st_env_fail(env, rc, "looking up duplicates");
    be32_store(ck + cklen - 4, UINT32_MAX);
    st_kcur_t kc;
    st_kcur_init(&kc, env, cur);
    rc = st_kcur_seek_le(&kc, (eddy_bytes_t){ck, (int32_t)cklen});
    if (rc == 0 && (size_t)kc.kc_key.len == cklen && memcmp(kc.kc_key.data, ck, cklen - 4) == 0)
        *max = be32_load((const uint8_t *)kc.kc_key.data + cklen - 4);
    mdb_cursor_close(cur);
    st_kcur_free(&kc);
    if (rc && rc != MDB_NOTFOUND)
        return st_env_fail(env, rc, "looking up duplicates");
    return 0;
}

/* A put of the composite key ck (in the caller's stack buffer) whose
 * segment time is t. */
static int core_put(st_window_store_t *w, uint8_t *ck, size_t cklen, int64_t t, eddy_bytes_t value,
                    int64_t ts)
{
    if (win_busy(w)) {
        EDDY_LOG_ERROR(ST_FAC, "%s: put from the store's own hook refused", w->w_name);
        return -EBUSY;
    }
    int err = value_guard(w, t, &value);
    if (err || (err = observe(w, t)))
        return err;
    if (expired(w, t))
        return 1;
    st_store_t *seg;
    if ((err = seg_get(w, t, 1, &seg)))
        return err;
    if (w->w_dups) {
        uint32_t max;
        if ((err = dup_max_seq(w, seg, ck, cklen, &max)))
            return err;
        uint64_t seq = (uint64_t)w->w_seq + 1;
        if ((uint64_t)max + 1 > seq)
            seq = (uint64_t)max + 1;
        if (seq > SEQ_MAX)
            seq = 1; /* Kafka's wrap; a put past it may replace an old duplicate */
        w->w_seq = (uint32_t)seq;
        be32_store(ck + cklen - 4, (uint32_t)seq);
    }
    return st_store_put(seg, (eddy_bytes_t){ck, (int32_t)cklen}, value, ts);
}

static int core_restore(st_window_store_t *w, eddy_bytes_t ckey, int64_t t, eddy_bytes_t value)
{
    if (win_busy(w))
        return -EBUSY;
    ckbuf_t cb;
    uint8_t *ck = ck_alloc(&cb, (size_t)ckey.len);
    if (!ck)
        return -ENOMEM;
    memcpy(ck, ckey.data, (size_t)ckey.len);
    int err = value_guard(w, t, &value);
    if (!err)
        err = observe(w, t);
    st_store_t *seg = NULL;
    if (!err && expired(w, t))
        err = 1;
    if (!err)
        err = seg_get(w, t, 1, &seg);
    if (!err)
        err = st_store_restore(seg, (eddy_bytes_t){ck, ckey.len}, value);
    ck_release(&cb);
    return err;
}

/* ---- reads -------------------------------------------------------------------- */

typedef struct scan {
    const st_window_store_t *sc_w;
    const uint8_t *sc_key; /* NULL: every key */
    size_t sc_klen;
    int64_t sc_from, sc_to;  /* segment time (window start, session end) */
    int64_t sc_latest_start; /* sessions only */
    st_window_fn *sc_wfn;
    st_session_fn *sc_sfn;
    void *sc_opaque;
    int sc_stopped;
} scan_t;

static int scan_hit(eddy_bytes_t k, eddy_bytes_t v, void *opaque)
{
    scan_t *sc = opaque;
    size_t suffix = sc->sc_w->w_suffix;
    if ((size_t)k.len < suffix)
        return 0; /* not a key this store writes */
    size_t klen = (size_t)k.len - suffix;
    const uint8_t *p = k.data;
    /* A range over key "a" also meets "a\0x"...: check the key part. */
    if (sc->sc_key && (klen != sc->sc_klen || memcmp(p, sc->sc_key, klen) != 0))
        return 0;
    int64_t t = (int64_t)be64_load(p + klen);
    if (t < sc->sc_from || t > sc->sc_to)
        return 0;
    eddy_bytes_t key = {klen ? p : (const void *)"", (int32_t)klen};
    int stop;
    if (sc->sc_wfn) {
        stop = sc->sc_wfn(key, t, v, sc->sc_opaque);
    } else {
        int64_t start = (int64_t)be64_load(p + klen + 8);
        if (start > sc->sc_latest_start)
            return 0;
        stop = sc->sc_sfn(key, start, t, v, sc->sc_opaque);
    }
    if (stop)
        sc->sc_stopped = 1;
    return stop;
}

/* Runs a scan over the segments that may hold segment times in [from, to],
 * with the LMDB key range [lo, hi] (null: open) in each. */
static int core_scan(st_window_store_t *w, scan_t *sc, eddy_bytes_t lo, eddy_bytes_t hi)
{
    /* Expired records are no longer visible, though their segment may live. */
    if (expired(w, sc->sc_from))
        sc->sc_from = oldest_live(w);
    if (sc->sc_from > sc->sc_to)
        return 0;
    /* The segments as they are now: a callback's put may add one (not
     * visited); drops wait for the end of the scan (w_iter). */
    int n = 0;
    st_store_t **segs = malloc(((size_t)w->w_nsegs + 1) * sizeof *segs);
    if (!segs)
        return -ENOMEM;
    for (int i = 0; i < w->w_nsegs; i++) {
        int64_t s = w->w_segs[i].sg_start;
        if (s <= sc->sc_to && s > sc->sc_from - w->w_seg_ms)
            segs[n++] = w->w_segs[i].sg_store;
    }
    int err = 0;
    w->w_iter++;
    for (int i = 0; i < n && !err && !sc->sc_stopped; i++)
        err = st_store_range(segs[i], lo, hi, scan_hit, sc);
    w->w_iter--;
    free(segs);
    int derr = observe(w, w->w_stream_time); /* drops that waited */
    return err ? err : derr;
}

static int core_fetch_key(st_window_store_t *w, scan_t *sc, eddy_bytes_t key, int64_t hi_a,
                          int64_t hi_b)
{
    size_t n = (size_t)key.len + w->w_suffix;
    ckbuf_t lb, hb;
    uint8_t *lo = ck_alloc(&lb, n), *hi = ck_alloc(&hb, n);
    int err = -ENOMEM;
    if (lo && hi) {
        ckey_build(w, lo, key, sc->sc_from < 0 ? 0 : sc->sc_from, 0);
        ckey_build(w, hi, key, hi_a, hi_b);
        sc->sc_key = lo;
        sc->sc_klen = (size_t)key.len;
        err = core_scan(w, sc, (eddy_bytes_t){lo, (int32_t)n}, (eddy_bytes_t){hi, (int32_t)n});
    }
    if (lo)
        ck_release(&lb);
    if (hi)
        ck_release(&hb);
    return err;
}

/* ---- window stores ---------------------------------------------------------------- */

st_window_store_t *st_window_open(st_env_t *env, const char *name, int64_t retention_ms,
                                  int64_t segment_ms, int retain_duplicates,
                                  const st_store_hooks_t *hooks, char *errstr, size_t errstr_size)
{
    return core_open(env, name, KIND_WINDOW, retention_ms, segment_ms, retain_duplicates, hooks,
                     errstr, errstr_size);
}

const char *st_window_name(const st_window_store_t *w)
{
    return w->w_name;
}

void st_window_set_cache_limit(st_window_store_t *w, size_t bytes)
{
    core_set_cache_limit(w, bytes);
}

int st_window_advance(st_window_store_t *w, int64_t stream_time)
{
    return core_advance(w, stream_time);
}

int64_t st_window_stream_time(const st_window_store_t *w)
{
    return w->w_stream_time;
}

int st_window_segments(const st_window_store_t *w)
{
    return w->w_nsegs;
}

int st_window_put(st_window_store_t *w, eddy_bytes_t key, int64_t window_start, eddy_bytes_t value,
                  int64_t timestamp)
{
    int err = check_key(w, key);
    if (err)
        return err;
    if (window_start < 0)
        return -EINVAL;
    if (w->w_dups && eddy_bytes_is_null(value))
        return 0; /* Kafka: a null with duplicates is ignored */
    ckbuf_t cb;
    uint8_t *ck = ck_alloc(&cb, (size_t)key.len + w->w_suffix);
    if (!ck)
        return -ENOMEM;
    size_t n = ckey_build(w, ck, key, window_start, 0);
    err = core_put(w, ck, n, window_start, value, timestamp);
    ck_release(&cb);
    return err;
}

int st_window_get(st_window_store_t *w, eddy_bytes_t key, int64_t window_start, eddy_bytes_t *value)
{
    int err = check_key(w, key);
    if (err)
        return err;
    if (window_start < 0 || w->w_dups)
        return -EINVAL;
    if (expired(w, window_start))
        return -ENOENT;
    st_store_t *seg;
    if ((err = seg_get(w, window_start, 0, &seg)))
        return err;
    ckbuf_t cb;
    uint8_t *ck = ck_alloc(&cb, (size_t)key.len + w->w_suffix);
    if (!ck)
        return -ENOMEM;
    size_t n = ckey_build(w, ck, key, window_start, 0);
    err = st_store_get(seg, (eddy_bytes_t){ck, (int32_t)n}, value);
    ck_release(&cb);
    return err;
}

int st_window_fetch(st_window_store_t *w, eddy_bytes_t key, int64_t time_from, int64_t time_to,
                    st_window_fn *fn, void *opaque)
{
    int err = check_key(w, key);
    if (err)
        return err;
    if (time_from < 0 || time_to < 0)
        return -EINVAL;
    scan_t sc = {
        .sc_w = w, .sc_from = time_from, .sc_to = time_to, .sc_wfn = fn, .sc_opaque = opaque};
    return core_fetch_key(w, &sc, key, time_to, UINT32_MAX);
}

int st_window_fetch_all(st_window_store_t *w, int64_t time_from, int64_t time_to, st_window_fn *fn,
                        void *opaque)
{
    if (time_from < 0 || time_to < 0)
        return -EINVAL;
    scan_t sc = {
        .sc_w = w, .sc_from = time_from, .sc_to = time_to, .sc_wfn = fn, .sc_opaque = opaque};
    return core_scan(w, &sc, EDDY_NULL_BYTES, EDDY_NULL_BYTES);
}

int st_window_flush(st_window_store_t *w)
{
    return core_flush(w);
}

int st_window_key_split(eddy_bytes_t composite, eddy_bytes_t *key, int64_t *window_start,
                        uint32_t *seq)
{
    if (composite.len < WIN_SUFFIX || !composite.data)
        return -EINVAL;
    const uint8_t *p = composite.data;
    size_t klen = (size_t)composite.len - WIN_SUFFIX;
    *key = (eddy_bytes_t){p, (int32_t)klen};
    *window_start = (int64_t)be64_load(p + klen);
    *seq = be32_load(p + klen + 8);
    return 0;
}

int st_window_restore(st_window_store_t *w, eddy_bytes_t changelog_key, eddy_bytes_t value)
{
    eddy_bytes_t key;
    int64_t start;
    uint32_t seq;
    if (st_window_key_split(changelog_key, &key, &start, &seq) || start < 0)
        return -EINVAL;
    return core_restore(w, changelog_key, start, value);
}

int64_t st_window_count(st_window_store_t *w)
{
    return core_count(w);
}

void st_window_close(st_window_store_t *w)
{
    core_close(w);
}

/* ---- session stores ----------------------------------------------------------------- */

st_session_store_t *st_session_open(st_env_t *env, const char *name, int64_t retention_ms,
                                    int64_t segment_ms, const st_store_hooks_t *hooks, char *errstr,
                                    size_t errstr_size)
{
    return (st_session_store_t *)core_open(env, name, KIND_SESSION, retention_ms, segment_ms, 0,
                                           hooks, errstr, errstr_size);
}

const char *st_session_name(const st_session_store_t *s)
{
    return s->s_w.w_name;
}

void st_session_set_cache_limit(st_session_store_t *s, size_t bytes)
{
    core_set_cache_limit(&s->s_w, bytes);
}

int st_session_advance(st_session_store_t *s, int64_t stream_time)
{
    return core_advance(&s->s_w, stream_time);
}

int st_session_put(st_session_store_t *s, eddy_bytes_t key, int64_t start, int64_t end,
                   eddy_bytes_t value, int64_t timestamp)
{
    st_window_store_t *w = &s->s_w;
    int err = check_key(w, key);
    if (err)
        return err;
    if (start < 0 || end < start)
        return -EINVAL;
    ckbuf_t cb;
    uint8_t *ck = ck_alloc(&cb, (size_t)key.len + w->w_suffix);
    if (!ck)
        return -ENOMEM;
    size_t n = ckey_build(w, ck, key, end, start);
    err = core_put(w, ck, n, end, value, timestamp);
    ck_release(&cb);
    return err;
}

int st_session_get(st_session_store_t *s, eddy_bytes_t key, int64_t start, int64_t end,
                   eddy_bytes_t *value)
{
    st_window_store_t *w = &s->s_w;
    int err = check_key(w, key);
    if (err)
        return err;
    if (start < 0 || end < start)
        return -EINVAL;
    if (expired(w, end))
        return -ENOENT;
    st_store_t *seg;
    if ((err = seg_get(w, end, 0, &seg)))
        return err;
    ckbuf_t cb;
    uint8_t *ck = ck_alloc(&cb, (size_t)key.len + w->w_suffix);
    if (!ck)
        return -ENOMEM;
    size_t n = ckey_build(w, ck, key, end, start);
    err = st_store_get(seg, (eddy_bytes_t){ck, (int32_t)n}, value);
    ck_release(&cb);
    return err;
}

int st_session_find(st_session_store_t *s, eddy_bytes_t key, int64_t earliest_end,
                    int64_t latest_start, st_session_fn *fn, void *opaque)
{
    st_window_store_t *w = &s->s_w;
    int err = check_key(w, key);
    if (err)
        return err;
    if (earliest_end < 0 || latest_start < 0)
        return -EINVAL;
    /* Ends have no upper bound: a session that started before latest_start
     * may end at any time after it. */
    scan_t sc = {.sc_w = w,
                 .sc_from = earliest_end,
                 .sc_to = INT64_MAX,
                 .sc_latest_start = latest_start,
                 .sc_sfn = fn,
                 .sc_opaque = opaque};
    return core_fetch_key(w, &sc, key, INT64_MAX, INT64_MAX);
}

int st_session_fetch_all(st_session_store_t *s, int64_t end_from, int64_t end_to, st_session_fn *fn,
                         void *opaque)
{
    if (end_from < 0 || end_to < 0)
        return -EINVAL;
    scan_t sc = {.sc_w = &s->s_w,
                 .sc_from = end_from,
                 .sc_to = end_to,
                 .sc_latest_start = INT64_MAX,
                 .sc_sfn = fn,
                 .sc_opaque = opaque};
    return core_scan(&s->s_w, &sc, EDDY_NULL_BYTES, EDDY_NULL_BYTES);
}

int st_session_flush(st_session_store_t *s)
{
    return core_flush(&s->s_w);
}

int st_session_key_split(eddy_bytes_t composite, eddy_bytes_t *key, int64_t *start, int64_t *end)
{
    if (composite.len < SES_SUFFIX || !composite.data)
        return -EINVAL;
    const uint8_t *p = composite.data;
    size_t klen = (size_t)composite.len - SES_SUFFIX;
    *key = (eddy_bytes_t){p, (int32_t)klen};
    *end = (int64_t)be64_load(p + klen);
    *start = (int64_t)be64_load(p + klen + 8);
    return 0;
}

int st_session_restore(st_session_store_t *s, eddy_bytes_t changelog_key, eddy_bytes_t value)
{
    eddy_bytes_t key;
    int64_t start, end;
    if (st_session_key_split(changelog_key, &key, &start, &end) || start < 0 || end < start)
        return -EINVAL;
    return core_restore(&s->s_w, changelog_key, end, value);
}

int64_t st_session_count(st_session_store_t *s)
{
    return core_count(&s->s_w);
}

void st_session_close(st_session_store_t *s)
{
    core_close(s ? &s->s_w : NULL);
}

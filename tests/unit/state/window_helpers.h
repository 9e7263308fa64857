/* Shared by the window and session store tests: a hook recorder that keeps
 * raw bytes (composite keys are binary), a collector of fetch results, and
 * a raw listing of the environment's named databases. */
#ifndef EDDY_TEST_WINDOW_HELPERS_H
#define EDDY_TEST_WINDOW_HELPERS_H

#include <lmdb.h>

#include "state/window.h"
#include "state_helpers.h"

#define WREC_MAX 64

typedef struct wrec_call {
    char wc_kind; /* 'C' changelog, 'F' forward */
    uint8_t wc_key[64];
    int wc_klen;
    char wc_value[32]; /* "~" for null */
    char wc_old[32];
    int64_t wc_ts;
    char wc_store[64]; /* st_store_name of the segment */
} wrec_call_t;

typedef struct wrec {
    wrec_call_t w_calls[WREC_MAX];
    int w_n;
} wrec_t;

static inline void wrec_bytes(char *out, size_t size, eddy_bytes_t b)
{
    if (eddy_bytes_is_null(b))
        snprintf(out, size, "~");
    else
        snprintf(out, size, "%.*s", (int)b.len, (const char *)b.data);
}

static inline wrec_call_t *wrec_add(wrec_t *r, char kind, st_store_t *s, eddy_bytes_t key,
                                    int64_t ts)
{
    ck_assert_int_lt(r->w_n, WREC_MAX);
    wrec_call_t *c = &r->w_calls[r->w_n++];
    memset(c, 0, sizeof *c);
    c->wc_kind = kind;
    ck_assert_int_le(key.len, (int)sizeof c->wc_key);
    memcpy(c->wc_key, key.data, (size_t)key.len);
    c->wc_klen = key.len;
    c->wc_ts = ts;
    snprintf(c->wc_store, sizeof c->wc_store, "%s", st_store_name(s));
    return c;
}

static inline void wrec_changelog(st_store_t *s, eddy_bytes_t key, eddy_bytes_t value, int64_t ts,
                                  void *opaque)
{
    wrec_call_t *c = wrec_add(opaque, 'C', s, key, ts);
    wrec_bytes(c->wc_value, sizeof c->wc_value, value);
}

static inline void wrec_forward(st_store_t *s, eddy_bytes_t key, eddy_bytes_t nv, eddy_bytes_t ov,
                                int64_t ts, void *opaque)
{
    wrec_call_t *c = wrec_add(opaque, 'F', s, key, ts);
    wrec_bytes(c->wc_value, sizeof c->wc_value, nv);
    wrec_bytes(c->wc_old, sizeof c->wc_old, ov);
}

static inline st_store_hooks_t wrec_hooks(wrec_t *r)
{
    memset(r, 0, sizeof *r);
    return (st_store_hooks_t){wrec_changelog, wrec_forward, r};
}

/* Fetch results as one line: "key@start=value " each (key printed with
 * \0 as '0'), or for sessions "key[start,end]=value ". */
typedef struct coll {
    char co_line[2048];
    int co_n;
    int co_stop_after; /* 0: never stop */
} coll_t;

static inline void coll_key(coll_t *c, eddy_bytes_t key)
{
    size_t at = strlen(c->co_line);
    for (int i = 0; i < key.len && at + 2 < sizeof c->co_line; i++) {
        char ch = ((const char *)key.data)[i];
        c->co_line[at++] = ch ? ch : '0';
    }
    c->co_line[at] = 0;
}

static inline int coll_window(eddy_bytes_t key, int64_t start, eddy_bytes_t value, void *opaque)
{
    coll_t *c = opaque;
    char v[64];
    coll_key(c, key);
    wrec_bytes(v, sizeof v, value);
    size_t at = strlen(c->co_line);
    snprintf(c->co_line + at, sizeof c->co_line - at, "@%" PRId64 "=%s ", start, v);
    c->co_n++;
    return c->co_stop_after && c->co_n >= c->co_stop_after;
}

static inline int coll_session(eddy_bytes_t key, int64_t start, int64_t end, eddy_bytes_t value,
                               void *opaque)
{
    coll_t *c = opaque;
    char v[64];
    coll_key(c, key);
    wrec_bytes(v, sizeof v, value);
    size_t at = strlen(c->co_line);
    snprintf(c->co_line + at, sizeof c->co_line - at, "[%" PRId64 ",%" PRId64 "]=%s ", start, end,
             v);
    c->co_n++;
    return c->co_stop_after && c->co_n >= c->co_stop_after;
}

/* The named databases of the (closed) environment in dir, each followed
 * by a space, in LMDB's order. */
static inline void list_dbs(const char *dir, char *out, size_t size)
{
    MDB_env *e;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_cursor *cur;
    MDB_val k, v;
    out[0] = 0;
    ck_assert_int_eq(mdb_env_create(&e), 0);
    ck_assert_int_eq(mdb_env_open(e, dir, MDB_RDONLY, 0644), 0);
    ck_assert_int_eq(mdb_txn_begin(e, NULL, MDB_RDONLY, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
    ck_assert_int_eq(mdb_cursor_open(txn, dbi, &cur), 0);
    while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
        size_t at = strlen(out);
        snprintf(out + at, size - at, "%.*s ", (int)k.mv_size, (const char *)k.mv_data);
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    mdb_env_close(e);
}

/* st_env_flush, then st_env_commit without offsets. */
static inline void env_commit_ok(st_env_t *env)
{
    ck_assert_int_eq(st_env_flush(env), 0);
    ck_assert_int_eq(st_env_commit(env, NULL, 0), 0);
}

#endif

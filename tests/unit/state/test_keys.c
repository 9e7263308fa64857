/* state/keys.c: record keys of any length (0, 1, 511, 512, 4096, 100000
 * bytes and the lengths around the encoding's prefix) against a model:
 * gets, puts, deletes and ranges in byte order, with the cache on and off,
 * forced hash collisions, restores (one by one and in batches), reads from
 * other threads' paths, window and session stores, and an environment of
 * the previous format wiped at open. */
#include <lmdb.h>
#include <sys/stat.h>

#include "state/state_int.h"
#include "state/window.h"
#include "window_helpers.h"

#define P ST_KEY_SHORT_MAX
#define NK 40
#define MAX_STORES 40

static char dir[256];
static st_env_t *env;
static logcap_t logcap;

/* The candidate keys, and the model: value of each (NULL: absent). */
static uint8_t *kbytes[NK];
static size_t klens[NK];
static char *model[NK];
static int nkeys;

/* head, fill_n bytes of fill, then tlen bytes of tail (-1: strlen). */
static void add_key_n(const char *head, char fill, size_t fill_n, const char *tail, int tlen)
{
    size_t h = strlen(head), t = tlen < 0 ? strlen(tail) : (size_t)tlen;
    uint8_t *k = malloc(h + fill_n + t + 1);
    memcpy(k, head, h);
    memset(k + h, fill, fill_n);
    memcpy(k + h + fill_n, tail, t);
    ck_assert_int_lt(nkeys, NK);
    kbytes[nkeys] = k;
    klens[nkeys++] = h + fill_n + t;
}

static void add_key(const char *head, char fill, size_t fill_n, const char *tail)
{
    add_key_n(head, fill, fill_n, tail, -1);
}

static void keys_make(void)
{
    nkeys = 0;
    add_key("", 0, 0, "");  /* empty */
    add_key("", 0, 1, ""); /* "\0" */
    add_key("a", 0, 0, "");
    add_key("b", 0, 0, "");
    add_key("", 'x', P - 1, "");
    add_key("", 'x', P, "");
    add_key("", 'x', P + 1, "");
    add_key_n("", 'x', P, "\0", 1);
    add_key("", 'x', P, "\x01");
    add_key("", 'x', P + 8, "");
    add_key("", 'x', P + 13, "");
    add_key("", 'x', 511, "");
    add_key("", 'x', 512, "");
    add_key("", 'x', 511, "y");
    add_key("", 'x', 4096, "");
    add_key("", 'x', 4096, "a");
    add_key("", 'x', 100000, "");
    add_key("", 'x', 100000, "b");
    add_key("", 'x', P, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    add_key("", 'x', P - 1, "y");
    add_key("", 'x', P - 1, "yy");
    add_key("xxxxxxxxxx", 'y', 600, "");
    add_key("", 'y', 512, "");
    add_key("", 'y', 600, "");
    add_key("", 'y', 4096, "");
    add_key("", 'x', 1000, "\xff");
    add_key_n("", 'x', 1000, "\0\0", 2);
    add_key("z", 0, 0, "");
    /* Window keys (key | start | seqnum) on both sides of P. */
    for (size_t n = P - 12; n <= P - 8; n++)
        add_key("", 'w', n, "");
    memset(model, 0, sizeof model);
}

static void keys_free(void)
{
    for (int i = 0; i < nkeys; i++) {
        free(kbytes[i]);
        free(model[i]);
    }
    memset(model, 0, sizeof model);
    nkeys = 0;
}

static eddy_bytes_t K(int i)
{
    return (eddy_bytes_t){kbytes[i], (int32_t)klens[i]};
}

static uint64_t const_hash(const uint8_t *k, size_t n)
{
    (void)k;
    (void)n;
    return 42;
}

static uint64_t two_hashes(const uint8_t *k, size_t n)
{
    return k[n - 1] & 1;
}

static uint64_t (*test_hash)(const uint8_t *, size_t);

static void env_reopen(void)
{
    if (env)
        st_env_close(env);
    env = env_open_ok(dir, MAX_STORES, 0);
    if (test_hash)
        st_env_set_key_hash(env, test_hash);
}

static void setup(void)
{
    scratch_new(dir, sizeof dir);
    memset(&logcap, 0, sizeof logcap);
    eddy_log_set_sink(logcap_sink, &logcap);
    test_hash = NULL;
    env = NULL;
    env_reopen();
    keys_make();
}

static void teardown(void)
{
    st_env_close(env);
    env = NULL;
    keys_free();
    eddy_log_set_sink(NULL, NULL);
    scratch_rm(dir);
}

static uint32_t rng = 12345;
static uint32_t rnd(uint32_t n)
{
    rng = rng * 1103515245u + 12345u;
    return (rng >> 8) % n;
}

static int idx_cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return st_key_cmp(kbytes[x], klens[x], kbytes[y], klens[y]);
}

/* The candidates in key order. */
static int sorted[NK];
static void sort_keys(void)
{
    for (int i = 0; i < nkeys; i++)
        sorted[i] = i;
    qsort(sorted, (size_t)nkeys, sizeof *sorted, idx_cmp);
}

static int find_key(eddy_bytes_t k)
{
    for (int i = 0; i < nkeys; i++)
        if (klens[i] == (size_t)k.len && (k.len == 0 || memcmp(kbytes[i], k.data, klens[i]) == 0))
            return i;
    return -1;
}

/* A range's results as key indexes; checks each value against the model. */
typedef struct got {
    int g_idx[NK * 2];
    int g_n;
    st_store_t *g_write; /* when set: fn also puts into this store */
} got_t;

static int got_fn(eddy_bytes_t k, eddy_bytes_t v, void *opaque)
{
    got_t *g = opaque;
    int i = find_key(k);
    ck_assert_msg(i >= 0, "range handed out an unknown key of %d bytes", (int)k.len);
    ck_assert_msg(model[i] && (size_t)v.len == strlen(model[i]) &&
                      memcmp(v.data, model[i], (size_t)v.len) == 0,
                  "key %d (%zu bytes): value %.*s, model %s", i, klens[i], (int)v.len,
                  (const char *)v.data, model[i] ? model[i] : "(absent)");
    ck_assert_int_lt(g->g_n, NK * 2);
    g->g_idx[g->g_n++] = i;
    if (g->g_write) /* a write moves LMDB's pages: the range must seek again */
        ck_assert_int_eq(st_store_put(g->g_write, eddy_bytes("\0\0", 2), B("x"), 0), 0);
    return 0;
}

/* The expected range [from, to] (-1: open) from the model. */
static void check_range(st_store_t *s, int from, int to, st_store_t *writer, int other_thread)
{
    got_t g = {.g_n = 0, .g_write = writer};
    eddy_bytes_t f = from >= 0 ? K(from) : EDDY_NULL_BYTES;
    eddy_bytes_t t = to >= 0 ? K(to) : EDDY_NULL_BYTES;
    if (other_thread)
        ck_assert_int_eq(st_env_read_range(env, st_store_name(s), f, t, got_fn, &g), 0);
    else
        ck_assert_int_eq(st_store_range(s, f, t, got_fn, &g), 0);
    int want[NK], nw = 0;
    for (int j = 0; j < nkeys; j++) {
        int i = sorted[j];
        if (!model[i])
            continue;
        if (from >= 0 && st_key_cmp(kbytes[i], klens[i], kbytes[from], klens[from]) < 0)
            continue;
        if (to >= 0 && st_key_cmp(kbytes[i], klens[i], kbytes[to], klens[to]) > 0)
            continue;
        want[nw++] = i;
    }
    ck_assert_msg(g.g_n == nw, "range [%d, %d]: %d records, the model has %d", from, to, g.g_n, nw);
    for (int j = 0; j < nw; j++)
        ck_assert_msg(g.g_idx[j] == want[j],
                      "range [%d, %d] record %d: key %d (%zu bytes), "
                      "model key %d (%zu bytes)",
                      from, to, j, g.g_idx[j], klens[g.g_idx[j]], want[j], klens[want[j]]);
}

static int64_t model_count(void);

static void check_all(st_store_t *s, int other_thread)
{
    int64_t n = 0;
    for (int i = 0; i < nkeys; i++) {
        if (model[i])
            n++;
        if (other_thread) {
            eddy_buf_t out = {0};
            int rc = st_env_read_get(env, st_store_name(s), K(i), &out);
            if (model[i]) {
                ck_assert_msg(rc == 0, "read_get key %d (%zu bytes): %s", i, klens[i],
                              eddy_strerror(rc));
                ck_assert(out.len == strlen(model[i]) && memcmp(out.data, model[i], out.len) == 0);
            } else {
                ck_assert_msg(rc == -ENOENT, "read_get key %d: %d", i, rc);
            }
            free(out.data);
            continue;
        }
        eddy_bytes_t v;
        int rc = st_store_get(s, K(i), &v);
        if (model[i]) {
            ck_assert_msg(rc == 0, "get key %d (%zu bytes): %s", i, klens[i], eddy_strerror(rc));
            ck_assert_msg((size_t)v.len == strlen(model[i]) &&
                              memcmp(v.data, model[i], (size_t)v.len) == 0,
                          "get key %d (%zu bytes): %.*s, model %s", i, klens[i], (int)v.len,
                          (const char *)v.data, model[i]);
        } else {
            ck_assert_msg(rc == -ENOENT, "get key %d (%zu bytes): %d, model absent", i, klens[i],
                          rc);
        }
    }
    check_range(s, -1, -1, NULL, other_thread);
    for (int r = 0; r < 12; r++) {
        int a = sorted[rnd((uint32_t)nkeys)], b = sorted[rnd((uint32_t)nkeys)];
        check_range(s, a, rnd(4) ? b : -1, NULL, other_thread);
        check_range(s, -1, a, NULL, other_thread);
    }
    if (!other_thread)
        ck_assert_int_eq(n, model_count());
}

static void model_set(int i, const char *v)
{
    free(model[i]);
    model[i] = v ? strdup(v) : NULL;
}

/* Random puts and deletes against the model, checked as it goes. */
static void run_model(st_store_t *s, int rounds)
{
    sort_keys();
    for (int r = 0; r < rounds; r++) {
        int i = (int)rnd((uint32_t)nkeys);
        if (rnd(4) == 0) {
            ck_assert_int_eq(st_store_put(s, K(i), EDDY_NULL_BYTES, r), 0);
            model_set(i, NULL);
        } else {
            char v[32];
            snprintf(v, sizeof v, "v%d-%d", r, i);
            ck_assert_int_eq(st_store_put(s, K(i), B(v), r), 0);
            model_set(i, v);
        }
        if (r % 16 == 15)
            check_all(s, 0);
    }
    check_all(s, 0);
}

static int64_t model_count(void)
{
    int64_t n = 0;
    for (int i = 0; i < nkeys; i++)
        n += model[i] != NULL;
    return n;
}

static void model_run_and_reopen(void)
{
    st_store_t *s = store_open_ok(env, "s", NULL);
    run_model(s, 200);
    st_store_set_cache_limit(s, 1 << 20); /* ranges merge the cache in */
    run_model(s, 200);
    ck_assert_int_eq(st_env_flush(env), 0);
    ck_assert_int_eq(st_store_count(s), model_count());
    ck_assert_int_eq(st_env_commit(env, NULL, 0), 0);
    check_all(s, 1);
    env_reopen();
    s = store_open_ok(env, "s", NULL);
    check_all(s, 0);
    check_all(s, 1);
    ck_assert_int_eq(st_store_count(s), model_count());
}

START_TEST(any_length_against_model)
{
    model_run_and_reopen();
}
END_TEST

/* Every long key with the same first P bytes collides: slots keep them
 * apart, deletes leave gaps that new keys fill, and order holds. */
START_TEST(forced_collisions)
{
    test_hash = const_hash;
    st_env_set_key_hash(env, test_hash);
    model_run_and_reopen();
}
END_TEST

START_TEST(partial_collisions)
{
    test_hash = two_hashes;
    st_env_set_key_hash(env, test_hash);
    model_run_and_reopen();
}
END_TEST

/* A range whose callback writes seeks again after the last key handed
 * out, also in the middle of a group of long keys. */
START_TEST(range_with_writes_across_groups)
{
    st_store_t *s = store_open_ok(env, "s", NULL);
    st_store_t *o = store_open_ok(env, "o", NULL);
    sort_keys();
    for (int i = 0; i < nkeys; i++) {
        char v[16];
        snprintf(v, sizeof v, "v%d", i);
        ck_assert_int_eq(st_store_put(s, K(i), B(v), 0), 0);
        model_set(i, v);
    }
    check_range(s, -1, -1, o, 0);
    /* into the store itself, below the range (sorted[3] is "b") */
    check_range(s, sorted[3], sorted[nkeys - 4], s, 0);
    ck_assert_int_eq(st_store_count(s), model_count() + 1);
}
END_TEST

/* The hooks see the keys as given; restoring what they saw, one by one or
 * in batches (appending into an empty store, or merging into a full one),
 * gives the same store. */
typedef struct clog {
    uint8_t *cl_k[512];
    size_t cl_kl[512];
    char *cl_v[512];
    int cl_n;
} clog_t;

static void clog_hook(st_store_t *s, eddy_bytes_t key, eddy_bytes_t value, int64_t ts, void *opaque)
{
    (void)s;
    (void)ts;
    clog_t *c = opaque;
    ck_assert_int_lt(c->cl_n, 512);
    c->cl_k[c->cl_n] = malloc((size_t)key.len + 1);
    memcpy(c->cl_k[c->cl_n], key.data, (size_t)key.len);
    c->cl_kl[c->cl_n] = (size_t)key.len;
    c->cl_v[c->cl_n] = eddy_bytes_is_null(value) ? NULL : strndup(value.data, (size_t)value.len);
    c->cl_n++;
}

static void clog_free(clog_t *c)
{
    for (int i = 0; i < c->cl_n; i++) {
        free(c->cl_k[i]);
        free(c->cl_v[i]);
    }
}

static void restore_case(int batch, int hash_const)
{
    test_hash = hash_const ? const_hash : NULL;
    st_env_set_key_hash(env, test_hash);
    static clog_t cl;
    memset(&cl, 0, sizeof cl);
    st_store_hooks_t h = {clog_hook, NULL, &cl};
    st_store_t *s = store_open_ok(env, "s", &h);
    run_model(s, 300);
    ck_assert_int_eq(st_env_commit(env, NULL, 0), 0);
    ck_assert_int_gt(cl.cl_n, 100);
    /* The changelog's keys are the record keys. */
    for (int i = 0; i < cl.cl_n; i++)
        ck_assert(find_key((eddy_bytes_t){cl.cl_k[i], (int32_t)cl.cl_kl[i]}) >= 0);

    st_store_t *r = store_open_ok(env, "r", NULL);
    st_restore_batch_t *b = st_restore_batch_new();
    for (int pass = 0; pass < 2; pass++) {
        /* Pass 0 into an empty store (appending when batched); pass 1 again
         * over it (merging). */
        for (int i = 0; i < cl.cl_n; i++) {
            eddy_bytes_t k = {cl.cl_k[i], (int32_t)cl.cl_kl[i]};
            eddy_bytes_t v = cl.cl_v[i] ? B(cl.cl_v[i]) : EDDY_NULL_BYTES;
            if (batch) {
                ck_assert_int_eq(st_restore_batch_add(b, k, v), 0);
                if (batch > 1 && i % batch == batch - 1)
                    ck_assert_int_eq(st_store_restore_batch(r, b), 0);
            } else {
                ck_assert_int_eq(st_store_restore(r, k, v), 0);
            }
        }
        if (batch)
            ck_assert_int_eq(st_store_restore_batch(r, b), 0);
        check_all(r, 0);
        ck_assert_int_eq(st_store_count(r), model_count());
    }
    st_restore_batch_destroy(b);
    clog_free(&cl);
}

START_TEST(restore_one_by_one)
{
    restore_case(0, 0);
}
END_TEST

START_TEST(restore_batch_whole)
{
    restore_case(1, 0);
}
END_TEST

START_TEST(restore_batch_pieces)
{
    restore_case(37, 0);
}
END_TEST

START_TEST(restore_batch_collisions)
{
    restore_case(1, 1);
}
END_TEST

START_TEST(restore_batch_pieces_collisions)
{
    restore_case(23, 1);
}
END_TEST

/* ---- window and session stores ---- */

static st_window_store_t *wopen(const char *name, int dups, const st_store_hooks_t *h)
{
    char err[512] = "";
    st_window_store_t *w = st_window_open(env, name, 100000, 50000, dups, h, err, sizeof err);
    ck_assert_msg(w != NULL, "st_window_open: %s", err);
    return w;
}

typedef struct wgot {
    int wg_key[256];
    int64_t wg_start[256];
    char wg_val[256][24];
    int wg_n;
} wgot_t;

static int wgot_fn(eddy_bytes_t key, int64_t start, eddy_bytes_t value, void *opaque)
{
    wgot_t *g = opaque;
    ck_assert_int_lt(g->wg_n, 256);
    g->wg_key[g->wg_n] = find_key(key);
    ck_assert_int_ge(g->wg_key[g->wg_n], 0);
    g->wg_start[g->wg_n] = start;
    snprintf(g->wg_val[g->wg_n], sizeof g->wg_val[0], "%.*s", (int)value.len,
             (const char *)value.data);
    g->wg_n++;
    return 0;
}

/* Windows of every candidate key at 1000 and 60000 (two segments): get,
 * fetch, fetch_all in Kafka's order (by segment, then composite key). */
static void window_case(void)
{
    st_window_store_t *w = wopen("w", 0, NULL);
    static const int64_t starts[] = {60000, 1000, 2000};
    for (int t = 0; t < 3; t++)
        for (int i = 0; i < nkeys; i++) {
            char v[24];
            snprintf(v, sizeof v, "%d@%d", i, (int)starts[t]);
            ck_assert_int_eq(st_window_put(w, K(i), starts[t], B(v), 0), 0);
        }
    ck_assert_int_eq(st_window_count(w), 3 * nkeys);
    for (int i = 0; i < nkeys; i++) {
        wgot_t g = {.wg_n = 0};
        ck_assert_int_eq(st_window_fetch(w, K(i), 0, 100000, wgot_fn, &g), 0);
        ck_assert_int_eq(g.wg_n, 3);
        ck_assert_int_eq(g.wg_start[0], 1000);
        ck_assert_int_eq(g.wg_start[1], 2000);
        ck_assert_int_eq(g.wg_start[2], 60000);
        for (int j = 0; j < 3; j++) {
            char v[24];
            snprintf(v, sizeof v, "%d@%d", i, (int)g.wg_start[j]);
            ck_assert_int_eq(g.wg_key[j], i);
            ck_assert_str_eq(g.wg_val[j], v);
        }
        eddy_bytes_t v;
        ck_assert_int_eq(st_window_get(w, K(i), 2000, &v), 0);
        ck_assert_int_eq(st_window_get(w, K(i), 3000, &v), -ENOENT);
    }
    /* fetch_all: the segment of 1000 and 2000 first, by composite key. */
    wgot_t g = {.wg_n = 0};
    ck_assert_int_eq(st_window_fetch_all(w, 0, 100000, wgot_fn, &g), 0);
    ck_assert_int_eq(g.wg_n, 3 * nkeys);
    for (int j = 1; j < g.wg_n; j++) {
        int a = g.wg_key[j - 1], b = g.wg_key[j];
        int sa = g.wg_start[j - 1] >= 50000, sb = g.wg_start[j] >= 50000;
        if (sa != sb) {
            ck_assert_int_lt(sa, sb);
            continue;
        }
        /* composite keys: key bytes then the start's 8 bytes */
        uint8_t *ca = malloc(klens[a] + 8), *cb = malloc(klens[b] + 8);
        memcpy(ca, kbytes[a], klens[a]);
        memcpy(cb, kbytes[b], klens[b]);
        for (int x = 0; x < 8; x++) {
            ca[klens[a] + (size_t)x] = (uint8_t)((uint64_t)g.wg_start[j - 1] >> (56 - 8 * x));
            cb[klens[b] + (size_t)x] = (uint8_t)((uint64_t)g.wg_start[j] >> (56 - 8 * x));
        }
        ck_assert_msg(st_key_cmp(ca, klens[a] + 8, cb, klens[b] + 8) < 0,
                      "fetch_all out of order at %d: key %d@%" PRId64 " then %d@%" PRId64, j, a,
                      g.wg_start[j - 1], b, g.wg_start[j]);
        free(ca);
        free(cb);
    }
    st_window_close(w);
}

START_TEST(window_long_keys)
{
    window_case();
    ck_assert_int_eq(st_env_commit(env, NULL, 0), 0);
    env_reopen();
    st_window_store_t *w = wopen("w", 0, NULL);
    ck_assert_int_eq(st_window_count(w), 3 * nkeys);
    eddy_bytes_t v;
    for (int i = 0; i < nkeys; i++)
        ck_assert_int_eq(st_window_get(w, K(i), 60000, &v), 0);
    st_window_close(w);
}
END_TEST

START_TEST(window_long_keys_collisions)
{
    test_hash = const_hash;
    st_env_set_key_hash(env, test_hash);
    window_case();
}
END_TEST

/* Duplicates (joins) of long keys: seqnums go on above what LMDB holds
 * after a reopen, so nothing is overwritten. */
static void window_duplicates_case(void)
{
    st_window_store_t *w = wopen("j", 1, NULL);
    for (int i = 0; i < nkeys; i++)
        for (int d = 0; d < 3; d++)
            ck_assert_int_eq(st_window_put(w, K(i), 5000, B("d"), 0), 0);
    ck_assert_int_eq(st_env_commit(env, NULL, 0), 0);
    st_window_close(w);
    env_reopen();
    w = wopen("j", 1, NULL);
    for (int i = 0; i < nkeys; i++)
        ck_assert_int_eq(st_window_put(w, K(i), 5000, B("e"), 0), 0);
    ck_assert_int_eq(st_window_count(w), 4 * nkeys);
    for (int i = 0; i < nkeys; i++) {
        wgot_t g = {.wg_n = 0};
        ck_assert_int_eq(st_window_fetch(w, K(i), 0, 10000, wgot_fn, &g), 0);
        ck_assert_msg(g.wg_n == 4, "key %d (%zu bytes): %d duplicates", i, klens[i], g.wg_n);
        ck_assert_str_eq(g.wg_val[3], "e");
    }
    st_window_close(w);
}

START_TEST(window_duplicates_long_keys)
{
    window_duplicates_case();
}
END_TEST

START_TEST(window_duplicates_collisions)
{
    test_hash = const_hash;
    st_env_set_key_hash(env, test_hash);
    window_duplicates_case();
}
END_TEST

typedef struct sgot {
    int sg_n;
    int sg_key[64];
} sgot_t;

static int sgot_fn(eddy_bytes_t key, int64_t start, int64_t end, eddy_bytes_t value, void *opaque)
{
    (void)start;
    (void)end;
    (void)value;
    sgot_t *g = opaque;
    ck_assert_int_lt(g->sg_n, 64);
    g->sg_key[g->sg_n++] = find_key(key);
    return 0;
}

START_TEST(session_long_keys)
{
    char err[512];
    st_session_store_t *s = st_session_open(env, "ss", 100000, 50000, NULL, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    for (int i = 0; i < nkeys; i++) {
        ck_assert_int_eq(st_session_put(s, K(i), 1000, 2000, B("a"), 0), 0);
        ck_assert_int_eq(st_session_put(s, K(i), 3000, 3500, B("b"), 0), 0);
    }
    for (int i = 0; i < nkeys; i++) {
        sgot_t g = {0};
        ck_assert_int_eq(st_session_find(s, K(i), 0, 10000, sgot_fn, &g), 0);
        ck_assert_msg(g.sg_n == 2, "key %d (%zu bytes): %d sessions", i, klens[i], g.sg_n);
        ck_assert_int_eq(g.sg_key[0], i);
        ck_assert_int_eq(g.sg_key[1], i);
        eddy_bytes_t v;
        ck_assert_int_eq(st_session_get(s, K(i), 3000, 3500, &v), 0);
        ck_assert_int_eq(v.len, 1);
    }
    st_session_close(s);
}
END_TEST

/* Window restore from the changelog keys the hooks saw. */
START_TEST(window_restore_long_keys)
{
    static clog_t cl;
    memset(&cl, 0, sizeof cl);
    st_store_hooks_t h = {clog_hook, NULL, &cl};
    st_window_store_t *w = wopen("w", 0, &h);
    for (int i = 0; i < nkeys; i++)
        ck_assert_int_eq(st_window_put(w, K(i), 7000, B("x"), 0), 0);
    ck_assert_int_eq(cl.cl_n, nkeys);
    st_window_store_t *r = wopen("r", 0, NULL);
    for (int i = 0; i < cl.cl_n; i++) {
        eddy_bytes_t key;
        int64_t start;
        uint32_t seq;
        eddy_bytes_t ck = {cl.cl_k[i], (int32_t)cl.cl_kl[i]};
        ck_assert_int_eq(st_window_key_split(ck, &key, &start, &seq), 0);
        ck_assert_int_eq(find_key(key), i); /* the user's key, as given */
        ck_assert_int_eq(start, 7000);
        ck_assert_int_eq(st_window_restore(r, ck, B(cl.cl_v[i])), 0);
    }
    for (int i = 0; i < nkeys; i++) {
        eddy_bytes_t v;
        ck_assert_int_eq(st_window_get(r, K(i), 7000, &v), 0);
    }
    st_window_close(w);
    st_window_close(r);
    clog_free(&cl);
}
END_TEST

/* An environment of the previous format (raw keys, no format record) is
 * wiped at open, never read: its store comes back empty, its checkpoint
 * is gone (restore starts from the changelog's beginning). */
START_TEST(old_format_is_wiped)
{
    st_env_close(env);
    env = NULL;
    scratch_rm(dir);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    MDB_env *m;
    MDB_txn *txn;
    MDB_dbi odbi, sdbi;
    ck_assert_int_eq(mdb_env_create(&m), 0);
    ck_assert_int_eq(mdb_env_set_maxdbs(m, 4), 0);
    ck_assert_int_eq(mdb_env_open(m, dir, 0, 0644), 0);
    ck_assert_int_eq(mdb_txn_begin(m, NULL, 0, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "__changelog_offsets", MDB_CREATE, &odbi), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "s", MDB_CREATE, &sdbi), 0);
    uint8_t ok[6] = {'t', 0, 0, 0, 0, 0}, ov[8] = {0, 0, 0, 0, 0, 0, 0, 42};
    MDB_val key = {6, ok}, val = {8, ov};
    ck_assert_int_eq(mdb_put(txn, odbi, &key, &val, 0), 0);
    /* A raw key that the new format would read as the empty key plus 'k'. */
    MDB_val rk = {2, "\0k"}, rv = {3, "old"};
    ck_assert_int_eq(mdb_put(txn, sdbi, &rk, &rv, 0), 0);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(m);

    env_reopen();
    ck_assert_int_eq(st_env_checkpoint(env, "t", 0), -1);
    st_store_t *s = store_open_ok(env, "s", NULL);
    ck_assert_int_eq(st_store_count(s), 0);
    eddy_bytes_t v;
    ck_assert_int_eq(st_store_get(s, B("k"), &v), -ENOENT);
    /* The new environment keeps its format: a reopen keeps the data. */
    ck_assert_int_eq(st_store_put(s, B("k"), B("new"), 0), 0);
    st_offset_t off = {"t", 0, 7};
    ck_assert_int_eq(st_env_commit(env, &off, 1), 0);
    env_reopen();
    s = store_open_ok(env, "s", NULL);
    char buf[16];
    ck_assert_str_eq(get_str(s, "k", buf, sizeof buf), "new");
    ck_assert_int_eq(st_env_checkpoint(env, "t", 0), 7);
}
END_TEST

TCase *tcase_store_keys(void)
{
    TCase *tc = tcase_create("store_keys");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, any_length_against_model);
    tcase_add_test(tc, forced_collisions);
    tcase_add_test(tc, partial_collisions);
    tcase_add_test(tc, range_with_writes_across_groups);
    tcase_add_test(tc, restore_one_by_one);
    tcase_add_test(tc, restore_batch_whole);
    tcase_add_test(tc, restore_batch_pieces);
    tcase_add_test(tc, restore_batch_collisions);
    tcase_add_test(tc, restore_batch_pieces_collisions);
    tcase_add_test(tc, window_long_keys);
    tcase_add_test(tc, window_long_keys_collisions);
    tcase_add_test(tc, window_duplicates_long_keys);
    tcase_add_test(tc, window_duplicates_collisions);
    tcase_add_test(tc, session_long_keys);
    tcase_add_test(tc, window_restore_long_keys);
    tcase_add_test(tc, old_format_is_wiped);
    return tc;
}

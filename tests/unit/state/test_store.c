/* state/store.c: the record cache (on and off), the hooks a flush calls and
 * how repeated updates collapse, eviction, range with the cache merged in,
 * and the restore path. */
#include "state_helpers.h"

static char dir[256];
static st_env_t *env;
static logcap_t logcap;

static void setup(void)
{
    scratch_new(dir, sizeof dir);
    memset(&logcap, 0, sizeof logcap);
    eddy_log_set_sink(logcap_sink, &logcap);
    env = env_open_ok(dir, 4, 0);
}

static void teardown(void)
{
    st_env_close(env);
    env = NULL;
    eddy_log_set_sink(NULL, NULL);
    scratch_rm(dir);
}

/* ---- cache --------------------------------------------------------------- */

START_TEST(cache_on_put_get_delete)
{
    rec_t r;
    st_store_hooks_t h = rec_hooks(&r);
    st_store_t *s = store_open_ok(env, "s", &h);
    st_store_set_cache_limit(s, 1 << 20);
    char buf[64];

    ck_assert_int_eq(st_store_put(s, B("a"), B("1"), 10), 0);
    ck_assert_str_eq(get_str(s, "a", buf, sizeof buf), "1");
    /* In the cache only: LMDB and the hooks have seen nothing yet. */
    ck_assert_int_eq(st_store_count(s), 0);
    ck_assert_int_eq(r.r_n, 0);
    ck_assert_int_eq(st_store_put(s, B("a"), B("22"), 11), 0);
    ck_assert_str_eq(get_str(s, "a", buf, sizeof buf), "22");
    ck_assert_int_eq(st_store_put(s, B("a"), EDDY_NULL_BYTES, 12), 0);
    ck_assert_str_eq(get_str(s, "a", buf, sizeof buf), "");
    ck_assert_int_eq(st_store_put(s, B("b"), B("x"), 13), 0);
    ck_assert_int_eq(st_store_count(s), 0);

    ck_assert_int_eq(st_store_flush(s), 0);
    /* a was created and deleted between flushes: nothing reaches LMDB. */
    ck_assert_int_eq(st_store_count(s), 1);
    static const char *const want[] = {"C b=x@13", "F b=x/~@13"};
    rec_expect(&r, want, 2);

    /* Dropping the cache: b now comes from LMDB. */
    st_store_set_cache_limit(s, 0);
    ck_assert_uint_eq(st_store_cache_bytes(s), 0);
    ck_assert_str_eq(get_str(s, "b", buf, sizeof buf), "x");
    ck_assert_str_eq(get_str(s, "a", buf, sizeof buf), "");

    /* A deleted entry in the cache hides LMDB's value until the flush. */
    st_store_set_cache_limit(s, 1 << 20);
    ck_assert_int_eq(st_store_put(s, B("b"), EDDY_NULL_BYTES, 14), 0);
    ck_assert_str_eq(get_str(s, "b", buf, sizeof buf), "");
    ck_assert_int_eq(st_store_count(s), 1);
    ck_assert_int_eq(st_store_flush(s), 0);
    ck_assert_int_eq(st_store_count(s), 0);
    static const char *const want2[] = {"C b=~@14", "F b=~/x@14"};
    rec_expect(&r, want2, 2);
    /* A flushed delete does not stay in the cache. */
    ck_assert_uint_eq(st_store_cache_bytes(s), 0);
}
END_TEST

START_TEST(cache_off_writes_through)
{
    rec_t r;
    st_store_hooks_t h = rec_hooks(&r);
    st_store_t *s = store_open_ok(env, "s", &h);
    char buf[64];

    ck_assert_int_eq(st_store_put(s, B("a"), B("1"), 1), 0);
    ck_assert_int_eq(st_store_count(s), 1);
    static const char *const w1[] = {"C a=1@1", "F a=1/~@1"};
    rec_expect(&r, w1, 2);
    ck_assert_int_eq(st_store_put(s, B("a"), B("2"), 2), 0);
    static const char *const w2[] = {"C a=2@2", "F a=2/1@2"};
    rec_expect(&r, w2, 2);
    ck_assert_str_eq(get_str(s, "a", buf, sizeof buf), "2");
    ck_assert_int_eq(st_store_put(s, B("a"), EDDY_NULL_BYTES, 3), 0);
    static const char *const w3[] = {"C a=~@3", "F a=~/2@3"};
    rec_expect(&r, w3, 2);
    ck_assert_int_eq(st_store_count(s), 0);
    /* Deleting what is not there: no write, no hook. */
    ck_assert_int_eq(st_store_put(s, B("zz"), EDDY_NULL_BYTES, 4), 0);
    ck_assert_int_eq(r.r_n, 0);
    ck_assert_uint_eq(st_store_cache_bytes(s), 0);

    /* A value taken from a get (a view into LMDB) can be put back. */
    ck_assert_int_eq(st_store_put(s, B("k1"), B("hello"), 5), 0);
    eddy_bytes_t v;
    ck_assert_int_eq(st_store_get(s, B("k1"), &v), 0);
    ck_assert_int_eq(st_store_put(s, B("k2"), v, 6), 0);
    ck_assert_str_eq(get_str(s, "k2", buf, sizeof buf), "hello");
    /* Same with the cache on: a value that views the entry it replaces. */
    st_store_set_cache_limit(s, 1 << 20);
    ck_assert_int_eq(st_store_put(s, B("k3"), B("abcdefgh"), 7), 0);
    ck_assert_int_eq(st_store_get(s, B("k3"), &v), 0);
    ck_assert_int_eq(st_store_put(s, B("k3"), eddy_bytes((const char *)v.data + 2, 3), 8), 0);
    ck_assert_str_eq(get_str(s, "k3", buf, sizeof buf), "cde");
}
END_TEST

START_TEST(key_limits)
{
    st_store_t *s = store_open_ok(env, "s", NULL);
    char big[600];
    memset(big, 'k', sizeof big);
    /* Any length goes (LMDB's own limit is 511): state/keys.c. */
    ck_assert_int_eq(st_store_put(s, eddy_bytes(big, 511), B("v"), 0), 0);
    ck_assert_int_eq(st_store_put(s, eddy_bytes(big, 512), B("w"), 0), 0);
    ck_assert_int_eq(st_store_put(s, eddy_bytes("", 0), B("empty"), 0), 0);
    ck_assert_int_eq(st_store_put(s, EDDY_NULL_BYTES, B("v"), 0), EDDY_ERR_INVALID_ARG);
    ck_assert_int_eq(st_store_restore(s, eddy_bytes(big, 600), B("r")), 0);
    ck_assert_int_eq(st_store_count(s), 4);
    /* Empty values are values, not deletes. */
    ck_assert_int_eq(st_store_put(s, B("e"), eddy_bytes("", 0), 0), 0);
    eddy_bytes_t v;
    ck_assert_int_eq(st_store_get(s, B("e"), &v), 0);
    ck_assert_int_eq(v.len, 0);
    ck_assert_int_eq(st_store_get(s, eddy_bytes("", 0), &v), 0);
    ck_assert_int_eq(v.len, 5);
    ck_assert_int_eq(st_store_count(s), 5);
}
END_TEST

/* Eviction: least recently used first (gets count as use), dirty entries
 * flushed alone as they go, the byte budget never exceeded. */
START_TEST(eviction_order_and_budget)
{
    rec_t r;
    st_store_hooks_t h = rec_hooks(&r);
    st_store_t *s = store_open_ok(env, "s", &h);
    char key[16], buf[64];

    /* Size of one entry ("kNN" -> 8 bytes), measured. */
    st_store_set_cache_limit(s, 1 << 20);
    ck_assert_int_eq(st_store_put(s, B("k00"), B("vvvvvvvv"), 0), 0);
    size_t one = st_store_cache_bytes(s);
    ck_assert_uint_gt(one, 11);
    size_t limit = 10 * one;
    st_store_set_cache_limit(s, limit);
    for (int i = 1; i < 10; i++) {
        snprintf(key, sizeof key, "k%02d", i);
        ck_assert_int_eq(st_store_put(s, B(key), B("vvvvvvvv"), i), 0);
    }
    ck_assert_uint_eq(st_store_cache_bytes(s), limit);
    ck_assert_int_eq(r.r_n, 0);

    get_str(s, "k00", buf, sizeof buf); /* k00 is now the most recently used */
    ck_assert_int_eq(st_store_put(s, B("k10"), B("vvvvvvvv"), 10), 0);
    static const char *const w1[] = {"C k01=vvvvvvvv@1", "F k01=vvvvvvvv/~@1"};
    rec_expect(&r, w1, 2);
    ck_assert_uint_le(st_store_cache_bytes(s), limit);
    ck_assert_int_eq(st_store_count(s), 1);
    ck_assert_str_eq(get_str(s, "k01", buf, sizeof buf), "vvvvvvvv"); /* from LMDB */

    /* An update touches too: k02 stays, k03 goes. */
    ck_assert_int_eq(st_store_put(s, B("k02"), B("wwwwwwww"), 11), 0);
    ck_assert_int_eq(r.r_n, 0);
    ck_assert_int_eq(st_store_put(s, B("k11"), B("vvvvvvvv"), 12), 0);
    static const char *const w2[] = {"C k03=vvvvvvvv@3", "F k03=vvvvvvvv/~@3"};
    rec_expect(&r, w2, 2);
    ck_assert_uint_le(st_store_cache_bytes(s), limit);

    /* Flush: the rest, in order of last update. */
    ck_assert_int_eq(st_store_flush(s), 0);
    ck_assert_int_eq(r.r_n, 2 * 10);
    static const char *const order[] = {"k00", "k04", "k05", "k06", "k07",
                                        "k08", "k09", "k10", "k02", "k11"};
    for (int i = 0; i < 10; i++)
        ck_assert_msg(strncmp(r.r_lines[2 * i] + 2, order[i], 3) == 0, "flush %d: %s", i,
                      r.r_lines[2 * i]);
    r.r_n = 0;
    ck_assert_int_eq(st_store_count(s), 12);
    /* Clean entries are evicted without a word. */
    for (int i = 20; i < 40; i++) {
        snprintf(key, sizeof key, "k%02d", i);
        ck_assert_int_eq(st_store_put(s, B(key), B("vvvvvvvv"), i), 0);
        ck_assert_uint_le(st_store_cache_bytes(s), limit);
    }
    /* 20 new dirty keys through a 10-entry cache: the 10 oldest flushed. */
    ck_assert_int_eq(r.r_n, 2 * 10);
    ck_assert_str_eq(r.r_lines[0], "C k20=vvvvvvvv@20");
    ck_assert_str_eq(r.r_lines[18], "C k29=vvvvvvvv@29");
    ck_assert_int_eq(st_store_count(s), 22);
}
END_TEST

/* ---- hooks ---------------------------------------------------------------- */

START_TEST(hooks_collapse_updates)
{
    rec_t r;
    st_store_hooks_t h = rec_hooks(&r);
    st_store_t *s = store_open_ok(env, "s", &h);
    st_store_set_cache_limit(s, 1 << 20);

    ck_assert_int_eq(st_store_put(s, B("a"), B("1"), 1), 0);
    ck_assert_int_eq(st_store_put(s, B("a"), B("2"), 2), 0);
    ck_assert_int_eq(st_store_put(s, B("b"), B("1"), 3), 0);
    ck_assert_int_eq(st_store_put(s, B("a"), B("3"), 4), 0);
    ck_assert_int_eq(r.r_n, 0);
    ck_assert_int_eq(st_store_flush(s), 0);
    /* Once per key, oldest last update first, the latest value and time. */
    static const char *const w1[] = {"C b=1@3", "F b=1/~@3", "C a=3@4", "F a=3/~@4"};
    rec_expect(&r, w1, 4);

    ck_assert_int_eq(st_store_put(s, B("a"), B("4"), 5), 0);
    ck_assert_int_eq(st_store_put(s, B("b"), EDDY_NULL_BYTES, 6), 0);
    ck_assert_int_eq(st_store_put(s, B("a"), B("5"), 7), 0);
    ck_assert_int_eq(st_store_put(s, B("c"), B("9"), 8), 0);
    ck_assert_int_eq(st_store_put(s, B("c"), EDDY_NULL_BYTES, 9), 0);
    ck_assert_int_eq(st_store_flush(s), 0);
    /* Old values are those of the previous flush; c never existed. */
    static const char *const w2[] = {"C b=~@6", "F b=~/1@6", "C a=5@7", "F a=5/3@7"};
    rec_expect(&r, w2, 4);
    /* A second flush has nothing to do. */
    ck_assert_int_eq(st_store_flush(s), 0);
    ck_assert_int_eq(r.r_n, 0);
}
END_TEST

START_TEST(hooks_feed_other_store)
{
    rec_t ra, rb;
    st_store_hooks_t ha = rec_hooks(&ra), hb = rec_hooks(&rb);
    st_store_t *a = store_open_ok(env, "a", &ha);
    st_store_t *b = store_open_ok(env, "b", &hb);
    st_store_set_cache_limit(a, 1 << 20);
    st_store_set_cache_limit(b, 1 << 20);
    ra.r_forward_to = b; /* a's changes flow into b, as into an aggregation */

    ck_assert_int_eq(st_store_put(a, B("x"), B("1"), 1), 0);
    ck_assert_int_eq(st_store_put(a, B("y"), B("2"), 2), 0);
    /* b flushed first has nothing; st_env_flush goes round until all are
     * clean. */
    ck_assert_int_eq(st_store_flush(b), 0);
    ck_assert_int_eq(rb.r_n, 0);
    ck_assert_int_eq(st_env_flush(env), 0);
    ck_assert_int_eq(ra.r_forward_rc, 0);
    ck_assert_int_eq(ra.r_n, 4);
    static const char *const wb[] = {"C x=1@1", "F x=1/~@1", "C y=2@2", "F y=2/~@2"};
    rec_expect(&rb, wb, 4);
    ck_assert_int_eq(st_store_count(b), 2);

    /* With b writing through, its hooks run inside a's. */
    st_store_set_cache_limit(b, 0);
    ra.r_n = 0;
    ck_assert_int_eq(st_store_put(a, B("x"), B("3"), 3), 0);
    ck_assert_int_eq(st_env_flush(env), 0);
    static const char *const wb2[] = {"C x=3@3", "F x=3/1@3"};
    rec_expect(&rb, wb2, 2);

    /* A hook may not put into its own store, nor commit. */
    ra.r_self = 1;
    ra.r_forward_to = NULL;
    ck_assert_int_eq(st_store_put(a, B("z"), B("4"), 4), 0);
    ck_assert_int_eq(st_store_flush(a), 0);
    ck_assert_int_eq(ra.r_self_rc, -EBUSY);
    ck_assert_int_eq(logcap.lc_errors, 1);
    ck_assert_msg(strstr(logcap.lc_last, "own hook"), "log: %s", logcap.lc_last);
    char buf[16];
    ck_assert_str_eq(get_str(a, "self", buf, sizeof buf), "");
    ck_assert_str_eq(get_str(a, "z", buf, sizeof buf), "4");
}
END_TEST

/* ---- range ---------------------------------------------------------------- */

typedef struct collect {
    char c_out[1024];
    int c_n;
    int c_stop_after;
    st_store_t *c_delete_from; /* fn deletes each key it sees */
    st_store_t *c_put_into;    /* fn puts "<key>+" ahead of itself */
} collect_t;

static int collect_fn(eddy_bytes_t key, eddy_bytes_t value, void *opaque)
{
    collect_t *c = opaque;
    size_t n = strlen(c->c_out);
    snprintf(c->c_out + n, sizeof c->c_out - n, "%.*s=%.*s,", (int)key.len, (const char *)key.data,
             (int)value.len, (const char *)value.data);
    c->c_n++;
    if (c->c_delete_from) {
        char k[64];
        snprintf(k, sizeof k, "%.*s", (int)key.len, (const char *)key.data);
        ck_assert_int_eq(st_store_put(c->c_delete_from, B(k), EDDY_NULL_BYTES, 0), 0);
    }
    if (c->c_put_into) {
        char k[64];
        snprintf(k, sizeof k, "%.*s0", (int)key.len, (const char *)key.data);
        if (strlen(k) < 6)
            ck_assert_int_eq(st_store_put(c->c_put_into, B(k), B("n"), 0), 0);
    }
    return c->c_stop_after && c->c_n >= c->c_stop_after;
}

static const char *range(st_store_t *s, const char *from, const char *to, collect_t *c)
{
    int stop = c->c_stop_after;
    st_store_t *del = c->c_delete_from, *put = c->c_put_into;
    memset(c, 0, sizeof *c);
    c->c_stop_after = stop;
    c->c_delete_from = del;
    c->c_put_into = put;
    ck_assert_int_eq(st_store_range(s, from ? B(from) : EDDY_NULL_BYTES,
                                    to ? B(to) : EDDY_NULL_BYTES, collect_fn, c),
                     0);
    return c->c_out;
}

START_TEST(range_merges_cache)
{
    st_store_t *s = store_open_ok(env, "s", NULL);
    /* LMDB: a c e g; then the cache: b new, c updated, e deleted, f new. */
    ck_assert_int_eq(st_store_put(s, B("a"), B("1"), 0), 0);
    ck_assert_int_eq(st_store_put(s, B("c"), B("1"), 0), 0);
    ck_assert_int_eq(st_store_put(s, B("e"), B("1"), 0), 0);
    ck_assert_int_eq(st_store_put(s, B("g"), B("1"), 0), 0);
    st_store_set_cache_limit(s, 1 << 20);
    ck_assert_int_eq(st_store_put(s, B("f"), B("2"), 0), 0);
    ck_assert_int_eq(st_store_put(s, B("b"), B("2"), 0), 0);
    ck_assert_int_eq(st_store_put(s, B("c"), B("2"), 0), 0);
    ck_assert_int_eq(st_store_put(s, B("e"), EDDY_NULL_BYTES, 0), 0);
    ck_assert_int_eq(st_store_put(s, B("zz"), EDDY_NULL_BYTES, 0), 0);
    ck_assert_int_eq(st_store_count(s), 4);

    collect_t c = {0};
    ck_assert_str_eq(range(s, NULL, NULL, &c), "a=1,b=2,c=2,f=2,g=1,");
    ck_assert_str_eq(range(s, "b", "e", &c), "b=2,c=2,");
    ck_assert_str_eq(range(s, "bb", "f", &c), "c=2,f=2,");
    ck_assert_str_eq(range(s, "c", NULL, &c), "c=2,f=2,g=1,");
    ck_assert_str_eq(range(s, NULL, "a", &c), "a=1,");
    ck_assert_str_eq(range(s, "h", NULL, &c), "");
    c.c_stop_after = 2;
    ck_assert_str_eq(range(s, NULL, NULL, &c), "a=1,b=2,");
    c.c_stop_after = 0;
    /* After a flush the same answer comes from LMDB alone. */
    ck_assert_int_eq(st_store_flush(s), 0);
    st_store_set_cache_limit(s, 0);
    ck_assert_str_eq(range(s, NULL, NULL, &c), "a=1,b=2,c=2,f=2,g=1,");
}
END_TEST

START_TEST(range_with_writes_in_fn)
{
    st_store_t *s = store_open_ok(env, "s", NULL);
    char key[16];
    for (int i = 0; i < 50; i++) {
        snprintf(key, sizeof key, "k%02d", i);
        ck_assert_int_eq(st_store_put(s, B(key), B("v"), 0), 0);
    }
    /* Deleting each key as it is seen (write through), with automatic
     * commits every 7 writes ending the cursor's transaction. */
    st_env_set_limits(env, 0, 7, 0);
    collect_t c = {0};
    c.c_delete_from = s;
    range(s, NULL, NULL, &c);
    ck_assert_int_eq(c.c_n, 50);
    ck_assert_int_eq(st_store_count(s), 0);

    /* Cache on, fn puts keys ahead of itself: each key seen once, in order. */
    st_store_set_cache_limit(s, 1 << 20);
    ck_assert_int_eq(st_store_put(s, B("a"), B("v"), 0), 0);
    ck_assert_int_eq(st_store_put(s, B("b"), B("v"), 0), 0);
    ck_assert_int_eq(st_store_flush(s), 0);
    collect_t d = {0};
    d.c_put_into = s;
    range(s, NULL, NULL, &d);
    /* Whether "a0" (put while at "a") is seen is left open; no key twice and
     * the order holds. */
    ck_assert_msg(strcmp(d.c_out, "a=v,b=v,") == 0 || strcmp(d.c_out, "a=v,a0=n,a00=n,a000=n,"
                                                                      "a0000=n,b=v,") == 0,
                  "range: %s", d.c_out);
    collect_t e = {0};
    range(s, NULL, NULL, &e);
    ck_assert_str_eq(e.c_out, d.c_n == 2 ? "a=v,a0=n,b=v,b0=n,"
                                         : "a=v,a0=n,a00=n,a000=n,a0000=n,b=v,b0=n,b00=n,"
                                           "b000=n,b0000=n,");
}
END_TEST

/* ---- restore ---------------------------------------------------------------- */

START_TEST(restore_path)
{
    rec_t r;
    st_store_hooks_t h = rec_hooks(&r);
    st_store_t *s = store_open_ok(env, "s", &h);
    char buf[64];
    ck_assert_int_eq(st_store_restore(s, B("a"), B("1")), 0);
    ck_assert_int_eq(st_store_restore(s, B("b"), B("2")), 0);
    ck_assert_int_eq(st_store_restore(s, B("a"), B("3")), 0);
    ck_assert_int_eq(st_store_restore(s, B("b"), EDDY_NULL_BYTES), 0);
    ck_assert_int_eq(st_store_restore(s, B("q"), EDDY_NULL_BYTES), 0); /* absent */
    ck_assert_int_eq(st_store_restore(s, B("c"), B("5")), 0);
    ck_assert_str_eq(get_str(s, "a", buf, sizeof buf), "3");
    ck_assert_str_eq(get_str(s, "b", buf, sizeof buf), "");
    ck_assert_int_eq(st_store_count(s), 2);
    ck_assert_int_eq(r.r_n, 0); /* no hooks */

    /* A restored record replaces a cached one. */
    st_store_set_cache_limit(s, 1 << 20);
    ck_assert_int_eq(st_store_put(s, B("c"), B("cached"), 0), 0);
    ck_assert_int_eq(st_store_restore(s, B("c"), B("6")), 0);
    ck_assert_str_eq(get_str(s, "c", buf, sizeof buf), "6");
    ck_assert_int_eq(st_store_flush(s), 0);
    ck_assert_int_eq(r.r_n, 0);

    st_offset_t off = {"app-s-changelog", 3, 1234};
    ck_assert_int_eq(st_env_commit(env, &off, 1), 0);
    st_env_close(env);
    env = env_open_ok(dir, 4, 0);
    s = store_open_ok(env, "s", NULL);
    ck_assert_int_eq(st_env_checkpoint(env, "app-s-changelog", 3), 1234);
    ck_assert_str_eq(get_str(s, "a", buf, sizeof buf), "3");
    ck_assert_str_eq(get_str(s, "c", buf, sizeof buf), "6");
    ck_assert_int_eq(st_store_count(s), 2);
}
END_TEST

TCase *tcase_store_cache(void)
{
    TCase *tc = tcase_create("store_cache");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, cache_on_put_get_delete);
    tcase_add_test(tc, cache_off_writes_through);
    tcase_add_test(tc, key_limits);
    tcase_add_test(tc, eviction_order_and_budget);
    return tc;
}

TCase *tcase_store_hooks(void)
{
    TCase *tc = tcase_create("store_hooks");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, hooks_collapse_updates);
    tcase_add_test(tc, hooks_feed_other_store);
    return tc;
}

TCase *tcase_store_range(void)
{
    TCase *tc = tcase_create("store_range");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, range_merges_cache);
    tcase_add_test(tc, range_with_writes_in_fn);
    return tc;
}

TCase *tcase_store_restore(void)
{
    TCase *tc = tcase_create("store_restore");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, restore_path);
    return tc;
}

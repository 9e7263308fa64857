/* state/window.c, session stores: the key (end, then start, big-endian)
 * and the order it gives, Kafka's findSessions semantics and the queries a
 * session-window aggregation makes when it merges, expiry, restore and
 * reopen. */
#include "window_helpers.h"

#define MAX_STORES 40

static char dir[256];
static st_env_t *env;
static logcap_t logcap;

static void setup(void)
{
    scratch_new(dir, sizeof dir);
    memset(&logcap, 0, sizeof logcap);
    eddy_log_set_sink(logcap_sink, &logcap);
    env = env_open_ok(dir, MAX_STORES, 0);
}

static void teardown(void)
{
    st_env_close(env);
    env = NULL;
    eddy_log_set_sink(NULL, NULL);
    scratch_rm(dir);
}

static st_session_store_t *session_open_ok(const char *name, int64_t retention, int64_t seg,
                                           const st_store_hooks_t *hooks)
{
    char err[512] = "";
    st_session_store_t *s = st_session_open(env, name, retention, seg, hooks, err, sizeof err);
    ck_assert_msg(s != NULL, "st_session_open(%s): %s", name, err);
    return s;
}

static const char *find(st_session_store_t *s, eddy_bytes_t key, int64_t earliest_end,
                        int64_t latest_start, coll_t *c)
{
    memset(c, 0, sizeof *c);
    ck_assert_int_eq(st_session_find(s, key, earliest_end, latest_start, coll_session, c), 0);
    return c->co_line;
}

static const char *fetch_all(st_session_store_t *s, int64_t from, int64_t to, coll_t *c)
{
    memset(c, 0, sizeof *c);
    ck_assert_int_eq(st_session_fetch_all(s, from, to, coll_session, c), 0);
    return c->co_line;
}

START_TEST(key_is_end_then_start)
{
    wrec_t r;
    st_store_hooks_t h = wrec_hooks(&r);
    st_session_store_t *s = session_open_ok("s", 100000, 100000, &h);
    ck_assert_str_eq(st_session_name(s), "s");
    ck_assert_int_eq(st_session_put(s, B("k"), 100, 200, B("v"), 7), 0);
    /* Kafka's SessionKeySchema.toBinary: key | end | start. */
    static const uint8_t want[17] = {'k', 0, 0, 0, 0, 0, 0, 0, 0xc8, 0, 0, 0, 0, 0, 0, 0, 0x64};
    ck_assert_int_eq(r.w_n, 2);
    ck_assert_int_eq(r.w_calls[0].wc_kind, 'C');
    ck_assert_int_eq(r.w_calls[0].wc_klen, 17);
    ck_assert(memcmp(r.w_calls[0].wc_key, want, 17) == 0);
    ck_assert_int_eq(r.w_calls[0].wc_ts, 7);
    eddy_bytes_t k;
    int64_t start, end;
    ck_assert_int_eq(st_session_key_split(eddy_bytes(want, 17), &k, &start, &end), 0);
    ck_assert_int_eq(start, 100);
    ck_assert_int_eq(end, 200);
    ck_assert_int_eq(k.len, 1);
    ck_assert_int_eq(st_session_key_split(eddy_bytes(want, 15), &k, &start, &end), -EINVAL);

    /* The order: by end, then start (a long session that started first
     * comes after the short ones that end before it). */
    coll_t c;
    ck_assert_int_eq(st_session_put(s, B("k"), 0, 50, B("a"), 0), 0);
    ck_assert_int_eq(st_session_put(s, B("k"), 10, 300, B("b"), 0), 0);
    ck_assert_int_eq(st_session_put(s, B("k"), 150, 200, B("c"), 0), 0);
    ck_assert_int_eq(st_session_put(s, B("k"), 260, 260, B("d"), 0), 0);
    ck_assert_int_eq(st_session_put(s, B("j"), 0, 1000, B("e"), 0), 0);
    ck_assert_str_eq(find(s, B("k"), 0, 100000, &c), "k[0,50]=a k[100,200]=v k[150,200]=c "
                                                     "k[260,260]=d k[10,300]=b ");
    ck_assert_str_eq(fetch_all(s, 0, 100000, &c), "j[0,1000]=e k[0,50]=a k[100,200]=v k[150,200]=c "
                                                  "k[260,260]=d k[10,300]=b ");
    ck_assert_str_eq(fetch_all(s, 200, 299, &c), "k[100,200]=v k[150,200]=c k[260,260]=d ");

    /* get, remove, bad arguments. */
    eddy_bytes_t v;
    ck_assert_int_eq(st_session_get(s, B("k"), 150, 200, &v), 0);
    ck_assert_int_eq(v.len, 1);
    ck_assert_int_eq(memcmp(v.data, "c", 1), 0);
    ck_assert_int_eq(st_session_put(s, B("k"), 150, 200, EDDY_NULL_BYTES, 0), 0);
    ck_assert_int_eq(st_session_get(s, B("k"), 150, 200, &v), -ENOENT);
    ck_assert_int_eq(st_session_get(s, B("k"), 100, 201, &v), -ENOENT);
    ck_assert_int_eq(st_session_count(s), 5);
    ck_assert_int_eq(st_session_put(s, B("k"), 20, 10, B("x"), 0), -EINVAL);
    ck_assert_int_eq(st_session_put(s, B("k"), -1, 10, B("x"), 0), -EINVAL);
    st_session_close(s);
}
END_TEST

START_TEST(find_sessions_semantics)
{
    /* Segments of 1000 ms: sessions by end land in different ones. */
    st_session_store_t *s = session_open_ok("s", 10000, 1000, NULL);
    coll_t c;
    ck_assert_int_eq(st_session_put(s, B("k"), 0, 10, B("A"), 0), 0);
    ck_assert_int_eq(st_session_put(s, B("k"), 20, 30, B("B"), 0), 0);
    ck_assert_int_eq(st_session_put(s, B("k"), 40, 50, B("C"), 0), 0);
    ck_assert_int_eq(st_session_put(s, B("k"), 100, 100, B("D"), 0), 0);
    ck_assert_int_eq(st_session_put(s, B("k"), 5, 2500, B("E"), 0), 0); /* a later segment */
    /* Keys whose LMDB keys interleave with k's, and another key. */
    ck_assert_int_eq(st_session_put(s, eddy_bytes("k\0\0", 3), 25, 35, B("X"), 0), 0);
    ck_assert_int_eq(st_session_put(s, B("j"), 25, 35, B("J"), 0), 0);

    /* end >= 25 and start <= 45: B, C and the long E; not A (ends 10) nor
     * D (starts 100). */
    ck_assert_str_eq(find(s, B("k"), 25, 45, &c), "k[20,30]=B k[40,50]=C k[5,2500]=E ");
    ck_assert_str_eq(find(s, eddy_bytes("k\0\0", 3), 0, 10000, &c), "k00[25,35]=X ");
    /* Bounds are inclusive. */
    ck_assert_str_eq(find(s, B("k"), 30, 40, &c), "k[20,30]=B k[40,50]=C k[5,2500]=E ");
    ck_assert_str_eq(find(s, B("k"), 31, 39, &c), "k[5,2500]=E ");
    ck_assert_str_eq(find(s, B("k"), 0, 0, &c), "k[0,10]=A ");

    /* A session aggregation with gap 5 receives a record at 35: it looks
     * for sessions within [30, 40], merges B and C into [20, 50]. */
    ck_assert_str_eq(find(s, B("k"), 35 - 5, 35 + 5, &c), "k[20,30]=B k[40,50]=C k[5,2500]=E ");
    ck_assert_int_eq(st_session_put(s, B("k"), 20, 30, EDDY_NULL_BYTES, 35), 0);
    ck_assert_int_eq(st_session_put(s, B("k"), 40, 50, EDDY_NULL_BYTES, 35), 0);
    ck_assert_int_eq(st_session_put(s, B("k"), 20, 50, B("BC"), 35), 0);
    ck_assert_str_eq(find(s, B("k"), 0, 10000, &c), "k[0,10]=A k[20,50]=BC k[100,100]=D "
                                                    "k[5,2500]=E ");
    /* A record at 70 with gap 5 finds nothing to merge with but E. */
    ck_assert_str_eq(find(s, B("k"), 65, 75, &c), "k[5,2500]=E ");
    ck_assert_int_eq(st_session_count(s), 6); /* A, BC, D, E, X, J */
    st_session_close(s);
}
END_TEST

START_TEST(expiry_restore_reopen)
{
    wrec_t r;
    st_store_hooks_t h = wrec_hooks(&r);
    st_session_store_t *s = session_open_ok("s", 1000, 500, &h);
    coll_t c;
    ck_assert_int_eq(st_session_put(s, B("k"), 0, 100, B("a"), 0), 0);
    ck_assert_int_eq(st_session_put(s, B("k"), 200, 600, B("b"), 0), 0);
    ck_assert_int_eq(st_session_put(s, B("k"), 900, 1300, B("c"), 0), 0);
    /* Stream time 1300: a session ending before 300 is expired, whatever
     * its start. */
    ck_assert_int_eq(st_session_put(s, B("k"), 50, 299, B("x"), 0), 1);
    ck_assert_int_eq(st_session_put(s, B("k"), 50, 300, B("y"), 0), 0);
    ck_assert_str_eq(find(s, B("k"), 0, 10000, &c), "k[50,300]=y k[200,600]=b k[900,1300]=c ");
    ck_assert_int_eq(st_session_advance(s, 1700), 0); /* limit 700: segment 0 goes */
    ck_assert_int_eq(st_session_count(s), 2);
    ck_assert_str_eq(find(s, B("k"), 0, 10000, &c), "k[900,1300]=c ");
    ck_assert_str_eq(fetch_all(s, 0, 10000, &c), "k[900,1300]=c ");

    /* Restore the recorded changelog into a fresh environment. */
    char dir2[256], err[512];
    scratch_new(dir2, sizeof dir2);
    st_env_t *env2 = env_open_ok(dir2, MAX_STORES, 0);
    st_session_store_t *s2 = st_session_open(env2, "s", 1000, 500, NULL, err, sizeof err);
    ck_assert_msg(s2 != NULL, "%s", err);
    int skipped = 0;
    for (int i = 0; i < r.w_n; i++) {
        wrec_call_t *cl = &r.w_calls[i];
        if (cl->wc_kind != 'C')
            continue;
        int rc = st_session_restore(s2, eddy_bytes(cl->wc_key, (size_t)cl->wc_klen),
                                    B(cl->wc_value));
        ck_assert_int_ge(rc, 0);
        skipped += rc;
    }
    ck_assert_int_eq(skipped, 0); /* in changelog order none had expired yet */
    ck_assert_str_eq(find(s2, B("k"), 0, 10000, &c), "k[50,300]=y k[200,600]=b k[900,1300]=c ");
    /* An old one after the newest: skipped. */
    uint8_t ck[17] = {'k', 0, 0, 0, 0, 0, 0, 0, 0x64, 0, 0, 0, 0, 0, 0, 0, 0x0a}; /* [10,100] */
    ck_assert_int_eq(st_session_restore(s2, eddy_bytes(ck, 17), B("old")), 1);
    ck[16] = 0x65; /* start 101 > end 100 */
    ck_assert_int_eq(st_session_restore(s2, eddy_bytes(ck, 17), B("bad")), -EINVAL);
    ck_assert_int_eq(st_env_flush(env2), 0);
    ck_assert_int_eq(st_env_commit(env2, NULL, 0), 0);
    st_session_close(s2);
    st_env_close(env2);

    /* Reopen: segments found again, stream time from the newest one. */
    env2 = env_open_ok(dir2, MAX_STORES, 0);
    s2 = st_session_open(env2, "s", 1000, 500, NULL, err, sizeof err);
    ck_assert_msg(s2 != NULL, "%s", err);
    /* [0,100] was restored too (not expired when it came) and still sits
     * in segment 0, though expired and no longer readable. */
    ck_assert_int_eq(st_session_count(s2), 4);
    /* Stream time restarts at the newest segment's start (1000, below the
     * 1300 seen before): [0,100] is within retention of it again, as in
     * Kafka, whose stream time restarts unknown. */
    ck_assert_str_eq(find(s2, B("k"), 0, 10000, &c), "k[0,100]=a k[50,300]=y k[200,600]=b "
                                                     "k[900,1300]=c ");
    ck_assert_int_eq(st_session_advance(s2, 1700), 0);
    ck_assert_str_eq(find(s2, B("k"), 0, 10000, &c), "k[900,1300]=c ");
    st_session_close(s2);
    st_env_close(env2);
    char dbs[512];
    list_dbs(dir2, dbs, sizeof dbs);
    ck_assert_str_eq(dbs, "__changelog_offsets s.1000 s.500 ");
    scratch_rm(dir2);
    st_session_close(s);
}
END_TEST

START_TEST(session_cache_collapses)
{
    wrec_t r;
    st_store_hooks_t h = wrec_hooks(&r);
    st_session_store_t *s = session_open_ok("s", 100000, 0, &h);
    st_session_set_cache_limit(s, 1 << 20);
    for (int i = 0; i < 5; i++) {
        char v[8];
        snprintf(v, sizeof v, "%d", i);
        ck_assert_int_eq(st_session_put(s, B("k"), 10, 20, B(v), 20 + i), 0);
    }
    ck_assert_int_eq(r.w_n, 0);
    ck_assert_int_eq(st_session_flush(s), 0);
    ck_assert_int_eq(r.w_n, 2);
    ck_assert_str_eq(r.w_calls[0].wc_value, "4");
    ck_assert_int_eq(r.w_calls[0].wc_ts, 24);
    ck_assert_int_eq(st_session_count(s), 1);
    st_session_close(s);
}
END_TEST

TCase *tcase_session_store(void)
{
    TCase *tc = tcase_create("session_store");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, key_is_end_then_start);
    tcase_add_test(tc, find_sessions_semantics);
    tcase_add_test(tc, expiry_restore_reopen);
    tcase_add_test(tc, session_cache_collapses);
    return tc;
}

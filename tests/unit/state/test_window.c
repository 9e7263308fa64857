/* state/window.c, window stores: put/get/fetch order across segments, keys
 * that interleave in byte order, duplicates and their seqnums, expiry and
 * segment drops, reopen, restore, the changelog key format, the cache. */
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

static st_window_store_t *window_open_ok(const char *name, int64_t retention, int64_t seg, int dups,
                                         const st_store_hooks_t *hooks)
{
    char err[512] = "";
    st_window_store_t *w = st_window_open(env, name, retention, seg, dups, hooks, err, sizeof err);
    ck_assert_msg(w != NULL, "st_window_open(%s): %s", name, err);
    return w;
}

static void reopen_env(void)
{
    st_env_close(env);
    env = env_open_ok(dir, MAX_STORES, 0);
}

/* The value of key's window at start as a string ("" when -ENOENT). */
static const char *wget(st_window_store_t *w, eddy_bytes_t key, int64_t start, char *buf,
                        size_t size)
{
    eddy_bytes_t v;
    int rc = st_window_get(w, key, start, &v);
    if (rc == -ENOENT) {
        buf[0] = 0;
        return buf;
    }
    ck_assert_msg(rc == 0, "get @%" PRId64 ": %s", start, eddy_strerror(rc));
    snprintf(buf, size, "%.*s", (int)v.len, (const char *)v.data);
    return buf;
}

static const char *fetch(st_window_store_t *w, eddy_bytes_t key, int64_t from, int64_t to,
                         coll_t *c)
{
    memset(c, 0, sizeof *c);
    ck_assert_int_eq(st_window_fetch(w, key, from, to, coll_window, c), 0);
    return c->co_line;
}

static const char *fetch_all(st_window_store_t *w, int64_t from, int64_t to, coll_t *c)
{
    memset(c, 0, sizeof *c);
    ck_assert_int_eq(st_window_fetch_all(w, from, to, coll_window, c), 0);
    return c->co_line;
}

/* ---- basics ----------------------------------------------------------------- */

START_TEST(put_get_fetch_order)
{
    st_window_store_t *w = window_open_ok("w", 20000, 1000, 0, NULL);
    ck_assert_str_eq(st_window_name(w), "w");
    char buf[64];
    coll_t c;

    /* Out of order, over three segments (0-999 holds none). */
    ck_assert_int_eq(st_window_put(w, B("k"), 3000, B("k3000"), 3001), 0);
    ck_assert_int_eq(st_window_put(w, B("k"), 1000, B("k1000"), 1001), 0);
    ck_assert_int_eq(st_window_put(w, B("k"), 2000, B("k2000"), 2001), 0);
    ck_assert_int_eq(st_window_put(w, B("k"), 1500, B("k1500"), 1501), 0);
    ck_assert_int_eq(st_window_put(w, B("j"), 1000, B("j1000"), 1001), 0);
    ck_assert_int_eq(st_window_put(w, B("z"), 2999, B("z2999"), 1001), 0);
    ck_assert_int_eq(st_window_segments(w), 3);
    ck_assert_int_eq(st_window_count(w), 6);
    ck_assert_int_eq(st_window_stream_time(w), 3000);

    ck_assert_str_eq(wget(w, B("k"), 1500, buf, sizeof buf), "k1500");
    ck_assert_str_eq(wget(w, B("j"), 1000, buf, sizeof buf), "j1000");
    ck_assert_str_eq(wget(w, B("k"), 1001, buf, sizeof buf), "");
    ck_assert_str_eq(wget(w, B("k"), 500, buf, sizeof buf), ""); /* no segment at all */

    /* One key: ascending start across segments. */
    ck_assert_str_eq(fetch(w, B("k"), 1000, 2000, &c), "k@1000=k1000 k@1500=k1500 k@2000=k2000 ");
    ck_assert_str_eq(fetch(w, B("k"), 1001, 2999, &c), "k@1500=k1500 k@2000=k2000 ");
    ck_assert_str_eq(fetch(w, B("k"), 0, 20000, &c), "k@1000=k1000 k@1500=k1500 k@2000=k2000 "
                                                     "k@3000=k3000 ");
    ck_assert_str_eq(fetch(w, B("q"), 0, 20000, &c), "");
    /* fn stops the iteration. */
    memset(&c, 0, sizeof c);
    c.co_stop_after = 2;
    ck_assert_int_eq(st_window_fetch(w, B("k"), 0, 5000, coll_window, &c), 0);
    ck_assert_str_eq(c.co_line, "k@1000=k1000 k@1500=k1500 ");

    /* All keys: by segment, then key, then start. */
    ck_assert_str_eq(fetch_all(w, 0, 20000, &c), "j@1000=j1000 k@1000=k1000 k@1500=k1500 "
                                                 "k@2000=k2000 z@2999=z2999 "
                                                 "k@3000=k3000 ");
    ck_assert_str_eq(fetch_all(w, 1500, 2999, &c), "k@1500=k1500 k@2000=k2000 z@2999=z2999 ");

    /* Replace, then delete. */
    ck_assert_int_eq(st_window_put(w, B("k"), 1500, B("new"), 1502), 0);
    ck_assert_str_eq(wget(w, B("k"), 1500, buf, sizeof buf), "new");
    ck_assert_int_eq(st_window_put(w, B("k"), 1500, EDDY_NULL_BYTES, 1503), 0);
    ck_assert_str_eq(wget(w, B("k"), 1500, buf, sizeof buf), "");
    ck_assert_int_eq(st_window_count(w), 5);

    /* Negative times and null keys are refused. */
    ck_assert_int_eq(st_window_put(w, B("k"), -1, B("x"), 0), -EINVAL);
    ck_assert_int_eq(st_window_advance(w, -5), -EINVAL);
    ck_assert_int_eq(st_window_fetch(w, B("k"), -1, 10, coll_window, &c), -EINVAL);
    ck_assert_int_eq(st_window_get(w, B("k"), -1, &(eddy_bytes_t){0}), -EINVAL);
    ck_assert_int_eq(st_window_put(w, EDDY_NULL_BYTES, 1000, B("x"), 0), EDDY_ERR_INVALID_ARG);
    char big[600];
    memset(big, 'x', sizeof big);
    /* Past LMDB's 511 bytes with the suffix: stored all the same. */
    ck_assert_int_eq(st_window_put(w, eddy_bytes(big, 500), 1000, B("x"), 0), 0);
    ck_assert_int_eq(st_window_put(w, eddy_bytes(big, 600), 1000, B("y"), 0), 0);
    ck_assert_str_eq(wget(w, eddy_bytes(big, 500), 1000, buf, sizeof buf), "x");
    ck_assert_str_eq(wget(w, eddy_bytes(big, 600), 1000, buf, sizeof buf), "y");
    /* An empty (not null) key is a key. */
    ck_assert_int_eq(st_window_put(w, eddy_bytes("", 0), 2000, B("empty"), 0), 0);
    ck_assert_str_eq(fetch(w, eddy_bytes("", 0), 0, 5000, &c), "@2000=empty ");
    st_window_close(w);
}
END_TEST

START_TEST(keys_that_interleave)
{
    /* The LMDB keys of "a\0\0" at 5 sort between those of "a" at 1 and at
     * 1000: a fetch of "a" must skip them, and the reverse. */
    st_window_store_t *w = window_open_ok("w", 100000, 100000, 0, NULL);
    eddy_bytes_t a = B("a"), a00 = eddy_bytes("a\0\0", 3), a0x = eddy_bytes("a\0x", 3);
    coll_t c;
    char buf[64];
    ck_assert_int_eq(st_window_put(w, a, 1, B("a1"), 0), 0);
    ck_assert_int_eq(st_window_put(w, a, 1000, B("a1000"), 0), 0);
    ck_assert_int_eq(st_window_put(w, a00, 5, B("a00@5"), 0), 0);
    ck_assert_int_eq(st_window_put(w, a0x, 5, B("a0x@5"), 0), 0);
    ck_assert_int_eq(st_window_put(w, B("b"), 5, B("b5"), 0), 0);

    ck_assert_str_eq(fetch(w, a, 0, 100000, &c), "a@1=a1 a@1000=a1000 ");
    ck_assert_str_eq(fetch(w, a00, 0, 100000, &c), "a00@5=a00@5 ");
    ck_assert_str_eq(fetch(w, a0x, 0, 100000, &c), "a0x@5=a0x@5 ");
    ck_assert_str_eq(wget(w, a, 5, buf, sizeof buf), "");
    ck_assert_str_eq(wget(w, a00, 5, buf, sizeof buf), "a00@5");
    /* fetch_all hands out each key part whole, in the order of the LMDB
     * keys: "a\0\0"@5 (61 00 00 | 00..05) sorts before "a"@1 (61 | 00..01),
     * "a\0x"@5 after "a"@1000 (61 | 00..03 e8). */
    ck_assert_str_eq(fetch_all(w, 0, 100000, &c), "a00@5=a00@5 a@1=a1 a@1000=a1000 a0x@5=a0x@5 "
                                                  "b@5=b5 ");
    st_window_close(w);
}
END_TEST

/* ---- duplicates -------------------------------------------------------------- */

START_TEST(duplicates_get_seqnums)
{
    wrec_t r;
    st_store_hooks_t h = wrec_hooks(&r);
    st_window_store_t *w = window_open_ok("join", 10000, 0, 1, &h);
    coll_t c;
    ck_assert_int_eq(st_window_put(w, B("k"), 100, B("x"), 100), 0);
    ck_assert_int_eq(st_window_put(w, B("k"), 100, B("y"), 101), 0);
    /* A null is ignored (Kafka): not a delete, and it takes no seqnum. */
    ck_assert_int_eq(st_window_put(w, B("k"), 100, EDDY_NULL_BYTES, 103), 0);
    ck_assert_int_eq(st_window_put(w, B("k"), 50, B("early"), 101), 0);
    ck_assert_int_eq(st_window_put(w, B("k"), 100, B("z"), 102), 0);
    ck_assert_int_eq(st_window_count(w), 4);
    ck_assert_str_eq(fetch(w, B("k"), 0, 1000, &c), "k@50=early k@100=x k@100=y k@100=z ");
    eddy_bytes_t v;
    ck_assert_int_eq(st_window_get(w, B("k"), 100, &v), -EINVAL);

    /* Write-through: each put reached the changelog with its own seqnum. */
    int nc = 0;
    uint32_t seqs[8];
    for (int i = 0; i < r.w_n; i++) {
        if (r.w_calls[i].wc_kind != 'C')
            continue;
        eddy_bytes_t k;
        int64_t start;
        ck_assert_int_eq(st_window_key_split(eddy_bytes(r.w_calls[i].wc_key,
                                                        (size_t)r.w_calls[i].wc_klen),
                                             &k, &start, &seqs[nc]),
                         0);
        ck_assert_int_eq(k.len, 1);
        nc++;
    }
    ck_assert_int_eq(nc, 4);
    ck_assert_uint_eq(seqs[0], 1);
    ck_assert_uint_eq(seqs[1], 2);
    ck_assert_uint_eq(seqs[2], 3);
    ck_assert_uint_eq(seqs[3], 4);

    /* After a reopen the counter starts again, but a new duplicate never
     * replaces one written before. */
    env_commit_ok(env);
    st_window_close(w);
    reopen_env();
    w = window_open_ok("join", 10000, 0, 1, NULL);
    ck_assert_int_eq(st_window_count(w), 4);
    ck_assert_int_eq(st_window_put(w, B("k"), 100, B("w"), 104), 0);
    ck_assert_int_eq(st_window_put(w, B("k"), 50, B("e2"), 104), 0);
    ck_assert_int_eq(st_window_count(w), 6);
    ck_assert_str_eq(fetch(w, B("k"), 0, 1000, &c), "k@50=early k@50=e2 k@100=x k@100=y k@100=z "
                                                    "k@100=w ");
    st_window_close(w);
}
END_TEST

/* ---- retention ------------------------------------------------------------------ */

START_TEST(expired_puts_and_segment_drops)
{
    /* Retention 1000 ms in segments of 500 ms. */
    st_window_store_t *w = window_open_ok("w", 1000, 500, 0, NULL);
    coll_t c;
    char buf[64], dbs[1024];
    ck_assert_int_eq(st_window_put(w, B("k"), 0, B("0"), 0), 0);
    ck_assert_int_eq(st_window_put(w, B("k"), 550, B("550"), 0), 0);
    ck_assert_int_eq(st_window_put(w, B("k"), 600, B("600"), 0), 0);
    ck_assert_int_eq(st_window_put(w, B("k"), 1200, B("1200"), 0), 0);
    ck_assert_int_eq(st_window_segments(w), 3);
    /* Stream time 1200: 199 is older than 1200 - 1000, 200 is not. */
    ck_assert_int_eq(st_window_put(w, B("k"), 199, B("199"), 0), 1);
    ck_assert_int_eq(st_window_put(w, B("j"), 100, B("100"), 0), 1);
    ck_assert_int_eq(st_window_put(w, B("k"), 200, B("200"), 0), 0);
    ck_assert_int_eq(st_window_count(w), 5);
    /* An expired window is no longer readable, though its segment lives. */
    ck_assert_str_eq(wget(w, B("k"), 0, buf, sizeof buf), "");
    ck_assert_str_eq(fetch(w, B("k"), 0, 5000, &c), "k@200=200 k@550=550 k@600=600 k@1200=1200 ");

    /* Stream time 1600: segment 0 (0-499) is wholly older than 600 and goes
     * with its two entries; segment 500 stays, but 550 is expired. */
    ck_assert_int_eq(st_window_advance(w, 1600), 0);
    ck_assert_int_eq(st_window_segments(w), 2);
    ck_assert_int_eq(st_window_count(w), 3);
    ck_assert_str_eq(fetch(w, B("k"), 0, 5000, &c), "k@600=600 k@1200=1200 ");
    ck_assert_str_eq(fetch_all(w, 0, 5000, &c), "k@600=600 k@1200=1200 ");
    ck_assert_str_eq(wget(w, B("k"), 550, buf, sizeof buf), "");
    ck_assert_int_eq(st_window_put(w, B("k"), 599, B("x"), 0), 1);
    /* Stream time never goes back. */
    ck_assert_int_eq(st_window_advance(w, 10), 0);
    ck_assert_int_eq(st_window_stream_time(w), 1600);
    ck_assert_int_eq(st_window_put(w, B("k"), 599, B("x"), 0), 1);

    /* The dropped segment's database is gone from the file. */
    env_commit_ok(env);
    st_window_close(w);
    st_env_close(env);
    list_dbs(dir, dbs, sizeof dbs);
    ck_assert_str_eq(dbs, "__changelog_offsets w.1000 w.500 ");
    env = env_open_ok(dir, MAX_STORES, 0);
    w = window_open_ok("w", 1000, 500, 0, NULL);
    ck_assert_int_eq(st_window_segments(w), 2);
    /* Stream time restarts at the newest segment's start. */
    ck_assert_int_eq(st_window_stream_time(w), 1000);
    ck_assert_int_eq(st_window_count(w), 3);

    /* A put far ahead drops everything older at once. */
    ck_assert_int_eq(st_window_put(w, B("k"), 100000, B("far"), 0), 0);
    ck_assert_int_eq(st_window_segments(w), 1);
    ck_assert_int_eq(st_window_count(w), 1);
    ck_assert_int_eq(logcap.lc_errors, 0);
    env_commit_ok(env);
    st_window_close(w);
    st_env_close(env);
    list_dbs(dir, dbs, sizeof dbs);
    ck_assert_str_eq(dbs, "__changelog_offsets w.100000 ");
    env = env_open_ok(dir, MAX_STORES, 0);
}
END_TEST

static st_window_store_t *advancing_store;
static int advancing_calls;

static int advance_in_fetch(eddy_bytes_t key, int64_t start, eddy_bytes_t value, void *opaque)
{
    (void)key, (void)start, (void)value, (void)opaque;
    advancing_calls++;
    ck_assert_int_eq(st_window_advance(advancing_store, 5000), 0);
    /* And a put that needs a new segment. */
    ck_assert_int_eq(st_window_put(advancing_store, B("n"), 4900, B("new"), 0), 0);
    return 0;
}

/* A fetch callback that advances stream time past the segments being read
 * and puts into a new one: the drops wait until the fetch returns (no use
 * after free), the new segment is not visited. */
START_TEST(fetch_callback_advances_and_puts)
{
    st_window_store_t *w = window_open_ok("w", 1000, 500, 0, NULL);
    ck_assert_int_eq(st_window_put(w, B("k"), 100, B("a"), 0), 0);
    ck_assert_int_eq(st_window_put(w, B("k"), 200, B("b"), 0), 0);
    ck_assert_int_eq(st_window_put(w, B("k"), 700, B("c"), 0), 0);
    advancing_store = w;
    advancing_calls = 0;
    ck_assert_int_eq(st_window_fetch(w, B("k"), 0, 1000, advance_in_fetch, NULL), 0);
    /* The fetch saw the three windows it started with. */
    ck_assert_int_eq(advancing_calls, 3);
    /* Once it returned, the expired segments went. */
    ck_assert_int_eq(st_window_segments(w), 1);
    ck_assert_int_eq(st_window_count(w), 1);
    coll_t c;
    ck_assert_str_eq(fetch_all(w, 0, 10000, &c), "n@4900=new ");
    st_window_close(w);
}
END_TEST

/* ---- commit, reopen, restore ----------------------------------------------------- */

START_TEST(reopen_keeps_committed_loses_uncommitted)
{
    st_window_store_t *w = window_open_ok("w", 20000, 1000, 0, NULL);
    coll_t c;
    ck_assert_int_eq(st_window_put(w, B("k"), 1000, B("c1"), 0), 0);
    ck_assert_int_eq(st_window_put(w, B("k"), 2000, B("c2"), 0), 0);
    st_offset_t off = {"app-w-changelog", 0, 42};
    ck_assert_int_eq(st_env_flush(env), 0);
    ck_assert_int_eq(st_env_commit(env, &off, 1), 0);
    /* Not committed: a new segment first (its creation commits the open
     * transaction, empty here), then writes to old and new segments. */
    ck_assert_int_eq(st_window_put(w, B("k"), 5000, B("u5"), 0), 0);
    ck_assert_int_eq(st_window_put(w, B("k"), 1000, B("u1"), 0), 0);
    ck_assert_int_eq(st_window_put(w, B("k"), 2000, EDDY_NULL_BYTES, 0), 0);
    ck_assert_str_eq(fetch(w, B("k"), 0, 10000, &c), "k@1000=u1 k@5000=u5 ");
    st_window_close(w);
    reopen_env();

    w = window_open_ok("w", 20000, 1000, 0, NULL);
    ck_assert_int_eq(st_env_checkpoint(env, "app-w-changelog", 0), 42);
    ck_assert_str_eq(fetch(w, B("k"), 0, 10000, &c), "k@1000=c1 k@2000=c2 ");
    ck_assert_int_eq(st_window_count(w), 2);
    /* The empty segment 5000 was found again too. */
    ck_assert_int_eq(st_window_segments(w), 3);
    st_window_close(w);
}
END_TEST

START_TEST(restore_from_changelog_keys)
{
    /* Record a changelog through the hooks, then restore it elsewhere. */
    wrec_t r;
    st_store_hooks_t h = wrec_hooks(&r);
    st_window_store_t *w = window_open_ok("w", 1000, 500, 0, &h);
    ck_assert_int_eq(st_window_put(w, B("k"), 100, B("a"), 0), 0);
    ck_assert_int_eq(st_window_put(w, B("k"), 700, B("b"), 0), 0);
    ck_assert_int_eq(st_window_put(w, B("j"), 700, B("c"), 0), 0);
    ck_assert_int_eq(st_window_put(w, B("k"), 100, EDDY_NULL_BYTES, 0), 0);
    ck_assert_int_eq(st_window_put(w, B("k"), 900, B("d"), 0), 0);
    st_window_close(w);

    char dir2[256];
    scratch_new(dir2, sizeof dir2);
    st_env_t *env2 = env_open_ok(dir2, MAX_STORES, 0);
    char err[512];
    wrec_t r2;
    st_store_hooks_t h2 = wrec_hooks(&r2);
    st_window_store_t *w2 = st_window_open(env2, "w", 1000, 500, 0, &h2, err, sizeof err);
    ck_assert_msg(w2 != NULL, "%s", err);
    for (int i = 0; i < r.w_n; i++) {
        wrec_call_t *cl = &r.w_calls[i];
        if (cl->wc_kind != 'C')
            continue;
        eddy_bytes_t v = strcmp(cl->wc_value, "~") == 0 ? EDDY_NULL_BYTES : B(cl->wc_value);
        ck_assert_int_eq(st_window_restore(w2, eddy_bytes(cl->wc_key, (size_t)cl->wc_klen), v), 0);
    }
    coll_t c;
    ck_assert_str_eq(fetch_all(w2, 0, 10000, &c), "j@700=c k@700=b k@900=d ");
    ck_assert_int_eq(st_window_count(w2), 3);
    /* Restore calls no hook. */
    ck_assert_int_eq(r2.w_n, 0);

    /* Stream time follows the restored windows: a record older than
     * 2000 - 1000 is skipped (1), and so are too-short keys (-EINVAL). */
    uint8_t ck[13] = {'k', 0, 0, 0, 0, 0, 0, 0x07, 0xd0, 0, 0, 0, 0}; /* k@2000 */
    ck_assert_int_eq(st_window_restore(w2, eddy_bytes(ck, 13), B("e")), 0);
    ck[7] = 0x03, ck[8] = 0xe7; /* k@999 */
    ck_assert_int_eq(st_window_restore(w2, eddy_bytes(ck, 13), B("old")), 1);
    ck_assert_int_eq(st_window_restore(w2, eddy_bytes(ck, 11), B("short")), -EINVAL);
    ck_assert_str_eq(fetch_all(w2, 0, 10000, &c), "k@2000=e ");
    ck_assert_int_eq(st_window_segments(w2), 1);
    st_window_close(w2);
    st_env_close(env2);
    scratch_rm(dir2);
}
END_TEST

/* ---- hooks and cache -------------------------------------------------------------- */

START_TEST(changelog_gets_kafka_key)
{
    wrec_t r;
    st_store_hooks_t h = wrec_hooks(&r);
    st_window_store_t *w = window_open_ok("w", 100000, 60000, 0, &h);
    ck_assert_int_eq(st_window_put(w, B("k"), 1000, B("v1"), 1234), 0);
    ck_assert_int_eq(st_window_put(w, B("k"), 1000, B("v2"), 1235), 0);
    /* Kafka's WindowKeySchema.toStoreKeyBinary("k", 1000, 0). */
    static const uint8_t want[13] = {'k', 0, 0, 0, 0, 0, 0, 0x03, 0xe8, 0, 0, 0, 0};
    ck_assert_int_eq(r.w_n, 4);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(r.w_calls[i].wc_klen, 13);
        ck_assert_msg(memcmp(r.w_calls[i].wc_key, want, 13) == 0, "call %d: key bytes", i);
        ck_assert_str_eq(r.w_calls[i].wc_store, "w.0");
    }
    ck_assert_int_eq(r.w_calls[0].wc_kind, 'C');
    ck_assert_str_eq(r.w_calls[0].wc_value, "v1");
    ck_assert_int_eq(r.w_calls[0].wc_ts, 1234);
    ck_assert_int_eq(r.w_calls[1].wc_kind, 'F');
    ck_assert_str_eq(r.w_calls[1].wc_old, "~");
    ck_assert_str_eq(r.w_calls[3].wc_value, "v2");
    ck_assert_str_eq(r.w_calls[3].wc_old, "v1");

    /* With duplicates the seqnum counts from 1. */
    wrec_t rd;
    st_store_hooks_t hd = wrec_hooks(&rd);
    st_window_store_t *d = window_open_ok("d", 100000, 60000, 1, &hd);
    ck_assert_int_eq(st_window_put(d, B("k"), 1000, B("v"), 1), 0);
    ck_assert_int_eq(st_window_put(d, B("k"), 1000, B("v"), 1), 0);
    static const uint8_t want1[13] = {'k', 0, 0, 0, 0, 0, 0, 0x03, 0xe8, 0, 0, 0, 1};
    static const uint8_t want2[13] = {'k', 0, 0, 0, 0, 0, 0, 0x03, 0xe8, 0, 0, 0, 2};
    ck_assert_int_eq(rd.w_n, 4);
    ck_assert(memcmp(rd.w_calls[0].wc_key, want1, 13) == 0);
    ck_assert(memcmp(rd.w_calls[2].wc_key, want2, 13) == 0);

    /* A large start: all 8 bytes big-endian. */
    rd.w_n = 0;
    int64_t t = 0x0102030405060708LL;
    ck_assert_int_eq(st_window_put(d, B("k"), t, B("v"), 1), 0);
    static const uint8_t want3[13] = {'k', 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 3};
    ck_assert(memcmp(rd.w_calls[0].wc_key, want3, 13) == 0);
    eddy_bytes_t k;
    int64_t start;
    uint32_t seq;
    ck_assert_int_eq(st_window_key_split(eddy_bytes(want3, 13), &k, &start, &seq), 0);
    ck_assert_int_eq(start, t);
    ck_assert_uint_eq(seq, 3);
    ck_assert_int_eq(k.len, 1);
    ck_assert_int_eq(st_window_key_split(eddy_bytes(want3, 11), &k, &start, &seq), -EINVAL);
    st_window_close(w);
    st_window_close(d);
}
END_TEST

START_TEST(cache_collapses_updates)
{
    wrec_t r;
    st_store_hooks_t h = wrec_hooks(&r);
    st_window_store_t *w = window_open_ok("w", 20000, 1000, 0, &h);
    st_window_set_cache_limit(w, 1 << 20);
    char buf[64];
    ck_assert_int_eq(st_window_put(w, B("k"), 100, B("1"), 10), 0);
    ck_assert_int_eq(st_window_put(w, B("k"), 100, B("2"), 11), 0);
    ck_assert_int_eq(st_window_put(w, B("k"), 100, B("3"), 12), 0);
    ck_assert_int_eq(st_window_put(w, B("k"), 2100, B("x"), 13), 0);
    ck_assert_str_eq(wget(w, B("k"), 100, buf, sizeof buf), "3");
    coll_t c;
    ck_assert_str_eq(fetch(w, B("k"), 0, 5000, &c), "k@100=3 k@2100=x ");
    ck_assert_int_eq(st_window_count(w), 0);
    ck_assert_int_eq(r.w_n, 0);
    /* The env's flush (the runtime's commit) reaches the segments. */
    ck_assert_int_eq(st_env_flush(env), 0);
    ck_assert_int_eq(st_window_count(w), 2);
    int changelogs = 0;
    for (int i = 0; i < r.w_n; i++)
        if (r.w_calls[i].wc_kind == 'C') {
            changelogs++;
            if (strcmp(r.w_calls[i].wc_store, "w.0") == 0) {
                ck_assert_str_eq(r.w_calls[i].wc_value, "3");
                ck_assert_int_eq(r.w_calls[i].wc_ts, 12);
            }
        }
    ck_assert_int_eq(changelogs, 2);
    /* A window put and deleted between flushes reaches nothing. */
    r.w_n = 0;
    ck_assert_int_eq(st_window_put(w, B("q"), 200, B("1"), 0), 0);
    ck_assert_int_eq(st_window_put(w, B("q"), 200, EDDY_NULL_BYTES, 0), 0);
    ck_assert_int_eq(st_window_flush(w), 0);
    ck_assert_int_eq(r.w_n, 0);
    ck_assert_int_eq(st_window_count(w), 2);
    st_window_close(w);
}
END_TEST

START_TEST(expiring_segment_flushes_its_cache_first)
{
    /* A window still in the cache when stream time expires its segment
     * goes to the hooks (downstream, changelog) before the segment goes:
     * an update is never lost between two commits. */
    wrec_t r;
    st_store_hooks_t h = wrec_hooks(&r);
    st_window_store_t *w = window_open_ok("w", 1000, 500, 0, &h);
    st_window_set_cache_limit(w, 1 << 20);
    ck_assert_int_eq(st_window_put(w, B("k"), 100, B("7"), 100), 0);
    ck_assert_int_eq(r.w_n, 0);
    ck_assert_int_eq(st_window_advance(w, 100000), 0);
    int forwards = 0, changelogs = 0;
    for (int i = 0; i < r.w_n; i++) {
        if (strcmp(r.w_calls[i].wc_value, "7") != 0)
            continue;
        forwards += r.w_calls[i].wc_kind == 'F';
        changelogs += r.w_calls[i].wc_kind == 'C';
    }
    ck_assert_int_eq(forwards, 1);
    ck_assert_int_eq(changelogs, 1);
    ck_assert_int_eq(st_window_segments(w), 0);
    st_window_close(w);
}
END_TEST

START_TEST(env_sizing)
{
    ck_assert_int_eq(st_window_max_segments(1000, 500), 4);
    /* Default interval: max(retention / 2, 60000). */
    ck_assert_int_eq(st_window_max_segments(86400000, 0), 4);
    ck_assert_int_eq(st_window_max_segments(1000, 0), 2);
    /* The interval the store uses and the one it is sized for are one rule. */
    ck_assert_int_eq(st_window_segment_ms(86400000, 0), 43200000);
    ck_assert_int_eq(st_window_segment_ms(1000, 0), 60000);
    ck_assert_int_eq(st_window_segment_ms(1000, 500), 500);
    /* An environment without room for the segments refuses at open. */
    st_env_t *small = NULL;
    char d2[256], err[512] = "";
    scratch_new(d2, sizeof d2);
    small = env_open_ok(d2, 3, 0);
    ck_assert_ptr_null(st_window_open(small, "w", 1000, 500, 0, NULL, err, sizeof err));
    ck_assert_msg(strstr(err, "st_window_max_segments"), "%s", err);
    ck_assert_ptr_null(st_window_open(small, "w", -1, 500, 0, NULL, err, sizeof err));
    st_window_store_t *w = st_window_open(small, "w", 1000, 0, 0, NULL, err, sizeof err);
    ck_assert_msg(w != NULL, "%s", err);
    st_window_close(w);
    st_env_close(small);
    scratch_rm(d2);
}
END_TEST

/* An environment sized by st_window_max_segments alone runs through 200
 * segments: dropped segments give back their store slot and LMDB's
 * database slot. */
START_TEST(segments_recycle_env_slots)
{
    int max = st_window_max_segments(1000, 500);
    char d2[256], err[512] = "";
    scratch_new(d2, sizeof d2);
    st_env_t *small = env_open_ok(d2, max, 0);
    st_window_store_t *w = st_window_open(small, "w", 1000, 500, 0, NULL, err, sizeof err);
    ck_assert_msg(w != NULL, "%s", err);
    for (int64_t t = 0; t < 100000; t += 250) {
        ck_assert_int_eq(st_window_put(w, B("k"), t, B("v"), t), 0);
        ck_assert_int_le(st_window_segments(w), max);
        if (t % 10000 == 0) {
            ck_assert_int_eq(st_env_flush(small), 0);
            ck_assert_int_eq(st_env_commit(small, NULL, 0), 0);
        }
    }
    /* Stream time 99750: windows from 98750 on are live (5 of them). */
    coll_t c;
    memset(&c, 0, sizeof c);
    ck_assert_int_eq(st_window_fetch(w, B("k"), 0, 200000, coll_window, &c), 0);
    ck_assert_int_eq(c.co_n, 5);
    ck_assert_int_eq(logcap.lc_errors, 0);
    st_window_close(w);
    st_env_close(small);
    scratch_rm(d2);
}
END_TEST

/* A cached key-value store whose forward hook feeds a windowed store (a
 * table's changes aggregated by window): the window put runs during the
 * table's flush and needs a new segment, later drops old ones. */
static st_window_store_t *fed_window;
static int fed_rc_sum;

static void feed_window(st_store_t *s, eddy_bytes_t key, eddy_bytes_t nv, eddy_bytes_t ov,
                        int64_t ts, void *opaque)
{
    (void)s, (void)ov, (void)opaque;
    int rc = st_window_put(fed_window, key, ts, nv, ts);
    ck_assert_int_ge(rc, 0);
    fed_rc_sum += rc;
}

START_TEST(put_from_another_stores_hook)
{
    st_window_store_t *w = window_open_ok("w", 1000, 500, 0, NULL);
    fed_window = w;
    fed_rc_sum = 0;
    st_store_hooks_t h = {NULL, feed_window, NULL};
    st_store_t *t = store_open_ok(env, "table", &h);
    st_store_set_cache_limit(t, 1 << 20);
    ck_assert_int_eq(st_store_put(t, B("a"), B("1"), 100), 0);
    ck_assert_int_eq(st_store_put(t, B("b"), B("2"), 700), 0);
    ck_assert_int_eq(st_window_segments(w), 0);
    ck_assert_int_eq(st_env_flush(env), 0);
    ck_assert_int_eq(st_window_segments(w), 2);
    ck_assert_int_eq(st_store_put(t, B("c"), B("3"), 5000), 0);
    ck_assert_int_eq(st_store_put(t, B("d"), B("4"), 200), 0); /* expired by then */
    ck_assert_int_eq(st_env_flush(env), 0);
    ck_assert_int_eq(fed_rc_sum, 1);
    ck_assert_int_eq(st_window_segments(w), 1);
    coll_t c;
    ck_assert_str_eq(fetch_all(w, 0, 10000, &c), "c@5000=3 ");
    ck_assert_int_eq(st_env_commit(env, NULL, 0), 0);
    ck_assert_int_eq(st_store_count(t), 4);
    ck_assert_int_eq(logcap.lc_errors, 0);
    st_window_close(w);
}
END_TEST

TCase *tcase_window_store(void)
{
    TCase *tc = tcase_create("window_store");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, put_get_fetch_order);
    tcase_add_test(tc, keys_that_interleave);
    tcase_add_test(tc, duplicates_get_seqnums);
    tcase_add_test(tc, expired_puts_and_segment_drops);
    tcase_add_test(tc, fetch_callback_advances_and_puts);
    tcase_add_test(tc, reopen_keeps_committed_loses_uncommitted);
    tcase_add_test(tc, restore_from_changelog_keys);
    tcase_add_test(tc, changelog_gets_kafka_key);
    tcase_add_test(tc, cache_collapses_updates);
    tcase_add_test(tc, expiring_segment_flushes_its_cache_first);
    tcase_add_test(tc, env_sizing);
    tcase_add_test(tc, put_from_another_stores_hook);
    tcase_add_test(tc, segments_recycle_env_slots);
    return tc;
}

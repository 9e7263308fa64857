/* state/env.c: commits and checkpoints across close and reopen (a close
 * without commit is a crash), automatic commits, map growth from a tiny map
 * and a full map at its limit, reads from another thread, wipe, and the
 * errors of open. */
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "state_helpers.h"

static char dir[256];
static logcap_t logcap;
static int saved_level;

static void setup(void)
{
    scratch_new(dir, sizeof dir);
    memset(&logcap, 0, sizeof logcap);
    saved_level = eddy_log_level;
    eddy_log_set_sink(logcap_sink, &logcap);
}

static void teardown(void)
{
    eddy_log_set_sink(NULL, NULL);
    eddy_log_level = saved_level;
    scratch_rm(dir);
}

/* ---- commit and checkpoint -------------------------------------------------- */

START_TEST(checkpoint_survives_only_committed)
{
    char buf[64];
    st_env_t *env = env_open_ok(dir, 2, 0);
    st_store_t *s = store_open_ok(env, "s", NULL);
    ck_assert_int_eq(st_env_checkpoint(env, "t", 0), -1);
    ck_assert_int_eq(st_store_put(s, B("a"), B("1"), 0), 0);
    ck_assert_int_eq(st_store_restore(s, B("b"), B("2")), 0);
    st_offset_t offs[] = {{"t", 0, 42}, {"t", 1, 7}, {"u", 0, 0}};
    ck_assert_int_eq(st_env_commit(env, offs, 3), 0);
    ck_assert_int_eq(st_env_checkpoint(env, "t", 0), 42);
    ck_assert_int_eq(st_env_checkpoint(env, "t", 1), 7);
    ck_assert_int_eq(st_env_checkpoint(env, "u", 0), 0);
    ck_assert_int_eq(st_env_checkpoint(env, "t", 2), -1);
    ck_assert_int_eq(st_env_checkpoint(env, "tt", 0), -1);

    /* Written, not committed: a crash. */
    ck_assert_int_eq(st_store_put(s, B("c"), B("3"), 0), 0);
    ck_assert_int_eq(st_store_put(s, B("a"), B("changed"), 0), 0);
    ck_assert_str_eq(get_str(s, "c", buf, sizeof buf), "3");
    st_env_close(env);

    env = env_open_ok(dir, 2, 0);
    s = store_open_ok(env, "s", NULL);
    ck_assert_int_eq(st_env_checkpoint(env, "t", 0), 42);
    ck_assert_str_eq(get_str(s, "a", buf, sizeof buf), "1");
    ck_assert_str_eq(get_str(s, "b", buf, sizeof buf), "2");
    ck_assert_str_eq(get_str(s, "c", buf, sizeof buf), "");

    /* A commit does not flush caches (the runtime does, before the producer
     * flush): a dirty entry is not in what was committed. */
    st_store_set_cache_limit(s, 1 << 20);
    ck_assert_int_eq(st_store_put(s, B("d"), B("4"), 0), 0);
    st_offset_t off2 = {"t", 0, 60};
    ck_assert_int_eq(st_env_commit(env, &off2, 1), 0);
    ck_assert_int_eq(st_env_checkpoint(env, "t", 0), 60);
    /* An empty commit commits just the offsets. */
    st_offset_t off3 = {"t", 0, 61};
    ck_assert_int_eq(st_env_commit(env, &off3, 1), 0);
    st_env_close(env);
    env = env_open_ok(dir, 2, 0);
    s = store_open_ok(env, "s", NULL);
    ck_assert_str_eq(get_str(s, "d", buf, sizeof buf), "");
    ck_assert_int_eq(st_env_checkpoint(env, "t", 0), 61);

    /* A bad offset fails the commit, and the writes with it. */
    ck_assert_int_eq(st_store_put(s, B("e"), B("5"), 0), 0);
    st_offset_t bad = {NULL, 0, 1};
    ck_assert_int_eq(st_env_commit(env, &bad, 1), EDDY_ERR_INVALID_ARG);
    ck_assert_int_eq(logcap.lc_errors, 1);
    ck_assert_str_eq(get_str(s, "e", buf, sizeof buf), "");
    ck_assert_int_eq(st_env_commit(env, NULL, 0), 0);
    st_env_close(env);
}
END_TEST

START_TEST(automatic_commit_of_large_transactions)
{
    st_env_t *env = env_open_ok(dir, 1, 0);
    st_store_t *s = store_open_ok(env, "s", NULL);
    st_offset_t off = {"t", 0, 5};
    ck_assert_int_eq(st_env_commit(env, &off, 1), 0);
    st_env_set_limits(env, 0, 10, 0);
    char key[16];
    for (int i = 0; i < 25; i++) {
        snprintf(key, sizeof key, "k%02d", i);
        ck_assert_int_eq(st_store_restore(s, B(key), B("v")), 0);
    }
    st_env_close(env); /* a crash: the last 5 were in the open transaction */
    env = env_open_ok(dir, 1, 0);
    s = store_open_ok(env, "s", NULL);
    ck_assert_int_eq(st_store_count(s), 20);
    /* Automatic commits carry no offsets: the checkpoint is the old one. */
    ck_assert_int_eq(st_env_checkpoint(env, "t", 0), 5);

    /* The byte threshold too. */
    st_env_set_limits(env, 0, 0, 1000);
    char val[300];
    memset(val, 'x', sizeof val);
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof key, "b%02d", i);
        ck_assert_int_eq(st_store_restore(s, B(key), eddy_bytes(val, sizeof val)), 0);
    }
    st_env_close(env);
    env = env_open_ok(dir, 1, 0);
    s = store_open_ok(env, "s", NULL);
    /* 4 writes of 303 bytes pass 1000: commits after the 4th and the 8th. */
    ck_assert_int_eq(st_store_count(s), 28);
    st_env_close(env);
}
END_TEST

/* Under exactly-once the runtime commits LMDB only after its Kafka
 * transaction: a commit LMDB makes on its own in between (a large
 * transaction, a store opened) leaves a mark in the committed state, so the
 * runtime can tell after a crash that the state may hold updates of a
 * transaction that never committed; a regular commit clears it. */
START_TEST(automatic_commits_are_marked)
{
    st_env_t *env = env_open_ok(dir, 2, 0);
    st_env_mark_auto_commits(env, 1);
    st_store_t *s = store_open_ok(env, "s", NULL);
    st_offset_t off = {"t", 0, 5};
    ck_assert_int_eq(st_env_commit(env, &off, 1), 0);
    ck_assert_int_eq(st_env_auto_committed(env), 0);
    st_env_set_limits(env, 0, 10, 0);
    char key[16];
    for (int i = 0; i < 15; i++) {
        snprintf(key, sizeof key, "k%02d", i);
        ck_assert_int_eq(st_store_put(s, B(key), B("v"), 0), 0);
    }
    st_env_close(env); /* a crash after an automatic commit */
    env = env_open_ok(dir, 2, 0);
    ck_assert_int_eq(st_env_auto_committed(env), 1);
    ck_assert_int_eq(st_env_checkpoint(env, "t", 0), 5);
    st_env_mark_auto_commits(env, 1);
    s = store_open_ok(env, "s", NULL);
    ck_assert_int_eq(st_env_commit(env, &off, 1), 0);
    ck_assert_int_eq(st_env_auto_committed(env), 0);
    /* A store opened while writes are pending commits them: marked too. */
    ck_assert_int_eq(st_store_put(s, B("x"), B("1"), 0), 0);
    store_open_ok(env, "s2", NULL);
    st_env_close(env);
    env = env_open_ok(dir, 2, 0);
    ck_assert_int_eq(st_env_auto_committed(env), 1);
    st_env_close(env);
    /* Without the setting (at-least-once) nothing is marked. */
    scratch_rm(dir);
    scratch_new(dir, sizeof dir);
    env = env_open_ok(dir, 2, 0);
    s = store_open_ok(env, "s", NULL);
    st_env_set_limits(env, 0, 10, 0);
    for (int i = 0; i < 15; i++) {
        snprintf(key, sizeof key, "k%02d", i);
        ck_assert_int_eq(st_store_put(s, B(key), B("v"), 0), 0);
    }
    st_env_close(env);
    env = env_open_ok(dir, 2, 0);
    ck_assert_int_eq(st_env_auto_committed(env), 0);
    st_env_close(env);
}
END_TEST

START_TEST(corrupt_checkpoint_is_none)
{
    st_env_t *env = env_open_ok(dir, 1, 0);
    st_offset_t off = {"t", 1, 99};
    ck_assert_int_eq(st_env_commit(env, &off, 1), 0);
    st_env_close(env);

    /* Behind our back: a 7-byte offset for t-0. */
    MDB_env *m;
    MDB_txn *txn;
    MDB_dbi dbi;
    ck_assert_int_eq(mdb_env_create(&m), 0);
    ck_assert_int_eq(mdb_env_set_maxdbs(m, 4), 0);
    ck_assert_int_eq(mdb_env_open(m, dir, 0, 0644), 0);
    ck_assert_int_eq(mdb_txn_begin(m, NULL, 0, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "__changelog_offsets", 0, &dbi), 0);
    uint8_t k[6] = {'t', 0, 0, 0, 0, 0};
    MDB_val key = {6, k}, val = {7, "1234567"};
    ck_assert_int_eq(mdb_put(txn, dbi, &key, &val, 0), 0);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(m);

    env = env_open_ok(dir, 1, 0);
    ck_assert_int_eq(st_env_checkpoint(env, "t", 0), -1);
    ck_assert_int_eq(logcap.lc_errors, 1);
    ck_assert_msg(strstr(logcap.lc_last, "7 bytes, not 8") && strstr(logcap.lc_last, dir),
                  "log: %s", logcap.lc_last);
    ck_assert_int_eq(st_env_checkpoint(env, "t", 1), 99);
    st_env_close(env);
}
END_TEST

/* The changelog incarnation beside a checkpoint: committed with it, lost
 * with it (a close without a commit), kept per changelog partition apart
 * from the offsets, read as none when corrupt, and gone after a wipe. */
START_TEST(incarnation_kept_with_the_checkpoint)
{
    st_incarnation_t a = {{0}, 0}, b = {{0}, 1234567890123LL}, got;
    for (int i = 0; i < ST_INCARNATION_ID_LEN; i++) {
        a.si_id[i] = (uint8_t)(i + 1);
        b.si_id[i] = (uint8_t)(0xf0 - i);
    }
    st_env_t *env = env_open_ok(dir, 1, 0);
    ck_assert_int_eq(st_env_incarnation(env, "t", 0, &got), -ENOENT);
    ck_assert_int_eq(st_env_set_incarnation(env, "t", 0, &a), 0);
    ck_assert_int_eq(st_env_set_incarnation(env, "t", 1, &b), 0);
    /* Read in the open transaction: the caller's own write. */
    ck_assert_int_eq(st_env_incarnation(env, "t", 0, &got), 0);
    ck_assert_int_eq(memcmp(got.si_id, a.si_id, ST_INCARNATION_ID_LEN), 0);
    st_offset_t offs[] = {{"t", 0, 10}, {"t", 1, 20}};
    ck_assert_int_eq(st_env_commit(env, offs, 2), 0);
    /* The offsets and the incarnations do not shadow each other. */
    ck_assert_int_eq(st_env_checkpoint(env, "t", 0), 10);
    ck_assert_int_eq(st_env_checkpoint(env, "t", 1), 20);
    st_env_close(env);

    env = env_open_ok(dir, 1, 0);
    ck_assert_int_eq(st_env_incarnation(env, "t", 0, &got), 0);
    ck_assert_int_eq(memcmp(got.si_id, a.si_id, ST_INCARNATION_ID_LEN), 0);
    ck_assert_int_eq(got.si_offset, 0);
    ck_assert_int_eq(st_env_incarnation(env, "t", 1, &got), 0);
    ck_assert_int_eq(memcmp(got.si_id, b.si_id, ST_INCARNATION_ID_LEN), 0);
    ck_assert_int_eq(got.si_offset, 1234567890123LL);
    ck_assert_int_eq(st_env_incarnation(env, "t", 2, &got), -ENOENT);
    ck_assert_int_eq(st_env_incarnation(env, "u", 0, &got), -ENOENT);

    /* A newer one written and not committed: a crash keeps the old one and
     * its checkpoint together. */
    st_incarnation_t c = a;
    c.si_id[0] ^= 0xff;
    c.si_offset = 500;
    ck_assert_int_eq(st_env_set_incarnation(env, "t", 0, &c), 0);
    st_env_close(env);
    env = env_open_ok(dir, 1, 0);
    ck_assert_int_eq(st_env_incarnation(env, "t", 0, &got), 0);
    ck_assert_int_eq(memcmp(got.si_id, a.si_id, ST_INCARNATION_ID_LEN), 0);
    ck_assert_int_eq(st_env_checkpoint(env, "t", 0), 10);
    /* Committed: replaces it. */
    ck_assert_int_eq(st_env_set_incarnation(env, "t", 0, &c), 0);
    ck_assert_int_eq(st_env_commit(env, NULL, 0), 0);
    ck_assert_int_eq(st_env_incarnation(env, "t", 0, &got), 0);
    ck_assert_int_eq(memcmp(got.si_id, c.si_id, ST_INCARNATION_ID_LEN), 0);
    ck_assert_int_eq(got.si_offset, 500);
    /* Invalid ones are refused without touching the transaction. */
    st_incarnation_t neg = a;
    neg.si_offset = -1;
    ck_assert_int_eq(st_env_set_incarnation(env, "t", 0, &neg), EDDY_ERR_INVALID_ARG);
    ck_assert_int_eq(st_env_set_incarnation(env, "", 0, &a), EDDY_ERR_INVALID_ARG);
    st_env_close(env);

    /* Behind our back: a 23-byte value for t-1. */
    MDB_env *m;
    MDB_txn *txn;
    MDB_dbi dbi;
    ck_assert_int_eq(mdb_env_create(&m), 0);
    ck_assert_int_eq(mdb_env_set_maxdbs(m, 4), 0);
    ck_assert_int_eq(mdb_env_open(m, dir, 0, 0644), 0);
    ck_assert_int_eq(mdb_txn_begin(m, NULL, 0, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "__changelog_offsets", 0, &dbi), 0);
    uint8_t k[7] = {'t', 0, 0, 0, 0, 1, 'I'};
    MDB_val key = {7, k}, val = {23, "12345678901234567890123"};
    ck_assert_int_eq(mdb_put(txn, dbi, &key, &val, 0), 0);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(m);
    env = env_open_ok(dir, 1, 0);
    ck_assert_int_eq(st_env_incarnation(env, "t", 1, &got), -ENOENT);
    ck_assert_int_eq(logcap.lc_errors, 1);
    ck_assert_msg(strstr(logcap.lc_last, "corrupt") && strstr(logcap.lc_last, dir), "log: %s",
                  logcap.lc_last);
    ck_assert_int_eq(st_env_checkpoint(env, "t", 1), 20);
    st_env_close(env);

    ck_assert_int_eq(st_env_wipe(dir), 0);
    env = env_open_ok(dir, 1, 0);
    ck_assert_int_eq(st_env_incarnation(env, "t", 0, &got), -ENOENT);
    st_env_close(env);
}
END_TEST

static st_env_t *hook_env;
static int hook_commit_rc;
static void commit_hook(st_store_t *s, eddy_bytes_t key, eddy_bytes_t value, int64_t ts,
                        void *opaque)
{
    hook_commit_rc = st_env_commit(hook_env, NULL, 0);
}

START_TEST(commit_from_hook_refused)
{
    hook_env = env_open_ok(dir, 1, 0);
    st_store_hooks_t h = {commit_hook, NULL, NULL};
    st_store_t *s = store_open_ok(hook_env, "s", &h);
    ck_assert_int_eq(st_store_put(s, B("a"), B("1"), 0), 0);
    ck_assert_int_eq(hook_commit_rc, -EBUSY);
    ck_assert_int_eq(st_env_commit(hook_env, NULL, 0), 0);
    st_env_close(hook_env);
}
END_TEST

/* ---- map growth ------------------------------------------------------------------ */

static void value_for(char *val, size_t size, int i)
{
    memset(val, 'a' + i % 26, size);
    snprintf(val, size, "%08d", i);
}

START_TEST(map_grows_from_64k_to_50mb)
{
    enum { N = 50000, VLEN = 1000 };
    st_env_t *env = env_open_ok(dir, 1, 64 << 10);
    ck_assert_uint_eq(st_env_map_size(env), 64 << 10);
    st_store_t *s = store_open_ok(env, "s", NULL);
    char key[16], val[VLEN];
    /* Half restored, half put through a 4 MiB cache (evictions flush), with
     * 5 MB between commits: each transaction outgrows the map it began with. */
    st_store_set_cache_limit(s, 4 << 20);
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "key%08d", i);
        value_for(val, sizeof val, i);
        int rc = i < N / 2 ? st_store_restore(s, B(key), eddy_bytes(val, sizeof val))
                           : st_store_put(s, B(key), eddy_bytes(val, sizeof val), i);
        ck_assert_msg(rc == 0, "write %d: %s (map %zu)", i, eddy_strerror(rc),
                      st_env_map_size(env));
        if (i % 5000 == 4999) {
            ck_assert_int_eq(st_env_flush(env), 0);
            st_offset_t off = {"t", 0, i + 1};
            ck_assert_int_eq(st_env_commit(env, &off, 1), 0);
        }
    }
    ck_assert_uint_ge(st_env_map_size(env), (size_t)N * VLEN);
    ck_assert_int_eq(logcap.lc_errors, 0);
    st_env_close(env);

    env = env_open_ok(dir, 1, 64 << 10);
    s = store_open_ok(env, "s", NULL);
    ck_assert_uint_ge(st_env_map_size(env), (size_t)N * VLEN);
    ck_assert_int_eq(st_store_count(s), N);
    ck_assert_int_eq(st_env_checkpoint(env, "t", 0), N);
    for (int i = 0; i < N; i += 997) {
        snprintf(key, sizeof key, "key%08d", i);
        value_for(val, sizeof val, i);
        eddy_bytes_t v;
        ck_assert_int_eq(st_store_get(s, B(key), &v), 0);
        ck_assert_int_eq(v.len, VLEN);
        ck_assert_msg(memcmp(v.data, val, VLEN) == 0, "value of %s", key);
    }
    st_env_close(env);
}
END_TEST

START_TEST(map_full_at_limit_is_enospc)
{
    st_env_t *env = env_open_ok(dir, 1, 64 << 10);
    st_env_set_limits(env, 1 << 20, 0, 0);
    st_store_t *s = store_open_ok(env, "s", NULL);
    char key[16], val[1000];
    memset(val, 'v', sizeof val);
    int rc = 0, i;
    for (i = 0; i < 5000 && rc == 0; i++) {
        snprintf(key, sizeof key, "key%08d", i);
        rc = st_store_restore(s, B(key), eddy_bytes(val, sizeof val));
    }
    ck_assert_int_eq(rc, -ENOSPC);
    ck_assert_int_lt(i, 1100); /* 1 MiB holds about 1,000 of them */
    ck_assert_uint_eq(st_env_map_size(env), 1 << 20);
    ck_assert_int_eq(logcap.lc_errors, 1);
    ck_assert_msg(strstr(logcap.lc_last, dir) && strstr(logcap.lc_last, "map is full"), "log: %s",
                  logcap.lc_last);
    /* The environment goes on; the failed transaction's writes are gone. */
    ck_assert_int_eq(st_store_restore(s, B("small"), B("1")), 0);
    st_offset_t off = {"t", 0, 1};
    ck_assert_int_eq(st_env_commit(env, &off, 1), 0);
    ck_assert_int_eq(st_store_count(s), 1);
    ck_assert_int_eq(st_env_checkpoint(env, "t", 0), 1);
    st_env_close(env);
}
END_TEST

/* ---- another thread reads --------------------------------------------------------- */

typedef struct reader {
    st_env_t *rd_env;
    atomic_int rd_committed;  /* the counter's last value committed */
    atomic_int rd_committing; /* the value a commit under way may publish */
    atomic_int rd_stop;
    int rd_reads;
    int rd_ranges;
    char rd_error[256];
} reader_t;

static int range_check(eddy_bytes_t key, eddy_bytes_t value, void *opaque)
{
    char *prev = opaque; /* keys come in order */
    char k[64];
    snprintf(k, sizeof k, "%.*s", (int)key.len, (const char *)key.data);
    if (strcmp(prev, k) >= 0)
        return -1;
    snprintf(prev, 64, "%s", k);
    return 0;
}

static void *reader_main(void *arg)
{
    reader_t *rd = arg;
    eddy_buf_t out = {0};
    while (!atomic_load(&rd->rd_stop) && !rd->rd_error[0]) {
        int before = atomic_load(&rd->rd_committed);
        int rc = st_env_read_get(rd->rd_env, "s", B("counter"), &out);
        int after = atomic_load(&rd->rd_committing);
        if (rc == -ENOENT) {
            if (before > 0)
                snprintf(rd->rd_error, sizeof rd->rd_error, "counter gone after commit %d", before);
        } else if (rc != 0) {
            snprintf(rd->rd_error, sizeof rd->rd_error, "read_get: %s", eddy_strerror(rc));
        } else {
            char s[32];
            snprintf(s, sizeof s, "%.*s", (int)out.len, (const char *)out.data);
            int v = atoi(s);
            if (v < before || v > after)
                snprintf(rd->rd_error, sizeof rd->rd_error,
                         "read %d; committed %d before, at most %d after", v, before, after);
        }
        rd->rd_reads++;
        if (rd->rd_reads % 50 == 0) {
            char prev[64] = "";
            rc = st_env_read_range(rd->rd_env, "s", B("f"), B("g"), range_check, prev);
            if (rc)
                snprintf(rd->rd_error, sizeof rd->rd_error, "read_range: %s", eddy_strerror(rc));
            rd->rd_ranges++;
        }
    }
    free(out.data);
    return NULL;
}

START_TEST(reads_from_another_thread)
{
    st_env_t *env = env_open_ok(dir, 1, 64 << 10);
    st_store_t *s = store_open_ok(env, "s", NULL);
    reader_t rd = {.rd_env = env};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, reader_main, &rd), 0);
    char key[32], val[2000], num[16];
    memset(val, 'f', sizeof val);
    eddy_buf_t out = {0};
    for (int i = 1; i <= 150; i++) {
        snprintf(num, sizeof num, "%d", i);
        ck_assert_int_eq(st_store_put(s, B("counter"), B(num), i), 0);
        /* Filler, so that the map grows while the reader reads. */
        for (int j = 0; j < 40; j++) {
            snprintf(key, sizeof key, "f%05d-%02d", i, j);
            ck_assert_int_eq(st_store_put(s, B(key), eddy_bytes(val, sizeof val), i), 0);
        }
        /* Not committed yet: this thread's store sees it, a read does not. */
        char buf[16];
        ck_assert_str_eq(get_str(s, "counter", buf, sizeof buf), num);
        int rc = st_env_read_get(env, "s", B("counter"), &out);
        if (i == 1) {
            ck_assert_int_eq(rc, -ENOENT);
        } else {
            ck_assert_int_eq(rc, 0);
            snprintf(buf, sizeof buf, "%.*s", (int)out.len, (const char *)out.data);
            ck_assert_int_eq(atoi(buf), i - 1);
        }
        atomic_store(&rd.rd_committing, i);
        ck_assert_int_eq(st_env_commit(env, NULL, 0), 0);
        atomic_store(&rd.rd_committed, i);
        ck_assert_int_eq(st_env_read_get(env, "s", B("counter"), &out), 0);
        ck_assert_int_eq((int)out.len, (int)strlen(num));
        ck_assert_int_eq(memcmp(out.data, num, out.len), 0);
    }
    atomic_store(&rd.rd_stop, 1);
    pthread_join(th, NULL);
    ck_assert_msg(rd.rd_error[0] == 0, "reader: %s", rd.rd_error);
    ck_assert_int_gt(rd.rd_reads, 0);
    ck_assert_uint_ge(st_env_map_size(env), 150 * 40 * 2000);
    ck_assert_int_eq(st_env_read_get(env, "nope", B("counter"), &out), -ENOENT);
    ck_assert_int_eq(st_env_read_get(env, "s", B("nope"), &out), -ENOENT);
    free(out.data);
    st_env_close(env);
}
END_TEST

/* ---- files: wipe and open errors --------------------------------------------------- */

static int exists(const char *dirpath, const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s%s%s", dirpath, name ? "/" : "", name ? name : "");
    struct stat st;
    return stat(p, &st) == 0;
}

START_TEST(wipe_removes_state)
{
    char task[300];
    snprintf(task, sizeof task, "%s/app/0_1", dir);
    st_env_t *env = env_open_ok(task, 1, 0); /* creates the parents */
    st_store_t *s = store_open_ok(env, "s", NULL);
    ck_assert_int_eq(st_store_put(s, B("a"), B("1"), 0), 0);
    st_offset_t off = {"t", 0, 3};
    ck_assert_int_eq(st_env_commit(env, &off, 1), 0);
    st_env_close(env);
    ck_assert(exists(task, "data.mdb"));
    ck_assert(exists(task, "lock.mdb"));

    ck_assert_int_eq(st_env_wipe(task), 0);
    ck_assert(!exists(task, "data.mdb"));
    ck_assert(!exists(task, "lock.mdb"));
    ck_assert(!exists(task, NULL));
    ck_assert_int_eq(st_env_wipe(task), 0); /* nothing there: fine */

    env = env_open_ok(task, 1, 0);
    s = store_open_ok(env, "s", NULL);
    ck_assert_int_eq(st_store_count(s), 0);
    ck_assert_int_eq(st_env_checkpoint(env, "t", 0), -1);
    st_env_close(env);

    /* Someone else's file stays, and the directory with it. */
    char other[400];
    snprintf(other, sizeof other, "%s/keep", task);
    int fd = open(other, O_CREAT | O_WRONLY, 0644);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(st_env_wipe(task), 0);
    ck_assert(!exists(task, "data.mdb"));
    ck_assert(exists(task, "keep"));
}
END_TEST

START_TEST(open_errors_name_the_path)
{
    char path[400], err[512];
    /* A parent that is a file. */
    snprintf(path, sizeof path, "%s/file", dir);
    int fd = open(path, O_CREAT | O_WRONLY, 0644);
    ck_assert_int_ge(fd, 0);
    close(fd);
    snprintf(path, sizeof path, "%s/file/task", dir);
    err[0] = 0;
    ck_assert_ptr_null(st_env_open(path, 1, 0, err, sizeof err));
    ck_assert_msg(strstr(err, path) && strstr(err, "cannot be created"), "errstr: %s", err);

    /* Not an LMDB file. */
    snprintf(path, sizeof path, "%s/bad", dir);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    char data[512];
    snprintf(data, sizeof data, "%s/data.mdb", path);
    fd = open(data, O_CREAT | O_WRONLY, 0644);
    ck_assert_int_ge(fd, 0);
    char junk[16384];
    memset(junk, 0x5a, sizeof junk);
    ck_assert_int_eq(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
    close(fd);
    err[0] = 0;
    ck_assert_ptr_null(st_env_open(path, 1, 0, err, sizeof err));
    ck_assert_msg(strstr(err, path) && strstr(err, "not a readable LMDB"), "errstr: %s", err);

    /* Not writable (root writes anywhere: that case needs a non-root user). */
    if (geteuid() != 0) {
        snprintf(path, sizeof path, "%s/ro", dir);
        ck_assert_int_eq(mkdir(path, 0500), 0);
        err[0] = 0;
        ck_assert_ptr_null(st_env_open(path, 1, 0, err, sizeof err));
        ck_assert_msg(strstr(err, path) && strstr(err, "not writable"), "errstr: %s", err);
        chmod(path, 0700);
    }
}
END_TEST

START_TEST(store_open_rules)
{
    char err[512];
    st_env_t *env = env_open_ok(dir, 2, 0);
    st_store_t *a = store_open_ok(env, "a", NULL);
    ck_assert_str_eq(st_store_name(a), "a");
    ck_assert_ptr_null(st_store_open(env, "a", NULL, err, sizeof err));
    ck_assert_msg(strstr(err, "already open"), "errstr: %s", err);
    ck_assert_ptr_null(st_store_open(env, "__changelog_offsets", NULL, err, sizeof err));
    ck_assert_ptr_null(st_store_open(env, "", NULL, err, sizeof err));
    /* Opening a store commits the open transaction (safe: no offsets). */
    ck_assert_int_eq(st_store_put(a, B("k"), B("v"), 0), 0);
    st_store_t *b = store_open_ok(env, "b", NULL);
    ck_assert_ptr_null(st_store_open(env, "c", NULL, err, sizeof err));
    ck_assert_msg(strstr(err, "opened for 2 stores"), "errstr: %s", err);
    ck_assert_int_eq(st_store_put(b, B("k"), B("w"), 0), 0);
    eddy_buf_t out = {0};
    ck_assert_int_eq(st_env_read_get(env, "a", B("k"), &out), 0);
    ck_assert_int_eq(st_env_read_get(env, "b", B("k"), &out), -ENOENT);
    free(out.data);
    st_env_close(env);
    /* Stores keep their data apart, across reopen. */
    env = env_open_ok(dir, 2, 0);
    b = store_open_ok(env, "b", NULL);
    a = store_open_ok(env, "a", NULL);
    ck_assert_int_eq(st_store_count(a), 1);
    ck_assert_int_eq(st_store_count(b), 0);
    st_env_close(env);
}
END_TEST

TCase *tcase_env_commit(void)
{
    TCase *tc = tcase_create("env_commit");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, checkpoint_survives_only_committed);
    tcase_add_test(tc, automatic_commit_of_large_transactions);
    tcase_add_test(tc, corrupt_checkpoint_is_none);
    tcase_add_test(tc, incarnation_kept_with_the_checkpoint);
    tcase_add_test(tc, commit_from_hook_refused);
    return tc;
}

TCase *tcase_env_growth(void)
{
    TCase *tc = tcase_create("env_growth");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, map_grows_from_64k_to_50mb);
    tcase_add_test(tc, map_full_at_limit_is_enospc);
    return tc;
}

TCase *tcase_env_threads(void)
{
    TCase *tc = tcase_create("env_threads");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, reads_from_another_thread);
    return tc;
}

TCase *tcase_env_files(void)
{
    TCase *tc = tcase_create("env_files");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, wipe_removes_state);
    tcase_add_test(tc, automatic_commits_are_marked);
    tcase_add_test(tc, open_errors_name_the_path);
    tcase_add_test(tc, store_open_rules);
    return tc;
}

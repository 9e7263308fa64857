/* state/restore.c: a changelog applied in sorted batches leaves a store
 * exactly as the same records applied one by one (last record of a key
 * wins, tombstones delete, a tombstone of an absent key is nothing), into
 * an empty store (MDB_APPEND), onto keys it interleaves with, and past its
 * last key; from a 64 KiB map that has to grow. */
#include "state_helpers.h"

static char dir[256];

typedef struct dump {
    char *d_buf;
    size_t d_len, d_cap;
    int d_n;
} dump_t;

static int dump_fn(eddy_bytes_t key, eddy_bytes_t value, void *opaque)
{
    dump_t *d = opaque;
    size_t need = (size_t)key.len + (size_t)(value.len > 0 ? value.len : 0) + 4;
    if (d->d_len + need > d->d_cap) {
        d->d_cap = (d->d_len + need) * 2;
        d->d_buf = realloc(d->d_buf, d->d_cap);
        ck_assert_ptr_nonnull(d->d_buf);
    }
    memcpy(d->d_buf + d->d_len, key.data, (size_t)key.len);
    d->d_len += (size_t)key.len;
    d->d_buf[d->d_len++] = '=';
    if (value.len > 0)
        memcpy(d->d_buf + d->d_len, value.data, (size_t)value.len);
    d->d_len += (size_t)(value.len > 0 ? value.len : 0);
    d->d_buf[d->d_len++] = ';';
    d->d_n++;
    return 0;
}

static void dump(st_store_t *s, dump_t *d)
{
    memset(d, 0, sizeof *d);
    ck_assert_int_eq(st_store_range(s, EDDY_NULL_BYTES, EDDY_NULL_BYTES, dump_fn, d), 0);
}

static uint64_t rnd = 0x2545F4914F6CDD1DULL;
static uint64_t next_rand(void)
{
    rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17;
    return rnd;
}

/* n records with keys "<prefix><number below range>"; about 1 in 6 a tombstone. */
static void round_of(st_store_t *one, st_store_t *batched, st_restore_batch_t *b,
                     const char *prefix, int n, int range)
{
    for (int i = 0; i < n; i++) {
        char k[64], v[64];
        int kl = snprintf(k, sizeof k, "%s%d", prefix, (int)(next_rand() % (uint64_t)range));
        int vl = snprintf(v, sizeof v, "v%d", i);
        eddy_bytes_t key = eddy_bytes(k, (size_t)kl);
        eddy_bytes_t val = next_rand() % 6 == 0 ? EDDY_NULL_BYTES
                           : i % 50 == 0        ? eddy_bytes("", 0)
                                                : eddy_bytes(v, (size_t)vl);
        ck_assert_int_eq(st_store_restore(one, key, val), 0);
        ck_assert_int_eq(st_restore_batch_add(b, key, val), 0);
    }
    ck_assert_uint_eq(st_restore_batch_count(b), (size_t)n);
    ck_assert_int_eq(st_store_restore_batch(batched, b), 0);
    ck_assert_uint_eq(st_restore_batch_count(b), 0);
}

static void same(st_store_t *a, st_store_t *b, int min_entries)
{
    dump_t da, db;
    dump(a, &da);
    dump(b, &db);
    ck_assert_int_ge(da.d_n, min_entries);
    ck_assert_int_eq(da.d_n, db.d_n);
    ck_assert_uint_eq(da.d_len, db.d_len);
    ck_assert_msg(memcmp(da.d_buf, db.d_buf, da.d_len) == 0, "the stores differ");
    ck_assert_int_eq(st_store_count(a), st_store_count(b));
    free(da.d_buf);
    free(db.d_buf);
}

START_TEST(batches_equal_one_by_one)
{
    scratch_new(dir, sizeof dir);
    char path[300];
    snprintf(path, sizeof path, "%s/task", dir);
    st_env_t *env = env_open_ok(path, 2, 64 << 10);
    char err[256];
    st_store_t *one = st_store_open(env, "one", NULL, err, sizeof err);
    st_store_t *bat = st_store_open(env, "batched", NULL, err, sizeof err);
    ck_assert_ptr_nonnull(one);
    ck_assert_ptr_nonnull(bat);
    st_restore_batch_t *b = st_restore_batch_new();
    ck_assert_ptr_nonnull(b);
    /* Into an empty store (appends), keys repeated and deleted. */
    round_of(one, bat, b, "k", 30000, 20000);
    same(one, bat, 10000);
    ck_assert_int_eq(st_env_commit(env, NULL, 0), 0);
    /* Onto the same keys (updates, deletes of present keys, new keys in between). */
    round_of(one, bat, b, "k", 20000, 40000);
    same(one, bat, 10000);
    /* Past the last key ("z" > "k"): appends onto a non-empty store, with
     * tombstones of absent keys; the transaction still open. */
    round_of(one, bat, b, "z", 5000, 3000);
    same(one, bat, 10000);
    ck_assert_int_eq(st_env_commit(env, NULL, 0), 0);
    /* A key that is a prefix of others sorts first (LMDB's order). */
    ck_assert_int_eq(st_restore_batch_add(b, B("zz1"), B("a")), 0);
    ck_assert_int_eq(st_restore_batch_add(b, B("zz"), B("b")), 0);
    ck_assert_int_eq(st_restore_batch_add(b, B("zz10"), B("c")), 0);
    ck_assert_int_eq(st_restore_batch_add(b, B("zz"), B("d")), 0);
    ck_assert_int_eq(st_store_restore_batch(bat, b), 0);
    eddy_bytes_t v;
    ck_assert_int_eq(st_store_get(bat, B("zz"), &v), 0);
    ck_assert_int_eq(v.len, 1);
    ck_assert_int_eq(((const char *)v.data)[0], 'd');
    ck_assert_int_eq(st_store_get(bat, B("zz10"), &v), 0);
    /* A null key is refused, as one by one; the empty key is a key. */
    ck_assert_int_lt(st_restore_batch_add(b, EDDY_NULL_BYTES, B("x")), 0);
    ck_assert_int_eq(st_restore_batch_add(b, eddy_bytes("", 0), B("x")), 0);
    ck_assert_int_eq(st_store_restore_batch(bat, b), 0);
    ck_assert_int_eq(st_store_get(bat, eddy_bytes("", 0), &v), 0);
    ck_assert_int_eq(v.len, 1);
    ck_assert_int_eq(st_env_commit(env, NULL, 0), 0);
    ck_assert_uint_gt(st_env_map_size(env), 64 << 10);
    st_restore_batch_destroy(b);
    st_env_close(env);
    scratch_rm(dir);
}
END_TEST

TCase *tcase_store_restore_batch(void)
{
    TCase *tc = tcase_create("store_restore_batch");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, batches_equal_one_by_one);
    return tc;
}

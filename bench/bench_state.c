/* bench_state: restore throughput of the state stores (state/store.h),
 * next to references measured in the same run.
 *
 * A restore applies changelog records to a store: N records (default
 * 2,000,000) with 10-byte keys drawn from K distinct keys (default 200,000)
 * and 8-byte values, through st_store_restore(), with st_env_commit() and
 * one changelog offset every C records (default 10,000), into a fresh
 * environment whose map starts at 1 MiB (so map growth is in the figure).
 *
 * References, on the same records in the same order:
 *   - raw LMDB: mdb_put() into one named database of an environment opened
 *     with the same flags (MDB_NOTLS | MDB_NOMETASYNC), a map large enough
 *     from the start, the same commits, each with an 8-byte offset put;
 *   - an in-memory hash map (open addressing, keys and values inline), for
 *     scale: what applying the records costs without any storage.
 *
 * One uncounted warm-up round, then R rounds (default 3), the order of the
 * sides flipping each round; the figures are the medians of records/s and
 * of the per-round ratios. Each side's final entry count is checked against
 * the number of distinct keys drawn (exit 1 on a mismatch or a failed call).
 * The program prints figures; it never decides pass or fail.
 *
 * Then puts (state/window.h against state/store.h), on the same records:
 * st_window_put of (key, window start) -> value, record i at time i * 2 ms
 * in 60 s tumbling windows, retention 30 min (segments of 15 min, so the
 * run of 2,000,000 records spans 67 min and drops two segments), against
 * st_store_put of key -> value (one entry per key: mostly updates, a small
 * tree) and st_store_put of the window store's LMDB key (key | start |
 * seqnum) -> value in one store (the same entries as the window store,
 * without segments or expiry: the cost of the layer alone). Caches off
 * (every put writes through to LMDB), st_env_flush + st_env_commit with an
 * offset every C records. Same rounds and medians; -w runs only this part.
 *
 * Usage: bench_state [-n records] [-k keys] [-c commit_every] [-r rounds] [-w] [dir]
 */
#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "state/store.h"
#include "state/window.h"

#define KEY_LEN 10
#define VAL_LEN 8

static long n_records = 2000000;
static long n_keys = 200000;
static long commit_every = 10000;
static int rounds = 3;

static uint8_t *keys;   /* n_records x KEY_LEN, the drawn key of each record */
static long n_distinct; /* keys drawn at least once */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void value_of(uint8_t out[VAL_LEN], long i)
{
    uint64_t v = (uint64_t)i;
    for (int b = VAL_LEN - 1; b >= 0; b--, v >>= 8)
        out[b] = (uint8_t)v;
}

static void rm_env(const char *d)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/data.mdb", d);
    unlink(p);
    snprintf(p, sizeof p, "%s/lock.mdb", d);
    unlink(p);
    rmdir(d);
}

/* ---- the sides ---------------------------------------------------------- */

static double median(double *v, int n);

static int run_store(const char *d, double *secs, long *count)
{
    char err[512];
    rm_env(d);
    double t0 = now();
    st_env_t *env = st_env_open(d, 1, (size_t)1 << 20, err, sizeof err);
    if (!env) {
        fprintf(stderr, "st_env_open: %s\n", err);
        return -1;
    }
    st_store_t *s = st_store_open(env, "s", NULL, err, sizeof err);
    if (!s) {
        fprintf(stderr, "st_store_open: %s\n", err);
        return -1;
    }
    uint8_t val[VAL_LEN];
    for (long i = 0; i < n_records; i++) {
        value_of(val, i);
        int rc = st_store_restore(s, eddy_bytes(keys + i * KEY_LEN, KEY_LEN),
                                  eddy_bytes(val, VAL_LEN));
        if (rc == 0 && (i + 1) % commit_every == 0) {
            st_offset_t off = {"bench-s-changelog", 0, i + 1};
            rc = st_env_commit(env, &off, 1);
        }
        if (rc) {
            fprintf(stderr, "store: record %ld: %s\n", i, eddy_strerror(rc));
            return -1;
        }
    }
    st_offset_t off = {"bench-s-changelog", 0, n_records};
    if (st_env_commit(env, &off, 1) != 0)
        return -1;
    *secs = now() - t0;
    *count = (long)st_store_count(s);
    st_env_close(env);
    rm_env(d);
    return 0;
}

/* Puts through a key-value store (window 0), a window store (1), or a
 * key-value store keyed like the window store (2). */
#define PUT_STEP_MS 2
#define PUT_WINDOW_MS 60000
#define PUT_RETENTION_MS 1800000

static int run_puts(const char *d, int window, double *secs, long *count)
{
    char err[512];
    rm_env(d);
    double t0 = now();
    int nstores = window == 1 ? st_window_max_segments(PUT_RETENTION_MS, 0) : 1;
    st_env_t *env = st_env_open(d, nstores, (size_t)1 << 20, err, sizeof err);
    if (!env) {
        fprintf(stderr, "st_env_open: %s\n", err);
        return -1;
    }
    st_store_t *s = NULL;
    st_window_store_t *w = NULL;
    if (window == 1)
        w = st_window_open(env, "w", PUT_RETENTION_MS, 0, 0, NULL, err, sizeof err);
    else
        s = st_store_open(env, "s", NULL, err, sizeof err);
    if (!s && !w) {
        fprintf(stderr, "open: %s\n", err);
        return -1;
    }
    uint8_t val[VAL_LEN];
    for (long i = 0; i < n_records; i++) {
        value_of(val, i);
        eddy_bytes_t k = eddy_bytes(keys + i * KEY_LEN, KEY_LEN), v = eddy_bytes(val, VAL_LEN);
        int64_t ts = (int64_t)i * PUT_STEP_MS;
        int rc;
        if (window == 1) {
            rc = st_window_put(w, k, ts - ts % PUT_WINDOW_MS, v, ts);
        } else if (window == 2) {
            uint8_t ck[KEY_LEN + 12] = {0};
            uint64_t ws = (uint64_t)(ts - ts % PUT_WINDOW_MS);
            memcpy(ck, k.data, KEY_LEN);
            for (int b = 7; b >= 0; b--, ws >>= 8)
                ck[KEY_LEN + b] = (uint8_t)ws;
            rc = st_store_put(s, eddy_bytes(ck, sizeof ck), v, ts);
        } else {
            rc = st_store_put(s, k, v, ts);
        }
        if (rc == 0 && (i + 1) % commit_every == 0) {
            st_offset_t off = {"bench-changelog", 0, i + 1};
            rc = st_env_flush(env);
            if (rc == 0)
                rc = st_env_commit(env, &off, 1);
        }
        if (rc) {
            fprintf(stderr, "%s: record %ld: %s\n", window == 1 ? "window" : "store", i,
                    rc > 0 ? "expired" : eddy_strerror(rc));
            return -1;
        }
    }
    st_offset_t off = {"bench-changelog", 0, n_records};
    if (st_env_flush(env) != 0 || st_env_commit(env, &off, 1) != 0)
        return -1;
    *secs = now() - t0;
    *count = (long)(window == 1 ? st_window_count(w) : st_store_count(s));
    st_window_close(w);
    st_env_close(env);
    rm_env(d);
    return 0;
}

static int bench_puts(const char *d_store, const char *d_window)
{
    double r_kv[16], r_ck[16], r_win[16], q_kv[16], q_ck[16];
    for (int r = 0; r <= rounds; r++) {
        double t[3] = {0, 0, 0};
        long c[3] = {0, 0, 0};
        /* The order rotates each round. */
        for (int i = 0; i < 3; i++) {
            int side = (i + r) % 3;
            if (run_puts(side == 1 ? d_window : d_store, side, &t[side], &c[side]))
                return -1;
        }
        printf("puts round %d%s: key-value store %.0f puts/s (%.2f s, %ld entries), kv store "
               "with window keys %.0f/s (%.2f s, %ld), window store %.0f/s (%.2f s, %ld)\n",
               r, r == 0 ? " (warm-up)" : "", n_records / t[0], t[0], c[0], n_records / t[2], t[2],
               c[2], n_records / t[1], t[1], c[1]);
        if (r > 0) {
            r_kv[r - 1] = n_records / t[0];
            r_ck[r - 1] = n_records / t[2];
            r_win[r - 1] = n_records / t[1];
            q_kv[r - 1] = t[0] / t[1];
            q_ck[r - 1] = t[2] / t[1];
        }
    }
    printf("puts (%ld records, %d ms apart, 60 s windows, retention 30 min, caches off, commit "
           "every %ld; median of %d): key-value store %.0f puts/s, kv store with window keys "
           "%.0f puts/s, window store %.0f puts/s; ratio window/kv %.2f, window/kv-with-window-"
           "keys %.2f\n",
           n_records, PUT_STEP_MS, commit_every, rounds, median(r_kv, rounds), median(r_ck, rounds),
           median(r_win, rounds), median(q_kv, rounds), median(q_ck, rounds));
    return 0;
}

static int run_lmdb(const char *d, double *secs, long *count)
{
    rm_env(d);
    if (mkdir(d, 0755) != 0 && errno != EEXIST)
        return -1;
    double t0 = now();
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi, odbi;
    int rc = mdb_env_create(&env);
    if (!rc)
        rc = mdb_env_set_maxdbs(env, 2);
    if (!rc)
        rc = mdb_env_set_mapsize(env, (size_t)1 << 30);
    if (!rc)
        rc = mdb_env_open(env, d, MDB_NOTLS | MDB_NOMETASYNC, 0644);
    if (!rc)
        rc = mdb_txn_begin(env, NULL, 0, &txn);
    if (!rc)
        rc = mdb_dbi_open(txn, "s", MDB_CREATE, &dbi);
    if (!rc)
        rc = mdb_dbi_open(txn, "__changelog_offsets", MDB_CREATE, &odbi);
    uint8_t val[VAL_LEN], okey[] = "bench-s-changelog\0\0\0\0";
    for (long i = 0; !rc && i < n_records; i++) {
        value_of(val, i);
        MDB_val k = {KEY_LEN, keys + i * KEY_LEN}, v = {VAL_LEN, val};
        rc = mdb_put(txn, dbi, &k, &v, 0);
        if (!rc && ((i + 1) % commit_every == 0 || i + 1 == n_records)) {
            uint8_t o[8];
            value_of(o, i + 1);
            MDB_val ok = {sizeof okey - 1, okey}, ov = {8, o};
            rc = mdb_put(txn, odbi, &ok, &ov, 0);
            if (!rc)
                rc = mdb_txn_commit(txn);
            if (!rc)
                rc = mdb_txn_begin(env, NULL, 0, &txn);
        }
    }
    if (rc) {
        fprintf(stderr, "lmdb: %s\n", mdb_strerror(rc));
        return -1;
    }
    MDB_stat st;
    mdb_stat(txn, dbi, &st);
    mdb_txn_abort(txn);
    *secs = now() - t0;
    *count = (long)st.ms_entries;
    mdb_env_close(env);
    rm_env(d);
    return 0;
}

typedef struct slot {
    uint8_t key[KEY_LEN];
    uint8_t used;
    uint8_t val[VAL_LEN];
} slot_t;

static uint64_t hash10(const uint8_t *p)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < KEY_LEN; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h ^ (h >> 29);
}

static int run_hash(double *secs, long *count)
{
    double t0 = now();
    size_t cap = 1024, n = 0;
    slot_t *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (long i = 0; i < n_records; i++) {
        if (2 * (n + 1) > cap) { /* grow as a real map would */
            size_t ncap = cap * 2;
            slot_t *nt = calloc(ncap, sizeof *nt);
            if (!nt)
                return -1;
            for (size_t j = 0; j < cap; j++)
                if (t[j].used) {
                    size_t h = hash10(t[j].key) & (ncap - 1);
                    while (nt[h].used)
                        h = (h + 1) & (ncap - 1);
                    nt[h] = t[j];
                }
            free(t);
            t = nt;
            cap = ncap;
        }
        const uint8_t *k = keys + i * KEY_LEN;
        size_t h = hash10(k) & (cap - 1);
        while (t[h].used && memcmp(t[h].key, k, KEY_LEN) != 0)
            h = (h + 1) & (cap - 1);
        if (!t[h].used) {
            t[h].used = 1;
            memcpy(t[h].key, k, KEY_LEN);
            n++;
        }
        value_of(t[h].val, i);
    }
    *secs = now() - t0;
    *count = (long)n;
    free(t);
    return 0;
}

/* ---- driver --------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_state [-n records] [-k keys] [-c commit_every] [-r rounds] "
                    "[-w] [dir]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int opt, puts_only = 0;
    while ((opt = getopt(argc, argv, "n:k:c:r:wh")) != -1) {
        switch (opt) {
        case 'w': puts_only = 1; break;
        case 'n': n_records = atol(optarg); break;
        case 'k': n_keys = atol(optarg); break;
        case 'c': commit_every = atol(optarg); break;
        case 'r': rounds = atoi(optarg); break;
        default: usage();
        }
    }
    if (n_records < 1 || n_keys < 1 || n_keys > 1000000000L || commit_every < 1 || rounds < 1 ||
        rounds > 15)
        usage();
    const char *parent = optind < argc ? argv[optind] : "/tmp";
    char scratch[512];
    snprintf(scratch, sizeof scratch, "%s/bench_state.XXXXXX", parent);
    if (!mkdtemp(scratch)) {
        perror("mkdtemp");
        return 1;
    }
    char d_store[600], d_lmdb[600];
    snprintf(d_store, sizeof d_store, "%s/store", scratch);
    snprintf(d_lmdb, sizeof d_lmdb, "%s/lmdb", scratch);

    /* The records: keys drawn uniformly from n_keys (xorshift64, seed 1). */
    keys = malloc((size_t)n_records * KEY_LEN);
    uint8_t *seen = calloc((size_t)n_keys, 1);
    if (!keys || !seen)
        return 1;
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (long i = 0; i < n_records; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        long idx = (long)(x % (uint64_t)n_keys);
        char k[KEY_LEN + 1];
        snprintf(k, sizeof k, "%010ld", idx);
        memcpy(keys + i * KEY_LEN, k, KEY_LEN);
        if (!seen[idx]) {
            seen[idx] = 1;
            n_distinct++;
        }
    }
    free(seen);

    printf("bench_state: %ld records (%d-byte keys, %ld distinct of %ld; %d-byte values), commit "
           "every %ld, %d rounds + 1 warm-up, in %s\n",
           n_records, KEY_LEN, n_distinct, n_keys, VAL_LEN, commit_every, rounds, scratch);
    double r_store[16], r_lmdb[16], r_hash[16], q_lmdb[16], q_hash[16];
    int failed = 0;
    for (int r = 0; r <= rounds && !failed && !puts_only; r++) {
        double ts = 0, tl = 0, th = 0;
        long cs = 0, cl = 0, chh = 0;
        int flip = r % 2;
        for (int side = 0; side < 2 && !failed; side++) {
            if ((side == 0) != flip)
                failed |= run_store(d_store, &ts, &cs) != 0;
            else
                failed |= run_lmdb(d_lmdb, &tl, &cl) != 0;
        }
        failed |= !failed && run_hash(&th, &chh) != 0;
        if (failed)
            break;
        if (cs != n_distinct || cl != n_distinct || chh != n_distinct) {
            fprintf(stderr, "entry counts: store %ld, lmdb %ld, hash %ld; expected %ld\n", cs, cl,
                    chh, n_distinct);
            failed = 1;
            break;
        }
        printf("round %d%s: store %.0f records/s (%.2f s), raw lmdb %.0f/s (%.2f s), hash map "
               "%.0f/s (%.2f s); store/lmdb %.2f\n",
               r, r == 0 ? " (warm-up)" : "", n_records / ts, ts, n_records / tl, tl,
               n_records / th, th, tl / ts);
        if (r > 0) {
            r_store[r - 1] = n_records / ts;
            r_lmdb[r - 1] = n_records / tl;
            r_hash[r - 1] = n_records / th;
            q_lmdb[r - 1] = tl / ts;
            q_hash[r - 1] = th / ts;
        }
    }
    char d_window[600];
    snprintf(d_window, sizeof d_window, "%s/window", scratch);
    if (!failed && bench_puts(d_store, d_window) != 0)
        failed = 1;
    rmdir(scratch);
    free(keys);
    if (failed)
        return 1;
    if (puts_only)
        return 0;
    printf("== summary\n");
    printf("restore (%ld records over %ld keys, commit every %ld; median of %d): store %.0f "
           "records/s, raw lmdb %.0f records/s, in-memory hash map %.0f records/s; ratio "
           "store/lmdb %.2f, store/hash %.3f\n",
           n_records, n_distinct, commit_every, rounds, median(r_store, rounds),
           median(r_lmdb, rounds), median(r_hash, rounds), median(q_lmdb, rounds),
           median(q_hash, rounds));
    return 0;
}

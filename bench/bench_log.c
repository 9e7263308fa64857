/* bench_log: throughput of the partition log's append path and latency of
 * its lookups, each next to a reference measured in the same run.
 *
 * Shared machines are noisy, so no figure here stands alone:
 *
 *   1. Append. Batches of 100 records x 100-byte values go through
 *      log_append(WIRE_BATCH_FROM_CLIENT), one batch per call as a produce
 *      request for one partition would bring them. The reference writes the
 *      same bytes, in the same batch-sized chunks, with plain write() to one
 *      file on the same file system. Within a round the two sides take turns
 *      every 8 MB (the order flipping at each turn), so noise from neighbours
 *      lands on both alike; the ratio append/plain of each round is taken,
 *      and the median over the rounds (after one uncounted warm-up round) is
 *      the figure that counts. Nothing is fsynced on either side: the log is
 *      dropped with log_close_abrupt() (log_close() would fsync every
 *      segment) and all files are removed between rounds, so dirty pages are
 *      discarded instead of written back.
 *   2. Lookup. A log of 1,000,000 records (100-record batches, one
 *      millisecond apart) is built; then log_read(offset, max_bytes 1) +
 *      log_slice_release() is timed for random offsets, each lookup on its
 *      own with CLOCK_MONOTONIC. The reference is a pread() of 8 KiB (the
 *      read a lookup itself does) at a random batch of the same file, timed
 *      the same way and taking turns with the lookups every 1,000 calls.
 *      log_offset_for_timestamp() is timed the same way for random
 *      timestamps. Every answer is checked against the known layout.
 *
 * The program prints figures and exits 0; it never decides pass or fail.
 * It exits 1 only when a call fails or a lookup returns a wrong answer.
 *
 * Usage: bench_log [-m MB] [-r rounds] [-s MB] [-p MB] [-c] [-n lookups]
 *                  [-t lookups] [-l records] [-S seed] [dir]
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/log.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/err.h"
#include "wire/recordbatch.h"

#define RECORDS_PER_BATCH 100
#define VALUE_BYTES 100
#define REF_READ 8192     /* a lookup's own read size (READ_BUF in log.c) */
#define CHUNK 1000        /* lookups and reference reads alternate in chunks */
#define MAX_ROUNDS 15
#define CHUNK_BYTES (8 * 1000 * 1000) /* append and plain write take turns */
#define MB 1e6            /* figures are in MB = 10^6 bytes */

typedef struct opts {
    int64_t op_round_bytes;   /* -m: bytes per side per round */
    int op_rounds;            /* -r */
    int64_t op_segment_bytes; /* -s: segment.bytes for the append log */
    int64_t op_pool_bytes;    /* -p: source buffers cycled through */
    int op_vflags;            /* -c adds WIRE_BATCH_CHECK_RECORDS */
    int64_t op_lookups;       /* -n */
    int64_t op_ts_lookups;    /* -t */
    int64_t op_log_records;   /* -l */
    uint64_t op_seed;         /* -S */
    const char *op_parent;    /* where the scratch directory goes */
} opts_t;

/* The scratch directory, removed on every exit path. */
static char g_base[4096];

static void remove_flat_dir(const char *dir);

static void cleanup(void)
{
    if (!g_base[0])
        return;
    char path[4096 + 64];
    snprintf(path, sizeof path, "%s/append", g_base);
    remove_flat_dir(path);
    snprintf(path, sizeof path, "%s/lookup", g_base);
    remove_flat_dir(path);
    snprintf(path, sizeof path, "%s/plain.dat", g_base);
    unlink(path);
    rmdir(g_base);
    g_base[0] = 0;
}

/* Prints what failed with the error's sentence, removes the scratch
 * directory and exits 1. */
static void die(int rc, const char *what, const char *detail)
{
    fprintf(stderr, "bench_log: %s: %s%s%s\n", what, eddy_strerror(rc),
            detail && *detail ? ": " : "", detail ? detail : "");
    cleanup();
    exit(1);
}

/* Removes every entry of a directory that holds only files, then the
 * directory itself. Missing is fine. */
static void remove_flat_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char path[8192];
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/* ---- helpers ---- */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    /* xorshift64*: fast, and reproducible from -S. */
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static int64_t rng_below(int64_t n)
{
    return (int64_t)((rng_next() >> 11) % (uint64_t)n);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median_double(const double *v, int n)
{
    double s[MAX_ROUNDS];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* Percentile p (0..100) of sorted samples, nearest rank. */
static int64_t pct(const int64_t *sorted, int64_t n, double p)
{
    int64_t rank = (int64_t)(p / 100.0 * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

/* "1234567" -> "1,234,567" in a static ring (several per printf). */
static const char *thousands(int64_t v)
{
    static char ring[8][32];
    static int next;
    char *out = ring[next++ % 8], tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64, v < 0 ? -v : v), o = 0;
    if (v < 0)
        out[o++] = '-';
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = tmp[i];
    }
    out[o] = 0;
    return out;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Appends one batch of n records with value bytes val and timestamps ts0,
 * ts0+1, ... to wr. */
static int encode_batch(eddy_wr_t *wr, int64_t ts0, int n, const uint8_t *val, int32_t vlen)
{
    wire_batch_header_t tmpl = wire_batch_header_default();
    wire_batch_builder_t b;
    wire_batch_begin(&b, wr, &tmpl);
    for (int i = 0; i < n; i++)
        wire_batch_add(&b, ts0 + i, NULL, -1, val, vlen, NULL, 0);
    return wire_batch_end(&b, 0);
}

static void log_config_for(log_config_t *cfg, int64_t segment_bytes)
{
    log_config_default(cfg);
    cfg->segment_bytes = segment_bytes;
    /* One log per run: never roll on time, never flush on count or time. */
    cfg->segment_ms = INT64_MAX / 2;
}

/* Timer overhead: median of back-to-back eddy_mono_ns() pairs. */
static int64_t timer_overhead_ns(void)
{
    enum { N = 10001 };
    static int64_t d[N];
    for (int i = 0; i < N; i++) {
        int64_t a = eddy_mono_ns();
        d[i] = eddy_mono_ns() - a;
    }
    qsort(d, N, sizeof *d, cmp_i64);
    return d[N / 2];
}

/* ---- 1. append vs plain write ---- */

typedef struct pool {
    uint8_t *po_buf;  /* po_n copies of one batch, back to back; owned */
    size_t po_batch;  /* bytes of one batch */
    int64_t po_n;
} pool_t;

typedef struct round_times {
    double rt_append_s; /* seconds inside log_append() */
    double rt_plain_s;  /* seconds inside write() */
    int rt_segments;
} round_times_t;

/* One round: a fresh log and a fresh plain file receive the same nbatches
 * batches. The two sides take turns every CHUNK_BYTES, the order flipping at
 * each turn, so a burst of noise from a neighbour lands on both sides
 * alike. Only the calls themselves are timed (not open, close or unlink). */
static void run_round(const opts_t *o, log_fdcache_t *fdc, const pool_t *pool, int64_t nbatches,
                      round_times_t *rt)
{
    char dir[4096 + 16], path[4096 + 16], err[512] = "";
    snprintf(dir, sizeof dir, "%s/append", g_base);
    snprintf(path, sizeof path, "%s/plain.dat", g_base);
    log_config_t cfg;
    log_config_for(&cfg, o->op_segment_bytes);
    log_t *log;
    int64_t now = eddy_wall_ms();
    int rc = log_open(dir, "bench-append", &cfg, fdc, now, &log, err, sizeof err);
    if (rc < 0)
        die(rc, "log_open (append)", err);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        die(-errno, "open", path);

    int64_t chunk = CHUNK_BYTES / (int64_t)pool->po_batch, ta = 0, tp = 0;
    if (chunk < 1)
        chunk = 1;
    for (int64_t start = 0, turn = 0; start < nbatches; start += chunk, turn++) {
        int64_t end = start + chunk < nbatches ? start + chunk : nbatches;
        for (int side = 0; side < 2; side++) {
            int append = (side + turn) % 2 == 0;
            int64_t t0 = eddy_mono_ns();
            for (int64_t i = start; i < end; i++) {
                uint8_t *p = pool->po_buf + (size_t)(i % pool->po_n) * pool->po_batch;
                if (append) {
                    rc = log_append(log, p, pool->po_batch, o->op_vflags, now, NULL, err,
                                    sizeof err);
                    if (rc < 0)
                        die(rc, "log_append", err);
                } else if ((rc = write_all(fd, p, pool->po_batch)) < 0) {
                    die(rc, "write", path);
                }
            }
            int64_t dt = eddy_mono_ns() - t0;
            if (append)
                ta += dt;
            else
                tp += dt;
        }
    }

    if (log_end_offset(log) != nbatches * RECORDS_PER_BATCH) {
        fprintf(stderr, "bench_log: append: log end %" PRId64 ", expected %" PRId64 "\n",
                log_end_offset(log), nbatches * RECORDS_PER_BATCH);
        die(EDDY_ERR_CORRUPT, "append", "wrong log end offset");
    }
    rt->rt_segments = log_segment_count(log);
    rt->rt_append_s = (double)ta / 1e9;
    rt->rt_plain_s = (double)tp / 1e9;
    /* Abrupt: a clean close would fsync every segment (see the top). The
     * files go right away, so their dirty pages are dropped unwritten. */
    log_close_abrupt(log);
    remove_flat_dir(dir);
    if (close(fd) < 0)
        die(-errno, "close", path);
    if (unlink(path) < 0)
        die(-errno, "unlink", path);
}

typedef struct append_result {
    double ar_records_s; /* median */
    double ar_mb_s;      /* median */
    double ar_plain_mb_s;
    double ar_ratio;     /* median of the per-round ratios */
} append_result_t;

static void bench_append(const opts_t *o, log_fdcache_t *fdc, append_result_t *res)
{
    uint8_t val[VALUE_BYTES];
    for (int i = 0; i < VALUE_BYTES; i++)
        val[i] = (uint8_t)('a' + i % 26);
    eddy_wr_t wr;
    wr_init(&wr);
    int rc = encode_batch(&wr, eddy_wall_ms(), RECORDS_PER_BATCH, val, VALUE_BYTES);
    if (rc < 0 || wr.wr_err)
        die(rc ? rc : wr.wr_err, "encoding the template batch", NULL);

    /* The source bytes cycle through a pool larger than the CPU caches, as
     * bytes fresh from the network would be; both sides read the same pool
     * in the same order. */
    pool_t pool;
    pool.po_batch = wr.wr_len;
    pool.po_n = o->op_pool_bytes / (int64_t)wr.wr_len;
    if (pool.po_n < 1)
        pool.po_n = 1;
    pool.po_buf = malloc((size_t)pool.po_n * pool.po_batch);
    if (!pool.po_buf)
        die(-ENOMEM, "allocating the source pool", NULL);
    for (int64_t i = 0; i < pool.po_n; i++)
        memcpy(pool.po_buf + (size_t)i * pool.po_batch, wr.wr_buf, pool.po_batch);
    wr_free(&wr);

    int64_t nbatches = o->op_round_bytes / (int64_t)pool.po_batch;
    if (nbatches < 1)
        nbatches = 1;
    double bytes = (double)nbatches * (double)pool.po_batch;
    double records = (double)nbatches * RECORDS_PER_BATCH;

    printf("== append: %s batches x %d records x %d-byte values = %.1f MB per side per round\n",
           thousands(nbatches), RECORDS_PER_BATCH, VALUE_BYTES, bytes / MB);
    printf("   batch %zu bytes, segment.bytes %s, vflags %s, source pool %.1f MB,\n"
           "   sides alternate every %.0f MB, 1 warm-up round + %d rounds, no fsync\n",
           pool.po_batch, thousands(o->op_segment_bytes),
           o->op_vflags & WIRE_BATCH_CHECK_RECORDS ? "FROM_CLIENT|CHECK_RECORDS" : "FROM_CLIENT",
           (double)pool.po_n * (double)pool.po_batch / MB, CHUNK_BYTES / MB, o->op_rounds);

    double app_mb[MAX_ROUNDS], app_rec[MAX_ROUNDS], plain_mb[MAX_ROUNDS], ratio[MAX_ROUNDS];
    /* Round 0 warms up: on a fresh VM the first pass over page-cache memory
     * pays for faulting it in on the host, several times the steady cost. */
    for (int r = 0; r <= o->op_rounds; r++) {
        round_times_t rt;
        run_round(o, fdc, &pool, nbatches, &rt);
        double a_mb = bytes / rt.rt_append_s / MB, p_mb = bytes / rt.rt_plain_s / MB;
        if (r == 0) {
            printf("   warm-up  : append %8.1f MB/s   plain write %8.1f MB/s   (not counted)\n",
                   a_mb, p_mb);
            continue;
        }
        app_mb[r - 1] = a_mb;
        app_rec[r - 1] = records / rt.rt_append_s;
        plain_mb[r - 1] = p_mb;
        ratio[r - 1] = a_mb / p_mb;
        printf("   round %2d : append %8.1f MB/s %12s records/s (%d segments)   "
               "plain write %8.1f MB/s   ratio %.2f\n",
               r, a_mb, thousands((int64_t)app_rec[r - 1]), rt.rt_segments, p_mb, ratio[r - 1]);
        fflush(stdout);
    }
    res->ar_mb_s = median_double(app_mb, o->op_rounds);
    res->ar_records_s = median_double(app_rec, o->op_rounds);
    res->ar_plain_mb_s = median_double(plain_mb, o->op_rounds);
    res->ar_ratio = median_double(ratio, o->op_rounds);
    printf("   median   : append %.1f MB/s, %s records/s; plain write %.1f MB/s; "
           "median ratio %.2f\n\n",
           res->ar_mb_s, thousands((int64_t)res->ar_records_s), res->ar_plain_mb_s, res->ar_ratio);
    free(pool.po_buf);
}

/* ---- 2. lookups ---- */

typedef struct lookup_result {
    int64_t lr_records;
    int64_t lr_timer_ns;
    int64_t lr_off_med, lr_off_p99;     /* ns */
    int64_t lr_ref_med, lr_ref_p99;     /* ns */
    int64_t lr_ts_med, lr_ts_p99;       /* ns */
    int64_t lr_n, lr_ts_n;
} lookup_result_t;

/* One log_read() + log_slice_release() of offset, timed; the answer is
 * checked outside the timed part. Returns nanoseconds. */
static int64_t timed_lookup(log_t *log, int64_t off, size_t batch_bytes)
{
    log_slice_t sl;
    int64_t a = eddy_mono_ns();
    int rc = log_read(log, off, 1, &sl);
    log_slice_t copy = sl; /* the fields stay readable after the release */
    if (rc == 0)
        log_slice_release(log, &sl);
    int64_t z = eddy_mono_ns();
    if (rc < 0)
        die(rc, "log_read", NULL);
    /* Exactly one whole batch: the one that holds off. */
    if (copy.sl_len != batch_bytes || copy.sl_first_offset > off ||
        copy.sl_first_offset + RECORDS_PER_BATCH <= off ||
        copy.sl_pos != copy.sl_first_offset / RECORDS_PER_BATCH * (int64_t)batch_bytes) {
        fprintf(stderr,
                "bench_log: log_read(%" PRId64 ") gave pos %" PRId64 " len %zu first %" PRId64 "\n",
                off, copy.sl_pos, copy.sl_len, copy.sl_first_offset);
        die(EDDY_ERR_CORRUPT, "log_read", "wrong slice");
    }
    return z - a;
}

static void bench_lookup(const opts_t *o, log_fdcache_t *fdc, lookup_result_t *res)
{
    char dir[4096 + 16], err[512] = "";
    snprintf(dir, sizeof dir, "%s/lookup", g_base);
    int64_t nbatches = (o->op_log_records + RECORDS_PER_BATCH - 1) / RECORDS_PER_BATCH;
    int64_t nrec = nbatches * RECORDS_PER_BATCH;
    res->lr_records = nrec;

    log_config_t cfg;
    /* The largest segment.bytes, so the log is one segment when it fits. */
    log_config_for(&cfg, INT32_MAX);
    log_t *log;
    int64_t t_build = eddy_mono_ns();
    int64_t T0 = eddy_wall_ms() - nrec; /* record i has timestamp T0 + i */
    int rc = log_open(dir, "bench-lookup", &cfg, fdc, eddy_wall_ms(), &log, err, sizeof err);
    if (rc < 0)
        die(rc, "log_open (lookup)", err);
    uint8_t val[VALUE_BYTES];
    memset(val, 'v', sizeof val);
    eddy_wr_t wr;
    wr_init(&wr);
    size_t batch_bytes = 0;
    for (int64_t b = 0; b < nbatches; b++) {
        wr_reset(&wr);
        rc = encode_batch(&wr, T0 + b * RECORDS_PER_BATCH, RECORDS_PER_BATCH, val, VALUE_BYTES);
        if (rc < 0 || wr.wr_err)
            die(rc ? rc : wr.wr_err, "encoding a batch", NULL);
        log_append_info_t info;
        rc = log_append(log, wr.wr_buf, wr.wr_len, WIRE_BATCH_FROM_CLIENT, eddy_wall_ms(), &info,
                        err, sizeof err);
        if (rc < 0)
            die(rc, "log_append (lookup log)", err);
        if (info.ai_first_offset != b * RECORDS_PER_BATCH)
            die(EDDY_ERR_CORRUPT, "log_append (lookup log)", "unexpected first offset");
        batch_bytes = wr.wr_len;
    }
    wr_free(&wr);
    double build_s = (double)(eddy_mono_ns() - t_build) / 1e9;
    printf("== lookup: log of %s records in %s batches of %d (%.1f MB, %d segment(s)), "
           "built in %.2f s\n",
           thousands(nrec), thousands(nbatches), RECORDS_PER_BATCH,
           (double)log_size_bytes(log) / MB, log_segment_count(log), build_s);

    /* The reference reads the first segment's file with an fd of our own
     * (the lookup log is one segment unless -l makes it over 2 GiB). */
    char seg0[4096 + 64];
    snprintf(seg0, sizeof seg0, "%s/%020" PRId64 ".log", dir, (int64_t)0);
    int rfd = open(seg0, O_RDONLY | O_CLOEXEC);
    if (rfd < 0)
        die(-errno, "open", seg0);
    struct stat st;
    if (fstat(rfd, &st) < 0)
        die(-errno, "fstat", seg0);
    int64_t ref_batches = st.st_size / (int64_t)batch_bytes;
    if (ref_batches < 1)
        die(EDDY_ERR_CORRUPT, "lookup log", "first segment is empty");
    uint8_t *rbuf = malloc(REF_READ);
    int64_t n = o->op_lookups, nts = o->op_ts_lookups;
    int64_t *lk = malloc((size_t)(n ? n : 1) * sizeof *lk);
    int64_t *ref = malloc((size_t)(n ? n : 1) * sizeof *ref);
    int64_t *tsl = malloc((size_t)(nts ? nts : 1) * sizeof *tsl);
    if (!rbuf || !lk || !ref || !tsl)
        die(-ENOMEM, "allocating samples", NULL);

    res->lr_timer_ns = timer_overhead_ns();
    printf("   timing: each call timed on its own with clock_gettime(CLOCK_MONOTONIC); "
           "timer overhead %" PRId64 " ns (included)\n",
           res->lr_timer_ns);

    for (int64_t done = 0, turn = 0; done < n; turn++) {
        int64_t k = n - done < CHUNK ? n - done : CHUNK;
        for (int side = 0; side < 2; side++) {
            if ((side + turn) % 2 == 0) {
                for (int64_t i = 0; i < k; i++)
                    lk[done + i] = timed_lookup(log, rng_below(nrec), batch_bytes);
                continue;
            }
            /* The reference reads its own random batches: reading the very
             * positions a lookup just read would find them hot in the CPU
             * caches and flatter the reference. */
            for (int64_t i = 0; i < k; i++) {
                int64_t at = rng_below(ref_batches) * (int64_t)batch_bytes;
                int64_t a = eddy_mono_ns();
                ssize_t r = pread(rfd, rbuf, REF_READ, at);
                int64_t z = eddy_mono_ns();
                if (r < 0)
                    die(-errno, "pread", seg0);
                ref[done + i] = z - a;
            }
        }
        done += k;
    }

    for (int64_t i = 0; i < nts; i++) {
        int64_t want = rng_below(nrec);
        int64_t off, ts;
        int64_t a = eddy_mono_ns();
        rc = log_offset_for_timestamp(log, T0 + want, &off, &ts);
        int64_t z = eddy_mono_ns();
        if (rc < 0)
            die(rc, "log_offset_for_timestamp", NULL);
        if (off != want || ts != T0 + want) {
            fprintf(stderr,
                    "bench_log: offset for timestamp T0+%" PRId64 ": %" PRId64 " (ts T0+%" PRId64
                    "), expected %" PRId64 "\n",
                    want, off, ts - T0, want);
            die(EDDY_ERR_CORRUPT, "log_offset_for_timestamp", "wrong offset");
        }
        tsl[i] = z - a;
    }

    res->lr_n = n;
    res->lr_ts_n = nts;
    if (n) {
        qsort(lk, (size_t)n, sizeof *lk, cmp_i64);
        qsort(ref, (size_t)n, sizeof *ref, cmp_i64);
        res->lr_off_med = pct(lk, n, 50);
        res->lr_off_p99 = pct(lk, n, 99);
        res->lr_ref_med = pct(ref, n, 50);
        res->lr_ref_p99 = pct(ref, n, 99);
        printf("   offset lookup    x %s: median %.2f us, p90 %.2f, p99 %.2f, p99.9 %.2f, max "
               "%.1f\n",
               thousands(n), (double)res->lr_off_med / 1e3, (double)pct(lk, n, 90) / 1e3,
               (double)res->lr_off_p99 / 1e3, (double)pct(lk, n, 99.9) / 1e3,
               (double)lk[n - 1] / 1e3);
        printf("   pread 8 KiB ref  x %s: median %.2f us, p90 %.2f, p99 %.2f, p99.9 %.2f, max "
               "%.1f\n",
               thousands(n), (double)res->lr_ref_med / 1e3, (double)pct(ref, n, 90) / 1e3,
               (double)res->lr_ref_p99 / 1e3, (double)pct(ref, n, 99.9) / 1e3,
               (double)ref[n - 1] / 1e3);
        printf("   ratio lookup/pread: median %.2f, p99 %.2f\n",
               (double)res->lr_off_med / (double)res->lr_ref_med,
               (double)res->lr_off_p99 / (double)res->lr_ref_p99);
    }
    if (nts) {
        qsort(tsl, (size_t)nts, sizeof *tsl, cmp_i64);
        res->lr_ts_med = pct(tsl, nts, 50);
        res->lr_ts_p99 = pct(tsl, nts, 99);
        printf("   timestamp lookup x %s: median %.2f us, p90 %.2f, p99 %.2f, max %.1f\n",
               thousands(nts), (double)res->lr_ts_med / 1e3, (double)pct(tsl, nts, 90) / 1e3,
               (double)res->lr_ts_p99 / 1e3, (double)tsl[nts - 1] / 1e3);
        if (n)
            printf("   ratio timestamp lookup/pread: median %.2f\n",
                   (double)res->lr_ts_med / (double)res->lr_ref_med);
    }
    printf("\n");
    free(rbuf);
    free(lk);
    free(ref);
    free(tsl);
    close(rfd);
    log_close_abrupt(log);
    remove_flat_dir(dir);
}

/* ---- main ---- */

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_log [options] [dir]\n"
            "  -m MB       bytes per side per append round (default 512)\n"
            "  -r N        append rounds after one warm-up, 1..%d (default 5)\n"
            "  -s MB       segment.bytes of the append log (default 256, so rounds roll)\n"
            "  -p MB       source buffer pool cycled through (default 64; 0 = one batch)\n"
            "  -c          validate records too (WIRE_BATCH_CHECK_RECORDS)\n"
            "  -n N        random offset lookups (default 200000; 0 with -t 0 skips lookups)\n"
            "  -t N        random timestamp lookups (default 20000)\n"
            "  -l N        records in the lookup log (default 1000000)\n"
            "  -S seed     random seed (default 1)\n"
            "  dir         parent of the scratch directory (default /tmp)\n",
            MAX_ROUNDS);
}

static int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    opts_t o = {
        .op_round_bytes = 512 * 1000 * 1000LL,
        .op_rounds = 5,
        .op_segment_bytes = 256LL << 20,
        .op_pool_bytes = 64LL << 20,
        .op_vflags = WIRE_BATCH_FROM_CLIENT,
        .op_lookups = 200000,
        .op_ts_lookups = 20000,
        .op_log_records = 1000000,
        .op_seed = 1,
        .op_parent = "/tmp",
    };
    int c;
    int64_t v;
    while ((c = getopt(argc, argv, "m:r:s:p:cn:t:l:S:h")) != -1) {
        int bad = 0;
        switch (c) {
        case 'm':
            bad = parse_i64(optarg, 1, 1 << 20, &v);
            o.op_round_bytes = v * 1000 * 1000;
            break;
        case 'r':
            bad = parse_i64(optarg, 1, MAX_ROUNDS, &v);
            o.op_rounds = (int)v;
            break;
        case 's':
            /* segment.bytes is an int32 in Kafka: at most 2047 MiB. */
            bad = parse_i64(optarg, 1, 2047, &v);
            o.op_segment_bytes = v << 20;
            break;
        case 'p':
            bad = parse_i64(optarg, 0, 1 << 16, &v);
            o.op_pool_bytes = v << 20;
            break;
        case 'c': o.op_vflags |= WIRE_BATCH_CHECK_RECORDS; break;
        case 'n': bad = parse_i64(optarg, 0, 100000000, &o.op_lookups); break;
        case 't': bad = parse_i64(optarg, 0, 100000000, &o.op_ts_lookups); break;
        case 'l':
            /* Offsets relative to a segment base are 32-bit in the index. */
            bad = parse_i64(optarg, RECORDS_PER_BATCH, 1000000000, &o.op_log_records);
            break;
        case 'S':
            bad = parse_i64(optarg, 1, INT64_MAX, &v);
            o.op_seed = (uint64_t)v;
            break;
        default: usage(); return c == 'h' ? 0 : 2;
        }
        if (bad) {
            fprintf(stderr, "bench_log: -%c %s: not a number in range\n", c, optarg);
            usage();
            return 2;
        }
    }
    if (optind < argc)
        o.op_parent = argv[optind++];
    if (optind < argc) {
        usage();
        return 2;
    }
    rng_state = o.op_seed;

    snprintf(g_base, sizeof g_base, "%s/bench_log.XXXXXX", o.op_parent);
    if (!mkdtemp(g_base)) {
        int e = errno;
        g_base[0] = 0;
        die(-e, "mkdtemp", o.op_parent);
    }
    printf("bench_log: scratch directory %s\n\n", g_base);
    fflush(stdout);

    log_fdcache_t *fdc = log_fdcache_new(64);
    if (!fdc)
        die(-ENOMEM, "log_fdcache_new", NULL);

    append_result_t ar;
    bench_append(&o, fdc, &ar);
    lookup_result_t lr;
    memset(&lr, 0, sizeof lr);
    if (o.op_lookups || o.op_ts_lookups)
        bench_lookup(&o, fdc, &lr);
    log_fdcache_destroy(fdc);
    cleanup();

    printf("== summary\n");
    printf("append: %s records/s, %.0f MB/s; plain write: %.0f MB/s; ratio %.2f (target >= 0.8)\n",
           thousands((int64_t)ar.ar_records_s), ar.ar_mb_s, ar.ar_plain_mb_s, ar.ar_ratio);
    if (lr.lr_n)
        printf("random offset lookup (%s records): median %.2f us, p99 %.2f us (target median < 5 "
               "us); "
               "pread 8 KiB reference: median %.2f us, p99 %.2f us\n",
               thousands(lr.lr_records), (double)lr.lr_off_med / 1e3, (double)lr.lr_off_p99 / 1e3,
               (double)lr.lr_ref_med / 1e3, (double)lr.lr_ref_p99 / 1e3);
    if (lr.lr_ts_n)
        printf("timestamp lookup (%s records): median %.2f us, p99 %.2f us\n",
               thousands(lr.lr_records), (double)lr.lr_ts_med / 1e3, (double)lr.lr_ts_p99 / 1e3);
    if (lr.lr_n)
        printf("(lookups timed one by one, timer overhead %" PRId64 " ns included; "
               "ratio lookup/pread: median %.2f)\n",
               lr.lr_timer_ns, (double)lr.lr_off_med / (double)lr.lr_ref_med);
    return 0;
}

/* Compaction against a model over randomized workloads: the log keeps the
 * latest record per key (offsets unchanged), tombstones go after
 * delete.retention.ms, and a crash at any step of the swap loses nothing. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "logtest.h"
#include "wire/codec.h"

#define T0 1700000000000LL
#define NKEYS 40
#define DELETE_RETENTION 5000

/* The model: every record still in the log, in offset order. */
typedef struct model {
    trec_t *m_recs;
    int64_t m_n, m_cap;
} model_t;

static void model_add(model_t *m, const trec_t *r)
{
    if (m->m_n == m->m_cap) {
        m->m_cap = m->m_cap ? m->m_cap * 2 : 1024;
        m->m_recs = realloc(m->m_recs, (size_t)m->m_cap * sizeof *m->m_recs);
    }
    m->m_recs[m->m_n++] = *r;
}

/* What compaction of offsets below upto must leave at time now. */
static void model_compact(model_t *m, int64_t upto, int64_t now)
{
    int64_t kept = 0;
    for (int64_t i = 0; i < m->m_n; i++) {
        trec_t *r = &m->m_recs[i];
        int keep = 1;
        if (r->offset < upto && !r->key_null) {
            for (int64_t j = i + 1; j < m->m_n && m->m_recs[j].offset < upto; j++)
                if (!m->m_recs[j].key_null && strcmp(m->m_recs[j].key, r->key) == 0) {
                    keep = 0; /* a later record of the key */
                    break;
                }
            if (keep && r->value_null && r->timestamp <= now - DELETE_RETENTION)
                keep = 0; /* tombstone past the horizon */
        }
        if (keep)
            m->m_recs[kept++] = *r;
    }
    m->m_n = kept;
}

/* Appends a random batch: random keys, ~15% tombstones, a few null keys. */
static void append_random(log_t *log, model_t *m, int n, unsigned *seed)
{
    char keys[64][16], values[64][32];
    const char *kp[64], *vp[64];
    int64_t ts[64];
    int64_t first = log_end_offset(log);
    for (int i = 0; i < n; i++) {
        int r = rand_r(seed) % 100;
        snprintf(keys[i], sizeof keys[i], "key%d", rand_r(seed) % NKEYS);
        snprintf(values[i], sizeof values[i], "val-%lld", (long long)(first + i));
        kp[i] = r < 3 ? NULL : keys[i];
        vp[i] = r >= 3 && r < 18 ? NULL : values[i];
        ts[i] = T0 + (first + i) * 10;
        trec_t t;
        memset(&t, 0, sizeof t);
        t.offset = first + i;
        t.timestamp = ts[i];
        t.key_null = kp[i] == NULL;
        t.value_null = vp[i] == NULL;
        if (kp[i])
            snprintf(t.key, sizeof t.key, "%.60s", kp[i]);
        if (vp[i])
            snprintf(t.value, sizeof t.value, "%.100s", vp[i]);
        model_add(m, &t);
    }
    lt_append(log, n, kp, vp, ts, 0);
}

static void assert_log_equals_model(log_t *log, const model_t *m)
{
    trec_t *recs;
    int64_t n = lt_read_all(log, &recs);
    ck_assert_int_eq(n, m->m_n);
    for (int64_t i = 0; i < n; i++) {
        const trec_t *a = &recs[i], *b = &m->m_recs[i];
        ck_assert_int_eq(a->offset, b->offset);
        ck_assert_int_eq(a->timestamp, b->timestamp);
        ck_assert_int_eq(a->key_null, b->key_null);
        ck_assert_int_eq(a->value_null, b->value_null);
        ck_assert_str_eq(a->key, b->key);
        ck_assert_str_eq(a->value, b->value);
    }
    free(recs);
}

/* Replaying the log as upserts gives the latest value of every key that the
 * full history gives. */
static void assert_latest_values(log_t *log, const model_t *history)
{
    const char *want[NKEYS] = {0}, *got[NKEYS] = {0};
    for (int64_t i = 0; i < history->m_n; i++) {
        const trec_t *r = &history->m_recs[i];
        if (!r->key_null)
            want[atoi(r->key + 3)] = r->value_null ? NULL : r->value;
    }
    trec_t *recs;
    int64_t n = lt_read_all(log, &recs);
    for (int64_t i = 0; i < n; i++)
        if (!recs[i].key_null)
            got[atoi(recs[i].key + 3)] = recs[i].value_null ? NULL : recs[i].value;
    for (int k = 0; k < NKEYS; k++) {
        ck_assert_msg((want[k] == NULL) == (got[k] == NULL), "key%d: want %s got %s", k,
                      want[k] ? want[k] : "(none)", got[k] ? got[k] : "(none)");
        if (want[k])
            ck_assert_str_eq(want[k], got[k]);
    }
    free(recs);
}

static log_config_t compact_config(void)
{
    log_config_t cfg = lt_config();
    cfg.segment_bytes = 2048;
    cfg.cleanup_policy = LOG_CLEANUP_COMPACT;
    cfg.delete_retention_ms = DELETE_RETENTION;
    return cfg;
}

/* Run once per codec (_i): compressed batches are read, thinned and
 * compressed again with their own codec; uncompressed runs more seeds. */
START_TEST(compaction_equals_model)
{
    int codec = _i;
    lt_append_codec = codec;
    for (unsigned seed0 = 1; seed0 <= (codec ? 4u : 12u); seed0++) {
        unsigned seed = seed0;
        log_config_t cfg = compact_config();
        if (seed0 % 3 == 0)
            cfg.cleanup_policy |= LOG_CLEANUP_DELETE; /* compact,delete */
        log_fdcache_t *fdc = log_fdcache_new(16);
        char *dir = lt_tmpdir();
        log_t *log = lt_open(dir, &cfg, fdc);
        model_t m = {0}, history = {0};
        for (int round = 0; round < 4; round++) {
            int batches = 20 + rand_r(&seed) % 40;
            for (int b = 0; b < batches; b++) {
                int64_t before = m.m_n;
                append_random(log, &m, 1 + rand_r(&seed) % 20, &seed);
                for (int64_t i = before; i < m.m_n; i++)
                    model_add(&history, &m.m_recs[i]);
            }
            int64_t upto = log->log_segs[log->log_nsegs - 1]->seg_base;
            int64_t now = T0 + log_end_offset(log) * 10 - (rand_r(&seed) % 3) * 4000;
            ck_assert_int_eq(log_compact(log, now, 1), 0);
            model_compact(&m, upto, now);
            assert_log_equals_model(log, &m);
            ck_assert_int_eq(lt_codecs_read, 1 << codec); /* rewritten batches kept it */
            assert_latest_values(log, &history);
            if (round == 1) { /* across a clean restart */
                ck_assert_int_eq(log_close(log), 0);
                log = lt_open(dir, &cfg, fdc);
                assert_log_equals_model(log, &m);
            }
            if (round == 2) { /* across a crash */
                log_close_abrupt(log);
                log = lt_open(dir, &cfg, fdc);
                assert_log_equals_model(log, &m);
            }
        }
        ck_assert_int_eq(lt_count_files(dir, ".cleaned"), 0);
        ck_assert_int_eq(lt_count_files(dir, ".swap"), 0);
        ck_assert_int_eq(log_close(log), 0);
        log_fdcache_destroy(fdc);
        free(m.m_recs);
        free(history.m_recs);
        lt_rmdir(dir);
        free(dir);
    }
    lt_append_codec = 0;
}
END_TEST

/* A crash at every step of the commit: after restart no .cleaned or .swap
 * file is left, every record read is one that was written at its offset,
 * no key's latest value is lost, and compacting again gives the model. */
START_TEST(crash_mid_compaction)
{
    for (int crash_step = 1; crash_step <= 40; crash_step += (crash_step < 12 ? 1 : 7)) {
        unsigned seed = 99;
        log_config_t cfg = compact_config();
        cfg.segment_bytes = 1500;
        log_fdcache_t *fdc = log_fdcache_new(16);
        char *dir = lt_tmpdir();
        log_t *log = lt_open(dir, &cfg, fdc);
        model_t m = {0}, history = {0};
        for (int b = 0; b < 80; b++)
            append_random(log, &m, 1 + rand_r(&seed) % 12, &seed);
        for (int64_t i = 0; i < m.m_n; i++)
            model_add(&history, &m.m_recs[i]);
        ck_assert_int_ge(log_segment_count(log), 8);
        int64_t upto = log->log_segs[log->log_nsegs - 1]->seg_base;
        int64_t now = T0 + log_end_offset(log) * 10;

        log_clean_job_t *job = log_clean_prepare(log, now, 1);
        ck_assert_ptr_nonnull(job);
        ck_assert_int_eq(log_clean_run(job), 0);
        log_clean_crash_after_step = crash_step;
        int rc = log_clean_commit(log, job);
        log_clean_crash_after_step = 0;
        log_clean_job_free(job);
        log_close_abrupt(log);
        ck_assert(rc == -ECANCELED || rc == 0);

        log = lt_open(dir, &cfg, fdc);
        ck_assert_int_eq(lt_count_files(dir, ".cleaned"), 0);
        ck_assert_int_eq(lt_count_files(dir, ".swap"), 0);
        assert_latest_values(log, &history);
        trec_t *recs;
        int64_t n = lt_read_all(log, &recs);
        for (int64_t i = 0, j = 0; i < n; i++) {
            while (j < history.m_n && history.m_recs[j].offset < recs[i].offset)
                j++;
            ck_assert_int_lt(j, history.m_n);
            ck_assert_int_eq(history.m_recs[j].offset, recs[i].offset);
            ck_assert_str_eq(history.m_recs[j].value, recs[i].value);
            ck_assert_str_eq(history.m_recs[j].key, recs[i].key);
        }
        free(recs);
        ck_assert_int_eq(log_compact(log, now, 1), 0);
        model_compact(&m, upto, now);
        assert_log_equals_model(log, &m);
        ck_assert_int_eq(log_close(log), 0);
        log_fdcache_destroy(fdc);
        free(m.m_recs);
        free(history.m_recs);
        lt_rmdir(dir);
        free(dir);
    }
}
END_TEST

/* A job prepared before the log changed under it is refused, not applied. */
START_TEST(stale_job_refused)
{
    log_config_t cfg = compact_config();
    cfg.cleanup_policy |= LOG_CLEANUP_DELETE;
    cfg.retention_bytes = 3000;
    log_fdcache_t *fdc = log_fdcache_new(16);
    char *dir = lt_tmpdir();
    log_t *log = lt_open(dir, &cfg, fdc);
    model_t m = {0};
    unsigned seed = 5;
    for (int b = 0; b < 60; b++)
        append_random(log, &m, 10, &seed);
    log_clean_job_t *job = log_clean_prepare(log, T0, 1);
    ck_assert_ptr_nonnull(job);
    ck_assert_int_eq(log_clean_run(job), 0);
    int deleted;
    ck_assert_int_eq(log_retention_run(log, T0, &deleted), 0);
    ck_assert_int_gt(deleted, 0);
    ck_assert_int_eq(log_clean_commit(log, job), EDDY_ERR_STALE);
    log_clean_job_free(job);
    ck_assert_int_eq(lt_count_files(dir, ".cleaned"), 0);
    ck_assert_int_eq(log_close(log), 0);
    log_fdcache_destroy(fdc);
    free(m.m_recs);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

struct run_arg {
    log_clean_job_t *job;
    int rc;
};

static void *run_thread(void *p)
{
    struct run_arg *a = p;
    a->rc = log_clean_run(a->job);
    return NULL;
}

/* The cleaning pass runs on another thread while appends go on; the
 * commit then swaps in a result that equals the model, new records intact. */
START_TEST(clean_runs_beside_appends)
{
    log_config_t cfg = compact_config();
    log_fdcache_t *fdc = log_fdcache_new(16);
    char *dir = lt_tmpdir();
    log_t *log = lt_open(dir, &cfg, fdc);
    model_t m = {0};
    unsigned seed = 17;
    for (int b = 0; b < 80; b++)
        append_random(log, &m, 10, &seed);
    int64_t upto = log->log_segs[log->log_nsegs - 1]->seg_base;
    int64_t now = T0 + log_end_offset(log) * 10;
    log_clean_job_t *job = log_clean_prepare(log, now, 1);
    ck_assert_ptr_nonnull(job);
    struct run_arg arg = {job, -1};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, run_thread, &arg), 0);
    for (int b = 0; b < 200; b++) /* rolls several new segments meanwhile */
        append_random(log, &m, 10, &seed);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_int_eq(arg.rc, 0);
    ck_assert_int_eq(log_clean_commit(log, job), 0);
    log_clean_job_free(job);
    model_compact(&m, upto, now);
    assert_log_equals_model(log, &m);
    ck_assert_int_eq(log_close(log), 0);
    log_fdcache_destroy(fdc);
    free(m.m_recs);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

/* min.cleanable.dirty.ratio: a freshly cleaned log is not cleaned again
 * until enough new data has arrived. */
START_TEST(dirty_ratio_gates_cleaning)
{
    log_config_t cfg = compact_config();
    cfg.min_cleanable_dirty_ratio = 0.5;
    log_fdcache_t *fdc = log_fdcache_new(16);
    char *dir = lt_tmpdir();
    log_t *log = lt_open(dir, &cfg, fdc);
    model_t m = {0};
    unsigned seed = 3;
    for (int b = 0; b < 80; b++)
        append_random(log, &m, 10, &seed);
    log_clean_job_t *job = log_clean_prepare(log, T0, 0);
    ck_assert_ptr_nonnull(job); /* everything is dirty */
    log_clean_job_free(job);
    ck_assert_int_eq(log_compact(log, T0, 0), 0);
    ck_assert_ptr_null(log_clean_prepare(log, T0, 0)); /* nothing new */
    int64_t clean_bytes = log_size_bytes(log);
    while (log_size_bytes(log) < clean_bytes * 3)
        append_random(log, &m, 10, &seed);
    job = log_clean_prepare(log, T0, 0);
    ck_assert_ptr_nonnull(job);
    log_clean_job_free(job);
    ck_assert_int_eq(log_close(log), 0);
    log_fdcache_destroy(fdc);
    free(m.m_recs);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

TCase *tcase_compaction(void)
{
    TCase *tc = tcase_create("compaction");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, compaction_equals_model, WIRE_CODEC_NONE, WIRE_CODEC_ZSTD + 1);
    tcase_add_test(tc, crash_mid_compaction);
    tcase_add_test(tc, stale_job_refused);
    tcase_add_test(tc, clean_runs_beside_appends);
    tcase_add_test(tc, dirty_ratio_gates_cleaning);
    return tc;
}

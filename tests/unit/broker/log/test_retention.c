/* Retention, DeleteRecords and truncation: only whole segments go, the start
 * and end offsets move as Kafka's do, and both survive a restart. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "logtest.h"

#define T0 1700000000000LL

/* retention.ms deletes exactly the segments whose newest record is older,
 * from the head, whole. */
START_TEST(retention_ms_deletes_expired_segments)
{
    log_config_t cfg = lt_config();
    cfg.segment_bytes = 2048;
    cfg.retention_ms = 10000;
    log_fdcache_t *fdc = log_fdcache_new(16);
    char *dir = lt_tmpdir();
    log_t *log = lt_open(dir, &cfg, fdc);
    /* Each batch one second later than the one before. */
    for (int b = 0; b < 60; b++) {
        int64_t ts[5];
        for (int i = 0; i < 5; i++)
            ts[i] = T0 + b * 1000;
        lt_append(log, 5, NULL, NULL, ts, 0);
    }
    int before = log_segment_count(log);
    int64_t now = T0 + 40000; /* batches before T0+30000 are expired */
    int expect = 0;
    for (int i = 0; i < before - 1 && now - log->log_segs[i]->seg_max_ts > cfg.retention_ms; i++)
        expect++;
    ck_assert_int_gt(expect, 0);
    ck_assert_int_lt(expect, before - 1);
    int64_t new_start = log->log_segs[expect]->seg_base;
    int deleted;
    ck_assert_int_eq(log_retention_run(log, now, &deleted), 0);
    ck_assert_int_eq(deleted, expect);
    ck_assert_int_eq(log_segment_count(log), before - expect);
    ck_assert_int_eq(log_start_offset(log), new_start);
    ck_assert_int_eq(lt_count_files(dir, ".log"), before - expect);
    /* Every remaining segment still holds a record younger than retention. */
    ck_assert_int_ge(log->log_segs[0]->seg_max_ts, now - cfg.retention_ms);
    trec_t *recs;
    ck_assert_int_eq(lt_read_all(log, &recs), log_end_offset(log) - new_start);
    ck_assert_int_eq(recs[0].offset, new_start);
    free(recs);
    log_slice_t sl;
    ck_assert_int_eq(log_read(log, new_start - 1, 100, &sl), EDDY_ERR_OFFSET_OUT_OF_RANGE);

    /* Much later everything expires, the active segment too (it rolls). */
    int64_t end = log_end_offset(log);
    ck_assert_int_eq(log_retention_run(log, now + 1000000, &deleted), 0);
    ck_assert_int_eq(log_segment_count(log), 1);
    ck_assert_int_eq(log_start_offset(log), end);
    ck_assert_int_eq(log_end_offset(log), end);

    ck_assert_int_eq(log_close(log), 0);
    log = lt_open(dir, &cfg, fdc);
    ck_assert_int_eq(log_start_offset(log), end);
    ck_assert_int_eq(log_end_offset(log), end);
    ck_assert_int_eq(log_close(log), 0);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

/* retention.bytes keeps the log under the limit by deleting the oldest whole
 * segments, and never more than needed. */
START_TEST(retention_bytes_deletes_oldest)
{
    log_config_t cfg = lt_config();
    cfg.segment_bytes = 2048;
    cfg.retention_bytes = 5000;
    log_fdcache_t *fdc = log_fdcache_new(16);
    char *dir = lt_tmpdir();
    log_t *log = lt_open(dir, &cfg, fdc);
    lt_fill(log, 80, 5, T0);
    int deleted;
    ck_assert_int_eq(log_retention_run(log, T0, &deleted), 0);
    ck_assert_int_gt(deleted, 0);
    int64_t size = log_size_bytes(log);
    /* Under the limit plus at most the segment that must stay... */
    ck_assert_int_lt(size - log->log_segs[0]->seg_size, cfg.retention_bytes);
    /* ...and deleting one more would have been too many. */
    ck_assert_int_ge(size, cfg.retention_bytes - 2048);
    ck_assert_int_eq(log_start_offset(log), log->log_segs[0]->seg_base);
    /* Policy compact alone: retention does nothing. */
    cfg.cleanup_policy = LOG_CLEANUP_COMPACT;
    log_set_config(log, &cfg);
    lt_fill(log, 80, 5, T0);
    int segs = log_segment_count(log);
    ck_assert_int_eq(log_retention_run(log, T0, &deleted), 0);
    ck_assert_int_eq(deleted, 0);
    ck_assert_int_eq(log_segment_count(log), segs);
    ck_assert_int_eq(log_close(log), 0);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

/* DeleteRecords moves the start inside a segment; reads below fail; the new
 * start survives a crash. */
START_TEST(delete_records_before)
{
    log_config_t cfg = lt_config();
    cfg.segment_bytes = 2048;
    log_fdcache_t *fdc = log_fdcache_new(16);
    char *dir = lt_tmpdir();
    log_t *log = lt_open(dir, &cfg, fdc);
    lt_fill(log, 50, 5, T0);
    int64_t end = log_end_offset(log);
    ck_assert_int_eq(log_delete_records_before(log, end + 1), EDDY_ERR_OFFSET_OUT_OF_RANGE);
    int64_t cut = 123;
    ck_assert_int_eq(log_delete_records_before(log, cut), 0);
    ck_assert_int_eq(log_start_offset(log), cut);
    ck_assert_int_le(log->log_segs[0]->seg_base, cut);
    ck_assert_int_gt(log->log_segs[0]->seg_next_offset, cut);
    log_slice_t sl;
    ck_assert_int_eq(log_read(log, cut - 1, 100, &sl), EDDY_ERR_OFFSET_OUT_OF_RANGE);
    trec_t *recs;
    ck_assert_int_eq(lt_read_all(log, &recs), end - cut);
    ck_assert_int_eq(recs[0].offset, cut);
    free(recs);
    int64_t off, ts;
    ck_assert_int_eq(log_offset_for_timestamp(log, T0, &off, &ts), 0);
    ck_assert_int_eq(off, cut);
    log_close_abrupt(log);
    log = lt_open(dir, &cfg, fdc);
    ck_assert_int_eq(log_start_offset(log), cut);
    /* Everything: the log is empty at end and takes appends there. */
    ck_assert_int_eq(log_delete_records_before(log, end), 0);
    ck_assert_int_eq(log_start_offset(log), end);
    ck_assert_int_eq(log_segment_count(log), 1);
    lt_append(log, 3, NULL, NULL, NULL, T0);
    ck_assert_int_eq(log_end_offset(log), end + 3);
    ck_assert_int_eq(log_close(log), 0);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

/* truncate_to removes whole batches from the tail: a batch that straddles
 * the offset goes entirely; appends continue at the new end, after a crash
 * too. */
START_TEST(truncate_to)
{
    log_config_t cfg = lt_config();
    cfg.segment_bytes = 2048;
    log_fdcache_t *fdc = log_fdcache_new(16);
    char *dir = lt_tmpdir();
    log_t *log = lt_open(dir, &cfg, fdc);
    lt_fill(log, 50, 5, T0); /* batches start at multiples of 5 */
    int segs = log_segment_count(log);
    ck_assert_int_eq(log_truncate_to(log, 1000), 0); /* beyond the end: nothing */
    ck_assert_int_eq(log_end_offset(log), 250);
    ck_assert_int_eq(log_truncate_to(log, 123), 0);
    ck_assert_int_eq(log_end_offset(log), 120);
    ck_assert_int_lt(log_segment_count(log), segs);
    trec_t *recs;
    ck_assert_int_eq(lt_read_all(log, &recs), 120);
    ck_assert_int_eq(recs[119].offset, 119);
    free(recs);
    lt_append(log, 2, NULL, NULL, NULL, T0);
    ck_assert_int_eq(log_end_offset(log), 122);
    log_close_abrupt(log);
    log = lt_open(dir, &cfg, fdc);
    ck_assert_int_eq(log_end_offset(log), 122);
    ck_assert_int_eq(lt_read_all(log, &recs), 122);
    ck_assert_str_eq(recs[121].value, "v121");
    free(recs);
    /* Below the first segment: empty log starting there. */
    ck_assert_int_eq(log_truncate_to(log, 0), 0);
    ck_assert_int_eq(log_end_offset(log), 0);
    ck_assert_int_eq(log_start_offset(log), 0);
    ck_assert_int_eq(log_close(log), 0);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

static char deferred[16][4300];
static int ndeferred;

static void defer_delete(const char *path, void *opaque)
{
    (void)opaque;
    if (ndeferred < 16)
        snprintf(deferred[ndeferred++], sizeof deferred[0], "%s", path);
}

/* Deleted segments are renamed to .deleted and handed to the deleter; a
 * crash before the deleter ran leaves them, and the next open removes them
 * without ever reading them back. */
START_TEST(deleted_segments_never_come_back)
{
    log_config_t cfg = lt_config();
    cfg.segment_bytes = 2048;
    cfg.retention_bytes = 3000;
    log_fdcache_t *fdc = log_fdcache_new(16);
    ndeferred = 0;
    log_fdcache_set_deleter(fdc, defer_delete, NULL);
    char *dir = lt_tmpdir();
    log_t *log = lt_open(dir, &cfg, fdc);
    lt_fill(log, 40, 5, T0);
    int deleted;
    ck_assert_int_eq(log_retention_run(log, T0, &deleted), 0);
    ck_assert_int_gt(deleted, 0);
    ck_assert_int_eq(ndeferred, deleted);
    ck_assert_int_eq(lt_count_files(dir, ".log.deleted"), deleted);
    ck_assert_ptr_nonnull(strstr(deferred[0], ".log.deleted"));
    int64_t start = log_start_offset(log);
    log_close_abrupt(log);
    log = lt_open(dir, &cfg, fdc);
    ck_assert_int_eq(lt_count_files(dir, ".deleted"), 0);
    ck_assert_int_eq(log_start_offset(log), start);
    ck_assert_int_eq(log_close(log), 0);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

TCase *tcase_retention(void)
{
    TCase *tc = tcase_create("retention");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, retention_ms_deletes_expired_segments);
    tcase_add_test(tc, retention_bytes_deletes_oldest);
    tcase_add_test(tc, delete_records_before);
    tcase_add_test(tc, truncate_to);
    tcase_add_test(tc, deleted_segments_never_come_back);
    return tc;
}

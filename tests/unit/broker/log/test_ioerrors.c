/* Files that change under the log: a segment cut while the log reads it, and
 * segments missing at open although the checkpoint says their records were
 * written. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "logtest.h"
#include "wire/recordbatch.h"

#define T0 1700000000000LL

/* One record appended; the log's answer. */
static int try_append(log_t *log)
{
    eddy_wr_t wr;
    wr_init(&wr);
    wire_batch_builder_t b;
    wire_batch_header_t tmpl = wire_batch_header_default();
    wire_batch_begin(&b, &wr, &tmpl);
    wire_batch_add(&b, T0, "k", 1, "v", 1, NULL, 0);
    ck_assert_int_eq(wire_batch_end(&b, 0), 0);
    char err[512] = "";
    int rc = log_append(log, wr.wr_buf, wr.wr_len, WIRE_BATCH_FROM_CLIENT, T0, NULL, err,
                        sizeof err);
    wr_free(&wr);
    return rc;
}

static int count_lines(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* A segment cut under the log: the read fails with EDDY_ERR_LOG_OFFLINE
 * (never bytes that are not there), the log goes offline with one line that
 * names the file and its size, and later reads and appends fail the same way
 * without another line. */
START_TEST(cut_segment_read_goes_offline)
{
    log_config_t cfg = lt_config();
    log_fdcache_t *fdc = log_fdcache_new(16);
    char *dir = lt_tmpdir();
    log_t *log = lt_open(dir, &cfg, fdc);
    lt_fill(log, 20, 10, T0);
    log_slice_t sl;
    ck_assert_int_eq(log_read(log, 0, 1 << 20, &sl), 0);
    ck_assert_uint_gt(sl.sl_len, 200);
    char path[4096];
    snprintf(path, sizeof path, "%s/%020d.log", dir, 0);
    ck_assert_int_eq(truncate(path, 100), 0);

    uint8_t *buf = malloc(sl.sl_len);
    memset(buf, 0xee, sl.sl_len);
    lt_capture_start();
    ck_assert_int_eq(log_slice_read(log, &sl, buf), EDDY_ERR_LOG_OFFLINE);
    log_slice_release(log, &sl);
    ck_assert_int_eq(log_offline_error(log), -EIO);
    /* Every later call answers offline, and none logs again. */
    for (int i = 0; i < 100; i++) {
        ck_assert_int_eq(log_read(log, 0, 1 << 20, &sl), EDDY_ERR_LOG_OFFLINE);
        ck_assert_int_eq(try_append(log), EDDY_ERR_LOG_OFFLINE);
    }
    const char *out = lt_captured();
    ck_assert_int_eq(count_lines(out, "\n"), 1);
    ck_assert_msg(strstr(out, path) && strstr(out, "the file is 100 bytes"), "line: %s", out);
    ck_assert_msg(!strstr(out, "Success"), "stale errno: %s", out);
    lt_capture_stop();
    free(buf);
    log_close(log);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

/* Every segment deleted while the log was closed: the checkpoint says 200
 * records were flushed, so the log opens offline with an ERROR naming the
 * directory and what is missing, instead of starting again at offset 0; a
 * close keeps the checkpoint, and removing it (the operator's way to accept
 * the loss) opens the log empty and writable. */
START_TEST(deleted_segments_keep_the_log_offline)
{
    log_config_t cfg = lt_config();
    log_fdcache_t *fdc = log_fdcache_new(16);
    char *dir = lt_tmpdir();
    log_t *log = lt_open(dir, &cfg, fdc);
    lt_fill(log, 20, 10, T0);
    ck_assert_int_eq(log_close(log), 0);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -f %s/*.log %s/*.index %s/*.timeindex", dir, dir, dir);
    ck_assert_int_eq(system(cmd), 0);

    for (int round = 0; round < 2; round++) {
        lt_capture_start();
        log = lt_open(dir, &cfg, fdc);
        const char *out = lt_captured();
        ck_assert_msg(strstr(out, dir) && strstr(out, "records [0, 200) are missing"),
                      "round %d: %s", round, out);
        lt_capture_stop();
        ck_assert_int_eq(log_offline_error(log), EDDY_ERR_LOG_OFFLINE);
        log_slice_t sl;
        ck_assert_int_eq(log_read(log, 0, 1 << 20, &sl), EDDY_ERR_LOG_OFFLINE);
        ck_assert_int_eq(try_append(log), EDDY_ERR_LOG_OFFLINE);
        log_close(log);
    }

    char ck[4200];
    snprintf(ck, sizeof ck, "%s/log.checkpoint", dir);
    ck_assert_int_eq(unlink(ck), 0);
    log = lt_open(dir, &cfg, fdc);
    ck_assert_int_eq(log_offline_error(log), 0);
    ck_assert_int_eq(try_append(log), 0);
    ck_assert_int_eq(log_end_offset(log), 1);
    log_close(log);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

/* The first segments deleted: the log does not move its start up past them
 * silently. Retention, which deletes segments on purpose, still opens. */
START_TEST(missing_head_segment_offline_retention_not)
{
    log_config_t cfg = lt_config();
    cfg.segment_bytes = 4096;
    log_fdcache_t *fdc = log_fdcache_new(16);
    char *dir = lt_tmpdir();
    log_t *log = lt_open(dir, &cfg, fdc);
    lt_fill(log, 200, 5, T0);
    ck_assert_int_gt(log_segment_count(log), 3);
    int64_t second = log->log_segs[1]->seg_base;
    ck_assert_int_eq(log_close(log), 0);
    char path[4200];
    snprintf(path, sizeof path, "%s/%020d.log", dir, 0);
    ck_assert_int_eq(unlink(path), 0);

    lt_capture_start();
    log = lt_open(dir, &cfg, fdc);
    const char *out = lt_captured();
    char want[128];
    snprintf(want, sizeof want, "records [0, %lld) are missing", (long long)second);
    ck_assert_msg(strstr(out, want), "%s", out);
    lt_capture_stop();
    ck_assert_int_eq(log_offline_error(log), EDDY_ERR_LOG_OFFLINE);
    log_close(log);

    /* Retention deleting the head moves the checkpointed start first. */
    char *dir2 = lt_tmpdir();
    cfg.retention_bytes = 3 * 4096;
    cfg.retention_ms = -1;
    log = lt_open(dir2, &cfg, fdc);
    lt_fill(log, 200, 5, T0);
    int deleted = 0;
    ck_assert_int_eq(log_retention_run(log, T0, &deleted), 0);
    ck_assert_int_gt(deleted, 0);
    int64_t start = log_start_offset(log), end = log_end_offset(log);
    log_close_abrupt(log); /* as kill -9 would leave it */
    lt_capture_start();
    log = lt_open(dir2, &cfg, fdc);
    ck_assert_msg(!strstr(lt_captured(), "missing"), "%s", lt_captured());
    lt_capture_stop();
    ck_assert_int_eq(log_offline_error(log), 0);
    ck_assert_int_eq(log_start_offset(log), start);
    ck_assert_int_eq(log_end_offset(log), end);
    log_close(log);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    lt_rmdir(dir2);
    free(dir);
    free(dir2);
}
END_TEST

/* A segment in the middle deleted: the log does not serve across the hole
 * (readers would skip from one segment's end to the next one's base, and
 * the records between would be gone without a word). The ERROR names the
 * directory and the missing range; removing the checkpoint accepts the loss
 * and serves what remains. A compacted log, whose holes are the cleaner's
 * doing, opens as it is. */
START_TEST(missing_middle_segment_offline_compacted_not)
{
    log_config_t cfg = lt_config();
    cfg.segment_bytes = 4096;
    log_fdcache_t *fdc = log_fdcache_new(16);
    char *dir = lt_tmpdir();
    log_t *log = lt_open(dir, &cfg, fdc);
    lt_fill(log, 200, 5, T0);
    ck_assert_int_gt(log_segment_count(log), 4);
    int64_t gap_from = log->log_segs[2]->seg_base, gap_to = log->log_segs[3]->seg_base;
    int64_t end = log_end_offset(log);
    ck_assert_int_eq(log_close(log), 0);
    char path[4200];
    const char *sfx[] = {".log", ".index", ".timeindex"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%020lld%s", dir, (long long)gap_from, sfx[i]);
        unlink(path);
    }

    for (int round = 0; round < 2; round++) {
        lt_capture_start();
        log = lt_open(dir, &cfg, fdc);
        const char *out = lt_captured();
        char want[128];
        snprintf(want, sizeof want, "records [%lld, %lld) are missing", (long long)gap_from,
                 (long long)gap_to);
        ck_assert_msg(strstr(out, want) && strstr(out, dir) && strstr(out, "ERROR"), "round %d: %s",
                      round, out);
        lt_capture_stop();
        ck_assert_int_eq(log_offline_error(log), EDDY_ERR_LOG_OFFLINE);
        log_slice_t sl;
        ck_assert_int_eq(log_read(log, 0, 1 << 20, &sl), EDDY_ERR_LOG_OFFLINE);
        ck_assert_int_eq(try_append(log), EDDY_ERR_LOG_OFFLINE);
        log_close(log);
    }

    /* The operator accepts the loss: a read in the hole gets the next
     * segment's first batch, and the end is where it was. */
    snprintf(path, sizeof path, "%s/log.checkpoint", dir);
    ck_assert_int_eq(unlink(path), 0);
    log = lt_open(dir, &cfg, fdc);
    ck_assert_int_eq(log_offline_error(log), 0);
    ck_assert_int_eq(log_end_offset(log), end);
    log_slice_t sl;
    ck_assert_int_eq(log_read(log, gap_from, 1 << 20, &sl), 0);
    ck_assert_int_eq(sl.sl_first_offset, gap_to);
    log_slice_release(log, &sl);
    log_close(log);

    /* Compaction leaves holes: one key written over and over, compacted,
     * reopened after a crash. */
    char *dir2 = lt_tmpdir();
    cfg.cleanup_policy = LOG_CLEANUP_COMPACT;
    log = lt_open(dir2, &cfg, fdc);
    const char *keys[5] = {"x", "x", "x", "x", "x"};
    for (int i = 0; i < 200; i++)
        lt_append(log, 5, keys, NULL, NULL, T0 + i);
    ck_assert_int_ge(log_compact(log, T0 + 1000, 1), 0);
    int holes = 0;
    for (int i = 0; i + 1 < log->log_nsegs; i++)
        holes += log->log_segs[i]->seg_next_offset < log->log_segs[i + 1]->seg_base;
    ck_assert_int_gt(holes, 0);
    end = log_end_offset(log);
    ck_assert_int_eq(log_flush(log), 0);
    log_close_abrupt(log);
    lt_capture_start();
    log = lt_open(dir2, &cfg, fdc);
    ck_assert_msg(!strstr(lt_captured(), "missing"), "%s", lt_captured());
    lt_capture_stop();
    ck_assert_int_eq(log_offline_error(log), 0);
    ck_assert_int_eq(log_end_offset(log), end);
    log_close(log);
    /* The topic's policy changed to delete since: the holes are still
     * compaction's (the cleaner marked the log), not lost files. */
    cfg.cleanup_policy = LOG_CLEANUP_DELETE;
    lt_capture_start();
    log = lt_open(dir2, &cfg, fdc);
    ck_assert_msg(!strstr(lt_captured(), "missing"), "%s", lt_captured());
    lt_capture_stop();
    ck_assert_int_eq(log_offline_error(log), 0);
    ck_assert_int_eq(log_end_offset(log), end);
    log_close(log);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    lt_rmdir(dir2);
    free(dir);
    free(dir2);
}
END_TEST

TCase *tcase_ioerrors(void)
{
    TCase *tc = tcase_create("ioerrors");
    tcase_add_test(tc, cut_segment_read_goes_offline);
    tcase_add_test(tc, deleted_segments_keep_the_log_offline);
    tcase_add_test(tc, missing_head_segment_offline_retention_not);
    tcase_add_test(tc, missing_middle_segment_offline_compacted_not);
    return tc;
}

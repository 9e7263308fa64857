/* Recovery after a crash: torn tails, corrupt batches, lost or garbled
 * indexes, and the clean-shutdown marker. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "logtest.h"
#include "wire/recordbatch.h"

#define T0 1700000000000LL

static void seg_file(const char *dir, int64_t base, const char *suffix, char *out, size_t n)
{
    snprintf(out, n, "%s/%020lld%s", dir, (long long)base, suffix);
}

static void flip_byte(const char *path, int64_t pos)
{
    int fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    uint8_t b;
    ck_assert_int_eq(pread(fd, &b, 1, pos), 1);
    b ^= 0x5a;
    ck_assert_int_eq(pwrite(fd, &b, 1, pos), 1);
    close(fd);
}

static void check_values(log_t *log, int64_t n)
{
    trec_t *recs;
    ck_assert_int_eq(lt_read_all(log, &recs), n);
    for (int64_t i = 0; i < n; i++) {
        char want[32];
        snprintf(want, sizeof want, "v%lld", (long long)i);
        ck_assert_int_eq(recs[i].offset, i);
        ck_assert_str_eq(recs[i].value, want);
    }
    free(recs);
}

/* The last batch cut at every byte position (a torn write at kill -9):
 * reopening keeps exactly the whole batches before it, says so in one log
 * line, and the log takes appends again at the right offset. */
START_TEST(torn_last_batch_every_position)
{
    log_config_t cfg = lt_config();
    log_fdcache_t *fdc = log_fdcache_new(16);
    char *dir = lt_tmpdir();
    log_t *log = lt_open(dir, &cfg, fdc);
    lt_fill(log, 8, 5, T0);
    int64_t good_end = log_end_offset(log);
    int64_t cut_from = log_size_bytes(log);
    lt_fill(log, 1, 7, T0);
    int64_t full = log_size_bytes(log);
    log_close_abrupt(log);
    char path[4096];
    seg_file(dir, 0, ".log", path, sizeof path);
    uint8_t *saved = malloc((size_t)full);
    int fd = open(path, O_RDONLY);
    ck_assert_int_eq(pread(fd, saved, (size_t)full, 0), (ssize_t)full);
    close(fd);

    for (int64_t cut = cut_from; cut < full; cut++) {
        /* The file as a write torn at cut leaves it. */
        fd = open(path, O_WRONLY | O_TRUNC);
        ck_assert_int_eq(pwrite(fd, saved, (size_t)cut, 0), (ssize_t)cut);
        close(fd);
        lt_capture_start();
        log = lt_open(dir, &cfg, fdc);
        lt_capture_stop();
        ck_assert_int_eq(log_end_offset(log), good_end);
        ck_assert_int_eq(log_size_bytes(log), cut_from);
        ck_assert_int_eq(lt_file_size(path), cut_from);
        if (cut > cut_from) {
            char want[128];
            snprintf(want, sizeof want, "at byte %lld", (long long)cut_from);
            ck_assert_msg(strstr(lt_captured(), "truncating") && strstr(lt_captured(), want),
                          "recovery log line missing: %s", lt_captured());
        }
        check_values(log, good_end);
        lt_append(log, 1, NULL, NULL, NULL, T0);
        ck_assert_int_eq(log_end_offset(log), good_end + 1);
        log_close_abrupt(log);
    }
    free(saved);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

/* One byte flipped inside a batch in the middle of the log: the log is cut at
 * that batch, later segments go, and the log line names the segment and the
 * byte. */
START_TEST(flipped_byte_truncates_there)
{
    log_config_t cfg = lt_config();
    cfg.segment_bytes = 4096;
    log_fdcache_t *fdc = log_fdcache_new(16);
    char *dir = lt_tmpdir();
    log_t *log = lt_open(dir, &cfg, fdc);
    lt_fill(log, 60, 10, T0);
    ck_assert_int_ge(log_segment_count(log), 4);
    log_segment_t *mid = log->log_segs[1];
    int64_t base = mid->seg_base;
    /* The third batch of segment 1. */
    log_slice_t sl;
    ck_assert_int_eq(log_read(log, base, 1, &sl), 0);
    int64_t b2 = sl.sl_pos + (int64_t)sl.sl_len;
    log_slice_release(log, &sl);
    uint8_t hdr[BATCH_HEADER_SIZE];
    ck_assert_int_eq(pread(mid->seg_fd, hdr, sizeof hdr, b2), (ssize_t)sizeof hdr);
    int64_t b3 = b2 + wire_batch_size(hdr);
    ck_assert_int_eq(pread(mid->seg_fd, hdr, sizeof hdr, b3), (ssize_t)sizeof hdr);
    int64_t cut_offset = (int64_t)be64_load(hdr);
    int nsegs = log_segment_count(log);
    /* Not a clean close: recovery will scan. */
    ck_assert_int_eq(log_flush(log), 0);
    log_close_abrupt(log);
    /* The recovery point covers everything, so force a scan by removing the
     * checkpoint, as a crash before the first checkpoint would leave it. */
    char path[4096];
    snprintf(path, sizeof path, "%s/log.checkpoint", dir);
    unlink(path);
    seg_file(dir, base, ".log", path, sizeof path);
    flip_byte(path, b3 + 70);

    lt_capture_start();
    log = lt_open(dir, &cfg, fdc);
    lt_capture_stop();
    ck_assert_int_eq(log_end_offset(log), cut_offset);
    ck_assert_int_eq(log_segment_count(log), 2);
    char seg_name[64], at[64], later[64];
    snprintf(seg_name, sizeof seg_name, "%020lld.log", (long long)base);
    snprintf(at, sizeof at, "at byte %lld", (long long)b3);
    snprintf(later, sizeof later, "%d later segment", nsegs - 2);
    ck_assert_msg(strstr(lt_captured(), seg_name) && strstr(lt_captured(), at) &&
                      strstr(lt_captured(), "CRC") && strstr(lt_captured(), later),
                  "log line: %s", lt_captured());
    ck_assert_int_eq(lt_count_files(dir, ".log"), 2);
    check_values(log, cut_offset);
    ck_assert_int_eq(log_close(log), 0);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

/* Index files deleted, garbled or truncated: rebuilt from the log, and every
 * lookup answers as before. */
START_TEST(index_files_rebuilt)
{
    log_config_t cfg = lt_config();
    cfg.segment_bytes = 8 * 1024;
    cfg.index_interval_bytes = 600;
    log_fdcache_t *fdc = log_fdcache_new(16);
    char *dir = lt_tmpdir();
    log_t *log = lt_open(dir, &cfg, fdc);
    lt_fill(log, 200, 10, T0);
    int nsegs = log_segment_count(log);
    ck_assert_int_ge(nsegs, 5);
    int64_t end = log_end_offset(log);
    enum { PROBES = 200 };
    int64_t pos[PROBES], len[PROBES], ts_off[PROBES];
    for (int i = 0; i < PROBES; i++) {
        log_slice_t sl;
        ck_assert_int_eq(log_read(log, i * end / PROBES, 3000, &sl), 0);
        pos[i] = sl.sl_pos;
        len[i] = (int64_t)sl.sl_len;
        log_slice_release(log, &sl);
        int64_t t;
        ck_assert_int_eq(log_offset_for_timestamp(log, T0 + i * end / PROBES, &ts_off[i], &t), 0);
    }
    int64_t b1 = log->log_segs[1]->seg_base, b2 = log->log_segs[2]->seg_base,
            b3 = log->log_segs[3]->seg_base;
    ck_assert_int_eq(log_close(log), 0);

    char path[4096];
    seg_file(dir, b1, ".index", path, sizeof path);
    ck_assert_int_eq(unlink(path), 0);
    seg_file(dir, b2, ".timeindex", path, sizeof path);
    flip_byte(path, lt_file_size(path) - 3);
    seg_file(dir, b3, ".index", path, sizeof path);
    ck_assert_int_eq(truncate(path, lt_file_size(path) - 8), 0);

    lt_capture_start();
    log = lt_open(dir, &cfg, fdc);
    lt_capture_stop();
    ck_assert_msg(strstr(lt_captured(), "rebuilding"), "no rebuild logged: %s", lt_captured());
    for (int i = 0; i < PROBES; i++) {
        log_slice_t sl;
        ck_assert_int_eq(log_read(log, i * end / PROBES, 3000, &sl), 0);
        ck_assert_int_eq(sl.sl_pos, pos[i]);
        ck_assert_int_eq((int64_t)sl.sl_len, len[i]);
        log_slice_release(log, &sl);
        int64_t off, t;
        ck_assert_int_eq(log_offset_for_timestamp(log, T0 + i * end / PROBES, &off, &t), 0);
        ck_assert_int_eq(off, ts_off[i]);
    }
    /* The rebuilt indexes are written back at close. */
    ck_assert_int_eq(log_close(log), 0);
    seg_file(dir, b1, ".index", path, sizeof path);
    ck_assert_int_gt(lt_file_size(path), 0);
    lt_capture_start();
    log = lt_open(dir, &cfg, fdc);
    lt_capture_stop();
    ck_assert_ptr_null(strstr(lt_captured(), "rebuilding"));
    check_values(log, end);
    ck_assert_int_eq(log_close(log), 0);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

/* After a clean close the marker makes open trust the files: a byte flipped
 * in an old segment is not even read (no scan), while the same damage after
 * a crash is found. */
START_TEST(clean_marker_skips_scan)
{
    log_config_t cfg = lt_config();
    cfg.segment_bytes = 4096;
    log_fdcache_t *fdc = log_fdcache_new(16);
    char *dir = lt_tmpdir();
    log_t *log = lt_open(dir, &cfg, fdc);
    lt_fill(log, 40, 10, T0);
    int64_t end = log_end_offset(log);
    int64_t last_base = log->log_segs[log->log_nsegs - 1]->seg_base;
    ck_assert_int_eq(log_close(log), 0);
    char path[4096];
    snprintf(path, sizeof path, "%s/.clean_shutdown", dir);
    ck_assert_int_eq(access(path, F_OK), 0);
    seg_file(dir, last_base, ".log", path, sizeof path);
    flip_byte(path, 100);

    log = lt_open(dir, &cfg, fdc);
    ck_assert_int_eq(log_end_offset(log), end); /* trusted, not scanned */
    snprintf(path, sizeof path, "%s/.clean_shutdown", dir);
    ck_assert_int_ne(access(path, F_OK), 0); /* removed while open */
    log_close_abrupt(log);
    snprintf(path, sizeof path, "%s/log.checkpoint", dir);
    unlink(path);
    log = lt_open(dir, &cfg, fdc);
    ck_assert_int_eq(log_end_offset(log), last_base); /* now the scan finds it */
    ck_assert_int_eq(log_close(log), 0);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

/* Without the marker, segments wholly below the recovery point are not
 * rescanned, the ones above are. */
START_TEST(recovery_point_bounds_the_scan)
{
    log_config_t cfg = lt_config();
    cfg.segment_bytes = 4096;
    log_fdcache_t *fdc = log_fdcache_new(16);
    char *dir = lt_tmpdir();
    log_t *log = lt_open(dir, &cfg, fdc);
    lt_fill(log, 40, 10, T0);
    ck_assert_int_eq(log_flush(log), 0);
    ck_assert_int_eq(log_recovery_point(log), log_end_offset(log));
    int64_t first_base = log->log_segs[0]->seg_base;
    int64_t rp = log_end_offset(log);
    lt_fill(log, 10, 10, T0); /* unflushed */
    int64_t end = log_end_offset(log);
    /* Roll so that the old segments have index files on disk. */
    log_close_abrupt(log);
    char path[4096];
    seg_file(dir, first_base, ".log", path, sizeof path);
    flip_byte(path, 100); /* below the recovery point: trusted */
    log = lt_open(dir, &cfg, fdc);
    ck_assert_int_eq(log_end_offset(log), end);
    ck_assert_int_ge(log_recovery_point(log), rp);
    ck_assert_int_eq(log_close(log), 0);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

TCase *tcase_recovery(void)
{
    TCase *tc = tcase_create("recovery");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, torn_last_batch_every_position);
    tcase_add_test(tc, flipped_byte_truncates_there);
    tcase_add_test(tc, index_files_rebuilt);
    tcase_add_test(tc, clean_marker_skips_scan);
    tcase_add_test(tc, recovery_point_bounds_the_scan);
    return tc;
}

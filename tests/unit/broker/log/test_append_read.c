/* Append and read: offsets, whole batches, lookups by offset and timestamp. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "logtest.h"
#include "wire/recordbatch.h"

#define T0 1700000000000LL

/* 1,000,000 records over many segments come back exactly, by offset and by
 * timestamp, before and after a clean reopen. */
START_TEST(million_records_read_back)
{
    char *dir = lt_tmpdir();
    log_fdcache_t *fdc = log_fdcache_new(64);
    log_config_t cfg = lt_config();
    cfg.segment_bytes = 1024 * 1024;
    cfg.index_interval_bytes = 4096;
    log_t *log = lt_open(dir, &cfg, fdc);

    const int64_t total = 1000000, per = 100;
    /* Two records per millisecond: the first offset at or after T0+t is 2t. */
    static int64_t ts[100];
    for (int64_t b = 0; b < total / per; b++) {
        for (int i = 0; i < per; i++)
            ts[i] = T0 + (b * per + i) / 2;
        lt_append(log, (int)per, NULL, NULL, ts, 0);
    }
    ck_assert_int_eq(log_end_offset(log), total);
    ck_assert_int_gt(log_segment_count(log), 20);

    for (int round = 0; round < 2; round++) {
        trec_t *recs;
        int64_t n = lt_read_all(log, &recs);
        ck_assert_int_eq(n, total);
        for (int64_t i = 0; i < n; i++) {
            char want[32];
            snprintf(want, sizeof want, "v%lld", (long long)i);
            ck_assert_int_eq(recs[i].offset, i);
            ck_assert_str_eq(recs[i].value, want);
            ck_assert_int_eq(recs[i].timestamp, T0 + i / 2);
        }
        free(recs);

        srand(7 + round);
        for (int k = 0; k < 20000; k++) {
            int64_t off = ((int64_t)rand() * 7919 + rand()) % total;
            log_slice_t sl;
            ck_assert_int_eq(log_read(log, off, 1, &sl), 0);
            uint8_t hdr[BATCH_HEADER_SIZE];
            ck_assert_int_eq(pread(sl.sl_fd, hdr, sizeof hdr, sl.sl_pos), (ssize_t)sizeof hdr);
            wire_batch_header_t h;
            wire_batch_header_read(hdr, sizeof hdr, &h);
            ck_assert_int_le(h.baseOffset, off);
            ck_assert_int_ge(wire_batch_last_offset(&h), off);
            ck_assert_int_eq((int64_t)sl.sl_len, wire_batch_size(hdr)); /* just one batch */
            log_slice_release(log, &sl);

            int64_t t = off / 2, got, got_ts;
            ck_assert_int_eq(log_offset_for_timestamp(log, T0 + t, &got, &got_ts), 0);
            ck_assert_int_eq(got, 2 * t);
            ck_assert_int_eq(got_ts, T0 + t);
        }
        int64_t got, got_ts;
        ck_assert_int_eq(log_offset_for_timestamp(log, T0 + total, &got, &got_ts), 0);
        ck_assert_int_eq(got, -1);

        ck_assert_int_eq(log_close(log), 0);
        log = lt_open(dir, &cfg, fdc);
    }
    ck_assert_int_eq(log_close(log), 0);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

/* Timestamps out of order: the lookup returns the first offset whose
 * timestamp is >= the target, exactly as a scan of every record would. */
START_TEST(timestamp_lookup_matches_scan)
{
    char *dir = lt_tmpdir();
    log_fdcache_t *fdc = log_fdcache_new(16);
    log_config_t cfg = lt_config();
    cfg.segment_bytes = 8 * 1024;
    cfg.index_interval_bytes = 512;
    log_t *log = lt_open(dir, &cfg, fdc);
    srand(42);
    enum { N = 6000, PER = 20 };
    static int64_t all_ts[N];
    for (int b = 0; b < N / PER; b++) {
        int64_t ts[PER];
        for (int i = 0; i < PER; i++)
            all_ts[b * PER + i] = ts[i] = T0 + (b * PER + i) * 10 + (rand() % 400) - 200;
        lt_append(log, PER, NULL, NULL, ts, 0);
    }
    for (int64_t target = T0 - 300; target < T0 + N * 10 + 300; target += 7) {
        int64_t want = -1;
        for (int i = 0; i < N; i++)
            if (all_ts[i] >= target) {
                want = i;
                break;
            }
        int64_t got, got_ts;
        ck_assert_int_eq(log_offset_for_timestamp(log, target, &got, &got_ts), 0);
        ck_assert_msg(got == want, "ts %lld: got offset %lld, want %lld", (long long)target,
                      (long long)got, (long long)want);
        if (want >= 0)
            ck_assert_int_eq(got_ts, all_ts[want]);
    }
    ck_assert_int_eq(log_close(log), 0);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

/* Reads return whole batches within max_bytes (at least one), nothing at the
 * end, and an error outside the log. */
START_TEST(read_bounds_and_whole_batches)
{
    char *dir = lt_tmpdir();
    log_fdcache_t *fdc = log_fdcache_new(16);
    log_config_t cfg = lt_config();
    log_t *log = lt_open(dir, &cfg, fdc);
    lt_fill(log, 300, 10, T0);
    int64_t end = log_end_offset(log);
    ck_assert_int_eq(end, 3000);

    log_slice_t sl;
    ck_assert_int_eq(log_read(log, end, 1000, &sl), 0);
    ck_assert_int_eq(sl.sl_len, 0);
    ck_assert_int_eq(log_read(log, end + 1, 1000, &sl), EDDY_ERR_OFFSET_OUT_OF_RANGE);
    ck_assert_int_eq(log_read(log, -1, 1000, &sl), EDDY_ERR_OFFSET_OUT_OF_RANGE);

    for (size_t max = 1; max < 20000; max = max * 3 + 17) {
        for (int64_t off = 0; off < end; off += 97) {
            ck_assert_int_eq(log_read(log, off, max, &sl), 0);
            uint8_t *buf = malloc(sl.sl_len);
            ck_assert_int_eq(pread(sl.sl_fd, buf, sl.sl_len, sl.sl_pos), (ssize_t)sl.sl_len);
            /* Whole batches, the first holding off, within max unless the
             * first alone is larger. */
            size_t pos = 0;
            int batches = 0;
            while (pos < sl.sl_len) {
                wire_batch_header_t h;
                char err[200];
                int64_t n = wire_batch_validate(buf + pos, sl.sl_len - pos, 0,
                                                WIRE_INFLATE_LIMIT_DEFAULT, &h, err, sizeof err);
                ck_assert_msg(n > 0, "%s", err);
                if (batches == 0) {
                    ck_assert_int_le(h.baseOffset, off);
                    ck_assert_int_ge(wire_batch_last_offset(&h), off);
                    ck_assert_int_eq(h.baseOffset, sl.sl_first_offset);
                }
                pos += (size_t)n;
                batches++;
            }
            ck_assert_int_eq(pos, sl.sl_len);
            ck_assert(batches == 1 || sl.sl_len <= max);
            free(buf);
            log_slice_release(log, &sl);
        }
    }
    ck_assert_int_eq(log_close(log), 0);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

/* Bad batches are refused whole: nothing from the request is appended. */
START_TEST(append_rejects_bad_batches_atomically)
{
    char *dir = lt_tmpdir();
    log_fdcache_t *fdc = log_fdcache_new(16);
    log_config_t cfg = lt_config();
    cfg.max_message_bytes = 2000;
    log_t *log = lt_open(dir, &cfg, fdc);
    lt_fill(log, 3, 5, T0);

    /* Two good batches followed by one with a flipped byte. */
    eddy_wr_t wr;
    wr_init(&wr);
    wire_batch_header_t tmpl = wire_batch_header_default();
    for (int b = 0; b < 3; b++) {
        wire_batch_builder_t bb;
        wire_batch_begin(&bb, &wr, &tmpl);
        wire_batch_add(&bb, T0, "k", 1, "value", 5, NULL, 0);
        wire_batch_end(&bb, 0);
    }
    wr.wr_buf[wr.wr_len - 2] ^= 0x40;
    char err[256] = "";
    ck_assert_int_eq(log_append(log, wr.wr_buf, wr.wr_len, WIRE_BATCH_FROM_CLIENT, T0, NULL, err,
                                sizeof err),
                     EDDY_ERR_BATCH_CRC);
    ck_assert_ptr_nonnull(strstr(err, "CRC"));
    ck_assert_int_eq(log_end_offset(log), 15);

    /* A batch over max.message.bytes. */
    wr_reset(&wr);
    wire_batch_builder_t bb;
    wire_batch_begin(&bb, &wr, &tmpl);
    static char big[3000];
    memset(big, 'x', sizeof big);
    wire_batch_add(&bb, T0, "k", 1, big, sizeof big, NULL, 0);
    wire_batch_end(&bb, 0);
    ck_assert_int_eq(log_append(log, wr.wr_buf, wr.wr_len, WIRE_BATCH_FROM_CLIENT, T0, NULL, err,
                                sizeof err),
                     EDDY_ERR_TOO_LARGE);
    ck_assert_ptr_nonnull(strstr(err, "max.message.bytes"));
    ck_assert_int_eq(log_end_offset(log), 15);
    trec_t *recs;
    ck_assert_int_eq(lt_read_all(log, &recs), 15);
    free(recs);
    wr_free(&wr);
    ck_assert_int_eq(log_close(log), 0);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

/* segment.bytes and segment.ms roll new segments named by base offset. */
START_TEST(roll_by_size_and_time)
{
    char *dir = lt_tmpdir();
    log_fdcache_t *fdc = log_fdcache_new(16);
    log_config_t cfg = lt_config();
    cfg.segment_bytes = 4096;
    cfg.segment_ms = 1000;
    log_t *log = lt_open(dir, &cfg, fdc);
    lt_fill(log, 80, 10, T0); /* ~ 250 bytes per batch: several segments */
    int by_size = log_segment_count(log);
    ck_assert_int_gt(by_size, 3);
    char path[4096];
    snprintf(path, sizeof path, "%s/%020lld.log", dir, (long long)log->log_segs[1]->seg_base);
    ck_assert_int_le(lt_file_size(path), 4096);
    ck_assert_int_eq(lt_count_files(dir, ".log"), by_size);

    /* Record time moves 2 s past the active segment's first batch. */
    int64_t end = log_end_offset(log);
    lt_append(log, 1, NULL, NULL, NULL, T0 + end + 2000);
    ck_assert_int_eq(log_segment_count(log), by_size + 1);
    ck_assert_int_eq(log->log_segs[by_size]->seg_base, end);
    ck_assert_int_eq(log_close(log), 0);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

TCase *tcase_append_read(void)
{
    TCase *tc = tcase_create("append_read");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, million_records_read_back);
    tcase_add_test(tc, timestamp_lookup_matches_scan);
    tcase_add_test(tc, read_bounds_and_whole_batches);
    tcase_add_test(tc, append_rejects_bad_batches_atomically);
    tcase_add_test(tc, roll_by_size_and_time);
    return tc;
}

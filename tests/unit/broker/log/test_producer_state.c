/* Idempotent producers in the log: the append checks (producer_state.h),
 * sequence wrap, truncation, expiry, snapshots. The same rules over the wire
 * and across broker restarts: tests/integration/broker_idempotence.py. */
#include <stdio.h>
#include <string.h>

#include "broker/log/producer_state.h"
#include "check_helpers.h"
#include "common/err.h"
#include "logtest.h"
#include "wire/recordbatch.h"

#define TS 1700000000000LL

/* Appends one batch of n records for producer pid/epoch from sequence seq. */
static int append_idem(log_t *log, int64_t pid, int16_t epoch, int32_t seq, int n,
                       log_append_info_t *info)
{
    eddy_wr_t wr;
    wr_init(&wr);
    wire_batch_header_t h = wire_batch_header_default();
    h.producerId = pid;
    h.producerEpoch = epoch;
    h.baseSequence = seq;
    wire_batch_builder_t b;
    wire_batch_begin(&b, &wr, &h);
    for (int i = 0; i < n; i++) {
        char v[64];
        snprintf(v, sizeof v, "p%lld-s%d-%d", (long long)pid, seq, i);
        wire_batch_add(&b, TS + i, NULL, -1, v, (int32_t)strlen(v), NULL, 0);
    }
    ck_assert_int_eq(wire_batch_end(&b, 0), 0);
    char err[256];
    log_append_info_t ignored;
    int rc = log_append(log, wr.wr_buf, wr.wr_len, WIRE_BATCH_FROM_CLIENT, TS,
                        info ? info : &ignored, err, sizeof err);
    wr_free(&wr);
    return rc;
}

START_TEST(append_rules)
{
    char *dir = lt_tmpdir();
    log_fdcache_t *fdc = log_fdcache_new(16);
    log_config_t cfg = lt_config();
    log_t *log = lt_open(dir, &cfg, fdc);
    log_append_info_t info;
    ck_assert_int_eq(append_idem(log, 7, 0, 0, 3, &info), 0);
    ck_assert_int_eq(info.ai_first_offset, 0);
    ck_assert_int_eq(append_idem(log, 7, 0, 3, 2, &info), 0);
    ck_assert_int_eq(info.ai_first_offset, 3);
    /* Retries: the first offsets, nothing appended. */
    ck_assert_int_eq(append_idem(log, 7, 0, 0, 3, &info), 0);
    ck_assert(info.ai_duplicate);
    ck_assert_int_eq(info.ai_first_offset, 0);
    ck_assert_int_eq(info.ai_last_offset, 2);
    ck_assert_int_eq(log_end_offset(log), 5);
    /* A retry whose range differs from every batch kept is no retry. */
    ck_assert_int_eq(append_idem(log, 7, 0, 0, 2, NULL), EDDY_ERR_OUT_OF_ORDER_SEQUENCE);
    ck_assert_int_eq(append_idem(log, 7, 0, 6, 1, NULL), EDDY_ERR_OUT_OF_ORDER_SEQUENCE);
    ck_assert_int_eq(append_idem(log, 7, 1, 1, 1, NULL), EDDY_ERR_OUT_OF_ORDER_SEQUENCE);
    ck_assert_int_eq(append_idem(log, 7, 1, 0, 1, &info), 0);
    ck_assert_int_eq(append_idem(log, 7, 0, 5, 1, NULL), EDDY_ERR_INVALID_PRODUCER_EPOCH);
    ck_assert_int_eq(append_idem(log, 8, 0, 5, 1, NULL), EDDY_ERR_UNKNOWN_PRODUCER_ID);
    /* Only the last PSTATE_BATCHES batches are retries. */
    for (int i = 1; i <= PSTATE_BATCHES; i++)
        ck_assert_int_eq(append_idem(log, 7, 1, i, 1, NULL), 0);
    ck_assert_int_eq(append_idem(log, 7, 1, 1, 1, &info), 0);
    ck_assert(info.ai_duplicate);
    ck_assert_int_eq(append_idem(log, 7, 1, 0, 1, NULL), EDDY_ERR_OUT_OF_ORDER_SEQUENCE);
    /* Batches without a producer id are untouched. */
    ck_assert_int_eq(append_idem(log, -1, -1, -1, 1, NULL), 0);
    ck_assert_int_eq(log_end_offset(log), 12);
    log_close(log);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

START_TEST(sequence_wrap)
{
    pstate_t ps;
    pstate_init(&ps);
    /* A batch of 3 from INT32_MAX - 1 holds INT32_MAX - 1, INT32_MAX and 0,
     * as Kafka counts. */
    ck_assert_int_eq(pstate_apply(&ps, 9, 0, INT32_MAX - 1, 2, 100, TS), 0);
    ck_assert_int_eq(pstate_find(&ps, 9)->pe_batches[0].pb_last_seq, 0);
    eddy_wr_t wr;
    wr_init(&wr);
    wire_batch_header_t h = wire_batch_header_default();
    h.producerId = 9;
    h.producerEpoch = 0;
    h.baseSequence = 1;
    wire_batch_builder_t b;
    wire_batch_begin(&b, &wr, &h);
    wire_batch_add(&b, TS, NULL, -1, "x", 1, NULL, 0);
    ck_assert_int_eq(wire_batch_end(&b, 0), 0);
    char err[256];
    pstate_dup_t dup;
    ck_assert_int_eq(pstate_check(&ps, wr.wr_buf, wr.wr_len, &dup, err, sizeof err), 0);
    /* After INT32_MAX comes 0. */
    pstate_clear(&ps);
    ck_assert_int_eq(pstate_apply(&ps, 9, 0, INT32_MAX, 0, 100, TS), 0);
    be32_store(wr.wr_buf + BATCH_OFF_BASE_SEQUENCE, 0);
    wire_batch_crc_update(wr.wr_buf, wr.wr_len);
    ck_assert_int_eq(pstate_check(&ps, wr.wr_buf, wr.wr_len, &dup, err, sizeof err), 0);
    be32_store(wr.wr_buf + BATCH_OFF_BASE_SEQUENCE, 1);
    ck_assert_int_eq(pstate_check(&ps, wr.wr_buf, wr.wr_len, &dup, err, sizeof err),
                     EDDY_ERR_OUT_OF_ORDER_SEQUENCE);
    wr_free(&wr);
    pstate_clear(&ps);
}
END_TEST

/* Truncation forgets the batches it cuts, from an earlier snapshot. */
START_TEST(truncation)
{
    char *dir = lt_tmpdir();
    log_fdcache_t *fdc = log_fdcache_new(16);
    log_config_t cfg = lt_config();
    cfg.segment_bytes = 400; /* a roll (and a snapshot) every few batches */
    log_t *log = lt_open(dir, &cfg, fdc);
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(append_idem(log, 5, 0, i, 1, NULL), 0);
    ck_assert_int_gt(log_segment_count(log), 3);
    ck_assert_int_gt(lt_count_files(dir, ".snapshot"), 1);
    ck_assert_int_eq(log_truncate_to(log, 12), 0);
    ck_assert_int_eq(log_end_offset(log), 12);
    /* Sequence 12 is no retry now: it is appended again, at offset 12. */
    log_append_info_t info;
    ck_assert_int_eq(append_idem(log, 5, 0, 12, 1, &info), 0);
    ck_assert(!info.ai_duplicate);
    ck_assert_int_eq(info.ai_first_offset, 12);
    ck_assert_int_eq(append_idem(log, 5, 0, 19, 1, NULL), EDDY_ERR_OUT_OF_ORDER_SEQUENCE);
    /* Kill -9 and reopen: the state comes back from snapshot and log. */
    log_close_abrupt(log);
    log = lt_open(dir, &cfg, fdc);
    ck_assert_int_eq(append_idem(log, 5, 0, 12, 1, &info), 0);
    ck_assert(info.ai_duplicate);
    ck_assert_int_eq(info.ai_first_offset, 12);
    ck_assert_int_eq(append_idem(log, 5, 0, 13, 1, &info), 0);
    ck_assert(!info.ai_duplicate);
    /* Records deleted from the head take their snapshots along. */
    ck_assert_int_eq(log_delete_records_before(log, log_end_offset(log)), 0);
    ck_assert_int_le(lt_count_files(dir, ".snapshot"), 1);
    /* ... but the state stays: a retry is still one. */
    ck_assert_int_eq(append_idem(log, 5, 0, 13, 1, &info), 0);
    ck_assert(info.ai_duplicate);
    log_close(log);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

START_TEST(expiry)
{
    char *dir = lt_tmpdir();
    log_fdcache_t *fdc = log_fdcache_new(16);
    log_config_t cfg = lt_config();
    log_t *log = lt_open(dir, &cfg, fdc);
    ck_assert_int_eq(append_idem(log, 3, 0, 0, 2, NULL), 0);
    ck_assert_int_eq(append_idem(log, 4, 0, 0, 2, NULL), 0);
    ck_assert_int_eq(log_producer_count(log), 2);
    /* The batches' timestamps are TS .. TS+1. */
    ck_assert_int_eq(log_producers_expire(log, TS + 1000, 2000), 0);
    ck_assert_int_eq(log_producers_expire(log, TS + 3000, 2000), 2);
    ck_assert_int_eq(log_producer_count(log), 0);
    ck_assert_int_eq(append_idem(log, 3, 0, 2, 1, NULL), EDDY_ERR_UNKNOWN_PRODUCER_ID);
    ck_assert_int_eq(append_idem(log, 3, 0, 0, 1, NULL), 0);
    log_close(log);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

/* A corrupt snapshot is named in a log line and ignored: the log is replayed. */
START_TEST(corrupt_snapshot)
{
    char *dir = lt_tmpdir();
    log_fdcache_t *fdc = log_fdcache_new(16);
    log_config_t cfg = lt_config();
    log_t *log = lt_open(dir, &cfg, fdc);
    ck_assert_int_eq(append_idem(log, 11, 0, 0, 2, NULL), 0);
    ck_assert_int_eq(append_idem(log, 11, 0, 2, 2, NULL), 0);
    ck_assert_int_eq(log_close(log), 0);
    char path[4200];
    snprintf(path, sizeof path, "%s/%020d.snapshot", dir, 4);
    ck_assert_int_gt(lt_file_size(path), 20);
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    fseek(f, 28, SEEK_SET);
    fputc(0x7f, f);
    fclose(f);
    lt_capture_start();
    log = lt_open(dir, &cfg, fdc);
    ck_assert_msg(strstr(lt_captured(), path) && strstr(lt_captured(), "CRC mismatch"), "%s",
                  lt_captured());
    ck_assert_msg(strstr(lt_captured(), "no snapshot, replayed 2 producer batch"), "%s",
                  lt_captured());
    lt_capture_stop();
    log_append_info_t info;
    ck_assert_int_eq(append_idem(log, 11, 0, 2, 2, &info), 0);
    ck_assert(info.ai_duplicate);
    ck_assert_int_eq(info.ai_first_offset, 2);
    log_close(log);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

TCase *tcase_producer_state(void)
{
    TCase *tc = tcase_create("producer_state");
    tcase_add_test(tc, append_rules);
    tcase_add_test(tc, sequence_wrap);
    tcase_add_test(tc, truncation);
    tcase_add_test(tc, expiry);
    tcase_add_test(tc, corrupt_snapshot);
    return tc;
}

/* Flush policy and fsync failure. */
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

/* flush.messages=N: the recovery point follows the end every N records. */
START_TEST(flush_messages_moves_recovery_point)
{
    log_config_t cfg = lt_config();
    cfg.flush_messages = 10;
    log_fdcache_t *fdc = log_fdcache_new(16);
    char *dir = lt_tmpdir();
    log_t *log = lt_open(dir, &cfg, fdc);
    lt_append(log, 4, NULL, NULL, NULL, T0);
    ck_assert_int_eq(log_recovery_point(log), 0);
    lt_append(log, 6, NULL, NULL, NULL, T0);
    ck_assert_int_eq(log_recovery_point(log), 10);
    lt_append(log, 3, NULL, NULL, NULL, T0);
    ck_assert_int_eq(log_recovery_point(log), 10);
    ck_assert_int_eq(log_flush(log), 0);
    ck_assert_int_eq(log_recovery_point(log), 13);

    /* Inline flushing off: the append only says a flush is due; the owner
     * runs it in three steps (the middle one would go to a worker). */
    log_set_inline_flush(log, 0);
    eddy_wr_t wr;
    wr_init(&wr);
    wire_batch_builder_t b;
    wire_batch_header_t tmpl = wire_batch_header_default();
    wire_batch_begin(&b, &wr, &tmpl);
    for (int i = 0; i < 10; i++)
        wire_batch_add(&b, T0, "k", 1, "v", 1, NULL, 0);
    wire_batch_end(&b, 0);
    log_append_info_t info;
    char err[256];
    ck_assert_int_eq(log_append(log, wr.wr_buf, wr.wr_len, 0, T0, &info, err, sizeof err), 0);
    ck_assert_int_eq(info.ai_flush_due, 1);
    ck_assert_int_eq(log_recovery_point(log), 13);
    log_flush_req_t *req = log_flush_prepare(log);
    ck_assert_ptr_nonnull(req);
    ck_assert_int_eq(log_flush_complete(log, req, log_flush_sync(req)), 0);
    ck_assert_int_eq(log_recovery_point(log), 23);
    ck_assert_ptr_null(log_flush_prepare(log)); /* nothing left to flush */
    wr_free(&wr);
    ck_assert_int_eq(log_close(log), 0);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

static int failing_fsync(int fd)
{
    (void)fd;
    errno = EIO;
    return -1;
}

/* An fsync failure takes the log offline with one clear error line; it is
 * not retried, and appends and reads are refused from then on. */
START_TEST(fsync_failure_takes_log_offline)
{
    log_config_t cfg = lt_config();
    cfg.flush_messages = 1;
    log_fdcache_t *fdc = log_fdcache_new(16);
    char *dir = lt_tmpdir();
    log_t *log = lt_open(dir, &cfg, fdc);
    lt_append(log, 2, NULL, NULL, NULL, T0);
    log_fsync_fn = failing_fsync;
    eddy_wr_t wr;
    wr_init(&wr);
    wire_batch_builder_t b;
    wire_batch_header_t tmpl = wire_batch_header_default();
    wire_batch_begin(&b, &wr, &tmpl);
    wire_batch_add(&b, T0, "k", 1, "v", 1, NULL, 0);
    wire_batch_end(&b, 0);
    char err[256] = "";
    lt_capture_start();
    int rc = log_append(log, wr.wr_buf, wr.wr_len, 0, T0, NULL, err, sizeof err);
    lt_capture_stop();
    log_fsync_fn = fsync;
    ck_assert_int_eq(rc, EDDY_ERR_LOG_OFFLINE);
    ck_assert_int_eq(log_offline_error(log), -EIO);
    ck_assert_ptr_nonnull(strstr(err, "flush failed"));
    ck_assert_msg(strstr(lt_captured(), "fsync failed") && strstr(lt_captured(), "offline"),
                  "log line: %s", lt_captured());
    ck_assert_int_eq(log_recovery_point(log), 2);
    /* Still offline with a working fsync: no silent retry. */
    ck_assert_int_eq(log_append(log, wr.wr_buf, wr.wr_len, 0, T0, NULL, err, sizeof err),
                     EDDY_ERR_LOG_OFFLINE);
    log_slice_t sl;
    ck_assert_int_eq(log_read(log, 0, 100, &sl), EDDY_ERR_LOG_OFFLINE);
    ck_assert_int_eq(log_flush(log), EDDY_ERR_LOG_OFFLINE);
    ck_assert_int_ne(log_close(log), 0); /* no clean marker for a failed log */
    char path[4096];
    snprintf(path, sizeof path, "%s/.clean_shutdown", dir);
    ck_assert_int_ne(access(path, F_OK), 0);
    wr_free(&wr);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

TCase *tcase_flush(void)
{
    TCase *tc = tcase_create("flush");
    tcase_add_test(tc, flush_messages_moves_recovery_point);
    tcase_add_test(tc, fsync_failure_takes_log_offline);
    return tc;
}

/* The logging macro: the level test comes before argument evaluation, and
 * the sink sees the level, facility and formatted line. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

struct capture {
    int count;
    int level;
    char facility[32];
    char line[2048];
};

static struct capture cap;
static int saved_level;

static void capture_sink(int level, const char *facility, const char *line, void *opaque)
{
    struct capture *c = opaque;
    c->count++;
    c->level = level;
    snprintf(c->facility, sizeof c->facility, "%s", facility);
    snprintf(c->line, sizeof c->line, "%s", line);
}

static void setup(void)
{
    memset(&cap, 0, sizeof cap);
    saved_level = eddy_log_level;
    eddy_log_set_sink(capture_sink, &cap);
}

static void teardown(void)
{
    eddy_log_set_sink(NULL, NULL);
    eddy_log_level = saved_level;
}

static int evaluated;
static int side_effect(void)
{
    return ++evaluated;
}

START_TEST(test_disabled_level_skips_arguments)
{
    evaluated = 0;
    eddy_log_level = EDDY_LOG_LVL_WARN;
    EDDY_LOG_DEBUG("test", "debug %d", side_effect());
    EDDY_LOG_INFO("test", "info %d", side_effect());
    ck_assert_int_eq(evaluated, 0);
    ck_assert_int_eq(cap.count, 0);

    EDDY_LOG_WARN("test", "warn %d", side_effect());
    ck_assert_int_eq(evaluated, 1);
    ck_assert_int_eq(cap.count, 1);
    ck_assert_str_eq(cap.line, "warn 1");
}
END_TEST

START_TEST(test_sink_gets_level_facility_message)
{
    eddy_log_level = EDDY_LOG_LVL_DEBUG;
    EDDY_LOG_ERROR("log", "segment %s: CRC mismatch at byte %d", "00000000000000004096.log", 81920);
    ck_assert_int_eq(cap.count, 1);
    ck_assert_int_eq(cap.level, EDDY_LOG_LVL_ERROR);
    ck_assert_str_eq(cap.facility, "log");
    ck_assert_str_eq(cap.line, "segment 00000000000000004096.log: CRC mismatch at byte 81920");

    EDDY_LOG_DEBUG("wire", "x=%d", 7);
    ck_assert_int_eq(cap.count, 2);
    ck_assert_int_eq(cap.level, EDDY_LOG_LVL_DEBUG);
    ck_assert_str_eq(cap.facility, "wire");
    ck_assert_str_eq(cap.line, "x=7");

    /* Each level passes exactly when it is at or above the threshold. */
    for (int threshold = EDDY_LOG_LVL_ERROR; threshold <= EDDY_LOG_LVL_DEBUG; threshold++) {
        eddy_log_level = threshold;
        for (int lvl = EDDY_LOG_LVL_ERROR; lvl <= EDDY_LOG_LVL_DEBUG; lvl++) {
            int before = cap.count;
            EDDY_LOG(lvl, "t", "%d/%d", lvl, threshold);
            ck_assert_int_eq(cap.count - before, lvl <= threshold ? 1 : 0);
        }
    }
}
END_TEST

START_TEST(test_long_line_truncated_safely)
{
    eddy_log_level = EDDY_LOG_LVL_INFO;
    char *big = malloc(5000);
    memset(big, 'x', 4999);
    big[4999] = 0;
    EDDY_LOG_INFO("t", "%s", big);
    free(big);
    ck_assert_int_eq(cap.count, 1);
    ck_assert_uint_gt(strlen(cap.line), 500);
    ck_assert_uint_lt(strlen(cap.line), 4999);
    ck_assert_int_eq(cap.line[0], 'x');
}
END_TEST

START_TEST(test_out_of_range_level_clamped)
{
    eddy_log_write(7, "t", "too verbose");
    ck_assert_int_eq(cap.level, EDDY_LOG_LVL_DEBUG);
    eddy_log_write(-3, "t", "too severe");
    ck_assert_int_eq(cap.level, EDDY_LOG_LVL_ERROR);
    ck_assert_int_eq(cap.count, 2);
}
END_TEST

START_TEST(test_level_parse)
{
    ck_assert_int_eq(eddy_log_level_parse("error"), EDDY_LOG_LVL_ERROR);
    ck_assert_int_eq(eddy_log_level_parse("warn"), EDDY_LOG_LVL_WARN);
    ck_assert_int_eq(eddy_log_level_parse("info"), EDDY_LOG_LVL_INFO);
    ck_assert_int_eq(eddy_log_level_parse("debug"), EDDY_LOG_LVL_DEBUG);
    ck_assert_int_eq(eddy_log_level_parse("trace"), -1);
    ck_assert_int_eq(eddy_log_level_parse(""), -1);
    ck_assert_int_eq(eddy_log_level_parse("info "), -1);
}
END_TEST

START_TEST(test_default_sink_is_stderr)
{
    /* With the sink removed, a line goes to stderr with its level and
     * facility; capture fd 2 in a temp file to see it. */
    eddy_log_set_sink(NULL, NULL);
    eddy_log_level = EDDY_LOG_LVL_INFO;
    FILE *tmp = tmpfile();
    ck_assert_ptr_nonnull(tmp);
    fflush(stderr);
    int saved = dup(2);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(dup2(fileno(tmp), 2), 0);
    EDDY_LOG_WARN("cleaner", "compacted %d segments", 3);
    EDDY_LOG_DEBUG("cleaner", "hidden");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);

    char out[512] = "";
    rewind(tmp);
    size_t n = fread(out, 1, sizeof out - 1, tmp);
    out[n] = 0;
    fclose(tmp);
    ck_assert_ptr_nonnull(strstr(out, "WARN  [cleaner] compacted 3 segments\n"));
    ck_assert_ptr_null(strstr(out, "hidden"));
    ck_assert_int_eq(cap.count, 0);
}
END_TEST

/* A repeated line through a limit: one line per interval, the next one
 * saying how many were left out; a line after the interval passes. */
START_TEST(test_limited_lines_carry_the_count)
{
    eddy_log_level = EDDY_LOG_LVL_INFO;
    eddy_log_limit_t lim = EDDY_LOG_LIMIT_INIT;
    for (int i = 0; i < 1000; i++)
        EDDY_LOG_LIMITED(EDDY_LOG_LVL_ERROR, "log", &lim, 200, "read failed at %d", i);
    ck_assert_int_eq(cap.count, 1);
    ck_assert_str_eq(cap.line, "read failed at 0");
    usleep(250 * 1000);
    EDDY_LOG_LIMITED(EDDY_LOG_LVL_ERROR, "log", &lim, 200, "read failed at %d", 1000);
    ck_assert_int_eq(cap.count, 2);
    ck_assert_str_eq(cap.line, "read failed at 1000 (and 999 more like it in the last 1 s)");
    /* the count starts again */
    usleep(250 * 1000);
    EDDY_LOG_LIMITED(EDDY_LOG_LVL_ERROR, "log", &lim, 200, "read failed at %d", 1001);
    ck_assert_int_eq(cap.count, 3);
    ck_assert_str_eq(cap.line, "read failed at 1001");
    /* a level below the threshold neither writes nor counts */
    eddy_log_level = EDDY_LOG_LVL_WARN;
    for (int i = 0; i < 10; i++)
        EDDY_LOG_LIMITED(EDDY_LOG_LVL_INFO, "log", &lim, 200, "info %d", i);
    ck_assert_int_eq(cap.count, 3);
    ck_assert_uint_eq(lim.ll_suppressed, 0);
}
END_TEST

TCase *tcase_log(void)
{
    TCase *tc = tcase_create("log");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_disabled_level_skips_arguments);
    tcase_add_test(tc, test_sink_gets_level_facility_message);
    tcase_add_test(tc, test_long_line_truncated_safely);
    tcase_add_test(tc, test_out_of_range_level_clamped);
    tcase_add_test(tc, test_level_parse);
    tcase_add_test(tc, test_default_sink_is_stderr);
    tcase_add_test(tc, test_limited_lines_carry_the_count);
    return tc;
}

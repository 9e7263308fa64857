/* eddy_config_arg: the apps' --config FILE and -X key=value flags. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "streams/streams_int.h"

START_TEST(config_flags)
{
    char path[] = "/tmp/eddy-config-arg-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char text[] = "application.id=from-file\nnum.stream.threads=3\n";
    ck_assert_int_eq(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    char *argv[] = {"app", "--input",       "in", "--config", path, "-X", "num.stream.threads=2",
                    "-X",  "client.id=x=y", NULL};
    int argc = 9;
    char err[512] = "";
    eddy_config_t *c = eddy_config_new();
    int i = 1;
    ck_assert_int_eq(eddy_config_arg(c, argc, argv, &i, err, sizeof err), 0); /* the app's own */
    ck_assert_int_eq(i, 1);
    i = 3;
    ck_assert_int_eq(eddy_config_arg(c, argc, argv, &i, err, sizeof err), 1);
    ck_assert_int_eq(i, 4); /* past FILE */
    i = 5;
    ck_assert_int_eq(eddy_config_arg(c, argc, argv, &i, err, sizeof err), 1);
    ck_assert_int_eq(i, 6);
    i = 7;
    ck_assert_int_eq(eddy_config_arg(c, argc, argv, &i, err, sizeof err), 1);
    sx_config_t cfg;
    ck_assert_msg(sx_config_load(&cfg, c, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(cfg.num_stream_threads, 2);          /* -X after the file wins */
    ck_assert_str_eq(cfg.client_id, "x=y");                /* split at the first = */
    ck_assert_str_eq(cfg.application_id, "from-file");
    sx_config_free(&cfg);

    char *bad[] = {
        "app", "-X", "novalue", "-X", "no.such.key=1", "--config", "/nonexistent/eddy.properties",
        "-X",  NULL};
    i = 1;
    ck_assert_int_lt(eddy_config_arg(c, 8, bad, &i, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "-X novalue: expected key=value"));
    i = 3;
    ck_assert_int_lt(eddy_config_arg(c, 8, bad, &i, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "no.such.key"));
    i = 5;
    ck_assert_int_lt(eddy_config_arg(c, 8, bad, &i, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/eddy.properties"));
    i = 7;
    ck_assert_int_lt(eddy_config_arg(c, 8, bad, &i, err, sizeof err), 0);
    ck_assert_str_eq(err, "-X needs key=value");
    eddy_config_destroy(c);
    unlink(path);
}
END_TEST

/* producer.* settings reach the stream threads' producers: a bad codec or
 * level is refused when the app's settings load, naming the setting. */
START_TEST(config_producer_compression)
{
    char err[512];
    static const char *const good[][2] = {{"producer.compression.type", "zstd"},
                                          {"producer.compression.zstd.level", "-3"}};
    static const char *const bad[][3] = {
        {"producer.compression.type", "brotli", "producer.compression.type: 'brotli'"},
        {"producer.compression.level", "12",
         "producer.compression.level: 12 is out of range for gzip"},
    };
    eddy_config_t *c = eddy_config_new();
    ck_assert_int_eq(eddy_config_set(c, "application.id", "z", err, sizeof err), 0);
    for (size_t i = 0; i < 2; i++)
        ck_assert_int_eq(eddy_config_set(c, good[i][0], good[i][1], err, sizeof err), 0);
    sx_config_t cfg;
    ck_assert_msg(sx_config_load(&cfg, c, err, sizeof err) == 0, "%s", err);
    sx_config_free(&cfg);
    eddy_config_destroy(c);
    for (size_t i = 0; i < 2; i++) {
        c = eddy_config_new();
        ck_assert_int_eq(eddy_config_set(c, "application.id", "z", err, sizeof err), 0);
        ck_assert_int_eq(eddy_config_set(c, "producer.compression.type", "gzip", err, sizeof err),
                         0);
        ck_assert_int_eq(eddy_config_set(c, bad[i][0], bad[i][1], err, sizeof err), 0);
        ck_assert_int_lt(sx_config_load(&cfg, c, err, sizeof err), 0);
        ck_assert_msg(strstr(err, bad[i][2]) != NULL, "%s", err);
        eddy_config_destroy(c);
    }
}
END_TEST

/* processing.guarantee as Kafka 4 takes it: exactly_once_v2 with its 100 ms
 * commit interval (unless set), the removed values refused by name. */
START_TEST(config_processing_guarantee)
{
    char err[512];
    static const struct {
        const char *g, *interval;
        int eos, want_interval;
    } ok[] = {
        {"at_least_once", NULL, 0, 30000},
        {"exactly_once_v2", NULL, 1, 100},
        {"exactly_once_v2", "2000", 1, 2000},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        eddy_config_t *c = eddy_config_new();
        ck_assert_int_eq(eddy_config_set(c, "application.id", "g", err, sizeof err), 0);
        ck_assert_int_eq(eddy_config_set(c, "processing.guarantee", ok[i].g, err, sizeof err), 0);
        if (ok[i].interval)
            ck_assert_int_eq(
                eddy_config_set(c, "commit.interval.ms", ok[i].interval, err, sizeof err), 0);
        sx_config_t cfg;
        ck_assert_msg(sx_config_load(&cfg, c, err, sizeof err) == 0, "%s: %s", ok[i].g, err);
        ck_assert_int_eq(cfg.eos, ok[i].eos);
        ck_assert_int_eq(cfg.commit_interval_ms, ok[i].want_interval);
        sx_config_free(&cfg);
        eddy_config_destroy(c);
    }
    static const char *const bad[][2] = {
        {"exactly_once", "'exactly_once' was removed in Kafka 4.0"},
        {"exactly_once_beta", "'exactly_once_beta' was removed in Kafka 4.0"},
        {"exactly-once", "'exactly-once': use at_least_once or exactly_once_v2"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        eddy_config_t *c = eddy_config_new();
        ck_assert_int_eq(eddy_config_set(c, "application.id", "g", err, sizeof err), 0);
        ck_assert_int_eq(eddy_config_set(c, "processing.guarantee", bad[i][0], err, sizeof err), 0);
        sx_config_t cfg;
        ck_assert_int_lt(sx_config_load(&cfg, c, err, sizeof err), 0);
        ck_assert_msg(strstr(err, bad[i][1]) != NULL, "%s", err);
        eddy_config_destroy(c);
    }
    /* A transaction timeout below the commit interval would have every
     * transaction aborted (Kafka Streams refuses it too). */
    eddy_config_t *c = eddy_config_new();
    ck_assert_int_eq(eddy_config_set(c, "application.id", "g", err, sizeof err), 0);
    ck_assert_int_eq(eddy_config_set(c, "processing.guarantee", "exactly_once_v2", err, sizeof err),
                     0);
    ck_assert_int_eq(eddy_config_set(c, "commit.interval.ms", "20000", err, sizeof err), 0);
    sx_config_t cfg;
    ck_assert_int_lt(sx_config_load(&cfg, c, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "producer.transaction.timeout.ms 10000 is below commit.interval.ms "
                              "20000") != NULL,
                  "%s", err);
    ck_assert_int_eq(
        eddy_config_set(c, "producer.transaction.timeout.ms", "30000", err, sizeof err), 0);
    ck_assert_msg(sx_config_load(&cfg, c, err, sizeof err) == 0, "%s", err);
    sx_config_free(&cfg);
    eddy_config_destroy(c);
}
END_TEST

TCase *tcase_config_arg(void)
{
    TCase *tc = tcase_create("config_arg");
    tcase_add_test(tc, config_flags);
    tcase_add_test(tc, config_producer_compression);
    tcase_add_test(tc, config_processing_guarantee);
    return tc;
}

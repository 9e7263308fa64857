/* The error handlers' settings and eddy_fail_record outside a record. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "streams/streams_int.h"

static int load(sx_config_t *cfg, const char *key, const char *value, char *err, size_t n)
{
    eddy_config_t *c = eddy_config_new();
    int rc = eddy_config_set(c, "application.id", "h", err, n);
    if (rc == 0 && key)
        rc = eddy_config_set(c, key, value, err, n);
    if (rc == 0)
        rc = sx_config_load(cfg, c, err, n);
    eddy_config_destroy(c);
    return rc;
}

START_TEST(handler_settings)
{
    char err[512] = "";
    sx_config_t cfg;
    ck_assert_msg(load(&cfg, NULL, NULL, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(cfg.processing_continue, 0); /* Kafka's defaults: fail */
    ck_assert_int_eq(cfg.production_continue, 0);
    ck_assert_str_eq(cfg.dlq_topic, "");
    sx_config_free(&cfg);

    ck_assert_int_eq(
        load(&cfg, "processing.exception.handler", "log-and-continue", err, sizeof err), 0);
    ck_assert_int_eq(cfg.processing_continue, 1);
    sx_config_free(&cfg);
    ck_assert_int_eq(load(&cfg, "processing.exception.handler",
                          "org.apache.kafka.streams.errors."
                          "LogAndContinueProcessingExceptionHandler",
                          err, sizeof err),
                     0);
    ck_assert_int_eq(cfg.processing_continue, 1);
    sx_config_free(&cfg);
    ck_assert_int_eq(
        load(&cfg, "production.exception.handler", "log-and-continue", err, sizeof err), 0);
    ck_assert_int_eq(cfg.production_continue, 1);
    ck_assert_int_eq(cfg.processing_continue, 0);
    sx_config_free(&cfg);
    ck_assert_int_eq(load(&cfg, "production.exception.handler",
                          "org.apache.kafka.streams.errors.DefaultProductionExceptionHandler", err,
                          sizeof err),
                     0);
    ck_assert_int_eq(cfg.production_continue, 0);
    sx_config_free(&cfg);
    ck_assert_int_eq(load(&cfg, "errors.dead.letter.queue.topic.name", "dlq", err, sizeof err), 0);
    ck_assert_str_eq(cfg.dlq_topic, "dlq");
    sx_config_free(&cfg);

    ck_assert_int_lt(load(&cfg, "processing.exception.handler", "ignore", err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "processing.exception.handler 'ignore'"));
    ck_assert_ptr_nonnull(strstr(err, "log-and-continue"));
}
END_TEST

START_TEST(fail_record_outside)
{
    /* Not on a stream thread inside a user function: nothing to fail. */
    ck_assert_int_eq(eddy_fail_record("no record %d", 1), -EINVAL);
}
END_TEST

TCase *tcase_handlers(void)
{
    TCase *tc = tcase_create("handlers");
    tcase_add_test(tc, handler_settings);
    tcase_add_test(tc, fail_record_outside);
    return tc;
}

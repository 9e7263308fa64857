/* eddy_app_new takes the builder over only when it returns an app: a
 * failure leaves the builder the caller's, to retry with another config or
 * to destroy. */
#include <check.h>
#include <string.h>

#include "include/eddy.h"

static eddy_builder_t *topology(void)
{
    eddy_builder_t *b = eddy_builder_new();
    ck_assert_ptr_nonnull(b);
    eddy_stream_to(eddy_builder_stream(b, "in", NULL, NULL), "out", NULL, NULL);
    return b;
}

START_TEST(failed_new_leaves_builder_to_caller)
{
    char err[512] = "";
    eddy_builder_t *b = topology();
    eddy_config_t *cfg = eddy_config_new();
    ck_assert_ptr_nonnull(cfg);
    /* No application.id: refused, and the builder is still ours. */
    ck_assert_ptr_null(eddy_app_new(b, cfg, err, sizeof err));
    ck_assert_msg(strstr(err, "application.id") != NULL, "%s", err);
    /* Corrected, the same builder makes an app (it would be freed memory if
     * the failed call had taken it). */
    ck_assert_int_eq(eddy_config_set(cfg, "application.id", "t-app-new", err, sizeof err), 0);
    ck_assert_int_eq(eddy_config_set(cfg, "bootstrap.servers", "127.0.0.1:1", err, sizeof err), 0);
    eddy_app_t *app = eddy_app_new(b, cfg, err, sizeof err);
    ck_assert_msg(app != NULL, "%s", err);
    eddy_app_close(app); /* the app's now: closing frees it */
    eddy_config_destroy(cfg);
}
END_TEST

START_TEST(failed_topology_leaves_builder_to_caller)
{
    char err[512] = "";
    eddy_builder_t *b = eddy_builder_new();
    /* A topic name Kafka refuses: the builder remembers the misuse. */
    eddy_stream_to(eddy_builder_stream(b, "no spaces allowed", NULL, NULL), "out", NULL, NULL);
    eddy_config_t *cfg = eddy_config_new();
    ck_assert_int_eq(eddy_config_set(cfg, "application.id", "t-app-new", err, sizeof err), 0);
    ck_assert_ptr_null(eddy_app_new(b, cfg, err, sizeof err));
    ck_assert(err[0] != 0);
    eddy_builder_destroy(b); /* ours to free: a double free if the app took it */
    eddy_config_destroy(cfg);
}
END_TEST

TCase *tcase_app_new(void)
{
    TCase *tc = tcase_create("app_new");
    tcase_add_test(tc, failed_new_leaves_builder_to_caller);
    tcase_add_test(tc, failed_topology_leaves_builder_to_caller);
    return tc;
}

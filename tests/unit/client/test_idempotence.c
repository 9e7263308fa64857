/* enable.idempotence by Kafka's rules (ProducerConfig since 3.2): on by
 * default; a conflicting acks, retries or max.in.flight turns it off when
 * it was on by default, and is an error naming the setting when the user
 * set enable.idempotence=true. */
#include <string.h>

#include "check_helpers.h"
#include "client/client.h"
#include "client/client_int.h"
#include "common/err.h"

/* Loads the settings; returns kc_config_load's result, and on success
 * whether the producer is idempotent and why not. */
static int load(const char *const *kv, int n, int *on, const char **why, char *err, size_t err_size)
{
    eddy_props_t ps;
    eddy_props_init(&ps);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(eddy_props_set(&ps, "test", kv[i], err, err_size), 0);
    kc_config_t cfg;
    int rc = kc_config_load(&cfg, &ps, err, err_size);
    if (rc == 0)
        ck_assert_int_eq(kc_config_idempotence(&cfg, on, why, err, err_size), 0);
    kc_config_free(&cfg);
    eddy_props_free(&ps);
    return rc;
}

START_TEST(test_idempotence_default)
{
    int on = 0;
    const char *why = "x";
    char err[256];
    ck_assert_int_eq(load(NULL, 0, &on, &why, err, sizeof err), 0);
    ck_assert_int_eq(on, 1);
    ck_assert_ptr_null(why);
    const char *const explicit_ok[] = {"enable.idempotence=true", "acks=-1", "retries=3",
                                       "max.in.flight.requests.per.connection=5"};
    ck_assert_int_eq(load(explicit_ok, 4, &on, &why, err, sizeof err), 0);
    ck_assert_int_eq(on, 1);
    const char *const off[] = {"enable.idempotence=false", "acks=1"};
    ck_assert_int_eq(load(off, 2, &on, &why, err, sizeof err), 0);
    ck_assert_int_eq(on, 0);
    ck_assert_ptr_null(why);
}
END_TEST

/* On by default only: each conflict turns it off quietly, naming why. */
START_TEST(test_idempotence_quietly_off)
{
    static const struct {
        const char *kv, *names;
    } c[] = {
        {"acks=1", "acks"},
        {"acks=0", "acks"},
        {"retries=0", "retries"},
        {"max.in.flight.requests.per.connection=6", "max.in.flight.requests.per.connection"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        int on = 1;
        const char *why = NULL;
        char err[256];
        const char *const kv[] = {c[i].kv};
        ck_assert_msg(load(kv, 1, &on, &why, err, sizeof err) == 0, "%s: %s", c[i].kv, err);
        ck_assert_msg(on == 0, "%s: idempotence still on", c[i].kv);
        ck_assert_msg(why && strstr(why, c[i].names), "%s: why '%s'", c[i].kv, why ? why : "");
    }
}
END_TEST

/* Set explicitly: a conflict is an error that names the setting. */
START_TEST(test_idempotence_explicit_conflicts)
{
    static const struct {
        const char *kv, *names;
    } c[] = {
        {"acks=1", "acks must be all"},
        {"retries=0", "retries must be greater than 0"},
        {"max.in.flight.requests.per.connection=10", "max.in.flight.requests.per.connection must "
                                                     "be at most 5"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        int on;
        const char *why;
        char err[256] = "";
        const char *const kv[] = {"enable.idempotence=true", c[i].kv};
        ck_assert_msg(load(kv, 2, &on, &why, err, sizeof err) == EDDY_ERR_CONFIG,
                      "%s with enable.idempotence=true was accepted", c[i].kv);
        ck_assert_msg(strstr(err, c[i].names) && strstr(err, "enable.idempotence"),
                      "%s: error '%s'", c[i].kv, err);
    }
}
END_TEST

/* Sequence numbers wrap past INT32_MAX to 0, as Kafka's do: the broker
 * expects 0 after 2147483647. */
START_TEST(test_idempotence_sequence_wraps)
{
    ck_assert_int_eq(kc_seq_add(0, 5), 5);
    ck_assert_int_eq(kc_seq_add(2147483640, 7), 2147483647);
    ck_assert_int_eq(kc_seq_add(2147483647, 1), 0);
    ck_assert_int_eq(kc_seq_add(2147483640, 10), 2);
    ck_assert_int_eq(kc_seq_add(2147483647, 0), 2147483647);
}
END_TEST

TCase *tcase_idempotence(void)
{
    TCase *tc = tcase_create("idempotence");
    tcase_add_test(tc, test_idempotence_default);
    tcase_add_test(tc, test_idempotence_quietly_off);
    tcase_add_test(tc, test_idempotence_explicit_conflicts);
    tcase_add_test(tc, test_idempotence_sequence_wraps);
    return tc;
}

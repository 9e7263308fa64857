/* The security settings as kc_config_load reads them (client/sasl.c,
 * kc_config_security): librdkafka's sasl.mechanisms folded into
 * sasl.mechanism, the Java client's sasl.jaas.config read into
 * sasl.username/sasl.password, and each mistake a sentence naming the
 * setting, before any connection is made. */
#include <string.h>

#include "check_helpers.h"
#include "client/client.h"
#include "client/client_int.h"
#include "common/err.h"

/* Loads n "key=value" settings into *cfg (freed by the caller on success). */
static int load(kc_config_t *cfg, const char *const *kv, int n, char *err, size_t err_size)
{
    eddy_props_t ps;
    eddy_props_init(&ps);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(eddy_props_set(&ps, "test", kv[i], err, err_size), 0);
    int rc = kc_config_load(cfg, &ps, err, err_size);
    if (rc < 0)
        kc_config_free(cfg);
    eddy_props_free(&ps);
    return rc;
}

START_TEST(test_sasl_mechanisms_alias)
{
    kc_config_t cfg;
    char err[512];
    const char *const rdkafka[] = {"security.protocol=sasl_ssl", "sasl.mechanisms=SCRAM-SHA-256",
                                   "sasl.username=alice", "sasl.password=s"};
    ck_assert_int_eq(load(&cfg, rdkafka, 4, err, sizeof err), 0);
    ck_assert_str_eq(cfg.sasl_mechanism, "SCRAM-SHA-256");
    ck_assert_int_eq(kc_security_protocol_parse(cfg.security_protocol), KC_SEC_SASL_SSL);
    kc_config_free(&cfg);
    const char *const same[] = {"security.protocol=SASL_PLAINTEXT", "sasl.mechanism=PLAIN",
                                "sasl.mechanisms=PLAIN", "sasl.username=alice", "sasl.password=s"};
    ck_assert_int_eq(load(&cfg, same, 5, err, sizeof err), 0);
    kc_config_free(&cfg);
    const char *const differ[] = {"security.protocol=SASL_PLAINTEXT", "sasl.mechanism=PLAIN",
                                  "sasl.mechanisms=SCRAM-SHA-512", "sasl.username=alice",
                                  "sasl.password=s"};
    ck_assert_int_eq(load(&cfg, differ, 5, err, sizeof err), EDDY_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err, "sasl.mechanisms=SCRAM-SHA-512"));
}
END_TEST

START_TEST(test_sasl_required_settings)
{
    kc_config_t cfg;
    char err[512];
    /* Kafka's default mechanism is GSSAPI, which this client does not speak */
    const char *const gssapi[] = {"security.protocol=SASL_PLAINTEXT", "sasl.username=alice",
                                  "sasl.password=s"};
    ck_assert_int_eq(load(&cfg, gssapi, 3, err, sizeof err), EDDY_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err, "GSSAPI"));
    const char *const nopass[] = {"security.protocol=SASL_SSL", "sasl.mechanism=PLAIN",
                                  "sasl.username=alice"};
    ck_assert_int_eq(load(&cfg, nopass, 3, err, sizeof err), EDDY_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err, "sasl.password"));
    const char *const bogus[] = {"security.protocol=SASL_TLS"};
    ck_assert_int_eq(load(&cfg, bogus, 1, err, sizeof err), EDDY_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err, "SASL_TLS"));
    /* without SASL the sasl.* settings wait unused, as in Kafka's clients */
    const char *const plain[] = {"sasl.mechanism=OAUTHBEARER"};
    ck_assert_int_eq(load(&cfg, plain, 1, err, sizeof err), 0);
    kc_config_free(&cfg);
}
END_TEST

START_TEST(test_sasl_jaas_config)
{
    kc_config_t cfg;
    char err[512];
    const char *const scram[] = {"security.protocol=SASL_SSL", "sasl.mechanism=SCRAM-SHA-512",
                                 "sasl.jaas.config=org.apache.kafka.common.security.scram."
                                 "ScramLoginModule required "
                                 "username=\"alice\" password=\"p\\\"w;d\";"};
    ck_assert_int_eq(load(&cfg, scram, 3, err, sizeof err), 0);
    ck_assert_str_eq(cfg.sasl_username, "alice");
    ck_assert_str_eq(cfg.sasl_password, "p\"w;d");
    ck_assert_ptr_null(cfg.sasl_jaas_config); /* the text with the password is not kept */
    kc_config_free(&cfg);
    const char *const plain[] = {"security.protocol=SASL_PLAINTEXT", "sasl.mechanism=PLAIN",
                                 "sasl.jaas.config=org.apache.kafka.common.security.plain."
                                 "PlainLoginModule required "
                                 "username=bob password=\"x\";"};
    ck_assert_int_eq(load(&cfg, plain, 3, err, sizeof err), 0);
    ck_assert_str_eq(cfg.sasl_username, "bob");
    kc_config_free(&cfg);
    const char *const mismatch[] = {"security.protocol=SASL_PLAINTEXT", "sasl.mechanism=PLAIN",
                                    "sasl.jaas.config=org.apache.kafka.common.security.scram."
                                    "ScramLoginModule required "
                                    "username=\"a\" password=\"b\";"};
    ck_assert_int_eq(load(&cfg, mismatch, 3, err, sizeof err), EDDY_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err, "ScramLoginModule"));
    const char *const both[] = {"security.protocol=SASL_PLAINTEXT", "sasl.mechanism=PLAIN",
                                "sasl.username=a",
                                "sasl.jaas.config=org.apache.kafka.common.security.plain."
                                "PlainLoginModule required "
                                "username=\"a\" password=\"b\";"};
    ck_assert_int_eq(load(&cfg, both, 4, err, sizeof err), EDDY_ERR_CONFIG);
    const char *const kerberos[] = {"security.protocol=SASL_PLAINTEXT", "sasl.mechanism=PLAIN",
                                    "sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule "
                                    "required;"};
    ck_assert_int_eq(load(&cfg, kerberos, 3, err, sizeof err), EDDY_ERR_CONFIG);
    const char *const nouser[] = {"security.protocol=SASL_PLAINTEXT", "sasl.mechanism=PLAIN",
                                  "sasl.jaas.config=org.apache.kafka.common.security.plain."
                                  "PlainLoginModule required "
                                  "password=\"b\";"};
    ck_assert_int_eq(load(&cfg, nouser, 3, err, sizeof err), EDDY_ERR_CONFIG);
    const char *const unterminated[] = {"security.protocol=SASL_PLAINTEXT", "sasl.mechanism=PLAIN",
                                        "sasl.jaas.config=org.apache.kafka.common.security.plain."
                                        "PlainLoginModule required "
                                        "username=\"a password=b;"};
    ck_assert_int_eq(load(&cfg, unterminated, 3, err, sizeof err), EDDY_ERR_CONFIG);
}
END_TEST

TCase *tcase_sasl_config(void)
{
    TCase *tc = tcase_create("sasl_config");
    tcase_add_test(tc, test_sasl_mechanisms_alias);
    tcase_add_test(tc, test_sasl_required_settings);
    tcase_add_test(tc, test_sasl_jaas_config);
    return tc;
}

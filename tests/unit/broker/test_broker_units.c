/* Broker pieces with no process around them: the group-to-partition hash,
 * settings, topic names. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "broker/config.h"
#include "broker/group.h"
#include "broker/topics.h"

/* Kafka puts a group on partition abs(String.hashCode(group)) % n; these
 * values come from Java's String.hashCode. */
START_TEST(group_partition_matches_kafka)
{
    static const struct {
        const char *group;
        int32_t partition;
    } v[] = {
        {"my-group", 12},          {"console-consumer-12345", 6},
        {"wordcount", 41},         {"grp1", 48},
        {"\xc3\xa9-groupe", 22},   {"emoji-\xf0\x9f\x98\x80", 6},
        {"polygenelubricants", 0}, /* hashCode is Integer.MIN_VALUE: Utils.abs gives 0 */
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        ck_assert_msg(group_partition_for(v[i].group, strlen(v[i].group), 50) == v[i].partition,
                      "%s", v[i].group);
}
END_TEST

TCase *tcase_group_partition(void)
{
    TCase *tc = tcase_create("group_partition");
    tcase_add_test(tc, group_partition_matches_kafka);
    return tc;
}

/* Broker settings map onto topic defaults as Kafka's do. */
START_TEST(topic_defaults_from_broker_settings)
{
    eddy_props_t ps;
    eddy_props_init(&ps);
    char err[512];
    const char *text = "log.retention.hours=2\nlog.segment.bytes=1048576\n"
                       "log.cleanup.policy=compact,delete\nmessage.max.bytes=5000\n";
    ck_assert_int_eq(
        eddy_props_parse(&ps, "server.properties", text, strlen(text), err, sizeof err), 0);
    broker_config_t cfg;
    ck_assert_int_eq(broker_config_load(&cfg, &ps, err, sizeof err), 0);
    log_config_t t;
    broker_topic_defaults(&cfg, &t);
    ck_assert_int_eq(t.retention_ms, 2 * 3600000);
    ck_assert_int_eq(t.segment_bytes, 1048576);
    ck_assert_int_eq(t.cleanup_policy, LOG_CLEANUP_COMPACT | LOG_CLEANUP_DELETE);
    ck_assert_int_eq(t.max_message_bytes, 5000);
    broker_config_free(&cfg);
    /* log.retention.ms wins over hours; -1 keeps forever. */
    ck_assert_int_eq(eddy_props_set(&ps, "--set", "log.retention.ms=-1", err, sizeof err), 0);
    ck_assert_int_eq(broker_config_load(&cfg, &ps, err, sizeof err), 0);
    broker_topic_defaults(&cfg, &t);
    ck_assert_int_eq(t.retention_ms, -1);
    broker_config_free(&cfg);
    eddy_props_free(&ps);
}
END_TEST

/* Errors name the file, the line and the key. */
START_TEST(bad_settings_are_named)
{
    eddy_props_t ps;
    eddy_props_init(&ps);
    char err[512] = "";
    const char *text = "broker.id=1\n# comment\nlog.segmnt.bytes=100\n";
    ck_assert_int_eq(
        eddy_props_parse(&ps, "server.properties", text, strlen(text), err, sizeof err), 0);
    broker_config_t cfg;
    ck_assert_int_ne(broker_config_load(&cfg, &ps, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "server.properties:3"));
    ck_assert_ptr_nonnull(strstr(err, "log.segmnt.bytes"));
    broker_config_free(&cfg);
    eddy_props_free(&ps);
    eddy_props_init(&ps);
    ck_assert_int_eq(eddy_props_set(&ps, "--set", "listeners=http://x:1", err, sizeof err), 0);
    ck_assert_int_ne(broker_config_load(&cfg, &ps, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "listeners"));
    broker_config_free(&cfg);
    eddy_props_free(&ps);
}
END_TEST

/* TLS settings: known ones (plain or under a listener's prefix) load; an
 * unknown one, a prefix naming no listener, or a value Eddy cannot honour is
 * refused with the file, line and key. */
START_TEST(tls_settings)
{
    static const struct {
        const char *text;
        const char *says; /* NULL: loads */
    } cases[] = {
        {"listeners=PLAINTEXT://h:1,SSL://h:2\nssl.keystore.location=/k.pem\n"
         "listener.name.ssl.ssl.client.auth=required\nssl.enabled.protocols=TLSv1.2,TLSv1.3\n"
         "ssl.endpoint.identification.algorithm=\nssl.principal.mapping.rules=DEFAULT\n",
         NULL},
        {"listeners=SSL://h:2\nssl.keystore.locaton=/k.pem\n", "x.properties:2: "
                                                               "ssl.keystore.locaton"},
        {"listeners=SSL://h:2\nlistener.name.other.ssl.key.password=x\n", "no listener is named "
                                                                          "OTHER"},
        {"listeners=SSL://h:2\nlistener.name.ssl.sasl.mechanism=PLAIN\n",
         "unknown configuration key 'listener.name.ssl.sasl.mechanism'"},
        {"listeners=SSL://h:2\nssl.enabled.protocols=TLSv1.3\n", "exactly TLSv1.2 and TLSv1.3"},
        {"listeners=SSL://h:2\nssl.keystore.password=x\n", "PEM stores have no store password"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        eddy_props_t ps;
        eddy_props_init(&ps);
        char err[1024] = "";
        ck_assert_int_eq(eddy_props_parse(&ps, "x.properties", cases[i].text, strlen(cases[i].text),
                                          err, sizeof err),
                         0);
        broker_config_t cfg;
        int rc = broker_config_load(&cfg, &ps, err, sizeof err);
        if (cases[i].says) {
            ck_assert_int_ne(rc, 0);
            ck_assert_msg(strstr(err, cases[i].says), "case %zu: '%s'", i, err);
        } else {
            ck_assert_msg(rc == 0, "case %zu: '%s'", i, err);
            ck_assert_int_eq(cfg.nlisteners, 2);
        }
        broker_config_free(&cfg);
        eddy_props_free(&ps);
    }
}
END_TEST

#define DEFAULT_MAP "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"

START_TEST(listener_parsing)
{
    char err[512];
    broker_listener_cfg_t *l;
    int n;
    ck_assert_int_eq(broker_listeners_parse("PLAINTEXT://127.0.0.1:9092", DEFAULT_MAP, NULL, &l, &n,
                                            err, sizeof err),
                     0);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(l[0].lc_name, "PLAINTEXT");
    ck_assert_int_eq(l[0].lc_proto, BROKER_SEC_PLAINTEXT);
    ck_assert_str_eq(l[0].lc_host, "127.0.0.1");
    ck_assert_int_eq(l[0].lc_port, 9092);
    ck_assert_str_eq(l[0].lc_adv_host, "");
    free(l);
    /* The older host:port form is a PLAINTEXT listener. */
    ck_assert_int_eq(
        broker_listeners_parse("localhost:0", DEFAULT_MAP, NULL, &l, &n, err, sizeof err), 0);
    ck_assert_str_eq(l[0].lc_name, "PLAINTEXT");
    ck_assert_int_eq(l[0].lc_port, 0);
    free(l);
    /* Several listeners; names mapped to protocols, case-insensitively;
     * advertised per name; IPv6 in brackets; empty host = all interfaces. */
    ck_assert_int_eq(broker_listeners_parse("internal://[::1]:9092, EXTERNAL://:9093,SSL://h:1",
                                            "INTERNAL:PLAINTEXT,external:sasl_ssl,SSL:SSL",
                                            "EXTERNAL://kafka.example.com:443", &l, &n, err,
                                            sizeof err),
                     0);
    ck_assert_int_eq(n, 3);
    ck_assert_str_eq(l[0].lc_name, "INTERNAL");
    ck_assert_str_eq(l[0].lc_host, "::1");
    ck_assert_int_eq(l[0].lc_proto, BROKER_SEC_PLAINTEXT);
    ck_assert_str_eq(l[1].lc_name, "EXTERNAL");
    ck_assert_str_eq(l[1].lc_host, "");
    ck_assert_int_eq(l[1].lc_proto, BROKER_SEC_SASL_SSL);
    ck_assert_str_eq(l[1].lc_adv_host, "kafka.example.com");
    ck_assert_int_eq(l[1].lc_adv_port, 443);
    ck_assert_int_eq(l[2].lc_proto, BROKER_SEC_SSL);
    free(l);

    const struct {
        const char *listeners, *map, *adv, *says;
    } bad[] = {
        {"h:99999", DEFAULT_MAP, NULL, "not NAME://HOST:PORT"},
        {"nohost", DEFAULT_MAP, NULL, "not NAME://HOST:PORT"},
        {"http://x:1", DEFAULT_MAP, NULL, "no security protocol for the listener name HTTP"},
        {"A://x:1", "A:TLS", NULL, "'TLS' is not a security protocol"},
        {"PLAINTEXT://x:1,plaintext://x:2", DEFAULT_MAP, NULL, "PLAINTEXT appears twice"},
        {"PLAINTEXT://x:1", DEFAULT_MAP, "SSL://y:2", "SSL is not the name of one of"},
        {"PLAINTEXT://x:1", DEFAULT_MAP, "PLAINTEXT://0.0.0.0:1", "no address a client can reach"},
        {"", DEFAULT_MAP, NULL, "no listener given"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_ne(broker_listeners_parse(bad[i].listeners, bad[i].map, bad[i].adv, &l, &n,
                                                err, sizeof err),
                         0);
        ck_assert_msg(strstr(err, bad[i].says), "%s: '%s'", bad[i].listeners, err);
    }
}
END_TEST

TCase *tcase_broker_config(void)
{
    TCase *tc = tcase_create("config");
    tcase_add_test(tc, topic_defaults_from_broker_settings);
    tcase_add_test(tc, bad_settings_are_named);
    tcase_add_test(tc, listener_parsing);
    tcase_add_test(tc, tls_settings);
    return tc;
}

START_TEST(kafka_topic_name_rules)
{
    char why[300];
    char n249[250], n250[251];
    memset(n249, 'a', 249);
    n249[249] = 0;
    memset(n250, 'a', 250);
    n250[250] = 0;
    ck_assert(topic_name_valid("orders.v1_x-2", 13, why, sizeof why));
    ck_assert(topic_name_valid(n249, 249, why, sizeof why));
    ck_assert(!topic_name_valid(n250, 250, why, sizeof why));
    ck_assert(!topic_name_valid("", 0, why, sizeof why));
    ck_assert(!topic_name_valid(".", 1, why, sizeof why));
    ck_assert(!topic_name_valid("..", 2, why, sizeof why));
    ck_assert(topic_name_valid("...", 3, why, sizeof why));
    ck_assert(!topic_name_valid("a b", 3, why, sizeof why));
    ck_assert(!topic_name_valid("a/b", 3, why, sizeof why));
    ck_assert_ptr_nonnull(strstr(why, "a/b"));
}
END_TEST

TCase *tcase_topic_names(void)
{
    TCase *tc = tcase_create("topic_names");
    tcase_add_test(tc, kafka_topic_name_rules);
    return tc;
}

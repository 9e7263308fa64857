/* Streams configuration with Kafka Streams' names and defaults (the ones
 * Kafka Streams overrides for its clients included: auto.offset.reset
 * earliest, linger.ms 100). Client settings pass through with Kafka
 * Streams' prefixes: "consumer.", "producer." (both apply to the main
 * client) and "restore.consumer.". Unknown keys are an error naming the
 * key. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "streams/streams_int.h"

#define F(field) offsetof(sx_config_t, field)
static const eddy_cfg_def_t sx_config_defs[] = {
    {"application.id", CFG_STRING, F(application_id), NULL, 0, 0, NULL,
     "the app's name: its consumer group, internal topic prefix and state directory"},
    {"bootstrap.servers", CFG_STRING, F(bootstrap_servers), "localhost:9092", 0, 0, NULL, ""},
    {"client.id", CFG_STRING, F(client_id), "", 0, 0, NULL, "prefix of the clients' ids"},
    {"num.stream.threads", CFG_INT32, F(num_stream_threads), "1", 1, 256, NULL, ""},
    {"commit.interval.ms", CFG_INT32, F(commit_interval_ms), "30000", 1, 2147483647, NULL,
     "30000 under at_least_once, 100 under exactly_once_v2 (Kafka Streams' defaults)"},
    {"repartition.purge.interval.ms", CFG_INT64, F(repartition_purge_interval_ms), "30000", 0,
     9.2e18, NULL, "least time between two deletions of committed repartition records"},
    {"state.dir", CFG_STRING, F(state_dir), "/tmp/eddy-streams", 0, 0, NULL, ""},
    {"num.standby.replicas", CFG_INT32, F(num_standby_replicas), "0", 0, 16, NULL, ""},
    {"cache.max.bytes.buffering", CFG_INT64, F(cache_max_bytes_buffering), "10485760", 0, 9.2e18,
     NULL, ""},
    {"session.timeout.ms", CFG_INT32, F(session_timeout_ms), "45000", 1, 2147483647, NULL, ""},
    {"heartbeat.interval.ms", CFG_INT32, F(heartbeat_interval_ms), "3000", 1, 2147483647, NULL, ""},
    {"max.poll.interval.ms", CFG_INT32, F(max_poll_interval_ms), "300000", 1, 2147483647, NULL, ""},
    {"request.timeout.ms", CFG_INT32, F(request_timeout_ms), "30000", 1, 2147483647, NULL, ""},
    {"retry.backoff.ms", CFG_INT32, F(retry_backoff_ms), "100", 0, 2147483647, NULL, ""},
    {"processing.guarantee", CFG_STRING, F(processing_guarantee), "at_least_once", 0, 0, NULL,
     "at_least_once or exactly_once_v2"},
    {"default.key.serde", CFG_STRING, F(default_key_serde), "bytes", 0, 0, NULL, ""},
    {"default.value.serde", CFG_STRING, F(default_value_serde), "bytes", 0, 0, NULL, ""},
    {"default.deserialization.exception.handler", CFG_STRING, F(deserialization_handler),
     "log-and-fail", 0, 0, NULL, "log-and-fail or log-and-continue"},
    {"processing.exception.handler", CFG_STRING, F(processing_handler), "log-and-fail", 0, 0, NULL,
     "log-and-fail or log-and-continue: a record a user function fails (eddy_fail_record)"},
    {"production.exception.handler", CFG_STRING, F(production_handler), "log-and-fail", 0, 0, NULL,
     "log-and-fail or log-and-continue: an output record the cluster refuses"},
    {"errors.dead.letter.queue.topic.name", CFG_STRING, F(dlq_topic), "", 0, 0, NULL,
     "where records skipped by a handler go, with headers naming the error"},
    {"replication.factor", CFG_INT32, F(replication_factor), "-1", -1, 32767, NULL, ""},
    {"auto.offset.reset", CFG_STRING, F(auto_offset_reset), "earliest", 0, 0, NULL, ""},
    {"linger.ms", CFG_INT32, F(linger_ms), "100", 0, 2147483647, NULL, ""},
    {"max.task.idle.ms", CFG_INT64, F(max_task_idle_ms), "0", -1, 9.2e18, NULL,
     "how long a task with several input partitions waits for data on an empty one before "
     "processing the others (-1: never waits)"},
    {"buffered.records.per.partition", CFG_INT32, F(buffered_records_per_partition), "1000", 1,
     2147483647, NULL, "records a task buffers per input partition before pausing it"},
    {"eddy.state.map.initial.bytes", CFG_INT64, F(state_map_initial_bytes), "16777216", 65536, 1e15,
     NULL, "first LMDB map size of a task; doubled as it fills"},
    {"eddy.state.txn.max.writes", CFG_INT64, F(state_txn_max_writes), "65536", 1, 1e15, NULL,
     "writes after which a task's open LMDB transaction commits on its own"},
    {NULL},
};
#undef F

static const struct {
    const char *name, *kafka;
    const eddy_serde_t *(*fn)(void);
} serde_names[] = {
    {"bytes", "org.apache.kafka.common.serialization.Serdes$ByteArraySerde", eddy_serde_bytes},
    {"string", "org.apache.kafka.common.serialization.Serdes$StringSerde", eddy_serde_string},
    {"int32", "org.apache.kafka.common.serialization.Serdes$IntegerSerde", eddy_serde_int32},
    {"int64", "org.apache.kafka.common.serialization.Serdes$LongSerde", eddy_serde_int64},
    {"double", "org.apache.kafka.common.serialization.Serdes$DoubleSerde", eddy_serde_double},
    {"msgpack", NULL, eddy_serde_msgpack},
};

const eddy_serde_t *sx_serde_by_name(const char *name)
{
    for (size_t i = 0; i < sizeof serde_names / sizeof serde_names[0]; i++)
        if (strcmp(name, serde_names[i].name) == 0 ||
            (serde_names[i].kafka && strcmp(name, serde_names[i].kafka) == 0))
            return serde_names[i].fn();
    return NULL;
}

eddy_config_t *eddy_config_new(void)
{
    eddy_config_t *c = calloc(1, sizeof *c);
    if (c)
        eddy_props_init(&c->cf_props);
    return c;
}

void eddy_config_destroy(eddy_config_t *c)
{
    if (!c)
        return;
    eddy_props_free(&c->cf_props);
    free(c);
}

/* Settings of every client (security), taken without a prefix. */
static int common_client_key(const char *key)
{
    return strncmp(key, "security.", 9) == 0 || strncmp(key, "sasl.", 5) == 0 ||
           strncmp(key, "ssl.", 4) == 0;
}

static int client_key(const char *key, const char **rest)
{
    if (common_client_key(key)) {
        *rest = key;
        return 1;
    }
    static const char *const prefixes[] = {"consumer.", "producer.", "restore.consumer.",
                                           "main.consumer."};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(key, prefixes[i], n) == 0) {
            *rest = key + n;
            return 1;
        }
    }
    return 0;
}

/* Checks one key=value now, so that the error names the call that set it. */
static int check_entry(const char *key, const char *value, const char *where, char *errstr,
                       size_t errstr_size)
{
    const char *rest;
    if (client_key(key, &rest)) {
        if (!eddy_cfg_find(kc_config_defs, rest)) {
            snprintf(errstr, errstr_size, "%s: unknown client setting '%s' (in '%s')", where, rest,
                     key);
            return EDDY_ERR_CONFIG;
        }
        return 0;
    }
    if (!eddy_cfg_find(sx_config_defs, key)) {
        snprintf(errstr, errstr_size, "%s: unknown setting '%s' (docs/streams.md lists them)",
                 where, key);
        return EDDY_ERR_CONFIG;
    }
    sx_config_t tmp;
    memset(&tmp, 0, sizeof tmp);
    int rc = eddy_cfg_set(sx_config_defs, &tmp, key, value, where, errstr, errstr_size);
    eddy_cfg_free(sx_config_defs, &tmp);
    return rc;
}

int eddy_config_set(eddy_config_t *c, const char *key, const char *value, char *errstr,
                    size_t errstr_size)
{
    if (!c || !key || !value) {
        snprintf(errstr, errstr_size, "eddy_config_set: NULL argument");
        return EDDY_ERR_INVALID_ARG;
    }
    int rc = check_entry(key, value, "eddy_config_set", errstr, errstr_size);
    if (rc < 0)
        return rc;
    size_t n = strlen(key) + strlen(value) + 2;
    char *kv = malloc(n);
    if (!kv)
        return -ENOMEM;
    snprintf(kv, n, "%s=%s", key, value);
    rc = eddy_props_set(&c->cf_props, "eddy_config_set", kv, errstr, errstr_size);
    free(kv);
    return rc;
}

int eddy_config_arg(eddy_config_t *c, int argc, char **argv, int *i, char *errstr,
                    size_t errstr_size)
{
    const char *a = argv[*i];
    int file = strcmp(a, "--config") == 0;
    if (!file && strcmp(a, "-X") != 0)
        return 0;
    if (*i + 1 >= argc) {
        snprintf(errstr, errstr_size, "%s needs %s", a, file ? "a FILE" : "key=value");
        return EDDY_ERR_INVALID_ARG;
    }
    const char *v = argv[++*i];
    if (file)
        return eddy_config_load_file(c, v, errstr, errstr_size) < 0 ? EDDY_ERR_CONFIG : 1;
    const char *eq = strchr(v, '=');
    if (!eq || eq == v) {
        snprintf(errstr, errstr_size, "-X %s: expected key=value", v);
        return EDDY_ERR_INVALID_ARG;
    }
    char key[256];
    if ((size_t)(eq - v) >= sizeof key) {
        snprintf(errstr, errstr_size, "-X %.40s...: key too long", v);
        return EDDY_ERR_INVALID_ARG;
    }
    memcpy(key, v, (size_t)(eq - v));
    key[eq - v] = 0;
    return eddy_config_set(c, key, eq + 1, errstr, errstr_size) < 0 ? EDDY_ERR_CONFIG : 1;
}

int eddy_config_load_file(eddy_config_t *c, const char *path, char *errstr, size_t errstr_size)
{
    eddy_props_t ps;
    eddy_props_init(&ps);
    int rc = eddy_props_load(&ps, path, errstr, errstr_size);
    for (size_t i = 0; rc == 0 && i < ps.ps_count; i++) {
        const eddy_prop_t *p = &ps.ps_items[i];
        char where[512];
        snprintf(where, sizeof where, "%s:%d", path, p->pr_line);
        rc = check_entry(p->pr_key, p->pr_value, where, errstr, errstr_size);
        if (rc == 0)
            rc = eddy_config_set(c, p->pr_key, p->pr_value, errstr, errstr_size);
    }
    eddy_props_free(&ps);
    return rc;
}

int sx_config_common_client_props(const sx_config_t *cfg, eddy_props_t *ps, char *errstr,
                                  size_t errstr_size)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < cfg->client_props.ps_count; i++) {
        const eddy_prop_t *p = &cfg->client_props.ps_items[i];
        if (!common_client_key(p->pr_key))
            continue;
        char kv[2048];
        snprintf(kv, sizeof kv, "%s=%s", p->pr_key, p->pr_value);
        rc = eddy_props_set(ps, p->pr_source ? p->pr_source : "config", kv, errstr, errstr_size);
    }
    return rc;
}

/* The producer.* settings, loaded as the stream threads' producer will load
 * them: a bad value (producer.compression.type=brotli, a level out of its
 * codec's range) is an error now, naming the setting, and not once the
 * cluster answers and the threads start. */
static int check_producer_props(const sx_config_t *cfg, char *errstr, size_t errstr_size)
{
    eddy_props_t ps;
    eddy_props_init(&ps);
    char err[512] = "";
    int rc = sx_config_common_client_props(cfg, &ps, err, sizeof err);
    for (size_t i = 0; rc == 0 && i < cfg->client_props.ps_count; i++) {
        const eddy_prop_t *p = &cfg->client_props.ps_items[i];
        if (strncmp(p->pr_key, "producer.", 9) != 0)
            continue;
        char kv[1024];
        snprintf(kv, sizeof kv, "%s=%s", p->pr_key + 9, p->pr_value);
        rc = eddy_props_set(&ps, p->pr_source ? p->pr_source : "config", kv, err, sizeof err);
    }
    kc_config_t kc;
    if (rc == 0) {
        rc = kc_config_load(&kc, &ps, err, sizeof err);
        kc_config_free(&kc);
    }
    eddy_props_free(&ps);
    if (rc < 0)
        snprintf(errstr, errstr_size, "%s%s", common_client_key(err) ? "" : "producer.", err);
    return rc;
}

/* processing.guarantee, as Kafka 4 takes it: at_least_once or
 * exactly_once_v2; exactly_once and exactly_once_beta were removed in
 * Kafka 4.0 and are refused by name. Under exactly_once_v2
 * commit.interval.ms defaults to 100 (Kafka Streams' EOS default) unless
 * set. */
static int processing_guarantee(sx_config_t *cfg, const eddy_config_t *c, char *errstr,
                                size_t errstr_size)
{
    const char *g = cfg->processing_guarantee;
    if (strcmp(g, "at_least_once") == 0) {
        cfg->eos = 0;
        return 0;
    }
    if (strcmp(g, "exactly_once") == 0 || strcmp(g, "exactly_once_beta") == 0) {
        snprintf(errstr, errstr_size,
                 "processing.guarantee '%s' was removed in Kafka 4.0 and is not supported: use "
                 "exactly_once_v2 (one transactional producer per stream thread)",
                 g);
        return EDDY_ERR_CONFIG;
    }
    if (strcmp(g, "exactly_once_v2") != 0) {
        snprintf(errstr, errstr_size,
                 "processing.guarantee '%s': use at_least_once or exactly_once_v2", g);
        return EDDY_ERR_CONFIG;
    }
    cfg->eos = 1;
    int interval_set = 0;
    long long txn_timeout = 10000; /* Kafka Streams' override, as thread.c sets it */
    for (size_t i = 0; c && i < c->cf_props.ps_count; i++) {
        const eddy_prop_t *p = &c->cf_props.ps_items[i];
        interval_set |= strcmp(p->pr_key, "commit.interval.ms") == 0;
        if (strcmp(p->pr_key, "producer.transaction.timeout.ms") == 0)
            txn_timeout = strtoll(p->pr_value, NULL, 10); /* checked as a client setting */
    }
    if (!interval_set)
        cfg->commit_interval_ms = 100;
    /* As Kafka Streams: a transaction lives about one commit interval, so a
     * shorter timeout would have the coordinator abort every one of them. */
    if (txn_timeout < cfg->commit_interval_ms) {
        snprintf(errstr, errstr_size,
                 "processing.guarantee=exactly_once_v2: producer.transaction.timeout.ms %lld is "
                 "below commit.interval.ms %d, so the coordinator would abort every transaction; "
                 "lower commit.interval.ms or raise producer.transaction.timeout.ms",
                 txn_timeout, (int)cfg->commit_interval_ms);
        return EDDY_ERR_CONFIG;
    }
    return 0;
}

int sx_config_load(sx_config_t *cfg, const eddy_config_t *c, char *errstr, size_t errstr_size)
{
    memset(cfg, 0, sizeof *cfg);
    eddy_props_init(&cfg->client_props);
    eddy_props_t own;
    eddy_props_init(&own);
    int rc = eddy_cfg_defaults(sx_config_defs, cfg, errstr, errstr_size);
    for (size_t i = 0; rc == 0 && c && i < c->cf_props.ps_count; i++) {
        const eddy_prop_t *p = &c->cf_props.ps_items[i];
        const char *rest;
        char kv[1024];
        snprintf(kv, sizeof kv, "%s=%s", p->pr_key, p->pr_value);
        /* Client keys keep their prefix: thread.c picks them per client. */
        rc = eddy_props_set(client_key(p->pr_key, &rest) ? &cfg->client_props : &own,
                            p->pr_source ? p->pr_source : "config", kv, errstr, errstr_size);
    }
    if (rc == 0)
        rc = eddy_cfg_apply(sx_config_defs, cfg, &own, errstr, errstr_size);
    eddy_props_free(&own);
    if (rc < 0)
        goto fail;
    rc = EDDY_ERR_CONFIG;
    if (!cfg->application_id || !cfg->application_id[0]) {
        snprintf(errstr, errstr_size,
                 "application.id is not set: every app needs one (its consumer group and the "
                 "prefix of its internal topics)");
        goto fail;
    }
    for (const char *s = cfg->application_id; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-')) {
            snprintf(errstr, errstr_size,
                     "application.id '%s': only letters, digits, '.', '_' and '-' may appear "
                     "(it names topics and a directory)",
                     cfg->application_id);
            goto fail;
        }
    if (processing_guarantee(cfg, c, errstr, errstr_size) < 0)
        goto fail;
    const char *h = cfg->deserialization_handler;
    if (strcmp(h, "log-and-continue") == 0 || strcmp(h, "org.apache.kafka.streams.errors."
                                                        "LogAndContinueExceptionHandler") == 0) {
        cfg->log_and_continue = 1;
    } else if (strcmp(h, "log-and-fail") == 0 || strcmp(h, "org.apache.kafka.streams.errors."
                                                           "LogAndFailExceptionHandler") == 0) {
        cfg->log_and_continue = 0;
    } else {
        snprintf(errstr, errstr_size,
                 "default.deserialization.exception.handler '%s': use log-and-fail or "
                 "log-and-continue",
                 h);
        goto fail;
    }
    static const struct {
        const char *key, *kafka_continue, *kafka_fail;
        int off;
    } handlers[] = {
        {"processing.exception.handler",
         "org.apache.kafka.streams.errors.LogAndContinueProcessingExceptionHandler",
         "org.apache.kafka.streams.errors.LogAndFailProcessingExceptionHandler", 0},
        {"production.exception.handler", NULL,
         "org.apache.kafka.streams.errors.DefaultProductionExceptionHandler", 1},
    };
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++) {
        const char *v = handlers[i].off ? cfg->production_handler : cfg->processing_handler;
        int *out = handlers[i].off ? &cfg->production_continue : &cfg->processing_continue;
        if (strcmp(v, "log-and-continue") == 0 ||
            (handlers[i].kafka_continue && strcmp(v, handlers[i].kafka_continue) == 0)) {
            *out = 1;
        } else if (strcmp(v, "log-and-fail") == 0 || strcmp(v, handlers[i].kafka_fail) == 0) {
            *out = 0;
        } else {
            snprintf(errstr, errstr_size, "%s '%s': use log-and-fail or log-and-continue",
                     handlers[i].key, v);
            goto fail;
        }
    }
    if (!sx_serde_by_name(cfg->default_key_serde) || !sx_serde_by_name(cfg->default_value_serde)) {
        snprintf(errstr, errstr_size,
                 "default.key.serde/default.value.serde: '%s' is not one of bytes, string, "
                 "int32, int64, double, msgpack",
                 sx_serde_by_name(cfg->default_key_serde) ? cfg->default_value_serde
                                                          : cfg->default_key_serde);
        goto fail;
    }
    if (strcmp(cfg->auto_offset_reset, "earliest") && strcmp(cfg->auto_offset_reset, "latest")) {
        snprintf(errstr, errstr_size, "auto.offset.reset '%s': use earliest or latest",
                 cfg->auto_offset_reset);
        goto fail;
    }
    if (check_producer_props(cfg, errstr, errstr_size) < 0)
        goto fail;
    return 0;
fail:
    sx_config_free(cfg);
    return rc < 0 ? rc : EDDY_ERR_CONFIG;
}

void sx_config_free(sx_config_t *cfg)
{
    eddy_cfg_free(sx_config_defs, cfg);
    eddy_props_free(&cfg->client_props);
}

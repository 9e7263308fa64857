#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"

static const char *const cleanup_policies[] = {"delete", "compact", NULL};
/* Bit i of sasl.enabled.mechanisms is choice i (broker/sasl.h: SASL_MECH_*);
 * the last two are Kafka's, refused at start (broker/sasl.c). */
static const char *const sasl_mechanisms[] = {"PLAIN",  "SCRAM-SHA-256", "SCRAM-SHA-512",
                                              "GSSAPI", "OAUTHBEARER",   NULL};

#define F(field) offsetof(broker_config_t, field)
#define BIG 9.2e18
const eddy_cfg_def_t broker_config_defs[] = {
    {"broker.id", CFG_INT32, F(broker_id), "0", 0, 2147483647, NULL, "this broker's node id"},
    {"listeners", CFG_STRING, F(listeners), "PLAINTEXT://127.0.0.1:9092", 0, 0, NULL,
     "listeners to open: NAME://host:port, comma-separated"},
    {"advertised.listeners", CFG_STRING, F(advertised_listeners), NULL, 0, 0, NULL,
     "address given to clients in metadata (default: listeners)"},
    {"listener.security.protocol.map", CFG_STRING, F(listener_security_protocol_map),
     "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL", 0, 0, NULL,
     "security protocol of each listener name"},
    {"log.dirs", CFG_STRING, F(log_dirs), "./eddy-data", 0, 0, NULL, "data directory"},
    {"num.partitions", CFG_INT32, F(num_partitions), "1", 1, 1000000, NULL,
     "partitions of auto-created topics"},
    {"max.broker.partitions", CFG_INT32, F(max_broker_partitions), "100000", 1, 2147483647, NULL,
     "most partitions of all topics together (CreateTopics past it: POLICY_VIOLATION)"},
    {"default.replication.factor", CFG_INT32, F(default_replication_factor), "1", 1, 1, NULL,
     "replicas per partition (one broker: 1)"},
    {"auto.create.topics.enable", CFG_BOOL, F(auto_create_topics_enable), "true", 0, 0, NULL,
     "create unknown topics on metadata requests"},
    {"message.max.bytes", CFG_INT32, F(message_max_bytes), "1048588", 0, 2147483647, NULL,
     "largest record batch"},
    {"message.max.inflated.bytes", CFG_INT64, F(message_max_inflated_bytes), "0", 0, BIG, NULL,
     "most bytes the records of one compressed batch may inflate to; 0: 64 x "
     "max.message.bytes, at least 64 MiB (Eddy)"},
    {"compression.type", CFG_ENUM, F(compression_type), "producer", 0, 0, log_compression_types,
     "default compression.type of topics"},
    {"compression.gzip.level", CFG_INT32, F(compression_gzip_level), "-1", -1, 9, NULL,
     "default compression.gzip.level of topics"},
    {"compression.lz4.level", CFG_INT32, F(compression_lz4_level), "9", 1, 17, NULL,
     "default compression.lz4.level of topics"},
    {"compression.zstd.level", CFG_INT32, F(compression_zstd_level), "3", -131072, 22, NULL,
     "default compression.zstd.level of topics"},
    {"log.message.timestamp.type", CFG_ENUM, F(log_message_timestamp_type), "CreateTime", 0, 0,
     log_timestamp_types, "default message.timestamp.type of topics"},
    {"socket.request.max.bytes", CFG_INT32, F(socket_request_max_bytes), "104857600", 64,
     2147483647, NULL, "largest request"},
    {"fetch.max.bytes", CFG_INT32, F(fetch_max_bytes), "8388608", 1024, 2147483647, NULL,
     "largest fetch response (at least one batch goes out regardless)"},
    {"queued.max.request.bytes", CFG_INT64, F(queued_max_request_bytes), "536870912", -1, BIG, NULL,
     "request bytes held across all connections; -1 for no limit"},
    {"connections.max.idle.ms", CFG_INT64, F(connections_max_idle_ms), "600000", -1, BIG, NULL,
     "close a connection idle this long; -1 never"},
    {"socket.request.timeout.ms", CFG_INT64, F(socket_request_timeout_ms), "30000", 1, BIG, NULL,
     "close a connection whose started request does not arrive in full within this (Eddy)"},
    {"max.connections", CFG_INT32, F(max_connections), "2147483647", 0, 2147483647, NULL,
     "connections accepted at once; more are refused"},
    {"max.connections.per.ip", CFG_INT32, F(max_connections_per_ip), "2147483647", 0, 2147483647,
     NULL, "connections accepted at once from one address; more are refused"},
    {"sasl.enabled.mechanisms", CFG_FLAGS, F(sasl_enabled_mechanisms),
     "SCRAM-SHA-256,SCRAM-SHA-512", 0, 0, sasl_mechanisms,
     "SASL mechanisms SASL listeners offer (Kafka's default GSSAPI is not available: Eddy's "
     "default is both SCRAM ones; PLAIN must be listed)"},
    {"sasl.server.max.receive.size", CFG_INT32, F(sasl_server_max_receive_size), "524288", 64,
     2147483647, NULL, "largest frame a connection may send before it has logged in"},
    {"connection.failed.authentication.delay.ms", CFG_INT64,
     F(connection_failed_authentication_delay_ms), "100", 0, BIG, NULL,
     "a failed login is answered and closed this much later"},
    {"log.segment.bytes", CFG_INT64, F(log_segment_bytes), "1073741824", 14, 2147483647, NULL,
     "segment size"},
    {"log.roll.ms", CFG_INT64, F(log_roll_ms), "-2", -2, BIG, NULL, "segment age (ms)"},
    {"log.roll.hours", CFG_INT64, F(log_roll_hours), "168", 1, 2147483647, NULL,
     "segment age (hours)"},
    {"log.retention.ms", CFG_INT64, F(log_retention_ms), "-2", -2, BIG, NULL,
     "retention (ms, -1 forever)"},
    {"log.retention.minutes", CFG_INT64, F(log_retention_minutes), "-2", -2, 2147483647, NULL,
     "retention (minutes)"},
    {"log.retention.hours", CFG_INT64, F(log_retention_hours), "168", -1, 2147483647, NULL,
     "retention (hours)"},
    {"log.retention.bytes", CFG_INT64, F(log_retention_bytes), "-1", -1, BIG, NULL,
     "retention by size per partition"},
    {"log.cleanup.policy", CFG_FLAGS, F(log_cleanup_policy), "delete", 0, 0, cleanup_policies,
     "delete, compact, or both"},
    {"log.index.interval.bytes", CFG_INT32, F(log_index_interval_bytes), "4096", 0, 2147483647,
     NULL, "bytes between index entries"},
    {"log.index.size.max.bytes", CFG_INT32, F(log_index_size_max_bytes), "10485760", 48, 2147483647,
     NULL, "largest offset index"},
    {"log.flush.interval.messages", CFG_INT64, F(log_flush_interval_messages),
     "9223372036854775807", 1, 9.3e18, NULL, "records between fsyncs"},
    {"log.flush.interval.ms", CFG_INT64, F(log_flush_interval_ms), "9223372036854775807", 0, 9.3e18,
     NULL, "ms between fsyncs"},
    {"log.retention.check.interval.ms", CFG_INT64, F(log_retention_check_interval_ms), "300000", 1,
     BIG, NULL, "how often retention runs"},
    {"producer.id.expiration.ms", CFG_INT64, F(producer_id_expiration_ms), "86400000", 1,
     2147483647, NULL,
     "forget an idempotent producer's state this long after its last batch's timestamp"},
    {"producer.id.expiration.check.interval.ms", CFG_INT64,
     F(producer_id_expiration_check_interval_ms), "600000", 1, 2147483647, NULL,
     "how often expired producer ids are removed"},
    {"transactional.id.expiration.ms", CFG_INT64, F(transactional_id_expiration_ms), "604800000", 1,
     2147483647, NULL, "forget a transactional id unused this long"},
    {"transaction.partition.verification.enable", CFG_BOOL,
     F(transaction_partition_verification_enable), "true", 0, 0, NULL,
     "refuse transactional offset commits to a partition the transaction did not add"},
    {"transaction.max.timeout.ms", CFG_INT32, F(transaction_max_timeout_ms), "900000", 1,
     2147483647, NULL, "longest transaction.timeout.ms a producer may ask for"},
    {"transaction.state.log.num.partitions", CFG_INT32, F(transaction_state_log_num_partitions),
     "50", 1, 100000, NULL, "partitions of __transaction_state (fixed once created)"},
    {"transaction.state.log.replication.factor", CFG_INT32,
     F(transaction_state_log_replication_factor), "1", 1, 1, NULL,
     "replicas of __transaction_state (one broker: 1)"},
    {"transaction.state.log.min.isr", CFG_INT32, F(transaction_state_log_min_isr), "1", 1, 1, NULL,
     "min.insync.replicas of __transaction_state (one broker: 1)"},
    {"transaction.state.log.segment.bytes", CFG_INT64, F(transaction_state_log_segment_bytes),
     "104857600", 14, 2147483647, NULL, "segment size of __transaction_state"},
    {"transaction.abort.timed.out.transaction.cleanup.interval.ms", CFG_INT64,
     F(transaction_abort_timed_out_transaction_cleanup_interval_ms), "10000", 1, 2147483647, NULL,
     "how often transactions past their timeout are aborted"},
    {"transaction.remove.expired.transaction.cleanup.interval.ms", CFG_INT64,
     F(transaction_remove_expired_transaction_cleanup_interval_ms), "3600000", 1, 2147483647, NULL,
     "how often expired transactional ids are removed"},
    {"log.cleaner.enable", CFG_BOOL, F(log_cleaner_enable), "true", 0, 0, NULL, "run compaction"},
    {"log.cleaner.backoff.ms", CFG_INT64, F(log_cleaner_backoff_ms), "15000", 0, BIG, NULL,
     "pause between compaction checks"},
    {"log.cleaner.delete.retention.ms", CFG_INT64, F(log_cleaner_delete_retention_ms), "86400000",
     0, BIG, NULL, "tombstone retention"},
    {"log.cleaner.min.cleanable.ratio", CFG_DOUBLE, F(log_cleaner_min_cleanable_ratio), "0.5", 0, 1,
     NULL, "dirty share that triggers compaction"},
    {"log.cleaner.min.compaction.lag.ms", CFG_INT64, F(log_cleaner_min_compaction_lag_ms), "0", 0,
     BIG, NULL, "default min.compaction.lag.ms of topics"},
    {"log.cleaner.max.compaction.lag.ms", CFG_INT64, F(log_cleaner_max_compaction_lag_ms),
     "9223372036854775807", 1, 9.3e18, NULL, "default max.compaction.lag.ms of topics"},
    {"log.segment.delete.delay.ms", CFG_INT64, F(log_segment_delete_delay_ms), "60000", 0, BIG,
     NULL, "default file.delete.delay.ms of topics"},
    {"log.message.timestamp.after.max.ms", CFG_INT64, F(log_message_timestamp_after_max_ms),
     "3600000", 0, 9.3e18, NULL, "default message.timestamp.after.max.ms of topics"},
    {"log.message.timestamp.before.max.ms", CFG_INT64, F(log_message_timestamp_before_max_ms),
     "9223372036854775807", 0, 9.3e18, NULL, "default message.timestamp.before.max.ms of topics"},
    {"min.insync.replicas", CFG_INT32, F(min_insync_replicas), "1", 1, 2147483647, NULL,
     "default min.insync.replicas of topics"},
    {"log.preallocate", CFG_BOOL, F(log_preallocate), "false", 0, 0, NULL,
     "default preallocate of topics"},
    {"unclean.leader.election.enable", CFG_BOOL, F(unclean_leader_election_enable), "false", 0, 0,
     NULL, "default unclean.leader.election.enable of topics"},
    {"log.max.open.files", CFG_INT32, F(log_max_open_files), "512", 8, 1000000, NULL,
     "segment files kept open at once (Eddy)"},
    {"group.min.session.timeout.ms", CFG_INT32, F(group_min_session_timeout_ms), "6000", 0,
     2147483647, NULL, "shortest session timeout a member may ask for"},
    {"group.max.session.timeout.ms", CFG_INT32, F(group_max_session_timeout_ms), "1800000", 0,
     2147483647, NULL, "longest session timeout a member may ask for"},
    {"group.initial.rebalance.delay.ms", CFG_INT32, F(group_initial_rebalance_delay_ms), "3000", 0,
     2147483647, NULL, "wait for more members before a new group's first rebalance"},
    {"offsets.topic.num.partitions", CFG_INT32, F(offsets_topic_num_partitions), "50", 1, 100000,
     NULL, "partitions of __consumer_offsets (fixed once created)"},
    {"offsets.topic.replication.factor", CFG_INT32, F(offsets_topic_replication_factor), "1", 1, 1,
     NULL, "replicas of __consumer_offsets (one broker: 1)"},
    {"offsets.topic.segment.bytes", CFG_INT64, F(offsets_topic_segment_bytes), "104857600", 14,
     2147483647, NULL, "segment size of __consumer_offsets"},
    {"offset.metadata.max.bytes", CFG_INT32, F(offset_metadata_max_bytes), "4096", 0, 2147483647,
     NULL, "largest metadata string of a committed offset"},
    {"log.level", CFG_STRING, F(log_level), "info", 0, 0, NULL,
     "error, warn, info or debug (Eddy)"},
    {"authorizer.class.name", CFG_STRING, F(authorizer_class_name), "", 0, 0, NULL,
     "turns ACLs on: org.apache.kafka.metadata.authorizer.StandardAuthorizer (or "
     "kafka.security.authorizer.AclAuthorizer, eddy.acl); empty: everything allowed"},
    {"super.users", CFG_STRING, F(super_users), "", 0, 0, NULL,
     "principals allowed everything, separated by ';' (User:admin;User:ops)"},
    {"allow.everyone.if.no.acl.found", CFG_BOOL, F(allow_everyone_if_no_acl_found), "false", 0, 0,
     NULL, "allow a resource that has no ACL at all (authorizer on)"},
    {NULL},
};
#undef F

/* The JAAS settings (sasl.jaas.config, listener.name.<l>.<mechanism>.sasl.jaas.config)
 * have names made of parts and are read by broker/sasl.c; the rest go through
 * the schema, where an unknown name is an error. */
int broker_config_load(broker_config_t *cfg, const eddy_props_t *props, char *errstr,
                       size_t errstr_size)
{
    memset(cfg, 0, sizeof *cfg);
    int rc = eddy_cfg_defaults(broker_config_defs, cfg, errstr, errstr_size);
    /* The TLS settings are read per listener when it opens (listener_tls.c);
     * they are checked here once the listeners are known. The JAAS settings
     * are read by broker/sasl.c. */
    for (size_t i = 0; rc == 0 && props && i < props->ps_count; i++) {
        const eddy_prop_t *p = &props->ps_items[i];
        if (broker_tls_is_key(p->pr_key) || broker_sasl_is_jaas_key(p->pr_key))
            continue;
        char where[512];
        if (p->pr_line)
            snprintf(where, sizeof where, "%s:%d", p->pr_source, p->pr_line);
        else
            snprintf(where, sizeof where, "%s", p->pr_source);
        rc = eddy_cfg_set(broker_config_defs, cfg, p->pr_key, p->pr_value, where, errstr,
                          errstr_size);
    }
    if (rc)
        return rc;
    rc = broker_listeners_parse(cfg->listeners, cfg->listener_security_protocol_map,
                                cfg->advertised_listeners, &cfg->listener_list, &cfg->nlisteners,
                                errstr, errstr_size);
    if (rc)
        return rc;
    for (size_t i = 0; props && i < props->ps_count; i++) {
        const eddy_prop_t *p = &props->ps_items[i];
        char why[900];
        if (broker_tls_key(cfg, p->pr_key, p->pr_value, why, sizeof why) < 0) {
            if (p->pr_line)
                snprintf(errstr, errstr_size, "%s:%d: %s", p->pr_source, p->pr_line, why);
            else
                snprintf(errstr, errstr_size, "%s: %s", p->pr_source, why);
            return EDDY_ERR_CONFIG;
        }
    }
    if (cfg->queued_max_request_bytes != -1 &&
        cfg->queued_max_request_bytes < cfg->socket_request_max_bytes) {
        snprintf(errstr, errstr_size,
                 "queued.max.request.bytes: %" PRId64 " is below socket.request.max.bytes (%d); "
                 "the largest request must fit (or -1 for no limit)",
                 cfg->queued_max_request_bytes, cfg->socket_request_max_bytes);
        return EDDY_ERR_CONFIG;
    }
    if (strchr(cfg->log_dirs, ',')) {
        snprintf(errstr, errstr_size, "log.dirs: '%s': Eddy uses one data directory",
                 cfg->log_dirs);
        return EDDY_ERR_CONFIG;
    }
    return 0;
}

void broker_config_free(broker_config_t *cfg)
{
    eddy_cfg_free(broker_config_defs, cfg);
    free(cfg->listener_list);
    cfg->listener_list = NULL;
    cfg->nlisteners = 0;
}

void broker_topic_defaults(const broker_config_t *cfg, log_config_t *out)
{
    log_config_default(out);
    out->segment_bytes = cfg->log_segment_bytes;
    out->segment_ms = cfg->log_roll_ms != -2 ? cfg->log_roll_ms : cfg->log_roll_hours * 3600000;
    if (cfg->log_retention_ms != -2)
        out->retention_ms = cfg->log_retention_ms;
    else if (cfg->log_retention_minutes != -2)
        out->retention_ms = cfg->log_retention_minutes * 60000;
    else
        out->retention_ms = cfg->log_retention_hours < 0 ? -1 : cfg->log_retention_hours * 3600000;
    out->retention_bytes = cfg->log_retention_bytes;
    out->cleanup_policy = cfg->log_cleanup_policy;
    out->index_interval_bytes = cfg->log_index_interval_bytes;
    out->segment_index_bytes = cfg->log_index_size_max_bytes;
    out->flush_messages = cfg->log_flush_interval_messages;
    out->flush_ms = cfg->log_flush_interval_ms;
    out->delete_retention_ms = cfg->log_cleaner_delete_retention_ms;
    out->min_cleanable_dirty_ratio = cfg->log_cleaner_min_cleanable_ratio;
    out->max_message_bytes = cfg->message_max_bytes;
    out->max_inflated_bytes = cfg->message_max_inflated_bytes;
    out->compression_type = cfg->compression_type;
    out->compression_gzip_level = cfg->compression_gzip_level;
    out->compression_lz4_level = cfg->compression_lz4_level;
    out->compression_zstd_level = cfg->compression_zstd_level;
    out->message_timestamp_type = cfg->log_message_timestamp_type;
    out->min_compaction_lag_ms = cfg->log_cleaner_min_compaction_lag_ms;
    out->max_compaction_lag_ms = cfg->log_cleaner_max_compaction_lag_ms;
    out->file_delete_delay_ms = cfg->log_segment_delete_delay_ms;
    out->message_timestamp_after_max_ms = cfg->log_message_timestamp_after_max_ms;
    out->message_timestamp_before_max_ms = cfg->log_message_timestamp_before_max_ms;
    out->min_insync_replicas = cfg->min_insync_replicas;
    out->preallocate = cfg->log_preallocate;
    out->unclean_leader_election_enable = cfg->unclean_leader_election_enable;
}

/* Kafka's dynamic broker settings that Eddy has, all safe to change live:
 * the topic defaults (every topic without its own value follows at once),
 * the cleaner's pace and the connection limits. */
const char *const broker_dynamic_configs[] = {"log.segment.bytes",
                                              "log.roll.ms",
                                              "log.roll.hours",
                                              "log.retention.ms",
                                              "log.retention.minutes",
                                              "log.retention.hours",
                                              "log.retention.bytes",
                                              "log.cleanup.policy",
                                              "log.index.interval.bytes",
                                              "log.flush.interval.messages",
                                              "log.flush.interval.ms",
                                              "log.cleaner.delete.retention.ms",
                                              "log.cleaner.min.cleanable.ratio",
                                              "log.cleaner.min.compaction.lag.ms",
                                              "log.cleaner.max.compaction.lag.ms",
                                              "log.cleaner.backoff.ms",
                                              "log.segment.delete.delay.ms",
                                              "log.preallocate",
                                              "log.message.timestamp.type",
                                              "log.message.timestamp.after.max.ms",
                                              "log.message.timestamp.before.max.ms",
                                              "message.max.bytes",
                                              "compression.type",
                                              "compression.gzip.level",
                                              "compression.lz4.level",
                                              "compression.zstd.level",
                                              "min.insync.replicas",
                                              "unclean.leader.election.enable",
                                              "max.connections",
                                              "max.connections.per.ip",
                                              NULL};

int broker_config_is_dynamic(const char *name)
{
    for (int i = 0; broker_dynamic_configs[i]; i++)
        if (strcmp(broker_dynamic_configs[i], name) == 0)
            return 1;
    return 0;
}

static const struct {
    const char *topic;
    const char *broker[4];
} topic_synonyms[] = {
    {"segment.bytes", {"log.segment.bytes"}},
    {"segment.ms", {"log.roll.ms", "log.roll.hours"}},
    {"retention.ms", {"log.retention.ms", "log.retention.minutes", "log.retention.hours"}},
    {"retention.bytes", {"log.retention.bytes"}},
    {"cleanup.policy", {"log.cleanup.policy"}},
    {"index.interval.bytes", {"log.index.interval.bytes"}},
    {"segment.index.bytes", {"log.index.size.max.bytes"}},
    {"flush.messages", {"log.flush.interval.messages"}},
    {"flush.ms", {"log.flush.interval.ms"}},
    {"delete.retention.ms", {"log.cleaner.delete.retention.ms"}},
    {"min.cleanable.dirty.ratio", {"log.cleaner.min.cleanable.ratio"}},
    {"min.compaction.lag.ms", {"log.cleaner.min.compaction.lag.ms"}},
    {"max.compaction.lag.ms", {"log.cleaner.max.compaction.lag.ms"}},
    {"file.delete.delay.ms", {"log.segment.delete.delay.ms"}},
    {"max.message.bytes", {"message.max.bytes"}},
    {"compression.type", {"compression.type"}},
    {"compression.gzip.level", {"compression.gzip.level"}},
    {"compression.lz4.level", {"compression.lz4.level"}},
    {"compression.zstd.level", {"compression.zstd.level"}},
    {"message.timestamp.type", {"log.message.timestamp.type"}},
    {"message.timestamp.after.max.ms", {"log.message.timestamp.after.max.ms"}},
    {"message.timestamp.before.max.ms", {"log.message.timestamp.before.max.ms"}},
    {"min.insync.replicas", {"min.insync.replicas"}},
    {"preallocate", {"log.preallocate"}},
    {"unclean.leader.election.enable", {"unclean.leader.election.enable"}},
};

const char *const *broker_topic_synonyms(const char *name)
{
    for (size_t i = 0; i < sizeof topic_synonyms / sizeof topic_synonyms[0]; i++)
        if (strcmp(topic_synonyms[i].topic, name) == 0)
            return topic_synonyms[i].broker;
    return NULL;
}

const char *const broker_secproto_names[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL",
                                             NULL};

/* The next comma-separated item of *sp, blanks trimmed, into item; 0 at the end. */
static int next_item(const char **sp, char *item, size_t item_size, int *too_long)
{
    const char *s = *sp;
    while (*s == ' ' || *s == '\t' || *s == ',')
        s++;
    if (!*s)
        return 0;
    const char *e = strchr(s, ',');
    if (!e)
        e = s + strlen(s);
    *sp = e;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *too_long = (size_t)(e - s) >= item_size;
    snprintf(item, item_size, "%.*s", (int)(e - s), s);
    return 1;
}

/* Listener names: letters, digits, '_' and '-', kept in upper case (Kafka
 * compares them case-insensitively through ListenerName.normalised). */
static int name_normalise(const char *s, size_t len, char *out, size_t out_size)
{
    if (len == 0 || len >= out_size)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        else if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
            return -1;
        out[i] = ch;
    }
    out[len] = 0;
    return 0;
}

/* "NAME://host:port", "NAME://[v6]:port", "NAME://:port" (every interface)
 * or the older "host:port" (PLAINTEXT). */
static int parse_endpoint(const char *s, char *name, size_t name_size, char *host, size_t host_size,
                          int *port)
{
    const char *p = strstr(s, "://");
    if (p) {
        if (name_normalise(s, (size_t)(p - s), name, name_size) < 0)
            return -1;
        s = p + 3;
    } else {
        snprintf(name, name_size, "PLAINTEXT");
    }
    const char *colon = strrchr(s, ':');
    if (!colon)
        return -1;
    const char *h = s, *he = colon;
    if (*h == '[') {
        if (he - h < 2 || he[-1] != ']')
            return -1;
        h++;
        he--;
    } else if (memchr(h, ':', (size_t)(he - h)) || (!p && he == h)) {
        return -1; /* an IPv6 address needs its brackets */
    }
    if ((size_t)(he - h) >= host_size)
        return -1;
    char *end;
    long v = strtol(colon + 1, &end, 10);
    if (*end || v < 0 || v > 65535 || end == colon + 1)
        return -1;
    snprintf(host, host_size, "%.*s", (int)(he - h), h);
    *port = (int)v;
    return 0;
}

static int find_listener(const broker_listener_cfg_t *l, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(l[i].lc_name, name) == 0)
            return i;
    return -1;
}

/* listener.security.protocol.map: NAME's protocol, or -1. */
static int map_lookup(const char *map, const char *name, char *errstr, size_t errstr_size)
{
    char item[160];
    int too_long;
    const char *m = map;
    while (next_item(&m, item, sizeof item, &too_long)) {
        char *colon = strchr(item, ':');
        char key[BROKER_LISTENER_NAME_MAX];
        if (too_long || !colon ||
            name_normalise(item, (size_t)(colon - item), key, sizeof key) < 0) {
            snprintf(errstr, errstr_size,
                     "listener.security.protocol.map: '%s' is not NAME:PROTOCOL", item);
            return -2;
        }
        int proto = -1;
        for (int i = 0; broker_secproto_names[i]; i++)
            if (strcasecmp(colon + 1, broker_secproto_names[i]) == 0)
                proto = i;
        if (proto < 0) {
            snprintf(errstr, errstr_size,
                     "listener.security.protocol.map: '%s' is not a security protocol "
                     "(PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL)",
                     colon + 1);
            return -2;
        }
        if (strcmp(key, name) == 0)
            return proto;
    }
    return -1;
}

int broker_listeners_parse(const char *listeners, const char *map, const char *advertised,
                           broker_listener_cfg_t **out, int *n, char *errstr, size_t errstr_size)
{
    *out = NULL;
    *n = 0;
    broker_listener_cfg_t *l = calloc(BROKER_LISTENERS_MAX, sizeof *l);
    if (!l) {
        snprintf(errstr, errstr_size, "out of memory");
        return -ENOMEM;
    }
    int nl = 0, too_long;
    char item[600];
    const char *s = listeners;
    while (next_item(&s, item, sizeof item, &too_long)) {
        if (nl == BROKER_LISTENERS_MAX) {
            snprintf(errstr, errstr_size, "listeners: more than %d listeners",
                     BROKER_LISTENERS_MAX);
            goto fail;
        }
        broker_listener_cfg_t *lc = &l[nl];
        if (too_long || parse_endpoint(item, lc->lc_name, sizeof lc->lc_name, lc->lc_host,
                                       sizeof lc->lc_host, &lc->lc_port) < 0) {
            snprintf(errstr, errstr_size,
                     "listeners: '%s' is not NAME://HOST:PORT (e.g. PLAINTEXT://127.0.0.1:9092)",
                     item);
            goto fail;
        }
        if (find_listener(l, nl, lc->lc_name) >= 0) {
            snprintf(errstr, errstr_size,
                     "listeners: the name %s appears twice; each listener needs a name of its own",
                     lc->lc_name);
            goto fail;
        }
        int proto = map_lookup(map, lc->lc_name, errstr, errstr_size);
        if (proto == -2)
            goto fail;
        if (proto < 0) {
            snprintf(errstr, errstr_size,
                     "listeners: no security protocol for the listener name %s: add "
                     "%s:<PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL> to "
                     "listener.security.protocol.map",
                     lc->lc_name, lc->lc_name);
            goto fail;
        }
        lc->lc_proto = (broker_secproto_t)proto;
        nl++;
    }
    if (nl == 0) {
        snprintf(errstr, errstr_size,
                 "listeners: no listener given (e.g. "
                 "PLAINTEXT://127.0.0.1:9092)");
        goto fail;
    }
    if (advertised) {
        int seen[BROKER_LISTENERS_MAX] = {0};
        s = advertised;
        while (next_item(&s, item, sizeof item, &too_long)) {
            char name[BROKER_LISTENER_NAME_MAX], host[256];
            int port;
            if (too_long || parse_endpoint(item, name, sizeof name, host, sizeof host, &port) < 0) {
                snprintf(errstr, errstr_size,
                         "advertised.listeners: '%s' is not NAME://HOST:PORT (e.g. "
                         "PLAINTEXT://broker1.example.com:9092)",
                         item);
                goto fail;
            }
            int i = find_listener(l, nl, name);
            if (i < 0) {
                snprintf(errstr, errstr_size,
                         "advertised.listeners: %s is not the name of one of the listeners "
                         "(%s)",
                         name, listeners);
                goto fail;
            }
            if (seen[i]++) {
                snprintf(errstr, errstr_size, "advertised.listeners: %s appears twice", name);
                goto fail;
            }
            if (!host[0] || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0) {
                snprintf(errstr, errstr_size,
                         "advertised.listeners: '%s' gives no address a client can reach; "
                         "name the host clients should connect to",
                         item);
                goto fail;
            }
            snprintf(l[i].lc_adv_host, sizeof l[i].lc_adv_host, "%s", host);
            l[i].lc_adv_port = port;
        }
    }
    *out = l;
    *n = nl;
    return 0;
fail:
    free(l);
    return EDDY_ERR_CONFIG;
}

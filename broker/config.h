/* Broker settings, with Kafka's names (server.properties). */
#ifndef EDDY_BROKER_CONFIG_H
#define EDDY_BROKER_CONFIG_H

#include <stdint.h>

#include "broker/log/log.h"
#include "common/config.h"

/* Kafka's security protocols: what a listener speaks. */
typedef enum broker_secproto {
    BROKER_SEC_PLAINTEXT,
    BROKER_SEC_SSL,
    BROKER_SEC_SASL_PLAINTEXT,
    BROKER_SEC_SASL_SSL,
} broker_secproto_t;

extern const char *const broker_secproto_names[]; /* "PLAINTEXT", ... by value */

#define BROKER_LISTENERS_MAX 16
#define BROKER_LISTENER_NAME_MAX 64

/* One listener as configured: listeners gives NAME://host:port,
 * listener.security.protocol.map the name's protocol, advertised.listeners
 * the address clients of this listener are told. */
typedef struct broker_listener_cfg {
    char lc_name[BROKER_LISTENER_NAME_MAX]; /* upper case, as Kafka normalises it */
    broker_secproto_t lc_proto;
    char lc_host[256];     /* "" binds every interface */
    int lc_port;           /* 0: a free port */
    char lc_adv_host[256]; /* "": derived from the bound address (server.c) */
    int lc_adv_port;       /* 0: the bound port */
} broker_listener_cfg_t;

typedef struct broker_config {
    int32_t broker_id;          /* broker.id */
    char *listeners;            /* listeners: NAME://host:port,... */
    char *advertised_listeners; /* advertised.listeners (default: listeners) */
    char *listener_security_protocol_map; /* listener.security.protocol.map */
    broker_listener_cfg_t *listener_list; /* parsed from the three above */
    int nlisteners;
    char *log_dirs;             /* log.dirs: one directory */
    int32_t num_partitions;     /* num.partitions */
    int32_t max_broker_partitions; /* max.broker.partitions: all topics' partitions together */
    int32_t default_replication_factor;
    int auto_create_topics_enable;
    int32_t message_max_bytes;        /* message.max.bytes */
    /* Eddy's own: the bound on a compressed batch's records; 0: derived. */
    int64_t message_max_inflated_bytes;
    int compression_type;             /* compression.type (topic default) */
    int32_t compression_gzip_level, compression_lz4_level, compression_zstd_level;
    int log_message_timestamp_type;   /* log.message.timestamp.type */
    int32_t socket_request_max_bytes; /* socket.request.max.bytes */
    int32_t fetch_max_bytes;          /* fetch.max.bytes: largest fetch response */
    int64_t queued_max_request_bytes; /* queued.max.request.bytes: request pool, -1 unbounded */
    int64_t connections_max_idle_ms;  /* connections.max.idle.ms, -1 never */
    int64_t socket_request_timeout_ms; /* Eddy: a request frame must arrive within this */
    int32_t max_connections;          /* max.connections */
    int32_t max_connections_per_ip;   /* max.connections.per.ip */
    int sasl_enabled_mechanisms;      /* sasl.enabled.mechanisms: bits, broker/sasl.h */
    int32_t sasl_server_max_receive_size; /* sasl.server.max.receive.size */
    int64_t connection_failed_authentication_delay_ms;
    int64_t log_segment_bytes;
    int64_t log_roll_ms, log_roll_hours;
    int64_t log_retention_ms, log_retention_minutes, log_retention_hours; /* -2: unset */
    int64_t log_retention_bytes;
    int log_cleanup_policy;
    int32_t log_index_interval_bytes;
    int32_t log_index_size_max_bytes;
    int64_t log_flush_interval_messages, log_flush_interval_ms;
    int64_t log_retention_check_interval_ms;
    int64_t producer_id_expiration_ms;             /* producer.id.expiration.ms */
    int64_t producer_id_expiration_check_interval_ms;
    int64_t transactional_id_expiration_ms;        /* transactional.id.expiration.ms */
    int32_t transaction_max_timeout_ms;            /* transaction.max.timeout.ms */
    int transaction_partition_verification_enable; /* transaction.partition.verification.enable */
    int32_t transaction_state_log_num_partitions;
    int32_t transaction_state_log_replication_factor, transaction_state_log_min_isr; /* 1 */
    int64_t transaction_state_log_segment_bytes;
    int64_t transaction_abort_timed_out_transaction_cleanup_interval_ms;
    int64_t transaction_remove_expired_transaction_cleanup_interval_ms;
    int log_cleaner_enable;
    int64_t log_cleaner_backoff_ms;
    int64_t log_cleaner_delete_retention_ms;
    double log_cleaner_min_cleanable_ratio;
    int64_t log_cleaner_min_compaction_lag_ms, log_cleaner_max_compaction_lag_ms;
    int64_t log_segment_delete_delay_ms;
    int64_t log_message_timestamp_after_max_ms, log_message_timestamp_before_max_ms;
    int32_t min_insync_replicas;
    int log_preallocate;
    int unclean_leader_election_enable;
    int32_t log_max_open_files; /* Eddy: segment files kept open at once */
    int32_t group_min_session_timeout_ms, group_max_session_timeout_ms;
    int32_t group_initial_rebalance_delay_ms;
    int32_t offsets_topic_num_partitions;
    int32_t offsets_topic_replication_factor;
    int64_t offsets_topic_segment_bytes;
    int32_t offset_metadata_max_bytes;
    char *log_level;            /* Eddy: error, warn, info, debug */
    char *authorizer_class_name; /* authorizer.class.name: "" or NULL = no authorization */
    char *super_users;           /* super.users: "User:a;User:b" */
    int allow_everyone_if_no_acl_found;
} broker_config_t;

extern const eddy_cfg_def_t broker_config_defs[];

/* Defaults, then props; errors name the file, line and key. */
int broker_config_load(broker_config_t *cfg, const eddy_props_t *props, char *errstr,
                       size_t errstr_size);
void broker_config_free(broker_config_t *cfg);

/* The topic defaults the broker settings imply (log.segment.bytes ->
 * segment.bytes, log.retention.hours -> retention.ms, ...). */
void broker_topic_defaults(const broker_config_t *cfg, log_config_t *out);

/* The settings AlterConfigs / IncrementalAlterConfigs may change while the
 * broker runs (resource BROKER), NULL-terminated; none is a string. */
extern const char *const broker_dynamic_configs[];
int broker_config_is_dynamic(const char *name);

/* The broker settings topic config name derives its default from, in
 * order of precedence (retention.ms: log.retention.ms, .minutes, .hours);
 * NULL-terminated, NULL when none. */
const char *const *broker_topic_synonyms(const char *name);

/* Parses listeners, listener.security.protocol.map and advertised.listeners
 * (advertised may be NULL) into *out (malloc'd, *n entries; the caller frees
 * it). Returns 0, or EDDY_ERR_CONFIG with a sentence naming the setting. */
int broker_listeners_parse(const char *listeners, const char *map, const char *advertised,
                           broker_listener_cfg_t **out, int *n, char *errstr, size_t errstr_size);

/* Whether key is a JAAS setting (sasl.jaas.config and its per-listener,
 * per-mechanism forms), which broker/sasl.c reads. */
int broker_sasl_is_jaas_key(const char *key);

/* Whether key is named like a TLS setting: ssl.* or listener.name.<l>.ssl.*
 * (checked by broker_tls_key once the listeners are known). */
int broker_tls_is_key(const char *key);

/* Whether key is a TLS setting (ssl.*, listener.name.<listener>.ssl.*,
 * listener_tls.c): 1 when it is one the broker knows, 0 when it is not a
 * TLS setting at all, EDDY_ERR_CONFIG with a sentence when it looks like one
 * but is unknown, names no listener, or has a value Eddy cannot honour.
 * cfg's listeners must be parsed. */
int broker_tls_key(const broker_config_t *cfg, const char *key, const char *value, char *errstr,
                   size_t errstr_size);

#endif

/* Eddy's Kafka client on libuv: connections to every broker of a cluster,
 * version negotiation, metadata, and request routing with retries. The
 * producer, consumer and admin parts (producer.h, consumer.h, admin.h)
 * build on this; the `eddy` command and the streams runtime use them.
 *
 * Threading: a client belongs to the libuv loop it was created on; every
 * call and every callback happens on that loop's thread. The caller runs
 * the loop (uv_run), or uses kc_run_until() to run it until a condition.
 *
 * Settings use the Java client's names (bootstrap.servers, client.id,
 * request.timeout.ms, ...); see kc_config_defs.
 */
#ifndef EDDY_CLIENT_H
#define EDDY_CLIENT_H

#include <errno.h>
#include <stdint.h>
#include <uv.h>

#include "common/buf.h"
#include "common/config.h"
#include "wire/proto.h"

typedef struct kc_client kc_client_t;

typedef struct kc_config {
    char *bootstrap_servers;    /* bootstrap.servers: host:port[,host:port...] */
    char *client_id;            /* client.id */
    int32_t request_timeout_ms; /* request.timeout.ms */
    int32_t retry_backoff_ms;   /* retry.backoff.ms */
    int32_t reconnect_backoff_ms;     /* reconnect.backoff.ms */
    int32_t reconnect_backoff_max_ms; /* reconnect.backoff.max.ms */
    int32_t socket_connection_setup_timeout_ms;     /* socket.connection.setup.timeout.ms */
    int32_t socket_connection_setup_timeout_max_ms; /* socket.connection.setup.timeout.max.ms */
    int32_t metadata_max_age_ms;      /* metadata.max.age.ms */
    /* TLS, librdkafka's names; each PEM item as a file (*_location) or as
     * PEM text (*_pem). ssl_endpoint_identification_algorithm: https (the
     * broker's certificate must name the host connected to) or none/"". */
    char *ssl_ca_location, *ssl_ca_pem;
    char *ssl_certificate_location, *ssl_certificate_pem;
    char *ssl_key_location, *ssl_key_pem, *ssl_key_password;
    char *ssl_endpoint_identification_algorithm;
    /* producer */
    int32_t batch_size;     /* batch.size */
    int32_t max_request_size; /* max.request.size: largest record kc_produce takes */
    int32_t linger_ms;      /* linger.ms */
    char *acks;             /* acks: 0, 1, all (-1) */
    int32_t retries;        /* retries */
    int32_t delivery_timeout_ms;  /* delivery.timeout.ms */
    int32_t max_in_flight;  /* max.in.flight.requests.per.connection */
    int enable_idempotence; /* enable.idempotence */
    int enable_idempotence_set; /* set in the properties, not by default */
    char *compression_type; /* compression.type: none, gzip, snappy, lz4, zstd */
    /* compression.level (librdkafka's; -1: the codec's default) and the Java
     * client's compression.{gzip,lz4,zstd}.level; NULL: unset. Read through
     * kc_config_compression(). */
    char *compression_level;
    char *compression_gzip_level, *compression_lz4_level, *compression_zstd_level;
    /* transactional.id (NULL: not transactional) and transaction.timeout.ms;
     * a transactional.id forces idempotence on (see producer.h) */
    char *transactional_id;
    int32_t transaction_timeout_ms;
    /* consumer */
    char *group_id;             /* group.id */
    char *group_instance_id;    /* group.instance.id */
    char *auto_offset_reset;    /* auto.offset.reset: earliest, latest, none */
    int enable_auto_commit;     /* enable.auto.commit */
    int32_t auto_commit_interval_ms;
    int32_t session_timeout_ms;
    int32_t heartbeat_interval_ms;
    int32_t max_poll_interval_ms;
    int32_t fetch_min_bytes;
    int32_t fetch_max_wait_ms;
    int32_t fetch_max_bytes;
    int32_t max_partition_fetch_bytes;
    char *partition_assignment_strategy; /* range, roundrobin, sticky (comma list) */
    char *isolation_level;      /* isolation.level: read_uncommitted, read_committed */
    /* security (librdkafka's names, which are also the Java client's but
     * for sasl.username/sasl.password, where Java has sasl.jaas.config) */
    char *security_protocol; /* PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL (any case) */
    char *sasl_mechanism;    /* sasl.mechanism: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 */
    char *sasl_mechanisms;   /* sasl.mechanisms: librdkafka's spelling of the same */
    char *sasl_username;     /* sasl.username */
    char *sasl_password;     /* sasl.password */
    /* sasl.jaas.config: the Java client's way to give the user and password
     * (PlainLoginModule / ScramLoginModule with username="" password=""),
     * read by kc_config_load into sasl_username and sasl_password */
    char *sasl_jaas_config;
} kc_config_t;

extern const eddy_cfg_def_t kc_config_defs[];

/* Defaults, then props (unknown keys are an error naming the key). */
int kc_config_load(kc_config_t *cfg, const eddy_props_t *props, char *errstr, size_t errstr_size);
void kc_config_free(kc_config_t *cfg);
/* The producer's codec (WIRE_CODEC_*) and level (WIRE_CODEC_LEVEL_DEFAULT:
 * the codec's own) from compression.type and the level settings:
 * compression.level when set, else the Java client's compression.<codec>.level
 * for the codec in use. Every level set is checked against its codec's range
 * (wire_codec_level_check). Returns 0 or EDDY_ERR_CONFIG with a sentence. */
int kc_config_compression(const kc_config_t *cfg, int *codec, int *level, char *errstr,
                          size_t errstr_size);

/* Whether the producer is idempotent, by Kafka's rules (since 3.2):
 * enable.idempotence (default true) needs acks=all, retries > 0 and
 * max.in.flight.requests.per.connection <= 5. When the user set it to true,
 * a conflicting setting is an error naming that setting (EDDY_ERR_CONFIG
 * with a sentence); when it is true by default, a conflicting setting turns
 * idempotence off and *why (may be NULL) names the setting. */
int kc_config_idempotence(const kc_config_t *cfg, int *enabled, const char **why, char *errstr,
                          size_t errstr_size);

/* Creates a client on loop; it starts connecting to the bootstrap servers
 * at once. NULL with a sentence in errstr on a bad setting. */
kc_client_t *kc_client_new(uv_loop_t *loop, const kc_config_t *cfg, char *errstr,
                           size_t errstr_size);
/* Fails everything pending with -ECANCELED, closes the connections, and
 * frees the client once libuv has closed its handles (run the loop). */
void kc_client_destroy(kc_client_t *c);

/* Runs the loop until done(opaque) is true or timeout_ms passes; returns 0
 * or -ETIMEDOUT, or the client's error once it gave up connecting (see
 * kc_client_fail_fast). For command-line tools and tests. */
int kc_run_until(kc_client_t *c, int (*done)(void *opaque), void *opaque, int64_t timeout_ms);

/* ---- brokers that cannot be reached ----
 *
 * A client retries a broker it cannot reach (connection refused, host not
 * resolved, socket.connection.setup.timeout.ms passed) for as long as
 * requests wait for it, after reconnect.backoff.ms doubling up to
 * reconnect.backoff.max.ms, and warns through a rate limit: one line per
 * broker per KC_LOG_INTERVAL_MS, with the count of attempts left out. That
 * is right for an application, which must ride out a cluster restart.
 *
 * A command-line tool wants the opposite, as librdkafka's ALL_BROKERS_DOWN
 * error tells its user at once: after kc_client_fail_fast(c, n), a client
 * that has never reached a broker gives up when every bootstrap address has
 * failed n attempts in a row. Then every request waiting for a connection
 * fails with the last attempt's error (-ECONNREFUSED, EDDY_ERR_RESOLVE,
 * -ETIMEDOUT, ...), kc_request and kc_metadata_refresh return that error,
 * and kc_run_until returns it at once. Once a broker has answered, the
 * client retries as usual (a broker restarting under `eddy topic consume`
 * is waited for).
 *
 * A broker that refuses the client's SASL login (EDDY_ERR_AUTH: wrong
 * password, unknown user, a mechanism the listener lacks) is an attempt
 * that failed, retried the same way by an application (logged as an error).
 * A fail-fast client gives up at the first refusal, even after it had been
 * connected: the credentials are wrong for the whole cluster. */
#define KC_LOG_INTERVAL_MS 10000
void kc_client_fail_fast(kc_client_t *c, int attempts);
/* The error the client gave up with, 0 while it has not; *why (may be NULL)
 * gets a sentence naming the address, such as "cannot connect to
 * 127.0.0.1:1: Connection refused", valid as long as the client. */
int kc_client_error(const kc_client_t *c, const char **why);

/* Fetches to a broker go on a connection of their own, beside the one for
 * everything else (Produce, Metadata, ListOffsets, admin calls; a group's
 * coordinator has a third, member.c): a broker processes one request per
 * connection at a time, and a Fetch long-polling for fetch.max.wait.ms must
 * not hold a Produce up. A client that only reads (a restore consumer) may
 * keep one connection per broker instead, its other requests then waiting
 * behind its fetches. Call before the first request. */
void kc_client_share_fetch_connection(kc_client_t *c);

/* ---- requests ---- */

/* Inside the client a request's result is one int: 0, an eddy_err (< 0) or
 * a Kafka error code (> 0). Callbacks get it as two, as kc_delivery_fn does:
 * err (0, or an eddy_err: -EIO for a Kafka error) and kafka_err (the Kafka
 * error code, or 0). */
static inline int kc_err_eddy(int err)
{
    return err > 0 ? -EIO : err;
}
static inline int16_t kc_err_kafka(int err)
{
    return err > 0 ? (int16_t)err : 0;
}

/* Called once the broker's versions are known: write the body for version v. */
typedef void(kc_encode_fn)(eddy_wr_t *wr, int16_t v, void *opaque);
/* The response body (after the header), or err < 0 (connection lost,
 * timeout: -ETIMEDOUT, no common version: -ENOTSUP). rd borrows the
 * response buffer for the duration of the call. */
typedef void(kc_response_fn)(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque);

#define KC_NODE_ANY (-1000) /* any connected broker (metadata, admin) */

/* Sends a request to node_id (a node of the metadata, or KC_NODE_ANY).
 * encode and done are called on the loop thread; opaque must live until
 * done was called. acks=0 produce requests pass expect_response 0: done is
 * called once the request is written. Returns 0, -ENOENT (unknown node), or
 * the client's error once it gave up connecting (kc_client_fail_fast); done
 * is not called then. */
int kc_request(kc_client_t *c, int32_t node_id, int16_t api_key, int expect_response,
               kc_encode_fn *encode, kc_response_fn *done, void *opaque);

/* ---- metadata ---- */

typedef struct kc_partition_meta {
    int32_t pm_partition;
    int32_t pm_leader; /* -1: none */
    int16_t pm_error;
    /* The nodes holding a copy, and those in sync with the leader; they
     * point into the allocation of tm_partitions. */
    const int32_t *pm_replicas;
    int32_t pm_nreplicas;
    const int32_t *pm_isr;
    int32_t pm_nisr;
} kc_partition_meta_t;

typedef struct kc_topic_meta {
    char *tm_name;
    int16_t tm_error;
    int tm_internal;
    int32_t tm_npartitions;
    kc_partition_meta_t *tm_partitions;
} kc_topic_meta_t;

/* Refreshes metadata for the named topics (NULL: every topic; allow_create:
 * let the broker auto-create them) and calls done(err) when the answer is in
 * the cache. */
typedef void(kc_done_fn)(kc_client_t *c, int err, void *opaque);
int kc_metadata_refresh(kc_client_t *c, const char *const *topics, int ntopics, int allow_create,
                        kc_done_fn *done, void *opaque);
/* The cached metadata of a topic, or NULL. Valid until the next refresh. */
const kc_topic_meta_t *kc_metadata_topic(const kc_client_t *c, const char *topic);
/* Every cached topic (n of them), for listing. */
const kc_topic_meta_t *kc_metadata_topics(const kc_client_t *c, int *n);
int32_t kc_metadata_controller(const kc_client_t *c);

uv_loop_t *kc_loop(kc_client_t *c);
const kc_config_t *kc_config(const kc_client_t *c);

/* Kafka errors a client retries after refreshing metadata. */
int kc_error_retriable(int16_t kafka_error);

#endif

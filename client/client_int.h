/* Private to client/: connections, requests in flight, the metadata cache. */
#ifndef EDDY_CLIENT_INT_H
#define EDDY_CLIENT_INT_H

#include <uv.h>

#include "client/client.h"
#include "common/arena.h"
#include "common/log.h"
#include "wire/frame.h"

#include "common/tls.h"

typedef struct kc_broker kc_broker_t;
typedef struct kc_req kc_req_t;

/* A request from submission to answer:
 *
 *   QUEUED --connection up--> encode --written--> IN_FLIGHT --response--> done()
 *      \________________ connection lost / timeout: done(err) ___________/
 */
struct kc_req {
    kc_req_t *rq_next;
    int16_t rq_api_key;
    int16_t rq_version;
    int32_t rq_correlation_id;
    int rq_expect_response;
    int rq_any; /* sent to KC_NODE_ANY: may move to another broker */
    int64_t rq_deadline_ms;
    kc_encode_fn *rq_encode;
    kc_response_fn *rq_done;
    void *rq_opaque;
};

/* A connection's life:
 *
 *   DOWN --resolve, TCP connect--> CONNECTING --SSL/SASL_SSL--> TLS_HANDSHAKE
 *     ^                               |                              |
 *     |                               +---- PLAINTEXT ----+----------+
 *     |                                                   v
 *     +------- any failure: broker_fail() ----------- NEGOTIATING (ApiVersions) --> UP
 *
 * NEGOTIATING covers ApiVersions and, with security.protocol SASL_*, the
 * SASL exchange (sasl.c): SaslHandshake, then SaslAuthenticate until the
 * mechanism is done. Until UP, a failure counts as a failed connection
 * attempt (attempt_failed), and socket.connection.setup.timeout.ms covers
 * CONNECTING and TLS_HANDSHAKE. Nothing queued is written before UP. */
enum kc_broker_state { KB_DOWN, KB_CONNECTING, KB_TLS_HANDSHAKE, KB_NEGOTIATING, KB_UP };

/* security.protocol, as Kafka's SecurityProtocol names it. */
enum kc_security_protocol {
    KC_SEC_PLAINTEXT,
    KC_SEC_SSL,
    KC_SEC_SASL_PLAINTEXT,
    KC_SEC_SASL_SSL,
};

/* Whether a protocol runs over TLS (SSL, SASL_SSL). */
#define KC_SEC_TLS(p) ((p) == KC_SEC_SSL || (p) == KC_SEC_SASL_SSL)

/* The protocol a security.protocol value names, in any case (the Java
 * client upper-cases, librdkafka writes lower case), or -1. */
int kc_security_protocol_parse(const char *name);

/* Checks the security settings of a config being loaded (called by
 * kc_config_load): a known security.protocol; sasl.mechanisms (librdkafka)
 * folded into sasl.mechanism, an error when both are set and differ; for
 * SASL_*, a mechanism this client speaks and a user name and password. */
int kc_config_security(kc_config_t *cfg, const eddy_props_t *props, char *errstr,
                       size_t errstr_size);

typedef struct kc_sasl kc_sasl_t; /* sasl.c: one connection's exchange */

/* What a connection carries. A broker takes one request per connection at a
 * time (Kafka's rule), so a Fetch long-polling for fetch.max.wait.ms would
 * hold whatever is behind it: fetches get a connection of their own, as
 * the Java consumer's fetches are apart from its producer's and its
 * coordinator's (member.c gives the coordinator a pseudo node of its own). */
enum kc_conn_purpose { KC_CONN_MAIN, KC_CONN_FETCH };

struct kc_broker {
    kc_broker_t *kb_next;
    kc_client_t *kb_client;
    int32_t kb_node_id; /* < 0: a bootstrap address */
    enum kc_conn_purpose kb_purpose; /* KC_CONN_FETCH: lives beside the node's main one */
    char kb_host[256];
    int kb_port;
    enum kc_broker_state kb_state;
    uv_tcp_t kb_tcp;
    uv_connect_t kb_connect;
    uv_getaddrinfo_t kb_resolve;
    int kb_handle_open;
    uv_timer_t kb_backoff;
    int32_t kb_backoff_ms;
    /* Connection attempts that failed in a row (resolution, connect,
     * ApiVersions) since the broker was last up, the last one's error, and
     * the limit on the warnings they log. */
    int kb_failures;
    int kb_last_err;
    char kb_last_why[512]; /* "cannot connect to host:port: Connection refused" */
    /* KB_CONNECTING: socket.connection.setup.timeout.ms and its deadline */
    int64_t kb_setup_ms, kb_setup_deadline_ms;
    eddy_log_limit_t kb_log_limit;
    /* versions the broker supports, from ApiVersions: [key] = {min, max}, -1 unknown */
    int16_t kb_ver_min[API_KEY_MAX + 1], kb_ver_max[API_KEY_MAX + 1];
    kc_req_t *kb_queue, *kb_queue_tail;       /* waiting for the connection */
    kc_req_t *kb_inflight, *kb_inflight_tail; /* written, answered in order */
    int kb_ninflight;
    wire_frame_t kb_fr; /* the response being read */
    kc_sasl_t *kb_sasl; /* the SASL exchange in progress (NEGOTIATING), or NULL */
    eddy_tls_t *kb_tls; /* SSL, SASL_SSL: the connection's TLS session (tls_conn_*) */
};

struct kc_client {
    uv_loop_t *c_loop;
    kc_config_t c_cfg;
    kc_broker_t *c_brokers;
    int32_t c_next_correlation;
    uv_timer_t c_timer; /* request timeouts, periodic metadata */
    int c_destroyed;
    int c_handles; /* libuv handles still open */
    int c_ever_up; /* a broker has answered ApiVersions once */
    int c_fetch_shared; /* kc_client_share_fetch_connection: fetches on the main connection */
    eddy_tls_ctx_t *c_tls; /* SSL, SASL_SSL: the TLS settings every connection shares */
    /* kc_client_fail_fast: attempts per bootstrap address before giving up
     * (0: never), and once given up, the error and its sentence. */
    int c_fail_fast_attempts;
    int c_fail_err;
    char c_fail_why[640];
    enum kc_security_protocol c_security; /* from security.protocol */
    /* metadata cache */
    kc_topic_meta_t *c_topics;
    int c_ntopics;
    int32_t c_controller;
    char c_cluster_id[128];
    int64_t c_metadata_ms;
    struct kc_producer *c_producer; /* set by the producer, told about metadata */
    struct kc_consumer *c_consumer;
};

/* The node's main connection (not its fetch one). */
kc_broker_t *kc_broker_find(kc_client_t *c, int32_t node_id);
/* Adds or updates a node from metadata. */
kc_broker_t *kc_broker_upsert(kc_client_t *c, int32_t node_id, const char *host, int port);

/* The last failure of a broker that is not up ("cannot connect to ...:
 * Connection refused"), or NULL: what a caller that timed out can tell its
 * user. Valid until the client's next connection attempt. */
const char *kc_client_last_failure(const kc_client_t *c);

/* The version of api_key a request to KC_NODE_ANY would use now: >= 0, -1
 * when the broker it would go to speaks no version of it this client
 * speaks, or -EAGAIN when no broker is connected yet (one is being
 * connected, or will be on the next request). */
int kc_any_api_version(kc_client_t *c, int16_t api_key);

/* A producer's sequence number base + n (n >= 0), as Kafka's
 * DefaultRecordBatch.incrementSequence: past 2147483647 it wraps to 0. */
int32_t kc_seq_add(int32_t base, int32_t n);

/* ---- what sasl.c needs from a connection (conn.c) ---- */

/* Writes a request on a connection that is NEGOTIATING, ahead of anything
 * queued (ApiVersions, the SASL exchange); done gets its answer, or an
 * error once the connection failed. Returns 0 or an error (the caller fails
 * the connection). */
int kc_conn_send_now(kc_broker_t *kb, int16_t api_key, int16_t version, kc_encode_fn *encode,
                     kc_response_fn *done, void *opaque);
/* The connection is ready for requests: UP, backoff reset, queue written. */
void kc_conn_ready(kc_broker_t *kb);
/* Fails the connection attempt: err and why go to the user as
 * attempt_failed describes; EDDY_ERR_AUTH is an authentication the broker
 * refused (see kc_client_fail_fast). */
void kc_conn_fail(kc_broker_t *kb, int err, const char *why);
/* "127.0.0.1:9093" or "node 1 at 127.0.0.1:9093", for sentences. */
const char *kc_conn_name(const kc_broker_t *kb, char *buf, size_t size);

/* ---- sasl.c ---- */

/* Starts the SASL exchange on a connection whose ApiVersions is in (with
 * security.protocol SASL_*); it ends in kc_conn_ready() or kc_conn_fail(). */
void kc_sasl_start(kc_broker_t *kb);
/* Frees the exchange of a connection that closed (NULL-safe). */
void kc_sasl_free(kc_broker_t *kb);

/* Hooks the producer and consumer register to hear about new metadata. */
void kc_producer_metadata_changed(struct kc_producer *p);
void kc_consumer_metadata_changed(struct kc_consumer *k);

#endif

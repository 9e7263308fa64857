/* Connections and requests: per broker, one TCP connection for fetches and
 * one for everything else (client_int.h, kc_conn_purpose), a TLS handshake
 * first with security.protocol SSL or SASL_SSL, then ApiVersions, then
 * requests written in order and answered in order (Kafka's guarantee per
 * connection), each with a deadline. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/client_int.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "wire/api.h"
#include "wire/client_api.h"

#define TIMER_MS 100
#define READ_BUF (64 * 1024)
#define MAX_RESPONSE (256 * 1024 * 1024) /* a bound before allocating a response */

static void broker_connect(kc_broker_t *kb);
static void on_backoff(uv_timer_t *t);
static void schedule_reconnect(kc_broker_t *kb);
static void attempt_failed(kc_broker_t *kb, int err, const char *detail);
static void move_any_requests(kc_broker_t *from);
static void broker_fail(kc_broker_t *kb, int err, const char *why);
static void broker_pump(kc_broker_t *kb);
static int conn_send(kc_broker_t *kb, uint8_t *bytes, size_t len, kc_req_t *fire_and_forget);
static int security_protocol_of(const char *name);
static void tls_start(kc_broker_t *kb);
static void tls_input(kc_broker_t *kb, const uint8_t *p, size_t n);

/* ---- settings ---- */

#define F(field) offsetof(kc_config_t, field)
const eddy_cfg_def_t kc_config_defs[] = {
    {"bootstrap.servers", CFG_STRING, F(bootstrap_servers), "localhost:9092", 0, 0, NULL,
     "host:port of one or more brokers"},
    {"client.id", CFG_STRING, F(client_id), "eddy", 0, 0, NULL, "name sent with every request"},
    {"request.timeout.ms", CFG_INT32, F(request_timeout_ms), "30000", 1, 2147483647, NULL, ""},
    {"retry.backoff.ms", CFG_INT32, F(retry_backoff_ms), "100", 0, 2147483647, NULL, ""},
    {"reconnect.backoff.ms", CFG_INT32, F(reconnect_backoff_ms), "50", 0, 2147483647, NULL, ""},
    {"reconnect.backoff.max.ms", CFG_INT32, F(reconnect_backoff_max_ms), "1000", 0, 2147483647,
     NULL, ""},
    {"socket.connection.setup.timeout.ms", CFG_INT32, F(socket_connection_setup_timeout_ms),
     "10000", 1, 2147483647, NULL,
     "a TCP connection not made by then fails (doubled per failure in a row)"},
    {"socket.connection.setup.timeout.max.ms", CFG_INT32, F(socket_connection_setup_timeout_max_ms),
     "30000", 1, 2147483647, NULL, "the most socket.connection.setup.timeout.ms grows to"},
    {"metadata.max.age.ms", CFG_INT32, F(metadata_max_age_ms), "300000", 0, 2147483647, NULL, ""},
    {"ssl.ca.location", CFG_STRING, F(ssl_ca_location), NULL, 0, 0, NULL,
     "PEM file (or directory) of the CA certificates that sign the brokers' (default: the "
     "system's)"},
    {"ssl.ca.pem", CFG_STRING, F(ssl_ca_pem), NULL, 0, 0, NULL, "the same as PEM text"},
    {"ssl.certificate.location", CFG_STRING, F(ssl_certificate_location), NULL, 0, 0, NULL,
     "PEM file of the client's certificate chain, for brokers that ask for one (mutual TLS)"},
    {"ssl.certificate.pem", CFG_STRING, F(ssl_certificate_pem), NULL, 0, 0, NULL,
     "the same as PEM text"},
    {"ssl.key.location", CFG_STRING, F(ssl_key_location), NULL, 0, 0, NULL,
     "PEM file of the client certificate's private key"},
    {"ssl.key.pem", CFG_STRING, F(ssl_key_pem), NULL, 0, 0, NULL, "the same as PEM text"},
    {"ssl.key.password", CFG_STRING, F(ssl_key_password), NULL, 0, 0, NULL,
     "password of an encrypted private key"},
    {"ssl.endpoint.identification.algorithm", CFG_STRING, F(ssl_endpoint_identification_algorithm),
     "https", 0, 0, NULL,
     "https: a broker's certificate must name the host connected to; none: not checked"},
    {"batch.size", CFG_INT32, F(batch_size), "16384", 0, 2147483647, NULL, ""},
    {"max.request.size", CFG_INT32, F(max_request_size), "1048576", 1, 2147483647, NULL,
     "largest record the producer sends (Kafka's check before sending)"},
    {"linger.ms", CFG_INT32, F(linger_ms), "5", 0, 2147483647, NULL, ""},
    {"acks", CFG_STRING, F(acks), "all", 0, 0, NULL, "0, 1 or all"},
    {"retries", CFG_INT32, F(retries), "2147483647", 0, 2147483647, NULL, ""},
    {"delivery.timeout.ms", CFG_INT32, F(delivery_timeout_ms), "120000", 1, 2147483647, NULL, ""},
    {"max.in.flight.requests.per.connection", CFG_INT32, F(max_in_flight), "5", 1, 1000, NULL, ""},
    {"enable.idempotence", CFG_BOOL, F(enable_idempotence), "true", 0, 0, NULL,
     "producer ids and sequence numbers: a retry never writes a record twice (needs acks=all, "
     "retries > 0, max.in.flight.requests.per.connection <= 5)"},
    {"compression.type", CFG_STRING, F(compression_type), "none", 0, 0, NULL,
     "none, gzip, snappy, lz4 or zstd: the codec of the producer's batches"},
    {"compression.level", CFG_STRING, F(compression_level), NULL, 0, 0, NULL,
     "level of the codec in use (-1: its default); gzip 1-9, lz4 1-17, zstd -131072-22"},
    {"compression.gzip.level", CFG_STRING, F(compression_gzip_level), NULL, 0, 0, NULL,
     "1-9 (-1: default), when compression.level is unset"},
    {"compression.lz4.level", CFG_STRING, F(compression_lz4_level), NULL, 0, 0, NULL,
     "1-17, when compression.level is unset"},
    {"compression.zstd.level", CFG_STRING, F(compression_zstd_level), NULL, 0, 0, NULL,
     "-131072-22, when compression.level is unset"},
    {"transactional.id", CFG_STRING, F(transactional_id), NULL, 0, 0, NULL,
     "makes the producer transactional (forces enable.idempotence on)"},
    {"transaction.timeout.ms", CFG_INT32, F(transaction_timeout_ms), "60000", 1, 2147483647, NULL,
     "the coordinator aborts a transaction open longer than this"},
    {"group.id", CFG_STRING, F(group_id), NULL, 0, 0, NULL, ""},
    {"group.instance.id", CFG_STRING, F(group_instance_id), NULL, 0, 0, NULL, ""},
    {"auto.offset.reset", CFG_STRING, F(auto_offset_reset), "latest", 0, 0, NULL,
     "earliest, latest or none"},
    {"enable.auto.commit", CFG_BOOL, F(enable_auto_commit), "true", 0, 0, NULL, ""},
    {"auto.commit.interval.ms", CFG_INT32, F(auto_commit_interval_ms), "5000", 1, 2147483647, NULL,
     ""},
    {"session.timeout.ms", CFG_INT32, F(session_timeout_ms), "45000", 1, 2147483647, NULL, ""},
    {"heartbeat.interval.ms", CFG_INT32, F(heartbeat_interval_ms), "3000", 1, 2147483647, NULL, ""},
    {"max.poll.interval.ms", CFG_INT32, F(max_poll_interval_ms), "300000", 1, 2147483647, NULL, ""},
    {"fetch.min.bytes", CFG_INT32, F(fetch_min_bytes), "1", 0, 2147483647, NULL, ""},
    {"fetch.max.wait.ms", CFG_INT32, F(fetch_max_wait_ms), "500", 0, 2147483647, NULL, ""},
    {"fetch.max.bytes", CFG_INT32, F(fetch_max_bytes), "52428800", 0, 2147483647, NULL, ""},
    {"max.partition.fetch.bytes", CFG_INT32, F(max_partition_fetch_bytes), "1048576", 0, 2147483647,
     NULL, ""},
    {"isolation.level", CFG_STRING, F(isolation_level), "read_uncommitted", 0, 0, NULL,
     "read_uncommitted or read_committed (records of open and aborted transactions hidden)"},
    {"partition.assignment.strategy", CFG_STRING, F(partition_assignment_strategy),
     "range,roundrobin", 0, 0, NULL, "range, roundrobin, sticky"},
    {"security.protocol", CFG_STRING, F(security_protocol), "PLAINTEXT", 0, 0, NULL,
     "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL (any case)"},
    {"sasl.mechanism", CFG_STRING, F(sasl_mechanism), "GSSAPI", 0, 0, NULL,
     "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (Kafka's default GSSAPI is not supported)"},
    {"sasl.mechanisms", CFG_STRING, F(sasl_mechanisms), NULL, 0, 0, NULL,
     "librdkafka's name for sasl.mechanism"},
    {"sasl.username", CFG_STRING, F(sasl_username), NULL, 0, 0, NULL, "SASL user name"},
    {"sasl.password", CFG_STRING, F(sasl_password), NULL, 0, 0, NULL, "SASL password"},
    {"sasl.jaas.config", CFG_STRING, F(sasl_jaas_config), NULL, 0, 0, NULL,
     "the Java client's form: org.apache.kafka.common.security.plain.PlainLoginModule (or "
     "scram.ScramLoginModule) required username=\"...\" password=\"...\";"},
    {NULL},
};
#undef F

int kc_config_load(kc_config_t *cfg, const eddy_props_t *props, char *errstr, size_t errstr_size)
{
    memset(cfg, 0, sizeof *cfg);
    int rc = eddy_cfg_defaults(kc_config_defs, cfg, errstr, errstr_size);
    if (rc == 0 && props)
        rc = eddy_cfg_apply(kc_config_defs, cfg, props, errstr, errstr_size);
    if (rc == 0 && strcmp(cfg->acks, "0") && strcmp(cfg->acks, "1") && strcmp(cfg->acks, "all") &&
        strcmp(cfg->acks, "-1")) {
        snprintf(errstr, errstr_size, "acks: '%s' is not 0, 1 or all", cfg->acks);
        rc = EDDY_ERR_CONFIG;
    }
    if (rc == 0 && strcmp(cfg->auto_offset_reset, "earliest") &&
        strcmp(cfg->auto_offset_reset, "latest") && strcmp(cfg->auto_offset_reset, "none")) {
        snprintf(errstr, errstr_size, "auto.offset.reset: '%s' is not earliest, latest or none",
                 cfg->auto_offset_reset);
        rc = EDDY_ERR_CONFIG;
    }
    if (rc == 0 && strcmp(cfg->isolation_level, "read_uncommitted") &&
        strcmp(cfg->isolation_level, "read_committed")) {
        snprintf(errstr, errstr_size,
                 "isolation.level: '%s' is not read_uncommitted or read_committed",
                 cfg->isolation_level);
        rc = EDDY_ERR_CONFIG;
    }
    if (rc == 0 && security_protocol_of(cfg->security_protocol) < 0) {
        snprintf(errstr, errstr_size,
                 "security.protocol: '%s' is not PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL",
                 cfg->security_protocol);
        rc = EDDY_ERR_CONFIG;
    }
    const char *eia = cfg->ssl_endpoint_identification_algorithm;
    if (rc == 0 && eia && *eia && strcasecmp(eia, "https") && strcasecmp(eia, "none")) {
        snprintf(errstr, errstr_size,
                 "ssl.endpoint.identification.algorithm: '%s' is not https or none", eia);
        rc = EDDY_ERR_CONFIG;
    }
    int codec, level;
    if (rc == 0)
        rc = kc_config_compression(cfg, &codec, &level, errstr, errstr_size);
    if (rc == 0)
        rc = kc_config_security(cfg, props, errstr, errstr_size);
    if (rc == 0) {
        cfg->enable_idempotence_set = props && eddy_props_get(props, "enable.idempotence") != NULL;
        int idem;
        rc = kc_config_idempotence(cfg, &idem, NULL, errstr, errstr_size);
    }
    return rc;
}

int kc_config_idempotence(const kc_config_t *cfg, int *enabled, const char **why, char *errstr,
                          size_t errstr_size)
{
    const char *conflict = NULL;
    if (strcmp(cfg->acks, "all") != 0 && strcmp(cfg->acks, "-1") != 0)
        conflict = "acks must be all";
    else if (cfg->retries == 0)
        conflict = "retries must be greater than 0";
    else if (cfg->max_in_flight > 5)
        conflict = "max.in.flight.requests.per.connection must be at most 5";
    if (cfg->transactional_id) {
        /* Kafka: a transactional producer is idempotent, whatever the
         * defaults would have allowed. */
        if (cfg->enable_idempotence_set && !cfg->enable_idempotence) {
            snprintf(errstr, errstr_size,
                     "transactional.id is set, which needs idempotence, but "
                     "enable.idempotence=false; remove one of the two settings");
            return EDDY_ERR_CONFIG;
        }
        if (conflict) {
            snprintf(errstr, errstr_size,
                     "transactional.id is set: %s for the idempotent producer a transaction "
                     "needs (acks is %s, retries %d, max.in.flight.requests.per.connection %d)",
                     conflict, cfg->acks, cfg->retries, cfg->max_in_flight);
            return EDDY_ERR_CONFIG;
        }
        if (!*cfg->transactional_id) {
            snprintf(errstr, errstr_size, "transactional.id: must not be empty");
            return EDDY_ERR_CONFIG;
        }
        *enabled = 1;
        if (why)
            *why = NULL;
        return 0;
    }
    *enabled = cfg->enable_idempotence && !conflict;
    if (why)
        *why = cfg->enable_idempotence ? conflict : NULL;
    if (cfg->enable_idempotence && cfg->enable_idempotence_set && conflict) {
        snprintf(errstr, errstr_size,
                 "enable.idempotence=true: %s for the idempotent producer "
                 "(acks is %s, retries %d, max.in.flight.requests.per.connection %d); set "
                 "enable.idempotence=false to produce without it",
                 conflict, cfg->acks, cfg->retries, cfg->max_in_flight);
        return EDDY_ERR_CONFIG;
    }
    return 0;
}

/* security.protocol, in any case (the Java client upper-cases, librdkafka
 * writes lower case): its enum kc_security_protocol, or -1. */
static int security_protocol_of(const char *name)
{
    static const char *const names[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"};
    for (int i = 0; i < 4; i++)
        if (name && strcasecmp(name, names[i]) == 0)
            return i;
    return -1;
}

void kc_config_free(kc_config_t *cfg)
{
    eddy_cfg_free(kc_config_defs, cfg);
}

int kc_error_retriable(int16_t e)
{
    switch (e) {
    case KERR_NOT_LEADER_OR_FOLLOWER:
    case KERR_LEADER_NOT_AVAILABLE:
    case KERR_UNKNOWN_TOPIC_OR_PARTITION:
    case KERR_REQUEST_TIMED_OUT:
    case KERR_NOT_COORDINATOR:
    case KERR_COORDINATOR_NOT_AVAILABLE:
    case KERR_COORDINATOR_LOAD_IN_PROGRESS:
    case KERR_KAFKA_STORAGE_ERROR:
    /* a cluster with fewer in-sync replicas than min.insync.replicas
     * (acks=all), or a broker's own connection trouble: Kafka retries */
    case KERR_NETWORK_EXCEPTION:
    case KERR_NOT_ENOUGH_REPLICAS:
    case KERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND: return 1;
    default: return 0;
    }
}

/* ---- brokers ---- */

static kc_broker_t *conn_find(kc_client_t *c, int32_t node_id, enum kc_conn_purpose purpose)
{
    for (kc_broker_t *kb = c->c_brokers; kb; kb = kb->kb_next)
        if (kb->kb_node_id == node_id && kb->kb_purpose == purpose)
            return kb;
    return NULL;
}

kc_broker_t *kc_broker_find(kc_client_t *c, int32_t node_id)
{
    return conn_find(c, node_id, KC_CONN_MAIN);
}

static kc_broker_t *conn_new(kc_client_t *c, int32_t node_id, enum kc_conn_purpose purpose,
                             const char *host, int port)
{
    kc_broker_t *kb = calloc(1, sizeof *kb);
    if (!kb)
        return NULL;
    kb->kb_client = c;
    kb->kb_node_id = node_id;
    kb->kb_purpose = purpose;
    snprintf(kb->kb_host, sizeof kb->kb_host, "%s", host);
    kb->kb_port = port;
    kb->kb_state = KB_DOWN;
    kb->kb_backoff_ms = c->c_cfg.reconnect_backoff_ms;
    uv_timer_init(c->c_loop, &kb->kb_backoff);
    kb->kb_backoff.data = kb;
    c->c_handles++;
    for (int i = 0; i <= API_KEY_MAX; i++)
        kb->kb_ver_min[i] = kb->kb_ver_max[i] = -1;
    kb->kb_next = c->c_brokers;
    c->c_brokers = kb;
    return kb;
}

kc_broker_t *kc_broker_upsert(kc_client_t *c, int32_t node_id, const char *host, int port)
{
    kc_broker_t *main = kc_broker_find(c, node_id);
    if (!main)
        return conn_new(c, node_id, KC_CONN_MAIN, host, port);
    /* Both of the node's connections follow its address. */
    for (kc_broker_t *kb = c->c_brokers; kb; kb = kb->kb_next) {
        if (kb->kb_node_id != node_id || (strcmp(kb->kb_host, host) == 0 && kb->kb_port == port))
            continue;
        snprintf(kb->kb_host, sizeof kb->kb_host, "%s", host);
        kb->kb_port = port;
        if (kb->kb_state != KB_DOWN)
            broker_fail(kb, -ECONNRESET, "its address changed");
    }
    return main;
}

/* The connection a request to the node goes on: fetches on the node's fetch
 * connection, made when first needed, everything else on its main one. */
static kc_broker_t *conn_for(kc_client_t *c, kc_broker_t *main, int16_t api_key)
{
    if (api_key != API_FETCH || c->c_fetch_shared)
        return main;
    kc_broker_t *kb = conn_find(c, main->kb_node_id, KC_CONN_FETCH);
    return kb ? kb : conn_new(c, main->kb_node_id, KC_CONN_FETCH, main->kb_host, main->kb_port);
}

void kc_client_share_fetch_connection(kc_client_t *c)
{
    c->c_fetch_shared = 1;
}

/* ---- requests ---- */

static void req_finish(kc_client_t *c, kc_req_t *r, int err, int16_t v, eddy_rd_t *rd)
{
    if (r->rq_done)
        r->rq_done(c, err, v, rd, r->rq_opaque);
    free(r);
}

static void queue_push(kc_req_t **head, kc_req_t **tail, kc_req_t *r)
{
    r->rq_next = NULL;
    if (*tail)
        (*tail)->rq_next = r;
    else
        *head = r;
    *tail = r;
}

static kc_req_t *queue_pop(kc_req_t **head, kc_req_t **tail)
{
    kc_req_t *r = *head;
    if (r) {
        *head = r->rq_next;
        if (!*head)
            *tail = NULL;
    }
    return r;
}

static kc_broker_t *pick_any(kc_client_t *c)
{
    kc_broker_t *best = NULL;
    for (kc_broker_t *kb = c->c_brokers; kb; kb = kb->kb_next) {
        if (kb->kb_purpose != KC_CONN_MAIN)
            continue;
        /* Prefer a connected node, one of the metadata over a bootstrap
         * address; else the node with the fewest failed attempts in a row. */
        if (kb->kb_state == KB_UP && (!best || best->kb_state != KB_UP || best->kb_node_id < 0))
            best = kb;
        else if (!best || (best->kb_state != KB_UP && kb->kb_failures < best->kb_failures))
            best = kb;
    }
    return best;
}

int kc_any_api_version(kc_client_t *c, int16_t api_key)
{
    kc_broker_t *kb = pick_any(c);
    if (!kb || kb->kb_state != KB_UP)
        return -EAGAIN;
    return wire_pick_version(api_key, kb->kb_ver_min[api_key], kb->kb_ver_max[api_key]);
}

int kc_request(kc_client_t *c, int32_t node_id, int16_t api_key, int expect_response,
               kc_encode_fn *encode, kc_response_fn *done, void *opaque)
{
    if (c->c_fail_err && !c->c_destroyed)
        return c->c_fail_err;
    kc_broker_t *kb = node_id == KC_NODE_ANY ? pick_any(c) : kc_broker_find(c, node_id);
    if (!kb || c->c_destroyed)
        return -ENOENT;
    if (!(kb = conn_for(c, kb, api_key)))
        return -ENOMEM;
    kc_req_t *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->rq_api_key = api_key;
    r->rq_any = node_id == KC_NODE_ANY;
    r->rq_expect_response = expect_response;
    r->rq_encode = encode;
    r->rq_done = done;
    r->rq_opaque = opaque;
    r->rq_deadline_ms = eddy_mono_ms() + c->c_cfg.request_timeout_ms;
    queue_push(&kb->kb_queue, &kb->kb_queue_tail, r);
    /* A node whose last attempt failed is tried again after the reconnect
     * backoff, not at once: its requests fail with each failed attempt
     * (fail_node_requests), and a caller retrying at once would otherwise
     * spin on a dead node. */
    if (kb->kb_state == KB_DOWN && !uv_is_active((uv_handle_t *)&kb->kb_backoff)) {
        if (kb->kb_failures > 0)
            schedule_reconnect(kb);
        else
            broker_connect(kb);
    } else {
        broker_pump(kb);
    }
    return 0;
}

typedef struct write_ctx {
    uv_write_t wc_req;
    uint8_t *wc_bytes;
    kc_req_t *wc_fire_and_forget; /* acks=0: done once written */
    kc_broker_t *wc_broker;
} write_ctx_t;

static void on_write(uv_write_t *w, int status);

/* Writes bytes (taken over, freed once written or on failure) to the
 * socket; fire_and_forget, if any, is done once they are written, and
 * stays the caller's when this fails. */
static int socket_write(kc_broker_t *kb, uint8_t *bytes, size_t len, kc_req_t *fire_and_forget)
{
    write_ctx_t *wc = calloc(1, sizeof *wc);
    if (!wc) {
        free(bytes);
        return -ENOMEM;
    }
    wc->wc_bytes = bytes;
    wc->wc_broker = kb;
    wc->wc_fire_and_forget = fire_and_forget;
    uv_buf_t buf = uv_buf_init((char *)bytes, (unsigned)len);
    int rc = uv_write(&wc->wc_req, (uv_stream_t *)&kb->kb_tcp, &buf, 1, on_write);
    if (rc < 0) {
        free(bytes);
        free(wc);
    }
    return rc;
}

static void on_write(uv_write_t *w, int status)
{
    write_ctx_t *wc = (write_ctx_t *)w;
    kc_broker_t *kb = wc->wc_broker;
    free(wc->wc_bytes);
    if (wc->wc_fire_and_forget)
        req_finish(kb->kb_client, wc->wc_fire_and_forget, status < 0 ? -EIO : 0, 0, NULL);
    free(wc);
    if (status < 0 && kb->kb_state != KB_DOWN)
        broker_fail(kb, -EIO, uv_strerror(status));
}

/* Writes one request; ApiVersions goes out before anything else. */
static int broker_write(kc_broker_t *kb, kc_req_t *r)
{
    kc_client_t *c = kb->kb_client;
    eddy_wr_t wr;
    wr_init(&wr);
    wr_reserve(&wr, 4);
    RequestHeader h = {r->rq_api_key, r->rq_version, r->rq_correlation_id,
                       kstr_c(c->c_cfg.client_id), 1};
    wire_request_header_encode(&wr, &h);
    if (r->rq_encode)
        r->rq_encode(&wr, r->rq_version, r->rq_opaque);
    if (wr.wr_err) {
        int err = wr.wr_err; /* wr_free clears it */
        wr_free(&wr);
        return err;
    }
    be32_store(wr.wr_buf, (uint32_t)(wr.wr_len - 4));
    size_t len;
    uint8_t *bytes = wr_take(&wr, &len);
    int rc = conn_send(kb, bytes, len, r->rq_expect_response ? NULL : r);
    if (rc < 0)
        return rc;
    if (r->rq_expect_response) {
        queue_push(&kb->kb_inflight, &kb->kb_inflight_tail, r);
        kb->kb_ninflight++;
    }
    return 0;
}

/* Sends what is queued, once the connection is negotiated. */
static void broker_pump(kc_broker_t *kb)
{
    kc_client_t *c = kb->kb_client;
    while (kb->kb_state == KB_UP && kb->kb_queue) {
        kc_req_t *r = queue_pop(&kb->kb_queue, &kb->kb_queue_tail);
        int v = wire_pick_version(r->rq_api_key, kb->kb_ver_min[r->rq_api_key],
                                  kb->kb_ver_max[r->rq_api_key]);
        if (v < 0) {
            EDDY_LOG_WARN("client",
                          "broker %d (%s:%d) supports no version of %s this client speaks",
                          kb->kb_node_id, kb->kb_host, kb->kb_port, kafka_api_name(r->rq_api_key));
            req_finish(c, r, -ENOTSUP, 0, NULL);
            continue;
        }
        r->rq_version = (int16_t)v;
        r->rq_correlation_id = c->c_next_correlation++;
        int rc = broker_write(kb, r);
        if (rc < 0) {
            req_finish(c, r, rc, 0, NULL);
            broker_fail(kb, rc, "write failed");
            return;
        }
    }
}

/* ---- connection life cycle ---- */

static void client_free_if_done(kc_client_t *c);

static void on_tcp_closed(uv_handle_t *h)
{
    kc_broker_t *kb = h->data;
    kb->kb_handle_open = 0;
    kb->kb_client->c_handles--;
    if (kb->kb_client->c_destroyed) {
        client_free_if_done(kb->kb_client);
        return;
    }
    schedule_reconnect(kb);
}

/* Reconnects if work waits, after reconnect.backoff.ms doubling up to
 * reconnect.backoff.max.ms (reset once the broker is up). */
static void schedule_reconnect(kc_broker_t *kb)
{
    kc_client_t *c = kb->kb_client;
    if (!kb->kb_queue || c->c_destroyed || uv_is_active((uv_handle_t *)&kb->kb_backoff))
        return;
    uv_timer_start(&kb->kb_backoff, on_backoff, (uint64_t)kb->kb_backoff_ms, 0);
    int64_t next = (int64_t)kb->kb_backoff_ms * 2;
    kb->kb_backoff_ms = next > c->c_cfg.reconnect_backoff_max_ms ? c->c_cfg.reconnect_backoff_max_ms
                                                                 : (int32_t)next;
}

/* Gives up when kc_client_fail_fast says so: no broker was ever reached and
 * every bootstrap address failed its attempts. The sentence names each
 * address with its last failure, in the order of bootstrap.servers. */
static void check_give_up(kc_client_t *c, int err, kc_broker_t *failed)
{
    if (c->c_fail_fast_attempts <= 0 || c->c_fail_err || c->c_destroyed)
        return;
    size_t len = 0;
    c->c_fail_why[0] = 0;
    /* A broker that refused the login: another attempt or another broker
     * of the same cluster would refuse it too (Kafka's clients make an
     * AuthenticationException fatal to the call), so a tool stops at once,
     * even after it had been connected. */
    if (err == EDDY_ERR_AUTH) {
        snprintf(c->c_fail_why, sizeof c->c_fail_why, "%s", failed->kb_last_why);
        goto give_up;
    }
    if (c->c_ever_up)
        return;
    for (kc_broker_t *kb = c->c_brokers; kb; kb = kb->kb_next)
        if (kb->kb_purpose == KC_CONN_MAIN && kb->kb_failures < c->c_fail_fast_attempts)
            return;
    for (int32_t id = -1;; id--) {
        kc_broker_t *kb = kc_broker_find(c, id);
        if (!kb)
            break;
        if (len < sizeof c->c_fail_why)
            len += (size_t)snprintf(c->c_fail_why + len, sizeof c->c_fail_why - len, "%s%s",
                                    len ? "; " : "", kb->kb_last_why);
    }
give_up:
    c->c_fail_err = err;
    EDDY_LOG_DEBUG("client", "giving up: %s", c->c_fail_why);
    /* Everything waiting for a connection fails now; kc_request refuses new
     * work, so the queues stay empty and no reconnection is scheduled. */
    for (kc_broker_t *kb = c->c_brokers; kb; kb = kb->kb_next) {
        uv_timer_stop(&kb->kb_backoff);
        kc_req_t *r;
        while ((r = queue_pop(&kb->kb_queue, &kb->kb_queue_tail)))
            req_finish(c, r, err, 0, NULL);
    }
}

/* Requests for this node in particular (produce and fetch to a partition's
 * leader, a group's coordinator) fail when a connection attempt to it fails,
 * as Kafka's clients never queue for a node that is not ready: the caller
 * retries on fresh metadata. Left waiting here, a produce to a leader killed
 * with kill -9 would sit out request.timeout.ms although a cluster elects the
 * new leader within seconds. */
static void fail_node_requests(kc_broker_t *kb, int err)
{
    kc_client_t *c = kb->kb_client;
    kc_req_t *keep = NULL, *keep_tail = NULL, *r;
    kc_req_t *failed = NULL, *failed_tail = NULL;
    while ((r = queue_pop(&kb->kb_queue, &kb->kb_queue_tail))) {
        if (r->rq_any)
            queue_push(&keep, &keep_tail, r);
        else
            queue_push(&failed, &failed_tail, r);
    }
    kb->kb_queue = keep;
    kb->kb_queue_tail = keep_tail;
    while ((r = queue_pop(&failed, &failed_tail)))
        req_finish(c, r, err, 0, NULL);
}

/* A connection attempt failed (resolution, TCP connect, its setup timeout,
 * ApiVersions): counted, described in kb_last_why, and warned about through
 * the broker's rate limit, so that a broker down for an hour costs one line
 * per KC_LOG_INTERVAL_MS, not one per attempt. A tool in fail-fast mode says
 * it once in its own error instead, so the attempts go to INFO there. */
static void attempt_failed(kc_broker_t *kb, int err, const char *detail)
{
    kc_client_t *c = kb->kb_client;
    if (c->c_destroyed || err == -ECANCELED)
        return;
    kb->kb_failures++;
    kb->kb_last_err = err;
    char name[300];
    if (err == EDDY_ERR_AUTH) /* sasl.c's sentence names the mechanism and the broker's words */
        snprintf(kb->kb_last_why, sizeof kb->kb_last_why, "broker %s: %s",
                 kc_conn_name(kb, name, sizeof name), detail);
    else if (err == EDDY_ERR_RESOLVE)
        snprintf(kb->kb_last_why, sizeof kb->kb_last_why, "cannot resolve %s: %s", kb->kb_host,
                 detail);
    else if (kb->kb_node_id < 0) /* a bootstrap address, as the user wrote it */
        snprintf(kb->kb_last_why, sizeof kb->kb_last_why, "cannot connect to %s:%d: %s",
                 kb->kb_host, kb->kb_port, detail);
    else /* a node of the metadata, which may share its address with one */
        snprintf(kb->kb_last_why, sizeof kb->kb_last_why, "cannot connect to node %d at %s:%d: %s",
                 kb->kb_node_id, kb->kb_host, kb->kb_port, detail);
    int level = c->c_fail_fast_attempts > 0 && !c->c_ever_up ? EDDY_LOG_LVL_INFO
                                                             : EDDY_LOG_LVL_WARN;
    /* A refused login does not mend itself: an application retries it
     * (the password may be rotated, the user created) after the same
     * backoff, but says so as an error. */
    if (err == EDDY_ERR_AUTH && !(c->c_fail_fast_attempts > 0))
        level = EDDY_LOG_LVL_ERROR;
    EDDY_LOG_LIMITED(level, "client", &kb->kb_log_limit, KC_LOG_INTERVAL_MS,
                     "%s (%d failed attempt%s in a row)", kb->kb_last_why, kb->kb_failures,
                     kb->kb_failures == 1 ? "" : "s");
    move_any_requests(kb);
    fail_node_requests(kb, err);
    check_give_up(c, err, kb);
}

/* Requests any broker may answer (metadata, admin) leave a broker that
 * failed for one that is up, else for the one with the fewest failures in a
 * row (fewer than this one's), as Kafka's least loaded node: with several
 * bootstrap addresses, a dead first one does not hold the metadata
 * back, and each address gets its attempts. */
static void move_any_requests(kc_broker_t *from)
{
    kc_client_t *c = from->kb_client;
    kc_broker_t *to = NULL;
    for (kc_broker_t *kb = c->c_brokers; kb; kb = kb->kb_next) {
        if (kb == from || kb->kb_purpose != KC_CONN_MAIN)
            continue;
        if (kb->kb_state == KB_UP) {
            to = kb;
            break;
        }
        if (kb->kb_failures < from->kb_failures && (!to || kb->kb_failures < to->kb_failures))
            to = kb;
    }
    if (!to)
        return;
    int moved = 0;
    for (kc_req_t **pp = &from->kb_queue; *pp;) {
        kc_req_t *r = *pp;
        if (!r->rq_any) {
            pp = &r->rq_next;
            continue;
        }
        *pp = r->rq_next;
        queue_push(&to->kb_queue, &to->kb_queue_tail, r);
        moved = 1;
    }
    from->kb_queue_tail = NULL;
    for (kc_req_t *x = from->kb_queue; x; x = x->rq_next)
        from->kb_queue_tail = x;
    if (!moved)
        return;
    if (to->kb_state == KB_DOWN && !uv_is_active((uv_handle_t *)&to->kb_backoff))
        broker_connect(to);
    else
        broker_pump(to);
}

/* Drops the connection and fails what was in flight (the caller retries). */
static void broker_fail(kc_broker_t *kb, int err, const char *why)
{
    kc_client_t *c = kb->kb_client;
    if (kb->kb_state == KB_DOWN)
        return;
    EDDY_LOG_DEBUG("client", "broker %d (%s:%d): %s", kb->kb_node_id, kb->kb_host, kb->kb_port,
                   why);
    int was_attempt = kb->kb_state != KB_UP;
    kb->kb_state = KB_DOWN;
    kc_sasl_free(kb);
    free(wire_frame_drop(&kb->kb_fr));
    eddy_tls_destroy(kb->kb_tls);
    kb->kb_tls = NULL;
    if (kb->kb_handle_open && !uv_is_closing((uv_handle_t *)&kb->kb_tcp))
        uv_close((uv_handle_t *)&kb->kb_tcp, on_tcp_closed);
    kc_req_t *r;
    while ((r = queue_pop(&kb->kb_inflight, &kb->kb_inflight_tail))) {
        kb->kb_ninflight--;
        req_finish(c, r, err, 0, NULL);
    }
    /* Requests not yet written wait for the reconnection, unless the
     * client is going away. */
    if (c->c_destroyed)
        while ((r = queue_pop(&kb->kb_queue, &kb->kb_queue_tail)))
            req_finish(c, r, -ECANCELED, 0, NULL);
    else if (was_attempt)
        attempt_failed(kb, err, why);
}

static void send_api_versions(kc_broker_t *kb, int16_t version);

static void on_api_versions(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque)
{
    kc_broker_t *kb = opaque;
    if (err < 0)
        return; /* broker_fail already ran */
    ApiVersionsResponse resp;
    eddy_arena_t a;
    arena_init(&a, 1 << 20);
    int rc = wire_api_versions_resp_decode(rd, v, &a, &resp);
    /* UNSUPPORTED_VERSION comes with a v0 list of what the broker speaks;
     * a broker that sends no list (librdkafka's mock cluster) is asked
     * again with v0. */
    if (rc == 0 && resp.ErrorCode == KERR_UNSUPPORTED_VERSION && resp.ApiKeysCount == 0 && v > 0) {
        arena_free(&a);
        send_api_versions(kb, 0);
        return;
    }
    if (rc == 0 && (resp.ErrorCode == KERR_NONE || resp.ErrorCode == KERR_UNSUPPORTED_VERSION)) {
        for (int32_t i = 0; i < resp.ApiKeysCount; i++) {
            int16_t key = resp.ApiKeys[i].api_key;
            if (key >= 0 && key <= API_KEY_MAX) {
                kb->kb_ver_min[key] = resp.ApiKeys[i].min;
                kb->kb_ver_max[key] = resp.ApiKeys[i].max;
            }
        }
        arena_free(&a);
        if (c->c_security == KC_SEC_SASL_PLAINTEXT || c->c_security == KC_SEC_SASL_SSL)
            kc_sasl_start(kb);
        else
            kc_conn_ready(kb);
        return;
    }
    arena_free(&a);
    broker_fail(kb, -EPROTO, "ApiVersions failed");
}

void kc_conn_ready(kc_broker_t *kb)
{
    kc_client_t *c = kb->kb_client;
    kb->kb_state = KB_UP;
    kb->kb_backoff_ms = c->c_cfg.reconnect_backoff_ms;
    if (kb->kb_failures > 0)
        EDDY_LOG_INFO("client", "connected to %s:%d after %d failed attempt%s", kb->kb_host,
                      kb->kb_port, kb->kb_failures, kb->kb_failures == 1 ? "" : "s");
    kb->kb_failures = 0;
    c->c_ever_up = 1;
    broker_pump(kb);
}

void kc_conn_fail(kc_broker_t *kb, int err, const char *why)
{
    broker_fail(kb, err, why);
}

const char *kc_conn_name(const kc_broker_t *kb, char *buf, size_t size)
{
    if (kb->kb_node_id < 0) /* a bootstrap address, as the user wrote it */
        snprintf(buf, size, "%s:%d", kb->kb_host, kb->kb_port);
    else
        snprintf(buf, size, "node %d at %s:%d", kb->kb_node_id, kb->kb_host, kb->kb_port);
    return buf;
}

static void encode_api_versions(eddy_wr_t *wr, int16_t v, void *opaque)
{
    (void)opaque;
    ApiVersionsRequest req = {kstr_c("eddy"), kstr_c("0.1")};
    wire_api_versions_req_encode(wr, v, &req);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    buf->base = malloc(READ_BUF);
    buf->len = buf->base ? READ_BUF : 0;
}

/* One whole response frame: match it with the oldest request in flight. */
static void on_frame(kc_broker_t *kb, uint8_t *frame, size_t len)
{
    kc_client_t *c = kb->kb_client;
    kc_req_t *r = queue_pop(&kb->kb_inflight, &kb->kb_inflight_tail);
    if (!r) {
        broker_fail(kb, -EPROTO, "a response nobody asked for");
        return;
    }
    kb->kb_ninflight--;
    eddy_rd_t rd;
    rd_init(&rd, frame, len);
    int32_t corr;
    if (wire_response_header_decode(&rd, r->rq_api_key, r->rq_version, &corr) < 0 ||
        corr != r->rq_correlation_id) {
        req_finish(c, r, -EPROTO, 0, NULL);
        broker_fail(kb, -EPROTO, "response out of order");
        return;
    }
    req_finish(c, r, 0, r->rq_version, &rd);
}

/* Response bytes as they come (decrypted, with TLS): split into frames. */
static void conn_input(kc_broker_t *kb, const uint8_t *p, size_t n)
{
    while (n > 0 && kb->kb_state != KB_DOWN) {
        int ev;
        size_t used = wire_frame_feed(&kb->kb_fr, p, n, 4, MAX_RESPONSE, &ev);
        p += used;
        n -= used;
        if (ev == WIRE_FRAME_SIZED) {
            uint8_t *body = malloc(kb->kb_fr.fr_len);
            if (!body) {
                broker_fail(kb, -ENOMEM, "out of memory for a response");
                break;
            }
            wire_frame_begin(&kb->kb_fr, body);
        } else if (ev == WIRE_FRAME_BAD_SIZE) {
            /* A TLS listener answers a plaintext request with a TLS alert or
             * handshake record: 0x15 or 0x16, then version 3.x. */
            const uint8_t *pre = kb->kb_fr.fr_prefix;
            broker_fail(kb, -EPROTO,
                        !kb->kb_tls && (pre[0] == 0x15 || pre[0] == 0x16) && pre[1] == 3
                            ? "the broker answered with TLS (this port is a TLS listener: "
                              "security.protocol must be SSL or SASL_SSL)"
                            : "response size out of bounds");
            break;
        } else if (ev == WIRE_FRAME_DONE) {
            size_t len;
            uint8_t *frame = wire_frame_take(&kb->kb_fr, &len);
            on_frame(kb, frame, len);
            free(frame);
        }
    }
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    kc_broker_t *kb = st->data;
    if (nread < 0) {
        free(buf->base);
        /* A plaintext listener reads a ClientHello as a request of absurd
         * size and hangs up: say what that most likely means. */
        /* So does a TLS listener reading a plaintext ApiVersions. */
        broker_fail(kb, -ECONNRESET,
                    nread != UV_EOF ? uv_strerror((int)nread)
                    : kb->kb_state == KB_TLS_HANDSHAKE
                        ? "the broker closed the connection during the TLS handshake (is this "
                          "port a TLS listener? security.protocol must match the listener's)"
                    : kb->kb_state == KB_NEGOTIATING && !kb->kb_tls && !kb->kb_sasl
                        ? "the broker closed the connection without answering ApiVersions (is "
                          "this port a TLS listener? security.protocol must match the "
                          "listener's: SSL or SASL_SSL)"
                        : "connection closed by the broker");
        return;
    }
    if (kb->kb_tls)
        tls_input(kb, (const uint8_t *)buf->base, (size_t)nread);
    else
        conn_input(kb, (const uint8_t *)buf->base, (size_t)nread);
    free(buf->base);
}

static void on_connected(uv_connect_t *req, int status)
{
    kc_broker_t *kb = req->data;
    if (kb->kb_state != KB_CONNECTING)
        return;
    if (status < 0) {
        /* libuv's codes are -errno on Unix: ECONNREFUSED stays itself. */
        broker_fail(kb, status, eddy_strerror(status));
        return;
    }
    uv_tcp_nodelay(&kb->kb_tcp, 1);
    if (kb->kb_client->c_tls) {
        tls_start(kb);
        return;
    }
    kb->kb_state = KB_NEGOTIATING;
    uv_read_start((uv_stream_t *)&kb->kb_tcp, on_alloc, on_read);
    send_api_versions(kb, 3);
}

int kc_conn_send_now(kc_broker_t *kb, int16_t api_key, int16_t version, kc_encode_fn *encode,
                     kc_response_fn *done, void *opaque)
{
    kc_req_t *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->rq_api_key = api_key;
    r->rq_version = version;
    r->rq_correlation_id = kb->kb_client->c_next_correlation++;
    r->rq_expect_response = 1;
    r->rq_encode = encode;
    r->rq_done = done;
    r->rq_opaque = opaque;
    r->rq_deadline_ms = eddy_mono_ms() + kb->kb_client->c_cfg.request_timeout_ms;
    int rc = broker_write(kb, r);
    if (rc < 0)
        free(r);
    return rc;
}

/* ApiVersions goes out before anything else on a new connection: v3
 * first; a broker that does not know it answers with a v0 body. */
static void send_api_versions(kc_broker_t *kb, int16_t version)
{
    if (kc_conn_send_now(kb, API_API_VERSIONS, version, encode_api_versions, on_api_versions, kb) <
        0)
        broker_fail(kb, -EIO, "cannot send ApiVersions");
}

/* ---- TLS (security.protocol SSL and SASL_SSL) ----
 *
 * The session (common/tls.h) sits between the socket and the frames: what
 * the socket reads is fed to it and the plaintext it gives goes to
 * conn_input(); what conn_send() is given is encrypted and its ciphertext
 * written. The handshake runs between the TCP connect and ApiVersions. */

/* Writes the ciphertext the session holds; fire_and_forget as in
 * socket_write(). */
static int tls_flush(kc_broker_t *kb, kc_req_t *fire_and_forget)
{
    size_t n = eddy_tls_out_pending(kb->kb_tls);
    if (n == 0)
        return 0;
    uint8_t *out = malloc(n);
    if (!out)
        return -ENOMEM;
    n = eddy_tls_out_take(kb->kb_tls, out, n);
    return socket_write(kb, out, n, fire_and_forget);
}

static void tls_fail(kc_broker_t *kb)
{
    char why[512];
    const char *e = eddy_tls_errstr(kb->kb_tls);
    /* TLS 1.3: the broker's refusal of a client without a certificate comes
     * as an alert after the client's side of the handshake is done. */
    snprintf(why, sizeof why, "%s%s", e,
             strstr(e, "alert certificate required") &&
                     !kb->kb_client->c_cfg.ssl_certificate_location &&
                     !kb->kb_client->c_cfg.ssl_certificate_pem
                 ? ": the broker requires a client certificate (ssl.certificate.location and "
                   "ssl.key.location)"
                 : "");
    /* The alert that tells the broker why goes out before the socket closes,
     * if the socket still takes it. */
    tls_flush(kb, NULL);
    broker_fail(kb, -EPROTO, why);
}

static void tls_handshake_step(kc_broker_t *kb)
{
    int h = eddy_tls_handshake(kb->kb_tls);
    if (h < 0) {
        tls_fail(kb);
        return;
    }
    int rc = tls_flush(kb, NULL);
    if (rc < 0) {
        broker_fail(kb, rc, uv_strerror(rc));
        return;
    }
    if (h == 0) {
        EDDY_LOG_DEBUG("client", "%s:%d: %s, %s", kb->kb_host, kb->kb_port,
                       eddy_tls_version(kb->kb_tls), eddy_tls_cipher(kb->kb_tls));
        kb->kb_state = KB_NEGOTIATING;
        send_api_versions(kb, 3);
    }
}

static void tls_start(kc_broker_t *kb)
{
    char err[256];
    kb->kb_tls = eddy_tls_new(kb->kb_client->c_tls, kb->kb_host, err, sizeof err);
    if (!kb->kb_tls) {
        broker_fail(kb, -EPROTO, err);
        return;
    }
    kb->kb_state = KB_TLS_HANDSHAKE;
    uv_read_start((uv_stream_t *)&kb->kb_tcp, on_alloc, on_read);
    tls_handshake_step(kb); /* the ClientHello */
}

/* Ciphertext from the socket. The session takes at most EDDY_TLS_IN_MAX at
 * a time, so the plaintext is read out between feeds. A response handler
 * may fail the connection (kb_tls is then gone) and says so by its state. */
static void tls_input(kc_broker_t *kb, const uint8_t *p, size_t n)
{
    uint8_t plain[16384];
    while (kb->kb_state != KB_DOWN) {
        ssize_t fed = eddy_tls_feed(kb->kb_tls, p, n);
        if (fed < 0) {
            tls_fail(kb);
            return;
        }
        p += fed;
        n -= (size_t)fed;
        if (kb->kb_state == KB_TLS_HANDSHAKE) {
            tls_handshake_step(kb);
            if (kb->kb_state == KB_TLS_HANDSHAKE && n == 0)
                return;
            /* OpenSSL takes whole records while it waits for more, so the
             * input holds less than one: a full one means no progress. */
            if (kb->kb_state == KB_TLS_HANDSHAKE && fed == 0) {
                broker_fail(kb, -EPROTO, "the TLS handshake makes no progress");
                return;
            }
            continue; /* down, or open with records behind the handshake */
        }
        ssize_t r;
        while (kb->kb_state != KB_DOWN &&
               (r = eddy_tls_read(kb->kb_tls, plain, sizeof plain)) != 0) {
            if (r < 0) {
                if (r == -EPIPE)
                    broker_fail(kb, -ECONNRESET, "the broker closed the TLS session");
                else
                    tls_fail(kb);
                return;
            }
            conn_input(kb, plain, (size_t)r);
        }
        if (kb->kb_state == KB_DOWN)
            return;
        /* TLS 1.3 answers some records (a key update) by itself. */
        int rc = tls_flush(kb, NULL);
        if (rc < 0) {
            broker_fail(kb, rc, uv_strerror(rc));
            return;
        }
        if (n == 0)
            return;
    }
}

/* A request's bytes (taken over) to the broker, through TLS if the
 * connection has it. */
static int conn_send(kc_broker_t *kb, uint8_t *bytes, size_t len, kc_req_t *fire_and_forget)
{
    if (!kb->kb_tls)
        return socket_write(kb, bytes, len, fire_and_forget);
    size_t off = 0;
    int rc = 0;
    while (off < len && rc == 0) {
        ssize_t w = eddy_tls_write(kb->kb_tls, bytes + off, len - off);
        if (w <= 0) { /* never 0 with the output just flushed */
            rc = -EPROTO;
            break;
        }
        off += (size_t)w;
        rc = tls_flush(kb, off == len ? fire_and_forget : NULL);
    }
    free(bytes);
    return rc;
}

static int tls_setup(kc_client_t *c, char *errstr, size_t errstr_size)
{
    const kc_config_t *cfg = &c->c_cfg;
    const char *eia = cfg->ssl_endpoint_identification_algorithm;
    eddy_tls_opts_t o = {
        .to_cert_file = cfg->ssl_certificate_location,
        .to_cert_pem = cfg->ssl_certificate_pem,
        .to_key_file = cfg->ssl_key_location,
        .to_key_pem = cfg->ssl_key_pem,
        .to_key_password = cfg->ssl_key_password,
        .to_ca_file = cfg->ssl_ca_location,
        .to_ca_pem = cfg->ssl_ca_pem,
        .to_verify_hostname = eia && strcasecmp(eia, "https") == 0,
    };
    char err[400];
    c->c_tls = eddy_tls_ctx_new(EDDY_TLS_CLIENT, &o, err, sizeof err);
    if (!c->c_tls) {
        /* The engine names the file; the user also wants the setting. */
        const char *setting = "security.protocol";
        if (!strncmp(err, "CA ", 3))
            setting = cfg->ssl_ca_pem ? "ssl.ca.pem" : "ssl.ca.location";
        else if (!strncmp(err, "certificate chain", 17))
            setting = cfg->ssl_certificate_pem ? "ssl.certificate.pem" : "ssl.certificate.location";
        else if (!strncmp(err, "private key", 11))
            setting = cfg->ssl_key_pem ? "ssl.key.pem" : "ssl.key.location";
        snprintf(errstr, errstr_size, "%s: %s", setting, err);
        return EDDY_ERR_CONFIG;
    }
    return 0;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    kc_broker_t *kb = req->data;
    kc_client_t *c = kb->kb_client;
    c->c_handles--; /* the resolution counted as one */
    if (kb->kb_state != KB_CONNECTING || c->c_destroyed) {
        uv_freeaddrinfo(res);
        if (kb->kb_state == KB_CONNECTING)
            kb->kb_state = KB_DOWN;
        client_free_if_done(c);
        return;
    }
    if (status < 0 || !res) {
        uv_freeaddrinfo(res);
        kb->kb_state = KB_DOWN;
        attempt_failed(kb, EDDY_ERR_RESOLVE, status < 0 ? uv_strerror(status) : "no address");
        schedule_reconnect(kb);
        return;
    }
    uv_tcp_init(c->c_loop, &kb->kb_tcp);
    kb->kb_tcp.data = kb;
    kb->kb_handle_open = 1;
    c->c_handles++;
    kb->kb_connect.data = kb;
    /* Kafka's rule: the setup timeout doubles with each failure in a row,
     * up to its maximum (without Kafka's random jitter). */
    int64_t setup = c->c_cfg.socket_connection_setup_timeout_ms;
    for (int i = 0; i < kb->kb_failures && setup < c->c_cfg.socket_connection_setup_timeout_max_ms;
         i++)
        setup *= 2;
    if (setup > c->c_cfg.socket_connection_setup_timeout_max_ms)
        setup = c->c_cfg.socket_connection_setup_timeout_max_ms;
    kb->kb_setup_ms = setup;
    kb->kb_setup_deadline_ms = eddy_mono_ms() + setup;
    int rc = uv_tcp_connect(&kb->kb_connect, &kb->kb_tcp, res->ai_addr, on_connected);
    uv_freeaddrinfo(res);
    if (rc < 0)
        broker_fail(kb, rc, uv_strerror(rc));
}

static void on_backoff(uv_timer_t *t)
{
    broker_connect(t->data);
}

static void broker_connect(kc_broker_t *kb)
{
    kc_client_t *c = kb->kb_client;
    if (kb->kb_state != KB_DOWN || kb->kb_handle_open || c->c_destroyed)
        return;
    kb->kb_state = KB_CONNECTING;
    char port[16];
    snprintf(port, sizeof port, "%d", kb->kb_port);
    struct addrinfo hints = {0};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    kb->kb_resolve.data = kb;
    int rc = uv_getaddrinfo(c->c_loop, &kb->kb_resolve, on_resolved, kb->kb_host, port, &hints);
    if (rc == 0)
        c->c_handles++;
    if (rc < 0) {
        kb->kb_state = KB_DOWN;
        attempt_failed(kb, EDDY_ERR_RESOLVE, uv_strerror(rc));
        schedule_reconnect(kb);
    }
}

/* Every 100 ms: requests past their deadline fail and their connection
 * closes (a broker that stops answering is treated as gone). */
static void on_timer(uv_timer_t *t)
{
    kc_client_t *c = t->data;
    int64_t now = eddy_mono_ms();
    for (kc_broker_t *kb = c->c_brokers; kb; kb = kb->kb_next) {
        if ((kb->kb_state == KB_CONNECTING || kb->kb_state == KB_TLS_HANDSHAKE) &&
            kb->kb_handle_open && now >= kb->kb_setup_deadline_ms) {
            char why[128];
            snprintf(why, sizeof why, "%s within %lld ms (socket.connection.setup.timeout.ms)",
                     kb->kb_state == KB_CONNECTING ? "no connection" : "no TLS handshake",
                     (long long)kb->kb_setup_ms);
            broker_fail(kb, -ETIMEDOUT, why);
        }
        if (kb->kb_inflight && now >= kb->kb_inflight->rq_deadline_ms)
            broker_fail(kb, -ETIMEDOUT, "request timed out");
        for (kc_req_t **pp = &kb->kb_queue; *pp;) {
            kc_req_t *r = *pp;
            if (now >= r->rq_deadline_ms) {
                *pp = r->rq_next;
                if (kb->kb_queue_tail == r) {
                    kb->kb_queue_tail = NULL;
                    for (kc_req_t *x = kb->kb_queue; x; x = x->rq_next)
                        kb->kb_queue_tail = x;
                }
                req_finish(c, r, -ETIMEDOUT, 0, NULL);
            } else {
                pp = &r->rq_next;
            }
        }
    }
}

/* libuv writes with write(2): a broker that goes away while a request is
 * being written raises SIGPIPE, whose default kills the process. A client
 * must live through a broker's death (it reconnects), so SIGPIPE is ignored
 * unless the application handles it itself. */
static void ignore_sigpipe(void)
{
    struct sigaction old;
    if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);
}

kc_client_t *kc_client_new(uv_loop_t *loop, const kc_config_t *cfg, char *errstr,
                           size_t errstr_size)
{
    ignore_sigpipe();
    kc_client_t *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    c->c_loop = loop;
    /* A private copy of the settings (strings duplicated). */
    eddy_props_t none;
    eddy_props_init(&none);
    kc_config_load(&c->c_cfg, &none, errstr, errstr_size);
    for (const eddy_cfg_def_t *d = kc_config_defs; d->cd_name; d++) {
        char val[1024];
        const char *v = val;
        if (d->cd_type == CFG_STRING) {
            v = *(char *const *)((const char *)cfg + d->cd_offset);
            if (!v)
                continue; /* unset (NULL) stays unset */
        } else {
            eddy_cfg_format(d, cfg, val, sizeof val);
        }
        /* strings as they are: PEM text is longer than val */
        eddy_cfg_set(kc_config_defs, &c->c_cfg, d->cd_name, v, "config", errstr, errstr_size);
    }
    c->c_cfg.enable_idempotence_set = cfg->enable_idempotence_set;
    c->c_next_correlation = 1;
    c->c_controller = -1;
    int sec = security_protocol_of(c->c_cfg.security_protocol);
    if (sec < 0)
        snprintf(errstr, errstr_size,
                 "security.protocol: '%s' is not PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL",
                 c->c_cfg.security_protocol);
    c->c_security = (enum kc_security_protocol)sec;
    if (sec < 0 || (KC_SEC_TLS(c->c_security) && tls_setup(c, errstr, errstr_size) < 0)) {
        kc_config_free(&c->c_cfg);
        free(c);
        return NULL;
    }
    if (!KC_SEC_TLS(c->c_security) &&
        (c->c_cfg.ssl_ca_location || c->c_cfg.ssl_certificate_location ||
         c->c_cfg.ssl_key_location || c->c_cfg.ssl_ca_pem || c->c_cfg.ssl_certificate_pem ||
         c->c_cfg.ssl_key_pem))
        EDDY_LOG_WARN("client",
                      "ssl.* settings are ignored with security.protocol=%s (SSL or SASL_SSL "
                      "use them)",
                      c->c_cfg.security_protocol);
    uv_timer_init(loop, &c->c_timer);
    c->c_timer.data = c;
    c->c_handles++;
    uv_timer_start(&c->c_timer, on_timer, TIMER_MS, TIMER_MS);
    uv_unref((uv_handle_t *)&c->c_timer);
    /* Bootstrap addresses become pseudo-nodes -1, -2, ... until metadata
     * names the real ones. */
    char *list = strdup(c->c_cfg.bootstrap_servers);
    int32_t id = -1;
    for (char *tok = strtok(list, ", "); tok; tok = strtok(NULL, ", ")) {
        char *colon = strrchr(tok, ':');
        int port = colon ? atoi(colon + 1) : 9092;
        if (colon)
            *colon = 0;
        if (!*tok || port <= 0 || port > 65535) {
            snprintf(errstr, errstr_size, "bootstrap.servers: '%s' is not host:port", tok);
            free(list);
            kc_client_destroy(c);
            return NULL;
        }
        kc_broker_upsert(c, id--, tok, port);
    }
    free(list);
    if (!c->c_brokers) {
        snprintf(errstr, errstr_size, "bootstrap.servers is empty");
        kc_client_destroy(c);
        return NULL;
    }
    return c;
}

static void free_topics(kc_client_t *c)
{
    for (int i = 0; i < c->c_ntopics; i++) {
        free(c->c_topics[i].tm_name);
        free(c->c_topics[i].tm_partitions);
    }
    free(c->c_topics);
    c->c_topics = NULL;
    c->c_ntopics = 0;
}

/* Frees the client once every libuv handle it opened has been closed. */
static void client_free_if_done(kc_client_t *c)
{
    if (!c->c_destroyed || c->c_handles > 0)
        return;
    kc_broker_t *kb = c->c_brokers;
    while (kb) {
        kc_broker_t *next = kb->kb_next;
        free(wire_frame_drop(&kb->kb_fr));
        kc_sasl_free(kb);
        eddy_tls_destroy(kb->kb_tls);
        free(kb);
        kb = next;
    }
    free_topics(c);
    eddy_tls_ctx_destroy(c->c_tls);
    kc_config_free(&c->c_cfg);
    free(c);
}

static void on_client_timer_closed(uv_handle_t *h)
{
    kc_client_t *c = h->data;
    c->c_handles--;
    client_free_if_done(c);
}

static void on_backoff_closed(uv_handle_t *h)
{
    kc_broker_t *kb = h->data;
    kb->kb_client->c_handles--;
    client_free_if_done(kb->kb_client);
}

void kc_client_destroy(kc_client_t *c)
{
    if (!c || c->c_destroyed)
        return;
    c->c_destroyed = 1;
    for (kc_broker_t *kb = c->c_brokers; kb; kb = kb->kb_next) {
        if (kb->kb_state != KB_DOWN)
            broker_fail(kb, -ECANCELED, "client closing");
        kc_req_t *r;
        while ((r = queue_pop(&kb->kb_queue, &kb->kb_queue_tail)))
            req_finish(c, r, -ECANCELED, 0, NULL);
        if (kb->kb_state == KB_CONNECTING)
            uv_cancel((uv_req_t *)&kb->kb_resolve);
        uv_close((uv_handle_t *)&kb->kb_backoff, on_backoff_closed);
    }
    uv_close((uv_handle_t *)&c->c_timer, on_client_timer_closed);
}

uv_loop_t *kc_loop(kc_client_t *c)
{
    return c->c_loop;
}

const kc_config_t *kc_config(const kc_client_t *c)
{
    return &c->c_cfg;
}

typedef struct run_until {
    int (*ru_done)(void *);
    void *ru_opaque;
    int ru_timed_out;
    uv_timer_t ru_timer;
} run_until_t;

static void on_run_timeout(uv_timer_t *t)
{
    run_until_t *ru = t->data;
    ru->ru_timed_out = 1;
}

static void on_run_timer_closed(uv_handle_t *h)
{
    (void)h;
}

int kc_run_until(kc_client_t *c, int (*done)(void *opaque), void *opaque, int64_t timeout_ms)
{
    run_until_t ru = {done, opaque, 0, {0}};
    uv_timer_init(c->c_loop, &ru.ru_timer);
    ru.ru_timer.data = &ru;
    uv_timer_start(&ru.ru_timer, on_run_timeout, (uint64_t)(timeout_ms > 0 ? timeout_ms : 0), 0);
    while (!done(opaque) && !ru.ru_timed_out && !c->c_fail_err)
        uv_run(c->c_loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&ru.ru_timer, on_run_timer_closed);
    uv_run(c->c_loop, UV_RUN_NOWAIT);
    return done(opaque) ? 0 : c->c_fail_err ? c->c_fail_err : -ETIMEDOUT;
}

void kc_client_fail_fast(kc_client_t *c, int attempts)
{
    c->c_fail_fast_attempts = attempts > 0 ? attempts : 0;
}

int kc_client_error(const kc_client_t *c, const char **why)
{
    if (why)
        *why = c->c_fail_err ? c->c_fail_why : "";
    return c->c_fail_err;
}

const char *kc_client_last_failure(const kc_client_t *c)
{
    if (c->c_fail_err)
        return c->c_fail_why;
    for (const kc_broker_t *kb = c->c_brokers; kb; kb = kb->kb_next)
        if (kb->kb_state != KB_UP && kb->kb_failures > 0)
            return kb->kb_last_why;
    return NULL;
}

/* SASL on the client's connections (security.protocol SASL_PLAINTEXT or
 * SASL_SSL), as Kafka's clients do it since 1.0: after ApiVersions,
 *
 *   SaslHandshake v1 (mechanism) --> the broker enables it, or names the
 *                                    ones it does (UNSUPPORTED_SASL_MECHANISM)
 *   SaslAuthenticate (token) ------> one round for PLAIN, two for SCRAM:
 *     PLAIN:  "\0user\0password"                 <- empty on success
 *     SCRAM:  client-first                       <- server-first
 *             client-final (proof)               <- server-final (signature,
 *                                                   checked: the broker must
 *                                                   know the credential too)
 *
 * and only then the connection is UP (kc_conn_ready) and its queue written.
 * Any refusal ends the attempt with EDDY_ERR_AUTH and a sentence naming the
 * mechanism, the user and the broker's own message (conn.c adds the broker's
 * address): a command-line tool stops on it at once (kc_client_fail_fast),
 * an application retries after the reconnect backoff with a rate-limited
 * error line.
 *
 * The exchange lives beside the TLS code of conn.c, above it: the tokens
 * travel inside ordinary requests, so TLS (SASL_SSL) is invisible here.
 * The password is kept only in the client's config and, during a SCRAM
 * exchange, in scram_client_t, which wipes it when closed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <strings.h>

#include "client/client_int.h"
#include "common/err.h"
#include "common/scram.h"
#include "wire/api.h"
#include "wire/api_sasl.h"
#include "wire/client_api.h"

enum { MECH_PLAIN = 100 }; /* beside scram.h's SCRAM_SHA_256 and SCRAM_SHA_512 */

struct kc_sasl {
    int ks_mech;   /* MECH_PLAIN, SCRAM_SHA_256, SCRAM_SHA_512 */
    int ks_rounds; /* SaslAuthenticate requests answered so far */
    int16_t ks_auth_version;
    scram_client_t ks_scram;
    int ks_scram_open;
    /* the next token to send; owned */
    char *ks_token;
    size_t ks_token_len;
};

static int mech_of(const char *name)
{
    if (strcmp(name, "PLAIN") == 0)
        return MECH_PLAIN;
    return scram_mech_from_name(name);
}

int kc_security_protocol_parse(const char *name)
{
    static const char *const names[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"};
    for (int i = 0; name && i < 4; i++)
        if (strcasecmp(name, names[i]) == 0)
            return i;
    return -1;
}

/* One option value of a JAAS line: "quoted" (with \" and \\ escapes) or
 * bare up to a blank or ';'. Returns a malloc'ed copy and moves *p past it,
 * or NULL. */
static char *jaas_value(const char **p)
{
    const char *s = *p;
    size_t cap = strlen(s) + 1, n = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    if (*s == '"') {
        for (s++; *s && *s != '"'; s++) {
            if (*s == '\\' && s[1])
                s++;
            out[n++] = *s;
        }
        if (*s != '"') {
            free(out);
            return NULL;
        }
        s++;
    } else {
        while (*s && *s != ' ' && *s != '\t' && *s != ';')
            out[n++] = *s++;
    }
    out[n] = 0;
    *p = s;
    return out;
}

/* sasl.jaas.config as Kafka's Java client takes it, for the two login
 * modules of the mechanisms spoken here:
 *   org.apache.kafka.common.security.plain.PlainLoginModule required
 *       username="alice" password="alice-secret";
 * (ScramLoginModule for SCRAM-*). The user and password go to
 * sasl.username/sasl.password, which must not be set as well. */
static int jaas_apply(kc_config_t *cfg, char *errstr, size_t errstr_size)
{
    static const struct {
        const char *module;
        int scram;
    } modules[] = {
        {"org.apache.kafka.common.security.plain.PlainLoginModule", 0},
        {"org.apache.kafka.common.security.scram.ScramLoginModule", 1},
    };
    const char *s = cfg->sasl_jaas_config;
    while (*s == ' ' || *s == '\t' || *s == '\n')
        s++;
    int scram = -1;
    for (size_t i = 0; i < sizeof modules / sizeof modules[0]; i++) {
        size_t n = strlen(modules[i].module);
        if (strncmp(s, modules[i].module, n) == 0 && (s[n] == ' ' || s[n] == '\t')) {
            scram = modules[i].scram;
            s += n;
            break;
        }
    }
    if (scram < 0) {
        snprintf(errstr, errstr_size,
                 "sasl.jaas.config: only PlainLoginModule and ScramLoginModule are supported "
                 "(org.apache.kafka.common.security.plain.PlainLoginModule required "
                 "username=\"...\" password=\"...\";)");
        return EDDY_ERR_CONFIG;
    }
    int mech = mech_of(cfg->sasl_mechanism);
    if (mech && (mech == MECH_PLAIN) == scram) {
        snprintf(errstr, errstr_size, "sasl.jaas.config: %s does not go with sasl.mechanism %s",
                 scram ? "ScramLoginModule" : "PlainLoginModule", cfg->sasl_mechanism);
        return EDDY_ERR_CONFIG;
    }
    while (*s == ' ' || *s == '\t' || *s == '\n')
        s++;
    if (strncmp(s, "required", 8) != 0) {
        snprintf(errstr, errstr_size, "sasl.jaas.config: expected 'required' after the module");
        return EDDY_ERR_CONFIG;
    }
    s += 8;
    char *user = NULL, *pass = NULL;
    int rc = 0;
    for (;;) {
        while (*s == ' ' || *s == '\t' || *s == '\n')
            s++;
        if (*s == ';' || !*s)
            break;
        const char *eq = strchr(s, '=');
        if (!eq) {
            rc = EDDY_ERR_CONFIG;
            break;
        }
        size_t klen = (size_t)(eq - s);
        const char *v = eq + 1;
        char *val = jaas_value(&v);
        if (!val) {
            rc = EDDY_ERR_CONFIG;
            break;
        }
        if (klen == 8 && strncmp(s, "username", 8) == 0) {
            free(user);
            user = val;
        } else if (klen == 8 && strncmp(s, "password", 8) == 0) {
            if (pass)
                memset(pass, 0, strlen(pass));
            free(pass);
            pass = val;
        } else {
            free(val); /* other options (tokenauth=...) do not apply here */
        }
        s = v;
    }
    if (rc == 0 && (!user || !pass)) {
        snprintf(errstr, errstr_size,
                 "sasl.jaas.config: username=\"...\" and password=\"...\" "
                 "are required");
        rc = EDDY_ERR_CONFIG;
    } else if (rc < 0) {
        snprintf(errstr, errstr_size,
                 "sasl.jaas.config: cannot read the options (expected key=\"value\" pairs "
                 "ending with ';')");
    } else if (cfg->sasl_username || cfg->sasl_password) {
        snprintf(errstr, errstr_size,
                 "sasl.jaas.config and sasl.username/sasl.password both give the user: set one");
        rc = EDDY_ERR_CONFIG;
    }
    if (rc < 0) {
        free(user);
        if (pass)
            memset(pass, 0, strlen(pass));
        free(pass);
        return rc;
    }
    cfg->sasl_username = user;
    cfg->sasl_password = pass;
    /* The JAAS text holds the password too: it is not kept. */
    memset(cfg->sasl_jaas_config, 0, strlen(cfg->sasl_jaas_config));
    free(cfg->sasl_jaas_config);
    cfg->sasl_jaas_config = NULL;
    return 0;
}

int kc_config_security(kc_config_t *cfg, const eddy_props_t *props, char *errstr,
                       size_t errstr_size)
{
    int sec = kc_security_protocol_parse(cfg->security_protocol);
    if (sec < 0) {
        snprintf(errstr, errstr_size,
                 "security.protocol: '%s' is not PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL",
                 cfg->security_protocol);
        return EDDY_ERR_CONFIG;
    }
    if (cfg->sasl_mechanisms) {
        /* librdkafka's plural name; the same setting. */
        int both = props && eddy_props_get(props, "sasl.mechanism") != NULL;
        if (both && strcmp(cfg->sasl_mechanism, cfg->sasl_mechanisms) != 0) {
            snprintf(errstr, errstr_size,
                     "sasl.mechanism=%s and sasl.mechanisms=%s disagree: they are one setting "
                     "(librdkafka spells it sasl.mechanisms); set one",
                     cfg->sasl_mechanism, cfg->sasl_mechanisms);
            return EDDY_ERR_CONFIG;
        }
        char *m = strdup(cfg->sasl_mechanisms);
        if (!m)
            return -ENOMEM;
        free(cfg->sasl_mechanism);
        cfg->sasl_mechanism = m;
    }
    if (cfg->sasl_jaas_config) {
        int rc = jaas_apply(cfg, errstr, errstr_size);
        if (rc < 0)
            return rc;
    }
    if (sec != KC_SEC_SASL_PLAINTEXT && sec != KC_SEC_SASL_SSL)
        return 0; /* the sasl.* settings wait unused, as in Kafka's clients */
    if (!mech_of(cfg->sasl_mechanism)) {
        snprintf(errstr, errstr_size,
                 "sasl.mechanism: '%s' is not supported by Eddy's client: use PLAIN, "
                 "SCRAM-SHA-256 or SCRAM-SHA-512%s",
                 cfg->sasl_mechanism,
                 strcmp(cfg->sasl_mechanism, "GSSAPI") == 0
                     ? " (GSSAPI is Kafka's default; set sasl.mechanism)"
                     : "");
        return EDDY_ERR_CONFIG;
    }
    if (!cfg->sasl_username || !cfg->sasl_username[0] || !cfg->sasl_password) {
        snprintf(errstr, errstr_size,
                 "security.protocol %s with sasl.mechanism %s needs sasl.username and "
                 "sasl.password",
                 cfg->security_protocol, cfg->sasl_mechanism);
        return EDDY_ERR_CONFIG;
    }
    if (strlen(cfg->sasl_username) > SCRAM_MAX_USER || strlen(cfg->sasl_password) > 1024) {
        snprintf(errstr, errstr_size,
                 "sasl.username is longer than %d bytes or sasl.password longer than 1024",
                 SCRAM_MAX_USER);
        return EDDY_ERR_CONFIG;
    }
    return 0;
}

void kc_sasl_free(kc_broker_t *kb)
{
    kc_sasl_t *ks = kb->kb_sasl;
    if (!ks)
        return;
    if (ks->ks_scram_open)
        scram_client_close(&ks->ks_scram);
    if (ks->ks_token) {
        memset(ks->ks_token, 0, ks->ks_token_len); /* PLAIN's token holds the password */
        free(ks->ks_token);
    }
    free(ks);
    kb->kb_sasl = NULL;
}

/* Ends the attempt: the broker (or this client) refused the exchange. */
static void sasl_fail(kc_broker_t *kb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sasl_fail(kc_broker_t *kb, const char *fmt, ...)
{
    char why[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    kc_conn_fail(kb, EDDY_ERR_AUTH, why);
}

static int set_token(kc_sasl_t *ks, const char *bytes, size_t len)
{
    if (ks->ks_token) {
        memset(ks->ks_token, 0, ks->ks_token_len);
        free(ks->ks_token);
    }
    ks->ks_token = malloc(len ? len : 1);
    if (!ks->ks_token)
        return -ENOMEM;
    memcpy(ks->ks_token, bytes, len);
    ks->ks_token_len = len;
    return 0;
}

static void encode_authenticate(eddy_wr_t *wr, int16_t v, void *opaque)
{
    kc_sasl_t *ks = ((kc_broker_t *)opaque)->kb_sasl;
    SaslAuthenticateRequest req = {{ks->ks_token, (int32_t)ks->ks_token_len}};
    wire_sasl_authenticate_req_encode(wr, v, &req);
}

static void on_authenticate(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque);

static void send_token(kc_broker_t *kb)
{
    kc_sasl_t *ks = kb->kb_sasl;
    if (kc_conn_send_now(kb, API_SASL_AUTHENTICATE, ks->ks_auth_version, encode_authenticate,
                         on_authenticate, kb) < 0)
        kc_conn_fail(kb, -EIO, "cannot send SaslAuthenticate");
}

static void on_authenticate(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque)
{
    kc_broker_t *kb = opaque;
    kc_sasl_t *ks = kb->kb_sasl;
    if (err < 0 || !ks)
        return; /* the connection failed; conn.c has said why */
    const kc_config_t *cfg = &c->c_cfg;
    SaslAuthenticateResponse resp;
    if (wire_sasl_authenticate_resp_decode(rd, v, NULL, &resp) < 0) {
        kc_conn_fail(kb, -EPROTO, "malformed SaslAuthenticate response");
        return;
    }
    ks->ks_rounds++;
    if (resp.ErrorCode != KERR_NONE) {
        sasl_fail(kb, "SASL authentication as '%s' with %s failed: %s (%.*s)", cfg->sasl_username,
                  cfg->sasl_mechanism, kafka_err_name(resp.ErrorCode),
                  resp.ErrorMessage.len > 0 ? (int)resp.ErrorMessage.len : 0,
                  resp.ErrorMessage.len > 0 ? resp.ErrorMessage.ptr : "");
        return;
    }
    if (ks->ks_mech == MECH_PLAIN) {
        kc_sasl_free(kb);
        kc_conn_ready(kb);
        return;
    }
    char out[SCRAM_MAX_MSG], why[256];
    if (ks->ks_rounds == 1) {
        /* server-first: answer with the proof */
        int n = scram_client_final(&ks->ks_scram, resp.AuthBytes.ptr, (size_t)resp.AuthBytes.len,
                                   out, sizeof out, why, sizeof why);
        if (n < 0) {
            sasl_fail(kb, "SASL %s as '%s': the broker's first message is not acceptable: %s",
                      cfg->sasl_mechanism, cfg->sasl_username, why);
            return;
        }
        if (set_token(ks, out, (size_t)n) < 0) {
            kc_conn_fail(kb, -ENOMEM, "out of memory");
            return;
        }
        send_token(kb);
        return;
    }
    /* server-final: the broker proves it holds the credential too */
    if (scram_client_verify(&ks->ks_scram, resp.AuthBytes.ptr, (size_t)resp.AuthBytes.len, why,
                            sizeof why) < 0) {
        sasl_fail(kb, "SASL %s as '%s': the broker's signature does not verify (%s)",
                  cfg->sasl_mechanism, cfg->sasl_username, why);
        return;
    }
    kc_sasl_free(kb);
    kc_conn_ready(kb);
}

static void encode_handshake(eddy_wr_t *wr, int16_t v, void *opaque)
{
    kc_broker_t *kb = opaque;
    SaslHandshakeRequest req = {kstr_c(kb->kb_client->c_cfg.sasl_mechanism)};
    wire_sasl_handshake_req_encode(wr, v, &req);
}

/* The first token of the mechanism, once the broker accepted it. */
static int first_token(kc_broker_t *kb)
{
    kc_sasl_t *ks = kb->kb_sasl;
    const kc_config_t *cfg = &kb->kb_client->c_cfg;
    if (ks->ks_mech == MECH_PLAIN) {
        /* RFC 4616: authzid NUL authcid NUL passwd, with no authzid */
        size_t ul = strlen(cfg->sasl_username), pl = strlen(cfg->sasl_password);
        char *t = malloc(ul + pl + 2);
        if (!t)
            return -ENOMEM;
        t[0] = 0;
        memcpy(t + 1, cfg->sasl_username, ul);
        t[1 + ul] = 0;
        memcpy(t + 2 + ul, cfg->sasl_password, pl);
        int rc = set_token(ks, t, ul + pl + 2);
        memset(t, 0, ul + pl + 2);
        free(t);
        return rc;
    }
    char why[256], out[SCRAM_MAX_MSG];
    if (scram_client_init(&ks->ks_scram, ks->ks_mech, cfg->sasl_username, cfg->sasl_password, NULL,
                          why, sizeof why) < 0)
        return EDDY_ERR_AUTH;
    ks->ks_scram_open = 1;
    int n = scram_client_first(&ks->ks_scram, out, sizeof out);
    if (n < 0)
        return n;
    return set_token(ks, out, (size_t)n);
}

static void on_handshake(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque)
{
    kc_broker_t *kb = opaque;
    if (err < 0 || !kb->kb_sasl)
        return;
    const kc_config_t *cfg = &c->c_cfg;
    SaslHandshakeResponse resp;
    eddy_arena_t a;
    arena_init(&a, 64 * 1024);
    if (wire_sasl_handshake_resp_decode(rd, v, &a, &resp) < 0) {
        arena_free(&a);
        kc_conn_fail(kb, -EPROTO, "malformed SaslHandshake response");
        return;
    }
    if (resp.ErrorCode != KERR_NONE) {
        char list[256] = "";
        size_t len = 0;
        for (int32_t i = 0; i < resp.MechanismsCount && len < sizeof list; i++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%.*s", i ? ", " : "",
                                    (int)resp.Mechanisms[i].len, resp.Mechanisms[i].ptr);
        arena_free(&a);
        if (resp.ErrorCode == KERR_UNSUPPORTED_SASL_MECHANISM)
            sasl_fail(kb,
                      "the broker does not enable SASL mechanism %s on this listener (it "
                      "offers: %s)",
                      cfg->sasl_mechanism, list[0] ? list : "none");
        else
            sasl_fail(kb, "SaslHandshake for %s failed: %s", cfg->sasl_mechanism,
                      kafka_err_name(resp.ErrorCode));
        return;
    }
    arena_free(&a);
    int rc = first_token(kb);
    if (rc < 0) {
        kc_conn_fail(kb, rc, "cannot start the SASL exchange");
        return;
    }
    send_token(kb);
}

void kc_sasl_start(kc_broker_t *kb)
{
    kc_client_t *c = kb->kb_client;
    int hs = wire_pick_version(API_SASL_HANDSHAKE, kb->kb_ver_min[API_SASL_HANDSHAKE],
                               kb->kb_ver_max[API_SASL_HANDSHAKE]);
    int au = wire_pick_version(API_SASL_AUTHENTICATE, kb->kb_ver_min[API_SASL_AUTHENTICATE],
                               kb->kb_ver_max[API_SASL_AUTHENTICATE]);
    if (hs < 0 || au < 0) {
        /* A broker without SASL (an older Eddy, or the wrong port): a
         * setting to fix, not a condition to wait out. */
        sasl_fail(kb,
                  "security.protocol is %s but the broker does not offer SaslHandshake v1 and "
                  "SaslAuthenticate in its ApiVersions: is this a SASL listener?",
                  c->c_cfg.security_protocol);
        return;
    }
    kc_sasl_free(kb);
    kc_sasl_t *ks = calloc(1, sizeof *ks);
    if (!ks) {
        kc_conn_fail(kb, -ENOMEM, "out of memory");
        return;
    }
    ks->ks_mech = mech_of(c->c_cfg.sasl_mechanism);
    ks->ks_auth_version = (int16_t)au;
    kb->kb_sasl = ks;
    if (kc_conn_send_now(kb, API_SASL_HANDSHAKE, (int16_t)hs, encode_handshake, on_handshake, kb) <
        0)
        kc_conn_fail(kb, -EIO, "cannot send SaslHandshake");
}

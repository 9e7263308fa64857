/* The TLS settings of the broker's SSL and SASL_SSL listeners, with Kafka's
 * names: ssl.keystore.* (the broker's certificate chain and key),
 * ssl.truststore.* (the CAs client certificates are checked against),
 * ssl.key.password and ssl.client.auth. Each may be given for one listener
 * as listener.name.<name in lower case>.ssl.*, which wins over the plain
 * name, as in Kafka.
 *
 * Only PEM is read (ssl.keystore.type=PEM, ssl.truststore.type=PEM): a
 * keystore file holds the private key and the certificate chain, leaf first;
 * Kafka's PEM-in-config keys (ssl.keystore.key, ssl.keystore.certificate.chain,
 * ssl.truststore.certificates) hold the same as text.
 *
 * These settings are kept out of broker_config_defs on purpose: the table is
 * what DescribeConfigs lists, and a key or its password must never be
 * handed to a client.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "broker/broker_int.h"
#include "common/err.h"

static const char *const ssl_keys[] = {
    "ssl.keystore.type",
    "ssl.keystore.location",
    "ssl.key.password",
    "ssl.keystore.key",
    "ssl.keystore.certificate.chain",
    "ssl.truststore.type",
    "ssl.truststore.location",
    "ssl.truststore.certificates",
    "ssl.client.auth",
    NULL,
};

static int ssl_key_known(const char *key)
{
    for (int i = 0; ssl_keys[i]; i++)
        if (strcmp(ssl_keys[i], key) == 0)
            return 1;
    return 0;
}

/* listener.name.<name>.<rest>: the listener's name (upper case) and rest,
 * or 0 when key is not of that form. */
static int split_prefixed(const char *key, char *name, size_t name_size, const char **rest)
{
    static const char pfx[] = "listener.name.";
    if (strncmp(key, pfx, sizeof pfx - 1) != 0)
        return 0;
    const char *n = key + sizeof pfx - 1;
    const char *dot = strchr(n, '.');
    if (!dot || dot == n || (size_t)(dot - n) >= name_size)
        return -1;
    for (size_t i = 0; i < (size_t)(dot - n); i++) {
        char ch = n[i];
        name[i] = ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
    }
    name[dot - n] = 0;
    *rest = dot + 1;
    return 1;
}

/* Kafka settings a broker's server.properties often carries that Eddy takes
 * only at the value it has anyway: 1 when value is that, else a sentence. */
static int ssl_key_fixed(const char *key, const char *value, char *errstr, size_t errstr_size)
{
    if (strcmp(key, "ssl.endpoint.identification.algorithm") == 0)
        return 1; /* Kafka's broker uses it for its own client connections; Eddy makes none */
    if (strcmp(key, "ssl.principal.mapping.rules") == 0) {
        if (strcmp(value, "DEFAULT") == 0)
            return 1;
        snprintf(errstr, errstr_size,
                 "%s: only DEFAULT is supported (the principal is User: and the certificate's "
                 "whole subject)",
                 key);
        return EDDY_ERR_CONFIG;
    }
    if (strcmp(key, "ssl.enabled.protocols") == 0) {
        /* Eddy serves TLSv1.2 and TLSv1.3 (Kafka's default); a narrower list
         * is refused rather than silently widened. */
        int v12 = 0, v13 = 0, other = 0;
        char item[64];
        const char *s = value;
        while (*s) {
            while (*s == ' ' || *s == ',')
                s++;
            size_t n = strcspn(s, ", ");
            if (!n)
                break;
            snprintf(item, sizeof item, "%.*s", (int)n, s);
            v12 |= strcmp(item, "TLSv1.2") == 0;
            v13 |= strcmp(item, "TLSv1.3") == 0;
            other |= strcmp(item, "TLSv1.2") != 0 && strcmp(item, "TLSv1.3") != 0;
            s += n;
        }
        if (v12 && v13 && !other)
            return 1;
        snprintf(errstr, errstr_size,
                 "%s: '%s': Eddy serves exactly TLSv1.2 and TLSv1.3 (Kafka's default); set "
                 "TLSv1.2,TLSv1.3 or leave it out",
                 key, value);
        return EDDY_ERR_CONFIG;
    }
    return 0;
}

int broker_tls_key(const broker_config_t *cfg, const char *key, const char *value, char *errstr,
                   size_t errstr_size)
{
    if (strncmp(key, "ssl.", 4) == 0) {
        if (ssl_key_known(key))
            return 1;
        int fixed = ssl_key_fixed(key, value, errstr, errstr_size);
        if (fixed)
            return fixed;
        if (strcmp(key, "ssl.keystore.password") == 0 ||
            strcmp(key, "ssl.truststore.password") == 0) {
            snprintf(errstr, errstr_size,
                     "%s: PEM stores have no store password (Eddy reads PEM only); the private "
                     "key's password is ssl.key.password",
                     key);
            return EDDY_ERR_CONFIG;
        }
        snprintf(errstr, errstr_size,
                 "%s: not a TLS setting the broker knows (ssl.keystore.location, "
                 "ssl.keystore.certificate.chain, ssl.keystore.key, ssl.key.password, "
                 "ssl.truststore.location, ssl.truststore.certificates, ssl.client.auth, "
                 "ssl.keystore.type, ssl.truststore.type)",
                 key);
        return EDDY_ERR_CONFIG;
    }
    char name[BROKER_LISTENER_NAME_MAX];
    const char *rest;
    int r = split_prefixed(key, name, sizeof name, &rest);
    if (r == 0)
        return 0;
    if (r < 0 || strncmp(rest, "ssl.", 4) != 0)
        return 0; /* not a TLS setting: the schema (or SASL's reader) judges it */
    int found = 0;
    for (int i = 0; i < cfg->nlisteners; i++)
        found |= strcmp(cfg->listener_list[i].lc_name, name) == 0;
    if (!found) {
        snprintf(errstr, errstr_size, "%s: no listener is named %s (listeners=%s)", key, name,
                 cfg->listeners);
        return EDDY_ERR_CONFIG;
    }
    int rc = broker_tls_key(cfg, rest, value, errstr, errstr_size);
    if (rc < 0) {
        char why[512];
        snprintf(why, sizeof why, "%s", errstr);
        snprintf(errstr, errstr_size, "listener.name.%.*s%s", (int)(rest - key - 14), key + 14,
                 why);
    }
    return rc;
}

int broker_tls_is_key(const char *key)
{
    char name[BROKER_LISTENER_NAME_MAX];
    const char *rest;
    if (strncmp(key, "ssl.", 4) == 0)
        return 1;
    return split_prefixed(key, name, sizeof name, &rest) > 0 && strncmp(rest, "ssl.", 4) == 0;
}

/* The listener's value of an ssl.* setting: its own (prefixed), else the
 * plain one, else NULL. */
static const char *ssl_get(const eddy_props_t *props, const broker_listener_cfg_t *lc,
                           const char *key)
{
    if (!props)
        return NULL;
    char pk[256];
    int n = snprintf(pk, sizeof pk, "listener.name.");
    for (const char *p = lc->lc_name; *p && n < (int)sizeof pk - 1; p++)
        pk[n++] = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
    snprintf(pk + n, sizeof pk - (size_t)n, ".%s", key);
    const char *v = eddy_props_get(props, pk);
    if (!v) {
        /* Kafka lower-cases the name; a prefix written in upper case is taken too. */
        snprintf(pk, sizeof pk, "listener.name.%s.%s", lc->lc_name, key);
        v = eddy_props_get(props, pk);
    }
    if (!v)
        v = eddy_props_get(props, key);
    return v && *v ? v : NULL;
}

eddy_tls_ctx_t *broker_listener_tls_ctx(const broker_listener_cfg_t *lc, const eddy_props_t *props,
                                        char *errstr, size_t errstr_size)
{
    char why[768];
    eddy_tls_opts_t o;
    memset(&o, 0, sizeof o);
    const char *kt = ssl_get(props, lc, "ssl.keystore.type");
    const char *tt = ssl_get(props, lc, "ssl.truststore.type");
    if ((kt && strcasecmp(kt, "PEM") != 0) || (tt && strcasecmp(tt, "PEM") != 0)) {
        int kbad = kt && strcasecmp(kt, "PEM") != 0;
        snprintf(errstr, errstr_size,
                 "listener %s: %s=%s: Eddy reads PEM stores only; convert the store to PEM "
                 "(openssl pkcs12 -in store.p12 -nodes) and set it to PEM",
                 lc->lc_name, kbad ? "ssl.keystore.type" : "ssl.truststore.type", kbad ? kt : tt);
        return NULL;
    }
    const char *loc = ssl_get(props, lc, "ssl.keystore.location");
    const char *chain = ssl_get(props, lc, "ssl.keystore.certificate.chain");
    const char *key = ssl_get(props, lc, "ssl.keystore.key");
    if (loc && (chain || key)) {
        snprintf(errstr, errstr_size,
                 "listener %s: ssl.keystore.location and ssl.keystore.certificate.chain/"
                 "ssl.keystore.key both give the certificate: keep one",
                 lc->lc_name);
        return NULL;
    }
    if (!loc && (!chain || !key)) {
        snprintf(errstr, errstr_size,
                 "listener %s (%s) needs a certificate and its key: set ssl.keystore.location "
                 "(a PEM file with the private key and the certificate chain) or "
                 "ssl.keystore.certificate.chain and ssl.keystore.key",
                 lc->lc_name, broker_secproto_names[lc->lc_proto]);
        return NULL;
    }
    o.to_cert_file = o.to_key_file = loc;
    o.to_cert_pem = chain;
    o.to_key_pem = key;
    o.to_key_password = ssl_get(props, lc, "ssl.key.password");
    o.to_ca_file = ssl_get(props, lc, "ssl.truststore.location");
    o.to_ca_pem = ssl_get(props, lc, "ssl.truststore.certificates");
    const char *auth = ssl_get(props, lc, "ssl.client.auth");
    if (!auth || strcasecmp(auth, "none") == 0)
        o.to_client_auth = EDDY_TLS_CLIENT_AUTH_NONE;
    else if (strcasecmp(auth, "requested") == 0)
        o.to_client_auth = EDDY_TLS_CLIENT_AUTH_REQUESTED;
    else if (strcasecmp(auth, "required") == 0)
        o.to_client_auth = EDDY_TLS_CLIENT_AUTH_REQUIRED;
    else {
        snprintf(errstr, errstr_size,
                 "listener %s: ssl.client.auth: '%s' is not none, requested or required",
                 lc->lc_name, auth);
        return NULL;
    }
    if (o.to_client_auth != EDDY_TLS_CLIENT_AUTH_NONE && !o.to_ca_file && !o.to_ca_pem) {
        snprintf(errstr, errstr_size,
                 "listener %s: ssl.client.auth=%s needs the CA certificates that sign the "
                 "clients' certificates: set ssl.truststore.location or "
                 "ssl.truststore.certificates",
                 lc->lc_name, auth);
        return NULL;
    }
    eddy_tls_ctx_t *ctx = eddy_tls_ctx_new(EDDY_TLS_SERVER, &o, why, sizeof why);
    if (!ctx)
        snprintf(errstr, errstr_size, "listener %s: %s%s", lc->lc_name, why,
                 strstr(why, "key password") ? " (ssl.key.password)" : "");
    return ctx;
}

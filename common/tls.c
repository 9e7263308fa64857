/* TLS on memory BIOs (tls.h draws the data flow). OpenSSL keeps its errors in
 * a per-thread queue: every call into it starts with ERR_clear_error() so
 * that a failure's sentence names this session's error, not an old one. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/tls.h"

#if OPENSSL_VERSION_NUMBER < 0x30000000L
#define SSL_get1_peer_certificate SSL_get_peer_certificate
#endif

struct eddy_tls_ctx {
    SSL_CTX *tc_ssl;
    eddy_tls_role_t tc_role;
    int tc_verify_hostname;
};

struct eddy_tls {
    SSL *t_ssl;
    BIO *t_in;  /* ciphertext from the peer; SSL reads it (owned by t_ssl) */
    BIO *t_out; /* ciphertext for the peer; SSL writes it (owned by t_ssl) */
    eddy_tls_role_t t_role;
    int t_open;
    int t_failed;
    int t_peer_closed;
    int t_first_byte; /* the peer's first byte, -1 until one came: tells "not TLS" apart */
    char t_host[256];
    char t_err[512];
};

/* ---- loading PEM ---- */

/* The last OpenSSL reason in the queue, for a sentence ("bad decrypt"). */
static const char *ossl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : "unknown error";
}

/* A BIO over a file or over PEM text; what names it in sentences. */
static BIO *pem_open(const char *file, const char *pem, const char *what, char *errstr,
                     size_t errstr_size)
{
    if (file) {
        FILE *fp = fopen(file, "r");
        if (!fp) {
            snprintf(errstr, errstr_size, "%s %s: %s", what, file, strerror(errno));
            return NULL;
        }
        BIO *b = BIO_new_fp(fp, BIO_CLOSE);
        if (!b) {
            fclose(fp);
            snprintf(errstr, errstr_size, "%s %s: out of memory", what, file);
        }
        return b;
    }
    if (strlen(pem) > INT_MAX) {
        snprintf(errstr, errstr_size, "%s: PEM text too long", what);
        return NULL;
    }
    BIO *b = BIO_new_mem_buf(pem, (int)strlen(pem));
    if (!b)
        snprintf(errstr, errstr_size, "%s: out of memory", what);
    return b;
}

static const char *pem_name(const char *file)
{
    return file ? file : "(PEM text)";
}

/* The leaf first, then the chain that leads to the CA. */
static int load_cert_chain(SSL_CTX *ssl, const char *file, const char *pem, char *errstr,
                           size_t errstr_size)
{
    BIO *b = pem_open(file, pem, "certificate chain", errstr, errstr_size);
    if (!b)
        return -1;
    int rc = -1;
    X509 *leaf = PEM_read_bio_X509_AUX(b, NULL, NULL, NULL);
    if (!leaf) {
        snprintf(errstr, errstr_size, "certificate chain %s: no PEM certificate in it (%s)",
                 pem_name(file), ossl_reason());
        goto out;
    }
    if (SSL_CTX_use_certificate(ssl, leaf) != 1) {
        snprintf(errstr, errstr_size, "certificate chain %s: the certificate is unusable: %s",
                 pem_name(file), ossl_reason());
        goto out;
    }
    SSL_CTX_clear_chain_certs(ssl);
    X509 *x;
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        if (SSL_CTX_add0_chain_cert(ssl, x) != 1) {
            X509_free(x);
            snprintf(errstr, errstr_size, "certificate chain %s: %s", pem_name(file),
                     ossl_reason());
            goto out;
        }
    }
    ERR_clear_error(); /* the end of the file reads as "no start line" */
    rc = 0;
out:
    X509_free(leaf);
    BIO_free(b);
    return rc;
}

struct pw_state {
    const char *ps_password;
    int ps_asked; /* the key is encrypted: OpenSSL asked for a password */
};

/* Never the terminal prompt OpenSSL falls back to: a broker or an app has no
 * one at its terminal, and a prompt would block. */
static int pw_cb(char *buf, int size, int rwflag, void *u)
{
    struct pw_state *ps = u;
    ps->ps_asked = 1;
    if (!ps->ps_password)
        return -1;
    size_t n = strlen(ps->ps_password);
    if (n > (size_t)size)
        return -1;
    memcpy(buf, ps->ps_password, n);
    return (int)n;
}

static int load_key(SSL_CTX *ssl, const char *file, const char *pem, const char *password,
                    char *errstr, size_t errstr_size)
{
    BIO *b = pem_open(file, pem, "private key", errstr, errstr_size);
    if (!b)
        return -1;
    struct pw_state ps = {password, 0};
    EVP_PKEY *key = PEM_read_bio_PrivateKey(b, NULL, pw_cb, &ps);
    BIO_free(b);
    if (!key) {
        if (ps.ps_asked && !password)
            snprintf(errstr, errstr_size,
                     "private key %s: it is encrypted and no key password is set", pem_name(file));
        else if (ps.ps_asked)
            snprintf(errstr, errstr_size,
                     "private key %s: cannot decrypt it with the key password given (%s)",
                     pem_name(file), ossl_reason());
        else
            snprintf(errstr, errstr_size, "private key %s: no PEM private key in it (%s)",
                     pem_name(file), ossl_reason());
        return -1;
    }
    int ok = SSL_CTX_use_PrivateKey(ssl, key) == 1;
    EVP_PKEY_free(key);
    if (!ok || SSL_CTX_check_private_key(ssl) != 1) {
        snprintf(errstr, errstr_size,
                 "private key %s does not belong to the certificate it is configured with (%s)",
                 pem_name(file), ossl_reason());
        return -1;
    }
    return 0;
}

/* The trusted CAs; a server also names them to clients as the issuers it
 * accepts (CertificateRequest), so a client with several certificates
 * picks the right one. */
static int load_ca(SSL_CTX *ssl, eddy_tls_role_t role, const char *file, const char *pem,
                   char *errstr, size_t errstr_size)
{
    struct stat st;
    if (file && stat(file, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (SSL_CTX_load_verify_locations(ssl, NULL, file) != 1) {
            snprintf(errstr, errstr_size, "CA directory %s: %s", file, ossl_reason());
            return -1;
        }
        return 0;
    }
    BIO *b = pem_open(file, pem, "CA file", errstr, errstr_size);
    if (!b)
        return -1;
    X509_STORE *store = SSL_CTX_get_cert_store(ssl);
    int n = 0, rc = 0;
    X509 *x;
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        if (X509_STORE_add_cert(store, x) != 1 ||
            (role == EDDY_TLS_SERVER && SSL_CTX_add_client_CA(ssl, x) != 1)) {
            snprintf(errstr, errstr_size, "CA file %s: %s", pem_name(file), ossl_reason());
            rc = -1;
        }
        X509_free(x);
        if (rc)
            break;
        n++;
    }
    BIO_free(b);
    if (rc == 0 && n == 0) {
        snprintf(errstr, errstr_size, "CA file %s: no PEM certificate in it", pem_name(file));
        rc = -1;
    }
    ERR_clear_error();
    return rc;
}

/* ---- contexts ---- */

eddy_tls_ctx_t *eddy_tls_ctx_new(eddy_tls_role_t role, const eddy_tls_opts_t *o, char *errstr,
                                 size_t errstr_size)
{
    static const eddy_tls_opts_t none;
    if (!o)
        o = &none;
    if ((o->to_cert_file && o->to_cert_pem) || (o->to_key_file && o->to_key_pem) ||
        (o->to_ca_file && o->to_ca_pem)) {
        snprintf(errstr, errstr_size,
                 "a certificate, key or CA is given both as a file and as PEM text: keep one");
        return NULL;
    }
    int has_cert = o->to_cert_file || o->to_cert_pem;
    int has_key = o->to_key_file || o->to_key_pem;
    int has_ca = o->to_ca_file || o->to_ca_pem;
    if (has_cert != has_key) {
        snprintf(errstr, errstr_size,
                 has_cert ? "a certificate is set without its private key"
                          : "a private key is set without its certificate");
        return NULL;
    }
    if (role == EDDY_TLS_SERVER && !has_cert) {
        snprintf(errstr, errstr_size, "a TLS server needs a certificate and its private key");
        return NULL;
    }
    if (role == EDDY_TLS_SERVER && o->to_client_auth != EDDY_TLS_CLIENT_AUTH_NONE && !has_ca) {
        snprintf(errstr, errstr_size,
                 "asking clients for certificates needs the CA certificates to check them "
                 "against (a truststore)");
        return NULL;
    }

    ERR_clear_error();
    eddy_tls_ctx_t *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    ctx->tc_role = role;
    ctx->tc_verify_hostname = role == EDDY_TLS_CLIENT && o->to_verify_hostname;
    ctx->tc_ssl = SSL_CTX_new(role == EDDY_TLS_SERVER ? TLS_server_method() : TLS_client_method());
    if (!ctx->tc_ssl) {
        snprintf(errstr, errstr_size, "cannot make a TLS context: %s", ossl_reason());
        goto fail;
    }
    SSL_CTX *ssl = ctx->tc_ssl;
    /* Kafka's ssl.enabled.protocols default: TLSv1.2 and TLSv1.3. */
    SSL_CTX_set_min_proto_version(ssl, TLS1_2_VERSION);
    SSL_CTX_set_options(ssl, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);

    if (has_cert &&
        (load_cert_chain(ssl, o->to_cert_file, o->to_cert_pem, errstr, errstr_size) ||
         load_key(ssl, o->to_key_file, o->to_key_pem, o->to_key_password, errstr, errstr_size)))
        goto fail;
    if (has_ca) {
        if (load_ca(ssl, role, o->to_ca_file, o->to_ca_pem, errstr, errstr_size))
            goto fail;
    } else if (role == EDDY_TLS_CLIENT && SSL_CTX_set_default_verify_paths(ssl) != 1) {
        snprintf(errstr, errstr_size, "cannot load the system's CA certificates: %s",
                 ossl_reason());
        goto fail;
    }

    if (role == EDDY_TLS_CLIENT) {
        SSL_CTX_set_verify(ssl, SSL_VERIFY_PEER, NULL);
    } else {
        int mode = SSL_VERIFY_NONE;
        if (o->to_client_auth == EDDY_TLS_CLIENT_AUTH_REQUESTED)
            mode = SSL_VERIFY_PEER;
        else if (o->to_client_auth == EDDY_TLS_CLIENT_AUTH_REQUIRED)
            mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        SSL_CTX_set_verify(ssl, mode, NULL);
        /* No session tickets: clients reconnect rarely, and a ticket is a
         * post-handshake message every connection would carry for nothing. */
        SSL_CTX_set_num_tickets(ssl, 0);
        static const unsigned char sid_ctx[] = "eddy";
        SSL_CTX_set_session_id_context(ssl, sid_ctx, sizeof sid_ctx - 1);
    }
    ERR_clear_error();
    return ctx;
fail:
    ERR_clear_error();
    eddy_tls_ctx_destroy(ctx);
    return NULL;
}

void eddy_tls_ctx_destroy(eddy_tls_ctx_t *ctx)
{
    if (!ctx)
        return;
    SSL_CTX_free(ctx->tc_ssl);
    free(ctx);
}

/* ---- sessions ---- */

static int is_ip_address(const char *host)
{
    unsigned char addr[16];
    return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

eddy_tls_t *eddy_tls_new(eddy_tls_ctx_t *ctx, const char *host, char *errstr, size_t errstr_size)
{
    if (ctx->tc_verify_hostname && (!host || !*host)) {
        snprintf(errstr, errstr_size, "host name verification needs the host name connected to");
        return NULL;
    }
    if (host && strlen(host) >= sizeof((eddy_tls_t *)0)->t_host) {
        snprintf(errstr, errstr_size, "host name too long");
        return NULL;
    }
    ERR_clear_error();
    eddy_tls_t *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    t->t_role = ctx->tc_role;
    t->t_first_byte = -1;
    if (host)
        snprintf(t->t_host, sizeof t->t_host, "%s", host);
    t->t_ssl = SSL_new(ctx->tc_ssl);
    BIO *in = BIO_new(BIO_s_mem()), *out = BIO_new(BIO_s_mem());
    if (!t->t_ssl || !in || !out) {
        BIO_free(in);
        BIO_free(out);
        snprintf(errstr, errstr_size, "cannot make a TLS session: %s", ossl_reason());
        goto fail;
    }
    /* An empty input BIO means "wait for more", not end of file. */
    BIO_set_mem_eof_return(in, -1);
    BIO_set_mem_eof_return(out, -1);
    SSL_set_bio(t->t_ssl, in, out);
    t->t_in = in;
    t->t_out = out;

    if (ctx->tc_role == EDDY_TLS_SERVER) {
        SSL_set_accept_state(t->t_ssl);
    } else {
        SSL_set_connect_state(t->t_ssl);
        int ok = 1;
        if (host && *host && is_ip_address(host)) {
            /* RFC 6066: SNI carries DNS names only. */
            if (ctx->tc_verify_hostname)
                ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->t_ssl), host) == 1;
        } else if (host && *host) {
            ok = SSL_set_tlsext_host_name(t->t_ssl, host) == 1;
            if (ok && ctx->tc_verify_hostname) {
                X509_VERIFY_PARAM_set_hostflags(SSL_get0_param(t->t_ssl),
                                                X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
                ok = SSL_set1_host(t->t_ssl, host) == 1;
            }
        }
        if (!ok) {
            snprintf(errstr, errstr_size, "host name '%s' is not usable for TLS: %s", host,
                     ossl_reason());
            goto fail;
        }
    }
    ERR_clear_error();
    return t;
fail:
    ERR_clear_error();
    eddy_tls_destroy(t);
    return NULL;
}

void eddy_tls_destroy(eddy_tls_t *t)
{
    if (!t)
        return;
    SSL_free(t->t_ssl); /* frees both BIOs */
    free(t);
}

/* The session fails for good; t_err says why in a sentence. */
static int fail(eddy_tls_t *t, int ssl_err)
{
    if (t->t_failed)
        return -EPROTO;
    t->t_failed = 1;
    const char *peer = t->t_role == EDDY_TLS_CLIENT ? "the server's" : "the client's";
    long v = SSL_get_verify_result(t->t_ssl);
    unsigned long e = ERR_peek_last_error();
    if (v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH) {
        snprintf(t->t_err, sizeof t->t_err,
                 "host name mismatch: %s certificate does not name '%s' (certificate verify "
                 "failed; ssl.endpoint.identification.algorithm=none turns this check off)",
                 peer, t->t_host);
    } else if (v != X509_V_OK) {
        int untrusted = v == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
                        v == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
                        v == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
                        v == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT;
        snprintf(t->t_err, sizeof t->t_err, "certificate verify failed: %s certificate: %s%s", peer,
                 X509_verify_cert_error_string(v),
                 untrusted ? " (it is not signed by a CA this side trusts)" : "");
    } else if (t->t_role == EDDY_TLS_SERVER &&
               ERR_GET_REASON(e) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
        snprintf(t->t_err, sizeof t->t_err,
                 "the client sent no certificate, and this server requires one (mutual TLS)");
    } else if (t->t_first_byte >= 0 && t->t_first_byte != 0x16 && t->t_first_byte != 0x15) {
        /* Every TLS peer opens with a handshake record (0x16) or an alert (0x15). */
        snprintf(t->t_err, sizeof t->t_err,
                 t->t_role == EDDY_TLS_SERVER
                     ? "the client does not speak TLS (its first byte is 0x%02x: a plaintext "
                       "client on a TLS port?)"
                     : "the server does not speak TLS (its first byte is 0x%02x: a plaintext "
                       "port?)",
                 t->t_first_byte);
    } else if (e) {
        const char *r = ERR_reason_error_string(e);
        snprintf(t->t_err, sizeof t->t_err, "TLS %s failed: %s",
                 t->t_open ? "session" : "handshake", r ? r : "unknown error");
        /* The peer's alert names what it rejected ("tlsv1 alert unknown ca": our
         * certificate is not trusted there). */
        if (r && strstr(r, "alert"))
            snprintf(t->t_err + strlen(t->t_err), sizeof t->t_err - strlen(t->t_err),
                     " (sent by the %s)", t->t_role == EDDY_TLS_CLIENT ? "server" : "client");
    } else {
        snprintf(t->t_err, sizeof t->t_err, "TLS %s failed (OpenSSL error %d)",
                 t->t_open ? "session" : "handshake", ssl_err);
    }
    ERR_clear_error();
    return -EPROTO;
}

ssize_t eddy_tls_feed(eddy_tls_t *t, const void *data, size_t len)
{
    if (t->t_failed)
        return -EPROTO;
    size_t pending = BIO_ctrl_pending(t->t_in);
    size_t room = pending >= EDDY_TLS_IN_MAX ? 0 : EDDY_TLS_IN_MAX - pending;
    size_t n = len < room ? len : room;
    if (n == 0)
        return 0;
    if (t->t_first_byte < 0)
        t->t_first_byte = ((const unsigned char *)data)[0];
    ERR_clear_error();
    int w = BIO_write(t->t_in, data, (int)n);
    if (w != (int)n) {
        ERR_clear_error();
        return -ENOMEM;
    }
    return (ssize_t)n;
}

int eddy_tls_handshake(eddy_tls_t *t)
{
    if (t->t_failed)
        return -EPROTO;
    if (t->t_open)
        return 0;
    ERR_clear_error();
    int r = SSL_do_handshake(t->t_ssl);
    if (r == 1) {
        t->t_open = 1;
        return 0;
    }
    int e = SSL_get_error(t->t_ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 1;
    return fail(t, e);
}

int eddy_tls_is_open(const eddy_tls_t *t)
{
    return t->t_open && !t->t_failed;
}

ssize_t eddy_tls_read(eddy_tls_t *t, void *buf, size_t cap)
{
    if (t->t_failed)
        return -EPROTO;
    if (t->t_peer_closed)
        return -EPIPE;
    if (!t->t_open) {
        int h = eddy_tls_handshake(t);
        if (h < 0)
            return h;
        if (h > 0)
            return 0;
    }
    if (cap == 0)
        return 0;
    ERR_clear_error();
    int r = SSL_read(t->t_ssl, buf, cap > INT_MAX ? INT_MAX : (int)cap);
    if (r > 0)
        return r;
    int e = SSL_get_error(t->t_ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    if (e == SSL_ERROR_ZERO_RETURN) {
        t->t_peer_closed = 1;
        ERR_clear_error();
        return -EPIPE;
    }
    return fail(t, e);
}

ssize_t eddy_tls_write(eddy_tls_t *t, const void *data, size_t len)
{
    if (t->t_failed)
        return -EPROTO;
    if (!t->t_open || len == 0)
        return 0;
    size_t pending = BIO_ctrl_pending(t->t_out);
    if (pending >= EDDY_TLS_OUT_MAX)
        return 0;
    size_t n = EDDY_TLS_OUT_MAX - pending;
    if (n > len)
        n = len;
    ERR_clear_error();
    /* The output BIO grows as needed, so SSL_write takes all n bytes (no
     * renegotiation can make it wait for the peer). */
    int r = SSL_write(t->t_ssl, data, (int)n);
    if (r > 0)
        return r;
    int e = SSL_get_error(t->t_ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    return fail(t, e);
}

size_t eddy_tls_out_pending(const eddy_tls_t *t)
{
    return BIO_ctrl_pending(t->t_out);
}

size_t eddy_tls_out_take(eddy_tls_t *t, void *buf, size_t cap)
{
    if (cap == 0)
        return 0;
    int r = BIO_read(t->t_out, buf, cap > INT_MAX ? INT_MAX : (int)cap);
    return r > 0 ? (size_t)r : 0;
}

void eddy_tls_close(eddy_tls_t *t)
{
    if (t->t_open && !t->t_failed) {
        ERR_clear_error();
        SSL_shutdown(t->t_ssl);
        ERR_clear_error();
    }
}

int eddy_tls_peer_subject(const eddy_tls_t *t, char *buf, size_t cap)
{
    if (cap)
        buf[0] = 0;
    if (!t->t_open || t->t_failed)
        return -ENOENT;
    X509 *x = SSL_get1_peer_certificate(t->t_ssl);
    if (!x)
        return -ENOENT;
    BIO *b = BIO_new(BIO_s_mem());
    int rc = -ENOMEM;
    if (b) {
        /* RFC 2253 as Java's X500Principal.getName() writes it: the last RDN
         * first, "," between them, UTF-8 kept as it is (not \XX escaped). */
        unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
        if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0, flags) >= 0) {
            char *p;
            long n = BIO_get_mem_data(b, &p);
            if (n >= 0 && (size_t)n < cap) {
                memcpy(buf, p, (size_t)n);
                buf[n] = 0;
                rc = (int)n;
            } else {
                if (cap) {
                    memcpy(buf, p, cap - 1);
                    buf[cap - 1] = 0;
                }
                rc = -ENOSPC;
            }
        }
        BIO_free(b);
    }
    X509_free(x);
    ERR_clear_error();
    return rc;
}

const char *eddy_tls_version(const eddy_tls_t *t)
{
    return t->t_open ? SSL_get_version(t->t_ssl) : "";
}

const char *eddy_tls_cipher(const eddy_tls_t *t)
{
    const char *c = t->t_open ? SSL_get_cipher_name(t->t_ssl) : NULL;
    return c ? c : "";
}

const char *eddy_tls_errstr(const eddy_tls_t *t)
{
    return t->t_err;
}

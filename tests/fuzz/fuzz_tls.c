/* libFuzzer target for the TLS engine (common/tls.c): what a peer may send
 * during and after the handshake, for both roles. The first input byte picks
 * the case; the rest is the peer's bytes, fed in chunks whose sizes the
 * input also picks, so record boundaries fall anywhere:
 *
 *   0  a server session fed the bytes as they are (a client's first flight)
 *   1  a server session fed a real ClientHello patched at (offset, byte)
 *      pairs taken from the input: deep into the handshake parser
 *   2  a client session, after its ClientHello, fed the bytes as the
 *      server's answer
 *   3  a server session after a complete handshake with a real client, fed
 *      the bytes as records (the record layer of an open session)
 *
 * Whatever comes, each call returns one of its documented results, a failed
 * session stays failed with a sentence, and the buffers stay in their bounds.
 * The certificate is made at start-up with OpenSSL's API (no files).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/tls.h"

static eddy_tls_ctx_t *server_ctx, *client_ctx;
static unsigned char *client_hello;
static size_t client_hello_len;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_tls: %s:%d: %s\n", __FILE__, __LINE__, #cond);                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static char *bio_text(BIO *b)
{
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *s = malloc((size_t)n + 1);
    memcpy(s, p, (size_t)n);
    s[n] = 0;
    return s;
}

/* A self-signed EC certificate for localhost, as PEM text. */
static void make_cert(char **cert_pem, char **key_pem)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    CHECK(key && x);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 30L * 24 * 3600);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1,
                               0);
    X509_set_issuer_name(x, name);
    X509_set_pubkey(x, key);
    CHECK(X509_sign(x, key, EVP_sha256()) > 0);
    BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
    CHECK(PEM_write_bio_X509(cb, x) == 1);
    CHECK(PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) == 1);
    *cert_pem = bio_text(cb);
    *key_pem = bio_text(kb);
    BIO_free(cb);
    BIO_free(kb);
    X509_free(x);
    EVP_PKEY_free(key);
}

/* All the ciphertext a session holds, appended to *buf. */
static void drain(eddy_tls_t *t, unsigned char **buf, size_t *len)
{
    size_t n = eddy_tls_out_pending(t);
    CHECK(n <= EDDY_TLS_OUT_MAX + 64 * 1024);
    if (n == 0)
        return;
    *buf = realloc(*buf, *len + n);
    CHECK(*buf);
    CHECK(eddy_tls_out_take(t, *buf + *len, n) == n);
    *len += n;
}

static void move(eddy_tls_t *from, eddy_tls_t *to)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    drain(from, &buf, &len);
    if (len)
        CHECK(eddy_tls_feed(to, buf, len) == (ssize_t)len);
    free(buf);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char *cert, *key, err[512];
    make_cert(&cert, &key);
    eddy_tls_opts_t so = {.to_cert_pem = cert,
                          .to_key_pem = key,
                          .to_ca_pem = cert,
                          .to_client_auth = EDDY_TLS_CLIENT_AUTH_REQUESTED};
    server_ctx = eddy_tls_ctx_new(EDDY_TLS_SERVER, &so, err, sizeof err);
    eddy_tls_opts_t co = {.to_ca_pem = cert, .to_verify_hostname = 1};
    client_ctx = eddy_tls_ctx_new(EDDY_TLS_CLIENT, &co, err, sizeof err);
    CHECK(server_ctx && client_ctx);
    free(cert);
    free(key);
    eddy_tls_t *c = eddy_tls_new(client_ctx, "localhost", err, sizeof err);
    CHECK(c && eddy_tls_handshake(c) == 1);
    drain(c, &client_hello, &client_hello_len);
    CHECK(client_hello_len > 0);
    eddy_tls_destroy(c);
    return 0;
}

/* Feeds data to t in chunks of sizes from sizes[] (cycled), driving the
 * session after each one as a caller would, and checks every result. */
static void feed_all(eddy_tls_t *t, const uint8_t *data, size_t len, const uint8_t *sizes,
                     size_t nsizes)
{
    unsigned char plain[4096];
    size_t off = 0, k = 0;
    while (off < len) {
        size_t chunk = nsizes ? 1 + (size_t)sizes[k++ % nsizes] * 7 : len - off;
        if (chunk > len - off)
            chunk = len - off;
        ssize_t fed = eddy_tls_feed(t, data + off, chunk);
        if (fed < 0) {
            CHECK(fed == -EPROTO && eddy_tls_errstr(t)[0]);
            return;
        }
        CHECK((size_t)fed <= chunk);
        off += (size_t)fed;
        ssize_t r;
        do {
            r = eddy_tls_read(t, plain, sizeof plain);
            CHECK(r >= 0 || r == -EPROTO || r == -EPIPE);
            CHECK(r <= (ssize_t)sizeof plain);
        } while (r > 0);
        unsigned char *out = NULL;
        size_t outlen = 0;
        drain(t, &out, &outlen);
        free(out);
        if (r < 0) {
            CHECK(r == -EPIPE || (r == -EPROTO && eddy_tls_errstr(t)[0]));
            /* A failed session stays failed. */
            if (r == -EPROTO)
                CHECK(eddy_tls_handshake(t) == -EPROTO && eddy_tls_write(t, "x", 1) == -EPROTO);
            return;
        }
        if (fed == 0 && r == 0)
            return; /* full and nothing to read: only a caller's bug would get here */
    }
    CHECK(eddy_tls_write(t, "ping", 4) >= 0);
    char subj[256];
    int s = eddy_tls_peer_subject(t, subj, sizeof subj);
    CHECK(s == -ENOENT || (s >= 0 && (size_t)s == strlen(subj)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int mode = data[0] % 4;
    size_t nsizes = data[1] % 8;
    data += 2;
    size -= 2;
    if (nsizes > size)
        nsizes = size;
    const uint8_t *sizes = data;
    data += nsizes;
    size -= nsizes;
    char err[256];

    if (mode == 0) {
        eddy_tls_t *s = eddy_tls_new(server_ctx, NULL, err, sizeof err);
        feed_all(s, data, size, sizes, nsizes);
        eddy_tls_destroy(s);
    } else if (mode == 1) {
        unsigned char *hello = malloc(client_hello_len);
        memcpy(hello, client_hello, client_hello_len);
        for (size_t i = 0; i + 2 < size; i += 3) {
            size_t at = ((size_t)data[i] << 8 | data[i + 1]) % client_hello_len;
            hello[at] = data[i + 2];
        }
        eddy_tls_t *s = eddy_tls_new(server_ctx, NULL, err, sizeof err);
        feed_all(s, hello, client_hello_len, sizes, nsizes);
        eddy_tls_destroy(s);
        free(hello);
    } else if (mode == 2) {
        eddy_tls_t *c = eddy_tls_new(client_ctx, "localhost", err, sizeof err);
        CHECK(eddy_tls_handshake(c) == 1);
        unsigned char *out = NULL;
        size_t outlen = 0;
        drain(c, &out, &outlen);
        free(out);
        feed_all(c, data, size, sizes, nsizes);
        eddy_tls_destroy(c);
    } else {
        eddy_tls_t *c = eddy_tls_new(client_ctx, "localhost", err, sizeof err);
        eddy_tls_t *s = eddy_tls_new(server_ctx, NULL, err, sizeof err);
        int hc = 1, hs = 1;
        for (int round = 0; round < 10 && (hc > 0 || hs > 0); round++) {
            hc = eddy_tls_handshake(c);
            move(c, s);
            hs = eddy_tls_handshake(s);
            move(s, c);
        }
        CHECK(hc == 0 && hs == 0);
        feed_all(s, data, size, sizes, nsizes);
        eddy_tls_destroy(c);
        eddy_tls_destroy(s);
    }
    return 0;
}

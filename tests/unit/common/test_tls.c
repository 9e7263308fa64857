/* The TLS engine: a server and a client session talk through memory with
 * certificates that tests/security/certs.sh makes for this run. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/tls.h"

#define PASSWORD "test-key-pass"

static char dir[256];

static void certs_setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/eddy-tls-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "sh %s/tests/security/certs.sh %s %s", EDDY_SOURCE_DIR, dir,
             PASSWORD);
    ck_assert_int_eq(system(cmd), 0);
}

static void certs_teardown(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

/* A path inside the run's certificate directory; a few live at once. */
static const char *path(const char *name)
{
    static char bufs[8][512];
    static int next;
    char *p = bufs[next++ % 8];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

static char *slurp(const char *file)
{
    FILE *fp = fopen(file, "r");
    ck_assert_ptr_nonnull(fp);
    char *s = calloc(1, 65536);
    size_t n = fread(s, 1, 65535, fp);
    fclose(fp);
    ck_assert_uint_gt(n, 0);
    return s;
}

static char errstr[512];

static eddy_tls_ctx_t *server_ctx(eddy_tls_client_auth_t auth)
{
    eddy_tls_opts_t o = {.to_cert_file = path("server.pem"),
                         .to_key_file = path("server.key"),
                         .to_client_auth = auth};
    if (auth != EDDY_TLS_CLIENT_AUTH_NONE)
        o.to_ca_file = path("ca.pem");
    eddy_tls_ctx_t *ctx = eddy_tls_ctx_new(EDDY_TLS_SERVER, &o, errstr, sizeof errstr);
    ck_assert_msg(ctx != NULL, "%s", errstr);
    return ctx;
}

static eddy_tls_ctx_t *client_ctx(const char *ca, const char *cert, const char *key, int verify)
{
    eddy_tls_opts_t o = {.to_ca_file = path(ca),
                         .to_cert_file = cert ? path(cert) : NULL,
                         .to_key_file = key ? path(key) : NULL,
                         .to_verify_hostname = verify};
    eddy_tls_ctx_t *ctx = eddy_tls_ctx_new(EDDY_TLS_CLIENT, &o, errstr, sizeof errstr);
    ck_assert_msg(ctx != NULL, "%s", errstr);
    return ctx;
}

/* Moves all pending ciphertext from one session to the other. */
static void move(eddy_tls_t *from, eddy_tls_t *to)
{
    char buf[4096];
    size_t n;
    while ((n = eddy_tls_out_take(from, buf, sizeof buf)) > 0) {
        ssize_t w = eddy_tls_feed(to, buf, n);
        if (w < 0)
            return; /* the receiver has failed: what it was sent no longer matters */
        ck_assert_int_eq(w, (ssize_t)n);
    }
}

/* Runs both handshakes to their end: 0 when both complete, else the first
 * failure's code in *crc / *src. */
static void handshake(eddy_tls_t *c, eddy_tls_t *s, int *crc, int *src)
{
    *crc = *src = 1;
    for (int round = 0; round < 20 && (*crc > 0 || *src > 0); round++) {
        if (*crc > 0)
            *crc = eddy_tls_handshake(c);
        move(c, s);
        if (*src > 0)
            *src = eddy_tls_handshake(s);
        move(s, c);
        if (*crc < 0 || *src < 0) {
            /* the other side hears the alert on its next step */
            if (*crc > 0)
                *crc = eddy_tls_handshake(c);
            if (*src > 0)
                *src = eddy_tls_handshake(s);
            break;
        }
    }
}

/* Sends len bytes from a to b and checks they arrive unchanged. */
static void exchange(eddy_tls_t *a, eddy_tls_t *b, size_t len)
{
    unsigned char *data = malloc(len), *got = malloc(len);
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)(i * 7 + (i >> 11));
    size_t sent = 0, recvd = 0;
    while (recvd < len) {
        if (sent < len) {
            ssize_t w = eddy_tls_write(a, data + sent, len - sent);
            ck_assert_int_ge(w, 0);
            sent += (size_t)w;
        }
        /* The receiver's input is bounded: feed what it takes, read the
         * plaintext out, feed the rest. */
        char buf[16384];
        size_t n;
        while ((n = eddy_tls_out_take(a, buf, sizeof buf)) > 0) {
            for (size_t off = 0; off < n;) {
                ssize_t w = eddy_tls_feed(b, buf + off, n - off);
                ck_assert_int_ge(w, 0);
                off += (size_t)w;
                ssize_t r;
                while ((r = eddy_tls_read(b, got + recvd, len - recvd)) > 0)
                    recvd += (size_t)r;
                ck_assert_int_eq(r, 0);
            }
        }
    }
    ck_assert_int_eq(memcmp(data, got, len), 0);
    free(data);
    free(got);
}

START_TEST(test_handshake_and_data_both_ways)
{
    eddy_tls_ctx_t *sc = server_ctx(EDDY_TLS_CLIENT_AUTH_NONE);
    eddy_tls_ctx_t *cc = client_ctx("ca.pem", NULL, NULL, 1);
    eddy_tls_t *s = eddy_tls_new(sc, NULL, errstr, sizeof errstr);
    eddy_tls_t *c = eddy_tls_new(cc, "localhost", errstr, sizeof errstr);
    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_nonnull(c);
    /* The contexts may go before their sessions. */
    eddy_tls_ctx_destroy(sc);
    eddy_tls_ctx_destroy(cc);

    ck_assert_int_eq(eddy_tls_write(c, "early", 5), 0); /* nothing before the handshake */
    int crc, src;
    handshake(c, s, &crc, &src);
    ck_assert_msg(crc == 0 && src == 0, "client %d server %d: %s / %s", crc, src,
                  eddy_tls_errstr(c), eddy_tls_errstr(s));
    ck_assert(eddy_tls_is_open(c) && eddy_tls_is_open(s));
    ck_assert_str_eq(eddy_tls_version(c), "TLSv1.3");
    ck_assert_str_ne(eddy_tls_cipher(s), "");

    exchange(c, s, 100);
    exchange(s, c, 3 * 1024 * 1024); /* more than one record, more than the output bound */
    exchange(c, s, 1);

    /* The client saw the server's certificate; the server asked for none. */
    char subj[256];
    ck_assert_int_gt(eddy_tls_peer_subject(c, subj, sizeof subj), 0);
    ck_assert_str_eq(subj, "CN=localhost");
    ck_assert_int_eq(eddy_tls_peer_subject(s, subj, sizeof subj), -ENOENT);

    /* close_notify ends the session for the reader. */
    eddy_tls_close(c);
    move(c, s);
    char buf[16];
    ck_assert_int_eq(eddy_tls_read(s, buf, sizeof buf), -EPIPE);
    eddy_tls_destroy(c);
    eddy_tls_destroy(s);
}
END_TEST

START_TEST(test_mutual_tls_subject)
{
    eddy_tls_ctx_t *sc = server_ctx(EDDY_TLS_CLIENT_AUTH_REQUIRED);
    eddy_tls_ctx_t *cc = client_ctx("ca.pem", "client.pem", "client.key", 1);
    eddy_tls_t *s = eddy_tls_new(sc, NULL, errstr, sizeof errstr);
    eddy_tls_t *c = eddy_tls_new(cc, "127.0.0.1", errstr, sizeof errstr);
    int crc, src;
    handshake(c, s, &crc, &src);
    ck_assert_msg(crc == 0 && src == 0, "%s / %s", eddy_tls_errstr(c), eddy_tls_errstr(s));
    char subj[256];
    ck_assert_int_eq(eddy_tls_peer_subject(s, subj, sizeof subj), (int)strlen("CN=alice"));
    ck_assert_str_eq(subj, "CN=alice");
    /* A buffer too small says so and stays a C string. */
    ck_assert_int_eq(eddy_tls_peer_subject(s, subj, 4), -ENOSPC);
    ck_assert_str_eq(subj, "CN=");
    exchange(s, c, 5000);
    eddy_tls_destroy(c);
    eddy_tls_destroy(s);
    eddy_tls_ctx_destroy(cc);
    eddy_tls_ctx_destroy(sc);
}
END_TEST

START_TEST(test_client_auth_required_and_requested)
{
    /* Required: a client without a certificate is turned away. */
    eddy_tls_ctx_t *sc = server_ctx(EDDY_TLS_CLIENT_AUTH_REQUIRED);
    eddy_tls_ctx_t *cc = client_ctx("ca.pem", NULL, NULL, 1);
    eddy_tls_t *s = eddy_tls_new(sc, NULL, errstr, sizeof errstr);
    eddy_tls_t *c = eddy_tls_new(cc, "localhost", errstr, sizeof errstr);
    int crc, src;
    handshake(c, s, &crc, &src);
    ck_assert_int_eq(src, -EPROTO);
    ck_assert_msg(strstr(eddy_tls_errstr(s), "certificate") != NULL, "%s", eddy_tls_errstr(s));
    /* TLS 1.3: the client learns it from the alert on its next read. */
    char buf[16];
    ck_assert_int_eq(eddy_tls_read(c, buf, sizeof buf), -EPROTO);
    ck_assert_msg(strstr(eddy_tls_errstr(c), "sent by the server") != NULL, "%s",
                  eddy_tls_errstr(c));
    eddy_tls_destroy(c);
    eddy_tls_destroy(s);

    /* A certificate from a CA the server does not trust is refused. */
    eddy_tls_ctx_t *rogue = client_ctx("ca.pem", "rogue-client.pem", "rogue-client.key", 1);
    s = eddy_tls_new(sc, NULL, errstr, sizeof errstr);
    c = eddy_tls_new(rogue, "localhost", errstr, sizeof errstr);
    handshake(c, s, &crc, &src);
    ck_assert_int_eq(src, -EPROTO);
    ck_assert_msg(strstr(eddy_tls_errstr(s), "certificate verify failed: the client's") != NULL,
                  "%s", eddy_tls_errstr(s));
    ck_assert_int_eq(eddy_tls_peer_subject(s, buf, sizeof buf), -ENOENT);
    eddy_tls_destroy(c);
    eddy_tls_destroy(s);
    eddy_tls_ctx_destroy(sc);

    /* Requested: without a certificate the client gets in, anonymous. */
    sc = server_ctx(EDDY_TLS_CLIENT_AUTH_REQUESTED);
    s = eddy_tls_new(sc, NULL, errstr, sizeof errstr);
    c = eddy_tls_new(cc, "localhost", errstr, sizeof errstr);
    handshake(c, s, &crc, &src);
    ck_assert_msg(crc == 0 && src == 0, "%s / %s", eddy_tls_errstr(c), eddy_tls_errstr(s));
    ck_assert_int_eq(eddy_tls_peer_subject(s, buf, sizeof buf), -ENOENT);
    exchange(c, s, 10);
    eddy_tls_destroy(c);
    eddy_tls_destroy(s);
    eddy_tls_ctx_destroy(sc);
    eddy_tls_ctx_destroy(cc);
    eddy_tls_ctx_destroy(rogue);
}
END_TEST

START_TEST(test_wrong_ca_fails)
{
    eddy_tls_ctx_t *sc = server_ctx(EDDY_TLS_CLIENT_AUTH_NONE);
    eddy_tls_ctx_t *cc = client_ctx("other-ca.pem", NULL, NULL, 1);
    eddy_tls_t *s = eddy_tls_new(sc, NULL, errstr, sizeof errstr);
    eddy_tls_t *c = eddy_tls_new(cc, "localhost", errstr, sizeof errstr);
    int crc, src;
    handshake(c, s, &crc, &src);
    ck_assert_int_eq(crc, -EPROTO);
    ck_assert_msg(strstr(eddy_tls_errstr(c), "certificate verify failed: the server's") != NULL,
                  "%s", eddy_tls_errstr(c));
    /* The server hears the client's alert. */
    ck_assert_int_eq(src, -EPROTO);
    ck_assert_msg(strstr(eddy_tls_errstr(s), "unknown ca") != NULL, "%s", eddy_tls_errstr(s));
    /* A failed session stays failed. */
    char buf[8];
    ck_assert_int_eq(eddy_tls_read(c, buf, sizeof buf), -EPROTO);
    ck_assert_int_eq(eddy_tls_write(c, "x", 1), -EPROTO);
    ck_assert_int_eq(eddy_tls_feed(c, "x", 1), -EPROTO);
    eddy_tls_destroy(c);
    eddy_tls_destroy(s);
    eddy_tls_ctx_destroy(cc);
    eddy_tls_ctx_destroy(sc);
}
END_TEST

/* The handshake of a client for host against the test server. */
static int client_to(const char *host, int verify, char *why, size_t why_size)
{
    eddy_tls_ctx_t *sc = server_ctx(EDDY_TLS_CLIENT_AUTH_NONE);
    eddy_tls_ctx_t *cc = client_ctx("ca.pem", NULL, NULL, verify);
    eddy_tls_t *s = eddy_tls_new(sc, NULL, errstr, sizeof errstr);
    eddy_tls_t *c = eddy_tls_new(cc, host, errstr, sizeof errstr);
    ck_assert_ptr_nonnull(c);
    int crc, src;
    handshake(c, s, &crc, &src);
    snprintf(why, why_size, "%s", eddy_tls_errstr(c));
    eddy_tls_destroy(c);
    eddy_tls_destroy(s);
    eddy_tls_ctx_destroy(cc);
    eddy_tls_ctx_destroy(sc);
    return crc;
}

START_TEST(test_host_name_mismatch_fails)
{
    char why[512];
    ck_assert_int_eq(client_to("localhost", 1, why, sizeof why), 0);
    ck_assert_int_eq(client_to("127.0.0.1", 1, why, sizeof why), 0);
    ck_assert_int_eq(client_to("example.com", 1, why, sizeof why), -EPROTO);
    ck_assert_msg(strstr(why, "host name mismatch") && strstr(why, "'example.com'"), "%s", why);
    ck_assert_int_eq(client_to("127.0.0.2", 1, why, sizeof why), -EPROTO);
    ck_assert_msg(strstr(why, "host name mismatch") && strstr(why, "'127.0.0.2'"), "%s", why);
    /* A subdomain does not match a plain name. */
    ck_assert_int_eq(client_to("a.localhost", 1, why, sizeof why), -EPROTO);
    /* Without the check the same certificate is accepted (its CA still is checked). */
    ck_assert_int_eq(client_to("example.com", 0, why, sizeof why), 0);
}
END_TEST

START_TEST(test_garbage_fails_cleanly)
{
    eddy_tls_ctx_t *sc = server_ctx(EDDY_TLS_CLIENT_AUTH_NONE);
    eddy_tls_ctx_t *cc = client_ctx("ca.pem", NULL, NULL, 1);

    /* A Kafka request on a TLS port: size, api key 18 (ApiVersions), ... */
    static const unsigned char kafka[] = {0, 0, 0, 20, 0, 18, 0, 3, 0, 0, 0, 1, 0, 4, 'e', 'd'};
    eddy_tls_t *s = eddy_tls_new(sc, NULL, errstr, sizeof errstr);
    ck_assert_int_eq(eddy_tls_feed(s, kafka, sizeof kafka), (ssize_t)sizeof kafka);
    ck_assert_int_eq(eddy_tls_handshake(s), -EPROTO);
    ck_assert_msg(strstr(eddy_tls_errstr(s), "does not speak TLS (its first byte is 0x00"), "%s",
                  eddy_tls_errstr(s));
    eddy_tls_destroy(s);

    /* A handshake record header with nonsense behind it. */
    unsigned char junk[600];
    junk[0] = 0x16, junk[1] = 3, junk[2] = 1, junk[3] = 2, junk[4] = 0x50;
    for (size_t i = 5; i < sizeof junk; i++)
        junk[i] = (unsigned char)(i * 31 + 7);
    s = eddy_tls_new(sc, NULL, errstr, sizeof errstr);
    ck_assert_int_eq(eddy_tls_feed(s, junk, sizeof junk), (ssize_t)sizeof junk);
    char buf[64];
    ck_assert_int_eq(eddy_tls_read(s, buf, sizeof buf), -EPROTO);
    ck_assert_msg(strstr(eddy_tls_errstr(s), "TLS handshake failed: "), "%s", eddy_tls_errstr(s));
    ck_assert_int_eq(eddy_tls_handshake(s), -EPROTO);
    eddy_tls_destroy(s);

    /* A server that answers in plaintext. */
    eddy_tls_t *c = eddy_tls_new(cc, "localhost", errstr, sizeof errstr);
    ck_assert_int_eq(eddy_tls_handshake(c), 1);
    ck_assert_uint_gt(eddy_tls_out_pending(c), 0); /* the ClientHello */
    ck_assert_int_eq(eddy_tls_feed(c, kafka, sizeof kafka), (ssize_t)sizeof kafka);
    ck_assert_int_eq(eddy_tls_handshake(c), -EPROTO);
    ck_assert_msg(strstr(eddy_tls_errstr(c), "the server does not speak TLS"), "%s",
                  eddy_tls_errstr(c));
    eddy_tls_destroy(c);

    /* Garbage after a good handshake: a corrupted record fails the session. */
    s = eddy_tls_new(sc, NULL, errstr, sizeof errstr);
    c = eddy_tls_new(cc, "localhost", errstr, sizeof errstr);
    int crc, src;
    handshake(c, s, &crc, &src);
    ck_assert(crc == 0 && src == 0);
    ck_assert_int_eq(eddy_tls_write(c, "hello", 5), 5);
    unsigned char rec[256];
    size_t n = eddy_tls_out_take(c, rec, sizeof rec);
    ck_assert_uint_gt(n, 10);
    rec[n - 3] ^= 0x40;
    ck_assert_int_eq(eddy_tls_feed(s, rec, n), (ssize_t)n);
    ck_assert_int_eq(eddy_tls_read(s, buf, sizeof buf), -EPROTO);
    ck_assert_msg(strstr(eddy_tls_errstr(s), "TLS session failed: "), "%s", eddy_tls_errstr(s));
    eddy_tls_destroy(c);
    eddy_tls_destroy(s);
    eddy_tls_ctx_destroy(cc);
    eddy_tls_ctx_destroy(sc);
}
END_TEST

START_TEST(test_buffers_are_bounded)
{
    eddy_tls_ctx_t *sc = server_ctx(EDDY_TLS_CLIENT_AUTH_NONE);
    eddy_tls_ctx_t *cc = client_ctx("ca.pem", NULL, NULL, 1);
    eddy_tls_t *s = eddy_tls_new(sc, NULL, errstr, sizeof errstr);
    eddy_tls_t *c = eddy_tls_new(cc, "localhost", errstr, sizeof errstr);
    int crc, src;
    handshake(c, s, &crc, &src);
    ck_assert(crc == 0 && src == 0);

    /* A writer whose output nobody sends is stopped at the bound. */
    static char chunk[100000];
    size_t total = 0;
    ssize_t w;
    while ((w = eddy_tls_write(c, chunk, sizeof chunk)) > 0)
        total += (size_t)w;
    ck_assert_int_eq(w, 0);
    ck_assert_uint_le(eddy_tls_out_pending(c), EDDY_TLS_OUT_MAX + 1024);
    ck_assert_uint_ge(total, EDDY_TLS_OUT_MAX - 1024);

    /* A peer that sends faster than plaintext is read is held at the bound:
     * the rest is taken once plaintext has been read. */
    static unsigned char cipher[2 * EDDY_TLS_OUT_MAX];
    size_t n = eddy_tls_out_take(c, cipher, sizeof cipher);
    ck_assert_uint_gt(n, EDDY_TLS_IN_MAX);
    ssize_t fed = eddy_tls_feed(s, cipher, n);
    ck_assert_int_eq(fed, EDDY_TLS_IN_MAX);
    ck_assert_int_eq(eddy_tls_feed(s, cipher + fed, n - (size_t)fed), 0);
    size_t got = 0;
    ssize_t r;
    while ((r = eddy_tls_read(s, chunk, sizeof chunk)) > 0)
        got += (size_t)r;
    ck_assert_int_eq(r, 0);
    ck_assert_int_eq(eddy_tls_feed(s, cipher + fed, n - (size_t)fed), (ssize_t)(n - (size_t)fed));
    while ((r = eddy_tls_read(s, chunk, sizeof chunk)) > 0)
        got += (size_t)r;
    ck_assert_uint_eq(got, total);
    eddy_tls_destroy(c);
    eddy_tls_destroy(s);
    eddy_tls_ctx_destroy(cc);
    eddy_tls_ctx_destroy(sc);
}
END_TEST

START_TEST(test_pem_text_and_encrypted_keys)
{
    /* PEM text instead of files, an encrypted key and a chain with the CA. */
    char *chain = slurp(path("server-chain.pem")), *key = slurp(path("server-enc.key"));
    char *ca = slurp(path("ca.pem"));
    eddy_tls_opts_t so = {.to_cert_pem = chain, .to_key_pem = key, .to_key_password = PASSWORD};
    eddy_tls_ctx_t *sc = eddy_tls_ctx_new(EDDY_TLS_SERVER, &so, errstr, sizeof errstr);
    ck_assert_msg(sc != NULL, "%s", errstr);
    eddy_tls_opts_t co = {.to_ca_pem = ca, .to_verify_hostname = 1};
    eddy_tls_ctx_t *cc = eddy_tls_ctx_new(EDDY_TLS_CLIENT, &co, errstr, sizeof errstr);
    ck_assert_msg(cc != NULL, "%s", errstr);
    eddy_tls_t *s = eddy_tls_new(sc, NULL, errstr, sizeof errstr);
    eddy_tls_t *c = eddy_tls_new(cc, "localhost", errstr, sizeof errstr);
    int crc, src;
    handshake(c, s, &crc, &src);
    ck_assert_msg(crc == 0 && src == 0, "%s / %s", eddy_tls_errstr(c), eddy_tls_errstr(s));
    exchange(c, s, 777);
    eddy_tls_destroy(c);
    eddy_tls_destroy(s);
    eddy_tls_ctx_destroy(cc);
    eddy_tls_ctx_destroy(sc);

    /* The same key from its file: the password works there too. */
    eddy_tls_opts_t fo = {.to_cert_file = path("server.pem"),
                          .to_key_file = path("server-enc.key"),
                          .to_key_password = PASSWORD};
    sc = eddy_tls_ctx_new(EDDY_TLS_SERVER, &fo, errstr, sizeof errstr);
    ck_assert_msg(sc != NULL, "%s", errstr);
    eddy_tls_ctx_destroy(sc);

    /* Wrong password, no password: sentences that name the file. */
    fo.to_key_password = "wrong";
    ck_assert_ptr_null(eddy_tls_ctx_new(EDDY_TLS_SERVER, &fo, errstr, sizeof errstr));
    ck_assert_msg(strstr(errstr, path("server-enc.key")) && strstr(errstr, "cannot decrypt"), "%s",
                  errstr);
    fo.to_key_password = NULL;
    ck_assert_ptr_null(eddy_tls_ctx_new(EDDY_TLS_SERVER, &fo, errstr, sizeof errstr));
    ck_assert_msg(strstr(errstr, "it is encrypted and no key password is set"), "%s", errstr);
    free(chain);
    free(key);
    free(ca);
}
END_TEST

START_TEST(test_bad_settings_name_the_file)
{
    eddy_tls_opts_t o = {.to_cert_file = path("missing.pem"), .to_key_file = path("server.key")};
    ck_assert_ptr_null(eddy_tls_ctx_new(EDDY_TLS_SERVER, &o, errstr, sizeof errstr));
    ck_assert_msg(strstr(errstr, "missing.pem: No such file or directory"), "%s", errstr);

    /* A key that belongs to another certificate. */
    o.to_cert_file = path("server.pem");
    o.to_key_file = path("client.key");
    ck_assert_ptr_null(eddy_tls_ctx_new(EDDY_TLS_SERVER, &o, errstr, sizeof errstr));
    ck_assert_msg(strstr(errstr, "client.key does not belong to the certificate"), "%s", errstr);

    /* A certificate file with no certificate in it. */
    o.to_cert_file = path("openssl.cnf");
    o.to_key_file = path("server.key");
    ck_assert_ptr_null(eddy_tls_ctx_new(EDDY_TLS_SERVER, &o, errstr, sizeof errstr));
    ck_assert_msg(strstr(errstr, "openssl.cnf: no PEM certificate"), "%s", errstr);

    eddy_tls_opts_t ca = {.to_ca_file = path("server.key")};
    ck_assert_ptr_null(eddy_tls_ctx_new(EDDY_TLS_CLIENT, &ca, errstr, sizeof errstr));
    ck_assert_msg(strstr(errstr, "CA file") && strstr(errstr, "server.key"), "%s", errstr);

    eddy_tls_opts_t none = {0};
    ck_assert_ptr_null(eddy_tls_ctx_new(EDDY_TLS_SERVER, &none, errstr, sizeof errstr));
    ck_assert_msg(strstr(errstr, "needs a certificate"), "%s", errstr);
    eddy_tls_opts_t auth = {.to_cert_file = path("server.pem"),
                            .to_key_file = path("server.key"),
                            .to_client_auth = EDDY_TLS_CLIENT_AUTH_REQUIRED};
    ck_assert_ptr_null(eddy_tls_ctx_new(EDDY_TLS_SERVER, &auth, errstr, sizeof errstr));
    ck_assert_msg(strstr(errstr, "CA certificates"), "%s", errstr);

    /* A client that checks host names needs one to check. */
    eddy_tls_ctx_t *cc = client_ctx("ca.pem", NULL, NULL, 1);
    ck_assert_ptr_null(eddy_tls_new(cc, NULL, errstr, sizeof errstr));
    eddy_tls_ctx_destroy(cc);
}
END_TEST

TCase *tcase_tls(void)
{
    TCase *tc = tcase_create("tls");
    tcase_add_unchecked_fixture(tc, certs_setup, certs_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_handshake_and_data_both_ways);
    tcase_add_test(tc, test_mutual_tls_subject);
    tcase_add_test(tc, test_client_auth_required_and_requested);
    tcase_add_test(tc, test_wrong_ca_fails);
    tcase_add_test(tc, test_host_name_mismatch_fails);
    tcase_add_test(tc, test_garbage_fails_cleanly);
    tcase_add_test(tc, test_buffers_are_bounded);
    tcase_add_test(tc, test_pem_text_and_encrypted_keys);
    tcase_add_test(tc, test_bad_settings_name_the_file);
    return tc;
}

/* libFuzzer target: the broker's connection layer (broker/server.c) with
 * real sockets. One embedded broker runs for the whole session, its loop
 * turned by hand; each input is a script of client actions on up to four
 * connections: whole frames written in pieces with loop passes in between
 * (partial frames), raw bytes (bad sizes, truncated frames), loop passes,
 * reading or not reading the answers (muting on unwritten responses), and
 * closing. The settings are small so that the request pool
 * (queued.max.request.bytes) fills and connections wait for memory.
 *
 * After each input every client socket is closed and the loop runs until the
 * broker has dropped every connection; then no request memory may still be
 * held from the pool and no connection counted. Any crash, leak, ASan or
 * UBSan report, or a broken invariant (abort) is a finding.
 *
 * Connections 0 and 1 go to a PLAINTEXT listener, 2 and 3 to a SASL_PLAINTEXT
 * one (PLAIN, SCRAM-SHA-256/512; user "fuzz", password "fuzz-pw", in the
 * store before the start), where frames meet the login state machine: the
 * pre-login size bound, refused APIs, bare tokens after SaslHandshake v0.
 *
 * Script bytes (op, then its operands):
 *   op & 7 = 0..2  frame on conn (op>>3)&3: u16 length, that many body bytes;
 *                  sent with its size prefix in pieces of ((op>>5)*61+1) bytes
 *            3     raw bytes on conn (op>>3)&3: u8 length, the bytes
 *            4     (op>>3)+1 loop passes
 *            5     read and drop what conn (op>>3)&3 has been sent
 *            6     close conn (op>>3)&3 (a later action opens a new one)
 *            7     a loop pass without reading anything
 * With op 3, 5 and 6, bit 5 (op & 0x20) picks the k-th of four more
 * connections instead, to the broker's SSL listener (a self-signed
 * certificate made at start): raw bytes there go into the TLS handshake
 * (ClientHello fragments, garbage records, a plaintext request on a TLS
 * port), which the broker must refuse without leaking the session.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "broker/broker_int.h"
#include "broker/users.h"
#include "include/eddy_broker.h"

#define NCONN 4

static eddy_broker_t *broker;
static int port, sasl_port, tls_port;
static int fds[NCONN] = {-1, -1, -1, -1};
static int tls_fds[NCONN] = {-1, -1, -1, -1};

/* A self-signed EC certificate and its key, as PEM text (malloc'd), for the
 * SSL listener's ssl.keystore.certificate.chain and ssl.keystore.key. */
static void make_cert(char **cert, char **key)
{
    EVP_PKEY *pk = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    if (!pk || !x)
        abort();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
    X509_set_pubkey(x, pk);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1,
                               0);
    X509_set_issuer_name(x, n);
    if (!X509_sign(x, pk, EVP_sha256()))
        abort();
    BIO *bc = BIO_new(BIO_s_mem()), *bk = BIO_new(BIO_s_mem());
    if (!bc || !bk || !PEM_write_bio_X509(bc, x) ||
        !PEM_write_bio_PrivateKey(bk, pk, NULL, NULL, 0, NULL, NULL))
        abort();
    char *p;
    long len = BIO_get_mem_data(bc, &p);
    *cert = strndup(p, (size_t)len);
    len = BIO_get_mem_data(bk, &p);
    *key = strndup(p, (size_t)len);
    if (!*cert || !*key)
        abort();
    BIO_free(bc);
    BIO_free(bk);
    X509_free(x);
    EVP_PKEY_free(pk);
}

static void loop_pass(int n)
{
    for (int i = 0; i < n; i++)
        uv_run(&broker->bk_loop, UV_RUN_NOWAIT);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static char dir[] = "/tmp/eddy-fuzz-conns-XXXXXX";
    if (!mkdtemp(dir))
        abort();
    char set[512], err[512];
    eddy_props_t ps;
    eddy_props_init(&ps);
    const char *settings[] = {
        "listeners=PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0",
        "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
        "connection.failed.authentication.delay.ms=0",
        "sasl.server.max.receive.size=4096",
        "log.level=error",
        "auto.create.topics.enable=false",
        "socket.request.max.bytes=65536",
        "queued.max.request.bytes=131072",
        "offsets.topic.num.partitions=1",
        "group.initial.rebalance.delay.ms=0",
    };
    for (size_t i = 0; i < sizeof settings / sizeof *settings; i++)
        if (eddy_props_set(&ps, "fuzz", settings[i], err, sizeof err) < 0)
            abort();
    snprintf(set, sizeof set, "log.dirs=%s", dir);
    if (eddy_props_set(&ps, "fuzz", set, err, sizeof err) < 0)
        abort();
    char *cert, *key, kv[8192];
    make_cert(&cert, &key);
    snprintf(kv, sizeof kv, "ssl.keystore.certificate.chain=%s", cert);
    if (eddy_props_set(&ps, "fuzz", kv, err, sizeof err) < 0)
        abort();
    snprintf(kv, sizeof kv, "ssl.keystore.key=%s", key);
    if (eddy_props_set(&ps, "fuzz", kv, err, sizeof err) < 0)
        abort();
    free(cert);
    free(key);
    broker_users_t us;
    scram_cred_t cred;
    if (broker_users_open(&us, dir, err, sizeof err) < 0)
        abort();
    for (int m = SCRAM_SHA_256; m <= SCRAM_SHA_512; m++)
        if (scram_cred_from_password(&cred, m, "fuzz-pw", 7, NULL, 0, SCRAM_MIN_ITERATIONS, err,
                                     sizeof err) < 0 ||
            broker_users_put(&us, "fuzz", &cred) < 0)
            abort();
    if (broker_users_save(&us) < 0)
        abort();
    broker_users_close(&us);
    broker = eddy_broker_new(&ps, err, sizeof err);
    eddy_props_free(&ps);
    if (!broker) {
        fprintf(stderr, "fuzz_conns: %s\n", err);
        abort();
    }
    port = eddy_broker_port(broker);
    if (broker->bk_nlisteners != 3)
        abort();
    sasl_port = broker->bk_listeners[1].bl_port;
    tls_port = broker->bk_listeners[2].bl_port;
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static int conn_fd_on(int *set, int k, int to_port)
{
    if (set[k] >= 0)
        return set[k];
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        abort();
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)to_port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS)
        abort();
    loop_pass(1); /* the broker accepts */
    set[k] = fd;
    return fd;
}

static int conn_fd(int k)
{
    return conn_fd_on(fds, k, k < 2 ? port : sasl_port);
}

/* Writes what the socket takes; a muted broker leaves the rest unsent. */
static void send_some(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void drain(int fd)
{
    uint8_t buf[65536];
    while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
        ;
}

/* APIs that write topics or records are left out: the broker's disk would
 * fill with whatever the fuzzer invents, and this target is about frames. */
static int api_allowed(int key)
{
    return key != 0 && key != 19 && key != 20 && key != 21;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t i = 0;
    while (i < size) {
        uint8_t op = data[i++];
        int k = (op >> 3) & 3;
        switch (op & 7) {
        case 0:
        case 1:
        case 2: {
            if (size - i < 2)
                return 0;
            size_t len = (size_t)data[i] << 8 | data[i + 1];
            i += 2;
            if (len > size - i)
                len = size - i;
            uint8_t *frame = malloc(len + 4);
            if (!frame)
                abort();
            frame[0] = (uint8_t)(len >> 24);
            frame[1] = (uint8_t)(len >> 16);
            frame[2] = (uint8_t)(len >> 8);
            frame[3] = (uint8_t)len;
            memcpy(frame + 4, data + i, len);
            i += len;
            if (len >= 2 && !api_allowed(frame[4] << 8 | frame[5])) {
                frame[4] = 0;
                frame[5] = 18; /* ApiVersions */
            }
            size_t piece = (size_t)(op >> 5) * 61 + 1;
            int fd = conn_fd(k);
            for (size_t off = 0; off < len + 4; off += piece) {
                size_t n = len + 4 - off < piece ? len + 4 - off : piece;
                send_some(fd, frame + off, n);
                loop_pass(1);
            }
            free(frame);
            break;
        }
        case 3: {
            if (i >= size)
                return 0;
            size_t len = data[i++];
            if (len > size - i)
                len = size - i;
            send_some(op & 0x20 ? conn_fd_on(tls_fds, k, tls_port) : conn_fd(k), data + i, len);
            i += len;
            loop_pass(1);
            break;
        }
        case 4: loop_pass((op >> 3) + 1); break;
        case 5: {
            int *set = op & 0x20 ? tls_fds : fds;
            if (set[k] >= 0)
                drain(set[k]);
            loop_pass(1);
            break;
        }
        case 6: {
            int *set = op & 0x20 ? tls_fds : fds;
            if (set[k] >= 0) {
                close(set[k]);
                set[k] = -1;
            }
            loop_pass(1);
            break;
        }
        default: loop_pass(1); break;
        }
    }
    for (int k = 0; k < NCONN; k++) {
        if (fds[k] >= 0) {
            close(fds[k]);
            fds[k] = -1;
        }
        if (tls_fds[k] >= 0) {
            close(tls_fds[k]);
            tls_fds[k] = -1;
        }
    }
    for (int n = 0; broker->bk_conns && n < 100000; n++) {
        uv_run(&broker->bk_loop, UV_RUN_NOWAIT);
        if (n > 1000)
            usleep(100);
    }
    loop_pass(4); /* close callbacks give back what the connections held */
    if (broker->bk_conns || broker->bk_nconns != 0) {
        fprintf(stderr, "fuzz_conns: connections left after every client closed (%d)\n",
                broker->bk_nconns);
        abort();
    }
    if (broker->bk_pool_used != 0 || broker->bk_pool_waiters != 0) {
        fprintf(stderr, "fuzz_conns: %lld request bytes and %d waiters left in the pool\n",
                (long long)broker->bk_pool_used, broker->bk_pool_waiters);
        abort();
    }
    return 0;
}

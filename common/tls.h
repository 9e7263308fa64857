/* TLS on memory buffers: one engine for the broker's listeners and the
 * client's connections, with no sockets and no event loop of its own.
 *
 * The caller owns the socket; the engine only turns bytes into bytes:
 *
 *            caller's socket                          caller's protocol
 *                 |   ^                                     |   ^
 *   ciphertext in |   | ciphertext out         plaintext in |   | plaintext out
 *                 v   |                                     v   |
 *      eddy_tls_feed()  eddy_tls_out_take()    eddy_tls_write()  eddy_tls_read()
 *                 |   ^                                     |   ^
 *                 v   |                                     v   |
 *            +----------------+      +-------------+      +----------+
 *            | in (mem BIO)   | ---> |  OpenSSL    | <--- |  caller  |
 *            | out (mem BIO)  | <--- |  SSL object | ---> |  buffers |
 *            +----------------+      +-------------+      +----------+
 *
 * One session per connection:
 *
 *   new --feed/handshake--> HANDSHAKING --eddy_tls_handshake() == 0--> OPEN
 *                               |                                       |
 *                               +--- failure: negative, errstr ---------+--> FAILED
 *
 * After every call (feed, handshake, read, write, close) the session may hold
 * ciphertext for the peer: the caller sends what eddy_tls_out_take() gives
 * before it waits for the socket again. Handshake messages, TLS 1.3 session
 * tickets and alerts all travel that way.
 *
 * Bounds: the engine holds at most EDDY_TLS_IN_MAX bytes of ciphertext not yet
 * decrypted (eddy_tls_feed() takes less when it is full: read plaintext out,
 * then feed the rest) and stops taking plaintext once EDDY_TLS_OUT_MAX bytes
 * of ciphertext wait to be sent (eddy_tls_write() takes less). OpenSSL itself
 * holds one record (16 KiB) of plaintext per direction.
 *
 * No call blocks. Errors are negative -errno: -EPROTO for a TLS failure (the
 * session's sentence, eddy_tls_errstr(), says which: certificate verify failed,
 * host name mismatch, not a TLS peer), -EPIPE once the peer closed the session
 * with close_notify, -ENOMEM. A failed session stays failed.
 *
 * Threads: a context is read-only after eddy_tls_ctx_new() and may serve
 * sessions on any thread; a session is used by one thread at a time. OpenSSL
 * counts references to the context, so eddy_tls_ctx_destroy() may come before
 * the sessions made from it are destroyed.
 */
#ifndef EDDY_COMMON_TLS_H
#define EDDY_COMMON_TLS_H

#include <stddef.h>
#include <sys/types.h>

#define EDDY_TLS_IN_MAX (256 * 1024)
#define EDDY_TLS_OUT_MAX (256 * 1024)

typedef enum eddy_tls_role { EDDY_TLS_SERVER, EDDY_TLS_CLIENT } eddy_tls_role_t;

/* Kafka's ssl.client.auth: whether a server asks the client for a
 * certificate (requested: a client without one is still let in, as an
 * anonymous peer) or insists on one (required). */
typedef enum eddy_tls_client_auth {
    EDDY_TLS_CLIENT_AUTH_NONE,
    EDDY_TLS_CLIENT_AUTH_REQUESTED,
    EDDY_TLS_CLIENT_AUTH_REQUIRED,
} eddy_tls_client_auth_t;

/* Where certificates and keys come from. Each item is given as a PEM file
 * (*_file) or as PEM text (*_pem, Kafka's ssl.keystore.key and friends); at
 * most one of the two. All strings are borrowed for the call only.
 *
 * to_cert_*: the own certificate chain, leaf first, then intermediates. A
 *   server needs one; a client sends one when the server asks (mutual TLS).
 * to_key_*: the private key of the leaf, PEM, encrypted (PKCS#8 or
 *   traditional) when to_key_password is set.
 * to_ca_*: the certificates trusted to sign the peer's (a file of one or
 *   more PEM certificates, or a directory hashed by `openssl rehash`).
 *   A client without one trusts the system's store; a server that asks for
 *   client certificates needs one.
 * to_client_auth: server only.
 * to_verify_hostname: client only: the server's certificate must name the
 *   host passed to eddy_tls_new() (a DNS name or an IP address, checked
 *   against the subjectAltName, as ssl.endpoint.identification.algorithm=https).
 */
typedef struct eddy_tls_opts {
    const char *to_cert_file;
    const char *to_cert_pem;
    const char *to_key_file;
    const char *to_key_pem;
    const char *to_key_password;
    const char *to_ca_file;
    const char *to_ca_pem;
    eddy_tls_client_auth_t to_client_auth;
    int to_verify_hostname;
} eddy_tls_opts_t;

typedef struct eddy_tls_ctx eddy_tls_ctx_t;
typedef struct eddy_tls eddy_tls_t;

/* Loads certificates and keys and makes the settings every session of this
 * role shares (TLS 1.2 or newer, no renegotiation). Returns NULL with a
 * sentence in errstr naming the file at fault ("private key /etc/k.pem:
 * cannot decrypt it (wrong key password?)"). */
eddy_tls_ctx_t *eddy_tls_ctx_new(eddy_tls_role_t role, const eddy_tls_opts_t *opts, char *errstr,
                                 size_t errstr_size);
void eddy_tls_ctx_destroy(eddy_tls_ctx_t *ctx);

/* A session for one connection. host (client role, may be NULL) is the name
 * the caller connected to: sent as SNI unless it is an IP address, and
 * checked against the server's certificate when the context verifies host
 * names. Returns NULL with errstr on failure. */
eddy_tls_t *eddy_tls_new(eddy_tls_ctx_t *ctx, const char *host, char *errstr, size_t errstr_size);
void eddy_tls_destroy(eddy_tls_t *t);

/* Ciphertext read from the socket. Returns how many bytes were taken
 * (fewer than len when EDDY_TLS_IN_MAX is buffered), or a negative error
 * when the session has failed. The bytes are copied. */
ssize_t eddy_tls_feed(eddy_tls_t *t, const void *data, size_t len);

/* Drives the handshake with what has been fed: 0 once it is complete (the
 * peer verified as the context asks), 1 while it needs more from the peer
 * (send the pending output, feed what comes back, call again), or negative
 * with eddy_tls_errstr() set. Calling it once complete returns 0. A client
 * starts the handshake by calling it before anything was fed (the
 * ClientHello is then pending output). */
int eddy_tls_handshake(eddy_tls_t *t);

/* Whether the handshake is complete. */
int eddy_tls_is_open(const eddy_tls_t *t);

/* Plaintext from the peer into buf: the number of bytes (> 0), 0 when no
 * whole record is there yet (feed more), or negative (-EPROTO: a bad record,
 * -EPIPE: the peer closed the session). Before the handshake completes it
 * drives the handshake and returns 0. */
ssize_t eddy_tls_read(eddy_tls_t *t, void *buf, size_t cap);

/* Encrypts up to len bytes of plaintext for the peer: the number taken (0
 * while the handshake is not complete or EDDY_TLS_OUT_MAX bytes of output
 * wait to be sent), or negative when the session has failed. */
ssize_t eddy_tls_write(eddy_tls_t *t, const void *data, size_t len);

/* Ciphertext for the peer: how much is pending, and a copy of up to cap
 * bytes of it (returned; those bytes leave the session). */
size_t eddy_tls_out_pending(const eddy_tls_t *t);
size_t eddy_tls_out_take(eddy_tls_t *t, void *buf, size_t cap);

/* Queues close_notify for the peer (send the pending output, then close the
 * socket). Harmless on a failed or unfinished session. */
void eddy_tls_close(eddy_tls_t *t);

/* The peer certificate's subject in RFC 2253 form, as Kafka's
 * X500Principal.getName() writes it ("CN=alice,OU=eng,O=Example"), for
 * the principal "User:<subject>". Returns its length, or -ENOENT when the
 * peer sent no certificate, -ENOSPC when cap is too small (buf then holds
 * a truncated, NUL-terminated prefix). */
int eddy_tls_peer_subject(const eddy_tls_t *t, char *buf, size_t cap);

/* The negotiated protocol ("TLSv1.3") and cipher, static strings, or "" before
 * the handshake completes. */
const char *eddy_tls_version(const eddy_tls_t *t);
const char *eddy_tls_cipher(const eddy_tls_t *t);

/* Why the session failed ("certificate verify failed: Hostname mismatch
 * (the certificate does not name 'example.com')"), or "" while it has not. Valid
 * until the session is destroyed. */
const char *eddy_tls_errstr(const eddy_tls_t *t);

#endif

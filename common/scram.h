/* SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) for both roles, on
 * OpenSSL's libcrypto.
 *
 * Three layers, each usable alone:
 *  - the key schedule: SaltedPassword = PBKDF2(password, salt, i),
 *    ClientKey = HMAC(SaltedPassword, "Client Key"), StoredKey = H(ClientKey),
 *    ServerKey = HMAC(SaltedPassword, "Server Key"); a scram_cred_t holds what a
 *    server stores (salt, iterations, StoredKey, ServerKey), never the password;
 *  - the four messages, parsed and formatted (saslname escaping "=2C" for ','
 *    and "=3D" for '=', the gs2 header, nonces, base64 fields);
 *  - one exchange per role: scram_client_t and scram_server_t, which keep the
 *    AuthMessage and check the nonce and the proof / signature.
 *
 *   client                                   server
 *   scram_client_first()  -- client-first --> scram_server_recv_first()
 *                                              (caller looks the user up)
 *   scram_client_final()  <-- server-first --- scram_server_first()
 *                         -- client-final --> scram_server_final()
 *   scram_client_verify() <-- server-final ---
 *
 * Kafka's rules apply where RFC 5802 leaves room: the iteration count is at
 * least 4096 (SCRAM_MIN_ITERATIONS) and at most 16384 (Kafka's
 * AlterUserScramCredentials limit), channel binding is not supported (gs2 flag
 * "n" or "y"; "p" is refused), and an authzid, when given, must equal the user.
 *
 * Errors: 0 or a negative eddy error (EDDY_ERR_INVALID_ARG for a malformed
 * message, -EACCES for a wrong proof or signature) with a sentence in errstr.
 * Nothing here logs or keeps global state; every object is caller-owned.
 */
#ifndef EDDY_COMMON_SCRAM_H
#define EDDY_COMMON_SCRAM_H

#include <stddef.h>
#include <stdint.h>

/* Kafka's ScramMechanism type ids, as DescribeUserScramCredentials and
 * AlterUserScramCredentials carry them on the wire. */
enum scram_mech {
    SCRAM_MECH_UNKNOWN = 0,
    SCRAM_SHA_256 = 1,
    SCRAM_SHA_512 = 2,
};

#define SCRAM_MAX_HASH 64          /* SHA-512 */
#define SCRAM_MAX_SALT 128         /* bytes; Kafka's own salts are 32 bytes (random 256 bits) */
#define SCRAM_MIN_ITERATIONS 4096  /* Kafka's ScramMechanism minimum */
#define SCRAM_MAX_ITERATIONS 16384 /* Kafka's AlterUserScramCredentials maximum */
#define SCRAM_MAX_USER 512         /* bytes, unescaped */
#define SCRAM_MAX_NONCE 256        /* bytes, combined client + server nonce */
#define SCRAM_MAX_MSG 4096         /* any one SCRAM message; longer ones are refused */
#define SCRAM_NONCE_LEN 32         /* printable characters we generate per side */

/* "SCRAM-SHA-256" / "SCRAM-SHA-512", or NULL for an unknown mech. Static. */
const char *scram_mech_name(int mech);
/* The mechanism for a SASL name (case-sensitive, as SASL names are), or
 * SCRAM_MECH_UNKNOWN. */
int scram_mech_from_name(const char *name);
/* Digest length in bytes (32 or 64), 0 for an unknown mech. */
size_t scram_hash_len(int mech);

/* ---- key schedule ---- */

/* What a server stores for one user and mechanism. */
typedef struct scram_cred {
    int sc_mech;
    int32_t sc_iterations;
    size_t sc_salt_len;
    uint8_t sc_salt[SCRAM_MAX_SALT];
    uint8_t sc_stored_key[SCRAM_MAX_HASH]; /* scram_hash_len(sc_mech) bytes */
    uint8_t sc_server_key[SCRAM_MAX_HASH];
} scram_cred_t;

/* PBKDF2-HMAC over the password; writes scram_hash_len(mech) bytes to out. */
int scram_salted_password(int mech, const char *password, size_t password_len, const uint8_t *salt,
                          size_t salt_len, int32_t iterations, uint8_t *out);
/* HMAC(key, data) with the mech's hash; out has scram_hash_len(mech) bytes. */
int scram_hmac(int mech, const uint8_t *key, size_t key_len, const void *data, size_t data_len,
               uint8_t *out);
/* H(data). */
int scram_hash(int mech, const void *data, size_t len, uint8_t *out);
int scram_client_key(int mech, const uint8_t *salted, uint8_t *out);
int scram_stored_key(int mech, const uint8_t *client_key, uint8_t *out);
int scram_server_key(int mech, const uint8_t *salted, uint8_t *out);

/* A credential from a salted password (what AlterUserScramCredentials
 * carries: the client salts, the server derives the keys). Checks the
 * iteration bounds and the salt length. */
int scram_cred_from_salted(scram_cred_t *cred, int mech, const uint8_t *salt, size_t salt_len,
                           int32_t iterations, const uint8_t *salted, char *errstr,
                           size_t errstr_size);
/* A credential from a clear password with a fresh random salt of 32 bytes
 * (salt == NULL) or the given one. */
int scram_cred_from_password(scram_cred_t *cred, int mech, const char *password,
                             size_t password_len, const uint8_t *salt, size_t salt_len,
                             int32_t iterations, char *errstr, size_t errstr_size);
/* Does the password match the credential? (What SASL/PLAIN needs against a
 * SCRAM store: one PBKDF2 run and a constant-time compare of StoredKey.)
 * 1 yes, 0 no, negative on a library failure. */
int scram_cred_check_password(const scram_cred_t *cred, const char *password, size_t password_len);

/* Constant-time equality of n bytes: 1 equal, 0 not. */
int scram_ct_equal(const void *a, const void *b, size_t n);
/* n random bytes from OpenSSL's CSPRNG. */
int scram_random(uint8_t *out, size_t n);
/* A nonce of n printable characters (RFC 5802's printable, without ','),
 * NUL-terminated: out has n + 1 bytes. */
int scram_nonce(char *out, size_t n);

/* Base64 (RFC 4648, with padding). encode writes 4*ceil(n/3) chars + NUL and
 * returns the length; decode returns the byte count, or -1 for invalid input
 * or when it would exceed out_cap. */
size_t scram_b64_encode(const uint8_t *in, size_t n, char *out);
int scram_b64_decode(const char *in, size_t n, uint8_t *out, size_t out_cap);

/* saslname escaping: ',' -> "=2C", '=' -> "=3D". escape returns the length
 * written (out needs 3*n + 1), unescape the length or -1 for a stray '='. */
size_t scram_saslname_escape(const char *in, size_t n, char *out);
int scram_saslname_unescape(const char *in, size_t n, char *out, size_t out_cap);

/* ---- the four messages ---- */

typedef struct scram_client_first_msg {
    char cf_gs2_header[SCRAM_MAX_USER * 3 + 8]; /* "n,," or "n,a=<authzid>," as sent */
    char cf_authzid[SCRAM_MAX_USER + 1];        /* unescaped; "" when absent */
    char cf_user[SCRAM_MAX_USER + 1];           /* unescaped */
    char cf_nonce[SCRAM_MAX_NONCE + 1];
    size_t cf_bare_off; /* client-first-message-bare starts here in the input */
} scram_client_first_msg_t;

typedef struct scram_server_first_msg {
    char sf_nonce[SCRAM_MAX_NONCE + 1];
    uint8_t sf_salt[SCRAM_MAX_SALT];
    size_t sf_salt_len;
    int32_t sf_iterations;
} scram_server_first_msg_t;

typedef struct scram_client_final_msg {
    uint8_t cl_binding[SCRAM_MAX_USER * 3 + 8]; /* decoded c= */
    size_t cl_binding_len;
    char cl_nonce[SCRAM_MAX_NONCE + 1];
    uint8_t cl_proof[SCRAM_MAX_HASH];
    size_t cl_proof_len;
    size_t cl_without_proof_len; /* bytes before ",p=" */
} scram_client_final_msg_t;

int scram_parse_client_first(const char *msg, size_t len, scram_client_first_msg_t *out,
                             char *errstr, size_t errstr_size);
int scram_parse_server_first(const char *msg, size_t len, scram_server_first_msg_t *out,
                             char *errstr, size_t errstr_size);
int scram_parse_client_final(const char *msg, size_t len, scram_client_final_msg_t *out,
                             char *errstr, size_t errstr_size);
/* server-final: "v=<signature>" fills sig (sig_len set), "e=<error>" copies the
 * error text to errstr and returns -EACCES. */
int scram_parse_server_final(const char *msg, size_t len, uint8_t *sig, size_t *sig_len,
                             char *errstr, size_t errstr_size);

/* ---- one exchange, client side ---- */

typedef struct scram_client {
    int scc_mech;
    int scc_state; /* 0 new, 1 first sent, 2 final sent, 3 verified */
    char scc_user[SCRAM_MAX_USER + 1];
    char *scc_password; /* owned; wiped on close */
    size_t scc_password_len;
    char scc_nonce[SCRAM_MAX_NONCE + 1];
    char *scc_auth_msg; /* owned: client-first-bare "," server-first "," client-final-without-proof */
    size_t scc_auth_msg_len;
    uint8_t scc_server_sig[SCRAM_MAX_HASH];
} scram_client_t;

/* nonce NULL: a fresh random one (tests pass RFC vectors). Copies the user
 * and password. */
int scram_client_init(scram_client_t *c, int mech, const char *user, const char *password,
                      const char *nonce, char *errstr, size_t errstr_size);
/* Writes the client-first message to out (NUL-terminated), returns its length
 * or a negative error when it does not fit out_cap. */
int scram_client_first(scram_client_t *c, char *out, size_t out_cap);
/* Consumes server-first, writes client-final. Refuses a server nonce that does
 * not start with ours, an iteration count below SCRAM_MIN_ITERATIONS. */
int scram_client_final(scram_client_t *c, const char *server_first, size_t len, char *out,
                       size_t out_cap, char *errstr, size_t errstr_size);
/* Checks server-final's signature: 0 when the server proved it knows the
 * credential. */
int scram_client_verify(scram_client_t *c, const char *server_final, size_t len, char *errstr,
                        size_t errstr_size);
void scram_client_close(scram_client_t *c);

/* ---- one exchange, server side ---- */

typedef struct scram_server {
    int scs_mech;
    int scs_state; /* 0 new, 1 first received, 2 first sent, 3 done */
    scram_client_first_msg_t scs_cf;
    char scs_nonce[SCRAM_MAX_NONCE + 1]; /* client + server nonce */
    scram_cred_t scs_cred;
    char *scs_auth_msg; /* owned */
    size_t scs_auth_msg_len;
} scram_server_t;

void scram_server_init(scram_server_t *s, int mech);
/* Parses client-first; afterwards scram_server_user() names the user to look up. */
int scram_server_recv_first(scram_server_t *s, const char *msg, size_t len, char *errstr,
                            size_t errstr_size);
const char *scram_server_user(const scram_server_t *s);
/* With the user's credential (copied), writes server-first. nonce NULL: random. */
int scram_server_first(scram_server_t *s, const scram_cred_t *cred, const char *nonce, char *out,
                       size_t out_cap, char *errstr, size_t errstr_size);
/* Verifies client-final's nonce, channel binding and proof; on success writes
 * server-final ("v=...") and returns its length; -EACCES for a wrong proof. */
int scram_server_final(scram_server_t *s, const char *client_final, size_t len, char *out,
                       size_t out_cap, char *errstr, size_t errstr_size);
void scram_server_close(scram_server_t *s);

#endif

/* SASL on the broker (private to broker/): the per-connection login state
 * machine, the SaslHandshake / SaslAuthenticate handlers, and the SCRAM
 * credential APIs. The server (server.c) asks three questions of it: how
 * large a frame a connection may send now, whether a request may be served
 * before the login, and whether the next frame is a bare SASL token (after
 * SaslHandshake v0).
 *
 * A connection on a SASL_PLAINTEXT or SASL_SSL listener has c_sasl set from
 * accept until close:
 *
 *   HANDSHAKE --SaslHandshake v1--> AUTHENTICATE --SaslAuthenticate (1..2x)--> DONE
 *       |     --SaslHandshake v0--> RAW (bare tokens) --token (1..2x)-------> DONE
 *       |                                   \--wrong credentials--> FAILED
 *       \--ApiVersions: stays;  anything else: the connection is closed
 *
 * FAILED answers (SaslAuthenticate: SASL_AUTHENTICATION_FAILED; bare
 * tokens: nothing) after connection.failed.authentication.delay.ms, then
 * closes the connection. DONE sets c_principal to "User:<name>".
 */
#ifndef EDDY_BROKER_SASL_H
#define EDDY_BROKER_SASL_H

#include "broker/broker_int.h"
#include "broker/users.h"

/* SASL mechanisms as bits of broker_sasl_t.bs_mechs. */
enum {
    SASL_MECH_PLAIN = 1 << 0,
    SASL_MECH_SCRAM_SHA_256 = 1 << 1,
    SASL_MECH_SCRAM_SHA_512 = 1 << 2
};

/* A PLAIN user of a JAAS setting (PlainLoginModule's user_<name>="password"),
 * kept as a SCRAM-SHA-512 credential made at start: the password itself is
 * not kept. */
typedef struct sasl_jaas_user {
    char *ju_listener; /* the listener name as written (any case); "" for sasl.jaas.config */
    char *ju_name;
    scram_cred_t ju_cred;
} sasl_jaas_user_t;

typedef struct broker_sasl {
    broker_users_t bs_users;
    sasl_jaas_user_t *bs_jaas; /* PLAIN users from JAAS settings */
    int bs_njaas;
    int bs_mechs;             /* sasl.enabled.mechanisms */
    int32_t bs_max_receive;   /* sasl.server.max.receive.size */
    int64_t bs_fail_delay_ms; /* connection.failed.authentication.delay.ms */
    int bs_failing;           /* connections whose failure answer waits */
} broker_sasl_t;

/* Reads the credential store and the settings; a corrupt store or an
 * unsupported mechanism fails the start with a sentence. */
int broker_sasl_open(struct eddy_broker *b, char *errstr, size_t errstr_size);
void broker_sasl_close(struct eddy_broker *b);

/* At accept: required is whether the connection's listener speaks SASL.
 * Returns 0 or -ENOMEM (the connection is then refused). */
int broker_sasl_conn_open(conn_t *c, int required);
void broker_sasl_conn_free(conn_t *c);
/* The largest frame the connection may send now: sasl.server.max.receive.size
 * until it has logged in, socket.request.max.bytes after. *setting names the
 * limit for the log line. */
int32_t broker_sasl_frame_max(const conn_t *c, const char **setting);
/* Whether api_key may be served on c now (before the login only ApiVersions,
 * SaslHandshake and SaslAuthenticate). */
int broker_sasl_may_serve(const conn_t *c, int api_key);
/* Whether the next frame is a bare SASL token (after SaslHandshake v0). */
int broker_sasl_raw_expected(const conn_t *c);
/* Handles one bare token in slot s (its frame holds the token, no header). */
int broker_sasl_raw_token(struct eddy_broker *b, req_slot_t *s);
/* Answers the failures whose delay has passed (from the group tick). */
void broker_sasl_tick(struct eddy_broker *b, int64_t now_ms);

int handle_sasl_handshake(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_sasl_authenticate(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_describe_user_scram_credentials(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_alter_user_scram_credentials(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);
int handle_describe_client_quotas(struct eddy_broker *b, req_slot_t *s, eddy_rd_t *rd);

#endif

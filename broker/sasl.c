/* SASL logins and SCRAM credentials on the broker (the state machine is
 * drawn in sasl.h).
 *
 * Mechanisms: PLAIN (RFC 4616) and SCRAM-SHA-256 / SCRAM-SHA-512 (RFC 5802,
 * RFC 7677, common/scram.h), as enabled by sasl.enabled.mechanisms. Both
 * check against one store, the SCRAM credentials (users.h): PLAIN derives
 * the user's SCRAM-SHA-512 credential (or SCRAM-SHA-256, when that is all
 * the user has) from the password it was sent and compares StoredKey, so no
 * password is ever kept, and one `eddy user add` serves both mechanisms.
 *
 * A login costs the broker at most sasl.server.max.receive.size per frame
 * and one scram_server_t (a few KiB, freed at the end of the exchange).
 * Re-authentication (KIP-368, connections.max.reauth.ms) is not offered:
 * SaslAuthenticate answers SessionLifetimeMs 0, which tells clients that
 * their login lasts as long as the connection.
 */
#include "broker/sasl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "wire/api_acl.h"
#include "wire/api_quotas.h"
#include "wire/api_sasl.h"

#define LOG_LIMIT_MS 1000 /* failed logins: one line a second, with the count left out */

enum sasl_state { SASL_HANDSHAKE, SASL_AUTHENTICATE, SASL_RAW, SASL_DONE, SASL_FAILED };

struct sasl_conn {
    enum sasl_state sc_state;
    int sc_mech;                /* one SASL_MECH_* bit, once the handshake chose it */
    scram_server_t *sc_scram;   /* during a SCRAM exchange */
    req_slot_t *sc_fail_slot;   /* the failure answer waiting for its delay */
    int64_t sc_fail_at;         /* mono ms */
    int sc_close_after_answer;  /* close once the slot's answer is out */
};

static const struct {
    int bit;
    const char *name;
    int scram;
} mechs[] = {
    {SASL_MECH_PLAIN, "PLAIN", 0},
    {SASL_MECH_SCRAM_SHA_256, "SCRAM-SHA-256", SCRAM_SHA_256},
    {SASL_MECH_SCRAM_SHA_512, "SCRAM-SHA-512", SCRAM_SHA_512},
};
#define NMECHS (int)(sizeof mechs / sizeof mechs[0])

/* ---- JAAS settings ----
 *
 * Kafka configures its SASL servers with JAAS text, as in server.properties:
 *
 *   listener.name.sasl_plaintext.plain.sasl.jaas.config=\
 *     org.apache.kafka.common.security.plain.PlainLoginModule required \
 *     username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-pw";
 *   listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=\
 *     org.apache.kafka.common.security.scram.ScramLoginModule required;
 *
 * so that such a file works unchanged, Eddy reads these settings: the
 * user_<name> entries of a PlainLoginModule are PLAIN users of that listener
 * (sasl.jaas.config: of every listener without its own); the ScramLoginModule
 * needs nothing on a server; username and password are what a broker would
 * use to log in to another broker, which Eddy, a single node, never does. */

int broker_sasl_is_jaas_key(const char *key)
{
    static const char tail[] = ".sasl.jaas.config";
    size_t n = strlen(key), t = sizeof tail - 1;
    if (strcmp(key, "sasl.jaas.config") == 0)
        return 1;
    return strncmp(key, "listener.name.", 14) == 0 && n > 14 + t && strcmp(key + n - t, tail) == 0;
}

typedef struct jaas_opt {
    char jo_key[128];
    char *jo_value; /* malloc'ed */
} jaas_opt_t;

/* Parses "Module flag key=value ... ;" (values quoted or bare, \" and \\ in
 * quotes). Fills module and up to max options; returns the option count or
 * -1 with a sentence. */
static int jaas_parse(const char *text, char *module, size_t module_size, jaas_opt_t *opts, int max,
                      char *why, size_t why_size)
{
    const char *p = text;
    int n = 0;
#define SKIP_SPACE()                                                                               \
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')                                    \
    p++
    SKIP_SPACE();
    size_t ml = strcspn(p, " \t\r\n;");
    if (ml == 0 || ml >= module_size) {
        snprintf(why, why_size, "no login module class");
        return -1;
    }
    memcpy(module, p, ml);
    module[ml] = '\0';
    p += ml;
    SKIP_SPACE();
    size_t fl = strcspn(p, " \t\r\n;");
    if (!((fl == 8 && !strncmp(p, "required", 8)) || (fl == 9 && !strncmp(p, "requisite", 9)) ||
          (fl == 10 && !strncmp(p, "sufficient", 10)) || (fl == 8 && !strncmp(p, "optional", 8)))) {
        snprintf(why, why_size,
                 "the login module's flag is not required, requisite, sufficient "
                 "or optional");
        return -1;
    }
    p += fl;
    for (;;) {
        SKIP_SPACE();
        if (*p == ';') {
            p++;
            SKIP_SPACE();
            if (*p) {
                snprintf(why, why_size, "text after the ';' (one login module per setting)");
                goto fail;
            }
            return n;
        }
        size_t kl = strcspn(p, "= \t\r\n;");
        if (kl == 0 || p[kl] != '=' || kl >= sizeof opts[0].jo_key) {
            snprintf(why, why_size, "an option that is not key=value, or no ';' at the end");
            goto fail;
        }
        if (n == max) {
            snprintf(why, why_size, "more than %d options", max);
            goto fail;
        }
        memcpy(opts[n].jo_key, p, kl);
        opts[n].jo_key[kl] = '\0';
        p += kl + 1;
        size_t cap = strlen(p) + 1, vl = 0;
        char *v = malloc(cap);
        if (!v) {
            snprintf(why, why_size, "out of memory");
            goto fail;
        }
        if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1])
                    p++;
                v[vl++] = *p++;
            }
            if (*p != '"') {
                free(v);
                snprintf(why, why_size, "option %s: a quote is not closed", opts[n].jo_key);
                goto fail;
            }
            p++;
        } else {
            while (*p && !strchr(" \t\r\n;", *p))
                v[vl++] = *p++;
        }
        v[vl] = '\0';
        opts[n++].jo_value = v;
    }
#undef SKIP_SPACE
fail:
    while (n > 0)
        free(opts[--n].jo_value);
    return -1;
}

/* Reads one JAAS setting into bs. */
static int jaas_load(broker_sasl_t *bs, const char *key, const char *value, char *errstr,
                     size_t errstr_size)
{
    char module[256], why[200], listener[128] = "", mech[64] = "";
    jaas_opt_t opts[256];
    if (strcmp(key, "sasl.jaas.config") != 0) {
        /* listener.name.<l>.<mechanism>.sasl.jaas.config; mechanism names hold no '.'. */
        const char *l = key + 14, *end = key + strlen(key) - 17;
        const char *dot = end;
        while (dot > l && dot[-1] != '.')
            dot--;
        if (dot <= l + 1 || (size_t)(dot - 1 - l) >= sizeof listener ||
            (size_t)(end - dot) >= sizeof mech || end == dot) {
            snprintf(errstr, errstr_size,
                     "%s: not listener.name.<listener>.<mechanism>.sasl.jaas.config", key);
            return EDDY_ERR_CONFIG;
        }
        memcpy(listener, l, (size_t)(dot - 1 - l));
        listener[dot - 1 - l] = '\0';
        memcpy(mech, dot, (size_t)(end - dot));
        mech[end - dot] = '\0';
    }
    int n = jaas_parse(value, module, sizeof module, opts, 256, why, sizeof why);
    if (n < 0) {
        snprintf(errstr, errstr_size, "%s: not JAAS text Eddy can read (%s)", key, why);
        return EDDY_ERR_CONFIG;
    }
    int rc = 0;
    if (strcmp(module, "org.apache.kafka.common.security.plain.PlainLoginModule") == 0 &&
        (!mech[0] || strcasecmp(mech, "plain") == 0)) {
        for (int i = 0; i < n && rc == 0; i++) {
            if (strncmp(opts[i].jo_key, "user_", 5) != 0)
                continue;
            const char *name = opts[i].jo_key + 5;
            if (!*name || !*opts[i].jo_value) {
                snprintf(errstr, errstr_size, "%s: %s: a PLAIN user needs a name and a password",
                         key, opts[i].jo_key);
                rc = EDDY_ERR_CONFIG;
                break;
            }
            sasl_jaas_user_t *nu = realloc(bs->bs_jaas, (size_t)(bs->bs_njaas + 1) * sizeof *nu);
            if (!nu) {
                rc = -ENOMEM;
                break;
            }
            bs->bs_jaas = nu;
            sasl_jaas_user_t *u = &bs->bs_jaas[bs->bs_njaas];
            memset(u, 0, sizeof *u);
            char err[256];
            if (!(u->ju_listener = strdup(listener)) || !(u->ju_name = strdup(name)) ||
                scram_cred_from_password(&u->ju_cred, SCRAM_SHA_512, opts[i].jo_value,
                                         strlen(opts[i].jo_value), NULL, 0, SCRAM_MIN_ITERATIONS,
                                         err, sizeof err) < 0) {
                free(u->ju_listener);
                free(u->ju_name);
                rc = -ENOMEM;
                break;
            }
            bs->bs_njaas++;
        }
    } else if (strcmp(module, "org.apache.kafka.common.security.scram.ScramLoginModule") != 0) {
        EDDY_LOG_WARN("broker",
                      "%s: login module %s is not used by Eddy (PLAIN and SCRAM are "
                      "served; see docs/broker.md, SASL and users)",
                      key, module);
    }
    for (int i = 0; i < n; i++) {
        memset(opts[i].jo_value, 0, strlen(opts[i].jo_value));
        free(opts[i].jo_value);
    }
    if (rc == -ENOMEM)
        snprintf(errstr, errstr_size, "%s: out of memory", key);
    return rc;
}

static void jaas_free(broker_sasl_t *bs)
{
    for (int i = 0; i < bs->bs_njaas; i++) {
        free(bs->bs_jaas[i].ju_listener);
        free(bs->bs_jaas[i].ju_name);
    }
    free(bs->bs_jaas);
    bs->bs_jaas = NULL;
    bs->bs_njaas = 0;
}

/* The JAAS PLAIN credential of name on the connection's listener: its own
 * setting's users if it has any, else those of sasl.jaas.config. */
static const scram_cred_t *jaas_user(const eddy_broker_t *b, const conn_t *c, const char *name)
{
    const broker_sasl_t *bs = b->bk_sasl;
    const char *lname = c->c_listener ? c->c_listener->bl_cfg->lc_name : "";
    int own = 0;
    for (int i = 0; i < bs->bs_njaas; i++)
        if (bs->bs_jaas[i].ju_listener[0] && strcasecmp(bs->bs_jaas[i].ju_listener, lname) == 0)
            own = 1;
    for (int i = 0; i < bs->bs_njaas; i++) {
        const sasl_jaas_user_t *u = &bs->bs_jaas[i];
        int here = own ? u->ju_listener[0] && strcasecmp(u->ju_listener, lname) == 0
                       : !u->ju_listener[0];
        if (here && strcmp(u->ju_name, name) == 0)
            return &u->ju_cred;
    }
    return NULL;
}

/* ---- life cycle ---- */

int broker_sasl_open(eddy_broker_t *b, char *errstr, size_t errstr_size)
{
    broker_sasl_t *bs = calloc(1, sizeof *bs);
    if (!bs) {
        snprintf(errstr, errstr_size, "out of memory");
        return -ENOMEM;
    }
    int m = b->bk_cfg.sasl_enabled_mechanisms;
    if (m & ~(SASL_MECH_PLAIN | SASL_MECH_SCRAM_SHA_256 | SASL_MECH_SCRAM_SHA_512)) {
        snprintf(errstr, errstr_size,
                 "sasl.enabled.mechanisms: Eddy offers PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512; "
                 "GSSAPI (Kerberos) and OAUTHBEARER are not available: remove them from the list");
        free(bs);
        return EDDY_ERR_CONFIG;
    }
    bs->bs_mechs = m;
    bs->bs_max_receive = b->bk_cfg.sasl_server_max_receive_size;
    bs->bs_fail_delay_ms = b->bk_cfg.connection_failed_authentication_delay_ms;
    int rc = 0;
    for (size_t i = 0; i < b->bk_static.ps_count && rc == 0; i++)
        if (broker_sasl_is_jaas_key(b->bk_static.ps_items[i].pr_key))
            rc = jaas_load(bs, b->bk_static.ps_items[i].pr_key, b->bk_static.ps_items[i].pr_value,
                           errstr, errstr_size);
    if (rc == 0)
        rc = broker_users_open(&bs->bs_users, b->bk_cfg.log_dirs, errstr, errstr_size);
    if (rc < 0) {
        jaas_free(bs);
        free(bs);
        return rc;
    }
    b->bk_sasl = bs;
    return 0;
}

void broker_sasl_close(eddy_broker_t *b)
{
    if (!b->bk_sasl)
        return;
    broker_users_close(&b->bk_sasl->bs_users);
    jaas_free(b->bk_sasl);
    free(b->bk_sasl);
    b->bk_sasl = NULL;
}

int broker_sasl_conn_open(conn_t *c, int required)
{
    if (!required)
        return 0;
    if (!(c->c_sasl = calloc(1, sizeof *c->c_sasl)))
        return -ENOMEM;
    return 0;
}

static void scram_end(sasl_conn_t *sc)
{
    if (sc->sc_scram) {
        scram_server_close(sc->sc_scram);
        free(sc->sc_scram);
        sc->sc_scram = NULL;
    }
}

void broker_sasl_conn_free(conn_t *c)
{
    if (!c->c_sasl)
        return;
    if (c->c_sasl->sc_fail_slot)
        c->c_broker->bk_sasl->bs_failing--;
    scram_end(c->c_sasl);
    free(c->c_sasl);
    c->c_sasl = NULL;
}

/* ---- what the server asks ---- */

int32_t broker_sasl_frame_max(const conn_t *c, const char **setting)
{
    const eddy_broker_t *b = c->c_broker;
    int32_t max = b->bk_cfg.socket_request_max_bytes;
    *setting = "socket.request.max.bytes";
    if (c->c_sasl && c->c_sasl->sc_state != SASL_DONE && b->bk_sasl->bs_max_receive < max) {
        max = b->bk_sasl->bs_max_receive;
        *setting = "sasl.server.max.receive.size, before the SASL login";
    }
    return max;
}

int broker_sasl_may_serve(const conn_t *c, int api_key)
{
    if (!c->c_sasl || c->c_sasl->sc_state == SASL_DONE)
        return 1;
    switch (c->c_sasl->sc_state) {
    case SASL_HANDSHAKE: return api_key == API_API_VERSIONS || api_key == API_SASL_HANDSHAKE;
    case SASL_AUTHENTICATE: return api_key == API_SASL_AUTHENTICATE;
    default: return 0;
    }
}

int broker_sasl_raw_expected(const conn_t *c)
{
    return c->c_sasl && c->c_sasl->sc_state == SASL_RAW;
}

/* ---- the mechanisms ---- */

static const char *mech_name(int bit)
{
    for (int i = 0; i < NMECHS; i++)
        if (mechs[i].bit == bit)
            return mechs[i].name;
    return "?";
}

/* One step's outcome: the bytes for the client (in the response arena),
 * and on failure the user it was for and the sentence for the client. */
typedef struct step {
    kstr_t st_out;
    char st_user[SCRAM_MAX_USER + 1];
    char st_why[512];
} step_t;

/* A credential for a user that does not exist, so that PLAIN spends the
 * same PBKDF2 on an unknown user as on a wrong password: the time of a
 * failure does not say which user names exist. */
static const scram_cred_t *decoy_cred(void)
{
    static scram_cred_t decoy;
    static int made;
    if (!made) {
        static const uint8_t salt[16] = "eddy-decoy-salt";
        char err[128];
        if (scram_cred_from_password(&decoy, SCRAM_SHA_512, "-", 1, salt, sizeof salt,
                                     SCRAM_MIN_ITERATIONS, err, sizeof err) == 0)
            made = 1;
    }
    return made ? &decoy : NULL;
}

/* PLAIN: authzid NUL authcid NUL passwd, one message. 1 done, -1 failed. */
static int step_plain(eddy_broker_t *b, const conn_t *c, const uint8_t *in, size_t len, step_t *st)
{
    const char *p = (const char *)in;
    const char *z1 = memchr(p, '\0', len);
    const char *z2 = z1 ? memchr(z1 + 1, '\0', len - (size_t)(z1 + 1 - p)) : NULL;
    if (!z1 || !z2 || memchr(z2 + 1, '\0', len - (size_t)(z2 + 1 - p))) {
        snprintf(st->st_why, sizeof st->st_why,
                 "Invalid SASL/PLAIN response: expected authzid NUL username NUL password");
        return -1;
    }
    size_t azl = (size_t)(z1 - p), ul = (size_t)(z2 - z1 - 1), pl = len - (size_t)(z2 + 1 - p);
    if (ul == 0 || ul > SCRAM_MAX_USER) {
        snprintf(st->st_why, sizeof st->st_why, "Authentication failed: username not specified");
        return -1;
    }
    memcpy(st->st_user, z1 + 1, ul);
    st->st_user[ul] = '\0';
    if (pl == 0) {
        snprintf(st->st_why, sizeof st->st_why, "Authentication failed: password not specified");
        return -1;
    }
    if (azl && (azl != ul || memcmp(p, st->st_user, ul) != 0)) {
        snprintf(st->st_why, sizeof st->st_why,
                 "Authentication failed: Client requested an authorization id that is different "
                 "from username");
        return -1;
    }
    const broker_users_t *us = &b->bk_sasl->bs_users;
    const scram_cred_t *cred = jaas_user(b, c, st->st_user);
    if (!cred)
        cred = broker_users_get(us, st->st_user, SCRAM_SHA_512);
    if (!cred)
        cred = broker_users_get(us, st->st_user, SCRAM_SHA_256);
    int known = cred != NULL;
    if (!cred)
        cred = decoy_cred();
    int ok = cred && scram_cred_check_password(cred, z2 + 1, pl) == 1 && known;
    if (!ok) {
        snprintf(st->st_why, sizeof st->st_why,
                 "Authentication failed: Invalid username or password");
        return -1;
    }
    st->st_out = (kstr_t){"", 0};
    return 1;
}

/* SCRAM: client-first, then client-final. 0 to go on, 1 done, -1 failed. */
static int step_scram(eddy_broker_t *b, sasl_conn_t *sc, int scram_mech, const uint8_t *in,
                      size_t len, eddy_arena_t *out, step_t *st)
{
    char msg[SCRAM_MAX_MSG], err[256];
    int n;
    if (!sc->sc_scram) {
        if (!(sc->sc_scram = malloc(sizeof *sc->sc_scram))) {
            snprintf(st->st_why, sizeof st->st_why, "out of memory");
            return -1;
        }
        scram_server_init(sc->sc_scram, scram_mech);
        if (scram_server_recv_first(sc->sc_scram, (const char *)in, len, err, sizeof err) < 0) {
            snprintf(st->st_why, sizeof st->st_why, "Authentication failed: %.400s", err);
            return -1;
        }
        snprintf(st->st_user, sizeof st->st_user, "%s", scram_server_user(sc->sc_scram));
        const scram_cred_t *cred = broker_users_get(&b->bk_sasl->bs_users, st->st_user, scram_mech);
        if (!cred) {
            /* Kafka's words for an unknown user. */
            snprintf(st->st_why, sizeof st->st_why,
                     "Authentication failed during authentication due to invalid credentials "
                     "with SASL mechanism %s",
                     scram_mech_name(scram_mech));
            return -1;
        }
        n = scram_server_first(sc->sc_scram, cred, NULL, msg, sizeof msg, err, sizeof err);
    } else {
        snprintf(st->st_user, sizeof st->st_user, "%s", scram_server_user(sc->sc_scram));
        n = scram_server_final(sc->sc_scram, (const char *)in, len, msg, sizeof msg, err,
                               sizeof err);
        if (n == -EACCES) {
            snprintf(st->st_why, sizeof st->st_why,
                     "Authentication failed during authentication due to invalid credentials "
                     "with SASL mechanism %s",
                     scram_mech_name(scram_mech));
            return -1;
        }
    }
    if (n < 0) {
        snprintf(st->st_why, sizeof st->st_why, "Authentication failed: %.400s", err);
        return -1;
    }
    char *copy = arena_strndup(out, msg, (size_t)n);
    if (!copy) {
        snprintf(st->st_why, sizeof st->st_why, "out of memory");
        return -1;
    }
    st->st_out = (kstr_t){copy, n};
    return sc->sc_scram->scs_state == 3 ? 1 : 0;
}

/* One token of the chosen mechanism. */
static int step(eddy_broker_t *b, conn_t *c, const uint8_t *in, size_t len, eddy_arena_t *out,
                step_t *st)
{
    sasl_conn_t *sc = c->c_sasl;
    memset(st, 0, sizeof *st);
    snprintf(st->st_user, sizeof st->st_user, "?");
    st->st_out = (kstr_t){"", 0};
    int rc;
    if (sc->sc_mech == SASL_MECH_PLAIN)
        rc = step_plain(b, c, in, len, st);
    else
        rc = step_scram(b, sc,
                        sc->sc_mech == SASL_MECH_SCRAM_SHA_256 ? SCRAM_SHA_256 : SCRAM_SHA_512, in,
                        len, out, st);
    if (rc != 0)
        scram_end(sc);
    if (rc == 1 && strlen(st->st_user) + 6 > sizeof c->c_principal) {
        snprintf(st->st_why, sizeof st->st_why, "Authentication failed: user name too long");
        rc = -1;
    }
    if (rc == 1) {
        sc->sc_state = SASL_DONE;
        snprintf(c->c_principal, sizeof c->c_principal, "User:%.*s",
                 (int)(sizeof c->c_principal - 6), st->st_user);
        EDDY_LOG_INFO("broker", "%s: authenticated as %s with %s", c->c_peer, c->c_principal,
                      mech_name(sc->sc_mech));
    } else if (rc < 0) {
        static eddy_log_limit_t lim = EDDY_LOG_LIMIT_INIT;
        sc->sc_state = SASL_FAILED;
        EDDY_LOG_LIMITED(EDDY_LOG_LVL_WARN, "broker", &lim, LOG_LIMIT_MS,
                         "failed authentication from %s as user '%s' with %s: %s; closing the "
                         "connection",
                         c->c_peer, st->st_user, mech_name(sc->sc_mech), st->st_why);
    }
    return rc;
}

/* ---- failures, answered late ---- */

static void fail_gone(void *owner, req_slot_t *s)
{
    conn_t *c = owner;
    (void)s;
    if (c->c_sasl && c->c_sasl->sc_fail_slot) {
        c->c_sasl->sc_fail_slot = NULL;
        c->c_broker->bk_sasl->bs_failing--;
    }
}

/* The slot's answer (if any) goes out after the delay, then the connection
 * closes: a client guessing passwords gets one try per delay and connection. */
static void fail_later(eddy_broker_t *b, conn_t *c, req_slot_t *s, int answer)
{
    sasl_conn_t *sc = c->c_sasl;
    sc->sc_close_after_answer = answer;
    c->c_close_drained = 1;
    if (b->bk_sasl->bs_fail_delay_ms <= 0) {
        if (answer)
            s->rs_state = SLOT_DONE;
        else
            s->rs_state = SLOT_SILENT;
        return;
    }
    sc->sc_fail_slot = s;
    sc->sc_fail_at = eddy_mono_ms() + b->bk_sasl->bs_fail_delay_ms;
    b->bk_sasl->bs_failing++;
    broker_slot_defer(s, fail_gone, c);
}

void broker_sasl_tick(eddy_broker_t *b, int64_t now_ms)
{
    if (!b->bk_sasl || b->bk_sasl->bs_failing == 0)
        return;
    conn_t *c = b->bk_conns;
    while (c) {
        conn_t *next = c->c_next;
        sasl_conn_t *sc = c->c_sasl;
        if (sc && sc->sc_fail_slot && now_ms >= sc->sc_fail_at) {
            req_slot_t *s = sc->sc_fail_slot;
            sc->sc_fail_slot = NULL;
            b->bk_sasl->bs_failing--;
            if (sc->sc_close_after_answer) {
                s->rs_gone = NULL;
                broker_slot_answer(s); /* written, then closed (c_close_drained) */
            } else {
                broker_conn_close(c); /* a bare token gets no answer */
            }
        }
        c = next;
    }
}

/* ---- the APIs ---- */

static int enabled_list(eddy_broker_t *b, eddy_arena_t *a, kstr_t **out)
{
    kstr_t *l = arena_calloc(a, NMECHS, sizeof *l);
    int n = 0;
    if (!l)
        return -ENOMEM;
    for (int i = 0; i < NMECHS; i++)
        if (b->bk_sasl->bs_mechs & mechs[i].bit)
            l[n++] = kstr_c(mechs[i].name);
    *out = l;
    return n;
}

int handle_sasl_handshake(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    SaslHandshakeRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    conn_t *c = s->rs_conn;
    int rc = wire_sasl_handshake_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    SaslHandshakeResponse resp = {KERR_NONE, NULL, 0};
    kstr_t *list = NULL;
    int n = enabled_list(b, &s->rs_out, &list);
    if (n < 0)
        return n;
    resp.Mechanisms = list;
    resp.MechanismsCount = n;
    if (!c->c_sasl || c->c_sasl->sc_state != SASL_HANDSHAKE) {
        /* A PLAINTEXT or SSL listener, or a second handshake: Kafka's answer. */
        resp.ErrorCode = KERR_ILLEGAL_SASL_STATE;
        wire_sasl_handshake_resp_encode(&s->rs_resp, v, &resp);
        s->rs_state = SLOT_DONE;
        return 0;
    }
    int bit = 0;
    for (int i = 0; i < NMECHS; i++)
        if ((b->bk_sasl->bs_mechs & mechs[i].bit) && kstr_eq(req.Mechanism, mechs[i].name))
            bit = mechs[i].bit;
    if (!bit) {
        static eddy_log_limit_t lim = EDDY_LOG_LIMIT_INIT;
        EDDY_LOG_LIMITED(EDDY_LOG_LVL_WARN, "broker", &lim, LOG_LIMIT_MS,
                         "%s: SASL mechanism '%.*s' is not enabled (sasl.enabled.mechanisms); "
                         "closing the connection",
                         c->c_peer, req.Mechanism.len > 64 ? 64 : (int)req.Mechanism.len,
                         req.Mechanism.ptr);
        resp.ErrorCode = KERR_UNSUPPORTED_SASL_MECHANISM;
        wire_sasl_handshake_resp_encode(&s->rs_resp, v, &resp);
        c->c_sasl->sc_state = SASL_FAILED;
        c->c_close_drained = 1;
        s->rs_state = SLOT_DONE;
        return 0;
    }
    c->c_sasl->sc_mech = bit;
    c->c_sasl->sc_state = v == 0 ? SASL_RAW : SASL_AUTHENTICATE;
    wire_sasl_handshake_resp_encode(&s->rs_resp, v, &resp);
    s->rs_state = SLOT_DONE;
    return 0;
}

int handle_sasl_authenticate(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    SaslAuthenticateRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    conn_t *c = s->rs_conn;
    int rc = wire_sasl_authenticate_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    SaslAuthenticateResponse resp = {KERR_NONE, KSTR_NULL, {"", 0}, 0};
    if (!c->c_sasl || c->c_sasl->sc_state != SASL_AUTHENTICATE) {
        resp.ErrorCode = KERR_ILLEGAL_SASL_STATE;
        resp.ErrorMessage = kstr_c(!c->c_sasl ? "SASL is not enabled on this listener"
                                              : "SaslAuthenticate before SaslHandshake, or after "
                                                "the login");
        wire_sasl_authenticate_resp_encode(&s->rs_resp, v, &resp);
        s->rs_state = SLOT_DONE;
        return 0;
    }
    step_t st;
    int r = step(b, c, (const uint8_t *)req.AuthBytes.ptr, (size_t)req.AuthBytes.len, &s->rs_out,
                 &st);
    if (r < 0) {
        resp.ErrorCode = KERR_SASL_AUTHENTICATION_FAILED;
        resp.ErrorMessage = kstr_arena(&s->rs_out, st.st_why);
        wire_sasl_authenticate_resp_encode(&s->rs_resp, v, &resp);
        fail_later(b, c, s, 1);
        return 0;
    }
    resp.AuthBytes = st.st_out;
    wire_sasl_authenticate_resp_encode(&s->rs_resp, v, &resp);
    s->rs_state = SLOT_DONE;
    return 0;
}

int broker_sasl_raw_token(eddy_broker_t *b, req_slot_t *s)
{
    conn_t *c = s->rs_conn;
    step_t st;
    int r = step(b, c, s->rs_frame, s->rs_frame_len, &s->rs_out, &st);
    if (r < 0) {
        /* SaslHandshake v0 has no way to say why: the connection just closes. */
        fail_later(b, c, s, 0);
        return 0;
    }
    /* The answer is a bare token, size-prefixed like the request was. */
    wr_bytes(&s->rs_resp, st.st_out.ptr, (size_t)st.st_out.len);
    s->rs_state = SLOT_DONE;
    return 0;
}

/* ---- SCRAM credential APIs ---- */

/* Authorization of the two APIs below, as Kafka: CLUSTER DESCRIBE for
 * DescribeUserScramCredentials, CLUSTER ALTER for AlterUserScramCredentials
 * (super users may always); a refusal answers CLUSTER_AUTHORIZATION_FAILED
 * for every user of the request and changes nothing. */

int handle_describe_user_scram_credentials(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    DescribeUserScramCredentialsRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    int rc = wire_describe_user_scram_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    const broker_users_t *us = &b->bk_sasl->bs_users;
    DescribeUserScramCredentialsResponse resp;
    memset(&resp, 0, sizeof resp);
    resp.ErrorMessage = KSTR_NULL;
    if (!broker_authorize_cluster(b, s, ACL_OP_DESCRIBE)) {
        resp.ErrorCode = KERR_CLUSTER_AUTHORIZATION_FAILED;
        resp.ErrorMessage = kstr_c("Cluster authorization failed.");
        if (!RESP_ARRAY(&s->rs_out, resp.Results, resp.ResultsCount,
                        req.UsersCount > 0 ? req.UsersCount : 0))
            return -ENOMEM;
        for (int32_t i = 0; i < resp.ResultsCount; i++) {
            resp.Results[i].User = req.Users[i];
            resp.Results[i].ErrorCode = KERR_CLUSTER_AUTHORIZATION_FAILED;
            resp.Results[i].ErrorMessage = resp.ErrorMessage;
        }
    } else if (req.UsersCount <= 0) {
        /* Every user with a credential, each once, in the store's order (an
         * empty list asks for all too, as in Kafka: its admin client sends one). */
        int32_t nres = 0;
        if (!RESP_ARRAY(&s->rs_out, resp.Results, resp.ResultsCount, us->us_n))
            return -ENOMEM;
        for (int i = 0; i < us->us_n; i++) {
            const broker_user_t *u = &us->us_users[i];
            DescribeUserScramCredentialsResult *r = NULL;
            for (int32_t j = 0; j < nres && !r; j++)
                if (kstr_eq(resp.Results[j].User, u->bu_name))
                    r = &resp.Results[j];
            if (!r) {
                r = &resp.Results[nres++];
                r->User = kstr_c(u->bu_name);
                r->ErrorMessage = KSTR_NULL;
                if (!(r->CredentialInfos = arena_calloc(&s->rs_out, 2, sizeof *r->CredentialInfos)))
                    return -ENOMEM;
            }
            r->CredentialInfos[r->CredentialInfosCount].Mechanism = (int8_t)u->bu_cred.sc_mech;
            r->CredentialInfos[r->CredentialInfosCount++].Iterations = u->bu_cred.sc_iterations;
        }
        resp.ResultsCount = nres;
    } else {
        if (!RESP_ARRAY(&s->rs_out, resp.Results, resp.ResultsCount, req.UsersCount))
            return -ENOMEM;
        for (int32_t i = 0; i < req.UsersCount; i++) {
            DescribeUserScramCredentialsResult *r = &resp.Results[i];
            r->User = req.Users[i];
            r->ErrorMessage = KSTR_NULL;
            int dup = 0;
            for (int32_t j = 0; j < req.UsersCount; j++)
                if (j != i && req.Users[j].len == req.Users[i].len &&
                    memcmp(req.Users[j].ptr, req.Users[i].ptr, (size_t)req.Users[i].len) == 0)
                    dup = 1;
            if (dup) {
                r->ErrorCode = KERR_DUPLICATE_RESOURCE;
                r->ErrorMessage = kstr_c("Cannot describe SCRAM credentials for the same user "
                                         "twice in a single request");
                continue;
            }
            char *name = kstr_arena_dup(&s->rs_out, req.Users[i]);
            if (!name)
                return -ENOMEM;
            if (!(r->CredentialInfos = arena_calloc(&s->rs_out, 2, sizeof *r->CredentialInfos)))
                return -ENOMEM;
            for (int m = SCRAM_SHA_256; m <= SCRAM_SHA_512; m++) {
                const scram_cred_t *cred = broker_users_get(us, name, m);
                if (cred) {
                    r->CredentialInfos[r->CredentialInfosCount].Mechanism = (int8_t)m;
                    r->CredentialInfos[r->CredentialInfosCount++].Iterations = cred->sc_iterations;
                }
            }
            if (r->CredentialInfosCount == 0) {
                r->ErrorCode = KERR_RESOURCE_NOT_FOUND;
                r->ErrorMessage = kstr_c("Attempt to describe a user credential that does not "
                                         "exist");
            }
        }
    }
    wire_describe_user_scram_resp_encode(&s->rs_resp, v, &resp);
    s->rs_state = SLOT_DONE;
    return 0;
}

/* The result of user name in resp, added on first sight. */
static AlterUserScramCredentialsResult *alter_result(AlterUserScramCredentialsResponse *resp,
                                                     kstr_t name)
{
    for (int32_t i = 0; i < resp->ResultsCount; i++)
        if (resp->Results[i].User.len == name.len &&
            memcmp(resp->Results[i].User.ptr, name.ptr, (size_t)name.len) == 0)
            return &resp->Results[i];
    AlterUserScramCredentialsResult *r = &resp->Results[resp->ResultsCount++];
    r->User = name;
    r->ErrorMessage = KSTR_NULL;
    return r;
}

static void alter_fail(AlterUserScramCredentialsResult *r, int16_t code, const char *msg)
{
    if (r->ErrorCode)
        return; /* the first error of a user is the one reported */
    r->ErrorCode = code;
    r->ErrorMessage = kstr_c(msg);
}

/* Whether (name, mech) appears more than once among the request's changes. */
static int alter_twice(const AlterUserScramCredentialsRequest *req, kstr_t name, int mech)
{
    int n = 0;
    for (int32_t i = 0; i < req->DeletionsCount; i++)
        if (req->Deletions[i].Mechanism == mech && req->Deletions[i].Name.len == name.len &&
            memcmp(req->Deletions[i].Name.ptr, name.ptr, (size_t)name.len) == 0)
            n++;
    for (int32_t i = 0; i < req->UpsertionsCount; i++)
        if (req->Upsertions[i].Mechanism == mech && req->Upsertions[i].Name.len == name.len &&
            memcmp(req->Upsertions[i].Name.ptr, name.ptr, (size_t)name.len) == 0)
            n++;
    return n > 1;
}

int handle_alter_user_scram_credentials(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    AlterUserScramCredentialsRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    int rc = wire_alter_user_scram_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    broker_users_t *us = &b->bk_sasl->bs_users;
    AlterUserScramCredentialsResponse resp;
    memset(&resp, 0, sizeof resp);
    int32_t total = req.DeletionsCount + req.UpsertionsCount;
    resp.Results = resp_array(&s->rs_out, total, sizeof *resp.Results);
    if (!resp.Results)
        return -ENOMEM;
    /* A refused caller's users all carry the refusal: it is their first
     * error, so the checks below keep it and nothing is applied. */
    if (!broker_authorize_cluster(b, s, ACL_OP_ALTER)) {
        for (int32_t i = 0; i < req.DeletionsCount; i++)
            alter_fail(alter_result(&resp, req.Deletions[i].Name),
                       KERR_CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.");
        for (int32_t i = 0; i < req.UpsertionsCount; i++)
            alter_fail(alter_result(&resp, req.Upsertions[i].Name),
                       KERR_CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.");
    }

    /* Check every change first: a user with any bad change has none applied
     * (Kafka's rule), the others are applied together and saved once. */
    for (int32_t i = 0; i < req.DeletionsCount; i++) {
        const ScramCredentialDeletion *d = &req.Deletions[i];
        AlterUserScramCredentialsResult *r = alter_result(&resp, d->Name);
        char *name = kstr_arena_dup(&s->rs_out, d->Name);
        if (!name)
            return -ENOMEM;
        if (d->Name.len == 0)
            alter_fail(r, KERR_UNACCEPTABLE_CREDENTIAL, "Username must not be empty");
        else if (!scram_mech_name(d->Mechanism))
            alter_fail(r, KERR_UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism");
        else if (alter_twice(&req, d->Name, d->Mechanism))
            alter_fail(r, KERR_DUPLICATE_RESOURCE,
                       "A user credential cannot be altered twice in the same request");
        else if (!broker_users_get(us, name, d->Mechanism))
            alter_fail(r, KERR_RESOURCE_NOT_FOUND,
                       "Attempt to delete a user credential that does not exist");
    }
    size_t ncreds = req.UpsertionsCount > 0 ? (size_t)req.UpsertionsCount : 1;
    scram_cred_t *creds = arena_calloc(&s->rs_out, ncreds, sizeof *creds);
    if (!creds)
        return -ENOMEM;
    for (int32_t i = 0; i < req.UpsertionsCount; i++) {
        const ScramCredentialUpsertion *u = &req.Upsertions[i];
        AlterUserScramCredentialsResult *r = alter_result(&resp, u->Name);
        char err[256];
        if (u->Name.len == 0) {
            alter_fail(r, KERR_UNACCEPTABLE_CREDENTIAL, "Username must not be empty");
        } else if (u->Name.len > SCRAM_MAX_USER || memchr(u->Name.ptr, '\0', (size_t)u->Name.len)) {
            alter_fail(r, KERR_UNACCEPTABLE_CREDENTIAL,
                       "Username must hold at most 512 bytes and no NUL");
        } else if (!scram_mech_name(u->Mechanism)) {
            alter_fail(r, KERR_UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism");
        } else if (u->Iterations < SCRAM_MIN_ITERATIONS) {
            alter_fail(r, KERR_UNACCEPTABLE_CREDENTIAL, "Too few iterations");
        } else if (u->Iterations > SCRAM_MAX_ITERATIONS) {
            alter_fail(r, KERR_UNACCEPTABLE_CREDENTIAL, "Too many iterations");
        } else if (alter_twice(&req, u->Name, u->Mechanism)) {
            alter_fail(r, KERR_DUPLICATE_RESOURCE,
                       "A user credential cannot be altered twice in the same request");
        } else if ((size_t)u->SaltedPassword.len != scram_hash_len(u->Mechanism)) {
            alter_fail(r, KERR_UNACCEPTABLE_CREDENTIAL,
                       "The salted password's length does not match the mechanism's hash");
        } else if (scram_cred_from_salted(&creds[i], u->Mechanism, (const uint8_t *)u->Salt.ptr,
                                          (size_t)u->Salt.len, u->Iterations,
                                          (const uint8_t *)u->SaltedPassword.ptr, err,
                                          sizeof err) < 0) {
            alter_fail(r, KERR_UNACCEPTABLE_CREDENTIAL, "The salt must hold 1 to 128 bytes");
        }
    }
    int changed = 0;
    for (int32_t i = 0; i < req.DeletionsCount; i++) {
        const ScramCredentialDeletion *d = &req.Deletions[i];
        if (alter_result(&resp, d->Name)->ErrorCode)
            continue;
        char *name = kstr_arena_dup(&s->rs_out, d->Name);
        if (name && broker_users_delete(us, name, d->Mechanism) == 0)
            changed++;
    }
    for (int32_t i = 0; i < req.UpsertionsCount; i++) {
        const ScramCredentialUpsertion *u = &req.Upsertions[i];
        AlterUserScramCredentialsResult *r = alter_result(&resp, u->Name);
        if (r->ErrorCode)
            continue;
        char *name = kstr_arena_dup(&s->rs_out, u->Name);
        if (!name || broker_users_put(us, name, &creds[i]) < 0) {
            alter_fail(r, KERR_UNKNOWN_SERVER_ERROR, "out of memory");
            continue;
        }
        changed++;
    }
    memset(creds, 0, sizeof *creds * ncreds);
    if (changed && (rc = broker_users_save(us)) < 0) {
        char err[512];
        static eddy_log_limit_t lim = EDDY_LOG_LIMIT_INIT;
        EDDY_LOG_LIMITED(EDDY_LOG_LVL_ERROR, "broker", &lim, 10000,
                         "%s/scram_credentials: cannot save SCRAM credentials: %s; the change is "
                         "not made",
                         b->bk_cfg.log_dirs, eddy_strerror(rc));
        if (broker_users_reload(us, err, sizeof err) < 0)
            EDDY_LOG_ERROR("broker", "%s", err);
        for (int32_t i = 0; i < resp.ResultsCount; i++)
            if (!resp.Results[i].ErrorCode) {
                resp.Results[i].ErrorCode = KERR_KAFKA_STORAGE_ERROR;
                resp.Results[i].ErrorMessage = kstr_c("the broker cannot write its credential "
                                                      "file; see its log");
            }
    } else if (changed) {
        for (int32_t i = 0; i < resp.ResultsCount; i++)
            if (!resp.Results[i].ErrorCode)
                EDDY_LOG_INFO("broker", "%s: SCRAM credentials of user '%.*s' changed by %s",
                              s->rs_conn->c_peer, (int)resp.Results[i].User.len,
                              resp.Results[i].User.ptr, s->rs_conn->c_principal);
    }
    wire_alter_user_scram_resp_encode(&s->rs_resp, v, &resp);
    s->rs_state = SLOT_DONE;
    return 0;
}

/* Eddy has no client quotas (quota.* settings, client-id and user throttles):
 * every filter matches nothing. Kafka's kafka-configs asks this beside
 * DescribeUserScramCredentials when it describes users. */
int handle_describe_client_quotas(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    (void)b;
    DescribeClientQuotasRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    int rc = wire_describe_client_quotas_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    DescribeClientQuotasResponse resp = {0, KERR_NONE, KSTR_NULL, 0};
    wire_describe_client_quotas_resp_encode(&s->rs_resp, v, &resp);
    s->rs_state = SLOT_DONE;
    return 0;
}

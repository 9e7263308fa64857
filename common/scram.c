/* SCRAM (RFC 5802, RFC 7677) on OpenSSL: the contract is in scram.h. */
#include "common/scram.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/err.h"

#define ERR(...)                                                                                   \
    do {                                                                                           \
        if (errstr && errstr_size)                                                                 \
            snprintf(errstr, errstr_size, __VA_ARGS__);                                            \
    } while (0)

const char *scram_mech_name(int mech)
{
    switch (mech) {
    case SCRAM_SHA_256: return "SCRAM-SHA-256";
    case SCRAM_SHA_512: return "SCRAM-SHA-512";
    default: return NULL;
    }
}

int scram_mech_from_name(const char *name)
{
    if (!name)
        return SCRAM_MECH_UNKNOWN;
    if (strcmp(name, "SCRAM-SHA-256") == 0)
        return SCRAM_SHA_256;
    if (strcmp(name, "SCRAM-SHA-512") == 0)
        return SCRAM_SHA_512;
    return SCRAM_MECH_UNKNOWN;
}

size_t scram_hash_len(int mech)
{
    switch (mech) {
    case SCRAM_SHA_256: return 32;
    case SCRAM_SHA_512: return 64;
    default: return 0;
    }
}

static const EVP_MD *mech_md(int mech)
{
    switch (mech) {
    case SCRAM_SHA_256: return EVP_sha256();
    case SCRAM_SHA_512: return EVP_sha512();
    default: return NULL;
    }
}

/* ---- key schedule ---- */

int scram_salted_password(int mech, const char *password, size_t password_len, const uint8_t *salt,
                          size_t salt_len, int32_t iterations, uint8_t *out)
{
    const EVP_MD *md = mech_md(mech);
    if (!md || iterations < 1 || password_len > INT32_MAX || salt_len > INT32_MAX)
        return EDDY_ERR_INVALID_ARG;
    if (!PKCS5_PBKDF2_HMAC(password, (int)password_len, salt, (int)salt_len, iterations, md,
                           (int)scram_hash_len(mech), out))
        return -ENOMEM;
    return 0;
}

int scram_hmac(int mech, const uint8_t *key, size_t key_len, const void *data, size_t data_len,
               uint8_t *out)
{
    const EVP_MD *md = mech_md(mech);
    unsigned int n = 0;
    if (!md || key_len > INT32_MAX)
        return EDDY_ERR_INVALID_ARG;
    if (!HMAC(md, key, (int)key_len, data, data_len, out, &n))
        return -ENOMEM;
    return 0;
}

int scram_hash(int mech, const void *data, size_t len, uint8_t *out)
{
    const EVP_MD *md = mech_md(mech);
    if (!md)
        return EDDY_ERR_INVALID_ARG;
    if (!EVP_Digest(data, len, out, NULL, md, NULL))
        return -ENOMEM;
    return 0;
}

int scram_client_key(int mech, const uint8_t *salted, uint8_t *out)
{
    return scram_hmac(mech, salted, scram_hash_len(mech), "Client Key", 10, out);
}

int scram_stored_key(int mech, const uint8_t *client_key, uint8_t *out)
{
    return scram_hash(mech, client_key, scram_hash_len(mech), out);
}

int scram_server_key(int mech, const uint8_t *salted, uint8_t *out)
{
    return scram_hmac(mech, salted, scram_hash_len(mech), "Server Key", 10, out);
}

int scram_cred_from_salted(scram_cred_t *cred, int mech, const uint8_t *salt, size_t salt_len,
                           int32_t iterations, const uint8_t *salted, char *errstr,
                           size_t errstr_size)
{
    uint8_t ck[SCRAM_MAX_HASH];
    int rc;
    if (!scram_hash_len(mech)) {
        ERR("unknown SCRAM mechanism %d (SCRAM-SHA-256 is 1, SCRAM-SHA-512 is 2)", mech);
        return EDDY_ERR_INVALID_ARG;
    }
    if (iterations < SCRAM_MIN_ITERATIONS || iterations > SCRAM_MAX_ITERATIONS) {
        ERR("iterations %d outside [%d, %d]", (int)iterations, SCRAM_MIN_ITERATIONS,
            SCRAM_MAX_ITERATIONS);
        return EDDY_ERR_INVALID_ARG;
    }
    if (salt_len == 0 || salt_len > SCRAM_MAX_SALT) {
        ERR("salt of %zu bytes: it must hold 1 to %d bytes", salt_len, SCRAM_MAX_SALT);
        return EDDY_ERR_INVALID_ARG;
    }
    memset(cred, 0, sizeof *cred);
    cred->sc_mech = mech;
    cred->sc_iterations = iterations;
    cred->sc_salt_len = salt_len;
    memcpy(cred->sc_salt, salt, salt_len);
    if ((rc = scram_client_key(mech, salted, ck)) < 0 ||
        (rc = scram_stored_key(mech, ck, cred->sc_stored_key)) < 0 ||
        (rc = scram_server_key(mech, salted, cred->sc_server_key)) < 0) {
        ERR("SCRAM key derivation failed in libcrypto");
        OPENSSL_cleanse(ck, sizeof ck);
        return rc;
    }
    OPENSSL_cleanse(ck, sizeof ck);
    return 0;
}

int scram_cred_from_password(scram_cred_t *cred, int mech, const char *password,
                             size_t password_len, const uint8_t *salt, size_t salt_len,
                             int32_t iterations, char *errstr, size_t errstr_size)
{
    uint8_t own_salt[32], salted[SCRAM_MAX_HASH];
    int rc;
    if (!scram_hash_len(mech)) {
        ERR("unknown SCRAM mechanism %d", mech);
        return EDDY_ERR_INVALID_ARG;
    }
    if (iterations < SCRAM_MIN_ITERATIONS || iterations > SCRAM_MAX_ITERATIONS) {
        ERR("iterations %d outside [%d, %d]", (int)iterations, SCRAM_MIN_ITERATIONS,
            SCRAM_MAX_ITERATIONS);
        return EDDY_ERR_INVALID_ARG;
    }
    if (!salt) {
        if ((rc = scram_random(own_salt, sizeof own_salt)) < 0) {
            ERR("no random bytes for a salt");
            return rc;
        }
        salt = own_salt;
        salt_len = sizeof own_salt;
    }
    if ((rc = scram_salted_password(mech, password, password_len, salt, salt_len, iterations,
                                    salted)) < 0) {
        ERR("PBKDF2 failed in libcrypto");
        return rc;
    }
    rc = scram_cred_from_salted(cred, mech, salt, salt_len, iterations, salted, errstr,
                                errstr_size);
    OPENSSL_cleanse(salted, sizeof salted);
    return rc;
}

int scram_cred_check_password(const scram_cred_t *cred, const char *password, size_t password_len)
{
    uint8_t salted[SCRAM_MAX_HASH], ck[SCRAM_MAX_HASH], sk[SCRAM_MAX_HASH];
    int rc;
    size_t hl = scram_hash_len(cred->sc_mech);
    if (!hl)
        return EDDY_ERR_INVALID_ARG;
    if ((rc = scram_salted_password(cred->sc_mech, password, password_len, cred->sc_salt,
                                    cred->sc_salt_len, cred->sc_iterations, salted)) < 0 ||
        (rc = scram_client_key(cred->sc_mech, salted, ck)) < 0 ||
        (rc = scram_stored_key(cred->sc_mech, ck, sk)) < 0)
        goto out;
    rc = scram_ct_equal(sk, cred->sc_stored_key, hl);
out:
    OPENSSL_cleanse(salted, sizeof salted);
    OPENSSL_cleanse(ck, sizeof ck);
    return rc;
}

int scram_ct_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

int scram_random(uint8_t *out, size_t n)
{
    if (n > INT32_MAX || RAND_bytes(out, (int)n) != 1)
        return -EIO;
    return 0;
}

int scram_nonce(char *out, size_t n)
{
    /* Alphanumerics only, as Kafka's own nonces: printable, never ',' or '='. 62 does
     * not divide 256, so bytes >= 248 are drawn again to keep the choice uniform. */
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    uint8_t buf[64];
    size_t i = 0;
    while (i < n) {
        int rc = scram_random(buf, sizeof buf);
        if (rc < 0)
            return rc;
        for (size_t j = 0; j < sizeof buf && i < n; j++)
            if (buf[j] < 248)
                out[i++] = alpha[buf[j] % 62];
    }
    out[n] = '\0';
    return 0;
}

/* ---- base64 ---- */

size_t scram_b64_encode(const uint8_t *in, size_t n, char *out)
{
    if (n == 0) {
        out[0] = '\0';
        return 0;
    }
    return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

int scram_b64_decode(const char *in, size_t n, uint8_t *out, size_t out_cap)
{
    static const signed char tab[256] = {
        ['A'] = 1,  ['B'] = 2,  ['C'] = 3,  ['D'] = 4,  ['E'] = 5,  ['F'] = 6,  ['G'] = 7,
        ['H'] = 8,  ['I'] = 9,  ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14,
        ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21,
        ['V'] = 22, ['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28,
        ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35,
        ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
        ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49,
        ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
        ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63,
        ['/'] = 64,
    };
    size_t pad = 0, o = 0;
    uint32_t acc = 0;
    if (n % 4)
        return -1;
    if (n && in[n - 1] == '=')
        pad++;
    if (n > 1 && in[n - 2] == '=')
        pad++;
    if (n / 4 * 3 - pad > out_cap)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int v;
        if (i >= n - pad)
            v = 0;
        else if ((v = tab[(unsigned char)in[i]]) == 0)
            return -1;
        else
            v -= 1;
        acc = (acc << 6) | (uint32_t)v;
        if (i % 4 == 3) {
            uint8_t b[3] = {(uint8_t)(acc >> 16), (uint8_t)(acc >> 8), (uint8_t)acc};
            for (int k = 0; k < 3; k++)
                if (o < n / 4 * 3 - pad)
                    out[o++] = b[k];
            acc = 0;
        }
    }
    return (int)o;
}

/* ---- saslname ---- */

size_t scram_saslname_escape(const char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == ',') {
            memcpy(out + o, "=2C", 3);
            o += 3;
        } else if (in[i] == '=') {
            memcpy(out + o, "=3D", 3);
            o += 3;
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = '\0';
    return o;
}

int scram_saslname_unescape(const char *in, size_t n, char *out, size_t out_cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (c == ',')
            return -1;
        if (c == '=') {
            if (i + 2 >= n)
                return -1;
            if (in[i + 1] == '2' && in[i + 2] == 'C')
                c = ',';
            else if (in[i + 1] == '3' && in[i + 2] == 'D')
                c = '=';
            else
                return -1;
            i += 2;
        }
        if (c == '\0' || o + 1 >= out_cap)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return (int)o;
}

/* ---- messages ---- */

/* One "a=value" attribute starting at msg[*pos]; sets *val, *vlen and moves
 * *pos past the following ',' (or to len). Returns the attribute letter, or 0
 * when the input is not an attribute. */
static int next_attr(const char *msg, size_t len, size_t *pos, const char **val, size_t *vlen)
{
    size_t p = *pos, e;
    if (p + 2 > len || msg[p + 1] != '=')
        return 0;
    char a = msg[p];
    if (!((a >= 'a' && a <= 'z') || (a >= 'A' && a <= 'Z')))
        return 0;
    for (e = p + 2; e < len && msg[e] != ','; e++)
        ;
    *val = msg + p + 2;
    *vlen = e - (p + 2);
    *pos = e < len ? e + 1 : len;
    return a;
}

static int printable_nonce(const char *v, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x21 || c > 0x7e || c == ',')
            return 0;
    }
    return 1;
}

static int has_nul(const char *msg, size_t len)
{
    return memchr(msg, '\0', len) != NULL;
}

int scram_parse_client_first(const char *msg, size_t len, scram_client_first_msg_t *out,
                             char *errstr, size_t errstr_size)
{
    size_t pos = 0, vlen;
    const char *val;
    int a;
    memset(out, 0, sizeof *out);
    if (len > SCRAM_MAX_MSG || has_nul(msg, len)) {
        ERR("SCRAM client-first message is longer than %d bytes or holds a NUL", SCRAM_MAX_MSG);
        return EDDY_ERR_INVALID_ARG;
    }
    /* gs2-cbind-flag: channel binding is not offered by this server. */
    if (len < 3 || (msg[0] != 'n' && msg[0] != 'y') || msg[1] != ',') {
        ERR("SCRAM client-first message must start with \"n,\" (channel binding is not "
            "supported)");
        return EDDY_ERR_INVALID_ARG;
    }
    pos = 2;
    if (msg[pos] == 'a') {
        if ((a = next_attr(msg, len, &pos, &val, &vlen)) != 'a' ||
            scram_saslname_unescape(val, vlen, out->cf_authzid, sizeof out->cf_authzid) < 0) {
            ERR("SCRAM client-first message has a malformed authzid");
            return EDDY_ERR_INVALID_ARG;
        }
    } else if (msg[pos] == ',') {
        pos++;
    } else {
        ERR("SCRAM client-first message has a malformed gs2 header");
        return EDDY_ERR_INVALID_ARG;
    }
    if (pos >= len || msg[pos - 1] != ',' || pos > sizeof out->cf_gs2_header - 1) {
        ERR("SCRAM client-first message ends after its gs2 header");
        return EDDY_ERR_INVALID_ARG;
    }
    memcpy(out->cf_gs2_header, msg, pos);
    out->cf_gs2_header[pos] = '\0';
    out->cf_bare_off = pos;
    if (msg[pos] == 'm') {
        ERR("SCRAM client-first message asks for a mandatory extension this server does not "
            "support");
        return EDDY_ERR_INVALID_ARG;
    }
    if ((a = next_attr(msg, len, &pos, &val, &vlen)) != 'n' || vlen == 0 ||
        scram_saslname_unescape(val, vlen, out->cf_user, sizeof out->cf_user) <= 0) {
        ERR("SCRAM client-first message has no valid user name (n=, with ',' and '=' "
            "escaped as =2C and =3D)");
        return EDDY_ERR_INVALID_ARG;
    }
    if ((a = next_attr(msg, len, &pos, &val, &vlen)) != 'r' || !printable_nonce(val, vlen) ||
        vlen > SCRAM_MAX_NONCE / 2) {
        ERR("SCRAM client-first message has no valid nonce (r=, printable, at most %d chars)",
            SCRAM_MAX_NONCE / 2);
        return EDDY_ERR_INVALID_ARG;
    }
    memcpy(out->cf_nonce, val, vlen);
    out->cf_nonce[vlen] = '\0';
    /* Extensions (Kafka's tokenauth=true among them) follow; delegation tokens are not
     * supported, so they are ignored rather than refused, as Kafka does with unknown
     * ones. Each must still be well formed. */
    while (pos < len) {
        size_t before = pos;
        const char *ev;
        size_t el;
        size_t e = pos;
        while (e < len && msg[e] != ',')
            e++;
        ev = msg + pos;
        el = e - pos;
        if (!memchr(ev, '=', el) || el < 2) {
            ERR("SCRAM client-first message has a malformed extension");
            return EDDY_ERR_INVALID_ARG;
        }
        pos = e < len ? e + 1 : len;
        if (pos == before)
            break;
    }
    if (out->cf_authzid[0] && strcmp(out->cf_authzid, out->cf_user) != 0) {
        ERR("SCRAM authorization id \"%s\" differs from the user name", out->cf_authzid);
        return EDDY_ERR_INVALID_ARG;
    }
    return 0;
}

int scram_parse_server_first(const char *msg, size_t len, scram_server_first_msg_t *out,
                             char *errstr, size_t errstr_size)
{
    size_t pos = 0, vlen;
    const char *val;
    int n;
    memset(out, 0, sizeof *out);
    if (len > SCRAM_MAX_MSG || has_nul(msg, len)) {
        ERR("SCRAM server-first message is too long or holds a NUL");
        return EDDY_ERR_INVALID_ARG;
    }
    if (len >= 2 && msg[0] == 'e' && msg[1] == '=') {
        ERR("SCRAM server refused: %.*s", (int)(len - 2 > 200 ? 200 : len - 2), msg + 2);
        return -EACCES;
    }
    if (next_attr(msg, len, &pos, &val, &vlen) != 'r' || !printable_nonce(val, vlen) ||
        vlen > SCRAM_MAX_NONCE) {
        ERR("SCRAM server-first message has no valid nonce");
        return EDDY_ERR_INVALID_ARG;
    }
    memcpy(out->sf_nonce, val, vlen);
    out->sf_nonce[vlen] = '\0';
    if (next_attr(msg, len, &pos, &val, &vlen) != 's' ||
        (n = scram_b64_decode(val, vlen, out->sf_salt, sizeof out->sf_salt)) <= 0) {
        ERR("SCRAM server-first message has no valid salt");
        return EDDY_ERR_INVALID_ARG;
    }
    out->sf_salt_len = (size_t)n;
    if (next_attr(msg, len, &pos, &val, &vlen) != 'i' || vlen == 0 || vlen > 9) {
        ERR("SCRAM server-first message has no valid iteration count");
        return EDDY_ERR_INVALID_ARG;
    }
    int32_t it = 0;
    for (size_t i = 0; i < vlen; i++) {
        if (val[i] < '0' || val[i] > '9') {
            ERR("SCRAM server-first message has no valid iteration count");
            return EDDY_ERR_INVALID_ARG;
        }
        it = it * 10 + (val[i] - '0');
    }
    out->sf_iterations = it;
    return 0;
}

int scram_parse_client_final(const char *msg, size_t len, scram_client_final_msg_t *out,
                             char *errstr, size_t errstr_size)
{
    size_t pos = 0, vlen, attr_start;
    const char *val;
    int a, n;
    memset(out, 0, sizeof *out);
    if (len > SCRAM_MAX_MSG || has_nul(msg, len)) {
        ERR("SCRAM client-final message is too long or holds a NUL");
        return EDDY_ERR_INVALID_ARG;
    }
    if (next_attr(msg, len, &pos, &val, &vlen) != 'c' ||
        (n = scram_b64_decode(val, vlen, out->cl_binding, sizeof out->cl_binding)) <= 0) {
        ERR("SCRAM client-final message has no valid channel binding (c=)");
        return EDDY_ERR_INVALID_ARG;
    }
    out->cl_binding_len = (size_t)n;
    if (next_attr(msg, len, &pos, &val, &vlen) != 'r' || !printable_nonce(val, vlen) ||
        vlen > SCRAM_MAX_NONCE) {
        ERR("SCRAM client-final message has no valid nonce (r=)");
        return EDDY_ERR_INVALID_ARG;
    }
    memcpy(out->cl_nonce, val, vlen);
    out->cl_nonce[vlen] = '\0';
    for (;;) {
        attr_start = pos;
        if ((a = next_attr(msg, len, &pos, &val, &vlen)) == 0) {
            ERR("SCRAM client-final message has no proof (p=)");
            return EDDY_ERR_INVALID_ARG;
        }
        if (a == 'p')
            break;
    }
    if (pos != len) {
        ERR("SCRAM client-final message has attributes after its proof");
        return EDDY_ERR_INVALID_ARG;
    }
    if ((n = scram_b64_decode(val, vlen, out->cl_proof, sizeof out->cl_proof)) <= 0) {
        ERR("SCRAM client-final message has a malformed proof");
        return EDDY_ERR_INVALID_ARG;
    }
    out->cl_proof_len = (size_t)n;
    out->cl_without_proof_len = attr_start - 1; /* drop the ',' before "p=" */
    return 0;
}

int scram_parse_server_final(const char *msg, size_t len, uint8_t *sig, size_t *sig_len,
                             char *errstr, size_t errstr_size)
{
    size_t pos = 0, vlen;
    const char *val;
    int a, n;
    if (len > SCRAM_MAX_MSG || has_nul(msg, len)) {
        ERR("SCRAM server-final message is too long or holds a NUL");
        return EDDY_ERR_INVALID_ARG;
    }
    a = next_attr(msg, len, &pos, &val, &vlen);
    if (a == 'e') {
        ERR("SCRAM server refused: %.*s", (int)(vlen > 200 ? 200 : vlen), val);
        return -EACCES;
    }
    if (a != 'v' || (n = scram_b64_decode(val, vlen, sig, SCRAM_MAX_HASH)) <= 0) {
        ERR("SCRAM server-final message has no valid signature (v=)");
        return EDDY_ERR_INVALID_ARG;
    }
    *sig_len = (size_t)n;
    return 0;
}

/* Appends [","] data[0..n) to the malloc'ed AuthMessage in *buf. */
static int auth_append(char **buf, size_t *len, int comma, const char *data, size_t n)
{
    size_t add = n + (comma ? 1 : 0);
    char *p = realloc(*buf, *len + add + 1);
    if (!p)
        return -ENOMEM;
    if (comma)
        p[(*len)++] = ',';
    memcpy(p + *len, data, n);
    *len += n;
    p[*len] = '\0';
    *buf = p;
    return 0;
}

/* ---- client ---- */

int scram_client_init(scram_client_t *c, int mech, const char *user, const char *password,
                      const char *nonce, char *errstr, size_t errstr_size)
{
    int rc;
    memset(c, 0, sizeof *c);
    if (!scram_hash_len(mech)) {
        ERR("unknown SCRAM mechanism %d", mech);
        return EDDY_ERR_INVALID_ARG;
    }
    if (!user || !*user || strlen(user) > SCRAM_MAX_USER) {
        ERR("SCRAM user name must hold 1 to %d bytes", SCRAM_MAX_USER);
        return EDDY_ERR_INVALID_ARG;
    }
    c->scc_mech = mech;
    strcpy(c->scc_user, user);
    c->scc_password_len = strlen(password ? password : "");
    if (!(c->scc_password = strdup(password ? password : "")))
        return -ENOMEM;
    if (nonce) {
        if (!printable_nonce(nonce, strlen(nonce)) || strlen(nonce) > SCRAM_MAX_NONCE / 2) {
            ERR("SCRAM nonce must be printable, without ','");
            scram_client_close(c);
            return EDDY_ERR_INVALID_ARG;
        }
        strcpy(c->scc_nonce, nonce);
    } else if ((rc = scram_nonce(c->scc_nonce, SCRAM_NONCE_LEN)) < 0) {
        ERR("no random bytes for a SCRAM nonce");
        scram_client_close(c);
        return rc;
    }
    return 0;
}

int scram_client_first(scram_client_t *c, char *out, size_t out_cap)
{
    char esc[SCRAM_MAX_USER * 3 + 1];
    scram_saslname_escape(c->scc_user, strlen(c->scc_user), esc);
    int n = snprintf(out, out_cap, "n,,n=%s,r=%s", esc, c->scc_nonce);
    if (n < 0 || (size_t)n >= out_cap)
        return EDDY_ERR_TOO_LARGE;
    /* The bare part (after "n,,") opens the AuthMessage; the rest joins later. */
    free(c->scc_auth_msg);
    if (!(c->scc_auth_msg = strdup(out + 3)))
        return -ENOMEM;
    c->scc_auth_msg_len = (size_t)n - 3;
    c->scc_state = 1;
    return n;
}

int scram_client_final(scram_client_t *c, const char *server_first, size_t len, char *out,
                       size_t out_cap, char *errstr, size_t errstr_size)
{
    scram_server_first_msg_t sf;
    uint8_t salted[SCRAM_MAX_HASH], ck[SCRAM_MAX_HASH], sk[SCRAM_MAX_HASH], csig[SCRAM_MAX_HASH],
        skey[SCRAM_MAX_HASH], proof[SCRAM_MAX_HASH];
    char wp[SCRAM_MAX_NONCE + 16], proof64[SCRAM_MAX_HASH * 2];
    size_t hl = scram_hash_len(c->scc_mech);
    int rc, n;
    if (c->scc_state != 1) {
        ERR("SCRAM client: server-first arrived out of order");
        return EDDY_ERR_INVALID_ARG;
    }
    if ((rc = scram_parse_server_first(server_first, len, &sf, errstr, errstr_size)) < 0)
        return rc;
    size_t cn = strlen(c->scc_nonce);
    if (strlen(sf.sf_nonce) <= cn || memcmp(sf.sf_nonce, c->scc_nonce, cn) != 0) {
        ERR("SCRAM server nonce does not extend the client's nonce");
        return EDDY_ERR_INVALID_ARG;
    }
    if (sf.sf_iterations < SCRAM_MIN_ITERATIONS) {
        ERR("SCRAM server asks for %d iterations, fewer than the minimum %d",
            (int)sf.sf_iterations, SCRAM_MIN_ITERATIONS);
        return EDDY_ERR_INVALID_ARG;
    }
    /* "biws" is base64("n,,"): no channel binding, no authzid. */
    n = snprintf(wp, sizeof wp, "c=biws,r=%s", sf.sf_nonce);
    if ((rc = auth_append(&c->scc_auth_msg, &c->scc_auth_msg_len, 1, server_first, len)) < 0 ||
        (rc = auth_append(&c->scc_auth_msg, &c->scc_auth_msg_len, 1, wp, (size_t)n)) < 0)
        return rc;
    if ((rc = scram_salted_password(c->scc_mech, c->scc_password, c->scc_password_len,
                                    sf.sf_salt, sf.sf_salt_len, sf.sf_iterations, salted)) < 0 ||
        (rc = scram_client_key(c->scc_mech, salted, ck)) < 0 ||
        (rc = scram_stored_key(c->scc_mech, ck, sk)) < 0 ||
        (rc = scram_hmac(c->scc_mech, sk, hl, c->scc_auth_msg, c->scc_auth_msg_len, csig)) < 0 ||
        (rc = scram_server_key(c->scc_mech, salted, skey)) < 0 ||
        (rc = scram_hmac(c->scc_mech, skey, hl, c->scc_auth_msg, c->scc_auth_msg_len,
                         c->scc_server_sig)) < 0) {
        ERR("SCRAM key derivation failed in libcrypto");
        goto out;
    }
    for (size_t i = 0; i < hl; i++)
        proof[i] = ck[i] ^ csig[i];
    scram_b64_encode(proof, hl, proof64);
    n = snprintf(out, out_cap, "%s,p=%s", wp, proof64);
    if (n < 0 || (size_t)n >= out_cap) {
        ERR("SCRAM client-final message does not fit its buffer");
        rc = EDDY_ERR_TOO_LARGE;
        goto out;
    }
    rc = n;
    c->scc_state = 2;
out:
    OPENSSL_cleanse(salted, sizeof salted);
    OPENSSL_cleanse(ck, sizeof ck);
    OPENSSL_cleanse(skey, sizeof skey);
    return rc;
}

int scram_client_verify(scram_client_t *c, const char *server_final, size_t len, char *errstr,
                        size_t errstr_size)
{
    uint8_t sig[SCRAM_MAX_HASH];
    size_t sig_len = 0;
    int rc;
    if (c->scc_state != 2) {
        ERR("SCRAM client: server-final arrived out of order");
        return EDDY_ERR_INVALID_ARG;
    }
    if ((rc = scram_parse_server_final(server_final, len, sig, &sig_len, errstr, errstr_size)) < 0)
        return rc;
    if (sig_len != scram_hash_len(c->scc_mech) ||
        !scram_ct_equal(sig, c->scc_server_sig, sig_len)) {
        ERR("SCRAM server signature is wrong: the server does not know this user's credential");
        return -EACCES;
    }
    c->scc_state = 3;
    return 0;
}

void scram_client_close(scram_client_t *c)
{
    if (c->scc_password) {
        OPENSSL_cleanse(c->scc_password, c->scc_password_len);
        free(c->scc_password);
    }
    free(c->scc_auth_msg);
    OPENSSL_cleanse(c, sizeof *c);
}

/* ---- server ---- */

void scram_server_init(scram_server_t *s, int mech)
{
    memset(s, 0, sizeof *s);
    s->scs_mech = mech;
}

int scram_server_recv_first(scram_server_t *s, const char *msg, size_t len, char *errstr,
                            size_t errstr_size)
{
    int rc;
    if (s->scs_state != 0 || !scram_hash_len(s->scs_mech)) {
        ERR("SCRAM server: client-first arrived out of order");
        return EDDY_ERR_INVALID_ARG;
    }
    if ((rc = scram_parse_client_first(msg, len, &s->scs_cf, errstr, errstr_size)) < 0)
        return rc;
    free(s->scs_auth_msg);
    s->scs_auth_msg = NULL;
    s->scs_auth_msg_len = 0;
    if ((rc = auth_append(&s->scs_auth_msg, &s->scs_auth_msg_len, 0, msg + s->scs_cf.cf_bare_off,
                          len - s->scs_cf.cf_bare_off)) < 0)
        return rc;
    s->scs_state = 1;
    return 0;
}

const char *scram_server_user(const scram_server_t *s)
{
    return s->scs_state >= 1 ? s->scs_cf.cf_user : NULL;
}

int scram_server_first(scram_server_t *s, const scram_cred_t *cred, const char *nonce, char *out,
                       size_t out_cap, char *errstr, size_t errstr_size)
{
    char snonce[SCRAM_NONCE_LEN + 1], salt64[SCRAM_MAX_SALT * 2];
    int rc, n;
    if (s->scs_state != 1 || cred->sc_mech != s->scs_mech) {
        ERR("SCRAM server: server-first out of order or for another mechanism");
        return EDDY_ERR_INVALID_ARG;
    }
    if (!nonce) {
        if ((rc = scram_nonce(snonce, SCRAM_NONCE_LEN)) < 0) {
            ERR("no random bytes for a SCRAM nonce");
            return rc;
        }
        nonce = snonce;
    }
    if (strlen(s->scs_cf.cf_nonce) + strlen(nonce) > SCRAM_MAX_NONCE) {
        ERR("SCRAM nonce too long");
        return EDDY_ERR_INVALID_ARG;
    }
    s->scs_cred = *cred;
    snprintf(s->scs_nonce, sizeof s->scs_nonce, "%s%s", s->scs_cf.cf_nonce, nonce);
    scram_b64_encode(cred->sc_salt, cred->sc_salt_len, salt64);
    n = snprintf(out, out_cap, "r=%s,s=%s,i=%d", s->scs_nonce, salt64, (int)cred->sc_iterations);
    if (n < 0 || (size_t)n >= out_cap) {
        ERR("SCRAM server-first message does not fit its buffer");
        return EDDY_ERR_TOO_LARGE;
    }
    /* AuthMessage so far: client-first-bare "," server-first; the client-final part
     * (without proof) is appended when it arrives. */
    if ((rc = auth_append(&s->scs_auth_msg, &s->scs_auth_msg_len, 1, out, (size_t)n)) < 0)
        return rc;
    s->scs_state = 2;
    return n;
}

int scram_server_final(scram_server_t *s, const char *client_final, size_t len, char *out,
                       size_t out_cap, char *errstr, size_t errstr_size)
{
    scram_client_final_msg_t cl;
    uint8_t csig[SCRAM_MAX_HASH], ck[SCRAM_MAX_HASH], sk[SCRAM_MAX_HASH], ssig[SCRAM_MAX_HASH];
    char sig64[SCRAM_MAX_HASH * 2];
    size_t hl = scram_hash_len(s->scs_mech);
    int rc, n;
    if (s->scs_state != 2) {
        ERR("SCRAM server: client-final arrived out of order");
        return EDDY_ERR_INVALID_ARG;
    }
    s->scs_state = 3; /* one attempt per exchange, whatever the outcome */
    if ((rc = scram_parse_client_final(client_final, len, &cl, errstr, errstr_size)) < 0)
        return rc;
    if (strcmp(cl.cl_nonce, s->scs_nonce) != 0) {
        ERR("SCRAM client-final nonce does not match the server-first nonce");
        return EDDY_ERR_INVALID_ARG;
    }
    if (cl.cl_binding_len != strlen(s->scs_cf.cf_gs2_header) ||
        memcmp(cl.cl_binding, s->scs_cf.cf_gs2_header, cl.cl_binding_len) != 0) {
        ERR("SCRAM client-final channel binding does not repeat the gs2 header");
        return EDDY_ERR_INVALID_ARG;
    }
    if (cl.cl_proof_len != hl) {
        ERR("SCRAM client proof has %zu bytes, %s needs %zu", cl.cl_proof_len,
            scram_mech_name(s->scs_mech), hl);
        return EDDY_ERR_INVALID_ARG;
    }
    /* The AuthMessage ends with client-final-without-proof. */
    if ((rc = auth_append(&s->scs_auth_msg, &s->scs_auth_msg_len, 1, client_final,
                          cl.cl_without_proof_len)) < 0)
        return rc;
    if ((rc = scram_hmac(s->scs_mech, s->scs_cred.sc_stored_key, hl, s->scs_auth_msg,
                         s->scs_auth_msg_len, csig)) < 0)
        return rc;
    for (size_t i = 0; i < hl; i++)
        ck[i] = cl.cl_proof[i] ^ csig[i];
    if ((rc = scram_hash(s->scs_mech, ck, hl, sk)) < 0)
        return rc;
    OPENSSL_cleanse(ck, sizeof ck);
    if (!scram_ct_equal(sk, s->scs_cred.sc_stored_key, hl)) {
        ERR("SCRAM client proof is wrong (wrong password)");
        return -EACCES;
    }
    if ((rc = scram_hmac(s->scs_mech, s->scs_cred.sc_server_key, hl, s->scs_auth_msg,
                         s->scs_auth_msg_len, ssig)) < 0)
        return rc;
    scram_b64_encode(ssig, hl, sig64);
    n = snprintf(out, out_cap, "v=%s", sig64);
    if (n < 0 || (size_t)n >= out_cap) {
        ERR("SCRAM server-final message does not fit its buffer");
        return EDDY_ERR_TOO_LARGE;
    }
    return n;
}

void scram_server_close(scram_server_t *s)
{
    free(s->scs_auth_msg);
    OPENSSL_cleanse(s, sizeof *s);
}

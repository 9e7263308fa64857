/* SCRAM: the RFC 7677 SHA-256 exchange reproduced byte for byte by both roles,
 * SHA-512 round trips, and the refusals a server owes: a wrong password, a
 * replayed or foreign nonce, a malformed message, too few iterations. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "common/err.h"
#include "common/scram.h"

/* RFC 7677 section 3. */
#define V_USER "user"
#define V_PASS "pencil"
#define V_CNONCE "rOprNGfwEbeRWgbNEkqO"
#define V_SNONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define V_CLIENT_FIRST "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define V_SERVER_FIRST                                                                             \
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define V_CLIENT_FINAL                                                                             \
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsq" \
    "mmiz7AndVQ="
#define V_SERVER_FINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static void vector_cred(scram_cred_t *cred)
{
    uint8_t salt[64];
    char err[256];
    int n = scram_b64_decode("W22ZaJ0SNY7soEsUEjb6gQ==", 24, salt, sizeof salt);
    ck_assert_int_eq(n, 16);
    ck_assert_int_eq(scram_cred_from_password(cred, SCRAM_SHA_256, V_PASS, strlen(V_PASS), salt,
                                              (size_t)n, 4096, err, sizeof err),
                     0);
}

START_TEST(test_rfc7677_client)
{
    scram_client_t c;
    char out[512], err[256];
    ck_assert_int_eq(scram_client_init(&c, SCRAM_SHA_256, V_USER, V_PASS, V_CNONCE, err, sizeof err),
                     0);
    ck_assert_int_eq(scram_client_first(&c, out, sizeof out), (int)strlen(V_CLIENT_FIRST));
    ck_assert_str_eq(out, V_CLIENT_FIRST);
    int n = scram_client_final(&c, V_SERVER_FIRST, strlen(V_SERVER_FIRST), out, sizeof out, err,
                               sizeof err);
    ck_assert_msg(n > 0, "%s", err);
    ck_assert_str_eq(out, V_CLIENT_FINAL);
    ck_assert_int_eq(scram_client_verify(&c, V_SERVER_FINAL, strlen(V_SERVER_FINAL), err, sizeof err),
                     0);
    scram_client_close(&c);
}
END_TEST

START_TEST(test_rfc7677_server)
{
    scram_server_t s;
    scram_cred_t cred;
    char out[512], err[256];
    vector_cred(&cred);
    scram_server_init(&s, SCRAM_SHA_256);
    ck_assert_int_eq(
        scram_server_recv_first(&s, V_CLIENT_FIRST, strlen(V_CLIENT_FIRST), err, sizeof err), 0);
    ck_assert_str_eq(scram_server_user(&s), "user");
    ck_assert_int_gt(scram_server_first(&s, &cred, V_SNONCE, out, sizeof out, err, sizeof err), 0);
    ck_assert_str_eq(out, V_SERVER_FIRST);
    int n = scram_server_final(&s, V_CLIENT_FINAL, strlen(V_CLIENT_FINAL), out, sizeof out, err,
                               sizeof err);
    ck_assert_msg(n > 0, "%s", err);
    ck_assert_str_eq(out, V_SERVER_FINAL);
    scram_server_close(&s);
}
END_TEST

START_TEST(test_rfc7677_wrong_password)
{
    scram_server_t s;
    scram_cred_t cred;
    char out[512], err[256];
    uint8_t salt[16];
    scram_b64_decode("W22ZaJ0SNY7soEsUEjb6gQ==", 24, salt, sizeof salt);
    ck_assert_int_eq(scram_cred_from_password(&cred, SCRAM_SHA_256, "pencil2", 7, salt, 16, 4096,
                                              err, sizeof err),
                     0);
    scram_server_init(&s, SCRAM_SHA_256);
    ck_assert_int_eq(
        scram_server_recv_first(&s, V_CLIENT_FIRST, strlen(V_CLIENT_FIRST), err, sizeof err), 0);
    ck_assert_int_gt(scram_server_first(&s, &cred, V_SNONCE, out, sizeof out, err, sizeof err), 0);
    ck_assert_int_eq(scram_server_final(&s, V_CLIENT_FINAL, strlen(V_CLIENT_FINAL), out, sizeof out,
                                        err, sizeof err),
                     -EACCES);
    ck_assert_ptr_nonnull(strstr(err, "wrong password"));
    /* One attempt per exchange: a second client-final is refused. */
    ck_assert_int_lt(scram_server_final(&s, V_CLIENT_FINAL, strlen(V_CLIENT_FINAL), out,
                                        sizeof out, err, sizeof err),
                     0);
    scram_server_close(&s);
}
END_TEST

/* Both roles with random nonces and salts, for each mechanism; the password
 * check that PLAIN uses agrees. */
static void round_trip(int mech, const char *user, const char *pass, const char *server_pass,
                       int expect_ok)
{
    scram_client_t c;
    scram_server_t s;
    scram_cred_t cred;
    char m1[1024], m2[1024], m3[1024], m4[1024], err[256];
    ck_assert_int_eq(scram_cred_from_password(&cred, mech, server_pass, strlen(server_pass), NULL,
                                              0, 4096, err, sizeof err),
                     0);
    ck_assert_int_eq(cred.sc_salt_len, 32);
    ck_assert_int_eq(scram_cred_check_password(&cred, server_pass, strlen(server_pass)), 1);
    ck_assert_int_eq(scram_cred_check_password(&cred, pass, strlen(pass)), expect_ok);
    ck_assert_int_eq(scram_client_init(&c, mech, user, pass, NULL, err, sizeof err), 0);
    scram_server_init(&s, mech);
    int n1 = scram_client_first(&c, m1, sizeof m1);
    ck_assert_int_gt(n1, 0);
    ck_assert_int_eq(scram_server_recv_first(&s, m1, (size_t)n1, err, sizeof err), 0);
    ck_assert_str_eq(scram_server_user(&s), user);
    int n2 = scram_server_first(&s, &cred, NULL, m2, sizeof m2, err, sizeof err);
    ck_assert_int_gt(n2, 0);
    int n3 = scram_client_final(&c, m2, (size_t)n2, m3, sizeof m3, err, sizeof err);
    ck_assert_int_gt(n3, 0);
    int n4 = scram_server_final(&s, m3, (size_t)n3, m4, sizeof m4, err, sizeof err);
    if (expect_ok) {
        ck_assert_msg(n4 > 0, "%s", err);
        ck_assert_int_eq(scram_client_verify(&c, m4, (size_t)n4, err, sizeof err), 0);
    } else {
        ck_assert_int_eq(n4, -EACCES);
    }
    scram_client_close(&c);
    scram_server_close(&s);
}

START_TEST(test_round_trips)
{
    round_trip(SCRAM_SHA_256, "alice", "alice-secret", "alice-secret", 1);
    round_trip(SCRAM_SHA_512, "bob", "bob-secret", "bob-secret", 1);
    round_trip(SCRAM_SHA_512, "bob", "guess", "bob-secret", 0);
    /* ',' and '=' in a user name travel escaped and arrive intact. */
    round_trip(SCRAM_SHA_256, "a,b=c", "pw", "pw", 1);
}
END_TEST

START_TEST(test_saslname_escaping)
{
    char out[64];
    ck_assert_int_eq(scram_saslname_escape("a,b=c", 5, out), 9);
    ck_assert_str_eq(out, "a=2Cb=3Dc");
    ck_assert_int_eq(scram_saslname_unescape("a=2Cb=3Dc", 9, out, sizeof out), 5);
    ck_assert_str_eq(out, "a,b=c");
    ck_assert_int_eq(scram_saslname_unescape("a=2", 3, out, sizeof out), -1);
    ck_assert_int_eq(scram_saslname_unescape("a=41", 4, out, sizeof out), -1);
}
END_TEST

START_TEST(test_server_refuses_malformed)
{
    static const char *bad[] = {
        "p=tls-unique,,n=user,r=abc", /* channel binding asked for */
        "n,,n=,r=abc",                /* empty user */
        "n,,n=user",                  /* no nonce */
        "n,,n=user,r=",               /* empty nonce */
        "n,,m=ext,n=user,r=abc",      /* mandatory extension */
        "n,,n=us=er,r=abc",           /* bad escape */
        "n,a=other,n=user,r=abc",     /* authzid that is not the user */
        "x",
        "",
    };
    char err[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        scram_server_t s;
        scram_server_init(&s, SCRAM_SHA_256);
        err[0] = '\0';
        ck_assert_msg(scram_server_recv_first(&s, bad[i], strlen(bad[i]), err, sizeof err) < 0,
                      "accepted %s", bad[i]);
        ck_assert_uint_gt(strlen(err), 0);
        scram_server_close(&s);
    }
    /* Kafka's client sends an authzid equal to the user: accepted. */
    scram_server_t s;
    scram_server_init(&s, SCRAM_SHA_256);
    ck_assert_int_eq(scram_server_recv_first(&s, "n,a=user,n=user,r=abc,tokenauth=false", 37, err,
                                             sizeof err),
                     0);
    scram_server_close(&s);
}
END_TEST

START_TEST(test_server_refuses_foreign_nonce)
{
    scram_server_t s;
    scram_cred_t cred;
    char out[512], err[256];
    vector_cred(&cred);
    scram_server_init(&s, SCRAM_SHA_256);
    ck_assert_int_eq(
        scram_server_recv_first(&s, V_CLIENT_FIRST, strlen(V_CLIENT_FIRST), err, sizeof err), 0);
    /* A fresh server nonce: the recorded client-final (a replay) carries the old one. */
    ck_assert_int_gt(scram_server_first(&s, &cred, NULL, out, sizeof out, err, sizeof err), 0);
    ck_assert_int_eq(scram_server_final(&s, V_CLIENT_FINAL, strlen(V_CLIENT_FINAL), out, sizeof out,
                                        err, sizeof err),
                     EDDY_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(err, "nonce"));
    scram_server_close(&s);
}
END_TEST

START_TEST(test_client_refuses_weak_server)
{
    scram_client_t c;
    char out[512], err[256];
    ck_assert_int_eq(scram_client_init(&c, SCRAM_SHA_256, V_USER, V_PASS, V_CNONCE, err, sizeof err),
                     0);
    scram_client_first(&c, out, sizeof out);
    const char *low = "r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000";
    ck_assert_int_lt(scram_client_final(&c, low, strlen(low), out, sizeof out, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "iterations"));
    const char *foreign = "r=somethingelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    ck_assert_int_lt(
        scram_client_final(&c, foreign, strlen(foreign), out, sizeof out, err, sizeof err), 0);
    scram_client_close(&c);
    /* A server-final with a wrong signature: the client does not trust the server. */
    ck_assert_int_eq(scram_client_init(&c, SCRAM_SHA_256, V_USER, V_PASS, V_CNONCE, err, sizeof err),
                     0);
    scram_client_first(&c, out, sizeof out);
    ck_assert_int_gt(scram_client_final(&c, V_SERVER_FIRST, strlen(V_SERVER_FIRST), out, sizeof out,
                                        err, sizeof err),
                     0);
    const char *forged = "v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    ck_assert_int_eq(scram_client_verify(&c, forged, strlen(forged), err, sizeof err), -EACCES);
    scram_client_close(&c);
}
END_TEST

START_TEST(test_cred_bounds)
{
    scram_cred_t cred;
    char err[256];
    ck_assert_int_lt(
        scram_cred_from_password(&cred, SCRAM_SHA_256, "x", 1, NULL, 0, 4095, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "4096"));
    ck_assert_int_lt(
        scram_cred_from_password(&cred, SCRAM_SHA_256, "x", 1, NULL, 0, 16385, err, sizeof err), 0);
    ck_assert_int_lt(scram_cred_from_password(&cred, 7, "x", 1, NULL, 0, 4096, err, sizeof err), 0);
    ck_assert_int_eq(scram_mech_from_name("SCRAM-SHA-512"), SCRAM_SHA_512);
    ck_assert_int_eq(scram_mech_from_name("scram-sha-512"), SCRAM_MECH_UNKNOWN);
    ck_assert_str_eq(scram_mech_name(SCRAM_SHA_256), "SCRAM-SHA-256");
}
END_TEST

START_TEST(test_base64)
{
    uint8_t b[8];
    char s[16];
    ck_assert_int_eq(scram_b64_encode((const uint8_t *)"n,,", 3, s), 4);
    ck_assert_str_eq(s, "biws");
    ck_assert_int_eq(scram_b64_decode("biws", 4, b, sizeof b), 3);
    ck_assert_int_eq(memcmp(b, "n,,", 3), 0);
    ck_assert_int_eq(scram_b64_decode("YQ==", 4, b, sizeof b), 1);
    ck_assert_int_eq(b[0], 'a');
    ck_assert_int_eq(scram_b64_decode("YQ=", 3, b, sizeof b), -1);
    ck_assert_int_eq(scram_b64_decode("Y!==", 4, b, sizeof b), -1);
    ck_assert_int_eq(scram_b64_decode("YWJjZGVmZ2hp", 12, b, sizeof b), -1); /* 9 > 8 */
}
END_TEST

TCase *tcase_scram(void)
{
    TCase *tc = tcase_create("scram");
    tcase_add_test(tc, test_rfc7677_client);
    tcase_add_test(tc, test_rfc7677_server);
    tcase_add_test(tc, test_rfc7677_wrong_password);
    tcase_add_test(tc, test_round_trips);
    tcase_add_test(tc, test_saslname_escaping);
    tcase_add_test(tc, test_server_refuses_malformed);
    tcase_add_test(tc, test_server_refuses_foreign_nonce);
    tcase_add_test(tc, test_client_refuses_weak_server);
    tcase_add_test(tc, test_cred_bounds);
    tcase_add_test(tc, test_base64);
    return tc;
}

/* The client side of SaslHandshake and SaslAuthenticate (wire/client_api_sasl.c)
 * against bytes written field by field here from apache/kafka's JSON specs
 * (SaslHandshakeRequest/Response.json v0-1, SaslAuthenticateRequest/
 * Response.json v0-2, v2 flexible): what the client sends is exactly what a
 * Kafka broker parses, and what a Kafka broker answers decodes to its fields;
 * every strict prefix of a response fails cleanly; versions the client does
 * not speak and nulls the specs forbid are refused. Decodes read exact-size
 * heap copies, so ASan sees any over-read. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "wire/api_sasl.h"
#include "wire/client_api.h"
#include "wire/proto.h"

static void expect_bytes(eddy_wr_t *wr, const uint8_t *want, size_t n)
{
    ck_assert_int_eq(wr->wr_err, 0);
    ck_assert_uint_eq(wr->wr_len, n);
    ck_assert_mem_eq(wr->wr_buf, want, n);
    wr_free(wr);
}

START_TEST(handshake_request)
{
    eddy_wr_t wr;
    wr_init(&wr);
    SaslHandshakeRequest r = {kstr_c("SCRAM-SHA-256")};
    wire_sasl_handshake_req_encode(&wr, 1, &r);
    static const uint8_t want[] = {0,   13,  'S', 'C', 'R', 'A', 'M', '-',
                                   'S', 'H', 'A', '-', '2', '5', '6'};
    expect_bytes(&wr, want, sizeof want);
    /* v0 (tokens as bare frames) is not spoken; Mechanism is not nullable */
    wr_init(&wr);
    wire_sasl_handshake_req_encode(&wr, 0, &r);
    ck_assert_int_eq(wr.wr_err, EDDY_ERR_INVALID_ARG);
    wr_free(&wr);
    wr_init(&wr);
    SaslHandshakeRequest null = {KSTR_NULL};
    wire_sasl_handshake_req_encode(&wr, 1, &null);
    ck_assert_int_eq(wr.wr_err, EDDY_ERR_INVALID_ARG);
    wr_free(&wr);
}
END_TEST

/* Decodes an exact-size copy, kept in *keep (the strings borrow it). */
static int decode_handshake(const uint8_t *bytes, size_t n, SaslHandshakeResponse *r,
                            eddy_arena_t *a, uint8_t **keep)
{
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, bytes, n);
    eddy_rd_t rd;
    rd_init(&rd, copy, n);
    *keep = copy;
    return wire_sasl_handshake_resp_decode(&rd, 1, a, r);
}

START_TEST(handshake_response)
{
    /* UNSUPPORTED_SASL_MECHANISM (33) with the enabled list [PLAIN, SCRAM-SHA-512] */
    static const uint8_t resp[] = {0,   33,  0,   0,   0,   2,   0,   5,   'P', 'L',
                                   'A', 'I', 'N', 0,   13,  'S', 'C', 'R', 'A', 'M',
                                   '-', 'S', 'H', 'A', '-', '5', '1', '2'};
    eddy_arena_t a;
    arena_init(&a, 1 << 20);
    SaslHandshakeResponse r;
    uint8_t *keep;
    ck_assert_int_eq(decode_handshake(resp, sizeof resp, &r, &a, &keep), 0);
    ck_assert_int_eq(r.ErrorCode, KERR_UNSUPPORTED_SASL_MECHANISM);
    ck_assert_int_eq(r.MechanismsCount, 2);
    ck_assert(kstr_eq(r.Mechanisms[0], "PLAIN"));
    ck_assert(kstr_eq(r.Mechanisms[1], "SCRAM-SHA-512"));
    free(keep);
    for (size_t n = 0; n < sizeof resp; n++) {
        ck_assert_int_ne(decode_handshake(resp, n, &r, &a, &keep), 0);
        ck_assert_int_eq(r.MechanismsCount, 0);
        free(keep);
    }
    /* a count far beyond the bytes fails before allocating; a null array
     * is refused (not nullable) */
    static const uint8_t huge[] = {0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 1, 'X'};
    ck_assert_int_ne(decode_handshake(huge, sizeof huge, &r, &a, &keep), 0);
    free(keep);
    static const uint8_t null[] = {0, 0, 0xff, 0xff, 0xff, 0xff};
    ck_assert_int_ne(decode_handshake(null, sizeof null, &r, &a, &keep), 0);
    free(keep);
    arena_free(&a);
}
END_TEST

START_TEST(authenticate_request)
{
    static const char tok[] = "n,,n=alice,r=abc";
    SaslAuthenticateRequest r = {{tok, (int32_t)strlen(tok)}};
    eddy_wr_t wr;
    /* v0, v1: int32 length */
    for (int16_t v = 0; v <= 1; v++) {
        wr_init(&wr);
        wire_sasl_authenticate_req_encode(&wr, v, &r);
        uint8_t want[4 + sizeof tok - 1] = {0, 0, 0, (uint8_t)strlen(tok)};
        memcpy(want + 4, tok, strlen(tok));
        expect_bytes(&wr, want, sizeof want);
    }
    /* v2: compact bytes (length + 1 as uvarint), then an empty tag section */
    wr_init(&wr);
    wire_sasl_authenticate_req_encode(&wr, 2, &r);
    uint8_t want2[1 + sizeof tok - 1 + 1] = {(uint8_t)(strlen(tok) + 1)};
    memcpy(want2 + 1, tok, strlen(tok));
    want2[sizeof want2 - 1] = 0;
    expect_bytes(&wr, want2, sizeof want2);
    /* PLAIN's token has NULs inside: bytes, not a C string */
    static const char plain[] = "\0alice\0pw";
    SaslAuthenticateRequest p = {{plain, 9}};
    wr_init(&wr);
    wire_sasl_authenticate_req_encode(&wr, 0, &p);
    static const uint8_t wantp[] = {0, 0, 0, 9, 0, 'a', 'l', 'i', 'c', 'e', 0, 'p', 'w'};
    expect_bytes(&wr, wantp, sizeof wantp);
    /* AuthBytes is not nullable; v3 does not exist */
    SaslAuthenticateRequest null = {KSTR_NULL};
    wr_init(&wr);
    wire_sasl_authenticate_req_encode(&wr, 1, &null);
    ck_assert_int_eq(wr.wr_err, EDDY_ERR_INVALID_ARG);
    wr_free(&wr);
    wr_init(&wr);
    wire_sasl_authenticate_req_encode(&wr, 3, &r);
    ck_assert_int_eq(wr.wr_err, EDDY_ERR_INVALID_ARG);
    wr_free(&wr);
}
END_TEST

static int decode_auth(const uint8_t *bytes, size_t n, int16_t v, SaslAuthenticateResponse *r,
                       uint8_t **keep)
{
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, bytes, n);
    eddy_rd_t rd;
    rd_init(&rd, copy, n);
    int rc = wire_sasl_authenticate_resp_decode(&rd, v, NULL, r);
    if (rc == 0)
        ck_assert_uint_eq(rd_remaining(&rd), 0);
    *keep = copy;
    return rc;
}

START_TEST(authenticate_response)
{
    uint8_t *keep;
    SaslAuthenticateResponse r;
    /* v0: SASL_AUTHENTICATION_FAILED, a message, empty AuthBytes */
    static const uint8_t v0[] = {0, 58, 0, 4, 'b', 'a', 'd', '!', 0, 0, 0, 0};
    ck_assert_int_eq(decode_auth(v0, sizeof v0, 0, &r, &keep), 0);
    ck_assert_int_eq(r.ErrorCode, KERR_SASL_AUTHENTICATION_FAILED);
    ck_assert(kstr_eq(r.ErrorMessage, "bad!"));
    ck_assert_int_eq(r.AuthBytes.len, 0);
    ck_assert_int_eq(r.SessionLifetimeMs, 0);
    free(keep);
    for (size_t n = 0; n < sizeof v0; n++) {
        ck_assert_int_ne(decode_auth(v0, n, 0, &r, &keep), 0);
        free(keep);
    }
    /* v1: null message, server-first bytes, SessionLifetimeMs */
    static const uint8_t v1[] = {0,   0, 0xff, 0xff, 0, 0, 0, 3,    'r', '=',
                                 'x', 0, 0,    0,    0, 0, 0, 0x0e, 0x10};
    ck_assert_int_eq(decode_auth(v1, sizeof v1, 1, &r, &keep), 0);
    ck_assert_int_eq(r.ErrorCode, 0);
    ck_assert_int_eq(r.ErrorMessage.len, -1);
    ck_assert(kstr_eq(r.AuthBytes, "r=x"));
    ck_assert_int_eq(r.SessionLifetimeMs, 3600);
    free(keep);
    for (size_t n = 0; n < sizeof v1; n++) {
        ck_assert_int_ne(decode_auth(v1, n, 1, &r, &keep), 0);
        free(keep);
    }
    /* v2 (flexible): compact nullable message (0 = null), compact bytes,
     * lifetime, a tag section with one unknown tag the client skips */
    static const uint8_t v2[] = {0, 0, 0, 4, 'v', '=', 'x', 0, 0, 0, 0, 0, 0, 0, 0, 1, 5, 1, 'z'};
    ck_assert_int_eq(decode_auth(v2, sizeof v2, 2, &r, &keep), 0);
    ck_assert_int_eq(r.ErrorMessage.len, -1);
    ck_assert(kstr_eq(r.AuthBytes, "v=x"));
    ck_assert_int_eq(r.SessionLifetimeMs, 0);
    free(keep);
    for (size_t n = 0; n < sizeof v2; n++) {
        ck_assert_int_ne(decode_auth(v2, n, 2, &r, &keep), 0);
        free(keep);
    }
    /* null AuthBytes is refused (v0: length -1; v2: compact 0) */
    static const uint8_t null0[] = {0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    ck_assert_int_ne(decode_auth(null0, sizeof null0, 0, &r, &keep), 0);
    free(keep);
    static const uint8_t null2[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    ck_assert_int_ne(decode_auth(null2, sizeof null2, 2, &r, &keep), 0);
    free(keep);
}
END_TEST

START_TEST(versions_offered)
{
    /* The client picks SaslHandshake v1 and the broker's highest
     * SaslAuthenticate up to v2; a broker offering only SaslHandshake v0
     * (Kafka 0.10) has nothing in common with it. */
    ck_assert_int_eq(wire_pick_version(API_SASL_HANDSHAKE, 0, 1), 1);
    ck_assert_int_eq(wire_pick_version(API_SASL_HANDSHAKE, 0, 0), -1);
    ck_assert_int_eq(wire_pick_version(API_SASL_AUTHENTICATE, 0, 2), 2);
    ck_assert_int_eq(wire_pick_version(API_SASL_AUTHENTICATE, 0, 1), 1);
    ck_assert_int_eq(wire_pick_version(API_SASL_AUTHENTICATE, 0, 7), 2);
    ck_assert(kafka_is_flexible(API_SASL_AUTHENTICATE, 2));
    ck_assert(!kafka_is_flexible(API_SASL_AUTHENTICATE, 1));
    ck_assert(!kafka_is_flexible(API_SASL_HANDSHAKE, 1));
}
END_TEST

TCase *tcase_client_sasl(void)
{
    TCase *tc = tcase_create("client_sasl");
    tcase_add_test(tc, handshake_request);
    tcase_add_test(tc, handshake_response);
    tcase_add_test(tc, authenticate_request);
    tcase_add_test(tc, authenticate_response);
    tcase_add_test(tc, versions_offered);
    return tc;
}

/* The consumer-group codecs (wire/api_group.c) against bodies written field
 * by field in this file from the apache/kafka JSON specs
 * (clients/src/main/resources/common/message/<Name>Request.json and
 * Response.json, ConsumerProtocolAssignment.json) - never with the code
 * under test - for every version the broker advertises: decoded fields and
 * defaults, exact consumption, failure at every truncation point, nulls where
 * the spec allows none, hostile array counts refused before any allocation,
 * and response bytes for each version-dependent field. Where librdkafka 2.0.2
 * (src/rdkafka_request.c, src/rdkafka_assignor.c) writes a body in its own
 * way, that exact form is decoded too. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "wire/api.h"
#include "wire/api_group.h"
#include "wire/proto.h"

/* ---- helpers (as in test_api.c) ------------------------------------------ */

/* Writers for the expected bytes, independent of wire/proto.c. */
static void put_str(eddy_wr_t *w, const char *s)
{
    if (!s) {
        wr_i16(w, -1);
        return;
    }
    wr_i16(w, (int16_t)strlen(s));
    wr_bytes(w, s, strlen(s));
}
static void put_bytes(eddy_wr_t *w, const void *p, int32_t n)
{
    wr_i32(w, n);
    if (n > 0)
        wr_bytes(w, p, (size_t)n);
}

typedef int (*dec_fn)(eddy_rd_t *, int16_t, eddy_arena_t *, void *);
#define DEC_ADAPTER(name, T)                                                                       \
    static int dec_##name(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, void *out)                    \
    {                                                                                              \
        return wire_##name##_req_decode(rd, v, a, (T *)out);                                       \
    }
DEC_ADAPTER(find_coordinator, FindCoordinatorRequest)
DEC_ADAPTER(join_group, JoinGroupRequest)
DEC_ADAPTER(sync_group, SyncGroupRequest)
DEC_ADAPTER(heartbeat, HeartbeatRequest)
DEC_ADAPTER(leave_group, LeaveGroupRequest)
DEC_ADAPTER(offset_commit, OffsetCommitRequest)
DEC_ADAPTER(offset_fetch, OffsetFetchRequest)
DEC_ADAPTER(txn_offset_commit, TxnOffsetCommitRequest)
DEC_ADAPTER(describe_groups, DescribeGroupsRequest)
DEC_ADAPTER(delete_groups, DeleteGroupsRequest)
static int dec_list_groups(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, void *out)
{
    (void)out; /* the body is empty at v0-2: nothing to decode into */
    return wire_list_groups_req_decode(rd, v, a, (ListGroupsRequest *)out);
}
/* The assignment has no API version: its own Version field comes first. */
static int dec_assignment(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, void *out)
{
    (void)v;
    return wire_consumer_assignment_decode(rd, a, (ConsumerProtocolAssignment *)out);
}

typedef union any_req {
    FindCoordinatorRequest fc;
    JoinGroupRequest jg;
    SyncGroupRequest sg;
    HeartbeatRequest hb;
    LeaveGroupRequest lg;
    OffsetCommitRequest oc;
    OffsetFetchRequest of;
    TxnOffsetCommitRequest toc;
    DescribeGroupsRequest dg;
    DeleteGroupsRequest dl;
    ConsumerProtocolAssignment ca;
} any_req_t;

/* One decode of a body: the bytes live in an exact-size heap block (so ASan
 * catches a read past the end) that the decoded views borrow. */
typedef struct decoded {
    uint8_t *buf;
    eddy_arena_t arena;
    eddy_rd_t rd;
    int rc;
} decoded_t;

static void decode(decoded_t *d, dec_fn f, const eddy_wr_t *body, size_t len, int16_t v,
                   size_t arena_limit, void *out, size_t out_size)
{
    d->buf = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(d->buf);
    if (len)
        memcpy(d->buf, body->wr_buf, len);
    arena_init(&d->arena, arena_limit);
    rd_init(&d->rd, d->buf, len);
    memset(out, 0xa5, out_size); /* defaults must be set by the decoder */
    d->rc = f(&d->rd, v, &d->arena, out);
}

static void decoded_free(decoded_t *d)
{
    arena_free(&d->arena);
    free(d->buf);
}

/* Decodes body fully and expects success with every byte consumed. */
static void decode_ok(decoded_t *d, dec_fn f, const eddy_wr_t *body, int16_t v, void *out,
                      size_t out_size)
{
    ck_assert_int_eq(body->wr_err, 0);
    decode(d, f, body, body->wr_len, v, 1 << 20, out, out_size);
    ck_assert_msg(d->rc == 0, "v%d: %s", v, eddy_strerror(d->rc));
    ck_assert_msg(rd_remaining(&d->rd) == 0, "v%d: %zu bytes left", v, rd_remaining(&d->rd));
}

/* Every strict prefix of a valid body must fail, cleanly; except the one of
 * length `allowed` (SIZE_MAX: none), a shorter form the decoder accepts. */
static void check_truncations_but(dec_fn f, const eddy_wr_t *body, int16_t v, size_t allowed)
{
    any_req_t out;
    for (size_t n = 0; n < body->wr_len; n++) {
        decoded_t d;
        decode(&d, f, body, n, v, 1 << 20, &out, sizeof out);
        if (n == allowed)
            ck_assert_msg(d.rc == 0, "v%d: prefix of %zu/%zu bytes: %s", v, n, body->wr_len,
                          eddy_strerror(d.rc));
        else
            ck_assert_msg(d.rc != 0, "v%d: prefix of %zu/%zu bytes decoded", v, n, body->wr_len);
        decoded_free(&d);
    }
}
static void check_truncations(dec_fn f, const eddy_wr_t *body, int16_t v)
{
    check_truncations_but(f, body, v, SIZE_MAX);
}

/* A body whose decode must fail with want, using at most max_arena bytes of
 * arena (a count is refused before anything is allocated for it). */
static void expect_fail(dec_fn f, const eddy_wr_t *body, int16_t v, int want, size_t max_arena)
{
    any_req_t out;
    decoded_t d;
    ck_assert_int_eq(body->wr_err, 0);
    decode(&d, f, body, body->wr_len, v, 0, &out, sizeof out);
    ck_assert_msg(d.rc == want, "v%d: got %s, want %s", v, eddy_err_name(d.rc),
                  eddy_err_name(want));
    ck_assert_msg(d.arena.ar_used <= max_arena, "v%d: %zu arena bytes used", v, d.arena.ar_used);
    decoded_free(&d);
}

static void assert_wr_eq(const eddy_wr_t *got, const eddy_wr_t *want, const char *what)
{
    ck_assert_int_eq(got->wr_err, 0);
    ck_assert_int_eq(want->wr_err, 0);
    ck_assert_msg(got->wr_len == want->wr_len, "%s: %zu bytes, want %zu", what, got->wr_len,
                  want->wr_len);
    for (size_t i = 0; i < got->wr_len; i++)
        ck_assert_msg(got->wr_buf[i] == want->wr_buf[i], "%s: byte %zu is 0x%02x, want 0x%02x",
                      what, i, got->wr_buf[i], want->wr_buf[i]);
}

static void assert_bytes(const eddy_wr_t *got, const uint8_t *want, size_t n, const char *what)
{
    ck_assert_int_eq(got->wr_err, 0);
    ck_assert_msg(got->wr_len == n, "%s: %zu bytes, want %zu", what, got->wr_len, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(got->wr_buf[i] == want[i], "%s: byte %zu is 0x%02x, want 0x%02x", what, i,
                      got->wr_buf[i], want[i]);
}

/* kstr equal to n raw bytes (bytes fields may hold anything). */
static int kbytes_eq(kstr_t k, const void *p, int32_t n)
{
    return k.len == n && (n == 0 || (k.ptr && memcmp(k.ptr, p, (size_t)n) == 0));
}

/* A decoded string or bytes view lies inside the decoded buffer. */
static void assert_borrowed(const decoded_t *d, kstr_t k, size_t len)
{
    if (k.len <= 0)
        return;
    ck_assert((const uint8_t *)k.ptr >= d->buf && (const uint8_t *)k.ptr + k.len <= d->buf + len);
}

/* ---- FindCoordinator (10) v0-2 ------------------------------------------- */

START_TEST(find_coordinator_request)
{
    eddy_wr_t w;
    wr_init(&w);
    FindCoordinatorRequest r;
    decoded_t d;
    for (int16_t v = 0; v <= 2; v++) {
        wr_reset(&w);
        put_str(&w, "my-group"); /* Key */
        if (v >= 1)
            wr_i8(&w, 1); /* KeyType (v1+): transaction */
        decode_ok(&d, dec_find_coordinator, &w, v, &r, sizeof r);
        ck_assert(kstr_eq(r.Key, "my-group"));
        ck_assert_int_eq(r.KeyType, v >= 1 ? 1 : 0); /* v0: groups only */
        decoded_free(&d);
        check_truncations(dec_find_coordinator, &w, v);

        /* An empty key is a valid string (the broker judges it). */
        wr_reset(&w);
        put_str(&w, "");
        if (v >= 1)
            wr_i8(&w, 0);
        decode_ok(&d, dec_find_coordinator, &w, v, &r, sizeof r);
        ck_assert(kstr_eq(r.Key, ""));
        ck_assert_int_eq(r.KeyType, 0);
        decoded_free(&d);

        /* The key is not nullable; nor may a length be below -1. */
        wr_reset(&w);
        put_str(&w, NULL);
        if (v >= 1)
            wr_i8(&w, 0);
        expect_fail(dec_find_coordinator, &w, v, EDDY_ERR_INVALID_ARG, 0);
        wr_reset(&w);
        wr_i16(&w, -2);
        if (v >= 1)
            wr_i8(&w, 0);
        expect_fail(dec_find_coordinator, &w, v, EDDY_ERR_INVALID_ARG, 0);
        /* A length past the end. */
        wr_reset(&w);
        wr_i16(&w, 0x7fff);
        wr_bytes(&w, "abc", 3);
        expect_fail(dec_find_coordinator, &w, v, EDDY_ERR_TRUNCATED, 0);
    }
    /* v3 is flexible, v4 batched: not spoken. */
    expect_fail(dec_find_coordinator, &w, 3, EDDY_ERR_INVALID_ARG, 0);
    expect_fail(dec_find_coordinator, &w, -1, EDDY_ERR_INVALID_ARG, 0);
    wr_free(&w);
}
END_TEST

START_TEST(find_coordinator_response)
{
    FindCoordinatorResponse r = {.ThrottleTimeMs = 0x01020304,
                                 .ErrorCode = 0,
                                 .ErrorMessage = KSTR_NULL,
                                 .NodeId = 1,
                                 .Host = kstr_c("localhost"),
                                 .Port = 9092};
    eddy_wr_t got;
    wr_init(&got);
    /* v0: ErrorCode, NodeId, Host, Port. */
    wire_find_coordinator_resp_encode(&got, 0, &r);
    /* clang-format off */
    static const uint8_t v0[] = {0, 0, 0, 0, 0, 1, 0, 9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's',
                                 't', 0, 0, 0x23, 0x84};
    /* clang-format on */
    assert_bytes(&got, v0, sizeof v0, "find_coordinator v0");
    /* v1-2: ThrottleTimeMs first, ErrorMessage (nullable) after ErrorCode. */
    for (int16_t v = 1; v <= 2; v++) {
        wr_reset(&got);
        wire_find_coordinator_resp_encode(&got, v, &r);
        /* clang-format off */
        static const uint8_t v1[] = {1, 2,   3,   4,   0,   0,   0xff, 0xff, 0,   0,   0,
                                     1, 0,   9,   'l', 'o', 'c', 'a',  'l',  'h', 'o', 's',
                                     't', 0, 0, 0x23, 0x84};
        /* clang-format on */
        assert_bytes(&got, v1, sizeof v1, "find_coordinator v1");
    }
    /* An error with a message, no coordinator. */
    FindCoordinatorResponse e = {.ThrottleTimeMs = 0,
                                 .ErrorCode = KERR_COORDINATOR_NOT_AVAILABLE,
                                 .ErrorMessage = kstr_c("no"),
                                 .NodeId = -1,
                                 .Host = kstr_c(""),
                                 .Port = -1};
    wr_reset(&got);
    wire_find_coordinator_resp_encode(&got, 0, &e);
    static const uint8_t e0[] = {0, 15, 0xff, 0xff, 0xff, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff};
    assert_bytes(&got, e0, sizeof e0, "find_coordinator v0 error");
    wr_reset(&got);
    wire_find_coordinator_resp_encode(&got, 2, &e);
    /* clang-format off */
    static const uint8_t e2[] = {0,    0,    0,    0, 0, 15, 0, 2,    'n',  'o', 0xff,
                                 0xff, 0xff, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff};
    /* clang-format on */
    assert_bytes(&got, e2, sizeof e2, "find_coordinator v2 error");
    wr_free(&got);
}
END_TEST

/* ---- JoinGroup (11) v0-5 ------------------------------------------------- */

/* A ConsumerProtocolSubscription v1 as librdkafka 2.0.2 writes it
 * (rd_kafka_consumer_protocol_member_metadata_new): Version 1, Topics,
 * UserData empty (not null), OwnedPartitions empty. */
static const uint8_t sub_v1[] = {
    0, 1,                       /* Version */
    0, 0, 0, 1, 0, 6, 'o', 'r', 'd', 'e', 'r', 's', /* Topics ["orders"] */
    0, 0, 0, 0,                 /* UserData: empty */
    0, 0, 0, 0,                 /* OwnedPartitions: [] */
};

static void build_join(eddy_wr_t *w, int16_t v, const char *instance)
{
    put_str(w, "grp");      /* GroupId */
    wr_i32(w, 45000);       /* SessionTimeoutMs */
    if (v >= 1)
        wr_i32(w, 300000);  /* RebalanceTimeoutMs (v1+) */
    put_str(w, "member-1"); /* MemberId */
    if (v >= 5)
        put_str(w, instance); /* GroupInstanceId (v5+, nullable) */
    put_str(w, "consumer"); /* ProtocolType */
    wr_i32(w, 2);           /* Protocols */
    put_str(w, "range");
    put_bytes(w, sub_v1, (int32_t)sizeof sub_v1);
    put_str(w, "roundrobin");
    put_bytes(w, "", 0);
}

START_TEST(join_group_request)
{
    eddy_wr_t w;
    wr_init(&w);
    JoinGroupRequest r;
    decoded_t d;
    for (int16_t v = 0; v <= 5; v++) {
        for (int inst = 0; inst <= (v >= 5); inst++) {
            wr_reset(&w);
            build_join(&w, v, inst ? "instance-1" : NULL);
            decode_ok(&d, dec_join_group, &w, v, &r, sizeof r);
            ck_assert(kstr_eq(r.GroupId, "grp"));
            ck_assert_int_eq(r.SessionTimeoutMs, 45000);
            /* v0 has no RebalanceTimeoutMs: the session timeout stands in. */
            ck_assert_int_eq(r.RebalanceTimeoutMs, v >= 1 ? 300000 : 45000);
            ck_assert(kstr_eq(r.MemberId, "member-1"));
            if (inst)
                ck_assert(kstr_eq(r.GroupInstanceId, "instance-1"));
            else
                ck_assert_int_eq(r.GroupInstanceId.len, -1);
            ck_assert(kstr_eq(r.ProtocolType, "consumer"));
            ck_assert_int_eq(r.ProtocolsCount, 2);
            ck_assert(kstr_eq(r.Protocols[0].Name, "range"));
            ck_assert(kbytes_eq(r.Protocols[0].Metadata, sub_v1, (int32_t)sizeof sub_v1));
            assert_borrowed(&d, r.Protocols[0].Metadata, w.wr_len);
            ck_assert(kstr_eq(r.Protocols[1].Name, "roundrobin"));
            ck_assert_int_eq(r.Protocols[1].Metadata.len, 0);
            decoded_free(&d);
            check_truncations(dec_join_group, &w, v);
        }

        /* A first join: empty member id, no protocols at all. */
        wr_reset(&w);
        put_str(&w, "g");
        wr_i32(&w, 10000);
        if (v >= 1)
            wr_i32(&w, -1);
        put_str(&w, "");
        if (v >= 5)
            put_str(&w, NULL);
        put_str(&w, "");
        wr_i32(&w, 0);
        decode_ok(&d, dec_join_group, &w, v, &r, sizeof r);
        ck_assert(kstr_eq(r.MemberId, ""));
        ck_assert_int_eq(r.RebalanceTimeoutMs, v >= 1 ? -1 : 10000);
        ck_assert_int_eq(r.ProtocolsCount, 0);
        decoded_free(&d);

        /* Non-nullable strings: GroupId, MemberId, ProtocolType, Name. */
        for (int which = 0; which < 4; which++) {
            wr_reset(&w);
            put_str(&w, which == 0 ? NULL : "g");
            wr_i32(&w, 10000);
            if (v >= 1)
                wr_i32(&w, 10000);
            put_str(&w, which == 1 ? NULL : "m");
            if (v >= 5)
                put_str(&w, NULL);
            put_str(&w, which == 2 ? NULL : "consumer");
            wr_i32(&w, 1);
            put_str(&w, which == 3 ? NULL : "range");
            put_bytes(&w, "x", 1);
            expect_fail(dec_join_group, &w, v, EDDY_ERR_INVALID_ARG, 64);
        }
        /* Metadata is non-nullable bytes; a length below -1 is malformed. */
        for (int32_t len = -1; len >= -2; len--) {
            wr_reset(&w);
            put_str(&w, "g");
            wr_i32(&w, 10000);
            if (v >= 1)
                wr_i32(&w, 10000);
            put_str(&w, "m");
            if (v >= 5)
                put_str(&w, NULL);
            put_str(&w, "consumer");
            wr_i32(&w, 1);
            put_str(&w, "range");
            wr_i32(&w, len);
            expect_fail(dec_join_group, &w, v, EDDY_ERR_INVALID_ARG, 64);
        }
        /* Protocols: null, then more than the bytes could hold. */
        for (int hostile = 0; hostile <= 1; hostile++) {
            wr_reset(&w);
            put_str(&w, "g");
            wr_i32(&w, 10000);
            if (v >= 1)
                wr_i32(&w, 10000);
            put_str(&w, "m");
            if (v >= 5)
                put_str(&w, NULL);
            put_str(&w, "consumer");
            wr_i32(&w, hostile ? 0x7fffffff : -1);
            put_str(&w, "range");
            put_bytes(&w, "x", 1);
            expect_fail(dec_join_group, &w, v, hostile ? EDDY_ERR_TRUNCATED : EDDY_ERR_INVALID_ARG,
                        0);
        }
        /* Two protocols need at least 12 bytes: 11 are refused up front. */
        wr_reset(&w);
        put_str(&w, "g");
        wr_i32(&w, 10000);
        if (v >= 1)
            wr_i32(&w, 10000);
        put_str(&w, "m");
        if (v >= 5)
            put_str(&w, NULL);
        put_str(&w, "consumer");
        wr_i32(&w, 2);
        wr_bytes(&w, "\0\0\0\0\0\0\0\0\0\0\0", 11);
        expect_fail(dec_join_group, &w, v, EDDY_ERR_TRUNCATED, 0);
        /* A metadata length past the end. */
        wr_reset(&w);
        put_str(&w, "g");
        wr_i32(&w, 10000);
        if (v >= 1)
            wr_i32(&w, 10000);
        put_str(&w, "m");
        if (v >= 5)
            put_str(&w, NULL);
        put_str(&w, "consumer");
        wr_i32(&w, 1);
        put_str(&w, "range");
        wr_i32(&w, 0x7fffffff);
        wr_bytes(&w, "abc", 3);
        expect_fail(dec_join_group, &w, v, EDDY_ERR_TRUNCATED, 64);
    }
    /* v6 is flexible (and v8 adds Reason): not spoken. */
    wr_reset(&w);
    build_join(&w, 5, NULL);
    expect_fail(dec_join_group, &w, 6, EDDY_ERR_INVALID_ARG, 0);
    expect_fail(dec_join_group, &w, -1, EDDY_ERR_INVALID_ARG, 0);
    wr_free(&w);
}
END_TEST

/* The JoinGroup librdkafka 2.0.2 sends to a broker whose max is v5, byte for
 * byte (rd_kafka_JoinGroupRequest; defaults session.timeout.ms 45000,
 * max.poll.interval.ms 300000, partition.assignment.strategy
 * "range,roundrobin", no group.instance.id), header included. */
START_TEST(join_group_librdkafka)
{
    /* clang-format off */
    static const uint8_t frame[] = {
        0x00, 0x0b, 0x00, 0x05, 0x00, 0x00, 0x00, 0x04,          /* JoinGroup v5, corr 4 */
        0x00, 0x07, 'r', 'd', 'k', 'a', 'f', 'k', 'a',           /* client id */
        0x00, 0x03, 'g', 'r', 'p',                               /* GroupId */
        0x00, 0x00, 0xaf, 0xc8,                                  /* SessionTimeoutMs 45000 */
        0x00, 0x04, 0x93, 0xe0,                                  /* RebalanceTimeoutMs 300000 */
        0x00, 0x00,                                              /* MemberId "" */
        0xff, 0xff,                                              /* GroupInstanceId null */
        0x00, 0x08, 'c', 'o', 'n', 's', 'u', 'm', 'e', 'r',      /* ProtocolType */
        0x00, 0x00, 0x00, 0x02,                                  /* 2 protocols */
        0x00, 0x05, 'r', 'a', 'n', 'g', 'e',                     /* Name */
        0x00, 0x00, 0x00, 0x16,                                  /* Metadata: 22 bytes */
        0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 'o', 'r', 'd', 'e', 'r', 's',
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,          /* UserData "", Owned [] */
        0x00, 0x0a, 'r', 'o', 'u', 'n', 'd', 'r', 'o', 'b', 'i', 'n',
        0x00, 0x00, 0x00, 0x16,                                  /* Metadata: 22 bytes */
        0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 'o', 'r', 'd', 'e', 'r', 's',
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    };
    /* clang-format on */
    uint8_t *p = malloc(sizeof frame);
    ck_assert_ptr_nonnull(p);
    memcpy(p, frame, sizeof frame);
    eddy_rd_t rd;
    rd_init(&rd, p, sizeof frame);
    RequestHeader h;
    ck_assert_int_eq(wire_request_header_decode(&rd, &h), 0);
    ck_assert_int_eq(h.RequestApiKey, API_JOIN_GROUP);
    ck_assert_int_eq(h.RequestApiVersion, 5);
    ck_assert_int_eq(h.header_version, 1);
    ck_assert(broker_api_supported(h.RequestApiKey, h.RequestApiVersion));
    eddy_arena_t a;
    arena_init(&a, 1 << 20);
    JoinGroupRequest r;
    ck_assert_int_eq(wire_join_group_req_decode(&rd, h.RequestApiVersion, &a, &r), 0);
    ck_assert_uint_eq(rd_remaining(&rd), 0);
    ck_assert(kstr_eq(r.GroupId, "grp"));
    ck_assert_int_eq(r.SessionTimeoutMs, 45000);
    ck_assert_int_eq(r.RebalanceTimeoutMs, 300000);
    ck_assert(kstr_eq(r.MemberId, ""));
    ck_assert_int_eq(r.GroupInstanceId.len, -1);
    ck_assert(kstr_eq(r.ProtocolType, "consumer"));
    ck_assert_int_eq(r.ProtocolsCount, 2);
    ck_assert(kstr_eq(r.Protocols[0].Name, "range"));
    ck_assert(kbytes_eq(r.Protocols[0].Metadata, sub_v1, (int32_t)sizeof sub_v1));
    ck_assert(kstr_eq(r.Protocols[1].Name, "roundrobin"));
    ck_assert(kbytes_eq(r.Protocols[1].Metadata, sub_v1, (int32_t)sizeof sub_v1));
    arena_free(&a);
    free(p);
}
END_TEST

START_TEST(join_group_response)
{
    static const uint8_t meta[] = {0xde, 0xad};
    JoinGroupResponseMember members[] = {
        {.MemberId = kstr_c("m1"),
         .GroupInstanceId = kstr_c("i1"),
         .Metadata = {(const char *)meta, 2}},
        {.MemberId = kstr_c("m2"), .GroupInstanceId = KSTR_NULL, .Metadata = kstr_c("")},
    };
    JoinGroupResponse r = {.ThrottleTimeMs = 0x0a0b0c0d,
                           .ErrorCode = 0,
                           .GenerationId = 3,
                           .ProtocolName = kstr_c("range"),
                           .Leader = kstr_c("m1"),
                           .MemberId = kstr_c("m2"),
                           .Members = members,
                           .MembersCount = 2};
    eddy_wr_t got, want;
    wr_init(&got);
    wr_init(&want);
    for (int16_t v = 0; v <= 5; v++) {
        wr_reset(&got);
        wr_reset(&want);
        wire_join_group_resp_encode(&got, v, &r);
        if (v >= 2)
            wr_i32(&want, 0x0a0b0c0d); /* ThrottleTimeMs (v2+) */
        wr_i16(&want, 0);
        wr_i32(&want, 3);
        put_str(&want, "range");
        put_str(&want, "m1");
        put_str(&want, "m2");
        wr_i32(&want, 2);
        put_str(&want, "m1");
        if (v >= 5)
            put_str(&want, "i1"); /* GroupInstanceId per member (v5+) */
        put_bytes(&want, meta, 2);
        put_str(&want, "m2");
        if (v >= 5)
            put_str(&want, NULL);
        put_bytes(&want, "", 0);
        char what[32];
        snprintf(what, sizeof what, "join_group v%d", v);
        assert_wr_eq(&got, &want, what);
    }
    /* v0 and v5 by literal bytes: an error answer, no members. */
    JoinGroupResponse e = {.ThrottleTimeMs = 0,
                           .ErrorCode = KERR_MEMBER_ID_REQUIRED,
                           .GenerationId = -1,
                           .ProtocolName = kstr_c(""),
                           .Leader = kstr_c(""),
                           .MemberId = kstr_c("m"),
                           .Members = NULL,
                           .MembersCount = 0};
    wr_reset(&got);
    wire_join_group_resp_encode(&got, 0, &e);
    static const uint8_t e0[] = {0, 79, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 1, 'm', 0, 0, 0, 0};
    assert_bytes(&got, e0, sizeof e0, "join_group v0 error");
    wr_reset(&got);
    wire_join_group_resp_encode(&got, 1, &e);
    assert_bytes(&got, e0, sizeof e0, "join_group v1 error");
    wr_reset(&got);
    wire_join_group_resp_encode(&got, 5, &e);
    /* clang-format off */
    static const uint8_t e5[] = {0, 0, 0, 0, 0, 79, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
                                 0, 1, 'm', 0, 0, 0, 0};
    /* clang-format on */
    assert_bytes(&got, e5, sizeof e5, "join_group v5 error");
    wr_free(&got);
    wr_free(&want);
}
END_TEST

/* ---- SyncGroup (14) v0-3 ------------------------------------------------- */

/* A ConsumerProtocolAssignment as librdkafka 2.0.2 writes it
 * (rd_kafka_group_MemberState_consumer_write): Version 0, orders [0, 2],
 * UserData null. */
/* clang-format off */
static const uint8_t asg_rdk[] = {
    0, 0,                                           /* Version 0 */
    0, 0, 0, 1, 0, 6, 'o', 'r', 'd', 'e', 'r', 's', /* 1 topic */
    0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2,             /* [0, 2] */
    0xff, 0xff, 0xff, 0xff,                         /* UserData null */
};
/* clang-format on */

START_TEST(sync_group_request)
{
    eddy_wr_t w;
    wr_init(&w);
    SyncGroupRequest r;
    decoded_t d;
    for (int16_t v = 0; v <= 3; v++) {
        for (int inst = 0; inst <= (v >= 3); inst++) {
            wr_reset(&w);
            put_str(&w, "grp"); /* GroupId */
            wr_i32(&w, 7);      /* GenerationId */
            put_str(&w, "m1");  /* MemberId */
            if (v >= 3)
                put_str(&w, inst ? "i1" : NULL); /* GroupInstanceId (v3+) */
            wr_i32(&w, 2);                       /* Assignments (the leader's) */
            put_str(&w, "m1");
            put_bytes(&w, asg_rdk, (int32_t)sizeof asg_rdk);
            put_str(&w, "m2");
            put_bytes(&w, "", 0);
            decode_ok(&d, dec_sync_group, &w, v, &r, sizeof r);
            ck_assert(kstr_eq(r.GroupId, "grp"));
            ck_assert_int_eq(r.GenerationId, 7);
            ck_assert(kstr_eq(r.MemberId, "m1"));
            if (inst)
                ck_assert(kstr_eq(r.GroupInstanceId, "i1"));
            else
                ck_assert_int_eq(r.GroupInstanceId.len, -1);
            ck_assert_int_eq(r.AssignmentsCount, 2);
            ck_assert(kstr_eq(r.Assignments[0].MemberId, "m1"));
            ck_assert(kbytes_eq(r.Assignments[0].Assignment, asg_rdk, (int32_t)sizeof asg_rdk));
            assert_borrowed(&d, r.Assignments[0].Assignment, w.wr_len);
            ck_assert(kstr_eq(r.Assignments[1].MemberId, "m2"));
            ck_assert_int_eq(r.Assignments[1].Assignment.len, 0);
            decoded_free(&d);
            check_truncations(dec_sync_group, &w, v);
        }

        /* A follower: no assignments. */
        wr_reset(&w);
        put_str(&w, "grp");
        wr_i32(&w, -1);
        put_str(&w, "m2");
        if (v >= 3)
            put_str(&w, NULL);
        wr_i32(&w, 0);
        decode_ok(&d, dec_sync_group, &w, v, &r, sizeof r);
        ck_assert_int_eq(r.GenerationId, -1);
        ck_assert_int_eq(r.AssignmentsCount, 0);
        decoded_free(&d);

        /* Nulls: GroupId, MemberId, an assignment's MemberId, the
         * Assignment bytes, the Assignments array. */
        for (int which = 0; which < 5; which++) {
            wr_reset(&w);
            put_str(&w, which == 0 ? NULL : "grp");
            wr_i32(&w, 1);
            put_str(&w, which == 1 ? NULL : "m1");
            if (v >= 3)
                put_str(&w, NULL);
            wr_i32(&w, which == 4 ? -1 : 1);
            put_str(&w, which == 2 ? NULL : "m1");
            if (which == 3)
                wr_i32(&w, -1);
            else
                put_bytes(&w, "x", 1);
            expect_fail(dec_sync_group, &w, v, EDDY_ERR_INVALID_ARG, 64);
        }
        /* A hostile assignment count: no allocation. */
        wr_reset(&w);
        put_str(&w, "grp");
        wr_i32(&w, 1);
        put_str(&w, "m1");
        if (v >= 3)
            put_str(&w, NULL);
        wr_i32(&w, 0x10000000);
        put_str(&w, "m1");
        put_bytes(&w, "x", 1);
        expect_fail(dec_sync_group, &w, v, EDDY_ERR_TRUNCATED, 0);
        /* Assignment length past the end. */
        wr_reset(&w);
        put_str(&w, "grp");
        wr_i32(&w, 1);
        put_str(&w, "m1");
        if (v >= 3)
            put_str(&w, NULL);
        wr_i32(&w, 1);
        put_str(&w, "m1");
        wr_i32(&w, 5);
        wr_bytes(&w, "abcd", 4);
        expect_fail(dec_sync_group, &w, v, EDDY_ERR_TRUNCATED, 64);
    }
    expect_fail(dec_sync_group, &w, 4, EDDY_ERR_INVALID_ARG, 0);
    wr_free(&w);
}
END_TEST

START_TEST(sync_group_response)
{
    SyncGroupResponse r = {.ThrottleTimeMs = 0x11223344,
                           .ErrorCode = 0,
                           .Assignment = {(const char *)asg_rdk, (int32_t)sizeof asg_rdk}};
    eddy_wr_t got, want;
    wr_init(&got);
    wr_init(&want);
    for (int16_t v = 0; v <= 3; v++) {
        wr_reset(&got);
        wr_reset(&want);
        wire_sync_group_resp_encode(&got, v, &r);
        if (v >= 1)
            wr_i32(&want, 0x11223344);
        wr_i16(&want, 0);
        put_bytes(&want, asg_rdk, (int32_t)sizeof asg_rdk);
        char what[32];
        snprintf(what, sizeof what, "sync_group v%d", v);
        assert_wr_eq(&got, &want, what);
    }
    /* An error answer carries an empty (not null) assignment. */
    SyncGroupResponse e = {.ThrottleTimeMs = 0,
                           .ErrorCode = KERR_REBALANCE_IN_PROGRESS,
                           .Assignment = kstr_c("")};
    wr_reset(&got);
    wire_sync_group_resp_encode(&got, 0, &e);
    static const uint8_t e0[] = {0, 27, 0, 0, 0, 0};
    assert_bytes(&got, e0, sizeof e0, "sync_group v0 error");
    for (int16_t v = 1; v <= 3; v++) {
        wr_reset(&got);
        wire_sync_group_resp_encode(&got, v, &e);
        static const uint8_t e1[] = {0, 0, 0, 0, 0, 27, 0, 0, 0, 0};
        assert_bytes(&got, e1, sizeof e1, "sync_group v1+ error");
    }
    wr_free(&got);
    wr_free(&want);
}
END_TEST

/* ---- Heartbeat (12) v0-3, LeaveGroup (13) v0-1 --------------------------- */

START_TEST(heartbeat)
{
    eddy_wr_t w;
    wr_init(&w);
    HeartbeatRequest r;
    decoded_t d;
    for (int16_t v = 0; v <= 3; v++) {
        for (int inst = 0; inst <= (v >= 3); inst++) {
            wr_reset(&w);
            put_str(&w, "grp");
            wr_i32(&w, 12);
            put_str(&w, "m1");
            if (v >= 3)
                put_str(&w, inst ? "i1" : NULL);
            decode_ok(&d, dec_heartbeat, &w, v, &r, sizeof r);
            ck_assert(kstr_eq(r.GroupId, "grp"));
            ck_assert_int_eq(r.GenerationId, 12);
            ck_assert(kstr_eq(r.MemberId, "m1"));
            if (inst)
                ck_assert(kstr_eq(r.GroupInstanceId, "i1"));
            else
                ck_assert_int_eq(r.GroupInstanceId.len, -1);
            decoded_free(&d);
            check_truncations(dec_heartbeat, &w, v);
        }
        for (int which = 0; which < 2; which++) {
            wr_reset(&w);
            put_str(&w, which == 0 ? NULL : "grp");
            wr_i32(&w, 12);
            put_str(&w, which == 1 ? NULL : "m1");
            if (v >= 3)
                put_str(&w, NULL);
            expect_fail(dec_heartbeat, &w, v, EDDY_ERR_INVALID_ARG, 0);
        }
    }
    expect_fail(dec_heartbeat, &w, 4, EDDY_ERR_INVALID_ARG, 0);

    HeartbeatResponse resp = {.ThrottleTimeMs = 0x0102, .ErrorCode = KERR_REBALANCE_IN_PROGRESS};
    wr_reset(&w);
    wire_heartbeat_resp_encode(&w, 0, &resp);
    static const uint8_t v0[] = {0, 27};
    assert_bytes(&w, v0, sizeof v0, "heartbeat v0");
    for (int16_t v = 1; v <= 3; v++) {
        wr_reset(&w);
        wire_heartbeat_resp_encode(&w, v, &resp);
        static const uint8_t v1[] = {0, 0, 1, 2, 0, 27};
        assert_bytes(&w, v1, sizeof v1, "heartbeat v1+");
    }
    wr_free(&w);
}
END_TEST

START_TEST(leave_group)
{
    eddy_wr_t w;
    wr_init(&w);
    LeaveGroupRequest r;
    decoded_t d;
    for (int16_t v = 0; v <= 1; v++) {
        wr_reset(&w);
        put_str(&w, "grp");
        put_str(&w, "rdkafka-1b2c");
        decode_ok(&d, dec_leave_group, &w, v, &r, sizeof r);
        ck_assert(kstr_eq(r.GroupId, "grp"));
        ck_assert(kstr_eq(r.MemberId, "rdkafka-1b2c"));
        decoded_free(&d);
        check_truncations(dec_leave_group, &w, v);
        for (int which = 0; which < 2; which++) {
            wr_reset(&w);
            put_str(&w, which == 0 ? NULL : "grp");
            put_str(&w, which == 1 ? NULL : "m1");
            expect_fail(dec_leave_group, &w, v, EDDY_ERR_INVALID_ARG, 0);
        }
    }
    /* v3 turns MemberId into a Members array: not spoken (nor v2). */
    expect_fail(dec_leave_group, &w, 2, EDDY_ERR_INVALID_ARG, 0);

    LeaveGroupResponse resp = {.ThrottleTimeMs = 5, .ErrorCode = KERR_UNKNOWN_MEMBER_ID};
    wr_reset(&w);
    wire_leave_group_resp_encode(&w, 0, &resp);
    static const uint8_t v0[] = {0, 25};
    assert_bytes(&w, v0, sizeof v0, "leave_group v0");
    wr_reset(&w);
    wire_leave_group_resp_encode(&w, 1, &resp);
    static const uint8_t v1[] = {0, 0, 0, 5, 0, 25};
    assert_bytes(&w, v1, sizeof v1, "leave_group v1");
    wr_free(&w);
}
END_TEST

/* ---- OffsetCommit (8) v0-7 ----------------------------------------------- */

static void build_offset_commit(eddy_wr_t *w, int16_t v, const char *instance)
{
    put_str(w, "grp"); /* GroupId */
    if (v >= 1) {
        wr_i32(w, 4);     /* GenerationId (v1+) */
        put_str(w, "m1"); /* MemberId (v1+) */
    }
    if (v >= 7)
        put_str(w, instance); /* GroupInstanceId (v7+) */
    if (v >= 2 && v <= 4)
        wr_i64(w, 86400000); /* RetentionTimeMs (v2-4) */
    wr_i32(w, 2);            /* Topics */
    put_str(w, "orders");
    wr_i32(w, 2);
    for (int p = 0; p < 2; p++) {
        wr_i32(w, p * 3);          /* PartitionIndex */
        wr_i64(w, 1000 + p);       /* CommittedOffset */
        if (v >= 6)
            wr_i32(w, 5 + p);      /* CommittedLeaderEpoch (v6+) */
        if (v == 1)
            wr_i64(w, 1700000000000 + p); /* CommitTimestamp (v1 only) */
        put_str(w, p == 0 ? "meta" : NULL); /* CommittedMetadata (nullable) */
    }
    put_str(w, "empty");
    wr_i32(w, 0);
}

START_TEST(offset_commit_request)
{
    eddy_wr_t w;
    wr_init(&w);
    OffsetCommitRequest r;
    decoded_t d;
    for (int16_t v = 0; v <= 7; v++) {
        for (int inst = 0; inst <= (v >= 7); inst++) {
            wr_reset(&w);
            build_offset_commit(&w, v, inst ? "i1" : NULL);
            decode_ok(&d, dec_offset_commit, &w, v, &r, sizeof r);
            ck_assert(kstr_eq(r.GroupId, "grp"));
            /* v0 is a commit outside any generation: -1 and "". */
            ck_assert_int_eq(r.GenerationId, v >= 1 ? 4 : -1);
            ck_assert(kstr_eq(r.MemberId, v >= 1 ? "m1" : ""));
            if (inst)
                ck_assert(kstr_eq(r.GroupInstanceId, "i1"));
            else
                ck_assert_int_eq(r.GroupInstanceId.len, -1);
            ck_assert_int_eq(r.RetentionTimeMs, v >= 2 && v <= 4 ? 86400000 : -1);
            ck_assert_int_eq(r.TopicsCount, 2);
            const OffsetCommitRequestTopic *t = &r.Topics[0];
            ck_assert(kstr_eq(t->Name, "orders"));
            ck_assert_int_eq(t->PartitionsCount, 2);
            for (int p = 0; p < 2; p++) {
                const OffsetCommitRequestPartition *pp = &t->Partitions[p];
                ck_assert_int_eq(pp->PartitionIndex, p * 3);
                ck_assert_int_eq(pp->CommittedOffset, 1000 + p);
                ck_assert_int_eq(pp->CommittedLeaderEpoch, v >= 6 ? 5 + p : -1);
                ck_assert_int_eq(pp->CommitTimestamp, v == 1 ? 1700000000000 + p : -1);
            }
            ck_assert(kstr_eq(t->Partitions[0].CommittedMetadata, "meta"));
            ck_assert_int_eq(t->Partitions[1].CommittedMetadata.len, -1);
            ck_assert(kstr_eq(r.Topics[1].Name, "empty"));
            ck_assert_int_eq(r.Topics[1].PartitionsCount, 0);
            decoded_free(&d);
            check_truncations(dec_offset_commit, &w, v);
        }

        /* Nulls the spec does not allow: GroupId, MemberId (v1+), a topic
         * Name, the Topics array, a Partitions array. */
        for (int which = 0; which < 5; which++) {
            if (which == 1 && v == 0)
                continue;
            wr_reset(&w);
            put_str(&w, which == 0 ? NULL : "grp");
            if (v >= 1) {
                wr_i32(&w, 1);
                put_str(&w, which == 1 ? NULL : "m1");
            }
            if (v >= 7)
                put_str(&w, NULL);
            if (v >= 2 && v <= 4)
                wr_i64(&w, -1);
            wr_i32(&w, which == 3 ? -1 : 1);
            put_str(&w, which == 2 ? NULL : "t");
            wr_i32(&w, which == 4 ? -1 : 0);
            expect_fail(dec_offset_commit, &w, v, EDDY_ERR_INVALID_ARG, 64);
        }
        /* Hostile counts: topics, then partitions under a valid topic; the
         * smallest v0 partition (index, offset, empty metadata) is 14 bytes,
         * so 14 * n - 1 bytes must be refused up front. */
        wr_reset(&w);
        put_str(&w, "grp");
        if (v >= 1) {
            wr_i32(&w, 1);
            put_str(&w, "m1");
        }
        if (v >= 7)
            put_str(&w, NULL);
        if (v >= 2 && v <= 4)
            wr_i64(&w, -1);
        wr_i32(&w, 0x7fffffff);
        put_str(&w, "t");
        wr_i32(&w, 0);
        expect_fail(dec_offset_commit, &w, v, EDDY_ERR_TRUNCATED, 0);
        wr_reset(&w);
        put_str(&w, "grp");
        if (v >= 1) {
            wr_i32(&w, 1);
            put_str(&w, "m1");
        }
        if (v >= 7)
            put_str(&w, NULL);
        if (v >= 2 && v <= 4)
            wr_i64(&w, -1);
        wr_i32(&w, 1);
        put_str(&w, "t");
        wr_i32(&w, 2);
        for (int i = 0; i < 27; i++)
            wr_i8(&w, 0);
        expect_fail(dec_offset_commit, &w, v, EDDY_ERR_TRUNCATED, 64);
        /* A metadata length below -1. */
        wr_reset(&w);
        put_str(&w, "grp");
        if (v >= 1) {
            wr_i32(&w, 1);
            put_str(&w, "m1");
        }
        if (v >= 7)
            put_str(&w, NULL);
        if (v >= 2 && v <= 4)
            wr_i64(&w, -1);
        wr_i32(&w, 1);
        put_str(&w, "t");
        wr_i32(&w, 1);
        wr_i32(&w, 0);
        wr_i64(&w, 0);
        if (v >= 6)
            wr_i32(&w, -1);
        if (v == 1)
            wr_i64(&w, -1);
        wr_i16(&w, -2);
        expect_fail(dec_offset_commit, &w, v, EDDY_ERR_INVALID_ARG, 256);
    }
    /* v8 is flexible: not spoken. */
    expect_fail(dec_offset_commit, &w, 8, EDDY_ERR_INVALID_ARG, 0);
    expect_fail(dec_offset_commit, &w, -1, EDDY_ERR_INVALID_ARG, 0);
    wr_free(&w);
}
END_TEST

/* The OffsetCommit librdkafka 2.0.2 sends at v7 (rd_kafka_OffsetCommitRequest):
 * leader epoch -1 and an empty string, not null, for absent metadata. */
START_TEST(offset_commit_librdkafka)
{
    /* clang-format off */
    static const uint8_t body[] = {
        0, 3, 'g', 'r', 'p',                /* GroupId */
        0, 0, 0, 9,                         /* GenerationId 9 */
        0, 4, 'r', 'd', '-', '1',           /* MemberId */
        0xff, 0xff,                         /* GroupInstanceId null */
        0, 0, 0, 1,                         /* 1 topic */
        0, 6, 'o', 'r', 'd', 'e', 'r', 's', /* Name */
        0, 0, 0, 1,                         /* 1 partition */
        0, 0, 0, 2,                         /* PartitionIndex 2 */
        0, 0, 0, 0, 0, 0, 0x30, 0x39,       /* CommittedOffset 12345 */
        0xff, 0xff, 0xff, 0xff,             /* CommittedLeaderEpoch -1 */
        0, 0,                               /* CommittedMetadata "" */
    };
    /* clang-format on */
    eddy_wr_t w;
    wr_init(&w);
    wr_bytes(&w, body, sizeof body);
    OffsetCommitRequest r;
    decoded_t d;
    decode_ok(&d, dec_offset_commit, &w, 7, &r, sizeof r);
    ck_assert(kstr_eq(r.GroupId, "grp"));
    ck_assert_int_eq(r.GenerationId, 9);
    ck_assert(kstr_eq(r.MemberId, "rd-1"));
    ck_assert_int_eq(r.GroupInstanceId.len, -1);
    ck_assert_int_eq(r.RetentionTimeMs, -1);
    ck_assert_int_eq(r.TopicsCount, 1);
    ck_assert(kstr_eq(r.Topics[0].Name, "orders"));
    ck_assert_int_eq(r.Topics[0].PartitionsCount, 1);
    ck_assert_int_eq(r.Topics[0].Partitions[0].PartitionIndex, 2);
    ck_assert_int_eq(r.Topics[0].Partitions[0].CommittedOffset, 12345);
    ck_assert_int_eq(r.Topics[0].Partitions[0].CommittedLeaderEpoch, -1);
    ck_assert_int_eq(r.Topics[0].Partitions[0].CommitTimestamp, -1);
    ck_assert(kstr_eq(r.Topics[0].Partitions[0].CommittedMetadata, ""));
    decoded_free(&d);
    check_truncations(dec_offset_commit, &w, 7);
    /* The same bytes are not a v5 body: without GroupInstanceId there, the
     * null string and the topic count read as a count of 0xffff0000. */
    expect_fail(dec_offset_commit, &w, 5, EDDY_ERR_INVALID_ARG, 0);
    wr_free(&w);
}
END_TEST

START_TEST(offset_commit_response)
{
    OffsetCommitResponsePartition parts[] = {
        {.PartitionIndex = 0, .ErrorCode = 0},
        {.PartitionIndex = 3, .ErrorCode = KERR_OFFSET_METADATA_TOO_LARGE},
    };
    OffsetCommitResponseTopic topics[] = {
        {.Name = kstr_c("orders"), .Partitions = parts, .PartitionsCount = 2},
        {.Name = kstr_c("x"), .Partitions = NULL, .PartitionsCount = 0},
    };
    OffsetCommitResponse r = {.ThrottleTimeMs = 0x0a, .Topics = topics, .TopicsCount = 2};
    eddy_wr_t got;
    wr_init(&got);
    /* clang-format off */
    static const uint8_t v0[] = {
        0, 0, 0, 2,                                      /* 2 topics */
        0, 6, 'o', 'r', 'd', 'e', 'r', 's', 0, 0, 0, 2,  /* orders, 2 partitions */
        0, 0, 0, 0, 0, 0,                                /* p0, no error */
        0, 0, 0, 3, 0, 12,                               /* p3, error 12 */
        0, 1, 'x', 0, 0, 0, 0,                           /* x, none */
    };
    /* clang-format on */
    /* v0-2: no ThrottleTimeMs. */
    for (int16_t v = 0; v <= 2; v++) {
        wr_reset(&got);
        wire_offset_commit_resp_encode(&got, v, &r);
        assert_bytes(&got, v0, sizeof v0, "offset_commit v0-2");
    }
    /* v3-7: ThrottleTimeMs first. */
    for (int16_t v = 3; v <= 7; v++) {
        wr_reset(&got);
        wire_offset_commit_resp_encode(&got, v, &r);
        ck_assert_uint_eq(got.wr_len, 4 + sizeof v0);
        static const uint8_t thr[] = {0, 0, 0, 0x0a};
        ck_assert_mem_eq(got.wr_buf, thr, 4);
        ck_assert_mem_eq(got.wr_buf + 4, v0, sizeof v0);
    }
    wr_free(&got);
}
END_TEST

/* ---- OffsetFetch (9) v0-5 ------------------------------------------------ */

START_TEST(offset_fetch_request)
{
    eddy_wr_t w;
    wr_init(&w);
    OffsetFetchRequest r;
    decoded_t d;
    for (int16_t v = 0; v <= 5; v++) {
        wr_reset(&w);
        put_str(&w, "grp"); /* GroupId */
        wr_i32(&w, 2);      /* Topics */
        put_str(&w, "orders");
        wr_i32(&w, 3);
        wr_i32(&w, 0);
        wr_i32(&w, 1);
        wr_i32(&w, 7);
        put_str(&w, "none");
        wr_i32(&w, 0);
        decode_ok(&d, dec_offset_fetch, &w, v, &r, sizeof r);
        ck_assert(kstr_eq(r.GroupId, "grp"));
        ck_assert_int_eq(r.TopicsCount, 2);
        ck_assert(kstr_eq(r.Topics[0].Name, "orders"));
        ck_assert_int_eq(r.Topics[0].PartitionIndexesCount, 3);
        ck_assert_int_eq(r.Topics[0].PartitionIndexes[0], 0);
        ck_assert_int_eq(r.Topics[0].PartitionIndexes[1], 1);
        ck_assert_int_eq(r.Topics[0].PartitionIndexes[2], 7);
        ck_assert(kstr_eq(r.Topics[1].Name, "none"));
        ck_assert_int_eq(r.Topics[1].PartitionIndexesCount, 0);
        decoded_free(&d);
        check_truncations(dec_offset_fetch, &w, v);

        /* An empty array is no topics (librdkafka's "all" when it has no
         * list, answered with nothing) at every version. */
        wr_reset(&w);
        put_str(&w, "grp");
        wr_i32(&w, 0);
        decode_ok(&d, dec_offset_fetch, &w, v, &r, sizeof r);
        ck_assert_int_eq(r.TopicsCount, 0);
        decoded_free(&d);

        /* Null Topics: every committed partition from v2 on; malformed in
         * v0-1. */
        wr_reset(&w);
        put_str(&w, "grp");
        wr_i32(&w, -1);
        if (v >= 2) {
            decode_ok(&d, dec_offset_fetch, &w, v, &r, sizeof r);
            ck_assert_int_eq(r.TopicsCount, -1);
            decoded_free(&d);
        } else {
            expect_fail(dec_offset_fetch, &w, v, EDDY_ERR_INVALID_ARG, 0);
        }

        /* Nulls the spec does not allow: GroupId, a Name, PartitionIndexes. */
        for (int which = 0; which < 3; which++) {
            wr_reset(&w);
            put_str(&w, which == 0 ? NULL : "grp");
            wr_i32(&w, 1);
            put_str(&w, which == 1 ? NULL : "t");
            wr_i32(&w, which == 2 ? -1 : 0);
            expect_fail(dec_offset_fetch, &w, v, EDDY_ERR_INVALID_ARG, 64);
        }
        /* Hostile counts: topics, then partition indexes (4 bytes each). */
        wr_reset(&w);
        put_str(&w, "grp");
        wr_i32(&w, 0x7fffffff);
        put_str(&w, "t");
        wr_i32(&w, 0);
        expect_fail(dec_offset_fetch, &w, v, EDDY_ERR_TRUNCATED, 0);
        wr_reset(&w);
        put_str(&w, "grp");
        wr_i32(&w, 1);
        put_str(&w, "t");
        wr_i32(&w, 3);
        wr_i32(&w, 0);
        wr_i32(&w, 1);
        wr_i16(&w, 0);
        expect_fail(dec_offset_fetch, &w, v, EDDY_ERR_TRUNCATED, 64);
    }
    /* v6 is flexible (v7 adds RequireStable): not spoken. */
    expect_fail(dec_offset_fetch, &w, 6, EDDY_ERR_INVALID_ARG, 0);
    wr_free(&w);
}
END_TEST

START_TEST(offset_fetch_response)
{
    OffsetFetchResponsePartition parts[] = {
        {.PartitionIndex = 0,
         .CommittedOffset = 100,
         .CommittedLeaderEpoch = 5,
         .Metadata = kstr_c("m"),
         .ErrorCode = 0},
        {.PartitionIndex = 1,
         .CommittedOffset = -1,
         .CommittedLeaderEpoch = -1,
         .Metadata = KSTR_NULL,
         .ErrorCode = KERR_UNKNOWN_TOPIC_OR_PARTITION},
    };
    OffsetFetchResponseTopic topics[] = {
        {.Name = kstr_c("orders"), .Partitions = parts, .PartitionsCount = 2},
    };
    OffsetFetchResponse r = {
        .ThrottleTimeMs = 9, .Topics = topics, .TopicsCount = 1, .ErrorCode = KERR_NOT_COORDINATOR};
    eddy_wr_t got, want;
    wr_init(&got);
    wr_init(&want);
    for (int16_t v = 0; v <= 5; v++) {
        wr_reset(&got);
        wr_reset(&want);
        wire_offset_fetch_resp_encode(&got, v, &r);
        if (v >= 3)
            wr_i32(&want, 9); /* ThrottleTimeMs (v3+) */
        wr_i32(&want, 1);
        put_str(&want, "orders");
        wr_i32(&want, 2);
        wr_i32(&want, 0);
        wr_i64(&want, 100);
        if (v >= 5)
            wr_i32(&want, 5); /* CommittedLeaderEpoch (v5+) */
        put_str(&want, "m");
        wr_i16(&want, 0);
        wr_i32(&want, 1);
        wr_i64(&want, -1);
        if (v >= 5)
            wr_i32(&want, -1);
        put_str(&want, NULL);
        wr_i16(&want, 3);
        if (v >= 2)
            wr_i16(&want, 16); /* top-level ErrorCode (v2+), last */
        char what[32];
        snprintf(what, sizeof what, "offset_fetch v%d", v);
        assert_wr_eq(&got, &want, what);
    }
    /* By literal bytes, no topics: v1 is just the count; v2 adds the error
     * after it; v3 the throttle before it. */
    OffsetFetchResponse e = {.ThrottleTimeMs = 0x0102,
                             .Topics = NULL,
                             .TopicsCount = 0,
                             .ErrorCode = KERR_COORDINATOR_LOAD_IN_PROGRESS};
    wr_reset(&got);
    wire_offset_fetch_resp_encode(&got, 1, &e);
    static const uint8_t e1[] = {0, 0, 0, 0};
    assert_bytes(&got, e1, sizeof e1, "offset_fetch v1 empty");
    wr_reset(&got);
    wire_offset_fetch_resp_encode(&got, 2, &e);
    static const uint8_t e2[] = {0, 0, 0, 0, 0, 14};
    assert_bytes(&got, e2, sizeof e2, "offset_fetch v2 empty");
    wr_reset(&got);
    wire_offset_fetch_resp_encode(&got, 3, &e);
    static const uint8_t e3[] = {0, 0, 1, 2, 0, 0, 0, 0, 0, 14};
    assert_bytes(&got, e3, sizeof e3, "offset_fetch v3 empty");
    wr_free(&got);
    wr_free(&want);
}
END_TEST

/* ---- DescribeGroups (15) v0-2, ListGroups (16) v0-2, DeleteGroups (42) v0-1 */

START_TEST(describe_groups_request)
{
    eddy_wr_t w;
    wr_init(&w);
    DescribeGroupsRequest r;
    decoded_t d;
    for (int16_t v = 0; v <= 2; v++) {
        wr_reset(&w);
        wr_i32(&w, 3);
        put_str(&w, "g1");
        put_str(&w, "");
        put_str(&w, "group-three");
        decode_ok(&d, dec_describe_groups, &w, v, &r, sizeof r);
        ck_assert_int_eq(r.GroupsCount, 3);
        ck_assert(kstr_eq(r.Groups[0], "g1"));
        ck_assert(kstr_eq(r.Groups[1], ""));
        ck_assert(kstr_eq(r.Groups[2], "group-three"));
        decoded_free(&d);
        check_truncations(dec_describe_groups, &w, v);

        wr_reset(&w);
        wr_i32(&w, 0);
        decode_ok(&d, dec_describe_groups, &w, v, &r, sizeof r);
        ck_assert_int_eq(r.GroupsCount, 0);
        decoded_free(&d);

        wr_reset(&w);
        wr_i32(&w, -1);
        expect_fail(dec_describe_groups, &w, v, EDDY_ERR_INVALID_ARG, 0);
        wr_reset(&w);
        wr_i32(&w, 2);
        put_str(&w, "g");
        put_str(&w, NULL);
        expect_fail(dec_describe_groups, &w, v, EDDY_ERR_INVALID_ARG, 64);
        wr_reset(&w);
        wr_i32(&w, 3); /* 3 names need 6 bytes; 5 are left */
        put_str(&w, "abc");
        expect_fail(dec_describe_groups, &w, v, EDDY_ERR_TRUNCATED, 0);
    }
    /* v3-4 add IncludeAuthorizedOperations. */
    for (int16_t v = 3; v <= 4; v++) {
        wr_reset(&w);
        wr_i32(&w, 1);
        put_str(&w, "g1");
        wr_i8(&w, 1);
        decode_ok(&d, dec_describe_groups, &w, v, &r, sizeof r);
        ck_assert_int_eq(r.GroupsCount, 1);
        ck_assert(kstr_eq(r.Groups[0], "g1"));
        ck_assert_int_eq(r.IncludeAuthorizedOperations, 1);
        decoded_free(&d);
        check_truncations(dec_describe_groups, &w, v);
    }
    /* v5 is flexible: compact array and strings, then tags. */
    static const uint8_t v5[] = {3, 3, 'g', '1', 1, 0, 0};
    wr_reset(&w);
    wr_bytes(&w, v5, sizeof v5);
    decode_ok(&d, dec_describe_groups, &w, 5, &r, sizeof r);
    ck_assert_int_eq(r.GroupsCount, 2);
    ck_assert(kstr_eq(r.Groups[0], "g1"));
    ck_assert(kstr_eq(r.Groups[1], ""));
    ck_assert_int_eq(r.IncludeAuthorizedOperations, 0);
    decoded_free(&d);
    check_truncations(dec_describe_groups, &w, 5);
    expect_fail(dec_describe_groups, &w, 6, EDDY_ERR_INVALID_ARG, 0);
    wr_free(&w);
}
END_TEST

START_TEST(describe_groups_response)
{
    static const uint8_t meta[] = {0, 1, 0, 0, 0, 0};
    static const uint8_t asg[] = {0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
    DescribedGroupMember members[] = {
        {.MemberId = kstr_c("m1"),
         .ClientId = kstr_c("rdkafka"),
         .ClientHost = kstr_c("/127.0.0.1"),
         .MemberMetadata = {(const char *)meta, 6},
         .MemberAssignment = {(const char *)asg, 10}},
    };
    DescribedGroup groups[] = {
        {.ErrorCode = 0,
         .GroupId = kstr_c("g1"),
         .GroupState = kstr_c("Stable"),
         .ProtocolType = kstr_c("consumer"),
         .ProtocolData = kstr_c("range"),
         .Members = members,
         .MembersCount = 1},
        {.ErrorCode = 0,
         .GroupId = kstr_c("gone"),
         .GroupState = kstr_c("Dead"),
         .ProtocolType = kstr_c(""),
         .ProtocolData = kstr_c(""),
         .Members = NULL,
         .MembersCount = 0},
    };
    DescribeGroupsResponse r = {.ThrottleTimeMs = 0x33, .Groups = groups, .GroupsCount = 2};
    eddy_wr_t got, want;
    wr_init(&got);
    wr_init(&want);
    for (int16_t v = 0; v <= 2; v++) {
        wr_reset(&got);
        wr_reset(&want);
        wire_describe_groups_resp_encode(&got, v, &r);
        if (v >= 1)
            wr_i32(&want, 0x33);
        wr_i32(&want, 2);
        wr_i16(&want, 0);
        put_str(&want, "g1");
        put_str(&want, "Stable");
        put_str(&want, "consumer");
        put_str(&want, "range");
        wr_i32(&want, 1);
        put_str(&want, "m1"); /* (GroupInstanceId only from v4) */
        put_str(&want, "rdkafka");
        put_str(&want, "/127.0.0.1");
        put_bytes(&want, meta, 6);
        put_bytes(&want, asg, 10);
        wr_i16(&want, 0);
        put_str(&want, "gone");
        put_str(&want, "Dead");
        put_str(&want, "");
        put_str(&want, "");
        wr_i32(&want, 0);
        char what[32];
        snprintf(what, sizeof what, "describe_groups v%d", v);
        assert_wr_eq(&got, &want, what);
    }
    /* v0 and v1 by literal bytes: one unknown group. */
    DescribedGroup dead = {.ErrorCode = KERR_GROUP_ID_NOT_FOUND,
                           .GroupId = kstr_c("x"),
                           .GroupState = kstr_c("Dead"),
                           .ProtocolType = kstr_c(""),
                           .ProtocolData = kstr_c(""),
                           .Members = NULL,
                           .MembersCount = 0};
    DescribeGroupsResponse e = {.ThrottleTimeMs = 1, .Groups = &dead, .GroupsCount = 1};
    /* clang-format off */
    static const uint8_t e0[] = {0, 0, 0, 1, 0, 69, 0, 1, 'x', 0, 4, 'D', 'e', 'a', 'd',
                                 0, 0, 0, 0, 0, 0, 0, 0};
    /* clang-format on */
    wr_reset(&got);
    wire_describe_groups_resp_encode(&got, 0, &e);
    assert_bytes(&got, e0, sizeof e0, "describe_groups v0");
    wr_reset(&got);
    wire_describe_groups_resp_encode(&got, 1, &e);
    ck_assert_uint_eq(got.wr_len, 4 + sizeof e0);
    static const uint8_t thr[] = {0, 0, 0, 1};
    ck_assert_mem_eq(got.wr_buf, thr, 4);
    ck_assert_mem_eq(got.wr_buf + 4, e0, sizeof e0);
    wr_free(&got);
    wr_free(&want);
}
END_TEST

START_TEST(list_groups)
{
    eddy_wr_t w;
    wr_init(&w);
    decoded_t d;
    any_req_t out;
    /* v0-2 bodies are empty. */
    for (int16_t v = 0; v <= 2; v++) {
        decode_ok(&d, dec_list_groups, &w, v, &out, sizeof out);
        decoded_free(&d);
    }
    /* v3 is flexible (tags only), v4 adds StatesFilter, v5 TypesFilter. */
    ListGroupsRequest lr;
    static const uint8_t l3[] = {0};
    wr_reset(&w);
    wr_bytes(&w, l3, sizeof l3);
    decode_ok(&d, dec_list_groups, &w, 3, &lr, sizeof lr);
    ck_assert_int_eq(lr.StatesFilterCount, 0);
    decoded_free(&d);
    check_truncations(dec_list_groups, &w, 3);
    static const uint8_t l4[] = {3, 7, 'S', 't', 'a', 'b', 'l', 'e', 6, 'E', 'm', 'p', 't', 'y', 0};
    wr_reset(&w);
    wr_bytes(&w, l4, sizeof l4);
    decode_ok(&d, dec_list_groups, &w, 4, &lr, sizeof lr);
    ck_assert_int_eq(lr.StatesFilterCount, 2);
    ck_assert(kstr_eq(lr.StatesFilter[0], "Stable"));
    ck_assert(kstr_eq(lr.StatesFilter[1], "Empty"));
    ck_assert_int_eq(lr.TypesFilterCount, 0);
    decoded_free(&d);
    check_truncations(dec_list_groups, &w, 4);
    static const uint8_t l5[] = {1, 2, 8, 'c', 'l', 'a', 's', 's', 'i', 'c', 0};
    wr_reset(&w);
    wr_bytes(&w, l5, sizeof l5);
    decode_ok(&d, dec_list_groups, &w, 5, &lr, sizeof lr);
    ck_assert_int_eq(lr.StatesFilterCount, 0);
    ck_assert_int_eq(lr.TypesFilterCount, 1);
    ck_assert(kstr_eq(lr.TypesFilter[0], "classic"));
    decoded_free(&d);
    check_truncations(dec_list_groups, &w, 5);
    /* A null filter is not allowed. */
    static const uint8_t lnull[] = {0, 0};
    wr_reset(&w);
    wr_bytes(&w, lnull, sizeof lnull);
    expect_fail(dec_list_groups, &w, 4, EDDY_ERR_INVALID_ARG, 0);
    wr_reset(&w);
    expect_fail(dec_list_groups, &w, 6, EDDY_ERR_INVALID_ARG, 0);
    expect_fail(dec_list_groups, &w, -1, EDDY_ERR_INVALID_ARG, 0);

    ListedGroup groups[] = {
        {.GroupId = kstr_c("g1"), .ProtocolType = kstr_c("consumer")},
        {.GroupId = kstr_c("g2"), .ProtocolType = kstr_c("")},
    };
    ListGroupsResponse r = {
        .ThrottleTimeMs = 0x0100, .ErrorCode = 0, .Groups = groups, .GroupsCount = 2};
    /* clang-format off */
    static const uint8_t v0[] = {0, 0, 0, 0, 0, 2, 0, 2, 'g', '1', 0, 8, 'c', 'o', 'n', 's',
                                 'u', 'm', 'e', 'r', 0, 2, 'g', '2', 0, 0};
    /* clang-format on */
    wr_reset(&w);
    wire_list_groups_resp_encode(&w, 0, &r);
    assert_bytes(&w, v0, sizeof v0, "list_groups v0");
    for (int16_t v = 1; v <= 2; v++) {
        wr_reset(&w);
        wire_list_groups_resp_encode(&w, v, &r);
        ck_assert_uint_eq(w.wr_len, 4 + sizeof v0);
        static const uint8_t thr[] = {0, 0, 1, 0};
        ck_assert_mem_eq(w.wr_buf, thr, 4);
        ck_assert_mem_eq(w.wr_buf + 4, v0, sizeof v0);
    }
    ListGroupsResponse e = {.ThrottleTimeMs = 0,
                            .ErrorCode = KERR_COORDINATOR_NOT_AVAILABLE,
                            .Groups = NULL,
                            .GroupsCount = 0};
    wr_reset(&w);
    wire_list_groups_resp_encode(&w, 1, &e);
    static const uint8_t e1[] = {0, 0, 0, 0, 0, 15, 0, 0, 0, 0};
    assert_bytes(&w, e1, sizeof e1, "list_groups v1 error");
    /* v4 adds each group's state, v5 its type; both flexible. */
    ListedGroup g5[] = {{kstr_c("g1"), kstr_c("consumer"), kstr_c("Stable"), kstr_c("classic")}};
    ListGroupsResponse r5 = {0, 0, g5, 1};
    /* clang-format off */
    static const uint8_t want4[] = {0, 0, 0, 0, 0, 0, 2, 3, 'g', '1', 9, 'c', 'o', 'n', 's', 'u',
                                    'm', 'e', 'r', 7, 'S', 't', 'a', 'b', 'l', 'e', 0, 0};
    /* clang-format on */
    wr_reset(&w);
    wire_list_groups_resp_encode(&w, 4, &r5);
    assert_bytes(&w, want4, sizeof want4, "list_groups v4");
    /* clang-format off */
    static const uint8_t want5[] = {0, 0, 0, 0, 0, 0, 2, 3, 'g', '1', 9, 'c', 'o', 'n', 's',
                                    'u', 'm', 'e', 'r', 7, 'S', 't', 'a', 'b', 'l', 'e', 8,
                                    'c', 'l', 'a', 's', 's', 'i', 'c', 0, 0};
    /* clang-format on */
    wr_reset(&w);
    wire_list_groups_resp_encode(&w, 5, &r5);
    assert_bytes(&w, want5, sizeof want5, "list_groups v5");
    wr_free(&w);
}
END_TEST

START_TEST(delete_groups)
{
    eddy_wr_t w;
    wr_init(&w);
    DeleteGroupsRequest r;
    decoded_t d;
    for (int16_t v = 0; v <= 1; v++) {
        wr_reset(&w);
        wr_i32(&w, 2);
        put_str(&w, "g1");
        put_str(&w, "old-group");
        decode_ok(&d, dec_delete_groups, &w, v, &r, sizeof r);
        ck_assert_int_eq(r.GroupsNamesCount, 2);
        ck_assert(kstr_eq(r.GroupsNames[0], "g1"));
        ck_assert(kstr_eq(r.GroupsNames[1], "old-group"));
        decoded_free(&d);
        check_truncations(dec_delete_groups, &w, v);

        wr_reset(&w);
        wr_i32(&w, -1);
        expect_fail(dec_delete_groups, &w, v, EDDY_ERR_INVALID_ARG, 0);
        wr_reset(&w);
        wr_i32(&w, 1);
        put_str(&w, NULL);
        expect_fail(dec_delete_groups, &w, v, EDDY_ERR_INVALID_ARG, 64);
        wr_reset(&w);
        wr_i32(&w, 0x7fffffff);
        put_str(&w, "g");
        expect_fail(dec_delete_groups, &w, v, EDDY_ERR_TRUNCATED, 0);
    }
    expect_fail(dec_delete_groups, &w, 2, EDDY_ERR_INVALID_ARG, 0);

    DeletableGroupResult res[] = {
        {.GroupId = kstr_c("g1"), .ErrorCode = 0},
        {.GroupId = kstr_c("busy"), .ErrorCode = KERR_NON_EMPTY_GROUP},
    };
    DeleteGroupsResponse resp = {.ThrottleTimeMs = 0x0a, .Results = res, .ResultsCount = 2};
    /* ThrottleTimeMs at every version, first. */
    /* clang-format off */
    static const uint8_t want[] = {0, 0, 0, 0x0a, 0,   0,   0,   2,   0, 2,  'g', '1', 0,
                                   0, 0, 4, 'b',  'u', 's', 'y', 0, 68};
    /* clang-format on */
    for (int16_t v = 0; v <= 1; v++) {
        wr_reset(&w);
        wire_delete_groups_resp_encode(&w, v, &resp);
        assert_bytes(&w, want, sizeof want, "delete_groups");
    }
    wr_free(&w);
}
END_TEST

/* ---- ConsumerProtocol assignment --------------------------------------- */

/* Decodes bytes as an assignment, expects every byte consumed, and encodes it
 * back: the same bytes must come out. */
static void assignment_round_trip(const eddy_wr_t *w, decoded_t *d, ConsumerProtocolAssignment *r)
{
    decode_ok(d, dec_assignment, w, 0, r, sizeof *r);
    eddy_wr_t again;
    wr_init(&again);
    wire_consumer_assignment_encode(&again, r);
    assert_wr_eq(&again, w, "assignment round trip");
    wr_free(&again);
}

START_TEST(consumer_assignment)
{
    eddy_wr_t w;
    wr_init(&w);
    ConsumerProtocolAssignment r;
    decoded_t d;

    /* librdkafka 2.0.2: Version 0, UserData null. */
    wr_bytes(&w, asg_rdk, sizeof asg_rdk);
    assignment_round_trip(&w, &d, &r);
    ck_assert_int_eq(r.Version, 0);
    ck_assert_int_eq(r.AssignedPartitionsCount, 1);
    ck_assert(kstr_eq(r.AssignedPartitions[0].Topic, "orders"));
    ck_assert_int_eq(r.AssignedPartitions[0].PartitionsCount, 2);
    ck_assert_int_eq(r.AssignedPartitions[0].Partitions[0], 0);
    ck_assert_int_eq(r.AssignedPartitions[0].Partitions[1], 2);
    ck_assert_int_eq(r.UserData.len, -1);
    decoded_free(&d);
    /* Every prefix fails, except the one that stops right before UserData:
     * that is a writer that leaves the optional tail out, read as null. */
    check_truncations_but(dec_assignment, &w, 0, sizeof asg_rdk - 4);

    /* The Java client (Versions 1-3 add nothing to the assignment itself),
     * two topics and UserData bytes that are not a string. */
    static const uint8_t ud[] = {0x00, 0xff, 0x10};
    for (int16_t ver = 1; ver <= 3; ver++) {
        wr_reset(&w);
        wr_i16(&w, ver);
        wr_i32(&w, 2);
        put_str(&w, "a");
        wr_i32(&w, 1);
        wr_i32(&w, 4);
        put_str(&w, "b");
        wr_i32(&w, 0);
        put_bytes(&w, ud, 3);
        assignment_round_trip(&w, &d, &r);
        ck_assert_int_eq(r.Version, ver);
        ck_assert_int_eq(r.AssignedPartitionsCount, 2);
        ck_assert(kstr_eq(r.AssignedPartitions[0].Topic, "a"));
        ck_assert_int_eq(r.AssignedPartitions[0].PartitionsCount, 1);
        ck_assert_int_eq(r.AssignedPartitions[0].Partitions[0], 4);
        ck_assert(kstr_eq(r.AssignedPartitions[1].Topic, "b"));
        ck_assert_int_eq(r.AssignedPartitions[1].PartitionsCount, 0);
        ck_assert(kbytes_eq(r.UserData, ud, 3));
        assert_borrowed(&d, r.UserData, w.wr_len);
        decoded_free(&d);
        check_truncations_but(dec_assignment, &w, 0, w.wr_len - 7);
    }

    /* Nothing assigned, UserData empty (not null): both kept apart. */
    wr_reset(&w);
    wr_i16(&w, 0);
    wr_i32(&w, 0);
    put_bytes(&w, "", 0);
    assignment_round_trip(&w, &d, &r);
    ck_assert_int_eq(r.AssignedPartitionsCount, 0);
    ck_assert_int_eq(r.UserData.len, 0);
    decoded_free(&d);

    /* Without the UserData field: decodes (null), re-encodes with it. */
    wr_reset(&w);
    wr_i16(&w, 0);
    wr_i32(&w, 1);
    put_str(&w, "t");
    wr_i32(&w, 1);
    wr_i32(&w, 9);
    decode_ok(&d, dec_assignment, &w, 0, &r, sizeof r);
    ck_assert_int_eq(r.AssignedPartitions[0].Partitions[0], 9);
    ck_assert_int_eq(r.UserData.len, -1);
    eddy_wr_t again, want;
    wr_init(&again);
    wr_init(&want);
    wire_consumer_assignment_encode(&again, &r);
    wr_bytes(&want, w.wr_buf, w.wr_len);
    wr_i32(&want, -1);
    assert_wr_eq(&again, &want, "assignment without UserData");
    decoded_free(&d);
    /* 1-3 bytes where UserData would be are a truncated field, not an
     * absent one. */
    for (int extra = 1; extra <= 3; extra++) {
        wr_reset(&want);
        wr_bytes(&want, w.wr_buf, w.wr_len);
        for (int i = 0; i < extra; i++)
            wr_i8(&want, 0);
        expect_fail(dec_assignment, &want, 0, EDDY_ERR_TRUNCATED, 64);
    }
    /* A later version may append fields (the spec's promise): they are
     * left unread, the known ones still decode. */
    wr_reset(&want);
    wr_bytes(&want, asg_rdk, sizeof asg_rdk);
    want.wr_buf[1] = 9; /* Version 9 */
    wr_i16(&want, 0x7777);
    decode(&d, dec_assignment, &want, want.wr_len, 0, 1 << 20, &r, sizeof r);
    ck_assert_int_eq(d.rc, 0);
    ck_assert_int_eq(r.Version, 9);
    ck_assert_int_eq(r.AssignedPartitionsCount, 1);
    ck_assert_uint_eq(rd_remaining(&d.rd), 2);
    decoded_free(&d);
    wr_free(&again);
    wr_free(&want);

    /* Malformed: a negative Version (Kafka: "Unsupported assignment
     * version"), a null topic, a null partition array, UserData length
     * below -1, hostile counts. */
    wr_reset(&w);
    wr_i16(&w, -1);
    wr_i32(&w, 0);
    put_bytes(&w, "", 0);
    expect_fail(dec_assignment, &w, 0, EDDY_ERR_INVALID_ARG, 0);
    wr_reset(&w);
    wr_i16(&w, 0);
    wr_i32(&w, 1);
    put_str(&w, NULL);
    wr_i32(&w, 0);
    wr_i32(&w, -1);
    expect_fail(dec_assignment, &w, 0, EDDY_ERR_INVALID_ARG, 64);
    wr_reset(&w);
    wr_i16(&w, 0);
    wr_i32(&w, 1);
    put_str(&w, "t");
    wr_i32(&w, -1);
    wr_i32(&w, -1);
    expect_fail(dec_assignment, &w, 0, EDDY_ERR_INVALID_ARG, 64);
    wr_reset(&w);
    wr_i16(&w, 0);
    wr_i32(&w, 0);
    wr_i32(&w, -2);
    expect_fail(dec_assignment, &w, 0, EDDY_ERR_INVALID_ARG, 0);
    wr_reset(&w);
    wr_i16(&w, 0);
    wr_i32(&w, 0x7fffffff);
    put_str(&w, "t");
    wr_i32(&w, 0);
    expect_fail(dec_assignment, &w, 0, EDDY_ERR_TRUNCATED, 0);
    wr_reset(&w);
    wr_i16(&w, 0);
    wr_i32(&w, 1);
    put_str(&w, "t");
    wr_i32(&w, 0x40000000);
    wr_i32(&w, 1);
    wr_i32(&w, -1);
    expect_fail(dec_assignment, &w, 0, EDDY_ERR_TRUNCATED, 64);
    /* Empty bytes (what a member with nothing assigned may get) are not an
     * assignment: the caller treats length 0 itself. */
    wr_reset(&w);
    expect_fail(dec_assignment, &w, 0, EDDY_ERR_TRUNCATED, 0);
    wr_free(&w);
}
END_TEST

/* ---- the arena limit ---------------------------------------------------- */

START_TEST(group_arena_limit)
{
    /* Counts that fit the bytes but not the arena: -ENOMEM, cleanly, at
     * the top level and nested. */
    eddy_wr_t w;
    wr_init(&w);
    wr_i32(&w, 1000);
    for (int i = 0; i < 1000; i++)
        put_str(&w, "");
    DeleteGroupsRequest dg;
    decoded_t d;
    decode(&d, dec_delete_groups, &w, w.wr_len, 0, 1024, &dg, sizeof dg);
    ck_assert_int_eq(d.rc, -ENOMEM);
    ck_assert_uint_le(d.arena.ar_used, 1024);
    decoded_free(&d);

    wr_reset(&w);
    put_str(&w, "grp");
    wr_i32(&w, 1);
    put_str(&w, "m");
    wr_i64(&w, -1);
    wr_i32(&w, 3);
    for (int t = 0; t < 3; t++) {
        put_str(&w, "t");
        int n = t == 2 ? 500 : 1;
        wr_i32(&w, n);
        for (int p = 0; p < n; p++) {
            wr_i32(&w, p);
            wr_i64(&w, p);
            put_str(&w, NULL);
        }
    }
    OffsetCommitRequest oc;
    decode(&d, dec_offset_commit, &w, w.wr_len, 2, 4096, &oc, sizeof oc);
    ck_assert_int_eq(d.rc, -ENOMEM);
    ck_assert_uint_le(d.arena.ar_used, 4096);
    decoded_free(&d);
    decode(&d, dec_offset_commit, &w, w.wr_len, 2, 1 << 20, &oc, sizeof oc);
    ck_assert_int_eq(d.rc, 0);
    ck_assert_int_eq(oc.Topics[2].PartitionsCount, 500);
    ck_assert_int_eq(oc.Topics[2].Partitions[499].CommittedOffset, 499);
    decoded_free(&d);
    wr_free(&w);
}
END_TEST

/* A string, legacy or compact (NULL: null). */
static void put_fstr(eddy_wr_t *w, int flex, const char *s)
{
    if (!flex) {
        put_str(w, s);
        return;
    }
    wr_compact_string(w, s ? (kstr_t){s, (int32_t)strlen(s)} : KSTR_NULL);
}

/* An array count, legacy or compact. */
static void put_fcount(eddy_wr_t *w, int flex, int32_t n)
{
    if (flex)
        wr_uvarint(w, n < 0 ? 0u : (uint32_t)n + 1);
    else
        wr_i32(w, n);
}

START_TEST(offset_fetch_flexible)
{
    eddy_wr_t w;
    wr_init(&w);
    OffsetFetchRequest r;
    decoded_t d;
    for (int16_t v = 6; v <= 7; v++) {
        for (int stable = 0; stable <= (v >= 7); stable++) {
            wr_reset(&w);
            put_fstr(&w, 1, "grp");
            put_fcount(&w, 1, 1);
            put_fstr(&w, 1, "orders");
            put_fcount(&w, 1, 2);
            wr_i32(&w, 0);
            wr_i32(&w, 4);
            wr_uvarint(&w, 0); /* topic tags */
            if (v >= 7)
                wr_i8(&w, (int8_t)stable);
            wr_uvarint(&w, 0);
            decode_ok(&d, dec_offset_fetch, &w, v, &r, sizeof r);
            ck_assert(kstr_eq(r.GroupId, "grp"));
            ck_assert_int_eq(r.TopicsCount, 1);
            ck_assert(kstr_eq(r.Topics[0].Name, "orders"));
            ck_assert_int_eq(r.Topics[0].PartitionIndexesCount, 2);
            ck_assert_int_eq(r.Topics[0].PartitionIndexes[1], 4);
            ck_assert_int_eq(r.RequireStable, stable);
            decoded_free(&d);
            check_truncations(dec_offset_fetch, &w, v);
        }
        /* Null topics (compact 0): every committed partition. */
        wr_reset(&w);
        put_fstr(&w, 1, "grp");
        wr_uvarint(&w, 0);
        if (v >= 7)
            wr_i8(&w, 1);
        wr_uvarint(&w, 0);
        decode_ok(&d, dec_offset_fetch, &w, v, &r, sizeof r);
        ck_assert_int_eq(r.TopicsCount, -1);
        decoded_free(&d);
    }
    /* The response: compact arrays and strings, tags after each partition,
     * topic and the body. */
    OffsetFetchResponsePartition parts[] = {{2, 42, 3, kstr_c("m"), 0},
                                            {5, -1, -1, kstr_c(""), KERR_UNSTABLE_OFFSET_COMMIT}};
    OffsetFetchResponseTopic topic = {kstr_c("t"), parts, 2};
    OffsetFetchResponse resp = {9, &topic, 1, 0};
    wr_reset(&w);
    wire_offset_fetch_resp_encode(&w, 7, &resp);
    /* clang-format off */
    static const uint8_t want[] = {
        0, 0, 0, 9,                  /* ThrottleTimeMs */
        2, 2, 't',                   /* Topics [1], Name */
        3,                           /* Partitions [2] */
        0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 3, 2, 'm', 0, 0, 0,
        0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 0,
        88, 0,
        0,                           /* topic tags */
        0, 0,                        /* ErrorCode */
        0,                           /* tags */
    };
    /* clang-format on */
    ck_assert_int_eq(w.wr_len, sizeof want);
    ck_assert_mem_eq(w.wr_buf, want, sizeof want);
    wr_free(&w);
}
END_TEST

START_TEST(txn_offset_commit_request)
{
    eddy_wr_t w;
    wr_init(&w);
    TxnOffsetCommitRequest r;
    decoded_t d;
    for (int16_t v = 0; v <= 4; v++) {
        int flex = v >= 3;
        wr_reset(&w);
        put_fstr(&w, flex, "tx");
        put_fstr(&w, flex, "grp");
        wr_i64(&w, 1234);
        wr_i16(&w, 7);
        if (v >= 3) {
            wr_i32(&w, 5);
            put_fstr(&w, flex, "m1");
            put_fstr(&w, flex, "i1");
        }
        put_fcount(&w, flex, 1);
        put_fstr(&w, flex, "orders");
        put_fcount(&w, flex, 2);
        for (int p = 0; p < 2; p++) {
            wr_i32(&w, p);
            wr_i64(&w, 100 + p);
            if (v >= 2)
                wr_i32(&w, 9);
            put_fstr(&w, flex, p == 0 ? "meta" : NULL);
            if (flex)
                wr_uvarint(&w, 0);
        }
        if (flex) {
            wr_uvarint(&w, 0); /* topic */
            wr_uvarint(&w, 0); /* body */
        }
        decode_ok(&d, dec_txn_offset_commit, &w, v, &r, sizeof r);
        ck_assert(kstr_eq(r.TransactionalId, "tx"));
        ck_assert(kstr_eq(r.GroupId, "grp"));
        ck_assert_int_eq(r.ProducerId, 1234);
        ck_assert_int_eq(r.ProducerEpoch, 7);
        ck_assert_int_eq(r.GenerationId, v >= 3 ? 5 : -1);
        ck_assert(kstr_eq(r.MemberId, v >= 3 ? "m1" : ""));
        if (v >= 3)
            ck_assert(kstr_eq(r.GroupInstanceId, "i1"));
        else
            ck_assert_int_eq(r.GroupInstanceId.len, -1);
        ck_assert_int_eq(r.TopicsCount, 1);
        ck_assert(kstr_eq(r.Topics[0].Name, "orders"));
        ck_assert_int_eq(r.Topics[0].PartitionsCount, 2);
        ck_assert_int_eq(r.Topics[0].Partitions[1].CommittedOffset, 101);
        ck_assert_int_eq(r.Topics[0].Partitions[1].CommittedLeaderEpoch, v >= 2 ? 9 : -1);
        ck_assert(kstr_eq(r.Topics[0].Partitions[0].CommittedMetadata, "meta"));
        ck_assert_int_eq(r.Topics[0].Partitions[1].CommittedMetadata.len, -1);
        decoded_free(&d);
        check_truncations(dec_txn_offset_commit, &w, v);
        /* A null transactional id or group is malformed. */
        for (int which = 0; which < 2; which++) {
            wr_reset(&w);
            put_fstr(&w, flex, which == 0 ? NULL : "tx");
            put_fstr(&w, flex, which == 1 ? NULL : "grp");
            wr_i64(&w, 1);
            wr_i16(&w, 0);
            if (v >= 3) {
                wr_i32(&w, -1);
                put_fstr(&w, flex, "");
                put_fstr(&w, flex, NULL);
            }
            put_fcount(&w, flex, 0);
            if (flex)
                wr_uvarint(&w, 0);
            expect_fail(dec_txn_offset_commit, &w, v, EDDY_ERR_INVALID_ARG, 64);
        }
        /* A hostile topic count is refused before any allocation. */
        wr_reset(&w);
        put_fstr(&w, flex, "tx");
        put_fstr(&w, flex, "grp");
        wr_i64(&w, 1);
        wr_i16(&w, 0);
        if (v >= 3) {
            wr_i32(&w, -1);
            put_fstr(&w, flex, "");
            put_fstr(&w, flex, NULL);
        }
        put_fcount(&w, flex, 0x7ffffff0);
        expect_fail(dec_txn_offset_commit, &w, v, EDDY_ERR_TRUNCATED, 0);
    }
    /* v5 (transactions v2) is not served. */
    wr_reset(&w);
    expect_fail(dec_txn_offset_commit, &w, 5, EDDY_ERR_INVALID_ARG, 0);
    wr_free(&w);
}
END_TEST

START_TEST(txn_offset_commit_response)
{
    OffsetCommitResponsePartition parts[] = {{3, KERR_NONE}, {4, KERR_ILLEGAL_GENERATION}};
    OffsetCommitResponseTopic topic = {kstr_c("t"), parts, 2};
    OffsetCommitResponse resp = {1, &topic, 1};
    eddy_wr_t w;
    wr_init(&w);
    wire_txn_offset_commit_resp_encode(&w, 2, &resp);
    static const uint8_t v2[] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 't', 0, 0, 0,
                                 2, 0, 0, 0, 3, 0, 0, 0, 0, 0, 4,   0, 22};
    ck_assert_int_eq(w.wr_len, sizeof v2);
    ck_assert_mem_eq(w.wr_buf, v2, sizeof v2);
    wr_reset(&w);
    wire_txn_offset_commit_resp_encode(&w, 3, &resp);
    static const uint8_t v3[] = {0, 0, 0, 1, 2, 2, 't', 3, 0,  0, 0, 3,
                                 0, 0, 0, 0, 0, 0, 4,   0, 22, 0, 0, 0};
    ck_assert_int_eq(w.wr_len, sizeof v3);
    ck_assert_mem_eq(w.wr_buf, v3, sizeof v3);
    wr_free(&w);
}
END_TEST

TCase *tcase_api_group(void)
{
    TCase *tc = tcase_create("api_group");
    tcase_add_test(tc, find_coordinator_request);
    tcase_add_test(tc, find_coordinator_response);
    tcase_add_test(tc, join_group_request);
    tcase_add_test(tc, join_group_librdkafka);
    tcase_add_test(tc, join_group_response);
    tcase_add_test(tc, sync_group_request);
    tcase_add_test(tc, sync_group_response);
    tcase_add_test(tc, heartbeat);
    tcase_add_test(tc, leave_group);
    tcase_add_test(tc, offset_commit_request);
    tcase_add_test(tc, offset_commit_librdkafka);
    tcase_add_test(tc, offset_commit_response);
    tcase_add_test(tc, offset_fetch_request);
    tcase_add_test(tc, offset_fetch_response);
    tcase_add_test(tc, offset_fetch_flexible);
    tcase_add_test(tc, txn_offset_commit_request);
    tcase_add_test(tc, txn_offset_commit_response);
    tcase_add_test(tc, describe_groups_request);
    tcase_add_test(tc, describe_groups_response);
    tcase_add_test(tc, list_groups);
    tcase_add_test(tc, delete_groups);
    tcase_add_test(tc, consumer_assignment);
    tcase_add_test(tc, group_arena_limit);
    return tc;
}

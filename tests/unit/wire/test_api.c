/* The API codecs (wire/api_*.c) against bodies written field by field in
 * this file from the apache/kafka JSON specs - never with the code under
 * test - for every advertised version: decoded fields, exact consumption,
 * failure at every truncation point, hostile array counts, and response
 * bytes for each version-dependent field. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "wire/api_acl.h"
#include "wire/api.h"
#include "wire/api_cluster.h"
#include "wire/api_quotas.h"
#include "wire/api_sasl.h"
#include "wire/api_group.h"
#include "wire/proto.h"

/* ---- helpers ------------------------------------------------------------ */

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
static void put_cstr(eddy_wr_t *w, const char *s) /* compact */
{
    if (!s) {
        wr_uvarint(w, 0);
        return;
    }
    wr_uvarint(w, (uint32_t)strlen(s) + 1);
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
DEC_ADAPTER(api_versions, ApiVersionsRequest)
DEC_ADAPTER(metadata, MetadataRequest)
DEC_ADAPTER(produce, ProduceRequest)
DEC_ADAPTER(fetch, FetchRequest)
DEC_ADAPTER(list_offsets, ListOffsetsRequest)
DEC_ADAPTER(create_topics, CreateTopicsRequest)
DEC_ADAPTER(delete_topics, DeleteTopicsRequest)
DEC_ADAPTER(delete_records, DeleteRecordsRequest)
DEC_ADAPTER(describe_configs, DescribeConfigsRequest)
/* The group APIs (tested in test_api_group.c), for the seed corpus below. */
DEC_ADAPTER(find_coordinator, FindCoordinatorRequest)
DEC_ADAPTER(join_group, JoinGroupRequest)
DEC_ADAPTER(sync_group, SyncGroupRequest)
DEC_ADAPTER(heartbeat, HeartbeatRequest)
DEC_ADAPTER(leave_group, LeaveGroupRequest)
DEC_ADAPTER(offset_commit, OffsetCommitRequest)
DEC_ADAPTER(offset_fetch, OffsetFetchRequest)
DEC_ADAPTER(describe_groups, DescribeGroupsRequest)
DEC_ADAPTER(delete_groups, DeleteGroupsRequest)
DEC_ADAPTER(offset_delete, OffsetDeleteRequest)
DEC_ADAPTER(create_partitions, CreatePartitionsRequest)
DEC_ADAPTER(describe_cluster, DescribeClusterRequest)
DEC_ADAPTER(describe_acls, DescribeAclsRequest)
DEC_ADAPTER(create_acls, CreateAclsRequest)
DEC_ADAPTER(delete_acls, DeleteAclsRequest)
DEC_ADAPTER(sasl_handshake, SaslHandshakeRequest)
DEC_ADAPTER(sasl_authenticate, SaslAuthenticateRequest)
DEC_ADAPTER(describe_user_scram, DescribeUserScramCredentialsRequest)
DEC_ADAPTER(alter_user_scram, AlterUserScramCredentialsRequest)
DEC_ADAPTER(describe_client_quotas, DescribeClientQuotasRequest)
DEC_ADAPTER(txn_offset_commit, TxnOffsetCommitRequest)
static int dec_list_groups(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, void *out)
{
    (void)out;
    return wire_list_groups_req_decode(rd, v, a, (ListGroupsRequest *)out);
}

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

/* Every strict prefix of a valid body must fail, cleanly. */
static void check_truncations(dec_fn f, const eddy_wr_t *body, int16_t v, size_t out_size)
{
    void *out = malloc(out_size);
    ck_assert_ptr_nonnull(out);
    for (size_t n = 0; n < body->wr_len; n++) {
        decoded_t d;
        decode(&d, f, body, n, v, 1 << 20, out, out_size);
        ck_assert_msg(d.rc != 0, "v%d: prefix of %zu/%zu bytes decoded", v, n, body->wr_len);
        decoded_free(&d);
    }
    free(out);
}

/* A body whose decode must fail with want, using almost no arena memory
 * (the count is refused before anything is allocated for it). */
static void expect_fail(dec_fn f, const eddy_wr_t *body, int16_t v, int want, size_t max_arena)
{
    union {
        ApiVersionsRequest a;
        MetadataRequest m;
        ProduceRequest p;
        FetchRequest f;
        ListOffsetsRequest l;
        CreateTopicsRequest c;
        DeleteTopicsRequest dt;
        DeleteRecordsRequest dr;
        DescribeConfigsRequest dc;
    } out;
    decoded_t d;
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

/* ---- ApiVersions ---------------------------------------------------------- */

START_TEST(api_versions_request)
{
    eddy_wr_t w;
    wr_init(&w);
    ApiVersionsRequest r;
    decoded_t d;
    for (int16_t v = 0; v <= 2; v++) {
        /* v0-2 bodies are empty. */
        decode_ok(&d, dec_api_versions, &w, v, &r, sizeof r);
        ck_assert_int_eq(r.ClientSoftwareName.len, -1);
        ck_assert_int_eq(r.ClientSoftwareVersion.len, -1);
        decoded_free(&d);
    }
    put_cstr(&w, "kafkajs");
    put_cstr(&w, "2.2.4");
    wr_uvarint(&w, 1); /* one unknown tagged field, skipped */
    wr_uvarint(&w, 5);
    wr_uvarint(&w, 3);
    wr_bytes(&w, "abc", 3);
    decode_ok(&d, dec_api_versions, &w, 3, &r, sizeof r);
    ck_assert(kstr_eq(r.ClientSoftwareName, "kafkajs"));
    ck_assert(kstr_eq(r.ClientSoftwareVersion, "2.2.4"));
    decoded_free(&d);
    check_truncations(dec_api_versions, &w, 3, sizeof r);

    /* The names are non-nullable strings. */
    wr_reset(&w);
    put_cstr(&w, NULL);
    put_cstr(&w, "1");
    wr_uvarint(&w, 0);
    expect_fail(dec_api_versions, &w, 3, EDDY_ERR_INVALID_ARG, 0);
    /* Versions the broker does not speak are not decoded. */
    expect_fail(dec_api_versions, &w, 4, EDDY_ERR_INVALID_ARG, 0);
    expect_fail(dec_api_versions, &w, -1, EDDY_ERR_INVALID_ARG, 0);
    wr_free(&w);
}
END_TEST

/* The first request librdkafka 2.0.2 sends, byte for byte: ApiVersions v3
 * with request header v2. */
START_TEST(api_versions_librdkafka)
{
    /* clang-format off */
    static const uint8_t frame[] = {
        0x00, 0x12,                                            /* api key 18 */
        0x00, 0x03,                                            /* version 3 */
        0x00, 0x00, 0x00, 0x01,                                /* correlation id 1 */
        0x00, 0x07, 'r',  'd',  'k',  'a',  'f',  'k',  'a',   /* client id (int16) */
        0x00,                                                  /* header tags */
        0x0b, 'l',  'i',  'b',  'r',  'd',  'k',  'a',  'f',  'k',  'a', /* compact */
        0x06, '2',  '.',  '0',  '.',  '2',                     /* compact */
        0x00,                                                  /* body tags */
    };
    /* clang-format on */
    uint8_t *p = malloc(sizeof frame);
    ck_assert_ptr_nonnull(p);
    memcpy(p, frame, sizeof frame);
    eddy_rd_t rd;
    rd_init(&rd, p, sizeof frame);
    RequestHeader h;
    ck_assert_int_eq(wire_request_header_decode(&rd, &h), 0);
    ck_assert_int_eq(h.RequestApiKey, API_API_VERSIONS);
    ck_assert_int_eq(h.RequestApiVersion, 3);
    ck_assert_int_eq(h.CorrelationId, 1);
    ck_assert(kstr_eq(h.ClientId, "rdkafka"));
    ck_assert_int_eq(h.header_version, 2);
    ck_assert(broker_api_supported(h.RequestApiKey, h.RequestApiVersion));
    eddy_arena_t a;
    arena_init(&a, 1 << 20);
    ApiVersionsRequest r;
    ck_assert_int_eq(wire_api_versions_req_decode(&rd, h.RequestApiVersion, &a, &r), 0);
    ck_assert(kstr_eq(r.ClientSoftwareName, "librdkafka"));
    ck_assert(kstr_eq(r.ClientSoftwareVersion, "2.0.2"));
    ck_assert_uint_eq(rd_remaining(&rd), 0);
    arena_free(&a);
    free(p);
}
END_TEST

START_TEST(api_versions_response)
{
    static const api_version_range_t keys[] = {{0, 3, 7}, {18, 0, 3}};
    ApiVersionsResponse r = {
        .ErrorCode = 0, .ApiKeys = keys, .ApiKeysCount = 2, .ThrottleTimeMs = 0x11223344};
    eddy_wr_t w;
    wr_init(&w);

    wire_api_versions_resp_encode(&w, 0, &r);
    /* clang-format off */
    static const uint8_t v0[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03,
                                 0x00, 0x07, 0x00, 0x12, 0x00, 0x00, 0x00, 0x03};
    /* clang-format on */
    ck_assert_uint_eq(w.wr_len, sizeof v0);
    ck_assert_mem_eq(w.wr_buf, v0, sizeof v0);

    for (int16_t v = 1; v <= 2; v++) {
        wr_reset(&w);
        wire_api_versions_resp_encode(&w, v, &r);
        static const uint8_t v1[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
                                     0x00, 0x03, 0x00, 0x07, 0x00, 0x12, 0x00, 0x00,
                                     0x00, 0x03, 0x11, 0x22, 0x33, 0x44};
        ck_assert_uint_eq(w.wr_len, sizeof v1);
        ck_assert_mem_eq(w.wr_buf, v1, sizeof v1);
    }

    wr_reset(&w);
    wire_api_versions_resp_encode(&w, 3, &r);
    /* clang-format off */
    static const uint8_t v3[] = {0x00, 0x00,                               /* error */
                                 0x03,                                     /* 2 entries */
                                 0x00, 0x00, 0x00, 0x03, 0x00, 0x07, 0x00, /* + tags */
                                 0x00, 0x12, 0x00, 0x00, 0x00, 0x03, 0x00, /* + tags */
                                 0x11, 0x22, 0x33, 0x44,                   /* throttle */
                                 0x00};                                    /* tags */
    /* clang-format on */
    ck_assert_uint_eq(w.wr_len, sizeof v3);
    ck_assert_mem_eq(w.wr_buf, v3, sizeof v3);

    /* The answer to an unsupported ApiVersions version: error 35 in a v0
     * body listing what we do speak. */
    wr_reset(&w);
    ApiVersionsResponse u = {.ErrorCode = KERR_UNSUPPORTED_VERSION,
                             .ApiKeys = broker_api_versions,
                             .ApiKeysCount = broker_api_versions_count};
    wire_api_versions_resp_encode(&w, 0, &u);
    ck_assert_uint_eq(w.wr_len, 2 + 4 + 6 * (size_t)broker_api_versions_count);
    ck_assert_int_eq(w.wr_buf[0], 0x00);
    ck_assert_int_eq(w.wr_buf[1], 35);
    wr_free(&w);
}
END_TEST

/* ---- Metadata ------------------------------------------------------------- */

/* Writers for the version's encoding (legacy or compact). */
static void put_fstr(eddy_wr_t *w, int flex, const char *s)
{
    if (flex)
        put_cstr(w, s);
    else
        put_str(w, s);
}

static void put_fcount(eddy_wr_t *w, int flex, int32_t n)
{
    if (flex)
        wr_uvarint(w, n < 0 ? 0u : (uint32_t)n + 1);
    else
        wr_i32(w, n);
}

static void put_ftags(eddy_wr_t *w, int flex)
{
    if (flex)
        wr_uvarint(w, 0);
}

/* One topic of a Metadata request: TopicId (v10+), Name, tags (v9+). */
static void put_md_topic(eddy_wr_t *w, int16_t v, const char *name)
{
    int flex = v >= 9;
    if (v >= 10) {
        wr_i64(w, 0);
        wr_i64(w, 0);
    }
    put_fstr(w, flex, name);
    put_ftags(w, flex);
}

/* The fields after the topics: AllowAutoTopicCreation (v4+),
 * IncludeClusterAuthorizedOperations (v8-10), IncludeTopicAuthorizedOperations
 * (v8+), tags (v9+). */
static void put_md_tail(eddy_wr_t *w, int16_t v, int auto_create)
{
    if (v >= 4)
        wr_i8(w, (int8_t)auto_create);
    if (v >= 8 && v <= 10)
        wr_i8(w, 1);
    if (v >= 8)
        wr_i8(w, 1);
    put_ftags(w, v >= 9);
}

START_TEST(metadata_request)
{
    eddy_wr_t w;
    wr_init(&w);
    MetadataRequest r;
    decoded_t d;
    for (int16_t v = 0; v <= 12; v++) {
        int flex = v >= 9;
        wr_reset(&w);
        put_fcount(&w, flex, 2);
        put_md_topic(&w, v, "alpha");
        put_md_topic(&w, v, "");
        put_md_tail(&w, v, 0);
        decode_ok(&d, dec_metadata, &w, v, &r, sizeof r);
        ck_assert_int_eq(r.TopicsCount, 2);
        ck_assert(kstr_eq(r.Topics[0], "alpha"));
        ck_assert(kstr_eq(r.Topics[1], ""));
        ck_assert_int_eq(r.AllowAutoTopicCreation, v >= 4 ? 0 : 1);
        decoded_free(&d);
        check_truncations(dec_metadata, &w, v, sizeof r);

        /* Empty array: all topics in v0, none from v1 on. */
        wr_reset(&w);
        put_fcount(&w, flex, 0);
        put_md_tail(&w, v, 1);
        decode_ok(&d, dec_metadata, &w, v, &r, sizeof r);
        ck_assert_int_eq(r.TopicsCount, v == 0 ? -1 : 0);
        ck_assert_int_eq(r.AllowAutoTopicCreation, 1);
        decoded_free(&d);

        /* Null array: all topics from v1 on; not allowed in v0. */
        wr_reset(&w);
        put_fcount(&w, flex, -1);
        put_md_tail(&w, v, 1);
        if (v == 0) {
            expect_fail(dec_metadata, &w, v, EDDY_ERR_INVALID_ARG, 0);
        } else {
            decode_ok(&d, dec_metadata, &w, v, &r, sizeof r);
            ck_assert_int_eq(r.TopicsCount, -1);
            decoded_free(&d);
        }

        /* A null topic name: malformed before v10; from v10 on a topic asked
         * for by id only, which Eddy (no topic ids) refuses. */
        wr_reset(&w);
        put_fcount(&w, flex, 1);
        put_md_topic(&w, v, NULL);
        put_md_tail(&w, v, 1);
        expect_fail(dec_metadata, &w, v, EDDY_ERR_INVALID_ARG, 64);

        /* More topics than bytes. */
        wr_reset(&w);
        put_fcount(&w, flex, 0x7fffffff);
        put_md_topic(&w, v, "x");
        expect_fail(dec_metadata, &w, v, EDDY_ERR_TRUNCATED, 0);
    }
    expect_fail(dec_metadata, &w, 13, EDDY_ERR_INVALID_ARG, 0);
    wr_free(&w);
}
END_TEST

START_TEST(metadata_response)
{
    int32_t replicas[] = {1};
    MetadataResponsePartition parts[] = {
        {.ErrorCode = 56,
         .PartitionIndex = 0,
         .LeaderId = 1,
         .ReplicaNodes = replicas,
         .ReplicaNodesCount = 1,
         .IsrNodes = replicas,
         .IsrNodesCount = 1,
         .OfflineReplicas = replicas,
         .OfflineReplicasCount = 1},
        {.ErrorCode = 5,
         .PartitionIndex = 1,
         .LeaderId = -1,
         .ReplicaNodes = NULL,
         .ReplicaNodesCount = 0,
         .IsrNodes = NULL,
         .IsrNodesCount = 0},
    };
    MetadataResponseTopic topics[] = {
        {.ErrorCode = 0,
         .Name = kstr_c("t1"),
         .IsInternal = 1,
         .Partitions = parts,
         .PartitionsCount = 2},
    };
    MetadataResponseBroker brokers[] = {
        {.NodeId = 1, .Host = kstr_c("localhost"), .Port = 9092, .Rack = KSTR_NULL},
        {.NodeId = 2, .Host = kstr_c("h2"), .Port = 9093, .Rack = kstr_c("r2")},
    };
    MetadataResponse r = {.ThrottleTimeMs = 7,
                          .Brokers = brokers,
                          .BrokersCount = 2,
                          .ClusterId = kstr_c("cid"),
                          .ControllerId = 1,
                          .Topics = topics,
                          .TopicsCount = 1};
    eddy_wr_t got, want;
    wr_init(&got);
    wr_init(&want);
    for (int16_t v = 0; v <= 12; v++) {
        int flex = v >= 9;
        wr_reset(&got);
        wr_reset(&want);
        wire_metadata_resp_encode(&got, v, &r);
        if (v >= 3)
            wr_i32(&want, 7);
        put_fcount(&want, flex, 2);
        wr_i32(&want, 1);
        put_fstr(&want, flex, "localhost");
        wr_i32(&want, 9092);
        if (v >= 1)
            put_fstr(&want, flex, NULL);
        put_ftags(&want, flex);
        wr_i32(&want, 2);
        put_fstr(&want, flex, "h2");
        wr_i32(&want, 9093);
        if (v >= 1)
            put_fstr(&want, flex, "r2");
        put_ftags(&want, flex);
        if (v >= 2)
            put_fstr(&want, flex, "cid");
        if (v >= 1)
            wr_i32(&want, 1);
        put_fcount(&want, flex, 1);
        wr_i16(&want, 0);
        put_fstr(&want, flex, "t1");
        if (v >= 10) { /* TopicId: the zero uuid */
            wr_i64(&want, 0);
            wr_i64(&want, 0);
        }
        if (v >= 1)
            wr_i8(&want, 1);
        put_fcount(&want, flex, 2);
        wr_i16(&want, 56);
        wr_i32(&want, 0);
        wr_i32(&want, 1);
        if (v >= 7)
            wr_i32(&want, -1); /* LeaderEpoch */
        put_fcount(&want, flex, 1);
        wr_i32(&want, 1);
        put_fcount(&want, flex, 1);
        wr_i32(&want, 1);
        if (v >= 5) { /* OfflineReplicas [1] */
            put_fcount(&want, flex, 1);
            wr_i32(&want, 1);
        }
        put_ftags(&want, flex);
        wr_i16(&want, 5);
        wr_i32(&want, 1);
        wr_i32(&want, -1);
        if (v >= 7)
            wr_i32(&want, -1);
        put_fcount(&want, flex, 0);
        put_fcount(&want, flex, 0);
        if (v >= 5)
            put_fcount(&want, flex, 0);
        put_ftags(&want, flex);
        if (v >= 8)
            wr_i32(&want, INT32_MIN); /* TopicAuthorizedOperations */
        put_ftags(&want, flex);
        if (v >= 8 && v <= 10)
            wr_i32(&want, INT32_MIN); /* ClusterAuthorizedOperations */
        put_ftags(&want, flex);
        char what[32];
        snprintf(what, sizeof what, "metadata v%d", v);
        assert_wr_eq(&got, &want, what);
    }
    /* v0 by literal bytes: one broker, no topics. */
    MetadataResponse small = {
        .Brokers = brokers, .BrokersCount = 1, .Topics = NULL, .TopicsCount = 0};
    wr_reset(&got);
    wire_metadata_resp_encode(&got, 0, &small);
    /* clang-format off */
    static const uint8_t v0[] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 9, 'l', 'o', 'c', 'a', 'l',
                                 'h', 'o', 's', 't', 0, 0, 0x23, 0x84, 0, 0, 0, 0};
    /* clang-format on */
    ck_assert_uint_eq(got.wr_len, sizeof v0);
    ck_assert_mem_eq(got.wr_buf, v0, sizeof v0);
    wr_free(&got);
    wr_free(&want);
}
END_TEST

/* ---- Produce -------------------------------------------------------------- */

START_TEST(produce_request)
{
    static const uint8_t batch[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0xde, 0xad};
    eddy_wr_t w;
    wr_init(&w);
    ProduceRequest r;
    decoded_t d;
    for (int16_t v = 3; v <= 7; v++) {
        wr_reset(&w);
        put_str(&w, v == 5 ? "txn-1" : NULL); /* TransactionalId */
        wr_i16(&w, -1);                       /* Acks */
        wr_i32(&w, 30000);                    /* TimeoutMs */
        wr_i32(&w, 2);                        /* Topics */
        put_str(&w, "orders");
        wr_i32(&w, 2);
        wr_i32(&w, 0);
        put_bytes(&w, batch, (int32_t)sizeof batch);
        wr_i32(&w, 3);
        wr_i32(&w, -1); /* null records */
        put_str(&w, "t");
        wr_i32(&w, 0);
        decode_ok(&d, dec_produce, &w, v, &r, sizeof r);
        if (v == 5)
            ck_assert(kstr_eq(r.TransactionalId, "txn-1"));
        else
            ck_assert_int_eq(r.TransactionalId.len, -1);
        ck_assert_int_eq(r.Acks, -1);
        ck_assert_int_eq(r.TimeoutMs, 30000);
        ck_assert_int_eq(r.TopicDataCount, 2);
        ck_assert(kstr_eq(r.TopicData[0].Name, "orders"));
        ck_assert_int_eq(r.TopicData[0].PartitionDataCount, 2);
        ck_assert_int_eq(r.TopicData[0].PartitionData[0].Index, 0);
        ck_assert_int_eq(r.TopicData[0].PartitionData[0].Records.len, (int32_t)sizeof batch);
        ck_assert_mem_eq(r.TopicData[0].PartitionData[0].Records.ptr, batch, sizeof batch);
        /* Records borrow the request bytes (the log rewrites them in place). */
        ck_assert(r.TopicData[0].PartitionData[0].Records.ptr >= (const char *)d.buf &&
                  r.TopicData[0].PartitionData[0].Records.ptr < (const char *)d.buf + w.wr_len);
        ck_assert_int_eq(r.TopicData[0].PartitionData[1].Index, 3);
        ck_assert_int_eq(r.TopicData[0].PartitionData[1].Records.len, -1);
        ck_assert(kstr_eq(r.TopicData[1].Name, "t"));
        ck_assert_int_eq(r.TopicData[1].PartitionDataCount, 0);
        decoded_free(&d);
        check_truncations(dec_produce, &w, v, sizeof r);

        /* Hostile counts: top level, then nested under a valid topic. */
        wr_reset(&w);
        put_str(&w, NULL);
        wr_i16(&w, 1);
        wr_i32(&w, 100);
        wr_i32(&w, 0x7fffffff);
        put_str(&w, "t");
        wr_i32(&w, 0);
        expect_fail(dec_produce, &w, v, EDDY_ERR_TRUNCATED, 0);
        wr_reset(&w);
        put_str(&w, NULL);
        wr_i16(&w, 1);
        wr_i32(&w, 100);
        wr_i32(&w, 1);
        put_str(&w, "t");
        wr_i32(&w, 0x7ffffff0);
        wr_i32(&w, 0);
        wr_i32(&w, -1);
        expect_fail(dec_produce, &w, v, EDDY_ERR_TRUNCATED, 64);
        /* Negative record length other than -1. */
        wr_reset(&w);
        put_str(&w, NULL);
        wr_i16(&w, 1);
        wr_i32(&w, 100);
        wr_i32(&w, 1);
        put_str(&w, "t");
        wr_i32(&w, 1);
        wr_i32(&w, 0);
        wr_i32(&w, -2);
        expect_fail(dec_produce, &w, v, EDDY_ERR_INVALID_ARG, 256);
        /* Null topics array (non-nullable). */
        wr_reset(&w);
        put_str(&w, NULL);
        wr_i16(&w, 1);
        wr_i32(&w, 100);
        wr_i32(&w, -1);
        expect_fail(dec_produce, &w, v, EDDY_ERR_INVALID_ARG, 0);
    }
    /* Versions outside 3-7 are not decoded (v2 lacks TransactionalId). */
    expect_fail(dec_produce, &w, 2, EDDY_ERR_INVALID_ARG, 0);
    expect_fail(dec_produce, &w, 8, EDDY_ERR_INVALID_ARG, 0);
    wr_free(&w);
}
END_TEST

START_TEST(produce_response)
{
    ProduceResponsePartition parts[] = {
        {.Index = 0, .ErrorCode = 0, .BaseOffset = 100, .LogAppendTimeMs = -1, .LogStartOffset = 5},
        {.Index = 1, .ErrorCode = 2, .BaseOffset = -1, .LogAppendTimeMs = -1, .LogStartOffset = -1},
    };
    ProduceResponseTopic topics[] = {
        {.Name = kstr_c("t"), .PartitionResponses = parts, .PartitionResponsesCount = 2}};
    ProduceResponse r = {.Responses = topics, .ResponsesCount = 1, .ThrottleTimeMs = 0};
    eddy_wr_t got;
    wr_init(&got);

    /* v3 (and v4): no LogStartOffset. */
    for (int16_t v = 3; v <= 4; v++) {
        wr_reset(&got);
        wire_produce_resp_encode(&got, v, &r);
        /* clang-format off */
        static const uint8_t v3[] = {
            0, 0, 0, 1, 0, 1, 't', 0, 0, 0, 2, /* topic t, 2 partitions */
            0, 0, 0, 0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    100,
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* LogAppendTime -1 */
            0, 0, 0, 1,    0,    2,    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* LogAppendTime -1 */
            0, 0, 0, 0, /* throttle, last */
        };
        /* clang-format on */
        ck_assert_uint_eq(got.wr_len, sizeof v3);
        ck_assert_mem_eq(got.wr_buf, v3, sizeof v3);
    }
    /* v5-7: + LogStartOffset after LogAppendTimeMs. */
    for (int16_t v = 5; v <= 7; v++) {
        wr_reset(&got);
        wire_produce_resp_encode(&got, v, &r);
        /* clang-format off */
        static const uint8_t v5[] = {
            0, 0, 0, 1, 0, 1, 't', 0, 0, 0, 2,
            0, 0, 0, 0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    100,
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0, 0, 0, 0, 0, 0, 0, 5, /* LogStartOffset */
            0, 0, 0, 1,    0,    2,    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* LogStartOffset -1 */
            0, 0, 0, 0,
        };
        /* clang-format on */
        ck_assert_uint_eq(got.wr_len, sizeof v5);
        ck_assert_mem_eq(got.wr_buf, v5, sizeof v5);
    }
    wr_free(&got);
}
END_TEST

/* ---- Fetch ---------------------------------------------------------------- */

static void build_fetch(eddy_wr_t *w, int16_t v)
{
    wr_i32(w, -1);      /* ReplicaId */
    wr_i32(w, 500);     /* MaxWaitMs */
    wr_i32(w, 1);       /* MinBytes */
    wr_i32(w, 1 << 20); /* MaxBytes (v3+) */
    wr_i8(w, 1);        /* IsolationLevel (v4+) */
    if (v >= 7) {
        wr_i32(w, 0);  /* SessionId */
        wr_i32(w, -1); /* SessionEpoch */
    }
    wr_i32(w, 1);
    put_str(w, "events");
    wr_i32(w, 2);
    for (int p = 0; p < 2; p++) {
        wr_i32(w, p);
        if (v >= 9)
            wr_i32(w, 4); /* CurrentLeaderEpoch */
        wr_i64(w, 1000 + p);
        if (v >= 5)
            wr_i64(w, 0); /* LogStartOffset */
        wr_i32(w, 65536);
    }
    if (v >= 7) {
        wr_i32(w, 1); /* ForgottenTopicsData */
        put_str(w, "old");
        wr_i32(w, 2);
        wr_i32(w, 7);
        wr_i32(w, 8);
    }
    if (v >= 11)
        put_str(w, "rack-a");
}

START_TEST(fetch_request)
{
    eddy_wr_t w;
    wr_init(&w);
    FetchRequest r;
    decoded_t d;
    for (int16_t v = 4; v <= 11; v++) {
        wr_reset(&w);
        build_fetch(&w, v);
        decode_ok(&d, dec_fetch, &w, v, &r, sizeof r);
        ck_assert_int_eq(r.ReplicaId, -1);
        ck_assert_int_eq(r.MaxWaitMs, 500);
        ck_assert_int_eq(r.MinBytes, 1);
        ck_assert_int_eq(r.MaxBytes, 1 << 20);
        ck_assert_int_eq(r.IsolationLevel, 1);
        ck_assert_int_eq(r.SessionId, 0);
        ck_assert_int_eq(r.SessionEpoch, -1);
        ck_assert_int_eq(r.TopicsCount, 1);
        ck_assert(kstr_eq(r.Topics[0].Topic, "events"));
        ck_assert_int_eq(r.Topics[0].PartitionsCount, 2);
        for (int p = 0; p < 2; p++) {
            const FetchRequestPartition *fp = &r.Topics[0].Partitions[p];
            ck_assert_int_eq(fp->Partition, p);
            ck_assert_int_eq(fp->CurrentLeaderEpoch, v >= 9 ? 4 : -1);
            ck_assert_int_eq(fp->FetchOffset, 1000 + p);
            ck_assert_int_eq(fp->LogStartOffset, v >= 5 ? 0 : -1);
            ck_assert_int_eq(fp->PartitionMaxBytes, 65536);
        }
        if (v >= 11)
            ck_assert(kstr_eq(r.RackId, "rack-a"));
        else
            ck_assert(kstr_eq(r.RackId, ""));
        decoded_free(&d);
        check_truncations(dec_fetch, &w, v, sizeof r);

        /* Session fields as sent by a client with a session (v7+). */
        if (v >= 7) {
            wr_reset(&w);
            wr_i32(&w, -1);
            wr_i32(&w, 100);
            wr_i32(&w, 1);
            wr_i32(&w, 1000);
            wr_i8(&w, 0);
            wr_i32(&w, 77);
            wr_i32(&w, 3);
            wr_i32(&w, 0);
            wr_i32(&w, 0);
            if (v >= 11)
                put_str(&w, "");
            decode_ok(&d, dec_fetch, &w, v, &r, sizeof r);
            ck_assert_int_eq(r.SessionId, 77);
            ck_assert_int_eq(r.SessionEpoch, 3);
            ck_assert_int_eq(r.TopicsCount, 0);
            decoded_free(&d);

            /* A hostile forgotten-partitions count: no allocation at all. */
            wr_reset(&w);
            wr_i32(&w, -1);
            wr_i32(&w, 100);
            wr_i32(&w, 1);
            wr_i32(&w, 1000);
            wr_i8(&w, 0);
            wr_i32(&w, 0);
            wr_i32(&w, -1);
            wr_i32(&w, 0);
            wr_i32(&w, 1);
            put_str(&w, "old");
            wr_i32(&w, 0x40000000);
            wr_i32(&w, 1);
            expect_fail(dec_fetch, &w, v, EDDY_ERR_TRUNCATED, 0);
        }
        /* Hostile partition count. */
        wr_reset(&w);
        wr_i32(&w, -1);
        wr_i32(&w, 100);
        wr_i32(&w, 1);
        wr_i32(&w, 1000);
        wr_i8(&w, 0);
        if (v >= 7) {
            wr_i32(&w, 0);
            wr_i32(&w, -1);
        }
        wr_i32(&w, 1);
        put_str(&w, "t");
        wr_i32(&w, 0x7fffffff);
        wr_i64(&w, 0);
        expect_fail(dec_fetch, &w, v, EDDY_ERR_TRUNCATED, 64);
    }
    expect_fail(dec_fetch, &w, 3, EDDY_ERR_INVALID_ARG, 0);
    expect_fail(dec_fetch, &w, 12, EDDY_ERR_INVALID_ARG, 0);
    wr_free(&w);
}
END_TEST

START_TEST(fetch_response)
{
    static const uint8_t rec[] = {1, 2, 3};
    eddy_wr_t got, want;
    wr_init(&got);
    wr_init(&want);
    for (int16_t v = 4; v <= 11; v++) {
        wr_reset(&got);
        wr_reset(&want);
        wire_fetch_resp_begin(&got, v, 0, 0, 0, 1);
        wire_fetch_resp_topic(&got, v, kstr_c("events"), 1);
        wire_fetch_resp_partition(&got, v, 2, 0, 50, 50, 10);
        put_bytes(&got, rec, 3); /* the broker's part */

        wr_i32(&want, 0); /* ThrottleTimeMs (v1+) */
        if (v >= 7) {
            wr_i16(&want, 0); /* ErrorCode */
            wr_i32(&want, 0); /* SessionId */
        }
        wr_i32(&want, 1);
        put_str(&want, "events");
        wr_i32(&want, 1);
        wr_i32(&want, 2);   /* PartitionIndex */
        wr_i16(&want, 0);   /* ErrorCode */
        wr_i64(&want, 50);  /* HighWatermark */
        wr_i64(&want, 50);  /* LastStableOffset (v4+) */
        if (v >= 5)
            wr_i64(&want, 10); /* LogStartOffset */
        wr_i32(&want, 0);      /* AbortedTransactions: empty */
        if (v >= 11)
            wr_i32(&want, -1); /* PreferredReadReplica */
        put_bytes(&want, rec, 3);
        char what[32];
        snprintf(what, sizeof what, "fetch v%d", v);
        assert_wr_eq(&got, &want, what);
    }
    /* v4 by literal bytes, error 1 (OFFSET_OUT_OF_RANGE), no records. */
    wr_reset(&got);
    wire_fetch_resp_begin(&got, 4, 0, 0, 0, 1);
    wire_fetch_resp_topic(&got, 4, kstr_c("a"), 1);
    wire_fetch_resp_partition(&got, 4, 0, 1, 7, 7, 0);
    /* clang-format off */
    static const uint8_t v4[] = {0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 'a', 0, 0, 0, 1,
                                 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0,   0, 0, 7, 0,
                                 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0};
    /* clang-format on */
    ck_assert_uint_eq(got.wr_len, sizeof v4);
    ck_assert_mem_eq(got.wr_buf, v4, sizeof v4);
    /* v7 top level by literal bytes: throttle, error, session, count. */
    wr_reset(&got);
    wire_fetch_resp_begin(&got, 7, 9, 0, 0, 0);
    static const uint8_t v7[] = {0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    ck_assert_uint_eq(got.wr_len, sizeof v7);
    ck_assert_mem_eq(got.wr_buf, v7, sizeof v7);
    wr_free(&got);
    wr_free(&want);
}
END_TEST

/* ---- ListOffsets ---------------------------------------------------------- */

START_TEST(list_offsets_request)
{
    eddy_wr_t w;
    wr_init(&w);
    ListOffsetsRequest r;
    decoded_t d;
    for (int16_t v = 0; v <= 2; v++) {
        wr_reset(&w);
        wr_i32(&w, -1);
        if (v >= 2)
            wr_i8(&w, 1);
        wr_i32(&w, 1);
        put_str(&w, "t");
        wr_i32(&w, 2);
        wr_i32(&w, 0);
        wr_i64(&w, -2);
        if (v == 0)
            wr_i32(&w, 1);
        wr_i32(&w, 1);
        wr_i64(&w, 1700000000000);
        if (v == 0)
            wr_i32(&w, 5);
        decode_ok(&d, dec_list_offsets, &w, v, &r, sizeof r);
        ck_assert_int_eq(r.ReplicaId, -1);
        ck_assert_int_eq(r.IsolationLevel, v >= 2 ? 1 : 0);
        ck_assert_int_eq(r.TopicsCount, 1);
        ck_assert(kstr_eq(r.Topics[0].Name, "t"));
        ck_assert_int_eq(r.Topics[0].PartitionsCount, 2);
        ck_assert_int_eq(r.Topics[0].Partitions[0].PartitionIndex, 0);
        ck_assert_int_eq(r.Topics[0].Partitions[0].Timestamp, -2);
        ck_assert_int_eq(r.Topics[0].Partitions[0].MaxNumOffsets, 1);
        ck_assert_int_eq(r.Topics[0].Partitions[1].PartitionIndex, 1);
        ck_assert_int_eq(r.Topics[0].Partitions[1].Timestamp, 1700000000000);
        ck_assert_int_eq(r.Topics[0].Partitions[1].MaxNumOffsets, v == 0 ? 5 : 1);
        decoded_free(&d);
        check_truncations(dec_list_offsets, &w, v, sizeof r);

        wr_reset(&w);
        wr_i32(&w, -1);
        if (v >= 2)
            wr_i8(&w, 0);
        wr_i32(&w, 0x10000000);
        put_str(&w, "t");
        wr_i32(&w, 0);
        expect_fail(dec_list_offsets, &w, v, EDDY_ERR_TRUNCATED, 0);
    }
    /* v4+: CurrentLeaderEpoch before Timestamp; v6+ flexible (compact
     * arrays and strings, tags after each struct); -3 and -4 decode as
     * given (the handler gives them their meaning). */
    for (int16_t v = 3; v <= 8; v++) {
        int flex = v >= 6;
        wr_reset(&w);
        wr_i32(&w, -1);
        wr_i8(&w, 0);
        if (flex) {
            wr_uvarint(&w, 2);
            wr_compact_string(&w, kstr_c("t"));
            wr_uvarint(&w, 2);
        } else {
            wr_i32(&w, 1);
            put_str(&w, "t");
            wr_i32(&w, 1);
        }
        wr_i32(&w, 3);
        if (v >= 4)
            wr_i32(&w, 5);
        wr_i64(&w, -3);
        if (flex) {
            wr_empty_tags(&w); /* partition */
            wr_empty_tags(&w); /* topic */
            wr_empty_tags(&w); /* request */
        }
        decode_ok(&d, dec_list_offsets, &w, v, &r, sizeof r);
        ck_assert_int_eq(r.TopicsCount, 1);
        ck_assert(kstr_eq(r.Topics[0].Name, "t"));
        ck_assert_int_eq(r.Topics[0].PartitionsCount, 1);
        ck_assert_int_eq(r.Topics[0].Partitions[0].PartitionIndex, 3);
        ck_assert_int_eq(r.Topics[0].Partitions[0].CurrentLeaderEpoch, v >= 4 ? 5 : -1);
        ck_assert_int_eq(r.Topics[0].Partitions[0].Timestamp, -3);
        decoded_free(&d);
        check_truncations(dec_list_offsets, &w, v, sizeof r);
    }
    expect_fail(dec_list_offsets, &w, 9, EDDY_ERR_INVALID_ARG, 0);
    wr_free(&w);
}
END_TEST

START_TEST(list_offsets_response)
{
    ListOffsetsResponsePartition parts[] = {
        {.PartitionIndex = 0, .ErrorCode = 0, .Timestamp = -1, .Offset = 42},
        {.PartitionIndex = 1, .ErrorCode = 3, .Timestamp = -1, .Offset = -1},
    };
    ListOffsetsResponseTopic topics[] = {
        {.Name = kstr_c("t"), .Partitions = parts, .PartitionsCount = 2}};
    ListOffsetsResponse r = {.ThrottleTimeMs = 0, .Topics = topics, .TopicsCount = 1};
    eddy_wr_t got;
    wr_init(&got);

    /* v0: OldStyleOffsets, [42] and the empty list for -1. */
    wire_list_offsets_resp_encode(&got, 0, &r);
    /* clang-format off */
    static const uint8_t v0[] = {0, 0, 0, 1, 0, 1, 't', 0, 0, 0, 2,          /* topic t */
                                 0, 0, 0, 0, 0, 0,                           /* p0, err 0 */
                                 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 42,        /* [42] */
                                 0, 0, 0, 1, 0, 3,                           /* p1, err 3 */
                                 0, 0, 0, 0};                                /* [] */
    /* clang-format on */
    ck_assert_uint_eq(got.wr_len, sizeof v0);
    ck_assert_mem_eq(got.wr_buf, v0, sizeof v0);

    /* v1: Timestamp and Offset; v2: + ThrottleTimeMs first. */
    static const uint8_t v1[] = {0,    0,    0,    1,    0,    1,    't',  0,    0,    0,    2,
                                 0,    0,    0,    0,    0,    0,    0xff, 0xff, 0xff, 0xff, 0xff,
                                 0xff, 0xff, 0xff, 0,    0,    0,    0,    0,    0,    0,    42,
                                 0,    0,    0,    1,    0,    3,    0xff, 0xff, 0xff, 0xff, 0xff,
                                 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    wr_reset(&got);
    wire_list_offsets_resp_encode(&got, 1, &r);
    ck_assert_uint_eq(got.wr_len, sizeof v1);
    ck_assert_mem_eq(got.wr_buf, v1, sizeof v1);
    wr_reset(&got);
    r.ThrottleTimeMs = 0x01020304;
    wire_list_offsets_resp_encode(&got, 2, &r);
    ck_assert_uint_eq(got.wr_len, 4 + sizeof v1);
    static const uint8_t thr[] = {1, 2, 3, 4};
    ck_assert_mem_eq(got.wr_buf, thr, 4);
    ck_assert_mem_eq(got.wr_buf + 4, v1, sizeof v1);
    wr_free(&got);
}
END_TEST

/* ---- CreateTopics ---------------------------------------------------------- */

START_TEST(create_topics_request)
{
    eddy_wr_t w;
    wr_init(&w);
    CreateTopicsRequest r;
    decoded_t d;
    for (int16_t v = 0; v <= 4; v++) {
        wr_reset(&w);
        wr_i32(&w, 2);
        /* Topic 1: 3 partitions, RF 1, configs (one with a null value). */
        put_str(&w, "new");
        wr_i32(&w, 3);
        wr_i16(&w, 1);
        wr_i32(&w, 0);
        wr_i32(&w, 2);
        put_str(&w, "cleanup.policy");
        put_str(&w, "compact");
        put_str(&w, "retention.ms");
        put_str(&w, NULL);
        /* Topic 2: manual assignment, -1/-1. */
        put_str(&w, "manual");
        wr_i32(&w, -1);
        wr_i16(&w, -1);
        wr_i32(&w, 2);
        wr_i32(&w, 0);
        wr_i32(&w, 1);
        wr_i32(&w, 1);
        wr_i32(&w, 1);
        wr_i32(&w, 2);
        wr_i32(&w, 1);
        wr_i32(&w, 2);
        wr_i32(&w, 0);
        wr_i32(&w, 5000); /* TimeoutMs */
        if (v >= 1)
            wr_i8(&w, 1); /* ValidateOnly */
        decode_ok(&d, dec_create_topics, &w, v, &r, sizeof r);
        ck_assert_int_eq(r.TopicsCount, 2);
        const CreatableTopic *t = &r.Topics[0];
        ck_assert(kstr_eq(t->Name, "new"));
        ck_assert_int_eq(t->NumPartitions, 3);
        ck_assert_int_eq(t->ReplicationFactor, 1);
        ck_assert_int_eq(t->AssignmentsCount, 0);
        ck_assert_int_eq(t->ConfigsCount, 2);
        ck_assert(kstr_eq(t->Configs[0].Name, "cleanup.policy"));
        ck_assert(kstr_eq(t->Configs[0].Value, "compact"));
        ck_assert(kstr_eq(t->Configs[1].Name, "retention.ms"));
        ck_assert_int_eq(t->Configs[1].Value.len, -1);
        t = &r.Topics[1];
        ck_assert(kstr_eq(t->Name, "manual"));
        ck_assert_int_eq(t->NumPartitions, -1);
        ck_assert_int_eq(t->ReplicationFactor, -1);
        ck_assert_int_eq(t->AssignmentsCount, 2);
        ck_assert_int_eq(t->Assignments[0].PartitionIndex, 0);
        ck_assert_int_eq(t->Assignments[0].BrokerIdsCount, 1);
        ck_assert_int_eq(t->Assignments[0].BrokerIds[0], 1);
        ck_assert_int_eq(t->Assignments[1].PartitionIndex, 1);
        ck_assert_int_eq(t->Assignments[1].BrokerIdsCount, 2);
        ck_assert_int_eq(t->Assignments[1].BrokerIds[0], 1);
        ck_assert_int_eq(t->Assignments[1].BrokerIds[1], 2);
        ck_assert_int_eq(t->ConfigsCount, 0);
        ck_assert_int_eq(r.TimeoutMs, 5000);
        ck_assert_int_eq(r.ValidateOnly, v >= 1 ? 1 : 0);
        decoded_free(&d);
        check_truncations(dec_create_topics, &w, v, sizeof r);

        /* A hostile broker-id count deep inside. */
        wr_reset(&w);
        wr_i32(&w, 1);
        put_str(&w, "x");
        wr_i32(&w, 1);
        wr_i16(&w, 1);
        wr_i32(&w, 1);
        wr_i32(&w, 0);
        wr_i32(&w, 0x7fffffff);
        wr_i32(&w, 0);
        wr_i32(&w, 0);
        expect_fail(dec_create_topics, &w, v, EDDY_ERR_TRUNCATED, 256);
        /* A null config name. */
        wr_reset(&w);
        wr_i32(&w, 1);
        put_str(&w, "x");
        wr_i32(&w, 1);
        wr_i16(&w, 1);
        wr_i32(&w, 0);
        wr_i32(&w, 1);
        put_str(&w, NULL);
        put_str(&w, "v");
        wr_i32(&w, 0);
        if (v >= 1)
            wr_i8(&w, 0);
        expect_fail(dec_create_topics, &w, v, EDDY_ERR_INVALID_ARG, 256);
    }
    expect_fail(dec_create_topics, &w, 5, EDDY_ERR_INVALID_ARG, 0);
    wr_free(&w);
}
END_TEST

START_TEST(create_topics_response)
{
    CreatableTopicResult topics[] = {
        {.Name = kstr_c("a"), .ErrorCode = 0, .ErrorMessage = KSTR_NULL},
        {.Name = kstr_c("b"), .ErrorCode = 36, .ErrorMessage = kstr_c("exists")},
    };
    CreateTopicsResponse r = {.ThrottleTimeMs = 0, .Topics = topics, .TopicsCount = 2};
    eddy_wr_t got;
    wr_init(&got);
    wire_create_topics_resp_encode(&got, 0, &r);
    static const uint8_t v0[] = {0, 0, 0, 2, 0, 1, 'a', 0, 0, 0, 1, 'b', 0, 36};
    ck_assert_uint_eq(got.wr_len, sizeof v0);
    ck_assert_mem_eq(got.wr_buf, v0, sizeof v0);

    wr_reset(&got);
    wire_create_topics_resp_encode(&got, 1, &r);
    /* clang-format off */
    static const uint8_t v1[] = {0, 0, 0, 2,   0,   1,   'a', 0,   0,   0xff, 0xff, 0, 1,
                                 'b', 0, 36, 0, 6, 'e', 'x', 'i', 's', 't', 's'};
    /* clang-format on */
    ck_assert_uint_eq(got.wr_len, sizeof v1);
    ck_assert_mem_eq(got.wr_buf, v1, sizeof v1);

    for (int16_t v = 2; v <= 4; v++) {
        wr_reset(&got);
        wire_create_topics_resp_encode(&got, v, &r);
        ck_assert_uint_eq(got.wr_len, 4 + sizeof v1);
        static const uint8_t zero[] = {0, 0, 0, 0};
        ck_assert_mem_eq(got.wr_buf, zero, 4);
        ck_assert_mem_eq(got.wr_buf + 4, v1, sizeof v1);
    }
    wr_free(&got);
}
END_TEST

/* ---- DeleteTopics ---------------------------------------------------------- */

START_TEST(delete_topics)
{
    eddy_wr_t w;
    wr_init(&w);
    DeleteTopicsRequest r;
    decoded_t d;
    for (int16_t v = 0; v <= 1; v++) {
        wr_reset(&w);
        wr_i32(&w, 2);
        put_str(&w, "a");
        put_str(&w, "bb");
        wr_i32(&w, 1000);
        decode_ok(&d, dec_delete_topics, &w, v, &r, sizeof r);
        ck_assert_int_eq(r.TopicNamesCount, 2);
        ck_assert(kstr_eq(r.TopicNames[0], "a"));
        ck_assert(kstr_eq(r.TopicNames[1], "bb"));
        ck_assert_int_eq(r.TimeoutMs, 1000);
        decoded_free(&d);
        check_truncations(dec_delete_topics, &w, v, sizeof r);

        wr_reset(&w);
        wr_i32(&w, 0x7fffffff);
        wr_i32(&w, 1000);
        expect_fail(dec_delete_topics, &w, v, EDDY_ERR_TRUNCATED, 0);
    }
    expect_fail(dec_delete_topics, &w, 2, EDDY_ERR_INVALID_ARG, 0);

    DeletableTopicResult res[] = {{.Name = kstr_c("a"), .ErrorCode = 3}};
    DeleteTopicsResponse resp = {.ThrottleTimeMs = 0x0a, .Responses = res, .ResponsesCount = 1};
    wr_reset(&w);
    wire_delete_topics_resp_encode(&w, 0, &resp);
    static const uint8_t v0[] = {0, 0, 0, 1, 0, 1, 'a', 0, 3};
    ck_assert_uint_eq(w.wr_len, sizeof v0);
    ck_assert_mem_eq(w.wr_buf, v0, sizeof v0);
    wr_reset(&w);
    wire_delete_topics_resp_encode(&w, 1, &resp);
    static const uint8_t v1[] = {0, 0, 0, 0x0a, 0, 0, 0, 1, 0, 1, 'a', 0, 3};
    ck_assert_uint_eq(w.wr_len, sizeof v1);
    ck_assert_mem_eq(w.wr_buf, v1, sizeof v1);
    wr_free(&w);
}
END_TEST

/* ---- DeleteRecords --------------------------------------------------------- */

START_TEST(delete_records)
{
    eddy_wr_t w;
    wr_init(&w);
    DeleteRecordsRequest r;
    decoded_t d;
    for (int16_t v = 0; v <= 1; v++) {
        wr_reset(&w);
        wr_i32(&w, 1);
        put_str(&w, "t");
        wr_i32(&w, 2);
        wr_i32(&w, 0);
        wr_i64(&w, 10);
        wr_i32(&w, 1);
        wr_i64(&w, -1);
        wr_i32(&w, 2000);
        decode_ok(&d, dec_delete_records, &w, v, &r, sizeof r);
        ck_assert_int_eq(r.TopicsCount, 1);
        ck_assert(kstr_eq(r.Topics[0].Name, "t"));
        ck_assert_int_eq(r.Topics[0].PartitionsCount, 2);
        ck_assert_int_eq(r.Topics[0].Partitions[0].PartitionIndex, 0);
        ck_assert_int_eq(r.Topics[0].Partitions[0].Offset, 10);
        ck_assert_int_eq(r.Topics[0].Partitions[1].PartitionIndex, 1);
        ck_assert_int_eq(r.Topics[0].Partitions[1].Offset, -1);
        ck_assert_int_eq(r.TimeoutMs, 2000);
        decoded_free(&d);
        check_truncations(dec_delete_records, &w, v, sizeof r);

        wr_reset(&w);
        wr_i32(&w, 1);
        put_str(&w, "t");
        wr_i32(&w, 0x7fffffff);
        wr_i32(&w, 0);
        expect_fail(dec_delete_records, &w, v, EDDY_ERR_TRUNCATED, 64);
    }
    expect_fail(dec_delete_records, &w, 2, EDDY_ERR_INVALID_ARG, 0);

    DeleteRecordsPartitionResult pr[] = {{.PartitionIndex = 1, .LowWatermark = 10, .ErrorCode = 0}};
    DeleteRecordsTopicResult tr[] = {{.Name = kstr_c("t"), .Partitions = pr, .PartitionsCount = 1}};
    DeleteRecordsResponse resp = {.ThrottleTimeMs = 0, .Topics = tr, .TopicsCount = 1};
    /* clang-format off */
    static const uint8_t want[] = {0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 't', 0, 0, 0, 1,
                                   0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,   10, 0, 0};
    /* clang-format on */
    for (int16_t v = 0; v <= 1; v++) {
        wr_reset(&w);
        wire_delete_records_resp_encode(&w, v, &resp);
        ck_assert_uint_eq(w.wr_len, sizeof want);
        ck_assert_mem_eq(w.wr_buf, want, sizeof want);
    }
    wr_free(&w);
}
END_TEST

/* ---- DescribeConfigs -------------------------------------------------------- */

START_TEST(describe_configs_request)
{
    eddy_wr_t w;
    wr_init(&w);
    DescribeConfigsRequest r;
    decoded_t d;
    for (int16_t v = 0; v <= 1; v++) {
        wr_reset(&w);
        wr_i32(&w, 2);
        wr_i8(&w, CONFIG_RESOURCE_TOPIC);
        put_str(&w, "t");
        wr_i32(&w, -1); /* all keys */
        wr_i8(&w, CONFIG_RESOURCE_BROKER);
        put_str(&w, "1");
        wr_i32(&w, 2);
        put_str(&w, "log.retention.ms");
        put_str(&w, "num.partitions");
        if (v >= 1)
            wr_i8(&w, 1);
        decode_ok(&d, dec_describe_configs, &w, v, &r, sizeof r);
        ck_assert_int_eq(r.ResourcesCount, 2);
        ck_assert_int_eq(r.Resources[0].ResourceType, CONFIG_RESOURCE_TOPIC);
        ck_assert(kstr_eq(r.Resources[0].ResourceName, "t"));
        ck_assert_int_eq(r.Resources[0].ConfigurationKeysCount, -1);
        ck_assert_int_eq(r.Resources[1].ResourceType, CONFIG_RESOURCE_BROKER);
        ck_assert(kstr_eq(r.Resources[1].ResourceName, "1"));
        ck_assert_int_eq(r.Resources[1].ConfigurationKeysCount, 2);
        ck_assert(kstr_eq(r.Resources[1].ConfigurationKeys[0], "log.retention.ms"));
        ck_assert(kstr_eq(r.Resources[1].ConfigurationKeys[1], "num.partitions"));
        ck_assert_int_eq(r.IncludeSynonyms, v >= 1 ? 1 : 0);
        decoded_free(&d);
        check_truncations(dec_describe_configs, &w, v, sizeof r);

        wr_reset(&w);
        wr_i32(&w, 1);
        wr_i8(&w, 2);
        put_str(&w, "t");
        wr_i32(&w, 0x7fffffff);
        put_str(&w, "k");
        expect_fail(dec_describe_configs, &w, v, EDDY_ERR_TRUNCATED, 64);
    }
    expect_fail(dec_describe_configs, &w, 5, EDDY_ERR_INVALID_ARG, 0);
    wr_free(&w);
}
END_TEST

START_TEST(describe_configs_response)
{
    DescribeConfigsResourceResult cfg[] = {
        {.Name = kstr_c("k"),
         .Value = kstr_c("v"),
         .ReadOnly = 0,
         .IsDefault = 1,
         .ConfigSource = CONFIG_SOURCE_DEFAULT,
         .IsSensitive = 0},
        {.Name = kstr_c("s"),
         .Value = KSTR_NULL,
         .ReadOnly = 1,
         .IsDefault = 0,
         .ConfigSource = CONFIG_SOURCE_DYNAMIC_TOPIC,
         .IsSensitive = 1},
    };
    DescribeConfigsResult res[] = {{.ErrorCode = 0,
                                    .ErrorMessage = KSTR_NULL,
                                    .ResourceType = CONFIG_RESOURCE_TOPIC,
                                    .ResourceName = kstr_c("t"),
                                    .Configs = cfg,
                                    .ConfigsCount = 2}};
    DescribeConfigsResponse r = {.ThrottleTimeMs = 0, .Results = res, .ResultsCount = 1};
    eddy_wr_t got;
    wr_init(&got);
    wire_describe_configs_resp_encode(&got, 0, &r);
    /* clang-format off */
    static const uint8_t v0[] = {
        0, 0, 0, 0, 0, 0, 0, 1,          /* throttle, 1 result */
        0, 0, 0xff, 0xff, 2, 0, 1, 't',  /* error, null message, type, name */
        0, 0, 0, 2,                      /* 2 configs */
        0, 1, 'k', 0, 1, 'v', 0, 1, 0,   /* name, value, ReadOnly, IsDefault, IsSensitive */
        0, 1, 's', 0xff, 0xff, 1, 0, 1,  /* null value */
    };
    /* clang-format on */
    ck_assert_uint_eq(got.wr_len, sizeof v0);
    ck_assert_mem_eq(got.wr_buf, v0, sizeof v0);

    wr_reset(&got);
    wire_describe_configs_resp_encode(&got, 1, &r);
    /* clang-format off */
    static const uint8_t v1[] = {
        0, 0, 0, 0, 0, 0, 0, 1,
        0, 0, 0xff, 0xff, 2, 0, 1, 't',
        0, 0, 0, 2,
        0, 1, 'k', 0, 1, 'v', 0, 5, 0, 0, 0, 0, 0,  /* ConfigSource 5, no synonyms */
        0, 1, 's', 0xff, 0xff, 1, 1, 1, 0, 0, 0, 0, /* ConfigSource 1 */
    };
    /* clang-format on */
    ck_assert_uint_eq(got.wr_len, sizeof v1);
    ck_assert_mem_eq(got.wr_buf, v1, sizeof v1);
    wr_free(&got);
}
END_TEST

/* ---- the arena limit -------------------------------------------------------- */

START_TEST(arena_limit)
{
    /* Counts that fit the bytes but not the arena: -ENOMEM, cleanly. */
    eddy_wr_t w;
    wr_init(&w);
    wr_i32(&w, 1000);
    for (int i = 0; i < 1000; i++)
        put_str(&w, "");
    wr_i32(&w, 0);
    DeleteTopicsRequest r;
    decoded_t d;
    decode(&d, dec_delete_topics, &w, w.wr_len, 0, 1024, &r, sizeof r);
    ck_assert_int_eq(d.rc, -ENOMEM);
    ck_assert_uint_le(d.arena.ar_used, 1024);
    decoded_free(&d);
    decode(&d, dec_delete_topics, &w, w.wr_len, 0, 1 << 20, &r, sizeof r);
    ck_assert_int_eq(d.rc, 0);
    ck_assert_int_eq(r.TopicNamesCount, 1000);
    decoded_free(&d);

    /* Nested: the topics fit, the partitions of the third do not. */
    wr_reset(&w);
    put_str(&w, NULL);
    wr_i16(&w, 1);
    wr_i32(&w, 0);
    wr_i32(&w, 3);
    for (int t = 0; t < 3; t++) {
        put_str(&w, "t");
        wr_i32(&w, t == 2 ? 500 : 1);
        for (int p = 0; p < (t == 2 ? 500 : 1); p++) {
            wr_i32(&w, p);
            wr_i32(&w, -1);
        }
    }
    ProduceRequest pr;
    decode(&d, dec_produce, &w, w.wr_len, 3, 2048, &pr, sizeof pr);
    ck_assert_int_eq(d.rc, -ENOMEM);
    decoded_free(&d);
    wr_free(&w);
}
END_TEST

/* ---- the fuzzer's seed corpus ------------------------------------------------ */

/* Every seed in tests/fuzz/corpus/requests/ is a whole request the broker
 * decodes without a byte to spare, except the ones named *-unsupported. */
START_TEST(fuzz_seeds_decode)
{
    const char *dir = EDDY_SOURCE_DIR "/tests/fuzz/corpus/requests";
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int seen = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "rb");
        ck_assert_ptr_nonnull(f);
        uint8_t buf[4096];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        eddy_rd_t rd;
        rd_init(&rd, buf, n);
        RequestHeader h;
        ck_assert_int_eq(wire_request_header_decode(&rd, &h), 0);
        int supported = broker_api_supported(h.RequestApiKey, h.RequestApiVersion);
        ck_assert_msg(supported == (strstr(de->d_name, "-unsupported") == NULL), "%s", de->d_name);
        if (!supported)
            continue;
        static const dec_fn fns[API_KEY_MAX + 1] = {
            [API_API_VERSIONS] = dec_api_versions,
            [API_METADATA] = dec_metadata,
            [API_PRODUCE] = dec_produce,
            [API_FETCH] = dec_fetch,
            [API_LIST_OFFSETS] = dec_list_offsets,
            [API_CREATE_TOPICS] = dec_create_topics,
            [API_DELETE_TOPICS] = dec_delete_topics,
            [API_DELETE_RECORDS] = dec_delete_records,
            [API_DESCRIBE_CONFIGS] = dec_describe_configs,
            [API_FIND_COORDINATOR] = dec_find_coordinator,
            [API_JOIN_GROUP] = dec_join_group,
            [API_SYNC_GROUP] = dec_sync_group,
            [API_HEARTBEAT] = dec_heartbeat,
            [API_LEAVE_GROUP] = dec_leave_group,
            [API_OFFSET_COMMIT] = dec_offset_commit,
            [API_OFFSET_FETCH] = dec_offset_fetch,
            [API_DESCRIBE_GROUPS] = dec_describe_groups,
            [API_LIST_GROUPS] = dec_list_groups,
            [API_DELETE_GROUPS] = dec_delete_groups,
            [API_OFFSET_DELETE] = dec_offset_delete,
            [API_CREATE_PARTITIONS] = dec_create_partitions,
            [API_DESCRIBE_CLUSTER] = dec_describe_cluster,
            [API_DESCRIBE_ACLS] = dec_describe_acls,
            [API_CREATE_ACLS] = dec_create_acls,
            [API_DELETE_ACLS] = dec_delete_acls,
            [API_SASL_HANDSHAKE] = dec_sasl_handshake,
            [API_SASL_AUTHENTICATE] = dec_sasl_authenticate,
            [API_DESCRIBE_USER_SCRAM_CREDENTIALS] = dec_describe_user_scram,
            [API_ALTER_USER_SCRAM_CREDENTIALS] = dec_alter_user_scram,
            [API_DESCRIBE_CLIENT_QUOTAS] = dec_describe_client_quotas,
            [API_TXN_OFFSET_COMMIT] = dec_txn_offset_commit,
        };
        ck_assert_msg(fns[h.RequestApiKey] != NULL, "%s: no decoder in this test", de->d_name);
        union {
            FetchRequest f;
            CreateTopicsRequest c;
            JoinGroupRequest jg;
            OffsetCommitRequest oc;
            OffsetFetchRequest of;
            TxnOffsetCommitRequest toc;
            uint8_t any[256];
        } out;
        eddy_arena_t a;
        arena_init(&a, 1 << 20);
        int rc = fns[h.RequestApiKey](&rd, h.RequestApiVersion, &a, &out);
        ck_assert_msg(rc == 0, "%s: %s", de->d_name, eddy_strerror(rc));
        ck_assert_msg(rd_remaining(&rd) == 0, "%s: %zu bytes left", de->d_name, rd_remaining(&rd));
        arena_free(&a);
        seen++;
    }
    closedir(d);
    ck_assert_int_ge(seen, 80);
}
END_TEST

TCase *tcase_api_versions(void)
{
    TCase *tc = tcase_create("api_versions");
    tcase_add_test(tc, api_versions_request);
    tcase_add_test(tc, api_versions_librdkafka);
    tcase_add_test(tc, api_versions_response);
    return tc;
}

TCase *tcase_api_metadata(void)
{
    TCase *tc = tcase_create("api_metadata");
    tcase_add_test(tc, metadata_request);
    tcase_add_test(tc, metadata_response);
    return tc;
}

TCase *tcase_api_produce(void)
{
    TCase *tc = tcase_create("api_produce");
    tcase_add_test(tc, produce_request);
    tcase_add_test(tc, produce_response);
    return tc;
}

TCase *tcase_api_fetch(void)
{
    TCase *tc = tcase_create("api_fetch");
    tcase_add_test(tc, fetch_request);
    tcase_add_test(tc, fetch_response);
    return tc;
}

TCase *tcase_api_list_offsets(void)
{
    TCase *tc = tcase_create("api_list_offsets");
    tcase_add_test(tc, list_offsets_request);
    tcase_add_test(tc, list_offsets_response);
    return tc;
}

TCase *tcase_api_admin(void)
{
    TCase *tc = tcase_create("api_admin");
    tcase_add_test(tc, create_topics_request);
    tcase_add_test(tc, create_topics_response);
    tcase_add_test(tc, delete_topics);
    tcase_add_test(tc, delete_records);
    tcase_add_test(tc, describe_configs_request);
    tcase_add_test(tc, describe_configs_response);
    tcase_add_test(tc, arena_limit);
    tcase_add_test(tc, fuzz_seeds_decode);
    return tc;
}

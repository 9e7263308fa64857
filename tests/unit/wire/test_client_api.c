/* The client codecs (wire/client_api*.c) against the broker's (wire/api_*.c),
 * for every API and every version both speak:
 *   - client request encoder -> broker request decoder: the broker reads the
 *     fields the client wrote (and the defaults for fields the version
 *     lacks), every byte consumed;
 *   - broker response encoder -> client response decoder, the broker-side
 *     struct being the source of truth: same fields, defaults for the
 *     fields the version lacks, strings borrowed from the response bytes;
 *   - every strict prefix of every response fails cleanly; a huge, negative
 *     or null top-level count fails before anything is allocated; every
 *     4-byte and 2-byte window overwritten with hostile values either decodes
 *     or fails, never allocating out of proportion to the input;
 *   - what the client must refuse to encode (versions, nulls, fields the
 *     version cannot carry);
 *   - response bytes not written by Eddy's encoders: written field by field
 *     here from the apache/kafka JSON specs, and captured from librdkafka
 *     2.0.2's mock cluster (rdkafka_mock) and from `eddy broker`.
 * Every decode reads an exact-size heap copy, so ASan sees any over-read. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "wire/api.h"
#include "wire/api_acl.h"
#include "wire/api_cluster.h"
#include "wire/api_sasl.h"
#include "wire/api_group.h"
#include "wire/client_api.h"
#include "wire/proto.h"

#define ARENA_LIMIT ((size_t)1 << 26)

static kstr_t K(const char *s)
{
    return kstr_c(s);
}

/* ---- plumbing ------------------------------------------------------------ */

typedef int (*dec_fn)(eddy_rd_t *, int16_t, eddy_arena_t *, void *);
typedef void (*enc_fn)(eddy_wr_t *, int16_t, const void *);

#define CDEC(name, T)                                                                              \
    static int cdec_##name(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, void *o)                     \
    {                                                                                              \
        return wire_##name##_resp_decode(rd, v, a, (T *)o);                                        \
    }
#define BDEC(name, T)                                                                              \
    static int bdec_##name(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, void *o)                     \
    {                                                                                              \
        return wire_##name##_req_decode(rd, v, a, (T *)o);                                         \
    }
#define CENC(name, T)                                                                              \
    static void cenc_##name(eddy_wr_t *w, int16_t v, const void *r)                                \
    {                                                                                              \
        wire_##name##_req_encode(w, v, (const T *)r);                                              \
    }
#define BENC(name, T)                                                                              \
    static void benc_##name(eddy_wr_t *w, int16_t v, const void *r)                                \
    {                                                                                              \
        wire_##name##_resp_encode(w, v, (const T *)r);                                             \
    }
#define API(name, Req, Resp) CDEC(name, Resp) BDEC(name, Req) CENC(name, Req) BENC(name, Resp)

API(api_versions, ApiVersionsRequest, ApiVersionsResponse)
API(describe_user_scram, DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse)
API(alter_user_scram, AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse)
/* The client side only: test_client_sasl.c checks them against Kafka's bytes. */
CDEC(sasl_handshake, SaslHandshakeResponse)
CENC(sasl_handshake, SaslHandshakeRequest)
CDEC(sasl_authenticate, SaslAuthenticateResponse)
CENC(sasl_authenticate, SaslAuthenticateRequest)
API(metadata, MetadataRequest, MetadataResponse)
API(produce, ProduceRequest, ProduceResponse)
API(list_offsets, ListOffsetsRequest, ListOffsetsResponse)
API(create_topics, CreateTopicsRequest, CreateTopicsResponse)
API(delete_topics, DeleteTopicsRequest, DeleteTopicsResponse)
API(delete_records, DeleteRecordsRequest, DeleteRecordsResponse)
API(describe_configs, DescribeConfigsRequest, DescribeConfigsResponse)
CDEC(alter_configs, AlterConfigsResponse)
CENC(alter_configs, AlterConfigsRequest)
CDEC(incremental_alter_configs, AlterConfigsResponse)
CENC(incremental_alter_configs, AlterConfigsRequest)
/* The broker's codecs of the two share one function, by API key. */
static int bdec_alter_configs(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, void *o)
{
    return wire_alter_configs_req_decode(rd, API_ALTER_CONFIGS, v, a, o);
}
static void benc_alter_configs(eddy_wr_t *w, int16_t v, const void *r)
{
    wire_alter_configs_resp_encode(w, API_ALTER_CONFIGS, v, r);
}
static int bdec_incremental_alter_configs(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, void *o)
{
    return wire_alter_configs_req_decode(rd, API_INCREMENTAL_ALTER_CONFIGS, v, a, o);
}
static void benc_incremental_alter_configs(eddy_wr_t *w, int16_t v, const void *r)
{
    wire_alter_configs_resp_encode(w, API_INCREMENTAL_ALTER_CONFIGS, v, r);
}
API(find_coordinator, FindCoordinatorRequest, FindCoordinatorResponse)
API(join_group, JoinGroupRequest, JoinGroupResponse)
API(sync_group, SyncGroupRequest, SyncGroupResponse)
API(heartbeat, HeartbeatRequest, HeartbeatResponse)
API(leave_group, LeaveGroupRequest, LeaveGroupResponse)
API(offset_commit, OffsetCommitRequest, OffsetCommitResponse)
API(offset_fetch, OffsetFetchRequest, OffsetFetchResponse)
API(describe_groups, DescribeGroupsRequest, DescribeGroupsResponse)
API(delete_groups, DeleteGroupsRequest, DeleteGroupsResponse)
API(offset_delete, OffsetDeleteRequest, OffsetDeleteResponse)
API(create_partitions, CreatePartitionsRequest, CreatePartitionsResponse)
API(describe_cluster, DescribeClusterRequest, DescribeClusterResponse)
API(describe_acls, DescribeAclsRequest, DescribeAclsResponse)
API(create_acls, CreateAclsRequest, CreateAclsResponse)
API(delete_acls, DeleteAclsRequest, DeleteAclsResponse)
CDEC(list_groups, ListGroupsResponse)
BENC(list_groups, ListGroupsResponse)
CDEC(fetch, FetchResponse)
BDEC(fetch, FetchRequest)
CENC(fetch, FetchRequest)

static void cenc_list_groups(eddy_wr_t *w, int16_t v, const void *r)
{
    (void)r;
    wire_list_groups_req_encode(w, v);
}
static int bdec_list_groups(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, void *o)
{
    (void)o;
    return wire_list_groups_req_decode(rd, v, a, (ListGroupsRequest *)o);
}

/* The broker writes Fetch responses piecewise (wire_fetch_resp_*, then each
 * partition's records as int32 length + bytes, as broker/handlers.c does);
 * this drives those helpers from a FetchResponse. They always write an empty
 * AbortedTransactions and PreferredReadReplica -1. */
static void benc_fetch(eddy_wr_t *w, int16_t v, const void *p)
{
    const FetchResponse *r = p;
    wire_fetch_resp_begin(w, v, r->ThrottleTimeMs, r->ErrorCode, r->SessionId, r->ResponsesCount);
    for (int32_t i = 0; i < r->ResponsesCount; i++) {
        const FetchResponseTopic *t = &r->Responses[i];
        wire_fetch_resp_topic(w, v, t->Topic, t->PartitionsCount);
        for (int32_t j = 0; j < t->PartitionsCount; j++) {
            const FetchResponsePartition *fp = &t->Partitions[j];
            wire_fetch_resp_partition(w, v, fp->PartitionIndex, fp->ErrorCode, fp->HighWatermark,
                                      fp->LastStableOffset, fp->LogStartOffset);
            wr_kbytes(w, fp->Records);
        }
    }
}

/* One decode: an exact-size heap copy of the bytes, which decoded views
 * borrow until dec_done(). */
typedef struct dec_state {
    uint8_t *buf;
    size_t len;
    eddy_arena_t a;
    eddy_rd_t rd;
    int rc;
} dec_state_t;

static void run_dec(dec_state_t *d, dec_fn f, const uint8_t *p, size_t len, int16_t v, void *out,
                    size_t out_size, size_t limit)
{
    d->buf = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(d->buf);
    if (len)
        memcpy(d->buf, p, len);
    d->len = len;
    arena_init(&d->a, limit);
    rd_init(&d->rd, d->buf, len);
    memset(out, 0xa5, out_size); /* the decoder must set every field */
    d->rc = f(&d->rd, v, &d->a, out);
}

static void dec_done(dec_state_t *d)
{
    arena_free(&d->a);
    free(d->buf);
}

/* A decode expected to succeed and to consume every byte. */
static void dec_ok(dec_state_t *d, dec_fn f, const uint8_t *p, size_t len, int16_t v, void *out,
                   size_t out_size, const char *what)
{
    run_dec(d, f, p, len, v, out, out_size, ARENA_LIMIT);
    ck_assert_msg(d->rc == 0, "%s v%d: %s", what, v, eddy_strerror(d->rc));
    ck_assert_msg(rd_remaining(&d->rd) == 0, "%s v%d: %zu bytes left", what, v,
                  rd_remaining(&d->rd));
}

/* Client-encodes `in` at v, then the broker decodes it into `out`. */
static void req_rt(dec_state_t *d, enc_fn enc, dec_fn dec, int16_t v, const void *in, void *out,
                   size_t out_size, const char *what)
{
    eddy_wr_t w;
    wr_init(&w);
    enc(&w, v, in);
    ck_assert_msg(w.wr_err == 0, "%s v%d: encoder failed: %s", what, v, eddy_strerror(w.wr_err));
    dec_ok(d, dec, w.wr_buf, w.wr_len, v, out, out_size, what);
    wr_free(&w);
}

/* The hostile-input checks on a valid response body (see the top). count_at
 * is the offset of the top-level int32 array count, or -1. */
static void check_hostile(dec_fn f, int16_t v, const uint8_t *p, size_t len, size_t out_size,
                          long count_at, const char *what)
{
    void *scratch = malloc(out_size);
    uint8_t *m = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(scratch);
    ck_assert_ptr_nonnull(m);
    dec_state_t d;
    for (size_t n = 0; n < len; n++) {
        run_dec(&d, f, p, n, v, scratch, out_size, ARENA_LIMIT);
        ck_assert_msg(d.rc != 0 && d.rc != -ENOMEM, "%s v%d: prefix %zu of %zu: rc %d", what, v, n,
                      len, d.rc);
        dec_done(&d);
    }
    if (count_at >= 0) {
        ck_assert((size_t)count_at + 4 <= len);
        static const struct {
            uint32_t count;
            int rc;
        } bad[] = {
            {0x7fffffffu, EDDY_ERR_TRUNCATED},   {0x10000000u, EDDY_ERR_TRUNCATED},
            {0x00100000u, EDDY_ERR_TRUNCATED},   {0xfffffffeu, EDDY_ERR_INVALID_ARG},
            {0x80000000u, EDDY_ERR_INVALID_ARG}, {0xffffffffu, EDDY_ERR_INVALID_ARG}, /* null */
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            memcpy(m, p, len);
            be32_store(m + count_at, bad[i].count);
            run_dec(&d, f, m, len, v, scratch, out_size, ARENA_LIMIT);
            ck_assert_msg(d.rc == bad[i].rc, "%s v%d: count 0x%x: rc %d", what, v, bad[i].count,
                          d.rc);
            ck_assert_msg(d.a.ar_used == 0, "%s v%d: count 0x%x: %zu bytes allocated", what, v,
                          bad[i].count, d.a.ar_used);
            dec_done(&d);
        }
    }
    static const uint32_t w4[] = {0x7fffffffu, 0x80000000u, 0xffffffffu, 0xfffffffeu,
                                  0x0000ffffu, 0x00100000u, 0x01000000u};
    static const uint16_t w2[] = {0x7fff, 0xffff, 0xfffe, 0x8000};
    size_t bound = 64 * len + 4096;
    for (size_t i = 0; i + 4 <= len; i++) {
        for (size_t k = 0; k < sizeof w4 / sizeof w4[0]; k++) {
            memcpy(m, p, len);
            be32_store(m + i, w4[k]);
            run_dec(&d, f, m, len, v, scratch, out_size, ARENA_LIMIT);
            ck_assert_msg(d.rc != -ENOMEM && d.a.ar_used <= bound,
                          "%s v%d: 0x%x at %zu: rc %d, %zu bytes allocated", what, v, w4[k], i,
                          d.rc, d.a.ar_used);
            dec_done(&d);
        }
    }
    for (size_t i = 0; i + 2 <= len; i++) {
        for (size_t k = 0; k < sizeof w2 / sizeof w2[0]; k++) {
            memcpy(m, p, len);
            be16_store(m + i, w2[k]);
            run_dec(&d, f, m, len, v, scratch, out_size, ARENA_LIMIT);
            ck_assert_msg(d.rc != -ENOMEM && d.a.ar_used <= bound,
                          "%s v%d: 0x%x at %zu: rc %d, %zu bytes allocated", what, v, w2[k], i,
                          d.rc, d.a.ar_used);
            dec_done(&d);
        }
    }
    free(m);
    free(scratch);
}

/* Broker-encodes `in` at v, runs the hostile checks on the bytes, then the
 * client decodes them into `out` (kept alive in d for the comparison). */
static void resp_rt(dec_state_t *d, enc_fn enc, dec_fn dec, int16_t v, const void *in, void *out,
                    size_t out_size, long count_at, const char *what)
{
    eddy_wr_t w;
    wr_init(&w);
    enc(&w, v, in);
    ck_assert_int_eq(w.wr_err, 0);
    check_hostile(dec, v, w.wr_buf, w.wr_len, out_size, count_at, what);
    dec_ok(d, dec, w.wr_buf, w.wr_len, v, out, out_size, what);
    wr_free(&w);
}

/* A decoded string equals the expected one and, when it has bytes, borrows
 * them from the decoded buffer. */
static void kstr_check(const dec_state_t *d, kstr_t got, kstr_t want, const char *what, int v,
                       int line)
{
    if (want.len < 0) {
        ck_assert_msg(got.len == -1, "line %d v%d: %s: want null, got len %d", line, v, what,
                      got.len);
        return;
    }
    ck_assert_msg(got.len == want.len &&
                      (want.len == 0 || memcmp(got.ptr, want.ptr, (size_t)want.len) == 0),
                  "line %d v%d: %s: want \"%.*s\", got len %d", line, v, what, want.len, want.ptr,
                  got.len);
    if (got.len > 0)
        ck_assert_msg((const uint8_t *)got.ptr >= d->buf &&
                          (const uint8_t *)got.ptr + got.len <= d->buf + d->len,
                      "line %d v%d: %s is not borrowed from the input", line, v, what);
}

#define KS(got, want) kstr_check(&d, (got), (want), #got, v, __LINE__)
#define EQ(got, want)                                                                              \
    ck_assert_msg((int64_t)(got) == (int64_t)(want), "line %d v%d: %s = %lld, want %lld",          \
                  __LINE__, v, #got, (long long)(got), (long long)(want))

static void expect_enc(enc_fn enc, int16_t v, const void *r, int want, const char *what)
{
    eddy_wr_t w;
    wr_init(&w);
    enc(&w, v, r);
    ck_assert_msg(w.wr_err == want, "%s v%d: wr_err %d (%s), want %d", what, v, w.wr_err,
                  eddy_strerror(w.wr_err), want);
    wr_free(&w);
}

/* The client's range for an API (the broker table). */
static void range_of(int api, int *lo, int *hi)
{
    for (int i = 0; i < broker_api_versions_count; i++)
        if (broker_api_versions[i].api_key == api) {
            *lo = broker_api_versions[i].min;
            *hi = broker_api_versions[i].max;
            return;
        }
    ck_abort_msg("api %d not in the table", api);
}

#define FOR_VERSIONS(api, v)                                                                       \
    int lo_##api, hi_##api;                                                                        \
    range_of(api, &lo_##api, &hi_##api);                                                           \
    for (int16_t v = (int16_t)lo_##api; v <= hi_##api; v++)

/* ---- headers and version picking ------------------------------------------ */

START_TEST(request_header)
{
    for (int i = 0; i < broker_api_versions_count; i++) {
        const api_version_range_t *r = &broker_api_versions[i];
        for (int16_t v = r->min; v <= r->max; v++) {
            for (int with_id = 0; with_id < 2; with_id++) {
                RequestHeader h = {r->api_key, v, 0x01020304 + v,
                                   with_id ? K("eddy-client") : KSTR_NULL, 99};
                eddy_wr_t w;
                wr_init(&w);
                wire_request_header_encode(&w, &h);
                ck_assert_int_eq(w.wr_err, 0);
                int flexible = kafka_is_flexible(r->api_key, v);
                size_t want_len = 2 + 2 + 4 + 2 + (with_id ? 11u : 0u) + (flexible ? 1u : 0u);
                ck_assert_uint_eq(w.wr_len, want_len);
                RequestHeader got;
                dec_state_t d;
                d.buf = malloc(w.wr_len);
                memcpy(d.buf, w.wr_buf, w.wr_len);
                d.len = w.wr_len;
                rd_init(&d.rd, d.buf, d.len);
                ck_assert_int_eq(wire_request_header_decode(&d.rd, &got), 0);
                ck_assert_uint_eq(rd_remaining(&d.rd), 0);
                EQ(got.RequestApiKey, r->api_key);
                EQ(got.RequestApiVersion, v);
                EQ(got.CorrelationId, h.CorrelationId);
                EQ(got.header_version, flexible ? 2 : 1);
                KS(got.ClientId, h.ClientId);
                free(d.buf);
                wr_free(&w);
            }
        }
    }
    /* ApiVersions v3 is header v2: the tag byte after the client id. */
    RequestHeader h = {API_API_VERSIONS, 3, 7, K("c"), 1};
    eddy_wr_t w;
    wr_init(&w);
    wire_request_header_encode(&w, &h);
    static const uint8_t want[] = {0, 18, 0, 3, 0, 0, 0, 7, 0, 1, 'c', 0};
    ck_assert_uint_eq(w.wr_len, sizeof want);
    ck_assert(memcmp(w.wr_buf, want, sizeof want) == 0);
    wr_free(&w);
}
END_TEST

static int resp_header(const uint8_t *p, size_t len, int api, int v, int32_t *corr, size_t *left)
{
    uint8_t *b = malloc(len ? len : 1);
    if (len)
        memcpy(b, p, len);
    eddy_rd_t rd;
    rd_init(&rd, b, len);
    int rc = wire_response_header_decode(&rd, api, v, corr);
    *left = rd_remaining(&rd);
    free(b);
    return rc;
}

START_TEST(response_header)
{
    for (int i = 0; i < broker_api_versions_count; i++) {
        const api_version_range_t *r = &broker_api_versions[i];
        for (int16_t v = r->min; v <= r->max; v++) {
            RequestHeader req = {r->api_key, v, -12345 - v, K("x"), 1};
            eddy_wr_t w;
            wr_init(&w);
            wire_response_header_encode(&w, &req);
            int32_t corr = 0;
            size_t left = 1;
            ck_assert_int_eq(resp_header(w.wr_buf, w.wr_len, r->api_key, v, &corr, &left), 0);
            ck_assert_int_eq(corr, req.CorrelationId);
            ck_assert_uint_eq(left, 0);
            for (size_t n = 0; n < w.wr_len; n++)
                ck_assert_int_eq(resp_header(w.wr_buf, n, r->api_key, v, &corr, &left),
                                 EDDY_ERR_TRUNCATED);
            wr_free(&w);
        }
    }
    /* ApiVersions v3 answers with header v0: no tag byte is read, the body's
     * first byte stays unread. */
    static const uint8_t av[] = {0, 0, 0, 9, 0x00};
    int32_t corr;
    size_t left;
    ck_assert_int_eq(resp_header(av, sizeof av, API_API_VERSIONS, 3, &corr, &left), 0);
    ck_assert_int_eq(corr, 9);
    ck_assert_uint_eq(left, 1);
    /* A flexible response header (Metadata v9, ResponseHeader v1) carries
     * tagged fields: one tag (0, two bytes) is skipped. */
    static const uint8_t flex[] = {0, 0, 1, 0, 1, 0, 2, 0xaa, 0xbb};
    ck_assert_int_eq(resp_header(flex, sizeof flex, API_METADATA, 9, &corr, &left), 0);
    ck_assert_int_eq(corr, 256);
    ck_assert_uint_eq(left, 0);
    ck_assert_int_eq(resp_header(flex, sizeof flex - 1, API_METADATA, 9, &corr, &left),
                     EDDY_ERR_TRUNCATED);
}
END_TEST

START_TEST(pick_version)
{
    for (int i = 0; i < broker_api_versions_count; i++) {
        const api_version_range_t *r = &broker_api_versions[i];
        /* The client speaks SaslHandshake at v1 only, whatever a broker
         * serves (test_client_sasl.c checks its range). */
        if (r->api_key == API_SASL_HANDSHAKE)
            continue;
        ck_assert_int_eq(wire_pick_version(r->api_key, r->min, r->max), r->max);
        ck_assert_int_eq(wire_pick_version(r->api_key, 0, 100), r->max);
        ck_assert_int_eq(wire_pick_version(r->api_key, r->min, r->min), r->min);
        ck_assert_int_eq(wire_pick_version(r->api_key, r->max + 1, r->max + 5), -1);
        if (r->min > 0)
            ck_assert_int_eq(wire_pick_version(r->api_key, 0, r->min - 1), -1);
        ck_assert_int_eq(wire_pick_version(r->api_key, r->max, r->min - 1), -1); /* empty */
    }
    /* Overlaps. */
    ck_assert_int_eq(wire_pick_version(API_FETCH, 0, 6), 6);
    ck_assert_int_eq(wire_pick_version(API_FETCH, 0, 13), 11);
    ck_assert_int_eq(wire_pick_version(API_FETCH, 0, 3), -1);
    ck_assert_int_eq(wire_pick_version(API_PRODUCE, 0, 9), 7);
    ck_assert_int_eq(wire_pick_version(API_PRODUCE, 8, 9), -1);
    ck_assert_int_eq(wire_pick_version(API_METADATA, 0, 12), 12);
    ck_assert_int_eq(wire_pick_version(API_METADATA, 0, 13), 12);
    ck_assert_int_eq(wire_pick_version(API_API_VERSIONS, 0, 2), 2);
    /* APIs the client does not speak. */
    ck_assert_int_eq(wire_pick_version(API_INIT_PRODUCER_ID, 0, 6), 5);
    ck_assert_int_eq(wire_pick_version(-1, 0, 4), -1);
    ck_assert_int_eq(wire_pick_version(1000, 0, 4), -1);
}
END_TEST

/* ---- InitProducerId ------------------------------------------------------ */

/* The bytes of Kafka's InitProducerIdRequest.json: legacy below v2, compact
 * and tagged from v2, ProducerId and ProducerEpoch from v3; the response
 * has the same four fields at every version. */
START_TEST(init_producer_id)
{
    /* Spoken by the client (v0-5) whatever the broker of this build
     * serves; so is EndTxn for the transactional producer, but never v5+
     * (transactions v2). */
    ck_assert_int_eq(wire_pick_version(API_INIT_PRODUCER_ID, 0, 4), 4);
    ck_assert_int_eq(wire_pick_version(API_INIT_PRODUCER_ID, 6, 6), -1);
    ck_assert_int_eq(wire_pick_version(API_END_TXN, 0, 5), 4);
    ck_assert_int_eq(wire_pick_version(API_END_TXN, 5, 5), -1);
    InitProducerIdRequest req = {KSTR_NULL, 60000, -1, -1};
    eddy_wr_t w;
    wr_init(&w);
    wire_init_producer_id_req_encode(&w, 1, &req);
    static const uint8_t v1[] = {0xff, 0xff, 0, 0, 0xea, 0x60};
    ck_assert_int_eq(w.wr_err, 0);
    ck_assert_uint_eq(w.wr_len, sizeof v1);
    ck_assert_int_eq(memcmp(w.wr_buf, v1, sizeof v1), 0);
    wr_reset(&w);
    req.ProducerId = 7;
    req.ProducerEpoch = 3;
    wire_init_producer_id_req_encode(&w, 3, &req);
    static const uint8_t v3[] = {0, 0, 0, 0xea, 0x60, 0, 0, 0, 0, 0, 0, 0, 7, 0, 3, 0};
    ck_assert_int_eq(w.wr_err, 0);
    ck_assert_uint_eq(w.wr_len, sizeof v3);
    ck_assert_int_eq(memcmp(w.wr_buf, v3, sizeof v3), 0);
    wr_reset(&w);
    /* An id to bump cannot be said below v3; v6 is not spoken. */
    wire_init_producer_id_req_encode(&w, 2, &req);
    ck_assert_int_eq(w.wr_err, EDDY_ERR_INVALID_ARG);
    wr_free(&w);
    wr_init(&w);
    req.ProducerId = req.ProducerEpoch = -1;
    wire_init_producer_id_req_encode(&w, 6, &req);
    ck_assert_int_eq(w.wr_err, EDDY_ERR_INVALID_ARG);
    wr_free(&w);

    static const uint8_t r0[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x2c, 0, 2};
    static const uint8_t r2[] = {0,    0,    0,    5,    0,    0x2f, 0xff, 0xff, 0xff,
                                 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0};
    InitProducerIdResponse resp;
    eddy_rd_t rd;
    rd_init(&rd, r0, sizeof r0);
    ck_assert_int_eq(wire_init_producer_id_resp_decode(&rd, 0, &resp), 0);
    ck_assert_int_eq(resp.ErrorCode, 0);
    ck_assert_int_eq(resp.ProducerId, 300);
    ck_assert_int_eq(resp.ProducerEpoch, 2);
    rd_init(&rd, r2, sizeof r2);
    ck_assert_int_eq(wire_init_producer_id_resp_decode(&rd, 2, &resp), 0);
    ck_assert_int_eq(resp.ThrottleTimeMs, 5);
    ck_assert_int_eq(resp.ErrorCode, KERR_INVALID_PRODUCER_EPOCH);
    ck_assert_int_eq(resp.ProducerId, -1);
    ck_assert_uint_eq(rd_remaining(&rd), 0);
    rd_init(&rd, r2, sizeof r2 - 1); /* the tags cut off */
    ck_assert_int_ne(wire_init_producer_id_resp_decode(&rd, 2, &resp), 0);
}
END_TEST

/* ---- ApiVersions -------------------------------------------------------- */

START_TEST(api_versions)
{
    FOR_VERSIONS(API_API_VERSIONS, v)
    {
        dec_state_t d;
        ApiVersionsRequest in = {K("eddy"), K("0.1.0")}, out;
        req_rt(&d, cenc_api_versions, bdec_api_versions, v, &in, &out, sizeof out, "ApiVersions");
        ck_assert_uint_eq(d.len, v >= 3 ? 1 + 4 + 1 + 5 + 1 : 0);
        KS(out.ClientSoftwareName, v >= 3 ? in.ClientSoftwareName : KSTR_NULL);
        KS(out.ClientSoftwareVersion, v >= 3 ? in.ClientSoftwareVersion : KSTR_NULL);
        dec_done(&d);

        ApiVersionsResponse rin = {KERR_NONE, broker_api_versions, broker_api_versions_count, 7},
                            rout;
        resp_rt(&d, benc_api_versions, cdec_api_versions, v, &rin, &rout, sizeof rout,
                v >= 3 ? -1 : 2, "ApiVersions");
        EQ(rout.ErrorCode, 0);
        EQ(rout.ApiKeysCount, rin.ApiKeysCount);
        for (int32_t i = 0; i < rout.ApiKeysCount; i++) {
            EQ(rout.ApiKeys[i].api_key, rin.ApiKeys[i].api_key);
            EQ(rout.ApiKeys[i].min, rin.ApiKeys[i].min);
            EQ(rout.ApiKeys[i].max, rin.ApiKeys[i].max);
        }
        EQ(rout.ThrottleTimeMs, v >= 1 ? 7 : 0);
        dec_done(&d);
    }
}
END_TEST

/* An ApiVersions v3 body (ApiVersionsResponse.json) with the tagged fields
 * a Kafka 3.x broker sends, and the fallbacks. */
START_TEST(api_versions_flexible_and_fallback)
{
    int16_t v = 3;
    dec_state_t d;
    ApiVersionsResponse r;
    /* clang-format off */
    static const uint8_t v3[] = {
        0x00, 0x00,                         /* ErrorCode */
        0x03,                               /* ApiKeys: 2 (compact) */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x00, /* Produce 0-9, no tags */
        0x00, 0x12, 0x00, 0x00, 0x00, 0x03, 0x01, 0x05, 0x02, 0xde, 0xad, /* ApiVersions, tagged */
        0x00, 0x00, 0x00, 0x00,             /* ThrottleTimeMs */
        0x02,                               /* 2 tagged fields: */
        0x01, 0x08, 0, 0, 0, 0, 0, 0, 0, 5, /* FinalizedFeaturesEpoch 5 */
        0x03, 0x01, 0x00,                   /* ZkMigrationReady false */
    };
    /* clang-format on */
    dec_ok(&d, cdec_api_versions, v3, sizeof v3, v, &r, sizeof r, "v3 body");
    EQ(r.ErrorCode, 0);
    EQ(r.ApiKeysCount, 2);
    EQ(r.ApiKeys[1].api_key, 18);
    EQ(r.ApiKeys[1].max, 3);
    EQ(r.ThrottleTimeMs, 0);
    dec_done(&d);
    check_hostile(cdec_api_versions, v, v3, sizeof v3, sizeof r, -1, "v3 body");
    /* A huge compact count: refused before allocation. */
    static const uint8_t huge[] = {0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x07, 0, 0, 0, 0, 0};
    run_dec(&d, cdec_api_versions, huge, sizeof huge, v, &r, sizeof r, ARENA_LIMIT);
    EQ(d.rc, EDDY_ERR_TRUNCATED);
    EQ(d.a.ar_used, 0);
    dec_done(&d);
    /* Null ApiKeys (compact 0) is not allowed. */
    static const uint8_t nul[] = {0x00, 0x00, 0x00, 0, 0, 0, 0, 0};
    run_dec(&d, cdec_api_versions, nul, sizeof nul, v, &r, sizeof r, ARENA_LIMIT);
    EQ(d.rc, EDDY_ERR_INVALID_ARG);
    dec_done(&d);

    /* The broker did not speak the version asked: v0 body, UNSUPPORTED_VERSION
     * and its ranges, exactly what Eddy's server sends (respond_unsupported). */
    ApiVersionsResponse unsup = {KERR_UNSUPPORTED_VERSION, broker_api_versions,
                                 broker_api_versions_count, 0};
    eddy_wr_t w;
    wr_init(&w);
    wire_api_versions_resp_encode(&w, 0, &unsup);
    for (v = 1; v <= 3; v++) {
        dec_ok(&d, cdec_api_versions, w.wr_buf, w.wr_len, v, &r, sizeof r, "v0 fallback");
        EQ(r.ErrorCode, KERR_UNSUPPORTED_VERSION);
        EQ(r.ApiKeysCount, broker_api_versions_count);
        EQ(r.ApiKeys[4].api_key, broker_api_versions[4].api_key);
        EQ(r.ThrottleTimeMs, 0);
        dec_done(&d);
    }
    wr_free(&w);
    /* ... but one encoded at the version asked is read at that version. */
    for (v = 1; v <= 3; v++) {
        unsup.ThrottleTimeMs = 3;
        wr_init(&w);
        wire_api_versions_resp_encode(&w, v, &unsup);
        dec_ok(&d, cdec_api_versions, w.wr_buf, w.wr_len, v, &r, sizeof r, "error at v");
        EQ(r.ErrorCode, KERR_UNSUPPORTED_VERSION);
        EQ(r.ApiKeysCount, broker_api_versions_count);
        EQ(r.ThrottleTimeMs, 3);
        dec_done(&d);
        wr_free(&w);
    }
    /* The request: v3 needs its two strings; below v3 they are dropped. */
    ApiVersionsRequest bad = {KSTR_NULL, K("1")};
    expect_enc(cenc_api_versions, 3, &bad, EDDY_ERR_INVALID_ARG, "null software name");
    expect_enc(cenc_api_versions, 2, &bad, 0, "v2 ignores it");
    expect_enc(cenc_api_versions, 4, &bad, EDDY_ERR_INVALID_ARG, "v4");
    expect_enc(cenc_api_versions, -1, &bad, EDDY_ERR_INVALID_ARG, "v-1");
}
END_TEST

/* ---- Metadata --------------------------------------------------------------- */

START_TEST(metadata)
{
    FOR_VERSIONS(API_METADATA, v)
    {
        dec_state_t d;
        kstr_t names[] = {K("orders"), K("logs")};
        for (int auto_create = 0; auto_create < 2; auto_create++) {
            if (v < 4 && !auto_create)
                continue;
            MetadataRequest in = {names, 2, (int8_t)auto_create}, out;
            req_rt(&d, cenc_metadata, bdec_metadata, v, &in, &out, sizeof out, "Metadata");
            EQ(out.TopicsCount, 2);
            KS(out.Topics[0], names[0]);
            KS(out.Topics[1], names[1]);
            EQ(out.AllowAutoTopicCreation, v >= 4 ? auto_create : 1);
            dec_done(&d);
        }
        /* All topics: null from v1, the empty array at v0; both read as -1. */
        MetadataRequest all = {NULL, -1, 1}, out;
        req_rt(&d, cenc_metadata, bdec_metadata, v, &all, &out, sizeof out, "Metadata all");
        EQ(out.TopicsCount, -1);
        /* The null array (v9+: compact, one byte), AllowAutoTopicCreation (v4+),
         * the two authorized-operations flags (v8-10; v11+ only the topic's),
         * tags (v9+). */
        size_t tail = (v >= 4 ? 1u : 0u) + (v >= 8 ? (v <= 10 ? 2u : 1u) : 0u) + (v >= 9 ? 1u : 0u);
        ck_assert_uint_eq(d.len, (v >= 9 ? 1u : 4u) + tail);
        if (v >= 9)
            ck_assert_uint_eq(d.buf[0], 0);
        else
            ck_assert(memcmp(d.buf, v == 0 ? "\0\0\0\0" : "\xff\xff\xff\xff", 4) == 0);
        dec_done(&d);
        MetadataRequest none = {NULL, 0, 1};
        if (v >= 1) {
            req_rt(&d, cenc_metadata, bdec_metadata, v, &none, &out, sizeof out, "Metadata none");
            EQ(out.TopicsCount, 0);
            dec_done(&d);
        } else {
            expect_enc(cenc_metadata, v, &none, EDDY_ERR_INVALID_ARG, "v0 no topics");
        }
        MetadataRequest no_auto = {names, 2, 0};
        expect_enc(cenc_metadata, v, &no_auto, v >= 4 ? 0 : EDDY_ERR_INVALID_ARG, "no auto-create");
        MetadataRequest bad_count = {names, -2, 1};
        expect_enc(cenc_metadata, v, &bad_count, EDDY_ERR_INVALID_ARG, "count -2");
        MetadataRequest no_array = {NULL, 2, 1};
        expect_enc(cenc_metadata, v, &no_array, EDDY_ERR_INVALID_ARG, "no array");
        kstr_t with_null[] = {K("a"), KSTR_NULL};
        MetadataRequest null_name = {with_null, 2, 1};
        expect_enc(cenc_metadata, v, &null_name, EDDY_ERR_INVALID_ARG, "null name");

        int32_t replicas[] = {1, 2, 3}, isr[] = {1, 3}, offline[] = {2};
        MetadataResponseBroker brokers[] = {{1, K("host-a"), 9092, K("rack-1")},
                                            {2, K("host-b"), 9093, KSTR_NULL}};
        MetadataResponsePartition parts[] = {{0, 0, 1, replicas, 3, isr, 2, NULL, 0},
                                             {KERR_KAFKA_STORAGE_ERROR, 1, 1, replicas, 0, isr, 0,
                                              offline, 1}};
        MetadataResponseTopic topics[] = {{0, K("orders"), 0, parts, 2},
                                          {KERR_UNKNOWN_TOPIC_OR_PARTITION, K("nope"), 0, NULL, 0},
                                          {0, K("__consumer_offsets"), 1, parts, 1}};
        MetadataResponse rin = {11, brokers, 2, K("cluster-x"), 2, topics, 3}, rout;
        resp_rt(&d, benc_metadata, cdec_metadata, v, &rin, &rout, sizeof rout,
                v >= 9   ? -1
                : v >= 3 ? 4
                         : 0,
                "Metadata");
        EQ(rout.ThrottleTimeMs, v >= 3 ? 11 : 0);
        EQ(rout.BrokersCount, 2);
        for (int i = 0; i < 2; i++) {
            EQ(rout.Brokers[i].NodeId, brokers[i].NodeId);
            KS(rout.Brokers[i].Host, brokers[i].Host);
            EQ(rout.Brokers[i].Port, brokers[i].Port);
            KS(rout.Brokers[i].Rack, v >= 1 ? brokers[i].Rack : KSTR_NULL);
        }
        KS(rout.ClusterId, v >= 2 ? rin.ClusterId : KSTR_NULL);
        EQ(rout.ControllerId, v >= 1 ? 2 : -1);
        EQ(rout.TopicsCount, 3);
        for (int i = 0; i < 3; i++) {
            const MetadataResponseTopic *t = &topics[i], *g = &rout.Topics[i];
            EQ(g->ErrorCode, t->ErrorCode);
            KS(g->Name, t->Name);
            EQ(g->IsInternal, v >= 1 ? t->IsInternal : 0);
            EQ(g->PartitionsCount, t->PartitionsCount);
            for (int j = 0; j < t->PartitionsCount; j++) {
                const MetadataResponsePartition *p = &t->Partitions[j], *q = &g->Partitions[j];
                EQ(q->ErrorCode, p->ErrorCode);
                EQ(q->PartitionIndex, p->PartitionIndex);
                EQ(q->LeaderId, p->LeaderId);
                EQ(q->ReplicaNodesCount, p->ReplicaNodesCount);
                for (int k = 0; k < p->ReplicaNodesCount; k++)
                    EQ(q->ReplicaNodes[k], p->ReplicaNodes[k]);
                EQ(q->IsrNodesCount, p->IsrNodesCount);
                for (int k = 0; k < p->IsrNodesCount; k++)
                    EQ(q->IsrNodes[k], p->IsrNodes[k]);
                /* v5+: the offline replicas (an offline partition's broker). */
                EQ(q->OfflineReplicasCount, v >= 5 ? p->OfflineReplicasCount : 0);
                for (int k = 0; k < q->OfflineReplicasCount; k++)
                    EQ(q->OfflineReplicas[k], p->OfflineReplicas[k]);
            }
        }
        dec_done(&d);
        /* A null ClusterId (v2+) and a null Rack (v1+) are allowed; a null
         * Host is not. */
        rin.ClusterId = KSTR_NULL;
        resp_rt(&d, benc_metadata, cdec_metadata, v, &rin, &rout, sizeof rout, -1, "Metadata");
        KS(rout.ClusterId, KSTR_NULL);
        dec_done(&d);
        brokers[1].Host = KSTR_NULL;
        eddy_wr_t w;
        wr_init(&w);
        wire_metadata_resp_encode(&w, v, &rin);
        run_dec(&d, cdec_metadata, w.wr_buf, w.wr_len, v, &rout, sizeof rout, ARENA_LIMIT);
        EQ(d.rc, EDDY_ERR_INVALID_ARG);
        EQ(rout.BrokersCount, 0);
        EQ(rout.TopicsCount, 0);
        dec_done(&d);
        wr_free(&w);
    }
}
END_TEST

/* ---- Produce ---------------------------------------------------------------- */

START_TEST(produce)
{
    FOR_VERSIONS(API_PRODUCE, v)
    {
        dec_state_t d;
        ProduceRequestPartition pd[] = {{0, {"BATCH-0", 7}}, {3, KSTR_NULL}, {4, {"", 0}}};
        ProduceRequestTopic td[] = {{K("orders"), pd, 3}, {K("empty"), NULL, 0}};
        for (int txn = 0; txn < 2; txn++) {
            ProduceRequest in = {txn ? K("txn-1") : KSTR_NULL, -1, 30000, td, 2}, out;
            req_rt(&d, cenc_produce, bdec_produce, v, &in, &out, sizeof out, "Produce");
            KS(out.TransactionalId, in.TransactionalId);
            EQ(out.Acks, -1);
            EQ(out.TimeoutMs, 30000);
            EQ(out.TopicDataCount, 2);
            for (int i = 0; i < 2; i++) {
                KS(out.TopicData[i].Name, td[i].Name);
                EQ(out.TopicData[i].PartitionDataCount, td[i].PartitionDataCount);
                for (int j = 0; j < td[i].PartitionDataCount; j++) {
                    EQ(out.TopicData[i].PartitionData[j].Index, td[i].PartitionData[j].Index);
                    KS(out.TopicData[i].PartitionData[j].Records, td[i].PartitionData[j].Records);
                }
            }
            dec_done(&d);
        }
        ProduceRequestTopic null_name[] = {{KSTR_NULL, pd, 1}};
        ProduceRequest bad = {KSTR_NULL, 1, 1000, null_name, 1};
        expect_enc(cenc_produce, v, &bad, EDDY_ERR_INVALID_ARG, "null topic");
        ProduceRequest null_topics = {KSTR_NULL, 1, 1000, NULL, -1};
        expect_enc(cenc_produce, v, &null_topics, EDDY_ERR_INVALID_ARG, "null topics");

        ProduceResponsePartition pr[] = {{0, 0, 100, -1, 7},
                                         {3, KERR_NOT_LEADER_OR_FOLLOWER, -1, -1, -1},
                                         {4, 0, 5, 1700000000000, 0}};
        ProduceResponseTopic rt[] = {{K("orders"), pr, 3}, {K("empty"), NULL, 0}};
        ProduceResponse rin = {rt, 2, 17}, rout;
        resp_rt(&d, benc_produce, cdec_produce, v, &rin, &rout, sizeof rout, 0, "Produce");
        EQ(rout.ResponsesCount, 2);
        for (int i = 0; i < 2; i++) {
            KS(rout.Responses[i].Name, rt[i].Name);
            EQ(rout.Responses[i].PartitionResponsesCount, rt[i].PartitionResponsesCount);
            for (int j = 0; j < rt[i].PartitionResponsesCount; j++) {
                const ProduceResponsePartition *p = &rt[i].PartitionResponses[j],
                                               *q = &rout.Responses[i].PartitionResponses[j];
                EQ(q->Index, p->Index);
                EQ(q->ErrorCode, p->ErrorCode);
                EQ(q->BaseOffset, p->BaseOffset);
                EQ(q->LogAppendTimeMs, p->LogAppendTimeMs);
                EQ(q->LogStartOffset, v >= 5 ? p->LogStartOffset : -1);
            }
        }
        EQ(rout.ThrottleTimeMs, 17);
        dec_done(&d);
    }
    ProduceRequest any = {KSTR_NULL, 1, 1, NULL, 0};
    expect_enc(cenc_produce, 2, &any, EDDY_ERR_INVALID_ARG, "v2");
    expect_enc(cenc_produce, 8, &any, EDDY_ERR_INVALID_ARG, "v8");
}
END_TEST

/* ---- Fetch ------------------------------------------------------------------ */

START_TEST(fetch)
{
    FOR_VERSIONS(API_FETCH, v)
    {
        dec_state_t d;
        FetchRequestPartition fp[] = {{0, 9, 100, v >= 5 ? 50 : -1, 1048576},
                                      {2, -1, 0, -1, 65536}};
        FetchRequestTopic ft[] = {{K("orders"), fp, 2}, {K("idle"), NULL, 0}};
        FetchRequest in = {-1, 500, 1,          52428800, 1, v >= 7 ? 77 : 0, v >= 7 ? 3 : -1,
                           ft, 2,   K("rack-a")},
                     out;
        req_rt(&d, cenc_fetch, bdec_fetch, v, &in, &out, sizeof out, "Fetch");
        EQ(out.ReplicaId, -1);
        EQ(out.MaxWaitMs, 500);
        EQ(out.MinBytes, 1);
        EQ(out.MaxBytes, 52428800);
        EQ(out.IsolationLevel, 1);
        EQ(out.SessionId, in.SessionId);
        EQ(out.SessionEpoch, in.SessionEpoch);
        EQ(out.TopicsCount, 2);
        for (int i = 0; i < 2; i++) {
            KS(out.Topics[i].Topic, ft[i].Topic);
            EQ(out.Topics[i].PartitionsCount, ft[i].PartitionsCount);
            for (int j = 0; j < ft[i].PartitionsCount; j++) {
                const FetchRequestPartition *p = &ft[i].Partitions[j],
                                            *q = &out.Topics[i].Partitions[j];
                EQ(q->Partition, p->Partition);
                EQ(q->CurrentLeaderEpoch, v >= 9 ? p->CurrentLeaderEpoch : -1);
                EQ(q->FetchOffset, p->FetchOffset);
                EQ(q->LogStartOffset, p->LogStartOffset);
                EQ(q->PartitionMaxBytes, p->PartitionMaxBytes);
            }
        }
        KS(out.RackId, v >= 11 ? in.RackId : K(""));
        dec_done(&d);
        /* Sessions need v7, a follower's LogStartOffset v5: not ignorable. */
        FetchRequest s = in;
        s.SessionId = 1;
        expect_enc(cenc_fetch, v, &s, v >= 7 ? 0 : EDDY_ERR_INVALID_ARG, "SessionId");
        s = in;
        s.SessionEpoch = 0; /* "create a session" */
        expect_enc(cenc_fetch, v, &s, v >= 7 ? 0 : EDDY_ERR_INVALID_ARG, "SessionEpoch");
        fp[1].LogStartOffset = 0;
        expect_enc(cenc_fetch, v, &in, v >= 5 ? 0 : EDDY_ERR_INVALID_ARG, "LogStartOffset");
        fp[1].LogStartOffset = -1;
        s = in;
        s.RackId = KSTR_NULL; /* not nullable at v11; ignorable below */
        expect_enc(cenc_fetch, v, &s, v >= 11 ? EDDY_ERR_INVALID_ARG : 0, "null RackId");

        FetchResponsePartition rp[] = {
            {0, 0, 120, 110, 5, NULL, 0, -1, {"RECORDS!", 8}},
            {2, KERR_OFFSET_OUT_OF_RANGE, 7, 7, 0, NULL, 0, -1, KSTR_NULL},
            {3, 0, 0, 0, 0, NULL, 0, -1, {"", 0}},
        };
        FetchResponseTopic rt[] = {{K("orders"), rp, 3}, {K("idle"), NULL, 0}};
        FetchResponse rin = {12, 0, 77, rt, 2}, rout;
        resp_rt(&d, benc_fetch, cdec_fetch, v, &rin, &rout, sizeof rout, 4 + (v >= 7 ? 6 : 0),
                "Fetch");
        EQ(rout.ThrottleTimeMs, 12);
        EQ(rout.ErrorCode, 0);
        EQ(rout.SessionId, v >= 7 ? 77 : 0);
        EQ(rout.ResponsesCount, 2);
        for (int i = 0; i < 2; i++) {
            KS(rout.Responses[i].Topic, rt[i].Topic);
            EQ(rout.Responses[i].PartitionsCount, rt[i].PartitionsCount);
            for (int j = 0; j < rt[i].PartitionsCount; j++) {
                const FetchResponsePartition *p = &rt[i].Partitions[j],
                                             *q = &rout.Responses[i].Partitions[j];
                EQ(q->PartitionIndex, p->PartitionIndex);
                EQ(q->ErrorCode, p->ErrorCode);
                EQ(q->HighWatermark, p->HighWatermark);
                EQ(q->LastStableOffset, p->LastStableOffset);
                EQ(q->LogStartOffset, v >= 5 ? p->LogStartOffset : -1);
                EQ(q->AbortedTransactionsCount, 0);
                EQ(q->PreferredReadReplica, -1);
                KS(q->Records, p->Records);
            }
        }
        dec_done(&d);
        rin.ErrorCode = KERR_UNKNOWN_SERVER_ERROR;
        resp_rt(&d, benc_fetch, cdec_fetch, v, &rin, &rout, sizeof rout, -1, "Fetch error");
        EQ(rout.ErrorCode, v >= 7 ? KERR_UNKNOWN_SERVER_ERROR : 0);
        dec_done(&d);
    }
}
END_TEST

static void put_str(eddy_wr_t *w, const char *s)
{
    if (!s) {
        wr_i16(w, -1);
        return;
    }
    wr_i16(w, (int16_t)strlen(s));
    wr_bytes(w, s, strlen(s));
}

/* FetchResponse.json, field by field: AbortedTransactions with entries and
 * null, PreferredReadReplica set, which the broker never sends. */
START_TEST(fetch_response_spec)
{
    FOR_VERSIONS(API_FETCH, v)
    {
        eddy_wr_t w;
        wr_init(&w);
        wr_i32(&w, 0); /* ThrottleTimeMs */
        if (v >= 7) {
            wr_i16(&w, 0);     /* ErrorCode */
            wr_i32(&w, 12345); /* SessionId */
        }
        wr_i32(&w, 1); /* Responses */
        put_str(&w, "tx-topic");
        wr_i32(&w, 2); /* Partitions */
        for (int p = 0; p < 2; p++) {
            wr_i32(&w, p);        /* PartitionIndex */
            wr_i16(&w, 0);        /* ErrorCode */
            wr_i64(&w, 1000);     /* HighWatermark */
            wr_i64(&w, 900);      /* LastStableOffset (v4+) */
            if (v >= 5)
                wr_i64(&w, 10);   /* LogStartOffset */
            if (p == 0) {
                wr_i32(&w, 2);    /* AbortedTransactions */
                wr_i64(&w, 4000); /* ProducerId */
                wr_i64(&w, 850);  /* FirstOffset */
                wr_i64(&w, 4001);
                wr_i64(&w, 870);
            } else {
                wr_i32(&w, -1);   /* null */
            }
            if (v >= 11)
                wr_i32(&w, 2);    /* PreferredReadReplica */
            if (p == 0) {
                wr_i32(&w, 3);
                wr_bytes(&w, "abc", 3);
            } else {
                wr_i32(&w, -1);   /* null records */
            }
        }
        dec_state_t d;
        FetchResponse r;
        dec_ok(&d, cdec_fetch, w.wr_buf, w.wr_len, v, &r, sizeof r, "Fetch spec");
        EQ(r.SessionId, v >= 7 ? 12345 : 0);
        EQ(r.ResponsesCount, 1);
        KS(r.Responses[0].Topic, K("tx-topic"));
        EQ(r.Responses[0].PartitionsCount, 2);
        FetchResponsePartition *p0 = &r.Responses[0].Partitions[0], *p1 = p0 + 1;
        EQ(p0->LastStableOffset, 900);
        EQ(p0->LogStartOffset, v >= 5 ? 10 : -1);
        EQ(p0->AbortedTransactionsCount, 2);
        EQ(p0->AbortedTransactions[0].ProducerId, 4000);
        EQ(p0->AbortedTransactions[0].FirstOffset, 850);
        EQ(p0->AbortedTransactions[1].ProducerId, 4001);
        EQ(p0->AbortedTransactions[1].FirstOffset, 870);
        EQ(p0->PreferredReadReplica, v >= 11 ? 2 : -1);
        KS(p0->Records, K("abc"));
        EQ(p1->AbortedTransactionsCount, -1);
        KS(p1->Records, KSTR_NULL);
        dec_done(&d);
        check_hostile(cdec_fetch, v, w.wr_buf, w.wr_len, sizeof r, 4 + (v >= 7 ? 6 : 0),
                      "Fetch spec");
        wr_free(&w);
    }
    FetchResponse r;
    dec_state_t d;
    static const uint8_t empty[4] = {0};
    run_dec(&d, cdec_fetch, empty, 4, 3, &r, sizeof r, ARENA_LIMIT);
    ck_assert_int_eq(d.rc, EDDY_ERR_INVALID_ARG); /* v3: not spoken */
    dec_done(&d);
}
END_TEST

/* ---- ListOffsets -------------------------------------------------------------- */

START_TEST(list_offsets)
{
    FOR_VERSIONS(API_LIST_OFFSETS, v)
    {
        dec_state_t d;
        ListOffsetsRequestPartition lp[] = {{0, -1, 1, -1},
                                            {1, -2, 1, 7},
                                            {2, 1700000000000, 1, -1}};
        ListOffsetsRequestTopic lt[] = {{K("orders"), lp, 3}};
        ListOffsetsRequest in = {-1, v >= 2 ? 1 : 0, lt, 1}, out;
        req_rt(&d, cenc_list_offsets, bdec_list_offsets, v, &in, &out, sizeof out, "ListOffsets");
        EQ(out.ReplicaId, -1);
        EQ(out.IsolationLevel, in.IsolationLevel);
        EQ(out.TopicsCount, 1);
        KS(out.Topics[0].Name, lt[0].Name);
        EQ(out.Topics[0].PartitionsCount, 3);
        for (int j = 0; j < 3; j++) {
            EQ(out.Topics[0].Partitions[j].PartitionIndex, lp[j].PartitionIndex);
            EQ(out.Topics[0].Partitions[j].Timestamp, lp[j].Timestamp);
            EQ(out.Topics[0].Partitions[j].MaxNumOffsets, 1);
            /* CurrentLeaderEpoch is a v4+ field: -1 below. */
            EQ(out.Topics[0].Partitions[j].CurrentLeaderEpoch,
               v >= 4 ? lp[j].CurrentLeaderEpoch : -1);
        }
        dec_done(&d);
        /* -3 (largest timestamp) needs v7, -4 (local log start) v8: an
         * older version would carry them as timestamps. */
        for (int64_t special = -4; special <= -3; special++) {
            ListOffsetsRequestPartition sp[] = {{0, special, 1, -1}};
            ListOffsetsRequestTopic st[] = {{K("orders"), sp, 1}};
            ListOffsetsRequest sin = {-1, 0, st, 1};
            int ok = special == -3 ? v >= 7 : v >= 8;
            expect_enc(cenc_list_offsets, v, &sin, ok ? 0 : EDDY_ERR_INVALID_ARG,
                       "special timestamp");
        }
        /* MaxNumOffsets is a v0 field: written there, ignored after. */
        lp[0].MaxNumOffsets = 5;
        req_rt(&d, cenc_list_offsets, bdec_list_offsets, v, &in, &out, sizeof out, "ListOffsets");
        EQ(out.Topics[0].Partitions[0].MaxNumOffsets, v == 0 ? 5 : 1);
        dec_done(&d);
        ListOffsetsRequest rc = {-1, 1, lt, 1};
        expect_enc(cenc_list_offsets, v, &rc, v >= 2 ? 0 : EDDY_ERR_INVALID_ARG, "read_committed");

        ListOffsetsResponsePartition pr[] = {{0, 0, 1700000000000, 42, 3},
                                             {1, 0, -1, 0, -1},
                                             {2, KERR_UNKNOWN_TOPIC_OR_PARTITION, -1, -1, -1}};
        ListOffsetsResponseTopic rt[] = {{K("orders"), pr, 3}, {K("none"), NULL, 0}};
        ListOffsetsResponse rin = {9, rt, 2}, rout;
        /* The hostile-count probe writes an int32 count: not at v6+ (compact). */
        resp_rt(&d, benc_list_offsets, cdec_list_offsets, v, &rin, &rout, sizeof rout,
                v >= 6   ? -1
                : v >= 2 ? 4
                         : 0,
                "ListOffsets");
        EQ(rout.ThrottleTimeMs, v >= 2 ? 9 : 0);
        EQ(rout.TopicsCount, 2);
        for (int i = 0; i < 2; i++) {
            KS(rout.Topics[i].Name, rt[i].Name);
            EQ(rout.Topics[i].PartitionsCount, rt[i].PartitionsCount);
            for (int j = 0; j < rt[i].PartitionsCount; j++) {
                const ListOffsetsResponsePartition *p = &rt[i].Partitions[j],
                                                   *q = &rout.Topics[i].Partitions[j];
                EQ(q->PartitionIndex, p->PartitionIndex);
                EQ(q->ErrorCode, p->ErrorCode);
                EQ(q->Timestamp, v >= 1 ? p->Timestamp : -1);
                EQ(q->Offset, p->Offset);
                EQ(q->LeaderEpoch, v >= 4 ? p->LeaderEpoch : -1);
            }
        }
        dec_done(&d);
    }
    /* v0 OldStyleOffsets with several offsets (MaxNumOffsets > 1): the first
     * is kept, the rest read past; a huge count fails before allocation. */
    eddy_wr_t w;
    wr_init(&w);
    wr_i32(&w, 1);
    put_str(&w, "t");
    wr_i32(&w, 1);
    wr_i32(&w, 0);
    wr_i16(&w, 0);
    wr_i32(&w, 3);
    wr_i64(&w, 300);
    wr_i64(&w, 200);
    wr_i64(&w, 0);
    dec_state_t d;
    ListOffsetsResponse r;
    int16_t v = 0;
    dec_ok(&d, cdec_list_offsets, w.wr_buf, w.wr_len, 0, &r, sizeof r, "OldStyleOffsets");
    EQ(r.Topics[0].Partitions[0].Offset, 300);
    EQ(r.Topics[0].Partitions[0].Timestamp, -1);
    dec_done(&d);
    check_hostile(cdec_list_offsets, 0, w.wr_buf, w.wr_len, sizeof r, 0, "OldStyleOffsets");
    be32_store(w.wr_buf + 4 + 3 + 4 + 4 + 2, 0x20000000);
    run_dec(&d, cdec_list_offsets, w.wr_buf, w.wr_len, 0, &r, sizeof r, ARENA_LIMIT);
    EQ(d.rc, EDDY_ERR_TRUNCATED);
    dec_done(&d);
    wr_free(&w);
}
END_TEST

/* ---- CreateTopics, DeleteTopics, DeleteRecords, DescribeConfigs ---------------- */

START_TEST(create_topics)
{
    FOR_VERSIONS(API_CREATE_TOPICS, v)
    {
        dec_state_t d;
        int32_t b0[] = {1, 2}, b1[] = {2};
        CreatableReplicaAssignment as[] = {{0, b0, 2}, {1, b1, 1}, {2, NULL, 0}};
        CreatableTopicConfig cf[] = {{K("cleanup.policy"), K("compact")},
                                     {K("retention.ms"), KSTR_NULL}};
        CreatableTopic tp[] = {{K("a"), 3, 1, NULL, 0, cf, 2}, {K("b"), -1, -1, as, 3, NULL, 0}};
        CreateTopicsRequest in = {tp, 2, 5000, v >= 1 ? 1 : 0}, out;
        req_rt(&d, cenc_create_topics, bdec_create_topics, v, &in, &out, sizeof out,
               "CreateTopics");
        EQ(out.TopicsCount, 2);
        for (int i = 0; i < 2; i++) {
            const CreatableTopic *t = &tp[i], *g = &out.Topics[i];
            KS(g->Name, t->Name);
            EQ(g->NumPartitions, t->NumPartitions);
            EQ(g->ReplicationFactor, t->ReplicationFactor);
            EQ(g->AssignmentsCount, t->AssignmentsCount);
            for (int j = 0; j < t->AssignmentsCount; j++) {
                EQ(g->Assignments[j].PartitionIndex, t->Assignments[j].PartitionIndex);
                EQ(g->Assignments[j].BrokerIdsCount, t->Assignments[j].BrokerIdsCount);
                for (int k = 0; k < t->Assignments[j].BrokerIdsCount; k++)
                    EQ(g->Assignments[j].BrokerIds[k], t->Assignments[j].BrokerIds[k]);
            }
            EQ(g->ConfigsCount, t->ConfigsCount);
            for (int j = 0; j < t->ConfigsCount; j++) {
                KS(g->Configs[j].Name, t->Configs[j].Name);
                KS(g->Configs[j].Value, t->Configs[j].Value);
            }
        }
        EQ(out.TimeoutMs, 5000);
        EQ(out.ValidateOnly, in.ValidateOnly);
        dec_done(&d);
        CreateTopicsRequest dry = {tp, 2, 5000, 1};
        expect_enc(cenc_create_topics, v, &dry, v >= 1 ? 0 : EDDY_ERR_INVALID_ARG, "ValidateOnly");
        cf[0].Name = KSTR_NULL;
        expect_enc(cenc_create_topics, v, &in, EDDY_ERR_INVALID_ARG, "null config name");
        cf[0].Name = K("cleanup.policy");
        as[0].BrokerIdsCount = -1;
        expect_enc(cenc_create_topics, v, &in, EDDY_ERR_INVALID_ARG, "null broker ids");
        as[0].BrokerIdsCount = 2;

        CreatableTopicResult tr[] = {{K("a"), 0, KSTR_NULL},
                                     {K("b"), KERR_TOPIC_ALREADY_EXISTS,
                                      K("Topic 'b' already exists.")}};
        CreateTopicsResponse rin = {21, tr, 2}, rout;
        resp_rt(&d, benc_create_topics, cdec_create_topics, v, &rin, &rout, sizeof rout,
                v >= 2 ? 4 : 0, "CreateTopics");
        EQ(rout.ThrottleTimeMs, v >= 2 ? 21 : 0);
        EQ(rout.TopicsCount, 2);
        for (int i = 0; i < 2; i++) {
            KS(rout.Topics[i].Name, tr[i].Name);
            EQ(rout.Topics[i].ErrorCode, tr[i].ErrorCode);
            KS(rout.Topics[i].ErrorMessage, v >= 1 ? tr[i].ErrorMessage : KSTR_NULL);
        }
        dec_done(&d);
    }
}
END_TEST

START_TEST(delete_topics)
{
    FOR_VERSIONS(API_DELETE_TOPICS, v)
    {
        dec_state_t d;
        kstr_t names[] = {K("a"), K("b"), K("")};
        DeleteTopicsRequest in = {names, 3, 15000}, out;
        req_rt(&d, cenc_delete_topics, bdec_delete_topics, v, &in, &out, sizeof out,
               "DeleteTopics");
        EQ(out.TopicNamesCount, 3);
        for (int i = 0; i < 3; i++)
            KS(out.TopicNames[i], names[i]);
        EQ(out.TimeoutMs, 15000);
        dec_done(&d);
        DeleteTopicsRequest null_names = {NULL, -1, 1};
        expect_enc(cenc_delete_topics, v, &null_names, EDDY_ERR_INVALID_ARG, "null names");

        DeletableTopicResult res[] = {{K("a"), 0}, {K("b"), KERR_UNKNOWN_TOPIC_OR_PARTITION}};
        DeleteTopicsResponse rin = {4, res, 2}, rout;
        resp_rt(&d, benc_delete_topics, cdec_delete_topics, v, &rin, &rout, sizeof rout,
                v >= 1 ? 4 : 0, "DeleteTopics");
        EQ(rout.ThrottleTimeMs, v >= 1 ? 4 : 0);
        EQ(rout.ResponsesCount, 2);
        for (int i = 0; i < 2; i++) {
            KS(rout.Responses[i].Name, res[i].Name);
            EQ(rout.Responses[i].ErrorCode, res[i].ErrorCode);
        }
        dec_done(&d);
    }
}
END_TEST

START_TEST(delete_records)
{
    FOR_VERSIONS(API_DELETE_RECORDS, v)
    {
        dec_state_t d;
        DeleteRecordsPartition dp[] = {{0, 100}, {1, -1}};
        DeleteRecordsTopic dt[] = {{K("orders"), dp, 2}, {K("x"), NULL, 0}};
        DeleteRecordsRequest in = {dt, 2, 30000}, out;
        req_rt(&d, cenc_delete_records, bdec_delete_records, v, &in, &out, sizeof out,
               "DeleteRecords");
        EQ(out.TopicsCount, 2);
        for (int i = 0; i < 2; i++) {
            KS(out.Topics[i].Name, dt[i].Name);
            EQ(out.Topics[i].PartitionsCount, dt[i].PartitionsCount);
            for (int j = 0; j < dt[i].PartitionsCount; j++) {
                EQ(out.Topics[i].Partitions[j].PartitionIndex, dt[i].Partitions[j].PartitionIndex);
                EQ(out.Topics[i].Partitions[j].Offset, dt[i].Partitions[j].Offset);
            }
        }
        EQ(out.TimeoutMs, 30000);
        dec_done(&d);

        DeleteRecordsPartitionResult pr[] = {{0, 100, 0}, {1, -1, KERR_OFFSET_OUT_OF_RANGE}};
        DeleteRecordsTopicResult tr[] = {{K("orders"), pr, 2}};
        DeleteRecordsResponse rin = {6, tr, 1}, rout;
        resp_rt(&d, benc_delete_records, cdec_delete_records, v, &rin, &rout, sizeof rout, 4,
                "DeleteRecords");
        EQ(rout.ThrottleTimeMs, 6);
        EQ(rout.TopicsCount, 1);
        KS(rout.Topics[0].Name, tr[0].Name);
        EQ(rout.Topics[0].PartitionsCount, 2);
        for (int j = 0; j < 2; j++) {
            EQ(rout.Topics[0].Partitions[j].PartitionIndex, pr[j].PartitionIndex);
            EQ(rout.Topics[0].Partitions[j].LowWatermark, pr[j].LowWatermark);
            EQ(rout.Topics[0].Partitions[j].ErrorCode, pr[j].ErrorCode);
        }
        dec_done(&d);
    }
}
END_TEST

START_TEST(describe_configs)
{
    FOR_VERSIONS(API_DESCRIBE_CONFIGS, v)
    {
        dec_state_t d;
        kstr_t keys[] = {K("log.dirs"), K("num.partitions")};
        DescribeConfigsResource res[] = {{CONFIG_RESOURCE_TOPIC, K("orders"), NULL, -1},
                                         {CONFIG_RESOURCE_BROKER, K("1"), keys, 2},
                                         {CONFIG_RESOURCE_TOPIC, K("x"), NULL, 0}};
        DescribeConfigsRequest in = {res, 3, v >= 1 ? 1 : 0, v >= 3 ? 1 : 0}, out;
        req_rt(&d, cenc_describe_configs, bdec_describe_configs, v, &in, &out, sizeof out,
               "DescribeConfigs");
        EQ(out.ResourcesCount, 3);
        for (int i = 0; i < 3; i++) {
            EQ(out.Resources[i].ResourceType, res[i].ResourceType);
            KS(out.Resources[i].ResourceName, res[i].ResourceName);
            EQ(out.Resources[i].ConfigurationKeysCount, res[i].ConfigurationKeysCount);
            for (int j = 0; j < res[i].ConfigurationKeysCount; j++)
                KS(out.Resources[i].ConfigurationKeys[j], res[i].ConfigurationKeys[j]);
        }
        EQ(out.IncludeSynonyms, in.IncludeSynonyms);
        EQ(out.IncludeDocumentation, in.IncludeDocumentation);
        dec_done(&d);
        DescribeConfigsRequest syn = {res, 3, 1, 0};
        expect_enc(cenc_describe_configs, v, &syn, v >= 1 ? 0 : EDDY_ERR_INVALID_ARG, "synonyms");
        res[2].ConfigurationKeysCount = -2;
        expect_enc(cenc_describe_configs, v, &in, EDDY_ERR_INVALID_ARG, "count -2");
        res[2].ConfigurationKeysCount = 0;
        keys[1] = KSTR_NULL;
        expect_enc(cenc_describe_configs, v, &in, EDDY_ERR_INVALID_ARG, "null key");

        DescribeConfigsResourceResult cr[] = {
            {K("cleanup.policy"), K("delete"), 0, 1, CONFIG_SOURCE_DEFAULT, 0, NULL, 0,
             CONFIG_TYPE_LIST, K("delete, compact, or both")},
            {K("sasl.secret"), KSTR_NULL, 1, 0, CONFIG_SOURCE_DYNAMIC_TOPIC, 1, NULL, 0, 0,
             KSTR_NULL},
            {K("retention.ms"), K("1000"), 0, 0, CONFIG_SOURCE_STATIC_BROKER, 0, NULL, 0,
             CONFIG_TYPE_LONG, K("")},
        };
        DescribeConfigsResult rr[] = {
            {0, KSTR_NULL, CONFIG_RESOURCE_TOPIC, K("orders"), cr, 3},
            {KERR_UNKNOWN_TOPIC_OR_PARTITION, K("no such topic"), CONFIG_RESOURCE_TOPIC, K("x"),
             NULL, 0},
        };
        DescribeConfigsResponse rin = {8, rr, 2}, rout;
        resp_rt(&d, benc_describe_configs, cdec_describe_configs, v, &rin, &rout, sizeof rout,
                v >= 4 ? -1 : 4, "DescribeConfigs");
        EQ(rout.ThrottleTimeMs, 8);
        EQ(rout.ResultsCount, 2);
        for (int i = 0; i < 2; i++) {
            const DescribeConfigsResult *a = &rr[i], *g = &rout.Results[i];
            EQ(g->ErrorCode, a->ErrorCode);
            KS(g->ErrorMessage, a->ErrorMessage);
            EQ(g->ResourceType, a->ResourceType);
            KS(g->ResourceName, a->ResourceName);
            EQ(g->ConfigsCount, a->ConfigsCount);
            for (int j = 0; j < a->ConfigsCount; j++) {
                const DescribeConfigsResourceResult *c = &a->Configs[j], *q = &g->Configs[j];
                KS(q->Name, c->Name);
                KS(q->Value, c->Value);
                EQ(q->ReadOnly, c->ReadOnly);
                EQ(q->IsDefault, v == 0 ? c->IsDefault : c->ConfigSource == CONFIG_SOURCE_DEFAULT);
                EQ(q->ConfigSource, v >= 1 ? c->ConfigSource : -1);
                EQ(q->IsSensitive, c->IsSensitive);
                EQ(q->ConfigType, v >= 3 ? c->ConfigType : 0);
                KS(q->Documentation, v >= 3 ? c->Documentation : KSTR_NULL);
            }
        }
        dec_done(&d);
    }
}
END_TEST

/* AlterConfigs and IncrementalAlterConfigs: every version both ways. */
static void alter_rt(int api, enc_fn cenc, dec_fn bdec, enc_fn benc, dec_fn cdec)
{
    FOR_VERSIONS(api, v)
    {
        dec_state_t d;
        AlterableConfig cs[] = {{K("retention.ms"), CONFIG_OP_SET, K("1000")},
                                {K("cleanup.policy"), CONFIG_OP_APPEND, K("compact")},
                                {K("segment.ms"), CONFIG_OP_DELETE, KSTR_NULL}};
        AlterConfigsResource res[] = {{CONFIG_RESOURCE_TOPIC, K("orders"), cs, 3},
                                      {CONFIG_RESOURCE_BROKER, K(""), NULL, 0}};
        AlterConfigsRequest in = {res, 2, 1}, out;
        req_rt(&d, cenc, bdec, v, &in, &out, sizeof out, kafka_api_name(api));
        EQ(out.ResourcesCount, 2);
        EQ(out.ValidateOnly, 1);
        EQ(out.Resources[0].ResourceType, CONFIG_RESOURCE_TOPIC);
        KS(out.Resources[0].ResourceName, K("orders"));
        EQ(out.Resources[0].ConfigsCount, 3);
        for (int j = 0; j < 3; j++) {
            KS(out.Resources[0].Configs[j].Name, cs[j].Name);
            KS(out.Resources[0].Configs[j].Value, cs[j].Value);
            EQ(out.Resources[0].Configs[j].ConfigOperation,
               api == API_INCREMENTAL_ALTER_CONFIGS ? cs[j].ConfigOperation : CONFIG_OP_SET);
        }
        KS(out.Resources[1].ResourceName, K(""));
        EQ(out.Resources[1].ConfigsCount, 0);
        dec_done(&d);
        cs[0].Name = KSTR_NULL;
        expect_enc(cenc, v, &in, EDDY_ERR_INVALID_ARG, "null name");

        AlterConfigsResourceResponse rr[] = {{0, KSTR_NULL, CONFIG_RESOURCE_TOPIC, K("orders")},
                                             {KERR_INVALID_CONFIG,
                                              K("Unknown topic config name: x"),
                                              CONFIG_RESOURCE_TOPIC, K("t")}};
        AlterConfigsResponse rin = {5, rr, 2}, rout;
        int flex = kafka_is_flexible(api, v);
        resp_rt(&d, benc, cdec, v, &rin, &rout, sizeof rout, flex ? -1 : 4, kafka_api_name(api));
        EQ(rout.ThrottleTimeMs, 5);
        EQ(rout.ResponsesCount, 2);
        for (int i = 0; i < 2; i++) {
            EQ(rout.Responses[i].ErrorCode, rr[i].ErrorCode);
            KS(rout.Responses[i].ErrorMessage, rr[i].ErrorMessage);
            EQ(rout.Responses[i].ResourceType, rr[i].ResourceType);
            KS(rout.Responses[i].ResourceName, rr[i].ResourceName);
        }
        dec_done(&d);
    }
}

START_TEST(alter_configs)
{
    alter_rt(API_ALTER_CONFIGS, cenc_alter_configs, bdec_alter_configs, benc_alter_configs,
             cdec_alter_configs);
    alter_rt(API_INCREMENTAL_ALTER_CONFIGS, cenc_incremental_alter_configs,
             bdec_incremental_alter_configs, benc_incremental_alter_configs,
             cdec_incremental_alter_configs);
}
END_TEST

/* DescribeConfigsResponse.json v1 with Synonyms, which the broker always
 * sends empty: walked, checked, not kept. */
START_TEST(describe_configs_synonyms)
{
    int16_t v = 1;
    eddy_wr_t w;
    wr_init(&w);
    wr_i32(&w, 0);    /* ThrottleTimeMs */
    wr_i32(&w, 1);    /* Results */
    wr_i16(&w, 0);    /* ErrorCode */
    put_str(&w, NULL); /* ErrorMessage */
    wr_i8(&w, 2);     /* ResourceType */
    put_str(&w, "orders");
    wr_i32(&w, 1);    /* Configs */
    put_str(&w, "retention.ms");
    put_str(&w, "1000");
    wr_i8(&w, 0);     /* ReadOnly */
    wr_i8(&w, 1);     /* ConfigSource: DYNAMIC_TOPIC_CONFIG */
    wr_i8(&w, 0);     /* IsSensitive */
    wr_i32(&w, 2);    /* Synonyms */
    put_str(&w, "retention.ms");
    put_str(&w, "1000");
    wr_i8(&w, 1);
    put_str(&w, "log.retention.ms");
    put_str(&w, NULL); /* nullable Value */
    wr_i8(&w, 5);
    dec_state_t d;
    DescribeConfigsResponse r;
    dec_ok(&d, cdec_describe_configs, w.wr_buf, w.wr_len, v, &r, sizeof r, "synonyms");
    EQ(r.ResultsCount, 1);
    EQ(r.Results[0].ConfigsCount, 1);
    KS(r.Results[0].Configs[0].Value, K("1000"));
    EQ(r.Results[0].Configs[0].ConfigSource, 1);
    EQ(r.Results[0].Configs[0].IsDefault, 0);
    dec_done(&d);
    check_hostile(cdec_describe_configs, v, w.wr_buf, w.wr_len, sizeof r, 4, "synonyms");
    /* A null synonym name is not allowed. */
    size_t name_at = w.wr_len - (2 + 16 + 2 + 1);
    be16_store(w.wr_buf + name_at, 0xffff);
    run_dec(&d, cdec_describe_configs, w.wr_buf, w.wr_len, v, &r, sizeof r, ARENA_LIMIT);
    EQ(d.rc, EDDY_ERR_INVALID_ARG);
    dec_done(&d);
    wr_free(&w);
}
END_TEST

/* ---- group APIs ------------------------------------------------------------ */

START_TEST(find_coordinator)
{
    FOR_VERSIONS(API_FIND_COORDINATOR, v)
    {
        dec_state_t d;
        for (int8_t kt = 0; kt < 2; kt++) {
            FindCoordinatorRequest in = {K("grp"), kt}, out;
            if (v == 0 && kt) {
                expect_enc(cenc_find_coordinator, v, &in, EDDY_ERR_INVALID_ARG, "KeyType v0");
                continue;
            }
            req_rt(&d, cenc_find_coordinator, bdec_find_coordinator, v, &in, &out, sizeof out,
                   "FindCoordinator");
            KS(out.Key, in.Key);
            EQ(out.KeyType, kt);
            dec_done(&d);
        }
        FindCoordinatorRequest null_key = {KSTR_NULL, 0};
        expect_enc(cenc_find_coordinator, v, &null_key, EDDY_ERR_INVALID_ARG, "null key");

        for (int err = 0; err < 2; err++) {
            FindCoordinatorResponse rin = {3,
                                           err ? KERR_COORDINATOR_NOT_AVAILABLE : 0,
                                           err ? K("not yet") : KSTR_NULL,
                                           err ? -1 : 1,
                                           K(err ? "" : "localhost"),
                                           err ? -1 : 9092},
                                    rout;
            resp_rt(&d, benc_find_coordinator, cdec_find_coordinator, v, &rin, &rout, sizeof rout,
                    -1, "FindCoordinator");
            EQ(rout.ThrottleTimeMs, v >= 1 ? 3 : 0);
            EQ(rout.ErrorCode, rin.ErrorCode);
            KS(rout.ErrorMessage, v >= 1 ? rin.ErrorMessage : KSTR_NULL);
            EQ(rout.NodeId, rin.NodeId);
            KS(rout.Host, rin.Host);
            EQ(rout.Port, rin.Port);
            dec_done(&d);
        }
    }
}
END_TEST

static const uint8_t sub_meta[] = {0, 0, 0, 0, 0, 1, 0, 1, 't', 0, 0, 0, 0};

START_TEST(join_group)
{
    FOR_VERSIONS(API_JOIN_GROUP, v)
    {
        dec_state_t d;
        JoinGroupRequestProtocol pr[] = {{K("range"), {(const char *)sub_meta, sizeof sub_meta}},
                                         {K("roundrobin"), {"", 0}}};
        JoinGroupRequest
            in = {K("grp"),      45000, 300000, K("member-1"), v >= 5 ? K("inst-1") : KSTR_NULL,
                  K("consumer"), pr,    2},
            out;
        req_rt(&d, cenc_join_group, bdec_join_group, v, &in, &out, sizeof out, "JoinGroup");
        KS(out.GroupId, in.GroupId);
        EQ(out.SessionTimeoutMs, 45000);
        EQ(out.RebalanceTimeoutMs, v >= 1 ? 300000 : 45000);
        KS(out.MemberId, in.MemberId);
        KS(out.GroupInstanceId, in.GroupInstanceId);
        KS(out.ProtocolType, in.ProtocolType);
        EQ(out.ProtocolsCount, 2);
        for (int i = 0; i < 2; i++) {
            KS(out.Protocols[i].Name, pr[i].Name);
            KS(out.Protocols[i].Metadata, pr[i].Metadata);
        }
        dec_done(&d);
        JoinGroupRequest s = in;
        s.GroupInstanceId = K("inst-1");
        expect_enc(cenc_join_group, v, &s, v >= 5 ? 0 : EDDY_ERR_INVALID_ARG, "instance id");
        s.GroupInstanceId = (kstr_t){NULL, 0}; /* zeroed: "", not null */
        expect_enc(cenc_join_group, v, &s, v >= 5 ? 0 : EDDY_ERR_INVALID_ARG, "empty instance");
        s = in;
        s.MemberId = KSTR_NULL;
        expect_enc(cenc_join_group, v, &s, EDDY_ERR_INVALID_ARG, "null member id");
        pr[1].Metadata = KSTR_NULL;
        expect_enc(cenc_join_group, v, &in, EDDY_ERR_INVALID_ARG, "null metadata");

        JoinGroupResponseMember mm[] = {
            {K("member-1"), K("inst-1"), {(const char *)sub_meta, sizeof sub_meta}},
            {K("member-2"), KSTR_NULL, {"", 0}}};
        JoinGroupResponse rin = {5, 0, 7, K("range"), K("member-1"), K("member-1"), mm, 2}, rout;
        long count_at = (v >= 2 ? 4 : 0) + 2 + 4 + (2 + 5) + (2 + 8) + (2 + 8);
        resp_rt(&d, benc_join_group, cdec_join_group, v, &rin, &rout, sizeof rout, count_at,
                "JoinGroup");
        EQ(rout.ThrottleTimeMs, v >= 2 ? 5 : 0);
        EQ(rout.ErrorCode, 0);
        EQ(rout.GenerationId, 7);
        KS(rout.ProtocolName, rin.ProtocolName);
        KS(rout.Leader, rin.Leader);
        KS(rout.MemberId, rin.MemberId);
        EQ(rout.MembersCount, 2);
        for (int i = 0; i < 2; i++) {
            KS(rout.Members[i].MemberId, mm[i].MemberId);
            KS(rout.Members[i].GroupInstanceId, v >= 5 ? mm[i].GroupInstanceId : KSTR_NULL);
            KS(rout.Members[i].Metadata, mm[i].Metadata);
        }
        dec_done(&d);
        /* A follower's answer: no members; an error: empty strings. */
        JoinGroupResponse fol = {0, KERR_MEMBER_ID_REQUIRED, -1, K(""), K(""), K("m-9"), NULL, 0};
        resp_rt(&d, benc_join_group, cdec_join_group, v, &fol, &rout, sizeof rout, -1,
                "JoinGroup error");
        EQ(rout.ErrorCode, KERR_MEMBER_ID_REQUIRED);
        EQ(rout.GenerationId, -1);
        KS(rout.MemberId, K("m-9"));
        EQ(rout.MembersCount, 0);
        dec_done(&d);
    }
}
END_TEST

START_TEST(sync_group)
{
    FOR_VERSIONS(API_SYNC_GROUP, v)
    {
        dec_state_t d;
        SyncGroupRequestAssignment as[] = {{K("m1"), {"\0\1\0\0\0\0\0\0\0\0", 10}},
                                           {K("m2"), {"", 0}}};
        SyncGroupRequest in = {K("grp"), 7, K("m1"), v >= 3 ? K("inst") : KSTR_NULL, as, 2}, out;
        req_rt(&d, cenc_sync_group, bdec_sync_group, v, &in, &out, sizeof out, "SyncGroup");
        KS(out.GroupId, in.GroupId);
        EQ(out.GenerationId, 7);
        KS(out.MemberId, in.MemberId);
        KS(out.GroupInstanceId, in.GroupInstanceId);
        EQ(out.AssignmentsCount, 2);
        for (int i = 0; i < 2; i++) {
            KS(out.Assignments[i].MemberId, as[i].MemberId);
            KS(out.Assignments[i].Assignment, as[i].Assignment);
        }
        dec_done(&d);
        /* A follower sends no assignments. */
        SyncGroupRequest fol = {K("grp"), 7, K("m2"), KSTR_NULL, NULL, 0};
        req_rt(&d, cenc_sync_group, bdec_sync_group, v, &fol, &out, sizeof out, "SyncGroup");
        EQ(out.AssignmentsCount, 0);
        dec_done(&d);
        fol.GroupInstanceId = K("inst");
        expect_enc(cenc_sync_group, v, &fol, v >= 3 ? 0 : EDDY_ERR_INVALID_ARG, "instance id");
        as[1].Assignment = KSTR_NULL;
        expect_enc(cenc_sync_group, v, &in, EDDY_ERR_INVALID_ARG, "null assignment");

        SyncGroupResponse rin = {2, 0, {"\0\1\0\0\0\0\0\0\0\0", 10}}, rout;
        resp_rt(&d, benc_sync_group, cdec_sync_group, v, &rin, &rout, sizeof rout, -1, "SyncGroup");
        EQ(rout.ThrottleTimeMs, v >= 1 ? 2 : 0);
        EQ(rout.ErrorCode, 0);
        KS(rout.Assignment, rin.Assignment);
        dec_done(&d);
        /* Null Assignment bytes are not allowed. */
        static const uint8_t null_as[] = {0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
        const uint8_t *p = v >= 1 ? null_as : null_as + 4;
        run_dec(&d, cdec_sync_group, p, v >= 1 ? 10 : 6, v, &rout, sizeof rout, ARENA_LIMIT);
        EQ(d.rc, EDDY_ERR_INVALID_ARG);
        dec_done(&d);
    }
}
END_TEST

START_TEST(heartbeat_leave_group)
{
    FOR_VERSIONS(API_HEARTBEAT, v)
    {
        dec_state_t d;
        HeartbeatRequest in = {K("grp"), 3, K("m1"), v >= 3 ? K("inst") : KSTR_NULL}, out;
        req_rt(&d, cenc_heartbeat, bdec_heartbeat, v, &in, &out, sizeof out, "Heartbeat");
        KS(out.GroupId, in.GroupId);
        EQ(out.GenerationId, 3);
        KS(out.MemberId, in.MemberId);
        KS(out.GroupInstanceId, in.GroupInstanceId);
        dec_done(&d);
        in.GroupInstanceId = K("inst");
        expect_enc(cenc_heartbeat, v, &in, v >= 3 ? 0 : EDDY_ERR_INVALID_ARG, "instance id");
        in.GroupId = KSTR_NULL;
        expect_enc(cenc_heartbeat, v, &in, EDDY_ERR_INVALID_ARG, "null group");

        HeartbeatResponse rin = {1, KERR_REBALANCE_IN_PROGRESS}, rout;
        resp_rt(&d, benc_heartbeat, cdec_heartbeat, v, &rin, &rout, sizeof rout, -1, "Heartbeat");
        EQ(rout.ThrottleTimeMs, v >= 1 ? 1 : 0);
        EQ(rout.ErrorCode, KERR_REBALANCE_IN_PROGRESS);
        dec_done(&d);
    }
    FOR_VERSIONS(API_LEAVE_GROUP, v)
    {
        dec_state_t d;
        LeaveGroupRequest in = {K("grp"), K("m1")}, out;
        req_rt(&d, cenc_leave_group, bdec_leave_group, v, &in, &out, sizeof out, "LeaveGroup");
        KS(out.GroupId, in.GroupId);
        KS(out.MemberId, in.MemberId);
        dec_done(&d);
        in.MemberId = KSTR_NULL;
        expect_enc(cenc_leave_group, v, &in, EDDY_ERR_INVALID_ARG, "null member");

        LeaveGroupResponse rin = {4, KERR_UNKNOWN_MEMBER_ID}, rout;
        resp_rt(&d, benc_leave_group, cdec_leave_group, v, &rin, &rout, sizeof rout, -1,
                "LeaveGroup");
        EQ(rout.ThrottleTimeMs, v >= 1 ? 4 : 0);
        EQ(rout.ErrorCode, KERR_UNKNOWN_MEMBER_ID);
        dec_done(&d);
    }
    LeaveGroupRequest any = {K("g"), K("m")};
    expect_enc(cenc_leave_group, 2, &any, EDDY_ERR_INVALID_ARG, "LeaveGroup v2");
}
END_TEST

START_TEST(offset_commit)
{
    FOR_VERSIONS(API_OFFSET_COMMIT, v)
    {
        dec_state_t d;
        OffsetCommitRequestPartition op[] = {{0, 100, 3, 1234, K("meta")},
                                             {1, 200, 3, 1234, KSTR_NULL},
                                             {2, 0, -1, -1, K("")}};
        OffsetCommitRequestTopic ot[] = {{K("orders"), op, 3}, {K("x"), NULL, 0}};
        OffsetCommitRequest in = {K("grp"), 4,  K("m1"), v >= 7 ? K("inst") : KSTR_NULL,
                                  86400000, ot, 2},
                            out;
        req_rt(&d, cenc_offset_commit, bdec_offset_commit, v, &in, &out, sizeof out,
               "OffsetCommit");
        KS(out.GroupId, in.GroupId);
        EQ(out.GenerationId, v >= 1 ? 4 : -1);
        KS(out.MemberId, v >= 1 ? in.MemberId : K(""));
        KS(out.GroupInstanceId, in.GroupInstanceId);
        EQ(out.RetentionTimeMs, v >= 2 && v <= 4 ? 86400000 : -1);
        EQ(out.TopicsCount, 2);
        for (int i = 0; i < 2; i++) {
            KS(out.Topics[i].Name, ot[i].Name);
            EQ(out.Topics[i].PartitionsCount, ot[i].PartitionsCount);
            for (int j = 0; j < ot[i].PartitionsCount; j++) {
                const OffsetCommitRequestPartition *p = &ot[i].Partitions[j],
                                                   *q = &out.Topics[i].Partitions[j];
                EQ(q->PartitionIndex, p->PartitionIndex);
                EQ(q->CommittedOffset, p->CommittedOffset);
                EQ(q->CommittedLeaderEpoch, v >= 6 ? p->CommittedLeaderEpoch : -1);
                EQ(q->CommitTimestamp, v == 1 ? p->CommitTimestamp : -1);
                KS(q->CommittedMetadata, p->CommittedMetadata);
            }
        }
        dec_done(&d);
        OffsetCommitRequest s = in;
        s.GroupInstanceId = K("inst");
        expect_enc(cenc_offset_commit, v, &s, v >= 7 ? 0 : EDDY_ERR_INVALID_ARG, "instance id");
        s = in;
        s.MemberId = KSTR_NULL; /* dropped at v0 */
        expect_enc(cenc_offset_commit, v, &s, v >= 1 ? EDDY_ERR_INVALID_ARG : 0, "null member");
        ot[1].PartitionsCount = 1; /* without its array */
        expect_enc(cenc_offset_commit, v, &in, EDDY_ERR_INVALID_ARG, "missing array");
        ot[1].PartitionsCount = 0;

        OffsetCommitResponsePartition rp[] = {{0, 0}, {1, KERR_OFFSET_METADATA_TOO_LARGE}};
        OffsetCommitResponseTopic rt[] = {{K("orders"), rp, 2}, {K("x"), NULL, 0}};
        OffsetCommitResponse rin = {3, rt, 2}, rout;
        resp_rt(&d, benc_offset_commit, cdec_offset_commit, v, &rin, &rout, sizeof rout,
                v >= 3 ? 4 : 0, "OffsetCommit");
        EQ(rout.ThrottleTimeMs, v >= 3 ? 3 : 0);
        EQ(rout.TopicsCount, 2);
        for (int i = 0; i < 2; i++) {
            KS(rout.Topics[i].Name, rt[i].Name);
            EQ(rout.Topics[i].PartitionsCount, rt[i].PartitionsCount);
            for (int j = 0; j < rt[i].PartitionsCount; j++) {
                EQ(rout.Topics[i].Partitions[j].PartitionIndex, rp[j].PartitionIndex);
                EQ(rout.Topics[i].Partitions[j].ErrorCode, rp[j].ErrorCode);
            }
        }
        dec_done(&d);
    }
}
END_TEST

START_TEST(offset_fetch)
{
    FOR_VERSIONS(API_OFFSET_FETCH, v)
    {
        dec_state_t d;
        int32_t parts[] = {0, 1, 2};
        OffsetFetchRequestTopic ot[] = {{K("orders"), parts, 3}, {K("x"), NULL, 0}};
        OffsetFetchRequest in = {K("grp"), ot, 2, v >= 7}, out;
        req_rt(&d, cenc_offset_fetch, bdec_offset_fetch, v, &in, &out, sizeof out, "OffsetFetch");
        KS(out.GroupId, in.GroupId);
        EQ(out.TopicsCount, 2);
        EQ(out.RequireStable, v >= 7);
        for (int i = 0; i < 2; i++) {
            KS(out.Topics[i].Name, ot[i].Name);
            EQ(out.Topics[i].PartitionIndexesCount, ot[i].PartitionIndexesCount);
            for (int j = 0; j < ot[i].PartitionIndexesCount; j++)
                EQ(out.Topics[i].PartitionIndexes[j], ot[i].PartitionIndexes[j]);
        }
        dec_done(&d);
        if (v < 7) {
            /* Not ignorable: a version without it cannot ask for stable offsets. */
            OffsetFetchRequest stable = {K("grp"), ot, 2, 1};
            expect_enc(cenc_offset_fetch, v, &stable, EDDY_ERR_INVALID_ARG, "require_stable");
        }
        OffsetFetchRequest all = {K("grp"), NULL, -1, 0};
        if (v >= 2) {
            req_rt(&d, cenc_offset_fetch, bdec_offset_fetch, v, &all, &out, sizeof out,
                   "OffsetFetch all");
            EQ(out.TopicsCount, -1);
            dec_done(&d);
        } else {
            expect_enc(cenc_offset_fetch, v, &all, EDDY_ERR_INVALID_ARG, "null topics");
        }

        OffsetFetchResponsePartition rp[] = {{0, 100, 3, K("meta"), 0},
                                             {1, -1, -1, KSTR_NULL, 0},
                                             {2, -1, -1, K(""), KERR_UNKNOWN_TOPIC_OR_PARTITION}};
        OffsetFetchResponseTopic rt[] = {{K("orders"), rp, 3}, {K("x"), NULL, 0}};
        OffsetFetchResponse rin = {6, rt, 2, KERR_NOT_COORDINATOR}, rout;
        resp_rt(&d, benc_offset_fetch, cdec_offset_fetch, v, &rin, &rout, sizeof rout,
                v >= 6   ? -1
                : v >= 3 ? 4
                         : 0,
                "OffsetFetch");
        EQ(rout.ThrottleTimeMs, v >= 3 ? 6 : 0);
        EQ(rout.TopicsCount, 2);
        for (int i = 0; i < 2; i++) {
            KS(rout.Topics[i].Name, rt[i].Name);
            EQ(rout.Topics[i].PartitionsCount, rt[i].PartitionsCount);
            for (int j = 0; j < rt[i].PartitionsCount; j++) {
                const OffsetFetchResponsePartition *p = &rt[i].Partitions[j],
                                                   *q = &rout.Topics[i].Partitions[j];
                EQ(q->PartitionIndex, p->PartitionIndex);
                EQ(q->CommittedOffset, p->CommittedOffset);
                EQ(q->CommittedLeaderEpoch, v >= 5 ? p->CommittedLeaderEpoch : -1);
                KS(q->Metadata, p->Metadata);
                EQ(q->ErrorCode, p->ErrorCode);
            }
        }
        EQ(rout.ErrorCode, v >= 2 ? KERR_NOT_COORDINATOR : 0);
        dec_done(&d);
    }
}
END_TEST

START_TEST(describe_list_delete_groups)
{
    FOR_VERSIONS(API_DESCRIBE_GROUPS, v)
    {
        dec_state_t d;
        kstr_t groups[] = {K("g1"), K("g2")};
        DescribeGroupsRequest in = {groups, 2, 0}, out;
        req_rt(&d, cenc_describe_groups, bdec_describe_groups, v, &in, &out, sizeof out,
               "DescribeGroups");
        EQ(out.GroupsCount, 2);
        KS(out.Groups[0], groups[0]);
        KS(out.Groups[1], groups[1]);
        dec_done(&d);
        groups[1] = KSTR_NULL;
        expect_enc(cenc_describe_groups, v, &in, EDDY_ERR_INVALID_ARG, "null group");

        DescribedGroupMember mm[] = {{K("m1"),
                                      K("instance-1"),
                                      K("rdkafka"),
                                      K("/127.0.0.1"),
                                      {(const char *)sub_meta, sizeof sub_meta},
                                      {"\0\1\0\0\0\0\0\0\0\0", 10}},
                                     {K("m2"), KSTR_NULL, K(""), K("/10.0.0.2"), {"", 0}, {"", 0}}};
        DescribedGroup dg[] = {{0, K("g1"), K("Stable"), K("consumer"), K("range"), mm, 2, 328},
                               {KERR_GROUP_ID_NOT_FOUND, K("g2"), K("Dead"), K(""), K(""), NULL, 0,
                                INT32_MIN}};
        DescribeGroupsResponse rin = {2, dg, 2}, rout;
        resp_rt(&d, benc_describe_groups, cdec_describe_groups, v, &rin, &rout, sizeof rout,
                v >= 5   ? -1
                : v >= 1 ? 4
                         : 0,
                "DescribeGroups");
        EQ(rout.ThrottleTimeMs, v >= 1 ? 2 : 0);
        EQ(rout.GroupsCount, 2);
        for (int i = 0; i < 2; i++) {
            const DescribedGroup *a = &dg[i], *g = &rout.Groups[i];
            EQ(g->ErrorCode, a->ErrorCode);
            KS(g->GroupId, a->GroupId);
            KS(g->GroupState, a->GroupState);
            KS(g->ProtocolType, a->ProtocolType);
            KS(g->ProtocolData, a->ProtocolData);
            EQ(g->MembersCount, a->MembersCount);
            EQ(g->AuthorizedOperations, v >= 3 ? a->AuthorizedOperations : INT32_MIN);
            for (int j = 0; j < a->MembersCount; j++) {
                KS(g->Members[j].MemberId, a->Members[j].MemberId);
                KS(g->Members[j].GroupInstanceId,
                   v >= 4 ? a->Members[j].GroupInstanceId : KSTR_NULL);
                KS(g->Members[j].ClientId, a->Members[j].ClientId);
                KS(g->Members[j].ClientHost, a->Members[j].ClientHost);
                KS(g->Members[j].MemberMetadata, a->Members[j].MemberMetadata);
                KS(g->Members[j].MemberAssignment, a->Members[j].MemberAssignment);
            }
        }
        dec_done(&d);
    }
    FOR_VERSIONS(API_LIST_GROUPS, v)
    {
        dec_state_t d;
        ListGroupsRequest lreq;
        req_rt(&d, cenc_list_groups, bdec_list_groups, v, NULL, &lreq, sizeof lreq, "ListGroups");
        /* No body at v0-2; then tags, and empty filters (every group). */
        ck_assert_uint_eq(d.len, v < 3 ? 0 : (size_t)(v - 2));
        EQ(lreq.StatesFilterCount, 0);
        EQ(lreq.TypesFilterCount, 0);
        dec_done(&d);

        ListedGroup lg[] = {{K("g1"), K("consumer"), K("Stable"), K("classic")},
                            {K("connect-x"), K("connect"), K("Empty"), K("classic")}};
        ListGroupsResponse rin = {1, 0, lg, 2}, rout;
        resp_rt(&d, benc_list_groups, cdec_list_groups, v, &rin, &rout, sizeof rout,
                v >= 3 ? -1 : (v >= 1 ? 4 : 0) + 2, "ListGroups");
        EQ(rout.ThrottleTimeMs, v >= 1 ? 1 : 0);
        EQ(rout.ErrorCode, 0);
        EQ(rout.GroupsCount, 2);
        for (int i = 0; i < 2; i++) {
            KS(rout.Groups[i].GroupId, lg[i].GroupId);
            KS(rout.Groups[i].ProtocolType, lg[i].ProtocolType);
            KS(rout.Groups[i].GroupState, v >= 4 ? lg[i].GroupState : KSTR_NULL);
            KS(rout.Groups[i].GroupType, v >= 5 ? lg[i].GroupType : KSTR_NULL);
        }
        dec_done(&d);
    }
    expect_enc(cenc_list_groups, 6, NULL, EDDY_ERR_INVALID_ARG, "ListGroups v6");
    FOR_VERSIONS(API_DELETE_GROUPS, v)
    {
        dec_state_t d;
        kstr_t names[] = {K("g1"), K("g2")};
        DeleteGroupsRequest in = {names, 2}, out;
        req_rt(&d, cenc_delete_groups, bdec_delete_groups, v, &in, &out, sizeof out,
               "DeleteGroups");
        EQ(out.GroupsNamesCount, 2);
        KS(out.GroupsNames[0], names[0]);
        KS(out.GroupsNames[1], names[1]);
        dec_done(&d);
        DeleteGroupsRequest null_names = {NULL, -1};
        expect_enc(cenc_delete_groups, v, &null_names, EDDY_ERR_INVALID_ARG, "null names");

        DeletableGroupResult res[] = {{K("g1"), 0}, {K("g2"), KERR_NON_EMPTY_GROUP}};
        DeleteGroupsResponse rin = {5, res, 2}, rout;
        resp_rt(&d, benc_delete_groups, cdec_delete_groups, v, &rin, &rout, sizeof rout, 4,
                "DeleteGroups");
        EQ(rout.ThrottleTimeMs, 5);
        EQ(rout.ResultsCount, 2);
        for (int i = 0; i < 2; i++) {
            KS(rout.Results[i].GroupId, res[i].GroupId);
            EQ(rout.Results[i].ErrorCode, res[i].ErrorCode);
        }
        dec_done(&d);
    }
}
END_TEST

/* ---- ConsumerProtocol subscription ------------------------------------------- */

static int cdec_subscription(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, void *o)
{
    (void)v;
    return wire_consumer_subscription_decode(rd, a, (ConsumerProtocolSubscription *)o);
}

/* Decodes a subscription that must succeed, leaving `left` bytes unread. */
static void sub_dec(dec_state_t *d, const uint8_t *p, size_t len, ConsumerProtocolSubscription *r,
                    size_t left, const char *what)
{
    run_dec(d, cdec_subscription, p, len, 0, r, sizeof *r, ARENA_LIMIT);
    ck_assert_msg(d->rc == 0, "%s: %s", what, eddy_strerror(d->rc));
    ck_assert_msg(rd_remaining(&d->rd) == left, "%s: %zu bytes left", what, rd_remaining(&d->rd));
}

/* The ACL APIs, both directions at every version: filters with null
 * strings, bindings, results with messages. */
START_TEST(acls_roundtrip)
{
    FOR_VERSIONS(API_DESCRIBE_ACLS, v)
    {
        dec_state_t d;
        DescribeAclsRequest in = {ACL_RES_TOPIC, KSTR_NULL,  ACL_PAT_MATCH, K("User:alice"),
                                  KSTR_NULL,     ACL_OP_ANY, ACL_PERM_ALLOW},
                            out;
        req_rt(&d, cenc_describe_acls, bdec_describe_acls, v, &in, &out, sizeof out,
               "DescribeAcls");
        EQ(out.ResourceType, ACL_RES_TOPIC);
        KS(out.ResourceName, KSTR_NULL);
        EQ(out.PatternType, ACL_PAT_MATCH);
        KS(out.Principal, in.Principal);
        KS(out.Host, KSTR_NULL);
        EQ(out.Operation, ACL_OP_ANY);
        EQ(out.PermissionType, ACL_PERM_ALLOW);
        dec_done(&d);

        AclDescription acls[] = {{K("User:alice"), K("*"), ACL_OP_READ, ACL_PERM_ALLOW},
                                 {K("User:bob"), K("10.0.0.1"), ACL_OP_WRITE, ACL_PERM_DENY}};
        DescribeAclsResource res[] = {{ACL_RES_TOPIC, K("orders-"), ACL_PAT_PREFIXED, acls, 2}};
        DescribeAclsResponse rin = {5, 0, KSTR_NULL, res, 1}, rout;
        resp_rt(&d, benc_describe_acls, cdec_describe_acls, v, &rin, &rout, sizeof rout, -1,
                "DescribeAcls");
        EQ(rout.ThrottleTimeMs, 5);
        EQ(rout.ResourcesCount, 1);
        KS(rout.Resources[0].ResourceName, res[0].ResourceName);
        EQ(rout.Resources[0].PatternType, ACL_PAT_PREFIXED);
        EQ(rout.Resources[0].AclsCount, 2);
        KS(rout.Resources[0].Acls[1].Host, acls[1].Host);
        EQ(rout.Resources[0].Acls[1].PermissionType, ACL_PERM_DENY);
        dec_done(&d);
    }
    FOR_VERSIONS(API_CREATE_ACLS, v)
    {
        dec_state_t d;
        AclBinding b[] = {{ACL_RES_GROUP, K("g"), ACL_PAT_LITERAL, K("User:alice"), K("*"),
                           ACL_OP_READ, ACL_PERM_ALLOW},
                          {ACL_RES_CLUSTER, K("kafka-cluster"), ACL_PAT_LITERAL, K("User:*"),
                           K("*"), ACL_OP_DESCRIBE, ACL_PERM_DENY}};
        CreateAclsRequest in = {b, 2}, out;
        req_rt(&d, cenc_create_acls, bdec_create_acls, v, &in, &out, sizeof out, "CreateAcls");
        EQ(out.CreationsCount, 2);
        KS(out.Creations[1].ResourceName, b[1].ResourceName);
        KS(out.Creations[1].Principal, b[1].Principal);
        EQ(out.Creations[1].Operation, ACL_OP_DESCRIBE);
        dec_done(&d);
        /* A null principal cannot be an ACL: the broker's decoder refuses it. */
        AclBinding nul = {ACL_RES_GROUP, K("g"),      ACL_PAT_LITERAL, KSTR_NULL,
                          K("*"),        ACL_OP_READ, ACL_PERM_ALLOW};
        CreateAclsRequest bad = {&nul, 1};
        eddy_wr_t w;
        wr_init(&w);
        cenc_create_acls(&w, v, &bad);
        dec_state_t d2;
        CreateAclsRequest o2;
        run_dec(&d2, bdec_create_acls, w.wr_buf, w.wr_len, v, &o2, sizeof o2, ARENA_LIMIT);
        ck_assert_int_eq(d2.rc, EDDY_ERR_INVALID_ARG);
        dec_done(&d2);
        wr_free(&w);

        AclCreationResult r[] = {{0, KSTR_NULL}, {KERR_INVALID_REQUEST, K("bad principal")}};
        CreateAclsResponse rin = {0, r, 2}, rout;
        resp_rt(&d, benc_create_acls, cdec_create_acls, v, &rin, &rout, sizeof rout,
                v >= 2 ? -1 : 4, "CreateAcls");
        EQ(rout.ResultsCount, 2);
        EQ(rout.Results[1].ErrorCode, KERR_INVALID_REQUEST);
        KS(rout.Results[1].ErrorMessage, r[1].ErrorMessage);
        dec_done(&d);
    }
    FOR_VERSIONS(API_DELETE_ACLS, v)
    {
        dec_state_t d;
        AclBinding f = {ACL_RES_ANY, KSTR_NULL,  ACL_PAT_ANY,  KSTR_NULL,
                        KSTR_NULL,   ACL_OP_ANY, ACL_PERM_DENY};
        DeleteAclsRequest in = {&f, 1}, out;
        req_rt(&d, cenc_delete_acls, bdec_delete_acls, v, &in, &out, sizeof out, "DeleteAcls");
        EQ(out.FiltersCount, 1);
        KS(out.Filters[0].Principal, KSTR_NULL);
        EQ(out.Filters[0].PermissionType, ACL_PERM_DENY);
        dec_done(&d);

        DeleteAclsMatchingAcl m[] = {{0,
                                      KSTR_NULL,
                                      {ACL_RES_TOPIC, K("t"), ACL_PAT_LITERAL, K("User:x"), K("*"),
                                       ACL_OP_WRITE, ACL_PERM_DENY}}};
        DeleteAclsFilterResult fr[] = {{0, KSTR_NULL, m, 1},
                                       {KERR_INVALID_REQUEST, K("unknown code"), NULL, 0}};
        DeleteAclsResponse rin = {0, fr, 2}, rout;
        resp_rt(&d, benc_delete_acls, cdec_delete_acls, v, &rin, &rout, sizeof rout,
                v >= 2 ? -1 : 4, "DeleteAcls");
        EQ(rout.FilterResultsCount, 2);
        EQ(rout.FilterResults[0].MatchingAclsCount, 1);
        KS(rout.FilterResults[0].MatchingAcls[0].Acl.Principal, m[0].Acl.Principal);
        EQ(rout.FilterResults[0].MatchingAcls[0].Acl.Operation, ACL_OP_WRITE);
        EQ(rout.FilterResults[1].ErrorCode, KERR_INVALID_REQUEST);
        KS(rout.FilterResults[1].ErrorMessage, fr[1].ErrorMessage);
        dec_done(&d);
    }
    ck_assert_str_eq(wire_acl_op_name(ACL_OP_DESCRIBE_CONFIGS), "DescribeConfigs");
    ck_assert_int_eq(wire_acl_parse_op("describe-configs"), ACL_OP_DESCRIBE_CONFIGS);
    ck_assert_int_eq(wire_acl_parse_pattern("prefixed"), ACL_PAT_PREFIXED);
    ck_assert_int_eq(wire_acl_parse_res_type("TRANSACTIONAL_ID"), ACL_RES_TRANSACTIONAL_ID);
    ck_assert_int_eq(wire_acl_parse_perm("deny"), ACL_PERM_DENY);
}
END_TEST

START_TEST(subscription_roundtrip)
{
    kstr_t topics[] = {K("orders"), K("logs")};
    int32_t p0[] = {0, 2}, p1[] = {1};
    ConsumerProtocolAssignmentTopic owned[] = {{K("orders"), p0, 2},
                                               {K("logs"), p1, 1},
                                               {K("idle"), NULL, 0}};
    for (int16_t v = 0; v <= 3; v++) {
        for (int variant = 0; variant < 2; variant++) {
            ConsumerProtocolSubscription in = {v,
                                               topics,
                                               2,
                                               variant ? KSTR_NULL : K("user-data"),
                                               owned,
                                               variant ? 0 : 3,
                                               variant ? -1 : 42,
                                               variant ? KSTR_NULL : K("rack-1")},
                                         r;
            eddy_wr_t w;
            wr_init(&w);
            wire_consumer_subscription_encode(&w, &in);
            ck_assert_int_eq(w.wr_err, 0);
            /* The field boundaries after Topics, where a body may stop. */
            size_t ends[5], nends = 0;
            size_t at = 2 + 4 + (2 + 6) + (2 + 4);
            ends[nends++] = at;
            at += 4 + (variant ? 0 : 9);
            ends[nends++] = at;
            if (v >= 1) {
                at += 4 + (variant ? 0 : (2 + 6 + 4 + 8) + (2 + 4 + 4 + 4) + (2 + 4 + 4));
                ends[nends++] = at;
            }
            if (v >= 2) {
                at += 4;
                ends[nends++] = at;
            }
            if (v >= 3) {
                at += 2 + (variant ? 0 : 6);
                ends[nends++] = at;
            }
            ck_assert_uint_eq(at, w.wr_len);
            dec_state_t d;
            sub_dec(&d, w.wr_buf, w.wr_len, &r, 0, "subscription");
            EQ(r.Version, v);
            EQ(r.TopicsCount, 2);
            KS(r.Topics[0], topics[0]);
            KS(r.Topics[1], topics[1]);
            KS(r.UserData, in.UserData);
            EQ(r.OwnedPartitionsCount, v >= 1 ? in.OwnedPartitionsCount : 0);
            for (int i = 0; i < r.OwnedPartitionsCount; i++) {
                KS(r.OwnedPartitions[i].Topic, owned[i].Topic);
                EQ(r.OwnedPartitions[i].PartitionsCount, owned[i].PartitionsCount);
                for (int j = 0; j < owned[i].PartitionsCount; j++)
                    EQ(r.OwnedPartitions[i].Partitions[j], owned[i].Partitions[j]);
            }
            EQ(r.GenerationId, v >= 2 ? in.GenerationId : -1);
            KS(r.RackId, v >= 3 ? in.RackId : KSTR_NULL);
            dec_done(&d);
            /* Prefixes: those at a field boundary after Topics decode (the
             * rest at its defaults), every other one fails. */
            for (size_t n = 0; n < w.wr_len; n++) {
                int boundary = 0;
                for (size_t k = 0; k < nends; k++)
                    boundary |= ends[k] == n;
                run_dec(&d, cdec_subscription, w.wr_buf, n, 0, &r, sizeof r, ARENA_LIMIT);
                ck_assert_msg(boundary ? d.rc == 0 : d.rc != 0 && d.rc != -ENOMEM,
                              "v%d: prefix %zu of %zu: rc %d", v, n, w.wr_len, d.rc);
                if (boundary && n == ends[0]) {
                    KS(r.UserData, KSTR_NULL);
                    EQ(r.OwnedPartitionsCount, 0);
                    EQ(r.GenerationId, -1);
                    KS(r.RackId, KSTR_NULL);
                }
                dec_done(&d);
            }
            /* The top-level count is at 2: huge, negative, null. */
            check_hostile(cdec_subscription, 0, w.wr_buf, ends[0], sizeof r, 2, "subscription");
            wr_free(&w);
        }
    }
    ConsumerProtocolSubscription bad = {4, topics, 2, KSTR_NULL, NULL, 0, -1, KSTR_NULL};
    eddy_wr_t w;
    wr_init(&w);
    wire_consumer_subscription_encode(&w, &bad);
    ck_assert_int_eq(w.wr_err, EDDY_ERR_INVALID_ARG);
    wr_free(&w);
    bad.Version = -1;
    wr_init(&w);
    wire_consumer_subscription_encode(&w, &bad);
    ck_assert_int_eq(w.wr_err, EDDY_ERR_INVALID_ARG);
    wr_free(&w);
    bad.Version = 1;
    bad.OwnedPartitionsCount = -1;
    wr_init(&w);
    wire_consumer_subscription_encode(&w, &bad);
    ck_assert_int_eq(w.wr_err, EDDY_ERR_INVALID_ARG);
    wr_free(&w);
}
END_TEST

/* Subscriptions written by others. */
START_TEST(subscription_foreign)
{
    int16_t v = 0;
    dec_state_t d;
    ConsumerProtocolSubscription r;
    /* librdkafka 2.0.2 (rd_kafka_consumer_protocol_member_metadata_new):
     * Version 1, UserData empty (not null), OwnedPartitions empty. */
    /* clang-format off */
    static const uint8_t rdk_v1[] = {
        0, 1, 0, 0, 0, 1, 0, 6, 'o', 'r', 'd', 'e', 'r', 's', /* Version, Topics */
        0, 0, 0, 0,                                           /* UserData "" */
        0, 0, 0, 0,                                           /* OwnedPartitions [] */
    };
    /* clang-format on */
    sub_dec(&d, rdk_v1, sizeof rdk_v1, &r, 0, "librdkafka v1");
    EQ(r.Version, 1);
    EQ(r.TopicsCount, 1);
    KS(r.Topics[0], K("orders"));
    EQ(r.UserData.len, 0);
    EQ(r.OwnedPartitionsCount, 0);
    EQ(r.GenerationId, -1);
    dec_done(&d);

    /* ConsumerProtocolSubscription.json v3 as Kafka's Java client writes it
     * (cooperative-sticky: UserData null, owned partitions, generation,
     * rack), then the same with a future version's extra field: read as v3,
     * the extra bytes left unread. */
    eddy_wr_t w;
    wr_init(&w);
    wr_i16(&w, 3);
    wr_i32(&w, 1);
    put_str(&w, "orders");
    wr_i32(&w, -1);        /* UserData null */
    wr_i32(&w, 1);         /* OwnedPartitions */
    put_str(&w, "orders");
    wr_i32(&w, 2);
    wr_i32(&w, 0);
    wr_i32(&w, 1);
    wr_i32(&w, 9);         /* GenerationId */
    put_str(&w, "eu-1a");  /* RackId */
    sub_dec(&d, w.wr_buf, w.wr_len, &r, 0, "java v3");
    EQ(r.Version, 3);
    KS(r.UserData, KSTR_NULL);
    EQ(r.OwnedPartitionsCount, 1);
    EQ(r.OwnedPartitions[0].PartitionsCount, 2);
    EQ(r.OwnedPartitions[0].Partitions[1], 1);
    EQ(r.GenerationId, 9);
    KS(r.RackId, K("eu-1a"));
    dec_done(&d);
    be16_store(w.wr_buf, 7);
    wr_i32(&w, 0x12345678); /* a v7 field */
    sub_dec(&d, w.wr_buf, w.wr_len, &r, 4, "future v7");
    EQ(r.Version, 7);
    KS(r.RackId, K("eu-1a"));
    dec_done(&d);
    wr_free(&w);

    /* Refused: a negative version, a null topic, a null topic array, a
     * UserData cut short, a null owned partition list. */
    static const uint8_t neg[] = {0xff, 0xff, 0, 0, 0, 0};
    static const uint8_t null_topic[] = {0, 0, 0, 0, 0, 1, 0xff, 0xff};
    static const uint8_t null_topics[] = {0, 0, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t short_ud[] = {0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t null_owned[] = {0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
    static const struct {
        const uint8_t *p;
        size_t len;
        int rc;
    } bad[] = {
        {neg, sizeof neg, EDDY_ERR_INVALID_ARG},
        {null_topic, sizeof null_topic, EDDY_ERR_INVALID_ARG},
        {null_topics, sizeof null_topics, EDDY_ERR_INVALID_ARG},
        {short_ud, sizeof short_ud, EDDY_ERR_TRUNCATED},
        {null_owned, sizeof null_owned, EDDY_ERR_INVALID_ARG},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run_dec(&d, cdec_subscription, bad[i].p, bad[i].len, 0, &r, sizeof r, ARENA_LIMIT);
        ck_assert_msg(d.rc == bad[i].rc, "case %zu: rc %d", i, d.rc);
        dec_done(&d);
    }
}
END_TEST

/* DescribeUserScramCredentials and AlterUserScramCredentials: what the
 * client sends is what the broker reads, and back. */
START_TEST(scram_credentials)
{
    dec_state_t d;
    int16_t v = 0;
    kstr_t users[] = {K("alice"), K("b,o=b")};
    DescribeUserScramCredentialsRequest din = {users, 2}, dout;
    req_rt(&d, cenc_describe_user_scram, bdec_describe_user_scram, v, &din, &dout, sizeof dout,
           "DescribeUserScramCredentials");
    EQ(dout.UsersCount, 2);
    KS(dout.Users[1], users[1]);
    dec_done(&d);
    DescribeUserScramCredentialsRequest all = {NULL, -1};
    req_rt(&d, cenc_describe_user_scram, bdec_describe_user_scram, v, &all, &dout, sizeof dout,
           "DescribeUserScramCredentials (all)");
    EQ(dout.UsersCount, -1);
    dec_done(&d);
    ScramCredentialInfo infos[] = {{1, 4096}, {2, 8192}};
    DescribeUserScramCredentialsResult res[] = {{K("alice"), 0, KSTR_NULL, infos, 2},
                                                {K("nobody"), KERR_RESOURCE_NOT_FOUND,
                                                 K("does not exist"), NULL, 0}};
    DescribeUserScramCredentialsResponse drin = {5, 0, KSTR_NULL, res, 2}, drout;
    resp_rt(&d, benc_describe_user_scram, cdec_describe_user_scram, v, &drin, &drout, sizeof drout,
            -1, "DescribeUserScramCredentials");
    EQ(drout.ThrottleTimeMs, 5);
    EQ(drout.ResultsCount, 2);
    EQ(drout.Results[0].CredentialInfosCount, 2);
    EQ(drout.Results[0].CredentialInfos[1].Mechanism, 2);
    EQ(drout.Results[0].CredentialInfos[1].Iterations, 8192);
    EQ(drout.Results[1].ErrorCode, KERR_RESOURCE_NOT_FOUND);
    KS(drout.Results[1].ErrorMessage, K("does not exist"));
    dec_done(&d);

    ScramCredentialDeletion del[] = {{K("bob"), 2}};
    ScramCredentialUpsertion up[] = {
        {K("alice"), 1, 8192, K("salt-bytes"), K("0123456789abcdef0123456789abcdef")}};
    AlterUserScramCredentialsRequest ain = {del, 1, up, 1}, aout;
    req_rt(&d, cenc_alter_user_scram, bdec_alter_user_scram, v, &ain, &aout, sizeof aout,
           "AlterUserScramCredentials");
    EQ(aout.DeletionsCount, 1);
    KS(aout.Deletions[0].Name, K("bob"));
    EQ(aout.Deletions[0].Mechanism, 2);
    EQ(aout.UpsertionsCount, 1);
    EQ(aout.Upsertions[0].Iterations, 8192);
    KS(aout.Upsertions[0].Salt, up[0].Salt);
    KS(aout.Upsertions[0].SaltedPassword, up[0].SaltedPassword);
    dec_done(&d);
    AlterUserScramCredentialsResult ares[] = {{K("alice"), 0, KSTR_NULL},
                                              {K("bob"), KERR_UNACCEPTABLE_CREDENTIAL,
                                               K("Too few iterations")}};
    AlterUserScramCredentialsResponse arin = {0, ares, 2}, arout;
    resp_rt(&d, benc_alter_user_scram, cdec_alter_user_scram, v, &arin, &arout, sizeof arout, -1,
            "AlterUserScramCredentials");
    EQ(arout.ResultsCount, 2);
    EQ(arout.Results[1].ErrorCode, KERR_UNACCEPTABLE_CREDENTIAL);
    KS(arout.Results[1].ErrorMessage, K("Too few iterations"));
    dec_done(&d);
}
END_TEST

START_TEST(cluster_admin_and_offset_delete)
{
    FOR_VERSIONS(API_CREATE_PARTITIONS, v)
    {
        dec_state_t d;
        int32_t ids[] = {0};
        CreatePartitionsAssignment as[] = {{ids, 1}, {ids, 1}};
        CreatePartitionsTopic tp[] = {{K("t1"), 4, as, 2}, {K("t2"), 9, NULL, -1}};
        CreatePartitionsRequest in = {tp, 2, 30000, 1}, out;
        req_rt(&d, cenc_create_partitions, bdec_create_partitions, v, &in, &out, sizeof out,
               "CreatePartitions");
        EQ(out.TopicsCount, 2);
        KS(out.Topics[0].Name, tp[0].Name);
        EQ(out.Topics[0].Count, 4);
        EQ(out.Topics[0].AssignmentsCount, 2);
        EQ(out.Topics[0].Assignments[1].BrokerIdsCount, 1);
        EQ(out.Topics[0].Assignments[1].BrokerIds[0], 0);
        KS(out.Topics[1].Name, tp[1].Name);
        EQ(out.Topics[1].Count, 9);
        EQ(out.Topics[1].AssignmentsCount, -1);
        EQ(out.TimeoutMs, 30000);
        EQ(out.ValidateOnly, 1);
        dec_done(&d);

        CreatePartitionsTopicResult res[] = {
            {K("t1"), 0, KSTR_NULL}, {K("t2"), KERR_INVALID_PARTITIONS, K("never shrinks")}};
        CreatePartitionsResponse rin = {3, res, 2}, rout;
        resp_rt(&d, benc_create_partitions, cdec_create_partitions, v, &rin, &rout, sizeof rout,
                v >= 2 ? -1 : 4, "CreatePartitions");
        EQ(rout.ThrottleTimeMs, 3);
        EQ(rout.ResultsCount, 2);
        for (int i = 0; i < 2; i++) {
            KS(rout.Results[i].Name, res[i].Name);
            EQ(rout.Results[i].ErrorCode, res[i].ErrorCode);
            KS(rout.Results[i].ErrorMessage, res[i].ErrorMessage);
        }
        dec_done(&d);
    }
    FOR_VERSIONS(API_DESCRIBE_CLUSTER, v)
    {
        dec_state_t d;
        DescribeClusterRequest in = {1, 1}, out;
        req_rt(&d, cenc_describe_cluster, bdec_describe_cluster, v, &in, &out, sizeof out,
               "DescribeCluster");
        EQ(out.IncludeClusterAuthorizedOperations, 1);
        EQ(out.EndpointType, 1);
        dec_done(&d);
        DescribeClusterRequest ctl = {0, 2};
        if (v == 0)
            expect_enc(cenc_describe_cluster, v, &ctl, EDDY_ERR_INVALID_ARG, "controllers at v0");

        DescribeClusterBroker br[] = {{0, K("127.0.0.1"), 9092, KSTR_NULL}};
        DescribeClusterResponse rin = {0, 0, KSTR_NULL, 1, K("cluster-x"), 0, br, 1, INT32_MIN},
                                rout;
        resp_rt(&d, benc_describe_cluster, cdec_describe_cluster, v, &rin, &rout, sizeof rout, -1,
                "DescribeCluster");
        EQ(rout.ErrorCode, 0);
        KS(rout.ErrorMessage, KSTR_NULL);
        KS(rout.ClusterId, rin.ClusterId);
        EQ(rout.ControllerId, 0);
        EQ(rout.BrokersCount, 1);
        KS(rout.Brokers[0].Host, br[0].Host);
        EQ(rout.Brokers[0].Port, 9092);
        KS(rout.Brokers[0].Rack, KSTR_NULL);
        EQ(rout.ClusterAuthorizedOperations, INT32_MIN);
        dec_done(&d);
    }
    FOR_VERSIONS(API_OFFSET_DELETE, v)
    {
        dec_state_t d;
        int32_t parts[] = {0, 2};
        OffsetDeleteRequestTopic tp[] = {{K("t1"), parts, 2}};
        OffsetDeleteRequest in = {K("g"), tp, 1}, out;
        req_rt(&d, cenc_offset_delete, bdec_offset_delete, v, &in, &out, sizeof out,
               "OffsetDelete");
        KS(out.GroupId, in.GroupId);
        EQ(out.TopicsCount, 1);
        KS(out.Topics[0].Name, tp[0].Name);
        EQ(out.Topics[0].PartitionsCount, 2);
        EQ(out.Topics[0].Partitions[1], 2);
        dec_done(&d);

        OffsetDeleteResponsePartition rp[] = {{0, 0}, {2, KERR_GROUP_SUBSCRIBED_TO_TOPIC}};
        OffsetDeleteResponseTopic rt[] = {{K("t1"), rp, 2}};
        OffsetDeleteResponse rin = {0, 7, rt, 1}, rout;
        resp_rt(&d, benc_offset_delete, cdec_offset_delete, v, &rin, &rout, sizeof rout, 6,
                "OffsetDelete");
        EQ(rout.ErrorCode, 0);
        EQ(rout.ThrottleTimeMs, 7);
        EQ(rout.TopicsCount, 1);
        EQ(rout.Topics[0].PartitionsCount, 2);
        EQ(rout.Topics[0].Partitions[1].PartitionIndex, 2);
        EQ(rout.Topics[0].Partitions[1].ErrorCode, KERR_GROUP_SUBSCRIBED_TO_TOPIC);
        dec_done(&d);
    }
}
END_TEST

/* Versions outside the client's ranges: encoders fail the writer, decoders
 * refuse before reading. */
START_TEST(unsupported_versions)
{
    static const struct {
        int api;
        enc_fn enc;
        dec_fn dec;
    } apis[] = {
        {API_API_VERSIONS, cenc_api_versions, cdec_api_versions},
        {API_METADATA, cenc_metadata, cdec_metadata},
        {API_PRODUCE, cenc_produce, cdec_produce},
        {API_FETCH, cenc_fetch, cdec_fetch},
        {API_LIST_OFFSETS, cenc_list_offsets, cdec_list_offsets},
        {API_CREATE_TOPICS, cenc_create_topics, cdec_create_topics},
        {API_DELETE_TOPICS, cenc_delete_topics, cdec_delete_topics},
        {API_DELETE_RECORDS, cenc_delete_records, cdec_delete_records},
        {API_DESCRIBE_CONFIGS, cenc_describe_configs, cdec_describe_configs},
        {API_ALTER_CONFIGS, cenc_alter_configs, cdec_alter_configs},
        {API_INCREMENTAL_ALTER_CONFIGS, cenc_incremental_alter_configs,
         cdec_incremental_alter_configs},
        {API_FIND_COORDINATOR, cenc_find_coordinator, cdec_find_coordinator},
        {API_JOIN_GROUP, cenc_join_group, cdec_join_group},
        {API_SYNC_GROUP, cenc_sync_group, cdec_sync_group},
        {API_HEARTBEAT, cenc_heartbeat, cdec_heartbeat},
        {API_LEAVE_GROUP, cenc_leave_group, cdec_leave_group},
        {API_OFFSET_COMMIT, cenc_offset_commit, cdec_offset_commit},
        {API_OFFSET_FETCH, cenc_offset_fetch, cdec_offset_fetch},
        {API_DESCRIBE_GROUPS, cenc_describe_groups, cdec_describe_groups},
        {API_LIST_GROUPS, cenc_list_groups, cdec_list_groups},
        {API_DELETE_GROUPS, cenc_delete_groups, cdec_delete_groups},
        {API_CREATE_PARTITIONS, cenc_create_partitions, cdec_create_partitions},
        {API_OFFSET_DELETE, cenc_offset_delete, cdec_offset_delete},
        {API_DESCRIBE_CLUSTER, cenc_describe_cluster, cdec_describe_cluster},
        {API_DESCRIBE_ACLS, cenc_describe_acls, cdec_describe_acls},
        {API_CREATE_ACLS, cenc_create_acls, cdec_create_acls},
        {API_DELETE_ACLS, cenc_delete_acls, cdec_delete_acls},
        {API_DESCRIBE_USER_SCRAM_CREDENTIALS, cenc_describe_user_scram, cdec_describe_user_scram},
        {API_ALTER_USER_SCRAM_CREDENTIALS, cenc_alter_user_scram, cdec_alter_user_scram},
        {API_SASL_HANDSHAKE, cenc_sasl_handshake, cdec_sasl_handshake},
        {API_SASL_AUTHENTICATE, cenc_sasl_authenticate, cdec_sasl_authenticate},
    };
    /* InitProducerId, DescribeClientQuotas, TxnOffsetCommit, WriteTxnMarkers
     * and the transaction coordinator's five APIs have broker codecs only
     * here (driven over the wire by broker_idempotence.py, broker_sasl.py,
     * broker_txn_offsets.py, broker_transactions.py and broker_txn.py). */
    ck_assert_int_eq((int)(sizeof apis / sizeof apis[0]) + 9, broker_api_versions_count);
    /* Big enough for any request or response struct, zeroed: an encoder
     * must not look at it before checking the version. */
    union {
        FetchRequest f;
        FetchResponse fr;
        OffsetCommitRequest oc;
        JoinGroupRequest jg;
        DescribeConfigsResponse dc;
        MetadataResponse md;
        char pad[256];
    } any;
    static const uint8_t body[64] = {0};
    for (size_t i = 0; i < sizeof apis / sizeof apis[0]; i++) {
        int lo, hi;
        range_of(apis[i].api, &lo, &hi);
        const int16_t bad[] = {(int16_t)(lo - 1), (int16_t)(hi + 1), INT16_MAX, INT16_MIN};
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
            memset(&any, 0, sizeof any);
            eddy_wr_t w;
            wr_init(&w);
            apis[i].enc(&w, bad[k], &any);
            ck_assert_msg(w.wr_err == EDDY_ERR_INVALID_ARG && w.wr_len == 0, "%s v%d: encoded",
                          kafka_api_name(apis[i].api), bad[k]);
            wr_free(&w);
            dec_state_t d;
            run_dec(&d, apis[i].dec, body, sizeof body, bad[k], &any, sizeof any, ARENA_LIMIT);
            ck_assert_msg(d.rc == EDDY_ERR_INVALID_ARG && d.rd.rd_pos == 0, "%s v%d: decoded",
                          kafka_api_name(apis[i].api), bad[k]);
            dec_done(&d);
        }
    }
    /* A string the legacy format cannot carry. */
    char *big = malloc(40000);
    ck_assert_ptr_nonnull(big);
    memset(big, 'x', 40000);
    FindCoordinatorRequest fc = {{big, 40000}, 0};
    expect_enc(cenc_find_coordinator, 1, &fc, EDDY_ERR_TOO_LARGE, "40000-byte key");
    RequestHeader h = {API_METADATA, 1, 1, {big, 40000}, 1};
    eddy_wr_t w;
    wr_init(&w);
    wire_request_header_encode(&w, &h);
    ck_assert_int_eq(w.wr_err, EDDY_ERR_TOO_LARGE);
    wr_free(&w);
    free(big);
}
END_TEST

/* ---- response bytes from real brokers -------------------------------------------
 * Captured by a throwaway program that sent requests written by these
 * encoders to librdkafka 2.0.2's mock cluster (rd_kafka_mock_cluster_new, a
 * broker implementation independent of Eddy; it speaks Metadata v0-2 and no
 * DescribeGroups/ListGroups) and to `eddy broker`, and kept the response
 * bodies (after the response header). The mock parsed every request of a
 * version it speaks. */
static const uint8_t mock_api_versions_v0[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x0b, 0x00, 0x02, 0x00, 0x00, 0x00, 0x05, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0x00, 0x08,
    0x00, 0x00, 0x00, 0x07, 0x00, 0x09, 0x00, 0x00, 0x00, 0x05, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x02,
    0x00, 0x0b, 0x00, 0x00, 0x00, 0x05, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x03, 0x00, 0x0d, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x03, 0x00, 0x12, 0x00, 0x00, 0x00, 0x02, 0x00, 0x16,
    0x00, 0x00, 0x00, 0x04, 0x00, 0x18, 0x00, 0x00, 0x00, 0x01, 0x00, 0x19, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x1a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x1c, 0x00, 0x00, 0x00, 0x02,
};
static const uint8_t mock_api_versions_v3[] = {
    0x00, 0x23, 0x01, 0x00, 0x12, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t mock_metadata_v2[] = {
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x09, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e,
    0x30, 0x2e, 0x31, 0x00, 0x00, 0xaf, 0x35, 0xff, 0xff, 0x00, 0x17, 0x6d, 0x6f, 0x63, 0x6b, 0x43,
    0x6c, 0x75, 0x73, 0x74, 0x65, 0x72, 0x31, 0x35, 0x37, 0x39, 0x30, 0x37, 0x37, 0x38, 0x62, 0x30,
    0x61, 0x38, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x6f, 0x72,
    0x64, 0x65, 0x72, 0x73, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
};
/* clang-format off */
static const uint8_t mock_produce_v7[] = {
    0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x73, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x04, 0xd2, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00,
};
/* clang-format on */
static const uint8_t mock_fetch_v11[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06,
    0x6f, 0x72, 0x64, 0x65, 0x72, 0x73, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
    0x00, 0x00, 0x00, 0x57, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4b,
    0xff, 0xff, 0xff, 0xff, 0x02, 0xc3, 0x14, 0xfa, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
    0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x01, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00,
    0x02, 0x1a, 0x00, 0x00, 0x00, 0x04, 0x6b, 0x31, 0x0a, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x00, 0x16,
    0x00, 0x02, 0x02, 0x01, 0x0a, 0x77, 0x6f, 0x72, 0x6c, 0x64, 0x00,
};
/* clang-format off */
static const uint8_t mock_list_offsets_v0[] = {
    0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x73, 0x00, 0x00, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00,
};
/* clang-format on */
/* clang-format off */
static const uint8_t mock_find_coordinator_v2[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x09, 0x31, 0x32,
    0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x00, 0x00, 0xaf, 0x35,
};
/* clang-format on */
/* clang-format off */
static const uint8_t mock_join_group_v5_first[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x05, 0x72, 0x61, 0x6e, 0x67,
    0x65, 0x00, 0x0e, 0x30, 0x78, 0x37, 0x66, 0x35, 0x31, 0x36, 0x38, 0x30, 0x30, 0x32, 0x61, 0x34,
    0x30, 0x00, 0x0e, 0x30, 0x78, 0x37, 0x66, 0x35, 0x31, 0x36, 0x38, 0x30, 0x30, 0x32, 0x61, 0x34,
    0x30, 0x00, 0x00, 0x00, 0x01, 0x00, 0x0e, 0x30, 0x78, 0x37, 0x66, 0x35, 0x31, 0x36, 0x38, 0x30,
    0x30, 0x32, 0x61, 0x34, 0x30, 0xff, 0xff, 0x00, 0x00, 0x00, 0x16, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x06, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x73, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00,
    0x00,
};
/* clang-format on */
/* clang-format off */
static const uint8_t mock_sync_group_v3[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x06, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x73, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff,
};
/* clang-format on */
static const uint8_t mock_offset_fetch_v5[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x73,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0xff, 0xff, 0xff, 0xff, 0x00, 0x01, 0x6d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t eddy_api_versions_v3[] = {
    0x00, 0x00, 0x29, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x01, 0x00, 0x04, 0x00, 0x0b,
    0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00,
    0x12, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x13, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x14, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x15, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00,
    0x04, 0x00, 0x00, 0x21, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x01, 0x00,
    0x00, 0x0a, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x0e,
    0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x0d, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x07,
    0x00, 0x00, 0x0f, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00,
    0x2a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x25, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x2f, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x16, 0x00, 0x00, 0x00,
    0x05, 0x00, 0x00, 0x1d, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x1e, 0x00, 0x01, 0x00, 0x03, 0x00,
    0x00, 0x1f, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x11, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x24,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x32, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x33, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x03,
    0x00, 0x00, 0x19, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x1a, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00,
    0x41, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x42, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x1c, 0x00,
    0x00, 0x00, 0x04, 0x00, 0x00, 0x1b, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t eddy_metadata_v4[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x31, 0x32,
    0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x00, 0x00, 0x99, 0xe3, 0xff, 0xff, 0x00, 0x15, 0x65,
    0x64, 0x64, 0x79, 0x2d, 0x61, 0x65, 0x36, 0x39, 0x38, 0x64, 0x39, 0x65, 0x35, 0x62, 0x61, 0x61,
    0x36, 0x38, 0x30, 0x39, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06,
    0x6f, 0x72, 0x64, 0x65, 0x72, 0x73, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
};
/* clang-format off */
static const uint8_t eddy_create_topics_v4[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x73,
    0x00, 0x00, 0xff, 0xff,
};
/* clang-format on */
static const uint8_t eddy_join_group_v5_first[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x4f, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2c,
    0x63, 0x61, 0x70, 0x74, 0x75, 0x72, 0x65, 0x2d, 0x66, 0x31, 0x38, 0x63, 0x34, 0x33, 0x35, 0x64,
    0x2d, 0x35, 0x64, 0x37, 0x31, 0x2d, 0x34, 0x37, 0x31, 0x65, 0x2d, 0x39, 0x62, 0x36, 0x64, 0x2d,
    0x34, 0x35, 0x33, 0x36, 0x39, 0x39, 0x38, 0x31, 0x38, 0x36, 0x31, 0x30, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t eddy_describe_groups_v2[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03, 0x67, 0x72, 0x70, 0x00,
    0x06, 0x53, 0x74, 0x61, 0x62, 0x6c, 0x65, 0x00, 0x08, 0x63, 0x6f, 0x6e, 0x73, 0x75, 0x6d, 0x65,
    0x72, 0x00, 0x05, 0x72, 0x61, 0x6e, 0x67, 0x65, 0x00, 0x00, 0x00, 0x01, 0x00, 0x2c, 0x63, 0x61,
    0x70, 0x74, 0x75, 0x72, 0x65, 0x2d, 0x66, 0x31, 0x38, 0x63, 0x34, 0x33, 0x35, 0x64, 0x2d, 0x35,
    0x64, 0x37, 0x31, 0x2d, 0x34, 0x37, 0x31, 0x65, 0x2d, 0x39, 0x62, 0x36, 0x64, 0x2d, 0x34, 0x35,
    0x33, 0x36, 0x39, 0x39, 0x38, 0x31, 0x38, 0x36, 0x31, 0x30, 0x00, 0x07, 0x63, 0x61, 0x70, 0x74,
    0x75, 0x72, 0x65, 0x00, 0x0a, 0x2f, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x00,
    0x00, 0x00, 0x16, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x6f, 0x72, 0x64, 0x65, 0x72,
    0x73, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1e, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x06, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x73, 0x00, 0x00, 0x00, 0x02, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff,
};
/* clang-format off */
static const uint8_t eddy_list_groups_v2[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x03, 0x67, 0x72, 0x70, 0x00,
    0x08, 0x63, 0x6f, 0x6e, 0x73, 0x75, 0x6d, 0x65, 0x72,
};
/* clang-format on */
/* clang-format off */
static const uint8_t eddy_delete_records_v1[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x73,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00,
};
/* clang-format on */

/* Decodes captured bytes that must decode whole, and runs the hostile
 * checks on them. */
static void captured(dec_state_t *d, dec_fn f, const uint8_t *p, size_t len, int16_t v, void *out,
                     size_t out_size, long count_at, const char *what)
{
    check_hostile(f, v, p, len, out_size, count_at, what);
    dec_ok(d, f, p, len, v, out, out_size, what);
}

START_TEST(captured_mock)
{
    dec_state_t d;
    int16_t v = 0;
    {
        ApiVersionsResponse r;
        captured(&d, cdec_api_versions, mock_api_versions_v0, sizeof mock_api_versions_v0, v, &r,
                 sizeof r, 2, "mock ApiVersions v0");
        EQ(r.ErrorCode, 0);
        EQ(r.ApiKeysCount, 17);
        EQ(r.ApiKeys[0].api_key, API_PRODUCE);
        EQ(r.ApiKeys[0].max, 7);
        EQ(r.ApiKeys[3].api_key, API_METADATA);
        EQ(r.ApiKeys[3].max, 2);
        EQ(r.ApiKeys[11].api_key, API_API_VERSIONS);
        EQ(r.ApiKeys[11].max, 2);
        ck_assert_int_eq(wire_pick_version(API_METADATA, r.ApiKeys[3].min, r.ApiKeys[3].max), 2);
        ck_assert_int_eq(wire_pick_version(API_FETCH, r.ApiKeys[1].min, r.ApiKeys[1].max), 11);
        dec_done(&d);
    }
    {
        /* The mock's answer to ApiVersions v3, which it does not speak: not
         * the v0 body Kafka sends but a malformed flexible one (an array
         * count of 1 for its one entry where compact arrays count n + 1, no
         * tags). It is not a v0 body, so it is read as v3: the
         * UNSUPPORTED_VERSION comes through, with no ranges (the client then
         * retries with v0), and 5 bytes are left over. */
        v = 3;
        ApiVersionsResponse r;
        run_dec(&d, cdec_api_versions, mock_api_versions_v3, sizeof mock_api_versions_v3, v, &r,
                sizeof r, ARENA_LIMIT);
        EQ(d.rc, 0);
        EQ(r.ErrorCode, KERR_UNSUPPORTED_VERSION);
        EQ(r.ApiKeysCount, 0);
        EQ(rd_remaining(&d.rd), 5);
        dec_done(&d);
    }
    {
        v = 2;
        MetadataResponse r;
        captured(&d, cdec_metadata, mock_metadata_v2, sizeof mock_metadata_v2, v, &r, sizeof r, 0,
                 "mock Metadata v2");
        EQ(r.BrokersCount, 1);
        EQ(r.Brokers[0].NodeId, 1);
        KS(r.Brokers[0].Host, K("127.0.0.1"));
        KS(r.Brokers[0].Rack, KSTR_NULL);
        KS(r.ClusterId, K("mockCluster15790778b0a8"));
        EQ(r.ControllerId, 0); /* what the mock sends */
        EQ(r.TopicsCount, 1);
        KS(r.Topics[0].Name, K("orders"));
        EQ(r.Topics[0].PartitionsCount, 2);
        EQ(r.Topics[0].Partitions[1].PartitionIndex, 1);
        EQ(r.Topics[0].Partitions[1].LeaderId, 1);
        EQ(r.Topics[0].Partitions[1].ReplicaNodesCount, 1);
        EQ(r.Topics[0].Partitions[1].IsrNodes[0], 1);
        dec_done(&d);
    }
    {
        v = 7;
        ProduceResponse r;
        captured(&d, cdec_produce, mock_produce_v7, sizeof mock_produce_v7, v, &r, sizeof r, 0,
                 "mock Produce v7");
        EQ(r.ResponsesCount, 1);
        EQ(r.Responses[0].PartitionResponses[0].ErrorCode, 0);
        EQ(r.Responses[0].PartitionResponses[0].BaseOffset, 2);
        EQ(r.Responses[0].PartitionResponses[0].LogAppendTimeMs, 1234);
        EQ(r.Responses[0].PartitionResponses[0].LogStartOffset, 0);
        EQ(r.ThrottleTimeMs, 0);
        dec_done(&d);
    }
    {
        v = 11;
        FetchResponse r;
        captured(&d, cdec_fetch, mock_fetch_v11, sizeof mock_fetch_v11, v, &r, sizeof r, 10,
                 "mock Fetch v11");
        EQ(r.SessionId, 0);
        EQ(r.ResponsesCount, 1);
        KS(r.Responses[0].Topic, K("orders"));
        const FetchResponsePartition *p = &r.Responses[0].Partitions[0];
        EQ(p->ErrorCode, 0);
        EQ(p->HighWatermark, 4);
        EQ(p->LastStableOffset, 4);
        EQ(p->LogStartOffset, 0);
        EQ(p->AbortedTransactionsCount, 0);
        EQ(p->PreferredReadReplica, -1);
        EQ(p->Records.len, 87); /* one record batch: baseOffset 0, magic 2 */
        EQ(be64_load((const uint8_t *)p->Records.ptr), 0);
        EQ(p->Records.ptr[16], 2);
        dec_done(&d);
    }
    {
        v = 0;
        ListOffsetsResponse r;
        captured(&d, cdec_list_offsets, mock_list_offsets_v0, sizeof mock_list_offsets_v0, v, &r,
                 sizeof r, 0, "mock ListOffsets v0");
        EQ(r.Topics[0].PartitionsCount, 2);
        EQ(r.Topics[0].Partitions[0].Offset, 4); /* latest */
        EQ(r.Topics[0].Partitions[1].Offset, 0); /* earliest */
        EQ(r.Topics[0].Partitions[1].Timestamp, -1);
        dec_done(&d);
    }
    {
        v = 2;
        FindCoordinatorResponse r;
        captured(&d, cdec_find_coordinator, mock_find_coordinator_v2,
                 sizeof mock_find_coordinator_v2, v, &r, sizeof r, -1, "mock FindCoordinator v2");
        EQ(r.ErrorCode, 0);
        KS(r.ErrorMessage, KSTR_NULL);
        EQ(r.NodeId, 1);
        KS(r.Host, K("127.0.0.1"));
        EQ(r.Port, 44853);
        dec_done(&d);
    }
    {
        /* The mock makes the first member leader at once: its metadata is
         * the subscription sent (v1, UserData null, nothing owned). */
        v = 5;
        JoinGroupResponse r;
        captured(&d, cdec_join_group, mock_join_group_v5_first, sizeof mock_join_group_v5_first, v,
                 &r, sizeof r, -1, "mock JoinGroup v5");
        EQ(r.ErrorCode, 0);
        EQ(r.GenerationId, 2);
        KS(r.ProtocolName, K("range"));
        KS(r.Leader, K("0x7f5168002a40"));
        KS(r.MemberId, r.Leader);
        EQ(r.MembersCount, 1);
        KS(r.Members[0].GroupInstanceId, KSTR_NULL);
        EQ(r.Members[0].Metadata.len, 22);
        dec_state_t s;
        ConsumerProtocolSubscription sub;
        sub_dec(&s, (const uint8_t *)r.Members[0].Metadata.ptr, 22, &sub, 0, "mock member");
        EQ(sub.Version, 1);
        EQ(sub.TopicsCount, 1);
        ck_assert(kstr_eq(sub.Topics[0], "orders"));
        EQ(sub.UserData.len, -1);
        EQ(sub.OwnedPartitionsCount, 0);
        dec_done(&s);
        dec_done(&d);
    }
    {
        v = 3;
        SyncGroupResponse r;
        captured(&d, cdec_sync_group, mock_sync_group_v3, sizeof mock_sync_group_v3, v, &r,
                 sizeof r, -1, "mock SyncGroup v3");
        EQ(r.ErrorCode, 0);
        EQ(r.Assignment.len, 30);
        eddy_rd_t ard;
        rd_init(&ard, r.Assignment.ptr, 30);
        ConsumerProtocolAssignment as;
        ck_assert_int_eq(wire_consumer_assignment_decode(&ard, &d.a, &as), 0);
        EQ(as.AssignedPartitionsCount, 1);
        EQ(as.AssignedPartitions[0].PartitionsCount, 2);
        dec_done(&d);
    }
    {
        v = 5;
        OffsetFetchResponse r;
        captured(&d, cdec_offset_fetch, mock_offset_fetch_v5, sizeof mock_offset_fetch_v5, v, &r,
                 sizeof r, 4, "mock OffsetFetch v5");
        EQ(r.TopicsCount, 1);
        const OffsetFetchResponsePartition *p = r.Topics[0].Partitions;
        EQ(r.Topics[0].PartitionsCount, 2);
        EQ(p[0].CommittedOffset, 2);
        EQ(p[0].CommittedLeaderEpoch, -1);
        KS(p[0].Metadata, K("m"));
        EQ(p[1].CommittedOffset, -1);
        KS(p[1].Metadata, KSTR_NULL);
        EQ(r.ErrorCode, 0);
        dec_done(&d);
    }
}
END_TEST

START_TEST(captured_eddy)
{
    dec_state_t d;
    int16_t v = 3;
    {
        ApiVersionsResponse r;
        captured(&d, cdec_api_versions, eddy_api_versions_v3, sizeof eddy_api_versions_v3, v, &r,
                 sizeof r, -1, "eddy ApiVersions v3");
        EQ(r.ErrorCode, 0);
        EQ(r.ApiKeysCount, broker_api_versions_count);
        for (int i = 0; i < r.ApiKeysCount; i++) {
            EQ(r.ApiKeys[i].api_key, broker_api_versions[i].api_key);
            /* A capture older than a version bump would advertise a lower max:
             * the lower one wins. */
            int hi = r.ApiKeys[i].max < broker_api_versions[i].max ? r.ApiKeys[i].max
                                                                   : broker_api_versions[i].max;
            EQ(wire_pick_version(r.ApiKeys[i].api_key, r.ApiKeys[i].min, r.ApiKeys[i].max), hi);
        }
        dec_done(&d);
    }
    {
        v = 4;
        MetadataResponse r;
        captured(&d, cdec_metadata, eddy_metadata_v4, sizeof eddy_metadata_v4, v, &r, sizeof r, 4,
                 "eddy Metadata v4");
        EQ(r.Brokers[0].NodeId, 0);
        EQ(r.Brokers[0].Port, 39395);
        KS(r.ClusterId, K("eddy-ae698d9e5baa6809"));
        EQ(r.Topics[0].PartitionsCount, 2);
        dec_done(&d);
    }
    {
        CreateTopicsResponse r;
        captured(&d, cdec_create_topics, eddy_create_topics_v4, sizeof eddy_create_topics_v4, v, &r,
                 sizeof r, 4, "eddy CreateTopics v4");
        EQ(r.TopicsCount, 1);
        KS(r.Topics[0].Name, K("orders"));
        EQ(r.Topics[0].ErrorCode, 0);
        KS(r.Topics[0].ErrorMessage, KSTR_NULL);
        dec_done(&d);
    }
    {
        v = 5;
        JoinGroupResponse r;
        captured(&d, cdec_join_group, eddy_join_group_v5_first, sizeof eddy_join_group_v5_first, v,
                 &r, sizeof r, -1, "eddy JoinGroup v5");
        EQ(r.ErrorCode, KERR_MEMBER_ID_REQUIRED);
        EQ(r.GenerationId, -1);
        KS(r.MemberId, K("capture-f18c435d-5d71-471e-9b6d-453699818610"));
        EQ(r.MembersCount, 0);
        dec_done(&d);
    }
    {
        v = 2;
        DescribeGroupsResponse r;
        captured(&d, cdec_describe_groups, eddy_describe_groups_v2, sizeof eddy_describe_groups_v2,
                 v, &r, sizeof r, 4, "eddy DescribeGroups v2");
        EQ(r.GroupsCount, 1);
        KS(r.Groups[0].GroupState, K("Stable"));
        KS(r.Groups[0].ProtocolData, K("range"));
        EQ(r.Groups[0].MembersCount, 1);
        KS(r.Groups[0].Members[0].ClientId, K("capture"));
        KS(r.Groups[0].Members[0].ClientHost, K("/127.0.0.1"));
        EQ(r.Groups[0].Members[0].MemberMetadata.len, 22);
        EQ(r.Groups[0].Members[0].MemberAssignment.len, 30);
        dec_done(&d);
    }
    {
        ListGroupsResponse r;
        captured(&d, cdec_list_groups, eddy_list_groups_v2, sizeof eddy_list_groups_v2, v, &r,
                 sizeof r, 6, "eddy ListGroups v2");
        EQ(r.GroupsCount, 1);
        KS(r.Groups[0].GroupId, K("grp"));
        KS(r.Groups[0].ProtocolType, K("consumer"));
        dec_done(&d);
    }
    {
        v = 1;
        DeleteRecordsResponse r;
        captured(&d, cdec_delete_records, eddy_delete_records_v1, sizeof eddy_delete_records_v1, v,
                 &r, sizeof r, 4, "eddy DeleteRecords v1");
        EQ(r.Topics[0].Partitions[0].LowWatermark, 1);
        EQ(r.Topics[0].Partitions[0].ErrorCode, 0);
        dec_done(&d);
    }
}
END_TEST

TCase *tcase_client_api(void)
{
    TCase *tc = tcase_create("client_api");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, request_header);
    tcase_add_test(tc, response_header);
    tcase_add_test(tc, pick_version);
    tcase_add_test(tc, init_producer_id);
    tcase_add_test(tc, unsupported_versions);
    tcase_add_test(tc, api_versions);
    tcase_add_test(tc, api_versions_flexible_and_fallback);
    tcase_add_test(tc, metadata);
    tcase_add_test(tc, produce);
    tcase_add_test(tc, fetch);
    tcase_add_test(tc, fetch_response_spec);
    tcase_add_test(tc, list_offsets);
    tcase_add_test(tc, create_topics);
    tcase_add_test(tc, delete_topics);
    tcase_add_test(tc, delete_records);
    tcase_add_test(tc, describe_configs);
    tcase_add_test(tc, alter_configs);
    tcase_add_test(tc, describe_configs_synonyms);
    tcase_add_test(tc, find_coordinator);
    tcase_add_test(tc, join_group);
    tcase_add_test(tc, sync_group);
    tcase_add_test(tc, heartbeat_leave_group);
    tcase_add_test(tc, offset_commit);
    tcase_add_test(tc, offset_fetch);
    tcase_add_test(tc, describe_list_delete_groups);
    tcase_add_test(tc, cluster_admin_and_offset_delete);
    tcase_add_test(tc, acls_roundtrip);
    tcase_add_test(tc, scram_credentials);
    tcase_add_test(tc, subscription_roundtrip);
    tcase_add_test(tc, subscription_foreign);
    tcase_add_test(tc, captured_mock);
    tcase_add_test(tc, captured_eddy);
    return tc;
}

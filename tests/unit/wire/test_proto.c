/* Kafka framing (wire/proto.c): names, flexible versions, request and
 * response headers, and the string/bytes/array/tag primitives, against byte
 * sequences written out by hand from the Kafka protocol guide and the JSON
 * specs (RequestHeader.json, ResponseHeader.json). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "wire/api.h"
#include "wire/proto.h"

/* A heap copy of exactly n bytes, so ASan sees a read one past the end. */
static uint8_t *exact_copy(const void *p, size_t n)
{
    uint8_t *q = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(q);
    if (n)
        memcpy(q, p, n);
    return q;
}

#define ASSERT_BYTES(wr, lit)                                                                      \
    do {                                                                                           \
        ck_assert_int_eq((wr)->wr_err, 0);                                                         \
        ck_assert_uint_eq((wr)->wr_len, sizeof(lit));                                              \
        ck_assert_mem_eq((wr)->wr_buf, (lit), sizeof(lit));                                        \
    } while (0)

/* ---- names ------------------------------------------------------------- */

START_TEST(api_and_error_names)
{
    ck_assert_str_eq(kafka_api_name(API_PRODUCE), "Produce");
    ck_assert_str_eq(kafka_api_name(API_API_VERSIONS), "ApiVersions");
    ck_assert_str_eq(kafka_api_name(API_DESCRIBE_CONFIGS), "DescribeConfigs");
    ck_assert_str_eq(kafka_api_name(API_DELETE_GROUPS), "DeleteGroups");
    ck_assert_str_eq(kafka_api_name(17), "SaslHandshake");
    ck_assert_str_eq(kafka_api_name(API_KEY_MAX), "ConsumerGroupHeartbeat");
    ck_assert_str_eq(kafka_api_name(-1), "Unknown");
    ck_assert_str_eq(kafka_api_name(API_KEY_MAX + 1), "Unknown");
    ck_assert_str_eq(kafka_api_name(32767), "Unknown");

    ck_assert_str_eq(kafka_err_name(0), "NONE");
    ck_assert_str_eq(kafka_err_name(-1), "UNKNOWN_SERVER_ERROR");
    ck_assert_str_eq(kafka_err_name(3), "UNKNOWN_TOPIC_OR_PARTITION");
    ck_assert_str_eq(kafka_err_name(35), "UNSUPPORTED_VERSION");
    ck_assert_str_eq(kafka_err_name(79), "MEMBER_ID_REQUIRED");
    ck_assert_str_eq(kafka_err_name(9999), "UNKNOWN");
    ck_assert_int_eq(KERR_UNSUPPORTED_VERSION, 35);
}
END_TEST

START_TEST(kstr_helpers)
{
    kstr_t s = kstr_c("abc");
    ck_assert_int_eq(s.len, 3);
    ck_assert(kstr_eq(s, "abc"));
    ck_assert(!kstr_eq(s, "abcd"));
    ck_assert(!kstr_eq(s, "ab"));
    ck_assert(!kstr_eq(s, NULL));
    kstr_t n = kstr_c(NULL);
    ck_assert_int_eq(n.len, -1);
    ck_assert(kstr_eq(n, NULL));
    ck_assert(!kstr_eq(n, ""));
    ck_assert(kstr_eq(kstr_c(""), ""));
    ck_assert(kstr_eq((kstr_t){NULL, 0}, ""));
    ck_assert(kstr_eq(KSTR_NULL, NULL));
}
END_TEST

/* The copies every module uses instead of its own: NUL-terminated, a null
 * string stays null, an empty one stays empty, bytes after the length are
 * not copied. */
START_TEST(kstr_copies)
{
    const char raw[] = "topicXYZ";
    kstr_t t = {raw, 5};
    char *d = kstr_dup(t);
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(d, "topic");
    free(d);
    ck_assert_ptr_null(kstr_dup(KSTR_NULL));
    d = kstr_dup((kstr_t){"", 0});
    ck_assert_str_eq(d, "");
    free(d);
    d = kstr_dup(kstr_or_empty(KSTR_NULL));
    ck_assert_str_eq(d, "");
    free(d);

    eddy_arena_t a;
    arena_init(&a, 64);
    char *ad = kstr_arena_dup(&a, t);
    ck_assert_str_eq(ad, "topic");
    ck_assert_ptr_null(kstr_arena_dup(&a, KSTR_NULL));
    kstr_t k = kstr_arena(&a, "abc");
    ck_assert_int_eq(k.len, 3);
    ck_assert(kstr_eq(k, "abc"));
    ck_assert_str_eq(k.ptr, "abc"); /* NUL-terminated too */
    ck_assert_str_eq(arena_strndup(&a, raw + 5, 2), "XY");
    ck_assert_str_eq(arena_strdup(&a, raw), raw);
    /* The arena's limit: a copy that does not fit is null, not cut. */
    char big[100];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    ck_assert_int_eq(kstr_arena(&a, big).len, -1);
    ck_assert_ptr_null(kstr_arena_dup(&a, kstr_c(big)));
    arena_free(&a);
}
END_TEST

/* ---- flexible versions --------------------------------------------------- */

START_TEST(flexible_versions)
{
    /* Of everything advertised, these are flexible: ApiVersions v3+,
     * DescribeGroups v5, ListGroups v3+, CreatePartitions v2+, every
     * DescribeCluster, InitProducerId v2+, DescribeConfigs v4, AlterConfigs v2
     * IncrementalAlterConfigs v1, ListOffsets v6+, Metadata v9+ and the ACL
     * APIs v2+. */
    for (int i = 0; i < broker_api_versions_count; i++) {
        const api_version_range_t *r = &broker_api_versions[i];
        for (int v = r->min; v <= r->max; v++) {
            int k = r->api_key;
            int want =
                (k == API_API_VERSIONS && v >= 3) || (k == API_DESCRIBE_GROUPS && v >= 5) ||
                (k == API_LIST_GROUPS && v >= 3) || (k == API_CREATE_PARTITIONS && v >= 2) ||
                k == API_DESCRIBE_CLUSTER || (k == API_INIT_PRODUCER_ID && v >= 2) ||
                (k == API_DESCRIBE_CONFIGS && v >= 4) || (k == API_ALTER_CONFIGS && v >= 2) ||
                (k == API_INCREMENTAL_ALTER_CONFIGS && v >= 1) ||
                (k == API_LIST_OFFSETS && v >= 6) || (k == API_METADATA && v >= 9) ||
                ((k == API_DESCRIBE_ACLS || k == API_CREATE_ACLS || k == API_DELETE_ACLS) &&
                 v >= 2) ||
                (k == API_SASL_AUTHENTICATE && v >= 2) ||
                k == API_DESCRIBE_USER_SCRAM_CREDENTIALS || k == API_ALTER_USER_SCRAM_CREDENTIALS ||
                (k == API_DESCRIBE_CLIENT_QUOTAS && v >= 1) || (k == API_OFFSET_FETCH && v >= 6) ||
                (k == API_TXN_OFFSET_COMMIT && v >= 3) || (k == API_WRITE_TXN_MARKERS && v >= 1) ||
                ((k == API_ADD_PARTITIONS_TO_TXN || k == API_ADD_OFFSETS_TO_TXN ||
                  k == API_END_TXN) &&
                 v >= 3) ||
                k == API_DESCRIBE_TRANSACTIONS || k == API_LIST_TRANSACTIONS;
            ck_assert_msg(kafka_is_flexible(k, v) == want, "%s v%d", kafka_api_name(k), v);
        }
    }
    /* The first flexible version of each API, per its JSON. */
    static const struct {
        int key, first;
    } firsts[] = {
        {API_PRODUCE, 9},
        {API_FETCH, 12},
        {API_LIST_OFFSETS, 6},
        {API_METADATA, 9},
        {API_OFFSET_COMMIT, 8},
        {API_OFFSET_FETCH, 6},
        {API_FIND_COORDINATOR, 3},
        {API_JOIN_GROUP, 6},
        {API_HEARTBEAT, 4},
        {API_LEAVE_GROUP, 4},
        {API_SYNC_GROUP, 4},
        {API_DESCRIBE_GROUPS, 5},
        {API_LIST_GROUPS, 3},
        {API_API_VERSIONS, 3},
        {API_CREATE_TOPICS, 5},
        {API_DELETE_TOPICS, 4},
        {API_DELETE_RECORDS, 2},
        {API_INIT_PRODUCER_ID, 2},
        {API_DESCRIBE_CONFIGS, 4},
        {API_DELETE_GROUPS, 2},
        {API_CREATE_PARTITIONS, 2},
        {API_ALTER_CONFIGS, 2},
        {API_INCREMENTAL_ALTER_CONFIGS, 1},
        {API_SASL_AUTHENTICATE, 2},
        {API_DESCRIBE_CLIENT_QUOTAS, 1},
        {API_TXN_OFFSET_COMMIT, 3},
    };
    for (size_t i = 0; i < sizeof firsts / sizeof firsts[0]; i++) {
        ck_assert(!kafka_is_flexible(firsts[i].key, firsts[i].first - 1));
        ck_assert(kafka_is_flexible(firsts[i].key, firsts[i].first));
        ck_assert(kafka_is_flexible(firsts[i].key, firsts[i].first + 1));
    }
    ck_assert(kafka_is_flexible(API_DESCRIBE_CLUSTER, 0)); /* flexible from v0 */
    ck_assert(!kafka_is_flexible(API_OFFSET_DELETE, 0));
    ck_assert(!kafka_is_flexible(API_SASL_HANDSHAKE, 1)); /* never flexible */
    ck_assert(kafka_is_flexible(API_DESCRIBE_USER_SCRAM_CREDENTIALS, 0));
    ck_assert(kafka_is_flexible(API_ALTER_USER_SCRAM_CREDENTIALS, 0));
    ck_assert(!kafka_is_flexible(-1, 5));
    ck_assert(!kafka_is_flexible(4, 100)); /* LeaderAndIsr: unknown here */
}
END_TEST

START_TEST(supported_versions_table)
{
    static const struct {
        int key, min, max;
    } want[] = {
        {API_API_VERSIONS, 0, 4},
        {API_METADATA, 0, 12},
        {API_PRODUCE, 3, 7},
        {API_FETCH, 4, 11},
        {API_LIST_OFFSETS, 0, 8},
        {API_CREATE_TOPICS, 0, 4},
        {API_DELETE_TOPICS, 0, 1},
        {API_DELETE_RECORDS, 0, 1},
        {API_DESCRIBE_CONFIGS, 0, 4},
        {API_ALTER_CONFIGS, 0, 2},
        {API_INCREMENTAL_ALTER_CONFIGS, 0, 1},
        {API_FIND_COORDINATOR, 0, 2},
        {API_JOIN_GROUP, 0, 5},
        {API_SYNC_GROUP, 0, 3},
        {API_HEARTBEAT, 0, 3},
        {API_LEAVE_GROUP, 0, 1},
        {API_OFFSET_COMMIT, 0, 7},
        {API_OFFSET_FETCH, 0, 7},
        {API_DESCRIBE_GROUPS, 0, 5},
        {API_LIST_GROUPS, 0, 5},
        {API_DELETE_GROUPS, 0, 1},
        {API_CREATE_PARTITIONS, 0, 3},
        {API_OFFSET_DELETE, 0, 0},
        {API_DESCRIBE_CLUSTER, 0, 1},
        {API_INIT_PRODUCER_ID, 0, 5},
        {API_DESCRIBE_ACLS, 1, 3},
        {API_CREATE_ACLS, 1, 3},
        {API_DELETE_ACLS, 1, 3},
        {API_SASL_HANDSHAKE, 0, 1},
        {API_SASL_AUTHENTICATE, 0, 2},
        {API_DESCRIBE_USER_SCRAM_CREDENTIALS, 0, 0},
        {API_ALTER_USER_SCRAM_CREDENTIALS, 0, 0},
        {API_DESCRIBE_CLIENT_QUOTAS, 0, 1},
        {API_TXN_OFFSET_COMMIT, 0, 4},
        {API_WRITE_TXN_MARKERS, 0, 2},
        {API_ADD_PARTITIONS_TO_TXN, 0, 3},
        {API_ADD_OFFSETS_TO_TXN, 0, 3},
        {API_END_TXN, 0, 4},
        {API_DESCRIBE_TRANSACTIONS, 0, 0},
        {API_LIST_TRANSACTIONS, 0, 1},
    };
    ck_assert_int_eq(broker_api_versions_count, (int)(sizeof want / sizeof want[0]));
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int found = 0;
        for (int j = 0; j < broker_api_versions_count; j++) {
            if (broker_api_versions[j].api_key != want[i].key)
                continue;
            found++;
            ck_assert_int_eq(broker_api_versions[j].min, want[i].min);
            ck_assert_int_eq(broker_api_versions[j].max, want[i].max);
        }
        ck_assert_int_eq(found, 1);
        ck_assert(!broker_api_supported(want[i].key, want[i].min - 1));
        ck_assert(broker_api_supported(want[i].key, want[i].min));
        ck_assert(broker_api_supported(want[i].key, want[i].max));
        ck_assert(!broker_api_supported(want[i].key, want[i].max + 1));
    }
    ck_assert(!broker_api_supported(API_INIT_PRODUCER_ID, 6)); /* 2PC, unstable in Kafka 4.1 */
    ck_assert(!broker_api_supported(-1, 0));
    ck_assert(!broker_api_supported(1000, 0));
}
END_TEST

/* ---- request header ---------------------------------------------------- */

START_TEST(request_header_v1)
{
    /* Metadata v4, correlation 0x01020304, client id "kcat". */
    static const uint8_t b[] = {0x00, 0x03, 0x00, 0x04, 0x01, 0x02, 0x03,
                                0x04, 0x00, 0x04, 'k',  'c',  'a',  't'};
    uint8_t *p = exact_copy(b, sizeof b);
    eddy_rd_t rd;
    rd_init(&rd, p, sizeof b);
    RequestHeader h;
    ck_assert_int_eq(wire_request_header_decode(&rd, &h), 0);
    ck_assert_int_eq(h.RequestApiKey, 3);
    ck_assert_int_eq(h.RequestApiVersion, 4);
    ck_assert_int_eq(h.CorrelationId, 0x01020304);
    ck_assert(kstr_eq(h.ClientId, "kcat"));
    ck_assert_int_eq(h.header_version, 1);
    ck_assert_uint_eq(rd_remaining(&rd), 0);
    for (size_t n = 0; n < sizeof b; n++) {
        uint8_t *q = exact_copy(b, n);
        rd_init(&rd, q, n);
        ck_assert_int_eq(wire_request_header_decode(&rd, &h), EDDY_ERR_TRUNCATED);
        free(q);
    }
    free(p);
}
END_TEST

START_TEST(request_header_null_client_id)
{
    /* Produce v7 with a null client id (-1), then a body byte. */
    static const uint8_t b[] = {0x00, 0x00, 0x00, 0x07, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0x42};
    eddy_rd_t rd;
    rd_init(&rd, b, sizeof b);
    RequestHeader h;
    ck_assert_int_eq(wire_request_header_decode(&rd, &h), 0);
    ck_assert_int_eq(h.RequestApiKey, 0);
    ck_assert_int_eq(h.RequestApiVersion, 7);
    ck_assert_int_eq(h.CorrelationId, -2);
    ck_assert_int_eq(h.ClientId.len, -1);
    ck_assert_int_eq(h.header_version, 1);
    ck_assert_uint_eq(rd_remaining(&rd), 1); /* the body is untouched */

    /* A client id length below -1 is malformed. */
    static const uint8_t bad[] = {0x00, 0x00, 0x00, 0x07, 0, 0, 0, 1, 0xff, 0xfe, 'x', 'x'};
    rd_init(&rd, bad, sizeof bad);
    ck_assert_int_eq(wire_request_header_decode(&rd, &h), EDDY_ERR_INVALID_ARG);
}
END_TEST

START_TEST(request_header_v2)
{
    /* ApiVersions v3: header v2, whose client id is still an int16 string,
     * then tagged fields - here one unknown tag (7) of 2 bytes to skip. */
    /* clang-format off */
    static const uint8_t b[] = {0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x09, 0x00, 0x01,
                                'c',  0x01, 0x07, 0x02, 0xaa, 0xbb, 0x5a};
    /* clang-format on */
    uint8_t *p = exact_copy(b, sizeof b);
    eddy_rd_t rd;
    rd_init(&rd, p, sizeof b);
    RequestHeader h;
    ck_assert_int_eq(wire_request_header_decode(&rd, &h), 0);
    ck_assert_int_eq(h.RequestApiKey, 18);
    ck_assert_int_eq(h.RequestApiVersion, 3);
    ck_assert_int_eq(h.CorrelationId, 9);
    ck_assert(kstr_eq(h.ClientId, "c"));
    ck_assert_int_eq(h.header_version, 2);
    ck_assert_uint_eq(rd_remaining(&rd), 1);
    ck_assert_int_eq(rd_i8(&rd), 0x5a);
    /* Every prefix that ends inside the header fails. */
    for (size_t n = 0; n < sizeof b - 1; n++) {
        uint8_t *q = exact_copy(b, n);
        rd_init(&rd, q, n);
        ck_assert_int_ne(wire_request_header_decode(&rd, &h), 0);
        free(q);
    }
    free(p);

    /* ApiVersions v2 has no tag section: the same bytes leave the tag byte. */
    static const uint8_t v2[] = {0x00, 0x12, 0x00, 0x02, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00};
    rd_init(&rd, v2, sizeof v2);
    ck_assert_int_eq(wire_request_header_decode(&rd, &h), 0);
    ck_assert_int_eq(h.header_version, 1);
    ck_assert_uint_eq(rd_remaining(&rd), 1);

    /* A tag count that cannot fit in what is left fails without looping. */
    /* clang-format off */
    static const uint8_t many[] = {0x00, 0x12, 0x00, 0x03, 0, 0, 0, 1, 0x00, 0x00,
                                   0xff, 0xff, 0xff, 0xff, 0x0f};
    /* clang-format on */
    rd_init(&rd, many, sizeof many);
    ck_assert_int_eq(wire_request_header_decode(&rd, &h), EDDY_ERR_TRUNCATED);
}
END_TEST

/* ---- response header --------------------------------------------------- */

START_TEST(response_header)
{
    eddy_wr_t wr;
    wr_init(&wr);
    RequestHeader h = {.RequestApiKey = API_METADATA,
                       .RequestApiVersion = 4,
                       .CorrelationId = 0x0a0b0c0d,
                       .header_version = 1};
    wire_response_header_encode(&wr, &h);
    static const uint8_t v0[] = {0x0a, 0x0b, 0x0c, 0x0d};
    ASSERT_BYTES(&wr, v0);

    /* ApiVersions v3 is flexible but its response header stays v0. */
    wr_reset(&wr);
    h = (RequestHeader){.RequestApiKey = API_API_VERSIONS,
                        .RequestApiVersion = 3,
                        .CorrelationId = 0x0a0b0c0d,
                        .header_version = 2};
    wire_response_header_encode(&wr, &h);
    ASSERT_BYTES(&wr, v0);

    /* Any other flexible request gets header v1: one empty tag section. */
    wr_reset(&wr);
    h = (RequestHeader){.RequestApiKey = API_CREATE_TOPICS,
                        .RequestApiVersion = 5,
                        .CorrelationId = 0x0a0b0c0d,
                        .header_version = 2};
    wire_response_header_encode(&wr, &h);
    static const uint8_t v1[] = {0x0a, 0x0b, 0x0c, 0x0d, 0x00};
    ASSERT_BYTES(&wr, v1);
    wr_free(&wr);
}
END_TEST

/* ---- primitives: readers ------------------------------------------------ */

START_TEST(read_strings)
{
    /* clang-format off */
    static const uint8_t b[] = {0x00, 0x03, 'a',  'b',  'c',  /* "abc" */
                                0xff, 0xff,                   /* null */
                                0x00, 0x00,                   /* "" */
                                0x04, 'x',  'y',  'z',        /* compact "xyz" */
                                0x00,                         /* compact null */
                                0x01,                         /* compact "" */
                                0x00, 0x00, 0x00, 0x02, 1, 2, /* bytes {1,2} */
                                0xff, 0xff, 0xff, 0xff,       /* null bytes */
                                0x00, 0x00, 0x00, 0x00};      /* empty bytes */
    /* clang-format on */
    uint8_t *p = exact_copy(b, sizeof b);
    eddy_rd_t rd;
    rd_init(&rd, p, sizeof b);
    kstr_t s = rd_string(&rd);
    ck_assert(kstr_eq(s, "abc"));
    ck_assert_ptr_eq(s.ptr, (const char *)p + 2); /* borrowed, not copied */
    ck_assert_int_eq(rd_string(&rd).len, -1);
    s = rd_string(&rd);
    ck_assert_int_eq(s.len, 0);
    ck_assert_ptr_nonnull(s.ptr);
    ck_assert(kstr_eq(rd_compact_string(&rd), "xyz"));
    ck_assert_int_eq(rd_compact_string(&rd).len, -1);
    s = rd_compact_string(&rd);
    ck_assert_int_eq(s.len, 0);
    ck_assert_ptr_nonnull(s.ptr);
    s = rd_kbytes(&rd);
    ck_assert_int_eq(s.len, 2);
    ck_assert_int_eq(s.ptr[0], 1);
    ck_assert_int_eq(s.ptr[1], 2);
    ck_assert_int_eq(rd_kbytes(&rd).len, -1);
    ck_assert_int_eq(rd_kbytes(&rd).len, 0);
    ck_assert_int_eq(rd.rd_err, 0);
    ck_assert_uint_eq(rd_remaining(&rd), 0);
    free(p);
}
END_TEST

START_TEST(read_strings_malformed)
{
    eddy_rd_t rd;
    /* Length past the end. */
    static const uint8_t s1[] = {0x00, 0x05, 'a', 'b'};
    rd_init(&rd, s1, sizeof s1);
    ck_assert_int_eq(rd_string(&rd).len, -1);
    ck_assert_int_eq(rd.rd_err, EDDY_ERR_TRUNCATED);
    /* Negative lengths other than -1. */
    static const uint8_t s2[] = {0xff, 0xfe, 'a', 'b'};
    rd_init(&rd, s2, sizeof s2);
    rd_string(&rd);
    ck_assert_int_eq(rd.rd_err, EDDY_ERR_INVALID_ARG);
    static const uint8_t b1[] = {0x80, 0x00, 0x00, 0x00, 'a'};
    rd_init(&rd, b1, sizeof b1);
    rd_kbytes(&rd);
    ck_assert_int_eq(rd.rd_err, EDDY_ERR_INVALID_ARG);
    static const uint8_t b2[] = {0x7f, 0xff, 0xff, 0xff, 'a'};
    rd_init(&rd, b2, sizeof b2);
    rd_kbytes(&rd);
    ck_assert_int_eq(rd.rd_err, EDDY_ERR_TRUNCATED);
    /* Compact length 0xffffffff (length 2^32 - 2). */
    static const uint8_t c1[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 'a'};
    rd_init(&rd, c1, sizeof c1);
    ck_assert_int_eq(rd_compact_string(&rd).len, -1);
    ck_assert_int_ne(rd.rd_err, 0);
    /* Compact length one past the end. */
    static const uint8_t c2[] = {0x03, 'a'};
    rd_init(&rd, c2, sizeof c2);
    rd_compact_string(&rd);
    ck_assert_int_eq(rd.rd_err, EDDY_ERR_TRUNCATED);
    /* An unterminated varint. */
    static const uint8_t c3[] = {0x80, 0x80};
    rd_init(&rd, c3, sizeof c3);
    rd_compact_string(&rd);
    ck_assert_int_ne(rd.rd_err, 0);
    /* Sticky: after an error every read returns null / zero. */
    static const uint8_t ok[] = {0x00, 0x01, 'a'};
    rd_init(&rd, ok, sizeof ok);
    rd_fail(&rd, EDDY_ERR_TRUNCATED);
    ck_assert_int_eq(rd_string(&rd).len, -1);
    ck_assert_int_eq(rd_array_count(&rd, 1), 0);
}
END_TEST

START_TEST(read_array_counts)
{
    eddy_rd_t rd;
    /* null */
    static const uint8_t null_arr[] = {0xff, 0xff, 0xff, 0xff};
    rd_init(&rd, null_arr, sizeof null_arr);
    ck_assert_int_eq(rd_array_count(&rd, 4), -1);
    ck_assert_int_eq(rd.rd_err, 0);
    /* -2 */
    static const uint8_t neg[] = {0xff, 0xff, 0xff, 0xfe};
    rd_init(&rd, neg, sizeof neg);
    ck_assert_int_eq(rd_array_count(&rd, 4), 0);
    ck_assert_int_eq(rd.rd_err, EDDY_ERR_INVALID_ARG);
    /* 2 int32 elements in 8 bytes: fine; 3 are not. */
    static const uint8_t two[] = {0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2};
    rd_init(&rd, two, sizeof two);
    ck_assert_int_eq(rd_array_count(&rd, 4), 2);
    static const uint8_t three[] = {0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2};
    rd_init(&rd, three, sizeof three);
    ck_assert_int_eq(rd_array_count(&rd, 4), 0);
    ck_assert_int_eq(rd.rd_err, EDDY_ERR_TRUNCATED);
    /* INT32_MAX elements: no product overflow, plain failure. */
    static const uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    rd_init(&rd, huge, sizeof huge);
    ck_assert_int_eq(rd_array_count(&rd, SIZE_MAX / 2), 0);
    ck_assert_int_eq(rd.rd_err, EDDY_ERR_TRUNCATED);
    rd_init(&rd, huge, sizeof huge);
    ck_assert_int_eq(rd_array_count(&rd, 1), 0);
    ck_assert_int_eq(rd.rd_err, EDDY_ERR_TRUNCATED);
    /* Empty. */
    static const uint8_t zero[] = {0, 0, 0, 0};
    rd_init(&rd, zero, sizeof zero);
    ck_assert_int_eq(rd_array_count(&rd, 100), 0);
    ck_assert_int_eq(rd.rd_err, 0);

    /* Compact: 0 is null, 1 is empty, n is n-1 elements. */
    static const uint8_t c[] = {0x00, 0x01, 0x03, 0xaa, 0xbb};
    rd_init(&rd, c, sizeof c);
    ck_assert_int_eq(rd_compact_array_count(&rd, 1), -1);
    ck_assert_int_eq(rd_compact_array_count(&rd, 1), 0);
    ck_assert_int_eq(rd_compact_array_count(&rd, 1), 2);
    ck_assert_int_eq(rd.rd_err, 0);
    static const uint8_t c3[] = {0x04, 0xaa, 0xbb};
    rd_init(&rd, c3, sizeof c3);
    ck_assert_int_eq(rd_compact_array_count(&rd, 1), 0);
    ck_assert_int_eq(rd.rd_err, EDDY_ERR_TRUNCATED);
    static const uint8_t chuge[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0xaa};
    rd_init(&rd, chuge, sizeof chuge);
    ck_assert_int_eq(rd_compact_array_count(&rd, 0), 0); /* > INT32_MAX */
    ck_assert_int_ne(rd.rd_err, 0);
    static const uint8_t trunc[] = {0x00, 0x00};
    rd_init(&rd, trunc, sizeof trunc);
    ck_assert_int_eq(rd_array_count(&rd, 1), 0);
    ck_assert_int_eq(rd.rd_err, EDDY_ERR_TRUNCATED);
}
END_TEST

START_TEST(skip_tags)
{
    /* Two tags: (0, 1 byte), (300, 0 bytes), then a marker. */
    static const uint8_t b[] = {0x02, 0x00, 0x01, 0x99, 0xac, 0x02, 0x00, 0x77};
    eddy_rd_t rd;
    rd_init(&rd, b, sizeof b);
    rd_skip_tags(&rd);
    ck_assert_int_eq(rd.rd_err, 0);
    ck_assert_int_eq((uint8_t)rd_i8(&rd), 0x77);
    /* A tag whose size runs past the end. */
    static const uint8_t bad[] = {0x01, 0x00, 0x05, 0x01};
    rd_init(&rd, bad, sizeof bad);
    rd_skip_tags(&rd);
    ck_assert_int_eq(rd.rd_err, EDDY_ERR_TRUNCATED);
    /* Empty tag section. */
    static const uint8_t none[] = {0x00};
    rd_init(&rd, none, sizeof none);
    rd_skip_tags(&rd);
    ck_assert_int_eq(rd.rd_err, 0);
    ck_assert_uint_eq(rd_remaining(&rd), 0);
}
END_TEST

/* ---- primitives: writers ------------------------------------------------ */

START_TEST(write_strings)
{
    eddy_wr_t wr;
    wr_init(&wr);
    wr_string(&wr, kstr_c("ab"));
    wr_string(&wr, KSTR_NULL);
    wr_string(&wr, (kstr_t){NULL, 0}); /* a zeroed kstr_t is "" */
    wr_cstring(&wr, "z");
    wr_cstring(&wr, NULL);
    wr_compact_string(&wr, kstr_c("ab"));
    wr_compact_string(&wr, KSTR_NULL);
    wr_compact_string(&wr, kstr_c(""));
    wr_kbytes(&wr, (kstr_t){"\x01\x02\x03", 3});
    wr_kbytes(&wr, KSTR_NULL);
    wr_empty_tags(&wr);
    /* clang-format off */
    static const uint8_t want[] = {0x00, 0x02, 'a',  'b',  0xff, 0xff, 0x00, 0x00, 0x00,
                                   0x01, 'z',  0xff, 0xff, 0x03, 'a',  'b',  0x00, 0x01,
                                   0x00, 0x00, 0x00, 0x03, 1,    2,    3,    0xff, 0xff,
                                   0xff, 0xff, 0x00};
    /* clang-format on */
    ASSERT_BYTES(&wr, want);

    /* A legacy string cannot carry more than 32767 bytes: the writer fails
     * instead of emitting a wrapped length. */
    wr_reset(&wr);
    char *big = malloc(40000);
    ck_assert_ptr_nonnull(big);
    memset(big, 'x', 40000);
    wr_string(&wr, (kstr_t){big, 40000});
    ck_assert_int_eq(wr.wr_err, EDDY_ERR_TOO_LARGE);
    wr_reset(&wr);
    wr_string(&wr, (kstr_t){big, 32767});
    ck_assert_int_eq(wr.wr_err, 0);
    ck_assert_uint_eq(wr.wr_len, 2 + 32767);
    free(big);
    /* A length without bytes is a caller bug, refused. */
    wr_reset(&wr);
    wr_string(&wr, (kstr_t){NULL, 3});
    ck_assert_int_eq(wr.wr_err, EDDY_ERR_INVALID_ARG);
    wr_free(&wr);
}
END_TEST

TCase *tcase_proto(void)
{
    TCase *tc = tcase_create("proto");
    tcase_add_test(tc, api_and_error_names);
    tcase_add_test(tc, kstr_helpers);
    tcase_add_test(tc, kstr_copies);
    tcase_add_test(tc, flexible_versions);
    tcase_add_test(tc, supported_versions_table);
    tcase_add_test(tc, request_header_v1);
    tcase_add_test(tc, request_header_null_client_id);
    tcase_add_test(tc, request_header_v2);
    tcase_add_test(tc, response_header);
    tcase_add_test(tc, read_strings);
    tcase_add_test(tc, read_strings_malformed);
    tcase_add_test(tc, read_array_counts);
    tcase_add_test(tc, skip_tags);
    tcase_add_test(tc, write_strings);
    return tc;
}

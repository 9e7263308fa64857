/* The transaction coordinator's codecs (wire/api_txn.c): each request at
 * each served version, legacy and flexible; every truncation refused; the
 * versions not served refused; DescribeTransactions' and ListTransactions'
 * answers byte for byte. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "wire/api.h"
#include "wire/api_txn.h"

static void put_str(eddy_wr_t *w, int flex, const char *s)
{
    if (flex)
        wr_compact_string(w, kstr_c(s));
    else
        wr_string(w, kstr_c(s));
}

static void put_count(eddy_wr_t *w, int flex, int32_t n)
{
    if (flex)
        wr_uvarint(w, (uint32_t)n + 1);
    else
        wr_i32(w, n);
}

typedef int decode_fn(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, void *out);

static int dec_add_parts(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, void *out)
{
    return wire_add_partitions_to_txn_req_decode(rd, v, a, out);
}
static int dec_add_offsets(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, void *out)
{
    return wire_add_offsets_to_txn_req_decode(rd, v, a, out);
}
static int dec_end(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, void *out)
{
    return wire_end_txn_req_decode(rd, v, a, out);
}
static int dec_list(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, void *out)
{
    return wire_list_transactions_req_decode(rd, v, a, out);
}

/* Every proper prefix of the request fails to decode. */
static void check_truncations(decode_fn *fn, const eddy_wr_t *w, int16_t v)
{
    union {
        AddPartitionsToTxnRequest ap;
        AddOffsetsToTxnRequest ao;
        EndTxnRequest e;
        ListTransactionsRequest l;
    } out;
    for (size_t n = 0; n < w->wr_len; n++) {
        eddy_arena_t a;
        arena_init(&a, 1 << 16);
        eddy_rd_t rd;
        rd_init(&rd, w->wr_buf, n);
        ck_assert_msg(fn(&rd, v, &a, &out) < 0, "v%d: a %zu-byte prefix of %zu decoded", v, n,
                      w->wr_len);
        arena_free(&a);
    }
}

START_TEST(add_partitions_to_txn_request)
{
    for (int16_t v = 0; v <= 3; v++) {
        int flex = v >= 3;
        eddy_wr_t w;
        wr_init(&w);
        put_str(&w, flex, "tx-1");
        wr_i64(&w, 77);
        wr_i16(&w, 4);
        put_count(&w, flex, 2);
        put_str(&w, flex, "a");
        put_count(&w, flex, 2);
        wr_i32(&w, 0);
        wr_i32(&w, 5);
        if (flex)
            wr_empty_tags(&w);
        put_str(&w, flex, "b");
        put_count(&w, flex, 0);
        if (flex) {
            wr_empty_tags(&w);
            wr_empty_tags(&w);
        }
        eddy_arena_t a;
        arena_init(&a, 1 << 16);
        eddy_rd_t rd;
        rd_init(&rd, w.wr_buf, w.wr_len);
        AddPartitionsToTxnRequest r;
        ck_assert_int_eq(wire_add_partitions_to_txn_req_decode(&rd, v, &a, &r), 0);
        ck_assert_uint_eq(rd_remaining(&rd), 0);
        ck_assert(kstr_eq(r.TransactionalId, "tx-1"));
        ck_assert_int_eq(r.ProducerId, 77);
        ck_assert_int_eq(r.ProducerEpoch, 4);
        ck_assert_int_eq(r.TopicsCount, 2);
        ck_assert(kstr_eq(r.Topics[0].Name, "a"));
        ck_assert_int_eq(r.Topics[0].PartitionsCount, 2);
        ck_assert_int_eq(r.Topics[0].Partitions[1], 5);
        ck_assert(kstr_eq(r.Topics[1].Name, "b"));
        ck_assert_int_eq(r.Topics[1].PartitionsCount, 0);
        arena_free(&a);
        check_truncations(dec_add_parts, &w, v);

        /* The answer: per topic, per partition. */
        AddPartitionsToTxnPartitionResult pr[1] = {{5, KERR_PRODUCER_FENCED}};
        AddPartitionsToTxnTopicResult tr[1] = {{kstr_c("a"), pr, 1}};
        AddPartitionsToTxnResponse resp = {0, tr, 1};
        wr_reset(&w);
        wire_add_partitions_to_txn_resp_encode(&w, v, &resp);
        eddy_wr_t want;
        wr_init(&want);
        wr_i32(&want, 0);
        put_count(&want, flex, 1);
        put_str(&want, flex, "a");
        put_count(&want, flex, 1);
        wr_i32(&want, 5);
        wr_i16(&want, 90);
        if (flex) {
            wr_empty_tags(&want);
            wr_empty_tags(&want);
            wr_empty_tags(&want);
        }
        ck_assert_uint_eq(w.wr_len, want.wr_len);
        ck_assert_mem_eq(w.wr_buf, want.wr_buf, want.wr_len);
        wr_free(&want);
        wr_free(&w);
    }
}
END_TEST

START_TEST(add_offsets_and_end_txn_requests)
{
    for (int16_t v = 0; v <= 4; v++) {
        int flex = v >= 3;
        eddy_wr_t w;
        wr_init(&w);
        eddy_arena_t a;
        arena_init(&a, 1 << 16);
        eddy_rd_t rd;
        if (v <= 3) {
            put_str(&w, flex, "tx");
            wr_i64(&w, 9);
            wr_i16(&w, 1);
            put_str(&w, flex, "grp");
            if (flex)
                wr_empty_tags(&w);
            AddOffsetsToTxnRequest r;
            rd_init(&rd, w.wr_buf, w.wr_len);
            ck_assert_int_eq(wire_add_offsets_to_txn_req_decode(&rd, v, &a, &r), 0);
            ck_assert(kstr_eq(r.TransactionalId, "tx") && kstr_eq(r.GroupId, "grp"));
            ck_assert_int_eq(r.ProducerId, 9);
            ck_assert_int_eq(r.ProducerEpoch, 1);
            check_truncations(dec_add_offsets, &w, v);
        }
        wr_reset(&w);
        put_str(&w, flex, "tx");
        wr_i64(&w, 9);
        wr_i16(&w, 1);
        wr_i8(&w, 1);
        if (flex)
            wr_empty_tags(&w);
        EndTxnRequest e;
        rd_init(&rd, w.wr_buf, w.wr_len);
        ck_assert_int_eq(wire_end_txn_req_decode(&rd, v, &a, &e), 0);
        ck_assert_int_eq(e.Committed, 1);
        ck_assert_int_eq(e.ProducerEpoch, 1);
        check_truncations(dec_end, &w, v);

        /* ThrottleTimeMs, ErrorCode (and tags when flexible). */
        wr_reset(&w);
        wire_txn_error_resp_encode(&w, API_END_TXN, v, KERR_INVALID_TXN_STATE);
        ck_assert_uint_eq(w.wr_len, flex ? 7 : 6);
        ck_assert_mem_eq(w.wr_buf, "\0\0\0\0\0\x30", 6);
        arena_free(&a);
        wr_free(&w);
    }
}
END_TEST

/* Versions that are not served are refused: v4+ of AddPartitionsToTxn
 * (brokers' verification), EndTxn v5 (transaction version 2),
 * ListTransactions v2, DescribeTransactions v1. */
START_TEST(unserved_versions_refused)
{
    uint8_t buf[64] = {0};
    eddy_arena_t a;
    arena_init(&a, 1 << 16);
    eddy_rd_t rd;
    AddPartitionsToTxnRequest ap;
    EndTxnRequest e;
    ListTransactionsRequest l;
    DescribeTransactionsRequest d;
    AddOffsetsToTxnRequest ao;
    rd_init(&rd, buf, sizeof buf);
    ck_assert_int_eq(wire_add_partitions_to_txn_req_decode(&rd, 4, &a, &ap), EDDY_ERR_INVALID_ARG);
    rd_init(&rd, buf, sizeof buf);
    ck_assert_int_eq(wire_end_txn_req_decode(&rd, 5, &a, &e), EDDY_ERR_INVALID_ARG);
    rd_init(&rd, buf, sizeof buf);
    ck_assert_int_eq(wire_add_offsets_to_txn_req_decode(&rd, 4, &a, &ao), EDDY_ERR_INVALID_ARG);
    rd_init(&rd, buf, sizeof buf);
    ck_assert_int_eq(wire_list_transactions_req_decode(&rd, 2, &a, &l), EDDY_ERR_INVALID_ARG);
    rd_init(&rd, buf, sizeof buf);
    ck_assert_int_eq(wire_describe_transactions_req_decode(&rd, 1, &a, &d), EDDY_ERR_INVALID_ARG);
    arena_free(&a);
}
END_TEST

START_TEST(list_transactions_request)
{
    for (int16_t v = 0; v <= 1; v++) {
        eddy_wr_t w;
        wr_init(&w);
        put_count(&w, 1, 2);
        put_str(&w, 1, "Ongoing");
        put_str(&w, 1, "Bogus");
        put_count(&w, 1, 1);
        wr_i64(&w, 12);
        if (v >= 1)
            wr_i64(&w, 5000);
        wr_empty_tags(&w);
        eddy_arena_t a;
        arena_init(&a, 1 << 16);
        eddy_rd_t rd;
        rd_init(&rd, w.wr_buf, w.wr_len);
        ListTransactionsRequest r;
        ck_assert_int_eq(wire_list_transactions_req_decode(&rd, v, &a, &r), 0);
        ck_assert_int_eq(r.StateFiltersCount, 2);
        ck_assert(kstr_eq(r.StateFilters[1], "Bogus"));
        ck_assert_int_eq(r.ProducerIdFiltersCount, 1);
        ck_assert_int_eq(r.ProducerIdFilters[0], 12);
        ck_assert_int_eq(r.DurationFilter, v >= 1 ? 5000 : -1);
        arena_free(&a);
        check_truncations(dec_list, &w, v);
        wr_free(&w);
    }
}
END_TEST

/* Kafka 4.1's DescribeTransactionsResponse: ProducerEpoch is an int16. */
START_TEST(describe_transactions_response_bytes)
{
    int32_t parts[] = {3};
    TxnTopic t = {kstr_c("t"), parts, 1};
    DescribeTransactionsState st = {0, kstr_c("x"), kstr_c("Ongoing"), 60000, 5, 7, 2, &t, 1};
    DescribeTransactionsResponse r = {0, &st, 1};
    eddy_wr_t w;
    wr_init(&w);
    wire_describe_transactions_resp_encode(&w, 0, &r);
    /* clang-format off */
    static const uint8_t want[] = {
        0, 0, 0, 0,                      /* ThrottleTimeMs */
        2,                               /* 1 state */
        0, 0,                            /* ErrorCode */
        2, 'x',                          /* TransactionalId */
        8, 'O', 'n', 'g', 'o', 'i', 'n', 'g',
        0, 0, 0xea, 0x60,                /* TransactionTimeoutMs */
        0, 0, 0, 0, 0, 0, 0, 5,          /* TransactionStartTimeMs */
        0, 0, 0, 0, 0, 0, 0, 7,          /* ProducerId */
        0, 2,                            /* ProducerEpoch int16 */
        2, 2, 't', 2, 0, 0, 0, 3, 0,     /* [t [3]] tags */
        0,                               /* state tags */
        0,                               /* tags */
    };
    /* clang-format on */
    ck_assert_uint_eq(w.wr_len, sizeof want);
    ck_assert_mem_eq(w.wr_buf, want, sizeof want);
    wr_free(&w);
}
END_TEST

TCase *tcase_api_txn(void)
{
    TCase *tc = tcase_create("api_txn");
    tcase_add_test(tc, add_partitions_to_txn_request);
    tcase_add_test(tc, add_offsets_and_end_txn_requests);
    tcase_add_test(tc, unserved_versions_refused);
    tcase_add_test(tc, list_transactions_request);
    tcase_add_test(tc, describe_transactions_response_bytes);
    return tc;
}

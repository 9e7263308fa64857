/* client/assignor.c: the ConsumerProtocol bytes against layouts written here
 * field by field from apache/kafka's ConsumerProtocolSubscription.json and
 * ConsumerProtocolAssignment.json (and librdkafka 2.0.2's own subscription);
 * "range" and "roundrobin" against the expectations of Kafka's
 * RangeAssignorTest and RoundRobinAssignorTest (clients/src/test/java/org/
 * apache/kafka/clients/consumer/); and the plug-in contract: userData both
 * ways, and a plug-in's mistakes refused. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "assignor_helpers.h"
#include "client/assignor.h"
#include "common/err.h"

static void assert_wr(const eddy_wr_t *w, const uint8_t *want, size_t n, const char *what)
{
    ck_assert_msg(w->wr_len == n, "%s: %zu bytes, want %zu", what, w->wr_len, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(w->wr_buf[i] == want[i], "%s: byte %zu is 0x%02x, want 0x%02x", what, i,
                      w->wr_buf[i], want[i]);
}

/* ---- ConsumerProtocol ----------------------------------------------------- */

static const char *sub_topics[] = {"t1", "t2"};
static int32_t owned_parts[] = {0, 2};

/* Version 3 of a subscription, field by field; earlier versions are its
 * prefixes (the layout only ever appends). */
/* clang-format off */
static const uint8_t sub_v3_body[] = {
    0, 0, 0, 2, 0, 2, 't', '1', 0, 2, 't', '2', /* Topics ["t1", "t2"]    (0+) */
    0, 0, 0, 2, 'u', 'd',                       /* UserData "ud"          (0+) */
    0, 0, 0, 1, 0, 2, 't', '1',                 /* OwnedPartitions [t1:   (1+) */
    0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2,         /*   [0, 2]]                   */
    0, 0, 0, 7,                                 /* GenerationId 7         (2+) */
    0, 2, 'r', '1',                             /* RackId "r1"            (3+) */
};
/* clang-format on */
/* Where each version's body ends. */
static const size_t sub_end[] = {18, 38, 42, 46};

static assignor_subscription_t full_sub(int16_t v)
{
    assignor_topic_t owned = {"t1", owned_parts, 2};
    static assignor_topic_t owned_s;
    owned_s = owned;
    return (assignor_subscription_t){.as_member_id = "m",
                                     .as_version = v,
                                     .as_topics = sub_topics,
                                     .as_ntopics = 2,
                                     .as_user_data = {"ud", 2},
                                     .as_owned = &owned_s,
                                     .as_nowned = 1,
                                     .as_generation_id = 7,
                                     .as_rack_id = "r1"};
}

START_TEST(subscription_bytes)
{
    eddy_wr_t w;
    wr_init(&w);
    eddy_arena_t a;
    arena_init(&a, 0);
    for (int16_t v = 0; v <= 3; v++) {
        wr_reset(&w);
        assignor_subscription_t sub = full_sub(v);
        ck_assert_int_eq(assignor_subscription_encode(&w, &sub), 0);
        uint8_t want[64] = {0, (uint8_t)v};
        memcpy(want + 2, sub_v3_body, sub_end[v]);
        assert_wr(&w, want, 2 + sub_end[v], "subscription");

        eddy_rd_t rd;
        rd_init(&rd, w.wr_buf, w.wr_len);
        assignor_subscription_t d;
        ck_assert_int_eq(assignor_subscription_decode(&rd, &a, &d), 0);
        ck_assert_int_eq(rd_remaining(&rd), 0);
        ck_assert_int_eq(d.as_version, v);
        ck_assert_ptr_null(d.as_member_id);
        ck_assert_int_eq(d.as_ntopics, 2);
        ck_assert_str_eq(d.as_topics[0], "t1");
        ck_assert_str_eq(d.as_topics[1], "t2");
        ck_assert_int_eq(d.as_user_data.len, 2);
        ck_assert_mem_eq(d.as_user_data.ptr, "ud", 2);
        ck_assert_int_eq(d.as_nowned, v >= 1 ? 1 : 0);
        if (v >= 1) {
            ck_assert_str_eq(d.as_owned[0].at_topic, "t1");
            ck_assert_int_eq(d.as_owned[0].at_npartitions, 2);
            ck_assert_int_eq(d.as_owned[0].at_partitions[1], 2);
        }
        ck_assert_int_eq(d.as_generation_id, v >= 2 ? 7 : -1);
        if (v >= 3)
            ck_assert_str_eq(d.as_rack_id, "r1");
        else
            ck_assert_ptr_null(d.as_rack_id);
        /* Decoded data is copied: it outlives the bytes. */
        ck_assert(d.as_topics[0] < (const char *)w.wr_buf ||
                  d.as_topics[0] >= (const char *)w.wr_buf + w.wr_len);
    }
    /* Null userData and rack. */
    assignor_subscription_t sub = full_sub(3);
    sub.as_user_data = KSTR_NULL;
    sub.as_rack_id = NULL;
    wr_reset(&w);
    ck_assert_int_eq(assignor_subscription_encode(&w, &sub), 0);
    eddy_rd_t rd;
    rd_init(&rd, w.wr_buf, w.wr_len);
    assignor_subscription_t d;
    ck_assert_int_eq(assignor_subscription_decode(&rd, &a, &d), 0);
    ck_assert_int_eq(d.as_user_data.len, -1);
    ck_assert_ptr_null(d.as_rack_id);
    ck_assert_uint_eq(w.wr_len, 2 + 12 + 4 + 20 + 4 + 2);
    /* Versions this code cannot write, and a null topic. */
    sub.as_version = 4;
    ck_assert_int_eq(assignor_subscription_encode(&w, &sub), EDDY_ERR_INVALID_ARG);
    sub.as_version = -1;
    ck_assert_int_eq(assignor_subscription_encode(&w, &sub), EDDY_ERR_INVALID_ARG);
    const char *null_topic[] = {"t1", NULL};
    sub.as_version = 0;
    sub.as_topics = null_topic;
    ck_assert_int_eq(assignor_subscription_encode(&w, &sub), EDDY_ERR_INVALID_ARG);
    wr_free(&w);
    arena_free(&a);
}
END_TEST

START_TEST(subscription_librdkafka)
{
    /* A ConsumerProtocolSubscription v1 as librdkafka 2.0.2 writes it
     * (rd_kafka_consumer_protocol_member_metadata_new): UserData empty, not
     * null, and OwnedPartitions empty. */
    /* clang-format off */
    static const uint8_t b[] = {0, 1, 0, 0, 0, 1, 0, 6, 'o', 'r', 'd', 'e', 'r',
                                's', 0, 0, 0, 0, 0, 0, 0, 0};
    /* clang-format on */
    eddy_arena_t a;
    arena_init(&a, 0);
    eddy_rd_t rd;
    rd_init(&rd, b, sizeof b);
    assignor_subscription_t d;
    ck_assert_int_eq(assignor_subscription_decode(&rd, &a, &d), 0);
    ck_assert_int_eq(d.as_version, 1);
    ck_assert_int_eq(d.as_ntopics, 1);
    ck_assert_str_eq(d.as_topics[0], "orders");
    ck_assert_int_eq(d.as_user_data.len, 0);
    ck_assert_int_eq(d.as_nowned, 0);
    ck_assert_int_eq(d.as_generation_id, -1);
    arena_free(&a);
}
END_TEST

START_TEST(subscription_malformed)
{
    uint8_t full[64] = {0, 3};
    memcpy(full + 2, sub_v3_body, sizeof sub_v3_body);
    size_t n = 2 + sizeof sub_v3_body;
    eddy_arena_t a;
    arena_init(&a, 0);
    /* Every prefix: a version's fields may stop after Topics or after any
     * later field (the rest take defaults); anywhere else is a truncation. */
    for (size_t len = 0; len < n; len++) {
        eddy_rd_t rd;
        rd_init(&rd, full, len);
        assignor_subscription_t d;
        int err = assignor_subscription_decode(&rd, &a, &d);
        int boundary = len == 2 + 12 || len == 2 + sub_end[0] || len == 2 + sub_end[1] ||
                       len == 2 + sub_end[2];
        if (boundary) {
            ck_assert_msg(err == 0, "prefix %zu: %s", len, eddy_strerror(err));
            ck_assert_int_eq(d.as_ntopics, 2);
            ck_assert_int_eq(d.as_user_data.len, len >= 2 + sub_end[0] ? 2 : -1);
            ck_assert_int_eq(d.as_nowned, len >= 2 + sub_end[1] ? 1 : 0);
            ck_assert_int_eq(d.as_generation_id, len >= 2 + sub_end[2] ? 7 : -1);
            ck_assert_ptr_null(d.as_rack_id);
        } else {
            ck_assert_msg(err == EDDY_ERR_TRUNCATED, "prefix %zu of %zu: %s", len, n,
                          eddy_strerror(err));
        }
    }
    /* A newer version reads as v3 and ignores what follows. */
    uint8_t newer[80];
    memcpy(newer, full, n);
    newer[1] = 9;
    memset(newer + n, 0xab, 10);
    eddy_rd_t rd;
    rd_init(&rd, newer, n + 10);
    assignor_subscription_t d;
    ck_assert_int_eq(assignor_subscription_decode(&rd, &a, &d), 0);
    ck_assert_int_eq(d.as_version, 9);
    ck_assert_str_eq(d.as_rack_id, "r1");
    /* A negative version, a null topic, a NUL inside a name. */
    static const uint8_t negv[] = {0xff, 0xff, 0, 0, 0, 0};
    rd_init(&rd, negv, sizeof negv);
    ck_assert_int_eq(assignor_subscription_decode(&rd, &a, &d), EDDY_ERR_INVALID_ARG);
    static const uint8_t nullt[] = {0, 0, 0, 0, 0, 1, 0xff, 0xff};
    rd_init(&rd, nullt, sizeof nullt);
    ck_assert_int_eq(assignor_subscription_decode(&rd, &a, &d), EDDY_ERR_INVALID_ARG);
    static const uint8_t nul[] = {0, 0, 0, 0, 0, 1, 0, 3, 'a', 0, 'b'};
    rd_init(&rd, nul, sizeof nul);
    ck_assert_int_eq(assignor_subscription_decode(&rd, &a, &d), EDDY_ERR_INVALID_ARG);
    /* Hostile counts are refused before anything is allocated: the arena's
     * 4 KiB limit would turn an allocation into -ENOMEM. */
    eddy_arena_t small;
    arena_init(&small, 4096);
    static const uint8_t huge_topics[] = {0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 0};
    rd_init(&rd, huge_topics, sizeof huge_topics);
    ck_assert_int_eq(assignor_subscription_decode(&rd, &small, &d), EDDY_ERR_TRUNCATED);
    static const uint8_t neg_count[] = {0, 0, 0x80, 0, 0, 0};
    rd_init(&rd, neg_count, sizeof neg_count);
    ck_assert_int_eq(assignor_subscription_decode(&rd, &small, &d), EDDY_ERR_INVALID_ARG);
    static const uint8_t null_topics[] = {0, 0, 0xff, 0xff, 0xff, 0xff};
    rd_init(&rd, null_topics, sizeof null_topics);
    ck_assert_int_eq(assignor_subscription_decode(&rd, &small, &d), EDDY_ERR_INVALID_ARG);
    ck_assert_uint_eq(small.ar_used, 0);
    /* OwnedPartitions announcing 2^30 partitions of topic "x". */
    /* clang-format off */
    static const uint8_t huge_owned[] = {0, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
                                         0, 0, 0, 1, 0, 1, 'x', 0x40, 0, 0, 0};
    /* clang-format on */
    rd_init(&rd, huge_owned, sizeof huge_owned);
    ck_assert_int_eq(assignor_subscription_decode(&rd, &small, &d), EDDY_ERR_TRUNCATED);
    arena_free(&small);
    arena_free(&a);
}
END_TEST

START_TEST(assignment_bytes)
{
    int32_t p1[] = {0, 1}, p2[] = {5};
    assignor_topic_t t[] = {{"t1", p1, 2}, {"t2", p2, 1}};
    assignor_assignment_t as = {
        .aa_member_id = "m", .aa_topics = t, .aa_ntopics = 2, .aa_user_data = {"\x01\x02", 2}};
    /* clang-format off */
    static const uint8_t want[] = {
        0, 1,                                            /* Version 1 */
        0, 0, 0, 2,                                      /* AssignedPartitions: 2 */
        0, 2, 't', '1', 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, /* t1 [0, 1] */
        0, 2, 't', '2', 0, 0, 0, 1, 0, 0, 0, 5,             /* t2 [5] */
        0, 0, 0, 2, 1, 2,                                /* UserData */
    };
    /* clang-format on */
    eddy_wr_t w;
    wr_init(&w);
    ck_assert_int_eq(assignor_assignment_encode(&w, 1, &as), 0);
    assert_wr(&w, want, sizeof want, "assignment");

    eddy_arena_t a;
    arena_init(&a, 0);
    eddy_rd_t rd;
    rd_init(&rd, w.wr_buf, w.wr_len);
    assignor_assignment_t d;
    int16_t v = -1;
    ck_assert_int_eq(assignor_assignment_decode(&rd, &a, &d, &v), 0);
    ck_assert_int_eq(v, 1);
    ck_assert_ptr_null(d.aa_member_id);
    char buf[128];
    ck_assert_str_eq(fmt_assignment(&d, buf, sizeof buf), "t1-0 t1-1 t2-5");
    ck_assert_int_eq(d.aa_user_data.len, 2);
    ck_assert_mem_eq(d.aa_user_data.ptr, "\x01\x02", 2);

    /* Null userData is -1; a writer that stops before it means null too. */
    as.aa_user_data = KSTR_NULL;
    as.aa_ntopics = 0;
    wr_reset(&w);
    ck_assert_int_eq(assignor_assignment_encode(&w, 0, &as), 0);
    static const uint8_t empty[] = {0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
    assert_wr(&w, empty, sizeof empty, "empty assignment");
    rd_init(&rd, empty, 6);
    ck_assert_int_eq(assignor_assignment_decode(&rd, &a, &d, NULL), 0);
    ck_assert_int_eq(d.aa_ntopics, 0);
    ck_assert_int_eq(d.aa_user_data.len, -1);
    /* Truncations and a NUL in a name fail. */
    for (size_t len = 1; len < sizeof want; len++) {
        if (len == sizeof want - 6) /* the userData-less form */
            continue;
        rd_init(&rd, want, len);
        ck_assert_msg(assignor_assignment_decode(&rd, &a, &d, NULL) != 0, "prefix %zu", len);
    }
    uint8_t nul[sizeof want];
    memcpy(nul, want, sizeof want);
    nul[9] = 0; /* "t1" -> "t\0" */
    rd_init(&rd, nul, sizeof nul);
    ck_assert_int_eq(assignor_assignment_decode(&rd, &a, &d, NULL), EDDY_ERR_INVALID_ARG);
    ck_assert_int_eq(assignor_assignment_encode(&w, -1, &as), EDDY_ERR_INVALID_ARG);
    wr_free(&w);
    arena_free(&a);
}
END_TEST

TCase *tcase_assignor_protocol(void)
{
    TCase *tc = tcase_create("assignor_protocol");
    tcase_add_test(tc, subscription_bytes);
    tcase_add_test(tc, subscription_librdkafka);
    tcase_add_test(tc, subscription_malformed);
    tcase_add_test(tc, assignment_bytes);
    return tc;
}

/* ---- range (RangeAssignorTest) -------------------------------------------- */

static const char *T1[] = {"topic1"};
static const char *T12[] = {"topic1", "topic2"};

START_TEST(range_single_consumer)
{
    eddy_arena_t a;
    arena_init(&a, 0);
    assignor_assignment_t out[1];
    /* testOneConsumerNoTopic / NonexistentTopic. */
    static const char *none[1];
    assignor_subscription_t s0 = SUB("consumer1", NULL, none);
    s0.as_ntopics = 0;
    run_assignor("range", &a, NULL, 0, &s0, 1, out);
    EXPECT_ASSIGNED(out, 1, "consumer1", "");
    assignor_subscription_t s1 = SUB("consumer1", NULL, T1);
    run_assignor("range", &a, NULL, 0, &s1, 1, out);
    EXPECT_ASSIGNED(out, 1, "consumer1", "");
    /* testOneConsumerOneTopic, testOnlyAssignsPartitionsFromSubscribedTopics. */
    static const assignor_topic_info_t with_other[] = {{"other", 3}, {"topic1", 3}};
    run_assignor("range", &a, with_other, 2, &s1, 1, out);
    EXPECT_ASSIGNED(out, 1, "consumer1", "topic1-0 topic1-1 topic1-2");
    /* testOneConsumerMultipleTopics (1 and 2 partitions). */
    static const assignor_topic_info_t t12[] = {{"topic1", 1}, {"topic2", 2}};
    assignor_subscription_t s2 = SUB("consumer1", NULL, T12);
    run_assignor("range", &a, t12, 2, &s2, 1, out);
    EXPECT_ASSIGNED(out, 1, "consumer1", "topic1-0 topic2-0 topic2-1");
    ck_assert_str_eq(out[0].aa_member_id, "consumer1");
    ck_assert_int_eq(out[0].aa_user_data.len, -1);
    arena_free(&a);
}
END_TEST

START_TEST(range_kafka_cases)
{
    eddy_arena_t a;
    arena_init(&a, 0);
    assignor_assignment_t out[4];
    /* testTwoConsumersOneTopicOnePartition / TwoPartitions. */
    static const assignor_topic_info_t one[] = {{"topic1", 1}}, two[] = {{"topic1", 2}};
    assignor_subscription_t s[4] = {SUB("consumer1", NULL, T1), SUB("consumer2", NULL, T1)};
    run_assignor("range", &a, one, 1, s, 2, out);
    EXPECT_ASSIGNED(out, 2, "consumer1", "topic1-0");
    EXPECT_ASSIGNED(out, 2, "consumer2", "");
    run_assignor("range", &a, two, 1, s, 2, out);
    EXPECT_ASSIGNED(out, 2, "consumer1", "topic1-0");
    EXPECT_ASSIGNED(out, 2, "consumer2", "topic1-1");
    /* testMultipleConsumersMixedTopics: topic1 3, topic2 2. */
    static const assignor_topic_info_t t32[] = {{"topic1", 3}, {"topic2", 2}};
    s[0] = SUB("consumer1", NULL, T1);
    s[1] = SUB("consumer2", NULL, T12);
    s[2] = SUB("consumer3", NULL, T1);
    run_assignor("range", &a, t32, 2, s, 3, out);
    EXPECT_ASSIGNED(out, 3, "consumer1", "topic1-0");
    EXPECT_ASSIGNED(out, 3, "consumer2", "topic1-1 topic2-0 topic2-1");
    EXPECT_ASSIGNED(out, 3, "consumer3", "topic1-2");
    /* testTwoConsumersTwoTopicsSixPartitions: ranges per topic, the first
     * member gets the extra partition of each. */
    static const assignor_topic_info_t t33[] = {{"topic1", 3}, {"topic2", 3}};
    s[0] = SUB("consumer1", NULL, T12);
    s[1] = SUB("consumer2", NULL, T12);
    run_assignor("range", &a, t33, 2, s, 2, out);
    EXPECT_ASSIGNED(out, 2, "consumer1", "topic1-0 topic1-1 topic2-0 topic2-1");
    EXPECT_ASSIGNED(out, 2, "consumer2", "topic1-2 topic2-2");
    /* testTwoStaticConsumersTwoTopicsSixPartitions: instance ids decide, not
     * member ids. */
    s[0] = SUB("consumer-b", "instance1", T12);
    s[1] = SUB("consumer-a", "instance2", T12);
    run_assignor("range", &a, t33, 2, s, 2, out);
    EXPECT_ASSIGNED(out, 2, "consumer-b", "topic1-0 topic1-1 topic2-0 topic2-1");
    EXPECT_ASSIGNED(out, 2, "consumer-a", "topic1-2 topic2-2");
    /* testOneStaticConsumerAndOneDynamicConsumerTwoTopicsSixPartitions:
     * static members come first. */
    s[1] = SUB("consumer-a", NULL, T12);
    run_assignor("range", &a, t33, 2, s, 2, out);
    EXPECT_ASSIGNED(out, 2, "consumer-b", "topic1-0 topic1-1 topic2-0 topic2-1");
    EXPECT_ASSIGNED(out, 2, "consumer-a", "topic1-2 topic2-2");
    /* Three members on six partitions: two each. */
    static const assignor_topic_info_t six[] = {{"topic1", 6}};
    s[0] = SUB("c", NULL, T1);
    s[1] = SUB("a", NULL, T1);
    s[2] = SUB("b", NULL, T1);
    run_assignor("range", &a, six, 1, s, 3, out);
    EXPECT_ASSIGNED(out, 3, "a", "topic1-0 topic1-1");
    EXPECT_ASSIGNED(out, 3, "b", "topic1-2 topic1-3");
    EXPECT_ASSIGNED(out, 3, "c", "topic1-4 topic1-5");
    arena_free(&a);
}
END_TEST

START_TEST(range_static_persistent)
{
    /* testStaticMemberRangeAssignmentPersistent: topic1 5, topic2 4; three
     * static members and a dynamic one; replacing the dynamic member changes
     * nobody else's assignment. */
    eddy_arena_t a;
    arena_init(&a, 0);
    static const assignor_topic_info_t t54[] = {{"topic1", 5}, {"topic2", 4}};
    assignor_subscription_t s[4] = {SUB("consumer1", "instance1", T12),
                                    SUB("consumer2", "instance2", T12),
                                    SUB("consumer3", "instance3", T12),
                                    SUB("consumer4", NULL, T12)};
    assignor_assignment_t out[4];
    for (int round = 0; round < 2; round++) {
        if (round == 1)
            s[3] = SUB("consumer5", NULL, T12);
        run_assignor("range", &a, t54, 2, s, 4, out);
        EXPECT_ASSIGNED(out, 4, "consumer1", "topic1-0 topic1-1 topic2-0");
        EXPECT_ASSIGNED(out, 4, "consumer2", "topic1-2 topic2-1");
        EXPECT_ASSIGNED(out, 4, "consumer3", "topic1-3 topic2-2");
        EXPECT_ASSIGNED(out, 4, round ? "consumer5" : "consumer4", "topic1-4 topic2-3");
    }
    arena_free(&a);
}
END_TEST

TCase *tcase_assignor_range(void)
{
    TCase *tc = tcase_create("assignor_range");
    tcase_add_test(tc, range_single_consumer);
    tcase_add_test(tc, range_kafka_cases);
    tcase_add_test(tc, range_static_persistent);
    return tc;
}

/* ---- roundrobin (RoundRobinAssignorTest) ---------------------------------- */

START_TEST(roundrobin_kafka_cases)
{
    eddy_arena_t a;
    arena_init(&a, 0);
    assignor_assignment_t out[4];
    assignor_subscription_t s[4] = {SUB("consumer1", NULL, T1)};
    static const assignor_topic_info_t with_other[] = {{"topic1", 3}, {"other", 3}};
    run_assignor("roundrobin", &a, with_other, 2, s, 1, out);
    EXPECT_ASSIGNED(out, 1, "consumer1", "topic1-0 topic1-1 topic1-2");
    static const assignor_topic_info_t t12[] = {{"topic1", 1}, {"topic2", 2}};
    s[0] = SUB("consumer1", NULL, T12);
    run_assignor("roundrobin", &a, t12, 2, s, 1, out);
    EXPECT_ASSIGNED(out, 1, "consumer1", "topic1-0 topic2-0 topic2-1");
    /* testTwoConsumersOneTopicOnePartition / TwoPartitions. */
    static const assignor_topic_info_t one[] = {{"topic1", 1}}, two[] = {{"topic1", 2}};
    s[0] = SUB("consumer1", NULL, T1);
    s[1] = SUB("consumer2", NULL, T1);
    run_assignor("roundrobin", &a, one, 1, s, 2, out);
    EXPECT_ASSIGNED(out, 2, "consumer1", "topic1-0");
    EXPECT_ASSIGNED(out, 2, "consumer2", "");
    run_assignor("roundrobin", &a, two, 1, s, 2, out);
    EXPECT_ASSIGNED(out, 2, "consumer1", "topic1-0");
    EXPECT_ASSIGNED(out, 2, "consumer2", "topic1-1");
    /* testMultipleConsumersMixedTopics: consumer2 alone takes topic2. */
    static const assignor_topic_info_t t32[] = {{"topic1", 3}, {"topic2", 2}};
    s[1] = SUB("consumer2", NULL, T12);
    s[2] = SUB("consumer3", NULL, T1);
    run_assignor("roundrobin", &a, t32, 2, s, 3, out);
    EXPECT_ASSIGNED(out, 3, "consumer1", "topic1-0");
    EXPECT_ASSIGNED(out, 3, "consumer2", "topic1-1 topic2-0 topic2-1");
    EXPECT_ASSIGNED(out, 3, "consumer3", "topic1-2");
    /* testTwoDynamicConsumersTwoTopicsSixPartitions: dealt across topics. */
    static const assignor_topic_info_t t33[] = {{"topic2", 3}, {"topic1", 3}};
    s[0] = SUB("consumer1", NULL, T12);
    s[1] = SUB("consumer2", NULL, T12);
    run_assignor("roundrobin", &a, t33, 2, s, 2, out);
    EXPECT_ASSIGNED(out, 2, "consumer1", "topic1-0 topic1-2 topic2-1");
    EXPECT_ASSIGNED(out, 2, "consumer2", "topic1-1 topic2-0 topic2-2");
    /* testTwoStaticConsumersTwoTopicsSixPartitions and
     * testOneStaticConsumerAndOneDynamicConsumerTwoTopicsSixPartitions. */
    s[0] = SUB("consumer-b", "instance1", T12);
    s[1] = SUB("consumer-a", "instance2", T12);
    run_assignor("roundrobin", &a, t33, 2, s, 2, out);
    EXPECT_ASSIGNED(out, 2, "consumer-b", "topic1-0 topic1-2 topic2-1");
    EXPECT_ASSIGNED(out, 2, "consumer-a", "topic1-1 topic2-0 topic2-2");
    s[1] = SUB("consumer-a", NULL, T12);
    run_assignor("roundrobin", &a, t33, 2, s, 2, out);
    EXPECT_ASSIGNED(out, 2, "consumer-b", "topic1-0 topic1-2 topic2-1");
    EXPECT_ASSIGNED(out, 2, "consumer-a", "topic1-1 topic2-0 topic2-2");
    /* Three members on six partitions: two each, dealt in turn. */
    static const assignor_topic_info_t six[] = {{"topic1", 6}};
    s[0] = SUB("c", NULL, T1);
    s[1] = SUB("a", NULL, T1);
    s[2] = SUB("b", NULL, T1);
    run_assignor("roundrobin", &a, six, 1, s, 3, out);
    EXPECT_ASSIGNED(out, 3, "a", "topic1-0 topic1-3");
    EXPECT_ASSIGNED(out, 3, "b", "topic1-1 topic1-4");
    EXPECT_ASSIGNED(out, 3, "c", "topic1-2 topic1-5");
    arena_free(&a);
}
END_TEST

START_TEST(roundrobin_static_persistent)
{
    /* testStaticMemberAssignmentPersistent. */
    eddy_arena_t a;
    arena_init(&a, 0);
    static const assignor_topic_info_t t33[] = {{"topic1", 3}, {"topic2", 3}};
    assignor_subscription_t s[4] = {SUB("consumer1", "instance1", T12),
                                    SUB("consumer2", "instance2", T12),
                                    SUB("consumer3", "instance3", T12),
                                    SUB("consumer4", NULL, T12)};
    assignor_assignment_t out[4];
    for (int round = 0; round < 2; round++) {
        if (round == 1)
            s[3] = SUB("consumer5", NULL, T12);
        run_assignor("roundrobin", &a, t33, 2, s, 4, out);
        EXPECT_ASSIGNED(out, 4, "consumer1", "topic1-0 topic2-1");
        EXPECT_ASSIGNED(out, 4, "consumer2", "topic1-1 topic2-2");
        EXPECT_ASSIGNED(out, 4, "consumer3", "topic1-2");
        EXPECT_ASSIGNED(out, 4, round ? "consumer5" : "consumer4", "topic2-0");
    }
    /* testStaticMemberAssignmentPersistentAfterMemberIdChanges: the
     * instances keep their partitions when their member ids change. */
    static const char *inst[] = {"instance1", "instance2", "instance3"};
    static const char *ids1[] = {"consumer1", "consumer2", "consumer3"};
    static const char *ids2[] = {"consumer4", "consumer5", "consumer1"};
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 3; i++)
            s[i] = SUB(round ? ids2[i] : ids1[i], inst[i], T12);
        run_assignor("roundrobin", &a, t33, 2, s, 3, out);
        for (int i = 0; i < 3; i++) {
            char want[64];
            snprintf(want, sizeof want, "topic1-%d topic2-%d", i, i);
            EXPECT_ASSIGNED(out, 3, round ? ids2[i] : ids1[i], want);
        }
    }
    arena_free(&a);
}
END_TEST

TCase *tcase_assignor_roundrobin(void)
{
    TCase *tc = tcase_create("assignor_roundrobin");
    tcase_add_test(tc, roundrobin_kafka_cases);
    tcase_add_test(tc, roundrobin_static_persistent);
    return tc;
}

/* ---- the plug-in contract ------------------------------------------------- */

/* A plug-in in the way a streams runtime would write one: it reads each
 * member's userData (here a decimal task capacity), gives every member
 * partitions of topic1 in proportion, and answers each with userData naming
 * its share. */
static int capacity_assign(assignor_t *asg, eddy_arena_t *a, const assignor_topic_info_t *topics,
                           int32_t ntopics, const assignor_subscription_t *subs, int32_t nsubs,
                           assignor_assignment_t *out, char *errstr, size_t errstr_size)
{
    int *calls = asg->asg_opaque;
    (*calls)++;
    int32_t next = 0, np = 0;
    for (int32_t i = 0; i < ntopics; i++)
        if (strcmp(topics[i].ati_topic, "topic1") == 0)
            np = topics[i].ati_npartitions;
    for (int32_t m = 0; m < nsubs && next < np; m++) {
        char cap_s[16] = "";
        memcpy(cap_s, subs[m].as_user_data.ptr, (size_t)subs[m].as_user_data.len);
        int32_t cap = atoi(cap_s), n = 0;
        assignor_topic_t *t = arena_calloc(a, 1, sizeof *t);
        t->at_topic = "topic1";
        t->at_partitions = arena_calloc(a, (size_t)cap + 1, sizeof(int32_t));
        while (n < cap && next < np)
            t->at_partitions[n++] = next++;
        t->at_npartitions = n;
        out[m].aa_topics = t;
        out[m].aa_ntopics = 1;
        char *ud = arena_alloc(a, 16);
        int len = snprintf(ud, 16, "share=%d", (int)n);
        out[m].aa_user_data = (kstr_t){ud, len};
    }
    return 0;
}

/* A plug-in with a bug: both members get topic1-0. */
static int twice_assign(assignor_t *asg, eddy_arena_t *a, const assignor_topic_info_t *topics,
                        int32_t ntopics, const assignor_subscription_t *subs, int32_t nsubs,
                        assignor_assignment_t *out, char *errstr, size_t errstr_size)
{
    static int32_t zero[] = {0};
    static assignor_topic_t t = {"topic1", zero, 1};
    for (int32_t m = 0; m < nsubs; m++) {
        out[m].aa_topics = &t;
        out[m].aa_ntopics = 1;
    }
    return 0;
}

START_TEST(plugin_user_data_both_ways)
{
    int calls = 0;
    assignor_t asg = {.asg_name = "capacity", .asg_assign = capacity_assign, .asg_opaque = &calls};
    /* Member side: no hooks means null userData and nothing to do. */
    eddy_arena_t a;
    arena_init(&a, 0);
    kstr_t ud = {"x", 1};
    ck_assert_int_eq(assignor_user_data(&asg, &a, NULL, 0, &ud), 0);
    ck_assert_int_eq(ud.len, -1);
    ck_assert_int_eq(assignor_on_assignment(&asg, &(assignor_assignment_t){0}, 3), 0);

    /* The subscriptions travel as bytes, as they would in JoinGroup. */
    assignor_subscription_t in[2] = {SUB("m1", NULL, T1), SUB("m2", NULL, T1)};
    in[0].as_user_data = (kstr_t){"3", 1};
    in[1].as_user_data = (kstr_t){"1", 1};
    assignor_subscription_t subs[2];
    for (int i = 0; i < 2; i++) {
        eddy_wr_t w;
        wr_init(&w);
        in[i].as_version = 1;
        ck_assert_int_eq(assignor_subscription_encode(&w, &in[i]), 0);
        eddy_rd_t rd;
        rd_init(&rd, w.wr_buf, w.wr_len);
        ck_assert_int_eq(assignor_subscription_decode(&rd, &a, &subs[i]), 0);
        subs[i].as_member_id = in[i].as_member_id;
        wr_free(&w);
    }
    static const assignor_topic_info_t t5[] = {{"topic1", 5}};
    assignor_assignment_t out[2];
    char errstr[256];
    ck_assert_int_eq(assignor_assign(&asg, &a, t5, 1, subs, 2, out, errstr, sizeof errstr), 0);
    ck_assert_int_eq(calls, 1);
    /* The wrapper filled in the member ids the plug-in left out. */
    ck_assert_str_eq(out[0].aa_member_id, "m1");
    ck_assert_str_eq(out[1].aa_member_id, "m2");
    EXPECT_ASSIGNED(out, 2, "m1", "topic1-0 topic1-1 topic1-2");
    EXPECT_ASSIGNED(out, 2, "m2", "topic1-3");
    /* The assignment userData survives SyncGroup's bytes. */
    eddy_wr_t w;
    wr_init(&w);
    ck_assert_int_eq(assignor_assignment_encode(&w, 0, &out[0]), 0);
    eddy_rd_t rd;
    rd_init(&rd, w.wr_buf, w.wr_len);
    assignor_assignment_t got;
    ck_assert_int_eq(assignor_assignment_decode(&rd, &a, &got, NULL), 0);
    ck_assert_int_eq(got.aa_user_data.len, 7);
    ck_assert_mem_eq(got.aa_user_data.ptr, "share=3", 7);
    wr_free(&w);
    arena_free(&a);
}
END_TEST

START_TEST(plugin_mistakes_refused)
{
    eddy_arena_t a;
    arena_init(&a, 0);
    char errstr[256] = "";
    assignor_t bad = {.asg_name = "twice", .asg_assign = twice_assign};
    static const assignor_topic_info_t t5[] = {{"topic1", 5}};
    assignor_subscription_t s[2] = {SUB("m1", NULL, T1), SUB("m2", NULL, T1)};
    assignor_assignment_t out[2];
    ck_assert_int_eq(assignor_assign(&bad, &a, t5, 1, s, 2, out, errstr, sizeof errstr),
                     EDDY_ERR_INVALID_ARG);
    ck_assert_msg(strstr(errstr, "topic1-0") && strstr(errstr, "m1") && strstr(errstr, "m2"),
                  "errstr: %s", errstr);
    /* Malformed groups are refused before any assignor runs. */
    assignor_t rr;
    ck_assert_int_eq(assignor_init(&rr, "roundrobin", errstr, sizeof errstr), 0);
    assignor_subscription_t dup[2] = {SUB("m1", NULL, T1), SUB("m1", NULL, T1)};
    ck_assert_int_eq(assignor_assign(&rr, &a, t5, 1, dup, 2, out, errstr, sizeof errstr),
                     EDDY_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(errstr, "m1 is listed twice"));
    static const assignor_topic_info_t dup_t[] = {{"topic1", 5}, {"topic1", 3}};
    ck_assert_int_eq(assignor_assign(&rr, &a, dup_t, 2, s, 2, out, errstr, sizeof errstr),
                     EDDY_ERR_INVALID_ARG);
    static const assignor_topic_info_t neg[] = {{"topic1", -1}};
    ck_assert_int_eq(assignor_assign(&rr, &a, neg, 1, s, 2, out, errstr, sizeof errstr),
                     EDDY_ERR_INVALID_ARG);
    assignor_subscription_t noid[1] = {SUB(NULL, NULL, T1)};
    ck_assert_int_eq(assignor_assign(&rr, &a, t5, 1, noid, 1, out, errstr, sizeof errstr),
                     EDDY_ERR_INVALID_ARG);
    assignor_close(&rr);
    /* A subscription listing a topic twice counts it once. */
    static const char *twice[] = {"topic1", "topic1"};
    assignor_subscription_t tw[2] = {SUB("m1", NULL, twice), SUB("m2", NULL, T1)};
    run_assignor("range", &a, t5, 1, tw, 2, out);
    EXPECT_ASSIGNED(out, 2, "m1", "topic1-0 topic1-1 topic1-2");
    EXPECT_ASSIGNED(out, 2, "m2", "topic1-3 topic1-4");
    /* Unknown built-in names. */
    ck_assert_int_eq(assignor_init(&rr, "cooperative-sticky", errstr, sizeof errstr),
                     EDDY_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(errstr, "cooperative-sticky"));
    arena_free(&a);
}
END_TEST

TCase *tcase_assignor_plugin(void)
{
    TCase *tc = tcase_create("assignor_plugin");
    tcase_add_test(tc, plugin_user_data_both_ways);
    tcase_add_test(tc, plugin_mistakes_refused);
    return tc;
}

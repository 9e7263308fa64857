/* client/partitioner.c against values no one here computed: the expected
 * hashes of Kafka's UtilsTest.testMurmur2 (clients/src/test/java/org/apache/
 * kafka/common/utils/UtilsTest.java) and of librdkafka's unittest_murmur2
 * (src/rdmurmur2.c, which checks the Java results including unaligned
 * input); the partitions below are toPositive(hash) % n worked out from those
 * hashes. librdkafka itself (rd_kafka_msg_partitioner_murmur2_random, the
 * partitioner that librdkafka documents as Java-compatible) is then asked for
 * 10,000 random keys at every partition count from 1 to 64. The sticky
 * cases follow Kafka's StickyPartitionCacheTest. */
#include <check.h>
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "client/partitioner.h"
#include "common/err.h"

/* ---- murmur2 and keyed records -------------------------------------------- */

typedef struct hash_case {
    const char *key;
    int32_t hash;
} hash_case_t;

START_TEST(murmur2_java_vectors)
{
    /* UtilsTest.testMurmur2. */
    static const hash_case_t java[] = {
        {"21", -973932308},
        {"foobar", -790332482},
        {"a-little-bit-long-string", -985981536},
        {"a-little-bit-longer-string", -1486304829},
        {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
        {"abc", 479470107},
    };
    for (size_t i = 0; i < sizeof java / sizeof java[0]; i++)
        ck_assert_msg(partitioner_murmur2(java[i].key, strlen(java[i].key)) == java[i].hash,
                      "murmur2(\"%s\") = %d, Java says %d", java[i].key,
                      partitioner_murmur2(java[i].key, strlen(java[i].key)), java[i].hash);
}
END_TEST

START_TEST(murmur2_rdkafka_vectors)
{
    /* librdkafka's unittest_murmur2: every tail length (0-3 bytes after the
     * 4-byte blocks) and keys that start off a 4-byte boundary. */
    static const char short_unaligned[] = "1234";
    static const char unaligned[] = "PreAmbleWillBeRemoved,ThePrePartThatIs";
    static const struct {
        const char *s;
        size_t off;
        uint32_t hash;
    } c[] = {
        {"kafka", 0, 0xd067cf64},
        {"giberish123456789", 0, 0x8f552b0c},
        {short_unaligned, 0, 0x9fc97b14},
        {short_unaligned, 1, 0xe7c009ca},
        {short_unaligned, 2, 0x873930da},
        {short_unaligned, 3, 0x5a4b5ca1},
        {unaligned, 0, 0x78424f1c},
        {unaligned, 1, 0x4a62b377},
        {unaligned, 2, 0xe0e4e09e},
        {unaligned, 3, 0x62b8b43f},
        {"", 0, 0x106e08d9},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        const char *k = c[i].s + c[i].off;
        uint32_t got = (uint32_t)partitioner_murmur2(k, strlen(k));
        ck_assert_msg(got == c[i].hash, "murmur2(\"%s\") = 0x%08x, librdkafka says 0x%08x", k, got,
                      c[i].hash);
    }
    /* NULL with length 0 is the empty key's hash, as in librdkafka's test. */
    ck_assert_uint_eq((uint32_t)partitioner_murmur2(NULL, 0), 0x106e08d9u);
    /* Bytes >= 0x80 (where a signed-char implementation goes wrong) are
     * covered by the librdkafka cross-check below. */
}
END_TEST

START_TEST(keyed_partition)
{
    /* toPositive(hash) % n from the vectors above: "21" hashes to
     * -973932308, toPositive 1173551340. */
    static const struct {
        const char *key;
        int32_t n, want;
    } c[] = {
        {"21", 7, 3},    {"21", 64, 44}, {"foobar", 10, 6}, {"foobar", 64, 62},
        {"abc", 2, 1},   {"abc", 12, 3}, {"kafka", 3, 1},   {"kafka", 12, 4},
        {"kafka", 1, 0}, {"", 12, 9},    {"", 64, 25},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        ck_assert_msg(partitioner_key_partition(c[i].key, strlen(c[i].key), c[i].n) == c[i].want,
                      "key \"%s\" on %d partitions: got %d, want %d", c[i].key, c[i].n,
                      partitioner_key_partition(c[i].key, strlen(c[i].key), c[i].n), c[i].want);
    ck_assert_int_eq(partitioner_to_positive(INT32_MIN), 0);
    ck_assert_int_eq(partitioner_to_positive(-1), INT32_MAX);
    ck_assert_int_eq(partitioner_to_positive(-10), 2147483638); /* not abs(): & 0x7fffffff */
    ck_assert_int_eq(partitioner_key_partition("k", 1, 0), EDDY_ERR_INVALID_ARG);
    ck_assert_int_eq(partitioner_key_partition("k", 1, -3), EDDY_ERR_INVALID_ARG);
}
END_TEST

START_TEST(partition_choice)
{
    partitioner_sticky_t ps;
    partitioner_sticky_init(&ps, 42);
    /* An explicit partition passes through, even beyond the count (the
     * producer validates it against metadata, as KafkaProducer does). */
    ck_assert_int_eq(partitioner_partition(&ps, 5, "kafka", 5, 12, NULL, 0), 5);
    ck_assert_int_eq(partitioner_partition(&ps, 99, NULL, 0, 12, NULL, 0), 99);
    ck_assert_int_eq(partitioner_partition(&ps, -2, "kafka", 5, 12, NULL, 0), EDDY_ERR_INVALID_ARG);
    ck_assert_int_eq(ps.ps_partition, PARTITIONER_UNASSIGNED); /* untouched */
    /* A key hashes. */
    ck_assert_int_eq(partitioner_partition(&ps, PARTITIONER_UNASSIGNED, "kafka", 5, 12, NULL, 0),
                     4);
    ck_assert_int_eq(ps.ps_partition, PARTITIONER_UNASSIGNED);
    /* An empty key is a key: it hashes (to 9 of 12), a null key is sticky. */
    ck_assert_int_eq(partitioner_partition(&ps, PARTITIONER_UNASSIGNED, "", 0, 12, NULL, 0), 9);
    ck_assert_int_eq(ps.ps_partition, PARTITIONER_UNASSIGNED);
    int32_t p = partitioner_partition(&ps, PARTITIONER_UNASSIGNED, NULL, 0, 12, NULL, 0);
    ck_assert(p >= 0 && p < 12);
    ck_assert_int_eq(ps.ps_partition, p);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(partitioner_partition(&ps, PARTITIONER_UNASSIGNED, NULL, 0, 12, NULL, 0),
                         p);
    ck_assert_int_eq(partitioner_partition(&ps, PARTITIONER_UNASSIGNED, NULL, 0, 0, NULL, 0),
                     EDDY_ERR_INVALID_ARG);
    ck_assert_int_eq(partitioner_partition(&ps, PARTITIONER_UNASSIGNED, "k", 1, 0, NULL, 0),
                     EDDY_ERR_INVALID_ARG);
}
END_TEST

/* ---- sticky (KIP-480) ----------------------------------------------------- */

START_TEST(sticky_cache)
{
    /* StickyPartitionCacheTest.testStickyPartitionCache: topic A has three
     * partitions on live leaders, topic B one. */
    static const int32_t a_avail[] = {0, 1, 2}, b_avail[] = {0};
    partitioner_sticky_t a, b;
    partitioner_sticky_init(&a, 1);
    partitioner_sticky_init(&b, 2);

    int32_t part_a = partitioner_sticky_partition(&a, 3, a_avail, 3);
    ck_assert(part_a >= 0 && part_a < 3);
    ck_assert_int_eq(partitioner_sticky_partition(&a, 3, a_avail, 3), part_a);
    int32_t part_b = partitioner_sticky_partition(&b, 1, b_avail, 1);
    ck_assert_int_eq(part_b, 0);
    ck_assert_int_eq(partitioner_sticky_partition(&b, 1, b_avail, 1), part_b);

    /* A batch for the sticky partition closed: move to a different one. */
    int32_t changed_a = partitioner_sticky_next(&a, 3, a_avail, 3, part_a);
    ck_assert_int_ne(changed_a, part_a);
    ck_assert_int_eq(partitioner_sticky_partition(&a, 3, a_avail, 3), changed_a);
    /* A stale completion (for the old partition) changes nothing. */
    ck_assert_int_eq(partitioner_sticky_next(&a, 3, a_avail, 3, part_a), changed_a);
    ck_assert_int_eq(partitioner_sticky_partition(&a, 3, a_avail, 3), changed_a);
    /* One partition: next keeps it. */
    ck_assert_int_eq(partitioner_sticky_next(&b, 1, b_avail, 1, part_b), 0);
    ck_assert_int_eq(partitioner_sticky_partition(&b, 1, b_avail, 1), 0);
}
END_TEST

START_TEST(sticky_unavailable)
{
    /* StickyPartitionCacheTest.unavailablePartitionsTest: A's partition 1
     * has no leader, B's partition 0 has none, C's only partition has none. */
    static const int32_t a_avail[] = {0, 2}, b_avail[] = {1};
    partitioner_sticky_t a, b, c;
    partitioner_sticky_init(&a, 7);
    partitioner_sticky_init(&b, 8);
    partitioner_sticky_init(&c, 9);
    int32_t part_a = partitioner_sticky_partition(&a, 3, a_avail, 2);
    ck_assert_int_ne(part_a, 1);
    for (int i = 0; i < 100; i++) {
        int32_t next = partitioner_sticky_next(&a, 3, a_avail, 2, part_a);
        ck_assert_int_ne(next, 1);
        ck_assert_int_ne(next, part_a); /* two available: always a different one */
        part_a = next;
    }
    int32_t part_b = partitioner_sticky_partition(&b, 2, b_avail, 1);
    ck_assert_int_eq(part_b, 1);
    for (int i = 0; i < 100; i++) {
        part_b = partitioner_sticky_next(&b, 2, b_avail, 1, part_b);
        ck_assert_int_eq(part_b, 1);
    }
    /* Nothing available: still a partition (random over all). */
    ck_assert_int_eq(partitioner_sticky_partition(&c, 1, NULL, 0), 0);
    ck_assert_int_eq(partitioner_sticky_next(&c, 1, NULL, 0, 0), 0);
}
END_TEST

START_TEST(sticky_spreads)
{
    /* Switching many times visits every available partition, never the
     * same one twice in a row, and never draws beyond the count. */
    partitioner_sticky_t ps;
    partitioner_sticky_init(&ps, 12345);
    int seen[16] = {0};
    int32_t cur = partitioner_sticky_partition(&ps, 16, NULL, 0);
    for (int i = 0; i < 4000; i++) {
        int32_t all[16];
        for (int32_t k = 0; k < 16; k++)
            all[k] = k;
        int32_t next = partitioner_sticky_next(&ps, 16, all, 16, cur);
        ck_assert(next >= 0 && next < 16);
        ck_assert_int_ne(next, cur);
        seen[next]++;
        cur = next;
    }
    for (int k = 0; k < 16; k++)
        ck_assert_msg(seen[k] > 150, "partition %d chosen %d times of 4000", k, seen[k]);
    /* The same seed gives the same choices (reproducible runs). */
    partitioner_sticky_t x, y;
    partitioner_sticky_init(&x, 99);
    partitioner_sticky_init(&y, 99);
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(partitioner_sticky_next(&x, 1000, NULL, 0, x.ps_partition),
                         partitioner_sticky_next(&y, 1000, NULL, 0, y.ps_partition));
    /* A sticky partition beyond the current count is chosen again. */
    x.ps_partition = 5;
    int32_t p = partitioner_sticky_partition(&x, 3, NULL, 0);
    ck_assert(p >= 0 && p < 3);
    ck_assert_int_eq(partitioner_sticky_next(&x, 0, NULL, 0, p), EDDY_ERR_INVALID_ARG);
}
END_TEST

/* ---- cross-check with librdkafka ------------------------------------------ */

static void quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk, (void)level, (void)fac, (void)buf;
}

static uint64_t xs_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

START_TEST(matches_librdkafka)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, quiet_log); /* "no bootstrap.servers" is expected */
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    ck_assert_msg(rk != NULL, "rd_kafka_new: %s", errstr);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, "eddy-partitioner-xcheck", NULL);
    ck_assert_ptr_nonnull(rkt);

    uint64_t seed = 0x5eed5eedULL, s = seed;
    uint8_t key[100];
    long compared = 0;
    for (int i = 0; i < 10000; i++) {
        /* Lengths 0-99 cover every tail length; bytes >= 0x80 are common. */
        size_t len = (size_t)(xs_next(&s) % sizeof key);
        for (size_t j = 0; j < len; j++)
            key[j] = (uint8_t)xs_next(&s);
        for (int32_t n = 1; n <= 64; n++) {
            int32_t want = rd_kafka_msg_partitioner_murmur2_random(rkt, key, len, n, NULL, NULL);
            int32_t got = partitioner_key_partition(key, len, n);
            ck_assert_msg(got == want,
                          "key %d (len %zu, seed 0x%llx) on %d partitions: Eddy %d, librdkafka %d",
                          i, len, (unsigned long long)seed, n, got, want);
            compared++;
        }
        /* At partition count INT32_MAX the result is the positive hash
         * itself (but for one value): 31 of the 32 bits compared directly. */
        int32_t want = rd_kafka_msg_partitioner_murmur2_random(rkt, key, len, INT32_MAX, NULL,
                                                               NULL);
        ck_assert_int_eq(partitioner_to_positive(partitioner_murmur2(key, len)) % INT32_MAX, want);
    }
    ck_assert_int_eq(compared, 640000);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
}
END_TEST

TCase *tcase_partitioner(void)
{
    TCase *tc = tcase_create("partitioner");
    tcase_add_test(tc, murmur2_java_vectors);
    tcase_add_test(tc, murmur2_rdkafka_vectors);
    tcase_add_test(tc, keyed_partition);
    tcase_add_test(tc, partition_choice);
    tcase_add_test(tc, sticky_cache);
    tcase_add_test(tc, sticky_unavailable);
    tcase_add_test(tc, sticky_spreads);
    return tc;
}

TCase *tcase_partitioner_rdkafka(void)
{
    TCase *tc = tcase_create("partitioner_rdkafka");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, matches_librdkafka);
    return tc;
}

/* A task's input buffers (streams/pgroup.c): records of several partitions
 * come out in timestamp order, each as it went in (nulls, empty values and
 * headers kept) through many reuses of a queue's buffer; and a task may
 * process only when every empty input is known to be caught up and has
 * stayed empty for max.task.idle.ms (Kafka's readyToProcess). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streams/streams_int.h"

static const int srcs[2] = {3, 5};
static const char *const topics[2] = {"clicks", "users"};

static void add(sx_pgroup_t *pg, int src, int64_t offset, int64_t ts, const char *key,
                const char *value)
{
    kc_message_t m = {topics[src == 3 ? 0 : 1],
                      0,
                      offset,
                      ts * 10,
                      (const uint8_t *)key,
                      key ? (int32_t)strlen(key) : -1,
                      (const uint8_t *)value,
                      value ? (int32_t)strlen(value) : -1,
                      NULL,
                      0,
                      0};
    ck_assert_int_gt(sx_pg_add(pg, src, &m, ts), 0);
}

static void expect(sx_pgroup_t *pg, int src, int64_t offset, int64_t ts, const char *key,
                   const char *value)
{
    kc_message_t m;
    int got_src;
    int64_t got_ts;
    ck_assert_int_eq(sx_pg_peek(pg, &m, &got_src, &got_ts), 1);
    ck_assert_int_eq(got_src, src);
    ck_assert_int_eq(got_ts, ts);
    ck_assert_int_eq(m.msg_offset, offset);
    ck_assert_int_eq(m.msg_timestamp, ts * 10);
    ck_assert_str_eq(m.msg_topic, topics[src == 3 ? 0 : 1]);
    ck_assert_int_eq(sx_pg_head_offset(pg, src), offset);
    if (key) {
        ck_assert_int_eq(m.msg_key_len, (int32_t)strlen(key));
        ck_assert(memcmp(m.msg_key, key, strlen(key)) == 0);
    } else {
        ck_assert_int_eq(m.msg_key_len, -1);
    }
    if (value) {
        ck_assert_int_eq(m.msg_value_len, (int32_t)strlen(value));
        ck_assert(memcmp(m.msg_value, value, strlen(value)) == 0);
    } else {
        ck_assert_int_eq(m.msg_value_len, -1);
    }
    sx_pg_pop(pg, src);
}

START_TEST(timestamp_order_across_partitions)
{
    sx_pgroup_t *pg = sx_pg_new(srcs, topics, 2);
    ck_assert_ptr_nonnull(pg);
    add(pg, 3, 10, 1, "k1", "a");
    add(pg, 3, 11, 4, NULL, "b");
    add(pg, 3, 12, 6, "k3", NULL);
    add(pg, 5, 70, 2, "k1", "");
    add(pg, 5, 71, 3, "k2", "v");
    add(pg, 5, 72, 7, "", "w");
    ck_assert_int_eq(sx_pg_buffered(pg), 6);
    ck_assert_int_eq(sx_pg_count(pg, 3), 3);
    expect(pg, 3, 10, 1, "k1", "a");
    expect(pg, 5, 70, 2, "k1", "");
    expect(pg, 5, 71, 3, "k2", "v");
    expect(pg, 3, 11, 4, NULL, "b");
    expect(pg, 3, 12, 6, "k3", NULL);
    ck_assert_int_eq(sx_pg_head_offset(pg, 3), -1); /* empty: the consumer's position counts */
    expect(pg, 5, 72, 7, "", "w");
    kc_message_t m;
    int src;
    int64_t ts;
    ck_assert_int_eq(sx_pg_peek(pg, &m, &src, &ts), 0);
    ck_assert_int_eq(sx_pg_buffered(pg), 0);
    sx_pg_destroy(pg);
}
END_TEST

/* A queue that never quite drains: its buffer is compacted, not grown. */
START_TEST(fifo_through_reuse)
{
    sx_pgroup_t *pg = sx_pg_new(srcs, topics, 1);
    char key[32], value[300];
    int64_t next_in = 0, next_out = 0;
    for (int round = 0; round < 5000; round++) {
        for (int i = 0; i < 3; i++, next_in++) {
            snprintf(key, sizeof key, "k%lld", (long long)next_in);
            memset(value, 'a' + (int)(next_in % 26), (size_t)(next_in % 257));
            value[next_in % 257] = 0;
            add(pg, 3, next_in, next_in, key, value);
        }
        for (int i = 0; i < 2 + (round % 3 == 0); i++, next_out++) {
            if (next_out == next_in)
                break;
            snprintf(key, sizeof key, "k%lld", (long long)next_out);
            memset(value, 'a' + (int)(next_out % 26), (size_t)(next_out % 257));
            value[next_out % 257] = 0;
            expect(pg, 3, next_out, next_out, key, value);
        }
        ck_assert_int_eq(sx_pg_count(pg, 3), (int)(next_in - next_out));
    }
    sx_pg_destroy(pg);
}
END_TEST

static int64_t lags[2];

static int64_t lag_of(const char *topic, void *opaque)
{
    ck_assert_ptr_eq(opaque, lags);
    return lags[strcmp(topic, "users") == 0];
}

START_TEST(ready_by_lag_and_idle_time)
{
    sx_pgroup_t *pg = sx_pg_new(srcs, topics, 2);
    lags[0] = lags[1] = 0;
    ck_assert_int_eq(sx_pg_ready(pg, 0, 1000, lag_of, lags, "0_0"), 0); /* nothing buffered */
    add(pg, 3, 0, 100, "k", "v");
    /* The other input's lag unknown, or records on the broker: wait for them. */
    lags[1] = -1;
    ck_assert_int_eq(sx_pg_ready(pg, 0, 1000, lag_of, lags, "0_0"), 0);
    lags[1] = 5;
    ck_assert_int_eq(sx_pg_ready(pg, 0, 1000, lag_of, lags, "0_0"), 0);
    ck_assert_int_eq(sx_pg_ready(pg, -1, 1000, lag_of, lags, "0_0"), 1); /* -1: never waits */
    /* Caught up: 0 goes ahead at once, 100 ms waits 100 ms. */
    lags[1] = 0;
    ck_assert_int_eq(sx_pg_ready(pg, 0, 1000, lag_of, lags, "0_0"), 1);
    lags[1] = 1; /* (a lag ends that wait) */
    ck_assert_int_eq(sx_pg_ready(pg, 100, 1500, lag_of, lags, "0_0"), 0);
    lags[1] = 0;
    ck_assert_int_eq(sx_pg_ready(pg, 100, 2000, lag_of, lags, "0_0"), 0);
    ck_assert_int_eq(sx_pg_ready(pg, 100, 2099, lag_of, lags, "0_0"), 0);
    ck_assert_int_eq(sx_pg_ready(pg, 100, 2100, lag_of, lags, "0_0"), 1);
    /* Data on both: ready; once the users' queue is empty again, a new wait. */
    add(pg, 5, 0, 50, "k", "u");
    ck_assert_int_eq(sx_pg_ready(pg, 100, 3000, lag_of, lags, "0_0"), 1);
    expect(pg, 5, 0, 50, "k", "u");
    ck_assert_int_eq(sx_pg_ready(pg, 100, 3000, lag_of, lags, "0_0"), 0);
    ck_assert_int_eq(sx_pg_ready(pg, 100, 3100, lag_of, lags, "0_0"), 1);
    /* A lag seen meanwhile restarts the wait. */
    lags[1] = 2;
    ck_assert_int_eq(sx_pg_ready(pg, 100, 3200, lag_of, lags, "0_0"), 0);
    lags[1] = 0;
    ck_assert_int_eq(sx_pg_ready(pg, 100, 3200, lag_of, lags, "0_0"), 0);
    ck_assert_int_eq(sx_pg_ready(pg, 100, 3300, lag_of, lags, "0_0"), 1);
    /* The wait counts from when the task has records again, not from the
     * last time the users' input was seen empty. */
    expect(pg, 3, 0, 100, "k", "v");
    ck_assert_int_eq(sx_pg_ready(pg, 100, 3400, lag_of, lags, "0_0"), 0);
    add(pg, 3, 1, 200, "k", "w");
    ck_assert_int_eq(sx_pg_ready(pg, 100, 9000, lag_of, lags, "0_0"), 0);
    ck_assert_int_eq(sx_pg_ready(pg, 100, 9100, lag_of, lags, "0_0"), 1);
    sx_pg_destroy(pg);
}
END_TEST

TCase *tcase_pgroup(void)
{
    TCase *tc = tcase_create("pgroup");
    tcase_add_test(tc, timestamp_order_across_partitions);
    tcase_add_test(tc, fifo_through_reuse);
    tcase_add_test(tc, ready_by_lag_and_idle_time);
    return tc;
}

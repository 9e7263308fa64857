/* Eddy's client against another Kafka-protocol implementation with several
 * brokers: librdkafka's mock cluster with 3 brokers, partition leaders on
 * different nodes and the group coordinator on yet another. Produce (keyed,
 * through a leader move), consume every record back, and a group member
 * that joins through the coordinator node. */
#include <check.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "check_helpers.h"
#include "client/admin.h"
#include "client/consumer.h"
#include "client/member.h"
#include "client/producer.h"

#define TOPIC "mocked"
#define NPART 6
#define NREC 3000

typedef struct env {
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
    uv_loop_t loop;
    kc_config_t cfg;
    kc_client_t *c;
} env_t;

static void env_open(env_t *e, const char *group)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    e->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    ck_assert_ptr_nonnull(e->rk);
    e->mc = rd_kafka_mock_cluster_new(e->rk, 3);
    ck_assert_ptr_nonnull(e->mc);
    ck_assert_int_eq(rd_kafka_mock_topic_create(e->mc, TOPIC, NPART, 1), 0);
    /* Leaders spread over the three nodes; the coordinator on node 3. */
    for (int p = 0; p < NPART; p++)
        rd_kafka_mock_partition_set_leader(e->mc, TOPIC, p, 1 + p % 3);
    if (group)
        rd_kafka_mock_coordinator_set(e->mc, "group", group, 3);
    eddy_props_t ps;
    eddy_props_init(&ps);
    char set[1024];
    snprintf(set, sizeof set, "bootstrap.servers=%s", rd_kafka_mock_cluster_bootstraps(e->mc));
    eddy_props_set(&ps, "test", set, err, sizeof err);
    eddy_props_set(&ps, "test", "linger.ms=2", err, sizeof err);
    eddy_props_set(&ps, "test", "auto.offset.reset=earliest", err, sizeof err);
    eddy_props_set(&ps, "test", "session.timeout.ms=6000", err, sizeof err);
    eddy_props_set(&ps, "test", "heartbeat.interval.ms=500", err, sizeof err);
    if (group) {
        snprintf(set, sizeof set, "group.id=%s", group);
        eddy_props_set(&ps, "test", set, err, sizeof err);
    }
    ck_assert_int_eq(kc_config_load(&e->cfg, &ps, err, sizeof err), 0);
    eddy_props_free(&ps);
    uv_loop_init(&e->loop);
    e->c = kc_client_new(&e->loop, &e->cfg, err, sizeof err);
    ck_assert_msg(e->c != NULL, "%s", err);
}

static void env_close(env_t *e)
{
    kc_client_destroy(e->c);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    uv_loop_close(&e->loop);
    kc_config_free(&e->cfg);
    rd_kafka_mock_cluster_destroy(e->mc);
    rd_kafka_destroy(e->rk);
}

typedef struct counts {
    int64_t acked, failed;
    int32_t partition_of[NREC];
    int seen[NREC];
    int64_t received;
} counts_t;

static counts_t *g_counts;

static void on_dr_idx(kc_producer_t *p, int err, int16_t kerr, const char *topic, int32_t partition,
                      int64_t offset, void *opaque)
{
    (void)p;
    (void)kerr;
    (void)topic;
    (void)offset;
    intptr_t i = (intptr_t)opaque;
    if (err) {
        g_counts->failed++;
        return;
    }
    g_counts->acked++;
    g_counts->partition_of[i] = partition;
}

static int on_msg(kc_consumer_t *k, const kc_message_t *m, void *opaque)
{
    (void)k;
    (void)opaque;
    char v[32];
    snprintf(v, sizeof v, "%.*s", m->msg_value_len, (const char *)m->msg_value);
    int i = atoi(v);
    if (i >= 0 && i < NREC) {
        ck_assert_int_eq(g_counts->partition_of[i], m->msg_partition);
        if (!g_counts->seen[i]++)
            g_counts->received++;
    }
    return 0;
}

static int all_received(void *opaque)
{
    (void)opaque;
    return g_counts->received == NREC;
}

static void produce_all(env_t *e, int move_leader)
{
    kc_producer_t *p = kc_producer_new(e->c, on_dr_idx);
    for (int i = 0; i < NREC; i++) {
        char key[32], val[32];
        int kl = snprintf(key, sizeof key, "key-%d", i % 97);
        int vl = snprintf(val, sizeof val, "%d", i);
        kc_record_t r = {key, kl, val, vl, -1, NULL, 0};
        ck_assert_int_eq(kc_produce(p, TOPIC, -1, &r, (void *)(intptr_t)i), 0);
        if (move_leader && i == NREC / 2) {
            /* Half way: partition 0 moves from node 1 to node 2. The
             * client gets NOT_LEADER_OR_FOLLOWER, refreshes and retries. */
            ck_assert_int_eq(kc_producer_flush(p, 20000), 0);
            rd_kafka_mock_partition_set_leader(e->mc, TOPIC, 0, 2);
        }
        uv_run(&e->loop, UV_RUN_NOWAIT);
    }
    ck_assert_int_eq(kc_producer_flush(p, 30000), 0);
    kc_producer_destroy(p);
    ck_assert_int_eq(g_counts->failed, 0);
    ck_assert_int_eq(g_counts->acked, NREC);
}

START_TEST(produce_and_consume_across_three_brokers)
{
    static counts_t cn;
    memset(&cn, 0, sizeof cn);
    g_counts = &cn;
    env_t e;
    env_open(&e, NULL);
    produce_all(&e, 1);
    /* Keys spread over the partitions of all three leaders. */
    int used[NPART] = {0};
    for (int i = 0; i < NREC; i++)
        used[cn.partition_of[i]] = 1;
    for (int p = 0; p < NPART; p++)
        ck_assert_msg(used[p], "partition %d got no key", p);
    /* Admin where the mock has it: end offsets of every leader. */
    int64_t total = 0;
    for (int p = 0; p < NPART; p++) {
        int64_t end = -1;
        char err[256];
        ck_assert_int_eq(kc_admin_list_offset(e.c, TOPIC, p, -1, &end, err, sizeof err), 0);
        total += end;
    }
    ck_assert_int_eq(total, NREC);
    kc_consumer_cbs_t cbs = {on_msg, NULL, NULL, NULL};
    kc_consumer_t *k = kc_consumer_new(e.c, &cbs);
    for (int p = 0; p < NPART; p++)
        kc_consumer_assign(k, TOPIC, p, KC_OFFSET_BEGINNING);
    ck_assert_int_eq(kc_run_until(e.c, all_received, NULL, 30000), 0);
    kc_consumer_destroy(k);
    env_close(&e);
}
END_TEST

typedef struct member_state {
    int assigned;
    int closed;
} member_state_t;

static void on_assigned(kc_member_t *m, const kc_topic_partition_t *parts, int n, void *opaque)
{
    (void)m;
    (void)parts;
    ((member_state_t *)opaque)->assigned = n;
}

static int member_assigned(void *opaque)
{
    return ((member_state_t *)opaque)->assigned > 0;
}

static void on_closed(kc_member_t *m, void *opaque)
{
    (void)m;
    ((member_state_t *)opaque)->closed = 1;
}

static int member_closed(void *opaque)
{
    return ((member_state_t *)opaque)->closed;
}

/* A group member finds the coordinator on node 3, joins, gets every
 * partition, consumes everything and commits through the coordinator. */
START_TEST(group_member_through_the_coordinator_node)
{
    static counts_t cn;
    memset(&cn, 0, sizeof cn);
    g_counts = &cn;
    env_t e;
    env_open(&e, "mocked-group");
    produce_all(&e, 0);
    kc_consumer_cbs_t cbs = {on_msg, NULL, NULL, NULL};
    kc_consumer_t *k = kc_consumer_new(e.c, &cbs);
    member_state_t ms = {0, 0};
    kc_member_cbs_t mcbs = {NULL, on_assigned, NULL, &ms};
    const char *topics[1] = {TOPIC};
    char err[512];
    kc_member_t *m = kc_member_new(e.c, k, topics, 1, &mcbs, err, sizeof err);
    ck_assert_msg(m != NULL, "%s", err);
    ck_assert_int_eq(kc_run_until(e.c, member_assigned, &ms, 30000), 0);
    ck_assert_int_eq(ms.assigned, NPART);
    ck_assert_int_eq(kc_run_until(e.c, all_received, NULL, 30000), 0);
    kc_member_close(m, on_closed, &ms);
    ck_assert_int_eq(kc_run_until(e.c, member_closed, &ms, 15000), 0);
    kc_consumer_destroy(k);
    env_close(&e);
}
END_TEST

static int both_have_three(void *opaque)
{
    member_state_t *ms = opaque;
    return ms[0].assigned == 3 && ms[1].assigned == 3;
}

static int first_has_all(void *opaque)
{
    return ((member_state_t *)opaque)->assigned == NPART;
}

static int nop_msg(kc_consumer_t *k, const kc_message_t *m, void *opaque)
{
    (void)k;
    (void)m;
    (void)opaque;
    return 0;
}

/* Failover through the mock's coordinator: two members split the
 * partitions; when one dies without leaving, the other gets them all
 * after the session timeout. */
START_TEST(group_failover_on_the_mock)
{
    static counts_t cn;
    memset(&cn, 0, sizeof cn);
    g_counts = &cn;
    env_t e;
    env_open(&e, "failover-group");
    char err[512];
    /* The second member is static: closing it sends no LeaveGroup, so to
     * the coordinator it simply stops heartbeating, as a killed process. */
    kc_config_t cfg2;
    eddy_props_t ps;
    eddy_props_init(&ps);
    char set[1024];
    snprintf(set, sizeof set, "bootstrap.servers=%s", rd_kafka_mock_cluster_bootstraps(e.mc));
    eddy_props_set(&ps, "test", set, err, sizeof err);
    eddy_props_set(&ps, "test", "group.id=failover-group", err, sizeof err);
    eddy_props_set(&ps, "test", "group.instance.id=static-b", err, sizeof err);
    eddy_props_set(&ps, "test", "session.timeout.ms=6000", err, sizeof err);
    eddy_props_set(&ps, "test", "heartbeat.interval.ms=500", err, sizeof err);
    ck_assert_int_eq(kc_config_load(&cfg2, &ps, err, sizeof err), 0);
    eddy_props_free(&ps);
    kc_client_t *c2 = kc_client_new(&e.loop, &cfg2, err, sizeof err);
    ck_assert_ptr_nonnull(c2);
    member_state_t ms[2] = {{0, 0}, {0, 0}};
    kc_consumer_cbs_t cbs = {nop_msg, NULL, NULL, NULL};
    kc_consumer_t *k1 = kc_consumer_new(e.c, &cbs), *k2 = kc_consumer_new(c2, &cbs);
    kc_member_cbs_t m1 = {NULL, on_assigned, NULL, &ms[0]}, m2 = {NULL, on_assigned, NULL, &ms[1]};
    const char *topics[1] = {TOPIC};
    kc_member_t *a = kc_member_new(e.c, k1, topics, 1, &m1, err, sizeof err);
    ck_assert_msg(a != NULL, "%s", err);
    ck_assert_int_eq(kc_run_until(e.c, first_has_all, &ms[0], 30000), 0);
    kc_member_t *b = kc_member_new(c2, k2, topics, 1, &m2, err, sizeof err);
    ck_assert_msg(b != NULL, "%s", err);
    ck_assert_int_eq(kc_run_until(e.c, both_have_three, ms, 60000), 0);
    /* b goes away without leaving; after its session the survivor has all. */
    kc_member_close(b, on_closed, &ms[1]);
    ck_assert_int_eq(kc_run_until(e.c, member_closed, &ms[1], 15000), 0);
    kc_consumer_destroy(k2);
    kc_client_destroy(c2);
    ck_assert_int_eq(kc_run_until(e.c, first_has_all, &ms[0], 60000), 0);
    kc_member_close(a, on_closed, &ms[0]);
    kc_run_until(e.c, member_closed, &ms[0], 15000);
    kc_consumer_destroy(k1);
    env_close(&e);
    kc_config_free(&cfg2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("client_mock_cluster");
    TCase *tc = tcase_create("mock_cluster");
    tcase_set_timeout(tc, 200);
    tcase_add_test(tc, produce_and_consume_across_three_brokers);
    tcase_add_test(tc, group_member_through_the_coordinator_node);
    tcase_add_test(tc, group_failover_on_the_mock);
    suite_add_tcase(s, tc);
    return run_suite(s);
}

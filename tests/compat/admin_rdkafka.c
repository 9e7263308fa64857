/* librdkafka's admin API and static consumers against an Eddy broker: what Kafka's tools
 * and librdkafka applications see of groups, partitions and the cluster.
 *
 *   admin_rdkafka groups BOOTSTRAP
 *       group "adm-live": one consumer with group.instance.id=inst-live, assigned; group
 *       "adm-idle": offsets committed, no member. ListConsumerGroups reports adm-live
 *       Stable and adm-idle Empty (not Unknown); with a Stable-only state filter just
 *       adm-live; DescribeConsumerGroups(adm-live) gives the member its instance id.
 *   admin_rdkafka fence BOOTSTRAP
 *       consumer A (group.instance.id=inst-f) is assigned the topic's 4 partitions; consumer
 *       B starts with the same instance id. A must get the fatal error FENCED_INSTANCE_ID
 *       (as a Java consumer would) within 15 s; B keeps the partitions: its assignment does
 *       not change for 6 s, and it consumes every record produced after the takeover.
 *   admin_rdkafka grow BOOTSTRAP
 *       topic of 2 partitions, group of 2 consumers (range, metadata refreshed every 1 s).
 *       CreatePartitions: validate-only to 4 leaves 2; to 1 is INVALID_PARTITIONS; an
 *       assignment naming broker 7 is INVALID_REPLICA_ASSIGNMENT; to 4 works; the group
 *       rebalances onto 4 partitions, a producer writes to partitions 2 and 3, and the
 *       consumers read those records.
 *   admin_rdkafka offsets BOOTSTRAP
 *       DeleteConsumerGroupOffsets: on a live group for its subscribed topic, every partition
 *       is GROUP_SUBSCRIBED_TO_TOPIC and the offsets stay; once the group is empty the
 *       offsets go (committed() then returns none); a missing group is GROUP_ID_NOT_FOUND.
 *
 * Each mode prints "ok ..." and exits 0, or prints FAIL and exits 1. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

static const char *bootstrap;
static double t_start;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[admin_rdkafka %6.1fs] ", now_s() - t_start);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "FAIL admin_rdkafka.c:%d: ", __LINE__);                                    \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        exit(1);                                                                                   \
    } while (0)
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            FAIL(__VA_ARGS__);                                                                     \
    } while (0)

static rd_kafka_conf_t *base_conf(void)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[256];
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err) !=
        RD_KAFKA_CONF_OK)
        FAIL("bootstrap.servers: %s", err);
    const char *dbg = getenv("RDKAFKA_DEBUG");
    if (dbg && *dbg)
        rd_kafka_conf_set(conf, "debug", dbg, err, sizeof err);
    return conf;
}

static void set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char err[256];
    if (rd_kafka_conf_set(conf, k, v, err, sizeof err) != RD_KAFKA_CONF_OK)
        FAIL("%s=%s: %s", k, v, err);
}

static rd_kafka_t *admin_new(void)
{
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, base_conf(), err, sizeof err);
    CHECK(rk, "rd_kafka_new: %s", err);
    return rk;
}

/* Waits for the admin result event of type want. */
static rd_kafka_event_t *admin_wait(rd_kafka_queue_t *q, rd_kafka_event_type_t want)
{
    double t0 = now_s();
    while (now_s() - t0 < 30) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 1000);
        if (!ev)
            continue;
        if (rd_kafka_event_type(ev) == want)
            return ev;
        rd_kafka_event_destroy(ev);
    }
    FAIL("no admin result (event type %d) within 30 s", (int)want);
}

static rd_kafka_AdminOptions_t *opts(rd_kafka_t *rk, rd_kafka_admin_op_t op)
{
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, op);
    char err[256];
    rd_kafka_AdminOptions_set_request_timeout(o, 20000, err, sizeof err);
    return o;
}

static void create_topic(rd_kafka_t *rk, const char *topic, int partitions)
{
    char err[256];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, 1, err, sizeof err);
    CHECK(nt, "NewTopic: %s", err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *o = opts(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_CreateTopics(rk, &nt, 1, o, q);
    rd_kafka_event_t *ev = admin_wait(q, RD_KAFKA_EVENT_CREATETOPICS_RESULT);
    size_t n;
    const rd_kafka_topic_result_t **r =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    CHECK(n == 1 && rd_kafka_topic_result_error(r[0]) == RD_KAFKA_RESP_ERR_NO_ERROR,
          "create %s: %s", topic, n ? rd_kafka_err2name(rd_kafka_topic_result_error(r[0])) : "?");
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
}

/* The topic's partition count from Metadata (-1 while unknown). */
static int partition_count(rd_kafka_t *rk, const char *topic)
{
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md;
    int n = -1;
    if (rd_kafka_metadata(rk, 0, t, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
            n = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(t);
    return n;
}

/* One record per partition of parts (value "P-i"), acks=all, waited for. */
static void produce_to(const char *topic, const int *parts, int nparts, int per_part)
{
    char err[256];
    rd_kafka_conf_t *conf = base_conf();
    set(conf, "acks", "all");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    CHECK(rk, "producer: %s", err);
    for (int k = 0; k < nparts; k++)
        for (int i = 0; i < per_part; i++) {
            char v[32];
            int n = snprintf(v, sizeof v, "%d-%d", parts[k], i);
            rd_kafka_resp_err_t e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                                      RD_KAFKA_V_PARTITION(parts[k]),
                                                      RD_KAFKA_V_VALUE(v, (size_t)n),
                                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                                      RD_KAFKA_V_END);
            CHECK(e == RD_KAFKA_RESP_ERR_NO_ERROR, "produce to %s-%d: %s", topic, parts[k],
                  rd_kafka_err2name(e));
        }
    CHECK(rd_kafka_flush(rk, 30000) == RD_KAFKA_RESP_ERR_NO_ERROR && rd_kafka_outq_len(rk) == 0,
          "produce to %s: not all acknowledged", topic);
    rd_kafka_destroy(rk);
}

/* ---- a consumer driven by polls ---- */

typedef struct cons {
    const char *name;
    rd_kafka_t *rk;
    unsigned assigned; /* bit per partition */
    int assign_changes;
    int records[16];   /* per partition */
    rd_kafka_resp_err_t fatal;
    char fatal_str[512];
} cons_t;

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    cons_t *c = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_assign(rk, parts);
        c->assigned = 0;
        for (int i = 0; i < parts->cnt; i++)
            c->assigned |= 1u << parts->elems[i].partition;
    } else {
        rd_kafka_assign(rk, NULL);
        c->assigned = 0;
    }
    c->assign_changes++;
    note("%s: %s %d partition(s)", c->name,
         err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS ? "assigned" : "revoked", parts->cnt);
}

static void cons_new(cons_t *c, const char *name, const char *group, const char *topic,
                     const char *const *kv)
{
    memset(c, 0, sizeof *c);
    c->name = name;
    char err[256];
    rd_kafka_conf_t *conf = base_conf();
    set(conf, "group.id", group);
    set(conf, "auto.offset.reset", "earliest");
    set(conf, "session.timeout.ms", "6000");
    set(conf, "heartbeat.interval.ms", "500");
    set(conf, "topic.metadata.refresh.interval.ms", "1000");
    set(conf, "enable.auto.commit", "false");
    for (; kv && kv[0]; kv += 2)
        set(conf, kv[0], kv[1]);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_opaque(conf, c);
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    CHECK(c->rk, "consumer %s: %s", name, err);
    rd_kafka_poll_set_consumer(c->rk);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(c->rk, sub);
    CHECK(e == RD_KAFKA_RESP_ERR_NO_ERROR, "subscribe: %s", rd_kafka_err2name(e));
    rd_kafka_topic_partition_list_destroy(sub);
}

static void cons_poll(cons_t *c, int ms)
{
    rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, ms);
    if (!m)
        return;
    if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[512];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(c->rk, why, sizeof why);
        if (!c->fatal) {
            c->fatal = orig;
            snprintf(c->fatal_str, sizeof c->fatal_str, "%s", why);
            note("%s: fatal error %s: %s", c->name, rd_kafka_err2name(orig), why);
        }
    } else if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (m->partition >= 0 && m->partition < 16)
            c->records[m->partition]++;
    } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        note("%s: error %s: %s", c->name, rd_kafka_err2name(m->err), rd_kafka_message_errstr(m));
    }
    rd_kafka_message_destroy(m);
}

static void poll_all(cons_t **cs, int n, double seconds)
{
    double t0 = now_s();
    do {
        for (int i = 0; i < n; i++)
            if (cs[i]->rk)
                cons_poll(cs[i], 50);
    } while (now_s() - t0 < seconds);
}

static void cons_close(cons_t *c)
{
    if (!c->rk)
        return;
    if (!c->fatal)
        rd_kafka_consumer_close(c->rk);
    rd_kafka_destroy(c->rk);
    c->rk = NULL;
}

static void commit_offset(cons_t *c, const char *topic, int partition, int64_t offset)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition)->offset = offset;
    rd_kafka_resp_err_t e = rd_kafka_commit(c->rk, l, 0);
    CHECK(e == RD_KAFKA_RESP_ERR_NO_ERROR, "%s: commit %s-%d: %s", c->name, topic, partition,
          rd_kafka_err2name(e));
    rd_kafka_topic_partition_list_destroy(l);
}

/* Waits until every consumer's assignment is non-empty and they cover nparts. */
static void wait_cover(cons_t **cs, int n, int nparts, double limit)
{
    double t0 = now_s();
    unsigned want = (1u << nparts) - 1;
    while (now_s() - t0 < limit) {
        poll_all(cs, n, 0.2);
        unsigned u = 0;
        int empty = 0;
        for (int i = 0; i < n; i++) {
            u |= cs[i]->assigned;
            empty += cs[i]->assigned == 0;
        }
        if (u == want && !empty)
            return;
    }
    FAIL("consumers did not cover %d partitions within %.0f s", nparts, limit);
}

/* ---- groups: ListConsumerGroups states, DescribeConsumerGroups instance id ---- */

static void mode_groups(void)
{
    rd_kafka_t *adm = admin_new();
    const char *topic = "adm-groups";
    create_topic(adm, topic, 2);
    static cons_t live, idle;
    const char *kv[] = {"group.instance.id", "inst-live", NULL};
    cons_new(&live, "live", "adm-live", topic, kv);
    cons_t *cl[] = {&live};
    wait_cover(cl, 1, 2, 30);
    cons_new(&idle, "idle", "adm-idle", topic, NULL);
    cons_t *ci[] = {&idle};
    wait_cover(ci, 1, 2, 30);
    commit_offset(&idle, topic, 0, 0);
    cons_close(&idle);

    rd_kafka_queue_t *q = rd_kafka_queue_new(adm);
    for (int filtered = 0; filtered <= 1; filtered++) {
        rd_kafka_AdminOptions_t *o = opts(adm, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
        if (filtered) {
            rd_kafka_consumer_group_state_t st[] = {RD_KAFKA_CONSUMER_GROUP_STATE_STABLE};
            rd_kafka_error_t *e = rd_kafka_AdminOptions_set_match_consumer_group_states(o, st, 1);
            CHECK(!e, "set_match_consumer_group_states: %s", e ? rd_kafka_error_string(e) : "");
        }
        rd_kafka_ListConsumerGroups(adm, o, q);
        rd_kafka_event_t *ev = admin_wait(q, RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT);
        const rd_kafka_ListConsumerGroups_result_t *res = rd_kafka_event_ListConsumerGroups_result(
            ev);
        size_t n, nerr;
        const rd_kafka_ConsumerGroupListing_t **gl = rd_kafka_ListConsumerGroups_result_valid(res,
                                                                                              &n);
        rd_kafka_ListConsumerGroups_result_errors(res, &nerr);
        CHECK(nerr == 0, "ListConsumerGroups: %zu error(s)", nerr);
        int saw_live = 0, saw_idle = 0;
        for (size_t i = 0; i < n; i++) {
            const char *id = rd_kafka_ConsumerGroupListing_group_id(gl[i]);
            rd_kafka_consumer_group_state_t st = rd_kafka_ConsumerGroupListing_state(gl[i]);
            note("ListConsumerGroups%s: %s %s", filtered ? " (Stable only)" : "", id,
                 rd_kafka_consumer_group_state_name(st));
            if (strcmp(id, "adm-live") == 0) {
                saw_live = 1;
                CHECK(st == RD_KAFKA_CONSUMER_GROUP_STATE_STABLE, "adm-live is %s, want Stable",
                      rd_kafka_consumer_group_state_name(st));
            } else if (strcmp(id, "adm-idle") == 0) {
                saw_idle = 1;
                CHECK(st == RD_KAFKA_CONSUMER_GROUP_STATE_EMPTY, "adm-idle is %s, want Empty",
                      rd_kafka_consumer_group_state_name(st));
            }
        }
        CHECK(saw_live, "ListConsumerGroups did not list adm-live");
        CHECK(saw_idle == !filtered, "adm-idle %s with%s a Stable-only filter",
              saw_idle ? "listed" : "not listed", filtered ? "" : "out");
        rd_kafka_event_destroy(ev);
        rd_kafka_AdminOptions_destroy(o);
    }

    const char *groups[] = {"adm-live"};
    rd_kafka_AdminOptions_t *o = opts(adm, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
    rd_kafka_DescribeConsumerGroups(adm, groups, 1, o, q);
    rd_kafka_event_t *ev = admin_wait(q, RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT);
    size_t n;
    const rd_kafka_ConsumerGroupDescription_t **gd = rd_kafka_DescribeConsumerGroups_result_groups(
        rd_kafka_event_DescribeConsumerGroups_result(ev), &n);
    CHECK(n == 1, "DescribeConsumerGroups: %zu groups", n);
    const rd_kafka_error_t *ge = rd_kafka_ConsumerGroupDescription_error(gd[0]);
    CHECK(!ge, "DescribeConsumerGroups: %s", rd_kafka_error_string(ge));
    CHECK(rd_kafka_ConsumerGroupDescription_state(gd[0]) == RD_KAFKA_CONSUMER_GROUP_STATE_STABLE,
          "described state %s",
          rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(gd[0])));
    CHECK(rd_kafka_ConsumerGroupDescription_member_count(gd[0]) == 1, "members: %zu",
          rd_kafka_ConsumerGroupDescription_member_count(gd[0]));
    const rd_kafka_MemberDescription_t *md = rd_kafka_ConsumerGroupDescription_member(gd[0], 0);
    const char *inst = rd_kafka_MemberDescription_group_instance_id(md);
    note("DescribeConsumerGroups adm-live: member %s, instance id %s",
         rd_kafka_MemberDescription_consumer_id(md), inst ? inst : "(null)");
    CHECK(inst && strcmp(inst, "inst-live") == 0, "instance id %s, want inst-live",
          inst ? inst : "(null)");
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    cons_close(&live);
    rd_kafka_destroy(adm);
    printf("ok groups: states Stable/Empty, state filter, instance id\n");
}

/* ---- fence: a second consumer with the same group.instance.id ---- */

static void mode_fence(void)
{
    rd_kafka_t *adm = admin_new();
    const char *topic = "adm-fence";
    create_topic(adm, topic, 4);
    static cons_t a, b;
    const char *kv[] = {"group.instance.id", "inst-f", NULL};
    cons_new(&a, "A", "adm-fence", topic, kv);
    cons_t *ca[] = {&a};
    wait_cover(ca, 1, 4, 30);
    note("A holds the 4 partitions; B joins with the same group.instance.id");
    cons_new(&b, "B", "adm-fence", topic, kv);
    cons_t *both[] = {&a, &b};
    double t0 = now_s();
    while (now_s() - t0 < 15 && !(a.fatal && b.assigned == 0xf))
        poll_all(both, 2, 0.2);
    CHECK(a.fatal == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID,
          "A was not fenced within 15 s (fatal error %s); B's assignment changed %d time(s)",
          a.fatal ? rd_kafka_err2name(a.fatal) : "none", b.assign_changes);
    CHECK(b.assigned == 0xf, "B holds 0x%x, not the 4 partitions", b.assigned);
    note("A fenced after %.1f s: %s", now_s() - t0, a.fatal_str);
    int changes = b.assign_changes;
    cons_close(&a);
    /* B keeps the partitions: no more rebalances, and it reads what comes. */
    int parts[] = {0, 1, 2, 3};
    produce_to(topic, parts, 4, 25);
    cons_t *cb[] = {&b};
    t0 = now_s();
    int total = 0;
    while (now_s() - t0 < 6 || total < 100) {
        CHECK(now_s() - t0 < 30, "B read %d of 100 records in 30 s", total);
        poll_all(cb, 1, 0.2);
        total = b.records[0] + b.records[1] + b.records[2] + b.records[3];
    }
    CHECK(b.assign_changes == changes && b.assigned == 0xf,
          "B's assignment changed after A was fenced (%d -> %d changes, now 0x%x)", changes,
          b.assign_changes, b.assigned);
    CHECK(!b.fatal, "B got a fatal error: %s", rd_kafka_err2name(b.fatal));
    cons_close(&b);
    rd_kafka_destroy(adm);
    printf("ok fence: the old member fenced with FENCED_INSTANCE_ID, the new one kept 4 "
           "partitions and read %d records\n",
           total);
}

/* ---- grow: CreatePartitions and a group that follows ---- */

static rd_kafka_resp_err_t create_partitions(rd_kafka_t *adm, const char *topic, int count,
                                             int validate_only, int bad_broker, char *msg,
                                             size_t msg_size)
{
    char err[256];
    rd_kafka_NewPartitions_t *np = rd_kafka_NewPartitions_new(topic, (size_t)count, err,
                                                              sizeof err);
    CHECK(np, "NewPartitions: %s", err);
    if (bad_broker) {
        int32_t ids[] = {7};
        for (int i = 0; i < count - 2; i++)
            CHECK(!rd_kafka_NewPartitions_set_replica_assignment(np, i, ids, 1, err, sizeof err),
                  "set_replica_assignment: %s", err);
    }
    rd_kafka_AdminOptions_t *o = opts(adm, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS);
    if (validate_only)
        CHECK(!rd_kafka_AdminOptions_set_validate_only(o, 1, err, sizeof err), "validate_only: %s",
              err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(adm);
    rd_kafka_CreatePartitions(adm, &np, 1, o, q);
    rd_kafka_event_t *ev = admin_wait(q, RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT);
    rd_kafka_resp_err_t e = rd_kafka_event_error(ev);
    snprintf(msg, msg_size, "%s",
             rd_kafka_event_error_string(ev) ? rd_kafka_event_error_string(ev) : "");
    if (!e) {
        size_t n;
        const rd_kafka_topic_result_t **r =
            rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev), &n);
        CHECK(n == 1, "CreatePartitions: %zu results", n);
        e = rd_kafka_topic_result_error(r[0]);
        snprintf(msg, msg_size, "%s",
                 rd_kafka_topic_result_error_string(r[0]) ? rd_kafka_topic_result_error_string(r[0])
                                                          : "");
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_NewPartitions_destroy(np);
    return e;
}

static void mode_grow(void)
{
    rd_kafka_t *adm = admin_new();
    const char *topic = "adm-grow";
    create_topic(adm, topic, 2);
    static cons_t c1, c2;
    const char *kv[] = {"partition.assignment.strategy", "range", NULL};
    cons_new(&c1, "c1", "adm-grow", topic, kv);
    cons_new(&c2, "c2", "adm-grow", topic, kv);
    cons_t *cs[] = {&c1, &c2};
    wait_cover(cs, 2, 2, 30);
    note("2 consumers on 2 partitions");

    char msg[512];
    rd_kafka_resp_err_t e = create_partitions(adm, topic, 4, 1, 0, msg, sizeof msg);
    CHECK(e == RD_KAFKA_RESP_ERR_NO_ERROR, "validate-only to 4: %s %s", rd_kafka_err2name(e), msg);
    CHECK(partition_count(adm, topic) == 2, "validate-only changed the count to %d",
          partition_count(adm, topic));
    e = create_partitions(adm, topic, 1, 0, 0, msg, sizeof msg);
    CHECK(e == RD_KAFKA_RESP_ERR_INVALID_PARTITIONS, "shrink to 1: %s %s", rd_kafka_err2name(e),
          msg);
    note("shrink refused: %s", msg);
    e = create_partitions(adm, topic, 4, 0, 1, msg, sizeof msg);
    CHECK(e == RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT, "assignment to broker 7: %s %s",
          rd_kafka_err2name(e), msg);
    note("broker 7 refused: %s", msg);
    e = create_partitions(adm, topic, 4, 0, 0, msg, sizeof msg);
    CHECK(e == RD_KAFKA_RESP_ERR_NO_ERROR, "grow to 4: %s %s", rd_kafka_err2name(e), msg);
    CHECK(partition_count(adm, topic) == 4, "after the grow Metadata says %d partitions",
          partition_count(adm, topic));
    double t0 = now_s();
    wait_cover(cs, 2, 4, 30);
    note("the group covers 4 partitions %.1f s after the grow (c1 0x%x, c2 0x%x)", now_s() - t0,
         c1.assigned, c2.assigned);
    int parts[] = {2, 3};
    produce_to(topic, parts, 2, 20);
    t0 = now_s();
    while (c1.records[2] + c2.records[2] < 20 || c1.records[3] + c2.records[3] < 20) {
        CHECK(now_s() - t0 < 30, "records of the new partitions not consumed: p2 %d, p3 %d",
              c1.records[2] + c2.records[2], c1.records[3] + c2.records[3]);
        poll_all(cs, 2, 0.2);
    }
    cons_close(&c1);
    cons_close(&c2);
    rd_kafka_destroy(adm);
    printf("ok grow: 2 -> 4 partitions, the group took the new ones and read their records\n");
}

/* ---- offsets: DeleteConsumerGroupOffsets ---- */

static rd_kafka_resp_err_t delete_offsets(rd_kafka_t *adm, const char *group, const char *topic,
                                          rd_kafka_resp_err_t *perr)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(2);
    rd_kafka_topic_partition_list_add(l, topic, 0);
    rd_kafka_topic_partition_list_add(l, topic, 1);
    rd_kafka_DeleteConsumerGroupOffsets_t *d = rd_kafka_DeleteConsumerGroupOffsets_new(group, l);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_AdminOptions_t *o = opts(adm, RD_KAFKA_ADMIN_OP_DELETECONSUMERGROUPOFFSETS);
    rd_kafka_queue_t *q = rd_kafka_queue_new(adm);
    rd_kafka_DeleteConsumerGroupOffsets(adm, &d, 1, o, q);
    rd_kafka_event_t *ev = admin_wait(q, RD_KAFKA_EVENT_DELETECONSUMERGROUPOFFSETS_RESULT);
    rd_kafka_resp_err_t e = rd_kafka_event_error(ev);
    *perr = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (!e) {
        size_t n;
        const rd_kafka_group_result_t **gr = rd_kafka_DeleteConsumerGroupOffsets_result_groups(
            rd_kafka_event_DeleteConsumerGroupOffsets_result(ev), &n);
        CHECK(n == 1, "DeleteConsumerGroupOffsets: %zu groups", n);
        const rd_kafka_error_t *ge = rd_kafka_group_result_error(gr[0]);
        e = ge ? rd_kafka_error_code(ge) : RD_KAFKA_RESP_ERR_NO_ERROR;
        const rd_kafka_topic_partition_list_t *pl = rd_kafka_group_result_partitions(gr[0]);
        for (int i = 0; pl && i < pl->cnt; i++)
            if (pl->elems[i].err && !*perr)
                *perr = pl->elems[i].err;
    } else {
        note("DeleteConsumerGroupOffsets %s: %s", group, rd_kafka_event_error_string(ev));
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_DeleteConsumerGroupOffsets_destroy(d);
    return e;
}

/* The committed offset of partition p for group (by a consumer of that group that does not
 * subscribe): -1001 when none. */
static int64_t committed(const char *group, const char *topic, int p)
{
    char err[256];
    rd_kafka_conf_t *conf = base_conf();
    set(conf, "group.id", group);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    CHECK(rk, "consumer: %s", err);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, p);
    rd_kafka_resp_err_t e = rd_kafka_committed(rk, l, 10000);
    CHECK(e == RD_KAFKA_RESP_ERR_NO_ERROR, "committed: %s", rd_kafka_err2name(e));
    int64_t off = l->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
    return off;
}

static void mode_offsets(void)
{
    rd_kafka_t *adm = admin_new();
    const char *topic = "adm-offsets";
    create_topic(adm, topic, 2);
    static cons_t c;
    cons_new(&c, "c", "adm-off", topic, NULL);
    cons_t *cs[] = {&c};
    wait_cover(cs, 1, 2, 30);
    commit_offset(&c, topic, 0, 5);
    commit_offset(&c, topic, 1, 7);
    rd_kafka_resp_err_t perr;
    rd_kafka_resp_err_t e = delete_offsets(adm, "adm-off", topic, &perr);
    note("live group: %s / partition %s", rd_kafka_err2name(e), rd_kafka_err2name(perr));
    CHECK(perr == RD_KAFKA_RESP_ERR_GROUP_SUBSCRIBED_TO_TOPIC ||
              e == RD_KAFKA_RESP_ERR_GROUP_SUBSCRIBED_TO_TOPIC,
          "live group: %s / partition %s, want GROUP_SUBSCRIBED_TO_TOPIC", rd_kafka_err2name(e),
          rd_kafka_err2name(perr));
    cons_close(&c);
    CHECK(committed("adm-off", topic, 0) == 5, "offset of partition 0 lost while the group lived");
    e = delete_offsets(adm, "adm-off", topic, &perr);
    CHECK(e == RD_KAFKA_RESP_ERR_NO_ERROR && perr == RD_KAFKA_RESP_ERR_NO_ERROR,
          "empty group: %s / partition %s", rd_kafka_err2name(e), rd_kafka_err2name(perr));
    int64_t o0 = committed("adm-off", topic, 0), o1 = committed("adm-off", topic, 1);
    CHECK(o0 == RD_KAFKA_OFFSET_INVALID && o1 == RD_KAFKA_OFFSET_INVALID,
          "after the delete: committed %" PRId64 ", %" PRId64, o0, o1);
    e = delete_offsets(adm, "adm-nosuch", topic, &perr);
    CHECK(e == RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND, "missing group: %s", rd_kafka_err2name(e));
    rd_kafka_destroy(adm);
    printf("ok offsets: refused for a live subscribed group, deleted once empty\n");
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char m[] = "FAIL admin_rdkafka: still running after 120 s\n";
    if (write(2, m, sizeof m - 1) < 0) {
    }
    _exit(1);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: admin_rdkafka groups|fence|grow|offsets BOOTSTRAP\n");
        return 2;
    }
    t_start = now_s();
    bootstrap = argv[2];
    signal(SIGALRM, on_alarm);
    alarm(120);
    if (strcmp(argv[1], "groups") == 0)
        mode_groups();
    else if (strcmp(argv[1], "fence") == 0)
        mode_fence();
    else if (strcmp(argv[1], "grow") == 0)
        mode_grow();
    else if (strcmp(argv[1], "offsets") == 0)
        mode_offsets();
    else
        FAIL("unknown mode %s", argv[1]);
    return 0;
}

/* librdkafka high-level consumers (consumer groups) against an Eddy broker.
 *
 *   groups_rdkafka assign BOOTSTRAP STRATEGY...
 *       for each partition.assignment.strategy (range, roundrobin, cooperative-sticky), in
 *       one process, on a fresh 6-partition topic:
 *       - 3 consumers in group A settle with 2 partitions each;
 *       - 4 more join group A: six of the 7 have one partition, one has none;
 *       - 2 consumers in group B on the same topic: 3 partitions each;
 *       - 600 records produced: group A and group B each consume every one, once.
 *       "Settled": the consumers' assignments are disjoint and cover the topic, the broker's
 *       DescribeGroups says Stable with that many members and the same assignment per
 *       member id, and nothing changes for 1.5 s.
 *   groups_rdkafka consume BOOTSTRAP GROUP TOPIC [--max=N] [--commit=sync] [--name=NAME]
 *                  [--lifetime=SECONDS] [librdkafka.key=value...]
 *       one subscribed consumer, until SIGTERM/SIGINT (then rd_kafka_consumer_close) or,
 *       with --max, N records; SIGALRM kills it after --lifetime (default 240) seconds.
 *       Writes lines to stdout, flushed, each starting with the wall clock in ms:
 *           MS START NAME               MS MEMBER MEMBER_ID (before each ASSIGN that assigns)
 *           MS ASSIGN K P,P,..|-        (K: rebalance callbacks so far; the assignment after)
 *           MS REC P OFFSET VALUE       MS COMMIT P NEXT_OFFSET OK|ERRNAME (--commit=sync)
 *           MS ERROR ERRNAME TEXT       MS EXIT
 *       --commit=sync: enable.auto.commit=false; after each record a synchronous commit of
 *       (partition, offset+1).
 *   groups_rdkafka produce BOOTSTRAP TOPIC FROM COUNT [RATE]
 *       values "FROM".."FROM+COUNT-1" (decimal), record id i to partition i % partitions,
 *       acks=all, RATE records/s if given; exit 0 once all are acknowledged.
 *   groups_rdkafka create BOOTSTRAP TOPIC PARTITIONS
 *   groups_rdkafka committed BOOTSTRAP GROUP TOPIC
 *       OffsetFetch of every partition: "P OFFSET" lines (-1001: none committed).
 *   groups_rdkafka badsession BOOTSTRAP
 *       a consumer with session.timeout.ms=1000 gets INVALID_SESSION_TIMEOUT as an error
 *       event; while it keeps trying, a valid consumer in the same group and one in another
 *       group join, consume every record, and see no extra rebalance.
 *
 * RDKAFKA_DEBUG=<contexts> (e.g. cgrp,protocol) turns on librdkafka's debug log; GROUPS_VERBOSE=1
 * logs every rebalance callback and error event to stderr. */
#define _GNU_SOURCE
#include <errno.h>
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

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[groups_rdkafka %6.1fs] ", now_s() - t_start);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "FAIL groups_rdkafka.c:%d: ", __LINE__);                                   \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        exit(1);                                                                                   \
    } while (0)
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            FAIL(__VA_ARGS__);                                                                     \
    } while (0)

static void conf_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char err[512];
    if (rd_kafka_conf_set(conf, k, v, err, sizeof err) != RD_KAFKA_CONF_OK)
        FAIL("conf %s=%s: %s", k, v, err);
}

static rd_kafka_conf_t *base_conf(const char *client_id)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    conf_set(conf, "bootstrap.servers", bootstrap);
    conf_set(conf, "client.id", client_id);
    const char *dbg = getenv("RDKAFKA_DEBUG");
    if (dbg && *dbg)
        conf_set(conf, "debug", dbg);
    return conf;
}

static int topic_partitions(rd_kafka_t *rk, const char *topic)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int n = -1;
    for (int tries = 0; tries < 50 && n <= 0; tries++) {
        rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 5000);
        if (!err && md->topic_cnt == 1 && !md->topics[0].err)
            n = md->topics[0].partition_cnt;
        if (!err)
            rd_kafka_metadata_destroy(md);
        if (n <= 0)
            usleep(200 * 1000);
    }
    rd_kafka_topic_destroy(rkt);
    CHECK(n > 0, "no metadata for topic %s", topic);
    return n;
}

/* ---- create ---- */

static void create_topic(const char *topic, int partitions)
{
    rd_kafka_conf_t *conf = base_conf("groups-admin");
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    CHECK(rk, "rd_kafka_new: %s", err);
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, 1, err, sizeof err);
    CHECK(nt, "NewTopic: %s", err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    CHECK(ev, "CreateTopics %s: no result in 30 s", topic);
    CHECK(!rd_kafka_event_error(ev), "CreateTopics %s: %s", topic, rd_kafka_event_error_string(ev));
    size_t cnt;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
    CHECK(cnt == 1, "CreateTopics %s: %zu results", topic, cnt);
    CHECK(!rd_kafka_topic_result_error(res[0]), "CreateTopics %s: %s", topic,
          rd_kafka_topic_result_error_string(res[0]));
    rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    CHECK(topic_partitions(rk, topic) == partitions, "topic %s: wrong partition count", topic);
    rd_kafka_destroy(rk);
}

/* ---- produce ---- */

static long g_acked, g_failed;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err) {
        if (g_failed++ < 5)
            note("delivery failed: %s", rd_kafka_err2str(m->err));
    } else {
        g_acked++;
    }
}

static void produce(const char *topic, long from, long count, long rate)
{
    g_acked = g_failed = 0;
    rd_kafka_conf_t *conf = base_conf("groups-producer");
    conf_set(conf, "acks", "all");
    conf_set(conf, "linger.ms", "5");
    conf_set(conf, "message.timeout.ms", "120000");
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    CHECK(rk, "rd_kafka_new: %s", err);
    int np = topic_partitions(rk, topic);
    double t0 = now_s();
    for (long i = 0; i < count; i++) {
        char val[32];
        int len = snprintf(val, sizeof val, "%ld", from + i);
        if (rate > 0) {
            double due = t0 + (double)i / (double)rate;
            double now = now_s();
            if (due > now)
                usleep((useconds_t)((due - now) * 1e6));
        }
        for (;;) {
            rd_kafka_resp_err_t e = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION((int32_t)((from + i) % np)),
                RD_KAFKA_V_VALUE(val, (size_t)len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(rk, 50);
                continue;
            }
            CHECK(!e, "produce: %s", rd_kafka_err2str(e));
            break;
        }
        rd_kafka_poll(rk, 0);
    }
    while (rd_kafka_outq_len(rk) > 0 && now_s() - t0 < 150)
        rd_kafka_poll(rk, 100);
    CHECK(g_acked + g_failed == count, "produce: %ld of %ld reports after 150 s",
          g_acked + g_failed, count);
    CHECK(g_failed == 0, "produce: %ld of %ld records not acknowledged", g_failed, count);
    rd_kafka_destroy(rk);
    note("produced %ld records (%ld..%ld) to %s in %.1f s", count, from, from + count - 1, topic,
         now_s() - t0);
}

/* ---- consumers ---- */

#define MAXP 32
#define MAXC 16

typedef struct {
    rd_kafka_t *rk;
    char name[48];
    unsigned assigned; /* bit per partition */
    int rebalances;    /* rebalance callbacks */
    int coop;          /* cooperative-sticky: incremental (un)assign */
    int errors;
    rd_kafka_resp_err_t last_err;
    /* consume mode */
    FILE *out;
    /* assign/badsession modes: record ids seen (shared per group) */
    unsigned char *seen;
    long *dups;
} cons_t;

static void cons_print(cons_t *c, const char *fmt, ...)
{
    if (!c->out)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(c->out, "%" PRId64 " ", wall_ms());
    vfprintf(c->out, fmt, ap);
    fputc('\n', c->out);
    fflush(c->out);
    va_end(ap);
}

static void fmt_parts(unsigned mask, char *buf, size_t n)
{
    size_t o = 0;
    buf[0] = 0;
    for (int p = 0; p < MAXP; p++)
        if (mask & (1u << p))
            o += (size_t)snprintf(buf + o, n - o, "%s%d", o ? "," : "", p);
    if (!o)
        snprintf(buf, n, "-");
}

/* The assignment is tracked from the callback's own lists: no rd_kafka_assignment() or
 * rd_kafka_memberid() in a revoke, which rd_kafka_consumer_close() serves after the group
 * handler has stopped answering such requests (librdkafka 2.0.2 then waits forever:
 * rd_kafka_memberid() in a close-time revoke was seen to hang). */
static unsigned parts_mask(cons_t *c, const rd_kafka_topic_partition_list_t *parts)
{
    unsigned mask = 0;
    for (int i = 0; i < parts->cnt; i++) {
        CHECK(parts->elems[i].partition >= 0 && parts->elems[i].partition < MAXP,
              "%s: partition %d assigned", c->name, parts->elems[i].partition);
        mask |= 1u << parts->elems[i].partition;
    }
    return mask;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    cons_t *c = opaque;
    rd_kafka_error_t *e = NULL;
    rd_kafka_resp_err_t re = 0;
    int assign = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
    if (assign) {
        if (c->coop)
            e = rd_kafka_incremental_assign(rk, parts);
        else
            re = rd_kafka_assign(rk, parts);
    } else {
        if (c->coop)
            e = rd_kafka_incremental_unassign(rk, parts);
        else
            re = rd_kafka_assign(rk, NULL);
    }
    if (e) {
        note("%s: incremental (un)assign: %s", c->name, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    if (re)
        note("%s: assign: %s", c->name, rd_kafka_err2str(re));
    unsigned m = parts_mask(c, parts);
    if (assign)
        c->assigned = c->coop ? c->assigned | m : m;
    else
        c->assigned = c->coop ? c->assigned & ~m : 0;
    c->rebalances++;
    char buf[256];
    fmt_parts(c->assigned, buf, sizeof buf);
    if (assign) {
        char *mid = rd_kafka_memberid(rk);
        cons_print(c, "MEMBER %s", mid ? mid : "?");
        if (mid)
            rd_kafka_mem_free(rk, mid);
    }
    cons_print(c, "ASSIGN %d %s", c->rebalances, buf);
    if (getenv("GROUPS_VERBOSE"))
        note("%s: %s %s -> %s (%d)", c->name, assign ? "assign" : "revoke",
             c->coop ? "cooperative" : "eager", buf, c->rebalances);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    cons_t *c = opaque;
    cons_print(c, "ERROR %s %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
    if (!c->out || getenv("GROUPS_VERBOSE"))
        note("%s: error_cb %s: %s", rd_kafka_name(rk), rd_kafka_err2name((rd_kafka_resp_err_t)err),
             reason);
    c->errors++;
    c->last_err = (rd_kafka_resp_err_t)err;
}

/* kv: NULL-terminated key, value pairs. */
static void cons_new(cons_t *c, const char *name, const char *group, const char *topic,
                     const char *const *kv)
{
    snprintf(c->name, sizeof c->name, "%s", name);
    rd_kafka_conf_t *conf = base_conf(name);
    conf_set(conf, "group.id", group);
    conf_set(conf, "auto.offset.reset", "earliest");
    conf_set(conf, "heartbeat.interval.ms", "500");
    for (; kv && kv[0]; kv += 2) {
        conf_set(conf, kv[0], kv[1]);
        if (!strcmp(kv[0], "partition.assignment.strategy"))
            c->coop = strstr(kv[1], "cooperative") != NULL;
    }
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_opaque(conf, c);
    char err[512];
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    CHECK(c->rk, "rd_kafka_new(%s): %s", name, err);
    rd_kafka_poll_set_consumer(c->rk);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(c->rk, sub);
    CHECK(!e, "%s: subscribe: %s", name, rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(sub);
}

/* Handles one polled message of an in-process consumer (assign, badsession). */
static void cons_handle(cons_t *c, rd_kafka_message_t *m, long nrec)
{
    if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            note("%s: consumer error %s: %s", c->name, rd_kafka_err2name(m->err),
                 rd_kafka_message_errstr(m));
            c->errors++;
            c->last_err = m->err;
        }
        return;
    }
    char buf[32];
    size_t n = m->len < sizeof buf - 1 ? m->len : sizeof buf - 1;
    memcpy(buf, m->payload, n);
    buf[n] = 0;
    char *end;
    long id = strtol(buf, &end, 10);
    CHECK(*end == 0 && id >= 0 && id < nrec, "%s: unexpected record '%s' at %d/%" PRId64, c->name,
          buf, m->partition, m->offset);
    if (c->seen[id])
        (*c->dups)++;
    c->seen[id] = 1;
}

/* Polls every consumer for ms milliseconds. */
static void poll_all(cons_t **cs, int n, int ms, long nrec)
{
    double until = now_s() + ms / 1000.0;
    do {
        int got = 0;
        for (int i = 0; i < n; i++) {
            rd_kafka_message_t *m;
            while ((m = rd_kafka_consumer_poll(cs[i]->rk, 0))) {
                cons_handle(cs[i], m, nrec);
                rd_kafka_message_destroy(m);
                got++;
            }
        }
        if (!got)
            usleep(5000);
    } while (now_s() < until);
}

static int popcount(unsigned x)
{
    return __builtin_popcount(x);
}

/* ConsumerProtocol assignment bytes -> partition mask of topic (or ~0u if malformed). */
static unsigned decode_assignment(const unsigned char *b, int len, const char *topic)
{
    int o = 0;
#define NEED(k)                                                                                    \
    if (o + (k) > len)                                                                             \
        return ~0u;
    if (len == 0)
        return 0;
    NEED(6);
    o += 2; /* version */
    int32_t nt = (int32_t)((uint32_t)b[o] << 24 | (uint32_t)b[o + 1] << 16 |
                           (uint32_t)b[o + 2] << 8 | b[o + 3]);
    o += 4;
    unsigned mask = 0;
    for (int t = 0; t < nt; t++) {
        NEED(2);
        int sl = b[o] << 8 | b[o + 1];
        o += 2;
        NEED(sl + 4);
        int match = (int)strlen(topic) == sl && !memcmp(b + o, topic, (size_t)sl);
        o += sl;
        int32_t np = (int32_t)((uint32_t)b[o] << 24 | (uint32_t)b[o + 1] << 16 |
                               (uint32_t)b[o + 2] << 8 | b[o + 3]);
        o += 4;
        for (int i = 0; i < np; i++) {
            NEED(4);
            int32_t p = (int32_t)((uint32_t)b[o] << 24 | (uint32_t)b[o + 1] << 16 |
                                  (uint32_t)b[o + 2] << 8 | b[o + 3]);
            o += 4;
            if (p < 0 || p >= MAXP)
                return ~0u;
            if (match)
                mask |= 1u << p;
        }
    }
    return mask;
#undef NEED
}

/* The broker's view (DescribeGroups) agrees with the consumers': Stable, n members, each
 * member's assignment the one its consumer applied. why: filled when not. */
static int broker_agrees(cons_t **cs, int n, const char *group, const char *topic, char *why,
                         size_t wn)
{
    const struct rd_kafka_group_list *gl = NULL;
    rd_kafka_resp_err_t err = rd_kafka_list_groups(cs[0]->rk, group, &gl, 5000);
    if (err) {
        snprintf(why, wn, "DescribeGroups: %s", rd_kafka_err2name(err));
        return 0;
    }
    int ok = 0;
    if (gl->group_cnt != 1) {
        snprintf(why, wn, "DescribeGroups: %d groups", gl->group_cnt);
        goto out;
    }
    const struct rd_kafka_group_info *gi = &gl->groups[0];
    if (gi->err || strcmp(gi->state, "Stable") || gi->member_cnt != n) {
        snprintf(why, wn, "DescribeGroups: err %s, state %s, %d member(s)",
                 rd_kafka_err2name(gi->err), gi->state, gi->member_cnt);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        char *mid = rd_kafka_memberid(cs[i]->rk);
        int found = 0;
        for (int j = 0; mid && j < gi->member_cnt; j++) {
            if (strcmp(gi->members[j].member_id, mid))
                continue;
            found = 1;
            unsigned m = decode_assignment(gi->members[j].member_assignment,
                                           gi->members[j].member_assignment_size, topic);
            if (m != cs[i]->assigned) {
                char a[128], b[128];
                fmt_parts(cs[i]->assigned, a, sizeof a);
                fmt_parts(m, b, sizeof b);
                snprintf(why, wn, "%s applied %s, the broker has %s for it", cs[i]->name, a, b);
                rd_kafka_mem_free(cs[i]->rk, mid);
                goto out;
            }
        }
        if (!found) {
            snprintf(why, wn, "%s (member %s) not among the broker's members", cs[i]->name,
                     mid ? mid : "(none)");
            if (mid)
                rd_kafka_mem_free(cs[i]->rk, mid);
            goto out;
        }
        rd_kafka_mem_free(cs[i]->rk, mid);
    }
    ok = 1;
out:
    rd_kafka_group_list_destroy(gl);
    return ok;
}

/* Waits until the n consumers of group settle (see the top of the file); returns the
 * seconds it took. */
static double settle(cons_t **cs, int n, const char *group, const char *topic, int np, long nrec,
                     double limit_s)
{
    double t0 = now_s(), stable_since = -1;
    unsigned last[MAXC] = {0};
    char why[512] = "not yet polled";
    while (now_s() - t0 < limit_s) {
        poll_all(cs, n, 100, nrec);
        unsigned all = 0;
        int ok = 1, changed = 0;
        for (int i = 0; i < n; i++) {
            if (all & cs[i]->assigned) {
                snprintf(why, sizeof why, "%s's partitions overlap another's", cs[i]->name);
                ok = 0;
            }
            all |= cs[i]->assigned;
            if (cs[i]->assigned != last[i])
                changed = 1;
            last[i] = cs[i]->assigned;
        }
        if (ok && all != (np >= 32 ? ~0u : (1u << np) - 1)) {
            snprintf(why, sizeof why, "not every partition assigned");
            ok = 0;
        }
        if (ok && !broker_agrees(cs, n, group, topic, why, sizeof why))
            ok = 0;
        if (!ok || changed) {
            stable_since = -1;
            continue;
        }
        if (stable_since < 0)
            stable_since = now_s();
        else if (now_s() - stable_since >= 1.5)
            return stable_since - t0;
    }
    for (int i = 0; i < n; i++) {
        char b[128];
        fmt_parts(cs[i]->assigned, b, sizeof b);
        note("  %s: %s (%d rebalance callbacks)", cs[i]->name, b, cs[i]->rebalances);
    }
    FAIL("group %s (%d consumers) did not settle in %.0f s: %s", group, n, limit_s, why);
}

static void describe(cons_t **cs, int n, char *buf, size_t bn)
{
    size_t o = 0;
    for (int i = 0; i < n && o < bn; i++) {
        char b[128];
        fmt_parts(cs[i]->assigned, b, sizeof b);
        o += (size_t)snprintf(buf + o, bn - o, "%s%s=%s", i ? " " : "", cs[i]->name, b);
    }
}

static void close_all(cons_t **cs, int n)
{
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        rd_kafka_resp_err_t e = rd_kafka_consumer_close(cs[i]->rk);
        if (e)
            note("%s: close: %s", cs[i]->name, rd_kafka_err2str(e));
        rd_kafka_destroy(cs[i]->rk);
        cs[i]->rk = NULL;
    }
    note("closed %d consumers in %.1f s", n, now_s() - t0);
}

static void assign_test(const char *strategy)
{
    enum { NP = 6, NREC = 600 };
    char topic[64], ga[64], gb[64];
    snprintf(topic, sizeof topic, "assign-%s", strategy);
    snprintf(ga, sizeof ga, "ga-%s", strategy);
    snprintf(gb, sizeof gb, "gb-%s", strategy);
    create_topic(topic, NP);
    note("[%s] topic %s: %d partitions", strategy, topic, NP);

    static cons_t ca[7], cb[2];
    memset(ca, 0, sizeof ca);
    memset(cb, 0, sizeof cb);
    unsigned char seen_a[NREC] = {0}, seen_b[NREC] = {0};
    long dups_a = 0, dups_b = 0;
    cons_t *pa[7], *pb[2];
    const char *kv[] = {"partition.assignment.strategy", strategy, NULL};
    char name[64], desc[1024];

    /* 3 consumers: 2 partitions each. */
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "%s-a%d", strategy, i);
        pa[i] = &ca[i];
        ca[i].seen = seen_a;
        ca[i].dups = &dups_a;
        cons_new(&ca[i], name, ga, topic, kv);
    }
    double t = settle(pa, 3, ga, topic, NP, NREC, 45);
    describe(pa, 3, desc, sizeof desc);
    note("[%s] 3 consumers settled in %.1f s: %s", strategy, t, desc);
    for (int i = 0; i < 3; i++)
        CHECK(popcount(ca[i].assigned) == 2, "[%s] 3 consumers on %d partitions: %s", strategy, NP,
              desc);

    /* 4 more: six with one partition, one with none. */
    for (int i = 3; i < 7; i++) {
        snprintf(name, sizeof name, "%s-a%d", strategy, i);
        pa[i] = &ca[i];
        ca[i].seen = seen_a;
        ca[i].dups = &dups_a;
        cons_new(&ca[i], name, ga, topic, kv);
    }
    t = settle(pa, 7, ga, topic, NP, NREC, 45);
    describe(pa, 7, desc, sizeof desc);
    note("[%s] 7 consumers settled in %.1f s: %s", strategy, t, desc);
    int ones = 0, zeros = 0;
    for (int i = 0; i < 7; i++) {
        ones += popcount(ca[i].assigned) == 1;
        zeros += ca[i].assigned == 0;
    }
    CHECK(ones == 6 && zeros == 1, "[%s] 7 consumers on %d partitions: %s", strategy, NP, desc);

    /* A second group on the same topic. */
    for (int i = 0; i < 2; i++) {
        snprintf(name, sizeof name, "%s-b%d", strategy, i);
        pb[i] = &cb[i];
        cb[i].seen = seen_b;
        cb[i].dups = &dups_b;
        cons_new(&cb[i], name, gb, topic, kv);
    }
    t = settle(pb, 2, gb, topic, NP, NREC, 45);
    describe(pb, 2, desc, sizeof desc);
    note("[%s] group %s: 2 consumers settled in %.1f s: %s", strategy, gb, t, desc);
    for (int i = 0; i < 2; i++)
        CHECK(popcount(cb[i].assigned) == 3, "[%s] 2 consumers on %d partitions: %s", strategy, NP,
              desc);

    int reb_a[7], reb_b[2];
    for (int i = 0; i < 7; i++)
        reb_a[i] = ca[i].rebalances;
    for (int i = 0; i < 2; i++)
        reb_b[i] = cb[i].rebalances;

    produce(topic, 0, NREC, 0);
    cons_t *all[9];
    for (int i = 0; i < 7; i++)
        all[i] = &ca[i];
    for (int i = 0; i < 2; i++)
        all[7 + i] = &cb[i];
    double t0 = now_s();
    long na = 0, nb = 0;
    while (now_s() - t0 < 30) {
        poll_all(all, 9, 100, NREC);
        na = nb = 0;
        for (int i = 0; i < NREC; i++) {
            na += seen_a[i];
            nb += seen_b[i];
        }
        if (na == NREC && nb == NREC)
            break;
    }
    /* A little longer: duplicates would show up now. */
    poll_all(all, 9, 500, NREC);
    note("[%s] group %s consumed %ld/%d records (%ld duplicates), group %s %ld/%d (%ld) in %.1f s",
         strategy, ga, na, NREC, dups_a, gb, nb, NREC, dups_b, now_s() - t0);
    CHECK(na == NREC && nb == NREC, "[%s] not every record consumed by both groups", strategy);
    CHECK(dups_a == 0 && dups_b == 0, "[%s] duplicates without a rebalance", strategy);
    for (int i = 0; i < 7; i++)
        CHECK(ca[i].rebalances == reb_a[i], "[%s] %s rebalanced while consuming", strategy,
              ca[i].name);
    for (int i = 0; i < 2; i++)
        CHECK(cb[i].rebalances == reb_b[i], "[%s] %s rebalanced while consuming", strategy,
              cb[i].name);
    int errs = 0;
    for (int i = 0; i < 9; i++)
        errs += all[i]->errors;
    CHECK(errs == 0, "[%s] %d consumer errors", strategy, errs);
    close_all(all, 9);
    note("[%s] ok", strategy);
}

/* ---- consume (one process per consumer) ---- */

static volatile sig_atomic_t g_stop;
static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void consume(const char *group, const char *topic, int argc, char **argv)
{
    long max = -1;
    int sync_commit = 0, lifetime = 240;
    const char *name = "groups-consumer";
    const char *kv[2 * 64 + 1];
    int nkv = 0;
    char *copies[64];
    int ncopies = 0;
    for (int i = 0; i < argc; i++) {
        if (!strncmp(argv[i], "--max=", 6)) {
            max = atol(argv[i] + 6);
        } else if (!strcmp(argv[i], "--commit=sync")) {
            sync_commit = 1;
        } else if (!strncmp(argv[i], "--name=", 7)) {
            name = argv[i] + 7;
        } else if (!strncmp(argv[i], "--lifetime=", 11)) {
            lifetime = atoi(argv[i] + 11);
        } else {
            char *eq = strchr(argv[i], '=');
            CHECK(eq && nkv < 2 * 63 && ncopies < 64, "bad argument '%s'", argv[i]);
            char *k = strndup(argv[i], (size_t)(eq - argv[i]));
            copies[ncopies++] = k;
            kv[nkv++] = k;
            kv[nkv++] = eq + 1;
        }
    }
    if (sync_commit) {
        kv[nkv++] = "enable.auto.commit";
        kv[nkv++] = "false";
    }
    kv[nkv] = NULL;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    alarm((unsigned)lifetime); /* SIGALRM ends a consumer the test forgot */

    static cons_t c;
    c.out = stdout;
    cons_print(&c, "START %s", name);
    cons_new(&c, name, group, topic, kv);
    long n = 0;
    while (!g_stop && (max < 0 || n < max)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c.rk, 100);
        if (!m)
            continue;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                cons_print(&c, "ERROR %s %s", rd_kafka_err2name(m->err),
                           rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        cons_print(&c, "REC %d %" PRId64 " %.*s", m->partition, m->offset, (int)m->len,
                   (const char *)m->payload);
        n++;
        if (sync_commit) {
            rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
            rd_kafka_topic_partition_list_add(l, topic, m->partition)->offset = m->offset + 1;
            rd_kafka_resp_err_t e = rd_kafka_commit(c.rk, l, 0);
            if (!e)
                e = l->elems[0].err;
            cons_print(&c, "COMMIT %d %" PRId64 " %s", m->partition, m->offset + 1,
                       e ? rd_kafka_err2name(e) : "OK");
            rd_kafka_topic_partition_list_destroy(l);
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_resp_err_t e = rd_kafka_consumer_close(c.rk);
    if (e)
        cons_print(&c, "ERROR %s close", rd_kafka_err2name(e));
    rd_kafka_destroy(c.rk);
    cons_print(&c, "EXIT");
    for (int i = 0; i < ncopies; i++)
        free(copies[i]);
}

/* ---- committed ---- */

static void committed(const char *group, const char *topic)
{
    rd_kafka_conf_t *conf = base_conf("groups-committed");
    conf_set(conf, "group.id", group);
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    CHECK(rk, "rd_kafka_new: %s", err);
    int np = topic_partitions(rk, topic);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(np);
    for (int p = 0; p < np; p++)
        rd_kafka_topic_partition_list_add(l, topic, p);
    rd_kafka_resp_err_t e = rd_kafka_committed(rk, l, 15000);
    CHECK(!e, "committed(%s): %s", group, rd_kafka_err2name(e));
    for (int i = 0; i < l->cnt; i++) {
        CHECK(!l->elems[i].err, "committed(%s) %d: %s", group, l->elems[i].partition,
              rd_kafka_err2name(l->elems[i].err));
        printf("%d %" PRId64 "\n", l->elems[i].partition, l->elems[i].offset);
    }
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

/* ---- badsession ---- */

static void badsession(void)
{
    enum { NP = 3, NREC = 90 };
    const char *topic = "badsession";
    create_topic(topic, NP);
    static cons_t bad, good_same, good_other;
    unsigned char seen_s[NREC] = {0}, seen_o[NREC] = {0}, seen_bad[NREC] = {0};
    long dups_s = 0, dups_o = 0, dups_bad = 0;
    bad.seen = seen_bad;
    bad.dups = &dups_bad;
    good_same.seen = seen_s;
    good_same.dups = &dups_s;
    good_other.seen = seen_o;
    good_other.dups = &dups_o;
    const char *kv_bad[] = {"session.timeout.ms", "1000", "heartbeat.interval.ms", "300", NULL};
    const char *kv_good[] = {"session.timeout.ms", "6000", NULL};
    cons_new(&bad, "bad-session", "g-bad", topic, kv_bad);
    cons_t *pb[1] = {&bad};
    double t0 = now_s();
    while (now_s() - t0 < 20 && bad.last_err != RD_KAFKA_RESP_ERR_INVALID_SESSION_TIMEOUT)
        poll_all(pb, 1, 100, NREC);
    CHECK(bad.last_err == RD_KAFKA_RESP_ERR_INVALID_SESSION_TIMEOUT,
          "session.timeout.ms=1000: no INVALID_SESSION_TIMEOUT error event in 20 s (last error: "
          "%s)",
          rd_kafka_err2name(bad.last_err));
    CHECK(bad.assigned == 0 && bad.rebalances == 0, "session.timeout.ms=1000: got an assignment");
    note("session.timeout.ms=1000: INVALID_SESSION_TIMEOUT reported after %.1f s", now_s() - t0);

    /* The broker serves everyone else meanwhile: the same group, another group. */
    cons_new(&good_same, "good-same-group", "g-bad", topic, kv_good);
    cons_new(&good_other, "good-other-group", "g-other", topic, kv_good);
    cons_t *same[1] = {&good_same}, *other[1] = {&good_other};
    cons_t *all[3] = {&bad, &good_same, &good_other};
    double t = settle(same, 1, "g-bad", topic, NP, NREC, 30);
    note("a valid consumer in the same group settled in %.1f s", t);
    t = settle(other, 1, "g-other", topic, NP, NREC, 30);
    note("a valid consumer in another group settled in %.1f s", t);
    int reb_s = good_same.rebalances, reb_o = good_other.rebalances, bad_errs = bad.errors;
    produce(topic, 0, NREC, 0);
    t0 = now_s();
    long ns = 0, no = 0;
    while (now_s() - t0 < 30) {
        poll_all(all, 3, 100, NREC);
        ns = no = 0;
        for (int i = 0; i < NREC; i++) {
            ns += seen_s[i];
            no += seen_o[i];
        }
        if (ns == NREC && no == NREC && now_s() - t0 > 3)
            break;
    }
    note("consumed %ld/%d (same group) and %ld/%d (other group); the bad consumer: %d more "
         "errors, %d rebalance callbacks",
         ns, NREC, no, NREC, bad.errors - bad_errs, bad.rebalances);
    CHECK(ns == NREC && no == NREC, "valid consumers did not get every record");
    CHECK(dups_s == 0 && dups_o == 0, "duplicates");
    CHECK(good_same.rebalances == reb_s && good_other.rebalances == reb_o,
          "the failing consumer's joins rebalanced the valid ones");
    CHECK(bad.assigned == 0 && bad.rebalances == 0, "the bad consumer got an assignment");
    CHECK(good_same.errors == 0 && good_other.errors == 0, "errors on the valid consumers");
    CHECK(broker_agrees(same, 1, "g-bad", topic, (char[256]){0}, 256),
          "group g-bad not Stable with the valid consumer alone");
    close_all(all, 3);
}

int main(int argc, char **argv)
{
    t_start = now_s();
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 3) {
        fprintf(stderr, "usage: groups_rdkafka MODE BOOTSTRAP ... (see the top of "
                        "groups_rdkafka.c)\n");
        return 2;
    }
    const char *mode = argv[1];
    bootstrap = argv[2];
    if (!strcmp(mode, "assign")) {
        CHECK(argc > 3, "assign: no strategies");
        for (int i = 3; i < argc; i++)
            assign_test(argv[i]);
    } else if (!strcmp(mode, "consume") && argc >= 5) {
        consume(argv[3], argv[4], argc - 5, argv + 5);
    } else if (!strcmp(mode, "produce") && (argc == 6 || argc == 7)) {
        produce(argv[3], atol(argv[4]), atol(argv[5]), argc == 7 ? atol(argv[6]) : 0);
    } else if (!strcmp(mode, "create") && argc == 5) {
        create_topic(argv[3], atoi(argv[4]));
    } else if (!strcmp(mode, "committed") && argc == 5) {
        committed(argv[3], argv[4]);
    } else if (!strcmp(mode, "badsession") && argc == 3) {
        badsession();
    } else {
        fprintf(stderr, "groups_rdkafka: bad arguments for mode '%s'\n", mode);
        return 2;
    }
    return 0;
}

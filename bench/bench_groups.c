/* bench_groups: the consumer-group coordinator under librdkafka, each figure
 * next to the same client code against librdkafka's in-process mock cluster
 * (rd_kafka_mock_cluster_new, one broker, which has a group coordinator of
 * its own) measured in the same run.
 *
 *   1. Join. M consumers (threads of this process, default 10), each with
 *      its own rd_kafka_t, subscribe at once to a P-partition topic
 *      (default 20) with a fresh group id. Figure: from the first
 *      rd_kafka_subscribe() to the moment every member holds a non-empty
 *      assignment and together they own each partition exactly once
 *      (rebalance callbacks, eager protocol, range,roundrobin). Handles are
 *      created and connected (a Metadata request) before the timer starts.
 *      Eddy runs with group.initial.rebalance.delay.ms=0 (-b) and with the
 *      default 3000 (-B); the mock always waits 3000 ms before a new
 *      group's first rebalance (a constant in its source, not a setting).
 *   2. Failover. M members as separate processes (this program re-executed
 *      with --member), session.timeout.ms=6000 (-S), each reporting every
 *      assignment and revocation over one shared pipe, stamped with
 *      CLOCK_MONOTONIC. Once the group is stable, one member gets SIGKILL.
 *      Figure: from the kill to the moment the survivors again own every
 *      partition exactly once (and each holds some); also when the first
 *      survivor was told to rebalance (its revocation).
 *   3. Commits. One consumer, alone in a group, assigned a one-partition
 *      topic, commits that partition's offset (1, 2, 3, ...) for D seconds
 *      (-d, default 5): rd_kafka_commit(..., async=0) in a loop, then
 *      rd_kafka_commit_queue() onto its own queue with at most A commits in
 *      flight (-a, default 32). Figures: commits/s (and the sync call's
 *      latency). Afterwards rd_kafka_committed() must return the last
 *      offset committed.
 *
 * The program prints figures and exits 0; it never decides pass or fail on
 * a number. It exits 1 when a call fails, a group never settles within its
 * time limit, or a committed offset reads back wrong (what happened is
 * printed; -D adds librdkafka debug=cgrp,protocol on Eddy's clients).
 *
 * Usage: bench_groups -b HOST:PORT [-B HOST:PORT] [options]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_MEMBERS 64
#define MAX_PARTS 256
#define MAX_ROUNDS 15
#define JOIN_TOPIC "bench-groups"
#define COMMIT_TOPIC "bench-commit"
#define JOIN_TIMEOUT_MS 30000     /* a group not stable after this: stuck */
#define FAILOVER_TIMEOUT_MS 60000 /* from the kill */
#define MOCK_FIRST_JOIN_MS 3000   /* rdkafka_mock_cgrp.c: first join of a group */
#define DEBUG_CONTEXTS "cgrp,protocol"

typedef struct opts {
    const char *eddy0;     /* -b: group.initial.rebalance.delay.ms=0 */
    const char *eddy3000;  /* -B: default delay */
    int members;           /* -m */
    int parts;             /* -P */
    int rounds0;           /* -r: join rounds at delay 0 */
    int rounds3000;        /* -R: join rounds at delay 3000 (each side) */
    int fo_rounds;         /* -f */
    int session_ms;        /* -S */
    int commit_secs;       /* -d */
    int inflight;          /* -a */
    int debug;             /* -D */
    const char *extra[16]; /* -X */
    int nextra;
    const char *which; /* -s */
} opts_t;

static opts_t O = {
    .members = 10,
    .parts = 20,
    .rounds0 = 5,
    .rounds3000 = 3,
    .fo_rounds = 2,
    .session_ms = 6000,
    .commit_secs = 5,
    .inflight = 32,
    .which = "123",
};

typedef struct target {
    const char *name; /* "eddy", "eddy-3000", "mock" */
    char bootstrap[256];
    int is_eddy;
    rd_kafka_mock_cluster_t *mock;
} target_t;

static int g_failed;

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_groups: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    g_failed = 1;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

/* 1234567 -> "1,234,567" (rotating static buffers: several per printf) */
static const char *commas(double v)
{
    static char bufs[8][32];
    static int n;
    char *out = bufs[n++ & 7], tmp[32];
    snprintf(tmp, sizeof tmp, "%.0f", v < 0 ? -v : v);
    size_t len = strlen(tmp), o = 0;
    if (v < 0)
        out[o++] = '-';
    for (size_t i = 0; i < len; i++) {
        out[o++] = tmp[i];
        if ((len - i - 1) % 3 == 0 && i + 1 < len)
            out[o++] = ',';
    }
    out[o] = 0;
    return out;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
    if (n <= 0)
        return -1;
    double s[MAX_ROUNDS * 4];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static double ratio(double a, double b)
{
    return a > 0 && b > 0 ? a / b : 0;
}

/* ---- client set-up ---- */

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    fprintf(stderr, "bench_groups: %s: client error: %s: %s\n", rd_kafka_name(rk),
            rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void conf_set(rd_kafka_conf_t *c, const char *k, const char *v)
{
    char err[512];
    if (rd_kafka_conf_set(c, k, v, err, sizeof err)) {
        fprintf(stderr, "bench_groups: conf %s=%s: %s\n", k, v, err);
        exit(1);
    }
}

static void conf_extra(rd_kafka_conf_t *c, const char *kv_in)
{
    char kv[512], *eq, err[512];
    snprintf(kv, sizeof kv, "%s", kv_in);
    if (!(eq = strchr(kv, '='))) {
        fprintf(stderr, "bench_groups: -X %s: not KEY=VALUE\n", kv);
        exit(2);
    }
    *eq = 0;
    if (rd_kafka_conf_set(c, kv, eq + 1, err, sizeof err)) {
        fprintf(stderr, "bench_groups: -X %s: %s\n", kv_in, err);
        exit(2);
    }
}

/* The -X settings first, so that the settings the benchmark needs win. */
static rd_kafka_conf_t *client_conf(const char *bootstrap, const char *client_id, int debug)
{
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    for (int i = 0; i < O.nextra; i++)
        conf_extra(c, O.extra[i]);
    conf_set(c, "bootstrap.servers", bootstrap);
    conf_set(c, "client.id", client_id);
    if (debug)
        conf_set(c, "debug", DEBUG_CONTEXTS);
    rd_kafka_conf_set_error_cb(c, on_error);
    return c;
}

static rd_kafka_conf_t *consumer_conf(const char *bootstrap, const char *client_id,
                                      const char *group, int debug)
{
    rd_kafka_conf_t *c = client_conf(bootstrap, client_id, debug);
    conf_set(c, "group.id", group);
    conf_set(c, "enable.auto.commit", "false");
    conf_set(c, "enable.partition.eof", "false");
    return c;
}

static rd_kafka_t *client_new(rd_kafka_type_t type, rd_kafka_conf_t *c)
{
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "bench_groups: rd_kafka_new: %s\n", err);
        exit(1);
    }
    return rk;
}

static int subscribe(rd_kafka_t *rk, const char *topic)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (err)
        fprintf(stderr, "bench_groups: subscribe %s: %s\n", topic, rd_kafka_err2str(err));
    return err ? -1 : 0;
}

static int create_topic(const target_t *t, const char *topic, int parts)
{
    if (t->mock) {
        rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(t->mock, topic, parts, 1);
        if (err) {
            fail("mock: topic_create %s: %s", topic, rd_kafka_err2str(err));
            return -1;
        }
        return 0;
    }
    rd_kafka_t *rk = client_new(RD_KAFKA_PRODUCER, client_conf(t->bootstrap, t->name, 0));
    char err[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, parts, 1, err, sizeof err);
    if (!nt) {
        fail("NewTopic: %s", err);
        rd_kafka_destroy(rk);
        return -1;
    }
    rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(ao, 10000, err, sizeof err);
    rd_kafka_AdminOptions_set_request_timeout(ao, 15000, err, sizeof err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, ao, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 20000);
    int rc = -1;
    if (!ev) {
        fail("%s: CreateTopics %s: no answer in 20 s", t->name, topic);
    } else if (rd_kafka_event_error(ev)) {
        fail("%s: CreateTopics %s: %s", t->name, topic, rd_kafka_event_error_string(ev));
    } else {
        size_t n;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        rd_kafka_resp_err_t e = n == 1 ? rd_kafka_topic_result_error(res[0])
                                       : RD_KAFKA_RESP_ERR__BAD_MSG;
        if (!e || e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            rc = 0;
        else
            fail("%s: CreateTopics %s (%d partitions): %s", t->name, topic, parts,
                 rd_kafka_err2name(e));
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_destroy(rk);
    return rc;
}

/* ---- assignment bookkeeping (parts 1 and 2) ---- */

typedef struct holder {
    int alive;
    int n;              /* partitions held now */
    int16_t p[MAX_PARTS];
    int assigns, revokes;
    int64_t first_ns;   /* time of the first assign */
    int64_t changed_ns; /* time of the last assign */
} holder_t;

/* Every live holder holds something, and together they hold each of the
 * nparts partitions exactly once. */
static int settled(const holder_t *h, int n, int nparts)
{
    int owned[MAX_PARTS] = {0};
    for (int i = 0; i < n; i++) {
        if (!h[i].alive)
            continue;
        if (!h[i].n)
            return 0;
        for (int k = 0; k < h[i].n; k++)
            if (h[i].p[k] < 0 || h[i].p[k] >= nparts || owned[h[i].p[k]]++)
                return 0;
    }
    for (int p = 0; p < nparts; p++)
        if (owned[p] != 1)
            return 0;
    return 1;
}

static void describe_holders(const holder_t *h, int n, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = 0;
    for (int i = 0; i < n && o + 64 < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%d:%s%d parts/%d assigns/%d revokes",
                              i ? "; " : "", i, h[i].alive ? "" : "(dead) ", h[i].n, h[i].assigns,
                              h[i].revokes);
}

/* ---- 1: join ---- */

typedef struct join_run join_run_t;

typedef struct jmember {
    join_run_t *run;
    int idx;
    rd_kafka_t *rk;
    pthread_t th;
} jmember_t;

struct join_run {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    holder_t h[MAX_MEMBERS];
    jmember_t m[MAX_MEMBERS];
    int n;
    volatile int stop;
    int errors;
    char first_err[300];
};

static void join_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                              rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    jmember_t *m = opaque;
    join_run_t *r = m->run;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_assign(rk, parts);
        pthread_mutex_lock(&r->mu);
        holder_t *h = &r->h[m->idx];
        h->n = 0;
        for (int i = 0; i < parts->cnt && h->n < MAX_PARTS; i++)
            h->p[h->n++] = (int16_t)parts->elems[i].partition;
        h->assigns++;
        h->changed_ns = now_ns();
        if (!h->first_ns)
            h->first_ns = h->changed_ns;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
        return;
    }
    /* Recorded before the unassign: the member rejoins only after it. */
    pthread_mutex_lock(&r->mu);
    r->h[m->idx].n = 0;
    r->h[m->idx].revokes++;
    if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS && !r->errors++)
        snprintf(r->first_err, sizeof r->first_err, "member %d: rebalance error %s", m->idx,
                 rd_kafka_err2name(err));
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    rd_kafka_assign(rk, NULL);
}

static void *join_member_main(void *arg)
{
    jmember_t *m = arg;
    join_run_t *r = m->run;
    while (!r->stop) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(m->rk, 50);
        if (!msg)
            continue;
        if (msg->err && msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            pthread_mutex_lock(&r->mu);
            if (!r->errors++)
                snprintf(r->first_err, sizeof r->first_err, "member %d: consumer error %s: %s",
                         m->idx, rd_kafka_err2name(msg->err), rd_kafka_message_errstr(msg));
            pthread_mutex_unlock(&r->mu);
        }
        rd_kafka_message_destroy(msg);
    }
    rd_kafka_consumer_close(m->rk);
    rd_kafka_destroy(m->rk);
    return NULL;
}

typedef struct join_result {
    double ms;       /* first subscribe -> all settled */
    double first_ms; /* first subscribe -> first member assigned */
    int assigns;     /* assignment callbacks on the way (one rebalance: one per member) */
    double close_s;
} join_result_t;

static int join_run(const target_t *t, const char *group, join_result_t *res)
{
    join_run_t *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&r->mu, NULL);
    r->n = O.members;
    int rc = -1, started = 0, created = 0;
    for (int i = 0; i < r->n; i++) {
        jmember_t *m = &r->m[i];
        char cid[64];
        snprintf(cid, sizeof cid, "%s-m%d", t->name, i);
        m->run = r;
        m->idx = i;
        r->h[i].alive = 1;
        rd_kafka_conf_t *c = consumer_conf(t->bootstrap, cid, group, O.debug && t->is_eddy);
        rd_kafka_conf_set_rebalance_cb(c, join_rebalance_cb);
        rd_kafka_conf_set_opaque(c, m);
        m->rk = client_new(RD_KAFKA_CONSUMER, c);
        rd_kafka_poll_set_consumer(m->rk);
        /* Connect before the timer starts. */
        const struct rd_kafka_metadata *md;
        rd_kafka_resp_err_t err = rd_kafka_metadata(m->rk, 0, NULL, &md, 10000);
        if (err) {
            fail("%s: member %d: Metadata: %s", t->name, i, rd_kafka_err2str(err));
            rd_kafka_destroy(m->rk);
            goto out;
        }
        rd_kafka_metadata_destroy(md);
        created++;
    }
    for (; started < r->n; started++)
        if (pthread_create(&r->m[started].th, NULL, join_member_main, &r->m[started])) {
            fail("pthread_create failed");
            goto out;
        }
    int64_t t0 = now_ns();
    for (int i = 0; i < r->n; i++)
        if (subscribe(r->m[i].rk, JOIN_TOPIC) < 0) {
            fail("%s: member %d: subscribe failed", t->name, i);
            goto out;
        }
    int64_t deadline = t0 + (int64_t)JOIN_TIMEOUT_MS * 1000000;
    struct timespec dl = {deadline / 1000000000, deadline % 1000000000};
    pthread_mutex_lock(&r->mu);
    int ok;
    while (!(ok = settled(r->h, r->n, O.parts)) && !r->errors)
        if (pthread_cond_timedwait(&r->cv, &r->mu, &dl) == ETIMEDOUT)
            break;
    ok = settled(r->h, r->n, O.parts);
    int64_t last = 0, first = INT64_MAX;
    int assigns = 0;
    for (int i = 0; i < r->n; i++) {
        if (r->h[i].changed_ns > last)
            last = r->h[i].changed_ns;
        assigns += r->h[i].assigns;
    }
    for (int i = 0; i < r->n; i++)
        if (r->h[i].first_ns && r->h[i].first_ns < first)
            first = r->h[i].first_ns;
    char desc[2048];
    describe_holders(r->h, r->n, desc, sizeof desc);
    if (r->errors)
        fail("%s: group %s: %s", t->name, group, r->first_err);
    else if (!ok)
        fail("%s: group %s: %d members not settled on %d partitions %d s after subscribing "
             "(member:partitions held/assignments/revocations: %s); -D shows debug=%s",
             t->name, group, r->n, O.parts, JOIN_TIMEOUT_MS / 1000, desc, DEBUG_CONTEXTS);
    else {
        res->ms = (double)(last - t0) / 1e6;
        res->first_ms = (double)(first - t0) / 1e6;
        res->assigns = assigns;
        rc = 0;
    }
    pthread_mutex_unlock(&r->mu);
out:;
    int64_t c0 = now_ns();
    r->stop = 1;
    for (int i = 0; i < started; i++)
        pthread_join(r->m[i].th, NULL);
    for (int i = started; i < created; i++) /* no thread: not subscribed either */
        rd_kafka_destroy(r->m[i].rk);
    res->close_s = (double)(now_ns() - c0) / 1e9;
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
    return rc;
}

/* ---- 2: failover (member processes) ---- */

static volatile sig_atomic_t g_member_stop;

static void on_sigterm(int sig)
{
    g_member_stop = 1;
}

static int g_member_fd = -1, g_member_idx;

static void member_report(const char *fmt, ...)
{
    char line[1024];
    int o = snprintf(line, sizeof line, "%d %" PRId64 " ", g_member_idx, now_ns());
    va_list ap;
    va_start(ap, fmt);
    o += vsnprintf(line + o, sizeof line - (size_t)o - 1, fmt, ap);
    va_end(ap);
    if (o > (int)sizeof line - 2)
        o = (int)sizeof line - 2;
    line[o++] = '\n';
    /* One write below PIPE_BUF: atomic, so lines of members never mix. */
    if (write(g_member_fd, line, (size_t)o) != o)
        _exit(3);
}

static void member_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_assign(rk, parts);
        char list[1024];
        size_t o = 0;
        list[0] = 0;
        for (int i = 0; i < parts->cnt && o + 8 < sizeof list; i++)
            o += (size_t)snprintf(list + o, sizeof list - o, " %d", (int)parts->elems[i].partition);
        member_report("A%s", list);
        return;
    }
    /* Reported before the unassign: the member rejoins only after it. */
    if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
        member_report("R");
    else
        member_report("E %s", rd_kafka_err2name(err));
    rd_kafka_assign(rk, NULL);
}

/* bench_groups --member BOOTSTRAP GROUP TOPIC IDX FD SESSION_MS DEBUG NAME [-X k=v]... */
static int member_main(int argc, char **argv)
{
    if (argc < 10) {
        fprintf(stderr, "bench_groups --member: bad arguments\n");
        return 2;
    }
    const char *bootstrap = argv[2], *group = argv[3], *topic = argv[4];
    g_member_idx = atoi(argv[5]);
    g_member_fd = atoi(argv[6]);
    const char *session = argv[7], *name = argv[9];
    int debug = atoi(argv[8]);
    for (int i = 10; i + 1 < argc && O.nextra < 16; i += 2)
        if (!strcmp(argv[i], "-X"))
            O.extra[O.nextra++] = argv[i + 1];
    signal(SIGTERM, on_sigterm);
    signal(SIGINT, on_sigterm);
    alarm(300); /* never outlive a stuck parent for long */
    char cid[64];
    snprintf(cid, sizeof cid, "%s-m%d", name, g_member_idx);
    rd_kafka_conf_t *c = consumer_conf(bootstrap, cid, group, debug);
    conf_set(c, "session.timeout.ms", session);
    rd_kafka_conf_set_rebalance_cb(c, member_rebalance_cb);
    rd_kafka_t *rk = client_new(RD_KAFKA_CONSUMER, c);
    rd_kafka_poll_set_consumer(rk);
    if (subscribe(rk, topic) < 0)
        return 1;
    member_report("S");
    while (!g_member_stop) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(rk, 100);
        if (!msg)
            continue;
        if (msg->err && msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            member_report("E %s", rd_kafka_err2name(msg->err));
        rd_kafka_message_destroy(msg);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return 0;
}

typedef struct fleet {
    int n;
    pid_t pid[MAX_MEMBERS];
    holder_t h[MAX_MEMBERS];
    int rfd;
    char buf[65536];
    size_t len;
    int64_t first_revoke_ns; /* after mark_ns, by a live member */
    int64_t mark_ns;
    int errors;
} fleet_t;

static char g_self[4096];

static void fleet_line(fleet_t *f, char *line, const target_t *t)
{
    char *p = line, *end;
    long idx = strtol(p, &end, 10);
    if (end == p || idx < 0 || idx >= f->n) {
        fprintf(stderr, "bench_groups: %s: bad line from a member: %s\n", t->name, line);
        return;
    }
    p = end;
    int64_t ts = strtoll(p, &end, 10);
    p = end;
    while (*p == ' ')
        p++;
    holder_t *h = &f->h[idx];
    switch (*p) {
    case 'S': break;
    case 'A':
        h->n = 0;
        p++;
        for (;;) {
            long v = strtol(p, &end, 10);
            if (end == p || h->n >= MAX_PARTS)
                break;
            h->p[h->n++] = (int16_t)v;
            p = end;
        }
        h->assigns++;
        h->changed_ns = ts;
        break;
    case 'R':
        h->n = 0;
        h->revokes++;
        if (h->alive && f->mark_ns && ts >= f->mark_ns && !f->first_revoke_ns)
            f->first_revoke_ns = ts;
        break;
    default:
        if (!f->errors++)
            fprintf(stderr, "bench_groups: %s: member %ld: %s\n", t->name, idx, p);
        h->n = 0;
        break;
    }
}

/* Reads member reports until the live members have settled (unless
 * full) or deadline (ns); returns 1 settled, 0 not, -1 on a pipe error. */
static int fleet_read(fleet_t *f, const target_t *t, int64_t deadline, int full)
{
    for (;;) {
        if (!full && settled(f->h, f->n, O.parts))
            return 1;
        int64_t left = deadline - now_ns();
        if (left <= 0)
            return settled(f->h, f->n, O.parts);
        struct pollfd pfd = {.fd = f->rfd, .events = POLLIN};
        int pr = poll(&pfd, 1, (int)(left / 1000000) + 1);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            return -1;
        if (pr == 0)
            continue;
        ssize_t got = read(f->rfd, f->buf + f->len, sizeof f->buf - 1 - f->len);
        if (got <= 0) {
            fail("%s: member pipe closed (all members exited?)", t->name);
            return -1;
        }
        f->len += (size_t)got;
        f->buf[f->len] = 0;
        char *s = f->buf, *nl;
        while ((nl = strchr(s, '\n'))) {
            *nl = 0;
            fleet_line(f, s, t);
            s = nl + 1;
        }
        f->len -= (size_t)(s - f->buf);
        memmove(f->buf, s, f->len);
        if (f->len >= sizeof f->buf - 1)
            f->len = 0; /* no newline in 64 KB: drop */
    }
}

static int fleet_wait(fleet_t *f, const target_t *t, int64_t deadline)
{
    return fleet_read(f, t, deadline, 0);
}

static void fleet_stop(fleet_t *f)
{
    for (int i = 0; i < f->n; i++)
        if (f->pid[i] > 0)
            kill(f->pid[i], SIGTERM);
    int64_t deadline = now_ns() + 10 * 1000000000LL;
    for (int i = 0; i < f->n; i++) {
        if (f->pid[i] <= 0)
            continue;
        int st;
        while (waitpid(f->pid[i], &st, WNOHANG) == 0) {
            if (now_ns() > deadline) {
                fprintf(stderr,
                        "bench_groups: member %d (pid %d) still running 10 s after "
                        "SIGTERM; killing it\n",
                        i, (int)f->pid[i]);
                kill(f->pid[i], SIGKILL);
                waitpid(f->pid[i], &st, 0);
                break;
            }
            sleep_ms(20);
        }
        f->pid[i] = 0;
    }
    if (f->rfd >= 0)
        close(f->rfd);
    f->rfd = -1;
}

typedef struct fo_result {
    double join_s;   /* members started -> settled (includes process start) */
    double seen_s;   /* kill -> first survivor revocation */
    double total_s;  /* kill -> survivors settled */
    int victim;
} fo_result_t;

static int failover_run(const target_t *t, const char *group, int victim, int wait_ms,
                        fo_result_t *res)
{
    fleet_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->n = O.members;
    f->rfd = -1;
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        fail("pipe: %s", strerror(errno));
        free(f);
        return -1;
    }
    f->rfd = pfd[0];
    int rc = -1;
    char a_idx[16], a_fd[16], a_sess[16], a_dbg[4];
    snprintf(a_fd, sizeof a_fd, "%d", pfd[1]);
    snprintf(a_sess, sizeof a_sess, "%d", O.session_ms);
    snprintf(a_dbg, sizeof a_dbg, "%d", O.debug && t->is_eddy);
    int64_t t0 = now_ns();
    for (int i = 0; i < f->n; i++) {
        snprintf(a_idx, sizeof a_idx, "%d", i);
        char *argv[10 + 2 * 16 + 1];
        int a = 0;
        argv[a++] = g_self;
        argv[a++] = "--member";
        argv[a++] = (char *)t->bootstrap;
        argv[a++] = (char *)group;
        argv[a++] = JOIN_TOPIC;
        argv[a++] = a_idx;
        argv[a++] = a_fd;
        argv[a++] = a_sess;
        argv[a++] = a_dbg;
        argv[a++] = (char *)t->name;
        for (int k = 0; k < O.nextra; k++) {
            argv[a++] = "-X";
            argv[a++] = (char *)O.extra[k];
        }
        argv[a] = NULL;
        pid_t pid = fork();
        if (pid < 0) {
            fail("fork: %s", strerror(errno));
            goto out;
        }
        if (pid == 0) {
            /* Only async-signal-safe calls until exec. */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            fcntl(pfd[1], F_SETFD, 0);
            execv(g_self, argv);
            _exit(127);
        }
        f->pid[i] = pid;
        f->h[i].alive = 1;
    }
    close(pfd[1]);
    pfd[1] = -1;
    int s = fleet_wait(f, t, t0 + (int64_t)JOIN_TIMEOUT_MS * 1000000);
    char desc[2048];
    if (s != 1) {
        describe_holders(f->h, f->n, desc, sizeof desc);
        if (s == 0)
            fail("%s: group %s: %d member processes not settled %d s after start (%s); -D "
                 "shows debug=%s",
                 t->name, group, f->n, JOIN_TIMEOUT_MS / 1000, desc, DEBUG_CONTEXTS);
        goto out;
    }
    res->join_s = (double)(now_ns() - t0) / 1e9;
    /* Let the group run stable for a while (heartbeats flowing), and make
     * sure it still is at the kill. The wait sets where the kill falls
     * between two heartbeats (the members heartbeat in step: they got their
     * assignments at the same moment). */
    if (fleet_read(f, t, now_ns() + (int64_t)wait_ms * 1000000, 1) < 0)
        goto out;
    if (fleet_wait(f, t, now_ns() + (int64_t)JOIN_TIMEOUT_MS * 1000000) != 1) {
        fail("%s: group %s did not stay stable before the kill", t->name, group);
        goto out;
    }
    f->mark_ns = now_ns();
    f->first_revoke_ns = 0;
    kill(f->pid[victim], SIGKILL);
    if (O.debug) {
        struct timespec wall;
        clock_gettime(CLOCK_REALTIME, &wall);
        fprintf(stderr, "bench_groups: %s: SIGKILL to member %d (pid %d) at %ld.%03ld\n", t->name,
                victim, (int)f->pid[victim], (long)wall.tv_sec, wall.tv_nsec / 1000000);
    }
    f->h[victim].alive = 0;
    f->h[victim].n = 0;
    int64_t tk = f->mark_ns;
    int st;
    waitpid(f->pid[victim], &st, 0);
    f->pid[victim] = 0;
    s = fleet_wait(f, t, tk + (int64_t)FAILOVER_TIMEOUT_MS * 1000000);
    if (s != 1) {
        describe_holders(f->h, f->n, desc, sizeof desc);
        if (s == 0)
            fail("%s: group %s: survivors did not own every partition again within %d s of "
                 "the kill (%s); -D shows debug=%s",
                 t->name, group, FAILOVER_TIMEOUT_MS / 1000, desc, DEBUG_CONTEXTS);
        goto out;
    }
    int64_t last = 0;
    for (int i = 0; i < f->n; i++)
        if (f->h[i].alive && f->h[i].changed_ns > last)
            last = f->h[i].changed_ns;
    res->total_s = (double)(last - tk) / 1e9;
    res->seen_s = f->first_revoke_ns ? (double)(f->first_revoke_ns - tk) / 1e9 : -1;
    res->victim = victim;
    rc = 0;
out:
    if (pfd[1] >= 0)
        close(pfd[1]);
    fleet_stop(f);
    free(f);
    return rc;
}

/* ---- 3: commits ---- */

typedef struct commit_state {
    volatile int assigned;
} commit_state_t;

static void commit_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    commit_state_t *cs = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_assign(rk, parts);
        cs->assigned = parts->cnt;
    } else {
        cs->assigned = 0;
        rd_kafka_assign(rk, NULL);
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct commit_result {
    double sync_rate, async_rate;
    double sync_p50_ms, sync_p99_ms, sync_max_ms;
} commit_result_t;

/* The committed offset of COMMIT_TOPIC-0, read back from the coordinator. */
static int check_committed(const target_t *t, rd_kafka_t *rk, int64_t want, const char *what)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, COMMIT_TOPIC, 0);
    rd_kafka_resp_err_t err = rd_kafka_committed(rk, l, 10000);
    int rc = -1;
    if (err)
        fail("%s: %s: OffsetFetch: %s", t->name, what, rd_kafka_err2str(err));
    else if (l->elems[0].err)
        fail("%s: %s: OffsetFetch: %s", t->name, what, rd_kafka_err2str(l->elems[0].err));
    else if (l->elems[0].offset != want)
        fail("%s: %s: committed offset reads back as %" PRId64 ", last committed %" PRId64, t->name,
             what, l->elems[0].offset, want);
    else
        rc = 0;
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

static int commit_run(const target_t *t, const char *group, commit_result_t *res)
{
    commit_state_t cs = {0};
    char cid[64];
    snprintf(cid, sizeof cid, "%s-committer", t->name);
    rd_kafka_conf_t *c = consumer_conf(t->bootstrap, cid, group, O.debug && t->is_eddy);
    rd_kafka_conf_set_rebalance_cb(c, commit_rebalance_cb);
    rd_kafka_conf_set_opaque(c, &cs);
    rd_kafka_t *rk = client_new(RD_KAFKA_CONSUMER, c);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, COMMIT_TOPIC, 0);
    size_t cap = 4000000;
    int64_t *lat = malloc(cap * sizeof *lat);
    int rc = -1;
    if (!lat || subscribe(rk, COMMIT_TOPIC) < 0)
        goto out;
    int64_t deadline = now_ns() + (int64_t)JOIN_TIMEOUT_MS * 1000000;
    while (!cs.assigned && now_ns() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 50);
        if (m)
            rd_kafka_message_destroy(m);
    }
    if (!cs.assigned) {
        fail("%s: committer not assigned %s within %d s; -D shows debug=%s", t->name, COMMIT_TOPIC,
             JOIN_TIMEOUT_MS / 1000, DEBUG_CONTEXTS);
        goto out;
    }

    /* Synchronous. */
    int64_t off = 0, errs = 0;
    size_t n = 0;
    rd_kafka_resp_err_t first_err = 0;
    int64_t t0 = now_ns(), end = t0 + (int64_t)O.commit_secs * 1000000000;
    int64_t t1 = t0;
    while (t1 < end) {
        l->elems[0].offset = ++off;
        rd_kafka_resp_err_t err = rd_kafka_commit(rk, l, 0);
        int64_t t2 = now_ns();
        if (err) {
            if (!errs++)
                first_err = err;
            if (errs > 100)
                break;
        } else if (n < cap) {
            lat[n++] = t2 - t1;
        }
        t1 = t2;
        if ((off & 255) == 0) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 0);
            if (m)
                rd_kafka_message_destroy(m);
        }
    }
    if (errs) {
        fail("%s: %" PRId64 " of %" PRId64 " synchronous commits failed (first: %s)", t->name, errs,
             off, rd_kafka_err2name(first_err));
        goto out;
    }
    res->sync_rate = (double)off / ((double)(t1 - t0) / 1e9);
    qsort(lat, n, sizeof *lat, cmp_i64);
    res->sync_p50_ms = n ? (double)lat[n / 2] / 1e6 : 0;
    res->sync_p99_ms = n ? (double)lat[n * 99 / 100] / 1e6 : 0;
    res->sync_max_ms = n ? (double)lat[n - 1] / 1e6 : 0;
    if (check_committed(t, rk, off, "after the synchronous commits") < 0)
        goto out;

    /* Asynchronous, at most O.inflight in flight, results on our own queue. */
    int inflight = 0;
    int64_t done = 0, sent = 0;
    errs = 0;
    t0 = now_ns();
    end = t0 + (int64_t)O.commit_secs * 1000000000;
    int64_t drain_deadline = end + 30 * 1000000000LL;
    int64_t t_end = 0;
    for (;;) {
        int64_t now = now_ns();
        if (now < end && inflight < O.inflight) {
            l->elems[0].offset = ++off;
            rd_kafka_resp_err_t err = rd_kafka_commit_queue(rk, l, q, NULL, NULL);
            if (err) {
                fail("%s: rd_kafka_commit_queue: %s", t->name, rd_kafka_err2name(err));
                goto out;
            }
            inflight++;
            sent++;
            continue;
        }
        if (now >= end && !t_end)
            t_end = now;
        if (!inflight)
            break;
        if (now > drain_deadline) {
            fail("%s: %d asynchronous commits without an answer 30 s after the last was sent",
                 t->name, inflight);
            goto out;
        }
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 100);
        if (!ev)
            continue;
        if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_OFFSET_COMMIT) {
            inflight--;
            done++;
            rd_kafka_resp_err_t err = rd_kafka_event_error(ev);
            const rd_kafka_topic_partition_list_t *rl = rd_kafka_event_topic_partition_list(ev);
            if (!err && rl && rl->cnt == 1)
                err = rl->elems[0].err;
            if (err && !errs++)
                first_err = err;
        }
        rd_kafka_event_destroy(ev);
    }
    int64_t t_drained = now_ns();
    if (errs) {
        fail("%s: %" PRId64 " of %" PRId64 " asynchronous commits failed (first: %s)", t->name,
             errs, sent, rd_kafka_err2name(first_err));
        goto out;
    }
    /* Commits answered per second of the whole run, the drain included. */
    res->async_rate = (double)done / ((double)(t_drained - t0) / 1e9);
    if (check_committed(t, rk, off, "after the asynchronous commits") < 0)
        goto out;
    rc = 0;
out:
    free(lat);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_queue_destroy(q);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}

/* ---- main ---- */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bench_groups -b HOST:PORT [-B HOST:PORT] [options]\n"
            "  -b HOST:PORT  Eddy broker started with group.initial.rebalance.delay.ms=0\n"
            "                (parts 1, 2, 3)\n"
            "  -B HOST:PORT  Eddy broker with the default delay (3000): part 1 only\n"
            "  -m N          members (10; 2..%d)\n"
            "  -P N          partitions of the group's topic (20; >= members, <= %d)\n"
            "  -r N          join rounds at delay 0 (5; 1..%d)\n"
            "  -R N          join rounds at delay 3000, Eddy and mock each (3; 0..%d)\n"
            "  -f N          failover rounds, Eddy and mock each (2; 0..%d)\n"
            "  -S MS         failover: session.timeout.ms (6000)\n"
            "  -d S          commits: seconds per mode (5)\n"
            "  -a N          commits: asynchronous commits in flight at most (32)\n"
            "  -s PARTS      parts to run, e.g. 13 (123)\n"
            "  -X KEY=VALUE  a librdkafka setting for every client (repeatable; the settings\n"
            "                named above win)\n"
            "  -D            librdkafka debug=%s on clients of the Eddy brokers\n",
            MAX_MEMBERS, MAX_PARTS, MAX_ROUNDS, MAX_ROUNDS, MAX_ROUNDS, DEBUG_CONTEXTS);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--member"))
        return member_main(argc, argv);
    int opt;
    while ((opt = getopt(argc, argv, "b:B:m:P:r:R:f:S:d:a:s:X:Dh")) != -1) {
        switch (opt) {
        case 'b': O.eddy0 = optarg; break;
        case 'B': O.eddy3000 = optarg; break;
        case 'm': O.members = atoi(optarg); break;
        case 'P': O.parts = atoi(optarg); break;
        case 'r': O.rounds0 = atoi(optarg); break;
        case 'R': O.rounds3000 = atoi(optarg); break;
        case 'f': O.fo_rounds = atoi(optarg); break;
        case 'S': O.session_ms = atoi(optarg); break;
        case 'd': O.commit_secs = atoi(optarg); break;
        case 'a': O.inflight = atoi(optarg); break;
        case 's': O.which = optarg; break;
        case 'X':
            if (O.nextra < 16)
                O.extra[O.nextra++] = optarg;
            break;
        case 'D': O.debug = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!O.eddy0 || O.members < 2 || O.members > MAX_MEMBERS || O.parts < O.members ||
        O.parts > MAX_PARTS || O.rounds0 < 1 || O.rounds0 > MAX_ROUNDS || O.rounds3000 < 0 ||
        O.rounds3000 > MAX_ROUNDS || O.fo_rounds < 0 || O.fo_rounds > MAX_ROUNDS ||
        O.session_ms < 1 || O.commit_secs < 1 || O.inflight < 1) {
        usage(stderr);
        return 2;
    }
    int p1 = !!strchr(O.which, '1'), p2 = !!strchr(O.which, '2'), p3 = !!strchr(O.which, '3');
    setvbuf(stdout, NULL, _IOLBF, 0);
    ssize_t sl = readlink("/proc/self/exe", g_self, sizeof g_self - 1);
    if (sl <= 0) {
        fprintf(stderr, "bench_groups: readlink /proc/self/exe: %s\n", strerror(errno));
        return 1;
    }
    g_self[sl] = 0;
    signal(SIGPIPE, SIG_IGN);

    printf("bench_groups: librdkafka %s; eddy delay 0 at %s, delay 3000 at %s; %d members, "
           "%d partitions; %ld CPUs\n",
           rd_kafka_version_str(), O.eddy0, O.eddy3000 ? O.eddy3000 : "(none)", O.members, O.parts,
           sysconf(_SC_NPROCESSORS_ONLN));

    /* The reference: librdkafka's mock cluster, one broker, in this process. */
    char err[512];
    rd_kafka_conf_t *hc = rd_kafka_conf_new();
    rd_kafka_conf_set(hc, "client.id", "mock-host", err, sizeof err);
    rd_kafka_conf_set(hc, "log_level", "3", err, sizeof err);
    rd_kafka_t *host = client_new(RD_KAFKA_PRODUCER, hc);
    target_t eddy = {.name = "eddy", .is_eddy = 1};
    target_t eddy3 = {.name = "eddy-3000", .is_eddy = 1};
    target_t mock = {.name = "mock"};
    snprintf(eddy.bootstrap, sizeof eddy.bootstrap, "%s", O.eddy0);
    if (O.eddy3000)
        snprintf(eddy3.bootstrap, sizeof eddy3.bootstrap, "%s", O.eddy3000);
    mock.mock = rd_kafka_mock_cluster_new(host, 1);
    if (!mock.mock) {
        fprintf(stderr, "bench_groups: rd_kafka_mock_cluster_new failed\n");
        return 1;
    }
    snprintf(mock.bootstrap, sizeof mock.bootstrap, "%s",
             rd_kafka_mock_cluster_bootstraps(mock.mock));
    printf("mock cluster at %s\n", mock.bootstrap);

    char summary[8][700];
    int ns = 0;
    int pid = (int)getpid();

    target_t *all[3] = {&eddy, &mock, O.eddy3000 ? &eddy3 : NULL};
    for (int i = 0; i < 3; i++)
        if (all[i] && (create_topic(all[i], JOIN_TOPIC, O.parts) < 0 ||
                       create_topic(all[i], COMMIT_TOPIC, 1) < 0))
            goto done;

    /* ---- 1: join ---- */
    if (p1) {
        printf("\n== 1. join: %d consumers (threads) subscribe at once to a %d-partition topic, "
               "fresh group each round; first subscribe -> all assigned\n",
               O.members, O.parts);
        double j0[MAX_ROUNDS], j0a[MAX_ROUNDS], j3[MAX_ROUNDS], jm[MAX_ROUNDS], jr[MAX_ROUNDS];
        int n0 = 0, n3 = 0, nm = 0, nr = 0;
        for (int rd = 0; rd < O.rounds0; rd++) {
            char group[96];
            snprintf(group, sizeof group, "bench-join-eddy0-%d-%d", pid, rd);
            join_result_t r = {0};
            if (join_run(&eddy, group, &r) < 0)
                goto done;
            j0[n0] = r.ms;
            j0a[n0++] = r.assigns;
            printf("eddy delay 0    round %d: %8.1f ms (first assignment after %.1f ms; "
                   "%d assignment callbacks; close %.2f s)\n",
                   rd + 1, r.ms, r.first_ms, r.assigns, r.close_s);
        }
        for (int rd = 0; rd < O.rounds3000; rd++) {
            for (int k = 0; k < 2; k++) {
                int s = rd % 2 ? 1 - k : k; /* 0 eddy-3000, 1 mock */
                target_t *t = s == 0 ? &eddy3 : &mock;
                if (s == 0 && !O.eddy3000)
                    continue;
                char group[96];
                snprintf(group, sizeof group, "bench-join-%s-%d-%d", t->name, pid, rd);
                join_result_t r = {0};
                if (join_run(t, group, &r) < 0)
                    goto done;
                if (s == 0)
                    j3[n3++] = r.ms;
                else
                    jm[nm++] = r.ms;
                printf("%-4s delay 3000 round %d: %8.1f ms (first assignment after %.1f ms; %d "
                       "assignment callbacks; close %.2f s)\n",
                       s == 0 ? "eddy" : "mock", rd + 1, r.ms, r.first_ms, r.assigns, r.close_s);
            }
            if (O.eddy3000) {
                jr[nr] = j3[nr] / jm[nr];
                nr++;
            }
        }
        double m0 = median(j0, n0), m3 = median(j3, n3), mm = median(jm, nm);
        char e3[200] = "", mk[260] = "";
        if (n3)
            snprintf(e3, sizeof e3,
                     "delay 3000 (default): eddy %.0f ms (%.0f ms beyond the "
                     "3000); ",
                     m3, m3 - 3000);
        if (nm)
            snprintf(mk, sizeof mk,
                     "mock (its first join always waits %d ms) %.0f ms (%.0f ms beyond); "
                     "ratio eddy/mock at delay 3000: %.2f; eddy at delay 0 / mock: %.2f",
                     MOCK_FIRST_JOIN_MS, mm, mm - MOCK_FIRST_JOIN_MS, nr ? median(jr, nr) : 0,
                     ratio(m0, mm));
        snprintf(summary[ns++], sizeof summary[0],
                 "join, %d members to a %d-partition topic, all assigned (median; %d/%d "
                 "rounds): delay 0: eddy %.1f ms (%.0f assignment callbacks; %d per rebalance); "
                 "%s%s",
                 O.members, O.parts, n0, n3 ? n3 : nm, m0, median(j0a, n0), O.members, e3, mk);
        printf("%s\n", summary[ns - 1]);
    }

    /* ---- 2: failover ---- */
    if (p2 && O.fo_rounds > 0) {
        printf("\n== 2. failover: %d member processes, session.timeout.ms=%d, "
               "heartbeat.interval.ms default (3000); kill -9 of one -> survivors own all %d "
               "partitions again\n",
               O.members, O.session_ms, O.parts);
        double fe[MAX_ROUNDS], fm[MAX_ROUNDS], fse[MAX_ROUNDS], fsm[MAX_ROUNDS], fr[MAX_ROUNDS];
        int ne = 0, nm = 0, nr = 0;
        for (int rd = 0; rd < O.fo_rounds; rd++) {
            int victim = rd % 2 ? 0 : O.members - 1;
            int wait_ms = rd % 2 ? 2500 : 1000;
            for (int k = 0; k < 2; k++) {
                int s = rd % 2 ? 1 - k : k;
                target_t *t = s == 0 ? &eddy : &mock;
                char group[96];
                snprintf(group, sizeof group, "bench-failover-%s-%d-%d", t->name, pid, rd);
                fo_result_t r = {0};
                int before = g_failed;
                if (failover_run(t, group, victim, wait_ms, &r) < 0) {
                    if (s == 0)
                        goto done;
                    g_failed = before; /* the reference's trouble is not Eddy's failure */
                    printf("mock round %d: no figure (see above)\n", rd + 1);
                    continue;
                }
                if (s == 0) {
                    fse[ne] = r.seen_s;
                    fe[ne++] = r.total_s;
                } else {
                    fsm[nm] = r.seen_s;
                    fm[nm++] = r.total_s;
                }
                printf("%-4s round %d: killed member %d %.1f s after the group settled; first "
                       "survivor revoked after %.2f s; all partitions owned again after %.2f s "
                       "(group formed in %.2f s)\n",
                       t->name, rd + 1, r.victim, wait_ms / 1000.0, r.seen_s, r.total_s, r.join_s);
            }
            if (ne == rd + 1 && nm == rd + 1)
                fr[nr++] = fe[rd] / fm[rd];
        }
        char mk[200] = "(no mock figure)";
        if (nm)
            snprintf(mk, sizeof mk, "mock %.2f s (revoke after %.2f s); ratio eddy/mock %.2f",
                     median(fm, nm), median(fsm, nm), nr ? median(fr, nr) : 0);
        snprintf(summary[ns++], sizeof summary[0],
                 "failover after kill -9 of 1 of %d members (session.timeout.ms=%d; median of %d "
                 "rounds): eddy %.2f s (survivors told to rebalance after %.2f s); %s",
                 O.members, O.session_ms, ne, median(fe, ne), median(fse, ne), mk);
        printf("%s\n", summary[ns - 1]);
    }

    /* ---- 3: commits ---- */
    if (p3) {
        printf("\n== 3. commits: one consumer, one partition, %d s synchronous "
               "(rd_kafka_commit) then %d s asynchronous (<= %d in flight)\n",
               O.commit_secs, O.commit_secs, O.inflight);
        commit_result_t cr[2];
        target_t *sides[2] = {&eddy, &mock};
        int have[2] = {0, 0};
        for (int s = 0; s < 2; s++) {
            char group[96];
            snprintf(group, sizeof group, "bench-commit-%s-%d", sides[s]->name, pid);
            memset(&cr[s], 0, sizeof cr[s]);
            int before = g_failed;
            if (commit_run(sides[s], group, &cr[s]) < 0) {
                if (s == 0)
                    goto done;
                g_failed = before;
                printf("mock: no figure (see above)\n");
                continue;
            }
            have[s] = 1;
            printf("%-4s sync %7s commits/s (latency p50 %.3f ms, p99 %.3f ms, max %.2f ms); "
                   "async %7s commits/s\n",
                   sides[s]->name, commas(cr[s].sync_rate), cr[s].sync_p50_ms, cr[s].sync_p99_ms,
                   cr[s].sync_max_ms, commas(cr[s].async_rate));
        }
        char mk[240] = "(no mock figure)";
        if (have[1])
            snprintf(mk, sizeof mk,
                     "mock sync %s/s (p50 %.3f ms), async %s/s; ratio eddy/mock sync %.2f, "
                     "async %.2f",
                     commas(cr[1].sync_rate), cr[1].sync_p50_ms, commas(cr[1].async_rate),
                     ratio(cr[0].sync_rate, cr[1].sync_rate),
                     ratio(cr[0].async_rate, cr[1].async_rate));
        snprintf(summary[ns++], sizeof summary[0],
                 "offset commits, 1 partition, %d s each: eddy sync %s/s (p50 %.3f ms, p99 %.3f "
                 "ms), async (<= %d in flight) %s/s; %s",
                 O.commit_secs, commas(cr[0].sync_rate), cr[0].sync_p50_ms, cr[0].sync_p99_ms,
                 O.inflight, commas(cr[0].async_rate), mk);
        printf("%s\n", summary[ns - 1]);
    }

done:
    printf("\n== summary\n");
    for (int i = 0; i < ns; i++)
        printf("%s\n", summary[i]);
    if (g_failed)
        printf("(a call failed, a group did not settle in time or an offset read back wrong: see "
               "the messages above)\n");
    rd_kafka_mock_cluster_destroy(mock.mock);
    rd_kafka_destroy(host);
    return g_failed ? 1 : 0;
}

/* bench_broker: librdkafka clients against an Eddy broker process, each
 * figure next to the same client code against librdkafka's in-process mock
 * cluster (rd_kafka_mock_cluster_new, one broker) measured in the same run.
 *
 *   1. Produce. N records of 100 bytes (no key) to a 4-partition topic,
 *      acks=1, linger.ms=5, batch.size default, one fresh producer per run,
 *      timed from the first produce() call to the end of rd_kafka_flush().
 *      One uncounted warm-up round, then R rounds; each round runs both
 *      sides, the order flipping every round. Figure: median records/s of
 *      each side, and the median of the per-round ratios eddy/mock.
 *   2. Consume. The legacy consumer (rd_kafka_consume_start_queue, every
 *      partition from OFFSET_BEGINNING into one queue, no group) reads
 *      C records. The mock keeps only 5 MiB per partition, so it cannot hold
 *      1,000,000 records in 4 partitions: the comparison uses a 32-partition
 *      topic filled with C records on both sides. The 4-partition produce
 *      topic of Eddy is read too (the headline Eddy figure). The consumer's
 *      queue limits are raised (see consumer_open) so that librdkafka's
 *      fixed 1 s pause on a full queue does not enter the figures.
 *   3. Latency. A producer thread paces records at a fixed rate (default
 *      50,000/s) for a warm-up second plus D seconds; a consumer thread
 *      (fetch.wait.max.ms=10, fetch.min.bytes=1) reads them. The send time
 *      (CLOCK_MONOTONIC ns) travels in the payload; latency is receipt minus
 *      send. Figures: p50, p99, p99.9, max, and the produce ack. Eddy runs
 *      alone at linger.ms=0 (the mock cannot keep up with such small
 *      batches, see main), then both sides at linger.ms=1 (-L).
 *   4. Broker CPU per million records produced: utime+stime (and stime
 *      alone) of the Eddy process (/proc/PID/stat) around each produce run;
 *      reference: the mock cluster's thread (rdk:mock,
 *      /proc/self/task/TID/stat), which only copies batches into memory.
 *   5. Idle with many partitions, on a second, fresh broker: RSS, open fds
 *      and CPU % over an idle window, first empty, then after CreateTopics
 *      of one topic with 10,000 partitions (all clients closed).
 *
 * Every record is checked on the way back: 100 bytes, the payload written
 * for its sequence number, and offsets consecutive per partition.
 *
 * The program prints figures and exits 0; it never decides pass or fail on
 * a number. It exits 1 when a call fails, a record is lost or wrong, or a
 * phase exceeds its time limit (what happened is printed).
 *
 * Usage: bench_broker -b HOST:PORT [-p PID] [-i HOST:PORT -I PID] [options]
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define VALUE_BYTES 100
#define MAX_ROUNDS 15
#define PRODUCE_PARTS 4
#define CONSUME_PARTS 32
#define FLUSH_TIMEOUT_MS 120000
#define IDLE_TIMEOUT_MS 15000 /* a consumer with nothing for this long: stuck */
#define DEBUG_CONTEXTS "protocol,broker,fetch,msg"

typedef struct opts {
    const char *eddy;       /* -b */
    int eddy_pid;           /* -p */
    const char *idle;       /* -i */
    int idle_pid;           /* -I */
    long records;           /* -n: per produce run */
    int rounds;             /* -r */
    long consume;           /* -c */
    int rate;               /* -R */
    int lat_secs;           /* -d */
    const char *lat_linger; /* -L */
    int idle_parts;         /* -P */
    int idle_topics;        /* -T */
    int idle_secs;          /* -w */
    int debug;              /* -D: client debug on Eddy connections */
    const char *extra[16];  /* -X key=value: on every client */
    int nextra;
    const char *parts; /* -s: which parts run */
} opts_t;

static opts_t O = {
    .records = 2000000,
    .rounds = 5,
    .consume = 1000000,
    .rate = 50000,
    .lat_secs = 10,
    .lat_linger = "1",
    .idle_parts = 10000,
    .idle_topics = 1,
    .idle_secs = 10,
    .parts = "12345",
};

typedef struct target {
    const char *name; /* "eddy" or "mock" */
    char bootstrap[256];
    int pid; /* eddy: broker process; mock: 0 */
    int tid; /* mock: the rdk:mock thread of this process */
    rd_kafka_mock_cluster_t *mock;
} target_t;

static int g_failed;

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_broker: ");
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

static double now_s(void)
{
    return (double)now_ns() / 1e9;
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
    double s[MAX_ROUNDS * 4];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* ---- /proc ---- */

/* utime+stime in seconds of /proc/PID/stat or /proc/self/task/TID/stat;
 * *sys (if not NULL) gets stime alone. */
static double proc_cpu2(const char *path, double *sys)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char buf[2048];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    unsigned long long ut = 0, st = 0;
    /* after ')': state(3) ... utime(14) stime(15) */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    if (sys)
        *sys = (double)st / (double)sysconf(_SC_CLK_TCK);
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double proc_cpu_s(const char *path)
{
    return proc_cpu2(path, NULL);
}

static double target_cpu2(const target_t *t, double *sys)
{
    char path[64];
    if (t->pid > 0)
        snprintf(path, sizeof path, "/proc/%d/stat", t->pid);
    else if (t->tid > 0)
        snprintf(path, sizeof path, "/proc/self/task/%d/stat", t->tid);
    else
        return -1;
    return proc_cpu2(path, sys);
}

static double target_cpu_s(const target_t *t)
{
    return target_cpu2(t, NULL);
}

/* A "Name:   value kB" line of /proc/PID/status, in kB (or count). */
static long proc_status(int pid, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long v = -1;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl) && line[kl] == ':') {
            v = strtol(line + kl + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

static long proc_fds(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static int find_thread(const char *comm)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    struct dirent *e;
    int found = -1;
    while ((e = readdir(d)) && found < 0) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], name[64] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(name, sizeof name, f)) {
            name[strcspn(name, "\n")] = 0;
            if (!strcmp(name, comm))
                found = atoi(e->d_name);
        }
        fclose(f);
    }
    closedir(d);
    return found;
}

/* ---- payload ---- */

/* [0,8) sequence number, [8,16) send time (ns, or 0), [16,100) a pattern
 * that depends on the sequence number. */
static uint8_t g_pattern[VALUE_BYTES + 256];

static void payload_fill(uint8_t *p, uint64_t seq, int64_t sent_ns)
{
    memcpy(p, &seq, 8);
    memcpy(p + 8, &sent_ns, 8);
    memcpy(p + 16, g_pattern + (seq & 255), VALUE_BYTES - 16);
}

static int payload_ok(const rd_kafka_message_t *m, uint64_t *seq, int64_t *sent_ns)
{
    if (m->len != VALUE_BYTES || !m->payload || m->key_len)
        return 0;
    const uint8_t *p = m->payload;
    memcpy(seq, p, 8);
    memcpy(sent_ns, p + 8, 8);
    return !memcmp(p + 16, g_pattern + (*seq & 255), VALUE_BYTES - 16);
}

/* ---- client set-up ---- */

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    fprintf(stderr, "bench_broker: %s: client error: %s: %s\n", rd_kafka_name(rk),
            rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static rd_kafka_conf_t *base_conf(const target_t *t)
{
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    char err[512];
    if (rd_kafka_conf_set(c, "bootstrap.servers", t->bootstrap, err, sizeof err) ||
        rd_kafka_conf_set(c, "client.id", t->name, err, sizeof err) ||
        (O.debug && !strncmp(t->name, "eddy", 4) &&
         rd_kafka_conf_set(c, "debug", DEBUG_CONTEXTS, err, sizeof err))) {
        fprintf(stderr, "bench_broker: conf: %s\n", err);
        exit(1);
    }
    rd_kafka_conf_set_error_cb(c, on_error);
    for (int i = 0; i < O.nextra; i++) {
        char kv[512], *eq;
        snprintf(kv, sizeof kv, "%s", O.extra[i]);
        if (!(eq = strchr(kv, '='))) {
            fprintf(stderr, "bench_broker: -X %s: not KEY=VALUE\n", kv);
            exit(2);
        }
        *eq = 0;
        if (rd_kafka_conf_set(c, kv, eq + 1, err, sizeof err)) {
            fprintf(stderr, "bench_broker: -X %s: %s\n", O.extra[i], err);
            exit(2);
        }
    }
    return c;
}

static void conf_set(rd_kafka_conf_t *c, const char *k, const char *v)
{
    char err[512];
    if (rd_kafka_conf_set(c, k, v, err, sizeof err)) {
        fprintf(stderr, "bench_broker: conf %s=%s: %s\n", k, v, err);
        exit(1);
    }
}

static rd_kafka_t *client_new(rd_kafka_type_t type, rd_kafka_conf_t *c)
{
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "bench_broker: rd_kafka_new: %s\n", err);
        exit(1);
    }
    return rk;
}

/* Connects and learns the topic's partitions: the set-up left out of the
 * timed part. Returns the partition count, or -1. */
static int warm_metadata(const target_t *t, rd_kafka_t *rk, rd_kafka_topic_t *rkt)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    if (err) {
        fail("%s: Metadata for %s: %s", t->name, rd_kafka_topic_name(rkt), rd_kafka_err2str(err));
        return -1;
    }
    int n = -1;
    if (md->topic_cnt == 1 && !md->topics[0].err)
        n = md->topics[0].partition_cnt;
    else
        fail("%s: Metadata for %s: topic error %s", t->name, rd_kafka_topic_name(rkt),
             md->topic_cnt ? rd_kafka_err2str(md->topics[0].err) : "(no topic)");
    rd_kafka_metadata_destroy(md);
    return n;
}

static int create_topic(const target_t *t, const char *topic, int parts, double *secs)
{
    double t0 = now_s();
    if (t->mock) {
        rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(t->mock, topic, parts, 1);
        if (err) {
            fail("mock: topic_create %s: %s", topic, rd_kafka_err2str(err));
            return -1;
        }
        if (secs)
            *secs = now_s() - t0;
        return 0;
    }
    rd_kafka_conf_t *c = base_conf(t);
    rd_kafka_t *rk = client_new(RD_KAFKA_PRODUCER, c);
    char err[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, parts, 1, err, sizeof err);
    if (!nt) {
        fail("NewTopic: %s", err);
        rd_kafka_destroy(rk);
        return -1;
    }
    rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(ao, 60000, err, sizeof err);
    rd_kafka_AdminOptions_set_request_timeout(ao, 120000, err, sizeof err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, ao, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 130000);
    int rc = -1;
    if (!ev) {
        fail("%s: CreateTopics %s (%d partitions): no answer in 130 s", t->name, topic, parts);
    } else if (rd_kafka_event_error(ev)) {
        fail("%s: CreateTopics %s (%d partitions): %s", t->name, topic, parts,
             rd_kafka_event_error_string(ev));
    } else {
        size_t n;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        rd_kafka_resp_err_t e = n == 1 ? rd_kafka_topic_result_error(res[0])
                                       : RD_KAFKA_RESP_ERR__BAD_MSG;
        if (!e || e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            rc = 0;
            if (e)
                fprintf(stderr, "bench_broker: %s: topic %s already exists\n", t->name, topic);
        } else {
            fail("%s: CreateTopics %s (%d partitions): %s: %s", t->name, topic, parts,
                 rd_kafka_err2name(e), n == 1 ? rd_kafka_topic_result_error_string(res[0]) : "");
        }
    }
    if (secs)
        *secs = now_s() - t0;
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_destroy(rk);
    return rc;
}

/* Sum over partitions of the high watermarks (what the broker says it has). */
static int64_t high_watermarks(const target_t *t, const char *topic, int parts)
{
    rd_kafka_conf_t *c = base_conf(t);
    rd_kafka_t *rk = client_new(RD_KAFKA_PRODUCER, c);
    int64_t sum = 0;
    for (int p = 0; p < parts; p++) {
        int64_t lo, hi;
        rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000);
        if (err) {
            fail("%s: ListOffsets %s-%d: %s", t->name, topic, p, rd_kafka_err2str(err));
            sum = -1;
            break;
        }
        sum += hi;
    }
    rd_kafka_destroy(rk);
    return sum;
}

/* ---- produce ---- */

typedef struct dr_state {
    long delivered, failed;
    rd_kafka_resp_err_t first_err;
    char first_errstr[256];
    /* latency mode: ack[seq - ack_from] = delivery report - send (ns) */
    int64_t *ack;
    long ack_from, ack_n;
} dr_state_t;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    dr_state_t *d = opaque;
    if (!m->err) {
        d->delivered++;
        if (d->ack && m->len == VALUE_BYTES) {
            uint64_t seq;
            int64_t sent;
            memcpy(&seq, m->payload, 8);
            memcpy(&sent, (const uint8_t *)m->payload + 8, 8);
            if ((long)seq >= d->ack_from && (long)seq < d->ack_from + d->ack_n)
                d->ack[seq - (uint64_t)d->ack_from] = now_ns() - sent;
        }
        return;
    }
    if (!d->failed++) {
        d->first_err = m->err;
        snprintf(d->first_errstr, sizeof d->first_errstr, "%s-%" PRId32 ": %s",
                 rd_kafka_topic_name(m->rkt), m->partition, rd_kafka_message_errstr(m));
    }
}

typedef struct produce_result {
    double secs;
    double broker_cpu; /* seconds of the broker (process or mock thread), -1 unknown */
    double broker_sys; /* of which in the kernel */
    double client_cpu; /* this process, less the mock's thread */
} produce_result_t;

/* n records to topic; partition -1: the default (sticky) partitioner,
 * else records go round-robin over `spread` partitions. */
static int produce_run(const target_t *t, const char *topic, long n, int spread,
                       produce_result_t *out)
{
    dr_state_t d = {0};
    rd_kafka_conf_t *c = base_conf(t);
    conf_set(c, "acks", "1");
    conf_set(c, "linger.ms", "5");
    rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
    rd_kafka_conf_set_opaque(c, &d);
    rd_kafka_t *rk = client_new(RD_KAFKA_PRODUCER, c);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    int rc = -1;
    if (warm_metadata(t, rk, rkt) < 0)
        goto out;
    uint8_t buf[VALUE_BYTES];
    double sys0, sys1;
    double cpu0 = target_cpu2(t, &sys0);
    double self0 = proc_cpu_s("/proc/self/stat");
    double t0 = now_s();
    for (long i = 0; i < n;) {
        payload_fill(buf, (uint64_t)i, 0);
        int32_t part = spread > 0 ? (int32_t)(i % spread) : RD_KAFKA_PARTITION_UA;
        if (rd_kafka_produce(rkt, part, RD_KAFKA_MSG_F_COPY, buf, VALUE_BYTES, NULL, 0, NULL) ==
            -1) {
            rd_kafka_resp_err_t err = rd_kafka_last_error();
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(rk, 1);
                continue;
            }
            fail("%s: produce: %s", t->name, rd_kafka_err2str(err));
            goto out;
        }
        if ((++i & 1023) == 0)
            rd_kafka_poll(rk, 0);
    }
    rd_kafka_resp_err_t ferr = rd_kafka_flush(rk, FLUSH_TIMEOUT_MS);
    out->secs = now_s() - t0;
    double cpu1 = target_cpu2(t, &sys1);
    out->client_cpu = proc_cpu_s("/proc/self/stat") - self0 - (t->tid > 0 ? cpu1 - cpu0 : 0);
    out->broker_cpu = cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1;
    out->broker_sys = cpu0 >= 0 && cpu1 >= 0 ? sys1 - sys0 : -1;
    if (ferr) {
        fail("%s: flush after %d s: %s; %ld of %ld delivered, %d still queued", t->name,
             FLUSH_TIMEOUT_MS / 1000, rd_kafka_err2str(ferr), d.delivered, n,
             rd_kafka_outq_len(rk));
        goto out;
    }
    if (d.failed || d.delivered != n) {
        fail("%s: %ld of %ld records delivered, %ld failed (first: %s: %s)", t->name, d.delivered,
             n, d.failed, rd_kafka_err2name(d.first_err), d.first_errstr);
        goto out;
    }
    rc = 0;
out:
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return rc;
}

/* ---- consume (legacy API: no group, partitions started from the beginning) ---- */

typedef struct consume_state {
    const target_t *t;
    long want, got, bad;
    int64_t next_off[CONSUME_PARTS];
    int64_t last_msg_ns;
    char first_bad[256];
    /* latency mode */
    int64_t *lat; /* lat[seq - lat_from] = receipt - send (ns) */
    long lat_from, lat_n, lat_got;
} consume_state_t;

static void consume_bad(consume_state_t *s, const char *fmt, ...)
{
    if (!s->bad++) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->first_bad, sizeof s->first_bad, fmt, ap);
        va_end(ap);
    }
}

static void on_message(rd_kafka_message_t *m, void *opaque)
{
    consume_state_t *s = opaque;
    int64_t now = now_ns();
    if (m->err) {
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
            return;
        consume_bad(s, "%s-%" PRId32 " at offset %" PRId64 ": consumer error %s: %s",
                    m->rkt ? rd_kafka_topic_name(m->rkt) : "?", m->partition, m->offset,
                    rd_kafka_err2name(m->err), rd_kafka_message_errstr(m));
        return;
    }
    s->last_msg_ns = now;
    s->got++;
    uint64_t seq;
    int64_t sent;
    if (m->partition < 0 || m->partition >= CONSUME_PARTS) {
        consume_bad(s, "record from partition %" PRId32, m->partition);
        return;
    }
    if (m->offset != s->next_off[m->partition])
        consume_bad(s,
                    "%s-%" PRId32 ": offset %" PRId64 " after %" PRId64 " (expected %" PRId64 ")",
                    rd_kafka_topic_name(m->rkt), m->partition, m->offset,
                    s->next_off[m->partition] - 1, s->next_off[m->partition]);
    s->next_off[m->partition] = m->offset + 1;
    if (!payload_ok(m, &seq, &sent)) {
        consume_bad(s, "%s-%" PRId32 " offset %" PRId64 ": wrong record (%zu bytes, key %zu bytes)",
                    rd_kafka_topic_name(m->rkt), m->partition, m->offset, m->len, m->key_len);
        return;
    }
    if (s->lat && (long)seq >= s->lat_from && (long)seq < s->lat_from + s->lat_n) {
        int64_t *slot = &s->lat[seq - (uint64_t)s->lat_from];
        if (*slot >= 0)
            consume_bad(s, "sequence %" PRIu64 " received twice", seq);
        else
            s->lat_got++;
        *slot = now - sent;
    }
}

typedef struct consumer {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    rd_kafka_queue_t *q;
    int parts;
} consumer_t;

static int consumer_open(consumer_t *k, const target_t *t, const char *topic, int latency)
{
    memset(k, 0, sizeof *k);
    rd_kafka_conf_t *c = base_conf(t);
    conf_set(c, "enable.partition.eof", "false");
    if (latency) {
        conf_set(c, "fetch.wait.max.ms", "10");
        conf_set(c, "fetch.min.bytes", "1");
    } else {
        /* librdkafka 2.0.2 stops fetching a partition while its queue holds
         * queued.min.messages (100000), and looks again only after a fixed
         * 1 s. With every partition forwarded to one queue, the count is the
         * shared queue's, so a single large Fetch response (Eddy sends up to
         * fetch.max.bytes, as Kafka does) parks the consumer for 1 s: the
         * figure then measures that pause. Both sides get room. */
        conf_set(c, "queued.min.messages", "10000000");
        conf_set(c, "queued.max.messages.kbytes", "2097151");
    }
    k->rk = client_new(RD_KAFKA_CONSUMER, c);
    rd_kafka_topic_conf_t *tc = rd_kafka_topic_conf_new();
    char err[256];
    rd_kafka_topic_conf_set(tc, "auto.commit.enable", "false", err, sizeof err);
    k->rkt = rd_kafka_topic_new(k->rk, topic, tc);
    k->parts = warm_metadata(t, k->rk, k->rkt);
    if (k->parts < 0 || k->parts > CONSUME_PARTS) {
        if (k->parts > CONSUME_PARTS)
            fail("%s: %s has %d partitions", t->name, topic, k->parts);
        rd_kafka_topic_destroy(k->rkt);
        rd_kafka_destroy(k->rk);
        return -1;
    }
    k->q = rd_kafka_queue_new(k->rk);
    return 0;
}

static int consumer_start(consumer_t *k, const target_t *t)
{
    for (int p = 0; p < k->parts; p++)
        if (rd_kafka_consume_start_queue(k->rkt, p, RD_KAFKA_OFFSET_BEGINNING, k->q) == -1) {
            fail("%s: consume_start %s-%d: %s", t->name, rd_kafka_topic_name(k->rkt), p,
                 rd_kafka_err2str(rd_kafka_last_error()));
            return -1;
        }
    return 0;
}

static void consumer_close(consumer_t *k)
{
    for (int p = 0; p < k->parts; p++)
        rd_kafka_consume_stop(k->rkt, p);
    rd_kafka_queue_destroy(k->q);
    rd_kafka_topic_destroy(k->rkt);
    rd_kafka_destroy(k->rk);
}

/* Reads n records of topic from the beginning; returns records/s or -1. */
static double consume_run(const target_t *t, const char *topic, long n, double *broker_cpu)
{
    consumer_t k;
    if (consumer_open(&k, t, topic, 0) < 0)
        return -1;
    consume_state_t s = {.t = t, .want = n};
    double cpu0 = target_cpu_s(t);
    int64_t t0 = now_ns();
    s.last_msg_ns = t0;
    double rate = -1;
    if (consumer_start(&k, t) < 0)
        goto out;
    while (s.got < n && !s.bad) {
        rd_kafka_consume_callback_queue(k.q, 100, on_message, &s);
        if (now_ns() - s.last_msg_ns > (int64_t)IDLE_TIMEOUT_MS * 1000000) {
            fail("%s: consuming %s: nothing for %d s after %s of %s records", t->name, topic,
                 IDLE_TIMEOUT_MS / 1000, commas((double)s.got), commas((double)n));
            goto out;
        }
    }
    int64_t t1 = now_ns();
    double cpu1 = target_cpu_s(t);
    if (broker_cpu)
        *broker_cpu = cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1;
    if (s.bad) {
        fail("%s: consuming %s: %ld bad record(s); first: %s", t->name, topic, s.bad, s.first_bad);
        goto out;
    }
    rate = (double)s.got / ((double)(t1 - t0) / 1e9);
out:
    consumer_close(&k);
    return rate;
}

/* ---- latency ---- */

typedef struct lat_thread {
    const target_t *t;
    consumer_t k;
    consume_state_t s;
    volatile int stop;
} lat_thread_t;

static void *lat_consumer_main(void *arg)
{
    lat_thread_t *lt = arg;
    while (!lt->stop && lt->s.lat_got < lt->s.lat_n && !lt->s.bad)
        rd_kafka_consume_callback_queue(lt->k.q, 50, on_message, &lt->s);
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct lat_result {
    double p50, p99, p999, max; /* ms, send to receipt by the consumer */
    double ack_p50, ack_p99;    /* ms, send to delivery report (acks=1) */
    double sent_rate;           /* records/s the producer achieved */
    double broker_cpu_pct;
    long lost;
} lat_result_t;

static int latency_run(const target_t *t, const char *topic, const char *linger, lat_result_t *r)
{
    memset(r, 0, sizeof *r);
    long warm = O.rate, n = (long)O.rate * O.lat_secs, total = warm + n;
    lat_thread_t lt = {.t = t};
    if (consumer_open(&lt.k, t, topic, 1) < 0)
        return -1;
    lt.s.t = t;
    lt.s.lat_from = warm;
    lt.s.lat_n = n;
    lt.s.lat = malloc((size_t)n * sizeof *lt.s.lat);
    if (!lt.s.lat) {
        fail("out of memory");
        consumer_close(&lt.k);
        return -1;
    }
    for (long i = 0; i < n; i++)
        lt.s.lat[i] = -1;
    int rc = -1;
    pthread_t th;
    int th_started = 0;
    dr_state_t d = {.ack_from = warm, .ack_n = n};
    d.ack = calloc((size_t)n, sizeof *d.ack);
    if (!d.ack) {
        fail("out of memory");
        consumer_close(&lt.k);
        free(lt.s.lat);
        return -1;
    }
    rd_kafka_conf_t *c = base_conf(t);
    conf_set(c, "acks", "1");
    conf_set(c, "linger.ms", linger);
    rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
    rd_kafka_conf_set_opaque(c, &d);
    rd_kafka_t *rk = client_new(RD_KAFKA_PRODUCER, c);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (warm_metadata(t, rk, rkt) < 0 || consumer_start(&lt.k, t) < 0)
        goto out;
    if (pthread_create(&th, NULL, lat_consumer_main, &lt)) {
        fail("pthread_create failed");
        goto out;
    }
    th_started = 1;
    uint8_t buf[VALUE_BYTES];
    double period_ns = 1e9 / O.rate;
    int64_t t0 = now_ns(), tm0 = 0;
    double cpu0 = -1;
    long i = 0;
    while (i < total) {
        int64_t now = now_ns();
        while (i < total && t0 + (int64_t)((double)i * period_ns) <= now) {
            if (i == warm) {
                tm0 = now_ns();
                cpu0 = target_cpu_s(t);
            }
            payload_fill(buf, (uint64_t)i, now_ns());
            if (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, buf, VALUE_BYTES,
                                 NULL, 0, NULL) == -1) {
                fail("%s: produce at %ld records/s: %s", t->name, (long)O.rate,
                     rd_kafka_err2str(rd_kafka_last_error()));
                goto out;
            }
            i++;
        }
        rd_kafka_poll(rk, 0);
        if (i < total) {
            int64_t next = t0 + (int64_t)((double)i * period_ns);
            struct timespec ts = {.tv_sec = next / 1000000000, .tv_nsec = next % 1000000000};
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        }
    }
    int64_t tm1 = now_ns();
    double cpu1 = target_cpu_s(t);
    r->sent_rate = (double)n / ((double)(tm1 - tm0) / 1e9);
    r->broker_cpu_pct = cpu0 >= 0 && cpu1 >= 0 ? 100 * (cpu1 - cpu0) / ((double)(tm1 - tm0) / 1e9)
                                               : -1;
    rd_kafka_resp_err_t ferr = rd_kafka_flush(rk, 10000);
    /* Give the consumer up to 5 s to see the tail. */
    for (int w = 0; w < 100 && lt.s.lat_got < n && !lt.s.bad; w++)
        usleep(50000);
    lt.stop = 1;
    pthread_join(th, NULL);
    th_started = 0;
    if (ferr || d.failed)
        fail("%s: latency producer: flush %s, %ld failed (first: %s: %s)", t->name,
             rd_kafka_err2str(ferr), d.failed, rd_kafka_err2name(d.first_err), d.first_errstr);
    if (lt.s.bad)
        fail("%s: latency consumer: %ld bad record(s); first: %s", t->name, lt.s.bad,
             lt.s.first_bad);
    r->lost = n - lt.s.lat_got;
    if (r->lost) {
        fail("%s: latency: %ld of %ld records never received within 5 s", t->name, r->lost, n);
        for (int p = 0; p < lt.k.parts; p++) {
            int64_t lo = -1, hi = -1;
            rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 5000);
            fprintf(stderr,
                    "  %s-%d: consumer at offset %" PRId64 ", broker log %" PRId64 "..%" PRId64
                    "\n",
                    topic, p, lt.s.next_off[p], lo, hi);
        }
    }
    if (ferr || d.failed || lt.s.bad || r->lost)
        goto out;
    qsort(lt.s.lat, (size_t)n, sizeof *lt.s.lat, cmp_i64);
    r->p50 = (double)lt.s.lat[n / 2] / 1e6;
    r->p99 = (double)lt.s.lat[(long)((double)n * 0.99)] / 1e6;
    r->p999 = (double)lt.s.lat[(long)((double)n * 0.999)] / 1e6;
    r->max = (double)lt.s.lat[n - 1] / 1e6;
    qsort(d.ack, (size_t)n, sizeof *d.ack, cmp_i64);
    r->ack_p50 = (double)d.ack[n / 2] / 1e6;
    r->ack_p99 = (double)d.ack[(long)((double)n * 0.99)] / 1e6;
    rc = 0;
out:
    if (th_started) {
        lt.stop = 1;
        pthread_join(th, NULL);
    }
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    consumer_close(&lt.k);
    free(lt.s.lat);
    free(d.ack);
    return rc;
}

/* ---- idle ---- */

typedef struct idle_sample {
    long rss_kb, hwm_kb, fds, threads;
    double cpu_pct;
} idle_sample_t;

static void idle_measure(int pid, int secs, idle_sample_t *s)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    double c0 = proc_cpu_s(path), t0 = now_s();
    sleep((unsigned)secs);
    double c1 = proc_cpu_s(path), t1 = now_s();
    s->cpu_pct = c0 >= 0 && c1 >= 0 ? 100 * (c1 - c0) / (t1 - t0) : -1;
    s->rss_kb = proc_status(pid, "VmRSS");
    s->hwm_kb = proc_status(pid, "VmHWM");
    s->threads = proc_status(pid, "Threads");
    s->fds = proc_fds(pid);
}

/* ---- main ---- */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bench_broker -b HOST:PORT [-p PID] [-i HOST:PORT -I PID] [options]\n"
            "  -b HOST:PORT  the Eddy broker for parts 1-4 (fresh data dir)\n"
            "  -p PID        its process id (broker CPU figures; else left out)\n"
            "  -i HOST:PORT  a second, fresh Eddy broker for part 5 (idle, many partitions)\n"
            "  -I PID        its process id (needed for part 5)\n"
            "  -n N          records per produce run (2000000)\n"
            "  -r N          counted produce/consume rounds, after one warm-up (5; 1..%d)\n"
            "  -c N          records per consume run (1000000)\n"
            "  -R N          latency test: records/s (50000)\n"
            "  -d S          latency test: measured seconds, after 1 s warm-up (10)\n"
            "  -L MS         latency test: linger.ms of the eddy/mock comparison (1); eddy\n"
            "                also runs alone at linger.ms=0 unless MS is 0\n"
            "  -P N          part 5: partitions created (10000)\n"
            "  -T N          part 5: spread over N topics (1; N must divide -P)\n"
            "  -w S          part 5: idle window in seconds (10)\n"
            "  -s PARTS      parts to run, e.g. 13 (12345)\n"
            "  -X KEY=VALUE  a librdkafka setting for every client (repeatable; the settings\n"
            "                named above win)\n"
            "  -D            librdkafka debug=%s on clients of the Eddy broker\n",
            MAX_ROUNDS, DEBUG_CONTEXTS);
}

int main(int argc, char **argv)
{
    int opt;
    while ((opt = getopt(argc, argv, "b:p:i:I:n:r:c:R:d:L:P:T:w:s:X:Dh")) != -1) {
        switch (opt) {
        case 'b': O.eddy = optarg; break;
        case 'p': O.eddy_pid = atoi(optarg); break;
        case 'i': O.idle = optarg; break;
        case 'I': O.idle_pid = atoi(optarg); break;
        case 'n': O.records = atol(optarg); break;
        case 'r': O.rounds = atoi(optarg); break;
        case 'c': O.consume = atol(optarg); break;
        case 'R': O.rate = atoi(optarg); break;
        case 'd': O.lat_secs = atoi(optarg); break;
        case 'L': O.lat_linger = optarg; break;
        case 'P': O.idle_parts = atoi(optarg); break;
        case 'T': O.idle_topics = atoi(optarg); break;
        case 'w': O.idle_secs = atoi(optarg); break;
        case 's': O.parts = optarg; break;
        case 'X':
            if (O.nextra < 16)
                O.extra[O.nextra++] = optarg;
            break;
        case 'D': O.debug = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!O.eddy || O.records < 1 || O.rounds < 1 || O.rounds > MAX_ROUNDS || O.consume < 1 ||
        O.rate < 1 || O.lat_secs < 1 || O.idle_parts < 1 || O.idle_secs < 1 || O.idle_topics < 1 ||
        O.idle_parts % O.idle_topics) {
        usage(stderr);
        return 2;
    }
    int p1 = !!strchr(O.parts, '1'), p2 = !!strchr(O.parts, '2'), p3 = !!strchr(O.parts, '3'),
        p4 = !!strchr(O.parts, '4'), p5 = !!strchr(O.parts, '5');
    if (p4 && !p1)
        p1 = 1; /* CPU per million comes from the produce runs */
    if (p5 && (!O.idle || O.idle_pid <= 0)) {
        fprintf(stderr, "bench_broker: part 5 needs -i and -I; skipped\n");
        p5 = 0;
    }
    for (int i = 0; i < (int)sizeof g_pattern; i++)
        g_pattern[i] = (uint8_t)(i * 7 + 13);
    setvbuf(stdout, NULL, _IOLBF, 0);

    char ver[64];
    snprintf(ver, sizeof ver, "%s", rd_kafka_version_str());
    printf("bench_broker: librdkafka %s; eddy at %s (pid %d); %ld CPUs\n", ver, O.eddy, O.eddy_pid,
           sysconf(_SC_NPROCESSORS_ONLN));

    /* The reference: librdkafka's mock cluster, one broker, in this process. */
    char err[512];
    rd_kafka_conf_t *hc = rd_kafka_conf_new();
    rd_kafka_conf_set(hc, "client.id", "mock-host", err, sizeof err);
    rd_kafka_conf_set(hc, "log_level", "3", err, sizeof err); /* no "no bootstrap.servers" */
    rd_kafka_t *host = client_new(RD_KAFKA_PRODUCER, hc);
    target_t eddy = {.name = "eddy", .pid = O.eddy_pid};
    target_t mock = {.name = "mock"};
    snprintf(eddy.bootstrap, sizeof eddy.bootstrap, "%s", O.eddy);
    mock.mock = rd_kafka_mock_cluster_new(host, 1);
    if (!mock.mock) {
        fprintf(stderr, "bench_broker: rd_kafka_mock_cluster_new failed\n");
        return 1;
    }
    snprintf(mock.bootstrap, sizeof mock.bootstrap, "%s",
             rd_kafka_mock_cluster_bootstraps(mock.mock));
    /* The thread names itself once running. */
    for (int i = 0; i < 100 && (mock.tid = find_thread("rdk:mock")) < 0; i++)
        usleep(10000);
    printf("mock cluster at %s (thread %d)\n", mock.bootstrap, mock.tid);
    target_t *sides[2] = {&eddy, &mock};

    char summary[16][600];
    int ns = 0;

    /* ---- 1 + 4: produce ---- */
    double prod_rate[2][MAX_ROUNDS], prod_ratio[MAX_ROUNDS], prod_cpu[2][MAX_ROUNDS];
    double prod_sys[MAX_ROUNDS], client_cpu[2][MAX_ROUNDS];
    if (p1) {
        printf("\n== 1. produce: %s x %d B, %d partitions, acks=1, linger.ms=5, batch.size "
               "default\n",
               commas((double)O.records), VALUE_BYTES, PRODUCE_PARTS);
        for (int s = 0; s < 2; s++)
            if (create_topic(sides[s], "bench-produce", PRODUCE_PARTS, NULL) < 0)
                goto done;
        long warm_n = O.records / 10 > 0 ? O.records / 10 : 1;
        for (int s = 0; s < 2; s++) {
            produce_result_t r;
            if (produce_run(sides[s], "bench-produce", warm_n, 0, &r) < 0)
                goto done;
            printf("warm-up %-4s %9s records/s (%s records)\n", sides[s]->name,
                   commas((double)warm_n / r.secs), commas((double)warm_n));
        }
        for (int rd = 0; rd < O.rounds; rd++) {
            for (int k = 0; k < 2; k++) {
                int s = rd % 2 ? 1 - k : k;
                produce_result_t r;
                if (produce_run(sides[s], "bench-produce", O.records, 0, &r) < 0)
                    goto done;
                double per_m = (double)O.records / 1e6;
                prod_rate[s][rd] = (double)O.records / r.secs;
                prod_cpu[s][rd] = r.broker_cpu >= 0 ? r.broker_cpu / per_m : -1;
                client_cpu[s][rd] = r.client_cpu / per_m;
                if (s == 0)
                    prod_sys[rd] = r.broker_sys >= 0 ? r.broker_sys / per_m : -1;
            }
            prod_ratio[rd] = prod_rate[0][rd] / prod_rate[1][rd];
            printf("round %d: eddy %9s records/s, mock %9s records/s; ratio %.2f. CPU s/M: eddy "
                   "broker %.2f (sys %.2f), client %.2f; mock thread %.2f, client %.2f\n",
                   rd + 1, commas(prod_rate[0][rd]), commas(prod_rate[1][rd]), prod_ratio[rd],
                   prod_cpu[0][rd], prod_sys[rd], client_cpu[0][rd], prod_cpu[1][rd],
                   client_cpu[1][rd]);
        }
        long expect = warm_n + O.records * O.rounds;
        int64_t hw = high_watermarks(&eddy, "bench-produce", PRODUCE_PARTS);
        if (hw != expect)
            fail("eddy: bench-produce holds %" PRId64 " records (sum of high watermarks), "
                 "%ld were delivered",
                 hw, expect);
        double me = median(prod_rate[0], O.rounds), mm = median(prod_rate[1], O.rounds),
               mr = median(prod_ratio, O.rounds);
        snprintf(summary[ns++], sizeof summary[0],
                 "produce (%s x %d B, %d partitions, acks=1, linger.ms=5; median of %d rounds): "
                 "eddy %s records/s, mock %s records/s; ratio eddy/mock %.2f (target >= 1.0)",
                 commas((double)O.records), VALUE_BYTES, PRODUCE_PARTS, O.rounds, commas(me),
                 commas(mm), mr);
        printf("%s\n", summary[ns - 1]);
        if (p4) {
            double ce = median(prod_cpu[0], O.rounds), cm = median(prod_cpu[1], O.rounds);
            printf("\n== 4. broker CPU per million records produced (utime+stime during the "
                   "runs)\n");
            if (ce >= 0)
                snprintf(summary[ns++], sizeof summary[0],
                         "broker CPU per million records produced (median of %d rounds): eddy "
                         "%.2f s (process; kernel %.2f s), mock %.2f s (its thread; keeps 5 MiB "
                         "per partition in memory, no CRC check); ratio eddy/mock %.2f; client "
                         "%.2f s",
                         O.rounds, ce, median(prod_sys, O.rounds), cm, cm > 0 ? ce / cm : 0,
                         median(client_cpu[0], O.rounds));
            else
                snprintf(summary[ns++], sizeof summary[0],
                         "broker CPU per million records produced: eddy unknown (no -p PID), "
                         "mock %.2f s (its thread)",
                         cm);
            printf("%s\n", summary[ns - 1]);
        }
    }

    /* ---- 2: consume ---- */
    if (p2) {
        printf("\n== 2. consume: %s x %d B from the beginning, legacy consumer, one queue\n",
               commas((double)O.consume), VALUE_BYTES);
        int have_4p = p1 && O.records * O.rounds >= O.consume;
        for (int s = 0; s < 2; s++) {
            produce_result_t r;
            if (create_topic(sides[s], "bench-consume", CONSUME_PARTS, NULL) < 0 ||
                produce_run(sides[s], "bench-consume", O.consume, CONSUME_PARTS, &r) < 0)
                goto done;
            printf("filled %s bench-consume (%d partitions, round-robin): %s records/s\n",
                   sides[s]->name, CONSUME_PARTS, commas((double)O.consume / r.secs));
        }
        double c4[MAX_ROUNDS], c32[2][MAX_ROUNDS], cr[MAX_ROUNDS], cpu4[MAX_ROUNDS];
        for (int s = 0; s < 2; s++) /* warm-up, not counted */
            if (consume_run(sides[s], "bench-consume", O.consume, NULL) < 0)
                goto done;
        for (int rd = 0; rd < O.rounds; rd++) {
            if (have_4p) {
                c4[rd] = consume_run(&eddy, "bench-produce", O.consume, &cpu4[rd]);
                if (c4[rd] < 0)
                    goto done;
            }
            for (int k = 0; k < 2; k++) {
                int s = rd % 2 ? 1 - k : k;
                c32[s][rd] = consume_run(sides[s], "bench-consume", O.consume, NULL);
                if (c32[s][rd] < 0)
                    goto done;
            }
            cr[rd] = c32[0][rd] / c32[1][rd];
            printf("round %d: eddy 4p %9s records/s (broker CPU %.2f s/M); 32p: eddy %9s, mock %9s "
                   "records/s; ratio %.2f\n",
                   rd + 1, have_4p ? commas(c4[rd]) : "-",
                   have_4p && cpu4[rd] >= 0 ? cpu4[rd] / ((double)O.consume / 1e6) : -1.0,
                   commas(c32[0][rd]), commas(c32[1][rd]), cr[rd]);
        }
        char head[128] = "";
        if (have_4p)
            snprintf(head, sizeof head, "eddy %s records/s (4 partitions); ",
                     commas(median(c4, O.rounds)));
        snprintf(summary[ns++], sizeof summary[0],
                 "consume (%s x %d B from the beginning; median of %d rounds): %s"
                 "32 partitions: eddy %s, mock %s records/s; ratio eddy/mock %.2f",
                 commas((double)O.consume), VALUE_BYTES, O.rounds, head,
                 commas(median(c32[0], O.rounds)), commas(median(c32[1], O.rounds)),
                 median(cr, O.rounds));
        printf("%s\n", summary[ns - 1]);
    }

    /* ---- 3: latency ---- */
    if (p3) {
        printf("\n== 3. latency: %s records/s for 1 + %d s, acks=1, %d partitions; consumer "
               "fetch.wait.max.ms=10, fetch.min.bytes=1\n",
               commas(O.rate), O.lat_secs, PRODUCE_PARTS);
        /* linger.ms=0 on Eddy alone: the mock cannot serve it (it answers a
         * Fetch with one batch per partition, finds it by a linear scan, and
         * keeps 5 MiB per partition, so its consumer falls behind the tiny
         * batches and is overtaken by the log's truncation). */
        lat_result_t l0, lr[2];
        int have_l0 = 0, have_mock = 0;
        if (strcmp(O.lat_linger, "0") != 0) {
            if (create_topic(&eddy, "bench-latency-0", PRODUCE_PARTS, NULL) < 0 ||
                latency_run(&eddy, "bench-latency-0", "0", &l0) < 0)
                goto done;
            have_l0 = 1;
            printf("eddy linger.ms=0: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms "
                   "(produce ack: p50 %.2f ms, p99 %.2f ms); sent %s records/s; broker CPU "
                   "%.0f%%\n",
                   l0.p50, l0.p99, l0.p999, l0.max, l0.ack_p50, l0.ack_p99, commas(l0.sent_rate),
                   l0.broker_cpu_pct);
        }
        for (int s = 0; s < 2; s++) {
            int failed_before = g_failed;
            if (create_topic(sides[s], "bench-latency", PRODUCE_PARTS, NULL) < 0)
                goto done;
            if (latency_run(sides[s], "bench-latency", O.lat_linger, &lr[s]) < 0) {
                if (s == 0)
                    goto done;
                g_failed = failed_before; /* the reference's limits are not Eddy's failure */
                printf("mock linger.ms=%s: no figure (see above)\n", O.lat_linger);
                continue;
            }
            have_mock |= s == 1;
            printf("%s linger.ms=%s: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms "
                   "(produce ack: p50 %.2f ms, p99 %.2f ms); sent %s records/s; broker CPU "
                   "%.0f%%\n",
                   sides[s]->name, O.lat_linger, lr[s].p50, lr[s].p99, lr[s].p999, lr[s].max,
                   lr[s].ack_p50, lr[s].ack_p99, commas(lr[s].sent_rate), lr[s].broker_cpu_pct);
        }
        char l0s[200] = "", mocks[200] = "(no mock figure)";
        if (have_l0)
            snprintf(l0s, sizeof l0s,
                     "linger.ms=0: eddy p50 %.2f ms, p99 %.2f ms (target p99 < 5 "
                     "ms), broker CPU %.0f%%; ",
                     l0.p50, l0.p99, l0.broker_cpu_pct);
        if (have_mock)
            snprintf(mocks, sizeof mocks, "mock p50 %.2f ms, p99 %.2f ms; ratio p99 eddy/mock %.2f",
                     lr[1].p50, lr[1].p99, lr[0].p99 / lr[1].p99);
        snprintf(summary[ns++], sizeof summary[0],
                 "latency, send to receipt (%s records/s for %d s, fetch.wait.max.ms=10): %s"
                 "linger.ms=%s: eddy p50 %.2f ms, p99 %.2f ms, broker CPU %.0f%%; %s",
                 commas(O.rate), O.lat_secs, l0s, O.lat_linger, lr[0].p50, lr[0].p99,
                 lr[0].broker_cpu_pct, mocks);
        printf("%s\n", summary[ns - 1]);
    }

    /* ---- 5: idle with many partitions ---- */
    if (p5) {
        printf("\n== 5. idle: second broker at %s (pid %d), %d partitions, %d s windows\n", O.idle,
               O.idle_pid, O.idle_parts, O.idle_secs);
        target_t idle = {.name = "eddy-idle", .pid = O.idle_pid};
        snprintf(idle.bootstrap, sizeof idle.bootstrap, "%s", O.idle);
        idle_sample_t before, after;
        int w0 = O.idle_secs / 2 > 0 ? O.idle_secs / 2 : 1;
        idle_measure(O.idle_pid, w0, &before);
        printf("empty: RSS %.1f MB, CPU %.2f%% over %d s, %ld fds, %ld threads\n",
               before.rss_kb / 1024.0, before.cpu_pct, w0, before.fds, before.threads);
        double secs = 0;
        int per = O.idle_parts / O.idle_topics, md_ok = 1;
        for (int k = 0; k < O.idle_topics; k++) {
            char topic[64];
            double ts;
            snprintf(topic, sizeof topic, "idle-%d-%d", per, k);
            if (create_topic(&idle, topic, per, &ts) < 0)
                goto done;
            secs += ts;
        }
        long rss_created = proc_status(O.idle_pid, "VmRSS");
        printf("CreateTopics: %d topic(s) x %d partitions in %.2f s; RSS right after %.1f MB\n",
               O.idle_topics, per, secs, rss_created / 1024.0);
        /* Check the broker reports them all (a failure is reported, and the
         * idle figures are still taken), then close every client. */
        for (int k = 0; k < O.idle_topics && md_ok; k++) {
            char topic[64];
            snprintf(topic, sizeof topic, "idle-%d-%d", per, k);
            rd_kafka_conf_t *c = base_conf(&idle);
            rd_kafka_t *rk = client_new(RD_KAFKA_PRODUCER, c);
            rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
            int n = warm_metadata(&idle, rk, rkt);
            rd_kafka_topic_destroy(rkt);
            rd_kafka_destroy(rk);
            if (n != per) {
                fail("eddy-idle: Metadata for %s (%d partitions) gave %d partitions", topic, per,
                     n);
                md_ok = 0;
            }
        }
        sleep(1);
        idle_measure(O.idle_pid, O.idle_secs, &after);
        printf("%d partitions: RSS %.1f MB (peak %.1f MB), CPU %.2f%% over %d s, %ld fds, %ld "
               "threads\n",
               O.idle_parts, after.rss_kb / 1024.0, after.hwm_kb / 1024.0, after.cpu_pct,
               O.idle_secs, after.fds, after.threads);
        snprintf(summary[ns++], sizeof summary[0],
                 "idle, %s partitions in %d topic(s), no clients: RSS %.1f MB (empty broker %.1f "
                 "MB; %.2f KB per partition), CPU %.2f%% over %d s (empty %.2f%%), %ld open fds; "
                 "CreateTopics took %.2f s; Metadata of the topic(s) %s",
                 commas(O.idle_parts), O.idle_topics, after.rss_kb / 1024.0, before.rss_kb / 1024.0,
                 (double)(after.rss_kb - before.rss_kb) / O.idle_parts, after.cpu_pct, O.idle_secs,
                 before.cpu_pct, after.fds, secs, md_ok ? "ok" : "FAILED (see above)");
        printf("%s\n", summary[ns - 1]);
    }

done:
    printf("\n== summary\n");
    for (int i = 0; i < ns; i++)
        printf("%s\n", summary[i]);
    if (g_failed)
        printf("(a call failed, data was wrong or a phase ran out of time: see the messages "
               "above)\n");
    rd_kafka_mock_cluster_destroy(mock.mock);
    rd_kafka_destroy(host);
    return g_failed ? 1 : 0;
}

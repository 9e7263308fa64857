/* bench_client: Eddy's client (client/) against librdkafka, both talking to
 * the same Eddy broker process in the same run.
 *
 *   1. Produce. N records of 100 bytes, null key (sticky partitioner on
 *      both sides), to a fresh 4-partition topic per run (all created up
 *      front), acks=1, linger.ms=5, batch.size=16384 on both sides; at most
 *      100,000 records outstanding on both sides (librdkafka's default
 *      queue.buffering.max.messages). Each run uses a fresh client whose
 *      metadata is loaded before the clock starts; a run is timed from the
 *      first produce call to the end of the flush. Eddy's producer runs on
 *      its own uv loop: uv_run(UV_RUN_NOWAIT) every 1024 records, and
 *      uv_run(UV_RUN_ONCE) while the outstanding bound is reached.
 *   2. Consume. Every partition of the first Eddy-produced topic (N records)
 *      assigned from the beginning, read until N records arrived; Eddy's
 *      consumer counts in on_message, librdkafka's (rd_kafka_assign, then
 *      rd_kafka_consume_callback_queue on the consumer queue) in its
 *      callback. librdkafka's queued.min.messages is raised as in
 *      bench_broker (its fixed 1 s pause on a full queue would be measured
 *      otherwise). Fetch settings are the defaults of each client.
 *
 * One uncounted warm-up round, then R rounds; each round runs both sides,
 * the order flipping every round. Figures: median records/s of each side
 * and the median of the per-round ratios eddy/librdkafka.
 *
 * Every delivery is checked (no errors, all N reported), the consumed
 * topic's end offsets must add up to N, and every consumed record is
 * checked: 100 bytes, offsets consecutive per partition from 0. The program
 * prints figures and exits 0; it never decides pass or fail on a number. It
 * exits 1 when a call fails or records are missing.
 *
 * With -z CODEC both producers compress (Eddy: compression.type, librdkafka:
 * compression.codec) and the values are text (-t is implied): the sequence
 * number, then words drawn from a fixed 1,000-word vocabulary, so that the
 * codecs have something real to work on. -t alone sends the text uncompressed.
 *
 * Usage: bench_client -b HOST:PORT [-n records] [-r rounds] [-z codec] [-t]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <uv.h>

#include "client/admin.h"
#include "client/client.h"
#include "client/consumer.h"
#include "client/producer.h"
#include "common/config.h"

#define VALUE_BYTES 100
#define PARTS 4
#define MAX_ROUNDS 15
#define MAX_OUTSTANDING 100000
#define BATCH_SIZE "16384"
#define LINGER_MS "5"
#define FLUSH_TIMEOUT_MS 60000
#define CONSUME_TIMEOUT_MS 60000

static const char *bootstrap;
static long nrec = 1000000;
static int rounds = 5;
static char run_id[32];
static const char *codec = "none"; /* compression.type of both producers */
static int text_values;            /* values are words, not 'x' */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stdout, "bench_client: FAILED: ");
    vfprintf(stdout, fmt, ap);
    fprintf(stdout, "\n");
    va_end(ap);
    fflush(stdout);
    exit(1);
}

static const char *commas(double v)
{
    static char bufs[8][32];
    static int k;
    char *out = bufs[k++ & 7], tmp[32];
    snprintf(tmp, sizeof tmp, "%.0f", v);
    int len = (int)strlen(tmp), o = 0;
    for (int i = 0; i < len; i++) {
        out[o++] = tmp[i];
        if (tmp[i] != '-' && (len - i - 1) % 3 == 0 && i != len - 1)
            out[o++] = ',';
    }
    out[o] = 0;
    return out;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
    double s[MAX_ROUNDS];
    memcpy(s, v, sizeof(double) * (size_t)n);
    qsort(s, (size_t)n, sizeof(double), cmp_dbl);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* Word i of the vocabulary: syllables from i's base-15 digits. */
static size_t word_of(unsigned i, char *out)
{
    static const char *const syl[] = {"ka", "lo", "mi", "ne", "ru", "sa", "te", "vo",
                                      "zi", "pa", "re", "do", "fu", "gi", "ha"};
    size_t n = 0;
    do {
        memcpy(out + n, syl[i % 15], 2);
        n += 2;
        i /= 15;
    } while (i > 0);
    return n;
}

static void payload_fill(uint8_t *buf, uint64_t seq)
{
    if (!text_values) {
        memset(buf, 'x', VALUE_BYTES);
        memcpy(buf, &seq, sizeof seq);
        return;
    }
    /* Words skewed towards the first ones, as in natural text; the
     * generator is seeded by seq so every run sends the same values. */
    uint64_t x = seq * 0x9E3779B97F4A7C15ull + 1;
    size_t n = sizeof seq;
    memcpy(buf, &seq, sizeof seq);
    while (n < VALUE_BYTES) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double r = (double)(x % 10000) / 10000.0;
        char w[16];
        size_t wl = word_of((unsigned)(1000 * r * r), w);
        for (size_t i = 0; i < wl && n < VALUE_BYTES; i++)
            buf[n++] = (uint8_t)w[i];
        if (n < VALUE_BYTES)
            buf[n++] = ' ';
    }
}

/* ---- Eddy's client ---- */

typedef struct eddy_conn {
    uv_loop_t loop;
    kc_config_t cfg;
    kc_client_t *c;
} eddy_conn_t;

static void eddy_open(eddy_conn_t *e, const char *const *settings, int n)
{
    eddy_props_t ps;
    char err[1024], set[512];
    eddy_props_init(&ps);
    snprintf(set, sizeof set, "bootstrap.servers=%s", bootstrap);
    if (eddy_props_set(&ps, "bench", set, err, sizeof err) < 0 ||
        eddy_props_set(&ps, "bench", "client.id=bench_client", err, sizeof err) < 0)
        die("eddy props: %s", err);
    for (int i = 0; i < n; i++)
        if (eddy_props_set(&ps, "bench", settings[i], err, sizeof err) < 0)
            die("eddy props %s: %s", settings[i], err);
    if (kc_config_load(&e->cfg, &ps, err, sizeof err) < 0)
        die("kc_config_load: %s", err);
    eddy_props_free(&ps);
    uv_loop_init(&e->loop);
    e->c = kc_client_new(&e->loop, &e->cfg, err, sizeof err);
    if (!e->c)
        die("kc_client_new: %s", err);
}

static void eddy_close(eddy_conn_t *e)
{
    kc_client_destroy(e->c);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    uv_loop_close(&e->loop);
    kc_config_free(&e->cfg);
}

static void eddy_warm(eddy_conn_t *e, const char *topic)
{
    char err[512];
    const char *t[1] = {topic};
    int rc = kc_admin_metadata(e->c, t, 1, err, sizeof err);
    if (rc != 0)
        die("eddy metadata %s: %d %s", topic, rc, err);
    const kc_topic_meta_t *tm = kc_metadata_topic(e->c, topic);
    if (!tm || tm->tm_npartitions != PARTS)
        die("eddy metadata: %s has %d partitions", topic, tm ? tm->tm_npartitions : -1);
}

typedef struct eddy_dr {
    long delivered, failed;
    int first_err;
    int16_t first_kerr;
} eddy_dr_t;

static void eddy_on_delivery(kc_producer_t *p, int err, int16_t kafka_err, const char *topic,
                             int32_t partition, int64_t offset, void *opaque)
{
    eddy_dr_t *d = opaque;
    if (!err) {
        d->delivered++;
        return;
    }
    if (!d->failed++) {
        d->first_err = err;
        d->first_kerr = kafka_err;
    }
}

/* kc_delivery_fn has no per-producer opaque: each record carries &d. */
static double eddy_produce(const char *topic)
{
    char ct[64];
    snprintf(ct, sizeof ct, "compression.type=%s", codec);
    const char *settings[] = {"acks=1", "linger.ms=" LINGER_MS, "batch.size=" BATCH_SIZE, ct};
    eddy_conn_t e;
    eddy_open(&e, settings, 4);
    eddy_warm(&e, topic);
    kc_producer_t *p = kc_producer_new(e.c, eddy_on_delivery);
    if (!p)
        die("kc_producer_new failed");
    eddy_dr_t d = {0};
    uint8_t buf[VALUE_BYTES];
    kc_record_t rec = {.rec_key = NULL,
                       .rec_key_len = -1,
                       .rec_value = buf,
                       .rec_value_len = VALUE_BYTES,
                       .rec_timestamp = -1};
    double t0 = now_s();
    for (long i = 0; i < nrec; i++) {
        while (kc_producer_outstanding(p) >= MAX_OUTSTANDING)
            uv_run(&e.loop, UV_RUN_ONCE);
        payload_fill(buf, (uint64_t)i);
        int rc = kc_produce(p, topic, -1, &rec, &d);
        if (rc != 0)
            die("kc_produce: %d", rc);
        if ((i & 1023) == 1023)
            uv_run(&e.loop, UV_RUN_NOWAIT);
    }
    int frc = kc_producer_flush(p, FLUSH_TIMEOUT_MS);
    double secs = now_s() - t0;
    if (frc != 0)
        die("eddy flush: %d; %ld of %ld delivered, %" PRId64 " outstanding", frc, d.delivered, nrec,
            kc_producer_outstanding(p));
    if (d.failed || d.delivered != nrec)
        die("eddy: %ld of %ld delivered, %ld failed (first err %d, kafka %d)", d.delivered, nrec,
            d.failed, d.first_err, d.first_kerr);
    kc_producer_destroy(p);
    eddy_close(&e);
    return (double)nrec / secs;
}

typedef struct eddy_cs {
    long got, bad;
    int64_t next_off[PARTS];
} eddy_cs_t;

static int eddy_on_message(kc_consumer_t *k, const kc_message_t *m, void *opaque)
{
    eddy_cs_t *s = opaque;
    s->got++;
    uint64_t seq;
    if (m->msg_value_len != VALUE_BYTES || m->msg_partition < 0 || m->msg_partition >= PARTS ||
        m->msg_offset != s->next_off[m->msg_partition]) {
        s->bad++;
        return 0;
    }
    s->next_off[m->msg_partition]++;
    memcpy(&seq, m->msg_value, sizeof seq);
    if (seq >= (uint64_t)nrec)
        s->bad++;
    return 0;
}

static void eddy_on_error(kc_consumer_t *k, const kc_consumer_error_t *e, void *opaque)
{
    die("eddy consumer: %s-%d offset %lld: %s", e->ce_topic, e->ce_partition,
        (long long)e->ce_offset, e->ce_why);
}

static int eddy_consume_done(void *opaque)
{
    eddy_cs_t *s = opaque;
    return s->got >= nrec || s->bad;
}

static double eddy_consume(const char *topic)
{
    eddy_conn_t e;
    eddy_open(&e, NULL, 0);
    eddy_warm(&e, topic);
    eddy_cs_t s = {0};
    kc_consumer_cbs_t cbs = {.on_message = eddy_on_message,
                             .on_error = eddy_on_error,
                             .opaque = &s};
    kc_consumer_t *k = kc_consumer_new(e.c, &cbs);
    if (!k)
        die("kc_consumer_new failed");
    double t0 = now_s();
    for (int p = 0; p < PARTS; p++)
        if (kc_consumer_assign(k, topic, p, KC_OFFSET_BEGINNING) != 0)
            die("kc_consumer_assign %s-%d failed", topic, p);
    int rc = kc_run_until(e.c, eddy_consume_done, &s, CONSUME_TIMEOUT_MS);
    double secs = now_s() - t0;
    if (rc != 0 || s.bad)
        die("eddy consumer: %s of %s records after %d s, %ld bad", commas((double)s.got),
            commas((double)nrec), CONSUME_TIMEOUT_MS / 1000, s.bad);
    kc_consumer_destroy(k);
    eddy_close(&e);
    return (double)s.got / secs;
}

/* ---- librdkafka ---- */

static void conf_set(rd_kafka_conf_t *c, const char *k, const char *v)
{
    char err[512];
    if (rd_kafka_conf_set(c, k, v, err, sizeof err) != RD_KAFKA_CONF_OK)
        die("rd_kafka_conf_set %s=%s: %s", k, v, err);
}

static rd_kafka_t *rk_new(rd_kafka_type_t type, rd_kafka_conf_t *c)
{
    char err[512];
    conf_set(c, "bootstrap.servers", bootstrap);
    conf_set(c, "client.id", "bench_client");
    rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof err);
    if (!rk)
        die("rd_kafka_new: %s", err);
    return rk;
}

static void rk_warm(rd_kafka_t *rk, rd_kafka_topic_t *rkt)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    if (err)
        die("rd_kafka_metadata: %s", rd_kafka_err2str(err));
    int parts = md->topic_cnt == 1 ? md->topics[0].partition_cnt : -1;
    rd_kafka_metadata_destroy(md);
    if (parts != PARTS)
        die("librdkafka metadata: %s has %d partitions", rd_kafka_topic_name(rkt), parts);
}

typedef struct rk_dr {
    long delivered, failed;
    rd_kafka_resp_err_t first_err;
} rk_dr_t;

static void rk_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    rk_dr_t *d = opaque;
    if (!m->err)
        d->delivered++;
    else if (!d->failed++)
        d->first_err = m->err;
}

static double rk_produce(const char *topic)
{
    rk_dr_t d = {0};
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    conf_set(c, "acks", "1");
    conf_set(c, "linger.ms", LINGER_MS);
    conf_set(c, "batch.size", BATCH_SIZE);
    conf_set(c, "compression.codec", codec);
    rd_kafka_conf_set_dr_msg_cb(c, rk_on_delivery);
    rd_kafka_conf_set_opaque(c, &d);
    rd_kafka_t *rk = rk_new(RD_KAFKA_PRODUCER, c);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rk_warm(rk, rkt);
    uint8_t buf[VALUE_BYTES];
    double t0 = now_s();
    for (long i = 0; i < nrec;) {
        payload_fill(buf, (uint64_t)i);
        if (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, buf, VALUE_BYTES,
                             NULL, 0, NULL) == -1) {
            rd_kafka_resp_err_t err = rd_kafka_last_error();
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(rk, 1);
                continue;
            }
            die("rd_kafka_produce: %s", rd_kafka_err2str(err));
        }
        if ((++i & 1023) == 0)
            rd_kafka_poll(rk, 0);
    }
    rd_kafka_resp_err_t ferr = rd_kafka_flush(rk, FLUSH_TIMEOUT_MS);
    double secs = now_s() - t0;
    if (ferr)
        die("rd_kafka_flush: %s", rd_kafka_err2str(ferr));
    if (d.failed || d.delivered != nrec)
        die("librdkafka: %ld of %ld delivered, %ld failed (first %s)", d.delivered, nrec, d.failed,
            rd_kafka_err2name(d.first_err));
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return (double)nrec / secs;
}

typedef struct rk_cs {
    long got, bad;
    int64_t next_off[PARTS];
    char first_bad[256];
} rk_cs_t;

static void rk_on_message(rd_kafka_message_t *m, void *opaque)
{
    rk_cs_t *s = opaque;
    if (m->err) {
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
            return;
        if (!s->bad++)
            snprintf(s->first_bad, sizeof s->first_bad, "%s", rd_kafka_message_errstr(m));
        return;
    }
    s->got++;
    if (m->len != VALUE_BYTES || m->partition < 0 || m->partition >= PARTS ||
        m->offset != s->next_off[m->partition]) {
        if (!s->bad++)
            snprintf(s->first_bad, sizeof s->first_bad,
                     "partition %d offset %" PRId64 ", %zu bytes", (int)m->partition, m->offset,
                     m->len);
        return;
    }
    s->next_off[m->partition]++;
}

static double rk_consume(const char *topic)
{
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    conf_set(c, "group.id", "bench_client");
    conf_set(c, "enable.auto.commit", "false");
    conf_set(c, "enable.partition.eof", "false");
    conf_set(c, "queued.min.messages", "10000000");
    conf_set(c, "queued.max.messages.kbytes", "2097151");
    rd_kafka_t *rk = rk_new(RD_KAFKA_CONSUMER, c);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rk_warm(rk, rkt);
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(PARTS);
    for (int p = 0; p < PARTS; p++)
        rd_kafka_topic_partition_list_add(l, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rk_cs_t s = {0};
    double t0 = now_s();
    rd_kafka_resp_err_t err = rd_kafka_assign(rk, l);
    if (err)
        die("rd_kafka_assign: %s", rd_kafka_err2str(err));
    double last = t0;
    long seen = 0;
    while (s.got < nrec && !s.bad) {
        rd_kafka_consume_callback_queue(q, 100, rk_on_message, &s);
        double now = now_s();
        if (s.got != seen) {
            seen = s.got;
            last = now;
        } else if (now - last > CONSUME_TIMEOUT_MS / 1000.0) {
            die("librdkafka consumer: nothing for %d s after %s of %s records",
                CONSUME_TIMEOUT_MS / 1000, commas((double)s.got), commas((double)nrec));
        }
    }
    double secs = now_s() - t0;
    if (s.bad)
        die("librdkafka consumer: %ld bad; first: %s", s.bad, s.first_bad);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_assign(rk, NULL);
    rd_kafka_queue_destroy(q);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return (double)s.got / secs;
}

/* ---- topics ---- */

/* The sum of the partitions' end offsets. */
static int64_t topic_records(const char *name)
{
    eddy_conn_t e;
    eddy_open(&e, NULL, 0);
    eddy_warm(&e, name);
    char err[512];
    int64_t sum = 0;
    for (int p = 0; p < PARTS; p++) {
        int64_t off;
        int rc = kc_admin_list_offset(e.c, name, p, -1, &off, err, sizeof err);
        if (rc != 0)
            die("list offset %s-%d: %d %s", name, p, rc, err);
        sum += off;
    }
    eddy_close(&e);
    return sum;
}

static void topic_name(char *out, size_t size, const char *what, int i)
{
    snprintf(out, size, "bench-client-%s-%s-%d", run_id, what, i);
}

static void topics_create(int n)
{
    eddy_conn_t e;
    eddy_open(&e, NULL, 0);
    char err[512], name[128];
    for (int i = 0; i < n; i++) {
        topic_name(name, sizeof name, "p", i);
        int rc = kc_admin_create_topic(e.c, name, PARTS, 1, NULL, NULL, 0, err, sizeof err);
        if (rc != 0)
            die("create topic %s: %d %s", name, rc, err);
    }
    eddy_close(&e);
}

static void topic_delete(const char *name)
{
    eddy_conn_t e;
    eddy_open(&e, NULL, 0);
    char err[512];
    int rc = kc_admin_delete_topic(e.c, name, err, sizeof err);
    if (rc != 0)
        printf("  (delete topic %s: %d %s; left in place)\n", name, rc, err);
    eddy_close(&e);
}

/* ---- main ---- */

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_client -b HOST:PORT [-n records] [-r rounds (1..%d)] "
            "[-z none|gzip|snappy|lz4|zstd] [-t]\n",
            MAX_ROUNDS);
    exit(2);
}

int main(int argc, char **argv)
{
    int opt;
    while ((opt = getopt(argc, argv, "b:n:r:z:t")) != -1) {
        switch (opt) {
        case 'b': bootstrap = optarg; break;
        case 'z':
            codec = optarg;
            text_values = 1;
            break;
        case 't': text_values = 1; break;
        case 'n': nrec = atol(optarg); break;
        case 'r': rounds = atoi(optarg); break;
        default: usage();
        }
    }
    if (!bootstrap || nrec <= 0 || rounds < 1 || rounds > MAX_ROUNDS)
        usage();
    setvbuf(stdout, NULL, _IOLBF, 0);
    snprintf(run_id, sizeof run_id, "%ld", (long)getpid());

    /* Topic 0..: one per produce run (warm-up included), both sides. */
    int ntopics = 2 * (rounds + 1);
    topics_create(ntopics);
    printf("bench_client: %s records of %d bytes (%s), null key, %d partitions, acks=1, "
           "linger.ms=%s, batch.size=%s, compression %s; %d rounds + warm-up; broker %s\n",
           commas((double)nrec), VALUE_BYTES, text_values ? "text" : "'x'", PARTS, LINGER_MS,
           BATCH_SIZE, codec, rounds, bootstrap);

    double pe[MAX_ROUNDS], pr[MAX_ROUNDS], pratio[MAX_ROUNDS];
    char consume_topic[128] = "";
    int ti = 0;
    printf("produce:\n");
    for (int r = -1; r < rounds; r++) {
        double re = 0, rr = 0;
        int eddy_first = (r + 1) % 2 == 0;
        for (int side = 0; side < 2; side++) {
            int eddy = side == 0 ? eddy_first : !eddy_first;
            char t[128];
            topic_name(t, sizeof t, "p", ti++);
            if (eddy) {
                re = eddy_produce(t);
                if (!consume_topic[0])
                    snprintf(consume_topic, sizeof consume_topic, "%s", t);
                else
                    topic_delete(t);
            } else {
                rr = rk_produce(t);
                topic_delete(t);
            }
        }
        printf("  %-8s eddy %12s/s  librdkafka %12s/s  ratio %.2f\n",
               r < 0 ? "warm-up" : (eddy_first ? "eddy 1st" : "rk first"), commas(re), commas(rr),
               re / rr);
        if (r >= 0) {
            pe[r] = re;
            pr[r] = rr;
            pratio[r] = re / rr;
        }
    }

    int64_t have = topic_records(consume_topic);
    if (have != nrec)
        die("%s holds %" PRId64 " records, not %ld", consume_topic, have, nrec);
    double ce[MAX_ROUNDS], cr[MAX_ROUNDS], cratio[MAX_ROUNDS];
    printf("consume (%s, %s records from the beginning):\n", consume_topic, commas((double)nrec));
    for (int r = -1; r < rounds; r++) {
        double re = 0, rr = 0;
        int eddy_first = (r + 1) % 2 == 0;
        if (eddy_first) {
            re = eddy_consume(consume_topic);
            rr = rk_consume(consume_topic);
        } else {
            rr = rk_consume(consume_topic);
            re = eddy_consume(consume_topic);
        }
        printf("  %-8s eddy %12s/s  librdkafka %12s/s  ratio %.2f\n",
               r < 0 ? "warm-up" : (eddy_first ? "eddy 1st" : "rk first"), commas(re), commas(rr),
               re / rr);
        if (r >= 0) {
            ce[r] = re;
            cr[r] = rr;
            cratio[r] = re / rr;
        }
    }
    topic_delete(consume_topic);

    printf("== summary\n");
    printf("produce  (%s x 100 B, acks=1, linger.ms=%s, batch.size=%s, %s, median of %d): "
           "eddy %s/s, librdkafka %s/s, eddy/librdkafka %.2f (target >= 1.0)\n",
           commas((double)nrec), LINGER_MS, BATCH_SIZE, codec, rounds, commas(median(pe, rounds)),
           commas(median(pr, rounds)), median(pratio, rounds));
    printf("consume  (%s x 100 B from the beginning, 4 partitions, %s, median of %d): "
           "eddy %s/s, librdkafka %s/s, eddy/librdkafka %.2f\n",
           commas((double)nrec), codec, rounds, commas(median(ce, rounds)),
           commas(median(cr, rounds)), median(cratio, rounds));
    return 0;
}

/* bench_kclient: produce throughput, consume throughput and end-to-end
 * latency with librdkafka, against any Kafka-protocol broker. bench/bench_kafka.sh
 * runs it against Eddy's broker and Apache Kafka, so both are measured by the
 * same client code and settings.
 *
 *   bench_kclient produce BOOTSTRAP TOPIC N SIZE ACKS
 *       N records of SIZE bytes (no key, default partitioner, linger.ms=5,
 *       no compression, not idempotent); the timer runs from the first
 *       produce call to the end of the flush (metadata comes before it).
 *       Prints "produce N records SIZE B acks A: R records/s M MB/s".
 *       Exits 1 if any record is not delivered.
 *   bench_kclient consume BOOTSTRAP TOPIC N
 *       every partition from its beginning into one queue, no group, until N
 *       records; the timer runs from the start calls to the Nth record.
 *       Prints "consume N records B bytes: R records/s M MB/s".
 *   bench_kclient e2e BOOTSTRAP TOPIC RATE SECONDS SIZE [ACKS]
 *
 * e2e: one producer sends RATE records/s of SIZE bytes (SIZE >= 16) to partition 0
 * of TOPIC for SECONDS, paced every millisecond; each value starts with the
 * send time (CLOCK_MONOTONIC ns). A second client in the same process (so the
 * clock is the same) consumes partition 0 from its end, started before the
 * first send, and records receive time minus send time for every record. The
 * first second is warm-up and is not counted. Prints one line:
 *   e2e sent N recv M rate R/s p50 X ms p99 Y ms p99.9 Z ms max W ms
 * Exits 1 when a client call fails or fewer than 99% of the records come back
 * within 10 s after the last send.
 */
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

struct cons {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    int64_t *lat;
    size_t cap;
    /* shared between the consumer thread and main */
    _Atomic size_t n, seen;
    _Atomic int64_t warm_until;
    atomic_int stop;
};

static void *consume_loop(void *arg)
{
    struct cons *c = arg;
    while (!c->stop) {
        rd_kafka_message_t *m = rd_kafka_consume(c->rkt, 0, 100);
        if (!m)
            continue;
        int64_t t = now_ns();
        if (!m->err && m->len >= 8) {
            int64_t sent;
            memcpy(&sent, m->payload, 8);
            c->seen++;
            if (sent >= c->warm_until && c->n < c->cap)
                c->lat[c->n++] = t - sent;
        }
        rd_kafka_message_destroy(m);
    }
    return NULL;
}

static rd_kafka_t *client(rd_kafka_type_t type, const char *boot, const char *acks,
                          const char *linger,
                          void (*dr)(rd_kafka_t *, const rd_kafka_message_t *, void *))
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *kv[][2] = {
        {"bootstrap.servers", boot},
        {"fetch.wait.max.ms", "100"},
        {"fetch.error.backoff.ms", "10"},
        {"log_level", "3"},
    };
    const char *pkv[][2] = {
        {"acks", acks},
        {"linger.ms", linger},
        {"enable.idempotence", "false"},
        {"compression.codec", "none"},
        {"queue.buffering.max.messages", "1000000"},
    };
    for (size_t i = 0; type == RD_KAFKA_PRODUCER && i < sizeof pkv / sizeof pkv[0]; i++) {
        if (rd_kafka_conf_set(conf, pkv[i][0], pkv[i][1], err, sizeof err) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "bench_kclient: %s\n", err);
            exit(1);
        }
    }
    if (dr)
        rd_kafka_conf_set_dr_msg_cb(conf, dr);
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], err, sizeof err) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "bench_kclient: %s\n", err);
            exit(1);
        }
    }
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "bench_kclient: %s\n", err);
        exit(1);
    }
    return rk;
}

static long delivered, dr_failed;

static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err) {
        if (dr_failed++ == 0)
            fprintf(stderr, "bench_kclient: delivery failed: %s\n", rd_kafka_err2str(m->err));
    } else {
        delivered++;
    }
}

static int topic_partitions(rd_kafka_t *rk, rd_kafka_topic_t *rkt)
{
    const struct rd_kafka_metadata *md;
    /* 30 s at most: a broker that is gone must not hold the benchmark */
    for (int64_t end = now_ns() + 30000000000LL; now_ns() < end;) {
        if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            int n = md->topic_cnt == 1 && !md->topics[0].err ? md->topics[0].partition_cnt : 0;
            rd_kafka_metadata_destroy(md);
            if (n > 0)
                return n;
        }
        usleep(100000);
    }
    fprintf(stderr, "bench_kclient: no metadata for topic %s\n", rd_kafka_topic_name(rkt));
    return -1;
}

static int produce(const char *boot, const char *topic, long n, long size, const char *acks)
{
    if (n < 1 || size < 1 || size > 1000000) {
        fprintf(stderr, "bench_kclient: N >= 1, SIZE 1..1000000\n");
        return 2;
    }
    rd_kafka_t *p = client(RD_KAFKA_PRODUCER, boot, acks, "5", on_dr);
    rd_kafka_topic_t *pt = rd_kafka_topic_new(p, topic, NULL);
    if (topic_partitions(p, pt) < 0)
        return 1;
    /* varied bytes, as records are; no compression on either side anyway */
    char *buf = malloc((size_t)size + 4096);
    if (!buf)
        return 1;
    for (long i = 0; i < size + 4096; i++)
        buf[i] = (char)('a' + (i * 7919 + i / 13) % 26);
    int64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        while (rd_kafka_produce(pt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, buf + (i & 4095),
                                (size_t)size, NULL, 0, NULL) == -1) {
            if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                fprintf(stderr, "bench_kclient: produce: %s\n",
                        rd_kafka_err2str(rd_kafka_last_error()));
                return 1;
            }
            rd_kafka_poll(p, 1);
        }
        if ((i & 1023) == 0)
            rd_kafka_poll(p, 0);
    }
    while (rd_kafka_outq_len(p) > 0 && now_ns() - t0 < 600000000000LL)
        rd_kafka_flush(p, 1000);
    double s = (double)(now_ns() - t0) / 1e9;
    rd_kafka_topic_destroy(pt);
    rd_kafka_destroy(p);
    free(buf);
    printf("produce %ld records %ld B acks %s: %.0f records/s %.1f MB/s (%.2f s, %ld delivered, "
           "%ld failed)\n",
           n, size, acks, (double)delivered / s, (double)delivered * (double)size / s / 1e6, s,
           delivered, dr_failed);
    return delivered == n ? 0 : 1;
}

static int consume(const char *boot, const char *topic, long n)
{
    if (n < 1) {
        fprintf(stderr, "bench_kclient: N >= 1\n");
        return 2;
    }
    rd_kafka_t *c = client(RD_KAFKA_CONSUMER, boot, "1", "5", NULL);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(c, topic, NULL);
    int np = topic_partitions(c, rkt);
    if (np < 0)
        return 1;
    rd_kafka_queue_t *q = rd_kafka_queue_new(c);
    int64_t t0 = now_ns(), last = t0;
    for (int i = 0; i < np; i++) {
        if (rd_kafka_consume_start_queue(rkt, i, RD_KAFKA_OFFSET_BEGINNING, q) == -1) {
            fprintf(stderr, "bench_kclient: consume_start: %s\n",
                    rd_kafka_err2str(rd_kafka_last_error()));
            return 1;
        }
    }
    long got = 0;
    int64_t bytes = 0;
    while (got < n) {
        rd_kafka_message_t *m = rd_kafka_consume_queue(q, 1000);
        int64_t t = now_ns();
        if (!m) {
            if (t - last > 30000000000LL) {
                fprintf(stderr, "bench_kclient: nothing for 30 s after %ld of %ld records\n", got,
                        n);
                break;
            }
            continue;
        }
        if (!m->err) {
            got++;
            bytes += (int64_t)m->len;
            last = t;
        }
        rd_kafka_message_destroy(m);
    }
    double s = (double)(last - t0) / 1e9;
    for (int i = 0; i < np; i++)
        rd_kafka_consume_stop(rkt, i);
    rd_kafka_queue_destroy(q);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(c);
    printf("consume %ld records %lld B (%d partitions): %.0f records/s %.1f MB/s (%.2f s)\n", got,
           (long long)bytes, np, (double)got / s, (double)bytes / s / 1e6, s);
    return got == n ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc >= 7 && !strcmp(argv[1], "produce"))
        return produce(argv[2], argv[3], atol(argv[4]), atol(argv[5]), argv[6]);
    if (argc >= 5 && !strcmp(argv[1], "consume"))
        return consume(argv[2], argv[3], atol(argv[4]));
    if (argc < 7 || strcmp(argv[1], "e2e")) {
        fprintf(stderr, "usage: bench_kclient produce BOOTSTRAP TOPIC N SIZE ACKS\n"
                        "       bench_kclient consume BOOTSTRAP TOPIC N\n"
                        "       bench_kclient e2e BOOTSTRAP TOPIC RATE SECONDS SIZE [ACKS]\n");
        return 2;
    }
    argc--;
    argv++;
    const char *boot = argv[1], *topic = argv[2], *acks = argc > 6 ? argv[6] : "1";
    long rate = atol(argv[3]), secs = atol(argv[4]), size = atol(argv[5]);
    if (rate < 1 || rate > 1000000 || secs < 2 || secs > 600 || size < 16 || size > 1000000) {
        fprintf(stderr, "bench_kclient: RATE 1..1000000, SECONDS 2..600, SIZE 16..1000000\n");
        return 2;
    }
    struct cons c = {0};
    c.cap = (size_t)rate * (size_t)secs + 1024;
    c.lat = malloc(c.cap * sizeof *c.lat);
    char *buf = calloc(1, (size_t)size);
    if (!c.lat || !buf) {
        fprintf(stderr, "bench_kclient: out of memory\n");
        return 1;
    }
    c.rk = client(RD_KAFKA_CONSUMER, boot, acks, "1", NULL);
    c.rkt = rd_kafka_topic_new(c.rk, topic, NULL);
    if (rd_kafka_consume_start(c.rkt, 0, RD_KAFKA_OFFSET_END) == -1) {
        fprintf(stderr, "bench_kclient: consume_start: %s\n",
                rd_kafka_err2str(rd_kafka_last_error()));
        return 1;
    }
    rd_kafka_t *p = client(RD_KAFKA_PRODUCER, boot, acks, "1", NULL);
    rd_kafka_topic_t *pt = rd_kafka_topic_new(p, topic, NULL);
    /* the consumer must be at the end before the first send: a probe record
     * comes back first (its time is before warm_until, so not counted) */
    int64_t probe = 0;
    memcpy(buf, &probe, 8);
    c.warm_until = INT64_MAX;
    pthread_t th;
    pthread_create(&th, NULL, consume_loop, &c);
    int64_t t0 = now_ns();
    while (c.seen == 0 && now_ns() - t0 < 30000000000LL) {
        rd_kafka_produce(pt, 0, RD_KAFKA_MSG_F_COPY, buf, (size_t)size, NULL, 0, NULL);
        rd_kafka_flush(p, 1000);
        for (int i = 0; i < 10 && c.seen == 0; i++)
            usleep(20000);
    }
    if (c.seen == 0) {
        fprintf(stderr, "bench_kclient: no record came back within 30 s\n");
        return 1;
    }
    long sent = 0, failed = 0;
    t0 = now_ns();
    c.warm_until = t0 + 1000000000LL;
    int64_t end = t0 + secs * 1000000000LL;
    for (;;) {
        int64_t t = now_ns();
        if (t >= end)
            break;
        long due = (long)((double)(t - t0) * (double)rate / 1e9);
        while (sent < due) {
            int64_t ts = now_ns();
            memcpy(buf, &ts, 8);
            if (rd_kafka_produce(pt, 0, RD_KAFKA_MSG_F_COPY, buf, (size_t)size, NULL, 0, NULL) ==
                -1) {
                failed++;
                rd_kafka_poll(p, 1);
                break;
            }
            sent++;
        }
        rd_kafka_poll(p, 0);
        usleep(1000);
    }
    double took = (double)(now_ns() - t0) / 1e9;
    rd_kafka_flush(p, 10000);
    long want = sent - (long)(rate + rate / 100); /* all but the first second */
    int64_t wait_end = now_ns() + 10000000000LL;
    while ((long)c.n < want && now_ns() < wait_end)
        usleep(10000);
    c.stop = 1;
    pthread_join(th, NULL);
    rd_kafka_consume_stop(c.rkt, 0);
    rd_kafka_topic_destroy(c.rkt);
    rd_kafka_destroy(c.rk);
    rd_kafka_topic_destroy(pt);
    rd_kafka_destroy(p);

    qsort(c.lat, c.n, sizeof *c.lat, cmp_i64);
#define PCT(q) (c.n ? (double)c.lat[(size_t)((double)(c.n - 1) * (q))] / 1e6 : 0.0)
    printf("e2e sent %ld recv %zu (counted, after 1 s warm-up) rate %.0f/s p50 %.2f ms p99 %.2f ms "
           "p99.9 %.2f ms max %.2f ms\n",
           sent, c.n, (double)sent / took, PCT(0.5), PCT(0.99), PCT(0.999), PCT(1.0));
    if (failed)
        fprintf(stderr, "bench_kclient: %ld produce calls refused (local queue full)\n", failed);
    int ok = want <= 0 || (double)c.n >= 0.99 * (double)want;
    if (!ok)
        fprintf(stderr, "bench_kclient: only %zu of %ld records came back\n", c.n, want);
    free(c.lat);
    free(buf);
    return ok ? 0 : 1;
}

/* librdkafka against an Eddy broker.
 *
 *   rdkafka_test BOOTSTRAP all
 *       every check below, on a broker started with num.partitions=4:
 *       - acks=1, acks=all, acks=0 keyed produce with headers; every delivery report
 *         succeeds; each record is read back at the partition (and, acks!=0, the offset)
 *         its delivery report gave, keys consistent, no duplicates, none missing
 *         (read back with the high-level consumer + rd_kafka_assign and with the legacy
 *         rd_kafka_consume_start_queue consumer);
 *       - 1,000,000 records over 4 partitions, every offset and payload checked;
 *       - explicit timestamps: CreateTime round trip, rd_kafka_offsets_for_times,
 *         rd_kafka_query_watermark_offsets;
 *       - admin: CreateTopics (configs, validate_only, errors), DescribeConfigs,
 *         DeleteRecords, DeleteTopics.
 *   rdkafka_test BOOTSTRAP produce TOPIC N FILE
 *       acks=all, N records to TOPIC (partitions chosen by key); every delivery report
 *       ("seq partition offset", or "seq err CODE") goes to FILE as it arrives, flushed.
 *       Exit 0 if all N were acknowledged.
 *   rdkafka_test BOOTSTRAP produce-idempotent TOPIC N FILE
 *       the same with enable.idempotence=true.
 *   rdkafka_test BOOTSTRAP follow TOPIC
 *       consumes every partition of TOPIC from the beginning, printing "partition offset"
 *       per record, through broker restarts, until SIGTERM.
 *   rdkafka_test BOOTSTRAP verify TOPIC N FILE [dups-ok]
 *       reads every partition of TOPIC and checks that each record FILE lists as
 *       acknowledged is at the partition/offset it was acknowledged at, with its payload,
 *       and that nothing else is there (with dups-ok: retried duplicates of acknowledged
 *       or unacknowledged records may be there too, but nothing unknown; with ordered: no
 *       duplicate, and each partition holds its record numbers in increasing order).
 *
 * RDKAFKA_DEBUG=<contexts> in the environment turns on librdkafka's debug log.
 * No consumer groups on the broker yet: consumers use manual assignment only. */
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

static double t_start;

static void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[rdkafka_test %6.1fs] ", now_s() - t_start);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "FAIL rdkafka_test.c:%d: ", __LINE__);                                     \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        exit(1);                                                                                   \
    } while (0)
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            FAIL(__VA_ARGS__);                                                                     \
    } while (0)

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz);
    if (!p)
        FAIL("out of memory");
    return p;
}

/* ---- configuration ---- */

static void conf_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char err[512];
    if (rd_kafka_conf_set(conf, k, v, err, sizeof err) != RD_KAFKA_CONF_OK)
        FAIL("conf %s=%s: %s", k, v, err);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)opaque;
    /* Transport errors are logged, not fatal: the checks catch their consequences. A
     * fatal error is. */
    fprintf(stderr, "[rdkafka_test] %s: error %s: %s\n", rd_kafka_name(rk),
            rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
    if (err == RD_KAFKA_RESP_ERR__FATAL)
        FAIL("librdkafka fatal error: %s", reason);
}

/* Settings added to every consumer (edge-case tests), the legacy consumer's
 * auto.offset.reset, and where consumer errors go instead of failing the test. */
static const char *const *g_consumer_extra;
static const char *g_legacy_reset = "error";
static rd_kafka_resp_err_t *g_consumer_err;

/* kv: NULL-terminated list of key, value pairs. */
static rd_kafka_conf_t *mkconf(const char *const *kv)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    conf_set(conf, "bootstrap.servers", bootstrap);
    conf_set(conf, "client.id", "eddy-compat-rdkafka");
    const char *dbg = getenv("RDKAFKA_DEBUG");
    if (dbg && *dbg)
        conf_set(conf, "debug", dbg);
    for (; kv && kv[0]; kv += 2)
        conf_set(conf, kv[0], kv[1]);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    return conf;
}

/* ---- producing ---- */

typedef struct {
    int32_t partition; /* -1 until the delivery report */
    int64_t offset;
    int err; /* RD_KAFKA_RESP_ERR_NO_ERROR, or the report's error */
    int reported;
} dr_t;

typedef struct {
    dr_t *drs;
    long reported, failed;
    FILE *ack_file; /* produce mode */
} dr_state_t;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    dr_state_t *st = opaque;
    long seq = (long)(intptr_t)m->_private;
    dr_t *d = &st->drs[seq];
    if (d->reported)
        FAIL("two delivery reports for record %ld", seq);
    d->reported = 1;
    d->partition = m->partition;
    d->offset = m->offset;
    d->err = m->err;
    st->reported++;
    if (m->err) {
        st->failed++;
        if (st->failed <= 5)
            fprintf(stderr, "[rdkafka_test] delivery of record %ld failed: %s\n", seq,
                    rd_kafka_err2str(m->err));
    }
    if (st->ack_file) {
        if (m->err)
            fprintf(st->ack_file, "%ld err %d\n", seq, m->err);
        else
            fprintf(st->ack_file, "%ld %" PRId32 " %" PRId64 "\n", seq, m->partition, m->offset);
        fflush(st->ack_file);
    }
}

static rd_kafka_t *new_producer(const char *const *kv, dr_state_t *st)
{
    rd_kafka_conf_t *conf = mkconf(kv);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_opaque(conf, st);
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk)
        FAIL("rd_kafka_new(producer): %s", err);
    return rk;
}

/* Key and value of keyed record seq (acks tests, restart test). */
static int keyed_key(char *buf, size_t n, long seq)
{
    return snprintf(buf, n, "key-%ld", seq % 1009);
}
static int keyed_value(char *buf, size_t n, const char *tag, long seq)
{
    return snprintf(buf, n, "%s record %ld: %08lx", tag, seq, (unsigned long)(seq * 2654435761u));
}

static void produce_one(rd_kafka_t *rk, const char *topic, int32_t partition, const void *key,
                        size_t klen, const void *val, size_t vlen, int64_t ts,
                        rd_kafka_headers_t *hdrs, long seq)
{
    for (;;) {
        rd_kafka_resp_err_t err;
        if (hdrs)
            err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_VALUE((void *)val, vlen),
                                    RD_KAFKA_V_TIMESTAMP(ts),
                                    RD_KAFKA_V_OPAQUE((void *)(intptr_t)seq),
                                    RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
        else
            err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_VALUE((void *)val, vlen),
                                    RD_KAFKA_V_TIMESTAMP(ts),
                                    RD_KAFKA_V_OPAQUE((void *)(intptr_t)seq), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(rk, 20);
            continue;
        }
        if (err) {
            if (hdrs)
                rd_kafka_headers_destroy(hdrs);
            FAIL("rd_kafka_producev(%s, record %ld): %s", topic, seq, rd_kafka_err2str(err));
        }
        return; /* the headers belong to the message now */
    }
}

static void flush_all(rd_kafka_t *rk, dr_state_t *st, long n, int timeout_ms)
{
    rd_kafka_resp_err_t err = rd_kafka_flush(rk, timeout_ms);
    CHECK(err == RD_KAFKA_RESP_ERR_NO_ERROR,
          "flush: %s with %d messages still queued, %ld of %ld reported", rd_kafka_err2str(err),
          rd_kafka_outq_len(rk), st->reported, n);
    CHECK(st->reported == n, "flush done but only %ld of %ld delivery reports", st->reported, n);
}

/* ---- consuming ---- */

typedef void (*msg_fn)(const rd_kafka_message_t *m, void *arg);

static int topic_partitions(rd_kafka_t *rk, const char *topic)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    CHECK(err == RD_KAFKA_RESP_ERR_NO_ERROR, "metadata for %s: %s", topic, rd_kafka_err2str(err));
    CHECK(md->topic_cnt == 1, "metadata for %s: %d topics", topic, md->topic_cnt);
    CHECK(md->topics[0].err == 0, "metadata for %s: %s", topic,
          rd_kafka_err2str(md->topics[0].err));
    int n = md->topics[0].partition_cnt;
    for (int i = 0; i < n; i++) {
        CHECK(md->topics[0].partitions[i].leader == 0, "%s [%d]: leader %d", topic,
              md->topics[0].partitions[i].id, md->topics[0].partitions[i].leader);
        CHECK(md->topics[0].partitions[i].err == 0, "%s [%d]: %s", topic,
              md->topics[0].partitions[i].id, rd_kafka_err2str(md->topics[0].partitions[i].err));
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return n;
}

/* High-level consumer, manual assignment of every partition at start, until each partition
 * reported EOF with nothing newer. Returns the number of messages. */
static long consume_assign(const char *topic, int nparts, int64_t start, msg_fn fn, void *arg,
                           int timeout_s)
{
    /* group.id is required for rd_kafka_assign(); nothing is committed and no group is
     * joined (the broker has no consumer groups yet). */
    const char *kv[] = {"group.id",
                        "eddy-compat-assign",
                        "enable.auto.commit",
                        "false",
                        "enable.auto.offset.store",
                        "false",
                        "enable.partition.eof",
                        "true",
                        "auto.offset.reset",
                        "error",
                        "fetch.wait.max.ms",
                        "100",
                        NULL};
    rd_kafka_conf_t *conf = mkconf(kv);
    for (const char *const *x = g_consumer_extra; x && x[0]; x += 2)
        conf_set(conf, x[0], x[1]);
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk)
        FAIL("rd_kafka_new(consumer): %s", err);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(nparts);
    for (int p = 0; p < nparts; p++)
        rd_kafka_topic_partition_list_add(l, topic, p)->offset = start;
    rd_kafka_resp_err_t e = rd_kafka_assign(rk, l);
    CHECK(e == RD_KAFKA_RESP_ERR_NO_ERROR, "rd_kafka_assign: %s", rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(l);
    int *eof = xcalloc((size_t)nparts, sizeof *eof);
    int eofs = 0;
    long n = 0;
    double deadline = now_s() + timeout_s;
    while (eofs < nparts) {
        CHECK(now_s() < deadline,
              "%s: consumer still missing EOF on %d of %d partitions after %d s "
              "(%ld messages)",
              topic, nparts - eofs, nparts, timeout_s, n);
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (!eof[m->partition]) {
                eof[m->partition] = 1;
                eofs++;
            }
        } else if (m->err) {
            FAIL("%s [%d]: consumer error: %s", topic, m->partition, rd_kafka_message_errstr(m));
        } else {
            CHECK(m->partition >= 0 && m->partition < nparts, "message from partition %d",
                  m->partition);
            if (eof[m->partition]) {
                eof[m->partition] = 0;
                eofs--;
            }
            n++;
            fn(m, arg);
        }
        rd_kafka_message_destroy(m);
    }
    free(eof);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return n;
}

/* Legacy (simple) consumer: rd_kafka_consume_start_queue on every partition. */
static long consume_legacy(const char *topic, int nparts, int64_t start, msg_fn fn, void *arg,
                           int timeout_s)
{
    const char *kv[] = {"enable.partition.eof", "true", "fetch.wait.max.ms", "100", NULL};
    rd_kafka_conf_t *conf = mkconf(kv);
    for (const char *const *x = g_consumer_extra; x && x[0]; x += 2)
        conf_set(conf, x[0], x[1]);
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk)
        FAIL("rd_kafka_new(legacy consumer): %s", err);
    rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
    if (rd_kafka_topic_conf_set(tconf, "auto.offset.reset", g_legacy_reset, err, sizeof err))
        FAIL("topic conf: %s", err);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, tconf);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    for (int p = 0; p < nparts; p++)
        CHECK(rd_kafka_consume_start_queue(rkt, p, start, q) == 0,
              "consume_start_queue %s [%d]: %s", topic, p, rd_kafka_err2str(rd_kafka_last_error()));
    int *eof = xcalloc((size_t)nparts, sizeof *eof);
    int eofs = 0;
    long n = 0;
    double deadline = now_s() + timeout_s;
    while (eofs < nparts) {
        CHECK(now_s() < deadline,
              "%s: legacy consumer still missing EOF on %d of %d partitions after "
              "%d s (%ld messages)",
              topic, nparts - eofs, nparts, timeout_s, n);
        rd_kafka_message_t *m = rd_kafka_consume_queue(q, 200);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (!eof[m->partition]) {
                eof[m->partition] = 1;
                eofs++;
            }
        } else if (m->err && g_consumer_err) {
            /* Expected by the caller: the partition is done. */
            note("%s [%d]: legacy consumer error (expected): %s: %s", topic, m->partition,
                 rd_kafka_err2name(m->err), rd_kafka_message_errstr(m));
            *g_consumer_err = m->err;
            if (!eof[m->partition]) {
                eof[m->partition] = 1;
                eofs++;
            }
        } else if (m->err) {
            FAIL("%s [%d]: legacy consumer error: %s", topic, m->partition,
                 rd_kafka_message_errstr(m));
        } else {
            if (eof[m->partition]) {
                eof[m->partition] = 0;
                eofs--;
            }
            n++;
            fn(m, arg);
        }
        rd_kafka_message_destroy(m);
    }
    free(eof);
    for (int p = 0; p < nparts; p++)
        rd_kafka_consume_stop(rkt, p);
    rd_kafka_queue_destroy(q);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return n;
}

/* ---- 1. keyed produce with acks=1/all/0, read back where the delivery reports said ---- */

typedef struct {
    const char *tag;
    long n;
    dr_t *drs;
    char *seen;
    int check_offsets;
    int32_t *key_part; /* partition per key-%d, -1 unknown */
} keyed_check_t;

static long parse_seq(const rd_kafka_message_t *m, const char *tag)
{
    char buf[128];
    size_t len = m->len < sizeof buf - 1 ? m->len : sizeof buf - 1;
    memcpy(buf, m->payload, len);
    buf[len] = 0;
    char want[64];
    snprintf(want, sizeof want, "%s record ", tag);
    CHECK(strncmp(buf, want, strlen(want)) == 0, "[%d] offset %" PRId64 ": unexpected payload '%s'",
          m->partition, m->offset, buf);
    return strtol(buf + strlen(want), NULL, 10);
}

static void keyed_msg(const rd_kafka_message_t *m, void *arg)
{
    keyed_check_t *c = arg;
    long seq = parse_seq(m, c->tag);
    CHECK(seq >= 0 && seq < c->n, "%s: record number %ld out of range", c->tag, seq);
    char k[64], v[128];
    int kl = keyed_key(k, sizeof k, seq), vl = keyed_value(v, sizeof v, c->tag, seq);
    CHECK(m->len == (size_t)vl && memcmp(m->payload, v, (size_t)vl) == 0,
          "%s record %ld: payload '%.*s'", c->tag, seq, (int)m->len, (const char *)m->payload);
    CHECK(m->key_len == (size_t)kl && memcmp(m->key, k, (size_t)kl) == 0,
          "%s record %ld: key '%.*s', "
          "expected '%s'",
          c->tag, seq, (int)m->key_len, (const char *)m->key, k);
    CHECK(!c->seen[seq], "%s record %ld read twice (second at [%d] %" PRId64 ")", c->tag, seq,
          m->partition, m->offset);
    c->seen[seq] = 1;
    dr_t *d = &c->drs[seq];
    CHECK(m->partition == d->partition,
          "%s record %ld (key %s) is on partition %d, its delivery report "
          "said %d",
          c->tag, seq, k, m->partition, d->partition);
    if (c->check_offsets)
        CHECK(m->offset == d->offset,
              "%s record %ld is at [%d] offset %" PRId64 ", its delivery report said %" PRId64,
              c->tag, seq, m->partition, m->offset, d->offset);
    long kid = seq % 1009;
    CHECK(c->key_part[kid] == -1 || c->key_part[kid] == m->partition,
          "key %s on partitions %d and %d", k, c->key_part[kid], m->partition);
    c->key_part[kid] = m->partition;
    /* The header carries the record number. */
    rd_kafka_headers_t *h = NULL;
    CHECK(rd_kafka_message_headers(m, &h) == 0 && h, "%s record %ld: no headers", c->tag, seq);
    const void *hv;
    size_t hl;
    CHECK(rd_kafka_header_get_last(h, "seq", &hv, &hl) == 0, "%s record %ld: no 'seq' header",
          c->tag, seq);
    char hb[32];
    snprintf(hb, sizeof hb, "%ld", seq);
    CHECK(hl == strlen(hb) && memcmp(hv, hb, hl) == 0, "%s record %ld: header seq='%.*s'", c->tag,
          seq, (int)hl, (const char *)hv);
    CHECK(rd_kafka_header_get_last(h, "empty", &hv, &hl) == 0 && hl == 0,
          "%s record %ld: header 'empty' missing or not empty", c->tag, seq);
    CHECK(rd_kafka_header_get_last(h, "null", &hv, &hl) == 0 && hv == NULL,
          "%s record %ld: header 'null' missing or not null", c->tag, seq);
}

static void test_acks(const char *acks, int legacy)
{
    char topic[64], tag[32];
    snprintf(topic, sizeof topic, "acks-%s", acks);
    snprintf(tag, sizeof tag, "acks=%s", acks);
    const long n = 50000;
    dr_state_t st = {0};
    st.drs = xcalloc((size_t)n, sizeof *st.drs);
    const char *kv[] = {"acks",   acks, "linger.ms", "5", "queue.buffering.max.messages",
                        "200000", NULL};
    rd_kafka_t *rk = new_producer(kv, &st);
    for (long i = 0; i < n; i++) {
        char k[64], v[128];
        int kl = keyed_key(k, sizeof k, i), vl = keyed_value(v, sizeof v, tag, i);
        rd_kafka_headers_t *h = rd_kafka_headers_new(3);
        char hb[32];
        snprintf(hb, sizeof hb, "%ld", i);
        rd_kafka_header_add(h, "seq", -1, hb, -1);
        rd_kafka_header_add(h, "empty", -1, "", 0);
        rd_kafka_header_add(h, "null", -1, NULL, 0);
        produce_one(rk, topic, RD_KAFKA_PARTITION_UA, k, (size_t)kl, v, (size_t)vl, 0, h, i);
        rd_kafka_poll(rk, 0);
    }
    flush_all(rk, &st, n, 60000);
    CHECK(st.failed == 0, "%s: %ld of %ld deliveries failed", tag, st.failed, n);
    int nparts = topic_partitions(rk, topic);
    CHECK(nparts == 4, "%s: auto-created with %d partitions, num.partitions is 4", topic, nparts);
    rd_kafka_destroy(rk);

    /* The delivery reports themselves: acks=0 has no offsets; otherwise they are exactly
     * 0..count-1 per partition. */
    long per[4] = {0};
    for (long i = 0; i < n; i++) {
        CHECK(st.drs[i].partition >= 0 && st.drs[i].partition < 4,
              "%s record %ld: reported partition %d", tag, i, st.drs[i].partition);
        per[st.drs[i].partition]++;
    }
    int zero = !strcmp(acks, "0");
    if (!zero) {
        char *used[4];
        for (int p = 0; p < 4; p++)
            used[p] = xcalloc((size_t)per[p] + 1, 1);
        for (long i = 0; i < n; i++) {
            dr_t *d = &st.drs[i];
            CHECK(d->offset >= 0 && d->offset < per[d->partition],
                  "%s record %ld: reported offset "
                  "%" PRId64 " on partition %d which got %ld records",
                  tag, i, d->offset, d->partition, per[d->partition]);
            CHECK(!used[d->partition][d->offset], "%s: two records reported at [%d] %" PRId64, tag,
                  d->partition, d->offset);
            used[d->partition][d->offset] = 1;
        }
        for (int p = 0; p < 4; p++)
            free(used[p]);
    } else {
        /* acks=0: wait until the broker has appended them all (no acknowledgement). */
        rd_kafka_t *q = new_producer(NULL, &st);
        double deadline = now_s() + 20;
        long total;
        do {
            total = 0;
            for (int p = 0; p < 4; p++) {
                int64_t lo, hi;
                rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(q, topic, p, &lo, &hi,
                                                                         10000);
                CHECK(e == 0, "watermarks %s [%d]: %s", topic, p, rd_kafka_err2str(e));
                total += hi;
            }
            if (total >= n)
                break;
            usleep(100000);
        } while (now_s() < deadline);
        CHECK(total == n, "acks=0: the broker holds %ld records, %ld were sent", total, n);
        rd_kafka_destroy(q);
    }
    for (int p = 0; p < 4; p++)
        CHECK(per[p] > 0, "%s: keyed records never went to partition %d", tag, p);

    keyed_check_t c = {tag,    n,
                       st.drs, xcalloc((size_t)n, 1),
                       !zero,  xcalloc(1009, sizeof(int32_t))};
    for (int i = 0; i < 1009; i++)
        c.key_part[i] = -1;
    long got = legacy ? consume_legacy(topic, 4, RD_KAFKA_OFFSET_BEGINNING, keyed_msg, &c, 60)
                      : consume_assign(topic, 4, RD_KAFKA_OFFSET_BEGINNING, keyed_msg, &c, 60);
    CHECK(got == n, "%s: read %ld records back, produced %ld", tag, got, n);
    note("%s: %ld keyed records with headers delivered and read back (%s consumer) where the "
         "delivery reports said (%ld/%ld/%ld/%ld)",
         tag, n, legacy ? "legacy" : "assign", per[0], per[1], per[2], per[3]);
    free(c.seen);
    free(c.key_part);
    free(st.drs);
}

/* ---- 2. one million records ---- */

#define BIG_N 1000000L
#define BIG_P 4

static int big_value(char *buf, size_t n, long seq)
{
    unsigned long h = (unsigned long)seq * 0x9E3779B97F4A7C15ul;
    return snprintf(buf, n, "seq=%07ld h=%016lx", seq, h);
}

typedef struct {
    int64_t next[BIG_P];
    int64_t ts_min;
} big_check_t;

static void big_msg(const rd_kafka_message_t *m, void *arg)
{
    big_check_t *c = arg;
    int p = m->partition;
    CHECK(m->offset == c->next[p],
          "big [%d]: offset %" PRId64 " where %" PRId64 " was expected (%s)", p, m->offset,
          c->next[p], m->offset > c->next[p] ? "gap" : "duplicate or rewind");
    long seq = (long)m->offset * BIG_P + p;
    char v[64];
    int vl = big_value(v, sizeof v, seq);
    CHECK(m->len == (size_t)vl && memcmp(m->payload, v, (size_t)vl) == 0,
          "big [%d] offset %" PRId64 ": payload '%.*s', expected '%s'", p, m->offset, (int)m->len,
          (const char *)m->payload, v);
    CHECK(m->key == NULL, "big [%d] offset %" PRId64 ": a key appeared", p, m->offset);
    rd_kafka_timestamp_type_t tt;
    int64_t ts = rd_kafka_message_timestamp(m, &tt);
    CHECK(tt == RD_KAFKA_TIMESTAMP_CREATE_TIME && ts >= c->ts_min,
          "big [%d] offset %" PRId64 ": timestamp %" PRId64 " type %d", p, m->offset, ts, tt);
    c->next[p]++;
}

static void test_big(void)
{
    const char *topic = "big";
    dr_state_t st = {0};
    st.drs = xcalloc((size_t)BIG_N, sizeof *st.drs);
    const char *kv[] = {"acks",
                        "all",
                        "linger.ms",
                        "20",
                        "batch.num.messages",
                        "10000",
                        "queue.buffering.max.messages",
                        "1000000",
                        "queue.buffering.max.kbytes",
                        "1048576",
                        NULL};
    rd_kafka_t *rk = new_producer(kv, &st);
    int64_t t0 = wall_ms() - 1000;
    double t = now_s();
    for (long i = 0; i < BIG_N; i++) {
        char v[64];
        int vl = big_value(v, sizeof v, i);
        produce_one(rk, topic, (int32_t)(i % BIG_P), NULL, 0, v, (size_t)vl, 0, NULL, i);
        if ((i & 1023) == 0)
            rd_kafka_poll(rk, 0);
    }
    flush_all(rk, &st, BIG_N, 120000);
    CHECK(st.failed == 0, "big: %ld of %ld deliveries failed", st.failed, BIG_N);
    for (long i = 0; i < BIG_N; i++)
        CHECK(st.drs[i].partition == i % BIG_P && st.drs[i].offset == i / BIG_P,
              "big record %ld: delivered to [%d] %" PRId64 ", expected [%ld] %ld", i,
              st.drs[i].partition, st.drs[i].offset, i % BIG_P, i / BIG_P);
    double tp = now_s() - t;
    for (int p = 0; p < BIG_P; p++) {
        int64_t lo = -9, hi = -9;
        rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000);
        CHECK(e == 0, "watermarks big [%d]: %s", p, rd_kafka_err2str(e));
        CHECK(lo == 0 && hi == BIG_N / BIG_P,
              "big [%d]: watermarks %" PRId64 "..%" PRId64 ", expected 0..%ld", p, lo, hi,
              BIG_N / BIG_P);
    }
    rd_kafka_destroy(rk);
    free(st.drs);
    t = now_s();
    big_check_t c = {{0}, t0};
    long got = consume_assign(topic, BIG_P, RD_KAFKA_OFFSET_BEGINNING, big_msg, &c, 120);
    CHECK(got == BIG_N, "big: read %ld records back, produced %ld", got, BIG_N);
    for (int p = 0; p < BIG_P; p++)
        CHECK(c.next[p] == BIG_N / BIG_P, "big [%d]: %" PRId64 " records", p, c.next[p]);
    note("big: %ld records over %d partitions produced (%.1f s, acks=all) and read back exactly "
         "(%.1f s)",
         BIG_N, BIG_P, tp, now_s() - t);
}

/* ---- 3. timestamps: CreateTime, offsets_for_times, watermarks ---- */

typedef struct {
    int64_t base;
    long n;
    long got;
} ts_check_t;

static void ts_msg(const rd_kafka_message_t *m, void *arg)
{
    ts_check_t *c = arg;
    rd_kafka_timestamp_type_t tt;
    int64_t ts = rd_kafka_message_timestamp(m, &tt);
    CHECK(m->partition == 0, "ts: message on partition %d", m->partition);
    CHECK(m->offset == c->got, "ts: offset %" PRId64 ", expected %ld", m->offset, c->got);
    CHECK(tt == RD_KAFKA_TIMESTAMP_CREATE_TIME,
          "ts offset %" PRId64 ": timestamp type %d, expected "
          "CreateTime",
          m->offset, tt);
    CHECK(ts == c->base + m->offset * 1000,
          "ts offset %" PRId64 ": timestamp %" PRId64 ", produced %" PRId64, m->offset, ts,
          c->base + m->offset * 1000);
    c->got++;
}

static int64_t offset_for_time(rd_kafka_t *rk, const char *topic, int32_t p, int64_t ts)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, p)->offset = ts;
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(rk, l, 10000);
    CHECK(e == 0, "offsets_for_times(%s [%d], %" PRId64 "): %s", topic, p, ts, rd_kafka_err2str(e));
    CHECK(l->elems[0].err == 0, "offsets_for_times(%s [%d], %" PRId64 "): partition error %s",
          topic, p, ts, rd_kafka_err2str(l->elems[0].err));
    int64_t off = l->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(l);
    return off;
}

static void test_timestamps(void)
{
    const char *topic = "ts";
    const long n = 100;
    /* Explicit CreateTimes one second apart, a day in the past (the broker keeps
     * CreateTime as given). */
    int64_t base = (wall_ms() / 1000 - 86400) * 1000;
    dr_state_t st = {0};
    st.drs = xcalloc((size_t)n, sizeof *st.drs);
    const char *kv[] = {"acks", "all", "linger.ms", "50", NULL};
    rd_kafka_t *rk = new_producer(kv, &st);
    for (long i = 0; i < n; i++) {
        char v[32];
        int vl = snprintf(v, sizeof v, "ts-%ld", i);
        produce_one(rk, topic, 0, NULL, 0, v, (size_t)vl, base + i * 1000, NULL, i);
    }
    flush_all(rk, &st, n, 30000);
    CHECK(st.failed == 0, "ts: %ld deliveries failed", st.failed);
    /* Several partitions auto-created; everything went to partition 0. */
    int nparts = topic_partitions(rk, topic);
    for (int p = 0; p < nparts; p++) {
        int64_t lo = -9, hi = -9;
        rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000);
        CHECK(e == 0, "watermarks ts [%d]: %s", p, rd_kafka_err2str(e));
        CHECK(lo == 0 && hi == (p == 0 ? n : 0), "ts [%d]: watermarks %" PRId64 "..%" PRId64, p, lo,
              hi);
    }
    struct {
        int64_t ts, want;
    } q[] = {
        {base - 5000, 0},             /* before everything: the first record */
        {base, 0},                    /* exactly the first */
        {base + 1, 1},                /* just after the first */
        {base + 50000, 50},           /* exact hit */
        {base + 50500, 51},           /* between two: the later one */
        {base + (n - 1) * 1000, n - 1}, /* the last */
        {base + n * 1000, -1},        /* after everything: none (RD_KAFKA_OFFSET_END) */
    };
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        int64_t off = offset_for_time(rk, topic, 0, q[i].ts);
        CHECK(off == q[i].want,
              "offsets_for_times(ts [0], base%+" PRId64 "): offset %" PRId64 ", expected %" PRId64,
              q[i].ts - base, off, q[i].want);
    }
    /* An empty partition: no record at or after any time. */
    if (nparts > 1) {
        int64_t off = offset_for_time(rk, topic, 1, base);
        CHECK(off == -1, "offsets_for_times on an empty partition: %" PRId64 ", expected -1", off);
    }
    /* Several partitions in one request. */
    if (nparts >= 3) {
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(3);
        rd_kafka_topic_partition_list_add(l, topic, 0)->offset = base + 10000;
        rd_kafka_topic_partition_list_add(l, topic, 1)->offset = 0;
        rd_kafka_topic_partition_list_add(l, topic, 2)->offset = wall_ms() + 3600000;
        rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(rk, l, 10000);
        CHECK(e == 0, "offsets_for_times (3 partitions): %s", rd_kafka_err2str(e));
        for (int i = 0; i < 3; i++)
            CHECK(l->elems[i].err == 0, "offsets_for_times %s [%d]: %s", l->elems[i].topic,
                  l->elems[i].partition, rd_kafka_err2str(l->elems[i].err));
        CHECK(l->elems[0].offset == 10 && l->elems[1].offset == -1 && l->elems[2].offset == -1,
              "offsets_for_times (3 partitions): %" PRId64 ", %" PRId64 ", %" PRId64
              ", expected 10, -1, -1",
              l->elems[0].offset, l->elems[1].offset, l->elems[2].offset);
        rd_kafka_topic_partition_list_destroy(l);
    }
    /* An unknown partition. */
    {
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, topic, 99)->offset = base;
        rd_kafka_offsets_for_times(rk, l, 5000);
        CHECK(l->elems[0].err != 0,
              "offsets_for_times on partition 99 of %s: no error (offset %" PRId64 ")", topic,
              l->elems[0].offset);
        rd_kafka_topic_partition_list_destroy(l);
    }
    rd_kafka_destroy(rk);
    free(st.drs);

    ts_check_t c = {base, n, 0};
    long got = consume_assign(topic, 1, RD_KAFKA_OFFSET_BEGINNING, ts_msg, &c, 30);
    CHECK(got == n, "ts: read %ld, produced %ld", got, n);
    /* Start from a timestamp-derived offset with the legacy consumer. */
    c.got = 51;
    got = consume_legacy(topic, 1, 51, ts_msg, &c, 30);
    CHECK(got == n - 51, "ts from offset 51: read %ld, expected %ld", got, n - 51);
    note("timestamps: CreateTime round trip, offsets_for_times (7 cases, empty and unknown "
         "partitions, "
         "multi-partition request), watermarks ok");
}

/* ---- 4. admin API ---- */

static rd_kafka_event_t *admin_wait(rd_kafka_queue_t *q, rd_kafka_event_type_t type,
                                    const char *what)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    CHECK(ev, "%s: no result within 30 s", what);
    CHECK(rd_kafka_event_type(ev) == type, "%s: event type %d", what, rd_kafka_event_type(ev));
    CHECK(rd_kafka_event_error(ev) == 0, "%s: %s", what, rd_kafka_event_error_string(ev));
    return ev;
}

/* Creates topics, returns each topic's error code in errs[] (and message in msgs[]). */
static void create_topics(rd_kafka_t *rk, rd_kafka_NewTopic_t **nts, const char *const *names,
                          int n, int validate_only, int *errs, const char *what)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    char err[512];
    CHECK(rd_kafka_AdminOptions_set_operation_timeout(o, 10000, err, sizeof err) == 0, "%s", err);
    CHECK(rd_kafka_AdminOptions_set_request_timeout(o, 20000, err, sizeof err) == 0, "%s", err);
    if (validate_only)
        CHECK(rd_kafka_AdminOptions_set_validate_only(o, 1, err, sizeof err) == 0, "%s", err);
    rd_kafka_CreateTopics(rk, nts, (size_t)n, o, q);
    rd_kafka_event_t *ev = admin_wait(q, RD_KAFKA_EVENT_CREATETOPICS_RESULT, what);
    size_t cnt;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
    CHECK((int)cnt == n, "%s: %zu results for %d topics", what, cnt, n);
    for (int i = 0; i < n; i++) {
        CHECK(!strcmp(rd_kafka_topic_result_name(res[i]), names[i]), "%s: result %d is for '%s'",
              what, i, rd_kafka_topic_result_name(res[i]));
        errs[i] = rd_kafka_topic_result_error(res[i]);
        if (errs[i])
            note("%s: %s -> %s (%s)", what, rd_kafka_topic_result_name(res[i]),
                 rd_kafka_err2name(errs[i]), rd_kafka_topic_result_error_string(res[i]));
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
}

static int delete_topic(rd_kafka_t *rk, const char *name)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(name);
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DELETETOPICS);
    char err[512];
    CHECK(rd_kafka_AdminOptions_set_operation_timeout(o, 10000, err, sizeof err) == 0, "%s", err);
    rd_kafka_DeleteTopics(rk, &dt, 1, o, q);
    rd_kafka_event_t *ev = admin_wait(q, RD_KAFKA_EVENT_DELETETOPICS_RESULT, "DeleteTopics");
    size_t cnt;
    const rd_kafka_topic_result_t **res =
        rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &cnt);
    CHECK(cnt == 1 && !strcmp(rd_kafka_topic_result_name(res[0]), name),
          "DeleteTopics %s: %zu results", name, cnt);
    int e = rd_kafka_topic_result_error(res[0]);
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_DeleteTopic_destroy(dt);
    rd_kafka_queue_destroy(q);
    return e;
}

/* Does a full (all topics) metadata request list the topic? Sets *parts. */
static int topic_listed(rd_kafka_t *rk, const char *name, int *parts)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, 10000);
    CHECK(err == 0, "metadata (all topics): %s", rd_kafka_err2str(err));
    int found = 0;
    for (int i = 0; i < md->topic_cnt; i++) {
        CHECK(md->topics[i].err == 0, "metadata (all topics): topic %s has error %s",
              md->topics[i].topic, rd_kafka_err2str(md->topics[i].err));
        if (!strcmp(md->topics[i].topic, name)) {
            found = 1;
            if (parts)
                *parts = md->topics[i].partition_cnt;
        }
    }
    CHECK(md->broker_cnt == 1 && md->brokers[0].id == 0, "metadata: %d brokers, first id %d",
          md->broker_cnt, md->broker_cnt ? md->brokers[0].id : -1);
    rd_kafka_metadata_destroy(md);
    return found;
}

/* DescribeConfigs of one resource; returns the value of key (strdup'ed, or NULL if absent)
 * and its source in *source. */
static char *describe_config(rd_kafka_t *rk, rd_kafka_ResourceType_t type, const char *name,
                             const char *key, int *source, int *resource_err, int *nentries)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_ConfigResource_t *cr = rd_kafka_ConfigResource_new(type, name);
    rd_kafka_DescribeConfigs(rk, &cr, 1, NULL, q);
    rd_kafka_event_t *ev = admin_wait(q, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, "DescribeConfigs");
    size_t cnt;
    const rd_kafka_ConfigResource_t **rs =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &cnt);
    CHECK(cnt == 1, "DescribeConfigs %s: %zu resources", name, cnt);
    CHECK(rd_kafka_ConfigResource_type(rs[0]) == type &&
              !strcmp(rd_kafka_ConfigResource_name(rs[0]), name),
          "DescribeConfigs: answer for %d/%s", rd_kafka_ConfigResource_type(rs[0]),
          rd_kafka_ConfigResource_name(rs[0]));
    *resource_err = rd_kafka_ConfigResource_error(rs[0]);
    size_t ne = 0;
    const rd_kafka_ConfigEntry_t **es = rd_kafka_ConfigResource_configs(rs[0], &ne);
    *nentries = (int)ne;
    char *val = NULL;
    for (size_t i = 0; i < ne; i++)
        if (!strcmp(rd_kafka_ConfigEntry_name(es[i]), key)) {
            const char *v = rd_kafka_ConfigEntry_value(es[i]);
            val = strdup(v ? v : "(null)");
            *source = rd_kafka_ConfigEntry_source(es[i]);
        }
    rd_kafka_event_destroy(ev);
    rd_kafka_ConfigResource_destroy(cr);
    rd_kafka_queue_destroy(q);
    return val;
}

typedef struct {
    long got;
    int64_t first[8];
} admin_check_t;

static void admin_msg(const rd_kafka_message_t *m, void *arg)
{
    admin_check_t *c = arg;
    if (c->first[m->partition] < 0)
        c->first[m->partition] = m->offset;
    char want[64];
    int wl = snprintf(want, sizeof want, "admin-%" PRId32 "-%" PRId64, m->partition, m->offset);
    CHECK(m->len == (size_t)wl && !memcmp(m->payload, want, (size_t)wl),
          "created-topic [%d] %" PRId64 ": '%.*s'", m->partition, m->offset, (int)m->len,
          (const char *)m->payload);
    c->got++;
}

static void test_admin(void)
{
    dr_state_t st = {0};
    const long n = 5 * 200;
    st.drs = xcalloc((size_t)n, sizeof *st.drs);
    const char *kv[] = {"acks", "all", "allow.auto.create.topics", "false", NULL};
    rd_kafka_t *rk = new_producer(kv, &st);
    char err[512];
    int errs[4];

    /* validate_only creates nothing. */
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new("created", 5, 1, err, sizeof err);
    CHECK(nt, "NewTopic: %s", err);
    create_topics(rk, &nt, (const char *[]){"created"}, 1, 1, errs, "CreateTopics(validate_only)");
    CHECK(errs[0] == 0, "CreateTopics(validate_only) of a valid topic failed");
    CHECK(!topic_listed(rk, "created", NULL), "validate_only CreateTopics created the topic");

    /* Real creation with configs; a second topic in the same request with bad settings. */
    CHECK(rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact") == 0, "set_config");
    CHECK(rd_kafka_NewTopic_set_config(nt, "retention.ms", "3600000") == 0, "set_config");
    rd_kafka_NewTopic_t *bad_rf = rd_kafka_NewTopic_new("created-bad-rf", 1, 3, err, sizeof err);
    CHECK(bad_rf, "NewTopic: %s", err);
    rd_kafka_NewTopic_t *bad_cfg = rd_kafka_NewTopic_new("created-bad-cfg", 1, 1, err, sizeof err);
    CHECK(bad_cfg, "NewTopic: %s", err);
    CHECK(rd_kafka_NewTopic_set_config(bad_cfg, "retention.ms", "not-a-number") == 0, "set_config");
    rd_kafka_NewTopic_t *batch[3] = {nt, bad_rf, bad_cfg};
    create_topics(rk, batch, (const char *[]){"created", "created-bad-rf", "created-bad-cfg"}, 3, 0,
                  errs, "CreateTopics");
    CHECK(errs[0] == 0, "CreateTopics 'created' (5 partitions) failed: %s",
          rd_kafka_err2name(errs[0]));
    CHECK(errs[1] == RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR,
          "CreateTopics with replication factor 3 on "
          "one broker: %s, expected INVALID_REPLICATION_FACTOR",
          rd_kafka_err2name(errs[1]));
    CHECK(errs[2] == RD_KAFKA_RESP_ERR_INVALID_CONFIG,
          "CreateTopics with retention.ms=not-a-number: %s, "
          "expected INVALID_CONFIG",
          rd_kafka_err2name(errs[2]));
    int parts = 0;
    CHECK(topic_listed(rk, "created", &parts) && parts == 5,
          "created topic: listed with %d partitions", parts);
    CHECK(!topic_listed(rk, "created-bad-rf", NULL) && !topic_listed(rk, "created-bad-cfg", NULL),
          "a failed CreateTopics left a topic behind");
    /* Again: exists. */
    create_topics(rk, &nt, (const char *[]){"created"}, 1, 0, errs, "CreateTopics(again)");
    CHECK(errs[0] == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS,
          "CreateTopics of an existing topic: %s, expected "
          "TOPIC_ALREADY_EXISTS",
          rd_kafka_err2name(errs[0]));
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_NewTopic_destroy(bad_rf);
    rd_kafka_NewTopic_destroy(bad_cfg);
    /* Invalid names; -1 partitions and replicas: the broker's defaults (CreateTopics v4). */
    {
        char longname[300];
        memset(longname, 'n', 250);
        longname[250] = 0;
        const char *names[] = {"bad name!", longname, "..", "default-parts"};
        rd_kafka_NewTopic_t *nts[4];
        for (int i = 0; i < 4; i++) {
            nts[i] = rd_kafka_NewTopic_new(names[i], i == 3 ? -1 : 1, -1, err, sizeof err);
            CHECK(nts[i], "NewTopic(%s): %s", names[i], err);
        }
        int errs4[4];
        create_topics(rk, nts, names, 4, 0, errs4, "CreateTopics(names, defaults)");
        for (int i = 0; i < 3; i++)
            CHECK(errs4[i] == RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION,
                  "CreateTopics '%.20s%s': %s, expected "
                  "INVALID_TOPIC_EXCEPTION",
                  names[i], strlen(names[i]) > 20 ? "..." : "", rd_kafka_err2name(errs4[i]));
        CHECK(errs4[3] == 0, "CreateTopics with partitions -1: %s", rd_kafka_err2name(errs4[3]));
        CHECK(topic_listed(rk, "default-parts", &parts) && parts == 4,
              "CreateTopics with partitions -1: %d "
              "partitions, num.partitions is 4",
              parts);
        for (int i = 0; i < 4; i++)
            rd_kafka_NewTopic_destroy(nts[i]);
    }

    /* DescribeConfigs: the topic's overrides and a default. */
    int src = -1, rerr = -1, ne = 0;
    char *v = describe_config(rk, RD_KAFKA_RESOURCE_TOPIC, "created", "cleanup.policy", &src, &rerr,
                              &ne);
    CHECK(rerr == 0, "DescribeConfigs(topic created): %s", rd_kafka_err2name(rerr));
    CHECK(v && !strcmp(v, "compact"), "DescribeConfigs: cleanup.policy=%s, created with compact",
          v ? v : "(absent)");
    CHECK(src == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG,
          "DescribeConfigs: cleanup.policy source %s", rd_kafka_ConfigSource_name(src));
    free(v);
    v = describe_config(rk, RD_KAFKA_RESOURCE_TOPIC, "created", "retention.ms", &src, &rerr, &ne);
    CHECK(v && !strcmp(v, "3600000"), "DescribeConfigs: retention.ms=%s, created with 3600000",
          v ? v : "(absent)");
    free(v);
    v = describe_config(rk, RD_KAFKA_RESOURCE_TOPIC, "created", "segment.bytes", &src, &rerr, &ne);
    CHECK(v && src == RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG,
          "DescribeConfigs: segment.bytes=%s source %s", v ? v : "(absent)",
          rd_kafka_ConfigSource_name(src));
    free(v);
    v = describe_config(rk, RD_KAFKA_RESOURCE_BROKER, "0", "num.partitions", &src, &rerr, &ne);
    CHECK(rerr == 0 && v && !strcmp(v, "4"),
          "DescribeConfigs(broker 0): num.partitions=%s (%s), broker "
          "started with 4",
          v ? v : "(absent)", rd_kafka_err2name(rerr));
    free(v);
    v = describe_config(rk, RD_KAFKA_RESOURCE_TOPIC, "no-such-topic", "x", &src, &rerr, &ne);
    CHECK(rerr == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, "DescribeConfigs of a missing topic: %s",
          rd_kafka_err2name(rerr));
    free(v);

    /* Produce to the created topic, 200 records per partition, unique keys (the topic is
     * compacted: a record without a key is refused, as Kafka does). */
    for (long i = 0; i < n; i++) {
        char val[64], key[32];
        int32_t p = (int32_t)(i % 5);
        int vl = snprintf(val, sizeof val, "admin-%" PRId32 "-%ld", p, i / 5);
        int kl = snprintf(key, sizeof key, "k%ld", i);
        produce_one(rk, "created", p, key, (size_t)kl, val, (size_t)vl, 0, NULL, i);
    }
    flush_all(rk, &st, n, 30000);
    CHECK(st.failed == 0, "created: %ld deliveries failed", st.failed);
    {
        dr_state_t st1 = {0};
        st1.drs = xcalloc(1, sizeof *st1.drs);
        const char *kv1[] = {"acks", "all", "message.send.max.retries", "0", NULL};
        rd_kafka_t *p1 = new_producer(kv1, &st1);
        note("a record without a key to the compacted topic (refused, as expected):");
        produce_one(p1, "created", 0, NULL, 0, "no key", 6, 0, NULL, 0);
        flush_all(p1, &st1, 1, 30000);
        CHECK(st1.drs[0].err == RD_KAFKA_RESP_ERR_INVALID_MSG ||
                  st1.drs[0].err == RD_KAFKA_RESP_ERR_INVALID_RECORD,
              "a record without a key on a compacted topic: %s, expected CORRUPT_MESSAGE "
              "(INVALID_MSG) or "
              "INVALID_RECORD",
              rd_kafka_err2name(st1.drs[0].err));
        rd_kafka_destroy(p1);
        free(st1.drs);
    }
    admin_check_t c = {0, {-1, -1, -1, -1, -1, -1, -1, -1}};
    long got = consume_assign("created", 5, RD_KAFKA_OFFSET_BEGINNING, admin_msg, &c, 30);
    CHECK(got == n, "created: read %ld of %ld", got, n);

    /* DeleteRecords: partition 2 before offset 150; partition 4 everything (-1 = high
     * watermark). */
    {
        rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(2);
        rd_kafka_topic_partition_list_add(l, "created", 2)->offset = 150;
        rd_kafka_topic_partition_list_add(l, "created", 4)->offset = RD_KAFKA_OFFSET_END;
        rd_kafka_DeleteRecords_t *dr = rd_kafka_DeleteRecords_new(l);
        rd_kafka_topic_partition_list_destroy(l);
        rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DELETERECORDS);
        CHECK(rd_kafka_AdminOptions_set_operation_timeout(o, 10000, err, sizeof err) == 0, "%s",
              err);
        rd_kafka_DeleteRecords(rk, &dr, 1, o, q);
        rd_kafka_event_t *ev = admin_wait(q, RD_KAFKA_EVENT_DELETERECORDS_RESULT, "DeleteRecords");
        const rd_kafka_topic_partition_list_t *res = rd_kafka_DeleteRecords_result_offsets(
            rd_kafka_event_DeleteRecords_result(ev));
        CHECK(res && res->cnt == 2, "DeleteRecords: %d results", res ? res->cnt : -1);
        for (int i = 0; i < 2; i++) {
            int64_t want = res->elems[i].partition == 2 ? 150 : 200;
            CHECK(res->elems[i].err == 0 && res->elems[i].offset == want,
                  "DeleteRecords created [%d]: %s, "
                  "low watermark %" PRId64 ", expected %" PRId64,
                  res->elems[i].partition, rd_kafka_err2name(res->elems[i].err),
                  res->elems[i].offset, want);
        }
        rd_kafka_event_destroy(ev);
        rd_kafka_AdminOptions_destroy(o);
        rd_kafka_DeleteRecords_destroy(dr);
        rd_kafka_queue_destroy(q);
        int64_t lo, hi;
        CHECK(rd_kafka_query_watermark_offsets(rk, "created", 2, &lo, &hi, 10000) == 0 &&
                  lo == 150 && hi == 200,
              "after DeleteRecords: created [2] watermarks %" PRId64 "..%" PRId64
              ", expected 150..200",
              lo, hi);
        CHECK(rd_kafka_query_watermark_offsets(rk, "created", 4, &lo, &hi, 10000) == 0 &&
                  lo == 200 && hi == 200,
              "after DeleteRecords: created [4] watermarks %" PRId64 "..%" PRId64
              ", expected 200..200",
              lo, hi);
        admin_check_t c2 = {0, {-1, -1, -1, -1, -1, -1, -1, -1}};
        got = consume_assign("created", 5, RD_KAFKA_OFFSET_BEGINNING, admin_msg, &c2, 30);
        CHECK(got == 3 * 200 + 50, "after DeleteRecords: read %ld records, expected 650", got);
        CHECK(c2.first[2] == 150 && c2.first[4] == -1,
              "after DeleteRecords: partition 2 starts at %" PRId64 ", partition 4 at %" PRId64,
              c2.first[2], c2.first[4]);
    }

    /* DeleteTopics: gone from metadata, a second delete is UNKNOWN_TOPIC_OR_PART, and the
     * name can be created again, empty. */
    int e = delete_topic(rk, "created");
    CHECK(e == 0, "DeleteTopics created: %s", rd_kafka_err2name(e));
    CHECK(!topic_listed(rk, "created", NULL), "deleted topic still in metadata");
    e = delete_topic(rk, "created");
    CHECK(e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
          "DeleteTopics of a deleted topic: %s, expected "
          "UNKNOWN_TOPIC_OR_PART",
          rd_kafka_err2name(e));
    nt = rd_kafka_NewTopic_new("created", 2, -1, err, sizeof err);
    CHECK(nt, "NewTopic: %s", err);
    create_topics(rk, &nt, (const char *[]){"created"}, 1, 0, errs, "CreateTopics(recreate)");
    CHECK(errs[0] == 0, "re-creating a deleted topic: %s", rd_kafka_err2name(errs[0]));
    rd_kafka_NewTopic_destroy(nt);
    CHECK(topic_listed(rk, "created", &parts) && parts == 2, "re-created topic has %d partitions",
          parts);
    for (int p = 0; p < 2; p++) {
        int64_t lo = -9, hi = -9;
        CHECK(rd_kafka_query_watermark_offsets(rk, "created", p, &lo, &hi, 10000) == 0 && lo == 0 &&
                  hi == 0,
              "re-created topic [%d]: watermarks %" PRId64 "..%" PRId64 ", expected empty", p, lo,
              hi);
    }
    e = delete_topic(rk, "created");
    CHECK(e == 0, "DeleteTopics (re-created): %s", rd_kafka_err2name(e));
    rd_kafka_destroy(rk);
    free(st.drs);
    note("admin: CreateTopics (validate_only, configs, bad replication factor, bad config, "
         "exists), "
         "DescribeConfigs (topic, broker, missing), DeleteRecords, DeleteTopics, re-create ok");
}

/* ---- 5. edges: metadata without auto-create, too-large records, tiny fetch sizes,
 * DeleteRecords past the end, fetching below the log start / past the end ---- */

typedef struct {
    int64_t next[8];
    int64_t first[8];
    long got;
} dense_t;

static void dense_msg(const rd_kafka_message_t *m, void *arg)
{
    dense_t *c = arg;
    int p = m->partition;
    CHECK(p >= 0 && p < 8, "partition %d", p);
    if (c->first[p] < 0)
        c->first[p] = c->next[p] = m->offset;
    CHECK(m->offset == c->next[p], "[%d]: offset %" PRId64 " where %" PRId64 " was expected", p,
          m->offset, c->next[p]);
    c->next[p]++;
    c->got++;
}

static void dense_init(dense_t *c)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < 8; i++)
        c->first[i] = -1;
}

static rd_kafka_resp_err_t delete_records(rd_kafka_t *rk, const char *topic, int32_t p,
                                          int64_t before, int64_t *low)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, p)->offset = before;
    rd_kafka_DeleteRecords_t *dr = rd_kafka_DeleteRecords_new(l);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_DeleteRecords(rk, &dr, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    CHECK(ev, "DeleteRecords: no result within 30 s");
    const rd_kafka_DeleteRecords_result_t *res = rd_kafka_event_DeleteRecords_result(ev);
    CHECK(res, "DeleteRecords: event type %d", rd_kafka_event_type(ev));
    const rd_kafka_topic_partition_list_t *offs = rd_kafka_DeleteRecords_result_offsets(res);
    rd_kafka_resp_err_t e;
    if (offs && offs->cnt == 1) {
        e = offs->elems[0].err;
        *low = offs->elems[0].offset;
    } else {
        e = rd_kafka_event_error(ev);
        *low = -1;
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_DeleteRecords_destroy(dr);
    rd_kafka_queue_destroy(q);
    return e;
}

static void test_edges(void)
{
    char err[512];
    /* Metadata for an unknown topic from a client that does not allow auto-creation
     * (Metadata v4 allow_auto_topic_creation=false): UNKNOWN_TOPIC_OR_PART, not created. */
    {
        rd_kafka_conf_t *conf = mkconf(NULL);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
        CHECK(rk, "rd_kafka_new: %s", err);
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, "never-created", NULL);
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
        CHECK(e == 0, "metadata(never-created): %s", rd_kafka_err2str(e));
        CHECK(md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
              "metadata for an unknown topic with auto-creation off: %d topics, error %s, expected "
              "UNKNOWN_TOPIC_OR_PART",
              md->topic_cnt, md->topic_cnt ? rd_kafka_err2name(md->topics[0].err) : "-");
        rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
        CHECK(!topic_listed(rk, "never-created", NULL),
              "metadata with allow_auto_topic_creation=false "
              "created the topic");
        rd_kafka_destroy(rk);
    }
    /* A record larger than max.message.bytes: MSG_SIZE_TOO_LARGE, nothing appended. */
    {
        dr_state_t st = {0};
        st.drs = xcalloc(1, sizeof *st.drs);
        const char *kv[] = {
            "acks", "all", "message.max.bytes", "4000000", "message.send.max.retries", "0", NULL};
        rd_kafka_t *rk = new_producer(kv, &st);
        int64_t lo0, hi0, lo1, hi1;
        CHECK(rd_kafka_query_watermark_offsets(rk, "acks-1", 0, &lo0, &hi0, 10000) == 0, "watermark"
                                                                                         "s");
        size_t len = 1500000;
        char *big = xcalloc(len, 1);
        memset(big, 'x', len);
        note("a 1.5 MB record (refused, as expected):");
        produce_one(rk, "acks-1", 0, "big", 3, big, len, 0, NULL, 0);
        free(big);
        flush_all(rk, &st, 1, 30000);
        CHECK(st.drs[0].err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
              "a 1.5 MB record (max.message.bytes "
              "1048588): %s, expected MSG_SIZE_TOO_LARGE",
              rd_kafka_err2name(st.drs[0].err));
        CHECK(rd_kafka_query_watermark_offsets(rk, "acks-1", 0, &lo1, &hi1, 10000) == 0 &&
                  hi1 == hi0,
              "a refused record moved the high watermark %" PRId64 " -> %" PRId64, hi0, hi1);
        rd_kafka_destroy(rk);
        free(st.drs);
    }
    /* Tiny fetch sizes: the broker still returns the first whole batch each time. */
    {
        const char *extra[] = {"fetch.max.bytes",
                               "1024",
                               "max.partition.fetch.bytes",
                               "512",
                               "message.max.bytes",
                               "1000",
                               NULL};
        g_consumer_extra = extra;
        dense_t c;
        dense_init(&c);
        double t = now_s();
        long got = consume_assign("acks-1", 4, RD_KAFKA_OFFSET_BEGINNING, dense_msg, &c, 60);
        g_consumer_extra = NULL;
        CHECK(got == 50000, "with fetch.max.bytes=1024: read %ld of 50000", got);
        note("edges: tiny fetch sizes read all 50000 records (%.1f s)", now_s() - t);
    }
    /* DeleteRecords past the high watermark: OFFSET_OUT_OF_RANGE. Then below it. */
    rd_kafka_t *rk = new_producer(NULL, &(dr_state_t){0});
    int64_t low = -9;
    rd_kafka_resp_err_t e = delete_records(rk, "ts", 0, 1000, &low);
    CHECK(e == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE,
          "DeleteRecords ts [0] before 1000 (high watermark 100): "
          "%s, expected OFFSET_OUT_OF_RANGE",
          rd_kafka_err2name(e));
    e = delete_records(rk, "ts", 0, 30, &low);
    CHECK(e == 0 && low == 30, "DeleteRecords ts [0] before 30: %s, low watermark %" PRId64,
          rd_kafka_err2name(e), low);
    rd_kafka_destroy(rk);
    /* Fetching below the log start: OFFSET_OUT_OF_RANGE from the broker; with
     * auto.offset.reset=earliest the client resumes at the new start, with =error the
     * application sees the error. Fetching past the end: the same. */
    {
        dense_t c;
        dense_init(&c);
        g_legacy_reset = "earliest";
        long got = consume_legacy("ts", 1, 5, dense_msg, &c, 30);
        CHECK(got == 70 && c.first[0] == 30,
              "from offset 5 after DeleteRecords(30), reset=earliest: read %ld "
              "records from offset %" PRId64 ", expected 70 from 30",
              got, c.first[0]);
        rd_kafka_resp_err_t cerr = 0;
        g_consumer_err = &cerr;
        g_legacy_reset = "error";
        dense_init(&c);
        got = consume_legacy("ts", 1, 5, dense_msg, &c, 30);
        CHECK(got == 0 && cerr == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET,
              "from offset 5 below the log start, "
              "reset=error: %ld records, error %s, expected _AUTO_OFFSET_RESET (broker "
              "OFFSET_OUT_OF_RANGE)",
              got, rd_kafka_err2name(cerr));
        cerr = 0;
        got = consume_legacy("ts", 1, 500, dense_msg, &c, 30);
        CHECK(got == 0 && cerr == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET,
              "from offset 500 past the end (100), "
              "reset=error: %ld records, error %s, expected _AUTO_OFFSET_RESET (broker "
              "OFFSET_OUT_OF_RANGE)",
              got, rd_kafka_err2name(cerr));
        g_consumer_err = NULL;
    }
    note("edges: metadata without auto-create, MSG_SIZE_TOO_LARGE, DeleteRecords past the end, "
         "fetch out of range (reset earliest / error) ok");
}

/* ---- produce / verify modes (restart test) ---- */

static int mode_produce(const char *topic, long n, const char *file, int idempotent)
{
    dr_state_t st = {0};
    st.drs = xcalloc((size_t)n, sizeof *st.drs);
    st.ack_file = fopen(file, "w");
    CHECK(st.ack_file, "%s: %s", file, strerror(errno));
    /* Retries across a broker restart: the message timeout must outlast it. */
    const char *kv[] = {"acks",
                        "all",
                        "linger.ms",
                        "5",
                        "message.timeout.ms",
                        "60000",
                        "queue.buffering.max.messages",
                        "1000000",
                        "reconnect.backoff.max.ms",
                        "500",
                        idempotent ? "enable.idempotence" : NULL,
                        "true",
                        NULL};
    rd_kafka_t *rk = new_producer(kv, &st);
    for (long i = 0; i < n; i++) {
        char k[64], v[128];
        int kl = keyed_key(k, sizeof k, i), vl = keyed_value(v, sizeof v, "restart", i);
        produce_one(rk, topic, RD_KAFKA_PARTITION_UA, k, (size_t)kl, v, (size_t)vl, 0, NULL, i);
        rd_kafka_poll(rk, 0);
        /* Pace a little so that a kill -9 lands in the middle. */
        if (getenv("PRODUCE_PACE_US") && i % 1000 == 999)
            usleep((useconds_t)atoi(getenv("PRODUCE_PACE_US")));
    }
    rd_kafka_flush(rk, 90000);
    fclose(st.ack_file);
    note("produce %s: %ld records, %ld acknowledged, %ld failed, %d unreported", topic, n,
         st.reported - st.failed, st.failed, rd_kafka_outq_len(rk));
    rd_kafka_destroy(rk);
    int ok = st.reported == n && st.failed == 0;
    free(st.drs);
    return ok ? 0 : 1;
}

typedef struct {
    long n;
    dr_t *acked;  /* reported == 1 and err == 0: acknowledged at partition/offset */
    int *count;   /* times each record number was read */
    char *at_ack; /* read at the partition/offset it was acknowledged at */
    int dups_ok;
    long got, extra;
    int ordered;     /* each partition holds its record numbers in increasing order */
    long last[64];   /* per partition: the last record number read, -1 none */
} verify_t;

static void verify_msg(const rd_kafka_message_t *m, void *arg)
{
    verify_t *c = arg;
    if (m->len >= 6 && !memcmp(m->payload, "extra ", 6)) { /* restart.sh's own records */
        c->extra++;
        return;
    }
    long seq = parse_seq(m, "restart");
    CHECK(seq >= 0 && seq < c->n, "verify: record number %ld at [%d] %" PRId64, seq, m->partition,
          m->offset);
    char k[64], v[128];
    int kl = keyed_key(k, sizeof k, seq), vl = keyed_value(v, sizeof v, "restart", seq);
    CHECK(m->len == (size_t)vl && !memcmp(m->payload, v, (size_t)vl),
          "verify: record %ld at [%d] %" PRId64 " has payload '%.*s'", seq, m->partition, m->offset,
          (int)m->len, (const char *)m->payload);
    CHECK(m->key_len == (size_t)kl && !memcmp(m->key, k, (size_t)kl),
          "verify: record %ld: key '%.*s'", seq, (int)m->key_len, (const char *)m->key);
    dr_t *d = &c->acked[seq];
    if (d->reported) {
        if (m->partition == d->partition && m->offset == d->offset)
            c->at_ack[seq] = 1;
        else
            CHECK(c->dups_ok,
                  "verify: record %ld at [%d] %" PRId64 ", acknowledged at [%d] %" PRId64, seq,
                  m->partition, m->offset, d->partition, d->offset);
    }
    if (c->ordered && m->partition >= 0 && m->partition < 64) {
        CHECK(seq > c->last[m->partition],
              "verify: record %ld at [%d] %" PRId64 " after record %ld: out "
              "of order",
              seq, m->partition, m->offset, c->last[m->partition]);
        c->last[m->partition] = seq;
    }
    c->count[seq]++;
    CHECK(c->dups_ok || c->count[seq] == 1,
          "verify: record %ld read twice (again at [%d] %" PRId64 ")", seq, m->partition,
          m->offset);
    c->got++;
}

static int mode_verify(const char *topic, long n, const char *file, int dups_ok, int ordered)
{
    verify_t c = {n,
                  xcalloc((size_t)n, sizeof(dr_t)),
                  xcalloc((size_t)n, sizeof(int)),
                  xcalloc((size_t)n, 1),
                  dups_ok,
                  0,
                  0,
                  ordered,
                  {0}};
    for (int i = 0; i < 64; i++)
        c.last[i] = -1;
    FILE *f = fopen(file, "r");
    CHECK(f, "%s: %s", file, strerror(errno));
    char line[256];
    long acked = 0;
    while (fgets(line, sizeof line, f)) {
        long seq;
        char a[32];
        long long off;
        if (sscanf(line, "%ld %31s %lld", &seq, a, &off) != 3 || seq < 0 || seq >= n)
            continue; /* a line cut by the kill */
        if (!strcmp(a, "err"))
            continue;
        c.acked[seq] = (dr_t){(int32_t)atoi(a), off, 0, 1};
        acked++;
    }
    fclose(f);
    rd_kafka_t *rk = new_producer(NULL, &(dr_state_t){0});
    int nparts = topic_partitions(rk, topic);
    rd_kafka_destroy(rk);
    consume_assign(topic, nparts, RD_KAFKA_OFFSET_BEGINNING, verify_msg, &c, 90);
    long missing = 0, dups = 0, unacked = 0;
    for (long i = 0; i < n; i++) {
        if (c.acked[i].reported && !c.at_ack[i]) {
            if (missing < 5)
                fprintf(stderr,
                        "verify: acknowledged record %ld is not at [%d] %" PRId64 " (read %d times "
                        "elsewhere)\n",
                        i, c.acked[i].partition, c.acked[i].offset, c.count[i]);
            missing++;
        }
        if (c.count[i] > 1)
            dups += c.count[i] - 1;
        if (!c.acked[i].reported && c.count[i])
            unacked++;
    }
    note("verify %s: %ld records read (+%ld extra), %ld acknowledged, %ld missing, %ld duplicates, "
         "%ld "
         "present but unacknowledged",
         topic, c.got, c.extra, acked, missing, dups, unacked);
    /* Print the counts for the script: "read N dups D unacked U". */
    printf("read %ld extra %ld acked %ld missing %ld dups %ld unacked %ld\n", c.got, c.extra, acked,
           missing, dups, unacked);
    CHECK(missing == 0, "%ld acknowledged records are missing", missing);
    free(c.acked);
    free(c.count);
    free(c.at_ack);
    return 0;
}

/* follow TOPIC: a consumer (manual assignment, from the beginning) that prints
 * "partition offset" per record and keeps going through broker restarts until SIGTERM. */
static volatile sig_atomic_t g_stop;
static void on_term(int sig)
{
    (void)sig;
    g_stop = 1;
}

static int mode_follow(const char *topic)
{
    signal(SIGTERM, on_term);
    rd_kafka_t *mk = new_producer(NULL, &(dr_state_t){0});
    int nparts = topic_partitions(mk, topic);
    rd_kafka_destroy(mk);
    const char *kv[] = {"group.id",
                        "eddy-compat-follow",
                        "enable.auto.commit",
                        "false",
                        "enable.auto.offset.store",
                        "false",
                        "auto.offset.reset",
                        "error",
                        "fetch.wait.max.ms",
                        "100",
                        "reconnect.backoff.max.ms",
                        "500",
                        NULL};
    rd_kafka_conf_t *conf = mkconf(kv);
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk)
        FAIL("rd_kafka_new(consumer): %s", err);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(nparts);
    for (int p = 0; p < nparts; p++)
        rd_kafka_topic_partition_list_add(l, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    CHECK(rd_kafka_assign(rk, l) == 0, "rd_kafka_assign");
    rd_kafka_topic_partition_list_destroy(l);
    long n = 0, errors = 0;
    while (!g_stop) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (!m->err) {
            printf("%d %" PRId64 "\n", m->partition, m->offset);
            n++;
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            /* Transport errors while the broker is down are expected; anything that
             * stops consumption shows up as missing offsets. */
            if (errors++ < 10)
                note("follow: %s", rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
    }
    fflush(stdout);
    note("follow %s: %ld records, %ld consumer errors", topic, n, errors);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return 0;
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "FAIL rdkafka_test: overall time limit reached\n";
    if (write(2, msg, sizeof msg - 1) < 0) {
    }
    _exit(3);
}

int main(int argc, char **argv)
{
    t_start = now_s();
    if (argc < 3) {
        fprintf(stderr, "usage: rdkafka_test BOOTSTRAP all|produce[-idempotent] TOPIC N "
                        "FILE|follow TOPIC|verify "
                        "TOPIC N FILE [dups-ok|ordered]\n");
        return 2;
    }
    bootstrap = argv[1];
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGALRM, on_alarm);
    alarm(getenv("RDKAFKA_TEST_LIMIT") ? (unsigned)atoi(getenv("RDKAFKA_TEST_LIMIT")) : 170);
    fprintf(stderr, "[rdkafka_test] librdkafka %s, broker %s\n", rd_kafka_version_str(), bootstrap);
    if (!strcmp(argv[2], "all")) {
        const char *only = getenv("RDKAFKA_TEST_ONLY"); /* e.g. "big" when debugging */
        if (!only || strstr(only, "acks")) {
            test_acks("1", 0);
            test_acks("all", 1);
            test_acks("0", 0);
        }
        if (!only || strstr(only, "big"))
            test_big();
        if (!only || strstr(only, "ts"))
            test_timestamps();
        if (!only || strstr(only, "admin"))
            test_admin();
        if (!only || strstr(only, "edges")) /* needs acks and ts */
            test_edges();
        note("all ok");
        return 0;
    }
    if (!strcmp(argv[2], "follow") && argc == 4)
        return mode_follow(argv[3]);
    if (!strcmp(argv[2], "produce") && argc == 6)
        return mode_produce(argv[3], atol(argv[4]), argv[5], 0);
    if (!strcmp(argv[2], "produce-idempotent") && argc == 6)
        return mode_produce(argv[3], atol(argv[4]), argv[5], 1);
    if (!strcmp(argv[2], "verify") && (argc == 6 || argc == 7))
        return mode_verify(argv[3], atol(argv[4]), argv[5],
                           argc == 7 && !strcmp(argv[6], "dups-ok"),
                           argc == 7 && !strcmp(argv[6], "ordered"));
    fprintf(stderr, "rdkafka_test: bad arguments\n");
    return 2;
}

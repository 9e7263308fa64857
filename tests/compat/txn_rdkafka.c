/* librdkafka's transactional producer and read_committed consumers against a broker (Apache
 * Kafka or Eddy's), driven by tests/compat/txn_rdkafka.sh.
 *
 *   txn_rdkafka produce BOOTSTRAP TXNID SPEC PREFIX N ACTIONS [key=value...]
 *       one transactional producer (transactional.id TXNID) runs one transaction per
 *       comma-separated action in ACTIONS; transaction t (0-based) writes N records with the
 *       values PREFIX-t-0 .. PREFIX-t-(N-1), record i to the i-th (topic, partition) of SPEC
 *       modulo their number, flushes, and then:
 *         commit   commit_transaction            abort   abort_transaction
 *         hang     prints "open" and sleeps (the test kills it or lets the broker time it out)
 *         wait:F   prints "open", waits for the file F to exist, then commits
 *       SPEC: TOPIC:PARTITIONS[,TOPIC:PARTITIONS...], e.g. a:3,b:2.
 *       stdout, flushed: "init", "open T" once transaction T's records are all acknowledged,
 *       "committed T" / "aborted T". Exit 0; 3 when the producer was fenced (a successor with the
 *       same transactional.id took over) or the error is fatal; 2 on any other failure.
 *   txn_rdkafka consume BOOTSTRAP SPEC ISOLATION [SECONDS]
 *       assigns every partition of SPEC from the beginning with isolation.level ISOLATION
 *       (read_committed or read_uncommitted), reads until the end of each (partition EOF:
 *       for read_committed the last stable offset) and prints each value on a line. Exit 2
 *       when the end is not reached within SECONDS (default 30).
 *   txn_rdkafka eos BOOTSTRAP TXNID GROUP IN_SPEC OUT_TOPIC N ACTION [key=value...]
 *       consume-transform-produce: a consumer subscribed to IN_SPEC's topics in GROUP
 *       (read_committed, no auto commit) reads N records; in one transaction the producer
 *       writes "out-VALUE" for each to OUT_TOPIC and sends the consumer's positions with its
 *       group metadata (send_offsets_to_transaction); then ACTION (commit, abort, wait:F) as
 *       for produce. stdout: "open 0" before the end, "committed 0" / "aborted 0".
 *   txn_rdkafka committed BOOTSTRAP GROUP SPEC
 *       the group's committed offsets (OffsetFetch without require_stable, so an offset sent
 *       in an open transaction is not waited for): "TOPIC PARTITION OFFSET" lines, -1001 for
 *       none.
 *
 * Every command ends itself after TXN_LIFETIME seconds (default 120, SIGALRM). RDKAFKA_DEBUG
 * turns on librdkafka's debug contexts. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#define MAX_SLOTS 64

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
    fprintf(stderr, "[txn_rdkafka %6.2fs] ", now_s() - t_start);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void die(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[txn_rdkafka %6.2fs] FAIL: ", now_s() - t_start);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(code);
}

static void out(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

/* ---------------------------------------------------------------- SPEC */

struct slot {
    char topic[128];
    int32_t partition;
};

static int parse_spec(const char *spec, struct slot *slots, int max)
{
    int n = 0;
    char buf[1024];
    if (strlen(spec) >= sizeof(buf))
        die(2, "SPEC '%s' is too long", spec);
    strcpy(buf, spec);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');
        if (!colon)
            die(2, "SPEC item '%s' is not TOPIC:PARTITIONS", tok);
        *colon = 0;
        int parts = atoi(colon + 1);
        if (parts < 1 || strlen(tok) >= sizeof(slots[0].topic))
            die(2, "SPEC item '%s' has no valid partition count", tok);
        for (int p = 0; p < parts; p++) {
            if (n >= max)
                die(2, "SPEC '%s' names more than %d partitions", spec, max);
            strcpy(slots[n].topic, tok);
            slots[n].partition = p;
            n++;
        }
    }
    if (n == 0)
        die(2, "SPEC '%s' names no partition", spec);
    return n;
}

/* ---------------------------------------------------------------- config */

static void set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char err[512];
    if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK)
        die(2, "config %s=%s: %s", k, v, err);
}

static void set_extra(rd_kafka_conf_t *conf, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        char kv[512];
        snprintf(kv, sizeof(kv), "%s", argv[i]);
        char *eq = strchr(kv, '=');
        if (!eq)
            die(2, "extra argument '%s' is not key=value", argv[i]);
        *eq = 0;
        set(conf, kv, eq + 1);
    }
}

static rd_kafka_conf_t *base_conf(const char *bootstrap)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    const char *dbg = getenv("RDKAFKA_DEBUG");
    if (dbg && *dbg)
        set(conf, "debug", dbg);
    return conf;
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    note("rdkafka %d %s: %s", level, fac, buf);
}

/* delivery reports: count failures so that a transaction is only reported "open" when every
 * one of its records was acknowledged. */
static int dr_failed;
static int dr_ok;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err) {
        dr_failed++;
        if (dr_failed <= 5)
            note("delivery failed: %s", rd_kafka_err2str(m->err));
    } else {
        dr_ok++;
    }
}

/* ---------------------------------------------------------------- producer */

/* Ends the program on a transactional error: 3 when this producer can no longer do anything
 * (fenced, fatal), 2 otherwise. */
static void txn_fail(const char *what, rd_kafka_error_t *e)
{
    int fatal = rd_kafka_error_is_fatal(e);
    rd_kafka_resp_err_t code = rd_kafka_error_code(e);
    int fenced = code == RD_KAFKA_RESP_ERR__FENCED || code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
                 code == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
    note("%s failed: %s (%s)%s%s%s", what, rd_kafka_error_string(e), rd_kafka_error_name(e),
         fatal ? " fatal" : "", rd_kafka_error_is_retriable(e) ? " retriable" : "",
         rd_kafka_error_txn_requires_abort(e) ? " abortable" : "");
    out("error %s %s", what, rd_kafka_error_name(e));
    exit(fatal || fenced ? 3 : 2);
}

static rd_kafka_t *txn_producer(const char *bootstrap, const char *txnid, int argc, char **argv)
{
    rd_kafka_conf_t *conf = base_conf(bootstrap);
    char err[512];
    set(conf, "transactional.id", txnid);
    set(conf, "linger.ms", "5");
    set_extra(conf, argc, argv);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!rk)
        die(2, "rd_kafka_new(producer): %s", err);
    rd_kafka_error_t *e = rd_kafka_init_transactions(rk, 30000);
    if (e)
        txn_fail("init_transactions", e);
    out("init");
    return rk;
}

static void wait_file(const char *path)
{
    struct stat st;
    for (int i = 0; i < 1200; i++) { /* 120 s */
        if (stat(path, &st) == 0)
            return;
        usleep(100000);
    }
    die(2, "the file %s did not appear within 120 s", path);
}

/* The end of transaction t: ACTION as in the header. */
static void end_txn(rd_kafka_t *rk, int t, const char *action)
{
    rd_kafka_error_t *e;
    if (!strcmp(action, "hang")) {
        out("open %d", t);
        for (;;)
            pause(); /* SIGALRM (the lifetime) or the test's kill ends it */
    }
    if (!strncmp(action, "wait:", 5)) {
        out("open %d", t);
        wait_file(action + 5);
        action = "commit";
    }
    if (!strcmp(action, "commit")) {
        if ((e = rd_kafka_commit_transaction(rk, 60000)))
            txn_fail("commit_transaction", e);
        out("committed %d", t);
    } else if (!strcmp(action, "abort")) {
        if ((e = rd_kafka_abort_transaction(rk, 60000)))
            txn_fail("abort_transaction", e);
        out("aborted %d", t);
    } else {
        die(2, "unknown action '%s' (commit, abort, hang, wait:FILE)", action);
    }
}

static int cmd_produce(int argc, char **argv)
{
    if (argc < 6)
        die(2, "usage: produce BOOTSTRAP TXNID SPEC PREFIX N ACTIONS [key=value...]");
    struct slot slots[MAX_SLOTS];
    int nslots = parse_spec(argv[2], slots, MAX_SLOTS);
    const char *prefix = argv[3];
    int n = atoi(argv[4]);
    if (n < 1 || n > 1000000)
        die(2, "N must be 1..1000000");
    rd_kafka_t *rk = txn_producer(argv[0], argv[1], argc - 6, argv + 6);

    char actions[256];
    snprintf(actions, sizeof(actions), "%s", argv[5]);
    int t = 0;
    for (char *save = NULL, *a = strtok_r(actions, ",", &save); a;
         a = strtok_r(NULL, ",", &save), t++) {
        rd_kafka_error_t *e = rd_kafka_begin_transaction(rk);
        if (e)
            txn_fail("begin_transaction", e);
        dr_failed = 0;
        dr_ok = 0;
        for (int i = 0; i < n; i++) {
            char v[256];
            int len = snprintf(v, sizeof(v), "%s-%d-%d", prefix, t, i);
            const struct slot *s = &slots[i % nslots];
            rd_kafka_resp_err_t err;
            for (;;) {
                err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(s->topic),
                                        RD_KAFKA_V_PARTITION(s->partition),
                                        RD_KAFKA_V_VALUE(v, (size_t)len),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
                if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                    break;
                rd_kafka_poll(rk, 100);
            }
            if (err)
                die(2, "producev: %s", rd_kafka_err2str(err));
        }
        rd_kafka_resp_err_t ferr = rd_kafka_flush(rk, 60000);
        if (ferr)
            die(2, "flush: %s", rd_kafka_err2str(ferr));
        if (dr_failed || dr_ok != n)
            die(2, "transaction %d: %d of %d records acknowledged, %d failed", t, dr_ok, n,
                dr_failed);
        end_txn(rk, t, a);
    }
    rd_kafka_destroy(rk);
    return 0;
}

/* ---------------------------------------------------------------- consume */

static int cmd_consume(int argc, char **argv)
{
    if (argc < 3)
        die(2, "usage: consume BOOTSTRAP SPEC ISOLATION [SECONDS]");
    struct slot slots[MAX_SLOTS];
    int nslots = parse_spec(argv[1], slots, MAX_SLOTS);
    int secs = argc > 3 ? atoi(argv[3]) : 30;
    rd_kafka_conf_t *conf = base_conf(argv[0]);
    char err[512];
    set(conf, "group.id", "txn-rdkafka-reader"); /* required by librdkafka; nothing committed */
    set(conf, "enable.auto.commit", "false");
    set(conf, "enable.auto.offset.store", "false");
    set(conf, "enable.partition.eof", "true");
    set(conf, "isolation.level", argv[2]);
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!rk)
        die(2, "rd_kafka_new(consumer): %s", err);
    rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(nslots);
    for (int i = 0; i < nslots; i++)
        rd_kafka_topic_partition_list_add(tp, slots[i].topic, slots[i].partition)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_resp_err_t aerr = rd_kafka_assign(rk, tp);
    if (aerr)
        die(2, "assign: %s", rd_kafka_err2str(aerr));
    rd_kafka_topic_partition_list_destroy(tp);

    int at_eof[MAX_SLOTS] = {0};
    int eofs = 0;
    long records = 0;
    double deadline = now_s() + secs;
    while (eofs < nslots) {
        if (now_s() > deadline)
            die(2, "consume: %d of %d partitions reached their end in %d s (%ld records)", eofs,
                nslots, secs, records);
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m)
            continue;
        int slot = -1;
        if (m->rkt) {
            const char *tn = rd_kafka_topic_name(m->rkt);
            for (int i = 0; i < nslots; i++)
                if (slots[i].partition == m->partition && !strcmp(slots[i].topic, tn))
                    slot = i;
        }
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (slot >= 0 && !at_eof[slot]) {
                at_eof[slot] = 1;
                eofs++;
            }
        } else if (m->err) {
            note("consume error: %s", rd_kafka_message_errstr(m));
        } else {
            /* A record after an EOF (more was written meanwhile): that partition is read on. */
            if (slot >= 0 && at_eof[slot]) {
                at_eof[slot] = 0;
                eofs--;
            }
            fwrite(m->payload, 1, m->len, stdout);
            fputc('\n', stdout);
            records++;
        }
        rd_kafka_message_destroy(m);
    }
    fflush(stdout);
    note("consume %s: %ld records, every partition at its end", argv[2], records);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return 0;
}

/* ---------------------------------------------------------------- eos */

static int cmd_eos(int argc, char **argv)
{
    if (argc < 7)
        die(2, "usage: eos BOOTSTRAP TXNID GROUP IN_SPEC OUT_TOPIC N ACTION [key=value...]");
    const char *bootstrap = argv[0], *group = argv[2], *out_topic = argv[4];
    struct slot slots[MAX_SLOTS];
    int nslots = parse_spec(argv[3], slots, MAX_SLOTS);
    int n = atoi(argv[5]);
    const char *action = argv[6];
    char err[512];

    rd_kafka_conf_t *cconf = base_conf(bootstrap);
    set(cconf, "group.id", group);
    set(cconf, "enable.auto.commit", "false");
    set(cconf, "auto.offset.reset", "earliest");
    set(cconf, "isolation.level", "read_committed");
    set(cconf, "session.timeout.ms", "6000");
    rd_kafka_conf_set_log_cb(cconf, log_cb);
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, cconf, err, sizeof(err));
    if (!c)
        die(2, "rd_kafka_new(consumer): %s", err);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(nslots);
    for (int i = 0; i < nslots; i++)
        if (!rd_kafka_topic_partition_list_find(sub, slots[i].topic, RD_KAFKA_PARTITION_UA))
            rd_kafka_topic_partition_list_add(sub, slots[i].topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t serr = rd_kafka_subscribe(c, sub);
    if (serr)
        die(2, "subscribe: %s", rd_kafka_err2str(serr));
    rd_kafka_topic_partition_list_destroy(sub);

    rd_kafka_t *p = txn_producer(bootstrap, argv[1], argc - 7, argv + 7);
    rd_kafka_error_t *e = rd_kafka_begin_transaction(p);
    if (e)
        txn_fail("begin_transaction", e);
    dr_failed = 0;
    dr_ok = 0;
    int got = 0;
    double deadline = now_s() + 60;
    while (got < n) {
        if (now_s() > deadline)
            die(2, "eos: %d of %d input records consumed in 60 s", got, n);
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 200);
        if (!m)
            continue;
        if (m->err) {
            note("consume error: %s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        char v[512];
        int len = snprintf(v, sizeof(v), "out-%.*s", (int)(m->len < 400 ? m->len : 400),
                           (const char *)m->payload);
        rd_kafka_resp_err_t perr = rd_kafka_producev(p, RD_KAFKA_V_TOPIC(out_topic),
                                                     RD_KAFKA_V_VALUE(v, (size_t)len),
                                                     RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                                     RD_KAFKA_V_END);
        if (perr)
            die(2, "producev: %s", rd_kafka_err2str(perr));
        got++;
        rd_kafka_message_destroy(m);
    }
    rd_kafka_resp_err_t ferr = rd_kafka_flush(p, 60000);
    if (ferr || dr_failed || dr_ok != n)
        die(2, "eos: %d of %d output records acknowledged (%s)", dr_ok, n, rd_kafka_err2str(ferr));

    rd_kafka_topic_partition_list_t *pos = NULL;
    rd_kafka_resp_err_t aerr = rd_kafka_assignment(c, &pos);
    if (aerr)
        die(2, "assignment: %s", rd_kafka_err2str(aerr));
    rd_kafka_position(c, pos);
    for (int i = 0; i < pos->cnt; i++)
        note("eos: sending offset %s [%" PRId32 "] %" PRId64, pos->elems[i].topic,
             pos->elems[i].partition, pos->elems[i].offset);
    rd_kafka_consumer_group_metadata_t *gm = rd_kafka_consumer_group_metadata(c);
    if ((e = rd_kafka_send_offsets_to_transaction(p, pos, gm, 60000)))
        txn_fail("send_offsets_to_transaction", e);
    rd_kafka_consumer_group_metadata_destroy(gm);
    rd_kafka_topic_partition_list_destroy(pos);

    end_txn(p, 0, action);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    rd_kafka_destroy(p);
    return 0;
}

/* ---------------------------------------------------------------- committed */

static int cmd_committed(int argc, char **argv)
{
    if (argc < 3)
        die(2, "usage: committed BOOTSTRAP GROUP SPEC");
    struct slot slots[MAX_SLOTS];
    int nslots = parse_spec(argv[2], slots, MAX_SLOTS);
    rd_kafka_conf_t *conf = base_conf(argv[0]);
    char err[512];
    set(conf, "group.id", argv[1]);
    /* read_uncommitted: OffsetFetch without require_stable answers with the last stable offset
     * instead of waiting while a transaction holds one pending. */
    set(conf, "isolation.level", "read_uncommitted");
    set(conf, "enable.auto.commit", "false");
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!rk)
        die(2, "rd_kafka_new(consumer): %s", err);
    rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(nslots);
    for (int i = 0; i < nslots; i++)
        rd_kafka_topic_partition_list_add(tp, slots[i].topic, slots[i].partition);
    rd_kafka_resp_err_t cerr = rd_kafka_committed(rk, tp, 30000);
    if (cerr)
        die(2, "committed: %s", rd_kafka_err2str(cerr));
    for (int i = 0; i < tp->cnt; i++) {
        if (tp->elems[i].err)
            die(2, "committed %s [%" PRId32 "]: %s", tp->elems[i].topic, tp->elems[i].partition,
                rd_kafka_err2str(tp->elems[i].err));
        printf("%s %" PRId32 " %" PRId64 "\n", tp->elems[i].topic, tp->elems[i].partition,
               tp->elems[i].offset);
    }
    fflush(stdout);
    rd_kafka_topic_partition_list_destroy(tp);
    rd_kafka_destroy(rk);
    return 0;
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "[txn_rdkafka] lifetime over (TXN_LIFETIME), exiting\n";
    (void)!write(2, msg, sizeof(msg) - 1);
    _exit(4);
}

int main(int argc, char **argv)
{
    t_start = now_s();
    const char *life = getenv("TXN_LIFETIME");
    signal(SIGALRM, on_alarm);
    alarm(life && *life ? (unsigned)atoi(life) : 120);
    if (argc < 2)
        die(2, "usage: txn_rdkafka produce|consume|eos|committed ARGS... (see the source)");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "produce"))
        return cmd_produce(argc - 2, argv + 2);
    if (!strcmp(cmd, "consume"))
        return cmd_consume(argc - 2, argv + 2);
    if (!strcmp(cmd, "eos"))
        return cmd_eos(argc - 2, argv + 2);
    if (!strcmp(cmd, "committed"))
        return cmd_committed(argc - 2, argv + 2);
    die(2, "unknown command '%s'", cmd);
    return 2;
}

/* Consumer groups with Eddy's own client (client/member.h) against a real
 * broker; client_groups.sh runs the processes and checks what they print.
 *
 *   client_groups member BOOTSTRAP GROUP TOPIC [--name=N] [--strategy=S]
 *                 [--session=MS] [--heartbeat=MS] [--auto-commit=0|1] [--max=N]
 *                 [--custom] [--instance=ID] [--lifetime=S] [--commit-on-max]
 *                 [--metadata-age=MS]
 *       one Eddy group member (kc_member_open over kc_consumer_new) until
 *       SIGTERM/SIGINT, --lifetime seconds, or --max records (then, with
 *       --commit-on-max, a synchronous kc_member_commit); then kc_member_close.
 *       --custom offers the plug-in assignor "eddytest" (round robin over the
 *       members sorted by id) whose userData goes both ways: each member
 *       subscribes with "ud:NAME", the leader prints every member's userData
 *       and answers each with "for:MEMBER_ID".
 *   client_groups rdkafka BOOTSTRAP GROUP TOPIC [--name=N] [--strategy=S]
 *                 [--session=MS] [--heartbeat=MS] [--lifetime=S]
 *       the same with a librdkafka high-level consumer.
 *   client_groups create BOOTSTRAP TOPIC PARTITIONS      (kc_admin_create_topic)
 *   client_groups produce BOOTSTRAP TOPIC FROM COUNT     values "FROM".."FROM+COUNT-1",
 *       record i to partition i % partitions, acks=all (kc_producer)
 *   client_groups committed BOOTSTRAP GROUP TOPIC        "P OFFSET" (-1: none)
 *   client_groups pause BOOTSTRAP TOPIC      creates TOPIC (2 partitions) and checks
 *       kc_consumer_pause on a consumer assigned by hand: while partition 0 is
 *       paused (before a fetch that is already out, and from inside on_message
 *       in the middle of a batch) none of its records comes although they
 *       exist, partition 1 goes on, and after the resume partition 0 goes on
 *       from exactly where it stopped, every record once and in order. Exits
 *       2 with the reason on the first violation; prints "MS PAUSE ok" last.
 *   client_groups delete-records BOOTSTRAP TOPIC   creates TOPIC (3 partitions, 10
 *       records each) and checks kc_delete_records: one call for partitions 0
 *       (below offset 4), 1 (-1: all), 2 (past the end), 7 (no such
 *       partition) and a topic that does not exist answers once with each
 *       partition's low watermark or error, and the log starts moved (4, 10,
 *       0). Exits 2 with the reason on the first violation; prints
 *       "MS DELETE-RECORDS ok" last.
 *   client_groups longpoll BOOTSTRAP TOPIC   creates TOPIC (1 partition) and checks
 *       that a consumer long-polling with fetch.max.wait.ms=30000 does not hold up
 *       a producer of the same client (one request at a time per connection on
 *       the broker): 10 records, one at a time, each acknowledged and consumed
 *       within 10 s of kc_produce. Exits 2 with the reason on the first
 *       violation; prints "MS LONGPOLL ok" last. *
 * Consumers print lines to stdout, flushed, each starting with the wall
 * clock in ms:
 *   MS START NAME PID               MS MEMBER MEMBER_ID GEN LEADER(0/1)
 *   MS ASSIGN GEN P,P,..|-          MS REVOKE P,P,..|- LOST(0/1)
 *   MS REC P OFFSET VALUE           MS COMMIT RESULT
 *   MS SEEN MEMBER_ID USERDATA      (--custom leader, per member and generation)
 *   MS ASSIGNUD GEN USERDATA        (--custom, the leader's userData for this member)
 *   MS ERROR CODE FATAL TEXT        MS EXIT
 */
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
#include <uv.h>

#include "client/admin.h"
#include "client/assignor.h"
#include "client/client.h"
#include "client/consumer.h"
#include "client/member.h"
#include "client/producer.h"
#include "common/config.h"
#include "common/log.h"

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
    char line[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    printf("%" PRId64 " %s\n", wall_ms(), line);
    fflush(stdout);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "client_groups: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* ---- options ---- */

typedef struct opts {
    const char *name;
    const char *strategy;
    int session_ms, heartbeat_ms;
    int auto_commit;
    long max;
    int custom;
    const char *instance;
    int lifetime_s;
    int commit_on_max;
    int metadata_age_ms;
} opts_t;

static void parse_opts(opts_t *o, int argc, char **argv)
{
    *o = (opts_t){"member", "range", 6000, 500, 1, -1, 0, NULL, 120, 0, 300000};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--name=", 7) == 0)
            o->name = a + 7;
        else if (strncmp(a, "--strategy=", 11) == 0)
            o->strategy = a + 11;
        else if (strncmp(a, "--session=", 10) == 0)
            o->session_ms = atoi(a + 10);
        else if (strncmp(a, "--heartbeat=", 12) == 0)
            o->heartbeat_ms = atoi(a + 12);
        else if (strncmp(a, "--auto-commit=", 14) == 0)
            o->auto_commit = atoi(a + 14);
        else if (strncmp(a, "--max=", 6) == 0)
            o->max = atol(a + 6);
        else if (strcmp(a, "--custom") == 0)
            o->custom = 1;
        else if (strncmp(a, "--instance=", 11) == 0)
            o->instance = a + 11;
        else if (strncmp(a, "--lifetime=", 11) == 0)
            o->lifetime_s = atoi(a + 11);
        else if (strcmp(a, "--commit-on-max") == 0)
            o->commit_on_max = 1;
        else if (strncmp(a, "--metadata-age=", 15) == 0)
            o->metadata_age_ms = atoi(a + 15);
        else
            die("unknown option %s", a);
    }
}

/* ---- one client on a private loop ---- */

typedef struct conn {
    uv_loop_t loop;
    kc_config_t cfg;
    kc_client_t *client;
} conn_t;

static void conn_open(conn_t *cn, const char *bootstrap, const char *const *settings, int n)
{
    eddy_props_t ps;
    eddy_props_init(&ps);
    char err[1024], set[1200];
    snprintf(set, sizeof set, "bootstrap.servers=%s", bootstrap);
    if (eddy_props_set(&ps, "test", set, err, sizeof err) < 0)
        die("%s", err);
    for (int i = 0; i < n; i++)
        if (eddy_props_set(&ps, "test", settings[i], err, sizeof err) < 0)
            die("%s: %s", settings[i], err);
    if (kc_config_load(&cn->cfg, &ps, err, sizeof err) < 0)
        die("config: %s", err);
    eddy_props_free(&ps);
    uv_loop_init(&cn->loop);
    cn->client = kc_client_new(&cn->loop, &cn->cfg, err, sizeof err);
    if (!cn->client)
        die("client: %s", err);
}

static void conn_close(conn_t *cn)
{
    if (cn->client)
        kc_client_destroy(cn->client);
    uv_run(&cn->loop, UV_RUN_DEFAULT);
    uv_loop_close(&cn->loop);
    kc_config_free(&cn->cfg);
}

/* ---- admin and producer modes ---- */

static int cmd_create(const char *bootstrap, const char *topic, int partitions)
{
    conn_t cn;
    conn_open(&cn, bootstrap, NULL, 0);
    char err[512];
    int rc = kc_admin_create_topic(cn.client, topic, partitions, 1, NULL, NULL, 0, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "client_groups create %s: %s\n", topic, err);
    conn_close(&cn);
    return rc == 0 ? 0 : 1;
}

static long delivered, failed;

static void on_delivery(kc_producer_t *p, int err, int16_t kafka_err, const char *topic,
                        int32_t partition, int64_t offset, void *opaque)
{
    (void)p, (void)topic, (void)partition, (void)offset, (void)opaque;
    if (err == 0)
        delivered++;
    else {
        failed++;
        fprintf(stderr, "delivery failed: %d (kafka %d)\n", err, kafka_err);
    }
}

static int cmd_produce(const char *bootstrap, const char *topic, long from, long count)
{
    const char *settings[] = {"acks=all", "linger.ms=5"};
    conn_t cn;
    conn_open(&cn, bootstrap, settings, 2);
    char err[512];
    if (kc_admin_metadata(cn.client, &topic, 1, err, sizeof err) != 0)
        die("metadata of %s: %s", topic, err);
    const kc_topic_meta_t *tm = kc_metadata_topic(cn.client, topic);
    if (!tm || tm->tm_npartitions <= 0)
        die("topic %s has no partitions", topic);
    int32_t np = tm->tm_npartitions;
    kc_producer_t *p = kc_producer_new(cn.client, on_delivery);
    for (long i = from; i < from + count; i++) {
        char v[32];
        int len = snprintf(v, sizeof v, "%ld", i);
        kc_record_t rec = {NULL, -1, v, len, -1, NULL, 0, NULL, NULL};
        if (kc_produce(p, topic, (int32_t)(i % np), &rec, NULL) < 0)
            die("kc_produce failed");
    }
    int rc = kc_producer_flush(p, 60000);
    kc_producer_destroy(p);
    conn_close(&cn);
    if (rc < 0 || failed || delivered != count) {
        fprintf(stderr, "produce: %ld of %ld delivered, %ld failed\n", delivered, count, failed);
        return 1;
    }
    return 0;
}

static void print_offset(const char *topic, int32_t partition, int64_t offset, void *opaque)
{
    (void)topic, (void)opaque;
    printf("%d %" PRId64 "\n", (int)partition, offset);
}

static int cmd_committed(const char *bootstrap, const char *group, const char *topic)
{
    conn_t cn;
    conn_open(&cn, bootstrap, NULL, 0);
    char err[512];
    int rc = kc_admin_committed_offsets(cn.client, group, topic, print_offset, NULL, err,
                                        sizeof err);
    if (rc != 0)
        fprintf(stderr, "committed: %s\n", err);
    conn_close(&cn);
    return rc == 0 ? 0 : 1;
}

/* ---- DeleteRecords ---- */

typedef struct dr_result {
    int dr_calls;
    kc_delete_records_part_t dr_parts[8];
    char dr_topics[8][128];
    int dr_n;
} dr_result_t;

static void on_records_deleted(kc_client_t *c, const kc_delete_records_part_t *parts, int n,
                               void *opaque)
{
    (void)c;
    dr_result_t *r = opaque;
    r->dr_calls++;
    for (int i = 0; i < n && i < 8; i++) {
        r->dr_parts[i] = parts[i];
        snprintf(r->dr_topics[i], sizeof r->dr_topics[i], "%s", parts[i].dr_topic);
        r->dr_parts[i].dr_topic = r->dr_topics[i]; /* parts[] are the call's own */
    }
    r->dr_n = n;
}

static int dr_done(void *opaque)
{
    return ((dr_result_t *)opaque)->dr_calls > 0;
}

static const kc_delete_records_part_t *dr_find(const dr_result_t *r, const char *topic,
                                               int32_t partition)
{
    for (int i = 0; i < r->dr_n; i++)
        if (strcmp(r->dr_parts[i].dr_topic, topic) == 0 && r->dr_parts[i].dr_partition == partition)
            return &r->dr_parts[i];
    return NULL;
}

static int cmd_delete_records(const char *bootstrap, const char *topic)
{
    if (cmd_create(bootstrap, topic, 3) != 0 || cmd_produce(bootstrap, topic, 0, 30) != 0)
        return 1;
    conn_t cn;
    conn_open(&cn, bootstrap, NULL, 0);
    char err[512];
    if (kc_admin_metadata(cn.client, &topic, 1, err, sizeof err) != 0)
        die("metadata of %s: %s", topic, err);
    kc_delete_records_part_t parts[] = {
        {.dr_topic = topic, .dr_partition = 2, .dr_offset = 11},
        {.dr_topic = "no-such-topic", .dr_partition = 0, .dr_offset = 1},
        {.dr_topic = topic, .dr_partition = 0, .dr_offset = 4},
        {.dr_topic = topic, .dr_partition = 7, .dr_offset = 1},
        {.dr_topic = topic, .dr_partition = 1, .dr_offset = -1},
    };
    dr_result_t r = {0};
    if (kc_delete_records(cn.client, parts, 5, on_records_deleted, &r) != 0)
        die("kc_delete_records refused the call");
    if (kc_run_until(cn.client, dr_done, &r, 30000) != 0)
        die("no answer to DeleteRecords within 30 s");
    /* A second answer would come on the loop: run it a little longer. */
    uv_run(&cn.loop, UV_RUN_NOWAIT);
    if (r.dr_calls != 1 || r.dr_n != 5) {
        fprintf(stderr, "done called %d time(s) with %d partition(s), want once with 5\n",
                r.dr_calls, r.dr_n);
        exit(2);
    }
    struct {
        const char *topic;
        int32_t partition;
        int16_t error;
        int64_t low, start;
    } want[] = {
        {topic, 0, KERR_NONE, 4, 4},
        {topic, 1, KERR_NONE, 10, 10},
        {topic, 2, KERR_OFFSET_OUT_OF_RANGE, -2, 0},
        {topic, 7, KERR_UNKNOWN_TOPIC_OR_PARTITION, -1, -2},
        {"no-such-topic", 0, KERR_UNKNOWN_TOPIC_OR_PARTITION, -1, -2},
    };
    for (int i = 0; i < 5; i++) {
        const kc_delete_records_part_t *p = dr_find(&r, want[i].topic, want[i].partition);
        if (!p || p->dr_err != 0 || p->dr_error != want[i].error ||
            (want[i].low != -2 && p->dr_low_watermark != want[i].low)) {
            fprintf(stderr,
                    "%s-%d: err %d, error %s, low watermark %" PRId64 "; want error %s, "
                    "low watermark %" PRId64 "\n",
                    want[i].topic, (int)want[i].partition, p ? p->dr_err : 0,
                    p ? kafka_err_name(p->dr_error) : "(missing)", p ? p->dr_low_watermark : -1,
                    kafka_err_name(want[i].error), want[i].low);
            exit(2);
        }
        int64_t start = -1;
        if (want[i].start >= 0 && (kc_admin_list_offset(cn.client, topic, want[i].partition, -2,
                                                        &start, err, sizeof err) != 0 ||
                                   start != want[i].start)) {
            fprintf(stderr, "%s-%d: log start %" PRId64 " (%s), want %" PRId64 "\n", topic,
                    (int)want[i].partition, start, err, want[i].start);
            exit(2);
        }
    }
    conn_close(&cn);
    out("DELETE-RECORDS ok");
    return 0;
}

/* ---- the Eddy member ---- */

typedef struct app {
    opts_t a_o;
    conn_t a_cn;
    kc_consumer_t *a_consumer;
    kc_member_t *a_member;
    assignor_t a_custom;
    char a_ud[128];
    long a_consumed;
    int a_closing;
    int a_max_reached;
    uv_signal_t a_sigterm, a_sigint;
    uv_timer_t a_lifetime, a_after_max;
} app_t;

static void parts_str(const kc_topic_partition_t *parts, int n, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = 0;
    if (n == 0)
        snprintf(buf, size, "-");
    for (int i = 0; i < n && len + 16 < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%d", i ? "," : "",
                                (int)parts[i].tp_partition);
}

static void on_revoked(kc_member_t *m, const kc_topic_partition_t *parts, int n, int lost,
                       void *opaque)
{
    (void)m, (void)opaque;
    char b[1024];
    parts_str(parts, n, b, sizeof b);
    out("REVOKE %s %d", b, lost);
}

static void on_assigned(kc_member_t *m, const kc_topic_partition_t *parts, int n, void *opaque)
{
    (void)opaque;
    char b[1024];
    parts_str(parts, n, b, sizeof b);
    out("MEMBER %s %d %d", kc_member_id(m), (int)kc_member_generation(m), kc_member_is_leader(m));
    out("ASSIGN %d %s", (int)kc_member_generation(m), b);
}

static void on_member_error(kc_member_t *m, int err, int16_t kafka_err, int fatal, const char *why,
                            void *opaque)
{
    (void)m, (void)opaque;
    /* The script looks for the Kafka code in kafka_err, with err -EIO beside it. */
    out("ERROR %d %d %s (err %d)", kafka_err, fatal, why, err);
}

static void app_close(app_t *a);
static void on_after_max(uv_timer_t *t);

static int on_message(kc_consumer_t *k, const kc_message_t *msg, void *opaque)
{
    (void)k;
    app_t *a = opaque;
    if (a->a_o.max >= 0 && a->a_consumed >= a->a_o.max) {
        /* Not taken: the position stays here, and the close commits it. */
        if (!a->a_max_reached) {
            a->a_max_reached = 1;
            uv_timer_start(&a->a_after_max, on_after_max, 0, 0);
        }
        return 1;
    }
    out("REC %d %" PRId64 " %.*s", (int)msg->msg_partition, msg->msg_offset,
        msg->msg_value_len > 0 ? (int)msg->msg_value_len : 0, (const char *)msg->msg_value);
    a->a_consumed++;
    return 0;
}

/* ---- the custom assignor: userData both ways ---- */

static int custom_user_data(assignor_t *asg, eddy_arena_t *ar, const char *const *topics,
                            int32_t ntopics, kstr_t *user_data)
{
    (void)topics, (void)ntopics;
    app_t *a = asg->asg_opaque;
    size_t n = strlen(a->a_ud);
    char *c = arena_alloc(ar, n);
    if (!c)
        return -ENOMEM;
    memcpy(c, a->a_ud, n);
    *user_data = (kstr_t){c, (int32_t)n};
    return 0;
}

static int member_id_cmp(const void *x, const void *y)
{
    const assignor_subscription_t *const *a = x, *const *b = y;
    return strcmp((*a)->as_member_id, (*b)->as_member_id);
}

static int custom_assign(assignor_t *asg, eddy_arena_t *ar, const assignor_topic_info_t *topics,
                         int32_t ntopics, const assignor_subscription_t *subs, int32_t nsubs,
                         assignor_assignment_t *outs, char *errstr, size_t errstr_size)
{
    (void)asg, (void)errstr, (void)errstr_size;
    for (int32_t i = 0; i < nsubs; i++)
        out("SEEN %s %.*s", subs[i].as_member_id,
            subs[i].as_user_data.len > 0 ? (int)subs[i].as_user_data.len : 0,
            subs[i].as_user_data.len > 0 ? subs[i].as_user_data.ptr : "");
    /* Round robin over the members sorted by id, topic by topic. */
    const assignor_subscription_t **order = calloc((size_t)nsubs + 1, sizeof *order);
    int32_t *slot = calloc((size_t)nsubs + 1, sizeof *slot);
    if (!order || !slot) {
        free(order);
        free(slot);
        return -ENOMEM;
    }
    for (int32_t i = 0; i < nsubs; i++)
        order[i] = &subs[i];
    qsort(order, (size_t)nsubs, sizeof *order, member_id_cmp);
    for (int32_t i = 0; i < nsubs; i++) {
        int32_t idx = (int32_t)(order[i] - subs);
        slot[idx] = i;
        outs[idx].aa_topics = arena_calloc(ar, (size_t)ntopics + 1, sizeof *outs[idx].aa_topics);
        char ud[300];
        int n = snprintf(ud, sizeof ud, "for:%s", subs[idx].as_member_id);
        char *c = arena_alloc(ar, (size_t)n);
        if (!outs[idx].aa_topics || !c) {
            free(order);
            free(slot);
            return -ENOMEM;
        }
        memcpy(c, ud, (size_t)n);
        outs[idx].aa_user_data = (kstr_t){c, n};
    }
    for (int32_t t = 0; t < ntopics; t++)
        for (int32_t i = 0; i < nsubs; i++) {
            assignor_assignment_t *o = &outs[i];
            assignor_topic_t *at = &o->aa_topics[o->aa_ntopics++];
            at->at_topic = topics[t].ati_topic;
            at->at_partitions = arena_calloc(ar, (size_t)topics[t].ati_npartitions + 1,
                                             sizeof(int32_t));
            if (!at->at_partitions) {
                free(order);
                free(slot);
                return -ENOMEM;
            }
            for (int32_t p = 0; p < topics[t].ati_npartitions; p++)
                if (p % nsubs == slot[i])
                    at->at_partitions[at->at_npartitions++] = p;
        }
    free(order);
    free(slot);
    return 0;
}

static int custom_on_assignment(assignor_t *asg, const assignor_assignment_t *as,
                                int32_t generation_id)
{
    (void)asg;
    out("ASSIGNUD %d %.*s", (int)generation_id,
        as->aa_user_data.len > 0 ? (int)as->aa_user_data.len : 0,
        as->aa_user_data.len > 0 ? as->aa_user_data.ptr : "");
    return 0;
}

/* ---- member life cycle ---- */

static void on_app_handle_closed(uv_handle_t *h)
{
    (void)h;
}

static void on_member_closed(kc_member_t *m, void *opaque)
{
    (void)m;
    app_t *a = opaque;
    a->a_member = NULL;
    kc_consumer_destroy(a->a_consumer);
    a->a_consumer = NULL;
    uv_close((uv_handle_t *)&a->a_sigterm, on_app_handle_closed);
    uv_close((uv_handle_t *)&a->a_sigint, on_app_handle_closed);
    uv_close((uv_handle_t *)&a->a_lifetime, on_app_handle_closed);
    uv_close((uv_handle_t *)&a->a_after_max, on_app_handle_closed);
    /* Its connections keep the loop running: destroy it here. */
    kc_client_destroy(a->a_cn.client);
    a->a_cn.client = NULL;
}

static void app_close(app_t *a)
{
    if (a->a_closing)
        return;
    a->a_closing = 1;
    kc_member_close(a->a_member, on_member_closed, a);
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)signum;
    app_close(s->data);
}

static void on_lifetime(uv_timer_t *t)
{
    app_close(t->data);
}

static void on_commit_done(kc_member_t *m, int err, int16_t kafka_err, void *opaque)
{
    (void)m;
    out("COMMIT %d", kafka_err ? kafka_err : err);
    app_close(opaque);
}

/* --max reached: optionally commit (async: this runs on the loop), then close. */
static void on_after_max(uv_timer_t *t)
{
    app_t *a = t->data;
    if (a->a_closing)
        return;
    if (a->a_o.commit_on_max) {
        int rc = kc_member_commit(a->a_member, 0, on_commit_done, a);
        if (rc != 0) {
            out("COMMIT %d", rc);
            app_close(a);
        }
        return;
    }
    app_close(a);
}

static int cmd_member(const char *bootstrap, const char *group, const char *topic, opts_t *o)
{
    app_t *a = calloc(1, sizeof *a);
    if (!a)
        die("out of memory");
    a->a_o = *o;
    char s[9][256];
    snprintf(s[0], sizeof s[0], "group.id=%s", group);
    snprintf(s[1], sizeof s[1], "client.id=%s", o->name);
    snprintf(s[2], sizeof s[2], "partition.assignment.strategy=%s", o->strategy);
    snprintf(s[3], sizeof s[3], "session.timeout.ms=%d", o->session_ms);
    snprintf(s[4], sizeof s[4], "heartbeat.interval.ms=%d", o->heartbeat_ms);
    snprintf(s[5], sizeof s[5], "enable.auto.commit=%s", o->auto_commit ? "true" : "false");
    snprintf(s[6], sizeof s[6], "group.instance.id=%s", o->instance ? o->instance : "");
    snprintf(s[7], sizeof s[7], "metadata.max.age.ms=%d", o->metadata_age_ms);
    const char *settings[] = {s[0],
                              s[1],
                              s[2],
                              s[3],
                              s[4],
                              s[5],
                              s[7],
                              "auto.offset.reset=earliest",
                              "auto.commit.interval.ms=1000",
                              "max.poll.interval.ms=20000",
                              "fetch.max.wait.ms=200",
                              s[6]};
    int nsettings = (int)(sizeof settings / sizeof settings[0]) - (o->instance ? 0 : 1);
    conn_open(&a->a_cn, bootstrap, settings, nsettings);
    uv_loop_t *loop = &a->a_cn.loop;
    kc_consumer_cbs_t ccbs = {on_message, NULL, NULL, a};
    a->a_consumer = kc_consumer_new(a->a_cn.client, &ccbs);
    kc_member_cbs_t mcbs = {on_revoked, on_assigned, on_member_error, a};
    char err[512];
    a->a_member = kc_member_open(a->a_cn.client, a->a_consumer, &topic, 1, &mcbs, err, sizeof err);
    if (!a->a_member)
        die("kc_member_open: %s", err);
    if (o->custom) {
        snprintf(a->a_ud, sizeof a->a_ud, "ud:%s", o->name);
        a->a_custom = (assignor_t){"eddytest",           custom_assign, custom_user_data,
                                   custom_on_assignment, NULL,          a};
        if (kc_member_add_assignor(a->a_member, &a->a_custom) != 0)
            die("kc_member_add_assignor failed");
    }
    uv_signal_init(loop, &a->a_sigterm);
    uv_signal_init(loop, &a->a_sigint);
    uv_timer_init(loop, &a->a_lifetime);
    uv_timer_init(loop, &a->a_after_max);
    a->a_sigterm.data = a->a_sigint.data = a->a_lifetime.data = a->a_after_max.data = a;
    uv_signal_start(&a->a_sigterm, on_signal, SIGTERM);
    uv_signal_start(&a->a_sigint, on_signal, SIGINT);
    uv_timer_start(&a->a_lifetime, on_lifetime, (uint64_t)o->lifetime_s * 1000, 0);
    out("START %s %d", o->name, (int)getpid());
    uv_run(loop, UV_RUN_DEFAULT);
    conn_close(&a->a_cn);
    out("EXIT");
    free(a);
    return 0;
}

/* ---- pause and resume (kc_consumer_pause), checked in-process ---- */

/* Two partitions read by one consumer (assigned by hand). Every record must
 * come at the next offset of its partition (nothing lost, nothing twice),
 * and none of a partition the test has paused. */
typedef struct pause_test {
    conn_t pt_cn;
    const char *pt_topic;
    kc_consumer_t *pt_consumer;
    kc_producer_t *pt_producer;
    int64_t pt_next[2];   /* the offset the next record of each partition must have */
    int pt_paused[2];     /* as the test set it */
    int64_t pt_pause_at;  /* partition 0: pause from on_message after this offset (-1: no) */
    long pt_violations;   /* records of a paused partition */
    long pt_out_of_order; /* lost or repeated */
    char pt_first_error[256];
    long pt_acked, pt_failed;
} pause_test_t;

static pause_test_t *g_pt;

static int pause_on_message(kc_consumer_t *k, const kc_message_t *m, void *opaque)
{
    pause_test_t *t = opaque;
    int32_t p = m->msg_partition;
    if (p < 0 || p > 1)
        return 0;
    char want[64], got[64];
    snprintf(want, sizeof want, "%d-%" PRId64, (int)p, t->pt_next[p]);
    snprintf(got, sizeof got, "%.*s", m->msg_value_len > 0 ? (int)m->msg_value_len : 0,
             (const char *)m->msg_value);
    if (t->pt_paused[p]) {
        if (!t->pt_violations++)
            snprintf(t->pt_first_error, sizeof t->pt_first_error,
                     "partition %d paused, yet record %" PRId64 " (%s) was delivered", (int)p,
                     m->msg_offset, got);
    }
    if (m->msg_offset != t->pt_next[p] || strcmp(got, want) != 0) {
        if (!t->pt_out_of_order++ && !t->pt_violations)
            snprintf(t->pt_first_error, sizeof t->pt_first_error,
                     "partition %d: record %" PRId64 " (%s) where %s was due", (int)p,
                     m->msg_offset, got, want);
    }
    t->pt_next[p] = m->msg_offset + 1;
    if (p == 0 && t->pt_pause_at >= 0 && m->msg_offset == t->pt_pause_at) {
        /* From inside the callback, in the middle of a batch. */
        if (kc_consumer_pause(k, t->pt_topic, 0, 1) != 0)
            die("kc_consumer_pause from on_message failed");
        t->pt_paused[0] = 1;
        t->pt_pause_at = -1;
    }
    return 0;
}

static void pause_on_delivery(kc_producer_t *p, int err, int16_t kafka_err, const char *topic,
                              int32_t partition, int64_t offset, void *opaque)
{
    (void)p, (void)kafka_err, (void)topic, (void)partition, (void)offset, (void)opaque;
    if (err == 0)
        g_pt->pt_acked++;
    else
        g_pt->pt_failed++;
}

/* Values "P-OFFSET": records [from, from + count) of partition p, in one
 * flush (so several records share a batch). */
static void pause_produce(pause_test_t *t, int32_t p, int64_t from, int64_t count)
{
    long acked = t->pt_acked;
    for (int64_t i = from; i < from + count; i++) {
        char v[64];
        int len = snprintf(v, sizeof v, "%d-%" PRId64, (int)p, i);
        kc_record_t rec = {NULL, -1, v, len, -1, NULL, 0, NULL, NULL};
        if (kc_produce(t->pt_producer, t->pt_topic, p, &rec, NULL) < 0)
            die("pause: kc_produce failed");
    }
    if (kc_producer_flush(t->pt_producer, 30000) < 0 || t->pt_failed ||
        t->pt_acked - acked != count)
        die("pause: %ld of %" PRId64 " records acknowledged", t->pt_acked - acked, count);
}

static int64_t g_want[2];

static int pause_reached(void *opaque)
{
    pause_test_t *t = opaque;
    return t->pt_next[0] >= g_want[0] && t->pt_next[1] >= g_want[1];
}

static int pause_never(void *opaque)
{
    (void)opaque;
    return 0;
}

/* Runs until both partitions reached g_want (within 30 s), then checks. */
static void pause_wait(pause_test_t *t, int64_t want0, int64_t want1, const char *phase)
{
    g_want[0] = want0;
    g_want[1] = want1;
    if (kc_run_until(t->pt_cn.client, pause_reached, t, 30000) < 0)
        die("pause, %s: partitions at %" PRId64 " and %" PRId64 ", not %" PRId64 " and %" PRId64
            " within 30 s%s%s",
            phase, t->pt_next[0], t->pt_next[1], want0, want1, t->pt_first_error[0] ? ": " : "",
            t->pt_first_error);
}

static void pause_check(pause_test_t *t, const char *phase)
{
    if (t->pt_violations || t->pt_out_of_order)
        die("pause, %s: %ld record(s) of a paused partition, %ld out of order; first: %s", phase,
            t->pt_violations, t->pt_out_of_order, t->pt_first_error);
}

/* A paused partition stays silent for long enough for several fetches
 * (fetch.max.wait.ms each) while the other goes on, and its position stays. */
static void pause_hold(pause_test_t *t, int64_t at0, const char *phase)
{
    kc_run_until(t->pt_cn.client, pause_never, NULL, 2000);
    pause_check(t, phase);
    int64_t pos = kc_consumer_position(t->pt_consumer, t->pt_topic, 0);
    if (t->pt_next[0] != at0 || pos != at0)
        die("pause, %s: partition 0 at %" PRId64 " (position %" PRId64 "), paused at %" PRId64,
            phase, t->pt_next[0], pos, at0);
    char err[512];
    int64_t end = -1;
    if (kc_admin_list_offset(t->pt_cn.client, t->pt_topic, 0, -1, &end, err, sizeof err) != 0)
        die("pause: ListOffsets: %s", err);
    if (end <= at0)
        die("pause, %s: partition 0 ends at %" PRId64 ": no record waits behind the pause", phase,
            end);
}

static int cmd_pause(const char *bootstrap, const char *topic)
{
    const char *settings[] = {"acks=all", "linger.ms=5", "fetch.max.wait.ms=300",
                              "auto.offset.reset=earliest"};
    pause_test_t *t = calloc(1, sizeof *t);
    if (!t)
        die("out of memory");
    g_pt = t;
    t->pt_topic = topic;
    t->pt_pause_at = -1;
    conn_open(&t->pt_cn, bootstrap, settings, 4);
    char err[512];
    if (kc_admin_create_topic(t->pt_cn.client, topic, 2, 1, NULL, NULL, 0, err, sizeof err) != 0)
        die("pause: create %s: %s", topic, err);
    t->pt_producer = kc_producer_new(t->pt_cn.client, pause_on_delivery);
    kc_consumer_cbs_t cbs = {pause_on_message, NULL, NULL, t};
    t->pt_consumer = kc_consumer_new(t->pt_cn.client, &cbs);
    for (int32_t p = 0; p < 2; p++)
        if (kc_consumer_assign(t->pt_consumer, topic, p, KC_OFFSET_BEGINNING) != 0)
            die("pause: assign failed");

    /* 1. Both partitions read to their end. */
    pause_produce(t, 0, 0, 100);
    pause_produce(t, 1, 0, 100);
    pause_wait(t, 100, 100, "reading 0..99");
    pause_check(t, "reading 0..99");
    out("PAUSE read 100 and 100");

    /* 2. Paused while idle at the end (a long-poll fetch for both partitions
     * is out): records arrive for both; only partition 1 delivers. */
    if (kc_consumer_pause(t->pt_consumer, topic, 0, 1) != 0)
        die("pause: kc_consumer_pause failed");
    t->pt_paused[0] = 1;
    pause_produce(t, 0, 100, 100);
    pause_produce(t, 1, 100, 100);
    pause_wait(t, 100, 200, "partition 1 while 0 is paused");
    pause_hold(t, 100, "partition 0 paused at 100");
    out("PAUSE partition 0 held at 100 while partition 1 read to 200");

    /* 3. Resumed; partition 0 pauses itself from on_message at 150, inside
     * a batch that holds more: nothing after 150 may come. */
    t->pt_pause_at = 150;
    t->pt_paused[0] = 0;
    if (kc_consumer_pause(t->pt_consumer, topic, 0, 0) != 0)
        die("pause: resume failed");
    pause_produce(t, 1, 200, 50);
    pause_wait(t, 151, 250, "resume to 150");
    pause_hold(t, 151, "partition 0 paused from on_message at 150");
    out("PAUSE partition 0 paused itself at 151 while partition 1 read to 250");

    /* 4. Resumed: partition 0 goes on from exactly 151 to its end. */
    t->pt_paused[0] = 0;
    if (kc_consumer_pause(t->pt_consumer, topic, 0, 0) != 0)
        die("pause: resume failed");
    pause_wait(t, 200, 250, "resume to the end");
    kc_run_until(t->pt_cn.client, pause_never, NULL, 1000); /* nothing more may come */
    pause_check(t, "resume to the end");
    if (t->pt_next[0] != 200 || t->pt_next[1] != 250)
        die("pause: ended at %" PRId64 " and %" PRId64 ", not 200 and 250", t->pt_next[0],
            t->pt_next[1]);
    out("PAUSE resumed: partition 0 read 151..199, every record once, in order");

    kc_consumer_destroy(t->pt_consumer);
    kc_producer_destroy(t->pt_producer);
    conn_close(&t->pt_cn);
    free(t);
    out("PAUSE ok");
    return 0;
}

/* ---- a long-polling consumer beside a producer of the same client ---- */

typedef struct longpoll_test {
    conn_t lp_cn;
    long lp_acked, lp_failed, lp_consumed;
} longpoll_test_t;

static longpoll_test_t *g_lp;

static int longpoll_on_message(kc_consumer_t *k, const kc_message_t *m, void *opaque)
{
    (void)k, (void)m;
    ((longpoll_test_t *)opaque)->lp_consumed++;
    return 0;
}

static void longpoll_on_delivery(kc_producer_t *p, int err, int16_t kafka_err, const char *topic,
                                 int32_t partition, int64_t offset, void *opaque)
{
    (void)p, (void)kafka_err, (void)topic, (void)partition, (void)offset, (void)opaque;
    if (err == 0)
        g_lp->lp_acked++;
    else
        g_lp->lp_failed++;
}

static long g_lp_want;

static int longpoll_acked(void *opaque)
{
    longpoll_test_t *t = opaque;
    return t->lp_acked >= g_lp_want || t->lp_failed;
}

static int longpoll_consumed(void *opaque)
{
    return ((longpoll_test_t *)opaque)->lp_consumed >= g_lp_want;
}

static int cmd_longpoll(const char *bootstrap, const char *topic)
{
    /* A fetch waits 30 s: a record held up behind it shows as a wait of
     * that order, far above the 10 s allowed (room for a loaded machine). */
    const char *settings[] = {"acks=1", "linger.ms=0", "fetch.max.wait.ms=30000",
                              "auto.offset.reset=earliest"};
    longpoll_test_t *t = calloc(1, sizeof *t);
    if (!t)
        die("out of memory");
    g_lp = t;
    conn_open(&t->lp_cn, bootstrap, settings, 4);
    char err[512];
    if (kc_admin_create_topic(t->lp_cn.client, topic, 1, 1, NULL, NULL, 0, err, sizeof err) != 0)
        die("longpoll: create %s: %s", topic, err);
    kc_producer_t *prod = kc_producer_new(t->lp_cn.client, longpoll_on_delivery);
    kc_consumer_cbs_t cbs = {longpoll_on_message, NULL, NULL, t};
    kc_consumer_t *cons = kc_consumer_new(t->lp_cn.client, &cbs);
    if (!prod || !cons || kc_consumer_assign(cons, topic, 0, KC_OFFSET_BEGINNING) != 0)
        die("longpoll: consumer or producer failed");
    int64_t worst_ack = 0, worst_consume = 0;
    for (long i = 0; i < 10; i++) {
        /* Let the consumer's fetch reach the broker and wait there. */
        kc_run_until(t->lp_cn.client, pause_never, NULL, 300);
        if (t->lp_consumed != i)
            die("longpoll: %ld records consumed before record %ld was produced", t->lp_consumed, i);
        char v[32];
        int len = snprintf(v, sizeof v, "lp-%ld", i);
        kc_record_t rec = {NULL, -1, v, len, -1, NULL, 0, NULL, NULL};
        int64_t t0 = wall_ms();
        if (kc_produce(prod, topic, 0, &rec, NULL) < 0)
            die("longpoll: kc_produce failed");
        g_lp_want = i + 1;
        if (kc_run_until(t->lp_cn.client, longpoll_acked, t, 40000) < 0 || t->lp_failed)
            die("longpoll: record %ld not acknowledged within 40 s", i);
        int64_t acked = wall_ms() - t0;
        if (kc_run_until(t->lp_cn.client, longpoll_consumed, t, 40000) < 0)
            die("longpoll: record %ld not consumed within 40 s", i);
        int64_t consumed = wall_ms() - t0;
        worst_ack = acked > worst_ack ? acked : worst_ack;
        worst_consume = consumed > worst_consume ? consumed : worst_consume;
        if (acked >= 10000 || consumed >= 10000)
            die("longpoll: record %ld acknowledged after %" PRId64 " ms and consumed after %" PRId64
                " ms beside a fetch long-polling for 30000 ms (want < 10000 ms each)",
                i, acked, consumed);
    }
    out("LONGPOLL slowest acknowledgement %" PRId64 " ms, slowest consumption %" PRId64 " ms",
        worst_ack, worst_consume);
    kc_consumer_destroy(cons);
    kc_producer_destroy(prod);
    conn_close(&t->lp_cn);
    free(t);
    out("LONGPOLL ok");
    return 0;
}

/* ---- the librdkafka consumer ---- */

static volatile sig_atomic_t rk_stop;

static void rk_on_signal(int sig)
{
    (void)sig;
    rk_stop = 1;
}

static void rk_parts_str(const rd_kafka_topic_partition_list_t *l, char *buf, size_t size)
{
    size_t len = 0;
    snprintf(buf, size, "-");
    for (int i = 0; i < l->cnt && len + 16 < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%d", i ? "," : "",
                                (int)l->elems[i].partition);
}

static int rk_cmp(const void *x, const void *y)
{
    const rd_kafka_topic_partition_t *a = x, *b = y;
    return (a->partition > b->partition) - (a->partition < b->partition);
}

static void rk_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    (void)opaque;
    char b[1024];
    qsort(parts->elems, (size_t)parts->cnt, sizeof *parts->elems, rk_cmp);
    rk_parts_str(parts, b, sizeof b);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        char *mid = rd_kafka_memberid(rk);
        out("MEMBER %s -1 -1", mid ? mid : "?");
        rd_kafka_mem_free(rk, mid);
        out("ASSIGN -1 %s", b);
        rd_kafka_assign(rk, parts);
    } else {
        out("REVOKE %s 0", b);
        rd_kafka_assign(rk, NULL);
    }
}

static int cmd_rdkafka(const char *bootstrap, const char *group, const char *topic, opts_t *o)
{
    char err[512], v[64];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    snprintf(v, sizeof v, "%d", o->session_ms);
    const char *kv[][2] = {{"bootstrap.servers", bootstrap},
                           {"group.id", group},
                           {"client.id", o->name},
                           {"partition.assignment.strategy", o->strategy},
                           {"session.timeout.ms", v},
                           {"auto.offset.reset", "earliest"},
                           {"enable.auto.commit", "true"},
                           {"auto.commit.interval.ms", "1000"},
                           {"max.poll.interval.ms", "20000"},
                           {"fetch.wait.max.ms", "200"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], err, sizeof err) != RD_KAFKA_CONF_OK)
            die("%s: %s", kv[i][0], err);
    snprintf(v, sizeof v, "%d", o->heartbeat_ms);
    if (rd_kafka_conf_set(conf, "heartbeat.interval.ms", v, err, sizeof err) != RD_KAFKA_CONF_OK)
        die("heartbeat.interval.ms: %s", err);
    rd_kafka_conf_set_rebalance_cb(conf, rk_rebalance);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk)
        die("rd_kafka_new: %s", err);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
    if (rd_kafka_subscribe(rk, sub))
        die("subscribe failed");
    rd_kafka_topic_partition_list_destroy(sub);
    signal(SIGTERM, rk_on_signal);
    signal(SIGINT, rk_on_signal);
    out("START %s %d", o->name, (int)getpid());
    int64_t end = wall_ms() + (int64_t)o->lifetime_s * 1000;
    while (!rk_stop && wall_ms() < end) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(rk, 100);
        if (!msg)
            continue;
        if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR)
            out("REC %d %" PRId64 " %.*s", (int)msg->partition, msg->offset, (int)msg->len,
                (const char *)msg->payload);
        else if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            out("ERROR %d 0 %s", msg->err, rd_kafka_message_errstr(msg));
        rd_kafka_message_destroy(msg);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    out("EXIT");
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *lvl = getenv("EDDY_LOG_LEVEL");
    if (lvl && eddy_log_level_parse(lvl) >= 0)
        eddy_log_level = eddy_log_level_parse(lvl);
    if (argc < 3)
        die("usage: client_groups member|rdkafka|create|produce|committed|pause|longpoll|"
            "delete-records BOOTSTRAP ...");
    const char *mode = argv[1], *bootstrap = argv[2];
    opts_t o;
    if (strcmp(mode, "member") == 0 && argc >= 5) {
        parse_opts(&o, argc - 5, argv + 5);
        return cmd_member(bootstrap, argv[3], argv[4], &o);
    }
    if (strcmp(mode, "rdkafka") == 0 && argc >= 5) {
        parse_opts(&o, argc - 5, argv + 5);
        return cmd_rdkafka(bootstrap, argv[3], argv[4], &o);
    }
    if (strcmp(mode, "create") == 0 && argc == 5)
        return cmd_create(bootstrap, argv[3], atoi(argv[4]));
    if (strcmp(mode, "produce") == 0 && argc == 6)
        return cmd_produce(bootstrap, argv[3], atol(argv[4]), atol(argv[5]));
    if (strcmp(mode, "committed") == 0 && argc == 5)
        return cmd_committed(bootstrap, argv[3], argv[4]);
    if (strcmp(mode, "pause") == 0 && argc == 4)
        return cmd_pause(bootstrap, argv[3]);
    if (strcmp(mode, "longpoll") == 0 && argc == 4)
        return cmd_longpoll(bootstrap, argv[3]);
    if (strcmp(mode, "delete-records") == 0 && argc == 4)
        return cmd_delete_records(bootstrap, argv[3]);
    die("bad arguments for %s", mode);
}

/* Eddy's transactional producer for kafka_transactions.sh, against a real
 * cluster. One scripted run, each step checked here, a line per step on
 * stdout:
 *
 *   1. init; commit "committed-0..9" across the topic's partitions, with
 *      offset 5 of partition 0 sent to the transaction for GROUP;
 *   2. "aborted-0..9" sent (acknowledged, in the log), offset 7 of
 *      partition 1 sent to the transaction, then abort: the group's
 *      committed offsets stay as step 1 left them;
 *   3. "committed2-0..9" with offset 2 of partition 1: not visible to
 *      the group before the commit, visible after it; a read_committed
 *      consumer of the group that starts at the committed offset meanwhile
 *      waits for the transaction (OffsetFetch with require_stable), then
 *      starts at 2, not at auto.offset.reset;
 *   4. "fenced-0..3" sent by the first producer (a read_committed
 *      consumer's end of partition 0 is then the last stable offset, below
 *      the log's end), then a second producer
 *      with the same transactional.id initialises: the first one's commit
 *      fails with the fatal class (its records are aborted by the
 *      coordinator);
 *   5. the second producer commits "after-0..4".
 *
 *   kafka_txn_app BOOTSTRAP TOPIC GROUP TRANSACTIONAL_ID
 *
 * Exit 0 when every step went as described, 1 otherwise (the step named on
 * stderr), 2 on bad arguments. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "client/admin.h"
#include "client/client.h"
#include "client/consumer.h"
#include "client/producer.h"
#include "common/config.h"
#include "common/err.h"

static const char *g_topic, *g_group;

typedef struct state {
    int acked, failed;
} state_t;

static void on_delivery(kc_producer_t *p, int err, int16_t kafka_err, const char *topic,
                        int32_t partition, int64_t offset, void *opaque)
{
    (void)kafka_err;
    (void)topic;
    (void)partition;
    (void)offset;
    (void)opaque;
    state_t *st = kc_producer_opaque(p);
    if (err == 0)
        st->acked++;
    else
        st->failed++;
}

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "kafka_txn_app: " __VA_ARGS__);                                        \
            fprintf(stderr, "\n");                                                                 \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* A transactional producer's client (txn_id), or a read_committed
 * consumer's of GROUP (txn_id NULL). */
static kc_client_t *client_new(uv_loop_t *loop, kc_config_t *cfg, const char *boot,
                               const char *txn_id)
{
    char err[512], set[600];
    eddy_props_t ps;
    eddy_props_init(&ps);
    snprintf(set, sizeof set, "bootstrap.servers=%s", boot);
    eddy_props_set(&ps, "app", set, err, sizeof err);
    if (txn_id) {
        snprintf(set, sizeof set, "transactional.id=%s", txn_id);
    } else {
        snprintf(set, sizeof set, "group.id=%s", g_group);
        eddy_props_set(&ps, "app", "isolation.level=read_committed", err, sizeof err);
        eddy_props_set(&ps, "app", "auto.offset.reset=latest", err, sizeof err);
    }
    eddy_props_set(&ps, "app", set, err, sizeof err);
    eddy_props_set(&ps, "app", "linger.ms=5", err, sizeof err);
    eddy_props_set(&ps, "app", "transaction.timeout.ms=30000", err, sizeof err);
    CHECK(kc_config_load(cfg, &ps, err, sizeof err) == 0, "%s", err);
    eddy_props_free(&ps);
    kc_client_t *c = kc_client_new(loop, cfg, err, sizeof err);
    CHECK(c, "%s", err);
    return c;
}

static void produce(kc_producer_t *p, const char *prefix, int n)
{
    for (int i = 0; i < n; i++) {
        char v[64];
        int len = snprintf(v, sizeof v, "%s-%d", prefix, i);
        kc_record_t r = {NULL, -1, v, len, -1, NULL, 0, NULL, NULL};
        int rc = kc_produce(p, g_topic, i % 3, &r, NULL);
        CHECK(rc == 0, "produce %s: %s", v, eddy_strerror(rc));
    }
}

typedef struct offs {
    int64_t off[3];
} offs_t;

static void on_offset(const char *topic, int32_t partition, int64_t offset, void *opaque)
{
    offs_t *o = opaque;
    if (!strcmp(topic, g_topic) && partition >= 0 && partition < 3)
        o->off[partition] = offset;
}

/* The group's committed offsets of partitions 0 and 1 (-1: none). */
static offs_t committed(kc_client_t *c)
{
    offs_t o = {{-1, -1, -1}};
    char err[512];
    int rc = kc_admin_committed_offsets(c, g_group, g_topic, on_offset, &o, err, sizeof err);
    CHECK(rc == 0, "committed offsets of %s: %s", g_group, err);
    return o;
}

static int never(void *opaque)
{
    (void)opaque;
    return 0;
}

/* The coordinator writes the transaction's markers after EndTxn answered
 * (to __consumer_offsets too), so the group sees committed offsets a moment
 * later: polled for up to 15 s. Returns the last offset seen. */
static int64_t wait_committed(kc_client_t *c, int32_t partition, int64_t want)
{
    offs_t o = committed(c);
    for (int i = 0; i < 150 && o.off[partition] != want; i++) {
        kc_run_until(c, never, NULL, 100);
        o = committed(c);
    }
    return o.off[partition];
}

/* Takes no record: the position stays where it was resolved. */
static int hold(kc_consumer_t *k, const kc_message_t *m, void *opaque)
{
    (void)k;
    (void)m;
    (void)opaque;
    return 1;
}

static void send_offset(kc_producer_t *p, int32_t partition, int64_t offset)
{
    kc_txn_offset_t o = {g_topic, partition, offset, -1, NULL};
    kc_consumer_group_metadata_t gm = {g_group, -1, "", NULL};
    int rc = kc_producer_send_offsets_to_transaction(p, &o, 1, &gm, 1, NULL, NULL);
    CHECK(rc == 0, "send_offsets_to_transaction: %s", eddy_strerror(rc));
}

static int hw_known(void *opaque)
{
    kc_consumer_t *k = opaque;
    return kc_consumer_high_watermark(k, g_topic, 0) >= 0;
}

/* With a transaction open in partition 0, a read_committed consumer's end
 * (kc_consumer_high_watermark: lag, idling in streams) is the last stable
 * offset, before the open transaction's records, not the log's end. */
static void check_lso_end(uv_loop_t *loop, kc_config_t *cfg, const char *boot)
{
    kc_client_t *c = client_new(loop, cfg, boot, NULL);
    kc_consumer_cbs_t cbs = {hold, NULL, NULL, NULL};
    kc_consumer_t *k = kc_consumer_new(c, &cbs);
    CHECK(kc_consumer_assign(k, g_topic, 0, KC_OFFSET_BEGINNING) == 0, "assign 4");
    kc_run_until(c, hw_known, k, 15000);
    int64_t end = kc_consumer_high_watermark(k, g_topic, 0), log_end = -1;
    char err[512];
    CHECK(kc_admin_list_offset(c, g_topic, 0, -1, &log_end, err, sizeof err) == 0,
          "end offset of partition 0: %s", err);
    CHECK(end >= 0 && end < log_end,
          "with a transaction open, the read_committed consumer's end of partition 0 is %lld, "
          "not its last stable offset (below the log's end %lld)",
          (long long)end, (long long)log_end);
    kc_consumer_destroy(k);
    kc_client_destroy(c);
    printf("lso: read_committed end %lld below the log's end %lld\n", (long long)end,
           (long long)log_end);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: kafka_txn_app BOOTSTRAP TOPIC GROUP TRANSACTIONAL_ID\n");
        return 2;
    }
    g_topic = argv[2];
    g_group = argv[3];
    setvbuf(stdout, NULL, _IOLBF, 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    kc_config_t cfg1, cfg2, lcfg;
    kc_client_t *c1 = client_new(&loop, &cfg1, argv[1], argv[4]);
    state_t st1 = {0, 0}, st2 = {0, 0};
    kc_producer_t *p1 = kc_producer_new(c1, on_delivery);
    kc_producer_set_opaque(p1, &st1);
    int rc = kc_producer_init_transactions(p1, 1, NULL, NULL);
    CHECK(rc == 0, "init_transactions: %s", eddy_strerror(rc));

    /* 1 */
    CHECK(kc_producer_begin_transaction(p1) == 0, "begin 1");
    produce(p1, "committed", 10);
    send_offset(p1, 0, 5);
    rc = kc_producer_commit_transaction(p1, 1, NULL, NULL);
    CHECK(rc == 0, "commit 1: %s", eddy_strerror(rc));
    int64_t got = wait_committed(c1, 0, 5);
    CHECK(got == 5, "after commit 1 the group's offset of partition 0 is %lld, not 5",
          (long long)got);
    printf("step 1: committed 10 records and offset 5\n");

    /* 2 */
    CHECK(kc_producer_begin_transaction(p1) == 0, "begin 2");
    produce(p1, "aborted", 10);
    CHECK(kc_producer_flush(p1, 30000) == 0, "flush 2");
    CHECK(st1.acked == 20, "%d records acknowledged, not 20", st1.acked);
    send_offset(p1, 1, 7);
    rc = kc_producer_abort_transaction(p1, 1, NULL, NULL);
    CHECK(rc == 0, "abort 2: %s", eddy_strerror(rc));
    offs_t o = committed(c1);
    CHECK(o.off[1] == -1, "after abort the group's offset of partition 1 is %lld, not none",
          (long long)o.off[1]);
    printf("step 2: aborted 10 acknowledged records and offset 7\n");

    /* 3 */
    CHECK(kc_producer_begin_transaction(p1) == 0, "begin 3");
    produce(p1, "committed2", 10);
    send_offset(p1, 1, 2);
    o = committed(c1);
    CHECK(o.off[1] == -1, "before commit 3 the group already sees offset %lld of partition 1",
          (long long)o.off[1]);
    kc_config_t ccfg;
    kc_client_t *cc = client_new(&loop, &ccfg, argv[1], NULL);
    kc_consumer_cbs_t cbs = {hold, NULL, NULL, NULL};
    kc_consumer_t *k = kc_consumer_new(cc, &cbs);
    CHECK(kc_consumer_assign(k, g_topic, 1, KC_OFFSET_STORED) == 0, "assign");
    kc_run_until(cc, never, NULL, 2000);
    CHECK(kc_consumer_position(k, g_topic, 1) == -1,
          "with the transaction open, the read_committed consumer started at %lld",
          (long long)kc_consumer_position(k, g_topic, 1));
    rc = kc_producer_commit_transaction(p1, 1, NULL, NULL);
    CHECK(rc == 0, "commit 3: %s", eddy_strerror(rc));
    got = wait_committed(c1, 1, 2);
    CHECK(got == 2, "after commit 3 the group's offset of partition 1 is %lld, not 2",
          (long long)got);
    for (int i = 0; i < 150 && kc_consumer_position(k, g_topic, 1) < 0; i++)
        kc_run_until(cc, never, NULL, 100);
    CHECK(kc_consumer_position(k, g_topic, 1) == 2,
          "after commit 3 the read_committed consumer starts at %lld, not 2",
          (long long)kc_consumer_position(k, g_topic, 1));
    kc_consumer_destroy(k);
    kc_client_destroy(cc);
    printf("step 3: offset 2 visible only after the commit; the consumer waited for it\n");

    /* 4 */
    CHECK(kc_producer_begin_transaction(p1) == 0, "begin 4");
    produce(p1, "fenced", 4);
    CHECK(kc_producer_flush(p1, 30000) == 0, "flush 4");
    check_lso_end(&loop, &lcfg, argv[1]);
    kc_client_t *c2 = client_new(&loop, &cfg2, argv[1], argv[4]);
    kc_producer_t *p2 = kc_producer_new(c2, on_delivery);
    kc_producer_set_opaque(p2, &st2);
    rc = kc_producer_init_transactions(p2, 1, NULL, NULL);
    CHECK(rc == 0, "init_transactions of the second producer: %s", eddy_strerror(rc));
    rc = kc_producer_commit_transaction(p1, 1, NULL, NULL);
    int16_t kerr = 0;
    const char *why = NULL;
    kc_producer_txn_error(p1, &kerr, &why);
    CHECK(rc == EDDY_ERR_TXN_FATAL,
          "the fenced producer's commit gave %s (%s), not the fatal class", eddy_strerror(rc),
          kafka_err_name(kerr));
    printf("step 4: fenced: %s (%s)\n", kafka_err_name(kerr), why ? why : "");

    /* 5 */
    CHECK(kc_producer_begin_transaction(p2) == 0, "begin 5");
    produce(p2, "after", 5);
    rc = kc_producer_commit_transaction(p2, 1, NULL, NULL);
    CHECK(rc == 0, "commit 5: %s", eddy_strerror(rc));
    CHECK(st2.acked == 5, "%d records of the second producer acknowledged, not 5", st2.acked);
    printf("step 5: the second producer committed 5 records\n");

    kc_producer_destroy(p1);
    kc_producer_destroy(p2);
    kc_client_destroy(c1);
    kc_client_destroy(c2);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    kc_config_free(&cfg1);
    kc_config_free(&cfg2);
    kc_config_free(&ccfg);
    kc_config_free(&lcfg);
    return 0;
}

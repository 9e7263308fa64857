/* Eddy's client against another Kafka-protocol implementation with several
 * brokers: librdkafka's mock cluster with 3 brokers, partition leaders on
 * different nodes and the group coordinator on yet another. Produce (keyed,
 * through a leader move), consume every record back exactly once, list the
 * offsets of every leader, a group member that joins and commits through
 * the coordinator node, and a group that survives a member's death.
 *
 * The mock runs in a process of its own (mock_cluster_host.c, path from
 * MOCK_HOST_BIN, else the one built beside this test), driven by line
 * commands on its stdin: a crash of the mock is reported as such and never
 * taken for a crash of Eddy's client. Every change made to the mock is awaited
 * as the client sees it (Metadata, FindCoordinator) with a bound, never a
 * fixed sleep.
 *
 * EDDY_LOG_LEVEL=debug shows the client's log; MOCK_DEBUG=1 the mock's.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "check_helpers.h"
#include "client/admin.h"
#include "client/consumer.h"
#include "client/member.h"
#include "client/producer.h"
#include "common/clock.h"
#include "common/log.h"
#include "wire/client_api.h"
#include "wire/recordbatch.h"
#include "mock_harness.h"

#define TOPIC "mocked"
#define NPART 6
#define NREC 3000
#define STATE_WAIT_MS 15000 /* bound on waiting for the mock's state to show */

/* ---- Eddy's client on the mock ---- */

typedef struct env {
    mock_t mk;
    uv_loop_t loop;
    kc_config_t cfg;
    kc_client_t *c;
} env_t;

static int never(void *opaque)
{
    (void)opaque;
    return 0;
}

/* kc_run_until that fails the test on timeout, after checking the mock
 * is still alive (a dead mock explains any timeout). */
static void run_until(env_t *e, int (*done)(void *), void *opaque, int64_t ms, const char *what)
{
    if (kc_run_until(e->c, done, opaque, ms) == 0)
        return;
    mock_assert_alive(&e->mk);
    ck_abort_msg("%s: not within %lld ms", what, (long long)ms);
}

/* Runs the loop a little (a polling interval while waiting for a state). */
static void idle(env_t *e, int ms)
{
    kc_run_until(e->c, never, NULL, ms);
}

static void client_config(kc_config_t *cfg, const char *bootstrap, const char *const *extra, int n)
{
    char err[512], set[1200];
    eddy_props_t ps;
    eddy_props_init(&ps);
    snprintf(set, sizeof set, "bootstrap.servers=%s", bootstrap);
    ck_assert_int_eq(eddy_props_set(&ps, "test", set, err, sizeof err), 0);
    const char *common[] = {"linger.ms=2", "auto.offset.reset=earliest", "session.timeout.ms=6000",
                            "heartbeat.interval.ms=500"};
    for (size_t i = 0; i < sizeof common / sizeof *common; i++)
        ck_assert_int_eq(eddy_props_set(&ps, "test", common[i], err, sizeof err), 0);
    for (int i = 0; i < n; i++)
        ck_assert_msg(eddy_props_set(&ps, "test", extra[i], err, sizeof err) == 0, "%s", err);
    ck_assert_msg(kc_config_load(cfg, &ps, err, sizeof err) == 0, "%s", err);
    eddy_props_free(&ps);
}

static int leader_of(env_t *e, int32_t partition)
{
    const kc_topic_meta_t *m = kc_metadata_topic(e->c, TOPIC);
    if (!m || m->tm_error || partition >= m->tm_npartitions)
        return -1;
    return m->tm_partitions[partition].pm_leader;
}

/* Waits until Metadata from the mock names leaders[p] for every partition. */
static void wait_leaders(env_t *e, const int *leaders)
{
    const char *names[1] = {TOPIC};
    int64_t deadline = eddy_mono_ms() + STATE_WAIT_MS;
    for (;;) {
        char err[512];
        int ok = kc_admin_metadata(e->c, names, 1, err, sizeof err) == 0;
        for (int p = 0; ok && p < NPART; p++)
            ok = leader_of(e, p) == leaders[p];
        if (ok)
            return;
        if (eddy_mono_ms() > deadline)
            break;
        idle(e, 100);
    }
    mock_assert_alive(&e->mk);
    char got[128] = "";
    for (int p = 0; p < NPART; p++)
        snprintf(got + strlen(got), sizeof got - strlen(got), " %d", leader_of(e, p));
    ck_abort_msg("the mock's leaders did not show within %d ms: partitions 0..%d led by%s",
                 STATE_WAIT_MS, NPART - 1, got);
}

typedef struct find {
    const char *fd_group;
    int fd_done;
    int32_t fd_node;
} find_t;

static void encode_find(eddy_wr_t *wr, int16_t v, void *opaque)
{
    find_t *f = opaque;
    FindCoordinatorRequest req = {kstr_c(f->fd_group), 0};
    wire_find_coordinator_req_encode(wr, v, &req);
}

static void on_find(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque)
{
    (void)c;
    find_t *f = opaque;
    FindCoordinatorResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    f->fd_node = -1;
    if (err == 0 && wire_find_coordinator_resp_decode(rd, v, &a, &resp) == 0 && resp.ErrorCode == 0)
        f->fd_node = resp.NodeId;
    arena_free(&a);
    f->fd_done = 1;
}

static int find_done(void *opaque)
{
    return ((find_t *)opaque)->fd_done;
}

/* Waits until FindCoordinator for group answers node. */
static void wait_coordinator(env_t *e, const char *group, int32_t node)
{
    int64_t deadline = eddy_mono_ms() + STATE_WAIT_MS;
    find_t f = {group, 0, -1};
    for (;;) {
        f.fd_done = 0;
        ck_assert_int_eq(
            kc_request(e->c, KC_NODE_ANY, API_FIND_COORDINATOR, 1, encode_find, on_find, &f), 0);
        /* The request fails by itself after request.timeout.ms: f outlives it. */
        run_until(e, find_done, &f, 60000, "FindCoordinator");
        if (f.fd_node == node)
            return;
        if (eddy_mono_ms() > deadline)
            break;
        idle(e, 100);
    }
    mock_assert_alive(&e->mk);
    ck_abort_msg("the mock's coordinator of %s is node %d, not %d, after %d ms", group,
                 (int)f.fd_node, (int)node, STATE_WAIT_MS);
}

/* The leaders spread over the three nodes: partition p on node 1 + p % 3. */
static void spread_leaders(int *leaders)
{
    for (int p = 0; p < NPART; p++)
        leaders[p] = 1 + p % 3;
}

static void env_open_with(env_t *e, const char *group, const char *const *more, int nmore,
                          const char *mock_setup);

static void env_open(env_t *e, const char *group)
{
    env_open_with(e, group, NULL, 0, NULL);
}

/* env_open with more client settings, and a command for the mock before
 * the client connects (mock_setup, or NULL). */
static void env_open_with(env_t *e, const char *group, const char *const *more, int nmore,
                          const char *mock_setup)
{
    memset(e, 0, sizeof *e);
    mock_start(&e->mk, 3);
    if (mock_setup)
        mock_cmd(&e->mk, "%s", mock_setup);
    mock_cmd(&e->mk, "topic %s %d 1", TOPIC, NPART);
    int leaders[NPART];
    spread_leaders(leaders);
    for (int p = 0; p < NPART; p++)
        mock_cmd(&e->mk, "leader %s %d %d", TOPIC, p, leaders[p]);
    if (group)
        mock_cmd(&e->mk, "coordinator group %s 3", group);
    char gset[300];
    snprintf(gset, sizeof gset, "group.id=%s", group ? group : "");
    const char *extra[8] = {gset};
    int n = group ? 1 : 0;
    for (int i = 0; i < nmore && n < 8; i++)
        extra[n++] = more[i];
    client_config(&e->cfg, e->mk.mk_bootstrap, extra, n);
    uv_loop_init(&e->loop);
    char err[512];
    e->c = kc_client_new(&e->loop, &e->cfg, err, sizeof err);
    ck_assert_msg(e->c != NULL, "%s", err);
    wait_leaders(e, leaders);
    if (group)
        wait_coordinator(e, group, 3);
}

static void env_close(env_t *e)
{
    kc_client_destroy(e->c);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&e->loop), 0);
    kc_config_free(&e->cfg);
    mock_stop(&e->mk);
}

/* ---- records: value "i" for i in 0..NREC, keyed over 97 keys ---- */

typedef struct counts {
    int64_t acked, failed;
    int32_t partition_of[NREC];
    int64_t offset_of[NREC];
    int seen[NREC];
    int64_t received, duplicates, unexpected;
    int64_t end_offset[NPART]; /* from ListOffsets */
    int at_end;                /* partitions whose on_eof came at end_offset */
} counts_t;

static counts_t *g_counts;

static void on_dr_idx(kc_producer_t *p, int err, int16_t kerr, const char *topic, int32_t partition,
                      int64_t offset, void *opaque)
{
    (void)p;
    (void)kerr;
    (void)topic;
    intptr_t i = (intptr_t)opaque;
    if (err) {
        g_counts->failed++;
        return;
    }
    g_counts->acked++;
    g_counts->partition_of[i] = partition;
    g_counts->offset_of[i] = offset;
}

/* Each record must come from the partition and offset its delivery report
 * gave, and only once. */
static int on_msg(kc_consumer_t *k, const kc_message_t *m, void *opaque)
{
    (void)k;
    (void)opaque;
    char v[32];
    snprintf(v, sizeof v, "%.*s", m->msg_value_len, (const char *)m->msg_value);
    int i = atoi(v);
    if (i < 0 || i >= NREC || g_counts->partition_of[i] != m->msg_partition ||
        g_counts->offset_of[i] != m->msg_offset) {
        g_counts->unexpected++;
        return 0;
    }
    if (g_counts->seen[i]++)
        g_counts->duplicates++;
    else
        g_counts->received++;
    return 0;
}

static void on_eof(kc_consumer_t *k, const char *topic, int32_t partition, int64_t offset,
                   void *opaque)
{
    (void)k;
    (void)topic;
    (void)opaque;
    if (partition >= 0 && partition < NPART && offset == g_counts->end_offset[partition])
        g_counts->at_end++;
}

/* Everything received, and every partition read to its end. */
static int all_received(void *opaque)
{
    (void)opaque;
    return g_counts->received == NREC && g_counts->at_end >= NPART;
}

static void assert_consumed_exactly(void)
{
    ck_assert_int_eq(g_counts->unexpected, 0);
    ck_assert_int_eq(g_counts->duplicates, 0);
    ck_assert_int_eq(g_counts->received, NREC);
}

/* Produces NREC records; with move_leader, partition 0 moves from node 1
 * to node 2 half way (the client gets NOT_LEADER_OR_FOLLOWER, refreshes
 * and retries), and the client must see the move. */
static void produce_all(env_t *e, int move_leader)
{
    kc_producer_t *p = kc_producer_new(e->c, on_dr_idx);
    for (int i = 0; i < NREC; i++) {
        char key[32], val[32];
        int kl = snprintf(key, sizeof key, "key-%d", i % 97);
        int vl = snprintf(val, sizeof val, "%d", i);
        kc_record_t r = {key, kl, val, vl, -1, NULL, 0, NULL, NULL};
        ck_assert_int_eq(kc_produce(p, TOPIC, -1, &r, (void *)(intptr_t)i), 0);
        if (move_leader && i == NREC / 2) {
            ck_assert_int_eq(kc_producer_flush(p, 20000), 0);
            mock_cmd(&e->mk, "leader %s 0 2", TOPIC);
        }
        uv_run(&e->loop, UV_RUN_NOWAIT);
    }
    if (kc_producer_flush(p, 30000) != 0)
        mock_assert_alive(&e->mk);
    ck_assert_int_eq(g_counts->failed, 0);
    ck_assert_int_eq(g_counts->acked, NREC);
    /* Destroyed with the metadata refresh of the leader move possibly still
     * out: its answer must not touch the producer's freed topic. */
    kc_producer_destroy(p);
    if (move_leader) {
        int leaders[NPART];
        spread_leaders(leaders);
        leaders[0] = 2;
        wait_leaders(e, leaders);
    }
}

/* ListOffsets at every leader: earliest 0, latest the number of records
 * acknowledged in the partition. */
static void check_offsets(env_t *e)
{
    int64_t per[NPART] = {0};
    for (int i = 0; i < NREC; i++)
        per[g_counts->partition_of[i]]++;
    int64_t total = 0;
    for (int p = 0; p < NPART; p++) {
        char err[256];
        int64_t first = -1, end = -1;
        ck_assert_msg(kc_admin_list_offset(e->c, TOPIC, p, -2, &first, err, sizeof err) == 0, "%s",
                      err);
        ck_assert_msg(kc_admin_list_offset(e->c, TOPIC, p, -1, &end, err, sizeof err) == 0, "%s",
                      err);
        ck_assert_int_eq(first, 0);
        ck_assert_msg(per[p] > 0, "partition %d got no key", p);
        ck_assert_int_eq(end, per[p]);
        g_counts->end_offset[p] = end;
        total += end;
    }
    ck_assert_int_eq(total, NREC);
}

static void on_dr_cancelled(kc_producer_t *p, int err, int16_t kerr, const char *topic,
                            int32_t partition, int64_t offset, void *opaque)
{
    (void)p, (void)kerr, (void)topic, (void)partition, (void)offset;
    *(int *)opaque = err;
}

/* A producer destroyed while the metadata refresh for a topic it has not
 * seen yet is out: the answer comes after the topic's state was freed and
 * must not write into it (it did: the heap corruption this test used to
 * abort with; the ASan build reports it at once). */
static void destroy_with_metadata_out(env_t *e)
{
    int err = 1;
    kc_producer_t *p = kc_producer_new(e->c, on_dr_cancelled);
    kc_record_t r = {NULL, -1, "x", 1, -1, NULL, 0, NULL, NULL};
    ck_assert_int_eq(kc_produce(p, "not-seen-yet", -1, &r, &err), 0);
    kc_producer_destroy(p);
    ck_assert_int_eq(err, -ECANCELED);
    /* This Metadata request goes to the same node (KC_NODE_ANY picks the
     * same one while nothing changed), whose answers come in order: once it
     * is answered, so is the producer's. */
    char errstr[256];
    const char *names[1] = {"not-seen-yet"};
    kc_admin_metadata(e->c, names, 1, errstr, sizeof errstr);
}

/* An application's partitioner on a topic whose metadata the client does
 * not have yet: the records wait, and each is placed by the partitioner
 * (with the real partition count) once it is known, never by the default
 * partitioner; one it places out of range fails alone with -EINVAL. */
typedef struct part_check {
    int acked, wrong, calls, bad_count, einval, einval_partition;
} part_check_t;

static int32_t by_key_number(kc_producer_t *p, const char *topic, const kc_record_t *rec,
                             int32_t npartitions, void *opaque)
{
    (void)p, (void)topic;
    part_check_t *pc = opaque;
    pc->calls++;
    if (npartitions != 4)
        pc->bad_count++;
    int n = 0; /* "k<N>", not terminated */
    for (int32_t i = 1; i < rec->rec_key_len; i++)
        n = n * 10 + (((const char *)rec->rec_key)[i] - '0');
    return n == 99 ? 9 : (int32_t)((n * 3 + 1) % npartitions);
}

static void on_dr_part(kc_producer_t *p, int err, int16_t kerr, const char *topic,
                       int32_t partition, int64_t offset, void *opaque)
{
    (void)kerr, (void)topic, (void)offset;
    part_check_t *pc = kc_producer_opaque(p);
    intptr_t n = (intptr_t)opaque;
    if (err == -EINVAL) {
        pc->einval++;
        pc->einval_partition = partition;
        return;
    }
    if (err == 0)
        pc->acked++;
    if (err != 0 || partition != (int32_t)((n * 3 + 1) % 4))
        pc->wrong++;
}

static int part_done(void *opaque)
{
    part_check_t *pc = opaque;
    return pc->acked + pc->wrong + pc->einval >= 41;
}

static void partitioner_waits_for_metadata(env_t *e)
{
    mock_cmd(&e->mk, "topic part-test 4 1");
    static part_check_t pc;
    memset(&pc, 0, sizeof pc);
    kc_producer_t *p = kc_producer_new(e->c, on_dr_part);
    kc_producer_set_opaque(p, &pc);
    ck_assert_ptr_null(kc_metadata_topic(e->c, "part-test"));
    for (int i = 0; i < 41; i++) {
        char key[16];
        int n = i == 40 ? 99 : i;
        int kl = snprintf(key, sizeof key, "k%d", n);
        kc_record_t r = {key, kl, "v", 1, -1, NULL, 0, by_key_number, &pc};
        ck_assert_int_eq(kc_produce(p, "part-test", -1, &r, (void *)(intptr_t)n), 0);
    }
    ck_assert_int_eq(pc.calls, 0); /* no partition count yet: nobody guessed */
    run_until(e, part_done, &pc, 20000, "the partitioned records");
    ck_assert_int_eq(pc.wrong, 0);
    ck_assert_int_eq(pc.acked, 40);
    ck_assert_int_eq(pc.calls, 41);
    ck_assert_int_eq(pc.bad_count, 0);
    ck_assert_int_eq(pc.einval, 1);
    ck_assert_int_eq(pc.einval_partition, 9);
    kc_producer_destroy(p);
}

START_TEST(produce_and_consume_across_three_brokers)
{
    static counts_t cn;
    memset(&cn, 0, sizeof cn);
    g_counts = &cn;
    env_t e;
    env_open(&e, NULL);
    produce_all(&e, 1);
    check_offsets(&e);
    kc_consumer_cbs_t cbs = {on_msg, on_eof, NULL, NULL};
    kc_consumer_t *k = kc_consumer_new(e.c, &cbs);
    for (int p = 0; p < NPART; p++)
        ck_assert_int_eq(kc_consumer_assign(k, TOPIC, p, KC_OFFSET_BEGINNING), 0);
    run_until(&e, all_received, NULL, 30000, "consuming every record");
    assert_consumed_exactly();
    kc_consumer_destroy(k);
    destroy_with_metadata_out(&e);
    partitioner_waits_for_metadata(&e);
    env_close(&e);
}
END_TEST

/* A partition whose leader keeps refusing with a retriable error: each
 * retry waits retry.backoff.ms (100 ms here), as Kafka's producer does, even
 * though fresh metadata arrives at once; then the record is delivered. A
 * lower bound on the time taken is what backing off means, and a loaded
 * machine only makes it longer. */
typedef struct backoff_dr {
    int done, err;
    int64_t offset;
} backoff_dr_t;

static void on_backoff_dr(kc_producer_t *p, int err, int16_t kerr, const char *topic,
                          int32_t partition, int64_t offset, void *opaque)
{
    (void)p;
    (void)kerr;
    (void)topic;
    (void)partition;
    backoff_dr_t *d = opaque;
    d->done = 1;
    d->err = err;
    d->offset = offset;
}

static int backoff_done(void *opaque)
{
    return ((backoff_dr_t *)opaque)->done;
}

START_TEST(produce_retries_back_off)
{
    env_t e;
    env_open(&e, NULL);
    kc_producer_t *p = kc_producer_new(e.c, on_backoff_dr);
    ck_assert_ptr_nonnull(p);
    enum { REFUSALS = 5 };
    /* NOT_LEADER_OR_FOLLOWER, then NOT_ENOUGH_REPLICAS (a cluster below
     * min.insync.replicas): both retried, each after the backoff */
    static const int codes[] = {6, 19};
    for (int c = 0; c < 2; c++) {
        mock_cmd(&e.mk, "errors 0 %d %d", REFUSALS, codes[c]);
        backoff_dr_t d = {0, 0, -1};
        kc_record_t rec = {"k", 1, "v", 1, -1, NULL, 0, NULL, NULL};
        int64_t t0 = eddy_mono_ms();
        ck_assert_int_eq(kc_produce(p, TOPIC, 0, &rec, &d), 0);
        run_until(&e, backoff_done, &d, 30000, "the refused record's delivery");
        int64_t took = eddy_mono_ms() - t0;
        ck_assert_msg(d.err == 0 && d.offset >= 0, "error %d: delivery failed: %d", codes[c],
                      d.err);
        ck_assert_msg(took >= REFUSALS * 100,
                      "error %d: %d refusals retried in %lld ms: "
                      "retry.backoff.ms (100) not waited between attempts",
                      codes[c], REFUSALS, (long long)took);
    }
    kc_producer_destroy(p);
    env_close(&e);
}
END_TEST

/* ---- idempotence ---- */

/* The producer's sequence bookkeeping, checked in the batches it sends.
 * Numbered records go to partition 0 while its leader (node 1) answers too
 * late (after request.timeout.ms: the producer drops the connection and
 * sends again what the leader had already appended), then while the leader
 * refuses Produce requests with OUT_OF_ORDER_SEQUENCE_NUMBER and with
 * UNKNOWN_PRODUCER_ID. librdkafka's mock appends every batch it does not
 * refuse (it checks sequences only for transactional producers), so its log
 * holds every batch as sent, retries included. Then, batch by batch:
 *   - every batch carries a producer id;
 *   - under each producer id, the batches' first appearances have
 *     contiguous sequences from 0 (a new id after each refusal);
 *   - a batch seen again (same id, epoch and base sequence) holds the same
 *     records: a retry resent with its sequence, which Kafka's broker drops;
 *   - dropping those, every record is in the log exactly once, in order.
 * The producer is idempotent by default. */
#define IDEM_N 400
#define IDEM_MAX_BATCHES 4096

typedef struct idem_batch {
    int64_t pid;
    int16_t epoch;
    int32_t seq, count;
    int first_value;
} idem_batch_t;

typedef struct idem {
    int acked, failed, target;
    idem_batch_t batches[IDEM_MAX_BATCHES];
    int nbatches;
    int fetched;
    int64_t next_offset, end;
    char why[256];
} idem_t;

static void on_idem_dr(kc_producer_t *p, int err, int16_t kerr, const char *topic,
                       int32_t partition, int64_t offset, void *opaque)
{
    (void)kerr, (void)topic, (void)partition, (void)offset, (void)opaque;
    idem_t *d = kc_producer_opaque(p);
    if (err)
        d->failed++;
    else
        d->acked++;
}

static int idem_flushed(void *opaque)
{
    idem_t *d = opaque;
    return d->acked + d->failed >= d->target;
}

static void idem_produce(env_t *e, kc_producer_t *p, idem_t *d, int from, int to)
{
    for (int i = from; i < to; i++) {
        char val[32];
        int vl = snprintf(val, sizeof val, "%d", i);
        kc_record_t r = {NULL, -1, val, vl, -1, NULL, 0, NULL, NULL};
        ck_assert_int_eq(kc_produce(p, TOPIC, 0, &r, NULL), 0);
        if (i % 10 == 0)
            idle(e, 5); /* several batches, several requests in flight */
    }
    d->target = to;
    kc_producer_send_now(p);
}

static void encode_idem_fetch(eddy_wr_t *wr, int16_t v, void *opaque)
{
    idem_t *d = opaque;
    FetchRequestPartition part = {0, -1, d->next_offset, -1, 1 << 20};
    FetchRequestTopic topic = {kstr_c(TOPIC), &part, 1};
    FetchRequest req;
    memset(&req, 0, sizeof req);
    req.ReplicaId = -1;
    req.MaxBytes = 1 << 20;
    req.SessionEpoch = -1;
    req.Topics = &topic;
    req.TopicsCount = 1;
    req.RackId = (kstr_t){"", 0};
    wire_fetch_req_encode(wr, v, &req);
}

/* Notes the header and first record of each batch fetched. */
static void on_idem_fetch(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque)
{
    (void)c;
    idem_t *d = opaque;
    d->fetched = 1;
    FetchResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    if (err || wire_fetch_resp_decode(rd, v, &a, &resp) < 0 || resp.ResponsesCount != 1 ||
        resp.Responses[0].PartitionsCount != 1) {
        snprintf(d->why, sizeof d->why, "fetch failed (%d)", err);
        arena_free(&a);
        return;
    }
    kstr_t recs = resp.Responses[0].Partitions[0].Records;
    size_t off = 0;
    while (recs.len > 0 && off + BATCH_HEADER_SIZE <= (size_t)recs.len) {
        const uint8_t *b = (const uint8_t *)recs.ptr + off;
        int64_t size = wire_batch_size(b);
        if (size <= 0 || off + (size_t)size > (size_t)recs.len)
            break; /* a partial batch at the end */
        wire_batch_header_t h;
        wire_record_iter_t it;
        wire_record_t r;
        char why[160];
        wire_batch_header_read(b, (size_t)size, &h);
        ck_assert_int_lt(d->nbatches, IDEM_MAX_BATCHES);
        idem_batch_t *ib = &d->batches[d->nbatches++];
        ib->pid = h.producerId;
        ib->epoch = h.producerEpoch;
        ib->seq = h.baseSequence;
        ib->count = h.recordCount;
        ib->first_value = -1;
        ck_assert_int_eq(wire_record_iter_open(&it, b, (size_t)size, WIRE_INFLATE_LIMIT_DEFAULT,
                                               why, sizeof why),
                         0);
        if (wire_record_next(&it, &r) == 1) {
            char val[32];
            snprintf(val, sizeof val, "%.*s", r.valueLength, (const char *)r.value);
            ib->first_value = atoi(val);
        }
        wire_record_iter_close(&it);
        d->next_offset = h.baseOffset + h.lastOffsetDelta + 1;
        off += (size_t)size;
    }
    arena_free(&a);
}

static int idem_fetched(void *opaque)
{
    return ((idem_t *)opaque)->fetched;
}

/* Every batch of partition 0, from the leader, into d->batches. */
static void idem_read_log(env_t *e, idem_t *d)
{
    char err[256];
    ck_assert_msg(kc_admin_list_offset(e->c, TOPIC, 0, -1, &d->end, err, sizeof err) == 0, "%s",
                  err);
    d->next_offset = 0;
    while (d->next_offset < d->end) {
        int64_t before = d->next_offset;
        d->fetched = 0;
        ck_assert_int_eq(kc_request(e->c, 1, API_FETCH, 1, encode_idem_fetch, on_idem_fetch, d), 0);
        run_until(e, idem_fetched, d, 30000, "fetching partition 0");
        ck_assert_msg(!d->why[0], "%s", d->why);
        ck_assert_msg(d->next_offset > before, "no progress fetching at offset %lld",
                      (long long)before);
    }
}

START_TEST(idempotent_sequences_in_batches)
{
    static idem_t d;
    memset(&d, 0, sizeof d);
    env_t e;
    const char *cfg[] = {"request.timeout.ms=700", "retry.backoff.ms=50"};
    env_open_with(&e, NULL, cfg, 2, NULL);
    kc_producer_t *p = kc_producer_new(e.c, on_idem_dr);
    ck_assert_ptr_nonnull(p);
    kc_producer_set_opaque(p, &d);
    idem_produce(&e, p, &d, 0, 20);
    run_until(&e, idem_flushed, &d, 20000, "the first 20 records");
    /* Late answers: appended, then the request times out and goes again. */
    mock_cmd(&e.mk, "rtt 1 1000");
    idem_produce(&e, p, &d, 20, 150);
    idle(&e, 2500);
    mock_cmd(&e.mk, "rtt 1 0");
    run_until(&e, idem_flushed, &d, 30000, "the records sent to a late leader");
    /* Refusals: a single batch out, so that the mock (which appends what it
     * does not refuse) appends nothing past the refused batch; three
     * refusals in a row, three new producer ids. */
    mock_cmd(&e.mk, "errors 0 3 45");
    idem_produce(&e, p, &d, 150, 151);
    run_until(&e, idem_flushed, &d, 30000, "the record refused as out of order");
    idem_produce(&e, p, &d, 151, 275);
    run_until(&e, idem_flushed, &d, 30000, "the records after it");
    mock_cmd(&e.mk, "errors 0 2 59");
    idem_produce(&e, p, &d, 275, 276);
    run_until(&e, idem_flushed, &d, 30000, "the record refused for its producer id");
    idem_produce(&e, p, &d, 276, IDEM_N);
    run_until(&e, idem_flushed, &d, 30000, "the last records");
    kc_producer_destroy(p);
    ck_assert_msg(d.failed == 0 && d.acked == IDEM_N, "%d of %d records acknowledged, %d failed",
                  d.acked, IDEM_N, d.failed);
    idem_read_log(&e, &d);
    env_close(&e);

    int pids = 0, resent = 0, next_value = 0;
    for (int i = 0; i < d.nbatches; i++) {
        const idem_batch_t *b = &d.batches[i];
        ck_assert_msg(b->pid >= 0 && b->epoch >= 0 && b->seq >= 0,
                      "batch %d (records from %d) has no producer id or sequence: %lld/%d/%d", i,
                      b->first_value, (long long)b->pid, b->epoch, b->seq);
        const idem_batch_t *prev = NULL, *same = NULL;
        for (int j = 0; j < i; j++)
            if (d.batches[j].pid == b->pid && d.batches[j].epoch == b->epoch) {
                if (d.batches[j].seq == b->seq)
                    same = &d.batches[j];
                else if (!prev || d.batches[j].seq > prev->seq)
                    prev = &d.batches[j];
            }
        if (same) {
            ck_assert_msg(same->count == b->count && same->first_value == b->first_value,
                          "producer %lld sequence %d: sent with records %d+%d, then %d+%d",
                          (long long)b->pid, b->seq, same->first_value, same->count, b->first_value,
                          b->count);
            resent++;
            continue; /* Kafka's broker answers it as a duplicate */
        }
        if (!prev) {
            pids++;
            if (getenv("IDEM_DEBUG"))
                fprintf(stderr, "batch %d: producer %lld epoch %d from record %d\n", i,
                        (long long)b->pid, b->epoch, b->first_value);
            ck_assert_msg(b->seq == 0, "producer %lld starts at sequence %d, not 0",
                          (long long)b->pid, b->seq);
        } else {
            ck_assert_msg(b->seq == prev->seq + prev->count,
                          "producer %lld: sequence %d after %d+%d (a gap or an overlap)",
                          (long long)b->pid, b->seq, prev->seq, prev->count);
        }
        ck_assert_msg(b->first_value == next_value, "records from %d where %d was next",
                      b->first_value, next_value);
        next_value += b->count;
    }
    ck_assert_int_eq(next_value, IDEM_N);
    /* One id at first, then the one each run of refusals ends with (the
     * batches of the ids refused in between never reached the log). */
    ck_assert_msg(pids == 3, "%d producer ids in the log, 3 expected", pids);
    ck_assert_msg(resent > 0, "no batch sent twice: the late answers did not cause retries");
}
END_TEST

/* A broker that does not advertise InitProducerId: with idempotence on by
 * default the producer goes on without it (batches without a producer id,
 * one WARN line), as librdkafka does; with enable.idempotence=true set,
 * every record fails with -ENOTSUP. */
typedef struct noidem {
    int acked, failed, last_err;
} noidem_t;

static void on_noidem_dr(kc_producer_t *p, int err, int16_t kerr, const char *topic,
                         int32_t partition, int64_t offset, void *opaque)
{
    (void)kerr, (void)topic, (void)partition, (void)offset, (void)opaque;
    noidem_t *d = kc_producer_opaque(p);
    if (err) {
        d->failed++;
        d->last_err = err;
    } else {
        d->acked++;
    }
}

static int noidem_done(void *opaque)
{
    noidem_t *d = opaque;
    return d->acked + d->failed == 10;
}

static void noidem_run(noidem_t *d, const char *const *more, int nmore, idem_t *log)
{
    env_t e;
    memset(d, 0, sizeof *d);
    env_open_with(&e, NULL, more, nmore, "apiversion 22 -1 -1");
    kc_producer_t *p = kc_producer_new(e.c, on_noidem_dr);
    ck_assert_ptr_nonnull(p);
    kc_producer_set_opaque(p, d);
    for (int i = 0; i < 10; i++) {
        kc_record_t r = {NULL, -1, "v", 1, -1, NULL, 0, NULL, NULL};
        ck_assert_int_eq(kc_produce(p, TOPIC, 0, &r, NULL), 0);
    }
    kc_producer_send_now(p);
    run_until(&e, noidem_done, d, 20000, "the 10 records' reports");
    kc_producer_destroy(p);
    if (log)
        idem_read_log(&e, log);
    env_close(&e);
}

START_TEST(idempotence_without_init_producer_id)
{
    noidem_t d;
    static idem_t log;
    memset(&log, 0, sizeof log);
    noidem_run(&d, NULL, 0, &log);
    ck_assert_msg(d.acked == 10, "by default: %d of 10 records delivered (last error %d)", d.acked,
                  d.last_err);
    ck_assert_int_gt(log.nbatches, 0);
    for (int i = 0; i < log.nbatches; i++)
        ck_assert_int_eq(log.batches[i].pid, -1);
    const char *on[] = {"enable.idempotence=true"};
    noidem_run(&d, on, 1, NULL);
    ck_assert_msg(d.failed == 10 && d.last_err == -ENOTSUP,
                  "enable.idempotence=true: %d of 10 failed, last error %d, not -ENOTSUP", d.failed,
                  d.last_err);
}
END_TEST

/* A broker refusing the producer id (an authorizer: the principal may write
 * no topic): every record fails, and its delivery report carries the
 * broker's CLUSTER_AUTHORIZATION_FAILED, so that an application can tell a
 * missing ACL from a broker that is down. */
typedef struct pidref {
    int failed, other, last_err;
    int16_t last_kerr;
} pidref_t;

static void on_pidref_dr(kc_producer_t *p, int err, int16_t kerr, const char *topic,
                         int32_t partition, int64_t offset, void *opaque)
{
    (void)topic, (void)partition, (void)offset, (void)opaque;
    pidref_t *d = kc_producer_opaque(p);
    if (err) {
        d->failed++;
        d->last_err = err;
        d->last_kerr = kerr;
    } else {
        d->other++;
    }
}

static int pidref_done(void *opaque)
{
    pidref_t *d = opaque;
    return d->failed + d->other == 10;
}

START_TEST(init_producer_id_refused)
{
    env_t e;
    pidref_t d;
    memset(&d, 0, sizeof d);
    env_open_with(&e, NULL, NULL, 0, NULL);
    mock_cmd(&e.mk, "errors %d 1 %d", API_INIT_PRODUCER_ID, KERR_CLUSTER_AUTHORIZATION_FAILED);
    kc_producer_t *p = kc_producer_new(e.c, on_pidref_dr);
    ck_assert_ptr_nonnull(p);
    kc_producer_set_opaque(p, &d);
    for (int i = 0; i < 10; i++) {
        kc_record_t r = {NULL, -1, "v", 1, -1, NULL, 0, NULL, NULL};
        ck_assert_int_eq(kc_produce(p, TOPIC, 0, &r, NULL), 0);
    }
    kc_producer_send_now(p);
    run_until(&e, pidref_done, &d, 20000, "the 10 records' reports");
    kc_producer_destroy(p);
    env_close(&e);
    ck_assert_msg(d.failed == 10 && d.last_err == -EIO &&
                      d.last_kerr == KERR_CLUSTER_AUTHORIZATION_FAILED,
                  "%d of 10 failed, last error %d, Kafka error %d (want -EIO, 31)", d.failed,
                  d.last_err, d.last_kerr);
}
END_TEST

/* ---- groups ---- */

typedef struct member_state {
    int assigned;
    int parts[NPART];
    int closed;
} member_state_t;

static void on_assigned(kc_member_t *m, const kc_topic_partition_t *parts, int n, void *opaque)
{
    (void)m;
    member_state_t *ms = opaque;
    ms->assigned = n;
    memset(ms->parts, 0, sizeof ms->parts);
    for (int i = 0; i < n; i++)
        if (parts[i].tp_partition >= 0 && parts[i].tp_partition < NPART)
            ms->parts[parts[i].tp_partition] = 1;
}

static void on_closed(kc_member_t *m, void *opaque)
{
    (void)m;
    ((member_state_t *)opaque)->closed = 1;
}

static int member_closed(void *opaque)
{
    return ((member_state_t *)opaque)->closed;
}

static int has_all(void *opaque)
{
    return ((member_state_t *)opaque)->assigned == NPART;
}

typedef struct committed {
    int64_t cm_offset[NPART];
} committed_t;

static void on_committed(const char *topic, int32_t partition, int64_t offset, void *opaque)
{
    committed_t *cm = opaque;
    if (strcmp(topic, TOPIC) == 0 && partition >= 0 && partition < NPART)
        cm->cm_offset[partition] = offset;
}

typedef struct commit_result {
    int called, err;
    int16_t kafka_err;
} commit_result_t;

static void on_commit_result(kc_member_t *m, int err, int16_t kafka_err, void *opaque)
{
    (void)m;
    commit_result_t *cr = opaque;
    cr->called = 1;
    cr->err = err;
    cr->kafka_err = kafka_err;
}

static int commit_returned(void *opaque)
{
    return ((commit_result_t *)opaque)->called;
}

/* A group member finds the coordinator on node 3, joins, gets every
 * partition, consumes everything and commits through the coordinator: the
 * committed offsets are the ends of the partitions. */
START_TEST(group_member_through_the_coordinator_node)
{
    static counts_t cn;
    memset(&cn, 0, sizeof cn);
    g_counts = &cn;
    env_t e;
    env_open(&e, "mocked-group");
    produce_all(&e, 0);
    check_offsets(&e);
    kc_consumer_cbs_t cbs = {on_msg, on_eof, NULL, NULL};
    kc_consumer_t *k = kc_consumer_new(e.c, &cbs);
    member_state_t ms;
    memset(&ms, 0, sizeof ms);
    kc_member_cbs_t mcbs = {NULL, on_assigned, NULL, &ms};
    const char *topics[1] = {TOPIC};
    char err[512];
    kc_member_t *m = kc_member_open(e.c, k, topics, 1, &mcbs, err, sizeof err);
    ck_assert_msg(m != NULL, "%s", err);
    run_until(&e, has_all, &ms, 30000, "the member getting every partition");
    run_until(&e, all_received, NULL, 30000, "consuming every record");
    assert_consumed_exactly();
    ck_assert_int_eq(kc_member_commit(m, 1, NULL, NULL), 0);
    /* A commit the coordinator refuses (OFFSET_METADATA_TOO_LARGE on the
     * OffsetCommit): the callback gets the Kafka code and Eddy's error apart,
     * never one in the place of the other. */
    mock_cmd(&e.mk, "errors %d 1 %d", API_OFFSET_COMMIT, KERR_OFFSET_METADATA_TOO_LARGE);
    commit_result_t cr = {0, 0, 0};
    kc_topic_partition_t tp = {.tp_topic = TOPIC, .tp_partition = 0};
    int64_t zero = 0;
    ck_assert_int_eq(kc_member_commit_offsets(m, &tp, &zero, 1, on_commit_result, &cr), 0);
    run_until(&e, commit_returned, &cr, 15000, "the refused commit's callback");
    ck_assert_int_eq(cr.kafka_err, KERR_OFFSET_METADATA_TOO_LARGE);
    ck_assert_int_eq(cr.err, -EIO);
    kc_member_close(m, on_closed, &ms);
    run_until(&e, member_closed, &ms, 15000, "closing the member");
    kc_consumer_destroy(k);
    committed_t cm;
    for (int p = 0; p < NPART; p++)
        cm.cm_offset[p] = -100;
    ck_assert_msg(kc_admin_committed_offsets(e.c, "mocked-group", TOPIC, on_committed, &cm, err,
                                             sizeof err) == 0,
                  "%s", err);
    for (int p = 0; p < NPART; p++)
        ck_assert_msg(cm.cm_offset[p] == cn.end_offset[p], "partition %d: committed %lld, end %lld",
                      p, (long long)cm.cm_offset[p], (long long)cn.end_offset[p]);
    env_close(&e);
}
END_TEST

static int both_have_three(void *opaque)
{
    member_state_t *ms = opaque;
    if (ms[0].assigned != 3 || ms[1].assigned != 3)
        return 0;
    for (int p = 0; p < NPART; p++)
        if (ms[0].parts[p] + ms[1].parts[p] != 1)
            return 0;
    return 1;
}

typedef struct after {
    int64_t af_from_partition[NPART]; /* records of the second round, per partition */
    int64_t af_total;
} after_t;

static after_t g_after;

/* The survivor's consumer: counts the second round (values >= NREC). */
static int on_msg_after(kc_consumer_t *k, const kc_message_t *m, void *opaque)
{
    (void)k;
    (void)opaque;
    char v[32];
    snprintf(v, sizeof v, "%.*s", m->msg_value_len, (const char *)m->msg_value);
    int i = atoi(v);
    if (i >= NREC && m->msg_partition >= 0 && m->msg_partition < NPART) {
        g_after.af_from_partition[m->msg_partition]++;
        g_after.af_total++;
    }
    return 0;
}

static int second_round_in(void *opaque)
{
    return g_after.af_total >= *(int64_t *)opaque;
}

static void on_dr_count(kc_producer_t *p, int err, int16_t kerr, const char *topic,
                        int32_t partition, int64_t offset, void *opaque)
{
    (void)p, (void)kerr, (void)topic, (void)partition, (void)offset, (void)opaque;
    if (err)
        g_counts->failed++;
    else
        g_counts->acked++;
}

/* Failover through the mock's coordinator: two members split the
 * partitions; when one dies without leaving, the other gets them all after
 * the session timeout and consumes records from every partition. The one
 * that dies joined first, so it leads: the survivor must take the lead.
 *
 * librdkafka 2.0.2's mock completes a SyncGroup round as soon as the
 * leader's request is handled and answers a follower whose SyncGroup is
 * handled after that with INVALID_REQUEST and a null assignment
 * (rdkafka_mock_cgrp.c: sync_check counts the leader's assignments, not the
 * members' requests; check_state refuses SyncGroup in state Up), where Kafka
 * hands the follower its stored assignment. The follower then rejoins, and
 * the next generation races again. On loopback the race is lost most of
 * the time even when the follower sends first: the mock handles the
 * requests ready in one poll in the order of its connections. A response
 * delay of 100 ms on every mock broker puts the leader's Metadata round trip
 * (it precedes the leader's SyncGroup) between the two, as on a network. */
START_TEST(group_failover_on_the_mock)
{
    static counts_t cn;
    memset(&cn, 0, sizeof cn);
    g_counts = &cn;
    memset(&g_after, 0, sizeof g_after);
    env_t e;
    env_open(&e, "failover-group");
    for (int n = 1; n <= 3; n++)
        mock_cmd(&e.mk, "rtt %d 100", n);
    char err[512];
    /* The member that dies is static: closing it sends no LeaveGroup, so
     * to the coordinator it simply stops heartbeating, as a killed process. */
    kc_config_t cfg2;
    const char *extra[] = {"group.id=failover-group", "group.instance.id=static-dies"};
    client_config(&cfg2, e.mk.mk_bootstrap, extra, 2);
    kc_client_t *c2 = kc_client_new(&e.loop, &cfg2, err, sizeof err);
    ck_assert_msg(c2 != NULL, "%s", err);
    member_state_t ms[2]; /* [0] the survivor (client e.c), [1] the one that dies (c2) */
    memset(ms, 0, sizeof ms);
    kc_consumer_cbs_t cbs = {on_msg_after, NULL, NULL, NULL};
    kc_consumer_t *k1 = kc_consumer_new(e.c, &cbs), *k2 = kc_consumer_new(c2, &cbs);
    kc_member_cbs_t m1 = {NULL, on_assigned, NULL, &ms[0]}, m2 = {NULL, on_assigned, NULL, &ms[1]};
    const char *topics[1] = {TOPIC};
    kc_member_t *dies = kc_member_open(c2, k2, topics, 1, &m2, err, sizeof err);
    ck_assert_msg(dies != NULL, "%s", err);
    run_until(&e, has_all, &ms[1], 30000, "the first member getting every partition");
    kc_member_t *surv = kc_member_open(e.c, k1, topics, 1, &m1, err, sizeof err);
    ck_assert_msg(surv != NULL, "%s", err);
    run_until(&e, both_have_three, ms, 60000, "the two members splitting the partitions 3/3");
    /* The leader goes away without leaving; after its session the survivor
     * leads and has every partition. */
    kc_member_close(dies, on_closed, &ms[1]);
    run_until(&e, member_closed, &ms[1], 15000, "closing the member that dies");
    kc_consumer_destroy(k2);
    kc_client_destroy(c2);
    run_until(&e, has_all, &ms[0], 60000, "the survivor getting every partition");
    /* The survivor reads what is produced now, in every partition,
     * including those the dead member had. */
    kc_producer_t *p = kc_producer_new(e.c, on_dr_count);
    int64_t want = 600;
    for (int i = 0; i < want; i++) {
        char val[32];
        int vl = snprintf(val, sizeof val, "%d", NREC + i);
        kc_record_t r = {NULL, -1, val, vl, -1, NULL, 0, NULL, NULL};
        ck_assert_int_eq(kc_produce(p, TOPIC, i % NPART, &r, NULL), 0);
    }
    if (kc_producer_flush(p, 30000) != 0)
        mock_assert_alive(&e.mk);
    ck_assert_int_eq(cn.failed, 0);
    ck_assert_int_eq(cn.acked, want);
    kc_producer_destroy(p);
    run_until(&e, second_round_in, &want, 30000, "the survivor consuming the new records");
    for (int q = 0; q < NPART; q++)
        ck_assert_msg(g_after.af_from_partition[q] == want / NPART,
                      "partition %d: %lld records, not %lld", q,
                      (long long)g_after.af_from_partition[q], (long long)(want / NPART));
    kc_member_close(surv, on_closed, &ms[0]);
    run_until(&e, member_closed, &ms[0], 15000, "closing the survivor");
    kc_consumer_destroy(k1);
    env_close(&e);
    kc_config_free(&cfg2);
}
END_TEST

int main(void)
{
    const char *lvl = getenv("EDDY_LOG_LEVEL");
    if (lvl && eddy_log_level_parse(lvl) >= 0)
        eddy_log_level = eddy_log_level_parse(lvl);
    /* A write to a connection the mock closed must fail, not kill the test. */
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("client_mock_cluster");
    TCase *tc = tcase_create("mock_cluster");
    tcase_set_timeout(tc, 200);
    tcase_add_test(tc, produce_and_consume_across_three_brokers);
    tcase_add_test(tc, produce_retries_back_off);
    tcase_add_test(tc, idempotent_sequences_in_batches);
    tcase_add_test(tc, idempotence_without_init_producer_id);
    tcase_add_test(tc, init_producer_id_refused);
    tcase_add_test(tc, group_member_through_the_coordinator_node);
    tcase_add_test(tc, group_failover_on_the_mock);
    suite_add_tcase(s, tc);
    return run_suite(s);
}

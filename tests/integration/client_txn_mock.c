/* Eddy's transactional producer against librdkafka's mock cluster (3
 * brokers, the transaction coordinator on node 3, leaders spread): init,
 * commit and abort across partitions, send_offsets_to_transaction through
 * the group coordinator (TxnOffsetCommit, flexible v3 on the mock),
 * coordinator errors retried, a produce error that makes the transaction
 * abortable and the producer that goes on after the abort, and the
 * refusals of a fenced producer (the fatal class). The mock neither writes transaction markers nor keeps
 * transactional offsets, so what a read_committed consumer sees and when
 * the offsets become visible are proven against Apache Kafka
 * (kafka_transactions.sh) and by the filter's unit tests.
 *
 * The mock runs in a process of its own (mock_cluster_host.c), driven
 * through mock_harness.c as in client_mock_cluster.c.
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
#include "client/producer.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "wire/client_api.h"
#include "mock_harness.h"

#define TOPIC "txn"
#define NPART 4
#define TXN_ID "eddy-txn"
#define GROUP "txn-group"

/* ---- Eddy's client on the mock ---- */

typedef struct env {
    mock_t mk;
    uv_loop_t loop;
    kc_config_t cfg;
    kc_client_t *c;
} env_t;

static void client_config(kc_config_t *cfg, const char *bootstrap, const char *const *extra, int n)
{
    char err[512], set[1200];
    eddy_props_t ps;
    eddy_props_init(&ps);
    snprintf(set, sizeof set, "bootstrap.servers=%s", bootstrap);
    ck_assert_int_eq(eddy_props_set(&ps, "test", set, err, sizeof err), 0);
    const char *common[] = {"linger.ms=2", "retry.backoff.ms=20", "request.timeout.ms=5000",
                            "transaction.timeout.ms=10000"};
    for (size_t i = 0; i < sizeof common / sizeof *common; i++)
        ck_assert_int_eq(eddy_props_set(&ps, "test", common[i], err, sizeof err), 0);
    for (int i = 0; i < n; i++)
        ck_assert_msg(eddy_props_set(&ps, "test", extra[i], err, sizeof err) == 0, "%s", err);
    ck_assert_msg(kc_config_load(cfg, &ps, err, sizeof err) == 0, "%s", err);
    eddy_props_free(&ps);
}

static void env_client(env_t *e, const char *const *extra, int n)
{
    client_config(&e->cfg, e->mk.mk_bootstrap, extra, n);
    uv_loop_init(&e->loop);
    char err[512];
    e->c = kc_client_new(&e->loop, &e->cfg, err, sizeof err);
    ck_assert_msg(e->c != NULL, "%s", err);
}

/* A mock with the topic (leaders 1 + p % 3) and the transaction and group
 * coordinators on node 3; a transactional client. */
static void env_open_with(env_t *e, const char *extra_setting)
{
    memset(e, 0, sizeof *e);
    mock_start(&e->mk, 3);
    mock_cmd(&e->mk, "topic %s %d 1", TOPIC, NPART);
    for (int p = 0; p < NPART; p++)
        mock_cmd(&e->mk, "leader %s %d %d", TOPIC, p, 1 + p % 3);
    mock_cmd(&e->mk, "coordinator transaction %s 3", TXN_ID);
    mock_cmd(&e->mk, "coordinator group %s 3", GROUP);
    const char *extra[] = {"transactional.id=" TXN_ID, extra_setting};
    env_client(e, extra, extra_setting ? 2 : 1);
}

static void env_open(env_t *e)
{
    env_open_with(e, NULL);
}

static void env_close(env_t *e)
{
    kc_client_destroy(e->c);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&e->loop), 0);
    kc_config_free(&e->cfg);
    mock_stop(&e->mk);
}

/* Delivery reports: counts, and the offsets of each partition. */
typedef struct dr {
    int acked, failed, last_err;
    int16_t last_kerr;
    int partitions_hit[NPART];
} dr_t;

static void on_dr(kc_producer_t *p, int err, int16_t kerr, const char *topic, int32_t partition,
                  int64_t offset, void *opaque)
{
    (void)topic;
    (void)offset;
    (void)opaque;
    dr_t *d = kc_producer_opaque(p);
    if (err) {
        d->failed++;
        d->last_err = err;
        d->last_kerr = kerr;
        return;
    }
    d->acked++;
    if (partition >= 0 && partition < NPART)
        d->partitions_hit[partition] = 1;
}

static void produce_n(kc_producer_t *p, const char *prefix, int n)
{
    for (int i = 0; i < n; i++) {
        char v[64];
        int len = snprintf(v, sizeof v, "%s-%d", prefix, i);
        kc_record_t r = {NULL, -1, v, len, -1, NULL, 0, NULL, NULL};
        ck_assert_int_eq(kc_produce(p, TOPIC, i % NPART, &r, NULL), 0);
    }
}

static kc_producer_t *txn_producer(env_t *e, dr_t *d)
{
    kc_producer_t *p = kc_producer_new(e->c, on_dr);
    ck_assert_ptr_nonnull(p);
    kc_producer_set_opaque(p, d);
    ck_assert(kc_producer_transactional(p));
    return p;
}

/* The end offset of every partition (ListOffsets latest), summed. */
static int64_t total_end_offsets(env_t *e)
{
    int64_t sum = 0;
    for (int p = 0; p < NPART; p++) {
        int64_t off = -1;
        char err[512];
        ck_assert_msg(kc_admin_list_offset(e->c, TOPIC, p, -1, &off, err, sizeof err) == 0, "%s",
                      err);
        sum += off;
    }
    return sum;
}

START_TEST(commit_and_abort_across_partitions)
{
    env_t e;
    dr_t d;
    memset(&d, 0, sizeof d);
    env_open(&e);
    kc_producer_t *p = txn_producer(&e, &d);
    /* Nothing goes outside a transaction, and not before init. */
    kc_record_t r = {NULL, -1, "x", 1, -1, NULL, 0, NULL, NULL};
    ck_assert_int_eq(kc_produce(p, TOPIC, 0, &r, NULL), EDDY_ERR_TXN_STATE);
    ck_assert_int_eq(kc_producer_begin_transaction(p), EDDY_ERR_TXN_STATE);
    /* The coordinator is busy a few times (a previous producer's
     * transaction finishing): init retries. */
    mock_cmd(&e.mk, "errors 22 3 %d", KERR_CONCURRENT_TRANSACTIONS);
    ck_assert_int_eq(kc_producer_init_transactions(p, 1, NULL, NULL), 0);
    ck_assert_int_eq(kc_producer_init_transactions(p, 1, NULL, NULL), EDDY_ERR_TXN_STATE);

    ck_assert_int_eq(kc_producer_begin_transaction(p), 0);
    ck_assert_int_eq(kc_producer_begin_transaction(p), EDDY_ERR_TXN_STATE);
    produce_n(p, "c1", 40);
    mock_cmd(&e.mk, "errors 26 2 %d", KERR_COORDINATOR_LOAD_IN_PROGRESS);
    ck_assert_int_eq(kc_producer_commit_transaction(p, 1, NULL, NULL), 0);
    ck_assert_int_eq(d.acked, 40);
    for (int i = 0; i < NPART; i++)
        ck_assert_msg(d.partitions_hit[i], "no record reached partition %d", i);
    ck_assert_int_eq(kc_producer_txn_error(p, NULL, NULL), 0);

    /* Abort: the records sent are in the log (the markers hide them from
     * read_committed readers), the producer goes on. */
    ck_assert_int_eq(kc_producer_begin_transaction(p), 0);
    produce_n(p, "a", 20);
    ck_assert_int_eq(kc_producer_flush(p, 10000), 0);
    ck_assert_int_eq(kc_producer_abort_transaction(p, 1, NULL, NULL), 0);
    ck_assert_int_eq(d.acked, 60);

    /* Records not sent yet when abort is called never go out. */
    ck_assert_int_eq(kc_producer_begin_transaction(p), 0);
    produce_n(p, "b", 8);
    ck_assert_int_eq(kc_producer_abort_transaction(p, 1, NULL, NULL), 0);
    ck_assert_int_eq(d.acked, 60);
    ck_assert_int_eq(d.failed, 8);
    ck_assert_int_eq(d.last_err, -ECANCELED);

    /* An empty transaction commits without a request. */
    ck_assert_int_eq(kc_producer_begin_transaction(p), 0);
    ck_assert_int_eq(kc_producer_commit_transaction(p, 1, NULL, NULL), 0);

    ck_assert_int_eq(kc_producer_begin_transaction(p), 0);
    produce_n(p, "c2", 12);
    ck_assert_int_eq(kc_producer_commit_transaction(p, 1, NULL, NULL), 0);
    ck_assert_int_eq(d.acked, 72);
    /* Exactly the records acknowledged are in the log (the mock writes no
     * markers). */
    ck_assert_int_eq(total_end_offsets(&e), 72);
    kc_producer_destroy(p);
    env_close(&e);
}
END_TEST

/* The async form, as the streams runtime uses it: results come through
 * done on the loop thread. */
typedef struct res {
    int n, err;
    int16_t kerr;
} res_t;

static void on_res(kc_producer_t *p, int err, int16_t kerr, void *opaque)
{
    (void)p;
    res_t *r = opaque;
    r->n++;
    r->err = err;
    r->kerr = kerr;
}

static int res_done(void *opaque)
{
    return ((res_t *)opaque)->n > 0;
}

START_TEST(send_offsets_to_transaction_async)
{
    env_t e;
    dr_t d;
    memset(&d, 0, sizeof d);
    env_open(&e);
    kc_producer_t *p = txn_producer(&e, &d);
    res_t r = {0, 0, 0};
    ck_assert_int_eq(kc_producer_init_transactions(p, 0, on_res, &r), 0);
    ck_assert_int_eq(kc_run_until(e.c, res_done, &r, 20000), 0);
    ck_assert_int_eq(r.err, 0);

    ck_assert_int_eq(kc_producer_begin_transaction(p), 0);
    produce_n(p, "o", 10);
    kc_txn_offset_t offs[3] = {{TOPIC, 0, 17, -1, NULL},
                               {"other", 1, 5, -1, "meta"},
                               {TOPIC, 2, 9, -1, NULL}};
    /* The group metadata comes from the consumer: group.id and the identity
     * its group member set. */
    kc_config_t ccfg;
    const char *cset[] = {"group.id=" GROUP};
    client_config(&ccfg, e.mk.mk_bootstrap, cset, 1);
    char err[512];
    kc_client_t *cc = kc_client_new(&e.loop, &ccfg, err, sizeof err);
    ck_assert_msg(cc != NULL, "%s", err);
    kc_consumer_cbs_t cbs = {NULL, NULL, NULL, NULL};
    kc_consumer_t *k = kc_consumer_new(cc, &cbs);
    kc_consumer_group_metadata_t gm;
    ck_assert_int_eq(kc_consumer_group_metadata(k, &gm), 0);
    ck_assert_str_eq(gm.gm_group_id, GROUP);
    ck_assert_int_eq(gm.gm_generation_id, -1);
    ck_assert_str_eq(gm.gm_member_id, "");
    ck_assert_ptr_null(gm.gm_group_instance_id);
    ck_assert_int_eq(kc_consumer_set_group_identity(k, 4, "member-1", "instance-1"), 0);
    ck_assert_int_eq(kc_consumer_group_metadata(k, &gm), 0);
    ck_assert_int_eq(gm.gm_generation_id, 4);
    ck_assert_str_eq(gm.gm_member_id, "member-1");
    ck_assert_str_eq(gm.gm_group_instance_id, "instance-1");
    /* The group coordinator moved once: found again, then the commit. */
    mock_cmd(&e.mk, "errors 28 1 %d", KERR_NOT_COORDINATOR);
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(kc_producer_send_offsets_to_transaction(p, offs, 3, &gm, 0, on_res, &r), 0);
    /* One call at a time. */
    ck_assert_int_eq(kc_producer_commit_transaction(p, 0, on_res, &r), EDDY_ERR_TXN_STATE);
    ck_assert_int_eq(kc_run_until(e.c, res_done, &r, 20000), 0);
    ck_assert_msg(r.err == 0, "send_offsets: %s (%s)", eddy_strerror(r.err),
                  kafka_err_name(r.kerr));
    /* gm was copied: the consumer may go. */
    kc_consumer_destroy(k);
    kc_client_destroy(cc);
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(kc_producer_commit_transaction(p, 0, on_res, &r), 0);
    ck_assert_int_eq(kc_run_until(e.c, res_done, &r, 20000), 0);
    ck_assert_int_eq(r.err, 0);
    ck_assert_int_eq(d.acked, 10);
    kc_producer_destroy(p);
    env_close(&e);
    kc_config_free(&ccfg);
}
END_TEST

/* A Produce refused with kerr (not retriable) makes the transaction
 * abortable; after the abort the producer goes on. */
static void abortable_by(int16_t kerr_injected)
{
    env_t e;
    dr_t d;
    memset(&d, 0, sizeof d);
    env_open(&e);
    kc_producer_t *p = txn_producer(&e, &d);
    ck_assert_int_eq(kc_producer_init_transactions(p, 1, NULL, NULL), 0);
    /* A transaction that commits first: partition 0 has sequence numbers
     * in use. */
    ck_assert_int_eq(kc_producer_begin_transaction(p), 0);
    produce_n(p, "ok", 8);
    ck_assert_int_eq(kc_producer_commit_transaction(p, 1, NULL, NULL), 0);
    ck_assert_int_eq(d.acked, 8);
    /* The next Produce is refused, not retriable: the records of partition
     * 0 fail after they got their sequence numbers. */
    ck_assert_int_eq(kc_producer_begin_transaction(p), 0);
    mock_cmd(&e.mk, "errors 0 1 %d", kerr_injected);
    for (int i = 0; i < 4; i++) {
        kc_record_t r = {NULL, -1, "x", 1, -1, NULL, 0, NULL, NULL};
        ck_assert_int_eq(kc_produce(p, TOPIC, 0, &r, NULL), 0);
    }
    int rc = kc_producer_commit_transaction(p, 1, NULL, NULL);
    ck_assert_msg(rc == EDDY_ERR_TXN_ABORTABLE, "commit: %s", eddy_strerror(rc));
    int16_t kerr = 0;
    const char *why = NULL;
    ck_assert_int_eq(kc_producer_txn_error(p, &kerr, &why), EDDY_ERR_TXN_ABORTABLE);
    ck_assert_int_eq(kerr, kerr_injected);
    ck_assert_ptr_nonnull(why);
    ck_assert_int_ge(d.failed, 1);
    ck_assert_int_eq(d.acked + d.failed, 12);
    /* Until the abort, every call but abort reports the class. */
    ck_assert_int_eq(kc_produce(p, TOPIC, 0,
                                &(kc_record_t){NULL, -1, "y", 1, -1, NULL, 0, NULL, NULL}, NULL),
                     EDDY_ERR_TXN_ABORTABLE);
    ck_assert_int_eq(kc_producer_commit_transaction(p, 1, NULL, NULL), EDDY_ERR_TXN_ABORTABLE);
    ck_assert_int_eq(kc_producer_abort_transaction(p, 1, NULL, NULL), 0);
    ck_assert_int_eq(kc_producer_txn_error(p, NULL, NULL), 0);
    /* The producer goes on, partition 0 included: the failed batch left
     * no gap in the sequence the broker expects (a new epoch numbers from
     * 0 again). */
    int acked = d.acked;
    ck_assert_int_eq(kc_producer_begin_transaction(p), 0);
    produce_n(p, "again", 8);
    rc = kc_producer_commit_transaction(p, 1, NULL, NULL);
    ck_assert_msg(rc == 0, "commit after the abort: %s", eddy_strerror(rc));
    ck_assert_int_eq(d.acked, acked + 8);
    kc_producer_destroy(p);
    env_close(&e);
}

START_TEST(produce_error_makes_the_transaction_abortable)
{
    abortable_by(KERR_TOPIC_AUTHORIZATION_FAILED);
    /* Kafka's producer since KIP-588: an INVALID_PRODUCER_EPOCH from a
     * partition leader is abortable; the abort asks the coordinator, which
     * answers PRODUCER_FENCED when the producer really was fenced
     * (fenced_producer_gets_the_fatal_class, kafka_transactions.sh). */
    abortable_by(KERR_INVALID_PRODUCER_EPOCH);
}
END_TEST

/* A coordinator that keeps answering AddPartitionsToTxn with a retriable
 * error: the records waiting for their partitions to join fail after
 * delivery.timeout.ms (Kafka's producer expires them too) and the
 * transaction becomes abortable, instead of a commit that never ends. */
START_TEST(records_waiting_to_join_expire)
{
    env_t e;
    dr_t d;
    memset(&d, 0, sizeof d);
    env_open_with(&e, "delivery.timeout.ms=1500");
    kc_producer_t *p = txn_producer(&e, &d);
    ck_assert_int_eq(kc_producer_init_transactions(p, 1, NULL, NULL), 0);
    ck_assert_int_eq(kc_producer_begin_transaction(p), 0);
    mock_cmd(&e.mk, "errors %d 1000 %d", API_ADD_PARTITIONS_TO_TXN, KERR_CONCURRENT_TRANSACTIONS);
    produce_n(p, "w", 4);
    int rc = kc_producer_commit_transaction(p, 1, NULL, NULL);
    ck_assert_msg(rc == EDDY_ERR_TXN_ABORTABLE, "commit: %s", eddy_strerror(rc));
    ck_assert_int_eq(d.acked, 0);
    ck_assert_int_eq(d.failed, 4);
    const char *why = NULL;
    ck_assert_int_eq(kc_producer_txn_error(p, NULL, &why), EDDY_ERR_TXN_ABORTABLE);
    ck_assert_msg(why && strstr(why, "delivery.timeout.ms"), "why: %s", why ? why : "(none)");
    /* The coordinator recovers: after the abort the producer goes on. */
    mock_cmd(&e.mk, "clearerrors %d", API_ADD_PARTITIONS_TO_TXN);
    ck_assert_int_eq(kc_producer_abort_transaction(p, 1, NULL, NULL), 0);
    ck_assert_int_eq(kc_producer_begin_transaction(p), 0);
    produce_n(p, "v", 4);
    rc = kc_producer_commit_transaction(p, 1, NULL, NULL);
    ck_assert_msg(rc == 0, "commit after the abort: %s", eddy_strerror(rc));
    ck_assert_int_eq(d.acked, 4);
    kc_producer_destroy(p);
    env_close(&e);
}
END_TEST

/* librdkafka's mock (2.0) hands out a new producer id at every
 * InitProducerId instead of bumping the epoch of the transactional.id, so
 * it cannot fence; the refusals a fenced producer gets are injected here
 * (kafka_transactions.sh fences a real one on Apache Kafka). */
static void fenced_by(env_t *e, const char *inject, int16_t want)
{
    dr_t d;
    memset(&d, 0, sizeof d);
    kc_producer_t *p = txn_producer(e, &d);
    ck_assert_int_eq(kc_producer_init_transactions(p, 1, NULL, NULL), 0);
    ck_assert_int_eq(kc_producer_begin_transaction(p), 0);
    produce_n(p, "z", 4);
    ck_assert_int_eq(kc_producer_flush(p, 10000), 0);
    ck_assert_int_eq(d.acked, 4);
    mock_cmd(&e->mk, "%s", inject);
    produce_n(p, "z2", 1);
    int rc = kc_producer_commit_transaction(p, 1, NULL, NULL);
    ck_assert_msg(rc == EDDY_ERR_TXN_FATAL, "commit of the fenced producer (%s): %s", inject,
                  eddy_strerror(rc));
    int16_t kerr = 0;
    const char *why = NULL;
    ck_assert_int_eq(kc_producer_txn_error(p, &kerr, &why), EDDY_ERR_TXN_FATAL);
    ck_assert_msg(kerr == want, "fenced with %s", kafka_err_name(kerr));
    ck_assert_ptr_nonnull(why);
    /* Nothing works any more, abort included. */
    ck_assert_int_eq(kc_producer_abort_transaction(p, 1, NULL, NULL), EDDY_ERR_TXN_FATAL);
    ck_assert_int_eq(kc_producer_begin_transaction(p), EDDY_ERR_TXN_FATAL);
    kc_record_t r = {NULL, -1, "x", 1, -1, NULL, 0, NULL, NULL};
    ck_assert_int_eq(kc_produce(p, TOPIC, 0, &r, NULL), EDDY_ERR_TXN_FATAL);
    kc_producer_destroy(p);
}

START_TEST(fenced_producer_gets_the_fatal_class)
{
    env_t e;
    env_open(&e);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "errors 26 1 %d", KERR_PRODUCER_FENCED); /* EndTxn */
    fenced_by(&e, cmd, KERR_PRODUCER_FENCED);
    snprintf(cmd, sizeof cmd, "errors 26 1 %d", KERR_INVALID_PRODUCER_EPOCH); /* EndTxn */
    fenced_by(&e, cmd, KERR_INVALID_PRODUCER_EPOCH);
    /* A new producer with the same transactional.id works. */
    dr_t d;
    memset(&d, 0, sizeof d);
    kc_producer_t *p = txn_producer(&e, &d);
    ck_assert_int_eq(kc_producer_init_transactions(p, 1, NULL, NULL), 0);
    ck_assert_int_eq(kc_producer_begin_transaction(p), 0);
    produce_n(p, "n", 4);
    ck_assert_int_eq(kc_producer_commit_transaction(p, 1, NULL, NULL), 0);
    ck_assert_int_eq(d.acked, 4);
    kc_producer_destroy(p);
    env_close(&e);
}
END_TEST

START_TEST(settings_that_contradict_idempotence)
{
    const char *bad[][2] = {{"transactional.id=t", "enable.idempotence=false"},
                            {"transactional.id=t", "acks=1"},
                            {"transactional.id=t", "max.in.flight.requests.per.connection=6"},
                            {"isolation.level=read_dirty", NULL}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[512];
        eddy_props_t ps;
        eddy_props_init(&ps);
        for (int j = 0; j < 2 && bad[i][j]; j++)
            ck_assert_int_eq(eddy_props_set(&ps, "test", bad[i][j], err, sizeof err), 0);
        kc_config_t cfg;
        err[0] = 0;
        int rc = kc_config_load(&cfg, &ps, err, sizeof err);
        ck_assert_msg(rc == EDDY_ERR_CONFIG, "%s %s: accepted", bad[i][0],
                      bad[i][1] ? bad[i][1] : "");
        const char *name = strchr(bad[i][1] ? bad[i][1] : bad[i][0], '=');
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(name - (bad[i][1] ? bad[i][1] : bad[i][0])),
                 bad[i][1] ? bad[i][1] : bad[i][0]);
        ck_assert_msg(strstr(err, key) != NULL, "the error does not name %s: %s", key, err);
        kc_config_free(&cfg);
        eddy_props_free(&ps);
    }
}
END_TEST

int main(void)
{
    const char *lvl = getenv("EDDY_LOG_LEVEL");
    if (lvl && eddy_log_level_parse(lvl) >= 0)
        eddy_log_level = eddy_log_level_parse(lvl);
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("client_txn_mock");
    TCase *tc = tcase_create("txn");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, settings_that_contradict_idempotence);
    tcase_add_test(tc, commit_and_abort_across_partitions);
    tcase_add_test(tc, send_offsets_to_transaction_async);
    tcase_add_test(tc, produce_error_makes_the_transaction_abortable);
    tcase_add_test(tc, records_waiting_to_join_expire);
    tcase_add_test(tc, fenced_producer_gets_the_fatal_class);
    suite_add_tcase(s, tc);
    return run_suite(s);
}

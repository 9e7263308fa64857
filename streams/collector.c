/* The record collector: a stream thread's producer, the changelog trackers
 * its delivery reports move, and the wait for acknowledgements a commit
 * makes. It is its own file so that tasks produce through one small
 * interface (collector.h) and the thread's commit only asks it whether
 * everything is acknowledged; what a refused record means (fail, or skip
 * under production.exception.handler=log-and-continue) is decided here,
 * where the report arrives.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "streams/collector.h"
#include "streams/streams_int.h"

struct sx_tracker {
    char *tr_topic;
    int32_t tr_partition;
    int64_t tr_next;
    /* The last incarnation record produced here and its offset once
     * acknowledged (-1 before). */
    uint8_t tr_inc_id[ST_INCARNATION_ID_LEN];
    int64_t tr_inc_offset;
};

int sx_collector_tracker(sx_collector_t *co, const char *topic, int32_t partition)
{
    for (int i = 0; i < co->co_ntrackers; i++)
        if (co->co_trackers[i].tr_partition == partition &&
            strcmp(co->co_trackers[i].tr_topic, topic) == 0)
            return i;
    struct sx_tracker *nt = realloc(co->co_trackers, (size_t)(co->co_ntrackers + 1) * sizeof *nt);
    if (!nt)
        return -1;
    co->co_trackers = nt;
    if (!(nt[co->co_ntrackers].tr_topic = strdup(topic)))
        return -1;
    nt[co->co_ntrackers].tr_partition = partition;
    nt[co->co_ntrackers].tr_next = -1;
    nt[co->co_ntrackers].tr_inc_offset = -1;
    memset(nt[co->co_ntrackers].tr_inc_id, 0, ST_INCARNATION_ID_LEN);
    return co->co_ntrackers++;
}

/* A record's delivery opaque: tracker + 1 for a changelog record, -(tracker
 * + 1) for an incarnation record, 0 for none. */
static void delivered(sx_collector_t *co, void *opaque, int64_t offset)
{
    intptr_t op = (intptr_t)opaque, tr = op < 0 ? -op - 1 : op - 1;
    if (tr >= 0 && tr < co->co_ntrackers && offset + 1 > co->co_trackers[tr].tr_next)
        co->co_trackers[tr].tr_next = offset + 1;
    if (op < 0 && tr < co->co_ntrackers)
        co->co_trackers[tr].tr_inc_offset = offset;
}

/* kc_produce, or a test driver's transport (the thread's th_transport),
 * which writes the record at once and so delivers it at once. */
static int produce(sx_collector_t *co, const char *topic, int32_t partition, const kc_record_t *rec,
                   void *opaque)
{
    sx_thread_t *th = co->co_thread;
    if (!th->th_transport) {
        /* Under exactly-once every record goes in the thread's open
         * transaction, begun by the first record after a commit (as Kafka
         * Streams' StreamsProducer does); the thread's commit ends it. */
        if (!th->th_app->ap_cfg.eos)
            return kc_produce(co->co_producer, topic, partition, rec, opaque);
        int rc = 0;
        if (!co->co_txn_open && (rc = kc_producer_begin_transaction(co->co_producer)) == 0)
            co->co_txn_open = 1;
        if (rc == 0)
            rc = kc_produce(co->co_producer, topic, partition, rec, opaque);
        if (rc == EDDY_ERR_TXN_ABORTABLE || rc == EDDY_ERR_TXN_FATAL) {
            /* The transaction already failed (a fenced producer, a record
             * refused): it can only abort, and every record of it is redone
             * from the committed offsets, this one included. The thread
             * aborts once the task's record is done (sx_thread_txn_failed). */
            sx_thread_txn_failed(th, rc);
            return 0;
        }
        return rc;
    }
    int64_t offset = -1;
    int rc = th->th_transport(th, topic, &partition, rec, &offset);
    if (rc == 0)
        delivered(co, opaque, offset);
    return rc;
}

int sx_collector_produce_incarnation(sx_collector_t *co, int tracker, const kc_record_t *rec,
                                     const uint8_t id[ST_INCARNATION_ID_LEN])
{
    sx_thread_t *th = co->co_thread;
    if (tracker < 0 || tracker >= co->co_ntrackers)
        return EDDY_ERR_INVALID_ARG;
    struct sx_tracker *tr = &co->co_trackers[tracker];
    memcpy(tr->tr_inc_id, id, ST_INCARNATION_ID_LEN);
    tr->tr_inc_offset = -1;
    int rc = produce(co, tr->tr_topic, tr->tr_partition, rec, (void *)(intptr_t)-(tracker + 1));
    if (rc < 0) {
        sx_thread_fail(th, rc, "cannot produce to %s: %s", tr->tr_topic, eddy_strerror(rc));
        return rc;
    }
    return 0;
}

int64_t sx_collector_tracker_incarnation(const sx_collector_t *co, int tracker,
                                         const uint8_t id[ST_INCARNATION_ID_LEN])
{
    if (tracker < 0 || tracker >= co->co_ntrackers ||
        memcmp(co->co_trackers[tracker].tr_inc_id, id, ST_INCARNATION_ID_LEN) != 0)
        return -1;
    return co->co_trackers[tracker].tr_inc_offset;
}

int64_t sx_collector_tracker_offset(const sx_collector_t *co, int tracker)
{
    return tracker >= 0 && tracker < co->co_ntrackers ? co->co_trackers[tracker].tr_next : -1;
}

/* What a broker's answer to a refused record means for the user. */
static const char *refusal_hint(int16_t kafka_err)
{
    switch (kafka_err) {
    case KERR_MESSAGE_TOO_LARGE: return " (a record larger than the topic's max.message.bytes)";
    case KERR_UNKNOWN_TOPIC_OR_PARTITION:
        return " (the topic does not exist and the broker does not create it: create it, e.g. "
               "with `eddy topic create`)";
    default: return "";
    }
}

/* A delivery failure that belongs to the transaction rather than to the
 * record: the producer fenced or in an error class already, the
 * transaction aborted by the coordinator. */
static int txn_level_failure(int err, int16_t kafka_err)
{
    return err == EDDY_ERR_TXN_ABORTABLE || err == EDDY_ERR_TXN_FATAL ||
           kafka_err == KERR_PRODUCER_FENCED || kafka_err == KERR_INVALID_PRODUCER_EPOCH ||
           kafka_err == KERR_INVALID_TXN_STATE || kafka_err == KERR_TRANSACTION_ABORTABLE ||
           kafka_err == KERR_TRANSACTION_COORDINATOR_FENCED;
}

static void on_delivery(kc_producer_t *p, int err, int16_t kafka_err, const char *topic,
                        int32_t partition, int64_t offset, void *opaque)
{
    (void)p;
    sx_collector_t *co = kc_producer_opaque(p);
    sx_thread_t *th = co->co_thread;
    /* opaque: as sx_collector_produce_incarnation says (tr < 0: not a changelog's) */
    intptr_t op = (intptr_t)opaque, tr = op < 0 ? -op - 1 : op - 1;
    if (err < 0 && th->th_app->ap_cfg.eos && (err == -ECANCELED || co->co_txn_aborting)) {
        /* A transaction being aborted, or a producer replaced after it was
         * fenced: its records are dropped on purpose (the thread reprocesses
         * from the committed offsets). */
        return;
    }
    if (err < 0 && th->th_app->ap_cfg.eos && txn_level_failure(err, kafka_err)) {
        /* Not this record's fault: its transaction failed (fenced, aborted
         * by the coordinator). The thread aborts and redoes the work. */
        sx_thread_txn_failed(th, err == EDDY_ERR_TXN_FATAL || kafka_err == KERR_PRODUCER_FENCED ||
                                         kafka_err == KERR_INVALID_PRODUCER_EPOCH
                                     ? EDDY_ERR_TXN_FATAL
                                     : EDDY_ERR_TXN_ABORTABLE);
        return;
    }
    if (err < 0) {
        /* "<topic>-<partition>: <reason>[, broker said X][ (hint)]" */
        char what[600];
        int n = partition >= 0 ? snprintf(what, sizeof what, "%s-%d", topic, (int)partition)
                               : snprintf(what, sizeof what, "%s", topic);
        if (n > 0 && (size_t)n < sizeof what)
            snprintf(what + n, sizeof what - (size_t)n, " failed: %s%s%s%s",
                     err == -ETIMEDOUT ? "not delivered within delivery.timeout.ms"
                                       : eddy_strerror(err),
                     kafka_err ? ", broker said " : "", kafka_err ? kafka_err_name(kafka_err) : "",
                     refusal_hint(kafka_err));
        /* Output and repartition records the cluster refused may be
         * skipped (production.exception.handler=log-and-continue); a
         * changelog record never: the state would no longer match it. */
        /* Not under exactly-once: the transaction holding a refused record
         * can only abort, and would again each time it is redone. */
        if (tr < 0 && th->th_app->ap_cfg.production_continue && !th->th_app->ap_cfg.eos &&
            !th->th_error) {
            int64_t skipped = __atomic_add_fetch(&th->th_skipped, 1, __ATOMIC_RELAXED);
            if (skipped <= 10 || skipped % 1000 == 0)
                EDDY_LOG_WARN("streams",
                              "%s: skipping a record the cluster refused: producing "
                              "to %s (production.exception.handler=log-and-continue; %lld "
                              "skipped so far)",
                              th->th_name, what, (long long)skipped);
            if (co->co_waiting_acks && kc_producer_outstanding(co->co_producer) == 0)
                sx_thread_acks_done(th);
            return;
        }
        sx_thread_fail(th, err, "producing to %s%s", what,
                       tr >= 0 ? ""
                       : th->th_app->ap_cfg.eos
                           ? " (under processing.guarantee=exactly_once_v2 a refused record stops "
                             "the app: its transaction could only abort)"
                           : " (production.exception.handler=log-and-fail; log-and-continue "
                             "skips such records)");
        if (co->co_waiting_acks && kc_producer_outstanding(co->co_producer) == 0)
            sx_thread_acks_done(th);
        return;
    }
    delivered(co, opaque, offset);
    if (co->co_waiting_acks && kc_producer_outstanding(co->co_producer) == 0)
        sx_thread_acks_done(th);
}

int sx_collector_send(sx_collector_t *co, const char *topic, int32_t partition,
                      const kc_record_t *rec, int tracker)
{
    sx_thread_t *th = co->co_thread;
    int rc = produce(co, topic, partition, rec, (void *)(intptr_t)(tracker + 1));
    if (rc == EDDY_ERR_TOO_LARGE) {
        sx_thread_fail(th, rc,
                       "cannot produce to %s: a record of %lld bytes (key %d, value %d) "
                       "is larger than max.request.size (%d bytes; producer.max.request.size "
                       "raises it)",
                       topic, (long long)kc_record_size(rec), (int)rec->rec_key_len,
                       (int)rec->rec_value_len, (int)kc_config(th->th_client)->max_request_size);
        return rc;
    }
    if (rc < 0) {
        sx_thread_fail(th, rc, "cannot produce to %s: %s", topic, eddy_strerror(rc));
        return rc;
    }
    __atomic_add_fetch(&th->th_produced, 1, __ATOMIC_RELAXED);
    return 0;
}

int sx_collector_produce(sx_collector_t *co, const char *topic, int32_t partition, eddy_bytes_t key,
                         eddy_bytes_t value, int64_t ts, int tracker)
{
    kc_record_t rec = {key.data, key.len, value.data, value.len, ts, NULL, 0, NULL, NULL};
    return sx_collector_send(co, topic, partition, &rec, tracker);
}

int sx_collector_send_raw(sx_collector_t *co, const char *topic, int32_t partition,
                          const kc_record_t *rec)
{
    sx_thread_t *th = co->co_thread;
    int rc = produce(co, topic, partition, rec, (void *)(intptr_t)0);
    if (rc < 0) {
        sx_thread_fail(th, rc, "cannot produce to %s: %s", topic, eddy_strerror(rc));
        return rc;
    }
    __atomic_add_fetch(&th->th_produced, 1, __ATOMIC_RELAXED);
    return 0;
}

int sx_collector_flush(sx_collector_t *co)
{
    kc_producer_send_now(co->co_producer);
    co->co_waiting_acks = 1;
    return kc_producer_outstanding(co->co_producer) == 0;
}

int sx_collector_all_acked(const sx_collector_t *co)
{
    return co->co_waiting_acks && kc_producer_outstanding(co->co_producer) == 0;
}

void sx_collector_stop_waiting(sx_collector_t *co)
{
    co->co_waiting_acks = 0;
}

int sx_collector_init(sx_collector_t *co, sx_thread_t *th, kc_client_t *client)
{
    co->co_thread = th;
    co->co_txn_open = co->co_txn_aborting = 0;
    co->co_producer = kc_producer_new(client, on_delivery);
    if (!co->co_producer)
        return -ENOMEM;
    kc_producer_set_opaque(co->co_producer, co);
    return 0;
}

int sx_collector_renew(sx_collector_t *co, kc_client_t *client)
{
    co->co_txn_open = 0;
    co->co_producer = kc_producer_new(client, on_delivery);
    if (!co->co_producer)
        return -ENOMEM;
    kc_producer_set_opaque(co->co_producer, co);
    return 0;
}

void sx_collector_close(sx_collector_t *co)
{
    kc_producer_destroy(co->co_producer);
    co->co_producer = NULL;
}

void sx_collector_free(sx_collector_t *co)
{
    for (int i = 0; i < co->co_ntrackers; i++)
        free(co->co_trackers[i].tr_topic);
    free(co->co_trackers);
    co->co_trackers = NULL;
    co->co_ntrackers = 0;
}

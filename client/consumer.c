/* The consumer (see consumer.h).
 *
 * Each assigned partition:
 *
 *   RESOLVE --ListOffsets / OffsetFetch--> FETCHING --records--> FETCHING
 *      ^                                       |
 *      +---- out of range (auto.offset.reset) -+
 *
 * One Fetch in flight per leader at a time; as soon as it is answered the
 * next one goes out (pipelined), so the broker's long poll (fetch.max.wait.ms)
 * paces an idle consumer.
 */
#include "client/consumer.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_int.h"
#include "client/txn_wire.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "wire/client_api.h"
#include "wire/recordbatch.h"

typedef struct kc_cpart {
    struct kc_cpart *cp_next;
    char *cp_topic;
    int32_t cp_partition;
    int64_t cp_position; /* -1: to resolve */
    int64_t cp_reset;    /* what to resolve: KC_OFFSET_* or a timestamp (>= 0 with cp_by_ts) */
    int cp_by_ts;
    int cp_resolving;
    int cp_paused;
    int cp_fetching;
    int32_t cp_fetch_node; /* while cp_fetching: the broker the fetch went to */
    int cp_at_eof;
    int cp_stopped; /* an error only the application can resolve */
    int cp_removed; /* unassigned; freed once no request of its is out */
    int64_t cp_high_watermark; /* last fetch answer's (LSO under read_committed), -1 before */
} kc_cpart_t;

struct kc_consumer {
    kc_client_t *k_client;
    kc_consumer_cbs_t k_cbs;
    kc_cpart_t *k_parts;
    uv_idle_t k_idle; /* schedules fetches on the next loop turn */
    uv_timer_t k_retry;
    int k_requests;
    int k_closing;
    int k_handles;
    int32_t k_coordinator; /* -1: unknown */
    /* Commit identity (kc_consumer_set_group_identity): -1 / NULL for a simple consumer. */
    int32_t k_generation;
    char *k_member_id, *k_instance_id;
    int k_read_committed; /* isolation.level=read_committed */
};

static void schedule(kc_consumer_t *k);
static void consumer_free_if_done(kc_consumer_t *k);

static kc_cpart_t *part_find(const kc_consumer_t *k, const char *topic, int32_t partition)
{
    for (kc_cpart_t *p = k->k_parts; p; p = p->cp_next)
        if (!p->cp_removed && p->cp_partition == partition && strcmp(p->cp_topic, topic) == 0)
            return p;
    return NULL;
}

/* Frees unassigned partitions whose requests have all come back. */
static void reap_removed(kc_consumer_t *k)
{
    kc_cpart_t **pp = &k->k_parts;
    while (*pp) {
        kc_cpart_t *p = *pp;
        if (p->cp_removed && !p->cp_fetching && !p->cp_resolving) {
            *pp = p->cp_next;
            free(p->cp_topic);
            free(p);
        } else {
            pp = &p->cp_next;
        }
    }
}

static int32_t leader_of(const kc_consumer_t *k, const kc_cpart_t *p)
{
    const kc_topic_meta_t *m = kc_metadata_topic(k->k_client, p->cp_topic);
    if (!m || p->cp_partition >= m->tm_npartitions)
        return -1;
    return m->tm_partitions[p->cp_partition].pm_leader;
}

static void set_reset(kc_cpart_t *p, int64_t spec, int by_ts)
{
    p->cp_position = -1;
    p->cp_reset = spec;
    p->cp_by_ts = by_ts;
    p->cp_at_eof = 0;
    p->cp_stopped = 0;
}

static void refresh_metadata(kc_consumer_t *k)
{
    kc_metadata_refresh(k->k_client, NULL, 0, 0, NULL, NULL);
}

void kc_consumer_metadata_changed(struct kc_consumer *k)
{
    schedule(k);
}

/* ---- resolving positions (ListOffsets) ---- */

typedef struct lo_req {
    kc_consumer_t *lr_consumer;
    kc_cpart_t *lr_part;
    int64_t lr_ts;
} lo_req_t;

static void encode_list_offsets(eddy_wr_t *wr, int16_t v, void *opaque)
{
    lo_req_t *lr = opaque;
    ListOffsetsRequestPartition rp = {lr->lr_part->cp_partition, lr->lr_ts, 1, -1};
    ListOffsetsRequestTopic rt = {kstr_c(lr->lr_part->cp_topic), &rp, 1};
    ListOffsetsRequest req = {-1, 0, &rt, 1};
    wire_list_offsets_req_encode(wr, v, &req);
}

static void retry_later(kc_consumer_t *k);

/* KAFKA_STORAGE_ERROR is retriable as in Kafka, but on a single broker it
 * lasts until an operator acts: say so instead of retrying silently, once per
 * interval. */
static void warn_storage_error(const kc_cpart_t *p, int16_t kerr, const char *what)
{
    static eddy_log_limit_t storage_limit = EDDY_LOG_LIMIT_INIT;
    if (kerr == KERR_KAFKA_STORAGE_ERROR)
        EDDY_LOG_LIMITED(EDDY_LOG_LVL_WARN, "consumer", &storage_limit, 10000,
                         "%s %s-%d: KAFKA_STORAGE_ERROR (the broker cannot read this "
                         "partition's log; see the broker's log); retrying",
                         what, p->cp_topic, p->cp_partition);
}

/* Tells the application about an error only it can resolve (on_error), or
 * the log when it does not listen; stop: the partition stops fetching until
 * the application seeks. */
static void part_error(kc_consumer_t *k, kc_cpart_t *p, int stop, int16_t kerr, int err,
                       int64_t next, const char *why)
{
    if (stop)
        p->cp_stopped = 1;
    kc_consumer_error_t e = {p->cp_topic, p->cp_partition, kerr, err, p->cp_position, next, why};
    static eddy_log_limit_t limit = EDDY_LOG_LIMIT_INIT;
    if (k->k_cbs.on_error)
        k->k_cbs.on_error(k, &e, k->k_cbs.opaque);
    else
        EDDY_LOG_LIMITED(EDDY_LOG_LVL_ERROR, "consumer", &limit, 10000, "%s-%d offset %lld: %s%s",
                         p->cp_topic, p->cp_partition, (long long)p->cp_position, why,
                         stop ? "; the partition stops" : "");
}

/* The same for a Kafka error the broker sent. */
static void part_kafka_error(kc_consumer_t *k, kc_cpart_t *p, int stop, int16_t kerr,
                             const char *what)
{
    char why[256];
    snprintf(why, sizeof why, "%s: %s", what, kafka_err_name(kerr));
    part_error(k, p, stop, kerr, 0, -1, why);
}

static void on_list_offsets(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque)
{
    (void)c;
    lo_req_t *lr = opaque;
    kc_consumer_t *k = lr->lr_consumer;
    kc_cpart_t *p = lr->lr_part;
    k->k_requests--;
    free(lr);
    if (k->k_closing) {
        consumer_free_if_done(k);
        return;
    }
    p->cp_resolving = 0;
    if (p->cp_removed) {
        schedule(k);
        return;
    }
    ListOffsetsResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    int16_t kerr = KERR_NONE;
    int64_t off = -1;
    if (err == 0 && wire_list_offsets_resp_decode(rd, v, &a, &resp) == 0 && resp.TopicsCount > 0 &&
        resp.Topics[0].PartitionsCount > 0) {
        kerr = resp.Topics[0].Partitions[0].ErrorCode;
        off = resp.Topics[0].Partitions[0].Offset;
    } else {
        kerr = KERR_REQUEST_TIMED_OUT;
    }
    arena_free(&a);
    if (kerr != KERR_NONE) {
        warn_storage_error(p, kerr, "listing offsets of");
        refresh_metadata(k);
        retry_later(k);
        return;
    }
    if (off < 0 && p->cp_by_ts) {
        /* No record that late: the end, as Kafka's offsetsForTimes + seek. */
        set_reset(p, KC_OFFSET_END, 0);
        schedule(k);
        return;
    }
    p->cp_position = off;
    schedule(k);
}

static void resolve_listing(kc_consumer_t *k, kc_cpart_t *p, int32_t leader)
{
    lo_req_t *lr = calloc(1, sizeof *lr);
    if (!lr)
        return;
    lr->lr_consumer = k;
    lr->lr_part = p;
    lr->lr_ts = p->cp_by_ts ? p->cp_reset : (p->cp_reset == KC_OFFSET_BEGINNING ? -2 : -1);
    p->cp_resolving = 1;
    if (kc_request(k->k_client, leader, API_LIST_OFFSETS, 1, encode_list_offsets, on_list_offsets,
                   lr) == 0)
        k->k_requests++;
    else {
        p->cp_resolving = 0;
        free(lr);
    }
}

/* ---- committed offsets (FindCoordinator, OffsetFetch, OffsetCommit) ---- */

static void encode_find_coordinator(eddy_wr_t *wr, int16_t v, void *opaque)
{
    kc_consumer_t *k = opaque;
    FindCoordinatorRequest req = {kstr_c(kc_config(k->k_client)->group_id), 0};
    wire_find_coordinator_req_encode(wr, v, &req);
}

static void on_find_coordinator(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque)
{
    kc_consumer_t *k = opaque;
    k->k_requests--;
    if (k->k_closing) {
        consumer_free_if_done(k);
        return;
    }
    FindCoordinatorResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    if (err == 0 && wire_find_coordinator_resp_decode(rd, v, &a, &resp) == 0 &&
        resp.ErrorCode == KERR_NONE) {
        char host[256];
        snprintf(host, sizeof host, "%.*s", resp.Host.len > 0 ? resp.Host.len : 0, resp.Host.ptr);
        kc_broker_upsert(c, resp.NodeId, host, resp.Port);
        k->k_coordinator = resp.NodeId;
        schedule(k);
    } else {
        retry_later(k);
    }
    arena_free(&a);
}

static int find_coordinator(kc_consumer_t *k)
{
    if (k->k_coordinator >= 0)
        return 0;
    if (kc_request(k->k_client, KC_NODE_ANY, API_FIND_COORDINATOR, 1, encode_find_coordinator,
                   on_find_coordinator, k) == 0)
        k->k_requests++;
    return -1;
}

typedef struct of_req {
    kc_consumer_t *or_consumer;
    kc_cpart_t *or_part;
} of_req_t;

static void encode_offset_fetch(eddy_wr_t *wr, int16_t v, void *opaque)
{
    of_req_t *o = opaque;
    int32_t part = o->or_part->cp_partition;
    OffsetFetchRequestTopic t = {kstr_c(o->or_part->cp_topic), &part, 1};
    /* read_committed asks for stable offsets (v7+): while a transaction
     * holds an offset of the partition the coordinator answers
     * UNSTABLE_OFFSET_COMMIT, and the fetch is retried, rather than giving
     * the offset committed before it (the records the transaction is about
     * to commit would be read again). Older brokers cannot be asked. */
    OffsetFetchRequest req = {kstr_c(kc_config(o->or_consumer->k_client)->group_id), &t, 1,
                              (int8_t)(o->or_consumer->k_read_committed && v >= 7)};
    wire_offset_fetch_req_encode(wr, v, &req);
}

static void on_offset_fetch(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque)
{
    (void)c;
    of_req_t *o = opaque;
    kc_consumer_t *k = o->or_consumer;
    kc_cpart_t *p = o->or_part;
    k->k_requests--;
    free(o);
    if (k->k_closing) {
        consumer_free_if_done(k);
        return;
    }
    p->cp_resolving = 0;
    if (p->cp_removed) {
        schedule(k);
        return;
    }
    OffsetFetchResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    int64_t off = -2;
    int16_t perr = KERR_NONE;
    if (err == 0 && wire_offset_fetch_resp_decode(rd, v, &a, &resp) == 0 && resp.TopicsCount > 0 &&
        resp.Topics[0].PartitionsCount > 0) {
        perr = resp.Topics[0].Partitions[0].ErrorCode;
        if (perr == KERR_NONE)
            off = resp.Topics[0].Partitions[0].CommittedOffset;
    }
    arena_free(&a);
    if (off == -2) {
        if (perr == KERR_UNSTABLE_OFFSET_COMMIT) {
            /* A transaction of the group is still open on the partition:
             * asked again after retry.backoff.ms, as the Java consumer does. */
            static eddy_log_limit_t limit = EDDY_LOG_LIMIT_INIT;
            EDDY_LOG_LIMITED(EDDY_LOG_LVL_INFO, "consumer", &limit, KC_LOG_INTERVAL_MS,
                             "%s-%d: the committed offset waits for an open transaction "
                             "(UNSTABLE_OFFSET_COMMIT); asking again",
                             p->cp_topic, p->cp_partition);
        } else {
            k->k_coordinator = -1;
        }
        retry_later(k);
        return;
    }
    if (off >= 0) {
        p->cp_position = off;
    } else {
        const char *reset = kc_config(k->k_client)->auto_offset_reset;
        if (strcmp(reset, "none") == 0) {
            part_kafka_error(k, p, 1, KERR_OFFSET_OUT_OF_RANGE,
                             "no committed offset and auto.offset.reset=none");
            return;
        }
        set_reset(p, strcmp(reset, "earliest") == 0 ? KC_OFFSET_BEGINNING : KC_OFFSET_END, 0);
    }
    schedule(k);
}

static void resolve_stored(kc_consumer_t *k, kc_cpart_t *p)
{
    if (!kc_config(k->k_client)->group_id) {
        /* No group: nothing is stored, so auto.offset.reset decides. */
        const char *reset = kc_config(k->k_client)->auto_offset_reset;
        set_reset(p, strcmp(reset, "earliest") == 0 ? KC_OFFSET_BEGINNING : KC_OFFSET_END, 0);
        return;
    }
    if (find_coordinator(k) < 0)
        return;
    of_req_t *o = calloc(1, sizeof *o);
    if (!o)
        return;
    o->or_consumer = k;
    o->or_part = p;
    p->cp_resolving = 1;
    if (kc_request(k->k_client, k->k_coordinator, API_OFFSET_FETCH, 1, encode_offset_fetch,
                   on_offset_fetch, o) == 0)
        k->k_requests++;
    else {
        p->cp_resolving = 0;
        k->k_coordinator = -1;
        free(o);
    }
}

/* ---- fetching ---- */

typedef struct fetch_req {
    kc_consumer_t *fr_consumer;
    int fr_n;
    kc_cpart_t **fr_parts;
} fetch_req_t;

static void encode_fetch(eddy_wr_t *wr, int16_t v, void *opaque)
{
    fetch_req_t *fr = opaque;
    const kc_config_t *cfg = kc_config(fr->fr_consumer->k_client);
    FetchRequestTopic *topics = calloc((size_t)fr->fr_n, sizeof *topics);
    FetchRequestPartition *parts = calloc((size_t)fr->fr_n, sizeof *parts);
    if (!topics || !parts) {
        wr->wr_err = -ENOMEM;
        free(topics);
        free(parts);
        return;
    }
    for (int i = 0; i < fr->fr_n; i++) {
        kc_cpart_t *p = fr->fr_parts[i];
        parts[i] = (FetchRequestPartition){p->cp_partition, -1, p->cp_position, -1,
                                           cfg->max_partition_fetch_bytes};
        topics[i] = (FetchRequestTopic){kstr_c(p->cp_topic), &parts[i], 1};
    }
    FetchRequest req;
    memset(&req, 0, sizeof req);
    req.ReplicaId = -1;
    req.MaxWaitMs = cfg->fetch_max_wait_ms;
    req.MinBytes = cfg->fetch_min_bytes;
    req.MaxBytes = cfg->fetch_max_bytes;
    /* read_committed: the broker answers up to the last stable offset, with
     * the aborted transactions deliver() drops. */
    req.IsolationLevel = (int8_t)(strcmp(cfg->isolation_level, "read_committed") == 0);
    req.SessionId = 0;
    req.SessionEpoch = -1;
    req.Topics = topics;
    req.TopicsCount = fr->fr_n;
    req.RackId = (kstr_t){"", 0};
    wire_fetch_req_encode(wr, v, &req);
    free(topics);
    free(parts);
}

/* A batch the consumer cannot read: the partition stops at it (see
 * kc_consumer_cbs_t.on_error). h may be only partly valid (a failed
 * validation): the offset after the batch is offered only when it lies past
 * the position. */
static void batch_error(kc_consumer_t *k, kc_cpart_t *p, const wire_batch_header_t *h, int err,
                        const char *detail)
{
    /* Not wire_batch_last_offset(): the fields of a corrupt header may overflow it. */
    int64_t last = h->baseOffset >= 0 && h->lastOffsetDelta >= 0 &&
                           h->baseOffset < INT64_MAX - h->lastOffsetDelta
                       ? h->baseOffset + h->lastOffsetDelta
                       : -1;
    int64_t next = last >= p->cp_position ? last + 1 : -1;
    char why[512];
    if (next > 0)
        snprintf(why, sizeof why, "the record batch at offsets %lld-%lld (%s) cannot be read: %s",
                 (long long)h->baseOffset, (long long)last,
                 wire_codec_name(h->attributes & BATCH_ATTR_CODEC_MASK), detail);
    else
        snprintf(why, sizeof why, "the record batch at offset %lld cannot be read: %s",
                 (long long)p->cp_position, detail);
    part_error(k, p, 1, 0, err, next, why);
}

/* Hands the records at or after the position to the application; returns
 * 1 when the application stopped taking them. A batch that cannot be read
 * stops its partition at the batch (batch_error), after the records before
 * it were delivered. */
static int deliver_filtered(kc_consumer_t *k, kc_cpart_t *p, const FetchResponsePartition *rp,
                            kc_abort_filter_t *af)
{
    const uint8_t *buf = (const uint8_t *)rp->Records.ptr;
    size_t len = rp->Records.len > 0 ? (size_t)rp->Records.len : 0;
    for (size_t pos = 0; pos + BATCH_HEADER_SIZE <= len && !p->cp_stopped;) {
        int64_t size = wire_batch_size(buf + pos);
        if (size < BATCH_HEADER_SIZE || (size_t)size > len - pos)
            break; /* a partial batch at the end of the response */
        wire_batch_header_t h;
        char why[256];
        int rc = (int)wire_batch_validate(buf + pos, (size_t)size, 0, 0, &h, why, sizeof why);
        if (rc < 0) {
            batch_error(k, p, &h, rc, why);
            return 0;
        }
        int skip = kc_abort_filter_skip(af, &h, buf + pos, (size_t)size);
        if (wire_batch_last_offset(&h) < p->cp_position) {
            pos += (size_t)size; /* wholly before the position */
            continue;
        }
        wire_record_iter_t it;
        wire_record_t rec;
        if (!skip) {
            rc = wire_record_iter_open(&it, buf + pos, (size_t)size, WIRE_INFLATE_LIMIT_DEFAULT,
                                       why, sizeof why);
            if (rc < 0) {
                batch_error(k, p, &h, rc, why);
                return 0;
            }
            int stop = -1; /* -1: go on with the next batch */
            int32_t seen = 0;
            while (stop < 0 && !p->cp_stopped && (rc = wire_record_next(&it, &rec)) == 1) {
                seen++;
                if (rec.offset < p->cp_position)
                    continue;
                kc_message_t m = {
                    p->cp_topic,
                    p->cp_partition,
                    rec.offset,
                    (h.attributes & BATCH_ATTR_LOG_APPEND_TIME) ? h.maxTimestamp : rec.timestamp,
                    rec.key,
                    rec.keyLength,
                    rec.value,
                    rec.valueLength,
                    rec.headers,
                    rec.headers_len,
                    rec.headerCount};
                if (k->k_cbs.on_message && k->k_cbs.on_message(k, &m, k->k_cbs.opaque) != 0) {
                    stop = 1;
                    break;
                }
                p->cp_position = rec.offset + 1;
                if (k->k_closing)
                    stop = 1;
                /* Paused by on_message: the rest waits for the resume, and
                 * is fetched again from the position then. */
                else if (p->cp_paused)
                    stop = 0;
            }
            wire_record_iter_close(&it);
            if (stop >= 0)
                return stop;
            if (p->cp_stopped) /* on_message seeked elsewhere, or an error */
                return 0;
            if (rc < 0 || seen != h.recordCount) {
                snprintf(why, sizeof why, "record %d of %d is malformed (%s)", (int)seen + 1,
                         (int)h.recordCount, rc < 0 ? eddy_strerror(rc) : "missing");
                batch_error(k, p, &h, rc < 0 ? rc : EDDY_ERR_BATCH_RECORD, why);
                return 0;
            }
        }
        /* Offsets the batch covers but holds no record for (compaction,
         * control records) are passed, and so are an aborted transaction's. */
        if (wire_batch_last_offset(&h) + 1 > p->cp_position)
            p->cp_position = wire_batch_last_offset(&h) + 1;
        pos += (size_t)size;
    }
    return 0;
}

/* With read_committed the batches of aborted transactions are dropped
 * (af, from the answer's aborted transactions); in both modes control
 * batches are passed, never handed to on_message. */
static int deliver(kc_consumer_t *k, kc_cpart_t *p, const FetchResponsePartition *rp)
{
    kc_abort_filter_t af;
    int rc = kc_abort_filter_init(&af, rp->AbortedTransactions,
                                  k->k_read_committed ? rp->AbortedTransactionsCount : 0);
    if (rc < 0)
        return 1; /* out of memory: fetched again from the position */
    rc = deliver_filtered(k, p, rp, &af);
    kc_abort_filter_free(&af);
    return rc;
}

static void on_fetch(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque)
{
    (void)c;
    fetch_req_t *fr = opaque;
    kc_consumer_t *k = fr->fr_consumer;
    k->k_requests--;
    if (k->k_closing) {
        free(fr->fr_parts);
        free(fr);
        consumer_free_if_done(k);
        return;
    }
    FetchResponse resp;
    memset(&resp, 0, sizeof resp);
    eddy_arena_t a;
    arena_init(&a, 0);
    if (err == 0 && wire_fetch_resp_decode(rd, v, &a, &resp) < 0)
        err = -EPROTO;
    for (int i = 0; i < fr->fr_n; i++)
        fr->fr_parts[i]->cp_fetching = 0;
    if (err < 0) {
        refresh_metadata(k);
        retry_later(k);
    }
    int stopped = 0;
    for (int32_t t = 0; err == 0 && !stopped && t < resp.ResponsesCount; t++) {
        const FetchResponseTopic *rt = &resp.Responses[t];
        for (int32_t j = 0; j < rt->PartitionsCount; j++) {
            const FetchResponsePartition *rp = &rt->Partitions[j];
            char topic[256];
            snprintf(topic, sizeof topic, "%.*s", rt->Topic.len > 0 ? rt->Topic.len : 0,
                     rt->Topic.ptr);
            kc_cpart_t *p = part_find(k, topic, rp->PartitionIndex);
            /* Only for the very partition state this fetch was sent for: a
             * partition unassigned and assigned again meanwhile has a new
             * position the old data must not move. */
            int sent_for = 0;
            for (int i = 0; p && i < fr->fr_n; i++)
                sent_for |= fr->fr_parts[i] == p;
            if (!sent_for || p->cp_position < 0)
                continue;
            if (rp->ErrorCode == KERR_OFFSET_OUT_OF_RANGE) {
                const char *reset = kc_config(k->k_client)->auto_offset_reset;
                if (strcmp(reset, "none") == 0) {
                    part_kafka_error(k, p, 1, rp->ErrorCode,
                                     "the position is outside the log and auto.offset.reset=none");
                } else {
                    set_reset(p,
                              strcmp(reset, "earliest") == 0 ? KC_OFFSET_BEGINNING : KC_OFFSET_END,
                              0);
                }
                continue;
            }
            if (rp->ErrorCode != KERR_NONE) {
                warn_storage_error(p, rp->ErrorCode, "fetch from");
                if (kc_error_retriable(rp->ErrorCode)) {
                    refresh_metadata(k);
                    retry_later(k);
                } else {
                    part_kafka_error(k, p, 0, rp->ErrorCode, "the broker refused the fetch");
                }
                continue;
            }
            /* read_committed: the end a reader can reach is the last stable
             * offset, so lag and idling (max.task.idle.ms) count against it,
             * as the Java consumer's under read_committed. */
            p->cp_high_watermark = k->k_read_committed && rp->LastStableOffset >= 0
                                       ? rp->LastStableOffset
                                       : rp->HighWatermark;
            /* Paused while this fetch was out (or by a callback for another
             * partition of this response): nothing of it is delivered; the
             * records are fetched again from the position on resume. */
            if (p->cp_paused)
                continue;
            if (deliver(k, p, rp) || k->k_closing) {
                stopped = 1; /* the rest of this response is fetched again */
                break;
            }
            if (p->cp_stopped || p->cp_position < 0)
                continue; /* stopped on a batch it cannot read, or sought by a callback */
            /* read_committed reads up to the last stable offset: the end
             * of what it can see, as the Java consumer's. */
            int64_t end = k->k_read_committed && rp->LastStableOffset >= 0 ? rp->LastStableOffset
                                                                           : rp->HighWatermark;
            if (p->cp_position >= end && !p->cp_at_eof) {
                p->cp_at_eof = 1;
                if (k->k_cbs.on_eof)
                    k->k_cbs.on_eof(k, p->cp_topic, p->cp_partition, p->cp_position,
                                    k->k_cbs.opaque);
            } else if (p->cp_position < end) {
                p->cp_at_eof = 0;
            }
        }
    }
    arena_free(&a);
    free(fr->fr_parts);
    free(fr);
    if (k->k_closing)
        consumer_free_if_done(k);
    else
        schedule(k);
}

/* Whether a fetch to node is out. A broker processes one request per
 * connection at a time, so a second fetch to it would wait behind the
 * first's long poll even with records to return; the partitions wait for
 * the next fetch instead, which the answer to the first sends at once (the
 * Java consumer keeps one fetch per broker too). */
static int node_fetching(const int32_t *busy, int nbusy, int32_t node)
{
    for (int i = 0; i < nbusy; i++)
        if (busy[i] == node)
            return 1;
    return 0;
}

/* Resolves positions and sends one fetch per leader that has none out. */
static void on_idle(uv_idle_t *h)
{
    kc_consumer_t *k = h->data;
    uv_idle_stop(h);
    if (k->k_closing)
        return;
    reap_removed(k);
    int missing_leader = 0;
    for (kc_cpart_t *p = k->k_parts; p; p = p->cp_next) {
        if (p->cp_position >= 0 || p->cp_resolving || p->cp_stopped || p->cp_removed)
            continue;
        int32_t leader = leader_of(k, p);
        if (p->cp_reset == KC_OFFSET_STORED && !p->cp_by_ts)
            resolve_stored(k, p);
        else if (leader >= 0)
            resolve_listing(k, p, leader);
        else
            missing_leader = 1;
    }
    /* The brokers with a fetch out (few: at most one per broker). */
    int32_t busy[64];
    int nbusy = 0;
    for (kc_cpart_t *p = k->k_parts; p; p = p->cp_next)
        if (p->cp_fetching && !node_fetching(busy, nbusy, p->cp_fetch_node) && nbusy < 64)
            busy[nbusy++] = p->cp_fetch_node;
    for (;;) {
        fetch_req_t *fr = NULL;
        int32_t node = -1;
        for (kc_cpart_t *p = k->k_parts; p; p = p->cp_next) {
            if (p->cp_position < 0 || p->cp_paused || p->cp_fetching || p->cp_stopped ||
                p->cp_removed)
                continue;
            int32_t leader = leader_of(k, p);
            if (leader < 0) {
                missing_leader = 1;
                continue;
            }
            if ((node >= 0 && leader != node) || node_fetching(busy, nbusy, leader))
                continue;
            if (!fr) {
                if (!(fr = calloc(1, sizeof *fr)))
                    return;
                fr->fr_consumer = k;
                node = leader;
            }
            kc_cpart_t **np = realloc(fr->fr_parts, (size_t)(fr->fr_n + 1) * sizeof *np);
            if (!np)
                break;
            fr->fr_parts = np;
            fr->fr_parts[fr->fr_n++] = p;
            p->cp_fetching = 1;
            p->cp_fetch_node = node;
        }
        if (!fr)
            break;
        if (kc_request(k->k_client, node, API_FETCH, 1, encode_fetch, on_fetch, fr) == 0) {
            k->k_requests++;
            if (nbusy < 64)
                busy[nbusy++] = node;
        } else {
            for (int i = 0; i < fr->fr_n; i++)
                fr->fr_parts[i]->cp_fetching = 0;
            free(fr->fr_parts);
            free(fr);
            missing_leader = 1;
            break;
        }
    }
    if (missing_leader) {
        refresh_metadata(k);
        retry_later(k);
    }
}

static void schedule(kc_consumer_t *k)
{
    if (!k->k_closing && !uv_is_active((uv_handle_t *)&k->k_idle))
        uv_idle_start(&k->k_idle, on_idle);
}

static void on_retry(uv_timer_t *t)
{
    schedule(t->data);
}

static void retry_later(kc_consumer_t *k)
{
    if (!k->k_closing && !uv_is_active((uv_handle_t *)&k->k_retry))
        uv_timer_start(&k->k_retry, on_retry, (uint64_t)kc_config(k->k_client)->retry_backoff_ms,
                       0);
}

/* ---- commit ---- */

typedef struct commit_req {
    kc_consumer_t *cr_consumer;
    kc_commit_fn *cr_done;
    void *cr_opaque;
    int cr_finished;
    int cr_err;
} commit_req_t;

static void encode_offset_commit(eddy_wr_t *wr, int16_t v, void *opaque)
{
    commit_req_t *cr = opaque;
    kc_consumer_t *k = cr->cr_consumer;
    int n = 0;
    for (kc_cpart_t *p = k->k_parts; p; p = p->cp_next)
        n += p->cp_position >= 0 && !p->cp_removed;
    OffsetCommitRequestTopic *topics = calloc((size_t)n + 1, sizeof *topics);
    OffsetCommitRequestPartition *parts = calloc((size_t)n + 1, sizeof *parts);
    if (!topics || !parts) {
        wr->wr_err = -ENOMEM;
        free(topics);
        free(parts);
        return;
    }
    int i = 0;
    for (kc_cpart_t *p = k->k_parts; p; p = p->cp_next) {
        if (p->cp_position < 0 || p->cp_removed)
            continue;
        parts[i] = (OffsetCommitRequestPartition){p->cp_partition, p->cp_position, -1, -1,
                                                  (kstr_t){"", 0}};
        topics[i] = (OffsetCommitRequestTopic){kstr_c(p->cp_topic), &parts[i], 1};
        i++;
    }
    OffsetCommitRequest req;
    memset(&req, 0, sizeof req);
    req.GroupId = kstr_c(kc_config(k->k_client)->group_id);
    req.GenerationId = k->k_generation;
    req.MemberId = kstr_c(k->k_member_id ? k->k_member_id : "");
    req.GroupInstanceId = v >= 7 ? kstr_c(k->k_instance_id) : KSTR_NULL;
    req.RetentionTimeMs = -1;
    req.Topics = topics;
    req.TopicsCount = n;
    wire_offset_commit_req_encode(wr, v, &req);
    free(topics);
    free(parts);
}

static void on_offset_commit(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque)
{
    (void)c;
    commit_req_t *cr = opaque;
    kc_consumer_t *k = cr->cr_consumer;
    k->k_requests--;
    if (k->k_closing) {
        cr->cr_finished = 1;
        if (cr->cr_done || cr->cr_opaque)
            free(cr);
        consumer_free_if_done(k);
        return;
    }
    OffsetCommitResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    if (err == 0 && wire_offset_commit_resp_decode(rd, v, &a, &resp) < 0)
        err = -EPROTO;
    for (int32_t t = 0; err == 0 && t < resp.TopicsCount; t++)
        for (int32_t j = 0; j < resp.Topics[t].PartitionsCount; j++)
            if (resp.Topics[t].Partitions[j].ErrorCode != KERR_NONE && err == 0)
                err = resp.Topics[t].Partitions[j].ErrorCode;
    arena_free(&a);
    if (err == KERR_NOT_COORDINATOR || err == KERR_COORDINATOR_NOT_AVAILABLE || err < 0)
        k->k_coordinator = -1;
    cr->cr_err = err;
    cr->cr_finished = 1;
    if (cr->cr_done)
        cr->cr_done(k, kc_err_eddy(err), kc_err_kafka(err), cr->cr_opaque);
    if (!cr->cr_done && cr->cr_opaque == NULL)
        return; /* a sync commit frees its own request */
    free(cr);
}

static int coordinator_known(void *opaque)
{
    kc_consumer_t *k = opaque;
    return k->k_coordinator >= 0;
}

static int commit_finished(void *opaque)
{
    return ((commit_req_t *)opaque)->cr_finished;
}

int kc_consumer_commit(kc_consumer_t *k, int sync, kc_commit_fn *done, void *opaque)
{
    const kc_config_t *cfg = kc_config(k->k_client);
    if (!cfg->group_id)
        return EDDY_ERR_INVALID_ARG;
    if (k->k_coordinator < 0) {
        find_coordinator(k);
        if (!sync)
            return -EAGAIN;
        if (kc_run_until(k->k_client, coordinator_known, k, cfg->request_timeout_ms) < 0)
            return -ETIMEDOUT;
    }
    commit_req_t *cr = calloc(1, sizeof *cr);
    if (!cr)
        return -ENOMEM;
    cr->cr_consumer = k;
    cr->cr_done = sync ? NULL : done;
    cr->cr_opaque = sync ? NULL : (opaque ? opaque : (void *)1);
    if (kc_request(k->k_client, k->k_coordinator, API_OFFSET_COMMIT, 1, encode_offset_commit,
                   on_offset_commit, cr) < 0) {
        free(cr);
        k->k_coordinator = -1;
        return -ENOENT;
    }
    k->k_requests++;
    if (!sync)
        return 0;
    int rc = kc_run_until(k->k_client, commit_finished, cr, cfg->request_timeout_ms + 1000);
    if (rc == 0)
        rc = cr->cr_err;
    if (cr->cr_finished)
        free(cr);
    return rc;
}

/* ---- assignment ---- */

kc_consumer_t *kc_consumer_new(kc_client_t *c, const kc_consumer_cbs_t *cbs)
{
    kc_consumer_t *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->k_client = c;
    k->k_cbs = *cbs;
    k->k_coordinator = -1;
    k->k_generation = -1;
    k->k_read_committed = strcmp(kc_config(c)->isolation_level, "read_committed") == 0;
    uv_idle_init(kc_loop(c), &k->k_idle);
    uv_timer_init(kc_loop(c), &k->k_retry);
    k->k_idle.data = k->k_retry.data = k;
    k->k_handles = 2;
    c->c_consumer = k;
    return k;
}

int kc_consumer_assign(kc_consumer_t *k, const char *topic, int32_t partition, int64_t offset)
{
    if (partition < 0)
        return EDDY_ERR_INVALID_ARG;
    kc_cpart_t *p = part_find(k, topic, partition);
    if (!p) {
        p = calloc(1, sizeof *p);
        if (!p || !(p->cp_topic = strdup(topic))) {
            free(p);
            return -ENOMEM;
        }
        p->cp_partition = partition;
        p->cp_high_watermark = -1;
        p->cp_next = k->k_parts;
        k->k_parts = p;
    }
    if (offset >= 0) {
        p->cp_position = offset;
        p->cp_at_eof = 0;
        p->cp_stopped = 0;
    } else {
        set_reset(p, offset, 0);
    }
    if (!kc_metadata_topic(k->k_client, topic))
        refresh_metadata(k);
    schedule(k);
    return 0;
}

int kc_consumer_seek(kc_consumer_t *k, const char *topic, int32_t partition, int64_t offset)
{
    if (!part_find(k, topic, partition))
        return -ENOENT;
    return kc_consumer_assign(k, topic, partition, offset);
}

int kc_consumer_seek_timestamp(kc_consumer_t *k, const char *topic, int32_t partition, int64_t ts)
{
    kc_cpart_t *p = part_find(k, topic, partition);
    if (!p)
        return -ENOENT;
    set_reset(p, ts, 1);
    schedule(k);
    return 0;
}

void kc_consumer_unassign_all(kc_consumer_t *k)
{
    /* A partition with a request out stays until the answer comes back
     * (and is then ignored); a later assign of it starts afresh. */
    for (kc_cpart_t *p = k->k_parts; p; p = p->cp_next)
        p->cp_removed = 1;
    reap_removed(k);
}

int kc_consumer_unassign(kc_consumer_t *k, const char *topic, int32_t partition)
{
    kc_cpart_t *p = part_find(k, topic, partition);
    if (!p)
        return -ENOENT;
    p->cp_removed = 1;
    reap_removed(k);
    return 0;
}

int64_t kc_consumer_high_watermark(const kc_consumer_t *k, const char *topic, int32_t partition)
{
    const kc_cpart_t *p = part_find(k, topic, partition);
    return p ? p->cp_high_watermark : -1;
}

int kc_consumer_pause(kc_consumer_t *k, const char *topic, int32_t partition, int paused)
{
    kc_cpart_t *p = part_find(k, topic, partition);
    if (!p)
        return -ENOENT;
    p->cp_paused = paused;
    if (!paused)
        schedule(k);
    return 0;
}

int64_t kc_consumer_position(const kc_consumer_t *k, const char *topic, int32_t partition)
{
    const kc_cpart_t *p = part_find(k, topic, partition);
    return p ? p->cp_position : -1;
}

int kc_consumer_group_metadata(const kc_consumer_t *k, kc_consumer_group_metadata_t *gm)
{
    const char *group = kc_config(k->k_client)->group_id;
    if (!group || !*group)
        return -EINVAL;
    gm->gm_group_id = group;
    gm->gm_generation_id = k->k_generation;
    gm->gm_member_id = k->k_member_id ? k->k_member_id : "";
    gm->gm_group_instance_id = k->k_instance_id;
    return 0;
}

int kc_consumer_set_group_identity(kc_consumer_t *k, int32_t generation_id, const char *member_id,
                                   const char *group_instance_id)
{
    char *mid = member_id ? strdup(member_id) : NULL;
    char *iid = group_instance_id ? strdup(group_instance_id) : NULL;
    if ((member_id && !mid) || (group_instance_id && !iid)) {
        free(mid);
        free(iid);
        return -ENOMEM;
    }
    free(k->k_member_id);
    free(k->k_instance_id);
    k->k_generation = generation_id;
    k->k_member_id = mid;
    k->k_instance_id = iid;
    return 0;
}

static void consumer_free_if_done(kc_consumer_t *k)
{
    if (k->k_handles > 0 || k->k_requests > 0)
        return;
    while (k->k_parts) {
        kc_cpart_t *p = k->k_parts;
        k->k_parts = p->cp_next;
        free(p->cp_topic);
        free(p);
    }
    free(k->k_member_id);
    free(k->k_instance_id);
    free(k);
}

static void on_consumer_handle_closed(uv_handle_t *h)
{
    kc_consumer_t *k = h->data;
    k->k_handles--;
    consumer_free_if_done(k);
}

void kc_consumer_destroy(kc_consumer_t *k)
{
    if (!k)
        return;
    k->k_closing = 1;
    if (k->k_client->c_consumer == k)
        k->k_client->c_consumer = NULL;
    uv_close((uv_handle_t *)&k->k_idle, on_consumer_handle_closed);
    uv_close((uv_handle_t *)&k->k_retry, on_consumer_handle_closed);
}

/* Request handlers: decode the body (wire/), act on topics and logs, encode
 * the response. Each fills the slot's response after the header the server
 * already wrote. Kafka error codes are chosen here, at the edge. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/broker_int.h"
#include "broker/txn_int.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "wire/api_txn_markers.h"
#include "wire/recordbatch.h"

/* Kafka's error for a failed log operation. */
static int16_t kerr_from(int rc)
{
    switch (rc) {
    case 0: return KERR_NONE;
    case EDDY_ERR_BATCH_LENGTH:
    case EDDY_ERR_BATCH_MAGIC:
    case EDDY_ERR_BATCH_CRC:
    case EDDY_ERR_BATCH_LAST_OFFSET_DELTA:
    case EDDY_ERR_BATCH_CODEC:
    case EDDY_ERR_BATCH_RECORD:
    case EDDY_ERR_CORRUPT_COMPRESSED:
    /* Kafka answers INVALID_RECORD from Produce v8 on; CORRUPT_MESSAGE is
     * the answer every version's clients know. */
    case EDDY_ERR_RECORD_WITHOUT_KEY: return KERR_CORRUPT_MESSAGE;
    case EDDY_ERR_CONTROL_BATCH: return KERR_INVALID_RECORD;
    case EDDY_ERR_INVALID_TIMESTAMP: return KERR_INVALID_TIMESTAMP;
    /* A batch whose records inflate past the bound is too large, not
     * corrupt: the Java producer splits a batch refused this way and sends
     * the halves, which is what a legitimate oversized batch needs. */
    case EDDY_ERR_INFLATED_TOO_LARGE:
    case EDDY_ERR_TOO_LARGE: return KERR_MESSAGE_TOO_LARGE;
    case EDDY_ERR_OFFSET_OUT_OF_RANGE: return KERR_OFFSET_OUT_OF_RANGE;
    case EDDY_ERR_LOG_OFFLINE: return KERR_KAFKA_STORAGE_ERROR;
    case EDDY_ERR_OUT_OF_ORDER_SEQUENCE: return KERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    case EDDY_ERR_INVALID_PRODUCER_EPOCH: return KERR_INVALID_PRODUCER_EPOCH;
    case EDDY_ERR_UNKNOWN_PRODUCER_ID: return KERR_UNKNOWN_PRODUCER_ID;
    case EDDY_ERR_INVALID_TXN_STATE: return KERR_INVALID_TXN_STATE;
    default:
        return rc < 0 && rc > EDDY_ERR_BASE ? KERR_KAFKA_STORAGE_ERROR : KERR_UNKNOWN_SERVER_ERROR;
    }
}

static partition_t *find_partition(eddy_broker_t *b, kstr_t topic, int32_t index)
{
    if (topic.len < 0)
        return NULL;
    return topics_partition(&b->bk_topics, topic.ptr, (size_t)topic.len, index);
}

/* ---- ApiVersions ---- */

int handle_api_versions(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    (void)b;
    ApiVersionsRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    int rc = wire_api_versions_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    /* Produce is advertised from v0 though only v3+ is served (a request
     * below v3 gets UNSUPPORTED_VERSION before any handler, as in Kafka
     * since KAFKA-18659): librdkafka up to 2.11 compresses with gzip, snappy
     * and lz4 only when the broker's Produce range reaches v0, and sends
     * them uncompressed otherwise. Every client picks the highest common
     * version, so none ever asks for v0-2. docs/protocol.md has the ranges. */
    size_t adv_size = (size_t)broker_api_versions_count * sizeof(api_version_range_t);
    api_version_range_t *adv = arena_alloc(&s->rs_out, adv_size);
    if (!adv)
        return -ENOMEM;
    memcpy(adv, broker_api_versions, adv_size);
    for (int i = 0; i < broker_api_versions_count; i++)
        if (adv[i].api_key == API_PRODUCE)
            adv[i].min = 0;
    ApiVersionsResponse resp = {KERR_NONE, adv, broker_api_versions_count, 0};
    wire_api_versions_resp_encode(&s->rs_resp, v, &resp);
    s->rs_state = SLOT_DONE;
    return 0;
}

static void metadata_answer_job(eddy_broker_t *b, create_job_t *j);

/* ---- topic creation in slices ----
 *
 * Opening a partition log costs a mkdir and a few files: 20,000 of them in
 * one handler would hold the loop (and every other client) for about a
 * second. A create therefore opens CREATE_STEP_PARTS partitions at a time
 * and gives the loop back after CREATE_PASS_NS; an idle handle resumes it
 * on the next pass, after other connections were served. The request's
 * slot waits meanwhile and is answered when every topic is complete. A
 * create that fits in the first pass is answered at once, as before. */

#define CREATE_STEP_PARTS 16
#define CREATE_PASS_NS 2000000 /* 2 ms of loop time per pass */

typedef struct create_item {
    topic_creation_t *ci_tc; /* NULL once finished */
    topic_deletion_t *ci_td; /* a delete in the same machinery (DeleteTopics) */
    int32_t ci_index;        /* the result's position in the response */
    int16_t ci_err;
    char ci_msg[256];
} create_item_t;

struct create_job {
    uv_idle_t cj_idle;
    eddy_broker_t *cj_broker;
    create_job_t *cj_next;
    req_slot_t *cj_slot; /* NULL once its connection is gone: the creates still finish */
    void (*cj_answer)(eddy_broker_t *b, create_job_t *j);
    void *cj_ctx; /* in the slot's arena */
    int64_t cj_deadline_ms; /* CreateTopics' timeout (monotonic); 0: none */
    int cj_n, cj_left;
    create_item_t cj_items[];
};

static create_job_t *create_job_new(int n)
{
    create_job_t *j = calloc(1, sizeof *j + (size_t)(n ? n : 1) * sizeof j->cj_items[0]);
    return j;
}

/* One pass: returns 1 when every create of the job is over. */
static int create_job_run(eddy_broker_t *b, create_job_t *j)
{
    uint64_t until = uv_hrtime() + CREATE_PASS_NS;
    int64_t now = eddy_wall_ms();
    do {
        for (int i = 0; i < j->cj_n; i++) {
            create_item_t *ci = &j->cj_items[i];
            if (ci->ci_td) {
                if (topics_delete_step(&b->bk_topics, ci->ci_td, CREATE_STEP_PARTS,
                                       broker_delete_dir_later, b)) {
                    ci->ci_td = NULL;
                    ci->ci_err = KERR_NONE;
                    j->cj_left--;
                }
                continue;
            }
            if (!ci->ci_tc)
                continue;
            int done;
            int err = topics_create_step(&b->bk_topics, ci->ci_tc, CREATE_STEP_PARTS, now, &done,
                                         ci->ci_msg, sizeof ci->ci_msg);
            if (done) {
                ci->ci_tc = NULL;
                ci->ci_err = (int16_t)err;
                j->cj_left--;
            }
        }
    } while (j->cj_left > 0 && uv_hrtime() < until);
    return j->cj_left == 0;
}

static void on_create_closed(uv_handle_t *h)
{
    create_job_t *j = h->data;
    eddy_broker_t *b = j->cj_broker;
    free(j);
    broker_work_done(b);
}

static void on_create_idle(uv_idle_t *h)
{
    create_job_t *j = h->data;
    eddy_broker_t *b = j->cj_broker;
    if (!create_job_run(b, j)) {
        req_slot_t *s = j->cj_slot;
        if (!s || !j->cj_deadline_ms || eddy_mono_ms() < j->cj_deadline_ms)
            return;
        /* Kafka's answer when the request's timeout passes first: the
         * topics not complete get REQUEST_TIMED_OUT, and their creates
         * go on (they become visible when complete). */
        for (int i = 0; i < j->cj_n; i++) {
            create_item_t *ci = &j->cj_items[i];
            if (!ci->ci_tc && !ci->ci_td)
                continue;
            ci->ci_err = KERR_REQUEST_TIMED_OUT;
            snprintf(ci->ci_msg, sizeof ci->ci_msg,
                     "the create did not complete within the request's timeout; it goes on, "
                     "and the topic appears in Metadata when complete");
        }
        j->cj_answer(b, j);
        j->cj_slot = NULL;
        s->rs_wait_create = 0;
        broker_slot_done(s);
        return;
    }
    uv_idle_stop(h);
    for (create_job_t **pp = &b->bk_creates; *pp; pp = &(*pp)->cj_next)
        if (*pp == j) {
            *pp = j->cj_next;
            break;
        }
    req_slot_t *s = j->cj_slot;
    if (s) {
        s->rs_wait_create = 0;
        j->cj_answer(b, j);
        broker_slot_done(s);
    }
    uv_close((uv_handle_t *)h, on_create_closed);
}

void broker_create_slot_gone(eddy_broker_t *b, req_slot_t *s)
{
    for (create_job_t *j = b->bk_creates; j; j = j->cj_next)
        if (j->cj_slot == s)
            j->cj_slot = NULL;
}

/* Runs a first pass; when that finishes the job, answers the slot now,
 * else parks it until the idle passes are done. */
static void create_job_start(eddy_broker_t *b, req_slot_t *s, create_job_t *j)
{
    j->cj_broker = b;
    j->cj_slot = s;
    j->cj_left = j->cj_n;
    if (create_job_run(b, j)) {
        j->cj_answer(b, j);
        s->rs_state = SLOT_DONE;
        free(j);
        return;
    }
    uv_idle_init(&b->bk_loop, &j->cj_idle);
    j->cj_idle.data = j;
    uv_idle_start(&j->cj_idle, on_create_idle);
    j->cj_next = b->bk_creates;
    b->bk_creates = j;
    b->bk_work_inflight++; /* a stop waits for the creates to finish */
    s->rs_state = SLOT_WAITING;
    s->rs_wait_create = 1;
}

/* The broker-wide partition limit (max.broker.partitions): 0 when
 * partitions more fit, else POLICY_VIOLATION with a message. */
static int16_t check_partition_limit(eddy_broker_t *b, int32_t partitions, char *msg,
                                     size_t msg_size)
{
    int64_t total = topics_partition_total(&b->bk_topics);
    if (total + partitions <= b->bk_cfg.max_broker_partitions)
        return KERR_NONE;
    snprintf(msg, msg_size,
             "%d more partition(s) would exceed max.broker.partitions=%d (this broker has %" PRId64
             "); delete topics or raise the setting",
             partitions, b->bk_cfg.max_broker_partitions, total);
    return KERR_POLICY_VIOLATION;
}

/* ---- Metadata ---- */

static int fill_topic(eddy_broker_t *b, eddy_arena_t *a, const topic_t *t,
                      MetadataResponseTopic *out)
{
    out->ErrorCode = KERR_NONE;
    out->Name = kstr_c(t->t_name);
    out->IsInternal = (int8_t)t->t_internal;
    out->PartitionsCount = t->t_npartitions;
    out->Partitions = arena_calloc(a, (size_t)t->t_npartitions, sizeof *out->Partitions);
    if (!out->Partitions)
        return -ENOMEM;
    int32_t *node = arena_alloc(a, sizeof *node);
    if (!node)
        return -ENOMEM;
    *node = b->bk_cfg.broker_id;
    for (int32_t p = 0; p < t->t_npartitions; p++) {
        MetadataResponsePartition *mp = &out->Partitions[p];
        mp->PartitionIndex = p;
        mp->LeaderId = b->bk_cfg.broker_id;
        mp->ReplicaNodes = mp->IsrNodes = node;
        mp->ReplicaNodesCount = mp->IsrNodesCount = 1;
        /* An offline log (a disk error, or records missing at start-up)
         * shows here, so that kcat -L and `eddy topic describe` name it
         * instead of listing a healthy partition that then fails every
         * produce and fetch (see docs/broker.md, "Offline partitions"). */
        const log_t *lg = t->t_parts[p]->p_log;
        if (lg && log_offline_error(lg)) {
            mp->ErrorCode = KERR_KAFKA_STORAGE_ERROR;
            mp->OfflineReplicas = node; /* v5+ */
            mp->OfflineReplicasCount = 1;
        }
    }
    return 0;
}

/* Auto-creation needs CREATE on the cluster or on the topic (Kafka). */
static int may_auto_create(eddy_broker_t *b, req_slot_t *s, kstr_t name)
{
    return broker_authorize_quiet(b, s, ACL_OP_CREATE, ACL_RES_CLUSTER, kstr_c(ACL_CLUSTER_NAME)) ||
           broker_authorize_quiet(b, s, ACL_OP_CREATE, ACL_RES_TOPIC, name);
}

/* Answers from the registry as it is; with auto-create, first starts the
 * creates of unknown topics and answers when they are done (synchronous for
 * the client: no LEADER_NOT_AVAILABLE retry loop). Returns 1 when it parked
 * the slot for creates, 0 when answered, or an error. */
static int metadata_answer(eddy_broker_t *b, req_slot_t *s, const MetadataRequest *req,
                           int may_create)
{
    int16_t v = s->rs_hdr.RequestApiVersion;
    eddy_arena_t *a = &s->rs_out; /* response arrays: not bounded by the request size */
    topic_registry_t *tr = &b->bk_topics;
    int all = req->TopicsCount < 0 || (v == 0 && req->TopicsCount == 0);
    int rc;
    if (may_create && !all && b->bk_cfg.auto_create_topics_enable && req->AllowAutoTopicCreation) {
        create_job_t *j = create_job_new(req->TopicsCount);
        if (!j)
            return -ENOMEM;
        for (int i = 0; i < req->TopicsCount; i++) {
            kstr_t name = req->Topics[i];
            char why[300];
            if (name.len < 0 || topics_find(tr, name.ptr, (size_t)name.len) ||
                topics_creating(tr, name.ptr, (size_t)name.len) ||
                !topic_name_valid(name.ptr, (size_t)name.len, why, sizeof why) ||
                !broker_authorize_quiet(b, s, ACL_OP_DESCRIBE, ACL_RES_TOPIC, name) ||
                !may_auto_create(b, s, name))
                continue;
            int16_t err = check_partition_limit(b, b->bk_cfg.num_partitions, why, sizeof why);
            topic_creation_t *tc = NULL;
            if (err == KERR_NONE)
                err = (int16_t)topics_create_begin(tr, name.ptr, (size_t)name.len,
                                                   b->bk_cfg.num_partitions, NULL, NULL, 0, why,
                                                   sizeof why, &tc);
            if (err != KERR_NONE) {
                static eddy_log_limit_t lim = EDDY_LOG_LIMIT_INIT;
                EDDY_LOG_LIMITED(EDDY_LOG_LVL_WARN, "broker", &lim, 10000,
                                 "auto-creating topic %.*s failed: %s", name.len, name.ptr, why);
                continue;
            }
            j->cj_items[j->cj_n++].ci_tc = tc;
        }
        if (j->cj_n > 0) {
            j->cj_ctx = (void *)req;
            j->cj_answer = metadata_answer_job;
            create_job_start(b, s, j);
            return s->rs_state == SLOT_WAITING;
        }
        free(j);
    }
    MetadataResponse resp;
    memset(&resp, 0, sizeof resp);
    const broker_listener_t *l = s->rs_conn->c_listener; /* each client its own address */
    MetadataResponseBroker self = {b->bk_cfg.broker_id, kstr_c(l->bl_adv_host), l->bl_adv_port,
                                   KSTR_NULL};
    resp.Brokers = &self;
    resp.BrokersCount = 1;
    resp.ClusterId = kstr_c(tr->tr_cluster_id);
    resp.ControllerId = b->bk_cfg.broker_id;

    int n = all ? tr->tr_count : req->TopicsCount;
    resp.Topics = resp_array(a, n, sizeof *resp.Topics);
    if (!resp.Topics)
        return -ENOMEM;
    for (int i = 0; i < n; i++) {
        if (all) {
            /* Kafka lists only the topics the principal may describe. */
            if (!broker_authorize_quiet(b, s, ACL_OP_DESCRIBE, ACL_RES_TOPIC,
                                        kstr_c(tr->tr_topics[i]->t_name)))
                continue;
            MetadataResponseTopic *mt = &resp.Topics[resp.TopicsCount++];
            if ((rc = fill_topic(b, a, tr->tr_topics[i], mt)) < 0)
                return rc;
            continue;
        }
        MetadataResponseTopic *mt = &resp.Topics[resp.TopicsCount++];
        kstr_t name = req->Topics[i];
        mt->Name = name;
        if (!broker_authorize(b, s, ACL_OP_DESCRIBE, ACL_RES_TOPIC, name)) {
            mt->ErrorCode = KERR_TOPIC_AUTHORIZATION_FAILED;
            continue;
        }
        topic_t *t = name.len >= 0 ? topics_find(tr, name.ptr, (size_t)name.len) : NULL;
        char why[300];
        if (!t && name.len >= 0 && b->bk_cfg.auto_create_topics_enable &&
            req->AllowAutoTopicCreation && !topics_creating(tr, name.ptr, (size_t)name.len) &&
            topic_name_valid(name.ptr, (size_t)name.len, why, sizeof why) &&
            !may_auto_create(b, s, name)) {
            /* Kafka's answer when auto-creation would apply but the
             * principal may not create the topic. */
            mt->ErrorCode = KERR_TOPIC_AUTHORIZATION_FAILED;
            continue;
        }
        if (t) {
            if ((rc = fill_topic(b, a, t, mt)) < 0)
                return rc;
        } else if (name.len >= 0 && topics_creating(tr, name.ptr, (size_t)name.len)) {
            /* Kafka's answer for a topic whose creation is not complete:
             * clients retry, and never see it with partitions missing. */
            mt->ErrorCode = KERR_LEADER_NOT_AVAILABLE;
        } else {
            mt->ErrorCode = name.len >= 0 &&
                                    topic_name_valid(name.ptr, (size_t)name.len, why, sizeof why)
                                ? KERR_UNKNOWN_TOPIC_OR_PARTITION
                                : KERR_INVALID_TOPIC_EXCEPTION;
        }
    }
    wire_metadata_resp_encode(&s->rs_resp, v, &resp);
    return 0;
}

static void metadata_answer_job(eddy_broker_t *b, create_job_t *j)
{
    req_slot_t *s = j->cj_slot;
    if (metadata_answer(b, s, j->cj_ctx, 0) < 0)
        s->rs_resp.wr_err = -ENOMEM; /* the connection closes: no half answer */
}

int handle_metadata(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    MetadataRequest *req = arena_alloc(&s->rs_arena, sizeof *req);
    if (!req)
        return -ENOMEM;
    int rc = wire_metadata_req_decode(rd, s->rs_hdr.RequestApiVersion, &s->rs_arena, req);
    if (rc < 0)
        return rc;
    rc = metadata_answer(b, s, req, 1);
    if (rc == 0)
        s->rs_state = SLOT_DONE;
    return rc < 0 ? rc : 0;
}

/* ---- Produce ---- */

/* The header of the batch at *pos of a Produce partition's records, and
 * *pos moved past the batch; 0 at the end or at a batch that does not
 * parse (log_append() names the fault). */
static int next_batch_header(const uint8_t *recs, size_t len, size_t *pos, wire_batch_header_t *h)
{
    if (*pos + BATCH_HEADER_SIZE > len)
        return 0;
    int64_t size = wire_batch_size(recs + *pos);
    if (wire_batch_header_read(recs + *pos, len - *pos, h) != 0 || size <= 0 ||
        (uint64_t)size > len - *pos)
        return 0;
    *pos += (size_t)size;
    return 1;
}

/* KIP-890 part 1 (transaction.partition.verification.enable): the first
 * transactional batch of a producer in a partition is appended only when
 * the coordinator's transaction of that producer is Ongoing and added the
 * partition (AddPartitionsToTxn). Else a batch that came late, after its
 * transaction ended, or was never announced would open a transaction no
 * marker ends and hold the last stable offset until the producer's next
 * one. Kafka verifies only a producer without an open transaction in the
 * partition, so later batches of the same transaction skip the lookup.
 * Returns KERR_NONE or the code Kafka answers a Produce below v12. */
static int16_t verify_txn_produce(eddy_broker_t *b, kstr_t txn_id, partition_t *p,
                                  const uint8_t *recs, size_t len)
{
    if (!b->bk_cfg.transaction_partition_verification_enable || txn_id.len <= 0)
        return KERR_NONE;
    wire_batch_header_t h;
    for (size_t pos = 0; next_batch_header(recs, len, &pos, &h);) {
        if (!(h.attributes & BATCH_ATTR_TRANSACTIONAL) || h.producerId < 0 ||
            log_txn_open(p->p_log, h.producerId, h.producerEpoch))
            continue;
        return txn_verify_partition(b->bk_txns, txn_id, h.producerId, h.producerEpoch,
                                    p->p_topic->t_name, p->p_index);
    }
    return KERR_NONE;
}

/* Whether any partition's records hold a transactional batch (Kafka's
 * ProduceRequest.hasTransactionalRecords). */
static int has_txn_batches(const ProduceRequest *req)
{
    for (int32_t i = 0; i < req->TopicDataCount; i++)
        for (int32_t j = 0; j < req->TopicData[i].PartitionDataCount; j++) {
            kstr_t r = req->TopicData[i].PartitionData[j].Records;
            size_t len = r.len > 0 ? (size_t)r.len : 0;
            wire_batch_header_t h;
            for (size_t pos = 0; next_batch_header((const uint8_t *)r.ptr, len, &pos, &h);)
                if (h.attributes & BATCH_ATTR_TRANSACTIONAL)
                    return 1;
        }
    return 0;
}

int handle_produce(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    ProduceRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    eddy_arena_t *a = &s->rs_out; /* response arrays: not bounded by the request size */
    int rc = wire_produce_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    int acks_ok = req.Acks == 0 || req.Acks == 1 || req.Acks == -1;
    int64_t now = eddy_wall_ms();
    int appended = 0;
    ProduceResponse resp = {NULL, req.TopicDataCount, 0};
    resp.Responses = resp_array(a, req.TopicDataCount, sizeof *resp.Responses);
    if (!resp.Responses)
        return -ENOMEM;
    /* Kafka: a request holding a transactional batch needs a transactional
     * id and WRITE on it, else every partition is refused with that error
     * (a transactional batch without an id would open a transaction that
     * no coordinator ends). */
    int txn_denied = has_txn_batches(&req) &&
                     (req.TransactionalId.len < 0 ||
                      !broker_authorize(b, s, ACL_OP_WRITE, ACL_RES_TRANSACTIONAL_ID,
                                        req.TransactionalId));
    for (int32_t i = 0; i < req.TopicDataCount; i++) {
        ProduceRequestTopic *rt = &req.TopicData[i];
        ProduceResponseTopic *ot = &resp.Responses[i];
        ot->Name = rt->Name;
        if (!RESP_ARRAY(a, ot->PartitionResponses, ot->PartitionResponsesCount,
                        rt->PartitionDataCount))
            return -ENOMEM;
        /* Checked before the topic's existence, as Kafka: a principal
         * that may not write learns nothing about which topics exist. */
        int16_t denied = txn_denied ? KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED
                         : !broker_authorize(b, s, ACL_OP_WRITE, ACL_RES_TOPIC, rt->Name)
                             ? KERR_TOPIC_AUTHORIZATION_FAILED
                             : KERR_NONE;
        for (int32_t j = 0; j < rt->PartitionDataCount; j++) {
            ProduceRequestPartition *rp = &rt->PartitionData[j];
            ProduceResponsePartition *op = &ot->PartitionResponses[j];
            op->Index = rp->Index;
            op->BaseOffset = -1;
            op->LogAppendTimeMs = -1;
            op->LogStartOffset = -1;
            if (denied) {
                op->ErrorCode = denied;
                continue;
            }
            partition_t *p = find_partition(b, rt->Name, rp->Index);
            char err[256] = "";
            if (!acks_ok) {
                op->ErrorCode = KERR_INVALID_REQUIRED_ACKS;
                continue;
            }
            if (!p) {
                op->ErrorCode = KERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            if (rp->Records.len <= 0) {
                op->ErrorCode = KERR_CORRUPT_MESSAGE;
                continue;
            }
            /* The records are bytes of this request's own frame: the log
             * rewrites their base offsets in place and writes them as is. */
            uint8_t *recs = (uint8_t *)rp->Records.ptr;
            log_append_info_t info;
            int16_t verr = verify_txn_produce(b, req.TransactionalId, p, recs,
                                              (size_t)rp->Records.len);
            if (verr != KERR_NONE) {
                static eddy_log_limit_t unverified_limit = EDDY_LOG_LIMIT_INIT;
                op->ErrorCode = verr;
                kstr_t tid = req.TransactionalId;
                EDDY_LOG_LIMITED(EDDY_LOG_LVL_INFO, "broker", &unverified_limit, 10000,
                                 "produce to %s-%d from %s (transactional.id '%.*s') refused (%s): "
                                 "the producer's transaction did not add this partition "
                                 "(AddPartitionsToTxn) or is not ongoing",
                                 p->p_topic->t_name, p->p_index, s->rs_conn->c_peer,
                                 (int)(tid.len < 64 ? tid.len : 64), tid.ptr, kafka_err_name(verr));
                continue;
            }
            rc = log_append(p->p_log, recs, (size_t)rp->Records.len,
                            WIRE_BATCH_FROM_CLIENT | WIRE_BATCH_CHECK_RECORDS, now, &info, err,
                            sizeof err);
            op->ErrorCode = kerr_from(rc);
            if (rc < 0) {
                /* A full disk or an offline log refuses every produce: one
                 * line per interval with the count, not one per request. */
                /* One limiter per kind of refusal, so a flood of one kind
                 * (corrupt batches from a broken client) does not hide the
                 * first line of another (a batch over the inflation bound). */
                static eddy_log_limit_t refused_limit[3] = {EDDY_LOG_LIMIT_INIT,
                                                            EDDY_LOG_LIMIT_INIT,
                                                            EDDY_LOG_LIMIT_INIT};
                int kind = op->ErrorCode == KERR_CORRUPT_MESSAGE     ? 0
                           : op->ErrorCode == KERR_MESSAGE_TOO_LARGE ? 1
                                                                     : 2;
                kstr_t cid = s->rs_hdr.ClientId;
                EDDY_LOG_LIMITED(EDDY_LOG_LVL_INFO, "broker", &refused_limit[kind], 10000,
                                 "produce to %s-%d from %s (client.id '%.*s') refused (%s): %s%s",
                                 p->p_topic->t_name, p->p_index, s->rs_conn->c_peer,
                                 cid.len > 0 ? (int)(cid.len < 64 ? cid.len : 64) : 0,
                                 cid.len > 0 ? cid.ptr : "", kafka_err_name(op->ErrorCode),
                                 rc == EDDY_ERR_LOG_OFFLINE ? "the log is offline" : err,
                                 rc == EDDY_ERR_INFLATED_TOO_LARGE
                                     ? " (the bound is message.max.inflated.bytes, by default 64 "
                                       "x max.message.bytes and at least 64 MiB)"
                                     : "");
                continue;
            }
            op->BaseOffset = info.ai_first_offset;
            if (info.ai_duplicate) {
                /* A retry of a batch already in the log: its first
                 * offsets, nothing appended (Kafka's answer too). */
                op->LogStartOffset = log_start_offset(p->p_log);
                op->LogAppendTimeMs = info.ai_log_append_time;
                continue;
            }
            op->LogAppendTimeMs = info.ai_log_append_time;
            op->LogStartOffset = log_start_offset(p->p_log);
            appended = 1;
            if (info.ai_flush_due)
                broker_flush_partition(b, p);
        }
    }
    if (appended)
        broker_data_arrived(b);
    if (req.Acks == 0) {
        s->rs_state = SLOT_SILENT;
        return 0;
    }
    wire_produce_resp_encode(&s->rs_resp, v, &resp);
    s->rs_state = SLOT_DONE;
    return 0;
}

/* ---- InitProducerId ---- */

/* Without a transactional id each request gets a new id with epoch 0.
 * Kafka's coordinator does the same for a null transactional id, also when
 * the request carries the producer's current id and epoch (KIP-360: the
 * producer then starts over under the new id). With one, the transaction
 * coordinator answers (txn_coordinator.c). */
/* Kafka's rule for an idempotent producer's id (KIP-679): IDEMPOTENT_WRITE
 * on the cluster, or WRITE on any topic. */
static int idempotent_write_allowed(eddy_broker_t *b, req_slot_t *s)
{
    if (!b->bk_acl)
        return 1;
    if (broker_authorize_quiet(b, s, ACL_OP_IDEMPOTENT_WRITE, ACL_RES_CLUSTER,
                               kstr_c(ACL_CLUSTER_NAME)))
        return 1;
    conn_t *c = s->rs_conn;
    if (acl_authorize_any(b->bk_acl, c->c_principal, c->c_ip, ACL_OP_WRITE, ACL_RES_TOPIC))
        return 1;
    /* Logged as the cluster check Kafka reports. */
    return broker_authorize_cluster(b, s, ACL_OP_IDEMPOTENT_WRITE);
}

int handle_init_producer_id(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    InitProducerIdRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    int rc = wire_init_producer_id_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    InitProducerIdResponse resp = {0, KERR_NONE, -1, -1};
    if (req.TransactionalId.len >= 0 &&
        !broker_authorize(b, s, ACL_OP_WRITE, ACL_RES_TRANSACTIONAL_ID, req.TransactionalId)) {
        resp.ErrorCode = KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    } else if (req.TransactionalId.len < 0 && !idempotent_write_allowed(b, s)) {
        resp.ErrorCode = KERR_CLUSTER_AUTHORIZATION_FAILED;
    } else if (req.TransactionalId.len >= 0) {
        txn_init_producer_id(b->bk_txns, req.TransactionalId, req.TransactionTimeoutMs,
                             req.ProducerId, req.ProducerEpoch,
                             txn_fenced_code(API_INIT_PRODUCER_ID, v), &resp.ErrorCode,
                             &resp.ProducerId, &resp.ProducerEpoch);
    } else if (broker_pids_next(&b->bk_pids, &resp.ProducerId) < 0) {
        /* Retriable for every client: the reservation is tried again. */
        resp.ErrorCode = KERR_COORDINATOR_LOAD_IN_PROGRESS;
        resp.ProducerId = -1;
    } else {
        resp.ProducerEpoch = 0;
    }
    wire_init_producer_id_resp_encode(&s->rs_resp, v, &resp);
    s->rs_state = SLOT_DONE;
    return 0;
}

/* ---- Fetch ---- */

int handle_fetch(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    int rc = wire_fetch_req_decode(rd, s->rs_hdr.RequestApiVersion, &s->rs_arena, &s->rs_fetch);
    if (rc < 0)
        return rc;
    s->rs_resp_hdr_len = s->rs_resp.wr_len;
    const FetchRequest *r = &s->rs_fetch;
    for (int32_t i = 0; i < r->TopicsCount && b->bk_acl; i++) {
        if (broker_authorize(b, s, ACL_OP_READ, ACL_RES_TOPIC, r->Topics[i].Topic))
            continue;
        if (!s->rs_denied &&
            !(s->rs_denied = arena_calloc(&s->rs_arena, (size_t)r->TopicsCount, 1)))
            return -ENOMEM;
        s->rs_denied[i] = 1;
    }
    int32_t wait = s->rs_fetch.MaxWaitMs;
    s->rs_deadline_ms = eddy_mono_ms() + (wait > 0 ? wait : 0);
    if (!fetch_try_answer(b, s, wait <= 0))
        broker_wait_fetch(b, s);
    return 0;
}

/* Bytes a fetch would return now, and whether any partition has an error
 * (errors are answered at once, as Kafka does). */
static int64_t fetch_available(eddy_broker_t *b, const FetchRequest *r, const uint8_t *denied,
                               int *errors)
{
    int64_t total = 0;
    *errors = 0;
    for (int32_t i = 0; i < r->TopicsCount; i++) {
        const FetchRequestTopic *t = &r->Topics[i];
        if (denied && denied[i]) {
            (*errors)++;
            continue;
        }
        for (int32_t j = 0; j < t->PartitionsCount; j++) {
            const FetchRequestPartition *fp = &t->Partitions[j];
            partition_t *p = find_partition(b, t->Topic, fp->Partition);
            if (!p) {
                (*errors)++;
                continue;
            }
            int64_t end = log_end_offset(p->p_log);
            if (log_offline_error(p->p_log) || fp->FetchOffset < log_start_offset(p->p_log) ||
                fp->FetchOffset > end) {
                (*errors)++;
                continue;
            }
            /* read_committed sees only what is below the LSO: a long poll
             * waits until a marker moves it (broker_data_arrived). */
            int64_t upto = r->IsolationLevel == 1 ? log_last_stable_offset(p->p_log) : end;
            if (fp->FetchOffset >= upto)
                continue;
            if (r->MinBytes <= 1) {
                total++; /* anything will do: no need to measure it */
                continue;
            }
            log_slice_t sl;
            int rc = log_read_upto(p->p_log, fp->FetchOffset,
                                   (size_t)(fp->PartitionMaxBytes > 0 ? fp->PartitionMaxBytes : 1),
                                   upto, &sl);
            if (rc < 0) {
                (*errors)++;
                continue;
            }
            total += (int64_t)sl.sl_len;
            log_slice_release(p->p_log, &sl);
        }
    }
    return total;
}

int fetch_try_answer(eddy_broker_t *b, req_slot_t *s, int force)
{
    const FetchRequest *r = &s->rs_fetch;
    int16_t v = s->rs_hdr.RequestApiVersion;
    int errors;
    if (!force) {
        int64_t avail = fetch_available(b, r, s->rs_denied, &errors);
        if (!errors && (avail == 0 || avail < r->MinBytes))
            return 0;
    }
    eddy_wr_t *wr = &s->rs_resp;
    broker_resp_drop_slices(s);
    wr->wr_len = s->rs_resp_hdr_len;
    wire_fetch_resp_begin(wr, v, 0, KERR_NONE, 0, r->TopicsCount);
    /* The broker's fetch.max.bytes caps what one response carries. The
     * records themselves are not copied here: each partition's batches are
     * a file slice spliced into the response and read a chunk at a time as
     * the connection writes it, so memory holds the response's own bytes
     * and one chunk, whatever the size of the response. */
    int64_t budget = r->MaxBytes > 0 ? r->MaxBytes : INT32_MAX;
    if (budget > b->bk_cfg.fetch_max_bytes)
        budget = b->bk_cfg.fetch_max_bytes;
    int64_t sent = 0;
    for (int32_t i = 0; i < r->TopicsCount; i++) {
        const FetchRequestTopic *t = &r->Topics[i];
        wire_fetch_resp_topic(wr, v, t->Topic, t->PartitionsCount);
        for (int32_t j = 0; j < t->PartitionsCount; j++) {
            const FetchRequestPartition *fp = &t->Partitions[j];
            if (s->rs_denied && s->rs_denied[i]) {
                wire_fetch_resp_partition(wr, v, fp->Partition, KERR_TOPIC_AUTHORIZATION_FAILED, -1,
                                          -1, -1);
                wr_i32(wr, 0);
                continue;
            }
            partition_t *p = find_partition(b, t->Topic, fp->Partition);
            if (!p) {
                wire_fetch_resp_partition(wr, v, fp->Partition, KERR_UNKNOWN_TOPIC_OR_PARTITION, -1,
                                          -1, -1);
                wr_i32(wr, 0);
                continue;
            }
            log_t *log = p->p_log;
            int64_t hw = log_end_offset(log), start = log_start_offset(log);
            /* Kafka answers the LSO in both isolation levels;
             * read_committed reads only below it. */
            int64_t lso = log_last_stable_offset(log);
            int committed = r->IsolationLevel == 1;
            log_slice_t sl;
            memset(&sl, 0, sizeof sl);
            int rc = 0;
            int64_t limit = fp->PartitionMaxBytes < budget - sent ? fp->PartitionMaxBytes
                                                                  : budget - sent;
            /* The first batch of the response goes out even if larger than
             * the limits (KIP-74); later partitions only when they fit. */
            if (limit > 0 || sent == 0)
                rc = log_read_upto(log, fp->FetchOffset, (size_t)(limit > 0 ? limit : 1),
                                   committed ? lso : INT64_MAX, &sl);
            if (rc == 0 && sl.sl_len > 0 && sent > 0 && (int64_t)sl.sl_len > limit) {
                log_slice_release(log, &sl);
                sl.sl_len = 0;
            }
            int16_t err = kerr_from(rc);
            if (rc == 0 && sl.sl_len > 0) {
                /* The batches go out as the bytes on disk, never re-encoded.
                 * A file cut under the broker is found here, while the
                 * partition can still answer KAFKA_STORAGE_ERROR; a read
                 * that fails later, once the response is on its way, closes
                 * the connection (server.c). */
                int crc = log_slice_check(log, &sl);
                if (crc < 0) {
                    /* The log went offline and logged it once. */
                    log_slice_release(log, &sl);
                    wire_fetch_resp_partition(wr, v, fp->Partition, kerr_from(crc), hw, lso, start);
                    wr_i32(wr, 0);
                    continue;
                }
                /* Kafka's collectAbortedTransactions over the fetched range:
                 * the consumer drops those producers' records up to each
                 * abort marker. */
                log_aborted_txn_t *at = NULL;
                size_t nat = 0;
                if (committed &&
                    log_aborted_txns(log, fp->FetchOffset, sl.sl_next_offset, &at, &nat) < 0)
                    wr->wr_err = -ENOMEM;
                int64_t *pairs = nat ? malloc(nat * 2 * sizeof *pairs) : NULL;
                if (nat && !pairs) {
                    wr->wr_err = -ENOMEM;
                    nat = 0;
                }
                for (size_t k = 0; k < nat; k++) {
                    pairs[2 * k] = at[k].at_pid;
                    pairs[2 * k + 1] = at[k].at_first;
                }
                free(at);
                wire_fetch_resp_partition_aborted(wr, v, fp->Partition, KERR_NONE, hw, lso, start,
                                                  pairs, (int32_t)nat);
                free(pairs);
                wr_i32(wr, (int32_t)sl.sl_len);
                if (wr->wr_err || broker_resp_add_slice(s, p, &sl) < 0) {
                    /* Out of memory: the connection closes when the response
                     * would be sent. */
                    wr->wr_err = -ENOMEM;
                    log_slice_release(log, &sl);
                    continue;
                }
                sent += (int64_t)sl.sl_len;
            } else {
                wire_fetch_resp_partition(wr, v, fp->Partition, err, hw, lso, start);
                wr_i32(wr, 0);
                if (rc == 0)
                    log_slice_release(log, &sl);
            }
        }
    }
    s->rs_state = SLOT_DONE;
    return 1;
}

/* ---- ListOffsets ---- */

int handle_list_offsets(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    ListOffsetsRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    eddy_arena_t *a = &s->rs_out; /* response arrays: not bounded by the request size */
    int rc = wire_list_offsets_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    ListOffsetsResponse resp = {0, NULL, req.TopicsCount};
    resp.Topics = resp_array(a, req.TopicsCount, sizeof *resp.Topics);
    if (!resp.Topics)
        return -ENOMEM;
    for (int32_t i = 0; i < req.TopicsCount; i++) {
        ListOffsetsRequestTopic *rt = &req.Topics[i];
        ListOffsetsResponseTopic *ot = &resp.Topics[i];
        ot->Name = rt->Name;
        if (!RESP_ARRAY(a, ot->Partitions, ot->PartitionsCount, rt->PartitionsCount))
            return -ENOMEM;
        int denied = !broker_authorize(b, s, ACL_OP_DESCRIBE, ACL_RES_TOPIC, rt->Name);
        for (int32_t j = 0; j < rt->PartitionsCount; j++) {
            ListOffsetsRequestPartition *rp = &rt->Partitions[j];
            ListOffsetsResponsePartition *op = &ot->Partitions[j];
            op->PartitionIndex = rp->PartitionIndex;
            op->Timestamp = -1;
            op->Offset = -1;
            op->LeaderEpoch = -1;
            if (denied) {
                op->ErrorCode = KERR_TOPIC_AUTHORIZATION_FAILED;
                continue;
            }
            partition_t *p = find_partition(b, rt->Name, rp->PartitionIndex);
            if (!p) {
                op->ErrorCode = KERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            if (log_offline_error(p->p_log)) {
                op->ErrorCode = KERR_KAFKA_STORAGE_ERROR;
                continue;
            }
            /* -4, the local log start (v8+): every segment is local here,
             * so it is the log start, as Kafka answers without tiered
             * storage. */
            if (rp->Timestamp == -2 || (rp->Timestamp == -4 && v >= 8)) {
                op->Offset = log_start_offset(p->p_log);
            } else if (rp->Timestamp == -1) {
                /* read_committed (v2+): the latest offset it can read. */
                op->Offset = v >= 2 && req.IsolationLevel == 1 ? log_last_stable_offset(p->p_log)
                                                               : log_end_offset(p->p_log);
            } else if (rp->Timestamp == -3 && v >= 7) {
                rc = log_offset_of_max_timestamp(p->p_log, &op->Offset, &op->Timestamp);
                op->ErrorCode = kerr_from(rc);
            } else {
                rc = log_offset_for_timestamp(p->p_log, rp->Timestamp, &op->Offset, &op->Timestamp);
                op->ErrorCode = kerr_from(rc);
            }
        }
    }
    wire_list_offsets_resp_encode(&s->rs_resp, v, &resp);
    s->rs_state = SLOT_DONE;
    return 0;
}

/* ---- CreateTopics ---- */

/* The results of the creates go in; the rest were set when the request came. */
static void create_topics_answer(eddy_broker_t *b, create_job_t *j)
{
    (void)b;
    req_slot_t *s = j->cj_slot;
    CreateTopicsResponse *resp = j->cj_ctx;
    if (!resp)
        return;
    for (int i = 0; i < j->cj_n; i++) {
        create_item_t *ci = &j->cj_items[i];
        CreatableTopicResult *res = &resp->Topics[ci->ci_index];
        res->ErrorCode = ci->ci_err;
        if (ci->ci_err != KERR_NONE)
            res->ErrorMessage = kstr_arena(&s->rs_out, ci->ci_msg);
    }
    wire_create_topics_resp_encode(&s->rs_resp, s->rs_hdr.RequestApiVersion, resp);
}

int handle_create_topics(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    CreateTopicsRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    eddy_arena_t *a = &s->rs_out; /* response arrays: not bounded by the request size */
    int rc = wire_create_topics_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    CreateTopicsResponse resp = {0, NULL, req.TopicsCount};
    resp.Topics = resp_array(a, req.TopicsCount, sizeof *resp.Topics);
    /* Kafka: CREATE on the cluster allows every topic, else CREATE on each. */
    int cluster_create = broker_authorize_quiet(b, s, ACL_OP_CREATE, ACL_RES_CLUSTER,
                                                kstr_c(ACL_CLUSTER_NAME));
    create_job_t *j = create_job_new(req.TopicsCount);
    if (!resp.Topics || !j) {
        free(j);
        return -ENOMEM;
    }
    for (int32_t i = 0; i < req.TopicsCount; i++) {
        CreatableTopic *ct = &req.Topics[i];
        CreatableTopicResult *res = &resp.Topics[i];
        res->Name = ct->Name;
        res->ErrorMessage = KSTR_NULL;
        char msg[512] = "";
        int16_t err = KERR_NONE;
        int32_t partitions = ct->NumPartitions == -1 ? b->bk_cfg.num_partitions : ct->NumPartitions;
        for (int32_t k = 0; k < req.TopicsCount; k++)
            if (k != i && req.Topics[k].Name.len == ct->Name.len && ct->Name.len >= 0 &&
                memcmp(req.Topics[k].Name.ptr, ct->Name.ptr, (size_t)ct->Name.len) == 0) {
                err = KERR_INVALID_REQUEST;
                snprintf(msg, sizeof msg, "topic '%.*s' appears more than once in the request",
                         ct->Name.len, ct->Name.ptr);
            }
        if (err == KERR_NONE && ct->Name.len < 0) {
            err = KERR_INVALID_TOPIC_EXCEPTION;
            snprintf(msg, sizeof msg, "topic name is null");
        }
        if (err == KERR_NONE && !cluster_create &&
            !broker_authorize(b, s, ACL_OP_CREATE, ACL_RES_TOPIC, ct->Name)) {
            err = KERR_TOPIC_AUTHORIZATION_FAILED;
            snprintf(msg, sizeof msg, "not authorized to create topic '%.*s'", ct->Name.len,
                     ct->Name.ptr);
        }
        if (err == KERR_NONE && ct->AssignmentsCount > 0) {
            partitions = ct->AssignmentsCount;
            for (int32_t k = 0; k < ct->AssignmentsCount && err == KERR_NONE; k++) {
                CreatableReplicaAssignment *as = &ct->Assignments[k];
                if (as->BrokerIdsCount != 1 || as->BrokerIds[0] != b->bk_cfg.broker_id) {
                    err = KERR_INVALID_REPLICA_ASSIGNMENT;
                    snprintf(msg, sizeof msg, "partition %d: the only broker is %d",
                             as->PartitionIndex, b->bk_cfg.broker_id);
                }
            }
        }
        if (err == KERR_NONE && ct->ReplicationFactor != -1 && ct->ReplicationFactor != 1) {
            err = KERR_INVALID_REPLICATION_FACTOR;
            snprintf(msg, sizeof msg,
                     "replication factor %d: this cluster has 1 broker, so it must be 1",
                     ct->ReplicationFactor);
        }
        const char **keys = arena_calloc(a, (size_t)ct->ConfigsCount + 1, sizeof *keys);
        const char **vals = arena_calloc(a, (size_t)ct->ConfigsCount + 1, sizeof *vals);
        /* Out of memory here answers this topic with an error: creates
         * already begun for earlier topics of the request must still run. */
        if (err == KERR_NONE && (!keys || !vals)) {
            err = KERR_UNKNOWN_SERVER_ERROR;
            snprintf(msg, sizeof msg, "out of memory");
        }
        for (int32_t k = 0; k < ct->ConfigsCount && err == KERR_NONE; k++) {
            CreatableTopicConfig *cc = &ct->Configs[k];
            keys[k] = cc->Name.len >= 0 ? arena_strndup(a, cc->Name.ptr, (size_t)cc->Name.len) : "";
            vals[k] = cc->Value.len >= 0 ? arena_strndup(a, cc->Value.ptr, (size_t)cc->Value.len)
                                         : NULL;
            if (!keys[k]) {
                err = KERR_UNKNOWN_SERVER_ERROR;
                snprintf(msg, sizeof msg, "out of memory");
            }
        }
        if (err == KERR_NONE)
            err = (int16_t)topics_validate(&b->bk_topics, ct->Name.ptr, (size_t)ct->Name.len,
                                           partitions, keys, vals, ct->ConfigsCount, msg,
                                           sizeof msg);
        if (err == KERR_NONE)
            err = check_partition_limit(b, partitions, msg, sizeof msg);
        if (err == KERR_NONE && !req.ValidateOnly) {
            topic_creation_t *tc;
            err = (int16_t)topics_create_begin(&b->bk_topics, ct->Name.ptr, (size_t)ct->Name.len,
                                               partitions, keys, vals, ct->ConfigsCount, msg,
                                               sizeof msg, &tc);
            if (err == KERR_NONE) {
                create_item_t *ci = &j->cj_items[j->cj_n++];
                ci->ci_tc = tc;
                ci->ci_index = i;
            }
        }
        res->ErrorCode = err;
        if (err != KERR_NONE)
            res->ErrorMessage = kstr_arena(a, msg);
    }
    /* The response lives in the slot's arena until the creates finish;
     * without it the creates still finish and the connection closes. */
    CreateTopicsResponse *out = arena_alloc(a, sizeof *out);
    if (out)
        *out = resp;
    else
        s->rs_resp.wr_err = -ENOMEM;
    /* A timeout of 0 or less: answered when complete (Eddy's choice; the
     * point of waiting is a topic that is whole when the answer comes). */
    if (req.TimeoutMs > 0)
        j->cj_deadline_ms = eddy_mono_ms() + req.TimeoutMs;
    j->cj_ctx = out;
    j->cj_answer = create_topics_answer;
    create_job_start(b, s, j);
    return 0;
}

/* ---- DeleteTopics ----
 *
 * In slices, as creates: closing 20,000 partition logs and moving their
 * directories aside held the loop for about half a second. The topic
 * leaves Metadata at once; the answer comes when every directory is moved
 * aside (their removal goes on, on workers). */

static void delete_topics_answer(eddy_broker_t *b, create_job_t *j)
{
    (void)b;
    req_slot_t *s = j->cj_slot;
    DeleteTopicsResponse *resp = j->cj_ctx;
    if (!resp)
        return;
    for (int i = 0; i < j->cj_n; i++)
        resp->Responses[j->cj_items[i].ci_index].ErrorCode = j->cj_items[i].ci_err;
    wire_delete_topics_resp_encode(&s->rs_resp, s->rs_hdr.RequestApiVersion, resp);
}

int handle_delete_topics(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    DeleteTopicsRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    eddy_arena_t *a = &s->rs_out; /* response arrays: not bounded by the request size */
    int rc = wire_delete_topics_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    DeleteTopicsResponse *resp = arena_calloc(a, 1, sizeof *resp);
    create_job_t *j = create_job_new(req.TopicNamesCount);
    if (resp)
        resp->Responses = resp_array(a, req.TopicNamesCount, sizeof *resp->Responses);
    if (!resp || !resp->Responses || !j) {
        free(j);
        return -ENOMEM;
    }
    resp->ResponsesCount = req.TopicNamesCount;
    for (int32_t i = 0; i < req.TopicNamesCount; i++) {
        kstr_t name = req.TopicNames[i];
        topic_deletion_t *td = NULL;
        resp->Responses[i].Name = name;
        if (!broker_authorize(b, s, ACL_OP_DELETE, ACL_RES_TOPIC, name)) {
            resp->Responses[i].ErrorCode = KERR_TOPIC_AUTHORIZATION_FAILED;
            continue;
        }
        resp->Responses[i].ErrorCode = name.len < 0
                                           ? KERR_UNKNOWN_TOPIC_OR_PARTITION
                                           : (int16_t)topics_delete_begin(&b->bk_topics, name.ptr,
                                                                          (size_t)name.len, &td);
        if (td) {
            create_item_t *ci = &j->cj_items[j->cj_n++];
            ci->ci_td = td;
            ci->ci_index = i;
        }
    }
    /* Kafka answers REQUEST_TIMED_OUT for a delete not complete within
     * timeout_ms, and the delete goes on. */
    if (req.TimeoutMs > 0)
        j->cj_deadline_ms = eddy_mono_ms() + req.TimeoutMs;
    j->cj_ctx = resp;
    j->cj_answer = delete_topics_answer;
    create_job_start(b, s, j);
    return 0;
}

/* DescribeConfigs and the AlterConfigs APIs: configs.c. */

/* ---- DeleteRecords ---- */

int handle_delete_records(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    DeleteRecordsRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    eddy_arena_t *a = &s->rs_out; /* response arrays: not bounded by the request size */
    int rc = wire_delete_records_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    DeleteRecordsResponse resp = {0, NULL, req.TopicsCount};
    resp.Topics = resp_array(a, req.TopicsCount, sizeof *resp.Topics);
    if (!resp.Topics)
        return -ENOMEM;
    for (int32_t i = 0; i < req.TopicsCount; i++) {
        DeleteRecordsTopic *rt = &req.Topics[i];
        DeleteRecordsTopicResult *ot = &resp.Topics[i];
        ot->Name = rt->Name;
        if (!RESP_ARRAY(a, ot->Partitions, ot->PartitionsCount, rt->PartitionsCount))
            return -ENOMEM;
        int denied = !broker_authorize(b, s, ACL_OP_DELETE, ACL_RES_TOPIC, rt->Name);
        for (int32_t j = 0; j < rt->PartitionsCount; j++) {
            DeleteRecordsPartition *rp = &rt->Partitions[j];
            DeleteRecordsPartitionResult *op = &ot->Partitions[j];
            op->PartitionIndex = rp->PartitionIndex;
            op->LowWatermark = -1;
            if (denied) {
                op->ErrorCode = KERR_TOPIC_AUTHORIZATION_FAILED;
                continue;
            }
            partition_t *p = find_partition(b, rt->Name, rp->PartitionIndex);
            if (!p) {
                op->ErrorCode = KERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            int64_t off = rp->Offset == -1 ? log_end_offset(p->p_log) : rp->Offset;
            op->ErrorCode = kerr_from(log_delete_records_before(p->p_log, off));
            op->LowWatermark = log_start_offset(p->p_log);
        }
    }
    wire_delete_records_resp_encode(&s->rs_resp, v, &resp);
    s->rs_state = SLOT_DONE;
    return 0;
}

/* ---- WriteTxnMarkers ---- */

/* The request a transaction coordinator sends to end a transaction in each
 * partition (Kafka's KafkaApis.handleWriteTxnMarkersRequest): CLUSTER_ACTION
 * on the cluster, else every partition is refused. Each partition gets a
 * marker (log_append_marker); waiting read_committed fetches wake, as the
 * LSO may have moved. */
int handle_write_txn_markers(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    WriteTxnMarkersRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    int rc = wire_write_txn_markers_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    int denied = !broker_authorize(b, s, ACL_OP_CLUSTER_ACTION, ACL_RES_CLUSTER,
                                   kstr_c(ACL_CLUSTER_NAME));
    int64_t now = eddy_wall_ms();
    int appended = 0;
    for (int32_t i = 0; i < req.MarkersCount; i++) {
        const WritableTxnMarker *m = &req.Markers[i];
        for (int32_t j = 0; j < m->TopicsCount; j++) {
            const WritableTxnMarkerTopic *t = &m->Topics[j];
            for (int32_t k = 0; k < t->PartitionIndexesCount; k++) {
                if (denied) {
                    t->ErrorCodes[k] = KERR_CLUSTER_AUTHORIZATION_FAILED;
                    continue;
                }
                partition_t *p = find_partition(b, t->Name, t->PartitionIndexes[k]);
                if (!p) {
                    t->ErrorCodes[k] = KERR_UNKNOWN_TOPIC_OR_PARTITION;
                    continue;
                }
                int64_t off;
                /* The group coordinator's partitions: its pending offsets
                 * complete with the marker it writes itself. */
                if (kstr_eq(t->Name, "__consumer_offsets"))
                    rc = group_txn_complete_partition(b->bk_groups, p->p_index, m->ProducerId,
                                                      m->ProducerEpoch, m->TransactionResult != 0,
                                                      m->CoordinatorEpoch);
                else
                    rc = log_append_marker(p->p_log, m->ProducerId, m->ProducerEpoch,
                                           m->TransactionResult != 0, m->CoordinatorEpoch, now,
                                           &off);
                t->ErrorCodes[k] = rc == EDDY_ERR_INVALID_ARG ? KERR_INVALID_REQUEST
                                                              : kerr_from(rc);
                if (rc == 0)
                    appended = 1;
                if (rc == 0 && log_marker_flush_due(p->p_log))
                    broker_flush_partition(b, p);
            }
        }
    }
    if (appended)
        broker_data_arrived(b);
    wire_write_txn_markers_resp_encode(&s->rs_resp, v, &req);
    s->rs_state = SLOT_DONE;
    return 0;
}

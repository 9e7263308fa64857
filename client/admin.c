/* Admin operations (see admin.h): a request, the loop run until its
 * answer, the answer decoded into a result. */
#include "client/admin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_int.h"
#include "common/err.h"
#include "common/scram.h"
#include "wire/api_acl.h"
#include "wire/api_sasl.h"
#include "wire/client_api.h"

typedef struct call {
    int cl_done;
    int cl_err;
    void *cl_req;
    void (*cl_encode)(eddy_wr_t *wr, int16_t v, const void *req);
    /* Decodes and interprets the response; returns the result code. */
    int (*cl_handle)(struct call *cl, int16_t v, eddy_rd_t *rd);
    void *cl_out;
    char *cl_errstr;
    size_t cl_errstr_size;
} call_t;

/* What the client holds while a call is out. The call itself lives on the
 * caller's stack; when the loop gives up waiting for it (kc_run_until timed
 * out), the ticket is abandoned and outlives the call until the client
 * answers it, so a late answer never writes into a stack frame that is
 * gone. */
typedef struct ticket {
    call_t *tk_call;
    int tk_abandoned;
} ticket_t;

static void call_encode(eddy_wr_t *wr, int16_t v, void *opaque)
{
    ticket_t *t = opaque;
    if (t->tk_abandoned) {
        wr->wr_err = -ECANCELED;
        return;
    }
    t->tk_call->cl_encode(wr, v, t->tk_call->cl_req);
}

static void call_done(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque)
{
    ticket_t *t = opaque;
    call_t *cl = t->tk_call;
    int abandoned = t->tk_abandoned;
    free(t);
    if (abandoned)
        return;
    cl->cl_err = err < 0 ? err : cl->cl_handle(cl, v, rd);
    const char *why;
    if (err < 0 && kc_client_error(c, &why) == err)
        snprintf(cl->cl_errstr, cl->cl_errstr_size, "%s", why);
    else if (err < 0)
        snprintf(cl->cl_errstr, cl->cl_errstr_size, "request failed: %s", eddy_strerror(err));
    cl->cl_done = 1;
}

static int call_finished(void *opaque)
{
    return ((call_t *)opaque)->cl_done;
}

static int call_run(kc_client_t *c, int32_t node, int16_t api, call_t *cl)
{
    ticket_t *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->tk_call = cl;
    int rc = kc_request(c, node, api, 1, call_encode, call_done, t);
    const char *why;
    if (rc < 0) {
        free(t);
        if (kc_client_error(c, &why) == rc)
            snprintf(cl->cl_errstr, cl->cl_errstr_size, "%s", why);
        else
            snprintf(cl->cl_errstr, cl->cl_errstr_size, "no broker to send %s to",
                     kafka_api_name(api));
        return rc;
    }
    rc = kc_run_until(c, call_finished, cl, kc_config(c)->request_timeout_ms + 5000);
    if (rc < 0) {
        t->tk_abandoned = 1; /* freed by call_done */
        if (kc_client_error(c, &why) == rc)
            snprintf(cl->cl_errstr, cl->cl_errstr_size, "%s", why);
        else
            snprintf(cl->cl_errstr, cl->cl_errstr_size, "%s: no answer from the cluster (%s)%s%s",
                     kafka_api_name(api), kc_config(c)->bootstrap_servers,
                     kc_client_last_failure(c) ? ": " : "",
                     kc_client_last_failure(c) ? kc_client_last_failure(c) : "");
        return rc;
    }
    return cl->cl_err;
}

/* ---- metadata ---- */

/* On the heap: a metadata refresh retries several brokers, and may answer
 * after kc_run_until gave up (then it frees the abandoned wait). */
typedef struct md_wait {
    int mw_done, mw_err, mw_abandoned;
} md_wait_t;

static void on_md(kc_client_t *c, int err, void *opaque)
{
    (void)c;
    md_wait_t *w = opaque;
    if (w->mw_abandoned) {
        free(w);
        return;
    }
    w->mw_err = err;
    w->mw_done = 1;
}

static int md_finished(void *opaque)
{
    return ((md_wait_t *)opaque)->mw_done;
}

int kc_admin_metadata(kc_client_t *c, const char *const *topics, int n, char *errstr,
                      size_t errstr_size)
{
    md_wait_t *w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    int rc = kc_metadata_refresh(c, topics, n, 0, on_md, w);
    if (rc < 0) {
        free(w);
    } else {
        rc = kc_run_until(c, md_finished, w, kc_config(c)->request_timeout_ms + 5000);
        if (rc < 0) {
            w->mw_abandoned = 1; /* on_md frees it */
        } else {
            rc = w->mw_err;
            free(w);
        }
    }
    /* Why: the client's last connection failure ("cannot connect to
     * 127.0.0.1:1: Connection refused") says more than the wait's timeout. */
    const char *last = rc < 0 ? kc_client_last_failure(c) : NULL;
    if (rc < 0 && last && kc_client_error(c, NULL) == rc)
        snprintf(errstr, errstr_size, "%s", last);
    else if (rc < 0 && last)
        snprintf(errstr, errstr_size, "cannot reach the cluster at %s: %s",
                 kc_config(c)->bootstrap_servers, last);
    else if (rc < 0)
        snprintf(errstr, errstr_size, "cannot reach the cluster at %s: %s",
                 kc_config(c)->bootstrap_servers, eddy_strerror(rc));
    return rc;
}

static int32_t controller(kc_client_t *c)
{
    int32_t id = kc_metadata_controller(c);
    return id >= 0 ? id : KC_NODE_ANY;
}

/* ---- CreateTopics ---- */

static void enc_create(eddy_wr_t *wr, int16_t v, const void *req)
{
    wire_create_topics_req_encode(wr, v, req);
}

static int handle_create(call_t *cl, int16_t v, eddy_rd_t *rd)
{
    CreateTopicsResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    int rc = wire_create_topics_resp_decode(rd, v, &a, &resp);
    if (rc == 0 && resp.TopicsCount > 0 && resp.Topics[0].ErrorCode != KERR_NONE) {
        const CreatableTopicResult *t = &resp.Topics[0];
        rc = t->ErrorCode;
        snprintf(cl->cl_errstr, cl->cl_errstr_size, "%s%s%.*s", kafka_err_name(rc),
                 t->ErrorMessage.len > 0 ? ": " : "",
                 t->ErrorMessage.len > 0 ? t->ErrorMessage.len : 0, t->ErrorMessage.ptr);
    }
    arena_free(&a);
    return rc;
}

int kc_admin_create_topic(kc_client_t *c, const char *name, int32_t partitions,
                          int16_t replication_factor, const char *const *keys,
                          const char *const *values, int nconfigs, char *errstr, size_t errstr_size)
{
    int rc = kc_admin_metadata(c, NULL, 0, errstr, errstr_size);
    if (rc < 0)
        return rc;
    CreatableTopicConfig *cfgs = calloc((size_t)nconfigs + 1, sizeof *cfgs);
    if (!cfgs)
        return -ENOMEM;
    for (int i = 0; i < nconfigs; i++)
        cfgs[i] = (CreatableTopicConfig){kstr_c(keys[i]), kstr_c(values[i])};
    CreatableTopic t = {kstr_c(name), partitions, replication_factor, NULL, 0, cfgs, nconfigs};
    CreateTopicsRequest req = {&t, 1, kc_config(c)->request_timeout_ms, 0};
    call_t cl = {0, 0, &req, enc_create, handle_create, NULL, errstr, errstr_size};
    rc = call_run(c, controller(c), API_CREATE_TOPICS, &cl);
    free(cfgs);
    return rc;
}

/* ---- DeleteTopics ---- */

static void enc_delete(eddy_wr_t *wr, int16_t v, const void *req)
{
    wire_delete_topics_req_encode(wr, v, req);
}

static int handle_delete(call_t *cl, int16_t v, eddy_rd_t *rd)
{
    DeleteTopicsResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    int rc = wire_delete_topics_resp_decode(rd, v, &a, &resp);
    if (rc == 0 && resp.ResponsesCount > 0 && resp.Responses[0].ErrorCode != KERR_NONE) {
        rc = resp.Responses[0].ErrorCode;
        snprintf(cl->cl_errstr, cl->cl_errstr_size, "%s", kafka_err_name(rc));
    }
    arena_free(&a);
    return rc;
}

int kc_admin_delete_topic(kc_client_t *c, const char *name, char *errstr, size_t errstr_size)
{
    int rc = kc_admin_metadata(c, NULL, 0, errstr, errstr_size);
    if (rc < 0)
        return rc;
    kstr_t n = kstr_c(name);
    DeleteTopicsRequest req = {&n, 1, kc_config(c)->request_timeout_ms};
    call_t cl = {0, 0, &req, enc_delete, handle_delete, NULL, errstr, errstr_size};
    return call_run(c, controller(c), API_DELETE_TOPICS, &cl);
}

/* ---- ListOffsets ---- */

static void enc_list(eddy_wr_t *wr, int16_t v, const void *req)
{
    wire_list_offsets_req_encode(wr, v, req);
}

static int handle_list(call_t *cl, int16_t v, eddy_rd_t *rd)
{
    ListOffsetsResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    int rc = wire_list_offsets_resp_decode(rd, v, &a, &resp);
    if (rc == 0 && (resp.TopicsCount < 1 || resp.Topics[0].PartitionsCount < 1))
        rc = -EPROTO;
    if (rc == 0) {
        const ListOffsetsResponsePartition *p = &resp.Topics[0].Partitions[0];
        rc = p->ErrorCode;
        *(int64_t *)cl->cl_out = p->Offset;
        if (rc)
            snprintf(cl->cl_errstr, cl->cl_errstr_size, "%s", kafka_err_name(rc));
    }
    arena_free(&a);
    return rc;
}

int kc_admin_list_offset(kc_client_t *c, const char *topic, int32_t partition, int64_t ts,
                         int64_t *offset, char *errstr, size_t errstr_size)
{
    const kc_topic_meta_t *m = kc_metadata_topic(c, topic);
    if (!m || partition >= m->tm_npartitions) {
        const char *names[1] = {topic};
        int rc = kc_admin_metadata(c, names, 1, errstr, errstr_size);
        if (rc < 0)
            return rc;
        m = kc_metadata_topic(c, topic);
    }
    if (!m || m->tm_error || partition < 0 || partition >= m->tm_npartitions) {
        snprintf(errstr, errstr_size, "%s-%d: no such partition", topic, partition);
        return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    ListOffsetsRequestPartition rp = {partition, ts, 1, -1};
    ListOffsetsRequestTopic rt = {kstr_c(topic), &rp, 1};
    ListOffsetsRequest req = {-1, 0, &rt, 1};
    call_t cl = {0, 0, &req, enc_list, handle_list, offset, errstr, errstr_size};
    return call_run(c, m->tm_partitions[partition].pm_leader, API_LIST_OFFSETS, &cl);
}

/* ---- DescribeConfigs ---- */

typedef struct cfg_out {
    kc_config_entry_fn *co_fn;
    void *co_opaque;
} cfg_out_t;

static void enc_describe(eddy_wr_t *wr, int16_t v, const void *req)
{
    wire_describe_configs_req_encode(wr, v, req);
}

static int handle_describe(call_t *cl, int16_t v, eddy_rd_t *rd)
{
    DescribeConfigsResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    int rc = wire_describe_configs_resp_decode(rd, v, &a, &resp);
    if (rc == 0 && resp.ResultsCount > 0) {
        const DescribeConfigsResult *r = &resp.Results[0];
        rc = r->ErrorCode;
        if (rc)
            snprintf(cl->cl_errstr, cl->cl_errstr_size, "%s", kafka_err_name(rc));
        cfg_out_t *o = cl->cl_out;
        for (int32_t i = 0; rc == 0 && i < r->ConfigsCount; i++) {
            char name[256], value[1024];
            const DescribeConfigsResourceResult *e = &r->Configs[i];
            snprintf(name, sizeof name, "%.*s", e->Name.len > 0 ? e->Name.len : 0, e->Name.ptr);
            snprintf(value, sizeof value, "%.*s", e->Value.len > 0 ? e->Value.len : 0,
                     e->Value.ptr);
            /* v0 has only IsDefault; a v1+ source out of range (a newer
             * broker's) is shown as the built-in default. */
            int source = v >= 1
                             ? e->ConfigSource
                             : (e->IsDefault ? KC_CONFIG_SOURCE_DEFAULT : KC_CONFIG_SOURCE_TOPIC);
            if (source < KC_CONFIG_SOURCE_TOPIC || source > KC_CONFIG_SOURCE_DEFAULT)
                source = KC_CONFIG_SOURCE_DEFAULT;
            o->co_fn(name, value, source, o->co_opaque);
        }
    }
    arena_free(&a);
    return rc;
}

int kc_admin_describe_topic_configs(kc_client_t *c, const char *topic, kc_config_entry_fn *fn,
                                    void *opaque, char *errstr, size_t errstr_size)
{
    DescribeConfigsResource r = {CONFIG_RESOURCE_TOPIC, kstr_c(topic), NULL, -1};
    DescribeConfigsRequest req = {&r, 1, 0, 0};
    cfg_out_t out = {fn, opaque};
    call_t cl = {0, 0, &req, enc_describe, handle_describe, &out, errstr, errstr_size};
    return call_run(c, KC_NODE_ANY, API_DESCRIBE_CONFIGS, &cl);
}

/* ---- IncrementalAlterConfigs ---- */

static void enc_alter(eddy_wr_t *wr, int16_t v, const void *req)
{
    wire_incremental_alter_configs_req_encode(wr, v, req);
}

static int handle_alter(call_t *cl, int16_t v, eddy_rd_t *rd)
{
    AlterConfigsResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    int rc = wire_incremental_alter_configs_resp_decode(rd, v, &a, &resp);
    if (rc == 0 && resp.ResponsesCount < 1)
        rc = -EPROTO;
    if (rc == 0 && (rc = resp.Responses[0].ErrorCode) != 0) {
        kstr_t m = resp.Responses[0].ErrorMessage;
        if (m.len > 0)
            snprintf(cl->cl_errstr, cl->cl_errstr_size, "%s: %.*s", kafka_err_name(rc), m.len,
                     m.ptr);
        else
            snprintf(cl->cl_errstr, cl->cl_errstr_size, "%s", kafka_err_name(rc));
    }
    arena_free(&a);
    return rc;
}

int kc_admin_alter_topic_configs(kc_client_t *c, const char *topic, const char *const *keys,
                                 const char *const *values, int n, char *errstr, size_t errstr_size)
{
    AlterableConfig cfgs[64];
    if (n < 0 || n > 64) {
        snprintf(errstr, errstr_size, "%d settings in one change; at most 64", n);
        return EDDY_ERR_INVALID_ARG;
    }
    for (int i = 0; i < n; i++)
        cfgs[i] = (AlterableConfig){kstr_c(keys[i]), values[i] ? CONFIG_OP_SET : CONFIG_OP_DELETE,
                                    kstr_c(values[i])};
    AlterConfigsResource r = {CONFIG_RESOURCE_TOPIC, kstr_c(topic), cfgs, n};
    AlterConfigsRequest req = {&r, 1, 0};
    call_t cl = {0, 0, &req, enc_alter, handle_alter, NULL, errstr, errstr_size};
    return call_run(c, KC_NODE_ANY, API_INCREMENTAL_ALTER_CONFIGS, &cl);
}

/* ---- DeleteRecords ---- */

/* A kc_delete_records call: the copied parts, sorted by leader, topic and
 * partition, so that each leader's parts are one run and each topic's parts
 * one run within it. Each leader's request borrows its run. */
typedef struct dr_req dr_req_t;

typedef struct dr_op {
    kc_delete_records_part_t *do_parts;
    int32_t *do_leaders; /* per part; -1: none known */
    int do_nparts;
    dr_req_t *do_reqs;
    int do_nreqs;
    int do_pending; /* requests out, +1 while still sending */
    int32_t do_timeout_ms;
    kc_delete_records_fn *do_done;
    void *do_opaque;
} dr_op_t;

struct dr_req {
    dr_op_t *dq_op;
    int dq_first, dq_n; /* its run of do_parts */
    DeleteRecordsTopic *dq_topics;
    DeleteRecordsPartition *dq_partitions;
    int32_t dq_ntopics;
};

static void dr_op_free(dr_op_t *op)
{
    for (int i = 0; i < op->do_nparts; i++)
        free((char *)op->do_parts[i].dr_topic);
    for (int i = 0; op->do_reqs && i < op->do_nreqs; i++) {
        free(op->do_reqs[i].dq_topics);
        free(op->do_reqs[i].dq_partitions);
    }
    free(op->do_reqs);
    free(op->do_leaders);
    free(op->do_parts);
    free(op);
}

static void dr_op_release(kc_client_t *c, dr_op_t *op)
{
    if (--op->do_pending > 0)
        return;
    op->do_done(c, op->do_parts, op->do_nparts, op->do_opaque);
    dr_op_free(op);
}

static void enc_delete_records(eddy_wr_t *wr, int16_t v, void *opaque)
{
    dr_req_t *dq = opaque;
    DeleteRecordsRequest req = {dq->dq_topics, dq->dq_ntopics, dq->dq_op->do_timeout_ms};
    wire_delete_records_req_encode(wr, v, &req);
}

static void on_delete_records(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque)
{
    dr_req_t *dq = opaque;
    dr_op_t *op = dq->dq_op;
    kc_delete_records_part_t *parts = op->do_parts + dq->dq_first;
    DeleteRecordsResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    if (err == 0)
        err = wire_delete_records_resp_decode(rd, v, &a, &resp);
    for (int i = 0; i < dq->dq_n; i++) {
        kc_delete_records_part_t *p = &parts[i];
        int found = 0;
        for (int32_t t = 0; err == 0 && !found && t < resp.TopicsCount; t++) {
            const DeleteRecordsTopicResult *tr = &resp.Topics[t];
            if (!kstr_eq(tr->Name, p->dr_topic))
                continue;
            for (int32_t j = 0; !found && j < tr->PartitionsCount; j++)
                if (tr->Partitions[j].PartitionIndex == p->dr_partition) {
                    p->dr_low_watermark = tr->Partitions[j].LowWatermark;
                    p->dr_error = tr->Partitions[j].ErrorCode;
                    found = 1;
                }
        }
        if (!found) /* the request failed, or the answer left the partition out */
            p->dr_err = err < 0 ? err : -EPROTO;
    }
    arena_free(&a);
    dr_op_release(c, op);
}

/* A part with its leader, for sorting. */
typedef struct dr_slot {
    kc_delete_records_part_t ds_part;
    int32_t ds_leader;
} dr_slot_t;

static int dr_slot_cmp(const void *x, const void *y)
{
    const dr_slot_t *a = x, *b = y;
    if (a->ds_leader != b->ds_leader)
        return a->ds_leader < b->ds_leader ? -1 : 1;
    int c = strcmp(a->ds_part.dr_topic, b->ds_part.dr_topic);
    if (c)
        return c;
    return (a->ds_part.dr_partition > b->ds_part.dr_partition) -
           (a->ds_part.dr_partition < b->ds_part.dr_partition);
}

/* Builds the request of the run [first, first+n) of one leader. */
static int dr_req_build(dr_op_t *op, dr_req_t *dq, int first, int n)
{
    dq->dq_op = op;
    dq->dq_first = first;
    dq->dq_n = n;
    dq->dq_topics = calloc((size_t)n, sizeof *dq->dq_topics);
    dq->dq_partitions = calloc((size_t)n, sizeof *dq->dq_partitions);
    if (!dq->dq_topics || !dq->dq_partitions)
        return -ENOMEM;
    DeleteRecordsTopic *t = NULL;
    for (int i = 0; i < n; i++) {
        const kc_delete_records_part_t *p = &op->do_parts[first + i];
        if (!t || !kstr_eq(t->Name, p->dr_topic)) {
            t = &dq->dq_topics[dq->dq_ntopics++];
            t->Name = kstr_c(p->dr_topic);
            t->Partitions = &dq->dq_partitions[i];
        }
        t->Partitions[t->PartitionsCount++] = (DeleteRecordsPartition){p->dr_partition,
                                                                       p->dr_offset};
    }
    return 0;
}

int kc_delete_records(kc_client_t *c, const kc_delete_records_part_t *parts, int n,
                      kc_delete_records_fn *done, void *opaque)
{
    if (n < 0 || !done)
        return -EINVAL;
    dr_op_t *op = calloc(1, sizeof *op);
    dr_slot_t *slots = calloc((size_t)n + 1, sizeof *slots);
    if (!op || !slots)
        goto nomem;
    op->do_parts = calloc((size_t)n + 1, sizeof *op->do_parts);
    op->do_leaders = calloc((size_t)n + 1, sizeof *op->do_leaders);
    op->do_reqs = calloc((size_t)n + 1, sizeof *op->do_reqs);
    if (!op->do_parts || !op->do_leaders || !op->do_reqs)
        goto nomem;
    op->do_timeout_ms = kc_config(c)->request_timeout_ms;
    op->do_done = done;
    op->do_opaque = opaque;
    for (int i = 0; i < n; i++) {
        const kc_topic_meta_t *m = kc_metadata_topic(c, parts[i].dr_topic);
        int known = m && m->tm_error == 0 && parts[i].dr_partition >= 0 &&
                    parts[i].dr_partition < m->tm_npartitions;
        slots[i].ds_part = parts[i];
        slots[i].ds_part.dr_low_watermark = -1;
        slots[i].ds_part.dr_err = 0;
        slots[i].ds_part.dr_error = known ? KERR_NONE : KERR_UNKNOWN_TOPIC_OR_PARTITION;
        slots[i].ds_leader = known ? m->tm_partitions[parts[i].dr_partition].pm_leader : -1;
        if (known && slots[i].ds_leader < 0)
            slots[i].ds_part.dr_error = KERR_LEADER_NOT_AVAILABLE;
        if (!(slots[i].ds_part.dr_topic = strdup(parts[i].dr_topic))) {
            for (int j = 0; j < i; j++)
                free((char *)slots[j].ds_part.dr_topic);
            goto nomem;
        }
    }
    qsort(slots, (size_t)n, sizeof *slots, dr_slot_cmp);
    for (int i = 0; i < n; i++) {
        op->do_parts[i] = slots[i].ds_part;
        op->do_leaders[i] = slots[i].ds_leader;
    }
    op->do_nparts = n;
    free(slots);
    slots = NULL;
    /* One request per leader; the +1 keeps the call alive while sending, as
     * a request may fail (and call back) before kc_request returns. */
    op->do_pending = 1;
    for (int first = 0, end; first < n; first = end) {
        for (end = first + 1; end < n && op->do_leaders[end] == op->do_leaders[first]; end++)
            ;
        if (op->do_leaders[first] < 0)
            continue; /* their dr_error says why */
        dr_req_t *dq = &op->do_reqs[op->do_nreqs++];
        int rc = dr_req_build(op, dq, first, end - first);
        op->do_pending++;
        if (rc == 0)
            rc = kc_request(c, op->do_leaders[first], API_DELETE_RECORDS, 1, enc_delete_records,
                            on_delete_records, dq);
        if (rc < 0) {
            for (int i = first; i < end; i++)
                op->do_parts[i].dr_err = rc;
            op->do_pending--;
        }
    }
    dr_op_release(c, op);
    return 0;

nomem:
    free(slots);
    if (op) {
        free(op->do_reqs);
        free(op->do_leaders);
        free(op->do_parts);
        free(op);
    }
    return -ENOMEM;
}

/* ---- groups ---- */

static int32_t node_ids(kc_client_t *c, int32_t *out, int max)
{
    int n = 0;
    for (kc_broker_t *kb = c->c_brokers; kb && n < max; kb = kb->kb_next)
        if (kb->kb_node_id >= 0 && kb->kb_purpose == KC_CONN_MAIN)
            out[n++] = kb->kb_node_id;
    return n;
}

typedef struct list_out {
    kc_group_fn *lo_fn;
    void *lo_opaque;
} list_out_t;

static void enc_list_groups(eddy_wr_t *wr, int16_t v, const void *req)
{
    (void)req;
    wire_list_groups_req_encode(wr, v);
}

static int handle_list_groups(call_t *cl, int16_t v, eddy_rd_t *rd)
{
    ListGroupsResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    int rc = wire_list_groups_resp_decode(rd, v, &a, &resp);
    if (rc == 0 && resp.ErrorCode) {
        rc = resp.ErrorCode;
        snprintf(cl->cl_errstr, cl->cl_errstr_size, "%s", kafka_err_name(rc));
    }
    list_out_t *o = cl->cl_out;
    for (int32_t i = 0; rc == 0 && i < resp.GroupsCount; i++) {
        char g[512], pt[128];
        snprintf(g, sizeof g, "%.*s",
                 resp.Groups[i].GroupId.len > 0 ? resp.Groups[i].GroupId.len : 0,
                 resp.Groups[i].GroupId.ptr);
        snprintf(pt, sizeof pt, "%.*s",
                 resp.Groups[i].ProtocolType.len > 0 ? resp.Groups[i].ProtocolType.len : 0,
                 resp.Groups[i].ProtocolType.ptr);
        o->lo_fn(g, pt, o->lo_opaque);
    }
    arena_free(&a);
    return rc;
}

int kc_admin_list_groups(kc_client_t *c, kc_group_fn *fn, void *opaque, char *errstr,
                         size_t errstr_size)
{
    int rc = kc_admin_metadata(c, NULL, 0, errstr, errstr_size);
    if (rc < 0)
        return rc;
    int32_t nodes[256];
    int n = node_ids(c, nodes, 256);
    list_out_t out = {fn, opaque};
    for (int i = 0; i < n && rc == 0; i++) {
        call_t cl = {0, 0, NULL, enc_list_groups, handle_list_groups, &out, errstr, errstr_size};
        rc = call_run(c, nodes[i], API_LIST_GROUPS, &cl);
    }
    return rc;
}

static void enc_find(eddy_wr_t *wr, int16_t v, const void *req)
{
    wire_find_coordinator_req_encode(wr, v, req);
}

static int handle_find(call_t *cl, int16_t v, eddy_rd_t *rd)
{
    FindCoordinatorResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    int rc = wire_find_coordinator_resp_decode(rd, v, &a, &resp);
    if (rc == 0 && resp.ErrorCode) {
        rc = resp.ErrorCode;
        snprintf(cl->cl_errstr, cl->cl_errstr_size, "finding the coordinator: %s",
                 kafka_err_name(rc));
    }
    if (rc == 0) {
        char host[256];
        snprintf(host, sizeof host, "%.*s", resp.Host.len > 0 ? resp.Host.len : 0, resp.Host.ptr);
        kc_client_t *c = ((void **)cl->cl_out)[0];
        kc_broker_upsert(c, resp.NodeId, host, resp.Port);
        *(int32_t *)((void **)cl->cl_out)[1] = resp.NodeId;
    }
    arena_free(&a);
    return rc;
}

static int find_coordinator(kc_client_t *c, const char *group, int32_t *node, char *errstr,
                            size_t errstr_size)
{
    FindCoordinatorRequest req = {kstr_c(group), 0};
    void *out[2] = {c, node};
    call_t cl = {0, 0, &req, enc_find, handle_find, out, errstr, errstr_size};
    return call_run(c, KC_NODE_ANY, API_FIND_COORDINATOR, &cl);
}

typedef struct desc_out {
    kc_group_desc_fn *do_fn;
    void *do_opaque;
} desc_out_t;

static void enc_describe_groups(eddy_wr_t *wr, int16_t v, const void *req)
{
    wire_describe_groups_req_encode(wr, v, req);
}

static char *kdup0(kstr_t s)
{
    char *d = malloc((size_t)(s.len > 0 ? s.len : 0) + 1);
    if (d) {
        if (s.len > 0)
            memcpy(d, s.ptr, (size_t)s.len);
        d[s.len > 0 ? s.len : 0] = 0;
    }
    return d;
}

static int handle_describe_groups(call_t *cl, int16_t v, eddy_rd_t *rd)
{
    DescribeGroupsResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    int rc = wire_describe_groups_resp_decode(rd, v, &a, &resp);
    if (rc == 0 && resp.GroupsCount < 1)
        rc = -EPROTO;
    if (rc == 0 && resp.Groups[0].ErrorCode) {
        rc = resp.Groups[0].ErrorCode;
        snprintf(cl->cl_errstr, cl->cl_errstr_size, "%s", kafka_err_name(rc));
    }
    if (rc == 0) {
        const DescribedGroup *g = &resp.Groups[0];
        kc_group_member_desc_t *members = calloc((size_t)g->MembersCount + 1, sizeof *members);
        char **strs = calloc((size_t)g->MembersCount * 3 + 3, sizeof *strs);
        ConsumerProtocolAssignment *asg = calloc((size_t)g->MembersCount + 1, sizeof *asg);
        const char ***topics = calloc((size_t)g->MembersCount + 1, sizeof *topics);
        int32_t **parts = calloc((size_t)g->MembersCount + 1, sizeof *parts);
        char *state = kdup0(g->GroupState), *ptype = kdup0(g->ProtocolType),
             *proto = kdup0(g->ProtocolData);
        for (int32_t i = 0; members && strs && asg && topics && parts && i < g->MembersCount; i++) {
            const DescribedGroupMember *m = &g->Members[i];
            kc_group_member_desc_t *d = &members[i];
            d->gm_member_id = strs[3 * i] = kdup0(m->MemberId);
            d->gm_client_id = strs[3 * i + 1] = kdup0(m->ClientId);
            d->gm_host = strs[3 * i + 2] = kdup0(m->ClientHost);
            eddy_rd_t ar;
            rd_init(&ar, m->MemberAssignment.ptr,
                    m->MemberAssignment.len > 0 ? (size_t)m->MemberAssignment.len : 0);
            if (m->MemberAssignment.len > 0 &&
                wire_consumer_assignment_decode(&ar, &a, &asg[i]) == 0) {
                int n = 0;
                for (int32_t t = 0; t < asg[i].AssignedPartitionsCount; t++)
                    n += asg[i].AssignedPartitions[t].PartitionsCount;
                topics[i] = calloc((size_t)n + 1, sizeof *topics[i]);
                parts[i] = calloc((size_t)n + 1, sizeof *parts[i]);
                for (int32_t t = 0; topics[i] && parts[i] && t < asg[i].AssignedPartitionsCount;
                     t++) {
                    const ConsumerProtocolAssignmentTopic *at = &asg[i].AssignedPartitions[t];
                    char *tn = kstr_arena_dup(&a, kstr_or_empty(at->Topic));
                    if (!tn)
                        break;
                    for (int32_t k = 0; k < at->PartitionsCount; k++) {
                        topics[i][d->gm_nassigned] = tn;
                        parts[i][d->gm_nassigned++] = at->Partitions[k];
                    }
                }
                d->gm_topics = topics[i];
                d->gm_partitions = parts[i];
            }
        }
        kc_group_desc_t desc = {state, ptype, proto, g->MembersCount, members};
        desc_out_t *o = cl->cl_out;
        o->do_fn(&desc, o->do_opaque);
        for (int32_t i = 0; i < g->MembersCount; i++) {
            if (strs) {
                free(strs[3 * i]);
                free(strs[3 * i + 1]);
                free(strs[3 * i + 2]);
            }
            if (topics)
                free(topics[i]);
            if (parts)
                free(parts[i]);
        }
        free(members);
        free(strs);
        free(asg);
        free(topics);
        free(parts);
        free(state);
        free(ptype);
        free(proto);
    }
    arena_free(&a);
    return rc;
}

int kc_admin_describe_group(kc_client_t *c, const char *group, kc_group_desc_fn *fn, void *opaque,
                            char *errstr, size_t errstr_size)
{
    int32_t node = -1;
    int rc = find_coordinator(c, group, &node, errstr, errstr_size);
    if (rc != 0)
        return rc;
    kstr_t g = kstr_c(group);
    DescribeGroupsRequest req = {&g, 1, 0};
    desc_out_t out = {fn, opaque};
    call_t cl = {0,    0,      &req,       enc_describe_groups, handle_describe_groups,
                 &out, errstr, errstr_size};
    return call_run(c, node, API_DESCRIBE_GROUPS, &cl);
}

typedef struct off_out {
    kc_offset_fn *oo_fn;
    void *oo_opaque;
} off_out_t;

static void enc_offset_fetch(eddy_wr_t *wr, int16_t v, const void *req)
{
    wire_offset_fetch_req_encode(wr, v, req);
}

static int handle_offset_fetch(call_t *cl, int16_t v, eddy_rd_t *rd)
{
    OffsetFetchResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    int rc = wire_offset_fetch_resp_decode(rd, v, &a, &resp);
    if (rc == 0 && resp.ErrorCode) {
        rc = resp.ErrorCode;
        snprintf(cl->cl_errstr, cl->cl_errstr_size, "%s", kafka_err_name(rc));
    }
    off_out_t *o = cl->cl_out;
    for (int32_t t = 0; rc == 0 && t < resp.TopicsCount; t++) {
        char topic[256];
        snprintf(topic, sizeof topic, "%.*s",
                 resp.Topics[t].Name.len > 0 ? resp.Topics[t].Name.len : 0,
                 resp.Topics[t].Name.ptr);
        for (int32_t p = 0; p < resp.Topics[t].PartitionsCount; p++)
            o->oo_fn(topic, resp.Topics[t].Partitions[p].PartitionIndex,
                     resp.Topics[t].Partitions[p].CommittedOffset, o->oo_opaque);
    }
    arena_free(&a);
    return rc;
}

int kc_admin_committed_offsets(kc_client_t *c, const char *group, const char *topic,
                               kc_offset_fn *fn, void *opaque, char *errstr, size_t errstr_size)
{
    int32_t node = -1;
    int rc = find_coordinator(c, group, &node, errstr, errstr_size);
    if (rc != 0)
        return rc;
    OffsetFetchRequestTopic t;
    int32_t *parts = NULL;
    OffsetFetchRequest req = {kstr_c(group), NULL, -1, 0};
    if (topic) {
        const char *names[1] = {topic};
        if ((rc = kc_admin_metadata(c, names, 1, errstr, errstr_size)) != 0)
            return rc;
        const kc_topic_meta_t *m = kc_metadata_topic(c, topic);
        int32_t n = m && !m->tm_error ? m->tm_npartitions : 0;
        parts = calloc((size_t)n + 1, sizeof *parts);
        for (int32_t i = 0; parts && i < n; i++)
            parts[i] = i;
        t = (OffsetFetchRequestTopic){kstr_c(topic), parts, n};
        req.Topics = &t;
        req.TopicsCount = 1;
    }
    off_out_t out = {fn, opaque};
    call_t cl = {0, 0, &req, enc_offset_fetch, handle_offset_fetch, &out, errstr, errstr_size};
    rc = call_run(c, node, API_OFFSET_FETCH, &cl);
    free(parts);
    return rc;
}

static void enc_offset_commit(eddy_wr_t *wr, int16_t v, const void *req)
{
    wire_offset_commit_req_encode(wr, v, req);
}

static int handle_offset_commit(call_t *cl, int16_t v, eddy_rd_t *rd)
{
    OffsetCommitResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    int rc = wire_offset_commit_resp_decode(rd, v, &a, &resp);
    for (int32_t t = 0; rc == 0 && t < resp.TopicsCount; t++)
        for (int32_t p = 0; rc == 0 && p < resp.Topics[t].PartitionsCount; p++)
            if ((rc = resp.Topics[t].Partitions[p].ErrorCode))
                snprintf(cl->cl_errstr, cl->cl_errstr_size, "partition %d: %s",
                         resp.Topics[t].Partitions[p].PartitionIndex, kafka_err_name(rc));
    arena_free(&a);
    return rc;
}

int kc_admin_commit_offsets(kc_client_t *c, const char *group, const char *topic, int n,
                            const int32_t *partitions, const int64_t *offsets, char *errstr,
                            size_t errstr_size)
{
    int32_t node = -1;
    int rc = find_coordinator(c, group, &node, errstr, errstr_size);
    if (rc != 0)
        return rc;
    OffsetCommitRequestPartition *ps = calloc((size_t)n + 1, sizeof *ps);
    if (!ps)
        return -ENOMEM;
    for (int i = 0; i < n; i++)
        ps[i] = (OffsetCommitRequestPartition){partitions[i], offsets[i], -1, -1, (kstr_t){"", 0}};
    OffsetCommitRequestTopic t = {kstr_c(topic), ps, n};
    OffsetCommitRequest req;
    memset(&req, 0, sizeof req);
    req.GroupId = kstr_c(group);
    req.GenerationId = -1;
    req.MemberId = (kstr_t){"", 0};
    req.GroupInstanceId = KSTR_NULL;
    req.RetentionTimeMs = -1;
    req.Topics = &t;
    req.TopicsCount = 1;
    call_t cl = {0, 0, &req, enc_offset_commit, handle_offset_commit, NULL, errstr, errstr_size};
    rc = call_run(c, node, API_OFFSET_COMMIT, &cl);
    free(ps);
    return rc;
}

static void enc_delete_groups(eddy_wr_t *wr, int16_t v, const void *req)
{
    wire_delete_groups_req_encode(wr, v, req);
}

static int handle_delete_groups(call_t *cl, int16_t v, eddy_rd_t *rd)
{
    DeleteGroupsResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    int rc = wire_delete_groups_resp_decode(rd, v, &a, &resp);
    if (rc == 0 && resp.ResultsCount > 0 && resp.Results[0].ErrorCode) {
        rc = resp.Results[0].ErrorCode;
        snprintf(cl->cl_errstr, cl->cl_errstr_size, "%s", kafka_err_name(rc));
    }
    arena_free(&a);
    return rc;
}

int kc_admin_delete_group(kc_client_t *c, const char *group, char *errstr, size_t errstr_size)
{
    int32_t node = -1;
    int rc = find_coordinator(c, group, &node, errstr, errstr_size);
    if (rc != 0)
        return rc;
    kstr_t g = kstr_c(group);
    DeleteGroupsRequest req = {&g, 1};
    call_t cl = {0, 0, &req, enc_delete_groups, handle_delete_groups, NULL, errstr, errstr_size};
    return call_run(c, node, API_DELETE_GROUPS, &cl);
}

/* ---- ACLs ---- */

static AclBinding acl_to_wire(const kc_acl_t *a)
{
    AclBinding b = {(int8_t)a->ka_res_type,  kstr_c(a->ka_name), (int8_t)a->ka_pattern,
                    kstr_c(a->ka_principal), kstr_c(a->ka_host), (int8_t)a->ka_op,
                    (int8_t)a->ka_perm};
    return b;
}

/* A wire binding as a kc_acl_t, its strings NUL-terminated in the arena;
 * -ENOMEM when out of it. */
static int acl_from_wire(eddy_arena_t *a, const AclBinding *b, kc_acl_t *out)
{
    out->ka_res_type = b->ResourceType;
    out->ka_pattern = b->PatternType;
    out->ka_op = b->Operation;
    out->ka_perm = b->PermissionType;
    out->ka_name = kstr_arena_dup(a, kstr_or_empty(b->ResourceName));
    out->ka_principal = kstr_arena_dup(a, kstr_or_empty(b->Principal));
    out->ka_host = kstr_arena_dup(a, kstr_or_empty(b->Host));
    return out->ka_name && out->ka_principal && out->ka_host ? 0 : -ENOMEM;
}

static void acl_errstr(call_t *cl, int16_t code, kstr_t msg)
{
    snprintf(cl->cl_errstr, cl->cl_errstr_size, "%s%s%.*s", kafka_err_name(code),
             msg.len > 0 ? ": " : "", msg.len > 0 ? msg.len : 0, msg.len > 0 ? msg.ptr : "");
}

typedef struct acl_out {
    kc_acl_fn *ao_fn;
    void *ao_opaque;
} acl_out_t;

static void enc_create_acls(eddy_wr_t *wr, int16_t v, const void *req)
{
    wire_create_acls_req_encode(wr, v, req);
}

static int handle_create_acls(call_t *cl, int16_t v, eddy_rd_t *rd)
{
    CreateAclsResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    int rc = wire_create_acls_resp_decode(rd, v, &a, &resp);
    for (int32_t i = 0; rc == 0 && i < resp.ResultsCount; i++)
        if (resp.Results[i].ErrorCode != KERR_NONE) {
            rc = resp.Results[i].ErrorCode;
            acl_errstr(cl, resp.Results[i].ErrorCode, resp.Results[i].ErrorMessage);
        }
    arena_free(&a);
    return rc;
}

int kc_admin_create_acls(kc_client_t *c, const kc_acl_t *acls, int n, char *errstr,
                         size_t errstr_size)
{
    int rc = kc_admin_metadata(c, NULL, 0, errstr, errstr_size);
    if (rc < 0)
        return rc;
    AclBinding *bs = calloc((size_t)(n > 0 ? n : 1), sizeof *bs);
    if (!bs)
        return -ENOMEM;
    for (int i = 0; i < n; i++)
        bs[i] = acl_to_wire(&acls[i]);
    CreateAclsRequest req = {bs, n};
    call_t cl = {0, 0, &req, enc_create_acls, handle_create_acls, NULL, errstr, errstr_size};
    rc = call_run(c, controller(c), API_CREATE_ACLS, &cl);
    free(bs);
    return rc;
}

static void enc_describe_acls(eddy_wr_t *wr, int16_t v, const void *req)
{
    wire_describe_acls_req_encode(wr, v, req);
}

static int handle_describe_acls(call_t *cl, int16_t v, eddy_rd_t *rd)
{
    acl_out_t *out = cl->cl_out;
    DescribeAclsResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    int rc = wire_describe_acls_resp_decode(rd, v, &a, &resp);
    if (rc == 0 && resp.ErrorCode != KERR_NONE) {
        rc = resp.ErrorCode;
        acl_errstr(cl, resp.ErrorCode, resp.ErrorMessage);
    }
    for (int32_t i = 0; rc == 0 && i < resp.ResourcesCount; i++) {
        const DescribeAclsResource *r = &resp.Resources[i];
        for (int32_t j = 0; rc == 0 && j < r->AclsCount; j++) {
            const AclDescription *d = &r->Acls[j];
            AclBinding b = {r->ResourceType, r->ResourceName, r->PatternType,   d->Principal,
                            d->Host,         d->Operation,    d->PermissionType};
            kc_acl_t k;
            if ((rc = acl_from_wire(&a, &b, &k)) == 0)
                out->ao_fn(&k, out->ao_opaque);
        }
    }
    arena_free(&a);
    return rc;
}

int kc_admin_describe_acls(kc_client_t *c, const kc_acl_t *filter, kc_acl_fn *fn, void *opaque,
                           char *errstr, size_t errstr_size)
{
    int rc = kc_admin_metadata(c, NULL, 0, errstr, errstr_size);
    if (rc < 0)
        return rc;
    DescribeAclsRequest req = acl_to_wire(filter);
    acl_out_t out = {fn, opaque};
    call_t cl = {0, 0, &req, enc_describe_acls, handle_describe_acls, &out, errstr, errstr_size};
    return call_run(c, controller(c), API_DESCRIBE_ACLS, &cl);
}

static void enc_delete_acls(eddy_wr_t *wr, int16_t v, const void *req)
{
    wire_delete_acls_req_encode(wr, v, req);
}

static int handle_delete_acls(call_t *cl, int16_t v, eddy_rd_t *rd)
{
    acl_out_t *out = cl->cl_out;
    DeleteAclsResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    int rc = wire_delete_acls_resp_decode(rd, v, &a, &resp);
    for (int32_t i = 0; rc == 0 && i < resp.FilterResultsCount; i++) {
        const DeleteAclsFilterResult *fr = &resp.FilterResults[i];
        if (fr->ErrorCode != KERR_NONE) {
            rc = fr->ErrorCode;
            acl_errstr(cl, fr->ErrorCode, fr->ErrorMessage);
            break;
        }
        for (int32_t j = 0; rc == 0 && j < fr->MatchingAclsCount; j++) {
            kc_acl_t k;
            if ((rc = acl_from_wire(&a, &fr->MatchingAcls[j].Acl, &k)) == 0 && out->ao_fn)
                out->ao_fn(&k, out->ao_opaque);
        }
    }
    arena_free(&a);
    return rc;
}

int kc_admin_delete_acls(kc_client_t *c, const kc_acl_t *filter, kc_acl_fn *fn, void *opaque,
                         char *errstr, size_t errstr_size)
{
    int rc = kc_admin_metadata(c, NULL, 0, errstr, errstr_size);
    if (rc < 0)
        return rc;
    AclBinding f = acl_to_wire(filter);
    DeleteAclsRequest req = {&f, 1};
    acl_out_t out = {fn, opaque};
    call_t cl = {0, 0, &req, enc_delete_acls, handle_delete_acls, &out, errstr, errstr_size};
    return call_run(c, controller(c), API_DELETE_ACLS, &cl);
}

/* ---- SCRAM credentials ---- */

typedef struct scram_out {
    kc_scram_cred_fn *so_fn;
    void *so_opaque;
} scram_out_t;

static void enc_describe_scram(eddy_wr_t *wr, int16_t v, const void *req)
{
    wire_describe_user_scram_req_encode(wr, v, req);
}

static int handle_describe_scram(call_t *cl, int16_t v, eddy_rd_t *rd)
{
    DescribeUserScramCredentialsResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    int rc = wire_describe_user_scram_resp_decode(rd, v, &a, &resp);
    if (rc == 0 && resp.ErrorCode) {
        rc = resp.ErrorCode;
        snprintf(cl->cl_errstr, cl->cl_errstr_size, "%s%s%.*s", kafka_err_name(rc),
                 resp.ErrorMessage.len > 0 ? ": " : "",
                 resp.ErrorMessage.len > 0 ? resp.ErrorMessage.len : 0, resp.ErrorMessage.ptr);
    }
    scram_out_t *o = cl->cl_out;
    for (int32_t i = 0; rc == 0 && i < resp.ResultsCount; i++) {
        const DescribeUserScramCredentialsResult *r = &resp.Results[i];
        char user[1024];
        snprintf(user, sizeof user, "%.*s", r->User.len, r->User.ptr);
        if (r->ErrorCode) {
            rc = r->ErrorCode;
            snprintf(cl->cl_errstr, cl->cl_errstr_size, "user %s: %s%s%.*s", user,
                     kafka_err_name(rc), r->ErrorMessage.len > 0 ? ": " : "",
                     r->ErrorMessage.len > 0 ? r->ErrorMessage.len : 0, r->ErrorMessage.ptr);
            break;
        }
        for (int32_t j = 0; j < r->CredentialInfosCount; j++)
            o->so_fn(user, r->CredentialInfos[j].Mechanism, r->CredentialInfos[j].Iterations,
                     o->so_opaque);
    }
    arena_free(&a);
    return rc;
}

int kc_admin_describe_scram(kc_client_t *c, const char *const *users, int n, kc_scram_cred_fn *fn,
                            void *opaque, char *errstr, size_t errstr_size)
{
    int rc = kc_admin_metadata(c, NULL, 0, errstr, errstr_size);
    if (rc < 0)
        return rc;
    kstr_t *names = NULL;
    if (users && n > 0 && !(names = calloc((size_t)n, sizeof *names)))
        return -ENOMEM;
    for (int i = 0; users && i < n; i++)
        names[i] = kstr_c(users[i]);
    DescribeUserScramCredentialsRequest req = {names, users ? n : -1};
    scram_out_t o = {fn, opaque};
    call_t cl = {0, 0, &req, enc_describe_scram, handle_describe_scram, &o, errstr, errstr_size};
    rc = call_run(c, controller(c), API_DESCRIBE_USER_SCRAM_CREDENTIALS, &cl);
    free(names);
    return rc;
}

static void enc_alter_scram(eddy_wr_t *wr, int16_t v, const void *req)
{
    wire_alter_user_scram_req_encode(wr, v, req);
}

static int handle_alter_scram(call_t *cl, int16_t v, eddy_rd_t *rd)
{
    AlterUserScramCredentialsResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    int rc = wire_alter_user_scram_resp_decode(rd, v, &a, &resp);
    if (rc == 0 && resp.ResultsCount < 1)
        rc = -EPROTO;
    if (rc == 0 && resp.Results[0].ErrorCode) {
        const AlterUserScramCredentialsResult *r = &resp.Results[0];
        rc = r->ErrorCode;
        snprintf(cl->cl_errstr, cl->cl_errstr_size, "%s%s%.*s", kafka_err_name(rc),
                 r->ErrorMessage.len > 0 ? ": " : "",
                 r->ErrorMessage.len > 0 ? r->ErrorMessage.len : 0, r->ErrorMessage.ptr);
    }
    arena_free(&a);
    return rc;
}

static int alter_scram(kc_client_t *c, AlterUserScramCredentialsRequest *req, char *errstr,
                       size_t errstr_size)
{
    int rc = kc_admin_metadata(c, NULL, 0, errstr, errstr_size);
    if (rc < 0)
        return rc;
    call_t cl = {0, 0, req, enc_alter_scram, handle_alter_scram, NULL, errstr, errstr_size};
    return call_run(c, controller(c), API_ALTER_USER_SCRAM_CREDENTIALS, &cl);
}

int kc_admin_upsert_scram(kc_client_t *c, const char *user, int mechanism, int32_t iterations,
                          const char *password, char *errstr, size_t errstr_size)
{
    uint8_t salt[32], salted[SCRAM_MAX_HASH];
    if (!scram_hash_len(mechanism)) {
        snprintf(errstr, errstr_size, "unknown SCRAM mechanism %d", mechanism);
        return -EINVAL;
    }
    int rc = scram_random(salt, sizeof salt);
    if (rc == 0)
        rc = scram_salted_password(mechanism, password, strlen(password), salt, sizeof salt,
                                   iterations, salted);
    if (rc < 0) {
        snprintf(errstr, errstr_size, "cannot salt the password: %s", eddy_strerror(rc));
        return rc;
    }
    ScramCredentialUpsertion up = {kstr_c(user),
                                   (int8_t)mechanism,
                                   iterations,
                                   {(const char *)salt, (int32_t)sizeof salt},
                                   {(const char *)salted, (int32_t)scram_hash_len(mechanism)}};
    AlterUserScramCredentialsRequest req = {NULL, 0, &up, 1};
    rc = alter_scram(c, &req, errstr, errstr_size);
    memset(salted, 0, sizeof salted);
    return rc;
}

int kc_admin_delete_scram(kc_client_t *c, const char *user, int mechanism, char *errstr,
                          size_t errstr_size)
{
    ScramCredentialDeletion del = {kstr_c(user), (int8_t)mechanism};
    AlterUserScramCredentialsRequest req = {&del, 1, NULL, 0};
    return alter_scram(c, &req, errstr, errstr_size);
}

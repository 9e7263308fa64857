/* Admin operations (see admin.h): a request, the loop run until its
 * answer, the answer decoded into a result. */
#include "client/admin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_int.h"
#include "common/err.h"
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

static void call_encode(eddy_wr_t *wr, int16_t v, void *opaque)
{
    call_t *cl = opaque;
    cl->cl_encode(wr, v, cl->cl_req);
}

static void call_done(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque)
{
    (void)c;
    call_t *cl = opaque;
    cl->cl_err = err < 0 ? err : cl->cl_handle(cl, v, rd);
    if (err < 0)
        snprintf(cl->cl_errstr, cl->cl_errstr_size, "request failed: %s", eddy_strerror(err));
    cl->cl_done = 1;
}

static int call_finished(void *opaque)
{
    return ((call_t *)opaque)->cl_done;
}

static int call_run(kc_client_t *c, int32_t node, int16_t api, call_t *cl)
{
    int rc = kc_request(c, node, api, 1, call_encode, call_done, cl);
    if (rc < 0) {
        snprintf(cl->cl_errstr, cl->cl_errstr_size, "no broker to send %s to", kafka_api_name(api));
        return rc;
    }
    rc = kc_run_until(c, call_finished, cl, kc_config(c)->request_timeout_ms + 5000);
    if (rc < 0) {
        snprintf(cl->cl_errstr, cl->cl_errstr_size, "%s: no answer from the cluster (%s)",
                 kafka_api_name(api), kc_config(c)->bootstrap_servers);
        return rc;
    }
    return cl->cl_err;
}

/* ---- metadata ---- */

typedef struct md_wait {
    int mw_done, mw_err;
} md_wait_t;

static void on_md(kc_client_t *c, int err, void *opaque)
{
    (void)c;
    md_wait_t *w = opaque;
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
    md_wait_t w = {0, 0};
    int rc = kc_metadata_refresh(c, topics, n, 0, on_md, &w);
    if (rc == 0)
        rc = kc_run_until(c, md_finished, &w, kc_config(c)->request_timeout_ms + 5000);
    if (rc == 0)
        rc = w.mw_err;
    if (rc < 0)
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
                 t->ErrorMessage.len > 0 ? ": " : "", t->ErrorMessage.len > 0 ? t->ErrorMessage.len : 0,
                 t->ErrorMessage.ptr);
    }
    arena_free(&a);
    return rc;
}

int kc_admin_create_topic(kc_client_t *c, const char *name, int32_t partitions,
                          int16_t replication_factor, const char *const *keys,
                          const char *const *values, int nconfigs, char *errstr,
                          size_t errstr_size)
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
    ListOffsetsRequestPartition rp = {partition, ts, 1};
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
            snprintf(value, sizeof value, "%.*s", e->Value.len > 0 ? e->Value.len : 0, e->Value.ptr);
            int is_default = v >= 1 ? e->ConfigSource == CONFIG_SOURCE_DEFAULT : e->IsDefault;
            o->co_fn(name, value, is_default, o->co_opaque);
        }
    }
    arena_free(&a);
    return rc;
}

int kc_admin_describe_topic_configs(kc_client_t *c, const char *topic, kc_config_entry_fn *fn,
                                    void *opaque, char *errstr, size_t errstr_size)
{
    DescribeConfigsResource r = {CONFIG_RESOURCE_TOPIC, kstr_c(topic), NULL, -1};
    DescribeConfigsRequest req = {&r, 1, 0};
    cfg_out_t out = {fn, opaque};
    call_t cl = {0, 0, &req, enc_describe, handle_describe, &out, errstr, errstr_size};
    return call_run(c, KC_NODE_ANY, API_DESCRIBE_CONFIGS, &cl);
}

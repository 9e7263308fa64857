/* The metadata cache: brokers (node id -> host:port), topics and their
 * partition leaders, refreshed on request and when a leader moves. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_int.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "wire/api.h"
#include "wire/client_api.h"

typedef struct md_req {
    char **mr_topics;
    int mr_ntopics; /* -1: all */
    int mr_allow_create;
    kc_done_fn *mr_done;
    void *mr_opaque;
    int mr_attempts;
} md_req_t;

static void md_req_free(md_req_t *m)
{
    for (int i = 0; i < m->mr_ntopics; i++)
        free(m->mr_topics[i]);
    free(m->mr_topics);
    free(m);
}

static void encode_metadata(eddy_wr_t *wr, int16_t v, void *opaque)
{
    md_req_t *m = opaque;
    MetadataRequest req;
    memset(&req, 0, sizeof req);
    kstr_t names[m->mr_ntopics > 0 ? m->mr_ntopics : 1];
    for (int i = 0; i < m->mr_ntopics; i++)
        names[i] = kstr_c(m->mr_topics[i]);
    req.Topics = names;
    req.TopicsCount = m->mr_ntopics;
    req.AllowAutoTopicCreation = (int8_t)(v >= 4 ? m->mr_allow_create : 1);
    wire_metadata_req_encode(wr, v, &req);
}

static kc_topic_meta_t *topic_slot(kc_client_t *c, kstr_t name)
{
    for (int i = 0; i < c->c_ntopics; i++)
        if (kstr_eq(name, c->c_topics[i].tm_name))
            return &c->c_topics[i];
    kc_topic_meta_t *nt = realloc(c->c_topics, (size_t)(c->c_ntopics + 1) * sizeof *nt);
    if (!nt)
        return NULL;
    c->c_topics = nt;
    kc_topic_meta_t *t = &c->c_topics[c->c_ntopics];
    memset(t, 0, sizeof *t);
    t->tm_name = strndup(name.ptr, (size_t)name.len);
    if (!t->tm_name)
        return NULL;
    c->c_ntopics++;
    return t;
}

static void on_metadata(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque);

static int md_send(kc_client_t *c, md_req_t *m)
{
    return kc_request(c, KC_NODE_ANY, API_METADATA, 1, encode_metadata, on_metadata, m);
}

static void on_metadata(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque)
{
    md_req_t *m = opaque;
    MetadataResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    if (err == 0)
        err = wire_metadata_resp_decode(rd, v, &a, &resp);
    if (err < 0) {
        arena_free(&a);
        /* A lost connection or timeout: try another broker, a few times. */
        if (!c->c_destroyed && err != -ECANCELED && ++m->mr_attempts < 5 && md_send(c, m) == 0)
            return;
        if (m->mr_done)
            m->mr_done(c, err, m->mr_opaque);
        md_req_free(m);
        return;
    }
    for (int32_t i = 0; i < resp.BrokersCount; i++) {
        char host[256];
        const MetadataResponseBroker *b = &resp.Brokers[i];
        snprintf(host, sizeof host, "%.*s", b->Host.len > 0 ? b->Host.len : 0, b->Host.ptr);
        kc_broker_upsert(c, b->NodeId, host, b->Port);
    }
    c->c_controller = resp.ControllerId;
    if (m->mr_ntopics < 0) {
        /* An all-topics answer replaces the cache: deleted topics go. */
        for (int i = 0; i < c->c_ntopics; i++) {
            free(c->c_topics[i].tm_name);
            free(c->c_topics[i].tm_partitions);
        }
        c->c_ntopics = 0;
    }
    for (int32_t i = 0; i < resp.TopicsCount; i++) {
        const MetadataResponseTopic *rt = &resp.Topics[i];
        kc_topic_meta_t *t = topic_slot(c, rt->Name);
        if (!t)
            break;
        free(t->tm_partitions);
        t->tm_partitions = NULL;
        t->tm_error = rt->ErrorCode;
        t->tm_internal = rt->IsInternal;
        t->tm_npartitions = 0;
        if (rt->ErrorCode != KERR_NONE)
            continue;
        /* The partitions, then every replica and ISR list, in one block
         * (each list is bounded by the response it was decoded from). */
        size_t nnodes = 0;
        for (int32_t k = 0; k < rt->PartitionsCount; k++)
            nnodes += (size_t)rt->Partitions[k].ReplicaNodesCount +
                      (size_t)rt->Partitions[k].IsrNodesCount;
        size_t nparts = (size_t)(rt->PartitionsCount ? rt->PartitionsCount : 1);
        t->tm_partitions = calloc(1, nparts * sizeof *t->tm_partitions + nnodes * sizeof(int32_t));
        if (!t->tm_partitions)
            continue;
        /* Indexed by partition number, whatever order the broker used. */
        int32_t n = 0;
        for (int32_t k = 0; k < rt->PartitionsCount; k++)
            if (rt->Partitions[k].PartitionIndex >= n)
                n = rt->Partitions[k].PartitionIndex + 1;
        if (n > rt->PartitionsCount) {
            t->tm_error = KERR_LEADER_NOT_AVAILABLE; /* a gap: wait for a full answer */
            continue;
        }
        t->tm_npartitions = n;
        int32_t *nodes = (int32_t *)(t->tm_partitions + nparts);
        for (int32_t k = 0; k < rt->PartitionsCount; k++) {
            const MetadataResponsePartition *rp = &rt->Partitions[k];
            kc_partition_meta_t *pm = &t->tm_partitions[rp->PartitionIndex];
            pm->pm_partition = rp->PartitionIndex;
            pm->pm_leader = rp->LeaderId;
            pm->pm_error = rp->ErrorCode;
            if (rp->ReplicaNodesCount > 0)
                memcpy(nodes, rp->ReplicaNodes, (size_t)rp->ReplicaNodesCount * sizeof *nodes);
            pm->pm_replicas = nodes;
            pm->pm_nreplicas = rp->ReplicaNodesCount > 0 ? rp->ReplicaNodesCount : 0;
            nodes += pm->pm_nreplicas;
            if (rp->IsrNodesCount > 0)
                memcpy(nodes, rp->IsrNodes, (size_t)rp->IsrNodesCount * sizeof *nodes);
            pm->pm_isr = nodes;
            pm->pm_nisr = rp->IsrNodesCount > 0 ? rp->IsrNodesCount : 0;
            nodes += pm->pm_nisr;
        }
    }
    c->c_metadata_ms = eddy_mono_ms();
    arena_free(&a);
    if (c->c_producer)
        kc_producer_metadata_changed(c->c_producer);
    if (c->c_consumer)
        kc_consumer_metadata_changed(c->c_consumer);
    if (m->mr_done)
        m->mr_done(c, 0, m->mr_opaque);
    md_req_free(m);
}

int kc_metadata_refresh(kc_client_t *c, const char *const *topics, int ntopics, int allow_create,
                        kc_done_fn *done, void *opaque)
{
    md_req_t *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    m->mr_ntopics = topics ? ntopics : -1;
    m->mr_allow_create = allow_create;
    m->mr_done = done;
    m->mr_opaque = opaque;
    if (topics && ntopics > 0) {
        m->mr_topics = calloc((size_t)ntopics, sizeof *m->mr_topics);
        for (int i = 0; m->mr_topics && i < ntopics; i++)
            m->mr_topics[i] = strdup(topics[i]);
    }
    int rc = md_send(c, m);
    if (rc < 0)
        md_req_free(m);
    return rc;
}

const kc_topic_meta_t *kc_metadata_topic(const kc_client_t *c, const char *topic)
{
    for (int i = 0; i < c->c_ntopics; i++)
        if (strcmp(c->c_topics[i].tm_name, topic) == 0)
            return &c->c_topics[i];
    return NULL;
}

const kc_topic_meta_t *kc_metadata_topics(const kc_client_t *c, int *n)
{
    *n = c->c_ntopics;
    return c->c_topics;
}

int32_t kc_metadata_controller(const kc_client_t *c)
{
    return c->c_controller;
}

/* Cluster-level admin requests: CreatePartitions (grow a topic) and
 * DescribeCluster (who the cluster is). Same conventions as handlers.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "broker/broker_int.h"
#include "common/clock.h"
#include "common/log.h"
#include "wire/api_cluster.h"

/* Kafka's AclOperation codes for a cluster: what a client without ACLs may
 * do (DESCRIBE 8, ALTER 7, CREATE 5, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11,
 * CLUSTER_ACTION 9, IDEMPOTENT_WRITE 12): all of them without an authorizer. */
#define CLUSTER_ALL_OPERATIONS                                                                     \
    ((1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12))

/* ---- CreatePartitions ---- */

static int16_t check_assignments(eddy_broker_t *b, const CreatePartitionsTopic *t, int32_t now,
                                 char *msg, size_t msg_size)
{
    if (t->AssignmentsCount < 0)
        return KERR_NONE;
    int32_t adding = t->Count - now;
    if (t->AssignmentsCount != adding) {
        snprintf(msg, msg_size,
                 "%d partition(s) would be added but %d assignment(s) were given: give one per "
                 "new partition, or none",
                 adding, t->AssignmentsCount);
        return KERR_INVALID_REPLICA_ASSIGNMENT;
    }
    for (int32_t k = 0; k < t->AssignmentsCount; k++) {
        const CreatePartitionsAssignment *as = &t->Assignments[k];
        if (as->BrokerIdsCount != 1 || as->BrokerIds[0] != b->bk_cfg.broker_id) {
            snprintf(msg, msg_size,
                     "new partition %d: the only broker is %d and the replication factor is 1, "
                     "so its assignment must be [%d]",
                     now + k, b->bk_cfg.broker_id, b->bk_cfg.broker_id);
            return KERR_INVALID_REPLICA_ASSIGNMENT;
        }
    }
    return KERR_NONE;
}

int handle_create_partitions(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    CreatePartitionsRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    eddy_arena_t *a = &s->rs_out;
    int rc = wire_create_partitions_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    topic_registry_t *tr = &b->bk_topics;
    CreatePartitionsResponse resp = {0, NULL, req.TopicsCount};
    resp.Results = resp_array(a, req.TopicsCount, sizeof *resp.Results);
    if (!resp.Results)
        return -ENOMEM;
    for (int32_t i = 0; i < req.TopicsCount; i++) {
        const CreatePartitionsTopic *t = &req.Topics[i];
        CreatePartitionsTopicResult *res = &resp.Results[i];
        res->Name = t->Name;
        res->ErrorMessage = KSTR_NULL;
        char msg[512] = "";
        int16_t err = KERR_NONE;
        for (int32_t k = 0; k < req.TopicsCount; k++)
            if (k != i && req.Topics[k].Name.len == t->Name.len &&
                memcmp(req.Topics[k].Name.ptr, t->Name.ptr, (size_t)t->Name.len) == 0) {
                err = KERR_INVALID_REQUEST;
                snprintf(msg, sizeof msg, "topic '%.*s' appears more than once in the request",
                         t->Name.len, t->Name.ptr);
            }
        if (err == KERR_NONE && !broker_authorize(b, s, ACL_OP_ALTER, ACL_RES_TOPIC, t->Name)) {
            err = KERR_TOPIC_AUTHORIZATION_FAILED;
            snprintf(msg, sizeof msg, "not authorized to alter topic '%.*s'", t->Name.len,
                     t->Name.ptr);
        }
        const topic_t *tp = err == KERR_NONE ? topics_find(tr, t->Name.ptr, (size_t)t->Name.len)
                                             : NULL;
        if (err == KERR_NONE && tp && t->Count > tp->t_npartitions)
            err = check_assignments(b, t, tp->t_npartitions, msg, sizeof msg);
        if (err == KERR_NONE && tp && t->Count > tp->t_npartitions) {
            int64_t total = topics_partition_total(tr);
            int32_t more = t->Count - tp->t_npartitions;
            if (total + more > b->bk_cfg.max_broker_partitions) {
                err = KERR_POLICY_VIOLATION;
                snprintf(msg, sizeof msg,
                         "%d more partition(s) would exceed max.broker.partitions=%d (this broker "
                         "has %" PRId64 "); delete topics or raise the setting",
                         more, b->bk_cfg.max_broker_partitions, total);
            }
        }
        if (err == KERR_NONE)
            err = (int16_t)topics_add_partitions(tr, t->Name.ptr, (size_t)t->Name.len, t->Count,
                                                 req.ValidateOnly, eddy_wall_ms(), msg, sizeof msg);
        res->ErrorCode = err;
        if (err != KERR_NONE) {
            static eddy_log_limit_t lim = EDDY_LOG_LIMIT_INIT;
            EDDY_LOG_LIMITED(EDDY_LOG_LVL_INFO, "broker", &lim, 10000,
                             "CreatePartitions %.*s -> %d: %s: %s", t->Name.len, t->Name.ptr,
                             t->Count, kafka_err_name(err), msg);
            res->ErrorMessage = kstr_arena(a, msg);
        }
    }
    wire_create_partitions_resp_encode(&s->rs_resp, v, &resp);
    s->rs_state = SLOT_DONE;
    return 0;
}

/* ---- DescribeCluster ---- */

/* The cluster operations the principal may do, as Kafka's bit set. */
static int32_t cluster_operations(eddy_broker_t *b, req_slot_t *s)
{
    if (!b->bk_acl)
        return CLUSTER_ALL_OPERATIONS;
    int32_t ops = 0;
    for (int op = ACL_OP_CREATE; op <= ACL_OP_IDEMPOTENT_WRITE; op++)
        if ((CLUSTER_ALL_OPERATIONS & (1 << op)) &&
            broker_authorize_quiet(b, s, op, ACL_RES_CLUSTER, kstr_c(ACL_CLUSTER_NAME)))
            ops |= 1 << op;
    return ops;
}

int handle_describe_cluster(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    DescribeClusterRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    int rc = wire_describe_cluster_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    const topic_registry_t *tr = &b->bk_topics;
    /* One node, which is the broker and (in Kafka's terms) the controller:
     * both endpoint types describe it. */
    const broker_listener_t *l = s->rs_conn->c_listener; /* each client its own address */
    DescribeClusterBroker self = {b->bk_cfg.broker_id, kstr_c(l->bl_adv_host), l->bl_adv_port,
                                  KSTR_NULL};
    DescribeClusterResponse resp;
    memset(&resp, 0, sizeof resp);
    resp.ErrorMessage = KSTR_NULL;
    resp.EndpointType = req.EndpointType;
    resp.ClusterId = kstr_c(tr->tr_cluster_id);
    resp.ControllerId = b->bk_cfg.broker_id;
    resp.Brokers = &self;
    resp.BrokersCount = 1;
    resp.ClusterAuthorizedOperations = req.IncludeClusterAuthorizedOperations
                                           ? cluster_operations(b, s)
                                           : INT32_MIN;
    if (!broker_authorize_cluster(b, s, ACL_OP_DESCRIBE)) {
        resp = (DescribeClusterResponse){0};
        resp.ErrorCode = KERR_CLUSTER_AUTHORIZATION_FAILED;
        resp.ErrorMessage = KSTR_NULL;
        resp.EndpointType = req.EndpointType;
        resp.ClusterId = kstr_c(""); /* not nullable */
        resp.ControllerId = -1;
        resp.ClusterAuthorizedOperations = INT32_MIN;
    } else if (req.EndpointType != 1 && req.EndpointType != 2) {
        resp.ErrorCode = KERR_INVALID_REQUEST;
        resp.ErrorMessage = kstr_c("EndpointType must be 1 (brokers) or 2 (controllers)");
        resp.BrokersCount = 0;
    }
    wire_describe_cluster_resp_encode(&s->rs_resp, v, &resp);
    s->rs_state = SLOT_DONE;
    return 0;
}

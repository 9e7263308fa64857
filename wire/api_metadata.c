/* Metadata (3), v0-12 (MetadataRequest.json / MetadataResponse.json).
 *
 * Request:  Topics [TopicId uuid (v10+), Name string]
 *                                        v0: empty = all topics;
 *                                        v1+: null = all, empty = none
 *           AllowAutoTopicCreation bool  v4+ (default true)
 *           IncludeClusterAuthorizedOperations bool  v8-10 (read, unused)
 *           IncludeTopicAuthorizedOperations bool    v8+  (read, unused)
 * Response: ThrottleTimeMs int32                       v3+
 *           Brokers [NodeId int32, Host string, Port int32,
 *                    Rack nullable string (v1+)]
 *           ClusterId nullable string                  v2+
 *           ControllerId int32                         v1+
 *           Topics [ErrorCode int16, Name string, TopicId uuid (v10+),
 *                   IsInternal bool (v1+),
 *                   Partitions [ErrorCode int16, PartitionIndex int32,
 *                               LeaderId int32, LeaderEpoch int32 (v7+),
 *                               ReplicaNodes [int32],
 *                               IsrNodes [int32],
 *                               OfflineReplicas [int32] (v5+)],
 *                   TopicAuthorizedOperations int32 (v8+)]
 *           ClusterAuthorizedOperations int32          v8-10
 * v5's request is v4's; v6 only changes throttling; v9+ is flexible (compact
 * strings and arrays, tagged fields).
 *
 * Eddy has no topic ids and no leader epochs: a request names its topics
 * (a null name, a topic asked for by id only, is refused like any malformed
 * request), and the response carries the zero uuid (Kafka's "no id") and
 * leader epoch -1 (Kafka's "unknown"). Without ACLs the authorized-operations
 * fields carry Kafka's "not asked for" value, INT32_MIN.
 */
#include "api.h"

#include "common/err.h"
#include "proto_flex.h"
#include "proto_int.h"

int wire_metadata_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, MetadataRequest *r)
{
    if (!broker_api_supported(API_METADATA, v))
        return EDDY_ERR_INVALID_ARG;
    r->Topics = NULL;
    r->AllowAutoTopicCreation = 1;
    int flex = kafka_is_flexible(API_METADATA, v);
    /* Null is legal from v1 on only. */
    size_t min_elem = (v >= 10 ? 16u : 0u) + 2u;
    int32_t n = v >= 1 ? rdf_array_count(rd, flex, min_elem) : rd_array_count_nn(rd, min_elem);
    r->Topics = rd_arena_array(rd, a, n, sizeof *r->Topics);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        if (v >= 10)
            (void)rd_bytes(rd, 16); /* TopicId: topics are found by name */
        r->Topics[i] = rdf_string_nn(rd, flex);
        rdf_tags(rd, flex);
    }
    /* One meaning for "all topics" whatever the version. */
    r->TopicsCount = (n < 0 || (v == 0 && n == 0)) ? -1 : n;
    if (v >= 4)
        r->AllowAutoTopicCreation = rd_i8(rd);
    if (v >= 8 && v <= 10)
        (void)rd_i8(rd); /* IncludeClusterAuthorizedOperations */
    if (v >= 8)
        (void)rd_i8(rd); /* IncludeTopicAuthorizedOperations */
    rdf_tags(rd, flex);
    return rd->rd_err;
}

static void wr_int32_array(eddy_wr_t *wr, int flex, const int32_t *p, int32_t n)
{
    wrf_count(wr, flex, n);
    for (int32_t i = 0; i < n; i++)
        wr_i32(wr, p[i]);
}

/* Kafka's default for authorized operations nobody asked for. */
#define METADATA_NO_AUTHORIZED_OPS INT32_MIN

void wire_metadata_resp_encode(eddy_wr_t *wr, int16_t v, const MetadataResponse *r)
{
    int flex = kafka_is_flexible(API_METADATA, v);
    if (v >= 3)
        wr_i32(wr, r->ThrottleTimeMs);
    wrf_count(wr, flex, r->BrokersCount);
    for (int32_t i = 0; i < r->BrokersCount; i++) {
        const MetadataResponseBroker *b = &r->Brokers[i];
        wr_i32(wr, b->NodeId);
        wrf_string(wr, flex, b->Host);
        wr_i32(wr, b->Port);
        if (v >= 1)
            wrf_string(wr, flex, b->Rack);
        wrf_tags(wr, flex);
    }
    if (v >= 2)
        wrf_string(wr, flex, r->ClusterId);
    if (v >= 1)
        wr_i32(wr, r->ControllerId);
    wrf_count(wr, flex, r->TopicsCount);
    for (int32_t i = 0; i < r->TopicsCount; i++) {
        const MetadataResponseTopic *t = &r->Topics[i];
        wr_i16(wr, t->ErrorCode);
        wrf_string(wr, flex, t->Name);
        if (v >= 10) { /* TopicId: the zero uuid */
            wr_i64(wr, 0);
            wr_i64(wr, 0);
        }
        if (v >= 1)
            wr_i8(wr, t->IsInternal);
        wrf_count(wr, flex, t->PartitionsCount);
        for (int32_t j = 0; j < t->PartitionsCount; j++) {
            const MetadataResponsePartition *p = &t->Partitions[j];
            wr_i16(wr, p->ErrorCode);
            wr_i32(wr, p->PartitionIndex);
            wr_i32(wr, p->LeaderId);
            if (v >= 7)
                wr_i32(wr, -1); /* LeaderEpoch: unknown */
            wr_int32_array(wr, flex, p->ReplicaNodes, p->ReplicaNodesCount);
            wr_int32_array(wr, flex, p->IsrNodes, p->IsrNodesCount);
            if (v >= 5)
                wr_int32_array(wr, flex, p->OfflineReplicas, p->OfflineReplicasCount);
            wrf_tags(wr, flex);
        }
        if (v >= 8)
            wr_i32(wr, METADATA_NO_AUTHORIZED_OPS);
        wrf_tags(wr, flex);
    }
    if (v >= 8 && v <= 10)
        wr_i32(wr, METADATA_NO_AUTHORIZED_OPS);
    wrf_tags(wr, flex);
}

/* Metadata (3), v0-5 (MetadataRequest.json / MetadataResponse.json).
 *
 * Request:  Topics [Name string]         v0: empty = all topics;
 *                                        v1+: null = all, empty = none
 *           AllowAutoTopicCreation bool  v4+ (default true)
 * Response: ThrottleTimeMs int32                       v3+
 *           Brokers [NodeId int32, Host string, Port int32,
 *                    Rack nullable string (v1+)]
 *           ClusterId nullable string                  v2+
 *           ControllerId int32                         v1+
 *           Topics [ErrorCode int16, Name string, IsInternal bool (v1+),
 *                   Partitions [ErrorCode int16, PartitionIndex int32,
 *                               LeaderId int32, ReplicaNodes [int32],
 *                               IsrNodes [int32],
 *                               OfflineReplicas [int32] (v5+)]]
 * v5's request is v4's.
 */
#include "api.h"

#include "common/err.h"
#include "proto_int.h"

int wire_metadata_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, MetadataRequest *r)
{
    if (!broker_api_supported(API_METADATA, v))
        return EDDY_ERR_INVALID_ARG;
    r->Topics = NULL;
    r->AllowAutoTopicCreation = 1;
    /* Null is legal from v1 on only. */
    int32_t n = v >= 1 ? rd_array_count(rd, 2) : rd_array_count_nn(rd, 2);
    r->Topics = rd_arena_array(rd, a, n, sizeof *r->Topics);
    for (int32_t i = 0; i < n && !rd->rd_err; i++)
        r->Topics[i] = rd_string_nn(rd);
    /* One meaning for "all topics" whatever the version. */
    r->TopicsCount = (n < 0 || (v == 0 && n == 0)) ? -1 : n;
    if (v >= 4)
        r->AllowAutoTopicCreation = rd_i8(rd);
    return rd->rd_err;
}

static void wr_int32_array(eddy_wr_t *wr, const int32_t *p, int32_t n)
{
    wr_i32(wr, n);
    for (int32_t i = 0; i < n; i++)
        wr_i32(wr, p[i]);
}

void wire_metadata_resp_encode(eddy_wr_t *wr, int16_t v, const MetadataResponse *r)
{
    if (v >= 3)
        wr_i32(wr, r->ThrottleTimeMs);
    wr_i32(wr, r->BrokersCount);
    for (int32_t i = 0; i < r->BrokersCount; i++) {
        const MetadataResponseBroker *b = &r->Brokers[i];
        wr_i32(wr, b->NodeId);
        wr_string(wr, b->Host);
        wr_i32(wr, b->Port);
        if (v >= 1)
            wr_string(wr, b->Rack);
    }
    if (v >= 2)
        wr_string(wr, r->ClusterId);
    if (v >= 1)
        wr_i32(wr, r->ControllerId);
    wr_i32(wr, r->TopicsCount);
    for (int32_t i = 0; i < r->TopicsCount; i++) {
        const MetadataResponseTopic *t = &r->Topics[i];
        wr_i16(wr, t->ErrorCode);
        wr_string(wr, t->Name);
        if (v >= 1)
            wr_i8(wr, t->IsInternal);
        wr_i32(wr, t->PartitionsCount);
        for (int32_t j = 0; j < t->PartitionsCount; j++) {
            const MetadataResponsePartition *p = &t->Partitions[j];
            wr_i16(wr, p->ErrorCode);
            wr_i32(wr, p->PartitionIndex);
            wr_i32(wr, p->LeaderId);
            wr_int32_array(wr, p->ReplicaNodes, p->ReplicaNodesCount);
            wr_int32_array(wr, p->IsrNodes, p->IsrNodesCount);
            if (v >= 5)
                wr_int32_array(wr, p->OfflineReplicas, p->OfflineReplicasCount);
        }
    }
}

/* CreatePartitions (37) v0-3 and DescribeCluster (60) v0-1. Layouts from
 * the apache/kafka JSON specs:
 *
 * CreatePartitionsRequest:  Topics [Name string, Count int32,
 *                                   Assignments nullable [BrokerIds [int32]]],
 *                           TimeoutMs int32, ValidateOnly bool
 * CreatePartitionsResponse: ThrottleTimeMs int32,
 *                           Results [Name string, ErrorCode int16,
 *                                    ErrorMessage nullable string]
 *                           (v2+ flexible)
 * DescribeClusterRequest:   IncludeClusterAuthorizedOperations bool,
 *                           EndpointType int8 (v1+)
 * DescribeClusterResponse:  ThrottleTimeMs int32, ErrorCode int16,
 *                           ErrorMessage nullable string, EndpointType int8 (v1+),
 *                           ClusterId string, ControllerId int32,
 *                           Brokers [BrokerId int32, Host string, Port int32,
 *                                    Rack nullable string],
 *                           ClusterAuthorizedOperations int32
 *                           (flexible at every version)
 */
#include "api_cluster.h"

#include "api.h"
#include "common/err.h"
#include "proto_flex.h"
#include "proto_int.h"

int wire_create_partitions_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                      CreatePartitionsRequest *r)
{
    if (!broker_api_supported(API_CREATE_PARTITIONS, v))
        return EDDY_ERR_INVALID_ARG;
    int flex = kafka_is_flexible(API_CREATE_PARTITIONS, v);
    /* Smallest topic: a name, Count, a null Assignments. */
    int32_t n = rdf_array_count_nn(rd, flex, 1 + 4 + 1);
    r->Topics = rd_arena_array(rd, a, n, sizeof *r->Topics);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        CreatePartitionsTopic *t = &r->Topics[i];
        t->Name = rdf_string_nn(rd, flex);
        t->Count = rd_i32(rd);
        int32_t na = rdf_array_count(rd, flex, 1);
        t->Assignments = rd_arena_array(rd, a, na > 0 ? na : 0, sizeof *t->Assignments);
        for (int32_t j = 0; j < na && !rd->rd_err; j++) {
            CreatePartitionsAssignment *as = &t->Assignments[j];
            int32_t nb = rdf_array_count_nn(rd, flex, 4);
            as->BrokerIds = rd_arena_array(rd, a, nb, sizeof *as->BrokerIds);
            for (int32_t k = 0; k < nb && !rd->rd_err; k++)
                as->BrokerIds[k] = rd_i32(rd);
            as->BrokerIdsCount = rd->rd_err ? 0 : nb;
            rdf_tags(rd, flex);
        }
        t->AssignmentsCount = rd->rd_err ? 0 : na;
        rdf_tags(rd, flex);
    }
    r->TopicsCount = rd->rd_err ? 0 : n;
    r->TimeoutMs = rd_i32(rd);
    r->ValidateOnly = rd_i8(rd);
    rdf_tags(rd, flex);
    return rd->rd_err;
}

void wire_create_partitions_resp_encode(eddy_wr_t *wr, int16_t v, const CreatePartitionsResponse *r)
{
    int flex = kafka_is_flexible(API_CREATE_PARTITIONS, v);
    wr_i32(wr, r->ThrottleTimeMs);
    wrf_count(wr, flex, r->ResultsCount);
    for (int32_t i = 0; i < r->ResultsCount; i++) {
        const CreatePartitionsTopicResult *t = &r->Results[i];
        wrf_string(wr, flex, t->Name);
        wr_i16(wr, t->ErrorCode);
        wrf_string(wr, flex, t->ErrorMessage);
        wrf_tags(wr, flex);
    }
    wrf_tags(wr, flex);
}

int wire_describe_cluster_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                     DescribeClusterRequest *r)
{
    (void)a;
    if (!broker_api_supported(API_DESCRIBE_CLUSTER, v))
        return EDDY_ERR_INVALID_ARG;
    r->IncludeClusterAuthorizedOperations = rd_i8(rd);
    r->EndpointType = v >= 1 ? rd_i8(rd) : 1;
    rd_skip_tags(rd);
    return rd->rd_err;
}

void wire_describe_cluster_resp_encode(eddy_wr_t *wr, int16_t v, const DescribeClusterResponse *r)
{
    wr_i32(wr, r->ThrottleTimeMs);
    wr_i16(wr, r->ErrorCode);
    wr_compact_string(wr, r->ErrorMessage);
    if (v >= 1)
        wr_i8(wr, r->EndpointType);
    wr_compact_string(wr, r->ClusterId);
    wr_i32(wr, r->ControllerId);
    wrf_count(wr, 1, r->BrokersCount);
    for (int32_t i = 0; i < r->BrokersCount; i++) {
        const DescribeClusterBroker *b = &r->Brokers[i];
        wr_i32(wr, b->BrokerId);
        wr_compact_string(wr, b->Host);
        wr_i32(wr, b->Port);
        wr_compact_string(wr, b->Rack);
        wr_empty_tags(wr);
    }
    wr_i32(wr, r->ClusterAuthorizedOperations);
    wr_empty_tags(wr);
}

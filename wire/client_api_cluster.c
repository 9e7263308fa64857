/* The client side of CreatePartitions and DescribeCluster (layouts in
 * api_cluster.c). */
#include "api_cluster.h"

#include "client_api_int.h"
#include "proto_flex.h"

void wire_create_partitions_req_encode(eddy_wr_t *wr, int16_t v, const CreatePartitionsRequest *r)
{
    if (!cw_version(wr, API_CREATE_PARTITIONS, v))
        return;
    int flex = kafka_is_flexible(API_CREATE_PARTITIONS, v);
    cw_require(wr, r->TopicsCount >= 0 && (r->TopicsCount == 0 || r->Topics));
    int32_t n = wr->wr_err ? 0 : r->TopicsCount;
    wrf_count(wr, flex, n);
    for (int32_t i = 0; i < n && !wr->wr_err; i++) {
        const CreatePartitionsTopic *t = &r->Topics[i];
        cw_require(wr, t->Name.len >= 0 && t->AssignmentsCount >= -1 &&
                           (t->AssignmentsCount <= 0 || t->Assignments));
        wrf_string(wr, flex, t->Name);
        wr_i32(wr, t->Count);
        wrf_count(wr, flex, t->AssignmentsCount);
        for (int32_t j = 0; j < t->AssignmentsCount && !wr->wr_err; j++) {
            const CreatePartitionsAssignment *as = &t->Assignments[j];
            cw_require(wr, as->BrokerIdsCount >= 0 && (as->BrokerIdsCount == 0 || as->BrokerIds));
            int32_t nb = wr->wr_err ? 0 : as->BrokerIdsCount;
            wrf_count(wr, flex, nb);
            for (int32_t k = 0; k < nb; k++)
                wr_i32(wr, as->BrokerIds[k]);
            wrf_tags(wr, flex);
        }
        wrf_tags(wr, flex);
    }
    wr_i32(wr, r->TimeoutMs);
    wr_i8(wr, r->ValidateOnly);
    wrf_tags(wr, flex);
}

int wire_create_partitions_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                       CreatePartitionsResponse *r)
{
    int rc = cr_version(API_CREATE_PARTITIONS, v);
    if (rc)
        return rc;
    int flex = kafka_is_flexible(API_CREATE_PARTITIONS, v);
    r->ThrottleTimeMs = rd_i32(rd);
    int32_t n = rdf_array_count_nn(rd, flex, 1 + 2 + 1);
    r->Results = rd_arena_array(rd, a, n, sizeof *r->Results);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        CreatePartitionsTopicResult *t = &r->Results[i];
        t->Name = rdf_string_nn(rd, flex);
        t->ErrorCode = rd_i16(rd);
        t->ErrorMessage = rdf_string(rd, flex);
        rdf_tags(rd, flex);
    }
    rdf_tags(rd, flex);
    r->ResultsCount = rd->rd_err ? 0 : n;
    return rd->rd_err;
}

void wire_describe_cluster_req_encode(eddy_wr_t *wr, int16_t v, const DescribeClusterRequest *r)
{
    if (!cw_version(wr, API_DESCRIBE_CLUSTER, v))
        return;
    wr_i8(wr, r->IncludeClusterAuthorizedOperations);
    /* EndpointType is not ignorable: below v1 only brokers can be asked for. */
    cw_require(wr, v >= 1 || r->EndpointType == 1);
    if (v >= 1)
        wr_i8(wr, r->EndpointType);
    wr_empty_tags(wr);
}

int wire_describe_cluster_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                      DescribeClusterResponse *r)
{
    int rc = cr_version(API_DESCRIBE_CLUSTER, v);
    if (rc)
        return rc;
    r->ThrottleTimeMs = rd_i32(rd);
    r->ErrorCode = rd_i16(rd);
    r->ErrorMessage = rd_compact_string(rd);
    r->EndpointType = v >= 1 ? rd_i8(rd) : 1;
    r->ClusterId = rd_compact_string_nn(rd);
    r->ControllerId = rd_i32(rd);
    int32_t n = rdf_array_count_nn(rd, 1, 4 + 1 + 4 + 1 + 1);
    r->Brokers = rd_arena_array(rd, a, n, sizeof *r->Brokers);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        DescribeClusterBroker *b = &r->Brokers[i];
        b->BrokerId = rd_i32(rd);
        b->Host = rd_compact_string_nn(rd);
        b->Port = rd_i32(rd);
        b->Rack = rd_compact_string(rd);
        rd_skip_tags(rd);
    }
    r->BrokersCount = rd->rd_err ? 0 : n;
    r->ClusterAuthorizedOperations = rd_i32(rd);
    rd_skip_tags(rd);
    return rd->rd_err;
}

/* Cluster-level admin APIs: CreatePartitions and DescribeCluster. Same
 * rules as api.h (arrays from the request arena, strings borrowed, fields
 * by version). */
#ifndef EDDY_WIRE_API_CLUSTER_H
#define EDDY_WIRE_API_CLUSTER_H

#include <stdint.h>

#include "proto.h"

/* ---- CreatePartitions (37), v0-3; v2+ flexible ---- */
typedef struct CreatePartitionsAssignment {
    int32_t *BrokerIds;
    int32_t BrokerIdsCount;
} CreatePartitionsAssignment;
typedef struct CreatePartitionsTopic {
    kstr_t Name;
    int32_t Count; /* the new total */
    CreatePartitionsAssignment *Assignments; /* one per new partition */
    int32_t AssignmentsCount;                /* -1: null (the broker places them) */
} CreatePartitionsTopic;
typedef struct CreatePartitionsRequest {
    CreatePartitionsTopic *Topics;
    int32_t TopicsCount;
    int32_t TimeoutMs;
    int8_t ValidateOnly;
} CreatePartitionsRequest;
typedef struct CreatePartitionsTopicResult {
    kstr_t Name;
    int16_t ErrorCode;
    kstr_t ErrorMessage; /* nullable */
} CreatePartitionsTopicResult;
typedef struct CreatePartitionsResponse {
    int32_t ThrottleTimeMs;
    CreatePartitionsTopicResult *Results;
    int32_t ResultsCount;
} CreatePartitionsResponse;
int wire_create_partitions_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                      CreatePartitionsRequest *r);
void wire_create_partitions_resp_encode(eddy_wr_t *wr, int16_t v,
                                        const CreatePartitionsResponse *r);

/* ---- DescribeCluster (60), v0-1; every version flexible ---- */
typedef struct DescribeClusterRequest {
    int8_t IncludeClusterAuthorizedOperations;
    int8_t EndpointType; /* v1+, default 1 (brokers); 2: controllers */
} DescribeClusterRequest;
typedef struct DescribeClusterBroker {
    int32_t BrokerId;
    kstr_t Host;
    int32_t Port;
    kstr_t Rack; /* nullable */
} DescribeClusterBroker;
typedef struct DescribeClusterResponse {
    int32_t ThrottleTimeMs;
    int16_t ErrorCode;
    kstr_t ErrorMessage; /* nullable */
    int8_t EndpointType; /* v1+ */
    kstr_t ClusterId;
    int32_t ControllerId;
    DescribeClusterBroker *Brokers;
    int32_t BrokersCount;
    int32_t ClusterAuthorizedOperations; /* INT32_MIN: not asked for */
} DescribeClusterResponse;
int wire_describe_cluster_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                     DescribeClusterRequest *r);
void wire_describe_cluster_resp_encode(eddy_wr_t *wr, int16_t v, const DescribeClusterResponse *r);

/* The client side (client_api_cluster.c): the versions are the broker's
 * own ranges, as for every client codec. */
void wire_create_partitions_req_encode(eddy_wr_t *wr, int16_t v, const CreatePartitionsRequest *r);
int wire_create_partitions_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                       CreatePartitionsResponse *r);
void wire_describe_cluster_req_encode(eddy_wr_t *wr, int16_t v, const DescribeClusterRequest *r);
int wire_describe_cluster_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                      DescribeClusterResponse *r);

#endif

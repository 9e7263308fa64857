/* The admin APIs: CreateTopics (19) v0-4, DeleteTopics (20) v0-1,
 * DeleteRecords (21) v0-1. None of these
 * versions is flexible. Layouts from the apache/kafka JSON specs:
 *
 * CreateTopicsRequest:  Topics [Name string, NumPartitions int32,
 *                               ReplicationFactor int16,
 *                               Assignments [PartitionIndex int32, BrokerIds [int32]],
 *                               Configs [Name string, Value nullable string]]
 *                       TimeoutMs int32, ValidateOnly bool (v1+)
 * CreateTopicsResponse: ThrottleTimeMs int32 (v2+),
 *                       Topics [Name string, ErrorCode int16,
 *                               ErrorMessage nullable string (v1+)]
 * DeleteTopicsRequest:  TopicNames [string], TimeoutMs int32
 * DeleteTopicsResponse: ThrottleTimeMs int32 (v1+), Responses [Name string, ErrorCode int16]
 * DeleteRecordsRequest: Topics [Name string, Partitions [PartitionIndex int32, Offset int64]],
 *                       TimeoutMs int32
 * DeleteRecordsResponse: ThrottleTimeMs int32,
 *                       Topics [Name string, Partitions [PartitionIndex int32,
 *                                                        LowWatermark int64, ErrorCode int16]]
 * (DescribeConfigs and the two AlterConfigs are in api_configs.c.)
 */
#include "api.h"

#include "common/err.h"
#include "proto_int.h"

/* ---- CreateTopics ------------------------------------------------------ */

int wire_create_topics_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, CreateTopicsRequest *r)
{
    if (!broker_api_supported(API_CREATE_TOPICS, v))
        return EDDY_ERR_INVALID_ARG;
    /* Smallest topic: name, NumPartitions, ReplicationFactor, two counts. */
    int32_t n = rd_array_count_nn(rd, 2 + 4 + 2 + 4 + 4);
    r->Topics = rd_arena_array(rd, a, n, sizeof *r->Topics);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        CreatableTopic *t = &r->Topics[i];
        t->Name = rd_string_nn(rd);
        t->NumPartitions = rd_i32(rd);
        t->ReplicationFactor = rd_i16(rd);
        int32_t na = rd_array_count_nn(rd, 4 + 4);
        t->Assignments = rd_arena_array(rd, a, na, sizeof *t->Assignments);
        for (int32_t j = 0; j < na && !rd->rd_err; j++) {
            CreatableReplicaAssignment *as = &t->Assignments[j];
            as->PartitionIndex = rd_i32(rd);
            int32_t nb = rd_array_count_nn(rd, 4);
            as->BrokerIds = rd_arena_array(rd, a, nb, sizeof *as->BrokerIds);
            for (int32_t k = 0; k < nb && !rd->rd_err; k++)
                as->BrokerIds[k] = rd_i32(rd);
            as->BrokerIdsCount = nb;
        }
        t->AssignmentsCount = na;
        int32_t nc = rd_array_count_nn(rd, 2 + 2);
        t->Configs = rd_arena_array(rd, a, nc, sizeof *t->Configs);
        for (int32_t j = 0; j < nc && !rd->rd_err; j++) {
            t->Configs[j].Name = rd_string_nn(rd);
            t->Configs[j].Value = rd_string(rd);
        }
        t->ConfigsCount = nc;
    }
    r->TopicsCount = n;
    r->TimeoutMs = rd_i32(rd);
    r->ValidateOnly = v >= 1 ? rd_i8(rd) : 0;
    return rd->rd_err;
}

void wire_create_topics_resp_encode(eddy_wr_t *wr, int16_t v, const CreateTopicsResponse *r)
{
    if (v >= 2)
        wr_i32(wr, r->ThrottleTimeMs);
    wr_i32(wr, r->TopicsCount);
    for (int32_t i = 0; i < r->TopicsCount; i++) {
        const CreatableTopicResult *t = &r->Topics[i];
        wr_string(wr, t->Name);
        wr_i16(wr, t->ErrorCode);
        if (v >= 1)
            wr_string(wr, t->ErrorMessage);
    }
}

/* ---- DeleteTopics ------------------------------------------------------ */

int wire_delete_topics_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, DeleteTopicsRequest *r)
{
    if (!broker_api_supported(API_DELETE_TOPICS, v))
        return EDDY_ERR_INVALID_ARG;
    int32_t n = rd_array_count_nn(rd, 2);
    r->TopicNames = rd_arena_array(rd, a, n, sizeof *r->TopicNames);
    for (int32_t i = 0; i < n && !rd->rd_err; i++)
        r->TopicNames[i] = rd_string_nn(rd);
    r->TopicNamesCount = n;
    r->TimeoutMs = rd_i32(rd);
    return rd->rd_err;
}

void wire_delete_topics_resp_encode(eddy_wr_t *wr, int16_t v, const DeleteTopicsResponse *r)
{
    if (v >= 1)
        wr_i32(wr, r->ThrottleTimeMs);
    wr_i32(wr, r->ResponsesCount);
    for (int32_t i = 0; i < r->ResponsesCount; i++) {
        wr_string(wr, r->Responses[i].Name);
        wr_i16(wr, r->Responses[i].ErrorCode);
    }
}

/* ---- DeleteRecords ----------------------------------------------------- */

int wire_delete_records_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                   DeleteRecordsRequest *r)
{
    if (!broker_api_supported(API_DELETE_RECORDS, v))
        return EDDY_ERR_INVALID_ARG;
    int32_t n = rd_array_count_nn(rd, 2 + 4);
    r->Topics = rd_arena_array(rd, a, n, sizeof *r->Topics);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        DeleteRecordsTopic *t = &r->Topics[i];
        t->Name = rd_string_nn(rd);
        int32_t np = rd_array_count_nn(rd, 4 + 8);
        t->Partitions = rd_arena_array(rd, a, np, sizeof *t->Partitions);
        for (int32_t j = 0; j < np && !rd->rd_err; j++) {
            t->Partitions[j].PartitionIndex = rd_i32(rd);
            t->Partitions[j].Offset = rd_i64(rd);
        }
        t->PartitionsCount = np;
    }
    r->TopicsCount = n;
    r->TimeoutMs = rd_i32(rd);
    return rd->rd_err;
}

void wire_delete_records_resp_encode(eddy_wr_t *wr, int16_t v, const DeleteRecordsResponse *r)
{
    (void)v; /* v0 and v1 share one layout */
    wr_i32(wr, r->ThrottleTimeMs);
    wr_i32(wr, r->TopicsCount);
    for (int32_t i = 0; i < r->TopicsCount; i++) {
        const DeleteRecordsTopicResult *t = &r->Topics[i];
        wr_string(wr, t->Name);
        wr_i32(wr, t->PartitionsCount);
        for (int32_t j = 0; j < t->PartitionsCount; j++) {
            wr_i32(wr, t->Partitions[j].PartitionIndex);
            wr_i64(wr, t->Partitions[j].LowWatermark);
            wr_i16(wr, t->Partitions[j].ErrorCode);
        }
    }
}

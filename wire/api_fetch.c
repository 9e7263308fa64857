/* Fetch (1), v4-11 (FetchRequest.json / FetchResponse.json).
 *
 * Request:  ReplicaId int32, MaxWaitMs int32, MinBytes int32,
 *           MaxBytes int32 (v3+), IsolationLevel int8 (v4+),
 *           SessionId int32 (v7+), SessionEpoch int32 (v7+),
 *           Topics [Topic string,
 *                   Partitions [Partition int32, CurrentLeaderEpoch int32 (v9+),
 *                               FetchOffset int64, LogStartOffset int64 (v5+),
 *                               PartitionMaxBytes int32]]
 *           ForgottenTopicsData [Topic string, Partitions [int32]] (v7+)
 *           RackId string (v11+)
 * Response: ThrottleTimeMs int32 (v1+), ErrorCode int16 (v7+), SessionId int32 (v7+),
 *           Responses [Topic string,
 *                      Partitions [PartitionIndex int32, ErrorCode int16,
 *                                  HighWatermark int64, LastStableOffset int64 (v4+),
 *                                  LogStartOffset int64 (v5+),
 *                                  AbortedTransactions [ProducerId int64,
 *                                                       FirstOffset int64] (v4+),
 *                                  PreferredReadReplica int32 (v11+),
 *                                  Records nullable bytes]]
 */
#include "api.h"

#include "common/err.h"
#include "proto_int.h"

int wire_fetch_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, FetchRequest *r)
{
    if (!broker_api_supported(API_FETCH, v))
        return EDDY_ERR_INVALID_ARG;
    r->ReplicaId = rd_i32(rd);
    r->MaxWaitMs = rd_i32(rd);
    r->MinBytes = rd_i32(rd);
    r->MaxBytes = v >= 3 ? rd_i32(rd) : INT32_MAX;
    r->IsolationLevel = v >= 4 ? rd_i8(rd) : 0;
    r->SessionId = 0;
    r->SessionEpoch = -1;
    if (v >= 7) {
        r->SessionId = rd_i32(rd);
        r->SessionEpoch = rd_i32(rd);
    }
    size_t part_min = 4 + 8 + 4 + (v >= 9 ? 4u : 0u) + (v >= 5 ? 8u : 0u);
    int32_t n = rd_array_count_nn(rd, 2 + 4);
    r->Topics = rd_arena_array(rd, a, n, sizeof *r->Topics);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        FetchRequestTopic *t = &r->Topics[i];
        t->Topic = rd_string_nn(rd);
        int32_t np = rd_array_count_nn(rd, part_min);
        t->Partitions = rd_arena_array(rd, a, np, sizeof *t->Partitions);
        for (int32_t j = 0; j < np && !rd->rd_err; j++) {
            FetchRequestPartition *p = &t->Partitions[j];
            p->Partition = rd_i32(rd);
            p->CurrentLeaderEpoch = v >= 9 ? rd_i32(rd) : -1;
            p->FetchOffset = rd_i64(rd);
            p->LogStartOffset = v >= 5 ? rd_i64(rd) : -1;
            p->PartitionMaxBytes = rd_i32(rd);
        }
        t->PartitionsCount = np;
    }
    r->TopicsCount = n;
    if (v >= 7) {
        /* Eddy keeps no fetch sessions, so there is nothing to forget; the
         * field is still walked so that the frame must be well formed. */
        int32_t nf = rd_array_count_nn(rd, 2 + 4);
        for (int32_t i = 0; i < nf && !rd->rd_err; i++) {
            (void)rd_string_nn(rd);
            int32_t np = rd_array_count_nn(rd, 4);
            rd_skip(rd, (size_t)np * 4);
        }
    }
    r->RackId = v >= 11 ? rd_string_nn(rd) : (kstr_t){"", 0};
    return rd->rd_err;
}

void wire_fetch_resp_begin(eddy_wr_t *wr, int16_t v, int32_t ThrottleTimeMs, int16_t ErrorCode,
                           int32_t SessionId, int32_t ResponsesCount)
{
    if (v >= 1)
        wr_i32(wr, ThrottleTimeMs);
    if (v >= 7) {
        wr_i16(wr, ErrorCode);
        wr_i32(wr, SessionId);
    }
    wr_i32(wr, ResponsesCount);
}

void wire_fetch_resp_topic(eddy_wr_t *wr, int16_t v, kstr_t Topic, int32_t PartitionsCount)
{
    (void)v;
    wr_string(wr, Topic);
    wr_i32(wr, PartitionsCount);
}

void wire_fetch_resp_partition(eddy_wr_t *wr, int16_t v, int32_t PartitionIndex, int16_t ErrorCode,
                               int64_t HighWatermark, int64_t LastStableOffset,
                               int64_t LogStartOffset)
{
    wire_fetch_resp_partition_aborted(wr, v, PartitionIndex, ErrorCode, HighWatermark,
                                      LastStableOffset, LogStartOffset, NULL, 0);
}

void wire_fetch_resp_partition_aborted(eddy_wr_t *wr, int16_t v, int32_t PartitionIndex,
                                       int16_t ErrorCode, int64_t HighWatermark,
                                       int64_t LastStableOffset, int64_t LogStartOffset,
                                       const int64_t *Aborted, int32_t AbortedCount)
{
    wr_i32(wr, PartitionIndex);
    wr_i16(wr, ErrorCode);
    wr_i64(wr, HighWatermark);
    if (v >= 4) {
        wr_i64(wr, LastStableOffset);
        if (v >= 5)
            wr_i64(wr, LogStartOffset);
        /* AbortedTransactions: an empty (not null) array when there are
         * none, which every client accepts; read_uncommitted gets it too. */
        wr_i32(wr, AbortedCount);
        for (int32_t i = 0; i < AbortedCount; i++) {
            wr_i64(wr, Aborted[2 * i]);     /* ProducerId */
            wr_i64(wr, Aborted[2 * i + 1]); /* FirstOffset */
        }
    }
    if (v >= 11)
        wr_i32(wr, -1); /* PreferredReadReplica: none, read from the leader */
}

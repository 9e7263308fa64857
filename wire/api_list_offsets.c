/* ListOffsets (2), v0-8 (ListOffsetsRequest.json / ListOffsetsResponse.json).
 *
 * Request:  ReplicaId int32, IsolationLevel int8 (v2+),
 *           Topics [Name string,
 *                   Partitions [PartitionIndex int32, CurrentLeaderEpoch int32 (v4+),
 *                               Timestamp int64, MaxNumOffsets int32 (v0 only)]]
 * Response: ThrottleTimeMs int32 (v2+),
 *           Topics [Name string,
 *                   Partitions [PartitionIndex int32, ErrorCode int16,
 *                               v0:  OldStyleOffsets [int64]
 *                               v1+: Timestamp int64, Offset int64,
 *                               LeaderEpoch int32 (v4+)]]
 * v3 and v5 change nothing on the wire; v6+ is flexible (compact strings and
 * arrays, tagged fields after each struct); v7 allows Timestamp -3 (the
 * record with the largest timestamp, KIP-734), v8 -4 (the local log start,
 * KIP-405). v9 (-5, the last tiered offset) and v10 (TimeoutMs) are not
 * spoken.
 */
#include "api.h"

#include "common/err.h"
#include "proto_flex.h"

int wire_list_offsets_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, ListOffsetsRequest *r)
{
    if (!broker_api_supported(API_LIST_OFFSETS, v))
        return EDDY_ERR_INVALID_ARG;
    int flex = kafka_is_flexible(API_LIST_OFFSETS, v);
    r->ReplicaId = rd_i32(rd);
    r->IsolationLevel = v >= 2 ? rd_i8(rd) : 0;
    size_t part_min = 4 + 8 + (v == 0 ? 4u : 0u) + (v >= 4 ? 4u : 0u) + (flex ? 1u : 0u);
    int32_t n = rdf_array_count_nn(rd, flex, flex ? 1 + 1 + 1 : 2 + 4);
    r->Topics = rd_arena_array(rd, a, n, sizeof *r->Topics);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        ListOffsetsRequestTopic *t = &r->Topics[i];
        t->Name = rdf_string_nn(rd, flex);
        int32_t np = rdf_array_count_nn(rd, flex, part_min);
        t->Partitions = rd_arena_array(rd, a, np, sizeof *t->Partitions);
        for (int32_t j = 0; j < np && !rd->rd_err; j++) {
            ListOffsetsRequestPartition *p = &t->Partitions[j];
            p->PartitionIndex = rd_i32(rd);
            p->CurrentLeaderEpoch = v >= 4 ? rd_i32(rd) : -1;
            p->Timestamp = rd_i64(rd);
            p->MaxNumOffsets = v == 0 ? rd_i32(rd) : 1;
            rdf_tags(rd, flex);
        }
        t->PartitionsCount = np;
        rdf_tags(rd, flex);
    }
    r->TopicsCount = n;
    rdf_tags(rd, flex);
    return rd->rd_err;
}

void wire_list_offsets_resp_encode(eddy_wr_t *wr, int16_t v, const ListOffsetsResponse *r)
{
    int flex = kafka_is_flexible(API_LIST_OFFSETS, v);
    if (v >= 2)
        wr_i32(wr, r->ThrottleTimeMs);
    wrf_count(wr, flex, r->TopicsCount);
    for (int32_t i = 0; i < r->TopicsCount; i++) {
        const ListOffsetsResponseTopic *t = &r->Topics[i];
        wrf_string(wr, flex, t->Name);
        wrf_count(wr, flex, t->PartitionsCount);
        for (int32_t j = 0; j < t->PartitionsCount; j++) {
            const ListOffsetsResponsePartition *p = &t->Partitions[j];
            wr_i32(wr, p->PartitionIndex);
            wr_i16(wr, p->ErrorCode);
            if (v == 0) {
                /* v0 answers with a list of offsets; "no offset" is the
                 * empty list, never [-1]. */
                if (p->Offset == -1) {
                    wr_i32(wr, 0);
                } else {
                    wr_i32(wr, 1);
                    wr_i64(wr, p->Offset);
                }
            } else {
                wr_i64(wr, p->Timestamp);
                wr_i64(wr, p->Offset);
                if (v >= 4)
                    wr_i32(wr, p->LeaderEpoch);
            }
            wrf_tags(wr, flex);
        }
        wrf_tags(wr, flex);
    }
    wrf_tags(wr, flex);
}

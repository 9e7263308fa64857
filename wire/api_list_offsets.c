/* ListOffsets (2), v0-2 (ListOffsetsRequest.json / ListOffsetsResponse.json).
 *
 * Request:  ReplicaId int32, IsolationLevel int8 (v2+),
 *           Topics [Name string,
 *                   Partitions [PartitionIndex int32, Timestamp int64,
 *                               MaxNumOffsets int32 (v0 only)]]
 * Response: ThrottleTimeMs int32 (v2+),
 *           Topics [Name string,
 *                   Partitions [PartitionIndex int32, ErrorCode int16,
 *                               v0:  OldStyleOffsets [int64]
 *                               v1+: Timestamp int64, Offset int64]]
 */
#include "api.h"

#include "common/err.h"
#include "proto_int.h"

int wire_list_offsets_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, ListOffsetsRequest *r)
{
    if (!broker_api_supported(API_LIST_OFFSETS, v))
        return EDDY_ERR_INVALID_ARG;
    r->ReplicaId = rd_i32(rd);
    r->IsolationLevel = v >= 2 ? rd_i8(rd) : 0;
    size_t part_min = 4 + 8 + (v == 0 ? 4u : 0u);
    int32_t n = rd_array_count_nn(rd, 2 + 4);
    r->Topics = rd_arena_array(rd, a, n, sizeof *r->Topics);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        ListOffsetsRequestTopic *t = &r->Topics[i];
        t->Name = rd_string_nn(rd);
        int32_t np = rd_array_count_nn(rd, part_min);
        t->Partitions = rd_arena_array(rd, a, np, sizeof *t->Partitions);
        for (int32_t j = 0; j < np && !rd->rd_err; j++) {
            ListOffsetsRequestPartition *p = &t->Partitions[j];
            p->PartitionIndex = rd_i32(rd);
            p->Timestamp = rd_i64(rd);
            p->MaxNumOffsets = v == 0 ? rd_i32(rd) : 1;
        }
        t->PartitionsCount = np;
    }
    r->TopicsCount = n;
    return rd->rd_err;
}

void wire_list_offsets_resp_encode(eddy_wr_t *wr, int16_t v, const ListOffsetsResponse *r)
{
    if (v >= 2)
        wr_i32(wr, r->ThrottleTimeMs);
    wr_i32(wr, r->TopicsCount);
    for (int32_t i = 0; i < r->TopicsCount; i++) {
        const ListOffsetsResponseTopic *t = &r->Topics[i];
        wr_string(wr, t->Name);
        wr_i32(wr, t->PartitionsCount);
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
            }
        }
    }
}

/* Produce (0), v3-7 (ProduceRequest.json / ProduceResponse.json).
 *
 * Request:  TransactionalId nullable string, Acks int16, TimeoutMs int32,
 *           Topics [Name string, Partitions [PartitionIndex int32,
 *                                            Records nullable bytes]]
 *           (v3-7 share one layout)
 * Response: Responses [Name string,
 *                      Partitions [PartitionIndex int32, ErrorCode int16,
 *                                  BaseOffset int64,
 *                                  LogAppendTimeMs int64 (v2+),
 *                                  LogStartOffset int64 (v5+)]]
 *           ThrottleTimeMs int32 (v1+), last
 */
#include "api.h"

#include "common/err.h"
#include "proto_int.h"

int wire_produce_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, ProduceRequest *r)
{
    if (!broker_api_supported(API_PRODUCE, v))
        return EDDY_ERR_INVALID_ARG;
    r->TransactionalId = rd_string(rd);
    r->Acks = rd_i16(rd);
    r->TimeoutMs = rd_i32(rd);
    /* A topic is at least a string length and an array count; a partition
     * an index and a bytes length. */
    int32_t n = rd_array_count_nn(rd, 2 + 4);
    r->TopicData = rd_arena_array(rd, a, n, sizeof *r->TopicData);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        ProduceRequestTopic *t = &r->TopicData[i];
        t->Name = rd_string_nn(rd);
        int32_t np = rd_array_count_nn(rd, 4 + 4);
        t->PartitionData = rd_arena_array(rd, a, np, sizeof *t->PartitionData);
        for (int32_t j = 0; j < np && !rd->rd_err; j++) {
            t->PartitionData[j].Index = rd_i32(rd);
            t->PartitionData[j].Records = rd_kbytes(rd);
        }
        t->PartitionDataCount = np;
    }
    r->TopicDataCount = n;
    return rd->rd_err;
}

void wire_produce_resp_encode(eddy_wr_t *wr, int16_t v, const ProduceResponse *r)
{
    wr_i32(wr, r->ResponsesCount);
    for (int32_t i = 0; i < r->ResponsesCount; i++) {
        const ProduceResponseTopic *t = &r->Responses[i];
        wr_string(wr, t->Name);
        wr_i32(wr, t->PartitionResponsesCount);
        for (int32_t j = 0; j < t->PartitionResponsesCount; j++) {
            const ProduceResponsePartition *p = &t->PartitionResponses[j];
            wr_i32(wr, p->Index);
            wr_i16(wr, p->ErrorCode);
            wr_i64(wr, p->BaseOffset);
            if (v >= 2)
                wr_i64(wr, p->LogAppendTimeMs);
            if (v >= 5)
                wr_i64(wr, p->LogStartOffset);
        }
    }
    if (v >= 1)
        wr_i32(wr, r->ThrottleTimeMs);
}

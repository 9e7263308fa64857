/* InitProducerId (22): a producer id and epoch for an idempotent producer.
 *
 * InitProducerIdRequest  v0-1: TransactionalId nullable-string, TransactionTimeoutMs int32
 *                        v2:   the same, flexible (compact string, tags)
 *                        v3-5: v2 + ProducerId int64, ProducerEpoch int16
 *                              (v4 and v5 only allow new error codes)
 * InitProducerIdResponse v0-1: ThrottleTimeMs int32, ErrorCode int16,
 *                              ProducerId int64, ProducerEpoch int16
 *                        v2-5: the same, flexible (tags)
 * v6 (two-phase commit, KIP-939) is unstable in Kafka 4.1 and not spoken.
 */
#include "api.h"

#include "common/err.h"
#include "proto_int.h"

int wire_init_producer_id_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                     InitProducerIdRequest *r)
{
    (void)a;
    if (!broker_api_supported(API_INIT_PRODUCER_ID, v))
        return EDDY_ERR_INVALID_ARG;
    int flexible = kafka_is_flexible(API_INIT_PRODUCER_ID, v);
    r->TransactionalId = flexible ? rd_compact_string(rd) : rd_string(rd);
    r->TransactionTimeoutMs = rd_i32(rd);
    r->ProducerId = -1;
    r->ProducerEpoch = -1;
    if (v >= 3) {
        r->ProducerId = rd_i64(rd);
        r->ProducerEpoch = rd_i16(rd);
    }
    if (flexible)
        rd_skip_tags(rd);
    return rd->rd_err;
}

void wire_init_producer_id_resp_encode(eddy_wr_t *wr, int16_t v, const InitProducerIdResponse *r)
{
    wr_i32(wr, r->ThrottleTimeMs);
    wr_i16(wr, r->ErrorCode);
    wr_i64(wr, r->ProducerId);
    wr_i16(wr, r->ProducerEpoch);
    if (kafka_is_flexible(API_INIT_PRODUCER_ID, v))
        wr_empty_tags(wr);
}

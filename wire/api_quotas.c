/* DescribeClientQuotas (48) v0-1, from the apache/kafka JSON spec:
 *
 * Request:  Components [EntityType string, MatchType int8, Match nullable string],
 *           Strict bool                                          (v1+ flexible)
 * Response: ThrottleTimeMs int32, ErrorCode int16, ErrorMessage nullable string,
 *           Entries nullable [Entity [EntityType string, EntityName nullable string],
 *                             Values [Key string, Value float64]]
 */
#include "api_quotas.h"

#include "api.h"
#include "common/err.h"
#include "proto_flex.h"
#include "proto_int.h"

int wire_describe_client_quotas_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                           DescribeClientQuotasRequest *r)
{
    if (!broker_api_supported(API_DESCRIBE_CLIENT_QUOTAS, v))
        return EDDY_ERR_INVALID_ARG;
    int flex = kafka_is_flexible(API_DESCRIBE_CLIENT_QUOTAS, v);
    int32_t n = rdf_array_count_nn(rd, flex, 1 + 1 + 1);
    r->Components = rd_arena_array(rd, a, n, sizeof *r->Components);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        r->Components[i].EntityType = rdf_string_nn(rd, flex);
        r->Components[i].MatchType = rd_i8(rd);
        r->Components[i].Match = rdf_string(rd, flex);
        rdf_tags(rd, flex);
    }
    r->ComponentsCount = rd->rd_err ? 0 : n;
    r->Strict = rd_i8(rd);
    rdf_tags(rd, flex);
    return rd->rd_err;
}

void wire_describe_client_quotas_resp_encode(eddy_wr_t *wr, int16_t v,
                                             const DescribeClientQuotasResponse *r)
{
    int flex = kafka_is_flexible(API_DESCRIBE_CLIENT_QUOTAS, v);
    wr_i32(wr, r->ThrottleTimeMs);
    wr_i16(wr, r->ErrorCode);
    wrf_string(wr, flex, r->ErrorMessage);
    wrf_count(wr, flex, r->EntriesCount);
    wrf_tags(wr, flex);
}

/* DescribeClientQuotas (48), v0-1 (v1+ flexible), broker side. Eddy has no
 * client quotas, so it answers every filter with no entries; Kafka's
 * kafka-configs asks it beside DescribeUserScramCredentials when it
 * describes users. Same rules as api.h. */
#ifndef EDDY_WIRE_API_QUOTAS_H
#define EDDY_WIRE_API_QUOTAS_H

#include <stdint.h>

#include "proto.h"

typedef struct DescribeClientQuotasComponent {
    kstr_t EntityType;
    int8_t MatchType; /* 0 exact name, 1 default name, 2 any specified name */
    kstr_t Match;     /* nullable */
} DescribeClientQuotasComponent;
typedef struct DescribeClientQuotasRequest {
    DescribeClientQuotasComponent *Components;
    int32_t ComponentsCount;
    int8_t Strict;
} DescribeClientQuotasRequest;
typedef struct DescribeClientQuotasResponse {
    int32_t ThrottleTimeMs;
    int16_t ErrorCode;
    kstr_t ErrorMessage; /* nullable */
    int32_t EntriesCount; /* Eddy has no quotas: always 0 entries (-1: null) */
} DescribeClientQuotasResponse;
int wire_describe_client_quotas_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                           DescribeClientQuotasRequest *r);
void wire_describe_client_quotas_resp_encode(eddy_wr_t *wr, int16_t v,
                                             const DescribeClientQuotasResponse *r);

#endif

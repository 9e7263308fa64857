/* The versions Eddy advertises, and the ApiVersions (18) codec.
 *
 * ApiVersionsRequest  v0-2: (empty)
 *                     v3-4: ClientSoftwareName compact-string,
 *                           ClientSoftwareVersion compact-string, tags
 * ApiVersionsResponse v0:   ErrorCode int16, ApiKeys [ApiKey, MinVersion, MaxVersion int16]
 *                     v1-2: v0 + ThrottleTimeMs int32
 *                     v3-4: ErrorCode, ApiKeys compact-array (each entry + tags),
 *                           ThrottleTimeMs, tags
 * The response header is v0 at every version (see wire_response_header_encode).
 */
#include "api.h"

#include "common/err.h"
#include "proto_int.h"

/* PROTOCOL.md, for the APIs the broker serves today, by key. Clients pick
 * min(their max, our max): every range here contains the version the
 * clients in PROTOCOL.md need (Produce 3, Fetch 4, Metadata 1). */
const api_version_range_t broker_api_versions[] = {
    {API_PRODUCE, 3, 7},
    {API_FETCH, 4, 11},
    {API_LIST_OFFSETS, 0, 8},
    {API_METADATA, 0, 12},
    {API_API_VERSIONS, 0, 4},
    {API_CREATE_TOPICS, 0, 4},
    {API_DELETE_TOPICS, 0, 1},
    {API_DELETE_RECORDS, 0, 1},
    {API_DESCRIBE_CONFIGS, 0, 4},
    {API_ALTER_CONFIGS, 0, 2},
    {API_INCREMENTAL_ALTER_CONFIGS, 0, 1},
    {API_FIND_COORDINATOR, 0, 2},
    {API_JOIN_GROUP, 0, 5},
    {API_SYNC_GROUP, 0, 3},
    {API_HEARTBEAT, 0, 3},
    {API_LEAVE_GROUP, 0, 1},
    {API_OFFSET_COMMIT, 0, 7},
    {API_OFFSET_FETCH, 0, 7},
    {API_DESCRIBE_GROUPS, 0, 5},
    {API_LIST_GROUPS, 0, 5},
    {API_DELETE_GROUPS, 0, 1},
    {API_CREATE_PARTITIONS, 0, 3},
    {API_OFFSET_DELETE, 0, 0},
    {API_DESCRIBE_CLUSTER, 0, 1},
    {API_INIT_PRODUCER_ID, 0, 5},
    {API_DESCRIBE_ACLS, 1, 3},
    {API_CREATE_ACLS, 1, 3},
    {API_DELETE_ACLS, 1, 3},
    {API_SASL_HANDSHAKE, 0, 1},
    {API_SASL_AUTHENTICATE, 0, 2},
    {API_DESCRIBE_USER_SCRAM_CREDENTIALS, 0, 0},
    {API_ALTER_USER_SCRAM_CREDENTIALS, 0, 0},
    {API_DESCRIBE_CLIENT_QUOTAS, 0, 1},
    {API_ADD_PARTITIONS_TO_TXN, 0, 3},
    {API_ADD_OFFSETS_TO_TXN, 0, 3},
    {API_END_TXN, 0, 4},
    {API_DESCRIBE_TRANSACTIONS, 0, 0},
    {API_LIST_TRANSACTIONS, 0, 1},
    {API_TXN_OFFSET_COMMIT, 0, 4},
    {API_WRITE_TXN_MARKERS, 0, 2},
};
const int broker_api_versions_count = (int)(sizeof broker_api_versions /
                                            sizeof broker_api_versions[0]);

int broker_api_supported(int api_key, int version)
{
    for (int i = 0; i < broker_api_versions_count; i++)
        if (broker_api_versions[i].api_key == api_key)
            return version >= broker_api_versions[i].min && version <= broker_api_versions[i].max;
    return 0;
}

int wire_api_versions_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, ApiVersionsRequest *r)
{
    (void)a;
    if (!broker_api_supported(API_API_VERSIONS, v))
        return EDDY_ERR_INVALID_ARG;
    r->ClientSoftwareName = KSTR_NULL;
    r->ClientSoftwareVersion = KSTR_NULL;
    if (v >= 3) {
        r->ClientSoftwareName = rd_compact_string_nn(rd);
        r->ClientSoftwareVersion = rd_compact_string_nn(rd);
        rd_skip_tags(rd);
    }
    return rd->rd_err;
}

void wire_api_versions_resp_encode(eddy_wr_t *wr, int16_t v, const ApiVersionsResponse *r)
{
    int flexible = kafka_is_flexible(API_API_VERSIONS, v);
    wr_i16(wr, r->ErrorCode);
    if (flexible)
        wr_uvarint(wr, (uint32_t)r->ApiKeysCount + 1);
    else
        wr_i32(wr, r->ApiKeysCount);
    for (int32_t i = 0; i < r->ApiKeysCount; i++) {
        wr_i16(wr, r->ApiKeys[i].api_key);
        wr_i16(wr, r->ApiKeys[i].min);
        wr_i16(wr, r->ApiKeys[i].max);
        if (flexible)
            wr_empty_tags(wr);
    }
    if (v >= 1)
        wr_i32(wr, r->ThrottleTimeMs);
    if (flexible)
        wr_empty_tags(wr);
}

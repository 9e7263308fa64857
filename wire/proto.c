/* Kafka framing: API names, wire error names, request/response headers and
 * the string, bytes, array and tagged-field primitives every API codec uses.
 *
 * Header layouts (RequestHeader.json / ResponseHeader.json):
 *
 *   request v1:  api_key int16, api_version int16, correlation_id int32,
 *                client_id int16-string (nullable)
 *   request v2:  v1 + tagged fields        (flexible API versions; client_id
 *                                            stays a legacy int16 string)
 *   response v0: correlation_id int32
 *   response v1: v0 + tagged fields        (flexible API versions, except
 *                                            ApiVersions, always v0)
 */
#include "proto.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "proto_int.h"

/* Every API key up to API_KEY_MAX, so logs name even the ones Eddy
 * refuses. */
static const char *const api_names[API_KEY_MAX + 1] = {
    [0] = "Produce",
    [1] = "Fetch",
    [2] = "ListOffsets",
    [3] = "Metadata",
    [4] = "LeaderAndIsr",
    [5] = "StopReplica",
    [6] = "UpdateMetadata",
    [7] = "ControlledShutdown",
    [8] = "OffsetCommit",
    [9] = "OffsetFetch",
    [10] = "FindCoordinator",
    [11] = "JoinGroup",
    [12] = "Heartbeat",
    [13] = "LeaveGroup",
    [14] = "SyncGroup",
    [15] = "DescribeGroups",
    [16] = "ListGroups",
    [17] = "SaslHandshake",
    [18] = "ApiVersions",
    [19] = "CreateTopics",
    [20] = "DeleteTopics",
    [21] = "DeleteRecords",
    [22] = "InitProducerId",
    [23] = "OffsetForLeaderEpoch",
    [24] = "AddPartitionsToTxn",
    [25] = "AddOffsetsToTxn",
    [26] = "EndTxn",
    [27] = "WriteTxnMarkers",
    [28] = "TxnOffsetCommit",
    [29] = "DescribeAcls",
    [30] = "CreateAcls",
    [31] = "DeleteAcls",
    [32] = "DescribeConfigs",
    [33] = "AlterConfigs",
    [34] = "AlterReplicaLogDirs",
    [35] = "DescribeLogDirs",
    [36] = "SaslAuthenticate",
    [37] = "CreatePartitions",
    [38] = "CreateDelegationToken",
    [39] = "RenewDelegationToken",
    [40] = "ExpireDelegationToken",
    [41] = "DescribeDelegationToken",
    [42] = "DeleteGroups",
    [43] = "ElectLeaders",
    [44] = "IncrementalAlterConfigs",
    [45] = "AlterPartitionReassignments",
    [46] = "ListPartitionReassignments",
    [47] = "OffsetDelete",
    [48] = "DescribeClientQuotas",
    [49] = "AlterClientQuotas",
    [50] = "DescribeUserScramCredentials",
    [51] = "AlterUserScramCredentials",
    [52] = "Vote",
    [53] = "BeginQuorumEpoch",
    [54] = "EndQuorumEpoch",
    [55] = "DescribeQuorum",
    [56] = "AlterPartition",
    [57] = "UpdateFeatures",
    [58] = "Envelope",
    [59] = "FetchSnapshot",
    [60] = "DescribeCluster",
    [61] = "DescribeProducers",
    [62] = "BrokerRegistration",
    [63] = "BrokerHeartbeat",
    [64] = "UnregisterBroker",
    [65] = "DescribeTransactions",
    [66] = "ListTransactions",
    [67] = "AllocateProducerIds",
    [68] = "ConsumerGroupHeartbeat",
};

const char *kafka_api_name(int api_key)
{
    if (api_key < 0 || api_key > API_KEY_MAX || !api_names[api_key])
        return "Unknown";
    return api_names[api_key];
}

const char *kafka_err_name(int code)
{
    switch (code) {
#define KAFKA_ERR_CASE(name, c)                                                                    \
    case c: return #name;
        KAFKA_ERR_TABLE(KAFKA_ERR_CASE)
#undef KAFKA_ERR_CASE
    }
    return "UNKNOWN";
}

kstr_t kstr_c(const char *s)
{
    if (!s)
        return KSTR_NULL;
    return (kstr_t){s, (int32_t)strlen(s)};
}

char *kstr_dup(kstr_t s)
{
    if (s.len < 0)
        return NULL;
    char *d = malloc((size_t)s.len + 1);
    if (d) {
        if (s.len > 0)
            memcpy(d, s.ptr, (size_t)s.len);
        d[s.len] = 0;
    }
    return d;
}

char *kstr_arena_dup(eddy_arena_t *a, kstr_t s)
{
    return s.len < 0 ? NULL : arena_strndup(a, s.ptr, (size_t)s.len);
}

kstr_t kstr_arena(eddy_arena_t *a, const char *s)
{
    size_t n = strlen(s);
    char *d = arena_strndup(a, s, n);
    return d ? (kstr_t){d, (int32_t)n} : KSTR_NULL;
}

int kstr_eq(kstr_t a, const char *s)
{
    if (a.len < 0 || !s)
        return a.len < 0 && !s;
    size_t n = strlen(s);
    return (size_t)a.len == n && (n == 0 || memcmp(a.ptr, s, n) == 0);
}

/* The first flexible version of each API (its JSON's "flexibleVersions"),
 * or -1 for none known. A flexible request carries header v2, compact
 * strings and arrays, and tagged fields. */
static int first_flexible(int api_key)
{
    switch (api_key) {
    case API_PRODUCE: return 9;
    case API_FETCH: return 12;
    case API_LIST_OFFSETS: return 6;
    case API_METADATA: return 9;
    case API_OFFSET_COMMIT: return 8;
    case API_OFFSET_FETCH: return 6;
    case API_FIND_COORDINATOR: return 3;
    case API_JOIN_GROUP: return 6;
    case API_HEARTBEAT: return 4;
    case API_LEAVE_GROUP: return 4;
    case API_SYNC_GROUP: return 4;
    case API_DESCRIBE_GROUPS: return 5;
    case API_LIST_GROUPS: return 3;
    case API_API_VERSIONS: return 3;
    case API_CREATE_TOPICS: return 5;
    case API_DELETE_TOPICS: return 4;
    case API_DELETE_RECORDS: return 2;
    case API_INIT_PRODUCER_ID: return 2;
    case API_ADD_PARTITIONS_TO_TXN:
    case API_ADD_OFFSETS_TO_TXN:
    case API_END_TXN: return 3;
    case API_DESCRIBE_TRANSACTIONS:
    case API_LIST_TRANSACTIONS: return 0;
    case API_TXN_OFFSET_COMMIT: return 3;
    case API_WRITE_TXN_MARKERS: return 1;
    case API_DESCRIBE_ACLS:
    case API_CREATE_ACLS:
    case API_DELETE_ACLS: return 2;
    case API_DESCRIBE_CONFIGS: return 4;
    case API_ALTER_CONFIGS: return 2;
    case API_INCREMENTAL_ALTER_CONFIGS: return 1;
    case API_DELETE_GROUPS: return 2;
    case API_CREATE_PARTITIONS: return 2;
    case API_DESCRIBE_CLUSTER: return 0;
    case API_SASL_AUTHENTICATE: return 2;
    case API_DESCRIBE_USER_SCRAM_CREDENTIALS: return 0;
    case API_ALTER_USER_SCRAM_CREDENTIALS: return 0;
    case API_DESCRIBE_CLIENT_QUOTAS: return 1;
    default: return -1;
    }
}

int kafka_is_flexible(int api_key, int version)
{
    int first = first_flexible(api_key);
    return first >= 0 && version >= first;
}

int wire_request_header_decode(eddy_rd_t *rd, RequestHeader *h)
{
    h->RequestApiKey = rd_i16(rd);
    h->RequestApiVersion = rd_i16(rd);
    h->CorrelationId = rd_i32(rd);
    h->ClientId = rd_string(rd);
    h->header_version = 1;
    if (!rd->rd_err && kafka_is_flexible(h->RequestApiKey, h->RequestApiVersion)) {
        h->header_version = 2;
        rd_skip_tags(rd);
    }
    return rd->rd_err;
}

void wire_response_header_encode(eddy_wr_t *wr, const RequestHeader *req)
{
    wr_i32(wr, req->CorrelationId);
    /* ApiVersions answers with header v0 at every version, so that a client
     * can parse the reply before it knows what the broker speaks. */
    if (req->RequestApiKey != API_API_VERSIONS &&
        kafka_is_flexible(req->RequestApiKey, req->RequestApiVersion))
        wr_empty_tags(wr);
}

/* ---- readers ---------------------------------------------------------- */

/* len bytes as a view; len has been checked to be >= 0. */
static kstr_t rd_view(eddy_rd_t *rd, size_t len)
{
    const uint8_t *p = rd_bytes(rd, len);
    if (!p)
        return KSTR_NULL;
    return (kstr_t){(const char *)p, (int32_t)len};
}

kstr_t rd_string(eddy_rd_t *rd)
{
    int16_t len = rd_i16(rd);
    if (rd->rd_err || len == -1)
        return KSTR_NULL;
    if (len < -1) {
        rd_fail(rd, EDDY_ERR_INVALID_ARG);
        return KSTR_NULL;
    }
    return rd_view(rd, (size_t)len);
}

kstr_t rd_compact_string(eddy_rd_t *rd)
{
    uint32_t n = rd_uvarint(rd);
    if (rd->rd_err || n == 0)
        return KSTR_NULL;
    if (n - 1 > INT32_MAX) {
        rd_fail(rd, EDDY_ERR_TRUNCATED);
        return KSTR_NULL;
    }
    return rd_view(rd, (size_t)(n - 1));
}

kstr_t rd_kbytes(eddy_rd_t *rd)
{
    int32_t len = rd_i32(rd);
    if (rd->rd_err || len == -1)
        return KSTR_NULL;
    if (len < -1) {
        rd_fail(rd, EDDY_ERR_INVALID_ARG);
        return KSTR_NULL;
    }
    return rd_view(rd, (size_t)len);
}

/* A count of elements of at least min_elem bytes each must fit in what is
 * left; checked by division so that no product can overflow. */
static int32_t check_count(eddy_rd_t *rd, uint64_t n, size_t min_elem)
{
    if (n > INT32_MAX || (min_elem && n > rd_remaining(rd) / min_elem)) {
        rd_fail(rd, EDDY_ERR_TRUNCATED);
        return 0;
    }
    return (int32_t)n;
}

int32_t rd_array_count(eddy_rd_t *rd, size_t min_elem)
{
    int32_t n = rd_i32(rd);
    if (rd->rd_err)
        return 0;
    if (n == -1)
        return -1;
    if (n < -1) {
        rd_fail(rd, EDDY_ERR_INVALID_ARG);
        return 0;
    }
    return check_count(rd, (uint64_t)n, min_elem);
}

int32_t rd_compact_array_count(eddy_rd_t *rd, size_t min_elem)
{
    uint32_t n = rd_uvarint(rd);
    if (rd->rd_err)
        return 0;
    if (n == 0)
        return -1;
    return check_count(rd, (uint64_t)n - 1, min_elem);
}

void rd_skip_tags(eddy_rd_t *rd)
{
    /* Each tagged field takes at least two bytes (tag, size), which bounds
     * the loop by the input. No tag is known to Eddy at the versions it
     * speaks, so all are skipped. */
    int32_t n = check_count(rd, rd_uvarint(rd), 2);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        (void)rd_uvarint(rd); /* tag */
        uint32_t size = rd_uvarint(rd);
        rd_skip(rd, size);
    }
}

/* ---- writers ---------------------------------------------------------- */

/* A value the wire format cannot carry (a legacy string over 32767 bytes)
 * fails the writer rather than corrupting the frame. */
static void wr_fail(eddy_wr_t *wr, int err)
{
    if (!wr->wr_err)
        wr->wr_err = err;
}

/* Only len < 0 is null: a zeroed kstr_t ({NULL, 0}) is the empty string. A
 * positive length without bytes is a caller bug; it fails the writer. */
static int wr_check(eddy_wr_t *wr, kstr_t s)
{
    if (s.len > 0 && !s.ptr) {
        wr_fail(wr, EDDY_ERR_INVALID_ARG);
        return -1;
    }
    return 0;
}

void wr_string(eddy_wr_t *wr, kstr_t s)
{
    if (s.len < 0) {
        wr_i16(wr, -1);
        return;
    }
    if (s.len > INT16_MAX) {
        wr_fail(wr, EDDY_ERR_TOO_LARGE);
        return;
    }
    if (wr_check(wr, s))
        return;
    wr_i16(wr, (int16_t)s.len);
    wr_bytes(wr, s.ptr, (size_t)s.len);
}

void wr_cstring(eddy_wr_t *wr, const char *s)
{
    wr_string(wr, kstr_c(s));
}

void wr_compact_string(eddy_wr_t *wr, kstr_t s)
{
    if (s.len < 0) {
        wr_uvarint(wr, 0);
        return;
    }
    if (wr_check(wr, s))
        return;
    wr_uvarint(wr, (uint32_t)s.len + 1);
    wr_bytes(wr, s.ptr, (size_t)s.len);
}

void wr_kbytes(eddy_wr_t *wr, kstr_t b)
{
    if (b.len < 0) {
        wr_i32(wr, -1);
        return;
    }
    if (wr_check(wr, b))
        return;
    wr_i32(wr, b.len);
    wr_bytes(wr, b.ptr, (size_t)b.len);
}

void wr_empty_tags(eddy_wr_t *wr)
{
    wr_uvarint(wr, 0);
}

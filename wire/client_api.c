/* The client side of the framing and of ApiVersions, Metadata, Produce,
 * Fetch and ListOffsets: request encoders and response decoders, the mirror
 * image of proto.c and api_*.c (the layouts are in those files' headers).
 * The admin APIs are in client_api_admin.c, the group APIs and the
 * ConsumerProtocol subscription in client_api_group.c.
 *
 * A decoder that fails leaves every array count it set at 0, so that a
 * caller who ignores the error still never walks a missing array.
 */
#include "client_api.h"

#include "client_api_int.h"
#include "proto_flex.h"

/* ---- headers and versions ------------------------------------------------ */

void wire_request_header_encode(eddy_wr_t *wr, const RequestHeader *h)
{
    wr_i16(wr, h->RequestApiKey);
    wr_i16(wr, h->RequestApiVersion);
    wr_i32(wr, h->CorrelationId);
    wr_string(wr, h->ClientId); /* legacy string even in header v2 */
    if (kafka_is_flexible(h->RequestApiKey, h->RequestApiVersion))
        wr_empty_tags(wr);
}

int wire_response_header_decode(eddy_rd_t *rd, int api_key, int version, int32_t *correlation_id)
{
    *correlation_id = rd_i32(rd);
    if (api_key != API_API_VERSIONS && kafka_is_flexible(api_key, version))
        rd_skip_tags(rd);
    return rd->rd_err;
}

/* APIs the client speaks at versions of its own, whatever the broker of
 * this build serves: the producer asks any broker for a producer id. */
static const api_version_range_t client_own_versions[] = {
    {API_INIT_PRODUCER_ID, 0, 5},
    /* a client authenticates to any Kafka since 1.0 (client_api_sasl.c) */
    {API_SASL_HANDSHAKE, 1, 1},
    {API_SASL_AUTHENTICATE, 0, 2},
    /* the transactional producer (client/txn_wire.c), up to the last
     * versions before transactions v2 (KIP-890 part 2: EndTxn v5,
     * TxnOffsetCommit v5); v4 of EndTxn and TxnOffsetCommit only allows
     * TRANSACTION_ABORTABLE, which the client takes as abortable. The
     * ranges are those Eddy's broker serves: AddPartitionsToTxn v4+ is for
     * brokers only, AddOffsetsToTxn v4 is not served. */
    {API_ADD_PARTITIONS_TO_TXN, 0, 3},
    {API_ADD_OFFSETS_TO_TXN, 0, 3},
    {API_END_TXN, 0, 4},
    {API_TXN_OFFSET_COMMIT, 0, 4},
};

static const api_version_range_t *client_range(int api_key)
{
    for (size_t i = 0; i < sizeof client_own_versions / sizeof client_own_versions[0]; i++)
        if (client_own_versions[i].api_key == api_key)
            return &client_own_versions[i];
    for (int i = 0; i < broker_api_versions_count; i++)
        if (broker_api_versions[i].api_key == api_key)
            return &broker_api_versions[i];
    return NULL;
}

int wire_pick_version(int api_key, int broker_min, int broker_max)
{
    const api_version_range_t *c = client_range(api_key);
    if (!c)
        return -1;
    int lo = broker_min > c->min ? broker_min : c->min;
    int hi = broker_max < c->max ? broker_max : c->max;
    return broker_min <= broker_max && lo <= hi ? hi : -1;
}

/* ---- ApiVersions ---------------------------------------------------------- */

void wire_api_versions_req_encode(eddy_wr_t *wr, int16_t v, const ApiVersionsRequest *r)
{
    if (!cw_version(wr, API_API_VERSIONS, v))
        return;
    if (v >= 3) {
        /* Ignorable below v3: dropped there. */
        if (r->ClientSoftwareName.len < 0 || r->ClientSoftwareVersion.len < 0) {
            cw_fail(wr, EDDY_ERR_INVALID_ARG);
            return;
        }
        wr_compact_string(wr, r->ClientSoftwareName);
        wr_compact_string(wr, r->ClientSoftwareVersion);
        wr_empty_tags(wr);
    }
}

static int api_versions_body(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, ApiVersionsResponse *r)
{
    int flexible = kafka_is_flexible(API_API_VERSIONS, v);
    size_t entry = 6 + (flexible ? 1u : 0u);
    r->ErrorCode = rd_i16(rd);
    int32_t n = flexible ? rd_compact_array_count(rd, entry) : rd_array_count(rd, entry);
    if (!rd->rd_err && n < 0)
        rd_fail(rd, EDDY_ERR_INVALID_ARG); /* not nullable */
    api_version_range_t *keys = rd_arena_array(rd, a, n, sizeof *keys);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        keys[i].api_key = rd_i16(rd);
        keys[i].min = rd_i16(rd);
        keys[i].max = rd_i16(rd);
        if (flexible)
            rd_skip_tags(rd);
    }
    r->ApiKeys = keys;
    r->ThrottleTimeMs = v >= 1 ? rd_i32(rd) : 0;
    if (flexible)
        rd_skip_tags(rd); /* SupportedFeatures, FinalizedFeatures, ... */
    r->ApiKeysCount = rd->rd_err ? 0 : n;
    return rd->rd_err;
}

int wire_api_versions_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, ApiVersionsResponse *r)
{
    int rc = cr_version(API_API_VERSIONS, v);
    if (rc)
        return rc;
    if (v > 0 && rd_remaining(rd) >= 2 &&
        (int16_t)be16_load(rd->rd_p + rd->rd_pos) == KERR_UNSUPPORTED_VERSION) {
        /* The broker did not speak v: its answer is a v0 body, all of it. */
        eddy_rd_t v0 = *rd;
        if (api_versions_body(&v0, 0, a, r) == 0 && rd_remaining(&v0) == 0) {
            *rd = v0;
            return 0;
        }
    }
    return api_versions_body(rd, v, a, r);
}

/* A non-nullable [int32], legacy or compact, into the arena; returns the
 * count (0 on error). */
static int32_t rdf_int32_array(eddy_rd_t *rd, int flex, eddy_arena_t *a, int32_t **out)
{
    int32_t n = rdf_array_count_nn(rd, flex, 4);
    int32_t *p = rd_arena_array(rd, a, n, sizeof *p);
    for (int32_t i = 0; i < n && !rd->rd_err; i++)
        p[i] = rd_i32(rd);
    *out = p;
    return rd->rd_err ? 0 : n;
}

/* ---- Metadata ------------------------------------------------------------- */

void wire_metadata_req_encode(eddy_wr_t *wr, int16_t v, const MetadataRequest *r)
{
    if (!cw_version(wr, API_METADATA, v))
        return;
    int flex = kafka_is_flexible(API_METADATA, v);
    /* AllowAutoTopicCreation is not ignorable: below v4 the broker always
     * may create, so "don't" cannot be said. */
    cw_require(wr, v >= 4 || r->AllowAutoTopicCreation);
    if (v == 0) {
        /* v0: the empty array is "all"; "none" cannot be said. */
        cw_require(wr, r->TopicsCount != 0);
        if (r->TopicsCount < 0) {
            cw_require(wr, r->TopicsCount == -1);
            wr_i32(wr, 0);
        } else {
            cw_string_array(wr, r->Topics, r->TopicsCount, 0);
        }
    } else if (!flex) {
        cw_string_array(wr, r->Topics, r->TopicsCount, 1);
    } else {
        int32_t n = r->TopicsCount;
        if (n < -1 || (n > 0 && !r->Topics)) {
            cw_fail(wr, EDDY_ERR_INVALID_ARG);
            return;
        }
        wrf_count(wr, flex, n);
        for (int32_t i = 0; i < n; i++) {
            cw_require(wr, r->Topics[i].len >= 0);
            if (v >= 10) { /* TopicId: the zero uuid, the topic is named */
                wr_i64(wr, 0);
                wr_i64(wr, 0);
            }
            wrf_string(wr, flex, r->Topics[i]);
            wrf_tags(wr, flex);
        }
    }
    if (v >= 4)
        wr_i8(wr, r->AllowAutoTopicCreation);
    if (v >= 8 && v <= 10)
        wr_i8(wr, 0); /* IncludeClusterAuthorizedOperations */
    if (v >= 8)
        wr_i8(wr, 0); /* IncludeTopicAuthorizedOperations */
    wrf_tags(wr, flex);
}

int wire_metadata_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, MetadataResponse *r)
{
    int rc = cr_version(API_METADATA, v);
    if (rc)
        return rc;
    int flex = kafka_is_flexible(API_METADATA, v);
    r->ThrottleTimeMs = v >= 3 ? rd_i32(rd) : 0;
    int32_t nb = rdf_array_count_nn(rd, flex, 4 + 2 + 4 + (v >= 1 ? 2u : 0u));
    r->Brokers = rd_arena_array(rd, a, nb, sizeof *r->Brokers);
    for (int32_t i = 0; i < nb && !rd->rd_err; i++) {
        MetadataResponseBroker *b = &r->Brokers[i];
        b->NodeId = rd_i32(rd);
        b->Host = rdf_string_nn(rd, flex);
        b->Port = rd_i32(rd);
        b->Rack = v >= 1 ? rdf_string(rd, flex) : KSTR_NULL;
        rdf_tags(rd, flex);
    }
    r->BrokersCount = rd->rd_err ? 0 : nb;
    r->ClusterId = v >= 2 ? rdf_string(rd, flex) : KSTR_NULL;
    r->ControllerId = v >= 1 ? rd_i32(rd) : -1;
    int32_t nt = rdf_array_count_nn(rd, flex, 2 + 2 + (v >= 1 ? 1u : 0u) + 4);
    r->Topics = rd_arena_array(rd, a, nt, sizeof *r->Topics);
    for (int32_t i = 0; i < nt && !rd->rd_err; i++) {
        MetadataResponseTopic *t = &r->Topics[i];
        t->ErrorCode = rd_i16(rd);
        /* Nullable from v12 on (a topic known by id only): Eddy's client
         * asks by name, so a null name is a malformed answer. */
        t->Name = rdf_string_nn(rd, flex);
        if (v >= 10)
            (void)rd_bytes(rd, 16); /* TopicId */
        t->IsInternal = v >= 1 ? rd_i8(rd) : 0;
        int32_t np = rdf_array_count_nn(rd, flex, 2 + 4 + 4 + 4 + 4);
        t->Partitions = rd_arena_array(rd, a, np, sizeof *t->Partitions);
        for (int32_t j = 0; j < np && !rd->rd_err; j++) {
            MetadataResponsePartition *p = &t->Partitions[j];
            int32_t *nodes;
            p->ErrorCode = rd_i16(rd);
            p->PartitionIndex = rd_i32(rd);
            p->LeaderId = rd_i32(rd);
            if (v >= 7)
                (void)rd_i32(rd); /* LeaderEpoch */
            p->ReplicaNodesCount = rdf_int32_array(rd, flex, a, &nodes);
            p->ReplicaNodes = nodes;
            p->IsrNodesCount = rdf_int32_array(rd, flex, a, &nodes);
            p->IsrNodes = nodes;
            p->OfflineReplicasCount = v >= 5 ? rdf_int32_array(rd, flex, a, &nodes) : 0;
            p->OfflineReplicas = v >= 5 ? nodes : NULL;
            rdf_tags(rd, flex);
        }
        t->PartitionsCount = rd->rd_err ? 0 : np;
        if (v >= 8)
            (void)rd_i32(rd); /* TopicAuthorizedOperations */
        rdf_tags(rd, flex);
    }
    r->TopicsCount = rd->rd_err ? 0 : nt;
    if (v >= 8 && v <= 10)
        (void)rd_i32(rd); /* ClusterAuthorizedOperations */
    rdf_tags(rd, flex);
    return rd->rd_err;
}

/* ---- Produce -------------------------------------------------------------- */

void wire_produce_req_encode(eddy_wr_t *wr, int16_t v, const ProduceRequest *r)
{
    if (!cw_version(wr, API_PRODUCE, v))
        return;
    wr_string(wr, r->TransactionalId); /* nullable */
    wr_i16(wr, r->Acks);
    wr_i32(wr, r->TimeoutMs);
    int32_t n = cw_count(wr, r->TopicDataCount, r->TopicData, 0);
    for (int32_t i = 0; i < n; i++) {
        const ProduceRequestTopic *t = &r->TopicData[i];
        cw_string_nn(wr, t->Name);
        int32_t np = cw_count(wr, t->PartitionDataCount, t->PartitionData, 0);
        for (int32_t j = 0; j < np; j++) {
            wr_i32(wr, t->PartitionData[j].Index);
            wr_kbytes(wr, t->PartitionData[j].Records); /* nullable */
        }
    }
}

int wire_produce_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, ProduceResponse *r)
{
    int rc = cr_version(API_PRODUCE, v);
    if (rc)
        return rc;
    size_t part_min = 4 + 2 + 8 + (v >= 2 ? 8u : 0u) + (v >= 5 ? 8u : 0u);
    int32_t n = rd_array_count_nn(rd, 2 + 4);
    r->Responses = rd_arena_array(rd, a, n, sizeof *r->Responses);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        ProduceResponseTopic *t = &r->Responses[i];
        t->Name = rd_string_nn(rd);
        int32_t np = rd_array_count_nn(rd, part_min);
        t->PartitionResponses = rd_arena_array(rd, a, np, sizeof *t->PartitionResponses);
        for (int32_t j = 0; j < np && !rd->rd_err; j++) {
            ProduceResponsePartition *p = &t->PartitionResponses[j];
            p->Index = rd_i32(rd);
            p->ErrorCode = rd_i16(rd);
            p->BaseOffset = rd_i64(rd);
            p->LogAppendTimeMs = v >= 2 ? rd_i64(rd) : -1;
            p->LogStartOffset = v >= 5 ? rd_i64(rd) : -1;
        }
        t->PartitionResponsesCount = rd->rd_err ? 0 : np;
    }
    r->ThrottleTimeMs = v >= 1 ? rd_i32(rd) : 0;
    r->ResponsesCount = rd->rd_err ? 0 : n;
    return rd->rd_err;
}

/* ---- Fetch ---------------------------------------------------------------- */

void wire_fetch_req_encode(eddy_wr_t *wr, int16_t v, const FetchRequest *r)
{
    if (!cw_version(wr, API_FETCH, v))
        return;
    wr_i32(wr, r->ReplicaId);
    wr_i32(wr, r->MaxWaitMs);
    wr_i32(wr, r->MinBytes);
    wr_i32(wr, r->MaxBytes);      /* v3+: every version spoken */
    wr_i8(wr, r->IsolationLevel); /* v4+: likewise */
    if (v >= 7) {
        wr_i32(wr, r->SessionId);
        wr_i32(wr, r->SessionEpoch);
    } else {
        /* Fetch sessions need v7: not ignorable. */
        cw_require(wr, r->SessionId == 0 && r->SessionEpoch == -1);
    }
    int32_t n = cw_count(wr, r->TopicsCount, r->Topics, 0);
    for (int32_t i = 0; i < n; i++) {
        const FetchRequestTopic *t = &r->Topics[i];
        cw_string_nn(wr, t->Topic);
        int32_t np = cw_count(wr, t->PartitionsCount, t->Partitions, 0);
        for (int32_t j = 0; j < np; j++) {
            const FetchRequestPartition *p = &t->Partitions[j];
            wr_i32(wr, p->Partition);
            if (v >= 9)
                wr_i32(wr, p->CurrentLeaderEpoch); /* ignorable below */
            wr_i64(wr, p->FetchOffset);
            if (v >= 5)
                wr_i64(wr, p->LogStartOffset);
            else
                cw_require(wr, p->LogStartOffset == -1); /* not ignorable */
            wr_i32(wr, p->PartitionMaxBytes);
        }
    }
    if (v >= 7)
        wr_i32(wr, 0); /* ForgottenTopicsData: none (no incremental sessions) */
    if (v >= 11)
        cw_string_nn(wr, r->RackId); /* ignorable below */
}

int wire_fetch_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, FetchResponse *r)
{
    int rc = cr_version(API_FETCH, v);
    if (rc)
        return rc;
    r->ThrottleTimeMs = v >= 1 ? rd_i32(rd) : 0;
    r->ErrorCode = 0;
    r->SessionId = 0;
    if (v >= 7) {
        r->ErrorCode = rd_i16(rd);
        r->SessionId = rd_i32(rd);
    }
    size_t part_min = 4 + 2 + 8 + (v >= 4 ? 8u + 4u : 0u) + (v >= 5 ? 8u : 0u) +
                      (v >= 11 ? 4u : 0u) + 4;
    int32_t n = rd_array_count_nn(rd, 2 + 4);
    r->Responses = rd_arena_array(rd, a, n, sizeof *r->Responses);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        FetchResponseTopic *t = &r->Responses[i];
        t->Topic = rd_string_nn(rd);
        int32_t np = rd_array_count_nn(rd, part_min);
        t->Partitions = rd_arena_array(rd, a, np, sizeof *t->Partitions);
        for (int32_t j = 0; j < np && !rd->rd_err; j++) {
            FetchResponsePartition *p = &t->Partitions[j];
            p->PartitionIndex = rd_i32(rd);
            p->ErrorCode = rd_i16(rd);
            p->HighWatermark = rd_i64(rd);
            p->LastStableOffset = v >= 4 ? rd_i64(rd) : -1;
            p->LogStartOffset = v >= 5 ? rd_i64(rd) : -1;
            p->AbortedTransactions = NULL;
            int32_t na = 0;
            if (v >= 4) {
                na = rd_array_count(rd, 8 + 8); /* nullable */
                p->AbortedTransactions = rd_arena_array(rd, a, na, sizeof *p->AbortedTransactions);
                for (int32_t k = 0; k < na && !rd->rd_err; k++) {
                    p->AbortedTransactions[k].ProducerId = rd_i64(rd);
                    p->AbortedTransactions[k].FirstOffset = rd_i64(rd);
                }
            }
            p->AbortedTransactionsCount = rd->rd_err ? 0 : na;
            p->PreferredReadReplica = v >= 11 ? rd_i32(rd) : -1;
            p->Records = rd_kbytes(rd); /* nullable */
        }
        t->PartitionsCount = rd->rd_err ? 0 : np;
    }
    r->ResponsesCount = rd->rd_err ? 0 : n;
    return rd->rd_err;
}

/* ---- ListOffsets ---------------------------------------------------------- */

void wire_list_offsets_req_encode(eddy_wr_t *wr, int16_t v, const ListOffsetsRequest *r)
{
    if (!cw_version(wr, API_LIST_OFFSETS, v))
        return;
    int flexible = kafka_is_flexible(API_LIST_OFFSETS, v);
    wr_i32(wr, r->ReplicaId);
    if (v >= 2)
        wr_i8(wr, r->IsolationLevel);
    else
        cw_require(wr, r->IsolationLevel == 0); /* not ignorable */
    int32_t n = r->TopicsCount;
    cw_require(wr, n >= 0 && (n == 0 || r->Topics));
    wrf_count(wr, flexible, n);
    for (int32_t i = 0; i < n && !wr->wr_err; i++) {
        const ListOffsetsRequestTopic *t = &r->Topics[i];
        cw_require(wr, t->Name.len >= 0);
        wrf_string(wr, flexible, t->Name);
        int32_t np = t->PartitionsCount;
        cw_require(wr, np >= 0 && (np == 0 || t->Partitions));
        wrf_count(wr, flexible, np);
        for (int32_t j = 0; j < np && !wr->wr_err; j++) {
            const ListOffsetsRequestPartition *p = &t->Partitions[j];
            wr_i32(wr, p->PartitionIndex);
            if (v >= 4)
                wr_i32(wr, p->CurrentLeaderEpoch); /* ignorable below */
            /* -3 needs v7, -4 v8: an older version would read them as a
             * timestamp. */
            cw_require(wr, (p->Timestamp != -3 || v >= 7) && (p->Timestamp != -4 || v >= 8));
            wr_i64(wr, p->Timestamp);
            if (v == 0)
                wr_i32(wr, p->MaxNumOffsets);
            wrf_tags(wr, flexible);
        }
        wrf_tags(wr, flexible);
    }
    wrf_tags(wr, flexible);
}

int wire_list_offsets_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, ListOffsetsResponse *r)
{
    int rc = cr_version(API_LIST_OFFSETS, v);
    if (rc)
        return rc;
    int flexible = kafka_is_flexible(API_LIST_OFFSETS, v);
    r->ThrottleTimeMs = v >= 2 ? rd_i32(rd) : 0;
    size_t part_min = 4 + 2 + (v == 0 ? 4u : 16u) + (v >= 4 ? 4u : 0u) + (flexible ? 1u : 0u);
    int32_t n = rdf_array_count_nn(rd, flexible, flexible ? 3 : 2 + 4);
    r->Topics = rd_arena_array(rd, a, n, sizeof *r->Topics);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        ListOffsetsResponseTopic *t = &r->Topics[i];
        t->Name = rdf_string_nn(rd, flexible);
        int32_t np = rdf_array_count_nn(rd, flexible, part_min);
        t->Partitions = rd_arena_array(rd, a, np, sizeof *t->Partitions);
        for (int32_t j = 0; j < np && !rd->rd_err; j++) {
            ListOffsetsResponsePartition *p = &t->Partitions[j];
            p->PartitionIndex = rd_i32(rd);
            p->ErrorCode = rd_i16(rd);
            p->LeaderEpoch = -1;
            if (v == 0) {
                /* OldStyleOffsets [int64]: newest first; the client asks for one. */
                int32_t no = rd_array_count_nn(rd, 8);
                p->Timestamp = -1;
                p->Offset = no > 0 ? rd_i64(rd) : -1;
                if (no > 1)
                    rd_skip(rd, (size_t)(no - 1) * 8);
            } else {
                p->Timestamp = rd_i64(rd);
                p->Offset = rd_i64(rd);
                if (v >= 4)
                    p->LeaderEpoch = rd_i32(rd);
            }
            rdf_tags(rd, flexible);
        }
        t->PartitionsCount = rd->rd_err ? 0 : np;
        rdf_tags(rd, flexible);
    }
    r->TopicsCount = rd->rd_err ? 0 : n;
    rdf_tags(rd, flexible);
    return rd->rd_err;
}

/* ---- InitProducerId --------------------------------------------------------- */

static int init_producer_id_version_ok(int16_t v)
{
    const api_version_range_t *c = client_range(API_INIT_PRODUCER_ID);
    return v >= c->min && v <= c->max;
}

void wire_init_producer_id_req_encode(eddy_wr_t *wr, int16_t v, const InitProducerIdRequest *r)
{
    if (!init_producer_id_version_ok(v)) {
        cw_fail(wr, EDDY_ERR_INVALID_ARG);
        return;
    }
    int flexible = kafka_is_flexible(API_INIT_PRODUCER_ID, v);
    if (flexible)
        wr_compact_string(wr, r->TransactionalId); /* nullable */
    else
        wr_string(wr, r->TransactionalId);
    wr_i32(wr, r->TransactionTimeoutMs);
    if (v >= 3) {
        wr_i64(wr, r->ProducerId);
        wr_i16(wr, r->ProducerEpoch);
    } else {
        cw_require(wr, r->ProducerId == -1 && r->ProducerEpoch == -1);
    }
    if (flexible)
        wr_empty_tags(wr);
}

int wire_init_producer_id_resp_decode(eddy_rd_t *rd, int16_t v, InitProducerIdResponse *r)
{
    if (!init_producer_id_version_ok(v))
        return EDDY_ERR_INVALID_ARG;
    r->ThrottleTimeMs = rd_i32(rd);
    r->ErrorCode = rd_i16(rd);
    r->ProducerId = rd_i64(rd);
    r->ProducerEpoch = rd_i16(rd);
    if (kafka_is_flexible(API_INIT_PRODUCER_ID, v))
        rd_skip_tags(rd);
    return rd->rd_err;
}

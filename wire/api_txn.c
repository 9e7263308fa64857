/* The transaction coordinator's APIs, broker side. Layouts from the
 * apache/kafka JSON specs:
 *
 * AddPartitionsToTxnRequest v0-3: TransactionalId string, ProducerId int64,
 *     ProducerEpoch int16, Topics [Name string, Partitions [int32]]
 *     (v4+ batch several transactions: brokers verifying produce requests
 *     send them, clients never do; not spoken)
 * AddPartitionsToTxnResponse v0-3: ThrottleTimeMs int32,
 *     Results [Name string, Results [PartitionIndex int32, PartitionErrorCode int16]]
 * AddOffsetsToTxnRequest v0-3: TransactionalId, ProducerId, ProducerEpoch, GroupId string
 * EndTxnRequest v0-4: TransactionalId, ProducerId, ProducerEpoch, Committed bool
 * AddOffsetsToTxnResponse, EndTxnResponse: ThrottleTimeMs int32, ErrorCode int16
 *     (v1 the same as v0; v2 allows PRODUCER_FENCED; v3 flexible; v4 allows
 *     TRANSACTION_ABORTABLE, which this broker never sends)
 * DescribeTransactionsRequest v0: TransactionalIds [string]
 * DescribeTransactionsResponse v0: ThrottleTimeMs, TransactionStates [ErrorCode int16,
 *     TransactionalId string, TransactionState string, TransactionTimeoutMs int32,
 *     TransactionStartTimeMs int64, ProducerId int64, ProducerEpoch int16,
 *     TopicPartitions [Name string, PartitionIndexes [int32]]]
 * ListTransactionsRequest v0-1: StateFilters [string], ProducerIdFilters [int64],
 *     DurationFilter int64 (v1)
 * ListTransactionsResponse v0-1: ThrottleTimeMs, ErrorCode int16, UnknownStateFilters [string],
 *     TransactionStates [TransactionalId string, ProducerId int64, TransactionState string]
 * DescribeTransactions and ListTransactions are flexible at every version.
 */
#include "api_txn.h"

#include "api.h"
#include "common/err.h"
#include "proto_flex.h"
#include "proto_int.h"

/* Topics [Name, Partitions [int32]] of AddPartitionsToTxn. */
static void rd_txn_topics(eddy_rd_t *rd, int flex, eddy_arena_t *a, TxnTopic **out, int32_t *count)
{
    int32_t n = rdf_array_count_nn(rd, flex, 2 + 4);
    TxnTopic *t = rd_arena_array(rd, a, n, sizeof *t);
    *out = t;
    *count = rd->rd_err ? 0 : n;
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        t[i].Name = rdf_string_nn(rd, flex);
        int32_t np = rdf_array_count_nn(rd, flex, 4);
        t[i].Partitions = rd_arena_array(rd, a, np, sizeof *t[i].Partitions);
        t[i].PartitionsCount = rd->rd_err ? 0 : np;
        for (int32_t j = 0; j < np && !rd->rd_err; j++)
            t[i].Partitions[j] = rd_i32(rd);
        rdf_tags(rd, flex);
    }
    if (rd->rd_err)
        *count = 0;
}

int wire_add_partitions_to_txn_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                          AddPartitionsToTxnRequest *r)
{
    if (!broker_api_supported(API_ADD_PARTITIONS_TO_TXN, v))
        return EDDY_ERR_INVALID_ARG;
    int flex = kafka_is_flexible(API_ADD_PARTITIONS_TO_TXN, v);
    r->TransactionalId = rdf_string_nn(rd, flex);
    r->ProducerId = rd_i64(rd);
    r->ProducerEpoch = rd_i16(rd);
    rd_txn_topics(rd, flex, a, &r->Topics, &r->TopicsCount);
    rdf_tags(rd, flex);
    return rd->rd_err;
}

void wire_add_partitions_to_txn_resp_encode(eddy_wr_t *wr, int16_t v,
                                            const AddPartitionsToTxnResponse *r)
{
    int flex = kafka_is_flexible(API_ADD_PARTITIONS_TO_TXN, v);
    wr_i32(wr, r->ThrottleTimeMs);
    wrf_count(wr, flex, r->TopicsCount);
    for (int32_t i = 0; i < r->TopicsCount; i++) {
        const AddPartitionsToTxnTopicResult *t = &r->Topics[i];
        wrf_string(wr, flex, t->Name);
        wrf_count(wr, flex, t->ResultsCount);
        for (int32_t j = 0; j < t->ResultsCount; j++) {
            wr_i32(wr, t->Results[j].PartitionIndex);
            wr_i16(wr, t->Results[j].PartitionErrorCode);
            wrf_tags(wr, flex);
        }
        wrf_tags(wr, flex);
    }
    wrf_tags(wr, flex);
}

int wire_add_offsets_to_txn_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                       AddOffsetsToTxnRequest *r)
{
    (void)a;
    if (!broker_api_supported(API_ADD_OFFSETS_TO_TXN, v))
        return EDDY_ERR_INVALID_ARG;
    int flex = kafka_is_flexible(API_ADD_OFFSETS_TO_TXN, v);
    r->TransactionalId = rdf_string_nn(rd, flex);
    r->ProducerId = rd_i64(rd);
    r->ProducerEpoch = rd_i16(rd);
    r->GroupId = rdf_string_nn(rd, flex);
    rdf_tags(rd, flex);
    return rd->rd_err;
}

void wire_txn_error_resp_encode(eddy_wr_t *wr, int api_key, int16_t v, int16_t error_code)
{
    wr_i32(wr, 0);
    wr_i16(wr, error_code);
    wrf_tags(wr, kafka_is_flexible(api_key, v));
}

int wire_end_txn_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, EndTxnRequest *r)
{
    (void)a;
    if (!broker_api_supported(API_END_TXN, v))
        return EDDY_ERR_INVALID_ARG;
    int flex = kafka_is_flexible(API_END_TXN, v);
    r->TransactionalId = rdf_string_nn(rd, flex);
    r->ProducerId = rd_i64(rd);
    r->ProducerEpoch = rd_i16(rd);
    r->Committed = rd_i8(rd) != 0;
    rdf_tags(rd, flex);
    return rd->rd_err;
}

int wire_describe_transactions_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                          DescribeTransactionsRequest *r)
{
    if (!broker_api_supported(API_DESCRIBE_TRANSACTIONS, v))
        return EDDY_ERR_INVALID_ARG;
    int32_t n = rdf_array_count_nn(rd, 1, 1);
    r->TransactionalIds = rd_arena_array(rd, a, n, sizeof *r->TransactionalIds);
    for (int32_t i = 0; i < n && !rd->rd_err; i++)
        r->TransactionalIds[i] = rd_compact_string_nn(rd);
    r->TransactionalIdsCount = rd->rd_err ? 0 : n;
    rd_skip_tags(rd);
    return rd->rd_err;
}

void wire_describe_transactions_resp_encode(eddy_wr_t *wr, int16_t v,
                                            const DescribeTransactionsResponse *r)
{
    (void)v;
    wr_i32(wr, r->ThrottleTimeMs);
    wrf_count(wr, 1, r->StatesCount);
    for (int32_t i = 0; i < r->StatesCount; i++) {
        const DescribeTransactionsState *s = &r->States[i];
        wr_i16(wr, s->ErrorCode);
        wr_compact_string(wr, s->TransactionalId);
        wr_compact_string(wr, s->TransactionState);
        wr_i32(wr, s->TransactionTimeoutMs);
        wr_i64(wr, s->TransactionStartTimeMs);
        wr_i64(wr, s->ProducerId);
        wr_i16(wr, s->ProducerEpoch);
        wrf_count(wr, 1, s->TopicsCount);
        for (int32_t j = 0; j < s->TopicsCount; j++) {
            wr_compact_string(wr, s->Topics[j].Name);
            wrf_count(wr, 1, s->Topics[j].PartitionsCount);
            for (int32_t k = 0; k < s->Topics[j].PartitionsCount; k++)
                wr_i32(wr, s->Topics[j].Partitions[k]);
            wr_empty_tags(wr);
        }
        wr_empty_tags(wr);
    }
    wr_empty_tags(wr);
}

int wire_list_transactions_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                      ListTransactionsRequest *r)
{
    if (!broker_api_supported(API_LIST_TRANSACTIONS, v))
        return EDDY_ERR_INVALID_ARG;
    int32_t n = rdf_array_count_nn(rd, 1, 1);
    r->StateFilters = rd_arena_array(rd, a, n, sizeof *r->StateFilters);
    for (int32_t i = 0; i < n && !rd->rd_err; i++)
        r->StateFilters[i] = rd_compact_string_nn(rd);
    r->StateFiltersCount = rd->rd_err ? 0 : n;
    n = rdf_array_count_nn(rd, 1, 8);
    r->ProducerIdFilters = rd_arena_array(rd, a, n, sizeof *r->ProducerIdFilters);
    for (int32_t i = 0; i < n && !rd->rd_err; i++)
        r->ProducerIdFilters[i] = rd_i64(rd);
    r->ProducerIdFiltersCount = rd->rd_err ? 0 : n;
    r->DurationFilter = v >= 1 ? rd_i64(rd) : -1;
    rd_skip_tags(rd);
    return rd->rd_err;
}

void wire_list_transactions_resp_encode(eddy_wr_t *wr, int16_t v, const ListTransactionsResponse *r)
{
    (void)v;
    wr_i32(wr, r->ThrottleTimeMs);
    wr_i16(wr, r->ErrorCode);
    wrf_count(wr, 1, r->UnknownStateFiltersCount);
    for (int32_t i = 0; i < r->UnknownStateFiltersCount; i++)
        wr_compact_string(wr, r->UnknownStateFilters[i]);
    wrf_count(wr, 1, r->StatesCount);
    for (int32_t i = 0; i < r->StatesCount; i++) {
        wr_compact_string(wr, r->States[i].TransactionalId);
        wr_i64(wr, r->States[i].ProducerId);
        wr_compact_string(wr, r->States[i].TransactionState);
        wr_empty_tags(wr);
    }
    wr_empty_tags(wr);
}

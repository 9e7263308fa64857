/* The transaction coordinator's APIs, broker side: AddPartitionsToTxn (24),
 * AddOffsetsToTxn (25), EndTxn (26), DescribeTransactions (65) and
 * ListTransactions (66) (api_txn.c). InitProducerId is in api.h, FindCoordinator
 * in api_group.h. */
#ifndef EDDY_WIRE_API_TXN_H
#define EDDY_WIRE_API_TXN_H

#include "wire/proto.h"

/* ---- AddPartitionsToTxn (24), v0-3 (the client's versions; v3 flexible) ---- */
typedef struct TxnTopic {
    kstr_t Name;
    int32_t *Partitions;
    int32_t PartitionsCount;
} TxnTopic;
typedef struct AddPartitionsToTxnRequest {
    kstr_t TransactionalId;
    int64_t ProducerId;
    int16_t ProducerEpoch;
    TxnTopic *Topics;
    int32_t TopicsCount;
} AddPartitionsToTxnRequest;
typedef struct AddPartitionsToTxnPartitionResult {
    int32_t PartitionIndex;
    int16_t PartitionErrorCode;
} AddPartitionsToTxnPartitionResult;
typedef struct AddPartitionsToTxnTopicResult {
    kstr_t Name;
    AddPartitionsToTxnPartitionResult *Results;
    int32_t ResultsCount;
} AddPartitionsToTxnTopicResult;
typedef struct AddPartitionsToTxnResponse {
    int32_t ThrottleTimeMs;
    AddPartitionsToTxnTopicResult *Topics;
    int32_t TopicsCount;
} AddPartitionsToTxnResponse;
int wire_add_partitions_to_txn_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                          AddPartitionsToTxnRequest *r);
void wire_add_partitions_to_txn_resp_encode(eddy_wr_t *wr, int16_t v,
                                            const AddPartitionsToTxnResponse *r);

/* ---- AddOffsetsToTxn (25), v0-3 (v3 flexible) ---- */
typedef struct AddOffsetsToTxnRequest {
    kstr_t TransactionalId;
    int64_t ProducerId;
    int16_t ProducerEpoch;
    kstr_t GroupId;
} AddOffsetsToTxnRequest;
int wire_add_offsets_to_txn_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                       AddOffsetsToTxnRequest *r);
/* AddOffsetsToTxn and EndTxn (v0-4) answer the same: ThrottleTimeMs, ErrorCode. */
void wire_txn_error_resp_encode(eddy_wr_t *wr, int api_key, int16_t v, int16_t error_code);

/* ---- EndTxn (26), v0-4 (v3 flexible; v5 is KIP-890 part 2, not spoken) ---- */
typedef struct EndTxnRequest {
    kstr_t TransactionalId;
    int64_t ProducerId;
    int16_t ProducerEpoch;
    int8_t Committed;
} EndTxnRequest;
int wire_end_txn_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, EndTxnRequest *r);

/* ---- DescribeTransactions (65), v0 (flexible) ---- */
typedef struct DescribeTransactionsRequest {
    kstr_t *TransactionalIds;
    int32_t TransactionalIdsCount;
} DescribeTransactionsRequest;
typedef struct DescribeTransactionsState {
    int16_t ErrorCode;
    kstr_t TransactionalId;
    kstr_t TransactionState;
    int32_t TransactionTimeoutMs;
    int64_t TransactionStartTimeMs;
    int64_t ProducerId;
    int16_t ProducerEpoch;
    TxnTopic *Topics;
    int32_t TopicsCount;
} DescribeTransactionsState;
typedef struct DescribeTransactionsResponse {
    int32_t ThrottleTimeMs;
    DescribeTransactionsState *States;
    int32_t StatesCount;
} DescribeTransactionsResponse;
int wire_describe_transactions_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                          DescribeTransactionsRequest *r);
void wire_describe_transactions_resp_encode(eddy_wr_t *wr, int16_t v,
                                            const DescribeTransactionsResponse *r);

/* ---- ListTransactions (66), v0-1 (flexible) ---- */
typedef struct ListTransactionsRequest {
    kstr_t *StateFilters;
    int32_t StateFiltersCount;
    int64_t *ProducerIdFilters;
    int32_t ProducerIdFiltersCount;
    int64_t DurationFilter; /* v1; -1: no filter */
} ListTransactionsRequest;
typedef struct ListTransactionsState {
    kstr_t TransactionalId;
    int64_t ProducerId;
    kstr_t TransactionState;
} ListTransactionsState;
typedef struct ListTransactionsResponse {
    int32_t ThrottleTimeMs;
    int16_t ErrorCode;
    kstr_t *UnknownStateFilters;
    int32_t UnknownStateFiltersCount;
    ListTransactionsState *States;
    int32_t StatesCount;
} ListTransactionsResponse;
int wire_list_transactions_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                      ListTransactionsRequest *r);
void wire_list_transactions_resp_encode(eddy_wr_t *wr, int16_t v,
                                        const ListTransactionsResponse *r);

#endif

/* Request and response bodies of the APIs the broker serves, with Kafka's
 * own names so the code reads next to the JSON specs in apache/kafka
 * (clients/src/main/resources/common/message/). Fields exist in the versions
 * noted; decoders leave absent ones at the defaults noted, encoders skip
 * fields the version does not have.
 *
 * Broker side: *_req_decode() reads a request body (after the header) with
 * the request's version into a struct whose arrays come from the arena and
 * whose strings borrow the request bytes; *_resp_encode() appends a
 * response body. Decoders return 0 or an eddy_err (the connection is then
 * closed as malformed); they never read past the end or allocate more than
 * the arena allows.
 */
#ifndef EDDY_WIRE_API_H
#define EDDY_WIRE_API_H

#include <stdint.h>

#include "proto.h"

/* The versions the broker advertises (PROTOCOL.md). */
typedef struct api_version_range {
    int16_t api_key, min, max;
} api_version_range_t;
extern const api_version_range_t broker_api_versions[];
extern const int broker_api_versions_count;
/* 1 if the broker supports api_key at version. */
int broker_api_supported(int api_key, int version);

/* ---- ApiVersions (18), v0-3; v3 is flexible ---- */
typedef struct ApiVersionsRequest {
    kstr_t ClientSoftwareName;    /* v3+ */
    kstr_t ClientSoftwareVersion; /* v3+ */
} ApiVersionsRequest;
typedef struct ApiVersionsResponse {
    int16_t ErrorCode;
    const api_version_range_t *ApiKeys;
    int32_t ApiKeysCount;
    int32_t ThrottleTimeMs; /* v1+ */
} ApiVersionsResponse;
int wire_api_versions_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, ApiVersionsRequest *r);
void wire_api_versions_resp_encode(eddy_wr_t *wr, int16_t v, const ApiVersionsResponse *r);

/* ---- Metadata (3), v0-12 ---- */
typedef struct MetadataRequest {
    kstr_t *Topics;      /* names */
    int32_t TopicsCount; /* -1: all topics (v1+ null; v0 empty array) */
    int8_t AllowAutoTopicCreation; /* v4+, default 1 */
} MetadataRequest;
typedef struct MetadataResponseBroker {
    int32_t NodeId;
    kstr_t Host;
    int32_t Port;
    kstr_t Rack; /* v1+, nullable */
} MetadataResponseBroker;
typedef struct MetadataResponsePartition {
    int16_t ErrorCode;
    int32_t PartitionIndex;
    int32_t LeaderId;
    const int32_t *ReplicaNodes;
    int32_t ReplicaNodesCount;
    const int32_t *IsrNodes;
    int32_t IsrNodesCount;
    const int32_t *OfflineReplicas; /* v5+ */
    int32_t OfflineReplicasCount;
} MetadataResponsePartition;
typedef struct MetadataResponseTopic {
    int16_t ErrorCode;
    kstr_t Name;
    int8_t IsInternal; /* v1+ */
    MetadataResponsePartition *Partitions;
    int32_t PartitionsCount;
} MetadataResponseTopic;
typedef struct MetadataResponse {
    int32_t ThrottleTimeMs; /* v3+ */
    MetadataResponseBroker *Brokers;
    int32_t BrokersCount;
    kstr_t ClusterId;     /* v2+, nullable */
    int32_t ControllerId; /* v1+ */
    MetadataResponseTopic *Topics;
    int32_t TopicsCount;
} MetadataResponse;
int wire_metadata_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, MetadataRequest *r);
void wire_metadata_resp_encode(eddy_wr_t *wr, int16_t v, const MetadataResponse *r);

/* ---- Produce (0), v3-7 ---- */
typedef struct ProduceRequestPartition {
    int32_t Index;
    kstr_t Records; /* nullable: RecordBatch(es), borrowed (and rewritten in place by the log) */
} ProduceRequestPartition;
typedef struct ProduceRequestTopic {
    kstr_t Name;
    ProduceRequestPartition *PartitionData;
    int32_t PartitionDataCount;
} ProduceRequestTopic;
typedef struct ProduceRequest {
    kstr_t TransactionalId; /* v3+, nullable */
    int16_t Acks;
    int32_t TimeoutMs;
    ProduceRequestTopic *TopicData;
    int32_t TopicDataCount;
} ProduceRequest;
typedef struct ProduceResponsePartition {
    int32_t Index;
    int16_t ErrorCode;
    int64_t BaseOffset;
    int64_t LogAppendTimeMs; /* v2+, -1 unless LogAppendTime */
    int64_t LogStartOffset;  /* v5+ */
} ProduceResponsePartition;
typedef struct ProduceResponseTopic {
    kstr_t Name;
    ProduceResponsePartition *PartitionResponses;
    int32_t PartitionResponsesCount;
} ProduceResponseTopic;
typedef struct ProduceResponse {
    ProduceResponseTopic *Responses;
    int32_t ResponsesCount;
    int32_t ThrottleTimeMs; /* v1+, last */
} ProduceResponse;
int wire_produce_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, ProduceRequest *r);
void wire_produce_resp_encode(eddy_wr_t *wr, int16_t v, const ProduceResponse *r);

/* ---- Fetch (1), v4-11 ---- */
typedef struct FetchRequestPartition {
    int32_t Partition;
    int32_t CurrentLeaderEpoch; /* v9+, default -1 */
    int64_t FetchOffset;
    int64_t LogStartOffset; /* v5+, default -1 */
    int32_t PartitionMaxBytes;
} FetchRequestPartition;
typedef struct FetchRequestTopic {
    kstr_t Topic;
    FetchRequestPartition *Partitions;
    int32_t PartitionsCount;
} FetchRequestTopic;
typedef struct FetchRequest {
    int32_t ReplicaId;
    int32_t MaxWaitMs;
    int32_t MinBytes;
    int32_t MaxBytes;      /* v3+, default 0x7fffffff */
    int8_t IsolationLevel; /* v4+ */
    int32_t SessionId;     /* v7+, default 0 */
    int32_t SessionEpoch;  /* v7+, default -1 */
    FetchRequestTopic *Topics;
    int32_t TopicsCount;
    /* ForgottenTopicsData (v7+) is read and ignored: Eddy has no fetch sessions. */
    kstr_t RackId; /* v11+ */
} FetchRequest;
int wire_fetch_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, FetchRequest *r);
/* Fetch responses carry record bytes read from segment files, so the
 * broker writes them piecewise: the body up to each partition's records with
 * these helpers, then the records (int32 length + bytes) itself. */
void wire_fetch_resp_begin(eddy_wr_t *wr, int16_t v, int32_t ThrottleTimeMs, int16_t ErrorCode,
                           int32_t SessionId, int32_t ResponsesCount);
void wire_fetch_resp_topic(eddy_wr_t *wr, int16_t v, kstr_t Topic, int32_t PartitionsCount);
/* Everything of a partition up to (not including) its records field. */
void wire_fetch_resp_partition(eddy_wr_t *wr, int16_t v, int32_t PartitionIndex, int16_t ErrorCode,
                               int64_t HighWatermark, int64_t LastStableOffset,
                               int64_t LogStartOffset);
/* The same with AbortedTransactions (v4+): AbortedCount pairs of
 * ProducerId, FirstOffset in Aborted[0 .. 2 * AbortedCount). */
void wire_fetch_resp_partition_aborted(eddy_wr_t *wr, int16_t v, int32_t PartitionIndex,
                                       int16_t ErrorCode, int64_t HighWatermark,
                                       int64_t LastStableOffset, int64_t LogStartOffset,
                                       const int64_t *Aborted, int32_t AbortedCount);

/* ---- ListOffsets (2), v0-8 ---- */
typedef struct ListOffsetsRequestPartition {
    int32_t PartitionIndex;
    int64_t Timestamp; /* -2 earliest, -1 latest, -3 largest timestamp (v7+), -4 local log
                        * start (v8+), else first offset with ts >= */
    int32_t MaxNumOffsets;      /* v0 only */
    int32_t CurrentLeaderEpoch; /* v4+, -1 when not known (Eddy has no leader epochs) */
} ListOffsetsRequestPartition;
typedef struct ListOffsetsRequestTopic {
    kstr_t Name;
    ListOffsetsRequestPartition *Partitions;
    int32_t PartitionsCount;
} ListOffsetsRequestTopic;
typedef struct ListOffsetsRequest {
    int32_t ReplicaId;
    int8_t IsolationLevel; /* v2+ */
    ListOffsetsRequestTopic *Topics;
    int32_t TopicsCount;
} ListOffsetsRequest;
typedef struct ListOffsetsResponsePartition {
    int32_t PartitionIndex;
    int16_t ErrorCode;
    int64_t Timestamp; /* v1+, -1 when not by timestamp */
    int64_t Offset;    /* v1+; v0 sends it as OldStyleOffsets [Offset] (empty when -1) */
    int32_t LeaderEpoch; /* v4+, -1: none */
} ListOffsetsResponsePartition;
typedef struct ListOffsetsResponseTopic {
    kstr_t Name;
    ListOffsetsResponsePartition *Partitions;
    int32_t PartitionsCount;
} ListOffsetsResponseTopic;
typedef struct ListOffsetsResponse {
    int32_t ThrottleTimeMs; /* v2+ */
    ListOffsetsResponseTopic *Topics;
    int32_t TopicsCount;
} ListOffsetsResponse;
int wire_list_offsets_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, ListOffsetsRequest *r);
void wire_list_offsets_resp_encode(eddy_wr_t *wr, int16_t v, const ListOffsetsResponse *r);

/* ---- CreateTopics (19), v0-4 ---- */
typedef struct CreatableTopicConfig {
    kstr_t Name;
    kstr_t Value; /* nullable */
} CreatableTopicConfig;
typedef struct CreatableReplicaAssignment {
    int32_t PartitionIndex;
    int32_t *BrokerIds;
    int32_t BrokerIdsCount;
} CreatableReplicaAssignment;
typedef struct CreatableTopic {
    kstr_t Name;
    int32_t NumPartitions;     /* -1: broker default (v4+) */
    int16_t ReplicationFactor; /* -1: broker default (v4+) */
    CreatableReplicaAssignment *Assignments;
    int32_t AssignmentsCount;
    CreatableTopicConfig *Configs;
    int32_t ConfigsCount;
} CreatableTopic;
typedef struct CreateTopicsRequest {
    CreatableTopic *Topics;
    int32_t TopicsCount;
    int32_t TimeoutMs;
    int8_t ValidateOnly; /* v1+ */
} CreateTopicsRequest;
typedef struct CreatableTopicResult {
    kstr_t Name;
    int16_t ErrorCode;
    kstr_t ErrorMessage; /* v1+, nullable */
} CreatableTopicResult;
typedef struct CreateTopicsResponse {
    int32_t ThrottleTimeMs; /* v2+ */
    CreatableTopicResult *Topics;
    int32_t TopicsCount;
} CreateTopicsResponse;
int wire_create_topics_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                  CreateTopicsRequest *r);
void wire_create_topics_resp_encode(eddy_wr_t *wr, int16_t v, const CreateTopicsResponse *r);

/* ---- DeleteTopics (20), v0-1 ---- */
typedef struct DeleteTopicsRequest {
    kstr_t *TopicNames;
    int32_t TopicNamesCount;
    int32_t TimeoutMs;
} DeleteTopicsRequest;
typedef struct DeletableTopicResult {
    kstr_t Name;
    int16_t ErrorCode;
} DeletableTopicResult;
typedef struct DeleteTopicsResponse {
    int32_t ThrottleTimeMs; /* v1+ */
    DeletableTopicResult *Responses;
    int32_t ResponsesCount;
} DeleteTopicsResponse;
int wire_delete_topics_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                  DeleteTopicsRequest *r);
void wire_delete_topics_resp_encode(eddy_wr_t *wr, int16_t v, const DeleteTopicsResponse *r);

/* ---- DescribeConfigs (32), v0-4; v4 is flexible ---- */
#define CONFIG_RESOURCE_TOPIC 2
#define CONFIG_RESOURCE_BROKER 4
/* ConfigSource values. */
#define CONFIG_SOURCE_DYNAMIC_TOPIC 1
#define CONFIG_SOURCE_DYNAMIC_BROKER 2
#define CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER 3
#define CONFIG_SOURCE_STATIC_BROKER 4
#define CONFIG_SOURCE_DEFAULT 5
/* ConfigType values (v3+). */
#define CONFIG_TYPE_BOOLEAN 1
#define CONFIG_TYPE_STRING 2
#define CONFIG_TYPE_INT 3
#define CONFIG_TYPE_LONG 5
#define CONFIG_TYPE_DOUBLE 6
#define CONFIG_TYPE_LIST 7
typedef struct DescribeConfigsResource {
    int8_t ResourceType;
    kstr_t ResourceName;
    kstr_t *ConfigurationKeys;
    int32_t ConfigurationKeysCount; /* -1: all */
} DescribeConfigsResource;
typedef struct DescribeConfigsRequest {
    DescribeConfigsResource *Resources;
    int32_t ResourcesCount;
    int8_t IncludeSynonyms;      /* v1+ */
    int8_t IncludeDocumentation; /* v3+ */
} DescribeConfigsRequest;
typedef struct DescribeConfigsSynonym {
    kstr_t Name;
    kstr_t Value; /* nullable */
    int8_t Source;
} DescribeConfigsSynonym;
typedef struct DescribeConfigsResourceResult {
    kstr_t Name;
    kstr_t Value; /* nullable */
    int8_t ReadOnly;
    int8_t IsDefault;    /* v0 only */
    int8_t ConfigSource; /* v1+ */
    int8_t IsSensitive;
    DescribeConfigsSynonym *Synonyms; /* v1+; decoders skip them */
    int32_t SynonymsCount;
    int8_t ConfigType;    /* v3+, 0 unknown */
    kstr_t Documentation; /* v3+, nullable */
} DescribeConfigsResourceResult;
typedef struct DescribeConfigsResult {
    int16_t ErrorCode;
    kstr_t ErrorMessage; /* nullable */
    int8_t ResourceType;
    kstr_t ResourceName;
    DescribeConfigsResourceResult *Configs;
    int32_t ConfigsCount;
} DescribeConfigsResult;
typedef struct DescribeConfigsResponse {
    int32_t ThrottleTimeMs;
    DescribeConfigsResult *Results;
    int32_t ResultsCount;
} DescribeConfigsResponse;
int wire_describe_configs_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                     DescribeConfigsRequest *r);
void wire_describe_configs_resp_encode(eddy_wr_t *wr, int16_t v, const DescribeConfigsResponse *r);

/* ---- AlterConfigs (33) v0-2 (v2 flexible), IncrementalAlterConfigs (44)
 * v0-1 (v1 flexible): one request struct for both ---- */
#define CONFIG_OP_SET 0
#define CONFIG_OP_DELETE 1
#define CONFIG_OP_APPEND 2
#define CONFIG_OP_SUBTRACT 3
typedef struct AlterableConfig {
    kstr_t Name;
    int8_t ConfigOperation; /* IncrementalAlterConfigs only; AlterConfigs: SET */
    kstr_t Value;           /* nullable */
} AlterableConfig;
typedef struct AlterConfigsResource {
    int8_t ResourceType;
    kstr_t ResourceName;
    AlterableConfig *Configs;
    int32_t ConfigsCount;
} AlterConfigsResource;
typedef struct AlterConfigsRequest {
    AlterConfigsResource *Resources;
    int32_t ResourcesCount;
    int8_t ValidateOnly;
} AlterConfigsRequest;
typedef struct AlterConfigsResourceResponse {
    int16_t ErrorCode;
    kstr_t ErrorMessage; /* nullable */
    int8_t ResourceType;
    kstr_t ResourceName;
} AlterConfigsResourceResponse;
typedef struct AlterConfigsResponse {
    int32_t ThrottleTimeMs;
    AlterConfigsResourceResponse *Responses;
    int32_t ResponsesCount;
} AlterConfigsResponse;
/* api_key: API_ALTER_CONFIGS or API_INCREMENTAL_ALTER_CONFIGS. */
int wire_alter_configs_req_decode(eddy_rd_t *rd, int api_key, int16_t v, eddy_arena_t *a,
                                  AlterConfigsRequest *r);
void wire_alter_configs_resp_encode(eddy_wr_t *wr, int api_key, int16_t v,
                                    const AlterConfigsResponse *r);

/* ---- DeleteRecords (21), v0-1 ---- */
typedef struct DeleteRecordsPartition {
    int32_t PartitionIndex;
    int64_t Offset; /* -1: the high watermark */
} DeleteRecordsPartition;
typedef struct DeleteRecordsTopic {
    kstr_t Name;
    DeleteRecordsPartition *Partitions;
    int32_t PartitionsCount;
} DeleteRecordsTopic;
typedef struct DeleteRecordsRequest {
    DeleteRecordsTopic *Topics;
    int32_t TopicsCount;
    int32_t TimeoutMs;
} DeleteRecordsRequest;
typedef struct DeleteRecordsPartitionResult {
    int32_t PartitionIndex;
    int64_t LowWatermark;
    int16_t ErrorCode;
} DeleteRecordsPartitionResult;
typedef struct DeleteRecordsTopicResult {
    kstr_t Name;
    DeleteRecordsPartitionResult *Partitions;
    int32_t PartitionsCount;
} DeleteRecordsTopicResult;
typedef struct DeleteRecordsResponse {
    int32_t ThrottleTimeMs;
    DeleteRecordsTopicResult *Topics;
    int32_t TopicsCount;
} DeleteRecordsResponse;
int wire_delete_records_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                   DeleteRecordsRequest *r);
void wire_delete_records_resp_encode(eddy_wr_t *wr, int16_t v, const DeleteRecordsResponse *r);

/* ---- InitProducerId (22), v0-5; v2+ flexible (api_init_producer_id.c) ---- */
typedef struct InitProducerIdRequest {
    kstr_t TransactionalId;       /* nullable */
    int32_t TransactionTimeoutMs;
    int64_t ProducerId;           /* v3+, default -1 */
    int16_t ProducerEpoch;        /* v3+, default -1 */
} InitProducerIdRequest;
typedef struct InitProducerIdResponse {
    int32_t ThrottleTimeMs;
    int16_t ErrorCode;
    int64_t ProducerId;
    int16_t ProducerEpoch;
} InitProducerIdResponse;
int wire_init_producer_id_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                     InitProducerIdRequest *r);
void wire_init_producer_id_resp_encode(eddy_wr_t *wr, int16_t v, const InitProducerIdResponse *r);

#endif

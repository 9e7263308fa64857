/* The client side of the APIs in api.h and api_group.h: request encoders
 * and response decoders, the mirror image of the broker's codecs, for the
 * same versions (the client speaks what broker_api_versions lists).
 *
 * Encoders append a request body (after the header) to a writer. A request
 * the version cannot carry fails the writer (wr_err, checked once after the
 * last write) instead of going out altered:
 *   - an unsupported version, a null where the spec allows none, a negative
 *     count other than -1 for a nullable array, a count > 0 without its
 *     array: EDDY_ERR_INVALID_ARG; a string over 32767 bytes:
 *     EDDY_ERR_TOO_LARGE;
 *   - a field the version lacks: Kafka's generated code drops it when the
 *     spec marks it ignorable and throws UnsupportedVersionException when it
 *     holds anything but its default; so do these (EDDY_ERR_INVALID_ARG).
 *     The defaults that matter are noted below; note that a zeroed kstr_t is
 *     the empty string, not null (use KSTR_NULL). Fields that later versions
 *     removed (ListOffsets MaxNumOffsets, OffsetCommit CommitTimestamp and
 *     RetentionTimeMs) are written where the version has them and ignored
 *     elsewhere.
 *
 * Decoders read a response body (after the response header) with the
 * version the request was sent with, into the same structs the broker
 * encodes from: arrays from the arena, strings and bytes borrowed from the
 * response buffer (which must outlive the struct). Like the broker's
 * decoders they return 0 or an eddy_err, never read past the end, check
 * every array count against the bytes left before allocating for it, and
 * refuse a null where the spec allows none. They do not require the body to
 * end where they stop (rd_remaining() tells); fields the version lacks
 * take Kafka's defaults, noted in api.h / api_group.h / below.
 */
#ifndef EDDY_WIRE_CLIENT_API_H
#define EDDY_WIRE_CLIENT_API_H

#include <stdint.h>

#include "api.h"
#include "api_group.h"
#include "proto.h"

/* ---- headers and versions ---- */

/* Request header v1 (v2, with an empty tag section, for flexible versions:
 * only ApiVersions v3 among those spoken here); h->header_version is not
 * read, the version follows from (RequestApiKey, RequestApiVersion).
 * ClientId stays a legacy nullable string in both. */
void wire_request_header_encode(eddy_wr_t *wr, const RequestHeader *h);

/* Response header for a request of (api_key, version): v0 (correlation id),
 * or v1 (plus tags, skipped) for flexible versions except ApiVersions,
 * which always answers with v0. Returns 0 or an eddy_err. */
int wire_response_header_decode(eddy_rd_t *rd, int api_key, int version, int32_t *correlation_id);

/* The highest version of api_key that both this client (the ranges of
 * broker_api_versions, and its own for InitProducerId) and a broker
 * advertising [broker_min, broker_max] speak, or -1 when there is none or
 * the client does not know the API. */
int wire_pick_version(int api_key, int broker_min, int broker_max);

/* ---- ApiVersions (18), v0-3 ----
 * ClientSoftwareName/Version are written at v3 only (ignorable) and must not
 * be null there. The decoder allocates ApiKeys from the arena. A broker that
 * does not speak the version asked for answers with a v0 body carrying
 * UNSUPPORTED_VERSION (and, since Kafka 2.4, its ranges); a body whose
 * ErrorCode is UNSUPPORTED_VERSION is therefore read as v0 when that
 * consumes it exactly (Kafka's ApiVersionsResponse.parse falls back to v0
 * too), else as v. On UNSUPPORTED_VERSION a client should retry with
 * wire_pick_version() over the ApiVersions range in ApiKeys, or with v0 when
 * none is listed (librdkafka's mock cluster answers v3 with a malformed body
 * and no ranges). */
void wire_api_versions_req_encode(eddy_wr_t *wr, int16_t v, const ApiVersionsRequest *r);
int wire_api_versions_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                  ApiVersionsResponse *r);

/* ---- Metadata (3), v0-5 ----
 * TopicsCount -1 asks for every topic (v0: sent as the empty array); 0 asks
 * for none, which v0 cannot say (fails). AllowAutoTopicCreation (v4+,
 * not ignorable) must be 1 below v4. */
void wire_metadata_req_encode(eddy_wr_t *wr, int16_t v, const MetadataRequest *r);
int wire_metadata_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, MetadataResponse *r);

/* ---- Produce (0), v3-7 ---- */
void wire_produce_req_encode(eddy_wr_t *wr, int16_t v, const ProduceRequest *r);
int wire_produce_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, ProduceResponse *r);

/* ---- Fetch (1), v4-11 ----
 * Request: SessionId (default 0), SessionEpoch (default -1: no session) and
 * partition LogStartOffset (default -1) are not ignorable; below v7 / v5
 * they must hold their defaults. CurrentLeaderEpoch (v9+) and RackId (v11+)
 * are ignorable. No ForgottenTopicsData is sent (empty, v7+). */
void wire_fetch_req_encode(eddy_wr_t *wr, int16_t v, const FetchRequest *r);

/* Response (FetchResponse.json): the client's view. */
typedef struct FetchResponseAbortedTransaction {
    int64_t ProducerId;
    int64_t FirstOffset;
} FetchResponseAbortedTransaction;
typedef struct FetchResponsePartition {
    int32_t PartitionIndex;
    int16_t ErrorCode;
    int64_t HighWatermark;
    int64_t LastStableOffset; /* v4+, default -1 */
    int64_t LogStartOffset;   /* v5+, default -1 */
    FetchResponseAbortedTransaction *AbortedTransactions; /* v4+ */
    int32_t AbortedTransactionsCount;                     /* -1: null (nullable), 0 below v4 */
    int32_t PreferredReadReplica; /* v11+, default -1 */
    kstr_t Records; /* nullable; record batches, borrowed from the response */
} FetchResponsePartition;
typedef struct FetchResponseTopic {
    kstr_t Topic;
    FetchResponsePartition *Partitions;
    int32_t PartitionsCount;
} FetchResponseTopic;
typedef struct FetchResponse {
    int32_t ThrottleTimeMs; /* v1+ */
    int16_t ErrorCode;      /* v7+, default 0 */
    int32_t SessionId;      /* v7+, default 0 */
    FetchResponseTopic *Responses;
    int32_t ResponsesCount;
} FetchResponse;
int wire_fetch_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, FetchResponse *r);

/* ---- ListOffsets (2), v0-8 ----
 * IsolationLevel (v2+, not ignorable) must be 0 below v2. MaxNumOffsets is
 * written at v0 only, CurrentLeaderEpoch at v4+ (-1: none). Timestamp -3
 * needs v7, -4 v8. The v0 response's OldStyleOffsets [int64] decodes as
 * Offset: its first element, or -1 when empty; Timestamp is -1 at v0;
 * LeaderEpoch is -1 below v4. v6+ is flexible. */
void wire_list_offsets_req_encode(eddy_wr_t *wr, int16_t v, const ListOffsetsRequest *r);
int wire_list_offsets_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                  ListOffsetsResponse *r);

/* ---- CreateTopics (19), v0-4 ----
 * ValidateOnly (v1+, not ignorable) must be 0 at v0. NumPartitions and
 * ReplicationFactor are written as given (-1 is the broker's default from
 * v4 on; older brokers refuse it themselves). */
void wire_create_topics_req_encode(eddy_wr_t *wr, int16_t v, const CreateTopicsRequest *r);
int wire_create_topics_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                   CreateTopicsResponse *r);

/* ---- DeleteTopics (20), v0-1 ---- */
void wire_delete_topics_req_encode(eddy_wr_t *wr, int16_t v, const DeleteTopicsRequest *r);
int wire_delete_topics_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                   DeleteTopicsResponse *r);

/* ---- DeleteRecords (21), v0-1 ---- */
void wire_delete_records_req_encode(eddy_wr_t *wr, int16_t v, const DeleteRecordsRequest *r);
int wire_delete_records_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                    DeleteRecordsResponse *r);

/* ---- DescribeConfigs (32), v0-1 ----
 * ConfigurationKeysCount -1 is null (every key). IncludeSynonyms (v1+, not
 * ignorable) must be 0 at v0. Response: v0 has IsDefault and no
 * ConfigSource (-1); v1+ has ConfigSource and IsDefault is derived from it
 * (ConfigSource == CONFIG_SOURCE_DEFAULT). Synonyms (v1+) are checked and
 * skipped. */
void wire_describe_configs_req_encode(eddy_wr_t *wr, int16_t v, const DescribeConfigsRequest *r);
int wire_describe_configs_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                      DescribeConfigsResponse *r);
/* AlterConfigs (ConfigOperation ignored: it has none) and
 * IncrementalAlterConfigs; one response layout. */
void wire_alter_configs_req_encode(eddy_wr_t *wr, int16_t v, const AlterConfigsRequest *r);
void wire_incremental_alter_configs_req_encode(eddy_wr_t *wr, int16_t v,
                                               const AlterConfigsRequest *r);
int wire_alter_configs_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                   AlterConfigsResponse *r);
int wire_incremental_alter_configs_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                               AlterConfigsResponse *r);

/* ---- FindCoordinator (10), v0-2 ----
 * KeyType (v1+, not ignorable) must be 0 (group) at v0. */
void wire_find_coordinator_req_encode(eddy_wr_t *wr, int16_t v, const FindCoordinatorRequest *r);
int wire_find_coordinator_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                      FindCoordinatorResponse *r);

/* ---- JoinGroup (11), v0-5 ----
 * RebalanceTimeoutMs (v1+) is ignorable; GroupInstanceId (v5+, not
 * ignorable) must be null below v5. */
void wire_join_group_req_encode(eddy_wr_t *wr, int16_t v, const JoinGroupRequest *r);
int wire_join_group_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, JoinGroupResponse *r);

/* ---- SyncGroup (14), v0-3; Heartbeat (12), v0-3 ----
 * GroupInstanceId (v3+) must be null below v3. */
void wire_sync_group_req_encode(eddy_wr_t *wr, int16_t v, const SyncGroupRequest *r);
int wire_sync_group_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, SyncGroupResponse *r);
void wire_heartbeat_req_encode(eddy_wr_t *wr, int16_t v, const HeartbeatRequest *r);
int wire_heartbeat_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, HeartbeatResponse *r);

/* ---- LeaveGroup (13), v0-1 ---- */
void wire_leave_group_req_encode(eddy_wr_t *wr, int16_t v, const LeaveGroupRequest *r);
int wire_leave_group_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, LeaveGroupResponse *r);

/* ---- OffsetCommit (8), v0-7 ----
 * GenerationId, MemberId (v1+), CommittedLeaderEpoch (v6+) are ignorable;
 * GroupInstanceId (v7+) must be null below v7. CommitTimestamp is written
 * at v1 only, RetentionTimeMs at v2-4 only. */
void wire_offset_commit_req_encode(eddy_wr_t *wr, int16_t v, const OffsetCommitRequest *r);
int wire_offset_commit_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                   OffsetCommitResponse *r);

/* ---- OffsetFetch (9), v0-7 ----
 * TopicsCount -1 (every committed partition) is null, v2+ only;
 * RequireStable is v7+ only. */
void wire_offset_fetch_req_encode(eddy_wr_t *wr, int16_t v, const OffsetFetchRequest *r);
int wire_offset_fetch_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                  OffsetFetchResponse *r);

/* ---- DescribeGroups (15), v0-5; ListGroups (16), v0-5; DeleteGroups (42), v0-1 ---- */
void wire_describe_groups_req_encode(eddy_wr_t *wr, int16_t v, const DescribeGroupsRequest *r);
int wire_describe_groups_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                     DescribeGroupsResponse *r);
/* The ListGroups request has no body at v0-2; from v4 it asks for every
 * state and (v5) every type. */
void wire_list_groups_req_encode(eddy_wr_t *wr, int16_t v);
int wire_list_groups_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, ListGroupsResponse *r);
void wire_delete_groups_req_encode(eddy_wr_t *wr, int16_t v, const DeleteGroupsRequest *r);
int wire_delete_groups_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                   DeleteGroupsResponse *r);

/* ---- OffsetDelete (47), v0 ---- */
void wire_offset_delete_req_encode(eddy_wr_t *wr, int16_t v, const OffsetDeleteRequest *r);
int wire_offset_delete_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                   OffsetDeleteResponse *r);

/* ---- InitProducerId (22), v0-5 ----
 * The client speaks these versions whatever the broker of this build serves
 * (wire_pick_version knows them): Eddy's producer asks any Kafka-protocol
 * broker for a producer id. v2+ is flexible. ProducerId and ProducerEpoch
 * (v3+, not ignorable) must be -1 below v3; -1/-1 asks for a new id, a
 * current id and epoch ask to bump the epoch (KIP-360). v4 and v5 add only
 * error codes. Response: the same four fields at every version. The
 * structs are the broker's (api.h). */
void wire_init_producer_id_req_encode(eddy_wr_t *wr, int16_t v, const InitProducerIdRequest *r);
int wire_init_producer_id_resp_decode(eddy_rd_t *rd, int16_t v, InitProducerIdResponse *r);

/* ---- ConsumerProtocol subscription (the Metadata of a "consumer" JoinGroup
 * protocol; ConsumerProtocolSubscription.json, v0-3) ----
 *   Version int16, Topics [string], UserData nullable bytes,
 *   OwnedPartitions [Topic string, Partitions [int32]] (v1+),
 *   GenerationId int32 (v2+, default -1), RackId nullable string (v3+)
 * The encoder writes the fields of r->Version (0-3; later fields are
 * ignorable and dropped). The decoder reads a newer version as v3 (Kafka:
 * "new versions cannot remove or reorder any of the existing fields") and
 * leaves what follows unread; like the assignment decoder, it accepts a body
 * that stops at a field boundary after Topics (the fields not sent take
 * their defaults: UserData null, OwnedPartitions empty, GenerationId -1,
 * RackId null), never one that stops inside a field. */
typedef struct ConsumerProtocolSubscription {
    int16_t Version;
    kstr_t *Topics;
    int32_t TopicsCount;
    kstr_t UserData; /* nullable bytes */
    ConsumerProtocolAssignmentTopic *OwnedPartitions; /* v1+ */
    int32_t OwnedPartitionsCount;
    int32_t GenerationId; /* v2+, default -1 */
    kstr_t RackId;        /* v3+, nullable, default null */
} ConsumerProtocolSubscription;
void wire_consumer_subscription_encode(eddy_wr_t *wr, const ConsumerProtocolSubscription *r);
int wire_consumer_subscription_decode(eddy_rd_t *rd, eddy_arena_t *a,
                                      ConsumerProtocolSubscription *r);

#endif

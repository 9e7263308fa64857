/* Consumer-group APIs: bodies with Kafka's names, as in api.h (same rules:
 * arrays from the request arena, strings borrowed, fields by version). */
#ifndef EDDY_WIRE_API_GROUP_H
#define EDDY_WIRE_API_GROUP_H

#include <stdint.h>

#include "proto.h"

/* ---- FindCoordinator (10), v0-2 ---- */
typedef struct FindCoordinatorRequest {
    kstr_t Key;
    int8_t KeyType; /* v1+: 0 group, 1 transaction */
} FindCoordinatorRequest;
typedef struct FindCoordinatorResponse {
    int32_t ThrottleTimeMs; /* v1+ */
    int16_t ErrorCode;
    kstr_t ErrorMessage; /* v1+, nullable */
    int32_t NodeId;
    kstr_t Host;
    int32_t Port;
} FindCoordinatorResponse;
int wire_find_coordinator_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                     FindCoordinatorRequest *r);
void wire_find_coordinator_resp_encode(eddy_wr_t *wr, int16_t v, const FindCoordinatorResponse *r);

/* ---- JoinGroup (11), v0-5 ---- */
typedef struct JoinGroupRequestProtocol {
    kstr_t Name;
    kstr_t Metadata; /* bytes */
} JoinGroupRequestProtocol;
typedef struct JoinGroupRequest {
    kstr_t GroupId;
    int32_t SessionTimeoutMs;
    int32_t RebalanceTimeoutMs; /* v1+, default = SessionTimeoutMs */
    kstr_t MemberId;
    kstr_t GroupInstanceId; /* v5+, nullable */
    kstr_t ProtocolType;
    JoinGroupRequestProtocol *Protocols;
    int32_t ProtocolsCount;
} JoinGroupRequest;
typedef struct JoinGroupResponseMember {
    kstr_t MemberId;
    kstr_t GroupInstanceId; /* v5+, nullable */
    kstr_t Metadata;
} JoinGroupResponseMember;
typedef struct JoinGroupResponse {
    int32_t ThrottleTimeMs; /* v2+ */
    int16_t ErrorCode;
    int32_t GenerationId;
    kstr_t ProtocolName;
    kstr_t Leader;
    kstr_t MemberId;
    JoinGroupResponseMember *Members;
    int32_t MembersCount;
} JoinGroupResponse;
int wire_join_group_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, JoinGroupRequest *r);
void wire_join_group_resp_encode(eddy_wr_t *wr, int16_t v, const JoinGroupResponse *r);

/* ---- SyncGroup (14), v0-3 ---- */
typedef struct SyncGroupRequestAssignment {
    kstr_t MemberId;
    kstr_t Assignment; /* bytes */
} SyncGroupRequestAssignment;
typedef struct SyncGroupRequest {
    kstr_t GroupId;
    int32_t GenerationId;
    kstr_t MemberId;
    kstr_t GroupInstanceId; /* v3+, nullable */
    SyncGroupRequestAssignment *Assignments;
    int32_t AssignmentsCount;
} SyncGroupRequest;
typedef struct SyncGroupResponse {
    int32_t ThrottleTimeMs; /* v1+ */
    int16_t ErrorCode;
    kstr_t Assignment; /* bytes */
} SyncGroupResponse;
int wire_sync_group_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, SyncGroupRequest *r);
void wire_sync_group_resp_encode(eddy_wr_t *wr, int16_t v, const SyncGroupResponse *r);

/* ---- Heartbeat (12), v0-3 ---- */
typedef struct HeartbeatRequest {
    kstr_t GroupId;
    int32_t GenerationId;
    kstr_t MemberId;
    kstr_t GroupInstanceId; /* v3+, nullable */
} HeartbeatRequest;
typedef struct HeartbeatResponse {
    int32_t ThrottleTimeMs; /* v1+ */
    int16_t ErrorCode;
} HeartbeatResponse;
int wire_heartbeat_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, HeartbeatRequest *r);
void wire_heartbeat_resp_encode(eddy_wr_t *wr, int16_t v, const HeartbeatResponse *r);

/* ---- LeaveGroup (13), v0-1 ---- */
typedef struct LeaveGroupRequest {
    kstr_t GroupId;
    kstr_t MemberId;
} LeaveGroupRequest;
typedef struct LeaveGroupResponse {
    int32_t ThrottleTimeMs; /* v1+ */
    int16_t ErrorCode;
} LeaveGroupResponse;
int wire_leave_group_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, LeaveGroupRequest *r);
void wire_leave_group_resp_encode(eddy_wr_t *wr, int16_t v, const LeaveGroupResponse *r);

/* ---- OffsetCommit (8), v0-7 ---- */
typedef struct OffsetCommitRequestPartition {
    int32_t PartitionIndex;
    int64_t CommittedOffset;
    int32_t CommittedLeaderEpoch; /* v6+, default -1 */
    int64_t CommitTimestamp;      /* v1 only, default -1 */
    kstr_t CommittedMetadata;     /* nullable */
} OffsetCommitRequestPartition;
typedef struct OffsetCommitRequestTopic {
    kstr_t Name;
    OffsetCommitRequestPartition *Partitions;
    int32_t PartitionsCount;
} OffsetCommitRequestTopic;
typedef struct OffsetCommitRequest {
    kstr_t GroupId;
    int32_t GenerationId;   /* v1+, default -1 */
    kstr_t MemberId;        /* v1+, default "" */
    kstr_t GroupInstanceId; /* v7+, nullable */
    int64_t RetentionTimeMs; /* v2-4, default -1 */
    OffsetCommitRequestTopic *Topics;
    int32_t TopicsCount;
} OffsetCommitRequest;
typedef struct OffsetCommitResponsePartition {
    int32_t PartitionIndex;
    int16_t ErrorCode;
} OffsetCommitResponsePartition;
typedef struct OffsetCommitResponseTopic {
    kstr_t Name;
    OffsetCommitResponsePartition *Partitions;
    int32_t PartitionsCount;
} OffsetCommitResponseTopic;
typedef struct OffsetCommitResponse {
    int32_t ThrottleTimeMs; /* v3+ */
    OffsetCommitResponseTopic *Topics;
    int32_t TopicsCount;
} OffsetCommitResponse;
int wire_offset_commit_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                  OffsetCommitRequest *r);
void wire_offset_commit_resp_encode(eddy_wr_t *wr, int16_t v, const OffsetCommitResponse *r);

/* ---- OffsetFetch (9), v0-7; v6+ is flexible ---- */
typedef struct OffsetFetchRequestTopic {
    kstr_t Name;
    int32_t *PartitionIndexes;
    int32_t PartitionIndexesCount;
} OffsetFetchRequestTopic;
typedef struct OffsetFetchRequest {
    kstr_t GroupId;
    OffsetFetchRequestTopic *Topics;
    int32_t TopicsCount; /* -1 (v2+): every committed partition of the group */
    int8_t RequireStable; /* v7+ (KIP-447): UNSTABLE_OFFSET_COMMIT while a
                             transaction holds an offset of the partition */
} OffsetFetchRequest;
typedef struct OffsetFetchResponsePartition {
    int32_t PartitionIndex;
    int64_t CommittedOffset;      /* -1: none */
    int32_t CommittedLeaderEpoch; /* v5+, -1 */
    kstr_t Metadata;              /* nullable */
    int16_t ErrorCode;
} OffsetFetchResponsePartition;
typedef struct OffsetFetchResponseTopic {
    kstr_t Name;
    OffsetFetchResponsePartition *Partitions;
    int32_t PartitionsCount;
} OffsetFetchResponseTopic;
typedef struct OffsetFetchResponse {
    int32_t ThrottleTimeMs; /* v3+ */
    OffsetFetchResponseTopic *Topics;
    int32_t TopicsCount;
    int16_t ErrorCode; /* v2+ */
} OffsetFetchResponse;
int wire_offset_fetch_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, OffsetFetchRequest *r);
void wire_offset_fetch_resp_encode(eddy_wr_t *wr, int16_t v, const OffsetFetchResponse *r);

/* ---- TxnOffsetCommit (28), v0-4; v3+ is flexible ----
 * The topics and the response share OffsetCommit's structures
 * (CommitTimestamp unused). */
typedef struct TxnOffsetCommitRequest {
    kstr_t TransactionalId;
    kstr_t GroupId;
    int64_t ProducerId;
    int16_t ProducerEpoch;
    int32_t GenerationId;   /* v3+, default -1 */
    kstr_t MemberId;        /* v3+, default "" */
    kstr_t GroupInstanceId; /* v3+, nullable */
    OffsetCommitRequestTopic *Topics;
    int32_t TopicsCount;
} TxnOffsetCommitRequest;
int wire_txn_offset_commit_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                      TxnOffsetCommitRequest *r);
void wire_txn_offset_commit_resp_encode(eddy_wr_t *wr, int16_t v, const OffsetCommitResponse *r);

/* ---- DescribeGroups (15), v0-5; v5 is flexible ---- */
typedef struct DescribeGroupsRequest {
    kstr_t *Groups;
    int32_t GroupsCount;
    int8_t IncludeAuthorizedOperations; /* v3+ */
} DescribeGroupsRequest;
typedef struct DescribedGroupMember {
    kstr_t MemberId;
    kstr_t GroupInstanceId; /* v4+, nullable */
    kstr_t ClientId;
    kstr_t ClientHost;
    kstr_t MemberMetadata;   /* bytes */
    kstr_t MemberAssignment; /* bytes */
} DescribedGroupMember;
typedef struct DescribedGroup {
    int16_t ErrorCode;
    kstr_t GroupId;
    kstr_t GroupState;
    kstr_t ProtocolType;
    kstr_t ProtocolData;
    DescribedGroupMember *Members;
    int32_t MembersCount;
    int32_t AuthorizedOperations; /* v3+, INT32_MIN: not asked for */
} DescribedGroup;
typedef struct DescribeGroupsResponse {
    int32_t ThrottleTimeMs; /* v1+ */
    DescribedGroup *Groups;
    int32_t GroupsCount;
} DescribeGroupsResponse;
int wire_describe_groups_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                    DescribeGroupsRequest *r);
void wire_describe_groups_resp_encode(eddy_wr_t *wr, int16_t v, const DescribeGroupsResponse *r);

/* ---- ListGroups (16), v0-5; v3 is flexible ---- */
typedef struct ListGroupsRequest {
    kstr_t *StatesFilter; /* v4+: only groups in these states (none: all) */
    int32_t StatesFilterCount;
    kstr_t *TypesFilter; /* v5+: only groups of these types (none: all) */
    int32_t TypesFilterCount;
} ListGroupsRequest;
typedef struct ListedGroup {
    kstr_t GroupId;
    kstr_t ProtocolType;
    kstr_t GroupState; /* v4+ */
    kstr_t GroupType;  /* v5+ */
} ListedGroup;
typedef struct ListGroupsResponse {
    int32_t ThrottleTimeMs; /* v1+ */
    int16_t ErrorCode;
    ListedGroup *Groups;
    int32_t GroupsCount;
} ListGroupsResponse;
int wire_list_groups_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, ListGroupsRequest *r);
void wire_list_groups_resp_encode(eddy_wr_t *wr, int16_t v, const ListGroupsResponse *r);

/* ---- DeleteGroups (42), v0-1 ---- */
typedef struct DeleteGroupsRequest {
    kstr_t *GroupsNames;
    int32_t GroupsNamesCount;
} DeleteGroupsRequest;
typedef struct DeletableGroupResult {
    kstr_t GroupId;
    int16_t ErrorCode;
} DeletableGroupResult;
typedef struct DeleteGroupsResponse {
    int32_t ThrottleTimeMs;
    DeletableGroupResult *Results;
    int32_t ResultsCount;
} DeleteGroupsResponse;
int wire_delete_groups_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                  DeleteGroupsRequest *r);
void wire_delete_groups_resp_encode(eddy_wr_t *wr, int16_t v, const DeleteGroupsResponse *r);

/* ---- OffsetDelete (47), v0 ---- */
typedef struct OffsetDeleteRequestTopic {
    kstr_t Name;
    int32_t *Partitions; /* PartitionIndex */
    int32_t PartitionsCount;
} OffsetDeleteRequestTopic;
typedef struct OffsetDeleteRequest {
    kstr_t GroupId;
    OffsetDeleteRequestTopic *Topics;
    int32_t TopicsCount;
} OffsetDeleteRequest;
typedef struct OffsetDeleteResponsePartition {
    int32_t PartitionIndex;
    int16_t ErrorCode;
} OffsetDeleteResponsePartition;
typedef struct OffsetDeleteResponseTopic {
    kstr_t Name;
    OffsetDeleteResponsePartition *Partitions;
    int32_t PartitionsCount;
} OffsetDeleteResponseTopic;
typedef struct OffsetDeleteResponse {
    int16_t ErrorCode;
    int32_t ThrottleTimeMs;
    OffsetDeleteResponseTopic *Topics;
    int32_t TopicsCount;
} OffsetDeleteResponse;
int wire_offset_delete_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                  OffsetDeleteRequest *r);
void wire_offset_delete_resp_encode(eddy_wr_t *wr, int16_t v, const OffsetDeleteResponse *r);

/* ---- ConsumerProtocol (the bytes inside JoinGroup metadata and SyncGroup
 * assignments; the broker never interprets them, but tools and the client
 * do) ---- */
typedef struct ConsumerProtocolAssignmentTopic {
    kstr_t Topic;
    int32_t *Partitions;
    int32_t PartitionsCount;
} ConsumerProtocolAssignmentTopic;
typedef struct ConsumerProtocolAssignment {
    int16_t Version;
    ConsumerProtocolAssignmentTopic *AssignedPartitions;
    int32_t AssignedPartitionsCount;
    kstr_t UserData; /* nullable bytes */
} ConsumerProtocolAssignment;
int wire_consumer_assignment_decode(eddy_rd_t *rd, eddy_arena_t *a, ConsumerProtocolAssignment *r);
void wire_consumer_assignment_encode(eddy_wr_t *wr, const ConsumerProtocolAssignment *r);

#endif

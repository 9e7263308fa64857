/* The consumer-group APIs (flexible: DescribeGroups v5, ListGroups v3+). Layouts
 * from the apache/kafka JSON specs:
 *
 * FindCoordinator  req: Key string, KeyType int8 (v1+)
 *                  resp: ThrottleTimeMs (v1+), ErrorCode, ErrorMessage nullable (v1+),
 *                        NodeId int32, Host string, Port int32
 * JoinGroup        req: GroupId, SessionTimeoutMs int32, RebalanceTimeoutMs int32 (v1+),
 *                       MemberId, GroupInstanceId nullable (v5+), ProtocolType,
 *                       Protocols [Name string, Metadata bytes]
 *                  resp: ThrottleTimeMs (v2+), ErrorCode, GenerationId int32,
 *                        ProtocolName string, Leader string, MemberId string,
 *                        Members [MemberId, GroupInstanceId nullable (v5+), Metadata bytes]
 * SyncGroup        req: GroupId, GenerationId, MemberId, GroupInstanceId nullable (v3+),
 *                       Assignments [MemberId, Assignment bytes]
 *                  resp: ThrottleTimeMs (v1+), ErrorCode, Assignment bytes
 * Heartbeat        req: GroupId, GenerationId, MemberId, GroupInstanceId nullable (v3+)
 *                  resp: ThrottleTimeMs (v1+), ErrorCode
 * LeaveGroup       req: GroupId, MemberId          resp: ThrottleTimeMs (v1+), ErrorCode
 * OffsetCommit     req: GroupId, GenerationId (v1+), MemberId (v1+),
 *                       GroupInstanceId nullable (v7+), RetentionTimeMs int64 (v2-4),
 *                       Topics [Name, Partitions [PartitionIndex int32,
 *                         CommittedOffset int64, CommittedLeaderEpoch int32 (v6+),
 *                         CommitTimestamp int64 (v1 only), CommittedMetadata nullable]]
 *                  resp: ThrottleTimeMs (v3+), Topics [Name, Partitions [PartitionIndex,
 *                        ErrorCode]]
 * OffsetFetch      req: GroupId, Topics nullable (v2+) [Name, PartitionIndexes [int32]],
 *                       RequireStable bool (v7+)
 *                  resp: ThrottleTimeMs (v3+), Topics [Name, Partitions [PartitionIndex,
 *                        CommittedOffset int64, CommittedLeaderEpoch int32 (v5+),
 *                        Metadata nullable string, ErrorCode]], ErrorCode (v2+)
 *                  (v6+ flexible)
 * TxnOffsetCommit  req: TransactionalId, GroupId, ProducerId int64, ProducerEpoch int16,
 *                       GenerationId int32 (v3+), MemberId (v3+),
 *                       GroupInstanceId nullable (v3+), Topics [Name, Partitions
 *                       [PartitionIndex, CommittedOffset int64,
 *                       CommittedLeaderEpoch int32 (v2+), CommittedMetadata nullable]]
 *                  resp: ThrottleTimeMs, Topics [Name, Partitions [PartitionIndex,
 *                        ErrorCode]]
 *                  (v3+ flexible; v4 is v3 with TRANSACTION_ABORTABLE allowed)
 * DescribeGroups   req: Groups [string], IncludeAuthorizedOperations bool (v3+)
 *                  resp: ThrottleTimeMs (v1+), Groups [ErrorCode, GroupId, GroupState,
 *                        ProtocolType, ProtocolData, Members [MemberId,
 *                        GroupInstanceId nullable (v4+), ClientId,
 *                        ClientHost, MemberMetadata bytes, MemberAssignment bytes],
 *                        AuthorizedOperations int32 (v3+)]
 *                  (v5+ flexible: compact strings, bytes and arrays, tags)
 * ListGroups       req: StatesFilter [string] (v4+), TypesFilter [string] (v5+)
 *                  resp: ThrottleTimeMs (v1+), ErrorCode,
 *                        Groups [GroupId, ProtocolType, GroupState (v4+), GroupType (v5+)]
 *                  (v3+ flexible)
 * OffsetDelete     req: GroupId, Topics [Name, Partitions [PartitionIndex int32]]
 *                  resp: ErrorCode, ThrottleTimeMs, Topics [Name, Partitions
 *                        [PartitionIndex, ErrorCode]]
 * DeleteGroups     req: GroupsNames [string]
 *                  resp: ThrottleTimeMs, Results [GroupId, ErrorCode]
 * ConsumerProtocol assignment: Version int16, [Topic string, [int32]], UserData nullable bytes
 */
#include "api_group.h"

#include "api.h"
#include "common/err.h"
#include "proto_flex.h"
#include "proto_int.h"

static kstr_t rd_kbytes_nn(eddy_rd_t *rd)
{
    kstr_t b = rd_kbytes(rd);
    if (b.len < 0) {
        rd_fail(rd, EDDY_ERR_INVALID_ARG);
        return (kstr_t){"", 0};
    }
    return b;
}

/* ---- FindCoordinator ---- */

int wire_find_coordinator_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                     FindCoordinatorRequest *r)
{
    (void)a;
    if (!broker_api_supported(API_FIND_COORDINATOR, v))
        return EDDY_ERR_INVALID_ARG;
    r->Key = rd_string_nn(rd);
    r->KeyType = v >= 1 ? rd_i8(rd) : 0;
    return rd->rd_err;
}

void wire_find_coordinator_resp_encode(eddy_wr_t *wr, int16_t v, const FindCoordinatorResponse *r)
{
    if (v >= 1)
        wr_i32(wr, r->ThrottleTimeMs);
    wr_i16(wr, r->ErrorCode);
    if (v >= 1)
        wr_string(wr, r->ErrorMessage);
    wr_i32(wr, r->NodeId);
    wr_string(wr, r->Host);
    wr_i32(wr, r->Port);
}

/* ---- JoinGroup ---- */

int wire_join_group_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, JoinGroupRequest *r)
{
    if (!broker_api_supported(API_JOIN_GROUP, v))
        return EDDY_ERR_INVALID_ARG;
    r->GroupId = rd_string_nn(rd);
    r->SessionTimeoutMs = rd_i32(rd);
    r->RebalanceTimeoutMs = v >= 1 ? rd_i32(rd) : r->SessionTimeoutMs;
    r->MemberId = rd_string_nn(rd);
    r->GroupInstanceId = v >= 5 ? rd_string(rd) : KSTR_NULL;
    r->ProtocolType = rd_string_nn(rd);
    int32_t n = rd_array_count_nn(rd, 2 + 4);
    r->Protocols = rd_arena_array(rd, a, n, sizeof *r->Protocols);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        r->Protocols[i].Name = rd_string_nn(rd);
        r->Protocols[i].Metadata = rd_kbytes_nn(rd);
    }
    r->ProtocolsCount = n;
    return rd->rd_err;
}

void wire_join_group_resp_encode(eddy_wr_t *wr, int16_t v, const JoinGroupResponse *r)
{
    if (v >= 2)
        wr_i32(wr, r->ThrottleTimeMs);
    wr_i16(wr, r->ErrorCode);
    wr_i32(wr, r->GenerationId);
    wr_string(wr, r->ProtocolName);
    wr_string(wr, r->Leader);
    wr_string(wr, r->MemberId);
    wr_i32(wr, r->MembersCount);
    for (int32_t i = 0; i < r->MembersCount; i++) {
        wr_string(wr, r->Members[i].MemberId);
        if (v >= 5)
            wr_string(wr, r->Members[i].GroupInstanceId);
        wr_kbytes(wr, r->Members[i].Metadata);
    }
}

/* ---- SyncGroup ---- */

int wire_sync_group_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, SyncGroupRequest *r)
{
    if (!broker_api_supported(API_SYNC_GROUP, v))
        return EDDY_ERR_INVALID_ARG;
    r->GroupId = rd_string_nn(rd);
    r->GenerationId = rd_i32(rd);
    r->MemberId = rd_string_nn(rd);
    r->GroupInstanceId = v >= 3 ? rd_string(rd) : KSTR_NULL;
    int32_t n = rd_array_count_nn(rd, 2 + 4);
    r->Assignments = rd_arena_array(rd, a, n, sizeof *r->Assignments);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        r->Assignments[i].MemberId = rd_string_nn(rd);
        r->Assignments[i].Assignment = rd_kbytes_nn(rd);
    }
    r->AssignmentsCount = n;
    return rd->rd_err;
}

void wire_sync_group_resp_encode(eddy_wr_t *wr, int16_t v, const SyncGroupResponse *r)
{
    if (v >= 1)
        wr_i32(wr, r->ThrottleTimeMs);
    wr_i16(wr, r->ErrorCode);
    wr_kbytes(wr, r->Assignment);
}

/* ---- Heartbeat, LeaveGroup ---- */

int wire_heartbeat_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, HeartbeatRequest *r)
{
    (void)a;
    if (!broker_api_supported(API_HEARTBEAT, v))
        return EDDY_ERR_INVALID_ARG;
    r->GroupId = rd_string_nn(rd);
    r->GenerationId = rd_i32(rd);
    r->MemberId = rd_string_nn(rd);
    r->GroupInstanceId = v >= 3 ? rd_string(rd) : KSTR_NULL;
    return rd->rd_err;
}

void wire_heartbeat_resp_encode(eddy_wr_t *wr, int16_t v, const HeartbeatResponse *r)
{
    if (v >= 1)
        wr_i32(wr, r->ThrottleTimeMs);
    wr_i16(wr, r->ErrorCode);
}

int wire_leave_group_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, LeaveGroupRequest *r)
{
    (void)a;
    if (!broker_api_supported(API_LEAVE_GROUP, v))
        return EDDY_ERR_INVALID_ARG;
    r->GroupId = rd_string_nn(rd);
    r->MemberId = rd_string_nn(rd);
    return rd->rd_err;
}

void wire_leave_group_resp_encode(eddy_wr_t *wr, int16_t v, const LeaveGroupResponse *r)
{
    if (v >= 1)
        wr_i32(wr, r->ThrottleTimeMs);
    wr_i16(wr, r->ErrorCode);
}

/* ---- OffsetCommit ---- */

int wire_offset_commit_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, OffsetCommitRequest *r)
{
    if (!broker_api_supported(API_OFFSET_COMMIT, v))
        return EDDY_ERR_INVALID_ARG;
    r->GroupId = rd_string_nn(rd);
    r->GenerationId = v >= 1 ? rd_i32(rd) : -1;
    r->MemberId = v >= 1 ? rd_string_nn(rd) : (kstr_t){"", 0};
    r->GroupInstanceId = v >= 7 ? rd_string(rd) : KSTR_NULL;
    r->RetentionTimeMs = v >= 2 && v <= 4 ? rd_i64(rd) : -1;
    int32_t n = rd_array_count_nn(rd, 2 + 4);
    r->Topics = rd_arena_array(rd, a, n, sizeof *r->Topics);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        OffsetCommitRequestTopic *t = &r->Topics[i];
        t->Name = rd_string_nn(rd);
        int32_t np = rd_array_count_nn(rd, 4 + 8 + 2);
        t->Partitions = rd_arena_array(rd, a, np, sizeof *t->Partitions);
        for (int32_t j = 0; j < np && !rd->rd_err; j++) {
            OffsetCommitRequestPartition *p = &t->Partitions[j];
            p->PartitionIndex = rd_i32(rd);
            p->CommittedOffset = rd_i64(rd);
            p->CommittedLeaderEpoch = v >= 6 ? rd_i32(rd) : -1;
            p->CommitTimestamp = v == 1 ? rd_i64(rd) : -1;
            p->CommittedMetadata = rd_string(rd);
        }
        t->PartitionsCount = np;
    }
    r->TopicsCount = n;
    return rd->rd_err;
}

void wire_offset_commit_resp_encode(eddy_wr_t *wr, int16_t v, const OffsetCommitResponse *r)
{
    if (v >= 3)
        wr_i32(wr, r->ThrottleTimeMs);
    wr_i32(wr, r->TopicsCount);
    for (int32_t i = 0; i < r->TopicsCount; i++) {
        const OffsetCommitResponseTopic *t = &r->Topics[i];
        wr_string(wr, t->Name);
        wr_i32(wr, t->PartitionsCount);
        for (int32_t j = 0; j < t->PartitionsCount; j++) {
            wr_i32(wr, t->Partitions[j].PartitionIndex);
            wr_i16(wr, t->Partitions[j].ErrorCode);
        }
    }
}

/* ---- OffsetFetch ---- */

int wire_offset_fetch_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, OffsetFetchRequest *r)
{
    if (!broker_api_supported(API_OFFSET_FETCH, v))
        return EDDY_ERR_INVALID_ARG;
    int flex = kafka_is_flexible(API_OFFSET_FETCH, v);
    r->GroupId = rdf_string_nn(rd, flex);
    int32_t n = v >= 2 ? rdf_array_count(rd, flex, flex ? 1 + 1 + 1 : 2 + 4)
                       : rd_array_count_nn(rd, 2 + 4);
    r->Topics = rd_arena_array(rd, a, n, sizeof *r->Topics);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        OffsetFetchRequestTopic *t = &r->Topics[i];
        t->Name = rdf_string_nn(rd, flex);
        int32_t np = rdf_array_count_nn(rd, flex, 4);
        t->PartitionIndexes = rd_arena_array(rd, a, np, sizeof *t->PartitionIndexes);
        for (int32_t j = 0; j < np && !rd->rd_err; j++)
            t->PartitionIndexes[j] = rd_i32(rd);
        t->PartitionIndexesCount = np;
        rdf_tags(rd, flex);
    }
    r->TopicsCount = rd->rd_err ? 0 : n;
    r->RequireStable = v >= 7 ? rd_i8(rd) : 0;
    rdf_tags(rd, flex);
    return rd->rd_err;
}

void wire_offset_fetch_resp_encode(eddy_wr_t *wr, int16_t v, const OffsetFetchResponse *r)
{
    int flex = kafka_is_flexible(API_OFFSET_FETCH, v);
    if (v >= 3)
        wr_i32(wr, r->ThrottleTimeMs);
    wrf_count(wr, flex, r->TopicsCount);
    for (int32_t i = 0; i < r->TopicsCount; i++) {
        const OffsetFetchResponseTopic *t = &r->Topics[i];
        wrf_string(wr, flex, t->Name);
        wrf_count(wr, flex, t->PartitionsCount);
        for (int32_t j = 0; j < t->PartitionsCount; j++) {
            const OffsetFetchResponsePartition *p = &t->Partitions[j];
            wr_i32(wr, p->PartitionIndex);
            wr_i64(wr, p->CommittedOffset);
            if (v >= 5)
                wr_i32(wr, p->CommittedLeaderEpoch);
            wrf_string(wr, flex, p->Metadata);
            wr_i16(wr, p->ErrorCode);
            wrf_tags(wr, flex);
        }
        wrf_tags(wr, flex);
    }
    if (v >= 2)
        wr_i16(wr, r->ErrorCode);
    wrf_tags(wr, flex);
}

/* ---- TxnOffsetCommit ---- */

int wire_txn_offset_commit_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                      TxnOffsetCommitRequest *r)
{
    if (!broker_api_supported(API_TXN_OFFSET_COMMIT, v))
        return EDDY_ERR_INVALID_ARG;
    int flex = kafka_is_flexible(API_TXN_OFFSET_COMMIT, v);
    r->TransactionalId = rdf_string_nn(rd, flex);
    r->GroupId = rdf_string_nn(rd, flex);
    r->ProducerId = rd_i64(rd);
    r->ProducerEpoch = rd_i16(rd);
    r->GenerationId = v >= 3 ? rd_i32(rd) : -1;
    r->MemberId = v >= 3 ? rdf_string_nn(rd, flex) : (kstr_t){"", 0};
    r->GroupInstanceId = v >= 3 ? rdf_string(rd, flex) : KSTR_NULL;
    int32_t n = rdf_array_count_nn(rd, flex, flex ? 1 + 1 + 1 : 2 + 4);
    r->Topics = rd_arena_array(rd, a, n, sizeof *r->Topics);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        OffsetCommitRequestTopic *t = &r->Topics[i];
        t->Name = rdf_string_nn(rd, flex);
        int32_t np = rdf_array_count_nn(rd, flex, flex ? 4 + 8 + 4 + 1 + 1 : 4 + 8 + 2);
        t->Partitions = rd_arena_array(rd, a, np, sizeof *t->Partitions);
        for (int32_t j = 0; j < np && !rd->rd_err; j++) {
            OffsetCommitRequestPartition *p = &t->Partitions[j];
            p->PartitionIndex = rd_i32(rd);
            p->CommittedOffset = rd_i64(rd);
            p->CommittedLeaderEpoch = v >= 2 ? rd_i32(rd) : -1;
            p->CommitTimestamp = -1;
            p->CommittedMetadata = rdf_string(rd, flex);
            rdf_tags(rd, flex);
        }
        t->PartitionsCount = rd->rd_err ? 0 : np;
        rdf_tags(rd, flex);
    }
    r->TopicsCount = rd->rd_err ? 0 : n;
    rdf_tags(rd, flex);
    return rd->rd_err;
}

void wire_txn_offset_commit_resp_encode(eddy_wr_t *wr, int16_t v, const OffsetCommitResponse *r)
{
    int flex = kafka_is_flexible(API_TXN_OFFSET_COMMIT, v);
    wr_i32(wr, r->ThrottleTimeMs);
    wrf_count(wr, flex, r->TopicsCount);
    for (int32_t i = 0; i < r->TopicsCount; i++) {
        const OffsetCommitResponseTopic *t = &r->Topics[i];
        wrf_string(wr, flex, t->Name);
        wrf_count(wr, flex, t->PartitionsCount);
        for (int32_t j = 0; j < t->PartitionsCount; j++) {
            wr_i32(wr, t->Partitions[j].PartitionIndex);
            wr_i16(wr, t->Partitions[j].ErrorCode);
            wrf_tags(wr, flex);
        }
        wrf_tags(wr, flex);
    }
    wrf_tags(wr, flex);
}

/* ---- DescribeGroups, ListGroups, DeleteGroups ---- */

static int32_t rd_string_array(eddy_rd_t *rd, eddy_arena_t *a, kstr_t **out)
{
    int32_t n = rd_array_count_nn(rd, 2);
    *out = rd_arena_array(rd, a, n, sizeof **out);
    for (int32_t i = 0; i < n && !rd->rd_err; i++)
        (*out)[i] = rd_string_nn(rd);
    return rd->rd_err ? 0 : n;
}

/* A string array, legacy or compact. */
static int32_t rdf_string_array(eddy_rd_t *rd, int flex, eddy_arena_t *a, kstr_t **out)
{
    int32_t n = rdf_array_count_nn(rd, flex, flex ? 1 : 2);
    *out = rd_arena_array(rd, a, n, sizeof **out);
    for (int32_t i = 0; i < n && !rd->rd_err; i++)
        (*out)[i] = rdf_string_nn(rd, flex);
    return rd->rd_err ? 0 : n;
}

int wire_describe_groups_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                    DescribeGroupsRequest *r)
{
    if (!broker_api_supported(API_DESCRIBE_GROUPS, v))
        return EDDY_ERR_INVALID_ARG;
    int flex = kafka_is_flexible(API_DESCRIBE_GROUPS, v);
    r->GroupsCount = rdf_string_array(rd, flex, a, &r->Groups);
    r->IncludeAuthorizedOperations = v >= 3 ? rd_i8(rd) : 0;
    rdf_tags(rd, flex);
    return rd->rd_err;
}

void wire_describe_groups_resp_encode(eddy_wr_t *wr, int16_t v, const DescribeGroupsResponse *r)
{
    int flex = kafka_is_flexible(API_DESCRIBE_GROUPS, v);
    if (v >= 1)
        wr_i32(wr, r->ThrottleTimeMs);
    wrf_count(wr, flex, r->GroupsCount);
    for (int32_t i = 0; i < r->GroupsCount; i++) {
        const DescribedGroup *g = &r->Groups[i];
        wr_i16(wr, g->ErrorCode);
        wrf_string(wr, flex, g->GroupId);
        wrf_string(wr, flex, g->GroupState);
        wrf_string(wr, flex, g->ProtocolType);
        wrf_string(wr, flex, g->ProtocolData);
        wrf_count(wr, flex, g->MembersCount);
        for (int32_t j = 0; j < g->MembersCount; j++) {
            const DescribedGroupMember *m = &g->Members[j];
            wrf_string(wr, flex, m->MemberId);
            if (v >= 4)
                wrf_string(wr, flex, m->GroupInstanceId);
            wrf_string(wr, flex, m->ClientId);
            wrf_string(wr, flex, m->ClientHost);
            wrf_bytes(wr, flex, m->MemberMetadata);
            wrf_bytes(wr, flex, m->MemberAssignment);
            wrf_tags(wr, flex);
        }
        if (v >= 3)
            wr_i32(wr, g->AuthorizedOperations);
        wrf_tags(wr, flex);
    }
    wrf_tags(wr, flex);
}

int wire_list_groups_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, ListGroupsRequest *r)
{
    if (!broker_api_supported(API_LIST_GROUPS, v))
        return EDDY_ERR_INVALID_ARG;
    int flex = kafka_is_flexible(API_LIST_GROUPS, v);
    r->StatesFilter = r->TypesFilter = NULL;
    r->StatesFilterCount = r->TypesFilterCount = 0;
    if (v >= 4)
        r->StatesFilterCount = rdf_string_array(rd, flex, a, &r->StatesFilter);
    if (v >= 5)
        r->TypesFilterCount = rdf_string_array(rd, flex, a, &r->TypesFilter);
    rdf_tags(rd, flex);
    return rd->rd_err;
}

void wire_list_groups_resp_encode(eddy_wr_t *wr, int16_t v, const ListGroupsResponse *r)
{
    int flex = kafka_is_flexible(API_LIST_GROUPS, v);
    if (v >= 1)
        wr_i32(wr, r->ThrottleTimeMs);
    wr_i16(wr, r->ErrorCode);
    wrf_count(wr, flex, r->GroupsCount);
    for (int32_t i = 0; i < r->GroupsCount; i++) {
        wrf_string(wr, flex, r->Groups[i].GroupId);
        wrf_string(wr, flex, r->Groups[i].ProtocolType);
        if (v >= 4)
            wrf_string(wr, flex, r->Groups[i].GroupState);
        if (v >= 5)
            wrf_string(wr, flex, r->Groups[i].GroupType);
        wrf_tags(wr, flex);
    }
    wrf_tags(wr, flex);
}

int wire_offset_delete_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, OffsetDeleteRequest *r)
{
    if (!broker_api_supported(API_OFFSET_DELETE, v))
        return EDDY_ERR_INVALID_ARG;
    r->GroupId = rd_string_nn(rd);
    int32_t n = rd_array_count_nn(rd, 2 + 4);
    r->Topics = rd_arena_array(rd, a, n, sizeof *r->Topics);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        OffsetDeleteRequestTopic *t = &r->Topics[i];
        t->Name = rd_string_nn(rd);
        int32_t np = rd_array_count_nn(rd, 4);
        t->Partitions = rd_arena_array(rd, a, np, sizeof *t->Partitions);
        for (int32_t j = 0; j < np && !rd->rd_err; j++)
            t->Partitions[j] = rd_i32(rd);
        t->PartitionsCount = rd->rd_err ? 0 : np;
    }
    r->TopicsCount = rd->rd_err ? 0 : n;
    return rd->rd_err;
}

void wire_offset_delete_resp_encode(eddy_wr_t *wr, int16_t v, const OffsetDeleteResponse *r)
{
    (void)v;
    wr_i16(wr, r->ErrorCode);
    wr_i32(wr, r->ThrottleTimeMs);
    wr_i32(wr, r->TopicsCount);
    for (int32_t i = 0; i < r->TopicsCount; i++) {
        const OffsetDeleteResponseTopic *t = &r->Topics[i];
        wr_string(wr, t->Name);
        wr_i32(wr, t->PartitionsCount);
        for (int32_t j = 0; j < t->PartitionsCount; j++) {
            wr_i32(wr, t->Partitions[j].PartitionIndex);
            wr_i16(wr, t->Partitions[j].ErrorCode);
        }
    }
}

int wire_delete_groups_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, DeleteGroupsRequest *r)
{
    if (!broker_api_supported(API_DELETE_GROUPS, v))
        return EDDY_ERR_INVALID_ARG;
    r->GroupsNamesCount = rd_string_array(rd, a, &r->GroupsNames);
    return rd->rd_err;
}

void wire_delete_groups_resp_encode(eddy_wr_t *wr, int16_t v, const DeleteGroupsResponse *r)
{
    (void)v;
    wr_i32(wr, r->ThrottleTimeMs);
    wr_i32(wr, r->ResultsCount);
    for (int32_t i = 0; i < r->ResultsCount; i++) {
        wr_string(wr, r->Results[i].GroupId);
        wr_i16(wr, r->Results[i].ErrorCode);
    }
}

/* ---- ConsumerProtocol assignment ---- */

int wire_consumer_assignment_decode(eddy_rd_t *rd, eddy_arena_t *a, ConsumerProtocolAssignment *r)
{
    r->Version = rd_i16(rd);
    if (!rd->rd_err && r->Version < 0) /* Kafka: "Unsupported assignment version" */
        rd_fail(rd, EDDY_ERR_INVALID_ARG);
    int32_t n = rd_array_count_nn(rd, 2 + 4);
    r->AssignedPartitions = rd_arena_array(rd, a, n, sizeof *r->AssignedPartitions);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        ConsumerProtocolAssignmentTopic *t = &r->AssignedPartitions[i];
        t->Topic = rd_string_nn(rd);
        int32_t np = rd_array_count_nn(rd, 4);
        t->Partitions = rd_arena_array(rd, a, np, sizeof *t->Partitions);
        for (int32_t j = 0; j < np && !rd->rd_err; j++)
            t->Partitions[j] = rd_i32(rd);
        t->PartitionsCount = np;
    }
    r->AssignedPartitionsCount = n;
    /* A writer may stop here: UserData absent is null. A partial one (1-3
     * bytes) is a truncated field, not an absent one. */
    r->UserData = rd_remaining(rd) > 0 ? rd_kbytes(rd) : KSTR_NULL;
    return rd->rd_err;
}

void wire_consumer_assignment_encode(eddy_wr_t *wr, const ConsumerProtocolAssignment *r)
{
    wr_i16(wr, r->Version);
    wr_i32(wr, r->AssignedPartitionsCount);
    for (int32_t i = 0; i < r->AssignedPartitionsCount; i++) {
        wr_string(wr, r->AssignedPartitions[i].Topic);
        wr_i32(wr, r->AssignedPartitions[i].PartitionsCount);
        for (int32_t j = 0; j < r->AssignedPartitions[i].PartitionsCount; j++)
            wr_i32(wr, r->AssignedPartitions[i].Partitions[j]);
    }
    wr_kbytes(wr, r->UserData);
}

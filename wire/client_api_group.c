/* The client side of the consumer-group APIs (layouts in api_group.c) and
 * the ConsumerProtocol subscription. */
#include "client_api.h"

#include "client_api_int.h"
#include "proto_flex.h"

/* A GroupInstanceId at a version without one: it is not ignorable (static
 * membership would silently be lost), so only null (its default) passes. */
static void cw_no_instance(eddy_wr_t *wr, kstr_t GroupInstanceId)
{
    cw_require(wr, GroupInstanceId.len < 0);
}

/* ---- FindCoordinator ------------------------------------------------------ */

void wire_find_coordinator_req_encode(eddy_wr_t *wr, int16_t v, const FindCoordinatorRequest *r)
{
    if (!cw_version(wr, API_FIND_COORDINATOR, v))
        return;
    cw_string_nn(wr, r->Key);
    if (v >= 1)
        wr_i8(wr, r->KeyType);
    else
        cw_require(wr, r->KeyType == 0); /* not ignorable: v0 finds groups only */
}

int wire_find_coordinator_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                      FindCoordinatorResponse *r)
{
    (void)a;
    int rc = cr_version(API_FIND_COORDINATOR, v);
    if (rc)
        return rc;
    r->ThrottleTimeMs = v >= 1 ? rd_i32(rd) : 0;
    r->ErrorCode = rd_i16(rd);
    r->ErrorMessage = v >= 1 ? rd_string(rd) : KSTR_NULL;
    r->NodeId = rd_i32(rd);
    r->Host = rd_string_nn(rd);
    r->Port = rd_i32(rd);
    return rd->rd_err;
}

/* ---- JoinGroup ------------------------------------------------------------ */

void wire_join_group_req_encode(eddy_wr_t *wr, int16_t v, const JoinGroupRequest *r)
{
    if (!cw_version(wr, API_JOIN_GROUP, v))
        return;
    cw_string_nn(wr, r->GroupId);
    wr_i32(wr, r->SessionTimeoutMs);
    if (v >= 1)
        wr_i32(wr, r->RebalanceTimeoutMs); /* ignorable below */
    cw_string_nn(wr, r->MemberId);
    if (v >= 5)
        wr_string(wr, r->GroupInstanceId); /* nullable */
    else
        cw_no_instance(wr, r->GroupInstanceId);
    cw_string_nn(wr, r->ProtocolType);
    int32_t n = cw_count(wr, r->ProtocolsCount, r->Protocols, 0);
    for (int32_t i = 0; i < n; i++) {
        cw_string_nn(wr, r->Protocols[i].Name);
        cw_kbytes_nn(wr, r->Protocols[i].Metadata);
    }
}

int wire_join_group_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, JoinGroupResponse *r)
{
    int rc = cr_version(API_JOIN_GROUP, v);
    if (rc)
        return rc;
    r->ThrottleTimeMs = v >= 2 ? rd_i32(rd) : 0;
    r->ErrorCode = rd_i16(rd);
    r->GenerationId = rd_i32(rd);
    r->ProtocolName = rd_string_nn(rd);
    r->Leader = rd_string_nn(rd);
    r->MemberId = rd_string_nn(rd);
    int32_t n = rd_array_count_nn(rd, 2 + (v >= 5 ? 2u : 0u) + 4);
    r->Members = rd_arena_array(rd, a, n, sizeof *r->Members);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        JoinGroupResponseMember *m = &r->Members[i];
        m->MemberId = rd_string_nn(rd);
        m->GroupInstanceId = v >= 5 ? rd_string(rd) : KSTR_NULL;
        m->Metadata = rd_kbytes_nn(rd);
    }
    r->MembersCount = rd->rd_err ? 0 : n;
    return rd->rd_err;
}

/* ---- SyncGroup, Heartbeat, LeaveGroup ------------------------------------- */

void wire_sync_group_req_encode(eddy_wr_t *wr, int16_t v, const SyncGroupRequest *r)
{
    if (!cw_version(wr, API_SYNC_GROUP, v))
        return;
    cw_string_nn(wr, r->GroupId);
    wr_i32(wr, r->GenerationId);
    cw_string_nn(wr, r->MemberId);
    if (v >= 3)
        wr_string(wr, r->GroupInstanceId);
    else
        cw_no_instance(wr, r->GroupInstanceId);
    int32_t n = cw_count(wr, r->AssignmentsCount, r->Assignments, 0);
    for (int32_t i = 0; i < n; i++) {
        cw_string_nn(wr, r->Assignments[i].MemberId);
        cw_kbytes_nn(wr, r->Assignments[i].Assignment);
    }
}

int wire_sync_group_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, SyncGroupResponse *r)
{
    (void)a;
    int rc = cr_version(API_SYNC_GROUP, v);
    if (rc)
        return rc;
    r->ThrottleTimeMs = v >= 1 ? rd_i32(rd) : 0;
    r->ErrorCode = rd_i16(rd);
    r->Assignment = rd_kbytes_nn(rd);
    return rd->rd_err;
}

void wire_heartbeat_req_encode(eddy_wr_t *wr, int16_t v, const HeartbeatRequest *r)
{
    if (!cw_version(wr, API_HEARTBEAT, v))
        return;
    cw_string_nn(wr, r->GroupId);
    wr_i32(wr, r->GenerationId);
    cw_string_nn(wr, r->MemberId);
    if (v >= 3)
        wr_string(wr, r->GroupInstanceId);
    else
        cw_no_instance(wr, r->GroupInstanceId);
}

int wire_heartbeat_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, HeartbeatResponse *r)
{
    (void)a;
    int rc = cr_version(API_HEARTBEAT, v);
    if (rc)
        return rc;
    r->ThrottleTimeMs = v >= 1 ? rd_i32(rd) : 0;
    r->ErrorCode = rd_i16(rd);
    return rd->rd_err;
}

void wire_leave_group_req_encode(eddy_wr_t *wr, int16_t v, const LeaveGroupRequest *r)
{
    if (!cw_version(wr, API_LEAVE_GROUP, v))
        return;
    cw_string_nn(wr, r->GroupId);
    cw_string_nn(wr, r->MemberId);
}

int wire_leave_group_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, LeaveGroupResponse *r)
{
    (void)a;
    int rc = cr_version(API_LEAVE_GROUP, v);
    if (rc)
        return rc;
    r->ThrottleTimeMs = v >= 1 ? rd_i32(rd) : 0;
    r->ErrorCode = rd_i16(rd);
    return rd->rd_err;
}

/* ---- OffsetCommit --------------------------------------------------------- */

void wire_offset_commit_req_encode(eddy_wr_t *wr, int16_t v, const OffsetCommitRequest *r)
{
    if (!cw_version(wr, API_OFFSET_COMMIT, v))
        return;
    cw_string_nn(wr, r->GroupId);
    if (v >= 1) { /* ignorable below */
        wr_i32(wr, r->GenerationId);
        cw_string_nn(wr, r->MemberId);
    }
    if (v >= 7)
        wr_string(wr, r->GroupInstanceId);
    else
        cw_no_instance(wr, r->GroupInstanceId);
    if (v >= 2 && v <= 4)
        wr_i64(wr, r->RetentionTimeMs);
    int32_t n = cw_count(wr, r->TopicsCount, r->Topics, 0);
    for (int32_t i = 0; i < n; i++) {
        const OffsetCommitRequestTopic *t = &r->Topics[i];
        cw_string_nn(wr, t->Name);
        int32_t np = cw_count(wr, t->PartitionsCount, t->Partitions, 0);
        for (int32_t j = 0; j < np; j++) {
            const OffsetCommitRequestPartition *p = &t->Partitions[j];
            wr_i32(wr, p->PartitionIndex);
            wr_i64(wr, p->CommittedOffset);
            if (v >= 6)
                wr_i32(wr, p->CommittedLeaderEpoch); /* ignorable below */
            if (v == 1)
                wr_i64(wr, p->CommitTimestamp);
            wr_string(wr, p->CommittedMetadata); /* nullable */
        }
    }
}

int wire_offset_commit_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                   OffsetCommitResponse *r)
{
    int rc = cr_version(API_OFFSET_COMMIT, v);
    if (rc)
        return rc;
    r->ThrottleTimeMs = v >= 3 ? rd_i32(rd) : 0;
    int32_t n = rd_array_count_nn(rd, 2 + 4);
    r->Topics = rd_arena_array(rd, a, n, sizeof *r->Topics);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        OffsetCommitResponseTopic *t = &r->Topics[i];
        t->Name = rd_string_nn(rd);
        int32_t np = rd_array_count_nn(rd, 4 + 2);
        t->Partitions = rd_arena_array(rd, a, np, sizeof *t->Partitions);
        for (int32_t j = 0; j < np && !rd->rd_err; j++) {
            t->Partitions[j].PartitionIndex = rd_i32(rd);
            t->Partitions[j].ErrorCode = rd_i16(rd);
        }
        t->PartitionsCount = rd->rd_err ? 0 : np;
    }
    r->TopicsCount = rd->rd_err ? 0 : n;
    return rd->rd_err;
}

/* ---- OffsetFetch ---------------------------------------------------------- */

void wire_offset_fetch_req_encode(eddy_wr_t *wr, int16_t v, const OffsetFetchRequest *r)
{
    if (!cw_version(wr, API_OFFSET_FETCH, v))
        return;
    if (!kafka_is_flexible(API_OFFSET_FETCH, v)) {
        cw_require(wr, !r->RequireStable); /* not ignorable: below v7 it cannot be said */
        cw_string_nn(wr, r->GroupId);
        int32_t n = cw_count(wr, r->TopicsCount, r->Topics, v >= 2); /* null: all, v2+ */
        for (int32_t i = 0; i < n; i++) {
            cw_string_nn(wr, r->Topics[i].Name);
            cw_int32_array(wr, r->Topics[i].PartitionIndexes, r->Topics[i].PartitionIndexesCount);
        }
        return;
    }
    /* v6+: compact strings and arrays, tags; v7 adds RequireStable. */
    cw_require(wr,
               r->GroupId.len >= 0 && r->TopicsCount >= -1 && (r->TopicsCount <= 0 || r->Topics));
    if (wr->wr_err)
        return;
    wr_compact_string(wr, r->GroupId);
    wrf_count(wr, 1, r->TopicsCount);
    for (int32_t i = 0; i < r->TopicsCount; i++) {
        const OffsetFetchRequestTopic *t = &r->Topics[i];
        cw_require(wr, t->Name.len >= 0 && t->PartitionIndexesCount >= 0 &&
                           (t->PartitionIndexesCount == 0 || t->PartitionIndexes));
        if (wr->wr_err)
            return;
        wr_compact_string(wr, t->Name);
        wrf_count(wr, 1, t->PartitionIndexesCount);
        for (int32_t j = 0; j < t->PartitionIndexesCount; j++)
            wr_i32(wr, t->PartitionIndexes[j]);
        wr_empty_tags(wr);
    }
    if (v >= 7)
        wr_i8(wr, r->RequireStable);
    else
        cw_require(wr, !r->RequireStable); /* not ignorable: below v7 it cannot be said */
    wr_empty_tags(wr);
}

int wire_offset_fetch_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, OffsetFetchResponse *r)
{
    int rc = cr_version(API_OFFSET_FETCH, v);
    if (rc)
        return rc;
    int flex = kafka_is_flexible(API_OFFSET_FETCH, v);
    r->ThrottleTimeMs = v >= 3 ? rd_i32(rd) : 0;
    size_t part_min = 4 + 8 + (v >= 5 ? 4u : 0u) + (flex ? 1u + 2 + 1 : 2u + 2);
    int32_t n = rdf_array_count_nn(rd, flex, flex ? 1 + 1 + 1 : 2 + 4);
    r->Topics = rd_arena_array(rd, a, n, sizeof *r->Topics);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        OffsetFetchResponseTopic *t = &r->Topics[i];
        t->Name = rdf_string_nn(rd, flex);
        int32_t np = rdf_array_count_nn(rd, flex, part_min);
        t->Partitions = rd_arena_array(rd, a, np, sizeof *t->Partitions);
        for (int32_t j = 0; j < np && !rd->rd_err; j++) {
            OffsetFetchResponsePartition *p = &t->Partitions[j];
            p->PartitionIndex = rd_i32(rd);
            p->CommittedOffset = rd_i64(rd);
            p->CommittedLeaderEpoch = v >= 5 ? rd_i32(rd) : -1;
            p->Metadata = rdf_string(rd, flex); /* nullable */
            p->ErrorCode = rd_i16(rd);
            rdf_tags(rd, flex);
        }
        t->PartitionsCount = rd->rd_err ? 0 : np;
        rdf_tags(rd, flex);
    }
    r->ErrorCode = v >= 2 ? rd_i16(rd) : 0;
    rdf_tags(rd, flex);
    r->TopicsCount = rd->rd_err ? 0 : n;
    return rd->rd_err;
}

/* ---- DescribeGroups, ListGroups, DeleteGroups ----------------------------- */

void wire_describe_groups_req_encode(eddy_wr_t *wr, int16_t v, const DescribeGroupsRequest *r)
{
    if (!cw_version(wr, API_DESCRIBE_GROUPS, v))
        return;
    int flex = kafka_is_flexible(API_DESCRIBE_GROUPS, v);
    if (!flex) {
        cw_string_array(wr, r->Groups, r->GroupsCount, 0);
    } else {
        cw_require(wr, r->GroupsCount >= 0 && (r->GroupsCount == 0 || r->Groups));
        int32_t n = wr->wr_err ? 0 : r->GroupsCount;
        wrf_count(wr, flex, n);
        for (int32_t i = 0; i < n; i++) {
            cw_require(wr, r->Groups[i].len >= 0);
            wr_compact_string(wr, r->Groups[i]);
        }
    }
    if (v >= 3)
        wr_i8(wr, r->IncludeAuthorizedOperations);
    wrf_tags(wr, flex);
}

int wire_describe_groups_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                     DescribeGroupsResponse *r)
{
    int rc = cr_version(API_DESCRIBE_GROUPS, v);
    if (rc)
        return rc;
    int flex = kafka_is_flexible(API_DESCRIBE_GROUPS, v);
    r->ThrottleTimeMs = v >= 1 ? rd_i32(rd) : 0;
    int32_t n = rdf_array_count_nn(rd, flex, 2 + 1 + 1 + 1 + 1 + 1);
    r->Groups = rd_arena_array(rd, a, n, sizeof *r->Groups);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        DescribedGroup *g = &r->Groups[i];
        g->ErrorCode = rd_i16(rd);
        g->GroupId = rdf_string_nn(rd, flex);
        g->GroupState = rdf_string_nn(rd, flex);
        g->ProtocolType = rdf_string_nn(rd, flex);
        g->ProtocolData = rdf_string_nn(rd, flex);
        int32_t nm = rdf_array_count_nn(rd, flex, 1 + 1 + 1 + 1 + 1);
        g->Members = rd_arena_array(rd, a, nm, sizeof *g->Members);
        for (int32_t j = 0; j < nm && !rd->rd_err; j++) {
            DescribedGroupMember *m = &g->Members[j];
            m->MemberId = rdf_string_nn(rd, flex);
            m->GroupInstanceId = v >= 4 ? rdf_string(rd, flex) : KSTR_NULL;
            m->ClientId = rdf_string_nn(rd, flex);
            m->ClientHost = rdf_string_nn(rd, flex);
            m->MemberMetadata = rdf_bytes(rd, flex);
            m->MemberAssignment = rdf_bytes(rd, flex);
            if (m->MemberMetadata.len < 0 || m->MemberAssignment.len < 0)
                rd_fail(rd, EDDY_ERR_INVALID_ARG);
            rdf_tags(rd, flex);
        }
        g->MembersCount = rd->rd_err ? 0 : nm;
        g->AuthorizedOperations = v >= 3 ? rd_i32(rd) : INT32_MIN;
        rdf_tags(rd, flex);
    }
    rdf_tags(rd, flex);
    r->GroupsCount = rd->rd_err ? 0 : n;
    return rd->rd_err;
}

void wire_list_groups_req_encode(eddy_wr_t *wr, int16_t v)
{
    if (!cw_version(wr, API_LIST_GROUPS, v))
        return;
    int flex = kafka_is_flexible(API_LIST_GROUPS, v);
    if (v >= 4)
        wrf_count(wr, flex, 0); /* StatesFilter: every state */
    if (v >= 5)
        wrf_count(wr, flex, 0); /* TypesFilter: every type */
    wrf_tags(wr, flex);
}

int wire_list_groups_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, ListGroupsResponse *r)
{
    int rc = cr_version(API_LIST_GROUPS, v);
    if (rc)
        return rc;
    int flex = kafka_is_flexible(API_LIST_GROUPS, v);
    r->ThrottleTimeMs = v >= 1 ? rd_i32(rd) : 0;
    r->ErrorCode = rd_i16(rd);
    int32_t n = rdf_array_count_nn(rd, flex, 1 + 1);
    r->Groups = rd_arena_array(rd, a, n, sizeof *r->Groups);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        ListedGroup *g = &r->Groups[i];
        g->GroupId = rdf_string_nn(rd, flex);
        g->ProtocolType = rdf_string_nn(rd, flex);
        g->GroupState = v >= 4 ? rdf_string_nn(rd, flex) : KSTR_NULL;
        g->GroupType = v >= 5 ? rdf_string_nn(rd, flex) : KSTR_NULL;
        rdf_tags(rd, flex);
    }
    rdf_tags(rd, flex);
    r->GroupsCount = rd->rd_err ? 0 : n;
    return rd->rd_err;
}

void wire_delete_groups_req_encode(eddy_wr_t *wr, int16_t v, const DeleteGroupsRequest *r)
{
    if (!cw_version(wr, API_DELETE_GROUPS, v))
        return;
    cw_string_array(wr, r->GroupsNames, r->GroupsNamesCount, 0);
}

int wire_delete_groups_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                   DeleteGroupsResponse *r)
{
    int rc = cr_version(API_DELETE_GROUPS, v);
    if (rc)
        return rc;
    r->ThrottleTimeMs = rd_i32(rd);
    int32_t n = rd_array_count_nn(rd, 2 + 2);
    r->Results = rd_arena_array(rd, a, n, sizeof *r->Results);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        r->Results[i].GroupId = rd_string_nn(rd);
        r->Results[i].ErrorCode = rd_i16(rd);
    }
    r->ResultsCount = rd->rd_err ? 0 : n;
    return rd->rd_err;
}

/* ---- OffsetDelete ---- */

void wire_offset_delete_req_encode(eddy_wr_t *wr, int16_t v, const OffsetDeleteRequest *r)
{
    if (!cw_version(wr, API_OFFSET_DELETE, v))
        return;
    cw_string_nn(wr, r->GroupId);
    int32_t n = cw_count(wr, r->TopicsCount, r->Topics, 0);
    for (int32_t i = 0; i < n; i++) {
        cw_string_nn(wr, r->Topics[i].Name);
        cw_int32_array(wr, r->Topics[i].Partitions, r->Topics[i].PartitionsCount);
    }
}

int wire_offset_delete_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                   OffsetDeleteResponse *r)
{
    int rc = cr_version(API_OFFSET_DELETE, v);
    if (rc)
        return rc;
    r->ErrorCode = rd_i16(rd);
    r->ThrottleTimeMs = rd_i32(rd);
    int32_t n = rd_array_count_nn(rd, 2 + 4);
    r->Topics = rd_arena_array(rd, a, n, sizeof *r->Topics);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        OffsetDeleteResponseTopic *t = &r->Topics[i];
        t->Name = rd_string_nn(rd);
        int32_t np = rd_array_count_nn(rd, 4 + 2);
        t->Partitions = rd_arena_array(rd, a, np, sizeof *t->Partitions);
        for (int32_t j = 0; j < np && !rd->rd_err; j++) {
            t->Partitions[j].PartitionIndex = rd_i32(rd);
            t->Partitions[j].ErrorCode = rd_i16(rd);
        }
        t->PartitionsCount = rd->rd_err ? 0 : np;
    }
    r->TopicsCount = rd->rd_err ? 0 : n;
    return rd->rd_err;
}

/* ---- ConsumerProtocol subscription ---------------------------------------- */

#define SUBSCRIPTION_MAX_VERSION 3

void wire_consumer_subscription_encode(eddy_wr_t *wr, const ConsumerProtocolSubscription *r)
{
    int16_t v = r->Version;
    if (v < 0 || v > SUBSCRIPTION_MAX_VERSION) {
        cw_fail(wr, EDDY_ERR_INVALID_ARG);
        return;
    }
    wr_i16(wr, v);
    cw_string_array(wr, r->Topics, r->TopicsCount, 0);
    wr_kbytes(wr, r->UserData); /* nullable */
    /* The later fields are ignorable: dropped below their versions. */
    if (v >= 1) {
        int32_t n = cw_count(wr, r->OwnedPartitionsCount, r->OwnedPartitions, 0);
        for (int32_t i = 0; i < n; i++) {
            cw_string_nn(wr, r->OwnedPartitions[i].Topic);
            cw_int32_array(wr, r->OwnedPartitions[i].Partitions,
                           r->OwnedPartitions[i].PartitionsCount);
        }
    }
    if (v >= 2)
        wr_i32(wr, r->GenerationId);
    if (v >= 3)
        wr_string(wr, r->RackId); /* nullable */
}

int wire_consumer_subscription_decode(eddy_rd_t *rd, eddy_arena_t *a,
                                      ConsumerProtocolSubscription *r)
{
    r->UserData = KSTR_NULL;
    r->OwnedPartitions = NULL;
    r->OwnedPartitionsCount = 0;
    r->GenerationId = -1;
    r->RackId = KSTR_NULL;
    r->Version = rd_i16(rd);
    if (!rd->rd_err && r->Version < 0) /* Kafka: "Unsupported subscription version" */
        rd_fail(rd, EDDY_ERR_INVALID_ARG);
    int16_t v = r->Version > SUBSCRIPTION_MAX_VERSION ? SUBSCRIPTION_MAX_VERSION : r->Version;
    r->TopicsCount = rd_string_array_nn(rd, a, &r->Topics);
    /* Each later field may be missing altogether (the body ends before it),
     * never in part. */
    if (rd_remaining(rd) == 0)
        return rd->rd_err;
    r->UserData = rd_kbytes(rd);
    if (v < 1 || rd_remaining(rd) == 0)
        return rd->rd_err;
    int32_t n = rd_array_count_nn(rd, 2 + 4);
    ConsumerProtocolAssignmentTopic *owned = rd_arena_array(rd, a, n, sizeof *owned);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        owned[i].Topic = rd_string_nn(rd);
        owned[i].PartitionsCount = rd_int32_array(rd, a, &owned[i].Partitions);
    }
    r->OwnedPartitions = owned;
    r->OwnedPartitionsCount = rd->rd_err ? 0 : n;
    if (v < 2 || rd_remaining(rd) == 0)
        return rd->rd_err;
    r->GenerationId = rd_i32(rd);
    if (v < 3 || rd_remaining(rd) == 0)
        return rd->rd_err;
    r->RackId = rd_string(rd);
    return rd->rd_err;
}

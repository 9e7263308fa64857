/* libFuzzer target: one request frame (without its 4-byte size prefix) as a
 * client could send it. The header is decoded; if the broker serves that
 * API and version, so is the body, twice: with a 1 MiB arena as the broker
 * does and with a tiny one so the out-of-memory paths run too. A decoded
 * request is then walked (every string must be a view inside the input, every
 * array as long as its count) and echoed into the matching response encoder.
 * The assignments inside a SyncGroup are decoded as ConsumerProtocol
 * assignments too and, where that succeeds, encoded back: the bytes must
 * come out as they went in.
 * Any crash, leak, out-of-bounds read or undefined behaviour is a finding.
 *
 *   tests/fuzz/run.sh [seconds]     builds with clang and runs it
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "wire/api.h"
#include "wire/api_acl.h"
#include "wire/api_cluster.h"
#include "wire/api_group.h"
#include "wire/api_quotas.h"
#include "wire/api_sasl.h"
#include "wire/api_txn.h"
#include "wire/api_txn_markers.h"
#include "wire/proto.h"
#include "wire/recordbatch.h"

/* The arena, per allocation. The real one (common/arena.c) carves arrays
 * out of shared chunks, where ASan cannot see an index one past an array's
 * end. Defined here, these replace it in this binary only (the linker takes
 * the first definition and never pulls arena.o from the archive): every
 * allocation is its own malloc block with redzones, and the limit holds as in
 * the real one. */
struct eddy_arena_chunk {
    eddy_arena_chunk_t *ch_next;
    _Alignas(16) unsigned char ch_data[];
};

void arena_init(eddy_arena_t *ar, size_t limit)
{
    ar->ar_head = NULL;
    ar->ar_used = 0;
    ar->ar_limit = limit;
}

void *arena_alloc(eddy_arena_t *ar, size_t size)
{
    size_t charge = (size + 15) & ~(size_t)15;
    if (charge == 0)
        charge = 16;
    if (charge < size ||
        (ar->ar_limit && (charge > ar->ar_limit || ar->ar_used > ar->ar_limit - charge)))
        return NULL;
    eddy_arena_chunk_t *ch = malloc(sizeof *ch + size);
    if (!ch)
        return NULL;
    memset(ch->ch_data, 0, size);
    ch->ch_next = ar->ar_head;
    ar->ar_head = ch;
    ar->ar_used += charge;
    return ch->ch_data;
}

void *arena_calloc(eddy_arena_t *ar, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    return arena_alloc(ar, n * size);
}

void arena_reset(eddy_arena_t *ar)
{
    while (ar->ar_head) {
        eddy_arena_chunk_t *next = ar->ar_head->ch_next;
        free(ar->ar_head);
        ar->ar_head = next;
    }
    ar->ar_used = 0;
}

void arena_free(eddy_arena_t *ar)
{
    arena_reset(ar);
}

static const uint8_t *in_p;
static size_t in_len;
static volatile uint8_t sink;

/* A decoded string: null only where allowed, else a view of the input. */
static void check_str(kstr_t s, int nullable)
{
    if (s.len < 0) {
        if (!nullable || s.len != -1)
            abort();
        return;
    }
    if (s.len == 0)
        return;
    const uint8_t *p = (const uint8_t *)s.ptr;
    if (p < in_p || (size_t)(p - in_p) > in_len || (size_t)s.len > in_len - (size_t)(p - in_p))
        abort();
    sink ^= p[0];
    sink ^= p[s.len - 1];
}

static void check_count(const void *arr, int32_t n, int nullable)
{
    if (n < 0 ? !nullable || n != -1 : n > 0 && !arr)
        abort();
}

/* An assignment from a SyncGroup: decoded (borrowing from the request), and
 * if well formed, re-encoded to the bytes it came from (with a null UserData
 * appended when the writer left it out). */
static void assignment_round_trip(kstr_t bytes)
{
    if (bytes.len <= 0)
        return;
    static const size_t limits[] = {1 << 20, 64};
    for (size_t l = 0; l < sizeof limits / sizeof limits[0]; l++) {
        eddy_arena_t a;
        arena_init(&a, limits[l]);
        eddy_rd_t rd;
        rd_init(&rd, (const uint8_t *)bytes.ptr, (size_t)bytes.len);
        ConsumerProtocolAssignment r;
        memset(&r, 0, sizeof r);
        int rc = wire_consumer_assignment_decode(&rd, &a, &r);
        if (rc != rd.rd_err)
            abort();
        if (rc == 0) {
            check_count(r.AssignedPartitions, r.AssignedPartitionsCount, 0);
            for (int32_t i = 0; i < r.AssignedPartitionsCount; i++) {
                check_str(r.AssignedPartitions[i].Topic, 0);
                check_count(r.AssignedPartitions[i].Partitions,
                            r.AssignedPartitions[i].PartitionsCount, 0);
                for (int32_t j = 0; j < r.AssignedPartitions[i].PartitionsCount; j++)
                    sink ^= (uint8_t)r.AssignedPartitions[i].Partitions[j];
            }
            check_str(r.UserData, 1);
            size_t used = rd.rd_pos;
            eddy_wr_t wr;
            wr_init(&wr);
            wire_consumer_assignment_encode(&wr, &r);
            if (wr.wr_err || wr.wr_len < used || memcmp(wr.wr_buf, bytes.ptr, used) != 0)
                abort();
            if (wr.wr_len != used) {
                /* Only a UserData the input left out may be added, as null. */
                static const uint8_t null_bytes[4] = {0xff, 0xff, 0xff, 0xff};
                if (r.UserData.len != -1 || wr.wr_len != used + 4 ||
                    memcmp(wr.wr_buf + used, null_bytes, 4) != 0)
                    abort();
            }
            wr_free(&wr);
        }
        arena_free(&a);
    }
}


/* The produce path's record checks, as the broker runs them on each
 * partition's records: validation with the records inside compressed batches
 * (so mutations reach every codec's decoder, bounded at 1 MiB here), then the
 * records read one by one and written into a batch of another codec, which
 * must validate and hold the same number of records (the broker's
 * compression.type recompression). */
#define FUZZ_INFLATE_LIMIT ((size_t)1 << 20)
static void check_batches(kstr_t records)
{
    if (records.len <= 0)
        return;
    const uint8_t *p = (const uint8_t *)records.ptr;
    size_t len = (size_t)records.len;
    char err[256];
    for (size_t pos = 0; pos < len;) {
        wire_batch_header_t h;
        int64_t n = wire_batch_validate(p + pos, len - pos,
                                        WIRE_BATCH_FROM_CLIENT | WIRE_BATCH_CHECK_RECORDS,
                                        FUZZ_INFLATE_LIMIT, &h, err, sizeof err);
        if (n < 0)
            return;
        wire_record_iter_t it;
        if (wire_record_iter_open(&it, p + pos, (size_t)n, FUZZ_INFLATE_LIMIT, err, sizeof err))
            abort(); /* validated records that cannot be opened */
        eddy_wr_t out;
        wr_init(&out);
        wire_batch_header_t t = h;
        t.attributes = (int16_t)((h.attributes & ~BATCH_ATTR_CODEC_MASK) |
                                 (((h.attributes & BATCH_ATTR_CODEC_MASK) + 1) % 5));
        wire_batch_builder_t b;
        wire_batch_begin(&b, &out, &t);
        wire_record_t rec;
        int rc, count = 0;
        while ((rc = wire_record_next(&it, &rec)) == 1) {
            wire_batch_add_record(&b, &rec);
            count++;
        }
        if (rc < 0 || count != h.recordCount)
            abort(); /* validation passed records the iterator refuses */
        if (wire_batch_end(&b, 1) == 0) {
            wire_batch_header_t h2;
            if (wire_batch_validate(out.wr_buf, out.wr_len,
                                    WIRE_BATCH_FROM_CLIENT | WIRE_BATCH_CHECK_RECORDS,
                                    (size_t)1 << 30, &h2, err, sizeof err) < 0 ||
                h2.recordCount != h.recordCount)
                abort(); /* a recompressed batch that does not read back */
        }
        wr_free(&out);
        wire_record_iter_close(&it);
        pos += (size_t)n;
    }
}

static void walk_and_echo(int api, int16_t v, void *req, eddy_arena_t *a)
{
    eddy_wr_t wr;
    wr_init(&wr);
    switch (api) {
    case API_API_VERSIONS: {
        ApiVersionsRequest *r = req;
        check_str(r->ClientSoftwareName, v < 3);
        check_str(r->ClientSoftwareVersion, v < 3);
        ApiVersionsResponse resp = {0, broker_api_versions, broker_api_versions_count, 0};
        wire_api_versions_resp_encode(&wr, v, &resp);
        break;
    }
    case API_METADATA: {
        MetadataRequest *r = req;
        check_count(r->Topics, r->TopicsCount, 1);
        MetadataResponse resp = {0};
        MetadataResponseTopic *t = arena_calloc(a, r->TopicsCount > 0 ? (size_t)r->TopicsCount : 1,
                                                sizeof *t);
        if (!t)
            break;
        for (int32_t i = 0; i < r->TopicsCount; i++) {
            check_str(r->Topics[i], 0);
            t[i].Name = r->Topics[i];
            t[i].ErrorCode = 3;
        }
        resp.Topics = t;
        resp.TopicsCount = r->TopicsCount > 0 ? r->TopicsCount : 0;
        resp.ClusterId = KSTR_NULL;
        wire_metadata_resp_encode(&wr, v, &resp);
        break;
    }
    case API_PRODUCE: {
        ProduceRequest *r = req;
        check_str(r->TransactionalId, 1);
        check_count(r->TopicData, r->TopicDataCount, 0);
        ProduceResponse resp = {0};
        resp.Responses = arena_calloc(a, (size_t)r->TopicDataCount + 1, sizeof *resp.Responses);
        if (!resp.Responses)
            break;
        for (int32_t i = 0; i < r->TopicDataCount; i++) {
            ProduceRequestTopic *t = &r->TopicData[i];
            check_str(t->Name, 0);
            check_count(t->PartitionData, t->PartitionDataCount, 0);
            ProduceResponseTopic *rt = &resp.Responses[i];
            rt->Name = t->Name;
            rt->PartitionResponses = arena_calloc(a, (size_t)t->PartitionDataCount + 1,
                                                  sizeof *rt->PartitionResponses);
            if (!rt->PartitionResponses)
                break;
            for (int32_t j = 0; j < t->PartitionDataCount; j++) {
                check_str(t->PartitionData[j].Records, 1);
                check_batches(t->PartitionData[j].Records);
                rt->PartitionResponses[j].Index = t->PartitionData[j].Index;
                rt->PartitionResponses[j].BaseOffset = t->PartitionData[j].Records.len;
            }
            rt->PartitionResponsesCount = t->PartitionDataCount;
            resp.ResponsesCount = i + 1;
        }
        wire_produce_resp_encode(&wr, v, &resp);
        break;
    }
    case API_FETCH: {
        FetchRequest *r = req;
        check_count(r->Topics, r->TopicsCount, 0);
        check_str(r->RackId, 0);
        wire_fetch_resp_begin(&wr, v, 0, 0, r->SessionId, r->TopicsCount);
        for (int32_t i = 0; i < r->TopicsCount; i++) {
            FetchRequestTopic *t = &r->Topics[i];
            check_str(t->Topic, 0);
            check_count(t->Partitions, t->PartitionsCount, 0);
            wire_fetch_resp_topic(&wr, v, t->Topic, t->PartitionsCount);
            for (int32_t j = 0; j < t->PartitionsCount; j++) {
                FetchRequestPartition *p = &t->Partitions[j];
                wire_fetch_resp_partition(&wr, v, p->Partition, 0, p->FetchOffset, p->FetchOffset,
                                          p->LogStartOffset);
                wr_kbytes(&wr, KSTR_NULL);
            }
        }
        break;
    }
    case API_LIST_OFFSETS: {
        ListOffsetsRequest *r = req;
        check_count(r->Topics, r->TopicsCount, 0);
        ListOffsetsResponse resp = {0};
        resp.Topics = arena_calloc(a, (size_t)r->TopicsCount + 1, sizeof *resp.Topics);
        if (!resp.Topics)
            break;
        for (int32_t i = 0; i < r->TopicsCount; i++) {
            ListOffsetsRequestTopic *t = &r->Topics[i];
            check_str(t->Name, 0);
            check_count(t->Partitions, t->PartitionsCount, 0);
            ListOffsetsResponseTopic *rt = &resp.Topics[i];
            rt->Name = t->Name;
            rt->Partitions = arena_calloc(a, (size_t)t->PartitionsCount + 1,
                                          sizeof *rt->Partitions);
            if (!rt->Partitions)
                break;
            for (int32_t j = 0; j < t->PartitionsCount; j++) {
                rt->Partitions[j].PartitionIndex = t->Partitions[j].PartitionIndex;
                rt->Partitions[j].Timestamp = t->Partitions[j].Timestamp;
                rt->Partitions[j].Offset = t->Partitions[j].Timestamp; /* -1 and -2 both */
            }
            rt->PartitionsCount = t->PartitionsCount;
            resp.TopicsCount = i + 1;
        }
        wire_list_offsets_resp_encode(&wr, v, &resp);
        break;
    }
    case API_CREATE_TOPICS: {
        CreateTopicsRequest *r = req;
        check_count(r->Topics, r->TopicsCount, 0);
        CreateTopicsResponse resp = {0};
        resp.Topics = arena_calloc(a, (size_t)r->TopicsCount + 1, sizeof *resp.Topics);
        if (!resp.Topics)
            break;
        for (int32_t i = 0; i < r->TopicsCount; i++) {
            CreatableTopic *t = &r->Topics[i];
            check_str(t->Name, 0);
            check_count(t->Assignments, t->AssignmentsCount, 0);
            for (int32_t j = 0; j < t->AssignmentsCount; j++) {
                check_count(t->Assignments[j].BrokerIds, t->Assignments[j].BrokerIdsCount, 0);
                for (int32_t k = 0; k < t->Assignments[j].BrokerIdsCount; k++)
                    sink ^= (uint8_t)t->Assignments[j].BrokerIds[k];
            }
            check_count(t->Configs, t->ConfigsCount, 0);
            kstr_t msg = KSTR_NULL;
            for (int32_t j = 0; j < t->ConfigsCount; j++) {
                check_str(t->Configs[j].Name, 0);
                check_str(t->Configs[j].Value, 1);
                msg = t->Configs[j].Value;
            }
            resp.Topics[i].Name = t->Name;
            resp.Topics[i].ErrorMessage = msg;
        }
        resp.TopicsCount = r->TopicsCount;
        wire_create_topics_resp_encode(&wr, v, &resp);
        break;
    }
    case API_DELETE_TOPICS: {
        DeleteTopicsRequest *r = req;
        check_count(r->TopicNames, r->TopicNamesCount, 0);
        DeleteTopicsResponse resp = {0};
        resp.Responses = arena_calloc(a, (size_t)r->TopicNamesCount + 1, sizeof *resp.Responses);
        if (!resp.Responses)
            break;
        for (int32_t i = 0; i < r->TopicNamesCount; i++) {
            check_str(r->TopicNames[i], 0);
            resp.Responses[i].Name = r->TopicNames[i];
        }
        resp.ResponsesCount = r->TopicNamesCount;
        wire_delete_topics_resp_encode(&wr, v, &resp);
        break;
    }
    case API_DELETE_RECORDS: {
        DeleteRecordsRequest *r = req;
        check_count(r->Topics, r->TopicsCount, 0);
        DeleteRecordsResponse resp = {0};
        resp.Topics = arena_calloc(a, (size_t)r->TopicsCount + 1, sizeof *resp.Topics);
        if (!resp.Topics)
            break;
        for (int32_t i = 0; i < r->TopicsCount; i++) {
            DeleteRecordsTopic *t = &r->Topics[i];
            check_str(t->Name, 0);
            check_count(t->Partitions, t->PartitionsCount, 0);
            resp.Topics[i].Name = t->Name;
            resp.Topics[i].PartitionsCount = 0;
        }
        resp.TopicsCount = r->TopicsCount;
        wire_delete_records_resp_encode(&wr, v, &resp);
        break;
    }
    case API_INIT_PRODUCER_ID: {
        InitProducerIdRequest *r = req;
        check_str(r->TransactionalId, 1);
        InitProducerIdResponse resp = {0, 0, r->ProducerId, r->ProducerEpoch};
        wire_init_producer_id_resp_encode(&wr, v, &resp);
        break;
    }
    case API_DESCRIBE_CONFIGS: {
        DescribeConfigsRequest *r = req;
        check_count(r->Resources, r->ResourcesCount, 0);
        DescribeConfigsResponse resp = {0};
        resp.Results = arena_calloc(a, (size_t)r->ResourcesCount + 1, sizeof *resp.Results);
        if (!resp.Results)
            break;
        for (int32_t i = 0; i < r->ResourcesCount; i++) {
            DescribeConfigsResource *res = &r->Resources[i];
            check_str(res->ResourceName, 0);
            check_count(res->ConfigurationKeys, res->ConfigurationKeysCount, 1);
            DescribeConfigsResult *out = &resp.Results[i];
            out->ResourceType = res->ResourceType;
            out->ResourceName = res->ResourceName;
            out->ErrorMessage = KSTR_NULL;
            if (res->ConfigurationKeysCount > 0) {
                out->Configs = arena_calloc(a, (size_t)res->ConfigurationKeysCount,
                                            sizeof *out->Configs);
                if (!out->Configs)
                    break;
                for (int32_t j = 0; j < res->ConfigurationKeysCount; j++) {
                    check_str(res->ConfigurationKeys[j], 0);
                    out->Configs[j].Name = res->ConfigurationKeys[j];
                    out->Configs[j].Value = KSTR_NULL;
                }
                out->ConfigsCount = res->ConfigurationKeysCount;
            }
            resp.ResultsCount = i + 1;
        }
        wire_describe_configs_resp_encode(&wr, v, &resp);
        break;
    }
    case API_FIND_COORDINATOR: {
        FindCoordinatorRequest *r = req;
        check_str(r->Key, 0);
        FindCoordinatorResponse resp = {0, 0, r->Key, r->KeyType, r->Key, 9092};
        wire_find_coordinator_resp_encode(&wr, v, &resp);
        break;
    }
    case API_JOIN_GROUP: {
        JoinGroupRequest *r = req;
        check_str(r->GroupId, 0);
        check_str(r->MemberId, 0);
        check_str(r->GroupInstanceId, 1);
        if (v < 5 && r->GroupInstanceId.len != -1)
            abort();
        if (v < 1 && r->RebalanceTimeoutMs != r->SessionTimeoutMs)
            abort();
        check_str(r->ProtocolType, 0);
        check_count(r->Protocols, r->ProtocolsCount, 0);
        JoinGroupResponse resp = {0};
        resp.Members = arena_calloc(a, (size_t)r->ProtocolsCount + 1, sizeof *resp.Members);
        if (!resp.Members)
            break;
        for (int32_t i = 0; i < r->ProtocolsCount; i++) {
            check_str(r->Protocols[i].Name, 0);
            check_str(r->Protocols[i].Metadata, 0);
            resp.Members[i].MemberId = r->Protocols[i].Name;
            resp.Members[i].GroupInstanceId = r->GroupInstanceId;
            resp.Members[i].Metadata = r->Protocols[i].Metadata;
        }
        resp.MembersCount = r->ProtocolsCount;
        resp.GenerationId = r->SessionTimeoutMs;
        resp.ProtocolName = r->ProtocolType;
        resp.Leader = r->MemberId;
        resp.MemberId = r->GroupId;
        wire_join_group_resp_encode(&wr, v, &resp);
        break;
    }
    case API_SYNC_GROUP: {
        SyncGroupRequest *r = req;
        check_str(r->GroupId, 0);
        check_str(r->MemberId, 0);
        check_str(r->GroupInstanceId, 1);
        if (v < 3 && r->GroupInstanceId.len != -1)
            abort();
        check_count(r->Assignments, r->AssignmentsCount, 0);
        SyncGroupResponse resp = {0, 0, {"", 0}};
        for (int32_t i = 0; i < r->AssignmentsCount; i++) {
            check_str(r->Assignments[i].MemberId, 0);
            check_str(r->Assignments[i].Assignment, 0);
            assignment_round_trip(r->Assignments[i].Assignment);
            resp.Assignment = r->Assignments[i].Assignment;
        }
        wire_sync_group_resp_encode(&wr, v, &resp);
        break;
    }
    case API_HEARTBEAT: {
        HeartbeatRequest *r = req;
        check_str(r->GroupId, 0);
        check_str(r->MemberId, 0);
        check_str(r->GroupInstanceId, 1);
        if (v < 3 && r->GroupInstanceId.len != -1)
            abort();
        HeartbeatResponse resp = {r->GenerationId, 27};
        wire_heartbeat_resp_encode(&wr, v, &resp);
        break;
    }
    case API_LEAVE_GROUP: {
        LeaveGroupRequest *r = req;
        check_str(r->GroupId, 0);
        check_str(r->MemberId, 0);
        LeaveGroupResponse resp = {0, 25};
        wire_leave_group_resp_encode(&wr, v, &resp);
        break;
    }
    case API_OFFSET_COMMIT: {
        OffsetCommitRequest *r = req;
        check_str(r->GroupId, 0);
        check_str(r->MemberId, 0);
        check_str(r->GroupInstanceId, 1);
        if ((v < 7 && r->GroupInstanceId.len != -1) || (v < 1 && r->GenerationId != -1) ||
            ((v < 2 || v > 4) && r->RetentionTimeMs != -1))
            abort();
        check_count(r->Topics, r->TopicsCount, 0);
        OffsetCommitResponse resp = {0};
        resp.Topics = arena_calloc(a, (size_t)r->TopicsCount + 1, sizeof *resp.Topics);
        if (!resp.Topics)
            break;
        for (int32_t i = 0; i < r->TopicsCount; i++) {
            OffsetCommitRequestTopic *t = &r->Topics[i];
            check_str(t->Name, 0);
            check_count(t->Partitions, t->PartitionsCount, 0);
            OffsetCommitResponseTopic *rt = &resp.Topics[i];
            rt->Name = t->Name;
            rt->Partitions = arena_calloc(a, (size_t)t->PartitionsCount + 1,
                                          sizeof *rt->Partitions);
            if (!rt->Partitions)
                break;
            for (int32_t j = 0; j < t->PartitionsCount; j++) {
                OffsetCommitRequestPartition *p = &t->Partitions[j];
                check_str(p->CommittedMetadata, 1);
                if ((v < 6 && p->CommittedLeaderEpoch != -1) ||
                    (v != 1 && p->CommitTimestamp != -1))
                    abort();
                rt->Partitions[j].PartitionIndex = p->PartitionIndex;
                rt->Partitions[j].ErrorCode = (int16_t)p->CommittedOffset;
            }
            rt->PartitionsCount = t->PartitionsCount;
            resp.TopicsCount = i + 1;
        }
        wire_offset_commit_resp_encode(&wr, v, &resp);
        break;
    }
    case API_TXN_OFFSET_COMMIT: {
        TxnOffsetCommitRequest *r = req;
        check_str(r->TransactionalId, 0);
        check_str(r->GroupId, 0);
        check_str(r->MemberId, 0);
        check_str(r->GroupInstanceId, 1);
        if (v < 3 && (r->GenerationId != -1 || r->GroupInstanceId.len != -1 || r->MemberId.len))
            abort();
        check_count(r->Topics, r->TopicsCount, 0);
        OffsetCommitResponse resp = {0};
        resp.Topics = arena_calloc(a, (size_t)r->TopicsCount + 1, sizeof *resp.Topics);
        if (!resp.Topics)
            break;
        for (int32_t i = 0; i < r->TopicsCount; i++) {
            OffsetCommitRequestTopic *t = &r->Topics[i];
            check_str(t->Name, 0);
            check_count(t->Partitions, t->PartitionsCount, 0);
            OffsetCommitResponseTopic *rt = &resp.Topics[i];
            rt->Name = t->Name;
            rt->Partitions = arena_calloc(a, (size_t)t->PartitionsCount + 1,
                                          sizeof *rt->Partitions);
            if (!rt->Partitions)
                break;
            for (int32_t j = 0; j < t->PartitionsCount; j++) {
                check_str(t->Partitions[j].CommittedMetadata, 1);
                if (v < 2 && t->Partitions[j].CommittedLeaderEpoch != -1)
                    abort();
                rt->Partitions[j].PartitionIndex = t->Partitions[j].PartitionIndex;
            }
            rt->PartitionsCount = t->PartitionsCount;
            resp.TopicsCount = i + 1;
        }
        wire_txn_offset_commit_resp_encode(&wr, v, &resp);
        break;
    }
    case API_OFFSET_FETCH: {
        OffsetFetchRequest *r = req;
        check_str(r->GroupId, 0);
        check_count(r->Topics, r->TopicsCount, v >= 2);
        OffsetFetchResponse resp = {0};
        resp.Topics = arena_calloc(a, r->TopicsCount > 0 ? (size_t)r->TopicsCount : 1,
                                   sizeof *resp.Topics);
        if (!resp.Topics)
            break;
        for (int32_t i = 0; i < r->TopicsCount; i++) {
            OffsetFetchRequestTopic *t = &r->Topics[i];
            check_str(t->Name, 0);
            check_count(t->PartitionIndexes, t->PartitionIndexesCount, 0);
            OffsetFetchResponseTopic *rt = &resp.Topics[i];
            rt->Name = t->Name;
            rt->Partitions = arena_calloc(a, (size_t)t->PartitionIndexesCount + 1,
                                          sizeof *rt->Partitions);
            if (!rt->Partitions)
                break;
            for (int32_t j = 0; j < t->PartitionIndexesCount; j++) {
                rt->Partitions[j].PartitionIndex = t->PartitionIndexes[j];
                rt->Partitions[j].CommittedOffset = -1;
                rt->Partitions[j].CommittedLeaderEpoch = -1;
                rt->Partitions[j].Metadata = j & 1 ? KSTR_NULL : t->Name;
            }
            rt->PartitionsCount = t->PartitionIndexesCount;
            resp.TopicsCount = i + 1;
        }
        resp.ErrorCode = r->TopicsCount < 0 ? 69 : 0;
        wire_offset_fetch_resp_encode(&wr, v, &resp);
        break;
    }
    case API_DESCRIBE_GROUPS: {
        DescribeGroupsRequest *r = req;
        check_count(r->Groups, r->GroupsCount, 0);
        DescribeGroupsResponse resp = {0};
        resp.Groups = arena_calloc(a, (size_t)r->GroupsCount + 1, sizeof *resp.Groups);
        if (!resp.Groups)
            break;
        DescribedGroupMember m = {kstr_c("m"),  kstr_c("i"), kstr_c("c"),
                                  kstr_c("/h"), {"", 0},     {"", 0}};
        for (int32_t i = 0; i < r->GroupsCount; i++) {
            check_str(r->Groups[i], 0);
            DescribedGroup *g = &resp.Groups[i];
            g->GroupId = r->Groups[i];
            g->GroupState = kstr_c(i & 1 ? "Dead" : "Stable");
            g->ProtocolType = g->ProtocolData = r->Groups[i];
            g->Members = &m;
            g->MembersCount = i & 1 ? 0 : 1;
            g->AuthorizedOperations = r->IncludeAuthorizedOperations ? 328 : INT32_MIN;
        }
        resp.GroupsCount = r->GroupsCount;
        wire_describe_groups_resp_encode(&wr, v, &resp);
        break;
    }
    case API_LIST_GROUPS: {
        ListGroupsRequest *r = req;
        check_count(r->StatesFilter, r->StatesFilterCount, 0);
        check_count(r->TypesFilter, r->TypesFilterCount, 0);
        for (int32_t i = 0; i < r->StatesFilterCount; i++)
            check_str(r->StatesFilter[i], 0);
        for (int32_t i = 0; i < r->TypesFilterCount; i++)
            check_str(r->TypesFilter[i], 0);
        ListedGroup g = {kstr_c("g"), kstr_c("consumer"), kstr_c("Stable"), kstr_c("classic")};
        ListGroupsResponse resp = {0, 0, &g, 1};
        wire_list_groups_resp_encode(&wr, v, &resp);
        break;
    }
    case API_OFFSET_DELETE: {
        OffsetDeleteRequest *r = req;
        check_str(r->GroupId, 0);
        check_count(r->Topics, r->TopicsCount, 0);
        OffsetDeleteResponse resp = {0};
        resp.Topics = arena_calloc(a, (size_t)r->TopicsCount + 1, sizeof *resp.Topics);
        if (!resp.Topics)
            break;
        for (int32_t i = 0; i < r->TopicsCount; i++) {
            const OffsetDeleteRequestTopic *t = &r->Topics[i];
            check_str(t->Name, 0);
            check_count(t->Partitions, t->PartitionsCount, 0);
            OffsetDeleteResponseTopic *rt = &resp.Topics[i];
            rt->Name = t->Name;
            rt->Partitions = arena_calloc(a, (size_t)t->PartitionsCount + 1,
                                          sizeof *rt->Partitions);
            if (!rt->Partitions)
                break;
            for (int32_t j = 0; j < t->PartitionsCount; j++)
                rt->Partitions[j].PartitionIndex = t->Partitions[j];
            rt->PartitionsCount = t->PartitionsCount;
            resp.TopicsCount = i + 1;
        }
        wire_offset_delete_resp_encode(&wr, v, &resp);
        break;
    }
    case API_CREATE_PARTITIONS: {
        CreatePartitionsRequest *r = req;
        check_count(r->Topics, r->TopicsCount, 0);
        CreatePartitionsResponse resp = {0};
        resp.Results = arena_calloc(a, (size_t)r->TopicsCount + 1, sizeof *resp.Results);
        if (!resp.Results)
            break;
        for (int32_t i = 0; i < r->TopicsCount; i++) {
            const CreatePartitionsTopic *t = &r->Topics[i];
            check_str(t->Name, 0);
            check_count(t->Assignments, t->AssignmentsCount, 1);
            for (int32_t j = 0; j < t->AssignmentsCount; j++)
                check_count(t->Assignments[j].BrokerIds, t->Assignments[j].BrokerIdsCount, 0);
            resp.Results[i].Name = t->Name;
            resp.Results[i].ErrorMessage = i & 1 ? KSTR_NULL : t->Name;
        }
        resp.ResultsCount = r->TopicsCount;
        wire_create_partitions_resp_encode(&wr, v, &resp);
        break;
    }
    case API_ALTER_CONFIGS:
    case API_INCREMENTAL_ALTER_CONFIGS: {
        AlterConfigsRequest *r = req;
        check_count(r->Resources, r->ResourcesCount, 0);
        AlterConfigsResponse resp = {0};
        resp.Responses = arena_calloc(a, (size_t)r->ResourcesCount + 1, sizeof *resp.Responses);
        if (!resp.Responses)
            break;
        for (int32_t i = 0; i < r->ResourcesCount; i++) {
            AlterConfigsResource *res = &r->Resources[i];
            check_str(res->ResourceName, 0);
            check_count(res->Configs, res->ConfigsCount, 0);
            for (int32_t j = 0; j < res->ConfigsCount; j++) {
                check_str(res->Configs[j].Name, 0);
                check_str(res->Configs[j].Value, 1);
            }
            resp.Responses[i].ResourceType = res->ResourceType;
            resp.Responses[i].ResourceName = res->ResourceName;
            resp.Responses[i].ErrorMessage = i & 1 ? KSTR_NULL : res->ResourceName;
        }
        resp.ResponsesCount = r->ResourcesCount;
        wire_alter_configs_resp_encode(&wr, api, v, &resp);
        break;
    }
    case API_DESCRIBE_CLUSTER: {
        DescribeClusterBroker br = {0, kstr_c("127.0.0.1"), 9092, KSTR_NULL};
        DescribeClusterResponse resp = {0, 0, KSTR_NULL, 1, kstr_c("c"), 0, &br, 1, INT32_MIN};
        wire_describe_cluster_resp_encode(&wr, v, &resp);
        break;
    }
    case API_DELETE_GROUPS: {
        DeleteGroupsRequest *r = req;
        check_count(r->GroupsNames, r->GroupsNamesCount, 0);
        DeleteGroupsResponse resp = {0};
        resp.Results = arena_calloc(a, (size_t)r->GroupsNamesCount + 1, sizeof *resp.Results);
        if (!resp.Results)
            break;
        for (int32_t i = 0; i < r->GroupsNamesCount; i++) {
            check_str(r->GroupsNames[i], 0);
            resp.Results[i].GroupId = r->GroupsNames[i];
            resp.Results[i].ErrorCode = 69;
        }
        resp.ResultsCount = r->GroupsNamesCount;
        wire_delete_groups_resp_encode(&wr, v, &resp);
        break;
    }
    case API_DESCRIBE_ACLS: {
        DescribeAclsRequest *r = req;
        check_str(r->ResourceName, 1);
        check_str(r->Principal, 1);
        check_str(r->Host, 1);
        AclDescription d = {kstr_or_empty(r->Principal), kstr_or_empty(r->Host), r->Operation,
                            r->PermissionType};
        DescribeAclsResource res = {r->ResourceType, kstr_or_empty(r->ResourceName), r->PatternType,
                                    &d, 1};
        DescribeAclsResponse resp = {0, 0, r->Host, &res, 1};
        wire_describe_acls_resp_encode(&wr, v, &resp);
        break;
    }
    case API_CREATE_ACLS: {
        CreateAclsRequest *r = req;
        check_count(r->Creations, r->CreationsCount, 0);
        CreateAclsResponse resp = {0};
        resp.Results = arena_calloc(a, (size_t)r->CreationsCount + 1, sizeof *resp.Results);
        if (!resp.Results)
            break;
        for (int32_t i = 0; i < r->CreationsCount; i++) {
            check_str(r->Creations[i].ResourceName, 0);
            check_str(r->Creations[i].Principal, 0);
            check_str(r->Creations[i].Host, 0);
            resp.Results[i].ErrorMessage = i & 1 ? KSTR_NULL : r->Creations[i].Principal;
        }
        resp.ResultsCount = r->CreationsCount;
        wire_create_acls_resp_encode(&wr, v, &resp);
        break;
    }
    case API_DELETE_ACLS: {
        DeleteAclsRequest *r = req;
        check_count(r->Filters, r->FiltersCount, 0);
        DeleteAclsResponse resp = {0};
        resp.FilterResults = arena_calloc(a, (size_t)r->FiltersCount + 1,
                                          sizeof *resp.FilterResults);
        DeleteAclsMatchingAcl *m = arena_calloc(a, (size_t)r->FiltersCount + 1, sizeof *m);
        if (!resp.FilterResults || !m)
            break;
        for (int32_t i = 0; i < r->FiltersCount; i++) {
            AclBinding *f = &r->Filters[i];
            check_str(f->ResourceName, 1);
            check_str(f->Principal, 1);
            check_str(f->Host, 1);
            m[i].Acl = *f;
            m[i].Acl.ResourceName = kstr_or_empty(f->ResourceName);
            m[i].Acl.Principal = kstr_or_empty(f->Principal);
            m[i].Acl.Host = kstr_or_empty(f->Host);
            m[i].ErrorMessage = KSTR_NULL;
            resp.FilterResults[i].ErrorMessage = KSTR_NULL;
            resp.FilterResults[i].MatchingAcls = &m[i];
            resp.FilterResults[i].MatchingAclsCount = 1;
        }
        resp.FilterResultsCount = r->FiltersCount;
        wire_delete_acls_resp_encode(&wr, v, &resp);
        break;
    }
    case API_SASL_HANDSHAKE: {
        SaslHandshakeRequest *r = req;
        check_str(r->Mechanism, 0);
        kstr_t mechs[2] = {r->Mechanism, kstr_c("PLAIN")};
        SaslHandshakeResponse resp = {0, mechs, 2};
        wire_sasl_handshake_resp_encode(&wr, v, &resp);
        break;
    }
    case API_SASL_AUTHENTICATE: {
        SaslAuthenticateRequest *r = req;
        check_str(r->AuthBytes, 0);
        SaslAuthenticateResponse resp = {58, r->AuthBytes, r->AuthBytes, 0};
        wire_sasl_authenticate_resp_encode(&wr, v, &resp);
        break;
    }
    case API_DESCRIBE_USER_SCRAM_CREDENTIALS: {
        DescribeUserScramCredentialsRequest *r = req;
        check_count(r->Users, r->UsersCount, 1);
        DescribeUserScramCredentialsResponse resp = {0, 0, KSTR_NULL, NULL, 0};
        int32_t n = r->UsersCount > 0 ? r->UsersCount : 0;
        resp.Results = arena_calloc(a, (size_t)n + 1, sizeof *resp.Results);
        if (!resp.Results)
            break;
        static ScramCredentialInfo info = {1, 4096};
        for (int32_t i = 0; i < n; i++) {
            check_str(r->Users[i], 0);
            resp.Results[i].User = r->Users[i];
            resp.Results[i].ErrorMessage = i & 1 ? KSTR_NULL : r->Users[i];
            resp.Results[i].CredentialInfos = &info;
            resp.Results[i].CredentialInfosCount = 1;
        }
        resp.ResultsCount = n;
        wire_describe_user_scram_resp_encode(&wr, v, &resp);
        break;
    }
    case API_ALTER_USER_SCRAM_CREDENTIALS: {
        AlterUserScramCredentialsRequest *r = req;
        check_count(r->Deletions, r->DeletionsCount, 0);
        check_count(r->Upsertions, r->UpsertionsCount, 0);
        AlterUserScramCredentialsResponse resp = {0, NULL, 0};
        resp.Results = arena_calloc(a, (size_t)r->DeletionsCount + (size_t)r->UpsertionsCount + 1,
                                    sizeof *resp.Results);
        if (!resp.Results)
            break;
        for (int32_t i = 0; i < r->DeletionsCount; i++) {
            check_str(r->Deletions[i].Name, 0);
            resp.Results[resp.ResultsCount].User = r->Deletions[i].Name;
            resp.Results[resp.ResultsCount++].ErrorMessage = KSTR_NULL;
        }
        for (int32_t i = 0; i < r->UpsertionsCount; i++) {
            check_str(r->Upsertions[i].Name, 0);
            check_str(r->Upsertions[i].Salt, 0);
            check_str(r->Upsertions[i].SaltedPassword, 0);
            resp.Results[resp.ResultsCount].User = r->Upsertions[i].Name;
            resp.Results[resp.ResultsCount++].ErrorMessage = r->Upsertions[i].Salt;
        }
        wire_alter_user_scram_resp_encode(&wr, v, &resp);
        break;
    }
    case API_DESCRIBE_CLIENT_QUOTAS: {
        DescribeClientQuotasRequest *r = req;
        check_count(r->Components, r->ComponentsCount, 0);
        for (int32_t i = 0; i < r->ComponentsCount; i++) {
            check_str(r->Components[i].EntityType, 0);
            check_str(r->Components[i].Match, 1);
        }
        DescribeClientQuotasResponse resp = {0, 0, KSTR_NULL, 0};
        wire_describe_client_quotas_resp_encode(&wr, v, &resp);
        break;
    }
    case API_WRITE_TXN_MARKERS: {
        WriteTxnMarkersRequest *r = req;
        check_count(r->Markers, r->MarkersCount, 0);
        for (int32_t i = 0; i < r->MarkersCount; i++) {
            const WritableTxnMarker *m = &r->Markers[i];
            check_count(m->Topics, m->TopicsCount, 0);
            for (int32_t j = 0; j < m->TopicsCount; j++) {
                check_str(m->Topics[j].Name, 0);
                check_count(m->Topics[j].PartitionIndexes, m->Topics[j].PartitionIndexesCount, 0);
            }
        }
        wire_write_txn_markers_resp_encode(&wr, v, r);
        break;
    }
    case API_ADD_PARTITIONS_TO_TXN: {
        AddPartitionsToTxnRequest *r = req;
        check_str(r->TransactionalId, 1);
        check_count(r->Topics, r->TopicsCount, 1);
        AddPartitionsToTxnResponse resp = {0, NULL, 0};
        int32_t n = r->TopicsCount > 0 ? r->TopicsCount : 0;
        resp.Topics = arena_calloc(a, (size_t)n + 1, sizeof *resp.Topics);
        if (!resp.Topics)
            break;
        for (int32_t i = 0; i < n; i++) {
            const TxnTopic *t = &r->Topics[i];
            check_str(t->Name, 0);
            check_count(t->Partitions, t->PartitionsCount, 1);
            int32_t np = t->PartitionsCount > 0 ? t->PartitionsCount : 0;
            AddPartitionsToTxnTopicResult *tr = &resp.Topics[i];
            tr->Name = t->Name;
            tr->Results = arena_calloc(a, (size_t)np + 1, sizeof *tr->Results);
            if (!tr->Results)
                break;
            for (int32_t j = 0; j < np; j++)
                tr->Results[j] = (AddPartitionsToTxnPartitionResult){t->Partitions[j], 48};
            tr->ResultsCount = np;
            resp.TopicsCount = i + 1;
        }
        wire_add_partitions_to_txn_resp_encode(&wr, v, &resp);
        break;
    }
    case API_ADD_OFFSETS_TO_TXN: {
        AddOffsetsToTxnRequest *r = req;
        check_str(r->TransactionalId, 1);
        check_str(r->GroupId, 1);
        wire_txn_error_resp_encode(&wr, API_ADD_OFFSETS_TO_TXN, v, 51);
        break;
    }
    case API_END_TXN: {
        EndTxnRequest *r = req;
        check_str(r->TransactionalId, 1);
        wire_txn_error_resp_encode(&wr, API_END_TXN, v, 48);
        break;
    }
    case API_DESCRIBE_TRANSACTIONS: {
        DescribeTransactionsRequest *r = req;
        check_count(r->TransactionalIds, r->TransactionalIdsCount, 1);
        DescribeTransactionsResponse resp = {0, NULL, 0};
        int32_t n = r->TransactionalIdsCount > 0 ? r->TransactionalIdsCount : 0;
        resp.States = arena_calloc(a, (size_t)n + 1, sizeof *resp.States);
        if (!resp.States)
            break;
        for (int32_t i = 0; i < n; i++) {
            check_str(r->TransactionalIds[i], 0);
            resp.States[i].TransactionalId = r->TransactionalIds[i];
            resp.States[i].TransactionState = kstr_c("Ongoing");
            resp.States[i].ProducerId = i;
        }
        resp.StatesCount = n;
        wire_describe_transactions_resp_encode(&wr, v, &resp);
        break;
    }
    case API_LIST_TRANSACTIONS: {
        ListTransactionsRequest *r = req;
        check_count(r->StateFilters, r->StateFiltersCount, 1);
        check_count(r->ProducerIdFilters, r->ProducerIdFiltersCount, 1);
        for (int32_t i = 0; i < r->StateFiltersCount; i++)
            check_str(r->StateFilters[i], 0);
        ListTransactionsResponse resp = {0, 0, NULL, 0, NULL, 0};
        resp.UnknownStateFilters = r->StateFilters;
        resp.UnknownStateFiltersCount = r->StateFiltersCount > 0 ? r->StateFiltersCount : 0;
        wire_list_transactions_resp_encode(&wr, v, &resp);
        break;
    }
    default: abort(); /* broker_api_supported() said yes to an API we do not decode */
    }
    if (wr.wr_err)
        abort(); /* every echo is encodable: its strings came off the wire */
    wr_free(&wr);
}

static int decode_body(int api, int16_t v, eddy_rd_t *rd, eddy_arena_t *a, void *out)
{
    switch (api) {
    case API_API_VERSIONS: return wire_api_versions_req_decode(rd, v, a, out);
    case API_METADATA: return wire_metadata_req_decode(rd, v, a, out);
    case API_PRODUCE: return wire_produce_req_decode(rd, v, a, out);
    case API_FETCH: return wire_fetch_req_decode(rd, v, a, out);
    case API_LIST_OFFSETS: return wire_list_offsets_req_decode(rd, v, a, out);
    case API_CREATE_TOPICS: return wire_create_topics_req_decode(rd, v, a, out);
    case API_DELETE_TOPICS: return wire_delete_topics_req_decode(rd, v, a, out);
    case API_DELETE_RECORDS: return wire_delete_records_req_decode(rd, v, a, out);
    case API_DESCRIBE_CONFIGS: return wire_describe_configs_req_decode(rd, v, a, out);
    case API_FIND_COORDINATOR: return wire_find_coordinator_req_decode(rd, v, a, out);
    case API_JOIN_GROUP: return wire_join_group_req_decode(rd, v, a, out);
    case API_SYNC_GROUP: return wire_sync_group_req_decode(rd, v, a, out);
    case API_HEARTBEAT: return wire_heartbeat_req_decode(rd, v, a, out);
    case API_LEAVE_GROUP: return wire_leave_group_req_decode(rd, v, a, out);
    case API_OFFSET_COMMIT: return wire_offset_commit_req_decode(rd, v, a, out);
    case API_OFFSET_FETCH: return wire_offset_fetch_req_decode(rd, v, a, out);
    case API_TXN_OFFSET_COMMIT: return wire_txn_offset_commit_req_decode(rd, v, a, out);
    case API_DESCRIBE_GROUPS: return wire_describe_groups_req_decode(rd, v, a, out);
    case API_LIST_GROUPS: return wire_list_groups_req_decode(rd, v, a, out);
    case API_OFFSET_DELETE: return wire_offset_delete_req_decode(rd, v, a, out);
    case API_CREATE_PARTITIONS: return wire_create_partitions_req_decode(rd, v, a, out);
    case API_DESCRIBE_CLUSTER: return wire_describe_cluster_req_decode(rd, v, a, out);
    case API_DELETE_GROUPS: return wire_delete_groups_req_decode(rd, v, a, out);
    case API_INIT_PRODUCER_ID: return wire_init_producer_id_req_decode(rd, v, a, out);
    case API_DESCRIBE_ACLS: return wire_describe_acls_req_decode(rd, v, a, out);
    case API_CREATE_ACLS: return wire_create_acls_req_decode(rd, v, a, out);
    case API_DELETE_ACLS: return wire_delete_acls_req_decode(rd, v, a, out);
    case API_ALTER_CONFIGS:
    case API_INCREMENTAL_ALTER_CONFIGS: return wire_alter_configs_req_decode(rd, api, v, a, out);
    case API_SASL_HANDSHAKE: return wire_sasl_handshake_req_decode(rd, v, a, out);
    case API_SASL_AUTHENTICATE: return wire_sasl_authenticate_req_decode(rd, v, a, out);
    case API_DESCRIBE_USER_SCRAM_CREDENTIALS:
        return wire_describe_user_scram_req_decode(rd, v, a, out);
    case API_ALTER_USER_SCRAM_CREDENTIALS: return wire_alter_user_scram_req_decode(rd, v, a, out);
    case API_DESCRIBE_CLIENT_QUOTAS: return wire_describe_client_quotas_req_decode(rd, v, a, out);
    case API_WRITE_TXN_MARKERS: return wire_write_txn_markers_req_decode(rd, v, a, out);
    case API_ADD_PARTITIONS_TO_TXN: return wire_add_partitions_to_txn_req_decode(rd, v, a, out);
    case API_ADD_OFFSETS_TO_TXN: return wire_add_offsets_to_txn_req_decode(rd, v, a, out);
    case API_END_TXN: return wire_end_txn_req_decode(rd, v, a, out);
    case API_DESCRIBE_TRANSACTIONS: return wire_describe_transactions_req_decode(rd, v, a, out);
    case API_LIST_TRANSACTIONS: return wire_list_transactions_req_decode(rd, v, a, out);
    default: abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    in_p = data;
    in_len = size;
    eddy_rd_t rd;
    rd_init(&rd, data, size);
    RequestHeader h;
    if (wire_request_header_decode(&rd, &h) != 0)
        return 0;
    check_str(h.ClientId, 1);
    /* The response header must encode for anything that parsed. */
    eddy_wr_t wr;
    wr_init(&wr);
    wire_response_header_encode(&wr, &h);
    wr_free(&wr);
    if (!broker_api_supported(h.RequestApiKey, h.RequestApiVersion))
        return 0;

    size_t body_at = rd.rd_pos;
    static const size_t limits[] = {1 << 20, 256};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        union {
            ApiVersionsRequest av;
            MetadataRequest md;
            ProduceRequest pr;
            FetchRequest fe;
            ListOffsetsRequest lo;
            CreateTopicsRequest ct;
            DeleteTopicsRequest dt;
            DeleteRecordsRequest dr;
            InitProducerIdRequest ip;
            DescribeConfigsRequest dc;
            FindCoordinatorRequest fc;
            JoinGroupRequest jg;
            SyncGroupRequest sg;
            HeartbeatRequest hb;
            LeaveGroupRequest lg;
            OffsetCommitRequest oc;
            OffsetFetchRequest of;
            TxnOffsetCommitRequest toc;
            DescribeGroupsRequest dg;
            DeleteGroupsRequest dl;
            ListGroupsRequest lgr;
            OffsetDeleteRequest od;
            CreatePartitionsRequest cp;
            DescribeClusterRequest dcl;
            AlterConfigsRequest ac;
            DescribeAclsRequest dacl;
            CreateAclsRequest cacl;
            DeleteAclsRequest delacl;
            SaslHandshakeRequest sh;
            SaslAuthenticateRequest sa;
            DescribeUserScramCredentialsRequest dus;
            AlterUserScramCredentialsRequest aus;
            DescribeClientQuotasRequest dcq;
            WriteTxnMarkersRequest wtm;
            AddPartitionsToTxnRequest apt;
            AddOffsetsToTxnRequest aot;
            EndTxnRequest et;
            DescribeTransactionsRequest dtx;
            ListTransactionsRequest ltx;
        } req;
        memset(&req, 0, sizeof req);
        eddy_arena_t a;
        arena_init(&a, limits[i]);
        eddy_rd_t body;
        rd_init(&body, data + body_at, size - body_at);
        int rc = decode_body(h.RequestApiKey, h.RequestApiVersion, &body, &a, &req);
        if (rc == 0) {
            if (body.rd_err)
                abort();
            /* The echo gets its own arena: the request's may be full. */
            eddy_arena_t echo;
            arena_init(&echo, 4 << 20);
            walk_and_echo(h.RequestApiKey, h.RequestApiVersion, &req, &echo);
            arena_free(&echo);
        } else if (rc != body.rd_err) {
            abort(); /* a decoder's error is its reader's error */
        }
        arena_free(&a);
    }
    return 0;
}

/* The client side of the admin APIs: CreateTopics (19) v0-4, DeleteTopics
 * (20) v0-1, DeleteRecords (21) v0-1, DescribeConfigs (32) v0-1 (layouts in
 * api_admin.c). */
#include "client_api.h"

#include "client_api_int.h"

/* ---- CreateTopics --------------------------------------------------------- */

void wire_create_topics_req_encode(eddy_wr_t *wr, int16_t v, const CreateTopicsRequest *r)
{
    if (!cw_version(wr, API_CREATE_TOPICS, v))
        return;
    int32_t n = cw_count(wr, r->TopicsCount, r->Topics, 0);
    for (int32_t i = 0; i < n; i++) {
        const CreatableTopic *t = &r->Topics[i];
        cw_string_nn(wr, t->Name);
        wr_i32(wr, t->NumPartitions);
        wr_i16(wr, t->ReplicationFactor);
        int32_t na = cw_count(wr, t->AssignmentsCount, t->Assignments, 0);
        for (int32_t j = 0; j < na; j++) {
            wr_i32(wr, t->Assignments[j].PartitionIndex);
            cw_int32_array(wr, t->Assignments[j].BrokerIds, t->Assignments[j].BrokerIdsCount);
        }
        int32_t nc = cw_count(wr, t->ConfigsCount, t->Configs, 0);
        for (int32_t j = 0; j < nc; j++) {
            cw_string_nn(wr, t->Configs[j].Name);
            wr_string(wr, t->Configs[j].Value); /* nullable */
        }
    }
    wr_i32(wr, r->TimeoutMs);
    if (v >= 1)
        wr_i8(wr, r->ValidateOnly);
    else
        cw_require(wr, !r->ValidateOnly); /* not ignorable: a dry run would create */
}

int wire_create_topics_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                   CreateTopicsResponse *r)
{
    int rc = cr_version(API_CREATE_TOPICS, v);
    if (rc)
        return rc;
    r->ThrottleTimeMs = v >= 2 ? rd_i32(rd) : 0;
    int32_t n = rd_array_count_nn(rd, 2 + 2 + (v >= 1 ? 2u : 0u));
    r->Topics = rd_arena_array(rd, a, n, sizeof *r->Topics);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        CreatableTopicResult *t = &r->Topics[i];
        t->Name = rd_string_nn(rd);
        t->ErrorCode = rd_i16(rd);
        t->ErrorMessage = v >= 1 ? rd_string(rd) : KSTR_NULL;
    }
    r->TopicsCount = rd->rd_err ? 0 : n;
    return rd->rd_err;
}

/* ---- DeleteTopics --------------------------------------------------------- */

void wire_delete_topics_req_encode(eddy_wr_t *wr, int16_t v, const DeleteTopicsRequest *r)
{
    if (!cw_version(wr, API_DELETE_TOPICS, v))
        return;
    cw_string_array(wr, r->TopicNames, r->TopicNamesCount, 0);
    wr_i32(wr, r->TimeoutMs);
}

int wire_delete_topics_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                   DeleteTopicsResponse *r)
{
    int rc = cr_version(API_DELETE_TOPICS, v);
    if (rc)
        return rc;
    r->ThrottleTimeMs = v >= 1 ? rd_i32(rd) : 0;
    int32_t n = rd_array_count_nn(rd, 2 + 2);
    r->Responses = rd_arena_array(rd, a, n, sizeof *r->Responses);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        r->Responses[i].Name = rd_string_nn(rd);
        r->Responses[i].ErrorCode = rd_i16(rd);
    }
    r->ResponsesCount = rd->rd_err ? 0 : n;
    return rd->rd_err;
}

/* ---- DeleteRecords -------------------------------------------------------- */

void wire_delete_records_req_encode(eddy_wr_t *wr, int16_t v, const DeleteRecordsRequest *r)
{
    if (!cw_version(wr, API_DELETE_RECORDS, v))
        return;
    int32_t n = cw_count(wr, r->TopicsCount, r->Topics, 0);
    for (int32_t i = 0; i < n; i++) {
        const DeleteRecordsTopic *t = &r->Topics[i];
        cw_string_nn(wr, t->Name);
        int32_t np = cw_count(wr, t->PartitionsCount, t->Partitions, 0);
        for (int32_t j = 0; j < np; j++) {
            wr_i32(wr, t->Partitions[j].PartitionIndex);
            wr_i64(wr, t->Partitions[j].Offset);
        }
    }
    wr_i32(wr, r->TimeoutMs);
}

int wire_delete_records_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                    DeleteRecordsResponse *r)
{
    int rc = cr_version(API_DELETE_RECORDS, v);
    if (rc)
        return rc;
    r->ThrottleTimeMs = rd_i32(rd);
    int32_t n = rd_array_count_nn(rd, 2 + 4);
    r->Topics = rd_arena_array(rd, a, n, sizeof *r->Topics);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        DeleteRecordsTopicResult *t = &r->Topics[i];
        t->Name = rd_string_nn(rd);
        int32_t np = rd_array_count_nn(rd, 4 + 8 + 2);
        t->Partitions = rd_arena_array(rd, a, np, sizeof *t->Partitions);
        for (int32_t j = 0; j < np && !rd->rd_err; j++) {
            t->Partitions[j].PartitionIndex = rd_i32(rd);
            t->Partitions[j].LowWatermark = rd_i64(rd);
            t->Partitions[j].ErrorCode = rd_i16(rd);
        }
        t->PartitionsCount = rd->rd_err ? 0 : np;
    }
    r->TopicsCount = rd->rd_err ? 0 : n;
    return rd->rd_err;
}

/* ---- DescribeConfigs ------------------------------------------------------ */

/* v4 is flexible: compact strings and arrays, tags after each struct. */
void wire_describe_configs_req_encode(eddy_wr_t *wr, int16_t v, const DescribeConfigsRequest *r)
{
    if (!cw_version(wr, API_DESCRIBE_CONFIGS, v))
        return;
    int flex = kafka_is_flexible(API_DESCRIBE_CONFIGS, v);
    if (!flex) {
        int32_t n = cw_count(wr, r->ResourcesCount, r->Resources, 0);
        for (int32_t i = 0; i < n; i++) {
            const DescribeConfigsResource *res = &r->Resources[i];
            wr_i8(wr, res->ResourceType);
            cw_string_nn(wr, res->ResourceName);
            cw_string_array(wr, res->ConfigurationKeys, res->ConfigurationKeysCount, 1);
        }
    } else {
        cw_require(wr, r->ResourcesCount >= 0 && (r->Resources || !r->ResourcesCount));
        wr_uvarint(wr, (uint32_t)r->ResourcesCount + 1);
        for (int32_t i = 0; i < r->ResourcesCount && !wr->wr_err; i++) {
            const DescribeConfigsResource *res = &r->Resources[i];
            wr_i8(wr, res->ResourceType);
            cw_require(wr, res->ResourceName.len >= 0);
            wr_compact_string(wr, res->ResourceName);
            int32_t nk = res->ConfigurationKeysCount;
            cw_require(wr, nk >= -1 && (res->ConfigurationKeys || nk <= 0));
            if (wr->wr_err)
                break;
            wr_uvarint(wr, (uint32_t)(nk + 1));
            for (int32_t k = 0; k < nk; k++) {
                cw_require(wr, res->ConfigurationKeys[k].len >= 0);
                wr_compact_string(wr, res->ConfigurationKeys[k]);
            }
            wr_empty_tags(wr);
        }
    }
    if (v >= 1)
        wr_i8(wr, r->IncludeSynonyms);
    else
        cw_require(wr, !r->IncludeSynonyms); /* not ignorable */
    if (v >= 3)
        wr_i8(wr, r->IncludeDocumentation);
    if (flex)
        wr_empty_tags(wr);
}

int wire_describe_configs_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                      DescribeConfigsResponse *r)
{
    int rc = cr_version(API_DESCRIBE_CONFIGS, v);
    if (rc)
        return rc;
    int flex = kafka_is_flexible(API_DESCRIBE_CONFIGS, v);
#define RD_STR(rd) (flex ? rd_compact_string(rd) : rd_string(rd))
#define RD_STR_NN(rd) (flex ? rd_compact_string_nn(rd) : rd_string_nn(rd))
#define RD_COUNT(rd, m) (flex ? rd_compact_array_count(rd, m) : rd_array_count(rd, m))
    r->ThrottleTimeMs = rd_i32(rd);
    size_t config_min = flex ? 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1
                             : 2 + 2 + 1 + 1 + 1 + (v >= 1 ? 4u : 0u) + (v >= 3 ? 3u : 0u);
    int32_t n = RD_COUNT(rd, flex ? 2 + 1 + 1 + 1 + 1 + 1 : 2 + 2 + 1 + 2 + 4);
    if (n < 0)
        rd_fail(rd, EDDY_ERR_INVALID_ARG);
    r->Results = rd_arena_array(rd, a, n, sizeof *r->Results);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        DescribeConfigsResult *res = &r->Results[i];
        res->ErrorCode = rd_i16(rd);
        res->ErrorMessage = RD_STR(rd);
        res->ResourceType = rd_i8(rd);
        res->ResourceName = RD_STR_NN(rd);
        int32_t nc = RD_COUNT(rd, config_min);
        if (nc < 0)
            rd_fail(rd, EDDY_ERR_INVALID_ARG);
        res->Configs = rd_arena_array(rd, a, nc, sizeof *res->Configs);
        for (int32_t j = 0; j < nc && !rd->rd_err; j++) {
            DescribeConfigsResourceResult *c = &res->Configs[j];
            c->Name = RD_STR_NN(rd);
            c->Value = RD_STR(rd);
            c->ReadOnly = rd_i8(rd);
            if (v == 0) {
                c->IsDefault = rd_i8(rd);
                c->ConfigSource = -1;
            } else {
                c->ConfigSource = rd_i8(rd);
                c->IsDefault = c->ConfigSource == CONFIG_SOURCE_DEFAULT;
            }
            c->IsSensitive = rd_i8(rd);
            if (v >= 1) {
                /* Synonyms [Name string, Value nullable string, Source int8]:
                 * checked, not kept. */
                int32_t ns = RD_COUNT(rd, flex ? 1 + 1 + 1 + 1 : 2 + 2 + 1);
                if (ns < 0)
                    rd_fail(rd, EDDY_ERR_INVALID_ARG);
                for (int32_t k = 0; k < ns && !rd->rd_err; k++) {
                    (void)RD_STR_NN(rd);
                    (void)RD_STR(rd);
                    (void)rd_i8(rd);
                    if (flex)
                        rd_skip_tags(rd);
                }
            }
            c->ConfigType = 0;
            c->Documentation = KSTR_NULL;
            if (v >= 3) {
                c->ConfigType = rd_i8(rd);
                c->Documentation = RD_STR(rd);
            }
            if (flex)
                rd_skip_tags(rd);
        }
        res->ConfigsCount = rd->rd_err ? 0 : nc;
        if (flex)
            rd_skip_tags(rd);
    }
    r->ResultsCount = rd->rd_err ? 0 : n;
    if (flex)
        rd_skip_tags(rd);
#undef RD_STR
#undef RD_STR_NN
#undef RD_COUNT
    return rd->rd_err;
}

/* ---- AlterConfigs, IncrementalAlterConfigs --------------------------------- */

static void alter_req_encode(eddy_wr_t *wr, int api, int16_t v, const AlterConfigsRequest *r)
{
    if (!cw_version(wr, api, v))
        return;
    int flex = kafka_is_flexible(api, v);
    cw_require(wr, r->ResourcesCount >= 0 && (r->Resources || !r->ResourcesCount));
    if (wr->wr_err)
        return;
    if (flex)
        wr_uvarint(wr, (uint32_t)r->ResourcesCount + 1);
    else
        wr_i32(wr, r->ResourcesCount);
    for (int32_t i = 0; i < r->ResourcesCount && !wr->wr_err; i++) {
        const AlterConfigsResource *res = &r->Resources[i];
        wr_i8(wr, res->ResourceType);
        cw_require(wr, res->ResourceName.len >= 0 && res->ConfigsCount >= 0 &&
                           (res->Configs || !res->ConfigsCount));
        if (wr->wr_err)
            return;
        if (flex) {
            wr_compact_string(wr, res->ResourceName);
            wr_uvarint(wr, (uint32_t)res->ConfigsCount + 1);
        } else {
            wr_string(wr, res->ResourceName);
            wr_i32(wr, res->ConfigsCount);
        }
        for (int32_t j = 0; j < res->ConfigsCount; j++) {
            const AlterableConfig *c = &res->Configs[j];
            cw_require(wr, c->Name.len >= 0);
            if (flex)
                wr_compact_string(wr, c->Name);
            else
                wr_string(wr, c->Name);
            if (api == API_INCREMENTAL_ALTER_CONFIGS)
                wr_i8(wr, c->ConfigOperation);
            if (flex) {
                wr_compact_string(wr, c->Value);
                wr_empty_tags(wr);
            } else {
                wr_string(wr, c->Value);
            }
        }
        if (flex)
            wr_empty_tags(wr);
    }
    wr_i8(wr, r->ValidateOnly);
    if (flex)
        wr_empty_tags(wr);
}

void wire_alter_configs_req_encode(eddy_wr_t *wr, int16_t v, const AlterConfigsRequest *r)
{
    alter_req_encode(wr, API_ALTER_CONFIGS, v, r);
}

void wire_incremental_alter_configs_req_encode(eddy_wr_t *wr, int16_t v,
                                               const AlterConfigsRequest *r)
{
    alter_req_encode(wr, API_INCREMENTAL_ALTER_CONFIGS, v, r);
}

static int alter_resp_decode(eddy_rd_t *rd, int api, int16_t v, eddy_arena_t *a,
                             AlterConfigsResponse *r)
{
    int rc = cr_version(api, v);
    if (rc)
        return rc;
    int flex = kafka_is_flexible(api, v);
    r->ThrottleTimeMs = rd_i32(rd);
    int32_t n = flex ? rd_compact_array_count(rd, 2 + 1 + 1 + 1 + 1)
                     : rd_array_count(rd, 2 + 2 + 1 + 2);
    if (n < 0)
        rd_fail(rd, EDDY_ERR_INVALID_ARG);
    r->Responses = rd_arena_array(rd, a, n, sizeof *r->Responses);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        AlterConfigsResourceResponse *res = &r->Responses[i];
        res->ErrorCode = rd_i16(rd);
        res->ErrorMessage = flex ? rd_compact_string(rd) : rd_string(rd);
        res->ResourceType = rd_i8(rd);
        res->ResourceName = flex ? rd_compact_string_nn(rd) : rd_string_nn(rd);
        if (flex)
            rd_skip_tags(rd);
    }
    r->ResponsesCount = rd->rd_err ? 0 : n;
    if (flex)
        rd_skip_tags(rd);
    return rd->rd_err;
}

int wire_alter_configs_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                   AlterConfigsResponse *r)
{
    return alter_resp_decode(rd, API_ALTER_CONFIGS, v, a, r);
}

int wire_incremental_alter_configs_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                               AlterConfigsResponse *r)
{
    return alter_resp_decode(rd, API_INCREMENTAL_ALTER_CONFIGS, v, a, r);
}

/* The config APIs, broker side. Layouts from Kafka 4.1's message specs
 * (flexible versions: compact strings and arrays, tagged fields after each
 * struct):
 *
 * DescribeConfigsRequest v0-4 (v4 flexible):
 *     Resources [ResourceType int8, ResourceName string, ConfigurationKeys nullable [string]],
 *     IncludeSynonyms bool (v1+), IncludeDocumentation bool (v3+)
 * DescribeConfigsResponse:
 *     ThrottleTimeMs int32,
 *     Results [ErrorCode int16, ErrorMessage nullable string, ResourceType int8,
 *              ResourceName string,
 *              Configs [Name string, Value nullable string, ReadOnly bool,
 *                       IsDefault bool (v0 only), ConfigSource int8 (v1+), IsSensitive bool,
 *                       Synonyms [Name string, Value nullable string, Source int8] (v1+),
 *                       ConfigType int8 (v3+), Documentation nullable string (v3+)]]
 * AlterConfigsRequest v0-2 (v2 flexible):
 *     Resources [ResourceType int8, ResourceName string,
 *                Configs [Name string, Value nullable string]], ValidateOnly bool
 * IncrementalAlterConfigsRequest v0-1 (v1 flexible):
 *     Resources [ResourceType int8, ResourceName string,
 *                Configs [Name string, ConfigOperation int8, Value nullable string]],
 *     ValidateOnly bool
 * AlterConfigsResponse, IncrementalAlterConfigsResponse:
 *     ThrottleTimeMs int32,
 *     Responses [ErrorCode int16, ErrorMessage nullable string, ResourceType int8,
 *                ResourceName string]
 */
#include "api.h"

#include "proto_int.h"

/* Either encoding, by the version's flexibility. */
static kstr_t rd_str(eddy_rd_t *rd, int flex)
{
    return flex ? rd_compact_string(rd) : rd_string(rd);
}

static kstr_t rd_str_nn(eddy_rd_t *rd, int flex)
{
    return flex ? rd_compact_string_nn(rd) : rd_string_nn(rd);
}

static int32_t rd_count(eddy_rd_t *rd, int flex, size_t min_elem)
{
    return flex ? rd_compact_array_count(rd, min_elem) : rd_array_count(rd, min_elem);
}

static int32_t rd_count_nn(eddy_rd_t *rd, int flex, size_t min_elem)
{
    int32_t n = rd_count(rd, flex, min_elem);
    if (n < 0) {
        rd_fail(rd, EDDY_ERR_INVALID_ARG);
        return 0;
    }
    return n;
}

static void wr_str(eddy_wr_t *wr, int flex, kstr_t s)
{
    if (flex)
        wr_compact_string(wr, s);
    else
        wr_string(wr, s);
}

static void wr_count(eddy_wr_t *wr, int flex, int32_t n)
{
    if (flex)
        wr_uvarint(wr, (uint32_t)n + 1);
    else
        wr_i32(wr, n);
}

/* ---- DescribeConfigs --------------------------------------------------- */

int wire_describe_configs_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                     DescribeConfigsRequest *r)
{
    if (!broker_api_supported(API_DESCRIBE_CONFIGS, v))
        return EDDY_ERR_INVALID_ARG;
    int flex = kafka_is_flexible(API_DESCRIBE_CONFIGS, v);
    int32_t n = rd_count_nn(rd, flex, 1 + 1 + 1);
    r->Resources = rd_arena_array(rd, a, n, sizeof *r->Resources);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        DescribeConfigsResource *res = &r->Resources[i];
        res->ResourceType = rd_i8(rd);
        res->ResourceName = rd_str_nn(rd, flex);
        int32_t nk = rd_count(rd, flex, 1); /* null: every key */
        res->ConfigurationKeys = rd_arena_array(rd, a, nk, sizeof *res->ConfigurationKeys);
        for (int32_t j = 0; j < nk && !rd->rd_err; j++)
            res->ConfigurationKeys[j] = rd_str_nn(rd, flex);
        res->ConfigurationKeysCount = nk;
        if (flex)
            rd_skip_tags(rd);
    }
    r->ResourcesCount = rd->rd_err ? 0 : n;
    r->IncludeSynonyms = v >= 1 ? rd_i8(rd) : 0;
    r->IncludeDocumentation = v >= 3 ? rd_i8(rd) : 0;
    if (flex)
        rd_skip_tags(rd);
    return rd->rd_err;
}

void wire_describe_configs_resp_encode(eddy_wr_t *wr, int16_t v, const DescribeConfigsResponse *r)
{
    int flex = kafka_is_flexible(API_DESCRIBE_CONFIGS, v);
    wr_i32(wr, r->ThrottleTimeMs);
    wr_count(wr, flex, r->ResultsCount);
    for (int32_t i = 0; i < r->ResultsCount; i++) {
        const DescribeConfigsResult *res = &r->Results[i];
        wr_i16(wr, res->ErrorCode);
        wr_str(wr, flex, res->ErrorMessage);
        wr_i8(wr, res->ResourceType);
        wr_str(wr, flex, res->ResourceName);
        wr_count(wr, flex, res->ConfigsCount);
        for (int32_t j = 0; j < res->ConfigsCount; j++) {
            const DescribeConfigsResourceResult *c = &res->Configs[j];
            wr_str(wr, flex, c->Name);
            wr_str(wr, flex, c->Value);
            wr_i8(wr, c->ReadOnly);
            if (v == 0)
                wr_i8(wr, c->IsDefault);
            else
                wr_i8(wr, c->ConfigSource);
            wr_i8(wr, c->IsSensitive);
            if (v >= 1) {
                wr_count(wr, flex, c->SynonymsCount);
                for (int32_t k = 0; k < c->SynonymsCount; k++) {
                    wr_str(wr, flex, c->Synonyms[k].Name);
                    wr_str(wr, flex, c->Synonyms[k].Value);
                    wr_i8(wr, c->Synonyms[k].Source);
                    if (flex)
                        wr_empty_tags(wr);
                }
            }
            if (v >= 3) {
                wr_i8(wr, c->ConfigType);
                wr_str(wr, flex, c->Documentation);
            }
            if (flex)
                wr_empty_tags(wr);
        }
        if (flex)
            wr_empty_tags(wr);
    }
    if (flex)
        wr_empty_tags(wr);
}

/* ---- AlterConfigs, IncrementalAlterConfigs ----------------------------- */

int wire_alter_configs_req_decode(eddy_rd_t *rd, int api_key, int16_t v, eddy_arena_t *a,
                                  AlterConfigsRequest *r)
{
    if (!broker_api_supported(api_key, v))
        return EDDY_ERR_INVALID_ARG;
    int flex = kafka_is_flexible(api_key, v);
    int incremental = api_key == API_INCREMENTAL_ALTER_CONFIGS;
    int32_t n = rd_count_nn(rd, flex, 1 + 1 + 1);
    r->Resources = rd_arena_array(rd, a, n, sizeof *r->Resources);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        AlterConfigsResource *res = &r->Resources[i];
        res->ResourceType = rd_i8(rd);
        res->ResourceName = rd_str_nn(rd, flex);
        int32_t nc = rd_count_nn(rd, flex, 1 + 1 + (incremental ? 1u : 0u));
        res->Configs = rd_arena_array(rd, a, nc, sizeof *res->Configs);
        for (int32_t j = 0; j < nc && !rd->rd_err; j++) {
            AlterableConfig *c = &res->Configs[j];
            c->Name = rd_str_nn(rd, flex);
            c->ConfigOperation = incremental ? rd_i8(rd) : CONFIG_OP_SET;
            c->Value = rd_str(rd, flex);
            if (flex)
                rd_skip_tags(rd);
        }
        res->ConfigsCount = rd->rd_err ? 0 : nc;
        if (flex)
            rd_skip_tags(rd);
    }
    r->ResourcesCount = rd->rd_err ? 0 : n;
    r->ValidateOnly = rd_i8(rd);
    if (flex)
        rd_skip_tags(rd);
    return rd->rd_err;
}

void wire_alter_configs_resp_encode(eddy_wr_t *wr, int api_key, int16_t v,
                                    const AlterConfigsResponse *r)
{
    int flex = kafka_is_flexible(api_key, v);
    wr_i32(wr, r->ThrottleTimeMs);
    wr_count(wr, flex, r->ResponsesCount);
    for (int32_t i = 0; i < r->ResponsesCount; i++) {
        const AlterConfigsResourceResponse *res = &r->Responses[i];
        wr_i16(wr, res->ErrorCode);
        wr_str(wr, flex, res->ErrorMessage);
        wr_i8(wr, res->ResourceType);
        wr_str(wr, flex, res->ResourceName);
        if (flex)
            wr_empty_tags(wr);
    }
    if (flex)
        wr_empty_tags(wr);
}

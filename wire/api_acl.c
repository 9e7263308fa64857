/* DescribeAcls (29), CreateAcls (30) and DeleteAcls (31), v1-3, both sides.
 * Layouts from the apache/kafka JSON specs (v2+ flexible: compact strings
 * and arrays, a tag section after each struct):
 *
 * DescribeAclsRequest:  ResourceTypeFilter int8, ResourceNameFilter nullable string,
 *                       PatternTypeFilter int8, PrincipalFilter nullable string,
 *                       HostFilter nullable string, Operation int8, PermissionType int8
 * DescribeAclsResponse: ThrottleTimeMs int32, ErrorCode int16, ErrorMessage nullable string,
 *                       Resources [ResourceType int8, ResourceName string, PatternType int8,
 *                                  Acls [Principal string, Host string,
 *                                        Operation int8, PermissionType int8]]
 * CreateAclsRequest:    Creations [ResourceType int8, ResourceName string,
 *                                  ResourcePatternType int8, Principal string,
 *                                  Host string, Operation int8, PermissionType int8]
 * CreateAclsResponse:   ThrottleTimeMs int32, Results [ErrorCode int16,
 *                                                      ErrorMessage nullable string]
 * DeleteAclsRequest:    Filters [the DescribeAcls request's fields]
 * DeleteAclsResponse:   ThrottleTimeMs int32,
 *                       FilterResults [ErrorCode int16, ErrorMessage nullable string,
 *                                      MatchingAcls [ErrorCode int16,
 *                                                    ErrorMessage nullable string,
 *                                                    ResourceType int8, ResourceName string,
 *                                                    PatternType int8, Principal string,
 *                                                    Host string, Operation int8,
 *                                                    PermissionType int8]]
 */
#include "api_acl.h"

#include "api.h"
#include "common/err.h"
#include "proto_flex.h"
#include "proto_int.h"

/* Smallest binding on the wire: 4 int8 and 3 strings of at least 1 byte. */
#define BINDING_MIN 7

/* A binding (filter: nullable strings) in the request's order. */
static void rd_binding(eddy_rd_t *rd, int16_t v, int flex, int filter, AclBinding *b)
{
    b->ResourceType = rd_i8(rd);
    b->ResourceName = filter ? rdf_string(rd, flex) : rdf_string_nn(rd, flex);
    b->PatternType = v >= 1 ? rd_i8(rd) : 3;
    b->Principal = filter ? rdf_string(rd, flex) : rdf_string_nn(rd, flex);
    b->Host = filter ? rdf_string(rd, flex) : rdf_string_nn(rd, flex);
    b->Operation = rd_i8(rd);
    b->PermissionType = rd_i8(rd);
}

static void wr_binding(eddy_wr_t *wr, int16_t v, int flex, const AclBinding *b)
{
    wr_i8(wr, b->ResourceType);
    wrf_string(wr, flex, b->ResourceName);
    if (v >= 1)
        wr_i8(wr, b->PatternType);
    wrf_string(wr, flex, b->Principal);
    wrf_string(wr, flex, b->Host);
    wr_i8(wr, b->Operation);
    wr_i8(wr, b->PermissionType);
}

/* ---- broker side ---- */

int wire_describe_acls_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                  DescribeAclsRequest *r)
{
    (void)a;
    if (!broker_api_supported(API_DESCRIBE_ACLS, v))
        return EDDY_ERR_INVALID_ARG;
    int flex = kafka_is_flexible(API_DESCRIBE_ACLS, v);
    rd_binding(rd, v, flex, 1, r);
    rdf_tags(rd, flex);
    return rd->rd_err;
}

void wire_describe_acls_resp_encode(eddy_wr_t *wr, int16_t v, const DescribeAclsResponse *r)
{
    int flex = kafka_is_flexible(API_DESCRIBE_ACLS, v);
    wr_i32(wr, r->ThrottleTimeMs);
    wr_i16(wr, r->ErrorCode);
    wrf_string(wr, flex, r->ErrorMessage);
    wrf_count(wr, flex, r->ResourcesCount);
    for (int32_t i = 0; i < r->ResourcesCount; i++) {
        const DescribeAclsResource *res = &r->Resources[i];
        wr_i8(wr, res->ResourceType);
        wrf_string(wr, flex, res->ResourceName);
        if (v >= 1)
            wr_i8(wr, res->PatternType);
        wrf_count(wr, flex, res->AclsCount);
        for (int32_t j = 0; j < res->AclsCount; j++) {
            const AclDescription *d = &res->Acls[j];
            wrf_string(wr, flex, d->Principal);
            wrf_string(wr, flex, d->Host);
            wr_i8(wr, d->Operation);
            wr_i8(wr, d->PermissionType);
            wrf_tags(wr, flex);
        }
        wrf_tags(wr, flex);
    }
    wrf_tags(wr, flex);
}

/* CreateAcls' creations and DeleteAcls' filters: an array of bindings. */
static int rd_bindings(eddy_rd_t *rd, int16_t v, int flex, int filter, eddy_arena_t *a,
                       AclBinding **out, int32_t *count)
{
    int32_t n = rdf_array_count_nn(rd, flex, BINDING_MIN);
    *out = rd_arena_array(rd, a, n, sizeof **out);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        rd_binding(rd, v, flex, filter, &(*out)[i]);
        rdf_tags(rd, flex);
    }
    *count = rd->rd_err ? 0 : n;
    rdf_tags(rd, flex);
    return rd->rd_err;
}

int wire_create_acls_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, CreateAclsRequest *r)
{
    if (!broker_api_supported(API_CREATE_ACLS, v))
        return EDDY_ERR_INVALID_ARG;
    return rd_bindings(rd, v, kafka_is_flexible(API_CREATE_ACLS, v), 0, a, &r->Creations,
                       &r->CreationsCount);
}

void wire_create_acls_resp_encode(eddy_wr_t *wr, int16_t v, const CreateAclsResponse *r)
{
    int flex = kafka_is_flexible(API_CREATE_ACLS, v);
    wr_i32(wr, r->ThrottleTimeMs);
    wrf_count(wr, flex, r->ResultsCount);
    for (int32_t i = 0; i < r->ResultsCount; i++) {
        wr_i16(wr, r->Results[i].ErrorCode);
        wrf_string(wr, flex, r->Results[i].ErrorMessage);
        wrf_tags(wr, flex);
    }
    wrf_tags(wr, flex);
}

int wire_delete_acls_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, DeleteAclsRequest *r)
{
    if (!broker_api_supported(API_DELETE_ACLS, v))
        return EDDY_ERR_INVALID_ARG;
    return rd_bindings(rd, v, kafka_is_flexible(API_DELETE_ACLS, v), 1, a, &r->Filters,
                       &r->FiltersCount);
}

void wire_delete_acls_resp_encode(eddy_wr_t *wr, int16_t v, const DeleteAclsResponse *r)
{
    int flex = kafka_is_flexible(API_DELETE_ACLS, v);
    wr_i32(wr, r->ThrottleTimeMs);
    wrf_count(wr, flex, r->FilterResultsCount);
    for (int32_t i = 0; i < r->FilterResultsCount; i++) {
        const DeleteAclsFilterResult *fr = &r->FilterResults[i];
        wr_i16(wr, fr->ErrorCode);
        wrf_string(wr, flex, fr->ErrorMessage);
        wrf_count(wr, flex, fr->MatchingAclsCount);
        for (int32_t j = 0; j < fr->MatchingAclsCount; j++) {
            const DeleteAclsMatchingAcl *m = &fr->MatchingAcls[j];
            wr_i16(wr, m->ErrorCode);
            wrf_string(wr, flex, m->ErrorMessage);
            wr_binding(wr, v, flex, &m->Acl);
            wrf_tags(wr, flex);
        }
        wrf_tags(wr, flex);
    }
    wrf_tags(wr, flex);
}

/* ---- client side ---- */

void wire_describe_acls_req_encode(eddy_wr_t *wr, int16_t v, const DescribeAclsRequest *r)
{
    int flex = kafka_is_flexible(API_DESCRIBE_ACLS, v);
    wr_binding(wr, v, flex, r);
    wrf_tags(wr, flex);
}

int wire_describe_acls_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                   DescribeAclsResponse *r)
{
    int flex = kafka_is_flexible(API_DESCRIBE_ACLS, v);
    r->ThrottleTimeMs = rd_i32(rd);
    r->ErrorCode = rd_i16(rd);
    r->ErrorMessage = rdf_string(rd, flex);
    int32_t n = rdf_array_count_nn(rd, flex, 1 + 1 + 1);
    r->Resources = rd_arena_array(rd, a, n, sizeof *r->Resources);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        DescribeAclsResource *res = &r->Resources[i];
        res->ResourceType = rd_i8(rd);
        res->ResourceName = rdf_string_nn(rd, flex);
        res->PatternType = v >= 1 ? rd_i8(rd) : 3;
        int32_t m = rdf_array_count_nn(rd, flex, 4);
        res->Acls = rd_arena_array(rd, a, m, sizeof *res->Acls);
        for (int32_t j = 0; j < m && !rd->rd_err; j++) {
            AclDescription *d = &res->Acls[j];
            d->Principal = rdf_string_nn(rd, flex);
            d->Host = rdf_string_nn(rd, flex);
            d->Operation = rd_i8(rd);
            d->PermissionType = rd_i8(rd);
            rdf_tags(rd, flex);
        }
        res->AclsCount = rd->rd_err ? 0 : m;
        rdf_tags(rd, flex);
    }
    r->ResourcesCount = rd->rd_err ? 0 : n;
    rdf_tags(rd, flex);
    return rd->rd_err;
}

static void wr_bindings(eddy_wr_t *wr, int16_t v, int flex, const AclBinding *b, int32_t n)
{
    wrf_count(wr, flex, n);
    for (int32_t i = 0; i < n; i++) {
        wr_binding(wr, v, flex, &b[i]);
        wrf_tags(wr, flex);
    }
    wrf_tags(wr, flex);
}

void wire_create_acls_req_encode(eddy_wr_t *wr, int16_t v, const CreateAclsRequest *r)
{
    wr_bindings(wr, v, kafka_is_flexible(API_CREATE_ACLS, v), r->Creations, r->CreationsCount);
}

int wire_create_acls_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, CreateAclsResponse *r)
{
    int flex = kafka_is_flexible(API_CREATE_ACLS, v);
    r->ThrottleTimeMs = rd_i32(rd);
    int32_t n = rdf_array_count_nn(rd, flex, 3);
    r->Results = rd_arena_array(rd, a, n, sizeof *r->Results);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        r->Results[i].ErrorCode = rd_i16(rd);
        r->Results[i].ErrorMessage = rdf_string(rd, flex);
        rdf_tags(rd, flex);
    }
    r->ResultsCount = rd->rd_err ? 0 : n;
    rdf_tags(rd, flex);
    return rd->rd_err;
}

void wire_delete_acls_req_encode(eddy_wr_t *wr, int16_t v, const DeleteAclsRequest *r)
{
    wr_bindings(wr, v, kafka_is_flexible(API_DELETE_ACLS, v), r->Filters, r->FiltersCount);
}

int wire_delete_acls_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, DeleteAclsResponse *r)
{
    int flex = kafka_is_flexible(API_DELETE_ACLS, v);
    r->ThrottleTimeMs = rd_i32(rd);
    int32_t n = rdf_array_count_nn(rd, flex, 4);
    r->FilterResults = rd_arena_array(rd, a, n, sizeof *r->FilterResults);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        DeleteAclsFilterResult *fr = &r->FilterResults[i];
        fr->ErrorCode = rd_i16(rd);
        fr->ErrorMessage = rdf_string(rd, flex);
        int32_t m = rdf_array_count_nn(rd, flex, 2 + 1 + BINDING_MIN);
        fr->MatchingAcls = rd_arena_array(rd, a, m, sizeof *fr->MatchingAcls);
        for (int32_t j = 0; j < m && !rd->rd_err; j++) {
            DeleteAclsMatchingAcl *ma = &fr->MatchingAcls[j];
            ma->ErrorCode = rd_i16(rd);
            ma->ErrorMessage = rdf_string(rd, flex);
            rd_binding(rd, v, flex, 0, &ma->Acl);
            rdf_tags(rd, flex);
        }
        fr->MatchingAclsCount = rd->rd_err ? 0 : m;
        rdf_tags(rd, flex);
    }
    r->FilterResultsCount = rd->rd_err ? 0 : n;
    rdf_tags(rd, flex);
    return rd->rd_err;
}

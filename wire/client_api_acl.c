/* The client side of DescribeAcls, CreateAcls and DeleteAcls (layouts in
 * api_acl.c). */
#include "api_acl.h"

#include "api_acl_int.h"
#include "client_api_int.h"


void wire_describe_acls_req_encode(eddy_wr_t *wr, int16_t v, const DescribeAclsRequest *r)
{
    if (!cw_version(wr, API_DESCRIBE_ACLS, v))
        return;
    int flex = kafka_is_flexible(API_DESCRIBE_ACLS, v);
    wr_binding(wr, v, flex, r);
    wrf_tags(wr, flex);
}

int wire_describe_acls_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                   DescribeAclsResponse *r)
{
    int rc = cr_version(API_DESCRIBE_ACLS, v);
    if (rc)
        return rc;
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
    cw_require(wr, n >= 0 && (n == 0 || b));
    if (wr->wr_err)
        return;
    wrf_count(wr, flex, n);
    for (int32_t i = 0; i < n; i++) {
        wr_binding(wr, v, flex, &b[i]);
        wrf_tags(wr, flex);
    }
    wrf_tags(wr, flex);
}

void wire_create_acls_req_encode(eddy_wr_t *wr, int16_t v, const CreateAclsRequest *r)
{
    if (!cw_version(wr, API_CREATE_ACLS, v))
        return;
    wr_bindings(wr, v, kafka_is_flexible(API_CREATE_ACLS, v), r->Creations, r->CreationsCount);
}

int wire_create_acls_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, CreateAclsResponse *r)
{
    int rc = cr_version(API_CREATE_ACLS, v);
    if (rc)
        return rc;
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
    if (!cw_version(wr, API_DELETE_ACLS, v))
        return;
    wr_bindings(wr, v, kafka_is_flexible(API_DELETE_ACLS, v), r->Filters, r->FiltersCount);
}

int wire_delete_acls_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, DeleteAclsResponse *r)
{
    int rc = cr_version(API_DELETE_ACLS, v);
    if (rc)
        return rc;
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

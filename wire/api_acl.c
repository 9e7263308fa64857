/* DescribeAcls (29), CreateAcls (30) and DeleteAcls (31), v1-3: the
 * broker's codecs (the client's are in client_api_acl.c), and Kafka's names
 * of the ACL codes. Layouts from the apache/kafka JSON specs (v2+ flexible:
 * compact strings and arrays, a tag section after each struct):
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

#include <ctype.h>

#include "api.h"
#include "common/err.h"
#include "proto_flex.h"
#include "proto_int.h"
#include "api_acl_int.h"

/* ---- broker side ---- */

int wire_describe_acls_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, DescribeAclsRequest *r)
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

/* ---- names ---- */

static const char *const res_names[] = {"Unknown",         "Any",     "Topic",
                                        "Group",           "Cluster", "TransactionalId",
                                        "DelegationToken", "User"};
static const char *const pat_names[] = {"UNKNOWN", "ANY", "MATCH", "LITERAL", "PREFIXED"};
static const char *const op_names[] = {"Unknown",
                                       "Any",
                                       "All",
                                       "Read",
                                       "Write",
                                       "Create",
                                       "Delete",
                                       "Alter",
                                       "Describe",
                                       "ClusterAction",
                                       "DescribeConfigs",
                                       "AlterConfigs",
                                       "IdempotentWrite",
                                       "CreateTokens",
                                       "DescribeTokens"};
static const char *const perm_names[] = {"Unknown", "Any", "Deny", "Allow"};

#define NAMES_COUNT(a) ((int)(sizeof(a) / sizeof(a)[0]))

const char *wire_acl_res_type_name(int t)
{
    return t >= 0 && t < NAMES_COUNT(res_names) ? res_names[t] : "Unknown";
}
const char *wire_acl_pattern_name(int p)
{
    return p >= 0 && p < NAMES_COUNT(pat_names) ? pat_names[p] : "UNKNOWN";
}
const char *wire_acl_op_name(int op)
{
    return op >= 0 && op < NAMES_COUNT(op_names) ? op_names[op] : "Unknown";
}
const char *wire_acl_perm_name(int p)
{
    return p >= 0 && p < NAMES_COUNT(perm_names) ? perm_names[p] : "Unknown";
}

/* Case-insensitive, underscores and dashes ignored: "describe_configs"
 * and "DescribeConfigs" are one name. */
static int name_eq(const char *a, const char *b)
{
    for (;;) {
        while (*a == '_' || *a == '-')
            a++;
        while (*b == '_' || *b == '-')
            b++;
        if (!*a || !*b)
            return !*a && !*b;
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
        a++, b++;
    }
}

static int parse_name(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (name_eq(names[i], s))
            return i;
    return -1;
}

int wire_acl_parse_op(const char *s)
{
    return parse_name(op_names, NAMES_COUNT(op_names), s);
}
int wire_acl_parse_res_type(const char *s)
{
    return parse_name(res_names, NAMES_COUNT(res_names), s);
}
int wire_acl_parse_pattern(const char *s)
{
    return parse_name(pat_names, NAMES_COUNT(pat_names), s);
}
int wire_acl_parse_perm(const char *s)
{
    return parse_name(perm_names, NAMES_COUNT(perm_names), s);
}

/* The ACL admin APIs: DescribeAcls (29), CreateAcls (30), DeleteAcls (31),
 * v1-3 (v2+ flexible; Kafka 4 dropped v0). Same rules as api.h: arrays from
 * the arena, strings borrowed from the bytes they were read from, fields
 * by version. The numeric codes (resource type, pattern type, operation,
 * permission) are Kafka's and are listed in broker/acl.h. */
#ifndef EDDY_WIRE_API_ACL_H
#define EDDY_WIRE_API_ACL_H

#include <stdint.h>

#include "proto.h"

/* One ACL, or one filter (DescribeAcls, DeleteAcls: null strings and the
 * ANY codes match everything). */
typedef struct AclBinding {
    int8_t ResourceType;
    kstr_t ResourceName;       /* filters: nullable */
    int8_t PatternType;        /* v1+, LITERAL (3) by default */
    kstr_t Principal;          /* filters: nullable */
    kstr_t Host;               /* filters: nullable */
    int8_t Operation;
    int8_t PermissionType;
} AclBinding;

/* ---- DescribeAcls ---- */
typedef AclBinding DescribeAclsRequest; /* a filter */
typedef struct AclDescription {
    kstr_t Principal;
    kstr_t Host;
    int8_t Operation;
    int8_t PermissionType;
} AclDescription;
typedef struct DescribeAclsResource {
    int8_t ResourceType;
    kstr_t ResourceName;
    int8_t PatternType;
    AclDescription *Acls;
    int32_t AclsCount;
} DescribeAclsResource;
typedef struct DescribeAclsResponse {
    int32_t ThrottleTimeMs;
    int16_t ErrorCode;
    kstr_t ErrorMessage; /* nullable */
    DescribeAclsResource *Resources;
    int32_t ResourcesCount;
} DescribeAclsResponse;

/* ---- CreateAcls ---- */
typedef struct CreateAclsRequest {
    AclBinding *Creations;
    int32_t CreationsCount;
} CreateAclsRequest;
typedef struct AclCreationResult {
    int16_t ErrorCode;
    kstr_t ErrorMessage; /* nullable */
} AclCreationResult;
typedef struct CreateAclsResponse {
    int32_t ThrottleTimeMs;
    AclCreationResult *Results;
    int32_t ResultsCount;
} CreateAclsResponse;

/* ---- DeleteAcls ---- */
typedef struct DeleteAclsRequest {
    AclBinding *Filters;
    int32_t FiltersCount;
} DeleteAclsRequest;
typedef struct DeleteAclsMatchingAcl {
    int16_t ErrorCode;
    kstr_t ErrorMessage; /* nullable */
    AclBinding Acl;
} DeleteAclsMatchingAcl;
typedef struct DeleteAclsFilterResult {
    int16_t ErrorCode;
    kstr_t ErrorMessage; /* nullable */
    DeleteAclsMatchingAcl *MatchingAcls;
    int32_t MatchingAclsCount;
} DeleteAclsFilterResult;
typedef struct DeleteAclsResponse {
    int32_t ThrottleTimeMs;
    DeleteAclsFilterResult *FilterResults;
    int32_t FilterResultsCount;
} DeleteAclsResponse;

/* Broker side (api_acl.c). */
int wire_describe_acls_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                  DescribeAclsRequest *r);
void wire_describe_acls_resp_encode(eddy_wr_t *wr, int16_t v, const DescribeAclsResponse *r);
int wire_create_acls_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, CreateAclsRequest *r);
void wire_create_acls_resp_encode(eddy_wr_t *wr, int16_t v, const CreateAclsResponse *r);
int wire_delete_acls_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, DeleteAclsRequest *r);
void wire_delete_acls_resp_encode(eddy_wr_t *wr, int16_t v, const DeleteAclsResponse *r);

/* Client side, the mirror image (api_acl.c as well: the same layouts). */
void wire_describe_acls_req_encode(eddy_wr_t *wr, int16_t v, const DescribeAclsRequest *r);
int wire_describe_acls_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                   DescribeAclsResponse *r);
void wire_create_acls_req_encode(eddy_wr_t *wr, int16_t v, const CreateAclsRequest *r);
int wire_create_acls_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, CreateAclsResponse *r);
void wire_delete_acls_req_encode(eddy_wr_t *wr, int16_t v, const DeleteAclsRequest *r);
int wire_delete_acls_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, DeleteAclsResponse *r);

#endif

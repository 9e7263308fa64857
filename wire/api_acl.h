/* The ACL admin APIs: DescribeAcls (29), CreateAcls (30), DeleteAcls (31),
 * v1-3 (v2+ flexible; Kafka 4 dropped v0). Same rules as api.h: arrays from
 * the arena, strings borrowed from the bytes they were read from, fields
 * by version. The numeric codes (resource type, pattern type, operation,
 * permission) are Kafka's, below. */
#ifndef EDDY_WIRE_API_ACL_H
#define EDDY_WIRE_API_ACL_H

#include <stdint.h>

#include "proto.h"

/* Kafka's codes (ResourceType, PatternType, AclOperation,
 * AclPermissionType), as on the wire. */
enum acl_resource_type {
    ACL_RES_UNKNOWN = 0,
    ACL_RES_ANY = 1,
    ACL_RES_TOPIC = 2,
    ACL_RES_GROUP = 3,
    ACL_RES_CLUSTER = 4,
    ACL_RES_TRANSACTIONAL_ID = 5,
    ACL_RES_DELEGATION_TOKEN = 6,
    ACL_RES_USER = 7,
};
enum acl_pattern_type {
    ACL_PAT_UNKNOWN = 0,
    ACL_PAT_ANY = 1,
    ACL_PAT_MATCH = 2,
    ACL_PAT_LITERAL = 3,
    ACL_PAT_PREFIXED = 4,
};
enum acl_operation {
    ACL_OP_UNKNOWN = 0,
    ACL_OP_ANY = 1,
    ACL_OP_ALL = 2,
    ACL_OP_READ = 3,
    ACL_OP_WRITE = 4,
    ACL_OP_CREATE = 5,
    ACL_OP_DELETE = 6,
    ACL_OP_ALTER = 7,
    ACL_OP_DESCRIBE = 8,
    ACL_OP_CLUSTER_ACTION = 9,
    ACL_OP_DESCRIBE_CONFIGS = 10,
    ACL_OP_ALTER_CONFIGS = 11,
    ACL_OP_IDEMPOTENT_WRITE = 12,
    ACL_OP_CREATE_TOKENS = 13,
    ACL_OP_DESCRIBE_TOKENS = 14,
};
enum acl_permission {
    ACL_PERM_UNKNOWN = 0,
    ACL_PERM_ANY = 1,
    ACL_PERM_DENY = 2,
    ACL_PERM_ALLOW = 3,
};

/* The one cluster resource's name. */
#define ACL_CLUSTER_NAME "kafka-cluster"
#define ACL_WILDCARD "*"

/* Names for logs and tools: "Topic", "LITERAL", "Read", "Allow" (Kafka's
 * spellings). The parsers take them case-insensitively, with or without
 * underscores and dashes ("describe_configs", "DescribeConfigs"), and
 * return -1 for an unknown name. */
const char *wire_acl_res_type_name(int t);
const char *wire_acl_pattern_name(int p);
const char *wire_acl_op_name(int op);
const char *wire_acl_perm_name(int p);
int wire_acl_parse_op(const char *s);
int wire_acl_parse_res_type(const char *s);
int wire_acl_parse_pattern(const char *s);
int wire_acl_parse_perm(const char *s);

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

/* Client side, the mirror image (client_api_acl.c); versions outside the
 * broker's own ranges fail the writer or the decode. */
void wire_describe_acls_req_encode(eddy_wr_t *wr, int16_t v, const DescribeAclsRequest *r);
int wire_describe_acls_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                   DescribeAclsResponse *r);
void wire_create_acls_req_encode(eddy_wr_t *wr, int16_t v, const CreateAclsRequest *r);
int wire_create_acls_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, CreateAclsResponse *r);
void wire_delete_acls_req_encode(eddy_wr_t *wr, int16_t v, const DeleteAclsRequest *r);
int wire_delete_acls_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a, DeleteAclsResponse *r);

#endif

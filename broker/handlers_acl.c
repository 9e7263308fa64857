/* Authorization for the handlers (broker_authorize*) and the ACL admin
 * requests: DescribeAcls, CreateAcls, DeleteAcls. The rule itself and the
 * ACL file are in acl.c; which request needs what is decided in each
 * handler, with Kafka's mapping (docs/broker.md, "Authorization"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/acl.h"
#include "broker/broker_int.h"
#include "common/err.h"
#include "common/log.h"
#include "wire/api_acl.h"

static int authorize(eddy_broker_t *b, req_slot_t *s, int op, int res_type, const char *name,
                     size_t len, int log_denied)
{
    if (!b->bk_acl)
        return 1;
    conn_t *c = s->rs_conn;
    if (acl_authorize(b->bk_acl, c->c_principal, c->c_ip, op, res_type, name, len))
        return 1;
    if (log_denied) {
        /* Kafka's authorizer logger says the same at INFO; a client that
         * retries a refused request must not flood the log. One limit per
         * operation, so that a flood of refused Describes (a client
         * polling Metadata) does not hide the first refused Write. */
        static eddy_log_limit_t lim[ACL_OP_DESCRIBE_TOKENS + 1];
        int k = op >= 0 && op <= ACL_OP_DESCRIBE_TOKENS ? op : 0;
        EDDY_LOG_LIMITED(EDDY_LOG_LVL_INFO, "authorizer", &lim[k], 10000,
                         "Principal = %s is Denied operation = %s from host = %s on resource = "
                         "%s:LITERAL:%.*s for request = %s",
                         c->c_principal, wire_acl_op_name(op), c->c_ip,
                         wire_acl_res_type_name(res_type), (int)(len < 256 ? len : 256), name,
                         kafka_api_name(s->rs_hdr.RequestApiKey));
    }
    return 0;
}

int broker_authorize(eddy_broker_t *b, req_slot_t *s, int op, int res_type, kstr_t name)
{
    name = kstr_or_empty(name);
    return authorize(b, s, op, res_type, name.ptr, (size_t)name.len, 1);
}

int broker_authorize_quiet(eddy_broker_t *b, req_slot_t *s, int op, int res_type, kstr_t name)
{
    name = kstr_or_empty(name);
    return authorize(b, s, op, res_type, name.ptr, (size_t)name.len, 0);
}

int broker_authorize_cluster(eddy_broker_t *b, req_slot_t *s, int op)
{
    return authorize(b, s, op, ACL_RES_CLUSTER, ACL_CLUSTER_NAME, strlen(ACL_CLUSTER_NAME), 1);
}

/* ---- the ACL requests ---- */

static const char no_authorizer[] = "no authorizer is configured on the broker "
                                    "(authorizer.class.name)";

/* A wire binding as the authorizer's, its strings NUL-terminated in the
 * arena. 0, or INVALID_REQUEST when a string holds a NUL byte. */
static int16_t from_wire(eddy_arena_t *a, const AclBinding *w, acl_binding_t *ab)
{
    memset(ab, 0, sizeof *ab);
    ab->ab_res_type = w->ResourceType;
    ab->ab_pattern = w->PatternType;
    ab->ab_op = w->Operation;
    ab->ab_perm = w->PermissionType;
    if (w->ResourceName.len >= 0) {
        ab->ab_name = w->ResourceName.len ? w->ResourceName.ptr : "";
        ab->ab_name_len = (size_t)w->ResourceName.len;
    }
    ab->ab_principal = kstr_arena_dup(a, w->Principal);
    ab->ab_host = kstr_arena_dup(a, w->Host);
    if ((w->Principal.len >= 0 &&
         (!ab->ab_principal || strlen(ab->ab_principal) != (size_t)w->Principal.len)) ||
        (w->Host.len >= 0 && (!ab->ab_host || strlen(ab->ab_host) != (size_t)w->Host.len)))
        return KERR_INVALID_REQUEST;
    return KERR_NONE;
}

/* Kafka's check of a filter: known codes only. */
static int16_t check_filter(const acl_binding_t *f, char *msg, size_t msg_size)
{
    if (f->ab_res_type <= ACL_RES_UNKNOWN || f->ab_res_type > ACL_RES_USER ||
        f->ab_pattern <= ACL_PAT_UNKNOWN || f->ab_pattern > ACL_PAT_PREFIXED ||
        f->ab_op <= ACL_OP_UNKNOWN || f->ab_op > ACL_OP_DESCRIBE_TOKENS ||
        f->ab_perm <= ACL_PERM_UNKNOWN || f->ab_perm > ACL_PERM_ALLOW) {
        snprintf(msg, msg_size,
                 "the filter has an unknown resource type, pattern type, "
                 "operation or permission type");
        return KERR_INVALID_REQUEST;
    }
    return KERR_NONE;
}

typedef struct describe_ctx {
    acl_binding_t *dc_out;
    int dc_n, dc_cap;
} describe_ctx_t;

static void describe_visit(void *ctx, const acl_binding_t *ab)
{
    describe_ctx_t *dc = ctx;
    if (dc->dc_n < dc->dc_cap)
        dc->dc_out[dc->dc_n++] = *ab;
}

int handle_describe_acls(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    DescribeAclsRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    eddy_arena_t *a = &s->rs_out;
    int rc = wire_describe_acls_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    DescribeAclsResponse resp;
    memset(&resp, 0, sizeof resp);
    resp.ErrorMessage = KSTR_NULL;
    char msg[256] = "a string holds a NUL byte";
    acl_binding_t f;
    if (!b->bk_acl) {
        resp.ErrorCode = KERR_SECURITY_DISABLED;
        resp.ErrorMessage = kstr_c(no_authorizer);
    } else if (!broker_authorize_cluster(b, s, ACL_OP_DESCRIBE)) {
        resp.ErrorCode = KERR_CLUSTER_AUTHORIZATION_FAILED;
    } else if ((resp.ErrorCode = from_wire(a, &req, &f)) != KERR_NONE ||
               (resp.ErrorCode = check_filter(&f, msg, sizeof msg)) != KERR_NONE) {
        resp.ErrorMessage = kstr_arena(a, msg);
    } else {
        /* The authorizer does not change while this handler runs, so the
         * strings it lends stay valid until the response is encoded. */
        describe_ctx_t dc = {0};
        dc.dc_cap = acl_find(b->bk_acl, &f, NULL, NULL);
        dc.dc_out = resp_array(a, dc.dc_cap, sizeof *dc.dc_out);
        if (!dc.dc_out)
            return -ENOMEM;
        acl_find(b->bk_acl, &f, describe_visit, &dc);
        /* acl_find visits a pattern's ACLs together: one resource each run. */
        resp.Resources = resp_array(a, dc.dc_n, sizeof *resp.Resources);
        AclDescription *descs = resp_array(a, dc.dc_n, sizeof *descs);
        if (!resp.Resources || !descs)
            return -ENOMEM;
        for (int i = 0; i < dc.dc_n; i++) {
            const acl_binding_t *ab = &dc.dc_out[i];
            DescribeAclsResource *res = resp.ResourcesCount
                                            ? &resp.Resources[resp.ResourcesCount - 1]
                                            : NULL;
            if (!res || res->ResourceType != ab->ab_res_type ||
                res->PatternType != ab->ab_pattern ||
                res->ResourceName.len != (int32_t)ab->ab_name_len ||
                memcmp(res->ResourceName.ptr, ab->ab_name, ab->ab_name_len) != 0) {
                res = &resp.Resources[resp.ResourcesCount++];
                res->ResourceType = (int8_t)ab->ab_res_type;
                res->ResourceName = (kstr_t){ab->ab_name, (int32_t)ab->ab_name_len};
                res->PatternType = (int8_t)ab->ab_pattern;
                res->Acls = &descs[i];
            }
            AclDescription *d = &res->Acls[res->AclsCount++];
            d->Principal = kstr_c(ab->ab_principal);
            d->Host = kstr_c(ab->ab_host);
            d->Operation = (int8_t)ab->ab_op;
            d->PermissionType = (int8_t)ab->ab_perm;
        }
    }
    wire_describe_acls_resp_encode(&s->rs_resp, v, &resp);
    s->rs_state = SLOT_DONE;
    return 0;
}

int handle_create_acls(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    CreateAclsRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    eddy_arena_t *a = &s->rs_out;
    int rc = wire_create_acls_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    CreateAclsResponse resp = {0, NULL, req.CreationsCount};
    resp.Results = resp_array(a, req.CreationsCount, sizeof *resp.Results);
    acl_binding_t *abs = resp_array(a, req.CreationsCount, sizeof *abs);
    int *idx = resp_array(a, req.CreationsCount, sizeof *idx);
    if (!resp.Results || !abs || !idx)
        return -ENOMEM;
    int16_t all_err = KERR_NONE;
    const char *all_msg = NULL;
    if (!b->bk_acl) {
        all_err = KERR_SECURITY_DISABLED;
        all_msg = no_authorizer;
    } else if (!broker_authorize_cluster(b, s, ACL_OP_ALTER)) {
        all_err = KERR_CLUSTER_AUTHORIZATION_FAILED;
    }
    int n = 0;
    for (int32_t i = 0; i < req.CreationsCount; i++) {
        AclCreationResult *res = &resp.Results[i];
        res->ErrorMessage = KSTR_NULL;
        if ((res->ErrorCode = all_err) != KERR_NONE) {
            res->ErrorMessage = all_msg ? kstr_c(all_msg) : KSTR_NULL;
            continue;
        }
        char msg[256] = "a string holds a NUL byte";
        int16_t err = from_wire(a, &req.Creations[i], &abs[n]);
        if (err == KERR_NONE)
            err = (int16_t)acl_binding_check(&abs[n], msg, sizeof msg);
        if (err != KERR_NONE) {
            res->ErrorCode = err;
            res->ErrorMessage = kstr_arena(a, msg);
            continue;
        }
        idx[n++] = i;
    }
    if (n > 0) {
        rc = acl_add(b->bk_acl, abs, n);
        for (int k = 0; k < n; k++)
            if (rc < 0) {
                resp.Results[idx[k]].ErrorCode = KERR_UNKNOWN_SERVER_ERROR;
                resp.Results[idx[k]].ErrorMessage = kstr_c("the broker could not save its ACL file "
                                                           "(see its log)");
            }
        if (rc == 0)
            EDDY_LOG_INFO("authorizer", "%s from %s added %d ACL(s)", s->rs_conn->c_principal,
                          s->rs_conn->c_ip, n);
    }
    wire_create_acls_resp_encode(&s->rs_resp, v, &resp);
    s->rs_state = SLOT_DONE;
    return 0;
}

typedef struct removed_ctx {
    eddy_arena_t *rc_arena;
    DeleteAclsResponse *rc_resp;
    const int *rc_index; /* filter passed to acl_remove -> filter of the request */
    int rc_oom;
} removed_ctx_t;

/* Appends a removed ACL to its filter's result (copied: the authorizer
 * frees it after the call). Arrays grow by doubling in the arena. */
static void removed_visit(void *ctx, int filter, const acl_binding_t *ab)
{
    removed_ctx_t *rc = ctx;
    DeleteAclsFilterResult *fr = &rc->rc_resp->FilterResults[rc->rc_index[filter]];
    int32_t n = fr->MatchingAclsCount;
    if (rc->rc_oom)
        return;
    if ((n & (n - 1)) == 0) { /* 0, 1, 2, 4, ...: full */
        DeleteAclsMatchingAcl *na = arena_calloc(rc->rc_arena, (size_t)(n ? n * 2 : 1), sizeof *na);
        if (!na) {
            rc->rc_oom = 1;
            return;
        }
        if (n)
            memcpy(na, fr->MatchingAcls, (size_t)n * sizeof *na);
        fr->MatchingAcls = na;
    }
    DeleteAclsMatchingAcl *m = &fr->MatchingAcls[n];
    m->ErrorCode = KERR_NONE;
    m->ErrorMessage = KSTR_NULL;
    m->Acl.ResourceType = (int8_t)ab->ab_res_type;
    char *name = arena_strndup(rc->rc_arena, ab->ab_name, ab->ab_name_len);
    m->Acl.ResourceName = name ? (kstr_t){name, (int32_t)ab->ab_name_len} : (kstr_t){"", 0};
    m->Acl.PatternType = (int8_t)ab->ab_pattern;
    m->Acl.Principal = kstr_arena(rc->rc_arena, ab->ab_principal);
    m->Acl.Host = kstr_arena(rc->rc_arena, ab->ab_host);
    m->Acl.Operation = (int8_t)ab->ab_op;
    m->Acl.PermissionType = (int8_t)ab->ab_perm;
    if (!name || m->Acl.Principal.len < 0 || m->Acl.Host.len < 0)
        rc->rc_oom = 1;
    fr->MatchingAclsCount = n + 1;
}

int handle_delete_acls(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    DeleteAclsRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    eddy_arena_t *a = &s->rs_out;
    int rc = wire_delete_acls_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    DeleteAclsResponse resp = {0, NULL, req.FiltersCount};
    resp.FilterResults = resp_array(a, req.FiltersCount, sizeof *resp.FilterResults);
    acl_binding_t *fs = resp_array(a, req.FiltersCount, sizeof *fs);
    int *idx = resp_array(a, req.FiltersCount, sizeof *idx);
    if (!resp.FilterResults || !fs || !idx)
        return -ENOMEM;
    int16_t all_err = KERR_NONE;
    if (!b->bk_acl)
        all_err = KERR_SECURITY_DISABLED;
    else if (!broker_authorize_cluster(b, s, ACL_OP_ALTER))
        all_err = KERR_CLUSTER_AUTHORIZATION_FAILED;
    int n = 0;
    for (int32_t i = 0; i < req.FiltersCount; i++) {
        DeleteAclsFilterResult *fr = &resp.FilterResults[i];
        fr->ErrorMessage = KSTR_NULL;
        char msg[256] = "a string holds a NUL byte";
        fr->ErrorCode = all_err;
        if (all_err == KERR_SECURITY_DISABLED)
            fr->ErrorMessage = kstr_c(no_authorizer);
        if (all_err == KERR_NONE && ((fr->ErrorCode = from_wire(a, &req.Filters[i], &fs[n])) ||
                                     (fr->ErrorCode = check_filter(&fs[n], msg, sizeof msg))))
            fr->ErrorMessage = kstr_arena(a, msg);
        if (fr->ErrorCode == KERR_NONE)
            idx[n++] = i;
    }
    /* Each valid filter is applied (Kafka answers a bad one alone); a
     * denied request removes nothing. */
    if (n > 0) {
        removed_ctx_t ctx = {a, &resp, idx, 0};
        rc = acl_remove(b->bk_acl, fs, n, removed_visit, &ctx);
        if (ctx.rc_oom)
            return -ENOMEM;
        for (int k = 0; k < n && rc < 0; k++) {
            DeleteAclsFilterResult *fr = &resp.FilterResults[idx[k]];
            fr->ErrorCode = KERR_UNKNOWN_SERVER_ERROR;
            fr->ErrorMessage = kstr_c("the broker could not save its ACL file (see its log)");
            fr->MatchingAclsCount = 0;
        }
        if (rc > 0)
            EDDY_LOG_INFO("authorizer", "%s from %s removed %d ACL(s)", s->rs_conn->c_principal,
                          s->rs_conn->c_ip, rc);
    }
    wire_delete_acls_resp_encode(&s->rs_resp, v, &resp);
    s->rs_state = SLOT_DONE;
    return 0;
}

/* ---- start-up ---- */

/* Kafka's authorizer classes, so a Kafka server.properties works as is:
 * both keep ACLs with the same semantics (KRaft's StandardAuthorizer and
 * ZooKeeper's AclAuthorizer). */
static const char *const authorizer_names[] = {
    "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    "kafka.security.authorizer.AclAuthorizer",
    "eddy.acl",
    NULL,
};

int broker_acl_open(eddy_broker_t *b, char *errstr, size_t errstr_size)
{
    const char *cls = b->bk_cfg.authorizer_class_name;
    b->bk_acl = NULL;
    if (!cls || !cls[0])
        return 0;
    int known = 0;
    for (int i = 0; authorizer_names[i]; i++)
        known |= strcmp(cls, authorizer_names[i]) == 0;
    if (!known) {
        snprintf(errstr, errstr_size,
                 "authorizer.class.name: '%s' is not an authorizer Eddy has; use "
                 "org.apache.kafka.metadata.authorizer.StandardAuthorizer (ACLs), or leave it "
                 "empty for no authorization",
                 cls);
        return EDDY_ERR_CONFIG;
    }
    int rc = acl_open(&b->bk_acl, b->bk_cfg.log_dirs, b->bk_cfg.super_users,
                      b->bk_cfg.allow_everyone_if_no_acl_found, errstr, errstr_size);
    if (rc == 0)
        EDDY_LOG_INFO("authorizer",
                      "ACLs on (%s); super.users: %s; allow.everyone.if.no.acl.found=%s", cls,
                      b->bk_cfg.super_users && b->bk_cfg.super_users[0] ? b->bk_cfg.super_users
                                                                        : "(none)",
                      b->bk_cfg.allow_everyone_if_no_acl_found ? "true" : "false");
    return rc;
}

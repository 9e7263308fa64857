/* The authorizer: Kafka's ACL model (principal, resource pattern,
 * operation, host, ALLOW/DENY), with super.users and
 * allow.everyone.if.no.acl.found, and the ACLs kept durably in the data
 * directory. Loop thread only, no locks.
 *
 * A request asks acl_authorize() once per resource it names (a topic, a
 * group, the cluster): the ACLs are indexed by (resource type, pattern
 * type, name) in a hash table, so a check costs a hash probe for the name,
 * one for the literal wildcard "*" and, when the type has PREFIXED ACLs at
 * all, one per prefix length of the name (the prefix hashes are computed
 * incrementally), never a walk over every ACL.
 *
 * The rule, as Kafka's StandardAuthorizer:
 *   1. a principal listed in super.users is allowed everything;
 *   2. the ACLs whose pattern matches the resource are found; if there is
 *      none at all (for anyone), the answer is allow.everyone.if.no.acl.found;
 *   3. a matching DENY (principal or User:*, host or *, the operation or
 *      ALL) denies; else a matching ALLOW allows, where ALLOW of READ,
 *      WRITE, DELETE or ALTER also allows DESCRIBE and ALLOW of
 *      ALTER_CONFIGS allows DESCRIBE_CONFIGS; else denied.
 */
#ifndef EDDY_BROKER_ACL_H
#define EDDY_BROKER_ACL_H

#include <stddef.h>
#include <stdint.h>

#include "wire/api_acl.h"

/* One ACL or one filter. Strings are borrowed; in a filter NULL matches
 * any, and the ANY codes match any (MATCH: every pattern that matches the
 * name, as Kafka's filters). */
typedef struct acl_binding {
    int ab_res_type;
    const char *ab_name;
    size_t ab_name_len;
    int ab_pattern;
    const char *ab_principal;
    const char *ab_host;
    int ab_op;
    int ab_perm;
} acl_binding_t;

typedef struct acl_authorizer acl_authorizer_t;

/* Opens the authorizer: reads <dir>/acls (missing: no ACLs). super_users
 * is super.users ("User:a;User:b", may be NULL). Returns 0 with *out set,
 * or an error with a sentence in errstr: a file that does not parse stops
 * the start (guessing could open what an ACL closed). */
int acl_open(acl_authorizer_t **out, const char *dir, const char *super_users, int allow_if_no_acl,
             char *errstr, size_t errstr_size);
void acl_close(acl_authorizer_t *az);

/* 1 if principal from host may do op on the resource, else 0. */
int acl_authorize(const acl_authorizer_t *az, const char *principal, const char *host, int op,
                  int res_type, const char *name, size_t name_len);
/* 1 if principal from host may do op on at least one resource of the
 * type, existing or not (Kafka's authorizeByResourceType, which
 * InitProducerId asks for WRITE on any topic): an ALLOW on some pattern
 * that no DENY covers (a literal DENY of the same name, a prefixed DENY
 * of a prefix of it, a DENY of "*" covers all), or any name at all for a
 * super user or under allow.everyone.if.no.acl.found. Walks every ACL of the
 * type: for rare requests only. */
int acl_authorize_any(const acl_authorizer_t *az, const char *principal, const char *host, int op,
                      int res_type);
/* 1 if principal is in super.users. */
int acl_is_super_user(const acl_authorizer_t *az, const char *principal);

/* Whether a binding is an ACL that may be stored: concrete codes, a
 * principal "Type:name", a non-empty name, CLUSTER named kafka-cluster.
 * 0, or a Kafka error code (INVALID_REQUEST) with a sentence in msg. */
int acl_binding_check(const acl_binding_t *ab, char *msg, size_t msg_size);

/* Adds ACLs (already checked) and saves the file before returning; an ACL
 * already there is not added twice. On a write error nothing changes in
 * memory either. Returns 0 or an eddy_err. */
int acl_add(acl_authorizer_t *az, const acl_binding_t *abs, int n);

/* Calls fn for every ACL a filter matches (the strings it gets are valid
 * during the call). Returns the count. */
typedef void acl_visit_fn(void *ctx, const acl_binding_t *ab);
int acl_find(const acl_authorizer_t *az, const acl_binding_t *filter, acl_visit_fn *fn, void *ctx);

/* Removes every ACL one of the n filters matches, calling fn(ctx, i, ab)
 * for each before it goes (i: the filter), then saves the file. On a
 * write error nothing is removed. Returns the count removed or an
 * eddy_err. */
typedef void acl_removed_fn(void *ctx, int filter, const acl_binding_t *ab);
int acl_remove(acl_authorizer_t *az, const acl_binding_t *filters, int n, acl_removed_fn *fn,
               void *ctx);

#endif

/* The authorizer (acl.h): ACLs indexed by resource pattern, the access
 * rule, and the file that keeps them.
 *
 * <log.dirs>/acls, text, replaced whole on every change (temp, fsync,
 * rename, fsync the directory: log_write_file_atomic):
 *
 *   eddy-acls 1\n
 *   <perm> <op> <type> <pattern> <name> <principal> <host>\n    one per ACL
 *   ...
 *   end <count> <crc>\n
 *
 *   perm, op, type, pattern: Kafka's names (Allow Read Topic LITERAL);
 *   name, principal, host: percent-encoded (a byte <= 0x20, '%' or >= 0x7f
 *   is written %XX), so no field holds a space or a newline;
 *   count: the ACL lines; crc: CRC-32C of every byte before the "end"
 *   line, 8 hex digits.
 *
 * Recovery rule: a missing file is a broker without ACLs. A file that does
 * not parse, lacks its end line or fails its CRC stops the start: the
 * rename makes a torn file impossible, so such a file was damaged or
 * edited, and loading part of it could allow what a lost DENY forbade.
 */
#include "acl.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/log_int.h"
#include "common/buf.h"
#include "common/crc32c.h"
#include "common/err.h"
#include "common/log.h"

#define ACL_FILE "acls"
#define ACL_FILE_MAX (256u << 20) /* a larger file is refused before it is read */
#define ACL_FIELD_MAX 4096        /* longest name, principal or host accepted */

typedef struct acl_entry {
    int ae_op, ae_perm;
    char *ae_principal, *ae_host;
    int ae_gone; /* marked by acl_remove until the file is written */
} acl_entry_t;

/* The ACLs of one resource pattern: a chain in the hash table. */
typedef struct acl_res {
    struct acl_res *ar_next;
    uint64_t ar_hash;
    int ar_type, ar_pattern;
    char *ar_name;
    size_t ar_name_len;
    acl_entry_t *ar_acls;
    int ar_n, ar_cap;
} acl_res_t;

struct acl_authorizer {
    char *az_dir;
    char **az_supers;
    int az_nsupers;
    int az_allow_if_none;
    acl_res_t **az_buckets;
    size_t az_nbuckets; /* a power of two */
    size_t az_nres;
    int64_t az_count;
    int64_t az_prefixed[8]; /* PREFIXED ACLs per resource type: skip the prefix walk at 0 */
};

/* ---- the index ---- */

#define FNV_OFFSET 1469598103934665603ull
#define FNV_PRIME 1099511628211ull

static uint64_t fnv_step(uint64_t h, unsigned char c)
{
    return (h ^ c) * FNV_PRIME;
}

/* The hash of a name (folded in byte by byte) with its type and pattern. */
static uint64_t hash_final(uint64_t h, int type, int pattern)
{
    h ^= (uint64_t)(type * 8 + pattern) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
    return h * 0xBF58476D1CE4E5B9ull;
}

static uint64_t hash_name(const char *name, size_t len, int type, int pattern)
{
    uint64_t h = FNV_OFFSET;
    for (size_t i = 0; i < len; i++)
        h = fnv_step(h, (unsigned char)name[i]);
    return hash_final(h, type, pattern);
}

static acl_res_t *res_lookup(const acl_authorizer_t *az, uint64_t h, int type, int pattern,
                             const char *name, size_t len)
{
    if (!az->az_nbuckets)
        return NULL;
    for (acl_res_t *r = az->az_buckets[h & (az->az_nbuckets - 1)]; r; r = r->ar_next)
        if (r->ar_hash == h && r->ar_type == type && r->ar_pattern == pattern &&
            r->ar_name_len == len && memcmp(r->ar_name, name, len) == 0)
            return r;
    return NULL;
}

static int grow(acl_authorizer_t *az)
{
    size_t n = az->az_nbuckets ? az->az_nbuckets * 2 : 64;
    acl_res_t **nb = calloc(n, sizeof *nb);
    if (!nb)
        return -ENOMEM;
    for (size_t i = 0; i < az->az_nbuckets; i++)
        for (acl_res_t *r = az->az_buckets[i], *next; r; r = next) {
            next = r->ar_next;
            r->ar_next = nb[r->ar_hash & (n - 1)];
            nb[r->ar_hash & (n - 1)] = r;
        }
    free(az->az_buckets);
    az->az_buckets = nb;
    az->az_nbuckets = n;
    return 0;
}

static acl_res_t *res_get(acl_authorizer_t *az, int type, int pattern, const char *name, size_t len)
{
    uint64_t h = hash_name(name, len, type, pattern);
    acl_res_t *r = res_lookup(az, h, type, pattern, name, len);
    if (r)
        return r;
    if (az->az_nres + 1 > az->az_nbuckets / 2 && grow(az) < 0)
        return NULL;
    if (!(r = calloc(1, sizeof *r)) || !(r->ar_name = malloc(len + 1))) {
        free(r);
        return NULL;
    }
    memcpy(r->ar_name, name, len);
    r->ar_name[len] = 0;
    r->ar_name_len = len;
    r->ar_hash = h;
    r->ar_type = type;
    r->ar_pattern = pattern;
    r->ar_next = az->az_buckets[h & (az->az_nbuckets - 1)];
    az->az_buckets[h & (az->az_nbuckets - 1)] = r;
    az->az_nres++;
    return r;
}

static void res_unlink(acl_authorizer_t *az, acl_res_t *r)
{
    for (acl_res_t **pp = &az->az_buckets[r->ar_hash & (az->az_nbuckets - 1)]; *pp;
         pp = &(*pp)->ar_next)
        if (*pp == r) {
            *pp = r->ar_next;
            break;
        }
    az->az_nres--;
    free(r->ar_acls);
    free(r->ar_name);
    free(r);
}

static void entry_free(acl_entry_t *e)
{
    free(e->ae_principal);
    free(e->ae_host);
}

static int entry_eq(const acl_entry_t *e, const acl_binding_t *ab)
{
    return e->ae_op == ab->ab_op && e->ae_perm == ab->ab_perm &&
           strcmp(e->ae_principal, ab->ab_principal) == 0 && strcmp(e->ae_host, ab->ab_host) == 0;
}

/* Adds one ACL to memory; *added says whether it was new. */
static int add_one(acl_authorizer_t *az, const acl_binding_t *ab, acl_res_t **res, int *added)
{
    *added = 0;
    acl_res_t *r = res_get(az, ab->ab_res_type, ab->ab_pattern, ab->ab_name, ab->ab_name_len);
    if (!r)
        return -ENOMEM;
    *res = r;
    for (int i = 0; i < r->ar_n; i++)
        if (entry_eq(&r->ar_acls[i], ab))
            return 0;
    if (r->ar_n == r->ar_cap) {
        int cap = r->ar_cap ? r->ar_cap * 2 : 4;
        acl_entry_t *na = realloc(r->ar_acls, (size_t)cap * sizeof *na);
        if (!na)
            goto fail;
        r->ar_acls = na;
        r->ar_cap = cap;
    }
    acl_entry_t *e = &r->ar_acls[r->ar_n];
    memset(e, 0, sizeof *e);
    e->ae_op = ab->ab_op;
    e->ae_perm = ab->ab_perm;
    e->ae_principal = strdup(ab->ab_principal);
    e->ae_host = strdup(ab->ab_host);
    if (!e->ae_principal || !e->ae_host) {
        entry_free(e);
        goto fail;
    }
    r->ar_n++;
    az->az_count++;
    if (ab->ab_pattern == ACL_PAT_PREFIXED && ab->ab_res_type < 8)
        az->az_prefixed[ab->ab_res_type]++;
    *added = 1;
    return 0;
fail:
    if (r->ar_n == 0)
        res_unlink(az, r);
    return -ENOMEM;
}

/* Drops the last ACL of r (the undo of add_one). */
static void drop_last(acl_authorizer_t *az, acl_res_t *r)
{
    entry_free(&r->ar_acls[--r->ar_n]);
    az->az_count--;
    if (r->ar_pattern == ACL_PAT_PREFIXED && r->ar_type < 8)
        az->az_prefixed[r->ar_type]--;
    if (r->ar_n == 0)
        res_unlink(az, r);
}

/* ---- the rule ---- */

int acl_is_super_user(const acl_authorizer_t *az, const char *principal)
{
    for (int i = 0; i < az->az_nsupers; i++)
        if (strcmp(az->az_supers[i], principal) == 0)
            return 1;
    return 0;
}

/* Whether an ALLOW of acl_op allows op (Kafka's implied operations). */
static int allow_covers(int acl_op, int op)
{
    if (acl_op == ACL_OP_ALL || acl_op == op)
        return 1;
    if (op == ACL_OP_DESCRIBE)
        return acl_op == ACL_OP_READ || acl_op == ACL_OP_WRITE || acl_op == ACL_OP_DELETE ||
               acl_op == ACL_OP_ALTER;
    if (op == ACL_OP_DESCRIBE_CONFIGS)
        return acl_op == ACL_OP_ALTER_CONFIGS;
    return 0;
}

static int principal_matches(const char *acl, const char *principal)
{
    if (strcmp(acl, principal) == 0)
        return 1;
    /* "User:*" matches every principal of type User. */
    size_t n = strlen(acl);
    return n >= 2 && acl[n - 1] == '*' && acl[n - 2] == ':' && strncmp(acl, principal, n - 1) == 0;
}

/* Applies one pattern's ACLs: returns 1 on a matching DENY; sets *allowed
 * on a matching ALLOW. */
static int apply(const acl_res_t *r, const char *principal, const char *host, int op, int *allowed)
{
    for (int i = 0; i < r->ar_n; i++) {
        const acl_entry_t *e = &r->ar_acls[i];
        if (!principal_matches(e->ae_principal, principal))
            continue;
        if (strcmp(e->ae_host, ACL_WILDCARD) != 0 && strcmp(e->ae_host, host) != 0)
            continue;
        if (e->ae_perm == ACL_PERM_DENY && (e->ae_op == ACL_OP_ALL || e->ae_op == op))
            return 1;
        if (e->ae_perm == ACL_PERM_ALLOW && allow_covers(e->ae_op, op))
            *allowed = 1;
    }
    return 0;
}

int acl_authorize(const acl_authorizer_t *az, const char *principal, const char *host, int op,
                  int res_type, const char *name, size_t name_len)
{
    if (acl_is_super_user(az, principal))
        return 1;
    int found = 0, allowed = 0;
    const acl_res_t *r = res_lookup(az, hash_name(name, name_len, res_type, ACL_PAT_LITERAL),
                                    res_type, ACL_PAT_LITERAL, name, name_len);
    if (r) {
        found = 1;
        if (apply(r, principal, host, op, &allowed))
            return 0;
    }
    r = res_lookup(az, hash_name(ACL_WILDCARD, 1, res_type, ACL_PAT_LITERAL), res_type,
                   ACL_PAT_LITERAL, ACL_WILDCARD, 1);
    if (r && !(name_len == 1 && name[0] == '*')) {
        found = 1;
        if (apply(r, principal, host, op, &allowed))
            return 0;
    }
    if (res_type >= 0 && res_type < 8 && az->az_prefixed[res_type] > 0) {
        uint64_t h = FNV_OFFSET;
        for (size_t len = 1; len <= name_len; len++) {
            h = fnv_step(h, (unsigned char)name[len - 1]);
            r = res_lookup(az, hash_final(h, res_type, ACL_PAT_PREFIXED), res_type,
                           ACL_PAT_PREFIXED, name, len);
            if (!r)
                continue;
            found = 1;
            if (apply(r, principal, host, op, &allowed))
                return 0;
        }
    }
    if (!found)
        return az->az_allow_if_none;
    return allowed;
}

/* 1 if a DENY of op for principal/host sits on pattern r. */
static int denies(const acl_res_t *r, const char *principal, const char *host, int op)
{
    for (int i = 0; r && i < r->ar_n; i++) {
        const acl_entry_t *e = &r->ar_acls[i];
        if (e->ae_perm == ACL_PERM_DENY && (e->ae_op == ACL_OP_ALL || e->ae_op == op) &&
            principal_matches(e->ae_principal, principal) &&
            (strcmp(e->ae_host, ACL_WILDCARD) == 0 || strcmp(e->ae_host, host) == 0))
            return 1;
    }
    return 0;
}

/* Whether a DENY covers every name of pattern r: a literal DENY of its
 * name, or a prefixed DENY of a prefix of its name. */
static int covered(const acl_authorizer_t *az, const acl_res_t *r, const char *principal,
                   const char *host, int op)
{
    if (denies(res_lookup(az, hash_name(r->ar_name, r->ar_name_len, r->ar_type, r->ar_pattern),
                          r->ar_type, r->ar_pattern, r->ar_name, r->ar_name_len),
               principal, host, op))
        return 1;
    uint64_t h = FNV_OFFSET;
    for (size_t len = 1; len <= r->ar_name_len; len++) {
        h = fnv_step(h, (unsigned char)r->ar_name[len - 1]);
        const acl_res_t *d = res_lookup(az, hash_final(h, r->ar_type, ACL_PAT_PREFIXED), r->ar_type,
                                        ACL_PAT_PREFIXED, r->ar_name, len);
        if (d && denies(d, principal, host, op))
            return 1;
    }
    return 0;
}

int acl_authorize_any(const acl_authorizer_t *az, const char *principal, const char *host, int op,
                      int res_type)
{
    /* Kafka's default first asks about a name no ACL is likely to hold:
     * allowed for super users, by a literal "*" ALLOW, and, with
     * allow.everyone.if.no.acl.found, when nothing matches such a name. */
    static const char probe[] = "hardcode";
    if (acl_authorize(az, principal, host, op, res_type, probe, sizeof probe - 1))
        return 1;
    if (denies(res_lookup(az, hash_name(ACL_WILDCARD, 1, res_type, ACL_PAT_LITERAL), res_type,
                          ACL_PAT_LITERAL, ACL_WILDCARD, 1),
               principal, host, op))
        return 0;
    for (size_t i = 0; i < az->az_nbuckets; i++)
        for (const acl_res_t *r = az->az_buckets[i]; r; r = r->ar_next) {
            if (r->ar_type != res_type)
                continue;
            int allowed = 0;
            for (int k = 0; k < r->ar_n && !allowed; k++) {
                const acl_entry_t *e = &r->ar_acls[k];
                allowed = e->ae_perm == ACL_PERM_ALLOW && allow_covers(e->ae_op, op) &&
                          principal_matches(e->ae_principal, principal) &&
                          (strcmp(e->ae_host, ACL_WILDCARD) == 0 || strcmp(e->ae_host, host) == 0);
            }
            if (allowed && !covered(az, r, principal, host, op))
                return 1;
        }
    return 0;
}

/* ---- filters ---- */

static int str_eq_n(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}

static int pattern_matches(const acl_res_t *r, const acl_binding_t *f)
{
    if (f->ab_res_type != ACL_RES_ANY && f->ab_res_type != r->ar_type)
        return 0;
    switch (f->ab_pattern) {
    case ACL_PAT_ANY:
        return !f->ab_name || str_eq_n(r->ar_name, r->ar_name_len, f->ab_name, f->ab_name_len);
    case ACL_PAT_MATCH:
        /* Every pattern that would apply to the named resource. */
        if (!f->ab_name)
            return 1;
        if (r->ar_pattern == ACL_PAT_LITERAL)
            return str_eq_n(r->ar_name, r->ar_name_len, f->ab_name, f->ab_name_len) ||
                   strcmp(r->ar_name, ACL_WILDCARD) == 0;
        return r->ar_name_len <= f->ab_name_len &&
               memcmp(r->ar_name, f->ab_name, r->ar_name_len) == 0;
    default:
        return r->ar_pattern == f->ab_pattern &&
               (!f->ab_name || str_eq_n(r->ar_name, r->ar_name_len, f->ab_name, f->ab_name_len));
    }
}

static int entry_matches(const acl_entry_t *e, const acl_binding_t *f)
{
    return (!f->ab_principal || strcmp(e->ae_principal, f->ab_principal) == 0) &&
           (!f->ab_host || strcmp(e->ae_host, f->ab_host) == 0) &&
           (f->ab_op == ACL_OP_ANY || f->ab_op == e->ae_op) &&
           (f->ab_perm == ACL_PERM_ANY || f->ab_perm == e->ae_perm);
}

static void to_binding(const acl_res_t *r, const acl_entry_t *e, acl_binding_t *ab)
{
    ab->ab_res_type = r->ar_type;
    ab->ab_name = r->ar_name;
    ab->ab_name_len = r->ar_name_len;
    ab->ab_pattern = r->ar_pattern;
    ab->ab_principal = e->ae_principal;
    ab->ab_host = e->ae_host;
    ab->ab_op = e->ae_op;
    ab->ab_perm = e->ae_perm;
}

int acl_find(const acl_authorizer_t *az, const acl_binding_t *filter, acl_visit_fn *fn, void *ctx)
{
    int n = 0;
    for (size_t i = 0; i < az->az_nbuckets; i++)
        for (const acl_res_t *r = az->az_buckets[i]; r; r = r->ar_next) {
            if (!pattern_matches(r, filter))
                continue;
            for (int k = 0; k < r->ar_n; k++)
                if (entry_matches(&r->ar_acls[k], filter)) {
                    acl_binding_t ab;
                    to_binding(r, &r->ar_acls[k], &ab);
                    if (fn)
                        fn(ctx, &ab);
                    n++;
                }
        }
    return n;
}

/* ---- checks ---- */

int acl_binding_check(const acl_binding_t *ab, char *msg, size_t msg_size)
{
    const int invalid = 42; /* Kafka's INVALID_REQUEST */
    if (ab->ab_res_type != ACL_RES_TOPIC && ab->ab_res_type != ACL_RES_GROUP &&
        ab->ab_res_type != ACL_RES_CLUSTER && ab->ab_res_type != ACL_RES_TRANSACTIONAL_ID) {
        snprintf(msg, msg_size,
                 "resource type %d: Eddy keeps ACLs for Topic, Group, Cluster and "
                 "TransactionalId",
                 ab->ab_res_type);
        return invalid;
    }
    if (ab->ab_pattern != ACL_PAT_LITERAL && ab->ab_pattern != ACL_PAT_PREFIXED) {
        snprintf(msg, msg_size, "pattern type %s: an ACL is LITERAL or PREFIXED",
                 wire_acl_pattern_name(ab->ab_pattern));
        return invalid;
    }
    if (!ab->ab_name || ab->ab_name_len == 0 || ab->ab_name_len > ACL_FIELD_MAX) {
        snprintf(msg, msg_size, "resource name must be 1 to %d bytes", ACL_FIELD_MAX);
        return invalid;
    }
    if (ab->ab_res_type == ACL_RES_CLUSTER &&
        (ab->ab_pattern != ACL_PAT_LITERAL ||
         !str_eq_n(ab->ab_name, ab->ab_name_len, ACL_CLUSTER_NAME, strlen(ACL_CLUSTER_NAME)))) {
        snprintf(msg, msg_size, "the only valid name for the CLUSTER resource is LITERAL '%s'",
                 ACL_CLUSTER_NAME);
        return invalid;
    }
    if (ab->ab_op <= ACL_OP_ANY || ab->ab_op > ACL_OP_DESCRIBE_TOKENS) {
        snprintf(msg, msg_size, "operation %d is not an ACL operation", ab->ab_op);
        return invalid;
    }
    if (ab->ab_perm != ACL_PERM_ALLOW && ab->ab_perm != ACL_PERM_DENY) {
        snprintf(msg, msg_size, "permission type %d: an ACL allows or denies", ab->ab_perm);
        return invalid;
    }
    const char *colon = ab->ab_principal ? strchr(ab->ab_principal, ':') : NULL;
    if (!colon || colon == ab->ab_principal || !colon[1] ||
        strlen(ab->ab_principal) > ACL_FIELD_MAX) {
        snprintf(msg, msg_size, "principal '%s' is not of the form Type:name (User:alice)",
                 ab->ab_principal ? ab->ab_principal : "(null)");
        return invalid;
    }
    if (!ab->ab_host || !ab->ab_host[0] || strlen(ab->ab_host) > ACL_FIELD_MAX) {
        snprintf(msg, msg_size, "host must be '*' or an address");
        return invalid;
    }
    return 0;
}

/* ---- the file ---- */

typedef struct sbuf {
    char *sb_p;
    size_t sb_len, sb_cap;
    int sb_err;
} sbuf_t;

static void sb_put(sbuf_t *sb, const char *s, size_t n)
{
    if (sb->sb_err)
        return;
    if (sb->sb_len + n + 1 > sb->sb_cap) {
        size_t cap = sb->sb_cap ? sb->sb_cap : 4096;
        while (cap < sb->sb_len + n + 1)
            cap *= 2;
        char *np = realloc(sb->sb_p, cap);
        if (!np) {
            sb->sb_err = -ENOMEM;
            return;
        }
        sb->sb_p = np;
        sb->sb_cap = cap;
    }
    memcpy(sb->sb_p + sb->sb_len, s, n);
    sb->sb_len += n;
    sb->sb_p[sb->sb_len] = 0;
}

static void sb_str(sbuf_t *sb, const char *s)
{
    sb_put(sb, s, strlen(s));
}

static void sb_enc(sbuf_t *sb, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == '%' || c >= 0x7f) {
            char hex[4];
            snprintf(hex, sizeof hex, "%%%02X", c);
            sb_put(sb, hex, 3);
        } else {
            sb_put(sb, (const char *)&c, 1);
        }
    }
}

static int save(const acl_authorizer_t *az)
{
    sbuf_t sb = {0};
    int64_t count = 0;
    sb_str(&sb, "eddy-acls 1\n");
    for (size_t i = 0; i < az->az_nbuckets; i++)
        for (const acl_res_t *r = az->az_buckets[i]; r; r = r->ar_next)
            for (int k = 0; k < r->ar_n; k++) {
                const acl_entry_t *e = &r->ar_acls[k];
                if (e->ae_gone)
                    continue;
                sb_str(&sb, wire_acl_perm_name(e->ae_perm));
                sb_str(&sb, " ");
                sb_str(&sb, wire_acl_op_name(e->ae_op));
                sb_str(&sb, " ");
                sb_str(&sb, wire_acl_res_type_name(r->ar_type));
                sb_str(&sb, " ");
                sb_str(&sb, wire_acl_pattern_name(r->ar_pattern));
                sb_str(&sb, " ");
                sb_enc(&sb, r->ar_name, r->ar_name_len);
                sb_str(&sb, " ");
                sb_enc(&sb, e->ae_principal, strlen(e->ae_principal));
                sb_str(&sb, " ");
                sb_enc(&sb, e->ae_host, strlen(e->ae_host));
                sb_str(&sb, "\n");
                count++;
            }
    char end[64];
    uint32_t crc = sb.sb_err ? 0 : crc32c(0, sb.sb_p, sb.sb_len);
    snprintf(end, sizeof end, "end %" PRId64 " %08" PRIx32 "\n", count, crc);
    sb_str(&sb, end);
    int rc = sb.sb_err;
    /* A file the next start would refuse to read is never written. */
    if (rc == 0 && sb.sb_len > ACL_FILE_MAX)
        rc = EDDY_ERR_TOO_LARGE;
    if (rc == 0)
        rc = log_write_file_atomic(az->az_dir, ACL_FILE, sb.sb_p, sb.sb_len, 1);
    if (rc == EDDY_ERR_TOO_LARGE)
        EDDY_LOG_ERROR("acl",
                       "%s/" ACL_FILE ": the ACLs would take more than %u MiB; the change is "
                       "refused (remove ACLs, or use prefixed ones)",
                       az->az_dir, ACL_FILE_MAX >> 20);
    else if (rc < 0)
        EDDY_LOG_ERROR("acl", "%s/" ACL_FILE ": cannot save the ACLs: %s; the change is refused",
                       az->az_dir, eddy_strerror(rc));
    free(sb.sb_p);
    return rc;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decodes a percent-encoded field in place; -1 when malformed. */
static int dec_field(char *s, size_t *len)
{
    size_t o = 0;
    for (size_t i = 0; s[i]; i++) {
        if (s[i] == '%') {
            int h = hexval(s[i + 1]), l = h >= 0 ? hexval(s[i + 2]) : -1;
            if (l < 0)
                return -1;
            s[o++] = (char)(h * 16 + l);
            i += 2;
        } else {
            s[o++] = s[i];
        }
    }
    s[o] = 0;
    *len = o;
    return 0;
}

static int load(acl_authorizer_t *az, char *errstr, size_t errstr_size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", az->az_dir, ACL_FILE);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        int e = errno;
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    char *buf = NULL;
    int rc = 0;
    int line_no = 0;
    if (fstat(fd, &st) < 0 || st.st_size > (off_t)ACL_FILE_MAX) {
        snprintf(errstr, errstr_size, "%s: larger than %u MiB or unreadable; not an ACL file", path,
                 ACL_FILE_MAX >> 20);
        close(fd);
        return EDDY_ERR_CORRUPT;
    }
    size_t size = (size_t)st.st_size;
    if (!(buf = malloc(size + 1))) {
        close(fd);
        return -ENOMEM;
    }
    ssize_t got = pread(fd, buf, size, 0);
    close(fd);
    if (got != (ssize_t)size)
        goto corrupt;
    buf[size] = 0;
    if (memchr(buf, 0, size))
        goto corrupt;
    /* The end line: the last line of the file, and its CRC over what precedes it. */
    if (size < 2 || buf[size - 1] != '\n')
        goto corrupt;
    char *endl = buf + size - 1;
    while (endl > buf && endl[-1] != '\n')
        endl--;
    int64_t want = -1;
    unsigned crc = 0;
    char tail[8];
    if (sscanf(endl, "end %" SCNd64 " %8x%7s", &want, &crc, tail) != 2 || want < 0 ||
        crc32c(0, buf, (size_t)(endl - buf)) != crc)
        goto corrupt;
    *endl = 0;
    char *save_ptr = NULL;
    int64_t count = 0;
    for (char *line = strtok_r(buf, "\n", &save_ptr); line;
         line = strtok_r(NULL, "\n", &save_ptr)) {
        line_no++;
        if (line_no == 1) {
            if (strcmp(line, "eddy-acls 1") != 0)
                goto corrupt;
            continue;
        }
        char *f[8];
        int nf = 0;
        char *sp = NULL;
        for (char *t = strtok_r(line, " ", &sp); t && nf < 8; t = strtok_r(NULL, " ", &sp))
            f[nf++] = t;
        if (nf != 7)
            goto corrupt;
        acl_binding_t ab;
        size_t plen, hlen;
        ab.ab_perm = wire_acl_parse_perm(f[0]);
        ab.ab_op = wire_acl_parse_op(f[1]);
        ab.ab_res_type = wire_acl_parse_res_type(f[2]);
        ab.ab_pattern = wire_acl_parse_pattern(f[3]);
        if (dec_field(f[4], &ab.ab_name_len) < 0 || dec_field(f[5], &plen) < 0 ||
            dec_field(f[6], &hlen) < 0 || strlen(f[5]) != plen || strlen(f[6]) != hlen)
            goto corrupt;
        ab.ab_name = f[4];
        ab.ab_principal = f[5];
        ab.ab_host = f[6];
        char why[256];
        if (acl_binding_check(&ab, why, sizeof why) != 0)
            goto corrupt;
        acl_res_t *r;
        int added;
        if ((rc = add_one(az, &ab, &r, &added)) < 0)
            goto out;
        count++;
    }
    if (line_no < 1 || count != want)
        goto corrupt;
    EDDY_LOG_INFO("acl", "loaded %" PRId64 " ACL(s) from %s", count, path);
    goto out;
corrupt:
    snprintf(errstr, errstr_size,
             "%s is corrupt (near line %d): the broker will not guess which ACLs hold; restore "
             "it from a backup, or remove it to start with no ACLs and add them again",
             path, line_no + 1);
    rc = EDDY_ERR_CORRUPT;
out:
    free(buf);
    return rc;
}

static int parse_supers(acl_authorizer_t *az, const char *s, char *errstr, size_t errstr_size)
{
    if (!s)
        return 0;
    const char *p = s;
    while (*p) {
        const char *semi = strchr(p, ';');
        size_t n = semi ? (size_t)(semi - p) : strlen(p);
        const char *b = p, *e = p + n;
        while (b < e && isspace((unsigned char)*b))
            b++;
        while (e > b && isspace((unsigned char)e[-1]))
            e--;
        if (e > b) {
            if (!memchr(b, ':', (size_t)(e - b))) {
                snprintf(errstr, errstr_size,
                         "super.users: '%.*s' is not a principal (User:name); separate them with "
                         "';'",
                         (int)(e - b), b);
                return EDDY_ERR_CONFIG;
            }
            char **ns = realloc(az->az_supers, (size_t)(az->az_nsupers + 1) * sizeof *ns);
            if (!ns)
                return -ENOMEM;
            az->az_supers = ns;
            if (!(ns[az->az_nsupers] = strndup(b, (size_t)(e - b))))
                return -ENOMEM;
            az->az_nsupers++;
        }
        p += n + (semi ? 1 : 0);
    }
    return 0;
}

int acl_open(acl_authorizer_t **out, const char *dir, const char *super_users, int allow_if_no_acl,
             char *errstr, size_t errstr_size)
{
    acl_authorizer_t *az = calloc(1, sizeof *az);
    if (!az || !(az->az_dir = strdup(dir))) {
        free(az);
        snprintf(errstr, errstr_size, "out of memory");
        return -ENOMEM;
    }
    az->az_allow_if_none = allow_if_no_acl;
    int rc = parse_supers(az, super_users, errstr, errstr_size);
    if (rc == 0)
        rc = load(az, errstr, errstr_size);
    if (rc < 0) {
        if (rc == -ENOMEM)
            snprintf(errstr, errstr_size, "out of memory loading the ACLs");
        acl_close(az);
        return rc;
    }
    *out = az;
    return 0;
}

void acl_close(acl_authorizer_t *az)
{
    if (!az)
        return;
    for (size_t i = 0; i < az->az_nbuckets; i++)
        for (acl_res_t *r = az->az_buckets[i], *next; r; r = next) {
            next = r->ar_next;
            for (int k = 0; k < r->ar_n; k++)
                entry_free(&r->ar_acls[k]);
            free(r->ar_acls);
            free(r->ar_name);
            free(r);
        }
    free(az->az_buckets);
    for (int i = 0; i < az->az_nsupers; i++)
        free(az->az_supers[i]);
    free(az->az_supers);
    free(az->az_dir);
    free(az);
}

int acl_add(acl_authorizer_t *az, const acl_binding_t *abs, int n)
{
    acl_res_t **undo = calloc((size_t)(n ? n : 1), sizeof *undo);
    if (!undo)
        return -ENOMEM;
    int nundo = 0, rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        acl_res_t *r;
        int added;
        rc = add_one(az, &abs[i], &r, &added);
        if (rc == 0 && added)
            undo[nundo++] = r;
    }
    if (rc == 0 && nundo > 0)
        rc = save(az);
    if (rc < 0)
        while (nundo > 0)
            drop_last(az, undo[--nundo]);
    free(undo);
    return rc;
}

int acl_remove(acl_authorizer_t *az, const acl_binding_t *filters, int n, acl_removed_fn *fn,
               void *ctx)
{
    int removed = 0;
    for (int f = 0; f < n; f++)
        for (size_t i = 0; i < az->az_nbuckets; i++)
            for (acl_res_t *r = az->az_buckets[i]; r; r = r->ar_next)
                if (pattern_matches(r, &filters[f]))
                    for (int k = 0; k < r->ar_n; k++)
                        if (!r->ar_acls[k].ae_gone && entry_matches(&r->ar_acls[k], &filters[f])) {
                            r->ar_acls[k].ae_gone = f + 1;
                            removed++;
                        }
    if (removed == 0)
        return 0;
    int rc = save(az);
    for (size_t i = 0; i < az->az_nbuckets; i++)
        for (acl_res_t *r = az->az_buckets[i], *next; r; r = next) {
            next = r->ar_next;
            int keep = 0;
            for (int k = 0; k < r->ar_n; k++) {
                acl_entry_t *e = &r->ar_acls[k];
                if (e->ae_gone && rc == 0) {
                    acl_binding_t ab;
                    to_binding(r, e, &ab);
                    if (fn)
                        fn(ctx, e->ae_gone - 1, &ab);
                    if (r->ar_pattern == ACL_PAT_PREFIXED && r->ar_type < 8)
                        az->az_prefixed[r->ar_type]--;
                    az->az_count--;
                    entry_free(e);
                    continue;
                }
                e->ae_gone = 0;
                r->ar_acls[keep++] = *e;
            }
            r->ar_n = keep;
            if (keep == 0)
                res_unlink(az, r);
        }
    return rc < 0 ? rc : removed;
}

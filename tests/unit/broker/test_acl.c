/* The authorizer (broker/acl.c): Kafka's access rule, the index over
 * literal, wildcard and prefixed patterns, and the ACL file across a
 * restart, a failed write and damage. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "broker/acl.h"
#include "common/err.h"

static char dir[256];

static void mkdir_tmp(void)
{
    snprintf(dir, sizeof dir, "/tmp/eddy-acl-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void rm_tmp(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static acl_authorizer_t *open_az(const char *supers, int allow_if_none)
{
    acl_authorizer_t *az = NULL;
    char err[512] = "";
    int rc = acl_open(&az, dir, supers, allow_if_none, err, sizeof err);
    ck_assert_msg(rc == 0, "acl_open: %s", err);
    return az;
}

static acl_binding_t acl(int perm, int op, int type, int pattern, const char *name,
                         const char *principal, const char *host)
{
    acl_binding_t ab = {type, name, strlen(name), pattern, principal, host, op, perm};
    return ab;
}

static int can(acl_authorizer_t *az, const char *who, const char *host, int op, int type,
               const char *name)
{
    return acl_authorize(az, who, host, op, type, name, strlen(name));
}

#define ALICE "User:alice"
#define IP "127.0.0.1"

START_TEST(no_acl_denies_unless_allow_everyone)
{
    mkdir_tmp();
    acl_authorizer_t *az = open_az(NULL, 0);
    ck_assert(!can(az, ALICE, IP, ACL_OP_READ, ACL_RES_TOPIC, "t"));
    acl_close(az);
    az = open_az(NULL, 1);
    ck_assert(can(az, ALICE, IP, ACL_OP_READ, ACL_RES_TOPIC, "t"));
    /* An ACL on the topic for someone else: no longer "no ACL found". */
    acl_binding_t ab = acl(ACL_PERM_ALLOW, ACL_OP_READ, ACL_RES_TOPIC, ACL_PAT_LITERAL, "t",
                           "User:bob", "*");
    ck_assert_int_eq(acl_add(az, &ab, 1), 0);
    ck_assert(!can(az, ALICE, IP, ACL_OP_READ, ACL_RES_TOPIC, "t"));
    ck_assert(can(az, "User:bob", IP, ACL_OP_READ, ACL_RES_TOPIC, "t"));
    ck_assert(can(az, ALICE, IP, ACL_OP_READ, ACL_RES_TOPIC, "other"));
    acl_close(az);
    rm_tmp();
}
END_TEST

START_TEST(super_users_and_deny_wins)
{
    mkdir_tmp();
    acl_authorizer_t *az = open_az(" User:admin ; User:ops", 0);
    ck_assert(can(az, "User:admin", IP, ACL_OP_DELETE, ACL_RES_TOPIC, "t"));
    ck_assert(can(az, "User:ops", IP, ACL_OP_ALTER, ACL_RES_CLUSTER, ACL_CLUSTER_NAME));
    ck_assert(!can(az, "User:ANONYMOUS", IP, ACL_OP_READ, ACL_RES_TOPIC, "t"));
    acl_binding_t abs[] = {
        acl(ACL_PERM_ALLOW, ACL_OP_ALL, ACL_RES_TOPIC, ACL_PAT_LITERAL, "*", ALICE, "*"),
        acl(ACL_PERM_DENY, ACL_OP_WRITE, ACL_RES_TOPIC, ACL_PAT_PREFIXED, "secret-", ALICE, "*"),
    };
    ck_assert_int_eq(acl_add(az, abs, 2), 0);
    ck_assert(can(az, ALICE, IP, ACL_OP_WRITE, ACL_RES_TOPIC, "public"));
    ck_assert(!can(az, ALICE, IP, ACL_OP_WRITE, ACL_RES_TOPIC, "secret-plans"));
    /* A DENY of WRITE leaves READ (and DESCRIBE) alone, as in Kafka. */
    ck_assert(can(az, ALICE, IP, ACL_OP_READ, ACL_RES_TOPIC, "secret-plans"));
    acl_close(az);
    rm_tmp();
}
END_TEST

START_TEST(implied_operations_hosts_and_wildcard_principal)
{
    mkdir_tmp();
    acl_authorizer_t *az = open_az(NULL, 0);
    acl_binding_t abs[] = {
        acl(ACL_PERM_ALLOW, ACL_OP_READ, ACL_RES_TOPIC, ACL_PAT_LITERAL, "t", ALICE, "*"),
        acl(ACL_PERM_ALLOW, ACL_OP_ALTER_CONFIGS, ACL_RES_TOPIC, ACL_PAT_LITERAL, "c", ALICE, "*"),
        acl(ACL_PERM_ALLOW, ACL_OP_WRITE, ACL_RES_TOPIC, ACL_PAT_LITERAL, "h", ALICE, "10.0.0.1"),
        acl(ACL_PERM_ALLOW, ACL_OP_DESCRIBE, ACL_RES_GROUP, ACL_PAT_LITERAL, "g", "User:*", "*"),
    };
    ck_assert_int_eq(acl_add(az, abs, 4), 0);
    ck_assert(can(az, ALICE, IP, ACL_OP_DESCRIBE, ACL_RES_TOPIC, "t"));
    ck_assert(!can(az, ALICE, IP, ACL_OP_WRITE, ACL_RES_TOPIC, "t"));
    ck_assert(can(az, ALICE, IP, ACL_OP_DESCRIBE_CONFIGS, ACL_RES_TOPIC, "c"));
    ck_assert(!can(az, ALICE, IP, ACL_OP_DESCRIBE, ACL_RES_TOPIC, "c"));
    ck_assert(!can(az, ALICE, IP, ACL_OP_WRITE, ACL_RES_TOPIC, "h"));
    ck_assert(can(az, ALICE, "10.0.0.1", ACL_OP_WRITE, ACL_RES_TOPIC, "h"));
    ck_assert(can(az, "User:zoe", IP, ACL_OP_DESCRIBE, ACL_RES_GROUP, "g"));
    ck_assert(!can(az, "User:zoe", IP, ACL_OP_READ, ACL_RES_GROUP, "g"));
    /* The type matters: a topic ACL says nothing about a group of that name. */
    ck_assert(!can(az, ALICE, IP, ACL_OP_READ, ACL_RES_GROUP, "t"));
    acl_close(az);
    rm_tmp();
}
END_TEST

START_TEST(prefixed_patterns)
{
    mkdir_tmp();
    acl_authorizer_t *az = open_az(NULL, 0);
    acl_binding_t abs[] = {
        acl(ACL_PERM_ALLOW, ACL_OP_READ, ACL_RES_TOPIC, ACL_PAT_PREFIXED, "app-", ALICE, "*"),
        acl(ACL_PERM_ALLOW, ACL_OP_READ, ACL_RES_GROUP, ACL_PAT_PREFIXED, "app", ALICE, "*"),
    };
    ck_assert_int_eq(acl_add(az, abs, 2), 0);
    ck_assert(can(az, ALICE, IP, ACL_OP_READ, ACL_RES_TOPIC, "app-1"));
    ck_assert(can(az, ALICE, IP, ACL_OP_READ, ACL_RES_TOPIC, "app-"));
    ck_assert(!can(az, ALICE, IP, ACL_OP_READ, ACL_RES_TOPIC, "app"));
    ck_assert(!can(az, ALICE, IP, ACL_OP_READ, ACL_RES_TOPIC, "xapp-1"));
    ck_assert(can(az, ALICE, IP, ACL_OP_READ, ACL_RES_GROUP, "application"));
    acl_close(az);
    rm_tmp();
}
END_TEST

static void count_visit(void *ctx, const acl_binding_t *ab)
{
    (void)ab;
    (*(int *)ctx)++;
}

static void removed_visit(void *ctx, int filter, const acl_binding_t *ab)
{
    (void)filter;
    (void)ab;
    (*(int *)ctx)++;
}

START_TEST(acls_survive_reopen_and_remove)
{
    mkdir_tmp();
    acl_authorizer_t *az = open_az(NULL, 0);
    /* A group name with a space, a newline and a percent sign: the file
     * keeps it exactly. */
    const char *odd = "odd group\n100%";
    acl_binding_t abs[] = {
        acl(ACL_PERM_ALLOW, ACL_OP_READ, ACL_RES_TOPIC, ACL_PAT_LITERAL, "t", ALICE, "*"),
        acl(ACL_PERM_DENY, ACL_OP_READ, ACL_RES_GROUP, ACL_PAT_LITERAL, odd, ALICE, "*"),
        acl(ACL_PERM_ALLOW, ACL_OP_READ, ACL_RES_GROUP, ACL_PAT_PREFIXED, "odd", ALICE, "*"),
        acl(ACL_PERM_ALLOW, ACL_OP_READ, ACL_RES_TOPIC, ACL_PAT_LITERAL, "t", ALICE, "*"),
    };
    ck_assert_int_eq(acl_add(az, abs, 4), 0);
    acl_close(az);
    az = open_az(NULL, 0);
    acl_binding_t all = {ACL_RES_ANY, NULL, 0, ACL_PAT_ANY, NULL, NULL, ACL_OP_ANY, ACL_PERM_ANY};
    int n = 0;
    ck_assert_int_eq(acl_find(az, &all, count_visit, &n), 3); /* the duplicate is one ACL */
    ck_assert_int_eq(n, 3);
    ck_assert(can(az, ALICE, IP, ACL_OP_READ, ACL_RES_TOPIC, "t"));
    ck_assert(!can(az, ALICE, IP, ACL_OP_READ, ACL_RES_GROUP, odd));
    ck_assert(can(az, ALICE, IP, ACL_OP_READ, ACL_RES_GROUP, "odd one"));
    /* MATCH finds every pattern that applies to a name. */
    acl_binding_t match = {ACL_RES_GROUP, odd,  strlen(odd), ACL_PAT_MATCH,
                           NULL,          NULL, ACL_OP_ANY,  ACL_PERM_ANY};
    ck_assert_int_eq(acl_find(az, &match, NULL, NULL), 2);
    acl_binding_t deny = {ACL_RES_ANY, NULL, 0, ACL_PAT_ANY, NULL, NULL, ACL_OP_ANY, ACL_PERM_DENY};
    int removed = 0;
    ck_assert_int_eq(acl_remove(az, &deny, 1, removed_visit, &removed), 1);
    ck_assert_int_eq(removed, 1);
    acl_close(az);
    az = open_az(NULL, 0);
    ck_assert(can(az, ALICE, IP, ACL_OP_READ, ACL_RES_GROUP, odd));
    ck_assert_int_eq(acl_find(az, &all, NULL, NULL), 2);
    acl_close(az);
    rm_tmp();
}
END_TEST

START_TEST(damaged_file_stops_the_start)
{
    mkdir_tmp();
    acl_authorizer_t *az = open_az(NULL, 0);
    acl_binding_t ab = acl(ACL_PERM_DENY, ACL_OP_ALL, ACL_RES_TOPIC, ACL_PAT_LITERAL, "t", ALICE,
                           "*");
    ck_assert_int_eq(acl_add(az, &ab, 1), 0);
    acl_close(az);
    char path[300];
    snprintf(path, sizeof path, "%s/acls", dir);
    /* One flipped byte: Deny becomes Ceny... or anything; the CRC sees it. */
    int fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    char c;
    ck_assert_int_eq(pread(fd, &c, 1, 12), 1);
    c ^= 0x20;
    ck_assert_int_eq(pwrite(fd, &c, 1, 12), 1);
    close(fd);
    char err[512] = "";
    az = NULL;
    ck_assert_int_eq(acl_open(&az, dir, NULL, 0, err, sizeof err), EDDY_ERR_CORRUPT);
    ck_assert_ptr_null(az);
    ck_assert_msg(strstr(err, "corrupt") && strstr(err, path), "%s", err);
    /* Cut short: also refused. */
    ck_assert_int_eq(truncate(path, 20), 0);
    ck_assert_int_eq(acl_open(&az, dir, NULL, 0, err, sizeof err), EDDY_ERR_CORRUPT);
    rm_tmp();
}
END_TEST

START_TEST(failed_write_changes_nothing)
{
    if (geteuid() == 0)
        return; /* root writes into a read-only directory */
    mkdir_tmp();
    acl_authorizer_t *az = open_az(NULL, 0);
    ck_assert_int_eq(chmod(dir, 0500), 0);
    acl_binding_t ab = acl(ACL_PERM_ALLOW, ACL_OP_READ, ACL_RES_TOPIC, ACL_PAT_LITERAL, "t", ALICE,
                           "*");
    ck_assert_int_lt(acl_add(az, &ab, 1), 0);
    ck_assert(!can(az, ALICE, IP, ACL_OP_READ, ACL_RES_TOPIC, "t"));
    ck_assert_int_eq(chmod(dir, 0700), 0);
    ck_assert_int_eq(acl_add(az, &ab, 1), 0);
    ck_assert_int_eq(chmod(dir, 0500), 0);
    acl_binding_t all = {ACL_RES_ANY, NULL, 0, ACL_PAT_ANY, NULL, NULL, ACL_OP_ANY, ACL_PERM_ANY};
    ck_assert_int_lt(acl_remove(az, &all, 1, NULL, NULL), 0);
    ck_assert(can(az, ALICE, IP, ACL_OP_READ, ACL_RES_TOPIC, "t"));
    ck_assert_int_eq(chmod(dir, 0700), 0);
    acl_close(az);
    rm_tmp();
}
END_TEST

START_TEST(bindings_are_checked)
{
    char msg[256];
    acl_binding_t ab = acl(ACL_PERM_ALLOW, ACL_OP_READ, ACL_RES_CLUSTER, ACL_PAT_LITERAL, "other",
                           ALICE, "*");
    ck_assert_int_eq(acl_binding_check(&ab, msg, sizeof msg), 42);
    ab = acl(ACL_PERM_ALLOW, ACL_OP_READ, ACL_RES_TOPIC, ACL_PAT_LITERAL, "t", "alice", "*");
    ck_assert_int_eq(acl_binding_check(&ab, msg, sizeof msg), 42);
    ab = acl(ACL_PERM_ANY, ACL_OP_READ, ACL_RES_TOPIC, ACL_PAT_LITERAL, "t", ALICE, "*");
    ck_assert_int_eq(acl_binding_check(&ab, msg, sizeof msg), 42);
    ab = acl(ACL_PERM_ALLOW, ACL_OP_READ, ACL_RES_TOPIC, ACL_PAT_MATCH, "t", ALICE, "*");
    ck_assert_int_eq(acl_binding_check(&ab, msg, sizeof msg), 42);
    ab = acl(ACL_PERM_ALLOW, ACL_OP_ALTER, ACL_RES_CLUSTER, ACL_PAT_LITERAL, ACL_CLUSTER_NAME,
             ALICE, "*");
    ck_assert_int_eq(acl_binding_check(&ab, msg, sizeof msg), 0);
    ck_assert_int_eq(wire_acl_parse_op("describe_configs"), ACL_OP_DESCRIBE_CONFIGS);
    ck_assert_int_eq(wire_acl_parse_op("IdempotentWrite"), ACL_OP_IDEMPOTENT_WRITE);
    ck_assert_int_eq(wire_acl_parse_op("nope"), -1);
}
END_TEST

/* The check costs hash probes, not a walk over the ACLs: with 100,000
 * ACLs on other topics (some prefixed), a million checks stay fast. The
 * bound is loose (a linear scan would take minutes), so a slow machine
 * does not fail it. */
START_TEST(lookup_does_not_scan)
{
    mkdir_tmp();
    acl_authorizer_t *az = open_az(NULL, 0);
    enum { N = 100000 };
    acl_binding_t *abs = calloc(N, sizeof *abs);
    char(*names)[32] = calloc(N, 32);
    ck_assert(abs && names);
    for (int i = 0; i < N; i++) {
        snprintf(names[i], 32, "topic-%d", i);
        abs[i] = acl(ACL_PERM_ALLOW, ACL_OP_READ, ACL_RES_TOPIC,
                     i % 10 ? ACL_PAT_LITERAL : ACL_PAT_PREFIXED, names[i], ALICE, "*");
    }
    ck_assert_int_eq(acl_add(az, abs, N), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int allowed = 0;
    for (int i = 0; i < 1000000; i++)
        allowed += can(az, ALICE, IP, ACL_OP_READ, ACL_RES_TOPIC, names[(i * 7) % N]);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    ck_assert_int_eq(allowed, 1000000);
    ck_assert_msg(s < 10, "a million checks took %.1f s", s);
    free(abs);
    free(names);
    acl_close(az);
    rm_tmp();
}
END_TEST

/* InitProducerId's question: may the principal write some topic? */
START_TEST(authorize_any_resource)
{
    mkdir_tmp();
    acl_authorizer_t *az = open_az(NULL, 0);
    ck_assert(!acl_authorize_any(az, ALICE, IP, ACL_OP_WRITE, ACL_RES_TOPIC));
    acl_binding_t abs[] = {
        acl(ACL_PERM_ALLOW, ACL_OP_WRITE, ACL_RES_TOPIC, ACL_PAT_PREFIXED, "logs-", ALICE, "*"),
        acl(ACL_PERM_DENY, ACL_OP_WRITE, ACL_RES_TOPIC, ACL_PAT_PREFIXED, "log", ALICE, "*"),
        acl(ACL_PERM_ALLOW, ACL_OP_READ, ACL_RES_TOPIC, ACL_PAT_LITERAL, "t", "User:bob", "*"),
    };
    ck_assert_int_eq(acl_add(az, abs, 1), 0);
    ck_assert(acl_authorize_any(az, ALICE, IP, ACL_OP_WRITE, ACL_RES_TOPIC));
    ck_assert(!acl_authorize_any(az, "User:bob", IP, ACL_OP_WRITE, ACL_RES_TOPIC));
    /* A DENY on a shorter prefix covers every name the ALLOW could give. */
    ck_assert_int_eq(acl_add(az, abs + 1, 2), 0);
    ck_assert(!acl_authorize_any(az, ALICE, IP, ACL_OP_WRITE, ACL_RES_TOPIC));
    ck_assert(acl_authorize_any(az, "User:bob", IP, ACL_OP_DESCRIBE, ACL_RES_TOPIC));
    acl_close(az);
    /* With allow.everyone.if.no.acl.found, topics without ACLs count. */
    az = open_az(NULL, 1);
    ck_assert(acl_authorize_any(az, ALICE, IP, ACL_OP_WRITE, ACL_RES_TOPIC));
    acl_close(az);
    az = open_az("User:root", 0);
    ck_assert(acl_authorize_any(az, "User:root", IP, ACL_OP_WRITE, ACL_RES_GROUP));
    acl_close(az);
    rm_tmp();
}
END_TEST

TCase *tcase_acl(void)
{
    TCase *tc = tcase_create("acl");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, no_acl_denies_unless_allow_everyone);
    tcase_add_test(tc, super_users_and_deny_wins);
    tcase_add_test(tc, implied_operations_hosts_and_wildcard_principal);
    tcase_add_test(tc, prefixed_patterns);
    tcase_add_test(tc, acls_survive_reopen_and_remove);
    tcase_add_test(tc, damaged_file_stops_the_start);
    tcase_add_test(tc, failed_write_changes_nothing);
    tcase_add_test(tc, bindings_are_checked);
    tcase_add_test(tc, authorize_any_resource);
    tcase_add_test(tc, lookup_does_not_scan);
    return tc;
}

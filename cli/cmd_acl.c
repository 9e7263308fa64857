/* eddy acl: add, list and delete ACLs on a cluster with an authorizer
 * (CreateAcls, DescribeAcls, DeleteAcls), with kafka-acls' meanings:
 * several --principal and --operation values make one ACL per pair; list
 * and delete take the options as a filter (left out: any). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/api_acl.h"
#include "cli.h"
#include "cli_client.h"
#include "client/admin.h"

#define ACL_MAX_VALUES 16

static void acl_usage(FILE *out)
{
    fprintf(out,
            "usage: eddy [-b HOST:PORT] acl <action> [options]\n"
            "\n"
            "actions:\n"
            "  add     --allow|--deny --principal User:NAME --operation OP RESOURCE\n"
            "          [--prefixed] [--host IP]   one ACL per principal and operation given\n"
            "  list    [RESOURCE] [--principal P] [--operation OP] [--host IP] [--allow|--deny]\n"
            "  delete  RESOURCE [--principal P] [--operation OP] [--host IP] [--allow|--deny]\n"
            "          removes every ACL the options match; prints what it removed\n"
            "\n"
            "RESOURCE: --topic NAME | --group NAME | --transactional-id NAME | --cluster\n"
            "pattern:  --prefixed, or --resource-pattern-type literal|prefixed|match|any\n"
            "          (add: literal by default; list and delete: literal when a resource is\n"
            "          named, else any). A literal name '*' matches every resource of its type.\n"
            "OP:       read, write, create, delete, alter, describe, cluster_action,\n"
            "          describe_configs, alter_configs, idempotent_write, all\n"
            "The principal is User:NAME (User:* for everyone); the host is '*' (default) or\n"
            "an IP address.\n");
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "eddy acl: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see eddy acl --help)\n");
    return CLI_USAGE;
}

typedef struct acl_opts {
    int ao_perm;     /* ACL_PERM_ANY unless --allow / --deny */
    int ao_res_type; /* ACL_RES_ANY unless a resource is named */
    const char *ao_name;
    int ao_pattern;  /* -1: not given */
    const char *ao_host;
    const char *ao_principals[ACL_MAX_VALUES];
    int ao_nprincipals;
    int ao_ops[ACL_MAX_VALUES];
    int ao_nops;
} acl_opts_t;

static int set_resource(acl_opts_t *o, int type, const char *name)
{
    if (o->ao_res_type != ACL_RES_ANY)
        return usage_error("name one resource (%s)", "--topic, --group, --transactional-id or "
                                                     "--cluster");
    o->ao_res_type = type;
    o->ao_name = name;
    return 0;
}

static int parse_opts(int argc, char **argv, acl_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->ao_perm = ACL_PERM_ANY;
    o->ao_res_type = ACL_RES_ANY;
    o->ao_pattern = -1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = !strcmp(a, "--principal") || !strcmp(a, "--operation") ||
                    !strcmp(a, "--topic") || !strcmp(a, "--group") ||
                    !strcmp(a, "--transactional-id") || !strcmp(a, "--host") ||
                    !strcmp(a, "--resource-pattern-type");
        if (takes && !v)
            return usage_error("%s needs a value", a);
        int rc = 0;
        if (!strcmp(a, "--allow") || !strcmp(a, "--deny")) {
            int p = a[2] == 'a' ? ACL_PERM_ALLOW : ACL_PERM_DENY;
            if (o->ao_perm != ACL_PERM_ANY && o->ao_perm != p)
                return usage_error("%s", "--allow and --deny exclude each other");
            o->ao_perm = p;
        } else if (!strcmp(a, "--principal")) {
            if (o->ao_nprincipals == ACL_MAX_VALUES)
                return usage_error("at most %s principals", "16");
            if (!strchr(v, ':'))
                return usage_error("principal '%s' is not of the form User:NAME", v);
            o->ao_principals[o->ao_nprincipals++] = v;
        } else if (!strcmp(a, "--operation")) {
            int op = wire_acl_parse_op(v);
            if (op <= ACL_OP_ANY)
                return usage_error("unknown operation '%s'", v);
            if (o->ao_nops == ACL_MAX_VALUES)
                return usage_error("at most %s operations", "16");
            o->ao_ops[o->ao_nops++] = op;
        } else if (!strcmp(a, "--topic")) {
            rc = set_resource(o, ACL_RES_TOPIC, v);
        } else if (!strcmp(a, "--group")) {
            rc = set_resource(o, ACL_RES_GROUP, v);
        } else if (!strcmp(a, "--transactional-id")) {
            rc = set_resource(o, ACL_RES_TRANSACTIONAL_ID, v);
        } else if (!strcmp(a, "--cluster")) {
            rc = set_resource(o, ACL_RES_CLUSTER, ACL_CLUSTER_NAME);
        } else if (!strcmp(a, "--prefixed")) {
            o->ao_pattern = ACL_PAT_PREFIXED;
        } else if (!strcmp(a, "--resource-pattern-type")) {
            o->ao_pattern = wire_acl_parse_pattern(v);
            if (o->ao_pattern < ACL_PAT_ANY)
                return usage_error("unknown pattern type '%s' (literal, prefixed, match, any)", v);
        } else if (!strcmp(a, "--host")) {
            o->ao_host = v;
        } else {
            return usage_error("unknown option '%s'", a);
        }
        if (rc)
            return rc;
        if (takes)
            i++;
    }
    return 0;
}

static void print_acl(const kc_acl_t *a, void *opaque)
{
    int *printed = opaque;
    if (!*printed)
        printf("%-6s %-20s %-15s %-16s %-16s %-9s %s\n", "PERM", "PRINCIPAL", "HOST", "OPERATION",
               "RESOURCE", "PATTERN", "NAME");
    *printed += 1;
    printf("%-6s %-20s %-15s %-16s %-16s %-9s %s\n", wire_acl_perm_name(a->ka_perm),
           a->ka_principal, a->ka_host, wire_acl_op_name(a->ka_op),
           wire_acl_res_type_name(a->ka_res_type), wire_acl_pattern_name(a->ka_pattern),
           a->ka_name);
}

static int acl_add_cmd(cli_conn_t *cc, const acl_opts_t *o)
{
    if (o->ao_perm == ACL_PERM_ANY)
        return usage_error("add needs %s", "--allow or --deny");
    if (o->ao_res_type == ACL_RES_ANY)
        return usage_error("add needs a resource (%s)", "--topic, --group, --transactional-id or "
                                                        "--cluster");
    if (!o->ao_nprincipals || !o->ao_nops)
        return usage_error("add needs %s", "--principal and --operation");
    int pattern = o->ao_pattern < 0 ? ACL_PAT_LITERAL : o->ao_pattern;
    if (pattern != ACL_PAT_LITERAL && pattern != ACL_PAT_PREFIXED)
        return usage_error("an ACL's pattern is %s", "literal or prefixed");
    kc_acl_t acls[ACL_MAX_VALUES * ACL_MAX_VALUES];
    int n = 0;
    for (int p = 0; p < o->ao_nprincipals; p++)
        for (int k = 0; k < o->ao_nops; k++)
            acls[n++] = (kc_acl_t){o->ao_res_type,
                                   o->ao_name,
                                   pattern,
                                   o->ao_principals[p],
                                   o->ao_host ? o->ao_host : "*",
                                   o->ao_ops[k],
                                   o->ao_perm};
    char err[512] = "";
    int rc = kc_admin_create_acls(cc->cc_client, acls, n, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "eddy acl add: %s\n", cli_why(rc, err));
        return CLI_FAIL;
    }
    int printed = 0;
    for (int i = 0; i < n; i++)
        print_acl(&acls[i], &printed);
    return CLI_OK;
}

/* list and delete: one filter, or one per principal and operation given. */
static int acl_filter_cmd(cli_conn_t *cc, const acl_opts_t *o, int delete)
{
    if (delete && o->ao_res_type == ACL_RES_ANY)
        return usage_error("delete needs a resource (%s)", "--topic, --group, --transactional-id "
                                                           "or --cluster");
    int pattern = o->ao_pattern >= 0              ? o->ao_pattern
                  : o->ao_res_type == ACL_RES_ANY ? ACL_PAT_ANY
                                                  : ACL_PAT_LITERAL;
    int np = o->ao_nprincipals ? o->ao_nprincipals : 1;
    int nop = o->ao_nops ? o->ao_nops : 1;
    int printed = 0;
    for (int p = 0; p < np; p++)
        for (int k = 0; k < nop; k++) {
            kc_acl_t f = {o->ao_res_type, o->ao_name,
                          pattern,        o->ao_nprincipals ? o->ao_principals[p] : NULL,
                          o->ao_host,     o->ao_nops ? o->ao_ops[k] : ACL_OP_ANY,
                          o->ao_perm};
            char err[512] = "";
            int rc = delete ? kc_admin_delete_acls(cc->cc_client, &f, print_acl, &printed, err,
                                                   sizeof err)
                            : kc_admin_describe_acls(cc->cc_client, &f, print_acl, &printed, err,
                                                     sizeof err);
            if (rc != 0) {
                fprintf(stderr, "eddy acl %s: %s\n", delete ? "delete" : "list", cli_why(rc, err));
                return CLI_FAIL;
            }
        }
    if (!printed)
        fprintf(stderr, delete ? "no ACL matched; nothing removed\n" : "no ACLs\n");
    return CLI_OK;
}

int cmd_acl(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        acl_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    const char *action = argv[1];
    if (strcmp(action, "add") && strcmp(action, "list") && strcmp(action, "delete"))
        return usage_error("unknown action '%s'", action);
    acl_opts_t o;
    int rc = parse_opts(argc, argv, &o);
    if (rc)
        return rc;
    cli_conn_t cc;
    if (cli_conn_open(&cc, NULL, 0) < 0)
        return CLI_FAIL;
    if (!strcmp(action, "add"))
        rc = acl_add_cmd(&cc, &o);
    else
        rc = acl_filter_cmd(&cc, &o, !strcmp(action, "delete"));
    cli_conn_close(&cc);
    return rc;
}

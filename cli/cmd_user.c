/* eddy user: SCRAM credentials on the cluster (add, delete, list), through
 * Kafka's AlterUserScramCredentials and DescribeUserScramCredentials, so
 * the same commands work against Eddy's broker and Apache Kafka. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_client.h"
#include "client/admin.h"
#include "common/err.h"
#include "common/scram.h"

static void user_usage(FILE *out)
{
    fprintf(out,
            "usage: eddy [-b HOST:PORT] user <action> [options]\n"
            "\n"
            "actions:\n"
            "  add NAME [--mechanism M] [--iterations N] (--password-stdin | --password P)\n"
            "                  set NAME's SCRAM credential (replaces one of the same mechanism)\n"
            "      M: SCRAM-SHA-256 (default) or SCRAM-SHA-512; N: 4096 (default) to 16384\n"
            "      --password-stdin reads the password from the first line of standard input\n"
            "  delete NAME [--mechanism M]\n"
            "                  remove NAME's credential of M, or every one it has\n"
            "  list            every user with a credential: mechanism and iterations\n"
            "\n"
            "A user with a credential logs in with SCRAM-SHA-256/512 of that credential and with\n"
            "PLAIN (docs/broker.md, SASL). The password is salted here; only the salt and the\n"
            "salted password travel, as with Kafka's kafka-configs.\n"
            "-b/--bootstrap-server (or EDDY_BOOTSTRAP_SERVER) names a broker; default "
            "localhost:9092.\n");
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "eddy user: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see eddy user --help)\n");
    return CLI_USAGE;
}

/* ---- list ---- */

typedef struct row {
    char *r_user;
    int r_mech;
    int32_t r_iterations;
} row_t;

typedef struct rows {
    row_t *rs_rows;
    int rs_n, rs_cap;
    int rs_err;
} rows_t;

static void collect(const char *user, int mechanism, int32_t iterations, void *opaque)
{
    rows_t *rs = opaque;
    if (rs->rs_err)
        return;
    if (rs->rs_n == rs->rs_cap) {
        int cap = rs->rs_cap ? rs->rs_cap * 2 : 16;
        row_t *nr = realloc(rs->rs_rows, (size_t)cap * sizeof *nr);
        if (!nr) {
            rs->rs_err = -ENOMEM;
            return;
        }
        rs->rs_rows = nr;
        rs->rs_cap = cap;
    }
    row_t *r = &rs->rs_rows[rs->rs_n];
    if (!(r->r_user = strdup(user))) {
        rs->rs_err = -ENOMEM;
        return;
    }
    r->r_mech = mechanism;
    r->r_iterations = iterations;
    rs->rs_n++;
}

static int row_cmp(const void *x, const void *y)
{
    const row_t *a = x, *b = y;
    int c = strcmp(a->r_user, b->r_user);
    return c ? c : a->r_mech - b->r_mech;
}

static void rows_free(rows_t *rs)
{
    for (int i = 0; i < rs->rs_n; i++)
        free(rs->rs_rows[i].r_user);
    free(rs->rs_rows);
}

static int do_list(cli_conn_t *cc)
{
    rows_t rs = {0};
    char err[512] = "";
    int rc = kc_admin_describe_scram(cc->cc_client, NULL, 0, collect, &rs, err, sizeof err);
    if (rc == 0)
        rc = rs.rs_err;
    if (rc) {
        fprintf(stderr, "eddy user list: %s\n", cli_why(rc, err));
        rows_free(&rs);
        return CLI_FAIL;
    }
    qsort(rs.rs_rows, (size_t)rs.rs_n, sizeof *rs.rs_rows, row_cmp);
    printf("%-32s %-14s %s\n", "USER", "MECHANISM", "ITERATIONS");
    for (int i = 0; i < rs.rs_n; i++) {
        const char *m = scram_mech_name(rs.rs_rows[i].r_mech);
        printf("%-32s %-14s %" PRId32 "\n", rs.rs_rows[i].r_user, m ? m : "UNKNOWN",
               rs.rs_rows[i].r_iterations);
    }
    rows_free(&rs);
    return CLI_OK;
}

/* ---- add / delete ---- */

/* The first line of standard input, without its newline; malloc'ed. */
static char *read_password_line(void)
{
    size_t cap = 0;
    char *line = NULL;
    ssize_t n = getline(&line, &cap, stdin);
    if (n < 0) {
        free(line);
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    return line;
}

static int do_add(cli_conn_t *cc, const char *name, int mech, int32_t iterations,
                  const char *password)
{
    char err[512] = "";
    int rc = kc_admin_upsert_scram(cc->cc_client, name, mech, iterations, password, err,
                                   sizeof err);
    if (rc) {
        fprintf(stderr, "eddy user add %s: %s\n", name, cli_why(rc, err));
        return CLI_FAIL;
    }
    printf("set %s credential of user %s (%" PRId32 " iterations)\n", scram_mech_name(mech), name,
           iterations);
    return CLI_OK;
}

static void note_mech(const char *user, int mechanism, int32_t iterations, void *opaque)
{
    (void)user;
    (void)iterations;
    if (mechanism == SCRAM_SHA_256 || mechanism == SCRAM_SHA_512)
        *(int *)opaque |= 1 << mechanism;
}

static int do_delete(cli_conn_t *cc, const char *name, int mech)
{
    char err[512] = "";
    int rc, mechs = mech ? 1 << mech : 0;
    if (!mech) {
        const char *names[1] = {name};
        rc = kc_admin_describe_scram(cc->cc_client, names, 1, note_mech, &mechs, err, sizeof err);
        if (rc) {
            fprintf(stderr, "eddy user delete %s: %s\n", name, cli_why(rc, err));
            return CLI_FAIL;
        }
    }
    for (int m = SCRAM_SHA_256; m <= SCRAM_SHA_512; m++) {
        if (!(mechs & (1 << m)))
            continue;
        err[0] = '\0';
        rc = kc_admin_delete_scram(cc->cc_client, name, m, err, sizeof err);
        if (rc) {
            fprintf(stderr, "eddy user delete %s: %s: %s\n", name, scram_mech_name(m),
                    cli_why(rc, err));
            return CLI_FAIL;
        }
        printf("deleted %s credential of user %s\n", scram_mech_name(m), name);
    }
    return CLI_OK;
}

int cmd_user(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        user_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    const char *action = argv[1];
    int is_list = !strcmp(action, "list");
    if (!is_list && strcmp(action, "add") && strcmp(action, "delete"))
        return usage_error("unknown action '%s'", action);
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            user_usage(stdout);
            return CLI_OK;
        }
    if (is_list && argc > 2)
        return usage_error("list: unexpected argument '%s'", argv[2]);
    if (!is_list && (argc < 3 || argv[2][0] == '-'))
        return usage_error("%s: a user name is required", action);
    const char *name = is_list ? NULL : argv[2];
    int mech = 0, from_stdin = 0;
    int64_t iterations = SCRAM_MIN_ITERATIONS;
    const char *password = NULL;
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--mechanism") && v) {
            if (!(mech = scram_mech_from_name(v)))
                return usage_error("--mechanism '%s' is not SCRAM-SHA-256 or SCRAM-SHA-512", v);
            i++;
        } else if (!strcmp(a, "--iterations") && v && !strcmp(action, "add")) {
            char *end;
            errno = 0;
            iterations = strtoll(v, &end, 10);
            if (end == v || *end || errno || iterations < SCRAM_MIN_ITERATIONS ||
                iterations > SCRAM_MAX_ITERATIONS)
                return usage_error("--iterations '%s' is not a number from 4096 to 16384", v);
            i++;
        } else if (!strcmp(a, "--password") && v && !strcmp(action, "add")) {
            password = v;
            i++;
        } else if (!strcmp(a, "--password-stdin") && !strcmp(action, "add")) {
            from_stdin = 1;
        } else {
            return usage_error("unexpected argument '%s'", a);
        }
    }
    char *line = NULL;
    if (!strcmp(action, "add")) {
        if (!mech)
            mech = SCRAM_SHA_256;
        if (!!password + from_stdin != 1)
            return usage_error("add %s: give the password with --password-stdin or --password P "
                               "(one of them)",
                               name);
        if (from_stdin) {
            if (!(line = read_password_line()) || !line[0]) {
                free(line);
                fprintf(stderr, "eddy user add %s: no password on standard input\n", name);
                return CLI_FAIL;
            }
            password = line;
        }
        if (!password[0])
            return usage_error("add %s: the password is empty", name);
    }
    cli_conn_t cc;
    if (cli_conn_open(&cc, NULL, 0) < 0) {
        free(line);
        return CLI_FAIL;
    }
    int rc;
    if (is_list)
        rc = do_list(&cc);
    else if (!strcmp(action, "add"))
        rc = do_add(&cc, name, mech, (int32_t)iterations, password);
    else
        rc = do_delete(&cc, name, mech);
    cli_conn_close(&cc);
    if (line) {
        memset(line, 0, strlen(line));
        free(line);
    }
    return rc;
}

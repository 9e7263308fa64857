/* eddy group: list, describe (members, assignment, committed and end
 * offsets, lag), delete, reset-offsets (a plan, applied with --execute only
 * while the group has no live members). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_client.h"
#include "client/admin.h"

static void group_usage(FILE *out)
{
    fprintf(out,
            "usage: eddy [-b HOST:PORT] group <action> [options]\n"
            "\n"
            "actions:\n"
            "  list\n"
            "  describe GROUP       members, assignment, committed offset, end offset, lag\n"
            "  delete GROUP         (only a group without members)\n"
            "  reset-offsets GROUP --topic TOPIC (--to-earliest | --to-latest | --to-offset N |\n"
            "                --to-datetime 2026-01-02T03:04:05 | --shift-by N) [--execute]\n"
            "      prints the plan; changes offsets only with --execute, and only while the group\n"
            "      has no live members. Datetimes are UTC (a trailing Z is accepted).\n");
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "eddy group: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see eddy group --help)\n");
    return CLI_USAGE;
}

/* The header goes out with the first group, or at the end of a listing
 * that found none: a cluster that cannot be reached prints only its error. */
static void print_header(int *printed)
{
    if (!*printed)
        printf("%-40s %s\n", "GROUP", "PROTOCOL TYPE");
    *printed = 1;
}

static void print_group(const char *group, const char *ptype, void *opaque)
{
    print_header(opaque);
    printf("%-40s %s\n", group, ptype[0] ? ptype : "-");
}

/* ---- describe ---- */

typedef struct desc_state {
    int ds_members;
    char ds_state[64];
    const char *ds_group;
    cli_offsets_t *ds_committed;
    const int64_t *ds_end; /* end offset per committed entry */
} desc_state_t;

/* The member owning topic-partition in the description, or NULL. */
static const char *owner_of(const kc_group_desc_t *d, const char *topic, int32_t partition)
{
    for (int i = 0; i < d->gd_nmembers; i++)
        for (int k = 0; k < d->gd_members[i].gm_nassigned; k++)
            if (d->gd_members[i].gm_partitions[k] == partition &&
                strcmp(d->gd_members[i].gm_topics[k], topic) == 0)
                return d->gd_members[i].gm_member_id;
    return NULL;
}

static void print_desc(const kc_group_desc_t *d, void *opaque)
{
    desc_state_t *ds = opaque;
    ds->ds_members = d->gd_nmembers;
    snprintf(ds->ds_state, sizeof ds->ds_state, "%s", d->gd_state);
    cli_offsets_t *cm = ds->ds_committed;
    if (!strcmp(d->gd_state, "Dead") && cm->co_n == 0)
        return; /* no such group: the caller says so */
    printf("group %s\nstate: %s   protocol: %s %s   members: %d\n", ds->ds_group, d->gd_state,
           d->gd_protocol_type[0] ? d->gd_protocol_type : "-",
           d->gd_protocol[0] ? d->gd_protocol : "", d->gd_nmembers);
    for (int i = 0; i < d->gd_nmembers; i++) {
        const kc_group_member_desc_t *m = &d->gd_members[i];
        printf("  member %s (client %s, %s): %d partition(s)", m->gm_member_id, m->gm_client_id,
               m->gm_host, m->gm_nassigned);
        for (int k = 0; k < m->gm_nassigned; k++)
            printf("%s%s-%d", k ? ", " : " ", m->gm_topics[k], m->gm_partitions[k]);
        printf("\n");
    }
    if (cm->co_n == 0)
        return;
    /* By topic and partition: a cluster's coordinator answers in no
     * particular order. */
    int *order = malloc((size_t)cm->co_n * sizeof *order);
    if (!order) {
        fprintf(stderr, "eddy group describe %s: out of memory\n", ds->ds_group);
        return;
    }
    for (int i = 0; i < cm->co_n; i++) {
        int j = i;
        for (; j > 0; j--) {
            int o = order[j - 1], c = strcmp(cm->co_topic[o], cm->co_topic[i]);
            if (c < 0 || (c == 0 && cm->co_partition[o] < cm->co_partition[i]))
                break;
            order[j] = o;
        }
        order[j] = i;
    }
    printf("  %-30s %-9s %-12s %-12s %-8s %s\n", "TOPIC", "PARTITION", "COMMITTED", "END", "LAG",
           "OWNER");
    for (int n = 0; n < cm->co_n; n++) {
        int i = order[n];
        const char *owner = owner_of(d, cm->co_topic[i], cm->co_partition[i]);
        int64_t end = ds->ds_end[i],
                lag = end >= 0 && cm->co_offset[i] >= 0 ? end - cm->co_offset[i] : -1;
        printf("  %-30s %-9d %-12" PRId64 " %-12" PRId64 " %-8" PRId64 " %s\n", cm->co_topic[i],
               cm->co_partition[i], cm->co_offset[i], end, lag, owner ? owner : "-");
    }
    free(order);
}

static int do_describe(cli_conn_t *cc, const char *group)
{
    char err[1024] = "";
    cli_offsets_t committed = {0}, *cm = &committed;
    int rc = kc_admin_committed_offsets(cc->cc_client, group, NULL, cli_offsets_collect, cm, err,
                                        sizeof err);
    if (rc == 0 && cm->co_failed)
        rc = -ENOMEM;
    if (rc != 0) {
        fprintf(stderr, "eddy group describe %s: %s\n", group, cli_why(rc, err));
        cli_offsets_free(cm);
        return CLI_FAIL;
    }
    int64_t *end = calloc((size_t)cm->co_n + 1, sizeof *end);
    for (int i = 0; end && i < cm->co_n; i++)
        if (kc_admin_list_offset(cc->cc_client, cm->co_topic[i], cm->co_partition[i], -1, &end[i],
                                 err, sizeof err) != 0)
            end[i] = -1;
    desc_state_t ds = {0, "", group, cm, end};
    err[0] = 0;
    rc = end ? kc_admin_describe_group(cc->cc_client, group, print_desc, &ds, err, sizeof err)
             : -ENOMEM;
    int ret = CLI_OK;
    if (rc != 0) {
        fprintf(stderr, "eddy group describe %s: %s\n", group, cli_why(rc, err));
        ret = CLI_FAIL;
    } else if (!strcmp(ds.ds_state, "Dead") && cm->co_n == 0) {
        fprintf(stderr,
                "eddy group describe %s: no such group (eddy group list shows the groups)\n",
                group);
        ret = CLI_FAIL;
    }
    cli_offsets_free(cm);
    free(end);
    return ret;
}

/* ---- reset-offsets ---- */

static int do_reset(cli_conn_t *cc, const char *group, int argc, char **argv)
{
    const char *topic = NULL;
    cli_reset_t rs = {CLI_RESET_NONE, 0, NULL};
    int execute = 0;
    char err[1024] = "";
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int taken = 0;
        if (!strcmp(a, "--topic") && v)
            topic = argv[++i];
        else if (!strcmp(a, "--execute"))
            execute = 1;
        else if (!strcmp(a, "--by-duration") ||
                 (taken = cli_reset_option(&rs, a, v, err, sizeof err)) == 0)
            return usage_error("reset-offsets: unexpected argument '%s'", a);
        else if (taken < 0)
            return usage_error("reset-offsets: %s", err);
        else if (rs.rs_mode != CLI_RESET_EARLIEST && rs.rs_mode != CLI_RESET_LATEST)
            i++; /* the option's value */
    }
    if (!topic)
        return usage_error("reset-offsets %s: --topic TOPIC is required", group);
    if (rs.rs_mode == CLI_RESET_NONE)
        return usage_error("reset-offsets %s: say where to: --to-earliest, --to-latest, "
                           "--to-offset, --to-datetime or --shift-by",
                           group);

    const char *names[1] = {topic};
    int rc = kc_admin_metadata(cc->cc_client, names, 1, err, sizeof err);
    const kc_topic_meta_t *t = rc == 0 ? kc_metadata_topic(cc->cc_client, topic) : NULL;
    if (rc != 0 || !t || t->tm_error) {
        fprintf(stderr, "eddy group reset-offsets: %s: %s\n", topic,
                rc ? cli_why(rc, err) : "no such topic");
        return CLI_FAIL;
    }
    int32_t np = t->tm_npartitions;
    cli_offsets_t cm = {0};
    int32_t *parts = calloc((size_t)np, sizeof *parts);
    int64_t *target = calloc((size_t)np, sizeof *target),
            *current = calloc((size_t)np, sizeof *current);
    int ret = CLI_FAIL;
    if (!parts || !target || !current)
        goto out;
    rc = kc_admin_committed_offsets(cc->cc_client, group, topic, cli_offsets_collect, &cm, err,
                                    sizeof err);
    if (rc == 0 && cm.co_failed)
        rc = -ENOMEM;
    if (rc != 0) {
        fprintf(stderr, "eddy group reset-offsets %s: %s\n", group, cli_why(rc, err));
        goto out;
    }
    cli_progress_t pg;
    cli_progress_start(&pg, "planning partition", np);
    for (int32_t p = 0; p < np; p++) {
        cli_progress_step(&pg);
        current[p] = cli_offsets_find(&cm, topic, p);
        parts[p] = p;
        if ((rc = cli_reset_target(cc->cc_client, topic, p, &rs, current[p], &target[p], err,
                                   sizeof err)) != 0) {
            cli_progress_end(&pg);
            fprintf(stderr, "eddy group reset-offsets: %s-%d: %s\n", topic, p, cli_why(rc, err));
            goto out;
        }
    }
    cli_progress_end(&pg);
    printf("%-9s %-12s %s\n", "PARTITION", "CURRENT", "NEW");
    for (int32_t p = 0; p < np; p++)
        printf("%-9d %-12" PRId64 " %" PRId64 "\n", p, current[p], target[p]);
    if (!execute) {
        printf("(plan only: add --execute to apply it)\n");
        ret = CLI_OK;
        goto out;
    }
    cli_members_t ms;
    rc = cli_group_members(cc->cc_client, group, &ms, err, sizeof err);
    cli_members_free(&ms);
    if (rc != 0) {
        fprintf(stderr, "eddy group reset-offsets %s: %s\n", group, cli_why(rc, err));
        goto out;
    }
    if (ms.ms_n > 0) {
        fprintf(stderr,
                "eddy group reset-offsets %s: the group has %d live member(s) (state %s); stop its "
                "consumers first, offsets unchanged\n",
                group, ms.ms_n, ms.ms_state);
        goto out;
    }
    rc = kc_admin_commit_offsets(cc->cc_client, group, topic, np, parts, target, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "eddy group reset-offsets %s: %s\n", group, cli_why(rc, err));
        goto out;
    }
    printf("offsets of group %s on %s reset\n", group, topic);
    ret = CLI_OK;
out:
    cli_offsets_free(&cm);
    free(parts);
    free(target);
    free(current);
    return ret;
}

int cmd_group(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        group_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            group_usage(stdout);
            return CLI_OK;
        }
    const char *action = argv[1];
    int is_list = !strcmp(action, "list");
    if (!is_list && strcmp(action, "describe") && strcmp(action, "delete") &&
        strcmp(action, "reset-offsets"))
        return usage_error("unknown action '%s'", action);
    if (!is_list && (argc < 3 || argv[2][0] == '-'))
        return usage_error("%s: a group name is required", action);
    if ((is_list && argc > 2) ||
        ((!strcmp(action, "describe") || !strcmp(action, "delete")) && argc > 3))
        return usage_error("unexpected argument '%s'", argv[is_list ? 2 : 3]);
    cli_conn_t cc;
    if (cli_conn_open(&cc, NULL, 0) < 0)
        return CLI_FAIL;
    int rc = CLI_OK;
    char err[1024] = "";
    if (is_list) {
        int header = 0;
        int r = kc_admin_list_groups(cc.cc_client, print_group, &header, err, sizeof err);
        if (r == 0)
            print_header(&header);
        if (r != 0) {
            fprintf(stderr, "eddy group list: %s\n", cli_why(r, err));
            rc = CLI_FAIL;
        }
    } else if (!strcmp(action, "describe")) {
        rc = do_describe(&cc, argv[2]);
    } else if (!strcmp(action, "delete")) {
        int r = kc_admin_delete_group(cc.cc_client, argv[2], err, sizeof err);
        if (r != 0) {
            fprintf(stderr, "eddy group delete %s: %s%s\n", argv[2], cli_why(r, err),
                    r == 68 ? " (the group still has members: stop them first)" : "");
            rc = CLI_FAIL;
        } else {
            printf("deleted group %s\n", argv[2]);
        }
    } else {
        rc = do_reset(&cc, argv[2], argc - 3, argv + 3);
    }
    cli_conn_close(&cc);
    return rc;
}

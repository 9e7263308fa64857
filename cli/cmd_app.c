/* eddy app reset: Kafka Streams' application reset tool (StreamsResetter)
 * for Eddy apps. The application's consumer group is named after its
 * application id; its internal topics are "<id>-<name>-changelog" and
 * "<id>-<name>-repartition".
 *
 * Order, so that a failed check leaves everything as it was:
 *
 *   refuse if the group has live members
 *   read metadata and committed offsets, plan every partition   (read only)
 *   print the plan; --dry-run stops here
 *   ------------------------------------------------------------ first change
 *   DeleteGroups: the committed offsets of internal topics go with the
 *                 group (a recreated repartition topic must not resume from
 *                 a stale offset); it fails while a member is in the group
 *   OffsetCommit: new offsets of the input topics, unchanged ones of the
 *                 other topics the group had committed
 *   DeleteTopics: the internal topics
 *
 * Local state directories are not touched: this may run on another machine,
 * and the runtime wipes state that no longer matches its changelog. The
 * plan warns about changelogs whose stores are filled from inputs the reset
 * does not rewind, read from the changelogs' incarnation records
 * (streams/incarnation.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_client.h"
#include "client/admin.h"
#include "client/consumer.h"
#include "streams/incarnation.h"
#include "wire/proto.h"

static void app_usage(FILE *out)
{
    fprintf(out, "usage: eddy [-b HOST:PORT] app <action> [options]\n"
                 "\n"
                 "actions:\n"
                 "  reset --application-id ID --input-topics T1[,T2...] [--to-earliest | ...] "
                 "[--dry-run]\n"
                 "      make a stopped streams application reprocess its input (see eddy app reset "
                 "--help)\n"
                 "\n"
                 "-b/--bootstrap-server (or EDDY_BOOTSTRAP_SERVER) names a broker; default "
                 "localhost:9092.\n");
}

static void reset_usage(FILE *out)
{
    fprintf(out,
            "usage: eddy [-b HOST:PORT] app reset --application-id ID --input-topics T1[,T2...]\n"
            "           [--to-earliest | --to-latest | --to-offset N | --to-datetime DATETIME |\n"
            "            --by-duration DURATION | --shift-by N] [--dry-run]\n"
            "\n"
            "Resets a streams application so that it reprocesses its input, as Kafka's\n"
            "kafka-streams-application-reset does. Stop every instance of the application\n"
            "first: the reset refuses while its consumer group (named after the application id)\n"
            "has live members.\n"
            "\n"
            "  --application-id ID   the application, and its consumer group\n"
            "  --input-topics LIST   comma-separated input topics, whose committed offsets move "
            "to:\n"
            "  --to-earliest         the start of each partition (the default)\n"
            "  --to-latest           the end of each partition\n"
            "  --to-offset N         offset N, clamped to each partition's start and end\n"
            "  --to-datetime DT      the first record at or after DT, the end if there is none;\n"
            "                        DT is 2026-01-02T03:04:05[.sss][Z|+hh:mm|-hh:mm] (no zone: "
            "UTC)\n"
            "  --by-duration D       as --to-datetime, D before now; D is ISO 8601 PnDTnHnMnS\n"
            "                        (P1D, PT6H, P1DT2H30M)\n"
            "  --shift-by N          the committed offset plus N (N < 0 goes back), clamped;\n"
            "                        a partition with nothing committed starts from its start\n"
            "  --dry-run             print the plan and stop: nothing is changed\n"
            "\n"
            "The plan is printed first: per partition the committed offset (or -), the new one,\n"
            "and the internal topics to delete. Then the reset\n"
            "  1. deletes the consumer group, so that the committed offsets of internal topics go\n"
            "     (a recreated repartition topic would otherwise resume from a stale offset),\n"
            "  2. commits the new offsets of the input topics, and the unchanged offsets of any\n"
            "     other topic the group had committed,\n"
            "  3. deletes the internal topics ID-*-changelog and ID-*-repartition.\n"
            "When a check fails before step 1, nothing has been changed.\n"
            "\n"
            "Local state directories (state.dir) are NOT touched: the reset may run on another\n"
            "machine. Each instance notices that its local state no longer matches the deleted\n"
            "changelog topics and wipes it when it starts.\n"
            "\n"
            "A deleted changelog is rebuilt only from what the application reads again. The\n"
            "plan warns about each changelog whose store is filled from topics not in\n"
            "--input-topics (as the changelog's incarnation record names them), and about each\n"
            "changelog whose inputs are not known (no such record: empty, or an older version's).\n"
            "\n"
            "Exit status: 0 done (or planned, with --dry-run), 1 failure, 2 usage.\n");
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "eddy app reset: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see eddy app reset --help)\n");
    return CLI_USAGE;
}

/* ---- the plan ---- */

typedef enum row_kind {
    ROW_INPUT,    /* an input partition: committed at its new offset */
    ROW_KEPT,     /* another topic's committed offset: committed again, unchanged */
    ROW_INTERNAL, /* an internal topic's committed offset: dropped with the group */
    ROW_GONE,     /* a committed offset on a topic or partition that no longer exists */
} row_kind_t;

typedef struct plan_row {
    const char *pr_topic; /* borrowed from the plan's inputs or committed offsets */
    int32_t pr_partition;
    int64_t pr_current; /* -1: nothing committed */
    int64_t pr_new;     /* ROW_INPUT, ROW_KEPT: what the group has after the reset */
    row_kind_t pr_kind;
    int pr_committed; /* set once the commit of step 2 went through */
} plan_row_t;

typedef struct topic_info {
    char *ti_name; /* owned */
    int16_t ti_error;
    int32_t ti_npartitions;
} topic_info_t;

typedef struct plan {
    const char *pl_app;      /* borrowed from argv */
    char **pl_inputs;        /* owned, deduplicated */
    int pl_ninputs;
    topic_info_t *pl_topics; /* every topic of the cluster, owned */
    int pl_ntopics;
    const char **pl_internal; /* borrowed from pl_topics: the topics to delete */
    int pl_ninternal;
    /* Per internal topic: for a changelog, the input topics that fill its
     * store as its incarnation record names them (owned; NULL: not known). */
    char **pl_fills;
    cli_offsets_t pl_committed;
    plan_row_t *pl_rows;
    int pl_nrows, pl_cap;
} plan_t;

static void plan_free(plan_t *pl)
{
    for (int i = 0; i < pl->pl_ninputs; i++)
        free(pl->pl_inputs[i]);
    free(pl->pl_inputs);
    for (int i = 0; i < pl->pl_ntopics; i++)
        free(pl->pl_topics[i].ti_name);
    free(pl->pl_topics);
    for (int i = 0; pl->pl_fills && i < pl->pl_ninternal; i++)
        free(pl->pl_fills[i]);
    free(pl->pl_fills);
    free(pl->pl_internal);
    cli_offsets_free(&pl->pl_committed);
    free(pl->pl_rows);
}

/* Splits "a,b,c" into pl_inputs (skipping repeats); -1 on an empty name or
 * no memory, with the reason in errstr. */
static int add_inputs(plan_t *pl, const char *list, char *errstr, size_t errstr_size)
{
    const char *p = list;
    for (;;) {
        size_t len = strcspn(p, ",");
        if (len == 0) {
            snprintf(errstr, errstr_size, "--input-topics '%s' has an empty topic name", list);
            return -1;
        }
        int dup = 0;
        for (int i = 0; i < pl->pl_ninputs && !dup; i++)
            dup = strlen(pl->pl_inputs[i]) == len && !strncmp(pl->pl_inputs[i], p, len);
        if (!dup) {
            char **in = realloc(pl->pl_inputs, (size_t)(pl->pl_ninputs + 1) * sizeof *in);
            if (!in || !(in[pl->pl_ninputs] = strndup(p, len))) {
                if (in)
                    pl->pl_inputs = in;
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
            }
            pl->pl_inputs = in;
            pl->pl_ninputs++;
        }
        if (!p[len])
            return 0;
        p += len + 1;
    }
}

static int is_input(const plan_t *pl, const char *topic)
{
    for (int i = 0; i < pl->pl_ninputs; i++)
        if (!strcmp(pl->pl_inputs[i], topic))
            return 1;
    return 0;
}

static int ends_with(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len >= n && !memcmp(s + len - n, suffix, n);
}

/* "<app>-<something>-changelog" or "<app>-<something>-repartition", with
 * <something> not empty: the names Eddy's runtime gives internal topics. */
static int is_internal_name(const char *app, const char *topic)
{
    size_t alen = strlen(app), tlen = strlen(topic);
    if (strncmp(topic, app, alen) || topic[alen] != '-')
        return 0;
    const char *rest = topic + alen + 1;
    size_t rlen = tlen - alen - 1;
    return (ends_with(rest, rlen, "-changelog") && rlen > strlen("-changelog")) ||
           (ends_with(rest, rlen, "-repartition") && rlen > strlen("-repartition"));
}

static const topic_info_t *find_topic(const plan_t *pl, const char *name)
{
    for (int i = 0; i < pl->pl_ntopics; i++)
        if (!strcmp(pl->pl_topics[i].ti_name, name))
            return &pl->pl_topics[i];
    return NULL;
}

static plan_row_t *add_row(plan_t *pl)
{
    if (pl->pl_nrows == pl->pl_cap) {
        int cap = pl->pl_cap ? 2 * pl->pl_cap : 64;
        plan_row_t *r = realloc(pl->pl_rows, (size_t)cap * sizeof *r);
        if (!r)
            return NULL;
        pl->pl_rows = r;
        pl->pl_cap = cap;
    }
    plan_row_t *r = &pl->pl_rows[pl->pl_nrows++];
    memset(r, 0, sizeof *r);
    return r;
}

static int cmp_row(const void *a, const void *b)
{
    const plan_row_t *x = a, *y = b;
    int c = strcmp(x->pr_topic, y->pr_topic);
    return c ? c : (x->pr_partition > y->pr_partition) - (x->pr_partition < y->pr_partition);
}

/* Copies the cluster's topics out of the metadata cache (which later admin
 * calls refresh) and picks the internal ones. */
static int load_topics(cli_conn_t *cc, plan_t *pl, char *err, size_t err_size)
{
    int rc = kc_admin_metadata(cc->cc_client, NULL, 0, err, err_size);
    if (rc != 0)
        return rc;
    int n;
    const kc_topic_meta_t *t = kc_metadata_topics(cc->cc_client, &n);
    pl->pl_topics = calloc((size_t)n + 1, sizeof *pl->pl_topics);
    pl->pl_internal = calloc((size_t)n + 1, sizeof *pl->pl_internal);
    if (!pl->pl_topics || !pl->pl_internal)
        return -ENOMEM;
    for (int i = 0; i < n; i++) {
        topic_info_t *ti = &pl->pl_topics[pl->pl_ntopics];
        if (!(ti->ti_name = strdup(t[i].tm_name)))
            return -ENOMEM;
        ti->ti_error = t[i].tm_error;
        ti->ti_npartitions = t[i].tm_npartitions;
        pl->pl_ntopics++;
        /* A topic named as an input is never deleted, whatever its name. */
        if (!t[i].tm_internal && is_internal_name(pl->pl_app, ti->ti_name) &&
            !is_input(pl, ti->ti_name))
            pl->pl_internal[pl->pl_ninternal++] = ti->ti_name;
    }
    return 0;
}

/* ---- which inputs fill a changelog's store ---- */

/* The streams runtime writes an incarnation record near the start of each
 * changelog partition (streams/incarnation.h) naming the input topics that
 * fill the store. A scan reads each partition from its start until it
 * finds one, or gives up on the partition after SCAN_RECORDS records. */
#define SCAN_RECORDS 1000
#define SCAN_TIMEOUT_MS 5000

typedef struct inc_scan {
    int sc_nparts, sc_left;
    uint8_t *sc_done;
    int32_t *sc_seen;
    char *sc_inputs; /* malloc'd once found */
} inc_scan_t;

static void scan_part_done(inc_scan_t *sc, int32_t p)
{
    if (p >= 0 && p < sc->sc_nparts && !sc->sc_done[p]) {
        sc->sc_done[p] = 1;
        sc->sc_left--;
    }
}

static int scan_message(kc_consumer_t *k, const kc_message_t *m, void *opaque)
{
    (void)k;
    inc_scan_t *sc = opaque;
    uint8_t id[SX_INC_ID_BYTES];
    size_t pl = strlen(SX_INC_VALUE_PREFIX);
    if (!sc->sc_inputs && sx_inc_parse(m, id) && m->msg_value_len >= (int32_t)pl &&
        !memcmp(m->msg_value, SX_INC_VALUE_PREFIX, pl) && m->msg_value_len < 65536 &&
        (sc->sc_inputs = strndup((const char *)m->msg_value + pl, (size_t)m->msg_value_len - pl))) {
        sc->sc_left = 0; /* one is enough: every partition's names the same */
        return 1;
    }
    if (m->msg_partition >= 0 && m->msg_partition < sc->sc_nparts &&
        ++sc->sc_seen[m->msg_partition] >= SCAN_RECORDS)
        scan_part_done(sc, m->msg_partition);
    return 0;
}

static void scan_eof(kc_consumer_t *k, const char *topic, int32_t partition, int64_t offset,
                     void *opaque)
{
    (void)k;
    (void)topic;
    (void)offset;
    scan_part_done(opaque, partition);
}

static void scan_error(kc_consumer_t *k, const kc_consumer_error_t *e, void *opaque)
{
    (void)k;
    scan_part_done(opaque, e->ce_partition);
}

static int scan_finished(void *opaque)
{
    return ((inc_scan_t *)opaque)->sc_left <= 0;
}

/* The input topics an incarnation record of changelog names ("a,b"),
 * malloc'd; NULL when none is found (empty, or written before Eddy wrote
 * them) or on any failure: the caller then warns without knowing. */
static char *changelog_fills(cli_conn_t *cc, const char *changelog, int32_t nparts)
{
    if (nparts <= 0 || nparts > 100000)
        return NULL;
    inc_scan_t sc = {nparts, nparts, calloc((size_t)nparts, 1),
                     calloc((size_t)nparts, sizeof(int32_t)), NULL};
    kc_consumer_cbs_t cbs = {scan_message, scan_eof, scan_error, &sc};
    kc_consumer_t *k = sc.sc_done && sc.sc_seen ? kc_consumer_new(cc->cc_client, &cbs) : NULL;
    if (k) {
        for (int32_t p = 0; p < nparts; p++)
            kc_consumer_assign(k, changelog, p, KC_OFFSET_BEGINNING);
        kc_run_until(cc->cc_client, scan_finished, &sc, SCAN_TIMEOUT_MS);
        kc_consumer_destroy(k);
    }
    free(sc.sc_done);
    free(sc.sc_seen);
    return sc.sc_inputs;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Reads everything and decides every partition's fate; changes nothing.
 * Prints its own errors. */
static int make_plan(cli_conn_t *cc, plan_t *pl, const cli_reset_t *rs)
{
    char err[1024] = "";
    int rc = load_topics(cc, pl, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "eddy app reset: listing the topics: %s\n", cli_why(rc, err));
        return -1;
    }
    qsort(pl->pl_internal, (size_t)pl->pl_ninternal, sizeof *pl->pl_internal, cmp_str);
    if (!(pl->pl_fills = calloc((size_t)pl->pl_ninternal + 1, sizeof *pl->pl_fills))) {
        fprintf(stderr, "eddy app reset: out of memory; nothing was changed\n");
        return -1;
    }
    for (int i = 0; i < pl->pl_ninternal; i++) {
        const topic_info_t *ti = find_topic(pl, pl->pl_internal[i]);
        size_t len = strlen(pl->pl_internal[i]);
        if (ti && !ti->ti_error && ends_with(pl->pl_internal[i], len, "-changelog"))
            pl->pl_fills[i] = changelog_fills(cc, pl->pl_internal[i], ti->ti_npartitions);
    }
    int missing = 0;
    long nparts = 0;
    for (int i = 0; i < pl->pl_ninputs; i++) {
        const topic_info_t *ti = find_topic(pl, pl->pl_inputs[i]);
        if (!ti || ti->ti_error == KERR_UNKNOWN_TOPIC_OR_PARTITION)
            fprintf(stderr,
                    "eddy app reset: input topic '%s' does not exist (eddy topic list shows the "
                    "topics)\n",
                    pl->pl_inputs[i]);
        else if (ti->ti_error)
            fprintf(stderr,
                    "eddy app reset: input topic '%s' is not available: %s; try again shortly\n",
                    pl->pl_inputs[i], kafka_err_name(ti->ti_error));
        else {
            nparts += ti->ti_npartitions;
            continue;
        }
        missing++;
    }
    if (missing) {
        fprintf(stderr, "eddy app reset: nothing was changed\n");
        return -1;
    }
    rc = kc_admin_committed_offsets(cc->cc_client, pl->pl_app, NULL, cli_offsets_collect,
                                    &pl->pl_committed, err, sizeof err);
    if (rc == 0 && pl->pl_committed.co_failed)
        rc = -ENOMEM;
    if (rc != 0) {
        fprintf(stderr,
                "eddy app reset: reading the committed offsets of group %s: %s; nothing was "
                "changed\n",
                pl->pl_app, cli_why(rc, err));
        return -1;
    }

    cli_progress_t pg;
    cli_progress_start(&pg, "planning partition", nparts);
    for (int i = 0; i < pl->pl_ninputs; i++) {
        const char *topic = pl->pl_inputs[i];
        int32_t np = find_topic(pl, topic)->ti_npartitions;
        for (int32_t p = 0; p < np; p++) {
            cli_progress_step(&pg);
            plan_row_t *r = add_row(pl);
            if (!r) {
                cli_progress_end(&pg);
                fprintf(stderr, "eddy app reset: out of memory; nothing was changed\n");
                return -1;
            }
            r->pr_topic = topic;
            r->pr_partition = p;
            r->pr_kind = ROW_INPUT;
            r->pr_current = cli_offsets_find(&pl->pl_committed, topic, p);
            rc = cli_reset_target(cc->cc_client, topic, p, rs, r->pr_current, &r->pr_new, err,
                                  sizeof err);
            if (rc != 0) {
                cli_progress_end(&pg);
                fprintf(stderr, "eddy app reset: %s-%d: %s; nothing was changed\n", topic, p,
                        cli_why(rc, err));
                return -1;
            }
        }
    }
    cli_progress_end(&pg);

    /* Whatever else the group had committed. */
    int first_other = pl->pl_nrows;
    const cli_offsets_t *co = &pl->pl_committed;
    for (int i = 0; i < co->co_n; i++) {
        const char *topic = co->co_topic[i];
        const topic_info_t *ti = find_topic(pl, topic);
        int exists = ti && !ti->ti_error && co->co_partition[i] >= 0 &&
                     co->co_partition[i] < ti->ti_npartitions;
        if (is_input(pl, topic) && exists)
            continue; /* planned above */
        plan_row_t *r = add_row(pl);
        if (!r) {
            fprintf(stderr, "eddy app reset: out of memory; nothing was changed\n");
            return -1;
        }
        r->pr_topic = topic;
        r->pr_partition = co->co_partition[i];
        r->pr_current = r->pr_new = co->co_offset[i];
        if (is_internal_name(pl->pl_app, topic) && !is_input(pl, topic))
            r->pr_kind = ROW_INTERNAL;
        else if (!exists || co->co_offset[i] < 0)
            r->pr_kind = ROW_GONE; /* the broker would refuse to commit it again */
        else
            r->pr_kind = ROW_KEPT;
    }
    qsort(pl->pl_rows + first_other, (size_t)(pl->pl_nrows - first_other), sizeof *pl->pl_rows,
          cmp_row);
    return 0;
}

/* A deleted changelog is rebuilt only from what the application reads
 * again: its store loses whatever came from inputs that stay where they
 * are. Says so for each changelog whose store such an input fills, or
 * whose inputs are not known. */
static void warn_unrewound(const plan_t *pl)
{
    char inputs[1024] = "";
    for (int i = 0; i < pl->pl_ninputs; i++) {
        size_t u = strlen(inputs);
        snprintf(inputs + u, sizeof inputs - u, "%s%s", i ? ", " : "", pl->pl_inputs[i]);
    }
    for (int i = 0; i < pl->pl_ninternal; i++) {
        const char *name = pl->pl_internal[i];
        if (!ends_with(name, strlen(name), "-changelog"))
            continue;
        const char *fills = pl->pl_fills ? pl->pl_fills[i] : NULL;
        if (!fills) {
            fprintf(stderr,
                    "eddy app reset: warning: changelog %s will be deleted and the topics that "
                    "fill its "
                    "store are not known (it holds no incarnation record: it is empty, or an older "
                    "Eddy wrote it): the store will be rebuilt only from the records the "
                    "application reads again, the rewound inputs (%s) from their new offsets and "
                    "any other input from its committed offset on\n",
                    name, inputs);
            continue;
        }
        char missing[1024] = "";
        for (const char *p = fills; *p;) {
            size_t l = strcspn(p, ",");
            char t[256];
            snprintf(t, sizeof t, "%.*s", (int)(l < sizeof t ? l : sizeof t - 1), p);
            if (l > 0 && !is_input(pl, t)) {
                size_t u = strlen(missing);
                snprintf(missing + u, sizeof missing - u, "%s%s", u ? ", " : "", t);
            }
            p += l + (p[l] == ',');
        }
        if (missing[0])
            fprintf(stderr,
                    "eddy app reset: warning: changelog %s will be deleted, but its store is "
                    "filled from "
                    "%s, not rewound by this reset (not in --input-topics): the store will hold "
                    "only what the application reads from there after the committed offsets; add "
                    "them to --input-topics to rebuild it in full\n",
                    name, missing);
    }
}

static void print_plan(const plan_t *pl)
{
    printf("application %s (consumer group %s)\n", pl->pl_app, pl->pl_app);
    printf("%-30s %-9s %-12s %-12s %s\n", "TOPIC", "PARTITION", "CURRENT", "NEW", "NOTE");
    for (int i = 0; i < pl->pl_nrows; i++) {
        const plan_row_t *r = &pl->pl_rows[i];
        char cur[32] = "-", nu[32] = "-";
        if (r->pr_current >= 0)
            snprintf(cur, sizeof cur, "%" PRId64, r->pr_current);
        if (r->pr_kind == ROW_INPUT || r->pr_kind == ROW_KEPT)
            snprintf(nu, sizeof nu, "%" PRId64, r->pr_new);
        static const char *const notes[] = {"input", "kept: not an input",
                                            "dropped: internal topic",
                                            "dropped: topic or partition gone"};
        printf("%-30s %-9d %-12s %-12s %s\n", r->pr_topic, r->pr_partition, cur, nu,
               notes[r->pr_kind]);
    }
    if (pl->pl_ninternal == 0)
        printf("internal topics to delete: none\n");
    else
        printf("internal topics to delete:\n");
    for (int i = 0; i < pl->pl_ninternal; i++)
        printf("  %s\n", pl->pl_internal[i]);
    fflush(stdout);
    warn_unrewound(pl);
}

/* ---- doing it ---- */

/* Step 2: one OffsetCommit per topic, rows of a topic being adjacent.
 * Tries every topic; returns the number of topics that failed. */
static int commit_back(cli_conn_t *cc, plan_t *pl)
{
    int failed = 0, ntopics = 0;
    for (int i = 0; i < pl->pl_nrows; i++)
        if (i == 0 || strcmp(pl->pl_rows[i].pr_topic, pl->pl_rows[i - 1].pr_topic))
            ntopics++;
    int32_t *parts = calloc((size_t)pl->pl_nrows + 1, sizeof *parts);
    int64_t *offsets = calloc((size_t)pl->pl_nrows + 1, sizeof *offsets);
    if (!parts || !offsets) {
        free(parts);
        free(offsets);
        fprintf(stderr, "eddy app reset: out of memory before committing\n");
        return ntopics;
    }
    cli_progress_t pg;
    cli_progress_start(&pg, "committing offsets of topic", ntopics);
    for (int i = 0; i < pl->pl_nrows;) {
        int j = i, n = 0;
        for (; j < pl->pl_nrows && !strcmp(pl->pl_rows[j].pr_topic, pl->pl_rows[i].pr_topic); j++)
            if (pl->pl_rows[j].pr_kind == ROW_INPUT || pl->pl_rows[j].pr_kind == ROW_KEPT) {
                parts[n] = pl->pl_rows[j].pr_partition;
                offsets[n++] = pl->pl_rows[j].pr_new;
            }
        cli_progress_step(&pg);
        char err[1024] = "";
        int rc = n ? kc_admin_commit_offsets(cc->cc_client, pl->pl_app, pl->pl_rows[i].pr_topic, n,
                                             parts, offsets, err, sizeof err)
                   : 0;
        if (rc != 0) {
            cli_progress_end(&pg);
            fprintf(stderr, "eddy app reset: committing offsets on %s: %s\n",
                    pl->pl_rows[i].pr_topic, cli_why(rc, err));
            failed++;
        } else {
            for (int k = i; k < j; k++)
                pl->pl_rows[k].pr_committed = 1;
        }
        i = j;
    }
    cli_progress_end(&pg);
    free(parts);
    free(offsets);
    return failed;
}

/* Step 3; returns the number of topics that could not be deleted. */
static int delete_internal(cli_conn_t *cc, const plan_t *pl)
{
    int failed = 0;
    cli_progress_t pg;
    cli_progress_start(&pg, "deleting internal topic", pl->pl_ninternal);
    for (int i = 0; i < pl->pl_ninternal; i++) {
        cli_progress_step(&pg);
        char err[1024] = "";
        int rc = kc_admin_delete_topic(cc->cc_client, pl->pl_internal[i], err, sizeof err);
        if (rc == KERR_UNKNOWN_TOPIC_OR_PARTITION)
            rc = 0; /* gone already: what we wanted */
        if (rc != 0) {
            cli_progress_end(&pg);
            fprintf(stderr,
                    "eddy app reset: deleting internal topic %s: %s (eddy topic delete %s retries "
                    "it)\n",
                    pl->pl_internal[i], cli_why(rc, err), pl->pl_internal[i]);
            failed++;
        }
    }
    cli_progress_end(&pg);
    return failed;
}

static int refuse_live(const char *app, const cli_members_t *ms)
{
    fprintf(stderr,
            "eddy app reset: application %s is running: its consumer group %s has %d live "
            "member(s) "
            "(state %s):\n%s"
            "Stop every instance of the application (and any other consumer in group %s), then run "
            "the reset again; nothing was changed.\n",
            app, app, ms->ms_n, ms->ms_state, ms->ms_text ? ms->ms_text : "", app);
    return CLI_FAIL;
}

static int do_reset(cli_conn_t *cc, plan_t *pl, const cli_reset_t *rs, int dry_run)
{
    char err[1024] = "";
    cli_members_t ms;
    int rc = cli_group_members(cc->cc_client, pl->pl_app, &ms, err, sizeof err);
    if (rc != 0) {
        cli_members_free(&ms);
        fprintf(stderr, "eddy app reset: describing group %s: %s; nothing was changed\n",
                pl->pl_app, cli_why(rc, err));
        return CLI_FAIL;
    }
    if (ms.ms_n > 0) {
        refuse_live(pl->pl_app, &ms);
        cli_members_free(&ms);
        return CLI_FAIL;
    }
    cli_members_free(&ms);
    if (make_plan(cc, pl, rs) < 0)
        return CLI_FAIL;
    print_plan(pl);
    fflush(stdout);
    if (dry_run) {
        printf("dry run: nothing was changed (run without --dry-run to reset)\n");
        return CLI_OK;
    }

    /* Step 1. The broker refuses to delete a group that has members, so an
     * instance that started since the check above stops us here, before
     * anything has changed. */
    rc = kc_admin_delete_group(cc->cc_client, pl->pl_app, err, sizeof err);
    if (rc == KERR_NON_EMPTY_GROUP) {
        memset(&ms, 0, sizeof ms);
        err[0] = 0;
        if (cli_group_members(cc->cc_client, pl->pl_app, &ms, err, sizeof err) == 0 && ms.ms_n > 0)
            refuse_live(pl->pl_app, &ms);
        else
            fprintf(stderr,
                    "eddy app reset: group %s has live members now; stop every instance of the "
                    "application, then run the reset again; nothing was changed\n",
                    pl->pl_app);
        cli_members_free(&ms);
        return CLI_FAIL;
    }
    if (rc != 0 && rc != KERR_GROUP_ID_NOT_FOUND) {
        fprintf(stderr, "eddy app reset: deleting group %s: %s; nothing was changed\n", pl->pl_app,
                cli_why(rc, err));
        return CLI_FAIL;
    }

    /* Steps 2 and 3: from here on a failure leaves a half-done reset, so
     * say exactly what is missing. */
    int ret = CLI_OK;
    if (commit_back(cc, pl) > 0) {
        fprintf(stderr,
                "eddy app reset: group %s was deleted but these offsets are not committed "
                "(TOPIC PARTITION OFFSET); commit them before starting the application:\n",
                pl->pl_app);
        for (int i = 0; i < pl->pl_nrows; i++) {
            const plan_row_t *r = &pl->pl_rows[i];
            if ((r->pr_kind == ROW_INPUT || r->pr_kind == ROW_KEPT) && !r->pr_committed)
                fprintf(stderr, "  %s %d %" PRId64 "\n", r->pr_topic, r->pr_partition, r->pr_new);
        }
        ret = CLI_FAIL;
    }
    if (delete_internal(cc, pl) > 0)
        ret = CLI_FAIL;
    int ninput = 0, nkept = 0, ndropped = 0;
    for (int i = 0; i < pl->pl_nrows; i++)
        switch (pl->pl_rows[i].pr_kind) {
        case ROW_INPUT: ninput++; break;
        case ROW_KEPT: nkept++; break;
        default: ndropped++; break;
        }
    if (ret == CLI_OK)
        printf("reset application %s: %d input partition(s) set, %d other committed offset(s) "
               "kept, %d "
               "dropped, %d internal topic(s) deleted\n"
               "local state directories were not touched: each instance wipes its stale state when "
               "it starts\n",
               pl->pl_app, ninput, nkept, ndropped, pl->pl_ninternal);
    else
        fprintf(stderr, "eddy app reset: application %s is only partly reset (see above)\n",
                pl->pl_app);
    return ret;
}

/* ---- arguments ---- */

/* Kafka's rule for application.id: it names topics, so topic characters. */
static int valid_app_id(const char *id)
{
    if (!*id || strlen(id) > 200)
        return 0;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

static int cmd_app_reset(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            reset_usage(stdout);
            return CLI_OK;
        }
    plan_t pl;
    memset(&pl, 0, sizeof pl);
    cli_reset_t rs = {CLI_RESET_NONE, 0, NULL};
    int dry_run = 0, ret = CLI_USAGE;
    char err[1024] = "", name[64];
    for (int i = 0; i < argc; i++) {
        /* --option=value as well as --option value. */
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL, *eq = strchr(a, '=');
        int inline_value = !strncmp(a, "--", 2) && eq && (size_t)(eq - a) < sizeof name;
        if (inline_value) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - a), a);
            a = name;
            v = eq + 1;
        }
        /* "--application-id --dry-run" is a forgotten value, not an id. */
        if (!inline_value && v && v[0] == '-' && v[1] == '-')
            v = NULL;
        int takes_value = 1, taken;
        if (!strcmp(a, "--application-id") && v) {
            pl.pl_app = v;
        } else if (!strcmp(a, "--input-topics") && v) {
            if (add_inputs(&pl, v, err, sizeof err) < 0) {
                usage_error("%s", err);
                goto out;
            }
        } else if (!strcmp(a, "--dry-run") && !inline_value) {
            dry_run = 1;
            takes_value = 0;
        } else if ((taken = cli_reset_option(&rs, a, v, err, sizeof err)) < 0) {
            usage_error("%s", err);
            goto out;
        } else if (taken == 1) {
            takes_value = rs.rs_mode != CLI_RESET_EARLIEST && rs.rs_mode != CLI_RESET_LATEST;
            if (!takes_value && inline_value) {
                usage_error("%s takes no value", a);
                goto out;
            }
        } else {
            if (!strcmp(a, "--application-id") || !strcmp(a, "--input-topics"))
                usage_error("%s needs a value", a);
            else
                usage_error("unexpected argument '%s'", argv[i]);
            goto out;
        }
        if (takes_value && !inline_value)
            i++;
    }
    if (!pl.pl_app) {
        usage_error("%s", "--application-id ID is required");
        goto out;
    }
    if (!valid_app_id(pl.pl_app)) {
        usage_error("application id '%s' must be letters, digits, '.', '_' and '-' only",
                    pl.pl_app);
        goto out;
    }
    if (pl.pl_ninputs == 0) {
        usage_error("%s", "--input-topics T1[,T2...] is required: name the topics to reprocess");
        goto out;
    }
    if (rs.rs_mode == CLI_RESET_NONE)
        rs = (cli_reset_t){CLI_RESET_EARLIEST, 0, "--to-earliest"};

    cli_conn_t cc;
    if (cli_conn_open(&cc, NULL, 0) < 0) {
        ret = CLI_FAIL;
        goto out;
    }
    ret = do_reset(&cc, &pl, &rs, dry_run);
    cli_conn_close(&cc);
out:
    plan_free(&pl);
    return ret;
}

int cmd_app(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        app_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (!strcmp(argv[1], "reset"))
        return cmd_app_reset(argc - 2, argv + 2);
    fprintf(stderr, "eddy app: unknown action '%s' (see eddy app --help)\n", argv[1]);
    return CLI_USAGE;
}

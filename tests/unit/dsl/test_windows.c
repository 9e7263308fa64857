/* dsl/builder.c: windowed aggregations, suppression,
 * stream-stream joins and processors: the nodes and stores they add, named
 * and numbered as Kafka Streams does (TimeWindowedKStreamImpl,
 * SessionWindowedKStreamImpl, KTableImpl.suppress, KStreamImplJoin), the
 * store kinds and retentions the runtime relies on, and the errors. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dsl/dsl_int.h"

static void joiner(eddy_bytes_t k, eddy_bytes_t l, eddy_bytes_t r, eddy_buf_t *out, void *o)
{
    (void)k, (void)l, (void)r, (void)out, (void)o;
}
static void adder(eddy_bytes_t k, eddy_bytes_t v, eddy_bytes_t a, eddy_buf_t *out, void *o)
{
    (void)k, (void)v, (void)a, (void)out, (void)o;
}
static void init(eddy_buf_t *agg, void *o)
{
    (void)agg, (void)o;
}
static void mapper(const eddy_record_t *r, eddy_emitter_t *out, void *o)
{
    (void)r, (void)out, (void)o;
}
static int64_t extract(const eddy_record_t *r, int64_t pt, void *o)
{
    (void)r, (void)o;
    return pt;
}
static void process(eddy_processor_context_t *ctx, const eddy_record_t *r, void *inst)
{
    (void)ctx, (void)r, (void)inst;
}

static const dsl_node_t *node(const dsl_topology_t *t, const char *name)
{
    for (int i = 0; i < t->dt_nnodes; i++)
        if (!strcmp(t->dt_nodes[i]->dn_name, name))
            return t->dt_nodes[i];
    ck_abort_msg("no node %s", name);
    return NULL;
}

static int store(const dsl_topology_t *t, const char *name)
{
    for (int i = 0; i < t->dt_nstores; i++)
        if (!strcmp(t->dt_stores[i].ds_name, name))
            return i;
    ck_abort_msg("no store %s", name);
    return -1;
}

static const dsl_topology_t *finish(eddy_builder_t *b)
{
    char err[512] = "";
    const dsl_topology_t *t = dsl_builder_finish(b, err, sizeof err);
    ck_assert_msg(t != NULL, "finish failed: %s", err);
    return t;
}

static void expect_error(eddy_builder_t *b, const char *needle)
{
    char err[512] = "";
    ck_assert_ptr_null(dsl_builder_finish(b, err, sizeof err));
    ck_assert_msg(strstr(err, needle) != NULL, "error \"%s\" lacks \"%s\"", err, needle);
}

START_TEST(tumbling_count_suppressed)
{
    /* stream("events").groupByKey().windowedBy(TimeWindows.ofSizeAndGrace(60s, 10s))
     *   .count().suppress(untilWindowCloses(unbounded())).toStream().to("out")
     * count takes the store's number (1), then its own (2); suppress 3 and
     * its buffer store 4; toStream 5; the sink 6. */
    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *s = eddy_builder_stream(b, "events", NULL, NULL);
    eddy_kwindowed_stream_t *w = eddy_grouped_windowed_by(eddy_stream_group_by_key(s),
                                                          eddy_windows_tumbling(60000, 10000));
    eddy_ktable_t *c = eddy_table_suppress_until_window_closes(eddy_windowed_count(w, NULL));
    eddy_stream_to(eddy_table_to_stream(c), "out", NULL, NULL);
    const dsl_topology_t *t = finish(b);
    const dsl_node_t *agg = node(t, "KSTREAM-AGGREGATE-0000000002");
    ck_assert_int_eq(agg->dn_kind, DSL_WINDOW_AGGREGATE);
    ck_assert_int_eq(agg->dn_agg_kind, DSL_AGG_COUNT);
    ck_assert_int_eq(agg->dn_emit_final, 1);
    ck_assert_int_eq(agg->dn_windows.w_size, 60000);
    ck_assert_int_eq(agg->dn_windows.w_advance, 60000);
    int si = store(t, "KSTREAM-AGGREGATE-STATE-STORE-0000000001");
    ck_assert_int_eq(agg->dn_store, si);
    ck_assert_int_eq(t->dt_stores[si].ds_kind, DSL_STORE_WINDOW);
    /* Kafka's default retention: size + grace */
    ck_assert_int_eq(t->dt_stores[si].ds_retention_ms, 70000);
    ck_assert_int_eq(t->dt_stores[si].ds_retain_duplicates, 0);
    ck_assert_int_eq(node(t, "KTABLE-SUPPRESS-0000000003")->dn_kind, DSL_TABLE_SUPPRESS);
    ck_assert_int_eq(node(t, "KTABLE-TOSTREAM-0000000005")->dn_parents[0]->dn_kind,
                     DSL_TABLE_SUPPRESS);
    node(t, "KSTREAM-SINK-0000000006");
    /* no key change: no repartition, one sub-topology */
    ck_assert_int_eq(t->dt_nsubtopologies, 1);
    ck_assert_int_eq(t->dt_ninternal_topics, 0);
    eddy_builder_destroy(b);
}
END_TEST

START_TEST(windowed_after_key_change_repartitions)
{
    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *s = eddy_stream_select_key(eddy_builder_stream(b, "in", NULL, NULL), mapper,
                                               NULL);
    eddy_kwindowed_stream_t *w = eddy_grouped_windowed_by(eddy_stream_group_by_key(s),
                                                          eddy_windows_hopping(1000, 250, 0));
    eddy_stream_to(eddy_table_to_stream(eddy_windowed_reduce(w, adder, NULL, "hops")), "out", NULL,
                   NULL);
    const dsl_topology_t *t = finish(b);
    ck_assert_int_eq(t->dt_nsubtopologies, 2);
    ck_assert_int_eq(t->dt_ninternal_topics, 1);
    ck_assert_str_eq(t->dt_internal_topics[0].it_name, "hops-repartition");
    int si = store(t, "hops");
    ck_assert_int_eq(t->dt_stores[si].ds_subtopology, 1);
    ck_assert_int_eq(t->dt_stores[si].ds_kind, DSL_STORE_WINDOW);
    ck_assert_int_eq(t->dt_stores[si].ds_retention_ms, 1000);
    eddy_builder_destroy(b);
}
END_TEST

START_TEST(sliding_and_session_stores)
{
    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *s = eddy_builder_stream(b, "in", NULL, NULL);
    eddy_kgrouped_stream_t *g = eddy_stream_group_by_key(s);
    eddy_ktable_t *sl =
        eddy_windowed_aggregate(eddy_grouped_windowed_by(g, eddy_windows_sliding(5000, 1000)), init,
                                adder, NULL, NULL, "slide");
    eddy_ktable_t *se = eddy_windowed_count(
        eddy_grouped_windowed_by(g, eddy_windows_session(3000, 500)), "sessions");
    eddy_stream_to(eddy_table_to_stream(sl), "o1", NULL, NULL);
    eddy_stream_to(eddy_table_to_stream(se), "o2", NULL, NULL);
    const dsl_topology_t *t = finish(b);
    /* sliding: the windows, and the records they are computed from */
    int ws = store(t, "slide"), rs = store(t, "slide-records");
    ck_assert_int_eq(t->dt_stores[ws].ds_kind, DSL_STORE_WINDOW);
    ck_assert_int_eq(t->dt_stores[ws].ds_retention_ms, 2 * 5000 + 1000);
    ck_assert_int_eq(t->dt_stores[rs].ds_retain_duplicates, 1);
    const dsl_node_t *sn = NULL, *ss = NULL;
    for (int i = 0; i < t->dt_nnodes; i++) {
        if (t->dt_nodes[i]->dn_store == ws)
            sn = t->dt_nodes[i];
        if (t->dt_nodes[i]->dn_store == store(t, "sessions"))
            ss = t->dt_nodes[i];
    }
    ck_assert_int_eq(sn->dn_kind, DSL_WINDOW_AGGREGATE);
    ck_assert_int_eq(sn->dn_aux_store, rs);
    ck_assert_int_eq(ss->dn_kind, DSL_SESSION_AGGREGATE);
    ck_assert_int_eq(t->dt_stores[ss->dn_store].ds_kind, DSL_STORE_SESSION);
    ck_assert_int_eq(t->dt_stores[ss->dn_store].ds_retention_ms, 3500);
    /* both stores in the one sub-topology of their node */
    ck_assert_int_eq(t->dt_nsubtopologies, 1);
    ck_assert_int_eq(t->dt_subtopologies[0].st_nstores, 3);
    eddy_builder_destroy(b);
}
END_TEST

START_TEST(stream_stream_joins)
{
    /* left.join(right, joiner, JoinWindows.ofTimeDifferenceAndGrace(10s, 1s)):
     * sources 0 and 1; windowed 2 and 3; this 4, other 5; merge 6. */
    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *l = eddy_builder_stream(b, "impressions", NULL, NULL);
    eddy_kstream_t *r = eddy_builder_stream(b, "clicks", NULL, NULL);
    eddy_stream_to(eddy_stream_join(l, r, joiner, NULL, eddy_join_windows(10000, 1000)), "out",
                   NULL, NULL);
    const dsl_topology_t *t = finish(b);
    const dsl_node_t *w0 = node(t, "KSTREAM-WINDOWED-0000000002");
    const dsl_node_t *w1 = node(t, "KSTREAM-WINDOWED-0000000003");
    const dsl_node_t *jt = node(t, "KSTREAM-JOINTHIS-0000000004");
    const dsl_node_t *jo = node(t, "KSTREAM-JOINOTHER-0000000005");
    const dsl_node_t *m = node(t, "KSTREAM-MERGE-0000000006");
    int st = store(t, "KSTREAM-JOINTHIS-0000000004-store");
    int so = store(t, "KSTREAM-JOINOTHER-0000000005-store");
    ck_assert_int_eq(w0->dn_store, st);
    ck_assert_int_eq(w1->dn_store, so);
    ck_assert_int_eq(jt->dn_other_store, so);
    ck_assert_int_eq(jo->dn_other_store, st);
    ck_assert_int_eq(jt->dn_left_side, 1);
    ck_assert_int_eq(jo->dn_left_side, 0);
    ck_assert_int_eq(jt->dn_aux_store, -1); /* inner: nothing waits */
    ck_assert_ptr_eq(jt->dn_children[0], m);
    ck_assert_ptr_eq(jo->dn_children[0], m);
    /* each side's records are kept before + after + grace, duplicates too */
    ck_assert_int_eq(t->dt_stores[st].ds_retention_ms, 21000);
    ck_assert_int_eq(t->dt_stores[st].ds_retain_duplicates, 1);
    /* both inputs must be co-partitioned */
    ck_assert_int_eq(t->dt_nsubtopologies, 1);
    ck_assert_int_eq(t->dt_subtopologies[0].st_ncopartitioned, 2);
    eddy_builder_destroy(b);

    /* outer: OUTERTHIS/OUTEROTHER and the shared store of waiting records */
    b = eddy_builder_new();
    l = eddy_builder_stream(b, "a", NULL, NULL);
    r = eddy_builder_stream(b, "b", NULL, NULL);
    eddy_stream_to(eddy_stream_outer_join(l, r, joiner, NULL, eddy_join_windows(5, 0)), "out", NULL,
                   NULL);
    t = finish(b);
    jt = node(t, "KSTREAM-OUTERTHIS-0000000004");
    jo = node(t, "KSTREAM-OUTEROTHER-0000000005");
    int sh = store(t, "KSTREAM-OUTERSHARED-0000000004-store");
    ck_assert_int_eq(jt->dn_aux_store, sh);
    ck_assert_int_eq(jo->dn_aux_store, sh);
    ck_assert_int_eq(jt->dn_join_kind, DSL_JOIN_OUTER);
    eddy_builder_destroy(b);

    /* left: JOINTHIS and OUTEROTHER (Kafka's names: the other side is the
     * outer one), with the shared store */
    b = eddy_builder_new();
    l = eddy_builder_stream(b, "a", NULL, NULL);
    r = eddy_builder_stream(b, "b", NULL, NULL);
    eddy_stream_to(eddy_stream_left_join(l, r, joiner, NULL, eddy_join_windows(5, 0)), "out", NULL,
                   NULL);
    t = finish(b);
    node(t, "KSTREAM-JOINTHIS-0000000004");
    node(t, "KSTREAM-OUTEROTHER-0000000005");
    store(t, "KSTREAM-OUTERSHARED-0000000004-store");
    eddy_builder_destroy(b);
}
END_TEST

START_TEST(timestamps_and_processors)
{
    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *s = eddy_builder_stream_timestamped(b, "in", NULL, NULL, extract, b);
    eddy_processor_t p = {NULL, process, NULL};
    eddy_kstream_t *out = eddy_stream_process(s, &p, NULL);
    eddy_stream_to(out, "out", NULL, NULL);
    /* a processor may change keys: grouping after it repartitions */
    eddy_grouped_count(eddy_stream_group_by_key(out), "c");
    const dsl_topology_t *t = finish(b);
    const dsl_node_t *src = node(t, "KSTREAM-SOURCE-0000000000");
    ck_assert_ptr_eq((void *)src->dn_ts_extractor, (void *)extract);
    ck_assert_ptr_eq(src->dn_ts_opaque, b);
    const dsl_node_t *pn = node(t, "KSTREAM-PROCESSOR-0000000001");
    ck_assert_int_eq(pn->dn_kind, DSL_PROCESS);
    ck_assert_ptr_eq((void *)pn->dn_processor.p_process, (void *)process);
    ck_assert_int_eq(t->dt_ninternal_topics, 1);
    eddy_builder_destroy(b);
}
END_TEST

START_TEST(windowed_key_bytes)
{
    /* key + 8-byte start (TimeWindowedSerializer); key + end + start
     * (SessionWindowedSerializer) */
    uint8_t tw[3 + 8] = {'a', 'b', 'c'};
    eddy_int64_write(tw + 3, 1700000000000LL);
    eddy_bytes_t k;
    int64_t start, end;
    ck_assert_int_eq(eddy_windowed_key_read(eddy_bytes(tw, sizeof tw), 0, &k, &start, &end), 0);
    ck_assert_int_eq(k.len, 3);
    ck_assert_int_eq(memcmp(k.data, "abc", 3), 0);
    ck_assert_int_eq(start, 1700000000000LL);
    ck_assert_int_eq(end, -1);
    uint8_t sw[1 + 16] = {'x'};
    eddy_int64_write(sw + 1, 2000); /* end */
    eddy_int64_write(sw + 9, 1000); /* start */
    ck_assert_int_eq(eddy_windowed_key_read(eddy_bytes(sw, sizeof sw), 1, &k, &start, &end), 0);
    ck_assert_int_eq(k.len, 1);
    ck_assert_int_eq(start, 1000);
    ck_assert_int_eq(end, 2000);
    ck_assert_int_eq(eddy_windowed_key_read(eddy_bytes(sw, 7), 0, &k, &start, &end), -EINVAL);
    ck_assert_int_eq(eddy_windowed_key_read(eddy_bytes(tw, sizeof tw), 1, &k, &start, &end),
                     -EINVAL);
}
END_TEST

START_TEST(window_errors)
{
    struct {
        int which;
        const char *msg;
    } cases[] = {
        {0, "eddy_grouped_windowed_by (after KSTREAM-SOURCE-0000000000): the window size must be > "
            "0"},
        {1, "the advance must be > 0 and at most the window size"},
        {2, "the grace period must be >= 0"},
        {3, "the inactivity gap must be > 0"},
        {4, "eddy_table_suppress_until_window_closes (after KSTREAM-AGGREGATE-0000000002): the "
            "table is not a windowed aggregation's"},
        {5, "eddy_windowed_aggregate (after KSTREAM-SOURCE-0000000000): the session merger is "
            "NULL"},
        {6, "eddy_stream_join (after KSTREAM-SOURCE-0000000000): join window bounds and grace "
            "must be >= 0"},
        {7, "the aggregation is suppressed already"},
        {8, "eddy_stream_process (after KSTREAM-SOURCE-0000000000): the processor's p_process is "
            "NULL"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        eddy_builder_t *b = eddy_builder_new();
        eddy_kstream_t *s = eddy_builder_stream(b, "in", NULL, NULL);
        eddy_kgrouped_stream_t *g = eddy_stream_group_by_key(s);
        switch (cases[i].which) {
        case 0:
            eddy_windowed_count(eddy_grouped_windowed_by(g, eddy_windows_tumbling(0, 0)), NULL);
            break;
        case 1:
            eddy_windowed_count(eddy_grouped_windowed_by(g, eddy_windows_hopping(10, 20, 0)), NULL);
            break;
        case 2:
            eddy_windowed_count(eddy_grouped_windowed_by(g, eddy_windows_sliding(10, -1)), NULL);
            break;
        case 3:
            eddy_windowed_count(eddy_grouped_windowed_by(g, eddy_windows_session(0, 0)), NULL);
            break;
        case 4: eddy_table_suppress_until_window_closes(eddy_grouped_count(g, NULL)); break;
        case 5:
            eddy_windowed_aggregate(eddy_grouped_windowed_by(g, eddy_windows_session(10, 0)), init,
                                    adder, NULL, NULL, NULL);
            break;
        case 6:
            eddy_grouped_count(g, NULL);
            eddy_stream_join(s, eddy_builder_stream(b, "in2", NULL, NULL), joiner, NULL,
                             (eddy_join_windows_t){-1, 0, 0});
            break;
        case 7: {
            eddy_ktable_t *c = eddy_windowed_count(
                eddy_grouped_windowed_by(g, eddy_windows_tumbling(10, 0)), NULL);
            eddy_table_suppress_until_window_closes(c);
            eddy_table_suppress_until_window_closes(c);
            break;
        }
        case 8: {
            eddy_grouped_count(g, NULL);
            eddy_processor_t p = {NULL, NULL, NULL};
            eddy_stream_process(s, &p, NULL);
            break;
        }
        }
        expect_error(b, cases[i].msg);
        eddy_builder_destroy(b);
    }
}
END_TEST

TCase *tcase_windows(void)
{
    TCase *tc = tcase_create("windows");
    tcase_add_test(tc, tumbling_count_suppressed);
    tcase_add_test(tc, windowed_after_key_change_repartitions);
    tcase_add_test(tc, sliding_and_session_stores);
    tcase_add_test(tc, stream_stream_joins);
    tcase_add_test(tc, timestamps_and_processors);
    tcase_add_test(tc, windowed_key_bytes);
    tcase_add_test(tc, window_errors);
    return tc;
}

/* dsl/builder.c, finish.c, describe.c: the graphs the DSL builds, named as
 * Kafka Streams names them, split into sub-topologies at repartition
 * topics, and described as Kafka's TopologyDescription prints them. The
 * expected names and descriptions follow Kafka Streams' own code
 * (KStreamImpl, KGroupedStreamImpl, KGroupedTableImpl, KTableImpl,
 * BranchedKStreamImpl, InternalTopologyBuilder.TopologyDescription), worked
 * out by hand for each topology. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dsl/dsl_int.h" /* to see that nothing is added after an error */

/* User functions: the builder only stores them. */
static void mapper(const eddy_record_t *r, eddy_emitter_t *out, void *o)
{
    (void)r, (void)out, (void)o;
}
static int pred(const eddy_record_t *r, void *o)
{
    (void)r, (void)o;
    return 1;
}
static int pred2(const eddy_record_t *r, void *o)
{
    (void)r, (void)o;
    return 0;
}
static void action(const eddy_record_t *r, void *o)
{
    (void)r, (void)o;
}
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

static const dsl_node_t *node(const dsl_topology_t *t, const char *name)
{
    for (int i = 0; i < t->dt_nnodes; i++)
        if (!strcmp(t->dt_nodes[i]->dn_name, name))
            return t->dt_nodes[i];
    ck_abort_msg("no node %s", name);
    return NULL;
}

static const dsl_topology_t *finish(eddy_builder_t *b)
{
    char err[512] = "";
    const dsl_topology_t *t = dsl_builder_finish(b, err, sizeof err);
    ck_assert_msg(t != NULL, "finish failed: %s", err);
    return t;
}

/* The error dsl_builder_finish reports (and describe reports too). */
static void expect_error(eddy_builder_t *b, const char *needle)
{
    char err[512] = "", err2[512] = "";
    ck_assert_ptr_null(dsl_builder_finish(b, err, sizeof err));
    ck_assert_msg(strstr(err, needle) != NULL, "error \"%s\" lacks \"%s\"", err, needle);
    ck_assert_ptr_null(eddy_builder_describe(b, err2, sizeof err2));
    ck_assert_str_eq(err, err2);
}

static void expect_describe(eddy_builder_t *b, const char *want)
{
    char err[256] = "";
    char *d = eddy_builder_describe(b, err, sizeof err);
    ck_assert_msg(d != NULL, "describe failed: %s", err);
    ck_assert_str_eq(d, want);
    free(d);
}

/* ---- word count ---------------------------------------------------------- */

START_TEST(word_count_named_store)
{
    /* builder.stream("lines").flatMap(..).groupByKey()
     *     .count(Materialized.as("counts")).toStream().to("word-counts")
     * The store is named, so the repartition topic is "counts-repartition"
     * and its nodes are named after it (KStreamImpl.createRepartitionedSource)
     * while still taking numbers 3, 4, 5. */
    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *lines = eddy_builder_stream(b, "lines", eddy_serde_string(),
                                                eddy_serde_string());
    eddy_kstream_t *words = eddy_stream_flat_map(lines, mapper, NULL);
    eddy_ktable_t *counts = eddy_grouped_count(eddy_stream_group_by_key(words), "counts");
    eddy_stream_to(eddy_table_to_stream(counts), "word-counts", eddy_serde_string(),
                   eddy_serde_int64());
    expect_describe(b, "Topologies:\n"
                       "   Sub-topology: 0\n"
                       "    Source: KSTREAM-SOURCE-0000000000 (topics: [lines])\n"
                       "      --> KSTREAM-FLATMAP-0000000001\n"
                       "    Processor: KSTREAM-FLATMAP-0000000001 (stores: [])\n"
                       "      --> counts-repartition-filter\n"
                       "      <-- KSTREAM-SOURCE-0000000000\n"
                       "    Processor: counts-repartition-filter (stores: [])\n"
                       "      --> counts-repartition-sink\n"
                       "      <-- KSTREAM-FLATMAP-0000000001\n"
                       "    Sink: counts-repartition-sink (topic: counts-repartition)\n"
                       "      <-- counts-repartition-filter\n"
                       "\n"
                       "  Sub-topology: 1\n"
                       "    Source: counts-repartition-source (topics: [counts-repartition])\n"
                       "      --> KSTREAM-AGGREGATE-0000000002\n"
                       "    Processor: KSTREAM-AGGREGATE-0000000002 (stores: [counts])\n"
                       "      --> KTABLE-TOSTREAM-0000000006\n"
                       "      <-- counts-repartition-source\n"
                       "    Processor: KTABLE-TOSTREAM-0000000006 (stores: [])\n"
                       "      --> KSTREAM-SINK-0000000007\n"
                       "      <-- KSTREAM-AGGREGATE-0000000002\n"
                       "    Sink: KSTREAM-SINK-0000000007 (topic: word-counts)\n"
                       "      <-- KTABLE-TOSTREAM-0000000006\n"
                       "\n");

    const dsl_topology_t *t = finish(b);
    ck_assert_int_eq(t->dt_nnodes, 8);
    ck_assert_int_eq(t->dt_nsubtopologies, 2);
    /* Sub-topology 0: the input, the key change, the repartition sink. */
    const dsl_subtopology_t *s0 = &t->dt_subtopologies[0], *s1 = &t->dt_subtopologies[1];
    ck_assert_int_eq(s0->st_nnodes, 4);
    ck_assert_int_eq(s0->st_nsources, 1);
    ck_assert_str_eq(s0->st_sources[0]->dn_topics[0], "lines");
    ck_assert_int_eq(s0->st_sources[0]->dn_internal, 0);
    ck_assert_ptr_eq(s0->st_sources[0]->dn_key_serde, eddy_serde_string());
    ck_assert_int_eq(s0->st_nstores, 0);
    ck_assert_int_eq(s0->st_ncopartitioned, 0);
    ck_assert_int_eq(s1->st_nnodes, 4);
    ck_assert_int_eq(s1->st_nsources, 1);
    ck_assert_int_eq(s1->st_sources[0]->dn_internal, 1);
    ck_assert_int_eq(s1->st_nstores, 1);
    ck_assert_str_eq(t->dt_stores[s1->st_stores[0]].ds_name, "counts");
    ck_assert_int_eq(t->dt_stores[s1->st_stores[0]].ds_subtopology, 1);
    ck_assert_int_eq(t->dt_stores[s1->st_stores[0]].ds_changelog, 1);
    /* Nodes in dn_id order, a topological order. */
    for (int s = 0; s < 2; s++)
        for (int i = 1; i < t->dt_subtopologies[s].st_nnodes; i++)
            ck_assert_int_lt(t->dt_subtopologies[s].st_nodes[i - 1]->dn_id,
                             t->dt_subtopologies[s].st_nodes[i]->dn_id);
    /* The repartition topic links the two. */
    ck_assert_int_eq(t->dt_ninternal_topics, 1);
    ck_assert_str_eq(t->dt_internal_topics[0].it_name, "counts-repartition");
    ck_assert_int_eq(t->dt_internal_topics[0].it_partitions, 0);
    ck_assert_int_eq(t->dt_internal_topics[0].it_from_subtopology, 0);
    ck_assert_int_eq(t->dt_internal_topics[0].it_to_subtopology, 1);
    const dsl_node_t *sink = node(t, "counts-repartition-sink");
    ck_assert_int_eq(sink->dn_kind, DSL_SINK);
    ck_assert_int_eq(sink->dn_internal, 1);
    const dsl_node_t *filter = node(t, "counts-repartition-filter");
    ck_assert_int_eq(filter->dn_kind, DSL_FILTER);
    ck_assert_ptr_eq(filter->dn_pred, dsl_pred_always);
    const dsl_node_t *agg = node(t, "KSTREAM-AGGREGATE-0000000002");
    ck_assert_int_eq(agg->dn_kind, DSL_STREAM_AGGREGATE);
    ck_assert_int_eq(agg->dn_agg_kind, DSL_AGG_COUNT);
    ck_assert_int_eq(agg->dn_subtopology, 1);
    ck_assert_ptr_eq(node(t, "KSTREAM-FLATMAP-0000000001")->dn_mapper, mapper);
    ck_assert_int_eq(dsl_topology_subtopology_of(t, "lines", 0), 0);
    ck_assert_int_eq(dsl_topology_subtopology_of(t, "counts-repartition", 1), 1);
    ck_assert_int_eq(dsl_topology_subtopology_of(t, "counts-repartition", 0), -1);
    ck_assert_int_eq(dsl_topology_subtopology_of(t, "word-counts", 0), -1);
    /* Idempotent. */
    ck_assert_ptr_eq(finish(b), t);
    eddy_builder_destroy(b);
}
END_TEST

START_TEST(word_count_generated_store)
{
    /* Kafka's WordCountDemo shape with count() unnamed: the store name
     * takes number 3, and the repartition topic is named after it, which
     * Kafka recognizes as generated ("KSTREAM.*-[0-9]{10}"): the
     * repartition's nodes keep generated names, sink 5 before filter 6. */
    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *lines = eddy_builder_stream(b, "streams-plaintext-input", NULL, NULL);
    eddy_kstream_t *words = eddy_stream_flat_map_values(lines, mapper, NULL);
    eddy_ktable_t *counts = eddy_grouped_count(eddy_stream_group_by(words, mapper, NULL), NULL);
    eddy_stream_to(eddy_table_to_stream(counts), "streams-wordcount-output", NULL, NULL);
    expect_describe(b, "Topologies:\n"
                       "   Sub-topology: 0\n"
                       "    Source: KSTREAM-SOURCE-0000000000 (topics: [streams-plaintext-input])\n"
                       "      --> KSTREAM-FLATMAPVALUES-0000000001\n"
                       "    Processor: KSTREAM-FLATMAPVALUES-0000000001 (stores: [])\n"
                       "      --> KSTREAM-KEY-SELECT-0000000002\n"
                       "      <-- KSTREAM-SOURCE-0000000000\n"
                       "    Processor: KSTREAM-KEY-SELECT-0000000002 (stores: [])\n"
                       "      --> KSTREAM-FILTER-0000000006\n"
                       "      <-- KSTREAM-FLATMAPVALUES-0000000001\n"
                       "    Processor: KSTREAM-FILTER-0000000006 (stores: [])\n"
                       "      --> KSTREAM-SINK-0000000005\n"
                       "      <-- KSTREAM-KEY-SELECT-0000000002\n"
                       "    Sink: KSTREAM-SINK-0000000005 (topic: "
                       "KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition)\n"
                       "      <-- KSTREAM-FILTER-0000000006\n"
                       "\n"
                       "  Sub-topology: 1\n"
                       "    Source: KSTREAM-SOURCE-0000000007 (topics: "
                       "[KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition])\n"
                       "      --> KSTREAM-AGGREGATE-0000000004\n"
                       "    Processor: KSTREAM-AGGREGATE-0000000004 (stores: "
                       "[KSTREAM-AGGREGATE-STATE-STORE-0000000003])\n"
                       "      --> KTABLE-TOSTREAM-0000000008\n"
                       "      <-- KSTREAM-SOURCE-0000000007\n"
                       "    Processor: KTABLE-TOSTREAM-0000000008 (stores: [])\n"
                       "      --> KSTREAM-SINK-0000000009\n"
                       "      <-- KSTREAM-AGGREGATE-0000000004\n"
                       "    Sink: KSTREAM-SINK-0000000009 (topic: streams-wordcount-output)\n"
                       "      <-- KTABLE-TOSTREAM-0000000008\n"
                       "\n");
    const dsl_topology_t *t = finish(b);
    ck_assert_int_eq(node(t, "KSTREAM-KEY-SELECT-0000000002")->dn_kind, DSL_SELECT_KEY);
    ck_assert_ptr_null(node(t, "KSTREAM-SOURCE-0000000000")->dn_key_serde);
    eddy_builder_destroy(b);
}
END_TEST

/* ---- when repartitions appear ------------------------------------------- */

/* Builds source -> steps -> group_by_key -> count("c") and returns the
 * number of repartition topics. */
typedef eddy_kstream_t *(step_fn)(eddy_kstream_t *s);
static eddy_kstream_t *step_map_values(eddy_kstream_t *s)
{
    return eddy_stream_map_values(s, mapper, NULL);
}
static eddy_kstream_t *step_flat_map_values(eddy_kstream_t *s)
{
    return eddy_stream_flat_map_values(s, mapper, NULL);
}
static eddy_kstream_t *step_filter(eddy_kstream_t *s)
{
    return eddy_stream_filter(s, pred, NULL);
}
static eddy_kstream_t *step_peek(eddy_kstream_t *s)
{
    return eddy_stream_peek(s, action, NULL);
}
static eddy_kstream_t *step_branch(eddy_kstream_t *s)
{
    return eddy_branch(eddy_stream_split(s), pred, NULL);
}
static eddy_kstream_t *step_map(eddy_kstream_t *s)
{
    return eddy_stream_map(s, mapper, NULL);
}
static eddy_kstream_t *step_flat_map(eddy_kstream_t *s)
{
    return eddy_stream_flat_map(s, mapper, NULL);
}
static eddy_kstream_t *step_select_key(eddy_kstream_t *s)
{
    return eddy_stream_select_key(s, mapper, NULL);
}

static int repartitions_after(step_fn *first, step_fn *second)
{
    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *s = eddy_builder_stream(b, "in", NULL, NULL);
    if (first)
        s = first(s);
    if (second)
        s = second(s);
    eddy_stream_to(eddy_table_to_stream(eddy_grouped_count(eddy_stream_group_by_key(s), "c")),
                   "out", NULL, NULL);
    const dsl_topology_t *t = finish(b);
    int n = t->dt_ninternal_topics;
    ck_assert_int_eq(t->dt_nsubtopologies, n + 1);
    eddy_builder_destroy(b);
    return n;
}

START_TEST(repartition_only_after_key_change)
{
    /* The key is as the input partitioned it: no repartition. */
    ck_assert_int_eq(repartitions_after(NULL, NULL), 0);
    step_fn *keep[] = {step_map_values, step_flat_map_values, step_filter, step_peek, step_branch};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        ck_assert_msg(repartitions_after(keep[i], NULL) == 0, "step %zu repartitioned", i);
    /* The key may have changed: one repartition, also when key-preserving
     * steps come after the change (the mark is inherited). */
    step_fn *change[] = {step_map, step_flat_map, step_select_key};
    for (size_t i = 0; i < sizeof change / sizeof change[0]; i++) {
        ck_assert_msg(repartitions_after(change[i], NULL) == 1, "change %zu", i);
        for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++)
            ck_assert_msg(repartitions_after(change[i], keep[k]) == 1, "change %zu, keep %zu", i,
                          k);
    }
}
END_TEST

START_TEST(repartition_explicit)
{
    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *s = eddy_builder_stream(b, "in", NULL, NULL);
    eddy_kstream_t *r1 = eddy_stream_repartition(s, "by-user", 4);
    eddy_kstream_t *r2 = eddy_stream_repartition(s, NULL, 0);
    eddy_stream_to(r1, "out1", NULL, NULL);
    /* Repartitioned: grouping needs no second repartition. */
    eddy_grouped_count(eddy_stream_group_by_key(r2), "c");
    const dsl_topology_t *t = finish(b);
    ck_assert_int_eq(t->dt_ninternal_topics, 2);
    ck_assert_str_eq(t->dt_internal_topics[0].it_name, "by-user-repartition");
    ck_assert_int_eq(t->dt_internal_topics[0].it_partitions, 4);
    ck_assert_int_eq(node(t, "by-user-repartition-sink")->dn_repartition_partitions, 4);
    ck_assert_int_eq(node(t, "by-user-repartition-source")->dn_kind, DSL_SOURCE);
    node(t, "by-user-repartition-filter");
    /* Unnamed: KSTREAM-REPARTITION-0000000004 takes a number after the
     * first repartition's three (1-3); its nodes keep generated names. */
    ck_assert_str_eq(t->dt_internal_topics[1].it_name, "KSTREAM-REPARTITION-0000000004-"
                                                       "repartition");
    ck_assert_int_eq(node(t, "KSTREAM-SINK-0000000005")->dn_internal, 1);
    ck_assert_int_eq(node(t, "KSTREAM-FILTER-0000000006")->dn_kind, DSL_FILTER);
    ck_assert_int_eq(node(t, "KSTREAM-SOURCE-0000000007")->dn_internal, 1);
    ck_assert_int_eq(node(t, "KSTREAM-SOURCE-0000000007")->dn_children[0]->dn_kind,
                     DSL_STREAM_AGGREGATE);
    ck_assert_int_eq(t->dt_nsubtopologies, 3);
    ck_assert_int_eq(t->dt_internal_topics[0].it_from_subtopology, 0);
    ck_assert_int_eq(t->dt_internal_topics[0].it_to_subtopology, 1);
    ck_assert_int_eq(t->dt_internal_topics[1].it_from_subtopology, 0);
    ck_assert_int_eq(t->dt_internal_topics[1].it_to_subtopology, 2);
    eddy_builder_destroy(b);
}
END_TEST

START_TEST(table_group_by)
{
    /* builder.table("t").groupBy(..).count(): the table's store is named
     * after its topic; the grouped table always repartitions, with
     * generated names: store 4, sink 5, source 6, aggregate 7. */
    eddy_builder_t *b = eddy_builder_new();
    eddy_ktable_t *t0 = eddy_builder_table(b, "t", NULL, NULL, NULL);
    eddy_ktable_t *c = eddy_grouped_table_count(eddy_table_group_by(t0, mapper, NULL), NULL);
    eddy_ktable_t *r = eddy_grouped_table_reduce(eddy_table_group_by(t0, mapper, NULL), adder,
                                                 adder, NULL, "sums");
    eddy_stream_to(eddy_table_to_stream(c), "counts", NULL, NULL);
    eddy_stream_to(eddy_table_to_stream(r), "sums", NULL, NULL);
    const dsl_topology_t *t = finish(b);
    ck_assert_str_eq(t->dt_stores[0].ds_name, "t-STATE-STORE-0000000000");
    ck_assert_int_eq(node(t, "KSTREAM-SOURCE-0000000001")->dn_kind, DSL_SOURCE);
    const dsl_node_t *ts = node(t, "KTABLE-SOURCE-0000000002");
    ck_assert_int_eq(ts->dn_kind, DSL_TABLE_SOURCE);
    ck_assert_int_eq(ts->dn_store, 0);
    ck_assert_int_eq(node(t, "KTABLE-SELECT-0000000003")->dn_kind, DSL_TABLE_GROUP_BY);
    ck_assert_str_eq(t->dt_stores[1].ds_name, "KTABLE-AGGREGATE-STATE-STORE-0000000004");
    ck_assert_str_eq(t->dt_internal_topics[0].it_name, "KTABLE-AGGREGATE-STATE-STORE-0000000004-"
                                                       "repartition");
    const dsl_node_t *sink = node(t, "KSTREAM-SINK-0000000005");
    ck_assert_int_eq(sink->dn_internal, 1);
    ck_assert_str_eq(sink->dn_parents[0]->dn_name, "KTABLE-SELECT-0000000003");
    const dsl_node_t *agg = node(t, "KTABLE-AGGREGATE-0000000007");
    ck_assert_int_eq(agg->dn_kind, DSL_TABLE_AGGREGATE);
    ck_assert_int_eq(agg->dn_agg_kind, DSL_AGG_COUNT);
    ck_assert_str_eq(agg->dn_parents[0]->dn_name, "KSTREAM-SOURCE-0000000006");
    /* Reduce: KTABLE-SELECT-8, the named store's topic, then sink 9,
     * source 10, KTABLE-REDUCE-11. */
    ck_assert_int_eq(node(t, "KTABLE-SELECT-0000000008")->dn_kind, DSL_TABLE_GROUP_BY);
    ck_assert_str_eq(t->dt_internal_topics[1].it_name, "sums-repartition");
    ck_assert_int_eq(node(t, "KTABLE-REDUCE-0000000011")->dn_agg_kind, DSL_AGG_REDUCE);
    ck_assert_ptr_eq(node(t, "KTABLE-REDUCE-0000000011")->dn_subtractor, adder);
    ck_assert_str_eq(node(t, "KSTREAM-SINK-0000000009")->dn_topics[0], "sums-repartition");
    node(t, "KTABLE-TOSTREAM-0000000012");
    ck_assert_int_eq(t->dt_nsubtopologies, 3);
    eddy_builder_destroy(b);
}
END_TEST

/* ---- joins --------------------------------------------------------------- */

START_TEST(stream_table_join_copartitioned)
{
    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *orders = eddy_builder_stream(b, "orders", NULL, NULL);
    eddy_ktable_t *customers = eddy_builder_table(b, "customers", NULL, NULL, NULL);
    eddy_stream_to(eddy_stream_join_table(orders, customers, joiner, NULL), "out", NULL, NULL);
    /* One sub-topology: the join reads the table's store. Sources
     * interleave with the stream's nodes in Kafka's order (larger
     * sub-tree first, then by name). */
    expect_describe(b, "Topologies:\n"
                       "   Sub-topology: 0\n"
                       "    Source: KSTREAM-SOURCE-0000000000 (topics: [orders])\n"
                       "      --> KSTREAM-JOIN-0000000004\n"
                       "    Processor: KSTREAM-JOIN-0000000004 (stores: "
                       "[customers-STATE-STORE-0000000001])\n"
                       "      --> KSTREAM-SINK-0000000005\n"
                       "      <-- KSTREAM-SOURCE-0000000000\n"
                       "    Source: KSTREAM-SOURCE-0000000002 (topics: [customers])\n"
                       "      --> KTABLE-SOURCE-0000000003\n"
                       "    Sink: KSTREAM-SINK-0000000005 (topic: out)\n"
                       "      <-- KSTREAM-JOIN-0000000004\n"
                       "    Processor: KTABLE-SOURCE-0000000003 (stores: "
                       "[customers-STATE-STORE-0000000001])\n"
                       "      --> none\n"
                       "      <-- KSTREAM-SOURCE-0000000002\n"
                       "\n");
    const dsl_topology_t *t = finish(b);
    ck_assert_int_eq(t->dt_nsubtopologies, 1);
    const dsl_subtopology_t *st = &t->dt_subtopologies[0];
    ck_assert_int_eq(st->st_ncopartitioned, 2);
    ck_assert_str_eq(st->st_copartitioned[0], "orders");
    ck_assert_str_eq(st->st_copartitioned[1], "customers");
    ck_assert_int_eq(st->st_copartitioned_internal[0], 0);
    const dsl_node_t *j = node(t, "KSTREAM-JOIN-0000000004");
    ck_assert_int_eq(j->dn_kind, DSL_STREAM_TABLE_JOIN);
    ck_assert_int_eq(j->dn_join_kind, DSL_JOIN_INNER);
    ck_assert_int_eq(j->dn_other_store, node(t, "KTABLE-SOURCE-0000000003")->dn_store);
    eddy_builder_destroy(b);
}
END_TEST

START_TEST(stream_table_join_after_key_change)
{
    /* A key-changed stream goes through "<its node>-repartition" before
     * the join; joined twice, through the same topic. The join's
     * sub-topology reads that internal topic and the table's. */
    eddy_builder_t *b = eddy_builder_new();
    eddy_ktable_t *users = eddy_builder_table(b, "users", NULL, NULL, "users-store");
    eddy_kstream_t *clicks = eddy_stream_select_key(eddy_builder_stream(b, "clicks", NULL, NULL),
                                                    mapper, NULL);
    eddy_stream_to(eddy_stream_left_join_table(clicks, users, joiner, NULL), "o1", NULL, NULL);
    eddy_stream_to(eddy_stream_join_table(clicks, users, joiner, NULL), "o2", NULL, NULL);
    const dsl_topology_t *t = finish(b);
    /* users: source 0, table 1; clicks: source 2, key select 3; the
     * repartition 4-6; LEFTJOIN 7, SINK 8; numbers 9-11 taken again for
     * the second join; JOIN 12, SINK 13. */
    ck_assert_int_eq(t->dt_ninternal_topics, 1);
    ck_assert_str_eq(t->dt_internal_topics[0].it_name, "KSTREAM-KEY-SELECT-0000000003-repartition");
    const dsl_node_t *src = node(t, "KSTREAM-SOURCE-0000000006");
    ck_assert_int_eq(src->dn_internal, 1);
    ck_assert_int_eq(src->dn_nchildren, 2);
    ck_assert_int_eq(node(t, "KSTREAM-LEFTJOIN-0000000007")->dn_join_kind, DSL_JOIN_LEFT);
    ck_assert_int_eq(node(t, "KSTREAM-JOIN-0000000012")->dn_parents[0]->dn_id, src->dn_id);
    ck_assert_int_eq(t->dt_nsubtopologies, 2);
    /* Sub-topology 0 starts with the users table (node 0). */
    const dsl_subtopology_t *st = &t->dt_subtopologies[src->dn_subtopology];
    ck_assert_int_eq(src->dn_subtopology, 0);
    ck_assert_int_eq(st->st_ncopartitioned, 2);
    ck_assert_str_eq(st->st_copartitioned[0], "users");
    ck_assert_int_eq(st->st_copartitioned_internal[0], 0);
    ck_assert_str_eq(st->st_copartitioned[1], "KSTREAM-KEY-SELECT-0000000003-repartition");
    ck_assert_int_eq(st->st_copartitioned_internal[1], 1);
    ck_assert_int_eq(t->dt_subtopologies[1].st_ncopartitioned, 0);
    eddy_builder_destroy(b);
}
END_TEST

START_TEST(table_table_join)
{
    /* The merge takes its number before the two sides (KTableImpl.doJoin);
     * the left table is a filter without a store, so the join gives it one
     * named after the node. */
    eddy_builder_t *b = eddy_builder_new();
    eddy_ktable_t *a = eddy_builder_table(b, "a", NULL, NULL, "a-store");
    eddy_ktable_t *fa = eddy_table_filter(a, pred, NULL);
    eddy_ktable_t *c = eddy_builder_table(b, "c", NULL, NULL, "c-store");
    eddy_ktable_t *j = eddy_table_outer_join(fa, c, joiner, NULL, "joined");
    eddy_stream_to(eddy_table_to_stream(j), "out", NULL, NULL);
    const dsl_topology_t *t = finish(b);
    /* a: source 0, table 1; filter 2; c: source 3, table 4; merge 5,
     * this 6, other 7. */
    const dsl_node_t *f = node(t, "KTABLE-FILTER-0000000002");
    ck_assert_int_ge(f->dn_store, 0);
    ck_assert_str_eq(t->dt_stores[f->dn_store].ds_name, "KTABLE-FILTER-STATE-STORE-0000000002");
    const dsl_node_t *jt = node(t, "KTABLE-JOINTHIS-0000000006");
    const dsl_node_t *jo = node(t, "KTABLE-JOINOTHER-0000000007");
    const dsl_node_t *m = node(t, "KTABLE-MERGE-0000000005");
    ck_assert_int_eq(jt->dn_kind, DSL_TABLE_JOIN_SIDE);
    ck_assert_int_eq(jt->dn_left_side, 1);
    ck_assert_int_eq(jo->dn_left_side, 0);
    ck_assert_int_eq(jt->dn_other_store, node(t, "KTABLE-SOURCE-0000000004")->dn_store);
    ck_assert_int_eq(jo->dn_other_store, f->dn_store);
    ck_assert_int_eq(jt->dn_join_kind, DSL_JOIN_OUTER);
    ck_assert_int_eq(m->dn_kind, DSL_TABLE_JOIN_MERGE);
    ck_assert_int_eq(m->dn_nparents, 2);
    ck_assert_ptr_eq(jt->dn_children[0], m);
    ck_assert_ptr_eq(jo->dn_children[0], m);
    ck_assert_str_eq(t->dt_stores[m->dn_store].ds_name, "joined");
    ck_assert_int_eq(node(t, "KTABLE-TOSTREAM-0000000008")->dn_parents[0]->dn_id, m->dn_id);
    ck_assert_int_eq(t->dt_nsubtopologies, 1);
    ck_assert_int_eq(t->dt_subtopologies[0].st_nstores, 4);
    ck_assert_int_eq(t->dt_subtopologies[0].st_ncopartitioned, 2);
    /* Described with the stores the sides read. */
    char err[128];
    char *d = eddy_builder_describe(b, err, sizeof err);
    ck_assert_ptr_nonnull(strstr(d, "    Processor: KTABLE-JOINTHIS-0000000006 (stores: "
                                    "[c-store])\n"
                                    "      --> KTABLE-MERGE-0000000005\n"
                                    "      <-- KTABLE-FILTER-0000000002\n"));
    ck_assert_ptr_nonnull(strstr(d, "    Processor: KTABLE-MERGE-0000000005 (stores: [joined])\n"
                                    "      --> KTABLE-TOSTREAM-0000000008\n"
                                    "      <-- KTABLE-JOINOTHER-0000000007, "
                                    "KTABLE-JOINTHIS-0000000006\n"));
    free(d);
    eddy_builder_destroy(b);
}
END_TEST

START_TEST(table_join_unmaterialized_result)
{
    /* A join result without a store stays unmaterialized until it is
     * joined itself. */
    eddy_builder_t *b = eddy_builder_new();
    eddy_ktable_t *a = eddy_builder_table(b, "a", NULL, NULL, NULL);
    eddy_ktable_t *c = eddy_builder_table(b, "c", NULL, NULL, NULL);
    eddy_ktable_t *j = eddy_table_join(a, c, joiner, NULL, NULL);
    eddy_ktable_t *mv = eddy_table_map_values(j, mapper, NULL);
    eddy_stream_to(eddy_stream_join_table(eddy_builder_stream(b, "s", NULL, NULL), mv, joiner,
                                          NULL),
                   "out", NULL, NULL);
    const dsl_topology_t *t = finish(b);
    /* a: store 0, source 1, table 2; c: 3, 4, 5; merge 6 (sides 7, 8);
     * map_values 9. */
    ck_assert_int_eq(node(t, "KTABLE-MERGE-0000000006")->dn_store, -1);
    const dsl_node_t *n = node(t, "KTABLE-MAPVALUES-0000000009");
    ck_assert_str_eq(t->dt_stores[n->dn_store].ds_name, "KTABLE-MAPVALUES-STATE-STORE-0000000009");
    ck_assert_int_eq(node(t, "KSTREAM-JOIN-0000000011")->dn_other_store, n->dn_store);
    ck_assert_int_eq(t->dt_subtopologies[0].st_ncopartitioned, 3);
    eddy_builder_destroy(b);
}
END_TEST

/* ---- split and merge ----------------------------------------------------- */

START_TEST(branch_and_merge)
{
    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *in = eddy_builder_stream(b, "in", NULL, NULL);
    eddy_branched_t *br = eddy_stream_split(in);
    int tag1, tag2;
    eddy_kstream_t *b1 = eddy_branch(br, pred, &tag1);
    eddy_kstream_t *b2 = eddy_branch(br, pred2, &tag2);
    eddy_kstream_t *dflt = eddy_branch_default(br);
    eddy_kstream_t *m = eddy_stream_merge(eddy_stream_map_values(b1, mapper, NULL), dflt);
    eddy_stream_to(m, "out", NULL, NULL);
    eddy_stream_foreach(b2, action, NULL);
    /* Branches are named after the split node and take numbers they do
     * not use: 2, 3, 4. */
    expect_describe(b, "Topologies:\n"
                       "   Sub-topology: 0\n"
                       "    Source: KSTREAM-SOURCE-0000000000 (topics: [in])\n"
                       "      --> KSTREAM-BRANCH-0000000001\n"
                       "    Processor: KSTREAM-BRANCH-0000000001 (stores: [])\n"
                       "      --> KSTREAM-BRANCH-00000000011, KSTREAM-BRANCH-00000000010, "
                       "KSTREAM-BRANCH-00000000012\n"
                       "      <-- KSTREAM-SOURCE-0000000000\n"
                       "    Processor: KSTREAM-BRANCH-00000000011 (stores: [])\n"
                       "      --> KSTREAM-MAPVALUES-0000000005\n"
                       "      <-- KSTREAM-BRANCH-0000000001\n"
                       "    Processor: KSTREAM-BRANCH-00000000010 (stores: [])\n"
                       "      --> KSTREAM-MERGE-0000000006\n"
                       "      <-- KSTREAM-BRANCH-0000000001\n"
                       "    Processor: KSTREAM-MAPVALUES-0000000005 (stores: [])\n"
                       "      --> KSTREAM-MERGE-0000000006\n"
                       "      <-- KSTREAM-BRANCH-00000000011\n"
                       "    Processor: KSTREAM-BRANCH-00000000012 (stores: [])\n"
                       "      --> KSTREAM-FOREACH-0000000008\n"
                       "      <-- KSTREAM-BRANCH-0000000001\n"
                       "    Processor: KSTREAM-MERGE-0000000006 (stores: [])\n"
                       "      --> KSTREAM-SINK-0000000007\n"
                       "      <-- KSTREAM-BRANCH-00000000010, KSTREAM-MAPVALUES-0000000005\n"
                       "    Processor: KSTREAM-FOREACH-0000000008 (stores: [])\n"
                       "      --> none\n"
                       "      <-- KSTREAM-BRANCH-00000000012\n"
                       "    Sink: KSTREAM-SINK-0000000007 (topic: out)\n"
                       "      <-- KSTREAM-MERGE-0000000006\n"
                       "\n");
    const dsl_topology_t *t = finish(b);
    const dsl_node_t *split = node(t, "KSTREAM-BRANCH-0000000001");
    ck_assert_int_eq(split->dn_kind, DSL_BRANCH);
    ck_assert_int_eq(split->dn_nchildren, 3);
    /* Child i gets the records of predicate i; the default's is NULL. */
    ck_assert_str_eq(split->dn_children[0]->dn_name, "KSTREAM-BRANCH-00000000011");
    ck_assert_ptr_eq(split->dn_branch_preds[0], pred);
    ck_assert_ptr_eq(split->dn_branch_opaques[0], &tag1);
    ck_assert_str_eq(split->dn_children[1]->dn_name, "KSTREAM-BRANCH-00000000012");
    ck_assert_ptr_eq(split->dn_branch_preds[1], pred2);
    ck_assert_ptr_eq(split->dn_branch_opaques[1], &tag2);
    ck_assert_str_eq(split->dn_children[2]->dn_name, "KSTREAM-BRANCH-00000000010");
    ck_assert_ptr_null(split->dn_branch_preds[2]);
    ck_assert_int_eq(split->dn_children[2]->dn_kind, DSL_MERGE);
    const dsl_node_t *mg = node(t, "KSTREAM-MERGE-0000000006");
    ck_assert_int_eq(mg->dn_kind, DSL_MERGE);
    ck_assert_int_eq(mg->dn_nparents, 2);
    eddy_builder_destroy(b);
}
END_TEST

START_TEST(merge_inherits_key_change)
{
    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *x = eddy_builder_stream(b, "x", NULL, NULL);
    eddy_kstream_t *y = eddy_stream_map(eddy_builder_stream(b, "y", NULL, NULL), mapper, NULL);
    eddy_kstream_t *m = eddy_stream_merge(x, y);
    eddy_grouped_count(eddy_stream_group_by_key(m), "c");
    const dsl_topology_t *t = finish(b);
    ck_assert_int_eq(t->dt_ninternal_topics, 1);
    /* Two inputs merged and repartitioned: one sub-topology before the
     * topic, one after. */
    ck_assert_int_eq(t->dt_nsubtopologies, 2);
    ck_assert_int_eq(t->dt_subtopologies[0].st_nsources, 2);
    eddy_builder_destroy(b);

    b = eddy_builder_new();
    x = eddy_builder_stream(b, "x", NULL, NULL);
    y = eddy_builder_stream(b, "y", NULL, NULL);
    int tag;
    eddy_grouped_aggregate(eddy_stream_group_by_key(eddy_stream_merge(x, y)), init, adder, &tag,
                           "c");
    const dsl_topology_t *t2 = finish(b);
    ck_assert_int_eq(t2->dt_ninternal_topics, 0);
    /* x 0, y 1, merge 2, aggregate 3. */
    const dsl_node_t *agg = node(t2, "KSTREAM-AGGREGATE-0000000003");
    ck_assert_int_eq(agg->dn_agg_kind, DSL_AGG_AGGREGATE);
    ck_assert_ptr_eq(agg->dn_init, init);
    ck_assert_ptr_eq(agg->dn_adder, adder);
    ck_assert_ptr_eq(agg->dn_opaque, &tag);
    eddy_builder_destroy(b);

    /* A stream merged with itself: one edge, each record passes once. */
    b = eddy_builder_new();
    x = eddy_builder_stream(b, "x", NULL, NULL);
    eddy_stream_to(eddy_stream_merge(x, x), "out", NULL, NULL);
    const dsl_topology_t *t3 = finish(b);
    ck_assert_int_eq(node(t3, "KSTREAM-SOURCE-0000000000")->dn_nchildren, 1);
    ck_assert_int_eq(node(t3, "KSTREAM-MERGE-0000000001")->dn_nparents, 1);
    eddy_builder_destroy(b);
}
END_TEST

START_TEST(names_and_renames)
{
    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *s = eddy_stream_name(eddy_builder_stream(b, "in", NULL, NULL), "input");
    eddy_kstream_t *f = eddy_stream_name(eddy_stream_filter_not(s, pred, NULL), "drop-bots");
    eddy_ktable_t *c = eddy_table_name(eddy_grouped_count(eddy_stream_group_by_key(f), NULL),
                                       "count-by-user");
    eddy_stream_to(eddy_table_to_stream(c), "out", NULL, NULL);
    const dsl_topology_t *t = finish(b);
    ck_assert_int_eq(node(t, "input")->dn_kind, DSL_SOURCE);
    ck_assert_int_eq(node(t, "drop-bots")->dn_negate, 1);
    ck_assert_int_eq(node(t, "count-by-user")->dn_kind, DSL_STREAM_AGGREGATE);
    /* Numbers go on: store 2, aggregate 3, to_stream 4. */
    ck_assert_str_eq(t->dt_stores[0].ds_name, "KSTREAM-AGGREGATE-STATE-STORE-0000000002");
    node(t, "KTABLE-TOSTREAM-0000000004");
    /* The same name again is a no-op. */
    eddy_stream_name(f, "drop-bots");
    finish(b);
    eddy_builder_destroy(b);
}
END_TEST

/* ---- errors -------------------------------------------------------------- */

START_TEST(error_duplicate_name)
{
    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *s = eddy_builder_stream(b, "in", NULL, NULL);
    eddy_stream_name(eddy_stream_filter(s, pred, NULL), "x");
    eddy_stream_name(eddy_stream_peek(s, action, NULL), "x");
    expect_error(b, "name \"x\" is already used");
    eddy_builder_destroy(b);

    /* A name the user took that the counter generates later. */
    b = eddy_builder_new();
    s = eddy_stream_name(eddy_builder_stream(b, "in", NULL, NULL), "KSTREAM-MAP-0000000001");
    eddy_stream_to(eddy_stream_map(s, mapper, NULL), "out", NULL, NULL);
    expect_error(b, "two processors are named \"KSTREAM-MAP-0000000001\"");
    eddy_builder_destroy(b);
}
END_TEST

START_TEST(error_null_function_then_harmless)
{
    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *s = eddy_builder_stream(b, "in", NULL, NULL);
    eddy_kstream_t *f = eddy_stream_filter(s, NULL, NULL);
    ck_assert_ptr_nonnull(f);
    /* The expression goes on; nothing more is added. */
    eddy_ktable_t *c =
        eddy_grouped_count(eddy_stream_group_by_key(eddy_stream_map(f, mapper, NULL)), "c");
    ck_assert_ptr_nonnull(c);
    eddy_stream_to(eddy_table_to_stream(c), "out", NULL, NULL);
    eddy_stream_to(eddy_stream_map(s, mapper, NULL), "out2", NULL, NULL);
    ck_assert_ptr_nonnull(eddy_branch(eddy_stream_split(s), pred, NULL));
    ck_assert_ptr_nonnull(
        eddy_stream_join_table(s, eddy_builder_table(b, "t", NULL, NULL, NULL), joiner, NULL));
    expect_error(b, "eddy_stream_filter (after KSTREAM-SOURCE-0000000000): the predicate is NULL");
    ck_assert_int_eq(b->b_topo.dt_nnodes, 1);
    ck_assert_int_eq(b->b_topo.dt_nstores, 0);
    ck_assert_int_eq(b->b_index, 1);
    eddy_builder_destroy(b);

    /* Each kind of function. */
    struct {
        int which;
        const char *msg;
    } cases[] = {
        {0, "eddy_stream_map (after KSTREAM-SOURCE-0000000000): the mapper is NULL"},
        {1, "eddy_stream_foreach (after KSTREAM-SOURCE-0000000000): the action is NULL"},
        {2, "eddy_grouped_aggregate (after KSTREAM-SOURCE-0000000000): the initializer is NULL"},
        {3, "eddy_grouped_reduce (after KSTREAM-SOURCE-0000000000): the reducer is NULL"},
        {4, "eddy_stream_join_table (after KSTREAM-SOURCE-0000000000): the joiner is NULL"},
        {5, "eddy_grouped_table_reduce (after KTABLE-SELECT-0000000003): the subtractor is NULL"},
        {6, "eddy_stream_to_partitioned (after KSTREAM-SOURCE-0000000000): the partitioner is "
            "NULL"},
        {7, "eddy_branch (after KSTREAM-BRANCH-0000000003): the predicate is NULL"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        b = eddy_builder_new();
        s = eddy_builder_stream(b, "in", NULL, NULL);
        eddy_ktable_t *t = eddy_builder_table(b, "t", NULL, NULL, "ts");
        switch (cases[i].which) {
        case 0: eddy_stream_map(s, NULL, NULL); break;
        case 1: eddy_stream_foreach(s, NULL, NULL); break;
        case 2: eddy_grouped_aggregate(eddy_stream_group_by_key(s), NULL, adder, NULL, NULL); break;
        case 3: eddy_grouped_reduce(eddy_stream_group_by_key(s), NULL, NULL, NULL); break;
        case 4: eddy_stream_join_table(s, t, NULL, NULL); break;
        case 5:
            eddy_grouped_table_reduce(eddy_table_group_by(t, mapper, NULL), adder, NULL, NULL,
                                      NULL);
            break;
        case 6: eddy_stream_to_partitioned(s, "out", NULL, NULL, NULL, NULL); break;
        case 7: eddy_branch(eddy_stream_split(s), NULL, NULL); break;
        }
        expect_error(b, cases[i].msg);
        eddy_builder_destroy(b);
    }
}
END_TEST

START_TEST(error_other_builder)
{
    eddy_builder_t *b1 = eddy_builder_new();
    eddy_builder_t *b2 = eddy_builder_new();
    eddy_kstream_t *x = eddy_builder_stream(b1, "x", NULL, NULL);
    eddy_kstream_t *y = eddy_builder_stream(b2, "y", NULL, NULL);
    eddy_ktable_t *t2 = eddy_builder_table(b2, "t", NULL, NULL, NULL);
    eddy_stream_to(eddy_stream_merge(x, y), "out", NULL, NULL);
    expect_error(b1, "eddy_stream_merge (after KSTREAM-SOURCE-0000000000): the second stream "
                     "belongs to another builder");
    /* b2 is not to blame. */
    eddy_stream_to(y, "out", NULL, NULL);
    finish(b2);
    eddy_builder_destroy(b1);

    b1 = eddy_builder_new();
    x = eddy_builder_stream(b1, "x", NULL, NULL);
    eddy_stream_join_table(x, t2, joiner, NULL);
    expect_error(b1, "the table belongs to another builder");
    eddy_ktable_t *t1 = eddy_builder_table(b1, "t1", NULL, NULL, NULL);
    (void)t1;
    eddy_builder_destroy(b1);
    eddy_builder_destroy(b2);
}
END_TEST

START_TEST(error_stores_topics_and_more)
{
    struct {
        int which;
        const char *msg;
    } cases[] = {
        {0, "eddy_grouped_reduce: store name \"s\" is already used by another store"},
        {1, "eddy_builder_table: topic \"in\" is already read by KSTREAM-SOURCE-0000000000"},
        {2, "eddy_builder_stream: topic name \"bad topic\" is not valid"},
        {3, "eddy_stream_filter: the stream is NULL"},
        {4, "the stream grouped after KSTREAM-SOURCE-0000000000 is never aggregated"},
        {5, "eddy_branch_default (after KSTREAM-BRANCH-0000000001): the split already has its "
            "default branch"},
        {6, "eddy_stream_repartition (after KSTREAM-SOURCE-0000000000): partitions is -1"},
        {7, "repartition topic \"r-repartition\" is already used"},
        {8, "the topology is empty"},
        {9, "eddy_stream_to: the topic is NULL"},
        {10, "eddy_grouped_count: store name \"a b\" is not valid"},
        {11, "the table grouped by KTABLE-SELECT-0000000003 is never aggregated"},
        {12, "eddy_table_join (after KTABLE-SOURCE-0000000002): the table is NULL"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        eddy_builder_t *b = eddy_builder_new();
        eddy_kstream_t *s = cases[i].which == 8 ? NULL : eddy_builder_stream(b, "in", NULL, NULL);
        switch (cases[i].which) {
        case 0:
            eddy_grouped_count(eddy_stream_group_by_key(s), "s");
            eddy_grouped_reduce(eddy_stream_group_by_key(s), adder, NULL, "s");
            break;
        case 1: eddy_builder_table(b, "in", NULL, NULL, NULL); break;
        case 2: eddy_builder_stream(b, "bad topic", NULL, NULL); break;
        case 3:
            /* Charged to the builder this thread used last. */
            eddy_stream_to(eddy_stream_filter(NULL, pred, NULL), "out", NULL, NULL);
            break;
        case 4: eddy_stream_group_by_key(s); break;
        case 5: {
            eddy_branched_t *br = eddy_stream_split(s);
            eddy_branch_default(br);
            eddy_branch_default(br);
            break;
        }
        case 6: eddy_stream_repartition(s, "r", -1); break;
        case 7:
            eddy_stream_repartition(s, "r", 0);
            eddy_stream_repartition(s, "r-repartition", 0);
            break;
        case 8: break;
        case 9: eddy_stream_to(s, NULL, NULL, NULL); break;
        case 10: eddy_grouped_count(eddy_stream_group_by_key(s), "a b"); break;
        case 11: {
            eddy_ktable_t *t = eddy_builder_table(b, "t", NULL, NULL, "ts");
            eddy_table_group_by(t, mapper, NULL);
            break;
        }
        case 12: {
            eddy_ktable_t *t = eddy_builder_table(b, "t", NULL, NULL, "ts");
            eddy_table_join(t, NULL, joiner, NULL, NULL);
            break;
        }
        }
        expect_error(b, cases[i].msg);
        eddy_builder_destroy(b);
    }
}
END_TEST

START_TEST(error_first_one_kept)
{
    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *s = eddy_builder_stream(b, "in", NULL, NULL);
    eddy_stream_map(s, NULL, NULL);
    eddy_stream_filter(s, NULL, NULL);
    eddy_builder_stream(b, "in", NULL, NULL);
    expect_error(b, "eddy_stream_map");
    char err[512];
    dsl_builder_finish(b, err, sizeof err);
    ck_assert_ptr_null(strstr(err, "filter"));
    eddy_builder_destroy(b);
}
END_TEST

START_TEST(finish_after_more_calls)
{
    /* Finishing, adding, finishing again sees the new nodes. */
    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *s = eddy_builder_stream(b, "in", NULL, NULL);
    ck_assert_int_eq(finish(b)->dt_nsubtopologies, 1);
    eddy_builder_stream(b, "other", NULL, NULL);
    eddy_stream_to(s, "out", NULL, NULL);
    const dsl_topology_t *t = finish(b);
    ck_assert_int_eq(t->dt_nsubtopologies, 2);
    ck_assert_int_eq(t->dt_subtopologies[0].st_nnodes, 2);
    ck_assert_int_eq(node(t, "KSTREAM-SINK-0000000002")->dn_subtopology, 0);
    ck_assert_int_eq(node(t, "KSTREAM-SOURCE-0000000001")->dn_subtopology, 1);
    eddy_builder_destroy(b);
}
END_TEST

TCase *tcase_builder(void)
{
    TCase *tc = tcase_create("builder");
    tcase_add_test(tc, word_count_named_store);
    tcase_add_test(tc, word_count_generated_store);
    tcase_add_test(tc, repartition_only_after_key_change);
    tcase_add_test(tc, repartition_explicit);
    tcase_add_test(tc, table_group_by);
    tcase_add_test(tc, stream_table_join_copartitioned);
    tcase_add_test(tc, stream_table_join_after_key_change);
    tcase_add_test(tc, table_table_join);
    tcase_add_test(tc, table_join_unmaterialized_result);
    tcase_add_test(tc, branch_and_merge);
    tcase_add_test(tc, merge_inherits_key_change);
    tcase_add_test(tc, names_and_renames);
    return tc;
}

TCase *tcase_builder_errors(void)
{
    TCase *tc = tcase_create("builder_errors");
    tcase_add_test(tc, error_duplicate_name);
    tcase_add_test(tc, error_null_function_then_harmless);
    tcase_add_test(tc, error_other_builder);
    tcase_add_test(tc, error_stores_topics_and_more);
    tcase_add_test(tc, error_first_one_kept);
    tcase_add_test(tc, finish_after_more_calls);
    return tc;
}

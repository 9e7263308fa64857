/* The KTable and grouped calls of the DSL (Kafka Streams' KTableImpl,
 * KGroupedStreamImpl, KGroupedTableImpl): grouping a stream (by key, or by a
 * new key through a repartition topic), stream aggregations (count, reduce,
 * aggregate), table filter, map_values, to_stream, group_by and grouped
 * table aggregations. Kept together because a grouped stream's aggregation
 * yields a table and a table's group_by a grouped table; windowed.c reuses
 * the stream aggregation (dsl_gstream_aggregate_windowed).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsl/dsl_int.h"

/* ---- grouping and stream aggregations ---- */

static eddy_kgrouped_stream_t *gstream_new(eddy_builder_t *b, dsl_node_t *n, int repartition)
{
    eddy_kgrouped_stream_t *g = dsl_handle_new(b, DSL_H_GROUPED_STREAM, sizeof *g);
    if (!g)
        return &b->b_dead_gstream;
    g->kg_node = n;
    g->kg_repartition = repartition;
    return g;
}

eddy_kgrouped_stream_t *eddy_stream_group_by_key(eddy_kstream_t *s)
{
    eddy_builder_t *b = S_USE(s, "eddy_stream_group_by_key");
    if (!b) {
        b = S_OWNER(s);
        return b ? &b->b_dead_gstream : NULL;
    }
    return gstream_new(b, s->ks_node, s->ks_key_changed);
}

eddy_kgrouped_stream_t *eddy_stream_group_by(eddy_kstream_t *s, eddy_mapper_fn *fnp, void *opaque)
{
    eddy_builder_t *b;
    dsl_node_t *n = dsl_stream_step(s, DSL_SELECT_KEY, "KSTREAM-KEY-SELECT-", fnp, "key mapper",
                                    "eddy_stream_group_by", &b);
    if (!n)
        return b ? &b->b_dead_gstream : NULL;
    n->dn_mapper = fnp;
    n->dn_opaque = opaque;
    return gstream_new(b, n, 1);
}

/* count, reduce, aggregate of a grouped stream, in Kafka's order: the
 * store's generated name (if any), the aggregation's name, then the
 * repartition (named after the store) if the key may have changed. */

static eddy_ktable_t *gstream_aggregate(eddy_kgrouped_stream_t *g, dsl_agg_kind_t kind,
                                        eddy_initializer_fn *init, eddy_aggregator_fn *adder,
                                        void *opaque, const char *store, const char *fn)
{
    return dsl_gstream_aggregate_windowed(g, kind, init, adder, NULL, opaque, store, NULL, fn);
}

/* w NULL: a key-value aggregation; else windowed (Kafka numbers and names
 * them the same way). */
eddy_ktable_t *dsl_gstream_aggregate_windowed(eddy_kgrouped_stream_t *g, dsl_agg_kind_t kind,
                                              eddy_initializer_fn *init, eddy_aggregator_fn *adder,
                                              eddy_aggregator_fn *merger, void *opaque,
                                              const char *store, const eddy_windows_t *w,
                                              const char *fn)
{
    eddy_builder_t *b = dsl_use(g ? &g->kg_h : NULL, g ? g->kg_node : NULL, fn, "grouped stream");
    if (!b)
        return dsl_dead_table(dsl_owner(g ? &g->kg_h : NULL));
    g->kg_used = 1;
    if ((kind != DSL_AGG_COUNT && dsl_need(b, (const void *)adder, fn, g->kg_node,
                                           kind == DSL_AGG_REDUCE ? "reducer" : "aggregator")) ||
        (kind == DSL_AGG_AGGREGATE &&
         dsl_need(b, (const void *)init, fn, g->kg_node, "initializer")))
        return dsl_dead_table(b);
    if (dsl_check_store_name(b, store, fn))
        return dsl_dead_table(b);
    const char *prefix = kind == DSL_AGG_REDUCE ? "KSTREAM-REDUCE-" : "KSTREAM-AGGREGATE-";
    int si = store ? dsl_store_add(b, store, fn)
                   : dsl_store_add_generated(b, prefix, dsl_next_index(b), fn);
    if (si < 0)
        return dsl_dead_table(b);
    int agg_index = dsl_next_index(b);
    dsl_node_t *up = g->kg_node;
    if (g->kg_repartition) {
        up = dsl_repartition_add(b, up, b->b_topo.dt_stores[si].ds_name, 0, RP_STREAM, fn);
        if (!up)
            return dsl_dead_table(b);
    }
    dsl_kind_t nk = !w                                  ? DSL_STREAM_AGGREGATE
                    : w->w_kind == EDDY_WINDOWS_SESSION ? DSL_SESSION_AGGREGATE
                                                        : DSL_WINDOW_AGGREGATE;
    dsl_node_t *n = dsl_node_add(b, nk, prefix, agg_index, NULL);
    if (!n || dsl_node_link(b, up, n))
        return dsl_dead_table(b);
    n->dn_store = si;
    n->dn_agg_kind = kind;
    n->dn_init = init;
    n->dn_adder = adder;
    n->dn_merger = merger;
    n->dn_opaque = opaque;
    if (w) {
        dsl_store_t *ds = &b->b_topo.dt_stores[si];
        n->dn_windows = *w;
        switch (w->w_kind) {
        case EDDY_WINDOWS_TIME: /* Kafka's default retention: size + grace */
            ds->ds_kind = DSL_STORE_WINDOW;
            ds->ds_retention_ms = w->w_size + w->w_grace;
            break;
        case EDDY_WINDOWS_SLIDING: {
            /* The windows and, in a store of their own, the records they
             * are computed from (a new window aggregates the records it
             * covers): both kept 2 x difference + grace. */
            ds->ds_kind = DSL_STORE_WINDOW;
            ds->ds_retention_ms = 2 * w->w_size + w->w_grace;
            char *rn = dsl_str_printf("%s-records", ds->ds_name);
            if (!rn) {
                dsl_fail_nomem(b);
                return dsl_dead_table(b);
            }
            int ri = dsl_store_add(b, rn, fn);
            free(rn);
            if (ri < 0)
                return dsl_dead_table(b);
            dsl_store_t *rs = &b->b_topo.dt_stores[ri];
            rs->ds_kind = DSL_STORE_WINDOW;
            rs->ds_retention_ms = 2 * w->w_size + w->w_grace;
            rs->ds_retain_duplicates = 1;
            rs->ds_timestamped = 0;
            n->dn_aux_store = ri;
            break;
        }
        case EDDY_WINDOWS_SESSION:
            ds->ds_kind = DSL_STORE_SESSION;
            ds->ds_retention_ms = w->w_gap + w->w_grace;
            break;
        }
    }
    return dsl_table_new(b, n);
}

eddy_ktable_t *eddy_grouped_count(eddy_kgrouped_stream_t *g, const char *store)
{
    return gstream_aggregate(g, DSL_AGG_COUNT, NULL, NULL, NULL, store, "eddy_grouped_count");
}

eddy_ktable_t *eddy_grouped_reduce(eddy_kgrouped_stream_t *g, eddy_aggregator_fn *reducer,
                                   void *opaque, const char *store)
{
    return gstream_aggregate(g, DSL_AGG_REDUCE, NULL, reducer, opaque, store,
                             "eddy_grouped_reduce");
}

eddy_ktable_t *eddy_grouped_aggregate(eddy_kgrouped_stream_t *g, eddy_initializer_fn *init,
                                      eddy_aggregator_fn *aggregator, void *opaque,
                                      const char *store)
{
    return gstream_aggregate(g, DSL_AGG_AGGREGATE, init, aggregator, opaque, store,
                             "eddy_grouped_aggregate");
}

/* ---- KTable ---- */

static dsl_node_t *table_step(eddy_ktable_t *t, dsl_kind_t kind, const char *prefix,
                              const void *fnptr, const char *what, const char *fn,
                              eddy_builder_t **bp)
{
    eddy_builder_t *b = T_USE(t, fn);
    *bp = T_OWNER(t);
    if (!b || dsl_need(b, fnptr, fn, t->kt_node, what))
        return NULL;
    return dsl_child_add(b, t->kt_node, kind, prefix);
}

static eddy_ktable_t *table_filter(eddy_ktable_t *t, eddy_predicate_fn *pred, void *opaque,
                                   int negate, const char *fn)
{
    eddy_builder_t *b;
    dsl_node_t *n = table_step(t, DSL_TABLE_FILTER, "KTABLE-FILTER-", pred, "predicate", fn, &b);
    if (!n)
        return dsl_dead_table(b);
    n->dn_pred = pred;
    n->dn_negate = negate;
    n->dn_opaque = opaque;
    return dsl_table_new(b, n);
}

eddy_ktable_t *eddy_table_filter(eddy_ktable_t *t, eddy_predicate_fn *pred, void *opaque)
{
    return table_filter(t, pred, opaque, 0, "eddy_table_filter");
}

eddy_ktable_t *eddy_table_filter_not(eddy_ktable_t *t, eddy_predicate_fn *pred, void *opaque)
{
    return table_filter(t, pred, opaque, 1, "eddy_table_filter_not");
}

eddy_ktable_t *eddy_table_map_values(eddy_ktable_t *t, eddy_mapper_fn *fnp, void *opaque)
{
    eddy_builder_t *b;
    dsl_node_t *n = table_step(t, DSL_TABLE_MAP_VALUES, "KTABLE-MAPVALUES-", fnp, "mapper",
                               "eddy_table_map_values", &b);
    if (!n)
        return dsl_dead_table(b);
    n->dn_mapper = fnp;
    n->dn_opaque = opaque;
    return dsl_table_new(b, n);
}

eddy_kstream_t *eddy_table_to_stream(eddy_ktable_t *t)
{
    eddy_builder_t *b;
    dsl_node_t *n = table_step(t, DSL_TABLE_TO_STREAM, "KTABLE-TOSTREAM-", NULL, NULL,
                               "eddy_table_to_stream", &b);
    return n ? dsl_stream_new(b, n, 0) : dsl_dead_stream(b);
}

eddy_kgrouped_table_t *eddy_table_group_by(eddy_ktable_t *t, eddy_mapper_fn *fnp, void *opaque)
{
    eddy_builder_t *b;
    dsl_node_t *n = table_step(t, DSL_TABLE_GROUP_BY, "KTABLE-SELECT-", fnp, "mapper",
                               "eddy_table_group_by", &b);
    if (!n)
        return b ? &b->b_dead_gtable : NULL;
    n->dn_mapper = fnp;
    n->dn_opaque = opaque;
    eddy_kgrouped_table_t *g = dsl_handle_new(b, DSL_H_GROUPED_TABLE, sizeof *g);
    if (!g)
        return &b->b_dead_gtable;
    g->kgt_node = n;
    return g;
}

/* count, reduce, aggregate of a grouped table (KGroupedTableImpl): the
 * store's generated name, the repartition's sink and source, then the
 * aggregation; records always go through "<store>-repartition". */
static eddy_ktable_t *gtable_aggregate(eddy_kgrouped_table_t *g, dsl_agg_kind_t kind,
                                       eddy_initializer_fn *init, eddy_aggregator_fn *adder,
                                       eddy_aggregator_fn *subtractor, void *opaque,
                                       const char *store, const char *fn)
{
    eddy_builder_t *b = dsl_use(g ? &g->kgt_h : NULL, g ? g->kgt_node : NULL, fn, "grouped table");
    if (!b)
        return dsl_dead_table(dsl_owner(g ? &g->kgt_h : NULL));
    g->kgt_used = 1;
    if (kind != DSL_AGG_COUNT &&
        (dsl_need(b, (const void *)adder, fn, g->kgt_node, "adder") ||
         dsl_need(b, (const void *)subtractor, fn, g->kgt_node, "subtractor")))
        return dsl_dead_table(b);
    if (kind == DSL_AGG_AGGREGATE &&
        dsl_need(b, (const void *)init, fn, g->kgt_node, "initializer"))
        return dsl_dead_table(b);
    if (dsl_check_store_name(b, store, fn))
        return dsl_dead_table(b);
    const char *prefix = kind == DSL_AGG_REDUCE ? "KTABLE-REDUCE-" : "KTABLE-AGGREGATE-";
    int si = store ? dsl_store_add(b, store, fn)
                   : dsl_store_add_generated(b, prefix, dsl_next_index(b), fn);
    if (si < 0)
        return dsl_dead_table(b);
    dsl_node_t *src = dsl_repartition_add(b, g->kgt_node, b->b_topo.dt_stores[si].ds_name, 0,
                                          RP_TABLE, fn);
    if (!src)
        return dsl_dead_table(b);
    dsl_node_t *n = dsl_child_add(b, src, DSL_TABLE_AGGREGATE, prefix);
    if (!n)
        return dsl_dead_table(b);
    n->dn_store = si;
    n->dn_agg_kind = kind;
    n->dn_init = init;
    n->dn_adder = adder;
    n->dn_subtractor = subtractor;
    n->dn_opaque = opaque;
    return dsl_table_new(b, n);
}

eddy_ktable_t *eddy_grouped_table_count(eddy_kgrouped_table_t *g, const char *store)
{
    return gtable_aggregate(g, DSL_AGG_COUNT, NULL, NULL, NULL, NULL, store,
                            "eddy_grouped_table_count");
}

eddy_ktable_t *eddy_grouped_table_reduce(eddy_kgrouped_table_t *g, eddy_aggregator_fn *adder,
                                         eddy_aggregator_fn *subtractor, void *opaque,
                                         const char *store)
{
    return gtable_aggregate(g, DSL_AGG_REDUCE, NULL, adder, subtractor, opaque, store,
                            "eddy_grouped_table_reduce");
}

eddy_ktable_t *eddy_grouped_table_aggregate(eddy_kgrouped_table_t *g, eddy_initializer_fn *init,
                                            eddy_aggregator_fn *adder,
                                            eddy_aggregator_fn *subtractor, void *opaque,
                                            const char *store)
{
    return gtable_aggregate(g, DSL_AGG_AGGREGATE, init, adder, subtractor, opaque, store,
                            "eddy_grouped_table_aggregate");
}

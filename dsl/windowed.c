/* The windowed calls of the DSL (Kafka Streams' TimeWindowedKStreamImpl,
 * SessionWindowedKStreamImpl, SlidingWindows, suppress): windowed_by with
 * its checks, windowed count, reduce and aggregate (through ktable.c's
 * stream aggregation), and suppress until the window closes. A file of its
 * own as Kafka keeps its windowed streams apart.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsl/dsl_int.h"

/* ---- windows ---- */

static int windows_check(eddy_builder_t *b, const eddy_windows_t *w, const char *fn,
                         const dsl_node_t *after)
{
    const char *why = NULL;
    switch (w->w_kind) {
    case EDDY_WINDOWS_TIME:
        if (w->w_size <= 0)
            why = "the window size must be > 0";
        else if (w->w_advance <= 0 || w->w_advance > w->w_size)
            why = "the advance must be > 0 and at most the window size";
        break;
    case EDDY_WINDOWS_SLIDING:
        if (w->w_size <= 0)
            why = "the time difference must be > 0";
        break;
    case EDDY_WINDOWS_SESSION:
        if (w->w_gap <= 0)
            why = "the inactivity gap must be > 0";
        break;
    default: why = "unknown window kind";
    }
    if (!why && w->w_grace < 0)
        why = "the grace period must be >= 0";
    if (!why)
        return 0;
    dsl_fail(b, -EINVAL, "%s (after %s): %s", fn, after->dn_name, why);
    return -EINVAL;
}

eddy_kwindowed_stream_t *eddy_grouped_windowed_by(eddy_kgrouped_stream_t *g, eddy_windows_t w)
{
    static const char fn[] = "eddy_grouped_windowed_by";
    eddy_builder_t *b = dsl_use(g ? &g->kg_h : NULL, g ? g->kg_node : NULL, fn, "grouped stream");
    if (!b) {
        b = dsl_owner(g ? &g->kg_h : NULL);
        return b ? &b->b_dead_wstream : NULL;
    }
    if (windows_check(b, &w, fn, g->kg_node))
        return &b->b_dead_wstream;
    eddy_kwindowed_stream_t *ws = dsl_handle_new(b, DSL_H_WINDOWED_STREAM, sizeof *ws);
    if (!ws)
        return &b->b_dead_wstream;
    ws->kw_grouped = g;
    ws->kw_windows = w;
    return ws;
}

static eddy_ktable_t *windowed_aggregate(eddy_kwindowed_stream_t *w, dsl_agg_kind_t kind,
                                         eddy_initializer_fn *init, eddy_aggregator_fn *adder,
                                         eddy_aggregator_fn *merger, void *opaque,
                                         const char *store, const char *fn)
{
    eddy_builder_t *b = dsl_use(w ? &w->kw_h : NULL, w ? (void *)w->kw_grouped : NULL, fn,
                                "windowed stream");
    if (!b)
        return dsl_dead_table(dsl_owner(w ? &w->kw_h : NULL));
    if (w->kw_windows.w_kind == EDDY_WINDOWS_SESSION && kind == DSL_AGG_AGGREGATE &&
        dsl_need(b, (const void *)merger, fn, w->kw_grouped->kg_node, "session merger"))
        return dsl_dead_table(b);
    return dsl_gstream_aggregate_windowed(w->kw_grouped, kind, init, adder, merger, opaque, store,
                                          &w->kw_windows, fn);
}

eddy_ktable_t *eddy_windowed_count(eddy_kwindowed_stream_t *w, const char *store)
{
    return windowed_aggregate(w, DSL_AGG_COUNT, NULL, NULL, NULL, NULL, store,
                              "eddy_windowed_count");
}

eddy_ktable_t *eddy_windowed_reduce(eddy_kwindowed_stream_t *w, eddy_aggregator_fn *reducer,
                                    void *opaque, const char *store)
{
    return windowed_aggregate(w, DSL_AGG_REDUCE, NULL, reducer, reducer, opaque, store,
                              "eddy_windowed_reduce");
}

eddy_ktable_t *eddy_windowed_aggregate(eddy_kwindowed_stream_t *w, eddy_initializer_fn *init,
                                       eddy_aggregator_fn *aggregator,
                                       eddy_aggregator_fn *session_merger, void *opaque,
                                       const char *store)
{
    return windowed_aggregate(w, DSL_AGG_AGGREGATE, init, aggregator, session_merger, opaque, store,
                              "eddy_windowed_aggregate");
}

eddy_ktable_t *eddy_table_suppress_until_window_closes(eddy_ktable_t *t)
{
    static const char fn[] = "eddy_table_suppress_until_window_closes";
    eddy_builder_t *b = T_USE(t, fn);
    if (!b)
        return dsl_dead_table(T_OWNER(t));
    dsl_node_t *agg = t->kt_node;
    if (agg->dn_kind != DSL_WINDOW_AGGREGATE && agg->dn_kind != DSL_SESSION_AGGREGATE) {
        dsl_fail(b, -EINVAL,
                 "%s (after %s): the table is not a windowed aggregation's: suppress it right "
                 "after eddy_windowed_count/reduce/aggregate",
                 fn, agg->dn_name);
        return dsl_dead_table(b);
    }
    if (agg->dn_emit_final) {
        dsl_fail(b, -EINVAL, "%s (after %s): the aggregation is suppressed already", fn,
                 agg->dn_name);
        return dsl_dead_table(b);
    }
    dsl_node_t *n = dsl_child_add(b, agg, DSL_TABLE_SUPPRESS, "KTABLE-SUPPRESS-");
    if (!n)
        return dsl_dead_table(b);
    /* Kafka also numbers the suppression buffer's store; Eddy needs none
     * (the aggregation's window store holds the results), but takes the
     * number so that later names stay Kafka's. */
    dsl_next_index(b);
    agg->dn_emit_final = 1;
    return dsl_table_new(b, n);
}

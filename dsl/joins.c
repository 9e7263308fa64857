/* The joins of the DSL (Kafka Streams' KStreamImplJoin and the table
 * joins of KTableImpl): stream-table joins (inner, left), table-table joins
 * (inner, left, outer) and windowed stream-stream joins with their window
 * stores (inner, left, outer). Their files of their own because each join
 * adds nodes on both sides and materializes the other side's store.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsl/dsl_int.h"

/* ---- joins ---- */

/* The store holding table node n's values; a table computed by a filter,
 * map_values or join that has none gets one named after the node
 * ("KTABLE-FILTER-STATE-STORE-0000000004" for KTABLE-FILTER-0000000004,
 * which takes no new number), and the node then writes its results to it.
 * Returns the store index or -1 (error recorded). */
static int table_materialize(eddy_builder_t *b, dsl_node_t *n, const char *fn)
{
    if (n->dn_store >= 0)
        return n->dn_store;
    dsl_pnode_t *pn = (dsl_pnode_t *)n;
    int si = dsl_store_add_generated(b, pn->pn_prefix, pn->pn_index, fn);
    if (si >= 0) {
        n->dn_store = si;
        b->b_finished = 0;
    }
    return si;
}

/* The other side of a join: a live table of builder b. */
static int join_other(eddy_builder_t *b, eddy_ktable_t *t, const dsl_node_t *after, const char *fn)
{
    if (!t) {
        dsl_fail(b, -EINVAL, "%s (after %s): the table is NULL", fn, after->dn_name);
        return -EINVAL;
    }
    if (t->kt_h.h_builder != b) {
        dsl_fail(b, -EINVAL, "%s (after %s): the table belongs to another builder", fn,
                 after->dn_name);
        return -EINVAL;
    }
    return t->kt_node ? 0 : -EINVAL;
}

static eddy_kstream_t *stream_table_join(eddy_kstream_t *s, eddy_ktable_t *t,
                                         eddy_joiner_fn *joiner, void *opaque, dsl_join_kind_t kind,
                                         const char *fn)
{
    eddy_builder_t *b = S_USE(s, fn);
    if (!b)
        return dsl_dead_stream(S_OWNER(s));
    if (join_other(b, t, s->ks_node, fn) ||
        dsl_need(b, (const void *)joiner, fn, s->ks_node, "joiner"))
        return dsl_dead_stream(b);
    int ts = table_materialize(b, t->kt_node, fn);
    if (ts < 0)
        return dsl_dead_stream(b);
    /* A key-changed stream is repartitioned first, through
     * "<stream's node name>-repartition"; joined again, it reuses that
     * topic but still takes the numbers (KStreamImpl.repartitionForJoin). */
    dsl_node_t *up = s->ks_node;
    if (s->ks_key_changed) {
        if (s->ks_join_source) {
            b->b_index += 3;
            up = s->ks_join_source;
        } else {
            up = dsl_repartition_add(b, s->ks_node, s->ks_node->dn_name, 0, RP_STREAM, fn);
            if (!up)
                return dsl_dead_stream(b);
            s->ks_join_source = up;
        }
    }
    dsl_node_t *n = dsl_child_add(b, up, DSL_STREAM_TABLE_JOIN,
                                  kind == DSL_JOIN_LEFT ? "KSTREAM-LEFTJOIN-" : "KSTREAM-JOIN-");
    if (!n)
        return dsl_dead_stream(b);
    n->dn_other_store = ts;
    n->dn_join_kind = kind;
    n->dn_joiner = joiner;
    n->dn_opaque = opaque;
    return dsl_stream_new(b, n, 0);
}

eddy_kstream_t *eddy_stream_join_table(eddy_kstream_t *s, eddy_ktable_t *t, eddy_joiner_fn *joiner,
                                       void *opaque)
{
    return stream_table_join(s, t, joiner, opaque, DSL_JOIN_INNER, "eddy_stream_join_table");
}

eddy_kstream_t *eddy_stream_left_join_table(eddy_kstream_t *s, eddy_ktable_t *t,
                                            eddy_joiner_fn *joiner, void *opaque)
{
    return stream_table_join(s, t, joiner, opaque, DSL_JOIN_LEFT, "eddy_stream_left_join_table");
}

/* KTableImpl.doJoin: the merge's number first, then this side's, then the
 * other side's. */
static eddy_ktable_t *table_table_join(eddy_ktable_t *a, eddy_ktable_t *o, eddy_joiner_fn *joiner,
                                       void *opaque, const char *store, dsl_join_kind_t kind,
                                       const char *fn)
{
    eddy_builder_t *b = T_USE(a, fn);
    if (!b)
        return dsl_dead_table(T_OWNER(a));
    if (join_other(b, o, a->kt_node, fn) ||
        dsl_need(b, (const void *)joiner, fn, a->kt_node, "joiner") ||
        dsl_check_store_name(b, store, fn))
        return dsl_dead_table(b);
    int sa = table_materialize(b, a->kt_node, fn);
    int so = sa < 0 ? -1 : table_materialize(b, o->kt_node, fn);
    int sm = so < 0 ? -1 : store ? dsl_store_add(b, store, fn) : -2;
    if (sa < 0 || so < 0 || sm == -1)
        return dsl_dead_table(b);
    int merge_index = dsl_next_index(b);
    dsl_node_t *jt = dsl_node_add(b, DSL_TABLE_JOIN_SIDE, "KTABLE-JOINTHIS-", dsl_next_index(b),
                                  NULL);
    if (!jt || dsl_node_link(b, a->kt_node, jt))
        return dsl_dead_table(b);
    dsl_node_t *jo = dsl_node_add(b, DSL_TABLE_JOIN_SIDE, "KTABLE-JOINOTHER-", dsl_next_index(b),
                                  NULL);
    if (!jo || dsl_node_link(b, o->kt_node, jo))
        return dsl_dead_table(b);
    dsl_node_t *m = dsl_node_add(b, DSL_TABLE_JOIN_MERGE, "KTABLE-MERGE-", merge_index, NULL);
    if (!m || dsl_node_link(b, jt, m) || dsl_node_link(b, jo, m))
        return dsl_dead_table(b);
    jt->dn_left_side = 1;
    jt->dn_other_store = so;
    jo->dn_other_store = sa;
    dsl_node_t *sides[] = {jt, jo, m};
    for (int i = 0; i < 3; i++) {
        sides[i]->dn_join_kind = kind;
        sides[i]->dn_joiner = joiner;
        sides[i]->dn_opaque = opaque;
    }
    m->dn_store = sm >= 0 ? sm : -1;
    return dsl_table_new(b, m);
}

eddy_ktable_t *eddy_table_join(eddy_ktable_t *a, eddy_ktable_t *b, eddy_joiner_fn *joiner,
                               void *opaque, const char *store)
{
    return table_table_join(a, b, joiner, opaque, store, DSL_JOIN_INNER, "eddy_table_join");
}

eddy_ktable_t *eddy_table_left_join(eddy_ktable_t *a, eddy_ktable_t *b, eddy_joiner_fn *joiner,
                                    void *opaque, const char *store)
{
    return table_table_join(a, b, joiner, opaque, store, DSL_JOIN_LEFT, "eddy_table_left_join");
}

eddy_ktable_t *eddy_table_outer_join(eddy_ktable_t *a, eddy_ktable_t *b, eddy_joiner_fn *joiner,
                                     void *opaque, const char *store)
{
    return table_table_join(a, b, joiner, opaque, store, DSL_JOIN_OUTER, "eddy_table_outer_join");
}

/* ---- windowed stream-stream joins ---- */

/* A join side's window store, "<generated join name>-store" as Kafka names
 * it, retaining duplicates. */
static int join_store_add(eddy_builder_t *b, const char *node_name, const char *suffix,
                          int64_t retention, int dups, const char *fn)
{
    char *nm = dsl_str_printf("%s%s", node_name, suffix);
    if (!nm) {
        dsl_fail_nomem(b);
        return -1;
    }
    int si = dsl_store_add(b, nm, fn);
    free(nm);
    if (si >= 0) {
        b->b_topo.dt_stores[si].ds_kind = DSL_STORE_WINDOW;
        b->b_topo.dt_stores[si].ds_retention_ms = retention;
        b->b_topo.dt_stores[si].ds_retain_duplicates = dups;
        b->b_topo.dt_stores[si].ds_timestamped = 0;
    }
    return si;
}

/* KStreamImplJoin: each side through a KSTREAM-WINDOWED node into its
 * buffer, then a join node looking up the other side's buffer, both into a
 * KSTREAM-MERGE. Key-changed inputs are repartitioned first. */
static eddy_kstream_t *stream_stream_join(eddy_kstream_t *l, eddy_kstream_t *r,
                                          eddy_joiner_fn *joiner, void *opaque,
                                          eddy_join_windows_t w, dsl_join_kind_t kind,
                                          const char *fn)
{
    eddy_builder_t *b = S_USE(l, fn);
    if (!b)
        return dsl_dead_stream(S_OWNER(l));
    if (!r || r->ks_h.h_builder != b) {
        dsl_fail(b, -EINVAL, "%s (after %s): the other stream is %s", fn, l->ks_node->dn_name,
                 r ? "of another builder" : "NULL");
        return dsl_dead_stream(b);
    }
    if (!r->ks_node || dsl_need(b, (const void *)joiner, fn, l->ks_node, "joiner"))
        return dsl_dead_stream(b);
    if (w.jw_before < 0 || w.jw_after < 0 || w.jw_grace < 0 || w.jw_before + w.jw_after < 0) {
        dsl_fail(b, -EINVAL, "%s (after %s): join window bounds and grace must be >= 0", fn,
                 l->ks_node->dn_name);
        return dsl_dead_stream(b);
    }
    eddy_kstream_t *sides[2] = {l, r};
    dsl_node_t *up[2];
    for (int i = 0; i < 2; i++) {
        eddy_kstream_t *s = sides[i];
        up[i] = s->ks_node;
        if (!s->ks_key_changed)
            continue;
        if (s->ks_join_source) {
            b->b_index += 3;
            up[i] = s->ks_join_source;
        } else {
            up[i] = dsl_repartition_add(b, s->ks_node, s->ks_node->dn_name, 0, RP_STREAM, fn);
            if (!up[i])
                return dsl_dead_stream(b);
            s->ks_join_source = up[i];
        }
    }
    int right_outer = kind == DSL_JOIN_OUTER, left_outer = kind != DSL_JOIN_INNER;
    /* KStreamImplJoin's order: the two windowed nodes, this and other
     * side, then the merge. */
    int win_index[2] = {dsl_next_index(b), dsl_next_index(b)};
    int this_index = dsl_next_index(b), other_index = dsl_next_index(b);
    int merge_index = dsl_next_index(b);
    const char *this_prefix = right_outer ? "KSTREAM-OUTERTHIS-" : "KSTREAM-JOINTHIS-";
    const char *other_prefix = left_outer ? "KSTREAM-OUTEROTHER-" : "KSTREAM-JOINOTHER-";
    char this_name[64], other_name[64];
    snprintf(this_name, sizeof this_name, "%s%010d", this_prefix, this_index);
    snprintf(other_name, sizeof other_name, "%s%010d", other_prefix, other_index);
    /* Kafka keeps each side's records for before + after + grace. */
    int64_t retention = w.jw_before + w.jw_after + w.jw_grace;
    int st_this = join_store_add(b, this_name, "-store", retention, 1, fn);
    int st_other = st_this < 0 ? -1 : join_store_add(b, other_name, "-store", retention, 1, fn);
    if (st_other < 0)
        return dsl_dead_stream(b);
    int st_shared = -1;
    if (left_outer) {
        char shared[64];
        snprintf(shared, sizeof shared, "KSTREAM-OUTERSHARED-%010d", this_index);
        st_shared = join_store_add(b, shared, "-store", retention, 0, fn);
        if (st_shared < 0)
            return dsl_dead_stream(b);
        b->b_topo.dt_stores[st_shared].ds_kind = DSL_STORE_KV;
    }
    dsl_node_t *win[2], *join[2];
    for (int i = 0; i < 2; i++) {
        win[i] = dsl_node_add(b, DSL_STREAM_JOIN_WINDOW, "KSTREAM-WINDOWED-", win_index[i], NULL);
        if (!win[i] || dsl_node_link(b, up[i], win[i]))
            return dsl_dead_stream(b);
        win[i]->dn_store = i == 0 ? st_this : st_other;
    }
    join[0] = dsl_node_add(b, DSL_STREAM_JOIN_SIDE, this_prefix, this_index, NULL);
    join[1] = join[0] ? dsl_node_add(b, DSL_STREAM_JOIN_SIDE, other_prefix, other_index, NULL)
                      : NULL;
    dsl_node_t *m = join[1] ? dsl_node_add(b, DSL_MERGE, "KSTREAM-MERGE-", merge_index, NULL)
                            : NULL;
    if (!m)
        return dsl_dead_stream(b);
    for (int i = 0; i < 2; i++) {
        if (dsl_node_link(b, win[i], join[i]) || dsl_node_link(b, join[i], m))
            return dsl_dead_stream(b);
        join[i]->dn_left_side = i == 0;
        join[i]->dn_store = -1;
        join[i]->dn_other_store = i == 0 ? st_other : st_this;
        join[i]->dn_aux_store = st_shared;
        join[i]->dn_join_kind = kind;
        join[i]->dn_joiner = joiner;
        join[i]->dn_opaque = opaque;
        join[i]->dn_join_windows = w;
    }
    return dsl_stream_new(b, m, 0);
}

eddy_kstream_t *eddy_stream_join(eddy_kstream_t *left, eddy_kstream_t *right,
                                 eddy_joiner_fn *joiner, void *opaque, eddy_join_windows_t w)
{
    return stream_stream_join(left, right, joiner, opaque, w, DSL_JOIN_INNER, "eddy_stream_join");
}

eddy_kstream_t *eddy_stream_left_join(eddy_kstream_t *left, eddy_kstream_t *right,
                                      eddy_joiner_fn *joiner, void *opaque, eddy_join_windows_t w)
{
    return stream_stream_join(left, right, joiner, opaque, w, DSL_JOIN_LEFT,
                              "eddy_stream_left_join");
}

eddy_kstream_t *eddy_stream_outer_join(eddy_kstream_t *left, eddy_kstream_t *right,
                                       eddy_joiner_fn *joiner, void *opaque, eddy_join_windows_t w)
{
    return stream_stream_join(left, right, joiner, opaque, w, DSL_JOIN_OUTER,
                              "eddy_stream_outer_join");
}

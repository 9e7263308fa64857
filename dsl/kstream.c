/* The KStream calls of the DSL (Kafka Streams' KStreamImpl): filter, the
 * mappers, peek and foreach, split (branches) and merge, sinks and explicit
 * repartitions, and user processors (eddy_stream_process). Each adds nodes
 * through the builder's core (builder.c) and hands back a new stream
 * handle. A file of its own, as Kafka keeps KStreamImpl apart from
 * StreamsBuilder, so the builder's core stays small.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsl/dsl_int.h"

/* ---- KStream ---- */

/* A stream -> stream node: returns the new node or NULL (*bp set to the
 * builder that should hand out a dead stream). */
dsl_node_t *dsl_stream_step(eddy_kstream_t *s, dsl_kind_t kind, const char *prefix,
                            const void *fnptr, const char *what, const char *fn,
                            eddy_builder_t **bp)
{
    eddy_builder_t *b = S_USE(s, fn);
    *bp = S_OWNER(s);
    if (!b || dsl_need(b, fnptr, fn, s->ks_node, what))
        return NULL;
    return dsl_child_add(b, s->ks_node, kind, prefix);
}

static eddy_kstream_t *filter(eddy_kstream_t *s, eddy_predicate_fn *pred, void *opaque, int negate,
                              const char *fn)
{
    eddy_builder_t *b;
    dsl_node_t *n = dsl_stream_step(s, DSL_FILTER, "KSTREAM-FILTER-", pred, "predicate", fn, &b);
    if (!n)
        return dsl_dead_stream(b);
    n->dn_pred = pred;
    n->dn_negate = negate;
    n->dn_opaque = opaque;
    return dsl_stream_new(b, n, s->ks_key_changed);
}

eddy_kstream_t *eddy_stream_filter(eddy_kstream_t *s, eddy_predicate_fn *pred, void *opaque)
{
    return filter(s, pred, opaque, 0, "eddy_stream_filter");
}

eddy_kstream_t *eddy_stream_filter_not(eddy_kstream_t *s, eddy_predicate_fn *pred, void *opaque)
{
    return filter(s, pred, opaque, 1, "eddy_stream_filter_not");
}

/* map-like calls: key_changes 1 when the key may change (a repartition
 * follows before grouping or joining), -1 to inherit the input's mark. */
static eddy_kstream_t *mapper(eddy_kstream_t *s, dsl_kind_t kind, const char *prefix,
                              eddy_mapper_fn *fnp, void *opaque, int key_changes, const char *fn)
{
    eddy_builder_t *b;
    dsl_node_t *n = dsl_stream_step(s, kind, prefix, fnp, "mapper", fn, &b);
    if (!n)
        return dsl_dead_stream(b);
    n->dn_mapper = fnp;
    n->dn_opaque = opaque;
    return dsl_stream_new(b, n, key_changes < 0 ? s->ks_key_changed : key_changes);
}

eddy_kstream_t *eddy_stream_map(eddy_kstream_t *s, eddy_mapper_fn *fn, void *opaque)
{
    return mapper(s, DSL_MAP, "KSTREAM-MAP-", fn, opaque, 1, "eddy_stream_map");
}

eddy_kstream_t *eddy_stream_map_values(eddy_kstream_t *s, eddy_mapper_fn *fn, void *opaque)
{
    return mapper(s, DSL_MAP_VALUES, "KSTREAM-MAPVALUES-", fn, opaque, -1,
                  "eddy_stream_map_values");
}

eddy_kstream_t *eddy_stream_flat_map(eddy_kstream_t *s, eddy_mapper_fn *fn, void *opaque)
{
    return mapper(s, DSL_FLAT_MAP, "KSTREAM-FLATMAP-", fn, opaque, 1, "eddy_stream_flat_map");
}

eddy_kstream_t *eddy_stream_flat_map_values(eddy_kstream_t *s, eddy_mapper_fn *fn, void *opaque)
{
    return mapper(s, DSL_FLAT_MAP_VALUES, "KSTREAM-FLATMAPVALUES-", fn, opaque, -1,
                  "eddy_stream_flat_map_values");
}

eddy_kstream_t *eddy_stream_select_key(eddy_kstream_t *s, eddy_mapper_fn *fn, void *opaque)
{
    return mapper(s, DSL_SELECT_KEY, "KSTREAM-KEY-SELECT-", fn, opaque, 1,
                  "eddy_stream_select_key");
}

eddy_kstream_t *eddy_stream_peek(eddy_kstream_t *s, eddy_action_fn *fnp, void *opaque)
{
    eddy_builder_t *b;
    dsl_node_t *n = dsl_stream_step(s, DSL_PEEK, "KSTREAM-PEEK-", (const void *)fnp, "action",
                                    "eddy_stream_peek", &b);
    if (!n)
        return dsl_dead_stream(b);
    n->dn_action = fnp;
    n->dn_opaque = opaque;
    return dsl_stream_new(b, n, s->ks_key_changed);
}

void eddy_stream_foreach(eddy_kstream_t *s, eddy_action_fn *fnp, void *opaque)
{
    eddy_builder_t *b;
    dsl_node_t *n = dsl_stream_step(s, DSL_FOREACH, "KSTREAM-FOREACH-", (const void *)fnp, "action",
                                    "eddy_stream_foreach", &b);
    if (!n)
        return;
    n->dn_action = fnp;
    n->dn_opaque = opaque;
}

/* ---- split and merge ---- */

eddy_branched_t *eddy_stream_split(eddy_kstream_t *s)
{
    eddy_builder_t *b;
    dsl_node_t *n = dsl_stream_step(s, DSL_BRANCH, "KSTREAM-BRANCH-", NULL, NULL,
                                    "eddy_stream_split", &b);
    if (!n)
        return b ? &b->b_dead_branched : NULL;
    eddy_branched_t *br = dsl_handle_new(b, DSL_H_BRANCHED, sizeof *br);
    if (!br)
        return &b->b_dead_branched;
    br->br_node = n;
    br->br_key_changed = s->ks_key_changed;
    return br;
}

/* A branch: a pass-through child of the split node named after it
 * (KSTREAM-BRANCH-00000000011 is the first branch of KSTREAM-BRANCH-
 * 0000000001, ...0 the default one), taking a number it does not use, as
 * Kafka's BranchedKStreamImpl does. */
static eddy_kstream_t *branch_add(eddy_branched_t *br, eddy_predicate_fn *pred, void *opaque,
                                  const char *fn)
{
    eddy_builder_t *b = dsl_use(br ? &br->br_h : NULL, br ? br->br_node : NULL, fn, "split stream");
    eddy_builder_t *ob = dsl_owner(br ? &br->br_h : NULL);
    if (!b)
        return dsl_dead_stream(ob);
    dsl_node_t *split = br->br_node;
    if (br->br_has_default) {
        dsl_fail(b, -EINVAL,
                 "%s (after %s): the split already has its default branch, which "
                 "comes last",
                 fn, split->dn_name);
        return dsl_dead_stream(b);
    }
    if (!pred)
        br->br_has_default = 1;
    int nb = split->dn_nchildren;
    eddy_predicate_fn **preds = realloc(split->dn_branch_preds, (size_t)(nb + 1) * sizeof *preds);
    if (preds)
        split->dn_branch_preds = preds;
    void **opaques = realloc(split->dn_branch_opaques, (size_t)(nb + 1) * sizeof *opaques);
    if (opaques)
        split->dn_branch_opaques = opaques;
    char *name = dsl_str_printf("%s%d", split->dn_name, pred ? nb + 1 : 0);
    if (!preds || !opaques || !name) {
        free(name);
        dsl_fail_nomem(b);
        return dsl_dead_stream(b);
    }
    preds[nb] = pred;
    opaques[nb] = opaque;
    dsl_node_t *n = dsl_node_add(b, DSL_MERGE, "KSTREAM-BRANCH-", dsl_next_index(b), name);
    free(name);
    if (!n || dsl_node_link(b, split, n))
        return dsl_dead_stream(b);
    return dsl_stream_new(b, n, br->br_key_changed);
}

eddy_kstream_t *eddy_branch(eddy_branched_t *br, eddy_predicate_fn *pred, void *opaque)
{
    if (!pred) {
        eddy_builder_t *b = dsl_use(br ? &br->br_h : NULL, br ? br->br_node : NULL, "eddy_branch",
                                    "split stream");
        if (b)
            dsl_fail(b, -EINVAL,
                     "eddy_branch (after %s): the predicate is NULL (the default "
                     "branch is eddy_branch_default)",
                     br->br_node->dn_name);
        return dsl_dead_stream(dsl_owner(br ? &br->br_h : NULL));
    }
    return branch_add(br, pred, opaque, "eddy_branch");
}

eddy_kstream_t *eddy_branch_default(eddy_branched_t *br)
{
    return branch_add(br, NULL, NULL, "eddy_branch_default");
}

eddy_kstream_t *eddy_stream_merge(eddy_kstream_t *a, eddy_kstream_t *o)
{
    static const char fn[] = "eddy_stream_merge";
    eddy_builder_t *b = S_USE(a, fn);
    if (!b)
        return dsl_dead_stream(S_OWNER(a));
    if (!o) {
        dsl_fail(b, -EINVAL, "%s (after %s): the second stream is NULL", fn, a->ks_node->dn_name);
        return dsl_dead_stream(b);
    }
    if (o->ks_h.h_builder != b) {
        dsl_fail(b, -EINVAL, "%s (after %s): the second stream belongs to another builder", fn,
                 a->ks_node->dn_name);
        return dsl_dead_stream(b);
    }
    if (!o->ks_node)
        return dsl_dead_stream(b);
    dsl_node_t *n = dsl_child_add(b, a->ks_node, DSL_MERGE, "KSTREAM-MERGE-");
    if (!n || dsl_node_link(b, o->ks_node, n))
        return dsl_dead_stream(b);
    return dsl_stream_new(b, n, a->ks_key_changed || o->ks_key_changed);
}

/* ---- sinks and repartitions ---- */

static void sink(eddy_kstream_t *s, const char *topic, const eddy_serde_t *ks,
                 const eddy_serde_t *vs, eddy_partitioner_fn *partitioner, void *opaque,
                 int want_partitioner, const char *fn)
{
    eddy_builder_t *b = S_USE(s, fn);
    if (!b || dsl_check_topic(b, topic, fn))
        return;
    if (want_partitioner && dsl_need(b, (const void *)partitioner, fn, s->ks_node, "partitioner"))
        return;
    dsl_node_t *n = dsl_child_add(b, s->ks_node, DSL_SINK, "KSTREAM-SINK-");
    if (!n || dsl_node_set_topic(b, n, topic))
        return;
    n->dn_key_serde = ks;
    n->dn_value_serde = vs;
    n->dn_partitioner = partitioner;
    n->dn_opaque = opaque;
}

void eddy_stream_to(eddy_kstream_t *s, const char *topic, const eddy_serde_t *key_serde,
                    const eddy_serde_t *value_serde)
{
    sink(s, topic, key_serde, value_serde, NULL, NULL, 0, "eddy_stream_to");
}

void eddy_stream_to_partitioned(eddy_kstream_t *s, const char *topic, const eddy_serde_t *key_serde,
                                const eddy_serde_t *value_serde, eddy_partitioner_fn *partitioner,
                                void *opaque)
{
    sink(s, topic, key_serde, value_serde, partitioner, opaque, 1, "eddy_stream_to_partitioned");
}

eddy_kstream_t *eddy_stream_repartition(eddy_kstream_t *s, const char *name, int32_t partitions)
{
    static const char fn[] = "eddy_stream_repartition";
    char why[160];
    eddy_builder_t *b = S_USE(s, fn);
    if (!b)
        return dsl_dead_stream(S_OWNER(s));
    if (partitions < 0) {
        dsl_fail(b, -EINVAL,
                 "%s (after %s): partitions is %d; give a positive count, or 0 for "
                 "as many as the inputs have",
                 fn, s->ks_node->dn_name, (int)partitions);
        return dsl_dead_stream(b);
    }
    if (name && dsl_name_check(name, why, sizeof why)) {
        dsl_fail(b, -EINVAL, "%s (after %s): name \"%s\" is not valid: %s", fn, s->ks_node->dn_name,
                 name, why);
        return dsl_dead_stream(b);
    }
    char *gen = name ? NULL : dsl_str_printf("KSTREAM-REPARTITION-%010d", dsl_next_index(b));
    if (!name && !gen) {
        dsl_fail_nomem(b);
        return dsl_dead_stream(b);
    }
    dsl_node_t *src = dsl_repartition_add(b, s->ks_node, name ? name : gen, partitions, RP_STREAM,
                                          fn);
    free(gen);
    return dsl_stream_new(b, src, 0);
}

/* ---- processors ---- */

eddy_kstream_t *eddy_stream_process(eddy_kstream_t *s, const eddy_processor_t *p, void *opaque)
{
    eddy_builder_t *b;
    dsl_node_t *n = dsl_stream_step(s, DSL_PROCESS, "KSTREAM-PROCESSOR-",
                                    p ? (const void *)p->p_process : NULL, "processor's p_process",
                                    "eddy_stream_process", &b);
    if (!n)
        return dsl_dead_stream(b);
    n->dn_processor = *p;
    n->dn_opaque = opaque;
    return dsl_stream_new(b, n, 1);
}

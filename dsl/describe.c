/* eddy_builder_describe: the topology as Kafka's TopologyDescription
 * toString() prints it (InternalTopologyBuilder), so that descriptions can
 * be compared with a Kafka Streams app's:
 *
 *   Topologies:
 *      Sub-topology: 0
 *       Source: KSTREAM-SOURCE-0000000000 (topics: [lines])
 *         --> KSTREAM-FLATMAP-0000000001
 *       Processor: KSTREAM-FLATMAP-0000000001 (stores: [])
 *         --> counts-repartition-filter
 *         <-- KSTREAM-SOURCE-0000000000
 *       ...
 *
 *     Sub-topology: 1
 *       ...
 *
 * ("Topologies:\n " then, per sub-topology, "  Sub-topology: N\n", its
 * nodes and a blank line; hence three spaces before the first one and two
 * before the others.) Nodes, and the names after "-->" and "<--", are in
 * Kafka's NodeComparator order: larger sub-tree first, then by name. The
 * sub-tree size is Kafka's: 1 + the sizes of the successors (a node reached
 * along two paths counts twice, as Kafka's updateSize() adds it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsl/dsl_int.h"

static _Thread_local const double *cmp_size; /* the sizes qsort compares by */

static int node_cmp(const void *pa, const void *pb)
{
    const dsl_node_t *a = *(dsl_node_t *const *)pa, *b = *(dsl_node_t *const *)pb;
    double sa = cmp_size[a->dn_id], sb = cmp_size[b->dn_id];
    if (sa != sb)
        return sa > sb ? -1 : 1;
    return strcmp(a->dn_name, b->dn_name);
}

/* A sorted, duplicate-free list of names after "-->" or "<--". */
static int names(eddy_buf_t *out, dsl_node_t **list, int n, dsl_node_t **tmp)
{
    if (n == 0)
        return eddy_buf_append(out, "none", 4);
    memcpy(tmp, list, (size_t)n * sizeof *tmp);
    qsort(tmp, (size_t)n, sizeof *tmp, node_cmp);
    int err = 0;
    for (int i = 0; i < n && !err; i++) {
        if (i > 0 && tmp[i] == tmp[i - 1])
            continue;
        err = dsl_buf_printf(out, "%s%s", i ? ", " : "", tmp[i]->dn_name);
    }
    return err;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int store_list(eddy_buf_t *out, const dsl_topology_t *t, const dsl_node_t *n)
{
    const char *s[3];
    int k = 0;
    const int idx[3] = {n->dn_store, n->dn_other_store, n->dn_aux_store};
    for (int i = 0; i < 3; i++) {
        int dup = 0;
        for (int j = 0; j < i; j++)
            dup |= idx[j] == idx[i];
        if (idx[i] >= 0 && !dup)
            s[k++] = t->dt_stores[idx[i]].ds_name;
    }
    qsort(s, (size_t)k, sizeof *s, name_cmp);
    int err = eddy_buf_append(out, "[", 1);
    for (int i = 0; i < k && !err; i++)
        err = dsl_buf_printf(out, "%s%s", i ? ", " : "", s[i]);
    return err ? err : eddy_buf_append(out, "]", 1);
}

static int describe_node(eddy_buf_t *out, const dsl_topology_t *t, dsl_node_t *n, dsl_node_t **tmp)
{
    int err;
    if (n->dn_kind == DSL_SOURCE) {
        err = dsl_buf_printf(out, "    Source: %s (topics: [", n->dn_name);
        for (int i = 0; i < n->dn_ntopics && !err; i++)
            err = dsl_buf_printf(out, "%s%s", i ? ", " : "", n->dn_topics[i]);
        if (!err)
            err = eddy_buf_append(out, "])\n      --> ", 13);
        if (!err)
            err = names(out, n->dn_children, n->dn_nchildren, tmp);
    } else if (n->dn_kind == DSL_SINK) {
        err = dsl_buf_printf(out, "    Sink: %s (topic: %s)\n      <-- ", n->dn_name,
                             n->dn_ntopics ? n->dn_topics[0] : "null");
        if (!err)
            err = names(out, n->dn_parents, n->dn_nparents, tmp);
    } else {
        err = dsl_buf_printf(out, "    Processor: %s (stores: ", n->dn_name);
        if (!err)
            err = store_list(out, t, n);
        if (!err)
            err = eddy_buf_append(out, ")\n      --> ", 12);
        if (!err)
            err = names(out, n->dn_children, n->dn_nchildren, tmp);
        if (!err)
            err = eddy_buf_append(out, "\n      <-- ", 11);
        if (!err)
            err = names(out, n->dn_parents, n->dn_nparents, tmp);
    }
    return err ? err : eddy_buf_append(out, "\n", 1);
}

static int describe(eddy_buf_t *out, const dsl_topology_t *t, double *size, dsl_node_t **order,
                    dsl_node_t **tmp)
{
    /* Children have larger ids than their parents: one pass from the end
     * adds up the sub-trees. */
    for (int i = t->dt_nnodes - 1; i >= 0; i--) {
        const dsl_node_t *n = t->dt_nodes[i];
        size[i] = 1;
        for (int c = 0; c < n->dn_nchildren; c++)
            size[i] += size[n->dn_children[c]->dn_id];
    }
    cmp_size = size;
    int err = eddy_buf_append(out, "Topologies:\n ", 13);
    for (int s = 0; s < t->dt_nsubtopologies && !err; s++) {
        const dsl_subtopology_t *st = &t->dt_subtopologies[s];
        err = dsl_buf_printf(out, "  Sub-topology: %d\n", st->st_id);
        memcpy(order, st->st_nodes, (size_t)st->st_nnodes * sizeof *order);
        qsort(order, (size_t)st->st_nnodes, sizeof *order, node_cmp);
        for (int i = 0; i < st->st_nnodes && !err; i++)
            err = describe_node(out, t, order[i], tmp);
        if (!err)
            err = eddy_buf_append(out, "\n", 1);
    }
    return err;
}

char *eddy_builder_describe(eddy_builder_t *b, char *errstr, size_t errstr_size)
{
    const dsl_topology_t *t = dsl_builder_finish(b, errstr, errstr_size);
    if (!t)
        return NULL;
    size_t n = (size_t)t->dt_nnodes;
    double *size = malloc(n * sizeof *size);
    dsl_node_t **order = malloc(n * sizeof *order);
    dsl_node_t **tmp = malloc(n * sizeof *tmp);
    eddy_buf_t out = {0};
    int err = -ENOMEM;
    if (size && order && tmp)
        err = describe(&out, t, size, order, tmp);
    if (!err)
        err = eddy_buf_append(&out, "", 1); /* the terminating NUL */
    free(size);
    free(order);
    free(tmp);
    if (err) {
        eddy_buf_free(&out);
        snprintf(errstr, errstr_size, "out of memory while describing the topology");
        return NULL;
    }
    return (char *)out.data;
}

/* dsl_builder_finish: checks a built graph and splits it into
 * sub-topologies, the units of work of tasks.
 *
 * Two nodes are in the same sub-topology when a parent/child edge or a
 * shared store connects them (a store belongs to exactly one task, so every
 * node that reads or writes it must run in that task). A repartition topic
 * is not an edge: its sink and its source are separate nodes, and the
 * source starts a new sub-topology. Sub-topologies are numbered in the
 * order of their first node.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsl/dsl_int.h"

void dsl_topology_clear_derived(dsl_topology_t *t)
{
    for (int i = 0; i < t->dt_nsubtopologies; i++) {
        dsl_subtopology_t *st = &t->dt_subtopologies[i];
        free(st->st_nodes);
        free(st->st_sources);
        free(st->st_stores);
        free(st->st_copartitioned); /* the strings are the nodes' */
        free(st->st_copartitioned_internal);
    }
    free(t->dt_subtopologies);
    t->dt_subtopologies = NULL;
    t->dt_nsubtopologies = 0;
    for (int i = 0; i < t->dt_nnodes; i++)
        t->dt_nodes[i]->dn_subtopology = -1;
    for (int i = 0; i < t->dt_nstores; i++)
        t->dt_stores[i].ds_subtopology = -1;
    for (int i = 0; i < t->dt_ninternal_topics; i++)
        t->dt_internal_topics[i].it_from_subtopology = t->dt_internal_topics[i].it_to_subtopology =
            -1;
}

/* ---- checks ---- */

static int validate(eddy_builder_t *b, char *errstr, size_t errstr_size)
{
    const dsl_topology_t *t = &b->b_topo;
    int nsources = 0;
    for (int i = 0; i < t->dt_nnodes; i++)
        nsources += t->dt_nodes[i]->dn_kind == DSL_SOURCE;
    if (nsources == 0) {
        snprintf(errstr, errstr_size,
                 "the topology is empty: read a topic first with "
                 "eddy_builder_stream or eddy_builder_table");
        return -EINVAL;
    }
    /* A generated name can meet a name the user gave earlier. */
    for (int i = 0; i < t->dt_nnodes; i++)
        for (int j = i + 1; j < t->dt_nnodes; j++)
            if (!strcmp(t->dt_nodes[i]->dn_name, t->dt_nodes[j]->dn_name)) {
                snprintf(errstr, errstr_size,
                         "two processors are named \"%s\": names must be "
                         "unique (eddy_stream_name, eddy_table_name)",
                         t->dt_nodes[i]->dn_name);
                return -EINVAL;
            }
    for (const dsl_handle_t *h = b->b_handles; h; h = h->h_next) {
        if (h->h_kind == DSL_H_GROUPED_STREAM) {
            const struct eddy_kgrouped_stream *g = (const void *)h;
            if (!g->kg_used) {
                snprintf(errstr, errstr_size,
                         "the stream grouped after %s is never aggregated: "
                         "call eddy_grouped_count, eddy_grouped_reduce or eddy_grouped_aggregate "
                         "on it",
                         g->kg_node->dn_name);
                return -EINVAL;
            }
        } else if (h->h_kind == DSL_H_GROUPED_TABLE) {
            const struct eddy_kgrouped_table *g = (const void *)h;
            if (!g->kgt_used) {
                snprintf(errstr, errstr_size,
                         "the table grouped by %s is never aggregated: call "
                         "eddy_grouped_table_count, _reduce or _aggregate on it",
                         g->kgt_node->dn_name);
                return -EINVAL;
            }
        }
    }
    return 0;
}

/* ---- sub-topologies ---- */

/* Union-find whose root is the smallest id of its set. */
static int uf_find(int *up, int x)
{
    while (up[x] != x) {
        up[x] = up[up[x]];
        x = up[x];
    }
    return x;
}

static void uf_union(int *up, int a, int b)
{
    a = uf_find(up, a);
    b = uf_find(up, b);
    if (a < b)
        up[b] = a;
    else if (b < a)
        up[a] = b;
}

/* Marks the source nodes that feed node start (in its sub-topology:
 * internal sources have no parents). */
static int mark_sources(const dsl_topology_t *t, const dsl_node_t *start, char *seen,
                        char *is_input, int *stack)
{
    int top = 0;
    if (!seen[start->dn_id]) {
        seen[start->dn_id] = 1;
        stack[top++] = start->dn_id;
    }
    while (top > 0) {
        const dsl_node_t *n = t->dt_nodes[stack[--top]];
        if (n->dn_kind == DSL_SOURCE)
            is_input[n->dn_id] = 1;
        for (int i = 0; i < n->dn_nparents; i++) {
            int p = n->dn_parents[i]->dn_id;
            if (!seen[p]) {
                seen[p] = 1;
                stack[top++] = p;
            }
        }
    }
    return 0;
}

/* The topics read by the sources feeding joins, per sub-topology: a join
 * meets records of both inputs by key, which only works when the inputs
 * are partitioned alike. */
static int copartition(dsl_topology_t *t, char *seen, char *is_input, int *stack)
{
    int n = t->dt_nnodes;
    memset(is_input, 0, (size_t)n);
    for (int i = 0; i < n; i++) {
        const dsl_node_t *j = t->dt_nodes[i];
        if (j->dn_kind != DSL_STREAM_TABLE_JOIN && j->dn_kind != DSL_TABLE_JOIN_MERGE &&
            j->dn_kind != DSL_STREAM_JOIN_SIDE)
            continue;
        memset(seen, 0, (size_t)n);
        mark_sources(t, j, seen, is_input, stack);
        /* A stream-table join's table side, a stream-stream join's other
         * side: whatever feeds the store it looks up. */
        if (j->dn_kind != DSL_TABLE_JOIN_MERGE && j->dn_other_store >= 0)
            for (int k = 0; k < n; k++)
                if (t->dt_nodes[k]->dn_store == j->dn_other_store)
                    mark_sources(t, t->dt_nodes[k], seen, is_input, stack);
    }
    for (int s = 0; s < t->dt_nsubtopologies; s++) {
        dsl_subtopology_t *st = &t->dt_subtopologies[s];
        int cap = 0;
        for (int k = 0; k < st->st_nsources; k++)
            if (is_input[st->st_sources[k]->dn_id])
                cap += st->st_sources[k]->dn_ntopics;
        if (cap == 0)
            continue;
        st->st_copartitioned = calloc((size_t)cap, sizeof *st->st_copartitioned);
        st->st_copartitioned_internal = calloc((size_t)cap, sizeof(int));
        if (!st->st_copartitioned || !st->st_copartitioned_internal)
            return -ENOMEM;
        for (int k = 0; k < st->st_nsources; k++) {
            const dsl_node_t *src = st->st_sources[k];
            if (!is_input[src->dn_id])
                continue;
            for (int x = 0; x < src->dn_ntopics; x++) {
                int dup = 0;
                for (int y = 0; y < st->st_ncopartitioned; y++)
                    dup |= st->st_copartitioned_internal[y] == src->dn_internal &&
                           !strcmp(st->st_copartitioned[y], src->dn_topics[x]);
                if (dup)
                    continue;
                st->st_copartitioned[st->st_ncopartitioned] = src->dn_topics[x];
                st->st_copartitioned_internal[st->st_ncopartitioned++] = src->dn_internal;
            }
        }
    }
    return 0;
}

static int split(dsl_topology_t *t, int *up, int *store_first, char *seen, char *is_input,
                 int *stack)
{
    int n = t->dt_nnodes;
    for (int i = 0; i < n; i++)
        up[i] = i;
    for (int s = 0; s < t->dt_nstores; s++)
        store_first[s] = -1;
    for (int i = 0; i < n; i++) {
        const dsl_node_t *nd = t->dt_nodes[i];
        for (int c = 0; c < nd->dn_nchildren; c++)
            uf_union(up, i, nd->dn_children[c]->dn_id);
        int stores[3] = {nd->dn_store, nd->dn_other_store, nd->dn_aux_store};
        for (int k = 0; k < 3; k++) {
            if (stores[k] < 0)
                continue;
            if (store_first[stores[k]] < 0)
                store_first[stores[k]] = i;
            else
                uf_union(up, i, store_first[stores[k]]);
        }
    }
    /* Roots are each set's smallest id: met in id order, they number the
     * sub-topologies by their first node. */
    int nst = 0;
    for (int i = 0; i < n; i++) {
        int r = uf_find(up, i);
        if (r == i)
            t->dt_nodes[i]->dn_subtopology = nst++;
        else
            t->dt_nodes[i]->dn_subtopology = t->dt_nodes[r]->dn_subtopology;
    }
    t->dt_subtopologies = calloc((size_t)nst, sizeof *t->dt_subtopologies);
    if (!t->dt_subtopologies)
        return -ENOMEM;
    t->dt_nsubtopologies = nst;
    for (int s = 0; s < t->dt_nstores; s++)
        if (store_first[s] >= 0)
            t->dt_stores[s].ds_subtopology = t->dt_nodes[store_first[s]]->dn_subtopology;

    for (int s = 0; s < nst; s++) {
        dsl_subtopology_t *st = &t->dt_subtopologies[s];
        st->st_id = s;
        int nn = 0, ns = 0, nstores = 0;
        for (int i = 0; i < n; i++)
            if (t->dt_nodes[i]->dn_subtopology == s) {
                nn++;
                ns += t->dt_nodes[i]->dn_kind == DSL_SOURCE;
            }
        for (int k = 0; k < t->dt_nstores; k++)
            nstores += t->dt_stores[k].ds_subtopology == s;
        st->st_nodes = calloc((size_t)nn, sizeof *st->st_nodes);
        st->st_sources = calloc((size_t)(ns ? ns : 1), sizeof *st->st_sources);
        st->st_stores = calloc((size_t)(nstores ? nstores : 1), sizeof *st->st_stores);
        if (!st->st_nodes || !st->st_sources || !st->st_stores)
            return -ENOMEM;
        for (int i = 0; i < n; i++) {
            dsl_node_t *nd = t->dt_nodes[i];
            if (nd->dn_subtopology != s)
                continue;
            st->st_nodes[st->st_nnodes++] = nd;
            if (nd->dn_kind == DSL_SOURCE)
                st->st_sources[st->st_nsources++] = nd;
        }
        for (int k = 0; k < t->dt_nstores; k++)
            if (t->dt_stores[k].ds_subtopology == s)
                st->st_stores[st->st_nstores++] = k;
    }

    for (int k = 0; k < t->dt_ninternal_topics; k++) {
        dsl_internal_topic_t *it = &t->dt_internal_topics[k];
        for (int i = 0; i < n; i++) {
            const dsl_node_t *nd = t->dt_nodes[i];
            if (!nd->dn_internal || nd->dn_ntopics < 1 || strcmp(nd->dn_topics[0], it->it_name))
                continue;
            if (nd->dn_kind == DSL_SINK)
                it->it_from_subtopology = nd->dn_subtopology;
            else if (nd->dn_kind == DSL_SOURCE)
                it->it_to_subtopology = nd->dn_subtopology;
        }
    }
    return copartition(t, seen, is_input, stack);
}

const dsl_topology_t *dsl_builder_finish(eddy_builder_t *b, char *errstr, size_t errstr_size)
{
    if (!b) {
        snprintf(errstr, errstr_size, "no topology: the builder is NULL");
        return NULL;
    }
    if (b->b_err) {
        snprintf(errstr, errstr_size, "%s", b->b_errstr);
        return NULL;
    }
    dsl_topology_t *t = &b->b_topo;
    if (b->b_finished)
        return t;
    dsl_topology_clear_derived(t);
    if (validate(b, errstr, errstr_size))
        return NULL;

    size_t n = (size_t)t->dt_nnodes;
    int *up = malloc(n * sizeof *up);
    int *stack = malloc(n * sizeof *stack);
    int *store_first = malloc((size_t)(t->dt_nstores + 1) * sizeof *store_first);
    char *seen = malloc(n), *is_input = malloc(n);
    int err = -ENOMEM;
    if (up && stack && store_first && seen && is_input)
        err = split(t, up, store_first, seen, is_input, stack);
    free(up);
    free(stack);
    free(store_first);
    free(seen);
    free(is_input);
    if (err) {
        dsl_topology_clear_derived(t);
        snprintf(errstr, errstr_size, "out of memory while checking the topology");
        return NULL;
    }
    b->b_finished = 1;
    return t;
}

int dsl_topology_subtopology_of(const dsl_topology_t *t, const char *topic, int internal)
{
    if (!t || !topic)
        return -1;
    for (int i = 0; i < t->dt_nnodes; i++) {
        const dsl_node_t *n = t->dt_nodes[i];
        if (n->dn_kind != DSL_SOURCE || !n->dn_internal != !internal)
            continue;
        for (int k = 0; k < n->dn_ntopics; k++)
            if (!strcmp(n->dn_topics[k], topic))
                return n->dn_subtopology;
    }
    return -1;
}

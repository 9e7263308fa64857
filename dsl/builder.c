/* The DSL of include/eddy.h: each call adds nodes to the builder's graph
 * (dsl/topology.h) the way Kafka Streams' StreamsBuilder does, names them
 * as Kafka names them, and inserts repartition topics where Kafka would.
 *
 * Names. Kafka Streams numbers generated names with one counter shared by
 * processors and generated stores ("KSTREAM-FILTER-0000000002",
 * "KSTREAM-AGGREGATE-STATE-STORE-0000000003"), and some calls take numbers
 * they do not use ("burn" them) to keep names stable across versions. The
 * calls below take numbers in Kafka's order, so that a topology built the
 * same way here and with Kafka's DSL (without Named/Grouped/Joined
 * options) describes itself with the same names. eddy_stream_name renames
 * a node after the fact; Kafka names it as it is made and then takes no
 * number, so names that follow a renamed node differ from Kafka's.
 *
 * Errors. Builder calls never fail on their own: the first misuse is kept
 * in the builder (dsl_fail) and reported by dsl_builder_finish. After it,
 * calls add nothing and return the builder's dead handles, so the user's
 * expression keeps going. A call given a NULL handle cannot tell which
 * builder it belongs to: the misuse is charged to the builder this thread
 * used last (dsl_current).
 *
 * Files. This file is the builder's core (StreamsBuilder and
 * InternalStreamsBuilder: names, nodes, stores, topics, repartitions,
 * handles, sources); the calls on streams, tables and grouped streams,
 * windowed streams and joins live in kstream.c, ktable.c, windowed.c and
 * joins.c, as Kafka splits its DSL, and share the core through dsl_int.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsl/dsl_int.h"

/* The builder a NULL handle's misuse is charged to: the one this thread
 * created or used last. */
static _Thread_local eddy_builder_t *dsl_current;

#define REPARTITION_SUFFIX "-repartition"

/* ---- errors and names ---- */

void dsl_fail(eddy_builder_t *b, int err, const char *fmt, ...)
{
    if (!b || b->b_err)
        return;
    b->b_err = err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->b_errstr, sizeof b->b_errstr, fmt, ap);
    va_end(ap);
    b->b_finished = 0;
}

void dsl_fail_nomem(eddy_builder_t *b)
{
    dsl_fail(b, -ENOMEM, "out of memory while building the topology");
}

int dsl_name_check(const char *name, char *why, size_t why_size)
{
    size_t n = strlen(name);
    if (n == 0) {
        snprintf(why, why_size, "it is empty");
        return -EINVAL;
    }
    if (n > 249) {
        snprintf(why, why_size, "it is longer than 249 characters");
        return -EINVAL;
    }
    if (!strcmp(name, ".") || !strcmp(name, "..")) {
        snprintf(why, why_size, "it cannot be \".\" or \"..\"");
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-')) {
            snprintf(why, why_size,
                     "it contains a character other than ASCII letters, digits, '.', '_' and "
                     "'-' at offset %zu",
                     i);
            return -EINVAL;
        }
    }
    return 0;
}

char *dsl_str_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* Kafka's test for a repartition topic prefix that it generated itself,
 * "KSTREAM.*-[0-9]{10}": the nodes of such a repartition keep generated
 * names; a user's prefix names them "<topic>-sink", "-filter", "-source". */
static int generated_prefix(const char *s)
{
    size_t n = strlen(s);
    if (n < 18 || strncmp(s, "KSTREAM", 7) != 0 || s[n - 11] != '-')
        return 0;
    for (size_t i = n - 10; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

int dsl_next_index(eddy_builder_t *b)
{
    return b->b_index++;
}

/* ---- nodes ---- */

static int grow(void **arr, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return 0;
    int ncap = *cap ? *cap * 2 : 8;
    while (ncap < need)
        ncap *= 2;
    void *p = realloc(*arr, (size_t)ncap * elem);
    if (!p)
        return -ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

/* A node named prefix + index, or name when given (derived names). */
dsl_node_t *dsl_node_add(eddy_builder_t *b, dsl_kind_t kind, const char *prefix, int index,
                         const char *name)
{
    dsl_topology_t *t = &b->b_topo;
    if (grow((void **)&t->dt_nodes, &b->b_nodes_cap, t->dt_nnodes + 1, sizeof *t->dt_nodes)) {
        dsl_fail_nomem(b);
        return NULL;
    }
    dsl_pnode_t *pn = calloc(1, sizeof *pn);
    char *nm = name ? strdup(name) : dsl_str_printf("%s%010d", prefix, index);
    if (!pn || !nm) {
        free(pn);
        free(nm);
        dsl_fail_nomem(b);
        return NULL;
    }
    pn->pn_prefix = prefix;
    pn->pn_index = index;
    dsl_node_t *n = &pn->pn_node;
    n->dn_id = t->dt_nnodes;
    n->dn_kind = kind;
    n->dn_name = nm;
    n->dn_subtopology = -1;
    n->dn_store = -1;
    n->dn_other_store = -1;
    n->dn_aux_store = -1;
    t->dt_nodes[t->dt_nnodes++] = n;
    b->b_finished = 0;
    return n;
}

/* An edge parent -> child, once: merging a stream with itself passes each
 * record once, as Kafka's graph (sets of parents and children) does. */
int dsl_node_link(eddy_builder_t *b, dsl_node_t *parent, dsl_node_t *child)
{
    for (int i = 0; i < parent->dn_nchildren; i++)
        if (parent->dn_children[i] == child)
            return 0;
    dsl_node_t **c = realloc(parent->dn_children, (size_t)(parent->dn_nchildren + 1) * sizeof *c);
    if (!c)
        goto nomem;
    parent->dn_children = c;
    dsl_node_t **p = realloc(child->dn_parents, (size_t)(child->dn_nparents + 1) * sizeof *p);
    if (!p)
        goto nomem;
    child->dn_parents = p;
    c[parent->dn_nchildren++] = child;
    p[child->dn_nparents++] = parent;
    return 0;
nomem:
    dsl_fail_nomem(b);
    return -ENOMEM;
}

/* A node with a generated name, child of parent. */
dsl_node_t *dsl_child_add(eddy_builder_t *b, dsl_node_t *parent, dsl_kind_t kind,
                          const char *prefix)
{
    dsl_node_t *n = dsl_node_add(b, kind, prefix, dsl_next_index(b), NULL);
    if (!n || dsl_node_link(b, parent, n))
        return NULL;
    return n;
}

int dsl_node_set_topic(eddy_builder_t *b, dsl_node_t *n, const char *topic)
{
    n->dn_topics = calloc(1, sizeof *n->dn_topics);
    if (n->dn_topics)
        n->dn_topics[0] = strdup(topic);
    if (!n->dn_topics || !n->dn_topics[0]) {
        dsl_fail_nomem(b);
        return -ENOMEM;
    }
    n->dn_ntopics = 1;
    return 0;
}

static void node_free(dsl_node_t *n)
{
    free(n->dn_name);
    for (int i = 0; i < n->dn_ntopics; i++)
        free(n->dn_topics[i]);
    free(n->dn_topics);
    free(n->dn_parents);
    free(n->dn_children);
    free(n->dn_branch_preds);
    free(n->dn_branch_opaques);
    free((dsl_pnode_t *)n);
}

static dsl_node_t *node_by_name(eddy_builder_t *b, const char *name)
{
    for (int i = 0; i < b->b_topo.dt_nnodes; i++)
        if (!strcmp(b->b_topo.dt_nodes[i]->dn_name, name))
            return b->b_topo.dt_nodes[i];
    return NULL;
}

/* Kafka's pass-through filter before a repartition sink (KIP-962 made it
 * keep null keys; the nodes downstream decide what to do with them). */
int dsl_pred_always(const eddy_record_t *r, void *opaque)
{
    (void)r;
    (void)opaque;
    return 1;
}

/* ---- stores and topics ---- */

static int store_find(eddy_builder_t *b, const char *name)
{
    for (int i = 0; i < b->b_topo.dt_nstores; i++)
        if (!strcmp(b->b_topo.dt_stores[i].ds_name, name))
            return i;
    return -1;
}

/* A new logged store; its index, or -1 (error recorded). name was checked
 * by the caller if the user gave it. */
int dsl_store_add(eddy_builder_t *b, const char *name, const char *fn)
{
    dsl_topology_t *t = &b->b_topo;
    if (store_find(b, name) >= 0) {
        dsl_fail(b, -EINVAL,
                 "%s: store name \"%s\" is already used by another store: give each store its "
                 "own name",
                 fn, name);
        return -1;
    }
    if (grow((void **)&t->dt_stores, &b->b_stores_cap, t->dt_nstores + 1, sizeof *t->dt_stores)) {
        dsl_fail_nomem(b);
        return -1;
    }
    char *nm = strdup(name);
    if (!nm) {
        dsl_fail_nomem(b);
        return -1;
    }
    t->dt_stores[t->dt_nstores] = (dsl_store_t){nm, -1, 1, DSL_STORE_KV, 0, 0, 1};
    b->b_finished = 0;
    return t->dt_nstores++;
}

/* A generated store name: prefix + "STATE-STORE-" + index. */
int dsl_store_add_generated(eddy_builder_t *b, const char *prefix, int index, const char *fn)
{
    char *nm = dsl_str_printf("%sSTATE-STORE-%010d", prefix, index);
    if (!nm) {
        dsl_fail_nomem(b);
        return -1;
    }
    int si = dsl_store_add(b, nm, fn);
    free(nm);
    return si;
}

/* A user's store name is checked before anything is added. */
int dsl_check_store_name(eddy_builder_t *b, const char *store, const char *fn)
{
    char why[160];
    if (store && dsl_name_check(store, why, sizeof why)) {
        dsl_fail(b, -EINVAL, "%s: store name \"%s\" is not valid: %s", fn, store, why);
        return -EINVAL;
    }
    if (store && store_find(b, store) >= 0) {
        dsl_fail(b, -EINVAL,
                 "%s: store name \"%s\" is already used by another store: give each store its "
                 "own name",
                 fn, store);
        return -EINVAL;
    }
    return 0;
}

static dsl_node_t *source_reading(eddy_builder_t *b, const char *topic, int internal)
{
    for (int i = 0; i < b->b_topo.dt_nnodes; i++) {
        dsl_node_t *n = b->b_topo.dt_nodes[i];
        if (n->dn_kind != DSL_SOURCE || n->dn_internal != internal)
            continue;
        for (int k = 0; k < n->dn_ntopics; k++)
            if (!strcmp(n->dn_topics[k], topic))
                return n;
    }
    return NULL;
}

int dsl_check_topic(eddy_builder_t *b, const char *topic, const char *fn)
{
    char why[160];
    if (!topic) {
        dsl_fail(b, -EINVAL, "%s: the topic is NULL", fn);
        return -EINVAL;
    }
    if (dsl_name_check(topic, why, sizeof why)) {
        dsl_fail(b, -EINVAL, "%s: topic name \"%s\" is not valid: %s", fn, topic, why);
        return -EINVAL;
    }
    return 0;
}

/* A source topic may feed one source node only, as in Kafka. */
static int check_source_topic(eddy_builder_t *b, const char *topic, const char *fn)
{
    if (dsl_check_topic(b, topic, fn))
        return -EINVAL;
    dsl_node_t *other = source_reading(b, topic, 0);
    if (other) {
        dsl_fail(b, -EINVAL,
                 "%s: topic \"%s\" is already read by %s: a topic can feed one source only "
                 "(reuse that stream or table)",
                 fn, topic, other->dn_name);
        return -EINVAL;
    }
    return 0;
}

static int internal_topic_add(eddy_builder_t *b, const char *topic, int32_t partitions,
                              const char *fn)
{
    dsl_topology_t *t = &b->b_topo;
    for (int i = 0; i < t->dt_ninternal_topics; i++)
        if (!strcmp(t->dt_internal_topics[i].it_name, topic)) {
            dsl_fail(b, -EINVAL,
                     "%s: repartition topic \"%s\" is already used by another repartition: "
                     "give each its own name",
                     fn, topic);
            return -EINVAL;
        }
    if (grow((void **)&t->dt_internal_topics, &b->b_itopics_cap, t->dt_ninternal_topics + 1,
             sizeof *t->dt_internal_topics)) {
        dsl_fail_nomem(b);
        return -ENOMEM;
    }
    char *nm = strdup(topic);
    if (!nm) {
        dsl_fail_nomem(b);
        return -ENOMEM;
    }
    t->dt_internal_topics[t->dt_ninternal_topics++] = (dsl_internal_topic_t){nm, partitions, -1,
                                                                             -1};
    return 0;
}

/* ---- repartitioning ---- */

/* Adds parent -> [filter ->] sink("<prefix>-repartition") and the source
 * reading it back; returns the source (a new sub-topology starts there), or
 * NULL (error recorded). */
dsl_node_t *dsl_repartition_add(eddy_builder_t *b, dsl_node_t *parent, const char *prefix,
                                int32_t partitions, enum repartition_mode mode, const char *fn)
{
    size_t plen = strlen(prefix), slen = strlen(REPARTITION_SUFFIX);
    char *topic = plen >= slen && !strcmp(prefix + plen - slen, REPARTITION_SUFFIX)
                      ? strdup(prefix)
                      : dsl_str_printf("%s%s", prefix, REPARTITION_SUFFIX);
    char *sink_name = NULL, *filter_name = NULL, *source_name = NULL;
    dsl_node_t *source = NULL;
    if (!topic) {
        dsl_fail_nomem(b);
        return NULL;
    }
    if (internal_topic_add(b, topic, partitions, fn))
        goto out;
    int sink_index = dsl_next_index(b);
    int filter_index = mode == RP_STREAM ? dsl_next_index(b) : -1;
    int source_index = dsl_next_index(b);
    if (mode == RP_STREAM && !generated_prefix(prefix)) {
        sink_name = dsl_str_printf("%s-sink", topic);
        filter_name = dsl_str_printf("%s-filter", topic);
        source_name = dsl_str_printf("%s-source", topic);
        if (!sink_name || !filter_name || !source_name) {
            dsl_fail_nomem(b);
            goto out;
        }
    }
    dsl_node_t *up = parent;
    if (mode == RP_STREAM) {
        dsl_node_t *filter = dsl_node_add(b, DSL_FILTER, "KSTREAM-FILTER-", filter_index,
                                          filter_name);
        if (!filter || dsl_node_link(b, parent, filter))
            goto out;
        filter->dn_pred = dsl_pred_always;
        up = filter;
    }
    dsl_node_t *sink = dsl_node_add(b, DSL_SINK, "KSTREAM-SINK-", sink_index, sink_name);
    if (!sink || dsl_node_link(b, up, sink) || dsl_node_set_topic(b, sink, topic))
        goto out;
    sink->dn_internal = 1;
    sink->dn_repartition_partitions = partitions;
    dsl_node_t *src = dsl_node_add(b, DSL_SOURCE, "KSTREAM-SOURCE-", source_index, source_name);
    if (!src || dsl_node_set_topic(b, src, topic))
        goto out;
    src->dn_internal = 1;
    src->dn_repartition_partitions = partitions;
    source = src;
out:
    free(topic);
    free(sink_name);
    free(filter_name);
    free(source_name);
    return source;
}

/* ---- handles ---- */

void *dsl_handle_new(eddy_builder_t *b, dsl_handle_kind_t kind, size_t size)
{
    dsl_handle_t *h = calloc(1, size);
    if (!h) {
        dsl_fail_nomem(b);
        return NULL;
    }
    h->h_builder = b;
    h->h_kind = kind;
    h->h_next = b->b_handles;
    b->b_handles = h;
    return h;
}

eddy_kstream_t *dsl_dead_stream(eddy_builder_t *b)
{
    return b ? &b->b_dead_stream : NULL;
}

eddy_ktable_t *dsl_dead_table(eddy_builder_t *b)
{
    return b ? &b->b_dead_table : NULL;
}

eddy_kstream_t *dsl_stream_new(eddy_builder_t *b, dsl_node_t *n, int key_changed)
{
    if (!n)
        return dsl_dead_stream(b);
    eddy_kstream_t *s = dsl_handle_new(b, DSL_H_STREAM, sizeof *s);
    if (!s)
        return dsl_dead_stream(b);
    s->ks_node = n;
    s->ks_key_changed = key_changed;
    return s;
}

eddy_ktable_t *dsl_table_new(eddy_builder_t *b, dsl_node_t *n)
{
    if (!n)
        return dsl_dead_table(b);
    eddy_ktable_t *t = dsl_handle_new(b, DSL_H_TABLE, sizeof *t);
    if (!t)
        return dsl_dead_table(b);
    t->kt_node = n;
    return t;
}

/* The builder to add to after h (a stream, table, ... handle), or NULL
 * when nothing is to be added: h is NULL (the misuse is charged to this
 * thread's builder), dead, or its builder failed already. */
eddy_builder_t *dsl_use(const dsl_handle_t *h, const dsl_node_t *node, const char *fn,
                        const char *what)
{
    if (!h) {
        dsl_fail(dsl_current, -EINVAL, "%s: the %s is NULL", fn, what);
        return NULL;
    }
    eddy_builder_t *b = h->h_builder;
    dsl_current = b;
    if (b->b_err || !node)
        return NULL;
    return b;
}

/* The builder of h, or this thread's when h is NULL: where a dead result
 * comes from. */
eddy_builder_t *dsl_owner(const dsl_handle_t *h)
{
    return h ? h->h_builder : dsl_current;
}

/* A function argument the call needs (what NULL: the call takes none). */
int dsl_need(eddy_builder_t *b, const void *fnptr, const char *fn, const dsl_node_t *after,
             const char *what)
{
    if (!what || fnptr)
        return 0;
    dsl_fail(b, -EINVAL, "%s (after %s): the %s is NULL", fn, after->dn_name, what);
    return -EINVAL;
}

/* ---- the builder ---- */

eddy_builder_t *eddy_builder_new(void)
{
    eddy_builder_t *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->b_dead_stream.ks_h = (dsl_handle_t){b, DSL_H_STREAM, NULL};
    b->b_dead_table.kt_h = (dsl_handle_t){b, DSL_H_TABLE, NULL};
    b->b_dead_gstream.kg_h = (dsl_handle_t){b, DSL_H_GROUPED_STREAM, NULL};
    b->b_dead_gtable.kgt_h = (dsl_handle_t){b, DSL_H_GROUPED_TABLE, NULL};
    b->b_dead_branched.br_h = (dsl_handle_t){b, DSL_H_BRANCHED, NULL};
    b->b_dead_wstream.kw_h = (dsl_handle_t){b, DSL_H_WINDOWED_STREAM, NULL};
    dsl_current = b;
    return b;
}

void eddy_builder_destroy(eddy_builder_t *b)
{
    if (!b)
        return;
    dsl_topology_t *t = &b->b_topo;
    dsl_topology_clear_derived(t);
    for (int i = 0; i < t->dt_nnodes; i++)
        node_free(t->dt_nodes[i]);
    free(t->dt_nodes);
    for (int i = 0; i < t->dt_nstores; i++)
        free(t->dt_stores[i].ds_name);
    free(t->dt_stores);
    for (int i = 0; i < t->dt_ninternal_topics; i++)
        free(t->dt_internal_topics[i].it_name);
    free(t->dt_internal_topics);
    for (dsl_handle_t *h = b->b_handles, *next; h; h = next) {
        next = h->h_next;
        free(h);
    }
    if (dsl_current == b)
        dsl_current = NULL;
    free(b);
}

static dsl_node_t *source_add(eddy_builder_t *b, const char *topic, const eddy_serde_t *ks,
                              const eddy_serde_t *vs)
{
    dsl_node_t *n = dsl_node_add(b, DSL_SOURCE, "KSTREAM-SOURCE-", dsl_next_index(b), NULL);
    if (!n || dsl_node_set_topic(b, n, topic))
        return NULL;
    n->dn_key_serde = ks;
    n->dn_value_serde = vs;
    return n;
}

eddy_kstream_t *eddy_builder_stream(eddy_builder_t *b, const char *topic,
                                    const eddy_serde_t *key_serde, const eddy_serde_t *value_serde)
{
    static const char fn[] = "eddy_builder_stream";
    if (!b)
        return NULL;
    dsl_current = b;
    if (b->b_err || check_source_topic(b, topic, fn))
        return dsl_dead_stream(b);
    return dsl_stream_new(b, source_add(b, topic, key_serde, value_serde), 0);
}

eddy_ktable_t *eddy_builder_table(eddy_builder_t *b, const char *topic,
                                  const eddy_serde_t *key_serde, const eddy_serde_t *value_serde,
                                  const char *store)
{
    static const char fn[] = "eddy_builder_table";
    if (!b)
        return NULL;
    dsl_current = b;
    if (b->b_err || check_source_topic(b, topic, fn) || dsl_check_store_name(b, store, fn))
        return dsl_dead_table(b);
    /* Kafka names the store first: "<topic>-STATE-STORE-0000000000". */
    int si;
    if (store)
        si = dsl_store_add(b, store, fn);
    else {
        char *prefix = dsl_str_printf("%s-", topic);
        if (!prefix) {
            dsl_fail_nomem(b);
            return dsl_dead_table(b);
        }
        si = dsl_store_add_generated(b, prefix, dsl_next_index(b), fn);
        free(prefix);
    }
    if (si < 0)
        return dsl_dead_table(b);
    dsl_node_t *src = source_add(b, topic, key_serde, value_serde);
    if (!src)
        return dsl_dead_table(b);
    dsl_node_t *n = dsl_child_add(b, src, DSL_TABLE_SOURCE, "KTABLE-SOURCE-");
    if (!n)
        return dsl_dead_table(b);
    n->dn_store = si;
    return dsl_table_new(b, n);
}

/* ---- naming ---- */

static void rename_node(eddy_builder_t *b, dsl_node_t *n, const char *name, const char *fn)
{
    char why[160];
    if (!name) {
        dsl_fail(b, -EINVAL, "%s (%s): the name is NULL", fn, n->dn_name);
        return;
    }
    if (!strcmp(n->dn_name, name))
        return;
    if (dsl_name_check(name, why, sizeof why)) {
        dsl_fail(b, -EINVAL, "%s (%s): name \"%s\" is not valid: %s", fn, n->dn_name, name, why);
        return;
    }
    if (node_by_name(b, name)) {
        dsl_fail(b, -EINVAL, "%s (%s): name \"%s\" is already used by another processor", fn,
                 n->dn_name, name);
        return;
    }
    char *nm = strdup(name);
    if (!nm) {
        dsl_fail_nomem(b);
        return;
    }
    free(n->dn_name);
    n->dn_name = nm;
    b->b_finished = 0;
}

eddy_kstream_t *eddy_stream_name(eddy_kstream_t *s, const char *name)
{
    eddy_builder_t *b = S_USE(s, "eddy_stream_name");
    if (b)
        rename_node(b, s->ks_node, name, "eddy_stream_name");
    return s ? s : dsl_dead_stream(S_OWNER(s));
}

eddy_ktable_t *eddy_table_name(eddy_ktable_t *t, const char *name)
{
    eddy_builder_t *b = T_USE(t, "eddy_table_name");
    if (b)
        rename_node(b, t->kt_node, name, "eddy_table_name");
    return t ? t : dsl_dead_table(T_OWNER(t));
}

/* ---- time ---- */

eddy_kstream_t *eddy_builder_stream_timestamped(eddy_builder_t *b, const char *topic,
                                                const eddy_serde_t *key_serde,
                                                const eddy_serde_t *value_serde,
                                                eddy_timestamp_extractor_fn *extractor,
                                                void *opaque)
{
    static const char fn[] = "eddy_builder_stream_timestamped";
    if (!b)
        return NULL;
    dsl_current = b;
    if (b->b_err || check_source_topic(b, topic, fn))
        return dsl_dead_stream(b);
    if (!extractor) {
        dsl_fail(b, -EINVAL, "%s (topic %s): the timestamp extractor is NULL", fn, topic);
        return dsl_dead_stream(b);
    }
    dsl_node_t *n = source_add(b, topic, key_serde, value_serde);
    if (n) {
        n->dn_ts_extractor = extractor;
        n->dn_ts_opaque = opaque;
    }
    return dsl_stream_new(b, n, 0);
}

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

static void fail_nomem(eddy_builder_t *b)
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

static char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *str_printf(const char *fmt, ...)
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

static int next_index(eddy_builder_t *b)
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
static dsl_node_t *node_add(eddy_builder_t *b, dsl_kind_t kind, const char *prefix, int index,
                            const char *name)
{
    dsl_topology_t *t = &b->b_topo;
    if (grow((void **)&t->dt_nodes, &b->b_nodes_cap, t->dt_nnodes + 1, sizeof *t->dt_nodes)) {
        fail_nomem(b);
        return NULL;
    }
    dsl_pnode_t *pn = calloc(1, sizeof *pn);
    char *nm = name ? strdup(name) : str_printf("%s%010d", prefix, index);
    if (!pn || !nm) {
        free(pn);
        free(nm);
        fail_nomem(b);
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
static int node_link(eddy_builder_t *b, dsl_node_t *parent, dsl_node_t *child)
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
    fail_nomem(b);
    return -ENOMEM;
}

/* A node with a generated name, child of parent. */
static dsl_node_t *child_add(eddy_builder_t *b, dsl_node_t *parent, dsl_kind_t kind,
                             const char *prefix)
{
    dsl_node_t *n = node_add(b, kind, prefix, next_index(b), NULL);
    if (!n || node_link(b, parent, n))
        return NULL;
    return n;
}

static int node_set_topic(eddy_builder_t *b, dsl_node_t *n, const char *topic)
{
    n->dn_topics = calloc(1, sizeof *n->dn_topics);
    if (n->dn_topics)
        n->dn_topics[0] = strdup(topic);
    if (!n->dn_topics || !n->dn_topics[0]) {
        fail_nomem(b);
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
static int store_add(eddy_builder_t *b, const char *name, const char *fn)
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
        fail_nomem(b);
        return -1;
    }
    char *nm = strdup(name);
    if (!nm) {
        fail_nomem(b);
        return -1;
    }
    t->dt_stores[t->dt_nstores] = (dsl_store_t){nm, -1, 1, DSL_STORE_KV, 0, 0, 1};
    b->b_finished = 0;
    return t->dt_nstores++;
}

/* A generated store name: prefix + "STATE-STORE-" + index. */
static int store_add_generated(eddy_builder_t *b, const char *prefix, int index, const char *fn)
{
    char *nm = str_printf("%sSTATE-STORE-%010d", prefix, index);
    if (!nm) {
        fail_nomem(b);
        return -1;
    }
    int si = store_add(b, nm, fn);
    free(nm);
    return si;
}

/* A user's store name is checked before anything is added. */
static int check_store_name(eddy_builder_t *b, const char *store, const char *fn)
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

static int check_topic(eddy_builder_t *b, const char *topic, const char *fn)
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
    if (check_topic(b, topic, fn))
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
        fail_nomem(b);
        return -ENOMEM;
    }
    char *nm = strdup(topic);
    if (!nm) {
        fail_nomem(b);
        return -ENOMEM;
    }
    t->dt_internal_topics[t->dt_ninternal_topics++] = (dsl_internal_topic_t){nm, partitions, -1,
                                                                             -1};
    return 0;
}

/* ---- repartitioning ---- */

enum repartition_mode {
    /* A stream's (KStreamImpl.createRepartitionedSource): sink, filter and
     * source numbers taken in that order; a pass-through filter before the
     * sink; names derived from the topic unless the prefix is generated. */
    RP_STREAM,
    /* A grouped table's (KGroupedTableImpl): sink and source numbers, no
     * filter, generated names. */
    RP_TABLE,
};

/* Adds parent -> [filter ->] sink("<prefix>-repartition") and the source
 * reading it back; returns the source (a new sub-topology starts there), or
 * NULL (error recorded). */
static dsl_node_t *repartition_add(eddy_builder_t *b, dsl_node_t *parent, const char *prefix,
                                   int32_t partitions, enum repartition_mode mode, const char *fn)
{
    size_t plen = strlen(prefix), slen = strlen(REPARTITION_SUFFIX);
    char *topic = plen >= slen && !strcmp(prefix + plen - slen, REPARTITION_SUFFIX)
                      ? strdup(prefix)
                      : str_printf("%s%s", prefix, REPARTITION_SUFFIX);
    char *sink_name = NULL, *filter_name = NULL, *source_name = NULL;
    dsl_node_t *source = NULL;
    if (!topic) {
        fail_nomem(b);
        return NULL;
    }
    if (internal_topic_add(b, topic, partitions, fn))
        goto out;
    int sink_index = next_index(b);
    int filter_index = mode == RP_STREAM ? next_index(b) : -1;
    int source_index = next_index(b);
    if (mode == RP_STREAM && !generated_prefix(prefix)) {
        sink_name = str_printf("%s-sink", topic);
        filter_name = str_printf("%s-filter", topic);
        source_name = str_printf("%s-source", topic);
        if (!sink_name || !filter_name || !source_name) {
            fail_nomem(b);
            goto out;
        }
    }
    dsl_node_t *up = parent;
    if (mode == RP_STREAM) {
        dsl_node_t *filter = node_add(b, DSL_FILTER, "KSTREAM-FILTER-", filter_index, filter_name);
        if (!filter || node_link(b, parent, filter))
            goto out;
        filter->dn_pred = dsl_pred_always;
        up = filter;
    }
    dsl_node_t *sink = node_add(b, DSL_SINK, "KSTREAM-SINK-", sink_index, sink_name);
    if (!sink || node_link(b, up, sink) || node_set_topic(b, sink, topic))
        goto out;
    sink->dn_internal = 1;
    sink->dn_repartition_partitions = partitions;
    dsl_node_t *src = node_add(b, DSL_SOURCE, "KSTREAM-SOURCE-", source_index, source_name);
    if (!src || node_set_topic(b, src, topic))
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

static void *handle_new(eddy_builder_t *b, dsl_handle_kind_t kind, size_t size)
{
    dsl_handle_t *h = calloc(1, size);
    if (!h) {
        fail_nomem(b);
        return NULL;
    }
    h->h_builder = b;
    h->h_kind = kind;
    h->h_next = b->b_handles;
    b->b_handles = h;
    return h;
}

static eddy_kstream_t *dead_stream(eddy_builder_t *b)
{
    return b ? &b->b_dead_stream : NULL;
}

static eddy_ktable_t *dead_table(eddy_builder_t *b)
{
    return b ? &b->b_dead_table : NULL;
}

static eddy_kstream_t *stream_new(eddy_builder_t *b, dsl_node_t *n, int key_changed)
{
    if (!n)
        return dead_stream(b);
    eddy_kstream_t *s = handle_new(b, DSL_H_STREAM, sizeof *s);
    if (!s)
        return dead_stream(b);
    s->ks_node = n;
    s->ks_key_changed = key_changed;
    return s;
}

static eddy_ktable_t *table_new(eddy_builder_t *b, dsl_node_t *n)
{
    if (!n)
        return dead_table(b);
    eddy_ktable_t *t = handle_new(b, DSL_H_TABLE, sizeof *t);
    if (!t)
        return dead_table(b);
    t->kt_node = n;
    return t;
}

/* The builder to add to after h (a stream, table, ... handle), or NULL
 * when nothing is to be added: h is NULL (the misuse is charged to this
 * thread's builder), dead, or its builder failed already. */
static eddy_builder_t *use(const dsl_handle_t *h, const dsl_node_t *node, const char *fn,
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
static eddy_builder_t *owner(const dsl_handle_t *h)
{
    return h ? h->h_builder : dsl_current;
}

#define S_USE(s, fn) use((s) ? &(s)->ks_h : NULL, (s) ? (s)->ks_node : NULL, fn, "stream")
#define S_OWNER(s) owner((s) ? &(s)->ks_h : NULL)
#define T_USE(t, fn) use((t) ? &(t)->kt_h : NULL, (t) ? (t)->kt_node : NULL, fn, "table")
#define T_OWNER(t) owner((t) ? &(t)->kt_h : NULL)

/* A function argument the call needs (what NULL: the call takes none). */
static int need(eddy_builder_t *b, const void *fnptr, const char *fn, const dsl_node_t *after,
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
    dsl_node_t *n = node_add(b, DSL_SOURCE, "KSTREAM-SOURCE-", next_index(b), NULL);
    if (!n || node_set_topic(b, n, topic))
        return NULL;
    n->dn_key_serde = ks;
    n->dn_value_serde = vs;
    return n;
}

eddy_kstream_t *eddy_builder_stream(eddy_builder_t *b, const char *topic,
                                    const eddy_serde_t *key_serde,
                                    const eddy_serde_t *value_serde)
{
    static const char fn[] = "eddy_builder_stream";
    if (!b)
        return NULL;
    dsl_current = b;
    if (b->b_err || check_source_topic(b, topic, fn))
        return dead_stream(b);
    return stream_new(b, source_add(b, topic, key_serde, value_serde), 0);
}

eddy_ktable_t *eddy_builder_table(eddy_builder_t *b, const char *topic,
                                  const eddy_serde_t *key_serde, const eddy_serde_t *value_serde,
                                  const char *store)
{
    static const char fn[] = "eddy_builder_table";
    if (!b)
        return NULL;
    dsl_current = b;
    if (b->b_err || check_source_topic(b, topic, fn) || check_store_name(b, store, fn))
        return dead_table(b);
    /* Kafka names the store first: "<topic>-STATE-STORE-0000000000". */
    int si;
    if (store)
        si = store_add(b, store, fn);
    else {
        char *prefix = str_printf("%s-", topic);
        if (!prefix) {
            fail_nomem(b);
            return dead_table(b);
        }
        si = store_add_generated(b, prefix, next_index(b), fn);
        free(prefix);
    }
    if (si < 0)
        return dead_table(b);
    dsl_node_t *src = source_add(b, topic, key_serde, value_serde);
    if (!src)
        return dead_table(b);
    dsl_node_t *n = child_add(b, src, DSL_TABLE_SOURCE, "KTABLE-SOURCE-");
    if (!n)
        return dead_table(b);
    n->dn_store = si;
    return table_new(b, n);
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
        fail_nomem(b);
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
    return s ? s : dead_stream(S_OWNER(s));
}

eddy_ktable_t *eddy_table_name(eddy_ktable_t *t, const char *name)
{
    eddy_builder_t *b = T_USE(t, "eddy_table_name");
    if (b)
        rename_node(b, t->kt_node, name, "eddy_table_name");
    return t ? t : dead_table(T_OWNER(t));
}

/* ---- KStream ---- */

/* A stream -> stream node: returns the new node or NULL (*bp set to the
 * builder that should hand out a dead stream). */
static dsl_node_t *stream_step(eddy_kstream_t *s, dsl_kind_t kind, const char *prefix,
                               const void *fnptr, const char *what, const char *fn,
                               eddy_builder_t **bp)
{
    eddy_builder_t *b = S_USE(s, fn);
    *bp = S_OWNER(s);
    if (!b || need(b, fnptr, fn, s->ks_node, what))
        return NULL;
    return child_add(b, s->ks_node, kind, prefix);
}

static eddy_kstream_t *filter(eddy_kstream_t *s, eddy_predicate_fn *pred, void *opaque,
                              int negate, const char *fn)
{
    eddy_builder_t *b;
    dsl_node_t *n = stream_step(s, DSL_FILTER, "KSTREAM-FILTER-", pred, "predicate", fn, &b);
    if (!n)
        return dead_stream(b);
    n->dn_pred = pred;
    n->dn_negate = negate;
    n->dn_opaque = opaque;
    return stream_new(b, n, s->ks_key_changed);
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
    dsl_node_t *n = stream_step(s, kind, prefix, fnp, "mapper", fn, &b);
    if (!n)
        return dead_stream(b);
    n->dn_mapper = fnp;
    n->dn_opaque = opaque;
    return stream_new(b, n, key_changes < 0 ? s->ks_key_changed : key_changes);
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

eddy_kstream_t *eddy_stream_flat_map_values(eddy_kstream_t *s, eddy_mapper_fn *fn,
                                            void *opaque)
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
    dsl_node_t *n = stream_step(s, DSL_PEEK, "KSTREAM-PEEK-", (const void *)fnp, "action",
                                "eddy_stream_peek", &b);
    if (!n)
        return dead_stream(b);
    n->dn_action = fnp;
    n->dn_opaque = opaque;
    return stream_new(b, n, s->ks_key_changed);
}

void eddy_stream_foreach(eddy_kstream_t *s, eddy_action_fn *fnp, void *opaque)
{
    eddy_builder_t *b;
    dsl_node_t *n = stream_step(s, DSL_FOREACH, "KSTREAM-FOREACH-", (const void *)fnp, "action",
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
    dsl_node_t *n = stream_step(s, DSL_BRANCH, "KSTREAM-BRANCH-", NULL, NULL, "eddy_stream_split",
                                &b);
    if (!n)
        return b ? &b->b_dead_branched : NULL;
    eddy_branched_t *br = handle_new(b, DSL_H_BRANCHED, sizeof *br);
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
    eddy_builder_t *b = use(br ? &br->br_h : NULL, br ? br->br_node : NULL, fn, "split stream");
    eddy_builder_t *ob = owner(br ? &br->br_h : NULL);
    if (!b)
        return dead_stream(ob);
    dsl_node_t *split = br->br_node;
    if (br->br_has_default) {
        dsl_fail(b, -EINVAL, "%s (after %s): the split already has its default branch, which "
                 "comes last", fn, split->dn_name);
        return dead_stream(b);
    }
    if (!pred)
        br->br_has_default = 1;
    int nb = split->dn_nchildren;
    eddy_predicate_fn **preds =
        realloc(split->dn_branch_preds, (size_t)(nb + 1) * sizeof *preds);
    if (preds)
        split->dn_branch_preds = preds;
    void **opaques = realloc(split->dn_branch_opaques, (size_t)(nb + 1) * sizeof *opaques);
    if (opaques)
        split->dn_branch_opaques = opaques;
    char *name = str_printf("%s%d", split->dn_name, pred ? nb + 1 : 0);
    if (!preds || !opaques || !name) {
        free(name);
        fail_nomem(b);
        return dead_stream(b);
    }
    preds[nb] = pred;
    opaques[nb] = opaque;
    dsl_node_t *n = node_add(b, DSL_MERGE, "KSTREAM-BRANCH-", next_index(b), name);
    free(name);
    if (!n || node_link(b, split, n))
        return dead_stream(b);
    return stream_new(b, n, br->br_key_changed);
}

eddy_kstream_t *eddy_branch(eddy_branched_t *br, eddy_predicate_fn *pred, void *opaque)
{
    if (!pred) {
        eddy_builder_t *b = use(br ? &br->br_h : NULL, br ? br->br_node : NULL, "eddy_branch",
                                "split stream");
        if (b)
            dsl_fail(b, -EINVAL, "eddy_branch (after %s): the predicate is NULL (the default "
                     "branch is eddy_branch_default)", br->br_node->dn_name);
        return dead_stream(owner(br ? &br->br_h : NULL));
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
        return dead_stream(S_OWNER(a));
    if (!o) {
        dsl_fail(b, -EINVAL, "%s (after %s): the second stream is NULL", fn, a->ks_node->dn_name);
        return dead_stream(b);
    }
    if (o->ks_h.h_builder != b) {
        dsl_fail(b, -EINVAL, "%s (after %s): the second stream belongs to another builder", fn,
                 a->ks_node->dn_name);
        return dead_stream(b);
    }
    if (!o->ks_node)
        return dead_stream(b);
    dsl_node_t *n = child_add(b, a->ks_node, DSL_MERGE, "KSTREAM-MERGE-");
    if (!n || node_link(b, o->ks_node, n))
        return dead_stream(b);
    return stream_new(b, n, a->ks_key_changed || o->ks_key_changed);
}

/* ---- sinks and repartitions ---- */

static void sink(eddy_kstream_t *s, const char *topic, const eddy_serde_t *ks,
                 const eddy_serde_t *vs, eddy_partitioner_fn *partitioner, void *opaque,
                 int want_partitioner, const char *fn)
{
    eddy_builder_t *b = S_USE(s, fn);
    if (!b || check_topic(b, topic, fn))
        return;
    if (want_partitioner && need(b, (const void *)partitioner, fn, s->ks_node, "partitioner"))
        return;
    dsl_node_t *n = child_add(b, s->ks_node, DSL_SINK, "KSTREAM-SINK-");
    if (!n || node_set_topic(b, n, topic))
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

void eddy_stream_to_partitioned(eddy_kstream_t *s, const char *topic,
                                const eddy_serde_t *key_serde, const eddy_serde_t *value_serde,
                                eddy_partitioner_fn *partitioner, void *opaque)
{
    sink(s, topic, key_serde, value_serde, partitioner, opaque, 1, "eddy_stream_to_partitioned");
}

eddy_kstream_t *eddy_stream_repartition(eddy_kstream_t *s, const char *name, int32_t partitions)
{
    static const char fn[] = "eddy_stream_repartition";
    char why[160];
    eddy_builder_t *b = S_USE(s, fn);
    if (!b)
        return dead_stream(S_OWNER(s));
    if (partitions < 0) {
        dsl_fail(b, -EINVAL, "%s (after %s): partitions is %d; give a positive count, or 0 for "
                 "as many as the inputs have", fn, s->ks_node->dn_name, (int)partitions);
        return dead_stream(b);
    }
    if (name && dsl_name_check(name, why, sizeof why)) {
        dsl_fail(b, -EINVAL, "%s (after %s): name \"%s\" is not valid: %s", fn,
                 s->ks_node->dn_name, name, why);
        return dead_stream(b);
    }
    char *gen = name ? NULL : str_printf("KSTREAM-REPARTITION-%010d", next_index(b));
    if (!name && !gen) {
        fail_nomem(b);
        return dead_stream(b);
    }
    dsl_node_t *src = repartition_add(b, s->ks_node, name ? name : gen, partitions, RP_STREAM, fn);
    free(gen);
    return stream_new(b, src, 0);
}

/* ---- grouping and stream aggregations ---- */

static eddy_kgrouped_stream_t *gstream_new(eddy_builder_t *b, dsl_node_t *n, int repartition)
{
    eddy_kgrouped_stream_t *g = handle_new(b, DSL_H_GROUPED_STREAM, sizeof *g);
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

eddy_kgrouped_stream_t *eddy_stream_group_by(eddy_kstream_t *s, eddy_mapper_fn *fnp,
                                             void *opaque)
{
    eddy_builder_t *b;
    dsl_node_t *n = stream_step(s, DSL_SELECT_KEY, "KSTREAM-KEY-SELECT-", fnp, "key mapper",
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
static eddy_ktable_t *gstream_aggregate_windowed(eddy_kgrouped_stream_t *g, dsl_agg_kind_t kind,
                                                 eddy_initializer_fn *init,
                                                 eddy_aggregator_fn *adder,
                                                 eddy_aggregator_fn *merger, void *opaque,
                                                 const char *store, const eddy_windows_t *w,
                                                 const char *fn);

static eddy_ktable_t *gstream_aggregate(eddy_kgrouped_stream_t *g, dsl_agg_kind_t kind,
                                        eddy_initializer_fn *init, eddy_aggregator_fn *adder,
                                        void *opaque, const char *store, const char *fn)
{
    return gstream_aggregate_windowed(g, kind, init, adder, NULL, opaque, store, NULL, fn);
}

/* w NULL: a key-value aggregation; else windowed (Kafka numbers and names
 * them the same way). */
static eddy_ktable_t *gstream_aggregate_windowed(eddy_kgrouped_stream_t *g, dsl_agg_kind_t kind,
                                                 eddy_initializer_fn *init,
                                                 eddy_aggregator_fn *adder,
                                                 eddy_aggregator_fn *merger, void *opaque,
                                                 const char *store, const eddy_windows_t *w,
                                                 const char *fn)
{
    eddy_builder_t *b =
        use(g ? &g->kg_h : NULL, g ? g->kg_node : NULL, fn, "grouped stream");
    if (!b)
        return dead_table(owner(g ? &g->kg_h : NULL));
    g->kg_used = 1;
    if ((kind != DSL_AGG_COUNT &&
         need(b, (const void *)adder, fn, g->kg_node,
              kind == DSL_AGG_REDUCE ? "reducer" : "aggregator")) ||
        (kind == DSL_AGG_AGGREGATE && need(b, (const void *)init, fn, g->kg_node, "initializer")))
        return dead_table(b);
    if (check_store_name(b, store, fn))
        return dead_table(b);
    const char *prefix = kind == DSL_AGG_REDUCE ? "KSTREAM-REDUCE-" : "KSTREAM-AGGREGATE-";
    int si = store ? store_add(b, store, fn) : store_add_generated(b, prefix, next_index(b), fn);
    if (si < 0)
        return dead_table(b);
    int agg_index = next_index(b);
    dsl_node_t *up = g->kg_node;
    if (g->kg_repartition) {
        up = repartition_add(b, up, b->b_topo.dt_stores[si].ds_name, 0, RP_STREAM, fn);
        if (!up)
            return dead_table(b);
    }
    dsl_kind_t nk = !w ? DSL_STREAM_AGGREGATE
                       : w->w_kind == EDDY_WINDOWS_SESSION ? DSL_SESSION_AGGREGATE
                                                           : DSL_WINDOW_AGGREGATE;
    dsl_node_t *n = node_add(b, nk, prefix, agg_index, NULL);
    if (!n || node_link(b, up, n))
        return dead_table(b);
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
            char *rn = str_printf("%s-records", ds->ds_name);
            if (!rn) {
                fail_nomem(b);
                return dead_table(b);
            }
            int ri = store_add(b, rn, fn);
            free(rn);
            if (ri < 0)
                return dead_table(b);
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
    return table_new(b, n);
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
    if (!b || need(b, fnptr, fn, t->kt_node, what))
        return NULL;
    return child_add(b, t->kt_node, kind, prefix);
}

static eddy_ktable_t *table_filter(eddy_ktable_t *t, eddy_predicate_fn *pred, void *opaque,
                                   int negate, const char *fn)
{
    eddy_builder_t *b;
    dsl_node_t *n = table_step(t, DSL_TABLE_FILTER, "KTABLE-FILTER-", pred, "predicate", fn, &b);
    if (!n)
        return dead_table(b);
    n->dn_pred = pred;
    n->dn_negate = negate;
    n->dn_opaque = opaque;
    return table_new(b, n);
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
        return dead_table(b);
    n->dn_mapper = fnp;
    n->dn_opaque = opaque;
    return table_new(b, n);
}

eddy_kstream_t *eddy_table_to_stream(eddy_ktable_t *t)
{
    eddy_builder_t *b;
    dsl_node_t *n =
        table_step(t, DSL_TABLE_TO_STREAM, "KTABLE-TOSTREAM-", NULL, NULL, "eddy_table_to_stream", &b);
    return n ? stream_new(b, n, 0) : dead_stream(b);
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
    eddy_kgrouped_table_t *g = handle_new(b, DSL_H_GROUPED_TABLE, sizeof *g);
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
    eddy_builder_t *b =
        use(g ? &g->kgt_h : NULL, g ? g->kgt_node : NULL, fn, "grouped table");
    if (!b)
        return dead_table(owner(g ? &g->kgt_h : NULL));
    g->kgt_used = 1;
    if (kind != DSL_AGG_COUNT &&
        (need(b, (const void *)adder, fn, g->kgt_node, "adder") ||
         need(b, (const void *)subtractor, fn, g->kgt_node, "subtractor")))
        return dead_table(b);
    if (kind == DSL_AGG_AGGREGATE && need(b, (const void *)init, fn, g->kgt_node, "initializer"))
        return dead_table(b);
    if (check_store_name(b, store, fn))
        return dead_table(b);
    const char *prefix = kind == DSL_AGG_REDUCE ? "KTABLE-REDUCE-" : "KTABLE-AGGREGATE-";
    int si = store ? store_add(b, store, fn) : store_add_generated(b, prefix, next_index(b), fn);
    if (si < 0)
        return dead_table(b);
    dsl_node_t *src =
        repartition_add(b, g->kgt_node, b->b_topo.dt_stores[si].ds_name, 0, RP_TABLE, fn);
    if (!src)
        return dead_table(b);
    dsl_node_t *n = child_add(b, src, DSL_TABLE_AGGREGATE, prefix);
    if (!n)
        return dead_table(b);
    n->dn_store = si;
    n->dn_agg_kind = kind;
    n->dn_init = init;
    n->dn_adder = adder;
    n->dn_subtractor = subtractor;
    n->dn_opaque = opaque;
    return table_new(b, n);
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
    int si = store_add_generated(b, pn->pn_prefix, pn->pn_index, fn);
    if (si >= 0) {
        n->dn_store = si;
        b->b_finished = 0;
    }
    return si;
}

/* The other side of a join: a live table of builder b. */
static int join_other(eddy_builder_t *b, eddy_ktable_t *t, const dsl_node_t *after,
                      const char *fn)
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
                                         eddy_joiner_fn *joiner, void *opaque,
                                         dsl_join_kind_t kind, const char *fn)
{
    eddy_builder_t *b = S_USE(s, fn);
    if (!b)
        return dead_stream(S_OWNER(s));
    if (join_other(b, t, s->ks_node, fn) || need(b, (const void *)joiner, fn, s->ks_node,
                                                  "joiner"))
        return dead_stream(b);
    int ts = table_materialize(b, t->kt_node, fn);
    if (ts < 0)
        return dead_stream(b);
    /* A key-changed stream is repartitioned first, through
     * "<stream's node name>-repartition"; joined again, it reuses that
     * topic but still takes the numbers (KStreamImpl.repartitionForJoin). */
    dsl_node_t *up = s->ks_node;
    if (s->ks_key_changed) {
        if (s->ks_join_source) {
            b->b_index += 3;
            up = s->ks_join_source;
        } else {
            up = repartition_add(b, s->ks_node, s->ks_node->dn_name, 0, RP_STREAM, fn);
            if (!up)
                return dead_stream(b);
            s->ks_join_source = up;
        }
    }
    dsl_node_t *n = child_add(b, up, DSL_STREAM_TABLE_JOIN,
                              kind == DSL_JOIN_LEFT ? "KSTREAM-LEFTJOIN-" : "KSTREAM-JOIN-");
    if (!n)
        return dead_stream(b);
    n->dn_other_store = ts;
    n->dn_join_kind = kind;
    n->dn_joiner = joiner;
    n->dn_opaque = opaque;
    return stream_new(b, n, 0);
}

eddy_kstream_t *eddy_stream_join_table(eddy_kstream_t *s, eddy_ktable_t *t,
                                       eddy_joiner_fn *joiner, void *opaque)
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
static eddy_ktable_t *table_table_join(eddy_ktable_t *a, eddy_ktable_t *o,
                                       eddy_joiner_fn *joiner, void *opaque, const char *store,
                                       dsl_join_kind_t kind, const char *fn)
{
    eddy_builder_t *b = T_USE(a, fn);
    if (!b)
        return dead_table(T_OWNER(a));
    if (join_other(b, o, a->kt_node, fn) || need(b, (const void *)joiner, fn, a->kt_node,
                                                  "joiner") ||
        check_store_name(b, store, fn))
        return dead_table(b);
    int sa = table_materialize(b, a->kt_node, fn);
    int so = sa < 0 ? -1 : table_materialize(b, o->kt_node, fn);
    int sm = so < 0 ? -1 : store ? store_add(b, store, fn) : -2;
    if (sa < 0 || so < 0 || sm == -1)
        return dead_table(b);
    int merge_index = next_index(b);
    dsl_node_t *jt = node_add(b, DSL_TABLE_JOIN_SIDE, "KTABLE-JOINTHIS-", next_index(b), NULL);
    if (!jt || node_link(b, a->kt_node, jt))
        return dead_table(b);
    dsl_node_t *jo = node_add(b, DSL_TABLE_JOIN_SIDE, "KTABLE-JOINOTHER-", next_index(b), NULL);
    if (!jo || node_link(b, o->kt_node, jo))
        return dead_table(b);
    dsl_node_t *m = node_add(b, DSL_TABLE_JOIN_MERGE, "KTABLE-MERGE-", merge_index, NULL);
    if (!m || node_link(b, jt, m) || node_link(b, jo, m))
        return dead_table(b);
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
    return table_new(b, m);
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
        return dead_stream(b);
    if (!extractor) {
        dsl_fail(b, -EINVAL, "%s (topic %s): the timestamp extractor is NULL", fn, topic);
        return dead_stream(b);
    }
    dsl_node_t *n = source_add(b, topic, key_serde, value_serde);
    if (n) {
        n->dn_ts_extractor = extractor;
        n->dn_ts_opaque = opaque;
    }
    return stream_new(b, n, 0);
}

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
    default:
        why = "unknown window kind";
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
    eddy_builder_t *b = use(g ? &g->kg_h : NULL, g ? g->kg_node : NULL, fn, "grouped stream");
    if (!b) {
        b = owner(g ? &g->kg_h : NULL);
        return b ? &b->b_dead_wstream : NULL;
    }
    if (windows_check(b, &w, fn, g->kg_node))
        return &b->b_dead_wstream;
    eddy_kwindowed_stream_t *ws = handle_new(b, DSL_H_WINDOWED_STREAM, sizeof *ws);
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
    eddy_builder_t *b = use(w ? &w->kw_h : NULL, w ? (void *)w->kw_grouped : NULL, fn,
                            "windowed stream");
    if (!b)
        return dead_table(owner(w ? &w->kw_h : NULL));
    if (w->kw_windows.w_kind == EDDY_WINDOWS_SESSION && kind == DSL_AGG_AGGREGATE &&
        need(b, (const void *)merger, fn, w->kw_grouped->kg_node, "session merger"))
        return dead_table(b);
    return gstream_aggregate_windowed(w->kw_grouped, kind, init, adder, merger, opaque, store,
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
    return windowed_aggregate(w, DSL_AGG_AGGREGATE, init, aggregator, session_merger, opaque,
                              store, "eddy_windowed_aggregate");
}

eddy_ktable_t *eddy_table_suppress_until_window_closes(eddy_ktable_t *t)
{
    static const char fn[] = "eddy_table_suppress_until_window_closes";
    eddy_builder_t *b = T_USE(t, fn);
    if (!b)
        return dead_table(T_OWNER(t));
    dsl_node_t *agg = t->kt_node;
    if (agg->dn_kind != DSL_WINDOW_AGGREGATE && agg->dn_kind != DSL_SESSION_AGGREGATE) {
        dsl_fail(b, -EINVAL,
                 "%s (after %s): the table is not a windowed aggregation's: suppress it right "
                 "after eddy_windowed_count/reduce/aggregate",
                 fn, agg->dn_name);
        return dead_table(b);
    }
    if (agg->dn_emit_final) {
        dsl_fail(b, -EINVAL, "%s (after %s): the aggregation is suppressed already", fn,
                 agg->dn_name);
        return dead_table(b);
    }
    dsl_node_t *n = child_add(b, agg, DSL_TABLE_SUPPRESS, "KTABLE-SUPPRESS-");
    if (!n)
        return dead_table(b);
    /* Kafka also numbers the suppression buffer's store; Eddy needs none
     * (the aggregation's window store holds the results), but takes the
     * number so that later names stay Kafka's. */
    next_index(b);
    agg->dn_emit_final = 1;
    return table_new(b, n);
}

/* ---- windowed stream-stream joins ---- */

/* A join side's window store, "<generated join name>-store" as Kafka names
 * it, retaining duplicates. */
static int join_store_add(eddy_builder_t *b, const char *node_name, const char *suffix,
                          int64_t retention, int dups, const char *fn)
{
    char *nm = str_printf("%s%s", node_name, suffix);
    if (!nm) {
        fail_nomem(b);
        return -1;
    }
    int si = store_add(b, nm, fn);
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
        return dead_stream(S_OWNER(l));
    if (!r || r->ks_h.h_builder != b) {
        dsl_fail(b, -EINVAL, "%s (after %s): the other stream is %s", fn, l->ks_node->dn_name,
                 r ? "of another builder" : "NULL");
        return dead_stream(b);
    }
    if (!r->ks_node || need(b, (const void *)joiner, fn, l->ks_node, "joiner"))
        return dead_stream(b);
    if (w.jw_before < 0 || w.jw_after < 0 || w.jw_grace < 0 || w.jw_before + w.jw_after < 0) {
        dsl_fail(b, -EINVAL, "%s (after %s): join window bounds and grace must be >= 0", fn,
                 l->ks_node->dn_name);
        return dead_stream(b);
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
            up[i] = repartition_add(b, s->ks_node, s->ks_node->dn_name, 0, RP_STREAM, fn);
            if (!up[i])
                return dead_stream(b);
            s->ks_join_source = up[i];
        }
    }
    int right_outer = kind == DSL_JOIN_OUTER, left_outer = kind != DSL_JOIN_INNER;
    /* KStreamImplJoin's order: the two windowed nodes, this and other
     * side, then the merge. */
    int win_index[2] = {next_index(b), next_index(b)};
    int this_index = next_index(b), other_index = next_index(b);
    int merge_index = next_index(b);
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
        return dead_stream(b);
    int st_shared = -1;
    if (left_outer) {
        char shared[64];
        snprintf(shared, sizeof shared, "KSTREAM-OUTERSHARED-%010d", this_index);
        st_shared = join_store_add(b, shared, "-store", retention, 0, fn);
        if (st_shared < 0)
            return dead_stream(b);
        b->b_topo.dt_stores[st_shared].ds_kind = DSL_STORE_KV;
    }
    dsl_node_t *win[2], *join[2];
    for (int i = 0; i < 2; i++) {
        win[i] = node_add(b, DSL_STREAM_JOIN_WINDOW, "KSTREAM-WINDOWED-", win_index[i], NULL);
        if (!win[i] || node_link(b, up[i], win[i]))
            return dead_stream(b);
        win[i]->dn_store = i == 0 ? st_this : st_other;
    }
    join[0] = node_add(b, DSL_STREAM_JOIN_SIDE, this_prefix, this_index, NULL);
    join[1] = join[0] ? node_add(b, DSL_STREAM_JOIN_SIDE, other_prefix, other_index, NULL) : NULL;
    dsl_node_t *m = join[1] ? node_add(b, DSL_MERGE, "KSTREAM-MERGE-", merge_index, NULL) : NULL;
    if (!m)
        return dead_stream(b);
    for (int i = 0; i < 2; i++) {
        if (node_link(b, win[i], join[i]) || node_link(b, join[i], m))
            return dead_stream(b);
        join[i]->dn_left_side = i == 0;
        join[i]->dn_store = -1;
        join[i]->dn_other_store = i == 0 ? st_other : st_this;
        join[i]->dn_aux_store = st_shared;
        join[i]->dn_join_kind = kind;
        join[i]->dn_joiner = joiner;
        join[i]->dn_opaque = opaque;
        join[i]->dn_join_windows = w;
    }
    return stream_new(b, m, 0);
}

eddy_kstream_t *eddy_stream_join(eddy_kstream_t *left, eddy_kstream_t *right,
                                 eddy_joiner_fn *joiner, void *opaque, eddy_join_windows_t w)
{
    return stream_stream_join(left, right, joiner, opaque, w, DSL_JOIN_INNER, "eddy_stream_join");
}

eddy_kstream_t *eddy_stream_left_join(eddy_kstream_t *left, eddy_kstream_t *right,
                                      eddy_joiner_fn *joiner, void *opaque,
                                      eddy_join_windows_t w)
{
    return stream_stream_join(left, right, joiner, opaque, w, DSL_JOIN_LEFT,
                              "eddy_stream_left_join");
}

eddy_kstream_t *eddy_stream_outer_join(eddy_kstream_t *left, eddy_kstream_t *right,
                                       eddy_joiner_fn *joiner, void *opaque,
                                       eddy_join_windows_t w)
{
    return stream_stream_join(left, right, joiner, opaque, w, DSL_JOIN_OUTER,
                              "eddy_stream_outer_join");
}

/* ---- processors ---- */

eddy_kstream_t *eddy_stream_process(eddy_kstream_t *s, const eddy_processor_t *p, void *opaque)
{
    eddy_builder_t *b;
    dsl_node_t *n = stream_step(s, DSL_PROCESS, "KSTREAM-PROCESSOR-",
                                p ? (const void *)p->p_process : NULL, "processor's p_process",
                                "eddy_stream_process", &b);
    if (!n)
        return dead_stream(b);
    n->dn_processor = *p;
    n->dn_opaque = opaque;
    return stream_new(b, n, 1);
}

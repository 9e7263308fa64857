/* Private to dsl/: the builder and the handles the DSL hands out.
 *
 * The builder owns everything: the topology it grows (dsl/topology.h), the
 * handles (streams, tables, grouped streams and tables, split streams) and
 * the error it remembers. A handle names the node whose output it stands
 * for; a handle with no node is "dead": calls return it after the builder
 * failed, so that a user's expression runs to its end while nothing more is
 * added.
 */
#ifndef EDDY_DSL_INT_H
#define EDDY_DSL_INT_H

#include <stddef.h>

#include "dsl/topology.h"

/* Every handle starts with this header; the builder frees them all. */
typedef enum dsl_handle_kind {
    DSL_H_STREAM,
    DSL_H_TABLE,
    DSL_H_GROUPED_STREAM,
    DSL_H_GROUPED_TABLE,
    DSL_H_BRANCHED,
    DSL_H_WINDOWED_STREAM,
} dsl_handle_kind_t;

typedef struct dsl_handle dsl_handle_t;
struct dsl_handle {
    eddy_builder_t *h_builder;
    dsl_handle_kind_t h_kind;
    dsl_handle_t *h_next; /* the builder's list */
};

struct eddy_kstream {
    dsl_handle_t ks_h;
    dsl_node_t *ks_node; /* NULL: dead */
    /* The key may have changed since the last partitioning (map, flat_map,
     * select_key upstream): grouping and joining repartition first. */
    int ks_key_changed;
    /* A key-changed stream joined more than once goes through one
     * repartition topic: its source, once made. */
    dsl_node_t *ks_join_source;
};

struct eddy_ktable {
    dsl_handle_t kt_h;
    dsl_node_t *kt_node; /* NULL: dead; its dn_store holds the table, if any */
};

struct eddy_kgrouped_stream {
    dsl_handle_t kg_h;
    dsl_node_t *kg_node; /* the records to group: NULL: dead */
    int kg_repartition;  /* aggregations go through a repartition topic */
    int kg_used;         /* aggregated at least once */
};

struct eddy_kgrouped_table {
    dsl_handle_t kgt_h;
    dsl_node_t *kgt_node; /* the DSL_TABLE_GROUP_BY node; NULL: dead */
    int kgt_used;
};

struct eddy_kwindowed_stream {
    dsl_handle_t kw_h;
    eddy_kgrouped_stream_t *kw_grouped; /* NULL: dead */
    eddy_windows_t kw_windows;
};

struct eddy_branched {
    dsl_handle_t br_h;
    dsl_node_t *br_node; /* the DSL_BRANCH node; NULL: dead */
    int br_key_changed;
    int br_has_default;
};

/* A node with what the DSL alone needs: the generated name's parts, so that
 * a store generated later for the node can carry the node's number even
 * after the user renamed it. */
typedef struct dsl_pnode {
    dsl_node_t pn_node; /* first: dsl_node_t * and dsl_pnode_t * convert */
    const char *pn_prefix; /* static: "KTABLE-FILTER-" */
    int pn_index;          /* Kafka's counter value in the generated name */
} dsl_pnode_t;

struct eddy_builder {
    dsl_topology_t b_topo; /* nodes and stores grow as calls add them */
    int b_nodes_cap, b_stores_cap, b_itopics_cap;
    /* Kafka Streams' name counter, shared by nodes and generated stores:
     * the 10 digits of "KSTREAM-FILTER-0000000002". */
    int b_index;
    /* The first misuse: 0 or a negative error, with its sentence. */
    int b_err;
    char b_errstr[512];
    /* b_topo's sub-topologies, internal topics and co-partition groups are
     * current (no node was added since they were computed). */
    int b_finished;
    dsl_handle_t *b_handles;
    /* Returned when nothing can be added (allocated with the builder, so
     * they exist even when memory ran out). */
    struct eddy_kstream b_dead_stream;
    struct eddy_ktable b_dead_table;
    struct eddy_kgrouped_stream b_dead_gstream;
    struct eddy_kgrouped_table b_dead_gtable;
    struct eddy_branched b_dead_branched;
    struct eddy_kwindowed_stream b_dead_wstream;
};

/* ---- builder.c: the builder's core, shared by the DSL's files (kstream.c,
 * ktable.c, windowed.c, joins.c): names and numbers, nodes and edges,
 * stores and topics, repartitions, handles and their checks; and the two
 * steps other files reuse (marked with their file). ---- */

enum repartition_mode {
    /* A stream's (KStreamImpl.createRepartitionedSource): sink, filter and
     * source numbers taken in that order; a pass-through filter before the
     * sink; names derived from the topic unless the prefix is generated. */
    RP_STREAM,
    /* A grouped table's (KGroupedTableImpl): sink and source numbers, no
     * filter, generated names. */
    RP_TABLE,
};

#define S_USE(s, fn) dsl_use((s) ? &(s)->ks_h : NULL, (s) ? (s)->ks_node : NULL, fn, "stream")
#define S_OWNER(s) dsl_owner((s) ? &(s)->ks_h : NULL)
#define T_USE(t, fn) dsl_use((t) ? &(t)->kt_h : NULL, (t) ? (t)->kt_node : NULL, fn, "table")
#define T_OWNER(t) dsl_owner((t) ? &(t)->kt_h : NULL)

/* A user's store name is checked before anything is added. */
int dsl_check_store_name(eddy_builder_t *b, const char *store, const char *fn);
int dsl_check_topic(eddy_builder_t *b, const char *topic, const char *fn);
/* A node with a generated name, child of parent. */
dsl_node_t *dsl_child_add(eddy_builder_t *b, dsl_node_t *parent, dsl_kind_t kind,
                          const char *prefix);
eddy_kstream_t *dsl_dead_stream(eddy_builder_t *b);
eddy_ktable_t *dsl_dead_table(eddy_builder_t *b);
void dsl_fail_nomem(eddy_builder_t *b);
/* ktable.c, for windowed.c too. w NULL: a key-value aggregation; else
 * windowed (Kafka numbers and names them the same way). */
eddy_ktable_t *dsl_gstream_aggregate_windowed(eddy_kgrouped_stream_t *g, dsl_agg_kind_t kind,
                                              eddy_initializer_fn *init, eddy_aggregator_fn *adder,
                                              eddy_aggregator_fn *merger, void *opaque,
                                              const char *store, const eddy_windows_t *w,
                                              const char *fn);
void *dsl_handle_new(eddy_builder_t *b, dsl_handle_kind_t kind, size_t size);
/* A function argument the call needs (what NULL: the call takes none). */
int dsl_need(eddy_builder_t *b, const void *fnptr, const char *fn, const dsl_node_t *after,
             const char *what);
int dsl_next_index(eddy_builder_t *b);
/* A node named prefix + index, or name when given (derived names). */
dsl_node_t *dsl_node_add(eddy_builder_t *b, dsl_kind_t kind, const char *prefix, int index,
                         const char *name);
/* An edge parent -> child, once: merging a stream with itself passes each
 * record once, as Kafka's graph (sets of parents and children) does. */
int dsl_node_link(eddy_builder_t *b, dsl_node_t *parent, dsl_node_t *child);
int dsl_node_set_topic(eddy_builder_t *b, dsl_node_t *n, const char *topic);
/* The builder of h, or this thread's when h is NULL: where a dead result
 * comes from. */
eddy_builder_t *dsl_owner(const dsl_handle_t *h);
/* Adds parent -> [filter ->] sink("<prefix>-repartition") and the source
 * reading it back; returns the source (a new sub-topology starts there), or
 * NULL (error recorded). */
dsl_node_t *dsl_repartition_add(eddy_builder_t *b, dsl_node_t *parent, const char *prefix,
                                int32_t partitions, enum repartition_mode mode, const char *fn);
/* A new logged store; its index, or -1 (error recorded). name was checked
 * by the caller if the user gave it. */
int dsl_store_add(eddy_builder_t *b, const char *name, const char *fn);
/* A generated store name: prefix + "STATE-STORE-" + index. */
int dsl_store_add_generated(eddy_builder_t *b, const char *prefix, int index, const char *fn);
char *dsl_str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
eddy_kstream_t *dsl_stream_new(eddy_builder_t *b, dsl_node_t *n, int key_changed);
/* kstream.c, for ktable.c too. A stream -> stream node: returns the new
 * node or NULL (*bp set to the builder that should hand out a dead
 * stream). */
dsl_node_t *dsl_stream_step(eddy_kstream_t *s, dsl_kind_t kind, const char *prefix,
                            const void *fnptr, const char *what, const char *fn,
                            eddy_builder_t **bp);
eddy_ktable_t *dsl_table_new(eddy_builder_t *b, dsl_node_t *n);
/* The builder to add to after h (a stream, table, ... handle), or NULL
 * when nothing is to be added: h is NULL (the misuse is charged to this
 * thread's builder), dead, or its builder failed already. */
eddy_builder_t *dsl_use(const dsl_handle_t *h, const dsl_node_t *node, const char *fn,
                        const char *what);

/* Remembers the first error of b (later ones are dropped). */
void dsl_fail(eddy_builder_t *b, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Frees what dsl_builder_finish computed (sub-topologies) and resets the
 * numbers it filled in (dn_subtopology, ds_subtopology, it_from/it_to). */
void dsl_topology_clear_derived(dsl_topology_t *t);

/* Kafka's rules for names of topics, processors and stores: 1 to 249 of
 * [a-zA-Z0-9._-], not "." or "..". 0, or -EINVAL with the reason in why. */
int dsl_name_check(const char *name, char *why, size_t why_size);

/* Appends printf output to an eddy_buf_t; 0 or -ENOMEM. */
int dsl_buf_printf(eddy_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The length (1-4) of the well-formed UTF-8 sequence at p (n bytes left),
 * or 0 when the bytes there are not one. */
size_t dsl_utf8_seq(const uint8_t *p, size_t n);

/* The bounded msgpack walker behind the msgpack serde and readers (see
 * msgpack.c). 0 when p holds exactly one complete msgpack object no deeper
 * than msgpack-c reads, else -EINVAL with a sentence in errstr. */
int dsl_mp_validate(const uint8_t *p, size_t len, char *errstr, size_t errstr_size);

#endif

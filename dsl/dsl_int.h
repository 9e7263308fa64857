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

/* The topology a builder (include/eddy.h) produces, as the runtime
 * (streams/) reads it: processor nodes in a DAG, the stores they use, and
 * the sub-topologies the DAG splits into at repartition topics.
 *
 * Shape. Every DSL call adds one node (a few add more: a stream repartition
 * adds a pass-through filter, a sink and a source, as Kafka does; a
 * grouped table's aggregation a sink, a source and the aggregation; a
 * table-table join one node per side and a merge; each branch of a split a
 * pass-through node). Nodes are numbered in creation order (dn_id), which
 * is also a topological order, and named as Kafka Streams names them
 * ("KSTREAM-FILTER-0000000002") unless the user named them. Records flow
 * parent -> child, depth first.
 *
 * Sub-topologies. Nodes joined by parent/child edges or by a shared store
 * form one sub-topology (an internal topic is the only link between two).
 * A task is (sub-topology, partition); sub-topologies are numbered in the
 * order of their first node, as Kafka numbers them.
 *
 * Internal topics carry names without the application id; the runtime
 * prefixes "<application.id>-" (dt_internal).
 *
 * Table updates. Nodes downstream of a KTable receive changes: the new
 * value and, where the table knows it, the old one (dr_old). Table
 * group_by sends each change over its repartition topic as up to two
 * records, the old value to subtract under its old key and the new value to
 * add under its new key; the value bytes are prefixed by one byte,
 * DSL_CHANGE_SUBTRACT or DSL_CHANGE_ADD, which the grouped table's
 * aggregate node reads.
 *
 * Stores. Every store is written by exactly one node (dn_store): a
 * DSL_TABLE_SOURCE, an aggregation, a DSL_TABLE_JOIN_MERGE given a store,
 * or a DSL_TABLE_FILTER / DSL_TABLE_MAP_VALUES / DSL_TABLE_JOIN_MERGE that
 * the DSL materialized because its table is joined (a join looks values up
 * in the other side's store, dn_other_store; such stores are named after
 * the node: "KTABLE-FILTER-STATE-STORE-0000000004"). A node with a store
 * writes each result into it (a null value deletes the key) and its
 * children get the changes from the store (old value from the store), like
 * an aggregation's. All stores are logged (ds_changelog).
 *
 * Windows. A windowed aggregation writes a window store (session windows: a
 * session store, state/window.h) whose keys are (key, window); it forwards
 * changes whose key is the windowed key in Kafka's windowed serde format
 * (key + 8-byte start; sessions: key + 8-byte end + 8-byte start). A window
 * closes when the task's stream time passes its end + grace; late records
 * are dropped and counted. With dn_emit_final (a DSL_TABLE_SUPPRESS child)
 * the aggregation forwards nothing on updates and emits each closed window
 * once. A stream-stream join is, per side, a DSL_STREAM_JOIN_WINDOW (buffer
 * the record) and a DSL_STREAM_JOIN_SIDE (look up the other buffer), both
 * sides feeding one DSL_MERGE.
 */
#ifndef EDDY_DSL_TOPOLOGY_H
#define EDDY_DSL_TOPOLOGY_H

#include <stdint.h>

#include "include/eddy.h"

#define DSL_CHANGE_SUBTRACT 0
#define DSL_CHANGE_ADD 1

typedef enum dsl_kind {
    /* KStream */
    DSL_SOURCE,          /* dn_topics (external or internal); serdes checked here */
    DSL_FILTER,          /* dn_pred; dn_negate for filter_not. Before a repartition sink
                            dn_pred is dsl_pred_always (Kafka's pass-through filter) */
    DSL_MAP,             /* dn_mapper; key may change: eddy_emit */
    DSL_MAP_VALUES,      /* dn_mapper; eddy_emit_value */
    DSL_FLAT_MAP,        /* dn_mapper; eddy_emit */
    DSL_FLAT_MAP_VALUES, /* dn_mapper; eddy_emit_value */
    DSL_SELECT_KEY,      /* dn_mapper; eddy_emit_key */
    DSL_PEEK,            /* dn_action; forwards the record */
    DSL_FOREACH,         /* dn_action; no children */
    DSL_BRANCH,          /* children[i] gets records matching dn_branch_preds[i] first
                            (NULL predicate: the default branch) */
    DSL_MERGE,           /* pass-through: a merge (several parents), or one branch of a
                            DSL_BRANCH (one parent: the split node) */
    DSL_SINK,            /* dn_topics[0]; serdes checked; dn_partitioner optional */
    /* Aggregations into dn_store (a grouped stream): count, reduce, aggregate */
    DSL_STREAM_AGGREGATE, /* dn_agg_kind; dn_init, dn_adder; forwards (key, new, old) */
    /* KTable */
    DSL_TABLE_SOURCE,     /* parent: a DSL_SOURCE; upserts into dn_store, forwards changes */
    DSL_TABLE_FILTER,     /* dn_pred, dn_negate: a change that fails becomes a delete;
                             writes dn_store when set (see Stores above) */
    DSL_TABLE_MAP_VALUES, /* dn_mapper on new and old values; writes dn_store when set */
    DSL_TABLE_TO_STREAM,  /* forwards new values only (deletes as null values) */
    DSL_TABLE_GROUP_BY,   /* dn_mapper (eddy_emit) on old and new: prefixed records, see above */
    DSL_TABLE_AGGREGATE,  /* dn_agg_kind; dn_init, dn_adder, dn_subtractor into dn_store */
    /* Joins */
    DSL_STREAM_TABLE_JOIN, /* looks up dn_other_store (the table's); dn_join_kind inner/left */
    DSL_TABLE_JOIN_SIDE,   /* one side of a table-table join: looks up dn_other_store,
                              dn_left_side says which side this is; both sides have the
                              same child, a DSL_TABLE_JOIN_MERGE */
    DSL_TABLE_JOIN_MERGE,  /* materializes into dn_store when set; forwards changes */
    /* Windows (see "Windows" above) */
    DSL_WINDOW_AGGREGATE,  /* time and sliding windows: dn_windows, dn_agg_kind, dn_init,
                              dn_adder into the window store dn_store (sliding: raw records
                              buffered in dn_aux_store); forwards windowed changes */
    DSL_SESSION_AGGREGATE, /* session windows into the session store dn_store; dn_merger */
    DSL_TABLE_SUPPRESS,    /* pass-through after a windowed aggregation whose dn_emit_final
                              it set: the aggregation emits each window once, closed */
    DSL_STREAM_JOIN_WINDOW, /* a stream-stream join's input: buffers the record in its
                               side's window store dn_store, forwards it */
    DSL_STREAM_JOIN_SIDE,   /* looks the record up in dn_other_store within dn_join_windows;
                               dn_left_side; left/outer: unmatched records wait in
                               dn_aux_store (shared by both sides) until their window closes */
    DSL_PROCESS,            /* a user processor (dn_processor); punctuators per task */
} dsl_kind_t;

typedef enum dsl_agg_kind { DSL_AGG_COUNT, DSL_AGG_REDUCE, DSL_AGG_AGGREGATE } dsl_agg_kind_t;
typedef enum dsl_join_kind { DSL_JOIN_INNER, DSL_JOIN_LEFT, DSL_JOIN_OUTER } dsl_join_kind_t;

typedef struct dsl_node dsl_node_t;

struct dsl_node {
    int dn_id;
    dsl_kind_t dn_kind;
    char *dn_name;
    int dn_subtopology; /* set by dsl_builder_finish */

    dsl_node_t **dn_parents;
    int dn_nparents;
    dsl_node_t **dn_children;
    int dn_nchildren;

    /* Sources and sinks. */
    char **dn_topics; /* a source may read several topics; a sink writes one */
    int dn_ntopics;
    int dn_internal;  /* the topic is internal: "<application.id>-" + name */
    int32_t dn_repartition_partitions; /* internal sink: 0 = as many as the inputs */
    /* As the user gave them: NULL when none was given (a source then uses
     * the configured default; a sink writes bytes unchecked). Internal
     * sources and sinks have none: their bytes were checked on the way in. */
    const eddy_serde_t *dn_key_serde, *dn_value_serde;
    eddy_partitioner_fn *dn_partitioner;

    /* User functions; dn_opaque goes to each. */
    eddy_predicate_fn *dn_pred;
    int dn_negate;
    eddy_mapper_fn *dn_mapper;
    eddy_action_fn *dn_action;
    eddy_initializer_fn *dn_init;
    eddy_aggregator_fn *dn_adder;      /* reducer, aggregator, table adder */
    eddy_aggregator_fn *dn_subtractor; /* table aggregations */
    eddy_joiner_fn *dn_joiner;
    void *dn_opaque;

    /* DSL_BRANCH: one predicate (and opaque) per child, NULL for the default. */
    eddy_predicate_fn **dn_branch_preds;
    void **dn_branch_opaques;

    dsl_agg_kind_t dn_agg_kind;
    dsl_join_kind_t dn_join_kind;
    int dn_left_side;   /* DSL_TABLE_JOIN_SIDE: 1 for the left table's side */
    int dn_store;       /* index into dt_stores, -1: none */
    int dn_other_store; /* joins: the other table's store, -1: none */
    int dn_aux_store;   /* sliding windows' records, outer joins' waiting records; -1 */

    /* Sources: a timestamp extractor (NULL: the record's timestamp). */
    eddy_timestamp_extractor_fn *dn_ts_extractor;
    void *dn_ts_opaque;
    /* Windowed aggregations and stream-stream joins. */
    eddy_windows_t dn_windows;
    eddy_join_windows_t dn_join_windows;
    eddy_aggregator_fn *dn_merger; /* session windows */
    int dn_emit_final;             /* suppressed: emit each window once, when closed */
    /* DSL_PROCESS */
    eddy_processor_t dn_processor;
};

typedef enum dsl_store_kind { DSL_STORE_KV, DSL_STORE_WINDOW, DSL_STORE_SESSION } dsl_store_kind_t;

typedef struct dsl_store {
    char *ds_name;
    int ds_subtopology;
    int ds_changelog; /* logged to "<application.id>-<name>-changelog" */
    dsl_store_kind_t ds_kind;
    /* Window and session stores: how long entries are kept behind stream
     * time (their changelog: cleanup.policy=compact,delete and retention.ms =
     * this + one day, as Kafka's), and whether a key and time may hold
     * several values (a join's buffer). */
    int64_t ds_retention_ms;
    int ds_retain_duplicates;
    /* Each value is kept with its timestamp (the runtime's timestamped
     * stores): every store but a join's buffers and a sliding window's
     * records, which keep records as they came. */
    int ds_timestamped;
} dsl_store_t;

/* An internal topic: written by a sink of one sub-topology, read by a
 * source of another. */
typedef struct dsl_internal_topic {
    char *it_name;       /* without the application id: "<name>-repartition" */
    int32_t it_partitions; /* 0: as many as the writing sub-topology's inputs */
    int it_from_subtopology;
    int it_to_subtopology;
} dsl_internal_topic_t;

typedef struct dsl_subtopology {
    int st_id;
    dsl_node_t **st_nodes; /* in dn_id order */
    int st_nnodes;
    dsl_node_t **st_sources;
    int st_nsources;
    int *st_stores; /* indexes into dt_stores */
    int st_nstores;
    /* Topics read here that must be co-partitioned with each other (the
     * sources that feed a join, on both sides): names as in dn_topics (the
     * nodes' strings), internal ones flagged. An internal topic here with
     * it_partitions 0 must get the partition count of the group's other
     * topics, as Kafka's CopartitionedTopicsEnforcer does. */
    char **st_copartitioned;
    int *st_copartitioned_internal;
    int st_ncopartitioned;
} dsl_subtopology_t;

typedef struct dsl_topology {
    dsl_node_t **dt_nodes;
    int dt_nnodes;
    dsl_store_t *dt_stores;
    int dt_nstores;
    dsl_subtopology_t *dt_subtopologies;
    int dt_nsubtopologies;
    dsl_internal_topic_t *dt_internal_topics;
    int dt_ninternal_topics;
} dsl_topology_t;

/* Checks the builder's recorded error and the graph (every sink reachable
 * from a source, names unique, grouped streams aggregated, ...), computes
 * sub-topologies and co-partition groups. Returns the topology (owned by
 * the builder, valid until eddy_builder_destroy; its sub-topologies until
 * the next builder call that adds to it) or NULL with a sentence in errstr.
 * Idempotent: nothing is recomputed while the graph is unchanged. */
const dsl_topology_t *dsl_builder_finish(eddy_builder_t *b, char *errstr, size_t errstr_size);

/* The predicate of the pass-through filter before repartition sinks: keeps
 * every record. */
int dsl_pred_always(const eddy_record_t *r, void *opaque);

/* The sub-topology reading topic (internal: the name without the
 * application id), or -1. */
int dsl_topology_subtopology_of(const dsl_topology_t *t, const char *topic, int internal);

#endif

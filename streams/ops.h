/* The operators of a task's sub-topology, by family, each in a file named
 * for it: ops_stream.c (KStream operators), ops_table.c (KTable
 * operators), beside windows.c (windowed aggregations), join.c (stream-
 * stream joins) and process.c (user processors). task.c's process_node()
 * picks the file by the node's kind; the operators use task.c's helpers
 * below to read and write the task's stores and to hand records on.
 */
#ifndef EDDY_STREAMS_OPS_H
#define EDDY_STREAMS_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "dsl/topology.h"
#include "include/eddy.h"

struct sx_task;
struct sx_rec;

/* ops_stream.c: source, merge, filter, the mappers, peek, foreach, branch,
 * sinks, stream aggregations and stream-table joins. */
int sx_ops_stream_process(struct sx_task *tk, const dsl_node_t *n, const struct sx_rec *r);
/* count / reduce / aggregate of r's value into n's store (stream
 * aggregations, and with subtract a grouped table's removal). */
int sx_ops_aggregate_into(struct sx_task *tk, const dsl_node_t *n, const struct sx_rec *r,
                          int subtract);
/* Runs n's mapper over (key, value) and captures its one result (a table
 * mapping yields one value per change). Returns 1 when it emitted, 0 when
 * it did not, or an error. */
int sx_capture(struct sx_task *tk, const dsl_node_t *n, eddy_bytes_t key, eddy_bytes_t value,
               int64_t ts, eddy_buf_t *kout, eddy_buf_t *vout, eddy_bytes_t *k, eddy_bytes_t *v);

/* ops_table.c: table sources, filter, map_values, to_stream, group_by,
 * a grouped table's aggregation, table-table joins, suppress. */
int sx_ops_table_process(struct sx_task *tk, const dsl_node_t *n, const struct sx_rec *r);

/* task.c, for the operators: */
/* One node: once a user function failed the record nothing more runs for
 * it. */
int sx_process(struct sx_task *tk, const dsl_node_t *n, const struct sx_rec *r);
/* The record a user function sees (the input record's topic, partition and
 * offset). */
eddy_record_t sx_user_record(const struct sx_task *tk, eddy_bytes_t key, eddy_bytes_t value,
                             int64_t ts);
/* A key-value store's value (borrowed until the next write) and, when ts
 * is not NULL, its timestamp (-1 when the store keeps none). */
int sx_task_store_get(struct sx_task *tk, int index, eddy_bytes_t key, eddy_bytes_t *value,
                      int64_t *ts);
/* Writes to the store with topology index `index` (a record a user function
 * failed writes nothing; a key or value the store refuses fails the
 * record). */
int sx_task_store_put(struct sx_task *tk, int index, eddy_bytes_t key, eddy_bytes_t value,
                      int64_t ts);
/* 1 when b is valid for sd (or there is nothing to check); else 0 with
 * "<what> is not <serde> (<reason>)" in errstr. */
int sx_serde_ok(const eddy_serde_t *sd, eddy_bytes_t b, const char *what, char *errstr,
                size_t errstr_size);

#endif

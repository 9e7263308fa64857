/* The timestamped-value format of the streams runtime, in one place: the
 * stores that write it (task.c, windows.c), restore (changelog_reader.c),
 * the changelog and forward hooks (task.c) and store queries (app.c) all
 * go through the functions below, so the layout is defined once.
 */
#ifndef EDDY_STREAMS_TSVALUE_H
#define EDDY_STREAMS_TSVALUE_H

#include <stdint.h>

#include "include/eddy.h"

/* Timestamped stores (dsl_store_t ds_timestamped: tables, aggregations,
 * windowed aggregations, as Kafka's TimestampedKeyValueStore and
 * TimestampedWindowStore) keep with each value the timestamp it carries
 * downstream (an aggregation's: the largest of its records'):
 *
 *   +----------------+-------------+
 *   | timestamp (8 BE) | value bytes |
 *   +----------------+-------------+
 *
 * Their changelog records carry the plain value with that timestamp as the
 * record's timestamp (Kafka's format); restore puts the prefix back. */
#define SX_TS_PREFIX 8
/* Where a value gets its timestamp put in front: on the caller's stack when
 * it fits (no allocation per record), else on the heap. */
typedef struct sx_tsbuf {
    uint8_t tb_small[256];
    eddy_buf_t tb_heap;
} sx_tsbuf_t;
/* value (not null) prefixed by ts, in b: 0 and *out (valid while b is),
 * or -ENOMEM. sx_tsbuf_free(b) when done. */
int sx_ts_value(sx_tsbuf_t *b, int64_t ts, eddy_bytes_t value, eddy_bytes_t *out);
void sx_tsbuf_free(sx_tsbuf_t *b);
/* A stored value's parts: 0, or -EINVAL for a null or short one. */
int sx_ts_split(eddy_bytes_t stored, int64_t *ts, eddy_bytes_t *value);
/* A stored value read into out (a store query's copy) without its
 * timestamp: 0, or -ENOENT when it is too short to be one. */
int sx_ts_strip(eddy_buf_t *out);

#endif

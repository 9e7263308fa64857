/* Eddy streams: the public API for stream-processing apps in C.
 *
 * A topology is built with the DSL (KStream, KTable, grouped streams and
 * tables), then run by an app on one or several instances; instances that
 * share an application.id split the work and take over from each other, as
 * Kafka Streams does (its documentation is the reference for semantics).
 *
 *   eddy_builder_t *b = eddy_builder_new();
 *   eddy_kstream_t *lines =
 *       eddy_builder_stream(b, "lines", eddy_serde_string(), eddy_serde_string());
 *   eddy_kstream_t *words = eddy_stream_flat_map(lines, split_words, NULL);
 *   eddy_ktable_t *counts = eddy_grouped_count(eddy_stream_group_by_key(words), "counts");
 *   eddy_stream_to(eddy_table_to_stream(counts), "word-counts", eddy_serde_string(),
 *                  eddy_serde_int64());
 *   eddy_app_t *app = eddy_app_new(b, config, errstr, sizeof errstr);
 *   return eddy_app_run(app);
 *
 * Data. Keys and values travel through a topology as bytes (eddy_bytes_t) in
 * the format of their serde: a string is its UTF-8 bytes, an int64 its 8
 * big-endian bytes (as Kafka's LongSerializer writes them), a msgpack value
 * its msgpack bytes. Serdes check bytes where they enter (sources: a failure
 * goes to the deserialization error handler) and leave (sinks); helpers
 * below read and write the typed formats. User functions get borrowed views
 * valid for the call only, and hand results back through an emitter or an
 * output buffer, which copy.
 *
 * Errors. Functions returning int give 0 or a negative error code
 * (eddy_strerror() says what it means). Builder calls never fail on their
 * own: the first misuse is remembered and eddy_app_new() reports it, so a
 * topology reads as one expression. Builder objects are owned by the
 * builder; the app takes the builder over.
 *
 * Threads. User functions run on the stream thread that owns the task of the
 * record; with num.stream.threads > 1 they may run on several threads at
 * once (opaque state they share needs its own locking). Store queries
 * (eddy_app_store_get/range) may come from any thread.
 */
#ifndef EDDY_H
#define EDDY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- bytes, records, buffers ---- */

/* A borrowed byte range; len -1 is null (a null key, a tombstone value). */
typedef struct eddy_bytes {
    const void *data;
    int32_t len;
} eddy_bytes_t;

#define EDDY_NULL_BYTES ((eddy_bytes_t){NULL, -1})
static inline eddy_bytes_t eddy_bytes(const void *data, size_t len)
{
    return (eddy_bytes_t){data, (int32_t)len};
}
static inline int eddy_bytes_is_null(eddy_bytes_t b)
{
    return b.len < 0;
}

/* A record as a user function sees it. topic/partition/offset name the input
 * record it came from (topic NULL, offset -1 for records a store emitted). */
typedef struct eddy_record {
    eddy_bytes_t key;
    eddy_bytes_t value;
    int64_t timestamp; /* ms since the epoch */
    const char *topic;
    int32_t partition;
    int64_t offset;
} eddy_record_t;

/* A growable output buffer a user function writes a result into. The
 * runtime owns it; the function may replace or append its bytes. */
typedef struct eddy_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} eddy_buf_t;

int eddy_buf_set(eddy_buf_t *b, const void *data, size_t len);
int eddy_buf_append(eddy_buf_t *b, const void *data, size_t len);
/* The buffer's content as bytes (borrowed). */
static inline eddy_bytes_t eddy_buf_bytes(const eddy_buf_t *b)
{
    return (eddy_bytes_t){b->data, (int32_t)b->len};
}
void eddy_buf_free(eddy_buf_t *b);

/* Where map-like functions put their results; each call forwards one record
 * downstream at once (depth first, as Kafka Streams' forward()), so the
 * bytes need only live for the call. */
typedef struct eddy_emitter eddy_emitter_t;
/* A record with a new key and value (map, flat_map, table group_by). */
void eddy_emit(eddy_emitter_t *e, eddy_bytes_t key, eddy_bytes_t value);
/* The input's key with a new value (map_values, flat_map_values). */
void eddy_emit_value(eddy_emitter_t *e, eddy_bytes_t value);
/* A new key with the input's value (select_key, stream group_by). */
void eddy_emit_key(eddy_emitter_t *e, eddy_bytes_t key);

/* ---- typed helpers for the built-in formats ---- */

/* 8-byte / 4-byte big-endian integers and IEEE-754 doubles, as Kafka's
 * LongSerializer, IntegerSerializer and DoubleSerializer write them. The
 * readers return 0 and fill *out, or -EINVAL when the length is wrong. */
void eddy_int64_write(uint8_t out[8], int64_t v);
int eddy_int64_read(eddy_bytes_t b, int64_t *out);
void eddy_int32_write(uint8_t out[4], int32_t v);
int eddy_int32_read(eddy_bytes_t b, int32_t *out);
void eddy_double_write(uint8_t out[8], double v);
int eddy_double_read(eddy_bytes_t b, double *out);

/* msgpack maps with string keys, for aggregate and join values: build one
 * into a buffer field by field, read single fields back. */
int eddy_mp_map_begin(eddy_buf_t *b, uint32_t nfields); /* resets b */
int eddy_mp_put_int64(eddy_buf_t *b, const char *field, int64_t v);
int eddy_mp_put_double(eddy_buf_t *b, const char *field, double v);
int eddy_mp_put_str(eddy_buf_t *b, const char *field, const char *s, size_t len);
/* 0 and *out when the map has the field with a number (ints read as doubles
 * and doubles with no fraction as ints); -ENOENT when it has not; -EINVAL
 * when b is not a msgpack map. */
int eddy_mp_get_int64(eddy_bytes_t b, const char *field, int64_t *out);
int eddy_mp_get_double(eddy_bytes_t b, const char *field, double *out);
/* A string field: *s borrows b. */
int eddy_mp_get_str(eddy_bytes_t b, const char *field, const char **s, size_t *len);
/* Writes b as JSON text into out (for printing; the CLI's msgpack format). */
int eddy_mp_to_json(eddy_bytes_t b, eddy_buf_t *out);

/* ---- serdes ---- */

/* A serde names a byte format and checks bytes against it. Custom serdes
 * fill the struct themselves (check may be NULL: anything goes); it must
 * outlive the builder. */
typedef struct eddy_serde {
    const char *sd_name;
    /* 0 when b is valid in this format (null is always valid), else a
     * negative error with a sentence in errstr. */
    int (*sd_check)(eddy_bytes_t b, char *errstr, size_t errstr_size);
} eddy_serde_t;

const eddy_serde_t *eddy_serde_bytes(void);
const eddy_serde_t *eddy_serde_string(void); /* valid UTF-8 */
const eddy_serde_t *eddy_serde_int32(void);  /* exactly 4 bytes */
const eddy_serde_t *eddy_serde_int64(void);  /* exactly 8 bytes */
const eddy_serde_t *eddy_serde_double(void); /* exactly 8 bytes */
const eddy_serde_t *eddy_serde_msgpack(void); /* exactly one msgpack object */

/* ---- user functions ---- */

/* Keep the record (nonzero) or drop it (0): filter, filter_not, branch. */
typedef int(eddy_predicate_fn)(const eddy_record_t *r, void *opaque);
/* Emit the records that replace r (eddy_emit*): map, flat_map, map_values,
 * flat_map_values, select_key, group_by. map-like calls should emit one
 * record; none drops r, several are all forwarded. */
typedef void(eddy_mapper_fn)(const eddy_record_t *r, eddy_emitter_t *out, void *opaque);
/* Look at a record: peek, foreach. */
typedef void(eddy_action_fn)(const eddy_record_t *r, void *opaque);
/* The first aggregate of a key: aggregate. */
typedef void(eddy_initializer_fn)(eddy_buf_t *agg, void *opaque);
/* The next aggregate from the current one and a value: reduce (agg is the
 * current reduced value), aggregate, and a table's adder/subtractor. out
 * starts empty. */
typedef void(eddy_aggregator_fn)(eddy_bytes_t key, eddy_bytes_t value, eddy_bytes_t agg,
                                 eddy_buf_t *out, void *opaque);
/* The joined value of left and right (right is null for a left join without
 * a match, left is null for an outer join's right-only side). */
typedef void(eddy_joiner_fn)(eddy_bytes_t key, eddy_bytes_t left, eddy_bytes_t right,
                             eddy_buf_t *out, void *opaque);
/* The partition (0..npartitions-1) of a record written to a topic with
 * npartitions; called for every record, once the topic's partition count
 * is known. Anything else stops the app with a message naming the sink. */
typedef int32_t(eddy_partitioner_fn)(const char *topic, eddy_bytes_t key, eddy_bytes_t value,
                                     int32_t npartitions, void *opaque);

/* A user function fails the record it was given (Kafka's exception thrown
 * from a processor): from any user function above, from a processor's
 * p_process or a punctuator, called on the stream thread. The function
 * should return at once: records it forwarded before stay forwarded, what
 * it emits after is dropped, and an aggregate or joined value it writes is
 * not stored. processing.exception.handler then decides: log-and-fail (the
 * default) stops the app with a message naming the operator (its name, as
 * eddy_stream_name sets it) and the record's topic, partition and offset;
 * log-and-continue skips the record (counted in records_skipped) and, when
 * errors.dead.letter.queue.topic.name is set, sends it there (docs/streams.md,
 * "Error handlers"). The message is a printf format. Returns 0, or
 * -EINVAL when not called from a user function. */
int eddy_fail_record(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* ---- the DSL ---- */

typedef struct eddy_builder eddy_builder_t;
typedef struct eddy_kstream eddy_kstream_t;
typedef struct eddy_ktable eddy_ktable_t;
typedef struct eddy_kgrouped_stream eddy_kgrouped_stream_t;
typedef struct eddy_kgrouped_table eddy_kgrouped_table_t;
typedef struct eddy_branched eddy_branched_t;

eddy_builder_t *eddy_builder_new(void);
/* Frees a builder no app took over. */
void eddy_builder_destroy(eddy_builder_t *b);

/* A stream of the records of a topic (an input: it must exist). */
eddy_kstream_t *eddy_builder_stream(eddy_builder_t *b, const char *topic,
                                    const eddy_serde_t *key_serde, const eddy_serde_t *value_serde);
/* A table of the latest value per key of a topic, materialized in store
 * (NULL: a generated name). */
eddy_ktable_t *eddy_builder_table(eddy_builder_t *b, const char *topic,
                                  const eddy_serde_t *key_serde, const eddy_serde_t *value_serde,
                                  const char *store);

/* Names the processor that produced s (Kafka's Named.as); names appear in
 * eddy_builder_describe() and must be unique. Returns s. */
eddy_kstream_t *eddy_stream_name(eddy_kstream_t *s, const char *name);
eddy_ktable_t *eddy_table_name(eddy_ktable_t *t, const char *name);

/* KStream */
eddy_kstream_t *eddy_stream_filter(eddy_kstream_t *s, eddy_predicate_fn *pred, void *opaque);
eddy_kstream_t *eddy_stream_filter_not(eddy_kstream_t *s, eddy_predicate_fn *pred, void *opaque);
eddy_kstream_t *eddy_stream_map(eddy_kstream_t *s, eddy_mapper_fn *fn, void *opaque);
eddy_kstream_t *eddy_stream_map_values(eddy_kstream_t *s, eddy_mapper_fn *fn, void *opaque);
eddy_kstream_t *eddy_stream_flat_map(eddy_kstream_t *s, eddy_mapper_fn *fn, void *opaque);
eddy_kstream_t *eddy_stream_flat_map_values(eddy_kstream_t *s, eddy_mapper_fn *fn, void *opaque);
eddy_kstream_t *eddy_stream_select_key(eddy_kstream_t *s, eddy_mapper_fn *fn, void *opaque);
eddy_kstream_t *eddy_stream_peek(eddy_kstream_t *s, eddy_action_fn *fn, void *opaque);
void eddy_stream_foreach(eddy_kstream_t *s, eddy_action_fn *fn, void *opaque);
/* split: each record goes to the first branch whose predicate holds, else
 * to the default branch (if one was asked for), else nowhere. */
eddy_branched_t *eddy_stream_split(eddy_kstream_t *s);
eddy_kstream_t *eddy_branch(eddy_branched_t *br, eddy_predicate_fn *pred, void *opaque);
eddy_kstream_t *eddy_branch_default(eddy_branched_t *br);
eddy_kstream_t *eddy_stream_merge(eddy_kstream_t *a, eddy_kstream_t *b);
/* Writes to a topic (an output: created by the user, or by the broker's
 * auto-creation). NULL serdes: bytes. */
void eddy_stream_to(eddy_kstream_t *s, const char *topic, const eddy_serde_t *key_serde,
                    const eddy_serde_t *value_serde);
void eddy_stream_to_partitioned(eddy_kstream_t *s, const char *topic, const eddy_serde_t *key_serde,
                                const eddy_serde_t *value_serde, eddy_partitioner_fn *partitioner,
                                void *opaque);
/* Through the internal topic <application.id>-<name>-repartition, so that
 * records are partitioned by their current key. partitions 0: as many as
 * the upstream inputs have. */
eddy_kstream_t *eddy_stream_repartition(eddy_kstream_t *s, const char *name, int32_t partitions);
/* Groups by the current key; after a key change (map, flat_map,
 * select_key) the records go through a repartition topic first. */
eddy_kgrouped_stream_t *eddy_stream_group_by_key(eddy_kstream_t *s);
/* Groups by the key fn emits (eddy_emit_key); always repartitions. */
eddy_kgrouped_stream_t *eddy_stream_group_by(eddy_kstream_t *s, eddy_mapper_fn *fn, void *opaque);

/* Grouped stream -> KTable in store (NULL: a generated name). count's values
 * are int64 (8 bytes big-endian). A null key or value is skipped, as Kafka. */
eddy_ktable_t *eddy_grouped_count(eddy_kgrouped_stream_t *g, const char *store);
eddy_ktable_t *eddy_grouped_reduce(eddy_kgrouped_stream_t *g, eddy_aggregator_fn *reducer,
                                   void *opaque, const char *store);
eddy_ktable_t *eddy_grouped_aggregate(eddy_kgrouped_stream_t *g, eddy_initializer_fn *init,
                                      eddy_aggregator_fn *aggregator, void *opaque,
                                      const char *store);

/* KTable */
eddy_ktable_t *eddy_table_filter(eddy_ktable_t *t, eddy_predicate_fn *pred, void *opaque);
eddy_ktable_t *eddy_table_filter_not(eddy_ktable_t *t, eddy_predicate_fn *pred, void *opaque);
eddy_ktable_t *eddy_table_map_values(eddy_ktable_t *t, eddy_mapper_fn *fn, void *opaque);
eddy_kstream_t *eddy_table_to_stream(eddy_ktable_t *t);
/* Re-keys the table with fn (eddy_emit: new key and value), through a
 * repartition topic; the grouped table's aggregations add the new value and
 * subtract the old one. */
eddy_kgrouped_table_t *eddy_table_group_by(eddy_ktable_t *t, eddy_mapper_fn *fn, void *opaque);
eddy_ktable_t *eddy_grouped_table_count(eddy_kgrouped_table_t *g, const char *store);
eddy_ktable_t *eddy_grouped_table_reduce(eddy_kgrouped_table_t *g, eddy_aggregator_fn *adder,
                                         eddy_aggregator_fn *subtractor, void *opaque,
                                         const char *store);
eddy_ktable_t *eddy_grouped_table_aggregate(eddy_kgrouped_table_t *g, eddy_initializer_fn *init,
                                            eddy_aggregator_fn *adder,
                                            eddy_aggregator_fn *subtractor, void *opaque,
                                            const char *store);

/* Joins. The inputs must be co-partitioned (same partition count; checked
 * at start). KStream-KTable: each stream record looks up the table's current
 * value for its key; inner drops records without one, left joins them with
 * null. */
eddy_kstream_t *eddy_stream_join_table(eddy_kstream_t *s, eddy_ktable_t *t, eddy_joiner_fn *joiner,
                                       void *opaque);
eddy_kstream_t *eddy_stream_left_join_table(eddy_kstream_t *s, eddy_ktable_t *t,
                                            eddy_joiner_fn *joiner, void *opaque);
/* KTable-KTable: an update on either side recomputes the key's joined
 * value (store: NULL to leave the result unmaterialized). */
eddy_ktable_t *eddy_table_join(eddy_ktable_t *a, eddy_ktable_t *b, eddy_joiner_fn *joiner,
                               void *opaque, const char *store);
eddy_ktable_t *eddy_table_left_join(eddy_ktable_t *a, eddy_ktable_t *b, eddy_joiner_fn *joiner,
                                    void *opaque, const char *store);
eddy_ktable_t *eddy_table_outer_join(eddy_ktable_t *a, eddy_ktable_t *b, eddy_joiner_fn *joiner,
                                     void *opaque, const char *store);

/* ---- time ---- */

/* Every record has a timestamp: the record's own (CreateTime or
 * LogAppendTime, as the topic says), or what an extractor returns. A task's
 * stream time is the largest timestamp it has seen; windows close and
 * punctuators on stream time fire by it. A record whose timestamp is
 * negative is skipped with a log line and counted in records_skipped. */
/* The timestamp of r (r->timestamp is the record's own); partition_time:
 * the largest timestamp seen so far in the record's task, -1 before the
 * first. */
typedef int64_t(eddy_timestamp_extractor_fn)(const eddy_record_t *r, int64_t partition_time,
                                             void *opaque);
/* A stream of topic whose timestamps come from extractor (Kafka's
 * Consumed.withTimestampExtractor). */
eddy_kstream_t *eddy_builder_stream_timestamped(eddy_builder_t *b, const char *topic,
                                                const eddy_serde_t *key_serde,
                                                const eddy_serde_t *value_serde,
                                                eddy_timestamp_extractor_fn *extractor,
                                                void *opaque);

/* ---- windows ---- */

typedef enum eddy_window_kind {
    EDDY_WINDOWS_TIME,    /* tumbling (advance == size) and hopping */
    EDDY_WINDOWS_SLIDING, /* windows [t - difference, t] defined by the records */
    EDDY_WINDOWS_SESSION, /* per key, records closer than the gap; merge when bridged */
} eddy_window_kind_t;

/* A window definition, as Kafka's TimeWindows, SlidingWindows and
 * SessionWindows. Times are in milliseconds. A window [start, end) (time
 * windows; sliding and session windows include their end) closes when stream
 * time passes end + grace; records for a closed window are dropped and
 * counted (records_late_dropped), never silently. */
typedef struct eddy_windows {
    eddy_window_kind_t w_kind;
    int64_t w_size;    /* time: window size; sliding: the time difference */
    int64_t w_advance; /* time: the hop (== w_size for tumbling) */
    int64_t w_gap;     /* session: the inactivity gap */
    int64_t w_grace;
} eddy_windows_t;

static inline eddy_windows_t eddy_windows_tumbling(int64_t size_ms, int64_t grace_ms)
{
    return (eddy_windows_t){EDDY_WINDOWS_TIME, size_ms, size_ms, 0, grace_ms};
}
static inline eddy_windows_t eddy_windows_hopping(int64_t size_ms, int64_t advance_ms,
                                                  int64_t grace_ms)
{
    return (eddy_windows_t){EDDY_WINDOWS_TIME, size_ms, advance_ms, 0, grace_ms};
}
static inline eddy_windows_t eddy_windows_sliding(int64_t time_difference_ms, int64_t grace_ms)
{
    return (eddy_windows_t){EDDY_WINDOWS_SLIDING, time_difference_ms, 0, 0, grace_ms};
}
static inline eddy_windows_t eddy_windows_session(int64_t inactivity_gap_ms, int64_t grace_ms)
{
    return (eddy_windows_t){EDDY_WINDOWS_SESSION, 0, 0, inactivity_gap_ms, grace_ms};
}

typedef struct eddy_kwindowed_stream eddy_kwindowed_stream_t;

/* Windows the grouped stream's aggregations (Kafka's windowedBy). */
eddy_kwindowed_stream_t *eddy_grouped_windowed_by(eddy_kgrouped_stream_t *g, eddy_windows_t w);

/* Windowed aggregations into a windowed KTable backed by a window store
 * (session windows: a session store) named store (NULL: generated). The
 * table's keys are windowed keys, in the bytes of Kafka's windowed serdes:
 * the key followed by the 8-byte big-endian window start (time and sliding
 * windows), or by the 8-byte end and then the 8-byte start (session
 * windows, as Kafka's SessionWindowedSerializer). eddy_windowed_key_read
 * takes them apart. Session aggregations merge two sessions' aggregates with
 * merger when a record bridges them (count sums; reduce uses the reducer). */
eddy_ktable_t *eddy_windowed_count(eddy_kwindowed_stream_t *w, const char *store);
eddy_ktable_t *eddy_windowed_reduce(eddy_kwindowed_stream_t *w, eddy_aggregator_fn *reducer,
                                    void *opaque, const char *store);
eddy_ktable_t *eddy_windowed_aggregate(eddy_kwindowed_stream_t *w, eddy_initializer_fn *init,
                                       eddy_aggregator_fn *aggregator,
                                       eddy_aggregator_fn *session_merger, void *opaque,
                                       const char *store);

/* Emits only the final result of each window, once it closes (Kafka's
 * suppress(Suppressed.untilWindowCloses(unbounded()))); t must be a
 * windowed aggregation's table. Without it, every update is emitted (as the
 * record cache lets through). */
eddy_ktable_t *eddy_table_suppress_until_window_closes(eddy_ktable_t *t);

/* A windowed key (time or sliding: key + start; session: key + end +
 * start): 0 with the parts (end is start + size for time windows only when
 * the caller knows the size: *end is -1 then), or -EINVAL. session: nonzero
 * for a session windowed key. */
int eddy_windowed_key_read(eddy_bytes_t windowed, int session, eddy_bytes_t *key, int64_t *start,
                           int64_t *end);

/* ---- windowed stream-stream joins ---- */

/* Two records join when their keys are equal and the other side's
 * timestamp lies in [t - before, t + after] of this side's t (Kafka's
 * JoinWindows.ofTimeDifferenceAndGrace(d, g) is before = after = d). Records
 * later than their window's end + grace are dropped and counted. */
typedef struct eddy_join_windows {
    int64_t jw_before, jw_after, jw_grace;
} eddy_join_windows_t;

static inline eddy_join_windows_t eddy_join_windows(int64_t difference_ms, int64_t grace_ms)
{
    return (eddy_join_windows_t){difference_ms, difference_ms, grace_ms};
}

/* KStream-KStream joins (co-partitioned inputs; both sides are buffered in
 * window stores). Inner emits each matching pair; left also emits each left
 * record that found no partner (right null), and outer each record of
 * either side that found none (the other side null), once its join window
 * has closed. The result's timestamp is the larger of the pair's. */
eddy_kstream_t *eddy_stream_join(eddy_kstream_t *left, eddy_kstream_t *right,
                                 eddy_joiner_fn *joiner, void *opaque, eddy_join_windows_t w);
eddy_kstream_t *eddy_stream_left_join(eddy_kstream_t *left, eddy_kstream_t *right,
                                      eddy_joiner_fn *joiner, void *opaque, eddy_join_windows_t w);
eddy_kstream_t *eddy_stream_outer_join(eddy_kstream_t *left, eddy_kstream_t *right,
                                       eddy_joiner_fn *joiner, void *opaque, eddy_join_windows_t w);

/* ---- processors and punctuation ---- */

/* A processor step (Kafka's KStream#process with a Processor): per task,
 * init makes the task's instance (its state), process sees each record and
 * may forward results, punctuators scheduled from init run on stream time
 * (when the task's stream time reaches the next multiple of the interval;
 * once per advance, missed ones skipped, as Kafka) or on wall-clock time
 * (every interval, from the task's stream thread). The instance is the
 * user's: it is not logged or restored. */
typedef struct eddy_processor_context eddy_processor_context_t;

typedef enum eddy_punctuation_type {
    EDDY_PUNCTUATE_STREAM_TIME,
    EDDY_PUNCTUATE_WALL_CLOCK_TIME,
} eddy_punctuation_type_t;

/* timestamp: the stream time or wall-clock time that triggered it. */
typedef void(eddy_punctuator_fn)(eddy_processor_context_t *ctx, int64_t timestamp, void *instance);

typedef struct eddy_processor {
    /* The task's instance (may be NULL); may call eddy_schedule. */
    void *(*p_init)(eddy_processor_context_t *ctx, void *opaque);
    void (*p_process)(eddy_processor_context_t *ctx, const eddy_record_t *r, void *instance);
    /* When the task closes (also when it moves to another thread). */
    void (*p_close)(void *instance, void *opaque);
} eddy_processor_t;

/* p is copied. */
eddy_kstream_t *eddy_stream_process(eddy_kstream_t *s, const eddy_processor_t *p, void *opaque);
/* Usually from p_init; p_process and punctuators may schedule too (as
 * Kafka's ProcessorContext#schedule). 0, or -EINVAL for an interval < 1. */
int eddy_schedule(eddy_processor_context_t *ctx, int64_t interval_ms, eddy_punctuation_type_t type,
                  eddy_punctuator_fn *fn);
/* Forwards a record to the processor's children (from p_process or a
 * punctuator). */
void eddy_forward(eddy_processor_context_t *ctx, eddy_bytes_t key, eddy_bytes_t value,
                  int64_t timestamp);
int32_t eddy_context_partition(const eddy_processor_context_t *ctx);
int64_t eddy_context_stream_time(const eddy_processor_context_t *ctx);

/* The topology as Kafka's Topology#describe() prints it: sub-topologies,
 * sources, processors, stores, sinks, repartition topics. Returns a string
 * to free(), or NULL (and the builder's error in errstr) when the topology
 * is not valid. */
char *eddy_builder_describe(eddy_builder_t *b, char *errstr, size_t errstr_size);

/* ---- configuration ---- */

/* Kafka Streams' names: application.id, bootstrap.servers,
 * num.stream.threads, commit.interval.ms, state.dir, num.standby.replicas,
 * cache.max.bytes.buffering, session.timeout.ms, heartbeat.interval.ms,
 * processing.guarantee, default.deserialization.exception.handler, ...;
 * docs/streams.md lists them all. Unknown keys are an error naming the key. */
typedef struct eddy_config eddy_config_t;
eddy_config_t *eddy_config_new(void);
int eddy_config_set(eddy_config_t *c, const char *key, const char *value, char *errstr,
                    size_t errstr_size);
/* key=value lines, # comments (Java properties). */
int eddy_config_load_file(eddy_config_t *c, const char *path, char *errstr, size_t errstr_size);
/* An app's command line: at argv[*i], "--config FILE" loads a file and
 * "-X key=value" sets one key, and *i moves past the value. Returns 1 when
 * argv[*i] was one of these, 0 when it was not (the app's own flag), or a
 * negative error with a sentence in errstr (a missing value, no "=", or
 * what eddy_config_set / eddy_config_load_file said). */
int eddy_config_arg(eddy_config_t *c, int argc, char **argv, int *i, char *errstr,
                    size_t errstr_size);
void eddy_config_destroy(eddy_config_t *c);

/* ---- the app ---- */

typedef struct eddy_app eddy_app_t;

/* Copies the config and checks it and the topology; NULL with a sentence in
 * errstr when either is wrong. Takes the builder over only on success
 * (eddy_app_close frees it); on failure it is still the caller's, to fix
 * the config and call again, or to eddy_builder_destroy. Nothing connects
 * yet. */
eddy_app_t *eddy_app_new(eddy_builder_t *b, const eddy_config_t *config, char *errstr,
                         size_t errstr_size);
/* Checks the inputs exist and are co-partitioned where they must be,
 * creates the internal topics, and starts the stream threads. Returns 0, or
 * an error with a sentence in errstr (a missing input topic names it and the
 * command that creates it). */
int eddy_app_start(eddy_app_t *app, char *errstr, size_t errstr_size);
/* Start, then run until SIGINT or SIGTERM (or eddy_app_stop), then close.
 * Returns the process exit code: 0 after a clean stop, 1 on failure (said
 * on stderr). */
int eddy_app_run(eddy_app_t *app);
/* As eddy_app_run; also fills *final (when not NULL) with the counters at
 * the stop (eddy_app_stats), for an app that reports them at exit. */
typedef struct eddy_app_stats eddy_app_stats_t;
int eddy_app_run_stats(eddy_app_t *app, eddy_app_stats_t *final);
/* Asks the app to stop; safe from any thread and from a signal handler. */
void eddy_app_stop(eddy_app_t *app);
/* Waits until the app stopped by itself (a fatal error) or was asked to:
 * returns 0 after a clean stop, else the error that stopped it. */
int eddy_app_wait(eddy_app_t *app);
/* Stops the threads (each commits, then leaves the group) and frees the app. */
int eddy_app_close(eddy_app_t *app);

/* Interactive queries on the app's local stores (active tasks only).
 * get: 0 and the value copied into out, -ENOENT when no local task has the
 * key, or an error (-ENOENT too when the store does not exist). */
int eddy_app_store_get(eddy_app_t *app, const char *store, eddy_bytes_t key, eddy_buf_t *out);
/* Calls fn for each key in [from, to] (null bounds: open) of every local
 * partition of the store, partition by partition, in key order within each;
 * fn returns nonzero to stop. */
typedef int(eddy_kv_fn)(eddy_bytes_t key, eddy_bytes_t value, void *opaque);
int eddy_app_store_range(eddy_app_t *app, const char *store, eddy_bytes_t from, eddy_bytes_t to,
                         eddy_kv_fn *fn, void *opaque);

/* Counters since start, summed over the stream threads. */
struct eddy_app_stats {
    int64_t records_processed; /* input records taken from source topics */
    int64_t records_skipped;   /* records a handler skipped (deserialization, processing,
                                  production errors), negative timestamps */
    int64_t records_produced;  /* written to sinks and repartition topics */
    int64_t commits;
    int64_t records_restored;  /* changelog records applied to stores */
    int64_t records_late_dropped; /* too late for their window (after end + grace) */
    /* Tasks of the instance's threads' last assignments (the log's
     * "assigned N active and M standby task(s)" lines, summed), restoring
     * ones included; after the stop, those the instance ran last. */
    int32_t active_tasks;
    int32_t standby_tasks;
};
void eddy_app_stats(eddy_app_t *app, eddy_app_stats_t *out);

const char *eddy_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif

/* Time-windowed and session state stores on LMDB, with Kafka Streams'
 * semantics, key formats and changelog keys, for windowed aggregations,
 * stream-stream joins and session windows.
 *
 * Segments. A window or session store keeps its records in segments of
 * segment_ms (default max(retention_ms / 2, 60000), as Kafka): the records
 * whose segment time (a window's start; a session's end) falls in
 * [start, start + segment_ms) live in one key-value store of the
 * environment (state/store.h), named "<store>.<start>" (start in decimal
 * ms, a multiple of segment_ms). Each segment thus has its own record cache,
 * its LMDB writes in the environment's transaction, and the hooks given at
 * open (st_env_flush flushes them with the other stores at commit). The
 * segments of a store are found again at open by listing the named
 * databases "<store>.<digits>" of the environment; a store named like that
 * ("w.17" next to a window store "w") must not exist in the same
 * environment. retention_ms and segment_ms must stay the same from one open
 * to the next (a segment that does not start at a multiple of segment_ms is
 * refused at open: wipe the state and restore it from the changelog).
 *
 * Stream time and retention. The store observes stream time: the largest of
 * what st_*_advance was given and of every segment time put or restored
 * (Kafka's observedStreamTime). At open it starts at the start of the
 * newest segment found (a lower bound of what was observed before), or
 * unknown (-1, nothing expires) when there is none. A record whose segment
 * time is older than stream time - retention_ms is expired: a put or
 * restore of it writes nothing and returns 1 (the caller counts the drop),
 * and reads no longer return it. A segment is dropped as a whole
 * (its cache flushed to the hooks first, as Kafka's caching layer
 * forwards updates that were still cached; then its database deleted, with
 * no tombstones to the changelog, as Kafka) once its whole range is expired. Creating and
 * dropping a segment each commit the environment's open transaction first
 * (an automatic commit, as in state/store.h; safe) and then use a
 * transaction of their own: about four fsyncs per segment interval. While a
 * fetch runs, drops wait for its end.
 *
 * Timestamps (window starts, session starts and ends, stream time) are
 * >= 0; negative ones are refused with -EINVAL.
 *
 * Keys. A record key is 0 or more bytes of any length (not null); the
 * store key adds a fixed suffix (the segment's store then encodes it for
 * LMDB, state/keys.c, keeping its byte order):
 *
 *   window store   key bytes | window start int64 BE | seqnum uint32 BE
 *   session store  key bytes | session end int64 BE  | session start int64 BE
 *
 * These are Kafka's WindowKeySchema.toStoreKeyBinary and
 * SessionKeySchema.toBinary, also its changelog keys: the hooks receive
 * this composite key (split it with st_window_key_split /
 * st_session_key_split), and st_*_restore takes it back. The seqnum is 0
 * unless the window store retains duplicates (stream-stream joins): then
 * every put appends a new entry under the next seqnum (1, 2, ... store-wide
 * and increasing within a run; above what LMDB already holds for that key
 * and window, so a reopened store never overwrites a duplicate; it wraps
 * after 2^31 - 1 as Kafka's), and a put of a null value is ignored (Kafka).
 * Since record keys are any bytes, a range over "a" can meet the keys of
 * "a\0x": every read checks the key part of each hit.
 *
 * Hooks. As for key-value stores (st_store_hooks_t): called at flushes and
 * evictions with the composite key. Their st_store_t * argument is the
 * segment's store (st_store_name: "<store>.<start>"); identify the window
 * or session store through sh_opaque.
 *
 * Cache. st_*_set_cache_limit sets the whole store's budget, divided evenly
 * among the live segments (re-divided when one is created or dropped,
 * which may evict and so flush). 0 (the default): write through.
 *
 * Sizing the environment. Every segment is a store of the environment:
 * count st_window_max_segments(retention_ms, segment_ms) stores for each
 * window or session store in st_env_open's max_stores. st_*_open fails
 * when the environment has fewer free slots than that; a put that needs a
 * segment when none is free fails with EDDY_ERR_TOO_LARGE (logged).
 *
 * Re-entrancy. A put, restore, advance or flush of a store from the hooks
 * of its own segments is refused with -EBUSY. A fetch's callback may write
 * to any store, this one included (it may or may not see writes ahead of
 * it).
 *
 * Lifetime. The segments belong to the environment: st_env_close frees
 * them, st_env_flush flushes them. st_*_close frees the handle only (no
 * flush); call it before or after st_env_close, and do not open the same
 * store twice in one environment's life. Same thread rules as store.h;
 * st_env_read_get/st_env_read_range (other threads) do not serve window or
 * session stores: a segment may be dropped under them.
 *
 * Errors: 0 or a negative Eddy error (-errno, EDDY_ERR_*); EDDY_ERR_INVALID_ARG
 * for a null key. docs/state.md, "Window and session stores", has more.
 */
#ifndef EDDY_STATE_WINDOW_H
#define EDDY_STATE_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "state/store.h"

/* The segment interval of a store: segment_ms, or when 0 Kafka's default
 * max(retention_ms / 2, 60000). The one place that rule lives. */
int64_t st_window_segment_ms(int64_t retention_ms, int64_t segment_ms);

/* The number of segments a window or session store may hold at once
 * (retention_ms / segment_ms + 2; segment_ms 0: the default): count that
 * many stores for it in st_env_open's max_stores. */
int st_window_max_segments(int64_t retention_ms, int64_t segment_ms);

/* ---- window stores ---- */

typedef struct st_window_store st_window_store_t;

/* Opens (creating, or finding its segments again) the window store name in
 * env. retention_ms: how long windows are kept behind stream time (>= 0);
 * segment_ms 0: the default. hooks copied (NULL: none). NULL with a
 * sentence in errstr. Not from a store hook. */
st_window_store_t *st_window_open(st_env_t *env, const char *name, int64_t retention_ms,
                                  int64_t segment_ms, int retain_duplicates,
                                  const st_store_hooks_t *hooks, char *errstr, size_t errstr_size);
const char *st_window_name(const st_window_store_t *w);
/* The whole store's cache budget in bytes (0: write through). */
void st_window_set_cache_limit(st_window_store_t *w, size_t bytes);
/* Observed stream time: advances (never goes back) and drops the segments
 * that expired. 0 or an error. */
int st_window_advance(st_window_store_t *w, int64_t stream_time);
/* Observed stream time, -1 while unknown. */
int64_t st_window_stream_time(const st_window_store_t *w);
/* Live segments now. */
int st_window_segments(const st_window_store_t *w);
/* Sets the window of key starting at window_start to value (null: deletes
 * it; with duplicates: ignored), timestamp for the hooks. Copies both. 0,
 * 1 = expired (nothing written), or an error. Advances stream time to
 * window_start when later. */
int st_window_put(st_window_store_t *w, eddy_bytes_t key, int64_t window_start, eddy_bytes_t value,
                  int64_t timestamp);
/* The window of key starting at window_start: 0 and *value (borrowed as
 * st_store_get's: until the next write to the environment or its commit),
 * or -ENOENT (also when expired). -EINVAL on a store with duplicates (use
 * st_window_fetch). */
int st_window_get(st_window_store_t *w, eddy_bytes_t key, int64_t window_start,
                  eddy_bytes_t *value);
/* fn gets key (borrowed for the call), a window start and its value. It
 * returns nonzero to stop. */
typedef int st_window_fn(eddy_bytes_t key, int64_t window_start, eddy_bytes_t value, void *opaque);
/* key's windows with start in [time_from, time_to] (expired ones left
 * out), ascending by start, then seqnum; cache merged. 0 or an error. */
int st_window_fetch(st_window_store_t *w, eddy_bytes_t key, int64_t time_from, int64_t time_to,
                    st_window_fn *fn, void *opaque);
/* Every key's windows with start in [time_from, time_to] (expired ones
 * left out), ordered by segment (ascending time), then by LMDB key: key
 * bytes, start, seqnum concatenated (Kafka's order too). So a window of
 * "b" in an earlier segment comes before one of "a" in a later one, and
 * within a segment keys come by key then start, except that a key which is
 * a prefix of another may interleave with it ("a\0\0"@5 sorts before
 * "a"@1, whose start bytes are 00..01). */
int st_window_fetch_all(st_window_store_t *w, int64_t time_from, int64_t time_to, st_window_fn *fn,
                        void *opaque);
/* Flushes the caches of all segments. */
int st_window_flush(st_window_store_t *w);
/* Applies a changelog record during restore (changelog_key: the composite
 * key; value null: delete): straight to LMDB, no cache, no hooks. Advances
 * stream time to its window start; 0, 1 = expired (skipped), -EINVAL for
 * a key shorter than 12 bytes or a negative start, or an error. */
int st_window_restore(st_window_store_t *w, eddy_bytes_t changelog_key, eddy_bytes_t value);
/* Splits a composite key (from a hook): 0 and views into composite, or
 * -EINVAL when it is shorter than 12 bytes. */
int st_window_key_split(eddy_bytes_t composite, eddy_bytes_t *key, int64_t *window_start,
                        uint32_t *seq);
/* Entries in LMDB (committed or in the open transaction), all segments. */
int64_t st_window_count(st_window_store_t *w);
/* Frees the handle (see Lifetime above). */
void st_window_close(st_window_store_t *w);

/* ---- session stores ---- */

typedef struct st_session_store st_session_store_t;

/* As st_window_open (segments by session end, no duplicates). */
st_session_store_t *st_session_open(st_env_t *env, const char *name, int64_t retention_ms,
                                    int64_t segment_ms, const st_store_hooks_t *hooks, char *errstr,
                                    size_t errstr_size);
const char *st_session_name(const st_session_store_t *s);
void st_session_set_cache_limit(st_session_store_t *s, size_t bytes);
int st_session_advance(st_session_store_t *s, int64_t stream_time);
/* Sets the session [start, end] of key (0 <= start <= end, else -EINVAL) to
 * value (null: removes it). 0, 1 = expired (end older than stream time -
 * retention; nothing written), or an error. Advances stream time to end. */
int st_session_put(st_session_store_t *s, eddy_bytes_t key, int64_t start, int64_t end,
                   eddy_bytes_t value, int64_t timestamp);
/* The session [start, end] of key: 0 and *value (borrowed as
 * st_store_get's), or -ENOENT (Kafka's fetchSession). */
int st_session_get(st_session_store_t *s, eddy_bytes_t key, int64_t start, int64_t end,
                   eddy_bytes_t *value);
typedef int st_session_fn(eddy_bytes_t key, int64_t start, int64_t end, eddy_bytes_t value,
                          void *opaque);
/* key's sessions with end >= earliest_end and start <= latest_start
 * (Kafka's findSessions: the sessions a record at t with gap g merges with
 * are find(key, t - g, t + g)), expired ones left out, ascending by end,
 * then start. */
int st_session_find(st_session_store_t *s, eddy_bytes_t key, int64_t earliest_end,
                    int64_t latest_start, st_session_fn *fn, void *opaque);
/* All sessions with end in [end_from, end_to] (expired ones left out),
 * ordered by segment (ascending end time), then by LMDB key: key bytes,
 * end, start concatenated (by key, then end, then start, except that a key
 * which is a prefix of another may interleave with it, as for windows). */
int st_session_fetch_all(st_session_store_t *s, int64_t end_from, int64_t end_to, st_session_fn *fn,
                         void *opaque);
int st_session_flush(st_session_store_t *s);
/* As st_window_restore, for a composite session key (at least 16 bytes,
 * 0 <= start <= end). */
int st_session_restore(st_session_store_t *s, eddy_bytes_t changelog_key, eddy_bytes_t value);
/* 0 and views into composite, or -EINVAL when it is shorter than 16 bytes. */
int st_session_key_split(eddy_bytes_t composite, eddy_bytes_t *key, int64_t *start, int64_t *end);
int64_t st_session_count(st_session_store_t *s);
void st_session_close(st_session_store_t *s);

#endif

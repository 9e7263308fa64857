/* Key-value state stores on LMDB, with a record cache in front and a
 * changelog behind, for the streams runtime.
 *
 * One environment (st_env_t) per task directory
 * (state.dir/<application.id>/<task>/), one named database per store
 * (st_store_t), plus one database, "__changelog_offsets", that holds for
 * each changelog partition the next offset to restore from. The offsets
 * are written in the same LMDB transaction as the data they cover, so after
 * a crash the store and its checkpoint agree.
 *
 * Writes. A store write (st_store_put) lands in the store's record cache
 * (capacity st_store_set_cache_limit; 0 disables it). A flush (the
 * runtime's commit, through st_env_flush before it flushes the producer;
 * eviction of a dirty entry; or every write when the cache is off) sends
 * each dirty entry, oldest first, down three paths: it is written to LMDB in
 * the environment's open write transaction, handed to the changelog hook
 * (the runtime produces it to "<application.id>-<store>-changelog") and to
 * the forward hook with the value it replaces (the runtime forwards the
 * change downstream). Repeated updates of a key between flushes thus reach
 * LMDB, the changelog and downstream once.
 *
 * Transactions. The environment keeps one write transaction open between
 * commits (reads of its own thread see everything written). st_env_commit
 * writes the given changelog offsets and commits. The environment may also
 * commit on its own, without offsets, when a transaction grows large; that
 * is safe because restoring replays the changelog from the last stored
 * offset, and a changelog record is a full value (replaying it is
 * idempotent). The map size starts at initial_map_bytes and is doubled
 * whenever the used pages pass half of it, at the start of a transaction.
 *
 * Threads. An environment and its stores belong to the stream thread that
 * owns the task, except st_env_read_get/st_env_read_range, which any thread
 * may call (read transactions of their own: they see committed data only).
 * The owning thread must stay the same from one commit to the next: LMDB
 * ties the write transaction to the thread that began it.
 *
 * Keys are any bytes of any length up to INT32_MAX, the empty key
 * included (not null); values any size up to INT32_MAX. LMDB itself takes
 * keys of 1 to 511 bytes only: state/keys.c encodes them (long keys as a
 * prefix, a hash and a slot, the rest kept with the value), keeping the
 * byte order of ranges; hooks, ranges and the cache see the keys as given.
 * An environment written in another format is wiped at open (state/env.c).
 * After an error from a write (put, flush,
 * restore, commit) the open transaction is gone, and with it the writes
 * since the last commit, some of which the hooks have already seen: the
 * runtime should close the task and restore it from its changelog.
 *
 * docs/state.md describes the layout, the cache and the crash behaviour.
 */
#ifndef EDDY_STATE_STORE_H
#define EDDY_STATE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "include/eddy.h"

typedef struct st_env st_env_t;
typedef struct st_store st_store_t;

/* A changelog partition and the next offset to restore from. */
typedef struct st_offset {
    const char *so_topic;
    int32_t so_partition;
    int64_t so_offset;
} st_offset_t;

/* Opens (creating dir and the files) the environment of a task. max_stores:
 * how many stores will be opened in it. NULL with a sentence in errstr (a
 * directory that cannot be created or written names the path). */
st_env_t *st_env_open(const char *dir, int max_stores, size_t initial_map_bytes, char *errstr,
                      size_t errstr_size);
/* Aborts the open write transaction (what was not committed is lost, as
 * in a crash) and closes the environment and its stores. */
void st_env_close(st_env_t *env);
/* Removes an environment's files (it must not be open): the runtime wipes a
 * task's state that no longer matches its changelog. */
int st_env_wipe(const char *dir);

/* The stored next offset of a changelog partition, or -1 when none. */
int64_t st_env_checkpoint(st_env_t *env, const char *topic, int32_t partition);

/* A changelog incarnation record that the state covers: the random id it
 * carries and its offset in the changelog partition. The record proves
 * that the changelog is the one the state came from: a changelog deleted
 * and created again (eddy app reset) holds other records at that offset.
 * docs/streams.md, "State after a reset", describes the scheme. */
#define ST_INCARNATION_ID_LEN 16
typedef struct st_incarnation {
    uint8_t si_id[ST_INCARNATION_ID_LEN];
    int64_t si_offset;
} st_incarnation_t;

/* The stored incarnation of a changelog partition: 0 with *out; -ENOENT
 * when there is none (or it is corrupt, which is logged: the runtime then
 * treats the state as unproven and restores it from the changelog). Reads
 * the open transaction if there is one. */
int st_env_incarnation(st_env_t *env, const char *topic, int32_t partition, st_incarnation_t *out);
/* Writes the incarnation of a changelog partition into the open
 * transaction; the next st_env_commit commits it with the offsets (a
 * close without a commit drops it, as any write). 0 or an error (after
 * which the open transaction is gone, as after any failed write). */
int st_env_set_incarnation(st_env_t *env, const char *topic, int32_t partition,
                           const st_incarnation_t *inc);
/* Writes offsets[0..n) into the open transaction and commits it (an empty
 * transaction commits just the offsets). Returns 0 or an error; after an
 * error the environment's uncommitted writes are gone. It does not flush
 * the caches: the runtime flushes them (st_env_flush) before it flushes the
 * producer, so that the offsets cover every changelog record sent. -EBUSY
 * from a store hook. */
int st_env_commit(st_env_t *env, const st_offset_t *offsets, int n);
size_t st_env_map_size(const st_env_t *env);

/* Commits the environment makes on its own (a transaction grown past the
 * limits below, a store opened or dropped: the writes since the last
 * st_env_commit with them) each store, in the same LMDB transaction, the
 * mark ST_AUTO_COMMIT_MARK = 1 among the changelog offsets once this is on;
 * st_env_commit stores 0. Under exactly-once the runtime turns it on: LMDB
 * then never holds writes of an unfinished Kafka transaction without the
 * mark saying so, and a task opened on marked state wipes it and restores
 * from the committed changelog (docs/streams.md, "Exactly once"). */
#define ST_AUTO_COMMIT_MARK "__auto_commit"
void st_env_mark_auto_commits(st_env_t *env, int on);
/* 1 when the committed state carries the mark (an automatic commit since
 * the last st_env_commit), else 0. */
int st_env_auto_committed(st_env_t *env);

/* Flushes every store of env until all caches are clean: a store's hooks may
 * put into another store (a downstream aggregation), dirtying it after its
 * own flush. Returns 0 or the first error (-ELOOP when hooks keep dirtying
 * each other in a cycle). */
int st_env_flush(st_env_t *env);
/* Tuning. map_limit: the map never grows past it (0: no limit; a write that
 * does not fit then fails with -ENOSPC). txn_max_puts / txn_max_bytes: the
 * open transaction is committed on its own (without offsets) before a write
 * once it holds that many writes or key+value bytes (0: the defaults, 65536
 * and 32 MiB). The bytes also bound the memory of the transaction's redo
 * log, which replays it after LMDB says MDB_MAP_FULL and the map grew. */
void st_env_set_limits(st_env_t *env, size_t map_limit, size_t txn_max_puts, size_t txn_max_bytes);

/* Hooks of a store, called during flushes (any st_store_put/st_store_flush
 * on its thread). key and values are borrowed for the call. A hook may put
 * into other stores of the environment; a put, restore or flush of its own
 * store is refused with -EBUSY, and st_env_commit too. A delete of a key
 * that LMDB does not hold calls no hook. */
typedef struct st_store_hooks {
    /* value null: a delete (tombstone). NULL: no changelog. */
    void (*sh_changelog)(st_store_t *s, eddy_bytes_t key, eddy_bytes_t value, int64_t timestamp,
                         void *opaque);
    /* new_value null: deleted; old_value null: there was none. NULL: none. */
    void (*sh_forward)(st_store_t *s, eddy_bytes_t key, eddy_bytes_t new_value,
                       eddy_bytes_t old_value, int64_t timestamp, void *opaque);
    void *sh_opaque;
} st_store_hooks_t;

/* Opens (creating) the named store in env; hooks copied (NULL: none). */
st_store_t *st_store_open(st_env_t *env, const char *name, const st_store_hooks_t *hooks,
                          char *errstr, size_t errstr_size);
const char *st_store_name(const st_store_t *s);
/* Cache capacity in bytes (keys + values + overhead); 0: write through.
 * Lowering it evicts (flushing dirty entries) at once. */
void st_store_set_cache_limit(st_store_t *s, size_t bytes);
/* Bytes the cache holds now (never above the limit after a put returns). */
size_t st_store_cache_bytes(const st_store_t *s);

/* The current value of key (cache, else LMDB): 0 and *value (borrowed until
 * the next write to this environment or its commit), or -ENOENT. */
int st_store_get(st_store_t *s, eddy_bytes_t key, eddy_bytes_t *value);
/* Sets key to value (null value: delete), remembering timestamp for the
 * hooks. Copies both. Returns 0 or an error. */
int st_store_put(st_store_t *s, eddy_bytes_t key, eddy_bytes_t value, int64_t timestamp);
/* Flushes the cache's dirty entries (see above). */
int st_store_flush(st_store_t *s);
/* Keys in [from, to] (null: open) in byte order, cache merged in; fn
 * returns nonzero to stop. Borrowed views valid during fn (until fn
 * writes). fn may write to any store, this one included: the iteration
 * goes on after the last key it handed out, and may or may not see the
 * writes to keys ahead of it. */
int st_store_range(st_store_t *s, eddy_bytes_t from, eddy_bytes_t to, eddy_kv_fn *fn, void *opaque);
/* Applies a changelog record during restore: straight to LMDB, no cache and
 * no hooks (value null: delete). */
int st_store_restore(st_store_t *s, eddy_bytes_t key, eddy_bytes_t value);
/* Restore in batches (state/restore.c): records collected in arrival
 * order, applied in key order with the same result as st_store_restore one
 * by one (the last record of a key wins, a null value deletes), MDB_APPEND
 * when the batch sorts past the store's last key. add copies key and value
 * (a key of any length, empty included). st_store_restore_batch empties the batch, also
 * on error (after which, as after any write error, the open transaction is
 * gone). The caller commits the changelog offset the batch reached. */
typedef struct st_restore_batch st_restore_batch_t;
st_restore_batch_t *st_restore_batch_new(void);
void st_restore_batch_destroy(st_restore_batch_t *b);
int st_restore_batch_add(st_restore_batch_t *b, eddy_bytes_t key, eddy_bytes_t value);
size_t st_restore_batch_count(const st_restore_batch_t *b);
/* Memory the batch holds for its records (keys, values, index). */
size_t st_restore_batch_bytes(const st_restore_batch_t *b);
int st_store_restore_batch(st_store_t *s, st_restore_batch_t *b);
/* Entries in LMDB (committed or in the open transaction). */
int64_t st_store_count(st_store_t *s);

/* From any thread, committed data only: get (0 and the value copied into
 * out, or -ENOENT) and range, on a store by name. out->data is grown with
 * realloc (free() it, or eddy_buf_free). They hold the environment's map
 * lock shared while they run, which delays a map growth on the owning
 * thread: range's fn should be quick and must not write to env. */
int st_env_read_get(st_env_t *env, const char *store, eddy_bytes_t key, eddy_buf_t *out);
int st_env_read_range(st_env_t *env, const char *store, eddy_bytes_t from, eddy_bytes_t to,
                      eddy_kv_fn *fn, void *opaque);

#endif

/* Idempotent producers: what one partition log knows of each producer id,
 * the checks a produced batch must pass against it, and the snapshot files
 * that let recovery skip rescanning the whole log. Kafka's
 * ProducerStateManager and ProducerAppendInfo are the model; docs/broker.md
 * ("Idempotent producers") has the rules as a client sees them and
 * docs/log.md the files.
 *
 * Per producer id the state holds the epoch, the time of its last batch
 * (for producer.id.expiration.ms) and the metadata of its last
 * PSTATE_BATCHES batches: first and last sequence, last offset, offset
 * delta and max timestamp. A batch whose epoch and sequence range equal one
 * of them is a retry of a batch already in the log.
 *
 * Owned by the log (log_t.log_ps), so by the log's thread; nothing locks.
 */
#ifndef EDDY_BROKER_LOG_PRODUCER_STATE_H
#define EDDY_BROKER_LOG_PRODUCER_STATE_H

#include <stddef.h>
#include <stdint.h>

typedef struct log log_t;
typedef struct log_segment log_segment_t;

/* Kafka's NUM_BATCHES_TO_RETAIN: the max.in.flight of an idempotent producer */
#define PSTATE_BATCHES 5

typedef struct pstate_batch {
    int32_t pb_first_seq;
    int32_t pb_last_seq;
    int32_t pb_offset_delta; /* last offset - first offset */
    int64_t pb_last_offset;
    int64_t pb_timestamp; /* the batch's maxTimestamp */
} pstate_batch_t;

typedef struct pstate_entry {
    int64_t pe_pid;
    int16_t pe_epoch;
    int pe_n;                                /* batches held, oldest first */
    pstate_batch_t pe_batches[PSTATE_BATCHES];
    int64_t pe_last_ts; /* maxTimestamp of the last batch: expiry counts from it */
    /* Kafka's currentTxnFirstOffset: offset of the first batch of the
     * producer's ongoing transaction in this partition, -1 when none. */
    int64_t pe_txn_first;
    int32_t pe_coord_epoch; /* coordinator epoch of the last marker, -1 before any */
} pstate_entry_t;

typedef struct pstate {
    pstate_entry_t *ps_entries; /* sorted by pe_pid */
    size_t ps_n, ps_cap;
    size_t ps_ongoing; /* entries with pe_txn_first >= 0 */
    /* The smallest pe_txn_first (-1 with none): fetches ask for the LSO
     * far more often than transactions begin or end. */
    int64_t ps_first_unstable;
} pstate_t;

void pstate_init(pstate_t *ps);
void pstate_clear(pstate_t *ps); /* frees the entries; ps is empty and reusable */
/* The entry of pid, or NULL; valid until the next change to ps. */
const pstate_entry_t *pstate_find(const pstate_t *ps, int64_t pid);

/* A retried batch found in the state: where it went the first time. */
typedef struct pstate_dup {
    int64_t pd_first_offset;
    int64_t pd_last_offset;
    int64_t pd_timestamp;
} pstate_dup_t;

/* Checks the validated batches buf[0..len) of one produce against the
 * state, in order, as if each were appended after the ones before it.
 * Batches without a producer id (-1) pass untouched. Returns 0 (append
 * them), 1 when a batch is a retry of one already appended (*dup says
 * where; nothing may be appended, as Kafka answers the whole append with
 * the duplicate), EDDY_ERR_OUT_OF_ORDER_SEQUENCE, EDDY_ERR_INVALID_PRODUCER_EPOCH
 * EDDY_ERR_UNKNOWN_PRODUCER_ID or EDDY_ERR_INVALID_TXN_STATE (a plain batch
 * from a producer whose transaction is open here) with a sentence in errstr,
 * or -ENOMEM. */
int pstate_check(const pstate_t *ps, const uint8_t *buf, size_t len, pstate_dup_t *dup,
                 char *errstr, size_t errstr_size);

/* Records one appended batch, unchecked (appends after pstate_check, and
 * recovery replaying the log). A new epoch forgets the old one's batches.
 * Returns 0 or -ENOMEM (the state then misses the batch). */
int pstate_apply(pstate_t *ps, int64_t pid, int16_t epoch, int32_t base_seq, int32_t last_delta,
                 int64_t last_offset, int64_t timestamp);
/* pstate_apply() for every producer batch of buf (offsets assigned), and
 * pstate_txn_begin() for its transactional ones. */
int pstate_apply_batches(pstate_t *ps, const uint8_t *buf, size_t len);

/* A transactional batch at first_offset: starts the producer's ongoing
 * transaction unless one is open (the entry must exist). */
void pstate_txn_begin(pstate_t *ps, int64_t pid, int64_t first_offset);

/* A transaction marker of pid written at timestamp: the epoch moves up to
 * epoch (a newer epoch forgets the old one's batches, as a data batch's
 * does), expiry counts from the marker too (so a fenced epoch is remembered
 * as long as a batch would be) and the ongoing transaction ends. Returns 1 and its first offset in *first when
 * one was ongoing, 0 when none (the marker then changes nothing else), or
 * -ENOMEM. The caller checked the epoch (pstate_marker_check). */
int pstate_marker(pstate_t *ps, int64_t pid, int16_t epoch, int32_t coord_epoch, int64_t timestamp,
                  int64_t *first);
/* 0, or EDDY_ERR_INVALID_PRODUCER_EPOCH with a sentence when the log has a
 * newer epoch for pid than a marker's. */
int pstate_marker_check(const pstate_t *ps, int64_t pid, int16_t epoch, char *errstr,
                        size_t errstr_size);
/* The first offset of the earliest ongoing transaction, or -1 when none. */
int64_t pstate_first_unstable(const pstate_t *ps);
/* The record type of the control batch at batch[0..len): 0 abort, 1
 * commit, -1 when it is not a transaction marker; and its coordinator
 * epoch (-1 when the value lacks it) when coord_epoch is not NULL. */
int pstate_marker_type(const uint8_t *batch, size_t len, int32_t *coord_epoch);
/* A marker of pid appended at offset in segment seg (the log's producer
 * state, and with an abort that ended a transaction, seg's .txnindex
 * entry; written to the file with append, else in memory only, as a replay
 * does). Returns 0, or -errno when the index file could not be written. */
int pstate_marker_apply(log_t *log, log_segment_t *seg, int64_t pid, int16_t epoch, int commit,
                        int32_t coord_epoch, int64_t offset, int64_t timestamp, int append);

/* Removes producers whose last batch is expiration_ms older than now_ms;
 * a producer with an ongoing transaction stays (Kafka's rule: the
 * coordinator still has to end it). Returns how many went. */
int pstate_expire(pstate_t *ps, int64_t now_ms, int64_t expiration_ms);

/* ---- snapshot files (need the log: producer_state.c uses log_int.h) ---- */

/* Writes <dir>/<offset>.snapshot holding the whole state, which must cover
 * exactly the batches below offset (the log end when called), then removes
 * older snapshots that are neither at a segment's base offset nor the
 * newest. Returns 0 or -errno (the log stays online: recovery then
 * rescans from an older snapshot). */
int pstate_snapshot_write(log_t *log, int64_t offset);
/* Deletes the snapshot files below offset (their segments are gone). */
void pstate_snapshots_delete_below(log_t *log, int64_t offset);
/* 1 and the offset when name is a snapshot file's ("<20 digits>.snapshot"). */
int pstate_snapshot_name_parse(const char *name, int64_t *offset);
/* Rebuilds log->log_ps (and the aborted-transaction entries of the
 * markers it replays: txn_index.c) for the log as it is now: snapshots above the log
 * end (and, with below_start, below the first segment) are deleted, the
 * newest good one at or below it is loaded (a corrupt one is logged with its
 * path and deleted) and the batches from there to the end are replayed.
 * snaps[0..nsnaps) are the snapshot offsets in the directory, ascending, or
 * NULL to list them here. With clean (the log was closed cleanly) and no
 * snapshot at all, nothing is replayed: a clean close writes one whenever
 * the state is not empty. No snapshot above replay_from_max is loaded (they
 * stay): recovery replays every segment it rescanned that holds markers, so
 * their .txnindex entries are rebuilt as Kafka's segment recovery does.
 * Returns 0 or the read error that stopped it (the log is then offline). */
int pstate_recover(log_t *log, const int64_t *snaps, size_t nsnaps, int clean, int below_start,
                   int64_t replay_from_max);

#endif

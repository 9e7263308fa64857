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

#define PSTATE_BATCHES 5 /* Kafka's NUM_BATCHES_TO_RETAIN: max.in.flight of an idempotent producer */

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
} pstate_entry_t;

typedef struct pstate {
    pstate_entry_t *ps_entries; /* sorted by pe_pid */
    size_t ps_n, ps_cap;
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
 * or EDDY_ERR_UNKNOWN_PRODUCER_ID with a sentence in errstr, or -ENOMEM. */
int pstate_check(const pstate_t *ps, const uint8_t *buf, size_t len, pstate_dup_t *dup,
                 char *errstr, size_t errstr_size);

/* Records one appended batch, unchecked (appends after pstate_check, and
 * recovery replaying the log). A new epoch forgets the old one's batches.
 * Returns 0 or -ENOMEM (the state then misses the batch). */
int pstate_apply(pstate_t *ps, int64_t pid, int16_t epoch, int32_t base_seq, int32_t last_delta,
                 int64_t last_offset, int64_t timestamp);
/* pstate_apply() for every producer batch of buf (offsets assigned). */
int pstate_apply_batches(pstate_t *ps, const uint8_t *buf, size_t len);

/* Removes producers whose last batch is expiration_ms older than now_ms.
 * Returns how many went. */
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
/* Rebuilds log->log_ps for the log as it is now: snapshots above the log
 * end (and, with below_start, below the first segment) are deleted, the
 * newest good one at or below it is loaded (a corrupt one is logged with its
 * path and deleted) and the batches from there to the end are replayed.
 * snaps[0..nsnaps) are the snapshot offsets in the directory, ascending, or
 * NULL to list them here. With clean (the log was closed cleanly) and no
 * snapshot at all, nothing is replayed: a clean close writes one whenever
 * the state is not empty. Returns 0 or the read error that stopped it (the
 * log is then offline). */
int pstate_recover(log_t *log, const int64_t *snaps, size_t nsnaps, int clean, int below_start);

#endif

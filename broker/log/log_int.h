/* Private to broker/log: the structures behind log.h. */
#ifndef EDDY_BROKER_LOG_INT_H
#define EDDY_BROKER_LOG_INT_H

#include <stdint.h>

#include "log.h"
#include "producer_state.h"

/* One sparse index entry, for both .index and .timeindex: the batch starting
 * at file position pos has base offset seg_base + rel_offset, and every
 * record before it in the segment has a timestamp <= max_ts_before. */
typedef struct log_index_entry {
    uint32_t ie_rel_offset;
    uint32_t ie_pos;
    int64_t ie_max_ts_before;
} log_index_entry_t;

struct log_segment {
    log_t *seg_log;
    int64_t seg_base;        /* base offset: the file name */
    int64_t seg_next_offset; /* last offset + 1; seg_base when empty */
    int64_t seg_size;        /* bytes of whole batches in .log */
    int64_t seg_synced;      /* bytes known to be on stable storage */
    int64_t seg_max_ts;      /* largest record timestamp, -1 when empty */
    int64_t seg_roll_ts;     /* maxTimestamp of the first batch, for segment.ms */
    int64_t seg_created_ms;  /* wall time the segment was opened or created */

    log_index_entry_t *seg_idx; /* owned */
    size_t seg_idx_n, seg_idx_cap;
    int64_t seg_idx_bytes_since; /* bytes appended since the last index entry */
    int seg_idx_dirty;           /* in memory differs from the index files */

    /* Aborted transactions whose abort marker this segment holds (Kafka's
     * .txnindex, txn_index.c), in marker order. */
    log_aborted_txn_t *seg_txn; /* owned */
    size_t seg_txn_n, seg_txn_cap;
    int seg_txn_unsynced; /* the .txnindex file has entries not yet fsynced */
    int seg_scan_markers; /* the last seg_scan() met a control batch */

    int seg_fd;   /* -1 while closed by the fd cache */
    int seg_pins; /* slices and flushes holding the fd open */
    int seg_deleted; /* files unlinked; freed when the last pin goes */
    log_segment_t *seg_lru_prev, *seg_lru_next;
};

struct log_fdcache {
    log_deleter_fn *fc_deleter;
    void *fc_deleter_opaque;
    int fc_max;
    int fc_open;
    log_segment_t *fc_mru, *fc_lru; /* open segments, most recent first */
};

struct log {
    char *log_dir;
    char *log_name;
    log_config_t log_cfg;
    log_fdcache_t *log_fdc;

    log_segment_t **log_segs; /* by base offset; the last one is active */
    int log_nsegs, log_segs_cap;
    uint64_t log_generation; /* bumped when segments are deleted or replaced */

    int64_t log_start;          /* log start offset */
    int64_t log_recovery_point; /* everything below is on stable storage */
    int64_t log_unflushed;      /* records appended since the last flush */
    int64_t log_last_flush_ms;
    int64_t log_cleaned_upto;   /* offsets below were compacted already */
    int log_ever_compacted;     /* the cleaner has rewritten this log (COMPACTED_NAME) */
    int log_offline;            /* 0 or the error that took it offline */
    int log_inline_flush;       /* flush inside log_append when the policy says so */
    pstate_t log_ps;            /* idempotent producers (producer_state.h) */
    int log_ps_snapshots;       /* a producer state snapshot may exist in log_dir */
    int log_marker_flush_due;   /* a marker append reached the flush policy (no inline flush) */
};

/* File names: <dir>/<20-digit base><suffix>. */
void seg_path(const log_t *log, int64_t base, const char *suffix, char *out, size_t out_size);

log_segment_t *seg_new(log_t *log, int64_t base);
/* Frees a segment now, or when its last pin is released. */
void seg_destroy(log_segment_t *seg);
/* Unlinks the segment's files and frees it (possibly later). */
void seg_delete(log_segment_t *seg);

/* The segment's fd, opened through the cache (and made most recent). */
int seg_fd(log_segment_t *seg);
void seg_pin(log_segment_t *seg);
void seg_unpin(log_segment_t *seg);
void fdc_forget(log_segment_t *seg); /* close and leave the cache */

/* Notes a batch appended at pos: adds an index entry every
 * index.interval.bytes. */
void seg_index_note(log_segment_t *seg, int64_t base_offset, int64_t pos, int64_t size,
                    int64_t max_ts);
/* Index entry with the largest offset <= offset (or NULL: start at 0). */
const log_index_entry_t *seg_index_floor_offset(const log_segment_t *seg, int64_t offset);
int seg_index_full(const log_segment_t *seg);
/* Writes .index and .timeindex (temp file + rename). */
int seg_index_write(log_segment_t *seg);
/* Loads both index files; -1 if missing, corrupt or stale for this .log size
 * (the caller then rebuilds by scanning). */
int seg_index_load(log_segment_t *seg, int64_t log_size);

/* Reads batches from pos to the end of the file, rebuilding the index and
 * metadata as it goes. With validate, every batch's size and CRC-32C are
 * checked; the scan stops at the first bad batch. Returns the position
 * where whole, valid batches end, and writes why it stopped to why; or a
 * negative errno when a read failed (nothing is known past it: the caller
 * must not cut the file there). */
int64_t seg_scan(log_segment_t *seg, int64_t file_size, int validate, char *why, size_t why_size);

/* Reads the header of the batch at pos (needs at least 27 bytes present).
 * Returns 0 / -1 at end of data / -errno. */
typedef struct seg_cursor {
    log_segment_t *cur_seg;
    uint8_t *cur_buf;
    size_t cur_cap;
    int64_t cur_buf_pos; /* file position of cur_buf[0] */
    size_t cur_buf_len;
    int cur_err; /* after a NULL get: -errno, or 0 when the file ended first */
} seg_cursor_t;
void seg_cursor_init(seg_cursor_t *c, log_segment_t *seg, uint8_t *buf, size_t cap);
/* Makes bytes [pos, pos+n) available; returns a pointer to them, or NULL if
 * the file ends first or n exceeds the buffer. */
const uint8_t *seg_cursor_get(seg_cursor_t *c, int64_t pos, size_t n);

/* ---- aborted-transaction index (txn_index.c) ---- */

/* Adds an entry (ignored when one with the same lastOffset is there, so a
 * replay may repeat what the file holds); with append, also to the end of
 * <base>.txnindex. Returns 1 when added, 0 when already there, or -errno. */
int seg_txn_add(log_segment_t *seg, const log_aborted_txn_t *at, int append);
/* Loads <base>.txnindex, keeping entries whose marker lies in the segment as
 * it is now (recovery may have cut it). A missing file is an empty index. */
int seg_txn_load(log_segment_t *seg);
/* Drops entries whose marker is at or above offset (truncation). */
void seg_txn_drop_from(log_segment_t *seg, int64_t offset);
/* Rewrites <base>.txnindex whole from memory (removed when empty). */
int seg_txn_write(log_segment_t *seg);
/* fsyncs <base>.txnindex of the log in dir (any thread). */
int seg_txn_fsync(const char *dir, int64_t base);

/* Test hooks. */
extern int (*log_fsync_fn)(int fd);
/* Compaction commit stops after this many steps (0 = never), as a crash would. */
extern int log_clean_crash_after_step;

int log_fsync_dir(const char *dir);
/* Takes the log offline (first error wins) with one log line; returns
 * EDDY_ERR_LOG_OFFLINE. */
int log_go_offline(log_t *log, int err, const char *what);
/* The same after a read of segment seg at pos that failed (err = -errno) or
 * found the file ending first (err = 0): the line names the file, and for a
 * short file its size against what the log holds in it. */
int log_read_failed(log_t *log, log_segment_t *seg, int64_t pos, int64_t len, int err);
/* Writes a whole file atomically: temp, (fsync), rename, (fsync dir). */
/* Marker file: the cleaner has rewritten this log at least once, so gaps
 * between its segments are compaction's, not lost files. */
#define COMPACTED_NAME ".compacted"

int log_write_file_atomic(const char *dir, const char *name, const void *data, size_t len,
                          int durable);

#endif

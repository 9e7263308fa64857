/* The partition log: an append-only sequence of Kafka RecordBatch v2 bytes,
 * split into segments, with sparse offset and time indexes, retention,
 * compaction and crash recovery. See docs/log.md for the on-disk picture.
 *
 * A log is owned by one thread (the broker's loop); no call here locks. The
 * only pieces meant for another thread are marked: log_flush_sync() and
 * log_clean_run() touch nothing the owner changes while they run.
 *
 * Error returns are eddy_err codes (common/err.h); functions that can fail in
 * a way a user must act on also write a sentence to errstr.
 */
#ifndef EDDY_BROKER_LOG_H
#define EDDY_BROKER_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/config.h"

typedef struct log log_t;
typedef struct log_segment log_segment_t;
typedef struct log_fdcache log_fdcache_t;

/* cleanup.policy bits (config names "delete" and "compact"). */
#define LOG_CLEANUP_DELETE 0x1
#define LOG_CLEANUP_COMPACT 0x2

/* Topic-level settings, with Kafka's names (see log_config_defs). */
typedef struct log_config {
    int64_t segment_bytes;        /* segment.bytes */
    int64_t segment_ms;           /* segment.ms */
    int64_t retention_ms;         /* retention.ms, -1 = keep forever */
    int64_t retention_bytes;      /* retention.bytes, -1 = no limit */
    int32_t index_interval_bytes; /* index.interval.bytes */
    int32_t segment_index_bytes;  /* segment.index.bytes: roll when the index is full */
    int cleanup_policy;           /* cleanup.policy: LOG_CLEANUP_* bits */
    int64_t delete_retention_ms;  /* delete.retention.ms: how long tombstones stay */
    double min_cleanable_dirty_ratio; /* min.cleanable.dirty.ratio */
    int64_t flush_messages;       /* flush.messages */
    int64_t flush_ms;             /* flush.ms */
    int32_t max_message_bytes;    /* max.message.bytes: largest batch accepted */
    int compression_type;         /* compression.type: LOG_COMPRESSION_PRODUCER or a codec id */
    int32_t compression_gzip_level; /* compression.gzip.level, -1: zlib's default */
    int32_t compression_lz4_level;  /* compression.lz4.level */
    int32_t compression_zstd_level; /* compression.zstd.level */
    int message_timestamp_type;   /* message.timestamp.type: LOG_TIMESTAMP_* */
    int64_t max_inflated_bytes;   /* broker's message.max.inflated.bytes; 0: derived */
    int64_t min_compaction_lag_ms; /* min.compaction.lag.ms: younger segments are not cleaned */
    int64_t max_compaction_lag_ms; /* max.compaction.lag.ms: older dirt forces a clean */
    int64_t message_timestamp_after_max_ms;  /* message.timestamp.after.max.ms */
    int64_t message_timestamp_before_max_ms; /* message.timestamp.before.max.ms */
    /* Accepted, validated and stored with Kafka's names, without effect on
     * one node without tiered storage (docs/broker.md, "Topic configs"). */
    int64_t file_delete_delay_ms;  /* file.delete.delay.ms */
    int64_t local_retention_bytes; /* local.retention.bytes */
    int64_t local_retention_ms;    /* local.retention.ms */
    int32_t min_insync_replicas;   /* min.insync.replicas */
    int preallocate;               /* preallocate */
    int remote_storage_enable;     /* remote.storage.enable: only false */
    int remote_log_copy_disable;   /* remote.log.copy.disable */
    int remote_log_delete_on_disable; /* remote.log.delete.on.disable */
    int64_t segment_jitter_ms;     /* segment.jitter.ms */
    int unclean_leader_election_enable; /* unclean.leader.election.enable */
    /* leader.replication.throttled.replicas, follower.replication.throttled.replicas */
    char leader_throttled_replicas[EDDY_CFG_TEXT_MAX];
    char follower_throttled_replicas[EDDY_CFG_TEXT_MAX];
} log_config_t;

/* compression.type values: 0-4 are the codec ids (WIRE_CODEC_*, "uncompressed"
 * is 0); "producer" keeps each batch as its producer compressed it. */
#define LOG_COMPRESSION_PRODUCER 5
/* message.timestamp.type values. */
#define LOG_TIMESTAMP_CREATE_TIME 0
#define LOG_TIMESTAMP_LOG_APPEND_TIME 1

/* Most bytes a compressed batch of this log may inflate to: the broker's
 * message.max.inflated.bytes, or when that is 0, 64 times max.message.bytes
 * and at least 64 MiB (docs/broker.md, "Compressed batches"). */
size_t log_inflate_limit(const log_config_t *cfg);
/* The level the topic asks for when the broker compresses with codec
 * (compression.gzip.level, ...), or WIRE_CODEC_LEVEL_DEFAULT. */
int log_codec_level(const log_config_t *cfg, int codec);
#define LOG_INFLATE_FLOOR ((size_t)64 << 20)
extern const char *const log_compression_types[];
extern const char *const log_timestamp_types[];

extern const eddy_cfg_def_t log_config_defs[];

/* Kafka's defaults. */
void log_config_default(log_config_t *cfg);
/* The checks a value alone cannot pass (list syntax, settings Eddy cannot
 * honour): 0, or EDDY_ERR_CONFIG with a sentence naming the setting. */
int log_config_check(const log_config_t *cfg, char *msg, size_t msg_size);

/* Open file descriptors are shared out among all logs by one cache: segment
 * files are opened on first use and the least recently used idle one is
 * closed when more than max_open are open, so 10,000 partitions fit in a
 * default fd limit. Pinned segments (a read in flight) are never closed. */
log_fdcache_t *log_fdcache_new(int max_open);
void log_fdcache_destroy(log_fdcache_t *fdc); /* after every log using it is closed */
int log_fdcache_open_count(const log_fdcache_t *fdc);
/* Deleted segment files are first renamed to "<name>.deleted" (so a crash
 * cannot bring them back), then handed to fn for removal; the broker removes
 * them on a worker thread. Without a deleter they are unlinked at once.
 * Open deletes leftover ".deleted" files. */
typedef void(log_deleter_fn)(const char *path, void *opaque);
void log_fdcache_set_deleter(log_fdcache_t *fdc, log_deleter_fn *fn, void *opaque);

/* Opens (creating if needed) the log in directory dir, recovering it if it
 * was not closed cleanly. name is used in log lines ("topic-3"). */
int log_open(const char *dir, const char *name, const log_config_t *cfg, log_fdcache_t *fdc,
             int64_t now_ms, log_t **out, char *errstr, size_t errstr_size);
/* Clean close: flushes, writes indexes, the checkpoint and the clean-shutdown
 * marker, frees the log. Returns the flush error if any (the log is freed
 * either way). */
int log_close(log_t *log);
/* Frees the log writing nothing, as a kill -9 would leave it (tests). */
void log_close_abrupt(log_t *log);

/* By default an append that reaches flush.messages / flush.ms fsyncs in
 * place; with inline off it only sets ai_flush_due, and the owner runs the
 * flush (log_flush_prepare/sync/complete) where it wants. */
void log_set_inline_flush(log_t *log, int inline_flush);

/* Replaces the topic configuration (takes effect at the next append/roll). */
void log_set_config(log_t *log, const log_config_t *cfg);

typedef struct log_append_info {
    int64_t ai_first_offset; /* base offset assigned to the first batch */
    int64_t ai_last_offset;
    int64_t ai_max_timestamp;
    int32_t ai_batches;
    int32_t ai_records;
    int ai_flush_due; /* flush policy reached and the log does not flush inline */
    int64_t ai_log_append_time; /* the stamp of a LogAppendTime topic, else -1 */
    int ai_duplicate; /* a retried idempotent batch: nothing appended, offsets are the first's */
} log_append_info_t;

/* Appends one or more whole batches (the records field of a produce
 * request). Every batch is validated first (with wire_batch_validate flags
 * vflags, compressed records inflated at most log_inflate_limit() bytes); if
 * any fails nothing is appended. Offsets are assigned by rewriting each
 * batch's baseOffset in buf (the caller's bytes are changed). A topic whose
 * compression.type names a codec gets every other batch recompressed with
 * it; a LogAppendTime topic gets each batch stamped (attribute and
 * maxTimestamp, CRC recomputed). Batches with a producer id are checked
 * against the producer state (producer_state.h): a retry of a batch already
 * appended returns 0 with ai_duplicate set and the first append's offsets,
 * appending nothing. Returns 0, EDDY_ERR_BATCH_* (corrupt),
 * EDDY_ERR_CORRUPT_COMPRESSED, EDDY_ERR_INFLATED_TOO_LARGE, EDDY_ERR_TOO_LARGE
 * (a batch over max.message.bytes, as sent or as recompressed),
 * EDDY_ERR_INVALID_TIMESTAMP (with WIRE_BATCH_CHECK_RECORDS on a CreateTime
 * topic: a record outside message.timestamp.before/after.max.ms of now_ms),
 * EDDY_ERR_RECORD_WITHOUT_KEY (with WIRE_BATCH_CHECK_RECORDS on a compacted
 * topic: a record with a null key),
 * EDDY_ERR_LOG_OFFLINE, EDDY_ERR_OUT_OF_ORDER_SEQUENCE,
 * EDDY_ERR_INVALID_PRODUCER_EPOCH, EDDY_ERR_UNKNOWN_PRODUCER_ID, or an I/O
 * error. */
/* vflags bit: the batches are a coordinator's own (Kafka's
 * AppendOrigin.COORDINATOR: the group coordinator's transactional offset
 * commits), written with no sequence (-1): only the producer epoch is
 * checked, nothing counts as a duplicate. */
#define LOG_APPEND_COORDINATOR 0x100
int log_append(log_t *log, uint8_t *buf, size_t len, int vflags, int64_t now_ms,
               log_append_info_t *info, char *errstr, size_t errstr_size);

/* Appends to out the batch at p[0..size) (validated) with its records
 * compressed by codec at level, everything else kept. Returns 0, an error of
 * wire_record_iter_open(), EDDY_ERR_BATCH_RECORD or the codec's error, with a
 * sentence in errstr. */
int log_batch_recompress(const uint8_t *p, size_t size, int codec, int level, size_t max_inflated,
                         eddy_wr_t *out, char *errstr, size_t errstr_size);

/* A range of one segment file holding whole batches, for sending with
 * sendfile() or pread(). The fd is borrowed and stays open until
 * log_slice_release(), even if the segment is deleted meanwhile. */
typedef struct log_slice {
    int sl_fd;
    int64_t sl_pos;
    size_t sl_len;          /* 0: nothing to read at this offset (yet) */
    int64_t sl_first_offset; /* base offset of the first batch in the range */
    int64_t sl_next_offset;  /* log_read_upto with a bound: the offset after its last
                              * batch (when sl_len > 0); otherwise -1 */
    log_segment_t *sl_seg;  /* pinned, internal */
} log_slice_t;

/* Whole batches starting with the one that holds offset, at most max_bytes of
 * them but always at least one. offset == log end gives an empty slice;
 * outside [start, end] gives EDDY_ERR_OFFSET_OUT_OF_RANGE. */
int log_read(log_t *log, int64_t offset, size_t max_bytes, log_slice_t *out);
/* Copies the slice's bytes to dst (sl_len of them). A read that fails or
 * comes back short (the file was cut under the log) takes the log offline
 * with one log line and returns EDDY_ERR_LOG_OFFLINE: never bytes that were
 * not read. */
int log_slice_read(log_t *log, const log_slice_t *sl, uint8_t *dst);
/* Copies n bytes of the slice from byte off of it: the broker writes a slice
 * a chunk at a time. Fails as log_slice_read does (the log goes offline with
 * one line), but returns the cause: -errno, or EDDY_ERR_TRUNCATED when the
 * file ends before the slice (cut under the log). */
int log_slice_pread(log_t *log, const log_slice_t *sl, size_t off, uint8_t *dst, size_t n);
/* Whether the segment file still holds all of the slice (one fstat), so a
 * file cut under the log is found before a response promises its bytes.
 * Returns 0, or EDDY_ERR_LOG_OFFLINE as log_slice_read does. */
int log_slice_check(log_t *log, const log_slice_t *sl);
void log_slice_release(log_t *log, log_slice_t *sl);

int64_t log_start_offset(const log_t *log);
int64_t log_end_offset(const log_t *log);  /* next offset to assign */
int64_t log_size_bytes(const log_t *log);
int log_segment_count(const log_t *log);
int64_t log_recovery_point(const log_t *log);
/* 0, or the error that took the log offline. */
int log_offline_error(const log_t *log);

/* First offset whose record timestamp is >= ts, and that record's timestamp;
 * *offset = -1 when no record is that late. */
int log_offset_for_timestamp(log_t *log, int64_t ts, int64_t *offset, int64_t *timestamp);
/* The first record (at or above the log start) with the largest timestamp of
 * the log, for ListOffsets -3 (KIP-734); -1 and -1 when the log holds none. */
int log_offset_of_max_timestamp(log_t *log, int64_t *offset, int64_t *timestamp);

/* ---- transactions (Kafka's design: docs/log.md, "Transactions") ---- */

/* Appends a transaction marker (Kafka's EndTransactionMarker): a control
 * batch (attributes transactional|control, the producer's id and epoch,
 * baseSequence -1) of one record, key = version int16 0 + type int16 (0
 * abort, 1 commit), value = version int16 0 + coordinator_epoch int32. It
 * ends the producer's ongoing transaction in this partition; an abort adds
 * an entry to the segment's aborted-transaction index (.txnindex). A marker
 * for a producer with no ongoing transaction is still appended (a
 * coordinator retries after a crash) and changes nothing else. An epoch
 * newer than the log's is accepted (fencing bumps it), an older one is
 * EDDY_ERR_INVALID_PRODUCER_EPOCH. Returns 0 and the marker's offset, or an
 * error as log_append's. */
int log_append_marker(log_t *log, int64_t producer_id, int16_t producer_epoch, int commit,
                      int32_t coordinator_epoch, int64_t now_ms, int64_t *offset_out);
/* 1 once when a log_append_marker() since the last call reached flush.messages /
 * flush.ms on a log that does not flush inline (ai_flush_due of log_append): the
 * owner then runs the flush. */
int log_marker_flush_due(log_t *log);
/* The last stable offset: the first offset of the earliest ongoing
 * transaction, or the high watermark (the log end on one node) when none,
 * never below the log start. read_committed consumers read below it. */
int64_t log_last_stable_offset(const log_t *log);
/* Producers with an ongoing transaction in this log. */
int log_ongoing_txn_count(const log_t *log);
/* 1 when producer_id has a transaction open in this log in producer_epoch
 * (its first transactional batch here is appended and no marker came yet),
 * else 0. */
int log_txn_open(const log_t *log, int64_t producer_id, int16_t producer_epoch);

/* An aborted transaction: producer, first offset of its data, offset of its
 * abort marker, and the log's LSO once the marker was written (Kafka's
 * AbortedTxn). */
typedef struct log_aborted_txn {
    int64_t at_pid;
    int64_t at_first;
    int64_t at_last;
    int64_t at_lso;
} log_aborted_txn_t;
/* The aborted transactions a fetch of [from, upper) must announce (Kafka's
 * collectAbortedTransactions): those with lastOffset >= from and firstOffset
 * < upper, in marker order. *out is malloc'ed (NULL when none). Returns 0 or
 * -ENOMEM. */
int log_aborted_txns(const log_t *log, int64_t from, int64_t upper, log_aborted_txn_t **out,
                     size_t *n);

/* log_read() that stops before the first batch whose base offset is >=
 * max_offset (the LSO of a read_committed fetch): the slice may be empty.
 * INT64_MAX is no bound (log_read). */
int log_read_upto(log_t *log, int64_t offset, size_t max_bytes, int64_t max_offset,
                  log_slice_t *out);

/* Idempotent producers known to the log (producer_state.h). */
int log_producer_count(const log_t *log);
/* Forgets producers whose last batch's maxTimestamp is expiration_ms (the
 * broker's producer.id.expiration.ms) older than now_ms, as Kafka's
 * periodic check does; their next batch must start at sequence 0 or gets
 * UNKNOWN_PRODUCER_ID. Returns how many went. */
int log_producers_expire(log_t *log, int64_t now_ms, int64_t expiration_ms);

/* Removes every batch that holds an offset >= offset; a batch that straddles
 * it goes entirely, so the new end may be below offset. */
int log_truncate_to(log_t *log, int64_t offset);
/* Moves the log start to offset (<= end), deleting segments wholly below it
 * (Kafka's DeleteRecords). Durable before it returns. */
int log_delete_records_before(log_t *log, int64_t offset);
/* Deletes whole segments from the head that are past retention.ms or beyond
 * retention.bytes (policy "delete" only). The active segment is kept. */
int log_retention_run(log_t *log, int64_t now_ms, int *deleted);

/* Flush: fsync every byte appended so far, then checkpoint the recovery
 * point. log_flush() does the three steps in place; the broker runs the
 * middle one on a worker thread. A failed fsync takes the log offline. */
typedef struct log_flush_req log_flush_req_t;
int log_flush(log_t *log);
/* 1 when flush.ms has passed since the last flush with records unflushed
 * (the broker's timer asks; the clock restarts when it says yes). */
int log_flush_due(log_t *log, int64_t now_ms);
log_flush_req_t *log_flush_prepare(log_t *log);  /* NULL: nothing to flush */
int log_flush_sync(log_flush_req_t *req);         /* any thread */
int log_flush_complete(log_t *log, log_flush_req_t *req, int rc); /* frees req */

/* Compaction (cleanup.policy compact). prepare picks the segments (never the
 * active one) and returns NULL when there is nothing worth cleaning (dirty
 * ratio under min.cleanable.dirty.ratio, unless force); run writes the
 * cleaned copies (any thread); commit swaps them in (owner thread) or
 * returns EDDY_ERR_STALE if the log changed under the job. */
typedef struct log_clean_job log_clean_job_t;
log_clean_job_t *log_clean_prepare(log_t *log, int64_t now_ms, int force);
int log_clean_run(log_clean_job_t *job);
int log_clean_commit(log_t *log, log_clean_job_t *job);
void log_clean_job_free(log_clean_job_t *job);
/* All three in place; returns 0 when there was nothing to do. */
int log_compact(log_t *log, int64_t now_ms, int force);

#endif

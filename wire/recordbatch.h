/* Kafka RecordBatch v2: validating decoder, record iterator and encoder.
 *
 * Layout (all integers big-endian; see docs/protocol.md and Kafka's
 * DefaultRecordBatch):
 *
 *   0 baseOffset            int64   rewritten by the broker, outside the CRC
 *   8 batchLength           int32   bytes after this field
 *  12 partitionLeaderEpoch  int32   outside the CRC
 *  16 magic                 int8    = 2
 *  17 crc                   uint32  CRC-32C of bytes 21..end
 *  21 attributes            int16   bits 0-2 codec, 3 LogAppendTime,
 *                                   4 transactional, 5 control
 *  23 lastOffsetDelta       int32
 *  27 baseTimestamp         int64
 *  35 maxTimestamp          int64
 *  43 producerId            int64
 *  51 producerEpoch         int16
 *  53 baseSequence          int32
 *  57 recordCount           int32
 *  61 records...
 *
 * Record: length varint, attributes int8, timestampDelta varlong, offsetDelta
 * varint, keyLength varint (-1 = null), key, valueLength varint (-1 = null),
 * value, headerCount varint, headers (keyLength varint, key, valueLength
 * varint, value). All record varints are zigzag.
 */
#ifndef EDDY_WIRE_RECORDBATCH_H
#define EDDY_WIRE_RECORDBATCH_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "wire/codec.h"

enum {
    BATCH_OFF_BASE_OFFSET = 0,
    BATCH_OFF_LENGTH = 8,
    BATCH_OFF_LEADER_EPOCH = 12,
    BATCH_OFF_MAGIC = 16,
    BATCH_OFF_CRC = 17,
    BATCH_OFF_ATTRIBUTES = 21,
    BATCH_OFF_LAST_OFFSET_DELTA = 23,
    BATCH_OFF_BASE_TIMESTAMP = 27,
    BATCH_OFF_MAX_TIMESTAMP = 35,
    BATCH_OFF_PRODUCER_ID = 43,
    BATCH_OFF_PRODUCER_EPOCH = 51,
    BATCH_OFF_BASE_SEQUENCE = 53,
    BATCH_OFF_RECORD_COUNT = 57,
    BATCH_HEADER_SIZE = 61,
    BATCH_LOG_OVERHEAD = 12, /* baseOffset + batchLength */
};

#define BATCH_ATTR_CODEC_MASK 0x07
#define BATCH_ATTR_LOG_APPEND_TIME 0x08
#define BATCH_ATTR_TRANSACTIONAL 0x10
#define BATCH_ATTR_CONTROL 0x20
#define BATCH_CODEC_NONE 0 /* the ids are WIRE_CODEC_* in wire/codec.h */
#define BATCH_CODEC_MAX 4  /* zstd */

typedef struct wire_batch_header {
    int64_t baseOffset;
    int32_t batchLength;
    int32_t partitionLeaderEpoch;
    int8_t magic;
    uint32_t crc;
    int16_t attributes;
    int32_t lastOffsetDelta;
    int64_t baseTimestamp;
    int64_t maxTimestamp;
    int64_t producerId;
    int16_t producerEpoch;
    int32_t baseSequence;
    int32_t recordCount;
    /* Set by wire_batch_validate with WIRE_BATCH_CHECK_RECORDS: the smallest
     * and largest record timestamp other than -1 (no timestamp), -1 when no
     * record has one, and how many records have a null key; not part of the
     * header bytes. */
    int64_t recordMinTimestamp, recordMaxTimestamp;
    int32_t recordsWithoutKey;
} wire_batch_header_t;

/* Total bytes of the batch that starts at p: 12 + batchLength. */
static inline int64_t wire_batch_size(const uint8_t *p)
{
    return BATCH_LOG_OVERHEAD + (int32_t)be32_load(p + BATCH_OFF_LENGTH);
}
static inline int64_t wire_batch_last_offset(const wire_batch_header_t *h)
{
    return h->baseOffset + h->lastOffsetDelta;
}

/* Reads the fixed 61-byte header (no CRC check). len must be >= 61. */
int wire_batch_header_read(const uint8_t *p, size_t len, wire_batch_header_t *h);

/* Validation flags. */
#define WIRE_BATCH_CHECK_RECORDS                                                                   \
    0x1 /* parse every record (compressed ones decompressed,
                                        at most max_inflated bytes) */
#define WIRE_BATCH_FROM_CLIENT                                                                     \
    0x2   /* produce path: offsets dense (lastOffsetDelta ==
                                        recordCount-1, offsetDelta i == i), no control batch */

/* Validates the batch at the start of p[0..len): the length fits in len,
 * magic 2, CRC-32C, codec known, lastOffsetDelta consistent; with the flags,
 * the records too: each parses, the count matches recordCount and the
 * records fill the (decompressed) records section exactly. On success fills
 * h and returns the batch's total size (> 0); on failure returns an
 * EDDY_ERR_BATCH_* code (or EDDY_ERR_CORRUPT_COMPRESSED,
 * EDDY_ERR_INFLATED_TOO_LARGE, -ENOMEM) and writes a sentence naming the
 * field to errstr. max_inflated bounds decompression (CHECK_RECORDS only). */
int64_t wire_batch_validate(const uint8_t *p, size_t len, int flags, size_t max_inflated,
                            wire_batch_header_t *h, char *errstr, size_t errstr_size);

typedef struct wire_header {
    const uint8_t *key;
    int32_t keyLength; /* -1: null (never valid for a header key, but decoded as sent) */
    const uint8_t *value;
    int32_t valueLength; /* -1: null */
} wire_header_t;

/* A decoded record: every pointer borrows the batch bytes. */
typedef struct wire_record {
    int8_t attributes;
    int32_t offsetDelta;
    int64_t offset;    /* baseOffset + offsetDelta */
    int64_t timestamp; /* baseTimestamp + timestampDelta */
    const uint8_t *key;
    int32_t keyLength; /* -1: null */
    const uint8_t *value;
    int32_t valueLength; /* -1: null (tombstone) */
    int32_t headerCount;
    const uint8_t *headers; /* raw header entries, headers_len bytes */
    size_t headers_len;
} wire_record_t;

typedef struct wire_record_iter {
    eddy_rd_t ri_rd;
    wire_batch_header_t ri_hdr;
    int32_t ri_left;
    uint8_t *ri_inflated; /* owned: a compressed batch's records, decompressed */
} wire_record_iter_t;

/* Opens the records of one batch (which passed wire_batch_validate), of any
 * codec: a compressed batch is decompressed into the iterator, at most
 * max_inflated bytes (WIRE_INFLATE_LIMIT_DEFAULT when the caller has no
 * better bound). Returns 0, or an error with a sentence in errstr (unknown
 * codec, corrupt or oversized stream, -ENOMEM): a batch that cannot be read
 * is an error for the caller to report, never a batch to skip. Every
 * successful open is paired with wire_record_iter_close(). */
int wire_record_iter_open(wire_record_iter_t *it, const uint8_t *batch, size_t len,
                          size_t max_inflated, char *errstr, size_t errstr_size);
/* 1: rec filled (pointers borrow the batch or the iterator's buffer, valid
 * until close); 0: no more records; < 0: malformed record. */
int wire_record_next(wire_record_iter_t *it, wire_record_t *rec);
void wire_record_iter_close(wire_record_iter_t *it);
/* Iterates the raw headers of a record: 1 filled, 0 done, < 0 malformed. */
int wire_header_next(eddy_rd_t *rd, wire_header_t *h);

/* Encoder. Usage:
 *   wire_batch_builder_t b;
 *   wire_batch_begin(&b, &wr, &tmpl);        // tmpl: wire_batch_header_default()
 *   wire_batch_add(&b, ts, key, klen, val, vlen, hdrs, nhdrs);  // repeated
 *   wire_batch_end(&b);                      // fills length, count, CRC
 * The batch is appended to wr; one writer may hold several batches.
 * A codec in tmpl's attributes compresses the records at wire_batch_end(),
 * at level bb_level (set it after begin; WIRE_CODEC_LEVEL_DEFAULT). */
typedef struct wire_batch_builder {
    eddy_wr_t *bb_wr; /* borrowed */
    size_t bb_start;
    wire_batch_header_t bb_hdr;
    int bb_have_ts;
    int32_t bb_next_delta;
    int bb_level;
} wire_batch_builder_t;

/* baseOffset 0, leader epoch -1, no producer id (-1/-1/-1), attributes 0. */
wire_batch_header_t wire_batch_header_default(void);
void wire_batch_begin(wire_batch_builder_t *b, eddy_wr_t *wr, const wire_batch_header_t *tmpl);
/* Adds a record at the next offset delta. Lengths of -1 mean null. */
void wire_batch_add(wire_batch_builder_t *b, int64_t timestamp, const void *key, int32_t keyLength,
                    const void *value, int32_t valueLength, const wire_header_t *headers,
                    int32_t headerCount);
/* Copies a decoded record keeping its offset delta (compaction keeps offsets). */
void wire_batch_add_record(wire_batch_builder_t *b, const wire_record_t *rec);
/* Finishes the batch, compressing its records if its codec says so.
 * lastOffsetDelta is the last added record's delta unless keep_last_delta is
 * set (compaction keeps the original batch's last offset). Returns 0, the
 * writer's error, or the codec's (wire_codec_compress()). */
int wire_batch_end(wire_batch_builder_t *b, int keep_last_delta);

/* Recomputes and stores the CRC after header fields inside it changed. */
void wire_batch_crc_update(uint8_t *batch, size_t len);

#endif

#include "recordbatch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

#include "common/crc32c.h"
#include "common/err.h"
#include "common/varint.h"

int wire_batch_header_read(const uint8_t *p, size_t len, wire_batch_header_t *h)
{
    eddy_rd_t rd;
    rd_init(&rd, p, len);
    h->baseOffset = rd_i64(&rd);
    h->batchLength = rd_i32(&rd);
    h->partitionLeaderEpoch = rd_i32(&rd);
    h->magic = rd_i8(&rd);
    h->crc = rd_u32(&rd);
    h->attributes = rd_i16(&rd);
    h->lastOffsetDelta = rd_i32(&rd);
    h->baseTimestamp = rd_i64(&rd);
    h->maxTimestamp = rd_i64(&rd);
    h->producerId = rd_i64(&rd);
    h->producerEpoch = rd_i16(&rd);
    h->baseSequence = rd_i32(&rd);
    h->recordCount = rd_i32(&rd);
    h->recordMinTimestamp = h->recordMaxTimestamp = -1;
    return rd.rd_err;
}

/* The reader's own errors (a short or over-long varint) surface as a
 * malformed record, so callers only ever see EDDY_ERR_BATCH_* codes. */
static int record_err(int rc)
{
    return rc == EDDY_ERR_TRUNCATED || rc == EDDY_ERR_VARINT_OVERFLOW ? EDDY_ERR_BATCH_RECORD : rc;
}

/* Parses one record from rd; shared by validation and iteration. */
static int record_read(eddy_rd_t *rd, const wire_batch_header_t *h, wire_record_t *rec)
{
    int32_t length = rd_varint(rd);
    if (rd->rd_err)
        return rd->rd_err;
    if (length < 0 || (size_t)length > rd_remaining(rd))
        return EDDY_ERR_BATCH_RECORD;
    eddy_rd_t r;
    rd_init(&r, rd_bytes(rd, (size_t)length), (size_t)length);
    rec->attributes = rd_i8(&r);
    /* The header fields and deltas come from the wire: add them as unsigned
     * so extreme values wrap (as in Kafka's Java) instead of being undefined. */
    rec->timestamp = (int64_t)((uint64_t)h->baseTimestamp + (uint64_t)rd_varlong(&r));
    rec->offsetDelta = rd_varint(&r);
    rec->offset = (int64_t)((uint64_t)h->baseOffset + (uint64_t)(int64_t)rec->offsetDelta);
    rec->keyLength = rd_varint(&r);
    rec->key = rec->keyLength >= 0 ? rd_bytes(&r, (size_t)rec->keyLength) : NULL;
    rec->valueLength = rd_varint(&r);
    rec->value = rec->valueLength >= 0 ? rd_bytes(&r, (size_t)rec->valueLength) : NULL;
    rec->headerCount = rd_varint(&r);
    if (r.rd_err || rec->keyLength < -1 || rec->valueLength < -1 || rec->headerCount < 0)
        return EDDY_ERR_BATCH_RECORD;
    rec->headers = r.rd_p + r.rd_pos;
    rec->headers_len = rd_remaining(&r);
    /* Walk the headers so a malformed one is caught here, and so the record
     * length must match its content exactly. */
    eddy_rd_t hr;
    rd_init(&hr, rec->headers, rec->headers_len);
    wire_header_t hd;
    for (int32_t i = 0; i < rec->headerCount; i++)
        if (wire_header_next(&hr, &hd) != 1)
            return EDDY_ERR_BATCH_RECORD;
    if (rd_remaining(&hr) != 0)
        return EDDY_ERR_BATCH_RECORD;
    return 0;
}

int wire_header_next(eddy_rd_t *rd, wire_header_t *h)
{
    if (rd_remaining(rd) == 0)
        return rd->rd_err ? rd->rd_err : 0;
    h->keyLength = rd_varint(rd);
    h->key = h->keyLength >= 0 ? rd_bytes(rd, (size_t)h->keyLength) : NULL;
    h->valueLength = rd_varint(rd);
    h->value = h->valueLength >= 0 ? rd_bytes(rd, (size_t)h->valueLength) : NULL;
    if (rd->rd_err || h->keyLength < -1 || h->valueLength < -1)
        return EDDY_ERR_BATCH_RECORD;
    return 1;
}

/* The records of a batch, uncompressed: borrowed from the batch, or
 * decompressed into *owned (the caller frees it). */
static int batch_records(const uint8_t *batch, const wire_batch_header_t *h, size_t max_inflated,
                         const uint8_t **recs, size_t *recs_len, uint8_t **owned, char *errstr,
                         size_t errstr_size)
{
    const uint8_t *body = batch + BATCH_HEADER_SIZE;
    size_t body_len = (size_t)((int64_t)BATCH_LOG_OVERHEAD + h->batchLength) - BATCH_HEADER_SIZE;
    int codec = h->attributes & BATCH_ATTR_CODEC_MASK;
    *owned = NULL;
    if (codec == BATCH_CODEC_NONE) {
        *recs = body;
        *recs_len = body_len;
        return 0;
    }
    char why[160];
    int rc = wire_codec_decompress(codec, body, body_len, max_inflated, owned, recs_len, why,
                                   sizeof why);
    if (rc) {
        snprintf(errstr, errstr_size, "batch records: %s", why);
        return rc;
    }
    *recs = *owned;
    return 0;
}

/* Each record must parse, offsets must rise within the batch's span, and
 * the records must fill their section exactly. */
static int records_check(const uint8_t *recs, size_t len, wire_batch_header_t *h, int flags,
                         char *errstr, size_t errstr_size)
{
    eddy_rd_t rd;
    rd_init(&rd, recs, len);
    int32_t prev = -1;
    h->recordMinTimestamp = h->recordMaxTimestamp = -1;
    h->recordsWithoutKey = 0;
    for (int32_t i = 0; i < h->recordCount; i++) {
        wire_record_t rec;
        int rc = record_read(&rd, h, &rec);
        if (rc == 0 && (rec.offsetDelta <= prev || rec.offsetDelta > h->lastOffsetDelta ||
                        ((flags & WIRE_BATCH_FROM_CLIENT) && rec.offsetDelta != i)))
            rc = EDDY_ERR_BATCH_LAST_OFFSET_DELTA;
        if (rc) {
            snprintf(errstr, errstr_size, "batch record %" PRId32 " of %" PRId32 ": %s", i,
                     h->recordCount,
                     rd_remaining(&rd) == 0 && rc != EDDY_ERR_BATCH_LAST_OFFSET_DELTA
                         ? "the records end before recordCount"
                         : eddy_strerror(record_err(rc)));
            return record_err(rc);
        }
        prev = rec.offsetDelta;
        if (rec.keyLength < 0)
            h->recordsWithoutKey++;
        if (rec.timestamp != -1) {
            if (h->recordMinTimestamp == -1 || rec.timestamp < h->recordMinTimestamp)
                h->recordMinTimestamp = rec.timestamp;
            if (h->recordMaxTimestamp == -1 || rec.timestamp > h->recordMaxTimestamp)
                h->recordMaxTimestamp = rec.timestamp;
        }
    }
    if (rd_remaining(&rd) != 0) {
        snprintf(errstr, errstr_size, "batch length: %zu bytes left after the last record",
                 rd_remaining(&rd));
        return EDDY_ERR_BATCH_LENGTH;
    }
    return 0;
}

int64_t wire_batch_validate(const uint8_t *p, size_t len, int flags, size_t max_inflated,
                            wire_batch_header_t *h, char *errstr, size_t errstr_size)
{
    if (len < BATCH_HEADER_SIZE) {
        snprintf(errstr, errstr_size,
                 "batch length: %zu bytes is shorter than the %d-byte batch header", len,
                 BATCH_HEADER_SIZE);
        return EDDY_ERR_BATCH_LENGTH;
    }
    wire_batch_header_read(p, len, h);
    int64_t total = (int64_t)BATCH_LOG_OVERHEAD + h->batchLength;
    if (h->batchLength < BATCH_HEADER_SIZE - BATCH_LOG_OVERHEAD || (uint64_t)total > len) {
        snprintf(errstr, errstr_size, "batch length: batchLength %" PRId32 " but %zu bytes present",
                 h->batchLength, len - BATCH_LOG_OVERHEAD);
        return EDDY_ERR_BATCH_LENGTH;
    }
    if (h->magic != 2) {
        snprintf(errstr, errstr_size, "batch magic: %d, expected 2", h->magic);
        return EDDY_ERR_BATCH_MAGIC;
    }
    uint32_t crc = crc32c(0, p + BATCH_OFF_ATTRIBUTES, (size_t)total - BATCH_OFF_ATTRIBUTES);
    if (crc != h->crc) {
        snprintf(errstr, errstr_size, "batch CRC: stored 0x%08" PRIx32 ", computed 0x%08" PRIx32,
                 h->crc, crc);
        return EDDY_ERR_BATCH_CRC;
    }
    int codec = h->attributes & BATCH_ATTR_CODEC_MASK;
    if (codec > BATCH_CODEC_MAX) {
        snprintf(errstr, errstr_size, "batch codec: %d is not a known compression codec", codec);
        return EDDY_ERR_BATCH_CODEC;
    }
    /* Compaction removes records but keeps the batch's offsets, so a batch
     * from the log may hold fewer records than its offset span; one from a
     * client may not. */
    if (h->recordCount < 0 || h->lastOffsetDelta < 0 ||
        h->recordCount > (int64_t)h->lastOffsetDelta + 1 ||
        ((flags & WIRE_BATCH_FROM_CLIENT) && h->lastOffsetDelta != h->recordCount - 1)) {
        snprintf(errstr, errstr_size,
                 "batch lastOffsetDelta: %" PRId32 " does not fit recordCount %" PRId32,
                 h->lastOffsetDelta, h->recordCount);
        return EDDY_ERR_BATCH_LAST_OFFSET_DELTA;
    }
    if ((flags & WIRE_BATCH_FROM_CLIENT) && (h->attributes & BATCH_ATTR_CONTROL)) {
        snprintf(errstr, errstr_size, "batch attributes: control batches come only from brokers");
        return EDDY_ERR_CONTROL_BATCH;
    }
    if (!(flags & WIRE_BATCH_CHECK_RECORDS))
        return total;

    const uint8_t *recs;
    size_t recs_len;
    uint8_t *owned;
    int rc = batch_records(p, h, max_inflated, &recs, &recs_len, &owned, errstr, errstr_size);
    if (rc)
        return rc;
    rc = records_check(recs, recs_len, h, flags, errstr, errstr_size);
    free(owned);
    return rc ? rc : total;
}

int wire_record_iter_open(wire_record_iter_t *it, const uint8_t *batch, size_t len,
                          size_t max_inflated, char *errstr, size_t errstr_size)
{
    it->ri_inflated = NULL;
    int rc = wire_batch_header_read(batch, len, &it->ri_hdr);
    int64_t total = (int64_t)BATCH_LOG_OVERHEAD + it->ri_hdr.batchLength;
    if (rc || total < BATCH_HEADER_SIZE || (uint64_t)total > len) {
        snprintf(errstr, errstr_size, "batch length: %zu bytes do not hold the batch", len);
        return EDDY_ERR_BATCH_LENGTH;
    }
    const uint8_t *recs;
    size_t recs_len;
    rc = batch_records(batch, &it->ri_hdr, max_inflated, &recs, &recs_len, &it->ri_inflated, errstr,
                       errstr_size);
    if (rc)
        return rc;
    rd_init(&it->ri_rd, recs, recs_len);
    it->ri_left = it->ri_hdr.recordCount;
    return 0;
}

int wire_record_next(wire_record_iter_t *it, wire_record_t *rec)
{
    if (it->ri_left <= 0)
        return 0;
    int rc = record_read(&it->ri_rd, &it->ri_hdr, rec);
    if (rc)
        return record_err(rc);
    it->ri_left--;
    return 1;
}

void wire_record_iter_close(wire_record_iter_t *it)
{
    free(it->ri_inflated);
    it->ri_inflated = NULL;
}

wire_batch_header_t wire_batch_header_default(void)
{
    wire_batch_header_t h;
    memset(&h, 0, sizeof h);
    h.partitionLeaderEpoch = -1;
    h.magic = 2;
    h.producerId = -1;
    h.producerEpoch = -1;
    h.baseSequence = -1;
    return h;
}

void wire_batch_begin(wire_batch_builder_t *b, eddy_wr_t *wr, const wire_batch_header_t *tmpl)
{
    b->bb_wr = wr;
    b->bb_start = wr->wr_len;
    b->bb_hdr = *tmpl;
    b->bb_hdr.magic = 2;
    b->bb_hdr.recordCount = 0;
    b->bb_have_ts = 0;
    b->bb_next_delta = 0;
    b->bb_level = WIRE_CODEC_LEVEL_DEFAULT;
    wr_reserve(wr, BATCH_HEADER_SIZE); /* filled in by wire_batch_end() */
}

static void batch_note_record(wire_batch_builder_t *b, int64_t timestamp, int32_t offsetDelta)
{
    if (!b->bb_have_ts || timestamp > b->bb_hdr.maxTimestamp)
        b->bb_hdr.maxTimestamp = timestamp;
    b->bb_have_ts = 1;
    b->bb_hdr.recordCount++;
    b->bb_next_delta = offsetDelta + 1;
}

/* Writes everything of a record up to and including headerCount; the caller
 * writes the headers_len bytes of header entries right after. */
static void batch_put_record_head(wire_batch_builder_t *b, int8_t attributes, int64_t timestamp,
                                  int32_t offsetDelta, const void *key, int32_t keyLength,
                                  const void *value, int32_t valueLength, int32_t headerCount,
                                  size_t headers_len)
{
    if (!b->bb_have_ts)
        b->bb_hdr.baseTimestamp = timestamp;
    int64_t tsDelta = timestamp - b->bb_hdr.baseTimestamp;
    size_t body = 1 + varint64_size(tsDelta) + varint32_size(offsetDelta) +
                  varint32_size(keyLength) + (keyLength > 0 ? (size_t)keyLength : 0) +
                  varint32_size(valueLength) + (valueLength > 0 ? (size_t)valueLength : 0) +
                  varint32_size(headerCount) + headers_len;
    eddy_wr_t *wr = b->bb_wr;
    wr_varint(wr, (int32_t)body);
    wr_i8(wr, attributes);
    wr_varlong(wr, tsDelta);
    wr_varint(wr, offsetDelta);
    wr_varint(wr, keyLength);
    if (keyLength > 0)
        wr_bytes(wr, key, (size_t)keyLength);
    wr_varint(wr, valueLength);
    if (valueLength > 0)
        wr_bytes(wr, value, (size_t)valueLength);
    wr_varint(wr, headerCount);
    batch_note_record(b, timestamp, offsetDelta);
}

static size_t field_size(int32_t len)
{
    return varint32_size(len) + (len > 0 ? (size_t)len : 0);
}

void wire_batch_add(wire_batch_builder_t *b, int64_t timestamp, const void *key, int32_t keyLength,
                    const void *value, int32_t valueLength, const wire_header_t *headers,
                    int32_t headerCount)
{
    /* The record's length prefix covers the headers, so size them first. */
    size_t headers_len = 0;
    for (int32_t i = 0; i < headerCount; i++)
        headers_len += field_size(headers[i].keyLength) + field_size(headers[i].valueLength);
    batch_put_record_head(b, 0, timestamp, b->bb_next_delta, key, keyLength, value, valueLength,
                          headerCount, headers_len);
    eddy_wr_t *wr = b->bb_wr;
    for (int32_t i = 0; i < headerCount; i++) {
        wr_varint(wr, headers[i].keyLength);
        if (headers[i].keyLength > 0)
            wr_bytes(wr, headers[i].key, (size_t)headers[i].keyLength);
        wr_varint(wr, headers[i].valueLength);
        if (headers[i].valueLength > 0)
            wr_bytes(wr, headers[i].value, (size_t)headers[i].valueLength);
    }
}

void wire_batch_add_record(wire_batch_builder_t *b, const wire_record_t *rec)
{
    batch_put_record_head(b, rec->attributes, rec->timestamp, rec->offsetDelta, rec->key,
                          rec->keyLength, rec->value, rec->valueLength, rec->headerCount,
                          rec->headers_len);
    wr_bytes(b->bb_wr, rec->headers, rec->headers_len);
}

void wire_batch_crc_update(uint8_t *batch, size_t len)
{
    be32_store(batch + BATCH_OFF_CRC,
               crc32c(0, batch + BATCH_OFF_ATTRIBUTES, len - BATCH_OFF_ATTRIBUTES));
}

int wire_batch_end(wire_batch_builder_t *b, int keep_last_delta)
{
    eddy_wr_t *wr = b->bb_wr;
    if (wr->wr_err)
        return wr->wr_err;
    wire_batch_header_t *h = &b->bb_hdr;
    if (!keep_last_delta)
        h->lastOffsetDelta = b->bb_next_delta > 0 ? b->bb_next_delta - 1 : 0;
    if (!b->bb_have_ts)
        h->maxTimestamp = h->baseTimestamp;
    int codec = h->attributes & BATCH_ATTR_CODEC_MASK;
    if (codec != BATCH_CODEC_NONE) {
        /* The records were written plain after the header; compress them
         * into a scratch writer and put the result in their place. */
        size_t recs_at = b->bb_start + BATCH_HEADER_SIZE;
        eddy_wr_t z;
        wr_init(&z);
        int rc = wire_codec_compress(codec, b->bb_level, wr->wr_buf + recs_at, wr->wr_len - recs_at,
                                     &z);
        if (rc) {
            wr_free(&z);
            return rc;
        }
        wr->wr_len = recs_at;
        wr_bytes(wr, z.wr_buf, z.wr_len);
        wr_free(&z);
        if (wr->wr_err)
            return wr->wr_err;
    }
    size_t len = wr->wr_len - b->bb_start;
    h->batchLength = (int32_t)(len - BATCH_LOG_OVERHEAD);
    uint8_t *p = wr->wr_buf + b->bb_start;
    be64_store(p + BATCH_OFF_BASE_OFFSET, (uint64_t)h->baseOffset);
    be32_store(p + BATCH_OFF_LENGTH, (uint32_t)h->batchLength);
    be32_store(p + BATCH_OFF_LEADER_EPOCH, (uint32_t)h->partitionLeaderEpoch);
    p[BATCH_OFF_MAGIC] = 2;
    be16_store(p + BATCH_OFF_ATTRIBUTES, (uint16_t)h->attributes);
    be32_store(p + BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)h->lastOffsetDelta);
    be64_store(p + BATCH_OFF_BASE_TIMESTAMP, (uint64_t)h->baseTimestamp);
    be64_store(p + BATCH_OFF_MAX_TIMESTAMP, (uint64_t)h->maxTimestamp);
    be64_store(p + BATCH_OFF_PRODUCER_ID, (uint64_t)h->producerId);
    be16_store(p + BATCH_OFF_PRODUCER_EPOCH, (uint16_t)h->producerEpoch);
    be32_store(p + BATCH_OFF_BASE_SEQUENCE, (uint32_t)h->baseSequence);
    be32_store(p + BATCH_OFF_RECORD_COUNT, (uint32_t)h->recordCount);
    wire_batch_crc_update(p, len);
    h->crc = be32_load(p + BATCH_OFF_CRC);
    return 0;
}

/* Compressed batches in the log: validation of what is inside them (nothing
 * appended when it fails; keys on a compacted topic), the inflation bound, compression.type
 * recompression, LogAppendTime stamping and lookups by timestamp. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "logtest.h"
#include "wire/codec.h"
#include "wire/recordbatch.h"

#define T0 1700000000000LL
#define NOW 1800000000000LL

/* A batch of n records "key<i>"/"value <i> ..." with timestamps T0 + 10 i,
 * compressed with codec, producer fields set as an idempotent producer would:
 * a producer id of its own (returned), so that the log takes every batch
 * built as a new producer's first, not as a retry of an earlier one. */
static int64_t build(eddy_wr_t *wr, int codec, int n)
{
    static int64_t next_pid = 4242;
    wire_batch_header_t h = wire_batch_header_default();
    h.attributes = (int16_t)codec;
    h.producerId = next_pid++;
    h.producerEpoch = 3;
    h.baseSequence = 0;
    wire_batch_builder_t b;
    wire_batch_begin(&b, wr, &h);
    for (int i = 0; i < n; i++) {
        char k[32], v[128];
        snprintf(k, sizeof k, "key%d", i);
        snprintf(v, sizeof v, "value %d, the same words again and again and again", i);
        wire_header_t hd = {(const uint8_t *)"h", 1, (const uint8_t *)v, 3};
        wire_batch_add(&b, T0 + 10 * i, k, (int32_t)strlen(k), v, (int32_t)strlen(v), &hd, 1);
    }
    ck_assert_int_eq(wire_batch_end(&b, 0), 0);
    return h.producerId;
}

static int append(log_t *log, eddy_wr_t *wr, log_append_info_t *info, char *err, size_t n)
{
    return log_append(log, wr->wr_buf, wr->wr_len,
                      WIRE_BATCH_FROM_CLIENT | WIRE_BATCH_CHECK_RECORDS, NOW, info, err, n);
}

/* Rewrites the records section of the batch in wr (its codec stays) and
 * fixes the length and CRC: a lie a client could send. */
static void replace_records(eddy_wr_t *wr, const void *recs, size_t len, int32_t count)
{
    wr->wr_len = BATCH_HEADER_SIZE;
    wr_bytes(wr, recs, len);
    be32_store(wr->wr_buf + BATCH_OFF_LENGTH, (uint32_t)(wr->wr_len - BATCH_LOG_OVERHEAD));
    be32_store(wr->wr_buf + BATCH_OFF_RECORD_COUNT, (uint32_t)count);
    be32_store(wr->wr_buf + BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)(count - 1));
    wire_batch_crc_update(wr->wr_buf, wr->wr_len);
}

/* Corrupt streams and lying counts are refused with nothing appended. */
START_TEST(corrupt_compressed_refused)
{
    char *dir = lt_tmpdir();
    log_fdcache_t *fdc = log_fdcache_new(16);
    log_config_t cfg = lt_config();
    log_t *log = lt_open(dir, &cfg, fdc);
    lt_append(log, 1, NULL, NULL, NULL, T0);
    char err[256];
    for (int codec = WIRE_CODEC_GZIP; codec <= WIRE_CODEC_ZSTD; codec++) {
        /* 64 random bytes flagged with the codec, claiming 2^31-1 records. */
        eddy_wr_t wr;
        wr_init(&wr);
        build(&wr, codec, 1);
        uint8_t junk[64];
        unsigned seed = (unsigned)codec;
        for (size_t i = 0; i < sizeof junk; i++)
            junk[i] = (uint8_t)rand_r(&seed);
        replace_records(&wr, junk, sizeof junk, INT32_MAX);
        int rc = append(log, &wr, NULL, err, sizeof err);
        ck_assert_msg(rc == EDDY_ERR_CORRUPT_COMPRESSED || rc == EDDY_ERR_BATCH_RECORD,
                      "%s random bytes: %s (%s)", wire_codec_name(codec), eddy_strerror(rc), err);
        ck_assert_int_eq(log_end_offset(log), 1);

        /* A valid stream cut short. */
        wr_reset(&wr);
        build(&wr, codec, 50);
        size_t body = wr.wr_len - BATCH_HEADER_SIZE;
        uint8_t *copy = malloc(body);
        memcpy(copy, wr.wr_buf + BATCH_HEADER_SIZE, body);
        replace_records(&wr, copy, body / 2, 50);
        rc = append(log, &wr, NULL, err, sizeof err);
        ck_assert_msg(rc == EDDY_ERR_CORRUPT_COMPRESSED, "%s truncated: %s (%s)",
                      wire_codec_name(codec), eddy_strerror(rc), err);

        /* The whole stream, with a count above and below what it holds. */
        replace_records(&wr, copy, body, 80);
        rc = append(log, &wr, NULL, err, sizeof err);
        ck_assert_msg(rc == EDDY_ERR_BATCH_RECORD, "%s 80 of 50: %s (%s)", wire_codec_name(codec),
                      eddy_strerror(rc), err);
        ck_assert_ptr_nonnull(strstr(err, "recordCount"));
        replace_records(&wr, copy, body, 20);
        rc = append(log, &wr, NULL, err, sizeof err);
        ck_assert_msg(rc == EDDY_ERR_BATCH_LENGTH, "%s 20 of 50: %s (%s)", wire_codec_name(codec),
                      eddy_strerror(rc), err);
        ck_assert_int_eq(log_end_offset(log), 1);
        /* And told the truth, it goes in. */
        replace_records(&wr, copy, body, 50);
        ck_assert_int_eq(append(log, &wr, NULL, err, sizeof err), 0);
        ck_assert_int_eq(log_end_offset(log), 51);
        ck_assert_int_eq(log_truncate_to(log, 1), 0);
        free(copy);
        wr_free(&wr);
    }
    ck_assert_int_eq(log_close(log), 0);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

/* The inflation bound: derived from max.message.bytes, or set; a batch past
 * it is refused before it is appended. */
START_TEST(inflation_bound)
{
    log_config_t cfg = lt_config();
    ck_assert_uint_eq(log_inflate_limit(&cfg), (size_t)1048588 * 64); /* the default x 64 */
    cfg.max_message_bytes = 8 << 20;
    ck_assert_uint_eq(log_inflate_limit(&cfg), (size_t)512 << 20);
    cfg.max_message_bytes = 1000;
    ck_assert_uint_eq(log_inflate_limit(&cfg), LOG_INFLATE_FLOOR);
    cfg.max_inflated_bytes = 100000;
    ck_assert_uint_eq(log_inflate_limit(&cfg), 100000);

    char *dir = lt_tmpdir();
    log_fdcache_t *fdc = log_fdcache_new(16);
    cfg = lt_config();
    cfg.max_inflated_bytes = 100000;
    log_t *log = lt_open(dir, &cfg, fdc);
    char err[256];
    for (int codec = WIRE_CODEC_GZIP; codec <= WIRE_CODEC_ZSTD; codec++) {
        eddy_wr_t wr;
        wr_init(&wr);
        build(&wr, codec, 3000); /* ~200 KB of records, a few KB compressed */
        ck_assert_int_lt((int64_t)wr.wr_len, 100000);
        int rc = append(log, &wr, NULL, err, sizeof err);
        ck_assert_msg(rc == EDDY_ERR_INFLATED_TOO_LARGE, "%s: %s (%s)", wire_codec_name(codec),
                      eddy_strerror(rc), err);
        ck_assert_ptr_nonnull(strstr(err, "inflate past 100000 bytes"));
        ck_assert_int_eq(log_end_offset(log), (codec - 1) * 500);
        wr_reset(&wr);
        build(&wr, codec, 500);
        ck_assert_int_eq(append(log, &wr, NULL, err, sizeof err), 0);
        wr_free(&wr);
    }
    ck_assert_int_eq(log_close(log), 0);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

/* A compacted log refuses a batch with a record that has no key, in the
 * same pass that reads the records for the other checks (compressed ones
 * inflated once): EDDY_ERR_RECORD_WITHOUT_KEY, a sentence with the count,
 * nothing appended. A delete-policy log takes the same batch. */
START_TEST(unkeyed_records_refused_when_compacted)
{
    char *dir = lt_tmpdir(), *dir2 = lt_tmpdir();
    log_fdcache_t *fdc = log_fdcache_new(16);
    log_config_t cfg = lt_config();
    cfg.cleanup_policy = LOG_CLEANUP_COMPACT;
    log_t *compacted = lt_open(dir, &cfg, fdc);
    log_config_t dcfg = lt_config();
    log_t *plain = lt_open(dir2, &dcfg, fdc);
    char err[256];
    for (int codec = WIRE_CODEC_NONE; codec <= WIRE_CODEC_ZSTD; codec++) {
        eddy_wr_t wr;
        wr_init(&wr);
        wire_batch_header_t h = wire_batch_header_default();
        h.attributes = (int16_t)codec;
        wire_batch_builder_t b;
        wire_batch_begin(&b, &wr, &h);
        for (int i = 0; i < 10; i++) {
            char k[16];
            snprintf(k, sizeof k, "key%d", i);
            wire_batch_add(&b, T0 + i, i == 7 ? NULL : k, i == 7 ? -1 : (int32_t)strlen(k), "v", 1,
                           NULL, 0);
        }
        ck_assert_int_eq(wire_batch_end(&b, 0), 0);
        int64_t end = log_end_offset(compacted);
        int rc = append(compacted, &wr, NULL, err, sizeof err);
        ck_assert_msg(rc == EDDY_ERR_RECORD_WITHOUT_KEY, "%s: %s (%s)", wire_codec_name(codec),
                      eddy_strerror(rc), err);
        ck_assert_msg(strstr(err, "1 of the batch's 10 records have no key"), "%s", err);
        ck_assert_int_eq(log_end_offset(compacted), end);
        ck_assert_int_eq(append(plain, &wr, NULL, err, sizeof err), 0);
        wr_reset(&wr);
        build(&wr, codec, 10);
        ck_assert_int_eq(append(compacted, &wr, NULL, err, sizeof err), 0);
        ck_assert_int_eq(log_end_offset(compacted), end + 10);
        wr_free(&wr);
    }
    ck_assert_int_eq(log_close(compacted), 0);
    ck_assert_int_eq(log_close(plain), 0);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    lt_rmdir(dir2);
    free(dir);
    free(dir2);
}
END_TEST

/* Reads the first batch header of the log. */
static wire_batch_header_t first_header(log_t *log, int64_t offset)
{
    log_slice_t sl;
    ck_assert_int_eq(log_read(log, offset, 1, &sl), 0);
    uint8_t *buf = malloc(sl.sl_len);
    ck_assert_int_eq(log_slice_read(log, &sl, buf), 0);
    wire_batch_header_t h;
    char err[256];
    ck_assert_msg(wire_batch_validate(buf, sl.sl_len, WIRE_BATCH_CHECK_RECORDS,
                                      WIRE_INFLATE_LIMIT_DEFAULT, &h, err, sizeof err) > 0,
                  "stored batch: %s", err);
    free(buf);
    log_slice_release(log, &sl);
    return h;
}

/* compression.type other than producer: every batch is stored with the
 * topic's codec, records and producer fields unchanged. */
START_TEST(recompressed_on_append)
{
    for (int target = WIRE_CODEC_NONE; target <= WIRE_CODEC_ZSTD; target++) {
        char *dir = lt_tmpdir();
        log_fdcache_t *fdc = log_fdcache_new(16);
        log_config_t cfg = lt_config();
        cfg.compression_type = target;
        log_t *log = lt_open(dir, &cfg, fdc);
        for (int codec = WIRE_CODEC_NONE; codec <= WIRE_CODEC_ZSTD; codec++) {
            eddy_wr_t wr;
            wr_init(&wr);
            int64_t pid = build(&wr, codec, 100);
            log_append_info_t info;
            char err[256];
            ck_assert_msg(append(log, &wr, &info, err, sizeof err) == 0, "%s", err);
            ck_assert_int_eq(info.ai_first_offset, codec * 100);
            ck_assert_int_eq(info.ai_log_append_time, -1);
            wire_batch_header_t h = first_header(log, codec * 100);
            ck_assert_int_eq(h.attributes & BATCH_ATTR_CODEC_MASK, target);
            ck_assert_int_eq(h.producerId, pid);
            ck_assert_int_eq(h.producerEpoch, 3);
            ck_assert_int_eq(h.baseSequence, 0);
            ck_assert_int_eq(h.recordCount, 100);
            ck_assert_int_eq(h.lastOffsetDelta, 99);
            ck_assert_int_eq(h.maxTimestamp, T0 + 990);
            wr_free(&wr);
        }
        trec_t *recs;
        int64_t n = lt_read_all(log, &recs);
        ck_assert_int_eq(n, 500);
        ck_assert_int_eq(lt_codecs_read, 1 << target);
        for (int64_t i = 0; i < n; i++) {
            char k[32], v[128];
            snprintf(k, sizeof k, "key%d", (int)(i % 100));
            snprintf(v, sizeof v, "value %d, the same words again and again and again",
                     (int)(i % 100));
            ck_assert_int_eq(recs[i].offset, i);
            ck_assert_int_eq(recs[i].timestamp, T0 + 10 * (i % 100));
            ck_assert_str_eq(recs[i].key, k);
            ck_assert_str_eq(recs[i].value, v);
        }
        free(recs);
        ck_assert_int_eq(log_close(log), 0);
        log_fdcache_destroy(fdc);
        lt_rmdir(dir);
        free(dir);
    }
}
END_TEST

/* LogAppendTime stamps compressed batches (attribute, maxTimestamp, CRC);
 * lookups by timestamp find records inside compressed batches. */
START_TEST(timestamps_inside_compressed_batches)
{
    for (int codec = WIRE_CODEC_NONE; codec <= WIRE_CODEC_ZSTD; codec++) {
        char *dir = lt_tmpdir();
        log_fdcache_t *fdc = log_fdcache_new(16);
        log_config_t cfg = lt_config();
        log_t *log = lt_open(dir, &cfg, fdc);
        eddy_wr_t wr;
        wr_init(&wr);
        build(&wr, codec, 100); /* offsets 0-99, timestamps T0 .. T0+990 */
        build(&wr, codec, 100); /* 100-199, the same timestamps */
        char err[256];
        ck_assert_int_eq(append(log, &wr, NULL, err, sizeof err), 0);
        int64_t off, ts;
        ck_assert_int_eq(log_offset_for_timestamp(log, T0 + 455, &off, &ts), 0);
        ck_assert_int_eq(off, 46);
        ck_assert_int_eq(ts, T0 + 460);
        ck_assert_int_eq(log_offset_for_timestamp(log, T0 + 990, &off, &ts), 0);
        ck_assert_int_eq(off, 99);
        ck_assert_int_eq(log_offset_for_timestamp(log, T0 + 991, &off, &ts), 0);
        ck_assert_int_eq(off, -1);
        ck_assert_int_eq(log_close(log), 0);

        /* The same topic as LogAppendTime. */
        lt_rmdir(dir);
        cfg.message_timestamp_type = LOG_TIMESTAMP_LOG_APPEND_TIME;
        log = lt_open(dir, &cfg, fdc);
        wr_reset(&wr);
        build(&wr, codec, 100);
        log_append_info_t info;
        ck_assert_int_eq(append(log, &wr, &info, err, sizeof err), 0);
        ck_assert_int_eq(info.ai_log_append_time, NOW);
        ck_assert_int_eq(info.ai_max_timestamp, NOW);
        wire_batch_header_t h = first_header(log, 0); /* validates the CRC */
        ck_assert_int_eq(h.attributes & BATCH_ATTR_CODEC_MASK, codec);
        ck_assert(h.attributes & BATCH_ATTR_LOG_APPEND_TIME);
        ck_assert_int_eq(h.maxTimestamp, NOW);
        ck_assert_int_eq(log_offset_for_timestamp(log, T0 + 455, &off, &ts), 0);
        ck_assert_int_eq(off, 0);
        ck_assert_int_eq(ts, NOW);
        ck_assert_int_eq(log_offset_for_timestamp(log, NOW + 1, &off, &ts), 0);
        ck_assert_int_eq(off, -1);
        wr_free(&wr);
        ck_assert_int_eq(log_close(log), 0);
        log_fdcache_destroy(fdc);
        lt_rmdir(dir);
        free(dir);
    }
}
END_TEST

TCase *tcase_compressed(void)
{
    TCase *tc = tcase_create("compressed");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, corrupt_compressed_refused);
    tcase_add_test(tc, inflation_bound);
    tcase_add_test(tc, recompressed_on_append);
    tcase_add_test(tc, timestamps_inside_compressed_batches);
    tcase_add_test(tc, unkeyed_records_refused_when_compacted);
    return tc;
}

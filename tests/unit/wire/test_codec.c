/* wire/codec.c and compressed record batches: every codec round-trips
 * through the batch encoder and the record iterator, the two snappy
 * framings are read, and bad streams (truncated, inflating past the bound,
 * claiming more records than they hold) are errors with a reason. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "wire/codec.h"
#include "wire/recordbatch.h"

#include <snappy-c.h>

static char errstr[512];

#define NRECS 500

static void record_text(int i, char *key, size_t ksz, char *val, size_t vsz)
{
    snprintf(key, ksz, "user-%d", i % 37);
    snprintf(val, vsz, "the quick brown fox %d jumps over the lazy dog %d times", i, i * 7);
}

/* A batch of NRECS records (one header each, every 10th value null) under codec. */
static void build_batch(eddy_wr_t *wr, int codec)
{
    wire_batch_header_t tmpl = wire_batch_header_default();
    tmpl.baseOffset = 1000;
    tmpl.attributes = (int16_t)codec;
    wire_batch_builder_t b;
    wire_batch_begin(&b, wr, &tmpl);
    for (int i = 0; i < NRECS; i++) {
        char key[32], val[96];
        record_text(i, key, sizeof key, val, sizeof val);
        wire_header_t hd = {(const uint8_t *)"h", 1, (const uint8_t *)key, (int32_t)strlen(key)};
        wire_batch_add(&b, 1700000000000 + i, key, (int32_t)strlen(key), i % 10 ? val : NULL,
                       i % 10 ? (int32_t)strlen(val) : -1, &hd, 1);
    }
    ck_assert_int_eq(wire_batch_end(&b, 0), 0);
}

START_TEST(test_roundtrip_every_codec)
{
    eddy_wr_t plain;
    wr_init(&plain);
    build_batch(&plain, WIRE_CODEC_NONE);
    for (int codec = WIRE_CODEC_GZIP; codec <= WIRE_CODEC_ZSTD; codec++) {
        eddy_wr_t wr;
        wr_init(&wr);
        build_batch(&wr, codec);
        wire_batch_header_t h;
        int64_t total = wire_batch_validate(wr.wr_buf, wr.wr_len,
                                            WIRE_BATCH_FROM_CLIENT | WIRE_BATCH_CHECK_RECORDS,
                                            WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr, sizeof errstr);
        ck_assert_msg(total == (int64_t)wr.wr_len, "%s: %s", wire_codec_name(codec), errstr);
        ck_assert_int_eq(h.attributes & BATCH_ATTR_CODEC_MASK, codec);
        ck_assert_int_eq(h.recordCount, NRECS);
        ck_assert_int_eq(h.lastOffsetDelta, NRECS - 1);
        /* Repetitive text: every codec must actually shrink it. */
        ck_assert_msg(wr.wr_len * 3 < plain.wr_len, "%s: %zu bytes vs %zu plain",
                      wire_codec_name(codec), wr.wr_len, plain.wr_len);

        wire_record_iter_t it;
        ck_assert_int_eq(wire_record_iter_open(&it, wr.wr_buf, wr.wr_len,
                                               WIRE_INFLATE_LIMIT_DEFAULT, errstr, sizeof errstr),
                         0);
        wire_record_t rec;
        int n = 0;
        while (wire_record_next(&it, &rec) == 1) {
            char key[32], val[96];
            record_text(n, key, sizeof key, val, sizeof val);
            ck_assert_int_eq(rec.offset, 1000 + n);
            ck_assert_int_eq(rec.timestamp, 1700000000000 + n);
            ck_assert_int_eq(rec.keyLength, (int32_t)strlen(key));
            ck_assert(memcmp(rec.key, key, strlen(key)) == 0);
            if (n % 10) {
                ck_assert_int_eq(rec.valueLength, (int32_t)strlen(val));
                ck_assert(memcmp(rec.value, val, strlen(val)) == 0);
            } else {
                ck_assert_int_eq(rec.valueLength, -1);
            }
            ck_assert_int_eq(rec.headerCount, 1);
            eddy_rd_t hr;
            rd_init(&hr, rec.headers, rec.headers_len);
            wire_header_t hd;
            ck_assert_int_eq(wire_header_next(&hr, &hd), 1);
            ck_assert_int_eq(hd.valueLength, (int32_t)strlen(key));
            n++;
        }
        wire_record_iter_close(&it);
        ck_assert_int_eq(n, NRECS);
        wr_free(&wr);
    }
    wr_free(&plain);
}
END_TEST

START_TEST(test_names_and_levels)
{
    ck_assert_int_eq(wire_codec_parse("zstd"), WIRE_CODEC_ZSTD);
    ck_assert_int_eq(wire_codec_parse("LZ4"), WIRE_CODEC_LZ4);
    ck_assert_int_eq(wire_codec_parse("uncompressed"), WIRE_CODEC_NONE);
    ck_assert_int_eq(wire_codec_parse("none"), WIRE_CODEC_NONE);
    ck_assert_int_eq(wire_codec_parse("brotli"), -1);
    ck_assert_str_eq(wire_codec_name(WIRE_CODEC_SNAPPY), "snappy");
    ck_assert_int_eq(wire_codec_level_check(WIRE_CODEC_GZIP, 9), 0);
    ck_assert_int_eq(wire_codec_level_check(WIRE_CODEC_GZIP, 10), EDDY_ERR_CONFIG);
    ck_assert_int_eq(wire_codec_level_check(WIRE_CODEC_ZSTD, 22), 0);
    ck_assert_int_eq(wire_codec_level_check(WIRE_CODEC_LZ4, 18), EDDY_ERR_CONFIG);
    ck_assert_int_eq(wire_codec_level_check(WIRE_CODEC_SNAPPY, WIRE_CODEC_LEVEL_DEFAULT), 0);
    /* A level changes the output and still round-trips. */
    eddy_wr_t wr;
    wr_init(&wr);
    wire_batch_header_t tmpl = wire_batch_header_default();
    tmpl.attributes = WIRE_CODEC_GZIP;
    wire_batch_builder_t b;
    wire_batch_begin(&b, &wr, &tmpl);
    b.bb_level = 1;
    wire_batch_add(&b, 1, "k", 1, "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvv", 30, NULL, 0);
    ck_assert_int_eq(wire_batch_end(&b, 0), 0);
    wire_batch_header_t h;
    ck_assert_int_gt(wire_batch_validate(wr.wr_buf, wr.wr_len, WIRE_BATCH_CHECK_RECORDS,
                                         WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr, sizeof errstr),
                     0);
    wr_free(&wr);
}
END_TEST

/* Output past max_out is refused for every codec, however small the input. */
START_TEST(test_bomb_bounded)
{
    size_t big = 32u << 20;
    uint8_t *zeros = calloc(1, big);
    ck_assert_ptr_nonnull(zeros);
    for (int codec = WIRE_CODEC_GZIP; codec <= WIRE_CODEC_ZSTD; codec++) {
        eddy_wr_t wr;
        wr_init(&wr);
        ck_assert_int_eq(wire_codec_compress(codec, WIRE_CODEC_LEVEL_DEFAULT, zeros, big, &wr), 0);
        ck_assert_msg(wr.wr_len < big / 20, "%s: %zu", wire_codec_name(codec), wr.wr_len);
        uint8_t *out = NULL;
        size_t out_len = 0;
        errstr[0] = 0;
        int rc = wire_codec_decompress(codec, wr.wr_buf, wr.wr_len, 1u << 20, &out, &out_len,
                                       errstr, sizeof errstr);
        ck_assert_msg(rc == EDDY_ERR_INFLATED_TOO_LARGE, "%s: %d %s", wire_codec_name(codec), rc,
                      errstr);
        ck_assert_ptr_null(out);
        ck_assert_ptr_nonnull(strstr(errstr, "inflate past"));
        /* With room, the same stream decodes to exactly the input. */
        ck_assert_int_eq(wire_codec_decompress(codec, wr.wr_buf, wr.wr_len, big, &out, &out_len,
                                               errstr, sizeof errstr),
                         0);
        ck_assert_uint_eq(out_len, big);
        ck_assert(memcmp(out, zeros, big) == 0);
        free(out);
        wr_free(&wr);
    }
    free(zeros);
}
END_TEST

/* A raw snappy block claiming 2 GiB inside a few bytes: refused before any
 * allocation of that size. */
START_TEST(test_snappy_claimed_length)
{
    uint8_t evil[] = {0xff, 0xff, 0xff, 0xff, 0x07, 0x00, 0x00};
    uint8_t *out = NULL;
    size_t out_len;
    ck_assert_int_eq(wire_codec_decompress(WIRE_CODEC_SNAPPY, evil, sizeof evil, 1u << 20, &out,
                                           &out_len, errstr, sizeof errstr),
                     EDDY_ERR_INFLATED_TOO_LARGE);
    /* The same inside xerial framing, as Java's snappy writes it. */
    /* clang-format off */
    uint8_t framed[16 + 4 + sizeof evil] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1,
                                            0, 0, 0, 1, 0, 0, 0, sizeof evil};
    /* clang-format on */
    memcpy(framed + 20, evil, sizeof evil);
    ck_assert_int_eq(wire_codec_decompress(WIRE_CODEC_SNAPPY, framed, sizeof framed, 1u << 20, &out,
                                           &out_len, errstr, sizeof errstr),
                     EDDY_ERR_INFLATED_TOO_LARGE);
}
END_TEST

/* librdkafka writes raw snappy; Java writes xerial blocks: both decode. */
START_TEST(test_snappy_both_framings)
{
    const char *text = "abcabcabcabcabcabcabcabcabcabc hello hello hello";
    size_t n = strlen(text);
    char raw[256];
    size_t raw_len = sizeof raw;
    ck_assert_int_eq(snappy_compress(text, n, raw, &raw_len), SNAPPY_OK);
    uint8_t *out;
    size_t out_len;
    ck_assert_int_eq(wire_codec_decompress(WIRE_CODEC_SNAPPY, raw, raw_len, 1024, &out, &out_len,
                                           errstr, sizeof errstr),
                     0);
    ck_assert_uint_eq(out_len, n);
    ck_assert(memcmp(out, text, n) == 0);
    free(out);
    eddy_wr_t wr;
    wr_init(&wr);
    ck_assert_int_eq(wire_codec_compress(WIRE_CODEC_SNAPPY, WIRE_CODEC_LEVEL_DEFAULT, text, n, &wr),
                     0);
    ck_assert_uint_eq(wr.wr_buf[0], 0x82); /* xerial magic */
    ck_assert_int_eq(wire_codec_decompress(WIRE_CODEC_SNAPPY, wr.wr_buf, wr.wr_len, 1024, &out,
                                           &out_len, errstr, sizeof errstr),
                     0);
    ck_assert_uint_eq(out_len, n);
    ck_assert(memcmp(out, text, n) == 0);
    free(out);
    wr_free(&wr);
}
END_TEST

/* The batch at wr with its records section cut to keep bytes, length and CRC
 * fixed up so that only the stream itself is wrong. */
static void cut_records(eddy_wr_t *wr, size_t keep)
{
    wr->wr_len = BATCH_HEADER_SIZE + keep;
    be32_store(wr->wr_buf + BATCH_OFF_LENGTH, (uint32_t)(wr->wr_len - BATCH_LOG_OVERHEAD));
    wire_batch_crc_update(wr->wr_buf, wr->wr_len);
}

START_TEST(test_truncated_stream)
{
    for (int codec = WIRE_CODEC_GZIP; codec <= WIRE_CODEC_ZSTD; codec++) {
        eddy_wr_t wr;
        wr_init(&wr);
        build_batch(&wr, codec);
        cut_records(&wr, (wr.wr_len - BATCH_HEADER_SIZE) / 2);
        wire_batch_header_t h;
        errstr[0] = 0;
        int64_t rc = wire_batch_validate(wr.wr_buf, wr.wr_len,
                                         WIRE_BATCH_FROM_CLIENT | WIRE_BATCH_CHECK_RECORDS,
                                         WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr, sizeof errstr);
        ck_assert_msg(rc < 0, "%s: a half stream validated", wire_codec_name(codec));
        ck_assert_msg(strstr(errstr, wire_codec_name(codec)) || strstr(errstr, "record"), "%s: %s",
                      wire_codec_name(codec), errstr);
        wire_record_iter_t it;
        int orc = wire_record_iter_open(&it, wr.wr_buf, wr.wr_len, WIRE_INFLATE_LIMIT_DEFAULT,
                                        errstr, sizeof errstr);
        if (orc == 0) {
            /* snappy's xerial blocks: the whole blocks before the cut decode;
             * the records run out before recordCount. */
            wire_record_t rec;
            int n = 0, r;
            while ((r = wire_record_next(&it, &rec)) == 1)
                n++;
            wire_record_iter_close(&it);
            ck_assert_msg(r < 0 || n < NRECS, "%s", wire_codec_name(codec));
        }
        wr_free(&wr);
    }
}
END_TEST

/* A compressed batch whose header claims more records than its stream holds
 * (the 2^31-1 records attack) fails validation naming the shortfall. */
START_TEST(test_claims_more_records)
{
    for (int codec = WIRE_CODEC_GZIP; codec <= WIRE_CODEC_ZSTD; codec++) {
        eddy_wr_t wr;
        wr_init(&wr);
        build_batch(&wr, codec);
        be32_store(wr.wr_buf + BATCH_OFF_RECORD_COUNT, 0x7fffffff);
        be32_store(wr.wr_buf + BATCH_OFF_LAST_OFFSET_DELTA, 0x7ffffffe);
        wire_batch_crc_update(wr.wr_buf, wr.wr_len);
        wire_batch_header_t h;
        /* The header alone is consistent... */
        ck_assert_int_eq(wire_batch_validate(wr.wr_buf, wr.wr_len, WIRE_BATCH_FROM_CLIENT,
                                             WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr, sizeof errstr),
                         (int64_t)wr.wr_len);
        /* ...the records are not. */
        errstr[0] = 0;
        ck_assert_int_eq(wire_batch_validate(wr.wr_buf, wr.wr_len,
                                             WIRE_BATCH_FROM_CLIENT | WIRE_BATCH_CHECK_RECORDS,
                                             WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr, sizeof errstr),
                         EDDY_ERR_BATCH_RECORD);
        ck_assert_ptr_nonnull(strstr(errstr, "end before recordCount"));
        wr_free(&wr);
    }
}
END_TEST

TCase *tcase_codec(void)
{
    TCase *tc = tcase_create("codec");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_roundtrip_every_codec);
    tcase_add_test(tc, test_names_and_levels);
    tcase_add_test(tc, test_bomb_bounded);
    tcase_add_test(tc, test_snappy_claimed_length);
    tcase_add_test(tc, test_snappy_both_framings);
    tcase_add_test(tc, test_truncated_stream);
    tcase_add_test(tc, test_claims_more_records);
    return tc;
}

/* Bounded reader and growable writer. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/varint.h"

/* A heap copy of exactly n bytes, so an over-read is an ASan error. */
static uint8_t *exact(const void *src, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(p);
    if (n)
        memcpy(p, src, n);
    return p;
}

START_TEST(test_reads_big_endian)
{
    /* clang-format off */
    const uint8_t src[] = {0xff, 0x01, 0x02, 0x80, 0x00, 0x00, 0x01, 0xfe, 0xdc, 0xba, 0x98,
                           0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0xd8, 0x04, 0xac, 0x02,
                           0x01, 'a',  'b',  'c'};
    /* clang-format on */
    uint8_t *p = exact(src, sizeof src);
    eddy_rd_t rd;
    rd_init(&rd, p, sizeof src);
    ck_assert_int_eq(rd_i8(&rd), -1);
    ck_assert_int_eq(rd_i16(&rd), 0x0102);
    ck_assert_int_eq(rd_i32(&rd), (int32_t)0x80000001);
    ck_assert_uint_eq(rd_u32(&rd), 0xfedcba98u);
    ck_assert_int_eq(rd_i64(&rd), INT64_C(0x0102030405060708));
    ck_assert_int_eq(rd_varint(&rd), 300);
    ck_assert_uint_eq(rd_uvarint(&rd), 300);
    ck_assert_int_eq(rd_varlong(&rd), -1);
    ck_assert_uint_eq(rd_remaining(&rd), 3);
    const uint8_t *v = rd_bytes(&rd, 3);
    ck_assert_ptr_eq(v, p + sizeof src - 3); /* a view, not a copy */
    ck_assert_uint_eq(rd_remaining(&rd), 0);
    ck_assert_int_eq(rd.rd_err, 0);
    /* A zero-length read at the end is not an error. */
    ck_assert_ptr_nonnull(rd_bytes(&rd, 0));
    ck_assert_int_eq(rd.rd_err, 0);
    free(p);
}
END_TEST

/* Every reader function, given one byte less than it needs. */
START_TEST(test_read_past_end_is_sticky)
{
    static const size_t need[] = {1, 2, 4, 4, 8};
    for (int fn = 0; fn < 5; fn++) {
        size_t n = need[fn] - 1;
        uint8_t *p = exact("\x7f\x7f\x7f\x7f\x7f\x7f\x7f", n);
        eddy_rd_t rd;
        rd_init(&rd, p, n);
        int64_t got = -1;
        switch (fn) {
        case 0: got = rd_i8(&rd); break;
        case 1: got = rd_i16(&rd); break;
        case 2: got = rd_i32(&rd); break;
        case 3: got = rd_u32(&rd); break;
        case 4: got = rd_i64(&rd); break;
        }
        ck_assert_int_eq(got, 0);
        ck_assert_int_eq(rd.rd_err, EDDY_ERR_TRUNCATED);
        ck_assert_uint_eq(rd_remaining(&rd), 0);
        /* Sticky: even a read that would fit now fails. */
        if (n >= 1) {
            ck_assert_int_eq(rd_i8(&rd), 0);
            ck_assert_ptr_null(rd_bytes(&rd, 1));
        }
        ck_assert_ptr_null(rd_bytes(&rd, 0));
        ck_assert_int_eq(rd.rd_err, EDDY_ERR_TRUNCATED);
        free(p);
    }
}
END_TEST

START_TEST(test_bytes_and_skip_bounds)
{
    uint8_t *p = exact("abcdef", 6);
    eddy_rd_t rd;
    rd_init(&rd, p, 6);
    rd_skip(&rd, 2);
    ck_assert_uint_eq(rd_remaining(&rd), 4);
    ck_assert_ptr_null(rd_bytes(&rd, 5));
    ck_assert_int_eq(rd.rd_err, EDDY_ERR_TRUNCATED);

    /* A huge length from the wire must not wrap the bounds check. */
    rd_init(&rd, p, 6);
    rd_i8(&rd);
    ck_assert_ptr_null(rd_bytes(&rd, SIZE_MAX));
    ck_assert_int_eq(rd.rd_err, EDDY_ERR_TRUNCATED);
    rd_init(&rd, p, 6);
    rd_skip(&rd, SIZE_MAX - 2);
    ck_assert_int_eq(rd.rd_err, EDDY_ERR_TRUNCATED);
    ck_assert_int_eq(rd_i8(&rd), 0);
    free(p);
}
END_TEST

START_TEST(test_varint_reads_past_end)
{
    /* A continuation bit on the last byte. */
    uint8_t *p = exact("\x80\x80", 2);
    eddy_rd_t rd;
    rd_init(&rd, p, 2);
    ck_assert_int_eq(rd_varint(&rd), 0);
    ck_assert_int_eq(rd.rd_err, EDDY_ERR_TRUNCATED);
    rd_init(&rd, p, 2);
    ck_assert_int_eq(rd_varlong(&rd), 0);
    ck_assert_int_eq(rd.rd_err, EDDY_ERR_TRUNCATED);
    rd_init(&rd, p, 2);
    ck_assert_uint_eq(rd_uvarint(&rd), 0);
    ck_assert_int_eq(rd.rd_err, EDDY_ERR_TRUNCATED);
    free(p);

    /* Over-long: the varint's own error is kept. */
    p = exact("\xff\xff\xff\xff\xff\x01", 6);
    rd_init(&rd, p, 6);
    ck_assert_int_eq(rd_varint(&rd), 0);
    ck_assert_int_eq(rd.rd_err, EDDY_ERR_VARINT_OVERFLOW);
    ck_assert_int_eq(rd_i8(&rd), 0);
    ck_assert_int_eq(rd.rd_err, EDDY_ERR_VARINT_OVERFLOW);
    free(p);

    /* An empty reader over no memory at all. */
    rd_init(&rd, NULL, 0);
    ck_assert_int_eq(rd_varint(&rd), 0);
    ck_assert_int_eq(rd.rd_err, EDDY_ERR_TRUNCATED);
    rd_init(&rd, NULL, 0);
    ck_assert_int_eq(rd_i32(&rd), 0);
    ck_assert_int_eq(rd.rd_err, EDDY_ERR_TRUNCATED);
}
END_TEST

START_TEST(test_fail_keeps_first_error)
{
    eddy_rd_t rd;
    rd_init(&rd, "xy", 2);
    rd_fail(&rd, EDDY_ERR_BATCH_CRC);
    rd_fail(&rd, EDDY_ERR_TRUNCATED);
    ck_assert_int_eq(rd.rd_err, EDDY_ERR_BATCH_CRC);
    ck_assert_int_eq(rd_i8(&rd), 0);
    ck_assert_int_eq(rd.rd_err, EDDY_ERR_BATCH_CRC);
    ck_assert_uint_eq(rd_remaining(&rd), 0);
}
END_TEST

START_TEST(test_writer_grows)
{
    /* Many small writes of every kind, then read them all back. */
    eddy_wr_t wr;
    wr_init(&wr);
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        wr_i8(&wr, (int8_t)i);
        wr_i16(&wr, (int16_t)(i * 7));
        wr_i32(&wr, -i);
        wr_u32(&wr, (uint32_t)i * 2654435761u);
        wr_i64(&wr, (int64_t)i << 40);
        wr_varint(&wr, i % 2 ? -i : i);
        wr_varlong(&wr, INT64_MIN + i);
        wr_uvarint(&wr, (uint32_t)i << 10);
        wr_bytes(&wr, "xyz", (size_t)(i % 4));
    }
    ck_assert_int_eq(wr.wr_err, 0);
    ck_assert_uint_ge(wr.wr_cap, wr.wr_len);
    ck_assert_uint_gt(wr.wr_len, (size_t)n * 25);

    eddy_rd_t rd;
    rd_init(&rd, wr.wr_buf, wr.wr_len);
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(rd_i8(&rd), (int8_t)i);
        ck_assert_int_eq(rd_i16(&rd), (int16_t)(i * 7));
        ck_assert_int_eq(rd_i32(&rd), -i);
        ck_assert_uint_eq(rd_u32(&rd), (uint32_t)i * 2654435761u);
        ck_assert_int_eq(rd_i64(&rd), (int64_t)i << 40);
        ck_assert_int_eq(rd_varint(&rd), i % 2 ? -i : i);
        ck_assert_int_eq(rd_varlong(&rd), INT64_MIN + i);
        ck_assert_uint_eq(rd_uvarint(&rd), (uint32_t)i << 10);
        const uint8_t *b = rd_bytes(&rd, (size_t)(i % 4));
        ck_assert_ptr_nonnull(b);
        ck_assert_mem_eq(b, "xyz", (size_t)(i % 4));
    }
    ck_assert_int_eq(rd.rd_err, 0);
    ck_assert_uint_eq(rd_remaining(&rd), 0);
    wr_free(&wr);
    ck_assert_ptr_null(wr.wr_buf);
    ck_assert_uint_eq(wr.wr_len, 0);
}
END_TEST

START_TEST(test_writer_large_reserve_and_reset)
{
    eddy_wr_t wr;
    wr_init(&wr);
    uint8_t *p = wr_reserve(&wr, 100000);
    ck_assert_ptr_nonnull(p);
    memset(p, 0xab, 100000); /* the whole reservation is writable */
    ck_assert_uint_eq(wr.wr_len, 100000);
    ck_assert_uint_ge(wr.wr_cap, 100000);
    uint8_t *buf = wr.wr_buf;
    size_t cap = wr.wr_cap;
    wr_reset(&wr);
    ck_assert_uint_eq(wr.wr_len, 0);
    ck_assert_ptr_eq(wr.wr_buf, buf); /* the buffer is kept */
    ck_assert_uint_eq(wr.wr_cap, cap);
    wr_i32(&wr, 0x01020304);
    ck_assert_uint_eq(wr.wr_len, 4);
    ck_assert_mem_eq(wr.wr_buf, "\x01\x02\x03\x04", 4);
    /* A size no allocator can satisfy sets the sticky -ENOMEM. */
    ck_assert_ptr_null(wr_reserve(&wr, SIZE_MAX - 2));
    ck_assert_int_eq(wr.wr_err, -ENOMEM);
    ck_assert_uint_eq(wr.wr_len, 4);
    wr_i8(&wr, 1);
    ck_assert_uint_eq(wr.wr_len, 4);
    wr_free(&wr);
}
END_TEST

START_TEST(test_writer_patch)
{
    eddy_wr_t wr;
    wr_init(&wr);
    wr_i8(&wr, 0x11);
    size_t at32 = wr.wr_len;
    wr_i32(&wr, 0);
    size_t atu = wr.wr_len;
    wr_u32(&wr, 0);
    size_t at64 = wr.wr_len;
    wr_i64(&wr, 0);
    wr_i8(&wr, 0x22);
    wr_patch_i32(&wr, at32, -2);
    wr_patch_u32(&wr, atu, 0xcafebabeu);
    wr_patch_i64(&wr, at64, INT64_C(0x0102030405060708));
    /* clang-format off */
    const uint8_t want[] = {0x11, 0xff, 0xff, 0xff, 0xfe, 0xca, 0xfe, 0xba, 0xbe, 0x01,
                            0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x22};
    /* clang-format on */
    ck_assert_uint_eq(wr.wr_len, sizeof want);
    ck_assert_mem_eq(wr.wr_buf, want, sizeof want);

    /* Patching past what was written is refused, not a write past the end. */
    wr_patch_i32(&wr, wr.wr_len - 3, 0);
    wr_patch_u32(&wr, wr.wr_len, 0);
    wr_patch_i64(&wr, wr.wr_len - 7, 0);
    wr_patch_i64(&wr, SIZE_MAX - 2, 0);
    wr_patch_u32(&wr, SIZE_MAX - 1, 0);
    ck_assert_uint_eq(wr.wr_len, sizeof want);
    ck_assert_mem_eq(wr.wr_buf, want, sizeof want);
    wr_free(&wr);
}
END_TEST

START_TEST(test_writer_take)
{
    eddy_wr_t wr;
    wr_init(&wr);
    wr_bytes(&wr, "hello", 5);
    size_t len = 0;
    uint8_t *b = wr_take(&wr, &len);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(len, 5);
    ck_assert_mem_eq(b, "hello", 5);
    /* The writer no longer owns the buffer and starts over. */
    ck_assert_ptr_null(wr.wr_buf);
    ck_assert_uint_eq(wr.wr_len, 0);
    ck_assert_uint_eq(wr.wr_cap, 0);
    wr_bytes(&wr, "again", 5);
    ck_assert_ptr_ne(wr.wr_buf, b);
    ck_assert_mem_eq(wr.wr_buf, "again", 5);
    ck_assert_mem_eq(b, "hello", 5); /* the taken buffer is untouched */
    wr_free(&wr);
    free(b); /* the caller's to free (ASan reports a leak or double free otherwise) */

    /* Taking from an empty writer gives NULL and length 0. */
    wr_init(&wr);
    len = 99;
    ck_assert_ptr_null(wr_take(&wr, &len));
    ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(test_be_load_store)
{
    uint8_t b[8];
    be16_store(b, 0xbeef);
    ck_assert_mem_eq(b, "\xbe\xef", 2);
    ck_assert_uint_eq(be16_load(b), 0xbeef);
    be32_store(b, 0xdeadbeefu);
    ck_assert_mem_eq(b, "\xde\xad\xbe\xef", 4);
    ck_assert_uint_eq(be32_load(b), 0xdeadbeefu);
    be64_store(b, UINT64_C(0x8000000000000001));
    ck_assert_mem_eq(b, "\x80\0\0\0\0\0\0\x01", 8);
    ck_assert_uint_eq(be64_load(b), UINT64_C(0x8000000000000001));
}
END_TEST

/* The one int64 comparator: extremes that a subtraction would overflow. */
START_TEST(test_cmp_i64_sorts)
{
    int64_t v[] = {5, INT64_MIN, -1, INT64_MAX, 0, -1, INT64_MIN + 1};
    qsort(v, sizeof v / sizeof v[0], sizeof v[0], cmp_i64);
    int64_t want[] = {INT64_MIN, INT64_MIN + 1, -1, -1, 0, 5, INT64_MAX};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        ck_assert_int_eq(v[i], want[i]);
    int64_t x = 3, y = 3;
    ck_assert_int_eq(cmp_i64(&x, &y), 0);
}
END_TEST

TCase *tcase_buf(void)
{
    TCase *tc = tcase_create("buf");
    tcase_add_test(tc, test_reads_big_endian);
    tcase_add_test(tc, test_read_past_end_is_sticky);
    tcase_add_test(tc, test_bytes_and_skip_bounds);
    tcase_add_test(tc, test_varint_reads_past_end);
    tcase_add_test(tc, test_fail_keeps_first_error);
    tcase_add_test(tc, test_writer_grows);
    tcase_add_test(tc, test_writer_large_reserve_and_reset);
    tcase_add_test(tc, test_writer_patch);
    tcase_add_test(tc, test_writer_take);
    tcase_add_test(tc, test_be_load_store);
    tcase_add_test(tc, test_cmp_i64_sorts);
    return tc;
}

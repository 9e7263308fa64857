/* Zigzag and unsigned varints: edges, known encodings, round trips, and the
 * two ways input can be bad (too short, too long). */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/varint.h"

START_TEST(test_zigzag_edges)
{
    ck_assert_uint_eq(zigzag32_encode(0), 0);
    ck_assert_uint_eq(zigzag32_encode(-1), 1);
    ck_assert_uint_eq(zigzag32_encode(1), 2);
    ck_assert_uint_eq(zigzag32_encode(-2), 3);
    ck_assert_uint_eq(zigzag32_encode(INT32_MAX), 0xfffffffeu);
    ck_assert_uint_eq(zigzag32_encode(INT32_MIN), 0xffffffffu);
    ck_assert_int_eq(zigzag32_decode(0), 0);
    ck_assert_int_eq(zigzag32_decode(1), -1);
    ck_assert_int_eq(zigzag32_decode(2), 1);
    ck_assert_int_eq(zigzag32_decode(0xfffffffeu), INT32_MAX);
    ck_assert_int_eq(zigzag32_decode(0xffffffffu), INT32_MIN);

    ck_assert_uint_eq(zigzag64_encode(0), 0);
    ck_assert_uint_eq(zigzag64_encode(-1), 1);
    ck_assert_uint_eq(zigzag64_encode(1), 2);
    ck_assert_uint_eq(zigzag64_encode(INT64_MAX), UINT64_C(0xfffffffffffffffe));
    ck_assert_uint_eq(zigzag64_encode(INT64_MIN), UINT64_MAX);
    ck_assert_uint_eq(zigzag64_encode((int64_t)INT32_MAX + 1), UINT64_C(0x100000000));
    ck_assert_uint_eq(zigzag64_encode((int64_t)INT32_MIN - 1), UINT64_C(0x100000001));
    ck_assert_int_eq(zigzag64_decode(UINT64_MAX), INT64_MIN);
    ck_assert_int_eq(zigzag64_decode(UINT64_C(0xfffffffffffffffe)), INT64_MAX);
    ck_assert_int_eq(zigzag64_decode(UINT64_C(0x100000001)), (int64_t)INT32_MIN - 1);
}
END_TEST

static void assert_bytes(const uint8_t *got, size_t n, const uint8_t *want, size_t wn)
{
    ck_assert_uint_eq(n, wn);
    ck_assert_mem_eq(got, want, wn);
}

START_TEST(test_known_encodings)
{
    uint8_t b[VARINT_MAX64];
    assert_bytes(b, varint32_encode(b, 300), (const uint8_t[]){0xd8, 0x04}, 2);
    assert_bytes(b, uvarint32_encode(b, 300), (const uint8_t[]){0xac, 0x02}, 2);
    assert_bytes(b, uvarint32_encode(b, 0), (const uint8_t[]){0x00}, 1);
    assert_bytes(b, uvarint32_encode(b, 127), (const uint8_t[]){0x7f}, 1);
    assert_bytes(b, uvarint32_encode(b, 128), (const uint8_t[]){0x80, 0x01}, 2);
    assert_bytes(b, varint32_encode(b, -1), (const uint8_t[]){0x01}, 1);
    assert_bytes(b, varint32_encode(b, -64), (const uint8_t[]){0x7f}, 1);
    assert_bytes(b, varint32_encode(b, 64), (const uint8_t[]){0x80, 0x01}, 2);
    assert_bytes(b, uvarint32_encode(b, UINT32_MAX),
                 (const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0x0f}, 5);
    assert_bytes(b, varint32_encode(b, INT32_MIN), (const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0x0f},
                 5);
    assert_bytes(b, varint32_encode(b, INT32_MAX), (const uint8_t[]){0xfe, 0xff, 0xff, 0xff, 0x0f},
                 5);
    assert_bytes(b, uvarint64_encode(b, UINT64_MAX),
                 (const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 10);
    assert_bytes(b, varint64_encode(b, INT64_MIN),
                 (const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 10);
    /* A Kafka timestamp delta of 1700000000000 ms. */
    assert_bytes(b, varint64_encode(b, INT64_C(1700000000000)),
                 (const uint8_t[]){0x80, 0xa0, 0xab, 0xfe, 0xf9, 0x62}, 6);

    int32_t v32;
    ck_assert_int_eq(varint32_decode((const uint8_t[]){0xd8, 0x04}, 2, &v32), 2);
    ck_assert_int_eq(v32, 300);
    uint32_t u32;
    ck_assert_int_eq(uvarint32_decode((const uint8_t[]){0xac, 0x02}, 2, &u32), 2);
    ck_assert_uint_eq(u32, 300);
    /* Decoding stops at the first byte without the continuation bit. */
    ck_assert_int_eq(uvarint32_decode((const uint8_t[]){0x05, 0xff, 0xff}, 3, &u32), 1);
    ck_assert_uint_eq(u32, 5);
}
END_TEST

/* Values around every power of two, plus pseudo-random ones. */
static uint64_t next_rand(uint64_t *s)
{
    *s = *s * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    return *s ^ (*s >> 29);
}

static void roundtrip64(uint64_t u)
{
    uint8_t b[VARINT_MAX64 + 2];
    uint64_t gu;
    size_t n = uvarint64_encode(b, u);
    ck_assert_uint_le(n, VARINT_MAX64);
    ck_assert_uint_eq(n, uvarint64_size(u));
    ck_assert_int_eq(uvarint64_decode(b, n, &gu), (int)n);
    ck_assert_uint_eq(gu, u);

    int64_t s = (int64_t)u, gs;
    n = varint64_encode(b, s);
    ck_assert_uint_eq(n, varint64_size(s));
    ck_assert_int_eq(varint64_decode(b, n, &gs), (int)n);
    ck_assert_int_eq(gs, s);

    uint32_t u32 = (uint32_t)u, g32;
    n = uvarint32_encode(b, u32);
    ck_assert_uint_le(n, VARINT_MAX32);
    ck_assert_uint_eq(n, uvarint64_size(u32));
    ck_assert_int_eq(uvarint32_decode(b, n, &g32), (int)n);
    ck_assert_uint_eq(g32, u32);

    int32_t s32 = (int32_t)u32, gs32;
    n = varint32_encode(b, s32);
    ck_assert_uint_eq(n, varint32_size(s32));
    ck_assert_int_eq(varint32_decode(b, n, &gs32), (int)n);
    ck_assert_int_eq(gs32, s32);
}

START_TEST(test_roundtrips)
{
    for (int bit = 0; bit < 64; bit++) {
        uint64_t p = UINT64_C(1) << bit;
        roundtrip64(p - 1);
        roundtrip64(p);
        roundtrip64(p + 1);
        roundtrip64(~p);
        roundtrip64(UINT64_C(0) - p);
    }
    roundtrip64(0);
    roundtrip64(UINT64_MAX);
    roundtrip64((uint64_t)INT64_MIN);
    roundtrip64((uint64_t)INT64_MAX);
    uint64_t seed = 42;
    for (int i = 0; i < 100000; i++) {
        uint64_t r = next_rand(&seed);
        roundtrip64(r >> (r & 63));
    }
}
END_TEST

START_TEST(test_sizes_grow_every_seven_bits)
{
    ck_assert_uint_eq(uvarint64_size(0), 1);
    ck_assert_uint_eq(uvarint64_size(127), 1);
    ck_assert_uint_eq(uvarint64_size(128), 2);
    ck_assert_uint_eq(uvarint64_size(UINT32_MAX), 5);
    ck_assert_uint_eq(uvarint64_size(UINT64_MAX), 10);
    ck_assert_uint_eq(varint32_size(-1), 1);
    ck_assert_uint_eq(varint32_size(-65), 2);
    ck_assert_uint_eq(varint32_size(INT32_MIN), 5);
    ck_assert_uint_eq(varint64_size(INT64_MIN), 10);
}
END_TEST

START_TEST(test_truncated)
{
    uint8_t b[VARINT_MAX64] = {0x80};
    uint32_t u32;
    uint64_t u64;
    int32_t s32;
    int64_t s64;
    ck_assert_int_eq(uvarint32_decode(b, 0, &u32), EDDY_ERR_TRUNCATED);
    ck_assert_int_eq(uvarint64_decode(b, 0, &u64), EDDY_ERR_TRUNCATED);

    size_t n = varint64_encode(b, INT64_MIN);
    for (size_t k = 0; k < n; k++) {
        u64 = 12345;
        ck_assert_int_eq(varint64_decode(b, k, &s64), EDDY_ERR_TRUNCATED);
        ck_assert_int_eq(uvarint64_decode(b, k, &u64), EDDY_ERR_TRUNCATED);
        ck_assert_uint_eq(u64, 12345); /* untouched on failure */
    }
    n = varint32_encode(b, INT32_MIN);
    for (size_t k = 0; k < n; k++) {
        ck_assert_int_eq(varint32_decode(b, k, &s32), EDDY_ERR_TRUNCATED);
        ck_assert_int_eq(uvarint32_decode(b, k, &u32), EDDY_ERR_TRUNCATED);
    }
}
END_TEST

START_TEST(test_overlong)
{
    uint32_t u32;
    uint64_t u64;
    int32_t s32;
    /* Six bytes for a 32-bit value, even if the value itself is small. */
    const uint8_t six[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    ck_assert_int_eq(uvarint32_decode(six, sizeof six, &u32), EDDY_ERR_VARINT_OVERFLOW);
    ck_assert_int_eq(varint32_decode(six, sizeof six, &s32), EDDY_ERR_VARINT_OVERFLOW);
    /* Fifth byte carries bits above bit 31. */
    const uint8_t high5[] = {0xff, 0xff, 0xff, 0xff, 0x1f};
    ck_assert_int_eq(uvarint32_decode(high5, sizeof high5, &u32), EDDY_ERR_VARINT_OVERFLOW);
    const uint8_t high5b[] = {0x80, 0x80, 0x80, 0x80, 0x10};
    ck_assert_int_eq(uvarint32_decode(high5b, sizeof high5b, &u32), EDDY_ERR_VARINT_OVERFLOW);
    /* ... while exactly 32 bits is fine. */
    const uint8_t max5[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    ck_assert_int_eq(uvarint32_decode(max5, sizeof max5, &u32), 5);
    ck_assert_uint_eq(u32, UINT32_MAX);
    /* A 64-bit value does not fit the 32-bit decoder. */
    uint8_t b[VARINT_MAX64];
    size_t n = uvarint64_encode(b, UINT64_C(1) << 32);
    ck_assert_int_eq(uvarint32_decode(b, n, &u32), EDDY_ERR_VARINT_OVERFLOW);

    const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    ck_assert_int_eq(uvarint64_decode(eleven, sizeof eleven, &u64), EDDY_ERR_VARINT_OVERFLOW);
    const uint8_t high10[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    ck_assert_int_eq(uvarint64_decode(high10, sizeof high10, &u64), EDDY_ERR_VARINT_OVERFLOW);
    const uint8_t max10[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    ck_assert_int_eq(uvarint64_decode(max10, sizeof max10, &u64), 10);
    ck_assert_uint_eq(u64, UINT64_MAX);
}
END_TEST

START_TEST(test_never_reads_past_len)
{
    /* The byte after len would complete the value; the decoder must not use
     * it. Heap buffers of the exact length let ASan catch any over-read. */
    uint8_t stack[] = {0x80, 0x80, 0x01};
    uint32_t u32;
    uint64_t u64;
    ck_assert_int_eq(uvarint32_decode(stack, 2, &u32), EDDY_ERR_TRUNCATED);
    ck_assert_int_eq(uvarint64_decode(stack, 2, &u64), EDDY_ERR_TRUNCATED);

    for (size_t len = 1; len <= 12; len++) {
        uint8_t *p = malloc(len);
        memset(p, 0x80, len);
        int want32 = len < VARINT_MAX32 ? EDDY_ERR_TRUNCATED : EDDY_ERR_VARINT_OVERFLOW;
        int want64 = len < VARINT_MAX64 ? EDDY_ERR_TRUNCATED : EDDY_ERR_VARINT_OVERFLOW;
        ck_assert_int_eq(uvarint32_decode(p, len, &u32), want32);
        ck_assert_int_eq(uvarint64_decode(p, len, &u64), want64);
        free(p);
    }
}
END_TEST

TCase *tcase_varint(void)
{
    TCase *tc = tcase_create("varint");
    tcase_add_test(tc, test_zigzag_edges);
    tcase_add_test(tc, test_known_encodings);
    tcase_add_test(tc, test_roundtrips);
    tcase_add_test(tc, test_sizes_grow_every_seven_bits);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_overlong);
    tcase_add_test(tc, test_never_reads_past_len);
    return tc;
}

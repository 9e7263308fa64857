/* CRC-32C: both implementations against published vectors (RFC 3720 B.4
 * and the usual "123456789" check value), chaining, and agreement. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/crc32c.h"

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

struct impl {
    const char *name;
    crc_fn fn;
};

/* The implementations this machine can run; crc32c() is the dispatcher. */
static int impls(struct impl *out)
{
    int n = 0;
    out[n++] = (struct impl){"portable", crc32c_portable};
    out[n++] = (struct impl){"dispatch", crc32c};
    if (crc32c_hw_available())
        out[n++] = (struct impl){"hw", crc32c_hw};
    return n;
}

static void check_vectors(crc_fn fn, const char *name)
{
    uint8_t buf[32];
    memset(buf, 0x00, sizeof buf);
    ck_assert_msg(fn(0, buf, 32) == 0x8A9136AAu, "%s: 32 x 0x00", name);
    memset(buf, 0xff, sizeof buf);
    ck_assert_msg(fn(0, buf, 32) == 0x62A8AB43u, "%s: 32 x 0xFF", name);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    ck_assert_msg(fn(0, buf, 32) == 0x46DD794Eu, "%s: 0..31", name);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)(31 - i);
    ck_assert_msg(fn(0, buf, 32) == 0x113FDB5Cu, "%s: 31..0", name);
    ck_assert_msg(fn(0, "123456789", 9) == 0xE3069283u, "%s: 123456789", name);
    ck_assert_msg(fn(0, "", 0) == 0, "%s: empty", name);
    ck_assert_msg(fn(0x12345678u, "", 0) == 0x12345678u, "%s: empty keeps crc", name);
}

START_TEST(test_published_vectors)
{
    struct impl im[3];
    int n = impls(im);
    for (int i = 0; i < n; i++)
        check_vectors(im[i].fn, im[i].name);
    /* Without SSE4.2 the hardware entry point computes nothing, as
     * documented; with it, all three were checked above. */
    if (!crc32c_hw_available())
        ck_assert_uint_eq(crc32c_hw(0, "123456789", 9), 0);
    else
        ck_assert_int_eq(n, 3);
}
END_TEST

static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

START_TEST(test_chaining)
{
    uint8_t buf[300];
    uint32_t seed = 7;
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)rnd(&seed);
    struct impl im[3];
    int n = impls(im);
    for (int k = 0; k < n; k++) {
        uint32_t whole = im[k].fn(0, buf, sizeof buf);
        for (size_t split = 0; split <= sizeof buf; split++) {
            uint32_t c = im[k].fn(0, buf, split);
            ck_assert_uint_eq(im[k].fn(c, buf + split, sizeof buf - split), whole);
            /* Halves may come from different implementations. */
            ck_assert_uint_eq(im[(k + 1) % n].fn(c, buf + split, sizeof buf - split), whole);
        }
    }
}
END_TEST

START_TEST(test_portable_matches_hw)
{
    if (!crc32c_hw_available())
        return;
    size_t max = 70000;
    uint8_t *buf = malloc(max + 16);
    uint32_t seed = 2024;
    for (size_t i = 0; i < max + 16; i++)
        buf[i] = (uint8_t)rnd(&seed);
    for (size_t len = 0; len <= 600; len++)
        for (size_t off = 0; off < 16; off++) {
            uint32_t init = (len & 1) ? rnd(&seed) : 0;
            ck_assert_msg(crc32c_portable(init, buf + off, len) == crc32c_hw(init, buf + off, len),
                          "len %zu offset %zu", len, off);
        }
    static const size_t big[] = {1023, 4096, 4097, 65535, 65536, 69999};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
        for (size_t off = 0; off < 16; off += 3)
            ck_assert_msg(crc32c_portable(0, buf + off, big[i]) == crc32c_hw(0, buf + off, big[i]),
                          "len %zu offset %zu", big[i], off);
    free(buf);
}
END_TEST

START_TEST(test_detects_single_bit_flips)
{
    uint8_t buf[64];
    memset(buf, 0x5a, sizeof buf);
    uint32_t base = crc32c(0, buf, sizeof buf);
    for (size_t bit = 0; bit < sizeof buf * 8; bit++) {
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        ck_assert_uint_ne(crc32c(0, buf, sizeof buf), base);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
}
END_TEST

TCase *tcase_crc32c(void)
{
    TCase *tc = tcase_create("crc32c");
    tcase_add_test(tc, test_published_vectors);
    tcase_add_test(tc, test_chaining);
    tcase_add_test(tc, test_portable_matches_hw);
    tcase_add_test(tc, test_detects_single_bit_flips);
    return tc;
}

/* dsl/serde.c and dsl/buf.c: the built-in serdes' checks, eddy_buf_t, and
 * the fixed-width formats with the exact bytes Kafka's LongSerializer,
 * IntegerSerializer and DoubleSerializer write (Java's big-endian
 * ByteBuffer.putLong / putInt / putLong(Double.doubleToLongBits(v))). */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "include/eddy.h"

static int check(const eddy_serde_t *sd, const void *p, int32_t len, char *err, size_t n)
{
    err[0] = '\0';
    return sd->sd_check((eddy_bytes_t){p, len}, err, n);
}

static void ok(const eddy_serde_t *sd, const void *p, int32_t len)
{
    char err[256];
    int rc = check(sd, p, len, err, sizeof err);
    ck_assert_msg(rc == 0, "%s rejected %d bytes: %s", sd->sd_name, (int)len, err);
}

static void bad(const eddy_serde_t *sd, const void *p, int32_t len, const char *needle)
{
    char err[256];
    int rc = check(sd, p, len, err, sizeof err);
    ck_assert_msg(rc == -EINVAL, "%s accepted %d bytes", sd->sd_name, (int)len);
    ck_assert_msg(strstr(err, needle) != NULL, "%s: \"%s\" lacks \"%s\"", sd->sd_name, err, needle);
}

START_TEST(serde_names)
{
    ck_assert_str_eq(eddy_serde_bytes()->sd_name, "bytes");
    ck_assert_str_eq(eddy_serde_string()->sd_name, "string");
    ck_assert_str_eq(eddy_serde_int32()->sd_name, "int32");
    ck_assert_str_eq(eddy_serde_int64()->sd_name, "int64");
    ck_assert_str_eq(eddy_serde_double()->sd_name, "double");
    ck_assert_str_eq(eddy_serde_msgpack()->sd_name, "msgpack");
    ck_assert_ptr_eq(eddy_serde_string(), eddy_serde_string());
}
END_TEST

START_TEST(serde_null_always_valid)
{
    const eddy_serde_t *all[] = {eddy_serde_bytes(), eddy_serde_string(), eddy_serde_int32(),
                                 eddy_serde_int64(), eddy_serde_double(), eddy_serde_msgpack()};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        ok(all[i], NULL, -1);
    ok(eddy_serde_bytes(), "\xff\x00", 2);
    ok(eddy_serde_bytes(), "", 0);
}
END_TEST

START_TEST(serde_string_utf8)
{
    const eddy_serde_t *s = eddy_serde_string();
    ok(s, "", 0);
    ok(s, "hello", 5);
    ok(s, "h\xc3\xa9llo", 6);             /* é */
    ok(s, "\xe2\x82\xac", 3);             /* € */
    ok(s, "\xf0\x9f\x98\x80", 4);         /* U+1F600 */
    ok(s, "\xf4\x8f\xbf\xbf", 4);         /* U+10FFFF, the last */
    ok(s, "\xed\x9f\xbf", 3);             /* U+D7FF, before the surrogates */
    ok(s, "a\0b", 3);                     /* NUL is UTF-8 */
    bad(s, "ab\xff", 3, "byte 0xff at offset 2 of 3");
    bad(s, "\xc0\x80", 2, "offset 0");    /* overlong NUL */
    bad(s, "\xc1\xbf", 2, "offset 0");    /* overlong */
    bad(s, "\xe0\x80\xaf", 3, "offset 0"); /* overlong '/' */
    bad(s, "\xf0\x8f\xbf\xbf", 4, "offset 0"); /* overlong */
    bad(s, "\xed\xa0\x80", 3, "offset 0"); /* a surrogate */
    bad(s, "\xf4\x90\x80\x80", 4, "offset 0"); /* above U+10FFFF */
    bad(s, "\xf5\x80\x80\x80", 4, "offset 0");
    bad(s, "x\xe2\x82", 3, "offset 1");    /* truncated */
    bad(s, "\xe2\x28\xa1", 3, "offset 0"); /* bad continuation */
    bad(s, "\x80", 1, "offset 0");         /* lone continuation */
}
END_TEST

START_TEST(serde_fixed_lengths)
{
    const uint8_t b[9] = {0};
    ok(eddy_serde_int32(), b, 4);
    bad(eddy_serde_int32(), b, 3, "this value has 3");
    bad(eddy_serde_int32(), b, 5, "4 bytes");
    bad(eddy_serde_int32(), b, 0, "has 0");
    ok(eddy_serde_int64(), b, 8);
    bad(eddy_serde_int64(), b, 7, "8 bytes, this value has 7");
    bad(eddy_serde_int64(), b, 9, "has 9");
    bad(eddy_serde_int64(), b, 4, "int64");
    ok(eddy_serde_double(), b, 8);
    bad(eddy_serde_double(), b, 4, "double");
    bad(eddy_serde_double(), b, 0, "has 0");
}
END_TEST

/* ---- fixed-width formats ---- */

START_TEST(int64_bytes)
{
    static const struct {
        int64_t v;
        uint8_t b[8];
    } c[] = {
        {0, {0, 0, 0, 0, 0, 0, 0, 0}},
        {1, {0, 0, 0, 0, 0, 0, 0, 1}},
        {256, {0, 0, 0, 0, 0, 0, 1, 0}},
        {-1, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
        {-2, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}},
        {INT64_MAX, {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
        {INT64_MIN, {0x80, 0, 0, 0, 0, 0, 0, 0}},
        {0x0102030405060708LL, {1, 2, 3, 4, 5, 6, 7, 8}},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        uint8_t out[8];
        eddy_int64_write(out, c[i].v);
        ck_assert_msg(memcmp(out, c[i].b, 8) == 0, "int64 case %zu", i);
        int64_t back = 42;
        ck_assert_int_eq(eddy_int64_read(eddy_bytes(c[i].b, 8), &back), 0);
        ck_assert_msg(back == c[i].v, "int64 case %zu read back", i);
    }
    int64_t v = 7;
    ck_assert_int_eq(eddy_int64_read(eddy_bytes(c[0].b, 7), &v), -EINVAL);
    ck_assert_int_eq(eddy_int64_read(EDDY_NULL_BYTES, &v), -EINVAL);
    ck_assert_int_eq(v, 7);
}
END_TEST

START_TEST(int32_bytes)
{
    static const struct {
        int32_t v;
        uint8_t b[4];
    } c[] = {
        {1, {0, 0, 0, 1}},
        {-2, {0xff, 0xff, 0xff, 0xfe}},
        {INT32_MIN, {0x80, 0, 0, 0}},
        {0x01020304, {1, 2, 3, 4}},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        uint8_t out[4];
        eddy_int32_write(out, c[i].v);
        ck_assert_msg(memcmp(out, c[i].b, 4) == 0, "int32 case %zu", i);
        int32_t back = 0;
        ck_assert_int_eq(eddy_int32_read(eddy_bytes(c[i].b, 4), &back), 0);
        ck_assert_int_eq(back, c[i].v);
    }
    int32_t v;
    ck_assert_int_eq(eddy_int32_read(eddy_bytes(c[0].b, 8), &v), -EINVAL);
}
END_TEST

START_TEST(double_bytes)
{
    static const struct {
        double v;
        uint8_t b[8];
    } c[] = {
        {1.0, {0x3f, 0xf0, 0, 0, 0, 0, 0, 0}},
        {-2.5, {0xc0, 0x04, 0, 0, 0, 0, 0, 0}},
        {0.1, {0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a}},
        {0.0, {0, 0, 0, 0, 0, 0, 0, 0}},
        {1e300, {0x7e, 0x37, 0xe4, 0x3c, 0x88, 0x00, 0x75, 0x9c}},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        uint8_t out[8];
        eddy_double_write(out, c[i].v);
        ck_assert_msg(memcmp(out, c[i].b, 8) == 0, "double case %zu", i);
        double back = -1;
        ck_assert_int_eq(eddy_double_read(eddy_bytes(c[i].b, 8), &back), 0);
        ck_assert_msg(back == c[i].v, "double case %zu read back %g", i, back);
    }
    double d;
    ck_assert_int_eq(eddy_double_read(eddy_bytes(c[0].b, 4), &d), -EINVAL);
}
END_TEST

/* ---- eddy_buf_t ---- */

START_TEST(buf_set_append_free)
{
    eddy_buf_t b = {0};
    ck_assert_int_eq(eddy_buf_set(&b, "hello", 5), 0);
    ck_assert_int_eq(eddy_buf_append(&b, ", world", 7), 0);
    ck_assert_uint_eq(b.len, 12);
    ck_assert_int_eq(memcmp(b.data, "hello, world", 12), 0);
    eddy_bytes_t v = eddy_buf_bytes(&b);
    ck_assert_int_eq(v.len, 12);
    /* Replacing. */
    ck_assert_int_eq(eddy_buf_set(&b, "x", 1), 0);
    ck_assert_uint_eq(b.len, 1);
    /* Growing well past the first capacity keeps every byte. */
    for (int i = 0; i < 10000; i++) {
        char c = (char)('a' + i % 26);
        ck_assert_int_eq(eddy_buf_append(&b, &c, 1), 0);
    }
    ck_assert_uint_eq(b.len, 10001);
    ck_assert_int_eq(b.data[10000], 'a' + 9999 % 26);
    /* From its own bytes, even when the append reallocates. */
    size_t len = b.len;
    ck_assert_int_eq(eddy_buf_append(&b, b.data, len), 0);
    ck_assert_uint_eq(b.len, 2 * len);
    ck_assert_int_eq(memcmp(b.data, b.data + len, len), 0);
    ck_assert_int_eq(eddy_buf_set(&b, b.data + 1, 3), 0);
    ck_assert_uint_eq(b.len, 3);
    ck_assert_int_eq(memcmp(b.data, "abc", 3), 0);
    ck_assert_int_eq(eddy_buf_set(&b, NULL, 0), 0);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_int_eq(eddy_buf_append(&b, NULL, 1), -EINVAL);
    ck_assert_int_eq(eddy_buf_append(NULL, "x", 1), -EINVAL);
    eddy_buf_free(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.cap, 0);
    eddy_buf_free(&b);
}
END_TEST

TCase *tcase_serde(void)
{
    TCase *tc = tcase_create("serde");
    tcase_add_test(tc, serde_names);
    tcase_add_test(tc, serde_null_always_valid);
    tcase_add_test(tc, serde_string_utf8);
    tcase_add_test(tc, serde_fixed_lengths);
    return tc;
}

TCase *tcase_formats(void)
{
    TCase *tc = tcase_create("formats");
    tcase_add_test(tc, int64_bytes);
    tcase_add_test(tc, int32_bytes);
    tcase_add_test(tc, double_bytes);
    tcase_add_test(tc, buf_set_append_free);
    return tc;
}

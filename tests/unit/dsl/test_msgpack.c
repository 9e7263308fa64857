/* dsl/msgpack.c: maps built field by field (bytes as the msgpack spec
 * encodes them), fields read back, JSON, and the msgpack serde's bounded
 * check, compared with what msgpack-c's own unpacker accepts. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <msgpack.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "include/eddy.h"

static int mp_check(const void *p, size_t len, char *err, size_t n)
{
    err[0] = '\0';
    return eddy_serde_msgpack()->sd_check((eddy_bytes_t){p, (int32_t)len}, err, n);
}

/* msgpack-c's verdict: exactly one object, nothing after it. Only called
 * on bytes whose announced lengths are all backed by real bytes (see
 * dsl/msgpack.c on why). */
static int msgpackc_accepts(const void *p, size_t len)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    int rc = msgpack_unpack_next(&u, p, len, &off);
    msgpack_unpacked_destroy(&u);
    return rc == MSGPACK_UNPACK_SUCCESS && off == len;
}

static int buf_write(void *data, const char *buf, size_t len)
{
    return eddy_buf_append(data, buf, len) ? -1 : 0;
}

START_TEST(map_build_bytes)
{
    eddy_buf_t b = {0};
    ck_assert_int_eq(eddy_buf_set(&b, "junk", 4), 0);
    ck_assert_int_eq(eddy_mp_map_begin(&b, 3), 0);
    ck_assert_int_eq(eddy_mp_put_int64(&b, "n", 42), 0);
    ck_assert_int_eq(eddy_mp_put_double(&b, "avg", 2.5), 0);
    ck_assert_int_eq(eddy_mp_put_str(&b, "who", "eddy", 4), 0);
    /* fixmap 3; fixstr "n", positive fixint 42; fixstr "avg", float64
     * 2.5; fixstr "who", fixstr "eddy". */
    /* clang-format off */
    static const uint8_t want[] = {0x83, 0xa1, 'n', 0x2a, 0xa3, 'a', 'v', 'g', 0xcb, 0x40, 0x04,
                                   0,    0,    0,   0,    0,    0,   0xa3, 'w', 'h', 'o', 0xa4,
                                   'e',  'd',  'd', 'y'};
    /* clang-format on */
    ck_assert_uint_eq(b.len, sizeof want);
    ck_assert_int_eq(memcmp(b.data, want, sizeof want), 0);
    char err[128];
    ck_assert_int_eq(mp_check(b.data, b.len, err, sizeof err), 0);

    /* Integers take their smallest form. */
    ck_assert_int_eq(eddy_mp_map_begin(&b, 4), 0);
    eddy_mp_put_int64(&b, "a", -1);
    eddy_mp_put_int64(&b, "b", 300);
    eddy_mp_put_int64(&b, "c", INT64_MIN);
    eddy_mp_put_int64(&b, "d", -33);
    /* clang-format off */
    static const uint8_t want2[] = {0x84, 0xa1, 'a', 0xff, 0xa1, 'b', 0xcd, 0x01, 0x2c, 0xa1,
                                    'c',  0xd3, 0x80, 0,   0,    0,   0,    0,    0,    0,
                                    0xa1, 'd',  0xd0, 0xdf};
    /* clang-format on */
    ck_assert_uint_eq(b.len, sizeof want2);
    ck_assert_int_eq(memcmp(b.data, want2, sizeof want2), 0);
    eddy_buf_free(&b);
}
END_TEST

START_TEST(map_read_fields)
{
    eddy_buf_t b = {0};
    eddy_mp_map_begin(&b, 6);
    eddy_mp_put_int64(&b, "count", 42);
    eddy_mp_put_double(&b, "avg", 2.5);
    eddy_mp_put_double(&b, "whole", 3.0);
    eddy_mp_put_str(&b, "name", "eddy", 4);
    eddy_mp_put_int64(&b, "neg", -7);
    eddy_mp_put_str(&b, "empty", "", 0);
    eddy_bytes_t v = eddy_buf_bytes(&b);

    int64_t i = 0;
    double d = 0;
    ck_assert_int_eq(eddy_mp_get_int64(v, "count", &i), 0);
    ck_assert_int_eq(i, 42);
    ck_assert_int_eq(eddy_mp_get_int64(v, "neg", &i), 0);
    ck_assert_int_eq(i, -7);
    /* Ints read as doubles, doubles without a fraction as ints. */
    ck_assert_int_eq(eddy_mp_get_double(v, "count", &d), 0);
    ck_assert(d == 42.0);
    ck_assert_int_eq(eddy_mp_get_double(v, "avg", &d), 0);
    ck_assert(d == 2.5);
    ck_assert_int_eq(eddy_mp_get_int64(v, "whole", &i), 0);
    ck_assert_int_eq(i, 3);
    i = 99;
    ck_assert_int_eq(eddy_mp_get_int64(v, "avg", &i), -ERANGE);
    ck_assert_int_eq(i, 99);
    /* Strings borrow the map's bytes. */
    const char *s = NULL;
    size_t len = 0;
    ck_assert_int_eq(eddy_mp_get_str(v, "name", &s, &len), 0);
    ck_assert_uint_eq(len, 4);
    ck_assert_int_eq(memcmp(s, "eddy", 4), 0);
    ck_assert(s >= (const char *)b.data && s + len <= (const char *)b.data + b.len);
    ck_assert_int_eq(eddy_mp_get_str(v, "empty", &s, &len), 0);
    ck_assert_uint_eq(len, 0);
    /* Missing fields, wrong types, not a map. */
    ck_assert_int_eq(eddy_mp_get_int64(v, "missing", &i), -ENOENT);
    ck_assert_int_eq(eddy_mp_get_double(v, "nam", &d), -ENOENT);
    ck_assert_int_eq(eddy_mp_get_str(v, "count", &s, &len), -EINVAL);
    ck_assert_int_eq(eddy_mp_get_int64(v, "name", &i), -EINVAL);
    uint8_t i64[8];
    eddy_int64_write(i64, 5);
    ck_assert_int_eq(eddy_mp_get_int64(eddy_bytes(i64, 8), "count", &i), -EINVAL);
    ck_assert_int_eq(eddy_mp_get_int64(eddy_bytes("\x2a", 1), "count", &i), -EINVAL);
    ck_assert_int_eq(eddy_mp_get_int64(EDDY_NULL_BYTES, "count", &i), -EINVAL);
    /* A truncated map is not a map. */
    ck_assert_int_eq(eddy_mp_get_int64(eddy_bytes(b.data, b.len - 1), "count", &i), -EINVAL);
    eddy_buf_free(&b);

    /* Out of int64's range. */
    eddy_mp_map_begin(&b, 2);
    eddy_mp_put_double(&b, "big", 1e19);
    eddy_mp_put_double(&b, "nan", NAN);
    ck_assert_int_eq(eddy_mp_get_int64(eddy_buf_bytes(&b), "big", &i), -ERANGE);
    ck_assert_int_eq(eddy_mp_get_int64(eddy_buf_bytes(&b), "nan", &i), -ERANGE);
    eddy_buf_free(&b);
    /* clang-format off */
    static const uint8_t u64max[] = {0x81, 0xa1, 'u', 0xcf, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff};
    /* clang-format on */
    ck_assert_int_eq(eddy_mp_get_int64(eddy_bytes(u64max, sizeof u64max), "u", &i), -ERANGE);
    ck_assert_int_eq(eddy_mp_get_double(eddy_bytes(u64max, sizeof u64max), "u", &d), 0);
    ck_assert(d == 18446744073709551615.0);
}
END_TEST

static void json_is(const eddy_buf_t *mp, const char *want)
{
    eddy_buf_t out = {0};
    ck_assert_int_eq(eddy_mp_to_json(eddy_buf_bytes(mp), &out), 0);
    ck_assert_uint_eq(out.len, strlen(want));
    ck_assert_msg(memcmp(out.data, want, out.len) == 0, "got %.*s, want %s", (int)out.len,
                  (const char *)out.data, want);
    eddy_buf_free(&out);
}

START_TEST(to_json)
{
    eddy_buf_t b = {0};
    eddy_mp_map_begin(&b, 3);
    eddy_mp_put_int64(&b, "count", 42);
    eddy_mp_put_double(&b, "avg", 2.5);
    eddy_mp_put_str(&b, "name", "eddy", 4);
    json_is(&b, "{\"count\":42,\"avg\":2.5,\"name\":\"eddy\"}");

    /* Every type, built with msgpack-c's packer. */
    b.len = 0;
    msgpack_packer pk;
    msgpack_packer_init(&pk, &b, buf_write);
    msgpack_pack_array(&pk, 14);
    msgpack_pack_nil(&pk);
    msgpack_pack_true(&pk);
    msgpack_pack_false(&pk);
    msgpack_pack_int64(&pk, -5);
    msgpack_pack_uint64(&pk, UINT64_MAX);
    msgpack_pack_double(&pk, 1.0);
    msgpack_pack_double(&pk, 0.1);
    msgpack_pack_float(&pk, 0.5f);
    msgpack_pack_double(&pk, INFINITY);
    msgpack_pack_str_with_body(&pk, "q\"\\\n\x01\xc3\xa9\xff", 8);
    msgpack_pack_bin_with_body(&pk, "\x00\xff\x10", 3);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_int64(&pk, 1);
    msgpack_pack_array(&pk, 0);
    msgpack_pack_str_with_body(&pk, "k", 1);
    msgpack_pack_map(&pk, 0);
    msgpack_pack_ext_with_body(&pk, "ab", 2, 7);
    msgpack_pack_double(&pk, -1e21);
    json_is(&b, "[null,true,false,-5,18446744073709551615,1.0,0.1,0.5,null,"
                "\"q\\\"\\\\\\n\\u0001\xc3\xa9\\ufffd\",\"AP8Q\",{\"1\":[],\"k\":{}},"
                "{\"type\":7,\"data\":\"YWI=\"},-1e+21]");

    /* A tombstone is null; bytes that are not msgpack are an error. */
    eddy_buf_t out = {0};
    ck_assert_int_eq(eddy_mp_to_json(EDDY_NULL_BYTES, &out), 0);
    ck_assert_int_eq(memcmp(out.data, "null", 4), 0);
    ck_assert_int_eq(eddy_mp_to_json(eddy_bytes("\x92\x01", 2), &out), -EINVAL);
    ck_assert_uint_eq(out.len, 0);
    eddy_buf_free(&out);
    eddy_buf_free(&b);
}
END_TEST

START_TEST(check_rejects)
{
    char err[256];
    ck_assert_int_eq(mp_check("", 0, err, sizeof err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "empty"));
    ck_assert_int_eq(mp_check("\xc1", 1, err, sizeof err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "byte 0xc1 at offset 0"));
    ck_assert_int_eq(mp_check("\x01\x02", 2, err, sizeof err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "1 bytes follow the object that ends at offset 1"));
    ck_assert_int_eq(mp_check("\x92\x01", 2, err, sizeof err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "truncated"));
    ck_assert_int_eq(mp_check("\xa5"
                              "abc",
                              4, err, sizeof err),
                     -EINVAL);
    ck_assert_int_eq(mp_check("\xcb\x00", 2, err, sizeof err), -EINVAL);
    ck_assert_int_eq(mp_check("\xda\x00", 2, err, sizeof err), -EINVAL);
    /* An array32 of 2^32-1 elements in 5 bytes: rejected at once, without
     * allocating for the elements (msgpack-c alone would ask for ~100 GB). */
    ck_assert_int_eq(mp_check("\xdd\xff\xff\xff\xff", 5, err, sizeof err), -EINVAL);
    ck_assert_int_eq(mp_check("\xdf\xff\xff\xff\xff\x01\x02", 7, err, sizeof err), -EINVAL);
    ck_assert_int_eq(mp_check("\xc6\xff\xff\xff\xff", 5, err, sizeof err), -EINVAL);
    eddy_buf_t out = {0};
    ck_assert_int_eq(eddy_mp_to_json(eddy_bytes("\xdd\xff\xff\xff\xff", 5), &out), -EINVAL);
    int64_t i;
    ck_assert_int_eq(eddy_mp_get_int64(eddy_bytes("\xdf\xff\xff\xff\xff", 5), "x", &i), -EINVAL);
    eddy_buf_free(&out);
    /* Accepted: every scalar form. */
    static const struct {
        const char *p;
        size_t n;
    } good[] = {
        {"\xc0", 1},
        {"\xc2", 1},
        {"\x7f", 1},
        {"\xe0", 1},
        {"\xcc\x01", 2},
        {"\xd1\x01\x02", 3},
        {"\xce\x00\x00\x00\x01", 5},
        {"\xca\x00\x00\x00\x00", 5},
        {"\xd4\x01\x02", 3},
        {"\xd8\x01"
         "0123456789abcdef",
         18},
        {"\xc7\x02\x05xy", 5},
        {"\xc4\x00", 2},
        {"\xd9\x01z", 3},
        {"\x90", 1},
        {"\x80", 1},
        {"\xdc\x00\x01\xc0", 4},
        {"\xde\x00\x01\xa1k\xc3", 6},
    };
    for (size_t k = 0; k < sizeof good / sizeof good[0]; k++) {
        ck_assert_msg(mp_check(good[k].p, good[k].n, err, sizeof err) == 0, "good %zu: %s", k, err);
        ck_assert_msg(msgpackc_accepts(good[k].p, good[k].n), "msgpack-c rejects good %zu", k);
    }
}
END_TEST

/* Nested arrays or maps, depth deep, innermost empty or holding a 1. */
static size_t nest(uint8_t *p, int depth, int maps, int empty)
{
    size_t n = 0;
    for (int i = 0; i < depth - (empty ? 1 : 0); i++) {
        p[n++] = maps ? 0x81 : 0x91;
        if (maps)
            p[n++] = 0x01; /* the key */
    }
    p[n++] = empty ? (maps ? 0x80 : 0x90) : 0x01;
    return n;
}

START_TEST(check_depth_matches_msgpackc)
{
    /* msgpack-c reads up to MSGPACK_EMBED_STACK_SIZE nested containers:
     * the serde accepts exactly what the readers can read. */
    char err[256];
    uint8_t p[256];
    for (int maps = 0; maps <= 1; maps++)
        for (int empty = 0; empty <= 1; empty++)
            for (int depth = 28; depth <= 36; depth++) {
                size_t n = nest(p, depth, maps, empty);
                int mine = mp_check(p, n, err, sizeof err) == 0;
                int theirs = msgpackc_accepts(p, n);
                ck_assert_msg(mine == theirs, "depth %d maps %d empty %d: serde %d, msgpack-c %d",
                              depth, maps, empty, mine, theirs);
                ck_assert_int_eq(mine, depth <= 32);
            }
}
END_TEST

START_TEST(check_every_prefix)
{
    /* A nested value, then every prefix of it: only the whole is one
     * object, for the serde and for msgpack-c alike. */
    eddy_buf_t b = {0};
    msgpack_packer pk;
    msgpack_packer_init(&pk, &b, buf_write);
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str_with_body(&pk, "list", 4);
    msgpack_pack_array(&pk, 20);
    for (int i = 0; i < 20; i++)
        msgpack_pack_int64(&pk, (int64_t)i * 1000003 - 5000);
    msgpack_pack_str_with_body(&pk, "blob", 4);
    uint8_t blob[300];
    memset(blob, 0xab, sizeof blob);
    msgpack_pack_bin_with_body(&pk, blob, sizeof blob);
    msgpack_pack_str_with_body(&pk, "m", 1);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_double(&pk, 1.5);
    msgpack_pack_ext_with_body(&pk, "xyz", 3, -3);
    char err[256];
    ck_assert_int_eq(mp_check(b.data, b.len, err, sizeof err), 0);
    ck_assert(msgpackc_accepts(b.data, b.len));
    for (size_t n = 0; n < b.len; n++) {
        ck_assert_msg(mp_check(b.data, n, err, sizeof err) == -EINVAL, "prefix %zu accepted", n);
        ck_assert_msg(!msgpackc_accepts(b.data, n), "msgpack-c accepts prefix %zu", n);
    }
    /* And with a byte more. */
    ck_assert_int_eq(eddy_buf_append(&b, "\xc0", 1), 0);
    ck_assert_int_eq(mp_check(b.data, b.len, err, sizeof err), -EINVAL);
    eddy_buf_free(&b);
}
END_TEST

TCase *tcase_msgpack(void)
{
    TCase *tc = tcase_create("msgpack");
    tcase_add_test(tc, map_build_bytes);
    tcase_add_test(tc, map_read_fields);
    tcase_add_test(tc, to_json);
    tcase_add_test(tc, check_rejects);
    tcase_add_test(tc, check_depth_matches_msgpackc);
    tcase_add_test(tc, check_every_prefix);
    return tc;
}

/* The built-in serdes: each names a byte format and checks bytes against
 * it where they enter a topology (sources) and leave it (sinks). A null
 * (len -1) is valid in every format: it is a null key or a tombstone. */
#include <errno.h>
#include <stdio.h>

#include "dsl/dsl_int.h"

static int check_any(eddy_bytes_t b, char *errstr, size_t errstr_size)
{
    (void)b;
    (void)errstr;
    (void)errstr_size;
    return 0;
}

/* Well-formed UTF-8 as Unicode defines it (Table 3-7): no overlong forms,
 * no surrogates, nothing above U+10FFFF. */
size_t dsl_utf8_seq(const uint8_t *p, size_t n)
{
    if (n == 0)
        return 0;
    uint8_t c = p[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint8_t lo = 0x80, hi = 0xbf; /* range of the second byte */
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
    } else
        return 0;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if ((p[k] & 0xc0) != 0x80)
            return 0;
    return len;
}

static int check_string(eddy_bytes_t b, char *errstr, size_t errstr_size)
{
    if (b.len < 0)
        return 0;
    const uint8_t *p = b.data;
    size_t len = (size_t)b.len, at = 0, n;
    while (at < len && (n = dsl_utf8_seq(p + at, len - at)) > 0)
        at += n;
    if (at == len)
        return 0;
    snprintf(errstr, errstr_size, "not valid UTF-8: byte 0x%02x at offset %zu of %zu",
             ((const uint8_t *)b.data)[at], at, len);
    return -EINVAL;
}

static int check_fixed(eddy_bytes_t b, int32_t want, const char *what, char *errstr,
                       size_t errstr_size)
{
    if (b.len < 0 || b.len == want)
        return 0;
    snprintf(errstr, errstr_size, "%s is %d bytes, this value has %d", what, (int)want, (int)b.len);
    return -EINVAL;
}

static int check_int32(eddy_bytes_t b, char *errstr, size_t errstr_size)
{
    return check_fixed(b, 4, "an int32 (Kafka's IntegerSerializer)", errstr, errstr_size);
}

static int check_int64(eddy_bytes_t b, char *errstr, size_t errstr_size)
{
    return check_fixed(b, 8, "an int64 (Kafka's LongSerializer)", errstr, errstr_size);
}

static int check_double(eddy_bytes_t b, char *errstr, size_t errstr_size)
{
    return check_fixed(b, 8, "a double (Kafka's DoubleSerializer)", errstr, errstr_size);
}

static int check_msgpack(eddy_bytes_t b, char *errstr, size_t errstr_size)
{
    if (b.len < 0)
        return 0;
    return dsl_mp_validate(b.data, (size_t)b.len, errstr, errstr_size);
}

static const eddy_serde_t serde_bytes = {"bytes", check_any};
static const eddy_serde_t serde_string = {"string", check_string};
static const eddy_serde_t serde_int32 = {"int32", check_int32};
static const eddy_serde_t serde_int64 = {"int64", check_int64};
static const eddy_serde_t serde_double = {"double", check_double};
static const eddy_serde_t serde_msgpack = {"msgpack", check_msgpack};

const eddy_serde_t *eddy_serde_bytes(void)
{
    return &serde_bytes;
}

const eddy_serde_t *eddy_serde_string(void)
{
    return &serde_string;
}

const eddy_serde_t *eddy_serde_int32(void)
{
    return &serde_int32;
}

const eddy_serde_t *eddy_serde_int64(void)
{
    return &serde_int64;
}

const eddy_serde_t *eddy_serde_double(void)
{
    return &serde_double;
}

const eddy_serde_t *eddy_serde_msgpack(void)
{
    return &serde_msgpack;
}

/* Kafka's windowed serdes: TimeWindowedSerializer writes key + start,
 * SessionWindowedSerializer key + end + start (SessionKeySchema). */
int eddy_windowed_key_read(eddy_bytes_t windowed, int session, eddy_bytes_t *key, int64_t *start,
                           int64_t *end)
{
    int32_t tail = session ? 16 : 8;
    if (windowed.len < tail)
        return -EINVAL;
    const uint8_t *p = windowed.data;
    int32_t klen = windowed.len - tail;
    int64_t a, b = -1;
    eddy_int64_read(eddy_bytes(p + klen, 8), &a);
    if (session)
        eddy_int64_read(eddy_bytes(p + klen + 8, 8), &b);
    if (key)
        *key = eddy_bytes(p, (size_t)klen);
    if (start)
        *start = session ? b : a;
    if (end)
        *end = session ? a : -1;
    return 0;
}

/* Output buffers (eddy_buf_t) and the fixed-width formats Kafka's
 * serializers write: 4- and 8-byte big-endian integers and IEEE-754
 * doubles (LongSerializer, IntegerSerializer, DoubleSerializer). */
#include <errno.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsl/dsl_int.h"

/* eddy_bytes_t carries lengths as int32_t: a buffer never grows past it. */
#define BUF_MAX ((size_t)INT32_MAX)

/* Makes room for len bytes in total. Returns 0 or a negative error; b is
 * unchanged on failure. */
static int buf_reserve(eddy_buf_t *b, size_t len)
{
    if (len > BUF_MAX)
        return -EMSGSIZE;
    if (len <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < len)
        cap = cap > BUF_MAX / 2 ? BUF_MAX : cap * 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

/* data may point into b's own bytes (b set or extended from itself): its
 * offset is taken before a realloc may move them. */
static int buf_put(eddy_buf_t *b, size_t at, const void *data, size_t len)
{
    if (!b || (!data && len))
        return -EINVAL;
    if (len > BUF_MAX - at)
        return -EMSGSIZE;
    const uint8_t *src = data;
    uintptr_t s = (uintptr_t)src, base = (uintptr_t)b->data;
    int inside = b->data && s >= base && s < base + b->cap;
    size_t src_off = inside ? (size_t)(s - base) : 0;
    int err = buf_reserve(b, at + len);
    if (err)
        return err;
    if (inside)
        src = b->data + src_off;
    if (len)
        memmove(b->data + at, src, len);
    b->len = at + len;
    return 0;
}

int eddy_buf_set(eddy_buf_t *b, const void *data, size_t len)
{
    return buf_put(b, 0, data, len);
}

int eddy_buf_append(eddy_buf_t *b, const void *data, size_t len)
{
    return b ? buf_put(b, b->len, data, len) : -EINVAL;
}

void eddy_buf_free(eddy_buf_t *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int dsl_buf_printf(eddy_buf_t *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    if ((size_t)n < sizeof small)
        return eddy_buf_append(b, small, (size_t)n);
    int err = buf_reserve(b, b->len + (size_t)n + 1);
    if (err)
        return err;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

/* ---- fixed-width formats ---- */

static void be_store(uint8_t *out, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        out[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

static uint64_t be_load(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

void eddy_int64_write(uint8_t out[8], int64_t v)
{
    be_store(out, (uint64_t)v, 8);
}

int eddy_int64_read(eddy_bytes_t b, int64_t *out)
{
    if (b.len != 8 || !b.data || !out)
        return -EINVAL;
    *out = (int64_t)be_load(b.data, 8);
    return 0;
}

void eddy_int32_write(uint8_t out[4], int32_t v)
{
    be_store(out, (uint32_t)v, 4);
}

int eddy_int32_read(eddy_bytes_t b, int32_t *out)
{
    if (b.len != 4 || !b.data || !out)
        return -EINVAL;
    *out = (int32_t)(uint32_t)be_load(b.data, 4);
    return 0;
}

/* Java's DoubleSerializer writes Double.doubleToLongBits(v) as a long:
 * the IEEE-754 bits, big-endian. */
void eddy_double_write(uint8_t out[8], double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    be_store(out, bits, 8);
}

int eddy_double_read(eddy_bytes_t b, double *out)
{
    if (b.len != 8 || !b.data || !out)
        return -EINVAL;
    uint64_t bits = be_load(b.data, 8);
    memcpy(out, &bits, sizeof *out);
    return 0;
}

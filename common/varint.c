#include "varint.h"

#include "err.h"

size_t uvarint32_encode(uint8_t *out, uint32_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

size_t uvarint64_encode(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

size_t uvarint64_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Shared core: at most max_bytes bytes; the last allowed byte may only carry
 * the bits that still fit (bits_last), else the value overflows. */
static int uvarint_decode(const uint8_t *p, size_t len, uint64_t *out, size_t max_bytes,
                          unsigned bits_last)
{
    uint64_t v = 0;
    for (size_t i = 0; i < max_bytes; i++) {
        if (i >= len)
            return EDDY_ERR_TRUNCATED;
        uint8_t b = p[i];
        if (i == max_bytes - 1 && (b >> bits_last) != 0)
            return EDDY_ERR_VARINT_OVERFLOW;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            return (int)(i + 1);
        }
    }
    return EDDY_ERR_VARINT_OVERFLOW;
}

int uvarint32_decode(const uint8_t *p, size_t len, uint32_t *out)
{
    uint64_t v;
    int n = uvarint_decode(p, len, &v, VARINT_MAX32, 4);
    if (n > 0)
        *out = (uint32_t)v;
    return n;
}

int uvarint64_decode(const uint8_t *p, size_t len, uint64_t *out)
{
    return uvarint_decode(p, len, out, VARINT_MAX64, 1);
}

int varint32_decode(const uint8_t *p, size_t len, int32_t *out)
{
    uint32_t v;
    int n = uvarint32_decode(p, len, &v);
    if (n > 0)
        *out = zigzag32_decode(v);
    return n;
}

int varint64_decode(const uint8_t *p, size_t len, int64_t *out)
{
    uint64_t v;
    int n = uvarint64_decode(p, len, &v);
    if (n > 0)
        *out = zigzag64_decode(v);
    return n;
}

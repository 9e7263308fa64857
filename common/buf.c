#include "buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "varint.h"

void rd_fail(eddy_rd_t *rd, int err)
{
    if (!rd->rd_err)
        rd->rd_err = err;
}

/* The one bounds check every fixed-size read goes through. */
static const uint8_t *rd_take(eddy_rd_t *rd, size_t n)
{
    if (rd->rd_err)
        return NULL;
    if (n > rd->rd_len - rd->rd_pos) {
        rd->rd_err = EDDY_ERR_TRUNCATED;
        return NULL;
    }
    const uint8_t *p = rd->rd_p + rd->rd_pos;
    rd->rd_pos += n;
    return p;
}

int8_t rd_i8(eddy_rd_t *rd)
{
    const uint8_t *p = rd_take(rd, 1);
    return p ? (int8_t)p[0] : 0;
}

int16_t rd_i16(eddy_rd_t *rd)
{
    const uint8_t *p = rd_take(rd, 2);
    return p ? (int16_t)be16_load(p) : 0;
}

int32_t rd_i32(eddy_rd_t *rd)
{
    const uint8_t *p = rd_take(rd, 4);
    return p ? (int32_t)be32_load(p) : 0;
}

uint32_t rd_u32(eddy_rd_t *rd)
{
    const uint8_t *p = rd_take(rd, 4);
    return p ? be32_load(p) : 0;
}

int64_t rd_i64(eddy_rd_t *rd)
{
    const uint8_t *p = rd_take(rd, 8);
    return p ? (int64_t)be64_load(p) : 0;
}

/* Varint reads: decode in place, advance by what was consumed. */
/* Most varints in a record are one byte (small lengths, deltas): that case
 * is decoded in place, the rest by the general decoder. */
#define RD_VARINT(fn, type, decode, one_byte)                                                      \
    type fn(eddy_rd_t *rd)                                                                         \
    {                                                                                              \
        type v = 0;                                                                                \
        if (rd->rd_err)                                                                            \
            return 0;                                                                              \
        if (rd->rd_pos == rd->rd_len) { /* and no NULL + 0 for an empty view */                    \
            rd->rd_err = EDDY_ERR_TRUNCATED;                                                       \
            return 0;                                                                              \
        }                                                                                          \
        uint8_t b0 = rd->rd_p[rd->rd_pos];                                                         \
        if (b0 < 0x80) {                                                                           \
            rd->rd_pos++;                                                                          \
            return one_byte(b0);                                                                   \
        }                                                                                          \
        int n = decode(rd->rd_p + rd->rd_pos, rd->rd_len - rd->rd_pos, &v);                        \
        if (n < 0) {                                                                               \
            rd->rd_err = n;                                                                        \
            return 0;                                                                              \
        }                                                                                          \
        rd->rd_pos += (size_t)n;                                                                   \
        return v;                                                                                  \
    }

#define ZIGZAG_BYTE(b) ((b) >> 1 ^ -((b) & 1))
#define PLAIN_BYTE(b) (b)
RD_VARINT(rd_varint, int32_t, varint32_decode, ZIGZAG_BYTE)
RD_VARINT(rd_varlong, int64_t, varint64_decode, ZIGZAG_BYTE)
RD_VARINT(rd_uvarint, uint32_t, uvarint32_decode, PLAIN_BYTE)

const uint8_t *rd_bytes(eddy_rd_t *rd, size_t n)
{
    return rd_take(rd, n);
}

void rd_skip(eddy_rd_t *rd, size_t n)
{
    (void)rd_take(rd, n);
}

void wr_init(eddy_wr_t *wr)
{
    memset(wr, 0, sizeof *wr);
}

void wr_free(eddy_wr_t *wr)
{
    free(wr->wr_buf);
    memset(wr, 0, sizeof *wr);
}

void wr_reset(eddy_wr_t *wr)
{
    wr->wr_len = 0;
    wr->wr_err = 0;
}

uint8_t *wr_reserve(eddy_wr_t *wr, size_t n)
{
    if (wr->wr_err)
        return NULL;
    if (n > wr->wr_cap - wr->wr_len) {
        size_t cap = wr->wr_cap ? wr->wr_cap : 256;
        while (cap - wr->wr_len < n) {
            if (cap > SIZE_MAX / 2) {
                wr->wr_err = -ENOMEM;
                return NULL;
            }
            cap *= 2;
        }
        uint8_t *nb = realloc(wr->wr_buf, cap);
        if (!nb) {
            wr->wr_err = -ENOMEM;
            return NULL;
        }
        wr->wr_buf = nb;
        wr->wr_cap = cap;
    }
    uint8_t *p = wr->wr_buf + wr->wr_len;
    wr->wr_len += n;
    return p;
}

void wr_i8(eddy_wr_t *wr, int8_t v)
{
    uint8_t *p = wr_reserve(wr, 1);
    if (p)
        p[0] = (uint8_t)v;
}

void wr_i16(eddy_wr_t *wr, int16_t v)
{
    uint8_t *p = wr_reserve(wr, 2);
    if (p)
        be16_store(p, (uint16_t)v);
}

void wr_i32(eddy_wr_t *wr, int32_t v)
{
    wr_u32(wr, (uint32_t)v);
}

void wr_u32(eddy_wr_t *wr, uint32_t v)
{
    uint8_t *p = wr_reserve(wr, 4);
    if (p)
        be32_store(p, v);
}

void wr_i64(eddy_wr_t *wr, int64_t v)
{
    uint8_t *p = wr_reserve(wr, 8);
    if (p)
        be64_store(p, (uint64_t)v);
}

/* Encode into a stack buffer, then copy only what was used. */
static void wr_varbytes(eddy_wr_t *wr, const uint8_t *tmp, size_t n)
{
    uint8_t *p = wr_reserve(wr, n);
    if (p)
        memcpy(p, tmp, n);
}

void wr_varint(eddy_wr_t *wr, int32_t v)
{
    uint8_t tmp[VARINT_MAX32];
    wr_varbytes(wr, tmp, varint32_encode(tmp, v));
}

void wr_varlong(eddy_wr_t *wr, int64_t v)
{
    uint8_t tmp[VARINT_MAX64];
    wr_varbytes(wr, tmp, varint64_encode(tmp, v));
}

void wr_uvarint(eddy_wr_t *wr, uint32_t v)
{
    uint8_t tmp[VARINT_MAX32];
    wr_varbytes(wr, tmp, uvarint32_encode(tmp, v));
}

void wr_bytes(eddy_wr_t *wr, const void *src, size_t n)
{
    if (n == 0)
        return;
    uint8_t *p = wr_reserve(wr, n);
    if (p)
        memcpy(p, src, n);
}

void wr_patch_i32(eddy_wr_t *wr, size_t at, int32_t v)
{
    wr_patch_u32(wr, at, (uint32_t)v);
}

void wr_patch_u32(eddy_wr_t *wr, size_t at, uint32_t v)
{
    /* Written so that a wild `at` cannot wrap the bounds check. */
    if (!wr->wr_err && at <= wr->wr_len && wr->wr_len - at >= 4)
        be32_store(wr->wr_buf + at, v);
}

void wr_patch_i64(eddy_wr_t *wr, size_t at, int64_t v)
{
    if (!wr->wr_err && at <= wr->wr_len && wr->wr_len - at >= 8)
        be64_store(wr->wr_buf + at, (uint64_t)v);
}

uint8_t *wr_take(eddy_wr_t *wr, size_t *len)
{
    uint8_t *b = wr->wr_buf;
    *len = wr->wr_len;
    memset(wr, 0, sizeof *wr);
    return b;
}

int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Bounded byte reader and growable byte writer, big-endian as Kafka is.
 *
 * Reader: a view over borrowed bytes. Every read checks the bytes left; a
 * read past the end sets a sticky error (EDDY_ERR_TRUNCATED) and returns 0 /
 * NULL instead of touching memory, and every later read fails too. Decoders
 * can therefore read a whole structure and test rd.rd_err once at the end.
 * Views returned by the reader borrow the underlying bytes.
 *
 * Writer: owns a heap buffer that grows as needed. An allocation failure sets
 * a sticky -ENOMEM; later writes are dropped. wr_take() hands the buffer to
 * the caller (who frees it with free()).
 */
#ifndef EDDY_COMMON_BUF_H
#define EDDY_COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct eddy_rd {
    const uint8_t *rd_p; /* borrowed */
    size_t rd_len;
    size_t rd_pos;
    int rd_err; /* 0 or the first error seen */
} eddy_rd_t;

static inline void rd_init(eddy_rd_t *rd, const void *p, size_t len)
{
    rd->rd_p = (const uint8_t *)p;
    rd->rd_len = len;
    rd->rd_pos = 0;
    rd->rd_err = 0;
}

static inline size_t rd_remaining(const eddy_rd_t *rd)
{
    return rd->rd_err ? 0 : rd->rd_len - rd->rd_pos;
}

int8_t rd_i8(eddy_rd_t *rd);
int16_t rd_i16(eddy_rd_t *rd);
int32_t rd_i32(eddy_rd_t *rd);
uint32_t rd_u32(eddy_rd_t *rd);
int64_t rd_i64(eddy_rd_t *rd);
int32_t rd_varint(eddy_rd_t *rd);    /* zigzag, 32-bit */
int64_t rd_varlong(eddy_rd_t *rd);   /* zigzag, 64-bit */
uint32_t rd_uvarint(eddy_rd_t *rd);  /* unsigned, 32-bit (flexible versions) */
/* n bytes as a borrowed view, or NULL (and the sticky error) if fewer remain. */
const uint8_t *rd_bytes(eddy_rd_t *rd, size_t n);
void rd_skip(eddy_rd_t *rd, size_t n);
/* Marks the reader failed with err (keeps the first error). */
void rd_fail(eddy_rd_t *rd, int err);

typedef struct eddy_wr {
    uint8_t *wr_buf; /* owned */
    size_t wr_len;
    size_t wr_cap;
    int wr_err; /* 0 or -ENOMEM */
} eddy_wr_t;

void wr_init(eddy_wr_t *wr);
void wr_free(eddy_wr_t *wr);
void wr_reset(eddy_wr_t *wr); /* length 0, keeps the buffer */
/* Makes room for n more bytes; returns a pointer to them or NULL. */
uint8_t *wr_reserve(eddy_wr_t *wr, size_t n);
void wr_i8(eddy_wr_t *wr, int8_t v);
void wr_i16(eddy_wr_t *wr, int16_t v);
void wr_i32(eddy_wr_t *wr, int32_t v);
void wr_u32(eddy_wr_t *wr, uint32_t v);
void wr_i64(eddy_wr_t *wr, int64_t v);
void wr_varint(eddy_wr_t *wr, int32_t v);
void wr_varlong(eddy_wr_t *wr, int64_t v);
void wr_uvarint(eddy_wr_t *wr, uint32_t v);
void wr_bytes(eddy_wr_t *wr, const void *p, size_t n);
/* Overwrite already-written bytes (length and CRC placeholders). */
void wr_patch_i32(eddy_wr_t *wr, size_t at, int32_t v);
void wr_patch_u32(eddy_wr_t *wr, size_t at, uint32_t v);
void wr_patch_i64(eddy_wr_t *wr, size_t at, int64_t v);
/* Transfers the buffer to the caller and resets the writer. */
uint8_t *wr_take(eddy_wr_t *wr, size_t *len);

/* Big-endian loads and stores on raw memory, for fixed layouts. */
static inline uint16_t be16_load(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t be32_load(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t be64_load(const uint8_t *p)
{
    return ((uint64_t)be32_load(p) << 32) | be32_load(p + 4);
}
static inline void be16_store(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void be32_store(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void be64_store(uint8_t *p, uint64_t v)
{
    be32_store(p, (uint32_t)(v >> 32));
    be32_store(p + 4, (uint32_t)v);
}

/* qsort() comparator for int64_t: ascending, no overflow from subtracting. */
int cmp_i64(const void *a, const void *b);

#endif

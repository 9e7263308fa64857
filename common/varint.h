/* Variable-length integers as Kafka uses them.
 *
 * Records inside a RecordBatch use *zigzag* varints (protobuf sint32/sint64):
 * 0 -> 0, -1 -> 1, 1 -> 2, ... so small negative values (a -1 null length)
 * stay one byte. Flexible protocol messages use *unsigned* varints, and their
 * compact lengths store length+1 (0 = null) - a different encoding; mixing
 * the two is the classic bug, hence separate names.
 *
 * Decoders take the bytes available and return the number consumed (> 0), or
 * a negative eddy_err: EDDY_ERR_TRUNCATED when the input ends mid-value,
 * EDDY_ERR_VARINT_OVERFLOW when the value does not fit its type.
 */
#ifndef EDDY_COMMON_VARINT_H
#define EDDY_COMMON_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define VARINT_MAX32 5  /* bytes a 32-bit varint may take */
#define VARINT_MAX64 10 /* bytes a 64-bit varint may take */

static inline uint32_t zigzag32_encode(int32_t v)
{
    return ((uint32_t)v << 1) ^ (uint32_t)(v >> 31);
}
static inline int32_t zigzag32_decode(uint32_t v)
{
    return (int32_t)((v >> 1) ^ (~(v & 1) + 1));
}
static inline uint64_t zigzag64_encode(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static inline int64_t zigzag64_decode(uint64_t v)
{
    return (int64_t)((v >> 1) ^ (~(v & 1) + 1));
}

/* Encoders write into out (room for VARINT_MAX32/64 bytes) and return the
 * number of bytes written. */
size_t uvarint32_encode(uint8_t *out, uint32_t v);
size_t uvarint64_encode(uint8_t *out, uint64_t v);
static inline size_t varint32_encode(uint8_t *out, int32_t v)
{
    return uvarint32_encode(out, zigzag32_encode(v));
}
static inline size_t varint64_encode(uint8_t *out, int64_t v)
{
    return uvarint64_encode(out, zigzag64_encode(v));
}

/* Size of the encoding without writing it. */
size_t uvarint64_size(uint64_t v);
static inline size_t varint32_size(int32_t v)
{
    return uvarint64_size(zigzag32_encode(v));
}
static inline size_t varint64_size(int64_t v)
{
    return uvarint64_size(zigzag64_encode(v));
}

int uvarint32_decode(const uint8_t *p, size_t len, uint32_t *out);
int uvarint64_decode(const uint8_t *p, size_t len, uint64_t *out);
int varint32_decode(const uint8_t *p, size_t len, int32_t *out);
int varint64_decode(const uint8_t *p, size_t len, int64_t *out);

#endif

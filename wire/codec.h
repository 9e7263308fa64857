/* Kafka's compression codecs, by the codec id of a RecordBatch's attributes.
 *
 * One module for the client and the broker, on Debian's libraries; no codec
 * is written here, only the framing Kafka adds around them:
 *
 *   id  name    library  stream format (what Kafka's Java client writes)
 *   1   gzip    zlib     RFC 1952 gzip member(s); concatenated members read
 *   2   snappy  snappy   xerial framing: "\x82SNAPPY\0", int32 version 1,
 *                        int32 compatible 1, then blocks of int32 length +
 *                        raw snappy. librdkafka writes raw snappy with no
 *                        framing: both are read, xerial framing is written.
 *   3   lz4     lz4      LZ4 frame format (magic 0x184D2204), independent
 *                        64 KiB blocks (Kafka's reader decodes blocks
 *                        separately, so linked blocks would not be read)
 *   4   zstd    zstd     zstd frame(s)
 *
 * Decompression is bounded: output never exceeds max_out bytes, and no
 * allocation larger than the output produced so far (doubling, capped at
 * max_out) is made on the word of a length field inside the stream, so a
 * small batch claiming a huge size costs nothing (cf. CVE-2023-34455).
 */
#ifndef EDDY_WIRE_CODEC_H
#define EDDY_WIRE_CODEC_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

enum {
    WIRE_CODEC_NONE = 0,
    WIRE_CODEC_GZIP = 1,
    WIRE_CODEC_SNAPPY = 2,
    WIRE_CODEC_LZ4 = 3,
    WIRE_CODEC_ZSTD = 4,
};

/* The codec's own default level (gzip 6, lz4 fast, zstd 3; snappy has none). */
#define WIRE_CODEC_LEVEL_DEFAULT INT_MIN

/* Decompressed size a reader accepts when its caller has no better bound. */
#define WIRE_INFLATE_LIMIT_DEFAULT ((size_t)256 << 20)

/* "none", "gzip", "snappy", "lz4", "zstd"; "unknown" otherwise. Static. */
const char *wire_codec_name(int codec);

/* Parses a codec name as Kafka's compression.type spells it ("none" or
 * "uncompressed" are 0). Returns the id, or -1 for an unknown name. */
int wire_codec_parse(const char *name);

/* Checks a level for a codec (Kafka's ranges: gzip 1-9, lz4 1-17, zstd
 * -131072-22; snappy takes none). 0 or EDDY_ERR_CONFIG. */
int wire_codec_level_check(int codec, int level);

/* Appends the compressed form of src[0..len) to wr. Returns 0, -ENOMEM or
 * EDDY_ERR_BATCH_CODEC (unknown codec or the library failed). */
int wire_codec_compress(int codec, int level, const void *src, size_t len, eddy_wr_t *wr);

/* Decompresses src[0..len) into a new buffer of at most max_out bytes.
 * On success *out (malloc'd, the caller frees it) and *out_len are set.
 * Errors, each with a sentence in errstr: EDDY_ERR_BATCH_CODEC (unknown
 * codec), EDDY_ERR_CORRUPT_COMPRESSED (the stream does not decode, or ends
 * early), EDDY_ERR_INFLATED_TOO_LARGE (the output would pass max_out),
 * -ENOMEM. */
int wire_codec_decompress(int codec, const void *src, size_t len, size_t max_out, uint8_t **out,
                          size_t *out_len, char *errstr, size_t errstr_size);

#endif

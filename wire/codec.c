#include "codec.h"

#include <errno.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>

#include "common/err.h"

static const char *const codec_names[] = {"none", "gzip", "snappy", "lz4", "zstd"};

const char *wire_codec_name(int codec)
{
    return codec >= 0 && codec <= WIRE_CODEC_ZSTD ? codec_names[codec] : "unknown";
}

int wire_codec_parse(const char *name)
{
    if (!strcasecmp(name, "uncompressed"))
        return WIRE_CODEC_NONE;
    for (int c = 0; c <= WIRE_CODEC_ZSTD; c++)
        if (!strcasecmp(name, codec_names[c]))
            return c;
    return -1;
}

int wire_codec_level_check(int codec, int level)
{
    if (level == WIRE_CODEC_LEVEL_DEFAULT)
        return 0;
    switch (codec) {
    case WIRE_CODEC_GZIP: return level >= 1 && level <= 9 ? 0 : EDDY_ERR_CONFIG;
    case WIRE_CODEC_LZ4: return level >= 1 && level <= 17 ? 0 : EDDY_ERR_CONFIG;
    case WIRE_CODEC_ZSTD: return level >= -131072 && level <= 22 ? 0 : EDDY_ERR_CONFIG;
    default: return EDDY_ERR_CONFIG;
    }
}

/* ---- compression --------------------------------------------------------- */

/* The xerial framing Kafka's Java client writes around snappy blocks. */
static const uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
#define XERIAL_HEADER_SIZE 16
#define XERIAL_BLOCK_SIZE (32 * 1024) /* the Java client's block size */

static int compress_gzip(int level, const uint8_t *src, size_t len, eddy_wr_t *wr)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    /* 15 + 16: a gzip wrapper, not zlib's. */
    if (deflateInit2(&z, level == WIRE_CODEC_LEVEL_DEFAULT ? Z_DEFAULT_COMPRESSION : level,
                     Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -ENOMEM;
    size_t bound = deflateBound(&z, (uLong)len);
    size_t at = wr->wr_len;
    uint8_t *dst = wr_reserve(wr, bound);
    if (!dst) {
        deflateEnd(&z);
        return -ENOMEM;
    }
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)len;
    z.next_out = dst;
    z.avail_out = (uInt)bound;
    int rc = deflate(&z, Z_FINISH);
    size_t produced = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END)
        return EDDY_ERR_BATCH_CODEC;
    wr->wr_len = at + produced;
    return 0;
}

static int compress_snappy(const uint8_t *src, size_t len, eddy_wr_t *wr)
{
    wr_bytes(wr, xerial_magic, sizeof xerial_magic);
    wr_i32(wr, 1); /* version */
    wr_i32(wr, 1); /* compatible version */
    for (size_t pos = 0; pos < len || (len == 0 && pos == 0); pos += XERIAL_BLOCK_SIZE) {
        size_t n = len - pos < XERIAL_BLOCK_SIZE ? len - pos : XERIAL_BLOCK_SIZE;
        size_t bound = snappy_max_compressed_length(n);
        size_t at = wr->wr_len;
        uint8_t *dst = wr_reserve(wr, 4 + bound);
        if (!dst)
            return -ENOMEM;
        size_t out = bound;
        if (snappy_compress((const char *)src + pos, n, (char *)dst + 4, &out) != SNAPPY_OK)
            return EDDY_ERR_BATCH_CODEC;
        be32_store(dst, (uint32_t)out);
        wr->wr_len = at + 4 + out;
        if (len == 0)
            break;
    }
    return wr->wr_err;
}

static int compress_lz4(int level, const uint8_t *src, size_t len, eddy_wr_t *wr)
{
    LZ4F_preferences_t prefs;
    memset(&prefs, 0, sizeof prefs);
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    prefs.compressionLevel = level == WIRE_CODEC_LEVEL_DEFAULT ? 0 : level;
    size_t bound = LZ4F_compressFrameBound(len, &prefs);
    size_t at = wr->wr_len;
    uint8_t *dst = wr_reserve(wr, bound);
    if (!dst)
        return -ENOMEM;
    size_t out = LZ4F_compressFrame(dst, bound, src, len, &prefs);
    if (LZ4F_isError(out))
        return EDDY_ERR_BATCH_CODEC;
    wr->wr_len = at + out;
    return 0;
}

static int compress_zstd(int level, const uint8_t *src, size_t len, eddy_wr_t *wr)
{
    size_t bound = ZSTD_compressBound(len);
    size_t at = wr->wr_len;
    uint8_t *dst = wr_reserve(wr, bound);
    if (!dst)
        return -ENOMEM;
    size_t out = ZSTD_compress(dst, bound, src, len,
                               level == WIRE_CODEC_LEVEL_DEFAULT ? ZSTD_CLEVEL_DEFAULT : level);
    if (ZSTD_isError(out))
        return EDDY_ERR_BATCH_CODEC;
    wr->wr_len = at + out;
    return 0;
}

int wire_codec_compress(int codec, int level, const void *src, size_t len, eddy_wr_t *wr)
{
    if (wr->wr_err)
        return wr->wr_err;
    size_t at = wr->wr_len;
    int rc;
    switch (codec) {
    case WIRE_CODEC_GZIP: rc = compress_gzip(level, src, len, wr); break;
    case WIRE_CODEC_SNAPPY: rc = compress_snappy(src, len, wr); break;
    case WIRE_CODEC_LZ4: rc = compress_lz4(level, src, len, wr); break;
    case WIRE_CODEC_ZSTD: rc = compress_zstd(level, src, len, wr); break;
    default: return EDDY_ERR_BATCH_CODEC;
    }
    if (!rc && wr->wr_err)
        rc = wr->wr_err;
    if (rc && !wr->wr_err)
        wr->wr_len = at; /* nothing half-written stays behind */
    return rc;
}

/* ---- decompression ------------------------------------------------------- */

/* The output of one decompression: grows by doubling, never past ob_max. */
typedef struct outbuf {
    uint8_t *ob_p;
    size_t ob_len;
    size_t ob_cap;
    size_t ob_max;
} outbuf_t;

/* Makes room for at least one more byte (more if the stream's next step
 * wants `want`), within the bound. 0, -ENOMEM or EDDY_ERR_INFLATED_TOO_LARGE. */
static int out_grow(outbuf_t *ob, size_t want)
{
    if (ob->ob_cap - ob->ob_len >= want && ob->ob_cap > ob->ob_len)
        return 0;
    if (ob->ob_cap >= ob->ob_max)
        return EDDY_ERR_INFLATED_TOO_LARGE;
    size_t cap = ob->ob_cap ? ob->ob_cap * 2 : 64 * 1024;
    while (cap - ob->ob_len < want && cap < ob->ob_max)
        cap *= 2;
    if (cap > ob->ob_max)
        cap = ob->ob_max;
    uint8_t *p = realloc(ob->ob_p, cap ? cap : 1);
    if (!p)
        return -ENOMEM;
    ob->ob_p = p;
    ob->ob_cap = cap;
    return 0;
}

static int inflate_gzip(const uint8_t *src, size_t len, outbuf_t *ob)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK) /* + 32: gzip or zlib header, detected */
        return -ENOMEM;
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)len;
    int rc = 0;
    for (;;) {
        if ((rc = out_grow(ob, 1)) != 0)
            break;
        z.next_out = ob->ob_p + ob->ob_len;
        z.avail_out = (uInt)(ob->ob_cap - ob->ob_len);
        size_t before = z.avail_out;
        int zr = inflate(&z, Z_NO_FLUSH);
        ob->ob_len += before - z.avail_out;
        if (zr == Z_STREAM_END) {
            if (z.avail_in == 0)
                break;
            /* Another gzip member follows (Java's GZIPInputStream reads them). */
            if (inflateReset(&z) != Z_OK) {
                rc = EDDY_ERR_CORRUPT_COMPRESSED;
                break;
            }
            continue;
        }
        if (zr == Z_BUF_ERROR && z.avail_in == 0) { /* input ended inside the stream */
            rc = EDDY_ERR_CORRUPT_COMPRESSED;
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            rc = zr == Z_MEM_ERROR ? -ENOMEM : EDDY_ERR_CORRUPT_COMPRESSED;
            break;
        }
    }
    inflateEnd(&z);
    return rc;
}

/* One raw snappy block; the claimed size is checked against the bound
 * before any room is made for it. */
static int inflate_snappy_block(const uint8_t *src, size_t len, outbuf_t *ob)
{
    size_t n;
    if (snappy_uncompressed_length((const char *)src, len, &n) != SNAPPY_OK)
        return EDDY_ERR_CORRUPT_COMPRESSED;
    if (n > ob->ob_max - ob->ob_len)
        return EDDY_ERR_INFLATED_TOO_LARGE;
    if (n == 0)
        return snappy_validate_compressed_buffer((const char *)src, len) == SNAPPY_OK
                   ? 0
                   : EDDY_ERR_CORRUPT_COMPRESSED;
    int rc = out_grow(ob, n);
    if (rc)
        return rc;
    size_t out = n;
    if (snappy_uncompress((const char *)src, len, (char *)ob->ob_p + ob->ob_len, &out) !=
            SNAPPY_OK ||
        out != n)
        return EDDY_ERR_CORRUPT_COMPRESSED;
    ob->ob_len += n;
    return 0;
}

static int inflate_snappy(const uint8_t *src, size_t len, outbuf_t *ob)
{
    if (len < XERIAL_HEADER_SIZE || memcmp(src, xerial_magic, sizeof xerial_magic) != 0)
        return inflate_snappy_block(src, len, ob); /* librdkafka: no framing */
    size_t pos = XERIAL_HEADER_SIZE;
    while (pos < len) {
        if (len - pos < 4)
            return EDDY_ERR_CORRUPT_COMPRESSED;
        size_t n = be32_load(src + pos);
        pos += 4;
        if (n > len - pos)
            return EDDY_ERR_CORRUPT_COMPRESSED;
        int rc = inflate_snappy_block(src + pos, n, ob);
        if (rc)
            return rc;
        pos += n;
    }
    return 0;
}

static int inflate_lz4(const uint8_t *src, size_t len, outbuf_t *ob)
{
    LZ4F_dctx *dctx;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
        return -ENOMEM;
    size_t pos = 0;
    size_t hint = 1;
    int rc = 0;
    /* hint == 0: the frame is complete. Another frame may follow. */
    while (pos < len || hint != 0) {
        if (pos >= len) {
            rc = EDDY_ERR_CORRUPT_COMPRESSED; /* input ended inside a frame */
            break;
        }
        if ((rc = out_grow(ob, 1)) != 0)
            break;
        size_t in = len - pos;
        size_t out = ob->ob_cap - ob->ob_len;
        hint = LZ4F_decompress(dctx, ob->ob_p + ob->ob_len, &out, src + pos, &in, NULL);
        if (LZ4F_isError(hint)) {
            rc = EDDY_ERR_CORRUPT_COMPRESSED;
            break;
        }
        pos += in;
        ob->ob_len += out;
        if (in == 0 && out == 0 && hint != 0) {
            rc = EDDY_ERR_CORRUPT_COMPRESSED; /* no progress: cannot happen on good input */
            break;
        }
    }
    LZ4F_freeDecompressionContext(dctx);
    return rc;
}

static int inflate_zstd(const uint8_t *src, size_t len, outbuf_t *ob)
{
    ZSTD_DStream *ds = ZSTD_createDStream();
    if (!ds)
        return -ENOMEM;
    ZSTD_initDStream(ds);
    ZSTD_inBuffer in = {src, len, 0};
    size_t hint = 1;
    int rc = 0;
    while (in.pos < in.size || hint != 0) {
        if (in.pos >= in.size) {
            rc = EDDY_ERR_CORRUPT_COMPRESSED; /* input ended inside a frame */
            break;
        }
        if ((rc = out_grow(ob, 1)) != 0)
            break;
        ZSTD_outBuffer out = {ob->ob_p + ob->ob_len, ob->ob_cap - ob->ob_len, 0};
        size_t in_before = in.pos;
        hint = ZSTD_decompressStream(ds, &out, &in);
        if (ZSTD_isError(hint)) {
            rc = EDDY_ERR_CORRUPT_COMPRESSED;
            break;
        }
        ob->ob_len += out.pos;
        if (in.pos == in_before && out.pos == 0 && hint != 0 && ob->ob_len < ob->ob_cap) {
            rc = EDDY_ERR_CORRUPT_COMPRESSED;
            break;
        }
    }
    ZSTD_freeDStream(ds);
    return rc;
}

int wire_codec_decompress(int codec, const void *src, size_t len, size_t max_out, uint8_t **out,
                          size_t *out_len, char *errstr, size_t errstr_size)
{
    outbuf_t ob = {NULL, 0, 0, max_out};
    int rc;
    switch (codec) {
    case WIRE_CODEC_GZIP: rc = inflate_gzip(src, len, &ob); break;
    case WIRE_CODEC_SNAPPY: rc = inflate_snappy(src, len, &ob); break;
    case WIRE_CODEC_LZ4: rc = inflate_lz4(src, len, &ob); break;
    case WIRE_CODEC_ZSTD: rc = inflate_zstd(src, len, &ob); break;
    default:
        snprintf(errstr, errstr_size, "compression codec %d is unknown", codec);
        return EDDY_ERR_BATCH_CODEC;
    }
    if (rc) {
        free(ob.ob_p);
        if (rc == EDDY_ERR_INFLATED_TOO_LARGE)
            snprintf(errstr, errstr_size,
                     "%s records inflate past %zu bytes from %zu compressed bytes",
                     wire_codec_name(codec), max_out, len);
        else if (rc == EDDY_ERR_CORRUPT_COMPRESSED)
            snprintf(errstr, errstr_size,
                     "%s stream of %zu bytes is corrupt or truncated (%zu bytes decoded)",
                     wire_codec_name(codec), len, ob.ob_len);
        else
            snprintf(errstr, errstr_size, "decompressing %s: %s", wire_codec_name(codec),
                     eddy_strerror(rc));
        return rc;
    }
    *out = ob.ob_p ? ob.ob_p : malloc(1);
    if (!*out)
        return -ENOMEM;
    *out_len = ob.ob_len;
    return 0;
}

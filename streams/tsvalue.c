/* The timestamped-value format (tsvalue.h draws it): putting a value's
 * timestamp in front, taking it apart, and stripping it from a query's
 * copy. Its own file so that every reader and writer of timestamped stores
 * shares one definition of the layout.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "streams/tsvalue.h"

int sx_ts_value(sx_tsbuf_t *b, int64_t ts, eddy_bytes_t value, eddy_bytes_t *out)
{
    size_t vlen = value.len > 0 ? (size_t)value.len : 0;
    uint8_t *p = b->tb_small;
    if (SX_TS_PREFIX + vlen > sizeof b->tb_small) {
        if (b->tb_heap.cap < SX_TS_PREFIX + vlen) {
            uint8_t *np = realloc(b->tb_heap.data, SX_TS_PREFIX + vlen);
            if (!np)
                return -ENOMEM;
            b->tb_heap.data = np;
            b->tb_heap.cap = SX_TS_PREFIX + vlen;
        }
        b->tb_heap.len = SX_TS_PREFIX + vlen;
        p = b->tb_heap.data;
    }
    eddy_int64_write(p, ts);
    if (vlen)
        memcpy(p + SX_TS_PREFIX, value.data, vlen);
    *out = eddy_bytes(p, SX_TS_PREFIX + vlen);
    return 0;
}

void sx_tsbuf_free(sx_tsbuf_t *b)
{
    eddy_buf_free(&b->tb_heap);
}

int sx_ts_split(eddy_bytes_t stored, int64_t *ts, eddy_bytes_t *value)
{
    if (stored.len < SX_TS_PREFIX)
        return -EINVAL;
    eddy_int64_read(eddy_bytes(stored.data, SX_TS_PREFIX), ts);
    *value = eddy_bytes((const uint8_t *)stored.data + SX_TS_PREFIX,
                        (size_t)stored.len - SX_TS_PREFIX);
    return 0;
}

int sx_ts_strip(eddy_buf_t *out)
{
    if (out->len < SX_TS_PREFIX)
        return -ENOENT;
    memmove(out->data, out->data + SX_TS_PREFIX, out->len - SX_TS_PREFIX);
    out->len -= SX_TS_PREFIX;
    return 0;
}

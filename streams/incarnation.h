/* Changelog incarnation records: the format, shared by the streams runtime
 * (streams/incarnation.c writes and reads them) and `eddy app reset`
 * (which reads the inputs they name). docs/streams.md, "State after a
 * reset", gives the scheme.
 *
 * The runtime writes one into a changelog partition whose state has no
 * incarnation yet (a new or emptied changelog, a changelog written before
 * these records existed) when the task starts running, and again when the
 * one it knows is getting old under a time retention (window and session
 * changelogs):
 *
 *   key        "__eddy.changelog.incarnation." + id    (61 bytes, unique:
 *              compaction keeps it for good)
 *   value      "inputs=" + the input topics that fill the store, comma-
 *              separated (the user's topics, upstream of repartition topics);
 *              any value without that prefix: not known
 *   timestamp  wall clock at writing
 *   header     "eddy.changelog.incarnation" = id
 *
 * where id is 128 random bits as 32 lowercase hex digits. Restore skips the
 * record (it is not the store's data); other readers of a changelog see it
 * as one more key.
 */
#ifndef EDDY_STREAMS_INCARNATION_H
#define EDDY_STREAMS_INCARNATION_H

#include <stdint.h>
#include <string.h>

#include "client/consumer.h"
#include "common/buf.h"
#include "wire/recordbatch.h"

#define SX_INC_HEADER "eddy.changelog.incarnation"
#define SX_INC_KEY_PREFIX "__eddy.changelog.incarnation."
#define SX_INC_VALUE_PREFIX "inputs="
#define SX_INC_ID_BYTES 16

static inline int sx_inc_hex(uint8_t c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* 1 when m is an incarnation record, with its id in id; else 0. */
static inline int sx_inc_parse(const kc_message_t *m, uint8_t id[SX_INC_ID_BYTES])
{
    if (m->msg_header_count <= 0)
        return 0;
    eddy_rd_t rd;
    rd_init(&rd, m->msg_headers, m->msg_headers_len);
    wire_header_t h;
    size_t hl = strlen(SX_INC_HEADER);
    for (int32_t i = 0; i < m->msg_header_count && wire_header_next(&rd, &h) == 1; i++) {
        if (h.keyLength != (int32_t)hl || memcmp(h.key, SX_INC_HEADER, hl) != 0)
            continue;
        if (h.valueLength != 2 * SX_INC_ID_BYTES)
            return 0;
        for (int j = 0; j < SX_INC_ID_BYTES; j++) {
            int hi = sx_inc_hex(h.value[2 * j]), lo = sx_inc_hex(h.value[2 * j + 1]);
            if (hi < 0 || lo < 0)
                return 0;
            id[j] = (uint8_t)(hi << 4 | lo);
        }
        return 1;
    }
    return 0;
}

#endif

/* Private helpers shared by the API codecs in wire/ (not for the broker).
 *
 * Kafka's own parsers reject a null where the spec does not allow one
 * ("non-nullable field was serialized as null"), and so do these: a decoded
 * non-nullable string always has ptr != NULL and len >= 0, and a decoded
 * non-nullable array always has count >= 0, so broker code never meets a
 * null it was not told about.
 */
#ifndef EDDY_WIRE_PROTO_INT_H
#define EDDY_WIRE_PROTO_INT_H

#include <errno.h>

#include "common/err.h"
#include "proto.h"

/* A legacy (int16) string that may not be null. */
static inline kstr_t rd_string_nn(eddy_rd_t *rd)
{
    kstr_t s = rd_string(rd);
    if (s.len < 0) {
        rd_fail(rd, EDDY_ERR_INVALID_ARG);
        return (kstr_t){"", 0};
    }
    return s;
}

/* A compact string that may not be null. */
static inline kstr_t rd_compact_string_nn(eddy_rd_t *rd)
{
    kstr_t s = rd_compact_string(rd);
    if (s.len < 0) {
        rd_fail(rd, EDDY_ERR_INVALID_ARG);
        return (kstr_t){"", 0};
    }
    return s;
}

#endif

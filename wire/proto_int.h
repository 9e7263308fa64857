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

/* An int32-counted array that may not be null: the count, or 0 on error. */
static inline int32_t rd_array_count_nn(eddy_rd_t *rd, size_t min_elem)
{
    int32_t n = rd_array_count(rd, min_elem);
    if (n < 0) {
        rd_fail(rd, EDDY_ERR_INVALID_ARG);
        return 0;
    }
    return n;
}

/* Room for n elements from the request arena, or NULL when n <= 0 or the
 * reader has failed. An arena refusal fails the reader with -ENOMEM, so the
 * caller's loop (guarded by !rd->rd_err) never touches a NULL array. */
static inline void *rd_arena_array(eddy_rd_t *rd, eddy_arena_t *a, int32_t n, size_t size)
{
    if (n <= 0 || rd->rd_err)
        return NULL;
    void *p = arena_calloc(a, (size_t)n, size);
    if (!p)
        rd_fail(rd, -ENOMEM);
    return p;
}

#endif

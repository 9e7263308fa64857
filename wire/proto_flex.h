/* Field readers and writers that take the version's encoding as a flag:
 * the same field is a legacy (int16/int32 length) or a compact (uvarint
 * length + 1) string, bytes or array depending on whether the API version
 * is flexible. For codecs whose versions straddle the first flexible one. */
#ifndef EDDY_WIRE_PROTO_FLEX_H
#define EDDY_WIRE_PROTO_FLEX_H

#include "proto_int.h"

static inline kstr_t rdf_string(eddy_rd_t *rd, int flex)
{
    return flex ? rd_compact_string(rd) : rd_string(rd);
}

static inline kstr_t rdf_string_nn(eddy_rd_t *rd, int flex)
{
    return flex ? rd_compact_string_nn(rd) : rd_string_nn(rd);
}

/* -1 for a null array. */
static inline int32_t rdf_array_count(eddy_rd_t *rd, int flex, size_t min_elem)
{
    return flex ? rd_compact_array_count(rd, min_elem) : rd_array_count(rd, min_elem);
}

static inline int32_t rdf_array_count_nn(eddy_rd_t *rd, int flex, size_t min_elem)
{
    int32_t n = rdf_array_count(rd, flex, min_elem);
    if (n < 0) {
        rd_fail(rd, EDDY_ERR_INVALID_ARG);
        return 0;
    }
    return n;
}

static inline kstr_t rdf_bytes(eddy_rd_t *rd, int flex)
{
    return flex ? rd_compact_string(rd) : rd_kbytes(rd);
}

static inline void rdf_tags(eddy_rd_t *rd, int flex)
{
    if (flex)
        rd_skip_tags(rd);
}

static inline void wrf_string(eddy_wr_t *wr, int flex, kstr_t s)
{
    if (flex)
        wr_compact_string(wr, s);
    else
        wr_string(wr, s);
}

/* Compact bytes share the compact string's layout. */
static inline void wrf_bytes(eddy_wr_t *wr, int flex, kstr_t b)
{
    if (flex)
        wr_compact_string(wr, b);
    else
        wr_kbytes(wr, b);
}

/* n < 0: a null array. */
static inline void wrf_count(eddy_wr_t *wr, int flex, int32_t n)
{
    if (flex)
        wr_uvarint(wr, n < 0 ? 0u : (uint32_t)n + 1);
    else
        wr_i32(wr, n < 0 ? -1 : n);
}

static inline void wrf_tags(eddy_wr_t *wr, int flex)
{
    if (flex)
        wr_empty_tags(wr);
}

#endif

/* Private helpers of the client codecs (wire/client_api*.c). */
#ifndef EDDY_WIRE_CLIENT_API_INT_H
#define EDDY_WIRE_CLIENT_API_INT_H

#include "client_api.h"
#include "common/err.h"
#include "proto_int.h"

/* Fails the writer with err (the first error sticks). */
static inline void cw_fail(eddy_wr_t *wr, int err)
{
    if (!wr->wr_err)
        wr->wr_err = err;
}

/* 1 if the client speaks (api, v); else fails the writer. */
static inline int cw_version(eddy_wr_t *wr, int api, int16_t v)
{
    if (broker_api_supported(api, v))
        return 1;
    cw_fail(wr, EDDY_ERR_INVALID_ARG);
    return 0;
}

/* A condition the version cannot carry (see client_api.h). */
static inline void cw_require(eddy_wr_t *wr, int ok)
{
    if (!ok)
        cw_fail(wr, EDDY_ERR_INVALID_ARG);
}

/* A non-nullable legacy string. */
static inline void cw_string_nn(eddy_wr_t *wr, kstr_t s)
{
    if (s.len < 0)
        cw_fail(wr, EDDY_ERR_INVALID_ARG);
    else
        wr_string(wr, s);
}

/* Non-nullable bytes. */
static inline void cw_kbytes_nn(eddy_wr_t *wr, kstr_t b)
{
    if (b.len < 0)
        cw_fail(wr, EDDY_ERR_INVALID_ARG);
    else
        wr_kbytes(wr, b);
}

/* An int32 array count; returns the number of elements to write (0 when
 * the count is null or invalid). -1 is null, legal only when nullable; a
 * count > 0 needs its array. */
static inline int32_t cw_count(eddy_wr_t *wr, int32_t n, const void *p, int nullable)
{
    if (n < -1 || (n == -1 && !nullable) || (n > 0 && !p)) {
        cw_fail(wr, EDDY_ERR_INVALID_ARG);
        return 0;
    }
    wr_i32(wr, n);
    return n > 0 ? n : 0;
}

/* An array of int32. */
static inline void cw_int32_array(eddy_wr_t *wr, const int32_t *p, int32_t n)
{
    n = cw_count(wr, n, p, 0);
    for (int32_t i = 0; i < n; i++)
        wr_i32(wr, p[i]);
}

/* An array of non-nullable strings; nullable arrays take -1 as null. */
static inline void cw_string_array(eddy_wr_t *wr, const kstr_t *p, int32_t n, int nullable)
{
    n = cw_count(wr, n, p, nullable);
    for (int32_t i = 0; i < n; i++)
        cw_string_nn(wr, p[i]);
}

/* Non-nullable bytes (readers). */
static inline kstr_t rd_kbytes_nn(eddy_rd_t *rd)
{
    kstr_t b = rd_kbytes(rd);
    if (b.len < 0) {
        rd_fail(rd, EDDY_ERR_INVALID_ARG);
        return (kstr_t){"", 0};
    }
    return b;
}

/* A non-nullable [int32] into the arena; returns the count (0 on error). */
static inline int32_t rd_int32_array(eddy_rd_t *rd, eddy_arena_t *a, int32_t **out)
{
    int32_t n = rd_array_count_nn(rd, 4);
    int32_t *p = rd_arena_array(rd, a, n, sizeof *p);
    for (int32_t i = 0; i < n && !rd->rd_err; i++)
        p[i] = rd_i32(rd);
    *out = p;
    return rd->rd_err ? 0 : n;
}

/* A non-nullable [string] into the arena; returns the count (0 on error). */
static inline int32_t rd_string_array_nn(eddy_rd_t *rd, eddy_arena_t *a, kstr_t **out)
{
    int32_t n = rd_array_count_nn(rd, 2);
    kstr_t *p = rd_arena_array(rd, a, n, sizeof *p);
    for (int32_t i = 0; i < n && !rd->rd_err; i++)
        p[i] = rd_string_nn(rd);
    *out = p;
    return rd->rd_err ? 0 : n;
}

/* The start of every response decoder: the version must be one the client
 * sends (a response to anything else cannot be read). */
static inline int cr_version(int api, int16_t v)
{
    return broker_api_supported(api, v) ? 0 : EDDY_ERR_INVALID_ARG;
}

#endif

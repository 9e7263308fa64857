/* msgpack for aggregate and join values: a bounded validator, map building
 * with msgpack-c's packer, field reading and JSON printing with msgpack-c's
 * unpacker.
 *
 * Why validate before msgpack-c reads. msgpack_unpack_next allocates an
 * array's or map's elements when it meets the header, before it has seen
 * them: five bytes announcing 2^32-1 elements ask the allocator for about
 * 100 GB. dsl_mp_validate walks the bytes first without allocating, checking
 * every announced length against the bytes that are really there, so that
 * msgpack-c only ever reads objects whose elements all exist (its memory is
 * then bounded by a small multiple of the input). The walker also refuses
 * what msgpack-c would: nesting deeper than MSGPACK_EMBED_STACK_SIZE
 * containers, so that the serde accepts exactly what the readers can read.
 */
#include <errno.h>
#include <math.h>
#include <msgpack.h>
#include <msgpack/unpack_define.h> /* MSGPACK_EMBED_STACK_SIZE, the unpacker's depth */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsl/dsl_int.h"

#define MP_MAX_DEPTH MSGPACK_EMBED_STACK_SIZE

static uint64_t be_load(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

int dsl_mp_validate(const uint8_t *p, size_t len, char *errstr, size_t errstr_size)
{
    /* Elements still to read in each open array or map (a map's count is
     * doubled: keys and values). */
    uint64_t open[MP_MAX_DEPTH];
    int depth = 0;
    size_t pos = 0;

    if (len == 0) {
        snprintf(errstr, errstr_size, "empty: no msgpack object");
        return -EINVAL;
    }
    for (;;) {
        if (pos >= len)
            goto truncated;
        size_t at = pos;
        uint8_t c = p[pos++];
        size_t fixed = 0;    /* payload bytes after the header */
        size_t len_size = 0; /* size of a length or count field */
        size_t ext_type = 0; /* ext: the type byte before the payload */
        int kind = 0;        /* 1 array, 2 map, 0 anything else */
        uint64_t count = 0;

        if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
            ; /* fixint, nil, bool: the byte is the value */
        else if ((c & 0xf0) == 0x80) {
            kind = 2;
            count = c & 0x0f;
        } else if ((c & 0xf0) == 0x90) {
            kind = 1;
            count = c & 0x0f;
        } else if ((c & 0xe0) == 0xa0)
            fixed = c & 0x1f;
        else {
            /* A table of the msgpack type bytes, a row each. */
            /* clang-format off */
            switch (c) {
            case 0xc4: case 0xd9: len_size = 1; break; /* bin8, str8 */
            case 0xc5: case 0xda: len_size = 2; break;
            case 0xc6: case 0xdb: len_size = 4; break;
            case 0xc7: len_size = 1; ext_type = 1; break; /* ext8/16/32 */
            case 0xc8: len_size = 2; ext_type = 1; break;
            case 0xc9: len_size = 4; ext_type = 1; break;
            case 0xca: fixed = 4; break; /* float32 */
            case 0xcb: fixed = 8; break;
            case 0xcc: case 0xd0: fixed = 1; break; /* (u)int8..64 */
            case 0xcd: case 0xd1: fixed = 2; break;
            case 0xce: case 0xd2: fixed = 4; break;
            case 0xcf: case 0xd3: fixed = 8; break;
            case 0xd4: fixed = 2; break; /* fixext: type byte + 1..16 */
            case 0xd5: fixed = 3; break;
            case 0xd6: fixed = 5; break;
            case 0xd7: fixed = 9; break;
            case 0xd8: fixed = 17; break;
            case 0xdc: len_size = 2; kind = 1; break; /* array16/32 */
            case 0xdd: len_size = 4; kind = 1; break;
            case 0xde: len_size = 2; kind = 2; break; /* map16/32 */
            case 0xdf: len_size = 4; kind = 2; break;
            /* clang-format on */
            default: /* 0xc1 */
                snprintf(errstr, errstr_size,
                         "not msgpack: byte 0x%02x at offset %zu is not a msgpack type", c, at);
                return -EINVAL;
            }
        }
        if (len_size) {
            if (len - pos < len_size)
                goto truncated;
            uint64_t n = be_load(p + pos, len_size);
            pos += len_size;
            if (kind)
                count = n;
            else
                fixed = ext_type + (size_t)n;
        }
        if (len - pos < fixed)
            goto truncated;
        pos += fixed;
        if (kind) {
            if (depth >= MP_MAX_DEPTH) {
                snprintf(errstr, errstr_size,
                         "msgpack nested deeper than %d arrays and maps (offset %zu)", MP_MAX_DEPTH,
                         at);
                return -EINVAL;
            }
            if (kind == 2)
                count *= 2;
            if (count > 0) {
                open[depth++] = count;
                continue;
            }
        }
        /* A value is complete: close the containers it completes. */
        while (depth > 0 && --open[depth - 1] == 0)
            depth--;
        if (depth == 0)
            break;
    }
    if (pos != len) {
        snprintf(errstr, errstr_size,
                 "not one msgpack object: %zu bytes follow the object that "
                 "ends at offset %zu",
                 len - pos, pos);
        return -EINVAL;
    }
    return 0;

truncated:
    snprintf(errstr, errstr_size,
             "truncated msgpack: the object needs more than the %zu bytes "
             "there are",
             len);
    return -EINVAL;
}

/* ---- building maps ---- */

static int mp_write(void *data, const char *buf, size_t len)
{
    return eddy_buf_append(data, buf, len) == 0 ? 0 : -1;
}

int eddy_mp_map_begin(eddy_buf_t *b, uint32_t nfields)
{
    if (!b)
        return -EINVAL;
    b->len = 0;
    msgpack_packer pk;
    msgpack_packer_init(&pk, b, mp_write);
    return msgpack_pack_map(&pk, nfields) ? -ENOMEM : 0;
}

static int mp_put_key(msgpack_packer *pk, eddy_buf_t *b, const char *field)
{
    size_t n = strlen(field);
    if (n > UINT32_MAX)
        return -EINVAL;
    msgpack_packer_init(pk, b, mp_write);
    if (msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, field, n))
        return -ENOMEM;
    return 0;
}

/* A failed put leaves b as it was (a half-written field would make the map
 * unreadable). */
int eddy_mp_put_int64(eddy_buf_t *b, const char *field, int64_t v)
{
    if (!b || !field)
        return -EINVAL;
    size_t was = b->len;
    msgpack_packer pk;
    int err = mp_put_key(&pk, b, field);
    if (!err && msgpack_pack_int64(&pk, v))
        err = -ENOMEM;
    if (err)
        b->len = was;
    return err;
}

int eddy_mp_put_double(eddy_buf_t *b, const char *field, double v)
{
    if (!b || !field)
        return -EINVAL;
    size_t was = b->len;
    msgpack_packer pk;
    int err = mp_put_key(&pk, b, field);
    if (!err && msgpack_pack_double(&pk, v))
        err = -ENOMEM;
    if (err)
        b->len = was;
    return err;
}

int eddy_mp_put_str(eddy_buf_t *b, const char *field, const char *s, size_t len)
{
    if (!b || !field || (!s && len) || len > UINT32_MAX)
        return -EINVAL;
    size_t was = b->len;
    msgpack_packer pk;
    int err = mp_put_key(&pk, b, field);
    if (!err && (msgpack_pack_str(&pk, len) || msgpack_pack_str_body(&pk, s, len)))
        err = -ENOMEM;
    if (err)
        b->len = was;
    return err;
}

/* ---- reading ---- */

/* Unpacks b (validated first, see the top of the file) into u, which the
 * caller destroys whatever this returns. */
static int mp_unpack(eddy_bytes_t b, msgpack_unpacked *u)
{
    char why[128];
    msgpack_unpacked_init(u);
    if (b.len < 0 || !b.data || dsl_mp_validate(b.data, (size_t)b.len, why, sizeof why))
        return -EINVAL;
    size_t off = 0;
    switch (msgpack_unpack_next(u, b.data, (size_t)b.len, &off)) {
    case MSGPACK_UNPACK_SUCCESS: return 0;
    case MSGPACK_UNPACK_NOMEM_ERROR: return -ENOMEM;
    default: return -EINVAL;
    }
}

/* The value of field in the map b (borrowing u). */
static int mp_field(eddy_bytes_t b, const char *field, msgpack_unpacked *u,
                    const msgpack_object **val)
{
    int err = mp_unpack(b, u);
    if (err)
        return err;
    if (!field || u->data.type != MSGPACK_OBJECT_MAP)
        return -EINVAL;
    size_t n = strlen(field);
    const msgpack_object_map *m = &u->data.via.map;
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
            memcmp(k->via.str.ptr, field, n) == 0) {
            *val = &m->ptr[i].val;
            return 0;
        }
    }
    return -ENOENT;
}

int eddy_mp_get_int64(eddy_bytes_t b, const char *field, int64_t *out)
{
    msgpack_unpacked u;
    const msgpack_object *v = NULL;
    int err = mp_field(b, field, &u, &v);
    if (!err) {
        switch (v->type) {
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            if (v->via.u64 > (uint64_t)INT64_MAX)
                err = -ERANGE;
            else
                *out = (int64_t)v->via.u64;
            break;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER: *out = v->via.i64; break;
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64: {
            double d = v->via.f64;
            /* -2^63 <= d < 2^63 (both exact as doubles; false for NaN),
             * then no fraction. */
            if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 && (double)(int64_t)d == d)
                *out = (int64_t)d;
            else
                err = -ERANGE;
            break;
        }
        default: err = -EINVAL; break;
        }
    }
    msgpack_unpacked_destroy(&u);
    return err;
}

int eddy_mp_get_double(eddy_bytes_t b, const char *field, double *out)
{
    msgpack_unpacked u;
    const msgpack_object *v = NULL;
    int err = mp_field(b, field, &u, &v);
    if (!err) {
        switch (v->type) {
        case MSGPACK_OBJECT_POSITIVE_INTEGER: *out = (double)v->via.u64; break;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER: *out = (double)v->via.i64; break;
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64: *out = v->via.f64; break;
        default: err = -EINVAL; break;
        }
    }
    msgpack_unpacked_destroy(&u);
    return err;
}

/* msgpack-c's unpacker points strings into the input instead of copying
 * them, so *s stays valid as long as b's bytes. */
int eddy_mp_get_str(eddy_bytes_t b, const char *field, const char **s, size_t *len)
{
    msgpack_unpacked u;
    const msgpack_object *v = NULL;
    int err = mp_field(b, field, &u, &v);
    if (!err) {
        if (v->type == MSGPACK_OBJECT_STR) {
            *s = v->via.str.ptr;
            *len = v->via.str.size;
        } else
            err = -EINVAL;
    }
    msgpack_unpacked_destroy(&u);
    return err;
}

/* ---- JSON ---- */

static int json_string(eddy_buf_t *out, const uint8_t *p, size_t n)
{
    int err = eddy_buf_append(out, "\"", 1);
    size_t i = 0;
    while (!err && i < n) {
        uint8_t c = p[i];
        size_t seq = dsl_utf8_seq(p + i, n - i);
        if (seq == 0) {
            /* JSON text is Unicode: a byte that is not UTF-8 becomes U+FFFD. */
            err = eddy_buf_append(out, "\\ufffd", 6);
            i++;
            continue;
        }
        if (seq > 1)
            err = eddy_buf_append(out, p + i, seq);
        else if (c == '"')
            err = eddy_buf_append(out, "\\\"", 2);
        else if (c == '\\')
            err = eddy_buf_append(out, "\\\\", 2);
        else if (c == '\n')
            err = eddy_buf_append(out, "\\n", 2);
        else if (c == '\r')
            err = eddy_buf_append(out, "\\r", 2);
        else if (c == '\t')
            err = eddy_buf_append(out, "\\t", 2);
        else if (c < 0x20)
            err = dsl_buf_printf(out, "\\u%04x", c);
        else
            err = eddy_buf_append(out, &c, 1);
        i += seq;
    }
    return err ? err : eddy_buf_append(out, "\"", 1);
}

static int json_base64(eddy_buf_t *out, const uint8_t *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int err = eddy_buf_append(out, "\"", 1);
    for (size_t i = 0; !err && i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        char q[4] = {tab[v >> 18 & 63], tab[v >> 12 & 63], i + 1 < n ? tab[v >> 6 & 63] : '=',
                     i + 2 < n ? tab[v & 63] : '='};
        err = eddy_buf_append(out, q, 4);
    }
    return err ? err : eddy_buf_append(out, "\"", 1);
}

/* The shortest of %.15g..%.17g that reads back as d; ".0" marks a double
 * that prints like an integer. JSON has no NaN or infinity: null. */
static int json_double(eddy_buf_t *out, double d)
{
    if (!isfinite(d))
        return eddy_buf_append(out, "null", 4);
    char s[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(s, sizeof s, "%.*g", prec, d);
        if (strtod(s, NULL) == d)
            break;
    }
    if (strspn(s, "-0123456789") == strlen(s))
        strcat(s, ".0");
    return eddy_buf_append(out, s, strlen(s));
}

static int json_value(eddy_buf_t *out, const msgpack_object *o)
{
    int err = 0;
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: return eddy_buf_append(out, "null", 4);
    case MSGPACK_OBJECT_BOOLEAN:
        return o->via.boolean ? eddy_buf_append(out, "true", 4) : eddy_buf_append(out, "false", 5);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return dsl_buf_printf(out, "%llu", (unsigned long long)o->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return dsl_buf_printf(out, "%lld", (long long)o->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return json_double(out, o->via.f64);
    case MSGPACK_OBJECT_STR:
        return json_string(out, (const uint8_t *)o->via.str.ptr, o->via.str.size);
    case MSGPACK_OBJECT_BIN:
        return json_base64(out, (const uint8_t *)o->via.bin.ptr, o->via.bin.size);
    case MSGPACK_OBJECT_EXT:
        err = dsl_buf_printf(out, "{\"type\":%d,\"data\":", (int)o->via.ext.type);
        if (!err)
            err = json_base64(out, (const uint8_t *)o->via.ext.ptr, o->via.ext.size);
        return err ? err : eddy_buf_append(out, "}", 1);
    case MSGPACK_OBJECT_ARRAY:
        err = eddy_buf_append(out, "[", 1);
        for (uint32_t i = 0; !err && i < o->via.array.size; i++) {
            if (i)
                err = eddy_buf_append(out, ",", 1);
            if (!err)
                err = json_value(out, &o->via.array.ptr[i]);
        }
        return err ? err : eddy_buf_append(out, "]", 1);
    case MSGPACK_OBJECT_MAP:
        err = eddy_buf_append(out, "{", 1);
        for (uint32_t i = 0; !err && i < o->via.map.size; i++) {
            const msgpack_object *k = &o->via.map.ptr[i].key;
            if (i)
                err = eddy_buf_append(out, ",", 1);
            if (err)
                break;
            if (k->type == MSGPACK_OBJECT_STR)
                err = json_string(out, (const uint8_t *)k->via.str.ptr, k->via.str.size);
            else {
                /* JSON keys are strings: another key becomes the string of
                 * its JSON text. */
                eddy_buf_t kt = {0};
                err = json_value(&kt, k);
                if (!err)
                    err = json_string(out, kt.data, kt.len);
                eddy_buf_free(&kt);
            }
            if (!err)
                err = eddy_buf_append(out, ":", 1);
            if (!err)
                err = json_value(out, &o->via.map.ptr[i].val);
        }
        return err ? err : eddy_buf_append(out, "}", 1);
    }
    return eddy_buf_append(out, "null", 4);
}

int eddy_mp_to_json(eddy_bytes_t b, eddy_buf_t *out)
{
    if (!out)
        return -EINVAL;
    out->len = 0;
    if (b.len < 0)
        return eddy_buf_append(out, "null", 4);
    msgpack_unpacked u;
    int err = mp_unpack(b, &u);
    if (!err)
        err = json_value(out, &u.data);
    msgpack_unpacked_destroy(&u);
    if (err)
        out->len = 0;
    return err;
}

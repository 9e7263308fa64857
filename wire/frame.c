/* The Kafka frame reader: see frame.h. */
#include "wire/frame.h"

#include <string.h>

#include "common/buf.h"

void wire_frame_init(wire_frame_t *fr)
{
    memset(fr, 0, sizeof *fr);
}

size_t wire_frame_feed(wire_frame_t *fr, const uint8_t *p, size_t n, int32_t min, int32_t max,
                       int *ev)
{
    size_t n0 = n;
    *ev = WIRE_FRAME_MORE;
    while (n > 0) {
        if (!fr->fr_sized) {
            if (fr->fr_prefix_got == 4) { /* a bad size read before: stay stopped */
                *ev = WIRE_FRAME_BAD_SIZE;
                break;
            }
            size_t take = 4 - fr->fr_prefix_got < n ? 4 - fr->fr_prefix_got : n;
            memcpy(fr->fr_prefix + fr->fr_prefix_got, p, take);
            fr->fr_prefix_got += take;
            p += take;
            n -= take;
            if (fr->fr_prefix_got < 4)
                break;
            fr->fr_size = (int32_t)be32_load(fr->fr_prefix);
            /* Checked before anything is allocated for the frame. */
            if (fr->fr_size < min || fr->fr_size > max || fr->fr_size < 0) {
                *ev = WIRE_FRAME_BAD_SIZE;
                break;
            }
            fr->fr_prefix_got = 0;
            fr->fr_sized = 1;
            fr->fr_len = (size_t)fr->fr_size;
            fr->fr_got = 0;
            fr->fr_buf = NULL;
            *ev = WIRE_FRAME_SIZED;
            break;
        }
        if (!fr->fr_buf) {
            *ev = WIRE_FRAME_SIZED;
            break;
        }
        size_t take = fr->fr_len - fr->fr_got < n ? fr->fr_len - fr->fr_got : n;
        memcpy(fr->fr_buf + fr->fr_got, p, take);
        fr->fr_got += take;
        p += take;
        n -= take;
        if (fr->fr_got == fr->fr_len) {
            *ev = WIRE_FRAME_DONE;
            break;
        }
    }
    return n0 - n;
}

void wire_frame_begin(wire_frame_t *fr, uint8_t *buf)
{
    fr->fr_buf = buf;
    fr->fr_got = 0;
}

uint8_t *wire_frame_take(wire_frame_t *fr, size_t *len)
{
    uint8_t *buf = fr->fr_buf;
    *len = fr->fr_len;
    fr->fr_buf = NULL;
    fr->fr_sized = 0;
    fr->fr_prefix_got = 0;
    fr->fr_got = 0;
    return buf;
}

uint8_t *wire_frame_drop(wire_frame_t *fr)
{
    uint8_t *buf = fr->fr_buf;
    wire_frame_init(fr);
    return buf;
}

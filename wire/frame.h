/* Kafka's framing: every request and response is a 4-byte big-endian size
 * followed by that many bytes. One reader for the broker (requests) and the
 * client (responses): bytes arrive in pieces of any size, the size is checked
 * against the caller's bounds before anything is allocated, and the caller
 * supplies the body buffer (the broker takes it from its request pool, and
 * may wait for room before it does). */
#ifndef EDDY_WIRE_FRAME_H
#define EDDY_WIRE_FRAME_H

#include <stddef.h>
#include <stdint.h>

typedef struct wire_frame {
    uint8_t fr_prefix[4];
    size_t fr_prefix_got; /* bytes of the size prefix read so far */
    int32_t fr_size;      /* the size the prefix said, once it is whole */
    int fr_sized;         /* the prefix is whole and in bounds: a buffer is awaited or filling */
    uint8_t *fr_buf;      /* the body, fr_size bytes, given by wire_frame_begin() */
    size_t fr_len;        /* fr_size as a size_t, once fr_sized */
    size_t fr_got;        /* bytes of the body read so far */
} wire_frame_t;

/* What wire_frame_feed() stopped at. */
enum {
    WIRE_FRAME_MORE = 0, /* every byte was taken; no frame is complete yet */
    WIRE_FRAME_SIZED,    /* the prefix is in bounds: give a buffer of fr_len bytes */
    WIRE_FRAME_BAD_SIZE, /* the prefix (fr_size) is outside [min, max]: drop the connection */
    WIRE_FRAME_DONE,     /* a whole frame: take it with wire_frame_take() */
};

void wire_frame_init(wire_frame_t *fr);

/* Reads from p[0..n) until a frame event; returns the bytes taken and sets
 * *ev. A size prefix outside [min, max] stops the reader (WIRE_FRAME_BAD_SIZE
 * again on every later call). While a sized frame waits for its buffer,
 * nothing is taken and *ev is WIRE_FRAME_SIZED. */
size_t wire_frame_feed(wire_frame_t *fr, const uint8_t *p, size_t n, int32_t min, int32_t max,
                       int *ev);

/* Gives the body buffer (fr_len bytes, owned by the reader until taken). */
void wire_frame_begin(wire_frame_t *fr, uint8_t *buf);

/* After WIRE_FRAME_DONE: the body (fr_len bytes, the caller's now); the
 * reader starts on the next frame. */
uint8_t *wire_frame_take(wire_frame_t *fr, size_t *len);

/* Whether part of a frame has been read (prefix bytes or a sized body). */
static inline int wire_frame_started(const wire_frame_t *fr)
{
    return fr->fr_sized || fr->fr_prefix_got > 0;
}

/* Forgets the frame being read and returns its buffer (or NULL) for the
 * caller to release; the reader starts over. */
uint8_t *wire_frame_drop(wire_frame_t *fr);

#endif

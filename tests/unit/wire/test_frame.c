/* The Kafka frame reader (wire/frame.c) shared by the broker and the client:
 * frames split across reads at every byte, several frames in one read, and a
 * size outside the bounds refused before anything is allocated. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "wire/frame.h"

/* Feeds in[0..n) in pieces of `step` bytes; collects whole frames into out
 * (each as its size then its bytes). Returns the number of frames, or -1 on
 * a bad size. */
static int feed_all(const uint8_t *in, size_t n, size_t step, int32_t min, int32_t max,
                    uint8_t *out, size_t *out_len, int *allocs)
{
    wire_frame_t fr;
    wire_frame_init(&fr);
    int frames = 0;
    *out_len = 0;
    for (size_t off = 0; off < n;) {
        size_t piece = n - off < step ? n - off : step;
        size_t taken = 0;
        while (taken < piece) {
            int ev;
            size_t used = wire_frame_feed(&fr, in + off + taken, piece - taken, min, max, &ev);
            taken += used;
            if (ev == WIRE_FRAME_BAD_SIZE) {
                ck_assert_ptr_null(wire_frame_drop(&fr));
                return -1;
            }
            if (ev == WIRE_FRAME_SIZED) {
                ck_assert(wire_frame_started(&fr));
                (*allocs)++;
                uint8_t *buf = malloc(fr.fr_len ? fr.fr_len : 1);
                ck_assert_ptr_nonnull(buf);
                wire_frame_begin(&fr, buf);
            } else if (ev == WIRE_FRAME_DONE) {
                size_t len;
                uint8_t *body = wire_frame_take(&fr, &len);
                ck_assert(!wire_frame_started(&fr));
                be32_store(out + *out_len, (uint32_t)len);
                memcpy(out + *out_len + 4, body, len);
                *out_len += 4 + len;
                free(body);
                frames++;
            } else {
                ck_assert_uint_eq(taken, piece);
            }
        }
        off += piece;
    }
    free(wire_frame_drop(&fr));
    return frames;
}

START_TEST(frames_split_at_every_byte)
{
    /* Three frames of 8, 1 and 300 bytes back to back. */
    uint8_t in[4 + 8 + 4 + 1 + 4 + 300];
    size_t n = 0;
    size_t sizes[] = {8, 1, 300};
    for (int f = 0; f < 3; f++) {
        be32_store(in + n, (uint32_t)sizes[f]);
        n += 4;
        for (size_t i = 0; i < sizes[f]; i++)
            in[n++] = (uint8_t)(f * 31 + i);
    }
    ck_assert_uint_eq(n, sizeof in);
    uint8_t out[sizeof in];
    for (size_t step = 1; step <= n; step++) {
        size_t out_len;
        int allocs = 0;
        ck_assert_int_eq(feed_all(in, n, step, 1, 1000, out, &out_len, &allocs), 3);
        ck_assert_int_eq(allocs, 3);
        ck_assert_uint_eq(out_len, n);
        ck_assert_mem_eq(out, in, n);
    }
}
END_TEST

START_TEST(partial_frame_is_kept)
{
    uint8_t in[4 + 10];
    be32_store(in, 10);
    memset(in + 4, 7, 10);
    uint8_t out[sizeof in];
    size_t out_len;
    int allocs = 0;
    /* Only the prefix and part of the body: no frame yet, but one sized. */
    ck_assert_int_eq(feed_all(in, 9, 3, 1, 100, out, &out_len, &allocs), 0);
    ck_assert_int_eq(allocs, 1);
    /* Only part of the prefix: not even sized. */
    allocs = 0;
    ck_assert_int_eq(feed_all(in, 3, 1, 1, 100, out, &out_len, &allocs), 0);
    ck_assert_int_eq(allocs, 0);
}
END_TEST

START_TEST(size_out_of_bounds_refused_before_allocation)
{
    int32_t bad[] = {-1, 0, 7, 1001, 0x7fffffff, (int32_t)0x80000000};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        uint8_t in[4 + 16] = {0};
        be32_store(in, (uint32_t)bad[k]);
        uint8_t out[sizeof in];
        size_t out_len;
        int allocs = 0;
        ck_assert_int_eq(feed_all(in, sizeof in, 2, 8, 1000, out, &out_len, &allocs), -1);
        ck_assert_int_eq(allocs, 0);
    }
    /* The bounds themselves are accepted. */
    uint8_t in[4 + 8];
    be32_store(in, 8);
    memset(in + 4, 1, 8);
    uint8_t out[sizeof in];
    size_t out_len;
    int allocs = 0;
    ck_assert_int_eq(feed_all(in, sizeof in, 5, 8, 8, out, &out_len, &allocs), 1);
}
END_TEST

START_TEST(bad_size_stops_the_reader)
{
    wire_frame_t fr;
    wire_frame_init(&fr);
    uint8_t in[8];
    be32_store(in, 5000);
    be32_store(in + 4, 4);
    int ev;
    ck_assert_uint_eq(wire_frame_feed(&fr, in, sizeof in, 4, 100, &ev), 4);
    ck_assert_int_eq(ev, WIRE_FRAME_BAD_SIZE);
    ck_assert_int_eq(fr.fr_size, 5000);
    /* Nothing after a bad prefix is read as a new frame. */
    ck_assert_uint_eq(wire_frame_feed(&fr, in + 4, 4, 4, 100, &ev), 0);
    ck_assert_int_eq(ev, WIRE_FRAME_BAD_SIZE);
}
END_TEST

START_TEST(sized_frame_waits_for_its_buffer)
{
    /* The broker may wait for request-pool room before it gives a buffer:
     * until then nothing more is taken. */
    wire_frame_t fr;
    wire_frame_init(&fr);
    uint8_t in[4 + 4] = {0, 0, 0, 4, 'a', 'b', 'c', 'd'};
    int ev;
    ck_assert_uint_eq(wire_frame_feed(&fr, in, sizeof in, 4, 100, &ev), 4);
    ck_assert_int_eq(ev, WIRE_FRAME_SIZED);
    ck_assert_uint_eq(wire_frame_feed(&fr, in + 4, 4, 4, 100, &ev), 0);
    ck_assert_int_eq(ev, WIRE_FRAME_SIZED);
    uint8_t *buf = malloc(4);
    wire_frame_begin(&fr, buf);
    ck_assert_uint_eq(wire_frame_feed(&fr, in + 4, 4, 4, 100, &ev), 4);
    ck_assert_int_eq(ev, WIRE_FRAME_DONE);
    size_t len;
    uint8_t *body = wire_frame_take(&fr, &len);
    ck_assert_ptr_eq(body, buf);
    ck_assert_uint_eq(len, 4);
    ck_assert_mem_eq(body, "abcd", 4);
    free(body);
}
END_TEST

TCase *tcase_frame(void)
{
    TCase *tc = tcase_create("frame");
    tcase_add_test(tc, frames_split_at_every_byte);
    tcase_add_test(tc, partial_frame_is_kept);
    tcase_add_test(tc, size_out_of_bounds_refused_before_allocation);
    tcase_add_test(tc, bad_size_stops_the_reader);
    tcase_add_test(tc, sized_frame_waits_for_its_buffer);
    return tc;
}

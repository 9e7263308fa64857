/* Eddy's producer for kafka_suite.sh: N records "record-<i>" to one topic
 * with acks=all, and one line "record-<i> <offset>" on stdout per record the
 * cluster acknowledged, so that the suite can check that each of them is
 * there after a leader's kill -9, whatever happened to the others.
 *
 *   kafka_produce BOOTSTRAP TOPIC N [rate=R] [key=value]...
 *
 * rate=R paces kc_produce to R records a second (the loop runs in between),
 * so that a test can kill a broker while records are still being written.
 * The pace follows the acknowledgements, not only the clock: at most R
 * records wait unacknowledged (so while a broker is down the producer waits
 * rather than queueing the rest of N), and the schedule never catches up on
 * time lost waiting (a restart of a few seconds is not followed by a burst
 * that writes the remainder before the test's next kill).
 *
 * Exit 0 when every record was acknowledged, 1 when some failed (counted on
 * stderr with the last error), 2 on bad arguments. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "client/client.h"
#include "client/producer.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/err.h"

typedef struct state {
    long acked, failed;
    int last_err;
    int16_t last_kerr;
} state_t;

static void on_delivery(kc_producer_t *p, int err, int16_t kafka_err, const char *topic,
                        int32_t partition, int64_t offset, void *opaque)
{
    (void)topic;
    (void)partition;
    state_t *st = kc_producer_opaque(p);
    long i = (long)(intptr_t)opaque;
    if (err == 0) {
        printf("record-%ld %" PRId64 "\n", i, offset);
        st->acked++;
    } else {
        st->failed++;
        st->last_err = err;
        st->last_kerr = kafka_err;
    }
}

static int never(void *opaque)
{
    (void)opaque;
    return 0;
}

typedef struct window {
    const state_t *st;
    long queued, limit;
} window_t;

/* True once fewer than the window's limit of queued records are waiting
 * for their acknowledgement or failure. */
static int window_open(void *opaque)
{
    const window_t *w = opaque;
    return w->queued - w->st->acked - w->st->failed < w->limit;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: kafka_produce BOOTSTRAP TOPIC N [rate=R] [key=value]...\n");
        return 2;
    }
    long n = strtol(argv[3], NULL, 10);
    if (n < 1 || n > 10000000) {
        fprintf(stderr, "kafka_produce: N must be 1..10000000\n");
        return 2;
    }
    char err[1024], set[1200];
    eddy_props_t ps;
    eddy_props_init(&ps);
    snprintf(set, sizeof set, "bootstrap.servers=%s", argv[1]);
    int rc = eddy_props_set(&ps, "args", set, err, sizeof err);
    if (rc == 0)
        rc = eddy_props_set(&ps, "args", "acks=all", err, sizeof err);
    long rate = 0;
    int first = 4;
    if (argc > 4 && strncmp(argv[4], "rate=", 5) == 0) {
        rate = strtol(argv[4] + 5, NULL, 10);
        first = 5;
        if (rate < 1) {
            fprintf(stderr, "kafka_produce: rate must be at least 1\n");
            return 2;
        }
    }
    for (int i = first; rc == 0 && i < argc; i++)
        rc = eddy_props_set(&ps, "args", argv[i], err, sizeof err);
    kc_config_t cfg;
    if (rc == 0)
        rc = kc_config_load(&cfg, &ps, err, sizeof err);
    eddy_props_free(&ps);
    if (rc < 0) {
        fprintf(stderr, "kafka_produce: %s\n", err);
        return 2;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    kc_client_t *c = kc_client_new(&loop, &cfg, err, sizeof err);
    if (!c) {
        fprintf(stderr, "kafka_produce: %s\n", err);
        return 1;
    }
    state_t st = {0, 0, 0, 0};
    kc_producer_t *p = kc_producer_new(c, on_delivery);
    kc_producer_set_opaque(p, &st);
    int64_t t0 = eddy_mono_ms();
    for (long i = 0; i < n; i++) {
        char v[32];
        int len = snprintf(v, sizeof v, "record-%ld", i);
        kc_record_t rec = {NULL, -1, v, len, -1, NULL, 0, NULL, NULL};
        if (kc_produce(p, argv[2], -1, &rec, (void *)(intptr_t)i) != 0) {
            st.failed++;
            continue;
        }
        /* Let the loop send while the rest is queued. */
        if (i % 1000 == 999)
            uv_run(&loop, UV_RUN_NOWAIT);
        if (rate > 0 && i % 100 == 99) {
            window_t w = {&st, i + 1, rate};
            while (!window_open(&w))
                kc_run_until(c, window_open, &w, 1000);
            int64_t due = t0 + (int64_t)((i + 1) * 1000 / rate), now = eddy_mono_ms();
            if (due > now)
                kc_run_until(c, never, NULL, due - now);
            else if (now - due > 200)
                t0 = now - (int64_t)((i + 1) * 1000 / rate); /* no catching up */
        }
    }
    kc_producer_flush(p, (int64_t)cfg.delivery_timeout_ms + 10000);
    kc_producer_destroy(p);
    kc_client_destroy(c);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    kc_config_free(&cfg);
    fflush(stdout);
    if (st.failed) {
        fprintf(stderr, "kafka_produce: %ld acknowledged, %ld failed (last: %s, broker error %d)\n",
                st.acked, st.failed, eddy_strerror(st.last_err), st.last_kerr);
        return 1;
    }
    fprintf(stderr, "kafka_produce: %ld acknowledged\n", st.acked);
    return 0;
}

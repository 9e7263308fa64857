/* A test app for processors and punctuation (streams_punctuate.sh): reads
 * topic "in" whose values are "<event time ms>", timestamps taken from the
 * value by an extractor, through a processor that
 *  - counts the records of its task,
 *  - on a stream-time punctuator every 10,000 ms forwards
 *    key "stream", value "<punctuation time> <records seen so far>",
 *  - on a wall-clock punctuator every 200 ms forwards key "wall", value
 *    "<task partition>", at most 3,000 times per task (10 minutes);
 * into topic "out".
 *
 *   streams_punctuate_app BOOTSTRAP STATE_DIR [KEY=VALUE]...
 *
 * (the settings after STATE_DIR override the app's: streams_eos_punctuate.sh
 * runs it under exactly_once_v2)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eddy.h"
#include "streams_test_app.h"

typedef struct instance {
    int64_t records;
    int walls;
} instance_t;

static void on_stream_time(eddy_processor_context_t *ctx, int64_t ts, void *inst)
{
    instance_t *in = inst;
    char v[64];
    int n = snprintf(v, sizeof v, "%lld %lld", (long long)ts, (long long)in->records);
    eddy_forward(ctx, eddy_bytes("stream", 6), eddy_bytes(v, (size_t)n), ts);
}

static void on_wall_clock(eddy_processor_context_t *ctx, int64_t ts, void *inst)
{
    instance_t *in = inst;
    if (in->walls >= 3000)
        return;
    in->walls++;
    char v[32];
    int n = snprintf(v, sizeof v, "%d", (int)eddy_context_partition(ctx));
    eddy_forward(ctx, eddy_bytes("wall", 4), eddy_bytes(v, (size_t)n), ts);
}

static void *init(eddy_processor_context_t *ctx, void *opaque)
{
    (void)opaque;
    instance_t *in = calloc(1, sizeof *in);
    if (eddy_schedule(ctx, 10000, EDDY_PUNCTUATE_STREAM_TIME, on_stream_time) < 0 ||
        eddy_schedule(ctx, 200, EDDY_PUNCTUATE_WALL_CLOCK_TIME, on_wall_clock) < 0 ||
        eddy_schedule(ctx, 0, EDDY_PUNCTUATE_STREAM_TIME, on_stream_time) != -22) /* -EINVAL */
        abort();
    return in;
}

static void process(eddy_processor_context_t *ctx, const eddy_record_t *r, void *inst)
{
    (void)ctx, (void)r;
    ((instance_t *)inst)->records++;
}

static void close_instance(void *inst, void *opaque)
{
    (void)opaque;
    free(inst);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s BOOTSTRAP STATE_DIR [KEY=VALUE]...\n", argv[0]);
        return 2;
    }
    char err[512];
    eddy_config_t *cfg = eddy_config_new();
    if (eddy_config_set(cfg, "application.id", "punctuate", err, sizeof err) < 0 ||
        eddy_config_set(cfg, "bootstrap.servers", argv[1], err, sizeof err) < 0 ||
        eddy_config_set(cfg, "state.dir", argv[2], err, sizeof err) < 0 ||
        eddy_config_set(cfg, "commit.interval.ms", "200", err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    for (int i = 3; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "%s: not KEY=VALUE\n", argv[i]);
            return 2;
        }
        *eq = 0;
        if (eddy_config_set(cfg, argv[i], eq + 1, err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
    }
    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *in = eddy_builder_stream_timestamped(b, "in", eddy_serde_string(),
                                                         eddy_serde_string(), time_from_value,
                                                         NULL);
    eddy_processor_t p = {init, process, close_instance};
    eddy_stream_to(eddy_stream_process(in, &p, NULL), "out", eddy_serde_string(),
                   eddy_serde_string());
    eddy_app_t *app = eddy_app_new(b, cfg, err, sizeof err);
    eddy_config_destroy(cfg);
    if (!app) {
        eddy_builder_destroy(b); /* still ours: the app takes it only on success */
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    return eddy_app_run(app);
}

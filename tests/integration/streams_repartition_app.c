/* A test app for repartition topics (streams_repartition.sh): event times
 * from the values through an extractor, a key change, a count.
 *   events ("<ms> <user>") -> group_by user (repartition topic)
 *          -> count per user (store "per-user") -> user-counts (int64)
 *
 *   streams_repartition_app BOOTSTRAP STATE_DIR [-X key=value]...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eddy.h"
#include "streams_test_app.h"

/* The user: the value's second word. */
static void user_of(const eddy_record_t *r, eddy_emitter_t *e, void *opaque)
{
    (void)opaque;
    const char *p = r->value.data, *end = r->value.data + r->value.len;
    while (p < end && *p != ' ')
        p++;
    while (p < end && *p == ' ')
        p++;
    eddy_emit_key(e, (eddy_bytes_t){p, (int32_t)(end - p)});
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s BOOTSTRAP STATE_DIR [-X key=value]...\n", argv[0]);
        return 2;
    }
    char err[512];
    eddy_config_t *cfg = eddy_config_new();
    if (eddy_config_set(cfg, "application.id", "rpapp", err, sizeof err) < 0 ||
        eddy_config_set(cfg, "bootstrap.servers", argv[1], err, sizeof err) < 0 ||
        eddy_config_set(cfg, "state.dir", argv[2], err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    for (int i = 3; i < argc; i++) {
        int used = eddy_config_arg(cfg, argc, argv, &i, err, sizeof err);
        if (used <= 0) {
            fprintf(stderr, "%s: %s\n", argv[0], used < 0 ? err : "unknown argument");
            return 2;
        }
    }
    const eddy_serde_t *str = eddy_serde_string();
    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *in = eddy_builder_stream_timestamped(b, "events", str, str, time_from_value,
                                                         NULL);
    eddy_stream_to(eddy_table_to_stream(
                       eddy_grouped_count(eddy_stream_group_by(in, user_of, NULL), "per-user")),
                   "user-counts", str, eddy_serde_int64());
    eddy_app_t *app = eddy_app_new(b, cfg, err, sizeof err);
    eddy_config_destroy(cfg);
    if (!app) {
        eddy_builder_destroy(b); /* still ours: the app takes it only on success */
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    return eddy_app_run(app);
}

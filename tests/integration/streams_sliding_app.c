/* A test app for sliding windows (streams_sliding.sh): counts the records
 * of topic "in" per key in sliding windows of a time difference (Kafka's
 * SlidingWindows), event time from the value ("<ms>"), every update
 * emitted; output topic "out", key "<key>@<window start>", value the count
 * (int64). At exit it prints "late_dropped N".
 *
 *   streams_sliding_app BOOTSTRAP STATE_DIR DIFFERENCE_MS GRACE_MS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eddy.h"
#include "streams_test_app.h"

static void readable_key(const eddy_record_t *r, eddy_emitter_t *out, void *opaque)
{
    (void)opaque;
    eddy_bytes_t key;
    int64_t start;
    char buf[300];
    if (eddy_windowed_key_read(r->key, 0, &key, &start, NULL) < 0 || key.len > 200)
        return;
    int n = snprintf(buf, sizeof buf, "%.*s@%lld", (int)key.len, (const char *)key.data,
                     (long long)start);
    eddy_emit_key(out, eddy_bytes(buf, (size_t)n));
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s BOOTSTRAP STATE_DIR DIFFERENCE_MS GRACE_MS\n", argv[0]);
        return 2;
    }
    char err[512];
    eddy_config_t *cfg = eddy_config_new();
    if (eddy_config_set(cfg, "application.id", "sliding", err, sizeof err) < 0 ||
        eddy_config_set(cfg, "bootstrap.servers", argv[1], err, sizeof err) < 0 ||
        eddy_config_set(cfg, "state.dir", argv[2], err, sizeof err) < 0 ||
        eddy_config_set(cfg, "commit.interval.ms", "200", err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *in = eddy_builder_stream_timestamped(b, "in", eddy_serde_string(),
                                                         eddy_serde_string(), time_from_value,
                                                         NULL);
    eddy_kwindowed_stream_t *w = eddy_grouped_windowed_by(
        eddy_stream_group_by_key(in), eddy_windows_sliding(atoll(argv[3]), atoll(argv[4])));
    eddy_kstream_t *out = eddy_stream_select_key(
        eddy_table_to_stream(eddy_windowed_count(w, "sliding-counts")), readable_key, NULL);
    eddy_stream_to(out, "out", eddy_serde_string(), eddy_serde_int64());
    eddy_app_t *app = eddy_app_new(b, cfg, err, sizeof err);
    eddy_config_destroy(cfg);
    if (!app) {
        eddy_builder_destroy(b); /* still ours: the app takes it only on success */
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    eddy_app_stats_t st;
    int rc = eddy_app_run_stats(app, &st);
    printf("late_dropped %lld\n", (long long)st.records_late_dropped);
    return rc;
}

/* A test app for output timestamps (streams_timestamps.sh). Event times
 * come from the values ("<ms>[ text]") through an extractor.
 *   in  -> count per key (store "counts")            -> out-counts (int64)
 *   ina -> latest value per key (reduce, store "ta") \
 *   inb -> latest value per key (reduce, store "tb")  -> table join -> out-join ("a|b")
 *
 *   streams_timestamps_app BOOTSTRAP STATE_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eddy.h"
#include "streams_test_app.h"

/* reduce: the latest value wins */
static void latest(eddy_bytes_t key, eddy_bytes_t value, eddy_bytes_t agg, eddy_buf_t *out,
                   void *opaque)
{
    (void)key, (void)agg, (void)opaque;
    eddy_buf_set(out, value.data, (size_t)value.len);
}

static void concat(eddy_bytes_t key, eddy_bytes_t left, eddy_bytes_t right, eddy_buf_t *out,
                   void *opaque)
{
    (void)key, (void)opaque;
    eddy_buf_set(out, left.data, (size_t)left.len);
    eddy_buf_append(out, "|", 1);
    eddy_buf_append(out, right.data, (size_t)right.len);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s BOOTSTRAP STATE_DIR\n", argv[0]);
        return 2;
    }
    char err[512];
    eddy_config_t *cfg = eddy_config_new();
    if (eddy_config_set(cfg, "application.id", "tsapp", err, sizeof err) < 0 ||
        eddy_config_set(cfg, "bootstrap.servers", argv[1], err, sizeof err) < 0 ||
        eddy_config_set(cfg, "state.dir", argv[2], err, sizeof err) < 0 ||
        eddy_config_set(cfg, "commit.interval.ms", "200", err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    const eddy_serde_t *str = eddy_serde_string();
    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *in = eddy_builder_stream_timestamped(b, "in", str, str, time_from_value, NULL);
    eddy_stream_to(eddy_table_to_stream(eddy_grouped_count(eddy_stream_group_by_key(in), "counts")),
                   "out-counts", str, eddy_serde_int64());
    eddy_ktable_t *ta = eddy_grouped_reduce(
        eddy_stream_group_by_key(
            eddy_builder_stream_timestamped(b, "ina", str, str, time_from_value, NULL)),
        latest, NULL, "ta");
    eddy_ktable_t *tb = eddy_grouped_reduce(
        eddy_stream_group_by_key(
            eddy_builder_stream_timestamped(b, "inb", str, str, time_from_value, NULL)),
        latest, NULL, "tb");
    eddy_stream_to(eddy_table_to_stream(eddy_table_join(ta, tb, concat, NULL, NULL)), "out-join",
                   str, str);
    eddy_app_t *app = eddy_app_new(b, cfg, err, sizeof err);
    eddy_config_destroy(cfg);
    if (!app) {
        eddy_builder_destroy(b); /* still ours: the app takes it only on success */
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    return eddy_app_run(app);
}

/* A test app for processing in timestamp order across a task's inputs
 * (streams_idle.sh): a stream of clicks left-joined with a table of users,
 * both keyed by user, event time from the value ("<ms> <text>"). The table
 * is the latest value per user (a reduce over the "users" stream, for its
 * extractor). Output topic "joined": key the user, value
 * "<click value> -> <user value>" ("none" without a user yet). At exit it
 * prints "active_tasks N standby_tasks M" (eddy_app_stats).
 *
 *   streams_idle_app BOOTSTRAP STATE_DIR [-X key=value ...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eddy.h"
#include "streams_test_app.h"

static void latest(eddy_bytes_t key, eddy_bytes_t value, eddy_bytes_t agg, eddy_buf_t *out,
                   void *opaque)
{
    (void)key;
    (void)agg;
    (void)opaque;
    eddy_buf_set(out, value.data, (size_t)value.len);
}

static void join(eddy_bytes_t key, eddy_bytes_t left, eddy_bytes_t right, eddy_buf_t *out,
                 void *opaque)
{
    (void)key;
    (void)opaque;
    eddy_buf_set(out, left.data, (size_t)left.len);
    eddy_buf_append(out, " -> ", 4);
    if (right.len >= 0)
        eddy_buf_append(out, right.data, (size_t)right.len);
    else
        eddy_buf_append(out, "none", 4);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s BOOTSTRAP STATE_DIR [-X key=value ...]\n", argv[0]);
        return 2;
    }
    char err[512] = "";
    eddy_config_t *cfg = eddy_config_new();
    if (eddy_config_set(cfg, "application.id", "idle", err, sizeof err) < 0 ||
        eddy_config_set(cfg, "bootstrap.servers", argv[1], err, sizeof err) < 0 ||
        eddy_config_set(cfg, "state.dir", argv[2], err, sizeof err) < 0 ||
        eddy_config_set(cfg, "commit.interval.ms", "200", err, sizeof err) < 0 ||
        eddy_config_set(cfg, "cache.max.bytes.buffering", "0", err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    for (int i = 3; i < argc; i++)
        if (eddy_config_arg(cfg, argc, argv, &i, err, sizeof err) <= 0) {
            fprintf(stderr, "streams_idle_app: %s\n", err[0] ? err : argv[i]);
            return 2;
        }
    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *users = eddy_builder_stream_timestamped(b, "users", eddy_serde_string(),
                                                            eddy_serde_string(), time_from_value,
                                                            NULL);
    eddy_ktable_t *table = eddy_grouped_reduce(eddy_stream_group_by_key(users), latest, NULL,
                                               "users-latest");
    eddy_kstream_t *clicks = eddy_builder_stream_timestamped(b, "clicks", eddy_serde_string(),
                                                             eddy_serde_string(), time_from_value,
                                                             NULL);
    eddy_stream_to(eddy_stream_left_join_table(clicks, table, join, NULL), "joined",
                   eddy_serde_string(), eddy_serde_string());
    eddy_app_t *app = eddy_app_new(b, cfg, err, sizeof err);
    eddy_config_destroy(cfg);
    if (!app) {
        eddy_builder_destroy(b); /* still ours: the app takes it only on success */
        fprintf(stderr, "streams_idle_app: %s\n", err);
        return 1;
    }
    eddy_app_stats_t st;
    int rc = eddy_app_run_stats(app, &st);
    printf("active_tasks %d standby_tasks %d\n", (int)st.active_tasks, (int)st.standby_tasks);
    return rc;
}

/* Events per key and minute: a tumbling-window count with final results only.
 *
 *   windowed_count [--input events] [--output event-counts] [--grace-ms 10000]
 *                  [--time-from-value] [--config FILE] [-X key=value]...
 *
 * Input records: a string key and any value. Each record counts in the
 * 1-minute window [start, start + 60000) of its event time (ms since the
 * epoch): the record's own timestamp, or with --time-from-value the decimal
 * number the value starts with ("1700000000123" or "1700000000123 click";
 * a value that does not start with digits is skipped and counted).
 *
 * A window's count is written once, when the window closes: when the stream
 * time (the largest event time seen so far by the task, that is per input
 * partition) passes the window's end + the grace period. A record that
 * arrives for a window already closed is dropped and counted (Kafka Streams'
 * suppress(untilWindowCloses) over windowedBy(TimeWindows) semantics). The
 * output record is keyed by the text "<key>@<window start ms>" (the start
 * after the last '@'), its value the count as an int64 (8 bytes big-endian;
 * `eddy topic consume TOPIC -f '%k %v\n' --value-format int64` prints it) and
 * its timestamp the window's latest event time. A window only closes when a
 * later record comes: the last minute of a quiet input stays open.
 *
 * At exit the app prints its counters: records processed, records too late
 * for their window, records skipped (no event time).
 *
 * Settings are Kafka Streams' (docs/streams.md); application.id defaults to
 * "windowed-count" and bootstrap.servers to localhost:9092. Stop it with
 * Ctrl-C or SIGTERM.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eddy.h"

#define WINDOW_MS 60000

/* The decimal number the value starts with; -1 (skip the record) when it
 * does not start with a digit or the number does not fit. */
static int64_t time_from_value(const eddy_record_t *r, int64_t partition_time, void *opaque)
{
    (void)partition_time;
    (void)opaque;
    const char *p = r->value.data;
    int64_t t = 0;
    int i = 0;
    for (; i < r->value.len && p[i] >= '0' && p[i] <= '9'; i++) {
        if (t > (INT64_MAX - 9) / 10)
            return -1;
        t = t * 10 + (p[i] - '0');
    }
    return i > 0 ? t : -1;
}

/* Windowed key (key + 8-byte start) -> "<key>@<start>". */
static void readable_key(const eddy_record_t *r, eddy_emitter_t *out, void *opaque)
{
    (void)opaque;
    eddy_bytes_t key;
    int64_t start, end;
    if (eddy_windowed_key_read(r->key, 0, &key, &start, &end) < 0)
        return;
    char suffix[32];
    int sl = snprintf(suffix, sizeof suffix, "@%lld", (long long)start);
    eddy_buf_t k = {0};
    if (eddy_buf_set(&k, key.len > 0 ? key.data : "", key.len > 0 ? (size_t)key.len : 0) == 0 &&
        eddy_buf_append(&k, suffix, (size_t)sl) == 0)
        eddy_emit(out, eddy_buf_bytes(&k), r->value);
    eddy_buf_free(&k);
}

static int usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--input TOPIC] [--output TOPIC] [--grace-ms MS] [--time-from-value]\n"
            "          [--config FILE] [-X key=value]...\n"
            "Counts the records per key of TOPIC (default: events) in 1-minute tumbling windows\n"
            "and writes each window's final count, once it closes, to TOPIC (default:\n"
            "event-counts) keyed \"<key>@<window start ms>\".\n",
            argv0);
    return 2;
}

/* Usage errors free the config first (argv0 NULL: the error is printed). */
static int usage_free(eddy_config_t *cfg, const char *argv0)
{
    eddy_config_destroy(cfg);
    return argv0 ? usage(argv0) : 2;
}

int main(int argc, char **argv)
{
    const char *input = "events", *output = "event-counts";
    int64_t grace = 10000;
    int from_value = 0;
    char err[1024];
    eddy_config_t *cfg = eddy_config_new();
    if (!cfg)
        return 1;
    eddy_config_set(cfg, "application.id", "windowed-count", err, sizeof err);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int used = eddy_config_arg(cfg, argc, argv, &i, err, sizeof err);
        if (used < 0) {
            fprintf(stderr, "windowed_count: %s\n", err);
            return usage_free(cfg, NULL);
        }
        if (used)
            continue;
        if ((!strcmp(a, "--input") || !strcmp(a, "--output") || !strcmp(a, "--grace-ms")) &&
            i + 1 >= argc)
            return usage_free(cfg, argv[0]);
        if (!strcmp(a, "--input")) {
            input = argv[++i];
        } else if (!strcmp(a, "--output")) {
            output = argv[++i];
        } else if (!strcmp(a, "--grace-ms")) {
            char *e;
            errno = 0;
            long long g = strtoll(argv[++i], &e, 10);
            if (errno || *e || e == argv[i] || g < 0) {
                fprintf(stderr, "windowed_count: --grace-ms %s: expected milliseconds >= 0\n",
                        argv[i]);
                return usage_free(cfg, NULL);
            }
            grace = g;
        } else if (!strcmp(a, "--time-from-value")) {
            from_value = 1;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(argv[0]);
            return eddy_config_destroy(cfg), 0;
        } else {
            return usage_free(cfg, argv[0]);
        }
    }

    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *in =
        from_value ? eddy_builder_stream_timestamped(b, input, eddy_serde_string(),
                                                     eddy_serde_bytes(), time_from_value, NULL)
                   : eddy_builder_stream(b, input, eddy_serde_string(), eddy_serde_bytes());
    eddy_kwindowed_stream_t *w = eddy_grouped_windowed_by(eddy_stream_group_by_key(in),
                                                          eddy_windows_tumbling(WINDOW_MS, grace));
    eddy_ktable_t *counts = eddy_table_suppress_until_window_closes(
        eddy_windowed_count(w, "window-counts"));
    eddy_kstream_t *out = eddy_stream_map(eddy_table_to_stream(counts), readable_key, NULL);
    eddy_stream_to(out, output, eddy_serde_string(), eddy_serde_int64());

    eddy_app_t *app = eddy_app_new(b, cfg, err, sizeof err);
    eddy_config_destroy(cfg);
    if (!app) {
        eddy_builder_destroy(b); /* still ours: the app takes it only on success */
        fprintf(stderr, "windowed_count: %s\n", err);
        return 1;
    }
    eddy_app_stats_t st;
    int rc = eddy_app_run_stats(app, &st);
    fprintf(stderr,
            "windowed_count: %lld records processed, %lld too late for their window (dropped), "
            "%lld skipped\n",
            (long long)st.records_processed, (long long)st.records_late_dropped,
            (long long)st.records_skipped);
    return rc;
}

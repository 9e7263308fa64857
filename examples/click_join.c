/* Ad impressions joined with their clicks: a windowed stream-stream join.
 *
 *   click_join [--impressions impressions] [--clicks clicks] [--output clicked]
 *              [--left | --outer] [--grace-ms 60000] [--time-from-value]
 *              [--config FILE] [-X key=value]...
 *
 * Both input topics are keyed by the ad id (text), with any text as value.
 * An impression and a click of the same ad join when their event times are
 * at most 10 minutes apart (either way: Kafka's JoinWindows of 10 minutes).
 * Each joined pair is written to the output, keyed by the ad id, as
 * "<impression>|<click>", with the later of the two event times. An
 * impression clicked twice gives two records; a click of an ad shown twice
 * within the window too.
 *
 * --left also writes the impressions nobody clicked, as "<impression>|null",
 * once their window has closed (10 minutes + the grace period after them,
 * in stream time); --outer writes, besides, the clicks without an
 * impression as "null|<click>". Records later than their window's end +
 * grace (stream time: the largest event time the task has seen) are dropped
 * and counted.
 *
 * Event time is the record's timestamp, or with --time-from-value the
 * decimal number the value starts with ("1700000000123 banner-7"; a value
 * that does not start with digits is skipped and counted). The two input
 * topics must have the same number of partitions (co-partitioned).
 *
 * At exit the app prints its counters: records processed, records too late
 * for their join window, records skipped.
 *
 * Settings are Kafka Streams' (docs/streams.md); application.id defaults to
 * "click-join" and bootstrap.servers to localhost:9092. Stop it with Ctrl-C
 * or SIGTERM.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eddy.h"

#define JOIN_WINDOW_MS (10 * 60 * 1000)

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

/* "<impression>|<click>", "null" for a missing side. */
static void join_values(eddy_bytes_t key, eddy_bytes_t impression, eddy_bytes_t click,
                        eddy_buf_t *out, void *opaque)
{
    (void)key;
    (void)opaque;
    out->len = 0;
    if (eddy_bytes_is_null(impression))
        eddy_buf_append(out, "null", 4);
    else if (impression.len > 0)
        eddy_buf_append(out, impression.data, (size_t)impression.len);
    eddy_buf_append(out, "|", 1);
    if (eddy_bytes_is_null(click))
        eddy_buf_append(out, "null", 4);
    else if (click.len > 0)
        eddy_buf_append(out, click.data, (size_t)click.len);
}

static int usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--impressions TOPIC] [--clicks TOPIC] [--output TOPIC]\n"
            "          [--left | --outer] [--grace-ms MS] [--time-from-value]\n"
            "          [--config FILE] [-X key=value]...\n"
            "Joins the impressions (default topic: impressions) and clicks (default: clicks)\n"
            "of each ad within 10 minutes into TOPIC (default: clicked) as\n"
            "\"<impression>|<click>\".\n",
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
    const char *impressions = "impressions", *clicks = "clicks", *output = "clicked";
    int64_t grace = 60000;
    int from_value = 0, left = 0, outer = 0;
    char err[1024];
    eddy_config_t *cfg = eddy_config_new();
    if (!cfg)
        return 1;
    eddy_config_set(cfg, "application.id", "click-join", err, sizeof err);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int used = eddy_config_arg(cfg, argc, argv, &i, err, sizeof err);
        if (used < 0) {
            fprintf(stderr, "click_join: %s\n", err);
            return usage_free(cfg, NULL);
        }
        if (used)
            continue;
        if ((!strcmp(a, "--impressions") || !strcmp(a, "--clicks") || !strcmp(a, "--output") ||
             !strcmp(a, "--grace-ms")) &&
            i + 1 >= argc)
            return usage_free(cfg, argv[0]);
        if (!strcmp(a, "--impressions")) {
            impressions = argv[++i];
        } else if (!strcmp(a, "--clicks")) {
            clicks = argv[++i];
        } else if (!strcmp(a, "--output")) {
            output = argv[++i];
        } else if (!strcmp(a, "--left")) {
            left = 1;
        } else if (!strcmp(a, "--outer")) {
            outer = 1;
        } else if (!strcmp(a, "--grace-ms")) {
            char *e;
            errno = 0;
            long long g = strtoll(argv[++i], &e, 10);
            if (errno || *e || e == argv[i] || g < 0) {
                fprintf(stderr, "click_join: --grace-ms %s: expected milliseconds >= 0\n", argv[i]);
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
    if (left && outer) {
        fprintf(stderr, "click_join: --left and --outer exclude each other\n");
        return usage_free(cfg, NULL);
    }

    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *imp, *clk;
    if (from_value) {
        imp = eddy_builder_stream_timestamped(b, impressions, eddy_serde_string(),
                                              eddy_serde_string(), time_from_value, NULL);
        clk = eddy_builder_stream_timestamped(b, clicks, eddy_serde_string(), eddy_serde_string(),
                                              time_from_value, NULL);
    } else {
        imp = eddy_builder_stream(b, impressions, eddy_serde_string(), eddy_serde_string());
        clk = eddy_builder_stream(b, clicks, eddy_serde_string(), eddy_serde_string());
    }
    eddy_join_windows_t jw = eddy_join_windows(JOIN_WINDOW_MS, grace);
    eddy_kstream_t *joined = outer  ? eddy_stream_outer_join(imp, clk, join_values, NULL, jw)
                             : left ? eddy_stream_left_join(imp, clk, join_values, NULL, jw)
                                    : eddy_stream_join(imp, clk, join_values, NULL, jw);
    eddy_stream_to(joined, output, eddy_serde_string(), eddy_serde_string());

    eddy_app_t *app = eddy_app_new(b, cfg, err, sizeof err);
    eddy_config_destroy(cfg);
    if (!app) {
        eddy_builder_destroy(b); /* still ours: the app takes it only on success */
        fprintf(stderr, "click_join: %s\n", err);
        return 1;
    }
    eddy_app_stats_t st;
    int rc = eddy_app_run_stats(app, &st);
    fprintf(stderr,
            "click_join: %lld records processed, %lld too late for their join window (dropped), "
            "%lld skipped\n",
            (long long)st.records_processed, (long long)st.records_late_dropped,
            (long long)st.records_skipped);
    return rc;
}

/* A test app for tests/integration/streams_windows.sh: the windowed
 * operations of include/eddy.h on one input topic, chosen by --mode.
 *
 *   streams_windows_app --mode MODE --input TOPIC --output TOPIC [--grace-ms MS]
 *                       [--size-ms MS] [--advance-ms MS] [--gap-ms MS] [--window-ms MS]
 *                       [--before-ms MS] [--after-ms MS]
 *                       [-X key=value]...
 *
 * Every input value starts with its event time in decimal ms (the
 * timestamp extractor reads it; the record's own timestamp is ignored).
 *
 *   tumbling, hopping, sliding
 *                      windowed count, final results only; output key
 *                      "<key>@<start>", value the int64 count (sliding:
 *                      --size-ms is the time difference)
 *   tumbling-updates, session-updates
 *                      the same without suppression: every update (a session
 *                      merged into another: a tombstone)
 *   tumbling-rekey     tumbling, after re-keying "k<n>" to "g<n % 4>" (through
 *                      a repartition topic)
 *   session            session-windowed count, final results only; output key
 *                      "<key>@<start>-<end>", value the int64 count
 *   inner, left, outer stream-stream join of the input with itself split by
 *                      side: values "<time> L <payload>" go left, "<time> R
 *                      <payload>" right; before = after = --window-ms
 *                      unless --before-ms / --after-ms say otherwise. Output
 *                      key the key, value "<left value>|<right value>" with
 *                      "null" for a missing side
 *
 * At exit it prints "streams_windows_app: processed N late L skipped S".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eddy.h"
#include "streams_test_app.h"

/* Windowed key -> "<key>@<start>" or "<key>@<start>-<end>" (session). */
static void readable_key(const eddy_record_t *r, eddy_emitter_t *out, void *opaque)
{
    int session = opaque != NULL;
    eddy_bytes_t key;
    int64_t start, end;
    if (eddy_windowed_key_read(r->key, session, &key, &start, &end) < 0)
        return;
    char sfx[64];
    int sl = session ? snprintf(sfx, sizeof sfx, "@%lld-%lld", (long long)start, (long long)end)
                     : snprintf(sfx, sizeof sfx, "@%lld", (long long)start);
    eddy_buf_t k = {0};
    if (eddy_buf_set(&k, key.len > 0 ? key.data : "", key.len > 0 ? (size_t)key.len : 0) == 0 &&
        eddy_buf_append(&k, sfx, (size_t)sl) == 0)
        eddy_emit(out, eddy_buf_bytes(&k), r->value);
    eddy_buf_free(&k);
}

/* "k<n>" -> "g<n % 4>" */
static void group_key(const eddy_record_t *r, eddy_emitter_t *out, void *opaque)
{
    (void)opaque;
    char k[32];
    int n = 0;
    for (int i = 1; i < r->key.len && i < 10; i++)
        n = n * 10 + (((const char *)r->key.data)[i] - '0');
    int kl = snprintf(k, sizeof k, "g%d", n % 4);
    if (r->key.len > 0 && ((const char *)r->key.data)[0] == '~')
        eddy_emit_key(out, r->key); /* the flush record keeps its key */
    else
        eddy_emit_key(out, eddy_bytes(k, (size_t)kl));
}

/* The side letter after the time: "<digits> L ..." */
static int side_is(const eddy_record_t *r, char side)
{
    const char *p = r->value.data;
    int i = 0;
    while (i < r->value.len && p[i] >= '0' && p[i] <= '9')
        i++;
    return i + 1 < r->value.len && p[i] == ' ' && p[i + 1] == side;
}

static int is_left(const eddy_record_t *r, void *opaque)
{
    (void)opaque;
    return side_is(r, 'L');
}

static int is_right(const eddy_record_t *r, void *opaque)
{
    (void)opaque;
    return side_is(r, 'R');
}

static void join_values(eddy_bytes_t key, eddy_bytes_t l, eddy_bytes_t r, eddy_buf_t *out,
                        void *opaque)
{
    (void)key;
    (void)opaque;
    out->len = 0;
    if (eddy_bytes_is_null(l))
        eddy_buf_append(out, "null", 4);
    else if (l.len > 0)
        eddy_buf_append(out, l.data, (size_t)l.len);
    eddy_buf_append(out, "|", 1);
    if (eddy_bytes_is_null(r))
        eddy_buf_append(out, "null", 4);
    else if (r.len > 0)
        eddy_buf_append(out, r.data, (size_t)r.len);
}

static int64_t num(const char *s)
{
    char *e;
    errno = 0;
    long long v = strtoll(s, &e, 10);
    if (errno || *e || e == s || v < 0) {
        fprintf(stderr, "streams_windows_app: '%s' is not a number of ms\n", s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    const char *mode = NULL, *input = NULL, *output = NULL;
    int64_t grace = 10000, size = 60000, advance = 20000, gap = 30000, window = 5000;
    int64_t before = -1, after = -1;
    char err[1024];
    eddy_config_t *cfg = eddy_config_new();
    if (!cfg)
        return 1;
    eddy_config_set(cfg, "application.id", "streams-windows-app", err, sizeof err);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) {
            fprintf(stderr, "streams_windows_app: %s: missing its value\n", a);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--mode"))
            mode = v;
        else if (!strcmp(a, "--input"))
            input = v;
        else if (!strcmp(a, "--output"))
            output = v;
        else if (!strcmp(a, "--grace-ms"))
            grace = num(v);
        else if (!strcmp(a, "--size-ms"))
            size = num(v);
        else if (!strcmp(a, "--advance-ms"))
            advance = num(v);
        else if (!strcmp(a, "--gap-ms"))
            gap = num(v);
        else if (!strcmp(a, "--window-ms"))
            window = num(v);
        else if (!strcmp(a, "--before-ms"))
            before = num(v);
        else if (!strcmp(a, "--after-ms"))
            after = num(v);
        else if (!strcmp(a, "-X")) {
            char *kv = argv[i], *eq = strchr(kv, '=');
            if (!eq) {
                fprintf(stderr, "streams_windows_app: -X %s: expected key=value\n", kv);
                return 2;
            }
            *eq = 0;
            if (eddy_config_set(cfg, kv, eq + 1, err, sizeof err) < 0) {
                fprintf(stderr, "streams_windows_app: %s\n", err);
                return 2;
            }
        } else {
            fprintf(stderr, "streams_windows_app: unknown argument %s\n", a);
            return 2;
        }
    }
    if (!mode || !input || !output) {
        fprintf(stderr, "streams_windows_app: --mode, --input and --output are required\n");
        return 2;
    }

    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *in = eddy_builder_stream_timestamped(b, input, eddy_serde_string(),
                                                         eddy_serde_string(), time_from_value,
                                                         NULL);
    eddy_kstream_t *out = NULL;
    const eddy_serde_t *vserde = eddy_serde_int64();
    int updates = !strcmp(mode, "tumbling-updates") || !strcmp(mode, "session-updates");
    int rekey = !strcmp(mode, "tumbling-rekey");
    if (rekey)
        in = eddy_stream_select_key(in, group_key, NULL);
    if (updates || rekey || !strcmp(mode, "tumbling") || !strcmp(mode, "hopping") ||
        !strcmp(mode, "sliding") || !strcmp(mode, "session")) {
        int session = !strcmp(mode, "session") || !strcmp(mode, "session-updates");
        eddy_windows_t w = session                    ? eddy_windows_session(gap, grace)
                           : !strcmp(mode, "sliding") ? eddy_windows_sliding(size, grace)
                           : !strcmp(mode, "hopping") ? eddy_windows_hopping(size, advance, grace)
                                                      : eddy_windows_tumbling(size, grace);
        eddy_ktable_t *counts = eddy_windowed_count(
            eddy_grouped_windowed_by(eddy_stream_group_by_key(in), w), "counts");
        if (!updates)
            counts = eddy_table_suppress_until_window_closes(counts);
        out = eddy_stream_map(eddy_table_to_stream(counts), readable_key, session ? "s" : NULL);
    } else if (!strcmp(mode, "inner") || !strcmp(mode, "left") || !strcmp(mode, "outer")) {
        eddy_branched_t *br = eddy_stream_split(in);
        eddy_kstream_t *l = eddy_branch(br, is_left, NULL);
        eddy_kstream_t *r = eddy_branch(br, is_right, NULL);
        eddy_join_windows_t jw = eddy_join_windows(window, grace);
        if (before >= 0)
            jw.jw_before = before;
        if (after >= 0)
            jw.jw_after = after;
        out = !strcmp(mode, "inner")  ? eddy_stream_join(l, r, join_values, NULL, jw)
              : !strcmp(mode, "left") ? eddy_stream_left_join(l, r, join_values, NULL, jw)
                                      : eddy_stream_outer_join(l, r, join_values, NULL, jw);
        vserde = eddy_serde_string();
    } else {
        fprintf(stderr, "streams_windows_app: unknown mode %s\n", mode);
        eddy_builder_destroy(b);
        eddy_config_destroy(cfg);
        return 2;
    }
    eddy_stream_to(out, output, eddy_serde_string(), vserde);

    eddy_app_t *app = eddy_app_new(b, cfg, err, sizeof err);
    eddy_config_destroy(cfg);
    if (!app) {
        eddy_builder_destroy(b); /* still ours: the app takes it only on success */
        fprintf(stderr, "streams_windows_app: %s\n", err);
        return 1;
    }
    eddy_app_stats_t st;
    int rc = eddy_app_run_stats(app, &st);
    fprintf(stderr, "streams_windows_app: processed %lld late %lld skipped %lld\n",
            (long long)st.records_processed, (long long)st.records_late_dropped,
            (long long)st.records_skipped);
    return rc;
}

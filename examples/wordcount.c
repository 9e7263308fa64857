/* Word count, the streams "hello world": lines in, a running count per word
 * out. A word is a maximal run of ASCII letters and digits, lower-cased;
 * the output key is the word, the value its count as an 8-byte big-endian
 * int64 (Kafka's LongSerializer).
 *
 *   wordcount [--input lines] [--output word-counts] [--window-ms N] [--config FILE]
 *             [-X key=value]...
 *
 * --window-ms N counts per word and N-ms tumbling window of record time
 * instead (grace 0): the output key is then "<word>@<window start in ms>"
 * (examples/windowed_count.c shows Kafka's binary windowed keys).
 *
 * Settings are Kafka Streams' (docs/streams.md); application.id defaults to
 * "wordcount" and bootstrap.servers to localhost:9092. Start it several
 * times (each with its own state.dir) and the partitions split between the
 * instances; stop it with Ctrl-C or SIGTERM.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eddy.h"

/* Emits (word, NULL-free value) for each word of the line; the value stays
 * the line's, and count ignores it. */
static void split_words(const eddy_record_t *r, eddy_emitter_t *out, void *opaque)
{
    (void)opaque;
    if (r->value.len <= 0)
        return;
    const unsigned char *s = r->value.data;
    char word[256];
    size_t n = 0;
    for (int32_t i = 0; i <= r->value.len; i++) {
        int c = i < r->value.len ? s[i] : ' ';
        if (isalnum(c) && c < 128) {
            if (n < sizeof word)
                word[n] = (char)tolower(c);
            n++;
            continue;
        }
        if (n > 0) {
            /* Words longer than the buffer are still counted, truncated. */
            size_t len = n < sizeof word ? n : sizeof word;
            eddy_emit(out, eddy_bytes(word, len), eddy_bytes("", 0));
        }
        n = 0;
    }
}

/* A windowed key (word + 8-byte start) as text: "word@start". */
static void readable_key(const eddy_record_t *r, eddy_emitter_t *out, void *opaque)
{
    (void)opaque;
    eddy_bytes_t word;
    int64_t start;
    char buf[320];
    if (eddy_windowed_key_read(r->key, 0, &word, &start, NULL) < 0 || word.len > 256)
        return;
    int n = snprintf(buf, sizeof buf, "%.*s@%lld", (int)word.len, (const char *)word.data,
                     (long long)start);
    eddy_emit_key(out, eddy_bytes(buf, (size_t)n));
}

static int usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--input TOPIC] [--output TOPIC] [--window-ms N] [--config FILE]\n"
            "       [-X key=value]...\n"
            "Counts words of the lines in TOPIC (default: lines) into TOPIC (default: "
            "word-counts); with --window-ms, per N-ms tumbling window.\n",
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
    const char *input = "lines", *output = "word-counts";
    long long window_ms = 0;
    char err[1024];
    eddy_config_t *cfg = eddy_config_new();
    if (!cfg)
        return 1;
    eddy_config_set(cfg, "application.id", "wordcount", err, sizeof err);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int used = eddy_config_arg(cfg, argc, argv, &i, err, sizeof err);
        if (used < 0) {
            fprintf(stderr, "wordcount: %s\n", err);
            return usage_free(cfg, NULL);
        }
        if (used)
            continue;
        if ((!strcmp(a, "--input") || !strcmp(a, "--output") || !strcmp(a, "--window-ms")) &&
            i + 1 >= argc)
            return usage_free(cfg, argv[0]);
        if (!strcmp(a, "--input")) {
            input = argv[++i];
        } else if (!strcmp(a, "--output")) {
            output = argv[++i];
        } else if (!strcmp(a, "--window-ms")) {
            char *end;
            errno = 0;
            window_ms = strtoll(argv[++i], &end, 10);
            if (*end || errno || window_ms <= 0) {
                fprintf(stderr, "wordcount: --window-ms %s: expected a number of ms > 0\n",
                        argv[i]);
                return usage_free(cfg, NULL);
            }
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(argv[0]);
            return eddy_config_destroy(cfg), 0;
        } else {
            return usage_free(cfg, argv[0]);
        }
    }

    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *lines = eddy_builder_stream(b, input, eddy_serde_string(), eddy_serde_string());
    eddy_kstream_t *words = eddy_stream_flat_map(lines, split_words, NULL);
    eddy_kgrouped_stream_t *grouped = eddy_stream_group_by_key(words);
    if (window_ms > 0) {
        eddy_kwindowed_stream_t *w = eddy_grouped_windowed_by(grouped,
                                                              eddy_windows_tumbling(window_ms, 0));
        eddy_ktable_t *counts = eddy_windowed_count(w, "window-counts");
        eddy_kstream_t *out = eddy_stream_select_key(eddy_table_to_stream(counts), readable_key,
                                                     NULL);
        eddy_stream_to(out, output, eddy_serde_string(), eddy_serde_int64());
    } else {
        eddy_ktable_t *counts = eddy_grouped_count(grouped, "counts");
        eddy_stream_to(eddy_table_to_stream(counts), output, eddy_serde_string(),
                       eddy_serde_int64());
    }

    eddy_app_t *app = eddy_app_new(b, cfg, err, sizeof err);
    eddy_config_destroy(cfg);
    if (!app) {
        eddy_builder_destroy(b); /* still ours: the app takes it only on success */
        fprintf(stderr, "wordcount: %s\n", err);
        return 1;
    }
    return eddy_app_run(app);
}

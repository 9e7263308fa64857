/* A test app for partitioners and error handlers (streams_handlers.sh).
 *
 *   streams_handlers_app BOOTSTRAP STATE_DIR partition APP_ID [-X key=value]...
 *     in-p -> to_partitioned(APP_ID-out): key "k<N>" goes to partition
 *             N % npartitions (not where Kafka's default partitioner puts it)
 *   streams_handlers_app BOOTSTRAP STATE_DIR fail APP_ID [-X key=value]...
 *     in-f -> map_values "checker" (fails values containing "boom")
 *          -> count per key (store "counts") -> APP_ID-out (int64)
 *     in-f -> aggregate "concat" (the values joined by ',', store "concat";
 *             fails values containing "bad" after writing a result)
 *          -> APP_ID-out-agg
 *     in-n (int64 values) -> APP_ID-out-n
 *   streams_handlers_app BOOTSTRAP STATE_DIR big APP_ID [-X key=value]...
 *     in-b -> map_values (the value twice) -> APP_ID-out
 *
 * Prints the app's records_skipped at exit ("skipped=N" on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eddy.h"

static int32_t by_number(const char *topic, eddy_bytes_t key, eddy_bytes_t value,
                         int32_t npartitions, void *opaque)
{
    (void)topic, (void)value, (void)opaque;
    long n = 0;
    for (int32_t i = 0; i < key.len; i++) {
        char c = ((const char *)key.data)[i];
        if (c >= '0' && c <= '9')
            n = n * 10 + (c - '0');
    }
    return (int32_t)(n % npartitions);
}

static int has_boom(eddy_bytes_t v)
{
    for (int32_t i = 0; i + 4 <= v.len; i++)
        if (memcmp((const char *)v.data + i, "boom", 4) == 0)
            return 1;
    return 0;
}

static void checker(const eddy_record_t *r, eddy_emitter_t *out, void *opaque)
{
    (void)opaque;
    if (has_boom(r->value)) {
        eddy_fail_record("value '%.*s' is not allowed", (int)r->value.len,
                         (const char *)r->value.data);
        eddy_emit_value(out, r->value); /* dropped: the record failed */
        return;
    }
    eddy_emit_value(out, r->value);
}

static void twice(const eddy_record_t *r, eddy_emitter_t *out, void *opaque)
{
    (void)opaque;
    eddy_buf_t b = {0};
    eddy_buf_set(&b, r->value.data, (size_t)r->value.len);
    eddy_buf_append(&b, r->value.data, (size_t)r->value.len);
    eddy_emit_value(out, eddy_buf_bytes(&b));
    eddy_buf_free(&b);
}

static void empty(eddy_buf_t *agg, void *opaque)
{
    (void)opaque;
    agg->len = 0;
}

static void concat(eddy_bytes_t key, eddy_bytes_t value, eddy_bytes_t agg, eddy_buf_t *out,
                   void *opaque)
{
    (void)key, (void)opaque;
    eddy_buf_set(out, agg.data, (size_t)agg.len);
    if (agg.len > 0)
        eddy_buf_append(out, ",", 1);
    eddy_buf_append(out, value.data, (size_t)value.len);
    for (int32_t i = 0; i + 3 <= value.len; i++)
        if (memcmp((const char *)value.data + i, "bad", 3) == 0) {
            eddy_fail_record("cannot add '%.*s'", (int)value.len, (const char *)value.data);
            return; /* out holds a result: it must not be stored */
        }
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s BOOTSTRAP STATE_DIR partition|fail APP_ID [-X key=value]...\n",
                argv[0]);
        return 2;
    }
    const char *mode = argv[3], *id = argv[4];
    char err[512], out[256], out_n[256];
    snprintf(out, sizeof out, "%s-out", id);
    snprintf(out_n, sizeof out_n, "%s-out-n", id);
    eddy_config_t *cfg = eddy_config_new();
    if (eddy_config_set(cfg, "application.id", id, err, sizeof err) < 0 ||
        eddy_config_set(cfg, "bootstrap.servers", argv[1], err, sizeof err) < 0 ||
        eddy_config_set(cfg, "state.dir", argv[2], err, sizeof err) < 0 ||
        eddy_config_set(cfg, "commit.interval.ms", "200", err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    for (int i = 5; i < argc; i++)
        if (eddy_config_arg(cfg, argc, argv, &i, err, sizeof err) != 1) {
            fprintf(stderr, "%s: %s\n", argv[i], err);
            return 2;
        }
    const eddy_serde_t *str = eddy_serde_string();
    eddy_builder_t *b = eddy_builder_new();
    if (strcmp(mode, "partition") == 0) {
        eddy_stream_to_partitioned(eddy_builder_stream(b, "in-p", str, str), out, str, str,
                                   by_number, NULL);
    } else if (strcmp(mode, "fail") == 0) {
        eddy_kstream_t *in = eddy_builder_stream(b, "in-f", str, str);
        eddy_kstream_t *v = eddy_stream_name(eddy_stream_map_values(in, checker, NULL), "checker");
        eddy_stream_to(eddy_table_to_stream(eddy_grouped_count(eddy_stream_group_by_key(v), "count"
                                                                                            "s")),
                       out, str, eddy_serde_int64());
        eddy_stream_to(eddy_builder_stream(b, "in-n", str, eddy_serde_int64()), out_n, str,
                       eddy_serde_int64());
        char out_agg[256];
        snprintf(out_agg, sizeof out_agg, "%s-out-agg", id);
        eddy_ktable_t *agg = eddy_table_name(eddy_grouped_aggregate(eddy_stream_group_by_key(in),
                                                                    empty, concat, NULL, "concat"),
                                             "concat");
        eddy_stream_to(eddy_table_to_stream(agg), out_agg, str, str);
    } else if (strcmp(mode, "big") == 0) {
        eddy_stream_to(eddy_stream_map_values(eddy_builder_stream(b, "in-b", str, str), twice,
                                              NULL),
                       out, str, str);
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    eddy_app_t *app = eddy_app_new(b, cfg, err, sizeof err);
    eddy_config_destroy(cfg);
    if (!app) {
        eddy_builder_destroy(b); /* still ours: the app takes it only on success */
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    eddy_app_stats_t st;
    int rc = eddy_app_run_stats(app, &st);
    fprintf(stderr, "skipped=%lld\n", (long long)st.records_skipped);
    return rc;
}

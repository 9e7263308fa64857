/* Per-key statistics of numbers: count, sum, min, max and mean.
 *
 *   aggregate [--input numbers] [--output number-stats] [--config FILE] [-X key=value]...
 *
 * Input records: a string key and a decimal number as text ("42", "-3.25",
 * "1e3", " 7 "). Each update of a key writes its statistics to the output
 * topic as a msgpack map {"count": int, "sum", "min", "max", "mean": double}
 * (`eddy topic consume TOPIC --value-format msgpack` prints it as JSON).
 * Records whose value is not a number (or is null) are skipped: each skip is
 * logged on stderr with the running count, and the total is printed at exit.
 *
 * Settings are Kafka Streams' (docs/streams.md); application.id defaults to
 * "aggregate" and bootstrap.servers to localhost:9092. Stop it with Ctrl-C
 * or SIGTERM.
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eddy.h"

static atomic_llong skipped;

/* A decimal number: optional blanks, sign, digits with an optional fraction
 * (at least one digit in all), an optional exponent, optional blanks. No hex,
 * inf or nan, which strtod would take. */
static int parse_number(eddy_bytes_t v, double *out)
{
    if (v.len <= 0 || v.len > 64)
        return -1;
    char s[72];
    memcpy(s, v.data, (size_t)v.len);
    s[v.len] = 0;
    const char *p = s;
    while (*p == ' ' || *p == '\t')
        p++;
    const char *start = p;
    if (*p == '+' || *p == '-')
        p++;
    int digits = 0;
    while (*p >= '0' && *p <= '9')
        p++, digits++;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9')
            p++, digits++;
    }
    if (!digits)
        return -1;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return -1;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    const char *end = p;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (*p)
        return -1;
    char *e;
    errno = 0;
    double d = strtod(start, &e);
    if (e != end || !isfinite(d))
        return -1;
    *out = d;
    return 0;
}

/* Keeps the records with a number, counts and logs the others. */
static int is_number(const eddy_record_t *r, void *opaque)
{
    (void)opaque;
    double d;
    if (parse_number(r->value, &d) == 0)
        return 1;
    long long n = atomic_fetch_add(&skipped, 1) + 1;
    int kl = r->key.len > 0 ? (r->key.len > 64 ? 64 : r->key.len) : 0;
    int vl = r->value.len > 0 ? (r->value.len > 64 ? 64 : r->value.len) : 0;
    fprintf(stderr,
            "aggregate: skipped %s[%d]@%lld key '%.*s': value '%.*s' is not a number "
            "(%lld skipped so far)\n",
            r->topic ? r->topic : "?", (int)r->partition, (long long)r->offset, kl,
            kl ? (const char *)r->key.data : "", vl, vl ? (const char *)r->value.data : "", n);
    return 0;
}

static void put_stats(eddy_buf_t *b, int64_t count, double sum, double min, double max)
{
    eddy_mp_map_begin(b, 5);
    eddy_mp_put_int64(b, "count", count);
    eddy_mp_put_double(b, "sum", sum);
    eddy_mp_put_double(b, "min", min);
    eddy_mp_put_double(b, "max", max);
    eddy_mp_put_double(b, "mean", count ? sum / (double)count : 0.0);
}

static void init_stats(eddy_buf_t *agg, void *opaque)
{
    (void)opaque;
    put_stats(agg, 0, 0.0, 0.0, 0.0);
}

static void add_value(eddy_bytes_t key, eddy_bytes_t value, eddy_bytes_t agg, eddy_buf_t *out,
                      void *opaque)
{
    (void)key;
    (void)opaque;
    int64_t count = 0;
    double sum = 0, min = 0, max = 0, d;
    if (parse_number(value, &d) < 0) { /* filtered out before; keep agg */
        eddy_buf_set(out, agg.data, (size_t)agg.len);
        return;
    }
    if (eddy_mp_get_int64(agg, "count", &count) < 0 || eddy_mp_get_double(agg, "sum", &sum) < 0 ||
        eddy_mp_get_double(agg, "min", &min) < 0 || eddy_mp_get_double(agg, "max", &max) < 0)
        count = 0, sum = 0; /* not ours: start over */
    if (count == 0) {
        min = max = d;
    } else {
        if (d < min)
            min = d;
        if (d > max)
            max = d;
    }
    put_stats(out, count + 1, sum + d, min, max);
}

static int usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--input TOPIC] [--output TOPIC] [--config FILE] [-X key=value]...\n"
            "Keeps count, sum, min, max and mean of the numbers per key of TOPIC (default: "
            "numbers)\ninto TOPIC (default: number-stats) as msgpack maps.\n",
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
    const char *input = "numbers", *output = "number-stats";
    char err[1024];
    eddy_config_t *cfg = eddy_config_new();
    if (!cfg)
        return 1;
    eddy_config_set(cfg, "application.id", "aggregate", err, sizeof err);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int used = eddy_config_arg(cfg, argc, argv, &i, err, sizeof err);
        if (used < 0) {
            fprintf(stderr, "aggregate: %s\n", err);
            return usage_free(cfg, NULL);
        }
        if (used)
            continue;
        if ((!strcmp(a, "--input") || !strcmp(a, "--output")) && i + 1 >= argc)
            return usage_free(cfg, argv[0]);
        if (!strcmp(a, "--input")) {
            input = argv[++i];
        } else if (!strcmp(a, "--output")) {
            output = argv[++i];
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(argv[0]);
            return eddy_config_destroy(cfg), 0;
        } else {
            return usage_free(cfg, argv[0]);
        }
    }

    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *in = eddy_builder_stream(b, input, eddy_serde_string(), eddy_serde_string());
    eddy_kstream_t *numbers = eddy_stream_filter(in, is_number, NULL);
    eddy_ktable_t *stats = eddy_grouped_aggregate(eddy_stream_group_by_key(numbers), init_stats,
                                                  add_value, NULL, "stats");
    eddy_stream_to(eddy_table_to_stream(stats), output, eddy_serde_string(), eddy_serde_msgpack());

    eddy_app_t *app = eddy_app_new(b, cfg, err, sizeof err);
    eddy_config_destroy(cfg);
    if (!app) {
        eddy_builder_destroy(b); /* still ours: the app takes it only on success */
        fprintf(stderr, "aggregate: %s\n", err);
        return 1;
    }
    int rc = eddy_app_run(app);
    fprintf(stderr, "aggregate: %lld records skipped (not a number)\n",
            (long long)atomic_load(&skipped));
    return rc;
}

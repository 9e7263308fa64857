/* A test app for keys of any length (streams_keys.sh). Keys are runs of
 * 'k' of 0 to 100,000 bytes, the last byte perhaps another letter; outputs
 * carry a short name of the key instead ("4096" for 4,096 'k', "4096j" for
 * 4,095 'k' and a 'j', "0" for the empty key). Event times come from the
 * values ("<ms> <tag>").
 *   in  -> count per key (store "counts")                   -> out-counts (int64)
 *   in  -> sum of the value lengths per key (store "sums")  -> out-sums (int64)
 *   in  -> count per key and 10 s window (store "wcounts")  -> out-wcounts ("<name>@<start>")
 *   in JOIN inb within 1 h                                  -> out-join ("left|right")
 * Every 100 ms it writes the interactive queries' answers on the keys it
 * knows to QUERY_FILE (replaced atomically):
 *   get counts <name> <value or ->    (and sums)
 *   range counts <name>=<value> ...   the whole store, in key order
 *   range512 counts <name>=<value>... from the 512-byte key to the 4,096-byte one
 *
 *   streams_keys_app BOOTSTRAP STATE_DIR QUERY_FILE
 */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "eddy.h"
#include "streams_test_app.h"

static const char *const names[] = {"0",    "1",       "511",    "512", "4096j",
                                    "4096", "100000j", "100000", "700"};
#define NNAMES (sizeof names / sizeof names[0])

/* The key a name stands for, in a malloc'd buffer. */
static eddy_bytes_t key_of(const char *name)
{
    size_t n = (size_t)strtoul(name, NULL, 10);
    char *k = malloc(n + 1);
    memset(k, 'k', n);
    const char *last = name + strspn(name, "0123456789");
    if (n && *last)
        k[n - 1] = *last;
    return eddy_bytes(k, n);
}

/* The short name of a key ("bad" when it is not one of this test's). */
static void name_of(eddy_bytes_t key, char *out, size_t size)
{
    const char *p = key.data;
    for (int32_t i = 0; i + 1 < key.len; i++)
        if (p[i] != 'k') {
            snprintf(out, size, "bad%d", (int)key.len);
            return;
        }
    if (key.len > 0 && p[key.len - 1] != 'k')
        snprintf(out, size, "%d%c", (int)key.len, p[key.len - 1]);
    else
        snprintf(out, size, "%d", (int)key.len);
}

static void to_name(const eddy_record_t *r, eddy_emitter_t *out, void *opaque)
{
    (void)opaque;
    char n[64];
    name_of(r->key, n, sizeof n);
    eddy_emit(out, eddy_bytes(n, strlen(n)), r->value);
}

static void windowed_to_name(const eddy_record_t *r, eddy_emitter_t *out, void *opaque)
{
    (void)opaque;
    eddy_bytes_t key;
    int64_t start, end;
    char n[64], w[96];
    if (eddy_windowed_key_read(r->key, 0, &key, &start, &end) != 0) {
        snprintf(w, sizeof w, "unreadable");
    } else {
        name_of(key, n, sizeof n);
        snprintf(w, sizeof w, "%s@%" PRId64, n, start);
    }
    eddy_emit(out, eddy_bytes(w, strlen(w)), r->value);
}

static void zero(eddy_buf_t *agg, void *opaque)
{
    (void)opaque;
    uint8_t z[8] = {0};
    eddy_buf_set(agg, z, 8);
}

static int64_t be64(const void *p)
{
    const uint8_t *b = p;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return (int64_t)v;
}

static void add_len(eddy_bytes_t key, eddy_bytes_t value, eddy_bytes_t agg, eddy_buf_t *out,
                    void *opaque)
{
    (void)key, (void)opaque;
    uint64_t v = (uint64_t)(agg.len == 8 ? be64(agg.data) : 0) + (uint64_t)value.len;
    uint8_t b[8];
    for (int i = 7; i >= 0; i--, v >>= 8)
        b[i] = (uint8_t)v;
    eddy_buf_set(out, b, 8);
}

static void concat(eddy_bytes_t key, eddy_bytes_t left, eddy_bytes_t right, eddy_buf_t *out,
                   void *opaque)
{
    (void)key, (void)opaque;
    eddy_buf_set(out, left.data, (size_t)left.len);
    eddy_buf_append(out, "|", 1);
    eddy_buf_append(out, right.data, (size_t)right.len);
}

/* ---- the queries ---- */

static eddy_app_t *app;
static volatile int quit;
static const char *query_file;
static eddy_bytes_t keys[NNAMES];

typedef struct line {
    char l_buf[4096];
    size_t l_len;
} line_t;

static void line_add(line_t *l, const char *s)
{
    size_t n = strlen(s);
    if (l->l_len + n + 1 < sizeof l->l_buf) {
        memcpy(l->l_buf + l->l_len, s, n + 1);
        l->l_len += n;
    }
}

static int range_fn(eddy_bytes_t key, eddy_bytes_t value, void *opaque)
{
    char n[64], item[128];
    name_of(key, n, sizeof n);
    snprintf(item, sizeof item, " %s=%" PRId64, n, value.len == 8 ? be64(value.data) : -1);
    line_add(opaque, item);
    return 0;
}

static void write_queries(void)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", query_file);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    static const char *const stores[] = {"counts", "sums"};
    eddy_buf_t out = {0};
    for (size_t s = 0; s < 2; s++)
        for (size_t i = 0; i < NNAMES; i++) {
            int rc = eddy_app_store_get(app, stores[s], keys[i], &out);
            if (rc == 0 && out.len == 8)
                fprintf(f, "get %s %s %" PRId64 "\n", stores[s], names[i], be64(out.data));
            else if (rc == -2 /* ENOENT */)
                fprintf(f, "get %s %s -\n", stores[s], names[i]);
            else
                fprintf(f, "get %s %s error %d (%s)\n", stores[s], names[i], rc, eddy_strerror(rc));
        }
    eddy_buf_free(&out);
    line_t l = {.l_len = 0};
    line_add(&l, "range counts");
    int rc = eddy_app_store_range(app, "counts", EDDY_NULL_BYTES, EDDY_NULL_BYTES, range_fn, &l);
    fprintf(f, "%s%s\n", l.l_buf, rc ? " error" : "");
    l.l_len = 0;
    l.l_buf[0] = 0;
    line_add(&l, "range512 counts");
    rc = eddy_app_store_range(app, "counts", keys[3], keys[5], range_fn, &l);
    fprintf(f, "%s%s\n", l.l_buf, rc ? " error" : "");
    fclose(f);
    rename(tmp, query_file);
}

static void *query_loop(void *arg)
{
    (void)arg;
    while (!quit) {
        write_queries();
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void on_signal(int sig)
{
    (void)sig;
    eddy_app_stop(app);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s BOOTSTRAP STATE_DIR QUERY_FILE\n", argv[0]);
        return 2;
    }
    query_file = argv[3];
    for (size_t i = 0; i < NNAMES; i++)
        keys[i] = key_of(names[i]);
    char err[512];
    eddy_config_t *cfg = eddy_config_new();
    if (eddy_config_set(cfg, "application.id", "keysapp", err, sizeof err) < 0 ||
        eddy_config_set(cfg, "bootstrap.servers", argv[1], err, sizeof err) < 0 ||
        eddy_config_set(cfg, "state.dir", argv[2], err, sizeof err) < 0 ||
        eddy_config_set(cfg, "commit.interval.ms", "200", err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    const eddy_serde_t *str = eddy_serde_string(), *i64 = eddy_serde_int64();
    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *in = eddy_builder_stream_timestamped(b, "in", str, str, time_from_value, NULL);
    eddy_kstream_t *inb = eddy_builder_stream_timestamped(b, "inb", str, str, time_from_value,
                                                          NULL);
    eddy_stream_to(eddy_stream_map(eddy_table_to_stream(
                                       eddy_grouped_count(eddy_stream_group_by_key(in), "counts")),
                                   to_name, NULL),
                   "out-counts", str, i64);
    eddy_stream_to(eddy_stream_map(eddy_table_to_stream(eddy_grouped_aggregate(
                                       eddy_stream_group_by_key(in), zero, add_len, NULL, "sums")),
                                   to_name, NULL),
                   "out-sums", str, i64);
    eddy_stream_to(
        eddy_stream_map(eddy_table_to_stream(eddy_windowed_count(
                            eddy_grouped_windowed_by(eddy_stream_group_by_key(in),
                                                     eddy_windows_tumbling(10000, 3600000)),
                            "wcounts")),
                        windowed_to_name, NULL),
        "out-wcounts", str, i64);
    eddy_stream_to(eddy_stream_map(eddy_stream_join(in, inb, concat, NULL,
                                                    eddy_join_windows(3600000, 3600000)),
                                   to_name, NULL),
                   "out-join", str, str);
    app = eddy_app_new(b, cfg, err, sizeof err);
    eddy_config_destroy(cfg);
    if (!app) {
        eddy_builder_destroy(b); /* still ours: the app takes it only on success */
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (eddy_app_start(app, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        eddy_app_close(app);
        return 1;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    pthread_t qt;
    pthread_create(&qt, NULL, query_loop, NULL);
    int rc = eddy_app_wait(app);
    quit = 1;
    pthread_join(qt, NULL);
    if (rc != 0)
        fprintf(stderr, "app stopped: %s\n", eddy_strerror(rc));
    int crc = eddy_app_close(app);
    for (size_t i = 0; i < NNAMES; i++)
        free((void *)keys[i].data);
    return rc == 0 && crc == 0 ? 0 : 1;
}

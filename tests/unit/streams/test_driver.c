/* The public DSL run for real through the topology test driver
 * (include/eddy_test.h): real tasks, operators, LMDB stores, caches,
 * repartition topics with several partitions, punctuation and the store
 * queries, with no broker. Each test computes what the topology must give
 * from its own inputs (a model in the test) and compares. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/partitioner.h"
#include "include/eddy.h"
#include "include/eddy_test.h"

#define S(x) eddy_bytes((x), strlen(x))

/* A record read back, as C strings / numbers. */
typedef struct out {
    char key[96];
    char val[160];
    int key_null, val_null;
    int64_t num; /* the value as an int64 when it has 8 bytes */
    int64_t ts;
    int32_t partition;
} out_t;

static void copy_str(char *dst, size_t size, eddy_bytes_t b, int *is_null)
{
    *is_null = b.len < 0;
    size_t n = b.len < 0 ? 0 : (size_t)b.len < size - 1 ? (size_t)b.len : size - 1;
    if (n)
        memcpy(dst, b.data, n);
    dst[n] = 0;
}

/* All unread records of topic into outs (at most max): the count. */
static int read_all(eddy_test_driver_t *d, const char *topic, out_t *outs, int max)
{
    eddy_test_record_t r;
    int n = 0;
    while (eddy_test_driver_read(d, topic, &r) == 1) {
        ck_assert_int_lt(n, max);
        out_t *o = &outs[n++];
        memset(o, 0, sizeof *o);
        copy_str(o->key, sizeof o->key, r.key, &o->key_null);
        copy_str(o->val, sizeof o->val, r.value, &o->val_null);
        if (r.value.len == 8)
            eddy_int64_read(r.value, &o->num);
        o->ts = r.timestamp;
        o->partition = r.partition;
    }
    return n;
}

static eddy_test_driver_t *driver(eddy_builder_t *b, const eddy_config_t *c)
{
    char err[600] = "";
    eddy_test_driver_t *d = eddy_test_driver_new(b, c, err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    return d;
}

static void pipe_ok(eddy_test_driver_t *d, const char *topic, const char *key, const char *value,
                    int64_t ts)
{
    int rc = eddy_test_driver_pipe(d, topic, -1, key ? S(key) : EDDY_NULL_BYTES,
                                   value ? S(value) : EDDY_NULL_BYTES, ts);
    ck_assert_msg(rc == 0, "pipe %s: %s", topic, eddy_test_driver_error(d));
}

static int64_t store_int64(eddy_test_driver_t *d, const char *store, const char *key)
{
    eddy_buf_t b = {0};
    int rc = eddy_app_store_get(eddy_test_driver_app(d), store, S(key), &b);
    int64_t v = -1;
    if (rc == 0)
        ck_assert_int_eq(eddy_int64_read(eddy_buf_bytes(&b), &v), 0);
    eddy_buf_free(&b);
    return rc == 0 ? v : rc;
}

/* A store's string value (NULL when the key is absent) into buf. */
static const char *store_str(eddy_test_driver_t *d, const char *store, const char *key, char *buf,
                             size_t size)
{
    eddy_buf_t b = {0};
    int rc = eddy_app_store_get(eddy_test_driver_app(d), store, S(key), &b);
    if (rc == -ENOENT) {
        eddy_buf_free(&b);
        return NULL;
    }
    ck_assert_int_eq(rc, 0);
    int nul;
    copy_str(buf, size, eddy_buf_bytes(&b), &nul);
    eddy_buf_free(&b);
    return buf;
}

static int64_t str_num(const eddy_record_t *r)
{
    char buf[32] = "";
    size_t n = r->value.len > 0 && (size_t)r->value.len < sizeof buf ? (size_t)r->value.len : 0;
    memcpy(buf, r->value.data, n);
    return atoll(buf);
}

/* ---- stateless operators ---- */

static int is_even(const eddy_record_t *r, void *o)
{
    (void)o;
    return str_num(r) % 2 == 0;
}
static void times_ten(const eddy_record_t *r, eddy_emitter_t *e, void *o)
{
    (void)o;
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)str_num(r) * 10);
    eddy_emit_value(e, S(buf));
}
static void two_keys(const eddy_record_t *r, eddy_emitter_t *e, void *o)
{
    (void)o;
    char k[96];
    for (int i = 0; i < 2; i++) {
        snprintf(k, sizeof k, "%.*s%c", (int)r->key.len, (const char *)r->key.data, 'a' + i);
        eddy_emit(e, S(k), r->value);
    }
}
static void value_twice(const eddy_record_t *r, eddy_emitter_t *e, void *o)
{
    (void)o;
    eddy_emit_value(e, r->value);
    eddy_emit_value(e, r->value);
}
static void key_is_value(const eddy_record_t *r, eddy_emitter_t *e, void *o)
{
    (void)o;
    eddy_emit_key(e, r->value);
}
static void swap(const eddy_record_t *r, eddy_emitter_t *e, void *o)
{
    (void)o;
    eddy_emit(e, r->value, r->key);
}
static void count_action(const eddy_record_t *r, void *o)
{
    (void)r;
    (*(int *)o)++;
}
static int big(const eddy_record_t *r, void *o)
{
    (void)o;
    return str_num(r) >= 50;
}

START_TEST(stateless_operators)
{
    eddy_builder_t *b = eddy_builder_new();
    const eddy_serde_t *str = eddy_serde_string();
    eddy_kstream_t *s = eddy_builder_stream(b, "in", str, str);
    int peeked = 0, foreached = 0;
    s = eddy_stream_peek(s, count_action, &peeked);
    eddy_kstream_t *evens = eddy_stream_name(eddy_stream_filter(s, is_even, NULL), "evens");
    eddy_kstream_t *odds = eddy_stream_map_values(eddy_stream_filter_not(s, is_even, NULL),
                                                  times_ten, NULL);
    eddy_stream_to(evens, "evens", str, str);
    eddy_stream_to(odds, "odds10", str, str);
    eddy_stream_to(eddy_stream_merge(evens, odds), "merged", str, str);
    eddy_stream_to(eddy_stream_flat_map(s, two_keys, NULL), "fm", str, str);
    eddy_stream_to(eddy_stream_flat_map_values(s, value_twice, NULL), "fmv", str, str);
    eddy_stream_to(eddy_stream_select_key(s, key_is_value, NULL), "sk", str, str);
    eddy_stream_to(eddy_stream_map(s, swap, NULL), "swapped", str, str);
    eddy_stream_foreach(s, count_action, &foreached);
    eddy_branched_t *br = eddy_stream_split(s);
    eddy_stream_to(eddy_branch(br, big, NULL), "big", str, str);
    eddy_stream_to(eddy_branch_default(br), "small", str, str);
    eddy_test_driver_t *d = driver(b, NULL);
    ck_assert_int_eq(eddy_test_driver_create_topic(d, "in", 3), 0);

    enum { N = 40 };
    int nin = 0, nev = 0, nodd = 0, nbig = 0;
    for (int i = 0; i < N; i++) {
        char k[16], v[16];
        snprintf(k, sizeof k, "k%d", i % 7);
        snprintf(v, sizeof v, "%d", (i * 37) % 101);
        pipe_ok(d, "in", k, v, 1000 + i);
        nin++;
    }
    out_t o[4 * N];
    int n = read_all(d, "evens", o, 4 * N);
    for (int i = 0, j = 0; i < N; i++) {
        int v = (i * 37) % 101;
        if (v % 2)
            continue;
        ck_assert_int_lt(j, n);
        ck_assert_int_eq(atoi(o[j].val), v);
        ck_assert_int_eq(o[j].ts, 1000 + i);
        j++, nev++;
    }
    ck_assert_int_eq(n, nev);
    n = read_all(d, "odds10", o, 4 * N);
    for (int i = 0, j = 0; i < N; i++) {
        int v = (i * 37) % 101;
        if (v % 2 == 0)
            continue;
        ck_assert_int_eq(atoi(o[j].val), v * 10);
        j++, nodd++;
    }
    ck_assert_int_eq(n, nodd);
    /* merge: both, in the order they came */
    n = read_all(d, "merged", o, 4 * N);
    ck_assert_int_eq(n, N);
    for (int i = 0; i < N; i++) {
        int v = (i * 37) % 101;
        ck_assert_int_eq(atoi(o[i].val), v % 2 ? v * 10 : v);
    }
    n = read_all(d, "fm", o, 4 * N);
    ck_assert_int_eq(n, 2 * N);
    for (int i = 0; i < N; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d%c", i % 7, 'a');
        ck_assert_str_eq(o[2 * i].key, k);
        k[strlen(k) - 1] = 'b';
        ck_assert_str_eq(o[2 * i + 1].key, k);
    }
    ck_assert_int_eq(read_all(d, "fmv", o, 4 * N), 2 * N);
    n = read_all(d, "sk", o, 4 * N);
    ck_assert_int_eq(n, N);
    for (int i = 0; i < N; i++)
        ck_assert_str_eq(o[i].key, o[i].val);
    n = read_all(d, "swapped", o, 4 * N);
    ck_assert_int_eq(n, N);
    for (int i = 0; i < N; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i % 7);
        ck_assert_str_eq(o[i].val, k);
        ck_assert_int_eq(atoi(o[i].key), (i * 37) % 101);
    }
    for (int i = 0; i < N; i++)
        nbig += (i * 37) % 101 >= 50;
    ck_assert_int_eq(read_all(d, "big", o, 4 * N), nbig);
    ck_assert_int_eq(read_all(d, "small", o, 4 * N), N - nbig);
    ck_assert_int_eq(peeked, N);
    ck_assert_int_eq(foreached, N);
    eddy_app_stats_t st;
    eddy_app_stats(eddy_test_driver_app(d), &st);
    ck_assert_int_eq(st.records_processed, N);
    eddy_test_driver_destroy(d);
}
END_TEST

/* ---- word count through a repartition topic of 4 partitions ---- */

static void split_words(const eddy_record_t *r, eddy_emitter_t *e, void *o)
{
    (void)o;
    const char *p = r->value.data, *end = p + r->value.len;
    while (p < end) {
        while (p < end && *p == ' ')
            p++;
        const char *w = p;
        while (p < end && *p != ' ')
            p++;
        if (p > w)
            eddy_emit(e, eddy_bytes(w, (size_t)(p - w)), eddy_bytes(w, (size_t)(p - w)));
    }
}

typedef struct range_acc {
    int n;
    int64_t sum;
    char last[64];
    int ordered;
} range_acc_t;

static int range_fn(eddy_bytes_t key, eddy_bytes_t value, void *o)
{
    range_acc_t *a = o;
    int64_t v;
    ck_assert_int_eq(eddy_int64_read(value, &v), 0);
    a->n++;
    a->sum += v;
    (void)key;
    return 0;
}

START_TEST(wordcount_repartition_and_queries)
{
    eddy_builder_t *b = eddy_builder_new();
    const eddy_serde_t *str = eddy_serde_string();
    eddy_kstream_t *words = eddy_stream_flat_map(eddy_builder_stream(b, "lines", str, str),
                                                 split_words, NULL);
    eddy_kstream_t *rp = eddy_stream_repartition(words, "byword", 4);
    eddy_ktable_t *counts = eddy_grouped_count(eddy_stream_group_by_key(rp), "counts");
    eddy_stream_to(eddy_table_to_stream(counts), "word-counts", str, eddy_serde_int64());
    eddy_test_driver_t *d = driver(b, NULL);
    ck_assert_int_eq(eddy_test_driver_create_topic(d, "lines", 2), 0);

    static const char *const vocab[] = {"apple", "pear", "fig", "kiwi", "plum", "lime", "date"};
    enum { NV = 7, NL = 60 };
    int64_t model[NV] = {0}, total = 0;
    for (int i = 0; i < NL; i++) {
        char line[256] = "";
        int nw = 1 + i % 4;
        for (int j = 0; j < nw; j++) {
            int w = (i * 3 + j * 5) % NV;
            strcat(line, vocab[w]);
            strcat(line, " ");
            model[w]++;
            total++;
        }
        char key[16];
        snprintf(key, sizeof key, "line%d", i);
        pipe_ok(d, "lines", key, line, 5000 + i);
    }
    /* Records in the repartition topic are on the partition of their key. */
    out_t *o = calloc(4 * NL * 4, sizeof *o);
    int n = read_all(d, "eddy-test-driver-byword-repartition", o, 4 * NL * 4);
    ck_assert_int_gt(n, 0);
    int parts_seen[4] = {0};
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(o[i].partition, partitioner_key_partition(o[i].key, strlen(o[i].key), 4));
        parts_seen[o[i].partition] = 1;
    }
    ck_assert_int_ge(parts_seen[0] + parts_seen[1] + parts_seen[2] + parts_seen[3], 2);
    /* The last count emitted per word is the model's. */
    n = read_all(d, "word-counts", o, 4 * NL * 4);
    int64_t last[NV];
    for (int w = 0; w < NV; w++)
        last[w] = -1;
    for (int i = 0; i < n; i++)
        for (int w = 0; w < NV; w++)
            if (strcmp(o[i].key, vocab[w]) == 0) {
                ck_assert_int_gt(o[i].num, last[w]); /* counts only grow */
                last[w] = o[i].num;
            }
    for (int w = 0; w < NV; w++) {
        ck_assert_int_eq(last[w], model[w]);
        ck_assert_int_eq(store_int64(d, "counts", vocab[w]), model[w]);
    }
    ck_assert_int_eq(store_int64(d, "counts", "banana"), -ENOENT);
    range_acc_t acc = {0};
    ck_assert_int_eq(eddy_app_store_range(eddy_test_driver_app(d), "counts", EDDY_NULL_BYTES,
                                          EDDY_NULL_BYTES, range_fn, &acc),
                     0);
    ck_assert_int_eq(acc.n, NV);
    ck_assert_int_eq(acc.sum, total);
    /* a bounded range: keys in [fig, lime] */
    range_acc_t part = {0};
    ck_assert_int_eq(eddy_app_store_range(eddy_test_driver_app(d), "counts", S("fig"), S("lime"),
                                          range_fn, &part),
                     0);
    int64_t want = 0;
    int nwant = 0;
    for (int w = 0; w < NV; w++)
        if (strcmp(vocab[w], "fig") >= 0 && strcmp(vocab[w], "lime") <= 0)
            want += model[w], nwant++;
    ck_assert_int_eq(part.n, nwant);
    ck_assert_int_eq(part.sum, want);
    free(o);
    eddy_test_driver_destroy(d);
}
END_TEST

/* ---- grouped stream reduce and aggregate, group_by ---- */

static void first_letter(const eddy_record_t *r, eddy_emitter_t *e, void *o)
{
    (void)o;
    eddy_emit_key(e, eddy_bytes(r->key.data, 1));
}
static void to_int64(const eddy_record_t *r, eddy_emitter_t *e, void *o)
{
    (void)o;
    uint8_t v[8];
    eddy_int64_write(v, str_num(r));
    eddy_emit_value(e, eddy_bytes(v, 8));
}
static void sum(eddy_bytes_t key, eddy_bytes_t value, eddy_bytes_t agg, eddy_buf_t *out, void *o)
{
    (void)key, (void)o;
    int64_t a = 0, v = 0;
    eddy_int64_read(agg, &a);
    eddy_int64_read(value, &v);
    uint8_t b[8];
    eddy_int64_write(b, a + v);
    eddy_buf_set(out, b, 8);
}
static void agg_init(eddy_buf_t *agg, void *o)
{
    (void)o;
    eddy_mp_map_begin(agg, 2);
    eddy_mp_put_int64(agg, "n", 0);
    eddy_mp_put_int64(agg, "max", INT64_MIN);
}
static void agg_add(eddy_bytes_t key, eddy_bytes_t value, eddy_bytes_t agg, eddy_buf_t *out,
                    void *o)
{
    (void)key, (void)o;
    int64_t n = 0, max = 0, v = 0;
    eddy_mp_get_int64(agg, "n", &n);
    eddy_mp_get_int64(agg, "max", &max);
    eddy_int64_read(value, &v);
    eddy_mp_map_begin(out, 2);
    eddy_mp_put_int64(out, "n", n + 1);
    eddy_mp_put_int64(out, "max", v > max ? v : max);
}

START_TEST(grouped_reduce_aggregate)
{
    eddy_builder_t *b = eddy_builder_new();
    const eddy_serde_t *str = eddy_serde_string();
    eddy_kstream_t *nums = eddy_stream_map_values(eddy_builder_stream(b, "nums", str, str),
                                                  to_int64, NULL);
    eddy_kgrouped_stream_t *g = eddy_stream_group_by(nums, first_letter, NULL);
    eddy_ktable_t *sums = eddy_grouped_reduce(g, sum, NULL, "sums");
    eddy_ktable_t *aggs = eddy_grouped_aggregate(g, agg_init, agg_add, NULL, "aggs");
    eddy_stream_to(eddy_table_to_stream(sums), "sums-out", str, eddy_serde_int64());
    eddy_stream_to(eddy_table_to_stream(aggs), "aggs-out", str, eddy_serde_msgpack());
    eddy_test_driver_t *d = driver(b, NULL);
    ck_assert_int_eq(eddy_test_driver_create_topic(d, "nums", 3), 0);
    int64_t msum[3] = {0}, mn[3] = {0}, mmax[3] = {INT64_MIN, INT64_MIN, INT64_MIN};
    for (int i = 0; i < 45; i++) {
        char k[16], v[16];
        int g3 = (i * 7) % 3, val = (i * 13) % 29 - 5;
        snprintf(k, sizeof k, "%c%d", 'a' + g3, i);
        snprintf(v, sizeof v, "%d", val);
        pipe_ok(d, "nums", k, v, 100 + i);
        msum[g3] += val, mn[g3]++;
        if (val > mmax[g3])
            mmax[g3] = val;
    }
    for (int g3 = 0; g3 < 3; g3++) {
        char k[2] = {(char)('a' + g3), 0};
        ck_assert_int_eq(store_int64(d, "sums", k), msum[g3]);
        eddy_buf_t buf = {0};
        ck_assert_int_eq(eddy_app_store_get(eddy_test_driver_app(d), "aggs", S(k), &buf), 0);
        int64_t n = -1, max = -1;
        ck_assert_int_eq(eddy_mp_get_int64(eddy_buf_bytes(&buf), "n", &n), 0);
        ck_assert_int_eq(eddy_mp_get_int64(eddy_buf_bytes(&buf), "max", &max), 0);
        ck_assert_int_eq(n, mn[g3]);
        ck_assert_int_eq(max, mmax[g3]);
        eddy_buf_free(&buf);
    }
    out_t o[200];
    int n = read_all(d, "sums-out", o, 200);
    ck_assert_int_eq(n, 45); /* one update per record: a commit after each */
    eddy_test_driver_destroy(d);
}
END_TEST

/* ---- tables: filter, map_values, group_by with count/reduce/aggregate ---- */

static int not_banned(const eddy_record_t *r, void *o)
{
    (void)o;
    return !(r->value.len >= 6 && memcmp(r->value.data, "banned", 6) == 0);
}
static int starts_with_n(const eddy_record_t *r, void *o)
{
    (void)o;
    return r->value.len > 0 && ((const char *)r->value.data)[0] == 'n';
}
static void upper(const eddy_record_t *r, eddy_emitter_t *e, void *o)
{
    (void)o;
    char buf[128];
    size_t n = (size_t)r->value.len < sizeof buf ? (size_t)r->value.len : sizeof buf;
    for (size_t i = 0; i < n; i++) {
        char c = ((const char *)r->value.data)[i];
        buf[i] = c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
    }
    eddy_emit_value(e, eddy_bytes(buf, n));
}
/* user -> (region, 1 as int64) */
static void by_region(const eddy_record_t *r, eddy_emitter_t *e, void *o)
{
    (void)o;
    uint8_t one[8];
    eddy_int64_write(one, 1);
    eddy_emit(e, r->value, eddy_bytes(one, 8));
}
static void sub(eddy_bytes_t key, eddy_bytes_t value, eddy_bytes_t agg, eddy_buf_t *out, void *o)
{
    (void)key, (void)o;
    int64_t a = 0, v = 0;
    eddy_int64_read(agg, &a);
    eddy_int64_read(value, &v);
    uint8_t b[8];
    eddy_int64_write(b, a - v);
    eddy_buf_set(out, b, 8);
}
static void zero(eddy_buf_t *agg, void *o)
{
    (void)o;
    uint8_t b[8];
    eddy_int64_write(b, 0);
    eddy_buf_set(agg, b, 8);
}

#define NUSERS 12
static const char *const regions[] = {"north", "south", "east", "west", "banned"};

START_TEST(table_operations)
{
    eddy_builder_t *b = eddy_builder_new();
    const eddy_serde_t *str = eddy_serde_string(), *i64 = eddy_serde_int64();
    eddy_ktable_t *users = eddy_builder_table(b, "users", str, str, "users");
    eddy_ktable_t *ok = eddy_table_filter(users, not_banned, NULL);
    eddy_ktable_t *not_n = eddy_table_filter_not(users, starts_with_n, NULL);
    eddy_ktable_t *up = eddy_table_map_values(ok, upper, NULL);
    eddy_stream_to(eddy_table_to_stream(up), "users-upper", str, str);
    eddy_stream_to(eddy_table_to_stream(not_n), "users-not-n", str, str);
    eddy_kgrouped_table_t *g = eddy_table_group_by(ok, by_region, NULL);
    eddy_ktable_t *cnt = eddy_grouped_table_count(g, "region-count");
    eddy_ktable_t *red = eddy_grouped_table_reduce(g, sum, sub, NULL, "region-reduce");
    eddy_ktable_t *agg = eddy_grouped_table_aggregate(g, zero, sum, sub, NULL, "region-agg");
    eddy_stream_to(eddy_table_to_stream(cnt), "region-counts", str, i64);
    (void)red, (void)agg;
    eddy_test_driver_t *d = driver(b, NULL);
    ck_assert_int_eq(eddy_test_driver_create_topic(d, "users", 2), 0);

    int where[NUSERS]; /* region index, -1: none */
    for (int u = 0; u < NUSERS; u++)
        where[u] = -1;
    out_t o[400];
    for (int step = 0; step < 60; step++) {
        int u = (step * 5) % NUSERS, r = (step * 3 + u) % 5;
        char key[16];
        snprintf(key, sizeof key, "u%02d", u);
        int del = step % 11 == 10 && where[u] >= 0;
        pipe_ok(d, "users", key, del ? NULL : regions[r], 10 * step);
        int was = where[u];
        where[u] = del ? -1 : r;
        /* the filtered, upper-cased table's change for this user */
        int n = read_all(d, "users-upper", o, 400);
        int now_ok = where[u] >= 0 && where[u] != 4, was_ok = was >= 0 && was != 4;
        if (now_ok) {
            ck_assert_int_eq(n, 1);
            char want[16];
            snprintf(want, sizeof want, "%s", regions[where[u]]);
            for (char *c = want; *c; c++)
                *c = (char)(*c - 32);
            ck_assert_str_eq(o[0].val, want);
            ck_assert_str_eq(o[0].key, key);
        } else if (was_ok) {
            ck_assert_int_eq(n, 1); /* a tombstone: the row left the filter */
            ck_assert_int_eq(o[0].val_null, 1);
            ck_assert_str_eq(o[0].key, key);
        } else {
            ck_assert_int_eq(n, 0);
        }
        n = read_all(d, "users-not-n", o, 400);
        int now_in = where[u] >= 0 && regions[where[u]][0] != 'n';
        if (now_in) {
            ck_assert_int_eq(n, 1);
            ck_assert_str_eq(o[0].val, regions[where[u]]);
        }
    }
    /* The grouped table's aggregations: users per region, moves included. */
    for (int r = 0; r < 4; r++) {
        int64_t want = 0;
        for (int u = 0; u < NUSERS; u++)
            want += where[u] == r;
        int64_t c = store_int64(d, "region-count", regions[r]);
        ck_assert_msg(c == want || (want == 0 && (c == 0 || c == -ENOENT)),
                      "%s: count %lld, want %lld", regions[r], (long long)c, (long long)want);
        int64_t rd = store_int64(d, "region-reduce", regions[r]);
        ck_assert_msg(rd == want || (want == 0 && (rd == 0 || rd == -ENOENT)), "%s: reduce %lld",
                      regions[r], (long long)rd);
        int64_t ag = store_int64(d, "region-agg", regions[r]);
        ck_assert_msg(ag == want || (want == 0 && (ag == 0 || ag == -ENOENT)), "%s: agg %lld",
                      regions[r], (long long)ag);
    }
    ck_assert_int_eq(store_int64(d, "region-count", "banned"), -ENOENT);
    char buf[64];
    for (int u = 0; u < NUSERS; u++) {
        char key[16];
        snprintf(key, sizeof key, "u%02d", u);
        const char *v = store_str(d, "users", key, buf, sizeof buf);
        if (where[u] < 0)
            ck_assert_ptr_null(v);
        else
            ck_assert_str_eq(v, regions[where[u]]);
    }
    eddy_test_driver_destroy(d);
}
END_TEST

/* ---- table-table joins ---- */

static void join_lr(eddy_bytes_t key, eddy_bytes_t l, eddy_bytes_t r, eddy_buf_t *out, void *o)
{
    (void)key, (void)o;
    char buf[128];
    int n = snprintf(buf, sizeof buf, "%.*s|%.*s", l.len < 0 ? 4 : (int)l.len,
                     l.len < 0 ? "null" : (const char *)l.data, r.len < 0 ? 4 : (int)r.len,
                     r.len < 0 ? "null" : (const char *)r.data);
    eddy_buf_set(out, buf, (size_t)n);
}

START_TEST(table_table_joins)
{
    eddy_builder_t *b = eddy_builder_new();
    const eddy_serde_t *str = eddy_serde_string();
    eddy_ktable_t *a = eddy_builder_table(b, "ta", str, str, "ta");
    eddy_ktable_t *c = eddy_builder_table(b, "tb", str, str, "tb");
    eddy_ktable_t *inner = eddy_table_join(a, c, join_lr, NULL, "inner");
    eddy_ktable_t *left = eddy_table_left_join(a, c, join_lr, NULL, "left");
    eddy_ktable_t *outer = eddy_table_outer_join(a, c, join_lr, NULL, "outer");
    eddy_stream_to(eddy_table_to_stream(outer), "outer-out", str, str);
    (void)inner, (void)left;
    eddy_test_driver_t *d = driver(b, NULL);
    ck_assert_int_eq(eddy_test_driver_create_topic(d, "ta", 3), 0);
    ck_assert_int_eq(eddy_test_driver_create_topic(d, "tb", 3), 0);
    enum { NK = 8 };
    char av[NK][16], bv[NK][16];
    int ha[NK] = {0}, hb[NK] = {0};
    out_t o[16];
    for (int step = 0; step < 50; step++) {
        int k = (step * 3) % NK, side = (step / 2 + k) % 2, del = step % 9 == 8;
        char key[8], val[16];
        snprintf(key, sizeof key, "k%d", k);
        snprintf(val, sizeof val, "%c%d", side ? 'b' : 'a', step);
        pipe_ok(d, side ? "tb" : "ta", key, del ? NULL : val, 100 + step);
        int *h = side ? hb : ha;
        h[k] = !del;
        snprintf(side ? bv[k] : av[k], 16, "%s", val);
        /* the outer join's new value for the key */
        int n = read_all(d, "outer-out", o, 16);
        if (ha[k] || hb[k]) {
            ck_assert_int_eq(n, 1);
            char want[40];
            snprintf(want, sizeof want, "%s|%s", ha[k] ? av[k] : "null", hb[k] ? bv[k] : "null");
            ck_assert_str_eq(o[n - 1].val, want);
        }
    }
    char buf[64];
    for (int k = 0; k < NK; k++) {
        char key[8], want[40];
        snprintf(key, sizeof key, "k%d", k);
        snprintf(want, sizeof want, "%s|%s", ha[k] ? av[k] : "null", hb[k] ? bv[k] : "null");
        const char *v = store_str(d, "inner", key, buf, sizeof buf);
        if (ha[k] && hb[k])
            ck_assert_str_eq(v, want);
        else
            ck_assert_ptr_null(v);
        v = store_str(d, "left", key, buf, sizeof buf);
        if (ha[k])
            ck_assert_str_eq(v, want);
        else
            ck_assert_ptr_null(v);
        v = store_str(d, "outer", key, buf, sizeof buf);
        if (ha[k] || hb[k])
            ck_assert_str_eq(v, want);
        else
            ck_assert_ptr_null(v);
    }
    eddy_test_driver_destroy(d);
}
END_TEST

/* ---- stream-table and stream-stream joins, windowed count ---- */

START_TEST(stream_joins_and_windows)
{
    eddy_builder_t *b = eddy_builder_new();
    const eddy_serde_t *str = eddy_serde_string();
    eddy_ktable_t *prices = eddy_builder_table(b, "prices", str, str, "prices");
    eddy_kstream_t *orders = eddy_builder_stream(b, "orders", str, str);
    eddy_stream_to(eddy_stream_join_table(orders, prices, join_lr, NULL), "st-inner", str, str);
    eddy_stream_to(eddy_stream_left_join_table(orders, prices, join_lr, NULL), "st-left", str, str);
    eddy_kstream_t *clicks = eddy_builder_stream(b, "clicks", str, str);
    eddy_kstream_t *views = eddy_builder_stream(b, "views", str, str);
    eddy_join_windows_t jw = eddy_join_windows(100, 0);
    eddy_stream_to(eddy_stream_join(clicks, views, join_lr, NULL, jw), "ss-inner", str, str);
    eddy_stream_to(eddy_stream_left_join(clicks, views, join_lr, NULL, jw), "ss-left", str, str);
    eddy_stream_to(eddy_stream_outer_join(clicks, views, join_lr, NULL, jw), "ss-outer", str, str);
    eddy_kwindowed_stream_t *w = eddy_grouped_windowed_by(eddy_stream_group_by_key(clicks),
                                                          eddy_windows_tumbling(1000, 0));
    eddy_stream_to(eddy_table_to_stream(eddy_windowed_count(w, "click-windows")), "wc", NULL,
                   eddy_serde_int64());
    eddy_test_driver_t *d = driver(b, NULL);
    ck_assert_int_eq(eddy_test_driver_create_topic(d, "prices", 2), 0);
    ck_assert_int_eq(eddy_test_driver_create_topic(d, "orders", 2), 0);
    ck_assert_int_eq(eddy_test_driver_create_topic(d, "clicks", 2), 0);
    ck_assert_int_eq(eddy_test_driver_create_topic(d, "views", 2), 0);
    out_t o[64];

    /* stream-table */
    pipe_ok(d, "orders", "x", "o1", 10); /* no price yet */
    ck_assert_int_eq(read_all(d, "st-inner", o, 64), 0);
    ck_assert_int_eq(read_all(d, "st-left", o, 64), 1);
    ck_assert_str_eq(o[0].val, "o1|null");
    pipe_ok(d, "prices", "x", "p5", 20);
    pipe_ok(d, "orders", "x", "o2", 30);
    ck_assert_int_eq(read_all(d, "st-inner", o, 64), 1);
    ck_assert_str_eq(o[0].val, "o2|p5");
    ck_assert_int_eq(read_all(d, "st-left", o, 64), 1);
    ck_assert_str_eq(o[0].val, "o2|p5");

    /* stream-stream, window 100 ms: c1@1000 and v1@1050 join; c2@2000 has
     * no view within 100 ms; v2@3000 has no click */
    pipe_ok(d, "clicks", "u", "c1", 1000);
    pipe_ok(d, "views", "u", "v1", 1050);
    ck_assert_int_eq(read_all(d, "ss-inner", o, 64), 1);
    ck_assert_str_eq(o[0].val, "c1|v1");
    ck_assert_int_eq(o[0].ts, 1050); /* the larger timestamp */
    pipe_ok(d, "clicks", "u", "c2", 2000);
    pipe_ok(d, "views", "u", "v2", 3000);
    pipe_ok(d, "clicks", "u", "c3", 3500); /* moves stream time past c2's and v2's windows */
    ck_assert_int_eq(read_all(d, "ss-inner", o, 64), 0);
    int n = read_all(d, "ss-left", o, 64);
    int saw_c1v1 = 0, saw_c2 = 0;
    for (int i = 0; i < n; i++) {
        saw_c1v1 += strcmp(o[i].val, "c1|v1") == 0;
        saw_c2 += strcmp(o[i].val, "c2|null") == 0;
        ck_assert_str_ne(o[i].val, "null|v2");
    }
    ck_assert_int_eq(saw_c1v1, 1);
    ck_assert_int_eq(saw_c2, 1);
    n = read_all(d, "ss-outer", o, 64);
    int saw_v2 = 0;
    saw_c2 = 0;
    for (int i = 0; i < n; i++) {
        saw_c2 += strcmp(o[i].val, "c2|null") == 0;
        saw_v2 += strcmp(o[i].val, "null|v2") == 0;
    }
    ck_assert_int_eq(saw_c2, 1);
    ck_assert_int_eq(saw_v2, 1);

    /* tumbling 1 s windows of clicks: [1000,2000) 1, [2000,3000) 1, [3000,4000) 1 */
    pipe_ok(d, "clicks", "u", "c4", 3900);
    n = read_all(d, "wc", o, 64);
    int64_t last[5] = {0};
    for (int i = 0; i < n; i++) {
        eddy_bytes_t k;
        int64_t start, end;
        ck_assert_int_eq(eddy_windowed_key_read(eddy_bytes(o[i].key, 9), 0, &k, &start, &end), 0);
        ck_assert_int_eq(k.len, 1);
        ck_assert_int_eq(start % 1000, 0);
        last[start / 1000] = o[i].num;
    }
    ck_assert_int_eq(last[1], 1);
    ck_assert_int_eq(last[2], 1);
    ck_assert_int_eq(last[3], 2);
    eddy_test_driver_destroy(d);
}
END_TEST

/* ---- session windows with final results, hopping reduce, extractor ---- */

/* The timestamp is the value's number (the record's own is ignored). */
static int64_t ts_from_value(const eddy_record_t *r, int64_t partition_time, void *o)
{
    (void)partition_time, (void)o;
    return str_num(r);
}

START_TEST(session_suppress_hopping_reduce)
{
    eddy_builder_t *b = eddy_builder_new();
    const eddy_serde_t *str = eddy_serde_string();
    eddy_kstream_t *ev = eddy_builder_stream_timestamped(b, "ev", str, str, ts_from_value, NULL);
    eddy_kgrouped_stream_t *g = eddy_stream_group_by_key(ev);
    eddy_ktable_t *sessions =
        eddy_windowed_count(eddy_grouped_windowed_by(g, eddy_windows_session(100, 100)), "sess");
    eddy_stream_to(eddy_table_to_stream(eddy_table_suppress_until_window_closes(sessions)),
                   "sessions-final", NULL, eddy_serde_int64());
    eddy_kstream_t *nums = eddy_stream_map_values(ev, to_int64, NULL);
    eddy_ktable_t *hop = eddy_windowed_reduce(
        eddy_grouped_windowed_by(eddy_stream_group_by_key(nums), eddy_windows_hopping(100, 50, 0)),
        sum, NULL, "hop");
    eddy_stream_to(eddy_table_to_stream(hop), "hop-out", NULL, eddy_serde_int64());
    eddy_test_driver_t *d = driver(b, NULL);
    /* record timestamps (0) are not used: the extractor's are */
    static const int times[] = {10, 60, 120, 400, 10000};
    for (int i = 0; i < 5; i++) {
        char v[16];
        snprintf(v, sizeof v, "%d", times[i]);
        pipe_ok(d, "ev", "u", v, 0);
    }
    /* sessions (gap 100, grace 100): [10,120] of 3 records, [400,400] of 1;
     * [10000] still open. Each closed one is emitted once, final. The
     * first records are closer to time 0 than the gap. */
    out_t o[64];
    int n = read_all(d, "sessions-final", o, 64);
    ck_assert_int_eq(n, 2);
    eddy_bytes_t k;
    int64_t start, end;
    ck_assert_int_eq(eddy_windowed_key_read(eddy_bytes(o[0].key, 17), 1, &k, &start, &end), 0);
    ck_assert_int_eq(start, 10);
    ck_assert_int_eq(end, 120);
    ck_assert_int_eq(o[0].num, 3);
    ck_assert_int_eq(eddy_windowed_key_read(eddy_bytes(o[1].key, 17), 1, &k, &start, &end), 0);
    ck_assert_int_eq(start, 400);
    ck_assert_int_eq(end, 400);
    ck_assert_int_eq(o[1].num, 1);
    /* hopping windows of 100 every 50: the sums of the values in each */
    n = read_all(d, "hop-out", o, 64);
    int64_t want[4] = {0}, got[4] = {-1, -1, -1, -1};
    for (int i = 0; i < 3; i++)
        for (int w = 0; w < 4; w++)
            if (times[i] >= w * 50 && times[i] < w * 50 + 100)
                want[w] += times[i];
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(eddy_windowed_key_read(eddy_bytes(o[i].key, 9), 0, &k, &start, &end), 0);
        if (start / 50 < 4)
            got[start / 50] = o[i].num;
    }
    for (int w = 0; w < 4; w++) /* -1: no window (nothing in it) */
        ck_assert_int_eq(got[w], want[w] ? want[w] : -1);
    eddy_test_driver_destroy(d);
}
END_TEST

/* ---- a key change before a stream-table join: through a repartition
 * topic co-partitioned with the table ---- */

START_TEST(rekeyed_join_and_sliding)
{
    eddy_builder_t *b = eddy_builder_new();
    const eddy_serde_t *str = eddy_serde_string();
    eddy_ktable_t *names = eddy_builder_table(b, "customers", str, str, "customers");
    /* orders: order id -> customer id; joined by customer */
    eddy_kstream_t *orders = eddy_builder_stream(b, "orders", str, str);
    eddy_kstream_t *by_customer = eddy_stream_select_key(orders, key_is_value, NULL);
    eddy_stream_to(eddy_stream_join_table(by_customer, names, join_lr, NULL), "enriched", str, str);
    /* sliding windows of 100 ms over the orders per customer */
    eddy_kwindowed_stream_t *w = eddy_grouped_windowed_by(eddy_stream_group_by_key(by_customer),
                                                          eddy_windows_sliding(100, 1000));
    eddy_stream_to(eddy_table_to_stream(eddy_windowed_count(w, "sliding")), "sliding-out", NULL,
                   eddy_serde_int64());
    eddy_test_driver_t *d = driver(b, NULL);
    ck_assert_int_eq(eddy_test_driver_create_topic(d, "customers", 3), 0);
    ck_assert_int_eq(eddy_test_driver_create_topic(d, "orders", 5), 0);
    enum { NC = 9, NO = 40 };
    for (int c = 0; c < NC; c++) {
        char k[8], v[16];
        snprintf(k, sizeof k, "c%d", c);
        snprintf(v, sizeof v, "name%d", c);
        pipe_ok(d, "customers", k, v, 1);
    }
    for (int i = 0; i < NO; i++) {
        char k[8], v[8];
        snprintf(k, sizeof k, "o%d", i);
        snprintf(v, sizeof v, "c%d", (i * 4) % NC);
        pipe_ok(d, "orders", k, v, 1000 + 30 * i);
    }
    out_t *o = calloc(400, sizeof *o);
    int n = read_all(d, "enriched", o, 400);
    ck_assert_int_eq(n, NO); /* every order met its customer's partition */
    for (int i = 0; i < NO; i++) {
        char want[32];
        snprintf(want, sizeof want, "c%d|name%d", (i * 4) % NC, (i * 4) % NC);
        ck_assert_str_eq(o[i].val, want);
        ck_assert_int_eq(o[i].ts, 1000 + 30 * i);
    }
    /* sliding: the largest count of one customer's orders within 100 ms
     * (orders of one customer are 30 * 9 = 270 ms apart: always 1) */
    n = read_all(d, "sliding-out", o, 400);
    ck_assert_int_gt(n, 0);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(o[i].num, 1);
    free(o);
    eddy_test_driver_destroy(d);
}
END_TEST

/* Joined inputs with different partition counts are refused, naming both. */
START_TEST(copartitioning_checked)
{
    eddy_builder_t *b = eddy_builder_new();
    const eddy_serde_t *str = eddy_serde_string();
    eddy_ktable_t *t = eddy_builder_table(b, "t", str, str, NULL);
    eddy_stream_to(eddy_stream_join_table(eddy_builder_stream(b, "s", str, str), t, join_lr, NULL),
                   "out", str, str);
    eddy_test_driver_t *d = driver(b, NULL);
    ck_assert_int_eq(eddy_test_driver_create_topic(d, "t", 2), 0);
    ck_assert_int_eq(eddy_test_driver_create_topic(d, "s", 3), 0);
    ck_assert_int_lt(eddy_test_driver_pipe(d, "s", -1, S("k"), S("v"), 1), 0);
    ck_assert_ptr_nonnull(strstr(eddy_test_driver_error(d), "same number of partitions"));
    eddy_test_driver_destroy(d);
}
END_TEST

/* ---- a session aggregate whose sessions a record bridges (the merger),
 * a named table, and a sink serde refusing a value ---- */

START_TEST(session_merge_and_sink_serde)
{
    eddy_builder_t *b = eddy_builder_new();
    const eddy_serde_t *str = eddy_serde_string();
    eddy_kstream_t *nums = eddy_stream_map_values(eddy_builder_stream(b, "nums", str, str),
                                                  to_int64, NULL);
    eddy_ktable_t *sums = eddy_windowed_aggregate(
        eddy_grouped_windowed_by(eddy_stream_group_by_key(nums), eddy_windows_session(100, 100)),
        zero, sum, sum, NULL, "session-sums");
    sums = eddy_table_name(sums, "session-sums-node");
    eddy_stream_to(eddy_table_to_stream(sums), "sums-out", NULL, eddy_serde_int64());
    /* 4-byte values only: "12345" is not one */
    eddy_stream_to(eddy_builder_stream(b, "raw", str, str), "ints", str, eddy_serde_int32());
    char err[256];
    char *desc = eddy_builder_describe(b, err, sizeof err);
    ck_assert_ptr_nonnull(desc);
    ck_assert_ptr_nonnull(strstr(desc, "session-sums-node"));
    free(desc);
    eddy_test_driver_t *d = driver(b, NULL);
    pipe_ok(d, "nums", "u", "1", 10);
    pipe_ok(d, "nums", "u", "2", 150);
    pipe_ok(d, "nums", "u", "4", 80); /* within the gap of both: one session [10,150] */
    out_t o[32];
    int n = read_all(d, "sums-out", o, 32);
    ck_assert_int_gt(n, 0);
    eddy_bytes_t k;
    int64_t start, end;
    ck_assert_int_eq(eddy_windowed_key_read(eddy_bytes(o[n - 1].key, 17), 1, &k, &start, &end), 0);
    ck_assert_int_eq(start, 10);
    ck_assert_int_eq(end, 150);
    ck_assert_int_eq(o[n - 1].num, 1 + 2 + 4);
    /* the two sessions merged away were removed: tombstones for them */
    int tomb = 0;
    for (int i = 0; i < n; i++)
        tomb += o[i].val_null;
    ck_assert_int_eq(tomb, 2);

    uint8_t four[4];
    eddy_int32_write(four, 7);
    ck_assert_int_eq(eddy_test_driver_pipe(d, "raw", -1, S("a"), eddy_bytes(four, 4), 1), 0);
    ck_assert_int_lt(eddy_test_driver_pipe(d, "raw", -1, S("a"), S("12345"), 2), 0);
    ck_assert_ptr_nonnull(strstr(eddy_test_driver_error(d), "int32"));
    ck_assert_int_eq(read_all(d, "ints", o, 32), 1);
    int32_t v;
    ck_assert_int_eq(eddy_int32_read(eddy_bytes(o[0].val, 4), &v), 0);
    ck_assert_int_eq(v, 7);
    eddy_test_driver_destroy(d);
}
END_TEST

/* ---- a partitioner, and one that is wrong ---- */

static int32_t by_length(const char *topic, eddy_bytes_t key, eddy_bytes_t value, int32_t np,
                         void *o)
{
    (void)topic, (void)value;
    return *(int *)o ? np : key.len % np;
}

START_TEST(to_partitioned)
{
    for (int wrong = 0; wrong < 2; wrong++) {
        eddy_builder_t *b = eddy_builder_new();
        const eddy_serde_t *str = eddy_serde_string();
        eddy_stream_to_partitioned(eddy_builder_stream(b, "in", str, str), "out", str, str,
                                   by_length, &wrong);
        eddy_test_driver_t *d = driver(b, NULL);
        ck_assert_int_eq(eddy_test_driver_create_topic(d, "out", 5), 0);
        static const char *const keys[] = {"a", "bb", "ccc", "dddd", "eeeee", "ffffff", "g"};
        int rc = 0;
        for (int i = 0; i < 7 && rc == 0; i++)
            rc = eddy_test_driver_pipe(d, "in", -1, S(keys[i]), S("v"), i);
        if (wrong) {
            ck_assert_int_lt(rc, 0);
            ck_assert_ptr_nonnull(strstr(eddy_test_driver_error(d), "partitioner"));
            ck_assert_int_lt(eddy_test_driver_pipe(d, "in", -1, S("x"), S("v"), 9), 0);
        } else {
            ck_assert_int_eq(rc, 0);
            out_t o[16];
            ck_assert_int_eq(read_all(d, "out", o, 16), 7);
            for (int i = 0; i < 7; i++)
                ck_assert_int_eq(o[i].partition, (int32_t)(strlen(keys[i]) % 5));
        }
        eddy_test_driver_destroy(d);
    }
}
END_TEST

/* ---- processors, punctuation, config from a file ---- */

typedef struct proc_state {
    int64_t seen;
} proc_state_t;

static void on_stream_time(eddy_processor_context_t *ctx, int64_t ts, void *inst)
{
    char v[64];
    snprintf(v, sizeof v, "stream:%lld:%lld", (long long)ts,
             (long long)eddy_context_stream_time(ctx));
    eddy_forward(ctx, S("p"), S(v), ts);
    (void)inst;
}
static void on_wall(eddy_processor_context_t *ctx, int64_t ts, void *inst)
{
    proc_state_t *ps = inst;
    char v[64];
    snprintf(v, sizeof v, "wall:%lld", (long long)ps->seen);
    eddy_forward(ctx, S("p"), S(v), ts);
}
static void *p_init(eddy_processor_context_t *ctx, void *o)
{
    (void)o;
    eddy_schedule(ctx, 1000, EDDY_PUNCTUATE_STREAM_TIME, on_stream_time);
    eddy_schedule(ctx, 60000, EDDY_PUNCTUATE_WALL_CLOCK_TIME, on_wall);
    return calloc(1, sizeof(proc_state_t));
}
static void p_process(eddy_processor_context_t *ctx, const eddy_record_t *r, void *inst)
{
    ((proc_state_t *)inst)->seen++;
    char v[32];
    snprintf(v, sizeof v, "part%d", (int)eddy_context_partition(ctx));
    eddy_forward(ctx, r->key, S(v), r->timestamp);
}
static void p_close(void *inst, void *o)
{
    (void)o;
    free(inst);
}

START_TEST(processor_punctuation_config_file)
{
    char path[] = "/tmp/eddy-driver-cfg-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char *text = "# from a file\napplication.id=from-file\ncache.max.bytes.buffering=0\n";
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    eddy_config_t *c = eddy_config_new();
    char err[256];
    ck_assert_int_eq(eddy_config_load_file(c, path, err, sizeof err), 0);
    unlink(path);

    eddy_builder_t *b = eddy_builder_new();
    const eddy_serde_t *str = eddy_serde_string();
    eddy_processor_t p = {p_init, p_process, p_close};
    eddy_kstream_t *s = eddy_stream_process(eddy_builder_stream(b, "ev", str, str), &p, NULL);
    eddy_stream_to(s, "ev-out", str, str);
    /* through a named repartition topic, whose name carries application.id */
    eddy_stream_to(eddy_stream_repartition(eddy_builder_stream(b, "ev2", str, str), "rp", 0),
                   "ev2-out", str, str);
    eddy_test_driver_t *d = driver(b, c);
    eddy_config_destroy(c);
    /* Stream-time punctuation, as Kafka: due at the first record, then at
     * the first stream time past each next multiple of the interval (one
     * call for 1000 and 2000 both, missed ones skipped). */
    pipe_ok(d, "ev", "a", "1", 500);
    pipe_ok(d, "ev", "a", "2", 2500);
    pipe_ok(d, "ev", "a", "3", 2900);
    out_t o[16];
    int n = read_all(d, "ev-out", o, 16);
    ck_assert_int_eq(n, 5);
    ck_assert_str_eq(o[0].val, "part0");
    ck_assert_str_eq(o[1].val, "stream:500:500");
    ck_assert_str_eq(o[2].val, "part0");
    ck_assert_str_eq(o[3].val, "stream:2500:2500");
    ck_assert_str_eq(o[4].val, "part0");
    ck_assert_int_eq(eddy_test_driver_advance_wall_clock(d, 59000), 0);
    ck_assert_int_eq(read_all(d, "ev-out", o, 16), 0); /* not yet a minute */
    ck_assert_int_eq(eddy_test_driver_advance_wall_clock(d, 1000), 0);
    n = read_all(d, "ev-out", o, 16);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(o[0].val, "wall:3");
    ck_assert_int_eq(o[0].ts, eddy_test_driver_wall_clock(d));
    pipe_ok(d, "ev2", "k", "v", 1);
    ck_assert_int_eq(eddy_test_driver_unread(d, "from-file-rp-repartition"), 1);
    ck_assert_int_eq(read_all(d, "ev2-out", o, 16), 1);
    eddy_test_driver_destroy(d);
}
END_TEST

/* A failed record stops the topology with the operator's name, as the
 * default processing.exception.handler does in an app. */
static int failing(const eddy_record_t *r, void *o)
{
    (void)o;
    if (str_num(r) == 13)
        eddy_fail_record("unlucky %lld", (long long)str_num(r));
    return 1;
}

START_TEST(failure_stops)
{
    eddy_builder_t *b = eddy_builder_new();
    const eddy_serde_t *str = eddy_serde_string();
    eddy_stream_to(eddy_stream_name(eddy_stream_filter(eddy_builder_stream(b, "in", str, str),
                                                       failing, NULL),
                                    "the-filter"),
                   "out", str, str);
    eddy_test_driver_t *d = driver(b, NULL);
    pipe_ok(d, "in", "k", "12", 1);
    ck_assert_int_lt(eddy_test_driver_pipe(d, "in", -1, S("k"), S("13"), 2), 0);
    ck_assert_ptr_nonnull(strstr(eddy_test_driver_error(d), "the-filter"));
    ck_assert_ptr_nonnull(strstr(eddy_test_driver_error(d), "unlucky 13"));
    out_t o[4];
    ck_assert_int_eq(read_all(d, "out", o, 4), 1);
    eddy_test_driver_destroy(d);
}
END_TEST

/* log-and-continue: the record is skipped, counted, and sent to the
 * dead-letter topic; the topology goes on. */
START_TEST(failure_dead_letter)
{
    eddy_builder_t *b = eddy_builder_new();
    const eddy_serde_t *str = eddy_serde_string();
    eddy_stream_to(eddy_stream_filter(eddy_builder_stream(b, "in", str, str), failing, NULL), "out",
                   str, str);
    eddy_config_t *c = eddy_config_new();
    char err[256];
    ck_assert_int_eq(
        eddy_config_set(c, "processing.exception.handler", "log-and-continue", err, sizeof err), 0);
    ck_assert_int_eq(
        eddy_config_set(c, "errors.dead.letter.queue.topic.name", "dlq", err, sizeof err), 0);
    eddy_test_driver_t *d = driver(b, c);
    eddy_config_destroy(c);
    for (int i = 10; i < 16; i++) {
        char v[8];
        snprintf(v, sizeof v, "%d", i);
        pipe_ok(d, "in", "k", v, i);
    }
    out_t o[8];
    ck_assert_int_eq(read_all(d, "out", o, 8), 5);
    ck_assert_int_eq(read_all(d, "dlq", o, 8), 1);
    ck_assert_str_eq(o[0].val, "13");
    eddy_app_stats_t st;
    eddy_app_stats(eddy_test_driver_app(d), &st);
    ck_assert_int_eq(st.records_skipped, 1);
    ck_assert_int_eq(st.records_processed, 6);
    eddy_test_driver_destroy(d);
}
END_TEST

/* The example of docs/streams.md, "Testing a topology", as written there. */
START_TEST(docs_example)
{
    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *words = eddy_stream_flat_map(
        eddy_builder_stream(b, "lines", eddy_serde_string(), eddy_serde_string()), split_words,
        NULL);
    eddy_ktable_t *counts = eddy_grouped_count(eddy_stream_group_by_key(words), "counts");
    eddy_stream_to(eddy_table_to_stream(counts), "word-counts", eddy_serde_string(),
                   eddy_serde_int64());
    char err[512];
    eddy_test_driver_t *d = eddy_test_driver_new(b, NULL, err, sizeof err);
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq(eddy_test_driver_create_topic(d, "lines", 2), 0);
    ck_assert_int_eq(eddy_test_driver_pipe(d, "lines", -1, eddy_bytes("l1", 2),
                                           eddy_bytes("a b a", 5), 1000),
                     0);
    out_t o[8];
    int n = read_all(d, "word-counts", o, 8);
    ck_assert_int_eq(n, 2);
    int64_t a = -1, bb = -1;
    for (int i = 0; i < n; i++) {
        if (strcmp(o[i].key, "a") == 0)
            a = o[i].num;
        if (strcmp(o[i].key, "b") == 0)
            bb = o[i].num;
    }
    ck_assert_int_eq(a, 2);
    ck_assert_int_eq(bb, 1);
    ck_assert_int_eq(store_int64(d, "counts", "a"), 2);
    eddy_test_driver_destroy(d);
}
END_TEST

TCase *tcase_driver(void)
{
    TCase *tc = tcase_create("driver");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, stateless_operators);
    tcase_add_test(tc, wordcount_repartition_and_queries);
    tcase_add_test(tc, grouped_reduce_aggregate);
    tcase_add_test(tc, table_operations);
    tcase_add_test(tc, table_table_joins);
    tcase_add_test(tc, stream_joins_and_windows);
    tcase_add_test(tc, session_suppress_hopping_reduce);
    tcase_add_test(tc, rekeyed_join_and_sliding);
    tcase_add_test(tc, copartitioning_checked);
    tcase_add_test(tc, session_merge_and_sink_serde);
    tcase_add_test(tc, to_partitioned);
    tcase_add_test(tc, processor_punctuation_config_file);
    tcase_add_test(tc, failure_stops);
    tcase_add_test(tc, failure_dead_letter);
    tcase_add_test(tc, docs_example);
    return tc;
}

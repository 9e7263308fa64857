/* Combining counts before a repartition topic (streams/combine.c): partial
 * counts from several input partitions, drained whenever a small budget
 * fills, add up to the counts a plain count gives; null keys and values are
 * skipped as the count skips them; and the plan combines only a sink whose
 * topic nothing but a count reads. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streams/streams_int.h"

#define NWORDS 300
#define NPARTS 4

typedef struct model {
    int64_t counts[NWORDS];
    int64_t max_ts[NWORDS];
    int64_t records; /* combined records produced */
} model_t;

static int word_index(eddy_bytes_t key)
{
    char buf[32];
    ck_assert_int_lt(key.len, (int32_t)sizeof buf);
    memcpy(buf, key.data, (size_t)key.len);
    buf[key.len] = 0;
    ck_assert_msg(buf[0] == 'w', "unexpected key %s", buf);
    return atoi(buf + 1);
}

/* The count node's side: adds each partial count. */
static int add_partial(eddy_bytes_t key, int64_t count, int64_t ts, void *opaque)
{
    model_t *m = opaque;
    int w = word_index(key);
    ck_assert_int_gt(count, 0);
    m->counts[w] += count;
    if (ts > m->max_ts[w])
        m->max_ts[w] = ts;
    m->records++;
    return 0;
}

START_TEST(partial_counts_add_up)
{
    model_t direct = {{0}, {0}, 0}, combined = {{0}, {0}, 0};
    for (int i = 0; i < NWORDS; i++)
        direct.max_ts[i] = combined.max_ts[i] = -1;
    sx_combiner_t *parts[NPARTS];
    const size_t limit = 8000; /* about 55 keys: many drains */
    for (int p = 0; p < NPARTS; p++)
        ck_assert_ptr_nonnull(parts[p] = sx_combiner_new(limit));
    uint64_t x = 88172645463325252ULL;
    int drains = 0, skipped = 0;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int p = (int)(x % NPARTS);
        int w = (int)((x >> 8) % NWORDS);
        w = w * w / NWORDS; /* skewed: some keys recur within a drain */
        char kb[16];
        int kl = snprintf(kb, sizeof kb, "w%d", w);
        eddy_bytes_t key = eddy_bytes(kb, (size_t)kl);
        eddy_bytes_t value = eddy_bytes("", 0);
        int64_t ts = (int64_t)((x >> 20) % 1000000);
        if (i % 97 == 0)
            key = EDDY_NULL_BYTES;
        else if (i % 101 == 0)
            value = EDDY_NULL_BYTES;
        /* What a count does with the record itself. */
        if (key.len >= 0 && value.len >= 0) {
            direct.counts[w]++;
            if (ts > direct.max_ts[w])
                direct.max_ts[w] = ts;
        }
        int rc = sx_combiner_add(parts[p], key, value, ts);
        if (rc == SX_COMBINE_FULL) {
            ck_assert_int_eq(sx_combiner_drain(parts[p], add_partial, &combined), 0);
            ck_assert_uint_eq(sx_combiner_size(parts[p]), 0);
            drains++;
            rc = sx_combiner_add(parts[p], key, value, ts);
        }
        ck_assert_int_ge(rc, 0);
        ck_assert_int_ne(rc, SX_COMBINE_FULL);
        if (rc == 0)
            skipped++;
        ck_assert_int_eq(rc == 0, key.len < 0 || value.len < 0);
        ck_assert_uint_le(sx_combiner_bytes(parts[p]), limit);
        /* A commit now and then drains everything. */
        if (i % 50000 == 49999)
            for (int q = 0; q < NPARTS; q++)
                ck_assert_int_eq(sx_combiner_drain(parts[q], add_partial, &combined), 0);
    }
    for (int p = 0; p < NPARTS; p++) {
        ck_assert_int_eq(sx_combiner_drain(parts[p], add_partial, &combined), 0);
        sx_combiner_destroy(parts[p]);
    }
    ck_assert_int_gt(drains, 100);
    ck_assert_int_gt(skipped, 3000);
    ck_assert_int_lt(combined.records, 200000 - skipped - 20000); /* it did combine */
    for (int w = 0; w < NWORDS; w++) {
        ck_assert_msg(combined.counts[w] == direct.counts[w], "w%d: %lld combined, %lld counted", w,
                      (long long)combined.counts[w], (long long)direct.counts[w]);
        ck_assert_int_eq(combined.max_ts[w], direct.max_ts[w]);
    }
}
END_TEST

/* An empty key is a key; a table with nothing in it takes any key. */
START_TEST(empty_key_and_tiny_budget)
{
    sx_combiner_t *c = sx_combiner_new(0);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(sx_combiner_add(c, eddy_bytes("", 0), eddy_bytes("x", 1), 5), 1);
    ck_assert_int_eq(sx_combiner_add(c, eddy_bytes("", 0), eddy_bytes("x", 1), 7), 1);
    ck_assert_int_eq(sx_combiner_add(c, eddy_bytes("a", 1), eddy_bytes("x", 1), 1),
                     SX_COMBINE_FULL);
    ck_assert_uint_eq(sx_combiner_size(c), 1);
    sx_combiner_destroy(c);
}
END_TEST

/* ---- the plan ---- */

static void split_words(const eddy_record_t *r, eddy_emitter_t *out, void *opaque)
{
    (void)opaque;
    eddy_emit(out, r->value, eddy_bytes("", 0));
}

static void peek_fn(const eddy_record_t *r, void *opaque)
{
    (void)r;
    (void)opaque;
}

static void reducer(eddy_bytes_t key, eddy_bytes_t value, eddy_bytes_t agg, eddy_buf_t *out,
                    void *opaque)
{
    (void)key;
    (void)agg;
    (void)opaque;
    eddy_buf_set(out, value.data, (size_t)value.len);
}

/* Plans the topology of b with cache bytes; counts marked sinks and counts. */
static void plan(eddy_builder_t *b, int64_t cache, int *sinks, int *counts)
{
    char err[256];
    eddy_app_t app;
    memset(&app, 0, sizeof app);
    app.ap_topo = dsl_builder_finish(b, err, sizeof err);
    ck_assert_msg(app.ap_topo != NULL, "%s", err);
    app.ap_cfg.cache_max_bytes_buffering = cache;
    app.ap_cfg.application_id = "t";
    ck_assert_int_eq(sx_combine_plan(&app), 0);
    *sinks = *counts = 0;
    for (int i = 0; i < app.ap_topo->dt_nnodes; i++) {
        const dsl_node_t *n = app.ap_topo->dt_nodes[i];
        if (app.ap_combine_sink[n->dn_id]) {
            ck_assert_int_eq(n->dn_kind, DSL_SINK);
            ck_assert(n->dn_internal);
            (*sinks)++;
        }
        if (app.ap_combine_count[n->dn_id]) {
            ck_assert_int_eq(n->dn_kind, DSL_STREAM_AGGREGATE);
            ck_assert_int_eq(n->dn_agg_kind, DSL_AGG_COUNT);
            (*counts)++;
        }
    }
    sx_combine_plan_free(&app);
}

START_TEST(plan_word_count_combines)
{
    int sinks, counts;
    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *w = eddy_stream_flat_map(eddy_builder_stream(b, "in", NULL, NULL), split_words,
                                             NULL);
    eddy_stream_to(eddy_table_to_stream(eddy_grouped_count(eddy_stream_group_by_key(w), "c")),
                   "out", NULL, NULL);
    plan(b, 10 << 20, &sinks, &counts);
    ck_assert_int_eq(sinks, 1);
    ck_assert_int_eq(counts, 1);
    /* cache.max.bytes.buffering=0: every update reaches the output; the
     * count still reads combined records another instance may write. */
    plan(b, 0, &sinks, &counts);
    ck_assert_int_eq(sinks, 0);
    ck_assert_int_eq(counts, 1);
    eddy_builder_destroy(b);
}
END_TEST

START_TEST(plan_other_readers_do_not_combine)
{
    int sinks, counts;
    /* A reduce is not a count. */
    eddy_builder_t *b = eddy_builder_new();
    eddy_kstream_t *w = eddy_stream_flat_map(eddy_builder_stream(b, "in", NULL, NULL), split_words,
                                             NULL);
    eddy_grouped_reduce(eddy_stream_group_by_key(w), reducer, NULL, "r");
    plan(b, 10 << 20, &sinks, &counts);
    ck_assert_int_eq(sinks + counts, 0);
    eddy_builder_destroy(b);
    /* A user function sees the repartitioned records before the count. */
    b = eddy_builder_new();
    w = eddy_stream_flat_map(eddy_builder_stream(b, "in", NULL, NULL), split_words, NULL);
    eddy_kstream_t *r = eddy_stream_peek(eddy_stream_repartition(w, "rp", 0), peek_fn, NULL);
    eddy_grouped_count(eddy_stream_group_by_key(r), "c");
    plan(b, 10 << 20, &sinks, &counts);
    ck_assert_int_eq(sinks + counts, 0);
    eddy_builder_destroy(b);
    /* The repartitioned stream also goes elsewhere. */
    b = eddy_builder_new();
    w = eddy_stream_flat_map(eddy_builder_stream(b, "in", NULL, NULL), split_words, NULL);
    r = eddy_stream_repartition(w, "rp", 0);
    eddy_grouped_count(eddy_stream_group_by_key(r), "c");
    eddy_stream_to(r, "copy", NULL, NULL);
    plan(b, 10 << 20, &sinks, &counts);
    ck_assert_int_eq(sinks + counts, 0);
    eddy_builder_destroy(b);
}
END_TEST

TCase *tcase_combine(void)
{
    TCase *tc = tcase_create("combine");
    tcase_add_test(tc, partial_counts_add_up);
    tcase_add_test(tc, empty_key_and_tiny_budget);
    tcase_add_test(tc, plan_word_count_combines);
    tcase_add_test(tc, plan_other_readers_do_not_combine);
    return tc;
}

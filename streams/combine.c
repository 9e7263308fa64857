/* Combining counts before a repartition topic.
 *
 * A word count (flat_map changing the key, then group_by_key + count)
 * sends every word through a repartition topic, one record each. When the
 * count is the only thing that reads that topic, the sink can add up the
 * records of a key itself and send one record per key and flush: the
 * count then adds the partial count instead of 1. Final counts are the
 * same; fewer intermediate updates reach the output, as with any cache.
 *
 * The plan (sx_combine_plan, at app creation, after dsl_builder_finish). A
 * repartition sink S combines when all of these hold:
 *   - cache.max.bytes.buffering > 0 (with 0 every update must reach the
 *     output, as with no cache: no combining);
 *   - S is an internal sink with no partitioner (the partition is then a
 *     function of the key alone, so a key's partial counts all go to the
 *     partition its records would have gone to), and no other sink writes
 *     its topic;
 *   - exactly one source reads the topic, and it reads nothing else;
 *   - from that source to a DSL_STREAM_AGGREGATE with DSL_AGG_COUNT, every
 *     node has one parent and one child and is a pass-through (DSL_MERGE,
 *     or the repartition's own DSL_FILTER with dsl_pred_always): no user
 *     function sees the records in between. The count node is marked too.
 * Windowed counts are other node kinds (and must never combine: the
 * windows of combined records would be those of their largest timestamp).
 *
 * The sink's side. Per (stream thread, sink) a combiner: a hash table from
 * key to a partial count and the largest timestamp seen, drained in table
 * order. The thread's tasks of the sub-topology share it (one table, not
 * one per task: the table is the hot path's cache miss, and a key's counts
 * from the thread's input partitions leave as one record); the thread
 * commits its tasks together, so the combined records are always covered
 * by the commit that follows.
 * Records with a null key or a null value are dropped there, exactly as
 * the count node drops them (it never counts them). A combiner holds at
 * most its byte budget (three table slots per key, and a long key's bytes:
 * sx_combiner_add); a new key that does not fit drains the table first.
 * Budget: the thread's share of cache.max.bytes.buffering split evenly over
 * its active tasks' stores and combining sinks (combine_limit). The
 * combiners are drained every tick of the thread (~100 ms,
 * sx_combine_tick) and at every commit, after the stores' flush and before
 * the producer flush (thread.c, commit_start), so the combined records are
 * acknowledged before input offsets are committed (at-least-once). Tasks
 * closed without a commit (lost in a rebalance, a failed thread) take the
 * combiners with them (sx_combine_drop); their inputs are read again.
 *
 * The record. Key: the key; value: the partial count, an 8-byte big-endian
 * int64; timestamp: the largest input timestamp; one header,
 * SX_COMBINE_HEADER (no value). The marked count node adds the value of a
 * record that carries the header and 1 for any other record, so records
 * written by an older version (or with combining off) still count right.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "streams/streams_int.h"
#include "wire/recordbatch.h"

#define SX_COMBINE_HEADER "eddy.combined-count"

/* ---- the combiner ---- */

/* One open-addressing table (linear probing, at most 3/4 full) of slots
 * that hold the hash, the partial count, the largest timestamp and keys of
 * up to CB_INLINE bytes themselves: a lookup of a short key touches one
 * slot (the table of a word count falls out of the CPU caches between
 * records, as the input streams through; a separate index, entry array and
 * key arena cost three misses). Longer keys live in cb_keys. */
#define CB_INLINE 16

typedef struct cb_slot {
    uint64_t cs_hash; /* 0: empty (a hash of 0 is stored as 1) */
    int64_t cs_count;
    int64_t cs_ts;
    uint32_t cs_klen;
    uint32_t cs_off; /* in cb_keys, when cs_klen > CB_INLINE */
    uint8_t cs_key[CB_INLINE];
} cb_slot_t;

struct sx_combiner {
    size_t cb_limit;
    size_t cb_bytes;
    cb_slot_t *cb_slots;
    size_t cb_cap; /* a power of 2, at least 4/3 of cb_n */
    size_t cb_n;
    uint8_t *cb_keys;
    size_t cb_keys_len, cb_keys_cap;
};

/* Bytes an entry counts against the budget: three slots (the table is at
 * most 3/4 full, so at least 3/8 full after it doubled) and a long key. */
#define CB_ENTRY_BYTES(klen) (3 * sizeof(cb_slot_t) + ((klen) > CB_INLINE ? (klen) : 0))

sx_combiner_t *sx_combiner_new(size_t limit_bytes)
{
    sx_combiner_t *c = calloc(1, sizeof *c);
    if (c)
        c->cb_limit = limit_bytes;
    return c;
}

void sx_combiner_destroy(sx_combiner_t *c)
{
    if (!c)
        return;
    free(c->cb_slots);
    free(c->cb_keys);
    free(c);
}

void sx_combiner_set_limit(sx_combiner_t *c, size_t limit_bytes)
{
    c->cb_limit = limit_bytes;
}

size_t sx_combiner_size(const sx_combiner_t *c)
{
    return c->cb_n;
}

size_t sx_combiner_bytes(const sx_combiner_t *c)
{
    return c->cb_bytes;
}

/* 8 bytes at a time (words are short: a byte-wise hash showed in profiles). */
static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 31;
    }
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++)
        w |= (uint64_t)p[i] << (8 * i);
    h = (h ^ w) * 0x94d049bb133111ebULL;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 32;
    return h ? h : 1;
}

static const uint8_t *slot_key(const sx_combiner_t *c, const cb_slot_t *sl)
{
    return sl->cs_klen <= CB_INLINE ? sl->cs_key : c->cb_keys + sl->cs_off;
}

static int grow(sx_combiner_t *c)
{
    size_t cap = c->cb_cap ? c->cb_cap * 2 : 256;
    cb_slot_t *ns = calloc(cap, sizeof *ns);
    if (!ns)
        return -ENOMEM;
    for (size_t i = 0; i < c->cb_cap; i++) {
        if (!c->cb_slots[i].cs_hash)
            continue;
        size_t s = (size_t)c->cb_slots[i].cs_hash & (cap - 1);
        while (ns[s].cs_hash)
            s = (s + 1) & (cap - 1);
        ns[s] = c->cb_slots[i];
    }
    free(c->cb_slots);
    c->cb_slots = ns;
    c->cb_cap = cap;
    return 0;
}

int sx_combiner_add(sx_combiner_t *c, eddy_bytes_t key, eddy_bytes_t value, int64_t ts)
{
    if (key.len < 0 || value.len < 0)
        return 0; /* the count skips them too */
    size_t klen = (size_t)key.len;
    uint64_t h = hash_bytes(key.data, klen);
    size_t s = 0;
    if (c->cb_cap) {
        size_t mask = c->cb_cap - 1;
        for (s = (size_t)h & mask; c->cb_slots[s].cs_hash; s = (s + 1) & mask) {
            cb_slot_t *sl = &c->cb_slots[s];
            if (sl->cs_hash == h && sl->cs_klen == klen &&
                (klen == 0 || memcmp(slot_key(c, sl), key.data, klen) == 0)) {
                sl->cs_count++;
                if (ts > sl->cs_ts)
                    sl->cs_ts = ts;
                return 1;
            }
        }
    }
    if (c->cb_n > 0 && c->cb_bytes + CB_ENTRY_BYTES(klen) > c->cb_limit)
        return SX_COMBINE_FULL;
    if (klen > CB_INLINE && c->cb_keys_len + klen > UINT32_MAX)
        return SX_COMBINE_FULL;
    if ((c->cb_n + 1) * 4 > c->cb_cap * 3) {
        if (grow(c) < 0)
            return -ENOMEM;
        size_t mask = c->cb_cap - 1;
        for (s = (size_t)h & mask; c->cb_slots[s].cs_hash; s = (s + 1) & mask)
            ;
    }
    cb_slot_t *sl = &c->cb_slots[s];
    if (klen > CB_INLINE) {
        if (c->cb_keys_len + klen > c->cb_keys_cap) {
            size_t cap = c->cb_keys_cap ? c->cb_keys_cap : 4096;
            while (cap < c->cb_keys_len + klen)
                cap *= 2;
            uint8_t *nk = realloc(c->cb_keys, cap);
            if (!nk)
                return -ENOMEM;
            c->cb_keys = nk;
            c->cb_keys_cap = cap;
        }
        memcpy(c->cb_keys + c->cb_keys_len, key.data, klen);
        sl->cs_off = (uint32_t)c->cb_keys_len;
        c->cb_keys_len += klen;
    } else if (klen) {
        memcpy(sl->cs_key, key.data, klen);
    }
    sl->cs_hash = h;
    sl->cs_count = 1;
    sl->cs_ts = ts;
    sl->cs_klen = (uint32_t)klen;
    c->cb_n++;
    c->cb_bytes += CB_ENTRY_BYTES(klen);
    return 1;
}

int sx_combiner_drain(sx_combiner_t *c, sx_combine_emit_fn *fn, void *opaque)
{
    int rc = 0;
    for (size_t i = 0; i < c->cb_cap && c->cb_n; i++) {
        cb_slot_t *sl = &c->cb_slots[i];
        if (!sl->cs_hash)
            continue;
        if (rc >= 0)
            rc = fn(eddy_bytes(slot_key(c, sl), sl->cs_klen), sl->cs_count, sl->cs_ts, opaque);
        sl->cs_hash = 0;
        c->cb_n--;
    }
    c->cb_n = 0;
    c->cb_keys_len = 0;
    c->cb_bytes = 0;
    return rc < 0 ? rc : 0;
}

/* ---- the plan ---- */

static int is_pass_through(const dsl_node_t *n)
{
    return n->dn_kind == DSL_MERGE ||
           (n->dn_kind == DSL_FILTER && n->dn_pred == dsl_pred_always && !n->dn_negate);
}

/* The count node that is the only consumer of internal topic, or NULL. */
static const dsl_node_t *sole_count_of(const dsl_topology_t *t, const char *topic)
{
    const dsl_node_t *src = NULL;
    for (int i = 0; i < t->dt_nnodes; i++) {
        const dsl_node_t *n = t->dt_nodes[i];
        if (n->dn_kind != DSL_SOURCE)
            continue;
        for (int j = 0; j < n->dn_ntopics; j++) {
            if (strcmp(n->dn_topics[j], topic) != 0)
                continue;
            if (src || !n->dn_internal || n->dn_ntopics != 1)
                return NULL; /* a second reader, or a reader of more */
            src = n;
        }
    }
    const dsl_node_t *cur = src;
    while (cur && cur->dn_nchildren == 1) {
        const dsl_node_t *c = cur->dn_children[0];
        if (c->dn_nparents != 1)
            return NULL;
        if (c->dn_kind == DSL_STREAM_AGGREGATE)
            return c->dn_agg_kind == DSL_AGG_COUNT ? c : NULL;
        if (!is_pass_through(c))
            return NULL;
        cur = c;
    }
    return NULL;
}

int sx_combine_plan(eddy_app_t *app)
{
    const dsl_topology_t *t = app->ap_topo;
    app->ap_combine_sink = calloc((size_t)t->dt_nnodes + 1, 1);
    app->ap_combine_count = calloc((size_t)t->dt_nnodes + 1, 1);
    if (!app->ap_combine_sink || !app->ap_combine_count)
        return -ENOMEM;
    for (int i = 0; i < t->dt_nnodes; i++) {
        const dsl_node_t *s = t->dt_nodes[i];
        if (s->dn_kind != DSL_SINK || !s->dn_internal || s->dn_partitioner || s->dn_ntopics != 1)
            continue;
        int writers = 0;
        for (int j = 0; j < t->dt_nnodes; j++) {
            const dsl_node_t *o = t->dt_nodes[j];
            if (o->dn_kind == DSL_SINK && o->dn_ntopics >= 1 &&
                strcmp(o->dn_topics[0], s->dn_topics[0]) == 0)
                writers++;
        }
        const dsl_node_t *cnt = writers == 1 ? sole_count_of(t, s->dn_topics[0]) : NULL;
        if (!cnt)
            continue;
        /* The count honours combined records whatever this instance's
         * cache: another instance of the app may combine. */
        app->ap_combine_count[cnt->dn_id] = 1;
        if (app->ap_cfg.cache_max_bytes_buffering <= 0)
            continue;
        app->ap_combine_sink[s->dn_id] = 1;
        EDDY_LOG_INFO("streams", "%s combines counts before %s-%s (read only by %s)", s->dn_name,
                      app->ap_cfg.application_id, s->dn_topics[0], cnt->dn_name);
    }
    return 0;
}

void sx_combine_plan_free(eddy_app_t *app)
{
    free(app->ap_combine_sink);
    free(app->ap_combine_count);
    app->ap_combine_sink = app->ap_combine_count = NULL;
}

/* ---- the runtime ---- */

typedef struct emit_ctx {
    sx_thread_t *ec_thread;
    const char *ec_topic;
} emit_ctx_t;

static int emit_record(eddy_bytes_t key, int64_t count, int64_t ts, void *opaque)
{
    emit_ctx_t *ec = opaque;
    sx_thread_t *th = ec->ec_thread;
    uint8_t v[8];
    eddy_int64_write(v, count);
    wire_header_t hd = {(const uint8_t *)SX_COMBINE_HEADER, (int32_t)strlen(SX_COMBINE_HEADER),
                        NULL, -1};
    kc_record_t rec = {key.data, key.len, v, 8, ts, &hd, 1, NULL, NULL};
    return sx_collector_send_raw(&th->th_collector, ec->ec_topic, -1, &rec);
}

static int drain(sx_thread_t *th, int node_id)
{
    emit_ctx_t ec = {th, th->th_app->ap_node_topics[node_id]};
    return sx_combiner_drain(th->th_combiners[node_id], emit_record, &ec);
}

/* The budget of each combiner of th: the thread's share of
 * cache.max.bytes.buffering split evenly over its active tasks' stores and
 * its combiners (thread.c's update_cache_limits counts the combiners too
 * when it gives the stores their share). */
static size_t combine_limit(const sx_thread_t *th)
{
    int n = 0;
    for (int i = 0; i < th->th_ntasks; i++)
        if (!th->th_tasks[i]->tk_standby)
            n += th->th_tasks[i]->tk_nstores + sx_combine_task_sinks(th->th_tasks[i]);
    if (n == 0)
        return 0;
    return (size_t)(th->th_app->ap_cfg.cache_max_bytes_buffering / th->th_app->ap_nthreads / n);
}

int sx_combine_sink(sx_task_t *tk, const dsl_node_t *n, eddy_bytes_t key, eddy_bytes_t value,
                    int64_t ts)
{
    sx_thread_t *th = tk->tk_thread;
    if (!th->th_combiners) {
        int nn = th->th_app->ap_topo->dt_nnodes;
        if (!(th->th_combiners = calloc((size_t)nn, sizeof *th->th_combiners)))
            return -ENOMEM;
        th->th_ncombiners = nn;
    }
    sx_combiner_t *c = th->th_combiners[n->dn_id];
    if (!c && !(c = th->th_combiners[n->dn_id] = sx_combiner_new(combine_limit(th))))
        return -ENOMEM;
    int rc = sx_combiner_add(c, key, value, ts);
    if (rc == SX_COMBINE_FULL) {
        if ((rc = drain(th, n->dn_id)) < 0)
            return rc;
        rc = sx_combiner_add(c, key, value, ts);
    }
    return rc < 0 ? rc : 0;
}

int sx_combine_flush(sx_thread_t *th)
{
    for (int i = 0; i < th->th_ncombiners; i++) {
        if (!th->th_combiners[i])
            continue;
        int rc = drain(th, i);
        if (rc < 0)
            return rc;
    }
    return 0;
}

void sx_combine_tick(sx_thread_t *th)
{
    /* Every tick, not only at commits: a key's partial count waits at most
     * ~100 ms, about what linger.ms adds anyway. The budgets follow the
     * thread's tasks as they come and go. */
    if (!th->th_combiners || th->th_error)
        return;
    size_t limit = combine_limit(th);
    for (int j = 0; j < th->th_ncombiners; j++)
        if (th->th_combiners[j])
            sx_combiner_set_limit(th->th_combiners[j], limit);
    int rc = sx_combine_flush(th);
    if (rc < 0)
        sx_thread_fail(th, rc, "producing combined counts failed: %s", eddy_strerror(rc));
}

int sx_combine_task_sinks(const sx_task_t *tk)
{
    /* The thread has one combiner per sink: count them at the thread's
     * first active task of the sub-topology only. */
    const sx_thread_t *th = tk->tk_thread;
    for (int i = 0; i < th->th_ntasks && th->th_tasks[i] != tk; i++)
        if (!th->th_tasks[i]->tk_standby && th->th_tasks[i]->tk_sub == tk->tk_sub)
            return 0;
    const eddy_app_t *app = th->th_app;
    int n = 0;
    for (int i = 0; app->ap_combine_sink && i < tk->tk_sub->st_nnodes; i++)
        n += app->ap_combine_sink[tk->tk_sub->st_nodes[i]->dn_id];
    return n;
}

void sx_combine_drop(sx_thread_t *th)
{
    for (int i = 0; i < th->th_ncombiners; i++)
        sx_combiner_destroy(th->th_combiners[i]);
    free(th->th_combiners);
    th->th_combiners = NULL;
    th->th_ncombiners = 0;
}

int sx_combine_is_combined(const kc_message_t *m)
{
    if (m->msg_header_count != 1)
        return 0;
    eddy_rd_t rd;
    rd_init(&rd, m->msg_headers, m->msg_headers_len);
    wire_header_t h;
    return wire_header_next(&rd, &h) == 1 && h.keyLength == (int32_t)strlen(SX_COMBINE_HEADER) &&
           memcmp(h.key, SX_COMBINE_HEADER, strlen(SX_COMBINE_HEADER)) == 0;
}

int64_t sx_combine_increment(const sx_task_t *tk, const dsl_node_t *count, eddy_bytes_t value)
{
    int64_t x;
    if (tk->tk_cur_combined && tk->tk_thread->th_app->ap_combine_count &&
        tk->tk_thread->th_app->ap_combine_count[count->dn_id] && value.len == 8 &&
        eddy_int64_read(value, &x) == 0)
        return x;
    return 1;
}

/* The topology test driver (include/eddy_test.h).
 *
 * One stream thread's worth of tasks, run in the caller's thread: every
 * task of every sub-topology is open, active and running. Only the
 * transport is replaced: the thread's transport hook (th_transport, used by the collector)
 * writes records into in-memory topics and acknowledges them at once, and
 * the driver hands the records of the topics the app reads to their tasks
 * (sx_task_process), as the consumer would. The commit is the thread's
 * sequence without the broker: flush the stores' caches and the combined
 * counts, feed what that produced back in, then commit each task's state.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/partitioner.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "include/eddy_test.h"
#include "streams/collector.h"
#include "streams/streams_int.h"

typedef struct td_rec {
    uint8_t *r_key, *r_value, *r_headers; /* one allocation, r_key first */
    int32_t r_key_len, r_value_len, r_header_count;
    size_t r_headers_len;
    int64_t r_ts;
} td_rec_t;

typedef struct td_part {
    td_rec_t *p_recs;
    int64_t p_n, p_cap;
    int64_t p_consumed; /* the next offset the app reads (topics it reads) */
} td_part_t;

typedef struct td_pos {
    int32_t po_partition;
    int64_t po_offset;
} td_pos_t;

typedef struct td_topic {
    char *t_name;
    int32_t t_np;
    td_part_t *t_parts;
    /* Every record in the order written, for eddy_test_driver_read. */
    td_pos_t *t_order;
    int64_t t_norder, t_ocap, t_read;
} td_topic_t;

struct eddy_test_driver {
    eddy_app_t *d_app;
    sx_thread_t d_th;
    uv_loop_t d_loop;
    int d_started, d_loop_ok;
    int d_err;
    char d_errstr[700];
    char d_state_dir[4096];
    int64_t d_wall;
    int32_t d_rr; /* null keys: round robin */
    td_topic_t *d_topics;
    int d_ntopics;
};

static td_topic_t *find_topic(const eddy_test_driver_t *d, const char *name)
{
    for (int i = 0; i < d->d_ntopics; i++)
        if (strcmp(d->d_topics[i].t_name, name) == 0)
            return &d->d_topics[i];
    return NULL;
}

static td_topic_t *add_topic(eddy_test_driver_t *d, const char *name, int32_t np)
{
    td_topic_t *nt = realloc(d->d_topics, (size_t)(d->d_ntopics + 1) * sizeof *nt);
    if (!nt)
        return NULL;
    d->d_topics = nt;
    td_topic_t *t = &nt[d->d_ntopics];
    memset(t, 0, sizeof *t);
    t->t_np = np;
    if (!(t->t_name = strdup(name)) || !(t->t_parts = calloc((size_t)np, sizeof *t->t_parts))) {
        free(t->t_name);
        return NULL;
    }
    d->d_ntopics++;
    return t;
}

/* Appends a record (copied): its offset, or -ENOMEM. */
static int64_t append(eddy_test_driver_t *d, td_topic_t *t, int32_t part, const kc_record_t *rec)
{
    td_part_t *p = &t->t_parts[part];
    if (p->p_n == p->p_cap) {
        int64_t cap = p->p_cap ? p->p_cap * 2 : 16;
        td_rec_t *nr = realloc(p->p_recs, (size_t)cap * sizeof *nr);
        if (!nr)
            return -ENOMEM;
        p->p_recs = nr;
        p->p_cap = cap;
    }
    if (t->t_norder == t->t_ocap) {
        int64_t cap = t->t_ocap ? t->t_ocap * 2 : 16;
        td_pos_t *no = realloc(t->t_order, (size_t)cap * sizeof *no);
        if (!no)
            return -ENOMEM;
        t->t_order = no;
        t->t_ocap = cap;
    }
    /* Headers as the wire carries them (what kc_message_t holds). */
    eddy_wr_t hw;
    wr_init(&hw);
    for (int i = 0; i < rec->rec_nheaders; i++) {
        const wire_header_t *h = &rec->rec_headers[i];
        wr_varint(&hw, h->keyLength);
        if (h->keyLength > 0)
            wr_bytes(&hw, h->key, (size_t)h->keyLength);
        wr_varint(&hw, h->valueLength);
        if (h->valueLength > 0)
            wr_bytes(&hw, h->value, (size_t)h->valueLength);
    }
    if (hw.wr_err) {
        wr_free(&hw);
        return -ENOMEM;
    }
    size_t kl = rec->rec_key_len > 0 ? (size_t)rec->rec_key_len : 0;
    size_t vl = rec->rec_value_len > 0 ? (size_t)rec->rec_value_len : 0;
    uint8_t *mem = malloc(kl + vl + hw.wr_len + 1);
    if (!mem) {
        wr_free(&hw);
        return -ENOMEM;
    }
    td_rec_t *r = &p->p_recs[p->p_n];
    r->r_key = mem;
    r->r_value = mem + kl;
    r->r_headers = mem + kl + vl;
    if (kl)
        memcpy(r->r_key, rec->rec_key, kl);
    if (vl)
        memcpy(r->r_value, rec->rec_value, vl);
    if (hw.wr_len)
        memcpy(r->r_headers, hw.wr_buf, hw.wr_len);
    r->r_key_len = rec->rec_key_len < 0 ? -1 : rec->rec_key_len;
    r->r_value_len = rec->rec_value_len < 0 ? -1 : rec->rec_value_len;
    r->r_headers_len = hw.wr_len;
    r->r_header_count = rec->rec_nheaders;
    r->r_ts = rec->rec_timestamp < 0 ? d->d_wall : rec->rec_timestamp;
    wr_free(&hw);
    t->t_order[t->t_norder++] = (td_pos_t){part, p->p_n};
    return p->p_n++;
}

/* Kafka's default partitioner (murmur2 of the key; null keys spread). */
static int32_t default_partition(eddy_test_driver_t *d, const void *key, int32_t key_len,
                                 int32_t np)
{
    if (key_len < 0)
        return d->d_rr++ % np;
    return partitioner_key_partition(key ? key : "", (size_t)key_len, np);
}

/* The thread's transport (sx_transport_fn): what the producer would send. */
static int transport(sx_thread_t *th, const char *topic, int32_t *partition, const kc_record_t *rec,
                     int64_t *offset)
{
    eddy_test_driver_t *d = th->th_transport_opaque;
    if (kc_record_size(rec) > kc_config(th->th_client)->max_request_size)
        return EDDY_ERR_TOO_LARGE;
    td_topic_t *t = find_topic(d, topic);
    if (!t && !(t = add_topic(d, topic, 1))) /* a topic the broker creates: 1 partition */
        return -ENOMEM;
    int32_t part = *partition;
    if (part < 0)
        part = rec->rec_partitioner ? rec->rec_partitioner(th->th_collector.co_producer, topic, rec,
                                                           t->t_np, rec->rec_partitioner_opaque)
                                    : default_partition(d, rec->rec_key, rec->rec_key_len, t->t_np);
    if (part < 0 || part >= t->t_np)
        return -EINVAL;
    int64_t off = append(d, t, part, rec);
    if (off < 0)
        return (int)off;
    *partition = part;
    *offset = off;
    return 0;
}

static int32_t topic_partitions(const char *topic, void *opaque)
{
    const td_topic_t *t = find_topic(opaque, topic);
    return t ? t->t_np : 1; /* undeclared: one partition, as Kafka's driver */
}

static sx_task_t *find_task(sx_thread_t *th, int32_t sub, int32_t partition)
{
    for (int i = 0; i < th->th_ntasks; i++)
        if (th->th_tasks[i]->tk_id.ti_subtopology == sub &&
            th->th_tasks[i]->tk_id.ti_partition == partition)
            return th->th_tasks[i];
    return NULL;
}

static int fail(eddy_test_driver_t *d, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(eddy_test_driver_t *d, int err, const char *fmt, ...)
{
    if (d->d_err)
        return d->d_err;
    d->d_err = err < 0 ? err : EDDY_ERR_INVALID_ARG;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->d_errstr, sizeof d->d_errstr, fmt, ap);
    va_end(ap);
    return d->d_err;
}

/* The thread stopped (sx_thread_fail): the driver stops with its error. */
static int thread_error(eddy_test_driver_t *d)
{
    if (d->d_th.th_error && !d->d_err)
        fail(d, d->d_th.th_error, "%s", d->d_th.th_errstr);
    return d->d_err;
}

static void noop_async(uv_async_t *a)
{
    (void)a;
}

/* The thread's clients exist for what tasks read from them (the producer's
 * max.request.size, the partitioner's producer); they never connect. */
static int thread_init(eddy_test_driver_t *d, char *errstr, size_t errstr_size)
{
    eddy_app_t *app = d->d_app;
    sx_thread_t *th = &d->d_th;
    th->th_app = app;
    snprintf(th->th_name, sizeof th->th_name, "%s-StreamThread-1", app->ap_cfg.application_id);
    if (uv_loop_init(&d->d_loop) < 0) {
        snprintf(errstr, errstr_size, "cannot make an event loop");
        return -ENOMEM;
    }
    d->d_loop_ok = 1;
    uv_async_init(&d->d_loop, &th->th_async, noop_async); /* eddy_app_stop sends to it */
    eddy_props_t ps;
    eddy_props_init(&ps);
    char kv[1024];
    snprintf(kv, sizeof kv, "bootstrap.servers=%s", app->ap_cfg.bootstrap_servers);
    int rc = eddy_props_set(&ps, "streams", kv, errstr, errstr_size);
    const eddy_props_t *cp = &app->ap_cfg.client_props;
    for (size_t i = 0; rc == 0 && i < cp->ps_count; i++)
        if (strncmp(cp->ps_items[i].pr_key, "producer.", 9) == 0) {
            snprintf(kv, sizeof kv, "%s=%s", cp->ps_items[i].pr_key + 9, cp->ps_items[i].pr_value);
            rc = eddy_props_set(&ps, cp->ps_items[i].pr_source, kv, errstr, errstr_size);
        }
    if (rc == 0)
        rc = kc_config_load(&th->th_main_cfg, &ps, errstr, errstr_size);
    eddy_props_free(&ps);
    if (rc < 0)
        return rc;
    if (!(th->th_client = kc_client_new(&d->d_loop, &th->th_main_cfg, errstr, errstr_size)))
        return EDDY_ERR_CONFIG;
    if (sx_collector_init(&th->th_collector, th, th->th_client) < 0) {
        snprintf(errstr, errstr_size, "out of memory");
        return -ENOMEM;
    }
    th->th_transport = transport;
    th->th_transport_opaque = d;
    th->th_wall_clock = &d->d_wall;
    app->ap_threads = th;
    app->ap_nthreads = 1;
    return 0;
}

/* eddy_app_start's steps, with in-memory topics, then every task. */
static int start(eddy_test_driver_t *d)
{
    if (d->d_started)
        return d->d_err;
    d->d_started = 1;
    eddy_app_t *app = d->d_app;
    const dsl_topology_t *t = app->ap_topo;
    char err[600];
    int rc = sx_app_prepare_state_dir(app, err, sizeof err);
    if (rc < 0)
        return fail(d, rc, "%s", err);
    int32_t *internal = calloc((size_t)t->dt_ninternal_topics + 1, sizeof *internal);
    app->ap_task_counts = calloc((size_t)t->dt_nsubtopologies + 1, sizeof(int32_t));
    if (!internal || !app->ap_task_counts) {
        free(internal);
        return fail(d, -ENOMEM, "out of memory");
    }
    /* Inputs: declared, else one partition. Joined ones co-partitioned. */
    for (int i = 0; i < t->dt_nnodes; i++) {
        const dsl_node_t *n = t->dt_nodes[i];
        for (int j = 0; n->dn_kind == DSL_SOURCE && !n->dn_internal && j < n->dn_ntopics; j++)
            if (!find_topic(d, n->dn_topics[j]) && !add_topic(d, n->dn_topics[j], 1))
                rc = -ENOMEM;
    }
    if (rc == 0 && (rc = sx_app_check_copartitioned(app, topic_partitions, d, err, sizeof err)) < 0)
        fail(d, rc, "%s", err);
    if (rc == 0 &&
        (rc = sx_app_size_tasks(app, topic_partitions, d, internal, err, sizeof err)) < 0)
        fail(d, rc, "%s", err);
    for (int k = 0; rc == 0 && k < t->dt_ninternal_topics; k++) {
        char name[512];
        snprintf(name, sizeof name, "%s-%s", app->ap_cfg.application_id,
                 t->dt_internal_topics[k].it_name);
        if (!find_topic(d, name) && !add_topic(d, name, internal[k]))
            rc = -ENOMEM;
    }
    for (int k = 0; rc == 0 && k < t->dt_nstores; k++) {
        const dsl_store_t *ds = &t->dt_stores[k];
        char name[512];
        snprintf(name, sizeof name, "%s-%s-changelog", app->ap_cfg.application_id, ds->ds_name);
        if (ds->ds_changelog && !find_topic(d, name) &&
            !add_topic(d, name, app->ap_task_counts[ds->ds_subtopology]))
            rc = -ENOMEM;
    }
    free(internal);
    if (rc == 0 && (rc = sx_app_name_topics(app)) < 0)
        fail(d, rc, "out of memory");
    if (rc < 0)
        return fail(d, rc, "%s", rc == -ENOMEM ? "out of memory" : eddy_strerror(rc));
    if ((rc = thread_init(d, err, sizeof err)) < 0)
        return fail(d, rc, "%s", err);
    app->ap_started = 1;
    sx_thread_t *th = &d->d_th;
    int ntasks = 0, nstores = 0;
    for (int s = 0; s < t->dt_nsubtopologies; s++)
        ntasks += app->ap_task_counts[s];
    if (!(th->th_tasks = calloc((size_t)ntasks + 1, sizeof *th->th_tasks)))
        return fail(d, -ENOMEM, "out of memory");
    for (int s = 0; s < t->dt_nsubtopologies; s++)
        for (int32_t p = 0; p < app->ap_task_counts[s]; p++) {
            sx_task_t *tk = sx_task_open(th, (sx_task_id_t){s, p}, 0, err, sizeof err);
            if (!tk)
                return fail(d, EDDY_ERR_CONFIG, "%s", err);
            th->th_tasks[th->th_ntasks++] = tk;
            nstores += tk->tk_nstores + sx_combine_task_sinks(tk);
            /* A new state directory: nothing to restore. */
            if (tk->tk_state == TK_RESTORING) {
                if ((rc = sx_inc_start(tk)) < 0)
                    return fail(d, rc, "task %s: %s", tk->tk_name, eddy_strerror(rc));
                tk->tk_state = TK_RUNNING;
                sx_app_publish_task(app, tk);
            }
        }
    th->th_assigned_active = th->th_ntasks;
    /* cache.max.bytes.buffering shared by the stores, as a thread does */
    if (nstores > 0)
        for (int i = 0; i < th->th_ntasks; i++)
            sx_task_set_cache_limit(th->th_tasks[i],
                                    (size_t)(app->ap_cfg.cache_max_bytes_buffering / nstores));
    return thread_error(d);
}

/* Hands the records of the topics the app reads to their tasks, until none
 * is left (repartition topics fill up as records go through). */
static int process_ready(eddy_test_driver_t *d)
{
    eddy_app_t *app = d->d_app;
    sx_thread_t *th = &d->d_th;
    for (int progress = 1; progress && !d->d_err;) {
        progress = 0;
        for (int src = 0; src < app->ap_nsource_topics && !d->d_err; src++) {
            td_topic_t *t = find_topic(d, app->ap_source_topics[src]);
            for (int32_t p = 0; t && p < t->t_np && !d->d_err; p++) {
                sx_task_t *tk = find_task(th, app->ap_source_subs[src], p);
                td_part_t *pp = &t->t_parts[p];
                while (tk && pp->p_consumed < pp->p_n) {
                    /* t may move as the task writes to a new topic */
                    const td_rec_t *r = &pp->p_recs[pp->p_consumed];
                    kc_message_t m = {app->ap_source_topics[src],
                                      p,
                                      pp->p_consumed,
                                      r->r_ts,
                                      r->r_key_len < 0 ? NULL : r->r_key,
                                      r->r_key_len,
                                      r->r_value_len < 0 ? NULL : r->r_value,
                                      r->r_value_len,
                                      r->r_headers,
                                      r->r_headers_len,
                                      r->r_header_count};
                    const dsl_node_t *node = app->ap_source_nodes[src];
                    int rc = sx_task_process(tk, node, &m, sx_task_timestamp(tk, node, &m));
                    if (thread_error(d) < 0) /* the thread's message names the cause */
                        return d->d_err;
                    if (rc < 0)
                        return fail(d, rc, "task %s: processing %s-%d offset %lld failed: %s",
                                    tk->tk_name, m.msg_topic, (int)p, (long long)m.msg_offset,
                                    eddy_strerror(rc));
                    t = find_topic(d, app->ap_source_topics[src]);
                    pp = &t->t_parts[p];
                    tk->tk_consumed[src] = ++pp->p_consumed;
                    __atomic_add_fetch(&th->th_processed, 1, __ATOMIC_RELAXED);
                    progress = 1;
                }
            }
        }
    }
    return d->d_err;
}

/* The thread's commit: flushes (which may produce to repartition topics,
 * processed in turn) until nothing is left, then each task's state. */
static int commit(eddy_test_driver_t *d)
{
    sx_thread_t *th = &d->d_th;
    int rc = process_ready(d);
    for (int again = 1; again && rc == 0;) {
        int64_t before = 0, after = 0;
        for (int i = 0; i < d->d_ntopics; i++)
            before += d->d_topics[i].t_norder;
        for (int i = 0; i < th->th_ntasks && rc == 0; i++) {
            sx_task_t *tk = th->th_tasks[i];
            if ((rc = sx_inc_start(tk)) == 0)
                rc = sx_task_flush(tk);
            if (rc < 0)
                return fail(d, rc, "task %s: flushing its stores failed: %s", tk->tk_name,
                            eddy_strerror(rc));
        }
        if ((rc = sx_combine_flush(th)) < 0)
            return fail(d, rc, "producing combined counts failed: %s", eddy_strerror(rc));
        if ((rc = thread_error(d)) < 0)
            return rc;
        for (int i = 0; i < d->d_ntopics; i++)
            after += d->d_topics[i].t_norder;
        again = after != before;
        rc = process_ready(d);
    }
    for (int i = 0; i < th->th_ntasks && rc == 0; i++)
        if ((rc = sx_task_commit_state(th->th_tasks[i])) < 0)
            return fail(d, rc, "task %s: committing its state failed: %s", th->th_tasks[i]->tk_name,
                        eddy_strerror(rc));
    if (rc == 0)
        __atomic_add_fetch(&th->th_commits, 1, __ATOMIC_RELAXED);
    return rc;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

eddy_test_driver_t *eddy_test_driver_new(eddy_builder_t *b, const eddy_config_t *config,
                                         char *errstr, size_t errstr_size)
{
    eddy_test_driver_t *d = calloc(1, sizeof *d);
    eddy_config_t *c = eddy_config_new();
    if (!d || !c) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    for (size_t i = 0; config && i < config->cf_props.ps_count; i++)
        if (eddy_config_set(c, config->cf_props.ps_items[i].pr_key,
                            config->cf_props.ps_items[i].pr_value, errstr, errstr_size) < 0)
            goto fail;
    if (!eddy_props_get(&c->cf_props, "application.id") &&
        eddy_config_set(c, "application.id", "eddy-test-driver", errstr, errstr_size) < 0)
        goto fail;
    const char *tmp = getenv("TMPDIR");
    snprintf(d->d_state_dir, sizeof d->d_state_dir, "%s/eddy-test-driver-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(d->d_state_dir)) {
        snprintf(errstr, errstr_size, "cannot make a state directory %s: %s", d->d_state_dir,
                 strerror(errno));
        d->d_state_dir[0] = 0;
        goto fail;
    }
    if (eddy_config_set(c, "state.dir", d->d_state_dir, errstr, errstr_size) < 0)
        goto fail;
    d->d_app = eddy_app_new(b, c, errstr, errstr_size);
    b = NULL; /* the app took it over */
    if (!d->d_app)
        goto fail;
    eddy_config_destroy(c);
    d->d_wall = eddy_wall_ms();
    return d;
fail:
    eddy_builder_destroy(b);
    eddy_config_destroy(c);
    eddy_test_driver_destroy(d);
    return NULL;
}

int eddy_test_driver_create_topic(eddy_test_driver_t *d, const char *topic, int32_t partitions)
{
    if (!d || !topic || partitions < 1)
        return -EINVAL;
    if (find_topic(d, topic))
        return -EEXIST;
    if (d->d_started)
        for (int i = 0; i < d->d_app->ap_nsource_topics; i++)
            if (strcmp(d->d_app->ap_source_topics[i], topic) == 0)
                return -EINVAL; /* the tasks are sized already */
    return add_topic(d, topic, partitions) ? 0 : -ENOMEM;
}

int eddy_test_driver_pipe(eddy_test_driver_t *d, const char *topic, int32_t partition,
                          eddy_bytes_t key, eddy_bytes_t value, int64_t timestamp)
{
    if (!d || !topic)
        return -EINVAL;
    int rc = start(d);
    if (rc < 0)
        return rc;
    td_topic_t *t = find_topic(d, topic);
    if (!t && !(t = add_topic(d, topic, 1)))
        return -ENOMEM;
    if (partition >= t->t_np)
        return -EINVAL;
    if (partition < 0)
        partition = default_partition(d, key.data, key.len, t->t_np);
    kc_record_t rec = {key.data, key.len, value.data, value.len, timestamp, NULL, 0, NULL, NULL};
    int64_t off = append(d, t, partition, &rec);
    if (off < 0)
        return (int)off;
    return commit(d);
}

int eddy_test_driver_advance_wall_clock(eddy_test_driver_t *d, int64_t ms)
{
    if (!d || ms < 0)
        return -EINVAL;
    int rc = start(d);
    if (rc < 0)
        return rc;
    d->d_wall += ms;
    sx_thread_t *th = &d->d_th;
    for (int i = 0; i < th->th_ntasks; i++) {
        sx_task_t *tk = th->th_tasks[i];
        if (tk->tk_nprocs > 0 && (rc = sx_procs_punctuate_wall(tk, d->d_wall)) < 0)
            return fail(d, rc, "task %s: a wall-clock punctuator failed: %s", tk->tk_name,
                        eddy_strerror(rc));
        if ((rc = thread_error(d)) < 0)
            return rc;
    }
    return commit(d);
}

int64_t eddy_test_driver_wall_clock(const eddy_test_driver_t *d)
{
    return d ? d->d_wall : -1;
}

int eddy_test_driver_read(eddy_test_driver_t *d, const char *topic, eddy_test_record_t *out)
{
    td_topic_t *t = d && topic ? find_topic(d, topic) : NULL;
    if (!t || t->t_read >= t->t_norder)
        return 0;
    td_pos_t pos = t->t_order[t->t_read++];
    const td_rec_t *r = &t->t_parts[pos.po_partition].p_recs[pos.po_offset];
    out->key = r->r_key_len < 0 ? EDDY_NULL_BYTES : (eddy_bytes_t){r->r_key, r->r_key_len};
    out->value = r->r_value_len < 0 ? EDDY_NULL_BYTES : (eddy_bytes_t){r->r_value, r->r_value_len};
    out->timestamp = r->r_ts;
    out->partition = pos.po_partition;
    out->offset = pos.po_offset;
    return 1;
}

int64_t eddy_test_driver_unread(const eddy_test_driver_t *d, const char *topic)
{
    const td_topic_t *t = d && topic ? find_topic(d, topic) : NULL;
    return t ? t->t_norder - t->t_read : 0;
}

eddy_app_t *eddy_test_driver_app(eddy_test_driver_t *d)
{
    if (!d)
        return NULL;
    start(d);
    return d->d_app;
}

const char *eddy_test_driver_error(const eddy_test_driver_t *d)
{
    return d ? d->d_errstr : "";
}

static void on_closed(uv_handle_t *h)
{
    (void)h;
}

void eddy_test_driver_destroy(eddy_test_driver_t *d)
{
    if (!d)
        return;
    sx_thread_t *th = &d->d_th;
    for (int i = 0; i < th->th_ntasks; i++)
        sx_task_close(th->th_tasks[i]);
    free(th->th_tasks);
    th->th_tasks = NULL;
    th->th_ntasks = 0;
    sx_combine_drop(th);
    if (th->th_collector.co_producer)
        sx_collector_close(&th->th_collector);
    sx_collector_free(&th->th_collector);
    if (th->th_client)
        kc_client_destroy(th->th_client);
    if (d->d_loop_ok) {
        uv_close((uv_handle_t *)&th->th_async, on_closed);
        uv_run(&d->d_loop, UV_RUN_DEFAULT);
        uv_loop_close(&d->d_loop);
    }
    kc_config_free(&th->th_main_cfg);
    if (d->d_app) {
        d->d_app->ap_threads = NULL; /* the driver's, not allocated by the app */
        d->d_app->ap_nthreads = 0;
        eddy_app_close(d->d_app);
    }
    if (d->d_state_dir[0])
        nftw(d->d_state_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    for (int i = 0; i < d->d_ntopics; i++) {
        td_topic_t *t = &d->d_topics[i];
        for (int32_t p = 0; p < t->t_np; p++) {
            for (int64_t j = 0; j < t->t_parts[p].p_n; j++)
                free(t->t_parts[p].p_recs[j].r_key);
            free(t->t_parts[p].p_recs);
        }
        free(t->t_parts);
        free(t->t_order);
        free(t->t_name);
    }
    free(d->d_topics);
    free(d);
}

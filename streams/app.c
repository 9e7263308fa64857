/* The app: checks the topology and config, prepares the state directory and
 * the internal topics, runs the stream threads, answers store queries.
 *
 * State directory: state.dir/<application.id>/ holds
 *   .lock              flock()ed while an instance runs (one instance per dir)
 *   eddy-process-id    this instance's id (32 hex digits), kept across restarts
 *                      so the assignor can give tasks back to the state they left
 *   <sub>_<partition>/ one LMDB environment per task (state/store.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/fs.h"
#include "common/log.h"
#include "streams/streams_int.h"

const char *sx_topic_name(const eddy_app_t *app, const dsl_node_t *n, int i, char *buf, size_t size)
{
    if (n->dn_internal)
        snprintf(buf, size, "%s-%s", app->ap_cfg.application_id, n->dn_topics[i]);
    else
        snprintf(buf, size, "%s", n->dn_topics[i]);
    return buf;
}

/* ---- the registry of open task environments ---- */

int sx_app_claim_task(eddy_app_t *app, sx_task_t *tk)
{
    pthread_mutex_lock(&app->ap_mu);
    int rc = 0;
    for (int i = 0; i < app->ap_nopen_tasks; i++)
        if (strcmp(app->ap_open_tasks[i]->tk_dir, tk->tk_dir) == 0)
            rc = -EBUSY;
    if (rc == 0) {
        sx_task_t **na = realloc(app->ap_open_tasks,
                                 (size_t)(app->ap_nopen_tasks + 1) * sizeof *na);
        if (!na) {
            rc = -ENOMEM;
        } else {
            app->ap_open_tasks = na;
            na[app->ap_nopen_tasks++] = tk;
            tk->tk_registered = 0;
        }
    }
    pthread_mutex_unlock(&app->ap_mu);
    return rc;
}

void sx_app_publish_task(eddy_app_t *app, sx_task_t *tk)
{
    pthread_mutex_lock(&app->ap_mu);
    tk->tk_registered = 1;
    pthread_mutex_unlock(&app->ap_mu);
}

void sx_app_release_task(eddy_app_t *app, sx_task_t *tk)
{
    pthread_mutex_lock(&app->ap_mu);
    for (int i = 0; i < app->ap_nopen_tasks; i++)
        if (app->ap_open_tasks[i] == tk) {
            app->ap_open_tasks[i] = app->ap_open_tasks[--app->ap_nopen_tasks];
            break;
        }
    tk->tk_registered = 0;
    pthread_mutex_unlock(&app->ap_mu);
}

void sx_app_thread_done(eddy_app_t *app, int err, const char *errstr)
{
    pthread_mutex_lock(&app->ap_mu);
    app->ap_threads_done++;
    if (err && !app->ap_error) {
        app->ap_error = err;
        snprintf(app->ap_errstr, sizeof app->ap_errstr, "%s", errstr);
    }
    pthread_cond_broadcast(&app->ap_cond);
    pthread_mutex_unlock(&app->ap_mu);
}

/* ---- queries ---- */

static int task_has_store(const eddy_app_t *app, const sx_task_t *tk, const char *store)
{
    for (int i = 0; i < tk->tk_nstores; i++)
        if (strcmp(app->ap_topo->dt_stores[tk->tk_stores[i].ts_index].ds_name, store) == 0)
            return 1;
    return 0;
}

/* Whether the named store keeps timestamps before its values (queries
 * strip them). */
static int store_timestamped(const eddy_app_t *app, const char *store)
{
    for (int i = 0; i < app->ap_topo->dt_nstores; i++)
        if (strcmp(app->ap_topo->dt_stores[i].ds_name, store) == 0)
            return app->ap_topo->dt_stores[i].ds_timestamped;
    return 0;
}

typedef struct strip_ctx {
    eddy_kv_fn *fn;
    void *opaque;
} strip_ctx_t;

static int strip_ts(eddy_bytes_t key, eddy_bytes_t value, void *opaque)
{
    strip_ctx_t *c = opaque;
    int64_t ts;
    if (sx_ts_split(value, &ts, &value) < 0)
        return 0;
    return c->fn(key, value, c->opaque);
}

int eddy_app_store_get(eddy_app_t *app, const char *store, eddy_bytes_t key, eddy_buf_t *out)
{
    if (!app || !store || !out)
        return EDDY_ERR_INVALID_ARG;
    int rc = -ENOENT;
    pthread_mutex_lock(&app->ap_mu);
    for (int i = 0; i < app->ap_nopen_tasks && rc == -ENOENT; i++) {
        sx_task_t *tk = app->ap_open_tasks[i];
        if (tk->tk_registered && !tk->tk_standby && tk->tk_env && task_has_store(app, tk, store))
            rc = st_env_read_get(tk->tk_env, store, key, out);
    }
    pthread_mutex_unlock(&app->ap_mu);
    if (rc == 0 && store_timestamped(app, store))
        return sx_ts_strip(out);
    return rc;
}

int eddy_app_store_range(eddy_app_t *app, const char *store, eddy_bytes_t from, eddy_bytes_t to,
                         eddy_kv_fn *fn, void *opaque)
{
    if (!app || !store || !fn)
        return EDDY_ERR_INVALID_ARG;
    int rc = 0;
    strip_ctx_t strip = {fn, opaque};
    int timestamped = store_timestamped(app, store);
    pthread_mutex_lock(&app->ap_mu);
    for (int i = 0; i < app->ap_nopen_tasks && rc == 0; i++) {
        sx_task_t *tk = app->ap_open_tasks[i];
        if (tk->tk_registered && !tk->tk_standby && tk->tk_env && task_has_store(app, tk, store))
            rc = st_env_read_range(tk->tk_env, store, from, to, timestamped ? strip_ts : fn,
                                   timestamped ? (void *)&strip : opaque);
    }
    pthread_mutex_unlock(&app->ap_mu);
    return rc > 0 ? 0 : rc;
}

void eddy_app_stats(eddy_app_t *app, eddy_app_stats_t *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; app && i < app->ap_nthreads; i++) {
        sx_thread_t *th = &app->ap_threads[i];
        out->records_processed += __atomic_load_n(&th->th_processed, __ATOMIC_RELAXED);
        out->records_skipped += __atomic_load_n(&th->th_skipped, __ATOMIC_RELAXED);
        out->records_produced += __atomic_load_n(&th->th_produced, __ATOMIC_RELAXED);
        out->commits += __atomic_load_n(&th->th_commits, __ATOMIC_RELAXED);
        out->records_restored += __atomic_load_n(&th->th_restored, __ATOMIC_RELAXED);
        out->records_late_dropped += __atomic_load_n(&th->th_late_dropped, __ATOMIC_RELAXED);
        /* What the assignment gave, as the log says. Open tasks are not
         * that: a task waits for its directory while another thread of
         * the instance still holds it, none is open between a revoke and
         * the next assignment, and all are closed once the threads stop. */
        out->active_tasks += __atomic_load_n(&th->th_assigned_active, __ATOMIC_RELAXED);
        out->standby_tasks += __atomic_load_n(&th->th_assigned_standby, __ATOMIC_RELAXED);
    }
}

/* ---- new ---- */

eddy_app_t *eddy_app_new(eddy_builder_t *b, const eddy_config_t *config, char *errstr,
                         size_t errstr_size)
{
    if (!b) {
        snprintf(errstr, errstr_size, "eddy_app_new: no builder");
        return NULL;
    }
    eddy_app_t *app = calloc(1, sizeof *app);
    if (!app) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    app->ap_lock_fd = -1;
    pthread_mutex_init(&app->ap_mu, NULL);
    pthread_cond_init(&app->ap_cond, NULL);
    if (sx_config_load(&app->ap_cfg, config, errstr, errstr_size) < 0) {
        pthread_mutex_destroy(&app->ap_mu);
        pthread_cond_destroy(&app->ap_cond);
        free(app);
        return NULL;
    }
    /* Checked by sx_config_load: both names resolve. */
    app->ap_default_key_serde = sx_serde_by_name(app->ap_cfg.default_key_serde);
    app->ap_default_value_serde = sx_serde_by_name(app->ap_cfg.default_value_serde);
    app->ap_topo = dsl_builder_finish(b, errstr, errstr_size);
    if (!app->ap_topo || sx_combine_plan(app) < 0) {
        if (app->ap_topo)
            snprintf(errstr, errstr_size, "out of memory");
        eddy_app_close(app); /* without the builder: still the caller's */
        return NULL;
    }
    /* The builder (and the topology in it) is the app's only now. */
    app->ap_builder = b;
    return app;
}

/* ---- start ---- */

int sx_app_prepare_state_dir(eddy_app_t *app, char *errstr, size_t errstr_size)
{
    size_t n = strlen(app->ap_cfg.state_dir) + strlen(app->ap_cfg.application_id) + 2;
    if (!(app->ap_app_dir = malloc(n)))
        return -ENOMEM;
    snprintf(app->ap_app_dir, n, "%s/%s", app->ap_cfg.state_dir, app->ap_cfg.application_id);
    int rc = eddy_mkdir_p(app->ap_app_dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/.lock", app->ap_app_dir);
    if (rc == 0 && (app->ap_lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
        rc = -errno;
    if (rc < 0) {
        snprintf(errstr, errstr_size,
                 "state.dir %s: cannot create or write %s (%s): point state.dir at a writable "
                 "directory",
                 app->ap_cfg.state_dir, app->ap_app_dir, eddy_strerror(rc));
        return rc;
    }
    if (flock(app->ap_lock_fd, LOCK_EX | LOCK_NB) < 0) {
        snprintf(errstr, errstr_size,
                 "state directory %s is in use by another instance of %s: give each instance "
                 "on this machine its own state.dir",
                 app->ap_app_dir, app->ap_cfg.application_id);
        return -EBUSY;
    }
    snprintf(path, sizeof path, "%s/eddy-process-id", app->ap_app_dir);
    FILE *f = fopen(path, "r");
    if (f) {
        if (fscanf(f, "%32[0-9a-f]", app->ap_process_id) != 1 || strlen(app->ap_process_id) != 32)
            app->ap_process_id[0] = 0;
        fclose(f);
    }
    if (!app->ap_process_id[0]) {
        unsigned char rnd[16];
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        ssize_t got = fd >= 0 ? read(fd, rnd, sizeof rnd) : -1;
        if (fd >= 0)
            close(fd);
        if (got != (ssize_t)sizeof rnd) {
            uint64_t x = (uint64_t)eddy_wall_ms() ^ ((uint64_t)getpid() << 32);
            memcpy(rnd, &x, 8);
            memcpy(rnd + 8, &x, 8);
        }
        for (int i = 0; i < 16; i++)
            snprintf(app->ap_process_id + 2 * i, 3, "%02x", rnd[i]);
        char tmp[4300];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        f = fopen(tmp, "w");
        if (!f || fprintf(f, "%s\n", app->ap_process_id) < 0 || fflush(f) != 0 ||
            fsync(fileno(f)) != 0) {
            rc = -errno;
            if (f)
                fclose(f);
            snprintf(errstr, errstr_size, "state.dir: cannot write %s: %s", tmp,
                     eddy_strerror(rc ? rc : -EIO));
            return rc ? rc : -EIO;
        }
        fclose(f);
        if (rename(tmp, path) < 0) {
            rc = -errno;
            snprintf(errstr, errstr_size, "state.dir: cannot write %s: %s", path,
                     eddy_strerror(rc));
            return rc;
        }
    }
    return 0;
}

static int admin_loop_until_metadata(eddy_app_t *app, kc_client_t *c, char *errstr,
                                     size_t errstr_size)
{
    int64_t backoff = 500;
    for (;;) {
        char err[512];
        int rc = kc_admin_metadata(c, NULL, 0, err, sizeof err);
        if (rc == 0)
            return 0;
        if (app->ap_stop_requested) {
            snprintf(errstr, errstr_size, "stopped while waiting for %s",
                     app->ap_cfg.bootstrap_servers);
            return -ECANCELED;
        }
        EDDY_LOG_WARN("streams", "cannot reach the cluster at %s (%s); retrying in %lld ms",
                      app->ap_cfg.bootstrap_servers, err, (long long)backoff);
        for (int64_t waited = 0; waited < backoff && !app->ap_stop_requested; waited += 100)
            usleep(100 * 1000);
        backoff = backoff * 2 > 10000 ? 10000 : backoff * 2;
    }
}

static int32_t topic_partitions(kc_client_t *c, const char *topic)
{
    const kc_topic_meta_t *tm = kc_metadata_topic(c, topic);
    return tm && tm->tm_error == 0 ? tm->tm_npartitions : -1;
}

static int32_t client_partitions(const char *topic, void *opaque)
{
    return topic_partitions(opaque, topic);
}

/* The partition counts of internal topics and tasks, Kafka's rule: a
 * repartition topic has as many partitions as the widest input of the
 * sub-topology that writes it, unless given. */
/* Kafka's CopartitionedTopicsEnforcer: the repartition topics a join
 * reads get the partition count of the input topics joined with them (else
 * the largest among them), so that equal keys meet in one task. A count the
 * user fixed (eddy_stream_repartition) that differs is an error. */
static int copartition_internal(const dsl_topology_t *t, sx_partitions_fn *partitions, void *opaque,
                                int32_t *internal, char *errstr, size_t errstr_size)
{
    for (int s = 0; s < t->dt_nsubtopologies; s++) {
        const dsl_subtopology_t *st = &t->dt_subtopologies[s];
        int32_t want = -1, max = 0;
        for (int i = 0; i < st->st_ncopartitioned; i++) {
            if (!st->st_copartitioned_internal[i]) {
                if (want < 0)
                    want = partitions(st->st_copartitioned[i], opaque);
                continue;
            }
            for (int k = 0; k < t->dt_ninternal_topics; k++)
                if (!strcmp(t->dt_internal_topics[k].it_name, st->st_copartitioned[i]) &&
                    internal[k] > max)
                    max = internal[k];
        }
        if (want <= 0)
            want = max;
        for (int i = 0; i < st->st_ncopartitioned && want > 0; i++)
            for (int k = 0; st->st_copartitioned_internal[i] && k < t->dt_ninternal_topics; k++) {
                const dsl_internal_topic_t *it = &t->dt_internal_topics[k];
                if (strcmp(it->it_name, st->st_copartitioned[i]) != 0)
                    continue;
                if (it->it_partitions > 0 && it->it_partitions != want) {
                    snprintf(errstr, errstr_size,
                             "repartition topic %s has %d partitions (eddy_stream_repartition) "
                             "but is joined with topics of %d: they must be equal",
                             it->it_name, (int)it->it_partitions, (int)want);
                    return EDDY_ERR_CONFIG;
                }
                internal[k] = want;
            }
    }
    return 0;
}

int sx_app_size_tasks(eddy_app_t *app, sx_partitions_fn *partitions, void *opaque,
                      int32_t *internal, char *errstr, size_t errstr_size)
{
    const dsl_topology_t *t = app->ap_topo;
    for (int pass = 0; pass <= t->dt_ninternal_topics + 1; pass++) {
        for (int s = 0; s < t->dt_nsubtopologies; s++) {
            int32_t max = 0;
            const dsl_subtopology_t *st = &t->dt_subtopologies[s];
            for (int i = 0; i < st->st_nsources; i++)
                for (int j = 0; j < st->st_sources[i]->dn_ntopics; j++) {
                    const dsl_node_t *n = st->st_sources[i];
                    int32_t np = 0;
                    if (n->dn_internal) {
                        for (int k = 0; k < t->dt_ninternal_topics; k++)
                            if (strcmp(t->dt_internal_topics[k].it_name, n->dn_topics[j]) == 0)
                                np = internal[k];
                    } else {
                        np = partitions(n->dn_topics[j], opaque);
                    }
                    if (np > max)
                        max = np;
                }
            app->ap_task_counts[s] = max;
        }
        for (int k = 0; k < t->dt_ninternal_topics; k++) {
            const dsl_internal_topic_t *it = &t->dt_internal_topics[k];
            internal[k] = it->it_partitions > 0 ? it->it_partitions
                                                : app->ap_task_counts[it->it_from_subtopology];
        }
        int rc = copartition_internal(t, partitions, opaque, internal, errstr, errstr_size);
        if (rc < 0)
            return rc;
    }
    for (int s = 0; s < t->dt_nsubtopologies; s++)
        if (app->ap_task_counts[s] <= 0) {
            snprintf(errstr, errstr_size, "sub-topology %d has no input partitions", s);
            return EDDY_ERR_CONFIG;
        }
    return 0;
}

/* Creates an internal topic with the settings keys[i]=vals[i] unless it
 * exists. An existing topic keeps its settings, as in Kafka Streams. */
static int ensure_topic(eddy_app_t *app, kc_client_t *c, const char *name, int32_t partitions,
                        const char *const *keys, const char *const *vals, int nconfigs,
                        int *created, char *errstr, size_t errstr_size)
{
    *created = 0;
    int32_t have = topic_partitions(c, name);
    if (have > 0) {
        if (have != partitions) {
            snprintf(errstr, errstr_size,
                     "internal topic %s has %d partitions, the app needs %d: the inputs changed; "
                     "reset the app (eddy app reset --application-id %s ...) to start over",
                     name, (int)have, (int)partitions, app->ap_cfg.application_id);
            return EDDY_ERR_CONFIG;
        }
        return 0;
    }
    char err[512];
    int rc = kc_admin_create_topic(c, name, partitions, (int16_t)app->ap_cfg.replication_factor,
                                   keys, vals, nconfigs, err, sizeof err);
    if (rc == KERR_TOPIC_ALREADY_EXISTS) /* another instance was first */
        return 0;
    if (rc != 0) {
        snprintf(errstr, errstr_size, "creating internal topic %s: %s", name, err);
        return rc < 0 ? rc : EDDY_ERR_CONFIG;
    }
    char settings[512] = "";
    size_t len = 0;
    for (int i = 0; i < nconfigs && len < sizeof settings; i++)
        len += (size_t)snprintf(settings + len, sizeof settings - len, ", %s=%s", keys[i], vals[i]);
    EDDY_LOG_INFO("streams", "created internal topic %s (%d partitions%s)", name, (int)partitions,
                  settings);
    *created = 1;
    return 0;
}

/* Repartition topics: Kafka Streams' settings (RepartitionTopicConfig).
 * Their records carry the input's event time, so a time-based retention
 * would delete records of an old history (a replay after a reset) before
 * they are read; they are kept for good instead, and the app deletes what
 * it has committed (sx_thread purge, repartition.purge.interval.ms). Kafka
 * also sets message.timestamp.type=CreateTime on internal topics; Eddy's
 * broker stores CreateTime only and does not know that setting, so it is
 * left out. */
static const char *const repartition_keys[] = {"cleanup.policy", "segment.bytes", "retention.ms"};
static const char *const repartition_vals[] = {"delete", "52428800", "-1"};

/* Input topics a join reads together have as many partitions each. */
int sx_app_check_copartitioned(const eddy_app_t *app, sx_partitions_fn *partitions, void *opaque,
                               char *errstr, size_t errstr_size)
{
    const dsl_topology_t *t = app->ap_topo;
    for (int s = 0; s < t->dt_nsubtopologies; s++) {
        const dsl_subtopology_t *st = &t->dt_subtopologies[s];
        for (int i = 1; i < st->st_ncopartitioned; i++) {
            if (st->st_copartitioned_internal[i] || st->st_copartitioned_internal[0])
                continue;
            int32_t a = partitions(st->st_copartitioned[0], opaque);
            int32_t b = partitions(st->st_copartitioned[i], opaque);
            if (a != b) {
                snprintf(errstr, errstr_size,
                         "topics %s (%d partitions) and %s (%d partitions) are joined, so they "
                         "must have the same number of partitions",
                         st->st_copartitioned[0], (int)a, st->st_copartitioned[i], (int)b);
                return EDDY_ERR_CONFIG;
            }
        }
    }
    return 0;
}

/* Names resolved once, not per record: every topic the app reads (with
 * its sub-topology and source node), and each sink's topic. */
int sx_app_name_topics(eddy_app_t *app)
{
    const dsl_topology_t *t = app->ap_topo;
    app->ap_node_topics = calloc((size_t)t->dt_nnodes + 1, sizeof(char *));
    if (!app->ap_node_topics)
        return -ENOMEM;
    for (int i = 0; i < t->dt_nnodes; i++) {
        const dsl_node_t *n = t->dt_nodes[i];
        if (n->dn_kind == DSL_SINK) {
            char name[512];
            if (!(app->ap_node_topics[n->dn_id] = strdup(
                      sx_topic_name(app, n, 0, name, sizeof name))))
                return -ENOMEM;
        }
        if (n->dn_kind != DSL_SOURCE)
            continue;
        for (int j = 0; j < n->dn_ntopics; j++) {
            char name[512];
            sx_topic_name(app, n, j, name, sizeof name);
            size_t cnt = (size_t)app->ap_nsource_topics + 1;
            char **nt = realloc(app->ap_source_topics, cnt * sizeof *nt);
            if (nt)
                app->ap_source_topics = nt;
            int *ns = realloc(app->ap_source_subs, cnt * sizeof *ns);
            if (ns)
                app->ap_source_subs = ns;
            const dsl_node_t **nn = realloc(app->ap_source_nodes, cnt * sizeof *nn);
            if (nn)
                app->ap_source_nodes = nn;
            if (!nt || !ns || !nn || !(nt[app->ap_nsource_topics] = strdup(name)))
                return -ENOMEM;
            ns[app->ap_nsource_topics] = n->dn_subtopology;
            nn[app->ap_nsource_topics++] = n;
        }
    }
    return 0;
}

static int prepare_topics(eddy_app_t *app, char *errstr, size_t errstr_size)
{
    const dsl_topology_t *t = app->ap_topo;
    uv_loop_t loop;
    uv_loop_init(&loop);
    kc_config_t cfg;
    eddy_props_t ps;
    eddy_props_init(&ps);
    char kv[1024], err[512];
    snprintf(kv, sizeof kv, "bootstrap.servers=%s", app->ap_cfg.bootstrap_servers);
    int rc = eddy_props_set(&ps, "streams", kv, errstr, errstr_size);
    snprintf(kv, sizeof kv, "client.id=%s-admin", app->ap_cfg.application_id);
    if (rc == 0)
        rc = eddy_props_set(&ps, "streams", kv, errstr, errstr_size);
    /* Short attempts, so that an unreachable cluster is reported (and a
     * stop request heard) within seconds; the loop below retries. */
    snprintf(kv, sizeof kv, "request.timeout.ms=%d",
             app->ap_cfg.request_timeout_ms < 2000 ? (int)app->ap_cfg.request_timeout_ms : 2000);
    if (rc == 0)
        rc = eddy_props_set(&ps, "streams", kv, errstr, errstr_size);
    if (rc == 0)
        rc = sx_config_common_client_props(&app->ap_cfg, &ps, errstr, errstr_size);
    if (rc == 0)
        rc = kc_config_load(&cfg, &ps, errstr, errstr_size);
    eddy_props_free(&ps);
    if (rc < 0) {
        uv_loop_close(&loop);
        return rc;
    }
    kc_client_t *c = kc_client_new(&loop, &cfg, err, sizeof err);
    int32_t *internal = calloc((size_t)t->dt_ninternal_topics + 1, sizeof *internal);
    app->ap_task_counts = calloc((size_t)t->dt_nsubtopologies + 1, sizeof(int32_t));
    if (!c || !internal || !app->ap_task_counts) {
        snprintf(errstr, errstr_size, "%s", c ? "out of memory" : err);
        rc = c ? -ENOMEM : EDDY_ERR_CONFIG;
        goto out;
    }
    if ((rc = admin_loop_until_metadata(app, c, errstr, errstr_size)) < 0)
        goto out;
    /* Inputs exist, and join inputs are co-partitioned. */
    for (int i = 0; i < t->dt_nnodes; i++) {
        const dsl_node_t *n = t->dt_nodes[i];
        if (n->dn_kind != DSL_SOURCE || n->dn_internal)
            continue;
        for (int j = 0; j < n->dn_ntopics; j++)
            if (topic_partitions(c, n->dn_topics[j]) <= 0) {
                snprintf(errstr, errstr_size,
                         "input topic '%s' does not exist: create it first, e.g. `eddy topic "
                         "create %s -p 4 -b %s`",
                         n->dn_topics[j], n->dn_topics[j], app->ap_cfg.bootstrap_servers);
                rc = EDDY_ERR_CONFIG;
                goto out;
            }
    }
    if ((rc = sx_app_check_copartitioned(app, client_partitions, c, errstr, errstr_size)) < 0)
        goto out;
    if ((rc = sx_app_size_tasks(app, client_partitions, c, internal, errstr, errstr_size)) < 0)
        goto out;
    for (int k = 0; k < t->dt_ninternal_topics; k++) {
        char name[512];
        snprintf(name, sizeof name, "%s-%s", app->ap_cfg.application_id,
                 t->dt_internal_topics[k].it_name);
        int created;
        if ((rc = ensure_topic(app, c, name, internal[k], repartition_keys, repartition_vals, 3,
                               &created, errstr, errstr_size)) < 0)
            goto out;
    }
    for (int k = 0; k < t->dt_nstores; k++) {
        const dsl_store_t *ds = &t->dt_stores[k];
        if (!ds->ds_changelog)
            continue;
        char name[512];
        snprintf(name, sizeof name, "%s-%s-changelog", app->ap_cfg.application_id, ds->ds_name);
        int created;
        /* Window and session changelogs also expire what the store no
         * longer keeps (SX_WINDOW_CHANGELOG_EXTRA_MS later). */
        int windowed = ds->ds_kind != DSL_STORE_KV;
        char retention[32];
        snprintf(retention, sizeof retention, "%lld",
                 (long long)(ds->ds_retention_ms + SX_WINDOW_CHANGELOG_EXTRA_MS));
        const char *keys[] = {"cleanup.policy", "retention.ms"};
        const char *vals[] = {windowed ? "compact,delete" : "compact", retention};
        if ((rc = ensure_topic(app, c, name, app->ap_task_counts[ds->ds_subtopology], keys, vals,
                               windowed ? 2 : 1, &created, errstr, errstr_size)) < 0)
            goto out;
        if (created) {
            /* A new changelog: whatever this instance holds for the store
             * is from before (a reset) and must not come back. */
            for (int32_t p = 0; p < app->ap_task_counts[ds->ds_subtopology]; p++) {
                char dir[4200];
                snprintf(dir, sizeof dir, "%s/%d_%d", app->ap_app_dir, ds->ds_subtopology, (int)p);
                struct stat sb;
                if (stat(dir, &sb) == 0) {
                    EDDY_LOG_WARN("streams",
                                  "changelog %s is new: wiping the old local state in %s", name,
                                  dir);
                    st_env_wipe(dir);
                }
            }
        }
    }
    rc = sx_app_name_topics(app);
out:
    free(internal);
    if (c) {
        kc_client_destroy(c);
        uv_run(&loop, UV_RUN_DEFAULT);
    }
    uv_loop_close(&loop);
    kc_config_free(&cfg);
    return rc;
}

int eddy_app_start(eddy_app_t *app, char *errstr, size_t errstr_size)
{
    if (!app || app->ap_started) {
        snprintf(errstr, errstr_size, "eddy_app_start: %s", app ? "already started" : "no app");
        return EDDY_ERR_INVALID_ARG;
    }
    int rc = sx_app_prepare_state_dir(app, errstr, errstr_size);
    if (rc == 0)
        rc = prepare_topics(app, errstr, errstr_size);
    if (rc < 0)
        return rc;
    app->ap_threads = calloc((size_t)app->ap_cfg.num_stream_threads, sizeof *app->ap_threads);
    if (!app->ap_threads)
        return -ENOMEM;
    app->ap_started = 1;
    for (int i = 0; i < app->ap_cfg.num_stream_threads; i++) {
        rc = sx_thread_start(&app->ap_threads[i], app, i);
        if (rc < 0) {
            snprintf(errstr, errstr_size, "starting stream thread %d: %s", i + 1,
                     app->ap_threads[i].th_errstr[0] ? app->ap_threads[i].th_errstr
                                                     : eddy_strerror(rc));
            /* Threads already running stop; this one never ran. */
            app->ap_nthreads = i;
            eddy_app_stop(app);
            eddy_app_wait(app);
            return rc;
        }
        app->ap_nthreads = i + 1;
    }
    EDDY_LOG_INFO("streams", "%s: started %d stream thread(s), process id %s, state in %s",
                  app->ap_cfg.application_id, app->ap_nthreads, app->ap_process_id,
                  app->ap_app_dir);
    return 0;
}

void eddy_app_stop(eddy_app_t *app)
{
    if (!app)
        return;
    app->ap_stop_requested = 1;
    for (int i = 0; i < app->ap_nthreads; i++)
        uv_async_send(&app->ap_threads[i].th_async);
}

int eddy_app_wait(eddy_app_t *app)
{
    pthread_mutex_lock(&app->ap_mu);
    while (app->ap_threads_done < app->ap_nthreads)
        pthread_cond_wait(&app->ap_cond, &app->ap_mu);
    int err = app->ap_error;
    pthread_mutex_unlock(&app->ap_mu);
    return err;
}

int eddy_app_close(eddy_app_t *app)
{
    if (!app)
        return 0;
    eddy_app_stop(app);
    int err = app->ap_nthreads > 0 ? eddy_app_wait(app) : 0;
    for (int i = 0; i < app->ap_nthreads; i++)
        sx_thread_join(&app->ap_threads[i]);
    free(app->ap_threads);
    for (int i = 0; i < app->ap_nsource_topics; i++)
        free(app->ap_source_topics[i]);
    free(app->ap_source_topics);
    free(app->ap_source_subs);
    free(app->ap_source_nodes);
    for (int i = 0; app->ap_node_topics && app->ap_topo && i < app->ap_topo->dt_nnodes; i++)
        free(app->ap_node_topics[i]);
    free(app->ap_node_topics);
    sx_combine_plan_free(app);
    free(app->ap_task_counts);
    free(app->ap_open_tasks);
    free(app->ap_app_dir);
    if (app->ap_lock_fd >= 0)
        close(app->ap_lock_fd);
    sx_config_free(&app->ap_cfg);
    eddy_builder_destroy(app->ap_builder);
    pthread_mutex_destroy(&app->ap_mu);
    pthread_cond_destroy(&app->ap_cond);
    free(app);
    return err;
}

static eddy_app_t *volatile signal_app;

static void on_signal(int sig)
{
    (void)sig;
    if (signal_app)
        eddy_app_stop(signal_app);
}

int eddy_app_run(eddy_app_t *app)
{
    return eddy_app_run_stats(app, NULL);
}

int eddy_app_run_stats(eddy_app_t *app, eddy_app_stats_t *final)
{
    char err[1024];
    if (final)
        memset(final, 0, sizeof *final);
    if (!app)
        return 1;
    signal_app = app;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    int started = eddy_app_start(app, err, sizeof err);
    if (started < 0) {
        /* Stopped (SIGTERM) while waiting for the cluster is a clean stop. */
        int clean = started == -ECANCELED && app->ap_stop_requested;
        if (!clean)
            fprintf(stderr, "%s: %s\n", app->ap_cfg.application_id, err);
        signal_app = NULL;
        eddy_app_close(app);
        return clean ? 0 : 1;
    }
    int rc = eddy_app_wait(app);
    if (rc != 0)
        fprintf(stderr, "%s: stopped: %s\n", app->ap_cfg.application_id, app->ap_errstr);
    signal_app = NULL;
    if (final)
        eddy_app_stats(app, final); /* the threads have stopped: final counts */
    eddy_app_close(app);
    return rc == 0 ? 0 : 1;
}

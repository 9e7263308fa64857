#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#include "topics.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/log_int.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "wire/proto.h"

struct topic_deletion {
    topic_deletion_t *td_next; /* the registry's deletes in progress */
    topic_t *td_topic;         /* out of the registry; this holds one reference */
    int32_t td_moved;          /* partitions 0..td_moved-1 moved aside */
    char td_aside[4200];       /* "<data dir>/.deleted-<ms>-<n>": they go in there */
    int td_aside_ok;           /* created */
};

#define MAX_PARTITIONS 100000

static void creation_undo(topic_registry_t *tr, topic_creation_t *tc);

int topic_name_valid(const char *name, size_t len, char *why, size_t why_size)
{
    if (len == 0 || len > 249) {
        snprintf(why, why_size, "topic name must have 1 to 249 characters, not %zu", len);
        return 0;
    }
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.')) {
        snprintf(why, why_size, "topic name cannot be '.' or '..'");
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-')) {
            snprintf(why, why_size,
                     "topic name '%.*s' has a character other than ASCII letters, digits, '.', "
                     "'_' and '-'",
                     (int)len, name);
            return 0;
        }
    }
    return 1;
}

topic_t *topics_find(const topic_registry_t *tr, const char *name, size_t len)
{
    for (int i = 0; i < tr->tr_count; i++) {
        topic_t *t = tr->tr_topics[i];
        if (strlen(t->t_name) == len && memcmp(t->t_name, name, len) == 0)
            return t;
    }
    return NULL;
}

partition_t *topics_partition(const topic_registry_t *tr, const char *name, size_t len,
                              int32_t index)
{
    topic_t *t = topics_find(tr, name, len);
    if (!t || index < 0 || index >= t->t_npartitions)
        return NULL;
    return t->t_parts[index];
}

/* Makes t_parts hold at least n partitions. Each partition is an
 * allocation of its own, so that flushes, cleanings and fetch responses
 * may keep a partition's address across loop turns while CreatePartitions
 * grows the array. The array ends with a NULL; slots past t_npartitions
 * (a grow that failed) are unused until the next grow. */
static int parts_reserve(topic_t *t, int32_t n)
{
    int32_t have = 0;
    while (t->t_parts && t->t_parts[have])
        have++;
    if (have >= n)
        return 0;
    partition_t **np = realloc(t->t_parts, ((size_t)n + 1) * sizeof *np);
    if (!np)
        return -ENOMEM;
    t->t_parts = np;
    for (; have < n; have++) {
        np[have] = calloc(1, sizeof **np);
        if (!np[have])
            return -ENOMEM; /* the NULL ends the array */
        np[have]->p_topic = t;
        np[have]->p_index = have;
    }
    np[n] = NULL;
    return 0;
}

static void topic_free(topic_t *t)
{
    if (!t)
        return;
    for (int32_t p = 0; t->t_parts && t->t_parts[p]; p++) {
        if (t->t_deleted && t->t_parts[p]->p_log)
            log_close_abrupt(t->t_parts[p]->p_log);
        free(t->t_parts[p]);
    }
    free(t->t_parts);
    eddy_props_free(&t->t_overrides);
    free(t->t_name);
    free(t);
}

/* Opens the logs of a topic whose metadata is loaded. */
static int topic_open_logs(topic_registry_t *tr, topic_t *t, int64_t now_ms, char *errstr,
                           size_t errstr_size)
{
    if (parts_reserve(t, t->t_npartitions) < 0)
        return -ENOMEM;
    for (int32_t p = 0; p < t->t_npartitions; p++) {
        char dir[4096], name[300];
        snprintf(dir, sizeof dir, "%s/%s-%d", tr->tr_dir, t->t_name, p);
        snprintf(name, sizeof name, "%s-%d", t->t_name, p);
        int rc = log_open(dir, name, &t->t_cfg, tr->tr_fdc, now_ms, &t->t_parts[p]->p_log, errstr,
                          errstr_size);
        if (rc < 0) {
            while (--p >= 0)
                log_close(t->t_parts[p]->p_log);
            return rc;
        }
        log_set_inline_flush(t->t_parts[p]->p_log, 0);
    }
    return 0;
}

void topic_hold(topic_t *t)
{
    t->t_refs++;
}

void topic_release(topic_t *t)
{
    if (--t->t_refs == 0)
        topic_free(t);
}

static int registry_add(topic_registry_t *tr, topic_t *t)
{
    t->t_refs = 1;
    if (tr->tr_count == tr->tr_cap) {
        int cap = tr->tr_cap ? tr->tr_cap * 2 : 16;
        topic_t **nt = realloc(tr->tr_topics, (size_t)cap * sizeof *nt);
        if (!nt)
            return -ENOMEM;
        tr->tr_topics = nt;
        tr->tr_cap = cap;
    }
    tr->tr_topics[tr->tr_count++] = t;
    return 0;
}

/* Applies overrides to the defaults: 0 or EDDY_ERR_CONFIG with a message. */
static int topic_config_build(const topic_registry_t *tr, const eddy_props_t *overrides,
                              log_config_t *cfg, char *msg, size_t msg_size)
{
    *cfg = tr->tr_defaults;
    int rc = eddy_cfg_apply(log_config_defs, cfg, overrides, msg, msg_size);
    return rc ? rc : log_config_check(cfg, msg, msg_size);
}

static int write_topic_meta(const topic_registry_t *tr, const topic_t *t)
{
    eddy_wr_t wr;
    wr_init(&wr);
    char line[8192];
    int n = snprintf(line, sizeof line,
                     "# Eddy topic metadata: written whole (temp, fsync, rename)\npartitions=%d\n",
                     t->t_npartitions);
    wr_bytes(&wr, line, (size_t)n);
    for (size_t i = 0; i < t->t_overrides.ps_count; i++) {
        const eddy_prop_t *p = &t->t_overrides.ps_items[i];
        n = snprintf(line, sizeof line, "config.%s=%s\n", p->pr_key, p->pr_value);
        wr_bytes(&wr, line, (size_t)n);
    }
    char dir[4096], name[300];
    snprintf(dir, sizeof dir, "%s/topics", tr->tr_dir);
    snprintf(name, sizeof name, "%s", t->t_name);
    int rc = wr.wr_err ? wr.wr_err : log_write_file_atomic(dir, name, wr.wr_buf, wr.wr_len, 1);
    wr_free(&wr);
    return rc;
}

static int load_topic(topic_registry_t *tr, const char *file, int64_t now_ms, char *errstr,
                      size_t errstr_size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/topics/%s", tr->tr_dir, file);
    eddy_props_t ps;
    eddy_props_init(&ps);
    int rc = eddy_props_load(&ps, path, errstr, errstr_size);
    topic_t *t = calloc(1, sizeof *t);
    if (rc < 0 || !t)
        goto fail;
    eddy_props_init(&t->t_overrides);
    t->t_name = strdup(file);
    const char *parts = eddy_props_get(&ps, "partitions");
    t->t_npartitions = parts ? atoi(parts) : 0;
    if (!t->t_name || t->t_npartitions < 1 || t->t_npartitions > MAX_PARTITIONS) {
        snprintf(errstr, errstr_size, "%s: partitions must be 1..%d", path, MAX_PARTITIONS);
        rc = EDDY_ERR_CORRUPT;
        goto fail;
    }
    for (size_t i = 0; i < ps.ps_count; i++) {
        const eddy_prop_t *p = &ps.ps_items[i];
        if (strncmp(p->pr_key, "config.", 7) != 0)
            continue;
        char assign[8192];
        snprintf(assign, sizeof assign, "%s=%s", p->pr_key + 7, p->pr_value);
        if ((rc = eddy_props_set(&t->t_overrides, path, assign, errstr, errstr_size)) < 0)
            goto fail;
    }
    if ((rc = topic_config_build(tr, &t->t_overrides, &t->t_cfg, errstr, errstr_size)) < 0)
        goto fail;
    t->t_internal = t->t_name[0] == '_' && t->t_name[1] == '_';
    if ((rc = topic_open_logs(tr, t, now_ms, errstr, errstr_size)) < 0)
        goto fail;
    if ((rc = registry_add(tr, t)) < 0)
        goto fail;
    eddy_props_free(&ps);
    return 0;
fail:
    eddy_props_free(&ps);
    topic_free(t);
    return rc < 0 ? rc : -ENOMEM;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void topics_remove_tree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* "<topic>-<digits>" directories that no topic owns, and "-delete" ones. */
static void remove_orphans(topic_registry_t *tr)
{
    DIR *d = opendir(tr->tr_dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        const char *name = de->d_name;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", tr->tr_dir, name);
        if (strncmp(name, ".deleted-", 9) == 0) {
            topics_remove_tree(path); /* a delete a crash interrupted */
            continue;
        }
        if (name[0] == '.' || strcmp(name, "topics") == 0 || strcmp(name, "meta.properties") == 0)
            continue;
        struct stat st;
        if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
            continue;
        int orphan = 0;
        const char *dash = strrchr(name, '-');
        if (!orphan && dash && dash[1]) {
            char *end;
            long p = strtol(dash + 1, &end, 10);
            topic_t *t = topics_find(tr, name, (size_t)(dash - name));
            orphan = !*end && (!t || p >= t->t_npartitions);
        }
        if (orphan) {
            EDDY_LOG_INFO("broker", "removing %s: no topic owns it", path);
            topics_remove_tree(path);
        }
    }
    if (d)
        closedir(d);
}

/* meta.properties: the cluster id is made once and kept. */
static int load_cluster_id(topic_registry_t *tr, int32_t node_id, char *errstr, size_t errstr_size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/meta.properties", tr->tr_dir);
    eddy_props_t ps;
    eddy_props_init(&ps);
    if (access(path, F_OK) == 0) {
        int rc = eddy_props_load(&ps, path, errstr, errstr_size);
        const char *id = rc == 0 ? eddy_props_get(&ps, "cluster.id") : NULL;
        if (id)
            snprintf(tr->tr_cluster_id, sizeof tr->tr_cluster_id, "%s", id);
        eddy_props_free(&ps);
        if (!id) {
            if (rc == 0)
                snprintf(errstr, errstr_size, "%s: no cluster.id", path);
            return rc < 0 ? rc : EDDY_ERR_CORRUPT;
        }
        return 0;
    }
    uint64_t r = (uint64_t)eddy_wall_ms() * 6364136223846793005ull ^ (uint64_t)getpid();
    snprintf(tr->tr_cluster_id, sizeof tr->tr_cluster_id, "eddy-%016" PRIx64, r);
    char text[256];
    int n = snprintf(text, sizeof text, "# Eddy data directory\ncluster.id=%s\nnode.id=%d\n",
                     tr->tr_cluster_id, node_id);
    return log_write_file_atomic(tr->tr_dir, "meta.properties", text, (size_t)n, 1);
}

int topics_open(topic_registry_t *tr, const char *dir, const log_config_t *defaults,
                log_fdcache_t *fdc, int32_t node_id, char *errstr, size_t errstr_size)
{
    memset(tr, 0, sizeof *tr);
    tr->tr_dir = strdup(dir);
    tr->tr_fdc = fdc;
    tr->tr_defaults = *defaults;
    char tdir[4096];
    snprintf(tdir, sizeof tdir, "%s/topics", dir);
    if (!tr->tr_dir)
        return -ENOMEM;
    /* Checked before anything is read or written: a data directory the
     * broker cannot write would otherwise start and then answer
     * KAFKA_STORAGE_ERROR to every produce. */
    const char *paths[2] = {dir, tdir};
    for (int i = 0; i < 2; i++) {
        const char *what = i == 0 ? "the data directory" : "the topics directory";
        struct stat st;
        if (mkdir(paths[i], 0755) < 0 && errno != EEXIST) {
            int e = errno;
            snprintf(errstr, errstr_size, "%s: cannot create %s: %s", paths[i], what, strerror(e));
            return -e;
        }
        if (stat(paths[i], &st) < 0) {
            int e = errno;
            snprintf(errstr, errstr_size, "%s: cannot use %s: %s", paths[i], what, strerror(e));
            return -e;
        }
        if (!S_ISDIR(st.st_mode)) {
            snprintf(errstr, errstr_size, "%s: %s is not a directory", paths[i], what);
            return -ENOTDIR;
        }
        if (access(paths[i], R_OK | W_OK | X_OK) < 0) {
            int e = errno;
            snprintf(errstr, errstr_size,
                     "%s: %s exists but this process (uid %d) cannot read and write it: %s",
                     paths[i], what, (int)geteuid(), strerror(e));
            return -e;
        }
    }
    int rc = load_cluster_id(tr, node_id, errstr, errstr_size);
    if (rc < 0)
        return rc;
    DIR *d = opendir(tdir);
    struct dirent *de;
    int64_t now = eddy_wall_ms();
    while (d && (de = readdir(d))) {
        size_t len = strlen(de->d_name);
        char why[300];
        if (len > 4 && strcmp(de->d_name + len - 4, ".tmp") == 0) {
            char tmp[4400];
            snprintf(tmp, sizeof tmp, "%s/%s", tdir, de->d_name);
            unlink(tmp); /* a create that did not finish */
            continue;
        }
        if (!topic_name_valid(de->d_name, len, why, sizeof why))
            continue;
        if ((rc = load_topic(tr, de->d_name, now, errstr, errstr_size)) < 0)
            break;
    }
    if (d)
        closedir(d);
    if (rc < 0)
        return rc;
    remove_orphans(tr);
    EDDY_LOG_INFO("broker", "data directory %s: %d topic(s), cluster id %s", dir, tr->tr_count,
                  tr->tr_cluster_id);
    return 0;
}

int topics_close(topic_registry_t *tr)
{
    int first = 0;
    for (int i = 0; i < tr->tr_count; i++) {
        topic_t *t = tr->tr_topics[i];
        for (int32_t p = 0; p < t->t_npartitions; p++) {
            int rc = log_close(t->t_parts[p]->p_log);
            if (rc && !first)
                first = rc;
            t->t_parts[p]->p_log = NULL;
        }
        topic_release(t);
    }
    while (tr->tr_creating) /* a create the stop cut short: no metadata, so no topic */
        creation_undo(tr, tr->tr_creating);
    /* A delete the stop cut short: its metadata is gone, so the directories
     * not yet moved aside are removed at the next start (no topic owns
     * them). */
    while (tr->tr_deleting) {
        topic_deletion_t *td = tr->tr_deleting;
        tr->tr_deleting = td->td_next;
        topic_release(td->td_topic);
        free(td);
    }
    free(tr->tr_topics);
    free(tr->tr_dir);
    memset(tr, 0, sizeof *tr);
    return first;
}

struct topic_creation {
    topic_creation_t *tc_next; /* the registry's creates in progress */
    topic_t *tc_topic;         /* not in the registry until complete */
    int32_t tc_opened;         /* logs opened so far: partitions 0..tc_opened-1 */
};

int topics_creating(const topic_registry_t *tr, const char *name, size_t len)
{
    for (const topic_creation_t *tc = tr->tr_creating; tc; tc = tc->tc_next)
        if (strlen(tc->tc_topic->t_name) == len && memcmp(tc->tc_topic->t_name, name, len) == 0)
            return 1;
    return 0;
}

int topics_deleting(const topic_registry_t *tr, const char *name, size_t len)
{
    for (const topic_deletion_t *td = tr->tr_deleting; td; td = td->td_next)
        if (strlen(td->td_topic->t_name) == len && memcmp(td->td_topic->t_name, name, len) == 0)
            return 1;
    return 0;
}

int64_t topics_partition_total(const topic_registry_t *tr)
{
    int64_t n = 0;
    for (int i = 0; i < tr->tr_count; i++)
        n += tr->tr_topics[i]->t_npartitions;
    for (const topic_creation_t *tc = tr->tr_creating; tc; tc = tc->tc_next)
        n += tc->tc_topic->t_npartitions;
    return n;
}

int topics_validate(const topic_registry_t *tr, const char *name, size_t len, int32_t partitions,
                    const char *const *keys, const char *const *values, int n, char *msg,
                    size_t msg_size)
{
    if (!topic_name_valid(name, len, msg, msg_size))
        return KERR_INVALID_TOPIC_EXCEPTION;
    if (topics_find(tr, name, len) || topics_creating(tr, name, len)) {
        snprintf(msg, msg_size, "topic '%.*s' already exists", (int)len, name);
        return KERR_TOPIC_ALREADY_EXISTS;
    }
    if (topics_deleting(tr, name, len)) {
        /* Kafka's answer for a topic marked for deletion. */
        snprintf(msg, msg_size, "topic '%.*s' is being deleted; create it again once that is done",
                 (int)len, name);
        return KERR_TOPIC_ALREADY_EXISTS;
    }
    if (partitions < 1 || partitions > MAX_PARTITIONS) {
        snprintf(msg, msg_size, "number of partitions must be 1..%d, not %d", MAX_PARTITIONS,
                 partitions);
        return KERR_INVALID_PARTITIONS;
    }
    log_config_t cfg = tr->tr_defaults;
    for (int i = 0; i < n; i++) {
        if (!values[i]) {
            snprintf(msg, msg_size, "config %s: a value is required", keys[i]);
            return KERR_INVALID_CONFIG;
        }
        if (eddy_cfg_set(log_config_defs, &cfg, keys[i], values[i], "config", msg, msg_size))
            return KERR_INVALID_CONFIG;
    }
    if (log_config_check(&cfg, msg, msg_size))
        return KERR_INVALID_CONFIG;
    return KERR_NONE;
}

int topics_alter_config(topic_registry_t *tr, topic_t *t, eddy_props_t *overrides,
                        int validate_only, char *msg, size_t msg_size)
{
    log_config_t cfg;
    if (topic_config_build(tr, overrides, &cfg, msg, msg_size))
        return KERR_INVALID_CONFIG;
    if (validate_only)
        return KERR_NONE;
    eddy_props_t old = t->t_overrides;
    t->t_overrides = *overrides;
    int rc = write_topic_meta(tr, t);
    if (rc < 0) {
        t->t_overrides = old;
        snprintf(msg, msg_size, "cannot write the topic's metadata: %s", eddy_strerror(rc));
        EDDY_LOG_ERROR("broker", "altering the configs of topic %s failed: %s", t->t_name, msg);
        return KERR_KAFKA_STORAGE_ERROR;
    }
    *overrides = old; /* the caller frees the set it gave, now the old one */
    t->t_cfg = cfg;
    for (int32_t p = 0; p < t->t_npartitions; p++)
        if (t->t_parts[p]->p_log)
            log_set_config(t->t_parts[p]->p_log, &t->t_cfg);
    EDDY_LOG_INFO("broker", "topic %s: configs altered (%zu set)", t->t_name,
                  t->t_overrides.ps_count);
    return KERR_NONE;
}

int topics_set_defaults(topic_registry_t *tr, const log_config_t *defaults, char *msg,
                        size_t msg_size)
{
    log_config_t old = tr->tr_defaults;
    tr->tr_defaults = *defaults;
    /* Every topic must still build: a topic value that was valid under the
     * old defaults stays valid (values are checked alone), but the check is
     * cheap and keeps a half-applied change impossible. */
    for (int i = 0; i < tr->tr_count; i++) {
        log_config_t cfg;
        if (topic_config_build(tr, &tr->tr_topics[i]->t_overrides, &cfg, msg, msg_size)) {
            tr->tr_defaults = old;
            return KERR_INVALID_CONFIG;
        }
    }
    for (int i = 0; i < tr->tr_count; i++) {
        topic_t *t = tr->tr_topics[i];
        topic_config_build(tr, &t->t_overrides, &t->t_cfg, msg, msg_size);
        for (int32_t p = 0; p < t->t_npartitions; p++)
            if (t->t_parts[p]->p_log)
                log_set_config(t->t_parts[p]->p_log, &t->t_cfg);
    }
    return KERR_NONE;
}

int topics_create_begin(topic_registry_t *tr, const char *name, size_t len, int32_t partitions,
                        const char *const *keys, const char *const *values, int n, char *msg,
                        size_t msg_size, topic_creation_t **out)
{
    int err = topics_validate(tr, name, len, partitions, keys, values, n, msg, msg_size);
    if (err != KERR_NONE)
        return err;
    topic_creation_t *tc = calloc(1, sizeof *tc);
    topic_t *t = calloc(1, sizeof *t);
    if (!tc || !t) {
        free(tc);
        free(t);
        snprintf(msg, msg_size, "out of memory");
        return KERR_UNKNOWN_SERVER_ERROR;
    }
    eddy_props_init(&t->t_overrides);
    t->t_name = strndup(name, len);
    t->t_npartitions = partitions;
    t->t_internal = len > 2 && name[0] == '_' && name[1] == '_';
    int rc = t->t_name && parts_reserve(t, partitions) == 0 ? 0 : -ENOMEM;
    if (rc < 0)
        snprintf(msg, msg_size, "out of memory");
    for (int i = 0; i < n && rc == 0; i++) {
        char assign[8192];
        snprintf(assign, sizeof assign, "%s=%s", keys[i], values[i]);
        rc = eddy_props_set(&t->t_overrides, "CreateTopics", assign, msg, msg_size);
    }
    if (rc == 0)
        rc = topic_config_build(tr, &t->t_overrides, &t->t_cfg, msg, msg_size);
    if (rc < 0) {
        topic_free(t);
        free(tc);
        return KERR_UNKNOWN_SERVER_ERROR;
    }
    tc->tc_topic = t;
    tc->tc_next = tr->tr_creating;
    tr->tr_creating = tc;
    *out = tc;
    return KERR_NONE;
}

static void creation_unlink(topic_registry_t *tr, topic_creation_t *tc)
{
    for (topic_creation_t **pp = &tr->tr_creating; *pp; pp = &(*pp)->tc_next)
        if (*pp == tc) {
            *pp = tc->tc_next;
            return;
        }
}

/* A failed create leaves nothing: no metadata was written, and the logs
 * opened so far are closed and their directories removed. */
static void creation_undo(topic_registry_t *tr, topic_creation_t *tc)
{
    topic_t *t = tc->tc_topic;
    for (int32_t p = 0; p < tc->tc_opened; p++) {
        char dir[4096];
        log_close_abrupt(t->t_parts[p]->p_log);
        t->t_parts[p]->p_log = NULL;
        snprintf(dir, sizeof dir, "%s/%s-%d", tr->tr_dir, t->t_name, p);
        topics_remove_tree(dir);
    }
    creation_unlink(tr, tc);
    topic_free(t);
    free(tc);
}

int topics_create_step(topic_registry_t *tr, topic_creation_t *tc, int32_t max_parts,
                       int64_t now_ms, int *done, char *msg, size_t msg_size)
{
    topic_t *t = tc->tc_topic;
    *done = 0;
    for (int32_t k = 0; k < max_parts && tc->tc_opened < t->t_npartitions; k++) {
        int32_t p = tc->tc_opened;
        char dir[4096], name[300];
        snprintf(dir, sizeof dir, "%s/%s-%d", tr->tr_dir, t->t_name, p);
        snprintf(name, sizeof name, "%s-%d", t->t_name, p);
        /* Data left by a crash in an earlier create or delete must not come back. */
        topics_remove_tree(dir);
        int rc = log_open(dir, name, &t->t_cfg, tr->tr_fdc, now_ms, &t->t_parts[p]->p_log, msg,
                          msg_size);
        if (rc < 0) {
            EDDY_LOG_ERROR("broker", "creating topic %s failed: %s", t->t_name, msg);
            creation_undo(tr, tc);
            *done = 1;
            return KERR_UNKNOWN_SERVER_ERROR;
        }
        log_set_inline_flush(t->t_parts[p]->p_log, 0);
        tc->tc_opened++;
    }
    if (tc->tc_opened < t->t_npartitions)
        return KERR_NONE;
    int rc = write_topic_meta(tr, t);
    if (rc < 0)
        snprintf(msg, msg_size, "cannot write the topic's metadata: %s", eddy_strerror(rc));
    else if ((rc = registry_add(tr, t)) < 0)
        snprintf(msg, msg_size, "out of memory");
    *done = 1;
    if (rc < 0) {
        EDDY_LOG_ERROR("broker", "creating topic %s failed: %s", t->t_name, msg);
        char path[4400];
        snprintf(path, sizeof path, "%s/topics/%s", tr->tr_dir, t->t_name);
        unlink(path);
        creation_undo(tr, tc);
        return KERR_UNKNOWN_SERVER_ERROR;
    }
    creation_unlink(tr, tc);
    free(tc);
    EDDY_LOG_INFO("broker", "created topic %s with %d partition(s)", t->t_name, t->t_npartitions);
    return KERR_NONE;
}

int topics_create(topic_registry_t *tr, const char *name, size_t len, int32_t partitions,
                  const char *const *keys, const char *const *values, int n, int64_t now_ms,
                  char *msg, size_t msg_size)
{
    topic_creation_t *tc;
    int err = topics_create_begin(tr, name, len, partitions, keys, values, n, msg, msg_size, &tc);
    int done = 0;
    while (err == KERR_NONE && !done)
        err = topics_create_step(tr, tc, partitions, now_ms, &done, msg, msg_size);
    return err;
}

/* Compacted: what the broker replays from an internal topic at start is the
 * latest record of each key (a group's offset, a transactional id's state),
 * so the cleaner may drop the older ones and the replay stays bounded by the
 * number of keys, not by the topic's history. */
topic_t *topics_open_internal(topic_registry_t *tr, const char *name, int32_t partitions,
                              int64_t segment_bytes, char *errstr, size_t errstr_size)
{
    topic_t *t = topics_find(tr, name, strlen(name));
    if (t)
        return t;
    char segment[64];
    snprintf(segment, sizeof segment, "%" PRId64, segment_bytes);
    const char *keys[] = {"cleanup.policy", "segment.bytes"};
    const char *vals[] = {"compact", segment};
    char msg[512];
    int err = topics_create(tr, name, strlen(name), partitions, keys, vals, 2, eddy_wall_ms(), msg,
                            sizeof msg);
    if (err != KERR_NONE) {
        snprintf(errstr, errstr_size, "cannot create %s: %s", name, msg);
        return NULL;
    }
    return topics_find(tr, name, strlen(name));
}

int topics_add_partitions(topic_registry_t *tr, const char *name, size_t len, int32_t count,
                          int validate_only, int64_t now_ms, char *msg, size_t msg_size)
{
    topic_t *t = topics_find(tr, name, len);
    if (!t) {
        snprintf(msg, msg_size, "topic '%.*s' does not exist", (int)len, name);
        return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    int32_t old = t->t_npartitions;
    if (t->t_internal) {
        /* Which __consumer_offsets partition holds a group depends on the
         * count (group_partition_for): a change would lose every group. */
        snprintf(msg, msg_size, "the partitions of internal topic '%s' cannot be changed",
                 t->t_name);
        return KERR_INVALID_PARTITIONS;
    }
    if (count == old) {
        snprintf(msg, msg_size, "topic '%s' already has %d partition(s)", t->t_name, old);
        return KERR_INVALID_PARTITIONS;
    }
    if (count < old) {
        snprintf(msg, msg_size,
                 "topic '%s' has %d partition(s), more than the requested %d: partitions can "
                 "be added, never removed",
                 t->t_name, old, count);
        return KERR_INVALID_PARTITIONS;
    }
    if (count > MAX_PARTITIONS) {
        snprintf(msg, msg_size, "number of partitions must be 1..%d, not %d", MAX_PARTITIONS,
                 count);
        return KERR_INVALID_PARTITIONS;
    }
    if (validate_only)
        return KERR_NONE;
    if (parts_reserve(t, count) < 0) {
        snprintf(msg, msg_size, "out of memory");
        return KERR_UNKNOWN_SERVER_ERROR;
    }
    /* The new logs first, the metadata last (the commit point): after a
     * crash in between, the new directories belong to no partition and are
     * removed at start-up, as for an interrupted create. */
    int32_t p;
    int rc = 0;
    for (p = old; p < count; p++) {
        char dir[4096], pname[300];
        snprintf(dir, sizeof dir, "%s/%s-%d", tr->tr_dir, t->t_name, p);
        snprintf(pname, sizeof pname, "%s-%d", t->t_name, p);
        topics_remove_tree(dir); /* left by a crash in an earlier grow */
        rc = log_open(dir, pname, &t->t_cfg, tr->tr_fdc, now_ms, &t->t_parts[p]->p_log, msg,
                      msg_size);
        if (rc < 0)
            break;
        log_set_inline_flush(t->t_parts[p]->p_log, 0);
    }
    if (rc == 0) {
        t->t_npartitions = count;
        rc = write_topic_meta(tr, t);
        if (rc < 0) {
            t->t_npartitions = old;
            snprintf(msg, msg_size, "cannot write the topic's metadata: %s", eddy_strerror(rc));
        }
    }
    if (rc < 0) {
        EDDY_LOG_ERROR("broker", "adding partitions to topic %s failed: %s", t->t_name, msg);
        while (--p >= old) {
            char dir[4096];
            log_close_abrupt(t->t_parts[p]->p_log);
            t->t_parts[p]->p_log = NULL;
            snprintf(dir, sizeof dir, "%s/%s-%d", tr->tr_dir, t->t_name, p);
            topics_remove_tree(dir);
        }
        return KERR_KAFKA_STORAGE_ERROR;
    }
    EDDY_LOG_INFO("broker", "topic %s: partitions %d -> %d", t->t_name, old, count);
    return KERR_NONE;
}

int topics_delete_begin(topic_registry_t *tr, const char *name, size_t len, topic_deletion_t **out)
{
    topic_t *t = topics_find(tr, name, len);
    if (!t)
        return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    topic_deletion_t *td = calloc(1, sizeof *td);
    if (!td)
        return KERR_UNKNOWN_SERVER_ERROR;
    char path[4096];
    snprintf(path, sizeof path, "%s/topics/%s", tr->tr_dir, t->t_name);
    if (unlink(path) < 0) {
        EDDY_LOG_ERROR("broker", "cannot delete %s: %s", path, strerror(errno));
        free(td);
        return KERR_KAFKA_STORAGE_ERROR;
    }
    snprintf(path, sizeof path, "%s/topics", tr->tr_dir);
    log_fsync_dir(path);
    /* The logs stay open (unreachable) while background work still holds
     * the topic; the registry's reference passes to the deletion. */
    t->t_deleted = 1;
    for (int i = 0; i < tr->tr_count; i++)
        if (tr->tr_topics[i] == t) {
            tr->tr_topics[i] = tr->tr_topics[--tr->tr_count];
            break;
        }
    td->td_topic = t;
    /* One directory for all the partitions, removed by one job once they
     * are all in it: 20,000 removal jobs would fill the worker pool (and
     * the CPUs) while the loop still has partitions to move. A short name:
     * "<topic>-<p>" may already use the whole NAME_MAX. */
    static unsigned seq;
    snprintf(td->td_aside, sizeof td->td_aside, "%s/.deleted-%" PRId64 "-%u", tr->tr_dir,
             eddy_wall_ms(), seq++);
    td->td_aside_ok = mkdir(td->td_aside, 0755) == 0;
    td->td_next = tr->tr_deleting;
    tr->tr_deleting = td;
    *out = td;
    return KERR_NONE;
}

int topics_delete_step(topic_registry_t *tr, topic_deletion_t *td, int32_t max_parts,
                       void (*deleter)(const char *dir, void *opaque), void *opaque)
{
    topic_t *t = td->td_topic;
    for (int32_t k = 0; k < max_parts && td->td_moved < t->t_npartitions; k++) {
        int32_t p = td->td_moved++;
        char from[4096], to[4300];
        snprintf(from, sizeof from, "%s/%s-%d", tr->tr_dir, t->t_name, p);
        if (td->td_aside_ok) {
            snprintf(to, sizeof to, "%s/%d", td->td_aside, p);
            if (rename(from, to) < 0)
                topics_remove_tree(from);
        } else {
            topics_remove_tree(from); /* could not make the directory: in place */
        }
        /* Closed here, a few at a time, unless background work (a flush,
         * a compaction) still uses the topic's logs: then the last
         * release closes them. */
        if (t->t_refs == 1 && t->t_parts[p]->p_log) {
            log_close_abrupt(t->t_parts[p]->p_log);
            t->t_parts[p]->p_log = NULL;
        }
    }
    if (td->td_moved < t->t_npartitions)
        return 0;
    if (td->td_aside_ok)
        deleter(td->td_aside, opaque);
    for (topic_deletion_t **pp = &tr->tr_deleting; *pp; pp = &(*pp)->td_next)
        if (*pp == td) {
            *pp = td->td_next;
            break;
        }
    EDDY_LOG_INFO("broker", "deleted topic %s", t->t_name);
    topic_release(t);
    free(td);
    return 1;
}

int topics_delete(topic_registry_t *tr, const char *name, size_t len,
                  void (*deleter)(const char *dir, void *opaque), void *opaque)
{
    topic_deletion_t *td;
    int err = topics_delete_begin(tr, name, len, &td);
    while (err == KERR_NONE && !topics_delete_step(tr, td, INT32_MAX, deleter, opaque))
        ;
    return err;
}

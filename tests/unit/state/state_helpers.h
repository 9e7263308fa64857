/* Shared by the state tests: scratch directories, a hook recorder, a log
 * capture. */
#ifndef EDDY_TEST_STATE_HELPERS_H
#define EDDY_TEST_STATE_HELPERS_H

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "state/store.h"

#define B(s) eddy_bytes((s), strlen(s))

/* rm -r path (no symlinks are made here). */
static inline void rm_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char sub[4096];
            if (snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) >= (int)sizeof sub)
                continue; /* not a path this suite makes */
            rm_tree(sub);
        }
        closedir(d);
    }
    remove(path);
}

/* A fresh scratch directory (the env goes in <dir>/task unless a test says
 * otherwise). */
static inline void scratch_new(char *dir, size_t size)
{
    snprintf(dir, size, "/tmp/eddy-state-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static inline void scratch_rm(const char *dir)
{
    rm_tree(dir);
}

static inline st_env_t *env_open_ok(const char *dir, int max_stores, size_t map)
{
    char err[512] = "";
    st_env_t *env = st_env_open(dir, max_stores, map, err, sizeof err);
    ck_assert_msg(env != NULL, "st_env_open(%s): %s", dir, err);
    return env;
}

static inline st_store_t *store_open_ok(st_env_t *env, const char *name,
                                        const st_store_hooks_t *hooks)
{
    char err[512] = "";
    st_store_t *s = st_store_open(env, name, hooks, err, sizeof err);
    ck_assert_msg(s != NULL, "st_store_open(%s): %s", name, err);
    return s;
}

/* The value of key as a string ("" when absent: tests never store ""). */
static inline const char *get_str(st_store_t *s, const char *key, char *buf, size_t size)
{
    eddy_bytes_t v;
    int rc = st_store_get(s, B(key), &v);
    if (rc == -ENOENT) {
        buf[0] = 0;
        return buf;
    }
    ck_assert_msg(rc == 0, "get %s: %s", key, eddy_strerror(rc));
    snprintf(buf, size, "%.*s", (int)v.len, (const char *)v.data);
    return buf;
}

/* Records hook calls as lines "C key=value@ts" and "F key=new/old@ts" (a
 * null value prints as ~). */
#define REC_MAX 256
typedef struct rec {
    char r_lines[REC_MAX][160];
    int r_n;
    /* Forward hook: put the change into this store (key, new value), and
     * remember the result; r_self: also try a put into the hook's own store. */
    st_store_t *r_forward_to;
    int r_forward_rc;
    int r_self;
    int r_self_rc;
} rec_t;

static inline void bytes_str(char *out, size_t size, eddy_bytes_t b)
{
    if (eddy_bytes_is_null(b))
        snprintf(out, size, "~");
    else
        snprintf(out, size, "%.*s", (int)b.len, (const char *)b.data);
}

static inline void rec_changelog(st_store_t *s, eddy_bytes_t key, eddy_bytes_t value, int64_t ts,
                                 void *opaque)
{
    (void)s;
    rec_t *r = opaque;
    char k[40], v[40];
    bytes_str(k, sizeof k, key);
    bytes_str(v, sizeof v, value);
    if (r->r_n < REC_MAX)
        snprintf(r->r_lines[r->r_n++], sizeof r->r_lines[0], "C %s=%s@%" PRId64, k, v, ts);
}

static inline void rec_forward(st_store_t *s, eddy_bytes_t key, eddy_bytes_t nv, eddy_bytes_t ov,
                               int64_t ts, void *opaque)
{
    rec_t *r = opaque;
    char k[40], n[40], o[40];
    bytes_str(k, sizeof k, key);
    bytes_str(n, sizeof n, nv);
    bytes_str(o, sizeof o, ov);
    if (r->r_n < REC_MAX)
        snprintf(r->r_lines[r->r_n++], sizeof r->r_lines[0], "F %s=%s/%s@%" PRId64, k, n, o, ts);
    if (r->r_forward_to)
        r->r_forward_rc = st_store_put(r->r_forward_to, key, nv, ts);
    if (r->r_self)
        r->r_self_rc = st_store_put(s, B("self"), B("x"), ts);
}

static inline st_store_hooks_t rec_hooks(rec_t *r)
{
    memset(r, 0, sizeof *r);
    return (st_store_hooks_t){rec_changelog, rec_forward, r};
}

/* Asserts the recorded lines, then forgets them. */
static inline void rec_expect(rec_t *r, const char *const *lines, int n)
{
    char all[4096] = "";
    for (int i = 0; i < r->r_n; i++) {
        strncat(all, r->r_lines[i], sizeof all - strlen(all) - 2);
        strcat(all, "|");
    }
    ck_assert_msg(r->r_n == n, "expected %d hook calls, got %d: %s", n, r->r_n, all);
    for (int i = 0; i < n; i++)
        ck_assert_msg(strcmp(r->r_lines[i], lines[i]) == 0, "hook call %d: expected %s, got %s", i,
                      lines[i], r->r_lines[i]);
    r->r_n = 0;
}

/* Log capture: the ERROR lines of facility "state". */
typedef struct logcap {
    int lc_errors;
    char lc_last[1024];
} logcap_t;

static inline void logcap_sink(int level, const char *facility, const char *line, void *opaque)
{
    logcap_t *c = opaque;
    if (level == EDDY_LOG_LVL_ERROR && strcmp(facility, "state") == 0) {
        c->lc_errors++;
        snprintf(c->lc_last, sizeof c->lc_last, "%s", line);
    }
}

#endif

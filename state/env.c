/* The LMDB environment of a task: files, the write transaction kept open
 * between commits, map growth, changelog offsets, and reads from other
 * threads.
 *
 * state.dir/<application.id>/<task>/
 *   data.mdb   one LMDB environment (B+trees, copy on write). Its main
 *              database names the others:
 *                <store>               one per store: the record keys (any
 *                                      length, empty included) encoded as
 *                                      state/keys.c draws; values as the
 *                                      serde wrote them (a long key's rest
 *                                      in front).
 *                __changelog_offsets   for each changelog partition, the next
 *                                      offset to restore from:
 *
 *       key    0        topic          1..249 bytes, no NUL (Kafka's topic
 *                                      names are [a-zA-Z0-9._-])
 *              len      0x00
 *              len+1    partition      int32 big-endian
 *       value  0        next_offset    int64 big-endian; exactly 8 bytes,
 *                                      any other size is corrupt
 *
 *                                      and beside it, the changelog
 *                                      incarnation record the state covers
 *                                      (st_incarnation_t):
 *       key    0        topic, 0x00, partition as above
 *              len+5    'I'
 *       value  0        id             16 bytes
 *              16       offset         int64 big-endian, >= 0; exactly 24
 *                                      bytes, any other value is corrupt
 *
 *                                      and once, the format record, written
 *                                      when the environment is created:
 *
 *       key    0        0x00 "format"  7 bytes (no topic starts with 0x00)
 *       value  0        version        uint32 big-endian (ST_FORMAT_VERSION)
 *              4        hash key       16 bytes, random: the key of the
 *                                      hash of long record keys
 *
 *              An environment whose format record is missing (format 1,
 *              before keys of any length: raw keys of 1..511 bytes), or
 *              holds another version, is wiped at open and its stores are
 *              restored from their changelogs; it is never read.
 *
 *   lock.mdb   LMDB's reader table and writer lock; stale entries of dead
 *              processes are cleared at open.
 *
 * Recovery rule. The offsets are written in the same transaction as the
 * data they cover (st_env_commit), so a committed checkpoint never claims
 * more than the data holds. The environment is opened with MDB_NOMETASYNC:
 * each commit fsyncs the data pages but not the meta page, so a system
 * crash may undo the last committed transaction but never corrupts the
 * file (MDB_NOSYNC could, when the file system reorders writes). A process
 * crash loses only the open transaction. Either way the checkpoint found at
 * the next open is the one of the data found, or older when an automatic
 * commit (no offsets) came after it; restore replays the changelog from it,
 * and replaying full values is idempotent. Durability is the changelog's.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "common/fs.h"
#include "state/state_int.h"

#define OFFSETS_TOPIC_MAX 249

int st_err_from_mdb(int rc)
{
    switch (rc) {
    case 0: return 0;
    case MDB_NOTFOUND: return -ENOENT;
    case MDB_MAP_FULL:
    case MDB_TXN_FULL: return -ENOSPC;
    case MDB_BAD_VALSIZE: return EDDY_ERR_TOO_LARGE;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH: return EDDY_ERR_CORRUPT;
    case MDB_READERS_FULL: return -EAGAIN;
    case MDB_DBS_FULL: return EDDY_ERR_TOO_LARGE;
    default:
        if (rc > 0)
            return -rc; /* an errno */
        return -EIO;
    }
}

/* ---- the redo log of the open transaction ------------------------------- */

#define REDO_HDR 13

static int redo_append(st_env_t *env, MDB_dbi dbi, const MDB_val *key, const MDB_val *val)
{
    size_t vlen = val ? val->mv_size : 0;
    size_t need = REDO_HDR + key->mv_size + vlen;
    if (vlen > UINT32_MAX)
        return EDDY_ERR_TOO_LARGE;
    if (env->se_redo_len + need > env->se_redo_cap) {
        size_t cap = env->se_redo_cap ? env->se_redo_cap : 64 << 10;
        while (cap < env->se_redo_len + need)
            cap *= 2;
        uint8_t *p = realloc(env->se_redo, cap);
        if (!p)
            return -ENOMEM;
        env->se_redo = p;
        env->se_redo_cap = cap;
    }
    uint8_t *p = env->se_redo + env->se_redo_len;
    p[0] = val ? 'P' : 'D';
    be32_store(p + 1, (uint32_t)dbi);
    be32_store(p + 5, (uint32_t)key->mv_size);
    be32_store(p + 9, (uint32_t)vlen);
    memcpy(p + REDO_HDR, key->mv_data, key->mv_size);
    if (vlen)
        memcpy(p + REDO_HDR + key->mv_size, val->mv_data, vlen);
    env->se_redo_len += need;
    return 0;
}

static void redo_clear(st_env_t *env)
{
    env->se_redo_len = 0;
    /* A transaction that carried large values should not pin their memory
     * until the environment closes. */
    if (env->se_redo_cap > ((size_t)1 << 20)) {
        free(env->se_redo);
        env->se_redo = NULL;
        env->se_redo_cap = 0;
    }
}

static int mdb_apply(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *val, unsigned flags)
{
    if (val)
        return mdb_put(txn, dbi, key, val, flags);
    int rc = mdb_del(txn, dbi, key, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Replays redo[0..upto) into the open transaction; an LMDB code. */
static int redo_replay(st_env_t *env, size_t upto)
{
    size_t pos = 0;
    while (pos < upto) {
        const uint8_t *p = env->se_redo + pos;
        MDB_val key = {be32_load(p + 5), (void *)(p + REDO_HDR)};
        MDB_val val = {be32_load(p + 9), (void *)(p + REDO_HDR + key.mv_size)};
        int rc = mdb_apply(env->se_txn, (MDB_dbi)be32_load(p + 1), &key, p[0] == 'P' ? &val : NULL,
                           0);
        if (rc)
            return rc;
        pos += REDO_HDR + key.mv_size + val.mv_size;
    }
    return 0;
}

/* ---- transactions and map growth ------------------------------------------ */

static void txn_end(st_env_t *env)
{
    env->se_txn = NULL;
    env->se_txn_gen++;
    env->se_txn_puts = 0;
    env->se_txn_bytes = 0;
}

static void txn_abort(st_env_t *env)
{
    if (env->se_txn) {
        mdb_txn_abort(env->se_txn);
        txn_end(env);
    }
    redo_clear(env);
}

int st_env_fail(st_env_t *env, int rc, const char *what)
{
    int err = st_err_from_mdb(rc);
    txn_abort(env);
    if (rc == MDB_MAP_FULL)
        EDDY_LOG_ERROR(ST_FAC,
                       "state dir %s: %s: the LMDB map is full at %zu bytes (limit %zu); the "
                       "uncommitted writes are lost. Raise the map limit or free disk space, "
                       "then restore the task from its changelog",
                       env->se_dir, what, st_env_map_size(env), env->se_map_limit);
    else
        EDDY_LOG_ERROR(ST_FAC,
                       "state dir %s: %s failed: %s (%s); the uncommitted writes are lost, the "
                       "task should be closed and restored from its changelog",
                       env->se_dir, what, mdb_strerror(rc), eddy_strerror(err));
    return err;
}

/* Sets the map size to bytes (no transaction open). LMDB code. LMDB
 * unmaps before it maps again, so a failed mmap leaves it without a map:
 * the old size is then mapped again, and if even that fails the
 * environment is marked dead (every call then fails, none touches LMDB). */
static int map_set(st_env_t *env, size_t bytes)
{
    size_t old = st_env_map_size(env);
    pthread_rwlock_wrlock(&env->se_map_lock);
    int rc = mdb_env_set_mapsize(env->se_mdb, bytes);
    if (rc && mdb_env_set_mapsize(env->se_mdb, old) != 0) {
        env->se_dead = 1;
        EDDY_LOG_ERROR(ST_FAC,
                       "state dir %s: the LMDB map cannot be mapped again after a failed "
                       "resize (%s); the environment is unusable until reopened",
                       env->se_dir, mdb_strerror(rc));
    }
    pthread_rwlock_unlock(&env->se_map_lock);
    return rc;
}

/* Doubles the map (no transaction open), or MDB_MAP_FULL at the limit. */
static int map_double(st_env_t *env)
{
    size_t cur = st_env_map_size(env);
    size_t next = cur <= SIZE_MAX / 2 ? cur * 2 : SIZE_MAX;
    if (env->se_map_limit && next > env->se_map_limit)
        next = env->se_map_limit;
    next -= next % env->se_psize;
    if (next <= cur)
        return MDB_MAP_FULL;
    int rc = map_set(env, next);
    if (rc == 0)
        EDDY_LOG_DEBUG(ST_FAC, "state dir %s: map grown from %zu to %zu bytes", env->se_dir, cur,
                       next);
    else if (env->se_dead)
        return EIO;
    else if (rc == ENOMEM || rc == EINVAL)
        return MDB_MAP_FULL; /* the address space will not take it */
    return rc;
}

/* Before a transaction: doubles the map while the used pages pass half of
 * it (as long as the limit allows). */
static int map_grow_if_half(st_env_t *env)
{
    for (;;) {
        MDB_envinfo info;
        mdb_env_info(env->se_mdb, &info);
        size_t used = ((size_t)info.me_last_pgno + 1) * env->se_psize;
        if (used <= info.me_mapsize / 2)
            return 0;
        int rc = map_double(env);
        if (rc == MDB_MAP_FULL)
            return 0; /* at the limit: go on, a full map is reported by the write */
        if (rc)
            return rc;
    }
}

static int txn_begin(st_env_t *env)
{
    int rc = map_grow_if_half(env);
    if (rc)
        return rc;
    rc = mdb_txn_begin(env->se_mdb, NULL, 0, &env->se_txn);
    if (rc == MDB_MAP_RESIZED) {
        /* Another process grew the map: adopt its size. */
        rc = map_set(env, 0);
        if (rc == 0)
            rc = mdb_txn_begin(env->se_mdb, NULL, 0, &env->se_txn);
    }
    if (rc)
        env->se_txn = NULL;
    return rc;
}

/* After MDB_MAP_FULL (the transaction is dead): abort, grow, begin again
 * and replay redo[0..upto). LMDB code; MDB_MAP_FULL at the limit. */
static int map_full_recover(st_env_t *env, size_t upto)
{
    for (;;) {
        if (env->se_txn) {
            mdb_txn_abort(env->se_txn);
            env->se_txn = NULL;
        }
        env->se_txn_gen++;
        int rc = map_double(env);
        if (rc)
            return rc;
        rc = mdb_txn_begin(env->se_mdb, NULL, 0, &env->se_txn);
        if (rc) {
            env->se_txn = NULL;
            return rc;
        }
        rc = redo_replay(env, upto);
        if (rc != MDB_MAP_FULL)
            return rc;
    }
}

static int write_mark(st_env_t *env, uint64_t v);

/* Commits the open transaction (a no-op with none); an Eddy error.
 * automatic: a commit the environment makes on its own, not st_env_commit;
 * with st_env_mark_auto_commits on, it carries the mark that the committed
 * state may hold writes no st_env_commit covered. */
static int txn_commit(st_env_t *env, const char *what, int automatic)
{
    if (!env->se_txn)
        return 0;
    if (automatic && env->se_mark_auto) {
        int err = write_mark(env, 1);
        if (err)
            return err;
    }
    for (;;) {
        int rc = mdb_txn_commit(env->se_txn); /* frees the txn, also on failure */
        env->se_txn = NULL;
        if (rc == MDB_MAP_FULL) {
            /* The commit's own free-list pages did not fit. */
            rc = map_full_recover(env, env->se_redo_len);
            if (rc == 0)
                continue;
        }
        if (rc) {
            txn_end(env);
            return st_env_fail(env, rc, what);
        }
        break;
    }
    txn_end(env);
    redo_clear(env);
    return 0;
}

int st_env_commit_auto(st_env_t *env, const char *what)
{
    if (env->se_dead)
        return -EIO;
    return txn_commit(env, what, 1);
}

int st_env_txn(st_env_t *env, int for_write)
{
    if (env->se_dead)
        return -EIO;
    if (env->se_txn && for_write &&
        (env->se_txn_puts >= env->se_txn_max_puts || env->se_txn_bytes >= env->se_txn_max_bytes)) {
        /* Safe at any time: restore replays from the last stored offsets. */
        EDDY_LOG_DEBUG(ST_FAC,
                       "state dir %s: committing a large transaction (%zu writes, %zu bytes)",
                       env->se_dir, env->se_txn_puts, env->se_txn_bytes);
        int err = txn_commit(env, "automatic commit", 1);
        if (err)
            return err;
    }
    if (env->se_txn)
        return 0;
    int rc = txn_begin(env);
    if (rc)
        return st_env_fail(env, rc, "beginning a write transaction");
    return 0;
}

int st_env_write(st_env_t *env, MDB_dbi dbi, const MDB_val *key, const MDB_val *val)
{
    return st_env_write_flags(env, dbi, key, val, 0);
}

int st_env_reserve(st_env_t *env, size_t bytes)
{
    if (env->se_dead)
        return -EIO;
    if (env->se_txn)
        return 0; /* too late: a full map recovers by replaying */
    for (;;) {
        MDB_envinfo info;
        mdb_env_info(env->se_mdb, &info);
        size_t used = ((size_t)info.me_last_pgno + 1) * env->se_psize;
        if (used + bytes <= info.me_mapsize / 2)
            return 0;
        int rc = map_double(env);
        if (rc == MDB_MAP_FULL)
            return 0; /* at the limit: a write that does not fit says so */
        if (rc)
            return st_err_from_mdb(rc);
    }
}

int st_env_write_flags(st_env_t *env, MDB_dbi dbi, const MDB_val *key, const MDB_val *val,
                       unsigned flags)
{
    if (!env->se_txn) {
        int err = st_env_txn(env, 1);
        if (err)
            return err;
    }
    size_t mark = env->se_redo_len;
    int err = redo_append(env, dbi, key, val);
    if (err) {
        txn_abort(env);
        EDDY_LOG_ERROR(ST_FAC,
                       "state dir %s: no memory for the transaction's redo log (%s); the "
                       "uncommitted writes are lost",
                       env->se_dir, eddy_strerror(err));
        return err;
    }
    MDB_val k = *key, v = val ? *val : (MDB_val){0, NULL};
    int rc;
    for (;;) {
        rc = mdb_apply(env->se_txn, dbi, &k, val ? &v : NULL, flags);
        flags = 0; /* a replayed transaction: plain puts from here on */
        if (rc != MDB_MAP_FULL)
            break;
        rc = map_full_recover(env, mark);
        if (rc)
            break;
    }
    if (rc)
        return st_env_fail(env, rc, val ? "writing a record" : "deleting a record");
    env->se_txn_puts++;
    env->se_txn_bytes += key->mv_size + (val ? val->mv_size : 0);
    env->se_write_gen++;
    return 0;
}

/* ---- open, close, wipe ------------------------------------------------------ */

/* The key of the format record in __changelog_offsets: a topic's key never
 * starts with 0x00. */
static const uint8_t format_key[] = {0, 'f', 'o', 'r', 'm', 'a', 't'};
#define FORMAT_VALUE_LEN 20

static int random_bytes(uint8_t *p, size_t n)
{
    while (n) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* In the open transaction: reads the format record (a new environment gets
 * one, with a new hash key). An LMDB code; *stale set (and *found to the
 * version it holds, 1 for none) when the environment was written in
 * another format. */
static int format_check(st_env_t *env, int *stale, uint32_t *found)
{
    MDB_txn *txn = env->se_txn;
    *stale = 0;
    int rc = mdb_dbi_open(txn, ST_OFFSETS_DB, 0, &env->se_offsets_dbi);
    if (rc == MDB_NOTFOUND) {
        /* New, unless the main database names anything (not ours, or from
         * before the offsets database: refuse to guess). */
        MDB_dbi main_dbi;
        MDB_cursor *cur;
        MDB_val k, v;
        if ((rc = mdb_dbi_open(txn, NULL, 0, &main_dbi)) ||
            (rc = mdb_cursor_open(txn, main_dbi, &cur)))
            return rc;
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
        mdb_cursor_close(cur);
        if (rc == 0) {
            *stale = 1;
            *found = 0;
            return 0;
        }
        if (rc != MDB_NOTFOUND)
            return rc;
        uint8_t val[FORMAT_VALUE_LEN];
        val[0] = 0;
        val[1] = 0;
        val[2] = 0;
        val[3] = ST_FORMAT_VERSION;
        int err = random_bytes(val + 4, 16);
        if (err)
            return -err;
        if ((rc = mdb_dbi_open(txn, ST_OFFSETS_DB, MDB_CREATE, &env->se_offsets_dbi)))
            return rc;
        MDB_val fk = {sizeof format_key, (void *)format_key}, fv = {sizeof val, val};
        if ((rc = mdb_put(txn, env->se_offsets_dbi, &fk, &fv, 0)))
            return rc;
    }
    if (rc)
        return rc;
    MDB_val fk = {sizeof format_key, (void *)format_key}, fv;
    rc = mdb_get(txn, env->se_offsets_dbi, &fk, &fv);
    if (rc == MDB_NOTFOUND) {
        *stale = 1;
        *found = 1; /* record keys stored as they were: 1 to 511 bytes */
        return 0;
    }
    if (rc)
        return rc;
    const uint8_t *p = fv.mv_data;
    uint32_t version = fv.mv_size >= 4 ? be32_load(p) : 0;
    if (version != ST_FORMAT_VERSION || fv.mv_size != FORMAT_VALUE_LEN) {
        *stale = 1;
        *found = version;
        return 0;
    }
    memcpy(env->se_hash_key, p + 4, sizeof env->se_hash_key);
    return 0;
}

static st_env_t *env_open(const char *dir, int max_stores, size_t initial_map_bytes, int may_wipe,
                          char *errstr, size_t errstr_size);

st_env_t *st_env_open(const char *dir, int max_stores, size_t initial_map_bytes, char *errstr,
                      size_t errstr_size)
{
    return env_open(dir, max_stores, initial_map_bytes, 1, errstr, errstr_size);
}

static st_env_t *env_open(const char *dir, int max_stores, size_t initial_map_bytes, int may_wipe,
                          char *errstr, size_t errstr_size)
{
    if (!dir || !*dir || max_stores < 0 || max_stores > 10000) {
        snprintf(errstr, errstr_size, "state: invalid arguments to st_env_open (dir %s, %d stores)",
                 dir ? dir : "(null)", max_stores);
        return NULL;
    }
    int err = eddy_mkdir_p(dir);
    if (err) {
        snprintf(errstr, errstr_size,
                 "state dir %s cannot be created: %s; check that its parents are directories "
                 "you can write, or set state.dir elsewhere",
                 dir, eddy_strerror(err));
        return NULL;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        snprintf(errstr, errstr_size,
                 "state dir %s is not writable: %s; fix its owner or mode, or set state.dir to a "
                 "writable directory",
                 dir, strerror(errno));
        return NULL;
    }

    st_env_t *env = calloc(1, sizeof *env);
    if (!env || !(env->se_dir = strdup(dir)) ||
        !(env->se_stores = calloc((size_t)max_stores + 1, sizeof *env->se_stores))) {
        snprintf(errstr, errstr_size, "state dir %s: out of memory", dir);
        goto fail_alloc;
    }
    env->se_max_stores = max_stores;
    env->se_txn_max_puts = ST_TXN_MAX_PUTS;
    env->se_txn_max_bytes = ST_TXN_MAX_BYTES;
    pthread_mutex_init(&env->se_stores_mu, NULL);
    pthread_rwlock_init(&env->se_map_lock, NULL);

    const char *what = "mdb_env_create";
    int rc = mdb_env_create(&env->se_mdb);
    if (rc) {
        env->se_mdb = NULL;
        goto fail;
    }
    what = "mdb_env_set_maxdbs";
    if ((rc = mdb_env_set_maxdbs(env->se_mdb, (MDB_dbi)max_stores + 1)))
        goto fail;
    if (initial_map_bytes == 0)
        initial_map_bytes = ST_MAP_DEFAULT;
    if (initial_map_bytes < ST_MAP_MIN)
        initial_map_bytes = ST_MAP_MIN;
    what = "mdb_env_set_mapsize";
    if ((rc = mdb_env_set_mapsize(env->se_mdb, initial_map_bytes)))
        goto fail;
    /* MDB_NOTLS: read transactions are not tied to a thread (other threads
     * read while the owning thread keeps its write transaction open).
     * MDB_NOMETASYNC: see the recovery rule at the top. */
    what = "opening the LMDB environment";
    rc = mdb_env_open(env->se_mdb, dir, MDB_NOTLS | MDB_NOMETASYNC, 0644);
    if (rc)
        goto fail;
    int dead = 0;
    mdb_reader_check(env->se_mdb, &dead);
    if (dead)
        EDDY_LOG_INFO(ST_FAC, "state dir %s: cleared %d stale reader slots of dead processes", dir,
                      dead);

    MDB_stat st;
    mdb_env_stat(env->se_mdb, &st);
    env->se_psize = st.ms_psize;
    env->se_max_key = (size_t)mdb_env_get_maxkeysize(env->se_mdb);

    what = "reading the state format";
    if (env->se_max_key < ST_KEY_LONG_LEN) {
        rc = MDB_BAD_VALSIZE;
        goto fail;
    }
    if ((rc = txn_begin(env)))
        goto fail;
    int stale = 0;
    uint32_t found = 0;
    rc = format_check(env, &stale, &found);
    if (rc || stale) {
        mdb_txn_abort(env->se_txn);
        env->se_txn = NULL;
        if (rc)
            goto fail;
        /* Written in another format: never read it. Its stores come back
         * from their changelogs, as after any wipe. */
        EDDY_LOG_WARN(ST_FAC,
                      "state dir %s holds state format %" PRIu32 " (this Eddy reads and "
                      "writes format %d, which stores keys of any length): wiping it; its "
                      "stores are restored from their changelogs",
                      dir, found, ST_FORMAT_VERSION);
        mdb_env_close(env->se_mdb);
        pthread_rwlock_destroy(&env->se_map_lock);
        pthread_mutex_destroy(&env->se_stores_mu);
        free(env->se_stores);
        free(env->se_dir);
        free(env);
        if (!may_wipe || (err = st_env_wipe(dir)) != 0) {
            snprintf(errstr, errstr_size,
                     "state dir %s holds state format %" PRIu32 " and cannot "
                     "be wiped (%s); remove it, it is rebuilt from the changelog",
                     dir, found, eddy_strerror(err ? err : -EEXIST));
            return NULL;
        }
        return env_open(dir, max_stores, initial_map_bytes, 0, errstr, errstr_size);
    }
    rc = mdb_txn_commit(env->se_txn);
    env->se_txn = NULL;
    if (rc)
        goto fail;
    return env;

fail:
    if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH || rc == MDB_CORRUPTED ||
        rc == MDB_PAGE_NOTFOUND)
        snprintf(errstr, errstr_size,
                 "state dir %s: data.mdb is not a readable LMDB environment (%s); remove the "
                 "task's state dir, it is rebuilt from the changelog",
                 dir, mdb_strerror(rc));
    else if (rc == EACCES || rc == EPERM || rc == EROFS)
        snprintf(errstr, errstr_size,
                 "state dir %s: %s: %s; make data.mdb and lock.mdb writable by this user, or set "
                 "state.dir to a writable directory",
                 dir, what, mdb_strerror(rc));
    else if (rc == ENOSPC)
        snprintf(errstr, errstr_size, "state dir %s: %s: no space left on the device; free space",
                 dir, what);
    else
        snprintf(errstr, errstr_size, "state dir %s: %s: %s", dir, what, mdb_strerror(rc));
    if (env->se_mdb)
        mdb_env_close(env->se_mdb);
    pthread_rwlock_destroy(&env->se_map_lock);
    pthread_mutex_destroy(&env->se_stores_mu);
fail_alloc:
    if (env) {
        free(env->se_stores);
        free(env->se_dir);
        free(env);
    }
    return NULL;
}

void st_env_close(st_env_t *env)
{
    if (!env)
        return;
    if (env->se_txn) {
        mdb_txn_abort(env->se_txn);
        env->se_txn = NULL;
    }
    for (int i = 0; i < env->se_nstores; i++)
        st_store_free(env->se_stores[i]);
    mdb_env_close(env->se_mdb);
    pthread_rwlock_destroy(&env->se_map_lock);
    pthread_mutex_destroy(&env->se_stores_mu);
    free(env->se_redo);
    free(env->se_stores);
    free(env->se_dir);
    free(env);
}

int st_env_wipe(const char *dir)
{
    static const char *const files[] = {"data.mdb", "lock.mdb"};
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, files[i]) >= sizeof path)
            return -ENAMETOOLONG;
        if (unlink(path) != 0 && errno != ENOENT) {
            int err = -errno;
            EDDY_LOG_ERROR(ST_FAC, "state dir %s: cannot remove %s: %s", dir, files[i],
                           strerror(-err));
            return err;
        }
    }
    /* The directory goes too when nothing else is in it. */
    if (rmdir(dir) != 0 && errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST) {
        int err = -errno;
        EDDY_LOG_WARN(ST_FAC, "state dir %s: cannot remove the directory: %s", dir, strerror(-err));
    }
    return 0;
}

size_t st_env_map_size(const st_env_t *env)
{
    MDB_envinfo info;
    mdb_env_info(env->se_mdb, &info);
    return info.me_mapsize;
}

void st_env_set_limits(st_env_t *env, size_t map_limit, size_t txn_max_puts, size_t txn_max_bytes)
{
    env->se_map_limit = map_limit;
    env->se_txn_max_puts = txn_max_puts ? txn_max_puts : ST_TXN_MAX_PUTS;
    env->se_txn_max_bytes = txn_max_bytes ? txn_max_bytes : ST_TXN_MAX_BYTES;
}

void st_env_set_key_hash(st_env_t *env, uint64_t (*fn)(const uint8_t *key, size_t len))
{
    env->se_key_hash_fn = fn;
}

/* ---- changelog offsets ------------------------------------------------------- */

/* Fills buf (at least OFFSETS_TOPIC_MAX + 5 bytes); the key length, or 0 when
 * the topic cannot be a key. */
static size_t offsets_key(uint8_t *buf, const char *topic, int32_t partition)
{
    size_t n = topic ? strlen(topic) : 0;
    if (n == 0 || n > OFFSETS_TOPIC_MAX)
        return 0;
    memcpy(buf, topic, n);
    buf[n] = 0;
    be32_store(buf + n + 1, (uint32_t)partition);
    return n + 5;
}

int64_t st_env_checkpoint(st_env_t *env, const char *topic, int32_t partition)
{
    uint8_t kbuf[OFFSETS_TOPIC_MAX + 5];
    size_t klen = offsets_key(kbuf, topic, partition);
    if (!klen || env->se_dead)
        return -1;
    MDB_val key = {klen, kbuf}, val;
    MDB_txn *txn = env->se_txn, *own = NULL;
    if (!txn) {
        int rc = mdb_txn_begin(env->se_mdb, NULL, MDB_RDONLY, &own);
        if (rc) {
            EDDY_LOG_ERROR(ST_FAC,
                           "state dir %s: cannot read the checkpoint of %s-%" PRId32
                           ": %s; restoring from the beginning",
                           env->se_dir, topic, partition, mdb_strerror(rc));
            return -1;
        }
        txn = own;
    }
    int64_t off = -1;
    int rc = mdb_get(txn, env->se_offsets_dbi, &key, &val);
    if (rc == 0 && val.mv_size == 8) {
        const uint8_t *p = val.mv_data;
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
            v = v << 8 | p[i];
        off = (int64_t)v;
        if (off < 0) {
            EDDY_LOG_ERROR(ST_FAC,
                           "state dir %s: checkpoint of %s-%" PRId32 " is negative (%" PRId64
                           "): corrupt (%s); restoring from the beginning",
                           env->se_dir, topic, partition, off, eddy_strerror(EDDY_ERR_CORRUPT));
            off = -1;
        }
    } else if (rc == 0) {
        EDDY_LOG_ERROR(ST_FAC,
                       "state dir %s: checkpoint of %s-%" PRId32 " is %zu bytes, not 8: "
                       "corrupt (%s); restoring from the beginning",
                       env->se_dir, topic, partition, val.mv_size, eddy_strerror(EDDY_ERR_CORRUPT));
    } else if (rc != MDB_NOTFOUND) {
        EDDY_LOG_ERROR(ST_FAC,
                       "state dir %s: cannot read the checkpoint of %s-%" PRId32
                       ": %s; restoring from the beginning",
                       env->se_dir, topic, partition, mdb_strerror(rc));
    }
    if (own)
        mdb_txn_abort(own);
    return off;
}

/* The incarnation key: the offsets key and an 'I' (never a valid offsets
 * key, whose length is always topic + 5). */
static size_t incarnation_key(uint8_t *buf, const char *topic, int32_t partition)
{
    size_t n = offsets_key(buf, topic, partition);
    if (n)
        buf[n++] = 'I';
    return n;
}

#define INCARNATION_VALUE_LEN (ST_INCARNATION_ID_LEN + 8)

int st_env_incarnation(st_env_t *env, const char *topic, int32_t partition, st_incarnation_t *out)
{
    uint8_t kbuf[OFFSETS_TOPIC_MAX + 6];
    size_t klen = incarnation_key(kbuf, topic, partition);
    if (!klen || env->se_dead)
        return -ENOENT;
    MDB_val key = {klen, kbuf}, val;
    MDB_txn *txn = env->se_txn, *own = NULL;
    int rc;
    if (!txn) {
        if ((rc = mdb_txn_begin(env->se_mdb, NULL, MDB_RDONLY, &own))) {
            EDDY_LOG_ERROR(ST_FAC,
                           "state dir %s: cannot read the changelog incarnation of %s-%" PRId32
                           ": %s",
                           env->se_dir, topic, partition, mdb_strerror(rc));
            return -ENOENT;
        }
        txn = own;
    }
    int ret = -ENOENT;
    rc = mdb_get(txn, env->se_offsets_dbi, &key, &val);
    if (rc == 0 && val.mv_size == INCARNATION_VALUE_LEN) {
        const uint8_t *p = val.mv_data;
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
            v = v << 8 | p[ST_INCARNATION_ID_LEN + i];
        if ((int64_t)v >= 0) {
            memcpy(out->si_id, p, ST_INCARNATION_ID_LEN);
            out->si_offset = (int64_t)v;
            ret = 0;
        }
    }
    if (rc == 0 && ret != 0)
        EDDY_LOG_ERROR(ST_FAC,
                       "state dir %s: the changelog incarnation of %s-%" PRId32
                       " is corrupt (%zu bytes); read as none",
                       env->se_dir, topic, partition, val.mv_size);
    else if (rc != 0 && rc != MDB_NOTFOUND)
        EDDY_LOG_ERROR(ST_FAC,
                       "state dir %s: cannot read the changelog incarnation of %s-%" PRId32 ": %s",
                       env->se_dir, topic, partition, mdb_strerror(rc));
    if (own)
        mdb_txn_abort(own);
    return ret;
}

int st_env_set_incarnation(st_env_t *env, const char *topic, int32_t partition,
                           const st_incarnation_t *inc)
{
    uint8_t kbuf[OFFSETS_TOPIC_MAX + 6], vbuf[INCARNATION_VALUE_LEN];
    size_t klen = incarnation_key(kbuf, topic, partition);
    if (!klen || !inc || inc->si_offset < 0)
        return EDDY_ERR_INVALID_ARG;
    if (env->se_busy) {
        EDDY_LOG_ERROR(ST_FAC,
                       "state dir %s: st_env_set_incarnation called from a store hook; "
                       "refused",
                       env->se_dir);
        return -EBUSY;
    }
    int err = st_env_txn(env, 0);
    if (err)
        return err;
    memcpy(vbuf, inc->si_id, ST_INCARNATION_ID_LEN);
    uint64_t v = (uint64_t)inc->si_offset;
    for (int b = 7; b >= 0; b--, v >>= 8)
        vbuf[ST_INCARNATION_ID_LEN + b] = (uint8_t)v;
    MDB_val key = {klen, kbuf}, val = {sizeof vbuf, vbuf};
    return st_env_write(env, env->se_offsets_dbi, &key, &val);
}

/* The mark of automatic commits (st_env_mark_auto_commits), kept with the
 * changelog offsets: 1 after an automatic commit, 0 after st_env_commit. */
static int write_mark(st_env_t *env, uint64_t v)
{
    uint8_t kbuf[OFFSETS_TOPIC_MAX + 5], vbuf[8];
    size_t klen = offsets_key(kbuf, ST_AUTO_COMMIT_MARK, 0);
    for (int b = 7; b >= 0; b--, v >>= 8)
        vbuf[b] = (uint8_t)v;
    MDB_val key = {klen, kbuf}, val = {8, vbuf};
    return st_env_write(env, env->se_offsets_dbi, &key, &val);
}

void st_env_mark_auto_commits(st_env_t *env, int on)
{
    env->se_mark_auto = on ? 1 : 0;
}

int st_env_auto_committed(st_env_t *env)
{
    return st_env_checkpoint(env, ST_AUTO_COMMIT_MARK, 0) > 0;
}

int st_env_commit(st_env_t *env, const st_offset_t *offsets, int n)
{
    if (env->se_busy) {
        EDDY_LOG_ERROR(ST_FAC, "state dir %s: st_env_commit called from a store hook; refused",
                       env->se_dir);
        return -EBUSY;
    }
    int err = st_env_txn(env, 0);
    if (err)
        return err;
    for (int i = 0; i < n; i++) {
        uint8_t kbuf[OFFSETS_TOPIC_MAX + 5], vbuf[8];
        size_t klen = offsets_key(kbuf, offsets[i].so_topic, offsets[i].so_partition);
        if (!klen || offsets[i].so_offset < 0) {
            txn_abort(env);
            EDDY_LOG_ERROR(ST_FAC,
                           "state dir %s: commit of an invalid changelog offset (topic "
                           "%s, partition %" PRId32 ", offset %" PRId64 "); the uncommitted "
                           "writes are dropped",
                           env->se_dir, offsets[i].so_topic ? offsets[i].so_topic : "(null)",
                           offsets[i].so_partition, offsets[i].so_offset);
            return EDDY_ERR_INVALID_ARG;
        }
        uint64_t v = (uint64_t)offsets[i].so_offset;
        for (int b = 7; b >= 0; b--, v >>= 8)
            vbuf[b] = (uint8_t)v;
        MDB_val key = {klen, kbuf}, val = {8, vbuf};
        err = st_env_write(env, env->se_offsets_dbi, &key, &val);
        if (err)
            return err;
    }
    if (env->se_mark_auto && (err = write_mark(env, 0)) != 0)
        return err;
    return txn_commit(env, "commit", 0);
}

int st_env_flush(st_env_t *env)
{
    /* A store's hooks may put into another store (a downstream aggregation
     * in the same task), dirtying it again after its own flush: go round
     * until every cache is clean. Hooks only feed downstream, so this ends
     * after at most as many passes as stores; more means a cycle. */
    int passes = 0;
    for (;;) {
        int dirty = 0;
        for (int i = 0; i < env->se_nstores; i++) {
            st_store_t *s = env->se_stores[i];
            if (!s->ss_dirty_head)
                continue;
            dirty = 1;
            int err = st_store_flush(s);
            if (err)
                return err;
        }
        if (!dirty)
            return 0;
        if (++passes > env->se_nstores + 1) {
            EDDY_LOG_ERROR(ST_FAC,
                           "state dir %s: stores keep dirtying each other after %d flush "
                           "passes (hooks in a cycle?)",
                           env->se_dir, passes);
            return -ELOOP;
        }
    }
}

/* ---- reads from any thread --------------------------------------------------- */

/* The dbi of a store by name, or -ENOENT. */
static int store_dbi(st_env_t *env, const char *name, MDB_dbi *dbi)
{
    int err = -ENOENT;
    pthread_mutex_lock(&env->se_stores_mu);
    for (int i = 0; i < env->se_nstores; i++)
        if (strcmp(env->se_stores[i]->ss_name, name) == 0) {
            *dbi = env->se_stores[i]->ss_dbi;
            err = 0;
            break;
        }
    pthread_mutex_unlock(&env->se_stores_mu);
    return err;
}

static int read_begin(st_env_t *env, MDB_txn **txn)
{
    pthread_rwlock_rdlock(&env->se_map_lock);
    if (env->se_dead) {
        pthread_rwlock_unlock(&env->se_map_lock);
        return -EIO;
    }
    int rc = mdb_txn_begin(env->se_mdb, NULL, MDB_RDONLY, txn);
    if (rc) {
        pthread_rwlock_unlock(&env->se_map_lock);
        EDDY_LOG_WARN(ST_FAC, "state dir %s: cannot begin a read transaction: %s", env->se_dir,
                      mdb_strerror(rc));
        return st_err_from_mdb(rc);
    }
    return 0;
}

static void read_end(st_env_t *env, MDB_txn *txn)
{
    mdb_txn_abort(txn);
    pthread_rwlock_unlock(&env->se_map_lock);
}

int st_env_read_get(st_env_t *env, const char *store, eddy_bytes_t key, eddy_buf_t *out)
{
    MDB_dbi dbi;
    if (key.len < 0 || (key.len > 0 && !key.data))
        return EDDY_ERR_INVALID_ARG;
    if (key.len == 0)
        key.data = "";
    int err = store_dbi(env, store, &dbi);
    if (err)
        return err;
    MDB_txn *txn;
    if ((err = read_begin(env, &txn)))
        return err;
    st_kslot_t slot;
    MDB_val v;
    int rc = st_key_find(env, txn, dbi, key, &slot, &v);
    if (rc == 0) {
        if (v.mv_size > INT32_MAX) {
            EDDY_LOG_ERROR(ST_FAC, "state dir %s: store %s holds a value of %zu bytes: corrupt",
                           env->se_dir, store, v.mv_size);
            err = EDDY_ERR_CORRUPT;
        } else {
            if (out->cap < v.mv_size || !out->data) {
                uint8_t *p = realloc(out->data, v.mv_size ? v.mv_size : 1);
                if (!p) {
                    read_end(env, txn);
                    return -ENOMEM;
                }
                out->data = p;
                out->cap = v.mv_size ? v.mv_size : 1;
            }
            if (v.mv_size)
                memcpy(out->data, v.mv_data, v.mv_size);
            out->len = v.mv_size;
        }
    } else {
        err = st_err_from_mdb(rc);
    }
    read_end(env, txn);
    return err;
}

int st_env_read_range(st_env_t *env, const char *store, eddy_bytes_t from, eddy_bytes_t to,
                      eddy_kv_fn *fn, void *opaque)
{
    MDB_dbi dbi;
    int err = store_dbi(env, store, &dbi);
    if (err)
        return err;
    MDB_txn *txn;
    if ((err = read_begin(env, &txn)))
        return err;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc) {
        read_end(env, txn);
        return st_err_from_mdb(rc);
    }
    st_kcur_t kc;
    st_kcur_init(&kc, env, cur);
    for (rc = st_kcur_seek(&kc, from.len > 0 ? from : EDDY_NULL_BYTES, 0); rc == 0;
         rc = st_kcur_next(&kc)) {
        if (to.len >= 0 &&
            st_key_cmp(kc.kc_key.data, (size_t)kc.kc_key.len, to.data, (size_t)to.len) > 0)
            break;
        if (kc.kc_val.mv_size > INT32_MAX) {
            EDDY_LOG_ERROR(ST_FAC, "state dir %s: store %s holds a value of %zu bytes: corrupt",
                           env->se_dir, store, kc.kc_val.mv_size);
            err = EDDY_ERR_CORRUPT;
            break;
        }
        if (fn(kc.kc_key,
               (eddy_bytes_t){kc.kc_val.mv_size ? kc.kc_val.mv_data : (void *)"",
                              (int32_t)kc.kc_val.mv_size},
               opaque))
            break;
    }
    if (rc && rc != MDB_NOTFOUND)
        err = st_err_from_mdb(rc);
    mdb_cursor_close(cur);
    st_kcur_free(&kc);
    read_end(env, txn);
    return err;
}

/* Key-value stores: one LMDB database each, a record cache in front.
 *
 * The cache maps a key to its latest value (or a pending delete), the
 * timestamp of the put that set it, and whether it is dirty (not yet in
 * LMDB). Entries sit on an LRU list (reads and writes touch them) and the
 * dirty ones on a dirty list in the order of their last update, the order
 * in which Kafka Streams' NamedCache flushes them. The cache holds at most
 * ss_cache_limit bytes (entry struct + key + value capacity); past it the
 * least recently used entry is evicted, flushed first when dirty.
 *
 * Flushing one entry: read the old value from LMDB (copied, since the
 * hooks may write), write the new one (or delete) in the open transaction,
 * then call the changelog hook and the forward hook. A delete of a key that
 * LMDB does not hold reaches neither LMDB nor the hooks (there is nothing
 * to delete and nothing to tell downstream), as Kafka Streams' caching
 * store skips a flush whose old and new values are both null.
 *
 * Re-entrancy. Hooks may write to other stores of the environment (a
 * downstream aggregation in the same task). A put, restore or flush of a
 * store from its own hooks is refused with -EBUSY (ss_flushing), so that a
 * flush never sees its own lists change under it.
 *
 * Reads do not fill the cache: LMDB reads are memory-mapped already, and
 * the cache is there to absorb repeated writes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "state/state_int.h"

static const uint8_t empty_bytes[1];

static uint64_t hash_key(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a, then a finalizer */
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

#define key_cmp st_key_cmp

/* Keys are any bytes, empty included (state/keys.c stores them); null is
 * refused. An empty key gets a non-null pointer. */
static int check_key(eddy_bytes_t *key)
{
    if (key->len < 0 || (key->len > 0 && !key->data))
        return EDDY_ERR_INVALID_ARG;
    if (key->len == 0)
        key->data = empty_bytes;
    return 0;
}

static size_t entry_size(const st_centry_t *e)
{
    return sizeof *e + e->ce_klen + e->ce_vcap;
}

/* ---- lists --------------------------------------------------------------- */

static void lru_unlink(st_store_t *s, st_centry_t *e)
{
    if (e->ce_lru_prev)
        e->ce_lru_prev->ce_lru_next = e->ce_lru_next;
    else
        s->ss_lru_head = e->ce_lru_next;
    if (e->ce_lru_next)
        e->ce_lru_next->ce_lru_prev = e->ce_lru_prev;
    else
        s->ss_lru_tail = e->ce_lru_prev;
    e->ce_lru_prev = e->ce_lru_next = NULL;
}

static void lru_append(st_store_t *s, st_centry_t *e)
{
    e->ce_lru_next = NULL;
    e->ce_lru_prev = s->ss_lru_tail;
    if (s->ss_lru_tail)
        s->ss_lru_tail->ce_lru_next = e;
    else
        s->ss_lru_head = e;
    s->ss_lru_tail = e;
}

static void lru_touch(st_store_t *s, st_centry_t *e)
{
    if (s->ss_lru_tail != e) {
        lru_unlink(s, e);
        lru_append(s, e);
    }
}

static void dirty_unlink(st_store_t *s, st_centry_t *e)
{
    if (!e->ce_dirty)
        return;
    if (e->ce_dirty_prev)
        e->ce_dirty_prev->ce_dirty_next = e->ce_dirty_next;
    else
        s->ss_dirty_head = e->ce_dirty_next;
    if (e->ce_dirty_next)
        e->ce_dirty_next->ce_dirty_prev = e->ce_dirty_prev;
    else
        s->ss_dirty_tail = e->ce_dirty_prev;
    e->ce_dirty_prev = e->ce_dirty_next = NULL;
    e->ce_dirty = 0;
}

/* Marks e dirty as the most recently updated. */
static void dirty_mark(st_store_t *s, st_centry_t *e)
{
    dirty_unlink(s, e);
    e->ce_dirty = 1;
    e->ce_dirty_prev = s->ss_dirty_tail;
    if (s->ss_dirty_tail)
        s->ss_dirty_tail->ce_dirty_next = e;
    else
        s->ss_dirty_head = e;
    s->ss_dirty_tail = e;
}

/* ---- the hash table ---------------------------------------------------------- */

static st_centry_t *cache_find(const st_store_t *s, const uint8_t *key, size_t klen, uint64_t h)
{
    if (!s->ss_nbuckets)
        return NULL;
    for (st_centry_t *e = s->ss_buckets[h & (s->ss_nbuckets - 1)]; e; e = e->ce_hnext)
        if (e->ce_hash == h && e->ce_klen == klen && memcmp(e->ce_key, key, klen) == 0)
            return e;
    return NULL;
}

static int cache_rehash(st_store_t *s, size_t nbuckets)
{
    st_centry_t **b = calloc(nbuckets, sizeof *b);
    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < s->ss_nbuckets; i++) {
        st_centry_t *e = s->ss_buckets[i], *next;
        for (; e; e = next) {
            next = e->ce_hnext;
            size_t j = e->ce_hash & (nbuckets - 1);
            e->ce_hnext = b[j];
            b[j] = e;
        }
    }
    free(s->ss_buckets);
    s->ss_buckets = b;
    s->ss_nbuckets = nbuckets;
    return 0;
}

/* A new clean entry for key (no value yet: the caller sets one at once). */
static st_centry_t *cache_insert(st_store_t *s, const uint8_t *key, size_t klen, uint64_t h)
{
    if (s->ss_ncached + 1 > s->ss_nbuckets &&
        cache_rehash(s, s->ss_nbuckets ? s->ss_nbuckets * 2 : 64) != 0)
        return NULL;
    st_centry_t *e = calloc(1, sizeof *e + klen);
    if (!e)
        return NULL;
    memcpy(e->ce_key, key, klen);
    e->ce_klen = (uint32_t)klen;
    e->ce_hash = h;
    e->ce_vlen = -1;
    size_t j = h & (s->ss_nbuckets - 1);
    e->ce_hnext = s->ss_buckets[j];
    s->ss_buckets[j] = e;
    lru_append(s, e);
    s->ss_ncached++;
    s->ss_cache_bytes += entry_size(e);
    return e;
}

static void cache_remove(st_store_t *s, st_centry_t *e)
{
    st_centry_t **pp = &s->ss_buckets[e->ce_hash & (s->ss_nbuckets - 1)];
    while (*pp != e)
        pp = &(*pp)->ce_hnext;
    *pp = e->ce_hnext;
    lru_unlink(s, e);
    dirty_unlink(s, e);
    s->ss_ncached--;
    s->ss_cache_bytes -= entry_size(e);
    free(e->ce_value);
    free(e);
}

/* Sets e's value (null: a pending delete). value may point into e's own
 * buffer (a get followed by a put of the same key). */
static int entry_set_value(st_store_t *s, st_centry_t *e, eddy_bytes_t value)
{
    size_t before = entry_size(e);
    if (eddy_bytes_is_null(value)) {
        free(e->ce_value);
        e->ce_value = NULL;
        e->ce_vcap = 0;
        e->ce_vlen = -1;
    } else {
        size_t n = (size_t)value.len;
        if (n > e->ce_vcap || n < e->ce_vcap / 2) {
            uint8_t *p = NULL;
            if (n && !(p = malloc(n)))
                return -ENOMEM;
            if (n)
                memcpy(p, value.data, n);
            free(e->ce_value);
            e->ce_value = p;
            e->ce_vcap = (uint32_t)n;
        } else if (n) {
            memmove(e->ce_value, value.data, n);
        }
        e->ce_vlen = (int32_t)n;
    }
    s->ss_cache_bytes = s->ss_cache_bytes - before + entry_size(e);
    return 0;
}

static eddy_bytes_t entry_value(const st_centry_t *e)
{
    if (e->ce_vlen < 0)
        return EDDY_NULL_BYTES;
    return (eddy_bytes_t){e->ce_value ? e->ce_value : empty_bytes, e->ce_vlen};
}

/* ---- the flush path ---------------------------------------------------------- */

/* Writes key -> value (null: delete) to LMDB and tells the hooks, with the
 * value it replaces. The caller set ss_flushing. key and value must not
 * point into LMDB's map (a write may move its pages). */
static int store_write(st_store_t *s, eddy_bytes_t key, eddy_bytes_t value, int64_t ts)
{
    st_env_t *env = s->ss_env;
    int err = st_env_txn(env, 1);
    if (err)
        return err;
    st_kslot_t slot;
    MDB_val old;
    int has_old = 0;
    int rc = st_key_find(env, env->se_txn, s->ss_dbi, key, &slot, &old);
    if (rc == 0) {
        if (old.mv_size > INT32_MAX) {
            EDDY_LOG_ERROR(ST_FAC, "state dir %s: store %s holds a value of %zu bytes: corrupt",
                           env->se_dir, s->ss_name, old.mv_size);
            return EDDY_ERR_CORRUPT;
        }
        if (old.mv_size > s->ss_old_cap) {
            uint8_t *p = realloc(s->ss_old, old.mv_size);
            if (!p)
                return -ENOMEM;
            s->ss_old = p;
            s->ss_old_cap = old.mv_size;
        }
        if (old.mv_size)
            memcpy(s->ss_old, old.mv_data, old.mv_size);
        has_old = 1;
    } else if (rc != MDB_NOTFOUND) {
        return st_env_fail(env, rc, "reading the old value of a record");
    }
    if (eddy_bytes_is_null(value) && !has_old)
        return 0;
    if (eddy_bytes_is_null(value)) {
        err = st_env_write(env, s->ss_dbi, &slot.ks_key, NULL);
    } else {
        MDB_val v = {(size_t)value.len, (void *)value.data}, lv;
        if (!(err = st_key_value(&s->ss_enc, &s->ss_enc_cap, key, &v, &lv)))
            err = st_env_write(env, s->ss_dbi, &slot.ks_key, &lv);
    }
    if (err)
        return err;
    eddy_bytes_t oldb = EDDY_NULL_BYTES;
    if (has_old)
        oldb = (eddy_bytes_t){s->ss_old ? s->ss_old : empty_bytes, (int32_t)old.mv_size};
    if (s->ss_hooks.sh_changelog)
        s->ss_hooks.sh_changelog(s, key, value, ts, s->ss_hooks.sh_opaque);
    if (s->ss_hooks.sh_forward)
        s->ss_hooks.sh_forward(s, key, value, oldb, ts, s->ss_hooks.sh_opaque);
    return 0;
}

/* Flushes one dirty entry; a flushed delete leaves the cache (LMDB now says
 * the same). The caller set ss_flushing. */
static int flush_one(st_store_t *s, st_centry_t *e)
{
    int err = store_write(s, (eddy_bytes_t){e->ce_key, (int32_t)e->ce_klen}, entry_value(e),
                          e->ce_ts);
    if (err)
        return err;
    dirty_unlink(s, e);
    if (e->ce_vlen < 0)
        cache_remove(s, e);
    return 0;
}

static void flushing_begin(st_store_t *s)
{
    s->ss_flushing = 1;
    s->ss_env->se_busy++;
}

static void flushing_end(st_store_t *s)
{
    s->ss_flushing = 0;
    s->ss_env->se_busy--;
}

/* Evicts least recently used entries until the cache fits its limit. */
static int cache_evict(st_store_t *s)
{
    if (s->ss_flushing || s->ss_cache_bytes <= s->ss_cache_limit)
        return 0;
    int err = 0;
    flushing_begin(s);
    while (s->ss_cache_bytes > s->ss_cache_limit && s->ss_lru_head) {
        st_centry_t *e = s->ss_lru_head;
        if (e->ce_dirty) {
            if ((err = flush_one(s, e)))
                break;
            continue; /* e is gone (a delete) or clean and still the eldest */
        }
        cache_remove(s, e);
    }
    flushing_end(s);
    return err;
}

/* ---- the store ------------------------------------------------------------------- */

/* st_store_open, and st_store_open_any (in_hook: also from a store hook).
 * Returns 0 and *out, or an error with a sentence in errstr. */
static int store_open(st_env_t *env, const char *name, const st_store_hooks_t *hooks, int in_hook,
                      st_store_t **out, char *errstr, size_t errstr_size)
{
    *out = NULL;
    if (!name || !*name || strlen(name) > env->se_max_key || strcmp(name, ST_OFFSETS_DB) == 0) {
        snprintf(errstr, errstr_size,
                 "state dir %s: \"%s\" cannot name a store (1 to %zu bytes, "
                 "not %s)",
                 env->se_dir, name ? name : "(null)", env->se_max_key, ST_OFFSETS_DB);
        return EDDY_ERR_INVALID_ARG;
    }
    for (int i = 0; i < env->se_nstores; i++)
        if (strcmp(env->se_stores[i]->ss_name, name) == 0) {
            snprintf(errstr, errstr_size, "state dir %s: store %s is already open", env->se_dir,
                     name);
            return -EEXIST;
        }
    if (env->se_nstores >= env->se_max_stores) {
        snprintf(errstr, errstr_size,
                 "state dir %s: store %s would be store %d, but the "
                 "environment was opened for %d stores",
                 env->se_dir, name, env->se_nstores + 1, env->se_max_stores);
        return EDDY_ERR_TOO_LARGE;
    }
    if (env->se_busy && !in_hook) {
        snprintf(errstr, errstr_size, "state dir %s: store %s cannot be opened from a store hook",
                 env->se_dir, name);
        return -EBUSY;
    }
    st_store_t *s = calloc(1, sizeof *s);
    if (!s || !(s->ss_name = strdup(name))) {
        free(s);
        snprintf(errstr, errstr_size, "state dir %s: out of memory", env->se_dir);
        return -ENOMEM;
    }
    s->ss_env = env;
    if (hooks)
        s->ss_hooks = *hooks;

    /* The database handle is created in a transaction of its own, committed
     * at once: LMDB makes it visible to other transactions only after a
     * commit, closes it if its transaction aborts, and wants no other
     * transaction in the process active meanwhile (hence the map lock, which
     * keeps other threads' reads out). Committing the open transaction first
     * is safe (an automatic commit, also from a store hook: the hooks'
     * callers begin a new transaction when theirs has ended). The growth
     * check at the start of every transaction leaves half the map free,
     * ample for one database. */
    int err = 0;
    if (env->se_txn)
        err = st_env_commit_auto(env, "automatic commit before opening a store");
    if (!err && env->se_dead)
        err = -EIO;
    if (!err) {
        /* Lock order, as everywhere: LMDB's writer lock, then the map lock. */
        MDB_txn *txn;
        int rc = mdb_txn_begin(env->se_mdb, NULL, 0, &txn);
        if (rc == 0) {
            pthread_rwlock_wrlock(&env->se_map_lock);
            rc = mdb_dbi_open(txn, name, MDB_CREATE, &s->ss_dbi);
            if (rc == 0)
                rc = mdb_txn_commit(txn);
            else
                mdb_txn_abort(txn);
            pthread_rwlock_unlock(&env->se_map_lock);
        }
        if (rc)
            err = st_err_from_mdb(rc);
    }
    if (err) {
        snprintf(errstr, errstr_size, "state dir %s: store %s cannot be created: %s", env->se_dir,
                 name, eddy_strerror(err));
        free(s->ss_name);
        free(s);
        return err;
    }
    pthread_mutex_lock(&env->se_stores_mu);
    env->se_stores[env->se_nstores++] = s;
    pthread_mutex_unlock(&env->se_stores_mu);
    *out = s;
    return 0;
}

st_store_t *st_store_open(st_env_t *env, const char *name, const st_store_hooks_t *hooks,
                          char *errstr, size_t errstr_size)
{
    st_store_t *s;
    store_open(env, name, hooks, 0, &s, errstr, errstr_size);
    return s;
}

int st_store_open_any(st_env_t *env, const char *name, const st_store_hooks_t *hooks,
                      st_store_t **out, char *errstr, size_t errstr_size)
{
    return store_open(env, name, hooks, 1, out, errstr, errstr_size);
}

void st_store_detach(st_store_t *s)
{
    st_env_t *env = s->ss_env;
    pthread_mutex_lock(&env->se_stores_mu);
    for (int i = 0; i < env->se_nstores; i++)
        if (env->se_stores[i] == s) {
            memmove(&env->se_stores[i], &env->se_stores[i + 1],
                    (size_t)(env->se_nstores - i - 1) * sizeof *env->se_stores);
            env->se_nstores--;
            break;
        }
    pthread_mutex_unlock(&env->se_stores_mu);
    st_store_free(s);
}

int st_store_drop(st_store_t *s)
{
    st_env_t *env = s->ss_env;
    if (s->ss_flushing)
        return -EBUSY;
    /* As at open: the drop runs in a transaction of its own, after an
     * automatic commit of the open one, so that the redo log (replayed
     * after MDB_MAP_FULL) never holds writes to a database that is gone, and
     * the slot LMDB frees cannot be taken by a new database within one
     * transaction. mdb_drop(del=1) closes the handle at once, so the store
     * goes whatever happens next; a database left behind by a failed commit
     * is found again at the next open. */
    int err = env->se_dead ? -EIO : 0;
    if (!err && env->se_txn)
        err = st_env_commit_auto(env, "automatic commit before dropping a store");
    if (!err) {
        MDB_txn *txn;
        int rc = mdb_txn_begin(env->se_mdb, NULL, 0, &txn);
        if (rc == 0) {
            pthread_rwlock_wrlock(&env->se_map_lock);
            rc = mdb_drop(txn, s->ss_dbi, 1);
            if (rc == 0)
                rc = mdb_txn_commit(txn);
            else
                mdb_txn_abort(txn);
            pthread_rwlock_unlock(&env->se_map_lock);
        }
        if (rc)
            err = st_err_from_mdb(rc);
    }
    if (err)
        EDDY_LOG_ERROR(ST_FAC,
                       "state dir %s: store %s cannot be dropped: %s; its database "
                       "stays in the file until an open of its window or session store finds it "
                       "expired",
                       env->se_dir, s->ss_name, eddy_strerror(err));
    st_store_detach(s);
    return err;
}

void st_store_free(st_store_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->ss_nbuckets; i++) {
        st_centry_t *e = s->ss_buckets[i], *next;
        for (; e; e = next) {
            next = e->ce_hnext;
            free(e->ce_value);
            free(e);
        }
    }
    free(s->ss_buckets);
    free(s->ss_old);
    free(s->ss_wt);
    free(s->ss_enc);
    free(s->ss_name);
    free(s);
}

const char *st_store_name(const st_store_t *s)
{
    return s->ss_name;
}

void st_store_set_cache_limit(st_store_t *s, size_t bytes)
{
    s->ss_cache_limit = bytes;
    /* From the store's own hooks the eviction waits for the next put. */
    int err = cache_evict(s);
    if (err)
        EDDY_LOG_ERROR(ST_FAC, "state dir %s: store %s: flushing while shrinking the cache: %s",
                       s->ss_env->se_dir, s->ss_name, eddy_strerror(err));
}

size_t st_store_cache_bytes(const st_store_t *s)
{
    return s->ss_cache_bytes;
}

int st_store_get(st_store_t *s, eddy_bytes_t key, eddy_bytes_t *value)
{
    int err = check_key(&key);
    if (err)
        return err;
    if (s->ss_ncached) {
        st_centry_t *e = cache_find(s, key.data, (size_t)key.len,
                                    hash_key(key.data, (size_t)key.len));
        if (e) {
            lru_touch(s, e);
            if (e->ce_vlen < 0)
                return -ENOENT;
            *value = entry_value(e);
            return 0;
        }
    }
    st_env_t *env = s->ss_env;
    if ((err = st_env_txn(env, 0)))
        return err;
    st_kslot_t slot;
    MDB_val v;
    int rc = st_key_find(env, env->se_txn, s->ss_dbi, key, &slot, &v);
    if (rc == MDB_NOTFOUND)
        return -ENOENT;
    if (rc)
        return st_env_fail(env, rc, "reading a record");
    if (v.mv_size > INT32_MAX) {
        EDDY_LOG_ERROR(ST_FAC, "state dir %s: store %s holds a value of %zu bytes: corrupt",
                       env->se_dir, s->ss_name, v.mv_size);
        return EDDY_ERR_CORRUPT;
    }
    *value = (eddy_bytes_t){v.mv_size ? v.mv_data : empty_bytes, (int32_t)v.mv_size};
    return 0;
}

int st_store_put(st_store_t *s, eddy_bytes_t key, eddy_bytes_t value, int64_t timestamp)
{
    int err = check_key(&key);
    if (err)
        return err;
    if (s->ss_flushing) {
        EDDY_LOG_ERROR(ST_FAC, "store %s: put from the store's own hook refused", s->ss_name);
        return -EBUSY;
    }
    if (eddy_bytes_is_null(value))
        value = EDDY_NULL_BYTES;
    else if (!value.data)
        value.data = empty_bytes;

    if (s->ss_cache_limit == 0 && s->ss_ncached == 0) {
        /* Write through. The caller's bytes are copied first: they may be a
         * view into LMDB (a get's result), which the write may move. */
        size_t klen = (size_t)key.len, vlen = eddy_bytes_is_null(value) ? 0 : (size_t)value.len;
        if (klen + vlen > s->ss_wt_cap || !s->ss_wt) {
            uint8_t *p = realloc(s->ss_wt, klen + vlen ? klen + vlen : 1);
            if (!p)
                return -ENOMEM;
            s->ss_wt = p;
            s->ss_wt_cap = klen + vlen ? klen + vlen : 1;
        }
        uint8_t *copy = s->ss_wt;
        if (klen)
            memcpy(copy, key.data, klen);
        if (vlen)
            memcpy(copy + klen, value.data, vlen);
        eddy_bytes_t v = eddy_bytes_is_null(value) ? value : (eddy_bytes_t){copy + klen, value.len};
        flushing_begin(s);
        err = store_write(s, (eddy_bytes_t){copy, key.len}, v, timestamp);
        flushing_end(s);
        return err;
    }

    uint64_t h = hash_key(key.data, (size_t)key.len);
    st_centry_t *e = cache_find(s, key.data, (size_t)key.len, h);
    int fresh = 0;
    if (!e) {
        if (!(e = cache_insert(s, key.data, (size_t)key.len, h)))
            return -ENOMEM;
        fresh = 1;
    }
    if ((err = entry_set_value(s, e, value))) {
        if (fresh)
            cache_remove(s, e); /* a clean entry without a value would read as deleted */
        return err;
    }
    e->ce_ts = timestamp;
    dirty_mark(s, e);
    lru_touch(s, e);
    return cache_evict(s);
}

int st_store_flush(st_store_t *s)
{
    if (s->ss_flushing)
        return -EBUSY;
    int err = 0;
    flushing_begin(s);
    st_centry_t *e;
    while ((e = s->ss_dirty_head))
        if ((err = flush_one(s, e)))
            break;
    flushing_end(s);
    if (!err)
        err = cache_evict(s); /* a limit lowered from a hook */
    return err;
}

void st_store_cache_forget(st_store_t *s, const uint8_t *key, size_t klen)
{
    st_centry_t *e = cache_find(s, key, klen, hash_key(key, klen));
    if (e)
        cache_remove(s, e);
}

int st_store_restore(st_store_t *s, eddy_bytes_t key, eddy_bytes_t value)
{
    int err = check_key(&key);
    if (err)
        return err;
    if (s->ss_flushing)
        return -EBUSY;
    if (s->ss_ncached) {
        /* The changelog has the last word: a cached value of the key is stale. */
        st_centry_t *e = cache_find(s, key.data, (size_t)key.len,
                                    hash_key(key.data, (size_t)key.len));
        if (e)
            cache_remove(s, e);
    }
    st_env_t *env = s->ss_env;
    if ((err = st_env_txn(env, 1)))
        return err;
    st_kslot_t slot;
    int rc = 0;
    if (key.len <= ST_KEY_SHORT_MAX) {
        /* Its place is its encoding: no lookup (a delete of an absent key
         * is nothing). */
        slot.ks_key.mv_data = slot.ks_buf;
        slot.ks_key.mv_size = st_key_encode(env, slot.ks_buf, key, 0);
    } else {
        MDB_val old;
        rc = st_key_find(env, env->se_txn, s->ss_dbi, key, &slot, &old);
        if (rc && rc != MDB_NOTFOUND)
            return st_env_fail(env, rc, "reading a record to restore");
    }
    if (eddy_bytes_is_null(value))
        return rc == MDB_NOTFOUND ? 0 : st_env_write(env, s->ss_dbi, &slot.ks_key, NULL);
    MDB_val v = {(size_t)value.len, value.len ? (void *)value.data : (void *)empty_bytes}, lv;
    if ((err = st_key_value(&s->ss_enc, &s->ss_enc_cap, key, &v, &lv)))
        return err;
    return st_env_write(env, s->ss_dbi, &slot.ks_key, &lv);
}

int64_t st_store_count(st_store_t *s)
{
    st_env_t *env = s->ss_env;
    int err = st_env_txn(env, 0);
    if (err)
        return err;
    MDB_stat st;
    int rc = mdb_stat(env->se_txn, s->ss_dbi, &st);
    if (rc)
        return st_env_fail(env, rc, "counting a store's records");
    return (int64_t)st.ms_entries;
}

/* ---- range ----------------------------------------------------------------------- */

typedef struct snap_item {
    const uint8_t *si_key;
    const uint8_t *si_value;
    uint32_t si_klen;
    int32_t si_vlen; /* -1: a pending delete */
} snap_item_t;

static int snap_cmp(const void *a, const void *b)
{
    const snap_item_t *x = a, *y = b;
    return key_cmp(x->si_key, x->si_klen, y->si_key, y->si_klen);
}

static int in_range(const void *k, size_t klen, eddy_bytes_t from, eddy_bytes_t to)
{
    if (from.len > 0 && key_cmp(k, klen, from.data, (size_t)from.len) < 0)
        return 0;
    if (to.len >= 0 && key_cmp(k, klen, to.data, (size_t)to.len) > 0)
        return 0;
    return 1;
}

/* Keeps a copy of the last key handed out (the re-seek point): in the
 * range's own block up to LAST_INLINE bytes, on the heap past that. */
#define LAST_INLINE 512
static int last_set(uint8_t **last, size_t *cap, int *heap, size_t *len, eddy_bytes_t k)
{
    if ((size_t)k.len > *cap) {
        uint8_t *p = malloc((size_t)k.len);
        if (!p)
            return -ENOMEM;
        if (*heap)
            free(*last);
        *last = p;
        *cap = (size_t)k.len;
        *heap = 1;
    }
    if (k.len)
        memcpy(*last, k.data, (size_t)k.len);
    *len = (size_t)k.len;
    return 0;
}

int st_store_range(st_store_t *s, eddy_bytes_t from, eddy_bytes_t to, eddy_kv_fn *fn, void *opaque)
{
    st_env_t *env = s->ss_env;
    /* The cache's entries in range, copied and sorted: fn may write to the
     * store, which changes (or frees) entries. */
    size_t n = 0, bytes = 0;
    for (size_t i = 0; i < s->ss_nbuckets; i++)
        for (st_centry_t *e = s->ss_buckets[i]; e; e = e->ce_hnext)
            if (in_range(e->ce_key, e->ce_klen, from, to)) {
                n++;
                bytes += e->ce_klen + (e->ce_vlen > 0 ? (size_t)e->ce_vlen : 0);
            }
    /* One block: the items, their bytes, and the last key handed to fn. */
    uint8_t *mem = malloc(n * sizeof(snap_item_t) + bytes + LAST_INLINE);
    if (!mem)
        return -ENOMEM;
    snap_item_t *items = (snap_item_t *)mem;
    uint8_t *p = mem + n * sizeof(snap_item_t), *last = p + bytes;
    size_t lastlen = 0, lastcap = LAST_INLINE, ni = 0;
    int last_heap = 0;
    for (size_t i = 0; i < s->ss_nbuckets; i++)
        for (st_centry_t *e = s->ss_buckets[i]; e; e = e->ce_hnext) {
            if (!in_range(e->ce_key, e->ce_klen, from, to))
                continue;
            snap_item_t *it = &items[ni++];
            memcpy(p, e->ce_key, e->ce_klen);
            it->si_key = p;
            it->si_klen = e->ce_klen;
            p += e->ce_klen;
            it->si_vlen = e->ce_vlen;
            it->si_value = p;
            if (e->ce_vlen > 0) {
                memcpy(p, e->ce_value, (size_t)e->ce_vlen);
                p += e->ce_vlen;
            }
        }
    qsort(items, n, sizeof *items, snap_cmp);

    int err = st_env_txn(env, 0);
    if (err) {
        free(mem);
        return err;
    }
    MDB_cursor *cur = NULL;
    uint64_t txn_gen = env->se_txn_gen, write_gen = env->se_write_gen;
    int rc = mdb_cursor_open(env->se_txn, s->ss_dbi, &cur);
    st_kcur_t kc;
    st_kcur_init(&kc, env, cur);
    if (rc == 0)
        rc = st_kcur_seek(&kc, from.len > 0 ? from : EDDY_NULL_BYTES, 0);
    size_t ci = 0;
    for (;;) {
        if (rc && rc != MDB_NOTFOUND) {
            err = st_env_fail(env, rc, "iterating a store");
            cur = NULL; /* gone with its transaction */
            break;
        }
        int have_l = rc == 0 && (to.len < 0 || key_cmp(kc.kc_key.data, (size_t)kc.kc_key.len,
                                                       to.data, (size_t)to.len) <= 0);
        if (!have_l && ci == n)
            break;
        int c = !have_l   ? -1
                : ci == n ? 1
                          : key_cmp(items[ci].si_key, items[ci].si_klen, kc.kc_key.data,
                                    (size_t)kc.kc_key.len);
        eddy_bytes_t ek, ev;
        int emit = 1, adv_l = c >= 0;
        if (c <= 0) {
            const snap_item_t *it = &items[ci++];
            ek = (eddy_bytes_t){it->si_key, (int32_t)it->si_klen};
            ev = (eddy_bytes_t){it->si_value, it->si_vlen};
            emit = it->si_vlen >= 0; /* a pending delete hides LMDB's value */
        } else {
            if (kc.kc_val.mv_size > INT32_MAX) {
                EDDY_LOG_ERROR(ST_FAC,
                               "state dir %s: store %s holds a value of %zu bytes: "
                               "corrupt",
                               env->se_dir, s->ss_name, kc.kc_val.mv_size);
                err = EDDY_ERR_CORRUPT;
                break;
            }
            ek = kc.kc_key;
            ev = (eddy_bytes_t){kc.kc_val.mv_size ? kc.kc_val.mv_data : empty_bytes,
                                (int32_t)kc.kc_val.mv_size};
        }
        if ((err = last_set(&last, &lastcap, &last_heap, &lastlen, ek)))
            break;
        if (emit && fn(ek, ev, opaque))
            break;
        if (env->se_txn_gen != txn_gen || env->se_write_gen != write_gen) {
            /* fn wrote (perhaps committing on its own): LMDB's pages may have
             * moved and the cursor may have ended with its transaction. */
            if (env->se_txn_gen != txn_gen) {
                cur = NULL;
                if ((err = st_env_txn(env, 0)))
                    break;
                txn_gen = env->se_txn_gen;
                if ((rc = mdb_cursor_open(env->se_txn, s->ss_dbi, &cur)) != 0)
                    continue;
                kc.kc_cur = cur;
            }
            write_gen = env->se_write_gen;
            rc = st_kcur_seek(&kc, (eddy_bytes_t){last, (int32_t)lastlen}, 1);
        } else if (adv_l) {
            rc = st_kcur_next(&kc);
        }
    }
    if (cur && env->se_txn_gen == txn_gen)
        mdb_cursor_close(cur);
    st_kcur_free(&kc);
    if (last_heap)
        free(last);
    free(mem);
    return err;
}

/* Private to state/: the environment and store structs and the write path
 * that env.c gives store.c. */
#ifndef EDDY_STATE_STATE_INT_H
#define EDDY_STATE_STATE_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "state/store.h"

#define ST_FAC "state"
#define ST_OFFSETS_DB "__changelog_offsets"

/* Defaults of st_env_set_limits(): the environment commits on its own once
 * its open transaction holds this many writes or bytes (keys + values). */
#define ST_TXN_MAX_PUTS 65536
#define ST_TXN_MAX_BYTES ((size_t)32 << 20)
/* The map never starts smaller (LMDB needs a few pages for its metas and
 * roots; smaller maps would only grow at once). */
#define ST_MAP_MIN ((size_t)64 << 10)
#define ST_MAP_DEFAULT ((size_t)1 << 20)

/* The format of the environment's contents (state/env.c): the record-key
 * encoding of state/keys.c. An environment of another format is wiped at
 * open (its stores are restored from their changelogs). */
#define ST_FORMAT_VERSION 2

/* Record keys in LMDB: state/keys.c draws the encoding and proves its
 * order. Keys of up to ST_KEY_SHORT_MAX bytes are stored as the tag and the
 * key; longer ones as the tag, their first ST_KEY_SHORT_MAX bytes, a hash
 * and a slot (ST_KEY_LONG_LEN bytes), with the rest of the key in front of
 * the value. */
#define ST_KEY_TAG 0x00
#define ST_KEY_SHORT_MAX 496
#define ST_KEY_LONG_LEN (1 + ST_KEY_SHORT_MAX + 8 + 4)

struct st_env {
    MDB_env *se_mdb;
    char *se_dir;
    /* The write transaction kept open between commits (NULL: none yet).
     * Owned by the owning thread: LMDB ties a write transaction to the
     * thread that began it. */
    MDB_txn *se_txn;
    MDB_dbi se_offsets_dbi;
    size_t se_psize;
    size_t se_max_key;      /* LMDB's key size limit (511): names of stores */
    /* The key of the hash of long record keys (state/keys.c), random per
     * environment and kept in it; tests may replace the hash. */
    uint8_t se_hash_key[16];
    uint64_t (*se_key_hash_fn)(const uint8_t *key, size_t len);
    size_t se_map_limit;    /* 0: no limit beyond the address space */
    size_t se_txn_max_puts; /* auto-commit thresholds */
    size_t se_txn_max_bytes;
    size_t se_txn_puts; /* writes and bytes in the open transaction */
    size_t se_txn_bytes;
    /* Bumped whenever the open transaction ends (commit, abort) and on every
     * write: a range on the owning thread whose callback wrote re-seeks its
     * cursor (or opens a new one) by comparing them. */
    uint64_t se_txn_gen;
    uint64_t se_write_gen;
    int se_busy; /* flushes in progress (hooks running): no commit now */
    int se_mark_auto; /* st_env_mark_auto_commits */
    /* Set (under se_map_lock) when a failed resize left LMDB without a map:
     * every call then fails with -EIO instead of touching it. */
    int se_dead;
    /* The writes of the open transaction, in order, so that a transaction
     * that hits MDB_MAP_FULL can be aborted, the map grown and the writes
     * replayed in a new transaction. Cleared at every commit; its size is
     * bounded by se_txn_max_bytes plus one record.
     *   op u8 ('P' put, 'D' delete) | dbi u32 | klen u32 | vlen u32 | key | value */
    uint8_t *se_redo;
    size_t se_redo_len;
    size_t se_redo_cap;
    /* Stores by open order. The array is fixed at se_max_stores; entries
     * are only appended, under se_stores_mu, so that other threads can look
     * a store up by name. */
    st_store_t **se_stores;
    int se_nstores;
    int se_max_stores;
    pthread_mutex_t se_stores_mu;
    /* Read transactions of other threads hold it shared; the owning thread
     * takes it exclusive around mdb_env_set_mapsize(), which LMDB allows
     * only when no transaction is active in the process (it remaps). */
    pthread_rwlock_t se_map_lock;
};

/* A record cache entry. Lists: LRU (head: least recently used) over all
 * entries; dirty (head: least recently updated) over the dirty ones. */
typedef struct st_centry {
    struct st_centry *ce_hnext;
    struct st_centry *ce_lru_prev;
    struct st_centry *ce_lru_next;
    struct st_centry *ce_dirty_prev;
    struct st_centry *ce_dirty_next;
    uint64_t ce_hash;
    int64_t ce_ts;
    uint8_t *ce_value; /* malloc'd; NULL when empty or deleted */
    int32_t ce_vlen;   /* -1: a pending delete */
    uint32_t ce_vcap;
    uint32_t ce_klen;
    uint8_t ce_dirty;
    uint8_t ce_key[]; /* ce_klen bytes */
} st_centry_t;

struct st_store {
    st_env_t *ss_env;
    char *ss_name;
    MDB_dbi ss_dbi;
    st_store_hooks_t ss_hooks;
    /* The cache: a chained hash table of 2^n buckets. */
    st_centry_t **ss_buckets;
    size_t ss_nbuckets;
    size_t ss_ncached;
    size_t ss_cache_bytes;
    size_t ss_cache_limit;
    st_centry_t *ss_lru_head, *ss_lru_tail;
    st_centry_t *ss_dirty_head, *ss_dirty_tail;
    /* Set while this store's hooks may run (flush, eviction, write
     * through): a put, restore or flush of this store from its own hooks is
     * refused with -EBUSY, so the flush never sees its lists change. */
    int ss_flushing;
    /* The old value read from LMDB during a flush, copied: the hooks may
     * write to other stores, which moves LMDB's pages. */
    uint8_t *ss_old;
    size_t ss_old_cap;
    /* A write-through put's key and value, copied: the caller's may be a
     * view into LMDB (a get's result), which the write may move. */
    uint8_t *ss_wt;
    size_t ss_wt_cap;
    /* The LMDB value of a long key being written (its suffix, then the
     * value): state/keys.c. */
    uint8_t *ss_enc;
    size_t ss_enc_cap;
};

/* ---- record keys in LMDB (state/keys.c) ---- */

/* LMDB's order: bytes, the shorter first on a common prefix. */
int st_key_cmp(const void *a, size_t alen, const void *b, size_t blen);
/* The hash of a long key under env's hash key. */
uint64_t st_key_hash(const st_env_t *env, const uint8_t *key, size_t len);
/* Writes the LMDB key of key (with slot, for a long key) into out (at least
 * ST_KEY_LONG_LEN bytes); returns its length. */
size_t st_key_encode(const st_env_t *env, uint8_t *out, eddy_bytes_t key, uint32_t slot);
/* The LMDB value for key and value: value itself for a short key, else
 * built in *buf (grown with realloc, *cap its size). 0 or an error. */
int st_key_value(uint8_t **buf, size_t *cap, eddy_bytes_t key, const MDB_val *value, MDB_val *out);

/* Where a record key is or would go: ks_key, the LMDB key (in ks_buf). */
typedef struct st_kslot {
    uint8_t ks_buf[ST_KEY_LONG_LEN];
    MDB_val ks_key;
} st_kslot_t;
/* Looks key up in dbi: an LMDB code. 0: found, *value its value (a view
 * into LMDB, valid until the next write) and slot its LMDB key;
 * MDB_NOTFOUND: absent, slot where a put goes; MDB_CORRUPTED: an entry that
 * this format cannot have written. */
int st_key_find(const st_env_t *env, MDB_txn *txn, MDB_dbi dbi, eddy_bytes_t key, st_kslot_t *slot,
                MDB_val *value);

/* A cursor over a store's records in record-key order: the group of long
 * keys that share their first ST_KEY_SHORT_MAX bytes is loaded (as views
 * into LMDB) and sorted when the cursor reaches it. kc_key (a view into
 * LMDB or into the cursor's buffer) and kc_val are the current record while
 * the last call returned 0; any write to the environment ends them, and the
 * caller then seeks again. Calls return LMDB codes (MDB_NOTFOUND: no more)
 * or an errno. */
typedef struct st_kitem {
    const uint8_t *ki_suffix;
    size_t ki_slen;
    MDB_val ki_value;
} st_kitem_t;
typedef struct st_kcur {
    const st_env_t *kc_env;
    MDB_cursor *kc_cur; /* borrowed; the caller may swap it before a seek */
    int kc_valid;
    int kc_grouped;
    eddy_bytes_t kc_key;
    MDB_val kc_val;
    uint8_t kc_g[1 + ST_KEY_SHORT_MAX]; /* the group's prefix */
    st_kitem_t *kc_items;
    size_t kc_n, kc_cap, kc_i;
    int kc_la_rc; /* the LMDB entry after the group */
    MDB_val kc_la_k, kc_la_v;
    uint8_t *kc_kbuf;
    size_t kc_kcap;
} st_kcur_t;
void st_kcur_init(st_kcur_t *c, const st_env_t *env, MDB_cursor *cur);
void st_kcur_free(st_kcur_t *c);
/* The first record with a key >= key (> key when after; key null: the
 * first record). */
int st_kcur_seek(st_kcur_t *c, eddy_bytes_t key, int after);
int st_kcur_next(st_kcur_t *c);
/* The last record with a key <= key. After it, only kc_key and kc_val may
 * be read (no st_kcur_next). */
int st_kcur_seek_le(st_kcur_t *c, eddy_bytes_t key);
/* Test only: replaces env's hash of long keys (NULL: the keyed SipHash);
 * set it right after each open, before any access. */
void st_env_set_key_hash(st_env_t *env, uint64_t (*fn)(const uint8_t *key, size_t len));

/* An LMDB return code as an Eddy error (-errno or EDDY_ERR_*). */
int st_err_from_mdb(int rc);
/* Makes sure the write transaction is open. for_write: first commits (without
 * offsets) when the open one passed its size thresholds. */
int st_env_txn(st_env_t *env, int for_write);
/* Puts (val non-NULL) or deletes key in dbi within the open transaction,
 * recovering from MDB_MAP_FULL by growing the map and replaying. A delete
 * of an absent key is 0. On failure the transaction is aborted (uncommitted
 * writes lost), the failure logged, and an error returned. */
int st_env_write(st_env_t *env, MDB_dbi dbi, const MDB_val *key, const MDB_val *val);
/* The same with mdb_put flags (MDB_APPEND: the caller knows key sorts
 * after every key of dbi). */
int st_env_write_flags(st_env_t *env, MDB_dbi dbi, const MDB_val *key, const MDB_val *val,
                       unsigned flags);
/* With no transaction open, grows the map until bytes more fit in its used
 * half; with one open, nothing. 0 or an error. */
int st_env_reserve(st_env_t *env, size_t bytes);
/* Drops a cached entry of key (restore: the changelog has the last word). */
void st_store_cache_forget(st_store_t *s, const uint8_t *key, size_t klen);
/* Aborts the open transaction after an LMDB failure rc during what, logs
 * it, and returns rc as an Eddy error. */
int st_env_fail(st_env_t *env, int rc, const char *what);
/* Frees a store and its cache (env.c calls it from st_env_close). */
void st_store_free(st_store_t *s);
/* Commits the open transaction without offsets (none open: 0), as the
 * automatic commit does, also from a store hook (st_env_commit refuses
 * there because of the offsets). An Eddy error; on failure the open
 * transaction's writes are gone. */
int st_env_commit_auto(st_env_t *env, const char *what);

/* For the segments of window and session stores (state/window.c), which
 * come and go while the task runs:
 *  - st_store_open_any: st_store_open that also works from a store hook (a
 *    downstream put into a window store may need a new segment during a
 *    flush); 0 and *out, or an error (EDDY_ERR_TOO_LARGE: the environment
 *    has no room for another store) with a sentence in errstr.
 *  - st_store_detach: forgets a store (removes it from the environment and
 *    frees it, dirty cache entries discarded without hooks); its database
 *    stays in the file.
 *  - st_store_drop: detaches the store and deletes its database
 *    (mdb_drop, del=1) in a transaction of its own after an automatic commit
 *    of the open one. -EBUSY from its own hooks (nothing done); any other
 *    error is logged, and the store is gone all the same. */
int st_store_open_any(st_env_t *env, const char *name, const st_store_hooks_t *hooks,
                      st_store_t **out, char *errstr, size_t errstr_size);
void st_store_detach(st_store_t *s);
int st_store_drop(st_store_t *s);

#endif

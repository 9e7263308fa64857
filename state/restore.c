/* Restoring a store from its changelog in batches.
 *
 * A changelog partition arrives in offset order, which for most stores is
 * random key order: put one by one, every record descends the B-tree to a
 * different leaf and dirties (copies) its own page. A batch applies many
 * records at once in key order instead: successive puts walk neighbouring
 * leaves that are already dirty and in the CPU caches. When the whole
 * batch sorts past the store's last key (always the case for the first
 * batch into an empty store: a restore after a wipe or onto a new
 * instance), the puts use MDB_APPEND, which fills pages left to right
 * without searching or splitting them in half.
 *
 * Semantics are those of applying the records one by one in order
 * (st_store_restore): the sort is stable (ties broken by arrival), so the
 * last record of a key wins and a null value deletes; a delete of a key the
 * store does not hold is nothing. The caller commits the changelog offset
 * reached after the batch (st_env_commit), in the same transaction as the
 * data, as before; a crash before that commit loses the batch and the
 * restore starts again from the previous checkpoint.
 *
 * Keys are sorted in the order of their LMDB keys (state/keys.c): by bytes,
 * except that long keys sharing their first ST_KEY_SHORT_MAX bytes go by
 * hash, then key. With MDB_APPEND, long keys of one prefix and hash take
 * slots 0, 1, ... in that order; without it, each long key is looked up
 * (st_key_find) to find its slot.
 *
 * Memory: the batch copies keys and values (st_restore_batch_bytes) plus 40
 * bytes of index per record; the caller bounds it (streams/thread.c applies
 * a batch at 16 MiB or 1,000,000 records, and at the end of the changelog).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "state/state_int.h"

typedef struct rb_rec {
    uint64_t rr_prefix; /* the key's first 8 bytes, big-endian, zero padded */
    uint64_t rr_hash;   /* a long key's hash (state/keys.c), set before the sort */
    size_t rr_off;      /* key then value, in rb_data */
    uint32_t rr_klen;
    int32_t rr_vlen; /* -1: a tombstone */
    uint32_t rr_seq; /* arrival: the later wins */
} rb_rec_t;

struct st_restore_batch {
    rb_rec_t *rb_recs;
    size_t rb_n, rb_cap;
    uint8_t *rb_data;
    size_t rb_len, rb_data_cap;
};

st_restore_batch_t *st_restore_batch_new(void)
{
    return calloc(1, sizeof(st_restore_batch_t));
}

void st_restore_batch_destroy(st_restore_batch_t *b)
{
    if (!b)
        return;
    free(b->rb_recs);
    free(b->rb_data);
    free(b);
}

size_t st_restore_batch_count(const st_restore_batch_t *b)
{
    return b->rb_n;
}

size_t st_restore_batch_bytes(const st_restore_batch_t *b)
{
    return b->rb_len + b->rb_n * sizeof(rb_rec_t);
}

int st_restore_batch_add(st_restore_batch_t *b, eddy_bytes_t key, eddy_bytes_t value)
{
    if (key.len < 0 || (key.len > 0 && !key.data))
        return EDDY_ERR_INVALID_ARG;
    if (b->rb_n >= UINT32_MAX)
        return EDDY_ERR_TOO_LARGE;
    size_t klen = (size_t)key.len, vlen = value.len > 0 ? (size_t)value.len : 0;
    if (b->rb_n == b->rb_cap) {
        size_t cap = b->rb_cap ? b->rb_cap * 2 : 4096;
        rb_rec_t *nr = realloc(b->rb_recs, cap * sizeof *nr);
        if (!nr)
            return -ENOMEM;
        b->rb_recs = nr;
        b->rb_cap = cap;
    }
    if (b->rb_len + klen + vlen > b->rb_data_cap) {
        size_t cap = b->rb_data_cap ? b->rb_data_cap : (size_t)1 << 16;
        while (cap < b->rb_len + klen + vlen)
            cap *= 2;
        uint8_t *nd = realloc(b->rb_data, cap);
        if (!nd)
            return -ENOMEM;
        b->rb_data = nd;
        b->rb_data_cap = cap;
    }
    uint64_t prefix = 0;
    for (size_t i = 0; i < 8; i++)
        prefix = prefix << 8 | (i < klen ? ((const uint8_t *)key.data)[i] : 0);
    if (klen)
        memcpy(b->rb_data + b->rb_len, key.data, klen);
    if (vlen)
        memcpy(b->rb_data + b->rb_len + klen, value.data, vlen);
    b->rb_recs[b->rb_n] = (rb_rec_t){
        prefix,           0, b->rb_len, (uint32_t)klen, value.len < 0 ? -1 : (int32_t)vlen,
        (uint32_t)b->rb_n};
    b->rb_n++;
    b->rb_len += klen + vlen;
    return 0;
}

/* The order of the LMDB keys (state/keys.c), then arrival. qsort has no
 * opaque: the batch's bytes are in a thread-local (stream threads restore
 * at the same time). */
static _Thread_local const uint8_t *sort_data;

static int rec_cmp(const void *pa, const void *pb)
{
    const rb_rec_t *a = pa, *b = pb;
    if (a->rr_prefix != b->rr_prefix)
        return a->rr_prefix < b->rr_prefix ? -1 : 1;
    const uint8_t *ka = sort_data + a->rr_off, *kb = sort_data + b->rr_off;
    size_t la = a->rr_klen < ST_KEY_SHORT_MAX ? a->rr_klen : ST_KEY_SHORT_MAX;
    size_t lb = b->rr_klen < ST_KEY_SHORT_MAX ? b->rr_klen : ST_KEY_SHORT_MAX;
    if (la > 8 || lb > 8) {
        int c = memcmp(ka, kb, la < lb ? la : lb);
        if (c)
            return c;
    }
    int along = a->rr_klen > ST_KEY_SHORT_MAX, blong = b->rr_klen > ST_KEY_SHORT_MAX;
    if (along && blong) {
        /* One prefix: by hash, then by the rest of the key. */
        if (a->rr_hash != b->rr_hash)
            return a->rr_hash < b->rr_hash ? -1 : 1;
        int c = st_key_cmp(ka + ST_KEY_SHORT_MAX, a->rr_klen - ST_KEY_SHORT_MAX,
                           kb + ST_KEY_SHORT_MAX, b->rr_klen - ST_KEY_SHORT_MAX);
        if (c)
            return c;
    } else if (along != blong) {
        /* The short key is a prefix of the long one's encoded key. */
        return along ? 1 : -1;
    } else if (a->rr_klen != b->rr_klen) {
        return a->rr_klen < b->rr_klen ? -1 : 1;
    }
    return a->rr_seq < b->rr_seq ? -1 : a->rr_seq > b->rr_seq;
}

static int same_key(const st_restore_batch_t *b, const rb_rec_t *x, const rb_rec_t *y)
{
    return x->rr_prefix == y->rr_prefix && x->rr_klen == y->rr_klen &&
           (x->rr_klen <= 8 ||
            memcmp(b->rb_data + x->rr_off, b->rb_data + y->rr_off, x->rr_klen) == 0);
}

/* Whether two long keys have the same LMDB key but for the slot. */
static int same_slot_group(const st_restore_batch_t *b, const rb_rec_t *x, const rb_rec_t *y)
{
    return x->rr_klen > ST_KEY_SHORT_MAX && y->rr_klen > ST_KEY_SHORT_MAX &&
           x->rr_hash == y->rr_hash &&
           memcmp(b->rb_data + x->rr_off, b->rb_data + y->rr_off, ST_KEY_SHORT_MAX) == 0;
}

/* 1 when every key of the sorted batch is past the store's last key. */
static int past_last_key(st_store_t *s, const st_restore_batch_t *b, int *err)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(s->ss_env->se_txn, s->ss_dbi, &cur);
    if (rc) {
        *err = st_env_fail(s->ss_env, rc, "opening a cursor");
        return 0;
    }
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    int past = 0;
    if (rc == MDB_NOTFOUND) {
        past = 1;
    } else if (rc == 0) {
        const rb_rec_t *first = &b->rb_recs[0];
        uint8_t enc[ST_KEY_LONG_LEN];
        size_t n = st_key_encode(
            s->ss_env, enc, (eddy_bytes_t){b->rb_data + first->rr_off, (int32_t)first->rr_klen}, 0);
        past = st_key_cmp(enc, n, k.mv_data, k.mv_size) > 0;
    }
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND)
        *err = st_env_fail(s->ss_env, rc, "reading a store's last key");
    return past;
}

int st_store_restore_batch(st_store_t *s, st_restore_batch_t *b)
{
    st_env_t *env = s->ss_env;
    int err = 0;
    if (b->rb_n == 0)
        return 0;
    if (s->ss_flushing)
        return -EBUSY;
    for (size_t i = 0; i < b->rb_n; i++) {
        rb_rec_t *r = &b->rb_recs[i];
        if (r->rr_klen > ST_KEY_SHORT_MAX)
            r->rr_hash = st_key_hash(env, b->rb_data + r->rr_off, r->rr_klen);
    }
    sort_data = b->rb_data;
    qsort(b->rb_recs, b->rb_n, sizeof *b->rb_recs, rec_cmp);
    sort_data = NULL;
    /* Room for the batch before the transaction begins (a map growth inside
     * it aborts and replays the transaction): pages full when appending,
     * about half full otherwise. */
    if (!env->se_txn && (err = st_env_reserve(env, 2 * (b->rb_len + 16 * b->rb_n))))
        goto out;
    if ((err = st_env_txn(env, 1)))
        goto out;
    int append = past_last_key(s, b, &err);
    if (err)
        goto out;
    const rb_rec_t *prev = NULL; /* the last record written */
    uint32_t prev_slot = 0;
    for (size_t i = 0; i < b->rb_n; i++) {
        const rb_rec_t *r = &b->rb_recs[i];
        if (i + 1 < b->rb_n && same_key(b, r, &b->rb_recs[i + 1]))
            continue; /* a later record of the key follows */
        eddy_bytes_t key = {r->rr_klen ? b->rb_data + r->rr_off : (const uint8_t *)"",
                            (int32_t)r->rr_klen};
        if (s->ss_ncached)
            st_store_cache_forget(s, key.data, r->rr_klen);
        if (append && r->rr_vlen < 0)
            continue; /* past the last key: nothing to delete */
        st_kslot_t slot;
        MDB_val old;
        if (append) {
            /* Slots of one prefix and hash are given out in sort order. */
            uint32_t c = prev && same_slot_group(b, prev, r) ? prev_slot + 1 : 0;
            slot.ks_key.mv_data = slot.ks_buf;
            slot.ks_key.mv_size = st_key_encode(env, slot.ks_buf, key, c);
            prev = r;
            prev_slot = c;
        } else if (r->rr_klen > ST_KEY_SHORT_MAX) {
            int rc = st_key_find(env, env->se_txn, s->ss_dbi, key, &slot, &old);
            if (rc && rc != MDB_NOTFOUND) {
                err = st_env_fail(env, rc, "reading a record to restore");
                goto out;
            }
            if (rc == MDB_NOTFOUND && r->rr_vlen < 0)
                continue;
        } else {
            slot.ks_key.mv_data = slot.ks_buf;
            slot.ks_key.mv_size = st_key_encode(env, slot.ks_buf, key, 0);
        }
        if (r->rr_vlen < 0) {
            err = st_env_write(env, s->ss_dbi, &slot.ks_key, NULL);
        } else {
            MDB_val v = {(size_t)r->rr_vlen, b->rb_data + r->rr_off + r->rr_klen}, lv;
            if (!(err = st_key_value(&s->ss_enc, &s->ss_enc_cap, key, &v, &lv)))
                err = st_env_write_flags(env, s->ss_dbi, &slot.ks_key, &lv,
                                         append ? MDB_APPEND : 0);
        }
        if (err)
            goto out;
    }
out:
    b->rb_n = 0;
    b->rb_len = 0;
    if (b->rb_data_cap > ((size_t)64 << 20)) {
        free(b->rb_data); /* do not pin a large restore's memory */
        b->rb_data = NULL;
        b->rb_data_cap = 0;
    }
    return err;
}

/* Record keys of any length (0 bytes included) in LMDB, which takes keys of
 * 1 to 511 bytes only.
 *
 * Encoding. A record key k of n bytes (P = ST_KEY_SHORT_MAX = 496) is
 * stored under the LMDB key E(k), with the LMDB value V(k, value):
 *
 *   short (n <= P):
 *     E  0        tag 0x00
 *        1        k                      n bytes          (1 .. P+1 bytes in all)
 *     V  0        the value              as given
 *
 *   long (n > P):
 *     E  0        tag 0x00
 *        1        k[0 .. P)              P bytes: the group prefix G = E[0 .. P+1)
 *        P+1      hash h(k)              uint64 big-endian, SipHash-2-4 of all of k
 *                                        under the environment's key (state/env.c)
 *        P+9      slot c                 uint32 big-endian                (P+13 bytes)
 *     V  0        n - P                  uint32 big-endian
 *        4        k[P .. n)              n - P bytes
 *        4+n-P    the value              the rest
 *
 * Every LMDB key of a store starts with the tag, so the empty key (E =
 * 0x00) has an encoding; a short encoding is at most P+1 bytes and a long
 * one exactly P+13, so the length tells which is which. Two long keys with
 * the same prefix and hash (a collision) differ in c: a lookup visits every
 * slot of its (G, h) and compares k[P..n) with the one stored in V; a new
 * key takes the smallest free slot. A lookup of a long key is thus one seek
 * plus the collisions of its hash, which are kept rare against a chosen key
 * set by the environment's random hash key.
 *
 * Order. Stores promise ranges in record-key byte order ("<": bytes, the
 * shorter first on a common prefix, which is also LMDB's order of E).
 *   (1) short a, b: E(a) = 0|a and E(b) = 0|b compare as a and b.
 *   (2) short a, long b: if a < b, either a is a prefix of b, hence of
 *       b[0..P) (|a| <= P), and 0|a is a proper prefix of E(b); or the first
 *       difference is at i < |a| <= P, where E(a) and E(b) differ first too.
 *       Either way E(a) < E(b). If a > b, b is not a prefix of a (|b| > |a|),
 *       so they differ first at i < |a| <= P, and E(a) > E(b).
 *   (3) long a, b with a[0..P) != b[0..P): the first difference is at i < P
 *       and E(a), E(b) differ first at 1+i the same way.
 *   (4) long a, b with the same G: their order in LMDB is by (h, c), not by
 *       key. These form a group, and a group is a run of consecutive LMDB
 *       keys: an LMDB key x between two of its keys must start with G (if it
 *       left G at some byte, or were a proper prefix of G, it would sort
 *       before both or after both) and be longer than G (G itself sorts
 *       before every key that extends it), so x is a long key with prefix G.
 * So LMDB's order is the key order except inside groups, and reads
 * (st_kcur_*) load a whole group and sort it by k[P..n) (the prefix being
 * common) before handing it out. A group costs memory only for its index
 * (one entry per key: views into LMDB, nothing copied).
 *
 * Seeks follow from the same facts. The first key >= k: for a short k,
 * SET_RANGE(E(k)) lands on a short key >= k or on the start of a group all
 * of whose keys are > k (E(k) cannot fall inside a group: it would start
 * with G and be longer than P+1 bytes). For a long k, SET_RANGE(G) lands on
 * the short key k[0..P) if it exists (< k: skip it), then on the group of G
 * if it exists (sorted, and its keys < k skipped), then on keys > k.
 *
 * Window and session stores (state/window.c) store their composite keys
 * (key | time | seqnum) as record keys of their segments' stores, so this
 * covers them too. Changelogs keep the record keys: the encoding never
 * leaves LMDB.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "state/state_int.h"

/* ---- the hash: OpenSSL's SipHash-2-4, 64-bit output ----------------------- */

static EVP_MAC *siphash_mac;
static pthread_once_t siphash_once = PTHREAD_ONCE_INIT;

static void siphash_fetch(void)
{
    siphash_mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
}

/* SipHash of k[0..n) under the environment's 16-byte key. Any thread may
 * call it (st_env_read_* do): the MAC is fetched once and shared, as
 * OpenSSL allows; the context is the call's own. OpenSSL has SipHash in its
 * default provider, so a failure here is a broken installation: it aborts
 * rather than hashing keys differently from the ones already stored. */
static uint64_t siphash(const uint8_t key[16], const uint8_t *k, size_t n)
{
    pthread_once(&siphash_once, siphash_fetch);
    EVP_MAC_CTX *ctx = siphash_mac ? EVP_MAC_CTX_new(siphash_mac) : NULL;
    size_t size = 8, outlen = 0;
    uint8_t out[8];
    OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
                           OSSL_PARAM_construct_end()};
    if (!ctx || !EVP_MAC_init(ctx, key, 16, params) || !EVP_MAC_update(ctx, k, n) ||
        !EVP_MAC_final(ctx, out, &outlen, sizeof out) || outlen != sizeof out) {
        EDDY_LOG_ERROR("state", "OpenSSL's SIPHASH MAC is not available: cannot hash keys");
        abort();
    }
    EVP_MAC_CTX_free(ctx);
    return be64_load(out);
}

uint64_t st_key_hash(const st_env_t *env, const uint8_t *k, size_t n)
{
    if (env->se_key_hash_fn)
        return env->se_key_hash_fn(k, n);
    return siphash(env->se_hash_key, n ? k : (const uint8_t *)"", n);
}

/* ---- bytes ------------------------------------------------------------------ */

int st_key_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

size_t st_key_encode(const st_env_t *env, uint8_t *out, eddy_bytes_t key, uint32_t slot)
{
    size_t n = (size_t)key.len;
    out[0] = ST_KEY_TAG;
    if (n <= ST_KEY_SHORT_MAX) {
        if (n)
            memcpy(out + 1, key.data, n);
        return 1 + n;
    }
    memcpy(out + 1, key.data, ST_KEY_SHORT_MAX);
    be64_store(out + 1 + ST_KEY_SHORT_MAX, st_key_hash(env, key.data, n));
    be32_store(out + 1 + ST_KEY_SHORT_MAX + 8, slot);
    return ST_KEY_LONG_LEN;
}

/* The suffix and value of a long entry's LMDB value: 0, or -1 when the
 * value cannot be one (shorter than its own length field says). */
static int long_split(const MDB_val *v, const uint8_t **suffix, size_t *slen, MDB_val *value)
{
    if (v->mv_size < 4)
        return -1;
    const uint8_t *p = v->mv_data;
    size_t n = be32_load(p);
    if (n == 0 || n > v->mv_size - 4)
        return -1;
    *suffix = p + 4;
    *slen = n;
    value->mv_data = (void *)(p + 4 + n);
    value->mv_size = v->mv_size - 4 - n;
    return 0;
}

int st_key_value(uint8_t **buf, size_t *cap, eddy_bytes_t key, const MDB_val *value, MDB_val *out)
{
    size_t n = (size_t)key.len;
    if (n <= ST_KEY_SHORT_MAX) {
        *out = *value;
        return 0;
    }
    size_t slen = n - ST_KEY_SHORT_MAX;
    if (slen > UINT32_MAX || value->mv_size > SIZE_MAX - 4 - slen)
        return EDDY_ERR_TOO_LARGE;
    size_t need = 4 + slen + value->mv_size;
    if (need > *cap) {
        uint8_t *p = realloc(*buf, need);
        if (!p)
            return -ENOMEM;
        *buf = p;
        *cap = need;
    }
    be32_store(*buf, (uint32_t)slen);
    memcpy(*buf + 4, (const uint8_t *)key.data + ST_KEY_SHORT_MAX, slen);
    if (value->mv_size)
        memcpy(*buf + 4 + slen, value->mv_data, value->mv_size);
    out->mv_data = *buf;
    out->mv_size = need;
    return 0;
}

int st_key_find(const st_env_t *env, MDB_txn *txn, MDB_dbi dbi, eddy_bytes_t key, st_kslot_t *slot,
                MDB_val *value)
{
    size_t n = (size_t)key.len;
    slot->ks_key.mv_data = slot->ks_buf;
    slot->ks_key.mv_size = st_key_encode(env, slot->ks_buf, key, 0);
    if (n <= ST_KEY_SHORT_MAX) {
        MDB_val k = slot->ks_key;
        return mdb_get(txn, dbi, &k, value);
    }
    /* Every slot of (G, h), ascending: compare the stored suffixes, and
     * remember the smallest free slot for a new key. */
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc)
        return rc;
    const uint8_t *suffix = (const uint8_t *)key.data + ST_KEY_SHORT_MAX;
    size_t slen = n - ST_KEY_SHORT_MAX, gh = ST_KEY_LONG_LEN - 4;
    uint32_t free_slot = 0;
    int free_known = 0;
    MDB_val k = slot->ks_key, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != ST_KEY_LONG_LEN || memcmp(k.mv_data, slot->ks_buf, gh) != 0) {
            rc = MDB_NOTFOUND;
            break;
        }
        uint32_t c = be32_load((const uint8_t *)k.mv_data + gh);
        if (!free_known && c != free_slot)
            free_known = 1; /* a gap below c */
        else if (!free_known)
            free_slot = c + 1;
        const uint8_t *ss;
        size_t sl;
        MDB_val uv;
        if (long_split(&v, &ss, &sl, &uv) != 0) {
            rc = MDB_CORRUPTED;
            break;
        }
        if (sl == slen && memcmp(ss, suffix, slen) == 0) {
            memcpy(slot->ks_buf, k.mv_data, ST_KEY_LONG_LEN);
            *value = uv;
            break;
        }
    }
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND)
        be32_store(slot->ks_buf + gh, free_slot);
    return rc;
}

/* ---- cursors in record-key order ------------------------------------------------ */

static int item_cmp(const void *pa, const void *pb)
{
    const st_kitem_t *a = pa, *b = pb;
    return st_key_cmp(a->ki_suffix, a->ki_slen, b->ki_suffix, b->ki_slen);
}

void st_kcur_init(st_kcur_t *c, const st_env_t *env, MDB_cursor *cur)
{
    memset(c, 0, sizeof *c);
    c->kc_env = env;
    c->kc_cur = cur;
}

void st_kcur_free(st_kcur_t *c)
{
    free(c->kc_items);
    free(c->kc_kbuf);
    c->kc_items = NULL;
    c->kc_kbuf = NULL;
}

/* Makes the current key of a group (item kc_i) contiguous in kc_kbuf. */
static int group_current(st_kcur_t *c)
{
    const st_kitem_t *it = &c->kc_items[c->kc_i];
    size_t need = ST_KEY_SHORT_MAX + it->ki_slen;
    if (need > INT32_MAX)
        return MDB_CORRUPTED;
    if (need > c->kc_kcap) {
        uint8_t *p = realloc(c->kc_kbuf, need);
        if (!p)
            return ENOMEM;
        c->kc_kbuf = p;
        c->kc_kcap = need;
    }
    memcpy(c->kc_kbuf, c->kc_g + 1, ST_KEY_SHORT_MAX);
    memcpy(c->kc_kbuf + ST_KEY_SHORT_MAX, it->ki_suffix, it->ki_slen);
    c->kc_key = (eddy_bytes_t){c->kc_kbuf, (int32_t)need};
    c->kc_val = it->ki_value;
    return 0;
}

static int group_add(st_kcur_t *c, const MDB_val *v)
{
    if (c->kc_n == c->kc_cap) {
        size_t cap = c->kc_cap ? c->kc_cap * 2 : 8;
        st_kitem_t *p = realloc(c->kc_items, cap * sizeof *p);
        if (!p)
            return ENOMEM;
        c->kc_items = p;
        c->kc_cap = cap;
    }
    st_kitem_t *it = &c->kc_items[c->kc_n];
    if (long_split(v, &it->ki_suffix, &it->ki_slen, &it->ki_value) != 0)
        return MDB_CORRUPTED;
    c->kc_n++;
    return 0;
}

static int in_group(const uint8_t *g, const MDB_val *k)
{
    return k->mv_size == ST_KEY_LONG_LEN && memcmp(k->mv_data, g, 1 + ST_KEY_SHORT_MAX) == 0;
}

/* The LMDB cursor is on (k, v) after a get that returned rc: makes that
 * entry current, loading its whole group (forward, or backward when
 * backward) when it is long. */
static int settle(st_kcur_t *c, int rc, MDB_val *k, MDB_val *v, int backward)
{
    c->kc_grouped = 0;
    c->kc_valid = 0;
    if (rc)
        return rc;
    const uint8_t *p = k->mv_data;
    if (k->mv_size == 0 || p[0] != ST_KEY_TAG)
        return MDB_CORRUPTED;
    if (k->mv_size <= 1 + ST_KEY_SHORT_MAX) {
        if (v->mv_size > INT32_MAX)
            return MDB_CORRUPTED;
        c->kc_key = (eddy_bytes_t){p + 1, (int32_t)(k->mv_size - 1)};
        c->kc_val = *v;
        c->kc_valid = 1;
        return 0;
    }
    if (k->mv_size != ST_KEY_LONG_LEN)
        return MDB_CORRUPTED;
    memcpy(c->kc_g, p, 1 + ST_KEY_SHORT_MAX);
    c->kc_n = 0;
    for (;;) {
        if ((rc = group_add(c, v)))
            return rc;
        rc = mdb_cursor_get(c->kc_cur, k, v, backward ? MDB_PREV : MDB_NEXT);
        if (rc || !in_group(c->kc_g, k))
            break;
    }
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    /* The entry after the group, the next one to settle on. */
    c->kc_la_rc = rc;
    c->kc_la_k = *k;
    c->kc_la_v = *v;
    qsort(c->kc_items, c->kc_n, sizeof *c->kc_items, item_cmp);
    c->kc_grouped = 1;
    c->kc_valid = 1;
    c->kc_i = backward ? c->kc_n - 1 : 0;
    return group_current(c);
}

int st_kcur_next(st_kcur_t *c)
{
    if (!c->kc_valid)
        return MDB_NOTFOUND;
    if (c->kc_grouped) {
        if (c->kc_i + 1 < c->kc_n) {
            c->kc_i++;
            return group_current(c);
        }
        MDB_val k = c->kc_la_k, v = c->kc_la_v;
        return settle(c, c->kc_la_rc, &k, &v, 0);
    }
    MDB_val k, v;
    int rc = mdb_cursor_get(c->kc_cur, &k, &v, MDB_NEXT);
    return settle(c, rc, &k, &v, 0);
}

int st_kcur_seek(st_kcur_t *c, eddy_bytes_t key, int after)
{
    MDB_val k, v;
    int rc;
    if (key.len < 0) {
        rc = mdb_cursor_get(c->kc_cur, &k, &v, MDB_FIRST);
        return settle(c, rc, &k, &v, 0);
    }
    uint8_t buf[ST_KEY_LONG_LEN];
    size_t n = (size_t)key.len;
    if (n <= ST_KEY_SHORT_MAX) {
        k.mv_size = st_key_encode(c->kc_env, buf, key, 0);
        k.mv_data = buf;
        rc = mdb_cursor_get(c->kc_cur, &k, &v, MDB_SET_RANGE);
        if (rc == 0 && after && k.mv_size == 1 + n && memcmp(k.mv_data, buf, 1 + n) == 0)
            rc = mdb_cursor_get(c->kc_cur, &k, &v, MDB_NEXT);
        return settle(c, rc, &k, &v, 0);
    }
    buf[0] = ST_KEY_TAG;
    memcpy(buf + 1, key.data, ST_KEY_SHORT_MAX);
    k.mv_size = 1 + ST_KEY_SHORT_MAX;
    k.mv_data = buf;
    rc = mdb_cursor_get(c->kc_cur, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && k.mv_size == 1 + ST_KEY_SHORT_MAX &&
        memcmp(k.mv_data, buf, 1 + ST_KEY_SHORT_MAX) == 0)
        rc = mdb_cursor_get(c->kc_cur, &k, &v, MDB_NEXT); /* k[0..P): smaller */
    int same = rc == 0 && in_group(buf, &k);
    if ((rc = settle(c, rc, &k, &v, 0)) || !same)
        return rc;
    /* Within k's group: skip the keys below it (or up to it). */
    const uint8_t *suffix = (const uint8_t *)key.data + ST_KEY_SHORT_MAX;
    size_t slen = n - ST_KEY_SHORT_MAX;
    while (c->kc_i < c->kc_n) {
        const st_kitem_t *it = &c->kc_items[c->kc_i];
        int d = st_key_cmp(it->ki_suffix, it->ki_slen, suffix, slen);
        if (d > 0 || (d == 0 && !after))
            break;
        c->kc_i++;
    }
    if (c->kc_i < c->kc_n)
        return group_current(c);
    k = c->kc_la_k;
    v = c->kc_la_v;
    return settle(c, c->kc_la_rc, &k, &v, 0);
}

int st_kcur_seek_le(st_kcur_t *c, eddy_bytes_t key)
{
    int rc = st_kcur_seek(c, key, 0);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    if (rc == 0 &&
        st_key_cmp(c->kc_key.data, (size_t)c->kc_key.len, key.data, (size_t)key.len) == 0)
        return 0;
    if (rc == 0 && c->kc_grouped && c->kc_i > 0) {
        c->kc_i--;
        return group_current(c);
    }
    /* The predecessor is the last entry before the current one's first
     * LMDB entry (before the end when there is none). */
    MDB_val k, v;
    if (rc == MDB_NOTFOUND) {
        rc = mdb_cursor_get(c->kc_cur, &k, &v, MDB_LAST);
    } else {
        uint8_t buf[ST_KEY_LONG_LEN];
        if (c->kc_grouped) {
            memcpy(buf, c->kc_g, 1 + ST_KEY_SHORT_MAX);
            k.mv_size = 1 + ST_KEY_SHORT_MAX;
        } else {
            k.mv_size = st_key_encode(c->kc_env, buf, c->kc_key, 0);
        }
        k.mv_data = buf;
        size_t want = k.mv_size;
        rc = mdb_cursor_get(c->kc_cur, &k, &v, MDB_SET_RANGE);
        if (rc == 0 && c->kc_grouped && k.mv_size == want && memcmp(k.mv_data, buf, want) == 0)
            return settle(c, rc, &k, &v, 1); /* the short key G[1..]: just before the group */
        if (rc == 0)
            rc = mdb_cursor_get(c->kc_cur, &k, &v, MDB_PREV);
    }
    return settle(c, rc, &k, &v, 1);
}

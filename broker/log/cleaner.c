/* Compaction: keep the latest record per key in the inactive segments.
 *
 * prepare (owner thread)  snapshot the inactive segments and the settings
 * run (any thread)        map key -> latest offset over them, then write the
 *                         kept records into <base>.<end>.cleaned files
 *                         (fsynced); sources are read-only, never changed
 * commit (owner thread)   per output, in order:
 *                           1. rename .cleaned -> .swap, fsync dir   <- commit point
 *                           2. delete the source segments it replaces
 *                           3. rename .swap -> <base>.log, write its index
 *
 * A crash before 1 leaves a .cleaned file, which open deletes (the sources
 * are intact). A crash after 1 leaves a .swap file, which open completes:
 * the segments with bases in [base, end) are deleted and the swap becomes the
 * segment. Either way no half-swapped segment is ever read.
 *
 * Kept: the record with the highest offset for its key; records without a
 * key; tombstones (null value) until delete.retention.ms after their
 * timestamp; transaction markers as Kafka's cleaner keeps them (below).
 *
 * Transactions (Kafka's LogCleaner and CleanedTransactionMetadata): the
 * cleanable range ends before the segment holding the LSO, so every
 * transaction with data in it has its marker. Batches of aborted
 * transactions (the .txnindex entries of the whole log) are dropped and
 * count for nothing in the key map. A marker goes once no data of its
 * transaction remains before it (an abort marker whose aborted batches this
 * pass dropped, or a commit marker whose transaction still has batches,
 * stays for the next pass) and its timestamp is delete.retention.ms old, as
 * a tombstone's; an abort marker kept keeps its .txnindex entry in the
 * cleaned segment. Compressed batches are read like the
 * others (inflated at most log_inflate_limit() bytes) and a rewritten one is
 * compressed again with its own codec, at the topic's level for it. A batch
 * keeps its base offset, lastOffsetDelta, producer fields and (LogAppendTime)
 * maxTimestamp, so offsets never change; a batch left with no record is
 * dropped. A batch that cannot be read stops the job with a log line: its
 * records are never dropped unread.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "log_int.h"
#include "wire/recordbatch.h"

int log_clean_crash_after_step;

/* ---- key -> latest offset map (open addressing, keys copied into an arena) ---- */

typedef struct offset_map {
    struct om_slot {
        uint64_t hash; /* 0 = empty */
        int64_t offset;
        size_t key_off;
        int32_t key_len;
    } *om_slots;
    size_t om_cap, om_count;
    eddy_wr_t om_keys;
} offset_map_t;

static uint64_t key_hash(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a, then a final mix */
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h ? h : 1;
}

static struct om_slot *om_find(offset_map_t *m, const uint8_t *key, int32_t len, uint64_t h)
{
    size_t i = h & (m->om_cap - 1);
    for (;;) {
        struct om_slot *s = &m->om_slots[i];
        if (s->hash == 0 || (s->hash == h && s->key_len == len &&
                             memcmp(m->om_keys.wr_buf + s->key_off, key, (size_t)len) == 0))
            return s;
        i = (i + 1) & (m->om_cap - 1);
    }
}

static int om_grow(offset_map_t *m)
{
    size_t cap = m->om_cap ? m->om_cap * 2 : 1024;
    struct om_slot *old = m->om_slots;
    size_t old_cap = m->om_cap;
    m->om_slots = calloc(cap, sizeof *m->om_slots);
    if (!m->om_slots) {
        m->om_slots = old;
        return -ENOMEM;
    }
    m->om_cap = cap;
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i].hash)
            continue;
        size_t j = old[i].hash & (cap - 1);
        while (m->om_slots[j].hash)
            j = (j + 1) & (cap - 1);
        m->om_slots[j] = old[i];
    }
    free(old);
    return 0;
}

static int om_put(offset_map_t *m, const uint8_t *key, int32_t len, int64_t offset)
{
    if ((m->om_count + 1) * 4 > m->om_cap * 3 && om_grow(m) < 0)
        return -ENOMEM;
    uint64_t h = key_hash(key, (size_t)len);
    struct om_slot *s = om_find(m, key, len, h);
    if (s->hash == 0) {
        s->hash = h;
        s->key_len = len;
        s->key_off = m->om_keys.wr_len;
        wr_bytes(&m->om_keys, key, (size_t)len);
        if (m->om_keys.wr_err)
            return m->om_keys.wr_err;
        m->om_count++;
    }
    s->offset = offset; /* sources are scanned in offset order: the last one wins */
    return 0;
}

static int64_t om_get(offset_map_t *m, const uint8_t *key, int32_t len)
{
    struct om_slot *s = om_find(m, key, len, key_hash(key, (size_t)len));
    return s->hash ? s->offset : -1;
}

static void om_free(offset_map_t *m)
{
    free(m->om_slots);
    wr_free(&m->om_keys);
}

/* ---- the job ---- */

struct clean_src {
    int64_t base, next_offset, size;
    const uint8_t *map; /* mmap of the .log during run */
};

struct clean_group {
    int first, count;   /* sources [first, first+count) */
    int64_t base, end;  /* the output replaces segments with bases in [base, end) */
    log_segment_t *out; /* metadata and index of the output, owned until commit */
};

struct log_clean_job {
    log_t cj_shadow; /* dir and settings for the output segments while detached */
    uint64_t cj_generation;
    int64_t cj_now;
    int cj_nsrc;
    struct clean_src *cj_src;
    int cj_ngroups;
    struct clean_group *cj_groups;
    int cj_ran; /* outputs written */
    int64_t cj_kept, cj_removed;
    log_aborted_txn_t *cj_aborted; /* every aborted transaction with data in the range */
    size_t cj_naborted;
    uint8_t *cj_observed; /* per aborted transaction: a batch of it met in this pass */
    /* Walking a pass in offset order (Kafka's CleanedTransactionMetadata):
     * cj_aborted is sorted by first offset, cj_next is the first not yet
     * begun, cj_active the begun ones whose marker is not behind us: as
     * many as transactions overlap, so lookups stay short. */
    size_t cj_next;
    size_t *cj_active;
    size_t cj_nactive;
    int64_t *cj_open_pids; /* producers with committed-transaction batches since their marker */
    size_t cj_nopen, cj_open_cap;
};

static void cleaned_name(const struct clean_group *g, const char *suffix, char *out, size_t n)
{
    snprintf(out, n, "%020" PRId64 ".%020" PRId64 "%s", g->base, g->end, suffix);
}

void log_clean_job_free(log_clean_job_t *job)
{
    if (!job)
        return;
    for (int i = 0; i < job->cj_ngroups; i++) {
        struct clean_group *g = &job->cj_groups[i];
        if (g->out) {
            char name[128], path[4096];
            cleaned_name(g, ".cleaned", name, sizeof name);
            snprintf(path, sizeof path, "%s/%s", job->cj_shadow.log_dir, name);
            unlink(path); /* never committed */
            free(g->out->seg_idx);
            free(g->out->seg_txn);
            free(g->out);
        }
    }
    free(job->cj_aborted);
    free(job->cj_observed);
    free(job->cj_active);
    free(job->cj_open_pids);
    free(job->cj_groups);
    free(job->cj_src);
    free(job->cj_shadow.log_dir);
    free(job->cj_shadow.log_name);
    free(job);
}

static int cmp_aborted_first(const void *a, const void *b)
{
    const log_aborted_txn_t *x = a, *y = b;
    return x->at_first < y->at_first ? -1 : x->at_first > y->at_first;
}

log_clean_job_t *log_clean_prepare(log_t *log, int64_t now_ms, int force)
{
    const log_config_t *cfg = &log->log_cfg;
    int nsrc = log->log_nsegs - 1; /* never the active segment */
    if (log->log_offline || !(cfg->cleanup_policy & LOG_CLEANUP_COMPACT) || nsrc <= 0)
        return NULL;
    /* min.compaction.lag.ms, as Kafka applies it: the cleanable range ends
     * before the first segment holding a record younger than the lag, so
     * such a record keeps every older value of its key meanwhile. */
    if (cfg->min_compaction_lag_ms > 0) {
        int64_t limit = now_ms - cfg->min_compaction_lag_ms;
        for (int i = 0; i < nsrc; i++)
            if (log->log_segs[i]->seg_max_ts > limit) {
                nsrc = i;
                break;
            }
        if (nsrc <= 0)
            return NULL;
    }
    /* Nothing at or past the first offset of an open transaction: its
     * fate (and so its markers' and batches') is unknown yet. */
    int64_t unstable = pstate_first_unstable(&log->log_ps);
    if (unstable >= 0) {
        for (int i = 0; i < nsrc; i++)
            if (log->log_segs[i]->seg_next_offset > unstable) {
                nsrc = i;
                break;
            }
        if (nsrc <= 0)
            return NULL;
    }
    int64_t total = 0, dirty = 0;
    int overdue = 0;
    for (int i = 0; i < nsrc; i++) {
        const log_segment_t *seg = log->log_segs[i];
        total += seg->seg_size;
        if (seg->seg_next_offset > log->log_cleaned_upto) {
            dirty += seg->seg_size;
            /* max.compaction.lag.ms: dirt this old is cleaned whatever
             * the dirty ratio (the segment's first batch stands for its
             * oldest record, as Kafka estimates it). */
            if (seg->seg_roll_ts >= 0 && cfg->max_compaction_lag_ms < INT64_MAX &&
                seg->seg_roll_ts < now_ms - cfg->max_compaction_lag_ms)
                overdue = 1;
        }
    }
    if (total == 0 ||
        (!force && !overdue && (double)dirty / (double)total < cfg->min_cleanable_dirty_ratio))
        return NULL;

    log_clean_job_t *job = calloc(1, sizeof *job);
    if (!job)
        return NULL;
    job->cj_shadow.log_dir = strdup(log->log_dir);
    job->cj_shadow.log_name = strdup(log->log_name);
    job->cj_shadow.log_cfg = *cfg;
    job->cj_generation = log->log_generation;
    job->cj_now = now_ms;
    job->cj_nsrc = nsrc;
    job->cj_src = calloc((size_t)nsrc, sizeof *job->cj_src);
    job->cj_groups = calloc((size_t)nsrc, sizeof *job->cj_groups);
    if (!job->cj_shadow.log_dir || !job->cj_shadow.log_name || !job->cj_src || !job->cj_groups) {
        log_clean_job_free(job);
        return NULL;
    }
    for (int i = 0; i < nsrc; i++) {
        const log_segment_t *seg = log->log_segs[i];
        job->cj_src[i] = (struct clean_src){seg->seg_base, seg->seg_next_offset, seg->seg_size,
                                            NULL};
    }
    /* The aborted transactions with data in the range, their markers
     * anywhere in the log, ordered by first offset. */
    if (log_aborted_txns(log, job->cj_src[0].base, job->cj_src[nsrc - 1].next_offset,
                         &job->cj_aborted, &job->cj_naborted) < 0 ||
        (job->cj_naborted &&
         (!(job->cj_observed = calloc(job->cj_naborted, sizeof *job->cj_observed)) ||
          !(job->cj_active = calloc(job->cj_naborted, sizeof *job->cj_active))))) {
        log_clean_job_free(job);
        return NULL;
    }
    if (job->cj_naborted > 1)
        qsort(job->cj_aborted, job->cj_naborted, sizeof *job->cj_aborted, cmp_aborted_first);
    /* Group neighbours so that small cleaned segments merge, within
     * segment.bytes and the 32-bit relative offsets of the index. */
    for (int i = 0; i < nsrc;) {
        struct clean_group *g = &job->cj_groups[job->cj_ngroups++];
        g->first = i;
        g->base = job->cj_src[i].base;
        int64_t bytes = job->cj_src[i].size;
        i++;
        while (i < nsrc && bytes + job->cj_src[i].size <= cfg->segment_bytes &&
               job->cj_src[i].next_offset - g->base <= INT32_MAX) {
            bytes += job->cj_src[i].size;
            i++;
        }
        g->count = i - g->first;
        g->end = log->log_segs[i]->seg_base; /* the next segment: a source or the active one */
    }
    return job;
}

/* Opens the records of a source batch, logging why one cannot be read. */
static int src_open(const log_clean_job_t *job, wire_record_iter_t *it, const uint8_t *p,
                    int64_t size)
{
    char why[160];
    int rc = wire_record_iter_open(it, p, (size_t)size, log_inflate_limit(&job->cj_shadow.log_cfg),
                                   why, sizeof why);
    if (rc)
        EDDY_LOG_ERROR("log",
                       "%s: compaction stopped: the batch at offset %" PRId64 " cannot be read: %s",
                       job->cj_shadow.log_name, (int64_t)be64_load(p), why);
    return rc;
}

/* Starts a pass over the sources (each pass walks them in offset order). */
static void txn_walk_reset(log_clean_job_t *job)
{
    job->cj_next = 0;
    job->cj_nactive = 0;
}

/* Moves the walk to the batch at base: aborted transactions begun by then
 * become active, those whose marker lies behind go. */
static void txn_walk_to(log_clean_job_t *job, int64_t base)
{
    while (job->cj_next < job->cj_naborted && job->cj_aborted[job->cj_next].at_first <= base)
        job->cj_active[job->cj_nactive++] = job->cj_next++;
    size_t kept = 0;
    for (size_t i = 0; i < job->cj_nactive; i++)
        if (job->cj_aborted[job->cj_active[i]].at_last >= base)
            job->cj_active[kept++] = job->cj_active[i];
    job->cj_nactive = kept;
}

/* The aborted transaction the data batch belongs to, or -1. */
static ssize_t batch_aborted(log_clean_job_t *job, const wire_batch_header_t *h)
{
    if (job->cj_naborted == 0)
        return -1;
    txn_walk_to(job, h->baseOffset);
    if (h->producerId < 0 || !(h->attributes & BATCH_ATTR_TRANSACTIONAL) ||
        (h->attributes & BATCH_ATTR_CONTROL))
        return -1;
    for (size_t i = 0; i < job->cj_nactive; i++) {
        const log_aborted_txn_t *at = &job->cj_aborted[job->cj_active[i]];
        if (at->at_pid == h->producerId && h->baseOffset < at->at_last)
            return (ssize_t)job->cj_active[i];
    }
    return -1;
}

static ssize_t open_find(const log_clean_job_t *job, int64_t pid)
{
    for (size_t i = 0; i < job->cj_nopen; i++)
        if (job->cj_open_pids[i] == pid)
            return (ssize_t)i;
    return -1;
}

/* A committed (or not yet ended) transaction's batch of pid was met. */
static int open_note(log_clean_job_t *job, int64_t pid)
{
    if (open_find(job, pid) >= 0)
        return 0;
    if (job->cj_nopen == job->cj_open_cap) {
        size_t cap = job->cj_open_cap ? job->cj_open_cap * 2 : 8;
        int64_t *n = realloc(job->cj_open_pids, cap * sizeof *n);
        if (!n)
            return -ENOMEM;
        job->cj_open_pids = n;
        job->cj_open_cap = cap;
    }
    job->cj_open_pids[job->cj_nopen++] = pid;
    return 0;
}

/* Whether the marker batch at p stays, and the aborted transaction whose
 * .txnindex entry goes with it (*entry, -1 for none). */
static int keep_marker(log_clean_job_t *job, const wire_batch_header_t *h, const uint8_t *p,
                       int64_t size, int64_t horizon, ssize_t *entry)
{
    *entry = -1;
    int type = h->producerId >= 0 ? pstate_marker_type(p, (size_t)size, NULL) : -1;
    if (type < 0)
        return 1; /* not a transaction marker: kept as it is */
    int needed = 0;
    ssize_t k = open_find(job, h->producerId);
    if (k >= 0) {
        job->cj_open_pids[k] = job->cj_open_pids[--job->cj_nopen];
        needed = type == 1;
    }
    if (type == 0 && job->cj_naborted) {
        txn_walk_to(job, h->baseOffset);
        for (size_t i = 0; i < job->cj_nactive; i++) {
            size_t a = job->cj_active[i];
            if (job->cj_aborted[a].at_pid == h->producerId &&
                job->cj_aborted[a].at_last == h->baseOffset) {
                *entry = (ssize_t)a;
                needed = job->cj_observed[a];
                break;
            }
        }
    }
    return needed || h->maxTimestamp > horizon;
}

/* Calls fn for every record of every non-control batch. */
typedef int(record_fn)(void *ctx, const wire_record_t *rec);

static int src_scan(log_clean_job_t *job, const struct clean_src *src, record_fn *fn, void *ctx)
{
    for (int64_t pos = 0; pos < src->size;) {
        const uint8_t *p = src->map + pos;
        int64_t size = wire_batch_size(p);
        if (size < BATCH_HEADER_SIZE || size > src->size - pos)
            return EDDY_ERR_CORRUPT;
        wire_batch_header_t h;
        wire_batch_header_read(p, (size_t)size, &h);
        /* Aborted records never hide a committed value of their key. */
        if (!(h.attributes & BATCH_ATTR_CONTROL) && batch_aborted(job, &h) < 0) {
            wire_record_iter_t it;
            wire_record_t rec;
            int rc = src_open(job, &it, p, size);
            if (rc)
                return rc;
            while ((rc = wire_record_next(&it, &rec)) == 1)
                if ((rc = fn(ctx, &rec)) < 0)
                    break;
            wire_record_iter_close(&it);
            if (rc < 0)
                return rc;
        }
        pos += size;
    }
    return 0;
}

static int map_record(void *ctx, const wire_record_t *rec)
{
    if (rec->keyLength < 0)
        return 0;
    return om_put(ctx, rec->key, rec->keyLength, rec->offset);
}

struct keep_ctx {
    offset_map_t *map;
    int64_t horizon; /* tombstones with timestamps <= horizon go */
};

static int keep_record(const struct keep_ctx *k, const wire_record_t *rec)
{
    if (rec->keyLength < 0)
        return 1;
    if (om_get(k->map, rec->key, rec->keyLength) != rec->offset)
        return 0;
    return rec->valueLength >= 0 || rec->timestamp > k->horizon;
}

/* Writes the kept part of one source into out (a writer) and the output
 * segment's index. */
static int clean_src(log_clean_job_t *job, const struct clean_src *src, const struct keep_ctx *k,
                     log_segment_t *out, int fd)
{
    eddy_wr_t wr;
    wr_init(&wr);
    int rc = 0;
    for (int64_t pos = 0; pos < src->size && rc == 0;) {
        const uint8_t *p = src->map + pos;
        int64_t size = wire_batch_size(p);
        wire_batch_header_t h;
        wire_batch_header_read(p, (size_t)size, &h);
        size_t start = wr.wr_len;
        ssize_t ab = batch_aborted(job, &h);
        if (h.attributes & BATCH_ATTR_CONTROL) {
            ssize_t entry;
            if (keep_marker(job, &h, p, size, k->horizon, &entry)) {
                wr_bytes(&wr, p, (size_t)size);
                if (entry >= 0 && (rc = seg_txn_add(out, &job->cj_aborted[entry], 0)) < 0)
                    break;
                rc = 0;
            }
        } else if (ab >= 0) {
            /* A batch of an aborted transaction: its marker stays until a
             * pass meets none of its batches. */
            job->cj_observed[ab] = 1;
            job->cj_removed += h.recordCount;
        } else {
            if (h.producerId >= 0 && (h.attributes & BATCH_ATTR_TRANSACTIONAL) &&
                (rc = open_note(job, h.producerId)) < 0)
                break;
            /* One pass over the records (inflated once): the kept ones go
             * into a new batch, which is used only if something went. */
            wire_record_iter_t it;
            wire_record_t rec;
            int32_t kept = 0, seen = 0;
            if ((rc = src_open(job, &it, p, size)) != 0)
                break;
            wire_batch_builder_t b;
            wire_batch_begin(&b, &wr, &h);
            b.bb_level = log_codec_level(&job->cj_shadow.log_cfg,
                                         h.attributes & BATCH_ATTR_CODEC_MASK);
            while ((rc = wire_record_next(&it, &rec)) == 1) {
                if (keep_record(k, &rec)) {
                    wire_batch_add_record(&b, &rec);
                    kept++;
                }
                seen++;
            }
            if (rc == 0 && kept > 0 && kept < seen)
                rc = wire_batch_end(&b, 1);
            wire_record_iter_close(&it);
            if (rc < 0)
                break;
            job->cj_kept += kept;
            job->cj_removed += seen - kept;
            if (kept == seen) {
                wr.wr_len = start;
                wr_bytes(&wr, p, (size_t)size); /* unchanged: CRC stays valid */
            } else if (kept == 0) {
                wr.wr_len = start;
            } else if (h.attributes & BATCH_ATTR_LOG_APPEND_TIME) {
                /* The append time stays the batch's, whatever records went. */
                be64_store(wr.wr_buf + start + BATCH_OFF_MAX_TIMESTAMP, (uint64_t)h.maxTimestamp);
                wire_batch_crc_update(wr.wr_buf + start, wr.wr_len - start);
            }
        }
        if (wr.wr_len > start) {
            int64_t n = (int64_t)(wr.wr_len - start);
            seg_index_note(out, h.baseOffset, out->seg_size, n,
                           (int64_t)be64_load(wr.wr_buf + start + BATCH_OFF_MAX_TIMESTAMP));
            out->seg_next_offset = wire_batch_last_offset(&h) + 1;
        }
        pos += size;
        if (wr.wr_len >= (1 << 20) || pos >= src->size) {
            const uint8_t *q = wr.wr_buf;
            size_t left = wr.wr_len;
            while (left && rc == 0) {
                ssize_t w = write(fd, q, left);
                if (w < 0 && errno != EINTR)
                    rc = -errno;
                if (w > 0) {
                    q += w;
                    left -= (size_t)w;
                }
            }
            wr_reset(&wr);
        }
    }
    if (rc == 0 && wr.wr_err)
        rc = wr.wr_err;
    wr_free(&wr);
    return rc;
}

int log_clean_run(log_clean_job_t *job)
{
    offset_map_t map;
    memset(&map, 0, sizeof map);
    wr_init(&map.om_keys);
    int rc = 0;
    int *fds = malloc((size_t)job->cj_nsrc * sizeof *fds);
    if (!fds)
        return -ENOMEM;
    for (int i = 0; i < job->cj_nsrc; i++)
        fds[i] = -1;

    /* Map every source read-only; a source deleted meanwhile makes the job
     * stale, which commit would notice anyway. */
    for (int i = 0; i < job->cj_nsrc && rc == 0; i++) {
        struct clean_src *s = &job->cj_src[i];
        char path[4096];
        seg_path(&job->cj_shadow, s->base, ".log", path, sizeof path);
        if ((fds[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
            rc = EDDY_ERR_STALE;
            break;
        }
        if (s->size > 0) {
            void *m = mmap(NULL, (size_t)s->size, PROT_READ, MAP_SHARED, fds[i], 0);
            if (m == MAP_FAILED) {
                rc = -errno;
                break;
            }
            s->map = m;
        }
    }
    txn_walk_reset(job);
    for (int i = 0; i < job->cj_nsrc && rc == 0; i++)
        if (job->cj_src[i].map)
            rc = src_scan(job, &job->cj_src[i], map_record, &map);
    txn_walk_reset(job);

    struct keep_ctx k = {&map, job->cj_now - job->cj_shadow.log_cfg.delete_retention_ms};
    for (int g = 0; g < job->cj_ngroups && rc == 0; g++) {
        struct clean_group *grp = &job->cj_groups[g];
        char name[128], path[4096];
        cleaned_name(grp, ".cleaned", name, sizeof name);
        snprintf(path, sizeof path, "%s/%s", job->cj_shadow.log_dir, name);
        if (!(grp->out = seg_new(&job->cj_shadow, grp->base))) {
            rc = -ENOMEM;
            break;
        }
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            rc = -errno;
            break;
        }
        for (int i = grp->first; i < grp->first + grp->count && rc == 0; i++)
            if (job->cj_src[i].map)
                rc = clean_src(job, &job->cj_src[i], &k, grp->out, fd);
        if (rc == 0 && log_fsync_fn(fd) < 0)
            rc = -errno;
        close(fd);
    }
    for (int i = 0; i < job->cj_nsrc; i++) {
        if (job->cj_src[i].map)
            munmap((void *)job->cj_src[i].map, (size_t)job->cj_src[i].size);
        job->cj_src[i].map = NULL;
        if (fds[i] >= 0)
            close(fds[i]);
    }
    free(fds);
    om_free(&map);
    job->cj_ran = rc == 0;
    return rc;
}

/* One step of the commit; returns 1 when a simulated crash stops it here. */
static int crash_here(int *step)
{
    return log_clean_crash_after_step && ++*step >= log_clean_crash_after_step;
}

int log_clean_commit(log_t *log, log_clean_job_t *job)
{
    if (!job->cj_ran)
        return EDDY_ERR_INVALID_ARG;
    if (log->log_offline)
        return EDDY_ERR_LOG_OFFLINE;
    if (job->cj_generation != log->log_generation || log->log_nsegs <= job->cj_nsrc)
        return EDDY_ERR_STALE; /* sources deleted or replaced meanwhile */
    int step = 0, rc;
    if (crash_here(&step))
        return -ECANCELED;
    /* Groups commit oldest first. A crash between two groups then leaves
     * the older part cleaned and the newer part as it was, which reads the
     * same: a tombstone only goes once the older values it hides are gone. */
    int shift = 0; /* array slots freed by groups already merged */
    for (int g = 0; g < job->cj_ngroups; g++) {
        struct clean_group *grp = &job->cj_groups[g];
        int first = grp->first - shift;
        char cleaned[128], swap[128], from[4096], to[4096];
        cleaned_name(grp, ".cleaned", cleaned, sizeof cleaned);
        cleaned_name(grp, ".swap", swap, sizeof swap);
        snprintf(from, sizeof from, "%s/%s", log->log_dir, cleaned);
        snprintf(to, sizeof to, "%s/%s", log->log_dir, swap);
        if (rename(from, to) < 0 || (rc = log_fsync_dir(log->log_dir)) < 0) {
            rc = -errno;
            EDDY_LOG_ERROR("log", "%s: compaction cannot commit %s: %s", log->log_name, cleaned,
                           strerror(errno));
            return rc;
        }
        if (crash_here(&step))
            return -ECANCELED;
        for (int i = first; i < first + grp->count; i++) {
            seg_delete(log->log_segs[i]);
            log->log_segs[i] = NULL;
            if (crash_here(&step))
                return -ECANCELED;
        }
        seg_path(log, grp->base, ".log", to, sizeof to);
        snprintf(from, sizeof from, "%s/%s", log->log_dir, swap);
        if (rename(from, to) < 0) /* the swap stays; the next open completes it */
            return log_go_offline(log, -errno, "renaming a compacted segment into place");
        log_segment_t *out = grp->out;
        grp->out = NULL;
        out->seg_log = log;
        out->seg_synced = out->seg_size;
        log->log_segs[first] = out;
        if (grp->count > 1) {
            memmove(&log->log_segs[first + 1], &log->log_segs[first + grp->count],
                    (size_t)(log->log_nsegs - first - grp->count) * sizeof *log->log_segs);
            log->log_nsegs -= grp->count - 1;
            shift += grp->count - 1;
        }
        seg_index_write(out);
        /* Its entries only describe markers of data the pass dropped: a
         * crash before this write loses nothing a reader needs. */
        if ((rc = seg_txn_write(out)) < 0)
            EDDY_LOG_WARN("log",
                          "%s: cannot write the transaction index of a compacted segment: %s",
                          log->log_name, eddy_strerror(rc));
        log_fsync_dir(log->log_dir);
    }
    log->log_generation++;
    log->log_cleaned_upto = job->cj_src[job->cj_nsrc - 1].next_offset;
    /* Gaps between segments are compaction's from now on, whatever the
     * topic's policy becomes (log.c's start-up check reads this). */
    if (!log->log_ever_compacted &&
        log_write_file_atomic(log->log_dir, COMPACTED_NAME, "", 0, 1) == 0)
        log->log_ever_compacted = 1;
    EDDY_LOG_INFO("log",
                  "%s: compacted %d segment(s) into %d: %" PRId64 " records kept, %" PRId64
                  " removed",
                  log->log_name, job->cj_nsrc, job->cj_ngroups, job->cj_kept, job->cj_removed);
    return 0;
}

int log_compact(log_t *log, int64_t now_ms, int force)
{
    log_clean_job_t *job = log_clean_prepare(log, now_ms, force);
    if (!job)
        return 0;
    int rc = log_clean_run(job);
    if (rc == 0)
        rc = log_clean_commit(log, job);
    log_clean_job_free(job);
    return rc;
}

/* Segments: one .log file of whole batches, its sparse indexes, and the fd
 * cache that opens segment files on demand.
 *
 * <base>.log       the batches, byte for byte as produced (baseOffset set)
 *
 * <base>.index     (big-endian; rebuilt from .log whenever it does not check)
 *    0  magic          "EIX1"
 *    4  crc            uint32  CRC-32C of bytes 8..end
 *    8  log_size       int64   size of the .log this index describes
 *   16  next_offset    int64   last offset in the segment + 1
 *   24  max_timestamp  int64   largest record timestamp (-1: empty)
 *   32  roll_timestamp int64   first batch's maxTimestamp (segment.ms)
 *   40  entries        n x { relative_offset uint32, position uint32 }
 *
 * <base>.timeindex
 *    0  magic          "ETX1"
 *    4  crc            uint32  CRC-32C of bytes 8..end
 *    8  log_size       int64
 *   16  entries        n x { max_timestamp_before int64, relative_offset uint32 }
 *
 * Entry i of both files describes the same batch: it starts at position,
 * has base offset base+relative_offset, and every record before it in the
 * segment has a timestamp <= max_timestamp_before. An entry is added once
 * index.interval.bytes have been appended since the previous one.
 *
 * Recovery rule: the index files are only a cache. They are written whole
 * (temp + rename) when a segment rolls and at clean close, never fsynced; a
 * missing file, a bad magic or CRC, a log_size different from the .log's
 * size, or entries out of order make the segment be rescanned instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/crc32c.h"
#include "common/err.h"
#include "common/log.h"
#include "log_int.h"
#include "wire/recordbatch.h"

#define INDEX_HEADER 40
#define INDEX_ENTRY 8
#define TIMEINDEX_HEADER 16
#define TIMEINDEX_ENTRY 12

int (*log_fsync_fn)(int fd) = fsync;

void seg_path(const log_t *log, int64_t base, const char *suffix, char *out, size_t out_size)
{
    snprintf(out, out_size, "%s/%020" PRId64 "%s", log->log_dir, base, suffix);
}

log_segment_t *seg_new(log_t *log, int64_t base)
{
    log_segment_t *seg = calloc(1, sizeof *seg);
    if (!seg)
        return NULL;
    seg->seg_log = log;
    seg->seg_base = base;
    seg->seg_next_offset = base;
    seg->seg_max_ts = -1;
    seg->seg_roll_ts = -1;
    seg->seg_fd = -1;
    return seg;
}

/* ---- fd cache ---- */

log_fdcache_t *log_fdcache_new(int max_open)
{
    log_fdcache_t *fdc = calloc(1, sizeof *fdc);
    if (fdc)
        fdc->fc_max = max_open > 1 ? max_open : 1;
    return fdc;
}

void log_fdcache_destroy(log_fdcache_t *fdc)
{
    free(fdc);
}

int log_fdcache_open_count(const log_fdcache_t *fdc)
{
    return fdc->fc_open;
}

void log_fdcache_set_deleter(log_fdcache_t *fdc, log_deleter_fn *fn, void *opaque)
{
    fdc->fc_deleter = fn;
    fdc->fc_deleter_opaque = opaque;
}

static void lru_unlink(log_fdcache_t *fdc, log_segment_t *seg)
{
    if (seg->seg_lru_prev)
        seg->seg_lru_prev->seg_lru_next = seg->seg_lru_next;
    else
        fdc->fc_mru = seg->seg_lru_next;
    if (seg->seg_lru_next)
        seg->seg_lru_next->seg_lru_prev = seg->seg_lru_prev;
    else
        fdc->fc_lru = seg->seg_lru_prev;
    seg->seg_lru_prev = seg->seg_lru_next = NULL;
}

static void lru_push_front(log_fdcache_t *fdc, log_segment_t *seg)
{
    seg->seg_lru_prev = NULL;
    seg->seg_lru_next = fdc->fc_mru;
    if (fdc->fc_mru)
        fdc->fc_mru->seg_lru_prev = seg;
    fdc->fc_mru = seg;
    if (!fdc->fc_lru)
        fdc->fc_lru = seg;
}

void fdc_forget(log_segment_t *seg)
{
    if (seg->seg_fd < 0)
        return;
    log_fdcache_t *fdc = seg->seg_log->log_fdc;
    lru_unlink(fdc, seg);
    close(seg->seg_fd);
    seg->seg_fd = -1;
    fdc->fc_open--;
}

int seg_fd(log_segment_t *seg)
{
    log_fdcache_t *fdc = seg->seg_log->log_fdc;
    if (seg->seg_fd >= 0) {
        if (fdc->fc_mru != seg) {
            lru_unlink(fdc, seg);
            lru_push_front(fdc, seg);
        }
        return seg->seg_fd;
    }
    /* Close the least recently used idle segments first, so that the
     * open count stays within the limit even while this one opens (the
     * limit is part of the broker's open-file budget). */
    log_segment_t *victim = fdc->fc_lru;
    while (fdc->fc_open >= fdc->fc_max && victim) {
        log_segment_t *prev = victim->seg_lru_prev;
        if (victim->seg_pins == 0)
            fdc_forget(victim);
        victim = prev;
    }
    char path[4096];
    seg_path(seg->seg_log, seg->seg_base, ".log", path, sizeof path);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    seg->seg_fd = fd;
    fdc->fc_open++;
    lru_push_front(fdc, seg);
    return fd;
}

void seg_pin(log_segment_t *seg)
{
    seg->seg_pins++;
}

/* Pinned segments stay open while others open, so the cache can go over
 * its limit; once they are unpinned it goes back within it. The broker's
 * open-file budget for connections counts on the limit: a cache left over
 * it by one large fetch could leave an idle broker unable to accept anyone,
 * and nothing else would ever shrink it (only opening a segment does). */
static void fdc_trim(log_fdcache_t *fdc)
{
    log_segment_t *victim = fdc->fc_lru;
    while (fdc->fc_open > fdc->fc_max && victim) {
        log_segment_t *prev = victim->seg_lru_prev;
        if (victim->seg_pins == 0)
            fdc_forget(victim);
        victim = prev;
    }
}

void seg_unpin(log_segment_t *seg)
{
    if (--seg->seg_pins > 0)
        return;
    if (seg->seg_deleted)
        seg_destroy(seg);
    else
        fdc_trim(seg->seg_log->log_fdc);
}

void seg_destroy(log_segment_t *seg)
{
    if (!seg)
        return;
    if (seg->seg_pins > 0) {
        seg->seg_deleted = 1; /* the last seg_unpin() frees it */
        return;
    }
    fdc_forget(seg);
    free(seg->seg_idx);
    free(seg->seg_txn);
    free(seg);
}

void seg_delete(log_segment_t *seg)
{
    log_t *log = seg->seg_log;
    log_fdcache_t *fdc = log->log_fdc;
    char path[4096], gone[4200];
    /* The indexes are small and rebuildable: unlink them now. The .log is
     * renamed first so that no crash can bring it back, then removed by the
     * deleter (which may take its time on another thread). */
    seg_path(log, seg->seg_base, ".index", path, sizeof path);
    unlink(path);
    seg_path(log, seg->seg_base, ".timeindex", path, sizeof path);
    unlink(path);
    seg_path(log, seg->seg_base, ".txnindex", path, sizeof path);
    unlink(path);
    seg_path(log, seg->seg_base, ".log", path, sizeof path);
    snprintf(gone, sizeof gone, "%s.deleted", path);
    if (rename(path, gone) < 0) {
        if (errno != ENOENT)
            EDDY_LOG_WARN("log", "%s: cannot delete %s: %s", log->log_name, path, strerror(errno));
    } else if (fdc->fc_deleter) {
        fdc->fc_deleter(gone, fdc->fc_deleter_opaque);
    } else if (unlink(gone) < 0) {
        EDDY_LOG_WARN("log", "%s: cannot delete %s: %s", log->log_name, gone, strerror(errno));
    }
    seg_destroy(seg);
}

/* ---- cursor: buffered reads of a segment file ---- */

void seg_cursor_init(seg_cursor_t *c, log_segment_t *seg, uint8_t *buf, size_t cap)
{
    c->cur_seg = seg;
    c->cur_buf = buf;
    c->cur_cap = cap;
    c->cur_buf_pos = 0;
    c->cur_buf_len = 0;
    c->cur_err = 0;
}

const uint8_t *seg_cursor_get(seg_cursor_t *c, int64_t pos, size_t n)
{
    if (pos >= c->cur_buf_pos && pos + (int64_t)n <= c->cur_buf_pos + (int64_t)c->cur_buf_len)
        return c->cur_buf + (pos - c->cur_buf_pos);
    c->cur_err = 0;
    if (n > c->cur_cap)
        return NULL;
    int fd = seg_fd(c->cur_seg);
    if (fd < 0) {
        c->cur_err = fd;
        return NULL;
    }
    ssize_t r;
    do
        r = pread(fd, c->cur_buf, c->cur_cap, pos);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        c->cur_err = -errno;
        c->cur_buf_len = 0;
        return NULL;
    }
    c->cur_buf_pos = pos;
    c->cur_buf_len = (size_t)r;
    return (size_t)r >= n ? c->cur_buf : NULL;
}

/* ---- index ---- */

void seg_index_note(log_segment_t *seg, int64_t base_offset, int64_t pos, int64_t size,
                    int64_t max_ts)
{
    if (seg->seg_idx_bytes_since >= seg->seg_log->log_cfg.index_interval_bytes && pos > 0) {
        if (seg->seg_idx_n == seg->seg_idx_cap) {
            size_t cap = seg->seg_idx_cap ? seg->seg_idx_cap * 2 : 64;
            log_index_entry_t *ni = realloc(seg->seg_idx, cap * sizeof *ni);
            if (!ni)
                goto no_entry; /* a sparser index is still a correct one */
            seg->seg_idx = ni;
            seg->seg_idx_cap = cap;
        }
        seg->seg_idx[seg->seg_idx_n++] = (log_index_entry_t){
            (uint32_t)(base_offset - seg->seg_base), (uint32_t)pos, seg->seg_max_ts};
        seg->seg_idx_bytes_since = 0;
    }
no_entry:
    seg->seg_idx_bytes_since += size;
    seg->seg_idx_dirty = 1;
    if (pos == 0)
        seg->seg_roll_ts = max_ts;
    if (max_ts > seg->seg_max_ts)
        seg->seg_max_ts = max_ts;
    seg->seg_size = pos + size;
}

const log_index_entry_t *seg_index_floor_offset(const log_segment_t *seg, int64_t offset)
{
    int64_t rel = offset - seg->seg_base;
    size_t lo = 0, hi = seg->seg_idx_n; /* first entry with rel_offset > rel */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if ((int64_t)seg->seg_idx[mid].ie_rel_offset <= rel)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? &seg->seg_idx[lo - 1] : NULL;
}

int seg_index_full(const log_segment_t *seg)
{
    return (int64_t)(INDEX_HEADER + (seg->seg_idx_n + 1) * INDEX_ENTRY) >
           seg->seg_log->log_cfg.segment_index_bytes;
}

int seg_index_write(log_segment_t *seg)
{
    size_t n = seg->seg_idx_n;
    size_t ilen = INDEX_HEADER + n * INDEX_ENTRY, tlen = TIMEINDEX_HEADER + n * TIMEINDEX_ENTRY;
    uint8_t *ib = malloc(ilen), *tb = malloc(tlen);
    int rc = -ENOMEM;
    if (!ib || !tb)
        goto out;
    memcpy(ib, "EIX1", 4);
    be64_store(ib + 8, (uint64_t)seg->seg_size);
    be64_store(ib + 16, (uint64_t)seg->seg_next_offset);
    be64_store(ib + 24, (uint64_t)seg->seg_max_ts);
    be64_store(ib + 32, (uint64_t)seg->seg_roll_ts);
    memcpy(tb, "ETX1", 4);
    be64_store(tb + 8, (uint64_t)seg->seg_size);
    for (size_t i = 0; i < n; i++) {
        const log_index_entry_t *e = &seg->seg_idx[i];
        be32_store(ib + INDEX_HEADER + i * INDEX_ENTRY, e->ie_rel_offset);
        be32_store(ib + INDEX_HEADER + i * INDEX_ENTRY + 4, e->ie_pos);
        be64_store(tb + TIMEINDEX_HEADER + i * TIMEINDEX_ENTRY, (uint64_t)e->ie_max_ts_before);
        be32_store(tb + TIMEINDEX_HEADER + i * TIMEINDEX_ENTRY + 8, e->ie_rel_offset);
    }
    be32_store(ib + 4, crc32c(0, ib + 8, ilen - 8));
    be32_store(tb + 4, crc32c(0, tb + 8, tlen - 8));
    char name[64];
    snprintf(name, sizeof name, "%020" PRId64 ".index", seg->seg_base);
    if ((rc = log_write_file_atomic(seg->seg_log->log_dir, name, ib, ilen, 0)) < 0)
        goto out;
    snprintf(name, sizeof name, "%020" PRId64 ".timeindex", seg->seg_base);
    if ((rc = log_write_file_atomic(seg->seg_log->log_dir, name, tb, tlen, 0)) < 0)
        goto out;
    seg->seg_idx_dirty = 0;
out:
    free(ib);
    free(tb);
    return rc;
}

/* Reads a whole small file; bounded so a garbled size cannot make us
 * allocate without limit. */
static uint8_t *read_small_file(const char *path, size_t max, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    uint8_t *buf = NULL;
    if (fstat(fd, &st) < 0 || st.st_size < 0 || (size_t)st.st_size > max)
        goto out;
    buf = malloc((size_t)st.st_size + 1);
    if (!buf)
        goto out;
    ssize_t r = pread(fd, buf, (size_t)st.st_size, 0);
    if (r != st.st_size) {
        free(buf);
        buf = NULL;
        goto out;
    }
    *len = (size_t)r;
out:
    close(fd);
    return buf;
}

int seg_index_load(log_segment_t *seg, int64_t log_size)
{
    char path[4096];
    size_t ilen = 0, tlen = 0;
    size_t max = (size_t)seg->seg_log->log_cfg.segment_index_bytes * 2 + 4096;
    seg_path(seg->seg_log, seg->seg_base, ".index", path, sizeof path);
    uint8_t *ib = read_small_file(path, max, &ilen);
    seg_path(seg->seg_log, seg->seg_base, ".timeindex", path, sizeof path);
    uint8_t *tb = read_small_file(path, max * 2, &tlen);
    int rc = -1;
    log_index_entry_t *idx = NULL;
    if (!ib || !tb || ilen < INDEX_HEADER || tlen < TIMEINDEX_HEADER)
        goto out;
    if (memcmp(ib, "EIX1", 4) || be32_load(ib + 4) != crc32c(0, ib + 8, ilen - 8) ||
        memcmp(tb, "ETX1", 4) || be32_load(tb + 4) != crc32c(0, tb + 8, tlen - 8))
        goto out;
    size_t n = (ilen - INDEX_HEADER) / INDEX_ENTRY;
    if ((ilen - INDEX_HEADER) % INDEX_ENTRY || tlen != TIMEINDEX_HEADER + n * TIMEINDEX_ENTRY)
        goto out;
    if ((int64_t)be64_load(ib + 8) != log_size || (int64_t)be64_load(tb + 8) != log_size)
        goto out;
    int64_t next_offset = (int64_t)be64_load(ib + 16);
    if (next_offset < seg->seg_base || next_offset - seg->seg_base > (int64_t)UINT32_MAX + 1)
        goto out;
    idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *ie = ib + INDEX_HEADER + i * INDEX_ENTRY;
        const uint8_t *te = tb + TIMEINDEX_HEADER + i * TIMEINDEX_ENTRY;
        idx[i].ie_rel_offset = be32_load(ie);
        idx[i].ie_pos = be32_load(ie + 4);
        idx[i].ie_max_ts_before = (int64_t)be64_load(te);
        /* Both files must agree, and entries must rise through the file. */
        if (be32_load(te + 8) != idx[i].ie_rel_offset || idx[i].ie_pos >= (uint64_t)log_size ||
            (int64_t)idx[i].ie_rel_offset >= next_offset - seg->seg_base ||
            (i > 0 && (idx[i].ie_rel_offset <= idx[i - 1].ie_rel_offset ||
                       idx[i].ie_pos <= idx[i - 1].ie_pos ||
                       idx[i].ie_max_ts_before < idx[i - 1].ie_max_ts_before)))
            goto out;
    }
    free(seg->seg_idx);
    seg->seg_idx = idx;
    idx = NULL;
    seg->seg_idx_n = seg->seg_idx_cap = n;
    seg->seg_size = seg->seg_synced = log_size;
    seg->seg_next_offset = next_offset;
    seg->seg_max_ts = (int64_t)be64_load(ib + 24);
    seg->seg_roll_ts = (int64_t)be64_load(ib + 32);
    seg->seg_idx_bytes_since = n ? log_size - seg->seg_idx[n - 1].ie_pos : log_size;
    seg->seg_idx_dirty = 0;
    rc = 0;
out:
    free(idx);
    free(ib);
    free(tb);
    return rc;
}

/* ---- scanning (recovery and index rebuild) ---- */

#define SCAN_BUF (1 << 20)

int64_t seg_scan(log_segment_t *seg, int64_t file_size, int validate, char *why, size_t why_size)
{
    seg->seg_idx_n = 0;
    seg->seg_idx_bytes_since = 0;
    seg->seg_next_offset = seg->seg_base;
    seg->seg_max_ts = -1;
    seg->seg_roll_ts = -1;
    seg->seg_size = 0;
    seg->seg_idx_dirty = 1;
    seg->seg_scan_markers = 0;
    why[0] = 0;

    uint8_t *buf = malloc(SCAN_BUF);
    uint8_t *big = NULL; /* for a batch larger than buf */
    if (!buf) {
        snprintf(why, why_size, "out of memory");
        return 0;
    }
    seg_cursor_t cur;
    seg_cursor_init(&cur, seg, buf, SCAN_BUF);
    int64_t pos = 0;
    int read_err = 0;
    while (pos < file_size) {
        if (file_size - pos < BATCH_HEADER_SIZE) {
            snprintf(why, why_size, "%" PRId64 " trailing bytes are less than a batch header",
                     file_size - pos);
            break;
        }
        const uint8_t *p = seg_cursor_get(&cur, pos, BATCH_HEADER_SIZE);
        if (!p) {
            read_err = cur.cur_err < 0 ? cur.cur_err : -EIO;
            snprintf(why, why_size, "read error at byte %" PRId64 ": %s", pos,
                     eddy_strerror(read_err));
            break;
        }
        int64_t size = wire_batch_size(p);
        if (size < BATCH_HEADER_SIZE || size > file_size - pos) {
            snprintf(why, why_size, "batch size %" PRId64 " runs past the end of the file", size);
            break;
        }
        wire_batch_header_t h;
        if (validate) {
            const uint8_t *whole = seg_cursor_get(&cur, pos, (size_t)size);
            if (!whole) {
                free(big);
                big = malloc((size_t)size);
                int fd = seg_fd(seg);
                ssize_t r = big && fd >= 0 ? pread(fd, big, (size_t)size, pos) : -1;
                if (r != size) {
                    read_err = !big ? -ENOMEM : fd < 0 ? fd : r < 0 ? -errno : -EIO;
                    snprintf(why, why_size, "read error at byte %" PRId64 ": %s", pos,
                             eddy_strerror(read_err));
                    break;
                }
                whole = big;
            }
            char err[160];
            if (wire_batch_validate(whole, (size_t)size, 0, 0, &h, err, sizeof err) < 0) {
                snprintf(why, why_size, "%s", err);
                break;
            }
        } else {
            wire_batch_header_read(p, BATCH_HEADER_SIZE, &h);
        }
        /* baseOffset is outside the CRC: it must continue the sequence. */
        if (h.baseOffset < seg->seg_next_offset ||
            wire_batch_last_offset(&h) - seg->seg_base > (int64_t)UINT32_MAX) {
            snprintf(why, why_size,
                     "batch baseOffset %" PRId64 " is out of sequence (expected >= %" PRId64 ")",
                     h.baseOffset, seg->seg_next_offset);
            break;
        }
        seg_index_note(seg, h.baseOffset, pos, size, h.maxTimestamp);
        seg->seg_next_offset = wire_batch_last_offset(&h) + 1;
        if (h.attributes & BATCH_ATTR_CONTROL)
            seg->seg_scan_markers = 1;
        pos += size;
    }
    free(big);
    free(buf);
    return read_err ? read_err : pos;
}

/* ---- files ---- */

int log_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = log_fsync_fn(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

int log_write_file_atomic(const char *dir, const char *name, const void *data, size_t len,
                          int durable)
{
    char tmp[4096], dst[4096];
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, name);
    snprintf(dst, sizeof dst, "%s/%s", dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    const uint8_t *p = data;
    size_t left = len;
    int rc = 0;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = -errno;
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    if (!rc && durable && log_fsync_fn(fd) < 0)
        rc = -errno;
    close(fd);
    if (!rc && rename(tmp, dst) < 0)
        rc = -errno;
    if (rc) {
        unlink(tmp);
        return rc;
    }
    return durable ? log_fsync_dir(dir) : 0;
}

/* The aborted-transaction index of a segment: Kafka's .txnindex.
 *
 * <base>.txnindex (big-endian; Kafka's TransactionIndex layout, entries
 * appended one at a time as abort markers are written):
 *   n x 34 bytes:
 *      0  version          int16  0
 *      2  producer_id      int64
 *     10  first_offset     int64  first offset of the aborted transaction's data
 *     18  last_offset      int64  offset of its abort marker (in this segment)
 *     26  last_stable_offset int64 the log's LSO once the marker was written
 *
 * An entry lives in the segment holding its abort marker, so a fetch from
 * offset o finds every aborted transaction it can meet in the segments from
 * o's onward. The file goes with its segment (retention, DeleteRecords,
 * truncation, compaction) and is fsynced by the flush that moves the
 * recovery point past its marker. Recovery rule: entries whose marker is
 * outside the segment as recovered are dropped, a trailing partial entry is
 * ignored, and the producer-state replay (producer_state.c) adds back the
 * entries of every marker it replays, so a segment rescanned after a crash
 * gets its index rebuilt from the log, as Kafka's recovery does.
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
#include "common/err.h"
#include "common/log.h"
#include "log_int.h"

#define TXN_ENTRY 34
#define TXN_MAX_FILE ((int64_t)64 << 20) /* bounds the read of a garbled file */

static void encode(uint8_t *b, const log_aborted_txn_t *at)
{
    be16_store(b, 0);
    be64_store(b + 2, (uint64_t)at->at_pid);
    be64_store(b + 10, (uint64_t)at->at_first);
    be64_store(b + 18, (uint64_t)at->at_last);
    be64_store(b + 26, (uint64_t)at->at_lso);
}

static int mem_add(log_segment_t *seg, const log_aborted_txn_t *at)
{
    for (size_t i = seg->seg_txn_n; i-- > 0;)
        if (seg->seg_txn[i].at_last == at->at_last)
            return 0;
    if (seg->seg_txn_n == seg->seg_txn_cap) {
        size_t cap = seg->seg_txn_cap ? seg->seg_txn_cap * 2 : 4;
        log_aborted_txn_t *n = realloc(seg->seg_txn, cap * sizeof *n);
        if (!n)
            return -ENOMEM;
        seg->seg_txn = n;
        seg->seg_txn_cap = cap;
    }
    /* Kept in marker order: a replay may add one between loaded ones. */
    size_t i = seg->seg_txn_n;
    while (i > 0 && seg->seg_txn[i - 1].at_last > at->at_last)
        i--;
    memmove(&seg->seg_txn[i + 1], &seg->seg_txn[i], (seg->seg_txn_n - i) * sizeof *seg->seg_txn);
    seg->seg_txn[i] = *at;
    seg->seg_txn_n++;
    return 1;
}

int seg_txn_add(log_segment_t *seg, const log_aborted_txn_t *at, int append)
{
    int rc = mem_add(seg, at);
    if (rc <= 0 || !append)
        return rc;
    char path[4096];
    seg_path(seg->seg_log, seg->seg_base, ".txnindex", path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    uint8_t b[TXN_ENTRY];
    encode(b, at);
    ssize_t w = write(fd, b, sizeof b);
    int err = w == (ssize_t)sizeof b ? 0 : w < 0 ? -errno : -EIO;
    close(fd);
    if (err == 0)
        seg->seg_txn_unsynced = 1;
    return err ? err : 1;
}

int seg_txn_load(log_segment_t *seg)
{
    seg->seg_txn_n = 0;
    char path[4096];
    seg_path(seg->seg_log, seg->seg_base, ".txnindex", path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    struct stat st;
    int rc = 0;
    uint8_t *b = NULL;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto out;
    }
    if (st.st_size > TXN_MAX_FILE) {
        EDDY_LOG_WARN("log", "%s: %s is %lld bytes, too large for an index; ignored",
                      seg->seg_log->log_name, path, (long long)st.st_size);
        goto out;
    }
    size_t len = (size_t)st.st_size / TXN_ENTRY * TXN_ENTRY;
    if (len == 0)
        goto out;
    if (!(b = malloc(len))) {
        rc = -ENOMEM;
        goto out;
    }
    if (pread(fd, b, len, 0) != (ssize_t)len) {
        rc = -EIO;
        goto out;
    }
    int dropped = 0;
    for (size_t off = 0; off < len; off += TXN_ENTRY) {
        log_aborted_txn_t at = {(int64_t)be64_load(b + off + 2), (int64_t)be64_load(b + off + 10),
                                (int64_t)be64_load(b + off + 18), (int64_t)be64_load(b + off + 26)};
        if (be16_load(b + off) != 0 || at.at_pid < 0 || at.at_first > at.at_last ||
            at.at_last < seg->seg_base || at.at_last >= seg->seg_next_offset) {
            dropped = 1;
            continue;
        }
        if ((rc = mem_add(seg, &at)) < 0)
            goto out;
        rc = 0;
    }
    /* A file that held entries of cut-off markers or a torn tail is
     * rewritten, so the next append continues whole entries. */
    if (dropped || len != (size_t)st.st_size)
        rc = seg_txn_write(seg);
out:
    free(b);
    close(fd);
    return rc;
}

void seg_txn_drop_from(log_segment_t *seg, int64_t offset)
{
    while (seg->seg_txn_n > 0 && seg->seg_txn[seg->seg_txn_n - 1].at_last >= offset)
        seg->seg_txn_n--;
}

int seg_txn_write(log_segment_t *seg)
{
    char path[4096], name[64];
    seg_path(seg->seg_log, seg->seg_base, ".txnindex", path, sizeof path);
    if (seg->seg_txn_n == 0) {
        if (unlink(path) < 0 && errno != ENOENT)
            return -errno;
        seg->seg_txn_unsynced = 0;
        return 0;
    }
    uint8_t *b = malloc(seg->seg_txn_n * TXN_ENTRY);
    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < seg->seg_txn_n; i++)
        encode(b + i * TXN_ENTRY, &seg->seg_txn[i]);
    snprintf(name, sizeof name, "%020" PRId64 ".txnindex", seg->seg_base);
    int rc = log_write_file_atomic(seg->seg_log->log_dir, name, b, seg->seg_txn_n * TXN_ENTRY, 0);
    free(b);
    if (rc == 0)
        seg->seg_txn_unsynced = 1;
    return rc;
}

int seg_txn_fsync(const char *dir, int64_t base)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%020" PRId64 ".txnindex", dir, base);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    int rc = log_fsync_fn(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

int log_aborted_txns(const log_t *log, int64_t from, int64_t upper, log_aborted_txn_t **out,
                     size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    /* The first segment that may hold a marker at or above from. */
    int lo = 0, hi = log->log_nsegs;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (log->log_segs[mid]->seg_next_offset <= from)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (int i = lo; i < log->log_nsegs; i++) {
        const log_segment_t *seg = log->log_segs[i];
        for (size_t k = 0; k < seg->seg_txn_n; k++) {
            const log_aborted_txn_t *at = &seg->seg_txn[k];
            if (at->at_last < from || at->at_first >= upper)
                goto next;
            if (*n == cap) {
                cap = cap ? cap * 2 : 8;
                log_aborted_txn_t *no = realloc(*out, cap * sizeof *no);
                if (!no) {
                    free(*out);
                    *out = NULL;
                    *n = 0;
                    return -ENOMEM;
                }
                *out = no;
            }
            (*out)[(*n)++] = *at;
        next:
            /* Kafka's stop rule: once an entry's LSO reaches the upper
             * bound, every transaction begun below it had ended, so later
             * markers end transactions that began after the fetched data. */
            if (at->at_lso >= upper)
                return 0;
        }
    }
    return 0;
}

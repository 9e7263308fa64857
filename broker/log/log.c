/* The partition log: open and recovery, append, read, lookups, truncation,
 * retention and flushing. Compaction is in cleaner.c, segment files and the
 * index format in segment.c.
 *
 * A log directory holds:
 *   <base>.log / .index / .timeindex   segments (see segment.c)
 *   log.checkpoint                     log start offset and recovery point
 *   .clean_shutdown                    present only after a clean close
 *   .compacted                         empty; present once the cleaner has rewritten the log
 *   <offset>.snapshot                  idempotent producers' state (producer_state.c)
 *   <base>.txnindex                    aborted transactions (txn_index.c)
 *   <base>.<end>.cleaned / .swap       compaction in progress (cleaner.c)
 *
 * log.checkpoint (big-endian, replaced whole: temp, fsync, rename, fsync dir)
 *    0  magic            "ECP1"
 *    4  crc              uint32  CRC-32C of bytes 8..23
 *    8  log_start_offset int64
 *   16  recovery_point   int64   every batch below is on stable storage
 *
 * Recovery rule: with the clean-shutdown marker present, index files are
 * trusted (a segment whose index does not check is rescanned). Without it,
 * every segment that may hold data at or above the recovery point is scanned
 * batch by batch (size fits, CRC-32C matches, offsets rise); the log is cut
 * at the first bad batch, later segments are deleted, and one log line says
 * where and how much.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/crc32c.h"
#include "common/err.h"
#include "common/log.h"
#include "log_int.h"
#include "wire/recordbatch.h"

#define CHECKPOINT_NAME "log.checkpoint"
#define CLEAN_MARKER ".clean_shutdown"
#define READ_BUF 8192 /* one index interval and a batch header, usually */

/* ---- segment list ---- */

static int segs_reserve(log_t *log, int n)
{
    if (n <= log->log_segs_cap)
        return 0;
    int cap = log->log_segs_cap ? log->log_segs_cap : 8;
    while (cap < n)
        cap *= 2;
    log_segment_t **ns = realloc(log->log_segs, (size_t)cap * sizeof *ns);
    if (!ns)
        return -ENOMEM;
    log->log_segs = ns;
    log->log_segs_cap = cap;
    return 0;
}

static int segs_push(log_t *log, log_segment_t *seg)
{
    int rc = segs_reserve(log, log->log_nsegs + 1);
    if (rc)
        return rc;
    log->log_segs[log->log_nsegs++] = seg;
    return 0;
}

/* Deletes segments [i, i+n) (files and memory) and closes the gap. */
static void segs_delete(log_t *log, int i, int n)
{
    for (int k = i; k < i + n; k++)
        seg_delete(log->log_segs[k]);
    memmove(&log->log_segs[i], &log->log_segs[i + n],
            (size_t)(log->log_nsegs - i - n) * sizeof *log->log_segs);
    log->log_nsegs -= n;
    log->log_generation++;
}

static log_segment_t *active_seg(const log_t *log)
{
    return log->log_segs[log->log_nsegs - 1];
}

/* Index of the last segment whose base <= offset (0 if none). */
static int seg_find(const log_t *log, int64_t offset)
{
    int lo = 0, hi = log->log_nsegs;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (log->log_segs[mid]->seg_base <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? lo - 1 : 0;
}

int64_t log_start_offset(const log_t *log)
{
    return log->log_start;
}

int64_t log_end_offset(const log_t *log)
{
    return active_seg(log)->seg_next_offset;
}

int64_t log_size_bytes(const log_t *log)
{
    int64_t total = 0;
    for (int i = 0; i < log->log_nsegs; i++)
        total += log->log_segs[i]->seg_size;
    return total;
}

int log_segment_count(const log_t *log)
{
    return log->log_nsegs;
}

int64_t log_recovery_point(const log_t *log)
{
    return log->log_recovery_point;
}

int log_offline_error(const log_t *log)
{
    return log->log_offline;
}

void log_set_inline_flush(log_t *log, int inline_flush)
{
    log->log_inline_flush = inline_flush;
}

int log_producer_count(const log_t *log)
{
    return (int)log->log_ps.ps_n;
}

int log_ongoing_txn_count(const log_t *log)
{
    return (int)log->log_ps.ps_ongoing;
}

int log_txn_open(const log_t *log, int64_t producer_id, int16_t producer_epoch)
{
    const pstate_entry_t *e = pstate_find(&log->log_ps, producer_id);
    return e && e->pe_epoch == producer_epoch && e->pe_txn_first >= 0;
}

int64_t log_last_stable_offset(const log_t *log)
{
    int64_t hw = log_end_offset(log);
    int64_t fu = pstate_first_unstable(&log->log_ps);
    if (fu < 0 || fu > hw)
        return hw;
    /* Retention or DeleteRecords may have moved the start past the first
     * batch of a transaction still open: Kafka's LSO is then the start. */
    return fu < log->log_start ? log->log_start : fu;
}

int log_producers_expire(log_t *log, int64_t now_ms, int64_t expiration_ms)
{
    return pstate_expire(&log->log_ps, now_ms, expiration_ms);
}

void log_set_config(log_t *log, const log_config_t *cfg)
{
    log->log_cfg = *cfg;
}

/* ---- checkpoint ---- */

static int checkpoint_write(const char *dir, int64_t start, int64_t recovery_point)
{
    uint8_t b[24];
    memcpy(b, "ECP1", 4);
    be64_store(b + 8, (uint64_t)start);
    be64_store(b + 16, (uint64_t)recovery_point);
    be32_store(b + 4, crc32c(0, b + 8, 16));
    return log_write_file_atomic(dir, CHECKPOINT_NAME, b, sizeof b, 1);
}

/* Returns 0 and the values, or -1 if missing or corrupt. */
static int checkpoint_read(const char *dir, int64_t *start, int64_t *recovery_point)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, CHECKPOINT_NAME);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    uint8_t b[25];
    ssize_t r = pread(fd, b, sizeof b, 0);
    close(fd);
    if (r != 24 || memcmp(b, "ECP1", 4) || be32_load(b + 4) != crc32c(0, b + 8, 16))
        return -1;
    *start = (int64_t)be64_load(b + 8);
    *recovery_point = (int64_t)be64_load(b + 16);
    return 0;
}

/* Takes the log offline after a failed fsync, write or read: data may be
 * lost below us, and retrying would hide it (the fsyncgate lesson). The first
 * error wins and is the only one logged, so a failing disk under a busy
 * partition writes one line, not one per request. */
static int go_offline_line(log_t *log, int err, const char *line)
{
    if (!log->log_offline) {
        log->log_offline = err;
        EDDY_LOG_ERROR("log",
                       "%s: %s; the log is offline (KAFKA_STORAGE_ERROR to produce and fetch) "
                       "until the broker restarts and recovers it",
                       log->log_name, line);
    }
    return EDDY_ERR_LOG_OFFLINE;
}

/* EMFILE and ENFILE come from open(), never from a write or an fsync: no
 * data is in doubt, only a file could not be opened for now (segments of
 * many partitions, connections and the worker threads share the process's
 * open-file limit). The operation fails with that error (the client gets a
 * retriable KAFKA_STORAGE_ERROR, a flush is retried at the next interval)
 * and the partition stays online; one line per 10 s for all partitions. */
static int fd_shortage(const log_t *log, int err, const char *what)
{
    static eddy_log_limit_t lim = EDDY_LOG_LIMIT_INIT;
    EDDY_LOG_LIMITED(EDDY_LOG_LVL_WARN, "log", &lim, 10000,
                     "%s: %s: %s; retried later, the partition stays online (raise ulimit -n, or "
                     "lower log.max.open.files or max.connections)",
                     log->log_name, what, eddy_strerror(err));
    return err;
}

static int is_fd_shortage(int err)
{
    return err == -EMFILE || err == -ENFILE;
}

int log_go_offline(log_t *log, int err, const char *what)
{
    char line[1024];
    snprintf(line, sizeof line, "%s failed: %s", what, eddy_strerror(err));
    return go_offline_line(log, err, line);
}

int log_read_failed(log_t *log, log_segment_t *seg, int64_t pos, int64_t len, int err)
{
    char path[4096], line[4400];
    seg_path(log, seg->seg_base, ".log", path, sizeof path);
    if (is_fd_shortage(err))
        return fd_shortage(log, err, "opening a segment to read");
    if (err < 0) {
        snprintf(line, sizeof line, "reading %s at byte %" PRId64 " failed: %s", path, pos,
                 eddy_strerror(err));
        return go_offline_line(log, err, line);
    }
    /* No errno: the file is shorter than what the log wrote to it, so it was
     * cut (or replaced) outside the broker. */
    struct stat st;
    int fd = seg_fd(seg);
    int64_t fsize = fd >= 0 && fstat(fd, &st) == 0 ? (int64_t)st.st_size : -1;
    snprintf(line, sizeof line,
             "reading %s bytes [%" PRId64 ", %" PRId64 "): the file is %" PRId64
             " bytes, shorter than the %" PRId64 " bytes of batches the log wrote to it "
             "(truncated outside the broker?)",
             path, pos, pos + len, fsize, seg->seg_size);
    return go_offline_line(log, -EIO, line);
}

/* ---- open and recovery ---- */

/* Parses "<20 digits><suffix>" names; returns 1 and the offsets on a match. */
static int parse_seg_name(const char *name, const char *suffix, int64_t *base)
{
    size_t n = strlen(name), sl = strlen(suffix);
    if (n != 20 + sl || strcmp(name + 20, suffix) != 0)
        return 0;
    int64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9')
            return 0;
        v = v * 10 + (name[i] - '0');
    }
    *base = v;
    return 1;
}

/* "<20 digits>.<20 digits><suffix>": a compaction output covering [base, end). */
static int parse_swap_name(const char *name, const char *suffix, int64_t *base, int64_t *end)
{
    char head[32];
    if (strlen(name) != 21 + 20 + strlen(suffix) || name[20] != '.')
        return 0;
    snprintf(head, sizeof head, "%.20s.log", name);
    return parse_seg_name(head, ".log", base) && parse_seg_name(name + 21, suffix, end);
}

static int has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), s = strlen(suffix);
    return n > s && strcmp(name + n - s, suffix) == 0;
}

/* Finishes a compaction that committed (its .swap exists) before a crash:
 * the segments it replaces are deleted, then the swap becomes the segment. */
static void complete_swap(log_t *log, int64_t base, int64_t end, int64_t *bases, int *nbases,
                          const char *swap_name)
{
    static const char *const suffixes[] = {".log", ".index", ".timeindex"};
    char path[4096], swap[4096];
    int kept = 0;
    for (int i = 0; i < *nbases; i++) {
        if (bases[i] >= base && bases[i] < end) {
            for (int k = 0; k < 3; k++) {
                seg_path(log, bases[i], suffixes[k], path, sizeof path);
                unlink(path);
            }
            /* The swapped-in segment keeps the name (and the .txnindex,
             * whose entries outside it are dropped at load) of the first. */
            if (bases[i] != base) {
                seg_path(log, bases[i], ".txnindex", path, sizeof path);
                unlink(path);
            }
            continue;
        }
        bases[kept++] = bases[i];
    }
    snprintf(swap, sizeof swap, "%s/%s", log->log_dir, swap_name);
    seg_path(log, base, ".log", path, sizeof path);
    if (rename(swap, path) == 0) {
        bases[kept++] = base;
        EDDY_LOG_INFO("log",
                      "%s: completed an interrupted compaction of offsets [%" PRId64 ", %" PRId64
                      ")",
                      log->log_name, base, end);
    }
    *nbases = kept;
}

/* Appends v to a growing array; -ENOMEM on failure. */
static int push_i64(int64_t **arr, size_t *n, size_t *cap, int64_t v)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        int64_t *na = realloc(*arr, c * sizeof *na);
        if (!na)
            return -ENOMEM;
        *arr = na;
        *cap = c;
    }
    (*arr)[(*n)++] = v;
    return 0;
}

static int list_segments(log_t *log, int64_t **out, int *nout, int64_t **snaps_out,
                         size_t *nsnaps_out, int64_t **txn_out, size_t *ntxn_out)
{
    int64_t *snaps = NULL, *txns = NULL;
    size_t nsnaps = 0, snaps_cap = 0, ntxns = 0, txns_cap = 0;
    DIR *d = opendir(log->log_dir);
    if (!d)
        return -errno;
    int64_t *bases = NULL;
    int n = 0, cap = 0;
    char swaps[16][64];
    int nswaps = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        int64_t base, end;
        char path[4096];
        if (parse_seg_name(de->d_name, ".log", &base)) {
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                int64_t *nb = realloc(bases, (size_t)cap * sizeof *nb);
                if (!nb) {
                    rc = -ENOMEM;
                    break;
                }
                bases = nb;
            }
            bases[n++] = base;
        } else if (pstate_snapshot_name_parse(de->d_name, &base)) {
            if (nsnaps == snaps_cap) {
                snaps_cap = snaps_cap ? snaps_cap * 2 : 8;
                int64_t *ns = realloc(snaps, snaps_cap * sizeof *ns);
                if (!ns) {
                    rc = -ENOMEM;
                    break;
                }
                snaps = ns;
            }
            snaps[nsnaps++] = base;
        } else if (parse_seg_name(de->d_name, ".txnindex", &base)) {
            /* Only segments with an aborted transaction have one: the
             * others need no open() at start. */
            if ((rc = push_i64(&txns, &ntxns, &txns_cap, base)) < 0)
                break;
        } else if (parse_swap_name(de->d_name, ".swap", &base, &end) && nswaps < 16) {
            snprintf(swaps[nswaps++], sizeof swaps[0], "%.63s", de->d_name);
        } else if (parse_swap_name(de->d_name, ".cleaned", &base, &end) ||
                   has_suffix(de->d_name, ".tmp") || has_suffix(de->d_name, ".deleted")) {
            /* An unfinished compaction output or temp file (never committed),
             * or a deleted segment whose removal a crash interrupted. */
            snprintf(path, sizeof path, "%s/%s", log->log_dir, de->d_name);
            unlink(path);
        }
    }
    closedir(d);
    if (rc) {
        free(bases);
        free(snaps);
        free(txns);
        return rc;
    }
    if (nswaps) {
        int64_t *nb = realloc(bases, (size_t)(n + nswaps) * sizeof *nb);
        if (!nb) {
            free(bases);
            free(snaps);
            free(txns);
            return -ENOMEM;
        }
        bases = nb;
    }
    for (int i = 0; i < nswaps; i++) {
        int64_t base, end;
        parse_swap_name(swaps[i], ".swap", &base, &end);
        complete_swap(log, base, end, bases, &n, swaps[i]);
    }
    if (n > 1)
        qsort(bases, (size_t)n, sizeof *bases, cmp_i64);
    if (nsnaps > 1)
        qsort(snaps, nsnaps, sizeof *snaps, cmp_i64);
    if (ntxns > 1)
        qsort(txns, ntxns, sizeof *txns, cmp_i64);
    *out = bases;
    *nout = n;
    *snaps_out = snaps;
    *nsnaps_out = nsnaps;
    *txn_out = txns;
    *ntxn_out = ntxns;
    return 0;
}

static int truncate_file(log_segment_t *seg, int64_t size)
{
    int fd = seg_fd(seg);
    if (fd < 0)
        return fd;
    return ftruncate(fd, size) < 0 ? -errno : 0;
}

static void log_free(log_t *log)
{
    for (int i = 0; i < log->log_nsegs; i++)
        seg_destroy(log->log_segs[i]);
    free(log->log_segs);
    pstate_clear(&log->log_ps);
    free(log->log_dir);
    free(log->log_name);
    free(log);
}

/* Records below the checkpoint's recovery point were flushed, and so
 * acknowledged: if the segments no longer hold them (files deleted or cut
 * outside the broker) the log must not be served as if they never existed.
 * Serving it would start again at a lower offset, hand out offsets consumers
 * already committed past, and hide the loss. The log stays offline
 * (KAFKA_STORAGE_ERROR) with one line naming what is missing, until an
 * operator removes log.checkpoint to accept the loss (docs/log.md). */
static void check_missing(log_t *log, int64_t ck_start, int64_t recovery_point)
{
    char why[512] = "";
    char marker[4096];
    snprintf(marker, sizeof marker, "%s/%s", log->log_dir, COMPACTED_NAME);
    log->log_ever_compacted = access(marker, F_OK) == 0;
    /* Compaction may empty the first segments and leave gaps between the
     * others (the cleaner drops batches it empties; a cleaned segment is
     * named by its first kept batch), so only the log's end is checked for
     * a log under cleanup.policy compact or one the cleaner ever rewrote
     * (its policy may have changed to delete since): a missing segment
     * of a compacted log is not detected. */
    int compacted = (log->log_cfg.cleanup_policy & LOG_CLEANUP_COMPACT) || log->log_ever_compacted;
    int64_t end = log_end_offset(log);
    int64_t first = log->log_segs[0]->seg_base;
    if (end < recovery_point) {
        snprintf(why, sizeof why,
                 "the log ends at offset %" PRId64 " but log.checkpoint says offsets below %" PRId64
                 " were written and flushed: records [%" PRId64 ", %" PRId64 ") are missing",
                 end, recovery_point, end > ck_start ? end : ck_start, recovery_point);
    } else if (!compacted && first > ck_start && ck_start < recovery_point) {
        snprintf(why, sizeof why,
                 "the first segment starts at offset %" PRId64 " but log.checkpoint says the log "
                 "starts at %" PRId64 ": records [%" PRId64 ", %" PRId64 ") are missing",
                 first, ck_start, ck_start, first < recovery_point ? first : recovery_point);
    }
    /* A hole between two segments: one segment's records end below the
     * next one's base offset, so the files between them are gone (deleted
     * by hand, or lost with a disk). Appends and rolls never leave one;
     * compaction does (above). */
    if (!why[0] && !compacted) {
        for (int i = 0; i + 1 < log->log_nsegs; i++) {
            const log_segment_t *a = log->log_segs[i], *b = log->log_segs[i + 1];
            if (a->seg_next_offset >= b->seg_base)
                continue;
            snprintf(why, sizeof why,
                     "segment %020" PRId64 ".log ends at offset %" PRId64
                     " but the next one is %020" PRId64 ".log: records [%" PRId64 ", %" PRId64
                     ") are missing",
                     a->seg_base, a->seg_next_offset, b->seg_base, a->seg_next_offset, b->seg_base);
            break;
        }
    }
    if (!why[0])
        return;
    log->log_offline = EDDY_ERR_LOG_OFFLINE;
    EDDY_LOG_ERROR("log",
                   "%s: %s: %s (segment files deleted or cut outside the broker?); the partition "
                   "stays offline (KAFKA_STORAGE_ERROR) so that nothing is served or appended "
                   "over the gap; to accept the loss and serve what remains, stop the broker, "
                   "remove %s/" CHECKPOINT_NAME " and start it again",
                   log->log_name, log->log_dir, why, log->log_dir);
}

int log_open(const char *dir, const char *name, const log_config_t *cfg, log_fdcache_t *fdc,
             int64_t now_ms, log_t **out, char *errstr, size_t errstr_size)
{
    int rc;
    int64_t *bases = NULL, *snaps = NULL, *txns = NULL;
    int nbases = 0;
    size_t nsnaps = 0, ntxns = 0;
    log_t *log = calloc(1, sizeof *log);
    if (!log)
        return -ENOMEM;
    log->log_dir = strdup(dir);
    log->log_name = strdup(name);
    log->log_cfg = *cfg;
    log->log_fdc = fdc;
    log->log_last_flush_ms = now_ms;
    log->log_inline_flush = 1;
    if (!log->log_dir || !log->log_name) {
        rc = -ENOMEM;
        goto fail;
    }
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        rc = -errno;
        snprintf(errstr, errstr_size, "%s: cannot create log directory: %s", dir, strerror(errno));
        goto fail;
    }
    if (access(dir, R_OK | W_OK | X_OK) < 0) {
        rc = -errno;
        snprintf(errstr, errstr_size,
                 "%s: the log directory exists but this process (uid %d) cannot read and write "
                 "it: %s",
                 dir, (int)geteuid(), strerror(errno));
        goto fail;
    }
    if ((rc = list_segments(log, &bases, &nbases, &snaps, &nsnaps, &txns, &ntxns)) < 0) {
        snprintf(errstr, errstr_size, "%s: cannot list log directory: %s", dir, eddy_strerror(rc));
        goto fail;
    }

    int64_t ck_start = 0, recovery_point = 0;
    int have_ck = checkpoint_read(dir, &ck_start, &recovery_point) == 0;
    if (!have_ck) {
        ck_start = nbases ? bases[0] : 0;
        recovery_point = 0;
    }
    char marker[4096];
    snprintf(marker, sizeof marker, "%s/%s", dir, CLEAN_MARKER);
    int clean = access(marker, F_OK) == 0;

    for (int i = 0; i < nbases; i++) {
        log_segment_t *seg = seg_new(log, bases[i]);
        if (!seg || segs_push(log, seg) < 0) {
            free(seg);
            rc = -ENOMEM;
            goto fail;
        }
        char path[4096];
        struct stat st;
        seg_path(log, bases[i], ".log", path, sizeof path);
        if (stat(path, &st) < 0) {
            rc = -errno;
            snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
            goto fail;
        }
        int64_t size = st.st_size;
        int last = i == nbases - 1;
        int past_recovery_point = last || bases[i + 1] > recovery_point;
        if ((clean || !past_recovery_point) && seg_index_load(seg, size) == 0)
            continue;
        if (clean || !past_recovery_point)
            EDDY_LOG_INFO("log",
                          "%s: segment %020" PRId64 ".log: index missing or corrupt, rebuilding",
                          name, bases[i]);
        char why[256];
        int64_t good = seg_scan(seg, size, 1, why, sizeof why);
        if (good == size)
            continue;
        if (good < 0) {
            /* A disk that fails a read is no reason to cut the log there:
             * the start stops, naming the file, and nothing is deleted. */
            rc = (int)good;
            snprintf(errstr, errstr_size, "%s: recovery scan: %s; nothing was truncated", path,
                     why);
            goto fail;
        }
        /* Cut here: the rest of this segment and every later one. */
        int64_t later_bytes = 0;
        for (int k = i + 1; k < nbases; k++) {
            seg_path(log, bases[k], ".log", path, sizeof path);
            if (stat(path, &st) == 0)
                later_bytes += st.st_size;
        }
        EDDY_LOG_WARN("log",
                      "%s: segment %020" PRId64 ".log: %s at byte %" PRId64 " (next offset %" PRId64
                      "); truncating %" PRId64 " bytes and %d later segment(s) of %" PRId64
                      " bytes",
                      name, bases[i], why, good, seg->seg_next_offset, size - good, nbases - 1 - i,
                      later_bytes);
        if ((rc = truncate_file(seg, good)) < 0) {
            snprintf(errstr, errstr_size, "%s: cannot truncate: %s", path, eddy_strerror(rc));
            goto fail;
        }
        for (int k = i + 1; k < nbases; k++) {
            log_segment_t *gone = seg_new(log, bases[k]);
            if (gone)
                seg_delete(gone);
        }
        break;
    }
    if (log->log_nsegs == 0) {
        log_segment_t *seg = seg_new(log, ck_start);
        if (!seg || segs_push(log, seg) < 0 || seg_fd(seg) < 0) {
            rc = -ENOMEM;
            snprintf(errstr, errstr_size, "%s: cannot create the first segment", dir);
            goto fail;
        }
    }
    free(bases);
    bases = NULL;

    /* Records the checkpoint says are there and are not: checked before the
     * start moves up to the first segment, which would hide a missing head. */
    if (have_ck)
        check_missing(log, ck_start, recovery_point);

    /* Segments wholly below the checkpointed start were being deleted. */
    int64_t end = log_end_offset(log);
    log->log_start = ck_start > log->log_segs[0]->seg_base ? ck_start : log->log_segs[0]->seg_base;
    if (log->log_start > end)
        log->log_start = end;
    int below = 0;
    while (below < log->log_nsegs - 1 && log->log_segs[below]->seg_next_offset <= log->log_start)
        below++;
    if (below)
        segs_delete(log, 0, below);
    /* Aborted-transaction indexes; entries of markers recovery cut are
     * dropped, and the replay below adds those a rescanned segment lacks. */
    for (int i = 0; i < log->log_nsegs && !log->log_offline; i++) {
        int64_t base = log->log_segs[i]->seg_base;
        if (!ntxns || !bsearch(&base, txns, ntxns, sizeof *txns, cmp_i64))
            continue;
        if ((rc = seg_txn_load(log->log_segs[i])) < 0) {
            char path[4096];
            seg_path(log, log->log_segs[i]->seg_base, ".txnindex", path, sizeof path);
            snprintf(errstr, errstr_size, "%s: cannot read: %s", path, eddy_strerror(rc));
            goto fail;
        }
    }
    /* A read that fails takes the log offline (and it opens offline); only
     * running out of memory fails the open. */
    /* A rescanned segment holding markers (after a crash) is replayed whole,
     * so that the .txnindex entries a power loss may have cost come back. */
    int64_t replay_bound = INT64_MAX;
    for (int i = 0; i < log->log_nsegs; i++)
        if (log->log_segs[i]->seg_scan_markers) {
            replay_bound = log->log_segs[i]->seg_base;
            break;
        }
    if (!log->log_offline &&
        (rc = pstate_recover(log, snaps, nsnaps, clean, 1, replay_bound)) < 0 &&
        !log->log_offline) {
        snprintf(errstr, errstr_size, "%s: rebuilding the producer state failed: %s", dir,
                 eddy_strerror(rc));
        goto fail;
    }
    free(snaps);
    snaps = NULL;
    free(txns);
    txns = NULL;

    if (clean) {
        unlink(marker);
        log_fsync_dir(dir);
        for (int i = 0; i < log->log_nsegs; i++)
            log->log_segs[i]->seg_synced = log->log_segs[i]->seg_size;
        log->log_recovery_point = end;
    } else {
        log->log_recovery_point = recovery_point < end ? recovery_point : end;
    }
    log->log_cleaned_upto = log->log_start;
    /* Everything recovered is now made durable and checkpointed, so the next
     * crash scans only what is appended from here on. An offline log writes
     * nothing: its checkpoint keeps saying what is missing. */
    if (!log->log_offline && (rc = log_flush(log)) < 0) {
        snprintf(errstr, errstr_size, "%s: flush after recovery failed: %s", dir,
                 eddy_strerror(log->log_offline ? log->log_offline : rc));
        goto fail;
    }
    *out = log;
    return 0;
fail:
    free(bases);
    free(snaps);
    free(txns);
    log_free(log);
    return rc;
}

int log_close(log_t *log)
{
    int rc = log->log_offline ? log->log_offline : log_flush(log);
    for (int i = 0; i < log->log_nsegs && rc == 0; i++)
        if (log->log_segs[i]->seg_idx_dirty)
            rc = seg_index_write(log->log_segs[i]);
    /* The next start loads the producer state instead of replaying the
     * active segment. */
    /* Skipped for a log that never had producers (most of them), which a
     * clean start then knows from the missing snapshot. Without it the clean
     * marker must not be written either: the next start replays the log. */
    int src = 0;
    if (rc == 0 && (log->log_ps.ps_n || log->log_ps_snapshots) &&
        (src = pstate_snapshot_write(log, log_end_offset(log))) < 0)
        EDDY_LOG_WARN("log",
                      "%s: cannot write the producer state snapshot (%s); the next start "
                      "rebuilds it from the log",
                      log->log_name, eddy_strerror(src));
    if (rc == 0 && src == 0)
        /* Not fsynced: the data under it already is, and a lost marker only
         * costs a recovery scan. */
        rc = log_write_file_atomic(log->log_dir, CLEAN_MARKER, "", 0, 0);
    log_free(log);
    return rc;
}

void log_close_abrupt(log_t *log)
{
    log_free(log);
}

/* ---- append ---- */

static int should_roll(const log_t *log, const log_segment_t *seg, size_t len, int64_t span,
                       int64_t batch_max_ts, int64_t now_ms)
{
    if (seg->seg_size == 0)
        return 0;
    const log_config_t *cfg = &log->log_cfg;
    if (seg->seg_size + (int64_t)len > cfg->segment_bytes)
        return 1;
    /* segment.ms counts in record time once the segment has a batch, as
     * Kafka does, so replayed old data does not roll on every append. */
    int64_t waited = seg->seg_roll_ts >= 0 ? batch_max_ts - seg->seg_roll_ts
                                           : now_ms - seg->seg_created_ms;
    if (waited > cfg->segment_ms)
        return 1;
    if (seg_index_full(seg))
        return 1;
    /* Index entries hold offsets relative to the base in 32 bits. */
    return seg->seg_next_offset + span - seg->seg_base > INT32_MAX;
}

static int roll(log_t *log, int64_t now_ms)
{
    /* On a full disk every append retries the roll: one line per interval. */
    static eddy_log_limit_t index_limit = EDDY_LOG_LIMIT_INIT;
    log_segment_t *old = active_seg(log);
    int rc;
    if (old->seg_idx_dirty && (rc = seg_index_write(old)) < 0)
        EDDY_LOG_LIMITED(EDDY_LOG_LVL_WARN, "log", &index_limit, 10000,
                         "%s: cannot write the index of segment %020" PRId64
                         " (%s); it will be rebuilt at the next start",
                         log->log_name, old->seg_base, eddy_strerror(rc));
    log_segment_t *seg = seg_new(log, old->seg_next_offset);
    if (!seg)
        return -ENOMEM;
    seg->seg_created_ms = now_ms;
    int fd = seg_fd(seg); /* creates the file */
    if (fd < 0 || segs_push(log, seg) < 0) {
        seg_destroy(seg);
        return fd < 0 ? fd : -ENOMEM;
    }
    /* The producer state as of the new segment's base: a crash now replays
     * only this segment (producer_state.c). */
    static eddy_log_limit_t snap_limit = EDDY_LOG_LIMIT_INIT;
    if ((rc = pstate_snapshot_write(log, seg->seg_base)) < 0)
        EDDY_LOG_LIMITED(EDDY_LOG_LVL_WARN, "log", &snap_limit, 10000,
                         "%s: cannot write the producer state snapshot at offset %" PRId64
                         " (%s); a restart replays more of the log to rebuild it",
                         log->log_name, seg->seg_base, eddy_strerror(rc));
    return 0;
}

static int pwrite_all(int fd, const uint8_t *p, size_t len, int64_t pos)
{
    while (len) {
        ssize_t w = pwrite(fd, p, len, pos);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        len -= (size_t)w;
        pos += w;
    }
    return 0;
}

static int log_append_checked(log_t *log, uint8_t *buf, size_t len, int64_t span, int64_t max_ts,
                              int32_t nbatches, int32_t nrecords, int64_t now_ms,
                              log_append_info_t *info, char *errstr, size_t errstr_size);

int log_codec_level(const log_config_t *cfg, int codec)
{
    switch (codec) {
    case WIRE_CODEC_GZIP:
        return cfg->compression_gzip_level >= 1 ? cfg->compression_gzip_level
                                                : WIRE_CODEC_LEVEL_DEFAULT;
    case WIRE_CODEC_LZ4: return cfg->compression_lz4_level;
    case WIRE_CODEC_ZSTD: return cfg->compression_zstd_level;
    default: return WIRE_CODEC_LEVEL_DEFAULT;
    }
}

/* Appends to out the batch at p rewritten with codec: every record as it
 * was (offset delta, timestamp, key, value, headers), the header's producer
 * id, epoch, base sequence, leader epoch and flags kept, lastOffsetDelta
 * kept, as Kafka's LogValidator does when compression.type differs from the
 * producer's codec. */
int log_batch_recompress(const uint8_t *p, size_t size, int codec, int level, size_t max_inflated,
                         eddy_wr_t *out, char *errstr, size_t errstr_size)
{
    wire_batch_header_t h;
    wire_batch_header_read(p, size, &h);
    wire_record_iter_t it;
    int rc = wire_record_iter_open(&it, p, size, max_inflated, errstr, errstr_size);
    if (rc)
        return rc;
    wire_batch_header_t t = h;
    t.attributes = (int16_t)((h.attributes & ~BATCH_ATTR_CODEC_MASK) | codec);
    wire_batch_builder_t b;
    size_t start = out->wr_len;
    wire_batch_begin(&b, out, &t);
    b.bb_level = level;
    wire_record_t rec;
    while ((rc = wire_record_next(&it, &rec)) == 1)
        wire_batch_add_record(&b, &rec);
    if (rc == 0)
        rc = wire_batch_end(&b, 1);
    else
        snprintf(errstr, errstr_size, "batch record: %s", eddy_strerror(rc));
    wire_record_iter_close(&it);
    if (rc == 0 && (h.attributes & BATCH_ATTR_LOG_APPEND_TIME)) {
        /* Stamped batches carry the append time in maxTimestamp, which the
         * builder recomputed from the records. */
        be64_store(out->wr_buf + start + BATCH_OFF_MAX_TIMESTAMP, (uint64_t)h.maxTimestamp);
        wire_batch_crc_update(out->wr_buf + start, out->wr_len - start);
    } else if (rc && rc != EDDY_ERR_BATCH_RECORD) {
        snprintf(errstr, errstr_size, "recompressing a batch with %s failed: %s",
                 wire_codec_name(codec), eddy_strerror(rc));
    }
    return rc;
}

/* A coordinator's own batches (Kafka's AppendOrigin.COORDINATOR) carry no
 * sequence: only a fenced (older) producer epoch is refused. */
static int coordinator_epoch_check(const pstate_t *ps, const uint8_t *buf, size_t len, char *errstr,
                                   size_t errstr_size)
{
    for (size_t pos = 0; pos < len; pos += (size_t)wire_batch_size(buf + pos)) {
        wire_batch_header_t h;
        wire_batch_header_read(buf + pos, len - pos, &h);
        if (h.producerId < 0)
            continue;
        const pstate_entry_t *e = pstate_find(ps, h.producerId);
        if (e && h.producerEpoch < e->pe_epoch) {
            snprintf(errstr, errstr_size,
                     "producer %" PRId64 " epoch %d is older than the epoch %d the log has",
                     h.producerId, h.producerEpoch, e->pe_epoch);
            return EDDY_ERR_INVALID_PRODUCER_EPOCH;
        }
    }
    return 0;
}

int log_append(log_t *log, uint8_t *buf, size_t len, int vflags, int64_t now_ms,
               log_append_info_t *info, char *errstr, size_t errstr_size)
{
    if (log->log_offline)
        return EDDY_ERR_LOG_OFFLINE;
    if (len == 0) {
        snprintf(errstr, errstr_size, "no record batch to append");
        return EDDY_ERR_BATCH_LENGTH;
    }
    const log_config_t *cfg = &log->log_cfg;
    size_t max_inflated = log_inflate_limit(cfg);
    int target = cfg->compression_type;
    int stamp = cfg->message_timestamp_type == LOG_TIMESTAMP_LOG_APPEND_TIME;
    /* Validate everything before touching the file: all or nothing. */
    int convert = 0;
    for (size_t pos = 0; pos < len;) {
        wire_batch_header_t h;
        int64_t n = wire_batch_validate(buf + pos, len - pos, vflags, max_inflated, &h, errstr,
                                        errstr_size);
        if (n < 0)
            return (int)n;
        if (n > cfg->max_message_bytes) {
            snprintf(errstr, errstr_size,
                     "batch of %" PRId64 " bytes exceeds max.message.bytes %" PRId32, n,
                     cfg->max_message_bytes);
            return EDDY_ERR_TOO_LARGE;
        }
        /* Kafka's LogValidator: a transactional batch names its producer
         * (INVALID_RECORD otherwise, the answer to a control batch too). */
        if ((h.attributes & BATCH_ATTR_TRANSACTIONAL) && h.producerId < 0) {
            snprintf(errstr, errstr_size,
                     "a transactional batch needs a producer id (got %" PRId64 ")", h.producerId);
            return EDDY_ERR_CONTROL_BATCH;
        }
        /* Kafka's LogValidator: a compacted topic keeps a key's latest
         * value, so every record needs a key; known only when the records
         * were read (in the same pass as the rest of the validation, also
         * for compressed batches). */
        if ((vflags & WIRE_BATCH_CHECK_RECORDS) && (cfg->cleanup_policy & LOG_CLEANUP_COMPACT) &&
            !(h.attributes & BATCH_ATTR_CONTROL) && h.recordsWithoutKey > 0) {
            snprintf(errstr, errstr_size,
                     "%" PRId32 " of the batch's %" PRId32 " records have no key: a compacted "
                     "topic (cleanup.policy=compact) needs a key on every record",
                     h.recordsWithoutKey, h.recordCount);
            return EDDY_ERR_RECORD_WITHOUT_KEY;
        }
        /* message.timestamp.before/after.max.ms, checked on every record of
         * a CreateTime topic as Kafka does (a record without a timestamp,
         * -1, passes); known only when the records were read. */
        if (!stamp && (vflags & WIRE_BATCH_CHECK_RECORDS) && !(h.attributes & BATCH_ATTR_CONTROL) &&
            h.recordMinTimestamp != -1) {
            int64_t lo = cfg->message_timestamp_before_max_ms >= now_ms
                             ? INT64_MIN
                             : now_ms - cfg->message_timestamp_before_max_ms;
            int64_t hi = cfg->message_timestamp_after_max_ms >= INT64_MAX - now_ms
                             ? INT64_MAX
                             : now_ms + cfg->message_timestamp_after_max_ms;
            int64_t bad = h.recordMinTimestamp < lo   ? h.recordMinTimestamp
                          : h.recordMaxTimestamp > hi ? h.recordMaxTimestamp
                                                      : -1;
            if (bad != -1) {
                snprintf(errstr, errstr_size,
                         "timestamp %" PRId64 " of a record is out of range: CreateTime must be "
                         "within message.timestamp.before.max.ms (%" PRId64 ") before and "
                         "message.timestamp.after.max.ms (%" PRId64 ") after the broker's clock "
                         "(%" PRId64 ")",
                         bad, cfg->message_timestamp_before_max_ms,
                         cfg->message_timestamp_after_max_ms, now_ms);
                return EDDY_ERR_INVALID_TIMESTAMP;
            }
        }
        if (target != LOG_COMPRESSION_PRODUCER && !(h.attributes & BATCH_ATTR_CONTROL) &&
            (h.attributes & BATCH_ATTR_CODEC_MASK) != target)
            convert = 1;
        pos += (size_t)n;
    }
    /* Idempotent producers: a retry of a batch the log has is answered with
     * its first offsets and appends nothing; a batch out of sequence or of
     * an old epoch fails the whole append (producer_state.h). */
    pstate_dup_t dup;
    int prc = (vflags & LOG_APPEND_COORDINATOR)
                  ? coordinator_epoch_check(&log->log_ps, buf, len, errstr, errstr_size)
                  : pstate_check(&log->log_ps, buf, len, &dup, errstr, errstr_size);
    if (prc < 0)
        return prc;
    if (prc == 1) {
        if (info) {
            memset(info, 0, sizeof *info);
            info->ai_first_offset = dup.pd_first_offset;
            info->ai_last_offset = dup.pd_last_offset;
            info->ai_max_timestamp = dup.pd_timestamp;
            info->ai_duplicate = 1;
            info->ai_log_append_time = stamp ? dup.pd_timestamp : -1;
        }
        return 0;
    }

    /* compression.type other than producer: batches of another codec are
     * rewritten into a buffer of our own (the request's bytes cannot grow). */
    eddy_wr_t conv;
    wr_init(&conv);
    if (convert) {
        for (size_t pos = 0; pos < len;) {
            uint8_t *p = buf + pos;
            size_t n = (size_t)wire_batch_size(p);
            int16_t attrs = (int16_t)be16_load(p + BATCH_OFF_ATTRIBUTES);
            int rc = 0;
            if ((attrs & BATCH_ATTR_CONTROL) || (attrs & BATCH_ATTR_CODEC_MASK) == target)
                wr_bytes(&conv, p, n);
            else
                rc = log_batch_recompress(p, n, target, log_codec_level(cfg, target), max_inflated,
                                          &conv, errstr, errstr_size);
            if (rc == 0 && conv.wr_err)
                rc = conv.wr_err;
            if (rc) {
                wr_free(&conv);
                return rc;
            }
            pos += n;
        }
        buf = conv.wr_buf;
        len = conv.wr_len;
    }
    int64_t span = 0, max_ts = -1;
    int32_t nbatches = 0, nrecords = 0;
    for (size_t pos = 0; pos < len;) {
        uint8_t *p = buf + pos;
        int64_t n = wire_batch_size(p);
        if (convert && n > cfg->max_message_bytes) {
            snprintf(errstr, errstr_size,
                     "batch of %" PRId64 " bytes once recompressed with %s exceeds "
                     "max.message.bytes %" PRId32,
                     n, wire_codec_name(target), cfg->max_message_bytes);
            wr_free(&conv);
            return EDDY_ERR_TOO_LARGE;
        }
        int16_t attrs = (int16_t)be16_load(p + BATCH_OFF_ATTRIBUTES);
        if (stamp && !(attrs & BATCH_ATTR_CONTROL)) {
            /* LogAppendTime: the batch says so and carries the broker's
             * clock in maxTimestamp; its records keep what the producer
             * wrote (readers take maxTimestamp for each, as Kafka's do). */
            be16_store(p + BATCH_OFF_ATTRIBUTES, (uint16_t)(attrs | BATCH_ATTR_LOG_APPEND_TIME));
            be64_store(p + BATCH_OFF_MAX_TIMESTAMP, (uint64_t)now_ms);
            wire_batch_crc_update(p, (size_t)n);
        }
        span += (int64_t)(int32_t)be32_load(p + BATCH_OFF_LAST_OFFSET_DELTA) + 1;
        nrecords += (int32_t)be32_load(p + BATCH_OFF_RECORD_COUNT);
        nbatches++;
        int64_t ts = (int64_t)be64_load(p + BATCH_OFF_MAX_TIMESTAMP);
        if (ts > max_ts)
            max_ts = ts;
        pos += (size_t)n;
    }
    int rc = log_append_checked(log, buf, len, span, max_ts, nbatches, nrecords, now_ms, info,
                                errstr, errstr_size);
    if (info)
        info->ai_log_append_time = stamp ? now_ms : -1;
    wr_free(&conv);
    return rc;
}

/* The write half of log_append: buf holds validated batches. */
static int log_append_checked(log_t *log, uint8_t *buf, size_t len, int64_t span, int64_t max_ts,
                              int32_t nbatches, int32_t nrecords, int64_t now_ms,
                              log_append_info_t *info, char *errstr, size_t errstr_size)
{
    log_segment_t *seg = active_seg(log);
    if (should_roll(log, seg, len, span, max_ts, now_ms)) {
        int rc = roll(log, now_ms);
        if (rc < 0) {
            snprintf(errstr, errstr_size, "cannot roll a new segment: %s", eddy_strerror(rc));
            return rc;
        }
        seg = active_seg(log);
    }
    int fd = seg_fd(seg);
    if (fd < 0) {
        snprintf(errstr, errstr_size, "cannot open the active segment: %s", eddy_strerror(fd));
        return fd;
    }

    /* Assign offsets and extend the index; undone if the write fails. */
    log_segment_t saved = *seg;
    int64_t first = seg->seg_next_offset;
    for (size_t pos = 0; pos < len;) {
        uint8_t *p = buf + pos;
        int64_t n = wire_batch_size(p);
        be64_store(p + BATCH_OFF_BASE_OFFSET, (uint64_t)seg->seg_next_offset);
        int32_t last_delta = (int32_t)be32_load(p + BATCH_OFF_LAST_OFFSET_DELTA);
        seg_index_note(seg, seg->seg_next_offset, seg->seg_size, n,
                       (int64_t)be64_load(p + BATCH_OFF_MAX_TIMESTAMP));
        seg->seg_next_offset += (int64_t)last_delta + 1;
        pos += (size_t)n;
    }
    int rc = pwrite_all(fd, buf, len, saved.seg_size);
    if (rc < 0) {
        seg->seg_idx_n = saved.seg_idx_n;
        seg->seg_idx_bytes_since = saved.seg_idx_bytes_since;
        seg->seg_next_offset = saved.seg_next_offset;
        seg->seg_size = saved.seg_size;
        seg->seg_max_ts = saved.seg_max_ts;
        seg->seg_roll_ts = saved.seg_roll_ts;
        snprintf(errstr, errstr_size, "write to segment %020" PRId64 " failed: %s", seg->seg_base,
                 eddy_strerror(rc));
        /* A partial write must not stay behind our in-memory end. */
        if (ftruncate(fd, saved.seg_size) < 0)
            log_go_offline(log, -errno, "truncating after a failed write");
        return rc;
    }
    /* A batch missing from the state (no memory) only weakens the
     * duplicate check for its producer; the append itself stands. */
    static eddy_log_limit_t ps_limit = EDDY_LOG_LIMIT_INIT;
    if ((rc = pstate_apply_batches(&log->log_ps, buf, len)) < 0)
        EDDY_LOG_LIMITED(EDDY_LOG_LVL_WARN, "log", &ps_limit, 10000,
                         "%s: producer state not updated: %s", log->log_name, eddy_strerror(rc));
    log_append_info_t ignored;
    if (!info)
        info = &ignored;
    info->ai_first_offset = first;
    info->ai_last_offset = seg->seg_next_offset - 1;
    info->ai_max_timestamp = max_ts;
    info->ai_batches = nbatches;
    info->ai_records = nrecords;
    info->ai_flush_due = 0;
    info->ai_duplicate = 0;
    log->log_unflushed += span;
    if (log->log_unflushed >= log->log_cfg.flush_messages ||
        now_ms - log->log_last_flush_ms >= log->log_cfg.flush_ms) {
        log->log_last_flush_ms = now_ms;
        info->ai_flush_due = !log->log_inline_flush;
        rc = log->log_inline_flush ? log_flush(log) : 0;
        if (rc < 0) {
            snprintf(errstr, errstr_size, "flush failed: %s",
                     eddy_strerror(log->log_offline ? log->log_offline : rc));
            return rc;
        }
    }
    return 0;
}

int log_append_marker(log_t *log, int64_t producer_id, int16_t producer_epoch, int commit,
                      int32_t coordinator_epoch, int64_t now_ms, int64_t *offset_out)
{
    static eddy_log_limit_t fenced_limit = EDDY_LOG_LIMIT_INIT;
    if (log->log_offline)
        return EDDY_ERR_LOG_OFFLINE;
    if (producer_id < 0)
        return EDDY_ERR_INVALID_ARG;
    char errstr[256];
    int rc = pstate_marker_check(&log->log_ps, producer_id, producer_epoch, errstr, sizeof errstr);
    if (rc) {
        EDDY_LOG_LIMITED(EDDY_LOG_LVL_INFO, "log", &fenced_limit, 10000, "%s: %s", log->log_name,
                         errstr);
        return rc;
    }
    /* EndTransactionMarker: key version 0 + type, value version 0 +
     * coordinator epoch. */
    uint8_t key[4], value[6];
    be16_store(key, 0);
    be16_store(key + 2, commit ? 1 : 0);
    be16_store(value, 0);
    be32_store(value + 2, (uint32_t)coordinator_epoch);
    eddy_wr_t wr;
    wr_init(&wr);
    wire_batch_header_t h = wire_batch_header_default();
    h.attributes = BATCH_ATTR_TRANSACTIONAL | BATCH_ATTR_CONTROL;
    h.producerId = producer_id;
    h.producerEpoch = producer_epoch;
    h.baseSequence = -1;
    wire_batch_builder_t b;
    wire_batch_begin(&b, &wr, &h);
    wire_batch_add(&b, now_ms, key, sizeof key, value, sizeof value, NULL, 0);
    if ((rc = wire_batch_end(&b, 0)) == 0 && wr.wr_err)
        rc = wr.wr_err;
    if (rc) {
        wr_free(&wr);
        return rc;
    }
    log_append_info_t info;
    rc = log_append_checked(log, wr.wr_buf, wr.wr_len, 1, now_ms, 1, 1, now_ms, &info, errstr,
                            sizeof errstr);
    wr_free(&wr);
    if (rc < 0) {
        static eddy_log_limit_t fail_limit = EDDY_LOG_LIMIT_INIT;
        EDDY_LOG_LIMITED(EDDY_LOG_LVL_WARN, "log", &fail_limit, 10000,
                         "%s: appending a transaction marker failed: %s", log->log_name, errstr);
        return rc;
    }
    /* The segment that holds the marker holds its index entry. An entry
     * that cannot be written would show aborted records to read_committed
     * consumers: the log goes offline instead, as Kafka's would. */
    rc = pstate_marker_apply(log, active_seg(log), producer_id, producer_epoch, commit,
                             coordinator_epoch, info.ai_first_offset, now_ms, 1);
    if (rc == -ENOMEM)
        return rc;
    if (rc < 0)
        return log_go_offline(log, rc, "writing the transaction index");
    if (info.ai_flush_due)
        log->log_marker_flush_due = 1;
    if (offset_out)
        *offset_out = info.ai_first_offset;
    return 0;
}

int log_marker_flush_due(log_t *log)
{
    int due = log->log_marker_flush_due;
    log->log_marker_flush_due = 0;
    return due;
}

/* ---- read ---- */

/* Index entry with the largest position <= pos, or NULL. */
static const log_index_entry_t *index_floor_pos(const log_segment_t *seg, int64_t pos)
{
    size_t lo = 0, hi = seg->seg_idx_n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if ((int64_t)seg->seg_idx[mid].ie_pos <= pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? &seg->seg_idx[lo - 1] : NULL;
}

/* Finds the batch holding offset in seg: its position and size. Returns 0,
 * 1 if the segment has no batch at or after offset, or -errno. */
static int seg_locate(log_segment_t *seg, seg_cursor_t *cur, int64_t offset, int64_t *pos_out,
                      int64_t *size_out, int64_t *base_out)
{
    const log_index_entry_t *e = seg_index_floor_offset(seg, offset);
    int64_t pos = e ? e->ie_pos : 0;
    while (pos < seg->seg_size) {
        const uint8_t *p = seg_cursor_get(cur, pos, BATCH_OFF_LAST_OFFSET_DELTA + 4);
        if (!p)
            return -EIO;
        int64_t size = wire_batch_size(p);
        int64_t last = (int64_t)be64_load(p) + (int32_t)be32_load(p + BATCH_OFF_LAST_OFFSET_DELTA);
        if (last >= offset) {
            *pos_out = pos;
            *size_out = size;
            *base_out = (int64_t)be64_load(p);
            return 0;
        }
        pos += size;
    }
    return 1;
}

int log_read(log_t *log, int64_t offset, size_t max_bytes, log_slice_t *out)
{
    return log_read_upto(log, offset, max_bytes, INT64_MAX, out);
}

int log_read_upto(log_t *log, int64_t offset, size_t max_bytes, int64_t max_offset,
                  log_slice_t *out)
{
    memset(out, 0, sizeof *out);
    out->sl_fd = -1;
    if (log->log_offline)
        return EDDY_ERR_LOG_OFFLINE;
    int64_t end = log_end_offset(log);
    if (offset < log->log_start || offset > end)
        return EDDY_ERR_OFFSET_OUT_OF_RANGE;
    if (max_offset < end)
        end = max_offset;
    uint8_t buf[READ_BUF];
    for (int i = seg_find(log, offset); i < log->log_nsegs && offset < end; i++) {
        log_segment_t *seg = log->log_segs[i];
        if (offset >= seg->seg_next_offset)
            continue;
        seg_cursor_t cur;
        seg_cursor_init(&cur, seg, buf, sizeof buf);
        int64_t pos, size, first;
        int rc = seg_locate(seg, &cur, offset, &pos, &size, &first);
        if (rc < 0)
            return log_read_failed(log, seg, cur.cur_buf_pos, BATCH_OFF_LAST_OFFSET_DELTA + 4,
                                   cur.cur_err);
        if (rc == 1)
            continue;
        /* At least this batch; then whole batches while they fit. The index
         * names batch boundaries, so the scan starts at the last one that
         * fits and reads at most an index interval of headers. */
        /* Bytes of the segment before the batch holding max_offset (the
         * LSO of a read_committed fetch, at a batch boundary). */
        int64_t seg_end = seg->seg_size;
        if (max_offset < seg->seg_next_offset) {
            int64_t lpos, lsize, lbase;
            int lrc = seg_locate(seg, &cur, max_offset, &lpos, &lsize, &lbase);
            if (lrc < 0)
                return log_read_failed(log, seg, cur.cur_buf_pos, BATCH_OFF_LAST_OFFSET_DELTA + 4,
                                       cur.cur_err);
            if (lrc == 0)
                seg_end = lpos;
            if (seg_end <= pos)
                return 0;
        }
        int64_t stop = pos + size;
        int64_t limit = pos + (int64_t)(max_bytes > (size_t)INT64_MAX / 2 ? (size_t)INT64_MAX / 2
                                                                          : max_bytes);
        if (limit >= seg_end) {
            stop = seg_end;
        } else if (limit > stop) {
            const log_index_entry_t *e = index_floor_pos(seg, limit);
            if (e && e->ie_pos > stop)
                stop = e->ie_pos;
            while (stop < seg_end) {
                const uint8_t *p = seg_cursor_get(&cur, stop, BATCH_OFF_LENGTH + 4);
                if (!p || stop + wire_batch_size(p) > limit)
                    break;
                stop += wire_batch_size(p);
            }
        }
        /* Only a bounded read (read_committed) needs it, for its aborted
         * transactions: plain reads skip the header read it may cost. */
        out->sl_next_offset = max_offset == INT64_MAX ? -1 : seg->seg_next_offset;
        if (max_offset != INT64_MAX && stop < seg->seg_size) {
            const uint8_t *p = seg_cursor_get(&cur, stop, 8);
            if (!p)
                return log_read_failed(log, seg, stop, 8, cur.cur_err);
            out->sl_next_offset = (int64_t)be64_load(p);
        }
        if ((out->sl_fd = seg_fd(seg)) < 0)
            return log_read_failed(log, seg, pos, stop - pos, out->sl_fd);
        out->sl_pos = pos;
        out->sl_len = (size_t)(stop - pos);
        out->sl_first_offset = first;
        out->sl_seg = seg;
        seg_pin(seg);
        return 0;
    }
    return 0;
}

int log_slice_pread(log_t *log, const log_slice_t *sl, size_t off, uint8_t *dst, size_t n)
{
    int64_t pos = sl->sl_pos + (int64_t)off;
    while (n) {
        ssize_t r = pread(sl->sl_fd, dst, n, pos);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int err = r < 0 ? -errno : 0;
            log_read_failed(log, sl->sl_seg, pos, (int64_t)n, err);
            return err < 0 ? err : EDDY_ERR_TRUNCATED;
        }
        dst += r;
        n -= (size_t)r;
        pos += r;
    }
    return 0;
}

int log_slice_read(log_t *log, const log_slice_t *sl, uint8_t *dst)
{
    return log_slice_pread(log, sl, 0, dst, sl->sl_len) < 0 ? EDDY_ERR_LOG_OFFLINE : 0;
}

int log_slice_check(log_t *log, const log_slice_t *sl)
{
    struct stat st;
    if (fstat(sl->sl_fd, &st) < 0)
        return log_read_failed(log, sl->sl_seg, sl->sl_pos, (int64_t)sl->sl_len, -errno);
    if ((int64_t)st.st_size < sl->sl_pos + (int64_t)sl->sl_len)
        return log_read_failed(log, sl->sl_seg, sl->sl_pos, (int64_t)sl->sl_len, 0);
    return 0;
}

void log_slice_release(log_t *log, log_slice_t *sl)
{
    (void)log;
    if (sl->sl_seg)
        seg_unpin(sl->sl_seg);
    sl->sl_seg = NULL;
    sl->sl_fd = -1;
}

/* ---- lookup by timestamp ---- */

/* First offset in the batch at p whose timestamp >= ts, read inside
 * compressed batches too. A LogAppendTime batch gives every record its
 * maxTimestamp (the append time), as Kafka's readers do. Returns 0 (found),
 * 1 (no record that late) or the error of a batch that cannot be read. */
static int batch_offset_for_ts(const uint8_t *p, size_t len, int64_t ts, size_t max_inflated,
                               int64_t *offset, int64_t *timestamp)
{
    wire_record_iter_t it;
    wire_record_t rec;
    char why[160];
    int rc = wire_record_iter_open(&it, p, len, max_inflated, why, sizeof why);
    if (rc) {
        static eddy_log_limit_t lim = EDDY_LOG_LIMIT_INIT;
        EDDY_LOG_LIMITED(EDDY_LOG_LVL_WARN, "log", &lim, 10000,
                         "lookup by timestamp: batch at offset %" PRId64 " unreadable: %s",
                         (int64_t)be64_load(p), why);
        return rc;
    }
    int stamped = (it.ri_hdr.attributes & BATCH_ATTR_LOG_APPEND_TIME) != 0;
    while ((rc = wire_record_next(&it, &rec)) == 1) {
        int64_t rts = stamped ? it.ri_hdr.maxTimestamp : rec.timestamp;
        if (rts >= ts) {
            *offset = rec.offset;
            *timestamp = rts;
            break;
        }
    }
    wire_record_iter_close(&it);
    return rc < 0 ? rc : rc == 1 ? 0 : 1;
}

int log_offset_for_timestamp(log_t *log, int64_t ts, int64_t *offset, int64_t *timestamp)
{
    *offset = -1;
    *timestamp = -1;
    if (log->log_offline)
        return EDDY_ERR_LOG_OFFLINE;
    uint8_t buf[READ_BUF];
    for (int i = 0; i < log->log_nsegs; i++) {
        log_segment_t *seg = log->log_segs[i];
        if (seg->seg_max_ts < ts || seg->seg_next_offset <= log->log_start)
            continue;
        /* Last index entry before which every record is earlier than ts. */
        size_t lo = 0, hi = seg->seg_idx_n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (seg->seg_idx[mid].ie_max_ts_before < ts)
                lo = mid + 1;
            else
                hi = mid;
        }
        int64_t pos = lo ? seg->seg_idx[lo - 1].ie_pos : 0;
        seg_cursor_t cur;
        seg_cursor_init(&cur, seg, buf, sizeof buf);
        while (pos < seg->seg_size) {
            const uint8_t *p = seg_cursor_get(&cur, pos, BATCH_HEADER_SIZE);
            if (!p)
                return log_read_failed(log, seg, pos, BATCH_HEADER_SIZE, cur.cur_err);
            int64_t size = wire_batch_size(p);
            int64_t last = (int64_t)be64_load(p) +
                           (int32_t)be32_load(p + BATCH_OFF_LAST_OFFSET_DELTA);
            if ((int64_t)be64_load(p + BATCH_OFF_MAX_TIMESTAMP) >= ts && last >= log->log_start) {
                uint8_t *whole = malloc((size_t)size);
                if (!whole)
                    return -ENOMEM;
                int fd = seg_fd(seg);
                ssize_t r = fd < 0 ? fd : pread(fd, whole, (size_t)size, pos);
                int rc = r == size ? batch_offset_for_ts(whole, (size_t)size, ts,
                                                         log_inflate_limit(&log->log_cfg), offset,
                                                         timestamp)
                                   : log_read_failed(log, seg, pos, size,
                                                     fd < 0  ? fd
                                                     : r < 0 ? -errno
                                                             : 0);
                free(whole);
                if (rc < 0)
                    return rc;
                if (rc == 0) {
                    if (*offset < log->log_start)
                        *offset = log->log_start;
                    return 0;
                }
            }
            pos += size;
        }
    }
    return 0;
}

int log_offset_of_max_timestamp(log_t *log, int64_t *offset, int64_t *timestamp)
{
    *offset = -1;
    *timestamp = -1;
    if (log->log_offline)
        return EDDY_ERR_LOG_OFFLINE;
    /* The largest timestamp of the segments with records at or above the
     * log start (each segment keeps its own); the first record carrying it
     * is the first with a timestamp >= it. Should that record lie below the
     * log start (DeleteRecords or retention cut the first segment after
     * it), the answer is -1, or the log start when the log start cuts that
     * record's batch (as log_offset_for_timestamp answers): Kafka answers
     * with the deleted record's offset there, which no fetch can read. */
    int64_t max = -1;
    for (int i = 0; i < log->log_nsegs; i++) {
        log_segment_t *seg = log->log_segs[i];
        if (seg->seg_next_offset > log->log_start && seg->seg_max_ts > max)
            max = seg->seg_max_ts;
    }
    if (max < 0)
        return 0;
    return log_offset_for_timestamp(log, max, offset, timestamp);
}

/* ---- truncation, deletion, retention ---- */

static int write_checkpoint(log_t *log)
{
    int rc = checkpoint_write(log->log_dir, log->log_start, log->log_recovery_point);
    if (rc < 0)
        return log_go_offline(log, rc, "writing the checkpoint");
    return 0;
}

int log_truncate_to(log_t *log, int64_t offset)
{
    if (log->log_offline)
        return EDDY_ERR_LOG_OFFLINE;
    if (offset >= log_end_offset(log))
        return 0;
    if (offset < 0)
        return EDDY_ERR_INVALID_ARG;
    int rc;
    if (offset <= log->log_segs[0]->seg_base) {
        /* Nothing stays: start over with one empty segment at offset. */
        log_segment_t *seg = seg_new(log, offset);
        if (!seg)
            return -ENOMEM;
        segs_delete(log, 0, log->log_nsegs);
        if ((rc = segs_push(log, seg)) < 0 || (rc = seg_fd(seg)) < 0) {
            seg_destroy(seg);
            return log_go_offline(log, rc, "creating a segment after truncation");
        }
        log->log_start = offset;
        pstate_snapshots_delete_below(log, INT64_MAX);
        pstate_clear(&log->log_ps);
    } else {
        int i = seg_find(log, offset - 1);
        if (i + 1 < log->log_nsegs)
            segs_delete(log, i + 1, log->log_nsegs - i - 1);
        log_segment_t *seg = log->log_segs[i];
        uint8_t buf[READ_BUF];
        seg_cursor_t cur;
        seg_cursor_init(&cur, seg, buf, sizeof buf);
        int64_t pos, size, base;
        rc = seg_locate(seg, &cur, offset, &pos, &size, &base);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            if ((rc = truncate_file(seg, pos)) < 0)
                return log_go_offline(log, rc, "truncating a segment");
            char why[256];
            seg_scan(seg, pos, 0, why, sizeof why);
            if (seg->seg_synced > pos)
                seg->seg_synced = pos;
        }
        log->log_generation++;
        /* Aborts whose markers were cut go from the index (the replay below
         * adds back those of markers that remain after the snapshot). */
        size_t had = seg->seg_txn_n;
        seg_txn_drop_from(seg, seg->seg_next_offset);
        if (seg->seg_txn_n != had && (rc = seg_txn_write(seg)) < 0)
            return log_go_offline(log, rc, "rewriting a transaction index after truncation");
        /* The producer state forgets the batches cut: rebuilt from the
         * newest snapshot at or below the new end. */
        if ((rc = pstate_recover(log, NULL, 0, 0, 0, INT64_MAX)) < 0)
            return log->log_offline ? EDDY_ERR_LOG_OFFLINE : rc;
    }
    int64_t end = log_end_offset(log);
    if (log->log_start > end)
        log->log_start = end;
    if (log->log_recovery_point > end)
        log->log_recovery_point = end;
    if (log->log_cleaned_upto > end)
        log->log_cleaned_upto = end;
    return write_checkpoint(log);
}

int log_delete_records_before(log_t *log, int64_t offset)
{
    if (log->log_offline)
        return EDDY_ERR_LOG_OFFLINE;
    int64_t end = log_end_offset(log);
    if (offset > end || offset < 0)
        return EDDY_ERR_OFFSET_OUT_OF_RANGE;
    if (offset <= log->log_start)
        return 0;
    log->log_start = offset;
    /* The new start is durable before any file goes. */
    int rc = write_checkpoint(log);
    if (rc < 0)
        return rc;
    if (offset == end && active_seg(log)->seg_size > 0 && (rc = roll(log, eddy_wall_ms())) < 0)
        return rc;
    int n = 0;
    while (n < log->log_nsegs - 1 && log->log_segs[n]->seg_next_offset <= offset)
        n++;
    if (n) {
        segs_delete(log, 0, n);
        pstate_snapshots_delete_below(log, log->log_segs[0]->seg_base);
    }
    return 0;
}

int log_retention_run(log_t *log, int64_t now_ms, int *deleted)
{
    *deleted = 0;
    if (log->log_offline)
        return EDDY_ERR_LOG_OFFLINE;
    const log_config_t *cfg = &log->log_cfg;
    if (!(cfg->cleanup_policy & LOG_CLEANUP_DELETE))
        return 0;
    /* A non-empty active segment past retention.ms rolls first, so data
     * still expires on a topic that stopped receiving records. */
    log_segment_t *act = active_seg(log);
    if (cfg->retention_ms >= 0 && act->seg_size > 0 &&
        now_ms - act->seg_max_ts > cfg->retention_ms) {
        int rc = roll(log, now_ms);
        if (rc < 0)
            return rc;
    }
    int64_t total = log_size_bytes(log);
    int n = 0;
    while (n < log->log_nsegs - 1) {
        const log_segment_t *seg = log->log_segs[n];
        int by_time = cfg->retention_ms >= 0 && now_ms - seg->seg_max_ts > cfg->retention_ms;
        int by_size = cfg->retention_bytes >= 0 && total - seg->seg_size >= cfg->retention_bytes;
        if (!by_time && !by_size)
            break;
        total -= seg->seg_size;
        n++;
    }
    if (n == 0)
        return 0;
    int64_t new_start = log->log_segs[n]->seg_base;
    EDDY_LOG_INFO("log", "%s: retention deletes %d segment(s) below offset %" PRId64, log->log_name,
                  n, new_start);
    if (new_start > log->log_start) {
        log->log_start = new_start;
        int rc = write_checkpoint(log);
        if (rc < 0)
            return rc;
    }
    segs_delete(log, 0, n);
    pstate_snapshots_delete_below(log, log->log_segs[0]->seg_base);
    *deleted = n;
    return 0;
}

/* ---- flush ---- */

struct log_flush_req {
    char *fr_dir;
    int64_t fr_start;
    int64_t fr_upto; /* recovery point once synced */
    int fr_n;
    log_segment_t **fr_segs; /* pinned */
    int *fr_fds;
    int64_t *fr_sizes;
    int64_t *fr_txn_bases; /* segments whose .txnindex has unsynced entries */
    int fr_ntxn;
};

log_flush_req_t *log_flush_prepare(log_t *log)
{
    int64_t end = log_end_offset(log);
    int n = 0;
    for (int i = 0; i < log->log_nsegs; i++)
        if (log->log_segs[i]->seg_synced < log->log_segs[i]->seg_size)
            n++;
    if (n == 0 && log->log_recovery_point == end)
        return NULL;
    log_flush_req_t *req = calloc(1, sizeof *req);
    if (!req)
        return NULL;
    req->fr_dir = strdup(log->log_dir);
    req->fr_segs = calloc((size_t)n + 1, sizeof *req->fr_segs);
    req->fr_fds = calloc((size_t)n + 1, sizeof *req->fr_fds);
    req->fr_sizes = calloc((size_t)n + 1, sizeof *req->fr_sizes);
    req->fr_start = log->log_start;
    req->fr_upto = end;
    req->fr_txn_bases = calloc((size_t)log->log_nsegs, sizeof *req->fr_txn_bases);
    if (!req->fr_dir || !req->fr_segs || !req->fr_fds || !req->fr_sizes || !req->fr_txn_bases)
        goto fail;
    for (int i = 0; i < log->log_nsegs; i++)
        if (log->log_segs[i]->seg_txn_unsynced)
            req->fr_txn_bases[req->fr_ntxn++] = log->log_segs[i]->seg_base;
    for (int i = 0; i < log->log_nsegs; i++) {
        log_segment_t *seg = log->log_segs[i];
        if (seg->seg_synced >= seg->seg_size)
            continue;
        /* Pinning keeps the fd open while another thread syncs it. */
        seg_pin(seg);
        req->fr_segs[req->fr_n] = seg;
        req->fr_sizes[req->fr_n] = seg->seg_size;
        req->fr_fds[req->fr_n++] = seg_fd(seg);
    }
    return req;
fail:
    free(req->fr_dir);
    free(req->fr_segs);
    free(req->fr_fds);
    free(req->fr_sizes);
    free(req->fr_txn_bases);
    free(req);
    return NULL;
}

int log_flush_sync(log_flush_req_t *req)
{
    for (int i = 0; i < req->fr_n; i++) {
        if (req->fr_fds[i] < 0)
            return req->fr_fds[i];
        if (log_fsync_fn(req->fr_fds[i]) < 0)
            return -errno;
    }
    /* The aborted-transaction entries below the new recovery point must
     * survive as their markers do: recovery trusts those segments. */
    for (int i = 0; i < req->fr_ntxn; i++) {
        int rc = seg_txn_fsync(req->fr_dir, req->fr_txn_bases[i]);
        if (rc < 0)
            return rc;
    }
    return checkpoint_write(req->fr_dir, req->fr_start, req->fr_upto);
}

int log_flush_complete(log_t *log, log_flush_req_t *req, int rc)
{
    for (int i = 0; i < req->fr_n; i++) {
        if (rc == 0 && req->fr_segs[i]->seg_synced < req->fr_sizes[i])
            req->fr_segs[i]->seg_synced = req->fr_sizes[i];
        seg_unpin(req->fr_segs[i]);
    }
    if (rc == 0) {
        if (req->fr_upto > log->log_recovery_point)
            log->log_recovery_point = req->fr_upto;
        log->log_unflushed = 0;
        /* An entry appended while the sync ran may miss this fsync, but its
         * marker lies above the recovery point just checkpointed, which
         * recovery rescans and replays. */
        for (int k = 0; k < req->fr_ntxn; k++)
            for (int i = 0; i < log->log_nsegs; i++)
                if (log->log_segs[i]->seg_base == req->fr_txn_bases[k])
                    log->log_segs[i]->seg_txn_unsynced = 0;
    }
    free(req->fr_dir);
    free(req->fr_segs);
    free(req->fr_fds);
    free(req->fr_sizes);
    free(req->fr_txn_bases);
    free(req);
    if (is_fd_shortage(rc))
        return fd_shortage(log, rc, "opening a file to flush");
    return rc < 0 ? log_go_offline(log, rc, "fsync") : 0;
}

int log_flush_due(log_t *log, int64_t now_ms)
{
    if (log->log_unflushed == 0 || now_ms - log->log_last_flush_ms < log->log_cfg.flush_ms)
        return 0;
    log->log_last_flush_ms = now_ms;
    return 1;
}

int log_flush(log_t *log)
{
    if (log->log_offline)
        return EDDY_ERR_LOG_OFFLINE;
    log_flush_req_t *req = log_flush_prepare(log);
    if (!req)
        return 0;
    return log_flush_complete(log, req, log_flush_sync(req));
}

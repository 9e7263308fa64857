/* Producer state of a partition log: the idempotence checks of the append
 * path, and its snapshot files.
 *
 * <dir>/<20-digit offset>.snapshot (big-endian; written whole: temp file,
 * rename; not fsynced, see the recovery rule):
 *    0  magic        "EPS2" (version 2; "EPS1" files, written before
 *                    transactions, still load: no entry has one ongoing)
 *    4  crc          uint32  CRC-32C of bytes 8 .. end of file
 *    8  offset       int64   the state covers every batch below it (= the name)
 *   16  count        uint32  producers that follow, by producer id
 *   20  count x 160 bytes:
 *        0  producer_id    int64
 *        8  epoch          int16
 *       10  batches        int16   1..5 used slots, oldest first
 *       12  last_timestamp int64   maxTimestamp of the last batch (expiry)
 *       20  5 x 28 bytes, a slot per batch (unused ones zero):
 *            0 first_sequence int32, 4 last_sequence int32,
 *            8 offset_delta int32, 12 last_offset int64, 20 timestamp int64
 *      160  txn_first_offset  int64  first offset of the ongoing transaction,
 *                                    -1 when none                (EPS2 only)
 *      168  coordinator_epoch int32  of the last marker, -1 when none (EPS2)
 *   (an EPS1 entry is 160 bytes and has 1..5 batches; an EPS2 entry is 172
 *   and may have 0, when only a marker is known of its epoch)
 *
 * Written at each segment roll (offset = the new segment's base) and at a
 * clean close (offset = the log end; skipped when the log has no producers
 * and no snapshot, so a clean start without any snapshot file replays
 * nothing). Recovery rule (pstate_recover): a
 * snapshot above the log end describes batches the log no longer has (cut
 * by recovery or truncation) and is deleted; of the rest the newest that
 * checks (magic, size, CRC, offset equal to its name) is loaded, and the
 * batches from its offset to the end are replayed from their headers
 * (producer id, epoch, base sequence, lastOffsetDelta, maxTimestamp). A
 * snapshot that does not check is logged with its path, deleted, and the
 * next older one tried; with none, the whole log is replayed. A torn
 * snapshot after a power loss therefore costs a longer replay, never a
 * wrong state, which is why it is not fsynced. Snapshots below the first
 * segment go with the segments (pstate_snapshots_delete_below).
 */
#include "producer_state.h"

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
#include "common/crc32c.h"
#include "common/err.h"
#include "common/log.h"
#include "log_int.h"
#include "wire/recordbatch.h"

#define SNAP_MAGIC "EPS2"
#define SNAP_MAGIC_V1 "EPS1"
#define SNAP_HEADER 20
#define SNAP_SLOT 28
#define SNAP_ENTRY_V1 (20 + PSTATE_BATCHES * SNAP_SLOT)
#define SNAP_ENTRY (SNAP_ENTRY_V1 + 12)
#define SNAP_MAX_PRODUCERS (4u << 20) /* bounds the read of a garbled count */
#define SNAP_SUFFIX ".snapshot"

void pstate_init(pstate_t *ps)
{
    memset(ps, 0, sizeof *ps);
    ps->ps_first_unstable = -1;
}

void pstate_clear(pstate_t *ps)
{
    free(ps->ps_entries);
    pstate_init(ps);
}

/* Index of pid, or of where it would go (*found 0). */
static size_t find_slot(const pstate_t *ps, int64_t pid, int *found)
{
    size_t lo = 0, hi = ps->ps_n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ps->ps_entries[mid].pe_pid < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < ps->ps_n && ps->ps_entries[lo].pe_pid == pid;
    return lo;
}

const pstate_entry_t *pstate_find(const pstate_t *ps, int64_t pid)
{
    int found;
    size_t i = find_slot(ps, pid, &found);
    return found ? &ps->ps_entries[i] : NULL;
}

/* Sequences wrap from INT32_MAX to 0, as Kafka's do
 * (DefaultRecordBatch.incrementSequence). */
static int32_t seq_add(int32_t seq, int32_t inc)
{
    if (seq > INT32_MAX - inc)
        return inc - (INT32_MAX - seq) - 1;
    return seq + inc;
}

static int in_sequence(int32_t last, int32_t next)
{
    return (int64_t)next == (int64_t)last + 1 || (next == 0 && last == INT32_MAX);
}

typedef struct seen {
    int64_t sn_pid;
    int16_t sn_epoch;
    int32_t sn_last_seq;
    int sn_txn_open; /* a transaction of the producer is open in this partition */
} seen_t;

int pstate_check(const pstate_t *ps, const uint8_t *buf, size_t len, pstate_dup_t *dup,
                 char *errstr, size_t errstr_size)
{
    /* First, any retry of a batch the log has: Kafka answers the append
     * with that batch's offsets and appends nothing. */
    for (size_t pos = 0; pos < len; pos += (size_t)wire_batch_size(buf + pos)) {
        wire_batch_header_t h;
        wire_batch_header_read(buf + pos, len - pos, &h);
        if (h.producerId < 0)
            continue;
        const pstate_entry_t *e = pstate_find(ps, h.producerId);
        if (!e || e->pe_epoch != h.producerEpoch)
            continue;
        int32_t last = seq_add(h.baseSequence, h.lastOffsetDelta);
        for (int k = 0; k < e->pe_n; k++) {
            const pstate_batch_t *b = &e->pe_batches[k];
            if (b->pb_first_seq == h.baseSequence && b->pb_last_seq == last) {
                dup->pd_last_offset = b->pb_last_offset;
                dup->pd_first_offset = b->pb_last_offset - b->pb_offset_delta;
                dup->pd_timestamp = b->pb_timestamp;
                return 1;
            }
        }
    }
    /* Then each batch against the state as the ones before it leave it. A
     * produce holds one batch per partition from Kafka's clients, so the
     * list of producers seen in this append stays tiny. */
    seen_t one[4], *seen = one;
    size_t nseen = 0, cap = 4;
    int rc = 0;
    for (size_t pos = 0; pos < len && rc == 0; pos += (size_t)wire_batch_size(buf + pos)) {
        wire_batch_header_t h;
        wire_batch_header_read(buf + pos, len - pos, &h);
        if (h.producerId < 0)
            continue;
        seen_t *s = NULL;
        for (size_t k = nseen; k-- > 0;)
            if (seen[k].sn_pid == h.producerId) {
                s = &seen[k];
                break;
            }
        int known = 1, txn_open = 0;
        int16_t epoch = 0;
        int32_t last_seq = 0;
        if (s) {
            epoch = s->sn_epoch;
            last_seq = s->sn_last_seq;
            txn_open = s->sn_txn_open;
        } else {
            const pstate_entry_t *e = pstate_find(ps, h.producerId);
            if (e) {
                epoch = e->pe_epoch;
                txn_open = e->pe_txn_first >= 0;
                /* No batch yet in this epoch (a marker bumped it): the next
                 * one starts at 0. */
                last_seq = e->pe_n ? e->pe_batches[e->pe_n - 1].pb_last_seq : -1;
            } else {
                known = 0;
            }
        }
        if (h.baseSequence < 0) {
            snprintf(errstr, errstr_size,
                     "producer %" PRId64 " sent a batch with sequence %" PRId32
                     " (an idempotent batch needs one >= 0)",
                     h.producerId, h.baseSequence);
            rc = EDDY_ERR_OUT_OF_ORDER_SEQUENCE;
        } else if (known && h.producerEpoch < epoch) {
            snprintf(errstr, errstr_size,
                     "producer %" PRId64 " sent epoch %d, older than the epoch %d the log has",
                     h.producerId, h.producerEpoch, epoch);
            rc = EDDY_ERR_INVALID_PRODUCER_EPOCH;
        } else if (!known && h.baseSequence != 0) {
            snprintf(errstr, errstr_size,
                     "producer %" PRId64 " is unknown to this partition (never seen, or its state "
                     "expired after producer.id.expiration.ms) and its batch starts at sequence "
                     "%" PRId32 ", not 0",
                     h.producerId, h.baseSequence);
            rc = EDDY_ERR_UNKNOWN_PRODUCER_ID;
        } else if (known && h.producerEpoch != epoch && h.baseSequence != 0) {
            snprintf(errstr, errstr_size,
                     "producer %" PRId64 " started epoch %d at sequence %" PRId32
                     "; a new epoch starts at 0",
                     h.producerId, h.producerEpoch, h.baseSequence);
            rc = EDDY_ERR_OUT_OF_ORDER_SEQUENCE;
        } else if (known && h.producerEpoch == epoch && !in_sequence(last_seq, h.baseSequence)) {
            snprintf(errstr, errstr_size,
                     "producer %" PRId64 " epoch %d sent sequence %" PRId32 " after %" PRId32
                     " (expected %" PRId32 ")",
                     h.producerId, h.producerEpoch, h.baseSequence, last_seq, seq_add(last_seq, 1));
            rc = EDDY_ERR_OUT_OF_ORDER_SEQUENCE;
        } else if (txn_open && !(h.attributes & BATCH_ATTR_TRANSACTIONAL)) {
            /* Kafka's ProducerAppendInfo: a plain batch while the
             * producer's transaction is open would be neither committed
             * nor aborted by its marker. */
            snprintf(errstr, errstr_size,
                     "producer %" PRId64 " sent a non-transactional batch while its transaction "
                     "is open in this partition; commit or abort the transaction first",
                     h.producerId);
            rc = EDDY_ERR_INVALID_TXN_STATE;
        }
        if (rc)
            break;
        if (!s) {
            if (nseen == cap) {
                seen_t *ns = malloc(cap * 2 * sizeof *ns);
                if (!ns) {
                    rc = -ENOMEM;
                    break;
                }
                memcpy(ns, seen, nseen * sizeof *ns);
                if (seen != one)
                    free(seen);
                seen = ns;
                cap *= 2;
            }
            s = &seen[nseen++];
            s->sn_pid = h.producerId;
        }
        s->sn_epoch = h.producerEpoch;
        s->sn_last_seq = seq_add(h.baseSequence, h.lastOffsetDelta);
        s->sn_txn_open = txn_open || (h.attributes & BATCH_ATTR_TRANSACTIONAL);
    }
    if (seen != one)
        free(seen);
    return rc;
}

/* The producer's entry, added (no batches, no open transaction) when it is
 * new; a new epoch forgets the old one's batches, which can no longer be
 * retried. NULL: out of memory. */
static pstate_entry_t *entry_at_epoch(pstate_t *ps, int64_t pid, int16_t epoch)
{
    int found;
    size_t i = find_slot(ps, pid, &found);
    if (!found) {
        if (ps->ps_n == ps->ps_cap) {
            size_t cap = ps->ps_cap ? ps->ps_cap * 2 : 8;
            pstate_entry_t *ne = realloc(ps->ps_entries, cap * sizeof *ne);
            if (!ne)
                return NULL;
            ps->ps_entries = ne;
            ps->ps_cap = cap;
        }
        memmove(&ps->ps_entries[i + 1], &ps->ps_entries[i],
                (ps->ps_n - i) * sizeof *ps->ps_entries);
        ps->ps_n++;
        memset(&ps->ps_entries[i], 0, sizeof ps->ps_entries[i]);
        ps->ps_entries[i].pe_pid = pid;
        ps->ps_entries[i].pe_epoch = epoch;
        ps->ps_entries[i].pe_txn_first = -1;
        ps->ps_entries[i].pe_coord_epoch = -1;
        ps->ps_entries[i].pe_last_ts = -1;
    }
    pstate_entry_t *e = &ps->ps_entries[i];
    if (e->pe_epoch != epoch) {
        e->pe_epoch = epoch;
        e->pe_n = 0;
    }
    return e;
}

int pstate_apply(pstate_t *ps, int64_t pid, int16_t epoch, int32_t base_seq, int32_t last_delta,
                 int64_t last_offset, int64_t timestamp)
{
    pstate_entry_t *e = entry_at_epoch(ps, pid, epoch);
    if (!e)
        return -ENOMEM;
    if (e->pe_n == PSTATE_BATCHES) {
        memmove(&e->pe_batches[0], &e->pe_batches[1],
                (PSTATE_BATCHES - 1) * sizeof e->pe_batches[0]);
        e->pe_n--;
    }
    pstate_batch_t *b = &e->pe_batches[e->pe_n++];
    b->pb_first_seq = base_seq;
    b->pb_last_seq = seq_add(base_seq, last_delta);
    b->pb_offset_delta = last_delta;
    b->pb_last_offset = last_offset;
    b->pb_timestamp = timestamp;
    e->pe_last_ts = timestamp;
    return 0;
}

int pstate_apply_batches(pstate_t *ps, const uint8_t *buf, size_t len)
{
    int rc = 0;
    for (size_t pos = 0; pos < len; pos += (size_t)wire_batch_size(buf + pos)) {
        wire_batch_header_t h;
        wire_batch_header_read(buf + pos, len - pos, &h);
        if (h.producerId < 0 || (h.attributes & BATCH_ATTR_CONTROL))
            continue;
        int r = pstate_apply(ps, h.producerId, h.producerEpoch, h.baseSequence, h.lastOffsetDelta,
                             wire_batch_last_offset(&h), h.maxTimestamp);
        if (r && !rc)
            rc = r;
        if (r == 0 && (h.attributes & BATCH_ATTR_TRANSACTIONAL))
            pstate_txn_begin(ps, h.producerId, h.baseOffset);
    }
    return rc;
}

void pstate_txn_begin(pstate_t *ps, int64_t pid, int64_t first_offset)
{
    int found;
    size_t i = find_slot(ps, pid, &found);
    if (!found || ps->ps_entries[i].pe_txn_first >= 0)
        return;
    ps->ps_entries[i].pe_txn_first = first_offset;
    if (ps->ps_ongoing++ == 0 || first_offset < ps->ps_first_unstable)
        ps->ps_first_unstable = first_offset;
}

int pstate_marker_check(const pstate_t *ps, int64_t pid, int16_t epoch, char *errstr,
                        size_t errstr_size)
{
    const pstate_entry_t *e = pstate_find(ps, pid);
    if (e && epoch < e->pe_epoch) {
        snprintf(errstr, errstr_size,
                 "transaction marker for producer %" PRId64 " has epoch %d, older than the epoch "
                 "%d the log has (the producer was fenced)",
                 pid, epoch, e->pe_epoch);
        return EDDY_ERR_INVALID_PRODUCER_EPOCH;
    }
    return 0;
}

int pstate_marker(pstate_t *ps, int64_t pid, int16_t epoch, int32_t coord_epoch, int64_t timestamp,
                  int64_t *first)
{
    /* Kafka keeps an entry for a producer known only by a marker: its epoch
     * fences older ones. */
    pstate_entry_t *e = entry_at_epoch(ps, pid, epoch);
    if (!e)
        return -ENOMEM;
    e->pe_coord_epoch = coord_epoch;
    if (timestamp > e->pe_last_ts)
        e->pe_last_ts = timestamp;
    if (e->pe_txn_first < 0)
        return 0;
    *first = e->pe_txn_first;
    e->pe_txn_first = -1;
    ps->ps_ongoing--;
    if (*first == ps->ps_first_unstable) {
        /* The earliest one ended: the next earliest, by one walk. */
        int64_t min = -1;
        for (size_t k = 0; ps->ps_ongoing && k < ps->ps_n; k++) {
            int64_t f = ps->ps_entries[k].pe_txn_first;
            if (f >= 0 && (min < 0 || f < min))
                min = f;
        }
        ps->ps_first_unstable = min;
    }
    return 1;
}

int pstate_marker_apply(log_t *log, log_segment_t *seg, int64_t pid, int16_t epoch, int commit,
                        int32_t coord_epoch, int64_t offset, int64_t timestamp, int append)
{
    int64_t first;
    int had = pstate_marker(&log->log_ps, pid, epoch, coord_epoch, timestamp, &first);
    if (had <= 0 || commit)
        return had < 0 ? had : 0;
    /* Kafka's lastStableOffset(completedTxn): the first offset of the
     * earliest transaction still open, or just past this marker. */
    int64_t fu = pstate_first_unstable(&log->log_ps);
    log_aborted_txn_t at = {pid, first, offset, fu >= 0 ? fu : offset + 1};
    return seg_txn_add(seg, &at, append);
}

int64_t pstate_first_unstable(const pstate_t *ps)
{
    return ps->ps_ongoing ? ps->ps_first_unstable : -1;
}

int pstate_marker_type(const uint8_t *batch, size_t len, int32_t *coord_epoch)
{
    if (coord_epoch)
        *coord_epoch = -1;
    wire_batch_header_t h;
    if (wire_batch_header_read(batch, len, &h) != 0 || !(h.attributes & BATCH_ATTR_CONTROL) ||
        (h.attributes & BATCH_ATTR_CODEC_MASK) != 0)
        return -1;
    wire_record_iter_t it;
    wire_record_t rec;
    char why[160];
    if (wire_record_iter_open(&it, batch, len, 0, why, sizeof why) != 0)
        return -1;
    int type = -1;
    /* EndTransactionMarker key: version int16, type int16. */
    if (wire_record_next(&it, &rec) == 1 && rec.keyLength >= 4) {
        const uint8_t *k = rec.key;
        int16_t t = (int16_t)be16_load(k + 2);
        if (t == 0 || t == 1)
            type = t;
        /* Value: version int16, coordinator epoch int32. */
        if (coord_epoch && rec.valueLength >= 6)
            *coord_epoch = (int32_t)be32_load(rec.value + 2);
    }
    wire_record_iter_close(&it);
    return type;
}

int pstate_expire(pstate_t *ps, int64_t now_ms, int64_t expiration_ms)
{
    size_t kept = 0;
    for (size_t i = 0; i < ps->ps_n; i++) {
        /* Kafka counts from the batch's own maxTimestamp too. */
        if (now_ms - ps->ps_entries[i].pe_last_ts >= expiration_ms &&
            ps->ps_entries[i].pe_txn_first < 0)
            continue;
        ps->ps_entries[kept++] = ps->ps_entries[i];
    }
    int gone = (int)(ps->ps_n - kept);
    ps->ps_n = kept;
    return gone;
}

/* ---- snapshot files ---- */

static void snap_name(int64_t offset, char *out, size_t out_size)
{
    snprintf(out, out_size, "%020" PRId64 SNAP_SUFFIX, offset);
}

int pstate_snapshot_name_parse(const char *name, int64_t *offset)
{
    if (strlen(name) != 20 + strlen(SNAP_SUFFIX) || strcmp(name + 20, SNAP_SUFFIX) != 0)
        return 0;
    int64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9')
            return 0;
        v = v * 10 + (name[i] - '0');
    }
    *offset = v;
    return 1;
}

/* The snapshot offsets in the log directory, ascending; caller frees. */
static int list_snapshots(const log_t *log, int64_t **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    DIR *d = opendir(log->log_dir);
    if (!d)
        return -errno;
    int64_t *offs = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        int64_t off;
        if (!pstate_snapshot_name_parse(de->d_name, &off))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            int64_t *no = realloc(offs, cap * sizeof *no);
            if (!no) {
                rc = -ENOMEM;
                break;
            }
            offs = no;
        }
        offs[n++] = off;
    }
    closedir(d);
    if (rc) {
        free(offs);
        return rc;
    }
    if (n > 1)
        qsort(offs, n, sizeof *offs, cmp_i64);
    *out = offs;
    *nout = n;
    return 0;
}

static void snap_unlink(const log_t *log, int64_t offset)
{
    char name[64], path[4200];
    snap_name(offset, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", log->log_dir, name);
    unlink(path);
}

static int is_segment_base(const log_t *log, int64_t offset)
{
    for (int i = 0; i < log->log_nsegs; i++)
        if (log->log_segs[i]->seg_base == offset)
            return 1;
    return 0;
}

int pstate_snapshot_write(log_t *log, int64_t offset)
{
    const pstate_t *ps = &log->log_ps;
    size_t len = SNAP_HEADER + ps->ps_n * SNAP_ENTRY;
    uint8_t *b = calloc(1, len);
    if (!b)
        return -ENOMEM;
    memcpy(b, SNAP_MAGIC, 4);
    be64_store(b + 8, (uint64_t)offset);
    be32_store(b + 16, (uint32_t)ps->ps_n);
    for (size_t i = 0; i < ps->ps_n; i++) {
        const pstate_entry_t *e = &ps->ps_entries[i];
        uint8_t *p = b + SNAP_HEADER + i * SNAP_ENTRY;
        be64_store(p, (uint64_t)e->pe_pid);
        be16_store(p + 8, (uint16_t)e->pe_epoch);
        be16_store(p + 10, (uint16_t)e->pe_n);
        be64_store(p + 12, (uint64_t)e->pe_last_ts);
        for (int k = 0; k < e->pe_n; k++) {
            const pstate_batch_t *pb = &e->pe_batches[k];
            uint8_t *q = p + 20 + k * SNAP_SLOT;
            be32_store(q, (uint32_t)pb->pb_first_seq);
            be32_store(q + 4, (uint32_t)pb->pb_last_seq);
            be32_store(q + 8, (uint32_t)pb->pb_offset_delta);
            be64_store(q + 12, (uint64_t)pb->pb_last_offset);
            be64_store(q + 20, (uint64_t)pb->pb_timestamp);
        }
        be64_store(p + SNAP_ENTRY_V1, (uint64_t)e->pe_txn_first);
        be32_store(p + SNAP_ENTRY_V1 + 8, (uint32_t)e->pe_coord_epoch);
    }
    be32_store(b + 4, crc32c(0, b + 8, len - 8));
    char name[64];
    snap_name(offset, name, sizeof name);
    int rc = log_write_file_atomic(log->log_dir, name, b, len, 0);
    free(b);
    if (rc < 0)
        return rc;
    log->log_ps_snapshots = 1;
    /* Older snapshots inside a segment (clean closes) add nothing once a
     * newer one exists; those at segment bases stay until their segment
     * goes, as Kafka keeps them. */
    int64_t *offs;
    size_t n;
    if (list_snapshots(log, &offs, &n) == 0) {
        for (size_t i = 0; i < n; i++)
            if (offs[i] < offset && !is_segment_base(log, offs[i]))
                snap_unlink(log, offs[i]);
        free(offs);
    }
    return 0;
}

void pstate_snapshots_delete_below(log_t *log, int64_t offset)
{
    int64_t *offs;
    size_t n;
    if (list_snapshots(log, &offs, &n) < 0)
        return;
    for (size_t i = 0; i < n; i++)
        if (offs[i] < offset)
            snap_unlink(log, offs[i]);
    free(offs);
}

/* Loads the snapshot at path into ps (emptied first). Returns 0, or -1 with
 * why it does not check in why. */
static int snapshot_load(pstate_t *ps, const char *path, int64_t offset, char *why, size_t why_size)
{
    pstate_clear(ps);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, why_size, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    uint8_t *b = NULL;
    int rc = -1;
    if (fstat(fd, &st) < 0 || st.st_size < SNAP_HEADER ||
        (uint64_t)st.st_size > SNAP_HEADER + (uint64_t)SNAP_MAX_PRODUCERS * SNAP_ENTRY) {
        snprintf(why, why_size, "size %lld is not that of a snapshot", (long long)st.st_size);
        goto out;
    }
    size_t len = (size_t)st.st_size;
    if (!(b = malloc(len))) {
        snprintf(why, why_size, "out of memory");
        goto out;
    }
    if (pread(fd, b, len, 0) != (ssize_t)len) {
        snprintf(why, why_size, "short read");
        goto out;
    }
    uint32_t count = be32_load(b + 16);
    int v1 = memcmp(b, SNAP_MAGIC_V1, 4) == 0;
    size_t entry = v1 ? SNAP_ENTRY_V1 : SNAP_ENTRY;
    if (!v1 && memcmp(b, SNAP_MAGIC, 4) != 0) {
        snprintf(why, why_size, "bad magic");
        goto out;
    }
    if (be32_load(b + 4) != crc32c(0, b + 8, len - 8)) {
        snprintf(why, why_size, "CRC mismatch");
        goto out;
    }
    if ((int64_t)be64_load(b + 8) != offset || count > SNAP_MAX_PRODUCERS ||
        len != SNAP_HEADER + (size_t)count * entry) {
        snprintf(why, why_size, "header does not match the file name or size");
        goto out;
    }
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *p = b + SNAP_HEADER + (size_t)i * entry;
        int64_t pid = (int64_t)be64_load(p);
        int16_t epoch = (int16_t)be16_load(p + 8);
        int nb = (int16_t)be16_load(p + 10);
        int64_t txn_first = v1 ? -1 : (int64_t)be64_load(p + SNAP_ENTRY_V1);
        int32_t coord_epoch = v1 ? -1 : (int32_t)be32_load(p + SNAP_ENTRY_V1 + 8);
        if (nb < (v1 ? 1 : 0) || nb > PSTATE_BATCHES || pid < 0 || txn_first < -1 ||
            (i > 0 && pid <= (int64_t)be64_load(p - entry))) {
            snprintf(why, why_size, "producer entry %u is malformed", i);
            goto out;
        }
        for (int k = 0; k < nb; k++) {
            const uint8_t *q = p + 20 + k * SNAP_SLOT;
            if (pstate_apply(ps, pid, epoch, (int32_t)be32_load(q), (int32_t)be32_load(q + 8),
                             (int64_t)be64_load(q + 12), (int64_t)be64_load(q + 20)) < 0) {
                snprintf(why, why_size, "out of memory");
                goto out;
            }
        }
        int64_t ignored;
        if (nb == 0 && pstate_marker(ps, pid, epoch, coord_epoch, -1, &ignored) < 0) {
            snprintf(why, why_size, "out of memory");
            goto out;
        }
        int found;
        size_t slot = find_slot(ps, pid, &found);
        ps->ps_entries[slot].pe_last_ts = (int64_t)be64_load(p + 12);
        ps->ps_entries[slot].pe_coord_epoch = coord_epoch;
        if (txn_first >= 0)
            pstate_txn_begin(ps, pid, txn_first);
    }
    rc = 0;
out:
    free(b);
    close(fd);
    if (rc)
        pstate_clear(ps);
    return rc;
}

/* Replays the batch headers of the log from offset `from` to its end. */
static int replay(log_t *log, int64_t from, int64_t *nbatches, int *txn_added)
{
    uint8_t buf[8192];
    *nbatches = 0;
    for (int i = 0; i < log->log_nsegs; i++) {
        log_segment_t *seg = log->log_segs[i];
        if (seg->seg_next_offset <= from || seg->seg_size == 0)
            continue;
        const log_index_entry_t *ie = from > seg->seg_base ? seg_index_floor_offset(seg, from)
                                                           : NULL;
        int64_t pos = ie ? ie->ie_pos : 0;
        seg_cursor_t cur;
        seg_cursor_init(&cur, seg, buf, sizeof buf);
        while (pos < seg->seg_size) {
            const uint8_t *p = seg_cursor_get(&cur, pos, BATCH_HEADER_SIZE);
            if (!p)
                return log_read_failed(log, seg, pos, BATCH_HEADER_SIZE, cur.cur_err);
            wire_batch_header_t h;
            wire_batch_header_read(p, BATCH_HEADER_SIZE, &h);
            int64_t size = wire_batch_size(p);
            if (wire_batch_last_offset(&h) >= from && h.producerId >= 0 &&
                !(h.attributes & BATCH_ATTR_CONTROL)) {
                int rc = pstate_apply(&log->log_ps, h.producerId, h.producerEpoch, h.baseSequence,
                                      h.lastOffsetDelta, wire_batch_last_offset(&h),
                                      h.maxTimestamp);
                if (rc < 0)
                    return rc;
                if (h.attributes & BATCH_ATTR_TRANSACTIONAL)
                    pstate_txn_begin(&log->log_ps, h.producerId, h.baseOffset);
                (*nbatches)++;
            } else if (h.baseOffset >= from && h.producerId >= 0 &&
                       (h.attributes & BATCH_ATTR_CONTROL) && size <= (int64_t)sizeof buf) {
                /* A transaction marker: small, read whole for its type. */
                const uint8_t *whole = seg_cursor_get(&cur, pos, (size_t)size);
                if (!whole)
                    return log_read_failed(log, seg, pos, size, cur.cur_err);
                int32_t coord_epoch;
                int type = pstate_marker_type(whole, (size_t)size, &coord_epoch);
                if (type >= 0) {
                    int rc = pstate_marker_apply(log, seg, h.producerId, h.producerEpoch, type,
                                                 coord_epoch, h.baseOffset, h.maxTimestamp, 0);
                    if (rc == 1)
                        (*txn_added)++;
                    else if (rc < 0)
                        return rc;
                    (*nbatches)++;
                }
            }
            pos += size;
        }
    }
    return 0;
}

int pstate_recover(log_t *log, const int64_t *snaps, size_t nsnaps, int clean, int below_start,
                   int64_t replay_from_max)
{
    pstate_t *ps = &log->log_ps;
    pstate_clear(ps);
    int64_t end = log_end_offset(log);
    int64_t first = log->log_segs[0]->seg_base;
    int64_t *listed = NULL;
    if (!snaps) {
        int rc = list_snapshots(log, &listed, &nsnaps);
        if (rc < 0)
            return rc;
        snaps = listed;
    }
    int64_t from = 0;
    char path[4200] = "";
    int loaded = 0;
    size_t present = 0;
    for (size_t i = nsnaps; i-- > 0;) {
        char name[64], why[160];
        snap_name(snaps[i], name, sizeof name);
        snprintf(path, sizeof path, "%s/%s", log->log_dir, name);
        if (snaps[i] > end || (below_start && snaps[i] < first)) {
            /* Above the end: state of batches the log no longer holds.
             * Below the first segment: its segments are gone. */
            unlink(path);
            continue;
        }
        if (loaded || snaps[i] > replay_from_max) {
            /* Older, at a segment base: kept until its segment goes. Or
             * past a rescanned segment with markers: kept, not used. */
            present++;
            continue;
        }
        present++;
        if (snapshot_load(ps, path, snaps[i], why, sizeof why) == 0) {
            from = snaps[i];
            loaded = 1;
            continue;
        }
        present--;
        EDDY_LOG_WARN("log",
                      "%s: producer state snapshot %s is unusable (%s); ignored and deleted, the "
                      "state is rebuilt from the log",
                      log->log_name, path, why);
        unlink(path);
    }
    free(listed);
    log->log_ps_snapshots = present > 0;
    /* A clean close writes a snapshot whenever there is state; only a log
     * with no snapshot file at all (not even a corrupt one) had none. */
    if (clean && nsnaps == 0)
        return 0;
    if (loaded) {
        char name[64];
        snap_name(from, name, sizeof name);
        snprintf(path, sizeof path, "%s/%s", log->log_dir, name);
    }
    int64_t nbatches = 0;
    int txn_added = 0;
    int rc = replay(log, from, &nbatches, &txn_added);
    if (rc < 0)
        return rc;
    /* Markers the .txnindex files missed (segments rescanned after a
     * crash): the files are rewritten from what the replay rebuilt. */
    for (int i = 0; txn_added && i < log->log_nsegs; i++) {
        log_segment_t *seg = log->log_segs[i];
        if (seg->seg_next_offset > from && (rc = seg_txn_write(seg)) < 0)
            return rc;
    }
    if (txn_added)
        EDDY_LOG_INFO("log", "%s: rebuilt %d aborted-transaction index entr%s from the log",
                      log->log_name, txn_added, txn_added == 1 ? "y" : "ies");
    if (ps->ps_n || nbatches)
        EDDY_LOG_INFO("log",
                      "%s: producer state: %s%s, replayed %" PRId64
                      " producer batch(es) from offset %" PRId64 "; %zu producer(s)",
                      log->log_name, loaded ? "loaded snapshot " : "no snapshot",
                      loaded ? path : "", nbatches, from, ps->ps_n);
    return 0;
}

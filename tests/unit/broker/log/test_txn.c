/* Transactions in the log: transactional batches, markers, the last stable
 * offset, the aborted-transaction index (.txnindex), recovery, snapshots,
 * retention and compaction. Over the wire with a real broker:
 * tests/integration/broker_transactions.py. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/producer_state.h"
#include "check_helpers.h"
#include "common/crc32c.h"
#include "common/err.h"
#include "logtest.h"
#include "wire/recordbatch.h"

#define TS 1700000000000LL

/* One batch of n records of producer pid/epoch from sequence seq, values
 * "<tag>-<i>"; transactional when txn. Returns log_append's code. */
static int append_txn(log_t *log, int64_t pid, int16_t epoch, int32_t seq, int n, int txn,
                      const char *tag, int64_t *first)
{
    eddy_wr_t wr;
    wr_init(&wr);
    wire_batch_header_t h = wire_batch_header_default();
    h.producerId = pid;
    h.producerEpoch = epoch;
    h.baseSequence = seq;
    if (txn)
        h.attributes = BATCH_ATTR_TRANSACTIONAL;
    wire_batch_builder_t b;
    wire_batch_begin(&b, &wr, &h);
    for (int i = 0; i < n; i++) {
        char k[32], v[64];
        snprintf(k, sizeof k, "k%d", i);
        snprintf(v, sizeof v, "%s-%d", tag, i);
        wire_batch_add(&b, TS + i, k, (int32_t)strlen(k), v, (int32_t)strlen(v), NULL, 0);
    }
    ck_assert_int_eq(wire_batch_end(&b, 0), 0);
    char err[256];
    log_append_info_t info;
    int rc = log_append(log, wr.wr_buf, wr.wr_len,
                        WIRE_BATCH_FROM_CLIENT | WIRE_BATCH_CHECK_RECORDS, TS, &info, err,
                        sizeof err);
    wr_free(&wr);
    if (rc == 0 && first)
        *first = info.ai_first_offset;
    return rc;
}

static int64_t marker(log_t *log, int64_t pid, int16_t epoch, int commit)
{
    int64_t off = -1;
    ck_assert_int_eq(log_append_marker(log, pid, epoch, commit, 3, TS, &off), 0);
    return off;
}

/* The .txnindex file of the segment at base, as raw entries. */
static int read_txnindex(const char *dir, int64_t base, log_aborted_txn_t *out, int max)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%020lld.txnindex", dir, (long long)base);
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    uint8_t e[34];
    int n = 0;
    while (n < max && fread(e, 1, sizeof e, f) == sizeof e) {
        ck_assert_int_eq(be16_load(e), 0);
        out[n].at_pid = (int64_t)be64_load(e + 2);
        out[n].at_first = (int64_t)be64_load(e + 10);
        out[n].at_last = (int64_t)be64_load(e + 18);
        out[n].at_lso = (int64_t)be64_load(e + 26);
        n++;
    }
    fclose(f);
    return n;
}

/* Two producers interleaved: the LSO follows the earliest open one; a
 * commit and an abort end them; the abort lands in the index. */
START_TEST(lso_interleaved)
{
    char *dir = lt_tmpdir();
    log_fdcache_t *fdc = log_fdcache_new(16);
    log_config_t cfg = lt_config();
    log_t *log = lt_open(dir, &cfg, fdc);
    int64_t f;
    ck_assert_int_eq(append_txn(log, -1, -1, -1, 2, 0, "plain", NULL), 0); /* 0..1 */
    ck_assert_int_eq(log_last_stable_offset(log), 2);
    ck_assert_int_eq(append_txn(log, 10, 0, 0, 2, 1, "a", &f), 0); /* 2..3 */
    ck_assert_int_eq(f, 2);
    ck_assert_int_eq(append_txn(log, 20, 0, 0, 3, 1, "b", NULL), 0); /* 4..6 */
    ck_assert_int_eq(append_txn(log, 10, 0, 2, 1, 1, "a", NULL), 0); /* 7 */
    ck_assert_int_eq(log_last_stable_offset(log), 2);
    ck_assert_int_eq(log_ongoing_txn_count(log), 2);
    /* Commit of 10 at 8: the LSO moves to 20's first batch. */
    ck_assert_int_eq(marker(log, 10, 0, 1), 8);
    ck_assert_int_eq(log_last_stable_offset(log), 4);
    ck_assert_int_eq(append_txn(log, 20, 0, 3, 1, 1, "b", NULL), 0); /* 9 */
    /* Abort of 20 at 10: nothing open, LSO = end. */
    ck_assert_int_eq(marker(log, 20, 0, 0), 10);
    ck_assert_int_eq(log_last_stable_offset(log), 11);
    ck_assert_int_eq(log_end_offset(log), 11);
    ck_assert_int_eq(log_ongoing_txn_count(log), 0);
    log_aborted_txn_t e[4];
    ck_assert_int_eq(read_txnindex(dir, 0, e, 4), 1);
    ck_assert_int_eq(e[0].at_pid, 20);
    ck_assert_int_eq(e[0].at_first, 4);
    ck_assert_int_eq(e[0].at_last, 10);
    ck_assert_int_eq(e[0].at_lso, 11);
    /* A fetch's aborted list: overlapping [from, upper) only. */
    log_aborted_txn_t *at;
    size_t n;
    ck_assert_int_eq(log_aborted_txns(log, 0, 11, &at, &n), 0);
    ck_assert_int_eq(n, 1);
    free(at);
    ck_assert_int_eq(log_aborted_txns(log, 0, 4, &at, &n), 0);
    ck_assert_int_eq(n, 0);
    free(at);
    ck_assert_int_eq(log_aborted_txns(log, 11, 20, &at, &n), 0);
    ck_assert_int_eq(n, 0);
    free(at);
    /* A read below the LSO: while 30's transaction is open from 11, a
     * read_committed read from 11 gets nothing, a plain one the batch. */
    ck_assert_int_eq(append_txn(log, 30, 0, 0, 1, 1, "c", NULL), 0); /* 11 */
    ck_assert_int_eq(log_last_stable_offset(log), 11);
    log_slice_t sl;
    ck_assert_int_eq(log_read_upto(log, 11, 1 << 20, log_last_stable_offset(log), &sl), 0);
    ck_assert_int_eq(sl.sl_len, 0);
    log_slice_release(log, &sl);
    ck_assert_int_eq(log_read_upto(log, 0, 1 << 20, log_last_stable_offset(log), &sl), 0);
    ck_assert_int_gt(sl.sl_len, 0);
    size_t below = sl.sl_len;
    log_slice_release(log, &sl);
    ck_assert_int_eq(log_read(log, 0, 1 << 20, &sl), 0);
    ck_assert_int_gt(sl.sl_len, below);
    log_slice_release(log, &sl);
    log_close(log);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

/* Markers: a marker without a transaction is still appended; a newer epoch
 * is accepted, an older one refused; control batches from clients and
 * transactional batches without a producer id are refused. */
START_TEST(marker_rules)
{
    char *dir = lt_tmpdir();
    log_fdcache_t *fdc = log_fdcache_new(16);
    log_config_t cfg = lt_config();
    log_t *log = lt_open(dir, &cfg, fdc);
    ck_assert_int_eq(marker(log, 5, 0, 1), 0);
    ck_assert_int_eq(log_end_offset(log), 1);
    ck_assert_int_eq(log_last_stable_offset(log), 1);
    ck_assert_int_eq(append_txn(log, 5, 0, 0, 1, 1, "x", NULL), 0); /* 1 */
    /* Fencing: the coordinator aborts with a bumped epoch. */
    ck_assert_int_eq(marker(log, 5, 1, 0), 2);
    ck_assert_int_eq(log_last_stable_offset(log), 3);
    int64_t off;
    ck_assert_int_eq(log_append_marker(log, 5, 0, 1, 3, TS, &off), EDDY_ERR_INVALID_PRODUCER_EPOCH);
    ck_assert_int_eq(append_txn(log, 5, 0, 1, 1, 1, "old", NULL), EDDY_ERR_INVALID_PRODUCER_EPOCH);
    /* The new epoch starts at sequence 0. */
    ck_assert_int_eq(append_txn(log, 5, 1, 1, 1, 1, "y", NULL), EDDY_ERR_OUT_OF_ORDER_SEQUENCE);
    ck_assert_int_eq(append_txn(log, 5, 1, 0, 1, 1, "y", NULL), 0);
    ck_assert_int_eq(append_txn(log, -1, -1, -1, 1, 1, "nopid", NULL), EDDY_ERR_CONTROL_BATCH);
    /* Open transactions keep their producer from expiring. */
    ck_assert_int_eq(log_producers_expire(log, TS + 10000000000LL, 1000), 0);
    ck_assert_int_eq(log_producer_count(log), 1);
    log_close(log);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

/* One batch of producer pid/epoch/seq, transactional or not, added to wr. */
static void add_batch(eddy_wr_t *wr, int64_t pid, int16_t epoch, int32_t seq, int txn)
{
    wire_batch_header_t h = wire_batch_header_default();
    h.producerId = pid;
    h.producerEpoch = epoch;
    h.baseSequence = seq;
    h.attributes = txn ? BATCH_ATTR_TRANSACTIONAL : 0;
    wire_batch_builder_t b;
    wire_batch_begin(&b, wr, &h);
    wire_batch_add(&b, TS, "k", 1, "v", 1, NULL, 0);
    ck_assert_int_eq(wire_batch_end(&b, 0), 0);
}

/* A plain batch from a producer whose transaction is open in the log is
 * INVALID_TXN_STATE with nothing appended (Kafka's ProducerAppendInfo),
 * also when the transactional batch is earlier in the same append; after
 * the marker it is accepted. */
START_TEST(plain_batch_in_open_txn)
{
    char *dir = lt_tmpdir();
    log_fdcache_t *fdc = log_fdcache_new(16);
    log_config_t cfg = lt_config();
    log_t *log = lt_open(dir, &cfg, fdc);
    ck_assert_int_eq(append_txn(log, 9, 0, 0, 2, 1, "t", NULL), 0);
    ck_assert(log_txn_open(log, 9, 0));
    ck_assert(!log_txn_open(log, 9, 1));
    ck_assert_int_eq(append_txn(log, 9, 0, 2, 1, 0, "plain", NULL), EDDY_ERR_INVALID_TXN_STATE);
    ck_assert_int_eq(log_end_offset(log), 2);
    /* Another producer: its transactional batch, then its plain one, in one append. */
    eddy_wr_t wr;
    wr_init(&wr);
    add_batch(&wr, 10, 0, 0, 1);
    add_batch(&wr, 10, 0, 1, 0);
    char err[256];
    log_append_info_t info;
    ck_assert_int_eq(log_append(log, wr.wr_buf, wr.wr_len, WIRE_BATCH_FROM_CLIENT, TS, &info, err,
                                sizeof err),
                     EDDY_ERR_INVALID_TXN_STATE);
    wr_free(&wr);
    ck_assert_int_eq(log_end_offset(log), 2);
    ck_assert(!log_txn_open(log, 10, 0));
    /* The commit ends the transaction: plain batches are fine again. */
    ck_assert_int_eq(marker(log, 9, 0, 1), 2);
    ck_assert(!log_txn_open(log, 9, 0));
    ck_assert_int_eq(append_txn(log, 9, 0, 2, 1, 0, "plain", NULL), 0);
    ck_assert_int_eq(log_end_offset(log), 4);
    log_close(log);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

/* kill -9 with one transaction open and one aborted: recovery rebuilds the
 * ongoing transaction and the .txnindex (deleted here, as a crash before it
 * reached the disk would leave it). A clean close round-trips the state
 * through the snapshot. */
START_TEST(recovery_rebuilds)
{
    char *dir = lt_tmpdir();
    log_fdcache_t *fdc = log_fdcache_new(16);
    log_config_t cfg = lt_config();
    cfg.segment_bytes = 300; /* several segments, snapshots at their bases */
    log_t *log = lt_open(dir, &cfg, fdc);
    ck_assert_int_eq(append_txn(log, 1, 0, 0, 2, 1, "a", NULL), 0); /* 0..1 */
    ck_assert_int_eq(append_txn(log, 2, 0, 0, 2, 1, "b", NULL), 0); /* 2..3 */
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(append_txn(log, -1, -1, -1, 2, 0, "p", NULL), 0);
    int64_t ab = marker(log, 1, 0, 0);
    int64_t end = log_end_offset(log);
    ck_assert_int_gt(log_segment_count(log), 2);
    log_close_abrupt(log);
    /* The crash lost the index entry and the snapshots. */
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "rm -f %s/*.txnindex %s/*.snapshot", dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    log = lt_open(dir, &cfg, fdc);
    ck_assert_int_eq(log_end_offset(log), end);
    ck_assert_int_eq(log_last_stable_offset(log), 2);
    ck_assert_int_eq(log_ongoing_txn_count(log), 1);
    log_aborted_txn_t *at;
    size_t n;
    ck_assert_int_eq(log_aborted_txns(log, 0, end, &at, &n), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(at[0].at_pid, 1);
    ck_assert_int_eq(at[0].at_first, 0);
    ck_assert_int_eq(at[0].at_last, ab);
    ck_assert_int_eq(at[0].at_lso, 2);
    free(at);
    /* And back on disk, in the marker's segment. */
    log_aborted_txn_t e[4];
    int64_t mbase = log->log_segs[log->log_nsegs - 1]->seg_base;
    ck_assert_int_eq(read_txnindex(dir, mbase, e, 4), 1);
    ck_assert_int_eq(e[0].at_last, ab);
    /* Clean close and open: the snapshot carries the open transaction. */
    ck_assert_int_eq(log_close(log), 0);
    log = lt_open(dir, &cfg, fdc);
    ck_assert_int_eq(log_last_stable_offset(log), 2);
    ck_assert_int_eq(marker(log, 2, 0, 1), end);
    ck_assert_int_eq(log_last_stable_offset(log), end + 1);
    log_close(log);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

/* A crash that lost a .txnindex (a power cut before its flush) while newer
 * snapshots survived: recovery replays the rescanned segments holding
 * markers, not just from the newest snapshot, and the entry comes back. */
START_TEST(recovery_past_snapshots)
{
    char *dir = lt_tmpdir();
    log_fdcache_t *fdc = log_fdcache_new(16);
    log_config_t cfg = lt_config();
    cfg.segment_bytes = 300;
    log_t *log = lt_open(dir, &cfg, fdc);
    ck_assert_int_eq(append_txn(log, 4, 0, 0, 2, 1, "a", NULL), 0);
    int64_t ab = marker(log, 4, 0, 0);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(append_txn(log, -1, -1, -1, 2, 0, "p", NULL), 0);
    ck_assert_int_ge(log_segment_count(log), 3);
    ck_assert_int_gt(lt_count_files(dir, ".snapshot"), 1);
    log_close_abrupt(log);
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "rm -f %s/*.txnindex", dir);
    ck_assert_int_eq(system(cmd), 0);
    log = lt_open(dir, &cfg, fdc);
    log_aborted_txn_t *at;
    size_t n;
    ck_assert_int_eq(log_aborted_txns(log, 0, log_end_offset(log), &at, &n), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(at[0].at_last, ab);
    free(at);
    log_close(log);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

/* The snapshot of a producer known only by a marker of a newer epoch, and
 * an old-format (EPS1) snapshot, load. */
START_TEST(snapshot_round_trip)
{
    char *dir = lt_tmpdir();
    log_fdcache_t *fdc = log_fdcache_new(16);
    log_config_t cfg = lt_config();
    log_t *log = lt_open(dir, &cfg, fdc);
    ck_assert_int_eq(append_txn(log, 7, 0, 0, 1, 1, "a", NULL), 0);
    marker(log, 7, 2, 0); /* fenced: epoch 2, no batch of it yet */
    ck_assert_int_eq(append_txn(log, 8, 0, 0, 1, 1, "b", NULL), 0); /* 2, open */
    ck_assert_int_eq(log_close(log), 0);
    log = lt_open(dir, &cfg, fdc);
    const pstate_entry_t *e7 = pstate_find(&log->log_ps, 7);
    ck_assert_ptr_nonnull(e7);
    ck_assert_int_eq(e7->pe_epoch, 2);
    ck_assert_int_eq(e7->pe_coord_epoch, 3);
    ck_assert_int_eq(e7->pe_txn_first, -1);
    ck_assert_int_eq(pstate_find(&log->log_ps, 8)->pe_txn_first, 2);
    ck_assert_int_eq(log_last_stable_offset(log), 2);
    ck_assert_int_eq(append_txn(log, 7, 1, 0, 1, 1, "old", NULL), EDDY_ERR_INVALID_PRODUCER_EPOCH);
    ck_assert_int_eq(append_txn(log, 7, 2, 0, 1, 1, "c", NULL), 0);
    ck_assert_int_eq(log_close(log), 0);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

/* A snapshot of the format before transactions (EPS1, 160 bytes per
 * producer) still loads: no producer has a transaction open. */
START_TEST(snapshot_v1_loads)
{
    char *dir = lt_tmpdir();
    log_fdcache_t *fdc = log_fdcache_new(16);
    log_config_t cfg = lt_config();
    log_t *log = lt_open(dir, &cfg, fdc);
    ck_assert_int_eq(append_txn(log, 11, 3, 0, 2, 0, "x", NULL), 0);
    ck_assert_int_eq(append_txn(log, 11, 3, 2, 1, 0, "y", NULL), 0);
    ck_assert_int_eq(log_close(log), 0);
    char path[4200];
    snprintf(path, sizeof path, "%s/%020d.snapshot", dir, 3);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    uint8_t v2[20 + 172], v1[20 + 160];
    ck_assert_int_eq(fread(v2, 1, sizeof v2, f), sizeof v2);
    ck_assert_int_eq(fgetc(f), EOF);
    fclose(f);
    ck_assert(memcmp(v2, "EPS2", 4) == 0);
    memcpy(v1, v2, sizeof v1);
    memcpy(v1, "EPS1", 4);
    be32_store(v1 + 4, crc32c(0, v1 + 8, sizeof v1 - 8));
    f = fopen(path, "wb");
    ck_assert_int_eq(fwrite(v1, 1, sizeof v1, f), sizeof v1);
    fclose(f);
    lt_capture_start();
    log = lt_open(dir, &cfg, fdc);
    ck_assert_msg(strstr(lt_captured(), "loaded snapshot") && !strstr(lt_captured(), "unusable"),
                  "%s", lt_captured());
    lt_capture_stop();
    const pstate_entry_t *e = pstate_find(&log->log_ps, 11);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->pe_epoch, 3);
    ck_assert_int_eq(e->pe_n, 2);
    ck_assert_int_eq(e->pe_txn_first, -1);
    ck_assert_int_eq(log_last_stable_offset(log), 3);
    ck_assert_int_eq(append_txn(log, 11, 3, 3, 1, 1, "z", NULL), 0);
    ck_assert_int_eq(log_last_stable_offset(log), 3);
    log_close(log);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

/* Retention takes each segment's .txnindex along; DeleteRecords past an
 * open transaction's first offset puts the LSO at the log start. */
START_TEST(retention_txnindex)
{
    char *dir = lt_tmpdir();
    log_fdcache_t *fdc = log_fdcache_new(16);
    log_config_t cfg = lt_config();
    cfg.segment_bytes = 300;
    log_t *log = lt_open(dir, &cfg, fdc);
    ck_assert_int_eq(append_txn(log, 1, 0, 0, 2, 1, "a", NULL), 0);
    marker(log, 1, 0, 0);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(append_txn(log, -1, -1, -1, 2, 0, "p", NULL), 0);
    ck_assert_int_eq(lt_count_files(dir, ".txnindex"), 1);
    cfg.retention_bytes = 1;
    log_set_config(log, &cfg);
    int deleted;
    ck_assert_int_eq(log_retention_run(log, TS, &deleted), 0);
    ck_assert_int_gt(deleted, 0);
    ck_assert_int_eq(lt_count_files(dir, ".txnindex"), 0);
    log_aborted_txn_t *at;
    size_t n;
    ck_assert_int_eq(log_aborted_txns(log, 0, log_end_offset(log), &at, &n), 0);
    ck_assert_int_eq(n, 0);
    free(at);
    ck_assert_int_eq(append_txn(log, 2, 0, 0, 2, 1, "b", NULL), 0);
    int64_t first = log_end_offset(log) - 2;
    ck_assert_int_eq(append_txn(log, -1, -1, -1, 2, 0, "p", NULL), 0);
    ck_assert_int_eq(log_last_stable_offset(log), first);
    ck_assert_int_eq(log_delete_records_before(log, first + 1), 0);
    ck_assert_int_eq(log_last_stable_offset(log), first + 1);
    /* Truncation below a marker drops its index entry. */
    marker(log, 2, 0, 0);
    ck_assert_int_eq(log_aborted_txns(log, 0, log_end_offset(log), &at, &n), 0);
    ck_assert_int_eq(n, 1);
    free(at);
    ck_assert_int_eq(log_truncate_to(log, log_end_offset(log) - 1), 0);
    ck_assert_int_eq(log_aborted_txns(log, 0, log_end_offset(log) + 1, &at, &n), 0);
    ck_assert_int_eq(n, 0);
    free(at);
    ck_assert_int_eq(log_ongoing_txn_count(log), 1);
    log_close(log);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

/* Walks every batch of the log: markers counted by type, data values
 * joined with spaces into vals. */
static void walk(log_t *log, int *commits, int *aborts, char *vals, size_t vals_size)
{
    *commits = *aborts = 0;
    vals[0] = 0;
    int64_t off = log_start_offset(log);
    while (off < log_end_offset(log)) {
        log_slice_t sl;
        ck_assert_int_eq(log_read(log, off, 1 << 20, &sl), 0);
        if (sl.sl_len == 0) {
            log_slice_release(log, &sl);
            break;
        }
        uint8_t *b = malloc(sl.sl_len);
        ck_assert_int_eq(log_slice_read(log, &sl, b), 0);
        for (size_t pos = 0; pos < sl.sl_len; pos += (size_t)wire_batch_size(b + pos)) {
            wire_batch_header_t h;
            wire_batch_header_read(b + pos, sl.sl_len - pos, &h);
            size_t size = (size_t)wire_batch_size(b + pos);
            if (h.attributes & BATCH_ATTR_CONTROL) {
                int t = pstate_marker_type(b + pos, size, NULL);
                *commits += t == 1;
                *aborts += t == 0;
            } else {
                wire_record_iter_t it;
                wire_record_t rec;
                char why[128];
                ck_assert_int_eq(
                    wire_record_iter_open(&it, b + pos, size, 1 << 20, why, sizeof why), 0);
                while (wire_record_next(&it, &rec) == 1) {
                    size_t l = strlen(vals);
                    snprintf(vals + l, vals_size - l, "%.*s ", (int)rec.valueLength,
                             (const char *)rec.value);
                }
                wire_record_iter_close(&it);
            }
            off = wire_batch_last_offset(&h) + 1;
        }
        free(b);
        log_slice_release(log, &sl);
    }
}

/* Compaction drops the records of aborted transactions at once, keeps a
 * marker while its transaction has batches before it or delete.retention.ms
 * has not passed, and never cleans past an open transaction. */
START_TEST(compaction)
{
    char *dir = lt_tmpdir();
    log_fdcache_t *fdc = log_fdcache_new(16);
    log_config_t cfg = lt_config();
    cfg.cleanup_policy = LOG_CLEANUP_COMPACT;
    cfg.segment_bytes = 250;
    cfg.delete_retention_ms = 1000;
    log_t *log = lt_open(dir, &cfg, fdc);
    /* The aborted values of k0 and k1 come after the committed ones: they
     * must not count as the keys' latest. */
    ck_assert_int_eq(append_txn(log, 2, 0, 0, 2, 1, "co", NULL), 0); /* k0 k1, committed */
    ck_assert_int_eq(append_txn(log, 1, 0, 0, 2, 1, "ab", NULL), 0); /* k0 k1, aborted */
    marker(log, 1, 0, 0);
    marker(log, 2, 0, 1);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(append_txn(log, -1, -1, -1, 1, 0,
                                    i == 0   ? "p0"
                                    : i == 1 ? "p1"
                                             : "p2",
                                    NULL),
                         0); /* k0 each: plain values win later */
    ck_assert_int_gt(log_segment_count(log), 2);
    int commits, aborts;
    char vals[512];
    walk(log, &commits, &aborts, vals, sizeof vals);
    ck_assert_msg(strstr(vals, "ab-0") != NULL, "%s", vals);
    /* Pass 1, before the horizon: aborted data goes, both markers stay
     * (the abort marker's batches were met in this pass). */
    ck_assert_int_ge(log_compact(log, TS + 10, 1), 0);
    walk(log, &commits, &aborts, vals, sizeof vals);
    ck_assert_msg(strstr(vals, "ab-") == NULL, "%s", vals);
    ck_assert_msg(strstr(vals, "co-1") != NULL, "%s", vals);
    ck_assert_int_eq(commits, 1);
    ck_assert_int_eq(aborts, 1);
    log_aborted_txn_t *at;
    size_t n;
    ck_assert_int_eq(log_aborted_txns(log, 0, log_end_offset(log), &at, &n), 0);
    ck_assert_int_eq(n, 1);
    free(at);
    /* Pass 2, past delete.retention.ms: the abort marker has no batch left
     * and goes with its index entry; the commit marker's transaction still
     * has co-1, so it stays. */
    ck_assert_int_ge(log_compact(log, TS + 100000, 1), 0);
    walk(log, &commits, &aborts, vals, sizeof vals);
    ck_assert_int_eq(commits, 1);
    ck_assert_int_eq(aborts, 0);
    ck_assert_int_eq(log_aborted_txns(log, 0, log_end_offset(log), &at, &n), 0);
    ck_assert_int_eq(n, 0);
    free(at);
    ck_assert_int_eq(lt_count_files(dir, ".txnindex"), 0);
    /* An open transaction in an inactive segment: nothing from its
     * segment on is cleaned. */
    int64_t first;
    ck_assert_int_eq(append_txn(log, 3, 0, 0, 1, 1, "open", &first), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(append_txn(log, -1, -1, -1, 1, 0, "q", NULL), 0);
    ck_assert_int_eq(log_last_stable_offset(log), first);
    ck_assert_int_ge(log_compact(log, TS + 200000, 1), 0);
    walk(log, &commits, &aborts, vals, sizeof vals);
    ck_assert_msg(strstr(vals, "q-0 q-0 q-0") != NULL, "%s", vals);
    ck_assert_msg(strstr(vals, "open-0") != NULL, "%s", vals);
    log_close(log);
    log_fdcache_destroy(fdc);
    lt_rmdir(dir);
    free(dir);
}
END_TEST

TCase *tcase_txn(void)
{
    TCase *tc = tcase_create("txn");
    tcase_add_test(tc, lso_interleaved);
    tcase_add_test(tc, marker_rules);
    tcase_add_test(tc, plain_batch_in_open_txn);
    tcase_add_test(tc, recovery_rebuilds);
    tcase_add_test(tc, recovery_past_snapshots);
    tcase_add_test(tc, snapshot_round_trip);
    tcase_add_test(tc, snapshot_v1_loads);
    tcase_add_test(tc, retention_txnindex);
    tcase_add_test(tc, compaction);
    return tc;
}

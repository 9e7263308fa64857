/* The transactional requests and the aborted-transaction filter (see
 * txn_wire.h). */
#include "client/txn_wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "wire/proto_flex.h"

/* ---- encoders ---- */

/* Consecutive entries with the same topic, from i: their count. */
static int topic_run(const kc_txn_tp_t *tps, int n, int i)
{
    int j = i + 1;
    while (j < n && strcmp(tps[j].tt_topic, tps[i].tt_topic) == 0)
        j++;
    return j - i;
}

static int topic_count(const kc_txn_tp_t *tps, int n)
{
    int c = 0;
    for (int i = 0; i < n; i += topic_run(tps, n, i))
        c++;
    return c;
}

void kc_txn_add_partitions_encode(eddy_wr_t *wr, int16_t v, const char *txn_id, int64_t pid,
                                  int16_t epoch, const kc_txn_tp_t *tps, int n)
{
    int flex = kafka_is_flexible(API_ADD_PARTITIONS_TO_TXN, v);
    wrf_string(wr, flex, kstr_c(txn_id));
    wr_i64(wr, pid);
    wr_i16(wr, epoch);
    wrf_count(wr, flex, topic_count(tps, n));
    for (int i = 0; i < n;) {
        int run = topic_run(tps, n, i);
        wrf_string(wr, flex, kstr_c(tps[i].tt_topic));
        wrf_count(wr, flex, run);
        for (int j = i; j < i + run; j++)
            wr_i32(wr, tps[j].tt_partition);
        wrf_tags(wr, flex);
        i += run;
    }
    wrf_tags(wr, flex);
}

void kc_txn_add_offsets_encode(eddy_wr_t *wr, int16_t v, const char *txn_id, int64_t pid,
                               int16_t epoch, const char *group_id)
{
    int flex = kafka_is_flexible(API_ADD_OFFSETS_TO_TXN, v);
    wrf_string(wr, flex, kstr_c(txn_id));
    wr_i64(wr, pid);
    wr_i16(wr, epoch);
    wrf_string(wr, flex, kstr_c(group_id));
    wrf_tags(wr, flex);
}

void kc_txn_end_encode(eddy_wr_t *wr, int16_t v, const char *txn_id, int64_t pid, int16_t epoch,
                       int commit)
{
    int flex = kafka_is_flexible(API_END_TXN, v);
    wrf_string(wr, flex, kstr_c(txn_id));
    wr_i64(wr, pid);
    wr_i16(wr, epoch);
    wr_i8(wr, commit ? 1 : 0);
    wrf_tags(wr, flex);
}

void kc_txn_offset_commit_encode(eddy_wr_t *wr, int16_t v, const char *txn_id, const char *group_id,
                                 int64_t pid, int16_t epoch, int32_t generation,
                                 const char *member_id, const char *instance_id,
                                 const kc_txn_tp_t *tps, int n)
{
    int flex = kafka_is_flexible(API_TXN_OFFSET_COMMIT, v);
    wrf_string(wr, flex, kstr_c(txn_id));
    wrf_string(wr, flex, kstr_c(group_id));
    wr_i64(wr, pid);
    wr_i16(wr, epoch);
    if (v >= 3) {
        wr_i32(wr, generation);
        wrf_string(wr, flex, kstr_c(member_id ? member_id : ""));
        wrf_string(wr, flex, kstr_c(instance_id)); /* nullable */
    }
    wrf_count(wr, flex, topic_count(tps, n));
    for (int i = 0; i < n;) {
        int run = topic_run(tps, n, i);
        wrf_string(wr, flex, kstr_c(tps[i].tt_topic));
        wrf_count(wr, flex, run);
        for (int j = i; j < i + run; j++) {
            wr_i32(wr, tps[j].tt_partition);
            wr_i64(wr, tps[j].tt_offset);
            if (v >= 2)
                wr_i32(wr, tps[j].tt_leader_epoch);
            wrf_string(wr, flex, kstr_c(tps[j].tt_metadata)); /* nullable */
            wrf_tags(wr, flex);
        }
        wrf_tags(wr, flex);
        i += run;
    }
    wrf_tags(wr, flex);
}

/* ---- decoders ---- */

static void set_error(kc_txn_tp_t *tps, int n, kstr_t topic, int32_t partition, int16_t err)
{
    for (int i = 0; i < n; i++)
        if (tps[i].tt_partition == partition && kstr_eq(topic, tps[i].tt_topic))
            tps[i].tt_error = err;
}

/* Both answers: ThrottleTimeMs, [Name, [PartitionIndex, ErrorCode]]. */
static int partition_errors_decode(eddy_rd_t *rd, int flex, kc_txn_tp_t *tps, int n)
{
    (void)rd_i32(rd); /* ThrottleTimeMs */
    int32_t nt = rdf_array_count_nn(rd, flex, 2);
    for (int32_t t = 0; t < nt && !rd->rd_err; t++) {
        kstr_t name = rdf_string_nn(rd, flex);
        int32_t np = rdf_array_count_nn(rd, flex, 6);
        for (int32_t j = 0; j < np && !rd->rd_err; j++) {
            int32_t part = rd_i32(rd);
            int16_t err = rd_i16(rd);
            rdf_tags(rd, flex);
            if (!rd->rd_err)
                set_error(tps, n, name, part, err);
        }
        rdf_tags(rd, flex);
    }
    rdf_tags(rd, flex);
    return rd->rd_err;
}

int kc_txn_add_partitions_decode(eddy_rd_t *rd, int16_t v, kc_txn_tp_t *tps, int n)
{
    return partition_errors_decode(rd, kafka_is_flexible(API_ADD_PARTITIONS_TO_TXN, v), tps, n);
}

int kc_txn_offset_commit_decode(eddy_rd_t *rd, int16_t v, kc_txn_tp_t *tps, int n)
{
    return partition_errors_decode(rd, kafka_is_flexible(API_TXN_OFFSET_COMMIT, v), tps, n);
}

int kc_txn_error_decode(eddy_rd_t *rd, int16_t v, int api_key, int16_t *error)
{
    (void)v;
    (void)api_key;
    (void)rd_i32(rd); /* ThrottleTimeMs */
    *error = rd_i16(rd);
    return rd->rd_err;
}

/* ---- the aborted-transaction filter ---- */

static int txn_cmp(const void *a, const void *b)
{
    const FetchResponseAbortedTransaction *x = a, *y = b;
    return x->FirstOffset < y->FirstOffset ? -1 : x->FirstOffset > y->FirstOffset;
}

int kc_abort_filter_init(kc_abort_filter_t *f, const FetchResponseAbortedTransaction *txns,
                         int32_t n)
{
    memset(f, 0, sizeof *f);
    if (n <= 0 || !txns)
        return 0;
    f->af_txns = malloc((size_t)n * sizeof *f->af_txns);
    f->af_pids = malloc((size_t)n * sizeof *f->af_pids);
    if (!f->af_txns || !f->af_pids) {
        kc_abort_filter_free(f);
        return -ENOMEM;
    }
    memcpy(f->af_txns, txns, (size_t)n * sizeof *txns);
    qsort(f->af_txns, (size_t)n, sizeof *f->af_txns, txn_cmp);
    f->af_n = n;
    return 0;
}

void kc_abort_filter_free(kc_abort_filter_t *f)
{
    free(f->af_txns);
    free(f->af_pids);
    memset(f, 0, sizeof *f);
}

static int pid_aborted(const kc_abort_filter_t *f, int64_t pid)
{
    for (int32_t i = 0; i < f->af_npids; i++)
        if (f->af_pids[i] == pid)
            return 1;
    return 0;
}

/* The control record's type (ControlRecordType: 0 ABORT, 1 COMMIT), or -1. */
static int control_type(const uint8_t *batch, size_t size)
{
    wire_record_iter_t it;
    wire_record_t r;
    char why[64];
    int type = -1;
    if (wire_record_iter_open(&it, batch, size, WIRE_INFLATE_LIMIT_DEFAULT, why, sizeof why) < 0)
        return -1;
    if (wire_record_next(&it, &r) == 1 && r.keyLength >= 4 && r.key)
        type = (int16_t)be16_load(r.key + 2);
    wire_record_iter_close(&it);
    return type;
}

int kc_abort_filter_skip(kc_abort_filter_t *f, const wire_batch_header_t *h, const uint8_t *batch,
                         size_t size)
{
    int control = (h->attributes & BATCH_ATTR_CONTROL) != 0;
    if (h->producerId >= 0 && f->af_n > 0) {
        int64_t last = h->baseOffset + h->lastOffsetDelta;
        while (f->af_next < f->af_n && f->af_txns[f->af_next].FirstOffset <= last) {
            int64_t pid = f->af_txns[f->af_next++].ProducerId;
            if (!pid_aborted(f, pid))
                f->af_pids[f->af_npids++] = pid;
        }
        if (control) {
            if (control_type(batch, size) == 0) /* ABORT ends the aborted transaction */
                for (int32_t i = 0; i < f->af_npids; i++)
                    if (f->af_pids[i] == h->producerId) {
                        f->af_pids[i] = f->af_pids[--f->af_npids];
                        break;
                    }
        } else if ((h->attributes & BATCH_ATTR_TRANSACTIONAL) && pid_aborted(f, h->producerId)) {
            return 1;
        }
    }
    return control;
}

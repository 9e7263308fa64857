/* The transaction coordinator's records in __transaction_state, in Kafka's
 * own schemas (TransactionLogKey v0, TransactionLogValue v0: what Kafka 4.1
 * writes for transaction version 0 and 1 clients), so Kafka's tools read
 * them and the bytes can be compared with Kafka's (tests/unit/broker). The
 * layout is in txn_coordinator.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "broker/txn_coordinator.h"
#include "common/err.h"

static const char *const state_names[TXN_NSTATES] = {
    [TXN_EMPTY] = "Empty",
    [TXN_ONGOING] = "Ongoing",
    [TXN_PREPARE_COMMIT] = "PrepareCommit",
    [TXN_PREPARE_ABORT] = "PrepareAbort",
    [TXN_COMPLETE_COMMIT] = "CompleteCommit",
    [TXN_COMPLETE_ABORT] = "CompleteAbort",
    [TXN_DEAD] = "Dead",
    [TXN_PREPARE_EPOCH_FENCE] = "PrepareEpochFence",
};

const char *txn_state_name(int state)
{
    return state >= 0 && state < TXN_NSTATES ? state_names[state] : NULL;
}

int txn_state_from_name(kstr_t name)
{
    for (int i = 0; i < TXN_NSTATES; i++)
        if (kstr_eq(name, state_names[i]))
            return i;
    return -1;
}

void txn_key_encode(eddy_wr_t *w, const char *id)
{
    wr_i16(w, 0);
    wr_cstring(w, id);
}

int txn_key_decode(const uint8_t *p, size_t n, kstr_t *id)
{
    eddy_rd_t rd;
    rd_init(&rd, p, n);
    int16_t v = rd_i16(&rd);
    *id = rd_string(&rd);
    if (rd.rd_err || v != 0 || id->len < 0)
        return EDDY_ERR_CORRUPT;
    return 0;
}

void txn_value_encode(eddy_wr_t *w, const txn_meta_t *m, enum txn_state state, int nparts)
{
    wr_i16(w, 0);
    wr_i64(w, m->t_pid);
    wr_i16(w, m->t_epoch);
    wr_i32(w, m->t_timeout_ms);
    wr_i8(w, (int8_t)state);
    if (state == TXN_EMPTY) {
        wr_i32(w, -1); /* Kafka writes null partitions for Empty */
    } else {
        /* Grouped by topic, each topic once, in the order first added. */
        size_t count_at = w->wr_len;
        wr_i32(w, 0);
        int32_t ntopics = 0;
        for (int i = 0; i < nparts; i++) {
            const char *topic = m->t_parts[i].tp_topic;
            int seen = 0;
            for (int j = 0; j < i && !seen; j++)
                seen = strcmp(m->t_parts[j].tp_topic, topic) == 0;
            if (seen)
                continue;
            ntopics++;
            wr_cstring(w, topic);
            size_t pc_at = w->wr_len;
            wr_i32(w, 0);
            int32_t np = 0;
            for (int j = i; j < nparts; j++)
                if (strcmp(m->t_parts[j].tp_topic, topic) == 0) {
                    wr_i32(w, m->t_parts[j].tp_partition);
                    np++;
                }
            wr_patch_i32(w, pc_at, np);
        }
        wr_patch_i32(w, count_at, ntopics);
    }
    wr_i64(w, m->t_update_ms);
    wr_i64(w, m->t_start_ms);
}

void txn_meta_clear_parts(txn_meta_t *m)
{
    for (int i = 0; i < m->t_nparts; i++)
        free(m->t_parts[i].tp_topic);
    m->t_nparts = 0;
}

int txn_meta_has_part(const txn_meta_t *m, kstr_t topic, int32_t partition)
{
    for (int i = 0; i < m->t_nparts; i++)
        if (m->t_parts[i].tp_partition == partition && kstr_eq(topic, m->t_parts[i].tp_topic))
            return 1;
    return 0;
}

int txn_meta_add_part(txn_meta_t *m, kstr_t topic, int32_t partition)
{
    if (txn_meta_has_part(m, topic, partition))
        return 0;
    if (m->t_nparts == m->t_parts_cap) {
        int cap = m->t_parts_cap ? m->t_parts_cap * 2 : 8;
        txn_part_t *np = realloc(m->t_parts, (size_t)cap * sizeof *np);
        if (!np)
            return -ENOMEM;
        m->t_parts = np;
        m->t_parts_cap = cap;
    }
    char *t = kstr_dup(topic);
    if (!t)
        return -ENOMEM;
    m->t_parts[m->t_nparts++] = (txn_part_t){t, partition, 0};
    return 1;
}

int txn_value_decode(const uint8_t *p, size_t n, txn_meta_t *m)
{
    eddy_rd_t rd;
    rd_init(&rd, p, n);
    int16_t v = rd_i16(&rd);
    if (rd.rd_err || v < 0 || v > 1)
        return EDDY_ERR_CORRUPT;
    int flex = v >= 1;
    int64_t pid = rd_i64(&rd);
    int16_t epoch = rd_i16(&rd);
    int32_t timeout = rd_i32(&rd);
    int8_t state = rd_i8(&rd);
    int32_t ntopics = flex ? (int32_t)rd_uvarint(&rd) - 1 : rd_i32(&rd);
    if (rd.rd_err || state < 0 || state >= TXN_NSTATES || ntopics < -1 ||
        (size_t)(ntopics < 0 ? 0 : ntopics) > rd_remaining(&rd))
        return EDDY_ERR_CORRUPT;
    txn_meta_clear_parts(m);
    for (int32_t i = 0; i < ntopics && !rd.rd_err; i++) {
        kstr_t topic = flex ? rd_compact_string(&rd) : rd_string(&rd);
        int32_t np = flex ? (int32_t)rd_uvarint(&rd) - 1 : rd_i32(&rd);
        if (rd.rd_err || topic.len < 0 || np < 0 || (size_t)np > rd_remaining(&rd) / 4)
            return EDDY_ERR_CORRUPT;
        for (int32_t j = 0; j < np && !rd.rd_err; j++) {
            int32_t part = rd_i32(&rd);
            if (!rd.rd_err && txn_meta_add_part(m, topic, part) < 0)
                return -ENOMEM;
        }
        if (flex)
            rd_skip_tags(&rd);
    }
    int64_t update = rd_i64(&rd);
    int64_t start = rd_i64(&rd);
    if (flex)
        rd_skip_tags(&rd);
    if (rd.rd_err)
        return EDDY_ERR_CORRUPT;
    m->t_pid = pid;
    m->t_epoch = epoch;
    m->t_timeout_ms = timeout;
    m->t_state = (enum txn_state)state;
    m->t_update_ms = update;
    m->t_start_ms = start;
    return 0;
}

void txn_meta_free(txn_meta_t *m)
{
    if (!m)
        return;
    txn_meta_clear_parts(m);
    free(m->t_parts);
    free(m->t_id);
    free(m);
}

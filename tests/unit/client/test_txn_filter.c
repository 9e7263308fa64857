/* read_committed's aborted-transaction filter (client/txn_wire.c) on
 * crafted fetch answers: Records of transactional, plain and control
 * batches with the answer's AbortedTransactions, walked as the consumer
 * walks them. What comes through must be exactly the records of committed
 * transactions and plain batches, never a control record. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "client/txn_wire.h"
#include "common/buf.h"
#include "wire/recordbatch.h"

/* Appends a batch at base: n data records "v<base+i>" (transactional when
 * txn), or one control record (marker >= 0: 0 ABORT, 1 COMMIT). */
static void add_batch(eddy_wr_t *all, int64_t base, int64_t pid, int txn, int n, int marker)
{
    eddy_wr_t wr;
    wr_init(&wr);
    wire_batch_builder_t b;
    wire_batch_header_t t = wire_batch_header_default();
    t.baseOffset = base;
    t.producerId = pid;
    t.producerEpoch = pid >= 0 ? 0 : -1;
    t.baseSequence = pid >= 0 ? 0 : -1;
    if (txn || marker >= 0)
        t.attributes = (int16_t)(t.attributes | BATCH_ATTR_TRANSACTIONAL);
    if (marker >= 0)
        t.attributes = (int16_t)(t.attributes | BATCH_ATTR_CONTROL);
    wire_batch_begin(&b, &wr, &t);
    if (marker >= 0) {
        uint8_t key[4] = {0, 0, 0, (uint8_t)marker};
        uint8_t val[6] = {0, 0, 0, 0, 0, 5};
        wire_batch_add(&b, 1000, key, 4, val, 6, NULL, 0);
    } else {
        for (int i = 0; i < n; i++) {
            char v[32];
            int len = snprintf(v, sizeof v, "v%lld", (long long)(base + i));
            wire_batch_add(&b, 1000, NULL, -1, v, len, NULL, 0);
        }
    }
    ck_assert_int_eq(wire_batch_end(&b, 0), 0);
    wr_bytes(all, wr.wr_buf, wr.wr_len);
    wr_free(&wr);
}

/* Walks the records as the consumer does; writes the offsets delivered
 * into out (space separated). */
static void walk(const eddy_wr_t *all, const FetchResponseAbortedTransaction *txns, int32_t n,
                 char *out, size_t size)
{
    kc_abort_filter_t f;
    ck_assert_int_eq(kc_abort_filter_init(&f, txns, n), 0);
    out[0] = 0;
    size_t pos = 0;
    while (pos + BATCH_HEADER_SIZE <= all->wr_len) {
        int64_t len = wire_batch_size(all->wr_buf + pos);
        wire_batch_header_t h;
        char why[128];
        ck_assert_int_ge(
            wire_batch_validate(all->wr_buf + pos, (size_t)len, 0, 0, &h, why, sizeof why), 0);
        if (!kc_abort_filter_skip(&f, &h, all->wr_buf + pos, (size_t)len)) {
            wire_record_iter_t it;
            wire_record_t r;
            ck_assert_int_eq(wire_record_iter_open(&it, all->wr_buf + pos, (size_t)len, 1 << 20,
                                                   why, sizeof why),
                             0);
            while (wire_record_next(&it, &r) == 1) {
                char v[32];
                snprintf(v, sizeof v, "v%lld", (long long)r.offset);
                /* a control record would show here with a 4-byte key */
                ck_assert_int_eq(r.keyLength, -1);
                ck_assert(r.valueLength == (int32_t)strlen(v) && !memcmp(r.value, v, strlen(v)));
                snprintf(out + strlen(out), size - strlen(out), "%s%lld", out[0] ? " " : "",
                         (long long)r.offset);
            }
            wire_record_iter_close(&it);
        }
        pos += (size_t)len;
    }
    kc_abort_filter_free(&f);
}

/* pid 1 aborts 0-1, pid 2 commits 2-3 around it, a plain batch, then pid 1
 * again in a new transaction that commits. */
static void interleaved(eddy_wr_t *all)
{
    wr_init(all);
    add_batch(all, 0, 1, 1, 2, -1);  /* pid 1: 0-1 (aborted) */
    add_batch(all, 2, 2, 1, 2, -1);  /* pid 2: 2-3 (committed) */
    add_batch(all, 4, 1, 1, 0, 0);   /* pid 1 ABORT at 4 */
    add_batch(all, 5, 2, 1, 0, 1);   /* pid 2 COMMIT at 5 */
    add_batch(all, 6, -1, 0, 1, -1); /* plain: 6 */
    add_batch(all, 7, 1, 1, 2, -1);  /* pid 1: 7-8 (a new transaction) */
    add_batch(all, 9, 1, 1, 0, 1);   /* pid 1 COMMIT at 9 */
}

START_TEST(aborted_transaction_dropped_committed_kept)
{
    eddy_wr_t all;
    interleaved(&all);
    FetchResponseAbortedTransaction txns[] = {{1, 0}};
    char out[256];
    walk(&all, txns, 1, out, sizeof out);
    ck_assert_str_eq(out, "2 3 6 7 8");
    wr_free(&all);
}
END_TEST

START_TEST(read_uncommitted_keeps_data_drops_markers)
{
    eddy_wr_t all;
    interleaved(&all);
    char out[256];
    walk(&all, NULL, 0, out, sizeof out); /* no aborted list: read_uncommitted */
    ck_assert_str_eq(out, "0 1 2 3 6 7 8");
    FetchResponseAbortedTransaction txns[] = {{1, 0}};
    walk(&all, txns, -1, out, sizeof out); /* a null list */
    ck_assert_str_eq(out, "0 1 2 3 6 7 8");
    wr_free(&all);
}
END_TEST

/* Two aborted transactions of one producer, listed out of order; a third
 * producer's aborted transaction starts inside its first batch's range. */
START_TEST(several_aborted_transactions)
{
    eddy_wr_t all;
    wr_init(&all);
    add_batch(&all, 0, 1, 1, 2, -1);  /* pid 1: 0-1 aborted */
    add_batch(&all, 2, 1, 1, 0, 0);   /* ABORT */
    add_batch(&all, 3, 1, 1, 1, -1);  /* pid 1: 3 aborted again */
    add_batch(&all, 4, 3, 1, 3, -1);  /* pid 3: 4-6, aborted from 4 */
    add_batch(&all, 7, 1, 1, 0, 0);   /* pid 1 ABORT */
    add_batch(&all, 8, 3, 1, 0, 0);   /* pid 3 ABORT */
    add_batch(&all, 9, 1, 1, 1, -1);  /* pid 1: 9, committed */
    add_batch(&all, 10, 3, 1, 1, -1); /* pid 3: 10, committed */
    add_batch(&all, 11, 1, 1, 0, 1);
    add_batch(&all, 12, 3, 1, 0, 1);
    FetchResponseAbortedTransaction txns[] = {{3, 4}, {1, 3}, {1, 0}};
    char out[256];
    walk(&all, txns, 3, out, sizeof out);
    ck_assert_str_eq(out, "9 10");
    /* A plain batch from a producer id in the list is never dropped (only
     * transactional batches belong to a transaction). */
    eddy_wr_t plain;
    wr_init(&plain);
    add_batch(&plain, 0, 1, 0, 2, -1);
    FetchResponseAbortedTransaction t1[] = {{1, 0}};
    walk(&plain, t1, 1, out, sizeof out);
    ck_assert_str_eq(out, "0 1");
    wr_free(&plain);
    wr_free(&all);
}
END_TEST

TCase *tcase_txn_filter(void)
{
    TCase *tc = tcase_create("txn_filter");
    tcase_add_test(tc, aborted_transaction_dropped_committed_kept);
    tcase_add_test(tc, read_uncommitted_keeps_data_drops_markers);
    tcase_add_test(tc, several_aborted_transactions);
    return tc;
}

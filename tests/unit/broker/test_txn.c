/* The transaction coordinator without a process: its records in
 * __transaction_state byte for byte as Kafka's TransactionLogKey /
 * TransactionLogValue, and the state machine's answers to AddPartitionsToTxn
 * and EndTxn in each state. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "broker/txn_coordinator.h"
#include "common/err.h"

static txn_meta_t *meta(int64_t pid, int16_t epoch, enum txn_state st)
{
    txn_meta_t *m = calloc(1, sizeof *m);
    ck_assert_ptr_nonnull(m);
    m->t_id = strdup("tx");
    m->t_pid = pid;
    m->t_epoch = epoch;
    m->t_last_epoch = -1;
    m->t_state = st;
    m->t_start_ms = -1;
    return m;
}

/* Kafka: TransactionLogKey v0 is the version (int16 0) and the id as an
 * int16-length string. */
START_TEST(key_bytes_are_kafkas)
{
    eddy_wr_t w;
    wr_init(&w);
    txn_key_encode(&w, "my-txn");
    static const uint8_t want[] = {0, 0, 0, 6, 'm', 'y', '-', 't', 'x', 'n'};
    ck_assert_uint_eq(w.wr_len, sizeof want);
    ck_assert_mem_eq(w.wr_buf, want, sizeof want);
    kstr_t id;
    ck_assert_int_eq(txn_key_decode(w.wr_buf, w.wr_len, &id), 0);
    ck_assert(kstr_eq(id, "my-txn"));
    /* A key of another version is not one of ours. */
    w.wr_buf[1] = 1;
    ck_assert_int_eq(txn_key_decode(w.wr_buf, w.wr_len, &id), EDDY_ERR_CORRUPT);
    wr_free(&w);
}
END_TEST

/* TransactionLogValue v0: version, ProducerId, ProducerEpoch,
 * TransactionTimeoutMs, TransactionStatus (Kafka's numbers), partitions
 * grouped by topic (null for Empty), last update, start. */
START_TEST(value_bytes_are_kafkas)
{
    txn_meta_t *m = meta(1000, 2, TXN_ONGOING);
    m->t_timeout_ms = 60000;
    m->t_update_ms = 1700000000000LL;
    m->t_start_ms = 1699999999000LL;
    ck_assert_int_eq(txn_meta_add_part(m, kstr_c("t"), 0), 1);
    ck_assert_int_eq(txn_meta_add_part(m, kstr_c("u"), 3), 1);
    ck_assert_int_eq(txn_meta_add_part(m, kstr_c("t"), 1), 1);
    ck_assert_int_eq(txn_meta_add_part(m, kstr_c("t"), 1), 0); /* once */
    eddy_wr_t w;
    wr_init(&w);
    txn_value_encode(&w, m, TXN_PREPARE_COMMIT, m->t_nparts);
    /* clang-format off */
    static const uint8_t want[] = {
        0, 0,                               /* version 0 */
        0, 0, 0, 0, 0, 0, 0x03, 0xe8,       /* ProducerId 1000 */
        0, 2,                               /* ProducerEpoch */
        0, 0, 0xea, 0x60,                   /* TransactionTimeoutMs 60000 */
        2,                                  /* PrepareCommit */
        0, 0, 0, 2,                         /* 2 topics */
        0, 1, 't', 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1,
        0, 1, 'u', 0, 0, 0, 1, 0, 0, 0, 3,
        0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, /* last update 1700000000000 */
        0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x64, 0x18, /* start 1699999999000 */
    };
    /* clang-format on */
    ck_assert_uint_eq(w.wr_len, sizeof want);
    ck_assert_mem_eq(w.wr_buf, want, sizeof want);

    /* Round trip. */
    txn_meta_t *r = meta(0, 0, TXN_EMPTY);
    ck_assert_int_eq(txn_value_decode(w.wr_buf, w.wr_len, r), 0);
    ck_assert_int_eq(r->t_pid, 1000);
    ck_assert_int_eq(r->t_epoch, 2);
    ck_assert_int_eq(r->t_timeout_ms, 60000);
    ck_assert_int_eq(r->t_state, TXN_PREPARE_COMMIT);
    ck_assert_int_eq(r->t_nparts, 3);
    ck_assert(txn_meta_has_part(r, kstr_c("t"), 0) && txn_meta_has_part(r, kstr_c("t"), 1) &&
              txn_meta_has_part(r, kstr_c("u"), 3));
    ck_assert_int_eq(r->t_update_ms, 1700000000000LL);
    ck_assert_int_eq(r->t_start_ms, 1699999999000LL);

    /* Empty: null partitions (Kafka writes null, not an empty array). */
    wr_reset(&w);
    txn_value_encode(&w, m, TXN_EMPTY, 0);
    ck_assert_uint_eq(w.wr_len, 2 + 8 + 2 + 4 + 1 + 4 + 8 + 8);
    ck_assert_mem_eq(w.wr_buf + 17, "\xff\xff\xff\xff", 4);
    ck_assert_int_eq(txn_value_decode(w.wr_buf, w.wr_len, r), 0);
    ck_assert_int_eq(r->t_state, TXN_EMPTY);
    ck_assert_int_eq(r->t_nparts, 0);
    /* CompleteCommit: an empty array. */
    wr_reset(&w);
    txn_value_encode(&w, m, TXN_COMPLETE_COMMIT, 0);
    ck_assert_mem_eq(w.wr_buf + 17, "\0\0\0\0", 4);
    /* Cut short: corrupt, not a crash. */
    wr_reset(&w);
    txn_value_encode(&w, m, TXN_ONGOING, m->t_nparts);
    for (size_t n = 0; n < w.wr_len; n++)
        ck_assert_int_eq(txn_value_decode(w.wr_buf, n, r), EDDY_ERR_CORRUPT);
    wr_free(&w);
    txn_meta_free(m);
    txn_meta_free(r);
}
END_TEST

/* Kafka 4.1 writes value v1 (flexible, tagged PreviousProducerId,
 * NextProducerId, ClientTransactionVersion) for transaction version 2:
 * such a record replays too. */
START_TEST(value_v1_is_read)
{
    /* clang-format off */
    static const uint8_t v1[] = {
        0, 1,                         /* version 1 */
        0, 0, 0, 0, 0, 0, 0, 7,       /* ProducerId 7 */
        0, 3,                         /* epoch 3 */
        0, 0, 0x27, 0x10,             /* timeout 10000 */
        1,                            /* Ongoing */
        2,                            /* compact array: 1 topic */
        4, 'a', 'b', 'c', 3, 0, 0, 0, 5, 0, 0, 0, 6, 0, /* "abc" [5, 6], no tags */
        0, 0, 0, 0, 0, 0, 0, 9,       /* last update */
        0, 0, 0, 0, 0, 0, 0, 8,       /* start */
        1, 2, 2, 0, 2,                /* tags: ClientTransactionVersion (2) = 2 */
    };
    /* clang-format on */
    txn_meta_t *r = meta(0, 0, TXN_EMPTY);
    ck_assert_int_eq(txn_value_decode(v1, sizeof v1, r), 0);
    ck_assert_int_eq(r->t_pid, 7);
    ck_assert_int_eq(r->t_epoch, 3);
    ck_assert_int_eq(r->t_state, TXN_ONGOING);
    ck_assert_int_eq(r->t_nparts, 2);
    ck_assert(txn_meta_has_part(r, kstr_c("abc"), 5) && txn_meta_has_part(r, kstr_c("abc"), 6));
    ck_assert_int_eq(r->t_start_ms, 8);
    txn_meta_free(r);
}
END_TEST

START_TEST(state_names_are_kafkas)
{
    static const char *names[] = {"Empty",        "Ongoing",          "PrepareCommit",
                                  "PrepareAbort", "CompleteCommit",   "CompleteAbort",
                                  "Dead",         "PrepareEpochFence"};
    for (int i = 0; i < TXN_NSTATES; i++) {
        ck_assert_str_eq(txn_state_name(i), names[i]);
        ck_assert_int_eq(txn_state_from_name(kstr_c(names[i])), i);
    }
    ck_assert_int_eq(txn_state_from_name(kstr_c("ongoing")), -1);
    ck_assert_ptr_null(txn_state_name(8));
}
END_TEST

/* EndTxn in every state, as Kafka's TransactionCoordinator answers. */
START_TEST(end_txn_answers)
{
    int start;
    const int16_t F = KERR_PRODUCER_FENCED;
    ck_assert_int_eq(txn_check_end(NULL, 1, 0, 1, F, &start), KERR_INVALID_PRODUCER_ID_MAPPING);
    txn_meta_t *m = meta(5, 2, TXN_EMPTY);
    ck_assert_int_eq(txn_check_end(m, 5, 2, 1, F, &start), KERR_INVALID_TXN_STATE);
    ck_assert_int_eq(txn_check_end(m, 6, 2, 1, F, &start), KERR_INVALID_PRODUCER_ID_MAPPING);
    ck_assert_int_eq(txn_check_end(m, 5, 1, 1, F, &start), KERR_PRODUCER_FENCED);
    ck_assert_int_eq(txn_check_end(m, 5, 1, 1, KERR_INVALID_PRODUCER_EPOCH, &start),
                     KERR_INVALID_PRODUCER_EPOCH);
    m->t_state = TXN_ONGOING;
    ck_assert_int_eq(txn_check_end(m, 5, 2, 0, F, &start), KERR_NONE);
    ck_assert_int_eq(start, 1);
    m->t_state = TXN_PREPARE_COMMIT;
    ck_assert_int_eq(txn_check_end(m, 5, 2, 1, F, &start), KERR_CONCURRENT_TRANSACTIONS);
    ck_assert_int_eq(txn_check_end(m, 5, 2, 0, F, &start), KERR_INVALID_TXN_STATE);
    m->t_state = TXN_PREPARE_ABORT;
    ck_assert_int_eq(txn_check_end(m, 5, 2, 0, F, &start), KERR_CONCURRENT_TRANSACTIONS);
    ck_assert_int_eq(txn_check_end(m, 5, 2, 1, F, &start), KERR_INVALID_TXN_STATE);
    m->t_state = TXN_COMPLETE_COMMIT; /* a retried commit */
    ck_assert_int_eq(txn_check_end(m, 5, 2, 1, F, &start), KERR_NONE);
    ck_assert_int_eq(start, 0);
    ck_assert_int_eq(txn_check_end(m, 5, 2, 0, F, &start), KERR_INVALID_TXN_STATE);
    m->t_state = TXN_COMPLETE_ABORT;
    ck_assert_int_eq(txn_check_end(m, 5, 2, 0, F, &start), KERR_NONE);
    ck_assert_int_eq(start, 0);
    ck_assert_int_eq(txn_check_end(m, 5, 2, 1, F, &start), KERR_INVALID_TXN_STATE);
    m->t_state = TXN_PREPARE_EPOCH_FENCE;
    ck_assert_int_eq(txn_check_end(m, 5, 2, 1, F, &start), KERR_CONCURRENT_TRANSACTIONS);
    txn_meta_free(m);
}
END_TEST

START_TEST(add_answers)
{
    const int16_t F = KERR_PRODUCER_FENCED;
    ck_assert_int_eq(txn_check_add(NULL, 1, 0, F), KERR_INVALID_PRODUCER_ID_MAPPING);
    txn_meta_t *m = meta(5, 2, TXN_EMPTY);
    ck_assert_int_eq(txn_check_add(m, 5, 2, F), KERR_NONE);
    ck_assert_int_eq(txn_check_add(m, 4, 2, F), KERR_INVALID_PRODUCER_ID_MAPPING);
    ck_assert_int_eq(txn_check_add(m, 5, 3, F), KERR_PRODUCER_FENCED);
    m->t_state = TXN_PREPARE_ABORT;
    ck_assert_int_eq(txn_check_add(m, 5, 2, F), KERR_CONCURRENT_TRANSACTIONS);
    m->t_state = TXN_COMPLETE_COMMIT;
    ck_assert_int_eq(txn_check_add(m, 5, 2, F), KERR_NONE);
    m->t_state = TXN_DEAD;
    ck_assert_int_eq(txn_check_add(m, 5, 2, F), KERR_INVALID_PRODUCER_ID_MAPPING);
    txn_meta_free(m);
    /* PRODUCER_FENCED exists from InitProducerId v4 and the others' v2. */
    ck_assert_int_eq(txn_fenced_code(API_INIT_PRODUCER_ID, 3), KERR_INVALID_PRODUCER_EPOCH);
    ck_assert_int_eq(txn_fenced_code(API_INIT_PRODUCER_ID, 4), KERR_PRODUCER_FENCED);
    ck_assert_int_eq(txn_fenced_code(API_END_TXN, 1), KERR_INVALID_PRODUCER_EPOCH);
    ck_assert_int_eq(txn_fenced_code(API_END_TXN, 2), KERR_PRODUCER_FENCED);
    ck_assert_int_eq(txn_fenced_code(API_ADD_PARTITIONS_TO_TXN, 2), KERR_PRODUCER_FENCED);
    ck_assert(txn_epoch_exhausted(32766) && !txn_epoch_exhausted(32765));
}
END_TEST

TCase *tcase_txn(void)
{
    TCase *tc = tcase_create("txn");
    tcase_add_test(tc, key_bytes_are_kafkas);
    tcase_add_test(tc, value_bytes_are_kafkas);
    tcase_add_test(tc, value_v1_is_read);
    tcase_add_test(tc, state_names_are_kafkas);
    tcase_add_test(tc, end_txn_answers);
    tcase_add_test(tc, add_answers);
    return tc;
}

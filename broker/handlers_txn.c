/* The transaction coordinator's APIs: AddPartitionsToTxn, AddOffsetsToTxn,
 * EndTxn, DescribeTransactions, ListTransactions (InitProducerId with a
 * transactional id comes through handlers.c). Authorization as Kafka's
 * KafkaApis: WRITE on the transactional id for the producer's requests,
 * WRITE on each topic for AddPartitionsToTxn, READ on the group for
 * AddOffsetsToTxn, DESCRIBE on the transactional id for the two admin APIs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "broker/group_int.h"
#include "broker/txn_int.h"
#include "common/clock.h"
#include "wire/api_acl.h"
#include "wire/api_txn.h"

int handle_add_partitions_to_txn(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    AddPartitionsToTxnRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    eddy_arena_t *a = &s->rs_out;
    int rc = wire_add_partitions_to_txn_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    AddPartitionsToTxnResponse resp = {0};
    if (!RESP_ARRAY(a, resp.Topics, resp.TopicsCount, req.TopicsCount))
        return -ENOMEM;
    int32_t total = 0;
    for (int32_t i = 0; i < req.TopicsCount; i++) {
        AddPartitionsToTxnTopicResult *rt = &resp.Topics[i];
        rt->Name = req.Topics[i].Name;
        if (!RESP_ARRAY(a, rt->Results, rt->ResultsCount, req.Topics[i].PartitionsCount))
            return -ENOMEM;
        for (int32_t j = 0; j < rt->ResultsCount; j++)
            rt->Results[j].PartitionIndex = req.Topics[i].Partitions[j];
        total += rt->ResultsCount;
    }
    /* Per partition first (Kafka): refused or unknown partitions fail the
     * request, the others are OPERATION_NOT_ATTEMPTED. */
    int16_t all = KERR_NONE;
    int bad = 0;
    if (!broker_authorize(b, s, ACL_OP_WRITE, ACL_RES_TRANSACTIONAL_ID, req.TransactionalId)) {
        all = KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    } else {
        for (int32_t i = 0; i < req.TopicsCount; i++) {
            AddPartitionsToTxnTopicResult *rt = &resp.Topics[i];
            int16_t terr = KERR_NONE;
            topic_t *t = topics_find(&b->bk_topics, rt->Name.ptr, (size_t)rt->Name.len);
            if (!broker_authorize(b, s, ACL_OP_WRITE, ACL_RES_TOPIC, rt->Name))
                terr = KERR_TOPIC_AUTHORIZATION_FAILED;
            else if (!t)
                terr = KERR_UNKNOWN_TOPIC_OR_PARTITION;
            for (int32_t j = 0; j < rt->ResultsCount; j++) {
                int16_t e = terr;
                if (e == KERR_NONE && (rt->Results[j].PartitionIndex < 0 ||
                                       rt->Results[j].PartitionIndex >= t->t_npartitions))
                    e = KERR_UNKNOWN_TOPIC_OR_PARTITION;
                rt->Results[j].PartitionErrorCode = e;
                bad |= e != KERR_NONE;
            }
        }
    }
    if (all == KERR_NONE && !bad) {
        txn_coordinator_t *tc = b->bk_txns;
        int16_t fenced = txn_fenced_code(API_ADD_PARTITIONS_TO_TXN, v);
        txn_meta_t *m = txn_find(tc, req.TransactionalId);
        all = txn_check_add(m, req.ProducerId, req.ProducerEpoch, fenced);
        if (all == KERR_NONE) {
            kstr_t *topics = arena_calloc(a, (size_t)(total ? total : 1), sizeof *topics);
            int32_t *parts = arena_calloc(a, (size_t)(total ? total : 1), sizeof *parts);
            if (!topics || !parts)
                return -ENOMEM;
            int n = 0;
            for (int32_t i = 0; i < req.TopicsCount; i++)
                for (int32_t j = 0; j < req.Topics[i].PartitionsCount; j++) {
                    topics[n] = req.Topics[i].Name;
                    parts[n++] = req.Topics[i].Partitions[j];
                }
            all = txn_add(tc, m, topics, parts, n);
        }
    }
    for (int32_t i = 0; i < resp.TopicsCount; i++)
        for (int32_t j = 0; j < resp.Topics[i].ResultsCount; j++) {
            AddPartitionsToTxnPartitionResult *pr = &resp.Topics[i].Results[j];
            if (bad)
                pr->PartitionErrorCode = pr->PartitionErrorCode != KERR_NONE
                                             ? pr->PartitionErrorCode
                                             : KERR_OPERATION_NOT_ATTEMPTED;
            else
                pr->PartitionErrorCode = all;
        }
    wire_add_partitions_to_txn_resp_encode(&s->rs_resp, v, &resp);
    s->rs_state = SLOT_DONE;
    return 0;
}

int handle_add_offsets_to_txn(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    AddOffsetsToTxnRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    int rc = wire_add_offsets_to_txn_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    int16_t err;
    if (!broker_authorize(b, s, ACL_OP_WRITE, ACL_RES_TRANSACTIONAL_ID, req.TransactionalId)) {
        err = KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    } else if (!broker_authorize(b, s, ACL_OP_READ, ACL_RES_GROUP, req.GroupId)) {
        err = KERR_GROUP_AUTHORIZATION_FAILED;
    } else if (req.GroupId.len == 0) {
        err = KERR_INVALID_GROUP_ID;
    } else {
        txn_coordinator_t *tc = b->bk_txns;
        txn_meta_t *m = txn_find(tc, req.TransactionalId);
        err = txn_check_add(m, req.ProducerId, req.ProducerEpoch,
                            txn_fenced_code(API_ADD_OFFSETS_TO_TXN, v));
        if (err == KERR_NONE) {
            /* Kafka adds the group's __consumer_offsets partition. */
            group_coordinator_t *gc = b->bk_groups;
            kstr_t topic = kstr_c(OFFSETS_TOPIC);
            int32_t part = group_partition_for(req.GroupId.ptr, (size_t)req.GroupId.len,
                                               gc->gc_topic->t_npartitions);
            err = txn_add(tc, m, &topic, &part, 1);
        }
    }
    wire_txn_error_resp_encode(&s->rs_resp, API_ADD_OFFSETS_TO_TXN, v, err);
    s->rs_state = SLOT_DONE;
    return 0;
}

int handle_end_txn(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    EndTxnRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    int rc = wire_end_txn_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    int16_t err;
    if (!broker_authorize(b, s, ACL_OP_WRITE, ACL_RES_TRANSACTIONAL_ID, req.TransactionalId)) {
        err = KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    } else {
        txn_coordinator_t *tc = b->bk_txns;
        txn_meta_t *m = txn_find(tc, req.TransactionalId);
        int start;
        err = txn_check_end(m, req.ProducerId, req.ProducerEpoch, req.Committed,
                            txn_fenced_code(API_END_TXN, v), &start);
        if (err == KERR_NONE && start)
            err = txn_end(tc, m, req.Committed);
    }
    wire_txn_error_resp_encode(&s->rs_resp, API_END_TXN, v, err);
    s->rs_state = SLOT_DONE;
    return 0;
}

/* The partitions of m's transaction as DescribeTransactions shows them:
 * grouped by topic, the ones the principal may describe, and while it is
 * ending only those still without a marker (Kafka). */
static int describe_topics(eddy_broker_t *b, req_slot_t *s, const txn_meta_t *m,
                           DescribeTransactionsState *st)
{
    eddy_arena_t *a = &s->rs_out;
    int preparing = m->t_state == TXN_PREPARE_COMMIT || m->t_state == TXN_PREPARE_ABORT;
    st->Topics = arena_calloc(a, (size_t)(m->t_nparts ? m->t_nparts : 1), sizeof *st->Topics);
    if (!st->Topics)
        return -ENOMEM;
    st->TopicsCount = 0;
    for (int i = 0; i < m->t_nparts; i++) {
        const txn_part_t *tp = &m->t_parts[i];
        if (preparing && tp->tp_marked)
            continue;
        TxnTopic *t = NULL;
        for (int32_t k = 0; k < st->TopicsCount && !t; k++)
            if (kstr_eq(st->Topics[k].Name, tp->tp_topic))
                t = &st->Topics[k];
        if (!t) {
            if (!broker_authorize_quiet(b, s, ACL_OP_DESCRIBE, ACL_RES_TOPIC, kstr_c(tp->tp_topic)))
                continue;
            t = &st->Topics[st->TopicsCount++];
            t->Name = kstr_arena(a, tp->tp_topic);
            t->Partitions = arena_calloc(a, (size_t)m->t_nparts, sizeof *t->Partitions);
            if (t->Name.len < 0 || !t->Partitions)
                return -ENOMEM;
        }
        t->Partitions[t->PartitionsCount++] = tp->tp_partition;
    }
    return 0;
}

int handle_describe_transactions(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    DescribeTransactionsRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    int rc = wire_describe_transactions_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    DescribeTransactionsResponse resp = {0};
    if (!RESP_ARRAY(&s->rs_out, resp.States, resp.StatesCount, req.TransactionalIdsCount))
        return -ENOMEM;
    for (int32_t i = 0; i < req.TransactionalIdsCount; i++) {
        DescribeTransactionsState *st = &resp.States[i];
        st->TransactionalId = req.TransactionalIds[i];
        st->TransactionState = kstr_c("");
        st->ProducerId = -1;
        st->ProducerEpoch = -1;
        st->TransactionStartTimeMs = -1;
        txn_meta_t *m = txn_find(b->bk_txns, st->TransactionalId);
        if (!broker_authorize(b, s, ACL_OP_DESCRIBE, ACL_RES_TRANSACTIONAL_ID,
                              st->TransactionalId)) {
            st->ErrorCode = KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        } else if (!m || m->t_state == TXN_DEAD) {
            st->ErrorCode = KERR_TRANSACTIONAL_ID_NOT_FOUND;
        } else {
            st->TransactionState = kstr_c(txn_state_name(m->t_state));
            st->TransactionTimeoutMs = m->t_timeout_ms;
            st->TransactionStartTimeMs = m->t_start_ms;
            st->ProducerId = m->t_pid;
            st->ProducerEpoch = m->t_epoch;
            if (describe_topics(b, s, m, st) < 0)
                return -ENOMEM;
        }
    }
    wire_describe_transactions_resp_encode(&s->rs_resp, v, &resp);
    s->rs_state = SLOT_DONE;
    return 0;
}

int handle_list_transactions(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    ListTransactionsRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    int rc = wire_list_transactions_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    eddy_arena_t *a = &s->rs_out;
    ListTransactionsResponse resp = {0};
    unsigned states = 0;
    resp.UnknownStateFilters = resp_array(a, req.StateFiltersCount,
                                          sizeof *resp.UnknownStateFilters);
    if (!resp.UnknownStateFilters)
        return -ENOMEM;
    for (int32_t i = 0; i < req.StateFiltersCount; i++) {
        int st = txn_state_from_name(req.StateFilters[i]);
        if (st < 0)
            resp.UnknownStateFilters[resp.UnknownStateFiltersCount++] = req.StateFilters[i];
        else
            states |= 1u << st;
    }
    int n = 0;
    for (txn_meta_t *m = b->bk_txns->tc_txns; m; m = m->t_next)
        n++;
    resp.States = resp_array(a, n, sizeof *resp.States);
    if (!resp.States)
        return -ENOMEM;
    int64_t now = eddy_wall_ms();
    /* Only unknown filters given: nothing matches (Kafka). */
    int none = req.StateFiltersCount > 0 && states == 0;
    for (txn_meta_t *m = b->bk_txns->tc_txns; m && !none; m = m->t_next) {
        if (m->t_state == TXN_DEAD)
            continue;
        if (states && !(states & (1u << m->t_state)))
            continue;
        if (req.ProducerIdFiltersCount > 0) {
            int hit = 0;
            for (int32_t i = 0; i < req.ProducerIdFiltersCount && !hit; i++)
                hit = req.ProducerIdFilters[i] == m->t_pid;
            if (!hit)
                continue;
        }
        /* Kafka's DurationFilter: started longer ago than that. */
        if (req.DurationFilter >= 0 && now - m->t_start_ms <= req.DurationFilter)
            continue;
        if (!broker_authorize_quiet(b, s, ACL_OP_DESCRIBE, ACL_RES_TRANSACTIONAL_ID,
                                    kstr_c(m->t_id)))
            continue;
        ListTransactionsState *ls = &resp.States[resp.StatesCount++];
        ls->TransactionalId = kstr_arena(a, m->t_id);
        ls->ProducerId = m->t_pid;
        ls->TransactionState = kstr_c(txn_state_name(m->t_state));
        if (ls->TransactionalId.len < 0)
            return -ENOMEM;
    }
    wire_list_transactions_resp_encode(&s->rs_resp, v, &resp);
    s->rs_state = SLOT_DONE;
    return 0;
}

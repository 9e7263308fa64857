/* A task's input buffers: Kafka Streams' PartitionGroup. A task that reads
 * several input partitions (a join's two topics, a merge) processes their
 * records in timestamp order: it buffers what the consumer delivers, one
 * queue per input partition, and takes the queue whose head has the
 * smallest timestamp. It may take one only when every input partition
 * either has records buffered or is known to hold none (caught up to its
 * high watermark) for max.task.idle.ms (sx_pg_ready), so one input's data
 * does not run ahead of the other's just because it was fetched first.
 *
 * A queue keeps its records back to back in one buffer, reused as the
 * queue drains (no allocation per record once it has grown):
 *
 *   qu_buf: | consumed ... | qrec key value headers pad | qrec ... |
 *                          ^ qu_head                               ^ len
 *
 * Each entry is padded to 8 bytes, so every qrec is aligned. The buffer
 * is compacted (the unconsumed tail moved to the front) when more than
 * half of it is consumed. A queue holds at most
 * buffered.records.per.partition records (thread.c pauses the partition
 * at that count), each at most a fetch response's size.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "streams/streams_int.h"

typedef struct qrec {
    int64_t qr_offset;
    int64_t qr_ts;     /* the extracted timestamp, the queue's order */
    int64_t qr_msg_ts; /* the record's own */
    int32_t qr_key_len, qr_value_len; /* -1: null */
    int32_t qr_header_count;
    uint32_t qr_headers_len;
    uint64_t qr_size; /* of the whole entry, padded */
} qrec_t;

typedef struct sx_pqueue {
    int qu_src;           /* index in ap_source_topics */
    const char *qu_topic; /* borrowed (sx_pg_new) */
    eddy_buf_t qu_buf;
    size_t qu_head;
    int qu_count;
    int64_t qu_deadline; /* idling on this empty partition until then; -1: not idling */
} sx_pqueue_t;

struct sx_pgroup {
    sx_pqueue_t *pg_queues;
    int pg_nqueues;
    int pg_buffered;
    int64_t pg_enforced; /* times processing went on without an idle partition's data */
};

sx_pgroup_t *sx_pg_new(const int *srcs, const char *const *topics, int n)
{
    sx_pgroup_t *pg = calloc(1, sizeof *pg);
    if (!pg || !(pg->pg_queues = calloc((size_t)n + 1, sizeof *pg->pg_queues))) {
        free(pg);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        pg->pg_queues[i] =
            (sx_pqueue_t){.qu_src = srcs[i], .qu_topic = topics[i], .qu_deadline = -1};
    pg->pg_nqueues = n;
    return pg;
}

void sx_pg_destroy(sx_pgroup_t *pg)
{
    if (!pg)
        return;
    for (int i = 0; i < pg->pg_nqueues; i++)
        eddy_buf_free(&pg->pg_queues[i].qu_buf);
    free(pg->pg_queues);
    free(pg);
}

int sx_pg_nqueues(const sx_pgroup_t *pg)
{
    return pg->pg_nqueues;
}

int sx_pg_buffered(const sx_pgroup_t *pg)
{
    return pg ? pg->pg_buffered : 0;
}

static sx_pqueue_t *queue_of(sx_pgroup_t *pg, int src)
{
    for (int i = 0; i < pg->pg_nqueues; i++)
        if (pg->pg_queues[i].qu_src == src)
            return &pg->pg_queues[i];
    return NULL;
}

int sx_pg_count(sx_pgroup_t *pg, int src)
{
    sx_pqueue_t *q = pg ? queue_of(pg, src) : NULL;
    return q ? q->qu_count : 0;
}

static const qrec_t *head_of(const sx_pqueue_t *q)
{
    return q->qu_count > 0 ? (const qrec_t *)(const void *)(q->qu_buf.data + q->qu_head) : NULL;
}

int64_t sx_pg_head_offset(sx_pgroup_t *pg, int src)
{
    sx_pqueue_t *q = pg ? queue_of(pg, src) : NULL;
    const qrec_t *r = q ? head_of(q) : NULL;
    return r ? r->qr_offset : -1;
}

int sx_pg_add(sx_pgroup_t *pg, int src, const kc_message_t *m, int64_t ts)
{
    static const uint8_t zeros[8];
    sx_pqueue_t *q = queue_of(pg, src);
    if (!q)
        return -ENOENT;
    size_t klen = m->msg_key_len > 0 ? (size_t)m->msg_key_len : 0;
    size_t vlen = m->msg_value_len > 0 ? (size_t)m->msg_value_len : 0;
    size_t body = sizeof(qrec_t) + klen + vlen + m->msg_headers_len;
    size_t pad = (8 - body % 8) % 8;
    qrec_t h = {m->msg_offset,
                ts,
                m->msg_timestamp,
                m->msg_key_len,
                m->msg_value_len,
                m->msg_header_count,
                (uint32_t)m->msg_headers_len,
                body + pad};
    size_t at = q->qu_buf.len;
    int rc = eddy_buf_append(&q->qu_buf, &h, sizeof h);
    if (rc == 0 && klen)
        rc = eddy_buf_append(&q->qu_buf, m->msg_key, klen);
    if (rc == 0 && vlen)
        rc = eddy_buf_append(&q->qu_buf, m->msg_value, vlen);
    if (rc == 0 && m->msg_headers_len)
        rc = eddy_buf_append(&q->qu_buf, m->msg_headers, m->msg_headers_len);
    if (rc == 0 && pad)
        rc = eddy_buf_append(&q->qu_buf, zeros, pad);
    if (rc < 0) {
        q->qu_buf.len = at; /* the queue stays as it was */
        return rc;
    }
    q->qu_count++;
    q->qu_deadline = -1;
    pg->pg_buffered++;
    return q->qu_count;
}

/* The queue whose head has the smallest timestamp (the first such queue on
 * a tie), or NULL when all are empty. */
static sx_pqueue_t *min_queue(sx_pgroup_t *pg)
{
    sx_pqueue_t *best = NULL;
    for (int i = 0; i < pg->pg_nqueues; i++) {
        sx_pqueue_t *q = &pg->pg_queues[i];
        if (q->qu_count > 0 && (!best || head_of(q)->qr_ts < head_of(best)->qr_ts))
            best = q;
    }
    return best;
}

int sx_pg_peek(sx_pgroup_t *pg, kc_message_t *m, int *src, int64_t *ts)
{
    sx_pqueue_t *q = min_queue(pg);
    if (!q)
        return 0;
    const qrec_t *r = head_of(q);
    const uint8_t *p = (const uint8_t *)(r + 1);
    size_t klen = r->qr_key_len > 0 ? (size_t)r->qr_key_len : 0;
    size_t vlen = r->qr_value_len > 0 ? (size_t)r->qr_value_len : 0;
    /* The partition is the task's: the caller sets msg_partition. */
    *m = (kc_message_t){
        q->qu_topic,       -1,       r->qr_offset,    r->qr_msg_ts,    p,
        r->qr_key_len,     p + klen, r->qr_value_len, p + klen + vlen, r->qr_headers_len,
        r->qr_header_count};
    *src = q->qu_src;
    *ts = r->qr_ts;
    return 1;
}

void sx_pg_pop(sx_pgroup_t *pg, int src)
{
    sx_pqueue_t *q = queue_of(pg, src);
    if (!q || q->qu_count == 0)
        return;
    q->qu_head += (size_t)head_of(q)->qr_size;
    q->qu_count--;
    pg->pg_buffered--;
    if (q->qu_count == 0) {
        q->qu_head = q->qu_buf.len = 0;
    } else if (q->qu_head > q->qu_buf.len / 2) {
        memmove(q->qu_buf.data, q->qu_buf.data + q->qu_head, q->qu_buf.len - q->qu_head);
        q->qu_buf.len -= q->qu_head;
        q->qu_head = 0;
    }
}

/* Kafka's PartitionGroup.readyToProcess: with max.task.idle.ms >= 0, every
 * empty input partition must be known to be caught up (its fetched lag 0;
 * an unknown lag or one above 0 means records are on their way) and to
 * have stayed empty for max.task.idle.ms (0: no wait beyond that) before
 * the task processes the others' records. */
int sx_pg_ready(sx_pgroup_t *pg, int64_t idle_ms, int64_t now_ms, sx_pg_lag_fn *lag, void *opaque,
                const char *task)
{
    if (pg->pg_buffered == 0) {
        /* Nothing to process, so nothing waits: the idle time of an empty
         * partition counts from when the task has records to process
         * (Kafka's deadlines also run while the task has none, so a burst
         * on one input after a quiet spell went ahead without waiting). */
        for (int i = 0; i < pg->pg_nqueues; i++)
            pg->pg_queues[i].qu_deadline = -1;
        return 0;
    }
    if (idle_ms < 0)
        return 1;
    int enforced = 0;
    for (int i = 0; i < pg->pg_nqueues; i++) {
        sx_pqueue_t *q = &pg->pg_queues[i];
        if (q->qu_count > 0) {
            q->qu_deadline = -1;
            continue;
        }
        if (lag(q->qu_topic, opaque) != 0) {
            q->qu_deadline = -1; /* data to fetch first (or its lag unknown yet) */
            return 0;
        }
        if (q->qu_deadline < 0)
            q->qu_deadline = now_ms + idle_ms;
        if (now_ms < q->qu_deadline)
            return 0;
        enforced = 1;
    }
    if (enforced && idle_ms > 0) {
        /* Kafka logs every enforced processing; here the first and then
         * every 1000th, as they may come once per record. */
        pg->pg_enforced++;
        if (pg->pg_enforced == 1 || pg->pg_enforced % 1000 == 0)
            EDDY_LOG_INFO("streams",
                          "task %s: processing although an input partition has no data after "
                          "max.task.idle.ms=%lld (records may be processed out of timestamp "
                          "order; %lld time(s) so far)",
                          task, (long long)idle_ms, (long long)pg->pg_enforced);
    }
    return 1;
}

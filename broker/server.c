/* The broker's network side on libuv: accept, frame, dispatch, write the
 * responses in request order, run blocking disk work (fsync, compaction,
 * file removal) on the thread pool, and stop cleanly.
 *
 * One loop thread owns every connection, topic and log. Requests on a
 * connection are answered in the order they came (PROTOCOL.md): each gets a
 * slot in the connection's queue, and slots leave the queue only from the
 * head, once done.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker/broker_int.h"
#include "broker/sasl.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"

#define READ_BUF_SIZE (64 * 1024)
#define TICK_MS 1000
#define GROUP_TICK_MS 100 /* session expiry and rebalance deadlines */
/* Response bytes a connection may hold in memory, unwritten, before it
 * stops reading: a client that does not read its responses holds at most
 * this much plus the one response that crossed it. Only bytes in memory
 * count: the records of a fetch response stay in their segment files and
 * are read CHUNK_MAX at a time as the socket takes them, so a fetch of
 * fetch.max.bytes costs its own few bytes plus one chunk. */
#define CONN_QUEUED_MAX (1024 * 1024)
/* File bytes read for one write. 256 KiB keeps a pread and a write per
 * chunk cheap beside the copying (measured: docs/broker.md) and is what a
 * connection streaming a large fetch holds. */
#define CHUNK_MAX (256 * 1024)
/* Requests a connection may have taken and not yet answered: one, Kafka's
 * rule (it mutes a channel after each request and unmutes it once the
 * answer is sent). A client that pipelines has its requests processed one
 * after another, and a request that waits (a long-polling Fetch, a held
 * JoinGroup) holds the ones behind it. Eddy's client therefore sends its
 * fetches on a connection of their own (docs/client.md). */
#define CONN_INFLIGHT_MAX 1
#define LOG_LIMIT_MS 10000 /* repeated connection-level lines: one per 10 s */
/* A stopping broker answers what is in flight, then closes each connection
 * once its responses are out; a client that never reads them would hold
 * the stop forever, so whatever is still open after this long is closed. */
#define STOP_GRACE_MS 5000
/* File descriptors the broker needs beside connections and segment files:
 * stdio, the loop's epoll and wakeups, signal pipes, the listener, libuv's
 * spare accept descriptor, directory scans. */
#define FD_RESERVE 16

static void conn_close(conn_t *c);
static void maybe_finish_stop(eddy_broker_t *b);
static void on_resume(uv_idle_t *h);
static void on_handle_closed(uv_handle_t *h);
struct write_req;
static int tls_write(conn_t *c, struct write_req *wq, const uv_buf_t *bufs, int n);
static void tls_on_read(conn_t *c, const uint8_t *p, size_t n);

/* ---- the request pool (queued.max.request.bytes) ---- */

/* Takes n bytes of the pool, or returns 0 when they are not there. The
 * configuration keeps every legal request no larger than the whole pool,
 * so a request always fits once the others are answered. */
static int pool_take(eddy_broker_t *b, size_t n)
{
    int64_t max = b->bk_cfg.queued_max_request_bytes;
    if (max >= 0 && b->bk_pool_used + (int64_t)n > max)
        return 0;
    b->bk_pool_used += (int64_t)n;
    return 1;
}

static void want_resume(eddy_broker_t *b)
{
    if (!b->bk_stopping && !uv_is_active((uv_handle_t *)&b->bk_resume) &&
        !uv_is_closing((uv_handle_t *)&b->bk_resume))
        uv_idle_start(&b->bk_resume, on_resume);
}

static void pool_release(eddy_broker_t *b, size_t n)
{
    b->bk_pool_used -= (int64_t)n;
    if (b->bk_pool_waiters > 0)
        want_resume(b);
}

/* ---- slots and ordered responses ---- */

int broker_resp_add_slice(req_slot_t *s, partition_t *p, log_slice_t *sl)
{
    if (s->rs_nparts == s->rs_parts_cap) {
        /* Bounded by the partitions the request names. */
        int cap = s->rs_parts_cap ? s->rs_parts_cap * 2 : 4;
        resp_part_t *np = realloc(s->rs_parts, (size_t)cap * sizeof *np);
        if (!np)
            return -ENOMEM;
        s->rs_parts = np;
        s->rs_parts_cap = cap;
    }
    resp_part_t *rp = &s->rs_parts[s->rs_nparts++];
    rp->rp_at = s->rs_resp.wr_len;
    rp->rp_sl = *sl;
    rp->rp_part = p;
    topic_hold(p->p_topic);
    s->rs_file_bytes += sl->sl_len;
    return 0;
}

static void part_release(resp_part_t *rp)
{
    if (!rp->rp_part)
        return;
    log_slice_release(rp->rp_part->p_log, &rp->rp_sl);
    topic_release(rp->rp_part->p_topic);
    rp->rp_part = NULL;
}

void broker_resp_drop_slices(req_slot_t *s)
{
    for (int i = 0; i < s->rs_nparts; i++)
        part_release(&s->rs_parts[i]);
    s->rs_nparts = 0;
    s->rs_file_bytes = 0;
}

static void slot_free(req_slot_t *s)
{
    broker_resp_drop_slices(s);
    free(s->rs_parts);
    arena_free(&s->rs_arena);
    arena_free(&s->rs_out);
    wr_free(&s->rs_resp);
    if (s->rs_frame)
        pool_release(s->rs_conn->c_broker, s->rs_frame_len);
    s->rs_conn->c_nslots--;
    free(s->rs_frame);
    free(s);
}

/* Whether the connection may take another request now: few enough taken
 * and unanswered, and few enough response bytes held in memory (handed to
 * uv_write, answered and waiting to be, or behind an unanswered request;
 * file slices count by the chunk they are read into, not their size). */
static int conn_room(const conn_t *c)
{
    if (c->c_closing || c->c_close_drained || c->c_broker->bk_stopping ||
        c->c_nslots >= CONN_INFLIGHT_MAX)
        return 0;
    size_t held = c->c_queued + c->c_chunk_cap;
    for (const req_slot_t *s = c->c_head; s; s = s->rs_next)
        if (s->rs_state == SLOT_DONE)
            held += s->rs_resp.wr_len;
    return held < CONN_QUEUED_MAX;
}

/* ... and is not waiting for pool memory. */
static int conn_may_read(const conn_t *c)
{
    return !c->c_pool_wait && conn_room(c);
}

/* The writer. One uv_write at a time per connection carries the next bytes
 * of as many answered responses at the head of the queue as are ready
 * (pipelining clients, librdkafka with linger.ms=0, get one writev per loop
 * pass, not a write per response). A response's own bytes are written from
 * where they are; its file slices are read into the connection's chunk
 * buffer, at most CHUNK_MAX per write, and the next chunk is read when the
 * socket has taken this one. A response leaves the queue once all of its
 * bytes are handed to uv_write (its buffer goes with the write). */
#define WRITE_BATCH 64
/* Chunk buffers are kept for reuse across connections (BROKER_CHUNK_POOL of
 * them): a fresh 256 KiB buffer per response would be faulted in afresh
 * each time (about 10% of bench_client's consume throughput). */

typedef struct write_req {
    uv_write_t wq_req;
    conn_t *wq_conn;
    size_t wq_len;
    size_t wq_mem; /* of wq_len, bytes in response buffers (c_queued) */
    int wq_n;
    uint8_t *wq_bytes[WRITE_BATCH]; /* buffers of the responses it finishes */
    uint8_t *wq_cipher;             /* TLS: the encrypted bytes being written, or NULL */
} write_req_t;

static void conn_flush_ready(conn_t *c);

static void chunk_put(conn_t *c)
{
    eddy_broker_t *b = c->c_broker;
    if (!c->c_chunk)
        return;
    if (b->bk_nchunks < BROKER_CHUNK_POOL)
        b->bk_chunks[b->bk_nchunks++] = c->c_chunk;
    else
        free(c->c_chunk);
    c->c_chunk = NULL;
    c->c_chunk_cap = 0;
}

static int chunk_get(conn_t *c)
{
    eddy_broker_t *b = c->c_broker;
    if (c->c_chunk)
        return 0;
    c->c_chunk = b->bk_nchunks > 0 ? b->bk_chunks[--b->bk_nchunks] : malloc(CHUNK_MAX);
    if (!c->c_chunk)
        return -ENOMEM;
    c->c_chunk_cap = CHUNK_MAX;
    return 0;
}

static void on_write(uv_write_t *w, int status)
{
    write_req_t *wq = (write_req_t *)w;
    conn_t *c = wq->wq_conn;
    for (int i = 0; i < wq->wq_n; i++)
        free(wq->wq_bytes[i]);
    free(wq->wq_cipher);
    c->c_queued -= wq->wq_mem;
    c->c_writes--;
    free(wq);
    if (c->c_closing)
        return;
    if (status < 0) {
        EDDY_LOG_DEBUG("broker", "%s: write failed: %s", c->c_peer, uv_strerror(status));
        conn_close(c);
        return;
    }
    c->c_active_ms = eddy_mono_ms();
    conn_flush_ready(c);
}

static int slot_ready(const req_slot_t *s)
{
    return s->rs_state == SLOT_DONE || s->rs_state == SLOT_SILENT;
}

/* A slice could not be read for a response already on its way: its length
 * was sent, so the only honest ending is to close the connection. */
static void chunk_failed(conn_t *c, const resp_part_t *rp, size_t off, int rc)
{
    static eddy_log_limit_t lim = EDDY_LOG_LIMIT_INIT;
    const partition_t *p = rp->rp_part;
    char why[160];
    if (rc == EDDY_ERR_TRUNCATED)
        snprintf(why, sizeof why, "the segment file ends before them (cut under the broker)");
    else
        snprintf(why, sizeof why, "%s (errno %d)", strerror(-rc), -rc);
    EDDY_LOG_LIMITED(EDDY_LOG_LVL_ERROR, "broker", &lim, LOG_LIMIT_MS,
                     "closing connection from %s: the records of %s-%d from offset %" PRId64
                     " could not be read at byte %" PRId64 " of their segment for a Fetch "
                     "response already being sent: %s",
                     c->c_peer, p->p_topic->t_name, p->p_index, rp->rp_sl.sl_first_offset,
                     rp->rp_sl.sl_pos + (int64_t)off, why);
    conn_close(c);
}

/* Adds the next pieces of response s, from byte c_wpos of it, to the write
 * being gathered. Returns 1 when all of s is in, 0 when the write is full,
 * -1 when the connection was closed. */
static int gather(conn_t *c, req_slot_t *s, uv_buf_t *bufs, int *n, size_t *used, write_req_t *wq)
{
    size_t pos = c->c_wpos;
    size_t total = s->rs_resp.wr_len + s->rs_file_bytes;
    if (pos == 0)
        be32_store(s->rs_resp.wr_buf, (uint32_t)(total - 4));
    /* The wire image: memory [0, at0), slice 0, memory [at0, at1), ...,
     * memory up to wr_len. wire and mem are where a piece starts. */
    size_t wire = 0, mem = 0;
    for (int i = 0; i <= s->rs_nparts; i++) {
        size_t mem_end = i < s->rs_nparts ? s->rs_parts[i].rp_at : s->rs_resp.wr_len;
        size_t mlen = mem_end - mem;
        if (pos < wire + mlen) {
            if (*n == WRITE_BATCH)
                break;
            size_t skip = pos - wire;
            bufs[(*n)++] = uv_buf_init((char *)s->rs_resp.wr_buf + mem + skip,
                                       (unsigned)(mlen - skip));
            wq->wq_len += mlen - skip;
            wq->wq_mem += mlen - skip;
            pos = wire + mlen;
        }
        wire += mlen;
        mem = mem_end;
        if (i == s->rs_nparts)
            break;
        resp_part_t *rp = &s->rs_parts[i];
        size_t flen = rp->rp_sl.sl_len;
        if (pos < wire + flen) {
            if (*n == WRITE_BATCH || *used == c->c_chunk_cap)
                break;
            size_t skip = pos - wire;
            size_t take = flen - skip;
            if (take > c->c_chunk_cap - *used)
                take = c->c_chunk_cap - *used;
            int rc = log_slice_pread(rp->rp_part->p_log, &rp->rp_sl, skip, c->c_chunk + *used,
                                     take);
            if (rc < 0) {
                chunk_failed(c, rp, skip, rc);
                return -1;
            }
            bufs[(*n)++] = uv_buf_init((char *)c->c_chunk + *used, (unsigned)take);
            *used += take;
            wq->wq_len += take;
            pos += take;
            if (pos < wire + flen)
                break;
            /* Read to its end: the segment may go. */
            part_release(rp);
        }
        wire += flen;
    }
    c->c_wpos = pos;
    return pos == total;
}

/* Hands the next bytes of the ready responses at the head of the queue to
 * one uv_write; responses handed over entirely leave the queue. */
static void conn_write_next(conn_t *c)
{
    /* A connection holds a chunk buffer only while file bytes wait. */
    int files = 0;
    for (req_slot_t *s = c->c_head; s && slot_ready(s) && !files; s = s->rs_next)
        files = s->rs_state == SLOT_DONE && s->rs_file_bytes > 0;
    if (!files)
        chunk_put(c);
    else if (chunk_get(c) < 0) {
        EDDY_LOG_WARN("broker", "%s: out of memory for a response; closing the connection",
                      c->c_peer);
        conn_close(c);
        return;
    }
    write_req_t *wq = NULL;
    uv_buf_t bufs[WRITE_BATCH];
    int n = 0;
    size_t used = 0;
    while (c->c_head && slot_ready(c->c_head)) {
        req_slot_t *s = c->c_head;
        if (s->rs_state == SLOT_DONE) {
            if (s->rs_resp.wr_err) {
                EDDY_LOG_WARN("broker",
                              "%s: cannot send a response (out of memory); closing "
                              "the connection",
                              c->c_peer);
                conn_close(c);
                break;
            }
            if (!wq && !(wq = calloc(1, sizeof *wq))) {
                EDDY_LOG_WARN("broker", "%s: cannot send a response; closing the connection",
                              c->c_peer);
                conn_close(c);
                break;
            }
            int rc = gather(c, s, bufs, &n, &used, wq);
            if (rc <= 0)
                break;
            /* All of it is handed over: its buffer goes with the write. */
            size_t len;
            wq->wq_bytes[wq->wq_n++] = wr_take(&s->rs_resp, &len);
            c->c_wpos = 0;
        }
        c->c_head = s->rs_next;
        if (!c->c_head)
            c->c_tail = NULL;
        slot_free(s);
    }
    if (c->c_closing) {
        if (wq) {
            for (int i = 0; i < wq->wq_n; i++)
                free(wq->wq_bytes[i]);
            free(wq);
        }
        return;
    }
    if (!wq)
        return;
    wq->wq_conn = c;
    int wrc = c->c_tls
                  ? tls_write(c, wq, bufs, n)
                  : uv_write(&wq->wq_req, (uv_stream_t *)&c->c_tcp, bufs, (unsigned)n, on_write);
    if (wrc < 0) {
        for (int i = 0; i < wq->wq_n; i++)
            free(wq->wq_bytes[i]);
        free(wq->wq_cipher);
        free(wq);
        EDDY_LOG_WARN("broker", "%s: cannot send a response; closing the connection", c->c_peer);
        conn_close(c);
        return;
    }
    c->c_writes++;
    c->c_queued += wq->wq_mem;
}

/* Writes what is ready at the head of the queue, in order, then lets a
 * muted connection read again if it now has room. */
static void conn_flush_ready(conn_t *c)
{
    if (c->c_closing)
        return;
    if (c->c_writes == 0)
        conn_write_next(c);
    if (c->c_closing)
        return;
    if ((c->c_broker->bk_stopping || c->c_close_drained) && !c->c_head && c->c_writes == 0)
        conn_close(c);
    else if ((c->c_in || !c->c_reading) && conn_may_read(c))
        want_resume(c->c_broker);
}

void broker_slot_done(req_slot_t *s)
{
    s->rs_state = SLOT_DONE;
    conn_flush_ready(s->rs_conn);
}

void broker_slot_defer(req_slot_t *s, broker_slot_gone_fn *gone, void *owner)
{
    s->rs_state = SLOT_WAITING;
    s->rs_gone = gone;
    s->rs_gone_owner = owner;
}

void broker_slot_answer(req_slot_t *s)
{
    /* Written out now only when no handler of its own is running: the
     * dispatcher still holds the one being dispatched. */
    if (s->rs_state == SLOT_WAITING && !s->rs_dispatching)
        broker_slot_done(s);
    else
        s->rs_state = SLOT_DONE;
}

/* ---- waiting fetches ---- */

static void fetch_timer_arm(eddy_broker_t *b);

static void waiting_remove(eddy_broker_t *b, req_slot_t *s)
{
    for (req_slot_t **pp = &b->bk_waiting; *pp; pp = &(*pp)->rs_wait_next)
        if (*pp == s) {
            *pp = s->rs_wait_next;
            s->rs_wait_next = NULL;
            return;
        }
}

void broker_wait_fetch(eddy_broker_t *b, req_slot_t *s)
{
    s->rs_state = SLOT_WAITING;
    s->rs_wait_next = b->bk_waiting;
    b->bk_waiting = s;
    fetch_timer_arm(b);
}

/* Answers waiting fetches that now have enough data (or, with force or past
 * their deadline, whatever there is). */
static void waiting_sweep(eddy_broker_t *b, int force)
{
    int64_t now = eddy_mono_ms();
    req_slot_t **pp = &b->bk_waiting;
    while (*pp) {
        req_slot_t *s = *pp;
        int due = force || now >= s->rs_deadline_ms;
        if (fetch_try_answer(b, s, due)) {
            *pp = s->rs_wait_next;
            s->rs_wait_next = NULL;
            conn_flush_ready(s->rs_conn);
        } else {
            pp = &s->rs_wait_next;
        }
    }
    fetch_timer_arm(b);
}

void broker_data_arrived(eddy_broker_t *b)
{
    if (b->bk_waiting)
        waiting_sweep(b, 0);
}

static void on_fetch_timer(uv_timer_t *t)
{
    waiting_sweep(t->data, 0);
}

static void fetch_timer_arm(eddy_broker_t *b)
{
    if (b->bk_stopping)
        return;
    int64_t earliest = INT64_MAX;
    for (req_slot_t *s = b->bk_waiting; s; s = s->rs_wait_next)
        if (s->rs_deadline_ms < earliest)
            earliest = s->rs_deadline_ms;
    if (earliest == INT64_MAX) {
        uv_timer_stop(&b->bk_fetch_timer);
        return;
    }
    int64_t wait = earliest - eddy_mono_ms();
    uv_timer_start(&b->bk_fetch_timer, on_fetch_timer, (uint64_t)(wait > 0 ? wait : 0), 0);
}

/* ---- connections ---- */

static void on_conn_closed(uv_handle_t *h)
{
    conn_t *c = h->data;
    eddy_broker_t *b = c->c_broker;
    while (c->c_head) {
        req_slot_t *s = c->c_head;
        c->c_head = s->rs_next;
        slot_free(s);
    }
    if (c->c_fr.fr_buf)
        pool_release(b, c->c_fr.fr_len);
    free(wire_frame_drop(&c->c_fr));
    free(c->c_in);
    chunk_put(c);
    broker_sasl_conn_free(c);
    eddy_tls_destroy(c->c_tls);
    free(c);
    maybe_finish_stop(b);
}

static void conn_close(conn_t *c)
{
    if (c->c_closing)
        return;
    c->c_closing = 1;
    eddy_broker_t *b = c->c_broker;
    for (req_slot_t *s = c->c_head; s; s = s->rs_next) {
        if (s->rs_state != SLOT_WAITING)
            continue;
        if (s->rs_gone)
            s->rs_gone(s->rs_gone_owner, s);
        else if (s->rs_wait_create)
            broker_create_slot_gone(b, s);
        else
            waiting_remove(b, s);
    }
    if (c->c_prev)
        c->c_prev->c_next = c->c_next;
    else
        b->bk_conns = c->c_next;
    if (c->c_next)
        c->c_next->c_prev = c->c_prev;
    b->bk_nconns--;
    if (c->c_pool_wait) {
        c->c_pool_wait = 0;
        b->bk_pool_waiters--;
    }
    c->c_reading = 0;
    uv_read_stop((uv_stream_t *)&c->c_tcp);
    uv_close((uv_handle_t *)&c->c_tcp, on_conn_closed);
}

void broker_conn_close(conn_t *c)
{
    conn_close(c);
}

static void respond_unsupported(req_slot_t *s)
{
    /* An ApiVersions request the broker cannot parse gets a v0 body with
     * UNSUPPORTED_VERSION and the supported ranges (the client retries
     * with v0); any other API gets just the error code. */
    if (s->rs_hdr.RequestApiKey == API_API_VERSIONS) {
        ApiVersionsResponse r = {KERR_UNSUPPORTED_VERSION, broker_api_versions,
                                 broker_api_versions_count, 0};
        wire_api_versions_resp_encode(&s->rs_resp, 0, &r);
    } else {
        wr_i16(&s->rs_resp, KERR_UNSUPPORTED_VERSION);
    }
    s->rs_state = SLOT_DONE;
}

static int dispatch(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    switch (s->rs_hdr.RequestApiKey) {
    case API_API_VERSIONS: return handle_api_versions(b, s, rd);
    case API_METADATA: return handle_metadata(b, s, rd);
    case API_PRODUCE: return handle_produce(b, s, rd);
    case API_FETCH: return handle_fetch(b, s, rd);
    case API_LIST_OFFSETS: return handle_list_offsets(b, s, rd);
    case API_CREATE_TOPICS: return handle_create_topics(b, s, rd);
    case API_DELETE_TOPICS: return handle_delete_topics(b, s, rd);
    case API_DESCRIBE_CONFIGS: return handle_describe_configs(b, s, rd);
    case API_ALTER_CONFIGS: return handle_alter_configs(b, s, rd);
    case API_INCREMENTAL_ALTER_CONFIGS: return handle_incremental_alter_configs(b, s, rd);
    case API_DELETE_RECORDS: return handle_delete_records(b, s, rd);
    case API_INIT_PRODUCER_ID: return handle_init_producer_id(b, s, rd);
    case API_WRITE_TXN_MARKERS: return handle_write_txn_markers(b, s, rd);
    case API_FIND_COORDINATOR: return handle_find_coordinator(b, s, rd);
    case API_JOIN_GROUP: return handle_join_group(b, s, rd);
    case API_SYNC_GROUP: return handle_sync_group(b, s, rd);
    case API_HEARTBEAT: return handle_heartbeat(b, s, rd);
    case API_LEAVE_GROUP: return handle_leave_group(b, s, rd);
    case API_OFFSET_COMMIT: return handle_offset_commit(b, s, rd);
    case API_OFFSET_FETCH: return handle_offset_fetch(b, s, rd);
    case API_TXN_OFFSET_COMMIT: return handle_txn_offset_commit(b, s, rd);
    case API_DESCRIBE_GROUPS: return handle_describe_groups(b, s, rd);
    case API_LIST_GROUPS: return handle_list_groups(b, s, rd);
    case API_DELETE_GROUPS: return handle_delete_groups(b, s, rd);
    case API_OFFSET_DELETE: return handle_offset_delete(b, s, rd);
    case API_CREATE_PARTITIONS: return handle_create_partitions(b, s, rd);
    case API_DESCRIBE_CLUSTER: return handle_describe_cluster(b, s, rd);
    case API_DESCRIBE_ACLS: return handle_describe_acls(b, s, rd);
    case API_CREATE_ACLS: return handle_create_acls(b, s, rd);
    case API_DELETE_ACLS: return handle_delete_acls(b, s, rd);
    case API_SASL_HANDSHAKE: return handle_sasl_handshake(b, s, rd);
    case API_SASL_AUTHENTICATE: return handle_sasl_authenticate(b, s, rd);
    case API_DESCRIBE_USER_SCRAM_CREDENTIALS:
        return handle_describe_user_scram_credentials(b, s, rd);
    case API_ALTER_USER_SCRAM_CREDENTIALS: return handle_alter_user_scram_credentials(b, s, rd);
    case API_DESCRIBE_CLIENT_QUOTAS: return handle_describe_client_quotas(b, s, rd);
    case API_ADD_PARTITIONS_TO_TXN: return handle_add_partitions_to_txn(b, s, rd);
    case API_ADD_OFFSETS_TO_TXN: return handle_add_offsets_to_txn(b, s, rd);
    case API_END_TXN: return handle_end_txn(b, s, rd);
    case API_DESCRIBE_TRANSACTIONS: return handle_describe_transactions(b, s, rd);
    case API_LIST_TRANSACTIONS: return handle_list_transactions(b, s, rd);
    default: respond_unsupported(s); return 0;
    }
}

/* A request the connection may not make before its SASL login closes it
 * unanswered, as Kafka does: nothing of it is decoded or kept. */
static void conn_refuse_unauthenticated(conn_t *c, const RequestHeader *h)
{
    static eddy_log_limit_t lim = EDDY_LOG_LIMIT_INIT;
    EDDY_LOG_LIMITED(EDDY_LOG_LVL_WARN, "broker", &lim, LOG_LIMIT_MS,
                     "closing connection from %s on listener %s: %s v%d before the SASL login "
                     "(only ApiVersions, SaslHandshake and SaslAuthenticate are served until "
                     "then)",
                     c->c_peer, c->c_listener ? c->c_listener->bl_cfg->lc_name : "?",
                     kafka_api_name(h->RequestApiKey), h->RequestApiVersion);
    conn_close(c);
}

/* Takes ownership of frame. Returns -1 when the connection was closed. */
static int conn_request(conn_t *c, uint8_t *frame, size_t len)
{
    eddy_broker_t *b = c->c_broker;
    req_slot_t *s = calloc(1, sizeof *s);
    if (!s) {
        pool_release(b, len);
        free(frame);
        conn_close(c);
        return -1;
    }
    s->rs_conn = c;
    s->rs_frame = frame;
    s->rs_frame_len = len;
    /* Decoded arrays cost at most a small multiple of the bytes that carry
     * them; the limit stops a request from asking for more. */
    arena_init(&s->rs_arena, len * 16 + 65536);
    arena_init(&s->rs_out, 0);
    wr_init(&s->rs_resp);
    if (c->c_tail)
        c->c_tail->rs_next = s;
    else
        c->c_head = s;
    c->c_tail = s;
    c->c_requests++;
    c->c_nslots++;

    if (broker_sasl_raw_expected(c)) {
        /* After SaslHandshake v0: a bare SASL token, no request header. */
        wr_reserve(&s->rs_resp, 4);
        broker_sasl_raw_token(b, s);
        conn_flush_ready(c);
        return c->c_closing ? -1 : 0;
    }
    eddy_rd_t rd;
    rd_init(&rd, frame, len);
    int rc = wire_request_header_decode(&rd, &s->rs_hdr);
    if (rc < 0) {
        static eddy_log_limit_t lim = EDDY_LOG_LIMIT_INIT;
        EDDY_LOG_LIMITED(EDDY_LOG_LVL_WARN, "broker", &lim, LOG_LIMIT_MS,
                         "closing connection from %s: malformed request header (%s)", c->c_peer,
                         eddy_strerror(rc));
        conn_close(c);
        return -1;
    }
    if (!broker_sasl_may_serve(c, s->rs_hdr.RequestApiKey)) {
        conn_refuse_unauthenticated(c, &s->rs_hdr);
        return -1;
    }
    wr_reserve(&s->rs_resp, 4); /* the size, set when sent */
    wire_response_header_encode(&s->rs_resp, &s->rs_hdr);
    if (!broker_api_supported(s->rs_hdr.RequestApiKey, s->rs_hdr.RequestApiVersion)) {
        EDDY_LOG_INFO("broker", "%s: %s v%d is not supported: UNSUPPORTED_VERSION", c->c_peer,
                      kafka_api_name(s->rs_hdr.RequestApiKey), s->rs_hdr.RequestApiVersion);
        respond_unsupported(s);
    } else {
        /* A handler that answers its own slot (broker_slot_answer) leaves
         * the writing to the conn_flush_ready below. */
        s->rs_dispatching = 1;
        rc = dispatch(b, s, &rd);
        s->rs_dispatching = 0;
        if (rc < 0) {
            static eddy_log_limit_t lim = EDDY_LOG_LIMIT_INIT;
            EDDY_LOG_LIMITED(EDDY_LOG_LVL_WARN, "broker", &lim, LOG_LIMIT_MS,
                             "closing connection from %s: malformed %s v%d request (%s)", c->c_peer,
                             kafka_api_name(s->rs_hdr.RequestApiKey), s->rs_hdr.RequestApiVersion,
                             eddy_strerror(rc));
            conn_close(c);
            return -1;
        }
    }
    conn_flush_ready(c);
    return c->c_closing ? -1 : 0;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    buf->base = malloc(READ_BUF_SIZE);
    buf->len = buf->base ? READ_BUF_SIZE : 0;
}

/* Allocates the frame being read from the pool, or parks the connection
 * until memory is released. Returns 1 when reading may go on. */
static int frame_begin(conn_t *c, size_t size)
{
    eddy_broker_t *b = c->c_broker;
    if (!pool_take(b, size)) {
        if (!c->c_pool_wait)
            b->bk_pool_waiters++;
        c->c_pool_wait = size;
        return 0;
    }
    if (c->c_pool_wait) {
        c->c_pool_wait = 0;
        b->bk_pool_waiters--;
    }
    uint8_t *buf = malloc(size);
    if (!buf) {
        pool_release(b, size);
        conn_close(c);
        return 0;
    }
    wire_frame_begin(&c->c_fr, buf);
    c->c_frame_start_ms = eddy_mono_ms();
    return 1;
}

/* Frames requests out of p[0..n) while the connection may take them.
 * Returns the bytes consumed; fewer than n when it was muted or closed. */
static size_t conn_consume(conn_t *c, const uint8_t *p, size_t n)
{
    size_t n0 = n;
    while (n > 0 && conn_may_read(c)) {
        if (!wire_frame_started(&c->c_fr))
            c->c_frame_start_ms = eddy_mono_ms();
        int ev;
        const char *limit_name;
        int32_t max = broker_sasl_frame_max(c, &limit_name);
        /* A bare SASL token (after SaslHandshake v0) may be shorter than a header. */
        int32_t min = broker_sasl_raw_expected(c) ? 1 : 8;
        size_t used = wire_frame_feed(&c->c_fr, p, n, min, max, &ev);
        p += used;
        n -= used;
        if (ev == WIRE_FRAME_BAD_SIZE) {
            static eddy_log_limit_t lim = EDDY_LOG_LIMIT_INIT;
            /* A TLS ClientHello opens with 0x16 0x03: read as a size, far too large. */
            int tls_hello = c->c_requests == 0 && ((uint32_t)c->c_fr.fr_size >> 16) == 0x1603;
            EDDY_LOG_LIMITED(EDDY_LOG_LVL_WARN, "broker", &lim, LOG_LIMIT_MS,
                             "closing connection from %s: request size %d is outside "
                             "[%d, %d] (%s)%s",
                             c->c_peer, c->c_fr.fr_size, min, max, limit_name,
                             tls_hello ? "; it looks like a TLS handshake: a TLS client on a "
                                         "plaintext listener?"
                                       : "");
            conn_close(c);
            break;
        }
        if (ev == WIRE_FRAME_SIZED) {
            if (!frame_begin(c, c->c_fr.fr_len))
                break;
        } else if (ev == WIRE_FRAME_DONE) {
            size_t len;
            uint8_t *frame = wire_frame_take(&c->c_fr, &len);
            if (conn_request(c, frame, len) < 0)
                break;
        }
    }
    return n0 - n;
}

/* Bytes read but not yet taken. A muted connection keeps reading until it
 * holds IN_MAX of them, so that a client that closes while its request waits
 * (a long-polling fetch, a held JoinGroup) is noticed at once. */
#define IN_MAX READ_BUF_SIZE

static size_t in_backlog(const conn_t *c)
{
    return c->c_in ? c->c_in_len - c->c_in_off : 0;
}

static int in_append(conn_t *c, const uint8_t *p, size_t n)
{
    size_t have = in_backlog(c);
    uint8_t *nb = malloc(have + n);
    if (!nb)
        return -1;
    if (have)
        memcpy(nb, c->c_in + c->c_in_off, have);
    memcpy(nb + have, p, n);
    free(c->c_in);
    c->c_in = nb;
    c->c_in_off = 0;
    c->c_in_len = have + n;
    return 0;
}

static void conn_resume(conn_t *c);

/* Request bytes (plaintext) that came in: framed at once while the
 * connection may take requests, else kept in the backlog. */
static void conn_take(conn_t *c, const uint8_t *p, size_t n)
{
    size_t used = c->c_in ? 0 : conn_consume(c, p, n);
    if (!c->c_closing && used < n && in_append(c, p + used, n - used) < 0)
        conn_close(c);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    conn_t *c = st->data;
    if (nread < 0) {
        if (nread != UV_EOF)
            EDDY_LOG_DEBUG("broker", "%s: read: %s", c->c_peer, uv_strerror((int)nread));
        free(buf->base);
        conn_close(c);
        return;
    }
    if (nread > 0)
        c->c_active_ms = eddy_mono_ms();
    if (c->c_tls)
        tls_on_read(c, (const uint8_t *)buf->base, (size_t)nread);
    else
        conn_take(c, (const uint8_t *)buf->base, (size_t)nread);
    free(buf->base);
    if (c->c_closing)
        return;
    if (c->c_in && conn_may_read(c))
        conn_resume(c);
    if (!c->c_closing && c->c_reading && in_backlog(c) >= IN_MAX) {
        /* Muted with a full backlog: the rest waits in the socket. */
        uv_read_stop((uv_stream_t *)&c->c_tcp);
        c->c_reading = 0;
    }
}

/* Takes what a muted connection may now take: first the bytes it kept,
 * then, with room in the backlog, the socket again. */
static void conn_resume(conn_t *c)
{
    eddy_broker_t *b = c->c_broker;
    if (c->c_pool_wait && !c->c_fr.fr_buf) {
        if (!frame_begin(c, c->c_pool_wait))
            return;
    }
    if (c->c_in) {
        size_t used = conn_consume(c, c->c_in + c->c_in_off, c->c_in_len - c->c_in_off);
        if (c->c_closing)
            return;
        c->c_in_off += used;
        if (c->c_in_off == c->c_in_len) {
            free(c->c_in);
            c->c_in = NULL;
        }
    }
    if (!c->c_reading && !b->bk_stopping && in_backlog(c) < IN_MAX) {
        if (uv_read_start((uv_stream_t *)&c->c_tcp, on_alloc, on_read) == 0)
            c->c_reading = 1;
        else
            conn_close(c);
    }
}

/* Runs once the loop is between callbacks: muted connections whose
 * requests were answered, whose writes drained or whose frame now fits in
 * the pool read again. */
static void on_resume(uv_idle_t *h)
{
    eddy_broker_t *b = h->data;
    uv_idle_stop(h);
    conn_t *c = b->bk_conns;
    while (c) {
        conn_t *next = c->c_next;
        if (!c->c_closing &&
            (c->c_pool_wait ? conn_room(c) : (c->c_in || !c->c_reading) && conn_may_read(c)))
            conn_resume(c);
        c = next;
    }
}

/* Whether a request of the connection is being processed. Answered
 * responses waiting for the client to read them do not count: a client
 * that stops reading is idle. */
static int conn_processing(const conn_t *c)
{
    for (const req_slot_t *s = c->c_head; s; s = s->rs_next)
        if (!slot_ready(s))
            return 1;
    return 0;
}

/* Once a second: a frame that has not arrived within
 * socket.request.timeout.ms, and a connection with nothing in flight and
 * no traffic for connections.max.idle.ms, are closed. A connection waiting
 * for pool memory is waiting on the broker, not idle. */
static void conns_expire(eddy_broker_t *b)
{
    int64_t now = eddy_mono_ms();
    int64_t idle_ms = b->bk_cfg.connections_max_idle_ms;
    conn_t *c = b->bk_conns;
    while (c) {
        conn_t *next = c->c_next;
        if (c->c_pool_wait) {
            /* not timed */
        } else if (c->c_tls && !eddy_tls_is_open(c->c_tls) &&
                   now - c->c_accept_ms >= b->bk_cfg.socket_request_timeout_ms) {
            /* Kafka bounds a handshake only by connections.max.idle.ms; a
             * client that trickles handshake bytes would hold a connection
             * that long, so it gets a request's bound instead. */
            static eddy_log_limit_t lim = EDDY_LOG_LIMIT_INIT;
            EDDY_LOG_LIMITED(EDDY_LOG_LVL_WARN, "broker", &lim, LOG_LIMIT_MS,
                             "closing connection from %s on listener %s: the TLS handshake did "
                             "not finish within socket.request.timeout.ms (%" PRId64 " ms)",
                             c->c_peer, c->c_listener->bl_cfg->lc_name,
                             b->bk_cfg.socket_request_timeout_ms);
            conn_close(c);
        } else if (wire_frame_started(&c->c_fr) &&
                   now - c->c_frame_start_ms >= b->bk_cfg.socket_request_timeout_ms) {
            static eddy_log_limit_t lim = EDDY_LOG_LIMIT_INIT;
            EDDY_LOG_LIMITED(EDDY_LOG_LVL_WARN, "broker", &lim, LOG_LIMIT_MS,
                             "closing connection from %s: a request of %zu bytes did not "
                             "arrive within socket.request.timeout.ms (%" PRId64 " ms; %zu "
                             "bytes came)",
                             c->c_peer, c->c_fr.fr_len, b->bk_cfg.socket_request_timeout_ms,
                             c->c_fr.fr_got);
            conn_close(c);
        } else if (idle_ms >= 0 && !conn_processing(c) && now - c->c_active_ms >= idle_ms) {
            EDDY_LOG_DEBUG("broker",
                           "closing connection from %s: idle for %" PRId64
                           " ms (connections.max.idle.ms)",
                           c->c_peer, now - c->c_active_ms);
            conn_close(c);
        }
        c = next;
    }
}

static int conns_from(const eddy_broker_t *b, const char *ip)
{
    int n = 0;
    for (const conn_t *c = b->bk_conns; c; c = c->c_next)
        if (strcmp(c->c_ip, ip) == 0)
            n++;
    return n;
}

/* The open-file budget: segment files (the fd cache, log.max.open.files),
 * connections, and FD_RESERVE for the broker itself (the loop's own
 * descriptors, index and checkpoint files being written, the workers'
 * flushes and removals). Under a limit too low for log.max.open.files the
 * cache gets half of what the limit leaves, instead of leaving room for one
 * connection, which no client with more than one connection could use. */
static void fd_budget(eddy_broker_t *b)
{
    struct rlimit rl;
    b->bk_nofile = -1;
    b->bk_fd_conns = INT32_MAX;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur >= (rlim_t)INT32_MAX)
        return;
    b->bk_nofile = (int)rl.rlim_cur;
    int64_t usable = (int64_t)rl.rlim_cur - FD_RESERVE;
    if (b->bk_cfg.log_max_open_files > usable / 2) {
        int32_t cache = usable / 2 > 8 ? (int32_t)(usable / 2) : 8;
        EDDY_LOG_WARN("broker",
                      "the open-file limit (ulimit -n %d) is low for log.max.open.files=%d: "
                      "keeping at most %d segment files open instead, so that connections fit; "
                      "raise the limit",
                      b->bk_nofile, b->bk_cfg.log_max_open_files, cache);
        b->bk_cfg.log_max_open_files = cache;
    }
    int64_t room = usable - b->bk_cfg.log_max_open_files;
    if (room < 1) {
        EDDY_LOG_WARN("broker",
                      "the open-file limit (ulimit -n %d) leaves no room for connections "
                      "beside log.max.open.files (%d); allowing one: raise the limit",
                      b->bk_nofile, b->bk_cfg.log_max_open_files);
        room = 1;
    }
    b->bk_fd_conns = (int)room;
}

/* Whether the connection's listener asks for a SASL login. */
static int conn_wants_sasl(const conn_t *c)
{
    broker_secproto_t p = conn_secproto(c);
    return p == BROKER_SEC_SASL_PLAINTEXT || p == BROKER_SEC_SASL_SSL;
}

/* A client accepted on listener l (fd, non-blocking). */
static void on_connection(broker_listener_t *l, int fd)
{
    eddy_broker_t *b = l->bl_broker;
    conn_t *c = b->bk_stopping ? NULL : calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return;
    }
    c->c_broker = b;
    c->c_listener = l;
    snprintf(c->c_principal, sizeof c->c_principal, "User:ANONYMOUS");
    if (broker_sasl_conn_open(c, conn_wants_sasl(c)) < 0) {
        free(c);
        close(fd);
        return;
    }
    uv_tcp_init(&b->bk_loop, &c->c_tcp);
    c->c_tcp.data = c;
    if (uv_tcp_open(&c->c_tcp, fd) < 0) {
        close(fd);
        c->c_closing = 1;
        uv_close((uv_handle_t *)&c->c_tcp, on_conn_closed);
        return;
    }
    uv_tcp_nodelay(&c->c_tcp, 1);
    struct sockaddr_storage ss;
    int sl = sizeof ss;
    snprintf(c->c_peer, sizeof c->c_peer, "?");
    if (uv_tcp_getpeername(&c->c_tcp, (struct sockaddr *)&ss, &sl) == 0) {
        char ip[64] = "?";
        int port = 0;
        if (ss.ss_family == AF_INET) {
            uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof ip);
            port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof ip);
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        }
        snprintf(c->c_peer, sizeof c->c_peer, "%.63s:%d", ip, port);
        snprintf(c->c_ip, sizeof c->c_ip, "%s", ip);
    }
    char why[200] = "";
    if (b->bk_nconns >= b->bk_fd_conns) {
        /* Refused before the descriptors run out, so that accept keeps
         * working and segment files can still be opened. */
        snprintf(why, sizeof why,
                 "the open-file limit (ulimit -n %d, less log.max.open.files %d and %d for the "
                 "broker itself) leaves room for %d connections",
                 b->bk_nofile, b->bk_cfg.log_max_open_files, FD_RESERVE, b->bk_fd_conns);
    } else if (b->bk_nconns >= b->bk_cfg.max_connections) {
        snprintf(why, sizeof why, "max.connections (%d) reached", b->bk_cfg.max_connections);
    } else if (b->bk_cfg.max_connections_per_ip < INT32_MAX &&
               conns_from(b, c->c_ip) >= b->bk_cfg.max_connections_per_ip) {
        snprintf(why, sizeof why, "max.connections.per.ip (%d) reached",
                 b->bk_cfg.max_connections_per_ip);
    }
    if (why[0]) {
        static eddy_log_limit_t lim = EDDY_LOG_LIMIT_INIT;
        EDDY_LOG_LIMITED(EDDY_LOG_LVL_WARN, "broker", &lim, LOG_LIMIT_MS,
                         "refusing connection from %s: %s", c->c_peer, why);
        c->c_closing = 1;
        uv_close((uv_handle_t *)&c->c_tcp, on_conn_closed);
        return;
    }
    c->c_active_ms = c->c_accept_ms = eddy_mono_ms();
    if (l->bl_tls) {
        char err[256];
        c->c_tls = eddy_tls_new(l->bl_tls, NULL, err, sizeof err);
        if (!c->c_tls) {
            static eddy_log_limit_t lim = EDDY_LOG_LIMIT_INIT;
            EDDY_LOG_LIMITED(EDDY_LOG_LVL_WARN, "broker", &lim, LOG_LIMIT_MS,
                             "refusing connection from %s: %s", c->c_peer, err);
            c->c_closing = 1;
            uv_close((uv_handle_t *)&c->c_tcp, on_conn_closed);
            return;
        }
    }
    b->bk_nconns++;
    c->c_next = b->bk_conns;
    if (b->bk_conns)
        b->bk_conns->c_prev = c;
    b->bk_conns = c;
    if (uv_read_start((uv_stream_t *)&c->c_tcp, on_alloc, on_read) == 0)
        c->c_reading = 1;
    else
        conn_close(c);
}

/* Accepts the waiting clients. The broker accepts itself rather than through
 * uv_listen because libuv, when accept fails with EMFILE/ENFILE, closes the
 * waiting connections with its own spare descriptor and does not tell its
 * caller: the clients would see resets and the operator nothing. Here the
 * same is done with bk_spare_fd (given up, the waiting clients accepted and
 * closed so that the listener does not spin, then taken back), and logged. */
#define ACCEPT_BATCH 64 /* then the loop serves others before accepting more */
static void on_listener_readable(uv_poll_t *p, int status, int events)
{
    (void)events;
    broker_listener_t *l = p->data;
    eddy_broker_t *b = l->bl_broker;
    uv_os_fd_t lfd;
    if (status < 0 || uv_fileno((uv_handle_t *)&l->bl_tcp, &lfd) < 0)
        return;
    for (int i = 0; i < ACCEPT_BATCH && !b->bk_stopping; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            on_connection(l, fd);
            continue;
        }
        int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK)
            return;
        if (err == EINTR || err == ECONNABORTED)
            continue;
        int64_t dropped = 0, drained = 0;
        if ((err == EMFILE || err == ENFILE) && b->bk_spare_fd < 0)
            b->bk_spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if ((err == EMFILE || err == ENFILE) && b->bk_spare_fd >= 0) {
            drained = 1;
            close(b->bk_spare_fd);
            int cfd;
            while ((cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0 || errno == EINTR ||
                   errno == ECONNABORTED) {
                if (cfd >= 0) {
                    close(cfd);
                    dropped++;
                }
            }
            b->bk_spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
            /* accept takes a descriptor before it looks at the queue, so
             * EMFILE comes with no client waiting too: nobody was lost. */
            if (dropped == 0)
                return;
        }
        static eddy_log_limit_t lim = EDDY_LOG_LIMIT_INIT;
        EDDY_LOG_LIMITED(EDDY_LOG_LVL_ERROR, "broker", &lim, LOG_LIMIT_MS,
                         "cannot accept a connection on listener %s: %s%s (%" PRId64
                         " waiting client(s) closed)",
                         l->bl_cfg->lc_name, strerror(err),
                         err == EMFILE || err == ENFILE
                             ? "; the open-file limit is too low for this many clients: raise "
                               "ulimit -n, or set max.connections below it"
                             : "",
                         dropped);
        if (!drained) {
            /* The clients stay queued and the socket readable: rather than
             * spin, accept again at the next tick (listeners_resume). */
            uv_poll_stop(p);
            l->bl_paused = 1;
        }
        return;
    }
}

/* Listeners paused by an accept error poll again (once a second, on_tick). */
static void listeners_resume(eddy_broker_t *b)
{
    if (b->bk_stopping)
        return;
    for (int i = 0; i < b->bk_nlisteners; i++) {
        broker_listener_t *l = &b->bk_listeners[i];
        if (l->bl_paused && uv_poll_start(&l->bl_poll, UV_READABLE, on_listener_readable) == 0)
            l->bl_paused = 0;
    }
}

/* ---- TLS (SSL and SASL_SSL listeners) ----
 *
 * The engine (common/tls.h) turns bytes into bytes; the connection keeps its
 * socket and its request path. Ciphertext read is fed to the engine, and the
 * plaintext it gives goes to conn_take as a plain connection's bytes would;
 * the writer's gathered pieces (response bytes and file chunks alike) are
 * encrypted into one buffer per uv_write. The file bytes of a fetch are read
 * into the chunk buffer either way, so TLS costs the encryption and a copy.
 *
 *   accept --ClientHello..Finished (tls_on_read, tls_flush)--> open --requests-->
 *      \--not TLS / bad certificate / garbage (tls_failed)--> closed, one log line
 *      \--not open within socket.request.timeout.ms (conns_expire)--> closed
 */

/* The engine's output for the peer (handshake messages, alerts) on its way.
 * Returns -1 when the connection was closed. */
static int tls_flush(conn_t *c)
{
    size_t pending = eddy_tls_out_pending(c->c_tls);
    if (!pending)
        return 0;
    write_req_t *wq = calloc(1, sizeof *wq);
    uint8_t *out = malloc(pending);
    if (!wq || !out) {
        free(wq);
        free(out);
        conn_close(c);
        return -1;
    }
    size_t len = eddy_tls_out_take(c->c_tls, out, pending);
    wq->wq_conn = c;
    wq->wq_cipher = out;
    wq->wq_len = len;
    uv_buf_t b = uv_buf_init((char *)out, (unsigned)len);
    if (uv_write(&wq->wq_req, (uv_stream_t *)&c->c_tcp, &b, 1, on_write) < 0) {
        free(out);
        free(wq);
        conn_close(c);
        return -1;
    }
    c->c_writes++;
    return 0;
}

/* The handshake failed or the session broke: one line (per kind, rate-limited)
 * naming the peer and why, the alert sent if the socket takes it at once,
 * and the connection closed. A client that does not speak TLS at all (a
 * plaintext client on a TLS port) gets its own line. */
static void tls_failed(conn_t *c)
{
    static eddy_log_limit_t lim_plain = EDDY_LOG_LIMIT_INIT, lim = EDDY_LOG_LIMIT_INIT;
    const char *why = eddy_tls_errstr(c->c_tls);
    int plain = strstr(why, "does not speak TLS") != NULL;
    EDDY_LOG_LIMITED(EDDY_LOG_LVL_WARN, "broker", plain ? &lim_plain : &lim, LOG_LIMIT_MS,
                     "closing connection from %s on listener %s (%s): %s", c->c_peer,
                     c->c_listener->bl_cfg->lc_name,
                     broker_secproto_names[c->c_listener->bl_cfg->lc_proto],
                     why[0] ? why : "TLS failed");
    uint8_t alert[512];
    size_t n = eddy_tls_out_take(c->c_tls, alert, sizeof alert);
    if (n > 0) {
        uv_buf_t b = uv_buf_init((char *)alert, (unsigned)n);
        uv_try_write((uv_stream_t *)&c->c_tcp, &b, 1);
    }
    conn_close(c);
}

/* The handshake is complete: a client certificate names the principal,
 * "User:" + its subject in RFC 2253 form (Kafka's default
 * ssl.principal.mapping.rules), as Kafka's SslPrincipalMapper does. */
static void tls_opened(conn_t *c)
{
    char subject[sizeof c->c_principal - 5];
    int n = eddy_tls_peer_subject(c->c_tls, subject, sizeof subject);
    if (n > 0) {
        snprintf(c->c_principal, sizeof c->c_principal, "User:%s", subject);
        static eddy_log_limit_t lim = EDDY_LOG_LIMIT_INIT;
        EDDY_LOG_LIMITED(EDDY_LOG_LVL_INFO, "broker", &lim, LOG_LIMIT_MS,
                         "%s on listener %s: TLS client certificate accepted, principal %s (%s)",
                         c->c_peer, c->c_listener->bl_cfg->lc_name, c->c_principal,
                         eddy_tls_version(c->c_tls));
    } else if (n == -ENOSPC) {
        /* A subject longer than a principal holds names no one: refuse it
         * rather than act for a truncated name. */
        static eddy_log_limit_t lim = EDDY_LOG_LIMIT_INIT;
        EDDY_LOG_LIMITED(EDDY_LOG_LVL_WARN, "broker", &lim, LOG_LIMIT_MS,
                         "closing connection from %s: its certificate's subject is longer "
                         "than %zu bytes",
                         c->c_peer, sizeof subject - 1);
        conn_close(c);
        return;
    } else {
        EDDY_LOG_DEBUG("broker", "%s on listener %s: TLS open (%s, %s), no client certificate",
                       c->c_peer, c->c_listener->bl_cfg->lc_name, eddy_tls_version(c->c_tls),
                       eddy_tls_cipher(c->c_tls));
    }
}

/* Ciphertext read from the socket: fed to the engine (which holds at most
 * EDDY_TLS_IN_MAX of it), the handshake driven, and the plaintext taken as
 * request bytes. The plaintext of one read is at most the ciphertext read,
 * so the backlog stays bounded as on a plain connection. */
static void tls_on_read(conn_t *c, const uint8_t *p, size_t n)
{
    uint8_t plain[16384]; /* one TLS record */
    while (!c->c_closing) {
        ssize_t fed = n ? eddy_tls_feed(c->c_tls, p, n) : 0;
        if (fed < 0) {
            tls_failed(c);
            return;
        }
        p += fed;
        n -= (size_t)fed;
        if (!eddy_tls_is_open(c->c_tls)) {
            int h = eddy_tls_handshake(c->c_tls);
            if (h < 0) {
                tls_failed(c);
                return;
            }
            if (tls_flush(c) < 0)
                return;
            if (h > 0) {
                if (n == 0)
                    return;
                if (fed == 0) { /* the engine is full and the handshake still wants more */
                    tls_failed(c);
                    return;
                }
                continue;
            }
            tls_opened(c);
            if (c->c_closing)
                return;
        }
        size_t got = 0;
        for (;;) {
            ssize_t r = eddy_tls_read(c->c_tls, plain, sizeof plain);
            if (r == 0)
                break;
            if (r == -EPIPE) { /* close_notify: the client is done */
                conn_close(c);
                return;
            }
            if (r < 0) {
                tls_failed(c);
                return;
            }
            got += (size_t)r;
            conn_take(c, plain, (size_t)r);
            if (c->c_closing)
                return;
        }
        if (tls_flush(c) < 0)
            return;
        if (n == 0)
            return;
        if (fed == 0 && got == 0) {
            /* Full of ciphertext that makes no record: cannot happen with a
             * TLS peer (a record is at most 16 KiB + 256). */
            tls_failed(c);
            return;
        }
    }
}

/* The writer's pieces for one uv_write, encrypted into one buffer (wq owns
 * it). Returns uv_write's result, or -1. */
static int tls_write(conn_t *c, write_req_t *wq, const uv_buf_t *bufs, int n)
{
    size_t in = 0;
    for (int i = 0; i < n; i++)
        in += bufs[i].len;
    /* A record adds at most 29 bytes (TLS 1.2 GCM) per 16 KiB. */
    size_t cap = in + in / 256 + 1024 + eddy_tls_out_pending(c->c_tls);
    uint8_t *out = malloc(cap);
    if (!out)
        return -1;
    size_t len = 0;
    for (int i = 0; i <= n; i++) {
        size_t off = 0, blen = i < n ? bufs[i].len : 0;
        do {
            if (off < blen) {
                ssize_t w = eddy_tls_write(c->c_tls, bufs[i].base + off, blen - off);
                if (w <= 0 && eddy_tls_out_pending(c->c_tls) == 0) {
                    free(out);
                    return -1;
                }
                off += (size_t)(w > 0 ? w : 0);
            }
            size_t pending = eddy_tls_out_pending(c->c_tls);
            if (len + pending > cap) {
                size_t ncap = (len + pending) * 5 / 4;
                uint8_t *no = realloc(out, ncap);
                if (!no) {
                    free(out);
                    return -1;
                }
                out = no;
                cap = ncap;
            }
            len += eddy_tls_out_take(c->c_tls, out + len, pending);
        } while (off < blen);
    }
    wq->wq_cipher = out;
    uv_buf_t b = uv_buf_init((char *)out, (unsigned)len);
    return uv_write(&wq->wq_req, (uv_stream_t *)&c->c_tcp, &b, 1, on_write);
}

/* ---- listeners ---- */

/* Whether this broker serves a listener's security protocol. */
static int secproto_served(broker_secproto_t p, const char **why)
{
    switch (p) {
    case BROKER_SEC_PLAINTEXT: return 1;
    case BROKER_SEC_SSL: return 1;
    case BROKER_SEC_SASL_PLAINTEXT: return 1;
    case BROKER_SEC_SASL_SSL: return 1;
    }
    *why = "unknown security protocol";
    return 0;
}

/* The address a listener's clients are told: advertised.listeners, or else
 * the bound address; a listener on every interface advertises the host's
 * name, since 0.0.0.0 reaches nothing. */
static void listener_advertise(broker_listener_t *l)
{
    const broker_listener_cfg_t *lc = l->bl_cfg;
    const char *h = lc->lc_adv_host[0] ? lc->lc_adv_host : lc->lc_host;
    if (!h[0] || strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0) {
        char name[256];
        if (gethostname(name, sizeof name) == 0) {
            name[sizeof name - 1] = 0;
            snprintf(l->bl_adv_host, sizeof l->bl_adv_host, "%s", name);
        } else {
            snprintf(l->bl_adv_host, sizeof l->bl_adv_host, "localhost");
        }
    } else {
        snprintf(l->bl_adv_host, sizeof l->bl_adv_host, "%s", h);
    }
    l->bl_adv_port = lc->lc_adv_port && lc->lc_adv_host[0] ? lc->lc_adv_port : l->bl_port;
}

static int listener_bind(broker_listener_t *l, char *errstr, size_t errstr_size)
{
    const broker_listener_cfg_t *lc = l->bl_cfg;
    struct sockaddr_storage addr;
    int rc;
    if (!lc->lc_host[0])
        rc = uv_ip4_addr("0.0.0.0", lc->lc_port, (struct sockaddr_in *)&addr);
    else if ((rc = uv_ip4_addr(lc->lc_host, lc->lc_port, (struct sockaddr_in *)&addr)) < 0)
        rc = uv_ip6_addr(lc->lc_host, lc->lc_port, (struct sockaddr_in6 *)&addr);
    if (rc == 0)
        rc = uv_tcp_bind(&l->bl_tcp, (struct sockaddr *)&addr, 0);
    uv_os_fd_t lfd = -1;
    if (rc == 0)
        rc = uv_fileno((uv_handle_t *)&l->bl_tcp, &lfd);
    if (rc == 0 && listen(lfd, 511) < 0)
        rc = uv_translate_sys_error(errno);
    if (rc == 0)
        rc = uv_poll_init_socket(&l->bl_broker->bk_loop, &l->bl_poll, lfd);
    if (rc == 0) {
        l->bl_poll.data = l;
        l->bl_polling = 1;
        rc = uv_poll_start(&l->bl_poll, UV_READABLE, on_listener_readable);
    }
    if (rc < 0) {
        snprintf(errstr, errstr_size, "listeners: cannot listen on %s:%d (listener %s): %s",
                 lc->lc_host[0] ? lc->lc_host : "0.0.0.0", lc->lc_port, lc->lc_name,
                 uv_strerror(rc));
        return EDDY_ERR_CONFIG;
    }
    int alen = sizeof addr;
    uv_tcp_getsockname(&l->bl_tcp, (struct sockaddr *)&addr, &alen);
    l->bl_port = addr.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&addr)->sin6_port)
                                            : ntohs(((struct sockaddr_in *)&addr)->sin_port);
    listener_advertise(l);
    return 0;
}

/* Binds every listener, in listeners' order. On failure the ones opened are
 * left for listeners_close. */
static int listeners_open(eddy_broker_t *b, const eddy_props_t *props, char *errstr,
                          size_t errstr_size)
{
    int n = b->bk_cfg.nlisteners;
    /* Opened before the listeners, so it is there when the limit is reached. */
    b->bk_spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    b->bk_listeners = calloc((size_t)n, sizeof *b->bk_listeners);
    if (!b->bk_listeners) {
        snprintf(errstr, errstr_size, "out of memory");
        return -ENOMEM;
    }
    b->bk_nlisteners = n;
    for (int i = 0; i < n; i++) {
        broker_listener_t *l = &b->bk_listeners[i];
        l->bl_broker = b;
        l->bl_cfg = &b->bk_cfg.listener_list[i];
        const char *why = NULL;
        if (!secproto_served(l->bl_cfg->lc_proto, &why)) {
            snprintf(errstr, errstr_size, "listeners: listener %s is %s: %s", l->bl_cfg->lc_name,
                     broker_secproto_names[l->bl_cfg->lc_proto], why);
            return EDDY_ERR_CONFIG;
        }
        if (l->bl_cfg->lc_proto == BROKER_SEC_SSL || l->bl_cfg->lc_proto == BROKER_SEC_SASL_SSL) {
            l->bl_tls = broker_listener_tls_ctx(l->bl_cfg, props, errstr, errstr_size);
            if (!l->bl_tls)
                return EDDY_ERR_CONFIG;
        }
        uv_tcp_init(&b->bk_loop, &l->bl_tcp);
        l->bl_tcp.data = l;
        l->bl_open = 1;
        int rc = listener_bind(l, errstr, errstr_size);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void listeners_free(eddy_broker_t *b)
{
    for (int i = 0; i < b->bk_nlisteners; i++)
        eddy_tls_ctx_destroy(b->bk_listeners[i].bl_tls);
    if (b->bk_spare_fd >= 0)
        close(b->bk_spare_fd);
    b->bk_spare_fd = -1;
    free(b->bk_listeners);
    b->bk_listeners = NULL;
}

static void listeners_close(eddy_broker_t *b)
{
    for (int i = 0; i < b->bk_nlisteners; i++) {
        broker_listener_t *l = &b->bk_listeners[i];
        /* The poll handle first: it watches bl_tcp's socket. */
        if (l->bl_polling && !uv_is_closing((uv_handle_t *)&l->bl_poll))
            uv_close((uv_handle_t *)&l->bl_poll, on_handle_closed);
        if (l->bl_open && !uv_is_closing((uv_handle_t *)&l->bl_tcp))
            uv_close((uv_handle_t *)&l->bl_tcp, on_handle_closed);
    }
}

/* The first line keeps its form ("node N listening on HOST:PORT, ...") for
 * the scripts and tests that read the port of a broker started on port 0;
 * each listener then gets a line of its own. */
static void listeners_log(eddy_broker_t *b)
{
    const broker_listener_t *l0 = &b->bk_listeners[0];
    EDDY_LOG_INFO("broker", "node %d listening on %s:%d, advertising %s:%d, data in %s",
                  b->bk_cfg.broker_id, l0->bl_cfg->lc_host[0] ? l0->bl_cfg->lc_host : "0.0.0.0",
                  l0->bl_port, l0->bl_adv_host, l0->bl_adv_port, b->bk_cfg.log_dirs);
    for (int i = 0; i < b->bk_nlisteners; i++) {
        const broker_listener_t *l = &b->bk_listeners[i];
        EDDY_LOG_INFO("broker", "listener %s (%s) on %s:%d, advertising %s:%d", l->bl_cfg->lc_name,
                      broker_secproto_names[l->bl_cfg->lc_proto],
                      l->bl_cfg->lc_host[0] ? l->bl_cfg->lc_host : "0.0.0.0", l->bl_port,
                      l->bl_adv_host, l->bl_adv_port);
    }
}

/* ---- background work on the thread pool ---- */

static void flush_start_queued(eddy_broker_t *b);

typedef struct flush_work {
    uv_work_t fw_req;
    eddy_broker_t *fw_broker;
    partition_t *fw_part;
    log_flush_req_t *fw_flush;
    int fw_rc;
} flush_work_t;

static void flush_run(uv_work_t *w)
{
    flush_work_t *fw = w->data;
    fw->fw_rc = log_flush_sync(fw->fw_flush);
}

static void flush_after(uv_work_t *w, int status)
{
    flush_work_t *fw = w->data;
    partition_t *p = fw->fw_part;
    eddy_broker_t *b = fw->fw_broker;
    log_flush_complete(p->p_log, fw->fw_flush, status < 0 ? status : fw->fw_rc);
    p->p_flush_running = 0;
    b->bk_flushes_running--;
    b->bk_work_inflight--;
    int again = p->p_flush_again && !p->p_topic->t_deleted;
    p->p_flush_again = 0;
    topic_release(p->p_topic);
    free(fw);
    flush_start_queued(b);
    if (again)
        broker_flush_partition(b, p);
    maybe_finish_stop(b);
}

/* Flushes on the pool at once: as many as it has threads. A flush pins
 * its segments' descriptors from prepare to completion, so 10,000
 * partitions due together would otherwise hold 10,000 descriptors while
 * they wait for a thread, past the fd cache's bound and the open-file limit
 * (and fail for want of one). The others wait in a queue, in order. */
#define FLUSH_MAX_RUNNING 4

static void flush_start_queued(eddy_broker_t *b)
{
    while (b->bk_flush_head && b->bk_flushes_running < FLUSH_MAX_RUNNING) {
        partition_t *p = b->bk_flush_head;
        b->bk_flush_head = p->p_flush_next;
        if (!b->bk_flush_head)
            b->bk_flush_tail = NULL;
        p->p_flush_next = NULL;
        p->p_flush_queued = 0;
        b->bk_work_inflight--;
        if (!p->p_topic->t_deleted)
            broker_flush_partition(b, p);
        topic_release(p->p_topic);
    }
}

void broker_flush_partition(eddy_broker_t *b, partition_t *p)
{
    if (p->p_flush_running) {
        p->p_flush_again = 1;
        return;
    }
    if (p->p_flush_queued)
        return;
    if (b->bk_flushes_running >= FLUSH_MAX_RUNNING) {
        p->p_flush_queued = 1;
        topic_hold(p->p_topic);
        b->bk_work_inflight++; /* a stop waits for it as for a running one */
        if (b->bk_flush_tail)
            b->bk_flush_tail->p_flush_next = p;
        else
            b->bk_flush_head = p;
        b->bk_flush_tail = p;
        return;
    }
    log_flush_req_t *req = log_flush_prepare(p->p_log);
    if (!req)
        return;
    flush_work_t *fw = calloc(1, sizeof *fw);
    if (!fw) {
        log_flush_complete(p->p_log, req, -ENOMEM);
        return;
    }
    fw->fw_req.data = fw;
    fw->fw_broker = b;
    fw->fw_part = p;
    fw->fw_flush = req;
    p->p_flush_running = 1;
    b->bk_flushes_running++;
    topic_hold(p->p_topic);
    b->bk_work_inflight++;
    uv_queue_work(&b->bk_loop, &fw->fw_req, flush_run, flush_after);
}

typedef struct remove_work {
    uv_work_t rw_req;
    eddy_broker_t *rw_broker;
    int rw_tree;
    char rw_path[];
} remove_work_t;

static void remove_run(uv_work_t *w)
{
    remove_work_t *rw = w->data;
    if (rw->rw_tree)
        topics_remove_tree(rw->rw_path);
    else if (unlink(rw->rw_path) < 0)
        EDDY_LOG_WARN("broker", "cannot remove %s: %s", rw->rw_path, strerror(errno));
}

static void remove_after(uv_work_t *w, int status)
{
    (void)status;
    remove_work_t *rw = w->data;
    rw->rw_broker->bk_work_inflight--;
    eddy_broker_t *b = rw->rw_broker;
    free(rw);
    maybe_finish_stop(b);
}

static void remove_later(eddy_broker_t *b, const char *path, int tree)
{
    size_t n = strlen(path) + 1;
    remove_work_t *rw = malloc(sizeof *rw + n);
    if (!rw) {
        if (tree)
            topics_remove_tree(path);
        else
            unlink(path);
        return;
    }
    rw->rw_req.data = rw;
    rw->rw_broker = b;
    rw->rw_tree = tree;
    memcpy(rw->rw_path, path, n);
    b->bk_work_inflight++;
    uv_queue_work(&b->bk_loop, &rw->rw_req, remove_run, remove_after);
}

static void segment_deleter(const char *path, void *opaque)
{
    remove_later(opaque, path, 0);
}

void broker_delete_dir_later(const char *dir, void *opaque)
{
    remove_later(opaque, dir, 1);
}

typedef struct clean_work {
    uv_work_t cw_req;
    eddy_broker_t *cw_broker;
    partition_t *cw_part;
    log_clean_job_t *cw_job;
    int cw_rc;
} clean_work_t;

static void clean_run(uv_work_t *w)
{
    clean_work_t *cw = w->data;
    cw->cw_rc = log_clean_run(cw->cw_job);
}

static void clean_after(uv_work_t *w, int status)
{
    clean_work_t *cw = w->data;
    eddy_broker_t *b = cw->cw_broker;
    partition_t *p = cw->cw_part;
    if (status == 0 && cw->cw_rc == 0 && !p->p_topic->t_deleted) {
        int rc = log_clean_commit(p->p_log, cw->cw_job);
        if (rc < 0 && rc != EDDY_ERR_STALE)
            EDDY_LOG_WARN("broker", "%s-%d: compaction failed: %s", p->p_topic->t_name, p->p_index,
                          eddy_strerror(rc));
    } else if (cw->cw_rc < 0 && cw->cw_rc != EDDY_ERR_STALE) {
        EDDY_LOG_WARN("broker", "%s-%d: compaction failed: %s", p->p_topic->t_name, p->p_index,
                      eddy_strerror(cw->cw_rc));
    }
    log_clean_job_free(cw->cw_job);
    topic_release(p->p_topic);
    b->bk_cleaning = 0;
    b->bk_work_inflight--;
    free(cw);
    maybe_finish_stop(b);
}

/* Starts at most one compaction: the first compacted partition with
 * enough dirty data, round-robin from where the last search stopped. */
static void clean_next(eddy_broker_t *b, int64_t now)
{
    int next_topic = b->bk_clean_next;
    topic_registry_t *tr = &b->bk_topics;
    for (int k = 0; k < tr->tr_count; k++) {
        topic_t *t = tr->tr_topics[(next_topic + k) % tr->tr_count];
        if (!(t->t_cfg.cleanup_policy & LOG_CLEANUP_COMPACT))
            continue;
        for (int32_t i = 0; i < t->t_npartitions; i++) {
            log_clean_job_t *job = log_clean_prepare(t->t_parts[i]->p_log, now, 0);
            if (!job)
                continue;
            clean_work_t *cw = calloc(1, sizeof *cw);
            if (!cw) {
                log_clean_job_free(job);
                return;
            }
            cw->cw_req.data = cw;
            cw->cw_broker = b;
            cw->cw_part = t->t_parts[i];
            cw->cw_job = job;
            topic_hold(t);
            b->bk_cleaning = 1;
            b->bk_work_inflight++;
            b->bk_clean_next = (next_topic + k + 1) % tr->tr_count;
            uv_queue_work(&b->bk_loop, &cw->cw_req, clean_run, clean_after);
            return;
        }
    }
}

/* Once a second: flush.ms, retention, compaction. */
static void on_tick(uv_timer_t *t)
{
    eddy_broker_t *b = t->data;
    int64_t now = eddy_wall_ms();
    topic_registry_t *tr = &b->bk_topics;
    int retention = now - b->bk_last_retention_ms >= b->bk_cfg.log_retention_check_interval_ms;
    if (retention)
        b->bk_last_retention_ms = now;
    int pid_expiry = now - b->bk_last_pid_expiry_ms >=
                     b->bk_cfg.producer_id_expiration_check_interval_ms;
    if (pid_expiry)
        b->bk_last_pid_expiry_ms = now;
    for (int i = 0; i < tr->tr_count; i++) {
        topic_t *tp = tr->tr_topics[i];
        for (int32_t p = 0; p < tp->t_npartitions; p++) {
            partition_t *part = tp->t_parts[p];
            if (log_flush_due(part->p_log, now))
                broker_flush_partition(b, part);
            int deleted;
            if (retention)
                log_retention_run(part->p_log, now, &deleted);
            if (pid_expiry)
                log_producers_expire(part->p_log, now, b->bk_cfg.producer_id_expiration_ms);
        }
    }
    conns_expire(b);
    listeners_resume(b);
    if (b->bk_cfg.log_cleaner_enable && !b->bk_cleaning &&
        now - b->bk_last_clean_ms >= b->bk_cfg.log_cleaner_backoff_ms) {
        b->bk_last_clean_ms = now;
        clean_next(b, now);
    }
}

static void on_group_timer(uv_timer_t *t)
{
    eddy_broker_t *b = t->data;
    group_coordinator_tick(b->bk_groups, eddy_mono_ms());
    txn_coordinator_tick(b->bk_txns, eddy_wall_ms());
    broker_sasl_tick(b, eddy_mono_ms());
}

/* ---- life cycle ---- */

static void on_handle_closed(uv_handle_t *h)
{
    (void)h;
}

static void maybe_finish_stop(eddy_broker_t *b)
{
    if (!b->bk_stopping || b->bk_conns || b->bk_work_inflight)
        return;
    if (!uv_is_closing((uv_handle_t *)&b->bk_tick)) {
        uv_close((uv_handle_t *)&b->bk_tick, on_handle_closed);
        uv_close((uv_handle_t *)&b->bk_fetch_timer, on_handle_closed);
        uv_close((uv_handle_t *)&b->bk_group_timer, on_handle_closed);
        uv_close((uv_handle_t *)&b->bk_resume, on_handle_closed);
        uv_close((uv_handle_t *)&b->bk_stop_async, on_handle_closed);
        if (b->bk_handle_signals) {
            uv_close((uv_handle_t *)&b->bk_sigterm, on_handle_closed);
            uv_close((uv_handle_t *)&b->bk_sigint, on_handle_closed);
        }
    }
}

void broker_work_done(eddy_broker_t *b)
{
    b->bk_work_inflight--;
    maybe_finish_stop(b);
}

/* The stop's grace period is over: close what is still open. */
static void on_stop_grace(uv_timer_t *t)
{
    eddy_broker_t *b = t->data;
    int n = 0;
    while (b->bk_conns) {
        conn_close(b->bk_conns);
        n++;
    }
    if (n)
        EDDY_LOG_WARN("broker",
                      "stopping: closed %d connection(s) whose responses were not read within "
                      "%d ms",
                      n, STOP_GRACE_MS);
    maybe_finish_stop(b);
}

static void begin_stop(eddy_broker_t *b)
{
    if (b->bk_stopping)
        return;
    EDDY_LOG_INFO("broker", "stopping: no new connections, answering what is in flight");
    b->bk_stopping = 1;
    listeners_close(b);
    uv_timer_stop(&b->bk_tick);
    uv_timer_stop(&b->bk_group_timer);
    waiting_sweep(b, 1);
    uv_timer_stop(&b->bk_fetch_timer);
    /* Stop reading; close each connection once its responses are out. */
    conn_t *c = b->bk_conns;
    while (c) {
        conn_t *next = c->c_next;
        c->c_reading = 0;
        uv_read_stop((uv_stream_t *)&c->c_tcp);
        if (!c->c_head && c->c_writes == 0)
            conn_close(c);
        c = next;
    }
    /* The group timer's work ended with the stop: it times the grace now. */
    if (b->bk_conns)
        uv_timer_start(&b->bk_group_timer, on_stop_grace, STOP_GRACE_MS, 0);
    maybe_finish_stop(b);
}

static void on_stop_async(uv_async_t *a)
{
    begin_stop(a->data);
}

static void on_signal(uv_signal_t *s, int signum)
{
    EDDY_LOG_INFO("broker", "received %s", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    begin_stop(s->data);
}

eddy_broker_t *eddy_broker_new(const eddy_props_t *props, char *errstr, size_t errstr_size)
{
    eddy_broker_t *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    if (broker_config_load(&b->bk_cfg, props, errstr, errstr_size) < 0) {
        broker_config_free(&b->bk_cfg);
        free(b);
        return NULL;
    }
    int lvl = eddy_log_level_parse(b->bk_cfg.log_level);
    if (lvl < 0) {
        snprintf(errstr, errstr_size, "log.level: '%s' is not error, warn, info or debug",
                 b->bk_cfg.log_level);
        goto fail_cfg;
    }
    eddy_log_level = lvl;
    if (broker_dynamic_load(b, props, errstr, errstr_size) < 0)
        goto fail_cfg;
    uv_loop_init(&b->bk_loop);
    if (listeners_open(b, props, errstr, errstr_size) < 0)
        goto fail_loop;
    fd_budget(b);
    b->bk_fdc = log_fdcache_new(b->bk_cfg.log_max_open_files);
    if (!b->bk_fdc)
        goto fail_loop;
    log_fdcache_set_deleter(b->bk_fdc, segment_deleter, b);
    log_config_t defaults;
    broker_topic_defaults(&b->bk_cfg, &defaults);
    if (topics_open(&b->bk_topics, b->bk_cfg.log_dirs, &defaults, b->bk_fdc, b->bk_cfg.broker_id,
                    errstr, errstr_size) < 0)
        goto fail_topics;
    if (broker_pids_open(&b->bk_pids, b->bk_cfg.log_dirs, errstr, errstr_size) < 0)
        goto fail_topics;
    if (broker_acl_open(b, errstr, errstr_size) < 0)
        goto fail_topics;
    if (broker_sasl_open(b, errstr, errstr_size) < 0)
        goto fail_topics;
    if (group_coordinator_open(b, &b->bk_groups, errstr, errstr_size) < 0)
        goto fail_topics;
    if (txn_coordinator_open(b, &b->bk_txns, errstr, errstr_size) < 0) {
        group_coordinator_close(b->bk_groups);
        goto fail_topics;
    }
    uv_timer_init(&b->bk_loop, &b->bk_tick);
    uv_timer_init(&b->bk_loop, &b->bk_fetch_timer);
    uv_timer_init(&b->bk_loop, &b->bk_group_timer);
    uv_idle_init(&b->bk_loop, &b->bk_resume);
    b->bk_resume.data = b;
    uv_async_init(&b->bk_loop, &b->bk_stop_async, on_stop_async);
    b->bk_tick.data = b->bk_fetch_timer.data = b->bk_stop_async.data = b->bk_group_timer.data = b;
    b->bk_last_retention_ms = b->bk_last_clean_ms = b->bk_last_pid_expiry_ms = eddy_wall_ms();
    listeners_log(b);
    return b;
fail_topics:
    acl_close(b->bk_acl);
    broker_sasl_close(b);
    broker_pids_close(&b->bk_pids);
    topics_close(&b->bk_topics);
    log_fdcache_destroy(b->bk_fdc);
fail_loop:
    listeners_close(b);
    uv_run(&b->bk_loop, UV_RUN_DEFAULT);
    uv_loop_close(&b->bk_loop);
    listeners_free(b);
fail_cfg:
    broker_dynamic_free(b);
    broker_config_free(&b->bk_cfg);
    free(b);
    return NULL;
}

int eddy_broker_run(eddy_broker_t *b, int handle_signals)
{
    b->bk_handle_signals = handle_signals;
    if (handle_signals) {
        uv_signal_init(&b->bk_loop, &b->bk_sigterm);
        uv_signal_init(&b->bk_loop, &b->bk_sigint);
        b->bk_sigterm.data = b->bk_sigint.data = b;
        uv_signal_start(&b->bk_sigterm, on_signal, SIGTERM);
        uv_signal_start(&b->bk_sigint, on_signal, SIGINT);
        signal(SIGPIPE, SIG_IGN);
    }
    uv_timer_start(&b->bk_tick, on_tick, TICK_MS, TICK_MS);
    uv_timer_start(&b->bk_group_timer, on_group_timer, GROUP_TICK_MS, GROUP_TICK_MS);
    uv_run(&b->bk_loop, UV_RUN_DEFAULT);
    /* Everything in flight is done: flush, write indexes and the
     * clean-shutdown markers. */
    txn_coordinator_close(b->bk_txns);
    b->bk_txns = NULL;
    group_coordinator_close(b->bk_groups);
    b->bk_groups = NULL;
    int rc = topics_close(&b->bk_topics);
    b->bk_topics_closed = 1;
    EDDY_LOG_INFO("broker", "stopped %s", rc == 0 ? "cleanly" : "with errors");
    return rc;
}

void eddy_broker_stop(eddy_broker_t *b)
{
    uv_async_send(&b->bk_stop_async);
}

int eddy_broker_port(const eddy_broker_t *b)
{
    return b->bk_listeners[0].bl_port;
}

void eddy_broker_destroy(eddy_broker_t *b)
{
    if (!b)
        return;
    if (!b->bk_topics_closed) {
        /* Never ran: close what new opened. */
        b->bk_stopping = 1;
        listeners_close(b);
        maybe_finish_stop(b);
        uv_run(&b->bk_loop, UV_RUN_DEFAULT);
        txn_coordinator_close(b->bk_txns);
        group_coordinator_close(b->bk_groups);
        topics_close(&b->bk_topics);
    }
    uv_run(&b->bk_loop, UV_RUN_DEFAULT);
    uv_loop_close(&b->bk_loop);
    listeners_free(b);
    while (b->bk_nchunks > 0)
        free(b->bk_chunks[--b->bk_nchunks]);
    log_fdcache_destroy(b->bk_fdc);
    broker_pids_close(&b->bk_pids);
    acl_close(b->bk_acl);
    broker_sasl_close(b);
    broker_dynamic_free(b);
    broker_config_free(&b->bk_cfg);
    free(b);
}

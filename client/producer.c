/* The producer (see producer.h).
 *
 * A record goes: kc_produce -> the open batch of its partition -> (full,
 * or linger.ms passed, or flush) closed, on the partition's ready queue ->
 * one Produce request per leader, one batch per partition per request,
 * at most max.in.flight.requests.per.connection requests per partition ->
 * delivery callbacks with base offset + index. Retriable errors (leader
 * moved, connection lost) put the batch back at the head of its queue and
 * refresh the metadata, until retries or delivery.timeout.ms run out.
 * Records for a topic whose metadata is not known yet wait, copied, until
 * it is.
 *
 * Idempotence (enable.idempotence, Kafka's producer ids and sequence
 * numbers; see "Idempotent producer" in docs/client.md). Before its first
 * batch the producer asks any broker for a producer id (InitProducerId).
 * A batch gets its (id, epoch, base sequence) when it is first sent, in
 * its partition's order, and keeps them through every retry, so that the
 * broker recognises a batch it already appended; a split batch's parts
 * share their parent's range. Each partition numbers its batches under
 * one generation (an id and epoch):
 *
 *          first batch                        first outstanding batch refused
 *   (none) ----------> numbered under gen g   (OUT_OF_ORDER_SEQUENCE_NUMBER,
 *                         |        ^           UNKNOWN_PRODUCER_ID,
 *                         |        |           INVALID_PRODUCER_EPOCH)
 *                         v        |                     |
 *                       RESET: nothing sent until the partition has no
 *                       request in flight, then a new id is asked for and
 *                       the outstanding batches are numbered again from 0
 *
 * Renumbering is safe only then: every batch before the refused one is
 * acknowledged or reported failed, the broker appends a producer's batches
 * in sequence order, so neither the refused batch nor any after it is in
 * the log. A refusal of a later batch (an earlier one is being retried)
 * is retried as it is. A partition still on an older generation finishes
 * its outstanding batches under it before it moves to the current one.
 */
#include "client/producer.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_int.h"
#include "client/partitioner.h"
#include "client/txn_wire.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "wire/client_api.h"

typedef struct kc_ptopic kc_ptopic_t;

/* A topic's metadata refresh in flight. It can outlive its topic: the
 * producer may be destroyed before the answer, which then finds pmd_topic
 * NULL and only frees this. */
typedef struct kc_pmd {
    kc_ptopic_t *pmd_topic;
} kc_pmd_t;

typedef struct kc_pbatch {
    struct kc_pbatch *pb_next;
    kc_ptopic_t *pb_topic;
    int32_t pb_partition;
    eddy_wr_t pb_wr;
    wire_batch_builder_t pb_b;
    int32_t pb_count;
    void **pb_opaques;
    int32_t pb_cap;
    int64_t pb_created_ms;
    int64_t pb_deadline_ms; /* delivery.timeout.ms from the first record */
    int pb_attempts;
    int64_t pb_retry_at_ms; /* a retried batch waits retry.backoff.ms (Kafka's producer) */
    int16_t pb_last_err;
    /* Its place in the partition's order: batches are numbered as they
     * open, and the parts of a split batch share its number (pb_part: their
     * order). A batch that goes back to the queue goes back to its place. */
    int64_t pb_seq;
    int32_t pb_part;
    /* Idempotence: the base sequence stamped in the batch (-1: none yet). */
    int32_t pb_base_seq;
} kc_pbatch_t;

/* Kafka's limit for an idempotent producer: the broker keeps the last 5
 * batches of each producer per partition to recognise a retry. */
#define IDEM_MAX_INFLIGHT 5

typedef struct kc_ppart {
    kc_pbatch_t *pp_open;
    kc_pbatch_t *pp_ready, *pp_ready_tail;
    int pp_inflight;
    int64_t pp_next_seq;
    /* Idempotence: the generation (p_gen) the partition numbers under (0:
     * none yet), its next base sequence, the batches in flight (to tell
     * whether a refused batch is the first outstanding one), and a reset
     * asked for. */
    int64_t pp_gen;
    int32_t pp_next_base_seq;
    kc_pbatch_t *pp_sent[IDEM_MAX_INFLIGHT];
    int pp_reset;
    /* Transactions: whether the partition is in the open transaction
     * (AddPartitionsToTxn answered), being added, or not yet. */
    enum { TP_OUT, TP_ADDING, TP_IN } pp_txn;
} kc_ppart_t;

typedef struct kc_pending {
    struct kc_pending *pn_next;
    int32_t pn_partition;
    int32_t pn_key_len, pn_value_len;
    int64_t pn_timestamp;
    void *pn_opaque;
    int64_t pn_deadline_ms;
    uint8_t *pn_key, *pn_value;
    wire_header_t *pn_headers;
    int32_t pn_nheaders;
    kc_partition_fn *pn_partitioner;
    void *pn_partitioner_opaque;
} kc_pending_t;

struct kc_ptopic {
    kc_ptopic_t *pt_next;
    char *pt_name;
    int32_t pt_npartitions; /* 0: metadata not known yet */
    kc_ppart_t *pt_parts;
    int32_t *pt_available; /* partitions with a leader */
    int32_t pt_navailable;
    partitioner_sticky_t pt_sticky;
    kc_pending_t *pt_pending, *pt_pending_tail;
    kc_pmd_t *pt_md; /* its metadata refresh in flight, or NULL */
};

struct kc_producer {
    kc_client_t *p_client;
    kc_delivery_fn *p_dr;
    kc_ptopic_t *p_topics;
    int64_t p_outstanding;
    void *p_opaque; /* the application's (kc_producer_set_opaque) */
    int16_t p_acks;
    int p_codec, p_level; /* compression.type and its level (kc_config_compression) */
    uv_timer_t p_timer; /* linger and metadata retries */
    int p_timer_open;
    int p_requests;  /* Produce and InitProducerId requests awaiting an answer */
    int p_closing;   /* destroyed: freed when the last request returns */
    /* Idempotence: on, set explicitly (enable.idempotence in the
     * properties), the producer id and epoch in use and their generation
     * (counts ids received), and what the next id is waited for. */
    int p_idem, p_idem_explicit;
    enum { PID_NONE, PID_REQUESTING, PID_READY, PID_FAILED } p_pid_state;
    int64_t p_pid;
    int16_t p_epoch;
    int64_t p_gen;
    int64_t p_pid_retry_at_ms;
    int64_t p_pid_failing_since_ms; /* retriable InitProducerId failures since (0: none) */
    int p_pid_fail_err;
    int16_t p_pid_fail_kerr; /* the broker's error for that refusal (0: none) */
    /* Transactions (transactional.id; see "transactions" below). */
    int p_txn;
    enum {
        TXN_UNINIT,
        TXN_INITING,
        TXN_READY,
        TXN_IN_TXN,
        TXN_COMMITTING,
        TXN_ABORTING
    } p_txn_state;
    int p_txn_err; /* 0, EDDY_ERR_TXN_ABORTABLE or EDDY_ERR_TXN_FATAL */
    int16_t p_txn_kerr;
    char p_txn_why[300];
    int32_t p_txn_coord; /* the transaction coordinator's node, -1 unknown */
    int p_txn_finding;   /* its FindCoordinator is out */
    int p_txn_adding;    /* an AddPartitionsToTxn is out */
    int64_t p_txn_add_retry_at_ms;
    int p_txn_added_any; /* a partition or offsets joined the open transaction */
    /* A batch of the transaction failed or was dropped after it got its
     * sequence number: the partition's sequence may have a gap, so the
     * abort ends with an epoch bump (InitProducerId with the current id and
     * epoch, KIP-360) and every partition numbers from 0 again. */
    int p_txn_bump;
    struct txn_op *p_op; /* the call in progress, or NULL */
};

static void send_ready(kc_producer_t *p);
static void dispatch_pending(kc_producer_t *p, kc_ptopic_t *t);
static void txn_run(kc_producer_t *p);
static void txn_batch_failed(kc_producer_t *p, int err, int16_t kerr, const char *topic,
                             int32_t partition);
static int txn_partition_ready(kc_producer_t *p, kc_ppart_t *pp);

/* ---- compression settings ---- */

/* One level setting: *level is set when the text is an integer in the
 * codec's range (minus_one_default: -1 means the codec's default, as in
 * Java's compression.gzip.level and librdkafka's compression.level; for
 * zstd -1 is a level of its own in Java's compression.zstd.level). */
static int level_parse(const char *name, const char *text, int codec, int minus_one_default,
                       int *level, char *errstr, size_t errstr_size)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end || errno || v < INT_MIN / 2 || v > INT_MAX / 2) {
        snprintf(errstr, errstr_size, "%s: '%s' is not an integer", name, text);
        return EDDY_ERR_CONFIG;
    }
    if (v == -1 && minus_one_default) {
        *level = WIRE_CODEC_LEVEL_DEFAULT;
        return 0;
    }
    if (wire_codec_level_check(codec, (int)v) < 0) {
        snprintf(errstr, errstr_size,
                 "%s: %ld is out of range for %s (gzip 1-9, lz4 1-17, zstd "
                 "-131072-22; -1 for the codec's default)",
                 name, v, wire_codec_name(codec));
        return EDDY_ERR_CONFIG;
    }
    *level = (int)v;
    return 0;
}

int kc_config_compression(const kc_config_t *cfg, int *codec, int *level, char *errstr,
                          size_t errstr_size)
{
    const char *type = cfg->compression_type ? cfg->compression_type : "none";
    int c = wire_codec_parse(type);
    if (c < 0) {
        snprintf(errstr, errstr_size,
                 "compression.type: '%s' is not none, gzip, snappy, lz4 or zstd", type);
        return EDDY_ERR_CONFIG;
    }
    /* The Java client checks each codec's level whatever the codec in use. */
    const struct {
        const char *name, *text;
        int codec, minus_one_default;
    } java[] = {
        {"compression.gzip.level", cfg->compression_gzip_level, WIRE_CODEC_GZIP, 1},
        {"compression.lz4.level", cfg->compression_lz4_level, WIRE_CODEC_LZ4, 0},
        {"compression.zstd.level", cfg->compression_zstd_level, WIRE_CODEC_ZSTD, 0},
    };
    int lv = WIRE_CODEC_LEVEL_DEFAULT;
    for (size_t i = 0; i < sizeof java / sizeof java[0]; i++) {
        int v;
        if (java[i].text && level_parse(java[i].name, java[i].text, java[i].codec,
                                        java[i].minus_one_default, &v, errstr, errstr_size) < 0)
            return EDDY_ERR_CONFIG;
        if (java[i].text && java[i].codec == c)
            lv = v;
    }
    /* librdkafka's one setting wins; a codec without levels (snappy, none)
     * ignores it, as librdkafka does. */
    if (cfg->compression_level &&
        (c == WIRE_CODEC_GZIP || c == WIRE_CODEC_LZ4 || c == WIRE_CODEC_ZSTD) &&
        level_parse("compression.level", cfg->compression_level, c, 1, &lv, errstr, errstr_size) <
            0)
        return EDDY_ERR_CONFIG;
    *codec = c;
    *level = lv;
    return 0;
}

/* ---- batches ---- */

static void batch_free(kc_pbatch_t *b)
{
    wr_free(&b->pb_wr);
    free(b->pb_opaques);
    free(b);
}

/* Reports every record of a batch and frees it. */
static void batch_report(kc_producer_t *p, kc_pbatch_t *b, int err, int16_t kerr, int64_t base)
{
    for (int32_t i = 0; i < b->pb_count; i++) {
        p->p_outstanding--;
        if (p->p_dr)
            p->p_dr(p, err, kerr, b->pb_topic->pt_name, b->pb_partition,
                    err == 0 && base >= 0 ? base + i : -1, b->pb_opaques[i]);
    }
    batch_free(b);
}

/* ---- idempotence: sequence numbers ---- */

int32_t kc_seq_add(int32_t base, int32_t n)
{
    if (base > INT32_MAX - n)
        return n - (INT32_MAX - base) - 1;
    return base + n;
}

/* Writes the producer id, epoch and base sequence into a finished batch
 * and recomputes its CRC (which covers them). */
static void batch_stamp(kc_pbatch_t *b, int64_t pid, int16_t epoch, int32_t base_seq)
{
    uint8_t *h = b->pb_wr.wr_buf;
    if (!h || b->pb_wr.wr_len < BATCH_HEADER_SIZE)
        return;
    be64_store(h + BATCH_OFF_PRODUCER_ID, (uint64_t)pid);
    be16_store(h + BATCH_OFF_PRODUCER_EPOCH, (uint16_t)epoch);
    be32_store(h + BATCH_OFF_BASE_SEQUENCE, (uint32_t)base_seq);
    wire_batch_crc_update(h, b->pb_wr.wr_len);
    b->pb_base_seq = base_seq;
}

/* a goes before b in their partition's order. */
static int batch_before(const kc_pbatch_t *a, const kc_pbatch_t *b)
{
    return a->pb_seq < b->pb_seq || (a->pb_seq == b->pb_seq && a->pb_part < b->pb_part);
}

static void sent_add(kc_ppart_t *pp, kc_pbatch_t *b)
{
    for (int i = 0; i < IDEM_MAX_INFLIGHT; i++)
        if (!pp->pp_sent[i]) {
            pp->pp_sent[i] = b;
            return;
        }
}

static void sent_remove(kc_ppart_t *pp, const kc_pbatch_t *b)
{
    for (int i = 0; i < IDEM_MAX_INFLIGHT; i++)
        if (pp->pp_sent[i] == b)
            pp->pp_sent[i] = NULL;
}

/* b (just answered, out of pp_sent) is the first batch of its partition
 * not yet acknowledged or reported: none in flight or queued comes before
 * it. */
static int batch_first_outstanding(const kc_ppart_t *pp, const kc_pbatch_t *b)
{
    for (int i = 0; i < IDEM_MAX_INFLIGHT; i++)
        if (pp->pp_sent[i] && batch_before(pp->pp_sent[i], b))
            return 0;
    for (const kc_pbatch_t *q = pp->pp_ready; q; q = q->pb_next)
        if (q->pb_base_seq >= 0 && batch_before(q, b))
            return 0;
    return 1;
}

static void ready_push(kc_ppart_t *pp, kc_pbatch_t *b)
{
    b->pb_next = NULL;
    if (pp->pp_ready_tail)
        pp->pp_ready_tail->pb_next = b;
    else
        pp->pp_ready = b;
    pp->pp_ready_tail = b;
}

/* Puts a batch that came back (a retry, the parts of a split) into the
 * queue at its place in the partition's order: with several requests in
 * flight, the batches of a later request may come back before those of an
 * earlier one, and must not go ahead of them. */
static void ready_push_back_in_order(kc_ppart_t *pp, kc_pbatch_t *b)
{
    kc_pbatch_t **pos = &pp->pp_ready;
    while (*pos && ((*pos)->pb_seq < b->pb_seq ||
                    ((*pos)->pb_seq == b->pb_seq && (*pos)->pb_part < b->pb_part)))
        pos = &(*pos)->pb_next;
    b->pb_next = *pos;
    *pos = b;
    if (!b->pb_next)
        pp->pp_ready_tail = b;
}

/* Starts a batch in b->pb_wr with the producer's codec. */
static void batch_start(kc_producer_t *p, kc_pbatch_t *b)
{
    wr_init(&b->pb_wr);
    wire_batch_header_t tmpl = wire_batch_header_default();
    tmpl.attributes = (int16_t)(tmpl.attributes | p->p_codec);
    if (p->p_txn)
        tmpl.attributes = (int16_t)(tmpl.attributes | BATCH_ATTR_TRANSACTIONAL);
    wire_batch_begin(&b->pb_b, &b->pb_wr, &tmpl);
    b->pb_b.bb_level = p->p_level;
}

/* Finishes a batch: its records are compressed here, once, on the loop
 * thread, and a retry sends the same bytes. Should the codec fail (out of
 * memory inside the library), the batch goes uncompressed rather than not
 * at all, as librdkafka does. */
static int batch_finish(kc_pbatch_t *b)
{
    int rc = wire_batch_end(&b->pb_b, 0);
    if (rc < 0 && !b->pb_wr.wr_err && (b->pb_b.bb_hdr.attributes & BATCH_ATTR_CODEC_MASK)) {
        static eddy_log_limit_t limit = EDDY_LOG_LIMIT_INIT;
        EDDY_LOG_LIMITED(EDDY_LOG_LVL_WARN, "producer", &limit, 10000,
                         "%s-%d: compressing a batch of %d records with %s failed (%s); sending "
                         "it uncompressed",
                         b->pb_topic->pt_name, b->pb_partition, b->pb_count,
                         wire_codec_name(b->pb_b.bb_hdr.attributes & BATCH_ATTR_CODEC_MASK),
                         eddy_strerror(rc));
        b->pb_b.bb_hdr.attributes = (int16_t)(b->pb_b.bb_hdr.attributes & ~BATCH_ATTR_CODEC_MASK);
        rc = wire_batch_end(&b->pb_b, 0);
    }
    return rc;
}

/* Closes the open batch of a partition: it waits for sending now, and
 * records without a key move to another partition (KIP-480). */
static void batch_close(kc_ptopic_t *t, int32_t partition)
{
    kc_ppart_t *pp = &t->pt_parts[partition];
    kc_pbatch_t *b = pp->pp_open;
    if (!b)
        return;
    pp->pp_open = NULL;
    batch_finish(b);
    ready_push(pp, b);
    partitioner_sticky_next(&t->pt_sticky, t->pt_npartitions, t->pt_available, t->pt_navailable,
                            partition);
}

static int64_t record_size_estimate(const kc_record_t *r)
{
    int64_t n = 24 + (r->rec_key_len > 0 ? r->rec_key_len : 0) +
                (r->rec_value_len > 0 ? r->rec_value_len : 0);
    for (int32_t i = 0; i < r->rec_nheaders; i++)
        n += 10 + (r->rec_headers[i].keyLength > 0 ? r->rec_headers[i].keyLength : 0) +
             (r->rec_headers[i].valueLength > 0 ? r->rec_headers[i].valueLength : 0);
    return n;
}

static void timer_arm(kc_producer_t *p, int64_t ms);
static int64_t txn_expire_unjoined(kc_producer_t *p, int64_t now);

static int append(kc_producer_t *p, kc_ptopic_t *t, int32_t partition, const kc_record_t *r,
                  void *opaque, int64_t deadline_ms)
{
    const kc_config_t *cfg = kc_config(p->p_client);
    kc_ppart_t *pp = &t->pt_parts[partition];
    int64_t size = record_size_estimate(r);
    if (pp->pp_open && pp->pp_open->pb_count > 0 &&
        (int64_t)pp->pp_open->pb_wr.wr_len + size > cfg->batch_size)
        batch_close(t, partition);
    kc_pbatch_t *b = pp->pp_open;
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b)
            return -ENOMEM;
        b->pb_topic = t;
        b->pb_partition = partition;
        batch_start(p, b);
        b->pb_created_ms = eddy_mono_ms();
        b->pb_deadline_ms = deadline_ms;
        b->pb_seq = pp->pp_next_seq++;
        b->pb_base_seq = -1;
        pp->pp_open = b;
        timer_arm(p, cfg->linger_ms);
    }
    if (b->pb_count == b->pb_cap) {
        int32_t cap = b->pb_cap ? b->pb_cap * 2 : 16;
        void **no = realloc(b->pb_opaques, (size_t)cap * sizeof *no);
        if (!no)
            return -ENOMEM;
        b->pb_opaques = no;
        b->pb_cap = cap;
    }
    int64_t ts = r->rec_timestamp >= 0 ? r->rec_timestamp : eddy_wall_ms();
    wire_batch_add(&b->pb_b, ts, r->rec_key, r->rec_key_len, r->rec_value, r->rec_value_len,
                   r->rec_headers, r->rec_nheaders);
    if (b->pb_wr.wr_err)
        return b->pb_wr.wr_err;
    b->pb_opaques[b->pb_count++] = opaque;
    if ((int64_t)b->pb_wr.wr_len >= cfg->batch_size || cfg->linger_ms == 0)
        batch_close(t, partition);
    return 0;
}

/* ---- topics and metadata ---- */

static kc_ptopic_t *topic_get(kc_producer_t *p, const char *name)
{
    for (kc_ptopic_t *t = p->p_topics; t; t = t->pt_next)
        if (strcmp(t->pt_name, name) == 0)
            return t;
    kc_ptopic_t *t = calloc(1, sizeof *t);
    if (!t || !(t->pt_name = strdup(name))) {
        free(t);
        return NULL;
    }
    partitioner_sticky_init(&t->pt_sticky, (uint64_t)eddy_mono_ns() ^ (uint64_t)(uintptr_t)t);
    t->pt_next = p->p_topics;
    p->p_topics = t;
    return t;
}

/* Takes the topic's partition count and leaders from the client's cache. */
static void topic_refresh(kc_producer_t *p, kc_ptopic_t *t)
{
    const kc_topic_meta_t *m = kc_metadata_topic(p->p_client, t->pt_name);
    if (!m || m->tm_error != KERR_NONE || m->tm_npartitions <= 0)
        return;
    if (m->tm_npartitions > t->pt_npartitions) {
        kc_ppart_t *np = realloc(t->pt_parts, (size_t)m->tm_npartitions * sizeof *np);
        if (!np)
            return;
        memset(np + t->pt_npartitions, 0,
               (size_t)(m->tm_npartitions - t->pt_npartitions) * sizeof *np);
        t->pt_parts = np;
        t->pt_npartitions = m->tm_npartitions;
    }
    free(t->pt_available);
    t->pt_available = calloc((size_t)m->tm_npartitions, sizeof *t->pt_available);
    t->pt_navailable = 0;
    for (int32_t i = 0; t->pt_available && i < m->tm_npartitions; i++)
        if (m->tm_partitions[i].pm_leader >= 0)
            t->pt_available[t->pt_navailable++] = i;
}

static void on_topic_metadata(kc_client_t *c, int err, void *opaque)
{
    (void)c;
    (void)err;
    kc_pmd_t *md = opaque;
    if (md->pmd_topic)
        md->pmd_topic->pt_md = NULL;
    free(md);
}

static void request_metadata(kc_producer_t *p, kc_ptopic_t *t)
{
    if (t->pt_md)
        return;
    kc_pmd_t *md = calloc(1, sizeof *md);
    if (!md)
        return;
    md->pmd_topic = t;
    /* Set first: a request that fails at once answers inside the call. */
    t->pt_md = md;
    const char *names[1] = {t->pt_name};
    if (kc_metadata_refresh(p->p_client, names, 1, 1, on_topic_metadata, md) < 0) {
        t->pt_md = NULL;
        free(md);
    }
}

void kc_producer_metadata_changed(struct kc_producer *p)
{
    for (kc_ptopic_t *t = p->p_topics; t; t = t->pt_next) {
        topic_refresh(p, t);
        if (t->pt_pending)
            dispatch_pending(p, t);
    }
    send_ready(p);
}

/* ---- records waiting for metadata ---- */

static int pending_add(kc_ptopic_t *t, int32_t partition, const kc_record_t *r, void *opaque,
                       int64_t deadline_ms)
{
    kc_pending_t *pn = calloc(1, sizeof *pn);
    if (!pn)
        return -ENOMEM;
    pn->pn_partition = partition;
    pn->pn_key_len = r->rec_key_len;
    pn->pn_value_len = r->rec_value_len;
    pn->pn_timestamp = r->rec_timestamp >= 0 ? r->rec_timestamp : eddy_wall_ms();
    pn->pn_opaque = opaque;
    pn->pn_deadline_ms = deadline_ms;
    pn->pn_partitioner = partition < 0 ? r->rec_partitioner : NULL;
    pn->pn_partitioner_opaque = r->rec_partitioner_opaque;
    if (r->rec_key_len > 0 && (pn->pn_key = malloc((size_t)r->rec_key_len)))
        memcpy(pn->pn_key, r->rec_key, (size_t)r->rec_key_len);
    if (r->rec_value_len > 0 && (pn->pn_value = malloc((size_t)r->rec_value_len)))
        memcpy(pn->pn_value, r->rec_value, (size_t)r->rec_value_len);
    if (r->rec_nheaders > 0 &&
        (pn->pn_headers = calloc((size_t)r->rec_nheaders, sizeof *pn->pn_headers))) {
        pn->pn_nheaders = r->rec_nheaders;
        for (int32_t i = 0; i < r->rec_nheaders; i++) {
            const wire_header_t *h = &r->rec_headers[i];
            uint8_t *k = h->keyLength > 0 ? malloc((size_t)h->keyLength) : NULL;
            uint8_t *v = h->valueLength > 0 ? malloc((size_t)h->valueLength) : NULL;
            if (k)
                memcpy(k, h->key, (size_t)h->keyLength);
            if (v)
                memcpy(v, h->value, (size_t)h->valueLength);
            pn->pn_headers[i] = (wire_header_t){k, h->keyLength, v, h->valueLength};
        }
    }
    if (t->pt_pending_tail)
        t->pt_pending_tail->pn_next = pn;
    else
        t->pt_pending = pn;
    t->pt_pending_tail = pn;
    return 0;
}

static void pending_free(kc_pending_t *pn)
{
    for (int32_t i = 0; i < pn->pn_nheaders; i++) {
        free((void *)pn->pn_headers[i].key);
        free((void *)pn->pn_headers[i].value);
    }
    free(pn->pn_headers);
    free(pn->pn_key);
    free(pn->pn_value);
    free(pn);
}

/* The record's partition: the one asked for, else the application's
 * partitioner's, else the default one's. Only once the partition count is
 * known: a partitioner never sees a guess. */
static int32_t choose_partition(kc_producer_t *p, kc_ptopic_t *t, int32_t partition,
                                const kc_record_t *r)
{
    if (partition < 0 && r->rec_partitioner)
        return r->rec_partitioner(p, t->pt_name, r, t->pt_npartitions, r->rec_partitioner_opaque);
    const void *key = r->rec_key;
    int32_t key_len = r->rec_key_len;
    return partitioner_partition(&t->pt_sticky, partition, key_len >= 0 ? (key ? key : "") : NULL,
                                 key_len >= 0 ? (size_t)key_len : 0, t->pt_npartitions,
                                 t->pt_available, t->pt_navailable);
}

static void dispatch_pending(kc_producer_t *p, kc_ptopic_t *t)
{
    const kc_topic_meta_t *m = kc_metadata_topic(p->p_client, t->pt_name);
    int64_t now = eddy_mono_ms();
    if (t->pt_npartitions == 0) {
        /* Still unknown (or an error): give up on records past their
         * deadline, wait for the retry timer for the rest. A topic the
         * cluster refuses to describe fails them at once, as Kafka's
         * producer does: retrying cannot grant the access. */
        int refused = m && m->tm_error == KERR_TOPIC_AUTHORIZATION_FAILED;
        kc_pending_t **pp = &t->pt_pending;
        while (*pp) {
            kc_pending_t *pn = *pp;
            if (now < pn->pn_deadline_ms && !refused) {
                pp = &pn->pn_next;
                continue;
            }
            *pp = pn->pn_next;
            p->p_outstanding--;
            if (p->p_dr)
                p->p_dr(p, refused ? -EIO : -ETIMEDOUT, m ? m->tm_error : 0, t->pt_name,
                        pn->pn_partition, -1, pn->pn_opaque);
            pending_free(pn);
        }
        t->pt_pending_tail = NULL;
        for (kc_pending_t *x = t->pt_pending; x; x = x->pn_next)
            t->pt_pending_tail = x;
        return;
    }
    kc_pending_t *pn = t->pt_pending;
    t->pt_pending = t->pt_pending_tail = NULL;
    while (pn) {
        kc_pending_t *next = pn->pn_next;
        kc_record_t r = {pn->pn_key,       pn->pn_key_len,     pn->pn_value,
                         pn->pn_value_len, pn->pn_timestamp,   pn->pn_headers,
                         pn->pn_nheaders,  pn->pn_partitioner, pn->pn_partitioner_opaque};
        int32_t part = choose_partition(p, t, pn->pn_partition, &r);
        int rc = part >= 0 && part < t->pt_npartitions
                     ? append(p, t, part, &r, pn->pn_opaque, pn->pn_deadline_ms)
                     : -EINVAL;
        if (rc < 0) {
            p->p_outstanding--;
            if (p->p_dr)
                p->p_dr(p, rc, 0, t->pt_name, rc == -EINVAL ? part : pn->pn_partition, -1,
                        pn->pn_opaque);
        }
        pending_free(pn);
        pn = next;
    }
}

/* ---- sending ---- */

typedef struct prod_req {
    kc_producer_t *pr_producer;
    int pr_n;
    kc_pbatch_t **pr_batches;
} prod_req_t;

static void encode_produce(eddy_wr_t *wr, int16_t v, void *opaque)
{
    prod_req_t *pr = opaque;
    /* One topic entry per batch keeps this simple; Kafka accepts repeats. */
    ProduceRequestTopic *topics = calloc((size_t)pr->pr_n, sizeof *topics);
    ProduceRequestPartition *parts = calloc((size_t)pr->pr_n, sizeof *parts);
    if (!topics || !parts) {
        wr->wr_err = -ENOMEM;
        free(topics);
        free(parts);
        return;
    }
    for (int i = 0; i < pr->pr_n; i++) {
        kc_pbatch_t *b = pr->pr_batches[i];
        parts[i].Index = b->pb_partition;
        parts[i].Records = (kstr_t){(const char *)b->pb_wr.wr_buf, (int32_t)b->pb_wr.wr_len};
        topics[i].Name = kstr_c(b->pb_topic->pt_name);
        topics[i].PartitionData = &parts[i];
        topics[i].PartitionDataCount = 1;
    }
    const kc_config_t *cfg = kc_config(pr->pr_producer->p_client);
    /* A transactional producer names its transactional.id: the broker
     * checks it (Write on the id) before it appends transactional batches. */
    ProduceRequest req = {pr->pr_producer->p_txn ? kstr_c(cfg->transactional_id) : KSTR_NULL,
                          pr->pr_producer->p_acks, cfg->request_timeout_ms, topics, pr->pr_n};
    wire_produce_req_encode(wr, v, &req);
    free(topics);
    free(parts);
}

/* The broker refused a batch of several records as too large: as Kafka's
 * producer does, its records go again one batch each, in the batch's codec
 * and at its place in the partition's queue, so that only a record too
 * large on its own fails. Returns 0, or < 0 with b untouched. */
static int batch_split(kc_producer_t *p, kc_pbatch_t *b)
{
    kc_ppart_t *pp = &b->pb_topic->pt_parts[b->pb_partition];
    kc_pbatch_t **parts = calloc((size_t)b->pb_count, sizeof *parts);
    wire_header_t *hs = NULL;
    wire_record_iter_t it;
    wire_record_t r;
    int32_t n = 0;
    char why[160];
    it.ri_inflated = NULL;
    if (!parts || wire_record_iter_open(&it, b->pb_wr.wr_buf, b->pb_wr.wr_len,
                                        WIRE_INFLATE_LIMIT_DEFAULT, why, sizeof why) < 0)
        goto fail;
    while (n < b->pb_count && wire_record_next(&it, &r) == 1) {
        kc_pbatch_t *nb = calloc(1, sizeof *nb);
        void **op = malloc(sizeof *op);
        wire_header_t *nh = r.headerCount > 0 ? realloc(hs, (size_t)r.headerCount * sizeof *nh)
                                              : hs;
        if (!nb || !op || (r.headerCount > 0 && !nh)) {
            free(nb);
            free(op);
            goto fail;
        }
        hs = nh;
        eddy_rd_t hrd;
        rd_init(&hrd, r.headers, r.headers_len);
        for (int32_t i = 0; i < r.headerCount; i++)
            if (wire_header_next(&hrd, &hs[i]) != 1) {
                free(nb);
                free(op);
                goto fail;
            }
        *nb = *b;
        nb->pb_next = NULL;
        batch_start(p, nb); /* the producer's codec, as the batch it came from */
        wire_batch_add(&nb->pb_b, r.timestamp, r.key, r.keyLength, r.value, r.valueLength, hs,
                       r.headerCount);
        nb->pb_part = n; /* pb_seq is the parent's */
        op[0] = b->pb_opaques[n];
        nb->pb_opaques = op;
        nb->pb_count = nb->pb_cap = 1;
        parts[n++] = nb;
        if (batch_finish(nb) < 0 || nb->pb_wr.wr_err)
            goto fail;
        /* The parts take their parent's sequence range, one each: the
         * broker refused the parent, so the range is still free. */
        if (b->pb_base_seq >= 0)
            batch_stamp(nb, (int64_t)be64_load(b->pb_wr.wr_buf + BATCH_OFF_PRODUCER_ID),
                        (int16_t)be16_load(b->pb_wr.wr_buf + BATCH_OFF_PRODUCER_EPOCH),
                        kc_seq_add(b->pb_base_seq, n - 1));
    }
    if (n != b->pb_count)
        goto fail;
    wire_record_iter_close(&it);
    for (int32_t i = n - 1; i >= 0; i--)
        ready_push_back_in_order(pp, parts[i]);
    free(parts);
    free(hs);
    batch_free(b);
    return 0;
fail:
    wire_record_iter_close(&it);
    for (int32_t i = 0; i < n; i++)
        batch_free(parts[i]);
    free(parts);
    free(hs);
    return -ENOMEM;
}

/* A batch failed with kerr (or err for the connection): again, or report. */
static void batch_retry_or_fail(kc_producer_t *p, kc_pbatch_t *b, int err, int16_t kerr)
{
    const kc_config_t *cfg = kc_config(p->p_client);
    if (err == 0 && kerr == KERR_MESSAGE_TOO_LARGE && b->pb_count > 1 && batch_split(p, b) == 0)
        return; /* on_produce sends again */
    b->pb_last_err = kerr;
    int retriable = err < 0 ? err != -ECANCELED && err != -ENOTSUP : kc_error_retriable(kerr);
    if (err == 0 && b->pb_base_seq >= 0 && !p->p_txn &&
        (kerr == KERR_OUT_OF_ORDER_SEQUENCE_NUMBER || kerr == KERR_UNKNOWN_PRODUCER_ID ||
         kerr == KERR_INVALID_PRODUCER_EPOCH))
        retriable = 1; /* again, as it is or renumbered (sequence_refused) */
    /* A transaction cannot renumber under a new id: its producer id is the
     * coordinator's. These refusals fail the transaction (or the producer,
     * once fenced), as Kafka's transactional producer does. */
    if (p->p_txn && p->p_txn_err)
        retriable = 0;
    if (retriable && ++b->pb_attempts <= cfg->retries && eddy_mono_ms() < b->pb_deadline_ms) {
        /* Not before retry.backoff.ms, even when fresh metadata comes
         * sooner: a broker that keeps refusing (a full disk) would
         * otherwise get the batch again as fast as it answers. */
        b->pb_retry_at_ms = eddy_mono_ms() + cfg->retry_backoff_ms;
        ready_push_back_in_order(&b->pb_topic->pt_parts[b->pb_partition], b);
        request_metadata(p, b->pb_topic);
        timer_arm(p, cfg->retry_backoff_ms);
        return;
    }
    int rerr = err < 0 ? err : (retriable ? -ETIMEDOUT : -EIO);
    if (p->p_txn)
        txn_batch_failed(p, rerr, kerr, b->pb_topic->pt_name, b->pb_partition);
    batch_report(p, b, rerr, kerr, -1);
}

static void producer_free_if_done(kc_producer_t *p);

/* The broker refused an idempotent batch for its sequence or producer id.
 * When it is the first outstanding batch of its partition, the broker has
 * none of the partition's outstanding batches (see the top of this file):
 * the partition is reset and they go again under a new producer id.
 * Otherwise an earlier batch is being retried and this one follows it. */
static void sequence_refused(kc_producer_t *p, kc_ppart_t *pp, kc_pbatch_t *b, int16_t kerr)
{
    static eddy_log_limit_t limit = EDDY_LOG_LIMIT_INIT;
    if (pp->pp_reset || !batch_first_outstanding(pp, b))
        return;
    pp->pp_reset = 1;
    EDDY_LOG_LIMITED(EDDY_LOG_LVL_WARN, "producer", &limit, KC_LOG_INTERVAL_MS,
                     "%s-%d: the broker refused batch with sequence %d (%s); the partition's "
                     "unacknowledged batches are sent again under a new producer id",
                     b->pb_topic->pt_name, b->pb_partition, b->pb_base_seq, kafka_err_name(kerr));
    (void)p;
}

/* ---- idempotence: the producer id ---- */

static void encode_init_pid(eddy_wr_t *wr, int16_t v, void *opaque)
{
    kc_producer_t *p = opaque;
    (void)p;
    /* A new id every time, also to reset (rather than an epoch bump): any
     * broker takes sequence 0 from an id it has never seen. */
    InitProducerIdRequest req = {KSTR_NULL, 2147483647, -1, -1};
    wire_init_producer_id_req_encode(wr, v, &req);
}

/* Every queued batch fails: the producer cannot be idempotent as asked. */
static void fail_unsendable(kc_producer_t *p)
{
    for (kc_ptopic_t *t = p->p_topics; t; t = t->pt_next)
        for (int32_t i = 0; i < t->pt_npartitions; i++) {
            kc_ppart_t *pp = &t->pt_parts[i];
            while (pp->pp_ready) {
                kc_pbatch_t *b = pp->pp_ready;
                pp->pp_ready = b->pb_next;
                if (!pp->pp_ready)
                    pp->pp_ready_tail = NULL;
                batch_report(p, b, p->p_pid_fail_err, p->p_pid_fail_kerr, -1);
            }
        }
}

/* The broker cannot hand out producer ids. Kafka's producer fails when the
 * user asked for idempotence; librdkafka's, with idempotence only on by
 * default, goes on without it after one warning, and so does this one. */
static void pid_unsupported(kc_producer_t *p, const char *why)
{
    if (p->p_idem_explicit) {
        p->p_pid_state = PID_FAILED;
        p->p_pid_fail_err = -ENOTSUP;
        EDDY_LOG_ERROR("producer",
                       "enable.idempotence=true, but %s: every record fails; set "
                       "enable.idempotence=false to produce without it",
                       why);
        fail_unsendable(p);
        return;
    }
    p->p_idem = 0;
    EDDY_LOG_WARN("producer",
                  "%s: producing without idempotence (enable.idempotence is only "
                  "on by default), a retry may write a record twice",
                  why);
}

static void send_ready(kc_producer_t *p);

static void on_init_pid(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque)
{
    (void)c;
    kc_producer_t *p = opaque;
    p->p_requests--;
    if (p->p_closing) {
        producer_free_if_done(p);
        return;
    }
    const kc_config_t *cfg = kc_config(p->p_client);
    InitProducerIdResponse resp = {0, 0, -1, -1};
    if (err == 0 && rd && wire_init_producer_id_resp_decode(rd, v, &resp) < 0)
        err = -EPROTO;
    if (err == -ENOTSUP) {
        pid_unsupported(p, "the broker does not support InitProducerId");
        /* From the timer, not from here: a request that fails at once
         * answers inside send_ready's loop. */
        timer_arm(p, 0);
        return;
    }
    if (err == 0 && resp.ErrorCode == KERR_NONE && resp.ProducerId >= 0) {
        p->p_pid = resp.ProducerId;
        p->p_epoch = resp.ProducerEpoch;
        p->p_gen++;
        p->p_pid_state = PID_READY;
        p->p_pid_failing_since_ms = 0;
        EDDY_LOG_DEBUG("producer", "producer id %lld, epoch %d", (long long)p->p_pid,
                       (int)p->p_epoch);
        send_ready(p);
        return;
    }
    if (err == 0 && !kc_error_retriable(resp.ErrorCode)) {
        char why[200];
        snprintf(why, sizeof why, "the broker refused a producer id (InitProducerId: %s)",
                 kafka_err_name(resp.ErrorCode));
        p->p_pid_state = PID_FAILED;
        p->p_pid_fail_err = -EIO;
        /* The delivery callbacks get the broker's reason, as they do for a
         * refused Produce: CLUSTER_AUTHORIZATION_FAILED tells an application
         * to ask for IdempotentWrite (or Write on a topic), not to retry. */
        p->p_pid_fail_kerr = resp.ErrorCode;
        EDDY_LOG_ERROR("producer", "%s: every record fails", why);
        fail_unsendable(p);
        return;
    }
    /* A coordinator loading (a cluster just started answers
     * COORDINATOR_LOAD_IN_PROGRESS for a while), a connection lost: again
     * after the backoff, quietly at first, as Kafka's producer does; a
     * warning once it has lasted KC_LOG_INTERVAL_MS. */
    int64_t now = eddy_mono_ms();
    if (!p->p_pid_failing_since_ms)
        p->p_pid_failing_since_ms = now;
    static eddy_log_limit_t limit = EDDY_LOG_LIMIT_INIT;
    const char *why = err < 0 ? eddy_strerror(err) : kafka_err_name(resp.ErrorCode);
    if (now - p->p_pid_failing_since_ms >= KC_LOG_INTERVAL_MS)
        EDDY_LOG_LIMITED(EDDY_LOG_LVL_WARN, "producer", &limit, KC_LOG_INTERVAL_MS,
                         "no producer id for %lld ms: InitProducerId failed (%s); retrying",
                         (long long)(now - p->p_pid_failing_since_ms), why);
    else
        EDDY_LOG_DEBUG("producer", "InitProducerId failed (%s); retrying", why);
    p->p_pid_state = PID_NONE;
    p->p_pid_retry_at_ms = eddy_mono_ms() + cfg->retry_backoff_ms;
    timer_arm(p, cfg->retry_backoff_ms);
}

/* Asks for a producer id unless one is on its way. */
static void pid_request(kc_producer_t *p)
{
    /* A transactional producer's id comes from kc_producer_init_transactions. */
    if (p->p_pid_state == PID_REQUESTING || p->p_pid_state == PID_FAILED || p->p_txn)
        return;
    int64_t now = eddy_mono_ms();
    if (p->p_pid_retry_at_ms > now) {
        timer_arm(p, p->p_pid_retry_at_ms - now);
        return;
    }
    if (kc_any_api_version(p->p_client, API_INIT_PRODUCER_ID) == -1) {
        pid_unsupported(p, "the broker does not support InitProducerId");
        return;
    }
    p->p_pid_state = PID_REQUESTING;
    int rc = kc_request(p->p_client, KC_NODE_ANY, API_INIT_PRODUCER_ID, 1, encode_init_pid,
                        on_init_pid, p);
    if (rc == 0) {
        p->p_requests++;
        return;
    }
    p->p_pid_state = PID_NONE;
    p->p_pid_retry_at_ms = now + kc_config(p->p_client)->retry_backoff_ms;
    timer_arm(p, kc_config(p->p_client)->retry_backoff_ms);
}

/* Whether the partition's head batch b may go now; numbers it when it has
 * no sequence yet. */
static int idem_ready(kc_producer_t *p, kc_ppart_t *pp, kc_pbatch_t *b)
{
    if (pp->pp_reset) {
        /* Nothing goes until every request of the partition is answered:
         * a batch still in flight might yet be appended. */
        if (pp->pp_inflight > 0)
            return 0;
        if (pp->pp_gen == p->p_gen || p->p_pid_state != PID_READY) {
            if (p->p_pid_state == PID_READY)
                p->p_pid_state = PID_NONE; /* the current id is the one refused */
            pid_request(p);
            return !p->p_idem; /* the broker turned out to have no ids to give */
        }
        for (kc_pbatch_t *q = pp->pp_ready; q; q = q->pb_next)
            q->pb_base_seq = -1;
        pp->pp_reset = 0;
        pp->pp_gen = 0; /* numbered again below, from 0 */
    }
    if (b->pb_base_seq >= 0)
        return 1; /* a retry (or a split part): as it was */
    if (p->p_pid_state != PID_READY) {
        pid_request(p);
        return !p->p_idem;
    }
    if (pp->pp_gen != p->p_gen) {
        /* Batches of the older id finish under it first. */
        if (pp->pp_inflight > 0)
            return 0;
        pp->pp_gen = p->p_gen;
        pp->pp_next_base_seq = 0;
    }
    batch_stamp(b, p->p_pid, p->p_epoch, pp->pp_next_base_seq);
    pp->pp_next_base_seq = kc_seq_add(pp->pp_next_base_seq, b->pb_count);
    return 1;
}

static void on_produce(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque)
{
    (void)c;
    prod_req_t *pr = opaque;
    kc_producer_t *p = pr->pr_producer;
    p->p_requests--;
    if (p->p_closing) {
        for (int i = 0; i < pr->pr_n; i++)
            batch_report(p, pr->pr_batches[i], -ECANCELED, 0, -1);
        free(pr->pr_batches);
        free(pr);
        producer_free_if_done(p);
        return;
    }
    ProduceResponse resp;
    memset(&resp, 0, sizeof resp);
    eddy_arena_t a;
    arena_init(&a, 0);
    if (err == 0 && rd && wire_produce_resp_decode(rd, v, &a, &resp) < 0)
        err = -EPROTO;
    for (int i = 0; i < pr->pr_n; i++) {
        kc_pbatch_t *b = pr->pr_batches[i];
        kc_ppart_t *pp = &b->pb_topic->pt_parts[b->pb_partition];
        pp->pp_inflight--;
        sent_remove(pp, b);
        if (err < 0) {
            batch_retry_or_fail(p, b, err, 0);
            continue;
        }
        if (!rd) { /* acks=0: written is all we will know */
            batch_report(p, b, 0, 0, -1);
            continue;
        }
        const ProduceResponsePartition *rp = NULL;
        for (int32_t k = 0; k < resp.ResponsesCount && !rp; k++)
            if (kstr_eq(resp.Responses[k].Name, b->pb_topic->pt_name))
                for (int32_t j = 0; j < resp.Responses[k].PartitionResponsesCount; j++)
                    if (resp.Responses[k].PartitionResponses[j].Index == b->pb_partition)
                        rp = &resp.Responses[k].PartitionResponses[j];
        if (!rp)
            batch_retry_or_fail(p, b, -EPROTO, 0);
        else if (rp->ErrorCode == KERR_NONE)
            batch_report(p, b, 0, 0, rp->BaseOffset);
        else if (rp->ErrorCode == KERR_DUPLICATE_SEQUENCE_NUMBER && b->pb_base_seq >= 0)
            /* Appended by an earlier attempt, as Kafka's producer counts it
             * (the broker may not know the offset any more). */
            batch_report(p, b, 0, 0, rp->BaseOffset);
        else {
            if (b->pb_base_seq >= 0 && !p->p_txn &&
                (rp->ErrorCode == KERR_OUT_OF_ORDER_SEQUENCE_NUMBER ||
                 rp->ErrorCode == KERR_UNKNOWN_PRODUCER_ID ||
                 rp->ErrorCode == KERR_INVALID_PRODUCER_EPOCH))
                sequence_refused(p, pp, b, rp->ErrorCode);
            batch_retry_or_fail(p, b, 0, rp->ErrorCode);
        }
    }
    arena_free(&a);
    free(pr->pr_batches);
    free(pr);
    send_ready(p);
    if (p->p_txn)
        txn_run(p);
}

/* One request per leader with the first ready batch of each partition it
 * leads that has room in flight. */
static void send_ready(kc_producer_t *p)
{
    const kc_config_t *cfg = kc_config(p->p_client);
    int64_t now = eddy_mono_ms();
    if (p->p_pid_state == PID_FAILED) {
        fail_unsendable(p);
        return;
    }
    for (;;) {
        int32_t node = -1;
        prod_req_t *pr = NULL;
        for (kc_ptopic_t *t = p->p_topics; t; t = t->pt_next) {
            const kc_topic_meta_t *m = kc_metadata_topic(p->p_client, t->pt_name);
            for (int32_t i = 0; i < t->pt_npartitions; i++) {
                kc_ppart_t *pp = &t->pt_parts[i];
                if (!pp->pp_ready || pp->pp_inflight >= cfg->max_in_flight)
                    continue;
                if (pp->pp_ready->pb_retry_at_ms > 0 && pp->pp_ready->pb_retry_at_ms > now) {
                    /* backing off; the partition's later batches wait
                     * behind it (order) */
                    timer_arm(p, pp->pp_ready->pb_retry_at_ms - now);
                    continue;
                }
                int32_t leader = m && i < m->tm_npartitions ? m->tm_partitions[i].pm_leader : -1;
                if (leader < 0) {
                    request_metadata(p, t);
                    continue;
                }
                if (node >= 0 && leader != node)
                    continue;
                if (p->p_txn && !txn_partition_ready(p, pp))
                    continue;
                if (p->p_idem && !idem_ready(p, pp, pp->pp_ready))
                    continue;
                if (!pr) {
                    pr = calloc(1, sizeof *pr);
                    if (!pr)
                        return;
                    pr->pr_producer = p;
                    node = leader;
                }
                kc_pbatch_t **nb = realloc(pr->pr_batches, (size_t)(pr->pr_n + 1) * sizeof *nb);
                if (!nb)
                    break;
                pr->pr_batches = nb;
                kc_pbatch_t *b = pp->pp_ready;
                pp->pp_ready = b->pb_next;
                if (!pp->pp_ready)
                    pp->pp_ready_tail = NULL;
                b->pb_next = NULL;
                pp->pp_inflight++;
                if (b->pb_base_seq >= 0)
                    sent_add(pp, b);
                pr->pr_batches[pr->pr_n++] = b;
            }
        }
        if (!pr)
            return;
        if (kc_request(p->p_client, node, API_PRODUCE, p->p_acks != 0, encode_produce, on_produce,
                       pr) == 0) {
            p->p_requests++;
            continue;
        }
        /* The leader is not reachable as a node yet: back on the queues,
         * and try again after a metadata refresh. */
        for (int i = pr->pr_n - 1; i >= 0; i--) {
            kc_pbatch_t *b = pr->pr_batches[i];
            b->pb_topic->pt_parts[b->pb_partition].pp_inflight--;
            sent_remove(&b->pb_topic->pt_parts[b->pb_partition], b);
            ready_push_back_in_order(&b->pb_topic->pt_parts[b->pb_partition], b);
            request_metadata(p, b->pb_topic);
        }
        free(pr->pr_batches);
        free(pr);
        timer_arm(p, cfg->retry_backoff_ms);
        return;
    }
}

/* ---- timer: linger and retries ---- */

static void on_timer(uv_timer_t *tm)
{
    kc_producer_t *p = tm->data;
    const kc_config_t *cfg = kc_config(p->p_client);
    int64_t now = eddy_mono_ms();
    int64_t next = -1;
    for (kc_ptopic_t *t = p->p_topics; t; t = t->pt_next) {
        if (t->pt_pending) {
            request_metadata(p, t);
            dispatch_pending(p, t);
            if (t->pt_pending)
                next = cfg->retry_backoff_ms;
        }
        for (int32_t i = 0; i < t->pt_npartitions; i++) {
            kc_pbatch_t *b = t->pt_parts[i].pp_open;
            if (!b)
                continue;
            int64_t left = b->pb_created_ms + cfg->linger_ms - now;
            if (left <= 0)
                batch_close(t, i);
            else if (next < 0 || left < next)
                next = left;
            if (t->pt_parts[i].pp_ready && (next < 0 || cfg->retry_backoff_ms < next))
                next = cfg->retry_backoff_ms;
        }
    }
    if (p->p_txn && !p->p_txn_err) {
        int64_t left = txn_expire_unjoined(p, now);
        if (left >= 0 && (next < 0 || left < next))
            next = left;
    }
    send_ready(p);
    if (p->p_txn)
        txn_run(p);
    if (next >= 0)
        timer_arm(p, next);
}

static void timer_arm(kc_producer_t *p, int64_t ms)
{
    if (uv_is_active((uv_handle_t *)&p->p_timer) &&
        uv_timer_get_due_in(&p->p_timer) <= (uint64_t)(ms > 0 ? ms : 0))
        return;
    uv_timer_start(&p->p_timer, on_timer, (uint64_t)(ms > 0 ? ms : 0), 0);
}

/* ---- transactions ----
 *
 * One call at a time runs as an operation (txn_op_t) that txn_run moves on
 * whenever something it waits for may have happened (an answer, the timer,
 * a Produce answer):
 *
 *   init:          [FindCoordinator(txn)] -> InitProducerId
 *   send_offsets:  [FindCoordinator(txn)] -> AddOffsetsToTxn
 *                  -> [FindCoordinator(group)] -> TxnOffsetCommit
 *   commit:        every record answered -> EndTxn(commit), when anything joined
 *   abort:         unsent records failed, those in flight answered
 *                  -> EndTxn(abort), when anything joined
 *                  -> InitProducerId(id, epoch): a new epoch, when a batch
 *                     failed or was dropped with its sequence number
 *
 * Partitions join the open transaction apart from any operation: a batch
 * waits in its queue until AddPartitionsToTxn (one out at a time, every
 * partition waiting at that moment in it) answered for its partition.
 * Retriable coordinator errors (loading, moved, CONCURRENT_TRANSACTIONS
 * while the previous transaction's markers go out) retry after
 * retry.backoff.ms; a moved coordinator is looked up again. */

enum txn_kind { OP_INIT, OP_SEND_OFFSETS, OP_COMMIT, OP_ABORT };
enum txn_step {
    ST_START,
    ST_INIT_PID,
    ST_ADD_OFFSETS,
    ST_GROUP_COORD,
    ST_OFFSET_COMMIT,
    ST_WAIT_RECORDS,
    ST_END_TXN,
};

typedef struct txn_op {
    enum txn_kind op_kind;
    enum txn_step op_step;
    int op_busy; /* a request of this operation is out */
    int64_t op_retry_at_ms;
    int op_finished, op_err;
    int16_t op_kerr;
    int op_sync;     /* a sync call waits on it (kc_run_until) */
    int op_orphaned; /* its sync call timed out: the result waits for the same call again */
    kc_txn_fn *op_done;
    void *op_opaque;
    /* send_offsets */
    char *op_group_id, *op_member_id, *op_instance_id;
    int32_t op_generation;
    kc_txn_tp_t *op_tps;
    int op_ntps;
    int32_t op_group_coord;
} txn_op_t;

/* A request of the producer's transaction; freed by its answer. */
typedef struct txn_req {
    kc_producer_t *tr_p;
    int tr_what; /* API key; FindCoordinator: the key type in tr_key_type */
    int8_t tr_key_type;
    kc_txn_tp_t *tr_tps; /* AddPartitionsToTxn: the partitions asked for */
    kc_ppart_t **tr_parts;
    int tr_n;
} txn_req_t;

static const char *state_name(int st)
{
    static const char *const names[] = {"uninitialized",    "initializing", "ready",
                                        "in a transaction", "committing",   "aborting"};
    return names[st];
}

static void op_free(txn_op_t *op)
{
    if (!op)
        return;
    for (int i = 0; i < op->op_ntps; i++) {
        free((char *)op->op_tps[i].tt_topic);
        free((char *)op->op_tps[i].tt_metadata);
    }
    free(op->op_tps);
    free(op->op_group_id);
    free(op->op_member_id);
    free(op->op_instance_id);
    free(op);
}

/* Errors the coordinator gives while it cannot answer yet: again later. */
static int txn_retriable(int16_t kerr)
{
    return kerr == KERR_COORDINATOR_LOAD_IN_PROGRESS || kerr == KERR_COORDINATOR_NOT_AVAILABLE ||
           kerr == KERR_NOT_COORDINATOR || kerr == KERR_CONCURRENT_TRANSACTIONS ||
           kerr == KERR_REQUEST_TIMED_OUT || kerr == KERR_NETWORK_EXCEPTION ||
           kerr == KERR_UNKNOWN_TOPIC_OR_PARTITION || kerr == KERR_OPERATION_NOT_ATTEMPTED;
}

/* Coordinator answers after which the producer cannot go on (Kafka's
 * fatal ones). */
static int txn_fatal(int16_t kerr)
{
    return kerr == KERR_PRODUCER_FENCED || kerr == KERR_INVALID_PRODUCER_EPOCH ||
           kerr == KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED ||
           kerr == KERR_CLUSTER_AUTHORIZATION_FAILED || kerr == KERR_INVALID_PRODUCER_ID_MAPPING ||
           kerr == KERR_INVALID_TXN_STATE || kerr == KERR_TRANSACTION_COORDINATOR_FENCED ||
           kerr == KERR_INVALID_TRANSACTION_TIMEOUT || kerr == KERR_UNSUPPORTED_VERSION;
}

/* A Produce refusal is fatal only for these (Kafka's
 * TransactionManager.maybeTransitionToErrorState); any other one, an
 * INVALID_PRODUCER_EPOCH included (KIP-588), makes the transaction
 * abortable: the coordinator, asked to abort, says whether the producer
 * was really fenced. */
static int txn_fatal_produce(int16_t kerr)
{
    return kerr == KERR_PRODUCER_FENCED || kerr == KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED ||
           kerr == KERR_CLUSTER_AUTHORIZATION_FAILED || kerr == KERR_UNSUPPORTED_VERSION;
}

static void fail_queued(kc_producer_t *p, int err, int16_t kerr, int numbered_too);

/* The producer enters an error class (a fatal one is never left; an
 * abortable one until the abort). The records still queued fail with it. */
static void txn_set_error(kc_producer_t *p, int cls, int16_t kerr, const char *why)
{
    if (p->p_txn_err == EDDY_ERR_TXN_FATAL)
        return;
    if (p->p_txn_err == cls)
        return;
    p->p_txn_err = cls;
    p->p_txn_kerr = kerr;
    snprintf(p->p_txn_why, sizeof p->p_txn_why, "%s", why);
    if (cls == EDDY_ERR_TXN_FATAL)
        EDDY_LOG_ERROR("producer",
                       "transactional.id '%s': %s; the producer cannot go on (destroy it and "
                       "make a new one)",
                       kc_config(p->p_client)->transactional_id, why);
    else
        EDDY_LOG_WARN("producer", "transactional.id '%s': %s; the transaction must be aborted",
                      kc_config(p->p_client)->transactional_id, why);
    fail_queued(p, cls, kerr, 1);
}

static void txn_batch_failed(kc_producer_t *p, int err, int16_t kerr, const char *topic,
                             int32_t partition)
{
    if (err == -ECANCELED || err == EDDY_ERR_TXN_ABORTABLE || err == EDDY_ERR_TXN_FATAL)
        return;
    p->p_txn_bump = 1; /* appended or not, the broker alone knows */
    char why[256];
    snprintf(why, sizeof why, "a record for %s-%d failed (%s)", topic, partition,
             kerr ? kafka_err_name(kerr) : eddy_strerror(err));
    txn_set_error(p, txn_fatal_produce(kerr) ? EDDY_ERR_TXN_FATAL : EDDY_ERR_TXN_ABORTABLE, kerr,
                  why);
}

/* Under a transaction a batch waits in its queue until its partition
 * joined (AddPartitionsToTxn): a coordinator that keeps answering with a
 * retriable error (loading, moved, CONCURRENT_TRANSACTIONS) would hold it
 * for ever. As in Kafka's producer, a batch still waiting
 * delivery.timeout.ms after its first record fails with a timeout, and the
 * transaction becomes abortable (the records still queued fail with that
 * class). Returns the ms until the next waiting batch's deadline, -1 for
 * none. */
static int64_t txn_expire_unjoined(kc_producer_t *p, int64_t now)
{
    int64_t next = -1;
    for (kc_ptopic_t *t = p->p_topics; t; t = t->pt_next)
        for (int32_t i = 0; i < t->pt_npartitions; i++) {
            kc_ppart_t *pp = &t->pt_parts[i];
            kc_pbatch_t *b = pp->pp_ready;
            if (pp->pp_txn == TP_IN || !b || b->pb_base_seq >= 0)
                continue;
            if (b->pb_deadline_ms > now) {
                if (next < 0 || b->pb_deadline_ms - now < next)
                    next = b->pb_deadline_ms - now;
                continue;
            }
            pp->pp_ready = b->pb_next;
            if (!pp->pp_ready)
                pp->pp_ready_tail = NULL;
            batch_report(p, b, -ETIMEDOUT, 0, -1);
            char why[256];
            snprintf(why, sizeof why,
                     "records for %s-%d waited delivery.timeout.ms (%d ms) for the partition to "
                     "join the transaction (AddPartitionsToTxn)",
                     t->pt_name, (int)i, kc_config(p->p_client)->delivery_timeout_ms);
            txn_set_error(p, EDDY_ERR_TXN_ABORTABLE, 0, why); /* fails the rest */
            return -1;
        }
    return next;
}

/* Fails every record not yet sent: the open and queued batches (those with
 * a sequence number only with numbered_too: leaving a gap in the sequence
 * is fine only when the producer is done with) and the records waiting for
 * metadata. */
static void fail_queued(kc_producer_t *p, int err, int16_t kerr, int numbered_too)
{
    for (kc_ptopic_t *t = p->p_topics; t; t = t->pt_next) {
        for (int32_t i = 0; i < t->pt_npartitions; i++) {
            kc_ppart_t *pp = &t->pt_parts[i];
            if (pp->pp_open) {
                kc_pbatch_t *b = pp->pp_open;
                pp->pp_open = NULL;
                batch_report(p, b, err, kerr, -1);
            }
            kc_pbatch_t **bp = &pp->pp_ready;
            pp->pp_ready_tail = NULL;
            while (*bp) {
                kc_pbatch_t *b = *bp;
                if (b->pb_base_seq >= 0 && !numbered_too) {
                    pp->pp_ready_tail = b;
                    bp = &b->pb_next;
                    continue;
                }
                *bp = b->pb_next;
                if (b->pb_base_seq >= 0)
                    p->p_txn_bump = 1;
                batch_report(p, b, err, kerr, -1);
            }
        }
        while (t->pt_pending) {
            kc_pending_t *pn = t->pt_pending;
            t->pt_pending = pn->pn_next;
            p->p_outstanding--;
            if (p->p_dr)
                p->p_dr(p, err, kerr, t->pt_name, pn->pn_partition, -1, pn->pn_opaque);
            pending_free(pn);
        }
        t->pt_pending_tail = NULL;
    }
}

/* Ends the operation with a result: its done callback now, or, for a sync
 * call, when the call's loop notices (kc_producer_* frees it). */
static void op_finish(kc_producer_t *p, int err, int16_t kerr)
{
    txn_op_t *op = p->p_op;
    if (!op || op->op_finished)
        return;
    op->op_finished = 1;
    op->op_err = err;
    op->op_kerr = kerr;
    switch (op->op_kind) {
    case OP_INIT: p->p_txn_state = err == 0 ? TXN_READY : TXN_UNINIT; break;
    case OP_SEND_OFFSETS: break;
    case OP_COMMIT:
    case OP_ABORT:
        if (err == 0) {
            p->p_txn_state = TXN_READY;
            p->p_txn_added_any = 0;
            if (p->p_txn_err == EDDY_ERR_TXN_ABORTABLE)
                p->p_txn_err = 0;
            for (kc_ptopic_t *t = p->p_topics; t; t = t->pt_next)
                for (int32_t i = 0; i < t->pt_npartitions; i++)
                    t->pt_parts[i].pp_txn = TP_OUT;
        } else if (err != EDDY_ERR_TXN_FATAL) {
            p->p_txn_state = TXN_IN_TXN; /* to be aborted (or committed again) */
        }
        break;
    }
    if (op->op_sync || op->op_orphaned)
        return;
    p->p_op = NULL;
    if (op->op_done)
        op->op_done(p, err, kerr, op->op_opaque);
    op_free(op);
}

/* A request answered by a retriable error: again after the backoff. */
static void op_retry(kc_producer_t *p, txn_op_t *op)
{
    int32_t ms = kc_config(p->p_client)->retry_backoff_ms;
    op->op_retry_at_ms = eddy_mono_ms() + ms;
    timer_arm(p, ms);
}

static txn_req_t *txn_req_new(kc_producer_t *p, int what)
{
    txn_req_t *r = calloc(1, sizeof *r);
    if (r) {
        r->tr_p = p;
        r->tr_what = what;
    }
    return r;
}

static void txn_req_free(txn_req_t *r)
{
    free(r->tr_tps);
    free(r->tr_parts);
    free(r);
}

/* Common entry of every answer: 1 when the producer is going away. */
static int txn_answer_begin(kc_producer_t *p)
{
    p->p_requests--;
    if (p->p_closing) {
        producer_free_if_done(p);
        return 1;
    }
    return 0;
}

static int txn_send(kc_producer_t *p, int32_t node, int16_t api, kc_encode_fn *enc,
                    kc_response_fn *done, txn_req_t *r)
{
    int rc = kc_request(p->p_client, node, api, 1, enc, done, r);
    if (rc == 0)
        p->p_requests++;
    return rc;
}

/* ---- FindCoordinator (transaction: key type 1; group: key type 0) ---- */

static void encode_txn_find(eddy_wr_t *wr, int16_t v, void *opaque)
{
    txn_req_t *r = opaque;
    const kc_config_t *cfg = kc_config(r->tr_p->p_client);
    txn_op_t *op = r->tr_p->p_op;
    const char *key = r->tr_key_type == 1 ? cfg->transactional_id
                                          : (op && op->op_group_id ? op->op_group_id : "");
    FindCoordinatorRequest req = {kstr_c(key), r->tr_key_type};
    wire_find_coordinator_req_encode(wr, v, &req);
}

static void on_txn_find(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque)
{
    txn_req_t *r = opaque;
    kc_producer_t *p = r->tr_p;
    int8_t type = r->tr_key_type;
    txn_req_free(r);
    if (txn_answer_begin(p))
        return;
    txn_op_t *op = p->p_op;
    if (type == 1)
        p->p_txn_finding = 0;
    else if (op)
        op->op_busy = 0;
    FindCoordinatorResponse resp;
    memset(&resp, 0, sizeof resp);
    eddy_arena_t a;
    arena_init(&a, 0);
    if (err == 0 && wire_find_coordinator_resp_decode(rd, v, &a, &resp) < 0)
        err = -EPROTO;
    if (err == 0 && resp.ErrorCode == KERR_NONE) {
        char host[256];
        snprintf(host, sizeof host, "%.*s", resp.Host.len > 0 ? resp.Host.len : 0, resp.Host.ptr);
        kc_broker_upsert(c, resp.NodeId, host, resp.Port);
        if (type == 1)
            p->p_txn_coord = resp.NodeId;
        else if (op)
            op->op_group_coord = resp.NodeId;
    } else if (err == 0 && !txn_retriable(resp.ErrorCode)) {
        char why[200];
        snprintf(why, sizeof why, "FindCoordinator for the %s failed (%s)",
                 type == 1 ? "transactional.id" : "group", kafka_err_name(resp.ErrorCode));
        if (type == 1 || txn_fatal(resp.ErrorCode))
            txn_set_error(p, EDDY_ERR_TXN_FATAL, resp.ErrorCode, why);
        else
            txn_set_error(p, EDDY_ERR_TXN_ABORTABLE, resp.ErrorCode, why);
    } else {
        /* loading, not available, connection lost: again after the backoff */
        if (op)
            op_retry(p, op);
        p->p_txn_add_retry_at_ms = eddy_mono_ms() + kc_config(c)->retry_backoff_ms;
        timer_arm(p, kc_config(c)->retry_backoff_ms);
    }
    arena_free(&a);
    send_ready(p);
    txn_run(p);
}

/* Whether the transaction coordinator is known; asks for it when not. */
static int txn_coord_known(kc_producer_t *p)
{
    if (p->p_txn_coord >= 0)
        return 1;
    if (p->p_txn_finding)
        return 0;
    txn_req_t *r = txn_req_new(p, API_FIND_COORDINATOR);
    if (!r)
        return 0;
    r->tr_key_type = 1;
    p->p_txn_finding = 1;
    if (txn_send(p, KC_NODE_ANY, API_FIND_COORDINATOR, encode_txn_find, on_txn_find, r) < 0) {
        p->p_txn_finding = 0;
        txn_req_free(r);
        timer_arm(p, kc_config(p->p_client)->retry_backoff_ms);
    }
    return 0;
}

/* A coordinator error on a request: forget the coordinator when it moved
 * or the connection failed. */
static void txn_coord_error(kc_producer_t *p, int err, int16_t kerr)
{
    if (err < 0 || kerr == KERR_NOT_COORDINATOR || kerr == KERR_COORDINATOR_NOT_AVAILABLE)
        p->p_txn_coord = -1;
}

/* ---- InitProducerId ---- */

static void encode_txn_init(eddy_wr_t *wr, int16_t v, void *opaque)
{
    txn_req_t *r = opaque;
    const kc_config_t *cfg = kc_config(r->tr_p->p_client);
    /* A bump names the current id and epoch (v3+, KIP-360): the
     * coordinator gives the next epoch of the same id. Below v3 the
     * request without them bumps the epoch too (a new producer's init). */
    kc_producer_t *p = r->tr_p;
    int bump = p->p_op && p->p_op->op_kind == OP_ABORT && v >= 3;
    InitProducerIdRequest req = {kstr_c(cfg->transactional_id), cfg->transaction_timeout_ms,
                                 bump ? p->p_pid : -1, (int16_t)(bump ? p->p_epoch : -1)};
    wire_init_producer_id_req_encode(wr, v, &req);
}

/* The answer of a request whose only result is one error code, handled
 * the same way for InitProducerId, AddOffsetsToTxn and EndTxn: 0 (go on),
 * or 1 when the operation retries or finished. */
static int op_error(kc_producer_t *p, txn_op_t *op, int err, int16_t kerr, const char *what)
{
    if (err == 0 && kerr == KERR_NONE)
        return 0;
    txn_coord_error(p, err, kerr);
    if (err == -ENOTSUP) {
        char why[200];
        snprintf(why, sizeof why, "the broker does not support %s (no transactions)", what);
        txn_set_error(p, EDDY_ERR_TXN_FATAL, 0, why);
        op_finish(p, EDDY_ERR_TXN_FATAL, 0);
        return 1;
    }
    if (err < 0 || txn_retriable(kerr)) {
        EDDY_LOG_DEBUG("producer", "%s: %s; retrying", what,
                       err < 0 ? eddy_strerror(err) : kafka_err_name(kerr));
        op_retry(p, op);
        return 1;
    }
    char why[200];
    snprintf(why, sizeof why, "the coordinator refused %s (%s)", what, kafka_err_name(kerr));
    int cls = txn_fatal(kerr) || op->op_step == ST_INIT_PID || op->op_step == ST_END_TXN
                  ? EDDY_ERR_TXN_FATAL
                  : EDDY_ERR_TXN_ABORTABLE;
    txn_set_error(p, cls, kerr, why);
    op_finish(p, cls, kerr);
    return 1;
}

static void on_txn_init(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque)
{
    (void)c;
    txn_req_t *r = opaque;
    kc_producer_t *p = r->tr_p;
    txn_req_free(r);
    if (txn_answer_begin(p))
        return;
    txn_op_t *op = p->p_op;
    if (!op)
        return;
    op->op_busy = 0;
    InitProducerIdResponse resp = {0, 0, -1, -1};
    if (err == 0 && rd && wire_init_producer_id_resp_decode(rd, v, &resp) < 0)
        err = -EPROTO;
    if (op_error(p, op, err, resp.ErrorCode, "InitProducerId"))
        return;
    p->p_pid = resp.ProducerId;
    p->p_epoch = resp.ProducerEpoch;
    p->p_gen++;
    p->p_pid_state = PID_READY;
    p->p_txn_bump = 0; /* every partition numbers from 0 under the new epoch (p_gen) */
    EDDY_LOG_DEBUG("producer", "transactional.id '%s': producer id %lld, epoch %d",
                   kc_config(p->p_client)->transactional_id, (long long)p->p_pid, (int)p->p_epoch);
    op_finish(p, 0, 0);
}

/* ---- AddPartitionsToTxn ---- */

static void encode_add_partitions(eddy_wr_t *wr, int16_t v, void *opaque)
{
    txn_req_t *r = opaque;
    kc_producer_t *p = r->tr_p;
    kc_txn_add_partitions_encode(wr, v, kc_config(p->p_client)->transactional_id, p->p_pid,
                                 p->p_epoch, r->tr_tps, r->tr_n);
}

static void on_add_partitions(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque)
{
    txn_req_t *r = opaque;
    kc_producer_t *p = r->tr_p;
    if (txn_answer_begin(p)) {
        txn_req_free(r);
        return;
    }
    p->p_txn_adding = 0;
    for (int i = 0; i < r->tr_n; i++)
        r->tr_tps[i].tt_error = -1; /* not in the answer */
    if (err == 0 && kc_txn_add_partitions_decode(rd, v, r->tr_tps, r->tr_n) < 0)
        err = -EPROTO;
    int retry = 0;
    for (int i = 0; i < r->tr_n; i++) {
        kc_ppart_t *pp = r->tr_parts[i];
        int16_t e = r->tr_tps[i].tt_error;
        if (pp->pp_txn != TP_ADDING)
            continue;
        if (err == 0 && e == KERR_NONE) {
            pp->pp_txn = TP_IN;
            p->p_txn_added_any = 1;
            continue;
        }
        pp->pp_txn = TP_OUT;
        if (err < 0 || e == -1 || txn_retriable(e)) {
            txn_coord_error(p, err, e);
            retry = 1;
            continue;
        }
        char why[256];
        snprintf(why, sizeof why, "the coordinator refused to add %s-%d to the transaction (%s)",
                 r->tr_tps[i].tt_topic, r->tr_tps[i].tt_partition, kafka_err_name(e));
        txn_set_error(p, txn_fatal(e) ? EDDY_ERR_TXN_FATAL : EDDY_ERR_TXN_ABORTABLE, e, why);
    }
    txn_req_free(r);
    if (retry) {
        int32_t ms = kc_config(c)->retry_backoff_ms;
        p->p_txn_add_retry_at_ms = eddy_mono_ms() + ms;
        timer_arm(p, ms);
    }
    send_ready(p);
    txn_run(p);
}

static int tp_cmp(const void *a, const void *b)
{
    return strcmp(((const kc_txn_tp_t *)a)->tt_topic, ((const kc_txn_tp_t *)b)->tt_topic);
}

/* Sends one AddPartitionsToTxn for every partition with records waiting
 * that is not in the transaction yet. */
static void txn_add_partitions(kc_producer_t *p)
{
    if (p->p_txn_adding || p->p_txn_err ||
        (p->p_txn_state != TXN_IN_TXN && p->p_txn_state != TXN_COMMITTING))
        return;
    int64_t now = eddy_mono_ms();
    if (p->p_txn_add_retry_at_ms > now) {
        timer_arm(p, p->p_txn_add_retry_at_ms - now);
        return;
    }
    if (!txn_coord_known(p))
        return;
    int n = 0;
    for (kc_ptopic_t *t = p->p_topics; t; t = t->pt_next)
        for (int32_t i = 0; i < t->pt_npartitions; i++)
            n += t->pt_parts[i].pp_txn == TP_OUT && t->pt_parts[i].pp_ready;
    if (n == 0)
        return;
    txn_req_t *r = txn_req_new(p, API_ADD_PARTITIONS_TO_TXN);
    if (!r || !(r->tr_tps = calloc((size_t)n, sizeof *r->tr_tps)) ||
        !(r->tr_parts = calloc((size_t)n, sizeof *r->tr_parts))) {
        if (r)
            txn_req_free(r);
        return;
    }
    /* Sorted by topic name, each entry with its partition state. */
    for (kc_ptopic_t *t = p->p_topics; t; t = t->pt_next)
        for (int32_t i = 0; i < t->pt_npartitions; i++)
            if (t->pt_parts[i].pp_txn == TP_OUT && t->pt_parts[i].pp_ready) {
                r->tr_tps[r->tr_n].tt_topic = t->pt_name;
                r->tr_tps[r->tr_n].tt_partition = i;
                r->tr_n++;
            }
    qsort(r->tr_tps, (size_t)r->tr_n, sizeof *r->tr_tps, tp_cmp);
    for (int k = 0; k < r->tr_n; k++) {
        kc_ptopic_t *t = p->p_topics;
        while (strcmp(t->pt_name, r->tr_tps[k].tt_topic) != 0)
            t = t->pt_next;
        r->tr_parts[k] = &t->pt_parts[r->tr_tps[k].tt_partition];
        r->tr_parts[k]->pp_txn = TP_ADDING;
    }
    p->p_txn_adding = 1;
    if (txn_send(p, p->p_txn_coord, API_ADD_PARTITIONS_TO_TXN, encode_add_partitions,
                 on_add_partitions, r) < 0) {
        for (int k = 0; k < r->tr_n; k++)
            r->tr_parts[k]->pp_txn = TP_OUT;
        p->p_txn_adding = 0;
        p->p_txn_coord = -1;
        txn_req_free(r);
        timer_arm(p, kc_config(p->p_client)->retry_backoff_ms);
    }
}

/* Whether a partition's batches may go: it is in the transaction. */
static int txn_partition_ready(kc_producer_t *p, kc_ppart_t *pp)
{
    if (pp->pp_txn == TP_IN)
        return 1;
    if (pp->pp_txn == TP_OUT)
        txn_add_partitions(p);
    return 0;
}

/* ---- AddOffsetsToTxn, TxnOffsetCommit, EndTxn ---- */

static void encode_add_offsets(eddy_wr_t *wr, int16_t v, void *opaque)
{
    txn_req_t *r = opaque;
    kc_producer_t *p = r->tr_p;
    kc_txn_add_offsets_encode(wr, v, kc_config(p->p_client)->transactional_id, p->p_pid, p->p_epoch,
                              p->p_op ? p->p_op->op_group_id : "");
}

static void encode_end_txn(eddy_wr_t *wr, int16_t v, void *opaque)
{
    txn_req_t *r = opaque;
    kc_producer_t *p = r->tr_p;
    kc_txn_end_encode(wr, v, kc_config(p->p_client)->transactional_id, p->p_pid, p->p_epoch,
                      p->p_op && p->p_op->op_kind == OP_COMMIT);
}

static void on_txn_simple(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque)
{
    (void)c;
    txn_req_t *r = opaque;
    kc_producer_t *p = r->tr_p;
    int api = r->tr_what;
    txn_req_free(r);
    if (txn_answer_begin(p))
        return;
    txn_op_t *op = p->p_op;
    if (!op)
        return;
    op->op_busy = 0;
    int16_t kerr = 0;
    if (err == 0 && rd && kc_txn_error_decode(rd, v, api, &kerr) < 0)
        err = -EPROTO;
    if (op_error(p, op, err, kerr, api == API_END_TXN ? "EndTxn" : "AddOffsetsToTxn"))
        return;
    if (api == API_END_TXN) {
        if (op->op_kind == OP_ABORT && p->p_txn_bump) {
            op->op_step = ST_INIT_PID;
            txn_run(p);
            return;
        }
        op_finish(p, 0, 0);
        return;
    }
    p->p_txn_added_any = 1;
    op->op_step = ST_GROUP_COORD;
    txn_run(p);
}

static void encode_txn_offset_commit(eddy_wr_t *wr, int16_t v, void *opaque)
{
    txn_req_t *r = opaque;
    kc_producer_t *p = r->tr_p;
    txn_op_t *op = p->p_op;
    if (!op) {
        wr->wr_err = -ECANCELED;
        return;
    }
    kc_txn_offset_commit_encode(wr, v, kc_config(p->p_client)->transactional_id, op->op_group_id,
                                p->p_pid, p->p_epoch, op->op_generation, op->op_member_id,
                                op->op_instance_id, op->op_tps, op->op_ntps);
}

static void on_txn_offset_commit(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque)
{
    (void)c;
    txn_req_t *r = opaque;
    kc_producer_t *p = r->tr_p;
    txn_req_free(r);
    if (txn_answer_begin(p))
        return;
    txn_op_t *op = p->p_op;
    if (!op)
        return;
    op->op_busy = 0;
    for (int i = 0; i < op->op_ntps; i++)
        op->op_tps[i].tt_error = 0;
    if (err == 0 && kc_txn_offset_commit_decode(rd, v, op->op_tps, op->op_ntps) < 0)
        err = -EPROTO;
    int16_t bad = 0;
    for (int i = 0; err == 0 && i < op->op_ntps; i++)
        if (op->op_tps[i].tt_error != KERR_NONE && (!bad || !txn_retriable(op->op_tps[i].tt_error)))
            bad = op->op_tps[i].tt_error;
    if (err == 0 && bad == KERR_NONE) {
        op_finish(p, 0, 0);
        return;
    }
    if (err < 0 || txn_retriable(bad) || bad == KERR_UNSTABLE_OFFSET_COMMIT) {
        if (err < 0 || bad == KERR_NOT_COORDINATOR || bad == KERR_COORDINATOR_NOT_AVAILABLE) {
            op->op_group_coord = -1;
            op->op_step = ST_GROUP_COORD;
        }
        op_retry(p, op);
        return;
    }
    char why[256];
    snprintf(why, sizeof why,
             "the group coordinator refused the transaction's offsets for group "
             "'%s' (%s)",
             op->op_group_id, kafka_err_name(bad));
    int cls = txn_fatal(bad) ? EDDY_ERR_TXN_FATAL : EDDY_ERR_TXN_ABORTABLE;
    txn_set_error(p, cls, bad, why);
    op_finish(p, cls, bad);
}

/* Moves the operation on as far as it can go now. */
static void txn_run(kc_producer_t *p)
{
    txn_op_t *op = p->p_op;
    if (!op || op->op_finished || op->op_busy || p->p_closing)
        return;
    if (p->p_txn_err == EDDY_ERR_TXN_FATAL) {
        op_finish(p, EDDY_ERR_TXN_FATAL, p->p_txn_kerr);
        return;
    }
    if (p->p_txn_err == EDDY_ERR_TXN_ABORTABLE && op->op_kind != OP_ABORT) {
        /* commit waits for the records in flight first (their outcome is
         * the transaction's), then reports the error */
        if (op->op_kind != OP_COMMIT || p->p_outstanding == 0) {
            op_finish(p, EDDY_ERR_TXN_ABORTABLE, p->p_txn_kerr);
            return;
        }
    }
    int64_t now = eddy_mono_ms();
    if (op->op_retry_at_ms > now) {
        timer_arm(p, op->op_retry_at_ms - now);
        return;
    }
    txn_req_t *r = NULL;
    int rc = 0;
    switch (op->op_step) {
    case ST_START:
        if (op->op_kind == OP_COMMIT || op->op_kind == OP_ABORT) {
            op->op_step = ST_WAIT_RECORDS;
            txn_run(p);
            return;
        }
        if (!txn_coord_known(p))
            return;
        op->op_step = op->op_kind == OP_INIT ? ST_INIT_PID : ST_ADD_OFFSETS;
        txn_run(p);
        return;
    case ST_INIT_PID:
        if (!txn_coord_known(p)) {
            return;
        }
        if (!(r = txn_req_new(p, API_INIT_PRODUCER_ID)))
            break;
        op->op_busy = 1;
        rc = txn_send(p, p->p_txn_coord, API_INIT_PRODUCER_ID, encode_txn_init, on_txn_init, r);
        break;
    case ST_ADD_OFFSETS:
        if (!txn_coord_known(p))
            return;
        if (!(r = txn_req_new(p, API_ADD_OFFSETS_TO_TXN)))
            break;
        op->op_busy = 1;
        rc = txn_send(p, p->p_txn_coord, API_ADD_OFFSETS_TO_TXN, encode_add_offsets, on_txn_simple,
                      r);
        break;
    case ST_GROUP_COORD:
        if (op->op_group_coord >= 0) {
            op->op_step = ST_OFFSET_COMMIT;
            txn_run(p);
            return;
        }
        if (!(r = txn_req_new(p, API_FIND_COORDINATOR)))
            break;
        r->tr_key_type = 0;
        op->op_busy = 1;
        rc = txn_send(p, KC_NODE_ANY, API_FIND_COORDINATOR, encode_txn_find, on_txn_find, r);
        break;
    case ST_OFFSET_COMMIT:
        if (op->op_group_coord < 0) {
            op->op_step = ST_GROUP_COORD;
            txn_run(p);
            return;
        }
        if (!(r = txn_req_new(p, API_TXN_OFFSET_COMMIT)))
            break;
        op->op_busy = 1;
        rc = txn_send(p, op->op_group_coord, API_TXN_OFFSET_COMMIT, encode_txn_offset_commit,
                      on_txn_offset_commit, r);
        break;
    case ST_WAIT_RECORDS:
        /* Every record answered, and no partition still joining (an
         * answer may yet add it to the transaction). */
        if (p->p_outstanding > 0 || p->p_txn_adding)
            return;
        if (!p->p_txn_added_any) {
            op_finish(p, 0, 0); /* nothing joined: nothing to end */
            return;
        }
        op->op_step = ST_END_TXN;
        txn_run(p);
        return;
    case ST_END_TXN:
        if (!txn_coord_known(p))
            return;
        if (!(r = txn_req_new(p, API_END_TXN)))
            break;
        op->op_busy = 1;
        rc = txn_send(p, p->p_txn_coord, API_END_TXN, encode_end_txn, on_txn_simple, r);
        break;
    }
    if (!r) {
        op_retry(p, op); /* out of memory: again later */
        return;
    }
    if (rc < 0) {
        op->op_busy = 0;
        txn_req_free(r);
        if (op->op_step == ST_OFFSET_COMMIT || op->op_step == ST_GROUP_COORD)
            op->op_group_coord = -1;
        else
            p->p_txn_coord = -1;
        op_retry(p, op);
    }
}

static int op_done_or_closing(void *opaque)
{
    kc_producer_t *p = opaque;
    return !p->p_op || p->p_op->op_finished;
}

/* Starts (or, after a sync call's timeout, resumes) an operation and, for
 * a sync call, waits for it. */
static int op_start(kc_producer_t *p, txn_op_t *op, int sync, kc_txn_fn *done, void *opaque)
{
    op->op_sync = sync;
    op->op_done = done;
    op->op_opaque = opaque;
    op->op_orphaned = 0;
    p->p_op = op;
    if (op->op_kind == OP_ABORT)
        /* The records not sent yet never join; those in flight are
         * waited for (their outcome no longer matters). */
        fail_queued(p, -ECANCELED, 0, 1);
    txn_run(p);
    if (!sync)
        return 0;
    const kc_config_t *cfg = kc_config(p->p_client);
    int64_t timeout = (int64_t)cfg->transaction_timeout_ms + cfg->request_timeout_ms;
    if (op->op_kind == OP_COMMIT && cfg->delivery_timeout_ms > cfg->transaction_timeout_ms)
        timeout = (int64_t)cfg->delivery_timeout_ms + cfg->request_timeout_ms;
    kc_run_until(p->p_client, op_done_or_closing, p, timeout);
    if (!op->op_finished) {
        op->op_sync = 0;
        op->op_orphaned = 1;
        op->op_done = NULL;
        return -ETIMEDOUT;
    }
    p->p_op = NULL;
    int err = op->op_err;
    if (done)
        done(p, err, op->op_kerr, opaque);
    op_free(op);
    return err;
}

/* Settles a call against the operation in progress: returns 1 with *rc
 * set when the call is answered here (the same call again after a
 * timeout, or another call while one runs), 0 when a new operation may
 * start. */
static int op_pending(kc_producer_t *p, enum txn_kind kind, int sync, kc_txn_fn *done, void *opaque,
                      int *rc)
{
    txn_op_t *op = p->p_op;
    if (!op)
        return 0;
    if (op->op_orphaned && op->op_kind == kind) {
        if (op->op_finished) {
            p->p_op = NULL;
            *rc = op->op_err;
            if (done)
                done(p, op->op_err, op->op_kerr, opaque);
            op_free(op);
            if (!sync && *rc != 0)
                *rc = 0; /* reported through done */
            return 1;
        }
        *rc = op_start(p, op, sync, done, opaque);
        return 1;
    }
    if (op->op_orphaned && op->op_finished) {
        p->p_op = NULL; /* a result nobody asked for again */
        op_free(op);
        return 0;
    }
    *rc = EDDY_ERR_TXN_STATE;
    return 1;
}

static txn_op_t *op_new(enum txn_kind kind)
{
    txn_op_t *op = calloc(1, sizeof *op);
    if (op) {
        op->op_kind = kind;
        op->op_group_coord = -1;
    }
    return op;
}

static int txn_check(const kc_producer_t *p)
{
    if (!p->p_txn)
        return EDDY_ERR_TXN_STATE;
    return p->p_txn_err == EDDY_ERR_TXN_FATAL ? EDDY_ERR_TXN_FATAL : 0;
}

int kc_producer_transactional(const kc_producer_t *p)
{
    return p->p_txn;
}

int kc_producer_init_transactions(kc_producer_t *p, int sync, kc_txn_fn *done, void *opaque)
{
    int rc = txn_check(p);
    if (rc)
        return rc;
    if (op_pending(p, OP_INIT, sync, done, opaque, &rc))
        return rc;
    if (p->p_txn_state != TXN_UNINIT)
        return EDDY_ERR_TXN_STATE;
    txn_op_t *op = op_new(OP_INIT);
    if (!op)
        return -ENOMEM;
    p->p_txn_state = TXN_INITING;
    return op_start(p, op, sync, done, opaque);
}

int kc_producer_begin_transaction(kc_producer_t *p)
{
    int rc = txn_check(p);
    if (rc)
        return rc;
    if (p->p_op || p->p_txn_state != TXN_READY) {
        EDDY_LOG_DEBUG("producer", "begin_transaction while %s", state_name(p->p_txn_state));
        return EDDY_ERR_TXN_STATE;
    }
    p->p_txn_state = TXN_IN_TXN;
    p->p_txn_added_any = 0;
    return 0;
}

int kc_producer_send_offsets_to_transaction(kc_producer_t *p, const kc_txn_offset_t *offsets, int n,
                                            const kc_consumer_group_metadata_t *gm, int sync,
                                            kc_txn_fn *done, void *opaque)
{
    int rc = txn_check(p);
    if (rc)
        return rc;
    if (op_pending(p, OP_SEND_OFFSETS, sync, done, opaque, &rc))
        return rc;
    if (p->p_txn_err)
        return p->p_txn_err;
    if (p->p_txn_state != TXN_IN_TXN)
        return EDDY_ERR_TXN_STATE;
    if (!gm || !gm->gm_group_id || !*gm->gm_group_id || n < 0 || (n > 0 && !offsets))
        return -EINVAL;
    if (n == 0) {
        /* Kafka's producer sends nothing for no offsets. */
        if (done)
            done(p, 0, 0, opaque);
        return 0;
    }
    txn_op_t *op = op_new(OP_SEND_OFFSETS);
    if (!op)
        return -ENOMEM;
    op->op_group_id = strdup(gm->gm_group_id);
    op->op_member_id = strdup(gm->gm_member_id ? gm->gm_member_id : "");
    op->op_instance_id = gm->gm_group_instance_id ? strdup(gm->gm_group_instance_id) : NULL;
    op->op_generation = gm->gm_generation_id;
    op->op_tps = calloc((size_t)n, sizeof *op->op_tps);
    int bad = !op->op_group_id || !op->op_member_id || !op->op_tps ||
              (gm->gm_group_instance_id && !op->op_instance_id);
    for (int i = 0; !bad && i < n; i++) {
        kc_txn_tp_t *t = &op->op_tps[i];
        t->tt_topic = offsets[i].to_topic ? strdup(offsets[i].to_topic) : NULL;
        t->tt_metadata = offsets[i].to_metadata ? strdup(offsets[i].to_metadata) : NULL;
        t->tt_partition = offsets[i].to_partition;
        t->tt_offset = offsets[i].to_offset;
        t->tt_leader_epoch = offsets[i].to_leader_epoch;
        op->op_ntps = i + 1;
        bad = !t->tt_topic || (offsets[i].to_metadata && !t->tt_metadata);
    }
    if (bad) {
        op_free(op);
        return -ENOMEM;
    }
    qsort(op->op_tps, (size_t)n, sizeof *op->op_tps, tp_cmp);
    return op_start(p, op, sync, done, opaque);
}

int kc_producer_commit_transaction(kc_producer_t *p, int sync, kc_txn_fn *done, void *opaque)
{
    int rc = txn_check(p);
    if (rc)
        return rc;
    if (op_pending(p, OP_COMMIT, sync, done, opaque, &rc))
        return rc;
    if (p->p_txn_err)
        return p->p_txn_err;
    if (p->p_txn_state != TXN_IN_TXN)
        return EDDY_ERR_TXN_STATE;
    txn_op_t *op = op_new(OP_COMMIT);
    if (!op)
        return -ENOMEM;
    p->p_txn_state = TXN_COMMITTING;
    kc_producer_send_now(p);
    return op_start(p, op, sync, done, opaque);
}

int kc_producer_abort_transaction(kc_producer_t *p, int sync, kc_txn_fn *done, void *opaque)
{
    int rc = txn_check(p);
    if (rc)
        return rc;
    if (op_pending(p, OP_ABORT, sync, done, opaque, &rc))
        return rc;
    if (p->p_txn_state != TXN_IN_TXN)
        return EDDY_ERR_TXN_STATE;
    txn_op_t *op = op_new(OP_ABORT);
    if (!op)
        return -ENOMEM;
    p->p_txn_state = TXN_ABORTING;
    return op_start(p, op, sync, done, opaque);
}

int kc_producer_txn_error(const kc_producer_t *p, int16_t *kafka_err, const char **why)
{
    if (kafka_err)
        *kafka_err = p->p_txn_err ? p->p_txn_kerr : 0;
    if (why)
        *why = p->p_txn_err ? p->p_txn_why : NULL;
    return p->p_txn_err;
}

/* ---- public ---- */

kc_producer_t *kc_producer_new(kc_client_t *c, kc_delivery_fn *dr)
{
    kc_producer_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->p_client = c;
    p->p_dr = dr;
    const char *acks = kc_config(c)->acks;
    p->p_acks = (int16_t)(strcmp(acks, "all") == 0 ? -1 : atoi(acks));
    char why[256];
    if (kc_config_compression(kc_config(c), &p->p_codec, &p->p_level, why, sizeof why) < 0) {
        /* kc_config_load checked the settings the client was made from. */
        EDDY_LOG_ERROR("producer", "%s", why);
        free(p);
        return NULL;
    }
    const char *off_why = NULL;
    if (kc_config_idempotence(kc_config(c), &p->p_idem, &off_why, why, sizeof why) < 0) {
        EDDY_LOG_ERROR("producer", "%s", why);
        free(p);
        return NULL;
    }
    p->p_idem_explicit = p->p_idem && kc_config(c)->enable_idempotence_set;
    if (off_why)
        EDDY_LOG_INFO("producer",
                      "idempotence is off: %s (enable.idempotence is true only by "
                      "default)",
                      off_why);
    if (kc_config(c)->transactional_id) {
        p->p_txn = 1;
        p->p_idem = p->p_idem_explicit = 1; /* kc_config_idempotence refused conflicts */
        p->p_txn_coord = -1;
    }
    uv_timer_init(kc_loop(c), &p->p_timer);
    p->p_timer.data = p;
    p->p_timer_open = 1;
    c->c_producer = p;
    return p;
}

int64_t kc_record_size(const kc_record_t *rec)
{
    return BATCH_HEADER_SIZE + record_size_estimate(rec);
}

int kc_produce(kc_producer_t *p, const char *topic, int32_t partition, const kc_record_t *rec,
               void *opaque)
{
    const kc_config_t *cfg = kc_config(p->p_client);
    if (partition < -1)
        return -EINVAL;
    if (p->p_txn && p->p_txn_err)
        return p->p_txn_err;
    if (p->p_txn && p->p_txn_state != TXN_IN_TXN)
        return EDDY_ERR_TXN_STATE; /* records go inside begin .. commit/abort only */
    if (kc_record_size(rec) > cfg->max_request_size)
        return EDDY_ERR_TOO_LARGE;
    kc_ptopic_t *t = topic_get(p, topic);
    if (!t)
        return -ENOMEM;
    int64_t deadline = eddy_mono_ms() + cfg->delivery_timeout_ms;
    int rc;
    if (t->pt_npartitions == 0) {
        topic_refresh(p, t);
        if (t->pt_npartitions > 0 && t->pt_pending)
            dispatch_pending(p, t); /* the records that waited go first */
        if (t->pt_npartitions == 0) {
            rc = pending_add(t, partition, rec, opaque, deadline);
            if (rc == 0) {
                p->p_outstanding++;
                request_metadata(p, t);
                timer_arm(p, cfg->retry_backoff_ms);
            }
            return rc;
        }
    }
    int32_t part = choose_partition(p, t, partition, rec);
    if (part < 0 || part >= t->pt_npartitions)
        return -EINVAL;
    rc = append(p, t, part, rec, opaque, deadline);
    if (rc == 0) {
        p->p_outstanding++;
        send_ready(p);
    }
    return rc;
}

void kc_producer_set_opaque(kc_producer_t *p, void *opaque)
{
    p->p_opaque = opaque;
}

void *kc_producer_opaque(const kc_producer_t *p)
{
    return p->p_opaque;
}

int64_t kc_producer_outstanding(const kc_producer_t *p)
{
    return p->p_outstanding;
}

static int flushed(void *opaque)
{
    return ((kc_producer_t *)opaque)->p_outstanding == 0;
}

void kc_producer_send_now(kc_producer_t *p)
{
    for (kc_ptopic_t *t = p->p_topics; t; t = t->pt_next)
        for (int32_t i = 0; i < t->pt_npartitions; i++)
            batch_close(t, i);
    send_ready(p);
}

int kc_producer_flush(kc_producer_t *p, int64_t timeout_ms)
{
    kc_producer_send_now(p);
    return kc_run_until(p->p_client, flushed, p, timeout_ms);
}

static void producer_free_if_done(kc_producer_t *p)
{
    if (p->p_closing && p->p_requests == 0 && !p->p_timer_open)
        free(p);
}

static void on_timer_closed(uv_handle_t *h)
{
    kc_producer_t *p = h->data;
    p->p_timer_open = 0;
    producer_free_if_done(p);
}

void kc_producer_destroy(kc_producer_t *p)
{
    if (!p)
        return;
    kc_ptopic_t *t = p->p_topics;
    while (t) {
        kc_ptopic_t *next = t->pt_next;
        for (int32_t i = 0; i < t->pt_npartitions; i++) {
            kc_ppart_t *pp = &t->pt_parts[i];
            if (pp->pp_open)
                batch_report(p, pp->pp_open, -ECANCELED, 0, -1);
            while (pp->pp_ready) {
                kc_pbatch_t *b = pp->pp_ready;
                pp->pp_ready = b->pb_next;
                batch_report(p, b, -ECANCELED, 0, -1);
            }
        }
        while (t->pt_pending) {
            kc_pending_t *pn = t->pt_pending;
            t->pt_pending = pn->pn_next;
            if (p->p_dr)
                p->p_dr(p, -ECANCELED, 0, t->pt_name, pn->pn_partition, -1, pn->pn_opaque);
            pending_free(pn);
        }
        /* A refresh still out answers into its kc_pmd_t, not the topic. */
        if (t->pt_md)
            t->pt_md->pmd_topic = NULL;
        free(t->pt_parts);
        free(t->pt_available);
        free(t->pt_name);
        free(t);
        t = next;
    }
    p->p_topics = NULL;
    if (p->p_op) {
        /* An async call still running ends with -ECANCELED. */
        txn_op_t *op = p->p_op;
        p->p_op = NULL;
        if (op->op_done && !op->op_finished)
            op->op_done(p, -ECANCELED, 0, op->op_opaque);
        op_free(op);
    }
    p->p_dr = NULL; /* requests still out end silently */
    if (p->p_client->c_producer == p)
        p->p_client->c_producer = NULL;
    /* Requests still out come back (answered or cancelled) before it goes. */
    p->p_closing = 1;
    uv_close((uv_handle_t *)&p->p_timer, on_timer_closed);
}

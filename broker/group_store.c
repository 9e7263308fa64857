/* The group coordinator's storage: committed offsets and group records in
 * the compacted topic __consumer_offsets.
 *
 * Records in __consumer_offsets use Kafka's own schemas (so Kafka's tools
 * read them), each key and value starting with an int16 schema version:
 *
 *   offset commit    key   v1: group string, topic string, partition int32
 *                    value v3: offset int64, leader_epoch int32, metadata string,
 *                              commit_timestamp int64
 *   group metadata   key   v2: group string
 *                    value v3: protocol_type string, generation int32,
 *                              protocol nullable string, leader nullable string,
 *                              current_state_timestamp int64,
 *                              members [member_id, group_instance_id (nullable),
 *                              client_id, client_host, rebalance_timeout int32,
 *                              session_timeout int32, subscription bytes,
 *                              assignment bytes]
 *   a null value deletes the key (tombstone).
 *
 * Offsets of a transaction (TxnOffsetCommit) are written in a
 * transactional batch of the producer and stay pending, invisible to
 * OffsetFetch, until the transaction's marker in the same partition:
 * commit makes them the committed offsets unless a plain commit was
 * written later, abort drops them.
 *
 * Replay at start-up applies the records of every partition in offset
 * order, markers included; offsets still pending at the end wait for the
 * transaction coordinator. Groups come back with their generation, protocol
 * and offsets, and the members of their last Stable generation with their
 * assignments (their sessions restart), as Kafka's coordinator loads them:
 * docs/groups.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "broker/group_int.h"
#include "broker/txn_coordinator.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "wire/api_group.h"
#include "wire/recordbatch.h"

/* ---- records in __consumer_offsets ---- */

typedef struct store_batch {
    eddy_wr_t sb_batch;
    wire_batch_builder_t sb_b;
    eddy_wr_t sb_key, sb_val;
    int sb_n;
    int sb_txn; /* a transactional batch (TxnOffsetCommit) */
} store_batch_t;

static void sb_begin(store_batch_t *sb, const wire_batch_header_t *tmpl)
{
    wr_init(&sb->sb_batch);
    wr_init(&sb->sb_key);
    wr_init(&sb->sb_val);
    wire_batch_begin(&sb->sb_b, &sb->sb_batch, tmpl);
    sb->sb_n = 0;
    sb->sb_txn = (tmpl->attributes & BATCH_ATTR_TRANSACTIONAL) != 0;
}

static void sb_init(store_batch_t *sb)
{
    wire_batch_header_t tmpl = wire_batch_header_default();
    sb_begin(sb, &tmpl);
}

/* A batch of the producer's transaction, written as Kafka's coordinator
 * writes it: producer id and epoch, transactional, no sequence. */
static void sb_init_txn(store_batch_t *sb, int64_t producer_id, int16_t producer_epoch)
{
    wire_batch_header_t tmpl = wire_batch_header_default();
    tmpl.producerId = producer_id;
    tmpl.producerEpoch = producer_epoch;
    tmpl.baseSequence = -1;
    tmpl.attributes = BATCH_ATTR_TRANSACTIONAL;
    sb_begin(sb, &tmpl);
}

/* Adds the record built in sb_key / sb_val (tombstone: no value). */
static void sb_add(store_batch_t *sb, int tombstone)
{
    wire_batch_add(&sb->sb_b, eddy_wall_ms(), sb->sb_key.wr_buf, (int32_t)sb->sb_key.wr_len,
                   tombstone ? NULL : sb->sb_val.wr_buf,
                   tombstone ? -1 : (int32_t)sb->sb_val.wr_len, NULL, 0);
    wr_reset(&sb->sb_key);
    wr_reset(&sb->sb_val);
    sb->sb_n++;
}

static void sb_free(store_batch_t *sb)
{
    wr_free(&sb->sb_batch);
    wr_free(&sb->sb_key);
    wr_free(&sb->sb_val);
}

static void key_offset(eddy_wr_t *w, const char *group, kstr_t topic, int32_t partition)
{
    wr_i16(w, 1);
    wr_cstring(w, group);
    wr_string(w, topic);
    wr_i32(w, partition);
}

/* An offset commit's record, plain or transactional (the batch tells them
 * apart): key v1 (group, topic, partition), value v3 (offset, leader epoch,
 * metadata, commit timestamp). */
static void sb_add_offset(store_batch_t *sb, const char *group, kstr_t topic,
                          const OffsetCommitRequestPartition *p, int64_t now_ms)
{
    key_offset(&sb->sb_key, group, topic, p->PartitionIndex);
    wr_i16(&sb->sb_val, 3);
    wr_i64(&sb->sb_val, p->CommittedOffset);
    wr_i32(&sb->sb_val, p->CommittedLeaderEpoch);
    wr_string(&sb->sb_val, p->CommittedMetadata.len >= 0 ? p->CommittedMetadata : kstr_c(""));
    wr_i64(&sb->sb_val, now_ms);
    sb_add(sb, 0);
}

static void key_group(eddy_wr_t *w, const char *group)
{
    wr_i16(w, 2);
    wr_cstring(w, group);
}

static void value_group(eddy_wr_t *w, const group_t *g)
{
    wr_i16(w, 3);
    wr_cstring(w, g->g_protocol_type ? g->g_protocol_type : "");
    wr_i32(w, g->g_generation);
    wr_cstring(w, g->g_protocol);
    wr_cstring(w, g->g_leader);
    wr_i64(w, g->g_state_ts);
    wr_i32(w, g->g_nmembers);
    for (const grp_member_t *m = g->g_members; m; m = m->m_next) {
        const grp_protocol_t *p = grp_member_protocol(m, g->g_protocol);
        wr_cstring(w, m->m_id);
        wr_cstring(w, m->m_instance_id);
        wr_cstring(w, m->m_client_id);
        wr_cstring(w, m->m_client_host);
        wr_i32(w, m->m_rebalance_timeout);
        wr_i32(w, m->m_session_timeout);
        wr_kbytes(w, p ? (kstr_t){(const char *)p->gp_meta, p->gp_meta_len} : (kstr_t){"", 0});
        wr_kbytes(w, (kstr_t){(const char *)(m->m_assignment ? m->m_assignment : (uint8_t *)""),
                              m->m_assignment_len});
    }
}

static partition_t *group_store_partition(group_coordinator_t *gc, const char *group)
{
    topic_t *t = gc->gc_topic;
    return t->t_parts[group_partition_for(group, strlen(group), t->t_npartitions)];
}

/* Appends the batch to the group's partition; returns a KERR_* code and the
 * offset of the batch's last record in *last_offset (may be NULL). */
static int16_t sb_append(group_coordinator_t *gc, store_batch_t *sb, const char *group,
                         int64_t *last_offset)
{
    if (sb->sb_n == 0)
        return KERR_NONE;
    if (wire_batch_end(&sb->sb_b, 0) < 0)
        return KERR_UNKNOWN_SERVER_ERROR;
    topic_t *t = gc->gc_topic;
    partition_t *p = group_store_partition(gc, group);
    log_append_info_t info;
    char err[256];
    int rc = log_append(p->p_log, sb->sb_batch.wr_buf, sb->sb_batch.wr_len,
                        sb->sb_txn ? LOG_APPEND_COORDINATOR : 0, eddy_wall_ms(), &info, err,
                        sizeof err);
    if (rc == EDDY_ERR_INVALID_PRODUCER_EPOCH)
        return KERR_INVALID_PRODUCER_EPOCH; /* a zombie: a newer epoch wrote here */
    if (rc < 0) {
        /* Every commit of every group on a failing partition lands here. */
        static eddy_log_limit_t store_limit = EDDY_LOG_LIMIT_INIT;
        EDDY_LOG_LIMITED(EDDY_LOG_LVL_ERROR, "group", &store_limit, 10000,
                         "group %s: cannot store to %s-%d: %s", group, t->t_name, p->p_index,
                         rc == EDDY_ERR_LOG_OFFLINE ? "the log is offline" : err);
        return KERR_COORDINATOR_NOT_AVAILABLE;
    }
    if (info.ai_flush_due)
        broker_flush_partition(gc->gc_broker, p);
    if (last_offset)
        *last_offset = info.ai_last_offset;
    return KERR_NONE;
}

/* Records the group's generation (called when it becomes Stable or Empty). */
void grp_store_group(group_coordinator_t *gc, group_t *g)
{
    store_batch_t sb;
    sb_init(&sb);
    g->g_state_ts = eddy_wall_ms();
    key_group(&sb.sb_key, g->g_id);
    value_group(&sb.sb_val, g);
    sb_add(&sb, 0);
    sb_append(gc, &sb, g->g_id, NULL);
    sb_free(&sb);
}

static grp_offset_t *offset_find(group_t *g, const char *topic, size_t tlen, int32_t partition)
{
    for (grp_offset_t *o = g->g_offsets; o; o = o->o_next)
        if (o->o_partition == partition && strlen(o->o_topic) == tlen &&
            memcmp(o->o_topic, topic, tlen) == 0)
            return o;
    return NULL;
}

/* The pending transactional offset of producer_id for the partition. */
static grp_offset_t *txn_offset_find(group_t *g, int64_t producer_id, kstr_t topic,
                                     int32_t partition)
{
    for (grp_offset_t *o = g->g_txn_offsets; o; o = o->o_next)
        if (o->o_producer_id == producer_id && o->o_partition == partition &&
            kstr_eq(topic, o->o_topic))
            return o;
    return NULL;
}

/* Sets the committed offset (producer_id -1) or the producer's pending
 * transactional one. */
static int offset_put(group_t *g, int64_t producer_id, kstr_t topic, int32_t partition,
                      int64_t offset, int32_t epoch, kstr_t metadata, int64_t ts,
                      int64_t record_offset)
{
    grp_offset_t **list = producer_id >= 0 ? &g->g_txn_offsets : &g->g_offsets;
    grp_offset_t *o = producer_id >= 0 ? txn_offset_find(g, producer_id, topic, partition)
                                       : offset_find(g, topic.ptr, (size_t)topic.len, partition);
    char *meta = metadata.len >= 0 ? kstr_dup(metadata) : NULL;
    if (metadata.len >= 0 && !meta)
        return -ENOMEM;
    if (!o) {
        o = calloc(1, sizeof *o);
        if (!o || !(o->o_topic = kstr_dup(topic))) {
            free(o);
            free(meta);
            return -ENOMEM;
        }
        o->o_partition = partition;
        o->o_producer_id = producer_id;
        o->o_next = *list;
        *list = o;
    }
    o->o_offset = offset;
    o->o_leader_epoch = epoch;
    o->o_commit_ts = ts;
    o->o_record_offset = record_offset;
    free(o->o_metadata);
    o->o_metadata = meta;
    return 0;
}

static int offset_set(group_t *g, kstr_t topic, int32_t partition, int64_t offset, int32_t epoch,
                      kstr_t metadata, int64_t ts, int64_t record_offset)
{
    return offset_put(g, -1, topic, partition, offset, epoch, metadata, ts, record_offset);
}

static void offset_unlink(grp_offset_t **pp)
{
    grp_offset_t *o = *pp;
    *pp = o->o_next;
    free(o->o_topic);
    free(o->o_metadata);
    free(o);
}

/* A tombstone removes the committed offset and, as Kafka does, every
 * pending transactional one of the partition. */
static void offset_remove(group_t *g, kstr_t topic, int32_t partition)
{
    for (grp_offset_t **pp = &g->g_offsets; *pp; pp = &(*pp)->o_next)
        if ((*pp)->o_partition == partition && kstr_eq(topic, (*pp)->o_topic)) {
            offset_unlink(pp);
            break;
        }
    for (grp_offset_t **pp = &g->g_txn_offsets; *pp;)
        if ((*pp)->o_partition == partition && kstr_eq(topic, (*pp)->o_topic))
            offset_unlink(pp);
        else
            pp = &(*pp)->o_next;
}

static void offset_remove_committed(group_t *g, grp_offset_t *o)
{
    for (grp_offset_t **pp = &g->g_offsets; *pp; pp = &(*pp)->o_next)
        if (*pp == o) {
            offset_unlink(pp);
            return;
        }
}

/* Does any open transaction hold an offset for the partition? */
static int txn_pending(const group_t *g, kstr_t topic, int32_t partition)
{
    for (const grp_offset_t *o = g ? g->g_txn_offsets : NULL; o; o = o->o_next)
        if (o->o_partition == partition && kstr_eq(topic, o->o_topic))
            return 1;
    return 0;
}

/* The marker of producer_id's transaction: its pending offsets become the
 * committed ones (commit; a plain commit written after them stays) or go
 * (abort). Returns how many it had. */
static int txn_apply(group_t *g, int64_t producer_id, int commit)
{
    int n = 0;
    for (grp_offset_t **pp = &g->g_txn_offsets; *pp;) {
        grp_offset_t *t = *pp;
        if (t->o_producer_id != producer_id) {
            pp = &t->o_next;
            continue;
        }
        n++;
        grp_offset_t *o = commit ? offset_find(g, t->o_topic, strlen(t->o_topic), t->o_partition)
                                 : NULL;
        if (commit && (!o || o->o_record_offset < t->o_record_offset)) {
            /* Moved, not copied: nothing here can fail. */
            if (o)
                offset_remove_committed(g, o);
            *pp = t->o_next;
            t->o_producer_id = -1;
            t->o_next = g->g_offsets;
            g->g_offsets = t;
            continue;
        }
        offset_unlink(pp);
    }
    return n;
}

/* A group record's value (any of Kafka's versions 0-3): the generation,
 * protocol and leader, and the members with their subscriptions and
 * assignments. A group stored with members comes back Stable with them,
 * their sessions starting now, as Kafka's coordinator loads a group: the
 * members heartbeat on as before the restart, with no rebalance; those
 * that do not come back expire. A value that does not parse leaves the
 * group Empty with what it had (and says so). */
static void replay_group_value(group_t *g, const wire_record_t *rec)
{
    eddy_rd_t v;
    rd_init(&v, rec->value, (size_t)rec->valueLength);
    int16_t ver = rd_i16(&v);
    kstr_t ptype = rd_string(&v);
    int32_t gen = rd_i32(&v);
    kstr_t proto = rd_string(&v);
    kstr_t leader = rd_string(&v);
    if (ver >= 2)
        rd_i64(&v); /* current_state_timestamp */
    int32_t n = rd_i32(&v);
    if (v.rd_err || ver < 0 || ver > 3) {
        EDDY_LOG_ERROR("group",
                       "group %s: its record at %s offset %lld (value version %d) does not "
                       "parse: the group keeps what the records before it said",
                       g->g_id, OFFSETS_TOPIC, (long long)rec->offset, (int)ver);
        return;
    }
    char *pt = kstr_dup(ptype), *pr = kstr_dup(proto), *ld = kstr_dup(leader);
    free(g->g_protocol_type);
    free(g->g_protocol);
    free(g->g_leader);
    g->g_protocol_type = pt;
    g->g_protocol = pr;
    g->g_leader = NULL;
    g->g_generation = gen;
    g->g_state = GRP_EMPTY;
    grp_members_clear(g);
    for (int32_t i = 0; i < n && !v.rd_err; i++) {
        grp_member_record_t r;
        r.mr_id = rd_string(&v);
        r.mr_instance_id = ver >= 3 ? rd_string(&v) : (kstr_t){NULL, -1};
        r.mr_client_id = rd_string(&v);
        r.mr_client_host = rd_string(&v);
        r.mr_rebalance_timeout = ver >= 1 ? rd_i32(&v) : 0;
        r.mr_session_timeout = rd_i32(&v);
        r.mr_subscription = rd_kbytes(&v);
        r.mr_assignment = rd_kbytes(&v);
        if (v.rd_err || r.mr_id.len <= 0 || r.mr_client_id.len < 0 || r.mr_client_host.len < 0 ||
            r.mr_subscription.len < 0 || r.mr_assignment.len < 0 || r.mr_session_timeout <= 0) {
            v.rd_err = 1;
            break;
        }
        if (ver < 1)
            r.mr_rebalance_timeout = r.mr_session_timeout;
        if (!grp_member_restore(g, &r)) {
            v.rd_err = 1;
            break;
        }
    }
    if (v.rd_err) {
        EDDY_LOG_ERROR("group",
                       "group %s: its record at %s offset %lld does not parse: the group "
                       "comes back Empty (generation %d); its members rejoin",
                       g->g_id, OFFSETS_TOPIC, (long long)rec->offset, (int)gen);
        grp_members_clear(g);
        free(ld);
        return;
    }
    if (g->g_members && pr && ld && grp_member_find(g, kstr_c(ld))) {
        g->g_state = GRP_STABLE;
        g->g_leader = ld;
    } else {
        grp_members_clear(g);
        free(ld);
    }
}

/* Applies one record of __consumer_offsets during replay; an offset
 * commit in a transactional batch of producer_id (else -1) stays pending
 * until its marker. */
static void replay_record(group_coordinator_t *gc, const wire_record_t *rec, int64_t producer_id)
{
    if (rec->keyLength < 2)
        return;
    eddy_rd_t k, v;
    rd_init(&k, rec->key, (size_t)rec->keyLength);
    int16_t kver = rd_i16(&k);
    kstr_t group = rd_string(&k);
    if (k.rd_err || group.len < 0)
        return;
    if (kver == 0 || kver == 1) {
        kstr_t topic = rd_string(&k);
        int32_t partition = rd_i32(&k);
        if (k.rd_err || topic.len < 0)
            return;
        group_t *g = rec->valueLength >= 0 ? grp_get(gc, group) : grp_find(gc, group);
        if (!g)
            return;
        if (rec->valueLength < 0) {
            offset_remove(g, topic, partition);
            return;
        }
        rd_init(&v, rec->value, (size_t)rec->valueLength);
        int16_t vver = rd_i16(&v);
        int64_t offset = rd_i64(&v);
        int32_t epoch = vver >= 3 ? rd_i32(&v) : -1;
        kstr_t meta = rd_string(&v);
        int64_t ts = rd_i64(&v);
        if (!v.rd_err)
            offset_put(g, producer_id, topic, partition, offset, epoch, meta, ts, rec->offset);
    } else if (kver == 2) {
        group_t *g = grp_find(gc, group);
        if (rec->valueLength < 0) {
            /* The group was deleted: its offsets were tombstoned too. */
            if (g) {
                for (group_t **pp = &gc->gc_groups; *pp; pp = &(*pp)->g_next)
                    if (*pp == g) {
                        *pp = g->g_next;
                        break;
                    }
                grp_free(g);
            }
            return;
        }
        if (!g && !(g = grp_get(gc, group)))
            return;
        replay_group_value(g, rec);
    }
}

/* Applies the end of producer_id's transaction to every group stored in
 * partition index of __consumer_offsets. */
static int txn_apply_partition(group_coordinator_t *gc, int32_t index, int64_t producer_id,
                               int commit)
{
    int n = 0;
    for (group_t *g = gc->gc_groups; g; g = g->g_next)
        if (g->g_txn_offsets &&
            group_partition_for(g->g_id, strlen(g->g_id), gc->gc_topic->t_npartitions) == index)
            n += txn_apply(g, producer_id, commit);
    return n;
}

/* A control batch's marker: 1 commit, 0 abort, -1 not a marker. Key:
 * version int16, type int16 (0 abort, 1 commit). */
static int replay_marker(wire_record_iter_t *it)
{
    wire_record_t rec;
    if (wire_record_next(it, &rec) != 1 || rec.keyLength < 4)
        return -1;
    eddy_rd_t k;
    rd_init(&k, rec.key, (size_t)rec.keyLength);
    rd_i16(&k);
    int16_t type = rd_i16(&k);
    return k.rd_err || (type != 0 && type != 1) ? -1 : type;
}

static int replay_partition(group_coordinator_t *gc, partition_t *p)
{
    log_t *log = p->p_log;
    int64_t offset = log_start_offset(log);
    while (offset < log_end_offset(log)) {
        log_slice_t sl;
        int rc = log_read(log, offset, 1 << 20, &sl);
        if (rc < 0)
            return rc;
        if (sl.sl_len == 0)
            break;
        uint8_t *buf = malloc(sl.sl_len);
        rc = buf ? log_slice_read(log, &sl, buf) : -ENOMEM;
        if (rc < 0) {
            free(buf);
            log_slice_release(log, &sl);
            return rc;
        }
        log_slice_release(log, &sl);
        for (size_t pos = 0; pos < sl.sl_len;) {
            int64_t size = wire_batch_size(buf + pos);
            wire_record_iter_t it;
            wire_record_t rec;
            char why[160];
            if (wire_record_iter_open(&it, buf + pos, (size_t)size,
                                      log_inflate_limit(&p->p_topic->t_cfg), why,
                                      sizeof why) == 0) {
                const wire_batch_header_t *h = &it.ri_hdr;
                int txn = h->producerId >= 0 && (h->attributes & BATCH_ATTR_TRANSACTIONAL);
                if (txn && (h->attributes & BATCH_ATTR_CONTROL)) {
                    int marker = replay_marker(&it);
                    if (marker >= 0)
                        txn_apply_partition(gc, p->p_index, h->producerId, marker);
                } else {
                    while (wire_record_next(&it, &rec) == 1)
                        if (rec.offset >= offset)
                            replay_record(gc, &rec, txn ? h->producerId : -1);
                }
                offset = wire_batch_last_offset(&it.ri_hdr) + 1;
                wire_record_iter_close(&it);
            } else {
                EDDY_LOG_ERROR("group",
                               "__consumer_offsets: batch at offset %lld unreadable, its "
                               "records are not replayed: %s",
                               (long long)offset, why);
                wire_batch_header_t h;
                wire_batch_header_read(buf + pos, (size_t)size, &h);
                offset = wire_batch_last_offset(&h) + 1;
            }
            pos += (size_t)size;
        }
        free(buf);
    }
    return 0;
}

int32_t group_store_partition_of(const group_coordinator_t *gc, const char *group_id)
{
    return group_partition_for(group_id, strlen(group_id), gc->gc_topic->t_npartitions);
}

int group_txn_complete_partition(group_coordinator_t *gc, int32_t partition, int64_t producer_id,
                                 int16_t producer_epoch, int commit, int32_t coordinator_epoch)
{
    topic_t *t = gc->gc_topic;
    if (partition < 0 || partition >= t->t_npartitions || producer_id < 0)
        return EDDY_ERR_INVALID_ARG;
    partition_t *p = t->t_parts[partition];
    int64_t at = -1;
    int rc = log_append_marker(p->p_log, producer_id, producer_epoch, commit, coordinator_epoch,
                               eddy_wall_ms(), &at);
    if (rc < 0) {
        /* The coordinator retries: one line per interval, not per retry. */
        static eddy_log_limit_t marker_limit = EDDY_LOG_LIMIT_INIT;
        EDDY_LOG_LIMITED(EDDY_LOG_LVL_ERROR, "group", &marker_limit, 10000,
                         "%s-%d: cannot write the %s marker of producer %" PRId64 " epoch %d: %s",
                         t->t_name, partition, commit ? "commit" : "abort", producer_id,
                         producer_epoch,
                         rc == EDDY_ERR_LOG_OFFLINE ? "the log is offline" : eddy_strerror(rc));
        return rc;
    }
    /* The broker's logs do not flush inline; read_committed fetches of the
     * partition may wait for its LSO, which the marker moved. */
    if (log_marker_flush_due(p->p_log))
        broker_flush_partition(gc->gc_broker, p);
    broker_data_arrived(gc->gc_broker);
    int n = txn_apply_partition(gc, partition, producer_id, commit);
    EDDY_LOG_DEBUG("group",
                   "%s-%d: %s marker of producer %" PRId64 " at offset %" PRId64
                   ": %d pending offset(s) %s",
                   t->t_name, partition, commit ? "commit" : "abort", producer_id, at, n,
                   commit ? "committed" : "dropped");
    return 0;
}

int group_txn_complete(group_coordinator_t *gc, const char *group_id, int64_t producer_id,
                       int16_t producer_epoch, int commit, int32_t coordinator_epoch)
{
    if (!group_id)
        return EDDY_ERR_INVALID_ARG;
    return group_txn_complete_partition(gc, group_store_partition_of(gc, group_id), producer_id,
                                        producer_epoch, commit, coordinator_epoch);
}

int group_coordinator_open(eddy_broker_t *b, group_coordinator_t **out, char *errstr,
                           size_t errstr_size)
{
    group_coordinator_t *gc = calloc(1, sizeof *gc);
    if (!gc)
        return -ENOMEM;
    gc->gc_broker = b;
    topic_t *t = topics_open_internal(&b->bk_topics, OFFSETS_TOPIC,
                                      b->bk_cfg.offsets_topic_num_partitions,
                                      b->bk_cfg.offsets_topic_segment_bytes, errstr, errstr_size);
    if (!t) {
        free(gc);
        return EDDY_ERR_CONFIG;
    }
    gc->gc_topic = t;
    int64_t start = eddy_mono_ms();
    for (int32_t p = 0; p < t->t_npartitions; p++) {
        int rc = replay_partition(gc, t->t_parts[p]);
        if (rc < 0) {
            snprintf(errstr, errstr_size, "%s-%d: replay failed: %s%s", OFFSETS_TOPIC, p,
                     eddy_strerror(rc),
                     rc == EDDY_ERR_LOG_OFFLINE ? " (the ERROR line above says why)" : "");
            group_coordinator_close(gc);
            return rc;
        }
    }
    int n = 0;
    for (group_t *g = gc->gc_groups; g; g = g->g_next)
        n++;
    EDDY_LOG_INFO("group", "replayed %s: %d group(s) in %" PRId64 " ms", OFFSETS_TOPIC, n,
                  eddy_mono_ms() - start);
    *out = gc;
    return 0;
}

void group_coordinator_close(group_coordinator_t *gc)
{
    if (!gc)
        return;
    while (gc->gc_groups) {
        group_t *g = gc->gc_groups;
        gc->gc_groups = g->g_next;
        grp_free(g);
    }
    free(gc);
}

int handle_offset_commit(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    OffsetCommitRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    eddy_arena_t *a = &s->rs_out; /* response arrays: not bounded by the request size */
    int rc = wire_offset_commit_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    group_coordinator_t *gc = b->bk_groups;
    int16_t gerr = KERR_NONE;
    group_t *g = NULL;
    /* Kafka: READ on the group before anything, so a refused commit does
     * not even create the group. */
    if (!broker_authorize(b, s, ACL_OP_READ, ACL_RES_GROUP, req.GroupId)) {
        gerr = KERR_GROUP_AUTHORIZATION_FAILED;
    } else if (req.GroupId.len <= 0) {
        gerr = KERR_INVALID_GROUP_ID;
    } else {
        g = grp_find(gc, req.GroupId);
        grp_member_t *m = g ? grp_member_find(g, req.MemberId) : NULL;
        int empty = !g || g->g_state == GRP_EMPTY;
        int16_t serr = grp_check_static(g, req.MemberId, req.GroupInstanceId);
        if (req.GenerationId < 0 && empty) {
            /* A simple (non-member) commit: the group has nobody in it. */
        } else if (serr != KERR_NONE) {
            gerr = serr;
        } else if (!m) {
            gerr = KERR_UNKNOWN_MEMBER_ID; /* checked first, as Kafka does */
        } else if (req.GenerationId != g->g_generation) {
            gerr = KERR_ILLEGAL_GENERATION;
        } else if (g->g_state == GRP_COMPLETING) {
            gerr = KERR_REBALANCE_IN_PROGRESS;
        } else {
            m->m_expires_ms = grp_now_ms() + m->m_session_timeout;
        }
        if (gerr == KERR_NONE && !g && !(g = grp_get(gc, req.GroupId)))
            return -ENOMEM;
    }
    OffsetCommitResponse resp = {0, NULL, req.TopicsCount};
    resp.Topics = resp_array(a, req.TopicsCount, sizeof *resp.Topics);
    if (!resp.Topics)
        return -ENOMEM;
    store_batch_t sb;
    sb_init(&sb);
    int64_t now = eddy_wall_ms();
    for (int32_t i = 0; i < req.TopicsCount; i++) {
        OffsetCommitRequestTopic *t = &req.Topics[i];
        OffsetCommitResponseTopic *ot = &resp.Topics[i];
        ot->Name = t->Name;
        if (!RESP_ARRAY(a, ot->Partitions, ot->PartitionsCount, t->PartitionsCount)) {
            sb_free(&sb);
            return -ENOMEM;
        }
        int16_t terr = gerr;
        if (terr == KERR_NONE && !broker_authorize(b, s, ACL_OP_READ, ACL_RES_TOPIC, t->Name))
            terr = KERR_TOPIC_AUTHORIZATION_FAILED;
        for (int32_t j = 0; j < t->PartitionsCount; j++) {
            OffsetCommitRequestPartition *p = &t->Partitions[j];
            OffsetCommitResponsePartition *op = &ot->Partitions[j];
            op->PartitionIndex = p->PartitionIndex;
            op->ErrorCode = terr;
            if (terr != KERR_NONE)
                continue;
            if (p->CommittedMetadata.len > b->bk_cfg.offset_metadata_max_bytes) {
                op->ErrorCode = KERR_OFFSET_METADATA_TOO_LARGE;
                continue;
            }
            if (t->Name.len < 0 || !topics_partition(&b->bk_topics, t->Name.ptr,
                                                     (size_t)t->Name.len, p->PartitionIndex)) {
                op->ErrorCode = KERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            sb_add_offset(&sb, g->g_id, t->Name, p, now);
        }
    }
    int64_t at = -1;
    int16_t serr = g ? sb_append(gc, &sb, g->g_id, &at) : KERR_NONE;
    sb_free(&sb);
    /* Only what reached the log counts as committed. */
    for (int32_t i = 0; i < req.TopicsCount; i++)
        for (int32_t j = 0; j < req.Topics[i].PartitionsCount; j++) {
            OffsetCommitRequestPartition *p = &req.Topics[i].Partitions[j];
            OffsetCommitResponsePartition *op = &resp.Topics[i].Partitions[j];
            if (op->ErrorCode != KERR_NONE)
                continue;
            if (serr != KERR_NONE)
                op->ErrorCode = serr;
            else if (offset_set(g, req.Topics[i].Name, p->PartitionIndex, p->CommittedOffset,
                                p->CommittedLeaderEpoch, p->CommittedMetadata, now, at) < 0)
                op->ErrorCode = KERR_UNKNOWN_SERVER_ERROR;
        }
    wire_offset_commit_resp_encode(&s->rs_resp, v, &resp);
    broker_slot_answer(s);
    return 0;
}

/* Kafka's checks of a transactional offset commit against the group
 * (ClassicGroup.validateOffsetCommit): a zombie of an older generation, a
 * member the group no longer has, or a static instance taken over by a
 * newer member cannot commit. No REBALANCE_IN_PROGRESS: the transaction
 * commits or aborts as a whole. */
static int16_t txn_commit_check(group_t *g, const TxnOffsetCommitRequest *r)
{
    if (!g) /* a simple group is made only for a commit without a generation */
        return r->GenerationId < 0 ? KERR_NONE : KERR_ILLEGAL_GENERATION;
    if (g->g_state == GRP_DEAD)
        return KERR_COORDINATOR_NOT_AVAILABLE;
    if (r->GenerationId < 0 && g->g_state == GRP_EMPTY)
        return KERR_NONE;
    if (r->GenerationId >= 0 || r->MemberId.len > 0 || r->GroupInstanceId.len >= 0) {
        int16_t err = grp_check_static(g, r->MemberId, r->GroupInstanceId);
        if (err != KERR_NONE)
            return err;
        if (r->GroupInstanceId.len < 0 && !grp_member_find(g, r->MemberId))
            return KERR_UNKNOWN_MEMBER_ID;
        if (r->GenerationId != g->g_generation)
            return KERR_ILLEGAL_GENERATION;
    }
    /* Older versions carry no member: Kafka accepts them in any state. */
    return KERR_NONE;
}

int handle_txn_offset_commit(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    TxnOffsetCommitRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    eddy_arena_t *a = &s->rs_out; /* response arrays: not bounded by the request size */
    int rc = wire_txn_offset_commit_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    group_coordinator_t *gc = b->bk_groups;
    int16_t gerr = KERR_NONE;
    group_t *g = NULL;
    /* Kafka's order: the transactional id, then the group, before anything
     * is created or written. */
    if (!broker_authorize(b, s, ACL_OP_WRITE, ACL_RES_TRANSACTIONAL_ID, req.TransactionalId)) {
        gerr = KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    } else if (!broker_authorize(b, s, ACL_OP_READ, ACL_RES_GROUP, req.GroupId)) {
        gerr = KERR_GROUP_AUTHORIZATION_FAILED;
    } else if (req.GroupId.len <= 0) {
        gerr = KERR_INVALID_GROUP_ID;
    } else if (req.ProducerId < 0 || req.ProducerEpoch < 0) {
        gerr = KERR_INVALID_REQUEST; /* offsets of no transaction could never be completed */
    } else if (b->bk_cfg.transaction_partition_verification_enable &&
               (gerr = txn_verify_partition(
                    b->bk_txns, req.TransactionalId, req.ProducerId, req.ProducerEpoch,
                    OFFSETS_TOPIC,
                    group_partition_for(req.GroupId.ptr, (size_t)req.GroupId.len,
                                        gc->gc_topic->t_npartitions))) != KERR_NONE) {
        /* KIP-890: the transaction must have added the group's partition
         * (AddOffsetsToTxn) and still be open, or these offsets would stay
         * pending with no marker ever coming to end them. */
    } else {
        g = grp_find(gc, req.GroupId);
        gerr = txn_commit_check(g, &req);
        if (gerr == KERR_NONE && !g && !(g = grp_get(gc, req.GroupId)))
            return -ENOMEM;
    }
    OffsetCommitResponse resp = {0, NULL, req.TopicsCount};
    resp.Topics = resp_array(a, req.TopicsCount, sizeof *resp.Topics);
    if (!resp.Topics)
        return -ENOMEM;
    store_batch_t sb;
    sb_init_txn(&sb, req.ProducerId, req.ProducerEpoch);
    int64_t now = eddy_wall_ms();
    for (int32_t i = 0; i < req.TopicsCount; i++) {
        OffsetCommitRequestTopic *t = &req.Topics[i];
        OffsetCommitResponseTopic *ot = &resp.Topics[i];
        ot->Name = t->Name;
        if (!RESP_ARRAY(a, ot->Partitions, ot->PartitionsCount, t->PartitionsCount)) {
            sb_free(&sb);
            return -ENOMEM;
        }
        int16_t terr = gerr;
        if (terr == KERR_NONE && !broker_authorize(b, s, ACL_OP_READ, ACL_RES_TOPIC, t->Name))
            terr = KERR_TOPIC_AUTHORIZATION_FAILED;
        for (int32_t j = 0; j < t->PartitionsCount; j++) {
            OffsetCommitRequestPartition *p = &t->Partitions[j];
            OffsetCommitResponsePartition *op = &ot->Partitions[j];
            op->PartitionIndex = p->PartitionIndex;
            op->ErrorCode = terr;
            if (terr != KERR_NONE)
                continue;
            if (!topics_partition(&b->bk_topics, t->Name.ptr, (size_t)t->Name.len,
                                  p->PartitionIndex)) {
                op->ErrorCode = KERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            if (p->CommittedMetadata.len > b->bk_cfg.offset_metadata_max_bytes) {
                op->ErrorCode = KERR_OFFSET_METADATA_TOO_LARGE;
                continue;
            }
            sb_add_offset(&sb, g->g_id, t->Name, p, now);
        }
    }
    int64_t at = -1;
    int16_t serr = g ? sb_append(gc, &sb, g->g_id, &at) : KERR_NONE;
    sb_free(&sb);
    /* Pending, not committed: OffsetFetch shows them after the marker. */
    for (int32_t i = 0; i < req.TopicsCount; i++)
        for (int32_t j = 0; j < req.Topics[i].PartitionsCount; j++) {
            OffsetCommitRequestPartition *p = &req.Topics[i].Partitions[j];
            OffsetCommitResponsePartition *op = &resp.Topics[i].Partitions[j];
            if (op->ErrorCode != KERR_NONE)
                continue;
            if (serr != KERR_NONE)
                op->ErrorCode = serr;
            else if (offset_put(g, req.ProducerId, req.Topics[i].Name, p->PartitionIndex,
                                p->CommittedOffset, p->CommittedLeaderEpoch, p->CommittedMetadata,
                                now, at) < 0)
                op->ErrorCode = KERR_UNKNOWN_SERVER_ERROR;
        }
    wire_txn_offset_commit_resp_encode(&s->rs_resp, v, &resp);
    broker_slot_answer(s);
    return 0;
}

static void fill_fetched(group_t *g, kstr_t topic, int32_t partition,
                         OffsetFetchResponsePartition *op)
{
    op->PartitionIndex = partition;
    op->CommittedOffset = -1;
    op->CommittedLeaderEpoch = -1;
    op->Metadata = kstr_c("");
    op->ErrorCode = KERR_NONE;
    grp_offset_t *o = g && topic.len >= 0 ? offset_find(g, topic.ptr, (size_t)topic.len, partition)
                                          : NULL;
    if (o) {
        op->CommittedOffset = o->o_offset;
        op->CommittedLeaderEpoch = o->o_leader_epoch;
        op->Metadata = kstr_c(o->o_metadata ? o->o_metadata : "");
    }
}

/* KIP-447's require_stable: while an open transaction holds an offset of
 * the partition, the committed one may be about to change, so the reader
 * gets UNSTABLE_OFFSET_COMMIT (retriable) instead of a stale position. */
static void stable_only(const group_t *g, kstr_t topic, OffsetFetchResponsePartition *op)
{
    if (!txn_pending(g, topic, op->PartitionIndex))
        return;
    op->ErrorCode = KERR_UNSTABLE_OFFSET_COMMIT;
    op->CommittedOffset = -1;
    op->CommittedLeaderEpoch = -1;
    op->Metadata = kstr_c("");
}

int handle_offset_fetch(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    OffsetFetchRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    eddy_arena_t *a = &s->rs_out; /* response arrays: not bounded by the request size */
    int rc = wire_offset_fetch_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    group_t *g = grp_find(b->bk_groups, req.GroupId);
    OffsetFetchResponse resp;
    memset(&resp, 0, sizeof resp);
    int group_denied = !broker_authorize(b, s, ACL_OP_DESCRIBE, ACL_RES_GROUP, req.GroupId);
    if (group_denied && v >= 2) {
        resp.ErrorCode = KERR_GROUP_AUTHORIZATION_FAILED;
    } else if (req.TopicsCount >= 0) {
        resp.TopicsCount = req.TopicsCount;
        resp.Topics = resp_array(a, req.TopicsCount, sizeof *resp.Topics);
        if (!resp.Topics)
            return -ENOMEM;
        for (int32_t i = 0; i < req.TopicsCount; i++) {
            OffsetFetchRequestTopic *t = &req.Topics[i];
            OffsetFetchResponseTopic *ot = &resp.Topics[i];
            ot->Name = t->Name;
            if (!RESP_ARRAY(a, ot->Partitions, ot->PartitionsCount, t->PartitionIndexesCount))
                return -ENOMEM;
            /* v0-1 have no top-level error: the group's refusal goes on
             * every partition, as Kafka does. */
            int16_t err = group_denied ? KERR_GROUP_AUTHORIZATION_FAILED
                          : !broker_authorize(b, s, ACL_OP_DESCRIBE, ACL_RES_TOPIC, t->Name)
                              ? KERR_TOPIC_AUTHORIZATION_FAILED
                              : KERR_NONE;
            for (int32_t j = 0; j < t->PartitionIndexesCount; j++) {
                fill_fetched(err ? NULL : g, t->Name, t->PartitionIndexes[j], &ot->Partitions[j]);
                ot->Partitions[j].ErrorCode = err;
                if (!err && req.RequireStable)
                    stable_only(g, t->Name, &ot->Partitions[j]);
            }
        }
    } else if (g && !group_denied) {
        /* Every committed partition, grouped by topic. */
        int n = 0;
        for (grp_offset_t *o = g->g_offsets; o; o = o->o_next)
            n++;
        resp.Topics = resp_array(a, n, sizeof *resp.Topics);
        if (!resp.Topics)
            return -ENOMEM;
        for (grp_offset_t *o = g->g_offsets; o; o = o->o_next) {
            /* All of the group's offsets: Kafka leaves out the topics the
             * principal may not describe. */
            if (!broker_authorize_quiet(b, s, ACL_OP_DESCRIBE, ACL_RES_TOPIC, kstr_c(o->o_topic)))
                continue;
            OffsetFetchResponseTopic *ot = NULL;
            for (int32_t i = 0; i < resp.TopicsCount && !ot; i++)
                if (kstr_eq(resp.Topics[i].Name, o->o_topic))
                    ot = &resp.Topics[i];
            if (!ot) {
                ot = &resp.Topics[resp.TopicsCount++];
                ot->Name = kstr_c(o->o_topic);
                ot->Partitions = arena_calloc(a, (size_t)n, sizeof *ot->Partitions);
                if (!ot->Partitions)
                    return -ENOMEM;
            }
            fill_fetched(g, ot->Name, o->o_partition, &ot->Partitions[ot->PartitionsCount]);
            if (req.RequireStable)
                stable_only(g, ot->Name, &ot->Partitions[ot->PartitionsCount]);
            ot->PartitionsCount++;
        }
    }
    wire_offset_fetch_resp_encode(&s->rs_resp, v, &resp);
    broker_slot_answer(s);
    return 0;
}

int handle_delete_groups(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    DeleteGroupsRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    eddy_arena_t *a = &s->rs_out; /* response arrays: not bounded by the request size */
    int rc = wire_delete_groups_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    group_coordinator_t *gc = b->bk_groups;
    DeleteGroupsResponse resp = {0, NULL, req.GroupsNamesCount};
    resp.Results = resp_array(a, req.GroupsNamesCount, sizeof *resp.Results);
    if (!resp.Results)
        return -ENOMEM;
    for (int32_t i = 0; i < req.GroupsNamesCount; i++) {
        DeletableGroupResult *r = &resp.Results[i];
        r->GroupId = req.GroupsNames[i];
        if (!broker_authorize(b, s, ACL_OP_DELETE, ACL_RES_GROUP, req.GroupsNames[i])) {
            r->ErrorCode = KERR_GROUP_AUTHORIZATION_FAILED;
            continue;
        }
        group_t *g = grp_find(gc, req.GroupsNames[i]);
        if (!g) {
            r->ErrorCode = KERR_GROUP_ID_NOT_FOUND;
            continue;
        }
        if (g->g_members || g->g_state != GRP_EMPTY) {
            r->ErrorCode = KERR_NON_EMPTY_GROUP;
            continue;
        }
        /* Tombstones for every offset and the group itself. */
        store_batch_t sb;
        sb_init(&sb);
        for (grp_offset_t *o = g->g_offsets; o; o = o->o_next) {
            key_offset(&sb.sb_key, g->g_id, kstr_c(o->o_topic), o->o_partition);
            sb_add(&sb, 1);
        }
        /* Kafka tombstones the partitions only open transactions hold too,
         * so a later commit marker brings nothing of the group back. */
        for (grp_offset_t *o = g->g_txn_offsets; o; o = o->o_next) {
            kstr_t topic = kstr_c(o->o_topic);
            int seen = offset_find(g, o->o_topic, strlen(o->o_topic), o->o_partition) != NULL;
            for (grp_offset_t *q = g->g_txn_offsets; q != o && !seen; q = q->o_next)
                seen = q->o_partition == o->o_partition && kstr_eq(topic, q->o_topic);
            if (seen)
                continue;
            key_offset(&sb.sb_key, g->g_id, topic, o->o_partition);
            sb_add(&sb, 1);
        }
        key_group(&sb.sb_key, g->g_id);
        sb_add(&sb, 1);
        r->ErrorCode = sb_append(gc, &sb, g->g_id, NULL);
        sb_free(&sb);
        if (r->ErrorCode != KERR_NONE)
            continue;
        for (group_t **pp = &gc->gc_groups; *pp; pp = &(*pp)->g_next)
            if (*pp == g) {
                *pp = g->g_next;
                break;
            }
        EDDY_LOG_INFO("group", "deleted group %s", g->g_id);
        grp_free(g);
    }
    wire_delete_groups_resp_encode(&s->rs_resp, v, &resp);
    broker_slot_answer(s);
    return 0;
}


/* Does a member of a live "consumer" group subscribe to topic? Read from
 * the ConsumerProtocol subscription in its JoinGroup metadata (Version
 * int16, Topics [string], ...). Metadata that cannot be read counts as
 * subscribed: deleting offsets a member may still use is the worse error. */
static int group_subscribes(const group_t *g, kstr_t topic)
{
    for (const grp_member_t *m = g->g_members; m; m = m->m_next) {
        const grp_protocol_t *p = grp_member_protocol(m, g->g_protocol);
        if (!p && m->m_nprotocols > 0)
            p = &m->m_protocols[0]; /* before the first generation picks one */
        if (!p)
            continue;
        eddy_rd_t rd;
        rd_init(&rd, p->gp_meta, (size_t)p->gp_meta_len);
        int16_t version = rd_i16(&rd);
        int32_t n = rd_array_count(&rd, 2);
        if (rd.rd_err || version < 0 || n < 0)
            return 1;
        for (int32_t i = 0; i < n; i++) {
            kstr_t t = rd_string(&rd);
            if (rd.rd_err)
                return 1;
            if (t.len == topic.len && memcmp(t.ptr, topic.ptr, (size_t)t.len) == 0)
                return 1;
        }
    }
    return 0;
}

int handle_offset_delete(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    OffsetDeleteRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    eddy_arena_t *a = &s->rs_out; /* response arrays: not bounded by the request size */
    int rc = wire_offset_delete_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    group_coordinator_t *gc = b->bk_groups;
    OffsetDeleteResponse resp = {KERR_NONE, 0, NULL, 0};
    group_t *g = req.GroupId.len > 0 ? grp_find(gc, req.GroupId) : NULL;
    int live = g && g->g_state != GRP_EMPTY && g->g_state != GRP_DEAD;
    if (!broker_authorize(b, s, ACL_OP_DELETE, ACL_RES_GROUP, req.GroupId))
        resp.ErrorCode = KERR_GROUP_AUTHORIZATION_FAILED;
    else if (req.GroupId.len <= 0)
        resp.ErrorCode = KERR_INVALID_GROUP_ID;
    else if (!g || g->g_state == GRP_DEAD)
        resp.ErrorCode = KERR_GROUP_ID_NOT_FOUND;
    else if (live && !kstr_eq(kstr_c("consumer"), g->g_protocol_type))
        /* Kafka's rule (KIP-496): only a consumer group's subscriptions
         * say which offsets are in use; any other live group keeps all. */
        resp.ErrorCode = KERR_NON_EMPTY_GROUP;
    if (resp.ErrorCode != KERR_NONE) {
        wire_offset_delete_resp_encode(&s->rs_resp, v, &resp);
        broker_slot_answer(s);
        return 0;
    }
    resp.Topics = resp_array(a, req.TopicsCount, sizeof *resp.Topics);
    if (!resp.Topics)
        return -ENOMEM;
    resp.TopicsCount = req.TopicsCount;
    store_batch_t sb;
    sb_init(&sb);
    for (int32_t i = 0; i < req.TopicsCount; i++) {
        const OffsetDeleteRequestTopic *t = &req.Topics[i];
        OffsetDeleteResponseTopic *rt = &resp.Topics[i];
        rt->Name = t->Name;
        if (!RESP_ARRAY(a, rt->Partitions, rt->PartitionsCount, t->PartitionsCount)) {
            sb_free(&sb);
            return -ENOMEM;
        }
        int subscribed = live && group_subscribes(g, t->Name);
        int denied = !broker_authorize(b, s, ACL_OP_READ, ACL_RES_TOPIC, t->Name);
        for (int32_t j = 0; j < t->PartitionsCount; j++) {
            rt->Partitions[j].PartitionIndex = t->Partitions[j];
            if (denied) {
                rt->Partitions[j].ErrorCode = KERR_TOPIC_AUTHORIZATION_FAILED;
                continue;
            }
            if (subscribed) {
                rt->Partitions[j].ErrorCode = KERR_GROUP_SUBSCRIBED_TO_TOPIC;
                continue;
            }
            if (offset_find(g, t->Name.ptr, (size_t)t->Name.len, t->Partitions[j]) ||
                txn_pending(g, t->Name, t->Partitions[j])) {
                key_offset(&sb.sb_key, g->g_id, t->Name, t->Partitions[j]);
                sb_add(&sb, 1);
            }
        }
    }
    /* The tombstones first: an offset leaves memory only once its removal
     * is in the log, so a restart never brings back what was answered as
     * deleted, and a failed append deletes nothing. */
    int16_t serr = sb_append(gc, &sb, g->g_id, NULL);
    sb_free(&sb);
    int deleted = 0;
    for (int32_t i = 0; i < resp.TopicsCount; i++) {
        OffsetDeleteResponseTopic *rt = &resp.Topics[i];
        for (int32_t j = 0; j < rt->PartitionsCount; j++) {
            OffsetDeleteResponsePartition *rp = &rt->Partitions[j];
            if (rp->ErrorCode != KERR_NONE)
                continue;
            if (serr != KERR_NONE) {
                rp->ErrorCode = serr;
            } else if (offset_find(g, rt->Name.ptr, (size_t)rt->Name.len, rp->PartitionIndex) ||
                       txn_pending(g, rt->Name, rp->PartitionIndex)) {
                offset_remove(g, rt->Name, rp->PartitionIndex);
                deleted++;
            }
        }
    }
    if (deleted)
        EDDY_LOG_INFO("group", "group %s: deleted %d committed offset(s)", g->g_id, deleted);
    wire_offset_delete_resp_encode(&s->rs_resp, v, &resp);
    broker_slot_answer(s);
    return 0;
}

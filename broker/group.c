/* The group coordinator (see group.h for the state diagram).
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
 * Replay at start-up applies the records of every partition in offset
 * order. Groups come back Empty with their generation, protocol and
 * offsets; members do not survive a broker restart (clients see
 * UNKNOWN_MEMBER_ID and rejoin), which docs/groups.md explains.
 */
#include "broker/group.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "broker/broker_int.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "wire/api_group.h"
#include "wire/recordbatch.h"

#define OFFSETS_TOPIC "__consumer_offsets"

enum grp_state { GRP_EMPTY, GRP_PREPARING, GRP_COMPLETING, GRP_STABLE, GRP_DEAD };
static const char *const state_names[] = {"Empty", "PreparingRebalance", "CompletingRebalance",
                                          "Stable", "Dead"};

typedef struct grp_protocol {
    char *gp_name;
    uint8_t *gp_meta;
    int32_t gp_meta_len;
} grp_protocol_t;

typedef struct grp_member {
    struct grp_member *m_next;
    char *m_id;
    char *m_instance_id; /* NULL: dynamic member */
    char *m_client_id, *m_client_host;
    int32_t m_session_timeout, m_rebalance_timeout;
    grp_protocol_t *m_protocols;
    int m_nprotocols;
    uint8_t *m_assignment;
    int32_t m_assignment_len;
    req_slot_t *m_join_slot; /* parked JoinGroup, answered when the join completes */
    req_slot_t *m_sync_slot; /* parked SyncGroup, answered when the leader syncs */
    int64_t m_expires_ms;    /* session deadline (monotonic) */
} grp_member_t;

typedef struct grp_pending {
    struct grp_pending *pm_next;
    char *pm_id;
    int64_t pm_expires_ms;
} grp_pending_t;

typedef struct grp_offset {
    struct grp_offset *o_next;
    char *o_topic;
    int32_t o_partition;
    int64_t o_offset;
    int32_t o_leader_epoch;
    char *o_metadata;
    int64_t o_commit_ts;
} grp_offset_t;

typedef struct group {
    struct group *g_next;
    char *g_id;
    enum grp_state g_state;
    int32_t g_generation;
    char *g_protocol_type, *g_protocol, *g_leader;
    grp_member_t *g_members; /* in join order */
    int g_nmembers;
    grp_pending_t *g_pending;
    int64_t g_rebalance_deadline_ms;
    int64_t g_initial_until_ms; /* group.initial.rebalance.delay.ms window */
    int64_t g_initial_limit_ms;
    grp_offset_t *g_offsets;
    int64_t g_state_ts;
} group_t;

struct group_coordinator {
    eddy_broker_t *gc_broker;
    group_t *gc_groups;
    topic_t *gc_topic;
};

/* ---- small helpers ---- */

static char *kdup(kstr_t s)
{
    if (s.len < 0)
        return NULL;
    char *d = malloc((size_t)s.len + 1);
    if (d) {
        memcpy(d, s.ptr, (size_t)s.len);
        d[s.len] = 0;
    }
    return d;
}

static kstr_t ks(const char *s)
{
    return s ? (kstr_t){s, (int32_t)strlen(s)} : KSTR_NULL;
}

static int kstr_is(kstr_t a, const char *s)
{
    return s && a.len >= 0 && (size_t)a.len == strlen(s) && memcmp(a.ptr, s, (size_t)a.len) == 0;
}

int32_t group_partition_for(const char *group, size_t len, int32_t partitions)
{
    /* Java's String.hashCode over UTF-16 code units of the UTF-8 input. */
    int32_t h = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp = (uint8_t)group[i];
        size_t n = cp < 0x80 ? 1 : cp < 0xe0 ? 2 : cp < 0xf0 ? 3 : 4;
        if (n > 1 && i + n <= len) {
            cp &= n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07;
            for (size_t k = 1; k < n; k++)
                cp = (cp << 6) | ((uint8_t)group[i + k] & 0x3f);
        } else {
            n = 1;
        }
        i += n;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            h = (int32_t)((uint32_t)h * 31u + (0xd800 + (cp >> 10)));
            h = (int32_t)((uint32_t)h * 31u + (0xdc00 + (cp & 0x3ff)));
        } else {
            h = (int32_t)((uint32_t)h * 31u + cp);
        }
    }
    int32_t a = h == INT32_MIN ? 0 : (h < 0 ? -h : h); /* Kafka's Utils.abs */
    return a % partitions;
}

static group_t *group_find(group_coordinator_t *gc, kstr_t id)
{
    for (group_t *g = gc->gc_groups; g; g = g->g_next)
        if (kstr_is(id, g->g_id))
            return g;
    return NULL;
}

static group_t *group_get(group_coordinator_t *gc, kstr_t id)
{
    group_t *g = group_find(gc, id);
    if (g)
        return g;
    g = calloc(1, sizeof *g);
    if (!g || !(g->g_id = kdup(id))) {
        free(g);
        return NULL;
    }
    g->g_state = GRP_EMPTY;
    g->g_next = gc->gc_groups;
    gc->gc_groups = g;
    return g;
}

static grp_member_t *member_find(group_t *g, kstr_t id)
{
    for (grp_member_t *m = g->g_members; m; m = m->m_next)
        if (kstr_is(id, m->m_id))
            return m;
    return NULL;
}

static grp_member_t *member_by_instance(group_t *g, kstr_t instance)
{
    if (instance.len < 0)
        return NULL;
    for (grp_member_t *m = g->g_members; m; m = m->m_next)
        if (kstr_is(instance, m->m_instance_id))
            return m;
    return NULL;
}

static void protocols_free(grp_member_t *m)
{
    for (int i = 0; i < m->m_nprotocols; i++) {
        free(m->m_protocols[i].gp_name);
        free(m->m_protocols[i].gp_meta);
    }
    free(m->m_protocols);
    m->m_protocols = NULL;
    m->m_nprotocols = 0;
}

static void member_free(grp_member_t *m)
{
    protocols_free(m);
    free(m->m_id);
    free(m->m_instance_id);
    free(m->m_client_id);
    free(m->m_client_host);
    free(m->m_assignment);
    free(m);
}

static void offsets_free(grp_offset_t *o)
{
    while (o) {
        grp_offset_t *n = o->o_next;
        free(o->o_topic);
        free(o->o_metadata);
        free(o);
        o = n;
    }
}

static void pending_free(group_t *g)
{
    while (g->g_pending) {
        grp_pending_t *p = g->g_pending;
        g->g_pending = p->pm_next;
        free(p->pm_id);
        free(p);
    }
}

static void group_free(group_t *g)
{
    while (g->g_members) {
        grp_member_t *m = g->g_members;
        g->g_members = m->m_next;
        member_free(m);
    }
    pending_free(g);
    offsets_free(g->g_offsets);
    free(g->g_id);
    free(g->g_protocol_type);
    free(g->g_protocol);
    free(g->g_leader);
    free(g);
}

static void set_str(char **dst, const char *src)
{
    char *c = src ? strdup(src) : NULL;
    free(*dst);
    *dst = c;
}

static int set_protocols(grp_member_t *m, const JoinGroupRequest *r)
{
    protocols_free(m);
    m->m_protocols = calloc((size_t)(r->ProtocolsCount ? r->ProtocolsCount : 1), sizeof *m->m_protocols);
    if (!m->m_protocols)
        return -ENOMEM;
    for (int32_t i = 0; i < r->ProtocolsCount; i++) {
        grp_protocol_t *p = &m->m_protocols[m->m_nprotocols++];
        p->gp_name = kdup(r->Protocols[i].Name);
        int32_t len = r->Protocols[i].Metadata.len > 0 ? r->Protocols[i].Metadata.len : 0;
        p->gp_meta = malloc((size_t)len + 1);
        if (!p->gp_name || !p->gp_meta)
            return -ENOMEM;
        memcpy(p->gp_meta, r->Protocols[i].Metadata.ptr, (size_t)len);
        p->gp_meta_len = len;
    }
    return 0;
}

static int protocols_equal(const grp_member_t *m, const JoinGroupRequest *r)
{
    if (m->m_nprotocols != r->ProtocolsCount)
        return 0;
    for (int i = 0; i < m->m_nprotocols; i++) {
        const JoinGroupRequestProtocol *p = &r->Protocols[i];
        int32_t len = p->Metadata.len > 0 ? p->Metadata.len : 0;
        if (!kstr_is(p->Name, m->m_protocols[i].gp_name) || len != m->m_protocols[i].gp_meta_len ||
            memcmp(p->Metadata.ptr, m->m_protocols[i].gp_meta, (size_t)len) != 0)
            return 0;
    }
    return 1;
}

static const grp_protocol_t *member_protocol(const grp_member_t *m, const char *name)
{
    for (int i = 0; m && name && i < m->m_nprotocols; i++)
        if (strcmp(m->m_protocols[i].gp_name, name) == 0)
            return &m->m_protocols[i];
    return NULL;
}

/* Does every member (and the joiner, if given) support protocol name? */
static int supported_by_all(const group_t *g, const char *name, const JoinGroupRequest *joiner)
{
    for (const grp_member_t *m = g->g_members; m; m = m->m_next)
        if (!member_protocol(m, name))
            return 0;
    if (joiner) {
        for (int32_t i = 0; i < joiner->ProtocolsCount; i++)
            if (kstr_is(joiner->Protocols[i].Name, name))
                return 1;
        return 0;
    }
    return 1;
}

/* A joiner fits an existing group when the protocol type matches and at
 * least one protocol is common to all. */
static int joiner_compatible(const group_t *g, const JoinGroupRequest *r)
{
    if (r->ProtocolType.len <= 0 || r->ProtocolsCount <= 0)
        return 0;
    if (!g->g_members)
        return 1;
    if (!kstr_is(r->ProtocolType, g->g_protocol_type))
        return 0;
    for (int i = 0; i < g->g_members->m_nprotocols; i++)
        if (supported_by_all(g, g->g_members->m_protocols[i].gp_name, r))
            return 1;
    return 0;
}

/* Kafka's vote: each member picks its most preferred protocol among those
 * every member supports; the most votes win (ties: the first member's
 * preference order). */
static const char *select_protocol(const group_t *g)
{
    const grp_member_t *first = g->g_members;
    const char *best = NULL;
    int best_votes = -1;
    for (int i = 0; first && i < first->m_nprotocols; i++) {
        const char *cand = first->m_protocols[i].gp_name;
        if (!supported_by_all(g, cand, NULL))
            continue;
        int votes = 0;
        for (const grp_member_t *m = g->g_members; m; m = m->m_next)
            for (int k = 0; k < m->m_nprotocols; k++)
                if (supported_by_all(g, m->m_protocols[k].gp_name, NULL)) {
                    votes += strcmp(m->m_protocols[k].gp_name, cand) == 0;
                    break;
                }
        if (votes > best_votes) {
            best = cand;
            best_votes = votes;
        }
    }
    return best;
}

static char *new_member_id(kstr_t client_id)
{
    uint8_t r[16];
    if (getrandom(r, sizeof r, 0) != sizeof r) {
        uint64_t t = (uint64_t)eddy_mono_ns() ^ ((uint64_t)getpid() << 32);
        for (int i = 0; i < 16; i++)
            r[i] = (uint8_t)(t >> ((i % 8) * 8)) ^ (uint8_t)i;
    }
    r[6] = (r[6] & 0x0f) | 0x40;
    r[8] = (r[8] & 0x3f) | 0x80;
    char *id = malloc((size_t)(client_id.len > 0 ? client_id.len : 0) + 40);
    if (!id)
        return NULL;
    int n = sprintf(id, "%.*s-", client_id.len > 0 ? client_id.len : 0, client_id.ptr);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            id[n++] = '-';
        id[n++] = hex[r[i] >> 4];
        id[n++] = hex[r[i] & 15];
    }
    id[n] = 0;
    return id;
}

/* ---- records in __consumer_offsets ---- */

typedef struct store_batch {
    eddy_wr_t sb_batch;
    wire_batch_builder_t sb_b;
    eddy_wr_t sb_key, sb_val;
    int sb_n;
} store_batch_t;

static void sb_init(store_batch_t *sb)
{
    wr_init(&sb->sb_batch);
    wr_init(&sb->sb_key);
    wr_init(&sb->sb_val);
    wire_batch_header_t tmpl = wire_batch_header_default();
    wire_batch_begin(&sb->sb_b, &sb->sb_batch, &tmpl);
    sb->sb_n = 0;
}

/* Adds the record built in sb_key / sb_val (tombstone: no value). */
static void sb_add(store_batch_t *sb, int tombstone)
{
    wire_batch_add(&sb->sb_b, eddy_wall_ms(), sb->sb_key.wr_buf, (int32_t)sb->sb_key.wr_len,
                   tombstone ? NULL : sb->sb_val.wr_buf, tombstone ? -1 : (int32_t)sb->sb_val.wr_len,
                   NULL, 0);
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
        const grp_protocol_t *p = member_protocol(m, g->g_protocol);
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

/* Appends the batch to the group's partition; returns a KERR_* code. */
static int16_t sb_append(group_coordinator_t *gc, store_batch_t *sb, const char *group)
{
    if (sb->sb_n == 0)
        return KERR_NONE;
    if (wire_batch_end(&sb->sb_b, 0) < 0)
        return KERR_UNKNOWN_SERVER_ERROR;
    topic_t *t = gc->gc_topic;
    partition_t *p = &t->t_parts[group_partition_for(group, strlen(group), t->t_npartitions)];
    log_append_info_t info;
    char err[256];
    int rc = log_append(p->p_log, sb->sb_batch.wr_buf, sb->sb_batch.wr_len, 0, eddy_wall_ms(), &info,
                        err, sizeof err);
    if (rc < 0) {
        EDDY_LOG_ERROR("group", "group %s: cannot store to %s-%d: %s", group, t->t_name,
                       p->p_index, err);
        return KERR_COORDINATOR_NOT_AVAILABLE;
    }
    if (info.ai_flush_due)
        broker_flush_partition(gc->gc_broker, p);
    return KERR_NONE;
}

/* Records the group's generation (called when it becomes Stable or Empty). */
static void store_group(group_coordinator_t *gc, group_t *g)
{
    store_batch_t sb;
    sb_init(&sb);
    g->g_state_ts = eddy_wall_ms();
    key_group(&sb.sb_key, g->g_id);
    value_group(&sb.sb_val, g);
    sb_add(&sb, 0);
    sb_append(gc, &sb, g->g_id);
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

static int offset_set(group_t *g, kstr_t topic, int32_t partition, int64_t offset, int32_t epoch,
                      kstr_t metadata, int64_t ts)
{
    grp_offset_t *o = offset_find(g, topic.ptr, (size_t)topic.len, partition);
    if (!o) {
        o = calloc(1, sizeof *o);
        if (!o || !(o->o_topic = kdup(topic))) {
            free(o);
            return -ENOMEM;
        }
        o->o_partition = partition;
        o->o_next = g->g_offsets;
        g->g_offsets = o;
    }
    o->o_offset = offset;
    o->o_leader_epoch = epoch;
    o->o_commit_ts = ts;
    free(o->o_metadata);
    o->o_metadata = metadata.len >= 0 ? kdup(metadata) : NULL;
    return 0;
}

static void offset_remove(group_t *g, kstr_t topic, int32_t partition)
{
    for (grp_offset_t **pp = &g->g_offsets; *pp; pp = &(*pp)->o_next) {
        grp_offset_t *o = *pp;
        if (o->o_partition == partition && kstr_is(topic, o->o_topic)) {
            *pp = o->o_next;
            free(o->o_topic);
            free(o->o_metadata);
            free(o);
            return;
        }
    }
}

/* Applies one record of __consumer_offsets during replay. */
static void replay_record(group_coordinator_t *gc, const wire_record_t *rec)
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
        group_t *g = rec->valueLength >= 0 ? group_get(gc, group) : group_find(gc, group);
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
            offset_set(g, topic, partition, offset, epoch, meta, ts);
    } else if (kver == 2) {
        group_t *g = group_find(gc, group);
        if (rec->valueLength < 0) {
            /* The group was deleted: its offsets were tombstoned too. */
            if (g) {
                for (group_t **pp = &gc->gc_groups; *pp; pp = &(*pp)->g_next)
                    if (*pp == g) {
                        *pp = g->g_next;
                        break;
                    }
                group_free(g);
            }
            return;
        }
        if (!g && !(g = group_get(gc, group)))
            return;
        rd_init(&v, rec->value, (size_t)rec->valueLength);
        rd_i16(&v);
        kstr_t ptype = rd_string(&v);
        int32_t gen = rd_i32(&v);
        kstr_t proto = rd_string(&v);
        if (v.rd_err)
            return;
        char *pt = kdup(ptype), *pr = kdup(proto);
        free(g->g_protocol_type);
        free(g->g_protocol);
        g->g_protocol_type = pt;
        g->g_protocol = pr;
        g->g_generation = gen;
    }
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
        if (!buf || pread(sl.sl_fd, buf, sl.sl_len, sl.sl_pos) != (ssize_t)sl.sl_len) {
            free(buf);
            log_slice_release(log, &sl);
            return -EIO;
        }
        log_slice_release(log, &sl);
        for (size_t pos = 0; pos < sl.sl_len;) {
            int64_t size = wire_batch_size(buf + pos);
            wire_record_iter_t it;
            wire_record_t rec;
            if (wire_record_iter_init(&it, buf + pos, (size_t)size) == 0) {
                while (wire_record_next(&it, &rec) == 1)
                    if (rec.offset >= offset)
                        replay_record(gc, &rec);
                offset = wire_batch_last_offset(&it.ri_hdr) + 1;
            } else {
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

int group_coordinator_open(eddy_broker_t *b, group_coordinator_t **out, char *errstr,
                           size_t errstr_size)
{
    group_coordinator_t *gc = calloc(1, sizeof *gc);
    if (!gc)
        return -ENOMEM;
    gc->gc_broker = b;
    topic_registry_t *tr = &b->bk_topics;
    topic_t *t = topics_find(tr, OFFSETS_TOPIC, strlen(OFFSETS_TOPIC));
    if (!t) {
        char segment[64];
        snprintf(segment, sizeof segment, "%" PRId64, b->bk_cfg.offsets_topic_segment_bytes);
        const char *keys[] = {"cleanup.policy", "segment.bytes"};
        const char *vals[] = {"compact", segment};
        char msg[512];
        int err = topics_create(tr, OFFSETS_TOPIC, strlen(OFFSETS_TOPIC),
                                b->bk_cfg.offsets_topic_num_partitions, keys, vals, 2,
                                eddy_wall_ms(), msg, sizeof msg);
        if (err != KERR_NONE) {
            snprintf(errstr, errstr_size, "cannot create %s: %s", OFFSETS_TOPIC, msg);
            free(gc);
            return EDDY_ERR_CONFIG;
        }
        t = topics_find(tr, OFFSETS_TOPIC, strlen(OFFSETS_TOPIC));
    }
    gc->gc_topic = t;
    int64_t start = eddy_mono_ms();
    for (int32_t p = 0; p < t->t_npartitions; p++) {
        int rc = replay_partition(gc, &t->t_parts[p]);
        if (rc < 0) {
            snprintf(errstr, errstr_size, "%s-%d: replay failed: %s", OFFSETS_TOPIC, p,
                     eddy_strerror(rc));
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
        group_free(g);
    }
    free(gc);
}

/* ---- rebalancing ---- */

static int64_t now_mono(void)
{
    return eddy_mono_ms();
}

/* Answers a slot now: a parked one is written out, the one being
 * dispatched is left to the dispatcher. */
static void slot_finish(req_slot_t *s)
{
    if (s->rs_state == SLOT_WAITING)
        broker_slot_done(s);
    else
        s->rs_state = SLOT_DONE;
}

static void park(req_slot_t *s)
{
    s->rs_state = SLOT_WAITING;
    s->rs_wait_group = 1;
}

static void respond_join(req_slot_t *s, const JoinGroupResponse *r)
{
    wire_join_group_resp_encode(&s->rs_resp, s->rs_hdr.RequestApiVersion, r);
    slot_finish(s);
}

static void respond_join_error(req_slot_t *s, int16_t err, const char *member_id)
{
    JoinGroupResponse r;
    memset(&r, 0, sizeof r);
    r.ErrorCode = err;
    r.GenerationId = -1;
    r.ProtocolName = ks("");
    r.Leader = ks("");
    r.MemberId = ks(member_id ? member_id : "");
    respond_join(s, &r);
}

static void respond_sync(req_slot_t *s, int16_t err, const uint8_t *assignment, int32_t len)
{
    SyncGroupResponse r = {0, err, (kstr_t){(const char *)(assignment ? assignment : (const uint8_t *)""), assignment ? len : 0}};
    wire_sync_group_resp_encode(&s->rs_resp, s->rs_hdr.RequestApiVersion, &r);
    slot_finish(s);
}

/* The JoinGroup answer for one member of the current generation: the
 * leader also gets every member's metadata. */
static void answer_join(group_t *g, grp_member_t *m, req_slot_t *s)
{
    JoinGroupResponse r;
    memset(&r, 0, sizeof r);
    r.GenerationId = g->g_generation;
    r.ProtocolName = ks(g->g_protocol);
    r.Leader = ks(g->g_leader);
    r.MemberId = ks(m->m_id);
    JoinGroupResponseMember *mem = NULL;
    if (g->g_leader && strcmp(g->g_leader, m->m_id) == 0) {
        mem = calloc((size_t)g->g_nmembers + 1, sizeof *mem);
        for (grp_member_t *x = g->g_members; mem && x; x = x->m_next) {
            const grp_protocol_t *p = member_protocol(x, g->g_protocol);
            JoinGroupResponseMember *e = &mem[r.MembersCount++];
            e->MemberId = ks(x->m_id);
            e->GroupInstanceId = ks(x->m_instance_id);
            e->Metadata = p ? (kstr_t){(const char *)p->gp_meta, p->gp_meta_len} : ks("");
        }
        r.Members = mem;
    }
    respond_join(s, &r);
    free(mem);
}

static void remove_member(group_t *g, grp_member_t *m)
{
    for (grp_member_t **pp = &g->g_members; *pp; pp = &(*pp)->m_next)
        if (*pp == m) {
            *pp = m->m_next;
            break;
        }
    g->g_nmembers--;
    if (m->m_join_slot)
        respond_join_error(m->m_join_slot, KERR_UNKNOWN_MEMBER_ID, m->m_id);
    if (m->m_sync_slot)
        respond_sync(m->m_sync_slot, KERR_UNKNOWN_MEMBER_ID, NULL, 0);
    if (g->g_leader && strcmp(g->g_leader, m->m_id) == 0)
        set_str(&g->g_leader, NULL);
    member_free(m);
}

static void complete_join(group_coordinator_t *gc, group_t *g);

static void prepare_rebalance(group_coordinator_t *gc, group_t *g, const char *why)
{
    eddy_broker_t *b = gc->gc_broker;
    if (g->g_state == GRP_COMPLETING) {
        /* Members waiting for an assignment learn it is void. */
        for (grp_member_t *m = g->g_members; m; m = m->m_next)
            if (m->m_sync_slot) {
                respond_sync(m->m_sync_slot, KERR_REBALANCE_IN_PROGRESS, NULL, 0);
                m->m_sync_slot = NULL;
            }
    }
    int32_t timeout = 0;
    for (grp_member_t *m = g->g_members; m; m = m->m_next)
        if (m->m_rebalance_timeout > timeout)
            timeout = m->m_rebalance_timeout;
    int64_t now = now_mono();
    int was_empty = g->g_state == GRP_EMPTY;
    g->g_state = GRP_PREPARING;
    g->g_rebalance_deadline_ms = now + timeout;
    g->g_initial_until_ms = 0;
    if (was_empty && b->bk_cfg.group_initial_rebalance_delay_ms > 0) {
        /* group.initial.rebalance.delay.ms: let a starting fleet join
         * before the first assignment, each arrival extending the wait
         * up to the rebalance timeout. */
        g->g_initial_until_ms = now + b->bk_cfg.group_initial_rebalance_delay_ms;
        g->g_initial_limit_ms = now + timeout;
    }
    EDDY_LOG_INFO("group", "group %s: rebalancing (%s), generation %d, %d member(s)", g->g_id,
                  why, g->g_generation, g->g_nmembers);
}

static int all_joined(const group_t *g)
{
    if (g->g_pending)
        return 0;
    for (const grp_member_t *m = g->g_members; m; m = m->m_next)
        if (!m->m_join_slot)
            return 0;
    return 1;
}

static void try_complete_join(group_coordinator_t *gc, group_t *g, int64_t now)
{
    if (g->g_state != GRP_PREPARING)
        return;
    int deadline = now >= g->g_rebalance_deadline_ms;
    int delaying = g->g_initial_until_ms && now < g->g_initial_until_ms && !deadline;
    if (delaying)
        return;
    if (deadline || all_joined(g))
        complete_join(gc, g);
}

static void complete_join(group_coordinator_t *gc, group_t *g)
{
    /* Members that did not rejoin in time are out. */
    grp_member_t *m = g->g_members;
    while (m) {
        grp_member_t *next = m->m_next;
        if (!m->m_join_slot) {
            EDDY_LOG_INFO("group", "group %s: member %s did not rejoin in time", g->g_id, m->m_id);
            remove_member(g, m);
        }
        m = next;
    }
    pending_free(g);
    g->g_generation++;
    g->g_initial_until_ms = 0;
    if (!g->g_members) {
        g->g_state = GRP_EMPTY;
        set_str(&g->g_protocol, NULL);
        set_str(&g->g_leader, NULL);
        store_group(gc, g);
        return;
    }
    set_str(&g->g_protocol, select_protocol(g));
    if (!g->g_leader)
        set_str(&g->g_leader, g->g_members->m_id);
    g->g_state = GRP_COMPLETING;
    int64_t now = now_mono();
    for (m = g->g_members; m; m = m->m_next) {
        free(m->m_assignment);
        m->m_assignment = NULL;
        m->m_assignment_len = 0;
        req_slot_t *s = m->m_join_slot;
        m->m_join_slot = NULL;
        m->m_expires_ms = now + m->m_session_timeout;
        answer_join(g, m, s);
    }
    EDDY_LOG_INFO("group", "group %s: generation %d with %d member(s), protocol %s, leader %s",
                  g->g_id, g->g_generation, g->g_nmembers, g->g_protocol, g->g_leader);
}

void group_coordinator_tick(group_coordinator_t *gc, int64_t now)
{
    for (group_t *g = gc->gc_groups; g; g = g->g_next) {
        /* Session expiry: members not parked in a join or sync. */
        grp_member_t *m = g->g_members;
        int expired = 0;
        while (m) {
            grp_member_t *next = m->m_next;
            if (!m->m_join_slot && !m->m_sync_slot && now >= m->m_expires_ms) {
                EDDY_LOG_INFO("group", "group %s: member %s session expired", g->g_id, m->m_id);
                remove_member(g, m);
                expired = 1;
            }
            m = next;
        }
        for (grp_pending_t **pp = &g->g_pending; *pp;) {
            grp_pending_t *p = *pp;
            if (now >= p->pm_expires_ms) {
                *pp = p->pm_next;
                free(p->pm_id);
                free(p);
            } else {
                pp = &p->pm_next;
            }
        }
        if (expired && (g->g_state == GRP_STABLE || g->g_state == GRP_COMPLETING))
            prepare_rebalance(gc, g, "a session expired");
        if (expired && g->g_state == GRP_PREPARING && !g->g_members && !g->g_pending) {
            complete_join(gc, g);
            continue;
        }
        try_complete_join(gc, g, now);
    }
}

void group_slot_gone(group_coordinator_t *gc, req_slot_t *s)
{
    for (group_t *g = gc->gc_groups; g; g = g->g_next)
        for (grp_member_t *m = g->g_members; m; m = m->m_next) {
            if (m->m_join_slot == s) {
                m->m_join_slot = NULL;
                m->m_expires_ms = now_mono() + m->m_session_timeout;
            }
            if (m->m_sync_slot == s)
                m->m_sync_slot = NULL;
        }
}

/* ---- request handlers ---- */

int handle_find_coordinator(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    FindCoordinatorRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    int rc = wire_find_coordinator_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    FindCoordinatorResponse r = {0, KERR_NONE, KSTR_NULL, b->bk_cfg.broker_id, ks(b->bk_adv_host),
                                 b->bk_adv_port};
    if (req.KeyType != 0) {
        r.ErrorCode = KERR_COORDINATOR_NOT_AVAILABLE;
        r.ErrorMessage = ks("transactions are not supported by this broker");
        r.NodeId = -1;
        r.Host = ks("");
        r.Port = -1;
    }
    wire_find_coordinator_resp_encode(&s->rs_resp, v, &r);
    s->rs_state = SLOT_DONE;
    return 0;
}

static grp_member_t *add_member(group_t *g, req_slot_t *s, char *id, const JoinGroupRequest *r)
{
    grp_member_t *m = calloc(1, sizeof *m);
    if (!m) {
        free(id);
        return NULL;
    }
    m->m_id = id;
    m->m_instance_id = kdup(r->GroupInstanceId);
    m->m_client_id = kdup(s->rs_hdr.ClientId.len >= 0 ? s->rs_hdr.ClientId : ks(""));
    char host[128];
    snprintf(host, sizeof host, "/%s", s->rs_conn->c_peer);
    char *colon = strrchr(host, ':');
    if (colon)
        *colon = 0;
    m->m_client_host = strdup(host);
    m->m_session_timeout = r->SessionTimeoutMs;
    m->m_rebalance_timeout = r->RebalanceTimeoutMs;
    if (set_protocols(m, r) < 0) {
        member_free(m);
        return NULL;
    }
    if (!g->g_members)
        g->g_protocol_type = kdup(r->ProtocolType);
    grp_member_t **pp = &g->g_members;
    while (*pp)
        pp = &(*pp)->m_next;
    *pp = m;
    g->g_nmembers++;
    return m;
}

/* A member (new or changed) waits in this join. */
static void join_and_wait(group_coordinator_t *gc, group_t *g, grp_member_t *m, req_slot_t *s,
                          const char *why)
{
    if (m->m_join_slot && m->m_join_slot != s)
        respond_join_error(m->m_join_slot, KERR_REBALANCE_IN_PROGRESS, m->m_id);
    m->m_join_slot = s;
    park(s);
    int64_t now = now_mono();
    if (g->g_state != GRP_PREPARING) {
        prepare_rebalance(gc, g, why);
    } else if (g->g_initial_until_ms) {
        int64_t ext = now + gc->gc_broker->bk_cfg.group_initial_rebalance_delay_ms;
        g->g_initial_until_ms = ext < g->g_initial_limit_ms ? ext : g->g_initial_limit_ms;
    }
    try_complete_join(gc, g, now);
}

int handle_join_group(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    JoinGroupRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    int rc = wire_join_group_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    group_coordinator_t *gc = b->bk_groups;
    const broker_config_t *cfg = &b->bk_cfg;
    if (req.GroupId.len <= 0) {
        respond_join_error(s, KERR_INVALID_GROUP_ID, NULL);
        return 0;
    }
    if (req.SessionTimeoutMs < cfg->group_min_session_timeout_ms ||
        req.SessionTimeoutMs > cfg->group_max_session_timeout_ms) {
        respond_join_error(s, KERR_INVALID_SESSION_TIMEOUT, NULL);
        return 0;
    }
    group_t *g = group_get(gc, req.GroupId);
    if (!g)
        return -ENOMEM;
    if (!joiner_compatible(g, &req)) {
        respond_join_error(s, KERR_INCONSISTENT_GROUP_PROTOCOL, NULL);
        return 0;
    }
    int64_t now = now_mono();
    if (req.MemberId.len <= 0) {
        grp_member_t *old = member_by_instance(g, req.GroupInstanceId);
        if (old) {
            /* A static member back under a new member id: it takes the old
             * one's place, and in a stable group its partitions, without a
             * rebalance unless its subscription changed. */
            char *id = new_member_id(s->rs_hdr.ClientId);
            if (!id)
                return -ENOMEM;
            if (g->g_leader && strcmp(g->g_leader, old->m_id) == 0)
                set_str(&g->g_leader, id);
            if (old->m_join_slot)
                respond_join_error(old->m_join_slot, KERR_UNKNOWN_MEMBER_ID, old->m_id);
            if (old->m_sync_slot)
                respond_sync(old->m_sync_slot, KERR_UNKNOWN_MEMBER_ID, NULL, 0);
            old->m_join_slot = old->m_sync_slot = NULL;
            free(old->m_id);
            old->m_id = id;
            old->m_session_timeout = req.SessionTimeoutMs;
            old->m_rebalance_timeout = req.RebalanceTimeoutMs;
            old->m_expires_ms = now + old->m_session_timeout;
            int same = protocols_equal(old, &req);
            EDDY_LOG_INFO("group", "group %s: static member %s rejoined as %s", g->g_id,
                          old->m_instance_id, id);
            if ((g->g_state == GRP_STABLE || g->g_state == GRP_COMPLETING) && same) {
                answer_join(g, old, s);
                return 0;
            }
            if (set_protocols(old, &req) < 0)
                return -ENOMEM;
            join_and_wait(gc, g, old, s, "a static member changed its subscription");
            return 0;
        }
        char *id = new_member_id(s->rs_hdr.ClientId);
        if (!id)
            return -ENOMEM;
        if (v >= 4 && req.GroupInstanceId.len < 0) {
            /* KIP-394: the client must come back with this id. */
            grp_pending_t *p = calloc(1, sizeof *p);
            if (!p) {
                free(id);
                return -ENOMEM;
            }
            p->pm_id = id;
            p->pm_expires_ms = now + req.SessionTimeoutMs;
            p->pm_next = g->g_pending;
            g->g_pending = p;
            respond_join_error(s, KERR_MEMBER_ID_REQUIRED, id);
            return 0;
        }
        grp_member_t *m = add_member(g, s, id, &req);
        if (!m)
            return -ENOMEM;
        join_and_wait(gc, g, m, s, "a member joined");
        return 0;
    }
    grp_member_t *m = member_find(g, req.MemberId);
    if (!m) {
        for (grp_pending_t **pp = &g->g_pending; *pp; pp = &(*pp)->pm_next) {
            grp_pending_t *p = *pp;
            if (kstr_is(req.MemberId, p->pm_id)) {
                *pp = p->pm_next;
                m = add_member(g, s, p->pm_id, &req);
                free(p);
                if (!m)
                    return -ENOMEM;
                join_and_wait(gc, g, m, s, "a member joined");
                return 0;
            }
        }
        respond_join_error(s, KERR_UNKNOWN_MEMBER_ID, NULL);
        return 0;
    }
    m->m_session_timeout = req.SessionTimeoutMs;
    m->m_rebalance_timeout = req.RebalanceTimeoutMs;
    int same = protocols_equal(m, &req);
    int leader = g->g_leader && strcmp(g->g_leader, m->m_id) == 0;
    if (g->g_state == GRP_COMPLETING && same) {
        answer_join(g, m, s);
        return 0;
    }
    if (g->g_state == GRP_STABLE && same && !leader) {
        m->m_expires_ms = now + m->m_session_timeout;
        answer_join(g, m, s);
        return 0;
    }
    if (!same && set_protocols(m, &req) < 0)
        return -ENOMEM;
    join_and_wait(gc, g, m, s, leader ? "the leader rejoined" : "a member rejoined");
    return 0;
}

int handle_sync_group(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    SyncGroupRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    int rc = wire_sync_group_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    group_coordinator_t *gc = b->bk_groups;
    group_t *g = group_find(gc, req.GroupId);
    grp_member_t *m = g ? member_find(g, req.MemberId) : NULL;
    if (!m) {
        respond_sync(s, KERR_UNKNOWN_MEMBER_ID, NULL, 0);
        return 0;
    }
    if (req.GenerationId != g->g_generation) {
        respond_sync(s, KERR_ILLEGAL_GENERATION, NULL, 0);
        return 0;
    }
    m->m_expires_ms = now_mono() + m->m_session_timeout;
    if (g->g_state == GRP_PREPARING) {
        respond_sync(s, KERR_REBALANCE_IN_PROGRESS, NULL, 0);
        return 0;
    }
    if (g->g_state == GRP_STABLE) {
        respond_sync(s, KERR_NONE, m->m_assignment, m->m_assignment_len);
        return 0;
    }
    /* CompletingRebalance: followers wait for the leader's assignments. */
    if (m->m_sync_slot)
        respond_sync(m->m_sync_slot, KERR_REBALANCE_IN_PROGRESS, NULL, 0);
    m->m_sync_slot = s;
    park(s);
    if (!g->g_leader || strcmp(g->g_leader, m->m_id) != 0)
        return 0;
    for (int32_t i = 0; i < req.AssignmentsCount; i++) {
        grp_member_t *x = member_find(g, req.Assignments[i].MemberId);
        kstr_t a = req.Assignments[i].Assignment;
        if (!x || a.len < 0)
            continue;
        free(x->m_assignment);
        x->m_assignment = malloc((size_t)a.len + 1);
        if (!x->m_assignment)
            return -ENOMEM;
        memcpy(x->m_assignment, a.ptr, (size_t)a.len);
        x->m_assignment_len = a.len;
    }
    g->g_state = GRP_STABLE;
    store_group(gc, g);
    int64_t now = now_mono();
    for (grp_member_t *x = g->g_members; x; x = x->m_next) {
        x->m_expires_ms = now + x->m_session_timeout;
        if (x->m_sync_slot) {
            req_slot_t *xs = x->m_sync_slot;
            x->m_sync_slot = NULL;
            if (xs == s)
                s->rs_state = SLOT_NEW; /* still being dispatched: answered in place */
            respond_sync(xs, KERR_NONE, x->m_assignment, x->m_assignment_len);
        }
    }
    return 0;
}

int handle_heartbeat(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    HeartbeatRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    int rc = wire_heartbeat_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    group_t *g = group_find(b->bk_groups, req.GroupId);
    grp_member_t *m = g ? member_find(g, req.MemberId) : NULL;
    HeartbeatResponse r = {0, KERR_NONE};
    if (!m)
        r.ErrorCode = KERR_UNKNOWN_MEMBER_ID;
    else if (req.GenerationId != g->g_generation)
        r.ErrorCode = KERR_ILLEGAL_GENERATION;
    else if (g->g_state == GRP_PREPARING)
        r.ErrorCode = KERR_REBALANCE_IN_PROGRESS;
    if (m)
        m->m_expires_ms = now_mono() + m->m_session_timeout;
    wire_heartbeat_resp_encode(&s->rs_resp, v, &r);
    s->rs_state = SLOT_DONE;
    return 0;
}

int handle_leave_group(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    LeaveGroupRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    int rc = wire_leave_group_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    group_coordinator_t *gc = b->bk_groups;
    group_t *g = group_find(gc, req.GroupId);
    grp_member_t *m = g ? member_find(g, req.MemberId) : NULL;
    LeaveGroupResponse r = {0, KERR_NONE};
    if (!m) {
        r.ErrorCode = KERR_UNKNOWN_MEMBER_ID;
    } else {
        EDDY_LOG_INFO("group", "group %s: member %s left", g->g_id, m->m_id);
        remove_member(g, m);
        if (g->g_state == GRP_STABLE || g->g_state == GRP_COMPLETING)
            prepare_rebalance(gc, g, "a member left");
        if (g->g_state == GRP_PREPARING && !g->g_members && !g->g_pending)
            complete_join(gc, g);
        else
            try_complete_join(gc, g, now_mono());
    }
    wire_leave_group_resp_encode(&s->rs_resp, v, &r);
    slot_finish(s);
    return 0;
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
    if (req.GroupId.len <= 0) {
        gerr = KERR_INVALID_GROUP_ID;
    } else {
        g = group_find(gc, req.GroupId);
        grp_member_t *m = g ? member_find(g, req.MemberId) : NULL;
        int empty = !g || g->g_state == GRP_EMPTY;
        if (req.GenerationId < 0 && empty) {
            /* A simple (non-member) commit: the group has nobody in it. */
        } else if (g && g->g_state == GRP_COMPLETING) {
            gerr = KERR_REBALANCE_IN_PROGRESS;
        } else if (!m) {
            gerr = KERR_UNKNOWN_MEMBER_ID;
        } else if (req.GenerationId != g->g_generation) {
            gerr = KERR_ILLEGAL_GENERATION;
        } else {
            m->m_expires_ms = now_mono() + m->m_session_timeout;
        }
        if (gerr == KERR_NONE && !g && !(g = group_get(gc, req.GroupId)))
            return -ENOMEM;
    }
    OffsetCommitResponse resp = {0, NULL, req.TopicsCount};
    resp.Topics = arena_calloc(a, (size_t)(req.TopicsCount ? req.TopicsCount : 1), sizeof *resp.Topics);
    if (!resp.Topics)
        return -ENOMEM;
    store_batch_t sb;
    sb_init(&sb);
    int64_t now = eddy_wall_ms();
    for (int32_t i = 0; i < req.TopicsCount; i++) {
        OffsetCommitRequestTopic *t = &req.Topics[i];
        OffsetCommitResponseTopic *ot = &resp.Topics[i];
        ot->Name = t->Name;
        ot->PartitionsCount = t->PartitionsCount;
        ot->Partitions = arena_calloc(a, (size_t)(t->PartitionsCount ? t->PartitionsCount : 1),
                                      sizeof *ot->Partitions);
        if (!ot->Partitions) {
            sb_free(&sb);
            return -ENOMEM;
        }
        for (int32_t j = 0; j < t->PartitionsCount; j++) {
            OffsetCommitRequestPartition *p = &t->Partitions[j];
            OffsetCommitResponsePartition *op = &ot->Partitions[j];
            op->PartitionIndex = p->PartitionIndex;
            op->ErrorCode = gerr;
            if (gerr != KERR_NONE)
                continue;
            if (p->CommittedMetadata.len > b->bk_cfg.offset_metadata_max_bytes) {
                op->ErrorCode = KERR_OFFSET_METADATA_TOO_LARGE;
                continue;
            }
            if (t->Name.len < 0 || !topics_partition(&b->bk_topics, t->Name.ptr, (size_t)t->Name.len,
                                                     p->PartitionIndex)) {
                op->ErrorCode = KERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            key_offset(&sb.sb_key, g->g_id, t->Name, p->PartitionIndex);
            wr_i16(&sb.sb_val, 3);
            wr_i64(&sb.sb_val, p->CommittedOffset);
            wr_i32(&sb.sb_val, p->CommittedLeaderEpoch);
            wr_string(&sb.sb_val, p->CommittedMetadata.len >= 0 ? p->CommittedMetadata : ks(""));
            wr_i64(&sb.sb_val, now);
            sb_add(&sb, 0);
        }
    }
    int16_t serr = g ? sb_append(gc, &sb, g->g_id) : KERR_NONE;
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
                                p->CommittedLeaderEpoch, p->CommittedMetadata, now) < 0)
                op->ErrorCode = KERR_UNKNOWN_SERVER_ERROR;
        }
    wire_offset_commit_resp_encode(&s->rs_resp, v, &resp);
    s->rs_state = SLOT_DONE;
    return 0;
}

static void fill_fetched(group_t *g, kstr_t topic, int32_t partition, OffsetFetchResponsePartition *op)
{
    op->PartitionIndex = partition;
    op->CommittedOffset = -1;
    op->CommittedLeaderEpoch = -1;
    op->Metadata = ks("");
    op->ErrorCode = KERR_NONE;
    grp_offset_t *o = g && topic.len >= 0 ? offset_find(g, topic.ptr, (size_t)topic.len, partition) : NULL;
    if (o) {
        op->CommittedOffset = o->o_offset;
        op->CommittedLeaderEpoch = o->o_leader_epoch;
        op->Metadata = ks(o->o_metadata ? o->o_metadata : "");
    }
}

int handle_offset_fetch(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    OffsetFetchRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    eddy_arena_t *a = &s->rs_out; /* response arrays: not bounded by the request size */
    int rc = wire_offset_fetch_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    group_t *g = group_find(b->bk_groups, req.GroupId);
    OffsetFetchResponse resp;
    memset(&resp, 0, sizeof resp);
    if (req.TopicsCount >= 0) {
        resp.TopicsCount = req.TopicsCount;
        resp.Topics = arena_calloc(a, (size_t)(req.TopicsCount ? req.TopicsCount : 1), sizeof *resp.Topics);
        if (!resp.Topics)
            return -ENOMEM;
        for (int32_t i = 0; i < req.TopicsCount; i++) {
            OffsetFetchRequestTopic *t = &req.Topics[i];
            OffsetFetchResponseTopic *ot = &resp.Topics[i];
            ot->Name = t->Name;
            ot->PartitionsCount = t->PartitionIndexesCount;
            ot->Partitions = arena_calloc(a, (size_t)(t->PartitionIndexesCount ? t->PartitionIndexesCount : 1),
                                          sizeof *ot->Partitions);
            if (!ot->Partitions)
                return -ENOMEM;
            for (int32_t j = 0; j < t->PartitionIndexesCount; j++)
                fill_fetched(g, t->Name, t->PartitionIndexes[j], &ot->Partitions[j]);
        }
    } else if (g) {
        /* Every committed partition, grouped by topic. */
        int n = 0;
        for (grp_offset_t *o = g->g_offsets; o; o = o->o_next)
            n++;
        resp.Topics = arena_calloc(a, (size_t)(n ? n : 1), sizeof *resp.Topics);
        if (!resp.Topics)
            return -ENOMEM;
        for (grp_offset_t *o = g->g_offsets; o; o = o->o_next) {
            OffsetFetchResponseTopic *ot = NULL;
            for (int32_t i = 0; i < resp.TopicsCount && !ot; i++)
                if (kstr_is(resp.Topics[i].Name, o->o_topic))
                    ot = &resp.Topics[i];
            if (!ot) {
                ot = &resp.Topics[resp.TopicsCount++];
                ot->Name = ks(o->o_topic);
                ot->Partitions = arena_calloc(a, (size_t)n, sizeof *ot->Partitions);
                if (!ot->Partitions)
                    return -ENOMEM;
            }
            fill_fetched(g, ot->Name, o->o_partition, &ot->Partitions[ot->PartitionsCount++]);
        }
    }
    wire_offset_fetch_resp_encode(&s->rs_resp, v, &resp);
    s->rs_state = SLOT_DONE;
    return 0;
}

int handle_describe_groups(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    DescribeGroupsRequest req;
    int16_t v = s->rs_hdr.RequestApiVersion;
    eddy_arena_t *a = &s->rs_out; /* response arrays: not bounded by the request size */
    int rc = wire_describe_groups_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    DescribeGroupsResponse resp = {0, NULL, req.GroupsCount};
    resp.Groups = arena_calloc(a, (size_t)(req.GroupsCount ? req.GroupsCount : 1), sizeof *resp.Groups);
    if (!resp.Groups)
        return -ENOMEM;
    for (int32_t i = 0; i < req.GroupsCount; i++) {
        DescribedGroup *d = &resp.Groups[i];
        group_t *g = group_find(b->bk_groups, req.Groups[i]);
        d->GroupId = req.Groups[i];
        d->GroupState = ks(state_names[g ? g->g_state : GRP_DEAD]);
        d->ProtocolType = ks(g && g->g_protocol_type ? g->g_protocol_type : "");
        d->ProtocolData = ks(g && g->g_protocol ? g->g_protocol : "");
        if (!g)
            continue;
        d->Members = arena_calloc(a, (size_t)g->g_nmembers + 1, sizeof *d->Members);
        if (!d->Members)
            return -ENOMEM;
        for (grp_member_t *m = g->g_members; m; m = m->m_next) {
            DescribedGroupMember *dm = &d->Members[d->MembersCount++];
            const grp_protocol_t *p = member_protocol(m, g->g_protocol);
            dm->MemberId = ks(m->m_id);
            dm->ClientId = ks(m->m_client_id);
            dm->ClientHost = ks(m->m_client_host);
            dm->MemberMetadata = p ? (kstr_t){(const char *)p->gp_meta, p->gp_meta_len} : ks("");
            dm->MemberAssignment = m->m_assignment ? (kstr_t){(const char *)m->m_assignment, m->m_assignment_len} : ks("");
        }
    }
    wire_describe_groups_resp_encode(&s->rs_resp, v, &resp);
    s->rs_state = SLOT_DONE;
    return 0;
}

int handle_list_groups(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    int16_t v = s->rs_hdr.RequestApiVersion;
    int rc = wire_list_groups_req_decode(rd, v, &s->rs_arena);
    if (rc < 0)
        return rc;
    int n = 0;
    for (group_t *g = b->bk_groups->gc_groups; g; g = g->g_next)
        n++;
    ListGroupsResponse resp = {0, KERR_NONE, NULL, 0};
    resp.Groups = arena_calloc(&s->rs_out, (size_t)(n ? n : 1), sizeof *resp.Groups);
    if (!resp.Groups)
        return -ENOMEM;
    for (group_t *g = b->bk_groups->gc_groups; g; g = g->g_next) {
        ListedGroup *l = &resp.Groups[resp.GroupsCount++];
        l->GroupId = ks(g->g_id);
        l->ProtocolType = ks(g->g_protocol_type ? g->g_protocol_type : "");
    }
    wire_list_groups_resp_encode(&s->rs_resp, v, &resp);
    s->rs_state = SLOT_DONE;
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
    resp.Results = arena_calloc(a, (size_t)(req.GroupsNamesCount ? req.GroupsNamesCount : 1),
                                sizeof *resp.Results);
    if (!resp.Results)
        return -ENOMEM;
    for (int32_t i = 0; i < req.GroupsNamesCount; i++) {
        DeletableGroupResult *r = &resp.Results[i];
        r->GroupId = req.GroupsNames[i];
        group_t *g = group_find(gc, req.GroupsNames[i]);
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
            key_offset(&sb.sb_key, g->g_id, ks(o->o_topic), o->o_partition);
            sb_add(&sb, 1);
        }
        key_group(&sb.sb_key, g->g_id);
        sb_add(&sb, 1);
        r->ErrorCode = sb_append(gc, &sb, g->g_id);
        sb_free(&sb);
        if (r->ErrorCode != KERR_NONE)
            continue;
        for (group_t **pp = &gc->gc_groups; *pp; pp = &(*pp)->g_next)
            if (*pp == g) {
                *pp = g->g_next;
                break;
            }
        EDDY_LOG_INFO("group", "deleted group %s", g->g_id);
        group_free(g);
    }
    wire_delete_groups_resp_encode(&s->rs_resp, v, &resp);
    s->rs_state = SLOT_DONE;
    return 0;
}

/* The group coordinator: membership and rebalancing (see group.h for the
 * state diagram, docs/groups.md for the behaviour). Storage in
 * __consumer_offsets is in group_store.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "broker/group_int.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "wire/api_group.h"
#include "wire/recordbatch.h"

/* Kafka's AclOperation codes READ (3), DELETE (6) and DESCRIBE (8): what a
 * group allows, as a DescribeGroups v3+ bitfield. */
#define GROUP_TYPE_CLASSIC "classic"

const char *const grp_state_names[] = {"Empty", "PreparingRebalance", "CompletingRebalance",
                                       "Stable", "Dead"};

/* ---- small helpers ---- */

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

group_t *grp_find(group_coordinator_t *gc, kstr_t id)
{
    for (group_t *g = gc->gc_groups; g; g = g->g_next)
        if (kstr_eq(id, g->g_id))
            return g;
    return NULL;
}

group_t *grp_get(group_coordinator_t *gc, kstr_t id)
{
    group_t *g = grp_find(gc, id);
    if (g)
        return g;
    g = calloc(1, sizeof *g);
    if (!g || !(g->g_id = kstr_dup(id))) {
        free(g);
        return NULL;
    }
    g->g_state = GRP_EMPTY;
    g->g_next = gc->gc_groups;
    gc->gc_groups = g;
    return g;
}

grp_member_t *grp_member_find(group_t *g, kstr_t id)
{
    for (grp_member_t *m = g->g_members; m; m = m->m_next)
        if (kstr_eq(id, m->m_id))
            return m;
    return NULL;
}

static grp_member_t *member_by_instance(group_t *g, kstr_t instance)
{
    if (instance.len < 0)
        return NULL;
    for (grp_member_t *m = g->g_members; m; m = m->m_next)
        if (kstr_eq(instance, m->m_instance_id))
            return m;
    return NULL;
}

int16_t grp_check_static(group_t *g, kstr_t member_id, kstr_t instance_id)
{
    /* Kafka's rule for a request that names its group.instance.id: the
     * instance must be in the group, under this member id. Another member
     * id means a newer consumer took the instance over and this one is a
     * zombie: FENCED_INSTANCE_ID, which a consumer treats as fatal instead
     * of rejoining (a rejoin would take the instance back, and the two
     * would trade it forever). */
    if (instance_id.len < 0)
        return KERR_NONE;
    grp_member_t *m = g ? member_by_instance(g, instance_id) : NULL;
    if (!m)
        return KERR_UNKNOWN_MEMBER_ID;
    if (!kstr_eq(member_id, m->m_id)) {
        static eddy_log_limit_t lim = EDDY_LOG_LIMIT_INIT;
        EDDY_LOG_LIMITED(EDDY_LOG_LVL_INFO, "group", &lim, 1000,
                         "group %s: member %.*s of static instance %s is fenced by member %s",
                         g->g_id, member_id.len > 0 ? (int)member_id.len : 0,
                         member_id.len > 0 ? member_id.ptr : "", m->m_instance_id, m->m_id);
        return KERR_FENCED_INSTANCE_ID;
    }
    return KERR_NONE;
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

void grp_members_clear(group_t *g)
{
    while (g->g_members) {
        grp_member_t *m = g->g_members;
        g->g_members = m->m_next;
        member_free(m);
    }
    g->g_nmembers = 0;
}

grp_member_t *grp_member_restore(group_t *g, const grp_member_record_t *r)
{
    grp_member_t *m = calloc(1, sizeof *m);
    grp_protocol_t *p = calloc(1, sizeof *p);
    if (!m || !p) {
        free(m);
        free(p);
        return NULL;
    }
    m->m_protocols = p;
    m->m_nprotocols = 1;
    m->m_id = kstr_dup(r->mr_id);
    m->m_instance_id = kstr_dup(r->mr_instance_id);
    m->m_client_id = kstr_dup(r->mr_client_id);
    m->m_client_host = kstr_dup(r->mr_client_host);
    p->gp_name = strdup(g->g_protocol ? g->g_protocol : "");
    p->gp_meta = malloc((size_t)r->mr_subscription.len + 1);
    m->m_assignment = malloc((size_t)r->mr_assignment.len + 1);
    if (!m->m_id || !m->m_client_id || !m->m_client_host || !p->gp_name || !p->gp_meta ||
        !m->m_assignment || (r->mr_instance_id.len >= 0 && !m->m_instance_id)) {
        member_free(m);
        return NULL;
    }
    memcpy(p->gp_meta, r->mr_subscription.ptr, (size_t)r->mr_subscription.len);
    p->gp_meta_len = r->mr_subscription.len;
    memcpy(m->m_assignment, r->mr_assignment.ptr, (size_t)r->mr_assignment.len);
    m->m_assignment_len = r->mr_assignment.len;
    m->m_session_timeout = r->mr_session_timeout;
    m->m_rebalance_timeout = r->mr_rebalance_timeout;
    m->m_expires_ms = grp_now_ms() + m->m_session_timeout;
    grp_member_t **pp = &g->g_members;
    while (*pp)
        pp = &(*pp)->m_next;
    *pp = m;
    g->g_nmembers++;
    return m;
}

void grp_free(group_t *g)
{
    grp_members_clear(g);
    pending_free(g);
    offsets_free(g->g_offsets);
    offsets_free(g->g_txn_offsets);
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
    m->m_protocols = calloc((size_t)(r->ProtocolsCount ? r->ProtocolsCount : 1),
                            sizeof *m->m_protocols);
    if (!m->m_protocols)
        return -ENOMEM;
    for (int32_t i = 0; i < r->ProtocolsCount; i++) {
        grp_protocol_t *p = &m->m_protocols[m->m_nprotocols++];
        p->gp_name = kstr_dup(r->Protocols[i].Name);
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
        if (!kstr_eq(p->Name, m->m_protocols[i].gp_name) || len != m->m_protocols[i].gp_meta_len ||
            memcmp(p->Metadata.ptr, m->m_protocols[i].gp_meta, (size_t)len) != 0)
            return 0;
    }
    return 1;
}

const grp_protocol_t *grp_member_protocol(const grp_member_t *m, const char *name)
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
        if (!grp_member_protocol(m, name))
            return 0;
    if (joiner) {
        for (int32_t i = 0; i < joiner->ProtocolsCount; i++)
            if (kstr_eq(joiner->Protocols[i].Name, name))
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
    if (!kstr_eq(r->ProtocolType, g->g_protocol_type))
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

/* ---- rebalancing ---- */

int64_t grp_now_ms(void)
{
    return eddy_mono_ms();
}

static void slot_gone(void *owner, req_slot_t *s);

/* A Join or Sync waits for the rebalance: the server keeps the slot, and
 * tells slot_gone if its connection closes first. */
static void park(group_coordinator_t *gc, req_slot_t *s)
{
    broker_slot_defer(s, slot_gone, gc);
}

static void respond_join(req_slot_t *s, const JoinGroupResponse *r)
{
    wire_join_group_resp_encode(&s->rs_resp, s->rs_hdr.RequestApiVersion, r);
    broker_slot_answer(s);
}

static void respond_join_error(req_slot_t *s, int16_t err, const char *member_id)
{
    JoinGroupResponse r;
    memset(&r, 0, sizeof r);
    r.ErrorCode = err;
    r.GenerationId = -1;
    r.ProtocolName = kstr_c("");
    r.Leader = kstr_c("");
    r.MemberId = kstr_c(member_id ? member_id : "");
    respond_join(s, &r);
}

static void respond_sync(req_slot_t *s, int16_t err, const uint8_t *assignment, int32_t len)
{
    SyncGroupResponse r = {0, err,
                           (kstr_t){(const char *)(assignment ? assignment : (const uint8_t *)""),
                                    assignment ? len : 0}};
    wire_sync_group_resp_encode(&s->rs_resp, s->rs_hdr.RequestApiVersion, &r);
    broker_slot_answer(s);
}

/* The JoinGroup answer for one member of the current generation: the
 * leader also gets every member's metadata. */
static void answer_join(group_t *g, grp_member_t *m, req_slot_t *s)
{
    JoinGroupResponse r;
    memset(&r, 0, sizeof r);
    r.GenerationId = g->g_generation;
    r.ProtocolName = kstr_c(g->g_protocol);
    r.Leader = kstr_c(g->g_leader);
    r.MemberId = kstr_c(m->m_id);
    JoinGroupResponseMember *mem = NULL;
    if (g->g_leader && strcmp(g->g_leader, m->m_id) == 0) {
        mem = calloc((size_t)g->g_nmembers + 1, sizeof *mem);
        for (grp_member_t *x = g->g_members; mem && x; x = x->m_next) {
            const grp_protocol_t *p = grp_member_protocol(x, g->g_protocol);
            JoinGroupResponseMember *e = &mem[r.MembersCount++];
            e->MemberId = kstr_c(x->m_id);
            e->GroupInstanceId = kstr_c(x->m_instance_id);
            e->Metadata = p ? (kstr_t){(const char *)p->gp_meta, p->gp_meta_len} : kstr_c("");
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
    int64_t now = grp_now_ms();
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
    EDDY_LOG_INFO("group", "group %s: rebalancing (%s), generation %d, %d member(s)", g->g_id, why,
                  g->g_generation, g->g_nmembers);
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
        grp_store_group(gc, g);
        return;
    }
    set_str(&g->g_protocol, select_protocol(g));
    if (!g->g_leader)
        set_str(&g->g_leader, g->g_members->m_id);
    g->g_state = GRP_COMPLETING;
    int64_t now = grp_now_ms();
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

/* Removes members past their session deadline and lets the group react.
 * Called by the timer and on every heartbeat, so that a survivor's
 * heartbeat right after a peer's deadline already hears about the
 * rebalance instead of one heartbeat interval later. */
static void group_expire(group_coordinator_t *gc, group_t *g, int64_t now)
{
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
        return;
    }
    try_complete_join(gc, g, now);
}

void group_coordinator_tick(group_coordinator_t *gc, int64_t now)
{
    for (group_t *g = gc->gc_groups; g; g = g->g_next)
        group_expire(gc, g, now);
}

/* A waiting Join/Sync slot's connection went away (broker_slot_defer). */
static void slot_gone(void *owner, req_slot_t *s)
{
    group_coordinator_t *gc = owner;
    for (group_t *g = gc->gc_groups; g; g = g->g_next)
        for (grp_member_t *m = g->g_members; m; m = m->m_next) {
            if (m->m_join_slot == s) {
                m->m_join_slot = NULL;
                m->m_expires_ms = grp_now_ms() + m->m_session_timeout;
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
    const broker_listener_t *l = s->rs_conn->c_listener; /* each client its own address */
    FindCoordinatorResponse r = {
        0, KERR_NONE, KSTR_NULL, b->bk_cfg.broker_id, kstr_c(l->bl_adv_host), l->bl_adv_port};
    if (req.KeyType == 0 && !broker_authorize(b, s, ACL_OP_DESCRIBE, ACL_RES_GROUP, req.Key)) {
        r.ErrorCode = KERR_GROUP_AUTHORIZATION_FAILED;
        r.NodeId = -1;
        r.Host = kstr_c("");
        r.Port = -1;
    } else if (req.KeyType == 1 &&
               !broker_authorize(b, s, ACL_OP_DESCRIBE, ACL_RES_TRANSACTIONAL_ID, req.Key)) {
        r.ErrorCode = KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        r.NodeId = -1;
        r.Host = kstr_c("");
        r.Port = -1;
    } else if (req.KeyType == 1 && req.Key.len <= 0) {
        r.ErrorCode = KERR_INVALID_REQUEST; /* Kafka: no transactional id to find */
        r.NodeId = -1;
        r.Host = kstr_c("");
        r.Port = -1;
    } else if (req.KeyType != 0 && req.KeyType != 1) {
        r.ErrorCode = KERR_INVALID_REQUEST;
        r.ErrorMessage = kstr_c("unknown coordinator key type");
        r.NodeId = -1;
        r.Host = kstr_c("");
        r.Port = -1;
    }
    wire_find_coordinator_resp_encode(&s->rs_resp, v, &r);
    broker_slot_answer(s);
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
    m->m_instance_id = kstr_dup(r->GroupInstanceId);
    m->m_client_id = kstr_dup(s->rs_hdr.ClientId.len >= 0 ? s->rs_hdr.ClientId : kstr_c(""));
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
    if (!g->g_members) {
        free(g->g_protocol_type); /* an Empty group may still carry the last one */
        g->g_protocol_type = kstr_dup(r->ProtocolType);
    }
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
    park(gc, s);
    int64_t now = grp_now_ms();
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
    if (!broker_authorize(b, s, ACL_OP_READ, ACL_RES_GROUP, req.GroupId)) {
        respond_join_error(s, KERR_GROUP_AUTHORIZATION_FAILED, NULL);
        return 0;
    }
    if (req.GroupId.len <= 0) {
        respond_join_error(s, KERR_INVALID_GROUP_ID, NULL);
        return 0;
    }
    if (req.SessionTimeoutMs < cfg->group_min_session_timeout_ms ||
        req.SessionTimeoutMs > cfg->group_max_session_timeout_ms) {
        respond_join_error(s, KERR_INVALID_SESSION_TIMEOUT, NULL);
        return 0;
    }
    group_t *g = grp_get(gc, req.GroupId);
    if (!g)
        return -ENOMEM;
    if (!joiner_compatible(g, &req)) {
        respond_join_error(s, KERR_INCONSISTENT_GROUP_PROTOCOL, NULL);
        return 0;
    }
    int64_t now = grp_now_ms();
    if (req.MemberId.len <= 0) {
        grp_member_t *old = member_by_instance(g, req.GroupInstanceId);
        if (old) {
            /* A static member back under a new member id: it takes the old
             * one's place, and in a stable group its partitions, without a
             * rebalance unless its subscription changed. The old member id
             * is fenced: its waiting join or sync, and every later request
             * naming the instance with it, get FENCED_INSTANCE_ID (Kafka's
             * replaceStaticMember), so a consumer still running under it
             * stops instead of taking the instance back. */
            char *id = new_member_id(s->rs_hdr.ClientId);
            if (!id)
                return -ENOMEM;
            if (g->g_leader && strcmp(g->g_leader, old->m_id) == 0)
                set_str(&g->g_leader, id);
            if (old->m_join_slot)
                respond_join_error(old->m_join_slot, KERR_FENCED_INSTANCE_ID, old->m_id);
            if (old->m_sync_slot)
                respond_sync(old->m_sync_slot, KERR_FENCED_INSTANCE_ID, NULL, 0);
            old->m_join_slot = old->m_sync_slot = NULL;
            char *fenced = old->m_id;
            old->m_id = id;
            old->m_session_timeout = req.SessionTimeoutMs;
            old->m_rebalance_timeout = req.RebalanceTimeoutMs;
            old->m_expires_ms = now + old->m_session_timeout;
            int same = protocols_equal(old, &req);
            EDDY_LOG_INFO("group", "group %s: static member %s rejoined as %s (%s fenced)", g->g_id,
                          old->m_instance_id, id, fenced);
            free(fenced);
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
    int16_t serr = grp_check_static(g, req.MemberId, req.GroupInstanceId);
    if (serr == KERR_FENCED_INSTANCE_ID) {
        respond_join_error(s, serr, NULL);
        return 0;
    }
    grp_member_t *m = grp_member_find(g, req.MemberId);
    if (!m) {
        for (grp_pending_t **pp = &g->g_pending; *pp; pp = &(*pp)->pm_next) {
            grp_pending_t *p = *pp;
            if (kstr_eq(req.MemberId, p->pm_id)) {
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
    if (!broker_authorize(b, s, ACL_OP_READ, ACL_RES_GROUP, req.GroupId)) {
        respond_sync(s, KERR_GROUP_AUTHORIZATION_FAILED, NULL, 0);
        return 0;
    }
    group_t *g = grp_find(gc, req.GroupId);
    grp_member_t *m = g ? grp_member_find(g, req.MemberId) : NULL;
    int16_t serr = grp_check_static(g, req.MemberId, req.GroupInstanceId);
    if (serr != KERR_NONE || !m) {
        respond_sync(s, serr != KERR_NONE ? serr : KERR_UNKNOWN_MEMBER_ID, NULL, 0);
        return 0;
    }
    if (req.GenerationId != g->g_generation) {
        respond_sync(s, KERR_ILLEGAL_GENERATION, NULL, 0);
        return 0;
    }
    m->m_expires_ms = grp_now_ms() + m->m_session_timeout;
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
    park(gc, s);
    if (!g->g_leader || strcmp(g->g_leader, m->m_id) != 0)
        return 0;
    for (int32_t i = 0; i < req.AssignmentsCount; i++) {
        grp_member_t *x = grp_member_find(g, req.Assignments[i].MemberId);
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
    grp_store_group(gc, g);
    int64_t now = grp_now_ms();
    for (grp_member_t *x = g->g_members; x; x = x->m_next) {
        x->m_expires_ms = now + x->m_session_timeout;
        if (x->m_sync_slot) {
            req_slot_t *xs = x->m_sync_slot;
            x->m_sync_slot = NULL;
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
    if (!broker_authorize(b, s, ACL_OP_READ, ACL_RES_GROUP, req.GroupId)) {
        HeartbeatResponse denied = {0, KERR_GROUP_AUTHORIZATION_FAILED};
        wire_heartbeat_resp_encode(&s->rs_resp, v, &denied);
        broker_slot_answer(s);
        return 0;
    }
    group_t *g = grp_find(b->bk_groups, req.GroupId);
    grp_member_t *m = g ? grp_member_find(g, req.MemberId) : NULL;
    /* This member is alive; peers past their deadline go now, so the
     * answer already says REBALANCE_IN_PROGRESS if one of them died. */
    if (m && req.GenerationId == g->g_generation)
        m->m_expires_ms = grp_now_ms() + m->m_session_timeout;
    if (g) {
        group_expire(b->bk_groups, g, grp_now_ms());
        m = grp_member_find(g, req.MemberId);
    }
    HeartbeatResponse r = {0, KERR_NONE};
    int16_t serr = grp_check_static(g, req.MemberId, req.GroupInstanceId);
    if (serr != KERR_NONE)
        r.ErrorCode = serr; /* fenced, or an instance the group does not know */
    else if (!m)
        r.ErrorCode = KERR_UNKNOWN_MEMBER_ID;
    else if (req.GenerationId != g->g_generation)
        r.ErrorCode = KERR_ILLEGAL_GENERATION;
    else if (g->g_state == GRP_PREPARING)
        r.ErrorCode = KERR_REBALANCE_IN_PROGRESS;
    wire_heartbeat_resp_encode(&s->rs_resp, v, &r);
    broker_slot_answer(s);
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
    int denied = !broker_authorize(b, s, ACL_OP_READ, ACL_RES_GROUP, req.GroupId);
    group_t *g = denied ? NULL : grp_find(gc, req.GroupId);
    grp_member_t *m = g ? grp_member_find(g, req.MemberId) : NULL;
    LeaveGroupResponse r = {0, KERR_NONE};
    if (denied) {
        r.ErrorCode = KERR_GROUP_AUTHORIZATION_FAILED;
    } else if (!m) {
        r.ErrorCode = KERR_UNKNOWN_MEMBER_ID;
    } else {
        EDDY_LOG_INFO("group", "group %s: member %s left", g->g_id, m->m_id);
        remove_member(g, m);
        if (g->g_state == GRP_STABLE || g->g_state == GRP_COMPLETING)
            prepare_rebalance(gc, g, "a member left");
        if (g->g_state == GRP_PREPARING && !g->g_members && !g->g_pending)
            complete_join(gc, g);
        else
            try_complete_join(gc, g, grp_now_ms());
    }
    wire_leave_group_resp_encode(&s->rs_resp, v, &r);
    broker_slot_answer(s);
    return 0;
}

/* What the principal may do with a group (READ, DELETE, DESCRIBE), as
 * Kafka's bit set; all of it without an authorizer. */
static int32_t group_operations(eddy_broker_t *b, req_slot_t *s, kstr_t group)
{
    int32_t ops = 0;
    static const int group_ops[] = {ACL_OP_READ, ACL_OP_DELETE, ACL_OP_DESCRIBE};
    for (int i = 0; i < 3; i++)
        if (broker_authorize_quiet(b, s, group_ops[i], ACL_RES_GROUP, group))
            ops |= 1 << group_ops[i];
    return ops;
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
    resp.Groups = resp_array(a, req.GroupsCount, sizeof *resp.Groups);
    if (!resp.Groups)
        return -ENOMEM;
    for (int32_t i = 0; i < req.GroupsCount; i++) {
        DescribedGroup *d = &resp.Groups[i];
        d->GroupId = req.Groups[i];
        if (!broker_authorize(b, s, ACL_OP_DESCRIBE, ACL_RES_GROUP, req.Groups[i])) {
            d->ErrorCode = KERR_GROUP_AUTHORIZATION_FAILED;
            d->GroupState = d->ProtocolType = d->ProtocolData = kstr_c("");
            d->AuthorizedOperations = INT32_MIN;
            continue;
        }
        group_t *g = grp_find(b->bk_groups, req.Groups[i]);
        d->GroupState = kstr_c(grp_state_names[g ? g->g_state : GRP_DEAD]);
        d->ProtocolType = kstr_c(g && g->g_protocol_type ? g->g_protocol_type : "");
        d->ProtocolData = kstr_c(g && g->g_protocol ? g->g_protocol : "");
        d->AuthorizedOperations = req.IncludeAuthorizedOperations
                                      ? group_operations(b, s, req.Groups[i])
                                      : INT32_MIN;
        if (!g)
            continue;
        d->Members = arena_calloc(a, (size_t)g->g_nmembers + 1, sizeof *d->Members);
        if (!d->Members)
            return -ENOMEM;
        for (grp_member_t *m = g->g_members; m; m = m->m_next) {
            DescribedGroupMember *dm = &d->Members[d->MembersCount++];
            const grp_protocol_t *p = grp_member_protocol(m, g->g_protocol);
            dm->MemberId = kstr_c(m->m_id);
            dm->GroupInstanceId = kstr_c(m->m_instance_id);
            dm->ClientId = kstr_c(m->m_client_id);
            dm->ClientHost = kstr_c(m->m_client_host);
            dm->MemberMetadata = p ? (kstr_t){(const char *)p->gp_meta, p->gp_meta_len}
                                   : kstr_c("");
            dm->MemberAssignment = m->m_assignment ? (kstr_t){(const char *)m->m_assignment,
                                                              m->m_assignment_len}
                                                   : kstr_c("");
        }
    }
    wire_describe_groups_resp_encode(&s->rs_resp, v, &resp);
    broker_slot_answer(s);
    return 0;
}

/* Kafka names filters case-insensitively ("stable", "Stable"). */
static int filter_has(const kstr_t *f, int32_t n, const char *name)
{
    if (n <= 0)
        return 1;
    for (int32_t i = 0; i < n; i++)
        if (f[i].len >= 0 && (size_t)f[i].len == strlen(name) &&
            strncasecmp(f[i].ptr, name, (size_t)f[i].len) == 0)
            return 1;
    return 0;
}

int handle_list_groups(eddy_broker_t *b, req_slot_t *s, eddy_rd_t *rd)
{
    int16_t v = s->rs_hdr.RequestApiVersion;
    ListGroupsRequest req;
    int rc = wire_list_groups_req_decode(rd, v, &s->rs_arena, &req);
    if (rc < 0)
        return rc;
    int n = 0;
    for (group_t *g = b->bk_groups->gc_groups; g; g = g->g_next)
        n++;
    ListGroupsResponse resp = {0, KERR_NONE, NULL, 0};
    resp.Groups = resp_array(&s->rs_out, n, sizeof *resp.Groups);
    if (!resp.Groups)
        return -ENOMEM;
    /* Kafka lists the groups the principal may describe, or all of them
     * with DESCRIBE on the cluster. */
    int all = broker_authorize_quiet(b, s, ACL_OP_DESCRIBE, ACL_RES_CLUSTER,
                                     kstr_c(ACL_CLUSTER_NAME));
    for (group_t *g = b->bk_groups->gc_groups; g; g = g->g_next) {
        if (!all && !broker_authorize_quiet(b, s, ACL_OP_DESCRIBE, ACL_RES_GROUP, kstr_c(g->g_id)))
            continue;
        /* Every group here speaks the classic protocol (JoinGroup and
         * SyncGroup); KIP-848's "consumer" groups do not exist in Eddy. */
        if (!filter_has(req.StatesFilter, req.StatesFilterCount, grp_state_names[g->g_state]) ||
            !filter_has(req.TypesFilter, req.TypesFilterCount, GROUP_TYPE_CLASSIC))
            continue;
        ListedGroup *l = &resp.Groups[resp.GroupsCount++];
        l->GroupId = kstr_c(g->g_id);
        l->ProtocolType = kstr_c(g->g_protocol_type ? g->g_protocol_type : "");
        l->GroupState = kstr_c(grp_state_names[g->g_state]);
        l->GroupType = kstr_c(GROUP_TYPE_CLASSIC);
    }
    wire_list_groups_resp_encode(&s->rs_resp, v, &resp);
    broker_slot_answer(s);
    return 0;
}

/* The consumer-group member (see member.h): Kafka's classic protocol with
 * eager rebalancing, as the Java consumer speaks it.
 *
 *   kc_member_open
 *        |
 *        v          coordinator lost (a request failed, NOT_COORDINATOR, ...)
 *      IDLE <-----------------------------------------------------------------+
 *        | step(): what is missing next?                                      |
 *        +-- no coordinator ---------> FIND --FindCoordinator answer--> IDLE  |
 *        +-- rejoin, partitions held -> REVOKE: on_revoked, unassign,         |
 *        |                              auto commit --answer----------> IDLE  |
 *        +-- rejoin, none held ------> JOIN --MEMBER_ID_REQUIRED,             |
 *        |                              |     UNKNOWN_MEMBER_ID,              |
 *        |                              |     REBALANCE_IN_PROGRESS --> IDLE  |
 *        |                              +--leader--> ASSIGN (Metadata,        |
 *        |                              |            assignor) --+            |
 *        |                              v                        v            |
 *        |                            SYNC <---------------------+            |
 *        |                              | assignment applied, on_assigned     |
 *        |                              v                                     |
 *        +-- in a generation --------> STABLE: Heartbeat every                |
 *                                       heartbeat.interval.ms, auto commit;   |
 *                                       REBALANCE_IN_PROGRESS,                |
 *                                       ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID,|
 *                                       partition counts changed: rejoin ---->+
 *
 *   kc_member_close (any state) -> CLOSING: revoke, commit, LeaveGroup ->
 *   CLOSED (done callback, freed); a fatal error -> FAILED (until closed).
 *
 * Every transition goes through step(), run from a zero-delay timer, so no
 * callback of the application or of the client ever runs inside another's
 * stack frame (a rejoin never unassigns partitions under a fetch callback).
 * m_epoch goes up whenever the requests in flight stop mattering (a rejoin,
 * a lost coordinator, close); their answers are then only counted.
 *
 * The coordinator gets a connection of its own (a pseudo node id below every
 * bootstrap address), as Java's client does: a JoinGroup held for the
 * rebalance timeout must not hold up fetches answered in order behind it.
 */
#include "client/member.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_int.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "wire/client_api.h"

/* Kafka errors the wire table does not name. */
#define KERR_GROUP_AUTHORIZATION_FAILED_ 30
#define KERR_GROUP_MAX_SIZE_REACHED_ 81

#define MEMBER_MAX_ASSIGNORS 16
/* ConsumerProtocolSubscription v1 (with OwnedPartitions, empty here): what
 * Kafka 2.4-2.8 and librdkafka 2.0 write, read by Java and librdkafka
 * readers of every version (they skip what they do not know). */
#define SUBSCRIPTION_VERSION 1
#define ASSIGNMENT_VERSION 1
/* Node ids of coordinator connections: COORD_NODE_BASE - node id, far below
 * the bootstrap pseudo nodes (-1, -2, ...) and KC_NODE_ANY. */
#define COORD_NODE_BASE (-(1 << 30))
#define BACKOFF_MAX_MS 1000

enum member_state {
    MS_IDLE,   /* nothing in flight; a step is scheduled */
    MS_FIND,   /* FindCoordinator in flight */
    MS_REVOKE, /* the commit of revoked partitions in flight */
    MS_JOIN,   /* JoinGroup in flight */
    MS_ASSIGN, /* leader: Metadata in flight */
    MS_SYNC,   /* SyncGroup in flight */
    MS_STABLE, /* in a generation, heartbeating */
    MS_FAILED, /* a fatal error: waiting for kc_member_close */
    MS_CLOSING,
    MS_CLOSED,
};

static const char *const state_names[] = {"IDLE", "FIND",   "REVOKE", "JOIN",    "ASSIGN",
                                          "SYNC", "STABLE", "FAILED", "CLOSING", "CLOSED"};

/* kc_member_close: CP_REVOKE -> (CP_COMMITTING) -> CP_LEAVE -> (CP_LEAVING) -> CP_FINISH */
enum close_phase { CP_REVOKE, CP_COMMITTING, CP_LEAVE, CP_LEAVING, CP_FINISH, CP_DONE };

struct kc_member {
    kc_consumer_t *m_consumer;
    kc_client_t *m_client;
    const kc_config_t *m_cfg;
    kc_member_cbs_t m_cbs;
    char **m_topics;
    int m_ntopics;
    assignor_t m_builtin[MEMBER_MAX_ASSIGNORS]; /* from partition.assignment.strategy */
    int m_nbuiltin;
    assignor_t *m_plugins[MEMBER_MAX_ASSIGNORS]; /* kc_member_add_assignor, borrowed */
    int m_nplugins;

    enum member_state m_state;
    uint32_t m_epoch;
    int32_t m_coord_id;   /* the coordinator's node id, -1: unknown */
    int32_t m_coord_node; /* our connection to it */
    char *m_member_id;    /* never NULL; "" before the first join */
    char *m_leader_id;
    char *m_protocol;
    int32_t m_generation;
    int m_rejoin; /* a JoinGroup is due */
    int m_lost;   /* the assignment is lost: revoke without a commit */
    int m_holds;  /* kc_member_hold minus kc_member_release: no JoinGroup while > 0 */

    /* The assignment, sorted by topic and partition (the consumer has it
     * while m_holding; empty after a revocation). */
    kc_topic_partition_t *m_assigned;
    int64_t *m_committed; /* last offset committed per partition, -1 none */
    int m_nassigned;
    int m_holding;

    int m_requests;    /* requests in flight (their callbacks use m) */
    int m_hb_inflight; /* a Heartbeat */
    int m_ac_inflight; /* an auto commit */
    int64_t m_last_hb_ok_ms;
    int32_t m_backoff_ms;
    uv_timer_t m_step_timer, m_tick_timer, m_ac_timer;
    int m_handles;

    enum close_phase m_close_phase;
    kc_member_closed_fn *m_closed_cb;
    void *m_closed_opaque;

    /* leader: the members' subscriptions of the current JoinGroup */
    eddy_arena_t m_lead_arena;
    assignor_subscription_t *m_lead_subs;
    int32_t m_lead_nsubs;
    const char **m_lead_topics;
    int32_t m_lead_ntopics;
    /* leader: the partition counts the assignment was made with, checked
     * every metadata.max.age.ms; a change rebalances (Java's leader does
     * the same), so that new partitions and topics created after the
     * subscription get consumers. */
    char **m_snap_topics;
    int32_t *m_snap_counts;
    int m_nsnap;
    int64_t m_snap_checked_ms;
    int m_snap_inflight;
};

static void step(kc_member_t *m);
static void send_heartbeat(kc_member_t *m);
static void schedule_step(kc_member_t *m, int32_t delay_ms);
static void member_free_if_done(kc_member_t *m);
static void send_sync(kc_member_t *m, SyncGroupRequestAssignment *as, int32_t n);

static const char *group_id(const kc_member_t *m)
{
    return m->m_cfg->group_id;
}

static int is_static(const kc_member_t *m)
{
    return m->m_cfg->group_instance_id && m->m_cfg->group_instance_id[0];
}

static void set_str(char **dst, const char *src)
{
    char *d = src ? strdup(src) : NULL;
    if (src && !d)
        return; /* out of memory: the old value stays */
    free(*dst);
    *dst = d;
}

static assignor_t *assignor_by_name(kc_member_t *m, const char *name)
{
    if (!name)
        return NULL;
    for (int i = 0; i < m->m_nplugins; i++)
        if (strcmp(m->m_plugins[i]->asg_name, name) == 0)
            return m->m_plugins[i];
    for (int i = 0; i < m->m_nbuiltin; i++)
        if (strcmp(m->m_builtin[i].asg_name, name) == 0)
            return &m->m_builtin[i];
    return NULL;
}

static void report_error(kc_member_t *m, int err, int fatal, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void report_error(kc_member_t *m, int err, int fatal, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (fatal)
        EDDY_LOG_ERROR("member", "group %s: %s", group_id(m), why);
    else
        EDDY_LOG_WARN("member", "group %s: %s", group_id(m), why);
    if (m->m_cbs.on_error)
        m->m_cbs.on_error(m, kc_err_eddy(err), kc_err_kafka(err), fatal, why, m->m_cbs.opaque);
}

/* ---- the assignment ---- */

static void assigned_clear(kc_member_t *m)
{
    for (int i = 0; i < m->m_nassigned; i++)
        free((char *)m->m_assigned[i].tp_topic);
    free(m->m_assigned);
    free(m->m_committed);
    m->m_assigned = NULL;
    m->m_committed = NULL;
    m->m_nassigned = 0;
}

static int tp_cmp(const void *x, const void *y)
{
    const kc_topic_partition_t *a = x, *b = y;
    int c = strcmp(a->tp_topic, b->tp_topic);
    return c ? c : (a->tp_partition > b->tp_partition) - (a->tp_partition < b->tp_partition);
}

/* Replaces m_assigned with as (sorted copies); -ENOMEM leaves it empty. */
static int assigned_set(kc_member_t *m, const assignor_assignment_t *as)
{
    assigned_clear(m);
    int n = 0;
    for (int32_t i = 0; i < as->aa_ntopics; i++)
        n += as->aa_topics[i].at_npartitions;
    if (n == 0)
        return 0;
    m->m_assigned = calloc((size_t)n, sizeof *m->m_assigned);
    m->m_committed = calloc((size_t)n, sizeof *m->m_committed);
    if (!m->m_assigned || !m->m_committed) {
        assigned_clear(m);
        return -ENOMEM;
    }
    for (int32_t i = 0; i < as->aa_ntopics; i++)
        for (int32_t j = 0; j < as->aa_topics[i].at_npartitions; j++) {
            char *t = strdup(as->aa_topics[i].at_topic);
            if (!t) {
                assigned_clear(m);
                return -ENOMEM;
            }
            m->m_assigned[m->m_nassigned].tp_topic = t;
            m->m_assigned[m->m_nassigned].tp_partition = as->aa_topics[i].at_partitions[j];
            m->m_committed[m->m_nassigned] = -1;
            m->m_nassigned++;
        }
    qsort(m->m_assigned, (size_t)m->m_nassigned, sizeof *m->m_assigned, tp_cmp);
    return 0;
}

/* ---- requests: common parts ---- */

/* A JoinGroup may be held by the coordinator for the whole rebalance
 * timeout, longer than request.timeout.ms: kc_request has no per-request
 * timeout, so the member moves the deadline of its own request (Java's
 * client waits rebalance timeout + 5 s). */
static void extend_deadline(kc_member_t *m, const void *opaque, int64_t deadline_ms)
{
    kc_broker_t *kb = kc_broker_find(m->m_client, m->m_coord_node);
    if (!kb)
        return;
    for (kc_req_t *r = kb->kb_queue; r; r = r->rq_next)
        if (r->rq_opaque == opaque && r->rq_deadline_ms < deadline_ms)
            r->rq_deadline_ms = deadline_ms;
    for (kc_req_t *r = kb->kb_inflight; r; r = r->rq_next)
        if (r->rq_opaque == opaque && r->rq_deadline_ms < deadline_ms)
            r->rq_deadline_ms = deadline_ms;
}

static int send_to_coordinator(kc_member_t *m, int16_t api, kc_encode_fn *encode,
                               kc_response_fn *done, void *opaque)
{
    int rc = kc_request(m->m_client, m->m_coord_node, api, 1, encode, done, opaque);
    if (rc == 0)
        m->m_requests++;
    return rc;
}

/* Answers of an older epoch only count down. Returns 1 when the answer is
 * stale (the member may have been freed: do not touch m afterwards). */
static int answer_stale(kc_member_t *m, uint32_t epoch)
{
    m->m_requests--;
    if (m->m_state == MS_CLOSED) {
        member_free_if_done(m);
        return 1;
    }
    return epoch != m->m_epoch;
}

static void restart(kc_member_t *m, int32_t delay_ms)
{
    if (m->m_state >= MS_FAILED)
        return;
    m->m_epoch++;
    m->m_state = MS_IDLE;
    m->m_hb_inflight = 0;
    m->m_ac_inflight = 0;
    schedule_step(m, delay_ms);
}

static int32_t next_backoff(kc_member_t *m)
{
    int32_t b = m->m_backoff_ms;
    int32_t next = b * 2;
    m->m_backoff_ms = next > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : next;
    if (m->m_backoff_ms < m->m_cfg->retry_backoff_ms)
        m->m_backoff_ms = m->m_cfg->retry_backoff_ms;
    return b;
}

static void coordinator_lost(kc_member_t *m, const char *why)
{
    EDDY_LOG_INFO("member", "group %s: coordinator %d lost (%s), looking for it again", group_id(m),
                  (int)m->m_coord_id, why);
    m->m_coord_id = -1;
    restart(m, next_backoff(m));
}

/* lost: the partitions are someone else's already; reset_id: the
 * coordinator forgot this member id. */
static void need_rejoin(kc_member_t *m, int lost, int reset_id, const char *why)
{
    EDDY_LOG_INFO("member", "group %s: member %s rejoins from %s (%s)", group_id(m), m->m_member_id,
                  state_names[m->m_state], why);
    m->m_rejoin = 1;
    if (lost) {
        m->m_lost = 1;
        m->m_generation = -1;
    }
    if (reset_id)
        set_str(&m->m_member_id, "");
    restart(m, 0);
}

static void fail(kc_member_t *m, int16_t kerr, const char *what)
{
    m->m_epoch++;
    m->m_state = MS_FAILED;
    if (kerr == KERR_FENCED_INSTANCE_ID)
        report_error(m, kerr, 1,
                     "%s failed: FENCED_INSTANCE_ID: another consumer joined with "
                     "group.instance.id '%s' and took this member's place; the member stopped "
                     "(give each running instance its own group.instance.id)",
                     what, m->m_cfg->group_instance_id ? m->m_cfg->group_instance_id : "");
    else
        report_error(m, kerr, 1, "%s failed: %s; the member stopped", what, kafka_err_name(kerr));
}

/* Group errors no retry fixes (Java throws them from poll()). */
static int fatal_error(int16_t kerr)
{
    switch (kerr) {
    case KERR_INVALID_SESSION_TIMEOUT:
    case KERR_INCONSISTENT_GROUP_PROTOCOL:
    case KERR_INVALID_GROUP_ID:
    case KERR_GROUP_AUTHORIZATION_FAILED_:
    case KERR_GROUP_MAX_SIZE_REACHED_:
    case KERR_FENCED_INSTANCE_ID:
    case KERR_UNSUPPORTED_VERSION: return 1;
    default: return 0;
    }
}

static int coordinator_error(int16_t kerr)
{
    return kerr == KERR_NOT_COORDINATOR || kerr == KERR_COORDINATOR_NOT_AVAILABLE;
}

/* ---- the leader's metadata snapshot ---- */

static void snap_clear(kc_member_t *m)
{
    for (int i = 0; i < m->m_nsnap; i++)
        free(m->m_snap_topics[i]);
    free(m->m_snap_topics);
    free(m->m_snap_counts);
    m->m_snap_topics = NULL;
    m->m_snap_counts = NULL;
    m->m_nsnap = 0;
}

static int32_t topic_count(kc_client_t *c, const char *topic)
{
    const kc_topic_meta_t *tm = kc_metadata_topic(c, topic);
    return tm && tm->tm_error == KERR_NONE ? tm->tm_npartitions : 0;
}

/* Remembers the partition count of every topic the group subscribes to. */
static void snap_take(kc_member_t *m)
{
    snap_clear(m);
    int n = m->m_lead_ntopics;
    if (n == 0)
        return;
    m->m_snap_topics = calloc((size_t)n, sizeof *m->m_snap_topics);
    m->m_snap_counts = calloc((size_t)n, sizeof *m->m_snap_counts);
    if (!m->m_snap_topics || !m->m_snap_counts) {
        snap_clear(m);
        return; /* no check: a lost optimisation, not a fault */
    }
    for (int i = 0; i < n; i++, m->m_nsnap++) {
        if (!(m->m_snap_topics[i] = strdup(m->m_lead_topics[i]))) {
            snap_clear(m);
            return;
        }
        m->m_snap_counts[i] = topic_count(m->m_client, m->m_lead_topics[i]);
    }
    m->m_snap_checked_ms = eddy_mono_ms();
}

typedef struct snap_ctx {
    kc_member_t *sn_member;
    uint32_t sn_epoch;
} snap_ctx_t;

static void on_snap_metadata(kc_client_t *c, int err, void *opaque)
{
    snap_ctx_t *sn = opaque;
    kc_member_t *m = sn->sn_member;
    uint32_t epoch = sn->sn_epoch;
    free(sn);
    m->m_requests--;
    if (m->m_state == MS_CLOSED) {
        member_free_if_done(m);
        return;
    }
    m->m_snap_inflight = 0;
    m->m_snap_checked_ms = eddy_mono_ms();
    if (err < 0 || epoch != m->m_epoch || m->m_state != MS_STABLE)
        return;
    for (int i = 0; i < m->m_nsnap; i++) {
        int32_t now = topic_count(c, m->m_snap_topics[i]);
        if (now != m->m_snap_counts[i]) {
            char why[300];
            snprintf(why, sizeof why,
                     "topic %s has %d partition(s), the assignment was made for %d",
                     m->m_snap_topics[i], (int)now, (int)m->m_snap_counts[i]);
            need_rejoin(m, 0, 0, why);
            return;
        }
    }
}

/* On the tick: the leader looks at the partition counts again. */
static void snap_check(kc_member_t *m)
{
    if (m->m_nsnap == 0 || m->m_snap_inflight || !kc_member_is_leader(m) ||
        eddy_mono_ms() - m->m_snap_checked_ms < m->m_cfg->metadata_max_age_ms)
        return;
    snap_ctx_t *sn = calloc(1, sizeof *sn);
    if (!sn)
        return;
    sn->sn_member = m;
    sn->sn_epoch = m->m_epoch;
    if (kc_metadata_refresh(m->m_client, (const char *const *)m->m_snap_topics, m->m_nsnap, 0,
                            on_snap_metadata, sn) < 0) {
        free(sn);
        return;
    }
    m->m_requests++;
    m->m_snap_inflight = 1;
}

/* ---- FindCoordinator ---- */

typedef struct find_ctx {
    kc_member_t *fc_member;
    uint32_t fc_epoch;
} find_ctx_t;

static void encode_find(eddy_wr_t *wr, int16_t v, void *opaque)
{
    find_ctx_t *fc = opaque;
    FindCoordinatorRequest req = {kstr_c(group_id(fc->fc_member)), 0};
    wire_find_coordinator_req_encode(wr, v, &req);
}

static void on_find(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque)
{
    find_ctx_t *fc = opaque;
    kc_member_t *m = fc->fc_member;
    uint32_t epoch = fc->fc_epoch;
    free(fc);
    if (answer_stale(m, epoch))
        return;
    FindCoordinatorResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    int16_t kerr = KERR_NONE;
    if (err == 0 && wire_find_coordinator_resp_decode(rd, v, &a, &resp) < 0)
        err = -EPROTO;
    if (err == 0)
        kerr = resp.ErrorCode;
    if (err == 0 && kerr == KERR_NONE && resp.NodeId >= 0 && resp.Host.len > 0 && resp.Port > 0 &&
        resp.Port <= 65535) {
        char host[256];
        snprintf(host, sizeof host, "%.*s", resp.Host.len, resp.Host.ptr);
        int32_t node = COORD_NODE_BASE - (resp.NodeId % (1 << 29));
        if (kc_broker_upsert(c, node, host, resp.Port)) {
            m->m_coord_id = resp.NodeId;
            m->m_coord_node = node;
            m->m_backoff_ms = m->m_cfg->retry_backoff_ms;
            EDDY_LOG_DEBUG("member", "group %s: coordinator is node %d at %s:%d", group_id(m),
                           (int)resp.NodeId, host, (int)resp.Port);
            arena_free(&a);
            restart(m, 0);
            return;
        }
    }
    arena_free(&a);
    if (err == 0 && fatal_error(kerr)) {
        fail(m, kerr, "FindCoordinator");
        return;
    }
    EDDY_LOG_DEBUG("member", "group %s: FindCoordinator: %s", group_id(m),
                   err < 0 ? eddy_strerror(err) : kafka_err_name(kerr));
    restart(m, next_backoff(m));
}

static void find_coordinator(kc_member_t *m)
{
    find_ctx_t *fc = calloc(1, sizeof *fc);
    if (!fc) {
        restart(m, next_backoff(m));
        return;
    }
    fc->fc_member = m;
    fc->fc_epoch = m->m_epoch;
    m->m_state = MS_FIND;
    if (kc_request(m->m_client, KC_NODE_ANY, API_FIND_COORDINATOR, 1, encode_find, on_find, fc) <
        0) {
        free(fc);
        restart(m, next_backoff(m));
        return;
    }
    m->m_requests++;
}

/* ---- OffsetCommit ---- */

enum commit_kind { CK_USER, CK_AUTO, CK_REVOKE, CK_CLOSE };

typedef struct commit_ctx {
    kc_member_t *cc_member;
    uint32_t cc_epoch;
    enum commit_kind cc_kind;
    int32_t cc_generation;
    char *cc_member_id;
    int cc_n;
    char **cc_topics;
    int32_t *cc_partitions;
    int64_t *cc_offsets;
    kc_member_commit_fn *cc_done;
    void *cc_opaque;
    int cc_sync, cc_finished, cc_abandoned, cc_err;
} commit_ctx_t;

static void commit_ctx_free(commit_ctx_t *cc)
{
    for (int i = 0; i < cc->cc_n; i++)
        free(cc->cc_topics[i]);
    free(cc->cc_topics);
    free(cc->cc_partitions);
    free(cc->cc_offsets);
    free(cc->cc_member_id);
    free(cc);
}

/* The positions of the held partitions (changed ones only with
 * only_changed), or NULL with *empty set when there is nothing to commit. */
static commit_ctx_t *commit_snapshot(kc_member_t *m, enum commit_kind kind, int only_changed,
                                     int *empty)
{
    *empty = 0;
    commit_ctx_t *cc = calloc(1, sizeof *cc);
    if (!cc)
        return NULL;
    cc->cc_member = m;
    cc->cc_epoch = m->m_epoch;
    cc->cc_kind = kind;
    cc->cc_generation = m->m_generation;
    cc->cc_member_id = strdup(m->m_member_id);
    int n = m->m_nassigned;
    cc->cc_topics = calloc((size_t)n + 1, sizeof *cc->cc_topics);
    cc->cc_partitions = calloc((size_t)n + 1, sizeof *cc->cc_partitions);
    cc->cc_offsets = calloc((size_t)n + 1, sizeof *cc->cc_offsets);
    if (!cc->cc_member_id || !cc->cc_topics || !cc->cc_partitions || !cc->cc_offsets) {
        commit_ctx_free(cc);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        const kc_topic_partition_t *tp = &m->m_assigned[i];
        int64_t pos = kc_consumer_position(m->m_consumer, tp->tp_topic, tp->tp_partition);
        if (pos < 0 || (only_changed && pos == m->m_committed[i]))
            continue;
        if (!(cc->cc_topics[cc->cc_n] = strdup(tp->tp_topic))) {
            commit_ctx_free(cc);
            return NULL;
        }
        cc->cc_partitions[cc->cc_n] = tp->tp_partition;
        cc->cc_offsets[cc->cc_n] = pos;
        cc->cc_n++;
    }
    if (cc->cc_n == 0) {
        commit_ctx_free(cc);
        *empty = 1;
        return NULL;
    }
    return cc;
}

static void encode_commit(eddy_wr_t *wr, int16_t v, void *opaque)
{
    commit_ctx_t *cc = opaque;
    kc_member_t *m = cc->cc_member;
    OffsetCommitRequestTopic *topics = calloc((size_t)cc->cc_n, sizeof *topics);
    OffsetCommitRequestPartition *parts = calloc((size_t)cc->cc_n, sizeof *parts);
    if (!topics || !parts) {
        wr->wr_err = -ENOMEM;
        free(topics);
        free(parts);
        return;
    }
    int32_t nt = 0;
    for (int i = 0; i < cc->cc_n; i++) {
        /* The snapshot is sorted by topic: consecutive partitions share an entry. */
        if (nt == 0 || !kstr_eq(topics[nt - 1].Name, cc->cc_topics[i])) {
            topics[nt].Name = kstr_c(cc->cc_topics[i]);
            topics[nt].Partitions = &parts[i];
            nt++;
        }
        parts[i] = (OffsetCommitRequestPartition){cc->cc_partitions[i], cc->cc_offsets[i], -1, -1,
                                                  KSTR_NULL};
        topics[nt - 1].PartitionsCount++;
    }
    OffsetCommitRequest req;
    memset(&req, 0, sizeof req);
    req.GroupId = kstr_c(group_id(m));
    req.GenerationId = cc->cc_generation;
    req.MemberId = kstr_c(cc->cc_member_id);
    req.GroupInstanceId = v >= 7 && is_static(m) ? kstr_c(m->m_cfg->group_instance_id) : KSTR_NULL;
    req.RetentionTimeMs = -1;
    req.Topics = topics;
    req.TopicsCount = nt;
    wire_offset_commit_req_encode(wr, v, &req);
    free(topics);
    free(parts);
}

static void commit_result_to_group(kc_member_t *m, int err)
{
    /* What an auto or application commit learnt about the membership. */
    if (err < 0 || coordinator_error((int16_t)err))
        coordinator_lost(m, "OffsetCommit failed");
    else if (err == KERR_UNKNOWN_MEMBER_ID)
        need_rejoin(m, 1, 1, "OffsetCommit: UNKNOWN_MEMBER_ID");
    else if (err == KERR_ILLEGAL_GENERATION)
        need_rejoin(m, 1, 0, "OffsetCommit: ILLEGAL_GENERATION");
    else if (err == KERR_REBALANCE_IN_PROGRESS)
        need_rejoin(m, 0, 0, "OffsetCommit: REBALANCE_IN_PROGRESS");
    else if (err == KERR_FENCED_INSTANCE_ID)
        fail(m, (int16_t)err, "OffsetCommit");
}

static void on_commit(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque)
{
    (void)c;
    commit_ctx_t *cc = opaque;
    kc_member_t *m = cc->cc_member;
    OffsetCommitResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    if (err == 0 && wire_offset_commit_resp_decode(rd, v, &a, &resp) < 0)
        err = -EPROTO;
    for (int32_t t = 0; err == 0 && t < resp.TopicsCount; t++) {
        const OffsetCommitResponseTopic *rt = &resp.Topics[t];
        for (int32_t j = 0; j < rt->PartitionsCount; j++) {
            const OffsetCommitResponsePartition *rp = &rt->Partitions[j];
            if (rp->ErrorCode != KERR_NONE) {
                if (err == 0)
                    err = rp->ErrorCode;
                continue;
            }
            /* Remember what is committed, to skip unchanged positions. */
            for (int i = 0; i < cc->cc_n; i++)
                if (cc->cc_partitions[i] == rp->PartitionIndex &&
                    kstr_eq(rt->Name, cc->cc_topics[i]) && cc->cc_epoch == m->m_epoch &&
                    m->m_state != MS_CLOSED)
                    for (int k = 0; k < m->m_nassigned; k++)
                        if (m->m_assigned[k].tp_partition == cc->cc_partitions[i] &&
                            strcmp(m->m_assigned[k].tp_topic, cc->cc_topics[i]) == 0)
                            m->m_committed[k] = cc->cc_offsets[i];
        }
    }
    arena_free(&a);
    if (err != 0)
        EDDY_LOG_INFO("member", "group %s: commit of %d partition(s) failed: %s", group_id(m),
                      cc->cc_n, err < 0 ? eddy_strerror(err) : kafka_err_name(err));
    cc->cc_err = err;
    cc->cc_finished = 1;
    if (cc->cc_done)
        cc->cc_done(m, kc_err_eddy(err), kc_err_kafka(err), cc->cc_opaque);
    enum commit_kind kind = cc->cc_kind;
    uint32_t epoch = cc->cc_epoch;
    if (!cc->cc_sync || cc->cc_abandoned)
        commit_ctx_free(cc); /* else kc_member_commit frees it */
    if (answer_stale(m, epoch))
        return;
    switch (kind) {
    case CK_AUTO:
        m->m_ac_inflight = 0;
        /* fall through */
    case CK_USER:
        /* Outside STABLE a rejoin is under way already. */
        if (err != 0 && m->m_state == MS_STABLE)
            commit_result_to_group(m, err);
        break;
    case CK_REVOKE:
        restart(m, 0); /* on to JoinGroup, whatever the answer */
        break;
    case CK_CLOSE:
        m->m_close_phase = CP_LEAVE;
        schedule_step(m, 0);
        break;
    }
}

static int commit_send(kc_member_t *m, commit_ctx_t *cc)
{
    if (m->m_coord_id < 0 ||
        send_to_coordinator(m, API_OFFSET_COMMIT, encode_commit, on_commit, cc) < 0) {
        return -EAGAIN;
    }
    return 0;
}

static int commit_finished(void *opaque)
{
    return ((commit_ctx_t *)opaque)->cc_finished;
}

int kc_member_commit_offsets(kc_member_t *m, const kc_topic_partition_t *parts,
                             const int64_t *offsets, int n, kc_member_commit_fn *done, void *opaque)
{
    if (m->m_state >= MS_FAILED)
        return -ECANCELED;
    if (m->m_generation < 0)
        return KERR_REBALANCE_IN_PROGRESS;
    if (m->m_coord_id < 0)
        return -EAGAIN;
    if (n <= 0) {
        if (done)
            done(m, 0, 0, opaque);
        return 0;
    }
    commit_ctx_t *cc = calloc(1, sizeof *cc);
    if (!cc)
        return -ENOMEM;
    cc->cc_member = m;
    cc->cc_epoch = m->m_epoch;
    cc->cc_kind = CK_USER;
    cc->cc_generation = m->m_generation;
    cc->cc_member_id = strdup(m->m_member_id);
    cc->cc_topics = calloc((size_t)n, sizeof *cc->cc_topics);
    cc->cc_partitions = calloc((size_t)n, sizeof *cc->cc_partitions);
    cc->cc_offsets = calloc((size_t)n, sizeof *cc->cc_offsets);
    if (!cc->cc_member_id || !cc->cc_topics || !cc->cc_partitions || !cc->cc_offsets)
        goto nomem;
    /* encode_commit groups consecutive partitions of a topic: sort by topic. */
    for (int i = 0; i < n; i++) {
        int at = cc->cc_n;
        while (at > 0 && strcmp(cc->cc_topics[at - 1], parts[i].tp_topic) > 0)
            at--;
        char *t = strdup(parts[i].tp_topic);
        if (!t)
            goto nomem;
        memmove(&cc->cc_topics[at + 1], &cc->cc_topics[at],
                (size_t)(cc->cc_n - at) * sizeof(char *));
        memmove(&cc->cc_partitions[at + 1], &cc->cc_partitions[at],
                (size_t)(cc->cc_n - at) * sizeof(int32_t));
        memmove(&cc->cc_offsets[at + 1], &cc->cc_offsets[at],
                (size_t)(cc->cc_n - at) * sizeof(int64_t));
        cc->cc_topics[at] = t;
        cc->cc_partitions[at] = parts[i].tp_partition;
        cc->cc_offsets[at] = offsets[i];
        cc->cc_n++;
    }
    cc->cc_done = done;
    cc->cc_opaque = opaque;
    if (commit_send(m, cc) < 0) {
        commit_ctx_free(cc);
        return -EAGAIN;
    }
    return 0;
nomem:
    commit_ctx_free(cc);
    return -ENOMEM;
}

int kc_member_commit(kc_member_t *m, int sync, kc_member_commit_fn *done, void *opaque)
{
    if (m->m_state >= MS_FAILED)
        return -ECANCELED;
    if (!m->m_holding || m->m_generation < 0)
        return KERR_REBALANCE_IN_PROGRESS;
    if (m->m_coord_id < 0)
        return -EAGAIN;
    int empty;
    commit_ctx_t *cc = commit_snapshot(m, CK_USER, 0, &empty);
    if (!cc) {
        if (!empty)
            return -ENOMEM;
        if (done && !sync)
            done(m, 0, 0, opaque);
        return 0;
    }
    cc->cc_done = sync ? NULL : done;
    cc->cc_opaque = opaque;
    cc->cc_sync = sync;
    if (commit_send(m, cc) < 0) {
        commit_ctx_free(cc);
        return -EAGAIN;
    }
    if (!sync)
        return 0;
    int rc = kc_run_until(m->m_client, commit_finished, cc, m->m_cfg->request_timeout_ms + 1000);
    if (rc == 0) {
        rc = cc->cc_err;
        commit_ctx_free(cc);
    } else {
        cc->cc_abandoned = 1; /* freed by on_commit */
    }
    return rc;
}

/* ---- JoinGroup ---- */

typedef struct join_ctx {
    kc_member_t *jc_member;
    uint32_t jc_epoch;
    eddy_arena_t jc_arena;
    JoinGroupRequest jc_req;
} join_ctx_t;

static void encode_join(eddy_wr_t *wr, int16_t v, void *opaque)
{
    join_ctx_t *jc = opaque;
    JoinGroupRequest req = jc->jc_req;
    if (v < 5)
        req.GroupInstanceId = KSTR_NULL; /* no static membership before v5 */
    wire_join_group_req_encode(wr, v, &req);
}

/* The metadata of one protocol: this member's subscription with the
 * assignor's userData. OwnedPartitions stays empty, as with Java's eager
 * protocol (the partitions are revoked before JoinGroup): the bytes of an
 * unchanged subscription are then the same from one join to the next, which
 * a coordinator compares when a static member comes back (a difference
 * rebalances the group). The sticky assignor carries the previous
 * assignment in its userData instead. */
static int subscription_bytes(kc_member_t *m, assignor_t *asg, eddy_arena_t *a, kstr_t *out)
{
    assignor_subscription_t sub;
    memset(&sub, 0, sizeof sub);
    sub.as_version = SUBSCRIPTION_VERSION;
    sub.as_topics = (const char **)m->m_topics;
    sub.as_ntopics = m->m_ntopics;
    sub.as_generation_id = ASSIGNOR_GENERATION_NONE;
    int rc = assignor_user_data(asg, a, (const char *const *)m->m_topics, m->m_ntopics,
                                &sub.as_user_data);
    if (rc < 0) {
        report_error(m, rc, 0, "assignor %s: no userData for the subscription (%s)", asg->asg_name,
                     eddy_strerror(rc));
        sub.as_user_data = KSTR_NULL;
    }
    eddy_wr_t wr;
    wr_init(&wr);
    rc = assignor_subscription_encode(&wr, &sub);
    if (rc == 0) {
        char *bytes = arena_alloc(a, wr.wr_len ? wr.wr_len : 1);
        if (!bytes)
            rc = -ENOMEM;
        else {
            memcpy(bytes, wr.wr_buf, wr.wr_len);
            *out = (kstr_t){bytes, (int32_t)wr.wr_len};
        }
    }
    wr_free(&wr);
    return rc;
}

static void on_join(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque);

static void send_join(kc_member_t *m)
{
    join_ctx_t *jc = calloc(1, sizeof *jc);
    if (!jc) {
        restart(m, next_backoff(m));
        return;
    }
    jc->jc_member = m;
    jc->jc_epoch = m->m_epoch;
    eddy_arena_t *a = &jc->jc_arena;
    arena_init(a, 0);
    int n = m->m_nplugins + m->m_nbuiltin;
    JoinGroupRequestProtocol *protos = arena_calloc(a, (size_t)n, sizeof *protos);
    int rc = protos ? 0 : -ENOMEM;
    for (int i = 0; i < n && rc == 0; i++) {
        assignor_t *asg = i < m->m_nplugins ? m->m_plugins[i] : &m->m_builtin[i - m->m_nplugins];
        protos[i].Name = kstr_c(asg->asg_name);
        rc = subscription_bytes(m, asg, a, &protos[i].Metadata);
    }
    char *member_id = arena_strdup(a, m->m_member_id);
    if (rc < 0 || !member_id) {
        report_error(m, rc < 0 ? rc : -ENOMEM, 0, "cannot write the JoinGroup request (%s)",
                     eddy_strerror(rc < 0 ? rc : -ENOMEM));
        arena_free(a);
        free(jc);
        restart(m, next_backoff(m));
        return;
    }
    JoinGroupRequest *req = &jc->jc_req;
    req->GroupId = kstr_c(group_id(m));
    req->SessionTimeoutMs = m->m_cfg->session_timeout_ms;
    req->RebalanceTimeoutMs = m->m_cfg->max_poll_interval_ms;
    req->MemberId = kstr_c(member_id);
    req->GroupInstanceId = is_static(m) ? kstr_c(m->m_cfg->group_instance_id) : KSTR_NULL;
    req->ProtocolType = kstr_c("consumer");
    req->Protocols = protos;
    req->ProtocolsCount = n;
    m->m_state = MS_JOIN;
    m->m_rejoin = 1; /* until an assignment arrives */
    if (send_to_coordinator(m, API_JOIN_GROUP, encode_join, on_join, jc) < 0) {
        arena_free(a);
        free(jc);
        coordinator_lost(m, "no connection for JoinGroup");
        return;
    }
    int64_t wait = (int64_t)m->m_cfg->max_poll_interval_ms + 5000;
    if (wait > m->m_cfg->request_timeout_ms)
        extend_deadline(m, jc, eddy_mono_ms() + wait);
    EDDY_LOG_DEBUG("member", "group %s: JoinGroup as '%s'", group_id(m), m->m_member_id);
}

static void run_assignment(kc_member_t *m);

/* Leader: decodes every member's subscription for the chosen protocol. */
static int lead_prepare(kc_member_t *m, const JoinGroupResponse *resp)
{
    arena_reset(&m->m_lead_arena);
    eddy_arena_t *a = &m->m_lead_arena;
    m->m_lead_nsubs = 0;
    m->m_lead_ntopics = 0;
    m->m_lead_subs = arena_calloc(a, (size_t)resp->MembersCount + 1, sizeof *m->m_lead_subs);
    if (!m->m_lead_subs)
        return -ENOMEM;
    int32_t ntopics = 0, cap = 0;
    for (int32_t i = 0; i < resp->MembersCount; i++) {
        const JoinGroupResponseMember *jm = &resp->Members[i];
        assignor_subscription_t *s = &m->m_lead_subs[m->m_lead_nsubs];
        eddy_rd_t rd;
        rd_init(&rd, jm->Metadata.ptr, jm->Metadata.len > 0 ? (size_t)jm->Metadata.len : 0);
        int rc = assignor_subscription_decode(&rd, a, s);
        if (rc < 0) {
            /* As librdkafka and Java: a member whose metadata cannot be
             * read gets nothing (and is told so by an empty assignment). */
            EDDY_LOG_WARN("member",
                          "group %s: member %.*s sent a subscription this client cannot "
                          "read (%s): it gets no partitions",
                          group_id(m), jm->MemberId.len, jm->MemberId.ptr, eddy_strerror(rc));
            memset(s, 0, sizeof *s);
            s->as_user_data = KSTR_NULL;
            s->as_generation_id = ASSIGNOR_GENERATION_NONE;
        }
        s->as_member_id = kstr_arena_dup(a, kstr_or_empty(jm->MemberId));
        s->as_group_instance_id = kstr_arena_dup(a, jm->GroupInstanceId);
        if (!s->as_member_id || (jm->GroupInstanceId.len >= 0 && !s->as_group_instance_id))
            return -ENOMEM;
        m->m_lead_nsubs++;
        for (int32_t j = 0; j < s->as_ntopics; j++) {
            int32_t k = 0;
            while (k < ntopics && strcmp(m->m_lead_topics[k], s->as_topics[j]) != 0)
                k++;
            if (k < ntopics)
                continue;
            if (ntopics == cap) {
                int32_t ncap = cap ? cap * 2 : 16;
                const char **nt = arena_calloc(a, (size_t)ncap, sizeof *nt);
                if (!nt)
                    return -ENOMEM;
                if (ntopics)
                    memcpy(nt, m->m_lead_topics, (size_t)ntopics * sizeof *nt);
                m->m_lead_topics = nt;
                cap = ncap;
            }
            m->m_lead_topics[ntopics++] = s->as_topics[j];
        }
    }
    m->m_lead_ntopics = ntopics;
    return 0;
}

static void on_join(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque)
{
    (void)c;
    join_ctx_t *jc = opaque;
    kc_member_t *m = jc->jc_member;
    uint32_t epoch = jc->jc_epoch;
    arena_free(&jc->jc_arena);
    free(jc);
    if (answer_stale(m, epoch))
        return;
    JoinGroupResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    if (err == 0 && wire_join_group_resp_decode(rd, v, &a, &resp) < 0)
        err = -EPROTO;
    if (err < 0) {
        arena_free(&a);
        coordinator_lost(m, "JoinGroup got no answer");
        return;
    }
    int16_t kerr = resp.ErrorCode;
    if (kerr != KERR_NONE) {
        EDDY_LOG_DEBUG("member", "group %s: JoinGroup: %s", group_id(m), kafka_err_name(kerr));
        if (kerr == KERR_MEMBER_ID_REQUIRED) {
            /* KIP-394: join again at once with the id the coordinator made. */
            char *id = kstr_dup(kstr_or_empty(resp.MemberId));
            if (id) {
                free(m->m_member_id);
                m->m_member_id = id;
            }
            restart(m, 0);
        } else if (kerr == KERR_UNKNOWN_MEMBER_ID) {
            set_str(&m->m_member_id, "");
            restart(m, 0);
        } else if (kerr == KERR_REBALANCE_IN_PROGRESS || kerr == KERR_ILLEGAL_GENERATION) {
            restart(m, 0);
        } else if (coordinator_error(kerr)) {
            coordinator_lost(m, kafka_err_name(kerr));
        } else if (fatal_error(kerr)) {
            fail(m, kerr, "JoinGroup");
        } else {
            restart(m, next_backoff(m)); /* COORDINATOR_LOAD_IN_PROGRESS and the unexpected */
        }
        arena_free(&a);
        return;
    }
    char *mid = kstr_dup(kstr_or_empty(resp.MemberId));
    char *leader = kstr_dup(kstr_or_empty(resp.Leader));
    char *proto = kstr_dup(kstr_or_empty(resp.ProtocolName));
    if (!mid || !leader || !proto) {
        free(mid);
        free(leader);
        free(proto);
        arena_free(&a);
        restart(m, next_backoff(m));
        return;
    }
    free(m->m_member_id);
    free(m->m_leader_id);
    free(m->m_protocol);
    m->m_member_id = mid;
    m->m_leader_id = leader;
    m->m_protocol = proto;
    m->m_generation = resp.GenerationId;
    m->m_backoff_ms = m->m_cfg->retry_backoff_ms;
    EDDY_LOG_DEBUG("member", "group %s: joined generation %d as %s, leader %s, protocol %s",
                   group_id(m), (int)resp.GenerationId, mid, leader, proto);
    if (!assignor_by_name(m, proto)) {
        /* The coordinator picked a protocol this member never offered. */
        arena_free(&a);
        report_error(m, EDDY_ERR_INVALID_ARG, 0,
                     "the coordinator chose protocol \"%s\", which "
                     "this member did not offer",
                     proto);
        need_rejoin(m, 0, 0, "unknown protocol");
        return;
    }
    if (strcmp(mid, leader) != 0)
        snap_clear(m); /* only the leader watches the partition counts */
    if (strcmp(mid, leader) == 0) {
        int rc = lead_prepare(m, &resp);
        arena_free(&a);
        if (rc < 0) {
            report_error(m, rc, 0, "cannot read the members' subscriptions (%s)",
                         eddy_strerror(rc));
            need_rejoin(m, 0, 0, "leader out of memory");
            return;
        }
        run_assignment(m);
        return;
    }
    arena_free(&a);
    send_sync(m, NULL, 0);
}

/* ---- leader: Metadata, assignor ---- */

typedef struct lead_ctx {
    kc_member_t *lc_member;
    uint32_t lc_epoch;
} lead_ctx_t;

static void on_lead_metadata(kc_client_t *c, int err, void *opaque)
{
    lead_ctx_t *lc = opaque;
    kc_member_t *m = lc->lc_member;
    uint32_t epoch = lc->lc_epoch;
    free(lc);
    if (answer_stale(m, epoch))
        return;
    if (err < 0) {
        EDDY_LOG_INFO("member", "group %s: no metadata for the assignment (%s)", group_id(m),
                      eddy_strerror(err));
        m->m_rejoin = 1;
        restart(m, next_backoff(m));
        return;
    }
    eddy_arena_t *a = &m->m_lead_arena;
    assignor_topic_info_t *infos = arena_calloc(a, (size_t)m->m_lead_ntopics + 1, sizeof *infos);
    assignor_assignment_t *out = arena_calloc(a, (size_t)m->m_lead_nsubs + 1, sizeof *out);
    SyncGroupRequestAssignment *sas = arena_calloc(a, (size_t)m->m_lead_nsubs + 1, sizeof *sas);
    char errstr[512] = "out of memory";
    int rc = infos && out && sas ? 0 : -ENOMEM;
    int32_t ninfos = 0;
    for (int32_t i = 0; rc == 0 && i < m->m_lead_ntopics; i++) {
        /* Topics that do not exist (yet) are left out, as Kafka does. */
        const kc_topic_meta_t *tm = kc_metadata_topic(c, m->m_lead_topics[i]);
        if (tm && tm->tm_error == KERR_NONE && tm->tm_npartitions > 0)
            infos[ninfos++] = (assignor_topic_info_t){m->m_lead_topics[i], tm->tm_npartitions};
    }
    assignor_t *asg = assignor_by_name(m, m->m_protocol);
    if (rc == 0)
        rc = assignor_assign(asg, a, infos, ninfos, m->m_lead_subs, m->m_lead_nsubs, out, errstr,
                             sizeof errstr);
    for (int32_t i = 0; rc == 0 && i < m->m_lead_nsubs; i++) {
        eddy_wr_t wr;
        wr_init(&wr);
        rc = assignor_assignment_encode(&wr, ASSIGNMENT_VERSION, &out[i]);
        char *bytes = rc == 0 ? arena_alloc(a, wr.wr_len ? wr.wr_len : 1) : NULL;
        if (rc == 0 && !bytes)
            rc = -ENOMEM;
        if (rc == 0) {
            memcpy(bytes, wr.wr_buf, wr.wr_len);
            sas[i].MemberId = kstr_c(m->m_lead_subs[i].as_member_id);
            sas[i].Assignment = (kstr_t){bytes, (int32_t)wr.wr_len};
        } else {
            snprintf(errstr, sizeof errstr, "cannot write the assignment of member %s",
                     m->m_lead_subs[i].as_member_id);
        }
        wr_free(&wr);
    }
    if (rc < 0) {
        report_error(m, rc, 0, "assignor %s failed: %s", asg->asg_name, errstr);
        m->m_rejoin = 1;
        restart(m, next_backoff(m));
        return;
    }
    EDDY_LOG_DEBUG("member", "group %s: assignor %s ran over %d member(s), %d topic(s)",
                   group_id(m), asg->asg_name, (int)m->m_lead_nsubs, (int)ninfos);
    snap_take(m);
    send_sync(m, sas, m->m_lead_nsubs);
}

static void run_assignment(kc_member_t *m)
{
    lead_ctx_t *lc = calloc(1, sizeof *lc);
    if (!lc) {
        need_rejoin(m, 0, 0, "out of memory");
        return;
    }
    lc->lc_member = m;
    lc->lc_epoch = m->m_epoch;
    m->m_state = MS_ASSIGN;
    /* The partition counts of every subscribed topic, fresh. */
    if (kc_metadata_refresh(m->m_client, m->m_lead_topics, m->m_lead_ntopics, 0, on_lead_metadata,
                            lc) < 0) {
        free(lc);
        m->m_rejoin = 1;
        restart(m, next_backoff(m));
        return;
    }
    m->m_requests++;
}

/* ---- SyncGroup ---- */

typedef struct sync_ctx {
    kc_member_t *sc_member;
    uint32_t sc_epoch;
    eddy_arena_t sc_arena;
    SyncGroupRequest sc_req;
} sync_ctx_t;

static void encode_sync(eddy_wr_t *wr, int16_t v, void *opaque)
{
    sync_ctx_t *sc = opaque;
    SyncGroupRequest req = sc->sc_req;
    if (v < 3)
        req.GroupInstanceId = KSTR_NULL;
    wire_sync_group_req_encode(wr, v, &req);
}

static void apply_assignment(kc_member_t *m, const assignor_assignment_t *as);

static void on_sync(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque)
{
    (void)c;
    sync_ctx_t *sc = opaque;
    kc_member_t *m = sc->sc_member;
    uint32_t epoch = sc->sc_epoch;
    arena_free(&sc->sc_arena);
    free(sc);
    if (answer_stale(m, epoch))
        return;
    SyncGroupResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    if (err == 0 && wire_sync_group_resp_decode(rd, v, &a, &resp) < 0)
        err = -EPROTO;
    if (err < 0) {
        arena_free(&a);
        coordinator_lost(m, "SyncGroup got no answer");
        return;
    }
    int16_t kerr = resp.ErrorCode;
    if (kerr == KERR_REBALANCE_IN_PROGRESS)
        need_rejoin(m, 0, 0, "SyncGroup: REBALANCE_IN_PROGRESS");
    else if (kerr == KERR_UNKNOWN_MEMBER_ID)
        need_rejoin(m, 1, 1, "SyncGroup: UNKNOWN_MEMBER_ID");
    else if (kerr == KERR_ILLEGAL_GENERATION)
        need_rejoin(m, 1, 0, "SyncGroup: ILLEGAL_GENERATION");
    else if (coordinator_error(kerr))
        coordinator_lost(m, kafka_err_name(kerr));
    else if (fatal_error(kerr))
        fail(m, kerr, "SyncGroup");
    else if (kerr != KERR_NONE) {
        m->m_rejoin = 1;
        restart(m, next_backoff(m));
    }
    if (kerr != KERR_NONE) {
        arena_free(&a);
        return;
    }
    assignor_assignment_t as;
    memset(&as, 0, sizeof as);
    as.aa_user_data = KSTR_NULL;
    int rc = 0;
    if (resp.Assignment.len > 0) {
        eddy_rd_t ard;
        rd_init(&ard, resp.Assignment.ptr, (size_t)resp.Assignment.len);
        rc = assignor_assignment_decode(&ard, &a, &as, NULL);
    }
    if (rc < 0) {
        report_error(m, rc, 0, "the assignment from leader %s cannot be read (%s)",
                     m->m_leader_id ? m->m_leader_id : "?", eddy_strerror(rc));
        arena_free(&a);
        m->m_rejoin = 1;
        restart(m, next_backoff(m));
        return;
    }
    apply_assignment(m, &as);
    arena_free(&a);
}

static void send_sync(kc_member_t *m, SyncGroupRequestAssignment *as, int32_t n)
{
    sync_ctx_t *sc = calloc(1, sizeof *sc);
    if (!sc) {
        need_rejoin(m, 0, 0, "out of memory");
        return;
    }
    sc->sc_member = m;
    sc->sc_epoch = m->m_epoch;
    arena_init(&sc->sc_arena, 0);
    eddy_arena_t *sa = &sc->sc_arena;
    /* The request owns copies: the leader's arena is reset by the next join. */
    SyncGroupRequestAssignment *copy = n > 0 ? arena_calloc(sa, (size_t)n, sizeof *copy) : NULL;
    int ok = n == 0 || copy;
    for (int32_t i = 0; ok && i < n; i++) {
        char *id = kstr_arena_dup(sa, kstr_or_empty(as[i].MemberId));
        char *bytes = arena_alloc(sa, as[i].Assignment.len > 0 ? (size_t)as[i].Assignment.len : 1);
        ok = id && bytes;
        if (ok) {
            if (as[i].Assignment.len > 0)
                memcpy(bytes, as[i].Assignment.ptr, (size_t)as[i].Assignment.len);
            copy[i].MemberId = kstr_c(id);
            copy[i].Assignment = (kstr_t){bytes,
                                          as[i].Assignment.len > 0 ? as[i].Assignment.len : 0};
        }
    }
    char *mid = arena_strdup(sa, m->m_member_id);
    if (!ok || !mid) {
        arena_free(sa);
        free(sc);
        need_rejoin(m, 0, 0, "out of memory");
        return;
    }
    SyncGroupRequest *req = &sc->sc_req;
    req->GroupId = kstr_c(group_id(m));
    req->GenerationId = m->m_generation;
    req->MemberId = kstr_c(mid);
    req->GroupInstanceId = is_static(m) ? kstr_c(m->m_cfg->group_instance_id) : KSTR_NULL;
    req->Assignments = copy;
    req->AssignmentsCount = n;
    m->m_state = MS_SYNC;
    if (send_to_coordinator(m, API_SYNC_GROUP, encode_sync, on_sync, sc) < 0) {
        arena_free(sa);
        free(sc);
        coordinator_lost(m, "no connection for SyncGroup");
        return;
    }
    /* Followers wait for the leader's SyncGroup, which may follow a long
     * assignment: as long as a join may take. */
    int64_t wait = (int64_t)m->m_cfg->max_poll_interval_ms + 5000;
    if (wait > m->m_cfg->request_timeout_ms)
        extend_deadline(m, sc, eddy_mono_ms() + wait);
}

static void apply_assignment(kc_member_t *m, const assignor_assignment_t *as)
{
    int rc = assigned_set(m, as);
    if (rc < 0) {
        report_error(m, rc, 0, "out of memory applying the assignment");
        need_rejoin(m, 1, 0, "out of memory");
        return;
    }
    kc_consumer_t *k = m->m_consumer;
    kc_consumer_unassign_all(k);
    kc_consumer_set_group_identity(k, m->m_generation, m->m_member_id,
                                   is_static(m) ? m->m_cfg->group_instance_id : NULL);
    for (int i = 0; i < m->m_nassigned; i++) {
        rc = kc_consumer_assign(k, m->m_assigned[i].tp_topic, m->m_assigned[i].tp_partition,
                                KC_OFFSET_STORED);
        if (rc < 0)
            EDDY_LOG_WARN("member", "group %s: cannot assign %s-%d to the consumer (%s)",
                          group_id(m), m->m_assigned[i].tp_topic,
                          (int)m->m_assigned[i].tp_partition, eddy_strerror(rc));
    }
    m->m_holding = 1;
    m->m_lost = 0;
    m->m_rejoin = 0;
    m->m_state = MS_STABLE;
    m->m_last_hb_ok_ms = eddy_mono_ms();
    EDDY_LOG_INFO("member", "group %s: generation %d, member %s%s, protocol %s: %d partition(s)",
                  group_id(m), (int)m->m_generation, m->m_member_id,
                  kc_member_is_leader(m) ? " (leader)" : "", m->m_protocol, m->m_nassigned);
    assignor_t *asg = assignor_by_name(m, m->m_protocol);
    if (asg) {
        rc = assignor_on_assignment(asg, as, m->m_generation);
        if (rc < 0)
            report_error(m, rc, 0, "assignor %s refused its assignment (%s)", asg->asg_name,
                         eddy_strerror(rc));
    }
    /* The first Heartbeat follows on the next tick, as in Java's client. */
    if (m->m_cbs.on_assigned)
        m->m_cbs.on_assigned(m, m->m_assigned, m->m_nassigned, m->m_cbs.opaque);
}

/* ---- Heartbeat ---- */

typedef struct hb_ctx {
    kc_member_t *hc_member;
    uint32_t hc_epoch;
    int32_t hc_generation;
    char *hc_member_id;
} hb_ctx_t;

static void encode_heartbeat(eddy_wr_t *wr, int16_t v, void *opaque)
{
    hb_ctx_t *hc = opaque;
    kc_member_t *m = hc->hc_member;
    HeartbeatRequest req = {kstr_c(group_id(m)), hc->hc_generation, kstr_c(hc->hc_member_id),
                            v >= 3 && is_static(m) ? kstr_c(m->m_cfg->group_instance_id)
                                                   : KSTR_NULL};
    wire_heartbeat_req_encode(wr, v, &req);
}

static void on_heartbeat(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque)
{
    (void)c;
    hb_ctx_t *hc = opaque;
    kc_member_t *m = hc->hc_member;
    uint32_t epoch = hc->hc_epoch;
    free(hc->hc_member_id);
    free(hc);
    if (answer_stale(m, epoch))
        return;
    m->m_hb_inflight = 0;
    HeartbeatResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    if (err == 0 && wire_heartbeat_resp_decode(rd, v, &a, &resp) < 0)
        err = -EPROTO;
    arena_free(&a);
    if (err < 0) {
        coordinator_lost(m, "Heartbeat got no answer");
        return;
    }
    switch (resp.ErrorCode) {
    case KERR_NONE: m->m_last_hb_ok_ms = eddy_mono_ms(); break;
    case KERR_REBALANCE_IN_PROGRESS:
        m->m_last_hb_ok_ms = eddy_mono_ms();
        need_rejoin(m, 0, 0, "the group is rebalancing");
        break;
    case KERR_ILLEGAL_GENERATION: need_rejoin(m, 1, 0, "Heartbeat: ILLEGAL_GENERATION"); break;
    case KERR_UNKNOWN_MEMBER_ID: need_rejoin(m, 1, 1, "Heartbeat: UNKNOWN_MEMBER_ID"); break;
    default:
        if (coordinator_error(resp.ErrorCode))
            coordinator_lost(m, kafka_err_name(resp.ErrorCode));
        else if (fatal_error(resp.ErrorCode))
            fail(m, resp.ErrorCode, "Heartbeat");
        else
            EDDY_LOG_WARN("member", "group %s: Heartbeat: %s", group_id(m),
                          kafka_err_name(resp.ErrorCode));
    }
}

static void send_heartbeat(kc_member_t *m)
{
    hb_ctx_t *hc = calloc(1, sizeof *hc);
    if (!hc || !(hc->hc_member_id = strdup(m->m_member_id))) {
        free(hc);
        return;
    }
    hc->hc_member = m;
    hc->hc_epoch = m->m_epoch;
    hc->hc_generation = m->m_generation;
    if (send_to_coordinator(m, API_HEARTBEAT, encode_heartbeat, on_heartbeat, hc) < 0) {
        free(hc->hc_member_id);
        free(hc);
        coordinator_lost(m, "no connection for Heartbeat");
        return;
    }
    m->m_hb_inflight = 1;
}

/* Every heartbeat.interval.ms: the client-side session check, then a
 * Heartbeat when stable and none is out. */
static void on_tick(uv_timer_t *t)
{
    kc_member_t *m = t->data;
    if (m->m_state >= MS_FAILED)
        return;
    if (m->m_holding && m->m_generation >= 0 &&
        eddy_mono_ms() - m->m_last_hb_ok_ms > m->m_cfg->session_timeout_ms) {
        /* No heartbeat got through for a session: the coordinator has
         * given the partitions to others by now. */
        m->m_coord_id = -1;
        need_rejoin(m, 1, 0, "no successful heartbeat for session.timeout.ms");
        return;
    }
    if (m->m_state == MS_STABLE && !m->m_hb_inflight)
        send_heartbeat(m);
    if (m->m_state == MS_STABLE)
        snap_check(m);
}

/* Every auto.commit.interval.ms with enable.auto.commit. */
static void on_auto_commit(uv_timer_t *t)
{
    kc_member_t *m = t->data;
    if (m->m_state != MS_STABLE || !m->m_holding || m->m_ac_inflight || m->m_coord_id < 0)
        return;
    int empty;
    commit_ctx_t *cc = commit_snapshot(m, CK_AUTO, 1, &empty);
    if (!cc)
        return;
    if (commit_send(m, cc) < 0) {
        commit_ctx_free(cc);
        return;
    }
    m->m_ac_inflight = 1;
}

/* ---- revoking ---- */

/* on_revoked, then the consumer lets go; returns the commit to send first
 * (enable.auto.commit and not lost), or NULL. */
static commit_ctx_t *revoke(kc_member_t *m, enum commit_kind kind)
{
    int lost = m->m_lost;
    if (m->m_cbs.on_revoked)
        m->m_cbs.on_revoked(m, m->m_assigned, m->m_nassigned, lost, m->m_cbs.opaque);
    commit_ctx_t *cc = NULL;
    int empty;
    if (!lost && m->m_cfg->enable_auto_commit && m->m_generation >= 0 && m->m_coord_id >= 0)
        cc = commit_snapshot(m, kind, 1, &empty);
    kc_consumer_unassign_all(m->m_consumer);
    m->m_holding = 0;
    m->m_lost = 0;
    assigned_clear(m);
    return cc;
}

/* ---- the state machine ---- */

static void on_step_timer(uv_timer_t *t)
{
    step(t->data);
}

static void schedule_step(kc_member_t *m, int32_t delay_ms)
{
    if (m->m_state != MS_CLOSED)
        uv_timer_start(&m->m_step_timer, on_step_timer, (uint64_t)(delay_ms > 0 ? delay_ms : 0), 0);
}

static void on_leave(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque);
static void close_step(kc_member_t *m);

static void step(kc_member_t *m)
{
    if (m->m_state == MS_CLOSING) {
        close_step(m);
        return;
    }
    if (m->m_state != MS_IDLE)
        return;
    if (m->m_coord_id < 0) {
        find_coordinator(m);
        return;
    }
    if (m->m_rejoin || m->m_generation < 0) {
        if (m->m_holds > 0)
            return; /* kc_member_release steps again */
        if (m->m_holding) {
            commit_ctx_t *cc = revoke(m, CK_REVOKE);
            if (m->m_state != MS_IDLE) { /* closed from on_revoked */
                if (cc && commit_send(m, cc) < 0)
                    commit_ctx_free(cc);
                return;
            }
            if (cc) {
                if (commit_send(m, cc) == 0) {
                    m->m_state = MS_REVOKE;
                    return;
                }
                commit_ctx_free(cc);
            }
            if (m->m_holds > 0)
                return; /* on_revoked took a hold */
        }
        send_join(m);
        return;
    }
    /* Back with a coordinator, still in a generation: heartbeat at once
     * (the coordinator says whether it still knows the member). */
    m->m_state = MS_STABLE;
    send_heartbeat(m);
}

/* ---- LeaveGroup and close ---- */

typedef struct leave_ctx {
    kc_member_t *lv_member;
    uint32_t lv_epoch;
    char *lv_member_id;
} leave_ctx_t;

static void encode_leave(eddy_wr_t *wr, int16_t v, void *opaque)
{
    leave_ctx_t *lv = opaque;
    LeaveGroupRequest req = {kstr_c(group_id(lv->lv_member)), kstr_c(lv->lv_member_id)};
    wire_leave_group_req_encode(wr, v, &req);
}

static void on_leave(kc_client_t *c, int err, int16_t v, eddy_rd_t *rd, void *opaque)
{
    (void)c;
    leave_ctx_t *lv = opaque;
    kc_member_t *m = lv->lv_member;
    uint32_t epoch = lv->lv_epoch;
    free(lv->lv_member_id);
    free(lv);
    if (answer_stale(m, epoch))
        return;
    LeaveGroupResponse resp;
    eddy_arena_t a;
    arena_init(&a, 0);
    if (err == 0 && wire_leave_group_resp_decode(rd, v, &a, &resp) < 0)
        err = -EPROTO;
    arena_free(&a);
    if (err < 0 || resp.ErrorCode != KERR_NONE)
        EDDY_LOG_INFO("member", "group %s: LeaveGroup: %s", group_id(m),
                      err < 0 ? eddy_strerror(err) : kafka_err_name(resp.ErrorCode));
    m->m_close_phase = CP_FINISH;
    schedule_step(m, 0);
}

static void on_member_handle_closed(uv_handle_t *h)
{
    kc_member_t *m = h->data;
    m->m_handles--;
    member_free_if_done(m);
}

static void close_step(kc_member_t *m)
{
    if (m->m_close_phase == CP_REVOKE) {
        commit_ctx_t *cc = m->m_holding ? revoke(m, CK_CLOSE) : NULL;
        m->m_close_phase = CP_LEAVE;
        if (cc) {
            if (commit_send(m, cc) == 0) {
                m->m_close_phase = CP_COMMITTING; /* on_commit moves on */
                return;
            }
            commit_ctx_free(cc);
        }
    }
    if (m->m_close_phase == CP_LEAVE) {
        m->m_close_phase = CP_FINISH;
        /* Static members stay in the group until their session times out,
         * so that a restart within it gets the same partitions back. */
        if (!is_static(m) && m->m_member_id[0] && m->m_coord_id >= 0) {
            leave_ctx_t *lv = calloc(1, sizeof *lv);
            if (lv && (lv->lv_member_id = strdup(m->m_member_id))) {
                lv->lv_member = m;
                lv->lv_epoch = m->m_epoch;
                if (send_to_coordinator(m, API_LEAVE_GROUP, encode_leave, on_leave, lv) == 0) {
                    m->m_close_phase = CP_LEAVING; /* on_leave moves on */
                    return;
                }
                free(lv->lv_member_id);
            }
            free(lv);
        }
    }
    if (m->m_close_phase == CP_FINISH) {
        m->m_close_phase = CP_DONE;
        m->m_state = MS_CLOSED;
        kc_consumer_set_group_identity(m->m_consumer, -1, NULL, NULL);
        uv_close((uv_handle_t *)&m->m_step_timer, on_member_handle_closed);
        uv_close((uv_handle_t *)&m->m_tick_timer, on_member_handle_closed);
        uv_close((uv_handle_t *)&m->m_ac_timer, on_member_handle_closed);
    }
}

void kc_member_hold(kc_member_t *m)
{
    m->m_holds++;
}

void kc_member_release(kc_member_t *m)
{
    if (m->m_holds > 0 && --m->m_holds == 0)
        schedule_step(m, 0);
}

void kc_member_close(kc_member_t *m, kc_member_closed_fn *done, void *opaque)
{
    if (!m || m->m_state == MS_CLOSING || m->m_state == MS_CLOSED)
        return;
    m->m_closed_cb = done;
    m->m_closed_opaque = opaque;
    m->m_epoch++;
    m->m_state = MS_CLOSING;
    m->m_close_phase = CP_REVOKE;
    uv_timer_stop(&m->m_tick_timer);
    uv_timer_stop(&m->m_ac_timer);
    schedule_step(m, 0);
}

static void member_free_if_done(kc_member_t *m)
{
    if (m->m_state != MS_CLOSED || m->m_handles > 0 || m->m_requests > 0)
        return;
    if (m->m_closed_cb)
        m->m_closed_cb(m, m->m_closed_opaque);
    for (int i = 0; i < m->m_nbuiltin; i++)
        assignor_close(&m->m_builtin[i]);
    for (int i = 0; i < m->m_ntopics; i++)
        free(m->m_topics[i]);
    free(m->m_topics);
    assigned_clear(m);
    snap_clear(m);
    free(m->m_member_id);
    free(m->m_leader_id);
    free(m->m_protocol);
    arena_free(&m->m_lead_arena);
    free(m);
}

/* ---- creation and accessors ---- */

kc_member_t *kc_member_open(kc_client_t *c, kc_consumer_t *k, const char *const *topics,
                            int ntopics, const kc_member_cbs_t *cbs, char *errstr,
                            size_t errstr_size)
{
    const kc_config_t *cfg = kc_config(c);
    if (!cfg->group_id || !cfg->group_id[0]) {
        snprintf(errstr, errstr_size, "group.id is not set: a group member needs one");
        return NULL;
    }
    if (ntopics <= 0 || !topics) {
        snprintf(errstr, errstr_size, "subscribe to at least one topic");
        return NULL;
    }
    for (int i = 0; i < ntopics; i++)
        if (!topics[i] || !topics[i][0]) {
            snprintf(errstr, errstr_size, "topic %d of the subscription has no name", i);
            return NULL;
        }
    kc_member_t *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    m->m_consumer = k;
    m->m_client = c;
    m->m_cfg = cfg;
    if (cbs)
        m->m_cbs = *cbs;
    m->m_coord_id = -1;
    m->m_generation = -1;
    m->m_backoff_ms = cfg->retry_backoff_ms;
    arena_init(&m->m_lead_arena, 0);
    m->m_member_id = strdup("");
    m->m_topics = calloc((size_t)ntopics, sizeof *m->m_topics);
    if (!m->m_member_id || !m->m_topics)
        goto nomem;
    for (int i = 0; i < ntopics; i++, m->m_ntopics++)
        if (!(m->m_topics[i] = strdup(topics[i])))
            goto nomem;
    /* partition.assignment.strategy: names separated by commas or spaces. */
    const char *p = cfg->partition_assignment_strategy ? cfg->partition_assignment_strategy : "";
    while (*p) {
        size_t len = strcspn(p, ", \t");
        if (len > 0) {
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1),
                     p);
            char why[256];
            if (m->m_nbuiltin == MEMBER_MAX_ASSIGNORS) {
                snprintf(errstr, errstr_size, "partition.assignment.strategy: more than %d names",
                         MEMBER_MAX_ASSIGNORS);
                goto fail;
            }
            if (assignor_by_name(m, name)) {
                snprintf(errstr, errstr_size, "partition.assignment.strategy: %s is listed twice",
                         name);
                goto fail;
            }
            if (assignor_init(&m->m_builtin[m->m_nbuiltin], name, why, sizeof why) < 0) {
                snprintf(errstr, errstr_size, "partition.assignment.strategy: %s", why);
                goto fail;
            }
            m->m_nbuiltin++;
        }
        p += len;
        p += strspn(p, ", \t");
    }
    uv_timer_init(kc_loop(c), &m->m_step_timer);
    uv_timer_init(kc_loop(c), &m->m_tick_timer);
    uv_timer_init(kc_loop(c), &m->m_ac_timer);
    m->m_step_timer.data = m->m_tick_timer.data = m->m_ac_timer.data = m;
    m->m_handles = 3;
    uint64_t hb = (uint64_t)cfg->heartbeat_interval_ms;
    uv_timer_start(&m->m_tick_timer, on_tick, hb, hb);
    if (cfg->enable_auto_commit) {
        uint64_t ac = (uint64_t)cfg->auto_commit_interval_ms;
        uv_timer_start(&m->m_ac_timer, on_auto_commit, ac, ac);
    }
    m->m_state = MS_IDLE;
    schedule_step(m, 0);
    return m;
nomem:
    snprintf(errstr, errstr_size, "out of memory");
fail:
    for (int i = 0; i < m->m_nbuiltin; i++)
        assignor_close(&m->m_builtin[i]);
    for (int i = 0; i < m->m_ntopics; i++)
        free(m->m_topics[i]);
    free(m->m_topics);
    free(m->m_member_id);
    arena_free(&m->m_lead_arena);
    free(m);
    return NULL;
}

int kc_member_add_assignor(kc_member_t *m, assignor_t *asg)
{
    if (!asg || !asg->asg_name || !asg->asg_name[0] || !asg->asg_assign ||
        assignor_by_name(m, asg->asg_name))
        return EDDY_ERR_INVALID_ARG;
    if (m->m_nplugins + m->m_nbuiltin >= MEMBER_MAX_ASSIGNORS)
        return -ENOMEM;
    m->m_plugins[m->m_nplugins++] = asg;
    return 0;
}

const char *kc_member_id(const kc_member_t *m)
{
    return m->m_member_id;
}

int32_t kc_member_generation(const kc_member_t *m)
{
    return m->m_generation;
}

int kc_member_is_leader(const kc_member_t *m)
{
    return m->m_leader_id && m->m_member_id[0] && strcmp(m->m_leader_id, m->m_member_id) == 0;
}

const char *kc_member_protocol(const kc_member_t *m)
{
    return m->m_protocol;
}

const kc_topic_partition_t *kc_member_assignment(const kc_member_t *m, int *n)
{
    *n = m->m_holding ? m->m_nassigned : 0;
    return m->m_holding ? m->m_assigned : NULL;
}

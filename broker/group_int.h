/* Private to the group coordinator: the structures shared by group.c
 * (membership and rebalancing) and group_store.c (__consumer_offsets:
 * committed offsets, group records, replay). */
#ifndef EDDY_BROKER_GROUP_INT_H
#define EDDY_BROKER_GROUP_INT_H

#include <stdint.h>

#include "broker/broker_int.h"
#include "broker/group.h"
#include "wire/proto.h"

#define OFFSETS_TOPIC "__consumer_offsets"

enum grp_state { GRP_EMPTY, GRP_PREPARING, GRP_COMPLETING, GRP_STABLE, GRP_DEAD };
extern const char *const grp_state_names[];

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
    /* Where the commit record is in __consumer_offsets: when a transaction
     * commits, its offset replaces the committed one only if written later
     * (Kafka's rule for a mix of transactional and plain commits). */
    int64_t o_record_offset;
    int64_t o_producer_id; /* pending transactional offset: its producer; else -1 */
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
    /* TxnOffsetCommit offsets whose transaction has no marker yet: not
     * visible to OffsetFetch until the commit marker (group_txn_complete). */
    grp_offset_t *g_txn_offsets;
    int64_t g_state_ts;
} group_t;

struct group_coordinator {
    eddy_broker_t *gc_broker;
    group_t *gc_groups;
    topic_t *gc_topic;
};


int64_t grp_now_ms(void);          /* monotonic: session and rebalance deadlines */
group_t *grp_find(group_coordinator_t *gc, kstr_t id);
group_t *grp_get(group_coordinator_t *gc, kstr_t id); /* creates an Empty group */
void grp_free(group_t *g);
grp_member_t *grp_member_find(group_t *g, kstr_t id);
const grp_protocol_t *grp_member_protocol(const grp_member_t *m, const char *name);
/* KERR_NONE, or the error for a request naming static instance_id under
 * member_id: UNKNOWN_MEMBER_ID (instance not in the group) or
 * FENCED_INSTANCE_ID (the instance belongs to another member id now). */
int16_t grp_check_static(group_t *g, kstr_t member_id, kstr_t instance_id);
/* Records the group's generation in __consumer_offsets (Stable or Empty). */
void grp_store_group(group_coordinator_t *gc, group_t *g);

/* Replay: a member as the group's record stores it (bytes borrowed). */
typedef struct grp_member_record {
    kstr_t mr_id, mr_instance_id, mr_client_id, mr_client_host;
    int32_t mr_rebalance_timeout, mr_session_timeout;
    kstr_t mr_subscription, mr_assignment; /* for the group's protocol */
} grp_member_record_t;
/* Adds the member at the end of the group, its session starting now (as
 * Kafka's coordinator does for the members of a group it loads); NULL when
 * out of memory. */
grp_member_t *grp_member_restore(group_t *g, const grp_member_record_t *r);
void grp_members_clear(group_t *g);

#endif

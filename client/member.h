/* The consumer-group member: subscribes a consumer (consumer.h) to topics
 * as a member of group.id, with Kafka's classic group protocol as the Java
 * consumer speaks it (eager rebalancing):
 *
 *   FindCoordinator -> JoinGroup -> (leader: Metadata, assignor) -> SyncGroup
 *   -> Heartbeat every heartbeat.interval.ms ... -> LeaveGroup on close
 *
 * Settings (from the client's kc_config_t): group.id (required),
 * group.instance.id (static membership: no LeaveGroup on close, as Kafka),
 * session.timeout.ms, heartbeat.interval.ms, max.poll.interval.ms (sent as
 * the rebalance timeout), partition.assignment.strategy (an ordered list of
 * the built-in assignors, assignor.h; every one is offered in JoinGroup with
 * protocol type "consumer" and the coordinator picks one all members share),
 * enable.auto.commit, auto.commit.interval.ms, and metadata.max.age.ms (how
 * often the leader checks the partition counts the assignment was made for:
 * a topic that grew, or appeared after the subscription, rebalances the
 * group, as Java's leader does).
 *
 * Subscriptions go out as ConsumerProtocolSubscription v1 with the
 * assignor's userData and, as in Java's eager protocol, no OwnedPartitions
 * (they were revoked before the join; an unchanged subscription thus keeps
 * the same bytes, which a coordinator compares when a static member comes
 * back). Assignments are read and written with the assignor.h codecs.
 *
 * Rebalances. Before the member gives its partitions up (a rebalance, a lost
 * membership, close) on_revoked runs; then, with enable.auto.commit, the
 * positions of those partitions are committed and acknowledged before the
 * member rejoins, so that the next owner starts where this one stopped.
 * After SyncGroup the new assignment replaces the consumer's
 * (kc_consumer_unassign_all, then kc_consumer_assign at KC_OFFSET_STORED:
 * the group's committed offset, else auto.offset.reset) and on_assigned
 * runs; the application may seek there.
 *
 * Commits go out as the member (generation and member id of the current
 * generation). kc_member_commit commits the positions of the member's own
 * partitions; prefer it to kc_consumer_commit, which the member's identity
 * (kc_consumer_set_group_identity) makes acceptable to the coordinator too
 * but which commits every partition the consumer still tracks.
 *
 * Threading and lifetime: everything happens on the client's loop thread,
 * nothing blocks it (a held JoinGroup does not stop fetching: the member
 * talks to its coordinator on a connection of its own, as the Java client
 * does). The consumer and client must outlive the member: call
 * kc_member_close and run the loop until its done callback before
 * kc_consumer_destroy / kc_client_destroy.
 */
#ifndef EDDY_CLIENT_MEMBER_H
#define EDDY_CLIENT_MEMBER_H

#include <stddef.h>
#include <stdint.h>

#include "client/assignor.h"
#include "client/consumer.h"

typedef struct kc_member kc_member_t;

/* A partition of the member's assignment; tp_topic is owned by the member
 * and valid until the next assignment or the member is freed. */
typedef struct kc_topic_partition {
    const char *tp_topic;
    int32_t tp_partition;
} kc_topic_partition_t;

typedef struct kc_member_cbs {
    /* The member is about to give parts[0..n) up: the consumer still holds
     * them and their positions, until this returns (positions a commit
     * under a hold needs must be read here, or earlier). lost: the membership is gone already (the
     * coordinator forgot the member, or no heartbeat got through for a
     * session timeout); another member may own them, commits will fail and
     * none is attempted. May be NULL. */
    void (*on_revoked)(kc_member_t *m, const kc_topic_partition_t *parts, int n, int lost,
                       void *opaque);
    /* A new assignment was applied to the consumer (n may be 0). May be NULL. */
    void (*on_assigned)(kc_member_t *m, const kc_topic_partition_t *parts, int n, void *opaque);
    /* An error the member cannot get past on its own: kafka_err the Kafka
     * error code the coordinator gave (INVALID_SESSION_TIMEOUT,
     * INCONSISTENT_GROUP_PROTOCOL, FENCED_INSTANCE_ID,
     * GROUP_AUTHORIZATION_FAILED, ...) with err -EIO, or kafka_err 0 and err
     * what failed on this side (the assignor); fatal says whether the member
     * stopped (it must then be closed) or goes on trying. May be NULL. */
    void (*on_error)(kc_member_t *m, int err, int16_t kafka_err, int fatal, const char *why,
                     void *opaque);
    void *opaque;
} kc_member_cbs_t;

/* Subscribes k (a consumer of client c, with no partitions assigned by hand)
 * to topics[0..ntopics) (copied) as a member of c's group.id. The first
 * FindCoordinator goes out on a later loop turn, so assignors added right
 * after this call are in the first JoinGroup. Returns NULL with a sentence
 * in errstr (no group.id, no topic, an unknown assignor name). */
kc_member_t *kc_member_open(kc_client_t *c, kc_consumer_t *k, const char *const *topics,
                            int ntopics, const kc_member_cbs_t *cbs, char *errstr,
                            size_t errstr_size);

/* Offers a plug-in assignor (assignor.h; only asg_name and asg_assign are
 * required) in JoinGroup, ahead of partition.assignment.strategy (plug-ins
 * in the order added). Its asg_user_data hook fills the subscription's
 * userData, asg_assign runs when this member leads and the group chose its
 * name, and asg_on_assignment receives this member's assignment (with the
 * leader's userData) every generation. Borrowed: it must outlive the member,
 * which never calls asg_close on it. Takes effect in the next JoinGroup.
 * Returns 0, EDDY_ERR_INVALID_ARG (no name or assign function, a name
 * already offered) or -ENOMEM. */
int kc_member_add_assignor(kc_member_t *m, assignor_t *asg);

/* Commits the positions of the member's partitions with its generation and
 * member id. async (sync 0): returns 0 at once and calls done (may be NULL)
 * with 0 or the first error. sync: runs the loop until the answer (never
 * from a libuv callback: uv_run is not reentrant) and returns 0 or the
 * error. Errors: a positive Kafka error code (REBALANCE_IN_PROGRESS while
 * the member holds no assignment, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID,
 * ...), -EAGAIN (no coordinator yet), -ETIMEDOUT, -ECANCELED (closing). */
/* The callback's err is 0, or an eddy_err: -EIO when the coordinator
 * answered with a Kafka error (kafka_err names it), else what failed on this
 * side (-ETIMEDOUT, -ECANCELED, ...) with kafka_err 0. */
typedef void(kc_member_commit_fn)(kc_member_t *m, int err, int16_t kafka_err, void *opaque);
int kc_member_commit(kc_member_t *m, int sync, kc_member_commit_fn *done, void *opaque);

/* Commits the given offsets (not the consumer's positions) with the
 * member's generation and member id, asynchronously; done (may be NULL) gets
 * 0 or the first error. Also valid between on_revoked and the next
 * JoinGroup (the generation lives until the rebalance completes, and a
 * coordinator accepts its commits meanwhile): the streams runtime commits
 * what its tasks processed there, under a hold (below). Returns 0 or an
 * error as kc_member_commit. */
int kc_member_commit_offsets(kc_member_t *m, const kc_topic_partition_t *parts,
                             const int64_t *offsets, int n, kc_member_commit_fn *done,
                             void *opaque);

/* Holds the member back from its next JoinGroup until as many
 * kc_member_release calls: on_revoked takes a hold when the application must
 * finish asynchronous work (waiting for produced records to be acknowledged,
 * then committing) before the partitions may go to another member, as Kafka
 * Streams commits its tasks before it rejoins. The coordinator waits for the
 * member up to the rebalance timeout (max.poll.interval.ms). Holds do not
 * delay kc_member_close. */
void kc_member_hold(kc_member_t *m);
void kc_member_release(kc_member_t *m);

/* Leaves the group: on_revoked, the auto commit (enable.auto.commit),
 * kc_consumer_unassign_all, LeaveGroup (dynamic members only), each bounded
 * by request.timeout.ms; then done(m, opaque) and the member is freed (m is
 * invalid once done returns). Safe from any callback, consumer callbacks
 * included: the work starts on the next loop turn. */
typedef void(kc_member_closed_fn)(kc_member_t *m, void *opaque);
void kc_member_close(kc_member_t *m, kc_member_closed_fn *done, void *opaque);

/* The member's view of the group. Strings are owned by the member and valid
 * until the next rebalance. */
const char *kc_member_id(const kc_member_t *m);     /* "" before the first join */
int32_t kc_member_generation(const kc_member_t *m); /* -1 outside a generation */
int kc_member_is_leader(const kc_member_t *m);
const char *kc_member_protocol(const kc_member_t *m); /* the chosen assignor, or NULL */
/* The current assignment (n 0 and NULL between revocation and assignment). */
const kc_topic_partition_t *kc_member_assignment(const kc_member_t *m, int *n);

#endif

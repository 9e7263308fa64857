/* Partition assignors for consumer groups, after Kafka's
 * ConsumerPartitionAssignor: the group leader runs one over every member's
 * subscription and the topics' partition counts and sends each member its
 * assignment in SyncGroup; every member gets a say through the userData bytes
 * it puts in its subscription, and the leader can answer with userData in each
 * assignment. Kafka Streams' StreamsPartitionAssignor lives on exactly this
 * two-way channel, so a streams runtime can plug its own assignor in here.
 *
 * Built in (assignor_init() by name, the names Kafka and librdkafka use in
 * JoinGroup):
 *
 *   "range"       per topic, members in order, each a contiguous range; the
 *                 first (partitions % members) get one extra (RangeAssignor).
 *   "roundrobin"  all partitions sorted by topic then partition, dealt to the
 *                 members in order, skipping those not subscribed to the
 *                 partition's topic (RoundRobinAssignor).
 *   "sticky"      balanced and sticky (StickyAssignor, eager protocol): see
 *                 below.
 *
 * "Members in order" is Kafka's MemberInfo order: static members (with a
 * group.instance.id) first, by instance id, then dynamic members by member id.
 * Strings compare bytewise (strcmp); Java compares UTF-16 units, which differs
 * only for non-ASCII ids mixing U+E000-U+FFFF with supplementary characters.
 *
 * Sticky. Every partition of a subscribed topic goes to exactly one member
 * subscribed to that topic; the result is as balanced as the subscriptions
 * allow - the sum of the squared partition counts is minimal: no partition,
 * nor chain of partitions passed from member to member along their
 * subscriptions, could move from a member to one holding two fewer - so
 * members with the same subscription differ by at most one (Kafka's
 * StickyAssignor only looks for direct moves, and can stop at counts like
 * 3/2/1 where chains give 2/2/2). Within that, partitions stay with their
 * previous owner where they can: with equal subscriptions the number of
 * partitions that change owner is the minimum any balanced assignment needs,
 * and a member that gives partitions up receives none. Previous ownership comes from
 * each subscription's userData in StickyAssignor's format (below) when it is
 * present and well formed, otherwise from its OwnedPartitions (v1+) with its
 * GenerationId (v2+, -1 before). When members claim the same partition, the
 * claim from the highest generation wins; equal highest claims cancel out.
 * Claims on partitions that do not exist, or of topics the member no longer
 * subscribes to, are dropped.
 *
 * Sticky userData, as Kafka's StickyAssignor (V1) and librdkafka's sticky
 * assignor write it: the member's last assignment and the generation it came
 * from. Big-endian, no version field; V0 is the same without the generation
 * (read as generation -1). Null until the member has had an assignment.
 *
 *   int32  topic count
 *   topic count x { int16 name length, name bytes,
 *                   int32 partition count, partition count x int32 }
 *   int32  generation                               (V1)
 *
 * Memory: every structure an assignor hands out (assignments, decoded
 * subscriptions, userData) is allocated from the eddy_arena_t the caller
 * passes and lives until that arena is reset or freed. Input structures are
 * borrowed for the duration of the call.
 */
#ifndef EDDY_CLIENT_ASSIGNOR_H
#define EDDY_CLIENT_ASSIGNOR_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "wire/proto.h"

/* No generation known (Kafka's DEFAULT_GENERATION). */
#define ASSIGNOR_GENERATION_NONE (-1)
/* The ConsumerProtocolSubscription versions this code reads and writes:
 * v1 adds OwnedPartitions, v2 GenerationId, v3 RackId. Newer versions are
 * read with the v3 layout, as Kafka's ConsumerProtocol does. */
#define ASSIGNOR_SUBSCRIPTION_VERSION_MAX 3

/* Some partitions of one topic. */
typedef struct assignor_topic {
    const char *at_topic;
    int32_t *at_partitions;
    int32_t at_npartitions;
} assignor_topic_t;

/* A topic the leader found in Metadata and its partition count. */
typedef struct assignor_topic_info {
    const char *ati_topic;
    int32_t ati_npartitions;
} assignor_topic_info_t;

/* One member's subscription (ConsumerPartitionAssignor.Subscription plus the
 * member's ids from the JoinGroup response). */
typedef struct assignor_subscription {
    const char *as_member_id;
    const char *as_group_instance_id; /* NULL: dynamic member */
    int16_t as_version;               /* ConsumerProtocolSubscription version */
    const char **as_topics;
    int32_t as_ntopics;
    kstr_t as_user_data;        /* nullable bytes (len -1) */
    assignor_topic_t *as_owned; /* v1+ OwnedPartitions */
    int32_t as_nowned;
    int32_t as_generation_id; /* v2+, else ASSIGNOR_GENERATION_NONE */
    const char *as_rack_id;   /* v3+, NULL: none */
} assignor_subscription_t;

/* One member's assignment (ConsumerPartitionAssignor.Assignment). */
typedef struct assignor_assignment {
    const char *aa_member_id; /* the member it is for (NULL when decoded from bytes) */
    assignor_topic_t *aa_topics;
    int32_t aa_ntopics;
    kstr_t aa_user_data; /* nullable bytes (len -1) */
} assignor_assignment_t;

typedef struct assignor assignor_t;

/* Leader side. Fills out[i] for subs[i] (nsubs entries, zeroed by the caller
 * of the callback: assignor_assign). What it puts there must stay valid until
 * a is reset: allocate from a, or point at data that lives longer. Returns 0
 * or an eddy_err with a sentence in errstr. */
typedef int(assignor_assign_fn)(assignor_t *asg, eddy_arena_t *a,
                                const assignor_topic_info_t *topics, int32_t ntopics,
                                const assignor_subscription_t *subs, int32_t nsubs,
                                assignor_assignment_t *out, char *errstr, size_t errstr_size);
/* Member side: the userData for this member's next subscription to topics
 * (Kafka's subscriptionUserData); *user_data from a, or KSTR_NULL. */
typedef int(assignor_user_data_fn)(assignor_t *asg, eddy_arena_t *a, const char *const *topics,
                                   int32_t ntopics, kstr_t *user_data);
/* Member side: this member's assignment arrived (Kafka's onAssignment), with
 * the generation it belongs to. The assignment is borrowed for the call. */
typedef int(assignor_on_assignment_fn)(assignor_t *asg, const assignor_assignment_t *as,
                                       int32_t generation_id);

/* An assignor: the built-ins come from assignor_init(); a plug-in fills the
 * fields itself (only asg_name and asg_assign are required) and frees its own
 * asg_opaque in asg_close. Not thread-safe: a consumer owns its assignor. */
struct assignor {
    const char *asg_name; /* protocol name in JoinGroup; static or owned by the plug-in */
    assignor_assign_fn *asg_assign;
    assignor_user_data_fn *asg_user_data;         /* NULL: userData is null */
    assignor_on_assignment_fn *asg_on_assignment; /* NULL: nothing to remember */
    void (*asg_close)(assignor_t *asg);           /* NULL: nothing to free */
    void *asg_opaque;
};

/* A built-in assignor by name: "range", "roundrobin" or "sticky". Returns 0,
 * EDDY_ERR_INVALID_ARG for an unknown name, or -ENOMEM. */
int assignor_init(assignor_t *asg, const char *name, char *errstr, size_t errstr_size);
/* Frees what the assignor holds (asg_close); asg may be reused after init. */
void assignor_close(assignor_t *asg);

/* Runs asg over the group: checks the input (unique topic names and member
 * ids, partition counts >= 0), calls asg_assign, and checks what a plug-in
 * returned - every assigned partition exists and is assigned to one member
 * only, out[i].aa_member_id is set (to subs[i].as_member_id unless the
 * assignor set it). Returns 0 or an eddy_err with a sentence in errstr. */
int assignor_assign(assignor_t *asg, eddy_arena_t *a, const assignor_topic_info_t *topics,
                    int32_t ntopics, const assignor_subscription_t *subs, int32_t nsubs,
                    assignor_assignment_t *out, char *errstr, size_t errstr_size);

/* Member side wrappers: KSTR_NULL / nothing when the assignor has no hook. */
int assignor_user_data(assignor_t *asg, eddy_arena_t *a, const char *const *topics, int32_t ntopics,
                       kstr_t *user_data);
int assignor_on_assignment(assignor_t *asg, const assignor_assignment_t *as, int32_t generation_id);

/* ---- ConsumerProtocol bytes (JoinGroup metadata, SyncGroup assignment) ---- */

/* Writes sub as ConsumerProtocolSubscription version sub->as_version (0-3);
 * as_member_id and as_group_instance_id are not part of the bytes. Returns 0,
 * EDDY_ERR_INVALID_ARG (bad version, null topic), or the writer's error. */
int assignor_subscription_encode(eddy_wr_t *wr, const assignor_subscription_t *sub);

/* Reads ConsumerProtocolSubscription bytes from rd into *sub (member ids
 * NULL, for the caller to fill from JoinGroupResponseMember). Everything is
 * copied into a. Fields the version lacks get their defaults, and so do
 * fields after Topics that a writer left out entirely (bytes end exactly
 * where one would start); bytes after the last field the version has are
 * ignored, so newer versions parse as v3.
 * Returns 0, EDDY_ERR_TRUNCATED, EDDY_ERR_INVALID_ARG (negative version, null
 * where the spec has none, a name with a NUL byte) or -ENOMEM (arena limit). */
int assignor_subscription_decode(eddy_rd_t *rd, eddy_arena_t *a, assignor_subscription_t *sub);

/* Writes as as ConsumerProtocolAssignment (wire/api_group.h's codec) with the
 * given Version (0-2; the layout is the same). Returns 0, EDDY_ERR_INVALID_ARG
 * or -ENOMEM. */
int assignor_assignment_encode(eddy_wr_t *wr, int16_t version, const assignor_assignment_t *as);

/* Reads ConsumerProtocolAssignment bytes into *as (aa_member_id NULL), all
 * copied into a; *version gets the Version field when version != NULL.
 * Returns 0 or an eddy_err as assignor_subscription_decode. */
int assignor_assignment_decode(eddy_rd_t *rd, eddy_arena_t *a, assignor_assignment_t *as,
                               int16_t *version);

/* The sticky userData format above, for tools and tests: encode a member's
 * last assignment and generation; decode into topics from a and *generation
 * (ASSIGNOR_GENERATION_NONE for V0). Decoding returns 0 or an eddy_err. */
int assignor_sticky_user_data_encode(eddy_wr_t *wr, const assignor_topic_t *topics, int32_t ntopics,
                                     int32_t generation);
int assignor_sticky_user_data_decode(eddy_rd_t *rd, eddy_arena_t *a, assignor_topic_t **topics,
                                     int32_t *ntopics, int32_t *generation);

#endif

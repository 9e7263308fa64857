/* The group coordinator: consumer groups (join, sync, heartbeat, leave,
 * session expiry, static membership) and committed offsets, kept as records
 * in the compacted topic __consumer_offsets and replayed at start-up.
 *
 * Group states, as Kafka's GroupCoordinator:
 *
 *            join / leave / expiry                 all joined or
 *   +-------+ ---------------> +--------------------+ rebalance timeout +---------------------+
 *   | Empty |                  | PreparingRebalance | ----------------> | CompletingRebalance |
 *   +-------+ <--------------- +--------------------+ <---------------- +---------------------+
 *       ^      nobody rejoined        ^     ^           join / leave /          | leader's
 *       |                             |     |           expiry                  | SyncGroup
 *       |   last member leaves        |     +------------------------------+    v
 *       +-----------------------------+---------------------------------- +--------+
 *                                     join (new or changed) / leave / exp  | Stable |
 *                                                                          +--------+
 * The broker never reads assignment bytes: the group leader (a client)
 * assigns, the coordinator relays.
 */
#ifndef EDDY_BROKER_GROUP_H
#define EDDY_BROKER_GROUP_H

#include <stddef.h>
#include <stdint.h>

typedef struct group_coordinator group_coordinator_t;
struct eddy_broker;
struct req_slot;
struct topic_registry;

/* Creates __consumer_offsets if missing and replays it. */
int group_coordinator_open(struct eddy_broker *b, group_coordinator_t **out, char *errstr,
                           size_t errstr_size);
void group_coordinator_close(group_coordinator_t *gc);
/* Rebalance deadlines and session expiry (called every 100 ms). */
void group_coordinator_tick(group_coordinator_t *gc, int64_t now_ms);

/* Kafka's partition for a group: abs(javaHashCode(group)) % partitions. */
int32_t group_partition_for(const char *group, size_t len, int32_t partitions);

#endif

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

/* Ends a transaction in the group coordinator (Kafka's WriteTxnMarkers to a
 * __consumer_offsets partition): appends the producer's transaction marker
 * (commit or abort) to the partition of __consumer_offsets that stores
 * group_id, then, in every group stored in that partition, makes the
 * producer's pending transactional offsets (TxnOffsetCommit) the committed
 * ones (commit; a plain OffsetCommit written after them stays) or drops them
 * (abort). The marker is written even when nothing is pending (a
 * coordinator retrying after a crash; the log ignores a marker that ends
 * nothing). producer_epoch may be newer than the epoch of the offsets (a
 * fenced producer's transaction is aborted with the bumped epoch); an older
 * epoch than the log has is EDDY_ERR_INVALID_PRODUCER_EPOCH. Returns 0, or a
 * negative error of log_append_marker() (nothing in memory changed then:
 * the coordinator retries). */
int group_txn_complete(group_coordinator_t *gc, const char *group_id, int64_t producer_id,
                       int16_t producer_epoch, int commit, int32_t coordinator_epoch);
/* The same for partition `partition` of __consumer_offsets (one marker per
 * partition however many groups it stores; WriteTxnMarkers names
 * partitions). EDDY_ERR_INVALID_ARG for a partition that does not exist. */
int group_txn_complete_partition(group_coordinator_t *gc, int32_t partition, int64_t producer_id,
                                 int16_t producer_epoch, int commit, int32_t coordinator_epoch);
/* The partition of __consumer_offsets that stores group_id. */
int32_t group_store_partition_of(const group_coordinator_t *gc, const char *group_id);

/* Kafka's partition for a group: abs(javaHashCode(group)) % partitions. */
int32_t group_partition_for(const char *group, size_t len, int32_t partitions);

#endif

/* Topic-level log settings with Kafka's names and defaults. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>

#include "common/err.h"

#include "wire/codec.h"

#include "log.h"

static const char *const cleanup_policies[] = {"delete", "compact", NULL};
/* Indexed by codec id; "producer" is LOG_COMPRESSION_PRODUCER. */
const char *const log_compression_types[] = {"uncompressed", "gzip",     "snappy", "lz4",
                                             "zstd",         "producer", NULL};
const char *const log_timestamp_types[] = {"CreateTime", "LogAppendTime", NULL};

/* Kafka's ThrottledReplicaListValidator: "*" or
 * "partition:broker,partition:broker,..." (empty: none). */
static const char *check_throttled(const char *v)
{
    static const char why[] = "neither '*' nor a list of [partitionId]:[brokerId]";
    if (strcmp(v, "*") == 0)
        return NULL;
    const char *p = v;
    while (*p) {
        while (*p == ' ')
            p++;
        int digits = 0;
        while (*p >= '0' && *p <= '9')
            p++, digits++;
        if (!digits || *p++ != ':')
            return why;
        digits = 0;
        while (*p >= '0' && *p <= '9')
            p++, digits++;
        while (*p == ' ')
            p++;
        if (!digits || (*p && *p != ','))
            return why;
        if (*p == ',' && !*++p)
            return why;
    }
    return NULL;
}


#define F(field) offsetof(log_config_t, field)
const eddy_cfg_def_t log_config_defs[] = {
    {"segment.bytes", CFG_INT64, F(segment_bytes), "1073741824", 14, 2147483647, NULL,
     "segment file size before a new one is rolled"},
    {"segment.ms", CFG_INT64, F(segment_ms), "604800000", 1, 9.2e18, NULL,
     "time span of a segment before a new one is rolled"},
    {"retention.ms", CFG_INT64, F(retention_ms), "604800000", -1, 9.2e18, NULL,
     "age after which whole segments are deleted (-1: never)"},
    {"retention.bytes", CFG_INT64, F(retention_bytes), "-1", -1, 9.2e18, NULL,
     "size beyond which the oldest segments are deleted (-1: no limit)"},
    {"index.interval.bytes", CFG_INT32, F(index_interval_bytes), "4096", 0, 2147483647, NULL,
     "bytes between two sparse index entries"},
    {"segment.index.bytes", CFG_INT32, F(segment_index_bytes), "10485760", 48, 2147483647, NULL,
     "largest offset index; the segment rolls when it is full"},
    {"cleanup.policy", CFG_FLAGS, F(cleanup_policy), "delete", 0, 0, cleanup_policies,
     "delete, compact, or both"},
    {"delete.retention.ms", CFG_INT64, F(delete_retention_ms), "86400000", 0, 9.2e18, NULL,
     "how long compaction keeps tombstones"},
    {"min.cleanable.dirty.ratio", CFG_DOUBLE, F(min_cleanable_dirty_ratio), "0.5", 0, 1, NULL,
     "share of uncompacted bytes that makes compaction run"},
    {"flush.messages", CFG_INT64, F(flush_messages), "9223372036854775807", 1, 9.3e18, NULL,
     "records appended between two fsyncs"},
    {"flush.ms", CFG_INT64, F(flush_ms), "9223372036854775807", 0, 9.3e18, NULL,
     "milliseconds between two fsyncs"},
    {"max.message.bytes", CFG_INT32, F(max_message_bytes), "1048588", 0, 2147483647, NULL,
     "largest record batch accepted"},
    {"compression.type", CFG_ENUM, F(compression_type), "producer", 0, 0, log_compression_types,
     "codec batches are stored with; producer keeps the producer's, any other recompresses"},
    {"compression.gzip.level", CFG_INT32, F(compression_gzip_level), "-1", -1, 9, NULL,
     "gzip level when the broker compresses (1-9, -1 for zlib's default)"},
    {"compression.lz4.level", CFG_INT32, F(compression_lz4_level), "9", 1, 17, NULL,
     "lz4 level when the broker compresses"},
    {"compression.zstd.level", CFG_INT32, F(compression_zstd_level), "3", -131072, 22, NULL,
     "zstd level when the broker compresses"},
    {"message.timestamp.type", CFG_ENUM, F(message_timestamp_type), "CreateTime", 0, 0,
     log_timestamp_types,
     "CreateTime keeps the producer's timestamps, LogAppendTime stamps "
     "each batch with the broker's clock"},
    {"min.compaction.lag.ms", CFG_INT64, F(min_compaction_lag_ms), "0", 0, 9.3e18, NULL,
     "a segment with a record younger than this is not compacted"},
    {"max.compaction.lag.ms", CFG_INT64, F(max_compaction_lag_ms), "9223372036854775807", 1, 9.3e18,
     NULL,
     "a log whose oldest uncompacted record is older than this is compacted "
     "whatever its dirty ratio"},
    {"file.delete.delay.ms", CFG_INT64, F(file_delete_delay_ms), "60000", 0, 9.3e18, NULL,
     "wait before a deleted segment's files go (Eddy removes them at once; stored only)"},
    {"follower.replication.throttled.replicas", CFG_LIST_TEXT, F(follower_throttled_replicas), "",
     0, 0, NULL, "replicas throttled on the follower side (one node: stored only)"},
    {"leader.replication.throttled.replicas", CFG_LIST_TEXT, F(leader_throttled_replicas), "", 0, 0,
     NULL, "replicas throttled on the leader side (one node: stored only)"},
    {"local.retention.bytes", CFG_INT64, F(local_retention_bytes), "-2", -2, 9.3e18, NULL,
     "local bytes kept with tiered storage (none on Eddy: stored only)"},
    {"local.retention.ms", CFG_INT64, F(local_retention_ms), "-2", -2, 9.3e18, NULL,
     "local age kept with tiered storage (none on Eddy: stored only)"},
    {"message.timestamp.after.max.ms", CFG_INT64, F(message_timestamp_after_max_ms), "3600000", 0,
     9.3e18, NULL, "how far ahead of the broker's clock a CreateTime may be"},
    {"message.timestamp.before.max.ms", CFG_INT64, F(message_timestamp_before_max_ms),
     "9223372036854775807", 0, 9.3e18, NULL,
     "how far behind the broker's clock a CreateTime may be"},
    {"min.insync.replicas", CFG_INT32, F(min_insync_replicas), "1", 1, 2147483647, NULL,
     "replicas that must have a write for acks=all (one node: stored only)"},
    {"preallocate", CFG_BOOL, F(preallocate), "false", 0, 0, NULL,
     "preallocate segment files (stored only)"},
    {"remote.log.copy.disable", CFG_BOOL, F(remote_log_copy_disable), "false", 0, 0, NULL,
     "stop copying to tiered storage (none on Eddy: stored only)"},
    {"remote.log.delete.on.disable", CFG_BOOL, F(remote_log_delete_on_disable), "false", 0, 0, NULL,
     "delete tiered data when tiered storage is turned off (none on Eddy: stored only)"},
    {"remote.storage.enable", CFG_BOOL, F(remote_storage_enable), "false", 0, 0, NULL,
     "tiered storage for the topic (Eddy has none: only false)"},
    {"segment.jitter.ms", CFG_INT64, F(segment_jitter_ms), "0", 0, 9.3e18, NULL,
     "random slack on segment.ms (stored only)"},
    {"unclean.leader.election.enable", CFG_BOOL, F(unclean_leader_election_enable), "false", 0, 0,
     NULL, "elect an out-of-sync replica as leader (one node: stored only)"},
    {NULL},
};
#undef F

int log_config_check(const log_config_t *cfg, char *msg, size_t msg_size)
{
    const char *lists[2][2] = {
        {"leader.replication.throttled.replicas", cfg->leader_throttled_replicas},
        {"follower.replication.throttled.replicas", cfg->follower_throttled_replicas}};
    for (int i = 0; i < 2; i++) {
        const char *why = check_throttled(lists[i][1]);
        if (why) {
            snprintf(msg, msg_size, "%s: '%s' is %s", lists[i][0], lists[i][1], why);
            return EDDY_ERR_CONFIG;
        }
    }
    /* Kafka refuses this while the cluster's tiered storage is off, which
     * on Eddy it always is. */
    if (cfg->remote_storage_enable) {
        snprintf(msg, msg_size,
                 "remote.storage.enable: tiered storage is not available on this broker (Eddy "
                 "has no remote log storage), so a topic cannot be configured with it");
        return EDDY_ERR_CONFIG;
    }
    return 0;
}

void log_config_default(log_config_t *cfg)
{
    /* Fields outside the table (max_inflated_bytes) start at 0, not at
     * whatever the caller's stack held. */
    memset(cfg, 0, sizeof *cfg);
    char err[256];
    /* The defaults above are literals that always parse. */
    (void)eddy_cfg_defaults(log_config_defs, cfg, err, sizeof err);
}

size_t log_inflate_limit(const log_config_t *cfg)
{
    if (cfg->max_inflated_bytes > 0)
        return (size_t)cfg->max_inflated_bytes;
    size_t derived = (size_t)(cfg->max_message_bytes > 0 ? cfg->max_message_bytes : 0) * 64;
    return derived > LOG_INFLATE_FLOOR ? derived : LOG_INFLATE_FLOOR;
}

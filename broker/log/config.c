/* Topic-level log settings with Kafka's names and defaults. */
#include <stddef.h>
#include <stdint.h>

#include "wire/codec.h"

#include "log.h"

static const char *const cleanup_policies[] = {"delete", "compact", NULL};
/* Indexed by codec id; "producer" is LOG_COMPRESSION_PRODUCER. */
const char *const log_compression_types[] = {"uncompressed", "gzip", "snappy", "lz4",
                                             "zstd",         "producer", NULL};
const char *const log_timestamp_types[] = {"CreateTime", "LogAppendTime", NULL};

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
     log_timestamp_types, "CreateTime keeps the producer's timestamps, LogAppendTime stamps "
     "each batch with the broker's clock"},
    {NULL},
};
#undef F

void log_config_default(log_config_t *cfg)
{
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

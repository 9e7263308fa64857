/* Topic-level log settings with Kafka's names and defaults. */
#include <stddef.h>
#include <stdint.h>

#include "log.h"

static const char *const cleanup_policies[] = {"delete", "compact", NULL};

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
    {NULL},
};
#undef F

void log_config_default(log_config_t *cfg)
{
    char err[256];
    /* The defaults above are literals that always parse. */
    (void)eddy_cfg_defaults(log_config_defs, cfg, err, sizeof err);
}

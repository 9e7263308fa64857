/* The consumer: partitions assigned by the application (assign/seek), read
 * with pipelined fetches from each leader, positions reset per
 * auto.offset.reset, offsets committed for group.id (as a simple consumer:
 * generation -1). Group membership (subscribe, rebalances) builds on this.
 */
#ifndef EDDY_CLIENT_CONSUMER_H
#define EDDY_CLIENT_CONSUMER_H

#include <stdint.h>

#include "client/client.h"

typedef struct kc_consumer kc_consumer_t;

/* Start positions for kc_consumer_assign / kc_consumer_seek. */
#define KC_OFFSET_BEGINNING (-2)
#define KC_OFFSET_END (-1)
#define KC_OFFSET_STORED (-1000) /* the committed offset of group.id, else auto.offset.reset */

/* A record; every pointer borrows the fetch response for the call. */
typedef struct kc_message {
    const char *msg_topic;
    int32_t msg_partition;
    int64_t msg_offset;
    int64_t msg_timestamp;
    const uint8_t *msg_key;
    int32_t msg_key_len; /* -1: null */
    const uint8_t *msg_value;
    int32_t msg_value_len; /* -1: null */
    const uint8_t *msg_headers; /* raw header entries (wire_header_next) */
    size_t msg_headers_len;
    int32_t msg_header_count;
} kc_message_t;

/* An error on one partition that the consumer cannot resolve on its own.
 * Every pointer borrows the consumer's memory for the call. */
typedef struct kc_consumer_error {
    const char *ce_topic;
    int32_t ce_partition;
    int16_t ce_kafka_err; /* the broker's error code (KERR_*), or 0 */
    int ce_err;           /* the client's own eddy_err (EDDY_ERR_CORRUPT_COMPRESSED, ...), or 0 */
    int64_t ce_offset;    /* the partition's position: first offset not delivered; -1 unknown */
    /* A batch that cannot be read: the offset after it, where
     * kc_consumer_seek() goes to skip it (its records are lost); else -1. */
    int64_t ce_next_offset;
    const char *ce_why; /* a sentence naming the cause, never NULL */
} kc_consumer_error_t;

typedef struct kc_consumer_cbs {
    /* Returns 0 when the record was consumed; nonzero leaves it unconsumed
     * and stops delivery from this response (the position stays at it, so
     * a commit never covers records the application did not take). */
    int (*on_message)(kc_consumer_t *k, const kc_message_t *m, void *opaque);
    /* The position reached the high watermark (once per time it gets there). */
    void (*on_eof)(kc_consumer_t *k, const char *topic, int32_t partition, int64_t offset,
                   void *opaque);
    /* A partition-level error the consumer cannot resolve on its own:
     * auto.offset.reset=none and out of range, a topic that vanished, or a
     * batch that cannot be read (a codec this build does not know, a
     * corrupt or truncated compressed stream, records that inflate past
     * WIRE_INFLATE_LIMIT_DEFAULT, a CRC mismatch). The partition stops: its
     * position stays at ce_offset (so no commit covers the batch) until the
     * application seeks; records before the batch were delivered. Never a
     * batch skipped in silence: without this callback the consumer logs the
     * error and the partition still stops. */
    void (*on_error)(kc_consumer_t *k, const kc_consumer_error_t *e, void *opaque);
    void *opaque;
} kc_consumer_cbs_t;

kc_consumer_t *kc_consumer_new(kc_client_t *c, const kc_consumer_cbs_t *cbs);
/* Adds a partition to the assignment, starting at offset (>= 0) or one of
 * KC_OFFSET_*. Fetching starts on the next loop turn. */
int kc_consumer_assign(kc_consumer_t *k, const char *topic, int32_t partition, int64_t offset);
/* Moves a partition's position; KC_OFFSET_* as above. A partition stopped
 * by an error (on_error) fetches again from there. */
int kc_consumer_seek(kc_consumer_t *k, const char *topic, int32_t partition, int64_t offset);
/* Moves to the first offset whose timestamp is >= ts (the end if none). */
int kc_consumer_seek_timestamp(kc_consumer_t *k, const char *topic, int32_t partition, int64_t ts);
void kc_consumer_unassign_all(kc_consumer_t *k);
/* Removes one partition from the assignment: -ENOENT when not assigned. */
int kc_consumer_unassign(kc_consumer_t *k, const char *topic, int32_t partition);
/* The partition's high watermark from the last fetch answer, or -1; under
 * isolation.level=read_committed its last stable offset (the end a reader
 * can reach while a transaction is open), as the Java consumer reports. */
int64_t kc_consumer_high_watermark(const kc_consumer_t *k, const char *topic, int32_t partition);
int kc_consumer_pause(kc_consumer_t *k, const char *topic, int32_t partition, int paused);
/* The next offset to read, or -1 while it is being resolved. */
int64_t kc_consumer_position(const kc_consumer_t *k, const char *topic, int32_t partition);
/* Commits every assigned partition's position for group.id. async: returns
 * at once and calls done (may be NULL); sync: runs the loop until the
 * answer and returns 0 or the first error (an eddy_err, or a positive Kafka
 * error code). */
/* The callback's err is 0, or an eddy_err: -EIO when the coordinator
 * answered with a Kafka error (kafka_err names it), else what failed on this
 * side with kafka_err 0. */
typedef void(kc_commit_fn)(kc_consumer_t *k, int err, int16_t kafka_err, void *opaque);
int kc_consumer_commit(kc_consumer_t *k, int sync, kc_commit_fn *done, void *opaque);
/* Makes kc_consumer_commit commit as a group member: with generation_id,
 * member_id and group_instance_id (copied; NULL: none) instead of a simple
 * consumer's -1 and "". The group member (member.h) sets it each
 * generation; generation -1 with NULL ids goes back to simple commits.
 * Returns 0 or -ENOMEM (the old identity stays). */
int kc_consumer_set_group_identity(kc_consumer_t *k, int32_t generation_id, const char *member_id,
                                   const char *group_instance_id);

/* The consumer's group metadata, as Kafka's ConsumerGroupMetadata: what a
 * transactional producer sends with the offsets it commits
 * (kc_producer_send_offsets_to_transaction), so that the group coordinator
 * refuses them from a member of an older generation (a zombie). Pointers
 * borrow the consumer's memory until its next kc_consumer_set_group_identity
 * or kc_consumer_destroy. */
typedef struct kc_consumer_group_metadata {
    const char *gm_group_id;
    int32_t gm_generation_id;          /* -1: a simple consumer (no membership) */
    const char *gm_member_id;          /* "" for a simple consumer */
    const char *gm_group_instance_id;  /* NULL: none (dynamic membership) */
} kc_consumer_group_metadata_t;
/* Fills *gm from group.id and the identity kc_consumer_set_group_identity
 * set (the group member sets it each generation). Returns 0, or -EINVAL
 * when the consumer has no group.id. */
int kc_consumer_group_metadata(const kc_consumer_t *k, kc_consumer_group_metadata_t *gm);

/* isolation.level (Kafka's setting; read_uncommitted by default, as Kafka's
 * Java consumer): read_committed sends isolation level 1 in Fetch, so the
 * broker answers up to the last stable offset, and drops the records of
 * aborted transactions with the response's aborted_transactions (Kafka's
 * algorithm); in both modes control batches (transaction markers) are never
 * handed to on_message, their offsets are only passed. read_committed also
 * fetches committed offsets with require_stable (OffsetFetch v7+, when the
 * broker has it) and retries UNSTABLE_OFFSET_COMMIT. */

void kc_consumer_destroy(kc_consumer_t *k);

#endif

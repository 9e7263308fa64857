/* Choosing a partition for a produced record, exactly as Kafka's Java client
 * does, so that Eddy's producer and a Java (or librdkafka "murmur2_random")
 * producer put the same key on the same partition.
 *
 *   explicit partition   -> used as given (the caller validates the range,
 *                           as KafkaProducer does after partition())
 *   key (even empty)     -> toPositive(murmur2(key)) % numPartitions
 *   null key             -> the topic's sticky partition (KIP-480)
 *
 * A null key is key == NULL; a non-NULL key of length 0 is an empty key and
 * hashes like Java's new byte[0] (librdkafka's murmur2_random tests `!key`
 * the same way; its consistent_random tests keylen == 0 instead).
 *
 * Sticky partitioning (KIP-480, Kafka 2.4-3.2's StickyPartitionCache): records
 * without a key go to one partition, chosen at random among the available
 * ones, until a batch for that partition is completed; the producer then calls
 * partitioner_sticky_next() with the partition whose batch closed and later
 * records stick to a different partition. A stale call (the batch belonged to
 * a partition that is no longer the sticky one, because another batch already
 * moved it on) changes nothing, so concurrent batch completions move the
 * sticky partition once, not twice.
 *
 *   unset --partition()--> p --next(prev == p)--> q != p (when > 1 available)
 *                           \--next(prev != p)--> p (unchanged)
 *
 * One partitioner_sticky_t per topic; not thread-safe (the producer's I/O
 * loop owns it).
 */
#ifndef EDDY_CLIENT_PARTITIONER_H
#define EDDY_CLIENT_PARTITIONER_H

#include <stddef.h>
#include <stdint.h>

/* Kafka's "no partition chosen" (RecordMetadata.UNKNOWN_PARTITION). */
#define PARTITIONER_UNASSIGNED (-1)

/* Kafka's Utils.murmur2: MurmurHash2 with seed 0x9747b28c, as a Java int.
 * key may be NULL only when len is 0. */
int32_t partitioner_murmur2(const void *key, size_t len);

/* Kafka's Utils.toPositive: clears the sign bit (not the absolute value). */
static inline int32_t partitioner_to_positive(int32_t n)
{
    return n & 0x7fffffff;
}

/* The partition of a keyed record: toPositive(murmur2(key)) % partition_cnt,
 * or EDDY_ERR_INVALID_ARG when partition_cnt <= 0. */
int32_t partitioner_key_partition(const void *key, size_t keylen, int32_t partition_cnt);

/* Per-topic sticky state for records without a key. Plain data so that it
 * can live inside the producer's topic object. */
typedef struct partitioner_sticky {
    int32_t ps_partition; /* the current sticky partition, or PARTITIONER_UNASSIGNED */
    uint64_t ps_rng;      /* xorshift64* state, never 0 */
} partitioner_sticky_t;

/* Starts with no sticky partition. Different producers should pass different
 * seeds (time, pid, the object's address), as each Java producer thread draws
 * from its own ThreadLocalRandom. */
void partitioner_sticky_init(partitioner_sticky_t *ps, uint64_t seed);

/* The sticky partition for the next null-key record, choosing one (as
 * partitioner_sticky_next(ps, ..., PARTITIONER_UNASSIGNED)) if none is set or
 * the current one is beyond partition_cnt.
 *
 * available lists the partitions that have a leader (Kafka's
 * availablePartitionsForTopic), navailable entries, borrowed for the call;
 * when none is available the choice is random over all partition_cnt
 * partitions, as Kafka's is. Returns the partition, or EDDY_ERR_INVALID_ARG
 * when partition_cnt <= 0. */
int32_t partitioner_sticky_partition(partitioner_sticky_t *ps, int32_t partition_cnt,
                                     const int32_t *available, int32_t navailable);

/* A batch for prev_partition was completed: if prev_partition is the sticky
 * partition (or none is set), switch to another available partition chosen at
 * random - a different one whenever two or more are available; one available
 * partition is kept; none available draws over all partitions. Otherwise the
 * call is stale and the sticky partition stays. Returns the (possibly new)
 * sticky partition, or EDDY_ERR_INVALID_ARG when partition_cnt <= 0. */
int32_t partitioner_sticky_next(partitioner_sticky_t *ps, int32_t partition_cnt,
                                const int32_t *available, int32_t navailable,
                                int32_t prev_partition);

/* The partition for one record, as KafkaProducer.partition() with the default
 * partitioner: explicit_partition when it is >= 0 (passed through unchecked),
 * the key's hash when key != NULL, otherwise the sticky partition.
 * EDDY_ERR_INVALID_ARG for an explicit partition below -1 (ProducerRecord
 * refuses those) or when a partition has to be computed and
 * partition_cnt <= 0. */
int32_t partitioner_partition(partitioner_sticky_t *ps, int32_t explicit_partition, const void *key,
                              size_t keylen, int32_t partition_cnt, const int32_t *available,
                              int32_t navailable);

#endif

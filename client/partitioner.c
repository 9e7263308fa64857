#include "partitioner.h"

#include "common/err.h"

/* Java's int arithmetic is 32-bit two's complement that wraps, and >>> is the
 * unsigned shift: uint32_t does both without undefined behaviour. The result
 * is the same bit pattern as Java's int. */
int32_t partitioner_murmur2(const void *key, size_t len)
{
    const uint8_t *data = key;
    const uint32_t m = 0x5bd1e995;
    const int r = 24;
    /* Java's data.length is an int: lengths above INT32_MAX cannot occur
     * there, and the seed mixes in the length truncated to 32 bits. */
    uint32_t h = 0x9747b28cu ^ (uint32_t)len;
    size_t len4 = len / 4;

    for (size_t i = 0; i < len4; i++) {
        const uint8_t *p = data + i * 4;
        /* Little-endian assembly of four bytes, each masked (& 0xff) as Java
         * does to undo the sign of its byte type. */
        uint32_t k = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
                     ((uint32_t)p[3] << 24);
        k *= m;
        k ^= k >> r;
        k *= m;
        h *= m;
        h ^= k;
    }

    /* The tail, falling through as Java's switch does. */
    const uint8_t *tail = data + (len & ~(size_t)3);
    switch (len % 4) {
    case 3:
        h ^= (uint32_t)tail[2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t)tail[1] << 8;
        /* fall through */
    case 1: h ^= tail[0]; h *= m;
    }

    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    /* Reinterpret as Java's int without relying on implementation-defined
     * conversion of out-of-range values. */
    return h <= INT32_MAX ? (int32_t)h : (int32_t)(h - 0x80000000u) + INT32_MIN;
}

int32_t partitioner_key_partition(const void *key, size_t keylen, int32_t partition_cnt)
{
    if (partition_cnt <= 0)
        return EDDY_ERR_INVALID_ARG;
    return partitioner_to_positive(partitioner_murmur2(key, keylen)) % partition_cnt;
}

/* xorshift64* (Vigna): fast, good enough to spread sticky choices, and
 * reproducible from a seed in tests. */
static uint64_t rng_next(partitioner_sticky_t *ps)
{
    uint64_t x = ps->ps_rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    ps->ps_rng = x;
    return x * 0x2545f4914f6cdd1dULL;
}

/* A non-negative Java-style int: toPositive(nextInt()). */
static int32_t rng_positive(partitioner_sticky_t *ps)
{
    return (int32_t)(rng_next(ps) >> 33);
}

void partitioner_sticky_init(partitioner_sticky_t *ps, uint64_t seed)
{
    ps->ps_partition = PARTITIONER_UNASSIGNED;
    /* Scramble the seed (splitmix64's finaliser) so that nearby seeds give
     * unrelated sequences, and keep the state non-zero. */
    uint64_t z = seed + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    ps->ps_rng = z ? z : 0x9e3779b97f4a7c15ULL;
}

int32_t partitioner_sticky_next(partitioner_sticky_t *ps, int32_t partition_cnt,
                                const int32_t *available, int32_t navailable,
                                int32_t prev_partition)
{
    if (partition_cnt <= 0)
        return EDDY_ERR_INVALID_ARG;
    int32_t old = ps->ps_partition;
    if (old >= partition_cnt) /* cannot happen in Kafka, where topics only grow */
        old = PARTITIONER_UNASSIGNED;
    /* Stale: the batch that closed was not for the current sticky partition. */
    if (old != PARTITIONER_UNASSIGNED && old != prev_partition)
        return old;

    int32_t next;
    if (!available || navailable < 1) {
        next = rng_positive(ps) % partition_cnt;
    } else if (navailable == 1) {
        next = available[0];
    } else {
        /* Draw until the choice differs from the old one. Kafka loops the
         * same way; with >= 2 distinct entries it ends quickly. A list that
         * repeats the old partition only is guarded against spinning. */
        int tries = 0;
        do {
            next = available[rng_positive(ps) % navailable];
        } while (next == old && ++tries < 64);
        if (next == old) {
            for (int32_t i = 0; i < navailable; i++)
                if (available[i] != old) {
                    next = available[i];
                    break;
                }
        }
    }
    ps->ps_partition = next;
    return next;
}

int32_t partitioner_sticky_partition(partitioner_sticky_t *ps, int32_t partition_cnt,
                                     const int32_t *available, int32_t navailable)
{
    if (partition_cnt <= 0)
        return EDDY_ERR_INVALID_ARG;
    if (ps->ps_partition != PARTITIONER_UNASSIGNED && ps->ps_partition < partition_cnt)
        return ps->ps_partition;
    ps->ps_partition = PARTITIONER_UNASSIGNED;
    return partitioner_sticky_next(ps, partition_cnt, available, navailable,
                                   PARTITIONER_UNASSIGNED);
}

int32_t partitioner_partition(partitioner_sticky_t *ps, int32_t explicit_partition, const void *key,
                              size_t keylen, int32_t partition_cnt, const int32_t *available,
                              int32_t navailable)
{
    if (explicit_partition >= 0)
        return explicit_partition;
    if (explicit_partition != PARTITIONER_UNASSIGNED)
        return EDDY_ERR_INVALID_ARG;
    if (key)
        return partitioner_key_partition(key, keylen, partition_cnt);
    return partitioner_sticky_partition(ps, partition_cnt, available, navailable);
}

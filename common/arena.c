#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_MIN 4096

struct eddy_arena_chunk {
    eddy_arena_chunk_t *ch_next;
    size_t ch_cap, ch_used;
    _Alignas(16) unsigned char ch_data[];
};

void arena_init(eddy_arena_t *ar, size_t limit)
{
    ar->ar_head = NULL;
    ar->ar_used = 0;
    ar->ar_limit = limit;
}

void *arena_alloc(eddy_arena_t *ar, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (size == 0)
        size = 16;
    if (ar->ar_limit && (size > ar->ar_limit || ar->ar_used > ar->ar_limit - size))
        return NULL;
    eddy_arena_chunk_t *ch = ar->ar_head;
    if (!ch || ch->ch_cap - ch->ch_used < size) {
        size_t cap = size > CHUNK_MIN ? size : CHUNK_MIN;
        if (ch && ch->ch_cap * 2 > cap && ch->ch_cap < (1u << 20))
            cap = ch->ch_cap * 2;
        ch = malloc(sizeof *ch + cap);
        if (!ch)
            return NULL;
        ch->ch_cap = cap;
        ch->ch_used = 0;
        ch->ch_next = ar->ar_head;
        ar->ar_head = ch;
    }
    void *p = ch->ch_data + ch->ch_used;
    ch->ch_used += size;
    ar->ar_used += size;
    memset(p, 0, size);
    return p;
}

void *arena_calloc(eddy_arena_t *ar, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    return arena_alloc(ar, n * size);
}

void arena_reset(eddy_arena_t *ar)
{
    eddy_arena_chunk_t *ch = ar->ar_head;
    while (ch) {
        eddy_arena_chunk_t *next = ch->ch_next;
        free(ch);
        ch = next;
    }
    ar->ar_head = NULL;
    ar->ar_used = 0;
}

void arena_free(eddy_arena_t *ar)
{
    arena_reset(ar);
}

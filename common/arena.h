/* A bump allocator for everything decoded from one request: arrays and
 * copies are carved from chunks and freed together with arena_reset() or
 * arena_free(). Allocation never exceeds the arena's limit, so a request that
 * announces a huge array fails cleanly instead of exhausting memory. */
#ifndef EDDY_COMMON_ARENA_H
#define EDDY_COMMON_ARENA_H

#include <stddef.h>

typedef struct eddy_arena_chunk eddy_arena_chunk_t;

typedef struct eddy_arena {
    eddy_arena_chunk_t *ar_head; /* owned chunks, newest first */
    size_t ar_used;              /* bytes handed out */
    size_t ar_limit;             /* 0: no limit */
} eddy_arena_t;

void arena_init(eddy_arena_t *ar, size_t limit);
/* Zeroed, 16-byte aligned memory valid until reset/free, or NULL. */
void *arena_alloc(eddy_arena_t *ar, size_t size);
/* n elements of size each, with overflow check. */
void *arena_calloc(eddy_arena_t *ar, size_t n, size_t size);
/* A NUL-terminated copy of s[0..n) (or of the C string s), or NULL. */
char *arena_strndup(eddy_arena_t *ar, const char *s, size_t n);
char *arena_strdup(eddy_arena_t *ar, const char *s);
void arena_reset(eddy_arena_t *ar); /* frees all but keeps nothing */
void arena_free(eddy_arena_t *ar);

#endif

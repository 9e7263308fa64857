/* String copies into an arena. They live apart from arena.c so that a
 * program replacing the arena's allocator (tests/fuzz/fuzz_requests.c
 * defines arena_init/alloc/... itself, so that ASan sees every allocation)
 * can link them without pulling arena.o in beside its own definitions. */
#include "arena.h"

#include <string.h>

char *arena_strndup(eddy_arena_t *ar, const char *s, size_t n)
{
    char *d = arena_alloc(ar, n + 1);
    if (d) {
        if (n)
            memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

char *arena_strdup(eddy_arena_t *ar, const char *s)
{
    return arena_strndup(ar, s, strlen(s));
}

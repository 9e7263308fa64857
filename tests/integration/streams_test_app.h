/* Shared by the streams test apps (tests/integration/streams_*_app.c). */
#ifndef EDDY_STREAMS_TEST_APP_H
#define EDDY_STREAMS_TEST_APP_H

#include "eddy.h"

/* Event time from the value: its leading decimal digits, in ms ("1500",
 * "1500 text"); -1 (no timestamp: the record is skipped) when it has none.
 * The tests set times this way because `eddy topic produce` cannot. */
static inline int64_t time_from_value(const eddy_record_t *r, int64_t partition_time, void *opaque)
{
    (void)partition_time;
    (void)opaque;
    const char *p = r->value.data;
    int64_t t = 0;
    int i = 0;
    for (; i < r->value.len && p[i] >= '0' && p[i] <= '9'; i++)
        t = t * 10 + (p[i] - '0');
    return i > 0 ? t : -1;
}

#endif

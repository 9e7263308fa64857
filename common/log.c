#include "log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"

int eddy_log_level = EDDY_LOG_LVL_INFO;

static eddy_log_sink_fn *log_sink;
static void *log_sink_opaque;

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void eddy_log_set_sink(eddy_log_sink_fn *sink, void *opaque)
{
    log_sink = sink;
    log_sink_opaque = opaque;
}

int eddy_log_level_parse(const char *s)
{
    static const char *const lower[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, lower[i]) == 0)
            return i;
    return -1;
}

static void log_line(int level, const char *facility, const char *line)
{
    if (level < 0)
        level = 0;
    if (level > EDDY_LOG_LVL_DEBUG)
        level = EDDY_LOG_LVL_DEBUG;
    if (log_sink) {
        log_sink(level, facility, line, log_sink_opaque);
        return;
    }
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    /* One fprintf per line: stdio locks the stream, so lines from several
     * threads do not interleave. */
    fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s [%s] %s\n", tm.tm_year + 1900,
            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
            level_names[level], facility, line);
}

void eddy_log_write(int level, const char *facility, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log_line(level, facility, line);
}

int eddy_log_limit_pass(eddy_log_limit_t *ll, int64_t interval_ms, uint64_t *suppressed,
                        int64_t *since_ms)
{
    int64_t now = eddy_mono_ms();
    int64_t next = __atomic_load_n(&ll->ll_next_ms, __ATOMIC_RELAXED);
    if (next != 0 && now < next) {
        __atomic_add_fetch(&ll->ll_suppressed, 1, __ATOMIC_RELAXED);
        return 0;
    }
    __atomic_store_n(&ll->ll_next_ms, now + (interval_ms > 0 ? interval_ms : 1), __ATOMIC_RELAXED);
    int64_t last = __atomic_exchange_n(&ll->ll_last_ms, now, __ATOMIC_RELAXED);
    *suppressed = __atomic_exchange_n(&ll->ll_suppressed, 0, __ATOMIC_RELAXED);
    *since_ms = last ? now - last : 0;
    return 1;
}

void eddy_log_write_limited(int level, const char *facility, uint64_t suppressed, int64_t since_ms,
                            const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (suppressed > 0 && n >= 0 && (size_t)n < sizeof line)
        snprintf(line + n, sizeof line - (size_t)n,
                 " (and %" PRIu64 " more like it in the last %" PRId64 " s)", suppressed,
                 (since_ms + 999) / 1000);
    log_line(level, facility, line);
}

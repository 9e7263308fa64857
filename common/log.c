#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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

void eddy_log_write(int level, const char *facility, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);

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

/* Leveled logging with a facility tag.
 *
 *   EDDY_LOG_WARN("log", "segment %s: truncating at byte %lld", name, pos);
 *
 * The level test happens before the arguments are evaluated, so a disabled
 * debug line costs one comparison. Lines go to stderr unless a sink is set
 * (tests install one to assert what was logged).
 */
#ifndef EDDY_COMMON_LOG_H
#define EDDY_COMMON_LOG_H

#include <stdint.h>

enum eddy_log_level {
    EDDY_LOG_LVL_ERROR = 0,
    EDDY_LOG_LVL_WARN = 1,
    EDDY_LOG_LVL_INFO = 2,
    EDDY_LOG_LVL_DEBUG = 3,
};

extern int eddy_log_level;

/* A sink receives one fully formatted line without the trailing newline. */
typedef void(eddy_log_sink_fn)(int level, const char *facility, const char *line, void *opaque);

/* Replace the sink (NULL restores stderr). Not thread-safe against concurrent
 * logging; set it once at start-up or in a test. */
void eddy_log_set_sink(eddy_log_sink_fn *sink, void *opaque);

/* Parse "error", "warn", "info", "debug"; returns -1 for anything else. */
int eddy_log_level_parse(const char *s);

void eddy_log_write(int level, const char *facility, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define EDDY_LOG(level, fac, ...)                                                                  \
    do {                                                                                           \
        if ((level) <= eddy_log_level)                                                             \
            eddy_log_write((level), (fac), __VA_ARGS__);                                           \
    } while (0)

#define EDDY_LOG_ERROR(fac, ...) EDDY_LOG(EDDY_LOG_LVL_ERROR, fac, __VA_ARGS__)
#define EDDY_LOG_WARN(fac, ...) EDDY_LOG(EDDY_LOG_LVL_WARN, fac, __VA_ARGS__)
#define EDDY_LOG_INFO(fac, ...) EDDY_LOG(EDDY_LOG_LVL_INFO, fac, __VA_ARGS__)
#define EDDY_LOG_DEBUG(fac, ...) EDDY_LOG(EDDY_LOG_LVL_DEBUG, fac, __VA_ARGS__)

/* Repeated lines: a hot error path (a failing disk, a peer that keeps
 * failing, a client that keeps sending a bad request) logs through a limit,
 * one per line site or per object, so that it writes at most one line per
 * interval and the next line that gets through says how many were left out:
 *
 *   static eddy_log_limit_t read_fail = EDDY_LOG_LIMIT_INIT;
 *   EDDY_LOG_LIMITED(EDDY_LOG_LVL_ERROR, "log", &read_fail, 10000,
 *                    "%s: read failed: %s", path, strerror(err));
 *   -> ... [log] t-0/00000000000000000000.log: read failed: Input/output
 *      error (and 4051 more like it in the last 10 s)
 *
 * Any thread may use one limit (its fields are updated atomically; two
 * threads racing at an interval's edge may both write a line). */
typedef struct eddy_log_limit {
    int64_t ll_next_ms;     /* CLOCK_MONOTONIC: no line before this */
    int64_t ll_last_ms;     /* when the last line was written */
    uint64_t ll_suppressed; /* lines left out since then */
} eddy_log_limit_t;

#define EDDY_LOG_LIMIT_INIT {0, 0, 0}

/* Whether a line may be written now: 1, with *suppressed the lines left out
 * since the last one and *since_ms how long ago that was, and the next line
 * is held for interval_ms; or 0, and the line is counted. */
int eddy_log_limit_pass(eddy_log_limit_t *ll, int64_t interval_ms, uint64_t *suppressed,
                        int64_t *since_ms);

/* eddy_log_write with " (and N more like it in the last S s)" added when
 * suppressed > 0. */
void eddy_log_write_limited(int level, const char *facility, uint64_t suppressed, int64_t since_ms,
                            const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define EDDY_LOG_LIMITED(level, fac, limit, interval_ms, ...)                                      \
    do {                                                                                           \
        uint64_t eddy_sup_;                                                                        \
        int64_t eddy_since_;                                                                       \
        if ((level) <= eddy_log_level &&                                                           \
            eddy_log_limit_pass((limit), (interval_ms), &eddy_sup_, &eddy_since_))                 \
            eddy_log_write_limited((level), (fac), eddy_sup_, eddy_since_, __VA_ARGS__);           \
    } while (0)

#endif

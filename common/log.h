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

#endif

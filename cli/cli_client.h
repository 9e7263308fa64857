/* What the client subcommands (topic, group, app) share: the bootstrap
 * address from -b / EDDY_BOOTSTRAP_SERVER, a client on a private loop, and
 * the pieces of an offset reset that `eddy group reset-offsets` and
 * `eddy app reset` both plan with. */
#ifndef EDDY_CLI_CLIENT_H
#define EDDY_CLI_CLIENT_H

#include <stdint.h>
#include <uv.h>

#include "client/client.h"

/* -b/--bootstrap-server, taken out of argv by main() wherever it stood. */
extern const char *cli_bootstrap;
/* Client settings from the command line, taken out of argv by main() the
 * same way: each -X KEY=VALUE, and --command-config FILE (a properties file,
 * as Kafka's tools take it). They apply to every client a command opens,
 * the file first, then -X, over the command's own settings, so the user has
 * the last word. */
#define CLI_MAX_SETTINGS 64
extern const char *cli_settings[CLI_MAX_SETTINGS];
extern int cli_settings_count, cli_settings_overflow;
extern const char *cli_command_config;

typedef struct cli_conn {
    uv_loop_t cc_loop;
    kc_config_t cc_cfg;
    kc_client_t *cc_client;
} cli_conn_t;

/* Connection attempts per bootstrap address before a command gives up
 * (kc_client_fail_fast): with reconnect.backoff.ms 50 a refused address
 * fails the command after about 0.2 s. */
#define CLI_CONNECT_ATTEMPTS 3

/* Opens a client with bootstrap.servers set and the extra "key=value"
 * settings, in fail-fast mode; prints the reason and returns -1 on failure. */
int cli_conn_open(cli_conn_t *cc, const char *const *settings, int n);
void cli_conn_close(cli_conn_t *cc);

/* The reason for an admin call's failure: its sentence, else a generic one
 * (Kafka error codes come back positive, eddy_err negative). Static or err. */
const char *cli_why(int rc, const char *err);

/* ---- progress on a terminal ---- */

/* "\r<what> 3 of 40" on stderr, only when stderr is a terminal and the work
 * is long enough (more than 20 steps) to leave the user waiting. */
typedef struct cli_progress {
    int pg_on;
    long pg_done, pg_total;
    const char *pg_what; /* borrowed until cli_progress_end */
} cli_progress_t;

void cli_progress_start(cli_progress_t *pg, const char *what, long total);
void cli_progress_step(cli_progress_t *pg);
/* Clears the line; call before printing anything else. */
void cli_progress_end(cli_progress_t *pg);

/* ---- committed offsets ---- */

/* A group's committed offsets, as kc_admin_committed_offsets reports them.
 * The collection grows as needed; co_failed is set when memory ran out, and
 * then the collection is incomplete and must not be acted on. */
typedef struct cli_offsets {
    int co_n, co_cap, co_failed;
    char **co_topic; /* owned */
    int32_t *co_partition;
    int64_t *co_offset;
} cli_offsets_t;

/* A kc_offset_fn: opaque is a zeroed cli_offsets_t. */
void cli_offsets_collect(const char *topic, int32_t partition, int64_t offset, void *opaque);
/* The committed offset of topic-partition, or -1. */
int64_t cli_offsets_find(const cli_offsets_t *co, const char *topic, int32_t partition);
void cli_offsets_free(cli_offsets_t *co);

/* ---- live members ---- */

typedef struct cli_members {
    char ms_state[64]; /* Empty, Stable, ..., Dead (no such group) */
    int ms_n;
    char *ms_text; /* "  member M (client C, host H)\n" per member; owned, may be NULL */
} cli_members_t;

/* Describes group into ms (free it with cli_members_free, also on failure).
 * Returns 0 or the admin call's error with a sentence in errstr. */
int cli_group_members(kc_client_t *c, const char *group, cli_members_t *ms, char *errstr,
                      size_t errstr_size);
void cli_members_free(cli_members_t *ms);

/* ---- where a reset puts a partition ---- */

typedef enum cli_reset_mode {
    CLI_RESET_NONE,
    CLI_RESET_EARLIEST,
    CLI_RESET_LATEST,
    CLI_RESET_OFFSET,   /* rs_arg: the offset */
    CLI_RESET_DATETIME, /* rs_arg: UTC milliseconds (--to-datetime, --by-duration) */
    CLI_RESET_SHIFT,    /* rs_arg: added to the committed offset */
} cli_reset_mode_t;

typedef struct cli_reset {
    cli_reset_mode_t rs_mode;
    int64_t rs_arg;
    const char *rs_opt; /* the option that set the mode, for messages; borrowed from argv */
} cli_reset_t;

/* Takes one of --to-earliest, --to-latest (arg NULL), --to-offset N,
 * --shift-by N, --to-datetime ISO, --by-duration PnDTnHnMnS into rs.
 * Returns 1 when opt is one of them and was taken, 0 when opt is not a reset
 * option, -1 with a sentence in errstr when arg is bad or rs already has a
 * mode. A command that does not offer an option simply does not pass it. */
int cli_reset_option(cli_reset_t *rs, const char *opt, const char *arg, char *errstr,
                     size_t errstr_size);

/* The new offset of topic-partition under rs, given its committed offset cur
 * (-1: none, where --shift-by starts from the log start). As Kafka's tools:
 * --to-datetime takes the first offset whose timestamp is at or after it, the
 * end when there is none; every result is clamped to [log start, log end].
 * Returns 0, or the admin call's error with a sentence in errstr. */
int cli_reset_target(kc_client_t *c, const char *topic, int32_t partition, const cli_reset_t *rs,
                     int64_t cur, int64_t *out, char *errstr, size_t errstr_size);

/* "2026-01-02T03:04:05[.fff][Z|+hh:mm|+hhmm|+hh]" as UTC milliseconds (no
 * zone: UTC), or -1. */
int64_t cli_parse_datetime(const char *s);
/* An ISO-8601 duration "PnDTnHnMn.nS" (any of the parts, in that order, at
 * least one; letters in either case) as milliseconds, or -1. */
int64_t cli_parse_duration(const char *s);

#endif

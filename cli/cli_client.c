#include "cli_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/admin.h"
#include "common/config.h"
#include "common/err.h"
#include "common/log.h"

const char *cli_bootstrap;
const char *cli_settings[CLI_MAX_SETTINGS];
int cli_settings_count, cli_settings_overflow;
const char *cli_command_config;

/* The user's settings (--command-config, then -X) added to ps; prints why
 * and returns -1 when one is malformed or the file cannot be read. */
static int add_user_settings(eddy_props_t *ps)
{
    char err[1024];
    if (cli_settings_overflow) {
        fprintf(stderr, "eddy: more than %d -X settings\n", CLI_MAX_SETTINGS);
        return -1;
    }
    if (cli_command_config) {
        eddy_props_t file;
        eddy_props_init(&file);
        if (eddy_props_load(&file, cli_command_config, err, sizeof err) < 0) {
            fprintf(stderr, "eddy: --command-config: %s\n", err);
            eddy_props_free(&file);
            return -1;
        }
        for (size_t i = 0; i < file.ps_count; i++) {
            const eddy_prop_t *p = &file.ps_items[i];
            char where[512], kv[2048];
            snprintf(where, sizeof where, "%s:%d", cli_command_config, p->pr_line);
            snprintf(kv, sizeof kv, "%s=%s", p->pr_key, p->pr_value);
            if (eddy_props_set(ps, where, kv, err, sizeof err) < 0) {
                fprintf(stderr, "eddy: %s\n", err);
                eddy_props_free(&file);
                return -1;
            }
        }
        eddy_props_free(&file);
    }
    for (int i = 0; i < cli_settings_count; i++) {
        const char *eq = strchr(cli_settings[i], '=');
        if (!eq || eq == cli_settings[i]) {
            fprintf(stderr, "eddy: -X %s: expected KEY=VALUE\n", cli_settings[i]);
            return -1;
        }
        if (eddy_props_set(ps, "-X", cli_settings[i], err, sizeof err) < 0) {
            fprintf(stderr, "eddy: %s\n", err);
            return -1;
        }
    }
    return 0;
}

int cli_conn_open(cli_conn_t *cc, const char *const *settings, int n)
{
    memset(cc, 0, sizeof *cc);
    /* A command's output is its answer: the client's routine INFO lines
     * (joins, rebalances) stay out unless EDDY_LOG_LEVEL asks for them. */
    const char *lvl = getenv("EDDY_LOG_LEVEL");
    eddy_log_level = lvl && eddy_log_level_parse(lvl) >= 0 ? eddy_log_level_parse(lvl)
                                                           : EDDY_LOG_LVL_WARN;
    const char *bootstrap = cli_bootstrap ? cli_bootstrap : getenv("EDDY_BOOTSTRAP_SERVER");
    if (!bootstrap || !*bootstrap)
        bootstrap = "localhost:9092";
    eddy_props_t ps;
    eddy_props_init(&ps);
    char err[1024], set[1200];
    snprintf(set, sizeof set, "bootstrap.servers=%s", bootstrap);
    eddy_props_set(&ps, "-b", set, err, sizeof err);
    eddy_props_set(&ps, "eddy", "client.id=eddy-cli", err, sizeof err);
    for (int i = 0; i < n; i++)
        eddy_props_set(&ps, "eddy", settings[i], err, sizeof err);
    if (add_user_settings(&ps) < 0) {
        eddy_props_free(&ps);
        return -1;
    }
    int rc = kc_config_load(&cc->cc_cfg, &ps, err, sizeof err);
    eddy_props_free(&ps);
    if (rc < 0) {
        fprintf(stderr, "eddy: %s\n", err);
        kc_config_free(&cc->cc_cfg);
        return -1;
    }
    uv_loop_init(&cc->cc_loop);
    cc->cc_client = kc_client_new(&cc->cc_loop, &cc->cc_cfg, err, sizeof err);
    if (!cc->cc_client) {
        fprintf(stderr, "eddy: %s\n", err);
        uv_loop_close(&cc->cc_loop);
        kc_config_free(&cc->cc_cfg);
        return -1;
    }
    /* A command fails within moments when no bootstrap broker can be
     * reached, naming the reason (refused, unresolvable), instead of
     * waiting out request.timeout.ms as an application would. */
    kc_client_fail_fast(cc->cc_client, CLI_CONNECT_ATTEMPTS);
    return 0;
}

void cli_conn_close(cli_conn_t *cc)
{
    kc_client_destroy(cc->cc_client);
    uv_run(&cc->cc_loop, UV_RUN_DEFAULT);
    uv_loop_close(&cc->cc_loop);
    kc_config_free(&cc->cc_cfg);
}

const char *cli_why(int rc, const char *err)
{
    return err && err[0] ? err : rc > 0 ? "the broker refused" : eddy_strerror(rc);
}

/* ---- progress ---- */

void cli_progress_start(cli_progress_t *pg, const char *what, long total)
{
    pg->pg_on = total > 20 && isatty(2);
    pg->pg_done = 0;
    pg->pg_total = total;
    pg->pg_what = what;
}

void cli_progress_step(cli_progress_t *pg)
{
    pg->pg_done++;
    if (pg->pg_on)
        fprintf(stderr, "\r%s %ld of %ld", pg->pg_what, pg->pg_done, pg->pg_total);
}

void cli_progress_end(cli_progress_t *pg)
{
    if (pg->pg_on && pg->pg_done > 0)
        fprintf(stderr, "\r%*s\r", (int)strlen(pg->pg_what) + 48, "");
    pg->pg_on = 0;
}

/* ---- committed offsets ---- */

void cli_offsets_collect(const char *topic, int32_t partition, int64_t offset, void *opaque)
{
    cli_offsets_t *co = opaque;
    if (co->co_failed)
        return;
    if (co->co_n == co->co_cap) {
        int cap = co->co_cap ? 2 * co->co_cap : 64;
        char **t = realloc(co->co_topic, (size_t)cap * sizeof *t);
        if (t)
            co->co_topic = t;
        int32_t *p = realloc(co->co_partition, (size_t)cap * sizeof *p);
        if (p)
            co->co_partition = p;
        int64_t *o = realloc(co->co_offset, (size_t)cap * sizeof *o);
        if (o)
            co->co_offset = o;
        if (!t || !p || !o) {
            co->co_failed = 1;
            return;
        }
        co->co_cap = cap;
    }
    if (!(co->co_topic[co->co_n] = strdup(topic))) {
        co->co_failed = 1;
        return;
    }
    co->co_partition[co->co_n] = partition;
    co->co_offset[co->co_n++] = offset;
}

int64_t cli_offsets_find(const cli_offsets_t *co, const char *topic, int32_t partition)
{
    for (int i = 0; i < co->co_n; i++)
        if (co->co_partition[i] == partition && strcmp(co->co_topic[i], topic) == 0)
            return co->co_offset[i];
    return -1;
}

void cli_offsets_free(cli_offsets_t *co)
{
    for (int i = 0; i < co->co_n; i++)
        free(co->co_topic[i]);
    free(co->co_topic);
    free(co->co_partition);
    free(co->co_offset);
    memset(co, 0, sizeof *co);
}

/* ---- live members ---- */

static void take_members(const kc_group_desc_t *d, void *opaque)
{
    cli_members_t *ms = opaque;
    snprintf(ms->ms_state, sizeof ms->ms_state, "%s", d->gd_state);
    ms->ms_n = d->gd_nmembers;
    size_t size = 1;
    for (int i = 0; i < d->gd_nmembers; i++)
        size += strlen(d->gd_members[i].gm_member_id) + strlen(d->gd_members[i].gm_client_id) +
                strlen(d->gd_members[i].gm_host) + 40;
    char *text = malloc(size);
    if (!text)
        return; /* the count is still right; only the names are missing */
    size_t len = 0;
    text[0] = 0;
    for (int i = 0; i < d->gd_nmembers; i++) {
        const kc_group_member_desc_t *m = &d->gd_members[i];
        len += (size_t)snprintf(text + len, size - len, "  member %s (client %s, host %s)\n",
                                m->gm_member_id, m->gm_client_id, m->gm_host);
    }
    ms->ms_text = text;
}

int cli_group_members(kc_client_t *c, const char *group, cli_members_t *ms, char *errstr,
                      size_t errstr_size)
{
    memset(ms, 0, sizeof *ms);
    return kc_admin_describe_group(c, group, take_members, ms, errstr, errstr_size);
}

void cli_members_free(cli_members_t *ms)
{
    free(ms->ms_text);
    ms->ms_text = NULL;
}

/* ---- resets ---- */

int cli_reset_option(cli_reset_t *rs, const char *opt, const char *arg, char *errstr,
                     size_t errstr_size)
{
    static const struct {
        const char *name;
        cli_reset_mode_t mode;
        int has_arg;
    } opts[] = {
        {"--to-earliest", CLI_RESET_EARLIEST, 0}, {"--to-latest", CLI_RESET_LATEST, 0},
        {"--to-offset", CLI_RESET_OFFSET, 1},     {"--shift-by", CLI_RESET_SHIFT, 1},
        {"--to-datetime", CLI_RESET_DATETIME, 1}, {"--by-duration", CLI_RESET_DATETIME, 1},
    };
    size_t k = 0;
    while (k < sizeof opts / sizeof opts[0] && strcmp(opt, opts[k].name))
        k++;
    if (k == sizeof opts / sizeof opts[0])
        return 0;
    if (rs->rs_mode != CLI_RESET_NONE) {
        snprintf(errstr, errstr_size, "%s conflicts with %s: give one of them", opt, rs->rs_opt);
        return -1;
    }
    if (opts[k].has_arg && !arg) {
        snprintf(errstr, errstr_size, "%s needs a value", opt);
        return -1;
    }
    int64_t v = 0;
    if (opts[k].mode == CLI_RESET_OFFSET || opts[k].mode == CLI_RESET_SHIFT) {
        char *end;
        errno = 0;
        v = strtoll(arg, &end, 10);
        if (*end || end == arg || errno) {
            snprintf(errstr, errstr_size, "%s '%s' is not a number", opt, arg);
            return -1;
        }
    } else if (!strcmp(opt, "--to-datetime")) {
        if ((v = cli_parse_datetime(arg)) < 0) {
            snprintf(errstr, errstr_size,
                     "%s '%s' is not a datetime like 2026-01-02T03:04:05, "
                     "2026-01-02T03:04:05.250Z or 2026-01-02T03:04:05+02:00",
                     opt, arg);
            return -1;
        }
    } else if (!strcmp(opt, "--by-duration")) {
        int64_t d = cli_parse_duration(arg);
        if (d < 0) {
            snprintf(errstr, errstr_size, "%s '%s' is not a duration like P1D, PT6H or P1DT2H30M",
                     opt, arg);
            return -1;
        }
        /* Measured from now; further back than 1970 is simply the start. */
        uv_timeval64_t tv;
        int64_t now = uv_gettimeofday(&tv) == 0 ? tv.tv_sec * 1000 + tv.tv_usec / 1000 : 0;
        v = now > d ? now - d : 0;
    }
    rs->rs_mode = opts[k].mode;
    rs->rs_arg = v;
    rs->rs_opt = opts[k].name;
    return 1;
}

int cli_reset_target(kc_client_t *c, const char *topic, int32_t partition, const cli_reset_t *rs,
                     int64_t cur, int64_t *out, char *errstr, size_t errstr_size)
{
    int64_t lo = 0, hi = 0, want = 0;
    int rc;
    if ((rc = kc_admin_list_offset(c, topic, partition, -2, &lo, errstr, errstr_size)) != 0 ||
        (rc = kc_admin_list_offset(c, topic, partition, -1, &hi, errstr, errstr_size)) != 0)
        return rc;
    switch (rs->rs_mode) {
    case CLI_RESET_NONE:
    case CLI_RESET_EARLIEST: want = lo; break;
    case CLI_RESET_LATEST: want = hi; break;
    case CLI_RESET_OFFSET: want = rs->rs_arg; break;
    case CLI_RESET_SHIFT:
        /* Saturating: a shift past either end lands on that end. */
        want = cur >= 0 ? cur : lo;
        want = rs->rs_arg > 0 && want > INT64_MAX - rs->rs_arg ? INT64_MAX : want + rs->rs_arg;
        break;
    case CLI_RESET_DATETIME:
        if ((rc = kc_admin_list_offset(c, topic, partition, rs->rs_arg, &want, errstr,
                                       errstr_size)) != 0)
            return rc;
        if (want < 0)
            want = hi; /* nothing that late: the end, as Kafka's tool */
        break;
    }
    *out = want < lo ? lo : want > hi ? hi : want;
    return 0;
}

/* ---- time ---- */

/* Exactly n decimal digits at *s, advancing it; -1 when they are not there. */
static int digits(const char **s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*s)++) {
        if (**s < '0' || **s > '9')
            return -1;
        v = v * 10 + (**s - '0');
    }
    return v;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Takes the character c (either case) at *s. */
static int expect(const char **s, char c)
{
    if (**s != c && !(c == 'T' && **s == 't'))
        return 0;
    (*s)++;
    return 1;
}

int64_t cli_parse_datetime(const char *s)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = digits(&s, 4);
    if (y < 0 || !expect(&s, '-'))
        return -1;
    int mo = digits(&s, 2);
    if (mo < 1 || mo > 12 || !expect(&s, '-'))
        return -1;
    int d = digits(&s, 2);
    if (d < 1 || d > mdays[mo - 1] || !expect(&s, 'T'))
        return -1;
    if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        return -1;
    int h = digits(&s, 2);
    if (h < 0 || h > 23 || !expect(&s, ':'))
        return -1;
    int mi = digits(&s, 2);
    if (mi < 0 || mi > 59 || !expect(&s, ':'))
        return -1;
    int sec = digits(&s, 2);
    if (sec < 0 || sec > 59)
        return -1;
    int64_t ms = 0;
    if (*s == '.') {
        s++;
        int n = 0;
        for (; *s >= '0' && *s <= '9'; s++, n++)
            if (n < 3)
                ms = ms * 10 + (*s - '0');
        if (n == 0)
            return -1;
        for (; n < 3; n++)
            ms *= 10;
    }
    int64_t zone = 0; /* seconds east of UTC */
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        int sign = *s++ == '-' ? -1 : 1, zh = digits(&s, 2), zm = 0;
        if (zh < 0 || zh > 18)
            return -1;
        if ((expect(&s, ':') || *s) && ((zm = digits(&s, 2)) < 0 || zm > 59))
            return -1;
        zone = sign * (zh * 3600 + zm * 60);
    }
    if (*s)
        return -1;
    int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - zone;
    return t < 0 ? -1 : t * 1000 + ms;
}

int64_t cli_parse_duration(const char *s)
{
    /* Units in the order ISO 8601 writes them; 'M' before 'T' would be
     * months, which a duration in milliseconds cannot hold. */
    static const struct {
        char unit;
        int after_t;
        int64_t ms;
    } parts[] = {{'D', 0, 86400000}, {'H', 1, 3600000}, {'M', 1, 60000}, {'S', 1, 1000}};
    if (*s != 'P' && *s != 'p')
        return -1;
    s++;
    int64_t total = 0;
    int in_t = 0, any = 0, any_t = 0;
    size_t next = 0;
    while (*s) {
        if ((*s == 'T' || *s == 't') && !in_t) {
            in_t = 1;
            s++;
            continue;
        }
        int64_t n = 0, frac = 0, scale = 1;
        const char *start = s;
        for (; *s >= '0' && *s <= '9'; s++) {
            if (n > 1000000000)
                return -1; /* beyond any log's lifetime, and no overflow below */
            n = n * 10 + (*s - '0');
        }
        if (s == start)
            return -1;
        if (*s == '.' || *s == ',') {
            for (s++; *s >= '0' && *s <= '9'; s++)
                if (scale < 1000) {
                    frac = frac * 10 + (*s - '0');
                    scale *= 10;
                }
            if (scale == 1)
                return -1;
        }
        char unit = (char)(*s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s);
        size_t k = next;
        while (k < sizeof parts / sizeof parts[0] && parts[k].unit != unit)
            k++;
        if (k == sizeof parts / sizeof parts[0] || parts[k].after_t != in_t ||
            (scale > 1 && unit != 'S'))
            return -1;
        s++;
        total += n * parts[k].ms + frac * parts[k].ms / scale;
        next = k + 1;
        any = 1;
        any_t |= in_t;
    }
    /* "P" and "PT" say nothing, and "P1DT" ends where a time should follow. */
    if (!any || (in_t && !any_t))
        return -1;
    return total;
}

/* eddy log: work on one partition log directory without a broker, as
 * kafka-dump-log does for Kafka. Opening the log runs recovery, so `eddy log
 * info` on a crashed directory shows what recovery did. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/log/log.h"
#include "cli.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "wire/recordbatch.h"

#define RECORDS_PER_BATCH 500

static void log_usage(FILE *out)
{
    fprintf(out, "usage: eddy log <action> DIR [options]\n"
                 "\n"
                 "actions:\n"
                 "  append DIR   append one record per line of standard input\n"
                 "  read DIR     print records: offset, timestamp, key, value (a transaction\n"
                 "               marker: COMMIT/ABORT marker, producer id and epoch)\n"
                 "  info DIR     start/end offsets, segments, recovery point, and the last\n"
                 "               stable offset while transactions are open\n"
                 "  clean DIR    run retention and compaction now\n"
                 "\n"
                 "options:\n"
                 "  -c, --config KEY=VALUE  topic setting (segment.bytes, cleanup.policy, ...)\n"
                 "  -k, --key-separator S   append: text before S is the key (default: no key)\n"
                 "  -o, --offset N          read: from offset N (default: the log start)\n"
                 "  -t, --timestamp MS      read: from the first record at or after MS\n"
                 "  -n, --count N           read: at most N records\n");
}

struct log_opts {
    const char *action, *dir, *key_sep;
    int64_t offset, timestamp, count;
    log_config_t cfg;
};

static int parse_i64(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno)
        return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, struct log_opts *o)
{
    memset(o, 0, sizeof *o);
    o->offset = -1;
    o->timestamp = -1;
    o->count = -1;
    log_config_default(&o->cfg);
    int positional = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        char err[512];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            log_usage(stdout);
            exit(CLI_OK);
        } else if (a[0] == '-' && !v) {
            fprintf(stderr, "eddy log: %s needs a value\n", a);
            return -1;
        } else if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
            const char *eq = strchr(v, '=');
            char key[256];
            if (!eq || (size_t)(eq - v) >= sizeof key) {
                fprintf(stderr, "eddy log: -c wants KEY=VALUE, got '%s'\n", v);
                return -1;
            }
            snprintf(key, sizeof key, "%.*s", (int)(eq - v), v);
            if (eddy_cfg_set(log_config_defs, &o->cfg, key, eq + 1, "-c", err, sizeof err)) {
                fprintf(stderr, "eddy log: %s\n", err);
                return -1;
            }
            i++;
        } else if (!strcmp(a, "-k") || !strcmp(a, "--key-separator")) {
            o->key_sep = v;
            i++;
        } else if ((!strcmp(a, "-o") || !strcmp(a, "--offset")) && parse_i64(v, &o->offset) == 0) {
            i++;
        } else if ((!strcmp(a, "-t") || !strcmp(a, "--timestamp")) &&
                   parse_i64(v, &o->timestamp) == 0) {
            i++;
        } else if ((!strcmp(a, "-n") || !strcmp(a, "--count")) && parse_i64(v, &o->count) == 0) {
            i++;
        } else if (a[0] == '-') {
            fprintf(stderr, "eddy log: unknown option or bad value: %s %s\n", a, v ? v : "");
            return -1;
        } else if (positional == 0) {
            o->action = a;
            positional++;
        } else if (positional == 1) {
            o->dir = a;
            positional++;
        } else {
            fprintf(stderr, "eddy log: unexpected argument '%s'\n", a);
            return -1;
        }
    }
    if (!o->action || !o->dir) {
        fprintf(stderr, "eddy log: an action and a directory are required\n");
        return -1;
    }
    return 0;
}

static int do_append(log_t *log, const struct log_opts *o)
{
    eddy_wr_t wr;
    wr_init(&wr);
    wire_batch_builder_t b;
    wire_batch_header_t tmpl = wire_batch_header_default();
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int64_t total = 0, in_batch = 0;
    int rc = 0;
    for (;;) {
        n = getline(&line, &cap, stdin);
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = 0;
        if (n >= 0) {
            if (in_batch == 0)
                wire_batch_begin(&b, &wr, &tmpl);
            const char *key = NULL, *value = line;
            int32_t klen = -1;
            char *sep = o->key_sep ? strstr(line, o->key_sep) : NULL;
            if (sep) {
                key = line;
                klen = (int32_t)(sep - line);
                value = sep + strlen(o->key_sep);
            }
            wire_batch_add(&b, eddy_wall_ms(), key, klen, value, (int32_t)strlen(value), NULL, 0);
            in_batch++;
        }
        if (in_batch && (in_batch == RECORDS_PER_BATCH || n < 0)) {
            char err[512];
            log_append_info_t info;
            if ((rc = wire_batch_end(&b, 0)) == 0)
                rc = log_append(log, wr.wr_buf, wr.wr_len, WIRE_BATCH_FROM_CLIENT, eddy_wall_ms(),
                                &info, err, sizeof err);
            if (rc) {
                fprintf(stderr, "eddy log append: %s\n", err);
                break;
            }
            total += in_batch;
            in_batch = 0;
            wr_reset(&wr);
        }
        if (n < 0)
            break;
    }
    free(line);
    wr_free(&wr);
    if (rc == 0)
        printf("appended %" PRId64 " records; log offsets [%" PRId64 ", %" PRId64
               "), %d segment(s)\n",
               total, log_start_offset(log), log_end_offset(log), log_segment_count(log));
    return rc;
}

/* Prints records from a slice's batches, at most *left of them from offset. */
static int print_slice(const log_slice_t *sl, int64_t from, int64_t *left, int64_t *next)
{
    uint8_t *buf = malloc(sl->sl_len);
    if (!buf)
        return -ENOMEM;
    if (pread(sl->sl_fd, buf, sl->sl_len, sl->sl_pos) != (ssize_t)sl->sl_len) {
        free(buf);
        return -EIO;
    }
    int rc = 0;
    for (size_t pos = 0; pos < sl->sl_len && *left != 0 && rc == 0;) {
        int64_t size = wire_batch_size(buf + pos);
        wire_record_iter_t it;
        wire_record_t rec;
        char why[160];
        if ((rc = wire_record_iter_open(&it, buf + pos, (size_t)size, WIRE_INFLATE_LIMIT_DEFAULT,
                                        why, sizeof why)) < 0) {
            fprintf(stderr, "eddy: batch at file position %lld: %s\n",
                    (long long)(sl->sl_pos + (int64_t)pos), why);
            break;
        }
        *next = wire_batch_last_offset(&it.ri_hdr) + 1;
        int control = (it.ri_hdr.attributes & BATCH_ATTR_CONTROL) != 0;
        while (*left != 0 && (rc = wire_record_next(&it, &rec)) == 1) {
            rc = 0;
            if (rec.offset < from)
                continue;
            if (control) {
                /* A transaction marker: its key is version + type, not text. */
                int type = rec.keyLength >= 4 ? (int16_t)be16_load(rec.key + 2) : -1;
                printf("%" PRId64 "\t%" PRId64 "\t%s marker\tproducer %" PRId64 " epoch %d\n",
                       rec.offset, rec.timestamp,
                       type == 1   ? "COMMIT"
                       : type == 0 ? "ABORT"
                                   : "control",
                       it.ri_hdr.producerId, it.ri_hdr.producerEpoch);
            } else {
                printf("%" PRId64 "\t%" PRId64 "\t%.*s\t%.*s\n", rec.offset, rec.timestamp,
                       rec.keyLength < 0 ? 4 : rec.keyLength,
                       rec.keyLength < 0 ? "null" : (const char *)rec.key,
                       rec.valueLength < 0 ? 4 : rec.valueLength,
                       rec.valueLength < 0 ? "null" : (const char *)rec.value);
            }
            if (*left > 0)
                (*left)--;
        }
        wire_record_iter_close(&it);
        pos += (size_t)size;
    }
    free(buf);
    return rc < 0 ? rc : 0;
}

static int do_read(log_t *log, const struct log_opts *o)
{
    int64_t offset = o->offset >= 0 ? o->offset : log_start_offset(log);
    if (o->timestamp >= 0) {
        int64_t ts;
        int rc = log_offset_for_timestamp(log, o->timestamp, &offset, &ts);
        if (rc < 0)
            return rc;
        if (offset < 0) {
            printf("no record at or after timestamp %" PRId64 "\n", o->timestamp);
            return 0;
        }
    }
    int64_t left = o->count, from = offset;
    while (left != 0 && offset < log_end_offset(log)) {
        log_slice_t sl;
        int rc = log_read(log, offset, 1 << 20, &sl);
        if (rc < 0) {
            fprintf(stderr,
                    "eddy log read: offset %" PRId64 ": %s (log holds [%" PRId64 ", %" PRId64
                    "))\n",
                    offset, eddy_strerror(rc), log_start_offset(log), log_end_offset(log));
            return rc;
        }
        if (sl.sl_len == 0)
            break;
        int64_t next = offset;
        rc = print_slice(&sl, from, &left, &next);
        log_slice_release(log, &sl);
        if (rc < 0)
            return rc;
        offset = next;
    }
    return 0;
}

static void do_info(log_t *log)
{
    printf("log start offset: %" PRId64 "\nlog end offset:   %" PRId64
           "\nrecovery point:   %" PRId64 "\nsize:             %" PRId64
           " bytes\nsegments:         %d\n",
           log_start_offset(log), log_end_offset(log), log_recovery_point(log), log_size_bytes(log),
           log_segment_count(log));
    if (log_ongoing_txn_count(log) > 0)
        printf("last stable offset: %" PRId64 " (%d open transaction(s))\n",
               log_last_stable_offset(log), log_ongoing_txn_count(log));
}

int cmd_log(int argc, char **argv)
{
    struct log_opts o;
    if (parse_args(argc, argv, &o) < 0) {
        log_usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(o.action, "append") && strcmp(o.action, "read") && strcmp(o.action, "info") &&
        strcmp(o.action, "clean")) {
        fprintf(stderr, "eddy log: unknown action '%s'\n", o.action);
        log_usage(stderr);
        return CLI_USAGE;
    }
    log_fdcache_t *fdc = log_fdcache_new(64);
    log_t *log;
    char err[512];
    if (!fdc || log_open(o.dir, o.dir, &o.cfg, fdc, eddy_wall_ms(), &log, err, sizeof err) < 0) {
        fprintf(stderr, "eddy log: %s\n", fdc ? err : "out of memory");
        log_fdcache_destroy(fdc);
        return CLI_FAIL;
    }
    int rc = 0;
    if (!strcmp(o.action, "append")) {
        rc = do_append(log, &o);
    } else if (!strcmp(o.action, "read")) {
        rc = do_read(log, &o);
    } else if (!strcmp(o.action, "info")) {
        do_info(log);
    } else {
        int deleted = 0;
        int64_t before = log_size_bytes(log);
        rc = log_retention_run(log, eddy_wall_ms(), &deleted);
        if (rc == 0)
            rc = log_compact(log, eddy_wall_ms(), 1);
        if (rc == 0)
            printf("retention deleted %d segment(s); %" PRId64 " -> %" PRId64 " bytes\n", deleted,
                   before, log_size_bytes(log));
        else
            fprintf(stderr, "eddy log clean: %s\n", eddy_strerror(rc));
    }
    int crc = log_close(log);
    log_fdcache_destroy(fdc);
    if (crc < 0 && rc == 0) {
        fprintf(stderr, "eddy log: closing %s: %s\n", o.dir, eddy_strerror(crc));
        rc = crc;
    }
    return rc < 0 ? CLI_FAIL : CLI_OK;
}

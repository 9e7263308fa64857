#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#include "logtest.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "wire/recordbatch.h"

int lt_append_codec;
int lt_codecs_read;

char *lt_tmpdir(void)
{
    char tmpl[] = "/tmp/eddy-logtest-XXXXXX";
    char *d = mkdtemp(tmpl);
    ck_assert_ptr_nonnull(d);
    return strdup(d);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void lt_rmdir(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

log_config_t lt_config(void)
{
    log_config_t cfg;
    log_config_default(&cfg);
    cfg.segment_bytes = 64 * 1024;
    cfg.index_interval_bytes = 1024;
    cfg.retention_ms = -1;
    return cfg;
}

log_t *lt_open(const char *dir, const log_config_t *cfg, log_fdcache_t *fdc)
{
    log_t *log = NULL;
    char err[512] = "";
    int rc = log_open(dir, "test-0", cfg, fdc, 1700000000000LL, &log, err, sizeof err);
    ck_assert_msg(rc == 0, "log_open: %s (%s)", err, eddy_strerror(rc));
    return log;
}

int64_t lt_append(log_t *log, int n, const char *const *keys, const char *const *values,
                  const int64_t *ts, int64_t ts0)
{
    eddy_wr_t wr;
    wr_init(&wr);
    wire_batch_builder_t b;
    wire_batch_header_t tmpl = wire_batch_header_default();
    tmpl.attributes = (int16_t)lt_append_codec;
    wire_batch_begin(&b, &wr, &tmpl);
    int64_t first = log_end_offset(log);
    for (int i = 0; i < n; i++) {
        char kb[64], vb[128];
        const char *k = kb, *v = vb;
        if (keys)
            k = keys[i];
        else
            snprintf(kb, sizeof kb, "k%lld", (long long)(first + i));
        if (values)
            v = values[i];
        else
            snprintf(vb, sizeof vb, "v%lld", (long long)(first + i));
        wire_batch_add(&b, ts ? ts[i] : ts0 + i, k, k ? (int32_t)strlen(k) : -1, v,
                       v ? (int32_t)strlen(v) : -1, NULL, 0);
    }
    ck_assert_int_eq(wire_batch_end(&b, 0), 0);
    /* Records without a key in a compacted log are those written before the
     * topic became compacted: the produce path's record check refuses them
     * (test_compressed.c, unkeyed_records_refused_when_compacted), so they are
     * appended with the batch checks only. */
    int unkeyed = 0;
    for (int i = 0; keys && i < n; i++)
        unkeyed |= keys[i] == NULL;
    log_append_info_t info;
    char err[512] = "";
    int rc = log_append(log, wr.wr_buf, wr.wr_len,
                        WIRE_BATCH_FROM_CLIENT | (unkeyed ? 0 : WIRE_BATCH_CHECK_RECORDS),
                        1700000000000LL, &info, err, sizeof err);
    ck_assert_msg(rc == 0, "log_append: %s (%s)", err, eddy_strerror(rc));
    ck_assert_int_eq(info.ai_first_offset, first);
    ck_assert_int_eq(info.ai_last_offset, first + n - 1);
    wr_free(&wr);
    return first;
}

void lt_fill(log_t *log, int64_t nbatches, int per, int64_t ts0)
{
    for (int64_t i = 0; i < nbatches; i++)
        lt_append(log, per, NULL, NULL, NULL, ts0 + log_end_offset(log));
}

int64_t lt_read_all(log_t *log, trec_t **out)
{
    int64_t n = 0, cap = 1024;
    trec_t *recs = malloc((size_t)cap * sizeof *recs);
    int64_t offset = log_start_offset(log);
    lt_codecs_read = 0;
    while (offset < log_end_offset(log)) {
        log_slice_t sl;
        ck_assert_int_eq(log_read(log, offset, 256 * 1024, &sl), 0);
        if (sl.sl_len == 0)
            break;
        uint8_t *buf = malloc(sl.sl_len);
        ck_assert_int_eq(pread(sl.sl_fd, buf, sl.sl_len, sl.sl_pos), (ssize_t)sl.sl_len);
        for (size_t pos = 0; pos < sl.sl_len;) {
            wire_batch_header_t h;
            char err[256];
            int64_t size = wire_batch_validate(buf + pos, sl.sl_len - pos, WIRE_BATCH_CHECK_RECORDS,
                                               WIRE_INFLATE_LIMIT_DEFAULT, &h, err, sizeof err);
            ck_assert_msg(size > 0, "batch read back does not validate: %s", err);
            lt_codecs_read |= 1 << (h.attributes & BATCH_ATTR_CODEC_MASK);
            wire_record_iter_t it;
            wire_record_t rec;
            ck_assert_int_eq(wire_record_iter_open(&it, buf + pos, (size_t)size,
                                                   WIRE_INFLATE_LIMIT_DEFAULT, NULL, 0),
                             0);
            while (wire_record_next(&it, &rec) == 1) {
                if (rec.offset < offset)
                    continue;
                if (n == cap) {
                    cap *= 2;
                    recs = realloc(recs, (size_t)cap * sizeof *recs);
                }
                trec_t *t = &recs[n++];
                memset(t, 0, sizeof *t);
                t->offset = rec.offset;
                t->timestamp = rec.timestamp;
                t->key_null = rec.keyLength < 0;
                t->value_null = rec.valueLength < 0;
                if (rec.keyLength > 0)
                    snprintf(t->key, sizeof t->key, "%.*s", rec.keyLength, (const char *)rec.key);
                if (rec.valueLength > 0)
                    snprintf(t->value, sizeof t->value, "%.*s", rec.valueLength,
                             (const char *)rec.value);
            }
            wire_record_iter_close(&it);
            offset = wire_batch_last_offset(&h) + 1;
            pos += (size_t)size;
        }
        free(buf);
        log_slice_release(log, &sl);
    }
    *out = recs;
    return n;
}

static char *captured;
static size_t captured_len;

static void capture_sink(int level, const char *facility, const char *line, void *opaque)
{
    (void)level;
    (void)opaque;
    size_t add = strlen(facility) + strlen(line) + 4;
    captured = realloc(captured, captured_len + add + 1);
    captured_len += (size_t)sprintf(captured + captured_len, "[%s] %s\n", facility, line);
}

void lt_capture_start(void)
{
    free(captured);
    captured = calloc(1, 1);
    captured_len = 0;
    eddy_log_set_sink(capture_sink, NULL);
}

const char *lt_captured(void)
{
    return captured ? captured : "";
}

void lt_capture_stop(void)
{
    eddy_log_set_sink(NULL, NULL);
}

int64_t lt_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

int lt_count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    size_t sl = strlen(suffix);
    while (d && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l >= sl && strcmp(de->d_name + l - sl, suffix) == 0)
            n++;
    }
    if (d)
        closedir(d);
    return n;
}

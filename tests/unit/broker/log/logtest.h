/* Helpers shared by the log tests: temp directories, batch building, and
 * reading a whole log back as records. */
#ifndef EDDY_TEST_LOGTEST_H
#define EDDY_TEST_LOGTEST_H

#include <stdint.h>

#include "broker/log/log.h"
#include "broker/log/log_int.h"
#include "common/buf.h"

/* A record as read back (copied out of the log). */
typedef struct trec {
    int64_t offset, timestamp;
    char key[64];   /* key_null: no key */
    char value[128];
    int key_null, value_null;
} trec_t;

char *lt_tmpdir(void);             /* fresh directory; free() the name */
void lt_rmdir(const char *dir);    /* rm -rf */
log_config_t lt_config(void);      /* defaults, small segments for tests */
log_t *lt_open(const char *dir, const log_config_t *cfg, log_fdcache_t *fdc);

/* Appends one batch of n records: key "k<key_base+i>" (or keys[i] when keys
 * is not NULL; a NULL entry = null key), value "v<offset hint>", timestamps
 * ts[i] (or ts0+i). Returns the first offset. */
int64_t lt_append(log_t *log, int n, const char *const *keys, const char *const *values,
                  const int64_t *ts, int64_t ts0);
/* Appends n batches of per records each with keys k<o> and values v<o>,
 * timestamps ts0 + offset. */
void lt_fill(log_t *log, int64_t nbatches, int per, int64_t ts0);

/* Codec lt_append() compresses its batches with (0: none). */
extern int lt_append_codec;
/* Bit c set when lt_read_all() met a batch of codec c (reset by each call). */
extern int lt_codecs_read;

/* Reads every record from the log start to the end. *out is malloc'ed. */
int64_t lt_read_all(log_t *log, trec_t **out);

/* Log lines captured from the log module (common/log.h sink). */
void lt_capture_start(void);
const char *lt_captured(void); /* all lines, newline separated */
void lt_capture_stop(void);

int64_t lt_file_size(const char *path);
int lt_count_files(const char *dir, const char *suffix);

#endif

/* Producer ids for InitProducerId: never handed out twice, also across
 * restarts and kill -9.
 *
 * <log.dirs>/producer_ids (big-endian, replaced whole: temp, fsync, rename,
 * fsync dir):
 *    0  magic     "EPI1"
 *    4  crc       uint32  CRC-32C of bytes 8..15
 *    8  reserved  int64   every id below may have been handed out
 *
 * Ids are reserved a block of PID_BLOCK at a time, as Kafka's controller
 * hands brokers blocks of 1000: the file names the end of the block before
 * the first id of it goes out, so after a crash the next start begins at
 * that end and the unused rest of the block is skipped, never reused. A
 * missing file is a fresh data directory (ids from 0); a file that does not
 * check stops the start, since guessing could reuse an id.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/log/log_int.h"
#include "broker_int.h"
#include "common/buf.h"
#include "common/crc32c.h"
#include "common/err.h"
#include "common/log.h"

#define PID_FILE "producer_ids"
#define PID_BLOCK 1000

static int pids_write(const char *dir, int64_t reserved)
{
    uint8_t b[16];
    memcpy(b, "EPI1", 4);
    be64_store(b + 8, (uint64_t)reserved);
    be32_store(b + 4, crc32c(0, b + 8, 8));
    return log_write_file_atomic(dir, PID_FILE, b, sizeof b, 1);
}

int broker_pids_open(broker_pids_t *pa, const char *dir, char *errstr, size_t errstr_size)
{
    memset(pa, 0, sizeof *pa);
    if (!(pa->pa_dir = strdup(dir)))
        return -ENOMEM;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, PID_FILE);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return -errno;
    }
    uint8_t b[17];
    ssize_t r = pread(fd, b, sizeof b, 0);
    close(fd);
    if (r != 16 || memcmp(b, "EPI1", 4) != 0 || be32_load(b + 4) != crc32c(0, b + 8, 8) ||
        (int64_t)be64_load(b + 8) < 0) {
        snprintf(errstr, errstr_size,
                 "%s is corrupt: the broker cannot know which producer ids it handed out; "
                 "restore it from a backup (removing it lets ids be handed out again, so producers "
                 "that used this broker could have retries taken for duplicates)",
                 path);
        return EDDY_ERR_CORRUPT;
    }
    pa->pa_next = pa->pa_reserved = (int64_t)be64_load(b + 8);
    return 0;
}

int broker_pids_next(broker_pids_t *pa, int64_t *pid)
{
    if (pa->pa_next >= pa->pa_reserved) {
        int64_t end = pa->pa_next + PID_BLOCK;
        int rc = pids_write(pa->pa_dir, end);
        if (rc < 0) {
            static eddy_log_limit_t lim = EDDY_LOG_LIMIT_INIT;
            EDDY_LOG_LIMITED(EDDY_LOG_LVL_WARN, "broker", &lim, 10000,
                             "%s/" PID_FILE ": cannot reserve producer ids: %s; InitProducerId "
                             "answers COORDINATOR_LOAD_IN_PROGRESS until it can",
                             pa->pa_dir, eddy_strerror(rc));
            return rc;
        }
        pa->pa_reserved = end;
    }
    *pid = pa->pa_next++;
    return 0;
}

void broker_pids_close(broker_pids_t *pa)
{
    free(pa->pa_dir);
    pa->pa_dir = NULL;
}

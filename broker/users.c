/* The SCRAM credential store (users.h).
 *
 * <log.dirs>/scram_credentials, big-endian, replaced whole (temp file with
 * mode 0600, fsync, rename, fsync the directory):
 *
 *    0  magic       "ESC1"
 *    4  crc         uint32  CRC-32C of bytes 12..end
 *    8  count       uint32  entries that follow
 *   12  entries, each:
 *         name_len    uint16  1..SCRAM_MAX_USER
 *         name        name_len bytes (UTF-8, not NUL-terminated)
 *         mechanism   int8    1 SCRAM-SHA-256, 2 SCRAM-SHA-512 (Kafka's ids)
 *         iterations  int32   SCRAM_MIN_ITERATIONS..SCRAM_MAX_ITERATIONS
 *         salt_len    uint8   1..SCRAM_MAX_SALT
 *         salt        salt_len bytes
 *         stored_key  H bytes (H = 32 for SHA-256, 64 for SHA-512)
 *         server_key  H bytes
 *
 * Recovery: the rename makes a change all-or-nothing, so the file is the
 * old store or the new one. A missing file is an empty store (a fresh data
 * directory). A file with a wrong magic, CRC, count or field fails the start
 * with a sentence: the broker cannot tell who may log in, and guessing
 * (empty: nobody; skipping: some) is worse than asking the operator. A
 * leftover scram_credentials.tmp is an unfinished write and is ignored.
 */
#include "broker/users.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/log_int.h"
#include "common/buf.h"
#include "common/crc32c.h"
#include "common/err.h"

#define USERS_FILE "scram_credentials"
#define USERS_MAGIC "ESC1"
#define USERS_FILE_MAX (64 * 1024 * 1024)

static int find(const broker_users_t *us, const char *name, int mech)
{
    for (int i = 0; i < us->us_n; i++)
        if (us->us_users[i].bu_cred.sc_mech == mech && strcmp(us->us_users[i].bu_name, name) == 0)
            return i;
    return -1;
}

const scram_cred_t *broker_users_get(const broker_users_t *us, const char *name, int mech)
{
    int i = find(us, name, mech);
    return i < 0 ? NULL : &us->us_users[i].bu_cred;
}

int broker_users_put(broker_users_t *us, const char *name, const scram_cred_t *cred)
{
    int i = find(us, name, cred->sc_mech);
    if (i >= 0) {
        us->us_users[i].bu_cred = *cred;
        return 0;
    }
    size_t nl = strlen(name);
    if (nl == 0 || nl > SCRAM_MAX_USER || !scram_hash_len(cred->sc_mech))
        return EDDY_ERR_INVALID_ARG;
    if (us->us_n == us->us_cap) {
        int cap = us->us_cap ? us->us_cap * 2 : 8;
        broker_user_t *nu = realloc(us->us_users, (size_t)cap * sizeof *nu);
        if (!nu)
            return -ENOMEM;
        us->us_users = nu;
        us->us_cap = cap;
    }
    char *dup = strdup(name);
    if (!dup)
        return -ENOMEM;
    us->us_users[us->us_n].bu_name = dup;
    us->us_users[us->us_n].bu_cred = *cred;
    us->us_n++;
    return 0;
}

int broker_users_delete(broker_users_t *us, const char *name, int mech)
{
    int i = find(us, name, mech);
    if (i < 0)
        return -ENOENT;
    free(us->us_users[i].bu_name);
    memmove(&us->us_users[i], &us->us_users[i + 1],
            (size_t)(us->us_n - i - 1) * sizeof us->us_users[0]);
    us->us_n--;
    return 0;
}

static void drop_all(broker_users_t *us)
{
    for (int i = 0; i < us->us_n; i++) {
        free(us->us_users[i].bu_name);
        memset(&us->us_users[i].bu_cred, 0, sizeof us->us_users[i].bu_cred);
    }
    us->us_n = 0;
}

static int write_private_atomic(const char *dir, const char *name, const uint8_t *data, size_t len)
{
    char tmp[4096], dst[4096];
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, name);
    snprintf(dst, sizeof dst, "%s/%s", dir, name);
    /* 0600: StoredKey and ServerKey do not let anyone log in, but they let a
     * reader try passwords offline. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    size_t off = 0;
    int rc = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = -errno;
            break;
        }
        off += (size_t)w;
    }
    if (!rc && fsync(fd) < 0)
        rc = -errno;
    close(fd);
    if (!rc && rename(tmp, dst) < 0)
        rc = -errno;
    if (rc) {
        unlink(tmp);
        return rc;
    }
    return log_fsync_dir(dir);
}

int broker_users_save(const broker_users_t *us)
{
    eddy_wr_t wr;
    wr_init(&wr);
    wr_bytes(&wr, USERS_MAGIC, 4);
    wr_i32(&wr, 0); /* crc, below */
    wr_i32(&wr, us->us_n);
    for (int i = 0; i < us->us_n; i++) {
        const broker_user_t *u = &us->us_users[i];
        size_t hl = scram_hash_len(u->bu_cred.sc_mech);
        size_t nl = strlen(u->bu_name);
        wr_i16(&wr, (int16_t)nl);
        wr_bytes(&wr, u->bu_name, nl);
        wr_i8(&wr, (int8_t)u->bu_cred.sc_mech);
        wr_i32(&wr, u->bu_cred.sc_iterations);
        wr_i8(&wr, (int8_t)u->bu_cred.sc_salt_len);
        wr_bytes(&wr, u->bu_cred.sc_salt, u->bu_cred.sc_salt_len);
        wr_bytes(&wr, u->bu_cred.sc_stored_key, hl);
        wr_bytes(&wr, u->bu_cred.sc_server_key, hl);
    }
    if (wr.wr_err) {
        wr_free(&wr);
        return -ENOMEM;
    }
    be32_store(wr.wr_buf + 4, crc32c(0, wr.wr_buf + 8, wr.wr_len - 8));
    int rc = write_private_atomic(us->us_dir, USERS_FILE, wr.wr_buf, wr.wr_len);
    wr_free(&wr);
    return rc;
}

static int load(broker_users_t *us, char *errstr, size_t errstr_size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", us->us_dir, USERS_FILE);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        int e = errno;
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    uint8_t *buf = NULL;
    int rc = 0;
    if (fstat(fd, &st) < 0 || st.st_size < 12 || st.st_size > USERS_FILE_MAX)
        goto corrupt;
    size_t len = (size_t)st.st_size;
    if (!(buf = malloc(len))) {
        close(fd);
        return -ENOMEM;
    }
    if (pread(fd, buf, len, 0) != (ssize_t)len)
        goto corrupt;
    if (memcmp(buf, USERS_MAGIC, 4) != 0 || be32_load(buf + 4) != crc32c(0, buf + 8, len - 8))
        goto corrupt;
    eddy_rd_t rd;
    rd_init(&rd, buf + 8, len - 8);
    int32_t n = rd_i32(&rd);
    if (n < 0)
        goto corrupt;
    for (int32_t i = 0; i < n && !rd.rd_err; i++) {
        char name[SCRAM_MAX_USER + 1];
        scram_cred_t cred;
        memset(&cred, 0, sizeof cred);
        int16_t nl = rd_i16(&rd);
        const uint8_t *np = rd_bytes(&rd, nl > 0 ? (size_t)nl : 0);
        cred.sc_mech = rd_i8(&rd);
        cred.sc_iterations = rd_i32(&rd);
        size_t sl = (uint8_t)rd_i8(&rd);
        size_t hl = scram_hash_len(cred.sc_mech);
        if (rd.rd_err || nl <= 0 || nl > SCRAM_MAX_USER || !hl || sl == 0 || sl > SCRAM_MAX_SALT ||
            cred.sc_iterations < SCRAM_MIN_ITERATIONS || cred.sc_iterations > SCRAM_MAX_ITERATIONS)
            goto corrupt;
        memcpy(name, np, (size_t)nl);
        name[nl] = '\0';
        if (strlen(name) != (size_t)nl)
            goto corrupt;
        const uint8_t *salt = rd_bytes(&rd, sl);
        const uint8_t *sk = rd_bytes(&rd, hl);
        const uint8_t *vk = rd_bytes(&rd, hl);
        if (rd.rd_err)
            goto corrupt;
        cred.sc_salt_len = sl;
        memcpy(cred.sc_salt, salt, sl);
        memcpy(cred.sc_stored_key, sk, hl);
        memcpy(cred.sc_server_key, vk, hl);
        if (find(us, name, cred.sc_mech) >= 0)
            goto corrupt;
        if ((rc = broker_users_put(us, name, &cred)) < 0)
            goto out;
    }
    if (rd.rd_err || rd_remaining(&rd) != 0)
        goto corrupt;
    goto out;
corrupt:
    drop_all(us);
    snprintf(errstr, errstr_size,
             "%s is corrupt: the broker cannot tell who may log in with SCRAM or PLAIN; restore "
             "it from a backup, or move it away and add the users again (eddy user add, or "
             "kafka-configs --alter --add-config 'SCRAM-SHA-256=[password=...]')",
             path);
    rc = EDDY_ERR_CORRUPT;
out:
    free(buf);
    close(fd);
    return rc;
}

int broker_users_open(broker_users_t *us, const char *dir, char *errstr, size_t errstr_size)
{
    memset(us, 0, sizeof *us);
    if (!(us->us_dir = strdup(dir)))
        return -ENOMEM;
    int rc = load(us, errstr, errstr_size);
    if (rc < 0)
        broker_users_close(us);
    return rc;
}

int broker_users_reload(broker_users_t *us, char *errstr, size_t errstr_size)
{
    drop_all(us);
    return load(us, errstr, errstr_size);
}

void broker_users_close(broker_users_t *us)
{
    drop_all(us);
    free(us->us_users);
    free(us->us_dir);
    memset(us, 0, sizeof *us);
}

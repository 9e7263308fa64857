#define _GNU_SOURCE
#include "broker_harness.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wire/recordbatch.h"

static const char *eddy_bin(void)
{
    const char *b = getenv("EDDY_BIN");
    ck_assert_msg(b != NULL, "EDDY_BIN must name the eddy binary");
    return b;
}

/* Brokers started by this test process, cleaned up at exit even when an
 * assertion ends the test early. */
static test_broker_t *started[8];
static int nstarted;

static void cleanup_at_exit(void)
{
    for (int i = 0; i < nstarted; i++)
        tb_cleanup(started[i]);
    nstarted = 0;
}

void tb_start(test_broker_t *tb, int reuse_dir, const char *const *sets)
{
    int known = 0;
    for (int i = 0; i < nstarted; i++)
        known |= started[i] == tb;
    if (!known && nstarted < 8) {
        if (nstarted == 0)
            atexit(cleanup_at_exit);
        started[nstarted++] = tb;
    }
    if (!reuse_dir) {
        snprintf(tb->tb_dir, sizeof tb->tb_dir, "/tmp/eddy-it-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tb->tb_dir));
    }
    snprintf(tb->tb_log, sizeof tb->tb_log, "%s.log", tb->tb_dir);
    char listen[64];
    if (reuse_dir && tb->tb_port)
        snprintf(listen, sizeof listen, "127.0.0.1:%d", tb->tb_port);
    else
        snprintf(listen, sizeof listen, "127.0.0.1:0");
    const char *argv[64];
    int n = 0;
    argv[n++] = eddy_bin();
    argv[n++] = "broker";
    argv[n++] = "--data-dir";
    argv[n++] = tb->tb_dir;
    argv[n++] = "--listen";
    argv[n++] = listen;
    for (int i = 0; sets && sets[i] && n < 60; i++) {
        argv[n++] = "--set";
        argv[n++] = sets[i];
    }
    argv[n] = NULL;
    truncate(tb->tb_log, 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
        int fd = open(tb->tb_log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 2);
        dup2(fd, 1);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    tb->tb_pid = pid;
    /* The broker logs the port it bound (after opening every partition:
     * tens of thousands take seconds on a loaded machine). */
    for (int i = 0; i < 6000; i++) {
        FILE *f = fopen(tb->tb_log, "r");
        char line[1024];
        while (f && fgets(line, sizeof line, f)) {
            const char *p = strstr(line, "listening on 127.0.0.1:");
            if (p) {
                tb->tb_port = atoi(p + strlen("listening on 127.0.0.1:"));
                fclose(f);
                return;
            }
        }
        if (f)
            fclose(f);
        int status;
        ck_assert_msg(waitpid(pid, &status, WNOHANG) == 0, "broker exited at start-up");
        usleep(10000);
    }
    ck_abort_msg("broker did not start within 60 s");
}

int tb_stop(test_broker_t *tb)
{
    int status = -1;
    if (tb->tb_pid <= 0)
        return -1;
    kill(tb->tb_pid, SIGTERM);
    /* A bound, not a measurement: closing tens of thousands of partitions
     * takes seconds on a loaded machine. */
    for (int i = 0; i < 6000; i++) {
        if (waitpid(tb->tb_pid, &status, WNOHANG) == tb->tb_pid) {
            tb->tb_pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        usleep(10000);
    }
    tb_kill9(tb);
    return -1;
}

void tb_kill9(test_broker_t *tb)
{
    if (tb->tb_pid > 0) {
        kill(tb->tb_pid, SIGKILL);
        waitpid(tb->tb_pid, NULL, 0);
        tb->tb_pid = 0;
    }
}

void tb_cleanup(test_broker_t *tb)
{
    tb_kill9(tb);
    if (!tb->tb_dir[0])
        return;
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", tb->tb_dir, tb->tb_log);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup failed: %s\n", cmd);
    tb->tb_dir[0] = 0;
}

int tb_log_contains(const test_broker_t *tb, const char *needle)
{
    FILE *f = fopen(tb->tb_log, "r");
    char line[2048];
    int found = 0;
    while (f && !found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    if (f)
        fclose(f);
    return found;
}

long tb_rss_kb(const test_broker_t *tb)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)tb->tb_pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = atol(line + 6);
    if (f)
        fclose(f);
    return kb;
}

int tb_connect(const test_broker_t *tb)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)tb->tb_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

void tb_request_begin(eddy_wr_t *wr, int16_t api, int16_t version, int32_t corr)
{
    wr_reset(wr);
    wr_i32(wr, 0);
    wr_i16(wr, api);
    wr_i16(wr, version);
    wr_i32(wr, corr);
    wr_i16(wr, 4);
    wr_bytes(wr, "test", 4);
}

int tb_send_raw(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int tb_send(int fd, eddy_wr_t *wr)
{
    be32_store(wr->wr_buf, (uint32_t)(wr->wr_len - 4));
    return tb_send_raw(fd, wr->wr_buf, wr->wr_len);
}

static int recv_full(int fd, uint8_t *p, size_t n, int timeout_ms)
{
    while (n) {
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, timeout_ms) <= 0)
            return -1;
        ssize_t r = recv(fd, p, n, 0);
        if (r <= 0)
            return 0;
        p += r;
        n -= (size_t)r;
    }
    return 1;
}

ssize_t tb_recv(int fd, uint8_t **out, int timeout_ms)
{
    uint8_t sz[4];
    int rc = recv_full(fd, sz, 4, timeout_ms);
    if (rc <= 0)
        return rc;
    uint32_t n = be32_load(sz);
    ck_assert_uint_lt(n, 256u << 20);
    *out = malloc(n ? n : 1);
    rc = recv_full(fd, *out, n, timeout_ms);
    if (rc <= 0) {
        free(*out);
        return rc;
    }
    return (ssize_t)n;
}

int tb_closed_by_peer(int fd, int timeout_ms)
{
    uint8_t b[4096];
    for (;;) {
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, timeout_ms) <= 0)
            return 0;
        ssize_t r = recv(fd, b, sizeof b, 0);
        if (r <= 0)
            return 1;
    }
}

void tb_batch(eddy_wr_t *wr, int n, int value_size, int64_t ts)
{
    wire_batch_builder_t b;
    wire_batch_header_t tmpl = wire_batch_header_default();
    wire_batch_begin(&b, wr, &tmpl);
    char *v = malloc((size_t)value_size + 1);
    memset(v, 'x', (size_t)value_size);
    for (int i = 0; i < n; i++) {
        char k[32];
        int kl = snprintf(k, sizeof k, "key-%d", i);
        wire_batch_add(&b, ts + i, k, kl, v, value_size, NULL, 0);
    }
    wire_batch_end(&b, 0);
    free(v);
}

/* ---- requests the tests share ---- */

void tb_wr_str(eddy_wr_t *wr, const char *s)
{
    wr_i16(wr, (int16_t)strlen(s));
    wr_bytes(wr, s, strlen(s));
}

void tb_recv_resp(int fd, int32_t corr, uint8_t **body, eddy_rd_t *rd)
{
    ssize_t n = tb_recv(fd, body, 120000); /* a bound, not a measurement */
    ck_assert_int_gt(n, 4);
    rd_init(rd, *body, (size_t)n);
    ck_assert_int_eq(rd_i32(rd), corr);
}

void tb_roundtrip(int fd, eddy_wr_t *wr, int32_t corr, uint8_t **body, eddy_rd_t *rd)
{
    ck_assert_int_eq(tb_send(fd, wr), 0);
    tb_recv_resp(fd, corr, body, rd);
}

int16_t tb_metadata_topic(int fd, const char *topic, int32_t *partitions)
{
    eddy_wr_t wr;
    wr_init(&wr);
    tb_request_begin(&wr, 3, 1, 5);
    wr_i32(&wr, 1);
    tb_wr_str(&wr, topic);
    uint8_t *body;
    eddy_rd_t rd;
    tb_roundtrip(fd, &wr, 5, &body, &rd);
    int32_t nb = rd_i32(&rd);
    for (int i = 0; i < nb; i++) { /* brokers: node, host, port, rack */
        rd_i32(&rd);
        rd_skip(&rd, (size_t)rd_i16(&rd));
        rd_i32(&rd);
        int16_t rl = rd_i16(&rd);
        if (rl > 0)
            rd_skip(&rd, (size_t)rl);
    }
    rd_i32(&rd); /* controller */
    ck_assert_int_eq(rd_i32(&rd), 1);
    int16_t err = rd_i16(&rd);
    rd_skip(&rd, (size_t)rd_i16(&rd));
    rd_i8(&rd);
    *partitions = rd_i32(&rd);
    ck_assert_int_eq(rd.rd_err, 0);
    free(body);
    wr_free(&wr);
    return err;
}

int16_t tb_create_topic(int fd, const char *name, int32_t partitions, int16_t rf)
{
    eddy_wr_t wr;
    wr_init(&wr);
    tb_request_begin(&wr, 19, 1, 9);
    wr_i32(&wr, 1);
    tb_wr_str(&wr, name);
    wr_i32(&wr, partitions);
    wr_i16(&wr, rf);
    wr_i32(&wr, 0);
    wr_i32(&wr, 0);
    wr_i32(&wr, 5000);
    wr_i8(&wr, 0);
    uint8_t *body;
    eddy_rd_t rd;
    tb_roundtrip(fd, &wr, 9, &body, &rd);
    ck_assert_int_eq(rd_i32(&rd), 1);
    rd_skip(&rd, (size_t)rd_i16(&rd));
    int16_t err = rd_i16(&rd);
    ck_assert_int_eq(rd.rd_err, 0);
    free(body);
    wr_free(&wr);
    return err;
}

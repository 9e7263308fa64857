/* The mock cluster's process for the client tests: see mock_harness.h. */
#define _GNU_SOURCE
#include "mock_harness.h"

#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"

#ifndef MOCK_HOST_DEFAULT
#define MOCK_HOST_DEFAULT "mock_cluster_host"
#endif

extern char **environ;

/* Fails the test when the mock's process has ended; says how. */
void mock_assert_alive(mock_t *mk)
{
    int st;
    pid_t r = waitpid(mk->mk_pid, &st, WNOHANG);
    if (r != mk->mk_pid)
        return;
    mk->mk_pid = -1;
    if (WIFSIGNALED(st))
        ck_abort_msg("librdkafka's mock cluster (mock_cluster_host) died of signal %d (%s): "
                     "the mock crashed, not Eddy's client",
                     WTERMSIG(st), strsignal(WTERMSIG(st)));
    ck_abort_msg("librdkafka's mock cluster (mock_cluster_host) exited with status %d",
                 WEXITSTATUS(st));
}

/* One line of the mock's answers, without the newline, within timeout_ms. */
void mock_read_line(mock_t *mk, char *line, size_t size, int timeout_ms)
{
    int64_t deadline = eddy_mono_ms() + timeout_ms;
    for (;;) {
        char *nl = memchr(mk->mk_buf, '\n', mk->mk_len);
        if (nl) {
            size_t n = (size_t)(nl - mk->mk_buf);
            snprintf(line, size, "%.*s", (int)n, mk->mk_buf);
            mk->mk_len -= n + 1;
            memmove(mk->mk_buf, nl + 1, mk->mk_len);
            return;
        }
        int64_t left = deadline - eddy_mono_ms();
        if (left <= 0)
            break;
        struct pollfd pf = {mk->mk_answer, POLLIN, 0};
        if (poll(&pf, 1, (int)left) <= 0)
            continue;
        ssize_t r = read(mk->mk_answer, mk->mk_buf + mk->mk_len,
                         sizeof mk->mk_buf - 1 - mk->mk_len);
        if (r == 0) {
            /* Closed: the process is gone or going; give it a moment to be reaped. */
            for (int i = 0; i < 500 && mk->mk_pid > 0; i++) {
                mock_assert_alive(mk);
                usleep(10000);
            }
            ck_abort_msg("the mock cluster closed its output");
        }
        if (r > 0)
            mk->mk_len += (size_t)r;
    }
    mock_assert_alive(mk);
    ck_abort_msg("the mock cluster did not answer within %d ms", timeout_ms);
}

void mock_start(mock_t *mk, int nbrokers)
{
    memset(mk, 0, sizeof *mk);
    const char *bin = getenv("MOCK_HOST_BIN");
    if (!bin || !*bin)
        bin = MOCK_HOST_DEFAULT;
    int in[2], out[2];
    ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
    ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    /* The test ignores SIGPIPE; the mock gets the default back. */
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t def;
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF);
    char n[16];
    snprintf(n, sizeof n, "%d", nbrokers);
    char *argv[] = {(char *)bin, n, NULL};
    int rc = posix_spawn(&mk->mk_pid, bin, &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(in[0]);
    close(out[1]);
    ck_assert_msg(rc == 0, "cannot start %s: %s", bin, strerror(rc));
    mk->mk_cmd = in[1];
    mk->mk_answer = out[0];
    char line[1024];
    mock_read_line(mk, line, sizeof line, 10000);
    ck_assert_msg(strncmp(line, "bootstrap ", 10) == 0, "mock: '%s'", line);
    snprintf(mk->mk_bootstrap, sizeof mk->mk_bootstrap, "%s", line + 10);
}

/* Sends a command; returns once the mock has applied it. */
void mock_cmd(mock_t *mk, const char *fmt, ...)
{
    char cmd[512], line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    size_t len = strlen(cmd);
    cmd[len++] = '\n';
    if (write(mk->mk_cmd, cmd, len) != (ssize_t)len)
        mock_assert_alive(mk);
    mock_read_line(mk, line, sizeof line, 10000);
    cmd[len - 1] = 0;
    ck_assert_msg(strcmp(line, "ok") == 0, "mock: '%s' answered '%s'", cmd, line);
}

/* EOF on its stdin ends the mock; it must exit cleanly within 10 s. */
void mock_stop(mock_t *mk)
{
    close(mk->mk_cmd);
    for (int i = 0; i < 1000 && mk->mk_pid > 0; i++) {
        int st;
        if (waitpid(mk->mk_pid, &st, WNOHANG) == mk->mk_pid) {
            mk->mk_pid = -1;
            close(mk->mk_answer);
            ck_assert_msg(!WIFSIGNALED(st),
                          "librdkafka's mock cluster died of signal %d (%s) while shutting down: "
                          "the mock crashed, not Eddy's client",
                          WIFSIGNALED(st) ? WTERMSIG(st) : 0,
                          strsignal(WIFSIGNALED(st) ? WTERMSIG(st) : 0));
            ck_assert_msg(WEXITSTATUS(st) == 0, "the mock cluster exited with %d", WEXITSTATUS(st));
            return;
        }
        usleep(10000);
    }
    kill(mk->mk_pid, SIGKILL);
    waitpid(mk->mk_pid, NULL, 0);
    ck_abort_msg("the mock cluster did not exit within 10 s of EOF");
}

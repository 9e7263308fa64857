/* librdkafka's mock cluster in a process of its own (mock_cluster_host.c),
 * driven by line commands on its stdin, for the tests that run Eddy's client
 * against it (client_mock_cluster.c, client_txn_mock.c). A separate process
 * means a crash of the mock is reported as such and never taken for a crash
 * of Eddy's client. The helpers fail the running check test on any error.
 */
#ifndef EDDY_TESTS_MOCK_HARNESS_H
#define EDDY_TESTS_MOCK_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

typedef struct mock {
    pid_t mk_pid;
    int mk_cmd;    /* its stdin */
    int mk_answer; /* its stdout */
    char mk_buf[4096];
    size_t mk_len;
    char mk_bootstrap[1024];
} mock_t;

/* Starts the mock with nbrokers brokers (MOCK_HOST_BIN, else the one built
 * beside the test) and waits for its bootstrap address in mk_bootstrap. */
void mock_start(mock_t *mk, int nbrokers);

/* Fails the test when the mock's process has ended; says how. */
void mock_assert_alive(mock_t *mk);

/* One line of the mock's answers, without the newline, within timeout_ms. */
void mock_read_line(mock_t *mk, char *line, size_t size, int timeout_ms);

/* Sends a command; returns once the mock has applied it. */
void mock_cmd(mock_t *mk, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* EOF on its stdin ends the mock; it must exit cleanly within 10 s. */
void mock_stop(mock_t *mk);

#endif

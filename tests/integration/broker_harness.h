/* A real broker process for integration tests: started from the built
 * `eddy` binary on 127.0.0.1 with a free port and a fresh data directory,
 * spoken to over raw TCP with hand-built Kafka requests. */
#ifndef EDDY_TEST_BROKER_HARNESS_H
#define EDDY_TEST_BROKER_HARNESS_H

#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"

typedef struct test_broker {
    pid_t tb_pid;
    int tb_port;
    char tb_dir[256];
    char tb_log[300];
} test_broker_t;

/* Starts `eddy broker` (path from EDDY_BIN) with extra "--set k=v" args
 * (NULL-terminated). reuse_dir: keep tb->tb_dir as it is (restart). */
void tb_start(test_broker_t *tb, int reuse_dir, const char *const *sets);
int tb_stop(test_broker_t *tb);  /* SIGTERM; returns the exit status */
void tb_kill9(test_broker_t *tb);
void tb_cleanup(test_broker_t *tb); /* rm -rf the data dir */
int tb_log_contains(const test_broker_t *tb, const char *needle);
long tb_rss_kb(const test_broker_t *tb);

int tb_connect(const test_broker_t *tb);
/* Request: header v1 (api, version, correlation id, client id "test") + body. */
void tb_request_begin(eddy_wr_t *wr, int16_t api, int16_t version, int32_t corr);
int tb_send(int fd, eddy_wr_t *wr); /* fills the size prefix, sends */
int tb_send_raw(int fd, const void *p, size_t n);
/* Receives one response frame (malloc'ed, without the size) within timeout;
 * returns its length, 0 when the peer closed, -1 on timeout. */
ssize_t tb_recv(int fd, uint8_t **out, int timeout_ms);
/* 1 when the peer closes within timeout_ms. */
int tb_closed_by_peer(int fd, int timeout_ms);

/* Requests the tests share, on the raw protocol (ck_assert on malformed
 * answers). tb_wr_str: an int16-length string. tb_recv_resp: the response
 * to corr (within a hang guard, not a measurement): 0 and *body (malloc'ed,
 * the caller frees) with rd after the correlation id. tb_roundtrip: sends wr
 * first. */
void tb_wr_str(eddy_wr_t *wr, const char *s);
void tb_recv_resp(int fd, int32_t corr, uint8_t **body, eddy_rd_t *rd);
void tb_roundtrip(int fd, eddy_wr_t *wr, int32_t corr, uint8_t **body, eddy_rd_t *rd);
/* Metadata v1 for one topic: its error code and *partitions. */
int16_t tb_metadata_topic(int fd, const char *topic, int32_t *partitions);
/* CreateTopics v1 of one topic (replication factor rf, timeout 5 s): its
 * error code. */
int16_t tb_create_topic(int fd, const char *name, int32_t partitions, int16_t rf);

/* A one-batch records blob (for Produce). */
void tb_batch(eddy_wr_t *wr, int n, int value_size, int64_t ts);

#endif

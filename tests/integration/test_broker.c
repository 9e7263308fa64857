/* The broker process under bad input and at stop and crash: each test
 * starts a real `eddy broker` on 127.0.0.1 and speaks raw Kafka to it. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker_harness.h"
#include "check_helpers.h"
#include "wire/recordbatch.h"

#define T0 1700000000000LL

static int16_t produce(int fd, const char *topic, int32_t part, int16_t acks, eddy_wr_t *batch,
                       int32_t corr, int64_t *base)
{
    eddy_wr_t wr;
    wr_init(&wr);
    tb_request_begin(&wr, 0, 3, corr);
    wr_i16(&wr, -1); /* transactional id */
    wr_i16(&wr, acks);
    wr_i32(&wr, 5000);
    wr_i32(&wr, 1);
    tb_wr_str(&wr, topic);
    wr_i32(&wr, 1);
    wr_i32(&wr, part);
    wr_i32(&wr, (int32_t)batch->wr_len);
    wr_bytes(&wr, batch->wr_buf, batch->wr_len);
    if (acks == 0) {
        ck_assert_int_eq(tb_send(fd, &wr), 0);
        wr_free(&wr);
        return 0;
    }
    uint8_t *body;
    eddy_rd_t rd;
    tb_roundtrip(fd, &wr, corr, &body, &rd);
    ck_assert_int_eq(rd_i32(&rd), 1);
    rd_skip(&rd, (size_t)rd_i16(&rd));
    ck_assert_int_eq(rd_i32(&rd), 1);
    ck_assert_int_eq(rd_i32(&rd), part);
    int16_t err = rd_i16(&rd);
    int64_t b = rd_i64(&rd);
    if (base)
        *base = b;
    ck_assert_int_eq(rd.rd_err, 0);
    free(body);
    wr_free(&wr);
    return err;
}

/* Latest offset via ListOffsets v1. */
static int64_t end_offset(int fd, const char *topic, int32_t part, int16_t *err)
{
    eddy_wr_t wr;
    wr_init(&wr);
    tb_request_begin(&wr, 2, 1, 77);
    wr_i32(&wr, -1);
    wr_i32(&wr, 1);
    tb_wr_str(&wr, topic);
    wr_i32(&wr, 1);
    wr_i32(&wr, part);
    wr_i64(&wr, -1);
    uint8_t *body;
    eddy_rd_t rd;
    tb_roundtrip(fd, &wr, 77, &body, &rd);
    ck_assert_int_eq(rd_i32(&rd), 1);
    rd_skip(&rd, (size_t)rd_i16(&rd));
    ck_assert_int_eq(rd_i32(&rd), 1);
    ck_assert_int_eq(rd_i32(&rd), part);
    *err = rd_i16(&rd);
    rd_i64(&rd);
    int64_t off = rd_i64(&rd);
    ck_assert_int_eq(rd.rd_err, 0);
    free(body);
    wr_free(&wr);
    return off;
}

/* A request announcing more than socket.request.max.bytes: the connection
 * closes at once (nothing allocated for it: a 2 GB announcement costs no
 * memory), the log names the peer, other clients carry on. */
START_TEST(oversized_request_closes_connection)
{
    test_broker_t tb = {0};
    const char *sets[] = {"socket.request.max.bytes=100000", NULL};
    tb_start(&tb, 0, sets);
    long rss0 = tb_rss_kb(&tb);
    int fd = tb_connect(&tb);
    uint8_t huge[8] = {0x7f, 0xff, 0xff, 0xf0, 0, 18, 0, 0};
    ck_assert_int_eq(tb_send_raw(fd, huge, sizeof huge), 0);
    ck_assert(tb_closed_by_peer(fd, 3000));
    close(fd);
    ck_assert_int_lt(tb_rss_kb(&tb) - rss0, 20000);
    ck_assert(tb_log_contains(&tb, "socket.request.max.bytes"));
    ck_assert(tb_log_contains(&tb, "closing connection from 127.0.0.1:"));
    fd = tb_connect(&tb);
    int32_t parts;
    ck_assert_int_eq(tb_metadata_topic(fd, "still-alive", &parts), 0);
    ck_assert_int_eq(parts, 1);
    close(fd);
    ck_assert_int_eq(tb_stop(&tb), 0);
    tb_cleanup(&tb);
}
END_TEST

/* A malformed request closes that connection with one log line naming the
 * peer and the API; a second client is not disturbed. */
START_TEST(malformed_request_closes_one_connection)
{
    test_broker_t tb = {0};
    tb_start(&tb, 0, NULL);
    int other = tb_connect(&tb);
    int32_t parts;
    ck_assert_int_eq(tb_metadata_topic(other, "t1", &parts), 0);
    int fd = tb_connect(&tb);
    eddy_wr_t wr;
    wr_init(&wr);
    tb_request_begin(&wr, 3, 1, 1);
    wr_i32(&wr, 1000000); /* a million topic names in zero bytes */
    ck_assert_int_eq(tb_send(fd, &wr), 0);
    ck_assert(tb_closed_by_peer(fd, 3000));
    close(fd);
    ck_assert(tb_log_contains(&tb, "malformed Metadata v1 request"));
    ck_assert_int_eq(tb_metadata_topic(other, "t1", &parts), 0);
    close(other);
    wr_free(&wr);
    ck_assert_int_eq(tb_stop(&tb), 0);
    tb_cleanup(&tb);
}
END_TEST

/* Versions outside the advertised ranges get UNSUPPORTED_VERSION (35); an
 * ApiVersions request gets it in a v0 body listing what is supported. */
START_TEST(unsupported_version)
{
    test_broker_t tb = {0};
    tb_start(&tb, 0, NULL);
    int fd = tb_connect(&tb);
    eddy_wr_t wr;
    wr_init(&wr);
    uint8_t *body;
    eddy_rd_t rd;
    tb_request_begin(&wr, 18, 9, 3);
    wr_i8(&wr, 0); /* a flexible version: header v2 ends with tagged fields */
    tb_roundtrip(fd, &wr, 3, &body, &rd);
    ck_assert_int_eq(rd_i16(&rd), 35);
    int32_t n = rd_i32(&rd);
    ck_assert_int_gt(n, 5);
    int found_produce = 0;
    for (int i = 0; i < n; i++) {
        int16_t key = rd_i16(&rd), min = rd_i16(&rd), max = rd_i16(&rd);
        if (key == 0) {
            found_produce = 1;
            ck_assert(min <= 3 && max >= 3);
        }
    }
    ck_assert(found_produce);
    free(body);
    /* Metadata v13, past what Eddy serves; flexible: header v2 */
    tb_request_begin(&wr, 3, 13, 4);
    wr_i8(&wr, 0);
    tb_roundtrip(fd, &wr, 4, &body, &rd);
    ck_assert_int_eq(rd_i8(&rd), 0); /* response header v1: no tagged fields */
    ck_assert_int_eq(rd_i16(&rd), 35);
    free(body);
    /* The connection still works. */
    int32_t parts;
    ck_assert_int_eq(tb_metadata_topic(fd, "t", &parts), 0);
    close(fd);
    wr_free(&wr);
    ck_assert_int_eq(tb_stop(&tb), 0);
    tb_cleanup(&tb);
}
END_TEST

/* Over message.max.bytes: MESSAGE_TOO_LARGE; a corrupt batch:
 * CORRUPT_MESSAGE; neither appends anything. */
START_TEST(bad_batches_append_nothing)
{
    test_broker_t tb = {0};
    const char *sets[] = {"message.max.bytes=2000", NULL};
    tb_start(&tb, 0, sets);
    int fd = tb_connect(&tb);
    int32_t parts;
    ck_assert_int_eq(tb_metadata_topic(fd, "t", &parts), 0);
    eddy_wr_t batch;
    wr_init(&batch);
    tb_batch(&batch, 30, 100, T0);
    ck_assert_int_eq(produce(fd, "t", 0, 1, &batch, 10, NULL), 10);
    wr_reset(&batch);
    tb_batch(&batch, 3, 10, T0);
    batch.wr_buf[batch.wr_len - 3] ^= 1;
    ck_assert_int_eq(produce(fd, "t", 0, 1, &batch, 11, NULL), 2);
    int16_t err;
    ck_assert_int_eq(end_offset(fd, "t", 0, &err), 0);
    ck_assert_int_eq(err, 0);
    /* A good one still goes in at offset 0. */
    wr_reset(&batch);
    tb_batch(&batch, 3, 10, T0);
    int64_t base = -1;
    ck_assert_int_eq(produce(fd, "t", 0, 1, &batch, 12, &base), 0);
    ck_assert_int_eq(base, 0);
    ck_assert_int_eq(end_offset(fd, "t", 0, &err), 3);
    close(fd);
    wr_free(&batch);
    ck_assert_int_eq(tb_stop(&tb), 0);
    tb_cleanup(&tb);
}
END_TEST

/* auto.create.topics.enable=false: unknown topics are
 * UNKNOWN_TOPIC_OR_PARTITION for metadata and produce; bad names are
 * INVALID_TOPIC_EXCEPTION; replication factor > 1 is refused. */
START_TEST(unknown_topics_and_names)
{
    test_broker_t tb = {0};
    const char *sets[] = {"auto.create.topics.enable=false", NULL};
    tb_start(&tb, 0, sets);
    int fd = tb_connect(&tb);
    int32_t parts;
    ck_assert_int_eq(tb_metadata_topic(fd, "nope", &parts), 3);
    eddy_wr_t batch;
    wr_init(&batch);
    tb_batch(&batch, 1, 10, T0);
    ck_assert_int_eq(produce(fd, "nope", 0, 1, &batch, 20, NULL), 3);
    ck_assert_int_eq(tb_create_topic(fd, "a/b", 1, 1), 17);
    ck_assert_int_eq(tb_create_topic(fd, ".", 1, 1), 17);
    ck_assert_int_eq(tb_create_topic(fd, "..", 1, 1), 17);
    char longname[251];
    memset(longname, 'n', 250);
    longname[250] = 0;
    ck_assert_int_eq(tb_create_topic(fd, longname, 1, 1), 17);
    longname[249] = 0;
    ck_assert_int_eq(tb_create_topic(fd, longname, 1, 1), 0);
    ck_assert_int_eq(tb_create_topic(fd, "rf3", 1, 3), 38);
    ck_assert_int_eq(tb_create_topic(fd, "zero", 0, 1), 37);
    ck_assert_int_eq(tb_create_topic(fd, "ok.topic_1-x", 4, -1), 0);
    ck_assert_int_eq(tb_create_topic(fd, "ok.topic_1-x", 4, -1), 36);
    ck_assert_int_eq(tb_metadata_topic(fd, "ok.topic_1-x", &parts), 0);
    ck_assert_int_eq(parts, 4);
    ck_assert_int_eq(produce(fd, "ok.topic_1-x", 4, 1, &batch, 21, NULL), 3);
    close(fd);
    wr_free(&batch);
    ck_assert_int_eq(tb_stop(&tb), 0);
    tb_cleanup(&tb);
}
END_TEST

/* acks=0 gets no response; responses still come in request order. */
START_TEST(acks_zero_is_silent_and_order_kept)
{
    test_broker_t tb = {0};
    tb_start(&tb, 0, NULL);
    int fd = tb_connect(&tb);
    int32_t parts;
    ck_assert_int_eq(tb_metadata_topic(fd, "t", &parts), 0);
    eddy_wr_t batch;
    wr_init(&batch);
    tb_batch(&batch, 5, 10, T0);
    produce(fd, "t", 0, 0, &batch, 30, NULL); /* no response */
    wr_reset(&batch);
    tb_batch(&batch, 5, 10, T0);
    int64_t base;
    ck_assert_int_eq(produce(fd, "t", 0, 1, &batch, 31, &base), 0); /* answers 31 next */
    ck_assert_int_eq(base, 5);
    close(fd);
    wr_free(&batch);
    ck_assert_int_eq(tb_stop(&tb), 0);
    tb_cleanup(&tb);
}
END_TEST

/* SIGTERM: exit 0 with clean-shutdown markers; kill -9: every acknowledged
 * record is there after restart; topics and their partition counts too. */
START_TEST(stop_crash_restart)
{
    test_broker_t tb = {0};
    tb_start(&tb, 0, NULL);
    int fd = tb_connect(&tb);
    ck_assert_int_eq(tb_create_topic(fd, "durable", 3, 1), 0);
    eddy_wr_t batch;
    wr_init(&batch);
    int64_t acked = 0;
    for (int i = 0; i < 50; i++) {
        wr_reset(&batch);
        tb_batch(&batch, 20, 50, T0 + i);
        ck_assert_int_eq(produce(fd, "durable", i % 3, -1, &batch, 100 + i, NULL), 0);
        acked += 20;
    }
    close(fd);
    tb_kill9(&tb);
    char marker[400];
    snprintf(marker, sizeof marker, "%s/durable-0/.clean_shutdown", tb.tb_dir);
    ck_assert_int_ne(access(marker, F_OK), 0);
    tb_start(&tb, 1, NULL);
    fd = tb_connect(&tb);
    int32_t parts;
    ck_assert_int_eq(tb_metadata_topic(fd, "durable", &parts), 0);
    ck_assert_int_eq(parts, 3);
    int64_t total = 0;
    int16_t err;
    for (int p = 0; p < 3; p++) {
        total += end_offset(fd, "durable", p, &err);
        ck_assert_int_eq(err, 0);
    }
    ck_assert_int_eq(total, acked);
    close(fd);
    ck_assert_int_eq(tb_stop(&tb), 0);
    ck_assert_int_eq(access(marker, F_OK), 0);
    tb_start(&tb, 1, NULL);
    fd = tb_connect(&tb);
    ck_assert_int_eq(end_offset(fd, "durable", 0, &err), 340);
    close(fd);
    ck_assert_int_eq(tb_stop(&tb), 0);
    wr_free(&batch);
    tb_cleanup(&tb);
}
END_TEST

/* An unknown setting stops start-up with a message naming it. */
START_TEST(unknown_setting_refused)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd,
             "%s broker --data-dir /tmp/eddy-never --set no.such.setting=1 2>&1 | grep -q "
             "no.such.setting",
             getenv("EDDY_BIN"));
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd,
             "%s broker --data-dir /tmp/eddy-never --set num.partitions=x; test $? -eq 1",
             getenv("EDDY_BIN"));
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* JoinGroup v5 with one protocol; returns the error code, fills the
 * member id and generation. */
static int16_t join(int fd, const char *group, const char *member, int32_t session,
                    const char *ptype, const char *proto, char *member_out, int32_t *gen)
{
    eddy_wr_t wr;
    wr_init(&wr);
    tb_request_begin(&wr, 11, 5, 40);
    tb_wr_str(&wr, group);
    wr_i32(&wr, session);
    wr_i32(&wr, 10000);
    tb_wr_str(&wr, member);
    wr_i16(&wr, -1); /* no group.instance.id */
    tb_wr_str(&wr, ptype);
    wr_i32(&wr, 1);
    tb_wr_str(&wr, proto);
    wr_i32(&wr, 4);
    wr_bytes(&wr, "meta", 4);
    uint8_t *body;
    eddy_rd_t rd;
    ck_assert_int_eq(tb_send(fd, &wr), 0);
    ssize_t n = tb_recv(fd, &body, 60000);
    ck_assert_int_gt(n, 4);
    rd_init(&rd, body, (size_t)n);
    ck_assert_int_eq(rd_i32(&rd), 40);
    rd_i32(&rd); /* throttle */
    int16_t err = rd_i16(&rd);
    *gen = rd_i32(&rd);
    rd_skip(&rd, (size_t)rd_i16(&rd)); /* protocol */
    rd_skip(&rd, (size_t)rd_i16(&rd)); /* leader */
    int16_t ml = rd_i16(&rd);
    if (member_out && ml >= 0 && ml < 200) {
        memcpy(member_out, rd_bytes(&rd, (size_t)ml), (size_t)ml);
        member_out[ml] = 0;
    }
    ck_assert_int_eq(rd.rd_err, 0);
    free(body);
    wr_free(&wr);
    return err;
}

static int16_t heartbeat(int fd, const char *group, int32_t gen, const char *member)
{
    eddy_wr_t wr;
    wr_init(&wr);
    tb_request_begin(&wr, 12, 1, 41);
    tb_wr_str(&wr, group);
    wr_i32(&wr, gen);
    tb_wr_str(&wr, member);
    uint8_t *body;
    eddy_rd_t rd;
    tb_roundtrip(fd, &wr, 41, &body, &rd);
    rd_i32(&rd);
    int16_t err = rd_i16(&rd);
    free(body);
    wr_free(&wr);
    return err;
}

/* The coordinator's error codes, as clients expect them. */
START_TEST(group_error_codes)
{
    test_broker_t tb = {0};
    const char *sets[] = {"group.initial.rebalance.delay.ms=0", "offsets.topic.num.partitions=3",
                          NULL};
    tb_start(&tb, 0, sets);
    int fd = tb_connect(&tb);
    char member[256] = "";
    int32_t gen;
    /* Session timeout outside group.min/max.session.timeout.ms. */
    ck_assert_int_eq(join(fd, "g", "", 1000, "consumer", "range", member, &gen), 26);
    /* v4+: the first join gets a member id to come back with. */
    ck_assert_int_eq(join(fd, "g", "", 10000, "consumer", "range", member, &gen), 79);
    ck_assert_int_gt(strlen(member), 5);
    ck_assert_int_eq(join(fd, "g", member, 10000, "consumer", "range", member, &gen), 0);
    ck_assert_int_eq(gen, 1);
    /* A member of another protocol cannot join. */
    int fd2 = tb_connect(&tb);
    char other[256] = "";
    ck_assert_int_eq(join(fd2, "g", "", 10000, "consumer", "roundrobin-only", other, &gen), 23);
    ck_assert_int_eq(join(fd2, "g", "", 10000, "connect", "range", other, &gen), 23);
    /* Unknown member, stale generation, and the right ones. */
    ck_assert_int_eq(heartbeat(fd, "g", 1, "nobody"), 25);
    ck_assert_int_eq(heartbeat(fd, "g", 0, member), 22);
    ck_assert_int_eq(heartbeat(fd, "g", 1, member), 0);
    ck_assert_int_eq(join(fd, "g", "not-a-member", 10000, "consumer", "range", other, &gen), 25);
    close(fd2);
    close(fd);
    ck_assert_int_eq(tb_stop(&tb), 0);
    tb_cleanup(&tb);
}
END_TEST

/* Responses are not bounded by the request's size: a tiny Metadata request
 * for a topic with thousands of partitions gets all of them. */
START_TEST(metadata_of_many_partitions)
{
    test_broker_t tb = {0};
    tb_start(&tb, 0, NULL);
    int fd = tb_connect(&tb);
    ck_assert_int_eq(tb_create_topic(fd, "wide", 2000, 1), 0);
    int32_t parts;
    ck_assert_int_eq(tb_metadata_topic(fd, "wide", &parts), 0);
    ck_assert_int_eq(parts, 2000);
    close(fd);
    ck_assert_int_eq(tb_stop(&tb), 0);
    tb_cleanup(&tb);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("broker");
    TCase *tc = tcase_create("process");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, oversized_request_closes_connection);
    tcase_add_test(tc, malformed_request_closes_one_connection);
    tcase_add_test(tc, unsupported_version);
    tcase_add_test(tc, bad_batches_append_nothing);
    tcase_add_test(tc, unknown_topics_and_names);
    tcase_add_test(tc, acks_zero_is_silent_and_order_kept);
    tcase_add_test(tc, stop_crash_restart);
    tcase_add_test(tc, unknown_setting_refused);
    tcase_add_test(tc, group_error_codes);
    tcase_add_test(tc, metadata_of_many_partitions);
    suite_add_tcase(s, tc);
    return run_suite(s);
}

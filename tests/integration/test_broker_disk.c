/* The broker process when a segment file is cut under it: raw Fetch and
 * ListOffsets requests against a real `eddy broker` on 127.0.0.1. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker_harness.h"
#include "check_helpers.h"

#define T0 1700000000000LL
#define KAFKA_STORAGE_ERROR 56

static int16_t produce(int fd, const char *topic, int32_t part, int32_t corr)
{
    eddy_wr_t batch, wr;
    wr_init(&batch);
    wr_init(&wr);
    tb_batch(&batch, 20, 100, T0);
    tb_request_begin(&wr, 0, 3, corr);
    wr_i16(&wr, -1);
    wr_i16(&wr, -1); /* acks=all */
    wr_i32(&wr, 5000);
    wr_i32(&wr, 1);
    tb_wr_str(&wr, topic);
    wr_i32(&wr, 1);
    wr_i32(&wr, part);
    wr_i32(&wr, (int32_t)batch.wr_len);
    wr_bytes(&wr, batch.wr_buf, batch.wr_len);
    uint8_t *body;
    eddy_rd_t rd;
    tb_roundtrip(fd, &wr, corr, &body, &rd);
    ck_assert_int_eq(rd_i32(&rd), 1);
    rd_skip(&rd, (size_t)rd_i16(&rd));
    ck_assert_int_eq(rd_i32(&rd), 1);
    ck_assert_int_eq(rd_i32(&rd), part);
    int16_t err = rd_i16(&rd);
    free(body);
    wr_free(&wr);
    wr_free(&batch);
    return err;
}

typedef struct fetched {
    int16_t err;
    int32_t len;     /* records bytes */
    int zeros;       /* the records are all zero bytes */
    int64_t base;    /* base offset of the first batch, -1 if none */
    int8_t magic;
} fetched_t;

/* Fetch v4 of partitions 0 and 1 of topic from offset 0. */
static void fetch2(int fd, const char *topic, int32_t corr, fetched_t out[2])
{
    eddy_wr_t wr;
    wr_init(&wr);
    tb_request_begin(&wr, 1, 4, corr);
    wr_i32(&wr, -1);      /* replica */
    wr_i32(&wr, 0);       /* max wait */
    wr_i32(&wr, 1);       /* min bytes */
    wr_i32(&wr, 1 << 20); /* max bytes */
    wr_i8(&wr, 0);
    wr_i32(&wr, 1);
    tb_wr_str(&wr, topic);
    wr_i32(&wr, 2);
    for (int p = 0; p < 2; p++) {
        wr_i32(&wr, p);
        wr_i64(&wr, 0);
        wr_i32(&wr, 1 << 20);
    }
    uint8_t *body;
    eddy_rd_t rd;
    tb_roundtrip(fd, &wr, corr, &body, &rd);
    rd_i32(&rd); /* throttle */
    ck_assert_int_eq(rd_i32(&rd), 1);
    rd_skip(&rd, (size_t)rd_i16(&rd));
    ck_assert_int_eq(rd_i32(&rd), 2);
    for (int i = 0; i < 2; i++) {
        int32_t p = rd_i32(&rd);
        ck_assert_int_ge(p, 0);
        ck_assert_int_le(p, 1);
        fetched_t *f = &out[p];
        f->err = rd_i16(&rd);
        rd_i64(&rd); /* high watermark */
        rd_i64(&rd); /* last stable */
        int32_t naborted = rd_i32(&rd);
        ck_assert_int_le(naborted, 0);
        f->len = rd_i32(&rd);
        f->base = -1;
        f->zeros = 0;
        f->magic = -1;
        if (f->len > 0) {
            const uint8_t *r = rd.rd_p + rd.rd_pos;
            rd_skip(&rd, (size_t)f->len);
            ck_assert_int_eq(rd.rd_err, 0);
            f->zeros = 1;
            for (int32_t k = 0; k < f->len; k++)
                f->zeros &= r[k] == 0;
            if (f->len >= 17) {
                f->base = (int64_t)be64_load(r);
                f->magic = (int8_t)r[16];
            }
        }
    }
    ck_assert_int_eq(rd.rd_err, 0);
    free(body);
    wr_free(&wr);
}

static int16_t list_offset_err(int fd, const char *topic, int32_t part)
{
    eddy_wr_t wr;
    wr_init(&wr);
    tb_request_begin(&wr, 2, 1, 77);
    wr_i32(&wr, -1);
    wr_i32(&wr, 1);
    tb_wr_str(&wr, topic);
    wr_i32(&wr, 1);
    wr_i32(&wr, part);
    wr_i64(&wr, -2);
    uint8_t *body;
    eddy_rd_t rd;
    tb_roundtrip(fd, &wr, 77, &body, &rd);
    ck_assert_int_eq(rd_i32(&rd), 1);
    rd_skip(&rd, (size_t)rd_i16(&rd));
    ck_assert_int_eq(rd_i32(&rd), 1);
    ck_assert_int_eq(rd_i32(&rd), part);
    int16_t err = rd_i16(&rd);
    free(body);
    wr_free(&wr);
    return err;
}

static int count_log_lines(const test_broker_t *tb, const char *needle)
{
    FILE *f = fopen(tb->tb_log, "r");
    char line[4096];
    int n = 0;
    while (f && fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    if (f)
        fclose(f);
    return n;
}


/* Metadata v4 or v5 of one topic: the partition error codes by index in
 * errs and (v5) the first offline replica in offline (-1: none), up to n;
 * returns the topic's error. */
static int16_t metadata_partitions(int fd, const char *topic, int16_t v, int16_t *errs,
                                   int32_t *offline, int n)
{
    eddy_wr_t wr;
    wr_init(&wr);
    tb_request_begin(&wr, 3, v, 55);
    wr_i32(&wr, 1);
    tb_wr_str(&wr, topic);
    wr_i8(&wr, 0); /* no auto-create */
    uint8_t *body;
    eddy_rd_t rd;
    tb_roundtrip(fd, &wr, 55, &body, &rd);
    rd_i32(&rd); /* throttle */
    int32_t nb = rd_i32(&rd);
    for (int32_t i = 0; i < nb; i++) {
        rd_i32(&rd);
        rd_skip(&rd, (size_t)rd_i16(&rd));
        rd_i32(&rd);
        int16_t rack = rd_i16(&rd);
        if (rack > 0)
            rd_skip(&rd, (size_t)rack);
    }
    int16_t cid = rd_i16(&rd);
    if (cid > 0)
        rd_skip(&rd, (size_t)cid);
    rd_i32(&rd); /* controller */
    ck_assert_int_eq(rd_i32(&rd), 1);
    int16_t terr = rd_i16(&rd);
    rd_skip(&rd, (size_t)rd_i16(&rd));
    rd_i8(&rd);
    int32_t np = rd_i32(&rd);
    for (int32_t j = 0; j < np; j++) {
        int16_t perr = rd_i16(&rd);
        int32_t idx = rd_i32(&rd);
        rd_i32(&rd); /* leader */
        int32_t first_offline = -1;
        for (int k = 0; k < (v >= 5 ? 3 : 2); k++) { /* replicas, ISR, offline (v5+) */
            int32_t nn = rd_i32(&rd);
            for (int32_t q = 0; q < nn; q++) {
                int32_t node = rd_i32(&rd);
                if (k == 2 && q == 0)
                    first_offline = node;
            }
        }
        if (idx >= 0 && idx < n) {
            errs[idx] = perr;
            offline[idx] = first_offline;
        }
    }
    ck_assert_int_eq(rd.rd_err, 0);
    free(body);
    wr_free(&wr);
    return terr;
}

/* `eddy topic describe topic`: its stdout in out. */
static void describe(const test_broker_t *tb, const char *topic, char *out, size_t out_size)
{
    char cmd[1024];
    const char *bin = getenv("EDDY_BIN");
    snprintf(cmd, sizeof cmd, "timeout -k 5 30 %s -b 127.0.0.1:%d topic describe %s 2>/dev/null",
             bin ? bin : "eddy", tb->tb_port, topic);
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(out, 1, out_size - 1, f);
    out[n] = 0;
    ck_assert_int_eq(pclose(f), 0);
}

/* The line of partition p in describe's output (NULL if none). */
static const char *describe_line(const char *out, int p, char *line, size_t line_size)
{
    char want[32];
    snprintf(want, sizeof want, "  %-10d ", p);
    const char *l = strstr(out, want);
    if (!l)
        return NULL;
    size_t n = strcspn(l, "\n");
    if (n >= line_size)
        n = line_size - 1;
    memcpy(line, l, n);
    line[n] = 0;
    return line;
}

/* A segment cut to 100 bytes under the running broker: every Fetch answers
 * KAFKA_STORAGE_ERROR with no records for that partition (never zeros with
 * error 0), the other partition of the same request is served its real
 * batches, ListOffsets says the same, and 200 fetches make one log line. */
START_TEST(cut_segment_fetch_answers_storage_error)
{
    test_broker_t tb = {0};
    tb_start(&tb, 0, NULL);
    int fd = tb_connect(&tb);
    ck_assert_int_eq(tb_create_topic(fd, "d", 2, 1), 0);
    for (int i = 0; i < 10; i++)
        for (int p = 0; p < 2; p++)
            ck_assert_int_eq(produce(fd, "d", p, 100 + i * 2 + p), 0);
    fetched_t f[2];
    fetch2(fd, "d", 1, f);
    ck_assert_int_eq(f[0].err, 0);
    ck_assert_int_gt(f[0].len, 1000);

    char seg[600];
    snprintf(seg, sizeof seg, "%s/d-0/00000000000000000000.log", tb.tb_dir);
    ck_assert_int_eq(truncate(seg, 100), 0);
    for (int i = 0; i < 200; i++) {
        fetch2(fd, "d", 1000 + i, f);
        ck_assert_msg(f[0].err == KAFKA_STORAGE_ERROR && f[0].len <= 0,
                      "fetch %d of the cut partition: error %d, %d bytes%s", i, f[0].err, f[0].len,
                      f[0].zeros ? " (all zero)" : "");
        ck_assert_int_eq(f[1].err, 0);
        ck_assert_int_gt(f[1].len, 1000);
        ck_assert(!f[1].zeros);
        ck_assert_int_eq(f[1].base, 0);
        ck_assert_int_eq(f[1].magic, 2);
    }
    ck_assert_int_eq(list_offset_err(fd, "d", 0), KAFKA_STORAGE_ERROR);
    ck_assert_int_eq(list_offset_err(fd, "d", 1), 0);
    close(fd);
    /* One ERROR line naming the file, not one per fetch. */
    ck_assert_int_eq(count_log_lines(&tb, "d-0"), 1);
    ck_assert_int_eq(count_log_lines(&tb, " ERROR "), 1);
    ck_assert(tb_log_contains(&tb, "d-0/00000000000000000000.log"));
    ck_assert(tb_log_contains(&tb, "the file is 100 bytes"));
    ck_assert_int_eq(tb_stop(&tb), 1); /* stopped with errors: a partition was offline */
    tb_cleanup(&tb);
}
END_TEST

/* A partition that went offline while running shows in Metadata with
 * KAFKA_STORAGE_ERROR on that partition only (and, from v5, the broker in
 * its offline replicas), and `eddy topic describe` says it is offline,
 * instead of listing it as healthy. */
START_TEST(offline_partition_in_metadata_and_describe)
{
    test_broker_t tb = {0};
    tb_start(&tb, 0, NULL);
    int fd = tb_connect(&tb);
    ck_assert_int_eq(tb_create_topic(fd, "m", 2, 1), 0);
    for (int p = 0; p < 2; p++)
        ck_assert_int_eq(produce(fd, "m", p, 10 + p), 0);
    int16_t errs[2] = {-2, -2};
    int32_t offline[2];
    ck_assert_int_eq(metadata_partitions(fd, "m", 5, errs, offline, 2), 0);
    ck_assert_int_eq(errs[0], 0);
    ck_assert_int_eq(errs[1], 0);
    ck_assert_int_eq(offline[0], -1);

    char seg[600];
    snprintf(seg, sizeof seg, "%s/m-0/00000000000000000000.log", tb.tb_dir);
    ck_assert_int_eq(truncate(seg, 100), 0);
    fetched_t f[2];
    fetch2(fd, "m", 20, f);
    ck_assert_int_eq(f[0].err, KAFKA_STORAGE_ERROR);
    for (int16_t v = 4; v <= 5; v++) {
        errs[0] = errs[1] = -2;
        ck_assert_int_eq(metadata_partitions(fd, "m", v, errs, offline, 2), 0);
        ck_assert_int_eq(errs[0], KAFKA_STORAGE_ERROR);
        ck_assert_int_eq(errs[1], 0);
        if (v >= 5) { /* the broker (node 0) listed as the offline replica */
            ck_assert_int_eq(offline[0], 0);
            ck_assert_int_eq(offline[1], -1);
        }
    }
    close(fd);

    char out[8192], line[256];
    describe(&tb, "m", out, sizeof out);
    ck_assert_msg(describe_line(out, 0, line, sizeof line) && strstr(line, "offline "
                                                                           "(KAFKA_STORAGE_ERROR)"),
                  "%s", out);
    ck_assert_msg(describe_line(out, 1, line, sizeof line) && strstr(line, "online") &&
                      !strstr(line, "offline"),
                  "%s", out);
    ck_assert_int_eq(tb_stop(&tb), 1);
    tb_cleanup(&tb);
}
END_TEST

/* A segment in the middle of a partition's log deleted while the broker was
 * down: at start the broker names the partition, the missing offsets and
 * the directory in an ERROR line, and the partition stays offline (Fetch,
 * Metadata, describe) instead of serving across the hole; the other
 * partition is served. */
START_TEST(missing_middle_segment_at_start)
{
    test_broker_t tb = {0};
    const char *sets[] = {"log.segment.bytes=4096", NULL};
    tb_start(&tb, 0, sets);
    int fd = tb_connect(&tb);
    ck_assert_int_eq(tb_create_topic(fd, "g", 2, 1), 0);
    for (int i = 0; i < 8; i++)
        for (int p = 0; p < 2; p++)
            ck_assert_int_eq(produce(fd, "g", p, 100 + i * 2 + p), 0);
    close(fd);
    ck_assert_int_eq(tb_stop(&tb), 0);

    /* Each produce is one batch of 20 records over 2 KiB: one segment each. */
    char path[700];
    snprintf(path, sizeof path, "%s/g-0/%020d.log", tb.tb_dir, 40);
    ck_assert_msg(access(path, F_OK) == 0, "%s: expected a segment there", path);
    ck_assert_int_eq(unlink(path), 0);

    tb_start(&tb, 1, sets);
    char want[700];
    snprintf(want, sizeof want, "%s/g-0", tb.tb_dir);
    ck_assert_msg(tb_log_contains(&tb, "ERROR") && tb_log_contains(&tb, "g-0") &&
                      tb_log_contains(&tb, want) &&
                      tb_log_contains(&tb, "records [40, 60) are missing"),
                  "no ERROR naming g-0, %s and records [40, 60)", want);
    fd = tb_connect(&tb);
    fetched_t f[2];
    fetch2(fd, "g", 1, f);
    ck_assert_int_eq(f[0].err, KAFKA_STORAGE_ERROR);
    ck_assert_int_le(f[0].len, 0);
    ck_assert_int_eq(f[1].err, 0);
    ck_assert_int_gt(f[1].len, 1000);
    int16_t errs[2] = {-2, -2};
    int32_t offline[2];
    ck_assert_int_eq(metadata_partitions(fd, "g", 5, errs, offline, 2), 0);
    ck_assert_int_eq(errs[0], KAFKA_STORAGE_ERROR);
    ck_assert_int_eq(errs[1], 0);
    ck_assert_int_eq(offline[0], 0);
    close(fd);
    char out[8192], line[256];
    describe(&tb, "g", out, sizeof out);
    ck_assert_msg(describe_line(out, 0, line, sizeof line) && strstr(line, "offline"), "%s", out);
    ck_assert_int_eq(tb_stop(&tb), 1);
    tb_cleanup(&tb);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("broker_disk");
    TCase *tc = tcase_create("disk");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, cut_segment_fetch_answers_storage_error);
    tcase_add_test(tc, offline_partition_in_metadata_and_describe);
    tcase_add_test(tc, missing_middle_segment_at_start);
    suite_add_tcase(s, tc);
    return run_suite(s);
}

/* RecordBatch v2 against batches real clients sent (librdkafka 2.0.2,
 * kafkajs 2.2.4; see tests/fixtures/recordbatch/README.md): validation,
 * record iteration, the encoder, and every way validation can fail. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "wire/recordbatch.h"

#define FIXDIR EDDY_SOURCE_DIR "/tests/fixtures/recordbatch/"

static const char *const fixtures[] = {
    "librdkafka-mixed.bin",
    "librdkafka-200.bin",
    "kafkajs-mixed.bin",
    "kafkajs-200.bin",
};
#define NFIXTURES (sizeof fixtures / sizeof fixtures[0])

static char errstr[512];

/* ---- helpers ---------------------------------------------------------- */

/* Reads a whole file into a heap buffer of exactly its size (so ASan sees
 * any read past the end). */
static uint8_t *load_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    ck_assert_int_gt(n, 0);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static uint8_t *load_fixture(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s%s", FIXDIR, name);
    return load_file(path, len);
}

static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
    uint8_t *q = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(q);
    if (n)
        memcpy(q, p, n);
    return q;
}

/* Appends "-" (null), "\"\"" (empty) or lowercase hex, as expected.txt. */
static void put_field(char *out, size_t cap, const uint8_t *p, int32_t len)
{
    size_t o = strlen(out);
    if (len < 0) {
        snprintf(out + o, cap - o, " -");
        return;
    }
    if (len == 0) {
        snprintf(out + o, cap - o, " \"\"");
        return;
    }
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_lt(o + 1 + 2 * (size_t)len, cap);
    out[o++] = ' ';
    for (int32_t i = 0; i < len; i++)
        o += (size_t)snprintf(out + o, cap - o, "%02x", p[i]);
}

/* One record in expected.txt's format. */
static void format_record(char *out, size_t cap, const char *file, int idx,
                          const wire_record_t *rec)
{
    snprintf(out, cap, "%s %d %" PRId64, file, idx, rec->timestamp);
    put_field(out, cap, rec->key, rec->keyLength);
    put_field(out, cap, rec->value, rec->valueLength);
    size_t o = strlen(out);
    snprintf(out + o, cap - o, " %" PRId32, rec->headerCount);
    eddy_rd_t hr;
    rd_init(&hr, rec->headers, rec->headers_len);
    wire_header_t h;
    int n = 0, rc;
    while ((rc = wire_header_next(&hr, &h)) == 1) {
        put_field(out, cap, h.key, h.keyLength);
        put_field(out, cap, h.value, h.valueLength);
        n++;
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(n, rec->headerCount);
}

/* Offsets of each record's length varint inside a batch, walked by hand
 * rather than with the code under test. Returns the number found. */
static int record_starts(const uint8_t *batch, size_t len, size_t *starts, int max)
{
    eddy_rd_t rd;
    rd_init(&rd, batch, len);
    rd_skip(&rd, BATCH_HEADER_SIZE);
    int n = 0;
    while (rd_remaining(&rd) > 0 && n < max) {
        starts[n++] = rd.rd_pos;
        int32_t l = rd_varint(&rd);
        rd_skip(&rd, (size_t)l);
    }
    ck_assert_int_eq(rd.rd_err, 0);
    return n;
}

static void assert_contains(const char *hay, const char *needle)
{
    ck_assert_msg(strstr(hay, needle) != NULL, "'%s' does not contain '%s'", hay, needle);
}

/* Validates a private exact-size copy of p[0..len). */
static int64_t validate_copy(const uint8_t *p, size_t len, int flags, wire_batch_header_t *h)
{
    uint8_t *q = dup_exact(p, len);
    errstr[0] = 0;
    int64_t rc = wire_batch_validate(q, len, flags, WIRE_INFLATE_LIMIT_DEFAULT, h, errstr,
                                     sizeof errstr);
    free(q);
    return rc;
}

#define CLIENT (WIRE_BATCH_CHECK_RECORDS | WIRE_BATCH_FROM_CLIENT)

/* ---- fixtures: validation and iteration -------------------------------- */

START_TEST(test_fixtures_validate)
{
    for (size_t f = 0; f < NFIXTURES; f++) {
        size_t len;
        uint8_t *p = load_fixture(fixtures[f], &len);
        int mixed = strstr(fixtures[f], "mixed") != NULL;
        ck_assert_uint_eq(len, mixed ? 177 : 23133);
        wire_batch_header_t h;
        errstr[0] = 0;
        int64_t total = wire_batch_validate(p, len, CLIENT, WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr,
                                            sizeof errstr);
        ck_assert_msg(total == (int64_t)len, "%s: %" PRId64 " (%s)", fixtures[f], total, errstr);
        ck_assert_int_eq(wire_batch_size(p), (int64_t)len);
        ck_assert_int_eq(h.baseOffset, 0);
        ck_assert_int_eq(h.magic, 2);
        ck_assert_int_eq(h.attributes, 0);
        ck_assert_int_eq(h.recordCount, mixed ? 6 : 200);
        ck_assert_int_eq(h.lastOffsetDelta, h.recordCount - 1);
        ck_assert_int_eq(h.baseTimestamp, mixed ? INT64_C(1700000000000) : INT64_C(1700000001000));
        ck_assert_int_eq(h.maxTimestamp, h.baseTimestamp + h.lastOffsetDelta);
        ck_assert_int_eq(h.producerId, -1);
        /* The two clients disagree here for a non-idempotent producer. */
        int rdk = strncmp(fixtures[f], "librdkafka", 10) == 0;
        ck_assert_int_eq(h.producerEpoch, rdk ? -1 : 0);
        ck_assert_int_eq(h.baseSequence, rdk ? -1 : 0);
        ck_assert_int_eq(wire_batch_last_offset(&h), h.recordCount - 1);
        /* Without the flags the header checks alone pass too. */
        ck_assert_int_eq(wire_batch_validate(p, len, 0, WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr,
                                             sizeof errstr),
                         (int64_t)len);
        free(p);
    }
}
END_TEST

START_TEST(test_fixtures_iterate_as_expected)
{
    size_t elen;
    uint8_t *etext = load_file(FIXDIR "expected.txt", &elen);
    char *text = malloc(elen + 1);
    memcpy(text, etext, elen);
    text[elen] = 0;
    free(etext);

    char line[4096];
    int matched = 0;
    for (size_t f = 0; f < NFIXTURES; f++) {
        size_t len;
        uint8_t *p = load_fixture(fixtures[f], &len);
        wire_record_iter_t it;
        ck_assert_int_eq(wire_record_iter_open(&it, p, len, WIRE_INFLATE_LIMIT_DEFAULT, NULL, 0),
                         0);

        /* Walk expected.txt's lines for this file in order. */
        size_t flen = strlen(fixtures[f]);
        char *cur = text;
        int idx = 0;
        for (;;) {
            char *eol = strchr(cur, '\n');
            if (!eol)
                break;
            *eol = 0;
            if (strncmp(cur, fixtures[f], flen) == 0 && cur[flen] == ' ') {
                wire_record_t rec;
                int rc = wire_record_next(&it, &rec);
                ck_assert_msg(rc == 1, "%s: record %d: %d, expected '%s'", fixtures[f], idx, rc,
                              cur);
                ck_assert_int_eq(rec.offsetDelta, idx);
                ck_assert_int_eq(rec.offset, idx);
                ck_assert_int_eq(rec.attributes, 0);
                format_record(line, sizeof line, fixtures[f], idx, &rec);
                ck_assert_str_eq(line, cur);
                idx++;
                matched++;
            }
            *eol = '\n';
            cur = eol + 1;
        }
        wire_record_t rec;
        ck_assert_int_eq(wire_record_next(&it, &rec), 0); /* no extra records */
        ck_assert_int_eq(wire_record_next(&it, &rec), 0);
        ck_assert_int_eq(idx, strstr(fixtures[f], "mixed") ? 6 : 200);
        free(p);
    }
    /* expected.txt holds nothing for files not iterated here. */
    int lines = 0;
    for (char *c = text; *c; c++)
        lines += *c == '\n';
    ck_assert_int_eq(matched, lines);
    ck_assert_int_eq(matched, 412);
    free(text);
}
END_TEST

/* The cases a broker gets wrong most often, spelled out. */
START_TEST(test_fixture_nulls_and_empties)
{
    for (int k = 0; k < 2; k++) {
        const char *name = k == 0 ? "librdkafka-mixed.bin" : "kafkajs-mixed.bin";
        size_t len;
        uint8_t *p = load_fixture(name, &len);
        wire_record_iter_t it;
        wire_record_t r[6];
        ck_assert_int_eq(wire_record_iter_open(&it, p, len, WIRE_INFLATE_LIMIT_DEFAULT, NULL, 0),
                         0);
        for (int i = 0; i < 6; i++)
            ck_assert_int_eq(wire_record_next(&it, &r[i]), 1);

        ck_assert_int_eq(r[0].keyLength, 5);
        ck_assert_mem_eq(r[0].key, "key-0", 5);
        ck_assert_mem_eq(r[0].value, "value-0", 7);
        ck_assert_int_eq(r[1].keyLength, -1); /* null key */
        ck_assert_ptr_null(r[1].key);
        ck_assert_int_eq(r[2].valueLength, -1); /* tombstone */
        ck_assert_ptr_null(r[2].value);
        ck_assert_int_eq(r[4].keyLength, 0); /* empty, not null */
        ck_assert_ptr_nonnull(r[4].key);
        ck_assert_int_eq(r[4].valueLength, 0);
        ck_assert_ptr_nonnull(r[4].value);
        ck_assert_int_eq(r[5].valueLength, 4);
        ck_assert_mem_eq(r[5].value, "\x00\xff\x80\x7f", 4);
        ck_assert_int_eq(r[5].timestamp, INT64_C(1700000000005));

        ck_assert_int_eq(r[3].headerCount, 2);
        eddy_rd_t hr;
        rd_init(&hr, r[3].headers, r[3].headers_len);
        wire_header_t h;
        ck_assert_int_eq(wire_header_next(&hr, &h), 1);
        ck_assert_int_eq(h.keyLength, 2);
        ck_assert_mem_eq(h.key, "h1", 2);
        ck_assert_int_eq(h.valueLength, 2);
        ck_assert_mem_eq(h.value, "v1", 2);
        ck_assert_int_eq(wire_header_next(&hr, &h), 1);
        ck_assert_mem_eq(h.key, "h2", 2);
        if (k == 0) {
            ck_assert_int_eq(h.valueLength, -1); /* librdkafka sends a null header value */
            ck_assert_ptr_null(h.value);
        } else {
            ck_assert_int_eq(h.valueLength, 0); /* kafkajs cannot, and sends "" */
            ck_assert_ptr_nonnull(h.value);
        }
        ck_assert_int_eq(wire_header_next(&hr, &h), 0);
        free(p);
    }
}
END_TEST

/* ---- encoder ------------------------------------------------------------ */

struct trec {
    int64_t ts;
    const char *key; /* NULL: null */
    const char *value;
    int nh;
    const wire_header_t *h;
};

static int32_t slen(const char *s)
{
    return s ? (int32_t)strlen(s) : -1;
}

#define BYTES(lit) (const uint8_t *)(lit), (int32_t)(sizeof(lit) - 1)

static const wire_header_t theaders[3] = {
    {BYTES("a"), BYTES("1")},
    {BYTES("nullval"), NULL, -1},
    {BYTES("empty"), BYTES("")},
};

static const struct trec trecs[] = {
    {1000, "k0", "v0", 0, NULL},
    {900, NULL, "no key", 0, NULL},       /* earlier than the first: negative delta */
    {1500, "tomb", NULL, 0, NULL},        /* the maximum */
    {1200, "", "", 0, NULL},              /* empty, not null */
    {1100, "hk", "hv", 3, theaders},
    {-1, "neg", "no timestamp", 0, NULL}, /* Kafka's NO_TIMESTAMP */
};
#define NTRECS (int)(sizeof trecs / sizeof trecs[0])

static void add_trecs(wire_batch_builder_t *b)
{
    for (int i = 0; i < NTRECS; i++)
        wire_batch_add(b, trecs[i].ts, trecs[i].key, slen(trecs[i].key), trecs[i].value,
                       slen(trecs[i].value), trecs[i].h, trecs[i].nh);
}

static void assert_field(const uint8_t *p, int32_t len, const char *want)
{
    ck_assert_int_eq(len, slen(want));
    if (want) {
        ck_assert_ptr_nonnull(p);
        ck_assert_mem_eq(p, want, (size_t)len);
    } else {
        ck_assert_ptr_null(p);
    }
}

static void assert_trecs(const uint8_t *batch, size_t len, int64_t base_offset)
{
    wire_record_iter_t it;
    ck_assert_int_eq(wire_record_iter_open(&it, batch, len, WIRE_INFLATE_LIMIT_DEFAULT, NULL, 0),
                     0);
    for (int i = 0; i < NTRECS; i++) {
        wire_record_t rec;
        ck_assert_int_eq(wire_record_next(&it, &rec), 1);
        ck_assert_int_eq(rec.offsetDelta, i);
        ck_assert_int_eq(rec.offset, base_offset + i);
        ck_assert_int_eq(rec.timestamp, trecs[i].ts);
        assert_field(rec.key, rec.keyLength, trecs[i].key);
        assert_field(rec.value, rec.valueLength, trecs[i].value);
        ck_assert_int_eq(rec.headerCount, trecs[i].nh);
        eddy_rd_t hr;
        rd_init(&hr, rec.headers, rec.headers_len);
        for (int k = 0; k < trecs[i].nh; k++) {
            wire_header_t h;
            ck_assert_int_eq(wire_header_next(&hr, &h), 1);
            ck_assert_int_eq(h.keyLength, trecs[i].h[k].keyLength);
            ck_assert_mem_eq(h.key, trecs[i].h[k].key, (size_t)h.keyLength);
            ck_assert_int_eq(h.valueLength, trecs[i].h[k].valueLength);
            if (h.valueLength < 0)
                ck_assert_ptr_null(h.value);
            else
                ck_assert_mem_eq(h.value, trecs[i].h[k].value, (size_t)h.valueLength);
        }
        ck_assert_int_eq(wire_header_next(&hr, &(wire_header_t){0}), 0);
    }
    wire_record_t rec;
    ck_assert_int_eq(wire_record_next(&it, &rec), 0);
}

START_TEST(test_encode_roundtrip)
{
    eddy_wr_t wr;
    wr_init(&wr);
    wire_batch_header_t tmpl = wire_batch_header_default();
    tmpl.baseOffset = 4242;
    tmpl.partitionLeaderEpoch = 7;
    wire_batch_builder_t b;
    wire_batch_begin(&b, &wr, &tmpl);
    add_trecs(&b);
    ck_assert_int_eq(wire_batch_end(&b, 0), 0);

    wire_batch_header_t h;
    errstr[0] = 0;
    int64_t total = wire_batch_validate(wr.wr_buf, wr.wr_len, CLIENT, WIRE_INFLATE_LIMIT_DEFAULT,
                                        &h, errstr, sizeof errstr);
    ck_assert_msg(total == (int64_t)wr.wr_len, "%" PRId64 ": %s", total, errstr);
    ck_assert_int_eq(h.baseOffset, 4242);
    ck_assert_int_eq(h.partitionLeaderEpoch, 7);
    ck_assert_int_eq(h.recordCount, NTRECS);
    ck_assert_int_eq(h.lastOffsetDelta, NTRECS - 1);
    ck_assert_int_eq(h.baseTimestamp, 1000); /* the first record's */
    ck_assert_int_eq(h.maxTimestamp, 1500);  /* the largest, not the last */
    ck_assert_int_eq(h.producerId, -1);
    ck_assert_int_eq(h.producerEpoch, -1);
    ck_assert_int_eq(h.baseSequence, -1);
    ck_assert_uint_eq(h.crc, b.bb_hdr.crc);
    assert_trecs(wr.wr_buf, wr.wr_len, 4242);
    wr_free(&wr);
}
END_TEST

START_TEST(test_encode_two_batches_one_writer)
{
    eddy_wr_t wr;
    wr_init(&wr);
    wr_bytes(&wr, "prefix", 6); /* a batch need not start at byte 0 */
    wire_batch_header_t tmpl = wire_batch_header_default();
    wire_batch_builder_t b;
    wire_batch_begin(&b, &wr, &tmpl);
    add_trecs(&b);
    ck_assert_int_eq(wire_batch_end(&b, 0), 0);
    size_t second = wr.wr_len;
    tmpl.baseOffset = NTRECS;
    wire_batch_begin(&b, &wr, &tmpl);
    add_trecs(&b);
    ck_assert_int_eq(wire_batch_end(&b, 0), 0);

    const uint8_t *p1 = wr.wr_buf + 6, *p2 = wr.wr_buf + second;
    ck_assert_int_eq(wire_batch_size(p1), (int64_t)(second - 6));
    ck_assert_int_eq(wire_batch_size(p2), (int64_t)(wr.wr_len - second));
    wire_batch_header_t h;
    /* Given the rest of the buffer, validation takes only its own batch. */
    ck_assert_int_eq(wire_batch_validate(p1, wr.wr_len - 6, CLIENT, WIRE_INFLATE_LIMIT_DEFAULT, &h,
                                         errstr, sizeof errstr),
                     (int64_t)(second - 6));
    ck_assert_int_eq(wire_batch_validate(p2, wr.wr_len - second, CLIENT, WIRE_INFLATE_LIMIT_DEFAULT,
                                         &h, errstr, sizeof errstr),
                     (int64_t)(wr.wr_len - second));
    ck_assert_int_eq(h.baseOffset, NTRECS);
    assert_trecs(p1, wr.wr_len - 6, 0);
    assert_trecs(p2, wr.wr_len - second, NTRECS);
    /* Same records, different baseOffset only: baseOffset lies outside the
     * CRC, so the CRCs agree. */
    ck_assert_mem_eq(p1 + 12, p2 + 12, second - 6 - 12);
    wr_free(&wr);
}
END_TEST

START_TEST(test_encode_empty_batch)
{
    eddy_wr_t wr;
    wr_init(&wr);
    wire_batch_header_t tmpl = wire_batch_header_default();
    tmpl.baseTimestamp = 77;
    wire_batch_builder_t b;
    wire_batch_begin(&b, &wr, &tmpl);
    ck_assert_int_eq(wire_batch_end(&b, 0), 0);
    ck_assert_uint_eq(wr.wr_len, BATCH_HEADER_SIZE);
    wire_batch_header_t h;
    ck_assert_int_eq(wire_batch_validate(wr.wr_buf, wr.wr_len, WIRE_BATCH_CHECK_RECORDS,
                                         WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr, sizeof errstr),
                     BATCH_HEADER_SIZE);
    ck_assert_int_eq(h.recordCount, 0);
    ck_assert_int_eq(h.maxTimestamp, 77);
    wire_record_iter_t it;
    wire_record_t rec;
    ck_assert_int_eq(
        wire_record_iter_open(&it, wr.wr_buf, wr.wr_len, WIRE_INFLATE_LIMIT_DEFAULT, NULL, 0), 0);
    ck_assert_int_eq(wire_record_next(&it, &rec), 0);
    wr_free(&wr);
}
END_TEST

/* Re-encodes a fixture's records with its header fields; with copy set,
 * through wire_batch_add_record instead of wire_batch_add. */
static void reencode(const uint8_t *p, size_t len, int copy, eddy_wr_t *wr)
{
    wire_batch_header_t fh;
    ck_assert_int_eq(wire_batch_header_read(p, len, &fh), 0);
    wire_batch_header_t tmpl = wire_batch_header_default();
    tmpl.baseOffset = fh.baseOffset;
    tmpl.partitionLeaderEpoch = fh.partitionLeaderEpoch;
    tmpl.attributes = fh.attributes;
    tmpl.producerId = fh.producerId;
    tmpl.producerEpoch = fh.producerEpoch;
    tmpl.baseSequence = fh.baseSequence;
    tmpl.baseTimestamp = fh.baseTimestamp;
    wire_batch_builder_t b;
    wire_batch_begin(&b, wr, &tmpl);
    wire_record_iter_t it;
    ck_assert_int_eq(wire_record_iter_open(&it, p, len, WIRE_INFLATE_LIMIT_DEFAULT, NULL, 0), 0);
    wire_record_t rec;
    int rc;
    while ((rc = wire_record_next(&it, &rec)) == 1) {
        if (copy) {
            wire_batch_add_record(&b, &rec);
            continue;
        }
        wire_header_t hs[8];
        eddy_rd_t hr;
        rd_init(&hr, rec.headers, rec.headers_len);
        int n = 0;
        while (n < 8 && wire_header_next(&hr, &hs[n]) == 1)
            n++;
        ck_assert_int_eq(n, rec.headerCount);
        wire_batch_add(&b, rec.timestamp, rec.key, rec.keyLength, rec.value, rec.valueLength, hs,
                       n);
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(wire_batch_end(&b, 0), 0);
}

START_TEST(test_encode_reproduces_client_bytes)
{
    for (size_t f = 0; f < NFIXTURES; f++) {
        size_t len;
        uint8_t *p = load_fixture(fixtures[f], &len);
        for (int copy = 0; copy < 2; copy++) {
            eddy_wr_t wr;
            wr_init(&wr);
            reencode(p, len, copy, &wr);
            ck_assert_msg(wr.wr_len == len, "%s: %zu bytes, fixture %zu", fixtures[f], wr.wr_len,
                          len);
            size_t diff = 0;
            while (diff < len && wr.wr_buf[diff] == p[diff])
                diff++;
            ck_assert_msg(diff == len, "%s (%s): first difference at byte %zu", fixtures[f],
                          copy ? "add_record" : "add", diff);
            wr_free(&wr);
        }
        free(p);
    }
}
END_TEST

/* ---- validation failures, each named ------------------------------------ */

START_TEST(test_fail_too_short)
{
    size_t len;
    uint8_t *p = load_fixture("librdkafka-mixed.bin", &len);
    wire_batch_header_t h;
    for (size_t n = 0; n < BATCH_HEADER_SIZE; n++) {
        ck_assert_int_eq(validate_copy(p, n, CLIENT, &h), EDDY_ERR_BATCH_LENGTH);
        assert_contains(errstr, "length");
    }
    free(p);
}
END_TEST

START_TEST(test_fail_length_beyond_buffer)
{
    size_t len;
    uint8_t *p = load_fixture("librdkafka-mixed.bin", &len);
    wire_batch_header_t h;
    ck_assert_int_eq(validate_copy(p, len - 1, CLIENT, &h), EDDY_ERR_BATCH_LENGTH);
    assert_contains(errstr, "batchLength 165");

    static const uint32_t bad[] = {0x7fffffff, 0xffffffff, 0x80000000, 166, 48, 0};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t *q = dup_exact(p, len);
        be32_store(q + BATCH_OFF_LENGTH, bad[i]);
        errstr[0] = 0;
        ck_assert_int_eq(wire_batch_validate(q, len, CLIENT, WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr,
                                             sizeof errstr),
                         EDDY_ERR_BATCH_LENGTH);
        assert_contains(errstr, "batchLength");
        free(q);
    }
    free(p);
}
END_TEST

START_TEST(test_fail_magic)
{
    size_t len;
    uint8_t *p = load_fixture("kafkajs-mixed.bin", &len);
    static const uint8_t bad[] = {0, 1, 3, 0xff};
    for (size_t i = 0; i < sizeof bad; i++) {
        p[BATCH_OFF_MAGIC] = bad[i];
        wire_batch_header_t h;
        ck_assert_int_eq(validate_copy(p, len, CLIENT, &h), EDDY_ERR_BATCH_MAGIC);
        assert_contains(errstr, "magic");
    }
    free(p);
}
END_TEST

START_TEST(test_fail_crc_any_flipped_byte)
{
    size_t len;
    uint8_t *p = load_fixture("librdkafka-mixed.bin", &len);
    wire_batch_header_t h;
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            uint8_t *q = dup_exact(p, len);
            q[i] ^= (uint8_t)(1u << bit);
            errstr[0] = 0;
            int64_t rc = wire_batch_validate(q, len, CLIENT, WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr,
                                             sizeof errstr);
            if (i >= BATCH_OFF_CRC) {
                /* The stored CRC itself, or the bytes it covers. */
                ck_assert_msg(rc == EDDY_ERR_BATCH_CRC, "byte %zu bit %d: %" PRId64, i, bit, rc);
                assert_contains(errstr, "CRC");
            } else if (i == BATCH_OFF_MAGIC) {
                ck_assert_int_eq(rc, EDDY_ERR_BATCH_MAGIC);
            } else if (i >= BATCH_OFF_LENGTH && i < BATCH_OFF_LEADER_EPOCH) {
                /* A longer batchLength overruns the buffer; a shorter one
                 * that still fits moves the end the CRC covers. */
                ck_assert_msg(rc == EDDY_ERR_BATCH_LENGTH || rc == EDDY_ERR_BATCH_CRC,
                              "byte %zu bit %d: %" PRId64, i, bit, rc);
            } else {
                /* baseOffset and partitionLeaderEpoch are outside the CRC:
                 * the broker rewrites them. */
                ck_assert_msg(rc == (int64_t)len, "byte %zu: %" PRId64, i, rc);
            }
            free(q);
        }
    }
    free(p);
}
END_TEST

/* Sets a header field of a copy and recomputes the CRC, so that the check
 * under test, not the CRC, is the one that fails. */
static uint8_t *patched(const uint8_t *p, size_t len, size_t off, int width, uint32_t v)
{
    uint8_t *q = dup_exact(p, len);
    if (width == 4)
        be32_store(q + off, v);
    else
        be16_store(q + off, (uint16_t)v);
    wire_batch_crc_update(q, len);
    return q;
}

START_TEST(test_fail_last_offset_delta)
{
    size_t len;
    uint8_t *p = load_fixture("librdkafka-mixed.bin", &len);
    wire_batch_header_t h;
    struct {
        int32_t lod;
        int from_client_ok, from_log_ok;
    } cases[] = {
        {5, 1, 1},   /* as sent */
        {4, 0, 0},   /* fewer offsets than records: never */
        {6, 0, 1},   /* a gap, as compaction leaves: only from the log */
        {1000, 0, 1}, {-1, 0, 0}, {INT32_MIN, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *q = patched(p, len, BATCH_OFF_LAST_OFFSET_DELTA, 4, (uint32_t)cases[i].lod);
        errstr[0] = 0;
        int64_t rc = wire_batch_validate(q, len, CLIENT, WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr,
                                         sizeof errstr);
        if (cases[i].from_client_ok) {
            ck_assert_int_eq(rc, (int64_t)len);
        } else {
            ck_assert_msg(rc == EDDY_ERR_BATCH_LAST_OFFSET_DELTA, "lod %d: %" PRId64, cases[i].lod,
                          rc);
            assert_contains(errstr, "lastOffsetDelta");
        }
        rc = wire_batch_validate(q, len, WIRE_BATCH_CHECK_RECORDS, WIRE_INFLATE_LIMIT_DEFAULT, &h,
                                 errstr, sizeof errstr);
        ck_assert_int_eq(rc, cases[i].from_log_ok ? (int64_t)len
                                                  : (int64_t)EDDY_ERR_BATCH_LAST_OFFSET_DELTA);
        free(q);
    }
    free(p);
}
END_TEST

START_TEST(test_fail_codec)
{
    size_t len;
    uint8_t *p = load_fixture("librdkafka-mixed.bin", &len);
    wire_batch_header_t h;
    for (uint32_t codec = 5; codec <= 7; codec++) {
        uint8_t *q = patched(p, len, BATCH_OFF_ATTRIBUTES, 2, codec);
        errstr[0] = 0;
        ck_assert_int_eq(wire_batch_validate(q, len, CLIENT, WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr,
                                             sizeof errstr),
                         EDDY_ERR_BATCH_CODEC);
        assert_contains(errstr, "codec");
        ck_assert_int_eq(wire_batch_validate(q, len, 0, WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr,
                                             sizeof errstr),
                         EDDY_ERR_BATCH_CODEC);
        free(q);
    }
    /* Known codecs pass the header checks; the records, plain bytes under a
     * codec flag, are no compressed stream: reading them is an error with a
     * reason, never an empty batch. */
    for (uint32_t codec = 1; codec <= 4; codec++) {
        uint8_t *q = patched(p, len, BATCH_OFF_ATTRIBUTES, 2, codec);
        ck_assert_int_eq(wire_batch_validate(q, len, WIRE_BATCH_FROM_CLIENT,
                                             WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr, sizeof errstr),
                         (int64_t)len);
        ck_assert_int_lt(wire_batch_validate(q, len, CLIENT, WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr,
                                             sizeof errstr),
                         0);
        wire_record_iter_t it;
        errstr[0] = 0;
        int rc = wire_record_iter_open(&it, q, len, WIRE_INFLATE_LIMIT_DEFAULT, errstr,
                                       sizeof errstr);
        if (rc == 0) { /* a stream that happens to decode must still not pass as records */
            wire_record_t rec;
            int32_t n = 0;
            while ((rc = wire_record_next(&it, &rec)) == 1)
                n++;
            wire_record_iter_close(&it);
            ck_assert_msg(rc < 0 || n != h.recordCount,
                          "codec %u: plain records read as compressed", codec);
        } else {
            assert_contains(errstr, wire_codec_name((int)codec));
        }
        free(q);
    }
    free(p);
}
END_TEST

START_TEST(test_fail_control_batch_from_client)
{
    size_t len;
    uint8_t *p = load_fixture("kafkajs-mixed.bin", &len);
    wire_batch_header_t h;
    uint8_t *q = patched(p, len, BATCH_OFF_ATTRIBUTES, 2,
                         BATCH_ATTR_CONTROL | BATCH_ATTR_TRANSACTIONAL);
    errstr[0] = 0;
    ck_assert_int_eq(wire_batch_validate(q, len, CLIENT, WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr,
                                         sizeof errstr),
                     EDDY_ERR_CONTROL_BATCH);
    assert_contains(errstr, "control");
    /* A broker writes control batches itself; from the log they are fine. */
    ck_assert_int_eq(wire_batch_validate(q, len, WIRE_BATCH_CHECK_RECORDS,
                                         WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr, sizeof errstr),
                     (int64_t)len);
    free(q);
    /* Transactional alone is allowed from a client. */
    q = patched(p, len, BATCH_OFF_ATTRIBUTES, 2, BATCH_ATTR_TRANSACTIONAL);
    ck_assert_int_eq(wire_batch_validate(q, len, CLIENT, WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr,
                                         sizeof errstr),
                     (int64_t)len);
    free(q);
    free(p);
}
END_TEST

/* Applies one byte change inside the records, fixes the CRC, and checks
 * that both validation and iteration reject the batch. */
static void expect_bad_record(const uint8_t *p, size_t len, size_t at, uint8_t v, int bad_index)
{
    uint8_t *q = dup_exact(p, len);
    q[at] = v;
    wire_batch_crc_update(q, len);
    wire_batch_header_t h;
    errstr[0] = 0;
    int64_t rc = wire_batch_validate(q, len, CLIENT, WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr,
                                     sizeof errstr);
    ck_assert_msg(rc == EDDY_ERR_BATCH_RECORD, "byte %zu = 0x%02x: %" PRId64 " (%s)", at, v, rc,
                  errstr);
    char want[64];
    snprintf(want, sizeof want, "record %d", bad_index);
    assert_contains(errstr, want);

    wire_record_iter_t it;
    wire_record_t rec;
    ck_assert_int_eq(wire_record_iter_open(&it, q, len, WIRE_INFLATE_LIMIT_DEFAULT, NULL, 0), 0);
    for (int i = 0; i < bad_index; i++)
        ck_assert_int_eq(wire_record_next(&it, &rec), 1);
    ck_assert_int_eq(wire_record_next(&it, &rec), EDDY_ERR_BATCH_RECORD);
    free(q);
}

START_TEST(test_fail_record)
{
    size_t len;
    uint8_t *p = load_fixture("librdkafka-mixed.bin", &len);
    size_t st[8];
    ck_assert_int_eq(record_starts(p, len, st, 8), 6);
    ck_assert_uint_eq(p[st[5]], 0x1a); /* zigzag 13: the last record's length */

    /* The last record's length overruns the batch by one byte. */
    expect_bad_record(p, len, st[5], 0x1c, 5);
    /* A record length longer than its content (swallows the next record). */
    expect_bad_record(p, len, st[0], 0x7e, 0);
    /* Shorter than its content. */
    expect_bad_record(p, len, st[2], 0x14, 2);
    /* Negative. */
    expect_bad_record(p, len, st[1], 0x01, 1);
    /* Record 0's key length (after length, attributes, tsDelta, offsetDelta)
     * overruns the record. */
    ck_assert_uint_eq(p[st[0] + 4], 0x0a);
    expect_bad_record(p, len, st[0] + 4, 0x7e, 0);
    /* A key length below -1. */
    expect_bad_record(p, len, st[0] + 4, 0x03, 0);
    /* Record 3 claims three headers but holds two. */
    size_t hc = st[3] + 1 + 1 + 1 + 1 + 1 + 5 + 1 + 18;
    ck_assert_uint_eq(p[hc], 0x04);
    expect_bad_record(p, len, hc, 0x06, 3);
    /* ... or one, leaving bytes over. */
    expect_bad_record(p, len, hc, 0x02, 3);
    /* A negative header count. */
    expect_bad_record(p, len, hc, 0x03, 3);
    free(p);
}
END_TEST

START_TEST(test_fail_record_overlong_varint)
{
    /* Splice a 6-byte varint in place of record 0's 1-byte length; it
     * overflows 32 bits. The error must still be a batch error. */
    size_t len;
    uint8_t *p = load_fixture("librdkafka-mixed.bin", &len);
    size_t nlen = len + 5;
    uint8_t *q = malloc(nlen);
    memcpy(q, p, BATCH_HEADER_SIZE);
    static const uint8_t overlong[] = {0xa4, 0x80, 0x80, 0x80, 0x80, 0x00};
    memcpy(q + BATCH_HEADER_SIZE, overlong, sizeof overlong);
    memcpy(q + BATCH_HEADER_SIZE + 6, p + BATCH_HEADER_SIZE + 1, len - BATCH_HEADER_SIZE - 1);
    be32_store(q + BATCH_OFF_LENGTH, (uint32_t)(nlen - BATCH_LOG_OVERHEAD));
    wire_batch_crc_update(q, nlen);
    wire_batch_header_t h;
    errstr[0] = 0;
    ck_assert_int_eq(wire_batch_validate(q, nlen, CLIENT, WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr,
                                         sizeof errstr),
                     EDDY_ERR_BATCH_RECORD);
    assert_contains(errstr, "record 0");
    wire_record_iter_t it;
    wire_record_t rec;
    ck_assert_int_eq(wire_record_iter_open(&it, q, nlen, WIRE_INFLATE_LIMIT_DEFAULT, NULL, 0), 0);
    ck_assert_int_eq(wire_record_next(&it, &rec), EDDY_ERR_BATCH_RECORD);
    free(q);
    free(p);
}
END_TEST

START_TEST(test_fail_trailing_bytes)
{
    size_t len;
    uint8_t *p = load_fixture("librdkafka-mixed.bin", &len);
    uint8_t *q = malloc(len + 1);
    memcpy(q, p, len);
    q[len] = 0;
    be32_store(q + BATCH_OFF_LENGTH, (uint32_t)(len + 1 - BATCH_LOG_OVERHEAD));
    wire_batch_crc_update(q, len + 1);
    wire_batch_header_t h;
    errstr[0] = 0;
    ck_assert_int_eq(wire_batch_validate(q, len + 1, CLIENT, WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr,
                                         sizeof errstr),
                     EDDY_ERR_BATCH_LENGTH);
    assert_contains(errstr, "left after the last record");
    /* Without record checks only the header is looked at. */
    ck_assert_int_eq(wire_batch_validate(q, len + 1, 0, WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr,
                                         sizeof errstr),
                     (int64_t)len + 1);
    free(q);
    free(p);
}
END_TEST

START_TEST(test_fail_offsets_out_of_order)
{
    /* Offsets 0, 2, 1: not increasing, wrong from anyone. */
    size_t len;
    uint8_t *p = load_fixture("librdkafka-mixed.bin", &len);
    wire_record_iter_t it;
    wire_record_t r[6];
    ck_assert_int_eq(wire_record_iter_open(&it, p, len, WIRE_INFLATE_LIMIT_DEFAULT, NULL, 0), 0);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(wire_record_next(&it, &r[i]), 1);
    eddy_wr_t wr;
    wr_init(&wr);
    wire_batch_header_t tmpl = wire_batch_header_default();
    tmpl.lastOffsetDelta = 2;
    wire_batch_builder_t b;
    wire_batch_begin(&b, &wr, &tmpl);
    wire_batch_add_record(&b, &r[0]);
    wire_batch_add_record(&b, &r[2]);
    wire_batch_add_record(&b, &r[1]);
    ck_assert_int_eq(wire_batch_end(&b, 1), 0);
    wire_batch_header_t h;
    errstr[0] = 0;
    ck_assert_int_eq(wire_batch_validate(wr.wr_buf, wr.wr_len, WIRE_BATCH_CHECK_RECORDS,
                                         WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr, sizeof errstr),
                     EDDY_ERR_BATCH_LAST_OFFSET_DELTA);
    assert_contains(errstr, "record 2");

    /* An offset delta past lastOffsetDelta. */
    wr_reset(&wr);
    tmpl.lastOffsetDelta = 2;
    wire_batch_begin(&b, &wr, &tmpl);
    wire_batch_add_record(&b, &r[0]);
    wire_batch_add_record(&b, &r[3]);
    ck_assert_int_eq(wire_batch_end(&b, 1), 0);
    ck_assert_int_eq(wire_batch_validate(wr.wr_buf, wr.wr_len, WIRE_BATCH_CHECK_RECORDS,
                                         WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr, sizeof errstr),
                     EDDY_ERR_BATCH_LAST_OFFSET_DELTA);
    assert_contains(errstr, "record 1");
    wr_free(&wr);
    free(p);
}
END_TEST

START_TEST(test_truncation_every_prefix)
{
    for (size_t f = 0; f < NFIXTURES; f++) {
        size_t len;
        uint8_t *p = load_fixture(fixtures[f], &len);
        wire_batch_header_t h;
        for (size_t n = 0; n < len; n++) {
            int64_t rc = validate_copy(p, n, CLIENT, &h);
            ck_assert_msg(rc < 0, "%s: prefix %zu accepted", fixtures[f], n);
            ck_assert_uint_gt(strlen(errstr), 0);
        }
        /* The same prefixes with batchLength and CRC made to agree, so the
         * record parser itself meets the cut. */
        for (size_t n = BATCH_HEADER_SIZE; n < len; n++) {
            uint8_t *q = dup_exact(p, n);
            be32_store(q + BATCH_OFF_LENGTH, (uint32_t)(n - BATCH_LOG_OVERHEAD));
            wire_batch_crc_update(q, n);
            int64_t rc = wire_batch_validate(q, n, CLIENT, WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr,
                                             sizeof errstr);
            ck_assert_msg(rc == EDDY_ERR_BATCH_RECORD, "%s: cut at %zu: %" PRId64, fixtures[f], n,
                          rc);
            wire_record_iter_t it;
            wire_record_t rec;
            ck_assert_int_eq(wire_record_iter_open(&it, q, n, WIRE_INFLATE_LIMIT_DEFAULT, NULL, 0),
                             0);
            int got = 0, r;
            while ((r = wire_record_next(&it, &rec)) == 1)
                got++;
            ck_assert_int_eq(r, EDDY_ERR_BATCH_RECORD);
            ck_assert_int_lt(got, h.recordCount);
            free(q);
        }
        free(p);
    }
}
END_TEST

START_TEST(test_compacted_batch)
{
    /* What the cleaner writes: some records dropped, offsets and the
     * batch's last offset kept. */
    size_t len;
    uint8_t *p = load_fixture("librdkafka-mixed.bin", &len);
    wire_record_iter_t it;
    wire_record_t r[6];
    ck_assert_int_eq(wire_record_iter_open(&it, p, len, WIRE_INFLATE_LIMIT_DEFAULT, NULL, 0), 0);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(wire_record_next(&it, &r[i]), 1);

    static const int keep[] = {0, 3, 4};
    eddy_wr_t wr;
    wr_init(&wr);
    wire_batch_header_t tmpl;
    ck_assert_int_eq(wire_batch_header_read(p, len, &tmpl), 0);
    tmpl.baseOffset = 1000;
    wire_batch_builder_t b;
    wire_batch_begin(&b, &wr, &tmpl);
    for (int i = 0; i < 3; i++)
        wire_batch_add_record(&b, &r[keep[i]]);
    ck_assert_int_eq(wire_batch_end(&b, 1), 0);

    wire_batch_header_t h;
    errstr[0] = 0;
    int64_t rc = wire_batch_validate(wr.wr_buf, wr.wr_len, WIRE_BATCH_CHECK_RECORDS,
                                     WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr, sizeof errstr);
    ck_assert_msg(rc == (int64_t)wr.wr_len, "%" PRId64 ": %s", rc, errstr);
    ck_assert_int_eq(h.recordCount, 3);
    ck_assert_int_eq(h.lastOffsetDelta, 5); /* kept: the batch still ends at offset 1005 */
    ck_assert_int_eq(wire_batch_last_offset(&h), 1005);
    ck_assert_int_eq(h.baseTimestamp, INT64_C(1700000000000));
    ck_assert_int_eq(h.maxTimestamp, INT64_C(1700000000004));

    errstr[0] = 0;
    ck_assert_int_eq(wire_batch_validate(wr.wr_buf, wr.wr_len, CLIENT, WIRE_INFLATE_LIMIT_DEFAULT,
                                         &h, errstr, sizeof errstr),
                     EDDY_ERR_BATCH_LAST_OFFSET_DELTA);
    assert_contains(errstr, "lastOffsetDelta");

    ck_assert_int_eq(
        wire_record_iter_open(&it, wr.wr_buf, wr.wr_len, WIRE_INFLATE_LIMIT_DEFAULT, NULL, 0), 0);
    char a[1024], want[1024];
    for (int i = 0; i < 3; i++) {
        wire_record_t rec;
        ck_assert_int_eq(wire_record_next(&it, &rec), 1);
        ck_assert_int_eq(rec.offsetDelta, keep[i]);
        ck_assert_int_eq(rec.offset, 1000 + keep[i]);
        /* Everything else, headers included, survives the copy. */
        format_record(a, sizeof a, "x", 0, &rec);
        format_record(want, sizeof want, "x", 0, &r[keep[i]]);
        ck_assert_str_eq(a, want);
    }
    ck_assert_int_eq(wire_record_next(&it, &(wire_record_t){0}), 0);

    /* Without keep_last_delta the batch ends at its last record instead. */
    wr_reset(&wr);
    wire_batch_begin(&b, &wr, &tmpl);
    for (int i = 0; i < 3; i++)
        wire_batch_add_record(&b, &r[keep[i]]);
    ck_assert_int_eq(wire_batch_end(&b, 0), 0);
    ck_assert_int_eq(wire_batch_validate(wr.wr_buf, wr.wr_len, WIRE_BATCH_CHECK_RECORDS,
                                         WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr, sizeof errstr),
                     (int64_t)wr.wr_len);
    ck_assert_int_eq(h.lastOffsetDelta, 4);
    wr_free(&wr);
    free(p);
}
END_TEST

START_TEST(test_extreme_header_values)
{
    /* Offsets and timestamps at the edge of int64 must not trip undefined
     * behaviour in the decoder (the UBSan build would abort). */
    size_t len;
    uint8_t *p = load_fixture("librdkafka-mixed.bin", &len);
    be64_store(p + BATCH_OFF_BASE_OFFSET, (uint64_t)INT64_MAX);
    be64_store(p + BATCH_OFF_BASE_TIMESTAMP, (uint64_t)INT64_MAX);
    wire_batch_crc_update(p, len);
    wire_batch_header_t h;
    ck_assert_int_eq(wire_batch_validate(p, len, CLIENT, WIRE_INFLATE_LIMIT_DEFAULT, &h, errstr,
                                         sizeof errstr),
                     (int64_t)len);
    wire_record_iter_t it;
    wire_record_t rec;
    ck_assert_int_eq(wire_record_iter_open(&it, p, len, WIRE_INFLATE_LIMIT_DEFAULT, NULL, 0), 0);
    ck_assert_int_eq(wire_record_next(&it, &rec), 1);
    ck_assert_int_eq(rec.offset, INT64_MAX);
    ck_assert_int_eq(rec.timestamp, INT64_MAX);
    int n = 1;
    while (wire_record_next(&it, &rec) == 1)
        n++;
    ck_assert_int_eq(n, 6);
    free(p);
}
END_TEST

TCase *tcase_recordbatch(void)
{
    TCase *tc = tcase_create("recordbatch");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_fixtures_validate);
    tcase_add_test(tc, test_fixtures_iterate_as_expected);
    tcase_add_test(tc, test_fixture_nulls_and_empties);
    tcase_add_test(tc, test_encode_roundtrip);
    tcase_add_test(tc, test_encode_two_batches_one_writer);
    tcase_add_test(tc, test_encode_empty_batch);
    tcase_add_test(tc, test_encode_reproduces_client_bytes);
    tcase_add_test(tc, test_fail_too_short);
    tcase_add_test(tc, test_fail_length_beyond_buffer);
    tcase_add_test(tc, test_fail_magic);
    tcase_add_test(tc, test_fail_crc_any_flipped_byte);
    tcase_add_test(tc, test_fail_last_offset_delta);
    tcase_add_test(tc, test_fail_codec);
    tcase_add_test(tc, test_fail_control_batch_from_client);
    tcase_add_test(tc, test_fail_record);
    tcase_add_test(tc, test_fail_record_overlong_varint);
    tcase_add_test(tc, test_fail_trailing_bytes);
    tcase_add_test(tc, test_fail_offsets_out_of_order);
    tcase_add_test(tc, test_truncation_every_prefix);
    tcase_add_test(tc, test_compacted_batch);
    tcase_add_test(tc, test_extreme_header_values);
    return tc;
}

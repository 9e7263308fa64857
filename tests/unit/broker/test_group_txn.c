/* What a broker start makes of the records in __consumer_offsets: group
 * records (members of a Stable group come back, tcase_group_replay) and
 * transactional offset commits (offsets of a
 * transaction stay pending until its marker; a commit marker makes them the
 * committed ones, an abort marker drops them, no marker at all leaves them
 * pending for the transaction coordinator), and group_txn_complete() on a
 * running coordinator. The records are written to the log the way the
 * group coordinator writes them (Kafka's schemas, a transactional batch
 * with no sequence, log_append_marker), then the broker is reopened. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/group_int.h"
#include "common/clock.h"
#include "common/config.h"
#include "include/eddy_broker.h"
#include "wire/recordbatch.h"

static char g_dir[64];

static const char *g_segment_bytes = "104857600";

static eddy_broker_t *open_broker(void)
{
    char err[512], set[128];
    eddy_props_t ps;
    eddy_props_init(&ps);
    const char *settings[] = {
        "listeners=PLAINTEXT://127.0.0.1:0",
        "log.level=error",
        "offsets.topic.num.partitions=1",
    };
    for (size_t i = 0; i < sizeof settings / sizeof *settings; i++)
        ck_assert_int_eq(eddy_props_set(&ps, "test", settings[i], err, sizeof err), 0);
    snprintf(set, sizeof set, "log.dirs=%s", g_dir);
    ck_assert_int_eq(eddy_props_set(&ps, "test", set, err, sizeof err), 0);
    snprintf(set, sizeof set, "offsets.topic.segment.bytes=%s", g_segment_bytes);
    ck_assert_int_eq(eddy_props_set(&ps, "test", set, err, sizeof err), 0);
    eddy_broker_t *b = eddy_broker_new(&ps, err, sizeof err);
    eddy_props_free(&ps);
    ck_assert_msg(b != NULL, "%s", err);
    return b;
}

static log_t *offsets_log(eddy_broker_t *b)
{
    return b->bk_groups->gc_topic->t_parts[0]->p_log;
}

/* One offset commit record (key v1, value v3) in a batch of producer pid
 * (transactional, no sequence) or, with pid -1, a plain batch. */
static void write_offset(eddy_broker_t *b, int64_t pid, const char *group, const char *topic,
                         int32_t partition, int64_t offset)
{
    eddy_wr_t batch, key, val;
    wr_init(&batch);
    wr_init(&key);
    wr_init(&val);
    wire_batch_header_t tmpl = wire_batch_header_default();
    if (pid >= 0) {
        tmpl.producerId = pid;
        tmpl.producerEpoch = 0;
        tmpl.baseSequence = -1;
        tmpl.attributes = BATCH_ATTR_TRANSACTIONAL;
    }
    wire_batch_builder_t bb;
    wire_batch_begin(&bb, &batch, &tmpl);
    wr_i16(&key, 1);
    wr_cstring(&key, group);
    wr_cstring(&key, topic);
    wr_i32(&key, partition);
    wr_i16(&val, 3);
    wr_i64(&val, offset);
    wr_i32(&val, -1);
    wr_cstring(&val, "");
    wr_i64(&val, eddy_wall_ms());
    wire_batch_add(&bb, eddy_wall_ms(), key.wr_buf, (int32_t)key.wr_len, val.wr_buf,
                   (int32_t)val.wr_len, NULL, 0);
    ck_assert_int_eq(wire_batch_end(&bb, 0), 0);
    log_append_info_t info;
    char err[256];
    int rc = log_append(offsets_log(b), batch.wr_buf, batch.wr_len,
                        pid >= 0 ? LOG_APPEND_COORDINATOR : 0, eddy_wall_ms(), &info, err,
                        sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    wr_free(&batch);
    wr_free(&key);
    wr_free(&val);
}

static void write_marker(eddy_broker_t *b, int64_t pid, int commit)
{
    int64_t at;
    ck_assert_int_eq(log_append_marker(offsets_log(b), pid, 0, commit, 0, eddy_wall_ms(), &at), 0);
}

/* The committed offset of group's topic-partition, -1 when none. */
static int64_t committed(eddy_broker_t *b, const char *group, const char *topic, int32_t part)
{
    group_t *g = grp_find(b->bk_groups, kstr_c(group));
    for (grp_offset_t *o = g ? g->g_offsets : NULL; o; o = o->o_next)
        if (o->o_partition == part && strcmp(o->o_topic, topic) == 0)
            return o->o_offset;
    return -1;
}

/* The pending transactional offset of pid, -1 when none. */
static int64_t pending(eddy_broker_t *b, int64_t pid, const char *group, const char *topic,
                       int32_t part)
{
    group_t *g = grp_find(b->bk_groups, kstr_c(group));
    for (grp_offset_t *o = g ? g->g_txn_offsets : NULL; o; o = o->o_next)
        if (o->o_producer_id == pid && o->o_partition == part && strcmp(o->o_topic, topic) == 0)
            return o->o_offset;
    return -1;
}

static eddy_broker_t *reopen(eddy_broker_t *b)
{
    eddy_broker_destroy(b);
    return open_broker();
}

static void setup(void)
{
    g_segment_bytes = "104857600";
    snprintf(g_dir, sizeof g_dir, "/tmp/eddy-grptxn-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", g_dir);
}

/* Replay: committed, aborted, and still open transactions, and a plain commit. */
START_TEST(replay_pending_commit_abort)
{
    eddy_broker_t *b = open_broker();
    write_offset(b, 1000, "g", "t", 0, 5);
    write_offset(b, 2000, "g", "t", 1, 7);
    write_offset(b, 3000, "g", "t", 2, 9);
    write_offset(b, -1, "g", "t", 3, 11);
    write_marker(b, 1000, 1);
    write_marker(b, 2000, 0);
    b = reopen(b);
    ck_assert_int_eq(committed(b, "g", "t", 0), 5);   /* commit marker read */
    ck_assert_int_eq(pending(b, 1000, "g", "t", 0), -1);
    ck_assert_int_eq(committed(b, "g", "t", 1), -1);  /* aborted: gone */
    ck_assert_int_eq(pending(b, 2000, "g", "t", 1), -1);
    ck_assert_int_eq(committed(b, "g", "t", 2), -1);  /* no marker: still pending */
    ck_assert_int_eq(pending(b, 3000, "g", "t", 2), 9);
    ck_assert_int_eq(committed(b, "g", "t", 3), 11);  /* plain commit: at once */
    eddy_broker_destroy(b);
}
END_TEST

/* A transaction left open at the end of replay is completed afterwards by
 * group_txn_complete(), and the marker it wrote holds across a restart. */
START_TEST(pending_at_end_completed_later)
{
    eddy_broker_t *b = open_broker();
    write_offset(b, 3000, "g", "t", 2, 9);
    write_offset(b, 4000, "g", "t", 3, 13);
    b = reopen(b);
    ck_assert_int_eq(pending(b, 3000, "g", "t", 2), 9);
    ck_assert_int_eq(pending(b, 4000, "g", "t", 3), 13);
    ck_assert_int_eq(group_txn_complete(b->bk_groups, "g", 3000, 0, 1, 0), 0);
    ck_assert_int_eq(group_txn_complete(b->bk_groups, "g", 4000, 0, 0, 0), 0);
    ck_assert_int_eq(committed(b, "g", "t", 2), 9);
    ck_assert_int_eq(pending(b, 3000, "g", "t", 2), -1);
    ck_assert_int_eq(committed(b, "g", "t", 3), -1);
    ck_assert_int_eq(pending(b, 4000, "g", "t", 3), -1);
    b = reopen(b);
    ck_assert_int_eq(committed(b, "g", "t", 2), 9);
    ck_assert_int_eq(pending(b, 3000, "g", "t", 2), -1);
    ck_assert_int_eq(committed(b, "g", "t", 3), -1);
    ck_assert_int_eq(pending(b, 4000, "g", "t", 3), -1);
    eddy_broker_destroy(b);
}
END_TEST

/* Kafka's rule for a mix: a plain commit written after the transaction's
 * offset stays when the transaction commits; one written before is
 * replaced. Live and after replay alike. */
START_TEST(later_plain_commit_wins)
{
    eddy_broker_t *b = open_broker();
    write_offset(b, -1, "g", "t", 0, 1);    /* before the transaction's */
    write_offset(b, 5000, "g", "t", 0, 20);
    write_offset(b, 5000, "g", "t", 1, 21);
    write_offset(b, -1, "g", "t", 1, 30);   /* after it */
    b = reopen(b);
    ck_assert_int_eq(committed(b, "g", "t", 0), 1);
    ck_assert_int_eq(committed(b, "g", "t", 1), 30);
    ck_assert_int_eq(group_txn_complete(b->bk_groups, "g", 5000, 0, 1, 0), 0);
    ck_assert_int_eq(committed(b, "g", "t", 0), 20);
    ck_assert_int_eq(committed(b, "g", "t", 1), 30);
    b = reopen(b);
    ck_assert_int_eq(committed(b, "g", "t", 0), 20);
    ck_assert_int_eq(committed(b, "g", "t", 1), 30);
    eddy_broker_destroy(b);
}
END_TEST

/* One marker ends the producer's offsets in every group of the partition
 * (Kafka keys them by producer id), and only that producer's. */
START_TEST(marker_covers_partition_groups)
{
    eddy_broker_t *b = open_broker();
    write_offset(b, 6000, "g1", "t", 0, 40);
    write_offset(b, 6000, "g2", "t", 0, 41);
    write_offset(b, 7000, "g2", "t", 1, 42);
    b = reopen(b);
    ck_assert_int_eq(group_txn_complete(b->bk_groups, "g1", 6000, 1, 1, 0), 0);
    ck_assert_int_eq(committed(b, "g1", "t", 0), 40);
    ck_assert_int_eq(committed(b, "g2", "t", 0), 41);
    ck_assert_int_eq(pending(b, 7000, "g2", "t", 1), 42);
    ck_assert_int_eq(committed(b, "g2", "t", 1), -1);
    eddy_broker_destroy(b);
}
END_TEST

/* Compaction of __consumer_offsets (its cleaner keeps a commit marker while
 * a batch of its transaction stays, drops aborted records without letting
 * them hide a committed value) leaves a log whose replay gives the same
 * offsets, none of them pending. */
START_TEST(compacted_log_replays_the_same)
{
    g_segment_bytes = "300";
    eddy_broker_t *b = open_broker();
    write_offset(b, -1, "g", "t", 0, 1);
    write_offset(b, 8000, "g", "t", 0, 10);  /* committed below */
    write_offset(b, 8000, "g", "t", 1, 11);  /* replaced by 8002's */
    write_marker(b, 8000, 1);
    write_offset(b, 8001, "g", "t", 0, 20);  /* aborted below */
    write_marker(b, 8001, 0);
    write_offset(b, 8002, "g", "t", 1, 30);
    write_marker(b, 8002, 1);
    write_offset(b, 8003, "g", "t", 4, 40);  /* committed, then replaced by a plain one */
    write_marker(b, 8003, 1);
    write_offset(b, -1, "g", "t", 4, 41);
    for (int i = 0; i < 8; i++)
        write_offset(b, -1, "g", "t", 2, 100 + i);
    ck_assert_int_gt(log_segment_count(offsets_log(b)), 3);
    /* Past delete.retention.ms: markers with no batch left go too. */
    int64_t before = log_size_bytes(offsets_log(b));
    ck_assert_int_eq(log_compact(offsets_log(b), eddy_wall_ms() + 7LL * 24 * 3600 * 1000, 1), 0);
    ck_assert_int_lt(log_size_bytes(offsets_log(b)), before);
    b = reopen(b);
    ck_assert_int_eq(committed(b, "g", "t", 0), 10);
    ck_assert_int_eq(committed(b, "g", "t", 1), 30);
    ck_assert_int_eq(committed(b, "g", "t", 2), 107);
    ck_assert_int_eq(committed(b, "g", "t", 4), 41);
    group_t *g = grp_find(b->bk_groups, kstr_c("g"));
    ck_assert_ptr_nonnull(g);
    ck_assert_ptr_null(g->g_txn_offsets);
    eddy_broker_destroy(b);
}
END_TEST

/* ---- group records: members across a restart ---- */

typedef struct test_member {
    const char *id, *instance, *assignment;
    int32_t session_ms;
} test_member_t;

/* A group metadata record (key v2) with value version ver (0-3; higher: laid out as 3) as Kafka's
 * GroupMetadataValue lays it out; n < 0 writes a tombstone. cut > 0 drops
 * that many bytes from the value's end (a record that does not parse). */
static void write_group(eddy_broker_t *b, const char *group, int16_t ver, int32_t gen,
                        const char *leader, const test_member_t *m, int n, size_t cut)
{
    eddy_wr_t batch, key, val;
    wr_init(&batch);
    wr_init(&key);
    wr_init(&val);
    wire_batch_header_t tmpl = wire_batch_header_default();
    wire_batch_builder_t bb;
    wire_batch_begin(&bb, &batch, &tmpl);
    wr_i16(&key, 2);
    wr_cstring(&key, group);
    wr_i16(&val, ver);
    wr_cstring(&val, "consumer");
    wr_i32(&val, gen);
    wr_cstring(&val, n > 0 ? "range" : NULL);
    wr_cstring(&val, leader);
    if (ver >= 2)
        wr_i64(&val, eddy_wall_ms());
    wr_i32(&val, n > 0 ? n : 0);
    for (int i = 0; i < n; i++) {
        wr_cstring(&val, m[i].id);
        if (ver >= 3)
            wr_cstring(&val, m[i].instance);
        wr_cstring(&val, "client");
        wr_cstring(&val, "/127.0.0.1");
        if (ver >= 1)
            wr_i32(&val, 60000);
        wr_i32(&val, m[i].session_ms);
        wr_kbytes(&val, kstr_c("subscription"));
        wr_kbytes(&val, kstr_c(m[i].assignment));
    }
    ck_assert_uint_gt(val.wr_len, cut);
    wire_batch_add(&bb, eddy_wall_ms(), key.wr_buf, (int32_t)key.wr_len, n < 0 ? NULL : val.wr_buf,
                   n < 0 ? -1 : (int32_t)(val.wr_len - cut), NULL, 0);
    ck_assert_int_eq(wire_batch_end(&bb, 0), 0);
    log_append_info_t info;
    char err[256];
    ck_assert_msg(log_append(offsets_log(b), batch.wr_buf, batch.wr_len, 0, eddy_wall_ms(), &info,
                             err, sizeof err) == 0,
                  "%s", err);
    wr_free(&batch);
    wr_free(&key);
    wr_free(&val);
}

/* A group stored Stable comes back Stable with its members, their
 * assignments and the leader, sessions starting at the replay; the last
 * record wins (a later Empty generation drops the members); every version
 * of the value parses; a record that does not parse leaves the group Empty;
 * one of an unknown version leaves the group as the records before it said. */
START_TEST(stable_group_members_survive_a_restart)
{
    eddy_broker_t *b = open_broker();
    const test_member_t two[] = {{"m-1", NULL, "a1", 10000}, {"m-2", "inst-2", "a2", 45000}};
    write_group(b, "g-stable", 3, 7, "m-1", two, 2, 0);
    write_group(b, "g-emptied", 3, 3, "m-1", two, 2, 0);
    write_group(b, "g-emptied", 3, 4, NULL, NULL, 0, 0);
    write_group(b, "g-v0", 0, 2, "m-1", two, 1, 0);
    write_group(b, "g-cut", 3, 5, "m-1", two, 2, 3);
    write_group(b, "g-future", 3, 2, "m-1", two, 2, 0);
    write_group(b, "g-future", 9, 3, "m-1", two, 2, 0); /* a version this broker cannot read */
    int64_t before = grp_now_ms();
    b = reopen(b);
    int64_t after = grp_now_ms();

    group_t *g = grp_find(b->bk_groups, kstr_c("g-stable"));
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(g->g_state, GRP_STABLE);
    ck_assert_int_eq(g->g_generation, 7);
    ck_assert_str_eq(g->g_leader, "m-1");
    ck_assert_str_eq(g->g_protocol, "range");
    ck_assert_int_eq(g->g_nmembers, 2);
    grp_member_t *m1 = grp_member_find(g, kstr_c("m-1"));
    grp_member_t *m2 = grp_member_find(g, kstr_c("m-2"));
    ck_assert_ptr_nonnull(m1);
    ck_assert_ptr_nonnull(m2);
    ck_assert_ptr_null(m1->m_instance_id);
    ck_assert_str_eq(m2->m_instance_id, "inst-2");
    ck_assert_int_eq(m2->m_assignment_len, 2);
    ck_assert_int_eq(memcmp(m2->m_assignment, "a2", 2), 0);
    ck_assert_int_eq(m2->m_session_timeout, 45000);
    ck_assert_int_ge(m2->m_expires_ms, before + 45000);
    ck_assert_int_le(m2->m_expires_ms, after + 45000);
    const grp_protocol_t *p = grp_member_protocol(m1, "range");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->gp_meta_len, (int)strlen("subscription"));
    ck_assert_int_eq(grp_check_static(g, kstr_c("m-2"), kstr_c("inst-2")), KERR_NONE);

    g = grp_find(b->bk_groups, kstr_c("g-emptied"));
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(g->g_state, GRP_EMPTY);
    ck_assert_int_eq(g->g_generation, 4);
    ck_assert_ptr_null(g->g_members);

    g = grp_find(b->bk_groups, kstr_c("g-v0"));
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(g->g_state, GRP_STABLE);
    ck_assert_int_eq(g->g_nmembers, 1);
    ck_assert_int_eq(g->g_members->m_session_timeout, 10000);

    g = grp_find(b->bk_groups, kstr_c("g-future"));
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(g->g_state, GRP_STABLE);
    ck_assert_int_eq(g->g_generation, 2);
    ck_assert_int_eq(g->g_nmembers, 2);

    g = grp_find(b->bk_groups, kstr_c("g-cut"));
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(g->g_state, GRP_EMPTY);
    ck_assert_int_eq(g->g_generation, 5);
    ck_assert_ptr_null(g->g_members);
    eddy_broker_destroy(b);
}
END_TEST

TCase *tcase_group_replay(void)
{
    TCase *tc = tcase_create("group_replay");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, stable_group_members_survive_a_restart);
    return tc;
}

TCase *tcase_group_txn(void)
{
    TCase *tc = tcase_create("group_txn");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, replay_pending_commit_abort);
    tcase_add_test(tc, pending_at_end_completed_later);
    tcase_add_test(tc, later_plain_commit_wins);
    tcase_add_test(tc, marker_covers_partition_groups);
    tcase_add_test(tc, compacted_log_replays_the_same);
    return tc;
}

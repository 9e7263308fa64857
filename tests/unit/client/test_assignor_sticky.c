/* The "sticky" assignor: the userData layout against bytes written here from
 * Kafka's StickyAssignor schema (STICKY_ASSIGNOR_USER_DATA_V0/V1 in
 * clients/src/main/java/org/apache/kafka/clients/consumer/StickyAssignor.java,
 * which librdkafka's rd_kafka_sticky_assignor_get_metadata writes the same
 * way); cases from Kafka's StickyAssignorTest; and properties checked over
 * thousands of random groups - validity, balance, minimal movement when
 * subscriptions are equal, and stability - with previous ownership worked out
 * in this file from the documented rules, not by the code under test. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assignor_helpers.h"
#include "client/assignor.h"
#include "common/err.h"
#include "common/log.h"

static uint64_t rnd_state;
static uint32_t rnd(void)
{
    uint64_t x = rnd_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rnd_state = x;
    return (uint32_t)(x >> 16);
}

/* The assignor warns when two members claim a partition in the same
 * generation; the tests count those lines instead of printing them. */
static int conflict_warnings;
static void count_sink(int level, const char *facility, const char *line, void *opaque)
{
    (void)opaque;
    if (level == EDDY_LOG_LVL_WARN && strcmp(facility, "assignor") == 0 &&
        strstr(line, "same generation"))
        conflict_warnings++;
}
static void sink_setup(void)
{
    conflict_warnings = 0;
    eddy_log_set_sink(count_sink, NULL);
}
static void sink_teardown(void)
{
    eddy_log_set_sink(NULL, NULL);
}

/* ---- userData bytes and the member side ----------------------------------- */

START_TEST(user_data_layout)
{
    int32_t p1[] = {0, 2}, p2[] = {1};
    assignor_topic_t t[] = {{"t1", p1, 2}, {"t2", p2, 1}};
    /* clang-format off */
    static const uint8_t v1[] = {
        0, 0, 0, 2,                                         /* previous_assignment: 2 */
        0, 2, 't', '1', 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2, /* t1 [0, 2] */
        0, 2, 't', '2', 0, 0, 0, 1, 0, 0, 0, 1,             /* t2 [1] */
        0, 0, 0, 9,                                         /* generation 9 */
    };
    /* clang-format on */
    eddy_wr_t w;
    wr_init(&w);
    ck_assert_int_eq(assignor_sticky_user_data_encode(&w, t, 2, 9), 0);
    ck_assert_uint_eq(w.wr_len, sizeof v1);
    ck_assert_mem_eq(w.wr_buf, v1, sizeof v1);
    wr_free(&w);

    eddy_arena_t a;
    arena_init(&a, 0);
    eddy_rd_t rd;
    assignor_topic_t *d;
    int32_t nd, gen;
    rd_init(&rd, v1, sizeof v1);
    ck_assert_int_eq(assignor_sticky_user_data_decode(&rd, &a, &d, &nd, &gen), 0);
    ck_assert_int_eq(nd, 2);
    ck_assert_str_eq(d[1].at_topic, "t2");
    ck_assert_int_eq(d[0].at_partitions[1], 2);
    ck_assert_int_eq(gen, 9);
    /* V0: no generation. Kafka falls back to V0 when V1 does not parse, so
     * 1-3 stray bytes after the partitions also read as V0. */
    rd_init(&rd, v1, sizeof v1 - 4);
    ck_assert_int_eq(assignor_sticky_user_data_decode(&rd, &a, &d, &nd, &gen), 0);
    ck_assert_int_eq(nd, 2);
    ck_assert_int_eq(gen, ASSIGNOR_GENERATION_NONE);
    rd_init(&rd, v1, sizeof v1 - 2);
    ck_assert_int_eq(assignor_sticky_user_data_decode(&rd, &a, &d, &nd, &gen), 0);
    ck_assert_int_eq(gen, ASSIGNOR_GENERATION_NONE);
    rd_init(&rd, v1, sizeof v1 - 5);
    ck_assert_int_eq(assignor_sticky_user_data_decode(&rd, &a, &d, &nd, &gen), EDDY_ERR_TRUNCATED);
    ck_assert_int_eq(nd, 0);
    arena_free(&a);
}
END_TEST

START_TEST(member_side)
{
    eddy_arena_t a;
    arena_init(&a, 0);
    assignor_t asg;
    char errstr[128];
    ck_assert_int_eq(assignor_init(&asg, "sticky", errstr, sizeof errstr), 0);
    ck_assert_str_eq(asg.asg_name, "sticky");
    const char *topics[] = {"t1"};
    kstr_t ud;
    /* No assignment yet: null userData, as Kafka's StickyAssignor. */
    ck_assert_int_eq(assignor_user_data(&asg, &a, topics, 1, &ud), 0);
    ck_assert_int_eq(ud.len, -1);
    int32_t p[] = {3, 4};
    assignor_topic_t t = {"t1", p, 2};
    assignor_assignment_t as = {.aa_topics = &t, .aa_ntopics = 1, .aa_user_data = KSTR_NULL};
    ck_assert_int_eq(assignor_on_assignment(&asg, &as, 5), 0);
    p[0] = 99; /* the assignor kept its own copy */
    ck_assert_int_eq(assignor_user_data(&asg, &a, topics, 1, &ud), 0);
    /* clang-format off */
    static const uint8_t want[] = {0, 0, 0, 1, 0, 2, 't', '1', 0, 0, 0, 2,
                                   0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5};
    /* clang-format on */
    ck_assert_int_eq(ud.len, (int32_t)sizeof want);
    ck_assert_mem_eq(ud.ptr, want, sizeof want);
    /* An empty assignment is remembered as empty, with its generation. */
    as.aa_ntopics = 0;
    ck_assert_int_eq(assignor_on_assignment(&asg, &as, 6), 0);
    ck_assert_int_eq(assignor_user_data(&asg, &a, topics, 1, &ud), 0);
    static const uint8_t empty[] = {0, 0, 0, 0, 0, 0, 0, 6};
    ck_assert_int_eq(ud.len, (int32_t)sizeof empty);
    ck_assert_mem_eq(ud.ptr, empty, sizeof empty);
    assignor_close(&asg);
    ck_assert_ptr_null(asg.asg_opaque);
    arena_free(&a);
}
END_TEST

/* ---- a group of members, each with previous ownership --------------------- */

#define MAXT 6
#define MAXM 10
#define MAXP 12

typedef struct tgroup {
    int nt; /* topics in metadata; index nt is a topic that does not exist */
    char tname[MAXT + 1][8];
    assignor_topic_info_t topics[MAXT];
    int nm;
    char mid[MAXM][16], inst[MAXM][16];
    int sub[MAXM][MAXT + 1]; /* member subscribes to topic */
    int pat[MAXM];           /* subscription pattern (equal patterns, equal subscriptions) */
    const char *mtopics[MAXM][MAXT + 1];
    /* Claims: member m says it owned partition p of topic t. */
    int claim[MAXM][MAXT + 1][MAXP + 2];
    int gen[MAXM];
    int via_user_data[MAXM];
    assignor_topic_t owned[MAXM][MAXT + 1];
    int32_t ownedp[MAXM][MAXT + 1][MAXP + 2];
    eddy_wr_t ud[MAXM];
    assignor_subscription_t subs[MAXM];
} tgroup_t;

static void tg_init(tgroup_t *g, int nt, const int *np)
{
    memset(g, 0, sizeof *g);
    g->nt = nt;
    for (int t = 0; t <= nt; t++) {
        snprintf(g->tname[t], sizeof g->tname[t], t < nt ? "t%d" : "ghost", t);
        if (t < nt)
            g->topics[t] = (assignor_topic_info_t){g->tname[t], np[t]};
    }
}

static void tg_member(tgroup_t *g, const char *id, const char *inst, const int *sub)
{
    int m = g->nm++;
    snprintf(g->mid[m], sizeof g->mid[m], "%s", id);
    if (inst)
        snprintf(g->inst[m], sizeof g->inst[m], "%s", inst);
    for (int t = 0; t <= g->nt; t++)
        g->sub[m][t] = sub[t];
    g->gen[m] = ASSIGNOR_GENERATION_NONE;
}

/* Builds subs[] from the members and their claims. */
static void tg_build(tgroup_t *g)
{
    for (int m = 0; m < g->nm; m++) {
        int nst = 0, nown = 0;
        for (int t = 0; t <= g->nt; t++) {
            if (g->sub[m][t])
                g->mtopics[m][nst++] = g->tname[t];
            int32_t n = 0;
            for (int p = 0; p < MAXP + 2; p++)
                if (g->claim[m][t][p])
                    g->ownedp[m][t][n++] = p;
            if (n)
                g->owned[m][nown++] = (assignor_topic_t){g->tname[t], g->ownedp[m][t], n};
        }
        assignor_subscription_t *s = &g->subs[m];
        *s = (assignor_subscription_t){.as_member_id = g->mid[m],
                                       .as_group_instance_id = g->inst[m][0] ? g->inst[m] : NULL,
                                       .as_version = 2,
                                       .as_topics = g->mtopics[m],
                                       .as_ntopics = nst,
                                       .as_user_data = KSTR_NULL,
                                       .as_generation_id = ASSIGNOR_GENERATION_NONE};
        if (!nown)
            continue;
        if (g->via_user_data[m]) {
            wr_free(&g->ud[m]);
            wr_init(&g->ud[m]);
            ck_assert_int_eq(
                assignor_sticky_user_data_encode(&g->ud[m], g->owned[m], nown, g->gen[m]), 0);
            s->as_user_data = (kstr_t){(const char *)g->ud[m].wr_buf, (int32_t)g->ud[m].wr_len};
        } else {
            s->as_owned = g->owned[m];
            s->as_nowned = nown;
            s->as_generation_id = g->gen[m];
        }
    }
}

static void tg_free(tgroup_t *g)
{
    for (int m = 0; m < MAXM; m++)
        wr_free(&g->ud[m]);
}

/* The previous owner of each partition by the documented rules, worked out
 * here: only claims on existing partitions of subscribed topics count; the
 * highest generation wins; equal highest claims cancel. */
static void tg_prev(const tgroup_t *g, int prev[MAXT][MAXP])
{
    for (int t = 0; t < g->nt; t++)
        for (int p = 0; p < g->topics[t].ati_npartitions; p++) {
            int best = -1, best_gen = 0, tied = 0;
            for (int m = 0; m < g->nm; m++) {
                if (!g->claim[m][t][p] || !g->sub[m][t])
                    continue;
                if (best < 0 || g->gen[m] > best_gen) {
                    best = m;
                    best_gen = g->gen[m];
                    tied = 0;
                } else if (g->gen[m] == best_gen) {
                    tied = 1;
                }
            }
            prev[t][p] = tied ? -1 : best;
        }
}

/* Reads out[] into owner[t][p] (member index), checking that every assigned
 * partition exists, is of a topic its member subscribes to, and is assigned
 * once; and that every partition of a subscribed topic is assigned. */
static void tg_owners(const tgroup_t *g, const assignor_assignment_t *out, int owner[MAXT][MAXP],
                      int cnt[MAXM])
{
    for (int t = 0; t < MAXT; t++)
        for (int p = 0; p < MAXP; p++)
            owner[t][p] = -1;
    for (int m = 0; m < g->nm; m++) {
        cnt[m] = 0;
        ck_assert_str_eq(out[m].aa_member_id, g->mid[m]);
        for (int i = 0; i < out[m].aa_ntopics; i++) {
            int t = 0;
            while (t < g->nt && strcmp(g->tname[t], out[m].aa_topics[i].at_topic) != 0)
                t++;
            ck_assert_msg(t < g->nt, "member %s got unknown topic %s", g->mid[m],
                          out[m].aa_topics[i].at_topic);
            ck_assert_msg(g->sub[m][t], "member %s got %s without subscribing to it", g->mid[m],
                          g->tname[t]);
            for (int j = 0; j < out[m].aa_topics[i].at_npartitions; j++) {
                int p = out[m].aa_topics[i].at_partitions[j];
                ck_assert(p >= 0 && p < g->topics[t].ati_npartitions);
                ck_assert_msg(owner[t][p] < 0, "%s-%d assigned to %s and %s", g->tname[t], p,
                              g->mid[owner[t][p]], g->mid[m]);
                owner[t][p] = m;
                cnt[m]++;
            }
        }
    }
    for (int t = 0; t < g->nt; t++) {
        int subscribed = 0;
        for (int m = 0; m < g->nm; m++)
            subscribed |= g->sub[m][t];
        for (int p = 0; p < g->topics[t].ati_npartitions; p++)
            ck_assert_msg((owner[t][p] >= 0) == subscribed, "%s-%d: owner %d, subscribed %d",
                          g->tname[t], p, owner[t][p], subscribed);
    }
}

/* Balance, as the sum of squared counts being minimal: from no member can a
 * partition reach one holding two fewer, directly or along a chain of members
 * each able to take a partition the previous one holds (checked here by a
 * search of its own). Members with equal subscriptions are within one. */
static void tg_check_balance(const tgroup_t *g, const int owner[MAXT][MAXP], const int cnt[MAXM])
{
    /* can[x][y]: x holds a partition of a topic y subscribes to. */
    int can[MAXM][MAXM] = {{0}};
    for (int t = 0; t < g->nt; t++)
        for (int p = 0; p < g->topics[t].ati_npartitions; p++)
            for (int y = 0; y < g->nm; y++)
                if (owner[t][p] >= 0 && owner[t][p] != y && g->sub[y][t])
                    can[owner[t][p]][y] = 1;
    for (int src = 0; src < g->nm; src++) {
        int reach[MAXM] = {0}, grew = 1;
        reach[src] = 1;
        while (grew) {
            grew = 0;
            for (int x = 0; x < g->nm; x++)
                for (int y = 0; y < g->nm && reach[x]; y++)
                    if (can[x][y] && !reach[y])
                        reach[y] = grew = 1;
        }
        for (int y = 0; y < g->nm; y++)
            ck_assert_msg(!reach[y] || cnt[src] - cnt[y] < 2,
                          "%s holds %d partitions and could pass one on to %s, which holds %d",
                          g->mid[src], cnt[src], g->mid[y], cnt[y]);
    }
    for (int x = 0; x < g->nm; x++)
        for (int y = 0; y < g->nm; y++)
            if (g->pat[x] == g->pat[y])
                ck_assert_msg(abs(cnt[x] - cnt[y]) <= 1, "%s has %d, %s has %d", g->mid[x], cnt[x],
                              g->mid[y], cnt[y]);
}

/* Runs the assignor on the group, checks validity and balance, and fills
 * owner and cnt. */
static void tg_assign(tgroup_t *g, eddy_arena_t *a, assignor_assignment_t *out,
                      int owner[MAXT][MAXP], int cnt[MAXM])
{
    tg_build(g);
    run_assignor("sticky", a, g->topics, g->nt, g->subs, g->nm, out);
    tg_owners(g, out, owner, cnt);
    tg_check_balance(g, owner, cnt);
}

/* Makes the group's claims what the assignment just gave, at generation gen. */
static void tg_claim_result(tgroup_t *g, const int owner[MAXT][MAXP], int gen)
{
    memset(g->claim, 0, sizeof g->claim);
    for (int t = 0; t < g->nt; t++)
        for (int p = 0; p < g->topics[t].ati_npartitions; p++)
            if (owner[t][p] >= 0)
                g->claim[owner[t][p]][t][p] = 1;
    for (int m = 0; m < g->nm; m++)
        g->gen[m] = gen;
}

/* Removes member m (it left the group). */
static void tg_remove(tgroup_t *g, int m)
{
    g->nm--;
    for (int i = m; i < g->nm; i++) {
        memcpy(g->mid[i], g->mid[i + 1], sizeof g->mid[i]);
        memcpy(g->inst[i], g->inst[i + 1], sizeof g->inst[i]);
        memcpy(g->sub[i], g->sub[i + 1], sizeof g->sub[i]);
        memcpy(g->claim[i], g->claim[i + 1], sizeof g->claim[i]);
        g->pat[i] = g->pat[i + 1];
        g->gen[i] = g->gen[i + 1];
        g->via_user_data[i] = g->via_user_data[i + 1];
    }
    memset(g->claim[g->nm], 0, sizeof g->claim[g->nm]);
}

/* ---- cases ---------------------------------------------------------------- */

START_TEST(kafka_add_remove_consumer)
{
    /* StickyAssignorTest.testAddRemoveConsumerOneTopic: one member takes all
     * three partitions; a second joins and gets one, the first keeps two;
     * the first leaves and the second takes all, keeping its own. */
    eddy_arena_t a;
    arena_init(&a, 0);
    tgroup_t g;
    int np[] = {3}, s[] = {1, 0}, owner[MAXT][MAXP], cnt[MAXM];
    assignor_assignment_t out[MAXM];
    tg_init(&g, 1, np);
    tg_member(&g, "consumer1", NULL, s);
    tg_assign(&g, &a, out, owner, cnt);
    EXPECT_ASSIGNED(out, 1, "consumer1", "t0-0 t0-1 t0-2");
    tg_claim_result(&g, owner, 1);
    g.via_user_data[0] = 1;

    tg_member(&g, "consumer2", NULL, s);
    tg_assign(&g, &a, out, owner, cnt);
    ck_assert_int_eq(cnt[0], 2);
    ck_assert_int_eq(cnt[1], 1);
    tg_claim_result(&g, owner, 2);
    g.via_user_data[1] = 1;

    tg_remove(&g, 0);
    tg_assign(&g, &a, out, owner, cnt);
    EXPECT_ASSIGNED(out, 1, "consumer2", "t0-0 t0-1 t0-2");
    tg_free(&g);
    arena_free(&a);
}
END_TEST

START_TEST(leave_and_join)
{
    /* Six members on 4 topics x 5 partitions; equal subscriptions. */
    eddy_arena_t a;
    arena_init(&a, 0);
    tgroup_t g;
    int np[] = {5, 5, 5, 5}, s[] = {1, 1, 1, 1, 0}, owner[MAXT][MAXP], cnt[MAXM];
    int before[MAXT][MAXP];
    assignor_assignment_t out[MAXM];
    tg_init(&g, 4, np);
    for (int m = 0; m < 6; m++) {
        char id[8];
        snprintf(id, sizeof id, "m%d", m);
        tg_member(&g, id, NULL, s);
        g.via_user_data[m] = m % 2;
    }
    tg_assign(&g, &a, out, owner, cnt);
    tg_claim_result(&g, owner, 1);
    memcpy(before, owner, sizeof before);

    /* m2 leaves: everyone else keeps all they had. */
    tg_remove(&g, 2);
    tg_assign(&g, &a, out, owner, cnt);
    for (int t = 0; t < 4; t++)
        for (int p = 0; p < 5; p++) {
            int was = before[t][p];
            if (was == 2)
                continue;
            int now_idx = was > 2 ? was - 1 : was;
            ck_assert_msg(owner[t][p] == now_idx, "t%d-%d moved from m%d after m2 left", t, p, was);
        }
    tg_claim_result(&g, owner, 2);
    memcpy(before, owner, sizeof before);

    /* A new member joins: exactly floor(20 / 6) = 3 partitions move, all to
     * it, and nobody else gains anything. */
    tg_member(&g, "new", NULL, s);
    tg_assign(&g, &a, out, owner, cnt);
    int moved = 0;
    for (int t = 0; t < 4; t++)
        for (int p = 0; p < 5; p++)
            if (owner[t][p] != before[t][p]) {
                moved++;
                ck_assert_int_eq(owner[t][p], g.nm - 1);
            }
    ck_assert_int_eq(moved, 3);
    ck_assert_int_eq(cnt[g.nm - 1], 3);

    /* The same group again, nothing changed: nothing moves. */
    tg_claim_result(&g, owner, 3);
    memcpy(before, owner, sizeof before);
    tg_assign(&g, &a, out, owner, cnt);
    ck_assert_mem_eq(owner, before, sizeof before);
    tg_free(&g);
    arena_free(&a);
}
END_TEST

START_TEST(generations_and_sources)
{
    eddy_arena_t a;
    arena_init(&a, 0);
    tgroup_t g;
    int np[] = {4}, s[] = {1, 0}, owner[MAXT][MAXP], cnt[MAXM];
    assignor_assignment_t out[MAXM];
    tg_init(&g, 1, np);
    tg_member(&g, "c1", NULL, s);
    tg_member(&g, "c2", NULL, s);
    /* c1 (generation 5) and c2 (generation 4, stale) both claim t0-0 and
     * t0-1: the newer claim wins. */
    g.claim[0][0][0] = g.claim[0][0][1] = 1;
    g.gen[0] = 5;
    g.claim[1][0][0] = g.claim[1][0][1] = g.claim[1][0][2] = g.claim[1][0][3] = 1;
    g.gen[1] = 4;
    g.via_user_data[0] = 1;
    tg_assign(&g, &a, out, owner, cnt);
    EXPECT_ASSIGNED(out, 2, "c1", "t0-0 t0-1");
    EXPECT_ASSIGNED(out, 2, "c2", "t0-2 t0-3");
    ck_assert_int_eq(conflict_warnings, 0); /* different generations: no conflict */

    /* Equal generations claiming t0-0 cancel out: c1 keeps t0-1 alone of
     * its claims; t0-0 is unowned and goes to c2, which held nothing. */
    memset(g.claim, 0, sizeof g.claim);
    g.claim[0][0][0] = g.claim[0][0][1] = 1;
    g.claim[1][0][0] = 1;
    g.gen[0] = g.gen[1] = 3;
    tg_assign(&g, &a, out, owner, cnt);
    EXPECT_ASSIGNED(out, 2, "c1", "t0-1 t0-2");
    EXPECT_ASSIGNED(out, 2, "c2", "t0-0 t0-3");
    ck_assert_int_eq(conflict_warnings, 1);

    /* Claims on partitions that do not exist, on a topic that does not, and
     * on a topic the member no longer subscribes to are dropped: c1 keeps
     * t0-1, the only claim of its own that counts, and takes one of c2's t0
     * partitions for balance. */
    int np2[] = {3, 2}, s_t0[] = {1, 0, 0}, s_t01[] = {1, 1, 0};
    tg_free(&g);
    tg_init(&g, 2, np2);
    tg_member(&g, "c1", NULL, s_t0);
    tg_member(&g, "c2", NULL, s_t01);
    g.pat[1] = 1;
    g.claim[0][0][1] = g.claim[0][0][7] = g.claim[0][1][0] = g.claim[0][2][0] = 1;
    g.claim[1][0][0] = g.claim[1][0][2] = g.claim[1][1][0] = g.claim[1][1][1] = 1;
    g.gen[0] = g.gen[1] = 1;
    tg_assign(&g, &a, out, owner, cnt);
    EXPECT_ASSIGNED(out, 2, "c1", "t0-1 t0-2");
    EXPECT_ASSIGNED(out, 2, "c2", "t0-0 t1-0 t1-1");

    /* userData wins over OwnedPartitions; userData that is not in the sticky
     * format falls back to OwnedPartitions. */
    int np3[] = {4}, s3[] = {1, 0};
    tg_free(&g);
    tg_init(&g, 1, np3);
    tg_member(&g, "c1", NULL, s3);
    tg_member(&g, "c2", NULL, s3);
    tg_build(&g);
    int32_t ud_p[] = {2, 3}, own_p[] = {0, 1};
    assignor_topic_t ud_t = {"t0", ud_p, 2}, own_t = {"t0", own_p, 2};
    eddy_wr_t w;
    wr_init(&w);
    ck_assert_int_eq(assignor_sticky_user_data_encode(&w, &ud_t, 1, 2), 0);
    g.subs[0].as_user_data = (kstr_t){(const char *)w.wr_buf, (int32_t)w.wr_len};
    g.subs[0].as_owned = &own_t;
    g.subs[0].as_nowned = 1;
    run_assignor("sticky", &a, g.topics, 1, g.subs, 2, out);
    EXPECT_ASSIGNED(out, 2, "c1", "t0-2 t0-3");
    g.subs[0].as_user_data = (kstr_t){"\x00\x00\x00\x05", 4}; /* 5 topics, none there */
    run_assignor("sticky", &a, g.topics, 1, g.subs, 2, out);
    EXPECT_ASSIGNED(out, 2, "c1", "t0-0 t0-1");
    wr_free(&w);
    tg_free(&g);
    arena_free(&a);
}
END_TEST

START_TEST(unequal_subscriptions)
{
    /* StickyAssignorTest-style: members subscribed to different topics.
     * c1 {t0}, c2 {t0, t1}, c3 {t1}: t0 has 4 partitions, t1 has 2. c2 can
     * take from both sides; every member ends within reach of balance. */
    eddy_arena_t a;
    arena_init(&a, 0);
    tgroup_t g;
    int np[] = {4, 2}, s1[] = {1, 0, 0}, s2[] = {1, 1, 0}, s3[] = {0, 1, 0};
    int owner[MAXT][MAXP], cnt[MAXM];
    assignor_assignment_t out[MAXM];
    tg_init(&g, 2, np);
    tg_member(&g, "c1", NULL, s1);
    tg_member(&g, "c2", NULL, s2);
    tg_member(&g, "c3", NULL, s3);
    g.pat[0] = 0, g.pat[1] = 1, g.pat[2] = 2;
    tg_assign(&g, &a, out, owner, cnt);
    ck_assert_int_eq(cnt[0] + cnt[1] + cnt[2], 6);
    ck_assert_int_eq(cnt[0], 2);
    ck_assert_int_eq(cnt[1], 2);
    ck_assert_int_eq(cnt[2], 2);
    /* c1 held everything of t0 before: it keeps two of them. */
    tg_claim_result(&g, owner, 1);
    memset(g.claim, 0, sizeof g.claim);
    for (int p = 0; p < 4; p++)
        g.claim[0][0][p] = 1;
    tg_assign(&g, &a, out, owner, cnt);
    ck_assert_int_eq(cnt[0], 2);
    for (int p = 0; p < 4; p++)
        ck_assert(owner[0][p] == 0 || owner[0][p] == 1);
    tg_free(&g);
    arena_free(&a);
}
END_TEST

/* A random group: 1-6 topics of 0-12 partitions, 1-10 members drawn from
 * 1-3 subscription patterns (some naming a topic that does not exist), some
 * static, and random claims - some stale, some conflicting, some invalid. */
static void random_group(tgroup_t *g, int equal_subs)
{
    int nt = 1 + (int)(rnd() % MAXT), np[MAXT];
    for (int t = 0; t < nt; t++)
        np[t] = rnd() % 8 == 0 ? 0 : (int)(rnd() % (MAXP + 1));
    tg_init(g, nt, np);
    int npat = equal_subs ? 1 : 1 + (int)(rnd() % 3);
    int pats[3][MAXT + 1];
    for (int k = 0; k < npat; k++) {
        int any = 0;
        for (int t = 0; t <= nt; t++) {
            pats[k][t] = t < nt ? (int)(rnd() % 2) : rnd() % 4 == 0;
            any |= t < nt && pats[k][t];
        }
        if (!any)
            pats[k][rnd() % (uint32_t)nt] = 1;
    }
    int nm = 1 + (int)(rnd() % MAXM);
    for (int m = 0; m < nm; m++) {
        char id[16], inst[16];
        snprintf(id, sizeof id, "m%02u", rnd() % 100 * MAXM + (unsigned)m);
        snprintf(inst, sizeof inst, "i%02u", rnd() % 100);
        int k = (int)(rnd() % (uint32_t)npat);
        tg_member(g, id, rnd() % 4 == 0 ? inst : NULL, pats[k]);
        g->pat[m] = k;
        g->gen[m] = rnd() % 5 == 0 ? 3 : 4;
        if (rnd() % 7 == 0)
            g->gen[m] = ASSIGNOR_GENERATION_NONE;
        g->via_user_data[m] = (int)(rnd() % 2);
    }
    /* Instance ids must be unique in a group: drop repeats. */
    for (int m = 0; m < nm; m++)
        for (int k = 0; k < m; k++)
            if (g->inst[m][0] && strcmp(g->inst[m], g->inst[k]) == 0)
                g->inst[m][0] = '\0';
    for (int t = 0; t <= nt; t++)
        for (int p = 0; p < MAXP + 2; p++) {
            int r = (int)(rnd() % 10);
            if (r < 6) /* one claim, possibly by a member not subscribed */
                g->claim[rnd() % (uint32_t)nm][t][p] = 1;
            else if (r < 8 && nm > 1) { /* two claims */
                g->claim[rnd() % (uint32_t)nm][t][p] = 1;
                g->claim[rnd() % (uint32_t)nm][t][p] = 1;
            }
        }
}

START_TEST(random_groups)
{
    /* Property test over 3000 random groups with mixed subscriptions. */
    uint64_t seed = 0x51c4e5eedULL + (uint64_t)_i;
    rnd_state = seed;
    eddy_arena_t a;
    arena_init(&a, 0);
    for (int round = 0; round < 300; round++) {
        tgroup_t g;
        int owner[MAXT][MAXP], cnt[MAXM], again[MAXT][MAXP];
        assignor_assignment_t out[MAXM];
        random_group(&g, 0);
        tg_assign(&g, &a, out, owner, cnt);
        /* Stable: the result fed back as the previous assignment (from the
         * next generation) is returned unchanged. */
        tg_claim_result(&g, owner, 10);
        for (int m = 0; m < g.nm; m++)
            g.via_user_data[m] = (int)(rnd() % 2);
        tg_assign(&g, &a, out, again, cnt);
        ck_assert_msg(memcmp(owner, again, sizeof owner) == 0,
                      "seed 0x%llx round %d: a repeated rebalance moved partitions",
                      (unsigned long long)seed, round);
        tg_free(&g);
        arena_reset(&a);
    }
    arena_free(&a);
}
END_TEST

START_TEST(random_groups_equal_subscriptions)
{
    /* With equal subscriptions: balanced (within one), and the partitions
     * that change owner are exactly as few as any balanced assignment needs:
     * sum over members of max(0, kept - quota), quotas of q + 1 going to the
     * members that held the most. A member that gives up a partition gains
     * none. */
    uint64_t seed = 0xe9a15eedULL + (uint64_t)_i;
    rnd_state = seed;
    eddy_arena_t a;
    arena_init(&a, 0);
    for (int round = 0; round < 300; round++) {
        tgroup_t g;
        int owner[MAXT][MAXP], cnt[MAXM], prev[MAXT][MAXP];
        assignor_assignment_t out[MAXM];
        random_group(&g, 1);
        tg_prev(&g, prev);
        tg_assign(&g, &a, out, owner, cnt);

        int held[MAXM] = {0}, total = 0, moved = 0, lost[MAXM] = {0}, gained[MAXM] = {0};
        for (int t = 0; t < g.nt; t++) {
            if (!g.sub[0][t])
                continue;
            for (int p = 0; p < g.topics[t].ati_npartitions; p++) {
                total++;
                if (prev[t][p] >= 0)
                    held[prev[t][p]]++;
                if (prev[t][p] >= 0 && owner[t][p] != prev[t][p]) {
                    moved++;
                    lost[prev[t][p]] = 1;
                }
                if (owner[t][p] != prev[t][p])
                    gained[owner[t][p]] = 1;
            }
        }
        int sorted[MAXM];
        memcpy(sorted, held, sizeof sorted);
        for (int i = 1; i < g.nm; i++) /* descending */
            for (int j = i; j > 0 && sorted[j] > sorted[j - 1]; j--) {
                int x = sorted[j];
                sorted[j] = sorted[j - 1];
                sorted[j - 1] = x;
            }
        int q = total / g.nm, r = total % g.nm, need = 0;
        for (int i = 0; i < g.nm; i++) {
            int quota = q + (i < r ? 1 : 0);
            need += sorted[i] > quota ? sorted[i] - quota : 0;
        }
        ck_assert_msg(moved == need, "seed 0x%llx round %d: %d partitions moved, %d needed",
                      (unsigned long long)seed, round, moved, need);
        for (int m = 0; m < g.nm; m++)
            ck_assert_msg(!(lost[m] && gained[m]),
                          "seed 0x%llx round %d: %s both gave and took partitions",
                          (unsigned long long)seed, round, g.mid[m]);
        tg_free(&g);
        arena_reset(&a);
    }
    arena_free(&a);
}
END_TEST

START_TEST(group_over_generations)
{
    /* Members as separate consumers, everything through the bytes: each
     * member's own sticky assignor writes its userData into a v1
     * subscription, the leader decodes them all and assigns, each member
     * decodes its SyncGroup bytes and remembers them. Members come and go;
     * after each generation the survivors kept what balance allowed. */
    rnd_state = 0xabcdef12345ULL;
    static const assignor_topic_info_t topics[] = {{"a", 7}, {"b", 5}, {"c", 11}};
    const char *subscribed[] = {"a", "b", "c"};
    enum { N = 8 };
    assignor_t members[N];
    char ids[N][16];
    int alive[N] = {0}, held[N][3][11], now[N][3][11];
    char errstr[128];
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(assignor_init(&members[i], "sticky", errstr, sizeof errstr), 0);
        snprintf(ids[i], sizeof ids[i], "member-%d", i);
    }
    memset(held, 0, sizeof held);
    eddy_arena_t a;
    arena_init(&a, 0);
    for (int gen = 1; gen <= 40; gen++) {
        /* Someone joins or leaves (at least one member stays). */
        int who = (int)(rnd() % N), nalive = 0;
        for (int i = 0; i < N; i++)
            nalive += alive[i];
        if (!alive[who] || nalive > 1)
            alive[who] = !alive[who];
        if (!alive[who])
            memset(held[who], 0, sizeof held[who]);

        assignor_subscription_t subs[N];
        int idx[N], n = 0;
        for (int i = 0; i < N; i++) {
            if (!alive[i])
                continue;
            assignor_subscription_t s = {.as_version = 1, .as_topics = subscribed, .as_ntopics = 3};
            ck_assert_int_eq(assignor_user_data(&members[i], &a, subscribed, 3, &s.as_user_data),
                             0);
            eddy_wr_t w;
            wr_init(&w);
            ck_assert_int_eq(assignor_subscription_encode(&w, &s), 0);
            eddy_rd_t rd;
            rd_init(&rd, w.wr_buf, w.wr_len);
            ck_assert_int_eq(assignor_subscription_decode(&rd, &a, &subs[n]), 0);
            subs[n].as_member_id = ids[i];
            wr_free(&w);
            idx[n++] = i;
        }
        assignor_assignment_t out[N];
        assignor_t leader;
        ck_assert_int_eq(assignor_init(&leader, "sticky", errstr, sizeof errstr), 0);
        ck_assert_int_eq(
            assignor_assign(&leader, &a, topics, 3, subs, n, out, errstr, sizeof errstr), 0);
        assignor_close(&leader);

        memset(now, 0, sizeof now);
        int cnt[N] = {0}, moved = 0, had_total = 0;
        for (int k = 0; k < n; k++) {
            eddy_wr_t w;
            wr_init(&w);
            ck_assert_int_eq(assignor_assignment_encode(&w, 0, &out[k]), 0);
            eddy_rd_t rd;
            rd_init(&rd, w.wr_buf, w.wr_len);
            assignor_assignment_t mine;
            ck_assert_int_eq(assignor_assignment_decode(&rd, &a, &mine, NULL), 0);
            ck_assert_int_eq(assignor_on_assignment(&members[idx[k]], &mine, gen), 0);
            for (int t = 0; t < mine.aa_ntopics; t++)
                for (int j = 0; j < mine.aa_topics[t].at_npartitions; j++) {
                    int ti = mine.aa_topics[t].at_topic[0] - 'a';
                    now[idx[k]][ti][mine.aa_topics[t].at_partitions[j]] = 1;
                    cnt[idx[k]]++;
                }
            wr_free(&w);
        }
        int total = 0, lo = 1 << 30, hi = 0;
        for (int k = 0; k < n; k++) {
            int i = idx[k];
            total += cnt[i];
            lo = cnt[i] < lo ? cnt[i] : lo;
            hi = cnt[i] > hi ? cnt[i] : hi;
            int had = 0;
            for (int t = 0; t < 3; t++)
                for (int p = 0; p < 11; p++) {
                    had += held[i][t][p];
                    moved += held[i][t][p] && !now[i][t][p];
                }
            had_total += had;
            /* A survivor keeps min(had, its share) of what it had. */
            int kept = 0;
            for (int t = 0; t < 3; t++)
                for (int p = 0; p < 11; p++)
                    kept += held[i][t][p] && now[i][t][p];
            ck_assert_msg(kept == (had < cnt[i] ? had : cnt[i]),
                          "generation %d: %s had %d, now %d, kept only %d", gen, ids[i], had,
                          cnt[i], kept);
        }
        ck_assert_int_eq(total, 23);
        ck_assert_msg(hi - lo <= 1, "generation %d: counts from %d to %d", gen, lo, hi);
        memcpy(held, now, sizeof held);
        arena_reset(&a);
    }
    for (int i = 0; i < N; i++)
        assignor_close(&members[i]);
    arena_free(&a);
}
END_TEST

TCase *tcase_assignor_sticky(void)
{
    TCase *tc = tcase_create("assignor_sticky");
    tcase_set_timeout(tc, 300);
    tcase_add_checked_fixture(tc, sink_setup, sink_teardown);
    tcase_add_test(tc, user_data_layout);
    tcase_add_test(tc, member_side);
    tcase_add_test(tc, kafka_add_remove_consumer);
    tcase_add_test(tc, leave_and_join);
    tcase_add_test(tc, generations_and_sources);
    tcase_add_test(tc, unequal_subscriptions);
    tcase_add_loop_test(tc, random_groups, 0, 10);
    tcase_add_loop_test(tc, random_groups_equal_subscriptions, 0, 10);
    tcase_add_test(tc, group_over_generations);
    return tc;
}

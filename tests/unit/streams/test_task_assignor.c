/* Eddy's task assignor (streams/assignor.c, sx_assign_tasks): balance by
 * instance and thread, stickiness to the instance and thread that ran a
 * task or hold its state, standbys on other instances. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "streams/streams_int.h"

static int count_task(const sx_asg_member_t *ms, int n, sx_task_id_t id, int standby)
{
    int c = 0;
    for (int i = 0; i < n; i++) {
        const sx_task_id_t *ids = standby ? ms[i].am_standby : ms[i].am_active;
        int k = standby ? ms[i].am_nstandby : ms[i].am_nactive;
        for (int j = 0; j < k; j++)
            c += ids[j].ti_subtopology == id.ti_subtopology &&
                 ids[j].ti_partition == id.ti_partition;
    }
    return c;
}

static const sx_asg_member_t *owner(const sx_asg_member_t *ms, int n, sx_task_id_t id)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < ms[i].am_nactive; j++)
            if (ms[i].am_active[j].ti_subtopology == id.ti_subtopology &&
                ms[i].am_active[j].ti_partition == id.ti_partition)
                return &ms[i];
    return NULL;
}

static void free_members(sx_asg_member_t *ms, int n)
{
    for (int i = 0; i < n; i++) {
        free(ms[i].am_active);
        free(ms[i].am_standby);
    }
}

/* Every task exactly once; instances in proportion to their threads. */
START_TEST(balanced_by_threads)
{
    int32_t counts[2] = {4, 8};
    int stateful[2] = {0, 1};
    sx_asg_member_t ms[3] = {{.am_process = "A"}, {.am_process = "A"}, {.am_process = "B"}};
    ck_assert_int_eq(sx_assign_tasks(counts, stateful, 2, 0, ms, 3), 0);
    for (int s = 0; s < 2; s++)
        for (int p = 0; p < counts[s]; p++)
            ck_assert_int_eq(count_task(ms, 3, (sx_task_id_t){s, p}, 0), 1);
    /* 12 tasks, A has 2 of 3 threads: 8 on A (4 + 4), 4 on B. */
    ck_assert_int_eq(ms[0].am_nactive, 4);
    ck_assert_int_eq(ms[1].am_nactive, 4);
    ck_assert_int_eq(ms[2].am_nactive, 4);
    free_members(ms, 3);
}
END_TEST

/* A member comes back: the tasks it ran go back to it, the newcomer gets
 * only what balance requires. */
START_TEST(sticky_to_previous_owner)
{
    int32_t counts[1] = {6};
    sx_task_id_t prev_a[3] = {{0, 1}, {0, 3}, {0, 5}};
    sx_task_id_t prev_b[3] = {{0, 0}, {0, 2}, {0, 4}};
    sx_asg_member_t ms[3] = {{.am_process = "A", .am_prev_active = prev_a, .am_nprev_active = 3},
                             {.am_process = "B", .am_prev_active = prev_b, .am_nprev_active = 3},
                             {.am_process = "C"}};
    ck_assert_int_eq(sx_assign_tasks(counts, NULL, 1, 0, ms, 3), 0);
    ck_assert_int_eq(ms[0].am_nactive, 2);
    ck_assert_int_eq(ms[1].am_nactive, 2);
    ck_assert_int_eq(ms[2].am_nactive, 2);
    /* A and B keep only tasks they had. */
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < ms[i].am_nactive; j++) {
            sx_task_id_t t = ms[i].am_active[j];
            const sx_task_id_t *prev = i == 0 ? prev_a : prev_b;
            ck_assert(t.ti_partition == prev[0].ti_partition ||
                      t.ti_partition == prev[1].ti_partition ||
                      t.ti_partition == prev[2].ti_partition);
        }
    free_members(ms, 3);
}
END_TEST

/* With no active history, a task goes to the instance that has its state:
 * a standby first, then a directory on disk. */
START_TEST(prefers_state)
{
    int32_t counts[1] = {2};
    int stateful[1] = {1};
    sx_task_id_t sb[1] = {{0, 1}};
    sx_task_id_t local[1] = {{0, 0}};
    sx_asg_member_t ms[2] = {{.am_process = "A", .am_prev_standby = sb, .am_nprev_standby = 1},
                             {.am_process = "B", .am_local = local, .am_nlocal = 1}};
    ck_assert_int_eq(sx_assign_tasks(counts, stateful, 1, 0, ms, 2), 0);
    ck_assert_ptr_eq(owner(ms, 2, (sx_task_id_t){0, 1}), &ms[0]);
    ck_assert_ptr_eq(owner(ms, 2, (sx_task_id_t){0, 0}), &ms[1]);
    free_members(ms, 2);
}
END_TEST

/* Standbys: one per stateful task, never on the active's instance, none for
 * stateless sub-topologies, none when there is no other instance. */
START_TEST(standbys_elsewhere)
{
    int32_t counts[2] = {3, 4};
    int stateful[2] = {0, 1};
    sx_asg_member_t ms[3] = {{.am_process = "A"}, {.am_process = "B"}, {.am_process = "B"}};
    ck_assert_int_eq(sx_assign_tasks(counts, stateful, 2, 1, ms, 3), 0);
    for (int p = 0; p < 4; p++) {
        sx_task_id_t id = {1, p};
        ck_assert_int_eq(count_task(ms, 3, id, 1), 1);
        const sx_asg_member_t *o = owner(ms, 3, id);
        for (int i = 0; i < 3; i++)
            if (count_task(&ms[i], 1, id, 1))
                ck_assert_str_ne(ms[i].am_process, o->am_process);
    }
    for (int p = 0; p < 3; p++)
        ck_assert_int_eq(count_task(ms, 3, (sx_task_id_t){0, p}, 1), 0);
    free_members(ms, 3);

    sx_asg_member_t one[2] = {{.am_process = "A"}, {.am_process = "A"}};
    ck_assert_int_eq(sx_assign_tasks(counts, stateful, 2, 1, one, 2), 0);
    ck_assert_int_eq(one[0].am_nstandby + one[1].am_nstandby, 0);
    free_members(one, 2);
}
END_TEST

/* Within an instance a task stays with its thread. */
START_TEST(sticky_to_thread)
{
    int32_t counts[1] = {4};
    sx_task_id_t t1[2] = {{0, 2}, {0, 3}};
    sx_task_id_t t2[2] = {{0, 0}, {0, 1}};
    sx_asg_member_t ms[2] = {{.am_process = "A", .am_prev_active = t1, .am_nprev_active = 2},
                             {.am_process = "A", .am_prev_active = t2, .am_nprev_active = 2}};
    ck_assert_int_eq(sx_assign_tasks(counts, NULL, 1, 0, ms, 2), 0);
    ck_assert_ptr_eq(owner(ms, 2, (sx_task_id_t){0, 2}), &ms[0]);
    ck_assert_ptr_eq(owner(ms, 2, (sx_task_id_t){0, 3}), &ms[0]);
    ck_assert_ptr_eq(owner(ms, 2, (sx_task_id_t){0, 0}), &ms[1]);
    ck_assert_ptr_eq(owner(ms, 2, (sx_task_id_t){0, 1}), &ms[1]);
    free_members(ms, 2);
}
END_TEST

TCase *tcase_task_assignor(void)
{
    TCase *tc = tcase_create("task_assignor");
    tcase_add_test(tc, balanced_by_threads);
    tcase_add_test(tc, sticky_to_previous_owner);
    tcase_add_test(tc, prefers_state);
    tcase_add_test(tc, standbys_elsewhere);
    tcase_add_test(tc, sticky_to_thread);
    return tc;
}

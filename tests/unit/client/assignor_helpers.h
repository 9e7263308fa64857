/* Shared by the assignor tests: run a built-in assignor and read its result
 * as "topic-partition" lists. */
#ifndef EDDY_TEST_CLIENT_ASSIGNOR_HELPERS_H
#define EDDY_TEST_CLIENT_ASSIGNOR_HELPERS_H

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "client/assignor.h"

/* A subscription to a static array of topic names. */
#define SUB(member, instance, topic_array)                                                         \
    ((assignor_subscription_t){.as_member_id = (member),                                           \
                               .as_group_instance_id = (instance),                                 \
                               .as_topics = (topic_array),                                         \
                               .as_ntopics = (int32_t)(sizeof(topic_array) /                       \
                                                       sizeof((topic_array)[0])),                  \
                               .as_user_data = KSTR_NULL,                                          \
                               .as_generation_id = ASSIGNOR_GENERATION_NONE})

/* "topic1-0 topic1-1 topic2-0": the assignment in its (sorted) order. */
static inline const char *fmt_assignment(const assignor_assignment_t *as, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int32_t i = 0; i < as->aa_ntopics; i++)
        for (int32_t j = 0; j < as->aa_topics[i].at_npartitions && n < size; j++)
            n += (size_t)snprintf(buf + n, size - n, "%s%s-%d", n ? " " : "",
                                  as->aa_topics[i].at_topic,
                                  (int)as->aa_topics[i].at_partitions[j]);
    return buf;
}

static inline const assignor_assignment_t *find_assignment(const assignor_assignment_t *out,
                                                           int32_t n, const char *member)
{
    for (int32_t i = 0; i < n; i++)
        if (out[i].aa_member_id && strcmp(out[i].aa_member_id, member) == 0)
            return &out[i];
    ck_abort_msg("no assignment for member %s", member);
    return NULL;
}

/* Runs the built-in assignor `name`; out has nsubs entries, allocated in a. */
static inline void run_assignor(const char *name, eddy_arena_t *a,
                                const assignor_topic_info_t *topics, int32_t ntopics,
                                const assignor_subscription_t *subs, int32_t nsubs,
                                assignor_assignment_t *out)
{
    char errstr[256] = "";
    assignor_t asg;
    ck_assert_int_eq(assignor_init(&asg, name, errstr, sizeof errstr), 0);
    int err = assignor_assign(&asg, a, topics, ntopics, subs, nsubs, out, errstr, sizeof errstr);
    ck_assert_msg(err == 0, "%s: %s", name, errstr);
    assignor_close(&asg);
}

#define EXPECT_ASSIGNED(out, n, member, want)                                                      \
    do {                                                                                           \
        char buf_[1024];                                                                           \
        ck_assert_str_eq(fmt_assignment(find_assignment((out), (n), (member)), buf_, sizeof buf_), \
                         (want));                                                                  \
    } while (0)

#endif

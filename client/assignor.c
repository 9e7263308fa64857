#include "assignor.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "wire/api_group.h"

static int errf(char *errstr, size_t errstr_size, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int errf(char *errstr, size_t errstr_size, int err, const char *fmt, ...)
{
    if (errstr && errstr_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_size, fmt, ap);
        va_end(ap);
    }
    return err;
}

/* A stable merge sort of int32_t indices with a comparator that takes a
 * context (qsort has none, and qsort_r is not portable). */
typedef int(idx_cmp_fn)(int32_t x, int32_t y, const void *ctx);

static void idx_sort_rec(int32_t *v, int32_t *tmp, int32_t n, idx_cmp_fn *cmp, const void *ctx)
{
    if (n < 2)
        return;
    if (n <= 8) { /* insertion sort: stable */
        for (int32_t i = 1; i < n; i++) {
            int32_t x = v[i], j = i;
            while (j > 0 && cmp(v[j - 1], x, ctx) > 0) {
                v[j] = v[j - 1];
                j--;
            }
            v[j] = x;
        }
        return;
    }
    int32_t h = n / 2;
    idx_sort_rec(v, tmp, h, cmp, ctx);
    idx_sort_rec(v + h, tmp, n - h, cmp, ctx);
    int32_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = cmp(v[j], v[i], ctx) < 0 ? v[j++] : v[i++];
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, (size_t)n * sizeof *v);
}

static int idx_sort(int32_t *v, int32_t n, idx_cmp_fn *cmp, const void *ctx)
{
    if (n < 2)
        return 0;
    int32_t *tmp = malloc((size_t)n * sizeof *tmp);
    if (!tmp)
        return -ENOMEM;
    idx_sort_rec(v, tmp, n, cmp, ctx);
    free(tmp);
    return 0;
}

static int topic_info_cmp(int32_t x, int32_t y, const void *ctx)
{
    const assignor_topic_info_t *t = ctx;
    return strcmp(t[x].ati_topic, t[y].ati_topic);
}

static int member_id_cmp(int32_t x, int32_t y, const void *ctx)
{
    const assignor_subscription_t *s = ctx;
    return strcmp(s[x].as_member_id, s[y].as_member_id);
}

/* Kafka's AbstractPartitionAssignor.MemberInfo order: static members first,
 * by group.instance.id, then dynamic members by member id. Equal instance ids
 * (which a coordinator never lets happen) fall back to the member id. */
static int member_info_cmp(int32_t x, int32_t y, const void *ctx)
{
    const assignor_subscription_t *a = &((const assignor_subscription_t *)ctx)[x];
    const assignor_subscription_t *b = &((const assignor_subscription_t *)ctx)[y];
    if (a->as_group_instance_id && b->as_group_instance_id) {
        int c = strcmp(a->as_group_instance_id, b->as_group_instance_id);
        if (c)
            return c;
    } else if (a->as_group_instance_id) {
        return -1;
    } else if (b->as_group_instance_id) {
        return 1;
    }
    return strcmp(a->as_member_id, b->as_member_id);
}

/* ---- ConsumerProtocol codecs ---------------------------------------------- */

/* A legacy (int16-length) string copied NUL-terminated into a. A null is
 * refused unless nullable; a NUL byte inside is refused (it could not be told
 * from the end of a C string). */
static const char *rd_cstr(eddy_rd_t *rd, eddy_arena_t *a, int nullable)
{
    kstr_t s = rd_string(rd);
    if (rd->rd_err)
        return NULL;
    if (s.len < 0) {
        if (!nullable)
            rd_fail(rd, EDDY_ERR_INVALID_ARG);
        return NULL;
    }
    if (s.len > 0 && memchr(s.ptr, 0, (size_t)s.len)) {
        rd_fail(rd, EDDY_ERR_INVALID_ARG);
        return NULL;
    }
    char *c = kstr_arena_dup(a, s);
    if (!c)
        rd_fail(rd, -ENOMEM);
    return c;
}

/* Nullable bytes (int32 length) copied into a. */
static kstr_t rd_bytes_copy(eddy_rd_t *rd, eddy_arena_t *a)
{
    kstr_t b = rd_kbytes(rd);
    if (rd->rd_err || b.len < 0)
        return KSTR_NULL;
    char *c = arena_alloc(a, (size_t)b.len ? (size_t)b.len : 1);
    if (!c) {
        rd_fail(rd, -ENOMEM);
        return KSTR_NULL;
    }
    if (b.len > 0)
        memcpy(c, b.ptr, (size_t)b.len);
    return (kstr_t){c, b.len};
}

/* [Topic string, Partitions [int32]], the shape shared by OwnedPartitions and
 * the sticky userData. */
static assignor_topic_t *rd_topic_partitions(eddy_rd_t *rd, eddy_arena_t *a, int32_t *count)
{
    int32_t n = rd_array_count_nn(rd, 2 + 4);
    assignor_topic_t *t = rd_arena_array(rd, a, n, sizeof *t);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        t[i].at_topic = rd_cstr(rd, a, 0);
        int32_t np = rd_array_count_nn(rd, 4);
        t[i].at_partitions = rd_arena_array(rd, a, np, sizeof *t[i].at_partitions);
        for (int32_t j = 0; j < np && !rd->rd_err; j++)
            t[i].at_partitions[j] = rd_i32(rd);
        t[i].at_npartitions = rd->rd_err ? 0 : np;
    }
    *count = rd->rd_err ? 0 : n;
    return rd->rd_err ? NULL : t;
}

static void wr_topic_partitions(eddy_wr_t *wr, const assignor_topic_t *t, int32_t n)
{
    wr_i32(wr, n);
    for (int32_t i = 0; i < n; i++) {
        wr_cstring(wr, t[i].at_topic);
        wr_i32(wr, t[i].at_npartitions);
        for (int32_t j = 0; j < t[i].at_npartitions; j++)
            wr_i32(wr, t[i].at_partitions[j]);
    }
}

static int topics_valid(const assignor_topic_t *t, int32_t n)
{
    if (n < 0 || (n > 0 && !t))
        return 0;
    for (int32_t i = 0; i < n; i++)
        if (!t[i].at_topic || t[i].at_npartitions < 0 ||
            (t[i].at_npartitions > 0 && !t[i].at_partitions))
            return 0;
    return 1;
}

int assignor_subscription_encode(eddy_wr_t *wr, const assignor_subscription_t *sub)
{
    int16_t v = sub->as_version;
    if (v < 0 || v > ASSIGNOR_SUBSCRIPTION_VERSION_MAX || sub->as_ntopics < 0 ||
        (sub->as_ntopics > 0 && !sub->as_topics) || sub->as_user_data.len < -1 ||
        (v >= 1 && !topics_valid(sub->as_owned, sub->as_nowned)))
        return EDDY_ERR_INVALID_ARG;
    for (int32_t i = 0; i < sub->as_ntopics; i++)
        if (!sub->as_topics[i])
            return EDDY_ERR_INVALID_ARG;
    wr_i16(wr, v);
    wr_i32(wr, sub->as_ntopics);
    for (int32_t i = 0; i < sub->as_ntopics; i++)
        wr_cstring(wr, sub->as_topics[i]);
    wr_kbytes(wr, sub->as_user_data);
    if (v >= 1)
        wr_topic_partitions(wr, sub->as_owned, sub->as_nowned);
    if (v >= 2)
        wr_i32(wr, sub->as_generation_id);
    if (v >= 3)
        wr_cstring(wr, sub->as_rack_id);
    return wr->wr_err;
}

int assignor_subscription_decode(eddy_rd_t *rd, eddy_arena_t *a, assignor_subscription_t *sub)
{
    memset(sub, 0, sizeof *sub);
    sub->as_user_data = KSTR_NULL;
    sub->as_generation_id = ASSIGNOR_GENERATION_NONE;
    sub->as_version = rd_i16(rd);
    if (!rd->rd_err && sub->as_version < 0) /* Kafka: "Unsupported subscription version" */
        rd_fail(rd, EDDY_ERR_INVALID_ARG);
    int16_t v = sub->as_version;
    int32_t n = rd_array_count_nn(rd, 2);
    sub->as_topics = rd_arena_array(rd, a, n, sizeof *sub->as_topics);
    for (int32_t i = 0; i < n && !rd->rd_err; i++)
        sub->as_topics[i] = rd_cstr(rd, a, 0);
    sub->as_ntopics = rd->rd_err ? 0 : n;
    /* Some writers stop after the topics or after a later field: what is
     * absent takes its default. A field cut short is still an error. */
    if (rd_remaining(rd) > 0)
        sub->as_user_data = rd_bytes_copy(rd, a);
    if (v >= 1 && rd_remaining(rd) > 0)
        sub->as_owned = rd_topic_partitions(rd, a, &sub->as_nowned);
    if (v >= 2 && rd_remaining(rd) > 0)
        sub->as_generation_id = rd_i32(rd);
    if (v >= 3 && rd_remaining(rd) > 0)
        sub->as_rack_id = rd_cstr(rd, a, 1);
    return rd->rd_err;
}

int assignor_assignment_encode(eddy_wr_t *wr, int16_t version, const assignor_assignment_t *as)
{
    if (version < 0 || !topics_valid(as->aa_topics, as->aa_ntopics) || as->aa_user_data.len < -1)
        return EDDY_ERR_INVALID_ARG;
    ConsumerProtocolAssignment cpa = {.Version = version,
                                      .AssignedPartitionsCount = as->aa_ntopics,
                                      .UserData = as->aa_user_data};
    if (as->aa_ntopics > 0) {
        cpa.AssignedPartitions = calloc((size_t)as->aa_ntopics, sizeof *cpa.AssignedPartitions);
        if (!cpa.AssignedPartitions)
            return -ENOMEM;
    }
    for (int32_t i = 0; i < as->aa_ntopics; i++) {
        cpa.AssignedPartitions[i].Topic = kstr_c(as->aa_topics[i].at_topic);
        cpa.AssignedPartitions[i].Partitions = as->aa_topics[i].at_partitions;
        cpa.AssignedPartitions[i].PartitionsCount = as->aa_topics[i].at_npartitions;
    }
    wire_consumer_assignment_encode(wr, &cpa);
    free(cpa.AssignedPartitions);
    return wr->wr_err;
}

int assignor_assignment_decode(eddy_rd_t *rd, eddy_arena_t *a, assignor_assignment_t *as,
                               int16_t *version)
{
    memset(as, 0, sizeof *as);
    as->aa_user_data = KSTR_NULL;
    ConsumerProtocolAssignment cpa;
    memset(&cpa, 0, sizeof cpa);
    int err = wire_consumer_assignment_decode(rd, a, &cpa);
    if (err)
        return err;
    /* The partition arrays already live in a; names and userData borrow the
     * input and are copied, so that nothing outlives its bytes. */
    as->aa_topics = cpa.AssignedPartitionsCount > 0
                        ? arena_calloc(a, (size_t)cpa.AssignedPartitionsCount,
                                       sizeof *as->aa_topics)
                        : NULL;
    if (cpa.AssignedPartitionsCount > 0 && !as->aa_topics)
        return -ENOMEM;
    for (int32_t i = 0; i < cpa.AssignedPartitionsCount; i++) {
        kstr_t s = cpa.AssignedPartitions[i].Topic;
        if (s.len > 0 && memchr(s.ptr, 0, (size_t)s.len))
            return EDDY_ERR_INVALID_ARG;
        char *c = kstr_arena_dup(a, kstr_or_empty(s));
        if (!c)
            return -ENOMEM;
        as->aa_topics[i].at_topic = c;
        as->aa_topics[i].at_partitions = cpa.AssignedPartitions[i].Partitions;
        as->aa_topics[i].at_npartitions = cpa.AssignedPartitions[i].PartitionsCount;
    }
    as->aa_ntopics = cpa.AssignedPartitionsCount;
    if (cpa.UserData.len >= 0) {
        char *c = arena_alloc(a, cpa.UserData.len ? (size_t)cpa.UserData.len : 1);
        if (!c)
            return -ENOMEM;
        if (cpa.UserData.len > 0)
            memcpy(c, cpa.UserData.ptr, (size_t)cpa.UserData.len);
        as->aa_user_data = (kstr_t){c, cpa.UserData.len};
    }
    if (version)
        *version = cpa.Version;
    return 0;
}

int assignor_sticky_user_data_encode(eddy_wr_t *wr, const assignor_topic_t *topics, int32_t ntopics,
                                     int32_t generation)
{
    if (!topics_valid(topics, ntopics))
        return EDDY_ERR_INVALID_ARG;
    wr_topic_partitions(wr, topics, ntopics);
    wr_i32(wr, generation);
    return wr->wr_err;
}

int assignor_sticky_user_data_decode(eddy_rd_t *rd, eddy_arena_t *a, assignor_topic_t **topics,
                                     int32_t *ntopics, int32_t *generation)
{
    *topics = rd_topic_partitions(rd, a, ntopics);
    /* Kafka reads V1 and, when that fails, V0: four more bytes are the
     * generation, anything shorter is a V0 body with trailing bytes. */
    *generation = rd_remaining(rd) >= 4 ? rd_i32(rd) : ASSIGNOR_GENERATION_NONE;
    if (rd->rd_err) {
        *topics = NULL;
        *ntopics = 0;
    }
    return rd->rd_err;
}

/* ---- The group, as the built-ins see it ----------------------------------- */

/* Topics that exist and that at least one member subscribes to, sorted by
 * name; their partitions numbered globally (topic by topic, in order); the
 * members in MemberInfo order; who subscribes to what, as a bit matrix. All
 * working memory comes from ax_scratch. */
typedef struct asg_ctx {
    eddy_arena_t ax_scratch;
    const assignor_subscription_t *ax_subs;
    int32_t ax_nmembers;
    int32_t *ax_order; /* member indices in MemberInfo order */
    int32_t ax_ntopics;
    const char **ax_topic; /* names (borrowed from the input) */
    int32_t *ax_np;        /* partition count of each topic */
    int32_t *ax_base;      /* global index of each topic's partition 0 */
    int32_t *ax_nsubs;     /* members subscribed to each topic */
    int32_t ax_npart;      /* partitions in all */
    int32_t *ax_topic_of;  /* global partition -> topic */
    uint8_t *ax_sub;       /* bit (m * ax_ntopics + t) */
    int32_t *ax_owner;     /* global partition -> member, or -1 */
} asg_ctx_t;

static int ax_subscribes(const asg_ctx_t *ax, int32_t m, int32_t t)
{
    size_t bit = (size_t)m * (size_t)ax->ax_ntopics + (size_t)t;
    return (ax->ax_sub[bit / 8] >> (bit % 8)) & 1;
}

/* Index of topic name among ax_topic, or -1. */
static int32_t ax_topic_find(const asg_ctx_t *ax, const char *name)
{
    int32_t lo = 0, hi = ax->ax_ntopics - 1;
    while (lo <= hi) {
        int32_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ax->ax_topic[mid], name);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static int32_t sorted_find(const assignor_topic_info_t *topics, const int32_t *sorted, int32_t n,
                           const char *name)
{
    int32_t lo = 0, hi = n - 1;
    while (lo <= hi) {
        int32_t mid = lo + (hi - lo) / 2;
        int c = strcmp(topics[sorted[mid]].ati_topic, name);
        if (c == 0)
            return sorted[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static void ax_free(asg_ctx_t *ax)
{
    arena_free(&ax->ax_scratch);
}

static int ax_build(asg_ctx_t *ax, const assignor_topic_info_t *topics, int32_t ntopics,
                    const assignor_subscription_t *subs, int32_t nsubs, char *errstr,
                    size_t errstr_size)
{
    memset(ax, 0, sizeof *ax);
    arena_init(&ax->ax_scratch, 0);
    eddy_arena_t *s = &ax->ax_scratch;
    ax->ax_subs = subs;
    ax->ax_nmembers = nsubs;

    int32_t *sorted = arena_calloc(s, (size_t)ntopics + 1, sizeof *sorted);
    uint8_t *used = arena_calloc(s, (size_t)ntopics + 1, 1);
    ax->ax_order = arena_calloc(s, (size_t)nsubs + 1, sizeof *ax->ax_order);
    if (!sorted || !used || !ax->ax_order)
        goto nomem;
    for (int32_t i = 0; i < ntopics; i++)
        sorted[i] = i;
    if (idx_sort(sorted, ntopics, topic_info_cmp, topics))
        goto nomem;
    for (int32_t m = 0; m < nsubs; m++) {
        ax->ax_order[m] = m;
        for (int32_t j = 0; j < subs[m].as_ntopics; j++) {
            int32_t t = sorted_find(topics, sorted, ntopics, subs[m].as_topics[j]);
            if (t >= 0)
                used[t] = 1;
        }
    }
    if (idx_sort(ax->ax_order, nsubs, member_info_cmp, subs))
        goto nomem;

    int32_t nt = 0;
    int64_t npart = 0;
    for (int32_t i = 0; i < ntopics; i++)
        if (used[sorted[i]]) {
            nt++;
            npart += topics[sorted[i]].ati_npartitions;
        }
    if (npart > INT32_MAX / 2)
        return errf(errstr, errstr_size, EDDY_ERR_TOO_LARGE,
                    "the subscribed topics have %lld partitions in all, more than an assignor "
                    "can handle",
                    (long long)npart);
    ax->ax_ntopics = nt;
    ax->ax_npart = (int32_t)npart;
    ax->ax_topic = arena_calloc(s, (size_t)nt + 1, sizeof *ax->ax_topic);
    ax->ax_np = arena_calloc(s, (size_t)nt + 1, sizeof *ax->ax_np);
    ax->ax_base = arena_calloc(s, (size_t)nt + 1, sizeof *ax->ax_base);
    ax->ax_nsubs = arena_calloc(s, (size_t)nt + 1, sizeof *ax->ax_nsubs);
    ax->ax_topic_of = arena_calloc(s, (size_t)npart + 1, sizeof *ax->ax_topic_of);
    ax->ax_owner = arena_calloc(s, (size_t)npart + 1, sizeof *ax->ax_owner);
    ax->ax_sub = arena_calloc(s, ((size_t)nsubs * (size_t)nt + 7) / 8 + 1, 1);
    if (!ax->ax_topic || !ax->ax_np || !ax->ax_base || !ax->ax_nsubs || !ax->ax_topic_of ||
        !ax->ax_owner || !ax->ax_sub)
        goto nomem;
    int32_t t = 0, base = 0;
    for (int32_t i = 0; i < ntopics; i++) {
        const assignor_topic_info_t *ti = &topics[sorted[i]];
        if (!used[sorted[i]])
            continue;
        ax->ax_topic[t] = ti->ati_topic;
        ax->ax_np[t] = ti->ati_npartitions;
        ax->ax_base[t] = base;
        for (int32_t p = 0; p < ti->ati_npartitions; p++)
            ax->ax_topic_of[base + p] = t;
        base += ti->ati_npartitions;
        t++;
    }
    for (int32_t p = 0; p < ax->ax_npart; p++)
        ax->ax_owner[p] = -1;
    for (int32_t m = 0; m < nsubs; m++)
        for (int32_t j = 0; j < subs[m].as_ntopics; j++) {
            int32_t ti = ax_topic_find(ax, subs[m].as_topics[j]);
            if (ti < 0 || ax_subscribes(ax, m, ti))
                continue; /* unknown topic, or listed twice */
            size_t bit = (size_t)m * (size_t)nt + (size_t)ti;
            ax->ax_sub[bit / 8] |= (uint8_t)(1u << (bit % 8));
            ax->ax_nsubs[ti]++;
        }
    return 0;
nomem:
    return errf(errstr, errstr_size, -ENOMEM,
                "out of memory preparing the assignment of %d members", (int)nsubs);
}

/* Turns ax_owner into out[]: for each member its topics sorted by name and
 * each topic's partitions ascending, everything from a. */
static int ax_emit(const asg_ctx_t *ax, eddy_arena_t *a, assignor_assignment_t *out, char *errstr,
                   size_t errstr_size)
{
    int32_t nm = ax->ax_nmembers;
    eddy_arena_t tmp;
    arena_init(&tmp, 0);
    int32_t *cnt = arena_calloc(&tmp, (size_t)nm + 1, sizeof *cnt);
    int32_t *tcnt = arena_calloc(&tmp, (size_t)nm + 1, sizeof *tcnt);
    int32_t *last = arena_calloc(&tmp, (size_t)nm + 1, sizeof *last);
    int32_t **buf = arena_calloc(&tmp, (size_t)nm + 1, sizeof *buf);
    const char **names = arena_calloc(&tmp, (size_t)ax->ax_ntopics + 1, sizeof *names);
    if (!cnt || !tcnt || !last || !buf || !names)
        goto nomem;
    for (int32_t m = 0; m < nm; m++)
        last[m] = -1;
    for (int32_t p = 0; p < ax->ax_npart; p++) {
        int32_t m = ax->ax_owner[p];
        if (m < 0)
            continue;
        cnt[m]++;
        if (last[m] != ax->ax_topic_of[p]) {
            last[m] = ax->ax_topic_of[p];
            tcnt[m]++;
        }
    }
    for (int32_t m = 0; m < nm; m++) {
        out[m].aa_ntopics = 0;
        out[m].aa_topics = tcnt[m] ? arena_calloc(a, (size_t)tcnt[m], sizeof *out[m].aa_topics)
                                   : NULL;
        buf[m] = cnt[m] ? arena_calloc(a, (size_t)cnt[m], sizeof **buf) : NULL;
        if ((tcnt[m] && !out[m].aa_topics) || (cnt[m] && !buf[m]))
            goto nomem;
        last[m] = -1;
    }
    for (int32_t p = 0; p < ax->ax_npart; p++) {
        int32_t m = ax->ax_owner[p];
        if (m < 0)
            continue;
        int32_t t = ax->ax_topic_of[p];
        if (last[m] != t) {
            if (!names[t] && !(names[t] = arena_strdup(a, ax->ax_topic[t])))
                goto nomem;
            last[m] = t;
            assignor_topic_t *at = &out[m].aa_topics[out[m].aa_ntopics++];
            at->at_topic = names[t];
            at->at_partitions = buf[m];
            at->at_npartitions = 0;
        }
        assignor_topic_t *at = &out[m].aa_topics[out[m].aa_ntopics - 1];
        at->at_partitions[at->at_npartitions++] = p - ax->ax_base[t];
        buf[m]++;
    }
    arena_free(&tmp);
    return 0;
nomem:
    arena_free(&tmp);
    return errf(errstr, errstr_size, -ENOMEM, "out of memory writing the assignment of %d members",
                (int)nm);
}

/* ---- range ---------------------------------------------------------------- */

static int range_assign(assignor_t *asg, eddy_arena_t *a, const assignor_topic_info_t *topics,
                        int32_t ntopics, const assignor_subscription_t *subs, int32_t nsubs,
                        assignor_assignment_t *out, char *errstr, size_t errstr_size)
{
    asg_ctx_t ax;
    int err = ax_build(&ax, topics, ntopics, subs, nsubs, errstr, errstr_size);
    if (err)
        goto done;
    int32_t *members = arena_calloc(&ax.ax_scratch, (size_t)nsubs + 1, sizeof *members);
    if (!members) {
        err = errf(errstr, errstr_size, -ENOMEM, "out of memory in the range assignor");
        goto done;
    }
    for (int32_t t = 0; t < ax.ax_ntopics; t++) {
        int32_t n = 0;
        for (int32_t i = 0; i < nsubs; i++)
            if (ax_subscribes(&ax, ax.ax_order[i], t))
                members[n++] = ax.ax_order[i];
        if (n == 0)
            continue;
        int32_t per = ax.ax_np[t] / n, extra = ax.ax_np[t] % n;
        for (int32_t i = 0; i < n; i++) {
            int32_t start = per * i + (i < extra ? i : extra);
            int32_t len = per + (i < extra ? 1 : 0);
            for (int32_t p = start; p < start + len; p++)
                ax.ax_owner[ax.ax_base[t] + p] = members[i];
        }
    }
    err = ax_emit(&ax, a, out, errstr, errstr_size);
done:
    ax_free(&ax);
    return err;
}

/* ---- roundrobin ----------------------------------------------------------- */

static int roundrobin_assign(assignor_t *asg, eddy_arena_t *a, const assignor_topic_info_t *topics,
                             int32_t ntopics, const assignor_subscription_t *subs, int32_t nsubs,
                             assignor_assignment_t *out, char *errstr, size_t errstr_size)
{
    asg_ctx_t ax;
    int err = ax_build(&ax, topics, ntopics, subs, nsubs, errstr, errstr_size);
    if (err)
        goto done;
    /* Kafka's CircularIterator over the sorted members: skip members not
     * subscribed to the partition's topic, give it to the next one that is,
     * and move on past it. Every topic here has a subscriber, so the skip
     * loop ends. */
    int32_t at = 0;
    for (int32_t p = 0; p < ax.ax_npart; p++) {
        int32_t t = ax.ax_topic_of[p];
        while (!ax_subscribes(&ax, ax.ax_order[at], t))
            at = (at + 1) % nsubs;
        ax.ax_owner[p] = ax.ax_order[at];
        at = (at + 1) % nsubs;
    }
    err = ax_emit(&ax, a, out, errstr, errstr_size);
done:
    ax_free(&ax);
    return err;
}

/* ---- sticky --------------------------------------------------------------- */

/* What the member side remembers between generations: its last assignment
 * (heap copies) and the generation it came with. */
typedef struct sticky_state {
    assignor_topic_t *ss_topics;
    int32_t ss_ntopics;
    int32_t ss_generation;
    int ss_have; /* an assignment arrived at least once */
} sticky_state_t;

static void sticky_state_clear(sticky_state_t *ss)
{
    for (int32_t i = 0; i < ss->ss_ntopics; i++) {
        free((char *)ss->ss_topics[i].at_topic);
        free(ss->ss_topics[i].at_partitions);
    }
    free(ss->ss_topics);
    ss->ss_topics = NULL;
    ss->ss_ntopics = 0;
}

static void sticky_close(assignor_t *asg)
{
    sticky_state_t *ss = asg->asg_opaque;
    if (ss) {
        sticky_state_clear(ss);
        free(ss);
    }
    asg->asg_opaque = NULL;
}

static int sticky_on_assignment(assignor_t *asg, const assignor_assignment_t *as,
                                int32_t generation_id)
{
    sticky_state_t *ss = asg->asg_opaque;
    if (!topics_valid(as->aa_topics, as->aa_ntopics))
        return EDDY_ERR_INVALID_ARG;
    /* Build the copy first: the old state survives a failed allocation. */
    assignor_topic_t *t = NULL;
    int32_t n = as->aa_ntopics;
    if (n > 0 && !(t = calloc((size_t)n, sizeof *t)))
        return -ENOMEM;
    for (int32_t i = 0; i < n; i++) {
        const assignor_topic_t *src = &as->aa_topics[i];
        t[i].at_topic = strdup(src->at_topic);
        t[i].at_npartitions = src->at_npartitions;
        if (src->at_npartitions > 0) {
            t[i].at_partitions = malloc((size_t)src->at_npartitions * sizeof(int32_t));
            if (t[i].at_partitions)
                memcpy(t[i].at_partitions, src->at_partitions,
                       (size_t)src->at_npartitions * sizeof(int32_t));
        }
        if (!t[i].at_topic || (src->at_npartitions > 0 && !t[i].at_partitions)) {
            sticky_state_t tmp = {.ss_topics = t, .ss_ntopics = i + 1};
            sticky_state_clear(&tmp);
            return -ENOMEM;
        }
    }
    sticky_state_clear(ss);
    ss->ss_topics = t;
    ss->ss_ntopics = n;
    ss->ss_generation = generation_id;
    ss->ss_have = 1;
    return 0;
}

static int sticky_user_data(assignor_t *asg, eddy_arena_t *a, const char *const *topics,
                            int32_t ntopics, kstr_t *user_data)
{
    const sticky_state_t *ss = asg->asg_opaque;
    *user_data = KSTR_NULL;
    if (!ss->ss_have) /* as Kafka: no previous assignment, null userData */
        return 0;
    eddy_wr_t wr;
    wr_init(&wr);
    int err = assignor_sticky_user_data_encode(&wr, ss->ss_topics, ss->ss_ntopics,
                                               ss->ss_generation);
    if (!err) {
        char *c = arena_alloc(a, wr.wr_len ? wr.wr_len : 1);
        if (!c) {
            err = -ENOMEM;
        } else {
            memcpy(c, wr.wr_buf, wr.wr_len);
            *user_data = (kstr_t){c, (int32_t)wr.wr_len};
        }
    }
    wr_free(&wr);
    return err;
}

/* Members ordered by how many partitions they hold (ties: MemberInfo order,
 * which ax_order already is, kept by the stable sort). */
typedef struct cnt_sort_ctx {
    const int32_t *cnt;
} cnt_sort_ctx_t;

static int by_count_cmp(int32_t x, int32_t y, const void *ctx)
{
    const int32_t *cnt = ((const cnt_sort_ctx_t *)ctx)->cnt;
    return (cnt[x] > cnt[y]) - (cnt[x] < cnt[y]);
}

/* The sticky assignor's working state, for the balancing helpers. */
typedef struct sticky_work {
    asg_ctx_t *sw_ax;
    int32_t sw_nt;
    const int32_t *sw_prev; /* global partition -> previous owner, or -1 */
    int32_t *sw_cnt;        /* member -> partitions held */
    int32_t *sw_mt;         /* [member * nt + topic] -> partitions of topic held */
} sticky_work_t;

/* Can x pass one of its partitions to y (y subscribes to a topic x holds)? */
static int sw_can_pass(const sticky_work_t *sw, int32_t x, int32_t y)
{
    if (x == y)
        return 0;
    for (int32_t t = 0; t < sw->sw_nt; t++)
        if (sw->sw_mt[(size_t)x * (size_t)sw->sw_nt + (size_t)t] && ax_subscribes(sw->sw_ax, y, t))
            return 1;
    return 0;
}

/* A partition `from` holds that `to` could take, or -1: one that `to` owned
 * before if any (the move restores stickiness), else one `from` did not own
 * before (the move costs none), else the last one. */
static int32_t sw_pick(const sticky_work_t *sw, int32_t from, int32_t to)
{
    const asg_ctx_t *ax = sw->sw_ax;
    int32_t neutral = -1, any = -1;
    for (int32_t t = 0; t < sw->sw_nt; t++) {
        if (!sw->sw_mt[(size_t)from * (size_t)sw->sw_nt + (size_t)t] || !ax_subscribes(ax, to, t))
            continue;
        for (int32_t g = ax->ax_base[t]; g < ax->ax_base[t] + ax->ax_np[t]; g++) {
            if (ax->ax_owner[g] != from)
                continue;
            if (sw->sw_prev[g] == to)
                return g;
            if (sw->sw_prev[g] != from && neutral < 0)
                neutral = g;
            any = g;
        }
    }
    return neutral >= 0 ? neutral : any;
}

static void sw_move(sticky_work_t *sw, int32_t g, int32_t to)
{
    asg_ctx_t *ax = sw->sw_ax;
    int32_t from = ax->ax_owner[g], t = ax->ax_topic_of[g];
    ax->ax_owner[g] = to;
    sw->sw_cnt[from]--;
    sw->sw_cnt[to]++;
    sw->sw_mt[(size_t)from * (size_t)sw->sw_nt + (size_t)t]--;
    sw->sw_mt[(size_t)to * (size_t)sw->sw_nt + (size_t)t]++;
}

static int sticky_assign(assignor_t *asg, eddy_arena_t *a, const assignor_topic_info_t *topics,
                         int32_t ntopics, const assignor_subscription_t *subs, int32_t nsubs,
                         assignor_assignment_t *out, char *errstr, size_t errstr_size)
{
    asg_ctx_t ax;
    int err = ax_build(&ax, topics, ntopics, subs, nsubs, errstr, errstr_size);
    if (err)
        goto done;
    eddy_arena_t *s = &ax.ax_scratch;
    int32_t np = ax.ax_npart, nm = nsubs, nt = ax.ax_ntopics;
    int32_t *prev = arena_calloc(s, (size_t)np + 1, sizeof *prev);     /* previous owner */
    int32_t *claim_gen = arena_calloc(s, (size_t)np + 1, sizeof *claim_gen);
    uint8_t *claim = arena_calloc(s, (size_t)np + 1, 1); /* 0 none, 1 one owner, 2 conflict */
    int32_t *cnt = arena_calloc(s, (size_t)nm + 1, sizeof *cnt);
    int32_t *mt = arena_calloc(s, (size_t)nm * (size_t)nt + 1, sizeof *mt); /* [m*nt+t] */
    int32_t *todo = arena_calloc(s, (size_t)np + 1, sizeof *todo);
    int32_t *byc = arena_calloc(s, (size_t)nm + 1, sizeof *byc);
    if (!prev || !claim_gen || !claim || !cnt || !mt || !todo || !byc) {
        err = errf(errstr, errstr_size, -ENOMEM, "out of memory in the sticky assignor");
        goto done;
    }

    /* 1. Previous ownership: each member's claims, the highest generation
     * winning and equal highest claims cancelling out. */
    int32_t conflicts = 0;
    for (int32_t m = 0; m < nm; m++) {
        const assignor_subscription_t *sub = &subs[m];
        assignor_topic_t *ct = sub->as_owned;
        int32_t nct = sub->as_nowned, gen = sub->as_generation_id;
        if (sub->as_user_data.len >= 0) {
            eddy_rd_t rd;
            rd_init(&rd, sub->as_user_data.ptr, (size_t)sub->as_user_data.len);
            assignor_topic_t *ut;
            int32_t nut, ugen;
            if (assignor_sticky_user_data_decode(&rd, s, &ut, &nut, &ugen) == 0) {
                ct = ut;
                nct = nut;
                gen = ugen;
            } else {
                EDDY_LOG_DEBUG("assignor",
                               "sticky: member %s: userData is not in StickyAssignor's format, "
                               "using its OwnedPartitions",
                               sub->as_member_id);
            }
        }
        for (int32_t i = 0; i < nct; i++) {
            int32_t t = ct[i].at_topic ? ax_topic_find(&ax, ct[i].at_topic) : -1;
            if (t < 0 || !ax_subscribes(&ax, m, t))
                continue;
            for (int32_t j = 0; j < ct[i].at_npartitions; j++) {
                int32_t p = ct[i].at_partitions[j];
                if (p < 0 || p >= ax.ax_np[t])
                    continue;
                int32_t g = ax.ax_base[t] + p;
                if (claim[g] == 0 || gen > claim_gen[g]) {
                    claim[g] = 1;
                    claim_gen[g] = gen;
                    prev[g] = m;
                } else if (gen == claim_gen[g] && claim[g] == 1 && prev[g] != m) {
                    claim[g] = 2;
                    conflicts++;
                }
            }
        }
    }
    if (conflicts)
        EDDY_LOG_WARN("assignor",
                      "sticky: %d partition(s) claimed by two members in the same generation; "
                      "they are assigned as if unowned",
                      (int)conflicts);
    for (int32_t g = 0; g < np; g++) {
        if (claim[g] != 1)
            prev[g] = -1;
        ax.ax_owner[g] = prev[g];
        if (prev[g] >= 0) {
            cnt[prev[g]]++;
            mt[(size_t)prev[g] * (size_t)nt + (size_t)ax.ax_topic_of[g]]++;
        }
    }

    /* 2. Unowned partitions, those with the fewest candidates first, each to
     * the candidate holding the fewest partitions (ties: member order). */
    int32_t ntodo = 0;
    for (int32_t g = 0; g < np; g++)
        if (ax.ax_owner[g] < 0)
            todo[ntodo++] = g;
    /* todo is in global order; the stable sort by each partition's candidate
     * count keeps that order among equals. */
    int32_t *key = arena_calloc(s, (size_t)np + 1, sizeof *key);
    if (!key) {
        err = errf(errstr, errstr_size, -ENOMEM, "out of memory in the sticky assignor");
        goto done;
    }
    for (int32_t g = 0; g < np; g++)
        key[g] = ax.ax_nsubs[ax.ax_topic_of[g]];
    cnt_sort_ctx_t tc = {key};
    if (idx_sort(todo, ntodo, by_count_cmp, &tc)) {
        err = errf(errstr, errstr_size, -ENOMEM, "out of memory in the sticky assignor");
        goto done;
    }
    for (int32_t i = 0; i < ntodo; i++) {
        int32_t g = todo[i], t = ax.ax_topic_of[g], best = -1;
        for (int32_t k = 0; k < nm; k++) {
            int32_t m = ax.ax_order[k];
            if (ax_subscribes(&ax, m, t) && (best < 0 || cnt[m] < cnt[best]))
                best = m;
        }
        /* Every topic here has a subscriber, so best >= 0. */
        ax.ax_owner[g] = best;
        cnt[best]++;
        mt[(size_t)best * (size_t)nt + (size_t)t]++;
    }

    /* 3. Balance. A move from a member with x partitions to one with y <= x - 2
     * lowers the sum of squared counts, and that sum is minimal - the
     * assignment as balanced as the subscriptions allow - exactly when no
     * such move exists, directly or along a chain of members each passing
     * one partition to the next (the middle ones keep their counts). Each
     * round makes one: a direct move from the fullest member to the emptiest
     * that can take one of its partitions if there is one, else a chain
     * (found breadth-first from the fullest members) to the emptiest member
     * reachable. The sum falls with every round, so this ends. With equal
     * subscriptions every imbalance has a direct move, and moving from the
     * fullest to the emptiest means no member both gives and takes: the
     * number of partitions that change owner is then the minimum. */
    sticky_work_t sw = {&ax, nt, prev, cnt, mt};
    int32_t *parent = arena_calloc(s, (size_t)nm + 1, sizeof *parent);
    int32_t *queue = arena_calloc(s, (size_t)nm + 1, sizeof *queue);
    uint8_t *seen = arena_calloc(s, (size_t)nm + 1, 1);
    if (!parent || !queue || !seen) {
        err = errf(errstr, errstr_size, -ENOMEM, "out of memory in the sticky assignor");
        goto done;
    }
    cnt_sort_ctx_t cc = {cnt};
    for (int moved = 1; moved;) {
        moved = 0;
        memcpy(byc, ax.ax_order, (size_t)nm * sizeof *byc);
        if (idx_sort(byc, nm, by_count_cmp, &cc)) {
            err = errf(errstr, errstr_size, -ENOMEM, "out of memory in the sticky assignor");
            goto done;
        }
        for (int32_t ia = nm - 1; ia > 0 && !moved; ia--) {
            int32_t from = byc[ia];
            for (int32_t ib = 0; ib < nm && cnt[from] - cnt[byc[ib]] >= 2; ib++) {
                int32_t g = sw_pick(&sw, from, byc[ib]);
                if (g >= 0) {
                    sw_move(&sw, g, byc[ib]);
                    moved = 1;
                    break;
                }
            }
        }
        for (int32_t ia = nm - 1; ia > 0 && !moved && cnt[byc[ia]] - cnt[byc[0]] >= 2; ia--) {
            int32_t src = byc[ia], best = -1, head = 0, tail = 0;
            memset(seen, 0, (size_t)nm);
            seen[src] = 1;
            queue[tail++] = src;
            while (head < tail) {
                int32_t x = queue[head++];
                for (int32_t k = 0; k < nm; k++) {
                    int32_t y = byc[k];
                    if (seen[y] || !sw_can_pass(&sw, x, y))
                        continue;
                    seen[y] = 1;
                    parent[y] = x;
                    queue[tail++] = y;
                    if (cnt[src] - cnt[y] >= 2 && (best < 0 || cnt[y] < cnt[best]))
                        best = y;
                }
            }
            /* Pass along the chain from its end, so that each member still
             * holds the partition it was found able to pass. */
            for (int32_t y = best; y >= 0 && y != src; y = parent[y]) {
                int32_t g = sw_pick(&sw, parent[y], y);
                if (g < 0) { /* cannot happen: the edge was just seen */
                    err = errf(errstr, errstr_size, EDDY_ERR_STALE,
                               "sticky assignor: lost track of a partition while balancing");
                    goto done;
                }
                sw_move(&sw, g, y);
                moved = 1;
            }
        }
    }
    err = ax_emit(&ax, a, out, errstr, errstr_size);
done:
    ax_free(&ax);
    return err;
}

/* ---- The assignor interface ----------------------------------------------- */

int assignor_init(assignor_t *asg, const char *name, char *errstr, size_t errstr_size)
{
    memset(asg, 0, sizeof *asg);
    if (name && strcmp(name, "range") == 0) {
        asg->asg_name = "range";
        asg->asg_assign = range_assign;
        return 0;
    }
    if (name && strcmp(name, "roundrobin") == 0) {
        asg->asg_name = "roundrobin";
        asg->asg_assign = roundrobin_assign;
        return 0;
    }
    if (name && strcmp(name, "sticky") == 0) {
        sticky_state_t *ss = calloc(1, sizeof *ss);
        if (!ss)
            return errf(errstr, errstr_size, -ENOMEM, "out of memory creating the sticky assignor");
        ss->ss_generation = ASSIGNOR_GENERATION_NONE;
        asg->asg_name = "sticky";
        asg->asg_assign = sticky_assign;
        asg->asg_user_data = sticky_user_data;
        asg->asg_on_assignment = sticky_on_assignment;
        asg->asg_close = sticky_close;
        asg->asg_opaque = ss;
        return 0;
    }
    return errf(errstr, errstr_size, EDDY_ERR_INVALID_ARG,
                "unknown partition assignor \"%s\": the built-in ones are range, roundrobin and "
                "sticky",
                name ? name : "(null)");
}

void assignor_close(assignor_t *asg)
{
    if (asg->asg_close)
        asg->asg_close(asg);
    memset(asg, 0, sizeof *asg);
}

int assignor_user_data(assignor_t *asg, eddy_arena_t *a, const char *const *topics, int32_t ntopics,
                       kstr_t *user_data)
{
    *user_data = KSTR_NULL;
    return asg->asg_user_data ? asg->asg_user_data(asg, a, topics, ntopics, user_data) : 0;
}

int assignor_on_assignment(assignor_t *asg, const assignor_assignment_t *as, int32_t generation_id)
{
    return asg->asg_on_assignment ? asg->asg_on_assignment(asg, as, generation_id) : 0;
}

/* (topic, partition) pairs of an assignment, to find one assigned twice. */
typedef struct tp_ref {
    const char *topic;
    int32_t partition;
    int32_t member;
} tp_ref_t;

static int tp_ref_cmp(const void *x, const void *y)
{
    const tp_ref_t *a = x, *b = y;
    int c = strcmp(a->topic, b->topic);
    if (c)
        return c;
    return (a->partition > b->partition) - (a->partition < b->partition);
}

static int check_output(const char *name, eddy_arena_t *a, const assignor_subscription_t *subs,
                        int32_t nsubs, assignor_assignment_t *out, char *errstr, size_t errstr_size)
{
    size_t total = 0;
    for (int32_t i = 0; i < nsubs; i++) {
        if (!out[i].aa_member_id && !(out[i].aa_member_id = arena_strdup(a, subs[i].as_member_id)))
            return errf(errstr, errstr_size, -ENOMEM, "out of memory finishing the assignment");
        if (!topics_valid(out[i].aa_topics, out[i].aa_ntopics) || out[i].aa_user_data.len < -1 ||
            (out[i].aa_user_data.len > 0 && !out[i].aa_user_data.ptr))
            return errf(errstr, errstr_size, EDDY_ERR_INVALID_ARG,
                        "assignor %s returned a malformed assignment for member %s (a null "
                        "topic, a negative count or a missing array)",
                        name, subs[i].as_member_id);
        for (int32_t j = 0; j < out[i].aa_ntopics; j++)
            total += (size_t)out[i].aa_topics[j].at_npartitions;
    }
    if (total == 0)
        return 0;
    tp_ref_t *refs = malloc(total * sizeof *refs);
    if (!refs)
        return errf(errstr, errstr_size, -ENOMEM, "out of memory checking the assignment");
    size_t k = 0;
    for (int32_t i = 0; i < nsubs; i++)
        for (int32_t j = 0; j < out[i].aa_ntopics; j++)
            for (int32_t p = 0; p < out[i].aa_topics[j].at_npartitions; p++)
                refs[k++] = (tp_ref_t){out[i].aa_topics[j].at_topic,
                                       out[i].aa_topics[j].at_partitions[p], i};
    qsort(refs, total, sizeof *refs, tp_ref_cmp);
    int err = 0;
    for (size_t i = 0; i < total && !err; i++) {
        if (refs[i].partition < 0)
            err = errf(errstr, errstr_size, EDDY_ERR_INVALID_ARG,
                       "assignor %s assigned partition %d of topic %s to member %s: partitions "
                       "are never negative",
                       name, (int)refs[i].partition, refs[i].topic,
                       subs[refs[i].member].as_member_id);
        else if (i > 0 && tp_ref_cmp(&refs[i - 1], &refs[i]) == 0)
            err = errf(errstr, errstr_size, EDDY_ERR_INVALID_ARG,
                       "assignor %s assigned partition %s-%d to both %s and %s: each partition "
                       "must go to one member only",
                       name, refs[i].topic, (int)refs[i].partition,
                       subs[refs[i - 1].member].as_member_id, subs[refs[i].member].as_member_id);
    }
    free(refs);
    return err;
}

int assignor_assign(assignor_t *asg, eddy_arena_t *a, const assignor_topic_info_t *topics,
                    int32_t ntopics, const assignor_subscription_t *subs, int32_t nsubs,
                    assignor_assignment_t *out, char *errstr, size_t errstr_size)
{
    if (!asg || !asg->asg_assign || !asg->asg_name)
        return errf(errstr, errstr_size, EDDY_ERR_INVALID_ARG,
                    "the assignor has no name or no assign function");
    const char *name = asg->asg_name;
    if (ntopics < 0 || nsubs < 0 || (ntopics > 0 && !topics) || (nsubs > 0 && (!subs || !out)))
        return errf(errstr, errstr_size, EDDY_ERR_INVALID_ARG,
                    "assignor %s: invalid topic or member arrays", name);
    for (int32_t i = 0; i < ntopics; i++)
        if (!topics[i].ati_topic || topics[i].ati_npartitions < 0)
            return errf(errstr, errstr_size, EDDY_ERR_INVALID_ARG,
                        "assignor %s: topic %d has no name or a negative partition count", name,
                        (int)i);
    for (int32_t i = 0; i < nsubs; i++) {
        const assignor_subscription_t *s = &subs[i];
        if (!s->as_member_id || s->as_ntopics < 0 || (s->as_ntopics > 0 && !s->as_topics) ||
            !topics_valid(s->as_owned, s->as_nowned) || s->as_user_data.len < -1 ||
            (s->as_user_data.len > 0 && !s->as_user_data.ptr))
            return errf(errstr, errstr_size, EDDY_ERR_INVALID_ARG,
                        "assignor %s: the subscription of member %d is malformed (no member id, "
                        "a negative count or a missing array)",
                        name, (int)i);
        for (int32_t j = 0; j < s->as_ntopics; j++)
            if (!s->as_topics[j])
                return errf(errstr, errstr_size, EDDY_ERR_INVALID_ARG,
                            "assignor %s: member %s subscribes to a null topic", name,
                            s->as_member_id);
    }
    /* Names must be unique: a map in Kafka, an array here. */
    int32_t nidx = ntopics > nsubs ? ntopics : nsubs;
    int32_t *idx = malloc(((size_t)nidx + 1) * sizeof *idx);
    if (!idx)
        return errf(errstr, errstr_size, -ENOMEM, "out of memory checking the group");
    int err = 0;
    for (int32_t i = 0; i < ntopics; i++)
        idx[i] = i;
    if (idx_sort(idx, ntopics, topic_info_cmp, topics))
        err = errf(errstr, errstr_size, -ENOMEM, "out of memory checking the group");
    for (int32_t i = 1; i < ntopics && !err; i++)
        if (strcmp(topics[idx[i - 1]].ati_topic, topics[idx[i]].ati_topic) == 0)
            err = errf(errstr, errstr_size, EDDY_ERR_INVALID_ARG,
                       "assignor %s: topic %s is listed twice", name, topics[idx[i]].ati_topic);
    for (int32_t i = 0; i < nsubs && !err; i++)
        idx[i] = i;
    if (!err && idx_sort(idx, nsubs, member_id_cmp, subs))
        err = errf(errstr, errstr_size, -ENOMEM, "out of memory checking the group");
    for (int32_t i = 1; i < nsubs && !err; i++)
        if (strcmp(subs[idx[i - 1]].as_member_id, subs[idx[i]].as_member_id) == 0)
            err = errf(errstr, errstr_size, EDDY_ERR_INVALID_ARG,
                       "assignor %s: member %s is listed twice", name, subs[idx[i]].as_member_id);
    free(idx);
    if (err)
        return err;

    for (int32_t i = 0; i < nsubs; i++) {
        memset(&out[i], 0, sizeof out[i]);
        out[i].aa_user_data = KSTR_NULL;
    }
    err = asg->asg_assign(asg, a, topics, ntopics, subs, nsubs, out, errstr, errstr_size);
    if (err)
        return err;
    return check_output(name, a, subs, nsubs, out, errstr, errstr_size);
}

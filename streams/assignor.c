/* Eddy's task assignor, the counterpart of Kafka Streams'
 * StreamsPartitionAssignor: the group leader turns every member's
 * subscription into tasks per member, and tells each member in its
 * assignment's userData which tasks are its active and standby ones. Every
 * stream thread is one member; the members of one app instance share a
 * process id, which is how the leader knows they share a state directory.
 *
 * Subscription userData (version 1, big-endian):
 *
 *   int8   version = 1
 *   32     process id (hex digits)
 *   int32  n, n x { int32 subtopology, int32 partition }   active last generation (this thread)
 *   int32  n, n x { ... }                                   standby last generation (this thread)
 *   int32  n, n x { ... }                                   task directories on disk (the process)
 *
 * Assignment userData (version 1):
 *
 *   int8   version = 1
 *   int32  n, n x { int32 subtopology, int32 partition }   active tasks
 *   int32  n, n x { ... }                                   standby tasks
 *
 * The assignment's topic partitions are the source partitions of the
 * active tasks. A member whose userData cannot be read (another version)
 * still gets a share, with no history.
 *
 * Rules, in order (sx_assign_tasks):
 *  1. Balance: each instance gets tasks in proportion to its threads
 *     (at most ceil(T * threads / all threads)).
 *  2. Stickiness: a task stays on the instance that ran it last, else
 *     goes to an instance that has its state (a standby, then a directory
 *     on disk), else to the least loaded instance.
 *  3. Standbys: num.standby.replicas copies of each stateful task on other
 *     instances, preferring those that have the state, then the least
 *     loaded; never two copies on one instance, never beside the active.
 *  4. Within an instance, a task stays with the thread that ran it when
 *     that keeps threads balanced, else goes to the least loaded thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "streams/streams_int.h"

#define SX_USERDATA_VERSION 1

static int has_task(const sx_task_id_t *ids, int n, sx_task_id_t id)
{
    for (int i = 0; i < n; i++)
        if (ids[i].ti_subtopology == id.ti_subtopology && ids[i].ti_partition == id.ti_partition)
            return 1;
    return 0;
}

typedef struct client {
    const char *cl_process;
    int *cl_members; /* indexes */
    int cl_nmembers;
    int cl_active, cl_standby; /* counts assigned */
    int cl_target;
} client_t;

static int push_task(sx_task_id_t **arr, int *n, sx_task_id_t id)
{
    sx_task_id_t *na = realloc(*arr, (size_t)(*n + 1) * sizeof *na);
    if (!na)
        return -ENOMEM;
    na[(*n)++] = id;
    *arr = na;
    return 0;
}

/* Does any member of client c have this task in the given history list? */
static int client_had(const client_t *c, const sx_asg_member_t *m, sx_task_id_t id, int which)
{
    for (int i = 0; i < c->cl_nmembers; i++) {
        const sx_asg_member_t *am = &m[c->cl_members[i]];
        if (which == 0 && has_task(am->am_prev_active, am->am_nprev_active, id))
            return 1;
        if (which == 1 && has_task(am->am_prev_standby, am->am_nprev_standby, id))
            return 1;
        if (which == 2 && has_task(am->am_local, am->am_nlocal, id))
            return 1;
    }
    return 0;
}

/* Within client c, the member that gets task id: the one that had it (in
 * list which) if under target, else the least loaded. */
static int pick_member(const client_t *c, const sx_asg_member_t *m, sx_task_id_t id, int standby,
                       const int *load, int target)
{
    for (int i = 0; i < c->cl_nmembers; i++) {
        const sx_asg_member_t *am = &m[c->cl_members[i]];
        int had = standby ? has_task(am->am_prev_standby, am->am_nprev_standby, id)
                          : has_task(am->am_prev_active, am->am_nprev_active, id);
        if (had && load[c->cl_members[i]] < target)
            return c->cl_members[i];
    }
    int best = c->cl_members[0];
    for (int i = 1; i < c->cl_nmembers; i++)
        if (load[c->cl_members[i]] < load[best])
            best = c->cl_members[i];
    return best;
}

int sx_assign_tasks(const int32_t *task_counts, const int *stateful, int nsubtopologies,
                    int num_standby, sx_asg_member_t *members, int nmembers)
{
    int rc = -ENOMEM;
    int ntasks = 0;
    for (int s = 0; s < nsubtopologies; s++)
        ntasks += task_counts[s] > 0 ? task_counts[s] : 0;
    client_t *clients = calloc((size_t)nmembers + 1, sizeof *clients);
    int *owner = calloc((size_t)ntasks + 1, sizeof *owner); /* client of each task */
    sx_task_id_t *tasks = calloc((size_t)ntasks + 1, sizeof *tasks);
    int *load = calloc((size_t)nmembers + 1, sizeof *load);
    int nclients = 0;
    if (!clients || !owner || !tasks || !load)
        goto out;
    for (int i = 0; i < nmembers; i++) {
        members[i].am_active = members[i].am_standby = NULL;
        members[i].am_nactive = members[i].am_nstandby = 0;
        int c = 0;
        while (c < nclients && strcmp(clients[c].cl_process, members[i].am_process) != 0)
            c++;
        if (c == nclients) {
            clients[c].cl_process = members[i].am_process;
            nclients++;
        }
        int *nm = realloc(clients[c].cl_members, (size_t)(clients[c].cl_nmembers + 1) * sizeof *nm);
        if (!nm)
            goto out;
        nm[clients[c].cl_nmembers++] = i;
        clients[c].cl_members = nm;
    }
    int t = 0;
    for (int s = 0; s < nsubtopologies; s++)
        for (int32_t p = 0; p < task_counts[s]; p++)
            tasks[t++] = (sx_task_id_t){s, p};
    for (int c = 0; c < nclients; c++)
        clients[c].cl_target = (int)(((int64_t)ntasks * clients[c].cl_nmembers + nmembers - 1) /
                                     nmembers);

    /* 1-2: active tasks to clients. */
    for (t = 0; t < ntasks; t++)
        owner[t] = -1;
    for (int which = 0; which < 3; which++)
        for (t = 0; t < ntasks; t++) {
            if (owner[t] >= 0)
                continue;
            int best = -1;
            for (int c = 0; c < nclients; c++)
                if (clients[c].cl_active < clients[c].cl_target &&
                    client_had(&clients[c], members, tasks[t], which) &&
                    (best < 0 || clients[c].cl_active < clients[best].cl_active))
                    best = c;
            if (best >= 0) {
                owner[t] = best;
                clients[best].cl_active++;
            }
        }
    for (t = 0; t < ntasks; t++) {
        if (owner[t] >= 0)
            continue;
        int best = 0;
        for (int c = 1; c < nclients; c++)
            if ((int64_t)clients[c].cl_active * clients[best].cl_nmembers <
                (int64_t)clients[best].cl_active * clients[c].cl_nmembers)
                best = c;
        owner[t] = best;
        clients[best].cl_active++;
    }
    /* 4: to members, active first. */
    for (int c = 0; c < nclients; c++) {
        int target = (clients[c].cl_active + clients[c].cl_nmembers - 1) / clients[c].cl_nmembers;
        for (int pass = 0; pass < 2; pass++)
            for (t = 0; t < ntasks; t++) {
                if (owner[t] != c)
                    continue;
                int mi = -1;
                if (pass == 0) { /* only tasks going back to their thread */
                    for (int i = 0; i < clients[c].cl_nmembers && mi < 0; i++) {
                        sx_asg_member_t *am = &members[clients[c].cl_members[i]];
                        if (has_task(am->am_prev_active, am->am_nprev_active, tasks[t]) &&
                            load[clients[c].cl_members[i]] < target)
                            mi = clients[c].cl_members[i];
                    }
                    if (mi < 0)
                        continue;
                } else {
                    int done = 0;
                    for (int i = 0; i < clients[c].cl_nmembers; i++) {
                        sx_asg_member_t *am = &members[clients[c].cl_members[i]];
                        done |= has_task(am->am_active, am->am_nactive, tasks[t]);
                    }
                    if (done)
                        continue;
                    mi = pick_member(&clients[c], members, tasks[t], 0, load, target);
                }
                if (push_task(&members[mi].am_active, &members[mi].am_nactive, tasks[t]) < 0)
                    goto out;
                load[mi]++;
            }
    }
    /* 3: standbys. */
    memset(load, 0, (size_t)nmembers * sizeof *load);
    for (int r = 0; r < num_standby; r++)
        for (t = 0; t < ntasks; t++) {
            if (!stateful || !stateful[tasks[t].ti_subtopology])
                continue;
            int best = -1, best_state = -1;
            for (int c = 0; c < nclients; c++) {
                if (c == owner[t])
                    continue;
                int dup = 0;
                for (int i = 0; i < clients[c].cl_nmembers; i++) {
                    sx_asg_member_t *am = &members[clients[c].cl_members[i]];
                    dup |= has_task(am->am_standby, am->am_nstandby, tasks[t]);
                }
                if (dup)
                    continue;
                int state = client_had(&clients[c], members, tasks[t], 1)   ? 2
                            : client_had(&clients[c], members, tasks[t], 2) ? 1
                                                                            : 0;
                int total = clients[c].cl_active + clients[c].cl_standby;
                int best_total = best >= 0 ? clients[best].cl_active + clients[best].cl_standby : 0;
                if (best < 0 || state > best_state || (state == best_state && total < best_total)) {
                    best = c;
                    best_state = state;
                }
            }
            if (best < 0)
                continue; /* fewer instances than replicas + 1 */
            int target = (clients[best].cl_standby + clients[best].cl_nmembers) /
                         clients[best].cl_nmembers;
            int mi = pick_member(&clients[best], members, tasks[t], 1, load, target);
            if (push_task(&members[mi].am_standby, &members[mi].am_nstandby, tasks[t]) < 0)
                goto out;
            load[mi]++;
            clients[best].cl_standby++;
        }
    rc = 0;
out:
    if (rc < 0)
        for (int i = 0; i < nmembers; i++) {
            free(members[i].am_active);
            free(members[i].am_standby);
            members[i].am_active = members[i].am_standby = NULL;
            members[i].am_nactive = members[i].am_nstandby = 0;
        }
    for (int c = 0; c < nclients; c++)
        free(clients[c].cl_members);
    free(clients);
    free(owner);
    free(tasks);
    free(load);
    return rc;
}

/* ---- userData codecs ---- */

static void write_tasks(eddy_wr_t *wr, const sx_task_id_t *ids, int n)
{
    wr_i32(wr, n);
    for (int i = 0; i < n; i++) {
        wr_i32(wr, ids[i].ti_subtopology);
        wr_i32(wr, ids[i].ti_partition);
    }
}

/* Reads a task list into a (bounded by the bytes left). */
static sx_task_id_t *read_tasks(eddy_rd_t *rd, eddy_arena_t *a, int *n)
{
    int32_t cnt = rd_i32(rd);
    *n = 0;
    if (rd->rd_err || cnt < 0 || (size_t)cnt > rd_remaining(rd) / 8)
        return NULL;
    sx_task_id_t *ids = arena_calloc(a, (size_t)cnt + 1, sizeof *ids);
    if (!ids)
        return NULL;
    for (int32_t i = 0; i < cnt; i++) {
        ids[i].ti_subtopology = rd_i32(rd);
        ids[i].ti_partition = rd_i32(rd);
    }
    *n = cnt;
    return ids;
}

static kstr_t wr_to_arena(eddy_wr_t *wr, eddy_arena_t *a)
{
    kstr_t k = KSTR_NULL;
    if (wr->wr_err == 0) {
        char *p = arena_alloc(a, wr->wr_len + 1);
        if (p) {
            memcpy(p, wr->wr_buf, wr->wr_len);
            k.ptr = p;
            k.len = (int32_t)wr->wr_len;
        }
    }
    wr_free(wr);
    return k;
}

/* The task directories under the app's state dir ("<sub>_<partition>"). */
static sx_task_id_t *local_tasks(eddy_app_t *app, int *n);

static int user_data(assignor_t *asg, eddy_arena_t *a, const char *const *topics, int32_t ntopics,
                     kstr_t *out)
{
    (void)topics;
    (void)ntopics;
    sx_thread_t *th = asg->asg_opaque;
    eddy_wr_t wr;
    wr_init(&wr);
    wr_i8(&wr, SX_USERDATA_VERSION);
    wr_bytes(&wr, th->th_app->ap_process_id, 32);
    write_tasks(&wr, th->th_prev_active, th->th_nprev_active);
    write_tasks(&wr, th->th_prev_standby, th->th_nprev_standby);
    int nlocal = 0;
    sx_task_id_t *local = local_tasks(th->th_app, &nlocal);
    write_tasks(&wr, local, nlocal);
    free(local);
    *out = wr_to_arena(&wr, a);
    return out->len < 0 ? -ENOMEM : 0;
}

static int assign(assignor_t *asg, eddy_arena_t *a, const assignor_topic_info_t *topics,
                  int32_t ntopics, const assignor_subscription_t *subs, int32_t nsubs,
                  assignor_assignment_t *out, char *errstr, size_t errstr_size)
{
    sx_thread_t *th = asg->asg_opaque;
    eddy_app_t *app = th->th_app;
    const dsl_topology_t *topo = app->ap_topo;
    /* Task counts from the partition counts the leader sees now. */
    int32_t *counts = arena_calloc(a, (size_t)topo->dt_nsubtopologies + 1, sizeof *counts);
    sx_asg_member_t *ms = arena_calloc(a, (size_t)nsubs + 1, sizeof *ms);
    if (!counts || !ms)
        return -ENOMEM;
    for (int s = 0; s < topo->dt_nsubtopologies; s++) {
        const dsl_subtopology_t *st = &topo->dt_subtopologies[s];
        for (int i = 0; i < st->st_nsources; i++)
            for (int j = 0; j < st->st_sources[i]->dn_ntopics; j++) {
                char name[512];
                sx_topic_name(app, st->st_sources[i], j, name, sizeof name);
                for (int32_t k = 0; k < ntopics; k++)
                    if (strcmp(topics[k].ati_topic, name) == 0 &&
                        topics[k].ati_npartitions > counts[s])
                        counts[s] = topics[k].ati_npartitions;
            }
    }
    for (int32_t i = 0; i < nsubs; i++) {
        ms[i].am_process = subs[i].as_member_id; /* unknown process: its own */
        kstr_t ud = subs[i].as_user_data;
        if (ud.len < 33)
            continue;
        eddy_rd_t rd;
        rd_init(&rd, ud.ptr, (size_t)ud.len);
        if (rd_i8(&rd) != SX_USERDATA_VERSION)
            continue;
        const uint8_t *pid = rd_bytes(&rd, 32);
        char *p = arena_alloc(a, 33);
        if (!pid || !p)
            continue;
        memcpy(p, pid, 32);
        ms[i].am_process = p;
        ms[i].am_prev_active = read_tasks(&rd, a, &ms[i].am_nprev_active);
        ms[i].am_prev_standby = read_tasks(&rd, a, &ms[i].am_nprev_standby);
        ms[i].am_local = read_tasks(&rd, a, &ms[i].am_nlocal);
    }
    /* Standbys only for tasks with state. */
    int *stateful = arena_calloc(a, (size_t)topo->dt_nsubtopologies + 1, sizeof *stateful);
    if (!stateful)
        return -ENOMEM;
    for (int s = 0; s < topo->dt_nsubtopologies; s++)
        stateful[s] = topo->dt_subtopologies[s].st_nstores > 0;
    int rc = sx_assign_tasks(counts, stateful, topo->dt_nsubtopologies,
                             app->ap_cfg.num_standby_replicas, ms, nsubs);
    if (rc < 0) {
        snprintf(errstr, errstr_size, "task assignment failed: %s", eddy_strerror(rc));
        return rc;
    }
    for (int32_t i = 0; i < nsubs; i++) {
        /* Topic partitions of the active tasks. */
        int cap = 0;
        for (int k = 0; k < ms[i].am_nactive; k++) {
            const dsl_subtopology_t *st =
                &topo->dt_subtopologies[ms[i].am_active[k].ti_subtopology];
            for (int j = 0; j < st->st_nsources; j++)
                cap += st->st_sources[j]->dn_ntopics;
        }
        assignor_topic_t *ats = arena_calloc(a, (size_t)cap + 1, sizeof *ats);
        int nats = 0;
        for (int k = 0; ats && k < ms[i].am_nactive; k++) {
            sx_task_id_t id = ms[i].am_active[k];
            const dsl_subtopology_t *st = &topo->dt_subtopologies[id.ti_subtopology];
            for (int j = 0; j < st->st_nsources; j++)
                for (int x = 0; x < st->st_sources[j]->dn_ntopics; x++) {
                    char name[512];
                    sx_topic_name(app, st->st_sources[j], x, name, sizeof name);
                    int32_t np = 0;
                    for (int32_t q = 0; q < ntopics; q++)
                        if (strcmp(topics[q].ati_topic, name) == 0)
                            np = topics[q].ati_npartitions;
                    if (id.ti_partition >= np)
                        continue; /* a narrower input of a merge */
                    int f = 0;
                    while (f < nats && strcmp(ats[f].at_topic, name) != 0)
                        f++;
                    if (f == nats) {
                        char *tn = arena_alloc(a, strlen(name) + 1);
                        ats[f].at_partitions = arena_calloc(a, (size_t)ms[i].am_nactive + 1,
                                                            sizeof(int32_t));
                        if (!tn || !ats[f].at_partitions) {
                            ats = NULL;
                            break;
                        }
                        strcpy(tn, name);
                        ats[f].at_topic = tn;
                        nats++;
                    }
                    ats[f].at_partitions[ats[f].at_npartitions++] = id.ti_partition;
                }
        }
        eddy_wr_t wr;
        wr_init(&wr);
        wr_i8(&wr, SX_USERDATA_VERSION);
        write_tasks(&wr, ms[i].am_active, ms[i].am_nactive);
        write_tasks(&wr, ms[i].am_standby, ms[i].am_nstandby);
        out[i].aa_user_data = wr_to_arena(&wr, a);
        out[i].aa_topics = ats;
        out[i].aa_ntopics = nats;
        EDDY_LOG_INFO("streams", "assignment: member %s gets %d active and %d standby task(s)",
                      subs[i].as_member_id, ms[i].am_nactive, ms[i].am_nstandby);
        free(ms[i].am_active);
        free(ms[i].am_standby);
        if (!ats || out[i].aa_user_data.len < 0)
            rc = -ENOMEM;
    }
    return rc;
}

static int on_assignment(assignor_t *asg, const assignor_assignment_t *as, int32_t generation_id)
{
    (void)generation_id;
    sx_thread_t *th = asg->asg_opaque;
    free(th->th_want_active);
    free(th->th_want_standby);
    th->th_want_active = th->th_want_standby = NULL;
    th->th_nwant_active = th->th_nwant_standby = 0;
    kstr_t ud = as->aa_user_data;
    if (ud.len < 1)
        return 0;
    eddy_rd_t rd;
    rd_init(&rd, ud.ptr, (size_t)ud.len);
    if (rd_i8(&rd) != SX_USERDATA_VERSION) {
        EDDY_LOG_WARN("streams", "%s: assignment userData of an unknown version: no tasks",
                      th->th_name);
        return 0;
    }
    eddy_arena_t a;
    arena_init(&a, 0);
    int na = 0, ns = 0;
    sx_task_id_t *act = read_tasks(&rd, &a, &na);
    sx_task_id_t *sby = read_tasks(&rd, &a, &ns);
    int rc = 0;
    const dsl_topology_t *topo = th->th_app->ap_topo;
    for (int i = 0; i < na; i++)
        if (act[i].ti_subtopology >= 0 && act[i].ti_subtopology < topo->dt_nsubtopologies &&
            act[i].ti_partition >= 0)
            rc |= push_task(&th->th_want_active, &th->th_nwant_active, act[i]);
    for (int i = 0; i < ns; i++)
        if (sby[i].ti_subtopology >= 0 && sby[i].ti_subtopology < topo->dt_nsubtopologies &&
            sby[i].ti_partition >= 0)
            rc |= push_task(&th->th_want_standby, &th->th_nwant_standby, sby[i]);
    arena_free(&a);
    return rc < 0 ? -ENOMEM : 0;
}

void sx_assignor_init(assignor_t *asg, sx_thread_t *th)
{
    memset(asg, 0, sizeof *asg);
    asg->asg_name = "eddy-streams";
    asg->asg_assign = assign;
    asg->asg_user_data = user_data;
    asg->asg_on_assignment = on_assignment;
    asg->asg_opaque = th;
}

#include <dirent.h>
#include <stdio.h>

static sx_task_id_t *local_tasks(eddy_app_t *app, int *n)
{
    *n = 0;
    sx_task_id_t *ids = NULL;
    DIR *d = opendir(app->ap_app_dir);
    if (!d)
        return NULL;
    struct dirent *de;
    while ((de = readdir(d))) {
        int s, p;
        char tail;
        if (sscanf(de->d_name, "%d_%d%c", &s, &p, &tail) == 2 && s >= 0 && p >= 0 &&
            s < app->ap_topo->dt_nsubtopologies)
            if (push_task(&ids, n, (sx_task_id_t){s, p}) < 0)
                break;
    }
    closedir(d);
    return ids;
}

/* Changelog incarnation records: how a task proves that its local state
 * came from the changelog topic that exists now, and not from one that
 * `eddy app reset` deleted (docs/streams.md, "State after a reset"; the
 * record's format is in streams/incarnation.h).
 *
 * The environment keeps, beside each changelog checkpoint, the latest
 * incarnation record the state has seen: its random id and its offset
 * (st_env_set_incarnation, in the commit's transaction). At open, state
 * with a checkpoint must have one (sx_inc_open); the restore consumer then
 * reads the record at that offset first (thread.c): the same id there
 * proves the changelog, anything else (another record, another id, an
 * offset out of range or past the end) means it was recreated, and the
 * state is wiped and restored from the beginning. Ids are random per
 * record, so this needs no agreement between instances: two instances
 * that both write one into an empty partition each prove the topic with
 * their own.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "streams/incarnation.h"
#include "streams/streams_int.h"

/* A window or session changelog deletes by time (its store's retention
 * plus a day): a record older than this share of that is written again,
 * so that the one the state knows is not deleted under it. */
#define INC_RENEW_SHARE 4
_Static_assert(SX_INC_ID_BYTES == ST_INCARNATION_ID_LEN, "one id size");

int sx_inc_open(sx_task_t *tk, char *why, size_t why_size)
{
    for (int i = 0; i < tk->tk_nstores; i++) {
        sx_task_store_t *ts = &tk->tk_stores[i];
        int32_t p = tk->tk_id.ti_partition;
        int64_t cp = st_env_checkpoint(tk->tk_env, ts->ts_changelog, p);
        ts->ts_has_inc = st_env_incarnation(tk->tk_env, ts->ts_changelog, p, &ts->ts_inc) == 0;
        ts->ts_inc_ts = -1;
        ts->ts_inc_dirty = ts->ts_verifying = ts->ts_inc_sending = 0;
        if (cp < 0) {
            /* Restored from the beginning: the records it passes tell. */
            ts->ts_has_inc = 0;
        } else if (ts->ts_has_inc) {
            ts->ts_verifying = 1;
            ts->ts_verify_resume = cp;
        } else {
            snprintf(why, why_size,
                     "local state of %s-%d (checkpoint %lld) has no changelog incarnation (it "
                     "was written by an older version, or before its first incarnation record "
                     "was acknowledged), so it cannot be told from state of a deleted changelog",
                     ts->ts_changelog, (int)p, (long long)cp);
            return 1;
        }
    }
    return 0;
}

static int random_id(uint8_t id[SX_INC_ID_BYTES])
{
    size_t got = 0;
    while (got < SX_INC_ID_BYTES) {
        ssize_t n = getrandom(id + got, SX_INC_ID_BYTES - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got == SX_INC_ID_BYTES)
        return 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, id, SX_INC_ID_BYTES) : -1;
    int err = errno;
    if (fd >= 0)
        close(fd);
    return n == SX_INC_ID_BYTES ? 0 : -(err ? err : EIO);
}

/* Appends topic to buf (comma-separated) unless it is there already; -1
 * when it does not fit (buf is left as it was). */
static int add_topic(char *buf, size_t size, const char *topic)
{
    size_t tl = strlen(topic);
    for (const char *p = buf; *p;) {
        size_t l = strcspn(p, ",");
        if (l == tl && memcmp(p, topic, tl) == 0)
            return 0;
        p += l + (p[l] == ',');
    }
    size_t used = strlen(buf);
    if (used + 1 + tl + 1 > size)
        return -1;
    snprintf(buf + used, size - used, "%s%s", used ? "," : "", topic);
    return 0;
}

/* The user's topics that fill sub-topology sub's stores: its sources, and
 * through each repartition topic it reads, the sources of the sub-topology
 * that writes it. 0, or -1 when they do not fit in buf (or no memory). */
static int store_inputs(const dsl_topology_t *t, int sub, char *buf, size_t size)
{
    int n = t->dt_nsubtopologies, rc = -1;
    char *seen = calloc((size_t)n + 1, 1);
    int *todo = calloc((size_t)n + 1, sizeof *todo);
    int ntodo = 0;
    buf[0] = 0;
    if (!seen || !todo || sub < 0 || sub >= n)
        goto out;
    seen[sub] = 1;
    todo[ntodo++] = sub;
    while (ntodo > 0) {
        const dsl_subtopology_t *st = &t->dt_subtopologies[todo[--ntodo]];
        for (int i = 0; i < st->st_nsources; i++) {
            const dsl_node_t *src = st->st_sources[i];
            for (int j = 0; j < src->dn_ntopics; j++) {
                if (!src->dn_internal) {
                    if (add_topic(buf, size, src->dn_topics[j]) < 0)
                        goto out;
                    continue;
                }
                for (int k = 0; k < t->dt_ninternal_topics; k++) {
                    int from = t->dt_internal_topics[k].it_from_subtopology;
                    if (strcmp(t->dt_internal_topics[k].it_name, src->dn_topics[j]) == 0 &&
                        from >= 0 && from < n && !seen[from]) {
                        seen[from] = 1;
                        todo[ntodo++] = from;
                    }
                }
            }
        }
    }
    rc = 0;
out:
    free(seen);
    free(todo);
    return rc;
}

static int write_record(sx_task_t *tk, sx_task_store_t *ts)
{
    sx_thread_t *th = tk->tk_thread;
    uint8_t id[SX_INC_ID_BYTES];
    int rc = random_id(id);
    if (rc < 0) {
        EDDY_LOG_ERROR("streams", "task %s: no random bytes for a changelog incarnation id: %s",
                       tk->tk_name, eddy_strerror(rc));
        return rc;
    }
    char hex[2 * SX_INC_ID_BYTES + 1];
    for (int i = 0; i < SX_INC_ID_BYTES; i++)
        snprintf(hex + 2 * i, 3, "%02x", id[i]);
    char key[sizeof SX_INC_KEY_PREFIX + sizeof hex];
    snprintf(key, sizeof key, "%s%s", SX_INC_KEY_PREFIX, hex);
    /* Inputs that do not fit: a value without the prefix, which readers
     * take as "not known". */
    char value[4096];
    size_t vp = strlen(SX_INC_VALUE_PREFIX);
    memcpy(value, SX_INC_VALUE_PREFIX, vp + 1);
    if (store_inputs(th->th_app->ap_topo, tk->tk_id.ti_subtopology, value + vp, sizeof value - vp) <
        0)
        snprintf(value, sizeof value, "inputs not recorded: too many to list");
    wire_header_t hd = {(const uint8_t *)SX_INC_HEADER, (int32_t)strlen(SX_INC_HEADER),
                        (const uint8_t *)hex, 2 * SX_INC_ID_BYTES};
    kc_record_t rec = {
        key, (int32_t)strlen(key), value, (int32_t)strlen(value), eddy_wall_ms(), &hd, 1, NULL,
        NULL};
    if ((rc = sx_collector_produce_incarnation(tk->tk_collector, ts->ts_tracker, &rec, id)) < 0)
        return rc;
    memcpy(ts->ts_inc_sent, id, SX_INC_ID_BYTES);
    ts->ts_inc_sending = 1;
    EDDY_LOG_INFO("streams", "%s: task %s: changelog incarnation %s written to %s-%d", th->th_name,
                  tk->tk_name, hex, ts->ts_changelog, (int)tk->tk_id.ti_partition);
    return 0;
}

int sx_inc_start(sx_task_t *tk)
{
    if (tk->tk_standby)
        return 0;
    int64_t now = eddy_wall_ms();
    for (int i = 0; i < tk->tk_nstores; i++) {
        sx_task_store_t *ts = &tk->tk_stores[i];
        if (ts->ts_inc_sending)
            continue;
        int need = !ts->ts_has_inc;
        if (!need && ts->ts_kind != DSL_STORE_KV && ts->ts_inc_ts >= 0) {
            const dsl_store_t *ds = &tk->tk_thread->th_app->ap_topo->dt_stores[ts->ts_index];
            need = now - ts->ts_inc_ts >
                   (ds->ds_retention_ms + SX_WINDOW_CHANGELOG_EXTRA_MS) / INC_RENEW_SHARE;
        }
        int rc = need ? write_record(tk, ts) : 0;
        if (rc < 0)
            return rc;
    }
    return 0;
}

int sx_inc_commit(sx_task_t *tk)
{
    for (int i = 0; i < tk->tk_nstores; i++) {
        sx_task_store_t *ts = &tk->tk_stores[i];
        if (ts->ts_inc_sending) {
            int64_t off = sx_collector_tracker_incarnation(tk->tk_collector, ts->ts_tracker,
                                                           ts->ts_inc_sent);
            if (off >= 0) {
                memcpy(ts->ts_inc.si_id, ts->ts_inc_sent, ST_INCARNATION_ID_LEN);
                ts->ts_inc.si_offset = off;
                ts->ts_inc_ts = eddy_wall_ms();
                ts->ts_has_inc = ts->ts_inc_dirty = 1;
                ts->ts_inc_sending = 0;
            }
        }
        if (!ts->ts_inc_dirty || ts->ts_verifying)
            continue;
        int rc = st_env_set_incarnation(tk->tk_env, ts->ts_changelog, tk->tk_id.ti_partition,
                                        &ts->ts_inc);
        if (rc < 0)
            return rc;
        ts->ts_inc_dirty = 0;
    }
    return 0;
}

/* User processors (eddy_stream_process) and their punctuators, as Kafka
 * Streams' Processor API runs them: one instance per task (p_init when the
 * task opens as an active task, p_close when it closes), records handed to
 * p_process, results forwarded with eddy_forward.
 *
 * Punctuation (Kafka's PunctuationQueue and PunctuationSchedule). A
 * stream-time schedule starts at 0, so it fires at the task's first record
 * and then whenever stream time reaches the next multiple of the interval.
 * A wall-clock schedule first fires one interval after the task opened,
 * checked by the stream thread's tick (every 100 ms). Either way a schedule
 * that fell behind fires once and moves to the next multiple after the time
 * that fired it: missed punctuations are skipped, not replayed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "streams/streams_int.h"

typedef struct schedule {
    int64_t interval;
    int64_t next; /* the time it fires at */
    eddy_punctuation_type_t type;
    eddy_punctuator_fn *fn;
} schedule_t;

struct eddy_processor_context {
    sx_task_t *pc_task;
    const dsl_node_t *pc_node;
    void *pc_instance;
    schedule_t *pc_sched;
    int pc_nsched;
    int pc_rc; /* the first error of a forward */
};

int sx_procs_open(sx_task_t *tk, char *errstr, size_t errstr_size)
{
    const dsl_subtopology_t *st = tk->tk_sub;
    int n = 0;
    for (int i = 0; i < st->st_nnodes; i++)
        n += st->st_nodes[i]->dn_kind == DSL_PROCESS;
    if (n == 0)
        return 0;
    tk->tk_procs = calloc((size_t)n, sizeof *tk->tk_procs);
    if (!tk->tk_procs)
        goto nomem;
    for (int i = 0; i < st->st_nnodes; i++) {
        const dsl_node_t *nd = st->st_nodes[i];
        if (nd->dn_kind != DSL_PROCESS)
            continue;
        eddy_processor_context_t *pc = calloc(1, sizeof *pc);
        if (!pc)
            goto nomem;
        pc->pc_task = tk;
        pc->pc_node = nd;
        tk->tk_procs[tk->tk_nprocs++] = pc;
        if (nd->dn_processor.p_init)
            pc->pc_instance = nd->dn_processor.p_init(pc, nd->dn_opaque);
    }
    return 0;
nomem:
    snprintf(errstr, errstr_size, "task %s: out of memory", tk->tk_name);
    sx_procs_close(tk);
    return -ENOMEM;
}

void sx_procs_close(sx_task_t *tk)
{
    for (int i = 0; i < tk->tk_nprocs; i++) {
        eddy_processor_context_t *pc = tk->tk_procs[i];
        if (pc->pc_node->dn_processor.p_close)
            pc->pc_node->dn_processor.p_close(pc->pc_instance, pc->pc_node->dn_opaque);
        free(pc->pc_sched);
        free(pc);
    }
    free(tk->tk_procs);
    tk->tk_procs = NULL;
    tk->tk_nprocs = 0;
}

static eddy_processor_context_t *context_of(sx_task_t *tk, const dsl_node_t *n)
{
    for (int i = 0; i < tk->tk_nprocs; i++)
        if (tk->tk_procs[i]->pc_node == n)
            return tk->tk_procs[i];
    return NULL;
}

int sx_proc_process(sx_task_t *tk, const dsl_node_t *n, const sx_rec_t *r)
{
    eddy_processor_context_t *pc = context_of(tk, n);
    if (!pc)
        return -ENOENT;
    eddy_record_t ur = {r->key,           r->value, r->ts, tk->tk_cur_topic, tk->tk_id.ti_partition,
                        tk->tk_cur_offset};
    pc->pc_rc = 0;
    n->dn_processor.p_process(pc, &ur, pc->pc_instance);
    return pc->pc_rc;
}

int eddy_schedule(eddy_processor_context_t *ctx, int64_t interval_ms, eddy_punctuation_type_t type,
                  eddy_punctuator_fn *fn)
{
    if (!ctx || interval_ms < 1 || !fn ||
        (type != EDDY_PUNCTUATE_STREAM_TIME && type != EDDY_PUNCTUATE_WALL_CLOCK_TIME))
        return -EINVAL;
    schedule_t *ns = realloc(ctx->pc_sched, (size_t)(ctx->pc_nsched + 1) * sizeof *ns);
    if (!ns)
        return -ENOMEM;
    ctx->pc_sched = ns;
    int64_t first = type == EDDY_PUNCTUATE_STREAM_TIME
                        ? 0
                        : sx_thread_wall_ms(ctx->pc_task->tk_thread) + interval_ms;
    ns[ctx->pc_nsched++] = (schedule_t){interval_ms, first, type, fn};
    return 0;
}

void eddy_forward(eddy_processor_context_t *ctx, eddy_bytes_t key, eddy_bytes_t value,
                  int64_t timestamp)
{
    if (!ctx || ctx->pc_rc < 0)
        return;
    sx_rec_t r = {key, value, EDDY_NULL_BYTES, timestamp};
    ctx->pc_rc = sx_forward(ctx->pc_task, ctx->pc_node, &r);
}

int32_t eddy_context_partition(const eddy_processor_context_t *ctx)
{
    return ctx ? ctx->pc_task->tk_id.ti_partition : -1;
}

int64_t eddy_context_stream_time(const eddy_processor_context_t *ctx)
{
    return ctx ? ctx->pc_task->tk_stream_time : -1;
}

/* Fires the schedules of type that are due at now; Kafka's
 * PunctuationSchedule.next for the next time. */
static int punctuate(sx_task_t *tk, eddy_punctuation_type_t type, int64_t now)
{
    for (int i = 0; i < tk->tk_nprocs; i++) {
        eddy_processor_context_t *pc = tk->tk_procs[i];
        for (int k = 0; k < pc->pc_nsched; k++) {
            schedule_t *s = &pc->pc_sched[k];
            if (s->type != type || now < s->next)
                continue;
            int64_t fired = s->next;
            s->next = fired + ((now - fired) / s->interval + 1) * s->interval;
            pc->pc_rc = 0;
            const char *topic = tk->tk_cur_topic;
            int64_t off = tk->tk_cur_offset;
            tk->tk_cur_topic = NULL; /* a punctuator's records have no input record */
            tk->tk_cur_offset = -1;
            s->fn(pc, now, pc->pc_instance);
            if (tk->tk_user_failed && !tk->tk_user_node)
                tk->tk_user_node = pc->pc_node; /* its punctuator failed */
            tk->tk_cur_topic = topic;
            tk->tk_cur_offset = off;
            if (pc->pc_rc < 0)
                return pc->pc_rc;
            if (tk->tk_user_failed)
                return EDDY_ERR_PROCESSING;
        }
    }
    return 0;
}

int sx_procs_punctuate_stream(sx_task_t *tk)
{
    return tk->tk_stream_time < 0 ? 0
                                  : punctuate(tk, EDDY_PUNCTUATE_STREAM_TIME, tk->tk_stream_time);
}

int sx_procs_punctuate_wall(sx_task_t *tk, int64_t now_ms)
{
    sx_task_t *prev = sx_task_set_current(tk);
    int rc = punctuate(tk, EDDY_PUNCTUATE_WALL_CLOCK_TIME, now_ms);
    if (tk->tk_user_failed) /* eddy_fail_record from a punctuator */
        rc = sx_task_handle_failure(tk, NULL, SX_FAIL_PROCESSING, NULL, EDDY_NULL_BYTES,
                                    EDDY_NULL_BYTES, now_ms);
    sx_task_set_current(prev);
    return rc;
}

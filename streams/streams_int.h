/* Private to streams/: the app, its stream threads, tasks and assignor.
 *
 * An app (app.c) owns the topology (read-only once started), the config,
 * and N stream threads (thread.c). Each thread runs its own libuv loop with
 * two clients: the main one (consumer + group member + producer) and a
 * restore one (a consumer assigned by hand to changelog partitions). A
 * thread owns its tasks (task.c): active tasks process records, standby
 * tasks only follow their changelogs. The group leader's thread runs the
 * task assignor (assignor.c). Nothing but the topology, the config and the
 * app's locked registries is shared between threads.
 */
#ifndef EDDY_STREAMS_INT_H
#define EDDY_STREAMS_INT_H

#include <pthread.h>
#include <stdint.h>
#include <uv.h>

#include "client/admin.h"
#include "client/assignor.h"
#include "client/client.h"
#include "client/consumer.h"
#include "client/member.h"
#include "client/producer.h"
#include "common/config.h"
#include "dsl/topology.h"
#include "include/eddy.h"
#include "state/store.h"
#include "state/window.h"
#include "streams/changelog_reader.h"
#include "streams/collector.h"
#include "streams/tsvalue.h"

/* ---- configuration (config.c) ---- */

struct eddy_config {
    eddy_props_t cf_props;
};

typedef struct sx_config {
    char *application_id;
    char *bootstrap_servers;
    char *client_id;
    int32_t num_stream_threads;
    int32_t commit_interval_ms;
    int64_t repartition_purge_interval_ms;
    char *state_dir;
    int32_t num_standby_replicas;
    int64_t cache_max_bytes_buffering;
    int32_t session_timeout_ms;
    int32_t heartbeat_interval_ms;
    int32_t max_poll_interval_ms;
    int32_t request_timeout_ms;
    int32_t retry_backoff_ms;
    char *processing_guarantee;
    int eos; /* processing.guarantee=exactly_once_v2 (derived) */
    char *default_key_serde;
    char *default_value_serde;
    char *deserialization_handler;
    int32_t replication_factor;
    char *auto_offset_reset;
    int32_t linger_ms;
    int64_t state_map_initial_bytes;
    int64_t state_txn_max_writes; /* eddy.state.txn.max.writes */
    int64_t max_task_idle_ms; /* -1: never wait (Kafka's MAX_TASK_IDLE_MS_DISABLED) */
    int32_t buffered_records_per_partition;
    int log_and_continue; /* derived from deserialization_handler */
    char *processing_handler; /* processing.exception.handler */
    char *production_handler; /* production.exception.handler */
    char *dlq_topic;          /* errors.dead.letter.queue.topic.name ("": none) */
    int processing_continue, production_continue; /* derived */
    /* "consumer." / "producer." / "restore.consumer." overrides, for the clients. */
    eddy_props_t client_props;
} sx_config_t;

int sx_config_load(sx_config_t *cfg, const eddy_config_t *c, char *errstr, size_t errstr_size);
/* Adds the settings every client of the app takes (security.*, sasl.*,
 * ssl.*, set without a prefix, as Kafka Streams passes its common client
 * configs to all its clients) to ps, where a prefixed setting added later
 * overrides them. Returns 0 or an error with a sentence. */
int sx_config_common_client_props(const sx_config_t *cfg, eddy_props_t *ps, char *errstr,
                                  size_t errstr_size);
void sx_config_free(sx_config_t *cfg);
/* The serde a config names (bytes, string, int32, int64, double, msgpack,
 * or Kafka's Serdes$...Serde class names), or NULL. */
const eddy_serde_t *sx_serde_by_name(const char *name);

/* ---- tasks (task.c) ---- */

typedef struct sx_thread sx_thread_t;
typedef struct sx_task sx_task_t;
typedef struct eddy_app eddy_app_t;

typedef struct sx_task_id {
    int32_t ti_subtopology;
    int32_t ti_partition;
} sx_task_id_t;

/* A task's life:
 *
 *   open --restore from checkpoint--> RESTORING --changelog end--> RUNNING
 *     (standby tasks stay RESTORING, following the changelog)       |
 *                                        commit, close <------------+
 */
enum sx_task_state { TK_RESTORING, TK_RUNNING };

/* One store of a task: the LMDB store and where its changelog stands. */
typedef struct sx_task_store {
    dsl_store_kind_t ts_kind;
    int ts_timestamped; /* values carry a timestamp prefix (SX_TS_PREFIX) */
    st_store_t *ts_store;           /* DSL_STORE_KV */
    st_window_store_t *ts_window;   /* DSL_STORE_WINDOW */
    st_session_store_t *ts_session; /* DSL_STORE_SESSION */
    /* An aggregation that emits final results: the windows that closed
     * up to this time were emitted (-1: none yet), kept with the state as
     * ts_emitted_key in the checkpoint table. */
    int64_t ts_emitted_upto;
    char *ts_emitted_key;
    int ts_index;        /* in dt_stores */
    dsl_node_t *ts_node; /* the node that writes it: its children get the changes */
    char *ts_changelog;  /* "<application.id>-<store>-changelog" */
    int ts_tracker;           /* the thread's tracker of this changelog partition */
    int64_t ts_restore_end;   /* restoring: the changelog end to reach, -1 unknown */
    int64_t ts_restored;      /* records applied */
    int ts_restoring;         /* assigned in the restore consumer, end not reached */
    st_restore_batch_t *ts_batch; /* changelog records not applied yet (thread.c) */
    sx_task_t *ts_task;
    /* The changelog incarnation record the state covers (incarnation.c,
     * docs/streams.md "State after a reset"). */
    st_incarnation_t ts_inc;
    int ts_has_inc;           /* ts_inc holds one */
    int ts_inc_dirty;         /* to be written with the next commit */
    int64_t ts_inc_ts;        /* its record's timestamp; -1 unknown */
    int ts_verifying;         /* the restore consumer reads ts_inc's record first */
    int64_t ts_verify_resume; /* then goes on from here (the checkpoint) */
    uint8_t ts_inc_sent[ST_INCARNATION_ID_LEN]; /* the one this task produced, */
    int ts_inc_sending;                         /* waiting for its offset */
} sx_task_store_t;

struct sx_task {
    sx_task_id_t tk_id;
    char tk_name[32]; /* "0_1" */
    int tk_standby;
    enum sx_task_state tk_state;
    sx_thread_t *tk_thread;
    sx_collector_t *tk_collector; /* what the task produces goes through it */
    const dsl_subtopology_t *tk_sub;
    char *tk_dir;
    st_env_t *tk_env;
    sx_task_store_t *tk_stores;
    int tk_nstores;
    /* The input record carries the combined-count header (combine.c). */
    int tk_cur_combined;
    int64_t tk_stream_time;
    /* The input record being processed (its context for user functions). */
    const char *tk_cur_topic;
    int64_t tk_cur_offset;
    int64_t tk_restore_started_ms, tk_restore_logged_ms;
    int tk_registered; /* in the app's query registry */
    int tk_failed;
    /* Set when the local state turned out not to come from the changelog
     * there now: the thread's tick wipes it and restores (the reason). */
    char tk_stale[300];
    /* Its restore reached the end while the thread's transaction was being
     * committed or aborted: it starts running once that is over. */
    int tk_restore_done_pending;
    /* User processors (DSL_PROCESS nodes) of an active task, with their
     * punctuation schedules. */
    struct eddy_processor_context **tk_procs;
    int tk_nprocs;
    /* A windowed aggregate being computed (reused: no allocation per record). */
    eddy_buf_t tk_scratch;
    /* Per source topic (the app's index): the offset after the last input
     * record this task processed, -1 none. A commit must cover it. */
    int64_t *tk_consumed;
    /* Records buffered per input partition (pgroup.c); NULL until the
     * first record. */
    struct sx_pgroup *tk_pg;
    /* The raw input record being processed (NULL outside one): what a
     * dead-letter record carries. */
    const kc_message_t *tk_cur_msg;
    /* A user function failed the record (eddy_fail_record): nothing more
     * is forwarded for it, and tk_user_node is the node whose function it
     * was (set as process() unwinds to it). */
    int tk_user_failed;
    const dsl_node_t *tk_user_node;
    char tk_user_msg[256];
};

/* A record between processors: a table change's old value in old (else
 * null). */
typedef struct sx_rec {
    eddy_bytes_t key, value, old;
    int64_t ts;
} sx_rec_t;

/* task.c, for the processors in other files: hands r to n's children. */
int sx_forward(sx_task_t *tk, const dsl_node_t *n, const sx_rec_t *r);
/* The task's store with topology index idx, or NULL. */
sx_task_store_t *sx_task_store(sx_task_t *tk, int idx);
/* A record too late for a window [start, end) of n: counted, logged (the
 * first ones, then every 1000th). */
void sx_task_late(sx_task_t *tk, const dsl_node_t *n, const sx_rec_t *r, int64_t start,
                  int64_t end);

/* windows.c: windowed aggregations (time, sliding, session), emitting
 * final results, and the forward path of window and session stores. */
int sx_window_process(sx_task_t *tk, const dsl_node_t *n, const sx_rec_t *r);
int sx_session_process(sx_task_t *tk, const dsl_node_t *n, const sx_rec_t *r);
/* A window/session store's flushed change -> the node's children, as a
 * windowed key and the aggregate without its timestamp prefix. */
void sx_window_forward_change(sx_task_store_t *ts, eddy_bytes_t composite, eddy_bytes_t nv,
                              eddy_bytes_t ov, int64_t timestamp);

/* join.c: windowed stream-stream joins (DSL_STREAM_JOIN_WINDOW and
 * DSL_STREAM_JOIN_SIDE). */
int sx_join_process(sx_task_t *tk, const dsl_node_t *n, const sx_rec_t *r);

/* process.c: user processors and punctuation. */
int sx_procs_open(sx_task_t *tk, char *errstr, size_t errstr_size);
void sx_procs_close(sx_task_t *tk);
int sx_proc_process(sx_task_t *tk, const dsl_node_t *n, const sx_rec_t *r);
/* Runs the punctuators due at the task's stream time / at wall-clock now. */
int sx_procs_punctuate_stream(sx_task_t *tk);
int sx_procs_punctuate_wall(sx_task_t *tk, int64_t now_ms);

sx_task_t *sx_task_open(sx_thread_t *th, sx_task_id_t id, int standby, char *errstr,
                        size_t errstr_size);
/* Closes the environment (uncommitted writes are dropped, as in a crash:
 * commit first for a clean close). */
void sx_task_close(sx_task_t *tk);
/* An input record's timestamp: src's timestamp extractor's (given the
 * task's stream time), else the record's own; -1 for a record src cannot
 * read (sx_task_process reports it); SX_TS_FAILED when the extractor
 * failed the record (eddy_fail_record): the failure is handled here, by
 * processing.exception.handler, and sx_task_process skips the record. */
#define SX_TS_FAILED INT64_MIN
int64_t sx_task_timestamp(sx_task_t *tk, const dsl_node_t *src, const kc_message_t *m);
/* An input record of the task with its timestamp (sx_task_timestamp):
 * through src, the source node reading its topic. Returns 0, or an error
 * that must stop the thread (a deserialization error with log-and-fail, a
 * store failure). */
int sx_task_process(sx_task_t *tk, const dsl_node_t *src, const kc_message_t *m, int64_t ts);
/* A record that failed: its deserialization or a sink's serde check (why
 * says how), or a user function (eddy_fail_record; the task's tk_user_*
 * say which and why). m
 * is the input record (NULL when there is none: key/value/ts then are
 * what the dead-letter record carries). Applies the configured handler:
 * log-and-continue counts it in records_skipped, logs it (the first ten,
 * then every 1000th) and sends it to errors.dead.letter.queue.topic.name
 * when set, and returns 0; log-and-fail stops the thread naming the
 * record and returns EDDY_ERR_PROCESSING. */
typedef enum sx_failure {
    SX_FAIL_DESERIALIZATION, /* default.deserialization.exception.handler */
    SX_FAIL_PROCESSING,      /* processing.exception.handler */
    SX_FAIL_SERIALIZATION,   /* production.exception.handler */
    SX_FAIL_TOO_LARGE,       /* production.exception.handler: over max.request.size */
} sx_failure_t;
int sx_task_handle_failure(sx_task_t *tk, const kc_message_t *m, sx_failure_t kind, const char *why,
                           eddy_bytes_t key, eddy_bytes_t value, int64_t ts);
/* The task this thread runs user functions for (eddy_fail_record finds it
 * here); returns the previous one. */
sx_task_t *sx_task_set_current(sx_task_t *tk);
/* Whether a user function failed the current task's record. */
int sx_task_user_failed(void);
/* Flushes the caches of the task's stores in store order. */
int sx_task_flush(sx_task_t *tk);
/* Commits the task's LMDB transaction with its changelog offsets. */
int sx_task_commit_state(sx_task_t *tk);
/* A changelog record during restore. */
int sx_task_restore(sx_task_t *tk, sx_task_store_t *ts, const kc_message_t *m);
sx_task_store_t *sx_task_store_by_changelog(sx_task_t *tk, const char *topic);
/* The record cache of each store of the task. */
void sx_task_set_cache_limit(sx_task_t *tk, size_t per_store);
/* The task's stream time, kept in its checkpoint table with the state. */
#define SX_STREAM_TIME_KEY "__stream_time"
/* A window or session changelog keeps records a day longer than its store
 * (Kafka's windowstore.changelog.additional.retention.ms default), so that
 * what the store still holds can always be restored. */
#define SX_WINDOW_CHANGELOG_EXTRA_MS 86400000LL

/* ---- a task's input buffers (pgroup.c) ---- */

/* Kafka Streams' PartitionGroup: one queue per input partition of a task
 * (sources indexed as ap_source_topics), processed in timestamp order. */
typedef struct sx_pgroup sx_pgroup_t;
/* Queues for n input partitions of a task: srcs[i], the index in
 * ap_source_topics, and topics[i] its name (borrowed for pg's life). */
sx_pgroup_t *sx_pg_new(const int *srcs, const char *const *topics, int n);
void sx_pg_destroy(sx_pgroup_t *pg);
int sx_pg_nqueues(const sx_pgroup_t *pg);
/* Records buffered in all queues (0 for NULL) / in src's queue. */
int sx_pg_buffered(const sx_pgroup_t *pg);
int sx_pg_count(sx_pgroup_t *pg, int src);
/* The offset of src's first buffered record, or -1 when none is. */
int64_t sx_pg_head_offset(sx_pgroup_t *pg, int src);
/* Copies m, with its timestamp ts, to the end of src's queue: the queue's
 * count, or -ENOMEM (nothing added). */
int sx_pg_add(sx_pgroup_t *pg, int src, const kc_message_t *m, int64_t ts);
/* The record with the smallest timestamp among the queues' heads: 1 and
 * *m (borrowing the queue until sx_pg_pop or sx_pg_add), its source and
 * timestamp; 0 when nothing is buffered. */
int sx_pg_peek(sx_pgroup_t *pg, kc_message_t *m, int *src, int64_t *ts);
void sx_pg_pop(sx_pgroup_t *pg, int src);
/* The task's partition of topic: records on the broker past the consumer's
 * position (0: caught up), or -1 while unknown. */
typedef int64_t(sx_pg_lag_fn)(const char *topic, void *opaque);
/* Whether the task (named task, for the log) may process its next buffered
 * record at now_ms, by max.task.idle.ms = idle_ms (see pgroup.c). */
int sx_pg_ready(sx_pgroup_t *pg, int64_t idle_ms, int64_t now_ms, sx_pg_lag_fn *lag, void *opaque,
                const char *task);

/* incarnation.c: changelog incarnation records (streams/incarnation.h).
 * sx_inc_open: after the task's stores are open, takes each store's
 * incarnation from the environment; state with a checkpoint but no
 * incarnation cannot be proven to come from the changelog there now:
 * returns 1 with the reason in why (wipe it), else 0. */
int sx_inc_open(sx_task_t *tk, char *why, size_t why_size);
/* An active task starts running, or commits: writes an incarnation record
 * into each changelog partition whose state has none, or whose record is
 * getting old under a time retention. 0 or an error (the thread fails). */
int sx_inc_start(sx_task_t *tk);
/* Before the task's state commits: takes the offsets of records it wrote,
 * and writes changed incarnations into the open transaction. */
int sx_inc_commit(sx_task_t *tk);

/* ---- threads (thread.c) ---- */

/* Where a thread's records go instead of its producer (a test driver):
 * *partition is -1 for the record's partitioner (or Kafka's default) to
 * choose, and holds the partition on return. 0 with the record's offset,
 * or a negative error (the record is not written). */
typedef int(sx_transport_fn)(sx_thread_t *th, const char *topic, int32_t *partition,
                             const kc_record_t *rec, int64_t *offset);

struct sx_thread {
    eddy_app_t *th_app;
    int th_index;
    char th_name[64];
    uv_thread_t th_tid;
    uv_loop_t th_loop;
    uv_async_t th_async; /* stop requests */
    uv_timer_t th_commit_timer;
    uv_timer_t th_tick_timer; /* restore progress, waiting task locks */
    uv_check_t th_check;      /* after each fetch: the tasks' buffered records */
    kc_config_t th_main_cfg, th_restore_cfg;
    kc_client_t *th_client, *th_restore_client;
    kc_consumer_t *th_consumer, *th_restore;
    sx_collector_t th_collector; /* the producer and its trackers */
    kc_member_t *th_member;
    assignor_t th_assignor;

    sx_task_t **th_tasks;
    int th_ntasks;
    /* The assignment the assignor's on_assignment delivered. */
    sx_task_id_t *th_want_active, *th_want_standby;
    int th_nwant_active, th_nwant_standby;
    /* Tasks this thread ran in its last generation (for the subscription). */
    sx_task_id_t *th_prev_active, *th_prev_standby;
    int th_nprev_active, th_nprev_standby;

    int th_committing;       /* a commit between flush and offsets answer */
    int th_commit_reason;    /* enum in thread.c */
    /* The input offsets of the commit under way, read when it starts (topic
     * names owned; thread.c, commit_offsets_snapshot). */
    kc_topic_partition_t *th_commit_parts;
    int64_t *th_commit_offsets;
    int th_commit_n;
    int th_pending_assign;   /* an assignment waits for a commit or task locks */
    /* processing.guarantee=exactly_once_v2 (thread.c, "exactly once"): the
     * transaction is being aborted or the producer replaced, nothing is
     * processed or produced meanwhile; th_eos_seen: records processed and
     * skipped at the last commit (a commit with nothing new sends no
     * transaction). */
    int th_txn_busy;
    int th_eos_inflight; /* the producer's transactional call out (thread.c) */
    int th_eos_fatal;    /* the producer is fenced: a new one is needed */
    int th_eos_reopen;   /* the tasks open again once the abort is done */
    int th_eos_failed;   /* sx_thread_txn_failed: the error, until the thread acts */
    int64_t th_eos_seen;
    int th_stopping, th_stopped;
    int th_error;            /* the error that stopped the thread, 0 */
    char th_errstr[600];

    /* Combining repartition sinks' tables, by dn_id, created at their first
     * record (NULL: none); freed by sx_combine_drop. */
    struct sx_combiner **th_combiners;
    int th_ncombiners;
    /* Repartition records the group has consumed are deleted after a
     * timer commit, at most once per repartition.purge.interval.ms (Kafka
     * Streams' maybePurgeCommittedRecords), one DeleteRecords at a time:
     * th_purge holds the repartition offsets of the commit under way (topic
     * names owned), sent once it succeeds. Failures in a row are counted and
     * logged once, with the count when purging works again. */
    kc_delete_records_part_t *th_purge;
    int th_npurge;
    int th_purge_inflight;
    int64_t th_last_purge_ms;
    int64_t th_purge_failures;
    /* Restores of active tasks under way together: since when, and
     * th_restored then (the thread's rate is logged when the last ends). */
    int64_t th_restore_started_ms, th_restore_base;
    /* Counters (read by eddy_app_stats from other threads: relaxed atomics). */
    int64_t th_processed, th_skipped, th_produced, th_commits, th_restored, th_late_dropped;
    /* The tasks of the thread's last assignment, restoring ones and ones
     * still waiting for their directory included (the log's "assigned"). */
    int32_t th_assigned_active, th_assigned_standby;
    /* A test driver's in-memory topics in place of the producer, and its
     * wall clock (test_driver.c); NULL in an app. */
    sx_transport_fn *th_transport;
    void *th_transport_opaque;
    const int64_t *th_wall_clock;
};

int sx_thread_start(sx_thread_t *th, eddy_app_t *app, int index);
void sx_thread_stop(sx_thread_t *th); /* any thread */
void sx_thread_join(sx_thread_t *th);
/* Wall-clock time in ms: the test driver's clock in a driver's thread. */
int64_t sx_thread_wall_ms(const sx_thread_t *th);
/* The collector's flush found every record acknowledged (collector.c):
 * the commit under way goes on. */
void sx_thread_acks_done(sx_thread_t *th);
/* Closes a task and takes it out of the thread (its changelogs out of the
 * restore consumer, its uncheckpointed restore batches dropped). */
void sx_thread_remove_task(sx_thread_t *th, sx_task_t *tk);
/* Pauses or resumes a task's input partitions (a full input buffer stays
 * paused). */
void sx_thread_pause_inputs(sx_thread_t *th, sx_task_t *tk, int paused);
/* Under exactly-once: the thread's transaction failed (err:
 * EDDY_ERR_TXN_ABORTABLE, or EDDY_ERR_TXN_FATAL for a fenced producer)
 * where the thread cannot act at once (inside a task, a delivery report);
 * processing stops and the thread aborts, or replaces its producer, then
 * redoes the work from the committed offsets. */
void sx_thread_txn_failed(sx_thread_t *th, int err);
/* Stops the thread with an error (from a callback). */
void sx_thread_fail(sx_thread_t *th, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- the app (app.c) ---- */

struct eddy_app {
    eddy_builder_t *ap_builder;
    const dsl_topology_t *ap_topo;
    sx_config_t ap_cfg;
    char ap_process_id[33]; /* 32 hex digits, kept in the state dir */
    char *ap_app_dir;       /* state.dir/<application.id> */
    int ap_lock_fd;
    /* Per sub-topology: task count (= partitions); per internal topic. */
    int32_t *ap_task_counts;
    char **ap_source_topics; /* every topic the app reads, internal ones prefixed */
    int *ap_source_subs;     /* the sub-topology reading each */
    const dsl_node_t **ap_source_nodes; /* and the source node */
    char **ap_node_topics;   /* by dn_id: a sink's topic, internal ones prefixed */
    const eddy_serde_t *ap_default_key_serde, *ap_default_value_serde;
    int ap_nsource_topics;
    /* By dn_id (combine.c): 1 for a repartition sink that combines counts,
     * and for a count node that adds combined records' partial counts. */
    uint8_t *ap_combine_sink, *ap_combine_count;
    sx_thread_t *ap_threads;
    int ap_nthreads;
    volatile int ap_stop_requested;
    int ap_started;
    /* Registry of open task environments (query and cross-thread locking). */
    pthread_mutex_t ap_mu;
    pthread_cond_t ap_cond;
    sx_task_t **ap_open_tasks;
    int ap_nopen_tasks;
    int ap_threads_done;
    int ap_error;
    char ap_errstr[600];
};

/* The topic name of a node's topic i (internal ones prefixed). */
const char *sx_topic_name(const eddy_app_t *app, const dsl_node_t *n, int i, char *buf,
                          size_t size);
/* Claims a task directory for a task of this process (-EBUSY: another
 * thread holds it; try again later) and lists the task for queries. */
int sx_app_claim_task(eddy_app_t *app, sx_task_t *tk);
void sx_app_release_task(eddy_app_t *app, sx_task_t *tk);
/* A claimed active task is RUNNING: queries may read it. */
void sx_app_publish_task(eddy_app_t *app, sx_task_t *tk);
void sx_app_thread_done(eddy_app_t *app, int err, const char *errstr);
/* Steps of eddy_app_start, shared with the test driver (test_driver.c):
 * the state directory (lock, process id); task counts and internal topic
 * partition counts (internal[k], by dt_internal_topics) from the partition
 * counts of the input topics (partitions: -1 for a topic that does not
 * exist); the topic names of sources and sinks. */
int sx_app_prepare_state_dir(eddy_app_t *app, char *errstr, size_t errstr_size);
typedef int32_t(sx_partitions_fn)(const char *topic, void *opaque);
int sx_app_size_tasks(eddy_app_t *app, sx_partitions_fn *partitions, void *opaque,
                      int32_t *internal, char *errstr, size_t errstr_size);
int sx_app_name_topics(eddy_app_t *app);
/* Input topics a join reads together have as many partitions each: 0, or
 * EDDY_ERR_CONFIG with a sentence naming both. */
int sx_app_check_copartitioned(const eddy_app_t *app, sx_partitions_fn *partitions, void *opaque,
                               char *errstr, size_t errstr_size);

/* ---- combining counts before a repartition topic (combine.c) ---- */

/* A table of partial counts by key (pure: no runtime). */
typedef struct sx_combiner sx_combiner_t;
#define SX_COMBINE_FULL 2
sx_combiner_t *sx_combiner_new(size_t limit_bytes);
void sx_combiner_destroy(sx_combiner_t *c);
void sx_combiner_set_limit(sx_combiner_t *c, size_t limit_bytes);
/* Adds one record: 1 counted; 0 skipped (null key or null value, which a
 * count skips too); SX_COMBINE_FULL when key is new and does not fit in
 * the budget (drain, then add again); -ENOMEM. A table holding no key
 * takes any key. */
int sx_combiner_add(sx_combiner_t *c, eddy_bytes_t key, eddy_bytes_t value, int64_t ts);
/* Calls fn for each key, in table order (key borrowed for the call),
 * then empties the table (also when fn fails: its error is returned). */
typedef int(sx_combine_emit_fn)(eddy_bytes_t key, int64_t count, int64_t max_ts, void *opaque);
int sx_combiner_drain(sx_combiner_t *c, sx_combine_emit_fn *fn, void *opaque);
size_t sx_combiner_size(const sx_combiner_t *c);
size_t sx_combiner_bytes(const sx_combiner_t *c);

/* Marks combining sinks and the counts they feed (ap_combine_*). */
int sx_combine_plan(eddy_app_t *app);
void sx_combine_plan_free(eddy_app_t *app);
/* A record reaching a combining sink n of task tk. 0 or an error. */
int sx_combine_sink(sx_task_t *tk, const dsl_node_t *n, eddy_bytes_t key, eddy_bytes_t value,
                    int64_t ts);
/* Produces what the thread's combiners hold (commit, before the producer flush). */
int sx_combine_flush(sx_thread_t *th);
/* Produces what the thread's combiners hold and updates their budgets
 * (the thread's tick). */
void sx_combine_tick(sx_thread_t *th);
/* Combining sinks in the task's sub-topology, at the thread's first active
 * task of that sub-topology (the thread has one combiner per sink), else 0. */
int sx_combine_task_sinks(const sx_task_t *tk);
/* Frees the thread's combiners unsent: its active tasks close without a commit. */
void sx_combine_drop(sx_thread_t *th);
/* 1 when m carries the combined-count header. */
int sx_combine_is_combined(const kc_message_t *m);
/* What count node adds for a record with value: its partial count when the
 * task's current input record is a combined one and count is marked, else 1. */
int64_t sx_combine_increment(const sx_task_t *tk, const dsl_node_t *count, eddy_bytes_t value);

/* ---- the assignor (assignor.c) ---- */

/* The assignor plug-in of a thread (asg_opaque = the thread). */
void sx_assignor_init(assignor_t *asg, sx_thread_t *th);
/* Pure logic, for tests: tasks of each sub-topology over clients (by
 * process) with their threads. See assignor.c. */
typedef struct sx_asg_member {
    const char *am_process; /* process id */
    sx_task_id_t *am_prev_active, *am_prev_standby, *am_local;
    int am_nprev_active, am_nprev_standby, am_nlocal;
    /* out */
    sx_task_id_t *am_active, *am_standby;
    int am_nactive, am_nstandby;
} sx_asg_member_t;
int sx_assign_tasks(const int32_t *task_counts, const int *stateful, int nsubtopologies,
                    int num_standby, sx_asg_member_t *members, int nmembers);

#endif

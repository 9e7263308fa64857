/* The changelog reader of a stream thread (Kafka Streams'
 * StoreChangelogReader): restores active tasks' stores from their changelogs
 * before the tasks run, and keeps standby tasks following theirs. It drives
 * the thread's restore consumer (th_restore) through the callbacks below;
 * the thread opens, closes and pauses tasks, and calls in here to start a
 * task's restore, to checkpoint what it restored before a commit or a
 * close, to log progress, and to wipe a task whose state is stale.
 */
#ifndef EDDY_STREAMS_CHANGELOG_READER_H
#define EDDY_STREAMS_CHANGELOG_READER_H

#include <stdint.h>

#include "client/consumer.h"

struct sx_thread;
struct sx_task;

/* The restore consumer's callbacks (records, end of a changelog, errors). */
kc_consumer_cbs_t sx_changelog_reader_cbs(struct sx_thread *th);
/* Assigns the task's changelog partitions to the restore consumer from
 * their checkpoints; an active task stays RESTORING (inputs paused) until
 * every changelog is read to its end. */
void sx_changelog_restore_start(struct sx_thread *th, struct sx_task *tk);
/* Applies the task's restore batches, then commits the offsets they
 * reached (topic: at; the others, or all with "": the restore consumer's
 * positions, which the applied batches cover). */
int sx_changelog_commit(struct sx_thread *th, struct sx_task *tk, const char *topic, int64_t at);
/* An active task whose changelogs are all read starts running (its
 * incarnation records written, inputs resumed). */
void sx_changelog_restore_done(struct sx_thread *th, struct sx_task *tk);
/* Logs a task's restore progress (final: its end, with the rate). */
void sx_changelog_progress(struct sx_thread *th, struct sx_task *tk, int final);
/* Wipes a task whose state is stale (tk_stale says why) and restores it
 * from the beginning of its changelogs. */
void sx_changelog_wipe_task(struct sx_thread *th, struct sx_task *tk);

#endif

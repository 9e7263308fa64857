/* The record collector of a stream thread (Kafka Streams' RecordCollector):
 * everything a task produces goes through it, and it is the one reader of
 * the producer's delivery reports.
 *
 *   task -> sx_collector_send/produce -> producer -> delivery report
 *        -> changelog tracker: next offset past the last acknowledged record
 *        -> incarnation record: its offset once acknowledged
 *        -> a commit waiting for acknowledgements: told when none is left
 *
 * A collector belongs to one thread and is used from its loop only. Trackers
 * (changelog partitions produced to) live as long as the collector, so a
 * delivery report never outlives what it updates. Tasks hold a pointer to
 * their thread's collector and never produce through the thread.
 */
#ifndef EDDY_STREAMS_COLLECTOR_H
#define EDDY_STREAMS_COLLECTOR_H

#include <stdint.h>

#include "client/client.h"
#include "client/producer.h"
#include "include/eddy.h"
#include "state/store.h"

struct sx_thread;

typedef struct sx_collector {
    struct sx_thread *co_thread; /* failures, counters, the commit to wake */
    kc_producer_t *co_producer;
    struct sx_tracker *co_trackers;
    int co_ntrackers;
    int co_waiting_acks; /* a commit waits for every record's acknowledgement */
    /* processing.guarantee=exactly_once_v2: a transaction is open (a record
     * was produced since the last commit), or being aborted (its records'
     * failures are expected). */
    int co_txn_open, co_txn_aborting;
} sx_collector_t;

/* Creates the producer on client (the thread's main client). */
int sx_collector_init(sx_collector_t *co, struct sx_thread *th, kc_client_t *client);
/* Destroys the producer (the loop is closing) and, in sx_collector_free,
 * the trackers. */
void sx_collector_close(sx_collector_t *co);
/* A new producer after sx_collector_close (a fenced transactional one is
 * replaced; the trackers stay). 0 or -ENOMEM. */
int sx_collector_renew(sx_collector_t *co, kc_client_t *client);
void sx_collector_free(sx_collector_t *co);

/* Produces a record from a task (sinks, repartition and changelog topics);
 * tracker: the changelog partition's tracker whose offset the record moves,
 * or -1. */
int sx_collector_produce(sx_collector_t *co, const char *topic, int32_t partition, eddy_bytes_t key,
                         eddy_bytes_t value, int64_t ts, int tracker);
/* The same with a whole record (headers, a partitioner: client/producer.h). */
int sx_collector_send(sx_collector_t *co, const char *topic, int32_t partition,
                      const kc_record_t *rec, int tracker);
/* Produces a record no tracker or counter follows and whose refusal is an
 * output's (combined repartition counts, streams/combine.c). */
int sx_collector_send_raw(sx_collector_t *co, const char *topic, int32_t partition,
                          const kc_record_t *rec);

/* Changelog partitions produced to, with the next offset past the last
 * acknowledged record (-1: none yet). */
int sx_collector_tracker(sx_collector_t *co, const char *topic, int32_t partition);
int64_t sx_collector_tracker_offset(const sx_collector_t *co, int tracker);
/* Produces an incarnation record rec with id to the tracker's partition;
 * sx_collector_tracker_incarnation then gives its offset once acknowledged
 * (-1 before, or when the tracker's last one has another id). */
int sx_collector_produce_incarnation(sx_collector_t *co, int tracker, const kc_record_t *rec,
                                     const uint8_t id[ST_INCARNATION_ID_LEN]);
int64_t sx_collector_tracker_incarnation(const sx_collector_t *co, int tracker,
                                         const uint8_t id[ST_INCARNATION_ID_LEN]);

/* The commit's flush: sends what is queued now and waits for every
 * acknowledgement; sx_thread_acks_done (thread.c) is called when the last
 * one arrives. Returns 1 when nothing is outstanding already. */
int sx_collector_flush(sx_collector_t *co);
/* 1 when a flush waited and every record is acknowledged now. */
int sx_collector_all_acked(const sx_collector_t *co);
/* Ends the wait (the commit finished or was given up). */
void sx_collector_stop_waiting(sx_collector_t *co);

#endif

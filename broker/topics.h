/* Topics and their partitions: the registry the request handlers use, and
 * its persistence in the data directory.
 *
 *   <data>/meta.properties             cluster.id, node.id (written once)
 *   <data>/topics/<topic>              partitions=N, config.<key>=<value>...
 *                                      (properties format; no suffix, so that a
 *                                      249-character name still fits NAME_MAX)
 *   <data>/<topic>-<partition>/        one partition log (broker/log)
 *   <data>/.deleted-<ms>-<n>/          a deleted partition's data, being removed
 *
 * A topic exists once its metadata file is durable (temp, fsync, rename,
 * fsync dir). A create opens the partition logs first and writes that file
 * last, so partition directories without one are leftovers of a crash in
 * the middle of a create or delete and are removed at start-up.
 */
#ifndef EDDY_BROKER_TOPICS_H
#define EDDY_BROKER_TOPICS_H

#include <stdint.h>

#include "broker/log/log.h"
#include "common/config.h"

typedef struct topic topic_t;

typedef struct partition {
    topic_t *p_topic;
    int32_t p_index;
    log_t *p_log;
    int p_flush_running; /* a flush is on a worker thread */
    int p_flush_again;   /* another was asked for meanwhile */
    int p_flush_queued;  /* waiting in the broker's flush queue (holds a topic reference) */
    struct partition *p_flush_next;
} partition_t;

struct topic {
    char *t_name;
    int32_t t_npartitions;
    partition_t **t_parts; /* t_npartitions of them (see parts_reserve in topics.c) */
    log_config_t t_cfg;
    eddy_props_t t_overrides; /* the topic-level settings given at creation */
    int t_internal;
    int t_refs;    /* the registry's, plus one per background job on its logs */
    int t_deleted; /* out of the registry; logs closed when the last ref goes */
};

typedef struct topic_creation topic_creation_t;
typedef struct topic_deletion topic_deletion_t;

typedef struct topic_registry {
    char *tr_dir;
    log_fdcache_t *tr_fdc;
    log_config_t tr_defaults;
    topic_t **tr_topics;
    int tr_count, tr_cap;
    topic_creation_t *tr_creating; /* creates in progress: names and partitions reserved */
    topic_deletion_t *tr_deleting; /* deletes in progress: names reserved */
    char tr_cluster_id[64];
} topic_registry_t;

/* Kafka's rule: [a-zA-Z0-9._-]{1,249}, not "." or "..". */
int topic_name_valid(const char *name, size_t len, char *why, size_t why_size);

/* Loads every topic of the data directory (recovering its logs). */
int topics_open(topic_registry_t *tr, const char *dir, const log_config_t *defaults,
                log_fdcache_t *fdc, int32_t node_id, char *errstr, size_t errstr_size);
/* Closes every log cleanly and frees the registry. Returns the first error. */
int topics_close(topic_registry_t *tr);

topic_t *topics_find(const topic_registry_t *tr, const char *name, size_t len);
partition_t *topics_partition(const topic_registry_t *tr, const char *name, size_t len,
                              int32_t index);

/* Checks a create request without doing it: returns a KERR_* code and a
 * message. configs are "key=value" pairs (n of them). */
int topics_validate(const topic_registry_t *tr, const char *name, size_t len, int32_t partitions,
                    const char *const *keys, const char *const *values, int n, char *msg,
                    size_t msg_size);
/* A create in slices, so that thousands of partitions do not hold up the
 * caller's loop: begin validates and reserves the name and the partitions
 * (a second create of the name meanwhile gets TOPIC_ALREADY_EXISTS), each
 * step opens up to max_parts partition logs, and the step that opens the
 * last writes the metadata and adds the topic to the registry. Until then
 * the topic is invisible to topics_find. Returns a KERR_* code; *tc is set
 * on KERR_NONE. */
int topics_create_begin(topic_registry_t *tr, const char *name, size_t len, int32_t partitions,
                        const char *const *keys, const char *const *values, int n, char *msg,
                        size_t msg_size, topic_creation_t **tc);
/* Returns a KERR_* code; *done = 1 when the creation is over (created, or
 * failed with nothing left behind) and tc is freed. */
int topics_create_step(topic_registry_t *tr, topic_creation_t *tc, int32_t max_parts,
                       int64_t now_ms, int *done, char *msg, size_t msg_size);
/* 1 while a create of this name is in progress. */
int topics_creating(const topic_registry_t *tr, const char *name, size_t len);
/* Partitions of every topic plus those reserved by creates in progress. */
int64_t topics_partition_total(const topic_registry_t *tr);
/* Validates, persists and opens a topic in one go (small internal topics,
 * tests); returns a KERR_* code. */
int topics_create(topic_registry_t *tr, const char *name, size_t len, int32_t partitions,
                  const char *const *keys, const char *const *values, int n, int64_t now_ms,
                  char *msg, size_t msg_size);
/* The broker's own topic name (__consumer_offsets, __transaction_state):
 * found, or created with partitions partitions, cleanup.policy=compact and
 * segment.bytes. NULL with errstr set when it cannot be created. */
topic_t *topics_open_internal(topic_registry_t *tr, const char *name, int32_t partitions,
                              int64_t segment_bytes, char *errstr, size_t errstr_size);
/* CreatePartitions: grows a topic to count partitions (never shrinks it),
 * opening the new logs and then rewriting the metadata, in one go. With
 * validate_only, only the checks. Returns a KERR_* code and a message. */
int topics_add_partitions(topic_registry_t *tr, const char *name, size_t len, int32_t count,
                          int validate_only, int64_t now_ms, char *msg, size_t msg_size);
/* A delete in slices, for the same reason as a create: begin removes the
 * topic's metadata (the commit point: after a crash, the partition
 * directories no topic owns are removed at start) and takes the topic out
 * of the registry, so Metadata, Produce and Fetch no longer see it; each
 * step moves up to max_parts partition directories aside, hands them to
 * deleter (which removes them, on a worker in the broker) and closes their
 * logs. The name stays taken until the last step: a create of it meanwhile
 * gets TOPIC_ALREADY_EXISTS, as Kafka answers for a topic marked for
 * deletion. begin returns a KERR_* code and sets *td on KERR_NONE; step
 * returns 1 when the delete is over and td is freed. */
int topics_delete_begin(topic_registry_t *tr, const char *name, size_t len, topic_deletion_t **td);
int topics_delete_step(topic_registry_t *tr, topic_deletion_t *td, int32_t max_parts,
                       void (*deleter)(const char *dir, void *opaque), void *opaque);
/* 1 while a delete of this name is in progress. */
int topics_deleting(const topic_registry_t *tr, const char *name, size_t len);
/* All of a delete in one go (tests, small topics); returns a KERR_* code. */
int topics_delete(topic_registry_t *tr, const char *name, size_t len,
                  void (*deleter)(const char *dir, void *opaque), void *opaque);

/* Replaces the topic-level settings of t with overrides (validated against
 * the broker's defaults): the topic's config is rebuilt, its metadata file
 * rewritten, and every partition log takes the new config at once (retention
 * and compaction use it at their next run). With validate_only nothing
 * changes. On success *overrides holds the old set (the caller frees it).
 * Returns a KERR_* code and a message. */
int topics_alter_config(topic_registry_t *tr, topic_t *t, eddy_props_t *overrides,
                        int validate_only, char *msg, size_t msg_size);
/* New broker-level topic defaults (a dynamic broker setting changed): every
 * topic is rebuilt from them plus its own settings and its logs take the
 * result. Returns a KERR_* code; on an error nothing changed. */
int topics_set_defaults(topic_registry_t *tr, const log_config_t *defaults, char *msg,
                        size_t msg_size);

/* Background work on a topic's logs holds a reference, so that a delete
 * meanwhile leaves the logs open until the work is done. */
void topic_hold(topic_t *t);
void topic_release(topic_t *t);

/* Removes a directory tree (for deleted topics; runs on a worker). */
void topics_remove_tree(const char *dir);

#endif

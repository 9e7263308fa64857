/* Eddy streams: a topology test driver (Kafka's TopologyTestDriver).
 *
 * Runs a topology's real tasks in the calling thread, with no broker and
 * no network: records piped into input topics go through the same task
 * code as in a running app (operators, stores in LMDB files under a
 * temporary state.dir, record caches, windows, joins, punctuation,
 * handlers), and what the tasks produce lands in in-memory topics, where
 * the test reads it. Topics may have several partitions; records sent to a
 * repartition topic are fed back to the sub-topology that reads it, by
 * partition, as the cluster would.
 *
 * After each eddy_test_driver_pipe (and eddy_test_driver_advance_wall_clock)
 * the driver processes everything that became ready, including records
 * that went through repartition topics, then commits: the record caches
 * flush, so outputs and store contents are final when the call returns.
 *
 *   eddy_test_driver_t *d = eddy_test_driver_new(b, NULL, errstr, sizeof errstr);
 *   eddy_test_driver_create_topic(d, "lines", 2);
 *   eddy_test_driver_pipe(d, "lines", -1, eddy_bytes("k", 1), eddy_bytes("a b", 3), 1000);
 *   eddy_test_record_t r;
 *   while (eddy_test_driver_read(d, "word-counts", &r) == 1)
 *       ...;
 *   eddy_app_store_get(eddy_test_driver_app(d), "counts", key, &buf);
 *   eddy_test_driver_destroy(d);
 *
 * A driver is used from one thread at a time.
 */
#ifndef EDDY_TEST_H
#define EDDY_TEST_H

#include "eddy.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eddy_test_driver eddy_test_driver_t;

/* A record of a topic (eddy_test_driver_read): key and value borrow the
 * driver's memory until eddy_test_driver_destroy. */
typedef struct eddy_test_record {
    eddy_bytes_t key;
    eddy_bytes_t value;
    int64_t timestamp;
    int32_t partition;
    int64_t offset;
} eddy_test_record_t;

/* Takes the builder over (also on failure). config may be NULL; its
 * state.dir is replaced by a new temporary directory (removed by
 * eddy_test_driver_destroy), application.id defaults to
 * "eddy-test-driver", bootstrap.servers is never contacted. NULL with a
 * sentence in errstr when the topology or the config is wrong. */
eddy_test_driver_t *eddy_test_driver_new(eddy_builder_t *b, const eddy_config_t *config,
                                         char *errstr, size_t errstr_size);
/* Declares a topic with its partition count, before the driver starts
 * running the tasks (at the first eddy_test_driver_pipe,
 * eddy_test_driver_advance_wall_clock or eddy_test_driver_app). A topic
 * never declared has one partition, as in Kafka's driver (internal
 * topics get the counts an app gives them). 0, or -EINVAL (a
 * count < 1, or a topic the app reads once the driver runs) or -EEXIST. */
int eddy_test_driver_create_topic(eddy_test_driver_t *d, const char *topic, int32_t partitions);
/* Writes a record to topic (partition -1: Kafka's default partitioner,
 * murmur2 of the key, round robin for a null key; timestamp -1: the
 * driver's wall clock, as a producer's "now") and processes everything it
 * leads to. 0, -EINVAL for a partition the topic does not have, or the
 * error that stopped the topology (eddy_test_driver_error says why; every
 * later call returns it too). */
int eddy_test_driver_pipe(eddy_test_driver_t *d, const char *topic, int32_t partition,
                          eddy_bytes_t key, eddy_bytes_t value, int64_t timestamp);
/* Moves the driver's wall clock forward by ms (it starts at the real time
 * when the driver is made) and runs the wall-clock punctuators that are
 * due, then commits. 0 or the error that stopped the topology. */
int eddy_test_driver_advance_wall_clock(eddy_test_driver_t *d, int64_t ms);
int64_t eddy_test_driver_wall_clock(const eddy_test_driver_t *d);
/* The next record of topic not read yet, in the order they were written
 * (over all its partitions): 1 and *out, or 0 when there is none. Input,
 * output, repartition and changelog topics can all be read. */
int eddy_test_driver_read(eddy_test_driver_t *d, const char *topic, eddy_test_record_t *out);
/* Records of topic not read yet. */
int64_t eddy_test_driver_unread(const eddy_test_driver_t *d, const char *topic);
/* The app the driver runs, for eddy_app_store_get, eddy_app_store_range and
 * eddy_app_stats (the driver owns it: never close it). */
eddy_app_t *eddy_test_driver_app(eddy_test_driver_t *d);
/* Why the topology stopped ("" while it runs). */
const char *eddy_test_driver_error(const eddy_test_driver_t *d);
/* Closes the tasks, frees the app and removes the state directory. */
void eddy_test_driver_destroy(eddy_test_driver_t *d);

#ifdef __cplusplus
}
#endif

#endif

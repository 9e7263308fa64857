/* Admin operations, synchronous: each runs the client's loop until the
 * broker answers (for tools and tests; the streams runtime uses them at
 * start-up). Errors: 0, an eddy_err, or a positive Kafka error code with a
 * sentence in errstr. */
#ifndef EDDY_CLIENT_ADMIN_H
#define EDDY_CLIENT_ADMIN_H

#include <stdint.h>

#include "client/client.h"

/* Metadata for topics (NULL: all), into the client's cache. */
int kc_admin_metadata(kc_client_t *c, const char *const *topics, int n, char *errstr,
                      size_t errstr_size);
int kc_admin_create_topic(kc_client_t *c, const char *name, int32_t partitions,
                          int16_t replication_factor, const char *const *keys,
                          const char *const *values, int nconfigs, char *errstr,
                          size_t errstr_size);
int kc_admin_delete_topic(kc_client_t *c, const char *name, char *errstr, size_t errstr_size);
/* ts: -2 earliest, -1 latest, else the first offset with timestamp >= ts
 * (-1 when none). */
int kc_admin_list_offset(kc_client_t *c, const char *topic, int32_t partition, int64_t ts,
                         int64_t *offset, char *errstr, size_t errstr_size);
/* Calls fn for each setting of a topic (name, value, is_default). */
typedef void(kc_config_entry_fn)(const char *name, const char *value, int is_default,
                                 void *opaque);
int kc_admin_describe_topic_configs(kc_client_t *c, const char *topic, kc_config_entry_fn *fn,
                                    void *opaque, char *errstr, size_t errstr_size);

#endif

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
/* Calls fn for each setting of a topic: its name, value and where its value
 * comes from, as Kafka's ConfigSource (KC_CONFIG_SOURCE_*): a broker's own
 * defaults and its static or dynamic settings are told apart from the
 * topic's. */
#define KC_CONFIG_SOURCE_TOPIC 1          /* set on the topic */
#define KC_CONFIG_SOURCE_BROKER 2         /* the broker's dynamic setting */
#define KC_CONFIG_SOURCE_CLUSTER_BROKER 3 /* the cluster-wide dynamic default */
#define KC_CONFIG_SOURCE_STATIC_BROKER 4  /* the broker's configuration file */
#define KC_CONFIG_SOURCE_DEFAULT 5        /* the built-in default */
typedef void(kc_config_entry_fn)(const char *name, const char *value, int source, void *opaque);
int kc_admin_describe_topic_configs(kc_client_t *c, const char *topic, kc_config_entry_fn *fn,
                                    void *opaque, char *errstr, size_t errstr_size);
/* Changes settings of a topic with IncrementalAlterConfigs: keys[i] is set
 * to values[i], or removed (back to the broker's default) when values[i] is
 * NULL; the others stay. The broker validates all first: a bad one changes
 * nothing (INVALID_CONFIG, errstr naming it). */
int kc_admin_alter_topic_configs(kc_client_t *c, const char *topic, const char *const *keys,
                                 const char *const *values, int n, char *errstr,
                                 size_t errstr_size);

/* ---- DeleteRecords, without waiting ---- */

/* One partition of a kc_delete_records call. In: dr_topic, dr_partition and
 * dr_offset (records below it go; -1: all, up to the high watermark). Out:
 * dr_low_watermark (the partition's new log start; -1 when not known),
 * dr_err (0, or a negative eddy error: the request to the partition's leader
 * failed as a whole) and dr_error (the broker's Kafka error code for the
 * partition; LEADER_NOT_AVAILABLE when the client's metadata names no
 * leader). */
typedef struct kc_delete_records_part {
    const char *dr_topic;
    int32_t dr_partition;
    int64_t dr_offset;
    int64_t dr_low_watermark;
    int dr_err;
    int16_t dr_error;
} kc_delete_records_part_t;

/* parts[0..n) are the call's own copies, valid during the call of fn. */
typedef void(kc_delete_records_fn)(kc_client_t *c, const kc_delete_records_part_t *parts, int n,
                                   void *opaque);

/* Sends DeleteRecords (Kafka's AdminClient.deleteRecords) for parts[0..n)
 * to their leaders, one request per leader found in the client's cached
 * metadata, and returns at once: nothing waits for the answers. done is
 * called once on the loop when every leader answered or failed (a timeout,
 * a lost connection, the client destroyed), possibly before this call
 * returns (as kc_request's done). parts (topic names included) are copied.
 * Returns 0 (done will be called), or -EINVAL (n < 0, no done) or -ENOMEM,
 * and then done is not called. */
int kc_delete_records(kc_client_t *c, const kc_delete_records_part_t *parts, int n,
                      kc_delete_records_fn *done, void *opaque);

/* ---- ACLs (CreateAcls, DescribeAcls, DeleteAcls) ---- */

/* One ACL, or a filter. The codes are Kafka's (resource type: 1 any,
 * 2 topic, 3 group, 4 cluster, 5 transactional id; pattern: 1 any,
 * 2 match, 3 literal, 4 prefixed; operation: 1 any, 2 all, 3 read, ...;
 * permission: 1 any, 2 deny, 3 allow). In a filter a NULL string matches
 * any. Strings are borrowed. */
typedef struct kc_acl {
    int ka_res_type;
    const char *ka_name;
    int ka_pattern;
    const char *ka_principal;
    const char *ka_host;
    int ka_op;
    int ka_perm;
} kc_acl_t;
/* The ACL is valid during the call. */
typedef void(kc_acl_fn)(const kc_acl_t *acl, void *opaque);
/* Adds the ACLs; the first refused one's Kafka error and message come back. */
int kc_admin_create_acls(kc_client_t *c, const kc_acl_t *acls, int n, char *errstr,
                         size_t errstr_size);
/* Calls fn for each ACL the filter matches. */
int kc_admin_describe_acls(kc_client_t *c, const kc_acl_t *filter, kc_acl_fn *fn, void *opaque,
                           char *errstr, size_t errstr_size);
/* Removes the ACLs the filter matches, calling fn for each (may be NULL). */
int kc_admin_delete_acls(kc_client_t *c, const kc_acl_t *filter, kc_acl_fn *fn, void *opaque,
                         char *errstr, size_t errstr_size);
/* ---- SCRAM credentials (DescribeUserScramCredentials, AlterUserScramCredentials) ---- */

/* Calls fn for each credential of the users named (users NULL: every user
 * with one): the mechanism (1 SCRAM-SHA-256, 2 SCRAM-SHA-512) and its
 * iteration count. A user without credentials is an error
 * (RESOURCE_NOT_FOUND) when named. */
typedef void(kc_scram_cred_fn)(const char *user, int mechanism, int32_t iterations, void *opaque);
int kc_admin_describe_scram(kc_client_t *c, const char *const *users, int n, kc_scram_cred_fn *fn,
                            void *opaque, char *errstr, size_t errstr_size);
/* Sets user's credential for mechanism from a password, as Kafka's admin
 * client does: the salt (32 random bytes) and the salted password are made
 * here and sent; the password never leaves the process. */
int kc_admin_upsert_scram(kc_client_t *c, const char *user, int mechanism, int32_t iterations,
                          const char *password, char *errstr, size_t errstr_size);
/* Removes user's credential for mechanism (RESOURCE_NOT_FOUND when none). */
int kc_admin_delete_scram(kc_client_t *c, const char *user, int mechanism, char *errstr,
                          size_t errstr_size);

#endif

/* ---- groups ---- */

/* Every group on every broker of the cluster. */
typedef void(kc_group_fn)(const char *group, const char *protocol_type, void *opaque);
int kc_admin_list_groups(kc_client_t *c, kc_group_fn *fn, void *opaque, char *errstr,
                         size_t errstr_size);

typedef struct kc_group_member_desc {
    const char *gm_member_id, *gm_client_id, *gm_host;
    /* The member's partitions (from its ConsumerProtocol assignment). */
    int gm_nassigned;
    const char *const *gm_topics; /* per assigned partition */
    const int32_t *gm_partitions;
} kc_group_member_desc_t;

typedef struct kc_group_desc {
    const char *gd_state; /* Empty, Stable, PreparingRebalance, ..., Dead */
    const char *gd_protocol_type, *gd_protocol;
    int gd_nmembers;
    const kc_group_member_desc_t *gd_members;
} kc_group_desc_t;

/* Describes a group; the description is valid during the call of fn. */
typedef void(kc_group_desc_fn)(const kc_group_desc_t *d, void *opaque);
int kc_admin_describe_group(kc_client_t *c, const char *group, kc_group_desc_fn *fn, void *opaque,
                            char *errstr, size_t errstr_size);
/* Committed offsets of a group: topic NULL for all. */
typedef void(kc_offset_fn)(const char *topic, int32_t partition, int64_t offset, void *opaque);
int kc_admin_committed_offsets(kc_client_t *c, const char *group, const char *topic,
                               kc_offset_fn *fn, void *opaque, char *errstr, size_t errstr_size);
/* Commits offsets for a group with no live members (generation -1). */
int kc_admin_commit_offsets(kc_client_t *c, const char *group, const char *topic, int n,
                            const int32_t *partitions, const int64_t *offsets, char *errstr,
                            size_t errstr_size);
int kc_admin_delete_group(kc_client_t *c, const char *group, char *errstr, size_t errstr_size);

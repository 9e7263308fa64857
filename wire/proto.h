/* Kafka protocol framing shared by every API: API keys, wire error codes,
 * request and response headers, and the string/array primitives.
 *
 * Strings and byte fields decode as borrowed views into the request bytes
 * (valid as long as the request buffer lives); arrays are allocated from the
 * request's arena. Every array count read from the wire is checked against
 * the bytes left before anything is allocated for it.
 */
#ifndef EDDY_WIRE_PROTO_H
#define EDDY_WIRE_PROTO_H

#include <errno.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/err.h"

enum kafka_api {
    API_PRODUCE = 0,
    API_FETCH = 1,
    API_LIST_OFFSETS = 2,
    API_METADATA = 3,
    API_OFFSET_COMMIT = 8,
    API_OFFSET_FETCH = 9,
    API_FIND_COORDINATOR = 10,
    API_JOIN_GROUP = 11,
    API_HEARTBEAT = 12,
    API_LEAVE_GROUP = 13,
    API_SYNC_GROUP = 14,
    API_DESCRIBE_GROUPS = 15,
    API_LIST_GROUPS = 16,
    API_SASL_HANDSHAKE = 17,
    API_API_VERSIONS = 18,
    API_CREATE_TOPICS = 19,
    API_DELETE_TOPICS = 20,
    API_DELETE_RECORDS = 21,
    API_INIT_PRODUCER_ID = 22,
    API_ADD_PARTITIONS_TO_TXN = 24,
    API_ADD_OFFSETS_TO_TXN = 25,
    API_END_TXN = 26,
    API_WRITE_TXN_MARKERS = 27,
    API_TXN_OFFSET_COMMIT = 28,
    API_DESCRIBE_ACLS = 29,
    API_CREATE_ACLS = 30,
    API_DELETE_ACLS = 31,
    API_DESCRIBE_CONFIGS = 32,
    API_ALTER_CONFIGS = 33,
    API_SASL_AUTHENTICATE = 36,
    API_CREATE_PARTITIONS = 37,
    API_DELETE_GROUPS = 42,
    API_INCREMENTAL_ALTER_CONFIGS = 44,
    API_OFFSET_DELETE = 47,
    API_DESCRIBE_CLIENT_QUOTAS = 48,
    API_DESCRIBE_USER_SCRAM_CREDENTIALS = 50,
    API_ALTER_USER_SCRAM_CREDENTIALS = 51,
    API_DESCRIBE_CLUSTER = 60,
    API_DESCRIBE_TRANSACTIONS = 65,
    API_LIST_TRANSACTIONS = 66,
    API_KEY_MAX = 68,
};

/* Name of an API key ("Produce"), or "Unknown". */
const char *kafka_api_name(int api_key);

/* Kafka's error codes, as sent on the wire (a separate space from eddy_err). */
#define KAFKA_ERR_TABLE(X)                                                                         \
    X(UNKNOWN_SERVER_ERROR, -1)                                                                    \
    X(NONE, 0)                                                                                     \
    X(OFFSET_OUT_OF_RANGE, 1)                                                                      \
    X(CORRUPT_MESSAGE, 2)                                                                          \
    X(UNKNOWN_TOPIC_OR_PARTITION, 3)                                                               \
    X(INVALID_FETCH_SIZE, 4)                                                                       \
    X(LEADER_NOT_AVAILABLE, 5)                                                                     \
    X(NOT_LEADER_OR_FOLLOWER, 6)                                                                   \
    X(REQUEST_TIMED_OUT, 7)                                                                        \
    X(MESSAGE_TOO_LARGE, 10)                                                                       \
    X(NETWORK_EXCEPTION, 13)                                                                       \
    X(OFFSET_METADATA_TOO_LARGE, 12)                                                               \
    X(COORDINATOR_LOAD_IN_PROGRESS, 14)                                                            \
    X(COORDINATOR_NOT_AVAILABLE, 15)                                                               \
    X(NOT_COORDINATOR, 16)                                                                         \
    X(INVALID_TOPIC_EXCEPTION, 17)                                                                 \
    X(RECORD_LIST_TOO_LARGE, 18)                                                                   \
    X(NOT_ENOUGH_REPLICAS, 19)                                                                     \
    X(NOT_ENOUGH_REPLICAS_AFTER_APPEND, 20)                                                        \
    X(INVALID_REQUIRED_ACKS, 21)                                                                   \
    X(ILLEGAL_GENERATION, 22)                                                                      \
    X(INCONSISTENT_GROUP_PROTOCOL, 23)                                                             \
    X(INVALID_GROUP_ID, 24)                                                                        \
    X(UNKNOWN_MEMBER_ID, 25)                                                                       \
    X(INVALID_SESSION_TIMEOUT, 26)                                                                 \
    X(REBALANCE_IN_PROGRESS, 27)                                                                   \
    X(INVALID_COMMIT_OFFSET_SIZE, 28)                                                              \
    X(INVALID_TIMESTAMP, 32)                                                                       \
    X(UNSUPPORTED_SASL_MECHANISM, 33)                                                              \
    X(ILLEGAL_SASL_STATE, 34)                                                                      \
    X(UNSUPPORTED_VERSION, 35)                                                                     \
    X(TOPIC_ALREADY_EXISTS, 36)                                                                    \
    X(INVALID_PARTITIONS, 37)                                                                      \
    X(INVALID_REPLICATION_FACTOR, 38)                                                              \
    X(INVALID_REPLICA_ASSIGNMENT, 39)                                                              \
    X(INVALID_CONFIG, 40)                                                                          \
    X(INVALID_REQUEST, 42)                                                                         \
    X(POLICY_VIOLATION, 44)                                                                        \
    X(OUT_OF_ORDER_SEQUENCE_NUMBER, 45)                                                            \
    X(INVALID_PRODUCER_EPOCH, 47)                                                                  \
    X(KAFKA_STORAGE_ERROR, 56)                                                                     \
    X(SASL_AUTHENTICATION_FAILED, 58)                                                              \
    X(UNKNOWN_PRODUCER_ID, 59)                                                                     \
    X(NON_EMPTY_GROUP, 68)                                                                         \
    X(GROUP_ID_NOT_FOUND, 69)                                                                      \
    X(MEMBER_ID_REQUIRED, 79)                                                                      \
    X(FENCED_INSTANCE_ID, 82)                                                                      \
    X(GROUP_SUBSCRIBED_TO_TOPIC, 86)                                                               \
    X(INVALID_RECORD, 87)                                                                          \
    X(DUPLICATE_SEQUENCE_NUMBER, 46)                                                               \
    X(TOPIC_AUTHORIZATION_FAILED, 29)                                                              \
    X(GROUP_AUTHORIZATION_FAILED, 30)                                                              \
    X(CLUSTER_AUTHORIZATION_FAILED, 31)                                                            \
    X(TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 53)                                                   \
    X(SECURITY_DISABLED, 54)                                                                       \
    X(RESOURCE_NOT_FOUND, 91)                                                                      \
    X(DUPLICATE_RESOURCE, 92)                                                                      \
    X(UNACCEPTABLE_CREDENTIAL, 93)                                                                 \
    X(INVALID_TXN_STATE, 48)                                                                       \
    X(INVALID_PRODUCER_ID_MAPPING, 49)                                                             \
    X(INVALID_TRANSACTION_TIMEOUT, 50)                                                             \
    X(CONCURRENT_TRANSACTIONS, 51)                                                                 \
    X(TRANSACTION_COORDINATOR_FENCED, 52)                                                          \
    X(OPERATION_NOT_ATTEMPTED, 55)                                                                 \
    X(PRODUCER_FENCED, 90)                                                                         \
    X(TRANSACTIONAL_ID_NOT_FOUND, 105)                                                             \
    X(UNSTABLE_OFFSET_COMMIT, 88)                                                                  \
    X(TRANSACTION_ABORTABLE, 120)

enum kafka_err {
#define KAFKA_ERR_ENUM(name, code) KERR_##name = code,
    KAFKA_ERR_TABLE(KAFKA_ERR_ENUM)
#undef KAFKA_ERR_ENUM
};

const char *kafka_err_name(int code); /* "UNKNOWN_TOPIC_OR_PARTITION" */

/* A string or bytes field: len -1 is null. Borrowed from the request. */
typedef struct kstr {
    const char *ptr;
    int32_t len;
} kstr_t;

#define KSTR_NULL ((kstr_t){NULL, -1})
kstr_t kstr_c(const char *s); /* view of a C string (NULL -> null) */
/* Whether a holds the C string s; a null string equals only NULL. */
int kstr_eq(kstr_t a, const char *s);
/* The empty string for a null one, for fields a caller keeps as C strings. */
static inline kstr_t kstr_or_empty(kstr_t s)
{
    return s.len < 0 ? (kstr_t){"", 0} : s;
}
/* NUL-terminated copies: malloc'ed (kstr_dup) or in an arena (kstr_arena_dup);
 * NULL for a null string or when out of memory. */
char *kstr_dup(kstr_t s);
char *kstr_arena_dup(eddy_arena_t *a, kstr_t s);
/* A copy of the C string s in an arena, as a kstr; null when out of memory. */
kstr_t kstr_arena(eddy_arena_t *a, const char *s);

typedef struct RequestHeader {
    int16_t RequestApiKey;
    int16_t RequestApiVersion;
    int32_t CorrelationId;
    kstr_t ClientId;
    int header_version; /* 1, or 2 for flexible requests */
} RequestHeader;

/* Is this (api, version) flexible (compact encodings and tagged fields)?
 * Of the versions Eddy speaks only ApiVersions v3+ is. */
int kafka_is_flexible(int api_key, int version);

/* Decodes the request header at the start of a request (after the 4-byte
 * size). Returns 0 or an eddy_err. */
int wire_request_header_decode(eddy_rd_t *rd, RequestHeader *h);
/* Writes the response header; ApiVersions always uses header v0. */
void wire_response_header_encode(eddy_wr_t *wr, const RequestHeader *req);

/* Primitives. Legacy strings: int16 length; compact: uvarint length+1. */
kstr_t rd_string(eddy_rd_t *rd);         /* nullable: -1 */
kstr_t rd_compact_string(eddy_rd_t *rd); /* nullable: 0 */
kstr_t rd_kbytes(eddy_rd_t *rd);         /* int32 length, nullable: -1 */
/* Array count: int32 (-1 null) or compact (0 null); counts that could not
 * fit in the bytes left (each element at least min_elem bytes) fail. */
int32_t rd_array_count(eddy_rd_t *rd, size_t min_elem);
int32_t rd_compact_array_count(eddy_rd_t *rd, size_t min_elem);
void rd_skip_tags(eddy_rd_t *rd); /* tagged fields: count, then (tag, size, bytes) */

/* An int32-counted array that may not be null: the count, or 0 on error. */
static inline int32_t rd_array_count_nn(eddy_rd_t *rd, size_t min_elem)
{
    int32_t n = rd_array_count(rd, min_elem);
    if (n < 0) {
        rd_fail(rd, EDDY_ERR_INVALID_ARG);
        return 0;
    }
    return n;
}

/* Room for n elements from the request arena, or NULL when n <= 0 or the
 * reader has failed. An arena refusal fails the reader with -ENOMEM, so the
 * caller's loop (guarded by !rd->rd_err) never touches a NULL array. */
static inline void *rd_arena_array(eddy_rd_t *rd, eddy_arena_t *a, int32_t n, size_t size)
{
    if (n <= 0 || rd->rd_err)
        return NULL;
    void *p = arena_calloc(a, (size_t)n, size);
    if (!p)
        rd_fail(rd, -ENOMEM);
    return p;
}

void wr_string(eddy_wr_t *wr, kstr_t s);
void wr_cstring(eddy_wr_t *wr, const char *s); /* NULL -> null */
void wr_compact_string(eddy_wr_t *wr, kstr_t s);
void wr_kbytes(eddy_wr_t *wr, kstr_t b);
void wr_empty_tags(eddy_wr_t *wr);

#endif

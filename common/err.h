/* Eddy's one error type.
 *
 * 0 is success, negative is failure. Operating-system errors are carried as
 * -errno (so -ENOENT stays meaningful); Eddy's own errors live below
 * EDDY_ERR_BASE so the two ranges never collide. One X-macro table yields the
 * enum, the names and the messages, so they cannot drift apart.
 *
 * Kafka wire error codes are a separate enum (wire/), mapped at the edge.
 */
#ifndef EDDY_COMMON_ERR_H
#define EDDY_COMMON_ERR_H

#define EDDY_ERR_BASE (-10000)

/* X(name, offset below EDDY_ERR_BASE, message) */
#define EDDY_ERR_TABLE(X)                                                                          \
    X(TRUNCATED, 1, "input ends before the value it announces")                                    \
    X(VARINT_OVERFLOW, 2, "variable-length integer is too long")                                   \
    X(TOO_LARGE, 3, "size exceeds the configured limit")                                           \
    X(INVALID_ARG, 4, "invalid argument")                                                          \
    X(BATCH_LENGTH, 5, "record batch length does not match its content")                           \
    X(BATCH_MAGIC, 6, "record batch magic is not 2")                                               \
    X(BATCH_CRC, 7, "record batch CRC-32C mismatch")                                               \
    X(BATCH_LAST_OFFSET_DELTA, 8, "record batch lastOffsetDelta does not match its records")       \
    X(BATCH_CODEC, 9, "record batch compression codec is unknown")                                 \
    X(BATCH_RECORD, 10, "record inside a batch is malformed")                                      \
    X(CONFIG, 12, "invalid configuration")                                                         \
    X(OFFSET_OUT_OF_RANGE, 13, "offset is outside the log")                                        \
    X(LOG_OFFLINE, 14, "log is offline after an I/O failure")                                      \
    X(CORRUPT, 15, "corrupt data on disk")                                                         \
    X(STALE, 16, "the state this operation was prepared against has changed")                      \
    X(CONTROL_BATCH, 17, "control batches may not be produced by clients")                         \
    X(PROCESSING, 18, "a user function failed the record it was processing")                       \
    X(RESOLVE, 19, "host name cannot be resolved")                                                 \
    X(CORRUPT_COMPRESSED, 20, "compressed records are corrupt or truncated")                       \
    X(INFLATED_TOO_LARGE, 21, "compressed records inflate past the size limit")                    \
    X(OUT_OF_ORDER_SEQUENCE, 22, "a producer's batch does not follow its last sequence number")    \
    X(INVALID_PRODUCER_EPOCH, 23, "a producer's epoch is older than the one the log has")          \
    X(UNKNOWN_PRODUCER_ID, 24, "the log has no state for this producer id")                        \
    X(INVALID_TIMESTAMP, 25, "a record's timestamp is outside the range the topic accepts")        \
    X(INVALID_TXN_STATE, 26, "a producer's batch does not fit its transaction in this partition")  \
    X(RECORD_WITHOUT_KEY, 27, "a compacted topic needs a key on every record")                     \
    X(AUTH, 31, "the broker refused the client's authentication")                                  \
    X(TXN_ABORTABLE, 40, "the transaction failed and must be aborted; the producer goes on")       \
    X(TXN_FATAL, 41, "the transactional producer is fenced or refused and cannot go on")           \
    X(TXN_STATE, 42, "the call does not fit the producer's transaction state")

enum eddy_err {
    EDDY_OK = 0,
#define EDDY_ERR_ENUM(name, n, msg) EDDY_ERR_##name = EDDY_ERR_BASE - (n),
    EDDY_ERR_TABLE(EDDY_ERR_ENUM)
#undef EDDY_ERR_ENUM
};

/* A sentence for any error code: Eddy's own, or strerror() of -errno. The
 * returned string is static and never freed. */
const char *eddy_strerror(int err);

/* The symbolic name ("EDDY_ERR_BATCH_CRC", "ENOENT"), static. */
const char *eddy_err_name(int err);

#endif

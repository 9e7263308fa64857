/* WriteTxnMarkers (27): the request Kafka's transaction coordinator sends
 * to partition leaders to end a transaction in each of its partitions. Same
 * rules as api.h (arrays from the request arena, strings borrowed). */
#ifndef EDDY_WIRE_API_TXN_MARKERS_H
#define EDDY_WIRE_API_TXN_MARKERS_H

#include <stdint.h>

#include "proto.h"

typedef struct WritableTxnMarkerTopic {
    kstr_t Name;
    int32_t *PartitionIndexes;
    int32_t PartitionIndexesCount;
    int16_t *ErrorCodes; /* response: one per partition, filled by the broker */
} WritableTxnMarkerTopic;
typedef struct WritableTxnMarker {
    int64_t ProducerId;
    int16_t ProducerEpoch;
    int8_t TransactionResult; /* 0 abort, 1 commit */
    WritableTxnMarkerTopic *Topics;
    int32_t TopicsCount;
    int32_t CoordinatorEpoch;
    int8_t TransactionVersion; /* v2+, 0 below */
} WritableTxnMarker;
typedef struct WriteTxnMarkersRequest {
    WritableTxnMarker *Markers;
    int32_t MarkersCount;
} WriteTxnMarkersRequest;

/* Decodes the request; each topic's ErrorCodes array is allocated (zero)
 * from the arena for the answer. */
int wire_write_txn_markers_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                      WriteTxnMarkersRequest *r);
/* The response: per marker its ProducerId, per topic and partition the
 * ErrorCodes the broker set. */
void wire_write_txn_markers_resp_encode(eddy_wr_t *wr, int16_t v, const WriteTxnMarkersRequest *r);

#endif

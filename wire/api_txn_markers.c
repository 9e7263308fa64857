/* WriteTxnMarkers (27).
 *
 * WriteTxnMarkersRequest  v0:   Markers [ProducerId int64, ProducerEpoch int16,
 *                                 TransactionResult bool, Topics [Name string,
 *                                 PartitionIndexes [int32]], CoordinatorEpoch int32]
 *                         v1:   the same, flexible (compact arrays and strings, tags)
 *                         v2:   v1 + TransactionVersion int8 per marker
 * WriteTxnMarkersResponse v0:   Markers [ProducerId int64, Topics [Name string,
 *                                 Partitions [PartitionIndex int32, ErrorCode int16]]]
 *                         v1-2: the same, flexible
 */
#include "api_txn_markers.h"

#include "api.h"
#include "common/err.h"
#include "proto_flex.h"
#include "proto_int.h"

int wire_write_txn_markers_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                      WriteTxnMarkersRequest *r)
{
    if (!broker_api_supported(API_WRITE_TXN_MARKERS, v))
        return EDDY_ERR_INVALID_ARG;
    int flex = v >= 1;
    /* Smallest marker: ProducerId, epoch, result, topics count, coordinator epoch. */
    int32_t n = rdf_array_count_nn(rd, flex, 8 + 2 + 1 + 1 + 4);
    r->Markers = rd_arena_array(rd, a, n, sizeof *r->Markers);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        WritableTxnMarker *m = &r->Markers[i];
        m->ProducerId = rd_i64(rd);
        m->ProducerEpoch = rd_i16(rd);
        m->TransactionResult = rd_i8(rd);
        int32_t nt = rdf_array_count_nn(rd, flex, 1 + 1);
        m->Topics = rd_arena_array(rd, a, nt, sizeof *m->Topics);
        for (int32_t j = 0; j < nt && !rd->rd_err; j++) {
            WritableTxnMarkerTopic *t = &m->Topics[j];
            t->Name = rdf_string_nn(rd, flex);
            int32_t np = rdf_array_count_nn(rd, flex, 4);
            t->PartitionIndexes = rd_arena_array(rd, a, np, sizeof *t->PartitionIndexes);
            t->ErrorCodes = rd_arena_array(rd, a, np, sizeof *t->ErrorCodes);
            for (int32_t k = 0; k < np && !rd->rd_err; k++) {
                t->PartitionIndexes[k] = rd_i32(rd);
                t->ErrorCodes[k] = 0;
            }
            t->PartitionIndexesCount = np;
            rdf_tags(rd, flex);
        }
        m->TopicsCount = nt;
        m->CoordinatorEpoch = rd_i32(rd);
        m->TransactionVersion = v >= 2 ? rd_i8(rd) : 0;
        rdf_tags(rd, flex);
    }
    r->MarkersCount = n;
    rdf_tags(rd, flex);
    return rd->rd_err;
}

void wire_write_txn_markers_resp_encode(eddy_wr_t *wr, int16_t v, const WriteTxnMarkersRequest *r)
{
    int flex = v >= 1;
    wrf_count(wr, flex, r->MarkersCount);
    for (int32_t i = 0; i < r->MarkersCount; i++) {
        const WritableTxnMarker *m = &r->Markers[i];
        wr_i64(wr, m->ProducerId);
        wrf_count(wr, flex, m->TopicsCount);
        for (int32_t j = 0; j < m->TopicsCount; j++) {
            const WritableTxnMarkerTopic *t = &m->Topics[j];
            wrf_string(wr, flex, t->Name);
            wrf_count(wr, flex, t->PartitionIndexesCount);
            for (int32_t k = 0; k < t->PartitionIndexesCount; k++) {
                wr_i32(wr, t->PartitionIndexes[k]);
                wr_i16(wr, t->ErrorCodes[k]);
                wrf_tags(wr, flex);
            }
            wrf_tags(wr, flex);
        }
        wrf_tags(wr, flex);
    }
    wrf_tags(wr, flex);
}

/* The transaction coordinator's answer to "may this producer write to this
 * partition in its transaction?" (KIP-890 part 1, without the round trip:
 * one broker is every partition's leader and the coordinator). */
#include "broker/txn_int.h"

int16_t txn_verify_partition(txn_coordinator_t *tc, kstr_t id, int64_t producer_id,
                             int16_t producer_epoch, const char *topic, int32_t partition)
{
    txn_meta_t *m = tc && id.len > 0 ? txn_find(tc, id) : NULL;
    if (!m || m->t_state == TXN_DEAD || m->t_pid != producer_id)
        return KERR_INVALID_PRODUCER_ID_MAPPING;
    if (m->t_epoch != producer_epoch)
        return KERR_INVALID_PRODUCER_EPOCH;
    if (m->t_state != TXN_ONGOING || !txn_meta_has_part(m, kstr_c(topic), partition))
        return KERR_INVALID_TXN_STATE;
    return KERR_NONE;
}

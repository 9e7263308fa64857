/* The client side of SaslHandshake and SaslAuthenticate (layouts in
 * api_sasl.h). A client must authenticate to any Kafka since 1.0, so these
 * check their versions here (SaslHandshake v1, SaslAuthenticate v0-2, the
 * ranges client_api.c's wire_pick_version offers) rather than against the
 * table of what Eddy's broker serves. SaslHandshake v0, whose tokens follow
 * as bare frames, is not spoken. */
#include "api_sasl.h"

#include "client_api_int.h"
#include "proto_flex.h"

static int version_ok(int api, int16_t v)
{
    return api == API_SASL_HANDSHAKE ? v == 1 : v >= 0 && v <= 2;
}

void wire_sasl_handshake_req_encode(eddy_wr_t *wr, int16_t v, const SaslHandshakeRequest *r)
{
    if (!version_ok(API_SASL_HANDSHAKE, v)) {
        cw_fail(wr, EDDY_ERR_INVALID_ARG);
        return;
    }
    cw_string_nn(wr, r->Mechanism);
}

int wire_sasl_handshake_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                    SaslHandshakeResponse *r)
{
    r->Mechanisms = NULL;
    r->MechanismsCount = 0;
    if (!version_ok(API_SASL_HANDSHAKE, v))
        return EDDY_ERR_INVALID_ARG;
    r->ErrorCode = rd_i16(rd);
    kstr_t *mechs;
    int32_t n = rd_string_array_nn(rd, a, &mechs);
    if (rd->rd_err)
        return rd->rd_err;
    r->Mechanisms = mechs;
    r->MechanismsCount = n;
    return 0;
}

void wire_sasl_authenticate_req_encode(eddy_wr_t *wr, int16_t v, const SaslAuthenticateRequest *r)
{
    if (!version_ok(API_SASL_AUTHENTICATE, v) || r->AuthBytes.len < 0) {
        cw_fail(wr, EDDY_ERR_INVALID_ARG);
        return;
    }
    int flex = kafka_is_flexible(API_SASL_AUTHENTICATE, v);
    wrf_bytes(wr, flex, r->AuthBytes);
    wrf_tags(wr, flex);
}

int wire_sasl_authenticate_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                       SaslAuthenticateResponse *r)
{
    (void)a; /* nothing is allocated: every field is borrowed */
    r->ErrorMessage = KSTR_NULL;
    r->AuthBytes = (kstr_t){"", 0};
    r->SessionLifetimeMs = 0;
    if (!version_ok(API_SASL_AUTHENTICATE, v))
        return EDDY_ERR_INVALID_ARG;
    int flex = kafka_is_flexible(API_SASL_AUTHENTICATE, v);
    r->ErrorCode = rd_i16(rd);
    r->ErrorMessage = rdf_string(rd, flex);
    r->AuthBytes = rdf_bytes(rd, flex);
    if (!rd->rd_err && r->AuthBytes.len < 0)
        rd_fail(rd, EDDY_ERR_INVALID_ARG); /* not nullable */
    if (v >= 1)
        r->SessionLifetimeMs = rd_i64(rd);
    rdf_tags(rd, flex);
    return rd->rd_err;
}

/* SaslHandshake (17) v0-1, SaslAuthenticate (36) v0-2,
 * DescribeUserScramCredentials (50) v0, AlterUserScramCredentials (51) v0.
 * Layouts from the apache/kafka JSON specs:
 *
 * SaslHandshakeRequest:     Mechanism string
 * SaslHandshakeResponse:    ErrorCode int16, Mechanisms [string]
 * SaslAuthenticateRequest:  AuthBytes bytes                       (v2+ flexible)
 * SaslAuthenticateResponse: ErrorCode int16, ErrorMessage nullable string,
 *                           AuthBytes bytes, SessionLifetimeMs int64 (v1+)
 * DescribeUserScramCredentialsRequest:  Users nullable [Name string]  (flexible)
 * DescribeUserScramCredentialsResponse: ThrottleTimeMs int32, ErrorCode int16,
 *     ErrorMessage nullable string, Results [User string, ErrorCode int16,
 *     ErrorMessage nullable string, CredentialInfos [Mechanism int8, Iterations int32]]
 * AlterUserScramCredentialsRequest: Deletions [Name string, Mechanism int8],
 *     Upsertions [Name string, Mechanism int8, Iterations int32, Salt bytes,
 *     SaltedPassword bytes]                                        (flexible)
 * AlterUserScramCredentialsResponse: ThrottleTimeMs int32,
 *     Results [User string, ErrorCode int16, ErrorMessage nullable string]
 */
#include "api_sasl.h"

#include "api.h"
#include "common/err.h"
#include "proto_flex.h"
#include "proto_int.h"

int wire_sasl_handshake_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                   SaslHandshakeRequest *r)
{
    (void)a;
    if (!broker_api_supported(API_SASL_HANDSHAKE, v))
        return EDDY_ERR_INVALID_ARG;
    r->Mechanism = rd_string_nn(rd);
    return rd->rd_err;
}

void wire_sasl_handshake_resp_encode(eddy_wr_t *wr, int16_t v, const SaslHandshakeResponse *r)
{
    (void)v;
    wr_i16(wr, r->ErrorCode);
    wr_i32(wr, r->MechanismsCount);
    for (int32_t i = 0; i < r->MechanismsCount; i++)
        wr_string(wr, r->Mechanisms[i]);
}

int wire_sasl_authenticate_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                      SaslAuthenticateRequest *r)
{
    (void)a;
    if (!broker_api_supported(API_SASL_AUTHENTICATE, v))
        return EDDY_ERR_INVALID_ARG;
    int flex = kafka_is_flexible(API_SASL_AUTHENTICATE, v);
    r->AuthBytes = rdf_bytes(rd, flex);
    if (!rd->rd_err && r->AuthBytes.len < 0)
        rd_fail(rd, EDDY_ERR_INVALID_ARG);
    rdf_tags(rd, flex);
    return rd->rd_err;
}

void wire_sasl_authenticate_resp_encode(eddy_wr_t *wr, int16_t v, const SaslAuthenticateResponse *r)
{
    int flex = kafka_is_flexible(API_SASL_AUTHENTICATE, v);
    wr_i16(wr, r->ErrorCode);
    wrf_string(wr, flex, r->ErrorMessage);
    wrf_bytes(wr, flex, r->AuthBytes.len < 0 ? (kstr_t){"", 0} : r->AuthBytes);
    if (v >= 1)
        wr_i64(wr, r->SessionLifetimeMs);
    wrf_tags(wr, flex);
}

int wire_describe_user_scram_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                        DescribeUserScramCredentialsRequest *r)
{
    if (!broker_api_supported(API_DESCRIBE_USER_SCRAM_CREDENTIALS, v))
        return EDDY_ERR_INVALID_ARG;
    int32_t n = rd_compact_array_count(rd, 1 + 1);
    r->Users = rd_arena_array(rd, a, n, sizeof *r->Users);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        r->Users[i] = rd_compact_string_nn(rd);
        rd_skip_tags(rd);
    }
    r->UsersCount = rd->rd_err ? 0 : n;
    rd_skip_tags(rd);
    return rd->rd_err;
}

void wire_describe_user_scram_resp_encode(eddy_wr_t *wr, int16_t v,
                                          const DescribeUserScramCredentialsResponse *r)
{
    (void)v;
    wr_i32(wr, r->ThrottleTimeMs);
    wr_i16(wr, r->ErrorCode);
    wr_compact_string(wr, r->ErrorMessage);
    wrf_count(wr, 1, r->ResultsCount);
    for (int32_t i = 0; i < r->ResultsCount; i++) {
        const DescribeUserScramCredentialsResult *u = &r->Results[i];
        wr_compact_string(wr, u->User);
        wr_i16(wr, u->ErrorCode);
        wr_compact_string(wr, u->ErrorMessage);
        wrf_count(wr, 1, u->CredentialInfosCount);
        for (int32_t j = 0; j < u->CredentialInfosCount; j++) {
            wr_i8(wr, u->CredentialInfos[j].Mechanism);
            wr_i32(wr, u->CredentialInfos[j].Iterations);
            wr_empty_tags(wr);
        }
        wr_empty_tags(wr);
    }
    wr_empty_tags(wr);
}

int wire_alter_user_scram_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                     AlterUserScramCredentialsRequest *r)
{
    if (!broker_api_supported(API_ALTER_USER_SCRAM_CREDENTIALS, v))
        return EDDY_ERR_INVALID_ARG;
    /* Smallest deletion: a name, a mechanism, tags. */
    int32_t n = rdf_array_count_nn(rd, 1, 1 + 1 + 1);
    r->Deletions = rd_arena_array(rd, a, n, sizeof *r->Deletions);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        r->Deletions[i].Name = rd_compact_string_nn(rd);
        r->Deletions[i].Mechanism = rd_i8(rd);
        rd_skip_tags(rd);
    }
    r->DeletionsCount = rd->rd_err ? 0 : n;
    /* Smallest upsertion: name, mechanism, iterations, two bytes fields, tags. */
    n = rdf_array_count_nn(rd, 1, 1 + 1 + 4 + 1 + 1 + 1);
    r->Upsertions = rd_arena_array(rd, a, n, sizeof *r->Upsertions);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        ScramCredentialUpsertion *u = &r->Upsertions[i];
        u->Name = rd_compact_string_nn(rd);
        u->Mechanism = rd_i8(rd);
        u->Iterations = rd_i32(rd);
        u->Salt = rd_compact_string_nn(rd);
        u->SaltedPassword = rd_compact_string_nn(rd);
        rd_skip_tags(rd);
    }
    r->UpsertionsCount = rd->rd_err ? 0 : n;
    rd_skip_tags(rd);
    return rd->rd_err;
}

void wire_alter_user_scram_resp_encode(eddy_wr_t *wr, int16_t v,
                                       const AlterUserScramCredentialsResponse *r)
{
    (void)v;
    wr_i32(wr, r->ThrottleTimeMs);
    wrf_count(wr, 1, r->ResultsCount);
    for (int32_t i = 0; i < r->ResultsCount; i++) {
        wr_compact_string(wr, r->Results[i].User);
        wr_i16(wr, r->Results[i].ErrorCode);
        wr_compact_string(wr, r->Results[i].ErrorMessage);
        wr_empty_tags(wr);
    }
    wr_empty_tags(wr);
}

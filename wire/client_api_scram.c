/* The client side of DescribeUserScramCredentials and
 * AlterUserScramCredentials (layouts in api_sasl.c); SaslHandshake's and
 * SaslAuthenticate's are in client_api_sasl.c. */
#include "api_sasl.h"

#include "client_api_int.h"
#include "proto_flex.h"

void wire_describe_user_scram_req_encode(eddy_wr_t *wr, int16_t v,
                                         const DescribeUserScramCredentialsRequest *r)
{
    if (!cw_version(wr, API_DESCRIBE_USER_SCRAM_CREDENTIALS, v))
        return;
    cw_require(wr, r->UsersCount >= -1 && (r->UsersCount <= 0 || r->Users));
    int32_t n = wr->wr_err ? 0 : r->UsersCount;
    wrf_count(wr, 1, n);
    for (int32_t i = 0; i < n; i++) {
        cw_require(wr, r->Users[i].len >= 0);
        wr_compact_string(wr, r->Users[i]);
        wr_empty_tags(wr);
    }
    wr_empty_tags(wr);
}

int wire_describe_user_scram_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                         DescribeUserScramCredentialsResponse *r)
{
    int rc = cr_version(API_DESCRIBE_USER_SCRAM_CREDENTIALS, v);
    if (rc)
        return rc;
    r->ThrottleTimeMs = rd_i32(rd);
    r->ErrorCode = rd_i16(rd);
    r->ErrorMessage = rd_compact_string(rd);
    int32_t n = rdf_array_count_nn(rd, 1, 1 + 2 + 1 + 1 + 1);
    r->Results = rd_arena_array(rd, a, n, sizeof *r->Results);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        DescribeUserScramCredentialsResult *u = &r->Results[i];
        u->User = rd_compact_string_nn(rd);
        u->ErrorCode = rd_i16(rd);
        u->ErrorMessage = rd_compact_string(rd);
        int32_t m = rdf_array_count_nn(rd, 1, 1 + 4 + 1);
        u->CredentialInfos = rd_arena_array(rd, a, m, sizeof *u->CredentialInfos);
        for (int32_t j = 0; j < m && !rd->rd_err; j++) {
            u->CredentialInfos[j].Mechanism = rd_i8(rd);
            u->CredentialInfos[j].Iterations = rd_i32(rd);
            rd_skip_tags(rd);
        }
        u->CredentialInfosCount = rd->rd_err ? 0 : m;
        rd_skip_tags(rd);
    }
    r->ResultsCount = rd->rd_err ? 0 : n;
    rd_skip_tags(rd);
    return rd->rd_err;
}

void wire_alter_user_scram_req_encode(eddy_wr_t *wr, int16_t v,
                                      const AlterUserScramCredentialsRequest *r)
{
    if (!cw_version(wr, API_ALTER_USER_SCRAM_CREDENTIALS, v))
        return;
    cw_require(wr, r->DeletionsCount >= 0 && (r->DeletionsCount == 0 || r->Deletions) &&
                       r->UpsertionsCount >= 0 && (r->UpsertionsCount == 0 || r->Upsertions));
    int32_t nd = wr->wr_err ? 0 : r->DeletionsCount;
    int32_t nu = wr->wr_err ? 0 : r->UpsertionsCount;
    wrf_count(wr, 1, nd);
    for (int32_t i = 0; i < nd; i++) {
        cw_require(wr, r->Deletions[i].Name.len >= 0);
        wr_compact_string(wr, r->Deletions[i].Name);
        wr_i8(wr, r->Deletions[i].Mechanism);
        wr_empty_tags(wr);
    }
    wrf_count(wr, 1, nu);
    for (int32_t i = 0; i < nu; i++) {
        const ScramCredentialUpsertion *u = &r->Upsertions[i];
        cw_require(wr, u->Name.len >= 0 && u->Salt.len >= 0 && u->SaltedPassword.len >= 0);
        wr_compact_string(wr, u->Name);
        wr_i8(wr, u->Mechanism);
        wr_i32(wr, u->Iterations);
        wr_compact_string(wr, u->Salt);
        wr_compact_string(wr, u->SaltedPassword);
        wr_empty_tags(wr);
    }
    wr_empty_tags(wr);
}

int wire_alter_user_scram_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                      AlterUserScramCredentialsResponse *r)
{
    int rc = cr_version(API_ALTER_USER_SCRAM_CREDENTIALS, v);
    if (rc)
        return rc;
    r->ThrottleTimeMs = rd_i32(rd);
    int32_t n = rdf_array_count_nn(rd, 1, 1 + 2 + 1 + 1);
    r->Results = rd_arena_array(rd, a, n, sizeof *r->Results);
    for (int32_t i = 0; i < n && !rd->rd_err; i++) {
        r->Results[i].User = rd_compact_string_nn(rd);
        r->Results[i].ErrorCode = rd_i16(rd);
        r->Results[i].ErrorMessage = rd_compact_string(rd);
        rd_skip_tags(rd);
    }
    r->ResultsCount = rd->rd_err ? 0 : n;
    rd_skip_tags(rd);
    return rd->rd_err;
}

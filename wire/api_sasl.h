/* SASL and SCRAM credential APIs: SaslHandshake, SaslAuthenticate,
 * DescribeUserScramCredentials, AlterUserScramCredentials. Same rules as
 * api.h (arrays from the request arena, strings and bytes borrowed from the
 * request, fields by version). Mechanism numbers are Kafka's ScramMechanism
 * ids (common/scram.h: 1 SCRAM-SHA-256, 2 SCRAM-SHA-512). */
#ifndef EDDY_WIRE_API_SASL_H
#define EDDY_WIRE_API_SASL_H

#include <stdint.h>

#include "proto.h"

/* ---- SaslHandshake (17), v0-1; never flexible ----
 * v0: after the response, the SASL tokens travel as bare size-prefixed
 * frames (no request header); v1: inside SaslAuthenticate requests. */
typedef struct SaslHandshakeRequest {
    kstr_t Mechanism;
} SaslHandshakeRequest;
typedef struct SaslHandshakeResponse {
    int16_t ErrorCode;
    const kstr_t *Mechanisms; /* the ones enabled */
    int32_t MechanismsCount;
} SaslHandshakeResponse;
int wire_sasl_handshake_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                   SaslHandshakeRequest *r);
void wire_sasl_handshake_resp_encode(eddy_wr_t *wr, int16_t v, const SaslHandshakeResponse *r);

/* ---- SaslAuthenticate (36), v0-2; v2+ flexible ---- */
typedef struct SaslAuthenticateRequest {
    kstr_t AuthBytes;
} SaslAuthenticateRequest;
typedef struct SaslAuthenticateResponse {
    int16_t ErrorCode;
    kstr_t ErrorMessage; /* nullable */
    kstr_t AuthBytes;
    int64_t SessionLifetimeMs; /* v1+; 0: no re-authentication required */
} SaslAuthenticateResponse;
int wire_sasl_authenticate_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                      SaslAuthenticateRequest *r);
void wire_sasl_authenticate_resp_encode(eddy_wr_t *wr, int16_t v,
                                        const SaslAuthenticateResponse *r);

/* ---- DescribeUserScramCredentials (50), v0; flexible ---- */
typedef struct DescribeUserScramCredentialsRequest {
    kstr_t *Users;      /* names */
    int32_t UsersCount; /* -1: null, every user */
} DescribeUserScramCredentialsRequest;
typedef struct ScramCredentialInfo {
    int8_t Mechanism;
    int32_t Iterations;
} ScramCredentialInfo;
typedef struct DescribeUserScramCredentialsResult {
    kstr_t User;
    int16_t ErrorCode;
    kstr_t ErrorMessage; /* nullable */
    ScramCredentialInfo *CredentialInfos;
    int32_t CredentialInfosCount;
} DescribeUserScramCredentialsResult;
typedef struct DescribeUserScramCredentialsResponse {
    int32_t ThrottleTimeMs;
    int16_t ErrorCode;
    kstr_t ErrorMessage; /* nullable */
    DescribeUserScramCredentialsResult *Results;
    int32_t ResultsCount;
} DescribeUserScramCredentialsResponse;
int wire_describe_user_scram_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                        DescribeUserScramCredentialsRequest *r);
void wire_describe_user_scram_resp_encode(eddy_wr_t *wr, int16_t v,
                                          const DescribeUserScramCredentialsResponse *r);

/* ---- AlterUserScramCredentials (51), v0; flexible ---- */
typedef struct ScramCredentialDeletion {
    kstr_t Name;
    int8_t Mechanism;
} ScramCredentialDeletion;
typedef struct ScramCredentialUpsertion {
    kstr_t Name;
    int8_t Mechanism;
    int32_t Iterations;
    kstr_t Salt;
    kstr_t SaltedPassword;
} ScramCredentialUpsertion;
typedef struct AlterUserScramCredentialsRequest {
    ScramCredentialDeletion *Deletions;
    int32_t DeletionsCount;
    ScramCredentialUpsertion *Upsertions;
    int32_t UpsertionsCount;
} AlterUserScramCredentialsRequest;
typedef struct AlterUserScramCredentialsResult {
    kstr_t User;
    int16_t ErrorCode;
    kstr_t ErrorMessage; /* nullable */
} AlterUserScramCredentialsResult;
typedef struct AlterUserScramCredentialsResponse {
    int32_t ThrottleTimeMs;
    AlterUserScramCredentialsResult *Results;
    int32_t ResultsCount;
} AlterUserScramCredentialsResponse;
int wire_alter_user_scram_req_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                     AlterUserScramCredentialsRequest *r);
void wire_alter_user_scram_resp_encode(eddy_wr_t *wr, int16_t v,
                                       const AlterUserScramCredentialsResponse *r);

/* The client side (client_api_sasl.c), in the broker's version ranges. */
void wire_sasl_handshake_req_encode(eddy_wr_t *wr, int16_t v, const SaslHandshakeRequest *r);
int wire_sasl_handshake_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                    SaslHandshakeResponse *r);
void wire_sasl_authenticate_req_encode(eddy_wr_t *wr, int16_t v, const SaslAuthenticateRequest *r);
int wire_sasl_authenticate_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                       SaslAuthenticateResponse *r);
void wire_describe_user_scram_req_encode(eddy_wr_t *wr, int16_t v,
                                         const DescribeUserScramCredentialsRequest *r);
int wire_describe_user_scram_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                         DescribeUserScramCredentialsResponse *r);
void wire_alter_user_scram_req_encode(eddy_wr_t *wr, int16_t v,
                                      const AlterUserScramCredentialsRequest *r);
int wire_alter_user_scram_resp_decode(eddy_rd_t *rd, int16_t v, eddy_arena_t *a,
                                      AlterUserScramCredentialsResponse *r);

#endif

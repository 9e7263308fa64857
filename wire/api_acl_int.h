/* Private to wire/: the ACL binding layout shared by the broker and client
 * codecs of DescribeAcls, CreateAcls and DeleteAcls (api_acl.c). */
#ifndef EDDY_WIRE_API_ACL_INT_H
#define EDDY_WIRE_API_ACL_INT_H

#include "api_acl.h"
#include "proto_flex.h"

/* Smallest binding on the wire: 4 int8 and 3 strings of at least 1 byte. */
#define BINDING_MIN 7

/* A binding (filter: nullable strings) in the request's order. */
static inline void rd_binding(eddy_rd_t *rd, int16_t v, int flex, int filter, AclBinding *b)
{
    b->ResourceType = rd_i8(rd);
    b->ResourceName = filter ? rdf_string(rd, flex) : rdf_string_nn(rd, flex);
    b->PatternType = v >= 1 ? rd_i8(rd) : 3;
    b->Principal = filter ? rdf_string(rd, flex) : rdf_string_nn(rd, flex);
    b->Host = filter ? rdf_string(rd, flex) : rdf_string_nn(rd, flex);
    b->Operation = rd_i8(rd);
    b->PermissionType = rd_i8(rd);
}

static inline void wr_binding(eddy_wr_t *wr, int16_t v, int flex, const AclBinding *b)
{
    wr_i8(wr, b->ResourceType);
    wrf_string(wr, flex, b->ResourceName);
    if (v >= 1)
        wr_i8(wr, b->PatternType);
    wrf_string(wr, flex, b->Principal);
    wrf_string(wr, flex, b->Host);
    wr_i8(wr, b->Operation);
    wr_i8(wr, b->PermissionType);
}

#endif

"""Authorization on the wire, request by request, with Kafka's errors (docs/broker.md,
"Authorization"), on the principal of a PLAINTEXT connection (User:ANONYMOUS).

  acl_apis         CreateAcls, DescribeAcls, DeleteAcls at v1 (legacy) and v3 (flexible) as a
                   super user: a bad binding is refused alone (INVALID_REQUEST), duplicates are
                   stored once, ANY and MATCH filters, DeleteAcls returns what it removed; on a
                   broker without an authorizer they answer SECURITY_DISABLED
  denied_requests  after a restart without super.users, a principal allowed only to Describe
                   topic t and Read group g gets, per API, Kafka's error (TOPIC_, GROUP_,
                   CLUSTER_AUTHORIZATION_FAILED); Metadata and OffsetFetch leave out what it may
                   not describe; DescribeGroups reports its operations; and nothing changed:
                   records, log start, partitions, configs, committed offsets, groups

usage: broker_acl_wire.py path/to/eddy [case ...]
"""
import re
import struct

import kwire
from kwire import Broker, Conn, Enc, check, eddy, s16, arr

EDDY, WORK = kwire.setup("eddy-broker-acl-wire-")

AUTH = "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer"
TOPIC, GROUP, CLUSTER = 2, 3, 4
ANY, MATCH, LITERAL, PREFIXED = 1, 2, 3, 4
OP_ANY, OP_ALL, READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE = 1, 2, 3, 4, 5, 6, 7, 8
DENY, ALLOW = 2, 3
TOPIC_AUTH, GROUP_AUTH, CLUSTER_AUTH, INVALID_REQUEST, SECURITY_DISABLED = 29, 30, 31, 42, 54
ME = "User:ANONYMOUS"


def binding(e, t, name, pattern, principal, host, op, perm, v):
    b = struct.pack(">b", t) + e.str(name)
    if v >= 1:
        b += struct.pack(">b", pattern)
    return b + e.str(principal) + e.str(host) + struct.pack(">bb", op, perm)


def create_acls(c, v, acls):
    e = Enc(kwire.flexible(30, v))
    r = c.call(30, v, e.arr(binding(e, *a, v) + e.tags() for a in acls) + e.tags())
    r.i32()
    out = []
    for _ in range(r.count()):
        out.append((r.i16(), r.str()))
        r.tags()
    return out


def read_binding(r):
    return (r.i8(), r.str(), r.i8(), r.str(), r.str(), r.i8(), r.i8())


def describe_acls(c, v, flt):
    e = Enc(kwire.flexible(29, v))
    r = c.call(29, v, binding(e, *flt, v) + e.tags())
    r.i32()
    err, msg = r.i16(), r.str()
    acls = []
    for _ in range(r.count()):
        t, name, pattern = r.i8(), r.str(), r.i8()
        for _ in range(r.count()):
            acls.append((t, name, pattern, r.str(), r.str(), r.i8(), r.i8()))
            r.tags()
        r.tags()
    return err, msg, sorted(acls)


def delete_acls(c, v, filters):
    e = Enc(kwire.flexible(31, v))
    r = c.call(31, v, e.arr(binding(e, *f, v) + e.tags() for f in filters) + e.tags())
    r.i32()
    out = []
    for _ in range(r.count()):
        err, msg = r.i16(), r.str()
        matched = []
        for _ in range(r.count()):
            r.i16(), r.str()
            matched.append(read_binding(r))
            r.tags()
        r.tags()
        out.append((err, msg, sorted(matched)))
    return out


def case_acl_apis():
    b = Broker("apis", [AUTH, "super.users=User:admin;" + ME])
    c = Conn(b.port)
    a1 = (TOPIC, "orders", LITERAL, "User:alice", "*", READ, ALLOW)
    a2 = (TOPIC, "ord", PREFIXED, "User:bob", "10.0.0.1", WRITE, DENY)
    a3 = (GROUP, "g", LITERAL, "User:*", "*", OP_ALL, ALLOW)
    bad = (CLUSTER, "other-name", LITERAL, "User:alice", "*", ALTER, ALLOW)
    res = create_acls(c, 1, [a1, bad, a1])
    check([e for e, _ in res] == [0, INVALID_REQUEST, 0], "CreateAcls v1: %r" % res)
    check("kafka-cluster" in res[1][1], "CreateAcls message: %r" % res[1][1])
    res = create_acls(c, 3, [a2, a3])
    check([e for e, _ in res] == [0, 0], "CreateAcls v3: %r" % res)
    for v in (1, 2, 3):
        err, _, acls = describe_acls(c, v, (1, None, ANY, None, None, OP_ANY, 1))
        check(err == 0 and acls == sorted([a1, a2, a3]), "DescribeAcls v%d all: %r" % (v, acls))
    # MATCH: the patterns that apply to topic "orders"; LITERAL: only that one.
    err, _, acls = describe_acls(c, 3, (TOPIC, "orders", MATCH, None, None, OP_ANY, 1))
    check(acls == sorted([a1, a2]), "MATCH orders: %r" % acls)
    err, _, acls = describe_acls(c, 1, (TOPIC, "ord", LITERAL, None, None, OP_ANY, 1))
    check(acls == [], "LITERAL ord: %r" % acls)
    # A bad filter is answered alone; the good one removes what it matches.
    res = delete_acls(c, 1, [(0, None, ANY, None, None, OP_ANY, 1),
                             (1, None, ANY, None, None, OP_ANY, DENY)])
    check(res[0][0] == INVALID_REQUEST and res[1][0] == 0 and res[1][2] == [a2],
          "DeleteAcls v1: %r" % res)
    res = delete_acls(c, 3, [(GROUP, "g", LITERAL, "User:*", None, OP_ANY, 1)])
    check(res == [(0, None, [a3])], "DeleteAcls v3: %r" % res)
    b.restart()
    c = Conn(b.port)
    err, _, acls = describe_acls(c, 2, (1, None, ANY, None, None, OP_ANY, 1))
    check(acls == [a1], "after restart: %r" % acls)
    plain = Broker("noauth")
    c = Conn(plain.port)
    check(describe_acls(c, 1, (1, None, ANY, None, None, OP_ANY, 1))[0] == SECURITY_DISABLED,
          "DescribeAcls without an authorizer")
    check(create_acls(c, 3, [a1])[0][0] == SECURITY_DISABLED, "CreateAcls without an authorizer")
    return "v1-v3 both ways, MATCH/ANY filters, restart, SECURITY_DISABLED"


def metadata_topics(c, topics):
    body = struct.pack(">i", -1) if topics is None else arr((s16(t) for t in topics), False)
    r = c.call(3, 1, body)
    for _ in range(r.count()):
        r.i32(), r.str(), r.i32(), r.str()
    r.i32()
    out = {}
    for _ in range(r.count()):
        err, name, _ = r.i16(), r.str(), r.i8()
        n = r.count()
        for _ in range(n):
            r.i16(), r.i32(), r.i32()
            for _ in range(r.count()):
                r.i32()
            for _ in range(r.count()):
                r.i32()
        out[name] = (err, n)
    return out


def committed(c, group):
    """OffsetFetch v5, all topics: {(topic, partition): offset}, top-level error."""
    r = c.call(9, 5, s16(group) + struct.pack(">i", -1))
    r.i32()
    out = {}
    for _ in range(r.count()):
        name = r.str()
        for _ in range(r.count()):
            p, off, _, _, err = r.i32(), r.i64(), r.i32(), r.str(), r.i16()
            out[(name, p)] = (off, err)
    return out, r.i16()


def list_offset(c, topic, ts):
    r = c.call(2, 1, struct.pack(">i", -1) + arr([s16(topic) + struct.pack(">iiq", 1, 0, ts)],
                                                 False))
    r.count(), r.str(), r.count()
    return r.i32(), r.i16(), r.i64(), r.i64()


def case_denied_requests():
    b = Broker("denied", [AUTH, "super.users=" + ME, "group.initial.rebalance.delay.ms=0"])
    env = ["-b", b.addr]
    for t in ("t", "hidden"):
        check(eddy(*env, "topic", "create", t, "-p", "1").returncode == 0, "create " + t)
        check(eddy(*env, "topic", "produce", t, stdin=b"1\n2\n3\n4\n").returncode == 0,
              "produce " + t)
        check(eddy(*env, "topic", "consume", t, "-g", "g", "-n", "2").returncode == 0,
              "commit g on " + t)
    c = Conn(b.port)
    create_acls(c, 3, [(TOPIC, "t", LITERAL, ME, "*", DESCRIBE, ALLOW),
                       (GROUP, "g", LITERAL, ME, "*", READ, ALLOW)])
    before, _ = committed(c, "g")
    check(before == {("t", 0): (2, 0), ("hidden", 0): (2, 0)}, "setup offsets: %r" % before)
    b.settings = [AUTH, "group.initial.rebalance.delay.ms=0"]
    b.restart()
    c = Conn(b.port)
    denied = []

    def expect(what, got, want):
        check(got == want, "%s: got %r, want %r" % (what, got, want))
        denied.append(what)

    # Metadata: all topics shows t only; a named hidden topic is refused.
    md = metadata_topics(c, None)
    expect("Metadata all", sorted(md), ["t"])
    expect("Metadata hidden", metadata_topics(c, ["hidden", "t"]),
           {"hidden": (TOPIC_AUTH, 0), "t": (0, 1)})
    expect("ListOffsets t", list_offset(c, "t", -1)[1:], (0, -1, 4))
    expect("ListOffsets hidden", list_offset(c, "hidden", -1)[1], TOPIC_AUTH)
    # Produce, Fetch: Describe is not Write or Read.
    r = c.call(0, 3, kwire.produce_body("t", 0, kwire.values_batch([b"x"])))
    expect("Produce t", kwire.produce_result(r)[0], TOPIC_AUTH)
    r = c.call(1, 4, struct.pack(">iiiib", -1, 0, 1, 1 << 20, 0) +
               arr([s16("t") + struct.pack(">iiqi", 1, 0, 0, 1 << 20)], False))
    r.i32(), r.count(), r.str(), r.count()
    expect("Fetch t", (r.i32(), r.i16()), (0, TOPIC_AUTH))
    # DeleteRecords, CreatePartitions, DeleteTopics, CreateTopics.
    r = c.call(21, 0, arr([s16("t") + struct.pack(">iiq", 1, 0, 3)], False) +
               struct.pack(">i", 5000))
    r.i32(), r.count(), r.str(), r.count()
    expect("DeleteRecords t", (r.i32(), r.i64(), r.i16()), (0, -1, TOPIC_AUTH))
    r = c.call(37, 0, arr([s16("t") + struct.pack(">ii", 4, -1)], False) +
               struct.pack(">ib", 5000, 0))
    r.i32(), r.count()
    expect("CreatePartitions t", (r.str(), r.i16()), ("t", TOPIC_AUTH))
    r = c.call(20, 1, arr([s16("t")], False) + struct.pack(">i", 5000))
    r.i32(), r.count()
    expect("DeleteTopics t", (r.str(), r.i16()), ("t", TOPIC_AUTH))
    r = c.call(19, 2, arr([s16("newt") + struct.pack(">ihii", 1, 1, 0, 0)], False) +
               struct.pack(">ib", 5000, 0))
    r.i32(), r.count()
    expect("CreateTopics newt", (r.str(), r.i16()), ("newt", TOPIC_AUTH))
    # Configs: topic and broker resources.
    for rtype, name, want in ((2, "t", TOPIC_AUTH), (4, "0", CLUSTER_AUTH)):
        r = c.call(32, 1, arr([struct.pack(">b", rtype) + s16(name) + struct.pack(">i", -1)],
                              False) + b"\0")
        r.i32(), r.count()
        expect("DescribeConfigs %d" % rtype, r.i16(), want)
        r = c.call(33, 0, arr([struct.pack(">b", rtype) + s16(name) +
                               arr([s16("retention.ms") + s16("1000")], False)], False) + b"\0")
        r.i32(), r.count()
        expect("AlterConfigs %d" % rtype, r.i16(), want)
    # Groups.
    r = c.call(10, 1, s16("other") + b"\0")
    r.i32()
    expect("FindCoordinator other", r.i16(), GROUP_AUTH)
    expect("Heartbeat other", c.call(12, 0, s16("other") + struct.pack(">i", 1) + s16("m")).i16(),
           GROUP_AUTH)
    expect("SyncGroup other", c.call(14, 0, s16("other") + struct.pack(">i", 1) + s16("m") +
                                     arr([], False)).i16(), GROUP_AUTH)
    expect("LeaveGroup other", c.call(13, 0, s16("other") + s16("m")).i16(), GROUP_AUTH)
    r = c.call(15, 3, arr([s16("other"), s16("g")], False) + b"\1")
    r.i32(), r.count()
    got = []
    for _ in range(2):
        err, gid, _, _, _ = r.i16(), r.str(), r.str(), r.str(), r.str()
        for _ in range(r.count()):
            r.str(), r.str(), r.str(), r.bytes(), r.bytes()
        got.append((gid, err, r.i32()))
    # g: Read (and the Describe it implies), not Delete.
    expect("DescribeGroups", got, [("other", GROUP_AUTH, -2 ** 31),
                                   ("g", 0, (1 << READ) | (1 << DESCRIBE))])
    r = c.call(16, 0, b"")
    r.i16()
    groups = []
    for _ in range(r.count()):
        groups.append(r.str())
        r.str()  # protocol type
    expect("ListGroups", groups, ["g"])
    r = c.call(42, 0, arr([s16("g")], False))
    r.i32(), r.count()
    expect("DeleteGroups g", (r.str(), r.i16()), ("g", GROUP_AUTH))
    r = c.call(47, 0, s16("g") + arr([s16("t") + arr([struct.pack(">i", 0)], False)], False))
    expect("OffsetDelete g", r.i16(), GROUP_AUTH)
    # OffsetCommit: group g may be read, topic hidden not; group other not at all.
    r = c.call(8, 2, s16("g") + struct.pack(">i", -1) + s16("") + struct.pack(">q", -1) +
               arr([s16("hidden") + arr([struct.pack(">iq", 0, 0) + s16("")], False)], False))
    r.count(), r.str(), r.count()
    expect("OffsetCommit g/hidden", (r.i32(), r.i16()), (0, TOPIC_AUTH))
    r = c.call(8, 2, s16("other") + struct.pack(">i", -1) + s16("") + struct.pack(">q", -1) +
               arr([s16("t") + arr([struct.pack(">iq", 0, 0) + s16("")], False)], False))
    r.count(), r.str(), r.count()
    expect("OffsetCommit other", (r.i32(), r.i16()), (0, GROUP_AUTH))
    # OffsetFetch: all topics hides hidden; named hidden is refused; other group refused.
    offs, err = committed(c, "g")
    expect("OffsetFetch g all", (offs, err), ({("t", 0): (2, 0)}, 0))
    r = c.call(9, 5, s16("g") + arr([s16("hidden") + arr([struct.pack(">i", 0)], False)], False))
    r.i32(), r.count(), r.str(), r.count()
    expect("OffsetFetch g hidden", (r.i32(), r.i64(), r.i32(), r.str(), r.i16()),
           (0, -1, -1, "", TOPIC_AUTH))
    expect("OffsetFetch other v5", committed(c, "other"), ({}, GROUP_AUTH))
    r = c.call(9, 1, s16("other") + arr([s16("t") + arr([struct.pack(">i", 0)], False)], False))
    r.count(), r.str(), r.count()
    expect("OffsetFetch other v1", (r.i32(), r.i64(), r.str(), r.i16()), (0, -1, "", GROUP_AUTH))
    # Cluster: InitProducerId (no Write anywhere), DescribeCluster, the ACL APIs.
    r = c.call(22, 1, s16(None) + struct.pack(">i", 60000))
    r.i32()
    expect("InitProducerId", r.i16(), CLUSTER_AUTH)
    r = c.call(60, 0, b"\0\0")
    r.i32()
    expect("DescribeCluster", r.i16(), CLUSTER_AUTH)
    expect("DescribeAcls", describe_acls(c, 3, (1, None, ANY, None, None, OP_ANY, 1))[0],
           CLUSTER_AUTH)
    expect("CreateAcls", create_acls(c, 1, [(TOPIC, "t", LITERAL, ME, "*", OP_ALL, ALLOW)]),
           [(CLUSTER_AUTH, None)])
    expect("DeleteAcls", delete_acls(c, 3, [(1, None, ANY, None, None, OP_ANY, 1)])[0][0],
           CLUSTER_AUTH)
    # Nothing changed: as a super user again.
    b.settings = [AUTH, "super.users=" + ME]
    b.restart()
    c = Conn(b.port)
    check(committed(c, "g") == (before, 0), "offsets changed: %r" % (committed(c, "g"),))
    check(list_offset(c, "t", -1)[1:] == (0, -1, 4), "t's end moved")
    check(list_offset(c, "t", -2)[1:] == (0, -1, 0), "t's log start moved")
    md = metadata_topics(c, None)
    check(md.get("t") == (0, 1) and "newt" not in md, "topics changed: %r" % md)
    r = c.call(32, 1, arr([struct.pack(">b", 2) + s16("t") + arr([s16("retention.ms")], False)],
                          False) + b"\0")
    r.i32(), r.count(), r.i16(), r.str(), r.i8(), r.str(), r.count()
    check(r.str() == "retention.ms" and r.str() != "1000", "retention.ms of t changed")
    err, _, acls = describe_acls(c, 3, (1, None, ANY, None, None, OP_ANY, 1))
    check(len(acls) == 2, "ACLs changed: %r" % acls)
    check(re.search(r"Principal = User:ANONYMOUS is Denied operation = Write from host = "
                    r"127\.0\.0\.1 on resource = Topic:LITERAL:t for request = Produce",
                    b.log_text()), "no authorizer log line for the refused Produce")
    return "%d refusals" % len(denied)


CASES = {"acl_apis": case_acl_apis, "denied_requests": case_denied_requests}

if __name__ == "__main__":
    kwire.main("broker_acl_wire", CASES)

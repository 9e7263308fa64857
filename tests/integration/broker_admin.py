#!/usr/bin/env python3
"""The admin and group requests Kafka's tools send, crafted byte by byte against a real
`eddy broker` (what librdkafka cannot be made to send is checked here):

  api_versions      ApiVersions v4 (what Kafka 4.x clients send first) is answered with the
                    v3 layout and lists CreatePartitions, OffsetDelete, DescribeCluster and the
                    v5 group listings; v5 gets UNSUPPORTED_VERSION with a v0 body
  describe_cluster  v0 and v1: the cluster id Metadata gives, the broker as controller, its
                    listener address; authorized operations only when asked for
  create_partitions v0 and v3 (flexible): unknown topic, same count, shrink, the internal
                    topic, a duplicate, an assignment count that does not match, a foreign
                    broker are refused with Kafka's codes; validate_only changes nothing; a
                    grow with assignments [0] works, the new partition takes records, and after
                    kill -9 and a restart the topic still has the partitions and the records
  grow_under_fetch  a large fetch response of partition 0 is written slowly while the topic
                    grows from 1 to 64 partitions: the response comes whole, and the new
                    partitions take records (partitions keep their addresses across a grow)
  offset_delete     committed offsets deleted by OffsetDelete stay deleted after kill -9 and a
                    restart (tombstones in __consumer_offsets); the others stay; a missing group
                    is GROUP_ID_NOT_FOUND
  static_fencing    a static member replaced by a newer JoinGroup with its group.instance.id:
                    its Heartbeat, SyncGroup, OffsetCommit and JoinGroup get FENCED_INSTANCE_ID
                    (82); the newer member's heartbeat is fine; an instance id the group does
                    not know gets UNKNOWN_MEMBER_ID
  list_describe     ListGroups v4/v5 with state and type filters (case-insensitive), the state of
                    each group; DescribeGroups v5 (flexible) with the instance id and authorized
                    operations

usage: broker_admin.py path/to/eddy [case ...]
"""
import os
import re
import struct
import subprocess
import time

import kwire
from kwire import arr, bytes32, check, cstr, flexible, s16, st, uvarint

EDDY, WORK = kwire.setup("eddy-broker-admin-")


class Broker(kwire.Broker):
    def __init__(self, name, settings=(), data=None):
        super().__init__(name, ["group.initial.rebalance.delay.ms=0"] + list(settings), data=data)


class Conn(kwire.Conn):
    def __init__(self, port):
        super().__init__(port, timeout=15, client_id="broker-admin")


def produce(c, topic, partition, value):
    """Produce v3 of one record; returns (error, base offset)."""
    body = kwire.produce_body(topic, partition, kwire.values_batch([value]), acks=1,
                              timeout_ms=5000)
    return kwire.produce_result(c.call(0, 3, body))


def metadata(c, topics=None):
    """Metadata v1: (brokers [(id, host, port)], controller, {topic: (err, npartitions)})."""
    body = struct.pack(">i", -1) if topics is None else arr([s16(t) for t in topics], False)
    r = c.call(3, 1, body)
    brokers = []
    for _ in range(r.i32()):
        brokers.append((r.i32(), r.str(), r.i32(), r.str()))
    controller = r.i32()
    out = {}
    for _ in range(r.i32()):
        err = r.i16()
        name = r.str()
        r.i8()
        n = r.i32()
        for _ in range(n):
            r.i16()
            r.i32()
            r.i32()
            for _ in range(r.i32()):
                r.i32()
            for _ in range(r.i32()):
                r.i32()
        out[name] = (err, n)
    return brokers, controller, out


def cluster_id(c):
    r = c.call(3, 2, struct.pack(">i", 0))
    for _ in range(r.i32()):
        r.i32()
        r.str()
        r.i32()
        r.str()
    return r.str()


def create_topic(c, name, partitions):
    body = arr([s16(name) + struct.pack(">ih", partitions, 1) + arr([], False) + arr([], False)],
               False) + struct.pack(">i", 10000)
    r = c.call(19, 0, body)
    check(r.i32() == 1 and r.str() == name, "CreateTopics answer")
    err = r.i16()
    check(err == 0, "CreateTopics %s: error %d" % (name, err))


def create_partitions(c, v, topics, validate_only=False):
    """topics: [(name, count, assignments or None)]; returns {name: (err, message)}."""
    flex = flexible(37, v)
    items = []
    for name, count, assign in topics:
        a = (uvarint(0) if flex else struct.pack(">i", -1)) if assign is None else \
            arr([arr([struct.pack(">i", b) for b in ids], flex) + (b"\0" if flex else b"")
                 for ids in assign], flex)
        items.append(st(name, flex) + struct.pack(">i", count) + a + (b"\0" if flex else b""))
    body = arr(items, flex) + struct.pack(">ib", 10000, 1 if validate_only else 0)
    if flex:
        body += b"\0"
    r = c.call(37, v, body)
    check(r.i32() == 0, "throttle")
    out = {}
    for _ in range(r.count()):
        name = r.str()
        err = r.i16()
        msg = r.str()
        r.tags()
        out[name] = (err, msg)
    r.tags()
    r.done()
    return out


def fetch_count(c, topic, partition):
    """Records in topic-partition from offset 0 (Fetch v4)."""
    body = struct.pack(">iiiib", -1, 0, 1, 1 << 20, 0) + struct.pack(">i", 1) + s16(topic)
    body += struct.pack(">i", 1) + struct.pack(">iqi", partition, 0, 1 << 20)
    r = c.call(1, 4, body)
    r.i32()
    r.i32()
    r.str()
    r.i32()
    r.i32()
    err = r.i16()
    check(err == 0, "Fetch %s-%d: error %d" % (topic, partition, err))
    r.i64()
    r.i64()
    for _ in range(max(r.i32(), 0)):
        r.i64()
        r.i64()
    return batches_records(r.bytes() or b"")


def offset_commit(c, group, topic, offsets, gen=-1, member="", instance=None, v=2):
    """OffsetCommit (v2, or v7 with an instance id); returns {partition: error}."""
    parts = []
    for p, off in offsets.items():
        parts.append(struct.pack(">iq", p, off) + (struct.pack(">i", -1) if v >= 6 else b"")
                     + s16(""))
    body = s16(group) + struct.pack(">i", gen) + s16(member)
    if v >= 7:
        body += s16(instance)
    if 2 <= v <= 4:
        body += struct.pack(">q", -1)
    body += arr([s16(topic) + arr(parts, False)], False)
    r = c.call(8, v, body)
    if v >= 3:
        r.i32()
    out = {}
    for _ in range(r.i32()):
        r.str()
        for _ in range(r.i32()):
            p = r.i32()
            out[p] = r.i16()
    return out


def offset_fetch(c, group, topic, partitions):
    body = s16(group) + arr([s16(topic) + arr([struct.pack(">i", p) for p in partitions],
                                              False)], False)
    r = c.call(9, 2, body)
    out = {}
    for _ in range(r.i32()):
        r.str()
        for _ in range(r.i32()):
            p = r.i32()
            off = r.i64()
            r.str()
            r.i16()
            out[p] = off
    return out


def offset_delete(c, group, topic, partitions):
    body = s16(group) + arr([s16(topic) + arr([struct.pack(">i", p) for p in partitions],
                                              False)], False)
    r = c.call(47, 0, body)
    top = r.i16()
    r.i32()
    out = {}
    for _ in range(r.i32()):
        r.str()
        for _ in range(r.i32()):
            p = r.i32()
            out[p] = r.i16()
    r.done()
    return top, out


def subscription(topics):
    return struct.pack(">h", 0) + arr([s16(t) for t in topics], False) + struct.pack(">i", -1)


def join(c, group, member, instance, topics, session=6000):
    """JoinGroup v5 (consumer, range); returns (error, generation, leader, member id)."""
    body = s16(group) + struct.pack(">ii", session, session) + s16(member) + s16(instance)
    body += s16("consumer") + arr([s16("range") + bytes32(subscription(topics))], False)
    r = c.call(11, 5, body)
    r.i32()
    err = r.i16()
    gen = r.i32()
    r.str()
    leader = r.str()
    mid = r.str()
    return err, gen, leader, mid


def sync(c, group, gen, member, instance, assignments=()):
    body = s16(group) + struct.pack(">i", gen) + s16(member) + s16(instance)
    body += arr([s16(m) + bytes32(a) for m, a in assignments], False)
    r = c.call(14, 3, body)
    r.i32()
    return r.i16()


def heartbeat(c, group, gen, member, instance):
    r = c.call(12, 3, s16(group) + struct.pack(">i", gen) + s16(member) + s16(instance))
    r.i32()
    return r.i16()


# ---- cases ----

def case_api_versions():
    b = Broker("api_versions")
    c = Conn(b.port)
    body = cstr("broker-admin") + cstr("1.0") + b"\0"
    r = c.call(18, 4, body)
    check(r.i16() == 0, "ApiVersions v4: error")
    ranges = {}
    for _ in range(r.count()):
        k, lo, hi = r.i16(), r.i16(), r.i16()
        r.tags()
        ranges[k] = (lo, hi)
    r.i32()
    r.tags()
    r.done()
    for key, want in ((18, (0, 4)), (37, (0, 3)), (47, (0, 0)), (60, (0, 1)), (16, (0, 5)),
                      (15, (0, 5))):
        check(ranges.get(key) == want, "ApiVersions v4: key %d is %s, want %s" %
              (key, ranges.get(key), want))
    # v5: UNSUPPORTED_VERSION with the ranges in a v0 body, so the client retries lower.
    corr = c.send(18, 5, body)
    r = c.response(18, 0, corr)  # the v0 layout
    check(r.i16() == 35, "ApiVersions v5: not UNSUPPORTED_VERSION")
    check(r.i32() == len(ranges), "ApiVersions v5: the ranges are missing")
    c.close()
    b.stop(clean=True)
    return "v4 answered (%d APIs), v5 UNSUPPORTED_VERSION" % len(ranges)


def case_describe_cluster():
    b = Broker("describe_cluster")
    c = Conn(b.port)
    cid = cluster_id(c)
    check(cid, "no cluster id in Metadata")
    for v in (0, 1):
        for auth in (0, 1):
            body = struct.pack(">b", auth) + (b"\x01" if v >= 1 else b"") + b"\0"
            r = c.call(60, v, body)
            r.i32()
            err = r.i16()
            r.str()
            check(err == 0, "DescribeCluster v%d: error %d" % (v, err))
            if v >= 1:
                check(r.i8() == 1, "EndpointType")
            got_cid = r.str()
            controller = r.i32()
            brokers = []
            for _ in range(r.count()):
                brokers.append((r.i32(), r.str(), r.i32(), r.str()))
                r.tags()
            ops = r.i32()
            r.tags()
            r.done()
            check(got_cid == cid, "cluster id %s, Metadata says %s" % (got_cid, cid))
            check(controller == 0, "controller %d" % controller)
            check(brokers == [(0, "127.0.0.1", b.port, None)], "brokers %s" % brokers)
            check((ops != -2**31) == bool(auth), "authorized operations %d (asked: %d)" %
                  (ops, auth))
    c.close()
    b.stop(clean=True)
    return "cluster %s, node 0 at 127.0.0.1:%d" % (cid, b.port)


def case_create_partitions():
    b = Broker("create_partitions")
    c = Conn(b.port)
    create_topic(c, "cp", 2)
    create_topic(c, "cp2", 1)
    offset_commit(c, "g", "cp", {0: 0})  # makes sure __consumer_offsets is there
    INVALID_PARTITIONS, UNKNOWN_TOPIC, INVALID_REQUEST, INVALID_ASSIGNMENT = 37, 3, 42, 39
    for v in (0, 3):
        res = create_partitions(c, v, [("nosuch", 3, None)])
        check(res["nosuch"][0] == UNKNOWN_TOPIC, "v%d unknown topic: %s" % (v, res))
        res = create_partitions(c, v, [("cp", 2, None)])
        check(res["cp"][0] == INVALID_PARTITIONS and "already has 2" in res["cp"][1],
              "v%d same count: %s" % (v, res))
        res = create_partitions(c, v, [("cp", 1, None)])
        check(res["cp"][0] == INVALID_PARTITIONS, "v%d shrink: %s" % (v, res))
        res = create_partitions(c, v, [("__consumer_offsets", 99, None)])
        check(res["__consumer_offsets"][0] == INVALID_PARTITIONS, "v%d internal: %s" % (v, res))
        res = create_partitions(c, v, [("cp", 3, None), ("cp", 4, None)])
        check(res["cp"][0] == INVALID_REQUEST, "v%d duplicate: %s" % (v, res))
        res = create_partitions(c, v, [("cp", 4, [[0]])])
        check(res["cp"][0] == INVALID_ASSIGNMENT, "v%d one assignment for two: %s" % (v, res))
        res = create_partitions(c, v, [("cp", 3, [[1]])])
        check(res["cp"][0] == INVALID_ASSIGNMENT, "v%d broker 1: %s" % (v, res))
        res = create_partitions(c, v, [("cp", 5, None), ("cp2", 3, None)], validate_only=True)
        check(res == {"cp": (0, None), "cp2": (0, None)}, "v%d validate_only: %s" % (v, res))
        _, _, md = metadata(c, ["cp", "cp2"])
        check(md == {"cp": (0, 2), "cp2": (0, 1)}, "v%d after validate_only: %s" % (v, md))
    res = create_partitions(c, 3, [("cp", 4, [[0], [0]]), ("cp2", 2, None)])
    check(res == {"cp": (0, None), "cp2": (0, None)}, "grow: %s" % res)
    _, _, md = metadata(c)
    check(md.get("cp") == (0, 4) and md.get("cp2") == (0, 2), "after the grow: %s" % md)
    for i in range(3):
        err, base = produce(c, "cp", 3, b"new-%d" % i)
        check(err == 0 and base == i, "produce to cp-3: error %d, offset %d" % (err, base))
    err, _ = produce(c, "cp", 4, b"x")
    check(err == UNKNOWN_TOPIC, "produce to cp-4: error %d" % err)
    c.close()
    b.kill9()
    b2 = Broker("create_partitions", data=b.data)
    c = Conn(b2.port)
    _, _, md = metadata(c, ["cp", "cp2"])
    check(md == {"cp": (0, 4), "cp2": (0, 2)}, "after kill -9 and a restart: %s" % md)
    n = fetch_count(c, "cp", 3)
    check(n == 3, "cp-3 has %d records after the restart, want 3" % n)
    c.close()
    b2.stop(clean=True)
    return "errors as Kafka's, grow persisted across kill -9"


def eddy_cli(port, *args, stdin=None):
    return subprocess.run([EDDY, "-b", "127.0.0.1:%d" % port] + list(args), input=stdin,
                          capture_output=True, timeout=120)


def batches_records(data):
    """Records counted in whole v2 batches."""
    return sum(bh["count"] for bh in kwire.batches_in(data))


def case_grow_under_fetch():
    """A fetch response that holds partition 0 while it is written slowly, and the topic grows
    from 1 to 64 partitions meanwhile: the response is whole, the grown topic takes records."""
    b = Broker("grow_under_fetch", ["fetch.max.bytes=52428800"])
    r = eddy_cli(b.port, "topic", "create", "gf", "-p", "1")
    check(r.returncode == 0, "create: %r" % r.stderr)
    values = [b"%07d-%s" % (i, os.urandom(250).hex().encode()) for i in range(16 * 1024)]
    r = eddy_cli(b.port, "topic", "produce", "gf", stdin=b"\n".join(values) + b"\n")
    check(r.returncode == 0, "produce: %r" % r.stderr)
    s = kwire.connect(b.port, rcvbuf=16384, timeout=20)
    body = struct.pack(">iiiib", -1, 0, 1, 32 << 20, 0) + struct.pack(">i", 1) + s16("gf")
    body += struct.pack(">i", 1) + struct.pack(">iqi", 0, 0, 32 << 20)
    s.sendall(kwire.frame(1, 4, 1, body, "slow"))

    def recv_exact(n):
        return kwire.recv_exact(s, n)
    recv_exact(4 + 12)  # size, correlation id, throttle, topics
    tlen = struct.unpack(">h", recv_exact(2))[0]
    recv_exact(tlen + 4 + 4)
    err, _hw, _lso, nab = struct.unpack(">hqqi", recv_exact(22))
    check(err == 0, "fetch error %d" % err)
    rlen = struct.unpack(">i", recv_exact(4))[0]
    check(rlen > 4 << 20, "only %d record bytes" % rlen)
    records = bytearray(recv_exact(256 << 10))
    c = Conn(b.port)
    res = create_partitions(c, 3, [("gf", 64, None)])
    check(res == {"gf": (0, None)}, "grow under a fetch: %s" % res)
    for p in (0, 63):
        err, _ = produce(c, "gf", p, b"after-grow")
        check(err == 0, "produce to gf-%d after the grow: %d" % (p, err))
    while len(records) < rlen:
        chunk = s.recv(min(65536, rlen - len(records)))
        check(chunk, "the fetch connection closed after %d of %d record bytes (broker %s)" %
              (len(records), rlen, "alive" if b.proc.poll() is None else
               "exited with %s" % b.proc.returncode))
        records += chunk
        time.sleep(0.001)
    n = batches_records(bytes(records))
    check(n > 0 and n <= len(values), "%d records in the slow response" % n)
    check(fetch_count(c, "gf", 63) == 1, "gf-63 after the grow")
    s.close()
    c.close()
    b.stop(clean=True)
    return "a %d-byte response written across a 1 -> 64 grow: %d records, whole" % (rlen, n)


def case_offset_delete():
    b = Broker("offset_delete")
    c = Conn(b.port)
    create_topic(c, "od", 3)
    res = offset_commit(c, "g-od", "od", {0: 10, 1: 11, 2: 12})
    check(res == {0: 0, 1: 0, 2: 0}, "commit: %s" % res)
    top, res = offset_delete(c, "g-od", "od", [0, 2])
    check(top == 0 and res == {0: 0, 2: 0}, "OffsetDelete: %d %s" % (top, res))
    got = offset_fetch(c, "g-od", "od", [0, 1, 2])
    check(got == {0: -1, 1: 11, 2: -1}, "after the delete: %s" % got)
    top, _ = offset_delete(c, "nosuch", "od", [0])
    check(top == 69, "missing group: %d, want GROUP_ID_NOT_FOUND" % top)
    top, _ = offset_delete(c, "", "od", [0])
    check(top == 24, "empty group id: %d, want INVALID_GROUP_ID" % top)
    c.close()
    b.kill9()
    b2 = Broker("offset_delete", data=b.data)
    c = Conn(b2.port)
    got = offset_fetch(c, "g-od", "od", [0, 1, 2])
    check(got == {0: -1, 1: 11, 2: -1}, "after kill -9 and a restart: %s" % got)
    c.close()
    b2.stop(clean=True)
    return "deleted offsets stay deleted across kill -9"


def case_static_fencing():
    b = Broker("static_fencing")
    c = Conn(b.port)
    create_topic(c, "sf", 2)
    err, gen, leader, a = join(c, "g-sf", "", "inst-1", ["sf"])
    check(err == 0 and leader == a, "A's join: error %d" % err)
    err = sync(c, "g-sf", gen, a, "inst-1", [(a, b"\0\0\0\0\0\0\0\0\0\0")])
    check(err == 0, "A's sync: %d" % err)
    check(heartbeat(c, "g-sf", gen, a, "inst-1") == 0, "A's heartbeat before")
    c2 = Conn(b.port)
    err, gen2, _, bm = join(c2, "g-sf", "", "inst-1", ["sf"])
    check(err == 0 and bm != a, "B's join: error %d" % err)
    FENCED = 82
    got = heartbeat(c, "g-sf", gen, a, "inst-1")
    check(got == FENCED, "A's heartbeat after B took inst-1: %d, want FENCED_INSTANCE_ID" % got)
    got = sync(c, "g-sf", gen, a, "inst-1")
    check(got == FENCED, "A's sync: %d" % got)
    got = offset_commit(c, "g-sf", "sf", {0: 1}, gen=gen, member=a, instance="inst-1", v=7)
    check(got == {0: FENCED}, "A's commit: %s" % got)
    err, _, _, _ = join(c, "g-sf", a, "inst-1", ["sf"])
    check(err == FENCED, "A's rejoin with its old member id: %d" % err)
    check(heartbeat(c2, "g-sf", gen2, bm, "inst-1") == 0, "B's heartbeat")
    got = heartbeat(c, "g-sf", gen2, bm, "inst-9")
    check(got == 25, "heartbeat naming an unknown instance: %d, want UNKNOWN_MEMBER_ID" % got)
    check(len(re.findall(r"static member inst-1 rejoined", b.log_text())) == 1,
          "rejoin lines: %s" % re.findall(r".*rejoined.*", b.log_text()))
    c.close()
    c2.close()
    b.stop(clean=True)
    return "the replaced member gets FENCED_INSTANCE_ID on heartbeat, sync, commit and join"


def list_groups(c, v, states=(), types=()):
    flex = flexible(16, v)
    body = b""
    if v >= 4:
        body += arr([st(s, flex) for s in states], flex)
    if v >= 5:
        body += arr([st(t, flex) for t in types], flex)
    if flex:
        body += b"\0"
    r = c.call(16, v, body)
    r.i32()
    check(r.i16() == 0, "ListGroups error")
    out = {}
    for _ in range(r.count()):
        gid = r.str()
        pt = r.str()
        state = r.str() if v >= 4 else None
        gtype = r.str() if v >= 5 else None
        r.tags()
        out[gid] = (pt, state, gtype)
    r.tags()
    r.done()
    return out


def case_list_describe():
    b = Broker("list_describe")
    c = Conn(b.port)
    create_topic(c, "ld", 1)
    err, gen, _, a = join(c, "g-live", "", "inst-7", ["ld"])
    check(err == 0, "join")
    check(sync(c, "g-live", gen, a, "inst-7", [(a, b"")]) == 0, "sync")
    offset_commit(c, "g-idle", "ld", {0: 3})
    got = list_groups(c, 4)
    check(got.get("g-live") == ("consumer", "Stable", None) and
          got.get("g-idle", (None, None))[1] == "Empty", "ListGroups v4: %s" % got)
    got = list_groups(c, 4, states=["stable"])
    check(set(got) == {"g-live"}, "ListGroups v4 [stable]: %s" % got)
    got = list_groups(c, 5, types=["consumer"])
    check(got == {}, "ListGroups v5 [consumer] (KIP-848 groups): %s" % got)
    got = list_groups(c, 5, states=["Empty"], types=["Classic"])
    check(set(got) == {"g-idle"} and got["g-idle"][2] == "classic", "ListGroups v5: %s" % got)
    for v in (4, 5):
        flex = flexible(15, v)
        body = arr([st("g-live", flex), st("nosuch", flex)], flex) + b"\1" + (b"\0" if flex else b"")
        r = c.call(15, v, body)
        r.i32()
        groups = {}
        for _ in range(r.count()):
            err = r.i16()
            gid = r.str()
            state = r.str()
            r.str()
            r.str()
            members = []
            for _ in range(r.count()):
                mid = r.str()
                inst = r.str()
                r.str()
                r.str()
                r.bytes()
                r.bytes()
                r.tags()
                members.append((mid, inst))
            ops = r.i32()
            r.tags()
            groups[gid] = (err, state, members, ops)
        r.tags()
        r.done()
        check(groups["g-live"][:3] == (0, "Stable", [(a, "inst-7")]),
              "DescribeGroups v%d: %s" % (v, groups))
        check(groups["g-live"][3] == (1 << 3) | (1 << 6) | (1 << 8), "operations %d" %
              groups["g-live"][3])
        check(groups["nosuch"][1] == "Dead", "DescribeGroups v%d nosuch: %s" % (v, groups))
    c.close()
    b.stop(clean=True)
    return "states Stable/Empty, filters, instance id"


CASES = {
    "api_versions": case_api_versions,
    "describe_cluster": case_describe_cluster,
    "create_partitions": case_create_partitions,
    "grow_under_fetch": case_grow_under_fetch,
    "offset_delete": case_offset_delete,
    "static_fencing": case_static_fencing,
    "list_describe": case_list_describe,
}


if __name__ == "__main__":
    kwire.main("broker_admin", CASES)

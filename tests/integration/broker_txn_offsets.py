#!/usr/bin/env python3
"""Offsets committed in a transaction against a real `eddy broker`, on raw sockets:

  pending      TxnOffsetCommit (v0 and v3) answers NONE, but OffsetFetch still shows the offset
               committed before; OffsetFetch v7 with require_stable answers
               UNSTABLE_OFFSET_COMMIT (88) for exactly the partitions an open transaction holds
               (KIP-447), v5/v6 without it the old offset.
  fencing      TxnOffsetCommit v3 of a group member: a wrong generation is ILLEGAL_GENERATION
               (22), an unknown member UNKNOWN_MEMBER_ID (25), a static instance under another
               member id FENCED_INSTANCE_ID (82), a generation for a group that does not exist
               22; the member's own generation is NONE (Kafka's group coordinator).
  complete     the end of the transaction as the transaction coordinator writes it
               (WriteTxnMarkers to the group's __consumer_offsets partition): pending offsets
               survive a broker restart (still 88 after it), a commit makes them visible, an
               abort (with the bumped epoch of a fenced producer) drops them and the offset
               committed before stays, the fenced epoch cannot commit offsets any more
               (INVALID_PRODUCER_EPOCH, 47), a plain OffsetCommit written after the
               transaction's offset wins when the transaction commits, a group deleted while a
               transaction holds offsets does not come back with them; all of it again after
               a restart.
  coordinator  the whole transaction through Eddy's transaction coordinator (InitProducerId
               with a transactional id, AddOffsetsToTxn, TxnOffsetCommit, EndTxn) with
               transaction.partition.verification.enable (KIP-890, Kafka's default and codes:
               INVALID_TXN_STATE 48 before AddOffsetsToTxn and after EndTxn,
               INVALID_PRODUCER_ID_MAPPING 49, INVALID_PRODUCER_EPOCH 47): commit across a
               restart, abort, and a new producer of the transactional id fencing the old one
               (its open transaction aborted, its epoch refused: 47).
  The other cases turn verification off to test the group coordinator on its own.
  acls         with an authorizer: no WRITE on the transactional id is
               TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53), no READ on the group
               GROUP_AUTHORIZATION_FAILED (30), and neither writes anything.

usage: broker_txn_offsets.py path/to/eddy [case ...]
"""
import struct

import kwire
from kwire import Broker, Conn, check, cstr, s16

EDDY, WORK = kwire.setup("eddy-txn-offsets-")

NONE, ILLEGAL_GENERATION, UNKNOWN_MEMBER, INVALID_EPOCH, FENCED_INSTANCE, UNSTABLE = \
    0, 22, 25, 47, 82, 88
GROUP_AUTH, INVALID_TXN_STATE, INVALID_PID_MAPPING, CONCURRENT, TXN_ID_AUTH = 30, 48, 49, 51, 53
TOPIC = "txo"
SETTINGS = ["group.initial.rebalance.delay.ms=0", "offsets.topic.num.partitions=3"]


def expect(got, want, what):
    check(got == want, "%s: got %r, want %r" % (what, got, want))


def start(name, verify=False):
    """A broker with TOPIC. Without verify, transaction.partition.verification.enable=false:
    TxnOffsetCommit then takes any producer id, so the group coordinator is tested alone."""
    b = Broker(name, SETTINGS + ["transaction.partition.verification.enable=%s" %
                                 ("true" if verify else "false")])
    r = kwire.eddy("-b", b.addr, "topic", "create", TOPIC, "-p", "3")
    check(r.returncode == 0, "create %s: %r" % (TOPIC, r.stderr))
    return b


def txn_offset_commit(c, group, pid, epoch, offsets, version=3, txn_id="tx",
                      generation=-1, member="", instance=None):
    """{partition: error} of a TxnOffsetCommit of offsets {partition: offset} of TOPIC."""
    flex = version >= 3
    e = kwire.Enc(flex)
    body = e.str(txn_id) + e.str(group) + struct.pack(">qh", pid, epoch)
    if version >= 3:
        body += struct.pack(">i", generation) + e.str(member) + e.str(instance)
    parts = []
    for p, off in sorted(offsets.items()):
        part = struct.pack(">iq", p, off)
        if version >= 2:
            part += struct.pack(">i", -1)
        parts.append(part + e.str("txn-meta") + e.tags())
    body += e.arr([e.str(TOPIC) + e.arr(parts) + e.tags()]) + e.tags()
    r = c.call(28, version, body)
    r.i32()  # throttle
    got = {}
    for _ in range(r.count()):
        expect(r.str(), TOPIC, "TxnOffsetCommit topic")
        for _ in range(r.count()):
            p, err = r.i32(), r.i16()
            r.tags()
            got[p] = err
        r.tags()
    r.tags()
    r.done()
    return got


def offset_fetch(c, group, partitions=(0, 1, 2), version=7, require_stable=True):
    """{partition: (offset, error)} of TOPIC from OffsetFetch."""
    flex = version >= 6
    e = kwire.Enc(flex)
    parts = b"".join(struct.pack(">i", p) for p in partitions)
    body = e.str(group) + e.arr([e.str(TOPIC) + e.count(len(partitions)) + parts + e.tags()])
    if version >= 7:
        body += struct.pack(">b", 1 if require_stable else 0)
    body += e.tags()
    r = c.call(9, version, body)
    r.i32()  # throttle
    got = {}
    for _ in range(r.count()):
        expect(r.str(), TOPIC, "OffsetFetch topic")
        for _ in range(r.count()):
            p, off, _epoch, _meta, err = r.i32(), r.i64(), r.i32(), r.str(), r.i16()
            r.tags()
            got[p] = (off, err)
        r.tags()
    expect(r.i16(), NONE, "OffsetFetch error")
    r.tags()
    r.done()
    return got


def offset_commit(c, group, offsets):
    """A plain OffsetCommit v2 (no member: a simple group); every partition must be NONE."""
    parts = [struct.pack(">iq", p, off) + s16("plain") for p, off in sorted(offsets.items())]
    body = s16(group) + struct.pack(">i", -1) + s16("") + struct.pack(">q", -1)
    body += kwire.arr([s16(TOPIC) + kwire.arr(parts, False)], False)
    r = c.call(8, 2, body)
    for _ in range(r.count()):
        r.str()
        for _ in range(r.count()):
            p, err = r.i32(), r.i16()
            expect(err, NONE, "OffsetCommit p%d" % p)


def join_static(c, group, instance):
    """(generation, member id) of a static member joining group (JoinGroup v5, then SyncGroup
    v3 as the leader, so that the group is Stable)."""
    meta = struct.pack(">h", 0) + struct.pack(">i", 1) + s16(TOPIC) + struct.pack(">i", -1)
    body = s16(group) + struct.pack(">ii", 6000, 6000) + s16("") + s16(instance)
    body += s16("consumer") + struct.pack(">i", 1) + s16("range") + kwire.bytes32(meta)
    r = c.call(11, 5, body)
    r.i32()
    err, gen, _proto, _leader, member = r.i16(), r.i32(), r.str(), r.str(), r.str()
    expect(err, NONE, "JoinGroup")
    body = s16(group) + struct.pack(">i", gen) + s16(member) + s16(instance)
    body += struct.pack(">i", 1) + s16(member) + kwire.bytes32(b"")
    r = c.call(14, 3, body)
    r.i32()
    expect(r.i16(), NONE, "SyncGroup")
    return gen, member


def java_hash(s):
    """Java's String.hashCode (over UTF-16 code units)."""
    h = 0
    b = s.encode("utf-16-be")
    for i in range(0, len(b), 2):
        h = (31 * h + int.from_bytes(b[i:i + 2], "big")) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def group_partition(group, partitions=3):
    """Kafka's partition of __consumer_offsets for group: abs(String.hashCode) % n."""
    return abs(java_hash(group)) % partitions


def end_txn(c, group, pid, epoch, commit):
    """What the transaction coordinator sends at the end of a transaction that added group's
    offsets: WriteTxnMarkers v1 to the group's __consumer_offsets partition."""
    part = group_partition(group)
    marker = struct.pack(">qhb", pid, epoch, 1 if commit else 0)
    marker += kwire.arr([cstr("__consumer_offsets") + kwire.arr([struct.pack(">i", part)], True)
                         + b"\0"], True)
    marker += struct.pack(">i", 0) + b"\0"
    r = c.call(27, 1, kwire.arr([marker], True) + b"\0", flex=True)
    expect(r.count(), 1, "WriteTxnMarkers markers")
    expect(r.i64(), pid, "WriteTxnMarkers producer")
    expect(r.count(), 1, "WriteTxnMarkers topics")
    expect(r.str(), "__consumer_offsets", "WriteTxnMarkers topic")
    expect(r.count(), 1, "WriteTxnMarkers partitions")
    expect((r.i32(), r.i16()), (part, NONE), "WriteTxnMarkers %s" % ("commit" if commit else
                                                                      "abort"))


def init_txn(c, txn_id):
    """(producer id, epoch) from InitProducerId v4 with a transactional id. While an open
    transaction of the id is being aborted the answer is CONCURRENT_TRANSACTIONS (51), and
    the client asks again, as Kafka's do."""
    got = []

    def attempt():
        r = c.call(22, 4, cstr(txn_id) + struct.pack(">iqh", 60000, -1, -1) + b"\0")
        r.i32()
        err, pid, epoch = r.i16(), r.i64(), r.i16()
        check(err in (NONE, CONCURRENT), "InitProducerId %s: error %d" % (txn_id, err))
        got[:] = [pid, epoch]
        return err == NONE
    kwire.wait_for("InitProducerId %s" % txn_id, attempt, timeout=15)
    return got[0], got[1]


def add_offsets(c, txn_id, pid, epoch, group):
    r = c.call(25, 3, cstr(txn_id) + struct.pack(">qh", pid, epoch) + cstr(group) + b"\0")
    r.i32()
    expect(r.i16(), NONE, "AddOffsetsToTxn")


def end_txn_coordinator(c, txn_id, pid, epoch, commit):
    r = c.call(26, 3, cstr(txn_id) + struct.pack(">qhb", pid, epoch, 1 if commit else 0) + b"\0")
    r.i32()
    expect(r.i16(), NONE, "EndTxn %s" % ("commit" if commit else "abort"))


def stable(c, group, want):
    """Waits until OffsetFetch with require_stable shows want {partition: offset} with no
    error (the markers are written when EndTxn completes; Kafka's clients retry 88)."""
    kwire.wait_for("stable offsets %r of %s" % (want, group),
                   lambda: offset_fetch(c, group, sorted(want)) ==
                   {p: (o, NONE) for p, o in want.items()}, timeout=15)


def case_pending():
    b = start("pending")
    c = Conn(b.port)
    offset_commit(c, "g1", {0: 3, 1: 4})
    expect(txn_offset_commit(c, "g1", 1000, 0, {0: 10, 2: 12}), {0: NONE, 2: NONE},
           "TxnOffsetCommit v3")
    expect(txn_offset_commit(c, "g1", 1001, 0, {1: 11}, version=0), {1: NONE},
           "TxnOffsetCommit v0")
    # Without require_stable: the committed offsets, none of the transactions'.
    for v in (5, 6, 7):
        expect(offset_fetch(c, "g1", version=v, require_stable=False),
               {0: (3, NONE), 1: (4, NONE), 2: (-1, NONE)}, "OffsetFetch v%d" % v)
    # With it: 88 where a transaction holds an offset, and only there.
    expect(offset_fetch(c, "g1"), {0: (-1, UNSTABLE), 1: (-1, UNSTABLE), 2: (-1, UNSTABLE)},
           "OffsetFetch v7 require_stable")
    expect(offset_fetch(c, "g2"), {0: (-1, NONE), 1: (-1, NONE), 2: (-1, NONE)},
           "another group")
    # A restart replays them as pending: still 88, still the old offsets without it.
    c.close()
    b.restart()
    c = Conn(b.port)
    expect(offset_fetch(c, "g1"), {0: (-1, UNSTABLE), 1: (-1, UNSTABLE), 2: (-1, UNSTABLE)},
           "after a restart, require_stable")
    expect(offset_fetch(c, "g1", version=6, require_stable=False),
           {0: (3, NONE), 1: (4, NONE), 2: (-1, NONE)}, "after a restart, v6")
    c.close()
    return "pending offsets hidden, 88 with require_stable, also after a restart"


def case_fencing():
    b = start("fencing")
    c = Conn(b.port)
    gen, member = join_static(c, "gf", "inst-1")
    ok = txn_offset_commit(c, "gf", 2000, 0, {0: 5}, generation=gen, member=member,
                           instance="inst-1")
    expect(ok, {0: NONE}, "the member's own generation")
    expect(txn_offset_commit(c, "gf", 2000, 0, {0: 6}, generation=gen + 1, member=member),
           {0: ILLEGAL_GENERATION}, "a zombie of another generation")
    expect(txn_offset_commit(c, "gf", 2000, 0, {0: 6}, generation=gen, member="gone-member"),
           {0: UNKNOWN_MEMBER}, "a member the group does not have")
    expect(txn_offset_commit(c, "gf", 2000, 0, {0: 6}, generation=gen, member="old-member",
                             instance="inst-1"),
           {0: FENCED_INSTANCE}, "a static instance under another member id")
    expect(txn_offset_commit(c, "nosuchgroup", 2000, 0, {0: 6}, generation=3, member="m"),
           {0: ILLEGAL_GENERATION}, "a generation of a group that does not exist")
    # None of the refused ones was stored: the pending offset is the accepted one's.
    expect(offset_fetch(c, "gf", (0,), version=6, require_stable=False), {0: (-1, NONE)},
           "nothing committed yet")
    c.close()
    return "ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID as Kafka"


def case_complete():
    b = start("complete")
    c = Conn(b.port)
    offset_commit(c, "gc", {0: 1, 1: 1, 2: 1})
    # A committed transaction, with a broker restart between its offsets and its end.
    expect(txn_offset_commit(c, "gc", 3000, 0, {0: 100, 1: 101}), {0: NONE, 1: NONE},
           "TxnOffsetCommit")
    c.close()
    b.restart()
    c = Conn(b.port)
    expect(offset_fetch(c, "gc")[0], (-1, UNSTABLE), "pending after the restart")
    end_txn(c, "gc", 3000, 0, True)
    stable(c, "gc", {0: 100, 1: 101, 2: 1})
    # An aborted one: its offsets go, the committed ones stay. The marker carries the
    # producer's bumped epoch, as after a fencing abort.
    expect(txn_offset_commit(c, "gc", 3001, 0, {0: 200, 2: 202}), {0: NONE, 2: NONE},
           "TxnOffsetCommit to abort")
    end_txn(c, "gc", 3001, 1, False)
    stable(c, "gc", {0: 100, 1: 101, 2: 1})
    # A plain commit written after the transaction's offset wins when it commits.
    expect(txn_offset_commit(c, "gc", 3002, 0, {1: 300, 2: 302}), {1: NONE, 2: NONE},
           "TxnOffsetCommit before a plain one")
    offset_commit(c, "gc", {2: 50})
    end_txn(c, "gc", 3002, 0, True)
    stable(c, "gc", {0: 100, 1: 300, 2: 50})
    # The fenced producer's old epoch cannot commit offsets any more.
    expect(txn_offset_commit(c, "gc", 3001, 0, {0: 999}), {0: INVALID_EPOCH},
           "TxnOffsetCommit of a fenced epoch")
    # A group deleted while a transaction holds its offsets stays deleted after the commit.
    expect(txn_offset_commit(c, "gd", 3003, 0, {0: 7}), {0: NONE},
           "TxnOffsetCommit to a group deleted next")
    r = c.call(42, 1, struct.pack(">i", 1) + s16("gd"))
    r.i32()
    expect((r.i32(), r.str(), r.i16()), (1, "gd", NONE), "DeleteGroups")
    end_txn(c, "gd", 3003, 0, True)
    stable(c, "gd", {0: -1})
    # And all of it after a restart, replayed from __consumer_offsets.
    c.close()
    b.restart()
    c = Conn(b.port)
    stable(c, "gc", {0: 100, 1: 300, 2: 50})
    stable(c, "gd", {0: -1})
    c.close()
    return "commit visible, abort dropped, later plain commit wins, deletion holds, restarts"


def case_acls():
    auth = "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    me = "User:ANONYMOUS"
    unverified = "transaction.partition.verification.enable=false"
    b = Broker("acls", SETTINGS + [auth, unverified, "super.users=" + me])
    r = kwire.eddy("-b", b.addr, "topic", "create", TOPIC, "-p", "3")
    check(r.returncode == 0, "create %s: %r" % (TOPIC, r.stderr))
    c = Conn(b.port)
    read, write, allow, literal = 3, 4, 3, 3
    acls = [(2, TOPIC, read), (3, "ga", read), (5, "tx-ok", write)]
    body = kwire.arr((struct.pack(">b", t) + cstr(name) + struct.pack(">b", literal) + cstr(me)
                      + cstr("*") + struct.pack(">bb", op, allow) + b"\0" for t, name, op in acls),
                     True) + b"\0"
    r = c.call(30, 3, body)
    r.i32()
    for _ in range(r.count()):
        expect(r.i16(), NONE, "CreateAcls")
        r.str()
        r.tags()
    c.close()
    b.settings = SETTINGS + [auth, unverified]
    b.restart()
    c = Conn(b.port)
    # Kafka's order: WRITE on the transactional id, then READ on the group, then the topic.
    expect(txn_offset_commit(c, "ga", 4000, 0, {0: 1}, txn_id="tx-no"),
           {0: TXN_ID_AUTH}, "no WRITE on the transactional id")
    expect(txn_offset_commit(c, "gb", 4000, 0, {0: 1}, txn_id="tx-ok"),
           {0: GROUP_AUTH}, "no READ on the group")
    expect(txn_offset_commit(c, "ga", 4000, 0, {0: 1, 1: 2}, txn_id="tx-ok"),
           {0: NONE, 1: NONE}, "all three allowed")
    # Nothing of the refused ones was written: only ga has offsets, pending.
    expect(offset_fetch(c, "ga", (0, 1)), {0: (-1, UNSTABLE), 1: (-1, UNSTABLE)}, "ga pending")
    c.close()
    return "TRANSACTIONAL_ID_AUTHORIZATION_FAILED, then GROUP_AUTHORIZATION_FAILED, as Kafka"


def case_coordinator():
    b = start("coordinator", verify=True)
    c = Conn(b.port)
    offset_commit(c, "gt", {0: 1, 1: 1})
    # KIP-890 verification, Kafka's codes: no transaction with the group's partition yet,
    # another producer id, another epoch.
    pid, epoch = init_txn(c, "tx-verify")
    expect(txn_offset_commit(c, "gt", pid, epoch, {0: 5}, txn_id="tx-verify"),
           {0: INVALID_TXN_STATE}, "before AddOffsetsToTxn")
    add_offsets(c, "tx-verify", pid, epoch, "gt")
    expect(txn_offset_commit(c, "gt", pid + 100, epoch, {0: 5}, txn_id="tx-verify"),
           {0: INVALID_PID_MAPPING}, "another producer id")
    expect(txn_offset_commit(c, "gt", pid, epoch, {0: 5}, txn_id="tx-unknown"),
           {0: INVALID_PID_MAPPING}, "an unknown transactional id")
    expect(txn_offset_commit(c, "gt", pid, epoch + 5, {0: 5}, txn_id="tx-verify"),
           {0: INVALID_EPOCH}, "another epoch")
    end_txn_coordinator(c, "tx-verify", pid, epoch, False)
    expect(txn_offset_commit(c, "gt", pid, epoch, {0: 5}, txn_id="tx-verify"),
           {0: INVALID_TXN_STATE}, "after EndTxn")
    expect(offset_fetch(c, "gt", (0, 1)), {0: (1, NONE), 1: (1, NONE)},
           "nothing of the refused commits")
    # Committed by EndTxn, with a broker restart between the offsets and the end: both
    # coordinators replay their logs, and the transaction ends as if nothing happened.
    pid, epoch = init_txn(c, "tx-commit")
    add_offsets(c, "tx-commit", pid, epoch, "gt")
    expect(txn_offset_commit(c, "gt", pid, epoch, {0: 100}, txn_id="tx-commit"), {0: NONE},
           "TxnOffsetCommit")
    c.close()
    b.restart()
    c = Conn(b.port)
    expect(offset_fetch(c, "gt", (0, 1)), {0: (-1, UNSTABLE), 1: (1, NONE)},
           "pending after the restart")
    end_txn_coordinator(c, "tx-commit", pid, epoch, True)
    stable(c, "gt", {0: 100, 1: 1})
    # Aborted by EndTxn.
    pid, epoch = init_txn(c, "tx-abort")
    add_offsets(c, "tx-abort", pid, epoch, "gt")
    expect(txn_offset_commit(c, "gt", pid, epoch, {0: 200, 1: 201}, txn_id="tx-abort"),
           {0: NONE, 1: NONE}, "TxnOffsetCommit to abort")
    end_txn_coordinator(c, "tx-abort", pid, epoch, False)
    stable(c, "gt", {0: 100, 1: 1})
    # A new producer of the same transactional id fences the old one: its open transaction
    # is aborted (its offsets dropped), and the old epoch cannot commit offsets any more.
    pid, epoch = init_txn(c, "tx-fenced")
    add_offsets(c, "tx-fenced", pid, epoch, "gt")
    expect(txn_offset_commit(c, "gt", pid, epoch, {1: 300}, txn_id="tx-fenced"), {1: NONE},
           "TxnOffsetCommit of the producer about to be fenced")
    pid2, epoch2 = init_txn(c, "tx-fenced")
    expect(pid2, pid, "the same producer id after fencing")
    check(epoch2 > epoch, "epoch %d after fencing %d" % (epoch2, epoch))
    stable(c, "gt", {0: 100, 1: 1})
    expect(txn_offset_commit(c, "gt", pid, epoch, {1: 301}, txn_id="tx-fenced"),
           {1: INVALID_EPOCH}, "TxnOffsetCommit of the fenced epoch")
    c.close()
    return "EndTxn commits and aborts them, across a restart; fencing aborts the old epoch's"


CASES = {"pending": case_pending, "fencing": case_fencing, "complete": case_complete,
         "acls": case_acls, "coordinator": case_coordinator}

if __name__ == "__main__":
    kwire.main("broker_txn_offsets", CASES)

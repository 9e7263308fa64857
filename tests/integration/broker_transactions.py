#!/usr/bin/env python3
"""Transactions in a real `eddy broker`'s logs, with crafted requests on raw sockets:

  A transactional batch without a producer id and a control batch are INVALID_RECORD. Two
  idempotent producers (ids from InitProducerId) write transactional batches (attributes
  bit 4) interleaved on one partition, after a plain record; a plain batch from a producer
  whose transaction is open is INVALID_TXN_STATE and appends nothing. While both are open the last
  stable offset (LSO) is the first one's first offset: a read_uncommitted Fetch gets every
  record and answers that LSO, a read_committed one only the records below it; ListOffsets
  latest is the log end, or the LSO with isolation_level 1. WriteTxnMarkers (v1, flexible)
  commits the first producer's transaction: the LSO moves to the second one's first offset. A
  read_committed long poll parked at the LSO wakes when WriteTxnMarkers aborts the second:
  its answer carries the aborted transaction (producer id, first offset) and the LSO is the
  log end. A marker with an older epoch is INVALID_PRODUCER_EPOCH, one for an unknown
  partition UNKNOWN_TOPIC_OR_PARTITION. kcat (librdkafka) with isolation.level=read_committed
  reads the committed records only, read_uncommitted all of them. The abort sits in the segment's .txnindex (Kafka's
  34-byte entries). A third transaction is left open; then kill -9, the .txnindex deleted (as
  a crash before it reached the disk would leave it), and a restart gives the same answers:
  the open transaction still holds the LSO, the aborted one is announced again, the index
  file is back; committing the open transaction moves the LSO to the end. `eddy log info` on
  a copy of the crashed partition shows the LSO and the open transaction, `eddy log read` the
  markers.
  acl: with an authorizer, WriteTxnMarkers without CLUSTER_ACTION on the cluster is
  CLUSTER_AUTHORIZATION_FAILED and writes nothing; a super user's is written.

usage: broker_transactions.py path/to/eddy
"""
import os
import select
import shutil
import struct
import time

import kwire
from kwire import Broker, Conn, arr, check, cstr, s16, values_batch

EDDY, WORK = kwire.setup("eddy-transactions-")
DATA = os.path.join(WORK, "data")
TOPIC = "tx"
TXN = 0x10
# These transactions are driven by hand (WriteTxnMarkers) with producer ids that no
# coordinator knows, to test the log layer: transactional batches carry a transactional id
# (Kafka refuses them without one) that the coordinator is not asked about.
TXN_ID = "raw-log"
UNVERIFIED = "transaction.partition.verification.enable=false"
NONE, UNKNOWN_PARTITION, CLUSTER_AUTH, INVALID_EPOCH, INVALID_TXN_STATE = 0, 3, 31, 47, 48
INVALID_RECORD = 87


def expect(got, want, what):
    check(got == want, "%s: got %r, want %r" % (what, got, want))


def init_producer_id(c):
    r = c.call(22, 4, cstr(None) + struct.pack(">i", 60000) + struct.pack(">qh", -1, -1) + b"\0")
    r.i32()
    err, pid, epoch = r.i16(), r.i64(), r.i16()
    expect((err, epoch), (NONE, 0), "InitProducerId")
    return pid


def produce(c, pid, epoch, seq, values, txn=True):
    """Base offset of a Produce v3 of one batch; the error must be NONE."""
    records = values_batch(values, pid=pid, epoch=epoch, seq=seq, attrs=TXN if txn else 0)
    body = kwire.produce_body(TOPIC, 0, records, transactional_id=TXN_ID if txn else None)
    err, base = kwire.produce_result(c.call(0, 3, body))
    expect(err, NONE, "produce %r" % values)
    return base


def fetch_body(offset, isolation, max_wait=0):
    body = struct.pack(">iiiib", -1, max_wait, 1, 1 << 20, isolation)
    return body + arr([s16(TOPIC) + arr([struct.pack(">iqi", 0, offset, 1 << 20)], False)], False)


def fetch_parse(r):
    """(error, high watermark, LSO, aborted [(pid, first)], data values, markers) of Fetch v4."""
    r.i32()
    r.count(), r.str(), r.count()
    r.i32()
    err, hw, lso = r.i16(), r.i64(), r.i64()
    aborted = [(r.i64(), r.i64()) for _ in range(max(r.i32(), 0))]
    data = r.bytes() or b""
    values, markers = [], []
    for bt in kwire.batches_in(data):
        if bt["attrs"] & 0x20:
            markers.append(bt["base"])
        else:
            values += kwire.batch_values(bt["bytes"])
    return err, hw, lso, aborted, [v.decode() for v in values], markers


def fetch(c, offset, isolation):
    return fetch_parse(c.call(1, 4, fetch_body(offset, isolation)))


def latest(c, isolation):
    """ListOffsets v2 latest offset of partition 0 at isolation."""
    body = struct.pack(">ib", -1, isolation)
    body += arr([s16(TOPIC) + arr([struct.pack(">iq", 0, -1)], False)], False)
    r = c.call(2, 2, body)
    r.i32(), r.count(), r.str(), r.count()
    part, err, _ts, off = r.i32(), r.i16(), r.i64(), r.i64()
    expect((part, err), (0, NONE), "ListOffsets")
    return off


def markers_body(pid, epoch, commit, topic=TOPIC, partition=0):
    part = cstr(topic) + arr([struct.pack(">i", partition)], True) + b"\0"
    marker = struct.pack(">qhb", pid, epoch, 1 if commit else 0) + arr([part], True)
    marker += struct.pack(">i", 0) + b"\0"
    return arr([marker], True) + b"\0"


def write_marker(c, pid, epoch, commit, topic=TOPIC, partition=0):
    """The error code of a WriteTxnMarkers v1 (flexible) for one partition."""
    r = c.call(27, 1, markers_body(pid, epoch, commit, topic, partition), flex=True)
    expect(r.count(), 1, "WriteTxnMarkers markers")
    expect(r.i64(), pid, "WriteTxnMarkers producer id")
    expect(r.count(), 1, "WriteTxnMarkers topics")
    expect(r.str(), topic, "WriteTxnMarkers topic")
    expect(r.count(), 1, "WriteTxnMarkers partitions")
    expect(r.i32(), partition, "WriteTxnMarkers partition")
    return r.i16()


def txnindex(path):
    """The entries (pid, first, last, lso) of a .txnindex file."""
    with open(path, "rb") as f:
        raw = f.read()
    check(len(raw) % 34 == 0, "%s: %d bytes, not whole 34-byte entries" % (path, len(raw)))
    out = []
    for i in range(0, len(raw), 34):
        version, pid, first, last, lso = struct.unpack_from(">hqqqq", raw, i)
        expect(version, 0, "txnindex entry version")
        out.append((pid, first, last, lso))
    return out


def main():
    b = Broker("b1", [UNVERIFIED], data=DATA)
    r = kwire.eddy("-b", b.addr, "topic", "create", TOPIC, "-p", "1")
    check(r.returncode == 0, "create: %r" % r.stderr)
    c = Conn(b.port)
    pa, pb = init_producer_id(c), init_producer_id(c)

    # A transactional batch needs a producer id; control batches come only from brokers.
    for attrs, pid, what in ((TXN, -1, "transactional batch without a producer id"),
                             (TXN | 0x20, pa, "control batch from a client")):
        records = values_batch([b"bad"], pid=pid, epoch=0 if pid >= 0 else -1,
                               seq=0 if pid >= 0 else -1, attrs=attrs)
        body = kwire.produce_body(TOPIC, 0, records, transactional_id=TXN_ID)
        err, _ = kwire.produce_result(c.call(0, 3, body))
        expect(err, INVALID_RECORD, what)
    expect(produce(c, -1, -1, -1, [b"p0"], txn=False), 0, "plain record")
    expect(produce(c, pa, 0, 0, [b"a0", b"a1"]), 1, "A's first batch")
    expect(produce(c, pb, 0, 0, [b"b0"]), 3, "B's first batch")
    expect(produce(c, pa, 0, 2, [b"a2"]), 4, "A's second batch")
    expect(produce(c, pb, 0, 1, [b"b1"]), 5, "B's second batch")
    # A plain batch from A while A's transaction is open would escape its marker: Kafka
    # answers INVALID_TXN_STATE and appends nothing (the fetches below see 6 records).
    records = values_batch([b"plain-a"], pid=pa, epoch=0, seq=3, attrs=0)
    err, _ = kwire.produce_result(c.call(0, 3, kwire.produce_body(TOPIC, 0, records)))
    expect(err, INVALID_TXN_STATE, "non-transactional batch from A with its transaction open")

    # Both open: the LSO is A's first offset.
    expect(fetch(c, 0, 0), (NONE, 6, 1, [], ["p0", "a0", "a1", "b0", "a2", "b1"], []),
           "read_uncommitted with both open")
    expect(fetch(c, 0, 1), (NONE, 6, 1, [], ["p0"], []), "read_committed with both open")
    expect(fetch(c, 1, 1), (NONE, 6, 1, [], [], []), "read_committed at the LSO")
    expect((latest(c, 0), latest(c, 1)), (6, 1), "ListOffsets latest with both open")

    # Commit A (marker at 6): the LSO moves to B's first offset.
    expect(write_marker(c, pa, 0, True), NONE, "commit A")
    expect(fetch(c, 0, 1), (NONE, 7, 3, [], ["p0", "a0", "a1"], []), "read_committed after A")
    expect(latest(c, 1), 3, "ListOffsets read_committed after A")

    # A read_committed long poll at the LSO waits; aborting B wakes it.
    poll = Conn(b.port)
    corr = poll.send(1, 4, fetch_body(3, 1, max_wait=20000))
    time.sleep(0.3)
    ready, _, _ = select.select([poll.s], [], [], 0)
    check(not ready, "the read_committed long poll answered before the LSO moved")
    t0 = time.time()
    expect(write_marker(c, pb, 0, False), NONE, "abort B")
    got = fetch_parse(poll.response(1, 4, corr))
    waited = time.time() - t0
    check(waited < 5, "the long poll woke %.1f s after the abort" % waited)
    expect(got, (NONE, 8, 8, [(pb, 3)], ["b0", "a2", "b1"], [6, 7]), "woken long poll")
    poll.close()

    # Fencing: an older epoch is refused; an unknown partition too.
    expect(write_marker(c, pa, 0, True, topic="missing"), UNKNOWN_PARTITION, "unknown topic")
    expect(write_marker(c, pa, 1, False), NONE, "abort with a bumped epoch (fencing)")
    expect(write_marker(c, pa, 0, True), INVALID_EPOCH, "marker with the old epoch")

    # librdkafka (kcat) as a read_committed consumer drops B's records by the aborted list and
    # skips the markers; read_uncommitted gets them all.
    for level, want in (("read_committed", "p0 a0 a1 a2"),
                        ("read_uncommitted", "p0 a0 a1 b0 a2 b1")):
        out = kwire.kcat(b, "-C", "-t", TOPIC, "-p", "0", "-o", "beginning", "-e", "-q",
                         "-X", "isolation.level=" + level, "-f", "%s\n", timeout=30)
        expect(out.decode().split(), want.split(), "kcat " + level)

    index = os.path.join(DATA, TOPIC + "-0", "%020d.txnindex" % 0)
    expect(txnindex(index), [(pb, 3, 7, 8)], ".txnindex after the abort")

    # A third transaction stays open across the crash.
    pc = init_producer_id(c)
    expect(produce(c, pc, 0, 0, [b"c0"]), 9, "C's batch")
    expect(produce(c, -1, -1, -1, [b"p1"], txn=False), 10, "plain record after C")
    before = (fetch(c, 0, 0), fetch(c, 0, 1), fetch(c, 3, 1), latest(c, 0), latest(c, 1))
    expect(before[1], (NONE, 11, 9, [(pb, 3)],
                       ["p0", "a0", "a1", "b0", "a2", "b1"], [6, 7, 8]), "read_committed")
    expect(before[3:], (11, 9), "ListOffsets before the crash")
    c.close()

    b.kill9()
    # `eddy log` on a copy of the crashed partition: the open transaction and the markers.
    copy = os.path.join(WORK, "copy")
    shutil.copytree(os.path.join(DATA, TOPIC + "-0"), copy)
    os.unlink(os.path.join(copy, "%020d.txnindex" % 0))
    r = kwire.eddy("log", "info", copy)
    check(r.returncode == 0 and b"last stable offset: 9 (1 open transaction(s))" in r.stdout,
          "eddy log info: %r %r" % (r.stdout, r.stderr))
    r = kwire.eddy("log", "read", copy)
    lines = [l.split("\t") for l in r.stdout.decode().splitlines()]
    got = [(int(l[0]), l[2], l[3]) for l in lines if l[2].endswith("marker")]
    expect(got, [(6, "COMMIT marker", "producer %d epoch 0" % pa),
                 (7, "ABORT marker", "producer %d epoch 0" % pb),
                 (8, "ABORT marker", "producer %d epoch 1" % pa)], "eddy log read markers")
    expect(txnindex(os.path.join(copy, "%020d.txnindex" % 0)), [(pb, 3, 7, 8)],
           ".txnindex rebuilt by eddy log")
    os.unlink(index)
    b = Broker("b2", [UNVERIFIED], data=DATA)
    c = Conn(b.port)
    after = (fetch(c, 0, 0), fetch(c, 0, 1), fetch(c, 3, 1), latest(c, 0), latest(c, 1))
    expect(after, before, "answers after kill -9 and a restart")
    expect(txnindex(index), [(pb, 3, 7, 8)], ".txnindex rebuilt by recovery")
    expect(write_marker(c, pc, 0, True), NONE, "commit C after the restart")
    expect(fetch(c, 9, 1), (NONE, 12, 12, [], ["c0", "p1"], [11]), "read_committed after C")
    expect(latest(c, 1), 12, "ListOffsets read_committed after C")
    c.close()
    b.stop(clean=True)


def acl():
    """WriteTxnMarkers needs CLUSTER_ACTION on the cluster once an authorizer runs."""
    auth = "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    b = Broker("acl", [auth, "super.users=User:ANONYMOUS", UNVERIFIED],
               data=os.path.join(WORK, "acl"))
    r = kwire.eddy("-b", b.addr, "topic", "create", TOPIC, "-p", "1")
    check(r.returncode == 0, "create: %r" % r.stderr)
    c = Conn(b.port)
    pid = init_producer_id(c)
    expect(produce(c, pid, 0, 0, [b"t0"]), 0, "transactional batch")
    c.close()
    b.settings = [auth, UNVERIFIED]
    b.restart()
    c = Conn(b.port)
    expect(write_marker(c, pid, 0, True), CLUSTER_AUTH, "WriteTxnMarkers without CLUSTER_ACTION")
    c.close()
    b.settings = [auth, "super.users=User:ANONYMOUS", UNVERIFIED]
    b.restart()
    c = Conn(b.port)
    expect(fetch(c, 0, 1)[:4], (NONE, 1, 0, []), "the refused marker was not written")
    expect(write_marker(c, pid, 0, True), NONE, "WriteTxnMarkers as a super user")
    expect(fetch(c, 0, 1), (NONE, 2, 2, [], ["t0"], [1]), "read_committed after the commit")
    c.close()


if __name__ == "__main__":
    kwire.main("broker_transactions", {"all": main, "acl": acl})

#!/usr/bin/env python3
"""Idempotent producers against a real `eddy broker`, with crafted requests on raw sockets:

  InitProducerId v0-v5 (v2+ flexible) hands out a new id with epoch 0 every time, also when
  the request carries the producer's current id (KIP-360); a transactional id gets a new one.
  A retried batch is answered NONE with its first offset and appends nothing; a sequence gap
  is OUT_OF_ORDER_SEQUENCE_NUMBER (45), an old epoch INVALID_PRODUCER_EPOCH (47), a new epoch
  not at sequence 0 is 45, an unknown producer id with sequence 5 UNKNOWN_PRODUCER_ID (59).
  After kill -9 and a restart: ids are new, and a retry is still found (state rebuilt from the
  log); after a clean restart the same, from the snapshot written at shutdown (its file and
  the log line that says it was loaded, with nothing replayed); after kill -9 of a log that
  rolled segments, from the snapshot of the roll.

usage: broker_idempotence.py path/to/eddy
"""
import os
import re
import struct

import kwire
from kwire import Broker, Conn, check, cstr, s16, values_batch

EDDY, WORK = kwire.setup("eddy-idempotence-")
DATA = os.path.join(WORK, "data")

NONE, OUT_OF_ORDER, INVALID_EPOCH, UNKNOWN_PID = 0, 45, 47, 59


def init_producer_id(c, version=4, txn_id=None, pid=-1, epoch=-1):
    """(error, producer id, epoch) of an InitProducerId at version."""
    flexible = version >= 2
    body = cstr(txn_id) if flexible else s16(txn_id)
    body += struct.pack(">i", 60000)
    if version >= 3:
        body += struct.pack(">qh", pid, epoch)
    if flexible:
        body += b"\0"
    r = c.call(22, version, body)
    r.i32()  # throttle
    err, got_pid, got_epoch = r.i16(), r.i64(), r.i16()
    return err, got_pid, got_epoch


def batch(pid, epoch, seq, values):
    """A v2 record batch of values (null keys) with producer fields set."""
    return values_batch(values, pid=pid, epoch=epoch, seq=seq)


def produce(c, topic, records):
    """(error, base offset) of a Produce v3 of records to partition 0."""
    return kwire.produce_result(c.call(0, 3, kwire.produce_body(topic, 0, records)))


def log_end(c, topic):
    """The log end, from an append without a producer id (not checked by the state)."""
    err, base = produce(c, topic, batch(-1, -1, -1, [b"marker"]))
    check(err == NONE, "plain produce failed: %d" % err)
    return base


def expect(got, want, what):
    check(got == want, "%s: got %r, want %r" % (what, got, want))


def main():
    b = Broker("b1", data=DATA)
    for topic, conf in (("idem", []), ("rolls", ["-c", "segment.bytes=2000"])):
        r = kwire.eddy("-b", b.addr, "topic", "create", topic, "-p", "1", *conf)
        check(r.returncode == 0, "create %s: %r" % (topic, r.stderr))
    c = Conn(b.port)

    # InitProducerId at every version: a new id each time, epoch 0.
    ids = []
    for v in range(0, 6):
        err, pid, epoch = init_producer_id(c, v)
        expect((err, epoch), (NONE, 0), "InitProducerId v%d" % v)
        ids.append(pid)
    # A request with the producer's current id and epoch (KIP-360) gets a new id too.
    err, pid, epoch = init_producer_id(c, 4, pid=ids[-1], epoch=0)
    expect((err, epoch), (NONE, 0), "InitProducerId v4 with an id")
    ids.append(pid)
    check(len(set(ids)) == len(ids), "producer ids reused: %r" % ids)
    # A transactional id gets an id never handed out before (broker_txn.py tests the rest).
    err, tpid, tepoch = init_producer_id(c, 4, txn_id="txn-1")
    expect((err, tepoch), (NONE, 0), "InitProducerId with a transactional id")
    check(tpid not in ids, "transactional producer id %d reused" % tpid)

    pid = ids[0]
    first = batch(pid, 0, 0, [b"a0", b"a1", b"a2"])
    expect(produce(c, "idem", first), (NONE, 0), "first batch")
    second = batch(pid, 0, 3, [b"b3", b"b4"])
    expect(produce(c, "idem", second), (NONE, 3), "second batch")
    # Retries of both: their first offsets, nothing appended.
    expect(produce(c, "idem", second), (NONE, 3), "retry of the second batch")
    expect(produce(c, "idem", first), (NONE, 0), "retry of the first batch")
    expect(log_end(c, "idem"), 5, "log end after the retries")
    # A gap.
    expect(produce(c, "idem", batch(pid, 0, 9, [b"gap"]))[0], OUT_OF_ORDER, "sequence gap")
    # A new epoch starts at 0, and only there.
    expect(produce(c, "idem", batch(pid, 1, 4, [b"x"]))[0], OUT_OF_ORDER, "new epoch at 4")
    expect(produce(c, "idem", batch(pid, 1, 0, [b"e1"])), (NONE, 6), "new epoch at 0")
    expect(produce(c, "idem", batch(pid, 0, 5, [b"old"]))[0], INVALID_EPOCH, "old epoch")
    # A producer the partition never saw, not at sequence 0.
    expect(produce(c, "idem", batch(987654321, 0, 5, [b"u"]))[0], UNKNOWN_PID,
           "unknown producer id")
    end_before = log_end(c, "idem")
    expect(end_before, 7, "log end before the crash")

    # Enough batches on the small-segment topic to roll a few segments.
    rp = ids[2]
    for i in range(40):
        err, base = produce(c, "rolls", batch(rp, 0, i, [b"r%03d-%s" % (i, b"x" * 100)]))
        expect((err, base), (NONE, i), "rolls batch %d" % i)
    rolls_last = batch(rp, 0, 39, [b"r%03d-%s" % (39, b"x" * 100)])
    roll_snaps = [f for f in os.listdir(os.path.join(DATA, "rolls-0")) if f.endswith(".snapshot")]
    check(roll_snaps, "no snapshot written at segment rolls: %r" %
          os.listdir(os.path.join(DATA, "rolls-0")))
    c.close()

    # kill -9: the state is rebuilt from the log; ids stay unique.
    b.kill9()
    b = Broker("b2", data=DATA)
    c = Conn(b.port)
    err, pid2, _ = init_producer_id(c, 4)
    check(err == NONE and pid2 not in ids and pid2 > max(ids),
          "id after kill -9: %d (before: %r)" % (pid2, ids))
    ids.append(pid2)
    e1 = batch(pid, 1, 0, [b"e1"])
    expect(produce(c, "idem", e1), (NONE, 6), "retry after kill -9")
    expect(produce(c, "idem", batch(pid, 1, 5, [b"gap"]))[0], OUT_OF_ORDER, "gap after kill -9")
    expect(produce(c, "rolls", rolls_last), (NONE, 39), "retry on the rolled log after kill -9")
    text = b.log_text()
    check(re.search(r"idem-0: producer state: no snapshot, replayed \d+ producer batch", text),
          "no line saying idem-0's state was replayed from the log:\n" + text[-3000:])
    m = re.search(r"rolls-0: producer state: loaded snapshot \S+/(\d{20})\.snapshot, replayed "
                  r"(\d+) producer batch", text)
    check(m and 0 < int(m.group(1)) and int(m.group(2)) < 40,
          "rolls-0 was not rebuilt from a roll's snapshot:\n" + text[-3000:])
    expect(log_end(c, "idem"), end_before + 1, "log end after the retry")
    c.close()

    # Clean restart: a snapshot at the log end, loaded; nothing replayed.
    b.stop(clean=True)
    snaps = sorted(f for f in os.listdir(os.path.join(DATA, "idem-0")) if f.endswith(".snapshot"))
    check(snaps == ["%020d.snapshot" % (end_before + 2)],
          "snapshots after a clean stop: %r" % snaps)
    b = Broker("b3", data=DATA)
    c = Conn(b.port)
    check(re.search(r"idem-0: producer state: loaded snapshot \S+%s, replayed 0 producer batch"
                    % re.escape(snaps[0]), b.log_text()),
          "the snapshot was not loaded:\n" + b.log_text()[-3000:])
    expect(produce(c, "idem", e1), (NONE, 6), "retry after a clean restart")
    err, pid3, _ = init_producer_id(c, 5)
    check(err == NONE and pid3 > max(ids), "id after a clean restart: %d (before %r)" % (pid3, ids))

    # A corrupt snapshot is named in the log and ignored: the state comes from the log.
    c.close()
    b.stop(clean=True)
    path = os.path.join(DATA, "idem-0", snaps[0])
    with open(path, "r+b") as f:
        f.seek(30)
        f.write(b"\xff\xff")
    b = Broker("b4", data=DATA)
    c = Conn(b.port)
    check(re.search(r"producer state snapshot %s is unusable \(CRC mismatch\)" % re.escape(path),
                    b.log_text()), "corrupt snapshot not reported:\n" + b.log_text()[-3000:])
    expect(produce(c, "idem", e1), (NONE, 6), "retry after a corrupt snapshot")
    c.close()
    b.stop(clean=True)


if __name__ == "__main__":
    kwire.main("broker_idempotence", {"all": main})

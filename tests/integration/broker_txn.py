#!/usr/bin/env python3
"""The transaction coordinator of a real `eddy broker`, with crafted requests on raw sockets:

  find_coordinator  FindCoordinator v1-v2 key type 1 names this broker; an empty
                    transactional id is INVALID_REQUEST.
  init_fencing      InitProducerId with a transactional id: the same producer id, the epoch
                    bumped each time; a timeout over transaction.max.timeout.ms is
                    INVALID_TRANSACTION_TIMEOUT; the old epoch is fenced: INVALID_PRODUCER_EPOCH
                    before PRODUCER_FENCED existed (InitProducerId v3, AddPartitionsToTxn v1,
                    EndTxn v1), PRODUCER_FENCED after; an unknown producer id is
                    INVALID_PRODUCER_ID_MAPPING; EndTxn without a transaction is INVALID_TXN_STATE.
  commit_abort      AddPartitionsToTxn, a transactional batch, EndTxn: a commit marker (control
                    batch, key type 1) ends the partition's log, then an abort marker (type 0)
                    for the next transaction; DescribeTransactions and ListTransactions show the
                    states, the partitions while Ongoing, and filter by state.
  concurrent        InitProducerId of a new instance while a transaction is Ongoing:
                    CONCURRENT_TRANSACTIONS, the transaction is aborted with the bumped epoch
                    (abort marker), the retry gets the epoch after; the old instance is fenced.
  timeout           a transaction Ongoing longer than its transaction.timeout.ms is aborted by
                    the broker with the epoch bumped; the stuck producer is fenced.
  restart           EDDY_TEST_TXN_CRASH=prepare|marker|complete kills the broker right after
                    PrepareCommit is written, after the first marker, after all markers: the
                    restarted broker writes the commit markers and completes it; an Ongoing
                    transaction survives kill -9 with its partitions; producer ids are not
                    handed out again; __transaction_state holds Kafka's keys.
  expiry            transactional.id.expiration.ms: an Ongoing transaction is never expired; an
                    idle completed id is (tombstone, also after a restart), and InitProducerId
                    then starts over with a new producer id.
  exhaustion        InitProducerId at epoch 32766 (Short.MAX_VALUE - 1) gets a new producer id
                    with epoch 0.
  acl               with an authorizer: WRITE on the transactional id for InitProducerId,
                    AddPartitionsToTxn, AddOffsetsToTxn, EndTxn; DESCRIBE for FindCoordinator,
                    DescribeTransactions, ListTransactions (which leaves out the others);
                    WRITE on each topic, READ on the group.
  verify_produce    transaction.partition.verification.enable (KIP-890): a transactional
                    batch for a partition the Ongoing transaction did not add, before any
                    AddPartitionsToTxn, after the commit, or of another producer id is refused
                    (INVALID_TXN_STATE, INVALID_PRODUCER_ID_MAPPING) and nothing is written;
                    with the setting false it is appended.
  offsets           AddOffsetsToTxn puts the group's __consumer_offsets partition in the
                    transaction; offsets of TxnOffsetCommit are visible after the commit, never
                    after an abort.

usage: broker_txn.py path/to/eddy [case ...]
"""
import glob
import os
import struct
import time

import kwire
from kwire import Broker, Conn, check, cstr, s16, values_batch

EDDY, WORK = kwire.setup("eddy-txn-")

NONE, INVALID_EPOCH, INVALID_TXN_STATE, INVALID_MAPPING, INVALID_TIMEOUT = 0, 47, 48, 49, 50
CONCURRENT, INVALID_REQUEST, PRODUCER_FENCED = 51, 42, 90
TXN_ATTR, CONTROL_ATTR = 0x10, 0x20


def expect(got, want, what):
    check(got == want, "%s: got %r, want %r" % (what, got, want))


def create_topic(b, topic, partitions=1):
    r = kwire.eddy("-b", b.addr, "topic", "create", topic, "-p", str(partitions))
    check(r.returncode == 0, "create %s: %r" % (topic, r.stderr))


def find_coordinator(c, key, version=2, key_type=1):
    """(error, node id, host, port)."""
    r = c.call(10, version, s16(key) + struct.pack(">b", key_type))
    r.i32()
    err = r.i16()
    r.str()
    return err, r.i32(), r.str(), r.i32()


def init_pid(c, txn, version=4, pid=-1, epoch=-1, timeout=60000):
    """(error, producer id, epoch) of InitProducerId."""
    flex = version >= 2
    body = (cstr(txn) if flex else s16(txn)) + struct.pack(">i", timeout)
    if version >= 3:
        body += struct.pack(">qh", pid, epoch)
    if flex:
        body += b"\0"
    r = c.call(22, version, body)
    r.i32()
    return r.i16(), r.i64(), r.i16()


def add_partitions(c, txn, pid, epoch, topic, parts, version=3):
    """{partition: error} of AddPartitionsToTxn."""
    flex = version >= 3
    enc = kwire.Enc(flex)
    body = enc.str(txn) + struct.pack(">qh", pid, epoch) + enc.count(1) + enc.str(topic)
    body += enc.count(len(parts)) + b"".join(struct.pack(">i", p) for p in parts)
    if flex:
        body += b"\0\0"
    r = c.call(24, version, body)
    r.i32()
    out = {}
    for _ in range(r.count()):
        r.str()
        for _ in range(r.count()):
            p, err = r.i32(), r.i16()
            out[p] = err
            if flex:
                r.tags()
        if flex:
            r.tags()
    return out


def end_txn(c, txn, pid, epoch, commit, version=3):
    flex = version >= 3
    body = (cstr(txn) if flex else s16(txn)) + struct.pack(">qhb", pid, epoch, 1 if commit else 0)
    if flex:
        body += b"\0"
    r = c.call(26, version, body)
    r.i32()
    return r.i16()


def describe(c, txn):
    """(error, state, producer id, epoch, {topic: [partitions]}) of DescribeTransactions v0."""
    r = c.call(65, 0, kwire.uvarint(2) + cstr(txn) + b"\0")
    r.i32()
    check(r.count() == 1, "one transactional id asked, one answered")
    err, _, state, _, _, pid, epoch = r.i16(), r.str(), r.str(), r.i32(), r.i64(), r.i64(), r.i16()
    parts = {}
    for _ in range(r.count()):
        t = r.str()
        parts[t] = sorted(r.i32() for _ in range(r.count()))
        r.tags()
    r.tags()
    return err, state, pid, epoch, parts


def list_txns(c, states=(), version=1):
    """(unknown state filters, {transactional id: (producer id, state)})."""
    body = kwire.uvarint(len(states) + 1) + b"".join(cstr(s) for s in states)
    body += kwire.uvarint(1)
    if version >= 1:
        body += struct.pack(">q", -1)
    r = c.call(66, version, body + b"\0")
    r.i32()
    expect(r.i16(), NONE, "ListTransactions error")
    unknown = [r.str() for _ in range(r.count())]
    out = {}
    for _ in range(r.count()):
        tid, pid, st = r.str(), r.i64(), r.str()
        r.tags()
        out[tid] = (pid, st)
    return unknown, out


def produce_txn(c, topic, pid, epoch, seq, values, txn, partition=0):
    body = kwire.produce_body(topic, partition, values_batch(values, pid=pid, epoch=epoch, seq=seq,
                                                             attrs=TXN_ATTR), transactional_id=txn)
    return kwire.produce_result(c.call(0, 3, body))


def fetch_batches(c, topic, partition=0):
    """The batch headers of topic-partition from offset 0 (Fetch v4, read_uncommitted)."""
    body = struct.pack(">iiiib", -1, 0, 1, 1 << 20, 0) + struct.pack(">i", 1) + s16(topic)
    body += struct.pack(">i", 1) + struct.pack(">iqi", partition, 0, 1 << 20)
    r = c.call(1, 4, body)
    r.i32()
    r.i32()
    r.str()
    r.i32()
    r.i32()
    expect(r.i16(), NONE, "Fetch error")
    r.i64()
    r.i64()
    for _ in range(max(r.i32(), 0)):
        r.i64()
        r.i64()
    return kwire.batches_in(r.bytes() or b"")


def markers(c, topic, partition=0):
    """[(pid, epoch, 'commit' or 'abort')] of the control batches in the partition."""
    out = []
    for h in fetch_batches(c, topic, partition):
        if h["attrs"] & CONTROL_ATTR:
            raw = h["bytes"]
            # The one record: length, attributes, ts delta, offset delta, key length, key.
            p = 61
            _, p = kwire.read_varint(raw, p)
            p += 1
            _, p = kwire.read_varint(raw, p)
            _, p = kwire.read_varint(raw, p)
            klen, p = kwire.read_varint(raw, p)
            check(klen == 4, "control record key of %d bytes" % klen)
            version, kind = struct.unpack_from(">hh", raw, p)
            out.append((h["pid"], h["epoch"], {0: "abort", 1: "commit"}[kind]))
    return out


def case_find_coordinator():
    b = Broker("find")
    c = Conn(b.port)
    for v in (1, 2):
        expect(find_coordinator(c, "tx-a", v), (NONE, 0, "127.0.0.1", b.port),
               "FindCoordinator v%d transaction" % v)
    expect(find_coordinator(c, "")[0], INVALID_REQUEST, "FindCoordinator, empty id")
    c.close()
    return "type 1 answered by node 0"


def case_init_fencing():
    b = Broker("init")
    create_topic(b, "t")
    c = Conn(b.port)
    err, pid, epoch = init_pid(c, "tx-init", version=1)
    expect((err, epoch), (NONE, 0), "first InitProducerId")
    err, pid2, epoch2 = init_pid(c, "tx-init", version=4)
    expect((err, pid2, epoch2), (NONE, pid, 1), "second InitProducerId bumps the epoch")
    expect(init_pid(c, "tx-init", timeout=900001)[0], INVALID_TIMEOUT, "timeout over the max")
    expect(init_pid(c, "tx-init", version=3, pid=pid, epoch=7)[0], INVALID_EPOCH,
           "InitProducerId v3 with a stale epoch")
    expect(init_pid(c, "tx-init", version=4, pid=pid, epoch=7)[0], PRODUCER_FENCED,
           "InitProducerId v4 with a stale epoch")
    expect(add_partitions(c, "tx-init", pid, 0, "t", [0], version=1), {0: INVALID_EPOCH},
           "AddPartitionsToTxn v1, old epoch")
    expect(add_partitions(c, "tx-init", pid, 0, "t", [0], version=2), {0: PRODUCER_FENCED},
           "AddPartitionsToTxn v2, old epoch")
    expect(add_partitions(c, "tx-init", pid + 1, 1, "t", [0]), {0: INVALID_MAPPING},
           "AddPartitionsToTxn, another producer id")
    expect(end_txn(c, "tx-init", pid, 0, True, version=1), INVALID_EPOCH, "EndTxn v1, old epoch")
    expect(end_txn(c, "tx-init", pid, 0, True, version=2), PRODUCER_FENCED, "EndTxn v2, old epoch")
    expect(end_txn(c, "tx-init", pid, 1, True), INVALID_TXN_STATE, "EndTxn with no transaction")
    expect(end_txn(c, "tx-nobody", 5, 0, True), INVALID_MAPPING, "EndTxn of an unknown id")
    # A partition that does not exist fails the request; the others are not attempted.
    got = add_partitions(c, "tx-init", pid, 1, "t", [0, 9])
    expect(got, {0: 55, 9: 3}, "AddPartitionsToTxn with an unknown partition")
    # Another id gets another producer id.
    err, pid3, epoch3 = init_pid(c, "tx-other")
    check(err == NONE and pid3 != pid and epoch3 == 0, "second id: %r" % ((err, pid3, epoch3),))
    c.close()
    return "epochs 0, 1; fenced codes by version"


def case_commit_abort():
    b = Broker("commit")
    create_topic(b, "t", 2)
    c = Conn(b.port)
    err, pid, epoch = init_pid(c, "tx-c")
    expect(err, NONE, "InitProducerId")
    expect(add_partitions(c, "tx-c", pid, epoch, "t", [0, 1]), {0: NONE, 1: NONE},
           "AddPartitionsToTxn")
    expect(add_partitions(c, "tx-c", pid, epoch, "t", [1]), {1: NONE}, "added again")
    expect(describe(c, "tx-c"), (NONE, "Ongoing", pid, epoch, {"t": [0, 1]}),
           "DescribeTransactions while Ongoing")
    unknown, listed = list_txns(c, ("Ongoing", "Bogus"))
    expect((unknown, listed.get("tx-c")), (["Bogus"], (pid, "Ongoing")), "ListTransactions")
    expect(produce_txn(c, "t", pid, epoch, 0, [b"a", b"b"], "tx-c")[0], NONE, "produce")
    expect(end_txn(c, "tx-c", pid, epoch, True), NONE, "EndTxn commit")
    expect(markers(c, "t", 0), [(pid, epoch, "commit")], "markers of t-0")
    expect(markers(c, "t", 1), [(pid, epoch, "commit")], "markers of t-1")
    expect(describe(c, "tx-c"), (NONE, "CompleteCommit", pid, epoch, {}),
           "DescribeTransactions after the commit")
    expect(end_txn(c, "tx-c", pid, epoch, True), NONE, "EndTxn commit retried")
    expect(end_txn(c, "tx-c", pid, epoch, False), INVALID_TXN_STATE, "EndTxn abort after commit")
    # The next transaction, aborted.
    expect(add_partitions(c, "tx-c", pid, epoch, "t", [0]), {0: NONE}, "AddPartitionsToTxn 2")
    expect(produce_txn(c, "t", pid, epoch, 2, [b"c"], "tx-c")[0], NONE, "produce 2")
    expect(end_txn(c, "tx-c", pid, epoch, False), NONE, "EndTxn abort")
    expect(markers(c, "t", 0), [(pid, epoch, "commit"), (pid, epoch, "abort")],
           "markers of t-0 after the abort")
    expect(markers(c, "t", 1), [(pid, epoch, "commit")], "t-1 was not in the second one")
    _, listed = list_txns(c, ("CompleteAbort",))
    expect(listed, {"tx-c": (pid, "CompleteAbort")}, "ListTransactions CompleteAbort")
    _, listed = list_txns(c, ("Ongoing",))
    expect(listed, {}, "ListTransactions Ongoing after the abort")
    expect(describe(c, "tx-none")[0], 105, "DescribeTransactions of an unknown id")
    c.close()
    return "commit and abort markers written"


def case_concurrent():
    b = Broker("concurrent")
    create_topic(b, "t")
    c = Conn(b.port)
    err, pid, epoch = init_pid(c, "tx-z")
    expect(add_partitions(c, "tx-z", pid, epoch, "t", [0]), {0: NONE}, "AddPartitionsToTxn")
    expect(produce_txn(c, "t", pid, epoch, 0, [b"x"], "tx-z")[0], NONE, "produce")
    # A new instance of the same transactional id.
    c2 = Conn(b.port)
    expect(init_pid(c2, "tx-z")[0], CONCURRENT, "InitProducerId during the transaction")
    expect(markers(c, "t"), [(pid, epoch + 1, "abort")], "the old transaction aborted, fenced")
    expect(init_pid(c2, "tx-z"), (NONE, pid, epoch + 2), "InitProducerId retried")
    # The old instance naming its id and epoch (KIP-360) is fenced, not taken for a retry.
    expect(init_pid(c, "tx-z", version=4, pid=pid, epoch=epoch)[0], PRODUCER_FENCED,
           "the old instance's InitProducerId v4 with its epoch")
    # The current one naming its epoch gets the next; a retry of that (answer lost) the same.
    expect(init_pid(c2, "tx-z", version=4, pid=pid, epoch=epoch + 2), (NONE, pid, epoch + 3),
           "InitProducerId v4 with the current epoch")
    expect(init_pid(c2, "tx-z", version=4, pid=pid, epoch=epoch + 2), (NONE, pid, epoch + 3),
           "InitProducerId v4 retried with the epoch before the bump")
    expect(end_txn(c, "tx-z", pid, epoch, True), PRODUCER_FENCED, "the old instance's EndTxn")
    expect(add_partitions(c, "tx-z", pid, epoch, "t", [0]), {0: PRODUCER_FENCED},
           "the old instance's AddPartitionsToTxn")
    c.close()
    c2.close()
    return "aborted with epoch %d, the new instance at %d" % (epoch + 1, epoch + 2)


def case_timeout():
    b = Broker("timeout", ["transaction.abort.timed.out.transaction.cleanup.interval.ms=100"])
    create_topic(b, "t")
    c = Conn(b.port)
    err, pid, epoch = init_pid(c, "tx-slow", timeout=1500)
    # Before AddPartitionsToTxn, where the coordinator's clock for the
    # transaction starts: the wait measured is never shorter than its own.
    t0 = time.time()
    expect(add_partitions(c, "tx-slow", pid, epoch, "t", [0]), {0: NONE}, "AddPartitionsToTxn")
    expect(produce_txn(c, "t", pid, epoch, 0, [b"x"], "tx-slow")[0], NONE, "produce")
    kwire.wait_for("the timed-out transaction aborted",
                   lambda: describe(c, "tx-slow")[1] == "CompleteAbort", timeout=15)
    waited = time.time() - t0
    check(waited > 1.0, "aborted after %.1f s, before its 1.5 s timeout" % waited)
    expect(describe(c, "tx-slow")[3], epoch + 1, "the epoch was bumped")
    expect(markers(c, "t"), [(pid, epoch + 1, "abort")], "abort marker with the bumped epoch")
    expect(end_txn(c, "tx-slow", pid, epoch, True), PRODUCER_FENCED, "the stuck producer commits")
    c.close()
    return "aborted after %.1f s" % waited


def crash_at(mode):
    """EDDY_TEST_TXN_CRASH=mode kills the broker in EndTxn commit of a transaction on t-0 and
    t-1; after the restart the transaction is CompleteCommit with one commit marker in each
    partition. An Ongoing transaction of another id survives as it is."""
    data = os.path.join(WORK, "crash-" + mode)
    b = Broker("crash-" + mode, data=data, env={"EDDY_TEST_TXN_CRASH": mode})
    create_topic(b, "t", 2)
    c = Conn(b.port)
    err, pid, epoch = init_pid(c, "tx-r")
    expect(add_partitions(c, "tx-r", pid, epoch, "t", [0, 1]), {0: NONE, 1: NONE},
           "AddPartitionsToTxn")
    expect(produce_txn(c, "t", pid, epoch, 0, [b"x"], "tx-r")[0], NONE, "produce")
    err, pid2, epoch2 = init_pid(c, "tx-open")
    expect(add_partitions(c, "tx-open", pid2, epoch2, "t", [0]), {0: NONE}, "tx-open added")
    answered = False
    try:
        end_txn(c, "tx-r", pid, epoch, True)
        answered = True
    except (OSError, kwire.Fail, struct.error):
        pass
    check(not answered, "EndTxn answered: the broker should have killed itself (%s)" % mode)
    kwire.wait_for("the broker killed by EDDY_TEST_TXN_CRASH", lambda: not b.alive(), 10)
    b.kill9()
    c.close()
    b.env = {}
    b.start()
    c = Conn(b.port)
    b.wait_log(r"transactional id tx-r: completing its PrepareCommit")
    expect(describe(c, "tx-r")[:2], (NONE, "CompleteCommit"), "tx-r after the restart")
    for p in (0, 1):
        # After "marker" or "complete" a partition may hold the marker twice: written
        # before the crash and again at start (Kafka's coordinator rewrites them too).
        got = set(markers(c, "t", p))
        expect(got, {(pid, epoch, "commit")}, "markers of t-%d (%s)" % (p, mode))
    expect(describe(c, "tx-open"), (NONE, "Ongoing", pid2, epoch2, {"t": [0]}),
           "tx-open after the restart")
    err, pid3, _ = init_pid(c, "tx-new")
    check(pid3 not in (pid, pid2), "producer id %d handed out again" % pid3)
    c.close()
    b.stop(clean=True)
    # The records are Kafka's: key v0 (int16 0, string).
    seg = b"".join(open(f, "rb").read() for f in sorted(
        glob.glob(os.path.join(data, "__transaction_state-*", "*.log"))))
    check(struct.pack(">hh", 0, 4) + b"tx-r" in seg, "no TransactionLogKey of tx-r")


def case_restart():
    for mode in ("prepare", "marker", "complete"):
        crash_at(mode)
    return "PrepareCommit completed at start after a crash at prepare, marker, complete"


def case_expiry():
    b = Broker("expiry", ["transactional.id.expiration.ms=1000",
                          "transaction.remove.expired.transaction.cleanup.interval.ms=100"])
    create_topic(b, "t")
    c = Conn(b.port)
    err, pid, epoch = init_pid(c, "tx-old")
    expect(add_partitions(c, "tx-old", pid, epoch, "t", [0]), {0: NONE}, "AddPartitionsToTxn")
    time.sleep(1.5)  # an Ongoing transaction is not expired, however old
    expect(describe(c, "tx-old")[1], "Ongoing", "Ongoing after the expiration time")
    expect(end_txn(c, "tx-old", pid, epoch, True), NONE, "EndTxn")
    kwire.wait_for("the idle transactional id expired",
                   lambda: describe(c, "tx-old")[0] == 105, timeout=10)
    err, pid2, epoch2 = init_pid(c, "tx-old")
    check(err == NONE and pid2 != pid and epoch2 == 0,
          "after expiry: %r, want a new producer id" % ((err, pid2, epoch2),))
    b.restart()  # the tombstone replays: the id stays the new one
    c = Conn(b.port)
    expect(describe(c, "tx-old")[2:4], (pid2, 0), "after a restart")
    c.close()
    return "expired after completion"


def case_exhaustion():
    """An epoch that reaches Short.MAX_VALUE - 1 gets a new producer id (Kafka)."""
    b = Broker("exhaust")
    c = Conn(b.port)
    err, pid, epoch = init_pid(c, "tx-many")
    # Pipelined: 32766 InitProducerId requests, read in order.
    n = 32766
    batch = 512
    last = None
    for start in range(0, n, batch):
        k = min(batch, n - start)
        body = cstr("tx-many") + struct.pack(">iqh", 60000, -1, -1) + b"\0"
        corrs = [c.send(22, 4, body) for _ in range(k)]
        for corr in corrs:
            r = c.response(22, 4, corr)
            r.i32()
            last = (r.i16(), r.i64(), r.i16())
    expect(last, (NONE, pid, 32766), "after 32766 bumps")
    err, pid2, epoch2 = init_pid(c, "tx-many")
    check(err == NONE and pid2 != pid and epoch2 == 0,
          "exhausted epoch: %r, want a new producer id with epoch 0" % ((err, pid2, epoch2),))
    # A KIP-360 retry of that request (its answer lost) gets the new id again.
    expect(init_pid(c, "tx-many", version=4, pid=pid, epoch=32766), (NONE, pid2, 0),
           "retry with the previous id at the exhausted epoch")
    expect(init_pid(c, "tx-many", version=4, pid=pid, epoch=32765)[0], PRODUCER_FENCED,
           "the previous id at an older epoch")
    c.close()
    return "new producer id %d after epoch 32766 of %d" % (pid2, pid)


AUTH = "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer"


def create_acls(c, acls):
    """CreateAcls v1: (resource type, name, operation) ALLOW for User:ANONYMOUS, literal."""
    body = struct.pack(">i", len(acls))
    for t, name, op in acls:
        body += struct.pack(">b", t) + s16(name) + struct.pack(">b", 3)
        body += s16("User:ANONYMOUS") + s16("*") + struct.pack(">bb", op, 3)
    r = c.call(30, 1, body)
    r.i32()
    for _ in range(r.count()):
        expect(r.i16(), NONE, "CreateAcls")
        r.str()


def add_offsets(c, txn, pid, epoch, group):
    r = c.call(25, 3, cstr(txn) + struct.pack(">qh", pid, epoch) + cstr(group) + b"\0")
    r.i32()
    return r.i16()


def case_acl():
    data = os.path.join(WORK, "acl-data")
    b = Broker("acl", [AUTH, "super.users=User:ANONYMOUS"], data=data)
    create_topic(b, "t")
    create_topic(b, "u")
    c = Conn(b.port)
    TOPIC, GROUP, TXN_ID, READ, WRITE, DESCRIBE = 2, 3, 5, 3, 4, 8
    create_acls(c, [(TXN_ID, "tx-ok", WRITE), (TXN_ID, "tx-ok", DESCRIBE), (TOPIC, "t", WRITE),
                    (TOPIC, "t", DESCRIBE), (GROUP, "g", READ)])
    expect(init_pid(c, "tx-hidden")[0], NONE, "tx-hidden as a super user")
    c.close()
    b.stop(clean=True)
    b.settings = [AUTH]
    b.start()
    c = Conn(b.port)
    AUTH_TXN, AUTH_TOPIC, AUTH_GROUP = 53, 29, 30
    expect(find_coordinator(c, "tx-no")[0], AUTH_TXN, "FindCoordinator, no DESCRIBE")
    expect(find_coordinator(c, "tx-ok")[0], NONE, "FindCoordinator tx-ok")
    expect(init_pid(c, "tx-no")[0], AUTH_TXN, "InitProducerId, no WRITE")
    err, pid, epoch = init_pid(c, "tx-ok")
    expect(err, NONE, "InitProducerId tx-ok")
    expect(add_partitions(c, "tx-ok", pid, epoch, "u", [0]), {0: AUTH_TOPIC},
           "AddPartitionsToTxn, no WRITE on u")
    expect(add_partitions(c, "tx-no", pid, epoch, "t", [0]), {0: AUTH_TXN},
           "AddPartitionsToTxn of tx-no")
    expect(add_offsets(c, "tx-ok", pid, epoch, "other"), AUTH_GROUP, "AddOffsetsToTxn, no READ")
    expect(add_offsets(c, "tx-no", pid, epoch, "g"), AUTH_TXN, "AddOffsetsToTxn of tx-no")
    expect(add_partitions(c, "tx-ok", pid, epoch, "t", [0]), {0: NONE}, "AddPartitionsToTxn t")
    expect(add_offsets(c, "tx-ok", pid, epoch, "g"), NONE, "AddOffsetsToTxn g")
    expect(end_txn(c, "tx-no", pid, epoch, True), AUTH_TXN, "EndTxn of tx-no")
    expect(describe(c, "tx-hidden")[0], AUTH_TXN, "DescribeTransactions of tx-hidden")
    expect(describe(c, "tx-ok")[:2], (NONE, "Ongoing"), "DescribeTransactions of tx-ok")
    expect(sorted(list_txns(c)[1]), ["tx-ok"], "ListTransactions shows what it may describe")
    expect(end_txn(c, "tx-ok", pid, epoch, True), NONE, "EndTxn of tx-ok")
    c.close()
    return "WRITE/DESCRIBE on transactional ids, WRITE on topics, READ on groups"


def txn_offset_commit(c, txn, group, pid, epoch, topic, offsets):
    """TxnOffsetCommit v2: {partition: error}."""
    parts = b"".join(struct.pack(">iqi", p, off, -1) + s16("") for p, off in offsets.items())
    body = s16(txn) + s16(group) + struct.pack(">qh", pid, epoch)
    body += struct.pack(">i", 1) + s16(topic) + struct.pack(">i", len(offsets)) + parts
    r = c.call(28, 2, body)
    r.i32()
    out = {}
    for _ in range(r.i32()):
        r.str()
        for _ in range(r.i32()):
            p = r.i32()
            out[p] = r.i16()
    return out


def offset_fetch(c, group, topic, partition):
    """The committed offset (OffsetFetch v2), -1 for none."""
    body = s16(group) + struct.pack(">i", 1) + s16(topic) + struct.pack(">ii", 1, partition)
    r = c.call(9, 2, body)
    off = -1
    for _ in range(r.i32()):
        r.str()
        for _ in range(r.i32()):
            r.i32()
            off = r.i64()
            r.str()
            r.i16()
    return off


def case_offsets():
    """AddOffsetsToTxn and TxnOffsetCommit: the offsets are visible after the commit, never
    after an abort; the __consumer_offsets partition of the group gets the marker."""
    b = Broker("offsets")
    create_topic(b, "t")
    c = Conn(b.port)
    err, pid, epoch = init_pid(c, "tx-o")
    expect(add_offsets(c, "tx-o", pid, epoch, "g1"), NONE, "AddOffsetsToTxn g1")
    expect(list(describe(c, "tx-o")[4]), ["__consumer_offsets"],
           "the group's __consumer_offsets partition is in the transaction")
    expect(txn_offset_commit(c, "tx-o", "g1", pid, epoch, "t", {0: 42}), {0: NONE},
           "TxnOffsetCommit")
    expect(offset_fetch(c, "g1", "t", 0), -1, "offset before the commit")
    expect(end_txn(c, "tx-o", pid, epoch, True), NONE, "EndTxn commit")
    expect(offset_fetch(c, "g1", "t", 0), 42, "offset after the commit")
    expect(add_offsets(c, "tx-o", pid, epoch, "g1"), NONE, "AddOffsetsToTxn again")
    expect(txn_offset_commit(c, "tx-o", "g1", pid, epoch, "t", {0: 99}), {0: NONE},
           "TxnOffsetCommit 2")
    expect(end_txn(c, "tx-o", pid, epoch, False), NONE, "EndTxn abort")
    expect(offset_fetch(c, "g1", "t", 0), 42, "offset after the abort")
    c.close()
    return "42 committed, 99 aborted"


def case_verify_produce():
    """transaction.partition.verification.enable: a transactional batch appends only to a
    partition the producer's Ongoing transaction added; else nothing is written, so no
    transaction without a marker holds the partition's last stable offset."""
    b = Broker("verify")
    create_topic(b, "t", 2)
    c = Conn(b.port)
    err, pid, epoch = init_pid(c, "tx-v")
    # Before any AddPartitionsToTxn (a late batch of no transaction).
    expect(produce_txn(c, "t", pid, epoch, 0, [b"early"], "tx-v")[0], INVALID_TXN_STATE,
           "transactional batch before AddPartitionsToTxn")
    expect(add_partitions(c, "tx-v", pid, epoch, "t", [0]), {0: NONE}, "AddPartitionsToTxn t-0")
    expect(produce_txn(c, "t", pid, epoch, 0, [b"x"], "tx-v", partition=1)[0],
           INVALID_TXN_STATE, "batch for t-1, not in the transaction")
    expect(produce_txn(c, "t", pid + 1000, 0, 0, [b"y"], "tx-v")[0], INVALID_MAPPING,
           "batch of another producer id under tx-v")
    expect(produce_txn(c, "t", pid, epoch, 0, [b"a"], "tx-v")[0], NONE, "batch for t-0")
    expect(produce_txn(c, "t", pid, epoch, 1, [b"b"], "tx-v")[0], NONE, "second batch for t-0")
    expect(end_txn(c, "tx-v", pid, epoch, True), NONE, "EndTxn commit")
    # A batch that comes after the commit (a zombie's late retry): refused.
    expect(produce_txn(c, "t", pid, epoch, 2, [b"late"], "tx-v")[0], INVALID_TXN_STATE,
           "batch after the commit")
    # A transactional batch with no transactional id (Kafka:
    # TRANSACTIONAL_ID_AUTHORIZATION_FAILED): no coordinator would end it.
    expect(produce_txn(c, "t", pid, epoch, 0, [b"no id"], None, partition=1)[0], 53,
           "transactional batch without a transactional id")
    expect([h["attrs"] & CONTROL_ATTR for h in fetch_batches(c, "t", 0)], [0, 0, CONTROL_ATTR],
           "t-0: the two batches and the commit marker, nothing after")
    expect(fetch_batches(c, "t", 1), [], "t-1: nothing written")
    c.close()
    b.stop(clean=True)
    # Off: the partition is not checked (Kafka before KIP-890).
    b = Broker("verify-off", ["transaction.partition.verification.enable=false"])
    create_topic(b, "t", 2)
    c = Conn(b.port)
    err, pid, epoch = init_pid(c, "tx-v")
    expect(produce_txn(c, "t", pid, epoch, 0, [b"x"], "tx-v", partition=1)[0], NONE,
           "unverified batch with verification off")
    c.close()
    return "unadded, late, foreign and id-less batches refused"


CASES = {
    "find_coordinator": case_find_coordinator,
    "init_fencing": case_init_fencing,
    "commit_abort": case_commit_abort,
    "concurrent": case_concurrent,
    "timeout": case_timeout,
    "restart": case_restart,
    "expiry": case_expiry,
    "exhaustion": case_exhaustion,
    "acl": case_acl,
    "offsets": case_offsets,
    "verify_produce": case_verify_produce,
}

if __name__ == "__main__":
    kwire.main("broker_txn", CASES)

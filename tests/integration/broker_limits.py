#!/usr/bin/env python3
"""The broker's connection limits against a real `eddy broker`, with raw sockets:

  one_in_flight   a client pipelines 100 requests (a long-polling Fetch, a Produce that would
                  wake it, 98 short long polls) and reads nothing for a while: the broker takes
                  them one at a time (the Fetch is answered empty after its max_wait, the
                  short polls one after another), answers in order, and serves a second
                  connection meanwhile
  fetch_flood     a client sends 100 Fetch requests for ~4 MiB each and does not read: the
                  broker's RSS stays bounded, `eddy topic consume` is served meanwhile, and
                  the answers come in order once the client reads
  versions_flood  400,000 ApiVersions requests not read: RSS bounded; then read while the
                  rest is sent in odd-sized pieces: every answer, in order
  stalled_frames  connections announce 8 MiB requests and stall: the request pool
                  (queued.max.request.bytes) bounds memory, socket.request.timeout.ms closes them
  idle            connections.max.idle.ms closes an idle connection
  max_conns       max.connections and max.connections.per.ip refuse surplus connections with one
                  log line; admitted clients keep working
  emfile          under a low open-file limit at start: the connection cap computed from it refuses
                  surplus clients with one line, the broker survives and serves again once
                  connections close
  emfile_accept   the limit lowered under the running broker (prlimit), below the cap it computed
                  at start: accept itself fails with EMFILE, one ERROR line (rate limited), the
                  broker keeps serving its connections, and accepts again once connections close
                  and once the limit is raised
  fetch_unread    30 connections each send one Fetch of ~32 MiB and do not read: the records
                  stay in the segment files, so RSS grows by far less than the responses' sum
  fetch_slow      a ~32 MiB Fetch response read slowly, with pauses, its topic deleted meanwhile:
                  exactly the segment's bytes, holding exactly the records produced
  stop_unread     SIGTERM while a client leaves a large response unread: the broker closes that
                  connection after the stop's grace period and exits 0
  fetch_cut       the segment is cut under the broker while a ~32 MiB response is being written:
                  the connection closes with an ERROR line, every byte that came is the file's
  emfile_partitions  300 partitions, 29 idle connections and flushes under a 64-file limit: no
                  partition goes offline for want of a descriptor, every record produced is
                  consumed; surplus clients are refused with a line, no spinning, served after
  low_nofile_defaults  a 64-file limit with the default log.max.open.files: the fd cache is cut to
                  fit (WARN) and ten connections and a topic create work

usage: broker_limits.py path/to/eddy [case ...]
"""
import os
import re
import select
import socket
import struct
import subprocess
import threading
import time

import kwire
from kwire import Fail, batch_values, check, closed_by_peer, connect, recv_exact, s16 as kstr, wait_for

EDDY, WORK = kwire.setup("eddy-broker-limits-")


class Broker(kwire.Broker):
    # The cases bound the broker's RSS: under ASan, a small quarantine.
    QUARANTINE_MB = 4


def frame(api_key, version, corr, body):
    return kwire.frame(api_key, version, corr, body, "limits")


def api_versions(corr):
    return frame(18, 0, corr, b"")


def fetch(corr, topic, max_bytes):
    # Fetch v4: replica, max_wait, min_bytes, max_bytes, isolation; one topic, partition 0.
    body = struct.pack(">iiiib", -1, 0, 1, max_bytes, 0)
    body += struct.pack(">i", 1) + kstr(topic) + struct.pack(">i", 1)
    body += struct.pack(">iqi", 0, 0, max_bytes)
    return frame(1, 4, corr, body)


def fetch_wait(corr, topic, offset, max_wait_ms, min_bytes=1):
    """Fetch v4 of partition 0 from offset, waiting up to max_wait_ms for min_bytes."""
    body = struct.pack(">iiiib", -1, max_wait_ms, min_bytes, 1 << 20, 0)
    body += struct.pack(">i", 1) + kstr(topic) + struct.pack(">i", 1)
    body += struct.pack(">iqi", 0, offset, 1 << 20)
    return frame(1, 4, corr, body)


def fetch_answer(body):
    """(error, high watermark, record bytes) of partition 0 in a Fetch v4 answer body."""
    off = 4 + 4 + 4  # correlation id, throttle, topic count
    (nlen,) = struct.unpack_from(">h", body, off)
    off += 2 + nlen + 4 + 4  # name, partition count, partition index
    err, hw, _lso, naborted = struct.unpack_from(">hqqi", body, off)
    off += 2 + 8 + 8 + 4 + max(naborted, 0) * 16
    (nrec,) = struct.unpack_from(">i", body, off)
    return err, hw, max(nrec, 0)


def produce(corr, topic, value, acks=1):
    """Produce v3 of one record (null key) to partition 0, in a v2 record batch."""
    body = kwire.produce_body(topic, 0, kwire.values_batch([value]), acks=acks, timeout_ms=5000)
    return frame(0, 3, corr, body)


def roundtrip(s, corr=7):
    """An ApiVersions request answered on s with its correlation id."""
    s.sendall(api_versions(corr))
    size = struct.unpack(">i", recv_exact(s, 4))[0]
    body = recv_exact(s, size)
    got = struct.unpack(">i", body[:4])[0]
    check(got == corr, "answer to correlation id %d came back as %d" % (corr, got))


def served(port, timeout=5.0):
    s = connect(port)
    s.settimeout(timeout)
    try:
        roundtrip(s)
    finally:
        s.close()


def send_until_stalled(s, data, stall=0.5, limit=10.0):
    """Sends data without blocking until the peer stops taking it; returns bytes sent."""
    s.setblocking(False)
    sent = 0
    last = time.time()
    end = time.time() + limit
    while sent < len(data) and time.time() < end:
        _, w, _ = select.select([], [s], [], 0.1)
        if w:
            try:
                n = s.send(data[sent:sent + (1 << 20)])
                sent += n
                last = time.time()
                continue
            except (BlockingIOError, InterruptedError):
                pass
        if time.time() - last > stall:
            break
    return sent


eddy = kwire.eddy


# ---------------------------------------------------------------------------

def case_one_in_flight():
    b = Broker("inflight")
    r = eddy("-b", b.addr, "topic", "create", "quiet", "-p", "1")
    check(r.returncode == 0, "create: %r" % r.stderr)
    served(b.port)
    # One connection pipelines 100 requests: a Fetch long-polling for 6 s on the empty
    # partition, a Produce that would wake it at once if it were taken beside it, then 98
    # Fetches past the end that each wait their 20 ms.
    long_ms, short_ms, nshort = 6000, 20, 98
    reqs = [fetch_wait(0, "quiet", 0, long_ms), produce(1, "quiet", b"wake")]
    reqs += [fetch_wait(2 + i, "quiet", 1, short_ms) for i in range(nshort)]
    s = connect(b.port)
    t0 = time.time()
    s.sendall(b"".join(reqs))
    # Nothing is read for a second; another connection is served at once meanwhile.
    time.sleep(0.5)
    t = time.time()
    served(b.port, timeout=2)
    other = time.time() - t
    # Blocked behind the long poll it would wait 5.5 s; half of that leaves room for a
    # loaded machine.
    check(other < 2.75, "a second connection waited %.2f s beside the pipelined one" % other)
    time.sleep(0.5)
    s.settimeout(20)
    answers = []
    for i in range(2 + nshort):
        size = struct.unpack(">i", recv_exact(s, 4))[0]
        body = recv_exact(s, size)
        answers.append((time.time() - t0, body))
        corr = struct.unpack(">i", body[:4])[0]
        check(corr == i, "answer %d came as %d" % (i, corr))
    s.close()
    err, hw, nrec = fetch_answer(answers[0][1])
    check(err == 0, "the long poll answered error %d" % err)
    check(nrec == 0 and hw == 0 and answers[0][0] >= long_ms / 1000.0 * 0.9,
          "the long poll was answered after %.2f s with %d record bytes (high watermark %d): "
          "the Produce behind it was taken while it waited" % (answers[0][0], nrec, hw))
    perr = struct.unpack(">h", answers[1][1][8 + 2 + len("quiet") + 4 + 4:][:2])[0]
    check(perr == 0, "the produce answered error %d" % perr)
    # The short polls waited one after another, not side by side.
    span = answers[-1][0] - answers[1][0]
    check(span >= nshort * short_ms / 1000.0 * 0.8,
          "%d fetches of %d ms each were answered within %.2f s: taken side by side" %
          (nshort, short_ms, span))
    for i in range(2, 2 + nshort):
        err, hw, nrec = fetch_answer(answers[i][1])
        check(err == 0 and hw == 1 and nrec == 0,
              "short poll %d: error %d, high watermark %d, %d bytes" % (i, err, hw, nrec))
    print("one_in_flight: long poll answered after %.2f s (empty), %d short polls over %.2f s, "
          "a second connection served in %.3f s" % (answers[0][0], nshort, span, other))
    served(b.port)


def case_fetch_flood():
    b = Broker("fetch", ["log.segment.bytes=16777216"])
    r = eddy("-b", b.addr, "topic", "create", "big", "-p", "1")
    check(r.returncode == 0, "create: %r" % r.stderr)
    lines = b"".join(b"%06d:%s\n" % (i, b"x" * 1000) for i in range(4000))
    r = eddy("-b", b.addr, "topic", "produce", "big", "-k", ":", stdin=lines)
    check(r.returncode == 0, "produce: %r" % r.stderr)
    base = b.rss_kb()
    s = connect(b.port, rcvbuf=65536)
    s.sendall(b"".join(fetch(i, "big", 8 << 20) for i in range(100)))
    peak = 0
    t0 = time.time()
    r = eddy("-b", b.addr, "topic", "consume", "big", "-e", "-n", "5", timeout=30)
    took = time.time() - t0
    check(r.returncode == 0, "consume beside the flood: %r" % r.stderr)
    check(took < 25, "consume beside the flood took %.1f s" % took)
    end = time.time() + 3
    while time.time() < end:
        peak = max(peak, b.rss_kb())
        time.sleep(0.1)
    check(b.alive(), "broker died")
    check(peak - base < 60 * 1024,
          "RSS grew from %d to %d kB with 100 unread ~4 MiB fetch responses" % (base, peak))
    # Once the client reads, every answer comes, in order, with the data.
    s.settimeout(20)
    for i in range(20):
        size = struct.unpack(">i", recv_exact(s, 4))[0]
        body = recv_exact(s, size)
        check(struct.unpack(">i", body[:4])[0] == i, "fetch answer %d out of order" % i)
        check(size > 4000 * 1000, "fetch answer %d has %d bytes" % (i, size))
    s.close()
    print("fetch_flood: RSS %d -> %d kB, consume %.2f s" % (base, peak, took))
    served(b.port)


def case_versions_flood():
    b = Broker("versions")
    served(b.port)
    base = b.rss_kb()
    s = connect(b.port, rcvbuf=4096)
    data = b"".join(api_versions(i) for i in range(400000))
    sent = send_until_stalled(s, data, stall=1.0, limit=20)
    peak = b.rss_kb()
    check(b.alive(), "broker died")
    check(peak - base < 30 * 1024,
          "RSS grew from %d to %d kB with %d unread ApiVersions requests" %
          (base, peak, sent // 21))
    print("versions_flood: %d of %d bytes taken, RSS %d -> %d kB" %
          (sent, len(data), base, peak))
    served(b.port)
    # Reading now: the rest goes in odd-sized pieces (frames split anywhere) and all 400,000
    # answers come back in order.
    got = [0, None]

    def reader():
        buf = b""
        try:
            while got[0] < 400000:
                chunk = s.recv(1 << 20)
                if not chunk:
                    got[1] = "closed after %d answers" % got[0]
                    return
                buf += chunk
                off = 0
                while len(buf) - off >= 8:
                    size = struct.unpack_from(">i", buf, off)[0]
                    if len(buf) - off < 4 + size:
                        break
                    corr = struct.unpack_from(">i", buf, off + 4)[0]
                    if corr != got[0]:
                        got[1] = "answer %d came as %d" % (got[0], corr)
                        return
                    got[0] += 1
                    off += 4 + size
                buf = buf[off:]
        except OSError as e:
            got[1] = "after %d answers: %s" % (got[0], e)

    s.settimeout(30)
    t = threading.Thread(target=reader)
    t.start()
    piece = 1
    while sent < len(data):
        s.sendall(data[sent:sent + piece])
        sent += min(piece, len(data) - sent)
        piece = piece * 7 % 65521 + 1
    t.join(60)
    check(not t.is_alive(), "answers stopped after %d" % got[0])
    check(got[1] is None and got[0] == 400000, "pipelined answers: %s" % got[1])
    s.close()


def case_stalled_frames():
    b = Broker("stalled", ["socket.request.max.bytes=8388608",
                           "queued.max.request.bytes=16777216",
                           "socket.request.timeout.ms=2000"])
    served(b.port)
    base = b.rss_kb()
    conns = []
    for _ in range(10):
        s = connect(b.port)
        data = struct.pack(">i", 8 << 20) + os.urandom(7 << 20) + b"\0" * (512 << 10)
        send_until_stalled(s, data, stall=0.3, limit=5)
        conns.append(s)
    peak = b.rss_kb()
    check(peak - base < 40 * 1024,
          "RSS grew from %d to %d kB with 10 stalled 8 MiB requests (pool 16 MiB)" %
          (base, peak))
    # Another client is still served (its small request waits for no one's memory once the
    # stalled frames time out).
    t0 = time.time()
    served(b.port, timeout=15)
    closed = [closed_by_peer(s, 12) for s in conns]
    check(all(closed), "%d of 10 stalled connections still open" % closed.count(False))
    check(re.search(r"did not arrive within socket\.request\.timeout\.ms", b.log_text()),
          "no log line for the timed-out requests")
    print("stalled_frames: RSS %d -> %d kB, another client served after %.1f s" %
          (base, peak, time.time() - t0))
    for s in conns:
        s.close()


def case_idle():
    b = Broker("idle", ["connections.max.idle.ms=2000"])
    s = connect(b.port)
    roundtrip(s)
    t0 = time.time()
    check(closed_by_peer(s, 8), "an idle connection stayed open 8 s (connections.max.idle.ms=2000)")
    took = time.time() - t0
    check(took >= 1.5, "closed after %.1f s, before connections.max.idle.ms" % took)
    # A connection that keeps talking is not idle.
    s2 = connect(b.port)
    for i in range(5):
        roundtrip(s2, i)
        time.sleep(0.8)
    roundtrip(s2, 99)
    s2.close()
    # A client that stops reading a large response is idle too, and its buffers go.
    fill_topic(b, "big", 8)
    s3 = connect(b.port, rcvbuf=16384)
    s3.sendall(fetch(1, "big", 8 << 20))
    size = struct.unpack(">i", recv_exact(s3, 4))[0]
    # The broker's FIN waits behind the data in the socket buffers: after the idle time,
    # reading gives what those buffers held and then the end, not the whole response.
    time.sleep(4.5)
    s3.settimeout(10)
    got = 0
    while got < size:
        try:
            chunk = s3.recv(1 << 20)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            break
        got += len(chunk)
    check(got < size, "a connection that did not read its %d-byte response for 4.5 s was not "
          "closed (connections.max.idle.ms=2000)" % size)
    s3.close()
    print("idle: closed after %.1f s; one not reading its response closed after %d of %d bytes"
          % (took, got, size))


def case_max_conns():
    b = Broker("maxconns", ["max.connections=4", "max.connections.per.ip=2"])
    ok = [connect(b.port, "127.0.0.1"), connect(b.port, "127.0.0.1")]
    for s in ok:
        roundtrip(s)
    refused = 0
    for _ in range(10):
        s = connect(b.port, "127.0.0.1")
        refused += closed_by_peer(s, 3)
        s.close()
    check(refused == 10, "only %d of 10 connections over max.connections.per.ip refused" % refused)
    ok += [connect(b.port, "127.0.0.2"), connect(b.port, "127.0.0.2")]
    for s in ok:
        roundtrip(s)
    s = connect(b.port, "127.0.0.3")
    check(closed_by_peer(s, 3), "a fifth connection over max.connections=4 was not refused")
    s.close()
    for i, s in enumerate(ok):
        roundtrip(s, 100 + i)
    lines = [l for l in b.log_text().splitlines() if "refusing connection" in l]
    check(len(lines) == 1, "expected one 'refusing connection' line, got %d: %r" %
          (len(lines), lines[:3]))
    check("max.connections.per.ip (2)" in lines[0], "log line: %s" % lines[0])
    for s in ok:
        s.close()
    # Closed connections free their places (once the broker has read the FINs).
    deadline = time.time() + 10
    while True:
        try:
            served(b.port)
            break
        except (OSError, Fail):
            check(time.time() < deadline, "no place freed 10 s after 4 connections closed")
            time.sleep(0.1)
    print("max_conns: %s" % lines[0].split("] ", 1)[-1])


def case_emfile():
    b = Broker("emfile", ["offsets.topic.num.partitions=1", "log.max.open.files=8"], nofile=40)
    keep = connect(b.port)
    roundtrip(keep)
    conns = []
    for _ in range(60):
        try:
            conns.append(connect(b.port))
        except OSError:
            pass
    deadline = time.time() + 5
    while time.time() < deadline and "open-file limit" not in b.log_text():
        time.sleep(0.1)
    text = b.log_text()
    lines = [l for l in text.splitlines() if "open-file limit" in l]
    check(lines, "no log line for the failed accepts under a 40-file limit")
    check(len(lines) == 1, "%d lines for the failed accepts, expected one" % len(lines))
    check("open" in lines[0].lower(), "log line does not name the cause: %s" % lines[0])
    check(b.alive(), "broker died under the open-file limit")
    roundtrip(keep, 8)
    for s in conns:
        s.close()
    deadline = time.time() + 5
    while True:
        try:
            served(b.port, timeout=2)
            break
        except (Fail, OSError):
            check(time.time() < deadline, "broker does not serve again after the clients left")
            time.sleep(0.2)
    keep.close()
    print("emfile: %s" % lines[0].split("] ", 1)[-1])


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def prlimit_nofile(pid, soft, hard):
    """Sets a running process's open-file limit (util-linux prlimit, as an operator would)."""
    r = subprocess.run(["prlimit", "--pid", str(pid), "--nofile=%d:%d" % (soft, hard)],
                       capture_output=True, timeout=10)
    check(r.returncode == 0, "prlimit --pid %d --nofile=%d:%d: %s" %
          (pid, soft, hard, r.stderr.decode()[-300:]))


def case_emfile_accept():
    # Started with 1024 files: the cap it computes leaves room for hundreds of connections, so
    # what refuses the clients below is accept(2) itself, not that cap.
    hard = 1024
    b = Broker("emfile_accept", ["offsets.topic.num.partitions=1", "log.max.open.files=8"],
               nofile=hard)
    keep = connect(b.port)
    roundtrip(keep)
    limit = open_fds(b.proc.pid) + 10
    prlimit_nofile(b.proc.pid, limit, hard)
    conns = []
    for _ in range(3 * limit):
        try:
            conns.append(connect(b.port))
        except OSError:
            pass
    # Connections past the limit are accepted by libuv's reserve descriptor and closed.
    resets = 0
    for s in conns:
        s.settimeout(2)
        try:
            roundtrip(s, 9)
        except (Fail, OSError):
            resets += 1
    line = b.wait_log(r"[^\n]*cannot accept a connection on listener [^\n]*", timeout=5).group(0)
    check(resets > 0, "all %d connections were served under a %d-file limit" % (len(conns), limit))
    text = b.new_log()
    check("refusing connection" not in text,
          "the start-time connection cap refused a client, not accept: %s" %
          [l for l in text.splitlines() if "refusing connection" in l][:1])
    lines = [l for l in text.splitlines() if "cannot accept a connection" in l]
    check(len(lines) == 1, "%d lines for %d failed accepts, expected one (rate limited): %r" %
          (len(lines), resets, lines[:3]))
    check(" ERROR " in line and "too many open files" in line.lower() and "ulimit -n" in line and
          re.search(r"\(([1-9][0-9]*) waiting client\(s\) closed\)", line),
          "the accept line does not name the cause and the fix: %s" % line)
    check(b.alive(), "broker died when accept failed with EMFILE")
    roundtrip(keep, 8)
    served_before = len(conns) - resets
    # Descriptors freed: accept works again under the same limit.
    for s in conns:
        s.close()
    wait_for("the descriptors of the closed clients were not freed (limit %d)" % limit,
             lambda: open_fds(b.proc.pid) < limit - 2, timeout=10)
    served(b.port)
    # The limit raised: more clients than the low limit allowed are all served at once.
    prlimit_nofile(b.proc.pid, hard, hard)
    conns = [connect(b.port) for _ in range(2 * limit)]
    for i, s in enumerate(conns):
        roundtrip(s, 200 + i)
    for s in conns:
        s.close()
    roundtrip(keep, 9)
    keep.close()
    print("emfile_accept: limit %d, %d served, %d reset; %s" %
          (limit, served_before, resets, line.split("] ", 1)[-1]))


def fill_topic(b, topic, mib):
    """Produces about mib MiB of distinct 1000-byte values to partition 0 of a new topic;
    returns the values in order."""
    r = eddy("-b", b.addr, "topic", "create", topic, "-p", "1")
    check(r.returncode == 0, "create: %r" % r.stderr)
    values = [b"%07d-%s" % (i, os.urandom(496).hex().encode()) for i in range(mib * 1024)]
    r = eddy("-b", b.addr, "topic", "produce", topic, stdin=b"\n".join(values) + b"\n",
             timeout=120)
    check(r.returncode == 0, "produce: %r" % r.stderr)
    return values


def segment_path(b, topic):
    return os.path.join(b.dir, "data", topic + "-0", "%020d.log" % 0)


def read_fetch_head(s):
    """Reads a Fetch v4 response up to its one partition's records; returns (records length,
    error code, total response size, bytes of it read so far)."""
    size = struct.unpack(">i", recv_exact(s, 4))[0]
    head = recv_exact(s, 4 + 4 + 4)  # correlation id, throttle, topics
    tlen = struct.unpack(">h", recv_exact(s, 2))[0]
    recv_exact(s, tlen + 4)  # name, partitions
    part, err, hw, lso, naborted = struct.unpack(">ihqqi", recv_exact(s, 4 + 2 + 8 + 8 + 4))
    if naborted > 0:
        recv_exact(s, 16 * naborted)
    rlen = struct.unpack(">i", recv_exact(s, 4))[0]
    got = len(head) + 2 + tlen + 4 + 26 + 16 * max(naborted, 0) + 4
    return rlen, err, size, got


BIG_FETCH = ["fetch.max.bytes=52428800"]


def case_fetch_unread():
    b = Broker("unread", BIG_FETCH)
    fill_topic(b, "big", 33)
    served(b.port)
    base = b.rss_kb()
    conns = []
    for i in range(30):
        s = connect(b.port, rcvbuf=65536)
        s.sendall(fetch(i, "big", 32 << 20))
        conns.append(s)
    # Each response has started (its first bytes are readable) before the memory is measured.
    deadline = time.time() + 20
    started = set()
    while len(started) < len(conns) and time.time() < deadline:
        _, _, _ = select.select([], [], [], 0.05)
        for i, s in enumerate(conns):
            if i not in started:
                try:
                    if s.recv(4, socket.MSG_PEEK | socket.MSG_DONTWAIT):
                        started.add(i)
                except BlockingIOError:
                    pass
    check(len(started) == len(conns), "only %d of %d fetches answered" %
          (len(started), len(conns)))
    peak = 0
    end = time.time() + 1.5
    while time.time() < end:
        peak = max(peak, b.rss_kb())
        time.sleep(0.05)
    check(b.alive(), "broker died")
    sizes = []
    for s in conns[:1]:
        s.settimeout(10)
        rlen, err, size, _ = read_fetch_head(s)
        check(err == 0 and rlen > 31 << 20, "fetch answer: error %d, %d bytes" % (err, rlen))
        sizes.append(size)
    total_kb = sizes[0] * len(conns) // 1024
    check(peak - base < 64 * 1024,
          "RSS grew from %d to %d kB with %d unread fetch responses of %d kB (%d kB in all)" %
          (base, peak, len(conns), sizes[0] // 1024, total_kb))
    served(b.port)
    for s in conns:
        s.close()
    print("fetch_unread: RSS %d -> %d kB with %d unread responses, %d kB in all" %
          (base, peak, len(conns), total_kb))


def case_fetch_slow():
    b = Broker("slow", BIG_FETCH)
    values = fill_topic(b, "big", 33)
    with open(segment_path(b, "big"), "rb") as f:
        disk = f.read()
    s = connect(b.port, rcvbuf=16384)
    s.settimeout(20)
    s.sendall(fetch(1, "big", 32 << 20))
    rlen, err, size, got = read_fetch_head(s)
    check(err == 0, "fetch error %d" % err)
    check(rlen > 31 << 20 and got + rlen == size,
          "records field of %d bytes in a response of %d" % (rlen, size))
    records = bytearray()
    n = 0
    while len(records) < rlen:
        chunk = s.recv(min(16384, rlen - len(records)))
        check(chunk, "connection closed after %d of %d record bytes" % (len(records), rlen))
        records += chunk
        n += 1
        if n % 512 == 0:
            time.sleep(0.2)  # the broker's socket fills and its writes wait
        if n == 256:
            # The topic goes while its records are being sent: the response still has them
            # (the segment stays open until written), and the broker stops cleanly after.
            r = eddy("-b", b.addr, "topic", "delete", "big")
            check(r.returncode == 0, "delete: %r" % r.stderr)
            check(not os.path.exists(segment_path(b, "big")), "the deleted segment is still there")
    check(bytes(records) == disk[:rlen], "the records differ from the segment file's bytes")
    got_values = batch_values(records)
    check(len(got_values) > 30000 and got_values == values[:len(got_values)],
          "the %d values fetched are not the first ones produced" % len(got_values))
    # The connection goes on: the next answer follows.
    roundtrip(s, 2)
    s.close()
    print("fetch_slow: %d record bytes, %d values, as produced" % (rlen, len(got_values)))


def case_fetch_cut():
    b = Broker("cut", BIG_FETCH)
    fill_topic(b, "big", 33)
    seg = segment_path(b, "big")
    with open(seg, "rb") as f:
        disk = f.read()
    s = connect(b.port, rcvbuf=16384)
    s.settimeout(20)
    s.sendall(fetch(1, "big", 32 << 20))
    rlen, err, size, got = read_fetch_head(s)
    check(err == 0 and rlen > 31 << 20, "fetch: error %d, %d bytes" % (err, rlen))
    records = bytearray(recv_exact(s, 1 << 20))
    os.truncate(seg, 100)
    closed = False
    while len(records) < rlen:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            closed = True
            break
        records += chunk
    check(closed, "the whole response came (%d bytes) from a segment cut to 100 bytes" % rlen)
    check(bytes(records) == disk[:len(records)],
          "bytes that are not the file's were sent after the cut")
    deadline = time.time() + 5
    line = None
    while line is None and time.time() < deadline:
        line = next((l for l in b.log_text().splitlines()
                     if "closing connection" in l and "big-0 from offset 0" in l), None)
        time.sleep(0.05)
    check(line and "ERROR" in line and "cut under the broker" in line,
          "no ERROR line naming the partition, offset and cause: %r" % line)
    b.exit_status = 1
    # The partition is offline now: a new Fetch says so.
    s2 = connect(b.port)
    s2.sendall(fetch(3, "big", 1 << 20))
    _, err, _, _ = read_fetch_head(s2)
    check(err == 56, "a fetch after the cut answered error %d, not KAFKA_STORAGE_ERROR" % err)
    s2.close()
    s.close()
    print("fetch_cut: closed after %d of %d record bytes; %s" %
          (len(records), rlen, line.split("] ", 1)[-1][:160]))


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def segment_fds(b):
    """How many of b's segment files b holds open."""
    n = 0
    fds = "/proc/%d/fd" % b.proc.pid
    for fd in os.listdir(fds):
        try:
            path = os.readlink(os.path.join(fds, fd))
        except OSError:
            continue  # closed meanwhile
        n += path.startswith(b.data + os.sep) and path.endswith(".log")
    return n


def wait_for_segment_fds(b, limit, timeout=10):
    """Polls until b holds at most limit segment files open; returns how many it holds."""
    deadline = time.time() + timeout
    while True:
        n = segment_fds(b)
        if n <= limit:
            return n
        check(time.time() < deadline,
              "the broker still holds %d segment files open %d s after the fetches ended "
              "(log.max.open.files=%d)" % (n, timeout, limit))
        time.sleep(0.1)


def case_emfile_partitions():
    # 300 partitions under a 64-file limit: segment files (16 cached), 29 idle connections,
    # and the flushes of the worker threads compete for descriptors.
    b = Broker("emfile_partitions", ["offsets.topic.num.partitions=1", "log.max.open.files=16",
                                     "log.flush.interval.ms=50"], nofile=64)
    r = subprocess.run([EDDY, "-b", b.addr, "topic", "create", "many", "-p", "300"],
                       capture_output=True, timeout=60)
    check(r.returncode == 0, "create: %s" % r.stderr.decode()[-500:])
    idle = []
    for _ in range(29):
        s = connect(b.port)
        roundtrip(s)
        idle.append(s)
    data = "".join("k%d:v%d\n" % (i, i) for i in range(30000)).encode()
    r = subprocess.run(["timeout", "60", "kcat", "-b", b.addr, "-P", "-t", "many", "-K:"],
                       input=data, capture_output=True)
    check(r.returncode == 0, "produce under the open-file limit: rc %d, %s" %
          (r.returncode, r.stderr.decode()[-500:]))
    text = b.log_text()
    offline = [l for l in text.splitlines() if "offline" in l and "ERROR" in l]
    check(not offline, "%d partition(s) taken offline for want of descriptors, e.g. %s" %
          (len(offline), offline[:1]))
    r = subprocess.run(["timeout", "60", "kcat", "-b", b.addr, "-C", "-t", "many", "-e", "-q"],
                       capture_output=True)
    got = r.stdout.count(b"\n")
    check(got == 30000, "consumed %d of 30000 records" % got)
    # The consumer's fetches held more segment files open than log.max.open.files (each stays
    # open while its bytes are sent); with the fetches done the broker is back within its
    # budget, or an idle broker at the limit could accept no one (the describe below).
    open_segments = wait_for_segment_fds(b, 16)
    r = subprocess.run([EDDY, "-b", b.addr, "topic", "describe", "many"], capture_output=True,
                       timeout=60)
    online = r.stdout.decode().count(" online")
    check(online == 300, "describe: %d of 300 partitions online" % online)
    shortage = [l for l in text.splitlines() if "Too many open files" in l]

    # More clients than descriptors: refused or reset, with a line that names the limit;
    # the broker neither exits nor spins, and the admitted clients are served.
    extra = []
    for _ in range(60):
        try:
            extra.append(connect(b.port))
        except OSError:
            pass
    deadline = time.time() + 5
    while time.time() < deadline and "open-file limit" not in b.log_text():
        time.sleep(0.1)
    check("open-file limit" in b.log_text(), "no log line for the connections beyond the limit")
    cpu0 = cpu_seconds(b.proc.pid)
    time.sleep(1.0)
    spent = cpu_seconds(b.proc.pid) - cpu0
    check(b.alive(), "broker died under the open-file limit")
    check(spent < 0.5, "broker used %.2f s of CPU in 1 s with nothing to do (spinning?)" % spent)
    for i, s in enumerate(idle[:5]):
        roundtrip(s, 100 + i)
    for s in extra + idle:
        s.close()
    deadline = time.time() + 10
    while True:
        try:
            served(b.port, timeout=2)
            break
        except (Fail, OSError):
            check(time.time() < deadline, "broker does not serve again after the clients left")
            time.sleep(0.2)
    print("emfile_partitions: %d segment files open after the consume; %d line(s) about "
          "descriptors running out during the produce%s" %
          (open_segments, len(shortage),
           (": " + shortage[0].split("] ", 1)[-1]) if shortage else ""))


def case_low_nofile_defaults():
    # ulimit -n 64 with the default log.max.open.files (512): the fd cache is cut to fit, with a
    # WARN, so that clients (several connections each) still work.
    b = Broker("low_nofile", ["offsets.topic.num.partitions=1"], nofile=64)
    conns = [connect(b.port) for _ in range(10)]
    for i, s in enumerate(conns):
        try:
            roundtrip(s, 10 + i)
        except (Fail, OSError) as e:
            raise Fail("connection %d of 10 not served under a 64-file limit (%s)" % (i + 1, e))
    check("keeping at most 24 segment files open" in b.log_text(),
          "no WARN about log.max.open.files under a 64-file limit: %s" % b.log_text()[-1000:])
    r = subprocess.run([EDDY, "-b", b.addr, "topic", "create", "t", "-p", "4"],
                       capture_output=True, timeout=60)
    check(r.returncode == 0, "create under a 64-file limit: %s" % r.stderr.decode()[-500:])
    for s in conns:
        s.close()


def case_stop_unread():
    b = Broker("stopunread", BIG_FETCH)
    fill_topic(b, "big", 9)
    s = connect(b.port, rcvbuf=65536)
    s.sendall(fetch(1, "big", 8 << 20))
    s.settimeout(10)
    check(len(s.recv(4, socket.MSG_PEEK)) == 4, "the fetch was not answered")
    # The client never reads the rest: SIGTERM must still end the broker, cleanly.
    t0 = time.time()
    b.proc.terminate()
    try:
        b.proc.wait(20)
    except subprocess.TimeoutExpired:
        pass
    took = time.time() - t0
    check(b.proc.poll() is not None, "broker still running 20 s after SIGTERM with an unread response")
    check(b.proc.returncode == b.exit_status, "broker exit status %d" % b.proc.returncode)
    check("whose responses were not read" in b.log_text(),
          "no line about the connection closed at stop: %s" % b.log_text()[-1000:])
    s.close()
    print("stop_unread: stopped %.1f s after SIGTERM with an unread 8 MiB response" % took)


CASES = {
    "one_in_flight": case_one_in_flight,
    "fetch_flood": case_fetch_flood,
    "versions_flood": case_versions_flood,
    "stalled_frames": case_stalled_frames,
    "idle": case_idle,
    "max_conns": case_max_conns,
    "emfile": case_emfile,
    "emfile_accept": case_emfile_accept,
    "fetch_unread": case_fetch_unread,
    "fetch_slow": case_fetch_slow,
    "fetch_cut": case_fetch_cut,
    "stop_unread": case_stop_unread,
    "emfile_partitions": case_emfile_partitions,
    "low_nofile_defaults": case_low_nofile_defaults,
}


if __name__ == "__main__":
    kwire.main("broker_limits", CASES)

#!/usr/bin/env python3
"""Compressed batches on a real `eddy broker`, with kcat (librdkafka) and raw sockets:

  codecs        kcat -z gzip|snappy|lz4|zstd: the segment files hold batches with that codec
                (librdkafka compresses only when the broker's Produce range reaches v0), and
                kcat -C reads every line back exactly
  convert       topics with compression.type=zstd / uncompressed take gzip / lz4 batches and
                store them recompressed with the topic's codec; read back exactly
  logappendtime message.timestamp.type=LogAppendTime stamps compressed batches (attribute,
                maxTimestamp, CRC that librdkafka checks)
  timeindex     ListOffsets by timestamp answers with the record inside a compressed batch
  compaction    a compacted topic fed with compressed batches: after the cleaner ran, no
                superseded record is left below the active segment, the latest value of every
                key is there, the batches are still compressed; a gzip batch holding a record
                without a key is refused (CORRUPT_MESSAGE) with nothing appended
  attacks       a gzip-flagged batch of random bytes claiming 2^31-1 records, a decompression
                bomb, a truncated compressed stream, a batch claiming more records than it holds:
                each refused (CORRUPT_MESSAGE, MESSAGE_TOO_LARGE for the bomb) with nothing
                appended and a log line, the broker's memory bounded, other clients served;
                Produce v2 answered UNSUPPORTED_VERSION, ApiVersions listing Produce 0-7

usage: broker_compression.py path/to/eddy [case ...]
"""
import gzip
import os
import random
import re
import time

import kwire
from kwire import Conn, check, kcat

EDDY, WORK = kwire.setup("eddy-broker-compression-")
CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
CORRUPT_MESSAGE, MESSAGE_TOO_LARGE, UNSUPPORTED_VERSION = 2, 10, 35


class Broker(kwire.Broker):
    # The attacks case bounds the broker's peak RSS: under ASan, a small quarantine.
    QUARANTINE_MB = 4

    def batches(self, topic, partition=0):
        """Every batch header in the partition's segment files, in offset order."""
        out = []
        for path in self.segments(topic, partition):
            with open(path, "rb") as f:
                for bh in kwire.batches_in(f.read()):
                    bh["file"] = path
                    out.append(bh)
        return out


def eddy(br, *args, stdin=None):
    r = kwire.eddy("-b", br.addr, *args, stdin=stdin)
    check(r.returncode == 0, "eddy %s: exit %d: %s" % (" ".join(args), r.returncode,
                                                        r.stderr.decode(errors="replace")))
    return r.stdout


def end_offset(br, topic, partition=0):
    out = kcat(br, "-Q", "-t", "%s:%d:-1" % (topic, partition)).decode()
    m = re.search(r"offset (-?\d+)", out)
    check(m, "kcat -Q: " + out)
    return int(m.group(1))


def text_lines(tag, n):
    # Compressible: librdkafka sends a batch uncompressed when compression does not pay.
    return [("%s line %05d the quick brown fox jumps over the lazy dog %s" % (tag, i, "abc" * 10))
            for i in range(n)]


# ---- raw protocol -----------------------------------------------------------

def record(delta, ts_delta, key, value):
    return kwire.record(value, key, offset_delta=delta, ts_delta=ts_delta)


def batch(records_bytes, codec, count, last_delta, base_ts=1000, max_ts=None):
    """A RecordBatch v2 around records_bytes (already compressed as codec says)."""
    return kwire.batch(records_bytes, count, attrs=codec, last_delta=last_delta, base_ts=base_ts,
                       max_ts=max_ts)


def conn(br):
    # The client id the broker's log lines must name.
    return Conn(br.port, timeout=30, client_id="attacker")


def produce_error(br, topic, records, version=3):
    """Sends Produce with one partition's records; returns its ErrorCode."""
    with conn(br) as c:
        return kwire.produce_result(c.call(0, version, kwire.produce_body(topic, 0, records)))[0]


# ---- cases ------------------------------------------------------------------

def case_codecs():
    br = Broker("codecs")
    for z in ("gzip", "snappy", "lz4", "zstd"):
        topic = "tz-" + z
        lines = text_lines(z, 3000)
        kcat(br, "-P", "-t", topic, "-z", z, "-X", "linger.ms=50",
             stdin=("\n".join(lines) + "\n").encode())
        bs = br.batches(topic)
        check(bs, "%s: no batch on disk" % z)
        codecs = sorted(set(b["codec"] for b in bs))
        check(codecs == [CODECS[z]], "%s: batches on disk have codecs %s, expected only %d "
              "(librdkafka did not compress)" % (z, codecs, CODECS[z]))
        got = kcat(br, "-C", "-t", topic, "-e", "-X", "check.crcs=true",
                   "-f", "%s\n").decode().splitlines()
        check(got == lines, "%s: read back %d lines, %d produced, first difference at %s" %
              (z, len(got), len(lines),
               next((i for i, (a, b) in enumerate(zip(got, lines)) if a != b), min(len(got), len(lines)))))
        print("  %s: %d batches, all codec %d, %d lines read back" % (z, len(bs), CODECS[z], len(got)))


def case_convert():
    br = Broker("convert")
    for topic, target, sent in (("to-zstd", "zstd", "gzip"), ("to-plain", "uncompressed", "lz4"),
                                ("to-gzip", "gzip", "none")):
        eddy(br, "topic", "create", topic, "-p", "1", "-c", "compression.type=" + target)
        lines = text_lines(topic, 2000)
        kcat(br, "-P", "-t", topic, "-z", sent, "-K", ":", "-X", "linger.ms=50",
             stdin=("\n".join("k%d:%s" % (i, l) for i, l in enumerate(lines)) + "\n").encode())
        bs = br.batches(topic)
        want = 0 if target == "uncompressed" else CODECS[target]
        codecs = sorted(set(b["codec"] for b in bs))
        check(codecs == [want], "%s: stored codecs %s, expected %d" % (topic, codecs, want))
        got = kcat(br, "-C", "-t", topic, "-e", "-X", "check.crcs=true",
                   "-f", "%o %k:%s\n").decode().splitlines()
        exp = ["%d k%d:%s" % (i, i, l) for i, l in enumerate(lines)]
        check(got == exp, "%s: records differ after recompression (%d read)" % (topic, len(got)))
        desc = eddy(br, "topic", "describe", topic).decode()
        check("compression.type" in desc and target in desc,
              "%s: describe does not show compression.type=%s: %s" % (topic, target, desc))
        print("  %s: %s batches stored as codec %d, %d records exact" % (topic, sent, want, len(got)))


def case_logappendtime():
    br = Broker("lat")
    eddy(br, "topic", "create", "lat", "-p", "1", "-c", "message.timestamp.type=LogAppendTime")
    before = int(time.time() * 1000)
    lines = text_lines("lat", 500)
    kcat(br, "-P", "-t", "lat", "-z", "lz4", stdin=("\n".join(lines) + "\n").encode())
    after = int(time.time() * 1000)
    bs = br.batches("lat")
    check(all(b["codec"] == 3 and b["attrs"] & 8 for b in bs),
          "batches not lz4 + LogAppendTime: %s" % [(b["codec"], b["attrs"]) for b in bs])
    check(all(before - 1000 <= b["max_ts"] <= after + 1000 for b in bs),
          "maxTimestamp not the append time: %s not in [%d, %d]" % ([b["max_ts"] for b in bs], before, after))
    got = kcat(br, "-C", "-t", "lat", "-e", "-X", "check.crcs=true", "-f", "%T %s\n").decode().splitlines()
    check(len(got) == len(lines), "read %d of %d" % (len(got), len(lines)))
    stamps = set(int(l.split(" ", 1)[0]) for l in got)
    check(stamps <= set(b["max_ts"] for b in bs), "record timestamps %s are not the batches' "
          "append times" % sorted(stamps)[:5])
    check([l.split(" ", 1)[1] for l in got] == lines, "values differ")
    print("  %d records in %d lz4 batches stamped with the append time" % (len(got), len(bs)))


def case_timeindex():
    br = Broker("timeindex")
    eddy(br, "topic", "create", "ts", "-p", "1")
    base = 1700000000000
    # Two gzip batches of 100 records each, timestamps base + 10*i.
    for b0 in (0, 100):
        recs = b"".join(record(i, 10 * (b0 + i), b"k", b"value %d" % (b0 + i)) for i in range(100))
        err = produce_error(br, "ts", batch(gzip.compress(recs), 1, 100, 99, base_ts=base,
                                            max_ts=base + 10 * (b0 + 99)))
        check(err == 0, "produce of a gzip batch: error %d" % err)
    for ts, want in ((base + 505, 51), (base + 10, 1), (base + 1500, 150), (base + 1990, 199)):
        out = kcat(br, "-Q", "-t", "ts:0:%d" % ts).decode()
        m = re.search(r"offset (-?\d+)", out)
        check(m and int(m.group(1)) == want,
              "ListOffsets at %d answered %s, expected offset %d" % (ts, out.strip(), want))
    print("  ListOffsets by timestamp lands on records inside gzip batches")


def case_compaction():
    br = Broker("compaction", ["log.cleaner.backoff.ms=200"])
    eddy(br, "topic", "create", "cc", "-p", "1", "-c", "cleanup.policy=compact",
         "-c", "segment.bytes=4096", "-c", "min.cleanable.dirty.ratio=0.01",
         "-c", "delete.retention.ms=600000")
    latest = {}
    sent = 0
    rng = random.Random(5)
    for rnd in range(6):
        lines = []
        # A random half of the keys each round, so that batches end up partly superseded.
        for k in rng.sample(range(200), 100):
            v = "round%d-key%03d-%016x-%s" % (rnd, k, rng.getrandbits(64), "payload " * 8)
            lines.append("key%03d:%s" % (k, v))
            latest["key%03d" % k] = v
        kcat(br, "-P", "-t", "cc", "-z", "gzip", "-K", ":", "-X", "linger.ms=20",
             "-X", "batch.num.messages=40", stdin=("\n".join(lines) + "\n").encode())
        sent += len(lines)
    check(all(b["codec"] == 1 for b in br.batches("cc")), "kcat did not compress")

    def model_ok():
        bs = br.batches("cc")
        if len(set(b["file"] for b in bs)) < 2:
            return None
        active_base = max(int(os.path.basename(f).split(".")[0]) for f in set(b["file"] for b in bs))
        got = kcat(br, "-C", "-t", "cc", "-e", "-f", "%o %k %s\n").decode().splitlines()
        recs = [l.split(" ", 2) for l in got]
        # Kafka's rule: the cleaner's map covers the log below the active segment, so
        # below it only the last record of each key (there) may remain.
        last_off = {}
        for o, k, v in recs:
            if int(o) < active_base:
                last_off[k] = int(o)
        stale = [(o, k) for o, k, v in recs if int(o) < active_base and last_off[k] != int(o)]
        final = {k: v for o, k, v in recs}
        return stale, final, len(recs), bs, active_base

    deadline = time.time() + 40
    while True:
        r = model_ok()
        # Done when nothing superseded is left below the active segment and the
        # cleaner has rewritten at least one compressed batch in part (under load
        # the first passes may only drop whole batches).
        if r and not r[0] and r[2] < sent and any(
                b["count"] < b["last"] - b["base"] + 1 for b in r[3]):
            break
        check(time.time() < deadline, "compaction did not remove superseded records from "
              "compressed batches: %s" % (("%d stale below offset %d, %d records" % (len(r[0]), r[4], r[2]))
                                           if r else "one segment"))
        time.sleep(0.3)
    stale, final, n, bs, active_base = r
    check(final == latest, "latest values differ from the model for %d keys" %
          sum(1 for k in latest if final.get(k) != latest[k]))
    check(all(b["codec"] == 1 for b in bs), "a rewritten batch lost its codec: %s" %
          sorted(set(b["codec"] for b in bs)))
    check(any(b["count"] < b["last"] - b["base"] + 1 for b in bs),
          "no compressed batch was rewritten with fewer records")
    print("  %d of %d records left, none superseded below offset %d, every batch still gzip" %
          (n, sent, active_base))
    # A compacted topic needs a key on every record; the check reads the records inside a
    # compressed batch too: refused (CORRUPT_MESSAGE), nothing appended, a line that says why.
    end = end_offset(br, "cc")
    recs = [record(i, i, None if i == 2 else b"k%d" % i, b"v") for i in range(4)]
    err = produce_error(br, "cc", batch(gzip.compress(b"".join(recs)), 1, 4, 3))
    check(err == 2, "a gzip batch with an unkeyed record on a compacted topic: error %d, "
          "want CORRUPT_MESSAGE (2)" % err)
    check(end_offset(br, "cc") == end, "the refused batch was appended")
    br.wait_log(r"refused \(CORRUPT_MESSAGE\): 1 of the batch's 4 records have no key")


def case_attacks():
    br = Broker("attacks")
    eddy(br, "topic", "create", "victim", "-p", "1")
    eddy(br, "topic", "produce", "victim", stdin=b"before\n")
    check(end_offset(br, "victim") == 1, "setup: end offset")
    rng = random.Random(14)

    # 1. The measured attack: 125 bytes, gzip-flagged random bytes claiming 2^31-1 records.
    junk = bytes(rng.getrandbits(8) for _ in range(125 - 61))
    a1 = batch(junk, 1, 2**31 - 1, 2**31 - 2)
    check(len(a1) == 125, "attack batch is %d bytes" % len(a1))
    # 2. A bomb: 512 MiB of zeros in gzip, about 500 KiB on the wire.
    z = gzip.compress(b"\0" * (512 << 20), compresslevel=9)
    a2 = batch(z, 1, 1, 0)
    # 3. A truncated stream: valid gzip of valid records, cut in the middle.
    recs = b"".join(record(i, i, b"k%d" % i, b"v" * 100) for i in range(50))
    good = gzip.compress(recs)
    a3 = batch(good[:len(good) // 2], 1, 50, 49)
    # 4. More records claimed than held: 50 records, recordCount 80.
    a4 = batch(good, 1, 80, 79)
    # 5. Fewer claimed than held.
    a5 = batch(good, 1, 20, 19)
    cases = (("random bytes claiming 2^31-1 records", a1, CORRUPT_MESSAGE),
             ("decompression bomb", a2, MESSAGE_TOO_LARGE),
             ("truncated gzip stream", a3, CORRUPT_MESSAGE),
             ("80 records claimed, 50 held", a4, CORRUPT_MESSAGE),
             ("20 records claimed, 50 held", a5, CORRUPT_MESSAGE))
    for name, b, want in cases:
        err = produce_error(br, "victim", b)
        check(err == want, "%s: error %d, expected %d" % (name, err, want))
        check(br.alive(), "%s: broker died" % name)
        check(end_offset(br, "victim") == 1, "%s: log end moved to %d" % (name, end_offset(br, "victim")))
        print("  %s: refused with %d, log end still 1" % (name, err))
    hwm = br.hwm_kb()
    check(hwm < 200 * 1024, "broker peak RSS %d KiB: the bomb was inflated past its bound" % hwm)
    log = br.log_text()
    check(re.search(r"produce to victim-0 from .*attacker.*CORRUPT_MESSAGE", log),
          "no log line naming the client, topic, partition and reason")
    check(re.search(r"refused \(MESSAGE_TOO_LARGE\): .*inflate past .*message.max.inflated.bytes", log),
          "no log line about the inflation bound")
    # The same good batch with the right count is accepted: the refusals were about the lies.
    check(produce_error(br, "victim", batch(good, 1, 50, 49)) == 0, "a valid gzip batch refused")
    check(end_offset(br, "victim") == 51, "valid batch: end offset")
    # Other clients were served throughout.
    kcat(br, "-P", "-t", "other", "-z", "snappy", stdin=b"a\nb\nc\n")
    check(kcat(br, "-C", "-t", "other", "-e", "-f", "%s\n") == b"a\nb\nc\n", "other topic")
    check(kcat(br, "-C", "-t", "victim", "-e", "-c", "1", "-f", "%s\n") == b"before\n", "victim")

    # Produce v0-2: advertised (for librdkafka's compression check), refused if sent.
    with conn(br) as c:
        r = c.call(18, 0, b"")
        check(r.i16() == 0, "ApiVersions v0 error")
        ranges = {}
        for _ in range(r.count()):
            key = r.i16()
            ranges[key] = (r.i16(), r.i16())
        check(ranges.get(0) == (0, 7),
              "ApiVersions lists Produce as %s, expected (0, 7)" % (ranges.get(0),))
        r = c.call(0, 2, kwire.produce_body("victim", 0, batch(good, 1, 50, 49), version=2))
        err = r.i16()
    check(err == UNSUPPORTED_VERSION, "Produce v2 answered %d" % err)
    check(end_offset(br, "victim") == 51, "Produce v2 appended")
    print("  ApiVersions: Produce 0-7; Produce v2 refused with UNSUPPORTED_VERSION; peak RSS %d MiB"
          % (hwm // 1024))


CASES = {"codecs": case_codecs, "convert": case_convert, "logappendtime": case_logappendtime,
         "timeindex": case_timeindex, "compaction": case_compaction, "attacks": case_attacks}


if __name__ == "__main__":
    kwire.main("broker_compression", CASES)

#!/usr/bin/env python3
"""Topic and broker configs on a real `eddy broker`, with crafted requests (and Kafka's own
kafka-configs tool when its jars are there):

  create_all      CreateTopics with every topic config name of Kafka 4.1 (non-default values):
                  created, and DescribeConfigs v4 returns each value with source
                  DYNAMIC_TOPIC_CONFIG and Kafka's type; an unknown name is INVALID_CONFIG naming
                  it; values Kafka's validators refuse are INVALID_CONFIG
  describe_v4     DescribeConfigs v4 (flexible): a fresh topic's values are the defaults (source
                  DEFAULT_CONFIG), retention.ms follows the broker's static log.retention.hours
                  (STATIC_BROKER_CONFIG, with its synonyms), documentation when asked; the
                  broker's settings carry read-only flags
  retention_live  IncrementalAlterConfigs v1 sets retention.ms on a topic with hour-old
                  segments: they are deleted without a restart; the value survives a restart
  incremental     DELETE falls back to the default, APPEND/SUBTRACT edit cleanup.policy,
                  validate_only changes nothing, bad values and APPEND to a non-list are refused
  alter_replaces  AlterConfigs (v0 and v2) replaces the whole set of a topic's configs
  compaction_lag  min.compaction.lag.ms keeps young records uncompacted while a topic without
                  it is compacted; lowered at runtime, the topic is compacted
  timestamps      message.timestamp.after.max.ms (Kafka's default, 1 h) refuses a record two
                  hours ahead with INVALID_TIMESTAMP and nothing appended; before.max.ms set on
                  a topic refuses an hour-old one until it is deleted at runtime; LogAppendTime
                  topics take any CreateTime
  max_lag         max.compaction.lag.ms: a compacted log whose new dirt is far below
                  min.cleanable.dirty.ratio is left alone, and cleaned once the lag is set
                  (at runtime) below the dirt's age
  broker_dynamic  dynamic broker settings: log.retention.ms on this node deletes old segments of
                  topics without their own value, message.max.bytes as the cluster default; both
                  shown with their sources and kept across a restart; read-only and unknown
                  settings are INVALID_REQUEST
  cli_alter       eddy topic alter -c / --delete-config, and eddy topic describe naming each
                  value's source (topic, dynamic broker setting, cluster-wide default)
  kafka_tool      Kafka 4.1's ConfigCommand (kafka-configs) --alter --add-config, --describe,
                  --delete-config on a topic and on the brokers' cluster-wide default (skipped
                  without tests/kafka/lib)

usage: broker_configs.py path/to/eddy [case ...]
"""
import glob
import os
import re
import shutil
import struct
import subprocess
import time

import kwire
from kwire import Broker, Conn, Enc, check, kcat, run, wait_for

EDDY, WORK = kwire.setup("eddy-broker-configs-")
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

NONE, UNKNOWN_TOPIC, INVALID_TIMESTAMP, INVALID_CONFIG, INVALID_REQUEST = 0, 3, 32, 40, 42
SRC_TOPIC, SRC_BROKER, SRC_DEFAULT_BROKER, SRC_STATIC, SRC_DEFAULT = 1, 2, 3, 4, 5
T_BOOLEAN, T_STRING, T_INT, T_LONG, T_DOUBLE, T_LIST = 1, 2, 3, 5, 6, 7
SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3
RES_TOPIC, RES_BROKER = 2, 4

# Kafka 4.1's topic configs (LogConfig, without the internal internal.segment.bytes): a valid
# value other than the default, and Kafka's type.
KAFKA_TOPIC_CONFIGS = {
    "cleanup.policy": ("compact,delete", T_LIST),
    "compression.gzip.level": ("5", T_INT),
    "compression.lz4.level": ("10", T_INT),
    "compression.type": ("zstd", T_STRING),
    "compression.zstd.level": ("7", T_INT),
    "delete.retention.ms": ("1000", T_LONG),
    "file.delete.delay.ms": ("1000", T_LONG),
    "flush.messages": ("100000", T_LONG),
    "flush.ms": ("100000", T_LONG),
    "follower.replication.throttled.replicas": ("0:0,1:0", T_LIST),
    "index.interval.bytes": ("8192", T_INT),
    "leader.replication.throttled.replicas": ("*", T_LIST),
    "local.retention.bytes": ("-1", T_LONG),
    "local.retention.ms": ("100000", T_LONG),
    "max.compaction.lag.ms": ("86400000", T_LONG),
    "max.message.bytes": ("2000000", T_INT),
    "message.timestamp.after.max.ms": ("7200000", T_LONG),
    "message.timestamp.before.max.ms": ("86400000", T_LONG),
    "message.timestamp.type": ("LogAppendTime", T_STRING),
    "min.cleanable.dirty.ratio": ("0.25", T_DOUBLE),
    "min.compaction.lag.ms": ("1000", T_LONG),
    "min.insync.replicas": ("2", T_INT),
    "preallocate": ("true", T_BOOLEAN),
    "remote.log.copy.disable": ("true", T_BOOLEAN),
    "remote.log.delete.on.disable": ("true", T_BOOLEAN),
    "remote.storage.enable": ("false", T_BOOLEAN),
    "retention.bytes": ("100000000", T_LONG),
    "retention.ms": ("86400000", T_LONG),
    "segment.bytes": ("104857600", T_INT),
    "segment.index.bytes": ("1048576", T_INT),
    "segment.jitter.ms": ("1000", T_LONG),
    "segment.ms": ("3600000", T_LONG),
    "unclean.leader.election.enable": ("true", T_BOOLEAN),
}


def call(br, api, version, body):
    """One request on a connection of its own; a Reader past the response header."""
    with Conn(br.port, timeout=30, client_id="configs-test") as c:
        return c.call(api, version, body)


def create_topic(br, name, configs, partitions=1):
    """CreateTopics v4; returns (error code, message)."""
    e = Enc(False)
    body = e.count(1) + e.str(name) + struct.pack(">ih", partitions, 1) + e.count(0)
    body += e.count(len(configs))
    for k, v in configs.items():
        body += e.str(k) + e.str(v)
    body += struct.pack(">ib", 30000, 0)
    d = call(br, 19, 4, body)
    d.i32()
    check(d.count() == 1, "CreateTopics: one result")
    d.str()
    return d.i16(), d.str()


def describe(br, rtype, name, keys=None, version=4, synonyms=True, docs=True):
    """DescribeConfigs; returns (error, message, {name: entry dict})."""
    flex = version >= 4
    e = Enc(flex)
    body = e.count(1) + struct.pack(">b", rtype) + e.str(name)
    if keys is None:
        body += e.count(-1)
    else:
        body += e.count(len(keys)) + b"".join(e.str(k) for k in keys)
    body += e.tags()
    if version >= 1:
        body += struct.pack(">b", 1 if synonyms else 0)
    if version >= 3:
        body += struct.pack(">b", 1 if docs else 0)
    body += e.tags()
    d = call(br, 32, version, body)
    d.i32()
    check(d.count() == 1, "DescribeConfigs: one result")
    err, msg = d.i16(), d.str()
    d.i8()
    d.str()
    out = {}
    for _ in range(d.count()):
        c = {"name": d.str(), "value": d.str(), "read_only": d.i8()}
        if version == 0:
            c["is_default"] = d.i8()
        else:
            c["source"] = d.i8()
        c["sensitive"] = d.i8()
        if version >= 1:
            c["synonyms"] = []
            for _ in range(d.count()):
                c["synonyms"].append((d.str(), d.str(), d.i8()))
                d.tags()
        if version >= 3:
            c["type"] = d.i8()
            c["doc"] = d.str()
        d.tags()
        out[c["name"]] = c
    d.tags()
    d.tags()
    return err, msg, out


def alter(br, rtype, name, configs, incremental=True, version=None, validate_only=False):
    """IncrementalAlterConfigs ([(name, op, value)]) or AlterConfigs ([(name, value)]);
    returns (error, message)."""
    api = 44 if incremental else 33
    if version is None:
        version = 1 if incremental else 2
    flex = kwire.flexible(api, version)
    e = Enc(flex)
    body = e.count(1) + struct.pack(">b", rtype) + e.str(name) + e.count(len(configs))
    for c in configs:
        if incremental:
            body += e.str(c[0]) + struct.pack(">b", c[1]) + e.str(c[2])
        else:
            body += e.str(c[0]) + e.str(c[1])
        body += e.tags()
    body += e.tags() + struct.pack(">b", 1 if validate_only else 0) + e.tags()
    d = call(br, api, version, body)
    d.i32()
    check(d.count() == 1, "AlterConfigs: one result")
    err, msg = d.i16(), d.str()
    return err, msg


def topic_value(br, topic, key):
    err, msg, cfgs = describe(br, RES_TOPIC, topic, [key])
    check(err == NONE and key in cfgs, "describe %s %s: %d %s" % (topic, key, err, msg))
    return cfgs[key]


# Records with old timestamps, uncompressed, written with crafted Produce v3.
def batch(values, ts):
    return kwire.values_batch(values, ts)


def batch2(recs):
    """One batch of (timestamp, value) records: each record's own timestamp."""
    base = recs[0][0]
    return kwire.batch([kwire.record(v, offset_delta=i, ts_delta=ts - base)
                        for i, (ts, v) in enumerate(recs)],
                       base_ts=base, max_ts=max(ts for ts, _ in recs))


def produce(br, topic, records, want=NONE):
    err = kwire.produce_result(call(br, 0, 3, kwire.produce_body(topic, 0, records)))[0]
    check(err == want, "produce to %s: error %d, want %d" % (topic, err, want))


def old_segments(br, topic, n=6):
    """n batches of ~600 bytes stamped an hour ago: with segment.bytes=1024, several segments."""
    ts = int(time.time() * 1000) - 3600 * 1000
    for i in range(n):
        produce(br, topic, batch([b"old record %d %s" % (i, b"x" * 500)], ts))
    check(len(br.segments(topic)) >= 3, "expected several segments: %s" % br.segments(topic))


# ---- cases ------------------------------------------------------------------

def case_create_all():
    br = Broker("create_all")
    err, msg = create_topic(br, "every", {k: v for k, (v, _) in KAFKA_TOPIC_CONFIGS.items()})
    check(err == NONE, "create with every Kafka topic config: %d %s" % (err, msg))
    err, msg, cfgs = describe(br, RES_TOPIC, "every")
    check(err == NONE, "describe: %d %s" % (err, msg))
    missing = sorted(set(KAFKA_TOPIC_CONFIGS) - set(cfgs))
    check(not missing, "DescribeConfigs lacks %s" % missing)
    for k, (v, t) in KAFKA_TOPIC_CONFIGS.items():
        c = cfgs[k]
        want = ",".join(sorted(v.split(","))) if t == T_LIST else v
        got = ",".join(sorted(c["value"].split(","))) if t == T_LIST else c["value"]
        check(got == want, "%s: value %r, set %r" % (k, c["value"], v))
        check(c["source"] == SRC_TOPIC, "%s: source %d, not DYNAMIC_TOPIC_CONFIG" % (k, c["source"]))
        check(c["type"] == t, "%s: type %d, Kafka's is %d" % (k, c["type"], t))
        check(not c["read_only"] and not c["sensitive"], "%s: read-only or sensitive" % k)
    err, msg = create_topic(br, "bad", {"retention.ms": "1000", "retention.msx": "5"})
    check(err == INVALID_CONFIG and "retention.msx" in (msg or ""),
          "unknown name: %d %r (want INVALID_CONFIG naming it)" % (err, msg))
    for k, v in (("min.insync.replicas", "0"), ("segment.jitter.ms", "-1"),
                 ("remote.storage.enable", "true"), ("message.timestamp.type", "Now"),
                 ("leader.replication.throttled.replicas", "0:"),
                 ("max.compaction.lag.ms", "0"), ("cleanup.policy", "compact,nothing")):
        err, msg = create_topic(br, "bad", {k: v})
        check(err == INVALID_CONFIG and k in (msg or ""), "%s=%s: %d %r" % (k, v, err, msg))
    r = run(EDDY, "-b", br.addr, "topic", "create", "cli", "-p", "1", "-c",
            "unclean.leader.election.enable=true", "-c", "min.insync.replicas=1",
            "-c", "file.delete.delay.ms=5")
    check(r.returncode == 0, "eddy topic create with Kafka names: %s" % r.stderr.decode())
    print("  %d Kafka topic configs accepted and described; unknown and invalid ones refused"
          % len(KAFKA_TOPIC_CONFIGS))


def case_describe_v4():
    br = Broker("describe_v4", ["log.retention.hours=100"])
    err, msg = create_topic(br, "fresh", {})
    check(err == NONE, "create: %d %s" % (err, msg))
    err, msg, cfgs = describe(br, RES_TOPIC, "fresh")
    check(err == NONE, "describe v4: %d %s" % (err, msg))
    for k in KAFKA_TOPIC_CONFIGS:
        if k == "retention.ms":
            continue
        check(cfgs[k]["source"] == SRC_DEFAULT, "%s: source %d on a fresh topic" %
              (k, cfgs[k]["source"]))
    check(cfgs["segment.ms"]["value"] == "604800000" and cfgs["min.insync.replicas"]["value"] == "1"
          and cfgs["max.compaction.lag.ms"]["value"] == "9223372036854775807",
          "defaults: %s" % {k: cfgs[k]["value"] for k in ("segment.ms", "min.insync.replicas")})
    r = cfgs["retention.ms"]
    check(r["value"] == str(100 * 3600000) and r["source"] == SRC_STATIC,
          "retention.ms under log.retention.hours=100: %s" % r)
    check(("log.retention.hours", "100", SRC_STATIC) in r["synonyms"],
          "retention.ms synonyms: %s" % r["synonyms"])
    check(r["doc"], "no documentation for retention.ms")
    _, _, nodoc = describe(br, RES_TOPIC, "fresh", ["retention.ms"], synonyms=False, docs=False)
    check(nodoc["retention.ms"]["doc"] is None and not nodoc["retention.ms"]["synonyms"],
          "documentation or synonyms sent unasked: %s" % nodoc)
    for v in (1, 2, 3):
        err, _, c = describe(br, RES_TOPIC, "fresh", ["retention.ms"], version=v)
        check(err == NONE and c["retention.ms"]["source"] == SRC_STATIC, "v%d: %s" % (v, c))
    err, msg, b = describe(br, RES_BROKER, "0", ["log.dirs", "log.retention.ms", "log.retention.hours"])
    check(err == NONE, "describe broker: %d %s" % (err, msg))
    check(b["log.dirs"]["read_only"] == 1 and b["log.retention.ms"]["read_only"] == 0,
          "read-only flags: %s" % b)
    check(b["log.retention.hours"]["source"] == SRC_STATIC and b["log.retention.hours"]["value"] == "100",
          "log.retention.hours: %s" % b["log.retention.hours"])
    err, msg, _ = describe(br, RES_TOPIC, "nope")
    check(err == UNKNOWN_TOPIC, "describe of a missing topic: %d" % err)
    print("  defaults, static broker source with synonyms, docs, read-only flags (v1-v4)")


def case_retention_live():
    br = Broker("retention_live", ["log.retention.check.interval.ms=300"])
    err, msg = create_topic(br, "r", {"segment.bytes": "1024"})
    check(err == NONE, "create: %d %s" % (err, msg))
    old_segments(br, "r")
    n = len(br.segments("r"))
    time.sleep(1)
    check(len(br.segments("r")) == n, "segments deleted before retention.ms changed")
    err, msg = alter(br, RES_TOPIC, "r", [("retention.ms", SET, "60000")])
    check(err == NONE, "IncrementalAlterConfigs retention.ms: %d %s" % (err, msg))
    wait_for("hour-old segments not deleted after retention.ms=60000 (%d left)" %
             len(br.segments("r")), lambda: len(br.segments("r")) == 1)
    br.restart()
    c = topic_value(br, "r", "retention.ms")
    check(c["value"] == "60000" and c["source"] == SRC_TOPIC, "after restart: %s" % c)
    old_segments(br, "r")
    wait_for("after the restart, old segments are not deleted",
             lambda: len(br.segments("r")) == 1)
    print("  %d hour-old segments deleted at runtime; retention.ms=60000 kept across a restart" % (n - 1))


def case_incremental():
    br = Broker("incremental")
    err, msg = create_topic(br, "i", {"retention.ms": "1000", "segment.ms": "5000"})
    check(err == NONE, "create: %d %s" % (err, msg))
    err, msg = alter(br, RES_TOPIC, "i", [("retention.ms", DELETE, None)])
    check(err == NONE, "DELETE: %d %s" % (err, msg))
    c = topic_value(br, "i", "retention.ms")
    check(c["value"] == "604800000" and c["source"] == SRC_DEFAULT, "after DELETE: %s" % c)
    check(topic_value(br, "i", "segment.ms")["value"] == "5000", "DELETE of one key touched another")
    err, msg = alter(br, RES_TOPIC, "i", [("cleanup.policy", APPEND, "compact")])
    check(err == NONE, "APPEND: %d %s" % (err, msg))
    v = topic_value(br, "i", "cleanup.policy")["value"]
    check(sorted(v.split(",")) == ["compact", "delete"], "after APPEND compact: %r" % v)
    err, msg = alter(br, RES_TOPIC, "i", [("cleanup.policy", SUBTRACT, "delete")])
    check(err == NONE and topic_value(br, "i", "cleanup.policy")["value"] == "compact",
          "after SUBTRACT delete: %d %s" % (err, msg))
    err, msg = alter(br, RES_TOPIC, "i", [("retention.ms", SET, "5")], validate_only=True)
    check(err == NONE, "validate_only: %d %s" % (err, msg))
    check(topic_value(br, "i", "retention.ms")["value"] == "604800000", "validate_only changed it")
    for cfg, code in ((("retention.ms", SET, "abc"), INVALID_CONFIG),
                      (("retention.ms", APPEND, "5"), INVALID_CONFIG),
                      (("no.such.config", SET, "1"), INVALID_CONFIG),
                      (("retention.ms", 9, "1"), INVALID_REQUEST)):
        err, msg = alter(br, RES_TOPIC, "i", [cfg])
        check(err == code and cfg[0] in (msg or ""), "%s: %d %r, want %d" % (cfg, err, msg, code))
    check(topic_value(br, "i", "retention.ms")["value"] == "604800000", "a refused alter changed it")
    err, _ = alter(br, RES_TOPIC, "missing", [("retention.ms", SET, "5")])
    check(err == UNKNOWN_TOPIC, "alter of a missing topic: %d" % err)
    br.restart()
    check(topic_value(br, "i", "cleanup.policy")["value"] == "compact" and
          topic_value(br, "i", "retention.ms")["source"] == SRC_DEFAULT, "not kept across a restart")
    print("  DELETE, APPEND, SUBTRACT, validate_only, refusals; kept across a restart")


def case_alter_replaces():
    br = Broker("alter_replaces")
    for version in (0, 2):
        t = "a%d" % version
        err, msg = create_topic(br, t, {"retention.ms": "1000", "segment.ms": "5000"})
        check(err == NONE, "create: %d %s" % (err, msg))
        err, msg = alter(br, RES_TOPIC, t, [("max.message.bytes", "5000")], incremental=False,
                         version=version)
        check(err == NONE, "AlterConfigs v%d: %d %s" % (version, err, msg))
        _, _, cfgs = describe(br, RES_TOPIC, t)
        own = {k: c["value"] for k, c in cfgs.items() if c["source"] == SRC_TOPIC}
        check(own == {"max.message.bytes": "5000"}, "v%d: topic configs after AlterConfigs: %s" %
              (version, own))
        err, msg = alter(br, RES_TOPIC, t, [("retention.ms", None)], incremental=False,
                         version=version)
        check(err == INVALID_REQUEST, "null value: %d %s" % (err, msg))
    print("  AlterConfigs v0 and v2 replace the set")


def keyed(br, topic, rounds, keys):
    lines = []
    for r in range(rounds):
        for k in range(keys):
            lines.append("k%02d:round%d-%s" % (k, r, "v" * 100))
    kcat(br, "-P", "-t", topic, "-K", ":", "-X", "linger.ms=5", "-X", "batch.num.messages=5",
         stdin=("\n".join(lines) + "\n").encode())
    return len(lines)


def count(br, topic):
    return len(kcat(br, "-C", "-t", topic, "-e", "-f", "%o\n").decode().split())


def case_compaction_lag():
    br = Broker("compaction_lag", ["log.cleaner.backoff.ms=200"])
    common = {"cleanup.policy": "compact", "segment.bytes": "2048",
              "min.cleanable.dirty.ratio": "0.01"}
    err, msg = create_topic(br, "lag", dict(common, **{"min.compaction.lag.ms": "3600000"}))
    check(err == NONE, "create: %d %s" % (err, msg))
    err, msg = create_topic(br, "nolag", common)
    check(err == NONE, "create: %d %s" % (err, msg))
    sent = keyed(br, "lag", 6, 10)
    keyed(br, "nolag", 6, 10)
    wait_for("the topic without min.compaction.lag.ms was not compacted",
             lambda: count(br, "nolag") < sent, timeout=30)
    time.sleep(1.5)  # several more cleaner passes
    check(count(br, "lag") == sent, "records younger than min.compaction.lag.ms were compacted "
          "(%d of %d left)" % (count(br, "lag"), sent))
    err, msg = alter(br, RES_TOPIC, "lag", [("min.compaction.lag.ms", SET, "0")])
    check(err == NONE, "alter: %d %s" % (err, msg))
    wait_for("min.compaction.lag.ms=0 at runtime: still not compacted",
             lambda: count(br, "lag") < sent, timeout=30)
    print("  %d young records kept under the lag, compacted once it was lowered" % sent)


def end_offset(br, topic):
    out = kcat(br, "-Q", "-t", "%s:0:-1" % topic).decode()
    m = re.search(r"offset (-?\d+)", out)
    check(m, "kcat -Q: " + out)
    return int(m.group(1))


def case_timestamps():
    br = Broker("timestamps")
    for t, cfg in (("ts", {}), ("ts-before", {"message.timestamp.before.max.ms": "60000"}),
                   ("ts-lat", {"message.timestamp.type": "LogAppendTime"})):
        err, msg = create_topic(br, t, cfg)
        check(err == NONE, "create %s: %d %s" % (t, err, msg))
    now = int(time.time() * 1000)
    hour = 3600 * 1000
    # Two records: the second one two hours ahead makes the whole batch fail.
    produce(br, "ts", batch2([(now, b"now"), (now + 2 * hour, b"ahead")]), want=INVALID_TIMESTAMP)
    check(end_offset(br, "ts") == 0, "a refused batch was appended")
    check("INVALID_TIMESTAMP" in br.log_text() and "message.timestamp.after.max.ms" in br.log_text(),
          "no log line naming the setting")
    produce(br, "ts", batch2([(now, b"now"), (now + hour // 2, b"half an hour ahead"),
                              (now - 30 * 86400 * 1000, b"a month ago")]))
    produce(br, "ts-before", batch2([(now - hour, b"an hour ago")]), want=INVALID_TIMESTAMP)
    produce(br, "ts-before", batch2([(now - 1000, b"a second ago")]))
    err, msg = alter(br, RES_TOPIC, "ts-before", [("message.timestamp.before.max.ms", DELETE, None)])
    check(err == NONE, "alter: %d %s" % (err, msg))
    produce(br, "ts-before", batch2([(now - hour, b"an hour ago")]))
    produce(br, "ts-lat", batch2([(now + 5 * hour, b"any CreateTime")]))
    check(end_offset(br, "ts") == 3 and end_offset(br, "ts-before") == 2 and
          end_offset(br, "ts-lat") == 1, "end offsets")
    print("  out-of-range CreateTimes refused per topic setting, in range accepted")


def case_max_lag():
    br = Broker("max_lag", ["log.cleaner.backoff.ms=200"])
    err, msg = create_topic(br, "mx", {"cleanup.policy": "compact", "segment.bytes": "2048",
                                       "min.cleanable.dirty.ratio": "0.9"})
    check(err == NONE, "create: %d %s" % (err, msg))

    def put(keys, tag):
        kcat(br, "-P", "-t", "mx", "-K", ":", "-X", "linger.ms=5", "-X", "batch.num.messages=5",
             stdin=("\n".join("k%03d:%s-%s" % (k, tag, "v" * 100) for k in keys) + "\n").encode())

    def passes():
        return len(re.findall(r"mx-0: compacted", br.log_text()))
    put(range(300), "first")
    wait_for("the first compaction (all dirty) did not run", lambda: passes() >= 1, timeout=30)
    time.sleep(0.5)
    before = passes()
    put(range(20), "second")       # supersedes k000-k019
    put(range(300, 340), "third")  # new keys: roll the segment past the second round
    time.sleep(2)
    check(passes() == before and count(br, "mx") == 360,
          "compacted although the dirty ratio is far below 0.9 (%d passes, %d records)" %
          (passes() - before, count(br, "mx")))
    err, msg = alter(br, RES_TOPIC, "mx", [("max.compaction.lag.ms", SET, "1")])
    check(err == NONE, "alter: %d %s" % (err, msg))
    wait_for("max.compaction.lag.ms=1 did not make the log cleanable (%d records)" % count(br, "mx"),
             lambda: count(br, "mx") == 340, timeout=30)
    print("  dirt below the ratio kept; cleaned once max.compaction.lag.ms was set at runtime")


def case_broker_dynamic():
    br = Broker("broker_dynamic", ["log.retention.check.interval.ms=300"])
    err, msg = create_topic(br, "d", {"segment.bytes": "1024"})
    check(err == NONE, "create: %d %s" % (err, msg))
    err, msg = create_topic(br, "own", {"segment.bytes": "1024", "retention.ms": "-1"})
    check(err == NONE, "create: %d %s" % (err, msg))
    old_segments(br, "d")
    old_segments(br, "own")
    own_n = len(br.segments("own"))
    err, msg = alter(br, RES_BROKER, "0", [("log.retention.ms", SET, "60000")])
    check(err == NONE, "broker log.retention.ms: %d %s" % (err, msg))
    wait_for("dynamic log.retention.ms did not delete old segments",
             lambda: len(br.segments("d")) == 1)
    check(len(br.segments("own")) == own_n, "a topic with its own retention.ms lost segments")
    c = topic_value(br, "d", "retention.ms")
    check(c["value"] == "60000" and c["source"] == SRC_BROKER, "topic retention.ms: %s" % c)
    err, msg = alter(br, RES_BROKER, "", [("message.max.bytes", SET, "2000000")])
    check(err == NONE, "cluster default message.max.bytes: %d %s" % (err, msg))
    for name, code, frag in (("log.dirs", INVALID_REQUEST, "log.dirs"),
                             ("no.such.setting", INVALID_REQUEST, "no.such.setting")):
        err, msg = alter(br, RES_BROKER, "0", [(name, SET, "1")])
        check(err == code and frag in (msg or ""), "%s: %d %r" % (name, err, msg))
    err, msg = alter(br, RES_BROKER, "0", [("message.max.bytes", SET, "-5")])
    check(err == INVALID_CONFIG, "message.max.bytes=-5: %d %r" % (err, msg))
    err, msg = alter(br, RES_BROKER, "7", [("message.max.bytes", SET, "5")])
    check(err == INVALID_REQUEST, "another node's id: %d %r" % (err, msg))
    br.restart()
    _, _, b = describe(br, RES_BROKER, "0", ["log.retention.ms", "message.max.bytes"])
    check(b["log.retention.ms"]["value"] == "60000" and b["log.retention.ms"]["source"] == SRC_BROKER,
          "log.retention.ms after restart: %s" % b["log.retention.ms"])
    check(b["message.max.bytes"]["value"] == "2000000" and
          b["message.max.bytes"]["source"] == SRC_DEFAULT_BROKER,
          "message.max.bytes after restart: %s" % b["message.max.bytes"])
    _, _, dflt = describe(br, RES_BROKER, "")
    check(list(dflt) == ["message.max.bytes"], "cluster defaults listed: %s" % list(dflt))
    c = topic_value(br, "d", "max.message.bytes")
    check(c["value"] == "2000000" and c["source"] == SRC_DEFAULT_BROKER, "topic: %s" % c)
    err, msg = alter(br, RES_BROKER, "0", [("log.retention.ms", DELETE, None)])
    check(err == NONE and topic_value(br, "d", "retention.ms")["value"] == "604800000",
          "DELETE of the dynamic setting: %d %s" % (err, msg))
    print("  dynamic log.retention.ms deleted old segments; message.max.bytes default; kept "
          "across a restart; read-only and unknown refused")


def case_cli_alter():
    br = Broker("cli_alter")
    err, msg = create_topic(br, "c", {})
    check(err == NONE, "create: %d %s" % (err, msg))

    def eddy(*args):
        return run(EDDY, "-b", br.addr, *args)
    r = eddy("topic", "alter", "c", "-c", "retention.ms=1000", "-c", "min.insync.replicas=2")
    check(r.returncode == 0, "eddy topic alter: %s" % r.stderr.decode())
    check(topic_value(br, "c", "retention.ms")["value"] == "1000" and
          topic_value(br, "c", "min.insync.replicas")["value"] == "2", "alter did not set them")
    r = eddy("topic", "alter", "c", "--delete-config", "retention.ms")
    check(r.returncode == 0, "eddy topic alter --delete-config: %s" % r.stderr.decode())
    check(topic_value(br, "c", "retention.ms")["source"] == SRC_DEFAULT, "not deleted")
    r = eddy("topic", "alter", "c", "-c", "retention.msx=5")
    check(r.returncode != 0 and b"retention.msx" in r.stderr and b"INVALID_CONFIG" in r.stderr,
          "unknown name: exit %d, %s" % (r.returncode, r.stderr.decode()))
    err, msg = alter(br, RES_BROKER, "0", [("log.retention.bytes", SET, "123456789")])
    check(err == NONE, "broker alter: %d %s" % (err, msg))
    err, msg = alter(br, RES_BROKER, "", [("log.cleaner.delete.retention.ms", SET, "4242")])
    check(err == NONE, "broker alter: %d %s" % (err, msg))
    out = eddy("topic", "describe", "c").stdout.decode()
    for frag in (r"min\.insync\.replicas\s+2\s+\(set on the topic\)",
                 r"retention\.bytes\s+123456789\s+\(dynamic broker setting\)",
                 r"delete\.retention\.ms\s+4242\s+\(dynamic cluster-wide broker default\)"):
        check(re.search(frag, out), "eddy topic describe lacks /%s/: %s" % (frag, out))
    print("  eddy topic alter sets and deletes; describe names the sources")


def case_kafka_tool():
    lib = os.path.join(ROOT, "tests", "kafka", "lib")
    if not glob.glob(os.path.join(lib, "kafka-tools-*.jar")) or not shutil.which("java"):
        print("  skipped: no Kafka jars in %s (scripts/kafka.sh fetch)" % lib)
        return
    br = Broker("kafka_tool")
    err, msg = create_topic(br, "kt", {})
    check(err == NONE, "create: %d %s" % (err, msg))
    env = dict(os.environ, KAFKA_HEAP="256m")
    base = [os.path.join(ROOT, "scripts", "kafka.sh"), "class", "kafka.admin.ConfigCommand",
            "--bootstrap-server", br.addr]
    tool = base + ["--entity-type", "topics", "--entity-name", "kt"]

    def cfgcmd(*args, entity=None):
        r = subprocess.run((entity or tool) + list(args), capture_output=True, env=env,
                           timeout=120)
        out = r.stdout.decode(errors="replace")
        check(r.returncode == 0, "kafka-configs %s: exit %d: %s %s" % (
            " ".join(args), r.returncode, out[-1000:], r.stderr.decode(errors="replace")[-1500:]))
        return out
    out = cfgcmd("--alter", "--add-config", "retention.ms=1000,cleanup.policy=[delete,compact]")
    check("Completed updating config for topic kt" in out, "alter output: %s" % out)
    c = topic_value(br, "kt", "retention.ms")
    check(c["value"] == "1000", "retention.ms after kafka-configs: %s" % c)
    out = cfgcmd("--describe")
    check(re.search(r"retention\.ms=1000 sensitive=false synonyms=\{DYNAMIC_TOPIC_CONFIG:"
                    r"retention\.ms=1000", out) and "cleanup.policy=delete,compact" in out,
          "describe output: %s" % out)
    cfgcmd("--alter", "--delete-config", "retention.ms")
    out = cfgcmd("--describe")
    check("retention.ms" not in out and "cleanup.policy" in out, "after --delete-config: %s" % out)
    brokers = base + ["--entity-type", "brokers", "--entity-default"]
    out = cfgcmd("--alter", "--add-config", "log.retention.bytes=987654321", entity=brokers)
    check("Completed updating default config for brokers" in out, "broker alter: %s" % out)
    out = cfgcmd("--describe", entity=brokers)
    check("log.retention.bytes=987654321" in out and "DYNAMIC_DEFAULT_BROKER_CONFIG" in out,
          "broker default describe: %s" % out)
    c = topic_value(br, "kt", "retention.bytes")
    check(c["value"] == "987654321" and c["source"] == SRC_DEFAULT_BROKER, "topic: %s" % c)
    print("  kafka-configs --alter/--describe/--delete-config on a topic, --entity-default on brokers")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


if __name__ == "__main__":
    kwire.main("broker_configs", CASES)

"""SASL on Eddy's broker, as a user meets it: one broker with a PLAINTEXT and a SASL_PLAINTEXT
listener; users added with `eddy user add` and with Kafka's own kafka-configs tool log in with
kcat (librdkafka) and kafkajs over PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512, produce and consume.
Wrong passwords and unknown users are refused with SASL_AUTHENTICATION_FAILED, after the failed-
login delay, with a log line naming the peer and the user, and the broker goes on serving others.
Before its login a connection is served nothing but ApiVersions, SaslHandshake and
SaslAuthenticate: a Metadata request or a 2 GB frame closes it, and the 2 GB allocates nothing.
Credentials survive a restart, and the file that keeps them holds no password.

usage: broker_sasl.py path/to/eddy [case ...]
"""
import os
import re
import socket
import stat
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kwire  # noqa: E402
from kwire import Broker, Conn, check, s16, wait_for  # noqa: E402

EDDY, WORK = kwire.setup("eddy-broker-sasl-")
SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KAFKA_SH = os.path.join(SRC, "scripts", "kafka.sh")
NODE_MODULES = os.path.join(SRC, "tests", "compat", "node_modules")
KAFKAJS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "broker_sasl_kafkajs.js")
MECHS = "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"
SASL_LINE = re.compile(r"listener SASL_PLAINTEXT \(SASL_PLAINTEXT\) on 127\.0\.0\.1:(\d+)")


class SaslBroker(Broker):
    """PLAINTEXT first (kwire's port), SASL_PLAINTEXT second (sasl_port)."""

    def __init__(self, name, settings=(), **kw):
        base = ["listeners=PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
                "sasl.enabled.mechanisms=" + MECHS, "num.partitions=1"]
        super().__init__(name, base + list(settings), listen=None, **kw)

    def start(self):
        super().start()
        m = wait_for("the SASL_PLAINTEXT listener's log line",
                     lambda: SASL_LINE.search(self.new_log()), 10, 0.05)
        self.sasl_port = int(m.group(1))
        self.sasl_addr = "127.0.0.1:%d" % self.sasl_port


def eddy_ok(br, *args, stdin=None):
    r = kwire.eddy("-b", br.addr, *args, stdin=stdin)
    check(r.returncode == 0, "eddy %s: exit %d: %s" % (" ".join(args), r.returncode,
                                                        r.stderr.decode(errors="replace")))
    return r.stdout.decode()


def sasl_kcat(br, mech, user, password, *args, stdin=None, timeout=60):
    """kcat on the SASL listener: the CompletedProcess (not checked)."""
    return kwire.run("kcat", "-b", br.sasl_addr, "-X", "security.protocol=SASL_PLAINTEXT",
                     "-X", "sasl.mechanisms=" + mech, "-X", "sasl.username=" + user,
                     "-X", "sasl.password=" + password, *args, stdin=stdin, timeout=timeout)


def kcat_ok(br, mech, user, password, *args, stdin=None):
    r = sasl_kcat(br, mech, user, password, *args, stdin=stdin)
    check(r.returncode == 0, "kcat %s as %s %s: exit %d: %s" % (
        mech, user, " ".join(args), r.returncode, r.stderr.decode(errors="replace")[-1500:]))
    return r.stdout.decode()


def kafka_configs(br, *args, bootstrap=None):
    env = dict(os.environ, KAFKA_HEAP_OPTS="-Xmx256m")
    r = subprocess.run([KAFKA_SH, "class", "kafka.admin.ConfigCommand", "--bootstrap-server",
                        bootstrap or br.addr] + list(args), capture_output=True, timeout=120,
                       env=env)
    out = r.stdout.decode(errors="replace")
    check(r.returncode == 0, "kafka-configs %s: exit %d: %s %s" % (
        " ".join(args), r.returncode, out[-1500:], r.stderr.decode(errors="replace")[-1500:]))
    return out


def add_users(br):
    eddy_ok(br, "user", "add", "alice", "--mechanism", "SCRAM-SHA-256", "--password",
            "alice-secret")
    eddy_ok(br, "user", "add", "bob", "--mechanism", "SCRAM-SHA-512", "--iterations", "8192",
            "--password-stdin", stdin=b"bob-secret\n")
    out = kafka_configs(br, "--alter", "--add-config",
                        "SCRAM-SHA-256=[iterations=8192,password=carol-secret]",
                        "--entity-type", "users", "--entity-name", "carol")
    check("Completed updating config for user carol" in out, "kafka-configs --alter: " + out)


def case_logins():
    br = SaslBroker("logins")
    add_users(br)
    # Both tools see the three users, with their mechanisms and iteration counts.
    listing = eddy_ok(br, "user", "list")
    for row in (r"alice\s+SCRAM-SHA-256\s+4096", r"bob\s+SCRAM-SHA-512\s+8192",
                r"carol\s+SCRAM-SHA-256\s+8192"):
        check(re.search(row, listing), "eddy user list lacks %s: %s" % (row, listing))
    # Kafka's own SCRAM client logs in too: kafka-configs through the SASL listener, as bob.
    props = os.path.join(br.dir, "bob.properties")
    with open(props, "w") as f:
        f.write("security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n"
                "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule "
                "required username=\"bob\" password=\"bob-secret\";\n")
    out = kafka_configs(br, "--command-config", props, "--describe", "--entity-type", "users",
                        bootstrap=br.sasl_addr)
    br.wait_log(r"authenticated as User:bob with SCRAM-SHA-512")
    for want in ("user-principal 'alice' are SCRAM-SHA-256=iterations=4096",
                 "user-principal 'bob' are SCRAM-SHA-512=iterations=8192",
                 "user-principal 'carol' are SCRAM-SHA-256=iterations=8192"):
        check(want in out, "kafka-configs --describe lacks %r: %s" % (want, out))

    # kcat (librdkafka) produces with each mechanism, with credentials from both tools.
    logins = [("PLAIN", "alice", "alice-secret"), ("SCRAM-SHA-256", "alice", "alice-secret"),
              ("SCRAM-SHA-512", "bob", "bob-secret"), ("PLAIN", "bob", "bob-secret"),
              ("SCRAM-SHA-256", "carol", "carol-secret")]
    for mech, user, pw in logins:
        kcat_ok(br, mech, user, pw, "-P", "-t", "sasl-kcat",
                stdin=("%s-%s\n" % (mech, user)).encode())
    got = kcat_ok(br, "SCRAM-SHA-512", "bob", "bob-secret", "-C", "-t", "sasl-kcat", "-e", "-q")
    want = sorted("%s-%s" % (m, u) for m, u, _ in logins)
    check(sorted(got.split()) == want, "kcat read back %r, want %r" % (got.split(), want))
    for mech, user, _ in logins:
        br.wait_log(r"authenticated as User:%s with %s" % (user, mech))

    # kafkajs: produce and consume in a group, SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN.
    for mech, user, pw in (("SCRAM-SHA-256", "carol", "carol-secret"),
                           ("SCRAM-SHA-512", "bob", "bob-secret"),
                           ("PLAIN", "alice", "alice-secret")):
        r = kwire.run("node", KAFKAJS, br.sasl_addr, mech, user, pw, "sasl-js-" + mech.lower(),
                      "50", timeout=90)
        check(r.returncode == 0, "kafkajs %s: %s %s" % (mech, r.stdout.decode(),
                                                        r.stderr.decode()[-1500:]))
    r = kwire.run("node", KAFKAJS, br.sasl_addr, "SCRAM-SHA-256", "alice", "nope", "x", "1",
                  "expect-fail", timeout=60)
    check(r.returncode == 0, "kafkajs with a wrong password: %s %s" % (
        r.stdout.decode(), r.stderr.decode()[-1500:]))
    return "%d kcat logins, kafkajs with 3 mechanisms" % len(logins)


def case_refusals():
    br = SaslBroker("refusals", ["connection.failed.authentication.delay.ms=400"])
    eddy_ok(br, "user", "add", "alice", "--password", "alice-secret")
    # Wrong password: kcat fails with an authentication error; the log names peer and user.
    r = sasl_kcat(br, "SCRAM-SHA-256", "alice", "wrong", "-L", timeout=30)
    err = r.stderr.decode(errors="replace")
    check(r.returncode != 0 and "Authentication failed" in err,
          "kcat with a wrong password: exit %d: %s" % (r.returncode, err[-800:]))
    br.wait_log(r"failed authentication from 127\.0\.0\.1:\d+ as user 'alice' with SCRAM-SHA-256")
    # Failed logins are logged at most once a second: the next one gets its own line.
    time.sleep(1.1)
    r = sasl_kcat(br, "PLAIN", "mallory", "guess", "-L", timeout=30)
    err = r.stderr.decode(errors="replace")
    check(r.returncode != 0 and "Authentication failed" in err,
          "kcat as an unknown user: exit %d: %s" % (r.returncode, err[-800:]))
    br.wait_log(r"failed authentication from 127\.0\.0\.1:\d+ as user 'mallory' with PLAIN")
    # The broker goes on serving the good ones.
    kcat_ok(br, "SCRAM-SHA-256", "alice", "alice-secret", "-L")

    # By hand: the answer is SASL_AUTHENTICATION_FAILED (58) with a sentence, after the delay,
    # and then the connection is closed.
    c = Conn(br.sasl_port)
    err, mechs = kwire.sasl_handshake(c, "PLAIN")
    check(err == 0 and mechs == MECHS.split(","), "handshake: %d %r" % (err, mechs))
    t0 = time.time()
    err, msg, _, _ = kwire.sasl_authenticate(c, b"\0alice\0wrong", version=2)
    waited = time.time() - t0
    check(err == 58 and "Invalid username or password" in (msg or ""),
          "wrong PLAIN password: error %d %r" % (err, msg))
    check(waited >= 0.35, "the failure came after %.3f s, before the 400 ms delay" % waited)
    check(kwire.closed_by_peer(c.s, 5), "the connection stays open after a failed login")
    c.close()
    # An unsupported mechanism is refused and the connection closed.
    c = Conn(br.sasl_port)
    err, mechs = kwire.sasl_handshake(c, "GSSAPI")
    check(err == 33 and "SCRAM-SHA-256" in mechs, "GSSAPI handshake: %d %r" % (err, mechs))
    check(kwire.closed_by_peer(c.s, 5), "open after an unsupported mechanism")
    c.close()
    return "kcat refused (wrong password, unknown user); 58 after %.0f ms, then closed" % (
        waited * 1000)


def case_unauthenticated():
    br = SaslBroker("unauth")
    eddy_ok(br, "user", "add", "alice", "--password", "alice-secret")
    metadata_v1 = struct.pack(">i", -1)
    # PLAINTEXT serves Metadata with no login.
    with Conn(br.port) as c:
        r = c.call(3, 1, metadata_v1)
        check(r.i32() == 1, "PLAINTEXT Metadata: not one broker")
    # SASL listener: ApiVersions is served, Metadata closes the connection unanswered.
    with Conn(br.sasl_port) as c:
        r = c.call(18, 0, b"")
        check(r.i16() == 0, "ApiVersions before the login")
        c.send(3, 1, metadata_v1)
        check(kwire.closed_by_peer(c.s, 5), "Metadata before the login was not refused")
    br.wait_log(r"closing connection from 127\.0\.0\.1:\d+ on listener SASL_PLAINTEXT: Metadata v1 "
                r"before the SASL login")
    # After a SaslHandshake, SaslAuthenticate is all there is: Produce closes too.
    with Conn(br.sasl_port) as c:
        check(kwire.sasl_handshake(c, "SCRAM-SHA-256")[0] == 0, "handshake")
        c.send(0, 3, b"")
        check(kwire.closed_by_peer(c.s, 5), "Produce after the handshake was not refused")
    # A 2 GB frame header before the login: closed at once, nothing allocated.
    rss0 = br.rss_kb()
    conns = []
    for _ in range(20):
        s = kwire.connect(br.sasl_port)
        hdr = struct.pack(">hhi", 36, 2, 1) + s16("x") + b"\0"
        s.sendall(struct.pack(">i", 0x7FFFFFF0) + hdr + b"\0" * 1000)
        conns.append(s)
    for s in conns:
        check(kwire.closed_by_peer(s, 5), "a 2 GB SaslAuthenticate frame was not refused")
        s.close()
    br.wait_log(r"request size 2147483632 is outside \[8, 524288\] "
                r"\(sasl.server.max.receive.size, before the SASL login\)")
    grew = br.rss_kb() - rss0
    check(grew < 16 * 1024, "RSS grew by %d KiB after 20 frames of 2 GB" % grew)
    # A frame just over sasl.server.max.receive.size is refused the same way; the same size
    # after the login is an ordinary (if odd) request.
    s = kwire.connect(br.sasl_port)
    s.sendall(struct.pack(">i", 524289) + b"\0" * 64)
    check(kwire.closed_by_peer(s, 5), "a 512 KiB + 1 frame was not refused before the login")
    s.close()
    kcat_ok(br, "SCRAM-SHA-256", "alice", "alice-secret", "-L")
    return "Metadata and Produce refused before the login; 2 GB frames: RSS +%d KiB" % grew


def case_handshake_v0():
    br = SaslBroker("v0")
    eddy_ok(br, "user", "add", "alice", "--mechanism", "SCRAM-SHA-512", "--password", "pw-a")
    # SaslHandshake v0: the PLAIN token travels bare (size + bytes), the answer likewise
    # (empty for PLAIN), and then the connection is logged in.
    with Conn(br.sasl_port) as c:
        check(kwire.sasl_handshake(c, "PLAIN", version=0)[0] == 0, "v0 handshake")
        tok = b"\0alice\0pw-a"
        c.s.sendall(struct.pack(">i", len(tok)) + tok)
        check(kwire.recv_frame(c.s) == b"", "PLAIN answer over v0 is not empty")
        r = c.call(3, 1, struct.pack(">i", -1))
        check(r.i32() == 1, "Metadata after a v0 login")
    br.wait_log(r"authenticated as User:alice with PLAIN")
    # A wrong one over v0: no answer, the connection is closed.
    with Conn(br.sasl_port) as c:
        check(kwire.sasl_handshake(c, "PLAIN", version=0)[0] == 0, "v0 handshake")
        tok = b"\0alice\0nope"
        c.s.sendall(struct.pack(">i", len(tok)) + tok)
        check(kwire.closed_by_peer(c.s, 5), "open after a wrong v0 PLAIN token")
    return "PLAIN over SaslHandshake v0"


def case_restart_and_file():
    br = SaslBroker("restart")
    add_users(br)
    path = os.path.join(br.data, "scram_credentials")
    raw = open(path, "rb").read()
    for pw in (b"alice-secret", b"bob-secret", b"carol-secret"):
        check(pw not in raw, "%s holds a password" % path)
    check(stat.S_IMODE(os.stat(path).st_mode) == 0o600, "%s is not mode 0600" % path)
    br.restart()
    for mech, user, pw in (("SCRAM-SHA-256", "alice", "alice-secret"),
                           ("SCRAM-SHA-512", "bob", "bob-secret"),
                           ("PLAIN", "carol", "carol-secret")):
        kcat_ok(br, mech, user, pw, "-L")
    # Deleting: eddy user delete, and Kafka's --delete-config; the users can no longer log in.
    eddy_ok(br, "user", "delete", "alice")
    kafka_configs(br, "--alter", "--delete-config", "SCRAM-SHA-512", "--entity-type", "users",
                  "--entity-name", "bob")
    br.restart()
    listing = eddy_ok(br, "user", "list")
    check("alice" not in listing and "bob" not in listing and "carol" in listing,
          "after deletes and a restart: " + listing)
    r = sasl_kcat(br, "PLAIN", "alice", "alice-secret", "-L", timeout=30)
    check(r.returncode != 0, "a deleted user logged in")
    r = kwire.eddy("-b", br.addr, "user", "delete", "alice")
    check(r.returncode != 0 and b"RESOURCE_NOT_FOUND" in r.stderr,
          "deleting a deleted user: %d %s" % (r.returncode, r.stderr))
    # A damaged file stops the start with a sentence naming it.
    br.stop(clean=True)
    raw = bytearray(open(path, "rb").read())
    raw[-1] ^= 0xFF
    open(path, "wb").write(bytes(raw))
    r = kwire.run(*br.command(), timeout=30)
    out = (r.stdout + r.stderr).decode(errors="replace")
    check(r.returncode != 0 and "scram_credentials is corrupt" in out,
          "a corrupt credential file: exit %d: %s" % (r.returncode, out[-800:]))
    return "credentials kept across restarts, no password in %d bytes" % len(raw)


def case_jaas():
    """A Kafka server.properties with JAAS settings works unchanged: PlainLoginModule's
    user_<name> entries are PLAIN users of their listener, ScramLoginModule needs nothing."""
    d = os.path.join(WORK, "jaas")
    os.makedirs(d, exist_ok=True)
    props = os.path.join(d, "server.properties")
    with open(props, "w") as f:
        f.write("listener.name.sasl_plaintext.plain.sasl.jaas.config=\\\n"
                "  org.apache.kafka.common.security.plain.PlainLoginModule required \\\n"
                "  username=\"admin\" password=\"admin-secret\" \\\n"
                "  user_admin=\"admin-secret\" user_dave=\"dave \\\\\"quoted\\\\\" pw\";\n"
                "listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=\\\n"
                "  org.apache.kafka.common.security.scram.ScramLoginModule required;\n")
    br = SaslBroker("jaas", args=["--config", props])
    eddy_ok(br, "user", "add", "erin", "--password", "erin-secret")
    kcat_ok(br, "PLAIN", "dave", 'dave "quoted" pw', "-L")
    kcat_ok(br, "PLAIN", "admin", "admin-secret", "-L")
    # A user of the SCRAM store logs in with PLAIN too; JAAS users are not SCRAM users.
    kcat_ok(br, "PLAIN", "erin", "erin-secret", "-L")
    r = sasl_kcat(br, "PLAIN", "dave", "dave-secret", "-L", timeout=30)
    check(r.returncode != 0, "dave logged in with a wrong password")
    r = sasl_kcat(br, "SCRAM-SHA-256", "dave", 'dave "quoted" pw', "-L", timeout=30)
    check(r.returncode != 0, "a JAAS PLAIN user logged in with SCRAM")
    # JAAS that cannot be read stops the start with a sentence naming the setting.
    r = kwire.run(EDDY, "broker", "--data-dir", os.path.join(d, "bad"), "--set",
                  "listeners=SASL_PLAINTEXT://127.0.0.1:0", "--set",
                  "listener.name.sasl_plaintext.plain.sasl.jaas.config="
                  "org.apache.kafka.common.security.plain.PlainLoginModule required "
                  "user_x=\"open", timeout=30)
    out = (r.stdout + r.stderr).decode(errors="replace")
    check(r.returncode != 0 and "listener.name.sasl_plaintext.plain.sasl.jaas.config" in out and
          "quote is not closed" in out, "unreadable JAAS: exit %d: %s" % (r.returncode, out))
    return "PLAIN users from JAAS; the SCRAM store's too"


CASES = {
    "jaas": case_jaas,
    "logins": case_logins,
    "refusals": case_refusals,
    "unauthenticated": case_unauthenticated,
    "handshake_v0": case_handshake_v0,
    "restart_and_file": case_restart_and_file,
}

if __name__ == "__main__":
    if not os.path.isdir(os.path.join(NODE_MODULES, "kafkajs")):
        # A fresh clone: what package-lock.json pins, as tests/compat/kafkajs.sh installs it.
        r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], capture_output=True,
                           cwd=os.path.dirname(NODE_MODULES), timeout=180)
        check(r.returncode == 0, "npm ci in tests/compat: " + r.stderr.decode()[-1500:])
    os.environ["NODE_PATH"] = NODE_MODULES
    kwire.main("broker_sasl", CASES)

"""kwire: the Kafka-wire test harness the Python integration tests share.

What it is: everything a test needs to talk to a real `eddy broker` byte by byte, in one place
so that each test script holds only its cases:

  setup, main        the eddy binary (argv[1]) and a temp work dir; the case runner
  run, eddy, kcat    a command run to its end (eddy: the CLI; kcat: exit 0 required)
  Fail, check, wait_for   a failed expectation, and polling real state with a deadline
  Broker             an `eddy broker` process on a free 127.0.0.1 port (--set settings, any
                     other arguments passed through, a low open-file limit), its log, its
                     port(s), clean stop (exit status checked) or kill -9, restart on its data
  Conn               one connection: call(api, version, body) frames the request (header v1 or,
                     for flexible versions, v2), reads the answer, checks the correlation id and
                     returns a Reader past the response header; wraps any socket, also an
                     ssl.SSLSocket (Conn.tls), so TLS listeners are tested the same way
  encoders           uvarint/varint, s16/cstr/st (strings), bytes32/cbytes, arr, Enc(flex)
  Reader             decoders for both layouts: i8..i64, str, bytes, count, tags, done
  frame, FLEXIBLE_FROM   a framed request; the first flexible version of each API
  crc32c, record, batch, values_batch   v2 record batches (producer fields, codec attribute,
                     precompressed records); batches_in, batch_values read them back
  produce_body, produce_result   a Produce v0-v8 body of one partition, and its answer
  connect, recv_exact, recv_frame, closed_by_peer   raw sockets, for tests that pipeline,
                     withhold reads or wait for the broker to close a connection
  sasl_handshake, sasl_authenticate   the SASL framing (SaslHandshake v0-1, SaslAuthenticate
                     v0-2); the login exchange itself is the test's

How a test uses it (it sits next to the scripts, so a plain import finds it):

    import kwire
    from kwire import Broker, Conn, check, s16

    EDDY, WORK = kwire.setup("eddy-broker-hello-")   # EDDY = argv[1]; WORK removed at the end

    def case_hello():
        b = Broker("hello", ["log.segment.bytes=1024"])   # data in WORK/hello/data
        c = Conn(b.port)
        r = c.call(3, 1, struct.pack(">i", -1))      # Metadata v1, all topics: a Reader
        for _ in range(r.count()):                   # brokers
            node, host, port, rack = r.i32(), r.str(), r.i32(), r.str()
        ...
        c.close()
        return "what it showed"                      # printed after "ok hello"

    CASES = {"hello": case_hello}
    if __name__ == "__main__":
        kwire.main("broker_hello", CASES)            # usage: script.py path/to/eddy [case ...]

A case fails by raising Fail (check), or OSError, a timeout, a short answer (struct.error).
After each case, its brokers stop: by SIGTERM with the exit status checked if the case passed
(a case that stops or kills a broker itself is not second-guessed), killed otherwise. The
work dir is removed at the end, also on SIGTERM. Subclass Broker for a script's own defaults
(QUARANTINE_MB, fixed settings) and Conn for its client id.
"""
import glob
import os
import re
import resource
import select
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

EDDY = None
WORK = None
BROKERS = []


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def wait_for(what, cond, timeout=20, interval=0.1):
    """Polls cond() until it returns something true (returned); Fail(what) after timeout s."""
    deadline = time.time() + timeout
    while True:
        r = cond()
        if r:
            return r
        check(time.time() < deadline, what)
        time.sleep(interval)


def setup(prefix="eddy-kwire-"):
    """The eddy binary (sys.argv[1]) and a fresh temp work dir; idempotent."""
    global EDDY, WORK
    if EDDY is None:
        check(len(sys.argv) > 1, "usage: %s path/to/eddy [case ...]" % sys.argv[0])
        EDDY = sys.argv[1]
    if WORK is None:
        WORK = tempfile.mkdtemp(prefix=prefix)
    return EDDY, WORK


def run(*args, stdin=None, timeout=60):
    """A process run to its end: the CompletedProcess, output captured."""
    return subprocess.run(list(args), input=stdin, capture_output=True, timeout=timeout)


def eddy(*args, stdin=None, timeout=60):
    """The eddy CLI run to its end (not checked): the CompletedProcess."""
    return run(EDDY, *args, stdin=stdin, timeout=timeout)


def kcat(br, *args, stdin=None, timeout=60):
    """kcat against br, which must exit 0; its stdout."""
    r = run("kcat", "-b", br.addr, *args, stdin=stdin, timeout=timeout)
    check(r.returncode == 0, "kcat %s: exit %d: %s" % (" ".join(args), r.returncode,
                                                        r.stderr.decode(errors="replace")[-1500:]))
    return r.stdout


# ---- the broker process ------------------------------------------------------

LISTENING = re.compile(r"listening on (\S+?):(\d+),")


class Broker:
    """An `eddy broker` on data dir `data` (default WORK/name/data), log in WORK/name.

    settings are --set name=value strings; args are passed on as they are (e.g. listener
    options); listen is the --listen address (None: no --listen, the args say). nofile caps
    the open-file limit. A Broker is started by the constructor; port is the first
    "listening on HOST:PORT" of its log (ports() gives all of them)."""

    QUARANTINE_MB = None  # under ASan: a small quarantine, for tests that bound the RSS
    START_TIMEOUT = 15

    def __init__(self, name, settings=(), args=(), data=None, nofile=None,
                 listen="127.0.0.1:0", env=None):
        setup()
        self.name = name
        self.dir = os.path.join(WORK, name)
        os.makedirs(self.dir, exist_ok=True)
        self.data = data or os.path.join(self.dir, "data")
        self.settings = list(settings)
        self.args = list(args)
        self.listen = listen
        self.nofile = nofile
        self.env = env
        # One log per Broker object (a second one on the same name gets its own); restart()
        # appends to it.
        self.log_path = os.path.join(self.dir, "broker.log")
        n = 1
        while os.path.exists(self.log_path):
            self.log_path = os.path.join(self.dir, "broker-%d.log" % n)
            n += 1
        self.exit_status = 0  # what a clean stop must exit with (1: stopped "with errors")
        self.proc = None
        self.stopped = False
        self.start()

    def command(self):
        args = [EDDY, "broker", "--data-dir", self.data]
        if self.listen is not None:
            args += ["--listen", self.listen]
        for s in self.settings:
            args += ["--set", s]
        return args + self.args

    def start(self):
        nofile = self.nofile

        def limits():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        env = dict(os.environ)
        env.update(self.env or {})
        if self.QUARANTINE_MB is not None:
            # Freed blocks wait in ASan's quarantine (256 MiB by default), which would count in
            # RSS bounds; a small one still catches use after free.
            env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"),
                                                         "quarantine_size_mb=%d" %
                                                         self.QUARANTINE_MB]))
        self.stopped = False
        self.log = open(self.log_path, "a")
        self.mark = os.path.getsize(self.log_path)
        self.proc = subprocess.Popen(self.command(), stdout=self.log, stderr=subprocess.STDOUT,
                                     preexec_fn=limits if nofile else None, env=env)
        if self not in BROKERS:
            BROKERS.append(self)
        deadline = time.time() + self.START_TIMEOUT
        self.port = None
        while time.time() < deadline and self.port is None:
            m = LISTENING.search(self.new_log())
            if m:
                self.port = int(m.group(2))
            else:
                check(self.proc.poll() is None, "broker exited: " + self.log_text()[-2000:])
                time.sleep(0.05)
        check(self.port, "broker did not start: " + self.log_text()[-2000:])
        self.addr = "127.0.0.1:%d" % self.port

    def ports(self):
        """Every (host, port) this run of the broker says it listens on, in log order."""
        return [(h, int(p)) for h, p in LISTENING.findall(self.new_log())]

    def restart(self):
        """A clean stop (exit status checked), then the same command on the same data."""
        self.stop(clean=True)
        self.start()

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def new_log(self):
        """The log of this run only (since the last start)."""
        return self.log_text()[self.mark:]

    def wait_log(self, pattern, timeout=10):
        """The first match of regex pattern in this run's log, polled for; Fail after timeout."""
        return wait_for("no log line matching %r within %g s" % (pattern, timeout),
                        lambda: re.search(pattern, self.new_log()), timeout, 0.05)

    def status_kb(self, field):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise Fail("no %s for the broker" % field)

    def rss_kb(self):
        return self.status_kb("VmRSS")

    def hwm_kb(self):
        return self.status_kb("VmHWM")

    def alive(self):
        return self.proc.poll() is None

    def segments(self, topic, partition=0):
        return sorted(glob.glob(os.path.join(self.data, "%s-%d" % (topic, partition), "*.log")))

    def kill9(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()
        self.stopped = True

    def stop(self, clean=False):
        """Stops the broker; with clean, by SIGTERM, and it must exit with exit_status within
        20 s (under ASan: no leak); without, killed if still running. A broker already
        stopped (stop, kill9) is left as it is."""
        if self.proc is None or self.stopped:
            return
        if self.proc.poll() is None:
            if clean:
                self.proc.terminate()
                try:
                    self.proc.wait(20)
                except subprocess.TimeoutExpired:
                    pass
            if self.proc.poll() is None:
                self.proc.kill()
        self.proc.wait()
        self.log.close()
        self.stopped = True
        if clean and self.proc.returncode != self.exit_status:
            raise Fail("broker exit status %d after SIGTERM: %s" %
                       (self.proc.returncode, self.log_text()[-3000:]))


# ---- encoders ------------------------------------------------------------------

def uvarint(n):
    out = b""
    while True:
        if n < 0x80:
            return out + bytes([n])
        out += bytes([(n & 0x7F) | 0x80])
        n >>= 7


def varint(n):
    """Zigzag varint (record fields)."""
    return uvarint((n << 1) ^ (n >> 63))


def s16(s):
    """A (nullable) STRING: int16 length, UTF-8."""
    if s is None:
        return struct.pack(">h", -1)
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">h", len(b)) + b


kstr = s16


def cstr(s):
    """A (nullable) COMPACT_STRING: uvarint length + 1."""
    if s is None:
        return b"\0"
    b = s.encode() if isinstance(s, str) else s
    return uvarint(len(b) + 1) + b


def st(s, flex):
    return cstr(s) if flex else s16(s)


def bytes32(b):
    """(nullable) BYTES: int32 length."""
    return struct.pack(">i", -1) if b is None else struct.pack(">i", len(b)) + b


def cbytes(b):
    """(nullable) COMPACT_BYTES."""
    return b"\0" if b is None else uvarint(len(b) + 1) + b


def arr(items, flex):
    """An array of already encoded items (None: a null array)."""
    if items is None:
        return b"\0" if flex else struct.pack(">i", -1)
    items = list(items)
    return (uvarint(len(items) + 1) if flex else struct.pack(">i", len(items))) + b"".join(items)


class Enc:
    """The layout-dependent pieces of a request body, legacy or flexible."""

    def __init__(self, flex):
        self.flex = flex

    def str(self, s):
        return st(s, self.flex)

    def bytes(self, b):
        return cbytes(b) if self.flex else bytes32(b)

    def count(self, n):
        return uvarint(n + 1) if self.flex else struct.pack(">i", n)

    def arr(self, items):
        return arr(items, self.flex)

    def tags(self):
        return b"\0" if self.flex else b""


# ---- decoders ------------------------------------------------------------------

class Reader:
    """Reads a response body (legacy or flexible layout); a short body is a Fail."""

    def __init__(self, b, flex):
        self.b, self.o, self.flex = b, 0, flex

    def raw(self, n):
        check(n >= 0 and self.o + n <= len(self.b), "response truncated at %d" % self.o)
        v = self.b[self.o:self.o + n]
        self.o += n
        return v

    def take(self, fmt):
        return struct.unpack(fmt, self.raw(struct.calcsize(fmt)))[0]

    def i8(self):
        return self.take(">b")

    def i16(self):
        return self.take(">h")

    def i32(self):
        return self.take(">i")

    def i64(self):
        return self.take(">q")

    def uv(self):
        n = shift = 0
        while True:
            c = self.raw(1)[0]
            n |= (c & 0x7F) << shift
            if c < 0x80:
                return n
            shift += 7

    uvarint = uv

    def varint(self):
        v = self.uv()
        return (v >> 1) ^ -(v & 1)

    def str(self):
        n = self.uv() - 1 if self.flex else self.i16()
        return None if n < 0 else self.raw(n).decode()

    def bytes(self):
        n = self.uv() - 1 if self.flex else self.i32()
        return None if n < 0 else self.raw(n)

    def count(self):
        return self.uv() - 1 if self.flex else self.i32()

    def tags(self):
        if self.flex:
            for _ in range(self.uv()):
                self.uv()
                self.raw(self.uv())

    def rest(self):
        v = self.b[self.o:]
        self.o = len(self.b)
        return v

    def done(self):
        check(self.o == len(self.b), "%d bytes left in the answer" % (len(self.b) - self.o))


def read_uvarint(buf, off):
    """(value, next offset) of the uvarint at buf[off]."""
    shift = v = 0
    while True:
        c = buf[off]
        off += 1
        v |= (c & 0x7f) << shift
        if not c & 0x80:
            return v, off
        shift += 7


def read_varint(buf, off):
    v, off = read_uvarint(buf, off)
    return (v >> 1) ^ -(v & 1), off


# ---- requests --------------------------------------------------------------------

# The first flexible version of each API (Kafka's message specs, flexibleVersions); APIs not
# here (SaslHandshake 17, OffsetDelete 47) are never flexible.
FLEXIBLE_FROM = {
    0: 9, 1: 12, 2: 6, 3: 9, 8: 8, 9: 6, 10: 3, 11: 6, 12: 4, 13: 4, 14: 4, 15: 5, 16: 3,
    18: 3, 19: 5, 20: 4, 21: 2, 22: 2, 23: 4, 24: 3, 25: 3, 26: 3, 28: 3, 29: 2, 30: 2, 31: 2,
    32: 4, 33: 2, 35: 2, 36: 2, 37: 2, 42: 2, 44: 1, 50: 0, 51: 0, 60: 0, 65: 0, 66: 0, 68: 0,
}
API_VERSIONS = 18


def flexible(api_key, version):
    first = FLEXIBLE_FROM.get(api_key)
    return first is not None and version >= first


def frame(api_key, version, corr, body, client_id="kwire", flex=None):
    """A whole request: size, header (v2 with its empty tagged fields when flexible), body."""
    if flex is None:
        flex = flexible(api_key, version)
    payload = struct.pack(">hhi", api_key, version, corr) + s16(client_id)
    if flex:
        payload += b"\0"
    payload += body
    return struct.pack(">i", len(payload)) + payload


def connect(port, src=None, rcvbuf=None, timeout=5, host="127.0.0.1"):
    """A plain TCP connection (src: the local address to bind; rcvbuf: SO_RCVBUF)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if src:
        s.bind((src, 0))
    s.settimeout(timeout)
    try:
        s.connect((host, port))
    except BaseException:
        s.close()
        raise
    return s


def recv_exact(s, n):
    """n bytes from s; Fail if the peer closes first."""
    out = bytearray()
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise Fail("connection closed by the broker")
        out += chunk
    return bytes(out)


def recv_frame(s):
    """One size-prefixed response from s, without its size."""
    size = struct.unpack(">i", recv_exact(s, 4))[0]
    check(0 <= size <= 1 << 30, "response size %d" % size)
    return recv_exact(s, size)


def closed_by_peer(s, within):
    """Whether the peer closes s (EOF or reset) within `within` seconds; what it sends
    meanwhile is read and dropped."""
    deadline = time.time() + within
    s.setblocking(False)
    while time.time() < deadline:
        r, _, _ = select.select([s], [], [], max(0.0, deadline - time.time()))
        if r:
            try:
                if s.recv(65536) == b"":
                    return True
            except ConnectionResetError:
                return True
            except (BlockingIOError, ssl.SSLWantReadError):
                pass
    return False


class Conn:
    """A Kafka connection to the broker: a TCP socket (port), or any connected socket given as
    sock, e.g. an ssl.SSLSocket (see Conn.tls)."""

    def __init__(self, port=None, host="127.0.0.1", timeout=15, client_id="kwire", sock=None):
        self.s = sock if sock is not None else socket.create_connection((host, port),
                                                                        timeout=timeout)
        self.client_id = client_id
        self.corr = 0

    @classmethod
    def tls(cls, port, context, server_hostname=None, host="127.0.0.1", timeout=15, **kw):
        """A connection over TLS: context is an ssl.SSLContext (certificates, verification);
        the handshake is done here, so its failure raises ssl.SSLError."""
        raw = socket.create_connection((host, port), timeout=timeout)
        try:
            s = context.wrap_socket(raw, server_hostname=server_hostname)
        except BaseException:
            raw.close()
            raise
        return cls(sock=s, **kw)

    def send(self, api_key, version, body, flex=None):
        """Sends one request; returns its correlation id."""
        self.corr += 1
        self.s.sendall(frame(api_key, version, self.corr, body, self.client_id, flex))
        return self.corr

    def recv(self, n):
        return recv_exact(self.s, n)

    def response(self, api_key, version, corr, flex=None):
        """Reads the answer to the request sent with corr; a Reader past its header."""
        if flex is None:
            flex = flexible(api_key, version)
        resp = recv_frame(self.s)
        got = struct.unpack_from(">i", resp)[0] if len(resp) >= 4 else None
        check(got == corr, "correlation id %r, want %d" % (got, corr))
        r = Reader(resp, flex)
        r.o = 4
        if flex and api_key != API_VERSIONS:
            r.tags()  # response header v1; ApiVersions answers with header v0 always
        return r

    def call(self, api_key, version, body, flex=None):
        """One request and its answer: a Reader over the response body."""
        corr = self.send(api_key, version, body, flex)
        return self.response(api_key, version, corr, flex)

    def close(self):
        self.s.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---- SASL framing (the mechanism's exchange is the test's) -------------------------

def sasl_handshake(c, mechanism, version=1):
    """SaslHandshake: (error code, [mechanisms the broker enables])."""
    r = c.call(17, version, s16(mechanism))
    err = r.i16()
    return err, [r.str() for _ in range(r.count())]


def sasl_authenticate(c, auth_bytes, version=2):
    """SaslAuthenticate: (error code, error message, auth bytes, session lifetime ms or None)."""
    flex = flexible(36, version)
    r = c.call(36, version, (cbytes(auth_bytes) + b"\0") if flex else bytes32(auth_bytes))
    err, msg, data = r.i16(), r.str(), r.bytes()
    lifetime = r.i64() if version >= 1 else None
    r.tags()
    return err, msg, data, lifetime


# ---- record batches ------------------------------------------------------------------

CRC32C_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    CRC32C_TABLE.append(_c)


def crc32c(data):
    crc = 0xFFFFFFFF
    for x in data:
        crc = CRC32C_TABLE[(crc ^ x) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def record(value, key=None, offset_delta=0, ts_delta=0, headers=()):
    """One v2 record, length prefixed; headers are (key str, value bytes or None)."""
    body = b"\0" + varint(ts_delta) + varint(offset_delta)
    body += varint(-1) if key is None else varint(len(key)) + key
    body += varint(-1) if value is None else varint(len(value)) + value
    body += varint(len(headers))
    for hk, hv in headers:
        hk = hk.encode()
        body += varint(len(hk)) + hk + (varint(-1) if hv is None else varint(len(hv)) + hv)
    return varint(len(body)) + body


def batch(records, count=None, attrs=0, last_delta=None, base_ts=None, max_ts=None,
          pid=-1, epoch=-1, seq=-1, base_offset=0, leader_epoch=-1):
    """A v2 RecordBatch. records: a list of record() (count from it), or bytes already encoded
    (compressed as attrs' codec says) with count given. base_ts defaults to now."""
    if not isinstance(records, (bytes, bytearray)):
        records = list(records)
        if count is None:
            count = len(records)
        records = b"".join(records)
    check(count is not None, "batch: count of precompressed records not given")
    if last_delta is None:
        last_delta = count - 1
    if base_ts is None:
        base_ts = int(time.time() * 1000)
    tail = struct.pack(">hiqqqhii", attrs, last_delta, base_ts,
                       base_ts if max_ts is None else max_ts, pid, epoch, seq, count) + records
    body = struct.pack(">ibI", leader_epoch, 2, crc32c(tail)) + tail
    return struct.pack(">qi", base_offset, len(body)) + body


def values_batch(values, ts=None, keys=None, **kw):
    """A batch of values (null keys unless keys), offset deltas 0.., one timestamp ts."""
    recs = [record(v, None if keys is None else keys[i], offset_delta=i)
            for i, v in enumerate(values)]
    return batch(recs, base_ts=ts, **kw)


def batches_in(data):
    """The headers of the whole v2 batches in data (fetched records, a segment file)."""
    out = []
    pos = 0
    while pos + 61 <= len(data):
        base, length = struct.unpack_from(">qi", data, pos)
        if pos + 12 + length > len(data):
            break
        attrs, last_delta, base_ts, max_ts, pid, epoch, seq, count = \
            struct.unpack_from(">hiqqqhii", data, pos + 21)
        out.append({"base": base, "attrs": attrs, "codec": attrs & 7, "last": base + last_delta,
                    "base_ts": base_ts, "max_ts": max_ts, "pid": pid, "epoch": epoch,
                    "seq": seq, "count": count, "bytes": bytes(data[pos:pos + 12 + length])})
        pos += 12 + length
    return out


def batch_values(records):
    """The values of the records in whole uncompressed v2 batches; a partial batch is a Fail."""
    out = []
    off = 0
    while off + 61 <= len(records):
        blen = struct.unpack_from(">i", records, off + 8)[0]
        end = off + 12 + blen
        check(end <= len(records), "a partial batch in the response")
        attrs = struct.unpack_from(">h", records, off + 21)[0]
        check(attrs & 7 == 0, "compressed batch (codec %d): cannot read its values" % (attrs & 7))
        count = struct.unpack_from(">i", records, off + 57)[0]
        p = off + 61
        for _ in range(count):
            rlen, p = read_varint(records, p)
            q = p + 1  # attributes
            _, q = read_varint(records, q)  # timestamp delta
            _, q = read_varint(records, q)  # offset delta
            klen, q = read_varint(records, q)
            q += max(klen, 0)
            vlen, q = read_varint(records, q)
            out.append(bytes(records[q:q + vlen]))
            p += rlen
        off = end
    return out


def produce_body(topic, partition, records, acks=-1, timeout_ms=10000, version=3,
                 transactional_id=None):
    """A Produce v3-v8 body (non-flexible) with one partition's records."""
    body = s16(transactional_id) if version >= 3 else b""
    body += struct.pack(">hi", acks, timeout_ms) + struct.pack(">i", 1) + s16(topic)
    body += struct.pack(">ii", 1, partition) + bytes32(records)
    return body


def produce_result(r):
    """(error, base offset) of the one partition in a Produce v3-v8 answer (a Reader)."""
    r.count()
    r.str()
    r.count()
    r.i32()
    return r.i16(), r.i64()


# ---- the case runner ---------------------------------------------------------------

ERRORS = (Fail, OSError, subprocess.TimeoutExpired, struct.error, KeyError, IndexError)


def run_cases(title, cases, names=None, clean_stop=True):
    """Runs the named cases (default all) one after another; after each, its brokers stop
    (with clean_stop, by SIGTERM with the exit status checked, after a case that passed).
    Returns the number of cases that failed."""
    setup()
    names = names or list(cases)
    failed = []
    for name in names:
        t0 = time.time()
        check(name in cases, "no case %r (cases: %s)" % (name, " ".join(cases)))
        try:
            what = cases[name]()
            if clean_stop:
                for br in BROKERS:
                    br.stop(clean=True)
            print("ok %s (%.1f s)%s" % (name, time.time() - t0, ": %s" % what if what else ""),
                  flush=True)
        except ERRORS as e:
            print("FAIL [%s %s]: %s: %s" % (title, name, type(e).__name__, e), file=sys.stderr,
                  flush=True)
            if BROKERS:
                print("\n".join(BROKERS[-1].log_text().splitlines()[-15:]), file=sys.stderr)
            failed.append(name)
        for br in BROKERS:
            br.stop()
        BROKERS.clear()
    return len(failed)


def cleanup():
    for br in BROKERS:
        try:
            br.stop()
        except Exception:  # cleaning up after a failure: the failure is what counts
            pass
    BROKERS.clear()
    if WORK:
        shutil.rmtree(WORK, ignore_errors=True)


def main(title, cases, clean_stop=True):
    """The script's entry: runs the cases named on the command line (all by default), exits 1
    if one failed; brokers and the work dir are cleaned up, also on SIGTERM."""
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    try:
        setup("eddy-%s-" % title.replace("_", "-"))
        sys.exit(1 if run_cases(title, cases, sys.argv[2:], clean_stop) else 0)
    finally:
        cleanup()

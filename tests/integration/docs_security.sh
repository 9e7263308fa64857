#!/usr/bin/env bash
# docs/security.md's walk-through works as written: its ```sh blocks (those
# under "## Walk-through") run in order, in one bash, in an empty directory,
# against the real broker they start, and each ```text block that follows a
# ```sh block must appear in what that block printed (stdout and stderr):
# every line of it as a whole line of the output, "..." standing for any
# text, leading and trailing blanks ignored, in any order.
#
# The blocks run as written but for: the ports 9092 and 9093 become free
# ones; `eddy`, `wordcount`, `kafka-configs.sh` and `kafka-acls.sh` are the
# ones given (PATH). A block fails the test when a command of it fails
# (errexit, pipefail), except the blocks of the section about refusals, whose
# commands fail on purpose and are judged by their output. Without Kafka's
# jars the blocks calling Kafka's tools are skipped, said so.
#
#   docs_security.sh EDDY WORDCOUNT [KAFKA_SH]
set -euo pipefail
EDDY=$(realpath "${1:?usage: docs_security.sh EDDY WORDCOUNT [KAFKA_SH]}")
WC=$(realpath "${2:?usage: docs_security.sh EDDY WORDCOUNT [KAFKA_SH]}")
KAFKA_SH=${3:-}
HERE=$(cd "$(dirname "$0")" && pwd)
DOC=$HERE/../../docs/security.md
LIMIT=${DOCS_SECURITY_LIMIT:-240} # seconds for the whole walk-through (a bound for a stuck run)

WORK=$(mktemp -d /tmp/eddy-docsec-XXXXXX)
SPID=""
cleanup() {
    # The walk-through runs in a session of its own (setsid): its broker and
    # app are in that process group, so they go with it even when a block
    # hangs before its `kill`.
    if [ -n "$SPID" ]; then
        kill -TERM -- "-$SPID" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 -- "-$SPID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$SPID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
    echo "FAIL [docs_security]: $*" >&2
    for f in "$WORK"/run/broker.log "$WORK"/run/wordcount.log; do
        [ -f "$f" ] && { echo "--- tail of $f" >&2; tail -n 15 "$f" >&2; }
    done
    exit 1
}

read -r P1 P2 < <(python3 -c 'import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')

mkdir -p "$WORK/bin" "$WORK/run"
ln -s "$EDDY" "$WORK/bin/eddy"
ln -s "$WC" "$WORK/bin/wordcount"
KAFKA=0
if [ -n "$KAFKA_SH" ] && ls "$(dirname "$KAFKA_SH")/../tests/kafka/lib/"kafka-tools-*.jar > /dev/null 2>&1; then
    KAFKA=1
    printf '#!/bin/sh\nKAFKA_HEAP=256m exec "%s" class kafka.admin.ConfigCommand "$@"\n' "$(realpath "$KAFKA_SH")" \
        > "$WORK/bin/kafka-configs.sh"
    printf '#!/bin/sh\nKAFKA_HEAP=256m exec "%s" class org.apache.kafka.tools.AclCommand "$@"\n' "$(realpath "$KAFKA_SH")" \
        > "$WORK/bin/kafka-acls.sh"
    chmod +x "$WORK/bin/kafka-configs.sh" "$WORK/bin/kafka-acls.sh"
fi

# Extract: walk.sh runs block i with its output in out.i; exp.i holds the
# text the doc shows after it.
python3 - "$DOC" "$WORK" "$P1" "$P2" "$KAFKA" <<'PY' || fail "cannot extract the walk-through from $DOC"
import re, sys
doc, work, p1, p2, kafka = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] == "1"
lines = open(doc).read().split("\n")
blocks, section, inside, fence = [], "", False, None
for ln in lines:
    if fence is not None:
        if ln.startswith("```"):
            blocks.append(fence)
            fence = None
        else:
            fence["text"].append(ln)
        continue
    if ln.startswith("## "):
        inside = ln.strip() == "## Walk-through"
    elif ln.startswith("### "):
        section = ln
    elif inside and ln.startswith("```"):
        fence = {"lang": ln[3:].strip(), "text": [], "section": section}
def ports(s):
    return s.replace("9092", p1).replace("9093", p2)
runs = []
for b in blocks:
    if b["lang"] == "sh":
        runs.append({"code": ports("\n".join(b["text"])), "exp": [], "refusal": "refusal" in b["section"].lower()})
    elif b["lang"] == "text" and runs:
        runs[-1]["exp"] += [ports(t) for t in b["text"]]
if len(runs) < 12 or sum(1 for r in runs if r["exp"]) < 10:
    sys.exit("walk-through: %d sh blocks, %d with output shown: too few" % (len(runs), sum(1 for r in runs if r["exp"])))
with open(work + "/walk.sh", "w") as w:
    w.write("set -eo pipefail\ncd %s/run\n" % work)
    for i, r in enumerate(runs):
        if not kafka and ("kafka-configs.sh" in r["code"] or "kafka-acls.sh" in r["code"]):
            print("docs_security: block %d (Kafka's tools) skipped: no Kafka jars" % i)
            continue
        w.write("echo 'block %d' > %s/at\n" % (i, work))
        w.write("set %se\n{\n%s\n} > %s/out.%d 2>&1\nset -e\n" % ("+" if r["refusal"] else "-", r["code"], work, i))
        open("%s/exp.%d" % (work, i), "w").write("\n".join(r["exp"]))
        open("%s/code.%d" % (work, i), "w").write(r["code"])
    w.write("echo done > %s/at\n" % work)
PY

export PATH="$WORK/bin:$PATH"
setsid bash "$WORK/walk.sh" < /dev/null > "$WORK/walk.out" 2>&1 &
SPID=$!
deadline=$((SECONDS + LIMIT))
while kill -0 "$SPID" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
if kill -0 "$SPID" 2>/dev/null; then
    at=$(cat "$WORK/at")
    fail "the walk-through did not finish within $LIMIT s; stuck in $at:
$(cat "$WORK/code.${at#block }")
its output so far:
$(cat "$WORK/out.${at#block }" 2>/dev/null)"
fi
rc=0
wait "$SPID" || rc=$?
at=$(cat "$WORK/at")
if [ "$rc" != 0 ] || [ "$at" != done ]; then
    fail "a command of $at failed (status $rc):
$(cat "$WORK/code.${at#block }")
its output:
$(cat "$WORK/out.${at#block }" 2>/dev/null)$(cat "$WORK/walk.out")"
fi

# Each block's output against what the doc shows.
python3 - "$WORK" <<'PY' || fail "the output differs from what docs/security.md shows"
import glob, re, sys
work = sys.argv[1]
bad = 0
for exp in sorted(glob.glob(work + "/exp.*"), key=lambda p: int(p.rsplit(".", 1)[1])):
    i = exp.rsplit(".", 1)[1]
    got = [l.strip() for l in open("%s/out.%s" % (work, i), errors="replace").read().split("\n")]
    for want in open(exp).read().split("\n"):
        want = want.strip()
        if not want:
            continue
        rx = re.compile(".*".join(re.escape(p) for p in want.split("...")))
        if not any(rx.fullmatch(g) for g in got):
            bad += 1
            print("block %s: the doc shows\n    %s\nbut the commands\n%s\nprinted\n%s\n" % (
                i, want, open("%s/code.%s" % (work, i)).read(), "\n".join(got)), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
kill -0 -- "-$SPID" 2>/dev/null && fail "processes the walk-through started are still running after it: $(ps -o pid,args -g "$SPID")"
echo "docs_security: the walk-through of docs/security.md works as written (ports $P1, $P2)"

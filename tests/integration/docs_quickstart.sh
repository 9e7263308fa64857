#!/usr/bin/env bash
# README.md's "Streams quick start" works as written: its ```sh blocks run in
# order, one command line at a time, in one bash (so `kill -9 %2` names the
# job the README means), from a directory laid out like the repository
# (build/bin/eddy, build/examples/wordcount, README.md, docs/), and what the
# README says of each step is checked:
#   - `eddy group describe wordcount  # 2 members, ..., lag 0`: the two
#     instances split the 4 partitions of `lines` (each has some, none twice)
#     and every committed offset has lag 0;
#   - the top-10 pipeline prints 10 lines `COUNT WORD`, each the word's true
#     count in `cat README.md docs/*.md` (awk reference; no failure yet);
#   - after `kill -9 %2`: `# 1 member with every partition`: the survivor
#     owns all 4 partitions of `lines`;
#   - after `eddy app reset` and the rerun on the killed instance's stale
#     state.dir: the latest count of every word in word-counts is its true
#     count over all the lines produced (not added to the old counts).
#
# The README's commands are run as written but for these adaptations, so
# that the test runs beside other brokers and tests:
#   - the broker gets `--listen 127.0.0.1:PORT` (a free port instead of the
#     default 9092), the `eddy` commands find it through EDDY_BOOTSTRAP_SERVER
#     and the wordcount instances through `-X bootstrap.servers=...`;
#   - /tmp/ becomes a private temporary directory;
#   - after the line starting the broker, the runner waits until it listens;
#     a `group describe` line is repeated (up to 40 s) until its output shows
#     what its comment says, as someone reading along would wait; after a
#     `kill ... %N` line, the runner waits for job N to end;
#   - at the end the runner waits for the rerun to commit everything (lag 0)
#     and reads word-counts, then stops what the quick start started.
#
#   docs_quickstart.sh EDDY WORDCOUNT
set -euo pipefail
EDDY=$(realpath "${1:?usage: docs_quickstart.sh EDDY WORDCOUNT}")
WC=$(realpath "${2:?usage: docs_quickstart.sh EDDY WORDCOUNT}")
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
LIMIT=${DOCS_QUICKSTART_LIMIT:-240} # seconds for the whole quick start (a bound for a stuck run)

WORK=$(mktemp -d /tmp/eddy-docqs-XXXXXX)
SPID=""
cleanup() {
    # The quick start runs in a session of its own (setsid): its broker and
    # apps are in that process group, so they go with it even when a line
    # hangs.
    if [ -n "$SPID" ]; then
        kill -TERM -- "-$SPID" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 -- "-$SPID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$SPID" 2>/dev/null || true
    fi
    [ -n "${DOCS_QUICKSTART_KEEP:-}" ] && echo "kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
    echo "FAIL [docs_quickstart]: $*" >&2
    for f in "$WORK"/bg.*.log; do
        [ -f "$f" ] && { echo "--- tail of $(head -c 200 "$f.cmd" 2>/dev/null)" >&2; tail -n 15 "$f" >&2; }
    done
    exit 1
}

PORT=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# A tree like the repository's, with the binaries under test.
mkdir -p "$WORK/repo/build/bin" "$WORK/repo/build/examples" "$WORK/tmp"
ln -s "$EDDY" "$WORK/repo/build/bin/eddy"
ln -s "$WC" "$WORK/repo/build/examples/wordcount"
ln -s "$SRC/README.md" "$WORK/repo/README.md"
ln -s "$SRC/docs" "$WORK/repo/docs"

# The true counts, as examples/wordcount.c splits words (ASCII letters and
# digits, lower-cased): of the lines produced first, and of all of them.
count_words() {
    tr -c 'A-Za-z0-9' '\n' | tr 'A-Z' 'a-z' | awk 'NF { c[$1]++ } END { for (w in c) print w, c[w] }' | sort
}
(cd "$WORK/repo" && cat README.md docs/*.md) | count_words > "$WORK/truth1"

# Extract the blocks and write the script: line K's output goes to out.K
# (a background command's to bg.K.log).
python3 - "$SRC/README.md" "$WORK" "$PORT" <<'PY' || fail "cannot extract the quick start from README.md"
import re, sys
readme, work, port = sys.argv[1], sys.argv[2], sys.argv[3]
blocks, inside, fence = [], False, None
for ln in open(readme).read().split("\n"):
    if fence is not None:
        if ln.startswith("```"):
            blocks.append(fence)
            fence = None
        else:
            fence.append(ln)
        continue
    if ln.startswith("## "):
        inside = ln.strip().startswith("## Streams quick start")
    elif inside and ln.strip() == "```sh":
        fence = []
if len(blocks) != 4:
    sys.exit("README.md's quick start has %d sh blocks, expected 4 (broker, two instances, "
             "kill, reset)" % len(blocks))
# errexit, but no pipefail: as typed in a shell, `sort | head` may end sort by SIGPIPE.
out = ["set -e", "cd %s/repo" % work, "export EDDY_BOOTSTRAP_SERVER=127.0.0.1:%s" % port,
       ". %s/helpers.sh" % work]
k = 0
seen = {"broker": 0, "describe": 0, "kill": 0, "reset": 0, "consume": 0}
for bi, b in enumerate(blocks):
    lines, cur = [], ""
    for ln in b:
        cur = cur + "\n" + ln if cur else ln
        if not cur.rstrip().endswith("|") and not cur.rstrip().endswith("\\"):
            lines.append(cur)
            cur = ""
    if cur:
        lines.append(cur)
    for ln in lines:
        if not ln.strip():
            continue
        code, _, comment = ln.partition("  #")
        code = code.replace("/tmp/", work + "/tmp/")
        code = code.replace("build/examples/wordcount",
                            "build/examples/wordcount -X bootstrap.servers=127.0.0.1:" + port)
        k += 1
        out.append("echo %d > %s/at" % (k, work))
        open("%s/code.%d" % (work, k), "w").write("block %d: %s" % (bi + 1, ln))
        bg = code.rstrip().endswith("&")
        if "eddy broker" in code:
            if not bg:
                sys.exit("the broker line is not started in the background: " + ln)
            code = code.rstrip()[:-1].rstrip() + " --listen 127.0.0.1:%s &" % port
            seen["broker"] += 1
        if bg:
            open("%s/bg.%d.log.cmd" % (work, k), "w").write(ln)
            out.append("%s > %s/bg.%d.log 2>&1 &" % (code.rstrip()[:-1].rstrip(), work, k))
            if "eddy broker" in code:
                out.append("wait_listening %s" % port)
            continue
        m = re.search(r"(\d+) members?\b", comment)
        if "group describe" in code and m:
            seen["describe"] += 1
            out.append("describe_until %d %s %d %s/out.%d %s" % (
                int(m.group(1)), "1" if "lag 0" in comment else "0", k, work, k, code.strip()))
            continue
        out.append("{\n%s\n} > %s/out.%d 2>&1" % (code, work, k))
        km = re.match(r"\s*kill\b.*%(\d+)\s*$", code)
        if km:
            seen["kill"] += 1
            out.append("wait %%%s 2>/dev/null || true" % km.group(1))
        if "app reset" in code:
            seen["reset"] += 1
        if "topic consume word-counts" in code:
            seen["consume"] += 1
            out.append("cp %s/out.%d %s/top10" % (work, k, work))
if seen != {"broker": 1, "describe": 2, "kill": 2, "reset": 1, "consume": 1}:
    sys.exit("the quick start does not have the steps this test checks: %r" % seen)
out.append("echo final > %s/at" % work)
out.append("describe_until 1 1 final %s/out.final build/bin/eddy group describe wordcount" % work)
out.append("build/bin/eddy topic consume word-counts -e -f '%%k %%v\\n' --value-format int64 > %s/final.counts" % work)
out.append("echo done > %s/at" % work)
open(work + "/quickstart.sh", "w").write("\n".join(out) + "\n")
PY

# describe_until MEMBERS LAG0 K OUT CMD...: runs CMD until check_describe
# accepts its output (what the README's comment says), at most 40 s.
cat > "$WORK/helpers.sh" <<EOF
wait_listening() {
    for _ in \$(seq 1 100); do
        (exec 3<>/dev/tcp/127.0.0.1/\$1) 2>/dev/null && return 0
        sleep 0.1
    done
    echo "the broker does not listen on port \$1 after 10 s" >&2
    return 1
}
describe_until() {
    local members=\$1 lag0=\$2 k=\$3 out=\$4 end=\$((SECONDS + 40))
    shift 4
    while :; do
        "\$@" > "\$out" 2>&1 || true
        python3 $WORK/check_describe.py "\$out" "\$members" "\$lag0" 2> "\$out.why" && return 0
        if [ \$SECONDS -ge \$end ]; then
            echo "line \$k: after 40 s, \$* does not show what the README says: \$(cat "\$out.why")" >&2
            cat "\$out" >&2
            return 1
        fi
        sleep 0.5
    done
}
EOF
cat > "$WORK/check_describe.py" <<'PY'
# check_describe.py OUT MEMBERS LAG0: `eddy group describe wordcount` shows
# MEMBERS members that split the 4 partitions of `lines` (one member: it has
# all 4), and with LAG0=1 every committed offset has lag 0.
import re, sys
text = open(sys.argv[1]).read()
members, lag0 = int(sys.argv[2]), sys.argv[3] == "1"
m = re.search(r"members: (\d+)", text)
if not m or int(m.group(1)) != members:
    sys.exit("members: %s, expected %d" % (m.group(1) if m else "none", members))
owned = []
for mm in re.finditer(r"^  member (\S+) .*?: (\d+) partition\(s\)(.*)$", text, re.M):
    owned.append(sorted(int(p) for p in re.findall(r"\blines-(\d+)\b", mm.group(3))))
if len(owned) != members:
    sys.exit("%d member lines, expected %d" % (len(owned), members))
if any(not o for o in owned) or sorted(sum(owned, [])) != [0, 1, 2, 3]:
    sys.exit("the partitions of lines are not split between the members: %r" % owned)
if lag0:
    rows = re.findall(r"^  (\S+)\s+(\d+)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)\s", text, re.M)
    if sorted(int(r[1]) for r in rows if r[0] == "lines") != [0, 1, 2, 3]:
        sys.exit("no committed offset for every partition of lines yet")
    behind = [r for r in rows if r[4] != "0"]
    if behind:
        sys.exit("lag not 0 yet: %r" % behind)
PY

t0=$SECONDS
setsid bash "$WORK/quickstart.sh" < /dev/null > "$WORK/quickstart.out" 2>&1 &
SPID=$!
deadline=$((SECONDS + LIMIT))
while kill -0 "$SPID" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
at=$(cat "$WORK/at" 2>/dev/null || echo start)
if kill -0 "$SPID" 2>/dev/null; then
    fail "the quick start did not finish within $LIMIT s; stuck at $(cat "$WORK/code.$at" 2>/dev/null || echo "$at"):
$(cat "$WORK/out.$at" 2>/dev/null)"
fi
rc=0
wait "$SPID" || rc=$?
if [ "$rc" != 0 ] || [ "$at" != done ]; then
    fail "the quick start failed (status $rc) at $(cat "$WORK/code.$at" 2>/dev/null || echo "$at"):
$(cat "$WORK/out.$at" 2>/dev/null)
$(cat "$WORK/quickstart.out")"
fi

# The top 10 after the first run: 10 lines, each a word's true count.
[ "$(wc -l < "$WORK/top10")" = 10 ] || fail "the top-10 pipeline printed $(wc -l < "$WORK/top10") lines: $(cat "$WORK/top10")"
awk 'NR == FNR { t[$1] = $2; next } t[$2] != $1 { print "the README'"'"'s pipeline prints " $1 " " $2 ", the true count is " (t[$2] == "" ? "none" : t[$2]); bad = 1 }
     END { exit bad }' "$WORK/truth1" "$WORK/top10" > "$WORK/top10.why" ||
    fail "$(cat "$WORK/top10.why")"

# After reset and rerun: the latest count of every word is its true count.
(cd "$WORK/repo" && cat README.md docs/*.md && echo "the quick brown fox") | count_words > "$WORK/truth2"
awk '{ c[$1] = $2 } END { for (w in c) print w, c[w] }' "$WORK/final.counts" | sort > "$WORK/got2"
cmp -s "$WORK/truth2" "$WORK/got2" ||
    fail "after app reset and the rerun, the latest counts are not the true counts ($(wc -l < "$WORK/truth2") words): $(diff "$WORK/truth2" "$WORK/got2" | head -n 8)"

kill -TERM -- "-$SPID" 2>/dev/null || true
echo "docs_quickstart: README.md's quick start works as written (port $PORT; $((SECONDS - t0)) s)"

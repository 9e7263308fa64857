#!/bin/sh
# The C layout of .clang-format, checked or applied.
#
#   scripts/format.sh check [--changed] [FILE...]  exit 1 listing the files that differ
#   scripts/format.sh diff  [--changed] [FILE...]  print what apply would change
#   scripts/format.sh apply [--changed] [FILE...]  rewrite the files in place
#
# Without FILE: every tracked .c and .h file of the repository. --changed: only the
# .c/.h files changed since this branch left origin/main (its merge base; committed or
# not), or, without an origin/main to compare with, those of the last commit and the
# working tree.
#
# The formatter is clang-format 19 (scripts/install-deps.sh installs clang-format-19):
# other versions lay some lines out differently, so none is taken in its place.
# CLANG_FORMAT=/path/to/clang-format-19 names another copy of version 19.
# Exit status: 0 formatted (check) or done, 1 files differ (check), 2 cannot run.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CONFIG="$ROOT/.clang-format"
WANT_MAJOR=19

usage() {
    echo "usage: scripts/format.sh check|diff|apply [--changed] [FILE...]" >&2
    exit 2
}

die() {
    echo "format: $*" >&2
    exit 2
}

[ $# -ge 1 ] || usage
MODE=$1
shift
case "$MODE" in
check | diff | apply) ;;
*) usage ;;
esac
CHANGED=0
if [ "${1:-}" = --changed ]; then
    CHANGED=1
    shift
fi

# The major version a clang-format binary reports ("... clang-format version 19.1.7 ...").
major_of() {
    "$1" --version 2>/dev/null | sed -n 's/.*clang-format version \([0-9][0-9]*\)\..*/\1/p'
}

CF=""
for c in ${CLANG_FORMAT:-} clang-format-$WANT_MAJOR clang-format; do
    if command -v "$c" >/dev/null 2>&1 && [ "$(major_of "$c")" = "$WANT_MAJOR" ]; then
        CF=$c
        break
    fi
done
if [ -z "$CF" ]; then
    found=$(command -v clang-format 2>/dev/null || true)
    [ -n "$found" ] && found=" (clang-format here is version $(major_of clang-format), whose layout differs)"
    die "clang-format $WANT_MAJOR not found$found; install it with scripts/install-deps.sh (Debian package clang-format-$WANT_MAJOR), or name a copy with CLANG_FORMAT=PATH"
fi
[ -f "$CONFIG" ] || die "$CONFIG is missing"

# The file list, one per line, in LIST.
LIST=$(mktemp)
OUT=$(mktemp)
FMT=$(mktemp)
trap 'rm -f "$LIST" "$OUT" "$FMT"' EXIT INT TERM

if [ $# -gt 0 ]; then
    for f in "$@"; do
        [ -f "$f" ] || die "$f: no such file"
        printf '%s\n' "$f"
    done >"$LIST"
else
    cd "$ROOT"
    git rev-parse --git-dir >/dev/null 2>&1 ||
        die "$ROOT is not a git checkout: name the files to $MODE"
    if [ "$CHANGED" = 1 ]; then
        base=""
        if mb=$(git merge-base HEAD origin/main 2>/dev/null); then
            base=$mb
        elif git rev-parse -q --verify HEAD~1 >/dev/null; then
            base=HEAD~1
        fi
        if [ -n "$base" ]; then
            git diff --name-only --diff-filter=d "$base" -- '*.c' '*.h'
        else
            git ls-files '*.c' '*.h'
        fi >"$LIST"
    else
        git ls-files '*.c' '*.h' >"$LIST"
    fi
fi

# Trailing comments that end past column 98. AlignTrailingComments: Leave keeps the
# columns of trailing comments, but in clang-format 19 one that ends at column 99 or
# later makes it drop the columns of the trailing comments that follow in the file
# (llvm-project issue 200489): apply would silently unalign them, and check would
# then pass. So such a comment is an error of its own, found before formatting.
long_comments() {
    tr '\n' '\0' <"$LIST" | xargs -0 -r awk '
        FNR == 1 { off = 0 }
        /clang-format off/ { off = 1 }
        /clang-format on/ { off = 0 }
        {
            line = $0
            sub(/[ \t]*\\?[ \t]*$/, "", line) # a macro line ends in a backslash
            if (off || line ~ /^[ \t]*(\/\*|\/\/|\*)/) next
            if ((line ~ /\*\/$/ && index(line, "/*") > 0) || line ~ /[;,{})] *\/\//)
                if (length(line) > 98)
                    printf "format: %s:%d: trailing comment ends at column %d, past 98: " \
                        "shorten it or move it onto a line of its own\n", FILENAME, FNR, length(line)
        }'
}

if [ "$MODE" = apply ]; then
    long_comments >&2
    # One clang-format per 32 files: the list can be long.
    tr '\n' '\0' <"$LIST" | xargs -0 -r -n 32 "$CF" -i --style="file:$CONFIG"
    echo "format: applied clang-format $WANT_MAJOR to $(wc -l <"$LIST" | tr -d ' ') files"
    exit 0
fi

nfiles=0
nbad=0
nlines=0
long_comments >"$OUT"
cat "$OUT" >&2
ncomments=$(wc -l <"$OUT" | tr -d ' ')
while IFS= read -r f; do
    nfiles=$((nfiles + 1))
    "$CF" --style="file:$CONFIG" "$f" >"$FMT" || die "$f: clang-format failed"
    # The file's own name on both sides, so that `patch -p0` takes the diff.
    diff -u --label "$f" --label "$f" "$f" "$FMT" >"$OUT" && continue
    n=$(awk 'NR > 2 && /^[-+]/' "$OUT" | wc -l | tr -d ' ')
    nbad=$((nbad + 1))
    nlines=$((nlines + n))
    if [ "$MODE" = diff ]; then
        cat "$OUT"
    else
        echo "format: $f: $n lines differ"
    fi
done <"$LIST"

if [ "$ncomments" -gt 0 ]; then
    echo "format: $ncomments trailing comments end past column 98 (listed above)" >&2
fi
if [ "$nbad" -gt 0 ] && [ "$MODE" = check ]; then
    echo "format: $nbad of $nfiles files are not formatted ($nlines lines of diff):" \
        "scripts/format.sh diff shows the changes, make format (scripts/format.sh apply) makes them" >&2
fi
if [ "$nbad" -gt 0 ] || [ "$ncomments" -gt 0 ]; then
    exit 1
fi
[ "$MODE" = check ] && echo "format: $nfiles files formatted as .clang-format says (clang-format $WANT_MAJOR)"
exit 0

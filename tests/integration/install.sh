#!/usr/bin/env bash
# `make install` as a user outside the tree meets it: install into a staging
# root (DESTDIR) under a prefix chosen at install time, then, with nothing
# but what was installed:
#   - build a copy of examples/wordcount.c with
#     cc app.c $(pkg-config --cflags --libs eddy), as the README shows;
#   - build a small app that embeds the broker (eddy_broker.h);
#   - run the installed `eddy broker`, create and fill topics with the
#     installed `eddy`, run the word count on it and check its counts
#     against a reference (awk), stop it with SIGTERM (exit 0);
#   - start the embedded broker, list its topics, stop it.
#
#   install.sh BUILD_DIR SANITIZE(ON|OFF)
. "$(dirname "$0")/../compat/lib.sh"
BUILD=$(cd "$1" && pwd)
SANITIZE=${2:-OFF}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
compat_init install "$BUILD/bin/eddy"
need cmake cc pkg-config awk timeout
export LC_ALL=C

# ---- install: DESTDIR and a prefix given at install time, not at configure time.
PREFIX=/opt/eddy-test
DEST=$WORK/dest
DESTDIR=$DEST cmake --install "$BUILD" --prefix "$PREFIX" >"$WORK/install.log" 2>&1 ||
    { cat "$WORK/install.log" >&2; fail "cmake --install failed"; }
ROOT=$DEST$PREFIX
for f in bin/eddy include/eddy/eddy.h include/eddy/eddy_broker.h include/eddy/common/config.h; do
    [ -f "$ROOT/$f" ] || fail "$f was not installed under $ROOT"
done
PC=$(find "$ROOT" -name eddy.pc)
[ -n "$PC" ] || fail "eddy.pc was not installed under $ROOT"
LIB=$(find "$ROOT" -name libeddy.a)
[ -n "$LIB" ] || fail "libeddy.a was not installed under $ROOT"
# Nothing may point back into the build or source tree.
if grep -q -e "$BUILD" -e "$SRC" "$PC"; then fail "eddy.pc names the build or source tree"; fi
log "installed into $ROOT: $(cd "$ROOT" && find . -type f | sort | tr '\n' ' ')"

# ---- build two apps outside the tree with only pkg-config's answer.
APP=$WORK/app
mkdir -p "$APP"
cp "$SRC/examples/wordcount.c" "$APP/app.c"
cat >"$APP/embed.c" <<'EOF'
/* A broker inside an app: eddy_broker.h from the installed headers. */
#include <stdio.h>
#include <eddy_broker.h>

int main(int argc, char **argv)
{
    char err[512], set[1024];
    eddy_props_t props;
    eddy_props_init(&props);
    snprintf(set, sizeof set, "log.dirs=%s", argc > 1 ? argv[1] : "embed-data");
    if (eddy_props_set(&props, "embed", set, err, sizeof err) < 0 ||
        eddy_props_set(&props, "embed", "listeners=PLAINTEXT://127.0.0.1:0", err, sizeof err) < 0) {
        fprintf(stderr, "embed: %s\n", err);
        return 1;
    }
    eddy_broker_t *b = eddy_broker_new(&props, err, sizeof err);
    eddy_props_free(&props);
    if (!b) {
        fprintf(stderr, "embed: %s\n", err);
        return 1;
    }
    printf("port %d\n", eddy_broker_port(b));
    fflush(stdout);
    int rc = eddy_broker_run(b, 1);
    eddy_broker_destroy(b);
    return rc ? 1 : 0;
}
EOF
FLAGS=$(PKG_CONFIG_PATH=$(dirname "$PC") pkg-config --cflags --libs eddy) ||
    fail "pkg-config --cflags --libs eddy failed"
log "pkg-config: $FLAGS"
# The library of a sanitizer build calls into the sanitizer runtimes.
SAN=""
[ "$SANITIZE" = ON ] && SAN="-fsanitize=address,undefined"
(cd "$APP" && cc -O1 $SAN app.c -o app $FLAGS) >"$WORK/cc.log" 2>&1 ||
    { cat "$WORK/cc.log" >&2; fail "cc app.c \$(pkg-config --cflags --libs eddy) failed"; }
(cd "$APP" && cc -O1 $SAN embed.c -o embed $FLAGS) >"$WORK/cc.log" 2>&1 ||
    { cat "$WORK/cc.log" >&2; fail "cc embed.c \$(pkg-config --cflags --libs eddy) failed"; }

# ---- run them: the installed broker and CLI, the app built outside.
EDDY=$ROOT/bin/eddy
start_broker "$WORK/data"
E() { timeout "$CLIENT_TIMEOUT" "$EDDY" -b "$BOOTSTRAP" "$@"; }
E topic create lines -p 2 >/dev/null
E topic create word-counts -p 2 >/dev/null
awk 'BEGIN { srand(7); split("alpha beta gamma delta eddy kafka stream", v, " ");
             for (i = 0; i < 300; i++) { l = ""; for (j = 0; j < 5; j++) l = l " " v[1 + int(rand() * 7)]; print l } }' \
    >"$WORK/lines.txt"
E topic produce lines <"$WORK/lines.txt" >/dev/null
tr ' ' '\n' <"$WORK/lines.txt" | awk 'NF { c[$1]++ } END { for (w in c) print w, c[w] }' | sort >"$WORK/want"

"$APP/app" -X "bootstrap.servers=$BOOTSTRAP" -X application.id=installed-wc -X "state.dir=$WORK/state" \
    -X commit.interval.ms=200 >"$WORK/app.log" 2>&1 </dev/null &
APP_PID=$!
bg_started "$APP_PID"
for _ in $(seq 1 60); do
    E topic consume word-counts -o beginning -e -f '%k %v\n' --value-format int64 |
        awk '{ c[$1] = $2 } END { for (w in c) print w, c[w] }' | sort >"$WORK/got"
    cmp -s "$WORK/got" "$WORK/want" && break
    kill -0 "$APP_PID" 2>/dev/null || { tail -n 20 "$WORK/app.log" >&2; fail "the app exited early"; }
    sleep 0.5
done
cmp -s "$WORK/got" "$WORK/want" || {
    diff "$WORK/want" "$WORK/got" >&2 || true
    tail -n 20 "$WORK/app.log" >&2
    fail "the app built from the installed library did not count the words within 30 s"
}
kill -TERM "$APP_PID"
rc=0
timeout 30 tail --pid="$APP_PID" -f /dev/null || fail "the app did not stop within 30 s of SIGTERM"
wait "$APP_PID" || rc=$?
bg_done "$APP_PID"
[ "$rc" = 0 ] || { tail -n 20 "$WORK/app.log" >&2; fail "the app exited $rc after SIGTERM"; }
log "word count built outside the tree: $(wc -l <"$WORK/want") words counted right, clean stop"
stop_broker

"$APP/embed" "$WORK/embed-data" >"$WORK/embed.out" 2>"$WORK/embed.log" </dev/null &
EMBED_PID=$!
bg_started "$EMBED_PID"
port=""
for _ in $(seq 1 100); do
    port=$(sed -n 's/^port \([0-9][0-9]*\)$/\1/p' "$WORK/embed.out")
    [ -n "$port" ] && break
    kill -0 "$EMBED_PID" 2>/dev/null || { cat "$WORK/embed.log" >&2; fail "the embedded broker exited"; }
    sleep 0.1
done
[ -n "$port" ] || fail "the embedded broker printed no port within 10 s"
timeout "$CLIENT_TIMEOUT" "$EDDY" -b "127.0.0.1:$port" topic create embedded -p 1 >/dev/null ||
    fail "could not create a topic on the embedded broker"
timeout "$CLIENT_TIMEOUT" "$EDDY" -b "127.0.0.1:$port" topic list | grep -qw embedded ||
    fail "the embedded broker does not list the topic created on it"
kill -TERM "$EMBED_PID"
rc=0
timeout 30 tail --pid="$EMBED_PID" -f /dev/null || fail "the embedded broker did not stop within 30 s"
wait "$EMBED_PID" || rc=$?
bg_done "$EMBED_PID"
[ "$rc" = 0 ] || { cat "$WORK/embed.log" >&2; fail "the embedded broker exited $rc after SIGTERM"; }
log "embedded broker built outside the tree: served and stopped cleanly"
log "PASS"

#!/bin/sh
# Installs the Debian packages Eddy builds and tests with, only those missing.
# Runs as root (CI, containers) or through sudo.
set -eu

# Build: compiler, cmake, the libraries (the four compression codecs among them). Tests: Check, clang with libFuzzer
# (the fuzz target), the real clients of the compatibility tests, python3
# (broker_limits drives raw sockets with the standard library only), and
# clang-format-19 (the `format` test; versions differ in layout, so one is pinned).
PACKAGES="gcc make cmake pkg-config libuv1-dev liblmdb-dev libmsgpack-dev libssl-dev openssl check
          zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev
          clang libclang-rt-dev kcat librdkafka-dev nodejs npm python3 clang-format-19"

# Apache Kafka for the compatibility tests and benchmarks (scripts/kafka.sh
# fetches its jars with Maven): a JDK 17+ and Maven, unless already there
# (machines that bring their own JDK keep it).
command -v java >/dev/null 2>&1 || PACKAGES="$PACKAGES openjdk-17-jdk-headless"
command -v mvn >/dev/null 2>&1 || PACKAGES="$PACKAGES maven"

missing=""
for p in $PACKAGES; do
    # Some Node.js builds (NodeSource) ship npm inside the nodejs package and
    # conflict with Debian's npm: a working npm is what counts.
    [ "$p" = npm ] && command -v npm >/dev/null 2>&1 && continue
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=sudo
    else
        echo "install-deps: need root (or sudo) to install:$missing" >&2
        exit 1
    fi
fi
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing

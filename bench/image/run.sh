#!/usr/bin/env bash
# Image pull benchmark: cold pull + unpack + ext4 disk of a ~300 MB debootstrap Debian image from a
# local docker-registry, side by side with skopeo copy + umoci unpack + mke2fs -d; then warm pulls.
# Needs root (unpack preserves owners, makes device nodes), docker-registry, skopeo, umoci,
# e2fsprogs, debootstrap (and Debian's mirror, once, to make the rootfs).
#   bench/image/run.sh            # writes bench/image/RESULTS.md
# Env: INFERNO_DEBIAN_ROOTFS (an existing rootfs dir), INFERNO_BENCH_CACHE (default /var/tmp/inferno-bench),
#      ROUNDS (default 2).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${INFERNO_BENCH_CACHE:-/var/tmp/inferno-bench}
ROOTFS=${INFERNO_DEBIAN_ROOTFS:-$CACHE/debian-rootfs}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
mkdir -p "$CACHE"
if [ ! -x "$ROOTFS/bin/bash" ]; then
  echo "making a Debian rootfs with debootstrap in $ROOTFS (once)" >&2
  debootstrap bookworm "$ROOTFS" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1
fi
cd "$ROOT"
./mvnw -q -B -pl image -am install -DskipTests
./mvnw -q -B -pl image test-compile dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile="$CACHE/classpath.txt" >/dev/null
CP="image/target/classes:image/target/test-classes:$(cat "$CACHE/classpath.txt")"
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx512m -cp "$CP" \
  dev.inferno.image.bench.PullBench "$ROOTFS" "$CACHE/work" "${ROUNDS:-2}" | tee "$ROOT/bench/image/RESULTS.md"
rm -rf "$CACHE/work"

#!/usr/bin/env bash
# The daemon's cost per running VM of stats and health checks (issue 12), beside the same VMs without them.
# Usage: bench/observe/run.sh [fake VMs (200)] [rounds (2)]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
vms="${1:-200}"; rounds="${2:-2}"
work="${BENCH_DIR:-/tmp/bench-observe}"
rm -rf "$work"; mkdir -p "$work"
cd "$root"
# the daemon and its test doubles (MemoryImageBackend) from this tree
./mvnw -q -B -o -pl inferno-daemon -am install -DskipTests -Dspotless.skip=true
./mvnw -q -B -o -pl inferno-daemon test-compile -Dspotless.skip=true
./mvnw -q -B -o -pl inferno-daemon dependency:build-classpath -Dmdep.outputFile="$work/cp.txt" >/dev/null
cp="$root/inferno-daemon/target/classes:$root/inferno-daemon/target/test-classes:$(cat "$work/cp.txt")"
ulimit -n 65536 2>/dev/null || true
echo "bench/observe/run.sh $vms $rounds, $(date -u +%Y-%m-%dT%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
# alternating, each in a fresh JVM of the same flags (-Xmx512m, as a daemon would run)
for ((r = 1; r <= rounds; r++)); do
  for mode in off on; do
    "$JAVA_HOME/bin/java" -Xmx512m --enable-native-access=ALL-UNNAMED -cp "$cp" \
      "$root/bench/observe/ObserveBench.java" "$mode" "$vms" "$work/$mode$r" 2>"$work/$mode$r.log"
  done
done

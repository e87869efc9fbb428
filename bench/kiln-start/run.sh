#!/usr/bin/env bash
# kiln supervision benchmarks (issue 5): spec ready -> VMM started, and per-VM supervision memory.
# Usage: bench/kiln-start/run.sh [start runs (20)] [supervised fake VMs (200)]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
runs="${1:-20}"; vms="${2:-200}"
work="${BENCH_DIR:-/tmp/bench-kiln-start}"
rm -rf "$work"; mkdir -p "$work"
cd "$root"
kernel/build.sh >/dev/null
init="$root/build/init/init"
[[ -x "$init" ]] || init="$(init/build.sh)"
./mvnw -q -B -pl kiln -am install -DskipTests -Dspotless.skip=true
./mvnw -q -B -pl kiln dependency:build-classpath -Dmdep.outputFile="$work/cp.txt" >/dev/null
cp="$root/kiln/target/classes:$(cat "$work/cp.txt")"
ulimit -n 65536 2>/dev/null || true
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$cp" "$root/bench/kiln-start/StartBench.java" \
  "$root/build/kernel/vmlinux" "$init" "$runs" "$vms" "$work"

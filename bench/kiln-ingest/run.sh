#!/usr/bin/env bash
# Host log ingest benchmark (issue 5): kiln's append+force+ack path vs a raw socat unix-socket-to-file copy.
# Usage: bench/kiln-ingest/run.sh [total MiB (256)] [bytes per frame (4096)] [guest buffer bytes (1048576)]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
mib="${1:-256}"; chunk="${2:-4096}"; window="${3:-1048576}"
work="${BENCH_DIR:-$root/target/bench-kiln-ingest}"
mkdir -p "$work"
cd "$root"
./mvnw -q -B -pl kiln -am install -DskipTests -Dspotless.skip=true
./mvnw -q -B -pl kiln dependency:build-classpath -Dmdep.outputFile="$work/cp.txt" >/dev/null
cp="$root/kiln/target/classes:$(cat "$work/cp.txt")"
exec "$JAVA_HOME/bin/java" -cp "$cp" "$root/bench/kiln-ingest/IngestBench.java" "$mib" "$chunk" "$window" "$work"

#!/usr/bin/env bash
# Runs every benchmark of inferno, one after another, each side by side with its baseline in the same run
# (see docs/benchmarks.md for the goals and the recorded results). As root; takes ~15 minutes (the image benchmark
# builds a Debian rootfs with debootstrap once and caches it).
#
#   bench/run.sh            all of them
#   bench/run.sh NAME...    some of them: init, kiln-ingest, kiln-start, image, cli, net, exec, observe, docker
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/env.sh
all=(init kiln-ingest kiln-start image cli net exec observe docker)
(($#)) && set -- "$@" || set -- "${all[@]}"
for name in "$@"; do
  printf '\n=== bench %s (%s)\n' "$name" "$(date -u +%Y-%m-%dT%H:%MZ)"
  case $name in
    init)
      kernel/build.sh
      (cd init && cargo test --release --test bench -- --ignored --nocapture)
      ;;
    kiln-ingest) bench/kiln-ingest/run.sh 128 4096 ;;
    kiln-start) bench/kiln-start/run.sh 20 200 ;;
    image) bench/image/run.sh ;;
    cli) bench/cli/run.sh 20 && bench/cli/run-latency.sh 20 ;;
    net) bench/net/run.sh 20 5 ;;
    exec) bench/exec/run.sh 30 3 16 ;;
    observe) bench/observe/run.sh 200 2 ;;
    docker) bench/docker/run.sh 10 ;;
    *) echo "unknown benchmark $name (one of: ${all[*]})" >&2; exit 2 ;;
  esac
done

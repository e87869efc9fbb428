#!/usr/bin/env bash
# `run -d` latency on a cached image, excluding guest boot (issue 6 goal: <= 100 ms): the daemon's
# create + start of a VM until its VMM process runs, which is when POST /v1/vms answers (201). Measured
# with curl on the API socket (the daemon's part alone) and as the whole `inferno run -d` command (adds
# the CLI's JVM start). Median of N each; after every measurement the VM is waited for and removed, so
# no guest boots in the background of the next one.
#
#   bench/cli/run-latency.sh [N]     default N=20; needs kernel/build.sh, init/build.sh and a build
#   BASELINE=/other/checkout/bin/inferno bench/cli/run-latency.sh [N]
#                                    also times that launcher's `run -d`, interleaved with this one's
#
# The real daemon: image module, kiln, QEMU (TCG here: KVM does not work on the build machine; the
# VMM process starts the same way under KVM), the busybox image from scripts/make-busybox-image.sh.
set -euo pipefail
n=${1:-20}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../lib/daemon.sh
source "$root/bench/lib/daemon.sh"

settle() { # wait for the VM to exit and remove it
  api -X POST "http://inferno/v1/vms/$1/wait" > /dev/null
  api -X DELETE "http://inferno/v1/vms/$1" > /dev/null
}

# warm-up (JIT, page cache, the image's disk)
for _ in 1 2; do
  id=$(api -X POST -H 'Content-Type: application/json' -d '{"image":"busybox:latest","cmd":["true"]}' \
    http://inferno/v1/vms | jq -r .id)
  settle "$id"
done

for _ in $(seq "$n"); do
  out=$(api -o "$work/resp" -w '%{time_total}' -X POST -H 'Content-Type: application/json' \
    -d '{"image":"busybox:latest","cmd":["true"]}' http://inferno/v1/vms)
  echo "$out * 1000" | bc -l >> "$work/api"
  settle "$(jq -r .id "$work/resp")"
done
baseline=${BASELINE:-}
cli() { # one `run -d` through launcher $1, its wall time appended to file $2
  local s=$EPOCHREALTIME
  local id
  id=$("$1" run -d busybox:latest true)
  local e=$EPOCHREALTIME
  echo "($e - $s) * 1000" | bc -l >> "$2"
  settle "$id"
}
if [ -n "$baseline" ]; then "$baseline" ps -a > /dev/null; fi # records its AOT cache if need be
for _ in $(seq "$n"); do
  cli "$inferno" "$work/cli"
  if [ -n "$baseline" ]; then cli "$baseline" "$work/base"; fi
done
echo "median of $n runs each ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"
printf '%-62s %8s ms\n' "POST /v1/vms (daemon create+start until the VMM runs)" "$(median < "$work/api")"
printf '%-62s %8s ms\n' "inferno run -d busybox:latest true (CLI + daemon)" "$(median < "$work/cli")"
if [ -n "$baseline" ]; then
  printf '%-62s %8s ms\n' "the same through $baseline" "$(median < "$work/base")"
fi

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
inferno="$root/bin/inferno"
kernel="$root/build/kernel/vmlinux"
init="$root/build/init/init"
[ -f "$kernel" ] && [ -f "$init" ] || { echo "run kernel/build.sh and init/build.sh first" >&2; exit 1; }
work=$(mktemp -d)
daemon_pid=
cleanup() {
  if [ -n "$daemon_pid" ]; then
    INFERNO_SOCKET="$work/s.sock" "$inferno" ps -a -q 2>/dev/null | while read -r id; do
      INFERNO_SOCKET="$work/s.sock" "$inferno" rm -f "$id" > /dev/null 2>&1 || true
    done
    kill "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

: > "$work/daemon.conf"
"$inferno" server --config "$work/daemon.conf" --state-dir "$work/state" --socket "$work/s.sock" \
  --kernel "$kernel" --init "$init" --vmm qemu --qemu-accel tcg > "$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 200); do [ -S "$work/s.sock" ] && break; sleep 0.1; done
export INFERNO_SOCKET="$work/s.sock"
"$root/scripts/make-busybox-image.sh" "$work/layout" latest > /dev/null
jq -c '.manifests[0].annotations["org.opencontainers.image.ref.name"] = "busybox:latest"' \
  "$work/layout/index.json" > "$work/index.json"
mv "$work/index.json" "$work/layout/index.json"
tar -C "$work/layout" -cf "$work/busybox.tar" .
"$inferno" load -i "$work/busybox.tar" > /dev/null

api() { curl -sS --unix-socket "$work/s.sock" "$@"; }
settle() { # wait for the VM to exit and remove it
  api -X POST "http://inferno/v1/vms/$1/wait" > /dev/null
  api -X DELETE "http://inferno/v1/vms/$1" > /dev/null
}
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m}'; }

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

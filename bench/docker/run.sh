#!/usr/bin/env bash
# The Docker API's cost (issue 13 goal: <= 1.1x): `docker run --rm busybox:latest true` through the daemon's Docker
# socket against `inferno run --rm busybox:latest true` on its own socket, same daemon, interleaved, N each. Both
# are whole commands a user types: the CLI's start, create, attach, start, the guest's boot and exit under QEMU
# (TCG here), wait, remove. Debian's docker CLI (20.10, API 1.41) always; the newer one in /usr/local/bin too when
# the machine has it.
#
#   bench/docker/run.sh [N]     default N=10; needs kernel/build.sh, init/build.sh and a build
set -euo pipefail
n=${1:-10}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../lib/daemon.sh
source "$root/bench/lib/daemon.sh"
for _ in $(seq 100); do [ -S "$work/d.sock" ] && break; sleep 0.1; done
clis=(/usr/bin/docker)
[ -x /usr/local/bin/docker ] && clis+=(/usr/local/bin/docker)
export DOCKER_CONFIG="$work/docker-config"
unset DOCKER_CONTEXT DOCKER_API_VERSION

timed() { # timed FILE CMD...: runs CMD (it must print nothing and exit 0), appends its wall ms to FILE
  local f=$1; shift
  local s=$EPOCHREALTIME
  out=$("$@" 2>&1) || { echo "failed: $* -> $out" >&2; exit 1; }
  [ -z "$out" ] || { echo "unexpected output from $*: $out" >&2; exit 1; }
  local e=$EPOCHREALTIME
  echo "($e - $s) * 1000" | bc -l >> "$f"
}
dock() { DOCKER_HOST="unix://$work/d.sock" "$@"; }
file() { echo "$work/docker$(echo "$1" | tr / _)"; } # one results file per CLI path

# warm-up: JIT of both paths, the page cache, the image's disk, the CLIs' AOT caches
for _ in 1 2; do
  timed "$work/warm" "$inferno" run --rm busybox:latest true
  for c in "${clis[@]}"; do timed "$work/warm" dock "$c" run --rm busybox:latest true; done
done
for _ in $(seq "$n"); do
  timed "$work/inferno" "$inferno" run --rm busybox:latest true
  for c in "${clis[@]}"; do timed "$(file "$c")" dock "$c" run --rm busybox:latest true; done
done
left=$("$inferno" ps -a -q | wc -l)
[ "$left" = 0 ] || { echo "$left VMs left behind" >&2; exit 1; }

base=$(median < "$work/inferno")
echo "median of $n runs each, interleaved ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"
printf '%-58s %8s ms\n' "inferno run --rm busybox:latest true (baseline)" "$base"
for c in "${clis[@]}"; do
  m=$(median < "$(file "$c")")
  v=$(dock "$c" version -f '{{.Client.Version}}/API {{.Client.APIVersion}}' 2>/dev/null || true)
  printf '%-58s %8s ms  %sx\n' "$c run --rm busybox:latest true ($v)" "$m" \
    "$(echo "scale=2; $m / $base" | bc -l)"
done

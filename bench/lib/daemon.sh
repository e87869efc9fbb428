# Sourced (bash) by the benchmarks that need the real daemon: bench/cli/run-latency.sh, bench/net/run.sh.
# Needs $root (the checkout); starts `inferno server` (image module, kiln, QEMU — TCG here, no KVM) on a
# scratch state dir and socket, loads busybox:latest from scripts/make-busybox-image.sh, and removes
# every VM, the daemon and the scratch dir on exit. Then: $inferno, $work, INFERNO_SOCKET, api, median; the
# Docker API is on $work/d.sock.
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
    nft delete table inet inferno_bench 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# its network named and numbered apart from a real daemon's on this host, whose rules and TAPs it
# must not touch
printf 'network-table = inferno_bench\nnetwork-tap-prefix = ib\nnetwork-pool = 10.215.0.0/16\n' \
  > "$work/daemon.conf"
"$inferno" server --config "$work/daemon.conf" --state-dir "$work/state" --socket "$work/s.sock" \
  --docker-socket "$work/d.sock" --kernel "$kernel" --init "$init" --vmm qemu --qemu-accel tcg > "$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 200); do [ -S "$work/s.sock" ] && break; sleep 0.1; done
export INFERNO_SOCKET="$work/s.sock"
"$root/scripts/make-busybox-image.sh" "$work/layout" latest > /dev/null
# umoci tags the layout "latest" only; name it busybox:latest, as `docker save` would
jq -c '.manifests[0].annotations["org.opencontainers.image.ref.name"] = "busybox:latest"' \
  "$work/layout/index.json" > "$work/index.json"
mv "$work/index.json" "$work/layout/index.json"
tar -C "$work/layout" -cf "$work/busybox.tar" .
"$inferno" load -i "$work/busybox.tar" > /dev/null

api() { curl -sS --unix-socket "$work/s.sock" "$@"; }
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m}'; }

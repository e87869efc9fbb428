#!/usr/bin/env bash
# From a fresh Debian 12 machine (as root) to a microVM running an image and printing its output:
# installs packages, builds inferno, gets a guest kernel, starts the daemon, runs an image.
#
#   sudo scripts/quickstart.sh [IMAGE [CMD...]]
#
# Without IMAGE: alpine from Docker Hub where the internet is reachable, else a busybox image built here from
# Debian's busybox-static and loaded with `inferno load`. The VM runs on Firecracker when KVM and the Firecracker
# binaries are present (scripts/fetch-firecracker.sh), otherwise on QEMU (software emulation: slow but it works).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[[ $(id -u) -eq 0 ]] || { echo "quickstart: run as root (the daemon creates VMs, disks and jails)" >&2; exit 1; }

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

say "system packages"
scripts/install-deps.sh
source scripts/env.sh

say "building: guest kernel, init, inferno"
kernel/build.sh
init/build.sh
./mvnw -q -B -ntp install -DskipTests

state=/var/lib/inferno
config=/etc/inferno/inferno.conf
socket=/run/inferno/inferno.sock
mkdir -p "$state/kernel" "$state/init" "$(dirname "$config")"
install -m 0644 build/kernel/vmlinux "$state/kernel/vmlinux"
install -m 0755 build/init/init "$state/init/init"
[[ -f $config ]] || bin/inferno init -p "$config"

if ! bin/inferno version > /dev/null 2>&1; then
  say "starting the daemon (log: /var/log/inferno.log)"
  nohup setsid bin/inferno server --config "$config" >> /var/log/inferno.log 2>&1 < /dev/null &
  for _ in $(seq 1 100); do
    [[ -S $socket ]] && bin/inferno version > /dev/null 2>&1 && break
    sleep 0.2
  done
  bin/inferno version > /dev/null || { echo "quickstart: the daemon did not start; see /var/log/inferno.log" >&2; exit 1; }
fi

if (($# > 0)); then
  image=$1
  shift
  cmd=("$@")
elif curl -s -o /dev/null --max-time 5 https://registry-1.docker.io/v2/; then
  image=alpine:3.20
  cmd=(sh -c 'echo "hello from $(cat /etc/alpine-release 2>/dev/null || echo alpine) in a microVM, kernel $(uname -r)"')
else
  say "no internet: building a busybox image from busybox-static"
  layout=$(mktemp -d)
  scripts/make-busybox-image.sh "$layout/busybox" latest > /dev/null
  # umoci tags the layout "latest" only; name it busybox:latest (as `docker save` would) so that
  # `inferno load` gives the image a name to run it by
  jq -c '.manifests[0].annotations["org.opencontainers.image.ref.name"] = "busybox:latest"' \
    "$layout/busybox/index.json" > "$layout/index.json"
  mv "$layout/index.json" "$layout/busybox/index.json"
  tar -C "$layout/busybox" -cf "$layout/busybox.tar" .
  bin/inferno load -i "$layout/busybox.tar"
  rm -rf "$layout"
  image=busybox:latest
  cmd=(sh -c 'echo "hello from busybox in a microVM, kernel $(uname -r)"')
fi

say "inferno run --rm $image ${cmd[*]}"
bin/inferno run --rm "$image" "${cmd[@]}"

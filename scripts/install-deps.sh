#!/usr/bin/env bash
# Installs every system package inferno needs to build, test and run (Debian 12 / Ubuntu), quietly and only when
# something is missing. Run as root.
set -euo pipefail
packages=(
  # build: Java comes from the JDK 25 on the machine (see scripts/env.sh), Rust from cargo
  build-essential file
  # guest init: Rust from cargo, static glibc from libc6-dev (part of build-essential); no crates
  # guest kernel: source + what `make` needs
  linux-source-6.1 bc bison flex libelf-dev libssl-dev xz-utils
  # VMs and disks
  qemu-system-x86 e2fsprogs cpio
  # tests: a real registry, image tooling, guest rootfs contents
  docker-registry skopeo umoci busybox-static debootstrap apache2-utils socat jq openssl python3
  # tests: /metrics read by the Prometheus text parser (prometheus_client.parser)
  python3-prometheus-client
  # VM networking: the daemon's nftables table, TAPs through ip; tests: a resolver and a client in a netns
  nftables dnsmasq iproute2 curl
  # tests of the Docker Engine API: Debian's docker CLI (client only: dockerd is never started, see below)
  docker.io
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # docker.io's maintainer scripts would start dockerd: refuse every service start during the install
  # (Debian's policy-rc.d protocol, exit 101), unless the machine already has a policy of its own
  policy=
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    policy=/usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy"
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
  if [[ -n $policy ]]; then
    rm -f "$policy"
    trap - EXIT
  fi
fi
# The packaged registry starts itself with an htpasswd config; tests start their own instances instead.
if command -v systemctl > /dev/null && systemctl is-active -q docker-registry 2> /dev/null; then
  systemctl stop docker-registry || true
fi
# The packaged dnsmasq starts a system-wide resolver on port 53; tests start their own in a namespace. Only a
# dnsmasq installed just now is stopped: one the admin already ran is theirs.
if [[ " ${missing[*]} " == *" dnsmasq "* ]] && command -v systemctl > /dev/null \
  && systemctl is-active -q dnsmasq 2> /dev/null; then
  systemctl disable --now dnsmasq || true
fi
echo "install-deps: all ${#packages[@]} packages present" >&2

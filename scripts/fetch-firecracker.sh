#!/usr/bin/env bash
# On a machine with internet: downloads the official Firecracker + jailer release and Firecracker's CI guest kernel,
# for users who do not want to build the project's kernel (kernel/build.sh). Not used by the tests (this project's
# machines have no internet and no KVM).
#
#   scripts/fetch-firecracker.sh [DEST]        default DEST: /opt/inferno/firecracker
#   FIRECRACKER_VERSION=v1.13.1                 the release to fetch (>= v1.13)
#   FIRECRACKER_SHA256=<hex>                    optional: pin the release tarball's sha256 (else the release's own
#                                               published .sha256.txt is checked)
#   CI_KERNEL_SHA256=<hex>                      optional: pin the CI kernel's sha256 (Firecracker publishes none; the
#                                               script prints the sum it got so you can pin it next time)
set -euo pipefail
dest=${1:-/opt/inferno/firecracker}
version=${FIRECRACKER_VERSION:-v1.13.1}
arch=$(uname -m)
releases=https://github.com/firecracker-microvm/firecracker/releases/download
ci_bucket=https://s3.amazonaws.com/spec.ccfc.min
ci_version=${version%.*} # the CI artifacts are per minor release: v1.13

command -v curl > /dev/null || { echo "fetch-firecracker: needs curl (apt-get install curl)" >&2; exit 1; }
mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

tgz=firecracker-$version-$arch.tgz
echo "fetching $releases/$version/$tgz"
curl -fsSL -o "$tmp/$tgz" "$releases/$version/$tgz"
if [[ -n ${FIRECRACKER_SHA256:-} ]]; then
  echo "$FIRECRACKER_SHA256  $tmp/$tgz" | sha256sum -c --quiet -
else
  curl -fsSL -o "$tmp/$tgz.sha256.txt" "$releases/$version/$tgz.sha256.txt"
  (cd "$tmp" && sha256sum -c --quiet "$tgz.sha256.txt")
fi
tar -C "$tmp" -xzf "$tmp/$tgz"
install -m 0755 "$tmp/release-$version-$arch/firecracker-$version-$arch" "$dest/firecracker"
install -m 0755 "$tmp/release-$version-$arch/jailer-$version-$arch" "$dest/jailer"
echo "firecracker and jailer $version in $dest (release checksum verified)"

# Firecracker's CI kernel: the newest vmlinux-X.Y.Z the bucket lists for this release line.
key=$(curl -fsSL "$ci_bucket/?prefix=firecracker-ci/$ci_version/$arch/vmlinux-&list-type=2" \
  | grep -oE "firecracker-ci/$ci_version/$arch/vmlinux-[0-9]+\.[0-9]+\.[0-9]{1,3}<" | tr -d '<' | sort -V | tail -n1)
[[ -n $key ]] || { echo "fetch-firecracker: no CI kernel listed for $ci_version/$arch" >&2; exit 1; }
curl -fsSL -o "$tmp/vmlinux" "$ci_bucket/$key"
sum=$(sha256sum "$tmp/vmlinux" | cut -d' ' -f1)
if [[ -n ${CI_KERNEL_SHA256:-} && $sum != "$CI_KERNEL_SHA256" ]]; then
  echo "fetch-firecracker: CI kernel checksum $sum does not match CI_KERNEL_SHA256" >&2
  exit 1
fi
install -m 0644 "$tmp/vmlinux" "$dest/vmlinux"
echo "$sum  vmlinux ($key)" > "$dest/vmlinux.sha256"
echo "CI kernel $key in $dest/vmlinux, sha256 $sum (pin it with CI_KERNEL_SHA256)"
echo "note: Firecracker's CI kernel has no virtio-serial; inferno uses vsock under Firecracker, so it works there."

#!/usr/bin/env bash
# Builds (or finds in the cache) a minimal Debian rootfs with debootstrap and prints its directory.
# Cached outside the repository in $INFERNO_CACHE/debootstrap/<key> (default ~/.cache/inferno), keyed by the suite,
# variant, mirror, architecture and this script, so a machine pays the few minutes once.
#   init/tests/rootfs/debian.sh            → prints the rootfs directory
set -euo pipefail
suite=${INFERNO_DEBIAN_SUITE:-bookworm}
variant=minbase
arch=$(dpkg --print-architecture)
mirror=${INFERNO_DEBIAN_MIRROR:-}
if [[ -z $mirror ]]; then
  # the mirror apt already uses (deb822 or one-line sources)
  mirror=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)
  [[ -n $mirror ]] || mirror=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | head -1 || true)
  [[ -n $mirror ]] || mirror=http://deb.debian.org/debian
fi
cache=${INFERNO_CACHE:-$HOME/.cache/inferno}
key=$( { echo "$suite $variant $arch $mirror"; cat "$0"; } | sha256sum | cut -c1-16)
dir=$cache/debootstrap/$key
if [[ -f $dir/.complete ]]; then echo "$dir/rootfs"; exit 0; fi
command -v debootstrap >/dev/null || { echo "debian.sh: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
mkdir -p "$cache/debootstrap"
exec 9>"$cache/debootstrap/.lock"
flock 9
if [[ -f $dir/.complete ]]; then echo "$dir/rootfs"; exit 0; fi
rm -rf "$dir"; mkdir -p "$dir"
echo "debian.sh: debootstrap --variant=$variant $suite from $mirror into $dir (a few minutes, once)" >&2
debootstrap --variant="$variant" --arch="$arch" "$suite" "$dir/rootfs" "$mirror" >"$dir/debootstrap.log" 2>&1 || {
  echo "debian.sh: debootstrap failed, see $dir/debootstrap.log" >&2; tail -20 "$dir/debootstrap.log" >&2; exit 1; }
# apt caches are not needed in the image
rm -rf "$dir/rootfs/var/cache/apt/archives/"*.deb "$dir/rootfs/var/lib/apt/lists/"* || true
touch "$dir/.complete"
echo "$dir/rootfs"

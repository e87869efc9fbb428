#!/usr/bin/env bash
# Builds (or finds in the cache) the guest kernel: an uncompressed ELF vmlinux (Firecracker; QEMU microvm through its
# PVH note) and a bzImage, from Debian's linux-source-6.1 + tinyconfig + kernel/fragment.
#
#   kernel/build.sh [OUT_DIR]      default OUT_DIR: build/kernel in the repository
#
# The result is cached outside the repository in $INFERNO_CACHE/kernel/<key> (default ~/.cache/inferno), keyed by the
# sha256 of the source tarball's version, the fragment and this recipe, so a machine builds it once (~22 min on 2
# cores). When ../shared/kernel or one of its subdirectories holds a prebuilt kernel from the same source and the same
# fragment, it is used instead of compiling (checked against the checksums in its README); INFERNO_KERNEL_NO_SHARED=1
# forces the build.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=${1:-$root/build/kernel}
cache=${INFERNO_CACHE:-$HOME/.cache/inferno}
src_pkg=linux-source-6.1
recipe_version=1 # bump when the recipe below changes in a way that changes the kernel

log() { printf 'kernel: %s\n' "$*" >&2; }

src_version=$(dpkg-query -W -f='${Version}' "$src_pkg" 2>/dev/null || true)
if [[ -z $src_version ]]; then
  log "$src_pkg is not installed: run scripts/install-deps.sh (or apt-get install $src_pkg)"
  exit 1
fi
key=$( { echo "$src_pkg $src_version recipe=$recipe_version"; cat "$here/fragment"; } | sha256sum | cut -c1-16)
dir=$cache/kernel/$key

install_out() {
  mkdir -p "$out"
  cp -f "$dir/vmlinux" "$dir/bzImage" "$dir/config" "$out/"
  echo "$key" > "$out/KEY"
  log "$out/vmlinux ($key)"
}

if [[ -s $dir/vmlinux && -s $dir/bzImage ]]; then
  install_out
  exit 0
fi

mkdir -p "$cache/kernel"
tmp=$(mktemp -d "$cache/kernel/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# A prebuilt kernel is used only when it was built from the same source with the same fragment: ../shared/kernel and
# each of its subdirectories (e.g. compat/) may hold one, each with its fragment, README (source version, checksums),
# vmlinux.xz, bzImage and config-*.
shared_root=$root/../shared/kernel
if [[ -z ${INFERNO_KERNEL_NO_SHARED:-} && -d $shared_root ]]; then
  for shared in "$shared_root" "$shared_root"/*/; do
    shared=${shared%/}
    [[ -f $shared/fragment && -f $shared/README.md && -f $shared/vmlinux.xz && -f $shared/bzImage ]] || continue
    cmp -s "$shared/fragment" "$here/fragment" || continue
    grep -q "version $src_version" "$shared/README.md" || continue
    log "using the prebuilt kernel in $shared (same source $src_version and fragment)"
    xz -dc "$shared/vmlinux.xz" > "$tmp/vmlinux"
    cp "$shared/bzImage" "$tmp/bzImage"
    cp "$(ls "$shared"/config-* | head -n1)" "$tmp/config"
    for f in vmlinux bzImage; do
      sum=$(sha256sum "$tmp/$f" | cut -d' ' -f1)
      if ! grep -q "$sum" "$shared/README.md"; then
        log "checksum of the prebuilt $f does not match $shared/README.md; building from source instead"
        rm -f "$tmp/vmlinux" "$tmp/bzImage"
        break
      fi
    done
    break
  done
fi

if [[ ! -s $tmp/vmlinux ]]; then
  tarball=$(ls /usr/src/linux-source-6.1.tar.* 2>/dev/null | head -n1)
  [[ -n $tarball ]] || { log "no /usr/src/linux-source-6.1.tar.* (package $src_pkg)"; exit 1; }
  log "building Linux from $tarball (about 22 minutes on 2 cores; cached in $dir afterwards)"
  tar -C "$tmp" -xf "$tarball"
  ksrc=$(find "$tmp" -maxdepth 1 -type d -name 'linux-source-*' | head -n1)
  (
    cd "$ksrc"
    make -s ARCH=x86_64 tinyconfig
    while IFS= read -r line; do
      line=${line%%#*}
      [[ $line =~ ^CONFIG_([A-Za-z0-9_]+)=(y|n)[[:space:]]*$ ]] || continue
      if [[ ${BASH_REMATCH[2]} == y ]]; then
        scripts/config --enable "${BASH_REMATCH[1]}"
      else
        scripts/config --disable "${BASH_REMATCH[1]}"
      fi
    done < "$here/fragment"
    make -s ARCH=x86_64 olddefconfig
    make -s ARCH=x86_64 -j"$(nproc)" vmlinux bzImage
  )
  cp "$ksrc/vmlinux" "$tmp/vmlinux"
  cp "$ksrc/arch/x86/boot/bzImage" "$tmp/bzImage"
  cp "$ksrc/.config" "$tmp/config"
  # Every line of the fragment must have taken effect; a silently dropped option is a kernel that fails later.
  while IFS= read -r line; do
    line=${line%%#*}
    [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(y|n)[[:space:]]*$ ]] || continue
    opt=${BASH_REMATCH[1]}
    if [[ ${BASH_REMATCH[2]} == y ]]; then
      grep -q "^$opt=y" "$tmp/config" || { log "fragment asks $opt=y but the config has: $(grep "$opt[= ]" "$tmp/config")"; exit 1; }
    else
      ! grep -q "^$opt=y" "$tmp/config" || { log "fragment asks $opt off but it is on"; exit 1; }
    fi
  done < "$here/fragment"
  rm -rf "$ksrc"
fi

rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
install_out

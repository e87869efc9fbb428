#!/usr/bin/env bash
# Builds a small OCI image from Debian's busybox-static, without Docker or a registry: an OCI image layout
# directory (umoci), and optionally an archive of it for `inferno load -i`.
#
#   scripts/make-busybox-image.sh LAYOUT_DIR [TAG]     default TAG: latest
set -euo pipefail
layout=${1:?usage: make-busybox-image.sh LAYOUT_DIR [TAG]}
tag=${2:-latest}
busybox=/bin/busybox
file "$busybox" | grep -q 'statically linked' || { echo "needs busybox-static (apt-get install busybox-static)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$layout"
umoci init --layout "$layout"
umoci new --image "$layout:$tag"
umoci unpack --image "$layout:$tag" "$work/bundle" > /dev/null
rootfs=$work/bundle/rootfs
mkdir -p "$rootfs"/{bin,sbin,etc,tmp,root,home,proc,sys,dev,run,var} "$rootfs/usr/bin" "$rootfs/usr/sbin"
chmod 1777 "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
  [[ -e $rootfs/bin/$applet ]] || ln -s busybox "$rootfs/bin/$applet"
done
cat > "$rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > "$rootfs/etc/group" <<'GROUP'
root:x:0:
daemon:x:1:
tty:x:5:
nogroup:x:65534:
GROUP
echo "inferno busybox image" > "$rootfs/etc/motd"
umoci repack --image "$layout:$tag" "$work/bundle" > /dev/null
umoci config --image "$layout:$tag" --config.cmd sh \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --config.workingdir / \
  --os linux --architecture amd64 > /dev/null
umoci gc --layout "$layout"
echo "$layout:$tag"

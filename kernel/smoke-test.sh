#!/usr/bin/env bash
# Boots the guest kernel under QEMU microvm (KVM when /dev/kvm works, TCG otherwise) with a minimal busybox
# initramfs whose /init prints a marker and calls reboot(2); passes when the marker reached the console and QEMU
# exited by itself (the guest powered off on its own) within the time limit.
#
#   kernel/smoke-test.sh [VMLINUX]     default: build/kernel/vmlinux
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kernel=${1:-$root/build/kernel/vmlinux}
busybox=/bin/busybox
[[ -f $kernel ]] || { echo "smoke: no kernel at $kernel: run kernel/build.sh first" >&2; exit 1; }
file "$busybox" 2>/dev/null | grep -q 'statically linked' || busybox=$(command -v busybox)
[[ -x $busybox ]] || { echo "smoke: busybox-static is not installed" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs/bin" "$work/rootfs/proc"
cp "$busybox" "$work/rootfs/bin/busybox"
cat > "$work/rootfs/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo "inferno-smoke: userspace reached, kernel $(/bin/busybox uname -r), $(/bin/busybox nproc) cpu"
/bin/busybox reboot -f
INIT
chmod 755 "$work/rootfs/init"
(cd "$work/rootfs" && find . | cpio -o -H newc --quiet > "$work/initramfs.cpio")

accel=(-accel tcg -cpu max)
# /dev/kvm can exist without usable virtualisation (a nested guest without vmx/svm): check the CPU flags too.
if [[ -r /dev/kvm && -w /dev/kvm ]] && grep -qwE "vmx|svm" /proc/cpuinfo; then accel=(-accel kvm -cpu host); fi
start=$(date +%s.%N)
rc=0
timeout 60 qemu-system-x86_64 -M microvm,acpi=off,x-option-roms=off "${accel[@]}" -m 128 -smp 1 \
  -nodefaults -no-user-config -display none -no-reboot \
  -kernel "$kernel" -initrd "$work/initramfs.cpio" \
  -append "console=ttyS0 reboot=t panic=-1 quiet" \
  -serial "file:$work/console.log" || rc=$?
secs=$(echo "$(date +%s.%N) - $start" | bc)

pass=0 fail=0
check() { if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); fi; }
check_marker() { grep -q 'inferno-smoke: userspace reached' "$work/console.log"; }
check_exit() { [[ $rc -eq 0 ]]; }
check check_marker || { echo "smoke: FAIL: the marker is not on the console:"; cat "$work/console.log"; }
check check_exit || echo "smoke: FAIL: QEMU did not exit by itself (exit status $rc; 124 = timed out)"
grep -h 'inferno-smoke' "$work/console.log" || true
printf 'smoke: guest booted and powered off in %.1f s\n' "$secs"
echo "smoke: $pass passed, $fail failed"
[[ $fail -eq 0 ]]

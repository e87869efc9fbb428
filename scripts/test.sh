#!/usr/bin/env bash
# Runs every test of inferno, as root on Debian 12: installs the packages it needs, builds what it needs (the guest
# kernel from the cache, ../shared, or a ~22 min build the first time on a machine), then runs the kernel smoke test,
# init's Rust tests (unit + real guests under QEMU) and the Java modules' tests (unit + real registry + real guests).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/env.sh

step() { printf '\n=== %s\n' "$*"; }
step "system packages"
scripts/install-deps.sh
step "guest kernel"
kernel/build.sh
step "kernel smoke test (QEMU microvm)"
kernel/smoke-test.sh
if [[ -f init/Cargo.toml ]]; then
  step "init (Rust): build + tests"
  init/build.sh
  (cd init && cargo test --release -- --test-threads=1)
fi
step "Java modules: build + tests + format and static checks"
./mvnw -B -ntp verify

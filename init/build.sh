#!/usr/bin/env bash
# Builds init as a static release binary and copies it to <repo>/build/init/init (prints that path).
# Needs only a Rust toolchain and glibc's static libraries (libc6-dev): init has no crate dependencies.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cd "$here"
cargo build --release --locked --offline -j2 --bin init >&2
out=$root/build/init
mkdir -p "$out"
cp target/release/init "$out/init"
if file "$out/init" 2>/dev/null | grep -q 'dynamically linked'; then
  echo "build.sh: $out/init is dynamically linked; expected a static binary (see init/.cargo/config.toml)" >&2
  exit 1
fi
echo "$out/init"

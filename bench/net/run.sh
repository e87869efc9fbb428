#!/usr/bin/env bash
# Networking costs (issue 10), each side by side with its baseline in the same run:
#  1. `run -d` latency, guest boot excluded (POST /v1/vms until the VMM runs), default network vs
#     --network none, interleaved; goal: <= 15 ms added at the median. Each VM is removed with
#     DELETE ?force=true right after, so no guest boots in the background of the next one.
#  2. published-port throughput: one VM's busybox httpd serving a 64 MiB file, fetched with curl
#     through the loopback proxy (-p 127.0.0.1:H:80) and directly from the guest's address,
#     alternating; goal: proxy >= 0.8x direct.
#
#   bench/net/run.sh [N] [ROUNDS]    default N=20 create pairs, ROUNDS=5 downloads each way; as root,
#                                    after kernel/build.sh, init/build.sh and a build
#
# The real daemon (image module, kiln, QEMU — TCG here, no KVM), its real nftables table and TAPs,
# the busybox image from scripts/make-busybox-image.sh.
set -euo pipefail
n=${1:-20}
rounds=${2:-5}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../lib/daemon.sh
source "$root/bench/lib/daemon.sh"

create() { # $1: extra JSON fields; prints ms, removes the VM
  out=$(api -o "$work/resp" -w '%{time_total}' -X POST -H 'Content-Type: application/json' \
    -d "{\"image\":\"busybox:latest\",\"cmd\":[\"sleep\",\"100\"]$1}" http://inferno/v1/vms)
  api -X DELETE "http://inferno/v1/vms/$(jq -r .id "$work/resp")?force=true" > /dev/null
  echo "$out * 1000" | bc -l
}

for _ in 1 2; do create '' > /dev/null; create ',"network":"none"' > /dev/null; done # warm-up
for _ in $(seq "$n"); do
  create '' >> "$work/default"
  create ',"network":"none"' >> "$work/none"
done
d=$(median < "$work/default")
z=$(median < "$work/none")
echo "run -d latency, median of $n each, interleaved ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"
printf '%-58s %8s ms\n' "POST /v1/vms, default network" "$d"
printf '%-58s %8s ms\n' "POST /v1/vms, --network none" "$z"
printf '%-58s %8s ms\n' "added by the network" "$(echo "$d - $z" | bc -l)"

# throughput: proxy vs direct to the guest
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
id=$("$inferno" run -d -p "127.0.0.1:$port:80" busybox:latest sh -c \
  'mkdir -p /www && dd if=/dev/zero of=/www/big bs=1M count=64 2>/dev/null && exec httpd -f -p 80 -h /www')
ip=$("$inferno" inspect "$id" | jq -r '.[0].networkSettings.ipAddress')
for _ in $(seq 600); do curl -sf -o /dev/null "http://$ip/big" && break; sleep 0.5; done
for _ in $(seq "$rounds"); do
  curl -sf -o /dev/null -w '%{speed_download}\n' "http://127.0.0.1:$port/big" >> "$work/proxy"
  curl -sf -o /dev/null -w '%{speed_download}\n' "http://$ip/big" >> "$work/direct"
done
p=$(median < "$work/proxy")
q=$(median < "$work/direct")
echo "64 MiB GET, median of $rounds each, alternating (load $(cut -d' ' -f1 /proc/loadavg))"
printf '%-58s %8.1f MiB/s\n' "through the proxy (127.0.0.1:$port)" "$(echo "$p / 1048576" | bc -l)"
printf '%-58s %8.1f MiB/s\n' "direct to the guest ($ip:80)" "$(echo "$q / 1048576" | bc -l)"
printf '%-58s %8.2f\n' "proxy / direct" "$(echo "$p / $q" | bc -l)"

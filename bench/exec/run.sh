#!/usr/bin/env bash
# Interactive costs (issue 11), each beside its baseline in the same run, measured from the daemon's API (no
# CLI JVM start in the figures; bench/exec/client.py speaks the API with Python's standard library):
#  1. `exec VM true` round trip on a running VM: exec create + start (upgraded stream until it closes) + inspect;
#     goal: median <= 50 ms under TCG; beside it `run -d` latency (POST /v1/vms until the VMM runs) of the same run.
#  2. stdin throughput into the guest vs guest->host log throughput, in the same VM and run: the workload reads
#     MIB MiB from stdin (`head -c`), prints a marker, then writes MIB MiB to stdout; goal: stdin >= 0.7x log.
#
#   bench/exec/run.sh [N] [ROUNDS] [MIB]   default N=30 exec round trips, ROUNDS=3 stdin/log rounds of MIB=16
#                                          MiB; as root, after kernel/build.sh, init/build.sh and a build
set -euo pipefail
n=${1:-30}
rounds=${2:-3}
mib=${3:-16}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../lib/daemon.sh
source "$root/bench/lib/daemon.sh"
client() { python3 "$root/bench/exec/client.py" "$work/s.sock" "$@"; }

# run -d latency, as bench/cli/run-latency.sh measures it
for i in $(seq $((n / 3 + 2))); do
  t=$(api -o "$work/resp" -w '%{time_total}' -X POST -H 'Content-Type: application/json' \
    -d '{"image":"busybox:latest","cmd":["sleep","100"],"network":"none"}' http://inferno/v1/vms)
  api -X DELETE "http://inferno/v1/vms/$(jq -r .id "$work/resp")?force=true" > /dev/null
  ((i > 2)) && echo "$t * 1000" | bc -l >> "$work/run-d"
done

# exec round trips on one running VM, once its init answers
id=$("$inferno" run -d --network none busybox:latest sleep 3600)
for _ in $(seq 600); do "$inferno" exec "$id" true 2> /dev/null && break; sleep 0.5; done
client exec-rtt "$id" 3 > /dev/null # warm-up
client exec-rtt "$id" "$n" > "$work/exec"
"$inferno" rm -f "$id" > /dev/null

echo "latency, medians ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"
printf '%-62s %8s ms  (n=%s)\n' "exec VM true: create + start + stream end + inspect" "$(median < "$work/exec")" "$n"
printf '%-62s %8s ms  (n=%s)\n' "run -d: POST /v1/vms until the VMM runs (boot excluded)" "$(median < "$work/run-d")" \
  "$(wc -l < "$work/run-d")"

bytes=$((mib << 20))
for _ in $(seq "$rounds"); do
  id=$("$inferno" run -d -i --network none busybox:latest sh -c \
    "head -c $bytes > /dev/null; echo READ-DONE; head -c $bytes /dev/zero")
  client stdin-vs-log "$id" "$mib" >> "$work/rates"
  "$inferno" rm -f "$id" > /dev/null
done
echo "stdin vs log throughput, $mib MiB each way, $rounds rounds (load $(cut -d' ' -f1 /proc/loadavg))"
awk '{ printf "  stdin %7.2f MiB/s   log %7.2f MiB/s   stdin/log %.2f\n", $1, $2, $1 / $2 }' "$work/rates"
s=$(cut -d' ' -f1 "$work/rates" | median)
l=$(cut -d' ' -f2 "$work/rates" | median)
printf '%-62s %8.2f\n' "median stdin / median log" "$(echo "$s / $l" | bc -l)"

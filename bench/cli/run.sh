#!/usr/bin/env bash
# `inferno ps` wall time vs a bare `java` hello-world on the same JVM with the CLI's flags: median
# of N runs each, interleaved in one run. Goal (issues 6, 9): inferno ps -a <= 1.5x that floor.
#
#   bench/cli/run.sh [N]        default N=25; needs a build (./mvnw -pl inferno-cli -am package)
#   BASELINE=/other/checkout/bin/inferno bench/cli/run.sh [N]   also that launcher's ps -a, interleaved
#
# The daemon is the daemon's TestServerMain (test-jar: its API, store and services, with host
# processes standing in for VMs — `ps` measures the CLI, not kiln) with 10 exited VMs in its table,
# so `ps -a` has rows to format. Times are wall clock per command, measured with bash's EPOCHREALTIME;
# where perf is installed, also the CPU time of each (task-clock: less swayed by other load on the
# machine than wall time, which is what the goal is stated in).
set -euo pipefail
n=${1:-25}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
java_home="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
java="$java_home/bin/java"
inferno="$root/bin/inferno"
work=$(mktemp -d)
daemon_pid=
cleanup() {
  if [ -n "$daemon_pid" ]; then kill "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/Hello.java" <<'JAVA'
public class Hello { public static void main(String[] a) { System.out.println("hello"); } }
JAVA
"$java_home/bin/javac" -d "$work" "$work/Hello.java"
tests_jar=$(ls "$root"/inferno-daemon/target/inferno-daemon-*-tests.jar)
cp="$tests_jar"
for j in "$root"/inferno-cli/target/lib/*.jar; do cp="$cp:$j"; done
"$java" -cp "$cp" dev.inferno.daemon.testing.TestServerMain "$work/state" "$work/s.sock" busybox \
  > "$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do [ -S "$work/s.sock" ] && break; sleep 0.1; done
export INFERNO_SOCKET="$work/s.sock"
for i in $(seq 10); do "$inferno" run -d --name "vm$i" busybox true > /dev/null 2>&1; done
"$inferno" ps -a > /dev/null # also records the AOT cache if the build is new

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m}'; }
ms() { # wall time of one run of the command, in ms
  local s=$EPOCHREALTIME
  "$@" > /dev/null 2>&1
  local e=$EPOCHREALTIME
  echo "($e - $s) * 1000" | bc -l
}
perf=$(command -v perf || true)
if [ -n "$perf" ] && ! "$perf" stat -x, -e task-clock -o /dev/null true 2>/dev/null; then perf=; fi
cpu() { # CPU time of one run of the command (all its threads), in ms
  "$perf" stat -x, -e task-clock -o "$work/perf" "$@" > /dev/null 2>&1
  awk -F, '/task-clock/ {print $1}' "$work/perf"
}
# the CLI's JVM flags (bin/inferno), without its AOT cache: a bare hello-world gets the JDK's CDS
cli_flags=(--enable-native-access=ALL-UNNAMED -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData -Xss1m)
labels=("java Hello (default flags)"
  "java Hello (the CLI's flags: C1 only, Serial GC, no perf data)"
  "inferno ps -a (AOT cache)"
  "inferno ps -a (no AOT cache)"
  "baseline: $(basename "$(dirname "$(dirname "${BASELINE:-x/x/x}")")") ps -a (AOT cache)")
commands="0 1 2 3"
if [ -n "${BASELINE:-}" ]; then commands="0 1 2 3 4"; "$BASELINE" ps -a > /dev/null; fi
run_one() { # how to measure (ms or cpu), index of the command in labels
  case $2 in
    0) $1 "$java" -cp "$work" Hello ;;
    1) $1 "$java" "${cli_flags[@]}" -cp "$work" Hello ;;
    2) $1 "$inferno" ps -a ;;
    3) $1 env INFERNO_NO_AOT=1 "$inferno" ps -a ;;
    4) $1 "$BASELINE" ps -a ;;
  esac
}
for k in $commands; do run_one ms "$k" > /dev/null; done # warm the page cache
# interleaved, so a change in the machine's load falls on every command alike
for _ in $(seq "$n"); do
  for k in $commands; do
    run_one ms "$k" >> "$work/t$k"
    if [ -n "$perf" ]; then run_one cpu "$k" >> "$work/c$k"; fi
  done
done
echo "median of $n runs each, interleaved ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)): wall, CPU"
for k in $commands; do
  c=; if [ -n "$perf" ]; then c="$(median < "$work/c$k") ms"; fi
  printf '%-64s %8s ms %11s\n' "${labels[$k]}" "$(median < "$work/t$k")" "$c"
done
ratio() { printf '%.2f' "$(echo "$(median < "$work/$1") / $(median < "$work/$2")" | bc -l)"; }
printf 'inferno ps -a / java Hello with the same flags = %s wall (goal <= 1.5)' "$(ratio t2 t1)"
if [ -n "$perf" ]; then printf ', %s CPU' "$(ratio c2 c1)"; fi
echo

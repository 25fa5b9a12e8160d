#!/usr/bin/env bash
# End-to-end benchmarks of the generator, printing their figures (see the README):
#   throughput  requests/s against nginx's fixed 100-byte 200 on 127.0.0.1 (generator pinned to CPU 0,
#               nginx and the Kafka broker to CPU 1, 50 connections, 20 s), our generator (every sample to
#               the broker) next to wrk, hey and Gatling run the same way; median of RUNS runs.
#   memory      50,000 closed-model VUs thinking 1-5 s: heap (after a full GC) and RSS per VU.
#   synthetic   request samples/s the synthetic plug-in produces into Kafka from one core.
#   tools       requests/s of one generator on CPU 0 running the same shape (50 users requesting nginx's 200 in a
#               loop, no think) with the http plug-in, the jmeter plug-in (JMeter 5.6 in the generator's JVM) and
#               the locust plug-in (Locust beside it, one process) and the gatling plug-in (Gatling 3.10 in a JVM of
#               its own beside it), every sample to the broker; median of RUNS.
# Usage: scripts/bench-generator.sh [throughput|memory|synthetic|tools|all]   (RUNS=3 SECONDS_PER_RUN=20)
# Needs: nginx, wrk, hey (Debian packages; installed here when missing and running as root).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
what="${1:-all}"
RUNS="${RUNS:-3}"
SECS="${SECONDS_PER_RUN:-20}"
CONN=50
. "$root/.mvn/find-jdk.sh"

need=()
for tool in nginx:nginx-light wrk:wrk hey:hey taskset:util-linux; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${tool%%:*}" ] || need+=("${tool##*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
  else
    echo "bench-generator: missing ${need[*]}; install with: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

"$root/mvnw" -q -B -DskipTests package -pl cli,benchmarks -am
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

mkdir -p "$work/nginx/tmp"
cp "$root/benchmarks/generator/nginx.conf" "$work/nginx/nginx.conf"
taskset -c 1 "$NGINX" -p "$work/nginx" -c nginx.conf -g 'daemon off;' 2> "$work/nginx.log" &
pids+=($!)
for _ in $(seq 50); do curl -sf -o /dev/null http://127.0.0.1:18080/ && break; sleep 0.1; done
curl -sf http://127.0.0.1:18080/ | wc -c | xargs -I{} echo "nginx on 127.0.0.1:18080 serves {} bytes (CPU 1)"

loadtest() { "$JAVA_HOME/bin/java" $JVM_OPTS -cp "$root/cli/target/cli.jar:$root/cli/target/lib/*" dev.loadtest.cli.LoadtestCli "$@"; }
JVM_OPTS="-XX:+UseParallelGC"
start_broker() {
  [ -n "${BOOTSTRAP:-}" ] && return 0
  taskset -c 1 "$JAVA_HOME/bin/java" -cp "$root/cli/target/cli.jar:$root/cli/target/lib/*" dev.loadtest.cli.LoadtestCli \
    up --kafka-only > "$work/kafka.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 300); do grep -q 'Kafka bootstrap' "$work/kafka.log" && break; sleep 0.1; done
  BOOTSTRAP="$(sed -n 's/^Kafka bootstrap: \([^ ]*\).*/\1/p' "$work/kafka.log")"
  [ -n "$BOOTSTRAP" ] || { echo "the Kafka broker did not start:"; cat "$work/kafka.log"; exit 1; }
  echo "Kafka broker at $BOOTSTRAP (CPU 1)"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# Our generator on CPU 0 running plan $2 with any further options; its log in $work/$1.log, its requests/s
# appended to $work/$1.
ours_run() {
  local name="$1" plan="$2"; shift 2
  taskset -c 0 "$JAVA_HOME/bin/java" $JVM_OPTS -cp "$root/cli/target/cli.jar:$root/cli/target/lib/*" \
    dev.loadtest.cli.LoadtestCli generator --plan "$plan" --bootstrap "$BOOTSTRAP" --id bench "$@" \
    > "$work/$name.log" 2>&1 || { cat "$work/$name.log"; exit 1; }
  awk '/^FINISHED/ {for (i=1;i<=NF;i++) if ($i=="requests") {print $(i-1)/'"$SECS"'; exit}}' "$work/$name.log" \
    >> "$work/$name"
}

throughput() {
  start_broker
  local plan="$work/throughput-plan.json"
  sed "s/\"20s\"/\"${SECS}s\"/" "$root/benchmarks/generator/throughput-plan.json" > "$plan"
  echo "== throughput: $CONN connections, ${SECS} s, median of $RUNS (tool on CPU 0) =="
  : > "$work/ours"; : > "$work/cold"; : > "$work/wrk"; : > "$work/hey"; : > "$work/gatling"; : > "$work/floor"
  for i in $(seq "$RUNS"); do
    taskset -c 0 wrk -t1 -c"$CONN" -d"${SECS}s" http://127.0.0.1:18080/ | awk '/Requests\/sec/ {print $2}' >> "$work/wrk"
    taskset -c 0 hey -c "$CONN" -z "${SECS}s" http://127.0.0.1:18080/ | awk '/Requests\/sec/ {print $2}' >> "$work/hey"
    taskset -c 0 "$root/mvnw" -q -B -f "$root/benchmarks/gatling/pom.xml" gatling:test -Dconnections="$CONN" \
      -Dseconds="$SECS" -Dtarget=http://127.0.0.1:18080/ > "$work/gatling.log" 2>&1 || { tail -20 "$work/gatling.log"; exit 1; }
    # Gatling prints cumulative counts every 5 s; the last "> Global" line holds the whole run's total.
    awk -F'|' '/^> Global/ {gsub(/[^0-9]/,"",$2); n=$2} END {print n/'"$SECS"'}' "$work/gatling.log" >> "$work/gatling"
    ours_run ours "$plan"
    grep -E '^(Warm-up:|FINISHED|samples)' "$work/ours.log" | sed 's/^/    ours: /'
    # The same, cold: no warm-up, so the JIT compiles the request path during the measured 20 s.
    ours_run cold "$plan" --warm-up 0
    # The floor: Jetty HttpClient alone, VUs and Jetty's selector on virtual threads as in the generator,
    # no samples and no Kafka.
    taskset -c 0 "$JAVA_HOME/bin/java" $JVM_OPTS -cp "$root/benchmarks/target/benchmarks.jar" \
      dev.loadtest.benchmarks.JettyFloor vtpool http://127.0.0.1:18080/ "$CONN" "$SECS" 2>/dev/null | awk '{print $2}' >> "$work/floor"
    echo "  run $i: wrk $(tail -1 "$work/wrk")  hey $(tail -1 "$work/hey")  gatling $(tail -1 "$work/gatling")  ours $(tail -1 "$work/ours")  (cold $(tail -1 "$work/cold"); jetty alone $(tail -1 "$work/floor")) req/s"
  done
  local o c w h g f
  o=$(median < "$work/ours"); w=$(median < "$work/wrk"); h=$(median < "$work/hey"); g=$(median < "$work/gatling")
  f=$(median < "$work/floor"); c=$(median < "$work/cold")
  printf 'median req/s: ours %.0f | wrk %.0f | hey %.0f | gatling %.0f | ours cold %.0f | jetty alone %.0f\n' \
    "$o" "$w" "$h" "$g" "$c" "$f"
  awk -v o="$o" -v w="$w" -v h="$h" -v g="$g" 'BEGIN {printf "ours/wrk %.2fx (target >= 0.5)  ours/hey %.2fx  ours/gatling %.2fx (target >= 1.0)\n", o/w, o/h, o/g}'
  awk -v c="$c" -v w="$w" -v g="$g" 'BEGIN {printf "cold (--warm-up 0): ours/wrk %.2fx  ours/gatling %.2fx\n", c/w, c/g}'
}

# One memory run: $1 VUs, $2 extra generator options, $3 label. Heap is capped (-Xmx1g) so that RSS
# counts what the VUs need, not a heap the JVM grew because it could.
memory_run() {
  local vus="$1" opts="$2" label="$3" plan="$work/memory-$1.json"
  sed "s/50000/$vus/g" "$root/benchmarks/generator/memory-plan.json" > "$plan"
  "$JAVA_HOME/bin/java" -XX:+UseSerialGC -Xmx1g -cp "$root/cli/target/cli.jar:$root/cli/target/lib/*" dev.loadtest.cli.LoadtestCli \
    generator --plan "$plan" --bootstrap "$BOOTSTRAP" --id bench-mem --warm-up 0 $opts > "$work/mem.log" 2>&1 &
  local pid=$! ; pids+=($pid)
  sleep 3
  local heap0 rss0 heap1 rss1
  heap0=$(heap_used "$pid"); rss0=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  sleep 45   # the ramp takes 25 s; measure on the plateau
  heap1=$(heap_used "$pid"); rss1=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  wait "$pid" || true
  echo "-- $label: $vus VUs"
  grep -E '^(FINISHED|ABORTED|samples)' "$work/mem.log" | cut -c1-160 | sed 's/^/    /'
  awk -v n="$vus" -v h0="$heap0" -v h1="$heap1" -v r0="$rss0" -v r1="$rss1" 'BEGIN {
    printf "    heap after full GC: %.0f MB -> %.0f MB; RSS %.0f MB -> %.0f MB\n", h0/1024, h1/1024, r0/1024, r1/1024;
    printf "    per VU: heap %.1f KB, RSS %.1f KB (target <= 20 KB)\n", (h1-h0)/n, (r1-r0)/n }'
}
heap_used() {
  "$JAVA_HOME/bin/jcmd" "$1" GC.run >/dev/null
  "$JAVA_HOME/bin/jcmd" "$1" GC.heap_info | awk '/used/ {for (i=1;i<=NF;i++) if ($i ~ /used/) {v=$(i+1); sub(/K,?/,"",v); print v; exit}}'
}

memory() {
  start_broker
  echo "== memory: closed-model VUs thinking 1-5 s =="
  local fds; fds=$(ulimit -n)
  memory_run 50000 "--shared-connections 64" "VUs sharing 64 connections (VU state only)"
  # Own connections cost a file descriptor each; this machine allows $fds per process.
  local own=$(( fds > 20000 ? 50000 : fds - 2000 ))
  memory_run "$own" "" "every VU with its own connection (k6's default)"
}

synthetic() {
  start_broker
  echo "== synthetic: request samples/s into Kafka from one core (CPU 0) =="
  local plan="$work/synthetic-plan.json"
  sed "s/\"20s\"/\"${SECS}s\"/" "$root/benchmarks/generator/synthetic-plan.json" > "$plan"
  : > "$work/syn"
  for i in $(seq "$RUNS"); do
    taskset -c 0 "$JAVA_HOME/bin/java" $JVM_OPTS -cp "$root/cli/target/cli.jar:$root/cli/target/lib/*" \
      dev.loadtest.cli.LoadtestCli generator --plan "$plan" --bootstrap "$BOOTSTRAP" --id bench-syn > "$work/syn.log" 2>&1 \
      || { cat "$work/syn.log"; exit 1; }
    grep -E '^samples' "$work/syn.log" | sed 's/^/    /'
    sed -n 's/.*delivered to Kafka (\([0-9]*\)\/s).*/\1/p' "$work/syn.log" >> "$work/syn"
    echo "  run $i: $(tail -1 "$work/syn") samples/s"
  done
  printf 'median: %.0f request samples/s delivered (target >= 1,000,000)\n' "$(median < "$work/syn")"
}

tools() {
  start_broker
  echo "== tools: one generator on CPU 0, 50 users, nginx's 200 in a loop, ${SECS} s, median of $RUNS =="
  local dir="$work/tools"
  mkdir -p "$dir"
  cp "$root/benchmarks/generator/tools/"* "$dir/"
  sed -i "s/\"SECONDS\": \"20\"/\"SECONDS\": \"$SECS\"/" "$dir/jmeter-plan.json" "$dir/gatling-plan.json"
  sed -i "s/\"duration\": \"20s\"/\"duration\": \"${SECS}s\"/" "$dir/locust-plan.json"
  sed "s/\"20s\"/\"${SECS}s\"/" "$root/benchmarks/generator/throughput-plan.json" > "$dir/http-plan.json"
  : > "$work/t-http"; : > "$work/t-jmeter"; : > "$work/t-locust"; : > "$work/t-gatling"
  for i in $(seq "$RUNS"); do
    for tool in http jmeter locust gatling; do
      (cd "$dir" && ours_run "t-$tool" "$dir/$tool-plan.json")
      grep -E '^(FINISHED|ABORTED|FAILED)' "$work/t-$tool.log" | cut -c1-150 | sed "s/^/    $tool: /"
    done
    echo "  run $i: http $(tail -1 "$work/t-http")  jmeter $(tail -1 "$work/t-jmeter")  locust $(tail -1 "$work/t-locust")  gatling $(tail -1 "$work/t-gatling") req/s"
  done
  local h j l g
  h=$(median < "$work/t-http"); j=$(median < "$work/t-jmeter"); l=$(median < "$work/t-locust"); g=$(median < "$work/t-gatling")
  printf 'median req/s per generator: http %.0f | jmeter %.0f | locust %.0f | gatling %.0f\n' "$h" "$j" "$l" "$g"
  awk -v h="$h" -v j="$j" -v l="$l" -v g="$g" 'BEGIN {printf "jmeter/http %.2fx  locust/http %.2fx  gatling/http %.2fx\n", j/h, l/h, g/h}'
}

case "$what" in
  throughput) throughput ;;
  tools) tools ;;
  memory) memory ;;
  synthetic) synthetic ;;
  all) throughput; memory; synthetic ;;
  *) echo "usage: $0 [throughput|memory|synthetic|tools|all]" >&2; exit 2 ;;
esac

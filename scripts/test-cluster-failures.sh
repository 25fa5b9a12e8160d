#!/usr/bin/env bash
# Failure tests on the real cluster (scripts/cluster.sh: separate processes, generators in network namespaces).
#
#   scripts/test-cluster-failures.sh [broker] [taskmanager] [coordinator] [clickhouse]   # default: all four
#
# Each scenario runs examples/checkout.json against the demo shop through the API, and once the run is well
# under way (1,000 requests served) kills one process with SIGKILL, starts it again 10 s later, and then checks:
#   - `loadtest run` exits 0 (the plan's thresholds pass: the verdict is right, no false abort);
#   - the run's stored http_reqs equal the requests the shop served during it (nothing lost, nothing doubled),
#     in the summary and in the whole-run per-second series;
#   - and it measures the time from the kill to recovery (below), printed per scenario.
# Scenarios and what "recovered" means:
#   broker       broker-2 killed (acks=all, min.insync.replicas 2: producers go on with two); recovered when
#                the aggregate job's lag on loadtest.samples is within 5 s again
#   taskmanager  the TaskManager running the aggregate job: the job restarts from its last checkpoint on the
#                other; recovered when both jobs run all their tasks again and the lag is within 5 s
#   coordinator  the coordinator holding the run's partition of loadtest.commands: the other takes it over;
#                recovered when the other logs that partition as its own
#   clickhouse   ClickHouse killed and started again 10 s later; recovered when the lag is within 5 s again
# Starts the cluster when it is not up (and stops it at the end; KEEP_CLUSTER=1 keeps it). Exit 0: every
# check passed; otherwise the failed checks are listed. Needs root (network namespaces). ~2 minutes a scenario.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cluster="$root/scripts/cluster.sh"
plan="$root/examples/checkout.json"
out="$root/.loadtest/cluster-failures/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(broker taskmanager coordinator clickhouse)
for s in "${scenarios[@]}"; do
  case "$s" in broker|taskmanager|coordinator|clickhouse) ;; *) echo "unknown scenario $s" >&2; exit 2 ;; esac
done

up_here=""
if ! "$cluster" status >/dev/null 2>&1; then
  "$cluster" down >/dev/null 2>&1 || true
  "$cluster" up
  up_here=yes
fi
cleanup() {
  if [ -n "$up_here" ] && [ -z "${KEEP_CLUSTER:-}" ]; then "$cluster" down || true; fi
}
trap cleanup EXIT
eval "$("$cluster" env)"
api="$LOADTEST_CLUSTER_API/api/v1"
auth=(-H "Authorization: Bearer $LOADTEST_CLUSTER_TOKEN")
failures=()
results=()

now_ms() { date +%s%3N; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
shop_count() { curl -fsS --max-time 5 "$LOADTEST_CLUSTER_SHOP/stats" | json 'd["requests"]'; }
lag_seconds() { # the aggregate job's lag on the samples, or 999 when unknown
  curl -fsS --max-time 5 "$api/health" 2>/dev/null | json 'd["ingestion"]["samples"].get("secondsBehind", 999)' 2>/dev/null || echo 999
}
lag_ok() { python3 -c "import sys; sys.exit(0 if float('$(lag_seconds)') <= 5 else 1)"; }
lag_bad() { ! lag_ok; }
served_at_least() { [ $(( $(shop_count) - before )) -ge "$1" ]; }
owns() { grep "active partitions" "$LOADTEST_CLUSTER_DIR/logs/$1.log" | tail -1 | grep -q "\b$2\b"; }
jobs_running() { # both jobs RUNNING with all their tasks, and modified (restarted) after $1 ms when given
  curl -fsS --max-time 5 "$LOADTEST_CLUSTER_FLINK/jobs/overview" | python3 -c "
import json,sys
jobs=[j for j in json.load(sys.stdin)['jobs'] if j['state']=='RUNNING' and j['tasks']['running']==j['tasks']['total']]
since=int('${1:-0}')
ok=len(jobs)==2 and (since==0 or any(j['name']=='loadtest-aggregate' and j['last-modification']>since for j in jobs))
sys.exit(0 if ok else 1)"
}
wait_until() { # wait_until SECONDS COMMAND...: 0 when it held within the time
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.5
  done
}
partition_of() { # Kafka's default partitioner (murmur2) for a string key over N partitions
  python3 - "$1" "$2" <<'EOF'
import sys
data = sys.argv[1].encode(); n = int(sys.argv[2]); m = 0x5bd1e995; length = len(data)
h = (0x9747b28c ^ length) & 0xffffffff
for i in range(length // 4):
    k = int.from_bytes(data[i * 4:i * 4 + 4], 'little')
    k = (k * m) & 0xffffffff; k ^= k >> 24; k = (k * m) & 0xffffffff
    h = (h * m) & 0xffffffff; h ^= k
rest = length % 4; tail = length & ~3
if rest == 3: h ^= data[tail + 2] << 16
if rest >= 2: h ^= data[tail + 1] << 8
if rest >= 1: h ^= data[tail]; h = (h * m) & 0xffffffff
h ^= h >> 13; h = (h * m) & 0xffffffff; h ^= h >> 15
print((h & 0x7fffffff) % n)
EOF
}
owner_of() { # the coordinator whose latest task line lists the partition
  local c
  for c in coordinator-1 coordinator-2; do
    if owns "$c" "$1"; then echo "$c"; return; fi
  done
}
taskmanager_of_aggregate() {
  local jid vid
  jid=$(curl -fsS "$LOADTEST_CLUSTER_FLINK/jobs/overview" | json '[j["jid"] for j in d["jobs"] if j["name"]=="loadtest-aggregate" and j["state"]=="RUNNING"][0]')
  vid=$(curl -fsS "$LOADTEST_CLUSTER_FLINK/jobs/$jid" | json 'd["vertices"][-1]["id"]')
  curl -fsS "$LOADTEST_CLUSTER_FLINK/jobs/$jid/vertices/$vid/taskmanagers" | json 'd["taskmanagers"][0]["taskmanager-id"]'
}
cases="$out/cases.tsv"
: >"$cases"
check() { # check DESCRIPTION COMMAND...
  if "${@:2}"; then
    echo "  ok: $1"; printf '%s\t%s\tok\n' "$scenario" "$1" >>"$cases"
  else
    echo "  FAILED: $1"; failures+=("$scenario: $1"); printf '%s\t%s\tfailed\n' "$scenario" "$1" >>"$cases"
  fi
}
# A JUnit report of the checks (./run-tests counts it with the others): CLUSTER_JUNIT=FILE
junit() {
  [ -n "${CLUSTER_JUNIT:-}" ] || return 0
  mkdir -p "$(dirname "$CLUSTER_JUNIT")"
  python3 - "$cases" "$CLUSTER_JUNIT" "${failures[@]}" <<'EOF'
import sys, xml.etree.ElementTree as ET
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
loose = [f for f in sys.argv[3:] if not any(f == f"{s}: {d}" for s, d, _ in rows)]
suite = ET.Element("testsuite", name="ClusterFailures", tests=str(len(rows) + len(loose)),
                   failures=str(sum(r[2] != "ok" for r in rows) + len(loose)), errors="0", skipped="0")
for s, d, result in rows:
    c = ET.SubElement(suite, "testcase", classname="ClusterFailures." + s, name=d)
    if result != "ok":
        ET.SubElement(c, "failure", message=d)
for f in loose:
    c = ET.SubElement(ET.SubElement(suite, "testcase", classname="ClusterFailures", name=f), "failure", message=f)
ET.ElementTree(suite).write(sys.argv[2], encoding="unicode", xml_declaration=True)
EOF
}

for scenario in "${scenarios[@]}"; do
  echo "== $scenario"
  wait_until 180 "$cluster" status || { failures+=("$scenario: the cluster was not whole before it"); continue; }
  wait_until 120 lag_ok || true
  run_id="failure-$scenario-$(date -u +%H%M%S)"
  before=$(shop_count)
  "$root/loadtest" run "$plan" --api "$api" --token "$LOADTEST_CLUSTER_TOKEN" -e "BASE_URL=$LOADTEST_CLUSTER_SHOP" \
    --run-id "$run_id" -o "$out/$scenario.json" >"$out/$scenario.log" 2>&1 &
  run_pid=$!
  if ! wait_until 120 served_at_least 1000; then
    failures+=("$scenario: the run never got going (log: $out/$scenario.log)")
    kill "$run_pid" 2>/dev/null || true
    continue
  fi
  case "$scenario" in
    broker) victim=broker-2 ;;
    taskmanager) victim=$(taskmanager_of_aggregate) ;;
    coordinator)
      p=$(partition_of "$run_id" 3)
      victim=$(owner_of "loadtest.commands-$p")
      [ -n "$victim" ] || { failures+=("$scenario: no coordinator lists loadtest.commands-$p"); victim=coordinator-1; } ;;
    clickhouse) victim=clickhouse ;;
  esac
  t0=$(now_ms)
  "$cluster" kill "$victim"
  echo "  killed $victim at $(date -u +%T) ($(( $(shop_count) - before )) requests into the run)"
  (sleep 10; "$cluster" start "$victim" >/dev/null 2>&1) &
  restarter=$!
  recovered=""
  case "$scenario" in
    broker|clickhouse)
      wait_until 20 lag_bad || true # the lag shows the failure, when it does
      wait_until 240 lag_ok && recovered=$(now_ms) ;;
    taskmanager)
      wait_until 240 jobs_running "$t0" \
        && wait_until 240 lag_ok && recovered=$(now_ms) ;;
    coordinator)
      other=$([ "$victim" = coordinator-1 ] && echo coordinator-2 || echo coordinator-1)
      if wait_until 120 owns "$other" "loadtest.commands-$p"; then
        line=$(grep 'active partitions' "$LOADTEST_CLUSTER_DIR/logs/$other.log" | tail -1)
        recovered=$(date -u -d "$(echo "$line" | cut -c1-19)" +%s)$(echo "$line" | cut -c21-23)
      fi ;;
  esac
  wait "$restarter" || true
  rc=0
  wait "$run_pid" || rc=$?
  after=$(shop_count)
  served=$((after - before))
  stored=$(curl -fsS "${auth[@]}" "$api/runs/$run_id/summary" | json '[m["stats"]["count"] for m in d["metrics"] if m["metric"]=="http_reqs"][0]' | cut -d. -f1)
  series=$(curl -fsS "${auth[@]}" "$api/runs/$run_id/timeseries?metric=http_reqs&stat=count" | python3 -c "
import json,sys
d=json.load(sys.stdin)
print(int(sum(p[1] or 0 for s in d['series'] for p in s['points'])))" 2>"$out/$scenario.series.err" || echo "?")
  recovery=$([ -n "$recovered" ] && python3 -c "print(f'{($recovered - $t0) / 1000:.1f} s')" || echo "not within the wait")
  check "loadtest run exits 0 (got $rc; log: $out/$scenario.log)" [ "$rc" = 0 ]
  check "stored http_reqs $stored = served $served" [ "$stored" = "$served" ]
  check "whole-run series sum $series = served $served" [ "$series" = "$served" ]
  check "recovered (${recovery})" [ -n "$recovered" ]
  results+=("$(printf '%-12s %-14s served %-6s stored %-6s series %-6s exit %-3s recovery %s' "$scenario" "$victim" "$served" "$stored" "$series" "$rc" "$recovery")")
done

junit
echo
echo "Summary (logs and reports: $out):"
printf '  %s\n' "${results[@]}"
if [ ${#failures[@]} -gt 0 ]; then
  echo "FAILED:"
  printf '  %s\n' "${failures[@]}"
  exit 1
fi
echo "All failure checks passed."

#!/usr/bin/env bash
# Builds the CLI and the benchmarks, then runs one end-to-end benchmark class on the real broker,
# MiniCluster and ClickHouse: scripts/run-benchmark.sh CLASS HEAP [ARGS...] (used by bench-aggregate.sh and
# bench-query-api.sh). BENCH_JAVA_OPTS adds JVM options, e.g. a flight recording:
#   BENCH_JAVA_OPTS='-XX:StartFlightRecording=filename=/tmp/bench.jfr,settings=profile' scripts/bench-cardinality.sh ...
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
main="$1"
heap="$2"
shift 2
. "$root/.mvn/find-jdk.sh"
"$root/scripts/ensure-clickhouse.sh"
"$root/mvnw" -q -B -DskipTests package -pl cli,benchmarks -am
mkdir -p "$root/.loadtest/tmp"
extra=()
feature=$("$JAVA_HOME/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p')
if [ "${feature:-0}" -ge 24 ]; then
  extra+=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)
fi
# shellcheck disable=SC2206 # options are words, split on purpose
extra+=(${BENCH_JAVA_OPTS:-})
exec "$JAVA_HOME/bin/java" -Xmx"$heap" "${extra[@]}" \
  --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED \
  -Djava.io.tmpdir="$root/.loadtest/tmp" -Djava.net.preferIPv4Stack=true \
  -cp "$root/benchmarks/target/classes:$root/cli/target/cli.jar:$root/cli/target/lib/*" \
  "dev.loadtest.benchmarks.$main" "$@"

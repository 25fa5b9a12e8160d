#!/usr/bin/env bash
# Reads of the query API at k6 Cloud's reverse-load-test shapes (see the README): fills a real ClickHouse
# through the sink's encoder with a soak run and a peak run, then measures the run summary and a whole-run
# p(95)-by-name panel (median/p95 of sequential requests) and the concurrent dashboard clients it holds.
# Usage: scripts/bench-query-api.sh [SOAK_SERIES SOAK_MINUTES PEAK_SERIES PEAK_MINUTES REQUESTS]
#        scripts/bench-query-api.sh 5000 60 23000 10 40
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/.mvn/find-jdk.sh"
"$root/scripts/ensure-clickhouse.sh"
"$root/mvnw" -q -B -DskipTests package -pl cli,benchmarks -am
mkdir -p "$root/.loadtest/tmp"
exec "$JAVA_HOME/bin/java" -Xmx4g -Djava.io.tmpdir="$root/.loadtest/tmp" -Djava.net.preferIPv4Stack=true \
  -cp "$root/benchmarks/target/classes:$root/cli/target/cli.jar:$root/cli/target/lib/*" \
  dev.loadtest.benchmarks.QueryApiBenchmark "$@"

#!/usr/bin/env bash
# End-to-end benchmarks of the aggregate job on the real broker, MiniCluster and ClickHouse (see the README):
#   throughput [REQUESTS] [RUNS]     request samples/s through the job, input already in Kafka (median of RUNS)
#   lag [SECONDS] [REQUESTS_PER_S]   lag from a sample's second to its bucket readable in ClickHouse (p50/p99)
# Usage: scripts/bench-aggregate.sh throughput 10000000 3 ; scripts/bench-aggregate.sh lag 60 100000
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/.mvn/find-jdk.sh"
"$root/scripts/ensure-clickhouse.sh"
"$root/mvnw" -q -B -DskipTests package -pl cli,benchmarks -am
mkdir -p "$root/.loadtest/tmp"
extra=()
feature=$("$JAVA_HOME/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p')
if [ "${feature:-0}" -ge 24 ]; then
  extra+=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)
fi
exec "$JAVA_HOME/bin/java" -Xmx6g "${extra[@]}" \
  --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED \
  -Djava.io.tmpdir="$root/.loadtest/tmp" -Djava.net.preferIPv4Stack=true \
  -cp "$root/benchmarks/target/classes:$root/cli/target/cli.jar:$root/cli/target/lib/*" \
  dev.loadtest.benchmarks.AggregateJobBenchmark "$@"

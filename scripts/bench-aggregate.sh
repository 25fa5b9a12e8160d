#!/usr/bin/env bash
# End-to-end benchmarks of the aggregate job on the real broker, MiniCluster and ClickHouse (see the README):
#   throughput [REQUESTS] [RUNS]     request samples/s through the job, input already in Kafka (median of RUNS)
#   lag [SECONDS] [REQUESTS_PER_S]   lag from a sample's second to its bucket readable in ClickHouse (p50/p99)
# Usage: scripts/bench-aggregate.sh throughput 20000000 3 ; scripts/bench-aggregate.sh lag 40 100000
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/run-benchmark.sh" AggregateJobBenchmark 6g "$@"

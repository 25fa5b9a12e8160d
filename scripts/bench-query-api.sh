#!/usr/bin/env bash
# Reads of the query API at k6 Cloud's reverse-load-test shapes (see the README): fills a real ClickHouse
# through the sink's encoder with a soak run and a peak run, then measures the run summary and a whole-run
# p(95)-by-name panel (median/p95 of sequential requests) and the concurrent dashboard clients it holds.
# Usage: scripts/bench-query-api.sh [SOAK_SERIES SOAK_MINUTES PEAK_SERIES PEAK_MINUTES REQUESTS]
#        scripts/bench-query-api.sh 5000 60 23000 10 40
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/run-benchmark.sh" QueryApiBenchmark 4g "$@"

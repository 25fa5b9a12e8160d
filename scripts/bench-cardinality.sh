#!/usr/bin/env bash
# The reverse load test through the real pipeline (generators -> Kafka -> Flink -> ClickHouse -> query API),
# everything embedded: exactness, lag, completion, checkpoint sizes, CPU per component and read times per
# cardinality (see the README's "Cardinality benchmark").
#   scripts/bench-cardinality.sh            names 100 / 5,000 / 20,000 (~20 min)
#   scripts/bench-cardinality.sh soak       a 10-minute dense soak next to a 1-minute run of the same shape (~15 min)
#   scripts/bench-cardinality.sh NAMES:RATE:SECONDS[:LABEL] ...   runs of your own; the first is the read baseline
# CARDINALITY_HOLD_S=N keeps the stack up N s after the reads, to read the runs by hand.
# A run not complete CARDINALITY_WAIT_AFTER_END_S (default 1500) seconds after its end is reported as far as it got.
set -euo pipefail
case "${1:-targets}" in
  targets) set -- 100:50000:60 5000:50000:300:55k-series 20000:20000:300:220k-series ;;
  soak) set -- 100:50000:60:1-minute 100:50000:600:10-minute-soak ;;
esac
exec "$(dirname "${BASH_SOURCE[0]}")/run-benchmark.sh" CardinalityBenchmark 10g "$@"

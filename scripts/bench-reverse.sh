#!/usr/bin/env bash
# The reverse load test on the local cluster (scripts/cluster.sh) and the embedded stack: see
# scripts/bench-reverse.py --help and the README's "Reverse load test". E.g.
#   scripts/bench-reverse.sh                                          # peak, 5-minute steps, both targets
#   scripts/bench-reverse.sh --target cluster --step-seconds 60 --rates 5000,10000,20000
#   scripts/bench-reverse.sh --shape soak --rates 10000 --step-seconds 3600
set -euo pipefail
exec python3 "$(dirname "${BASH_SOURCE[0]}")/bench-reverse.py" "$@"

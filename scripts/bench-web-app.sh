#!/usr/bin/env bash
# What watching runs in the web app costs (see the README, "Web app benchmark"): the page-complete time of a
# finished 60-minute, 5,000-series run in headless Chromium, then 1 and 16 viewers of a live 5,000-series run
# (455 synthetic names x 11 metrics at 5,000 requests/s through the real pipeline), side by side.
# Usage: scripts/bench-web-app.sh [SERIES MINUTES LIVE_NAMES LIVE_RATE PHASE_SECONDS]
#        scripts/bench-web-app.sh 5000 60 455 5000 30
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/run-benchmark.sh" WebAppBenchmark 6g "$@"

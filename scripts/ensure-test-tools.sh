#!/usr/bin/env bash
# Tools the test suite needs besides the JDK and ClickHouse: headless Chromium (renders the HTML report)
# and docker-compose (checks compose/ with `config`; no Docker engine needed). Installs Debian's packages
# when it can (root + apt-get), else says exactly what to run. Exit 1 when a tool cannot be had.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium-browser ] || missing+=(chromium)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
install_cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing[*]}"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "loadtest: installing ${missing[*]} for the tests (Debian packages)..." >&2
  log="$(mktemp -t test-tools-install.XXXXXX.log)"
  if apt-get update -qq >"$log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >>"$log" 2>&1; then
    rm -f "$log"
    exit 0
  fi
  tail -n 30 "$log" >&2
  echo "loadtest: installing ${missing[*]} failed (log: $log). Run by hand:  $install_cmd" >&2
  exit 1
fi
echo "loadtest: the tests need ${missing[*]}. Install: sudo sh -c '$install_cmd'" >&2
exit 1

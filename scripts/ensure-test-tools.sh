#!/usr/bin/env bash
# Tools the test suite needs besides the JDK and ClickHouse: headless Chromium (renders the HTML report),
# docker-compose (checks compose/ with `config`; no Docker engine needed), node and npm's chdb package (a
# current ClickHouse engine in-process, for the check that our SQL answers alike on 18.16 and current
# releases; about 550 MB, in ~/.cache/loadtest-chdb). Installs Debian's packages and chdb when it can
# (root + apt-get, npm), else says exactly what to run. Exit 1 when a tool cannot be had.
set -euo pipefail
CHDB_VERSION=3.4.0
chdb_dir="${LOADTEST_CHDB_DIR:-$HOME/.cache/loadtest-chdb}"

ensure_chdb() {
  if [ -n "${LOADTEST_CHDB_MODULE:-}" ] || [ -f "$chdb_dir/node_modules/chdb/package.json" ]; then
    return 0
  fi
  echo "loadtest: installing chdb $CHDB_VERSION (a current ClickHouse engine for node, ~550 MB) into $chdb_dir..." >&2
  mkdir -p "$chdb_dir"
  log="$(mktemp -t chdb-install.XXXXXX.log)"
  if (cd "$chdb_dir" && npm install --no-audit --no-fund "chdb@$CHDB_VERSION") >"$log" 2>&1; then
    rm -f "$log"
    return 0
  fi
  tail -n 30 "$log" >&2
  echo "loadtest: installing chdb failed (log: $log). Run by hand:  (mkdir -p $chdb_dir && cd $chdb_dir && npm install chdb@$CHDB_VERSION)" >&2
  return 1
}

missing=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium-browser ] || missing+=(chromium)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then
  ensure_chdb
  exit 0
fi
install_cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing[*]}"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "loadtest: installing ${missing[*]} for the tests (Debian packages)..." >&2
  log="$(mktemp -t test-tools-install.XXXXXX.log)"
  if apt-get update -qq >"$log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >>"$log" 2>&1; then
    rm -f "$log"
    ensure_chdb
    exit 0
  fi
  tail -n 30 "$log" >&2
  echo "loadtest: installing ${missing[*]} failed (log: $log). Run by hand:  $install_cmd" >&2
  exit 1
fi
echo "loadtest: the tests need ${missing[*]}. Install: sudo sh -c '$install_cmd'" >&2
exit 1

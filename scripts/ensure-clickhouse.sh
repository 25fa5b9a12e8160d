#!/usr/bin/env bash
# Makes sure a ClickHouse server binary is available for tests and the embedded stack.
# Nothing to do when LOADTEST_CLICKHOUSE_URL points at a server, or when the binary is installed.
# Otherwise installs Debian's clickhouse-server package when it can (root + apt-get), or says exactly
# what to run. Exit 0: ClickHouse can be had; exit 1: it cannot, and the message says why.
set -euo pipefail

if [ -n "${LOADTEST_CLICKHOUSE_URL:-}" ]; then
  exit 0
fi
for b in clickhouse-server /usr/bin/clickhouse-server /usr/sbin/clickhouse-server /usr/bin/clickhouse /usr/local/bin/clickhouse; do
  if command -v "$b" >/dev/null 2>&1; then
    exit 0
  fi
done

install_cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y clickhouse-server"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "loadtest: clickhouse-server is missing; installing it from the distribution's packages..." >&2
  export DEBIAN_FRONTEND=noninteractive
  log="$(mktemp -t clickhouse-install.XXXXXX.log)"
  if apt-get update -qq >"$log" 2>&1 && apt-get install -y -qq clickhouse-server >>"$log" 2>&1; then
    echo "loadtest: clickhouse-server $(dpkg-query -W -f='${Version}' clickhouse-server 2>/dev/null) installed." >&2
    rm -f "$log"
    exit 0
  fi
  tail -n 30 "$log" >&2
  echo "loadtest: installing clickhouse-server failed (log: $log). Run by hand:  $install_cmd" >&2
  exit 1
fi
cat >&2 <<MSG
loadtest: ClickHouse is needed and not installed. Either
  - install it:   sudo sh -c '$install_cmd'
                  (or see https://clickhouse.com/docs/install for other systems), or
  - point the project at a running server:  export LOADTEST_CLICKHOUSE_URL=http://HOST:8123/
MSG
exit 1

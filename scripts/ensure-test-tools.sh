#!/usr/bin/env bash
# Tools the test suite needs besides the JDK and ClickHouse: Locust (python3-locust, the locust plug-in's tests run
# it), headless Chromium (renders the HTML report) and
# its chromedriver (the web app's browser test drives it with Selenium), axe-core from npm (that test's
# accessibility check, in ~/.cache/loadtest-axe), docker-compose (checks compose/ with `config`; no Docker engine needed), node and npm's chdb package (a
# current ClickHouse engine in-process, for the check that our SQL answers alike on 18.16 and current
# releases; about 550 MB, in ~/.cache/loadtest-chdb). Installs Debian's packages and chdb when it can
# (root + apt-get, npm), else says exactly what to run. Exit 1 when a tool cannot be had.
set -euo pipefail
CHDB_VERSION=3.4.0
AXE_VERSION=4.10.2
chdb_dir="${LOADTEST_CHDB_DIR:-$HOME/.cache/loadtest-chdb}"
axe_dir="${LOADTEST_AXE_DIR:-$HOME/.cache/loadtest-axe}"

# ensure_npm PACKAGE VERSION DIR WHAT: installs PACKAGE@VERSION into DIR/node_modules unless it is there.
ensure_npm() {
  local pkg="$1" version="$2" dir="$3" what="$4"
  if [ -f "$dir/node_modules/$pkg/package.json" ]; then
    return 0
  fi
  echo "loadtest: installing $pkg $version ($what) into $dir..." >&2
  mkdir -p "$dir"
  local log
  log="$(mktemp -t "$pkg-install.XXXXXX.log")"
  if (cd "$dir" && npm install --no-audit --no-fund "$pkg@$version") >"$log" 2>&1; then
    rm -f "$log"
    return 0
  fi
  tail -n 30 "$log" >&2
  echo "loadtest: installing $pkg failed (log: $log). Run by hand:  (mkdir -p $dir && cd $dir && npm install $pkg@$version)" >&2
  return 1
}

ensure_npm_packages() {
  if [ -z "${LOADTEST_CHDB_MODULE:-}" ]; then
    ensure_npm chdb "$CHDB_VERSION" "$chdb_dir" "a current ClickHouse engine for node, ~550 MB"
  fi
  if [ -z "${LOADTEST_AXE_JS:-}" ]; then
    ensure_npm axe-core "$AXE_VERSION" "$axe_dir" "the accessibility checker the web app's browser test runs, ~3 MB"
  fi
}

missing=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium-browser ] || missing+=(chromium)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
[ -x /usr/bin/chromedriver ] || command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
# Locust for the locust plug-in's tests (Debian's /usr/bin/locust; LOADTEST_LOCUST names another)
[ -n "${LOADTEST_LOCUST:-}" ] || [ -x /usr/bin/locust ] || missing+=(python3-locust)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then
  ensure_npm_packages
  exit 0
fi
install_cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing[*]}"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "loadtest: installing ${missing[*]} for the tests (Debian packages)..." >&2
  log="$(mktemp -t test-tools-install.XXXXXX.log)"
  if apt-get update -qq >"$log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >>"$log" 2>&1; then
    rm -f "$log"
    ensure_npm_packages
    exit 0
  fi
  tail -n 30 "$log" >&2
  echo "loadtest: installing ${missing[*]} failed (log: $log). Run by hand:  $install_cmd" >&2
  exit 1
fi
echo "loadtest: the tests need ${missing[*]}. Install: sudo sh -c '$install_cmd'" >&2
exit 1

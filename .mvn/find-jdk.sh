# Sourced by ./mvnw and the project's scripts: makes JAVA_HOME point at a JDK >= 21.
# Order: JAVA_HOME if it is new enough; else the newest JDK >= 21 under /usr/lib/jvm
# (or LOADTEST_JDK_DIRS); else `java` on PATH if new enough; else explain what to install.
loadtest_java_feature() {  # prints the feature release of "$1/bin/java" (17, 21, 25...) or nothing
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
  "$1/bin/java" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9][0-9]*\).*/\1/p' | head -n 1
}
loadtest_find_jdk() {
  if [ -n "${JAVA_HOME:-}" ]; then
    v=$(loadtest_java_feature "$JAVA_HOME")
    if [ -n "$v" ] && [ "$v" -ge 21 ]; then return 0; fi
  fi
  best=""; best_v=0
  case $- in *f*) set +f; loadtest_noglob=1 ;; *) loadtest_noglob=0 ;; esac
  for d in ${LOADTEST_JDK_DIRS:-/usr/lib/jvm/* /opt/java/* /opt/jdk*}; do
    [ -d "$d" ] || continue
    v=$(loadtest_java_feature "$d")
    if [ -n "$v" ] && [ "$v" -ge 21 ] && [ "$v" -gt "$best_v" ]; then best="$d"; best_v="$v"; fi
  done
  if [ "$loadtest_noglob" = 1 ]; then set -f; fi
  if [ -z "$best" ] && command -v javac >/dev/null 2>&1; then
    d=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    v=$(loadtest_java_feature "$d")
    if [ -n "$v" ] && [ "$v" -ge 21 ]; then best="$d"; fi
  fi
  if [ -z "$best" ]; then
    echo "loadtest: no JDK 21 or newer found (looked at JAVA_HOME, /usr/lib/jvm/*, /opt/java/*, PATH)." >&2
    echo "  Install one, e.g.:  apt-get install -y openjdk-21-jdk-headless   (or Temurin 21/25)," >&2
    echo "  or point JAVA_HOME at an existing JDK 21+." >&2
    return 1
  fi
  JAVA_HOME="$best"; export JAVA_HOME
}
loadtest_find_jdk || exit 1
# Maven's Guice calls sun.misc.Unsafe; JDK 24+ warns unless told this is expected.
if [ "$(loadtest_java_feature "$JAVA_HOME")" -ge 24 ] 2>/dev/null; then
  case "${MAVEN_OPTS:-}" in *sun-misc-unsafe-memory-access*) ;; *)
    MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"; export MAVEN_OPTS ;;
  esac
fi

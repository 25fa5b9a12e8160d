#!/usr/bin/env bash
# Builds and runs the JMH benchmarks, printing ns per sample / per recorded value with the peers
# alongside. Extra arguments go to JMH (e.g. a regex of benchmarks, -f 3 for more forks).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/.mvn/find-jdk.sh"
"$root/mvnw" -q -B -DskipTests package -pl benchmarks -am
exec "$JAVA_HOME/bin/java" -jar "$root/benchmarks/target/benchmarks.jar" "$@"

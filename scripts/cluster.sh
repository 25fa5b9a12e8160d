#!/usr/bin/env bash
# A real cluster on this machine: every component a process of its own, with its own log.
#
#   scripts/cluster.sh up [--generators N]   # start (builds first when needed); prints the addresses
#   scripts/cluster.sh status                # each process, the brokers, the Flink jobs, the API
#   scripts/cluster.sh down                  # stop everything, remove the network namespaces
#   scripts/cluster.sh kill NAME             # kill -9 one process (broker-2, taskmanager-1, coordinator-1, ...)
#   scripts/cluster.sh start NAME            # start one process again (after a kill)
#   scripts/cluster.sh env                   # the addresses as shell variables (eval "$(scripts/cluster.sh env)")
#
# What runs (settings: compose/cluster.env, the one place the cluster and compose/ take them from):
#   3 Kafka brokers (KRaft, broker+controller each, replication 3, min.insync.replicas 2)
#   a Flink standalone session cluster: 1 JobManager, 2 TaskManagers, checkpoints in a local directory;
#     the aggregate and threshold jobs submitted as a jar through Flink's REST API (Flink's own CLI, `flink run`)
#   ClickHouse, 2 coordinators (Kafka Streams: one takes over the other's tasks when it dies), the query API,
#   the demo shop (the system under test), and N generator agents, each in a network namespace of its own
#   (ip netns + veth on a bridge) with an address of its own: nothing talks over loopback.
# Needs root (network namespaces), Java 21+, clickhouse-server (scripts/ensure-clickhouse.sh installs it).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/compose/cluster.env"
dir="$root/.loadtest/cluster"
logs="$dir/logs"
pids="$dir/pids"
# the processes run a copy of the build (dist/), so that rebuilding the project never changes a running cluster
lib="$dir/dist/lib"
jar="$dir/dist/cli.jar"
job_jar="$dir/dist/flink-jobs-job.jar"
ip_host="$LOADTEST_CLUSTER_NET.1"
bootstrap="$ip_host:$KAFKA_PORT_BASE$((1)),$ip_host:$KAFKA_PORT_BASE$((2)),$ip_host:$KAFKA_PORT_BASE$((3))"
clickhouse_url="http://$ip_host:$CLICKHOUSE_HTTP_PORT/"
api_url="http://$ip_host:$API_PORT"
shop_url="http://$ip_host:$SHOP_PORT"
flink_url="http://$ip_host:$FLINK_REST_PORT"

say() { echo "cluster: $*" >&2; }
die() { say "$*"; exit 1; }

java_cmd() {
  . "$root/.mvn/find-jdk.sh"
  local extra=()
  local feature
  feature=$("$JAVA_HOME/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p')
  if [ "${feature:-0}" -ge 24 ]; then
    extra+=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)
  fi
  JAVA=("$JAVA_HOME/bin/java" "${extra[@]}" --add-opens=java.base/java.util=ALL-UNNAMED
    --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
    --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED
    --add-opens=java.base/java.time=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
    --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
    -Djava.net.preferIPv4Stack=true -XX:+UseParallelGC -Dlog4j2.configurationFile="$dir/log4j2.xml")
  if [ ! -f "$dir/log4j2.xml" ] || [ "$dir/log4j2.xml" -ot "${BASH_SOURCE[0]}" ]; then
    mkdir -p "$dir"
    cat >"$dir/log4j2.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<!-- The cluster's processes (scripts/cluster.sh): what happened, with times, into each one's log. -->
<Configuration status="WARN">
  <Appenders>
    <Console name="out" target="SYSTEM_OUT">
      <PatternLayout pattern="%d{yyyy-MM-dd HH:mm:ss,SSS} %-5level %c{1} [%t] - %msg%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Logger name="org.apache.kafka" level="WARN"/>
    <Logger name="kafka" level="WARN"/>
    <Logger name="org.apache.kafka.streams.KafkaStreams" level="INFO"/>
    <Logger name="org.apache.flink.runtime.checkpoint" level="WARN"/>
    <Logger name="org.apache.flink.runtime.source.coordinator.SourceCoordinator" level="WARN"/>
    <Logger name="org.apache.flink.metrics" level="ERROR"/>
    <Logger name="org.apache.flink.runtime.metrics" level="ERROR"/>
    <Logger name="org.apache.flink.connector.kafka.sink.internal" level="WARN"/>
    <Root level="INFO"><AppenderRef ref="out"/></Root>
  </Loggers>
</Configuration>
EOF
  fi
}

# Flink's processes get Flink and its dependencies only (what a Flink distribution's lib/ holds, with its
# Log4j): the flink-jobs module's class path without what the job jar carries. Our code reaches them in the
# job jar, uploaded when the jobs are submitted.
flink_classpath() {
  if [ ! -s "$dir/flink-classpath" ] || [ "$dir/flink-classpath" -ot "$job_jar" ]; then
    mkdir -p "$dir"
    . "$root/.mvn/find-jdk.sh"
    "$root/mvnw" -q -B dependency:build-classpath -pl flink-jobs -Dmdep.includeScope=runtime \
      -Dmdep.outputFile="$dir/flink-classpath.tmp" \
      -DexcludeArtifactIds=schemas,flink-connector-kafka,flink-connector-base,kafka-clients,zstd-jni,avro,jackson-core,jackson-databind,jackson-annotations,jackson-datatype-jsr310,jackson-datatype-jdk8 >&2
    local f logj=""
    for f in "$lib"/log4j-*.jar; do logj="$logj:$f"; done
    echo "$(cat "$dir/flink-classpath.tmp")$logj" >"$dir/flink-classpath"
    rm -f "$dir/flink-classpath.tmp"
  fi
  cat "$dir/flink-classpath"
}

pid_of() { [ -f "$pids/$1.pid" ] && cat "$pids/$1.pid" || true; }
alive() { local p; p=$(pid_of "$1"); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

# start NAME NETNS(or -) COMMAND...: runs it in the background with its log, records its pid
launch() {
  local name=$1 ns=$2
  shift 2
  if alive "$name"; then
    say "$name is running already (pid $(pid_of "$name"))"
    return 0
  fi
  mkdir -p "$logs" "$pids"
  echo "=== $(date -u +%FT%TZ) start: $*" >>"$logs/$name.log"
  if [ "$ns" = - ]; then
    (cd "$dir" && exec setsid "$@" >>"$logs/$name.log" 2>&1 </dev/null) &
  else
    (cd "$dir" && exec setsid ip netns exec "$ns" "$@" >>"$logs/$name.log" 2>&1 </dev/null) &
  fi
  echo $! >"$pids/$name.pid"
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      die "$what not ready after ${limit}s (logs: $logs)"
    fi
    sleep 0.5
  done
}

# Flink looks for plug-ins in ./plugins (our source tree has one): give it an empty directory of its own
export FLINK_PLUGINS_DIR="$dir/flink/plugins"

build() {
  local built_jar="$root/cli/target/cli.jar" built_job="$root/flink-jobs/target/flink-jobs-job.jar" stale=""
  if [ -f "$built_jar" ] && [ -f "$built_job" ]; then
    stale=$(find "$root" \( -path "$root/.loadtest" -o -path "$root/.git" -o -name target \) -prune -o \( -name '*.java' -o -name 'pom.xml' -o -path '*/src/main/resources/*' -o -name '*.avsc' \) -newer "$built_job" -print -quit)
  fi
  if [ ! -f "$built_jar" ] || [ ! -f "$built_job" ] || [ -n "$stale" ]; then
    say "building the project and the Flink job jar..."
    . "$root/.mvn/find-jdk.sh"
    "$root/mvnw" -q -B -DskipTests -Pjob-jar package -pl cli -am >&2
  fi
  rm -rf "$dir/dist" "$dir/flink-classpath"
  mkdir -p "$dir/dist"
  cp -r "$root/cli/target/lib" "$lib"
  cp "$built_jar" "$jar"
  cp "$built_job" "$job_jar"
}

network_up() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add "$ip_host/24" dev "$BRIDGE"
    ip link set "$BRIDGE" up
  fi
  local i
  for i in $(seq 1 "$generators"); do
    local ns="$NETNS_PREFIX$i" host_if="ltveth$i" addr="$LOADTEST_CLUSTER_NET.$((10 + i))"
    if ! ip netns list | grep -qw "$ns"; then
      ip netns add "$ns"
      ip link add "$host_if" type veth peer name eth0 netns "$ns"
      ip link set "$host_if" master "$BRIDGE" up
      ip netns exec "$ns" ip addr add "$addr/24" dev eth0
      ip netns exec "$ns" ip link set eth0 up
      ip netns exec "$ns" ip link set lo up
      ip netns exec "$ns" ip route add default via "$ip_host"
    fi
  done
}

network_down() {
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$NETNS_PREFIX" || true); do
    ip netns del "$ns" || true
  done
  ip link del "$BRIDGE" 2>/dev/null || true
}

kafka_props() { # kafka_props N
  local n=$1 voters="" i
  for i in 1 2 3; do voters="$voters,$i@$ip_host:$KAFKA_CONTROLLER_PORT_BASE$i"; done
  cat <<EOF
process.roles=broker,controller
node.id=$n
controller.quorum.voters=${voters#,}
listeners=PLAINTEXT://$ip_host:$KAFKA_PORT_BASE$n,CONTROLLER://$ip_host:$KAFKA_CONTROLLER_PORT_BASE$n
advertised.listeners=PLAINTEXT://$ip_host:$KAFKA_PORT_BASE$n
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/kafka-$n/data
num.partitions=1
default.replication.factor=$KAFKA_REPLICATION_FACTOR
min.insync.replicas=$KAFKA_MIN_INSYNC_REPLICAS
offsets.topic.replication.factor=$KAFKA_REPLICATION_FACTOR
transaction.state.log.replication.factor=$KAFKA_REPLICATION_FACTOR
transaction.state.log.min.isr=$KAFKA_MIN_INSYNC_REPLICAS
transaction.max.timeout.ms=$KAFKA_TRANSACTION_MAX_TIMEOUT_MS
group.initial.rebalance.delay.ms=0
broker.session.timeout.ms=$KAFKA_BROKER_SESSION_TIMEOUT_MS
broker.heartbeat.interval.ms=$KAFKA_BROKER_HEARTBEAT_INTERVAL_MS
unclean.leader.election.enable=false
EOF
}

start_broker() { # start_broker N
  local n=$1
  mkdir -p "$dir/kafka-$n"
  kafka_props "$n" >"$dir/kafka-$n/server.properties"
  if [ ! -f "$dir/kafka-$n/data/meta.properties" ]; then
    "${JAVA[@]}" -cp "$lib/*" kafka.tools.StorageTool format -t "$KAFKA_CLUSTER_ID" \
      -c "$dir/kafka-$n/server.properties" >>"$logs/broker-$n.log" 2>&1 || die "formatting broker $n failed (log: $logs/broker-$n.log)"
  fi
  launch "broker-$n" - "${JAVA[@]}" -Xms256m -Xmx768m -Dkafka.logs.dir="$dir/kafka-$n" -cp "$lib/*" kafka.Kafka "$dir/kafka-$n/server.properties"
}

flink_conf() {
  mkdir -p "$dir/flink/conf" "$dir/flink/checkpoints" "$dir/flink/staging" "$FLINK_PLUGINS_DIR"
  cat >"$dir/flink/conf/config.yaml" <<EOF
jobmanager.rpc.address: $ip_host
jobmanager.bind-host: $ip_host
jobmanager.rpc.port: $FLINK_RPC_PORT
jobmanager.memory.process.size: $FLINK_JOBMANAGER_MEMORY
rest.address: $ip_host
rest.bind-address: $ip_host
rest.port: $FLINK_REST_PORT
taskmanager.bind-host: $ip_host
taskmanager.host: $ip_host
taskmanager.numberOfTaskSlots: $FLINK_TASK_SLOTS
taskmanager.memory.process.size: $FLINK_TASKMANAGER_MEMORY
parallelism.default: 1
# the two jobs' tasks spread over the TaskManagers (not all in the first one's slots)
taskmanager.load-balance.mode: SLOTS
execution.checkpointing.dir: file://$dir/flink/checkpoints
execution.checkpointing.num-retained: 2
restart-strategy.type: exponential-delay
heartbeat.timeout: $FLINK_HEARTBEAT_TIMEOUT_MS
EOF
}

start_jobmanager() {
  launch jobmanager - "${JAVA[@]}" -Xms256m -Xmx768m -cp "$(flink_classpath)" \
    org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint --configDir "$dir/flink/conf"
}

start_taskmanager() { # start_taskmanager N
  local n=$1
  launch "taskmanager-$n" - "${JAVA[@]}" -Xms512m -Xmx"$FLINK_TASKMANAGER_HEAP" -XX:MaxDirectMemorySize=512m \
    -cp "$(flink_classpath)" org.apache.flink.runtime.taskexecutor.TaskManagerRunner --configDir "$dir/flink/conf" \
    -D "taskmanager.resource-id=taskmanager-$n" -D "taskmanager.cpu.cores=$FLINK_TASK_SLOTS" -D "taskmanager.memory.task.heap.size=$FLINK_TASK_HEAP" \
    -D "taskmanager.memory.managed.size=64m" -D "taskmanager.memory.network.min=64m" -D "taskmanager.memory.network.max=64m" \
    -D "taskmanager.memory.framework.heap.size=128m" -D "taskmanager.memory.framework.off-heap.size=128m" \
    -D "taskmanager.memory.task.off-heap.size=0m" -D "taskmanager.memory.jvm-metaspace.size=256m" \
    -D "taskmanager.memory.jvm-overhead.min=192m" -D "taskmanager.memory.jvm-overhead.max=192m"
}

flink_job_running() { # flink_job_running NAME-PREFIX
  curl -fsS "$flink_url/jobs/overview" | grep -o "\"name\":\"$1[^\"]*\",\"start-time\":[0-9]*,\"end-time\":-1,\"duration\":[0-9]*,\"state\":\"RUNNING\"" >/dev/null
}

submit_job() { # submit_job aggregate|thresholds
  local job=$1
  if flink_job_running "loadtest-$job"; then
    return 0
  fi
  local from=() savepoint="$dir/flink/savepoint-$job"
  if [ -s "$savepoint" ]; then
    from=(-s "$(cat "$savepoint")")
    say "submitting the $job job (flink run $job_jar), from the savepoint taken when the cluster went down"
  else
    say "submitting the $job job (flink run $job_jar)"
  fi
  local run=(env FLINK_CONF_DIR="$dir/flink/conf" "${JAVA[@]}" -cp "$(flink_classpath)"
    org.apache.flink.client.cli.CliFrontend run -d)
  local args=(-c dev.loadtest.flink.FlinkJobs "$job_jar" "$job" --bootstrap "$bootstrap"
    --clickhouse-url "$clickhouse_url" --database loadtest --sink-staging-dir "file://$dir/flink/staging/$job")
  if [ ${#from[@]} -gt 0 ] && ! "${run[@]}" "${from[@]}" "${args[@]}" >>"$logs/submit-$job.log" 2>&1; then
    say "the $job job did not start from $(cat "$savepoint") (log: $logs/submit-$job.log); starting it afresh"
    from=()
  fi
  if [ ${#from[@]} -eq 0 ]; then
    "${run[@]}" "${args[@]}" >>"$logs/submit-$job.log" 2>&1 || die "submitting the $job job failed (log: $logs/submit-$job.log)"
  fi
  rm -f "$savepoint"
}

# Stops the running jobs with a savepoint each (their open seconds and offsets), so that the next `up`
# resumes them where they were instead of starting afresh; done first, while Kafka and ClickHouse still run.
stop_jobs_with_savepoints() {
  curl -fsS --max-time 5 "$flink_url/jobs/overview" >/dev/null 2>&1 || return 0
  python3 - "$flink_url" "$dir/flink" <<'EOF' || true
import json, sys, time, urllib.request
base, d = sys.argv[1], sys.argv[2]
def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())
for j in call("GET", "/jobs/overview")["jobs"]:
    if j["state"] != "RUNNING" or j["name"] not in ("loadtest-aggregate", "loadtest-thresholds"):
        continue
    job = j["name"][len("loadtest-"):]
    trigger = call("POST", f"/jobs/{j['jid']}/stop", {"targetDirectory": f"file://{d}/savepoints", "drain": False})
    deadline = time.time() + 120
    while time.time() < deadline:
        st = call("GET", f"/jobs/{j['jid']}/savepoints/{trigger['request-id']}")
        if st["status"]["id"] == "COMPLETED":
            location = st.get("operation", {}).get("location")
            if location:
                with open(f"{d}/savepoint-{job}", "w") as f:
                    f.write(location)
                print(f"cluster: {j['name']} stopped with a savepoint ({location})", file=sys.stderr)
            else:
                cause = str(st.get("operation", {}).get("failure-cause", {}).get("stack-trace", "?"))[:300]
                print(f"cluster: {j['name']}: no savepoint ({cause}); the next up starts it afresh", file=sys.stderr)
            break
        time.sleep(0.5)
    else:
        print(f"cluster: {j['name']}: no savepoint within 120 s; the next up starts it afresh", file=sys.stderr)
EOF
}

clickhouse_up() {
  "$root/scripts/ensure-clickhouse.sh"
  mkdir -p "$dir/clickhouse/log" "$dir/clickhouse/tmp" "$dir/clickhouse/user_files" "$dir/clickhouse/format_schemas"
  sed -e "s#DATA_DIR#$dir/clickhouse#g" -e "s#HTTP_PORT#$CLICKHOUSE_HTTP_PORT#" -e "s#TCP_PORT#$CLICKHOUSE_TCP_PORT#" \
    -e "s#<listen_host>127.0.0.1</listen_host>#<listen_host>$ip_host</listen_host>#" \
    "$root/embedded/src/main/resources/clickhouse/config.xml" >"$dir/clickhouse/config.xml"
  sed -e "s#LOG_QUERIES#0#" -e "s#<ip>127.0.0.1</ip>#<ip>$LOADTEST_CLUSTER_NET.0/24</ip>#" \
    "$root/embedded/src/main/resources/clickhouse/users.xml" >"$dir/clickhouse/users.xml"
  local bin
  bin=$(command -v clickhouse-server || echo /usr/bin/clickhouse-server)
  launch clickhouse - "$bin" --config-file="$dir/clickhouse/config.xml"
}

start_one() { # start_one NAME: (re)start one component of a cluster that is up
  java_cmd
  local name=$1
  case "$name" in
    broker-[1-3]) start_broker "${name#broker-}" ;;
    jobmanager) start_jobmanager ;;
    taskmanager-[0-9]*) start_taskmanager "${name#taskmanager-}" ;;
    clickhouse) clickhouse_up ;;
    coordinator-[0-9]*)
      launch "$name" - "${JAVA[@]}" -Xmx512m -cp "$jar:$lib/*" dev.loadtest.cli.LoadtestCli coordinator \
        --bootstrap "$bootstrap" --state-dir "$dir/$name" --allow-host "$ip_host" ;;
    api)
      launch api - "${JAVA[@]}" -Xmx1g -cp "$jar:$lib/*" dev.loadtest.cli.LoadtestCli api --host "$ip_host" \
        --port "$API_PORT" --bootstrap "$bootstrap" --clickhouse-url "$clickhouse_url" --database loadtest \
        --token "write:$(cat "$dir/token")" ;;
    shop)
      launch shop - "${JAVA[@]}" -Xmx512m -cp "$jar:$lib/*" dev.loadtest.cli.LoadtestCli shop --host "$ip_host" \
        --port "$SHOP_PORT" --latency 5ms --error-rate 0 ;;
    generator-[0-9]*)
      local i=${name#generator-} zones
      IFS=, read -r -a zones <<<"$GENERATOR_ZONES"
      launch "$name" "$NETNS_PREFIX$i" "${JAVA[@]}" -Xmx768m -cp "$jar:$lib/*" dev.loadtest.cli.LoadtestCli generator \
        --bootstrap "$bootstrap" --zone "${zones[$(((i - 1) % ${#zones[@]}))]}" --id "$name" ;;
    *) die "no component named $name (see: scripts/cluster.sh status)" ;;
  esac
}

components() {
  echo clickhouse broker-1 broker-2 broker-3 jobmanager
  seq 1 "$FLINK_TASKMANAGERS" | sed 's/^/taskmanager-/'
  echo coordinator-1 coordinator-2 api shop
  local n
  n=$(ls "$pids" 2>/dev/null | grep -c '^generator-' || true)
  seq 1 "${generators:-$n}" | sed 's/^/generator-/'
}

up() {
  [ "$(id -u)" = 0 ] || die "needs root for the network namespaces (ip netns); run it as root"
  local running=""
  for f in "$pids"/*.pid; do
    [ -e "$f" ] && alive "$(basename "$f" .pid)" && running=yes
  done
  if [ -n "$running" ]; then
    say "parts of the cluster are running: starting what is not (the build they run stays; down, then up, for a new one)"
  else
    build
  fi
  java_cmd
  mkdir -p "$dir" "$logs" "$pids"
  echo "$generators" >"$dir/generators"
  [ -f "$dir/token" ] || head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$dir/token"
  network_up
  say "ClickHouse"
  clickhouse_up
  say "3 Kafka brokers"
  local i
  for i in 1 2 3; do start_broker "$i"; done
  flink_conf
  say "Flink: JobManager, $FLINK_TASKMANAGERS TaskManagers"
  start_jobmanager
  for i in $(seq 1 "$FLINK_TASKMANAGERS"); do start_taskmanager "$i"; done
  wait_for 60 "ClickHouse at $clickhouse_url" curl -fsS "${clickhouse_url}ping"
  wait_for 120 "the Kafka brokers" "${JAVA[@]}" -cp "$jar:$lib/*" dev.loadtest.cli.LoadtestCli init \
    --bootstrap "$bootstrap" --clickhouse-url "$clickhouse_url" --replication-factor "$KAFKA_REPLICATION_FACTOR"
  "${JAVA[@]}" -cp "$jar:$lib/*" dev.loadtest.cli.LoadtestCli init --bootstrap "$bootstrap" \
    --clickhouse-url "$clickhouse_url" --replication-factor "$KAFKA_REPLICATION_FACTOR" >>"$logs/init.log" 2>&1
  wait_for 120 "Flink's REST API at $flink_url with $FLINK_TASKMANAGERS TaskManagers" \
    bash -c "curl -fsS $flink_url/overview | grep -q '\"taskmanagers\":$FLINK_TASKMANAGERS'"
  submit_job aggregate
  submit_job thresholds
  say "coordinators, API, shop, $generators generators"
  for c in coordinator-1 coordinator-2 api shop; do start_one "$c"; done
  for i in $(seq 1 "$generators"); do start_one "generator-$i"; done
  wait_for 120 "the query API at $api_url" curl -fsS "$api_url/api/v1/health"
  wait_for 60 "the shop at $shop_url" curl -fsS "$shop_url/stats"
  wait_for 120 "both Flink jobs running" bash -c "curl -fsS $flink_url/jobs/overview | grep -o '\"state\":\"RUNNING\"' | wc -l | grep -q '^2$'"
  status
  cat <<EOF

Cluster up. Run a test against it:
  ./loadtest run examples/checkout.json --api $api_url/api/v1 --token \$(cat $dir/token) -e BASE_URL=$shop_url
Web app: $api_url/  (token in $dir/token)   Flink: $flink_url/   Logs: $logs/
EOF
}

status() {
  local name p rc=0
  printf '%-16s %-8s %s\n' COMPONENT PID STATE
  for name in $(components); do
    p=$(pid_of "$name")
    if alive "$name"; then
      printf '%-16s %-8s %s\n' "$name" "$p" running
    else
      printf '%-16s %-8s %s\n' "$name" "${p:--}" "NOT RUNNING (log: $logs/$name.log)"
      rc=1
    fi
  done
  echo
  echo "Flink jobs ($flink_url):"
  curl -fsS --max-time 5 "$flink_url/jobs/overview" 2>/dev/null | grep -o '"name":"[^"]*"\|"state":"[A-Z]*"' | paste - - | sed 's/^/  /' || echo "  (JobManager not answering)"
  echo "API health ($api_url/api/v1/health):"
  curl -fsS --max-time 5 "$api_url/api/v1/health" 2>/dev/null | head -c 600 | sed 's/^/  /' || echo "  (API not answering)"
  echo
  return $rc
}

down() {
  local name p
  stop_jobs_with_savepoints
  if [ -d "$pids" ]; then
    for f in "$pids"/*.pid; do
      [ -e "$f" ] || continue
      p=$(cat "$f")
      kill -TERM -- -"$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true
    done
    local deadline=$((SECONDS + 30))
    for f in "$pids"/*.pid; do
      [ -e "$f" ] || continue
      p=$(cat "$f")
      while kill -0 "$p" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
      kill -KILL -- -"$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || true
      rm -f "$f"
    done
  fi
  network_down
  if [ "${1:-}" = "--purge" ]; then
    rm -rf "$dir"
  fi
  say "down"
}

env_vars() {
  cat <<EOF
LOADTEST_CLUSTER_BOOTSTRAP=$bootstrap
LOADTEST_CLUSTER_API=$api_url
LOADTEST_CLUSTER_TOKEN=$(cat "$dir/token" 2>/dev/null)
LOADTEST_CLUSTER_SHOP=$shop_url
LOADTEST_CLUSTER_FLINK=$flink_url
LOADTEST_CLUSTER_CLICKHOUSE=$clickhouse_url
LOADTEST_CLUSTER_DIR=$dir
EOF
}

generators=$(cat "$dir/generators" 2>/dev/null || echo "$GENERATORS")
cmd=${1:-}
shift || true
case "$cmd" in
  up)
    while [ $# -gt 0 ]; do
      case "$1" in
        --generators) [ $# -ge 2 ] || die "--generators needs a number (1..99)"; generators=$2; shift 2 ;;
        *) die "unknown option $1 (up [--generators N])" ;;
      esac
    done
    [[ "$generators" =~ ^[1-9][0-9]?$ ]] || die "--generators must be 1..99, got $generators"
    up ;;
  down)
    case "${1:-}" in ""|--purge) ;; *) die "unknown option $1 (down [--purge])" ;; esac
    down "${1:-}" ;;
  status) status ;;
  kill)
    [ -n "${1:-}" ] || die "kill NAME"
    [[ "$1" =~ ^[a-z]+(-[0-9]+)?$ ]] || die "no component named $1 (see: scripts/cluster.sh status)"
    p=$(pid_of "$1"); [ -n "$p" ] && kill -KILL -- -"$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || die "$1 is not running"
    say "killed $1 (pid $p) with SIGKILL" ;;
  start) [ -n "${1:-}" ] || die "start NAME"; start_one "$1" ;;
  env) env_vars ;;
  *) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac

#!/usr/bin/env bash
# Start or stop a single-node Apache Kafka (KRaft mode: one process is both
# broker and controller) on this machine, for tests and local runs.
#
#   scripts/kafka.sh start    # fetch the jars if needed, start, wait until it answers
#   scripts/kafka.sh stop     # stop the broker started by "start"
#   scripts/kafka.sh status   # exit 0 if it is running
#   scripts/kafka.sh addr     # print host:port
#   scripts/kafka.sh topic NAME PARTITIONS   # create a topic (if it does not exist yet)
#   scripts/kafka.sh topics   # list the topics
#   scripts/kafka.sh produce TOPIC < FILE     # Kafka's console producer: one record per line of FILE
#   scripts/kafka.sh consume TOPIC [ARGS…]   # Kafka's console consumer, from the beginning, headers shown
#   scripts/kafka.sh tool CLASS [ARGS…]      # any other Kafka tool, e.g. org.apache.kafka.tools.GetOffsetShell
#
# The topic, consume and tool commands run Kafka's own command-line tools
# (org.apache.kafka:kafka-tools, fetched on first use into its own directory
# beside the broker's jars) against the broker on KAFKA_PORT.
#
# The jars come from Maven Central through Maven (org.apache.kafka:kafka_2.13
# and its runtime dependencies) and are cached, per version, in
# $MAPPER_KAFKA_CACHE (default ~/.cache/mapper-kafka). The broker runs on the
# installed Java (17 or later). Its data and log live in
# $MAPPER_KAFKA_CACHE/run-<port> and are wiped on every start.
#
# Environment:
#   KAFKA_VERSION        Kafka release (default 3.9.2)
#   KAFKA_PORT           client port on 127.0.0.1 (default 9092); the controller uses port+1
#   MAPPER_KAFKA_CACHE   cache directory (default ~/.cache/mapper-kafka)
#   KAFKA_HEAP_OPTS      JVM heap flags (default -Xms256m -Xmx768m)
#   KAFKA_START_TIMEOUT  seconds to wait for the broker (default 120)
#
# Then: MAPPER_TEST_KAFKA=127.0.0.1:9092 go test ./...
set -euo pipefail

version=${KAFKA_VERSION:-3.9.2}
port=${KAFKA_PORT:-9092}
cport=$((port + 1))
cache=${MAPPER_KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mapper-kafka}
libs=$cache/kafka-$version/libs
tools=$cache/kafka-$version/tools
run=$cache/run-$port
pidfile=$run/kafka.pid
logfile=$run/kafka.log
timeout=${KAFKA_START_TIMEOUT:-120}

die() { echo "kafka.sh: $*" >&2; exit 1; }

name=kafka.sh what=broker
# shellcheck source=scripts/service.sh
. "$(dirname "$0")/service.sh"

fetch() {
	[ -f "$libs/.complete" ] && return 0
	command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch the Kafka $version jars"
	echo "kafka.sh: fetching Kafka $version jars with Maven into $libs" >&2
	local work=$cache/kafka-$version/pom
	rm -rf "$libs" "$work"
	mkdir -p "$work"
	cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.mapper</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
POM
	mvn -B -q -f "$work/pom.xml" dependency:copy-dependencies \
		-DincludeScope=runtime -DoutputDirectory="$libs" >&2 ||
		die "Maven could not fetch org.apache.kafka:kafka_2.13:$version and its dependencies"
	ls "$libs"/kafka_2.13-"$version".jar >/dev/null 2>&1 || die "kafka_2.13-$version.jar missing after the fetch"
	# A second SLF4J binding would only add noise.
	rm -f "$libs"/slf4j-reload4j-*.jar "$libs"/slf4j-log4j12-*.jar
	touch "$libs/.complete"
}

# fetch_tools fetches org.apache.kafka:kafka-tools (TopicCommand, the
# console consumer…) into its own directory, so that a broker already
# running from $libs is not disturbed.
fetch_tools() {
	fetch
	[ -f "$tools/.complete" ] && return 0
	command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch the Kafka $version tools"
	echo "kafka.sh: fetching Kafka $version tools with Maven into $tools" >&2
	local work=$cache/kafka-$version/tools-pom
	rm -rf "$tools" "$work"
	mkdir -p "$work"
	cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.mapper</groupId>
  <artifactId>kafka-tools-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$version</version></dependency>
  </dependencies>
</project>
POM
	mvn -B -q -Dstyle.color=never -f "$work/pom.xml" dependency:copy-dependencies \
		-DincludeScope=runtime -DoutputDirectory="$tools" >&2 ||
		die "Maven could not fetch org.apache.kafka:kafka-tools:$version and its dependencies"
	ls "$tools"/kafka-tools-"$version".jar >/dev/null 2>&1 || die "kafka-tools-$version.jar missing after the fetch"
	rm -f "$tools"/slf4j-reload4j-*.jar "$tools"/slf4j-log4j12-*.jar "$tools"/reload4j-*.jar
	touch "$tools/.complete"
}

# tool runs a Kafka command-line tool class against the broker.
tool() {
	java_ok
	fetch_tools
	running || die "no broker running on 127.0.0.1:$port (scripts/kafka.sh start)"
	local class=$1
	shift
	java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$libs/*:$tools/*" "$class" "$@"
}

java_ok() {
	command -v java >/dev/null || die "java is not installed (Java 17 or later is needed)"
	local v
	v=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
	[ -n "$v" ] && [ "$v" -ge 17 ] || die "Java 17 or later is needed, found: $(java -version 2>&1 | head -1)"
}

start() {
	if running; then
		echo "kafka.sh: already running on 127.0.0.1:$port (pid $(cat "$pidfile"))" >&2
		echo "127.0.0.1:$port"
		return 0
	fi
	java_ok
	fetch
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		die "port $port is already in use (set KAFKA_PORT)"
	fi
	rm -rf "$run"
	mkdir -p "$run/data"
	cat >"$run/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$run/data
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=1
PROPS
	local cp="$libs/*"
	local id
	id=$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
	[ -n "$id" ] || die "could not generate a cluster id with kafka.tools.StorageTool"
	java -cp "$cp" kafka.tools.StorageTool format -t "$id" -c "$run/server.properties" >"$run/format.log" 2>&1 ||
		{ cat "$run/format.log" >&2; die "formatting the storage failed"; }
	# shellcheck disable=SC2086
	nohup java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m} -XX:+UseG1GC -Djava.awt.headless=true \
		-Dorg.slf4j.simpleLogger.defaultLogLevel=info \
		-cp "$cp" kafka.Kafka "$run/server.properties" >"$logfile" 2>&1 </dev/null &
	echo $! >"$pidfile"
	local waited=0
	until grep -q "Kafka Server started" "$logfile" 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
		if ! running; then
			tail -n 60 "$logfile" >&2 || true
			die "Kafka $version exited during start-up (log above, full log in $logfile)"
		fi
		if [ "$waited" -ge "$timeout" ]; then
			tail -n 60 "$logfile" >&2 || true
			stop >/dev/null 2>&1 || true
			die "Kafka $version did not come up on 127.0.0.1:$port within ${timeout}s (log above)"
		fi
		sleep 1
		waited=$((waited + 1))
	done
	echo "kafka.sh: Kafka $version up on 127.0.0.1:$port after ${waited}s (pid $(cat "$pidfile"), log $logfile)" >&2
	echo "127.0.0.1:$port"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) running && echo "running on 127.0.0.1:$port" || { echo "not running"; exit 1; } ;;
addr) echo "127.0.0.1:$port" ;;
topic)
	[ $# -eq 3 ] && [ "$3" -gt 0 ] 2>/dev/null || { echo "usage: $0 topic NAME PARTITIONS" >&2; exit 2; }
	tool org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$port" \
		--create --if-not-exists --topic "$2" --partitions "$3" --replication-factor 1
	echo "kafka.sh: topic $2 ($3 partitions) on 127.0.0.1:$port" >&2
	;;
topics) tool org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$port" --list ;;
produce)
	[ $# -ge 2 ] || { echo "usage: $0 produce TOPIC [ARGS…] < FILE" >&2; exit 2; }
	topic=$2
	shift 2
	tool kafka.tools.ConsoleProducer --bootstrap-server "127.0.0.1:$port" --topic "$topic" "$@"
	;;
consume)
	[ $# -ge 2 ] || { echo "usage: $0 consume TOPIC [ARGS…]" >&2; exit 2; }
	topic=$2
	shift 2
	tool org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server "127.0.0.1:$port" --topic "$topic" \
		--from-beginning --property print.headers=true --property print.key=true "$@"
	;;
tool)
	[ $# -ge 2 ] || { echo "usage: $0 tool CLASS [ARGS…]" >&2; exit 2; }
	shift
	tool "$@"
	;;
*) echo "usage: $0 start|stop|status|addr|topic NAME PARTITIONS|topics|produce TOPIC|consume TOPIC|tool CLASS" >&2; exit 2 ;;
esac

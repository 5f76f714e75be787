#!/usr/bin/env bash
# Start or stop a Schema Registry with a Confluent-compatible API on this
# machine, for tests and local runs: Apicurio Registry, in-memory storage,
# both of its listeners bound to 127.0.0.1.
#
#   scripts/registry.sh start    # fetch it if needed, start, wait until it answers; prints the base URL
#   scripts/registry.sh stop     # stop the registry started by "start"
#   scripts/registry.sh status   # exit 0 if it is running
#   scripts/registry.sh url      # print the Confluent-compatible base URL
#
# The base URL printed (http://127.0.0.1:PORT/apis/ccompat/v7) is what
# `mapper --schema-registry` and any Confluent-style client take.
#
# The distribution comes from Maven Central through Maven
# (io.apicurio:apicurio-registry-app:VERSION:tar.gz:all) and is cached, per
# version, in $MAPPER_REGISTRY_CACHE (default ~/.cache/mapper-registry).
# Apicurio Registry 3.3.x needs Java 21 or later: the script uses
# $REGISTRY_JAVA, else the first Java 21+ among $JAVA_HOME, `java` on PATH
# and /usr/lib/jvm/*. With only Java 17 it falls back to 3.0.9, the last
# release that runs on it. Its log lives in $MAPPER_REGISTRY_CACHE/run-<port>.
# Nothing is kept between starts: storage is in memory. The global
# compatibility level is set to BACKWARD, Confluent Schema Registry's default.
#
# Environment:
#   REGISTRY_VERSION        Apicurio Registry release (default 3.3.3, or 3.0.9 with Java 17 only)
#   REGISTRY_PORT           HTTP port on 127.0.0.1 (default 8081); the management listener uses port+1
#   REGISTRY_JAVA           the java binary to run it with
#   MAPPER_REGISTRY_CACHE   cache directory (default ~/.cache/mapper-registry)
#   REGISTRY_HEAP_OPTS      JVM heap flags (default -Xms128m -Xmx512m)
#   REGISTRY_START_TIMEOUT  seconds to wait for it (default 120)
#
# Then: MAPPER_TEST_SCHEMA_REGISTRY=$(scripts/registry.sh url) go test ./...
set -euo pipefail

port=${REGISTRY_PORT:-8081}
mport=$((port + 1))
cache=${MAPPER_REGISTRY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mapper-registry}
run=$cache/run-$port
pidfile=$run/registry.pid
logfile=$run/registry.log
timeout=${REGISTRY_START_TIMEOUT:-120}
url="http://127.0.0.1:$port/apis/ccompat/v7"

die() { echo "registry.sh: $*" >&2; exit 1; }

name=registry.sh what=registry
# shellcheck source=scripts/service.sh
. "$(dirname "$0")/service.sh"

# java_major prints the major version of the java binary $1 (empty if none).
java_major() {
	[ -x "$1" ] || return 0
	"$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1
}

# pick_java sets java and jmajor: $REGISTRY_JAVA, else the first Java 21+
# found, else any Java 17+.
pick_java() {
	local c v candidates=()
	if [ -n "${REGISTRY_JAVA:-}" ]; then
		java=$REGISTRY_JAVA
		jmajor=$(java_major "$java")
		[ -n "$jmajor" ] || die "REGISTRY_JAVA=$REGISTRY_JAVA is not a java binary"
		return 0
	fi
	[ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME/bin/java")
	command -v java >/dev/null && candidates+=("$(command -v java)")
	for c in /usr/lib/jvm/*/bin/java; do candidates+=("$c"); done
	java="" jmajor=""
	for c in "${candidates[@]}"; do
		v=$(java_major "$c")
		[ -n "$v" ] || continue
		if [ "$v" -ge 21 ]; then java=$c jmajor=$v; return 0; fi
		if [ "$v" -ge 17 ] && [ -z "$java" ]; then java=$c jmajor=$v; fi
	done
	[ -n "$java" ] || die "no Java 17 or later found (set REGISTRY_JAVA)"
}

# fetch unpacks the distribution of $version into $dist.
fetch() {
	[ -f "$dist/.complete" ] && return 0
	command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch Apicurio Registry $version"
	echo "registry.sh: fetching Apicurio Registry $version with Maven into $dist" >&2
	local dl=$cache/download-$version
	rm -rf "$dist" "$dl"
	mkdir -p "$dist" "$dl"
	mvn -B -q -Dstyle.color=never dependency:copy \
		-Dartifact="io.apicurio:apicurio-registry-app:$version:tar.gz:all" -DoutputDirectory="$dl" >&2 ||
		die "Maven could not fetch io.apicurio:apicurio-registry-app:$version:tar.gz:all"
	tar -xzf "$dl"/apicurio-registry-app-"$version"-all.tar.gz -C "$dist" ||
		die "could not unpack the Apicurio Registry $version distribution"
	rm -rf "$dl"
	launcher >/dev/null || die "no quarkus-run.jar or *-runner.jar in the Apicurio Registry $version distribution"
	touch "$dist/.complete"
}

# launcher prints the jar that starts the distribution.
launcher() {
	if [ -f "$dist/quarkus-run.jar" ]; then echo "$dist/quarkus-run.jar"; return 0; fi
	local j
	for j in "$dist"/*-runner.jar "$dist"/*/*-runner.jar "$dist"/*/quarkus-run.jar; do
		[ -f "$j" ] && { echo "$j"; return 0; }
	done
	return 1
}

ready() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url/subjects" 2>/dev/null)" = 200 ]
}

start() {
	if running; then
		echo "registry.sh: already running on 127.0.0.1:$port (pid $(cat "$pidfile"))" >&2
		echo "$url"
		return 0
	fi
	command -v curl >/dev/null || die "curl is needed to wait for the registry"
	pick_java
	if [ -n "${REGISTRY_VERSION:-}" ]; then
		version=$REGISTRY_VERSION
	elif [ "$jmajor" -ge 21 ]; then
		version=3.3.3
	else
		version=3.0.9
		echo "registry.sh: only Java $jmajor found ($java); using Apicurio Registry $version (3.3.x needs Java 21)" >&2
	fi
	dist=$cache/apicurio-registry-$version
	fetch
	local jar
	jar=$(launcher)
	for p in "$port" "$mport"; do
		if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			die "port $p is already in use (set REGISTRY_PORT; the management listener takes port+1)"
		fi
	done
	rm -rf "$run"
	mkdir -p "$run"
	# shellcheck disable=SC2086
	(cd "$run" && exec nohup "$java" ${REGISTRY_HEAP_OPTS:--Xms128m -Xmx512m} -Djava.awt.headless=true \
		-Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$port" \
		-Dquarkus.management.host=127.0.0.1 -Dquarkus.management.port="$mport" \
		-jar "$jar" >"$logfile" 2>&1 </dev/null) &
	echo $! >"$pidfile"
	local waited=0
	until ready; do
		if ! running; then
			tail -n 40 "$logfile" >&2 || true
			die "Apicurio Registry $version exited during start-up (log above, full log in $logfile)"
		fi
		if [ "$waited" -ge "$timeout" ]; then
			tail -n 40 "$logfile" >&2 || true
			stop >/dev/null 2>&1 || true
			die "Apicurio Registry $version did not answer on $url within ${timeout}s (log above)"
		fi
		sleep 1
		waited=$((waited + 1))
	done
	# Apicurio has no default level: set Confluent's (BACKWARD) globally, so
	# that compatibility checks answer as a Confluent registry's would.
	[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X PUT \
		-H 'Content-Type: application/vnd.schemaregistry.v1+json' \
		-d '{"compatibility":"BACKWARD"}' "$url/config")" = 200 ] ||
		die "could not set the global compatibility level on $url"
	echo "registry.sh: Apicurio Registry $version (Java $jmajor) up on $url after ${waited}s (pid $(cat "$pidfile"), log $logfile)" >&2
	echo "$url"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) running && echo "running on $url" || { echo "not running"; exit 1; } ;;
url) echo "$url" ;;
*) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac

# shellcheck shell=bash
# What scripts/kafka.sh and scripts/registry.sh share about the one
# background service each runs: whether it runs, and stopping it. Source it
# after setting name (the script's name in messages), what (the service, in
# "the broker did not stop") and pidfile.

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

stop() {
	if ! running; then
		rm -f "$pidfile"
		echo "$name: not running" >&2
		return 0
	fi
	local pid
	pid=$(cat "$pidfile")
	kill "$pid"
	for _ in $(seq 1 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "$name: $what did not stop within 30s; killing it" >&2
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$pidfile"
	echo "$name: stopped" >&2
}

#!/usr/bin/env bash
# Measure the engine on the orders workload, alone and through a real Kafka,
# and print one table.
#
#   scripts/bench.sh [WORKLOAD.jsonl]
#
# The workload is JSON lines of partner orders (the orders source): the path
# is the first argument, else $MAPPER_BENCH_WORKLOAD. When the file does not
# exist and $MAPPER_BENCH_GEN names the orders generator (gen_orders.py, the
# script that writes N order lines, ~70% clean, and a truth file beside
# them), it is made with
#
#   python3 "$MAPPER_BENCH_GEN" 200000 WORKLOAD.jsonl 42
#
# Two measurements, each $BENCH_RUNS times (default 3), the median printed
# (with Kafka, the runs alternate: a batch run, then a Kafka run):
#
#   batch   mapper map --source orders --lines --summary < WORKLOAD
#           (the whole process, from /usr/bin/time)
#   kafka   the workload produced to partner.orders.raw (4 partitions) on a
#           single real Kafka broker (scripts/kafka.sh on $KAFKA_PORT,
#           started and stopped here unless it already runs), then
#           mapper run --no-samples --metrics=false, from start (group join
#           included) until /status?lag=false (the counts, without lag
#           requests to the broker) shows every record committed. Its CPU
#           is the worker process's own (utime+stime from /proc), not the
#           broker's, which shares the machine. The workload is produced
#           with Kafka's console producer in record batches of up to
#           $BENCH_BATCH_BYTES (default 16384, Kafka's default batch.size);
#           1000 writes one record a batch, the worst case for the fetch.
#           $BENCH_COPIES (default 1) produces the workload that many
#           times, and the batch path maps it that many times too: each
#           side's start (the worker's with its group join) then weighs
#           less in its figure per record. The runs write to
#           bench.orders.out and bench.orders.dlq, deleted at the end.
#
# Columns: records/s (wall clock), CPU-seconds per 100,000 records of the
# mapper process, the ratio of the worker's CPU per record to the batch
# path's, and peak RSS (VmHWM / max resident set size). Under the table,
# the ratio of each Kafka run to the batch run just before it, and their
# range.
#
# Environment: KAFKA_PORT (default 9092), BENCH_RUNS (default 3),
# BENCH_SKIP_KAFKA=1 (batch only), BENCH_STATUS_PORT (default KAFKA_PORT+5),
# BENCH_BATCH_BYTES (default 16384), BENCH_COPIES (default 1),
# BENCH_MAPPER (a mapper binary to
# measure instead of building this tree's, e.g. an earlier build to run
# before and after back to back).
set -euo pipefail

cd "$(dirname "$0")/.."
workload=${1:-${MAPPER_BENCH_WORKLOAD:-}}
[ -n "$workload" ] || { sed -n '2,48p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
if [ ! -f "$workload" ]; then
	if [ -n "${MAPPER_BENCH_GEN:-}" ] && [ -f "$MAPPER_BENCH_GEN" ]; then
		echo "bench.sh: generating 200,000 orders into $workload" >&2
		python3 "$MAPPER_BENCH_GEN" 200000 "$workload" 42 >&2
	else
		echo "bench.sh: $workload does not exist; make it with: python3 gen_orders.py 200000 $workload 42" >&2
		echo "          (or set MAPPER_BENCH_GEN to gen_orders.py and run again)" >&2
		exit 2
	fi
fi
runs=${BENCH_RUNS:-3}
port=${KAFKA_PORT:-9092}
status_port=${BENCH_STATUS_PORT:-$((port + 5))}
batch_bytes=${BENCH_BATCH_BYTES:-16384}
copies=${BENCH_COPIES:-1}
records=$(wc -l <"$workload")
tmp=$(mktemp -d)
started_kafka=
outputs=
# drop_outputs deletes the output and dead-letter topics the runs wrote
# (each run writes the workload again): they are the bench's alone.
drop_outputs() {
	for t in bench.orders.out bench.orders.dlq; do
		KAFKA_PORT=$port scripts/kafka.sh tool org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$port" \
			--delete --if-exists --topic "$t" >/dev/null 2>&1 || true
	done
}
cleanup() {
	if [ -n "$started_kafka" ]; then
		KAFKA_PORT=$port scripts/kafka.sh stop >/dev/null 2>&1 || true
	elif [ -n "$outputs" ]; then
		drop_outputs
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

if [ -n "${BENCH_MAPPER:-}" ]; then
	cp "$BENCH_MAPPER" "$tmp/mapper"
else
	go build -o "$tmp/mapper" ./cmd/mapper
fi
tick=$(getconf CLK_TCK)

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# The batch path maps as many records as the worker: the workload $copies
# times, from one file (so that both sides amortize their start alike).
batch_file=$workload
if [ "$copies" -gt 1 ]; then
	batch_file=$tmp/workload.jsonl
	for _ in $(seq "$copies"); do cat "$workload"; done >"$batch_file"
fi

# batch_run appends one batch run's wall seconds, CPU seconds and peak RSS
# in KiB to $tmp/batch.
batch_run() {
	/usr/bin/time -f '%e %U %S %M' -o "$tmp/time" \
		"$tmp/mapper" map --rules rules --schemas schemas --source orders --lines --summary <"$batch_file" >"$tmp/summary"
	read -r wall user sys rss <"$tmp/time"
	echo "$wall $(echo "$user + $sys" | bc -l) $rss" >>"$tmp/batch"
}

if [ -n "${BENCH_SKIP_KAFKA:-}" ]; then
	for _ in $(seq "$runs"); do batch_run; done
else
	# kafka: the same figures for mapper run, each run right after a batch
	# run, so that the two of a pair meet the same load on the machine.
	if ! KAFKA_PORT=$port scripts/kafka.sh status >/dev/null 2>&1; then
		KAFKA_PORT=$port scripts/kafka.sh start >&2
		started_kafka=1
	fi
	brokers=127.0.0.1:$port
	topic=partner.orders.raw
	KAFKA_PORT=$port scripts/kafka.sh topic "$topic" 4 >&2
	outputs=1
	KAFKA_PORT=$port scripts/kafka.sh topic bench.orders.out 4 >&2
	KAFKA_PORT=$port scripts/kafka.sh topic bench.orders.dlq 4 >&2
	# Produce the workload once (appended to whatever the topic holds) and
	# count from the topic's end offsets what each run must commit.
	for _ in $(seq "$copies"); do
		KAFKA_PORT=$port scripts/kafka.sh produce "$topic" --batch-size "$batch_bytes" <"$workload" >&2
	done
	total=$(KAFKA_PORT=$port scripts/kafka.sh tool org.apache.kafka.tools.GetOffsetShell \
		--bootstrap-server "$brokers" --topic "$topic" --time -1 2>/dev/null | awk -F: '{s += $3} END {print s}')
	# The worker is polled 20 times a second for what it has committed,
	# from this shell alone (bash's /dev/tcp and read builtins): no process
	# is started per poll on the cores the worker runs on.
	mkfifo "$tmp/never"
	exec 4<>"$tmp/never"
	nap() { read -r -t 0.05 -u 4 _ || true; }
	poll_committed() {
		local resp=
		{ exec 3<>"/dev/tcp/127.0.0.1/$status_port"; } 2>/dev/null || return 0
		printf 'GET /status?lag=false HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
		IFS= read -r -d '' -u 3 resp || true
		exec 3<&-
		if [[ $resp =~ \"committed_records\":\ *([0-9]+) ]]; then committed=${BASH_REMATCH[1]}; fi
	}
	for i in $(seq "$runs"); do
		batch_run
		"$tmp/mapper" run --brokers "$brokers" --rules rules --schemas schemas --topics "$topic" \
			--output-topic bench.orders.out --dlq-topic bench.orders.dlq --group "bench-$$-$i" \
			--no-samples --metrics=false --status-addr "127.0.0.1:$status_port" --log-level warn \
			>"$tmp/run.log" 2>&1 &
		pid=$!
		t0=$EPOCHREALTIME
		committed=0
		while [ "$committed" -lt "$total" ]; do
			kill -0 "$pid" 2>/dev/null || { cat "$tmp/run.log" >&2; echo "bench.sh: mapper run exited" >&2; exit 1; }
			nap
			poll_committed
		done
		t1=$EPOCHREALTIME
		read -r -a stat <"/proc/$pid/stat"
		# utime and stime are fields 14 and 15 (the command name has no spaces here).
		cpu=$(echo "(${stat[13]} + ${stat[14]}) / $tick" | bc -l)
		rss=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
		kill -TERM "$pid"
		wait "$pid" || true
		echo "$(echo "$t1 - $t0" | bc -l) $cpu $rss" >>"$tmp/kafka"
	done
fi

row() { # name file records
	local wall cpu rss
	wall=$(awk '{print $1}' "$2" | median)
	cpu=$(awk '{print $2}' "$2" | median)
	rss=$(awk '{print $3}' "$2" | median)
	printf '%s %s %s %s\n' "$wall" "$cpu" "$rss" "$3"
}

batch_cpu100k=
printf '| %-48s | %12s | %22s | %18s | %13s |\n' "run (median of $runs)" "records/s" "CPU-s per 100,000 rec" "CPU vs batch path" "peak RSS MiB"
printf '| %-48s | %12s | %22s | %18s | %13s |\n' "---" "---:" "---:" "---:" "---:"
read -r wall cpu rss n < <(row batch "$tmp/batch" "$((records * copies))")
batch_cpu100k=$(echo "$cpu * 100000 / $n" | bc -l)
printf '| %-48s | %12.0f | %22.3f | %18s | %13.1f |\n' "map --lines --summary ($n orders)" \
	"$(echo "$n / $wall" | bc -l)" "$batch_cpu100k" "1.00" "$(echo "$rss / 1024" | bc -l)"
if [ -f "$tmp/kafka" ]; then
	read -r wall cpu rss n < <(row kafka "$tmp/kafka" "$total")
	k100k=$(echo "$cpu * 100000 / $n" | bc -l)
	printf '| %-48s | %12.0f | %22.3f | %18.2f | %13.1f |\n' "run through Kafka ($n rec, $batch_bytes B batches)" \
		"$(echo "$n / $wall" | bc -l)" "$k100k" "$(echo "$k100k / $batch_cpu100k" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
fi
printf 'orders per CPU-second, batch path: %.0f\n' "$(echo "100000 / $batch_cpu100k" | bc -l)"
if [ -f "$tmp/kafka" ]; then
	# Each Kafka run against the batch run just before it: the spread the
	# medians above hide (the broker shares the cores, so it is wide).
	# Fields: batch wall, CPU, RSS, then the Kafka run's.
	paste -d ' ' "$tmp/batch" "$tmp/kafka" | awk -v n="$total" -v b="$((records * copies))" '
		{ r = ($5 / n) / ($2 / b); s = s sprintf(" %.2f", r)
		  if (NR == 1 || r < lo) lo = r; if (NR == 1 || r > hi) hi = r }
		END { printf "worker vs batch path, run by run:%s (%.2f-%.2f)\n", s, lo, hi }'
fi

#!/usr/bin/env bash
# Run README.md's quick start as written, in a fresh clone of the committed
# tree (HEAD), the way a newcomer would, and check what it prints:
#
#   scripts/readme-check.sh            # the quick start and the learning loop
#   scripts/readme-check.sh --kafka    # then docs/operating.md's real-Kafka walk-through (Java, Maven; KAFKA_PORT)
#
# The quick start is the first indented block under "## Quick start". Every
# line of it runs in one bash with errexit, except `go test ./...` (CI runs
# the tests in a step of their own). Then `mapper version` must name the
# clone's commit, and `mapper demo` must have mapped records and stopped
# cleanly. Then, on the samples the demo kept, README's "## The loop in
# brief" and docs/learning-loop.md's three commands from a failure to a
# verified candidate: the candidate's tests pass, its replay makes nothing
# newly failing, its shadow run stops cleanly, and git sees no new file. GOFLAGS is -buildvcs=auto, Go's default, as on a newcomer's
# machine (a go env file with -buildvcs=false would leave the commit out).
set -euo pipefail
kafka=false
[ "${1:-}" = --kafka ] && kafka=true
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q "$repo" "$work/mapper"
cd "$work/mapper"
commit=$(git rev-parse HEAD)

# block FILE HEADING prints the first indented block under the heading.
block() {
	awk -v h="$2" '
		index($0, h) == 1 { inside = 1; next }
		inside && /^#/ { exit }
		inside && /^    / { started = 1; sub(/^    /, ""); print; next }
		inside && started && /^[^ ]/ { exit }
	' "$1"
}
script=$(block README.md "## Quick start")
[ -n "$script" ] || { echo "readme-check: no quick-start block found under '## Quick start' in README.md" >&2; exit 1; }
echo "readme-check: running README's quick start in a fresh clone of $commit:"
echo "$script" | sed 's/^/    /'

run=$(echo "$script" | grep -v '^go test ./\.\.\.\( \|$\)')
out=$work/out.log
GOFLAGS=-buildvcs=auto bash -euo pipefail -c "$run" >"$out" 2>&1 || {
	tail -n 40 "$out" >&2
	echo "readme-check: a quick-start command failed (output above)" >&2
	exit 1
}
fail() { tail -n 40 "$out" >&2; echo "readme-check: $*" >&2; exit 1; }
grep -q "^commit $commit" "$out" || fail "mapper version did not print the commit $commit"
grep -q "^ok  orders" "$out" || fail "mapper check did not load the orders rules"
grep -q "^stopped cleanly" "$out" || fail "mapper demo did not stop cleanly"
grep -Eq "processed [1-9][0-9]*" "$out" || fail "mapper demo mapped no record"
[ -x bin/mapper ] || fail "the build command did not write bin/mapper"
[ -z "$(git status --porcelain --ignored=no)" ] || fail "the quick start left files git does not ignore: $(git status --porcelain)"
echo "readme-check: ok (bin/mapper built, version names $commit, check and demo ran)"

# runblock NAME SCRIPT LOG runs a documented block with bin/ on PATH.
runblock() {
	echo "readme-check: running $1:"
	echo "$2" | sed 's/^/    /'
	PATH="$PWD/bin:$PATH" timeout 600 bash -euo pipefail -c "$2" >"$3" 2>&1 || {
		tail -n 60 "$3" >&2
		echo "readme-check: a command of $1 failed (output above)" >&2
		exit 1
	}
}
out=$work/loop.log
script=$(block README.md "## The loop in brief")
[ -n "$script" ] || fail "no block under '## The loop in brief' in README.md"
runblock "README's loop in brief" "$script" "$out"
grep -q "^orders unknown_enum:status: .* values counted" "$out" || fail "mapper samples values showed no failing values"
grep -Eq "^wrote proposed/rules/orders.yaml \(rules v1 → v2\)" "$out" || fail "mapper suggest wrote no candidate for orders"
grep -Eq "^[0-9]+ file\(s\), [0-9]+ case\(s\), 0 failed" "$out" || fail "the candidate's rule tests did not all pass"
grep -q "none newly failing" "$out" || fail "the replay of the samples through the candidate made records newly failing"
grep -q "^candidate rules (shadow)" "$out" || fail "the demo did not shadow the candidate"
grep -q "^stopped cleanly" "$out" || fail "the demo with the candidate did not stop cleanly"
[ -z "$(git status --porcelain --ignored=no)" ] || fail "the loop left files git does not ignore: $(git status --porcelain)"

out=$work/suggest.log
heading="#### From a new failure to a verified candidate, in three commands"
script=$(block docs/learning-loop.md "$heading")
[ -n "$script" ] || fail "no block under '$heading' in docs/learning-loop.md"
rm -rf proposed # the loop's candidate: --out must be new or empty
runblock "the learning loop's three commands" "$script" "$out"
grep -q "none newly failing" "$out" || fail "suggest's replay made records newly failing"
grep -Eq "^[0-9]+ file\(s\), [0-9]+ case\(s\), 0 failed" "$out" || fail "the suggested rule tests did not all pass"
grep -q "^stopped cleanly" "$out" || fail "the demo with the suggested candidate did not stop cleanly"
[ -z "$(git status --porcelain --ignored=no)" ] || fail "the three commands left files git does not ignore: $(git status --porcelain)"
echo "readme-check: ok (the loop in brief and the three commands: candidate written, its tests pass, nothing newly failing, shadowed cleanly)"

$kafka || exit 0
script=$(block docs/operating.md "### Against a real Kafka")
[ -n "$script" ] || { echo "readme-check: no block under '### Against a real Kafka' in docs/operating.md" >&2; exit 1; }
echo "readme-check: running the manual's real-Kafka walk-through (KAFKA_PORT=${KAFKA_PORT:-9092}):"
echo "$script" | sed 's/^/    /'
# The walk-through runs in a process group of its own, so that a worker it
# left running in the background (when a later command failed) is stopped
# with it.
group=""
trap '[ -z "$group" ] || kill -- "-$group" 2>/dev/null || true; scripts/kafka.sh stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
out=$work/kafka.log
PATH="$PWD/bin:$PATH" setsid timeout 600 bash -euo pipefail -c "$script" >"$out" 2>&1 &
group=$!
wait "$group" || {
	tail -n 60 "$out" >&2
	echo "readme-check: a real-Kafka walk-through command failed (output above)" >&2
	exit 1
}
grep -q "rejected  orders v1  from partner.orders.raw/" "$out" || fail "mapper tap did not show a decoded dead letter"
grep -q "^Processed a total of 1 messages" "$out" || fail "the console consumer read no dead letter"
grep -q '"state": "running"' "$out" || fail "the status endpoint did not answer"
grep -q '^ready$' "$out" || fail "/readyz did not answer ready"
grep -q 'msg="stopped cleanly"' "$out" || fail "mapper run did not stop cleanly"
if grep -q "Ana.Silva" "$out" && grep "Ana.Silva" "$out" | grep -qv "^mapper.source"; then
	fail "an unmasked customer value reached mapper's output"
fi
echo "readme-check: ok (real-Kafka walk-through: topics, run, produce, tap, consume, status, stop)"

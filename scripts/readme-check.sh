#!/usr/bin/env bash
# Run README.md's quick start as written, in a fresh clone of the committed
# tree (HEAD), the way a newcomer would, and check what it prints:
#
#   scripts/readme-check.sh
#
# The quick start is the first indented block under "## Quick start". Every
# line of it runs in one bash with errexit, except `go test ./...` (CI runs
# the tests in a step of their own). Then `mapper version` must name the
# clone's commit, and `mapper demo` must have mapped records and stopped
# cleanly. GOFLAGS is -buildvcs=auto, Go's default, as on a newcomer's
# machine (a go env file with -buildvcs=false would leave the commit out).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q "$repo" "$work/mapper"
cd "$work/mapper"
commit=$(git rev-parse HEAD)

script=$(awk '
	/^## Quick start/ { inside = 1; next }
	inside && /^## / { exit }
	inside && /^    / { started = 1; sub(/^    /, ""); print; next }
	inside && started && /^[^ ]/ { exit }
' README.md)
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

#!/usr/bin/env bash
# Builds the release binaries of the checked-out commit into dist/:
# static (CGO_ENABLED=0) binaries of mapper for linux and darwin, amd64 and
# arm64, each stamped by go build with the module version (the git tag, or
# a pseudo-version) and the commit, and dist/SHA256SUMS over them.
#
#   scripts/release.sh
#   PLATFORMS="linux/arm64 darwin/arm64" DIST=/tmp/out scripts/release.sh
#
# PLATFORMS picks some of the four; DIST puts them in another directory,
# which must be empty or absent (dist/ itself is emptied first). It builds
# the committed HEAD from a fresh clone (uncommitted changes are not
# released; go build stamps the commit from a clone, not from a git
# worktree), and checks every binary: `go version -m` must show that
# commit, an unmodified tree and CGO_ENABLED=0, and the binary of this
# machine's platform must name the commit in `mapper version`. dist/ is
# ignored by git.
set -euo pipefail
dist=${DIST:+$(realpath -m "$DIST")}
cd "$(dirname "$0")/.."
if [ -z "$dist" ]; then
	dist=$PWD/dist
	rm -rf "$dist"
elif [ -n "$(ls -A "$dist" 2>/dev/null)" ]; then
	echo "release.sh: DIST=$DIST is not empty" >&2
	exit 2
fi

if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
	echo "release.sh: warning: uncommitted changes are not part of the release" >&2
fi
version=$(git describe --tags --always)
commit=$(git rev-parse HEAD)
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
git clone -q --no-checkout "$PWD" "$src"
git -C "$src" checkout -q "$commit"
platforms=${PLATFORMS:-"linux/amd64 linux/arm64 darwin/amd64 darwin/arm64"}

mkdir -p "$dist"
cd "$src"
for p in $platforms; do
	os=${p%/*} arch=${p#*/}
	out="$dist/mapper_${version}_${os}_${arch}"
	# -buildvcs=true stamps the commit even where GOFLAGS turns it off;
	# -trimpath: no build machine paths in the binary.
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -buildvcs=true -trimpath -ldflags="-s -w" -o "$out" ./cmd/mapper
	stamp=$(go version -m "$out")
	for want in "vcs.revision=$commit" "vcs.modified=false" "CGO_ENABLED=0" "GOOS=$os" "GOARCH=$arch"; do
		if ! grep -q "[[:space:]]$want\$" <<<"$stamp"; then
			echo "release.sh: ${out##*/} lacks $want in go version -m:" >&2
			echo "$stamp" >&2
			exit 1
		fi
	done
	echo "built ${out##*/} ($(wc -c <"$out") bytes)" >&2
done
(cd "$dist" && sha256sum mapper_* >SHA256SUMS)

host="$dist/mapper_${version}_$(go env GOOS)_$(go env GOARCH)"
if [ -x "$host" ]; then
	stamped=$("$host" version)
	if ! grep -q "commit $commit" <<<"$stamped"; then
		echo "release.sh: $host is not stamped with commit $commit:" >&2
		echo "$stamped" >&2
		exit 1
	fi
	echo "$stamped" >&2
fi
cat "$dist/SHA256SUMS"

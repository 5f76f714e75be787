#!/usr/bin/env bash
# Builds mapper's OCI image without a container engine, into dist/image (an
# OCI image layout), and prints its digest. The image holds the static
# binary (CGO_ENABLED=0) at /usr/local/bin/mapper (the entrypoint; the
# default command is "run"), runs as the non-root user mapper (65532),
# carries this machine's CA bundle at /etc/ssl/certs/ca-certificates.crt,
# and ships rules/ (without the rule tests) and schemas/ at /etc/mapper/rules
# and /etc/mapper/schemas (its working directory is /etc/mapper: mount your
# rules over them).
# Every time in the image is the commit's time: two builds of one commit
# give the same digest.
#
#   scripts/image.sh                       # linux/amd64
#   GOARCH=arm64 scripts/image.sh
#   crane push dist/image registry.example.com/mapper:TAG   # or skopeo copy oci:dist/image …
set -euo pipefail
cd "$(dirname "$0")/.."

arch=${GOARCH:-amd64}
out=${OUT:-dist/image}
ca=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
commit=$(git rev-parse HEAD)
epoch=$(git log -1 --format=%ct)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The committed HEAD, built from a fresh clone: go build stamps the commit
# there (not in a git worktree), and uncommitted changes stay out.
git clone -q --no-checkout "$PWD" "$work/src"
git -C "$work/src" checkout -q "$commit"
(cd "$work/src" && CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -buildvcs=true -trimpath -ldflags="-s -w" -o "$work/mapper" ./cmd/mapper)
go run ./cmd/mapper-image --binary "$work/mapper" --ca-bundle "$ca" --rules "$work/src/rules" --schemas "$work/src/schemas" \
	--platform "linux/$arch" --source-date-epoch "$epoch" --out "$out" \
	--label "org.opencontainers.image.revision=$commit" \
	--label "org.opencontainers.image.source=https://github.com/mapperhq/mapper" \
	--label "org.opencontainers.image.licenses=Apache-2.0"

#!/usr/bin/env bash
# Build regen's binaries into bin/ with the version stamped in: static
# (CGO_ENABLED=0), like the Dockerfile's build stage, so that the OCI images
# of `make image-oci` carry the very bytes a local run uses.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
ldflags="-X github.com/regen-dev/regen/internal/version.gitCommit=${commit}"
export CGO_ENABLED=0
mkdir -p bin
# bin/regen is the fast build (-tags regenfast): it runs `regen compare`
# itself and executes bin/regen-full, the full build, for every other
# command (cmd/regen/main.go says why).
go build -ldflags "$ldflags" -o bin/regen-full ./cmd/regen
go build -tags regenfast -ldflags "$ldflags" -o bin/regen ./cmd/regen
go build -ldflags "$ldflags" -o bin/regen-executor ./cmd/regen-executor
go build -ldflags "$ldflags" -o bin/regen-pause ./cmd/regen-pause

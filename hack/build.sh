#!/usr/bin/env bash
# Build the two binaries into bin/ with the version stamped in.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
ldflags="-X github.com/regen-dev/regen/internal/version.gitCommit=${commit}"
mkdir -p bin
go build -ldflags "$ldflags" -o bin/regen ./cmd/regen
go build -ldflags "$ldflags" -o bin/regen-executor ./cmd/regen-executor

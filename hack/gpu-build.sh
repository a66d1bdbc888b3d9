#!/usr/bin/env bash
# Build, here (no GPU needed), everything hack/gpu-check.sh runs on a GPU machine that has no Go:
#
#   bin/gpu/cuda.test              the cuda backend's tests and benchmarks (-tags cuda): the
#                                  conformance suite (backendtest), kernels vs their emulation,
#                                  determinism, fingerprint, BenchmarkKernel/BenchmarkAttention
#   bin/gpu/regen-executor-cuda    regen-executor built with -tags cuda (--backend cuda)
#   bin/gpu/regen                  the regen CLI (runner and comparator)
#
# Carry bin/gpu to the device (the device tool's carry: ["bin/gpu"]); the fixtures, suite and
# goldens travel with the tracked tree. Needs cuda.h and libcuda.so (make cuda installs them).
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
out=bin/gpu
mkdir -p "$out"

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
ldflags="-X github.com/regen-dev/regen/internal/version.gitCommit=${commit}"
echo "== gpu-build: $out/cuda.test"
go test -c -tags cuda -o "$out/cuda.test" ./executor/backend/cuda
echo "== gpu-build: $out/regen-executor-cuda"
go build -tags cuda -ldflags "$ldflags" -o "$out/regen-executor-cuda" ./cmd/regen-executor
echo "== gpu-build: $out/regen"
go build -ldflags "$ldflags" -o "$out/regen" ./cmd/regen
du -sh "$out"/*

#!/usr/bin/env bash
# The arm64 build's bits, proven on an amd64 machine under qemu-user: the
# CPU backend's tests (the NEON kernels of simd_arm64.s held to the pure-Go
# bits on random and adversarial inputs, TestGoldenBits pinning both paths
# to testdata/bits.golden) and the samplers' pinned bits
# (executor/sampling TestSamplerGoldenBits) run as arm64 binaries through
# go test -exec, and the PNG decoder's tests (harness/compare/internal/
# pngdecode); then an arm64 regen replays the suite's smoke cases on its
# in-process executor and judges them against golden/cpu (made on amd64):
# with --strict every one must be "exact". The same golden files as on
# amd64: a kernel, a fused multiply-add or a reduction order that differs
# on arm64 fails here.
#
# Needs qemu-aarch64-static (Debian: apt-get install -y qemu-user-static);
# exits 2 without it. About 80 s on 2 busy cores.
#
# Usage: hack/test-arm64.sh   (make test-arm64)
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
qemu=$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)
if [ -z "$qemu" ]; then
  echo "test-arm64: no qemu-aarch64-static (apt-get install -y qemu-user-static)" >&2
  exit 2
fi
export GOARCH=arm64 CGO_ENABLED=0
echo "== go vet (arm64, and arm64 -tags purego)"
go vet ./executor/backend/cpu/...
go vet -tags purego ./executor/backend/cpu/
echo "== go test -exec $qemu (arm64: NEON kernels, pinned bits)"
# internal/pmath, the portable Exp, Log, Sin, ... of the numeric paths: its
# results pinned to testdata/bits.golden and within their bounds of math's
# (-short: a tenth of the random inputs, 3 s instead of 32 under qemu).
go test -count=1 -short -exec "$qemu" ./internal/pmath/
# TestCancelBetweenBlocks times a cancellation against a wall-clock limit
# that emulation (10-50x slower) cannot meet; TestCancelChecksEveryBlock
# checks the same logic deterministically and runs.
go test -count=1 -exec "$qemu" -skip '^TestCancelBetweenBlocks$' ./executor/backend/cpu/...
go test -count=1 -exec "$qemu" -tags purego -run '^TestGoldenBits$' ./executor/backend/cpu/
go test -count=1 -exec "$qemu" -run '^TestSamplerGoldenBits$' ./executor/sampling/
# The PNG decoder's pure-Go unfilter (amd64 has vector kernels; arm64 runs
# the path they are held to) against the specification and image/png.
go test -count=1 -exec "$qemu" ./harness/compare/internal/pngdecode/
echo "== regen run --label smoke --strict: an arm64 regen under $qemu against golden/cpu"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/regen" ./cmd/regen
"$qemu" "$tmp/regen" run --label smoke --strict -q --report "$tmp/report"

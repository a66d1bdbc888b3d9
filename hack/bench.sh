#!/usr/bin/env bash
# Benchmarks, each with its baseline in the same run:
# - the CPU attention kernel vs a plain GEMM of the same FLOP count (and the naive kernel)
# - the denoiser per mode, the 512x512 20-step euler workflow wall time (gmm, els)
# - regen compare on a 1024x1024 pair; harness overhead per case
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
out=${BENCH_OUT:-out/bench.txt}
mkdir -p "$(dirname "$out")"
go test -run '^$' -bench . -benchmem -benchtime "${BENCHTIME:-3x}" \
  ./executor/backend/cpu/ ./executor/model/... ./executor/... ./harness/compare/ ./runner/... 2>&1 | tee "$out"
echo "bench: results in $out"

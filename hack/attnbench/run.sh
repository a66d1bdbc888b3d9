#!/usr/bin/env bash
# Attention speed, side by side in one script:
#  1. regen's attention vs gonum's blas32.Gemm vs OpenBLAS (SkylakeX kernels:
#     OPENBLAS_CORETYPE is set for this benchmark's command only) on the
#     model's attention shapes and a square one, COUNT runs each, then
#     again on one core each (GOMAXPROCS=1, OPENBLAS_NUM_THREADS=1);
#  2. BenchmarkSIMDKernels: every vector kernel set this CPU runs vs the
#     pure-Go kernels;
#  3. the 512x512 20-step els workflow, the BASE commit's benchmark binary
#     and this tree's, back to back, WCOUNT times each (interleaved).
# Needs Debian's libopenblas-dev for (1) (else the OpenBLAS rows are left
# out). Results (raw and benchstat) go to OUT (default out/attnbench).
#
# Usage: hack/attnbench/run.sh [BASE]   (default: main)
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/../.."
base=${1:-main}
count=${COUNT:-5}
wcount=${WCOUNT:-3}
out=${OUT:-out/attnbench}
mkdir -p "$out"
benchstat() { go run golang.org/x/perf/cmd/benchstat@latest "$@"; }
uptime | tee "$out/load.txt"

tags=()
if [ -e /usr/include/x86_64-linux-gnu/cblas.h ] || [ -e /usr/include/cblas.h ]; then tags=(-tags openblas); fi
(cd hack/attnbench && OPENBLAS_CORETYPE=SkylakeX go test "${tags[@]}" -run '^$' -bench . -benchtime 5x -count "$count" .) |
  tee "$out/shapes.txt"
# The same on one core each (GOMAXPROCS=1, one OpenBLAS thread): on a shared
# machine OpenBLAS's spinning threads make its 2-core wall times erratic;
# single-threaded GFLOP/cpu-s compares the kernels themselves.
(cd hack/attnbench && GOMAXPROCS=1 OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=SkylakeX go test "${tags[@]}" -run '^$' -bench . -benchtime 5x -count "$count" .) |
  tee "$out/shapes-1core.txt"
go test -run '^$' -bench SIMDKernels -benchtime 5x -count "$count" ./executor/backend/cpu/ | tee "$out/kernels.txt"

# The workflow: the base commit's test binary and this tree's.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git archive "$base" | tar -x -C "$tmp"
(cd "$tmp" && go test -c -o "$tmp/old.test" ./executor/)
go test -c -o "$tmp/new.test" ./executor/
: >"$out/workflow-old.txt"
: >"$out/workflow-new.txt"
# /usr/bin/time adds each process's CPU seconds (user+sys), steadier than
# the wall time on a shared machine.
for _ in $(seq "$wcount"); do
  for v in old new; do
    (cd executor && /usr/bin/time -f "cpu-seconds %U %S" "$tmp/$v.test" -test.run '^$' \
      -test.bench 'Workflow512Euler/els' -test.benchtime 1x) 2>&1 | tee -a "$out/workflow-$v.txt"
  done
done
uptime | tee -a "$out/load.txt"
benchstat "$out/shapes.txt" | tee "$out/shapes.benchstat.txt" || true
benchstat "$out/shapes-1core.txt" | tee "$out/shapes-1core.benchstat.txt" || true
benchstat "$out/workflow-old.txt" "$out/workflow-new.txt" | tee "$out/workflow.benchstat.txt" || true

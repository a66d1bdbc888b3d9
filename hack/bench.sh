#!/usr/bin/env bash
# Benchmarks, each with its baseline in the same run:
# - the CPU attention kernel vs a plain GEMM of the same shapes and FLOP
#   count (gemmbench.NT), and the naive kernel
# - the denoiser's attention FLOP/s per mode vs the GEMM over the same call
#   shapes (BenchmarkDenoiserFLOPs), and its share of Predict's time
# - the 512x512 20-step euler workflow wall time, gmm and els (1 iteration:
#   each is a full prompt through the real server)
# - regen compare on a 1024x1024 pair in process (cpu-ms/op, allocs/op);
#   harness overhead per case
# - then hack/comparebench.sh: bin/regen compare against odiff, whole
#   process, side by side (skipped when odiff or hyperfine is missing)
# A summary table of the headline numbers closes the output.
#
# BENCHTIME (default 3x) is the iteration count for everything but the
# workflow; WORKFLOW_BENCHTIME (default 1x) for the workflow.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
out=${BENCH_OUT:-out/bench.txt}
mkdir -p "$(dirname "$out")"
{
  go test -run '^$' -bench . -skip 'Workflow512Euler' -benchmem -benchtime "${BENCHTIME:-3x}" \
    ./executor/... ./harness/compare/ ./runner/...
  go test -run '^$' -bench 'Workflow512Euler' -benchtime "${WORKFLOW_BENCHTIME:-1x}" ./executor/server/
} 2>&1 | tee "$out"

# summary: the value before a unit on a benchmark line; names lose the
# Benchmark prefix and the -GOMAXPROCS suffix.
awk '
function m(unit,   i) { for (i = 4; i <= NF; i++) if ($i == unit) return $(i - 1); return "-" }
function name(   n) { n = $1; sub(/^Benchmark/, "", n); sub(/-[0-9]+$/, "", n); return n }
/^BenchmarkAttention\// {
  n = name(); split(n, p, "/"); k = p[2]
  if (!(k in att)) { att[k] = 1; attn[++na] = k }
  attv[k, p[3]] = m("GFLOP/s")
}
/^BenchmarkDenoiserFLOPs\// {
  n = name(); split(n, p, "/"); k = p[2]
  if (!(k in den)) { den[k] = 1; denn[++nd] = k }
  if (p[3] == "predict") { dp[k] = m("GFLOP/s"); dpc[k] = m("GFLOP/cpu-s"); ds[k] = m("attn-share"); dm[k] = m("MFLOP/op") }
  else { dg[k] = m("GFLOP/s"); dgc[k] = m("GFLOP/cpu-s"); dx[k] = m("x-gemm") }
}
/^BenchmarkWorkflow512Euler\// {
  n = name(); split(n, p, "/"); wf[++nw] = sprintf("%-6s %12s %12s %12s", p[2], m("s/workflow"), m("s/KSampler"), m("s/VAEDecode"))
}
END {
  print ""
  print "== summary (GFLOP/s: wall clock, all cores) =="
  if (na) {
    print "attention kernel   fast        gemm       naive"
    for (i = 1; i <= na; i++) { k = attn[i]; printf "%-12s %10s %11s %11s\n", k, attv[k, "fast"], attv[k, "gemm"], attv[k, "naive"] }
    print ""
  }
  if (nd) {
    print "denoiser (σ=1)  MFLOP/op  predict GFLOP/s  gemm GFLOP/s  x-gemm  attn-share  predict GFLOP/cpu-s  gemm GFLOP/cpu-s"
    for (i = 1; i <= nd; i++) { k = denn[i]; printf "%-12s %11s %16s %13s %7s %11s %20s %17s\n", k, dm[k], dp[k], dg[k], dx[k], ds[k], dpc[k], dgc[k] }
    print ""
  }
  if (nw) {
    print "512x512 euler 20 steps  s/workflow  s/KSampler  s/VAEDecode"
    for (i = 1; i <= nw; i++) print wf[i]
  }
}' "$out" | tee -a "$out"
echo "bench: results in $out"

# regen compare against odiff, whole process (skips itself without odiff
# or hyperfine).
hack/comparebench.sh

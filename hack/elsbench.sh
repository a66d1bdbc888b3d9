#!/usr/bin/env bash
# The 512x512 els txt2img (executor/model BenchmarkTxt2Img512/els: 20 euler
# steps, cfg 7, VAE decode, checkpoint load included) of several commits,
# side by side: each commit's executor/model test binary is built from a
# clean export of that commit (with this tree's txt2img_bench_test.go
# dropped in, so every binary runs the same benchmark on its own commit's
# fixture models), then the binaries run interleaved ROUNDS times so that
# every round meets the same machine load. Prints every benchmark line and
# a table of medians: wall seconds and CPU seconds per run (user + system
# of the process; on a shared machine they vary far less than wall time)
# and each commit's speed-up over the first.
#
# Usage: hack/elsbench.sh [ROUNDS [REV ...]]
#   default: 3 rounds of df84f5d (the kernel before the AVX2 one, the
#   issue's "today"), main, and the working tree (WORK)
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
shift || true
revs=("$@")
if [ ${#revs[@]} -eq 0 ]; then
  revs=(df84f5d main WORK)
fi
root=$PWD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for rev in "${revs[@]}"; do
  if [ "$rev" = WORK ]; then
    go test -c -o "$tmp/$rev.test" ./executor/model
    continue
  fi
  mkdir -p "$tmp/src-$rev"
  git archive "$rev" | tar -x -C "$tmp/src-$rev"
  cp executor/model/txt2img_bench_test.go "$tmp/src-$rev/executor/model/"
  (cd "$tmp/src-$rev" && go test -c -o "$tmp/$rev.test" ./executor/model)
done
uptime
for r in $(seq "$rounds"); do
  for rev in "${revs[@]}"; do
    dir=$root/executor/model
    [ "$rev" = WORK ] || dir=$tmp/src-$rev/executor/model
    (cd "$dir" && "$tmp/$rev.test" -test.run '^$' -test.bench 'Txt2Img512/els' -test.benchtime 1x) |
      awk -v rev="$rev" '/^BenchmarkTxt2Img512/ { print rev, $0 }' | tee -a "$tmp/lines"
  done
done
uptime
# medians per rev: field 4 is ns/op, field 6 cpu-s/op
awk -v order="${revs[*]}" '
function median(a, n,   i, j, t) {
  for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
  return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
{ n[$1]++; wall[$1, n[$1]] = $4 / 1e9; cpu[$1, n[$1]] = $6 }
END {
  k = split(order, revs, " ")
  printf "%-10s %5s %10s %10s %12s %12s\n", "commit", "runs", "wall-s", "cpu-s", "x-wall", "x-cpu"
  for (i = 1; i <= k; i++) {
    r = revs[i]
    delete w; delete c
    for (j = 1; j <= n[r]; j++) { w[j] = wall[r, j]; c[j] = cpu[r, j] }
    mw[r] = median(w, n[r]); mc[r] = median(c, n[r])
    printf "%-10s %5d %10.2f %10.2f %11.2fx %11.2fx\n", r, n[r], mw[r], mc[r], mw[revs[1]] / mw[r], mc[revs[1]] / mc[r]
  }
}' "$tmp/lines"

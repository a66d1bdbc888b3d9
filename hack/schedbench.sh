#!/usr/bin/env bash
# Longest-first dispatch, measured: the fixture suite on regen-executor
# processes each pinned to one core (taskset, GOMAXPROCS=1), one replica
# vs two (plan order and longest first), ROUNDS times interleaved, so the
# ratios come from the same conditions. Needs at least 2 cores (taskset
# -c 0 and 1). Prints one line per run (hack/schedbench/main.go), then per
# round the speed-ups of two replicas over one, the speed-up longest-first
# dispatch would reach with the one-replica run's case times (schedbench
# -simulate: what the schedule gives, free of the load the two replicas
# meet on a shared machine) and the bound (one replica's wall over its
# longest case), and the medians. Beside the wall times it reads each
# executor's CPU seconds (/proc/PID/stat) around every run: "CPU" is one
# replica's CPU seconds over the busier replica's with two, longest first,
# which the machine's load moves far less than the wall times (the
# executors stay up across runs, so only the first run on each pays for
# loading the checkpoints and the per-size setup). It also reads the
# harness's own CPU seconds (it compares every output while the executors
# run): on a two-core machine the two-replica wall cannot go below the
# executors' and the harness's CPU seconds over 2, the "2-core floor".
#
# Usage: hack/schedbench.sh [ROUNDS]   (default 2)
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
go build -o bin/regen-executor ./cmd/regen-executor
go build -o bin/schedbench ./hack/schedbench
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
urls=()
for core in 0 1; do
  port=$(freeport)
  taskset -c "$core" env GOMAXPROCS=1 bin/regen-executor --listen "127.0.0.1:$port" --models fixtures/models \
    --input "$tmp/in$core" --output "$tmp/out$core" --temp "$tmp/temp$core" --log-format text >"$tmp/exec$core.log" 2>&1 &
  pids+=($!)
  urls+=("http://127.0.0.1:$port")
done
for u in "${urls[@]}"; do
  for _ in $(seq 100); do curl -fs "$u/system_stats" >/dev/null && break; sleep 0.1; done
done
# CPU seconds (user + system) each executor has used so far: on a shared
# machine the wall times swing with the load, the CPU seconds much less.
tck=$(getconf CLK_TCK)
cpus() { for p in "${pids[@]}"; do awk -v t="$tck" '{ printf "%.2f ", ($14 + $15) / t }' "/proc/$p/stat"; done; }
# bench LABEL ARGS...: one schedbench run, then the CPU seconds each
# executor spent on it.
bench() {
  local label=$1 before after
  shift
  before=$(cpus)
  /usr/bin/time -f '%U %S' -o "$tmp/harness" bin/schedbench "$@" | tee -a "$tmp/lines"
  after=$(cpus)
  awk -v l="$label" -v b="$before" -v a="$after" -v h="$(cat "$tmp/harness")" 'BEGIN { n = split(b, x, " "); split(a, y, " "); split(h, z, " "); printf "cpu %s", l; for (i = 1; i <= n; i++) printf " exec%d=%.2fs", i - 1, y[i] - x[i]; printf " harness=%.2fs\n", z[1] + z[2] }' | tee -a "$tmp/lines"
}
uptime
for r in $(seq "$rounds"); do
  echo "round $r"
  bench one -urls "${urls[0]}" -order plan -simulate 2
  bench plan -urls "${urls[0]},${urls[1]}" -order plan
  bench longest -urls "${urls[0]},${urls[1]}" -order longest
done
uptime
# Per round: one replica's wall over two replicas' (plan order, longest
# first), and the bound longest first can reach: one replica's wall over
# its longest case (the two-replica wall cannot go below that case).
awk '
function v(key,   i) { for (i = 1; i <= NF; i++) if (index($i, key "=") == 1) { s = substr($i, length(key) + 2); sub(/s$/, "", s); return s + 0 } }
/^replicas=1 / { w1 = v("wall"); l1 = v("longest_case") }
/simulated longest first on 2 replicas/ { sim = $(NF - 2); sub(/^\(/, "", sim); sub(/x$/, "", sim) }
/^replicas=2 order=plan / { wp = v("wall") }
/^replicas=2 order=longest / { wl = v("wall") }
/^cpu one / { c1 = v("exec0") }
/^cpu longest / {
  a = v("exec0"); b = v("exec1"); h = v("harness"); cl = a > b ? a : b; n++
  # Two cores hold both executors and the harness (which compares every
  # output): the two-replica wall cannot go below their CPU seconds over 2,
  # and one replica needs at least its own CPU seconds: c1 / fl is the
  # most two cores allow with the CPU costs of this run.
  fl = (a + b + h) / 2
  printf "round %d: 1 replica %.2fs, 2 replicas plan order %.2fs (%.2fx), longest first %.2fs (%.2fx); simulated %.2fx; bound %.2fx (longest case %.2fs); CPU: 1 replica %.2fs, longest first %.2fs + %.2fs (%.2fx), harness %.2fs, 2-core floor %.2fs (%.2fx)\n", n, w1, wp, w1 / wp, wl, w1 / wl, sim, w1 / l1, l1, c1, a, b, c1 / cl, h, fl, c1 / fl
  rp[n] = w1 / wp; rl[n] = w1 / wl; rs[n] = sim; rc[n] = c1 / cl; rf[n] = c1 / fl
}
function median(a, n,   i, j, t) {
  for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
  return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
END { if (n) printf "median of %d rounds: 2 replicas vs 1: plan order %.2fx, longest first %.2fx, simulated longest first %.2fx; CPU seconds, longest first (1 replica over the busier of 2) %.2fx; the most two cores allow (1 replica over the 2-core floor) %.2fx\n", n, median(rp, n), median(rl, n), median(rs, n), median(rc, n), median(rf, n) }
' "$tmp/lines"

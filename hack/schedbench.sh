#!/usr/bin/env bash
# Longest-first dispatch, measured: the fixture suite on regen-executor
# processes each pinned to one core (taskset, GOMAXPROCS=1), one replica
# vs two (plan order and longest first), ROUNDS times interleaved, so the
# ratios come from the same conditions. Needs at least 2 cores (taskset
# -c 0 and 1). Prints one line per run (hack/schedbench/main.go).
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
uptime
for r in $(seq "$rounds"); do
  echo "round $r"
  bin/schedbench -urls "${urls[0]}" -order plan
  bin/schedbench -urls "${urls[0]},${urls[1]}" -order plan
  bin/schedbench -urls "${urls[0]},${urls[1]}" -order longest
done
uptime

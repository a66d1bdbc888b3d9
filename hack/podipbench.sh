#!/usr/bin/env bash
# Cluster replay without the port-forward tax, measured (issue 14): the fixture
# suite replayed in process (what `make e2e` runs), on a host node through a
# port-forward (--port-forward, the path before pod IPs) and on a host node by
# pod IP (the default there), ROUNDS times interleaved, so each ratio comes from
# the same conditions. A run's replay time is the sum of its cases' replay
# seconds in results.json (one executor, cases one at a time), so the cluster's
# bring-up, rollout and teardown are not in it. Prints one line per run, then
# the medians and each one's ratio to in process.
#
# Needs root and the host node (hack/hostnode.sh prepare). Holds the machine lock
# that suites/hostnode and suites/kind take (testutil.LockMachine) for the whole
# run, waiting for it first. Reports stay under out/podipbench-<time>/.
#
# Usage: hack/podipbench.sh [ROUNDS]   (default 3)
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
command -v jq >/dev/null || { echo "podipbench: needs jq (apt-get install jq)" >&2; exit 2; }
lock=${TMPDIR:-/tmp}/regen-machine-suites.lock
exec 9>>"$lock"
echo "podipbench: waiting for the machine lock $lock" >&2
flock 9
make build >/dev/null
REGEN_KUBE_BIN=$(hack/hostnode.sh prepare | tail -n 1)
export REGEN_KUBE_BIN
out=out/podipbench-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
declare -A times
# run NAME ROUND regen-run-args...: one replay, its time appended to times[NAME].
run() {
	local name=$1 round=$2 rep rc=0
	shift 2
	rep=$out/$name-$round
	bin/regen run --report "$rep" "$@" >"$rep.log" 2>&1 || rc=$?
	if [ "$rc" != 0 ]; then
		echo "podipbench: $name round $round failed (exit $rc): $rep.log" >&2
		tail -n 5 "$rep.log" >&2
		exit 2
	fi
	local replay wall route
	replay=$(jq '[.cases[].replay_seconds] | add' "$rep/results.json")
	wall=$(jq '.wall_seconds' "$rep/results.json")
	route=$(grep -m1 -o 'replaying via [^(:]*' "$rep.log" || echo "in process")
	printf '%-13s round %d  replay %6.2fs  (wall %6.2fs, %s, %s)\n' "$name" "$round" "$replay" "$wall" "$(jq -r '.endpoints | join(",")' "$rep/results.json")" "$route"
	times[$name]+="$replay "
}
last() { awk '{print $NF}' <<<"${times[$1]}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
for r in $(seq 1 "$rounds"); do
	run in-process "$r" --env local
	run port-forward "$r" --env dev --cluster host --port-forward
	run pod-ip "$r" --env dev --cluster host
	ip=$(last in-process)
	echo "round $r: port-forward $(ratio "$(last port-forward)" "$ip")x in-process, pod IP $(ratio "$(last pod-ip)" "$ip")x"
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
base=$(median <<<"${times[in-process]}")
for name in in-process port-forward pod-ip; do
	m=$(median <<<"${times[$name]}")
	printf 'median %-13s replay %6.2fs  %sx in-process  (rounds: %s)\n' "$name" "$m" "$(ratio "$m" "$base")" "${times[$name]% }"
done
echo "reports: $out"

#!/usr/bin/env bash
# regen compare against odiff, whole process (start, decode, compare,
# exit), side by side in one hyperfine run on a 1024² pair written by
# hack/comparepair: the committed 1024² fixture golden against
#   noisy.png      a ±1 LSB change in a quarter of its channel values
#                  (every tier runs; regen says pass~)
#   identical.png  the same pixels, encoded again (tier 0 only)
#   golden.png     the same file (decoded once)
# The table at the end gives each regen/odiff ratio of the mean wall time
# and of the mean CPU time (user + system): on a shared machine the wall
# clock also measures the wait for a core, the CPU time does not.
#
# Needs hyperfine (Debian: apt-get install hyperfine) and odiff (npm i
# odiff-bin; ODIFF=/path/to/odiff to choose the binary); without either it
# says so and exits 0: never required in CI.
#
# BASE=/path/to/another/regen adds that binary's runs to the same
# hyperfine invocation, as "base" (build main's once, e.g.
# go build -tags regenfast -o /tmp/base/regen ./cmd/regen in a checkout of
# main): on a loaded machine only runs side by side compare.
#
# Usage: hack/comparebench.sh   (RUNS, default 30: runs per command; BASE)
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."

find_odiff() {
	if [ -n "${ODIFF:-}" ]; then echo "$ODIFF"; return; fi
	# odiff-bin's bin/odiff is a Node wrapper; time the native binary.
	local d f
	for d in node_modules /tmp/odiff/node_modules "$HOME/node_modules" "$(npm root -g 2>/dev/null || true)"; do
		for f in "$d"/@odiff/*/odiff "$d"/odiff-bin/raw_binaries/odiff-linux-x64.exe; do
			if [ -x "$f" ]; then echo "$f"; return; fi
		done
	done
	command -v odiff || true
}

odiff=$(find_odiff)
if [ -z "$odiff" ] || [ ! -x "$odiff" ]; then
	echo "comparebench: skipped: odiff not found (npm i odiff-bin, or ODIFF=/path/to/odiff)"
	exit 0
fi
if ! command -v hyperfine >/dev/null; then
	echo "comparebench: skipped: hyperfine not found (apt-get install hyperfine)"
	exit 0
fi

hack/build.sh
dir=${COMPAREBENCH_DIR:-out/comparebench}
go run ./hack/comparepair -out "$dir"
g=$dir/golden.png
# -i: both exit non-zero on some pairs by design (odiff when pixels differ).
cmds=()
for pair in noisy identical same-file; do
	f=$dir/$pair.png
	[ "$pair" = same-file ] && f=$g
	cmds+=(-n "regen $pair" "bin/regen compare $g $f")
	if [ -n "${BASE:-}" ]; then
		cmds+=(-n "base $pair" "$BASE compare $g $f")
	fi
	cmds+=(-n "odiff $pair" "$odiff $g $f")
done
hyperfine -N -i -w 3 -r "${RUNS:-30}" --export-csv "$dir/hyperfine.csv" --export-markdown "$dir/hyperfine.md" "${cmds[@]}"

echo
echo "== regen compare / odiff, whole process (${RUNS:-30} runs each; ms)"
awk -F, '
NR == 1 { next }
{
	split($1, n, " "); tool = n[1]; pair = n[2]
	wall[tool, pair] = $2 * 1000; cpu[tool, pair] = ($5 + $6) * 1000
	if (!(pair in seen)) { seen[pair] = 1; order[++np] = pair }
}
END {
	printf "%-6s %-10s %10s %10s %8s %10s %10s %8s\n", "", "pair", "wall", "odiff wall", "ratio", "cpu", "odiff cpu", "ratio"
	for (i = 1; i <= np; i++) {
		p = order[i]
		for (t = 1; t <= 2; t++) {
			tool = t == 1 ? "regen" : "base"
			if (!((tool, p) in wall)) continue
			printf "%-6s %-10s %10.1f %10.1f %7.2fx %10.1f %10.1f %7.2fx\n", tool, p, wall[tool, p], wall["odiff", p], wall[tool, p] / wall["odiff", p], cpu[tool, p], cpu["odiff", p], cpu[tool, p] / cpu["odiff", p]
		}
	}
}' "$dir/hyperfine.csv" | tee "$dir/summary.txt"
echo "comparebench: results in $dir (hyperfine.md, hyperfine.csv, summary.txt)"

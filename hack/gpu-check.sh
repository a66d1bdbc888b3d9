#!/usr/bin/env bash
# make gpu-check: the one prepared check for a GPU machine (which has no Go). Run from the
# repository root after hack/gpu-build.sh has filled bin/gpu/ (here or carried there).
# Budget: a few minutes on an H100/H200.
#
#   1. the cuda backend's tests: conformance suite (fp32 at the default 2e-5 tolerance, tf32 at
#      its measured cost), kernels vs their Go emulation, determinism (same bits 3×, on the
#      key-split, chunked-launch and column-block paths), fingerprint, Close
#   2. regen-executor --backend cuda: /system_stats shows the device
#   3. CPU-vs-CUDA: the committed suite replayed on the CUDA executor and judged by regen's
#      comparator against the CPU goldens (golden/cpu), twice; the two runs' images must be
#      byte-identical (end-to-end determinism)
#   4. the benchmark: attention TFLOP/s against the H200's FP32 peak (67 TFLOP/s non-tensor)
#
# GPU_CHECK_BACKEND=cpu (with a CPU-only bin/gpu) dry-runs steps 2–3 on a machine without a GPU,
# to check the plumbing; steps 1 and 4 need the GPU.
#
# Everything lands in $OUT (default out/gpu-check); the exit status is non-zero if any step
# failed, and the summary at the end says which.
set -o nounset -o pipefail
cd "$(dirname "$0")/.."
bin=bin/gpu
out=${OUT:-out/gpu-check}
port=${GPU_CHECK_PORT:-8190}
backend=${GPU_CHECK_BACKEND:-cuda}
mkdir -p "$out"
declare -a failed=()
step() { echo; echo "== gpu-check: $*"; }

for f in cuda.test regen-executor-cuda regen; do
	if [ ! -x "$bin/$f" ]; then
		echo "gpu-check: $bin/$f missing; run hack/gpu-build.sh first" >&2
		exit 2
	fi
done
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>/dev/null | tee "$out/nvidia-smi.csv"

step "1. backend tests (cuda.test)"
if [ "$backend" = cuda ]; then
	timeout 300 "$bin/cuda.test" -test.v -test.count=1 -test.timeout=290s \
		-test.run 'Conformance|MatchesEmulator|Deterministic|Fingerprint|NewRefuses|Close' \
		>"$out/tests.log" 2>&1
	rc=$?
	grep -E '^(--- FAIL|FAIL|ok|PASS)|gpu−emulator|max error .* >|Backend:cuda' "$out/tests.log" | tail -60
	[ $rc -eq 0 ] || failed+=("backend tests (rc $rc, $out/tests.log)")
else
	echo "skipped: GPU_CHECK_BACKEND=$backend"
fi

step "2. regen-executor --backend $backend"
work=$(mktemp -d)
"$bin/regen-executor-cuda" --backend "$backend" --listen "127.0.0.1:$port" --models fixtures/models \
	--input "$work/input" --output "$work/output" --temp "$work/temp" --log-format json \
	>"$out/executor.log" 2>&1 &
exec_pid=$!
trap 'kill "$exec_pid" 2>/dev/null; wait "$exec_pid" 2>/dev/null; rm -rf "$work"' EXIT
up=0
for _ in $(seq 1 100); do
	if curl -fsS "http://127.0.0.1:$port/system_stats" >"$out/system_stats.json" 2>/dev/null; then
		up=1
		break
	fi
	kill -0 "$exec_pid" 2>/dev/null || break
	sleep 0.2
done
if [ $up -eq 1 ]; then
	cat "$out/system_stats.json"
	echo
	grep -q "\"$backend" "$out/system_stats.json" || failed+=("/system_stats does not name the $backend backend")
else
	tail -20 "$out/executor.log"
	failed+=("regen-executor --backend $backend did not come up ($out/executor.log)")
fi

step "3. CPU goldens judged against CUDA outputs (twice, for determinism)"
# The CPU goldens' own thresholds judge (expect pass~: perceptually equal, not bit-identical).
if [ $up -eq 1 ]; then
	for i in 1 2; do
		timeout 240 "$bin/regen" run --url "http://127.0.0.1:$port" --golden-dir golden --class cpu \
			--report "$out/suite-$i" -q >"$out/suite-$i.log" 2>&1
		rc=$?
		tail -15 "$out/suite-$i.log"
		[ $rc -eq 0 ] || failed+=("suite run $i against the CPU goldens (rc $rc, $out/suite-$i.log)")
		(cd "$out/suite-$i" && find . -name '*.png' -type f -exec sha256sum {} + | sort -k2) >"$out/suite-$i.sha256"
	done
	# A run keeps only the outputs that are not bit-identical to their golden (candidates/);
	# an exact pass is the golden's bytes, so it is the same in both runs by definition.
	n=$(wc -l <"$out/suite-1.sha256")
	exact=$(grep -cE '^PASS +[^ ]+ +exact ' "$out/suite-1/summary.txt" 2>/dev/null)
	if [ "$n" -eq 0 ] && [ "${exact:-0}" -eq 0 ]; then
		failed+=("the suite runs wrote no images to compare")
	elif cmp -s "$out/suite-1.sha256" "$out/suite-2.sha256"; then
		echo "determinism: $n kept images byte-identical across the two runs; ${exact:-0} cases bit-identical to the CPU goldens"
	else
		diff "$out/suite-1.sha256" "$out/suite-2.sha256" | head
		failed+=("CUDA outputs differ between two runs of the suite")
	fi
fi

step "4. benchmark"
if [ "$backend" = cuda ]; then
	timeout 180 "$bin/cuda.test" -test.run '^$' -test.bench 'Kernel|Attention' -test.benchtime 10x \
		>"$out/bench.log" 2>&1 || failed+=("benchmark ($out/bench.log)")
	grep -E 'Benchmark|TFLOP' "$out/bench.log"
else
	echo "skipped: GPU_CHECK_BACKEND=$backend"
fi

echo
if [ ${#failed[@]} -eq 0 ]; then
	echo "gpu-check: PASS"
	exit 0
fi
echo "gpu-check: FAIL"
printf '  - %s\n' "${failed[@]}"
exit 1

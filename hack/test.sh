#!/usr/bin/env bash
# Every test that runs on a machine without Docker or GPU.
# - go vet over the module, and hack/fma-check.sh
# - the unit tests and the Ginkgo suites (suites/executor, suites/conformance against an
#   in-process regen-executor, suites/generation, suites/replay, suites/e2e, suites/hostnode)
#   under the race detector
# The test log lands in $ARTIFACTS/go-test.log (default out/artifacts), the raw go test -json
# stream in $ARTIFACTS/go-test.json. It ends with what was skipped (a suite without its
# control plane or host node, a test skipped under -race), why, and the command that
# enables it: hack/testsummary renders the -json stream as plain go test output plus that
# summary. With ARTIFACTS exported, suites/replay and suites/e2e keep their candidates and
# cluster diagnostics there.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
artifacts=${ARTIFACTS:-$PWD/out/artifacts}
mkdir -p "$artifacts"
echo "== go vet"
go vet ./...
echo "== fma-check (CPU goldens must not depend on fused multiply-adds)"
hack/fma-check.sh
# The pinned bits once more with the compiler free to fuse (GOAMD64=v3), where this CPU can
# run v3 code: the portable math and the samplers must not notice.
if [ "$(go env GOARCH)" = amd64 ] && grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo &&
	grep -qw bmi2 /proc/cpuinfo && grep -qw movbe /proc/cpuinfo && grep -qw f16c /proc/cpuinfo; then
	echo "== GOAMD64=v3: pinned bits (internal/pmath, executor/sampling, executor/backend/cpu)"
	GOAMD64=v3 go test -count=1 -run '^(TestPinnedBits|TestSpecialCases|TestAccuracy|TestSamplerGoldenBits|TestGoldenBits)$' \
		./internal/pmath ./executor/sampling ./executor/backend/cpu
else
	echo "== skipped: GOAMD64=v3 pinned bits (not an amd64 CPU with AVX2, FMA, BMI2, MOVBE and F16C)"
fi
echo "== go test -race"
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
go build -o "$tools/testsummary" ./hack/testsummary
go test -race -count=1 -timeout 30m -json ./... 2>&1 |
	"$tools/testsummary" -json "$artifacts/go-test.json" | tee "$artifacts/go-test.log"
# The tests above that skip under -race (their arithmetic is minutes under the race
# detector) run once more without it, so the committed fixture models' reproducibility, the
# 20-step samples, ControlNet's strength response, the sensitivity table and the calibration
# suite are checked on every run too (a few minutes).
echo "== the tests -race skips, once without it"
go test -count=1 -timeout 15m \
	-run '^(TestCommittedModelsAreReproducible|TestVAEDecodesResampledExemplars|TestVAERoundTrip|TestSamples|TestControlNetEdgeCorrelationRisesWithStrength|TestImageCost)$' \
	./fixtures/gen ./executor/model ./executor/backend/cuda/kernelsim 2>&1 | tee -a "$artifacts/go-test.log"
go test -count=1 -timeout 15m ./suites/generation -ginkgo.label-filter=table 2>&1 | tee -a "$artifacts/go-test.log"
# regen golden calibrate on the emulated nondeterministic backend (its specs skip under -race).
go test -count=1 -timeout 15m ./suites/calibration 2>&1 | tee -a "$artifacts/go-test.log"
# The arm64 build under qemu-user, when qemu-aarch64-static is installed (hack/test-arm64.sh,
# about 80 s): its NEON kernels held to the pure-Go bits, the pinned bits, and the smoke cases
# replayed by an arm64 regen against golden/cpu.
if command -v qemu-aarch64-static >/dev/null || command -v qemu-aarch64 >/dev/null; then
	echo "== arm64 under qemu (hack/test-arm64.sh)"
	hack/test-arm64.sh 2>&1 | tee -a "$artifacts/go-test.log"
else
	echo "== skipped: arm64 under qemu (no qemu-aarch64-static; enable: apt-get install -y qemu-user-static)" | tee -a "$artifacts/go-test.log"
fi

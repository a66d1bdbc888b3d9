#!/usr/bin/env bash
# Every test that runs on a machine without Docker or GPU.
# - go vet over the module, and hack/fma-check.sh
# - the unit tests and the Ginkgo suites (suites/executor, suites/generation, suites/replay,
#   suites/e2e, suites/hostnode) under the race detector
# The test log lands in $ARTIFACTS/go-test.log (default out/artifacts). With ARTIFACTS
# exported, suites/replay and suites/e2e keep their candidates and cluster diagnostics there.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
artifacts=${ARTIFACTS:-$PWD/out/artifacts}
mkdir -p "$artifacts"
echo "== go vet"
go vet ./...
echo "== fma-check (CPU goldens must not depend on fused multiply-adds)"
hack/fma-check.sh
echo "== go test -race"
go test -race -count=1 -timeout 30m ./... 2>&1 | tee "$artifacts/go-test.log"

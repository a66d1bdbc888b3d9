# regen — thin dispatcher; the logic lives in hack/*.sh.
# Run `make help` for the targets.

ENV ?= local
ARGS ?=
BIN := bin

.DEFAULT_GOAL := help

.PHONY: help
help: ## show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build bin/regen and bin/regen-executor
	@hack/build.sh

.PHONY: test
test: ## every test that runs without Docker or GPU: vet, unit (race), suites
	@hack/test.sh

.PHONY: unit
unit: ## unit tests only (-short)
	@go test -short ./...

.PHONY: e2e
e2e: build ## the main job: replay every committed workflow on ENV (default local) and judge it
	@hack/e2e.sh "$(ENV)" $(ARGS)

.PHONY: goldens
goldens: build ## replay the suite and approve new/failed cases as goldens (review the diff!)
	@hack/goldens.sh $(ARGS)

.PHONY: bench
bench: ## benchmarks: attention vs GEMM, denoiser, workflow wall time, compare
	@hack/bench.sh

.PHONY: cuda
cuda: ## install CUDA 11.8 headers + nvcc (Debian contrib/non-free), check the PTX, build and vet -tags cuda
	@hack/cuda.sh

.PHONY: gpu-build
gpu-build: ## build bin/gpu/ (cuda test binary, regen-executor-cuda, regen) to carry to a GPU machine
	@hack/gpu-build.sh

.PHONY: gpu-check
gpu-check: ## on a GPU machine: backend tests, determinism, suite vs CPU goldens, benchmark
	@hack/gpu-check.sh

.PHONY: fixtures
fixtures: ## regenerate the committed fixture models and input images
	@go run ./fixtures/gen
	@go run ./fixtures/inputs/gen

.PHONY: verify
verify: ## gofmt, go vet, go mod tidy check
	@hack/verify.sh

.PHONY: clean
clean: ## remove build outputs and run reports
	rm -rf $(BIN) out

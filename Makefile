# regen — thin dispatcher; the logic lives in hack/*.sh.
# Run `make help` for the targets.

ENV ?= local
ARGS ?=
BIN := bin
# Every image carries the commit (internal/version) as hack/build.sh stamps bin/.
DOCKER_BUILD = docker build --build-arg GIT_COMMIT=$$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

.DEFAULT_GOAL := help

.PHONY: help
help: ## show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build bin/regen (+ bin/regen-full), bin/regen-executor and bin/regen-pause (static, CGO_ENABLED=0)
	@hack/build.sh

.PHONY: test
test: ## every test that runs without Docker or GPU: vet, unit (race), suites
	@hack/test.sh

.PHONY: unit
unit: ## unit tests only (-short)
	@go test -short ./...

.PHONY: conformance
conformance: ## the protocol conformance suite; against any server: make conformance URL=http://127.0.0.1:8188
	@REGEN_CONFORMANCE_URL="$(URL)" go test -count=1 ./suites/conformance -ginkgo.v $(ARGS)

.PHONY: e2e
e2e: build ## the main job: replay every committed workflow on ENV (local; dev: kubeconfig, kind or a host node) and judge it
	@hack/e2e.sh "$(ENV)" $(ARGS)

.PHONY: goldens
goldens: build ## replay the suite and approve new/failed cases as goldens (review the diff!)
	@hack/goldens.sh $(ARGS)

.PHONY: bench
bench: ## benchmarks: attention vs GEMM, denoiser, workflow wall time, compare
	@hack/bench.sh

.PHONY: image
image: ## build the CPU executor image (needs Docker with BuildKit)
	$(DOCKER_BUILD) -t regen-executor:dev .

.PHONY: image-oci
image-oci: build ## OCI archives of the executor and pause images without Docker (ctr images import / kind load image-archive)
	@mkdir -p $(BIN)/images
	@$(BIN)/regen image executor --binary $(BIN)/regen-executor --models fixtures/models -o $(BIN)/images/regen-executor-dev.oci.tar
	@$(BIN)/regen image pause --binary $(BIN)/regen-pause -o $(BIN)/images/regen-pause.oci.tar

.PHONY: kind-node-image
kind-node-image: ## build the kind node image offline (debootstrap, Go-built Kubernetes; cached in ~/.cache/regen)
	@hack/kindnode.sh build

.PHONY: comfyui-image
comfyui-image: ## build a real ComfyUI's image offline from COMFYUI_SRC (default /tmp/comfyui; debootstrap, Debian's torch, as root; cached in ~/.cache/regen)
	@hack/comfyui-image.sh build

.PHONY: e2e-comfyui
e2e-comfyui: build comfyui-image ## roll out overlays/comfyui-cpu (that image) on a host node and replay the suite through the real ComfyUI (ARGS: e.g. --class comfyui-cpu)
	bin/regen run --env comfyui-cpu --cluster host --image-archive "$$(hack/comfyui-image.sh archive)" $(ARGS)

.PHONY: image-regen
image-regen: ## build the regen CLI + suite image (for the nightly CronJob)
	$(DOCKER_BUILD) --target regen -t regen:dev .

.PHONY: image-cuda
image-cuda: ## build the CUDA executor image
	$(DOCKER_BUILD) --target executor-cuda -t regen-executor:dev-cuda .

.PHONY: deploy-validate
deploy-validate: ## render and validate every Kustomize environment in-process (no cluster)
	@go run ./cmd/regen deploy validate

.PHONY: deploy-render
deploy-render: ## print ENV's rendered manifests (ENV=dev|prod|gpu)
	@go run ./cmd/regen deploy render --env $(ENV)

.PHONY: cuda
cuda: ## install CUDA 11.8 headers + nvcc (Debian contrib/non-free), regenerate the PTX, build and vet -tags cuda
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
verify: ## gofmt, go vet, fma-check, cross-builds (windows, darwin), go mod tidy check
	@hack/verify.sh

.PHONY: fma-check
fma-check: ## fail if arm64/amd64-v3 builds fuse multiply-adds in the CPU numeric packages
	@hack/fma-check.sh

.PHONY: test-arm64
test-arm64: ## the arm64 build's bits (NEON kernels, pinned goldens) under qemu-aarch64-static
	@hack/test-arm64.sh

.PHONY: clean
clean: ## remove build outputs and run reports
	rm -rf $(BIN) out

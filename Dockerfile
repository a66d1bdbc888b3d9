# syntax=docker/dockerfile:1
#
# regen's images. BuildKit (the default builder since Docker 23) builds only the
# stages the chosen target needs:
#
#   docker build -t regen-executor:dev .                              # executor, CPU (default target)
#   docker build --target regen -t regen:dev .                        # regen CLI + suite + goldens (nightly CronJob)
#   docker build --target executor-cuda -t regen-executor:dev-cuda .  # executor with the CUDA backend
#
# Run the CPU executor locally (publish on loopback only):
#   docker run --rm --read-only -p 127.0.0.1:8188:8188 regen-executor:dev
#
# The images run as the numeric non-root user 65532 and need no writable root
# filesystem: /input, /output, /temp and /tmp are volumes.

ARG GO_IMAGE=golang:1.26-bookworm

# ---- build: static, reproducible (-trimpath, no VCS stamping) binaries ----
FROM ${GO_IMAGE} AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-trimpath -buildvcs=false"
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG GIT_COMMIT=unknown
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    ldflags="-s -w -X github.com/regen-dev/regen/internal/version.gitCommit=${GIT_COMMIT}" && \
    go build -ldflags "$ldflags" -o /out/regen-executor ./cmd/regen-executor && \
    go build -ldflags "$ldflags" -o /out/regen ./cmd/regen

# ---- rootfs: the writable mount points, owned by the runtime user (FROM scratch has no
# mkdir); its own stage, so that the CUDA target does not compile the CPU binaries ----
FROM ${GO_IMAGE} AS rootfs
RUN mkdir -p /rootfs/input /rootfs/output /rootfs/temp /rootfs/tmp /rootfs/var/lib/regen && \
    chown -R 65532:65532 /rootfs && chmod 1777 /rootfs/tmp

# ---- regen: the CLI with the suite it judges (nightly CronJob) ----
FROM scratch AS regen
COPY --from=rootfs /rootfs/ /
COPY --from=build /out/regen /regen/bin/regen
COPY fixtures/suite.yaml /regen/fixtures/suite.yaml
COPY fixtures/workflows/ /regen/fixtures/workflows/
COPY fixtures/inputs/ /regen/fixtures/inputs/
COPY golden/ /regen/golden/
USER 65532:65532
WORKDIR /var/lib/regen
VOLUME ["/var/lib/regen", "/tmp"]
ENTRYPOINT ["/regen/bin/regen"]
CMD ["help"]

# ---- build-cuda: the executor with -tags cuda (cgo, links libcuda.so.1) ----
# cuda.h and the stub libcuda.so come from Debian's nvidia-cuda-dev (contrib,
# non-free); the driver's real libcuda.so.1 is injected at run time by the
# NVIDIA container toolkit. See hack/cuda.sh.
FROM ${GO_IMAGE} AS build-cuda
RUN echo "deb http://deb.debian.org/debian bookworm contrib non-free non-free-firmware" \
        >/etc/apt/sources.list.d/cuda.list && \
    apt-get update && apt-get install -y --no-install-recommends nvidia-cuda-dev && \
    rm -rf /var/lib/apt/lists/*
WORKDIR /src
ENV CGO_ENABLED=1 GOTOOLCHAIN=local GOFLAGS="-trimpath -buildvcs=false"
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG GIT_COMMIT=unknown
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -tags cuda -ldflags "-s -w -X github.com/regen-dev/regen/internal/version.gitCommit=${GIT_COMMIT}" \
        -o /out/regen-executor ./cmd/regen-executor

# ---- executor-cuda: glibc runtime the NVIDIA toolkit knows how to inject into ----
FROM nvidia/cuda:12.6.3-base-ubuntu24.04 AS executor-cuda
COPY --from=rootfs /rootfs/ /
COPY --from=build-cuda /out/regen-executor /regen-executor
COPY fixtures/models/ /models/
USER 65532:65532
EXPOSE 8188 9090
VOLUME ["/input", "/output", "/temp", "/tmp"]
ENTRYPOINT ["/regen-executor"]
CMD ["--listen=0.0.0.0:8188", "--metrics-listen=0.0.0.0:9090", "--backend=cuda", \
     "--models=/models", "--input=/input", "--output=/output", "--temp=/temp"]

# ---- executor (default): FROM scratch, the static binary and the fixture models ----
FROM scratch AS executor
COPY --from=rootfs /rootfs/ /
COPY --from=build /out/regen-executor /regen-executor
# The closed-form fixture models, for dev; prod/gpu mount a PVC over /models.
COPY fixtures/models/ /models/
USER 65532:65532
# 0.0.0.0 is the container's (the pod's) own network namespace: the kubelet's probes
# and the Service reach the pod IP, and a NetworkPolicy decides who may connect.
# Outside Kubernetes, publish on loopback: -p 127.0.0.1:8188:8188.
EXPOSE 8188 9090
VOLUME ["/input", "/output", "/temp", "/tmp"]
ENTRYPOINT ["/regen-executor"]
CMD ["--listen=0.0.0.0:8188", "--metrics-listen=0.0.0.0:9090", \
     "--models=/models", "--input=/input", "--output=/output", "--temp=/temp"]

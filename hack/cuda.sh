#!/usr/bin/env bash
# make cuda: install what the CUDA build needs, regenerate the PTX, build and vet with -tags cuda.
#
#   hack/cuda.sh            install (if needed) + ptx (if nvcc is present) + build + vet
#   hack/cuda.sh install    only the apt part: bookworm contrib/non-free source, nvidia-cuda-dev
#                           (cuda.h, the stub libcuda.so) and nvidia-cuda-toolkit (nvcc 11.8)
#   hack/cuda.sh ptx        only regenerate executor/backend/cuda/kernels/*.ptx from the .cu
#   hack/cuda.sh ptx-check  regenerate into a temp dir and fail if the committed PTX differs
#   hack/cuda.sh build      only go build + go vet with -tags cuda
#
# The PTX is committed, so building needs only cuda.h and libcuda (nvidia-cuda-dev); nvcc is
# needed only to change the kernels. No NVIDIA file is ever committed.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."

kernels=executor/backend/cuda/kernels
# sm_80 (A100) and sm_90 (H100/H200). PTX for a lower arch JIT-compiles on any newer GPU; the
# driver picks the module we load (the Go side loads the sm_90 one on compute capability ≥ 9.0).
archs=(80 90)

need_sudo() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

install() {
	if [ -f /usr/include/cuda.h ] && command -v nvcc >/dev/null; then
		echo "== cuda: headers and nvcc already installed ($(nvcc --version | tail -1))"
		return
	fi
	# Debian keeps CUDA in contrib/non-free. Add a deb822 source for them if no source has them.
	if ! grep -rqsE '^(Components:.*\bcontrib\b.*\bnon-free\b|deb .*bookworm .*contrib.*non-free)' \
		/etc/apt/sources.list /etc/apt/sources.list.d/; then
		echo "== cuda: adding apt source bookworm contrib non-free"
		need_sudo tee /etc/apt/sources.list.d/regen-cuda.sources >/dev/null <<-'EOF'
			Types: deb
			URIs: http://deb.debian.org/debian
			Suites: bookworm bookworm-updates
			Components: contrib non-free
			Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
		EOF
	fi
	echo "== cuda: apt-get install nvidia-cuda-dev nvidia-cuda-toolkit (≈1.5 GB download)"
	need_sudo apt-get update -qq
	# The EULA prompt of the non-free packages is pre-answered; nothing is interactive.
	echo 'nvidia-cuda-dev nvidia-cuda-dev/license-agreement boolean true' | need_sudo debconf-set-selections || true
	DEBIAN_FRONTEND=noninteractive need_sudo apt-get install -y -qq --no-install-recommends \
		nvidia-cuda-dev nvidia-cuda-toolkit
}

# ptx DIR: compile every kernels/*.cu for each arch into DIR/<name>_sm<arch>.ptx.
# Flags are fixed (no -lineinfo, no -G: debug info embeds paths) so the output is reproducible;
# nvcc's PTX header carries only the compiler version, not dates or paths.
ptx_into() {
	local out=$1
	mkdir -p "$out"
	for cu in "$kernels"/*.cu; do
		local name
		name=$(basename "$cu" .cu)
		for a in "${archs[@]}"; do
			# -ftz=false -prec-div=true -prec-sqrt=true -fmad=false: IEEE FP32, no contraction,
			# so a result depends only on the (fixed) order of operations written in the kernel.
			nvcc -ptx -std=c++14 -O3 -arch="compute_${a}" \
				-ftz=false -prec-div=true -prec-sqrt=true -fmad=false \
				-o "$out/${name}_sm${a}.ptx" "$cu"
		done
	done
}

ptx() {
	if ! command -v nvcc >/dev/null; then
		echo "== cuda: nvcc not found; keeping the committed PTX (run hack/cuda.sh install)"
		return
	fi
	echo "== cuda: nvcc -ptx for sm_${archs[*]} ($(nvcc --version | tail -1))"
	ptx_into "$kernels"
}

ptx_check() {
	local tmp
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	ptx_into "$tmp"
	local bad=0
	for f in "$tmp"/*.ptx; do
		if ! cmp -s "$f" "$kernels/$(basename "$f")"; then
			echo "PTX differs from the .cu source: $kernels/$(basename "$f") (run hack/cuda.sh ptx)"
			bad=1
		fi
	done
	[ "$bad" -eq 0 ] && echo "== cuda: committed PTX matches the .cu sources"
	return "$bad"
}

build() {
	echo "== cuda: go build -tags cuda ./..."
	go build -tags cuda ./...
	echo "== cuda: go vet -tags cuda ./executor/backend/cuda/... ./cmd/regen-executor/..."
	go vet -tags cuda ./executor/backend/cuda/... ./cmd/regen-executor/...
	echo "== cuda: the regen CLI links no CUDA (backends are chosen by cmd/regen-executor alone)"
	if go list -tags cuda -deps ./cmd/regen | grep gorgonia; then
		echo "cuda: cmd/regen depends on gorgonia under -tags cuda" >&2
		exit 1
	fi
	echo "== cuda: test binaries compile (go test -c -tags cuda; not run: cu exits without a GPU)"
	local tmp
	tmp=$(mktemp -d)
	go test -c -tags cuda -o "$tmp/cuda.test" ./executor/backend/cuda
	go build -tags cuda -o "$tmp/regen-executor" ./cmd/regen-executor
	ldd "$tmp/regen-executor" | grep -q 'libcuda.so.1' && echo "== cuda: regen-executor links libcuda.so.1"
	rm -rf "$tmp"
	echo "== cuda: the CPU build needs no cuda.h: CGO_ENABLED=0 go build ./... && go vet ./executor/backend/..."
	CGO_ENABLED=0 go build ./...
	go vet ./executor/backend/...
}

case "${1:-all}" in
install) install ;;
ptx) ptx ;;
ptx-check) ptx_check ;;
build) build ;;
all)
	install
	ptx
	build
	;;
*)
	echo "usage: $0 [install|ptx|ptx-check|build]" >&2
	exit 2
	;;
esac

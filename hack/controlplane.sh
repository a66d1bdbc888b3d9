#!/usr/bin/env bash
# The local Kubernetes control plane that suites/e2e and runner/kube bring up:
# kube-apiserver, kube-controller-manager, kube-scheduler (v1.37.2, built from Go
# modules in hack/kube), etcd (v3.6.16, hack/kube/etcd) and kwok (v0.8.0, with its
# stage configs). Everything is built into a cache OUTSIDE the checkout, keyed by
# version, so only the first run on a machine pays (≈ 7–15 min on 2 cores, 2.6 GB).
#
# Usage:
#   hack/controlplane.sh build   build what is missing; prints the bin dir last
#   hack/controlplane.sh bindir  print the bin dir (exit 1 if incomplete)
#   hack/controlplane.sh check   exit 0 if every binary is present
#   hack/controlplane.sh kubelet build the kubelet (same module and version) into the
#                                bin dir if missing; prints its path last. Opt-in: the
#                                control-plane tiers do not need it (issue 7, real nodes).
#   hack/controlplane.sh node    build the kubelet, kubeadm, kube-proxy and kubectl (same
#                                module and version) into the bin dir if missing; prints
#                                the bin dir last. Opt-in: the kind node image needs them
#                                (issue 18, hack/kindnode.sh).
#
# REGEN_CACHE (default ~/.cache/regen) moves the cache; REGEN_KUBE_BIN is what the
# tests read (export REGEN_KUBE_BIN=$(hack/controlplane.sh bindir)).
set -o errexit -o nounset -o pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

kube_version=v1.37.2
etcd_version=v3.6.16
kwok_version=v0.8.0
cache=${REGEN_CACHE:-$HOME/.cache/regen}
key="kube-${kube_version}-etcd-${etcd_version}-kwok-${kwok_version}"
bindir="$cache/$key/bin"
binaries=(kube-apiserver kube-controller-manager kube-scheduler etcd kwok)

complete() {
	local b
	for b in "${binaries[@]}"; do [ -x "$bindir/$b" ] || return 1; done
	[ -f "$bindir/stages/node-fast.yaml" ] && [ -f "$bindir/stages/pod-fast.yaml" ]
}

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=${kube_version} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37"

build() {
	mkdir -p "$bindir/stages"
	local t0 b
	t0=$(date +%s)
	for b in kube-apiserver kube-controller-manager kube-scheduler; do
		if [ ! -x "$bindir/$b" ]; then
			echo "== build $b $kube_version" >&2
			(cd "$root/hack/kube" && go build -trimpath -ldflags "$ldflags" -o "$bindir/$b.tmp" "k8s.io/kubernetes/cmd/$b") &&
				mv "$bindir/$b.tmp" "$bindir/$b"
		fi
	done
	if [ ! -x "$bindir/etcd" ]; then
		echo "== build etcd $etcd_version" >&2
		(cd "$root/hack/kube/etcd" && go build -trimpath -ldflags "-s -w" -o "$bindir/etcd.tmp" go.etcd.io/etcd/server/v3) &&
			mv "$bindir/etcd.tmp" "$bindir/etcd"
	fi
	if [ ! -x "$bindir/kwok" ]; then
		echo "== build kwok $kwok_version" >&2
		GOFLAGS= GOBIN="$bindir/.gobin" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$kwok_version"
		mv "$bindir/.gobin/kwok" "$bindir/kwok"
		rmdir "$bindir/.gobin"
	fi
	# kwok's standalone controller refuses to start without Stage configs; the module
	# ships them under kustomize/stage/{node,pod}/fast.
	local kwokmod
	kwokmod=$(GOFLAGS= go env GOMODCACHE)/sigs.k8s.io/kwok@$kwok_version
	if [ ! -f "$bindir/stages/node-fast.yaml" ]; then
		[ -d "$kwokmod" ] || GOFLAGS= go mod download "sigs.k8s.io/kwok@$kwok_version"
		local f
		for f in $(grep -l '^kind: Stage' "$kwokmod"/kustomize/stage/node/fast/*.yaml); do echo "---"; cat "$f"; done >"$bindir/stages/node-fast.yaml"
		for f in $(grep -l '^kind: Stage' "$kwokmod"/kustomize/stage/pod/fast/*.yaml); do echo "---"; cat "$f"; done >"$bindir/stages/pod-fast.yaml"
	fi
	echo "== control plane built in $(($(date +%s) - t0)) s: $bindir" >&2
}

# The kubelet is not in binaries: build/check/bindir stay as they were for the
# control-plane tiers; only a real node (issue 7) needs it. Warm GOCACHE: ≈ 35 s.
kubelet() {
	mkdir -p "$bindir"
	if [ ! -x "$bindir/kubelet" ]; then
		local t0
		t0=$(date +%s)
		echo "== build kubelet $kube_version" >&2
		(cd "$root/hack/kube" && go build -trimpath -ldflags "$ldflags" -o "$bindir/kubelet.tmp" k8s.io/kubernetes/cmd/kubelet)
		mv "$bindir/kubelet.tmp" "$bindir/kubelet"
		echo "== kubelet built in $(($(date +%s) - t0)) s" >&2
	fi
	echo "$bindir/kubelet"
}

# The node binaries the kind node image carries (hack/kindnode.sh): kubeadm drives
# kind's bring-up, kube-proxy runs as a DaemonSet from an image made of it, kubectl is
# what kind and a developer use inside the node. Warm GOCACHE: ≈ 1 min each.
node() {
	kubelet >/dev/null
	local b t0
	for b in kubeadm kube-proxy kubectl; do
		[ -x "$bindir/$b" ] && continue
		t0=$(date +%s)
		echo "== build $b $kube_version" >&2
		(cd "$root/hack/kube" && go build -trimpath -ldflags "$ldflags" -o "$bindir/$b.tmp" "k8s.io/kubernetes/cmd/$b")
		mv "$bindir/$b.tmp" "$bindir/$b"
		echo "== $b built in $(($(date +%s) - t0)) s" >&2
	done
	echo "$bindir"
}

case ${1:-build} in
build)
	complete || build
	complete || { echo "controlplane: build incomplete in $bindir" >&2; exit 1; }
	echo "$bindir"
	;;
bindir)
	complete || { echo "controlplane: not built; run hack/controlplane.sh build" >&2; exit 1; }
	echo "$bindir"
	;;
check) complete ;;
kubelet) kubelet ;;
node) node ;;
*) echo "usage: $0 build|bindir|check|kubelet|node" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# The host node: a single-node Kubernetes cluster on this machine whose pods really run
# (kubelet v1.37.2 on Debian's containerd and runc, CNI bridge), brought up and torn down
# by `regen run --env dev` (runner/kube, --cluster host). This script only prepares it.
#
# Usage:
#   hack/hostnode.sh prepare   install containerd, runc and the CNI plugins (apt, as root) if
#                              missing, build the control plane and the kubelet into the cache
#                              (hack/controlplane.sh); prints the bin dir last
#   hack/hostnode.sh needed    exit 0 when `ENV=dev` has no other cluster to use (no
#                              kubeconfig, no Docker daemon with kind), i.e. prepare is due
set -o errexit -o nounset -o pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

needed() {
	local kc
	if [ -n "${KUBECONFIG:-}" ]; then
		IFS=: read -ra kc <<<"$KUBECONFIG"
		for f in "${kc[@]}"; do [ -f "$f" ] && return 1; done
	fi
	[ -f "$HOME/.kube/config" ] && return 1
	# As runner/target/cluster's Preflight: kind on a running Docker, kind from
	# PATH or go-installed by e2e-framework.
	if command -v docker >/dev/null && { command -v kind >/dev/null || command -v go >/dev/null; } &&
		timeout 5 docker info >/dev/null 2>&1; then
		return 1
	fi
	return 0
}

prepare() {
	local t0 missing=()
	t0=$(date +%s)
	command -v containerd >/dev/null || missing+=(containerd)
	command -v runc >/dev/null || missing+=(runc)
	[ -x /usr/lib/cni/bridge ] || [ -x /opt/cni/bin/bridge ] || missing+=(containernetworking-plugins)
	if [ ${#missing[@]} -gt 0 ]; then
		if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
			echo "hostnode: missing ${missing[*]}: install them (Debian: apt-get install -y containerd runc containernetworking-plugins) as root" >&2
			exit 2
		fi
		echo "== apt-get install ${missing[*]}" >&2
		# No service is started: regen runs its own containerd with its own state dir.
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends containerd runc containernetworking-plugins >&2
	fi
	"$root/hack/controlplane.sh" build >/dev/null
	"$root/hack/controlplane.sh" kubelet >/dev/null
	echo "== host node prerequisites ready in $(($(date +%s) - t0)) s" >&2
	"$root/hack/controlplane.sh" bindir
}

case ${1:-} in
prepare) prepare ;;
needed) needed ;;
*) echo "usage: $0 prepare|needed" >&2; exit 2 ;;
esac

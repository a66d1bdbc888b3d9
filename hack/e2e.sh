#!/usr/bin/env bash
# The main job: replay the committed suite on an environment and judge every output.
# Usage: hack/e2e.sh ENV [regen run flags...]
#
# ENV=dev with no kubeconfig and no kind on Docker: regen brings up a host node (a
# single-node cluster on this machine's containerd) for the run; the first time, this
# installs containerd/runc/CNI plugins (as root, apt) and builds the control plane and
# the kubelet into ~/.cache/regen (≈ 11 min once). With Docker running it is kind instead
# (below).
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
env_name=${1:-local}
shift || true
# ENV=dev with Docker answering (and no kubeconfig, or --cluster kind): kind, on the node
# image the project builds offline (hack/kindnode.sh, ≈ 20 min once, cached in
# ~/.cache/regen), since kind's own kindest/node comes from a registry. REGEN_KIND_NODE_IMAGE
# already set (a node image of your own, or kind's) skips that.
wants() { case " $* " in *" --cluster $1 "* | *" --cluster=$1 "*) return 0 ;; esac; return 1; }
docker_answers() { command -v docker >/dev/null && timeout 10 docker info >/dev/null 2>&1; }
kind_auto() {
	! wants host "$@" && ! wants kubeconfig "$@" && [ -z "${KUBECONFIG:-}" ] && [ ! -f "$HOME/.kube/config" ] && docker_answers
}
if [ "$env_name" = dev ] && [ -z "${REGEN_KIND_NODE_IMAGE:-}" ] && { wants kind "$@" || kind_auto "$@"; }; then
	if hack/kindnode.sh build >/dev/null; then
		REGEN_KIND_NODE_IMAGE=$(hack/kindnode.sh load)
		REGEN_KIND=$(hack/kindnode.sh kind)
		export REGEN_KIND_NODE_IMAGE REGEN_KIND
	else
		echo "e2e: the offline kind node image did not build (above); kind will try its own kindest/node" >&2
	fi
fi
if [ "$env_name" = dev ] && { wants host "$@" || hack/hostnode.sh needed; }; then
	REGEN_KUBE_BIN=$(hack/hostnode.sh prepare)
	export REGEN_KUBE_BIN
fi
exec bin/regen run --env "$env_name" "$@"

#!/usr/bin/env bash
# The main job: replay the committed suite on an environment and judge every output.
# Usage: hack/e2e.sh ENV [regen run flags...]
#
# ENV=dev with no kubeconfig and no kind on Docker: regen brings up a host node (a
# single-node cluster on this machine's containerd) for the run; the first time, this
# installs containerd/runc/CNI plugins (as root, apt) and builds the control plane and
# the kubelet into ~/.cache/regen (≈ 11 min once).
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
env_name=${1:-local}
shift || true
if [ "$env_name" = dev ] && hack/hostnode.sh needed; then
	REGEN_KUBE_BIN=$(hack/hostnode.sh prepare)
	export REGEN_KUBE_BIN
fi
exec bin/regen run --env "$env_name" "$@"

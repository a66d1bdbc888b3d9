#!/usr/bin/env bash
# kube-score (github.com/zegl/kube-score v1.20.0, its default checks) on every rendered
# environment, with the waivers of kustomize/kube-score.yaml. Exit 1 on a CRITICAL that
# is not waived. kube-score v1.20.0 does not build against regen's k8s.io/apimachinery
# v0.35 (labels.Labels grew a method), so it lives in its own module, hack/kubescore.
# Usage: hack/kubescore.sh [ENV...]   (default: every overlay)
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd hack/kubescore && GOWORK=off go build -o "$tmp/kubescore" .)
envs=("$@")
if [ ${#envs[@]} = 0 ]; then
	mapfile -t envs < <(ls kustomize/overlays)
fi
args=()
for e in "${envs[@]}"; do
	bin/regen deploy render --env "$e" >"$tmp/$e.yaml"
	args+=("$e=$tmp/$e.yaml")
done
exec "$tmp/kubescore" -waivers kustomize/kube-score.yaml "${args[@]}"

#!/usr/bin/env bash
# The main job: replay the committed suite on an environment and judge every output.
# Usage: hack/e2e.sh ENV [regen run flags...]
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
env_name=${1:-local}
shift || true
exec bin/regen run --env "$env_name" "$@"

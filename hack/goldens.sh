#!/usr/bin/env bash
# Replay the suite locally and promote the new or changed outputs to goldens.
# --strict: the local lane is bit-exact, so a pass~ (not identical) output is a change too.
# Goldens that still pass are never rewritten. Review `git diff golden/` before committing.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
report=out/goldens-$(date +%Y%m%d-%H%M%S)
set +o errexit
bin/regen run --env local --strict --report "$report" "$@"
rc=$?
set -o errexit
if [ "$rc" -eq 2 ] && [ ! -f "$report/results.json" ]; then
  echo "goldens: the run failed before producing results (exit 2)" >&2
  exit 2
fi
bin/regen golden approve --from-run "$report"

#!/usr/bin/env bash
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt needed:"; echo "$unformatted"; exit 1
fi
go vet ./...
hack/fma-check.sh
cp go.mod /tmp/regen-go.mod.bak; cp go.sum /tmp/regen-go.sum.bak
go mod tidy
if ! git diff --quiet -- go.mod go.sum; then
  echo "go mod tidy changed go.mod/go.sum:"; git diff -- go.mod go.sum
  cp /tmp/regen-go.mod.bak go.mod; cp /tmp/regen-go.sum.bak go.sum
  exit 1
fi
echo "verify: ok"

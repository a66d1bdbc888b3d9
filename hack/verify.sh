#!/usr/bin/env bash
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt needed:"; echo "$unformatted"; exit 1
fi
go vet ./...
hack/fma-check.sh
# go mod tidy must leave go.mod and go.sum as they were before it ran (uncommitted
# edits included); if it changes them, show how and put them back.
before=$(mktemp -d)
trap 'rm -rf "$before"' EXIT
cp go.mod go.sum "$before/"
go mod tidy
if ! cmp -s go.mod "$before/go.mod" || ! cmp -s go.sum "$before/go.sum"; then
  echo "go mod tidy changed go.mod/go.sum:"
  diff -u "$before/go.mod" go.mod || true
  diff -u "$before/go.sum" go.sum || true
  cp "$before/go.mod" "$before/go.sum" .
  exit 1
fi
echo "verify: ok"

#!/usr/bin/env bash
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt needed:"; echo "$unformatted"; exit 1
fi
go vet ./...
hack/fma-check.sh
# The CLIs cross-build: unix-only calls (process groups, flock, unmount) sit
# behind build tags in runner/kube and runner/bisect, with an error where a
# host node cannot run. Build only (no tests): seconds once cached.
for target in windows/amd64 darwin/arm64 darwin/amd64; do
  if ! GOOS=${target%/*} GOARCH=${target#*/} go build ./cmd/...; then
    echo "cross-build for $target failed"; exit 1
  fi
done
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

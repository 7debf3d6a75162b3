#!/usr/bin/env bash
# Maintainer checks, beside ./test.sh: staticcheck (built from source the
# first time: minutes on a cold cache), vet and builds for every release
# target, and the README's recommended build.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

echo "== cross-build (and vet, tests included, for each OS)"
for target in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64; do
	GOOS=${target%/*} GOARCH=${target#*/} CGO_ENABLED=0 go build -o /dev/null . || { echo "build failed for $target"; exit 1; }
done
for os in darwin windows; do
	GOOS=$os CGO_ENABLED=0 go vet ./... || { echo "vet failed for $os"; exit 1; }
done
CGO_ENABLED=0 go build -tags urfave_cli_no_docs -o /dev/null . || { echo "the recommended build fails"; exit 1; }
echo "lint: all checks passed"

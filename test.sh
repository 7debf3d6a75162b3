#!/usr/bin/env bash
# The project's test command: formatting, vet, the Go suite with -race, the
# integration suite on the built binary, and git's own credential-helper
# suite (t0303) from a newer git when its build is cached
# (scripts/git-suite.sh --build makes it). Maintainer checks (staticcheck,
# cross-builds) are in scripts/lint.sh.
set -euo pipefail
cd "$(dirname "$0")"

echo "== gofmt"
unformatted=$(gofmt -l .)
[ -z "$unformatted" ] || { echo "gofmt would change: $unformatted"; exit 1; }

echo "== go vet"
go vet ./...

echo "== go test -race"
go test -race -count=1 -timeout 30m ./...

echo "== integration"
./integration_test.sh

echo "== git's t0303-credential-external.sh"
scripts/git-suite.sh --if-cached

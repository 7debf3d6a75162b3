#!/usr/bin/env bash
# Benchmarks cryosparc-credential against git credential-store, a floor (a Go
# program that only reads stdin and exits) and cryosparc-tools' load + find
# in Python, in paired runs on this machine. Prints a Markdown table of
# medians, ratios and peak RSS, and writes docs/performance.svg.
#
#   bench/run.sh [RUNS [FLAGS]]  (paired runs per comparison, default 41;
#                                 FLAGS go to bench, e.g. -startup: only
#                                 get of 1 session against the stack floor)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-41}
shift || true
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install time" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The binary as `go build` makes it (cgo on where gcc is, so dynamically
# linked, and with urfave/cli's man-page generator), and as the README's
# recommended build makes it (static, without the generator).
go build -o "$work/cryosparc-credential" .
CGO_ENABLED=0 go build -tags urfave_cli_no_docs -trimpath -o "$work/cryosparc-credential-tuned" .
go build -o "$work/floor" ./bench/floor
CGO_ENABLED=0 go build -tags urfave_cli_no_docs -trimpath -o "$work/stackfloor" ./bench/stackfloor
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr), $(go version | cut -d' ' -f3), $(git --version), $(python3 -c 'import pydantic, sys; print("Python", sys.version.split()[0], "pydantic", pydantic.VERSION)')"
go run ./bench -bin "$work/cryosparc-credential" -tuned "$work/cryosparc-credential-tuned" -floor "$work/floor" -stackfloor "$work/stackfloor" -work "$work" -runs "$runs" -py-runs $(( runs / 4 + 1 )) -svg docs/performance.svg "$@"

#!/usr/bin/env bash
# Times an older commit's binary and this tree's through the same bench
# program, one after the other on this machine, and then the start-up
# comparison of both: the before/after tables of docs/performance.md.
#
#   bench/compare.sh REV [RUNS]     (RUNS paired runs a comparison, default 41)
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:?usage: bench/compare.sh REV [RUNS]}
runs=${2:-41}
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install time" >&2; exit 1; }
work=$(mktemp -d)
trap 'git worktree remove --force "$work/old-src" 2>/dev/null || true; rm -rf "$work"' EXIT
git worktree add -q --detach "$work/old-src" "$rev"
tuned() { CGO_ENABLED=0 go build -C "$1" -tags urfave_cli_no_docs -trimpath -o "$2" .; }
go build -C "$work/old-src" -o "$work/old" . && tuned "$work/old-src" "$work/old-tuned"
go build -o "$work/new" . && tuned . "$work/new-tuned"
go build -o "$work/floor" ./bench/floor
CGO_ENABLED=0 go build -tags urfave_cli_no_docs -trimpath -o "$work/stackfloor" ./bench/stackfloor
go build -o "$work/bench" ./bench
for v in old new; do
	echo "=== $v ($([ $v = old ] && git rev-parse --short "$rev" || echo this tree)) $(date +%T), load $(cut -d' ' -f1 /proc/loadavg)"
	"$work/bench" -bin "$work/$v" -tuned "$work/$v-tuned" -floor "$work/floor" -stackfloor "$work/stackfloor" \
		-work "$work" -runs "$runs" -py-runs $((runs / 4 + 1)) -svg "$work/$v.svg"
done
for v in old new; do
	echo "=== start-up, $v, $(date +%T), load $(cut -d' ' -f1 /proc/loadavg)"
	"$work/bench" -bin "$work/$v" -tuned "$work/$v-tuned" -floor "$work/floor" -stackfloor "$work/stackfloor" \
		-work "$work" -runs 100 -startup -svg "$work/startup.svg"
done

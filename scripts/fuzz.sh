#!/usr/bin/env bash
# Runs every fuzz target for a given time each (default 1m):
#   scripts/fuzz.sh [DURATION]
# A crasher is saved under the package's testdata/fuzz/ and from then on runs
# as a regression test in `go test`.
set -euo pipefail
cd "$(dirname "$0")/.."
time=${1:-1m}
for target in protocol:FuzzRead store:FuzzParse internal/authjson:FuzzRead store:FuzzCanonicalURL store:FuzzParseRecent internal/expiry:FuzzParseExpiry internal/lockfile:FuzzParseHolder internal/renewal:FuzzParseRenewNote internal/text:FuzzSafe internal/text:FuzzURL internal/cmdline:FuzzParseDuration internal/cmdline:FuzzSplitWords helper:FuzzJobTimeLeft; do
	pkg=${target%%:*} fn=${target#*:}
	echo "== $pkg $fn ($time)"
	go test -run='^$' -fuzz="^$fn\$" -fuzztime="$time" "./${pkg#.}"
done

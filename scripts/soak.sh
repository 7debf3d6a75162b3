#!/usr/bin/env bash
# Runs the whole Go suite RUNS times in a row beside HOGS busy CPU loops and
# prints every test that failed, with how often, and anything a run left in
# its TMPDIR. A test that fails here only sometimes is a bug to fix (see
# docs/reliability.md, "A flake is a bug"), never to re-run.
#
#   scripts/soak.sh [-n RUNS] [-k HOGS] [-s] [-- GO_TEST_ARGS...]
#
# -n: runs (default 3)
# -k: CPU hogs (`while :; do :; done`) running through every run (default 3)
# -s: go test -short (the fast suite) instead of the full one
# GO_TEST_ARGS replace the default package list ./... (e.g. -run TestSaveRace ./).
# Runs under CI=true, with -race and -count=1, as CI does. Exit status 1 if
# any run failed or left something behind.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3 hogs=3 short=()
while getopts n:k:s opt; do
	case $opt in
	n) runs=$OPTARG ;; k) hogs=$OPTARG ;; s) short=(-short) ;; *) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ "${1:-}" = -- ] && shift
[ $# -gt 0 ] || set -- ./...
work=$(mktemp -d)
chmod 755 "$work" # the tests run as root hand folders in TMPDIR to other users
hog_pids=()
cleanup() {
	[ ${#hog_pids[@]} -eq 0 ] || kill "${hog_pids[@]}" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 "$hogs"); do
	(while :; do :; done) &
	hog_pids+=($!)
done
echo "soak: $runs runs of go test -race -count=1 ${short[*]} $* beside $hogs CPU hogs on $(nproc) cores"
for run in $(seq 1 "$runs"); do
	tmp=$work/tmp.$run
	mkdir -m 755 -p "$tmp"
	start=$(date +%s)
	status=0
	CI=true TMPDIR=$tmp go test -race -count=1 -timeout 30m -json "${short[@]}" "$@" > "$work/run.$run.json" 2>"$work/run.$run.err" || status=$?
	# What the run left in its TMPDIR (go's own build folder is removed by go).
	left=$(find "$tmp" -mindepth 1 -maxdepth 1 | head -5)
	python3 - "$work/run.$run.json" "$run" "$status" "$(($(date +%s) - start))" "$left" <<'EOF'
import json, sys
path, run, status, secs, left = sys.argv[1:]
fails, skips, output = [], [], {}
for line in open(path, errors="replace"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    name = e.get("Package", "") + (" " + e["Test"] if e.get("Test") else "")
    if e.get("Action") == "output":
        output.setdefault(name, []).append(e.get("Output", ""))
    elif e.get("Action") == "fail":
        fails.append(name)
    elif e.get("Action") == "skip" and e.get("Test"):
        skips.append(name)
print(f"run {run}: exit {status}, {secs} s, {len(fails)} failed, {len(skips)} skipped")
for f in fails:
    print(f"  FAIL {f}")
    if " " in f:  # a test: the end of what it said
        for l in "".join(output.get(f, [])).splitlines()[-8:]:
            print(f"      {l}")
for s in skips:
    print(f"  SKIP {s}")
if left:
    for l in left.splitlines():
        print(f"  LEFT IN TMPDIR {l}")
EOF
	if [ "$status" -ne 0 ] && [ -s "$work/run.$run.err" ]; then
		sed 's/^/  stderr: /' "$work/run.$run.err" | head -20
	fi
done | tee "$work/report"
echo "== failures over $runs runs"
grep -h '^  FAIL\|^  LEFT' "$work/report" | sort | uniq -c | sort -rn || echo "none"
! grep -q '^  FAIL\|^  LEFT\|: exit [1-9]' "$work/report"

#!/usr/bin/env bash
# Stress the guarantees of docs/reliability.md on the built binary, with
# more load than the test suite uses. Prints one line of figures per check.
#
#   scripts/stress.sh [-p PROCS] [-n STORES] [-k KILLS] [-s SESSIONS] [-r RACE_SECONDS] [-w ROUNDS] [-c HOGS] [-m GETS] [-t SAVE_RACE_SECONDS]
#
# -p/-n: PROCS processes each storing STORES sessions at once, while readers
#        loop get (default 64 × 100)
# -k/-s: KILLS kill -9 of a store on a file of SESSIONS sessions (default 200 × 20000)
# -r:    seconds of a Python in-place writer racing get (default 10)
# -w:    rounds of a Python writer that stalls 0.1–1.5 s in the middle of each
#        write while get and store loop (default 30)
# -c:    busy CPU hogs running beside checks 3 and 4 (default: 2 per core)
# -m:    gets, in each of the two modes of the mixed-version reproduction
#        (TestMixedVersionRead: a writer alternating two versions of the
#        file every 8 ms, 4 loops of get, 2 CPU hogs per core; default
#        100000, about 15 minutes a mode on 2 cores; 0 skips it)
# -t:    seconds of cryosparc-tools saves racing 2 store loops and a login
#        loop on 300 sessions (TestSaveRace, long form; default 300; 0 skips
#        it). With CRYOSPARC_TOOLS_SRC naming a checkout of cryosparc-tools,
#        the saves are its own cryosparc/auth.py's.
# Last, TestTruncationGap with a 200,000-session file.
set -euo pipefail
cd "$(dirname "$0")/.."
procs=64 stores=100 kills=200 sessions=20000 race=10 rounds=30 hogs=$((2 * $(nproc))) mixed=100000 saverace=300
while getopts p:n:k:s:r:w:c:m:t: opt; do
	case $opt in
	p) procs=$OPTARG ;; n) stores=$OPTARG ;; k) kills=$OPTARG ;;
	s) sessions=$OPTARG ;; r) race=$OPTARG ;; w) rounds=$OPTARG ;; c) hogs=$OPTARG ;; m) mixed=$OPTARG ;; t) saverace=$OPTARG ;; *) exit 2 ;;
	esac
done
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
bin=$work/cryosparc-credential
go build -o "$bin" .
py="python3 testdata/cstools.py"

# 1. No lost update.
file=$work/concurrent.json
printf 'url=https://cs.example.com\nemail=seed@x\naccess_token=seed\n' | "$bin" --file "$file" store
reader() {
	local reads=0 bad=0
	while [ ! -e "$work/stop" ]; do
		out=$(printf 'url=https://cs.example.com\nemail=seed@x\n' | "$bin" --file "$file" get 2>&1) || bad=$((bad + 1))
		case $out in *access_token=seed*) ;; *) bad=$((bad + 1)) ;; esac
		reads=$((reads + 1))
	done
	echo "$reads $bad" > "$work/reader.$1"
}
reader 1 & reader 2 &
start=$(date +%s%N)
for p in $(seq 1 "$procs"); do
	(
		for i in $(seq 1 "$stores"); do
			printf 'url=https://cs.example.com\nemail=p%s-%s@x\naccess_token=t\nexpires_in=86400\n' "$p" "$i" |
				"$bin" --file "$file" --lock-timeout 300s store || echo "store $p/$i failed" >&2
		done
	) &
done
wait $(jobs -p | tail -n "$procs")
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
touch "$work/stop"; wait
present=$(grep -c '"p[0-9]*-[0-9]*@x"' "$file" || true)
reads=$(cat "$work"/reader.* | awk '{r += $1; b += $2} END {print r " reads, " b " bad"}')
valid=$($py valid "$file" && echo valid || echo INVALID)
echo "no lost update: $procs processes × $stores stores in ${elapsed} ms: $present of $((procs * stores)) present; file $valid for cryosparc-tools; readers: $reads"

# 2. No torn file under kill -9.
file=$work/large.json
go run ./scripts/genfile -n "$sessions" -o "$file"
torn=0 old=0 new=0 maxleft=0
for k in $(seq 1 "$kills"); do
	before=$(sha256sum < "$file")
	printf 'url=https://cs0.example.com\nemail=k%s@x\naccess_token=t\nexpires_in=86400\n' "$k" | "$bin" --file "$file" store &
	pid=$!
	# A random moment in the store's life (it takes 50–150 ms on a file this
	# size here): before, during or after the rename.
	sleep "$(printf '0.%03d' $((RANDOM % 250)))"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	if [ "$(sha256sum < "$file")" == "$before" ]; then
		old=$((old + 1))
	elif grep -q "\"k$k@x\"" "$file" && $py valid "$file"; then
		new=$((new + 1))
	else
		torn=$((torn + 1))
	fi
	left=$(find "$work" -maxdepth 1 -name '.large.json.tmp-*' | wc -l)
	[ "$left" -gt "$maxleft" ] && maxleft=$left
done
echo "no torn file: $kills kills on $sessions sessions: $torn torn, $old old, $new new; at most $maxleft leftover temp file(s) at once"

# 3. In-place writer race, beside busy CPU hogs.
for _ in $(seq 1 "$hogs"); do (while :; do :; done) & done
hogpids=$(jobs -p | tail -n "$hogs")
file=$work/race.json
go run ./scripts/genfile -n 2000 -o "$file"
python3 testdata/inplace_writer.py "$file" "$race" > "$work/rewrites" &
writer=$!
gets=0 failed=0
while kill -0 "$writer" 2>/dev/null; do
	printf 'url=https://cs7.example.com\nemail=user7@example.com\n' | "$bin" --file "$file" get > /dev/null 2>&1 || failed=$((failed + 1))
	gets=$((gets + 1))
done
wait "$writer" || true
echo "in-place writer race ($hogs CPU hogs): $gets gets during $(cat "$work/rewrites") rewrites in ${race}s: $failed failed"

# 4. A writer that stalls mid-write (TestStalledWriter, longer, with stalls
# up to 1.5 s; it runs its own hogs).
kill $hogpids 2>/dev/null || true
STALL_ROUNDS=$rounds STALL_MAX_MS=1500 go test -count=1 -run '^TestStalledWriter$' -v . |
	sed -n 's/.*concurrency_test.go:[0-9]*: /stalled writer: /p'


# 5. A read answers from one version: a writer alternating two versions of
# the file in place (TestMixedVersionRead, long form; it runs its own hogs).
if [ "$mixed" -gt 0 ]; then
	MIXED_GETS=$mixed MIXED_SECONDS=86400 go test -count=1 -timeout 0 -run '^TestMixedVersionRead$' -v . |
		sed -n 's/.*mixed_version_test.go:[0-9]*: /mixed versions: /p'
fi

# 6. cryosparc-tools saves racing stores and logins: nothing lost once one
# more command has run (TestSaveRace, long form).
if [ "$saverace" -gt 0 ]; then
	SAVE_RACE_SECONDS=$saverace go test -count=1 -timeout 0 -run '^TestSaveRace$' -v . |
		sed -n 's/.*save_race_test.go:[0-9]*: \(lost once\)/save race: \1/p'
fi

# 7. A get or store started as a save truncates a large file with old times
# (TestTruncationGap, with 200,000 sessions beside the suite's 20,000).
GAP_LARGE_SESSIONS=200000 go test -count=1 -timeout 0 -run '^TestTruncationGap$' -v . |
	sed -n 's/^    --- \(PASS\|FAIL\): TestTruncationGap\//truncation gap: \1 /p'

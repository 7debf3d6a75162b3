#!/usr/bin/env bash
# Fault injection (docs/reliability.md, "Fault injection"): runs the built
# binary under strace with one system call made to fail, and checks for each
# case the exit status, the session file (byte-identical, or holding the new
# session beside the old one), that no temporary or lock file is left, and
# that nothing stored is lost. Then, with flock refused (each error), WRITERS
# processes × STORES stores at once, every third one with flock working (a
# mixed cluster): every session present. Then a writer killed while it holds
# the lock, and lock files left by a writer of another host.
#
#   scripts/faults.sh [-w WRITERS] [-n STORES]     (default 30 × 10)
#
# Needs strace (and ptrace allowed), python3 with pydantic 2. Prints one
# line per case and "N passed, N failed"; exits 1 on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
writers=30 stores=10
while getopts w:n: opt; do
	case $opt in w) writers=$OPTARG ;; n) stores=$OPTARG ;; *) exit 2 ;; esac
done
command -v strace >/dev/null || { echo "faults.sh needs strace (apt-get install strace)" >&2; exit 1; }
strace -f -qq -o /dev/null true || { echo "strace cannot trace here (ptrace not allowed?)" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
bin=$work/cryosparc-credential
# Static, as released: the dynamic loader's own calls stay out of the faults.
CGO_ENABLED=0 go build -o "$bin" . || exit 1
py="python3 testdata/cstools.py"
passed=0 failed=0
pass() { passed=$((passed + 1)); echo "ok    $1"; }
fail() { failed=$((failed + 1)); echo "FAIL  $1: $2"; }

request() { printf 'url=https://cs.example.com\nemail=%s\naccess_token=%s\nexpires_in=86400\n' "$1" "$2"; }

# leftovers lists what a command must not leave beside the file.
leftovers() {
	find "$(dirname "$1")" -maxdepth 1 \( -name ".$(basename "$1").tmp-*" -o -name "$(basename "$1").lock.*" \) -printf '%f '
}

# case NAME COMMAND WANT_EXIT WANT_FILE OWNER STRACE_ARGS...
#   COMMAND: store (stores new@x) or get (asks for seed@x)
#   WANT_FILE: old (byte-identical) or new (seed@x and new@x, valid)
#   OWNER: root, or nobody (the folder and file are nobody's; run as root)
#   STRACE_ARGS: @F stands for the session file
case_() {
	local name=$1 cmd=$2 want_exit=$3 want_file=$4 owner=$5
	shift 5
	local dir file before code problems="" args=()
	dir=$(mktemp -d "$work/case.XXXX")
	file=$dir/auth.json
	if [ "$owner" = nobody ]; then
		if [ "$(id -u)" != 0 ]; then
			fail "$name" "needs root"
			return
		fi
		chown 65534:65534 "$dir"
	fi
	request seed@x seedtok | "$bin" --file "$file" store || { fail "$name" "seeding the file failed"; return; }
	before=$(sha256sum < "$file")
	for a in "$@"; do args+=("${a//@F/$file}"); done
	if [ "$cmd" = store ]; then
		request new@x newtok > "$dir/in"
	else
		printf 'url=https://cs.example.com\nemail=seed@x\n' > "$dir/in"
	fi
	strace -f -qq -o "$dir/trace" "${args[@]}" "$bin" --file "$file" "$cmd" < "$dir/in" > "$dir/out" 2> "$dir/err"
	code=$?
	grep -q INJECTED "$dir/trace" || problems+="no fault was injected; "
	[ "$code" = "$want_exit" ] || problems+="exit $code, want $want_exit ($(head -c 300 "$dir/err")); "
	case $want_file in
	old) [ "$(sha256sum < "$file")" = "$before" ] || problems+="the file changed; " ;;
	new) grep -q '"seed@x"' "$file" && grep -q '"new@x"' "$file" && $py valid "$file" > /dev/null 2>&1 ||
		problems+="the file does not hold both sessions; " ;;
	esac
	if [ "$cmd" = get ] && [ "$want_exit" = 0 ] && ! grep -q '^access_token=seedtok$' "$dir/out"; then
		problems+="get did not print the token; "
	fi
	left=$(leftovers "$file")
	[ -z "$left" ] || problems+="left behind: $left; "
	if [ -z "$problems" ]; then pass "$name"; else fail "$name" "${problems%; }"; fi
}

echo "== one system call failing"
for e in ENOLCK ENOSYS EOPNOTSUPP EINVAL; do
	case_ "flock → $e (every call): stored" store 0 new root -e trace=flock -e inject=flock:error=$e
done
# store, and get as root, open the session file relative to its folder
# (openat(dirfd, "auth.json")), which strace's -P matches by the name as
# written: so -P names the file both ways. The open faults are injected
# into get; reads (read, pread64) into both.
case_ "openat → ESTALE once on the file: get reads again, answers" get 0 old root -P @F -P auth.json -e trace=openat -e inject=openat:error=ESTALE:when=1
case_ "openat → EIO once on the file: get refuses" get 3 old root -P @F -P auth.json -e trace=openat -e inject=openat:error=EIO:when=1
case_ "read → ESTALE once on the file: read again, stored" store 0 new root -P @F -e trace=read,pread64 -e inject=read,pread64:error=ESTALE:when=1
case_ "read → ESTALE once on the file: get reads again, answers" get 0 old root -P @F -e trace=read,pread64 -e inject=read,pread64:error=ESTALE:when=1
case_ "read → EIO once on the file: refused" store 3 old root -P @F -e trace=read,pread64 -e inject=read,pread64:error=EIO:when=1
case_ "fsync → EIO (the new file): nothing replaced" store 3 old root -e trace=fsync -e inject=fsync:error=EIO:when=1
case_ "fsync → ENOSPC (the new file): nothing replaced" store 3 old root -e trace=fsync -e inject=fsync:error=ENOSPC:when=1
case_ "fsync → EDQUOT (the new file): nothing replaced" store 3 old root -e trace=fsync -e inject=fsync:error=EDQUOT:when=1
# The second fsync is the folder's, after the rename: the new file is in
# place, but the change is reported (exit 3), as it may not survive a crash.
case_ "fsync → EIO (the folder, after the rename): replaced, reported" store 3 new root -e trace=fsync -e inject=fsync:error=EIO:when=2
# The writer stalls 2.5 s in the new file's fsync while every refresh of its
# lock file fails: another host could take the lock, so nothing is replaced.
case_ "utimensat → EIO (the lock file's refresh) during a 2.5 s stall: nothing replaced" store 3 old root -e trace=fsync,utimensat -e inject=fsync:delay_enter=2500000:when=1 -e inject=utimensat:error=EIO
case_ "close → EIO (every call): nothing replaced" store 3 old root -e trace=close -e inject=close:error=EIO
case_ "renameat → EXDEV: nothing replaced" store 3 old root -e trace=rename,renameat,renameat2 -e inject=rename,renameat,renameat2:error=EXDEV
case_ "renameat → EBUSY: nothing replaced" store 3 old root -e trace=rename,renameat,renameat2 -e inject=rename,renameat,renameat2:error=EBUSY
case_ "write → ENOSPC (every call): nothing replaced" store 3 old root -e trace=write -e inject=write:error=ENOSPC
case_ "write → EDQUOT (every call): nothing replaced" store 3 old root -e trace=write -e inject=write:error=EDQUOT
case_ "fchown → EPERM, root on a user's file (the lock file): refused" store 3 old nobody -e trace=fchown -e inject=fchown:error=EPERM:when=1
case_ "fchown → EPERM, root on a user's file (the new file): nothing replaced" store 3 old nobody -e trace=fchown -e inject=fchown:error=EPERM:when=2

echo "== $writers writers × $stores stores at once, flock refused (every third writer's flock works)"
for e in ENOLCK ENOSYS EOPNOTSUPP EINVAL; do
	file=$work/writers-$e/auth.json
	mkdir -p "$(dirname "$file")"
	request seed@x seedtok | "$bin" --file "$file" store
	start=$(date +%s%N)
	for w in $(seq 1 "$writers"); do
		(
			for i in $(seq 1 "$stores"); do
				if [ $((w % 3)) = 0 ]; then
					request "w$w-$i@x" t | "$bin" --file "$file" --lock-timeout 120s store
				else
					request "w$w-$i@x" t | strace -f -qq -o /dev/null -e trace=flock -e inject=flock:error=$e "$bin" --file "$file" --lock-timeout 120s store
				fi || echo "store w$w-$i failed" >&2
			done
		) &
	done
	wait
	ms=$((($(date +%s%N) - start) / 1000000))
	present=$(grep -c '"w[0-9]*-[0-9]*@x"' "$file")
	problems=""
	[ "$present" = $((writers * stores)) ] || problems+="$present of $((writers * stores)) present; "
	grep -q '"seed@x"' "$file" || problems+="the first session was lost; "
	$py valid "$file" > /dev/null 2>&1 || problems+="the file is not valid for cryosparc-tools; "
	left=$(leftovers "$file")
	[ -z "$left" ] || problems+="left behind: $left; "
	name="flock → $e: $present of $((writers * stores)) present in $ms ms"
	if [ -z "$problems" ]; then pass "$name"; else fail "$name" "${problems%; }"; fi
done

echo "== a writer killed while it holds the lock"
for e in ENOSYS none; do
	file=$work/killed-$e/auth.json
	mkdir -p "$(dirname "$file")"
	request seed@x seedtok | "$bin" --file "$file" store
	inject=(-e inject=flock:error=$e)
	[ "$e" = none ] && inject=()
	# The holder stalls 60 s in rename, holding the lock, and is killed there.
	request held@x t | strace -f -qq -o /dev/null -e trace=flock,rename,renameat,renameat2 "${inject[@]}" \
		-e inject=rename,renameat,renameat2:delay_enter=60000000 "$bin" --file "$file" store 2> /dev/null &
	tracer=$!
	pid=""
	for _ in $(seq 1 200); do # at most 10 s
		pid=$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' "$file.lock.held" 2>/dev/null)
		[ -n "$pid" ] && ls "$(dirname "$file")"/.auth.json.tmp-* > /dev/null 2>&1 && break
		sleep 0.05
	done
	problems=""
	if [ -z "$pid" ]; then
		problems+="the holder never took the lock; "
	else
		request early@x t | "$bin" --file "$file" --lock-timeout 0 store 2> /dev/null &&
			problems+="a store went through while the lock was held; "
		kill -9 "$pid"
	fi
	kill -9 "$tracer" 2> /dev/null # it would sit out the delay
	wait "$tracer" 2> /dev/null
	# kill -9 is not instant: the holder is dead once it is gone from
	# /proc (reaped), which a loaded machine may take a while to get to.
	for _ in $(seq 1 200); do # at most 10 s
		[ -n "$pid" ] && [ -e "/proc/$pid" ] || break
		sleep 0.05
	done
	start=$(date +%s%N)
	request after@x t | "$bin" --file "$file" --lock-timeout 0 store || problems+="the next store, trying once, failed; "
	ms=$((($(date +%s%N) - start) / 1000000))
	grep -q '"after@x"' "$file" && grep -q '"seed@x"' "$file" || problems+="a session is missing; "
	left=$(leftovers "$file")
	[ -z "$left" ] || problems+="left behind: $left; "
	name="kill -9 of a holder (flock → $e), same host: the next store, trying once, done in $ms ms"
	if [ -z "$problems" ]; then pass "$name"; else fail "$name" "${problems%; }"; fi
done

echo "== a lock file left by a writer of another host"
for age in 20 31; do
	file=$work/elsewhere-$age/auth.json
	mkdir -p "$(dirname "$file")"
	request seed@x seedtok | "$bin" --file "$file" store
	printf 'pid=4242 host=node7 space=another-boot/4026531836 since=2026-01-01T00:00:00Z nonce=x\n' > "$file.lock.held"
	touch -d "@$(($(date +%s) - age))" "$file.lock.held"
	request new@x t | "$bin" --file "$file" --lock-timeout 0 store 2> "$work/err"
	code=$?
	if [ "$age" -lt 30 ]; then
		want="exit 3 naming the holder, the lock file kept"
		[ "$code" = 3 ] && grep -q "process 4242 on node7" "$work/err" && [ -e "$file.lock.held" ]
	else
		want="exit 0, the lock file taken over"
		[ "$code" = 0 ] && grep -q '"new@x"' "$file" && [ -z "$(leftovers "$file")" ]
	fi && pass "last refreshed ${age} s ago (stale after 30 s): $want" ||
		fail "last refreshed ${age} s ago" "exit $code $(cat "$work/err"), want $want"
done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]

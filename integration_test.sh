#!/usr/bin/env bash
# What needs a shell: the binary in pipelines as scripts use it
# (printf 'url=…\n' | cryosparc-credential get), Python's cryosparc-tools
# model (testdata/cstools.py) and the binary on one file both ways, the
# differential run of random steps against that model, shell completion in
# bash, zsh and fish, and the README's install lines. Everything else (exit codes,
# bad input, links, git's keys, messages) is tested in Go, at its layer.
set -u
cd "$(dirname "$0")"
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bin="$work/cryosparc-credential"
go build -o "$bin" . || { echo "build failed"; exit 1; }
py="python3 $root/testdata/cstools.py"

export CRYOSPARC_AUTH_FILE="$work/home/.config/cryosparc-tools/auth.json"
export HOME="$work/home" XDG_CONFIG_HOME=
unset CRYOSPARC_EMAIL CRYOSPARC_PASSWORD
file=$CRYOSPARC_AUTH_FILE

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
# check NAME EXPECTED ACTUAL
check() { if [ "$2" == "$3" ]; then ok; else bad "$1: expected [$2], got [$3]"; fi; }
# run STDIN ARGS...: sets out, err, rc
run() {
	local in=$1; shift
	out=$(printf '%b' "$in" | "$bin" "$@" 2>"$work/stderr"); rc=$?
	err=$(cat "$work/stderr")
}
hash_of() { if [ -e "$1" ]; then sha256sum < "$1"; else echo none; fi; }
future=$(date -u -d '+30 days' +%Y-%m-%dT%H:%M:%SZ)

# --- store, then get, as a script would ---
run "url=https://cryosparc.example.com\nemail=ali@example.com\naccess_token=abc123\nexpires=$future\n" store
check "store exit" 0 "$rc"
check "store prints nothing" "" "$out$err"
check "file mode" 600 "$(stat -c %a "$file")"
check "folder mode" 700 "$(stat -c %a "$(dirname "$file")")"
run "url=https://cryosparc.example.com\nemail=ali@example.com\n" get
check "get exit" 0 "$rc"
check "get output" "url=https://cryosparc.example.com
email=ali@example.com
access_token=abc123
token_type=bearer
expires=$future" "$out"
token=$(printf 'url=https://cryosparc.example.com\n' | "$bin" get | sed -n 's/^access_token=//p')
check "token for curl" abc123 "$token"

# --- Python writes, the binary reads ---
rm -f "$file"
$py insert "$file" "https://py.example.com" "bo@example.com" "py-token" "2099-06-07T08:09:10.5+02:00"
run "url=https://py.example.com\n" get
check "reads Python's file" "url=https://py.example.com
email=bo@example.com
access_token=py-token
token_type=bearer
expires=2099-06-07T08:09:10.500000+02:00" "$out"

# --- the binary writes, Python's load + save gives the same bytes ---
run "url=https://second.example.com:443/\nemail=é@例え.jp\naccess_token=t\\\\\"ok\\\\\"\u2028\nexpires=2099-01-01T00:00:00.1234567-05:30\n" store
check "store unicode exit" 0 "$rc"
cp "$file" "$work/ours.json"
$py roundtrip "$file"
check "Python load+save is byte-identical" "$(hash_of "$work/ours.json")" "$(hash_of "$file")"
check "Python accepts the file" 0 "$($py valid "$file"; echo $?)"
check "Python finds our session" "$(printf 'url=https://second.example.com\nemail=é@例え.jp\naccess_token=t\\"ok\\"\u2028\nexpires=2099-01-01T00:00:00.123456-05:30')" "$($py find "$file" https://second.example.com)"
check "no trailing newline" "}" "$(tail -c 1 "$file")"

# --- random store/get/erase steps against the model of cryosparc-tools ---
seed=${DIFF_SEED:-20261128} # fixed, so that CI is repeatable; DIFF_SEED=$RANDOM explores
if out=$(python3 "$root/testdata/differential.py" "$bin" "${DIFF_STEPS:-400}" "$seed" 2>&1); then ok; else bad "differential (seed $seed): $out"; fi

# --- shell completion, bash and a real zsh ---
complete_bash() { # words...; the last is the one completed
	bash -c 'source completion/cryosparc-credential.bash; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _cryosparc_credential; echo "${COMPREPLY[*]}"' _ "$@"
}
check "bash completion of lo" "login logout" "$(complete_bash cryosparc-credential lo)"
check "bash completion of login flags" "--email --expires" "$(complete_bash cryosparc-credential login --e)"
check "bash completion of token's flags" "--email --file --header --lock-timeout --min-ttl --url --help" "$(complete_bash cryosparc-credential token --)"
check "bash completion of help topics" "get store erase login exec logout token status list doctor" "$(complete_bash cryosparc-credential help '')"
check "bash completion after a global flag" "--email --file --json --lock-timeout --url --help" "$(complete_bash cryosparc-credential --file x.json list --)"
check "bash completion of --file is file names" "completion/cryosparc-credential.bash" "$(complete_bash cryosparc-credential --file completion/cryosparc-credential.b)"
# --url and --email complete from the stored sessions (never a token), as
# bash splits a URL at ':' (COMP_LINE/COMP_POINT as bash sets them).
vals=$work/values.json
printf 'url=https://cs.example.com:8443\nemail=ali@example.com\naccess_token=never-shown\n' | "$bin" --file "$vals" store
printf 'url=http://lab:39000\nemail=bo@example.com\naccess_token=never-shown\n' | "$bin" --file "$vals" store
complete_line() { # the line up to the cursor; words split as bash splits them
	PATH="$work:$PATH" bash -c 'source completion/cryosparc-credential.bash; COMP_LINE=$1; COMP_POINT=${#1}; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _cryosparc_credential; echo "${COMPREPLY[*]}"' _ "$@"
}
check "bash completion of --url from the sessions" "https://cs.example.com:8443 http://lab:39000" \
	"$(complete_line "cryosparc-credential --file $vals token --url " cryosparc-credential --file "$vals" token --url '')"
check "bash completion of --url after the scheme's ':'" "//cs.example.com:8443" \
	"$(complete_line "cryosparc-credential --file $vals token --url https://c" cryosparc-credential --file "$vals" token --url https : //c)"
check "bash completion of --email from the sessions" "bo@example.com" \
	"$(complete_line "cryosparc-credential --file $vals exec --email b" cryosparc-credential --file "$vals" exec --email b)"
if command -v zsh >/dev/null; then
	check "zsh completion of token's flags" "--email --file --header --help --lock-timeout --min-ttl --url" \
		"$(zsh -f testdata/zsh_completion.zsh completion/cryosparc-credential.bash cryosparc-credential token --)"
	check "zsh completion of st" "status store" "$(zsh -f testdata/zsh_completion.zsh completion/cryosparc-credential.bash cryosparc-credential st)"
	check "zsh completion of --url from the sessions" "https://cs.example.com:8443" \
		"$(PATH="$work:$PATH" zsh -f testdata/zsh_completion.zsh completion/cryosparc-credential.bash cryosparc-credential --file "$vals" token --url https://c)"
	# The packages' file: _cryosparc-credential on zsh's $fpath.
	check "zsh completion from \$fpath of token's flags" "first (_cryosparc-credential): --email --file --header --help --lock-timeout --min-ttl --url
later (_bash_complete -o bashdefault -o default -F _cryosparc_credential): --email --file --header --help --lock-timeout --min-ttl --url" \
		"$(zsh -f testdata/zsh_fpath_completion.zsh completion cryosparc-credential token --)"
	check "zsh completion from \$fpath of --email from the sessions" "first (_cryosparc-credential): bo@example.com
later (_bash_complete -o bashdefault -o default -F _cryosparc_credential): bo@example.com" \
		"$(PATH="$work:$PATH" zsh -f testdata/zsh_fpath_completion.zsh completion cryosparc-credential --file "$vals" exec --email b)"
elif [ "${CI:-}" = true ]; then bad "zsh is needed under CI"; else echo "skip: zsh not installed"; fi
if command -v fish >/dev/null; then
	# In an empty folder: urfave/cli's script lets fish offer file names
	# beside the commands.
	mkdir -p "$work/fish"
	complete_fish() { # the command line up to the cursor
		(cd "$work/fish" && fish --no-config -c 'source $argv[1]; complete -C $argv[2]' "$root/completion/cryosparc-credential.fish" "$1") |
			cut -f1 | sort | tr '\n' ' ' | sed 's/ $//'
	}
	check "fish completion of lo" "login logout" "$(complete_fish "cryosparc-credential lo")"
	check "fish completion of token's flags" "--email --file --header --help --lock-timeout --min-ttl --url" "$(complete_fish "cryosparc-credential token --")"
	check "fish completion of the global flags" "--file --help --lock-timeout --version" "$(complete_fish "cryosparc-credential --")"
elif [ "${CI:-}" = true ]; then bad "fish is needed under CI"; else echo "skip: fish not installed"; fi

# --- the README's install lines, in a throw-away HOME ---
home=$work/home
mkdir -p "$home"
sed -n '/<!-- install-from-clone -->/,/<!-- \/install-from-clone -->/p' README.md | sed '1,2d;$d' | sed '$d' > "$work/install.sh"
if (export HOME=$home GOCACHE=$(go env GOCACHE) GOMODCACHE=$(go env GOMODCACHE) PATH="$home/go/bin:$PATH" && bash "$work/install.sh" >/dev/null 2>&1); then ok; else bad "the README's install line failed"; fi
found=$(HOME=$home PATH="$home/go/bin:$PATH" bash -c 'command -v cryosparc-credential')
check "installed on the PATH the README names" "$home/go/bin/cryosparc-credential" "$found"
check "the installed binary runs" 0 "$(HOME=$home "$home/go/bin/cryosparc-credential" --version >/dev/null; echo $?)"
if command -v man >/dev/null; then
	check "man finds the page beside the binary" "$home/go/share/man/man1/cryosparc-credential.1" \
		"$(HOME=$home PATH="$home/go/bin:/usr/bin:/bin" man -w cryosparc-credential 2>&1)"
	# The archive lines: ~/.local/bin and ~/.local/share/man.
	mkdir -p "$home/.local/bin" "$home/.local/share/man/man1"
	cp "$bin" "$home/.local/bin/" && cp docs/cryosparc-credential.1 "$home/.local/share/man/man1/"
	check "man finds the page of an archive install" "$home/.local/share/man/man1/cryosparc-credential.1" \
		"$(HOME=$home PATH="$home/.local/bin:/usr/bin:/bin" man -w cryosparc-credential 2>&1)"
elif [ "${CI:-}" = true ]; then bad "man is needed under CI"; else echo "skip: man not installed"; fi

echo "integration: $pass passed, $fail failed"
[ "$fail" == 0 ]

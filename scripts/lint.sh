#!/usr/bin/env bash
# Maintainer checks, beside ./test.sh: staticcheck (built from source the
# first time: minutes on a cold cache), errcheck, vet and builds for every
# release target, the release built twice in two folders (byte-identical), its
# archives and .deb/.rpm packages checked (the amd64 .deb installed with
# dpkg -i and removed, as root), and the README's recommended build.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

echo "== errcheck: no error dropped but the cleanup closes and removes of scripts/errcheck-excludes.txt"
# Built for this machine, run on each OS's files (GOOS for the checker
# only); test files aside.
for os in linux darwin windows; do
	go run -exec "env GOOS=$os" github.com/kisielk/errcheck@v1.30.0 -ignoretests -exclude scripts/errcheck-excludes.txt ./... ||
		{ echo "errcheck ($os files): an error is dropped above; handle it, or discard it as _ = f() with the reason"; exit 1; }
done

echo "== release: built twice, in two folders, byte-identical"
# Two copies of the tree as it is (committed or not, without .git: the
# commit's time comes in SOURCE_DATE_EPOCH), in folders of different names
# and depths, the second built under another umask and time zone.
started=$SECONDS
work=$(mktemp -d)
installed=""
cleanup() {
	[ -z "$installed" ] || dpkg -r cryosparc-credential >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
export SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)
copy() { # DEST: the tracked and untracked (not ignored) files that exist
	mkdir -p "$1"
	git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
		if [ -f "$f" ]; then printf '%s\0' "$f"; fi
	done | tar --null -T - -cf - | tar -xf - -C "$1"
}
copy "$work/a/cryosparc-credential"
copy "$work/second/build/tree"
chmod -R go-rwx "$work/second" # modes that the release must not carry over
mkdir "$work/dist-a" "$work/dist-b"
"$work/a/cryosparc-credential/scripts/release.sh" v0.0.0-lint "$work/dist-a" 2>&1 | sed 's/^/  a: /'
(umask 077 && TZ=Pacific/Auckland "$work/second/build/tree/scripts/release.sh" v0.0.0-lint "$work/dist-b" 2>&1 | sed 's/^/  b: /')
diff "$work/dist-a/SHA256SUMS" "$work/dist-b/SHA256SUMS" ||
	{ echo "two builds of one tree differ (above: the SHA256SUMS of each)"; exit 1; }
(cd "$work/dist-a" && sha256sum -c --quiet SHA256SUMS) || { echo "SHA256SUMS does not match the files"; exit 1; }
(cd "$work/dist-b" && sha256sum -c --quiet SHA256SUMS) || { echo "SHA256SUMS does not match the files (second build)"; exit 1; }
dist=$work/dist-a
[ "$(ls "$dist" | grep -cv '^SHA256SUMS$')" = "$(grep -c . "$dist/SHA256SUMS")" ] ||
	{ echo "SHA256SUMS does not cover every file"; exit 1; }
for kind in tar.gz:4 zip:2 deb:2 rpm:2; do
	n=$(ls "$dist" | grep -c "\.${kind%:*}\$" || true)
	[ "$n" = "${kind#*:}" ] || { echo "expected ${kind#*:} .${kind%:*} files, found $n"; exit 1; }
done
echo "release: two folders, identical SHA256SUMS over $(grep -c . "$dist/SHA256SUMS") files ($((SECONDS - started)) s)"

echo "== release archives, checked"
inside="cryosparc-credential cryosparc-credential.1 README.md cryosparc-credential.bash cryosparc-credential.zsh _cryosparc-credential cryosparc-credential.fish"
for a in "$dist"/*.tar.gz; do
	list=$(tar -tzf "$a")
	for f in $inside; do
		grep -q "/$f\$" <<<"$list" || { echo "$a lacks $f"; exit 1; }
	done
done
for a in "$dist"/*.zip; do
	list=$(unzip -Z1 "$a")
	for f in $inside; do
		[ "$f" = cryosparc-credential ] && f=cryosparc-credential.exe
		grep -q "/$f\$" <<<"$list" || { echo "$a lacks $f"; exit 1; }
	done
done
tar -C "$dist" -xzf "$dist/cryosparc-credential_v0.0.0-lint_linux_amd64.tar.gz"
got=$("$dist/cryosparc-credential_v0.0.0-lint_linux_amd64/cryosparc-credential" --version)
case $got in *"v0.0.0-lint (go"*) ;; *) echo "the linux/amd64 binary says: $got"; exit 1 ;; esac
grep -q "not a dynamic" <<<"$(ldd "$dist/cryosparc-credential_v0.0.0-lint_linux_amd64/cryosparc-credential" 2>&1)" ||
	{ echo "the linux/amd64 binary is not static"; exit 1; }
echo "release archives: each holds the binary, README, man page and completions; $got"

echo "== .deb and .rpm packages, checked"
started=$SECONDS
# files PATHS...: the package's files, one a line, sorted (directories left out).
files() { printf '%s\n' "$@" | sort; }
deb_files=$(files /usr/bin/cryosparc-credential /usr/share/man/man1/cryosparc-credential.1.gz \
	/usr/share/bash-completion/completions/cryosparc-credential /usr/share/zsh/vendor-completions/_cryosparc-credential \
	/usr/share/fish/vendor_completions.d/cryosparc-credential.fish)
rpm_files=${deb_files/\/usr\/share\/zsh\/vendor-completions/\/usr\/share\/zsh\/site-functions}
need() { # TOOL: skip a check without it locally, fail under CI
	command -v "$1" >/dev/null && return 0
	[ "${CI:-}" = true ] && { echo "$1 is needed under CI"; exit 1; }
	echo "skip: $1 not installed"
	return 1
}
if need dpkg-deb; then
	for arch in amd64 arm64; do
		deb=$dist/cryosparc-credential_v0.0.0-lint_linux_$arch.deb
		got=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print substr($6, 2)}' | sort)
		[ "$got" = "$deb_files" ] || { echo "$deb holds:"; echo "$got"; echo "expected:"; echo "$deb_files"; exit 1; }
		info=$(dpkg-deb -f "$deb" Package Version Architecture Depends)
		[ "$info" = "Package: cryosparc-credential
Version: 0.0.0~lint
Architecture: $arch" ] || { echo "$deb: $info"; exit 1; }
	done
fi
if need rpm; then
	for arch in amd64 arm64; do
		r=$dist/cryosparc-credential_v0.0.0-lint_linux_$arch.rpm
		got=$(rpm -qlp "$r" 2>/dev/null | sort)
		[ "$got" = "$rpm_files" ] || { echo "$r holds:"; echo "$got"; echo "expected:"; echo "$rpm_files"; exit 1; }
		want=x86_64; [ $arch = arm64 ] && want=aarch64
		info=$(rpm -qp --qf '%{NAME} %{VERSION} %{ARCH}' "$r" 2>/dev/null)
		[ "$info" = "cryosparc-credential 0.0.0~lint $want" ] || { echo "$r: $info"; exit 1; }
		[ -z "$(rpm -qp --requires "$r" 2>/dev/null | grep -v '^rpmlib(')" ] || { echo "$r has dependencies"; exit 1; }
	done
fi
# Install the amd64 .deb for real (root only: CI is root), use it, remove it.
if [ "$(id -u)" != 0 ]; then
	[ "${CI:-}" = true ] && { echo "root is needed under CI, for dpkg -i"; exit 1; }
	echo "skip: dpkg -i needs root"
elif dpkg -s cryosparc-credential >/dev/null 2>&1 || [ -e /usr/bin/cryosparc-credential ]; then
	[ "${CI:-}" = true ] && { echo "cryosparc-credential is installed already: cannot check dpkg -i"; exit 1; }
	echo "skip: cryosparc-credential is installed already (dpkg -i would replace it)"
elif need dpkg && need man && need zsh && need fish; then
	deb=$dist/cryosparc-credential_v0.0.0-lint_linux_amd64.deb
	# Each folder the package holds that is not there yet must be gone after.
	new_dirs=$(dpkg-deb -c "$deb" | awk '$1 ~ /^d/ {d = substr($6, 2); sub("/$", "", d); if (d != "") print d}' |
		while read -r d; do [ -d "$d" ] || echo "$d"; done)
	dpkg -i "$deb" >/dev/null
	installed=yes
	got=$(cryosparc-credential --version)
	case $got in *"v0.0.0-lint (go"*) ;; *) echo "the installed binary says: $got"; exit 1 ;; esac
	[ "$(command -v cryosparc-credential)" = /usr/bin/cryosparc-credential ] || { echo "not /usr/bin/cryosparc-credential"; exit 1; }
	got=$(man -w cryosparc-credential)
	[ "$got" = /usr/share/man/man1/cryosparc-credential.1.gz ] || { echo "man -w: $got"; exit 1; }
	[ "$(man cryosparc-credential 2>/dev/null | grep -c 'EXIT STATUS')" -ge 1 ] || { echo "man does not show the page"; exit 1; }
	# Each shell finds its completion where the package put it, by itself.
	if [ -f /usr/share/bash-completion/bash_completion ]; then
		got=$(bash -c 'source /usr/share/bash-completion/bash_completion; _completion_loader cryosparc-credential; complete -p cryosparc-credential')
		[[ $got == *"-F _cryosparc_credential cryosparc-credential" ]] || { echo "bash-completion does not load it: $got"; exit 1; }
	elif [ "${CI:-}" = true ]; then echo "bash-completion is needed under CI"; exit 1; fi
	zsh -fc 'print -l $fpath' | grep -x /usr/share/zsh/vendor-completions >/dev/null || { echo "zsh does not read vendor-completions"; exit 1; }
	got=$(zsh -f testdata/zsh_fpath_completion.zsh /usr/share/zsh/vendor-completions cryosparc-credential st | tail -1)
	[ "$got" = "later (_bash_complete -o bashdefault -o default -F _cryosparc_credential): status store" ] || { echo "zsh: $got"; exit 1; }
	mkdir -p "$work/fishhome"
	got=$(cd "$work/fishhome" && HOME=$work/fishhome XDG_CONFIG_HOME=$work/fishhome/.config XDG_DATA_HOME=$work/fishhome/.local/share \
		fish -c 'complete -C "cryosparc-credential tok"' | cut -f1)
	[ "$got" = token ] || { echo "fish: $got"; exit 1; }
	dpkg -r cryosparc-credential >/dev/null
	installed=""
	for f in $deb_files $new_dirs; do
		[ ! -e "$f" ] || { echo "dpkg -r left $f"; exit 1; }
	done
	! dpkg -s cryosparc-credential >/dev/null 2>&1 || { echo "dpkg -r left the package installed"; exit 1; }
	echo "packages: dpkg -i installs, --version, man -w, bash/zsh/fish completion work; dpkg -r removes every file and new folder"
fi
echo "packages: the .deb and .rpm of each arch list the binary, man page and completions ($((SECONDS - started)) s)"

echo "== vet for each OS (tests included)"
for os in darwin windows; do
	GOOS=$os CGO_ENABLED=0 go vet ./... || { echo "vet failed for $os"; exit 1; }
done
CGO_ENABLED=0 go build -tags urfave_cli_no_docs -o /dev/null . || { echo "the recommended build fails"; exit 1; }
echo "lint: all checks passed"

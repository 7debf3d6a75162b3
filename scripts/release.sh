#!/usr/bin/env bash
# Builds every release file into OUTDIR, reproducibly: the same commit built
# in any folder, by anyone, gives byte-identical files (docs/release.md).
#
#   scripts/release.sh VERSION [OUTDIR]     (OUTDIR default: dist; must be empty)
#
# - cryosparc-credential_VERSION_OS_ARCH.tar.gz (.zip for windows) for linux,
#   darwin and windows × amd64 and arm64: a static, version-stamped binary
#   with the README, the man page and the shell completions, in one folder
#   of the archive's name;
# - cryosparc-credential_VERSION_linux_ARCH.deb and .rpm for amd64 and
#   arm64, made by nfpm (tools/go.mod pins it): /usr/bin/cryosparc-credential,
#   the man page and the bash, zsh and fish completions where each system
#   looks for them;
# - SHA256SUMS, of every other file in OUTDIR.
#
# What makes it reproducible: the Go toolchain named in go.mod (GOTOOLCHAIN),
# -trimpath, no build ID and no VCS stamp; every time is SOURCE_DATE_EPOCH,
# the commit's time (outside a git checkout, SOURCE_DATE_EPOCH must be set);
# tar entries sorted, with owner root and normalised modes; gzip without
# name or time; zip entries sorted, without extra fields, times in UTC.
# Needs Go (it fetches the pinned toolchain when the local one differs),
# git, GNU tar, gzip, zip, sha256sum.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd -P)
version=${1:?usage: scripts/release.sh VERSION [OUTDIR]}
out=${2:-dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)
[ -z "$(ls -A "$out")" ] || { echo "release: $out is not empty (SHA256SUMS covers every file in it)" >&2; exit 2; }

# Package metadata.
maintainer="cryosparc-credential maintainers <maintainers@users.noreply.r-seed-abd5a1bc.example>"
homepage=https://github.com/cryosparc-credential/cryosparc-credential
# TODO(licence): the repository has no LICENSE file yet; the maintainers
# choose one, then this becomes its SPDX identifier.
license=LicenseRef-undecided
summary="Serves CryoSPARC session tokens from cryosparc-tools' session file"
description="One static binary that keeps CryoSPARC login sessions in the same JSON
file as cryosparc-tools and serves their tokens to shell scripts, pipelines,
programs in other languages and git, over a git-credential-style key=value
protocol on stdin and stdout."

# The inputs that decide the bytes.
toolchain=$(sed -n 's/^toolchain //p' go.mod)
[ -n "$toolchain" ] || { echo "release: go.mod names no toolchain" >&2; exit 1; }
export GOTOOLCHAIN=$toolchain
if top=$(git rev-parse --show-toplevel 2>/dev/null) && [ "$(cd "$top" && pwd -P)" = "$root" ]; then
	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)
	[ -z "$(git status --porcelain)" ] ||
		echo "release: warning: the work tree has uncommitted changes; these files are not the commit's" >&2
elif [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	echo "release: not a git checkout: set SOURCE_DATE_EPOCH to the commit's time (git log -1 --format=%ct)" >&2
	exit 2
fi
export SOURCE_DATE_EPOCH TZ=UTC LC_ALL=C
export GOFLAGS=-mod=readonly GOAMD64=v1 GOARM64=v8.0 GOEXPERIMENT= CGO_ENABLED=0
umask 022

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
stamp() { find "$@" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +; }

# The shared files, with normalised modes and times.
mkdir -p "$stage/share"
cp README.md docs/cryosparc-credential.1 completion/cryosparc-credential.bash completion/cryosparc-credential.zsh \
	completion/_cryosparc-credential completion/cryosparc-credential.fish "$stage/share/"
gzip -n -9 -c docs/cryosparc-credential.1 >"$stage/share/cryosparc-credential.1.gz"
chmod 0644 "$stage"/share/*

# nfpm, built from tools/go.mod's pinned version (once a minute or so, then cached).
go -C tools build -trimpath -o "$stage/nfpm" github.com/goreleaser/nfpm/v2/cmd/nfpm

# package FORMAT ARCH BINARY: the .deb or .rpm for linux/ARCH.
package() {
	local format=$1 arch=$2 bin=$3 zsh=/usr/share/zsh/vendor-completions
	# zsh's system completions: Debian's zsh reads vendor-completions,
	# Fedora's and RHEL's site-functions; neither reads the other's.
	[ "$format" = rpm ] && zsh=/usr/share/zsh/site-functions
	local config=$stage/nfpm-$format-$arch.yaml
	cat >"$config" <<EOF
name: cryosparc-credential
arch: $arch
platform: linux
version: $version
section: utils
priority: optional
maintainer: $maintainer
homepage: $homepage
license: $license
description: |
$(sed 's/^/  /' <<<"$summary
$description")
rpm:
  summary: $summary
  group: Applications/System
  buildhost: reproducible
contents:
  - src: $bin
    dst: /usr/bin/cryosparc-credential
    file_info: {mode: 0755}
  - src: $stage/share/cryosparc-credential.1.gz
    dst: /usr/share/man/man1/cryosparc-credential.1.gz
    file_info: {mode: 0644}
  - src: $stage/share/cryosparc-credential.bash
    dst: /usr/share/bash-completion/completions/cryosparc-credential
    file_info: {mode: 0644}
  - src: $stage/share/_cryosparc-credential
    dst: $zsh/_cryosparc-credential
    file_info: {mode: 0644}
  - src: $stage/share/cryosparc-credential.fish
    dst: /usr/share/fish/vendor_completions.d/cryosparc-credential.fish
    file_info: {mode: 0644}
EOF
	"$stage/nfpm" package --config "$config" --packager "$format" \
		--target "$out/cryosparc-credential_${version}_linux_${arch}.$format" >/dev/null
}

for target in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64; do
	os=${target%/*} arch=${target#*/}
	name=cryosparc-credential_${version}_${os}_${arch}
	dir=$stage/$name
	mkdir -p "$dir"
	exe=cryosparc-credential
	[ "$os" = windows ] && exe=cryosparc-credential.exe
	GOOS=$os GOARCH=$arch go build -tags urfave_cli_no_docs -trimpath -buildvcs=false \
		-ldflags "-s -w -buildid= -X main.version=$version" -o "$dir/$exe" .
	cp "$stage"/share/{README.md,cryosparc-credential.1,cryosparc-credential.bash,cryosparc-credential.zsh,_cryosparc-credential,cryosparc-credential.fish} "$dir/"
	chmod 0755 "$dir" "$dir/$exe"
	stamp "$dir"
	if [ "$os" = windows ]; then
		(cd "$stage" && find "$name" | sort | zip -X -q "$out/$name.zip" -@)
	else
		tar -C "$stage" --format=gnu --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
			--mode=u=rwX,go=rX -cf - "$name" | gzip -n -9 >"$out/$name.tar.gz"
	fi
	if [ "$os" = linux ]; then
		package deb "$arch" "$dir/$exe"
		package rpm "$arch" "$dir/$exe"
	fi
done
(cd "$out" && find . -maxdepth 1 -type f ! -name SHA256SUMS -printf '%P\n' | sort | xargs sha256sum >SHA256SUMS)
echo "release: $(grep -c . "$out/SHA256SUMS") files and SHA256SUMS in $out ($toolchain, SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"

#!/usr/bin/env bash
# Builds the release archives: a static, version-stamped binary for linux,
# darwin and windows × amd64 and arm64, each archived with the README, the
# man page and the shell completions, and a SHA256SUMS file.
#
#   scripts/release.sh VERSION [OUTDIR]     (OUTDIR default: dist)
#
# Archives: cryosparc-credential_VERSION_OS_ARCH.tar.gz (.zip for windows),
# each unpacking to one folder of that name. Needs Go, tar, zip, sha256sum.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:?usage: scripts/release.sh VERSION [OUTDIR]}
out=${2:-dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
for target in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64; do
	os=${target%/*} arch=${target#*/}
	name=cryosparc-credential_${version}_${os}_${arch}
	dir=$stage/$name
	mkdir -p "$dir"
	exe=cryosparc-credential
	[ "$os" = windows ] && exe=cryosparc-credential.exe
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -tags urfave_cli_no_docs -trimpath \
		-ldflags "-s -w -X main.version=$version" -o "$dir/$exe" .
	cp README.md docs/cryosparc-credential.1 completion/cryosparc-credential.bash completion/cryosparc-credential.zsh "$dir/"
	if [ "$os" = windows ]; then
		(cd "$stage" && zip -qr "$out/$name.zip" "$name")
	else
		tar -C "$stage" -czf "$out/$name.tar.gz" --owner=0 --group=0 "$name"
	fi
done
(cd "$out" && sha256sum cryosparc-credential_"${version}"_* > SHA256SUMS)
echo "release: $(ls "$out" | grep -c "cryosparc-credential_${version}_") archives and SHA256SUMS in $out"

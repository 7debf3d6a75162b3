#!/usr/bin/env bash
# Maintainer checks, beside ./test.sh: staticcheck (built from source the
# first time: minutes on a cold cache), vet and builds for every release
# target, and the README's recommended build.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

echo "== release archives (every target), checked"
dist=$(mktemp -d)
trap 'rm -rf "$dist"' EXIT
scripts/release.sh v0.0.0-lint "$dist"
(cd "$dist" && sha256sum -c --quiet SHA256SUMS) || { echo "SHA256SUMS does not match"; exit 1; }
for a in "$dist"/*.tar.gz; do
	list=$(tar -tzf "$a")
	for f in cryosparc-credential cryosparc-credential.1 README.md cryosparc-credential.bash cryosparc-credential.zsh; do
		grep -q "/$f\$" <<<"$list" || { echo "$a lacks $f"; exit 1; }
	done
done
for a in "$dist"/*.zip; do
	grep -q "/cryosparc-credential.exe\$" <<<"$(unzip -Z1 "$a")" || { echo "$a lacks the binary"; exit 1; }
done
archives=$(ls "$dist"/*.tar.gz "$dist"/*.zip | wc -l)
tar -C "$dist" -xzf "$dist/cryosparc-credential_v0.0.0-lint_linux_amd64.tar.gz"
got=$("$dist/cryosparc-credential_v0.0.0-lint_linux_amd64/cryosparc-credential" --version)
case $got in *"v0.0.0-lint (go"*) ;; *) echo "the linux/amd64 binary says: $got"; exit 1 ;; esac
grep -q "not a dynamic" <<<"$(ldd "$dist/cryosparc-credential_v0.0.0-lint_linux_amd64/cryosparc-credential" 2>&1)" ||
	{ echo "the linux/amd64 binary is not static"; exit 1; }
echo "release archives: $archives, SHA256SUMS checks, each holds the binary, README, man page and completions; $got"

echo "== vet for each OS (tests included)"
for os in darwin windows; do
	GOOS=$os CGO_ENABLED=0 go vet ./... || { echo "vet failed for $os"; exit 1; }
done
CGO_ENABLED=0 go build -tags urfave_cli_no_docs -o /dev/null . || { echo "the recommended build fails"; exit 1; }
echo "lint: all checks passed"

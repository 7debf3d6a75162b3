module github.com/cryosparc-credential/cryosparc-credential

go 1.26.0

// The release build (scripts/release.sh) runs exactly this toolchain, so that
// its files are byte-identical wherever they are built.
toolchain go1.26.8

require (
	github.com/adrg/xdg v0.5.3
	github.com/creack/pty v1.1.24
	github.com/gofrs/flock v0.13.2
	github.com/urfave/cli/v2 v2.27.7
	golang.org/x/sys v0.50.0
	golang.org/x/term v0.48.0
)

require (
	github.com/cpuguy83/go-md2man/v2 v2.0.7 // indirect
	github.com/russross/blackfriday/v2 v2.1.0 // indirect
	github.com/xrash/smetrics v0.0.0-20240521201337-686a1a2994c1 // indirect
)

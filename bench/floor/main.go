// Command floor reads standard input and exits: the least a Go credential
// helper can cost, the baseline of the benchmark.
package main

import (
	"io"
	"os"
)

func main() {
	_, _ = io.Copy(io.Discard, os.Stdin) // the baseline reads its input and ignores it, as a helper that cannot fail
}

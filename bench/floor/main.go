// Command floor reads standard input and exits: the least a Go credential
// helper can cost, the baseline of the benchmark.
package main

import (
	"io"
	"os"
)

func main() {
	io.Copy(io.Discard, os.Stdin)
}

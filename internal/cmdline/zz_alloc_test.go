package cmdline

import (
	"bytes"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
)

func TestZZAlloc(t *testing.T) {
	in, _ := os.ReadFile("/tmp/su/in.txt")
	runtime.GC()
	runtime.MemProfileRate = 1
	var out bytes.Buffer
	code := Run([]string{"x", "--file", "/tmp/su/auth.json", "get"}, Env{Stdin: strings.NewReader(string(in)), Stdout: &out, Stderr: io.Discard, Lookup: os.LookupEnv, Now: time.Now})
	runtime.MemProfileRate = 0
	runtime.GC()
	f, _ := os.Create("/tmp/su/mem.pprof")
	pprof.Lookup("allocs").WriteTo(f, 0)
	f.Close()
	t.Log(code, out.String())
}

// Command genfile writes a valid session file of n sessions, for the stress
// and benchmark scripts, in cryosparc-tools' layout.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/store"
)

func main() {
	n := flag.Int("n", 1000, "number of sessions")
	instances := flag.Int("instances", 50, "number of instances the sessions are spread over")
	out := flag.String("o", "auth.json", "file to write")
	flag.Parse()
	// Compact JSON, grouped by instance, read back and written in the
	// canonical layout: linear in n, whatever the number of instances.
	expires := time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339)
	var b strings.Builder
	b.WriteString("{")
	for in := 0; in < *instances && in < max(*n, 1); in++ {
		if in > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"https://cs%d.example.com":{`, in)
		first := true
		for i := in; i < *n; i += *instances {
			if !first {
				b.WriteString(",")
			}
			first = false
			fmt.Fprintf(&b, `"user%d@example.com":{"token":{"access_token":"%064x","token_type":"bearer"},"expires":"%s"}`, i, i*7919, expires)
		}
		b.WriteString("}")
	}
	b.WriteString("}")
	s, err := store.Parse([]byte(b.String()), time.Now())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, s.Marshal(), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

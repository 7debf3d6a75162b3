// Command genfile writes a valid session file of n sessions, for the stress
// and benchmark scripts.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/store"
)

func main() {
	n := flag.Int("n", 1000, "number of sessions")
	instances := flag.Int("instances", 50, "number of instances the sessions are spread over")
	out := flag.String("o", "auth.json", "file to write")
	flag.Parse()
	var s store.Sessions
	exp := store.ExpiryFromTime(time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second))
	for i := 0; i < *n; i++ {
		err := s.Insert(store.Session{
			URL:     fmt.Sprintf("https://cs%d.example.com", i%*instances),
			Email:   fmt.Sprintf("user%d@example.com", i),
			Token:   fmt.Sprintf("%064x", i*7919),
			Expires: exp,
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if err := os.WriteFile(*out, s.Marshal(), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// Package sessiongen generates session files for tests, benchmarks and
// scripts: the one generator they share.
package sessiongen

import (
	"fmt"
	"strings"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// Credential returns generated session i of a file spread over instances
// instances: https://csK.example.com with K = i mod instances,
// userI@example.com, and a 64-character token.
func Credential(i, instances int) (url, email, token string) {
	return fmt.Sprintf("https://cs%d.example.com", i%max(instances, 1)), fmt.Sprintf("user%d@example.com", i), fmt.Sprintf("%064x", i*7919)
}

// SessionFile returns a valid session file of n generated sessions (see
// Credential), all expiring at expires, in cryosparc-tools' exact layout.
// It takes time linear in n, whatever the number of instances: the
// sessions are written grouped by instance and read back.
func SessionFile(n, instances int, expires time.Time) []byte {
	instances = max(instances, 1)
	exp := expires.UTC().Truncate(time.Second).Format(time.RFC3339)
	var b strings.Builder
	b.WriteString("{")
	for in := 0; in < instances && in < max(n, 1); in++ {
		if in > 0 {
			b.WriteString(",")
		}
		url, _, _ := Credential(in, instances)
		fmt.Fprintf(&b, "%q:{", url)
		for i := in; i < n; i += instances {
			if i != in {
				b.WriteString(",")
			}
			_, email, token := Credential(i, instances)
			fmt.Fprintf(&b, `%q:{"token":{"access_token":%q,"token_type":"bearer"},"expires":%q}`, email, token, exp)
		}
		b.WriteString("}")
	}
	b.WriteString("}")
	s, err := store.Parse([]byte(b.String()), time.Time{})
	if err != nil {
		panic(err) // the generator's own fault
	}
	return s.Marshal()
}

// GitCredentials returns the same n sessions as a git-credentials file
// (git credential-store's format), in the same order.
func GitCredentials(n, instances int) []byte {
	var b strings.Builder
	for i := 0; i < n; i++ {
		url, email, token := Credential(i, instances)
		fmt.Fprintf(&b, "https://%s:%s@%s\n", strings.ReplaceAll(email, "@", "%40"), token, strings.TrimPrefix(url, "https://"))
	}
	return []byte(b.String())
}

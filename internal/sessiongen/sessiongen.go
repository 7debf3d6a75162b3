// Package sessiongen generates session files for tests, benchmarks and
// scripts: the one generator they share.
package sessiongen

import (
	"fmt"
	"strings"
	"time"
)

// Credential returns generated session i of a file spread over instances
// instances: https://csK.example.com with K = i mod instances,
// userI@example.com, and a 64-character token.
func Credential(i, instances int) (url, email, token string) {
	return fmt.Sprintf("https://cs%d.example.com", i%max(instances, 1)), fmt.Sprintf("user%d@example.com", i), fmt.Sprintf("%064x", i*7919)
}

// SessionFile returns a valid session file of n generated sessions (see
// Credential), all expiring at expires, in cryosparc-tools' exact layout
// (model_dump_json(indent=4)), grouped by instance in the order of their
// first session. It imports nothing of this project, so that the store
// package's own tests can use it; they check it against their parser.
func SessionFile(n, instances int, expires time.Time) []byte {
	instances = max(instances, 1)
	exp := expires.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05Z")
	var b strings.Builder
	b.Grow(n * 260)
	if n == 0 {
		return []byte("{}")
	}
	b.WriteString("{\n")
	for in := 0; in < instances && in < n; in++ {
		if in > 0 {
			b.WriteString(",\n")
		}
		url, _, _ := Credential(in, instances)
		fmt.Fprintf(&b, "    %q: {\n", url)
		for i := in; i < n; i += instances {
			if i != in {
				b.WriteString(",\n")
			}
			_, email, token := Credential(i, instances)
			fmt.Fprintf(&b, "        %q: {\n            \"token\": {\n                \"access_token\": %q,\n                \"token_type\": \"bearer\"\n            },\n            \"expires\": %q\n        }", email, token, exp)
		}
		b.WriteString("\n    }")
	}
	b.WriteString("\n}")
	return []byte(b.String())
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

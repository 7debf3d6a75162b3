package urlrule

import (
	"strings"
	"testing"
)

// TestMayName checks that the filter Lookup uses never drops an instance
// whose key has the canonical form of the URL asked for.
func TestMayName(t *testing.T) {
	urls := []string{"https://ks.example.com", "https://cs.example.com", "http://Lab:39000/", "lab:39000", "http://[::1]:39000", "https://ÜNI.example/x", "HTTPS://CS.EXAMPLE.COM:443"}
	keys := []string{"https://cs.example.com", "HTTPS://CS.Example.com:443/", "https://cs.example.com/", "http://lab:39000", "http://LAB:39000//",
		"lab:39000", "http://[::1]:39000/", "https://üni.example/x", "https://ÜNI.EXAMPLE/x/", "http://%6cab:39000", "https://other.example.com",
		"https://\u212As.example.com"} // KELVIN SIGN lowers to a one-byte k
	for _, u := range urls {
		may := MayName(u)
		cu, err := Canonical(u)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			ck, err := Canonical(k)
			if err == nil && ck == cu && !may(k) {
				t.Errorf("MayName(%q) drops key %q, which has the same canonical form %q", u, k, cu)
			}
		}
		if may("https://other.example.com") && !strings.Contains(strings.ToLower(u), "other") {
			t.Errorf("MayName(%q) keeps an unrelated key", u)
		}
	}
	if MayName("") != nil {
		t.Error("MayName(\"\") must keep everything")
	}
}

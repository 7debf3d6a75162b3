package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
)

func newStandIn(t *testing.T) *testkit.Server {
	s := testkit.NewServer(t)
	s.AddUser("ali@example.com", "pässword", "Ali Baba")
	return s
}

func TestLogin(t *testing.T) {
	s := newStandIn(t)
	c := &Client{URL: s.URL + "/", UserAgent: "cryosparc-credential/test"}
	tok, err := c.Login(context.Background(), "ali@example.com", "pässword", 3*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.AccessToken, "tok-") || tok.TokenType != "bearer" {
		t.Errorf("token = %+v", tok)
	}
	sum := sha256.Sum256([]byte("pässword"))
	want := map[string]string{"grant_type": "password", "username": "ali@example.com", "password": hex.EncodeToString(sum[:]), "expires_in": "259200"}
	got := s.Logins()[0]
	for k, v := range want {
		if got[k] != v {
			t.Errorf("form %s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("form has extra fields: %v", got)
	}
	if ua := s.UserAgent(); ua != "cryosparc-credential/test" {
		t.Errorf("User-Agent = %q", ua)
	}
}

// TestMeAndVersion: users.me and config.get_version are found through the
// schema, called with the bearer token; a token the server refuses matches
// ErrRejected, an unreachable server does not.
func TestMeAndVersion(t *testing.T) {
	s := newStandIn(t)
	tok := s.Issue("ali@example.com")
	c := &Client{URL: s.URL}
	u, err := c.Me(context.Background(), tok)
	if err != nil || u.Name != "Ali Baba" {
		t.Fatalf("Me = %+v, %v", u, err)
	}
	v, err := c.Version(context.Background(), tok)
	if err != nil || v != s.Version {
		t.Fatalf("Version = %q, %v", v, err)
	}
	_, err = c.Me(context.Background(), "not-a-token")
	if !errors.Is(err, ErrRejected) || strings.Contains(err.Error(), "not-a-token") {
		t.Errorf("Me with a refused token = %v, want ErrRejected without the token", err)
	}
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	_, err = (&Client{URL: gone.URL}).Me(context.Background(), tok)
	if !errors.Is(err, ErrLogin) || errors.Is(err, ErrRejected) {
		t.Errorf("Me on a closed server = %v, want ErrLogin, not ErrRejected", err)
	}
}

func TestLoginFailures(t *testing.T) {
	refused := httptest.NewServer(http.NotFoundHandler())
	refusedURL := refused.URL
	refused.Close()

	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()

	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	defer slow.Close()

	noLogin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"paths": {"/health": {"get": {"summary": "health"}}}}`))
	}))
	defer noLogin.Close()

	notJSON := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<html>hello</html>`))
	}))
	defer notJSON.Close()

	good := newStandIn(t)
	weird := testkit.New()
	weirdSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.Write([]byte(`{"unexpected": true}`))
			return
		}
		weird.ServeHTTP(w, r)
	}))
	defer weirdSrv.Close()

	tests := []struct {
		name, url, password string
		client              *http.Client
		want                []string
	}{
		{"connection refused", refusedURL, "pässword", nil, []string{"connection refused", "is CryoSPARC running"}},
		{"TLS not trusted", tlsSrv.URL, "pässword", nil, []string{"not trusted", "SSL_CERT_FILE"}},
		{"timeout", slow.URL, "pässword", &http.Client{Timeout: 100 * time.Millisecond}, []string{"did not answer in time"}},
		{"404 on openapi.json", good.URL + "/wrong-prefix", "pässword", nil, []string{"404", "CryoSPARC web URL", "v5 or later"}},
		{"no login operation", noLogin.URL, "pässword", nil, []string{"no login operation"}},
		{"schema not JSON", notJSON.URL, "pässword", nil, []string{"not an OpenAPI schema"}},
		{"wrong password", good.URL, "wrong", nil, []string{"HTTP 401", "Incorrect email or password", "check the email and password"}},
		{"answer without a token", weirdSrv.URL, "b", nil, []string{"something other than a token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Client{URL: tt.url, HTTP: tt.client}
			_, err := c.Login(context.Background(), "ali@example.com", tt.password, time.Hour)
			if !errors.Is(err, ErrLogin) {
				t.Fatalf("error = %v, want ErrLogin", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), tt.password) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error leaks the password or spans lines: %q", err)
			}
		})
	}
}

func ExampleClient_Login() {
	cryosparc := testkit.New() // a stand-in CryoSPARC instance
	cryosparc.AddUser("ali@example.com", "pässword", "Ali Baba")
	cryosparc.TokenFor = func(string) string { return "tok-123" }
	srv := httptest.NewServer(cryosparc)
	defer srv.Close()
	c := &Client{URL: srv.URL, UserAgent: "cryosparc-credential/example"}
	tok, err := c.Login(context.Background(), "ali@example.com", "pässword", 14*24*time.Hour)
	fmt.Println(tok.AccessToken, tok.TokenType, err)
	// Output: tok-123 bearer <nil>
}

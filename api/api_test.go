package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// standIn is a CryoSPARC API stand-in whose login operation lives at a path
// that only its openapi.json reveals.
type standIn struct {
	t         *testing.T
	loginPath string
	email     string
	password  string
	token     string
	gotForm   map[string]string
	gotUA     string
}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/cmd/openapi.json":
		json.NewEncoder(w).Encode(map[string]any{
			"openapi": "3.1.0", "info": map[string]any{"title": "CryoSPARC"}, "components": map[string]any{},
			"paths": map[string]any{
				"/health":    map[string]any{"get": map[string]any{"summary": "health"}},
				s.loginPath:  map[string]any{"post": map[string]any{"summary": "login"}},
				"/login-old": map[string]any{"get": map[string]any{"summary": "login"}},
			},
		})
	case r.Method == http.MethodPost && r.URL.Path == "/api/cmd"+s.loginPath:
		s.gotUA = r.UserAgent()
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			http.Error(w, `{"detail": "bad content type"}`, http.StatusUnsupportedMediaType)
			return
		}
		r.ParseForm()
		s.gotForm = map[string]string{}
		for k := range r.PostForm {
			s.gotForm[k] = r.PostForm.Get(k)
		}
		sum := sha256.Sum256([]byte(s.password))
		if r.PostForm.Get("username") != s.email || r.PostForm.Get("password") != hex.EncodeToString(sum[:]) || r.PostForm.Get("grant_type") != "password" {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"detail": "Incorrect email or password"}`))
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"access_token": s.token, "token_type": "bearer"})
	default:
		http.NotFound(w, r)
	}
}

func newStandIn(t *testing.T) (*standIn, *httptest.Server) {
	s := &standIn{t: t, loginPath: fmt.Sprintf("/auth-%d/token", time.Now().UnixNano()), email: "ali@example.com", password: "pässword", token: "tok-123"}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func TestLogin(t *testing.T) {
	s, srv := newStandIn(t)
	c := &Client{URL: srv.URL + "/", UserAgent: "cryosparc-credential/test"}
	tok, err := c.Login(context.Background(), "ali@example.com", "pässword", 3*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "tok-123" || tok.TokenType != "bearer" {
		t.Errorf("token = %+v", tok)
	}
	sum := sha256.Sum256([]byte("pässword"))
	want := map[string]string{"grant_type": "password", "username": "ali@example.com", "password": hex.EncodeToString(sum[:]), "expires_in": "259200"}
	for k, v := range want {
		if s.gotForm[k] != v {
			t.Errorf("form %s = %q, want %q", k, s.gotForm[k], v)
		}
	}
	if len(s.gotForm) != len(want) {
		t.Errorf("form has extra fields: %v", s.gotForm)
	}
	if s.gotUA != "cryosparc-credential/test" {
		t.Errorf("User-Agent = %q", s.gotUA)
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

	_, good := newStandIn(t)
	weird := &standIn{t: t, loginPath: "/x", email: "a", password: "b"}
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
	srv := httptest.NewServer(&standIn{loginPath: "/a/login", email: "ali@example.com", password: "pässword", token: "tok-123"})
	defer srv.Close()
	c := &Client{URL: srv.URL, UserAgent: "cryosparc-credential/example"}
	tok, err := c.Login(context.Background(), "ali@example.com", "pässword", 14*24*time.Hour)
	fmt.Println(tok.AccessToken, tok.TokenType, err)
	// Output: tok-123 bearer <nil>
}

// Package testkit is what the tests share: a stand-in CryoSPARC server, a
// session-file generator, and the Python model of cryosparc-tools as an
// oracle. It is imported by tests only.
package testkit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Server is a stand-in CryoSPARC instance. Its API lives under /api/cmd,
// and its operations (login, users.me, config.get_version) at random paths
// that only its openapi.json names, as a client must discover them. Tokens
// it issued are accepted by users.me; any other token gets HTTP 401.
type Server struct {
	URL     string
	Version string // what config.get_version answers

	mu        sync.Mutex
	users     map[string]user   // by email
	tokens    map[string]string // token → email
	logins    []map[string]string
	userAgent string
	paths     map[string]string // summary → path

	// TokenFor, when set, makes the token a login issues for email.
	TokenFor func(email string) string
}

type user struct{ password, name string }

// NewServer starts a stand-in server, closed when the test ends.
func NewServer(t testing.TB) *Server {
	s := New()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// New returns a stand-in server's handler, not started (for an Example,
// which has no testing.T): httptest.NewServer(s) serves it.
func New() *Server {
	n := rand.IntN(100000)
	return &Server{
		Version: "v5.0.2",
		users:   map[string]user{},
		tokens:  map[string]string{},
		paths: map[string]string{
			"login":              fmt.Sprintf("/v%d/auth/issue", n),
			"users.me":           fmt.Sprintf("/v%d/people/self", n),
			"config.get_version": fmt.Sprintf("/v%d/cfg/ver", n),
		},
	}
}

// AddUser lets email log in with password; name is what users.me says.
func (s *Server) AddUser(email, password, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[email] = user{password, name}
}

// Issue returns a token for email as a login would.
func (s *Server) Issue(email string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issue(email)
}

func (s *Server) issue(email string) string {
	tok := fmt.Sprintf("tok-%x", rand.Uint64())
	if s.TokenFor != nil {
		tok = s.TokenFor(email)
	}
	s.tokens[tok] = email
	return tok
}

// Revoke makes the server refuse token from now on.
func (s *Server) Revoke(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, token)
}

// Logins returns the forms of the logins received, in order.
func (s *Server) Logins() []map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]string(nil), s.logins...)
}

// UserAgent returns the User-Agent of the last request.
func (s *Server) UserAgent() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userAgent
}

// ServeHTTP answers as a CryoSPARC v5 instance's API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userAgent = r.UserAgent()
	w.Header().Set("Content-Type", "application/json")
	path, ok := strings.CutPrefix(r.URL.Path, "/api/cmd")
	if !ok {
		http.NotFound(w, r)
		return
	}
	switch {
	case r.Method == http.MethodGet && path == "/openapi.json":
		json.NewEncoder(w).Encode(map[string]any{
			"openapi": "3.1.0", "info": map[string]any{"title": "CryoSPARC"}, "components": map[string]any{},
			"paths": map[string]any{
				"/health":                     map[string]any{"get": map[string]any{"summary": "health"}},
				s.paths["login"]:              map[string]any{"post": map[string]any{"summary": "login"}},
				"/legacy/login":               map[string]any{"get": map[string]any{"summary": "login"}},
				s.paths["users.me"]:           map[string]any{"get": map[string]any{"summary": "users.me"}},
				s.paths["config.get_version"]: map[string]any{"get": map[string]any{"summary": "config.get_version"}},
			},
		})
	case r.Method == http.MethodPost && path == s.paths["login"]:
		s.login(w, r)
	case r.Method == http.MethodGet && path == s.paths["users.me"]:
		email, ok := s.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"detail": "Could not validate credentials"}`))
			return
		}
		u := s.users[email]
		first, last, _ := strings.Cut(u.name, " ")
		json.NewEncoder(w).Encode(map[string]any{"_id": "0123456789abcdef01234567", "name": u.name, "first_name": first, "last_name": last,
			"emails": []map[string]any{{"address": email, "verified": true}}})
	case r.Method == http.MethodGet && path == s.paths["config.get_version"]:
		json.NewEncoder(w).Encode(s.Version)
	default:
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"detail": "Not Found"}`))
	}
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		w.WriteHeader(http.StatusUnsupportedMediaType)
		w.Write([]byte(`{"detail": "bad content type"}`))
		return
	}
	r.ParseForm()
	form := map[string]string{}
	for k := range r.PostForm {
		form[k] = r.PostForm.Get(k)
	}
	s.logins = append(s.logins, form)
	u, ok := s.users[form["username"]]
	sum := sha256.Sum256([]byte(u.password))
	if !ok || form["grant_type"] != "password" || form["password"] != hex.EncodeToString(sum[:]) {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"detail": "Incorrect email or password"}`))
		return
	}
	json.NewEncoder(w).Encode(map[string]string{"access_token": s.issue(form["username"]), "token_type": "bearer"})
}

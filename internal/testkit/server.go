// Package testkit is what the tests share: a stand-in CryoSPARC server, a
// session-file generator, and the Python model of cryosparc-tools as an
// oracle. It is imported by tests only.
package testkit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a stand-in CryoSPARC instance. Its API lives under /api/cmd,
// and its operations (login, users.me, config.get_version) at random paths
// that only its openapi.json names, as a client must discover them. Tokens
// it issued are accepted by users.me; any other token gets HTTP 401.
//
// It counts what it receives (Requests, InFlight, MaxInFlight, and Conns
// when started by NewServer or NewTLSServer), can be made slow (SetDelay),
// and can answer an operation with an error or a redirect instead (Fail,
// Redirect). It is safe for concurrent use.
type Server struct {
	URL     string
	Version string // what config.get_version answers

	mu          sync.Mutex
	users       map[string]user   // by email
	tokens      map[string]string // token → email
	logins      []map[string]string
	userAgent   string
	paths       map[string]string // summary → path
	requests    int
	inFlight    int
	maxInFlight int
	conns       int
	delay       time.Duration
	answers     map[string]answer // by operation; "" for every request
	srv         *httptest.Server

	// TokenFor, when set, makes the token a login issues for email.
	TokenFor func(email string) string
}

type user struct{ password, name string }

// answer is what Fail or Redirect set for an operation.
type answer struct {
	status         int
	body, location string
}

// The operations Fail and Redirect take, besides "" for every request.
const (
	OpSchema  = "openapi.json"
	OpLogin   = "login"
	OpMe      = "users.me"
	OpVersion = "config.get_version"
)

// NewServer starts a stand-in server, closed when the test ends.
func NewServer(t testing.TB) *Server { return start(t, false) }

// NewTLSServer starts a stand-in server on https, with a certificate that
// only Client trusts, closed when the test ends.
func NewTLSServer(t testing.TB) *Server { return start(t, true) }

func start(t testing.TB, tls bool) *Server {
	s := New()
	srv := httptest.NewUnstartedServer(s)
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
		}
	}
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	s.URL, s.srv = srv.URL, srv
	return s
}

// Client returns an HTTP client that trusts the server's certificate (for
// NewTLSServer; any client will do for NewServer).
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Requests returns how many requests the server has received.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// InFlight returns how many requests are being answered now.
func (s *Server) InFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inFlight
}

// MaxInFlight returns the most requests that were being answered at once.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// Conns returns how many TCP connections the server has accepted (0 for a
// server from New, whose connections the test's own httptest server sees).
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// SetDelay makes every request from now on wait d before it is answered,
// or until the client gives up; 0 answers at once.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Fail makes the server answer the operation op (OpSchema, OpLogin, OpMe,
// OpVersion, or "" for every request) with status and body, from now on;
// status 0 removes it. An answer set for op comes before one set for "".
func (s *Server) Fail(op string, status int, body string) {
	s.set(op, answer{status: status, body: body})
}

// Redirect makes the server answer the operation op (as for Fail) with the
// redirect status (301, 302, 303, 307 or 308) to location, from now on;
// status 0 removes it.
func (s *Server) Redirect(op string, status int, location string) {
	s.set(op, answer{status: status, location: location})
}

func (s *Server) set(op string, a answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.answers == nil {
		s.answers = map[string]answer{}
	}
	if a.status == 0 {
		delete(s.answers, op)
		return
	}
	s.answers[op] = a
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
	s.requests++
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	s.userAgent = r.UserAgent()
	delay := s.delay
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
	if delay > 0 {
		timer := time.NewTimer(delay)
		select {
		case <-r.Context().Done():
			timer.Stop()
			return
		case <-timer.C:
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	path, ok := strings.CutPrefix(r.URL.Path, "/api/cmd")
	if !ok {
		if a, ok := s.answers[""]; ok {
			a.write(w)
			return
		}
		http.NotFound(w, r)
		return
	}
	op := ""
	switch {
	case r.Method == http.MethodGet && path == "/openapi.json":
		op = OpSchema
	case r.Method == http.MethodPost && path == s.paths["login"]:
		op = OpLogin
	case r.Method == http.MethodGet && path == s.paths["users.me"]:
		op = OpMe
	case r.Method == http.MethodGet && path == s.paths["config.get_version"]:
		op = OpVersion
	}
	if a, ok := s.answers[op]; ok && op != "" {
		a.write(w)
		return
	}
	if a, ok := s.answers[""]; ok {
		a.write(w)
		return
	}
	// A write to w fails only when the client has hung up: no one is left
	// to tell, here and below.
	switch op {
	case OpSchema:
		_ = json.NewEncoder(w).Encode(map[string]any{
			"openapi": "3.1.0", "info": map[string]any{"title": "CryoSPARC"}, "components": map[string]any{},
			"paths": map[string]any{
				"/health":                     map[string]any{"get": map[string]any{"summary": "health"}},
				s.paths["login"]:              map[string]any{"post": map[string]any{"summary": "login"}},
				"/legacy/login":               map[string]any{"get": map[string]any{"summary": "login"}},
				s.paths["users.me"]:           map[string]any{"get": map[string]any{"summary": "users.me"}},
				s.paths["config.get_version"]: map[string]any{"get": map[string]any{"summary": "config.get_version"}},
			},
		})
	case OpLogin:
		s.login(w, r)
	case OpMe:
		email, ok := s.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"detail": "Could not validate credentials"}`))
			return
		}
		u := s.users[email]
		first, last, _ := strings.Cut(u.name, " ")
		_ = json.NewEncoder(w).Encode(map[string]any{"_id": "0123456789abcdef01234567", "name": u.name, "first_name": first, "last_name": last,
			"emails": []map[string]any{{"address": email, "verified": true}}})
	case OpVersion:
		_ = json.NewEncoder(w).Encode(s.Version)
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"detail": "Not Found"}`))
	}
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		w.WriteHeader(http.StatusUnsupportedMediaType)
		_, _ = w.Write([]byte(`{"detail": "bad content type"}`)) // the client hung up: no one to tell
		return
	}
	_ = r.ParseForm() // a form that does not parse leaves the fields empty: refused below
	form := map[string]string{}
	for k := range r.PostForm {
		form[k] = r.PostForm.Get(k)
	}
	s.logins = append(s.logins, form)
	u, ok := s.users[form["username"]]
	sum := sha256.Sum256([]byte(u.password))
	if !ok || form["grant_type"] != "password" || form["password"] != hex.EncodeToString(sum[:]) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"detail": "Incorrect email or password"}`))
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"access_token": s.issue(form["username"]), "token_type": "bearer"})
}

func (a answer) write(w http.ResponseWriter) {
	if a.location != "" {
		w.Header().Set("Location", a.location)
	}
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body) // the client hung up: no one to tell
}

// Hanging is a stand-in for an instance that cannot be reached but does
// not say so: it accepts TCP connections and never answers, as a server
// whose process is stopped (SIGSTOP) or a proxy whose backend hangs. A
// client learns nothing until its own timeout. It counts the connections.
type Hanging struct {
	URL string // http://127.0.0.1:port

	ln       net.Listener
	mu       sync.Mutex
	conns    map[net.Conn]bool
	accepted int
	wg       sync.WaitGroup
}

// NewHanging starts a Hanging server, closed with its connections when the
// test ends.
func NewHanging(t testing.TB) *Hanging {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &Hanging{URL: "http://" + ln.Addr().String(), ln: ln, conns: map[net.Conn]bool{}}
	h.wg.Add(1)
	go h.serve()
	t.Cleanup(h.close)
	return h
}

func (h *Hanging) serve() {
	defer h.wg.Done()
	for {
		c, err := h.ln.Accept()
		if err != nil {
			return // closed
		}
		h.mu.Lock()
		h.conns[c] = true
		h.accepted++
		h.mu.Unlock()
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			_, _ = io.Copy(io.Discard, c) // until the client (or close) ends it, however
			c.Close()
			h.mu.Lock()
			delete(h.conns, c)
			h.mu.Unlock()
		}()
	}
}

func (h *Hanging) close() {
	h.ln.Close()
	h.mu.Lock()
	for c := range h.conns {
		c.Close()
	}
	h.mu.Unlock()
	h.wg.Wait()
}

// Accepted returns how many connections it has accepted.
func (h *Hanging) Accepted() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.accepted
}

// Open returns how many connections are open now: accepted and not yet
// closed by the client.
func (h *Hanging) Open() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

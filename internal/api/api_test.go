package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
	"github.com/cryosparc-credential/cryosparc-credential/internal/urlrule"
)

const (
	email    = "ali@example.com"
	password = "pässword-SECRET"
)

// hash is what the server receives of the password.
var hash = func() string { s := sha256.Sum256([]byte(password)); return hex.EncodeToString(s[:]) }()

func newStandIn(t *testing.T) *testkit.Server {
	s := testkit.NewServer(t)
	s.AddUser(email, password, "Ali Baba")
	return s
}

func TestLogin(t *testing.T) {
	s := newStandIn(t)
	c := &Client{URL: s.URL + "/", UserAgent: "cryosparc-credential/test"}
	tok, err := c.Login(context.Background(), email, password, 3*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.AccessToken, "tok-") || tok.TokenType != "bearer" {
		t.Errorf("token = %+v", tok)
	}
	want := map[string]string{"grant_type": "password", "username": email, "password": hash, "expires_in": "259200"}
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
	tok := s.Issue(email)
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
	if !errors.Is(err, ErrRejected) || errkind.Of(err) != errkind.Login || strings.Contains(err.Error(), "not-a-token") {
		t.Errorf("Me with a refused token = %v, want ErrRejected of kind Login, without the token", err)
	}
	_, err = (&Client{URL: closedURL(t)}).Me(context.Background(), tok)
	if !errors.Is(err, ErrUnreachable) || errors.Is(err, ErrRejected) || errkind.Of(err) != errkind.Unreachable {
		t.Errorf("Me on a closed port = %v, want ErrUnreachable, not ErrRejected", err)
	}
}

// closedURL returns the URL of a port nothing listens on.
func closedURL(t *testing.T) string {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.URL
}

// handler returns a server answering every request with status and body.
func handler(t *testing.T, status int, body string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestErrorKinds: every error has the kind its exit status needs: Login
// (4) only when the server refused; Unreachable (6) when it could not be
// reached or did not answer as CryoSPARC (network, TLS, timeout, redirect,
// 5xx, 404 and anything that is not CryoSPARC's answer); BadInput (2) for
// an unusable URL. Each message is one line, says what to do, and holds
// neither the password, nor its hash, nor the token.
func TestErrorKinds(t *testing.T) {
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake the client refuses
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	plain := newStandIn(t)
	hanging := testkit.NewHanging(t)
	const token = "tok-SECRET-TOKEN"

	type call int
	const (
		login call = iota
		me
		version
	)
	tests := []struct {
		name  string
		url   string // "" for the stand-in's
		setup func(s *testkit.Server)
		call  call
		kind  errkind.Kind
		is    error
		words []string
	}{
		{"connection refused", closedURL(t), nil, login, errkind.Unreachable, ErrUnreachable, []string{"connection refused", "is CryoSPARC running"}},
		{"connection refused, status", closedURL(t), nil, me, errkind.Unreachable, ErrUnreachable, []string{"connection refused"}},
		{"unknown host", "http://no-such-host.invalid", nil, login, errkind.Unreachable, ErrUnreachable, nil},
		{"TLS not trusted", tlsSrv.URL, nil, login, errkind.Unreachable, ErrUnreachable, []string{"not trusted", "SSL_CERT_FILE"}},
		{"https to an http port", strings.Replace(plain.URL, "http:", "https:", 1), nil, me, errkind.Unreachable, ErrUnreachable, []string{"does not speak TLS", "http://"}},
		{"no answer in time", hanging.URL, nil, login, errkind.Unreachable, ErrUnreachable, []string{"did not answer in time"}},
		{"no answer in time, status", hanging.URL, nil, me, errkind.Unreachable, ErrUnreachable, []string{"did not answer in time"}},
		{"404 on openapi.json", "/wrong-prefix", nil, login, errkind.Unreachable, ErrUnreachable, []string{"404", "CryoSPARC web URL", "v5 or later"}},
		{"404 on openapi.json, status", "/wrong-prefix", nil, me, errkind.Unreachable, ErrUnreachable, []string{"404"}},
		{"401 on openapi.json (a proxy)", "", func(s *testkit.Server) { s.Fail(testkit.OpSchema, 401, `{"detail": "SSO"}`) }, login, errkind.Unreachable, ErrUnreachable, []string{"401", "CryoSPARC web URL"}},
		{"503 on openapi.json", "", func(s *testkit.Server) { s.Fail(testkit.OpSchema, 503, `{"detail": "down"}`) }, login, errkind.Unreachable, ErrUnreachable, []string{"503", "down", "try again later"}},
		{"502 on openapi.json, status", "", func(s *testkit.Server) { s.Fail(testkit.OpSchema, 502, "<html>Bad Gateway</html>") }, me, errkind.Unreachable, ErrUnreachable, []string{"502"}},
		{"schema not JSON", handler(t, 200, "<html>hello</html>"), nil, login, errkind.Unreachable, ErrUnreachable, []string{"not an OpenAPI schema"}},
		{"no login operation", handler(t, 200, `{"paths": {"/health": {"get": {"summary": "health"}}}}`), nil, login, errkind.Unreachable, ErrUnreachable, []string{"no login operation", "v5 or later"}},
		{"no users.me operation", handler(t, 200, `{"paths": {}}`), nil, me, errkind.Unreachable, ErrUnreachable, []string{"no users.me operation"}},
		{"wrong password", "", func(s *testkit.Server) { s.AddUser(email, "other", "x") }, login, errkind.Login, ErrRefused, []string{"HTTP 401", "Incorrect email or password", "check the email and password"}},
		{"login 403", "", func(s *testkit.Server) { s.Fail(testkit.OpLogin, 403, `{"detail": "disabled"}`) }, login, errkind.Login, ErrRefused, []string{"HTTP 403", "disabled"}},
		{"login 422", "", func(s *testkit.Server) { s.Fail(testkit.OpLogin, 422, `{"detail": [{"msg": "bad expires_in"}]}`) }, login, errkind.Login, ErrRefused, []string{"HTTP 422", "bad expires_in"}},
		{"login 404", "", func(s *testkit.Server) { s.Fail(testkit.OpLogin, 404, `{"detail": "Not Found"}`) }, login, errkind.Unreachable, ErrUnreachable, []string{"HTTP 404", "CryoSPARC v5"}},
		{"login 429", "", func(s *testkit.Server) { s.Fail(testkit.OpLogin, 429, "") }, login, errkind.Unreachable, ErrUnreachable, []string{"HTTP 429"}},
		{"login 500", "", func(s *testkit.Server) { s.Fail(testkit.OpLogin, 500, `{"detail": "boom"}`) }, login, errkind.Unreachable, ErrUnreachable, []string{"HTTP 500", "boom", "try again later"}},
		{"login answers no token", "", func(s *testkit.Server) { s.Fail(testkit.OpLogin, 200, `{"unexpected": true}`) }, login, errkind.Unreachable, ErrUnreachable, []string{"something other than a token"}},
		{"login answers another token type", "", func(s *testkit.Server) { s.Fail(testkit.OpLogin, 200, `{"access_token": "t", "token_type": "mac"}`) }, login, errkind.Unreachable, ErrUnreachable, []string{`"mac"`, "bearer"}},
		{"token refused", "", func(s *testkit.Server) {}, me, errkind.Login, ErrRejected, []string{"rejected the token", "HTTP 401"}},
		{"token forbidden", "", func(s *testkit.Server) { s.Fail(testkit.OpMe, 403, `{"detail": "no"}`) }, me, errkind.Login, ErrRejected, []string{"HTTP 403"}},
		{"users.me 500", "", func(s *testkit.Server) { s.Fail(testkit.OpMe, 500, "") }, me, errkind.Unreachable, ErrUnreachable, []string{"HTTP 500"}},
		{"users.me not a user", "", func(s *testkit.Server) { s.Fail(testkit.OpMe, 200, `[1]`) }, me, errkind.Unreachable, ErrUnreachable, []string{"something other than a user"}},
		{"version 503", "", func(s *testkit.Server) { s.Fail(testkit.OpVersion, 503, "") }, version, errkind.Unreachable, ErrUnreachable, []string{"HTTP 503"}},
		{"version refused", "", func(s *testkit.Server) { s.Fail(testkit.OpVersion, 401, "") }, version, errkind.Login, ErrRejected, []string{"HTTP 401"}},
		{"version not a version", "", func(s *testkit.Server) { s.Fail(testkit.OpVersion, 200, `{}`) }, version, errkind.Unreachable, ErrUnreachable, []string{"something other than a version"}},
		{"redirect", "", func(s *testkit.Server) {
			s.Redirect(testkit.OpSchema, 302, "https://elsewhere.example/api/cmd/openapi.json")
		}, login, errkind.Unreachable, ErrRedirect, []string{"https://elsewhere.example"}},
		{"URL with a password", "http://alice:SECRET@{host}", nil, login, errkind.BadInput, ErrBadURL, []string{"user name or password"}},
		{"URL with a password after a slash", "http://alice:se/SECRET@{host}", nil, me, errkind.BadInput, ErrBadURL, []string{"user name or password"}},
		{"URL not http", "ftp://{host}", nil, login, errkind.BadInput, ErrBadURL, []string{"scheme"}},
		{"URL with a query", "http://{host}/?token=SECRET", nil, login, errkind.BadInput, ErrBadURL, []string{"query"}},
		// The rule is store's (internal/urlrule): what it refuses, so does
		// the client, before any request.
		{"URL with an empty port", "http://127.0.0.1:", nil, login, errkind.BadInput, ErrBadURL, []string{"port is empty"}},
		{"URL with a misspelt scheme", "http:/{host}", nil, me, errkind.BadInput, ErrBadURL, []string{"misspelt"}},
		{"URL with no scheme", "{host}", nil, login, errkind.BadInput, ErrBadURL, []string{"scheme"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStandIn(t)
			if tt.setup != nil {
				tt.setup(s)
			}
			url := tt.url
			if url == "" || strings.HasPrefix(url, "/") {
				url = s.URL + url
			}
			url = strings.ReplaceAll(url, "{host}", strings.TrimPrefix(s.URL, "http://"))
			tok := token
			if tt.call != login && tt.name != "token refused" {
				tok = s.Issue(email)
			}
			// What a case gets must not depend on how fast the machine
			// answers: only the hanging server, which never answers, is
			// given a deadline; the others, which answer, get none from
			// the test. A 2-s deadline for all made the TLS-not-trusted
			// case "did not answer in time" under load (issue 23).
			ctx := context.Background()
			if url == hanging.URL {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 100*time.Millisecond)
				defer cancel()
			}
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			c := &Client{URL: url, HTTP: &http.Client{Transport: tr}}
			var err error
			switch tt.call {
			case login:
				_, err = c.Login(ctx, email, password, time.Hour)
			case me:
				_, err = c.Me(ctx, tok)
			case version:
				_, err = c.Version(ctx, tok)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
			if got := errkind.Of(err); got != tt.kind || !errors.Is(err, tt.is) {
				t.Fatalf("error %q: kind %v, want %v and a match for %v", err, got, tt.kind, tt.is)
			}
			n := 0
			for _, s := range []error{ErrRefused, ErrUnreachable, ErrBadURL} {
				if errors.Is(err, s) {
					n++
				}
			}
			if n != 1 {
				t.Errorf("error %q matches %d of ErrRefused, ErrUnreachable, ErrBadURL; want 1", err, n)
			}
			for _, w := range tt.words {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if tt.call == login && !strings.HasPrefix(err.Error(), "login failed: ") {
				t.Errorf("error %q does not start with \"login failed: \"", err)
			}
			for _, secret := range []string{password, hash, "SECRET", tok} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q holds a secret", err)
				}
			}
			if strings.ContainsAny(err.Error(), "\n\r\x1b") {
				t.Errorf("error %q spans lines or holds an escape", err)
			}
			if tt.kind == errkind.BadInput && s.Requests() != 0 {
				t.Errorf("%d requests sent to an unusable URL", s.Requests())
			}
		})
	}
}

// TestSentinelsHaveKinds: each exported error of the package has the kind
// its doc comment says.
func TestSentinelsHaveKinds(t *testing.T) {
	for _, tt := range []struct {
		err  error
		kind errkind.Kind
	}{
		{ErrRefused, errkind.Login},
		{ErrRejected, errkind.Login},
		{ErrUnreachable, errkind.Unreachable},
		{ErrRedirect, errkind.Unreachable},
		{ErrBadURL, errkind.BadInput},
	} {
		if got := errkind.Of(tt.err); got != tt.kind {
			t.Errorf("errkind.Of(%v) = %v, want %v", tt.err, got, tt.kind)
		}
	}
}

// TestRedirectsNotFollowed: a redirect of the schema, the login or
// users.me, across scheme, port or host, or on the same server, is not
// followed, whether the client is the default, the caller's own (which
// follows redirects) or one that follows everything: the target receives
// nothing at all (so no token and no password hash), and the error is of
// kind Unreachable (exit 6), names where the redirect pointed and, when it
// kept the API's path, the instance URL to use.
func TestRedirectsNotFollowed(t *testing.T) {
	httpTarget := newStandIn(t)
	tlsTarget := testkit.NewTLSServer(t)
	tlsTarget.AddUser(email, password, "Ali Baba")
	port := func(u string) string { return u[strings.LastIndexByte(u, ':')+1:] }

	type from struct {
		name string
		tls  bool
	}
	targets := []struct {
		name     string
		location func(src *testkit.Server) string // the redirect target's instance URL
		target   *testkit.Server                  // nil: the source itself
	}{
		{"to http on another port", func(*testkit.Server) string { return httpTarget.URL }, httpTarget},
		{"to https on another port", func(*testkit.Server) string { return tlsTarget.URL }, tlsTarget},
		{"to another host name", func(*testkit.Server) string { return "http://localhost:" + port(httpTarget.URL) }, httpTarget},
		{"to the same server, another path", func(src *testkit.Server) string { return src.URL + "/other" }, nil},
	}
	ops := []struct {
		op    string
		codes []int
	}{
		{testkit.OpSchema, []int{301, 302}},
		{testkit.OpLogin, []int{302, 303, 307, 308}},
		{testkit.OpMe, []int{302, 307}},
		{testkit.OpVersion, []int{308}},
	}
	clients := []struct {
		name string
		make func(src *testkit.Server) *http.Client
	}{
		{"default client", func(*testkit.Server) *http.Client { return nil }},
		{"caller's client", func(src *testkit.Server) *http.Client {
			c := src.Client()
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return nil } // follow everything
			return c
		}},
	}
	for _, f := range []from{{"http", false}, {"https", true}} {
		for _, tg := range targets {
			for _, o := range ops {
				for _, code := range o.codes {
					for _, cl := range clients {
						if f.tls && cl.name == "default client" {
							continue // it does not trust the test certificate
						}
						name := fmt.Sprintf("%s %s %s %d %s", f.name, tg.name, o.op, code, cl.name)
						t.Run(name, func(t *testing.T) {
							var src *testkit.Server
							if f.tls {
								src = testkit.NewTLSServer(t)
							} else {
								src = testkit.NewServer(t)
							}
							src.AddUser(email, password, "Ali Baba")
							hc := cl.make(src)
							instance := tg.location(src)
							path := "/api/cmd/openapi.json"
							if o.op != testkit.OpSchema {
								path = "/api/cmd/elsewhere"
							}
							src.Redirect(o.op, code, instance+path)
							target := tg.target
							before := 0
							if target != nil {
								before = target.Requests()
							}
							srcBefore := src.Requests()
							c := &Client{URL: src.URL, HTTP: hc}
							tok := src.Issue(email)
							var err error
							wantSrc := 0
							switch o.op {
							case testkit.OpSchema:
								_, err = c.Login(context.Background(), email, password, time.Hour)
								wantSrc = 1
							case testkit.OpLogin:
								_, err = c.Login(context.Background(), email, password, time.Hour)
								wantSrc = 2
							case testkit.OpMe:
								_, err = c.Me(context.Background(), tok)
								wantSrc = 2
							case testkit.OpVersion:
								_, err = c.Version(context.Background(), tok)
								wantSrc = 2
							}
							if target != nil && target.Requests() != before {
								t.Errorf("the redirect target received %d requests", target.Requests()-before)
							}
							if got := src.Requests() - srcBefore; got != wantSrc {
								t.Errorf("the server received %d requests, want %d (the redirect followed on the same server?)", got, wantSrc)
							}
							if errkind.Of(err) != errkind.Unreachable || !errors.Is(err, ErrRedirect) || !errors.Is(err, ErrUnreachable) {
								t.Fatalf("error %v: want ErrRedirect of kind Unreachable", err)
							}
							var e *Error
							if !errors.As(err, &e) || e.Status != code || e.Location != instance+path {
								t.Errorf("Status %d, Location %q; want %d, %q", e.Status, e.Location, code, instance+path)
							}
							msg := err.Error()
							if !strings.Contains(msg, "redirects to "+instance+path) || !strings.Contains(msg, "not followed") {
								t.Errorf("error %q does not say where the redirect pointed", msg)
							}
							if o.op == testkit.OpSchema && !strings.Contains(msg, "use "+instance+" as the instance URL") {
								t.Errorf("error %q does not name the instance URL to use (%s)", msg, instance)
							}
							for _, secret := range []string{password, hash, tok} {
								if strings.Contains(msg, secret) {
									t.Errorf("error %q holds a secret", msg)
								}
							}
						})
					}
				}
			}
		}
	}
	if n := httpTarget.Conns() + tlsTarget.Conns(); n != 0 {
		t.Errorf("the redirect targets accepted %d connections", n)
	}
}

// TestRedirectLocationMadeSafe: where a redirect points is shown without
// its user:password, query or fragment, escaped and cut, however it is
// written (relative, unparsable, with an escape sequence), and a redirect
// without a Location is an error too.
func TestRedirectLocationMadeSafe(t *testing.T) {
	tests := []struct {
		name, location string
		want           string // in the message
	}{
		{"userinfo", "https://bob:LOCPASS@h2:1/api/cmd/openapi.json", "redirects to https://***@h2:1/api/cmd/openapi.json"},
		{"C1 control (CSI)", "https://bob:LOCPASS@h2/\u009b2J", "redirects to https://***@h2/%C2%9B2J"},
		{"odd userinfo", "https://bob:LOC/PASS@h2:1/x", "redirects to https://***@h2:1/x"},
		{"query and fragment", "https://h2/login?next=LOCPASS#LOCPASS", "redirects to https://h2/login…"},
		{"relative", "/login", "/login (HTTP 302)"},
		{"escape sequence", "https://bob:LOCPASS@h2/\x1b]0;title\x07\x1b[2J", "malformed HTTP header"},
		{"long", "https://h2/" + strings.Repeat("a", 5000), "…"},
		{"unparsable", "http://[::1/x", "nor a URL"},
		{"none", "", "without a Location"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.location != "" {
					w.Header()["Location"] = []string{tt.location}
				}
				w.WriteHeader(302)
			}))
			defer srv.Close()
			_, err := (&Client{URL: srv.URL}).Me(context.Background(), "tok")
			// net/http refuses a header holding ESC or BEL before anything
			// sees the redirect.
			malformed := strings.ContainsAny(tt.location, "\x1b\x07")
			if !errors.Is(err, ErrRedirect) && !malformed || errkind.Of(err) != errkind.Unreachable {
				t.Fatalf("error %v, want ErrRedirect", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not say %q", msg, tt.want)
			}
			if strings.Contains(msg, "LOCPASS") || strings.Contains(msg, "bob") || strings.ContainsAny(msg, "\x1b\x07\n\u009b") || len(msg) > 1000 {
				t.Errorf("error %q shows a secret, a control character, or too much", msg)
			}
		})
	}
}

// TestCallerClientUnchanged: a caller's http.Client is used (its timeout
// too) but not changed.
func TestCallerClientUnchanged(t *testing.T) {
	hanging := testkit.NewHanging(t)
	hc := &http.Client{Timeout: 100 * time.Millisecond}
	_, err := (&Client{URL: hanging.URL, HTTP: hc}).Login(context.Background(), email, password, time.Hour)
	if errkind.Of(err) != errkind.Unreachable || !strings.Contains(err.Error(), "did not answer in time") {
		t.Errorf("error %v, want a timeout", err)
	}
	if hc.CheckRedirect != nil || hc.Transport != nil {
		t.Errorf("the caller's client was changed: %+v", hc)
	}
}

// TestServerTextEscaped: what a server says in its error's detail reaches
// a message escaped and cut, on every path: login 401, the schema's 5xx,
// users.me's 401 and 5xx.
func TestServerTextEscaped(t *testing.T) {
	evil := `{"detail": "\u001b]0;pwned\u0007\u001b[2J` + strings.Repeat("x", 5000) + `"}`
	for _, tt := range []struct {
		op     string
		status int
		call   string
	}{
		{testkit.OpLogin, 401, "login"},
		{testkit.OpLogin, 503, "login"},
		{testkit.OpSchema, 500, "login"},
		{testkit.OpSchema, 503, "me"},
		{testkit.OpMe, 401, "me"},
		{testkit.OpMe, 502, "me"},
	} {
		s := newStandIn(t)
		s.Fail(tt.op, tt.status, evil)
		c := &Client{URL: s.URL}
		var err error
		if tt.call == "login" {
			_, err = c.Login(context.Background(), email, password, time.Hour)
		} else {
			_, err = c.Me(context.Background(), s.Issue(email))
		}
		if err == nil {
			t.Fatalf("%s %d: no error", tt.op, tt.status)
		}
		msg := err.Error()
		if strings.ContainsAny(msg, "\x1b\x07\n") || !strings.Contains(msg, `\x1b]0;pwned\a\x1b[2J`) || len(msg) > 700 {
			t.Errorf("%s %d: message %q (%d bytes): want the detail escaped and cut", tt.op, tt.status, msg, len(msg))
		}
	}
}

// TestConcurrentUse: Me and Version on one Client from many goroutines
// (run with -race) read the schema once; against a server that accepts but
// never answers, they cost one connection and one timeout, and the failure
// is kept: a later call does not ask again. A read given up by its caller
// (cancelled) is not kept.
func TestConcurrentUse(t *testing.T) {
	const n = 20
	s := newStandIn(t)
	tok := s.Issue(email)
	c := &Client{URL: s.URL}
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if u, err := c.Me(context.Background(), tok); err != nil || u.Name != "Ali Baba" {
				errs <- fmt.Errorf("Me = %+v, %v", u, err)
			}
			if v, err := c.Version(context.Background(), tok); err != nil || v != s.Version {
				errs <- fmt.Errorf("Version = %q, %v", v, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := s.Requests(); got != 1+2*n {
		t.Errorf("%d requests, want %d: one schema read, then users.me and config.get_version each", got, 1+2*n)
	}

	hanging := testkit.NewHanging(t)
	c = &Client{URL: hanging.URL}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var unreachable sync.WaitGroup
	for range n {
		unreachable.Add(1)
		go func() {
			defer unreachable.Done()
			if _, err := c.Me(ctx, tok); errkind.Of(err) != errkind.Unreachable || !strings.Contains(err.Error(), "did not answer in time") {
				t.Errorf("Me on a hanging server: %v", err)
			}
		}()
	}
	unreachable.Wait()
	if got := hanging.Accepted(); got != 1 {
		t.Errorf("%d connections to the hanging server, want 1", got)
	}
	if _, err := c.Version(context.Background(), tok); errkind.Of(err) != errkind.Unreachable || hanging.Accepted() != 1 {
		t.Errorf("a later call: %v, %d connections; want the kept failure, no new connection", err, hanging.Accepted())
	}

	c = &Client{URL: hanging.URL}
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := c.Me(ctx, tok); !errors.Is(err, context.Canceled) || errkind.Of(err) != errkind.Unreachable {
		t.Errorf("cancelled Me = %v", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	c.Me(ctx, tok)
	if got := hanging.Accepted(); got != 3 {
		t.Errorf("%d connections, want 3: a cancelled read is not kept", got)
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

// TestErrBadURLIsURLRules: the API client's ErrBadURL is urlrule's, the
// same value as store.ErrBadURL: one rule, one error.
func TestErrBadURLIsURLRules(t *testing.T) {
	if ErrBadURL != urlrule.ErrBadURL || ErrBadURL == ErrRefused {
		t.Errorf("api.ErrBadURL = %#v, want urlrule.ErrBadURL %#v", ErrBadURL, urlrule.ErrBadURL)
	}
}

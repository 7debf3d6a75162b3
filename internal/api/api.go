// Package api logs in to a CryoSPARC instance through its HTTP API, as
// cryosparc-tools does: the login operation is found in the instance's
// OpenAPI schema and called with the SHA-256 of the password.
//
// No redirect is ever followed, whatever HTTP client a caller gives: a
// redirect is an error naming where it pointed, so that no token or
// password hash goes to another host, port or scheme (cryosparc-tools'
// client does not follow redirects either). Every error is an *Error of
// one errkind kind: Login (exit 4) when the server refused the
// credentials, the token or the request; Unreachable (exit 6) when it
// could not be reached or did not answer as CryoSPARC does (network, DNS,
// TLS, timeout, redirect, HTTP 5xx, an answer that is not CryoSPARC's);
// BadInput (exit 2) for an instance URL that cannot be used. Messages are
// one line of safe text: URLs through text.URL, what the server says
// through text.Safe, never a token or password.
package api

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
	"github.com/cryosparc-credential/cryosparc-credential/internal/urlrule"
)

// apiPath is where the API lives under the instance URL.
const apiPath = "/api/cmd"

// The errors callers branch on. Every error of this package is an *Error
// that matches exactly one of ErrRefused, ErrUnreachable and ErrBadURL,
// and the errkind kind that one has.
var (
	// ErrRefused: the server refused the credentials, the token or the
	// request (HTTP 401, 403, and 400 or 422 to an operation). Kind
	// errkind.Login (exit 4): log in again, or fix what was sent.
	ErrRefused = errkind.New(errkind.Login, "the server refused")
	// ErrRejected: the server refused the token (HTTP 401 or 403 to
	// users.me or config.get_version): the session must be renewed. Such an
	// error also matches ErrRefused.
	ErrRejected = errkind.New(errkind.Login, "the server rejected the token")
	// ErrUnreachable: the server could not be reached, or did not answer as
	// CryoSPARC does. Kind errkind.Unreachable (exit 6): retry later, or fix
	// the URL.
	ErrUnreachable = errkind.New(errkind.Unreachable, "the server could not be reached or did not answer as CryoSPARC")
	// ErrRedirect: the server answered with a redirect, which is not
	// followed. Such an error also matches ErrUnreachable; its Location
	// says, made safe, where it pointed.
	ErrRedirect = errkind.New(errkind.Unreachable, "the server redirects")
	// ErrBadURL: the instance URL cannot be used. Kind errkind.BadInput
	// (exit 2).
	// It is urlrule.ErrBadURL, the same value as store.ErrBadURL.
	ErrBadURL = errkind.New(errkind.BadInput, "invalid instance URL")
)

// Error is a failed call: what went wrong and what to do about it.
type Error struct {
	Msg      string // one line, safe to print; no "login failed: " prefix
	Status   int    // the HTTP status, when the server answered
	Location string // for a redirect: where it pointed, made safe by text.URL

	kind  errkind.Kind
	is    error  // ErrRejected, ErrRedirect or nil
	cause error  // what the transport failed with, if it did
	op    string // "login" for an error of Login
}

func (e *Error) Error() string {
	if e.op != "" {
		return e.op + " failed: " + e.Msg
	}
	return e.Msg
}

// Unwrap returns what the transport failed with, if it did (such as a
// context.DeadlineExceeded or a *net.OpError).
func (e *Error) Unwrap() error { return e.cause }

// Is makes the error match its kind and the one of ErrRefused,
// ErrUnreachable and ErrBadURL of that kind, and ErrRejected or ErrRedirect
// when it is one.
func (e *Error) Is(target error) bool {
	switch {
	case target == nil:
		return false
	case target == e.kind || target == e.is:
		return true
	case target == ErrRefused:
		return e.kind == errkind.Login
	case target == ErrUnreachable:
		return e.kind == errkind.Unreachable
	case target == ErrBadURL:
		return e.kind == errkind.BadInput
	}
	return false
}

func fail(kind errkind.Kind, status int, format string, a ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, a...), Status: status, kind: kind}
}

func unreachable(status int, format string, a ...any) *Error {
	return fail(errkind.Unreachable, status, format, a...)
}

// Token is what the login operation returns.
type Token struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
}

// Client talks to one CryoSPARC instance. Its methods are safe for
// concurrent use; set its fields before the first call, which reads them.
type Client struct {
	URL       string       // the instance's web URL, e.g. https://cryosparc.example.com
	HTTP      *http.Client // nil for one with a 30 s timeout; redirects are never followed either way
	UserAgent string

	once   sync.Once
	client *http.Client // HTTP, or the default, made not to follow redirects
	base   string       // URL without its trailing slashes
	urlErr error        // why URL cannot be used

	mu     sync.Mutex
	schema *schemaRead // the read of the schema: in progress, done or failed
}

// schemaRead is one read of the schema, shared by the calls that need it.
type schemaRead struct {
	done chan struct{} // closed when ops and err are set
	ops  map[string]string
	err  error
}

// init checks the URL and makes the HTTP client, once.
func (c *Client) init() {
	c.once.Do(func() {
		c.base = strings.TrimRight(c.URL, "/")
		c.urlErr = checkURL(c.URL)
		hc := http.Client{Timeout: 30 * time.Second}
		if c.HTTP != nil {
			hc = *c.HTTP // a copy: the caller's client is left as it is
		}
		next := hc.Transport
		if next == nil {
			next = http.DefaultTransport
		}
		hc.Transport = noRedirect{next}
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		c.client = &hc
	})
}

// checkURL refuses an instance URL that requests cannot be made to, or
// that would send a user name and password as basic authentication: one
// that urlrule refuses (as store does), or that has no scheme.
func checkURL(raw string) error {
	if _, err := urlrule.Canonical(raw); err != nil {
		return fail(errkind.BadInput, 0, "%s", err.Error())
	}
	if urlrule.WithScheme(raw) != raw {
		return fail(errkind.BadInput, 0, "instance URL %s is not usable: its scheme is not http:// or https://", text.URL(raw))
	}
	return nil
}

// locationKey is where noRedirect moves the Location of a redirect, so
// that net/http never sees one to follow (nor to fail parsing, with the
// raw header in its error).
const locationKey = "X-Cryosparc-Credential-Location"

// noRedirect hides the Location of every 3xx answer from net/http's
// redirect logic: whatever the client's CheckRedirect, nothing is followed.
type noRedirect struct{ next http.RoundTripper }

func (n noRedirect) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := n.next.RoundTrip(req)
	if err == nil && res.StatusCode >= 300 && res.StatusCode < 400 {
		loc := res.Header.Get("Location")
		res.Header.Del("Location")
		res.Header.Del(locationKey)
		if loc != "" {
			res.Header.Set(locationKey, loc)
		}
	}
	return res, err
}

// maxBody bounds what is read of an answer.
const maxBody = 32 << 20

// Login finds the login operation in the instance's OpenAPI schema, posts
// the email, the SHA-256 of the password and the lifetime asked for, and
// returns the token. Every error is an *Error whose message starts with
// "login failed: " and says what to do.
func (c *Client) Login(ctx context.Context, email, password string, expiresIn time.Duration) (Token, error) {
	tok, err := c.login(ctx, email, password, expiresIn)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			cp := *e // e may be shared: the schema's error is
			cp.op = "login"
			return Token{}, &cp
		}
		return Token{}, err
	}
	return tok, nil
}

func (c *Client) login(ctx context.Context, email, password string, expiresIn time.Duration) (Token, error) {
	op, err := c.operation(ctx, "login", http.MethodPost)
	if err != nil {
		return Token{}, err
	}
	sum := sha256.Sum256([]byte(password))
	form := url.Values{
		"grant_type": {"password"},
		"username":   {email},
		"password":   {hex.EncodeToString(sum[:])},
		"expires_in": {strconv.FormatInt(int64(expiresIn/time.Second), 10)},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, op, strings.NewReader(form.Encode()))
	if err != nil {
		return Token{}, unreachable(0, "the login operation of %s has an unusable path (%s); is this a CryoSPARC instance?", text.URL(c.URL), text.URL(op))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	body, status, err := c.do(req)
	if err != nil {
		return Token{}, err
	}
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		return Token{}, fail(errkind.Login, status, "%s refused the login (HTTP %d%s); check the email and password", text.URL(c.URL), status, detail(body))
	}
	if err := c.answerError("the login", status, body); err != nil {
		return Token{}, err
	}
	var tok Token
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return Token{}, unreachable(status, "%s answered the login with something other than a token (HTTP %d); is this a CryoSPARC instance?", text.URL(c.URL), status)
	}
	if strings.ContainsAny(tok.AccessToken, "\n\x00") || strings.HasSuffix(tok.AccessToken, "\r") {
		return Token{}, unreachable(status, "%s issued a token holding a line break or NUL, which could never be read back; nothing was stored", text.URL(c.URL))
	}
	if !strings.EqualFold(tok.TokenType, "bearer") {
		return Token{}, unreachable(status, "%s issued a %s token; only bearer tokens are supported", text.URL(c.URL), text.Quote(tok.TokenType))
	}
	tok.TokenType = "bearer"
	return tok, nil
}

// answerError returns the error for an answer other than 2xx to what (such
// as "the login"), or nil for a 2xx answer. 400 and 422 are the server
// refusing the request (ErrRefused); any other status is not an answer
// CryoSPARC gives to a well-formed call (ErrUnreachable).
func (c *Client) answerError(what string, status int, body []byte) error {
	switch {
	case status >= 200 && status < 300:
		return nil
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		return fail(errkind.Login, status, "%s refused %s (HTTP %d%s)", text.URL(c.URL), what, status, detail(body))
	case status >= 500:
		return unreachable(status, "%s answered %s with HTTP %d%s; the server has a problem: try again later, or ask its administrator", text.URL(c.URL), what, status, detail(body))
	}
	return unreachable(status, "%s answered %s with HTTP %d%s; is this a CryoSPARC v5 instance?", text.URL(c.URL), what, status, detail(body))
}

// User is who a token belongs to, as the users.me operation answers.
type User struct {
	Name      string `json:"name"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	// Emails are the user's addresses: whose token it is.
	Emails []struct {
		Address string `json:"address"`
	} `json:"emails"`
}

// HasEmail reports whether email is one of u's addresses (letter case
// aside), or whether u names none to compare with.
func (u User) HasEmail(email string) bool {
	if len(u.Emails) == 0 {
		return true
	}
	for _, e := range u.Emails {
		if strings.EqualFold(strings.TrimSpace(e.Address), email) {
			return true
		}
	}
	return false
}

// Me asks the instance who token belongs to (the GET operation whose
// summary is users.me). A token the server refuses gives an error matching
// ErrRejected (kind errkind.Login). Me is safe for concurrent use: calls on
// one Client share its one read of the schema.
func (c *Client) Me(ctx context.Context, token string) (User, error) {
	var u User
	status, body, err := c.get(ctx, "users.me", token)
	if err != nil {
		return u, err
	}
	if err := json.Unmarshal(body, &u); err != nil {
		return u, unreachable(status, "%s answered users.me with something other than a user; is this a CryoSPARC instance?", text.URL(c.URL))
	}
	return u, nil
}

// Version asks the instance for its CryoSPARC version (the GET operation
// whose summary is config.get_version). It is safe for concurrent use, as
// Me is.
func (c *Client) Version(ctx context.Context, token string) (string, error) {
	status, body, err := c.get(ctx, "config.get_version", token)
	if err != nil {
		return "", err
	}
	var v string
	if err := json.Unmarshal(body, &v); err != nil {
		return "", unreachable(status, "%s answered config.get_version with something other than a version; is this a CryoSPARC instance?", text.URL(c.URL))
	}
	return v, nil
}

// get calls the GET operation with the given summary, with token as the
// bearer credential, and returns a 2xx answer.
func (c *Client) get(ctx context.Context, summary, token string) (int, []byte, error) {
	op, err := c.operation(ctx, summary, http.MethodGet)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, op, nil)
	if err != nil {
		return 0, nil, unreachable(0, "the %s operation of %s has an unusable path (%s); is this a CryoSPARC instance?", summary, text.URL(c.URL), text.URL(op))
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	body, status, err := c.do(req)
	if err != nil {
		return status, nil, err
	}
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		e := fail(errkind.Login, status, "%s rejected the token (HTTP %d%s)", text.URL(c.URL), status, detail(body))
		e.is = ErrRejected
		return status, nil, e
	}
	return status, body, c.answerError(summary, status, body)
}

// operation returns the URL of the operation with the given summary and
// method, read from the instance's OpenAPI schema.
func (c *Client) operation(ctx context.Context, summary, method string) (string, error) {
	ops, err := c.operations(ctx)
	if err != nil {
		return "", err
	}
	path, ok := ops[strings.ToLower(method)+" "+summary]
	if !ok {
		return "", unreachable(0, "the API of %s has no %s operation: is the instance CryoSPARC v5 or later?", text.URL(c.URL), summary)
	}
	return c.base + apiPath + "/" + strings.TrimLeft(path, "/"), nil
}

// operations returns the operations of the schema, read once per Client:
// concurrent calls wait for the one read, or for their own context. A
// failed read is kept (the instance is not asked again by this Client, so
// that sessions of an instance that does not answer cost one timeout),
// unless it failed because its caller gave up (context.Canceled): then the
// next call, or a waiting one, reads it again.
func (c *Client) operations(ctx context.Context) (map[string]string, error) {
	c.init()
	if c.urlErr != nil {
		return nil, c.urlErr
	}
	c.mu.Lock()
	r := c.schema
	first := r == nil
	if first {
		r = &schemaRead{done: make(chan struct{})}
		c.schema = r
	}
	c.mu.Unlock()
	if first {
		r.ops, r.err = c.readSchema(ctx)
		if errors.Is(r.err, context.Canceled) {
			c.mu.Lock()
			c.schema = nil // the next call reads it again
			c.mu.Unlock()
		}
		close(r.done)
		return r.ops, r.err
	}
	select {
	case <-r.done:
		if errors.Is(r.err, context.Canceled) && ctx.Err() == nil {
			return c.operations(ctx) // its caller gave up, this one has not
		}
		return r.ops, r.err
	case <-ctx.Done():
		return nil, transportError(c.URL, ctx.Err())
	}
}

// readSchema reads the OpenAPI schema and returns the path of each
// operation by "method summary". Every error is ErrUnreachable: the schema
// is public, so an answer other than it means the URL is not a CryoSPARC
// v5 API.
func (c *Client) readSchema(ctx context.Context) (map[string]string, error) {
	schemaURL := c.base + apiPath + "/openapi.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, schemaURL, nil)
	if err != nil {
		return nil, fail(errkind.BadInput, 0, "instance URL %s is not usable: %s", text.URL(c.URL), text.Safe(err.Error()))
	}
	req.Header.Set("Accept", "application/json")
	body, status, err := c.do(req)
	if err != nil {
		return nil, err
	}
	switch {
	case status == http.StatusNotFound:
		return nil, unreachable(status, "%s was not found (HTTP 404): is %s the CryoSPARC web URL, and is the instance CryoSPARC v5 or later?", text.URL(schemaURL), text.URL(c.URL))
	case status >= 500:
		return nil, unreachable(status, "%s answered HTTP %d%s; the server has a problem: try again later, or ask its administrator", text.URL(schemaURL), status, detail(body))
	case status >= 300:
		return nil, unreachable(status, "%s answered HTTP %d%s: is %s the CryoSPARC web URL?", text.URL(schemaURL), status, detail(body), text.URL(c.URL))
	}
	var schema struct {
		Paths map[string]map[string]struct {
			Summary string `json:"summary"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(body, &schema); err != nil || schema.Paths == nil {
		return nil, unreachable(status, "%s is not an OpenAPI schema: is %s the CryoSPARC web URL?", text.URL(schemaURL), text.URL(c.URL))
	}
	ops := map[string]string{}
	for path, methods := range schema.Paths {
		for method, op := range methods {
			ops[strings.ToLower(method)+" "+op.Summary] = path
		}
	}
	return ops, nil
}

// do sends req and reads the answer, turning transport failures and
// redirects into errors that say what to do.
func (c *Client) do(req *http.Request) ([]byte, int, error) {
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	res, err := c.client.Do(req)
	if err != nil {
		return nil, 0, transportError(c.URL, err)
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 && res.StatusCode < 400 {
		return nil, res.StatusCode, c.redirect(req, res)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		e := unreachable(res.StatusCode, "%s broke off its answer (%s); try again later", text.URL(c.URL), cause(err))
		if errors.Is(err, context.DeadlineExceeded) {
			e.Msg = text.URL(c.URL) + " did not finish its answer in time; check the network and any proxy, or try again later"
		}
		e.cause = err
		return nil, res.StatusCode, e
	}
	return body, res.StatusCode, nil
}

// redirect returns the error for the redirect res answered to req: where
// it pointed and, when it kept the API's path, the instance URL to use.
func (c *Client) redirect(req *http.Request, res *http.Response) error {
	e := unreachable(res.StatusCode, "")
	e.is = ErrRedirect
	loc := res.Header.Get(locationKey)
	if loc == "" {
		e.Msg = fmt.Sprintf("%s answered HTTP %d, a redirect without a Location; is this the CryoSPARC web URL?", text.URL(c.URL), res.StatusCode)
		return e
	}
	e.Location = text.URL(loc)
	to, err := req.URL.Parse(loc)
	if err != nil {
		e.Msg = fmt.Sprintf("%s redirects to %s, which is not followed, nor a URL; is this the CryoSPARC web URL?", text.URL(c.URL), e.Location)
		return e
	}
	e.Location = text.URL(to.String())
	use := "if that is the CryoSPARC instance, use its URL"
	// The API's path under the instance (/api/cmd/…), kept by the
	// redirect, tells the instance URL it redirects to.
	if base, err := url.Parse(c.base); err == nil {
		tail := strings.TrimPrefix(req.URL.EscapedPath(), base.EscapedPath())
		if p := to.EscapedPath(); strings.HasSuffix(p, tail) && strings.HasPrefix(tail, apiPath+"/") && to.Host != "" {
			instance := url.URL{Scheme: to.Scheme, Host: to.Host} // a user:password in it is not for an instance URL
			use = "use " + text.URL(instance.String()+p[:len(p)-len(tail)]) + " as the instance URL"
		}
	}
	e.Msg = fmt.Sprintf("%s redirects to %s (HTTP %d), which is not followed so that no password or token goes elsewhere; %s", text.URL(c.URL), e.Location, res.StatusCode, use)
	return e
}

// transportError returns the error for a request that got no answer: all of
// kind Unreachable.
func transportError(instance string, err error) *Error {
	var (
		unknownCA   x509.UnknownAuthorityError
		hostname    x509.HostnameError
		invalid     x509.CertificateInvalidError
		tlsRecord   tls.RecordHeaderError
		certVerify  *tls.CertificateVerificationError
		dnsErr      *net.DNSError
		netErr      net.Error
		badHeader   textproto.ProtocolError
		trustAdvice = "; if your lab uses its own certificate authority, point SSL_CERT_FILE at its certificate (export SSL_CERT_FILE=/path/to/lab-ca.pem)"
		shown       = text.URL(instance)
		e           *Error
	)
	switch {
	case errors.As(err, &unknownCA), errors.As(err, &certVerify), errors.As(err, &invalid):
		e = unreachable(0, "the TLS certificate of %s is not trusted (%s)%s", shown, cause(err), trustAdvice)
	case errors.As(err, &hostname):
		e = unreachable(0, "the TLS certificate of %s is for another host (%s); use the URL the certificate names", shown, text.Safe(hostname.Error()))
	case errors.As(err, &tlsRecord), errors.Is(err, http.ErrSchemeMismatch):
		e = unreachable(0, "%s does not speak TLS; try http:// instead of https://", shown)
	case errors.Is(err, syscall.ECONNREFUSED):
		e = unreachable(0, "cannot connect to %s: connection refused; is CryoSPARC running, and are the host and port right?", shown)
	case errors.As(err, &dnsErr):
		e = unreachable(0, "cannot find the host of %s (%s); check the URL", shown, text.Safe(dnsErr.Error()))
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		e = unreachable(0, "%s did not answer in time; check the URL, the network and any proxy or firewall", shown)
	case errors.Is(err, context.Canceled):
		e = unreachable(0, "the request to %s was cancelled", shown)
	case errors.As(err, &badHeader):
		// Not shown: the header line could hold anything.
		e = unreachable(0, "%s answered with a malformed HTTP header; is this a CryoSPARC instance?", shown)
	default:
		e = unreachable(0, "cannot reach %s: %s", shown, cause(err))
	}
	e.cause = err
	return e
}

// cause returns the innermost error of err as safe text: never the URL a
// *url.Error names.
func cause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return text.Safe(err.Error())
		}
		err = next
	}
}

// detail returns the "detail" of a CryoSPARC error answer, if there is
// one, on one line, made safe and cut: ": …", or "".
func detail(body []byte) string {
	var e struct {
		Detail json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &e) != nil || len(e.Detail) == 0 || string(e.Detail) == "null" {
		return ""
	}
	s := string(e.Detail)
	var str string
	if json.Unmarshal(e.Detail, &str) == nil {
		s = str
	}
	return ": " + text.Safe(strings.Join(strings.Fields(s), " "))
}

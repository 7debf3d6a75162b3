// Package api logs in to a CryoSPARC instance through its HTTP API, as
// cryosparc-tools does: the login operation is found in the instance's
// OpenAPI schema and called with the SHA-256 of the password.
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
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
)

// Suffix is where the API lives under the instance URL.
const Suffix = "/api/cmd"

// ErrLogin is matched by every error Login returns.
var ErrLogin = errkind.New(errkind.Login, "login failed")

// Error is a failed login: what went wrong and what to do about it.
type Error struct {
	Msg      string
	Status   int // the HTTP status, when the server answered
	rejected bool
}

func (e *Error) Error() string { return "login failed: " + e.Msg }

// Is makes the error match ErrLogin and errkind.Login, and ErrRejected
// when the server refused the token.
func (e *Error) Is(target error) bool {
	return target == ErrLogin || target == errkind.Login || target == ErrRejected && e.rejected
}

func fail(status int, format string, a ...any) error {
	return &Error{Msg: fmt.Sprintf(format, a...), Status: status}
}

// Token is what the login operation returns.
type Token struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
}

// Client talks to one CryoSPARC instance.
type Client struct {
	URL       string       // the instance's web URL, e.g. https://cryosparc.example.com
	HTTP      *http.Client // nil for a client with a 30 s timeout
	UserAgent string

	ops map[string]string // "method summary" → path, once read
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 30 * time.Second}
}

// maxBody bounds what is read of an answer.
const maxBody = 32 << 20

// Login finds the login operation in the instance's OpenAPI schema, posts
// the email, the SHA-256 of the password and the lifetime asked for, and
// returns the token. Every error matches ErrLogin and says what to do.
func (c *Client) Login(ctx context.Context, email, password string, expiresIn time.Duration) (Token, error) {
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
		return Token{}, fail(0, "bad login URL %s: %v", op, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	body, status, err := c.do(req)
	if err != nil {
		return Token{}, err
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return Token{}, fail(status, "%s refused the login (HTTP %d%s); check the email and password", c.URL, status, detail(body))
	case status >= 400:
		return Token{}, fail(status, "%s answered the login with HTTP %d%s", c.URL, status, detail(body))
	}
	var tok Token
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return Token{}, fail(status, "%s answered the login with something other than a token (HTTP %d); is this a CryoSPARC instance?", c.URL, status)
	}
	if strings.ContainsAny(tok.AccessToken, "\n\x00") || strings.HasSuffix(tok.AccessToken, "\r") {
		return Token{}, fail(status, "%s issued a token holding a line break or NUL, which could never be read back; nothing was stored", c.URL)
	}
	if !strings.EqualFold(tok.TokenType, "bearer") {
		return Token{}, fail(status, "%s issued a %q token; only bearer tokens are supported", c.URL, tok.TokenType)
	}
	tok.TokenType = "bearer"
	return tok, nil
}

// User is who a token belongs to, as the users.me operation answers.
type User struct {
	Name      string `json:"name"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

// ErrRejected is matched by the error of Me when the server refused the
// token (HTTP 401 or 403): the session must be renewed.
var ErrRejected = errors.New("the server rejected the token")

// Me asks the instance who token belongs to (the GET operation whose
// summary is users.me). A token the server refuses gives an error matching
// ErrRejected; every error matches ErrLogin.
func (c *Client) Me(ctx context.Context, token string) (User, error) {
	var u User
	status, body, err := c.get(ctx, "users.me", token)
	if err != nil {
		return u, err
	}
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		return u, &Error{Msg: fmt.Sprintf("%s rejected the token (HTTP %d%s)", c.URL, status, detail(body)), Status: status, rejected: true}
	}
	if status >= 400 {
		return u, fail(status, "%s answered users.me with HTTP %d%s", c.URL, status, detail(body))
	}
	if err := json.Unmarshal(body, &u); err != nil {
		return u, fail(status, "%s answered users.me with something other than a user", c.URL)
	}
	return u, nil
}

// Version asks the instance for its CryoSPARC version (the GET operation
// whose summary is config.get_version).
func (c *Client) Version(ctx context.Context, token string) (string, error) {
	status, body, err := c.get(ctx, "config.get_version", token)
	if err != nil {
		return "", err
	}
	if status >= 400 {
		return "", fail(status, "%s answered config.get_version with HTTP %d%s", c.URL, status, detail(body))
	}
	var v string
	if err := json.Unmarshal(body, &v); err != nil {
		return "", fail(status, "%s answered config.get_version with something other than a version", c.URL)
	}
	return v, nil
}

// get calls the GET operation with the given summary, with token as the
// bearer credential.
func (c *Client) get(ctx context.Context, summary, token string) (int, []byte, error) {
	op, err := c.operation(ctx, summary, http.MethodGet)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, op, nil)
	if err != nil {
		return 0, nil, fail(0, "bad URL %s: %v", op, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	body, status, err := c.do(req)
	return status, body, err
}

// operation returns the URL of the operation with the given summary and
// method, read from the instance's OpenAPI schema (read once per Client).
func (c *Client) operation(ctx context.Context, summary, method string) (string, error) {
	if c.ops == nil {
		ops, err := c.schema(ctx)
		if err != nil {
			return "", err
		}
		c.ops = ops
	}
	path, ok := c.ops[strings.ToLower(method)+" "+summary]
	if !ok {
		return "", fail(0, "the API of %s has no %s operation: is the instance CryoSPARC v5 or later?", c.URL, summary)
	}
	return strings.TrimRight(c.URL, "/") + Suffix + "/" + strings.TrimLeft(path, "/"), nil
}

// schema reads the OpenAPI schema and returns the path of each operation
// by "method summary".
func (c *Client) schema(ctx context.Context) (map[string]string, error) {
	base := strings.TrimRight(c.URL, "/") + Suffix
	schemaURL := base + "/openapi.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, schemaURL, nil)
	if err != nil {
		return nil, fail(0, "bad instance URL %s: %v", c.URL, err)
	}
	req.Header.Set("Accept", "application/json")
	body, status, err := c.do(req)
	if err != nil {
		return nil, err
	}
	switch {
	case status == http.StatusNotFound:
		return nil, fail(status, "%s was not found (HTTP 404): is %s the CryoSPARC web URL, and is the instance CryoSPARC v5 or later?", schemaURL, c.URL)
	case status >= 400:
		return nil, fail(status, "%s answered HTTP %d%s", schemaURL, status, detail(body))
	}
	var schema struct {
		Paths map[string]map[string]struct {
			Summary string `json:"summary"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(body, &schema); err != nil || schema.Paths == nil {
		return nil, fail(status, "%s is not an OpenAPI schema: is %s the CryoSPARC web URL?", schemaURL, c.URL)
	}
	ops := map[string]string{}
	for path, methods := range schema.Paths {
		for method, op := range methods {
			ops[strings.ToLower(method)+" "+op.Summary] = path
		}
	}
	return ops, nil
}

// do sends req and reads the answer, turning transport failures into
// errors that say what to do.
func (c *Client) do(req *http.Request) ([]byte, int, error) {
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	res, err := c.http().Do(req)
	if err != nil {
		return nil, 0, transportError(c.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return nil, res.StatusCode, fail(res.StatusCode, "reading the answer of %s: %v", c.URL, err)
	}
	return body, res.StatusCode, nil
}

func transportError(instance string, err error) error {
	var (
		unknownCA   x509.UnknownAuthorityError
		hostname    x509.HostnameError
		invalid     x509.CertificateInvalidError
		tlsRecord   tls.RecordHeaderError
		certVerify  *tls.CertificateVerificationError
		dnsErr      *net.DNSError
		netErr      net.Error
		urlErr      *url.Error
		trustAdvice = "; if your lab uses its own certificate authority, point SSL_CERT_FILE at its certificate (export SSL_CERT_FILE=/path/to/lab-ca.pem)"
	)
	switch {
	case errors.As(err, &unknownCA), errors.As(err, &certVerify), errors.As(err, &invalid):
		return fail(0, "the TLS certificate of %s is not trusted (%v)%s", instance, rootCause(err), trustAdvice)
	case errors.As(err, &hostname):
		return fail(0, "the TLS certificate of %s is for another host (%v); use the URL the certificate names", instance, hostname)
	case errors.As(err, &tlsRecord):
		return fail(0, "%s does not speak TLS; try http:// instead of https://", instance)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fail(0, "cannot connect to %s: connection refused; is CryoSPARC running, and are the host and port right?", instance)
	case errors.As(err, &dnsErr):
		return fail(0, "cannot find the host of %s (%v); check the URL", instance, dnsErr)
	case errors.As(err, &netErr) && netErr.Timeout():
		return fail(0, "%s did not answer in time; check the URL, the network and any proxy or firewall", instance)
	case errors.As(err, &urlErr):
		return fail(0, "cannot reach %s: %v", instance, rootCause(err))
	}
	return fail(0, "cannot reach %s: %v", instance, err)
}

func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// detail quotes the "detail" of a CryoSPARC error answer, if there is one.
func detail(body []byte) string {
	var e struct {
		Detail json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &e) != nil || len(e.Detail) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(e.Detail, &s) == nil {
		return ": " + oneLine(s)
	}
	return ": " + oneLine(string(e.Detail))
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

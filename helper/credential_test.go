package helper

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/protocol"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

var now = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

const secret = "S3CR3T-token-value"

const startFile = `{
    "https://cryosparc.example.com": {
        "ali@example.com": {
            "token": {
                "access_token": "ali-token",
                "token_type": "bearer"
            },
            "expires": "2099-01-31T12:00:00+05:30"
        },
        "bo@example.com": {
            "token": {
                "access_token": "bo-token",
                "token_type": "bearer"
            },
            "expires": "2099-02-01T00:00:00.250000Z"
        }
    },
    "http://lab:39000": {
        "ali@example.com": {
            "token": {
                "access_token": "lab-token",
                "token_type": "bearer"
            },
            "expires": "2099-03-01T00:00:00Z"
        }
    }
}`

func newHelper(t *testing.T, content string) (*Commands, *bytes.Buffer) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "auth.json")
	if content != "" {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var stderr bytes.Buffer
	return &Commands{
		Path:    path,
		Options: store.Options{Now: func() time.Time { return now }, LockTimeout: time.Second},
		IO:      IOStreams{ErrOut: &stderr},
	}, &stderr
}

func TestGet(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"url and email", "url=https://cryosparc.example.com\nemail=bo@example.com\n",
			"url=https://cryosparc.example.com\nemail=bo@example.com\naccess_token=bo-token\ntoken_type=bearer\nexpires=2099-02-01T00:00:00.250000Z\n"},
		{"url only: first session", "url=https://cryosparc.example.com\n\n",
			"url=https://cryosparc.example.com\nemail=ali@example.com\naccess_token=ali-token\ntoken_type=bearer\nexpires=2099-01-31T12:00:00+05:30\n"},
		{"nothing: first session of first instance", "",
			"url=https://cryosparc.example.com\nemail=ali@example.com\naccess_token=ali-token\ntoken_type=bearer\nexpires=2099-01-31T12:00:00+05:30\n"},
		{"scheme-less url gets http://", "url=lab:39000\n",
			"url=http://lab:39000\nemail=ali@example.com\naccess_token=lab-token\ntoken_type=bearer\nexpires=2099-03-01T00:00:00Z\n"},
		{"canonical match answers with the stored key", "url=HTTPS://CryoSPARC.example.com:443/\nemail=bo@example.com\n",
			"url=https://cryosparc.example.com\nemail=bo@example.com\naccess_token=bo-token\ntoken_type=bearer\nexpires=2099-02-01T00:00:00.250000Z\n"},
		{"git keys in, git keys out", "protocol=https\nhost=cryosparc.example.com\nusername=bo@example.com\n",
			"protocol=https\nhost=cryosparc.example.com\nusername=bo@example.com\npassword=bo-token\n"},
		{"git with port and path echoed", "protocol=http\nhost=lab:39000\n",
			"protocol=http\nhost=lab:39000\nusername=ali@example.com\npassword=lab-token\n"},
		{"git capability lines accepted", "capability[]=authtype\nprotocol=http\nhost=lab:39000\n",
			"protocol=http\nhost=lab:39000\nusername=ali@example.com\npassword=lab-token\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, stderr := newHelper(t, startFile)
			var out bytes.Buffer
			if err := withIO(h, strings.NewReader(tt.in), &out).Get(); err != nil {
				t.Fatalf("Get: %v", err)
			}
			if out.String() != tt.want {
				t.Errorf("Get wrote\n%s\nwant\n%s", out.String(), tt.want)
			}
			if stderr.Len() != 0 {
				t.Errorf("unexpected stderr %q", stderr)
			}
		})
	}
}

func TestGetNotFound(t *testing.T) {
	for _, tt := range []struct {
		in     string
		silent bool // git's requests: a helper with nothing to give says nothing
	}{
		{"url=https://other.example.com\n", false},
		{"url=https://cryosparc.example.com\nemail=zed@example.com\n", false},
		{"protocol=https\nhost=cryosparc.example.com\npath=sub\n", true},
		{"protocol=http\nhost=cryosparc.example.com\n", true},
		{"protocol=https\nhost=cryosparc.example.com:8443\n", true},
	} {
		h, _ := newHelper(t, startFile)
		var out bytes.Buffer
		err := withIO(h, strings.NewReader(tt.in), &out).Get()
		if !errors.Is(err, ErrNotFound) || out.Len() != 0 || IsSilent(err) != tt.silent {
			t.Errorf("Get(%q) = %v (silent %v), wrote %q; want ErrNotFound, silent %v, nothing written", tt.in, err, IsSilent(err), out.String(), tt.silent)
		}
	}
	h, _ := newHelper(t, "")
	if err := withIO(h, strings.NewReader(""), &bytes.Buffer{}).Get(); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get with no file = %v, want ErrNotFound", err)
	}
}

// TestUnknownKeys: in a url= request an unknown key is bad input, never
// "any instance"; the key is named only when it looks like one. git's
// requests ignore keys they do not know, silently.
func TestUnknownKeys(t *testing.T) {
	token := "dGhpcyBpcyBhIHRva2VuIHRoYXQgd2FzIHBpcGVkIGJ5IG1pc3Rha2U"
	tests := []struct {
		name, in string
		named    string // the key the error names, "" for none
	}{
		{"upper-case URL", "URL=https://b.example.org\n", `"URL"`},
		{"spaces around =", "url = https://b.example.org\n", `"url "`},
		{"misspelled email", "url=https://cryosparc.example.com\nemial=bo@example.com\n", `"emial"`},
		{"a lone token", token + "==\n", ""},
		{"a long key", strings.Repeat("k", 65000) + "=v\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, stderr := newHelper(t, startFile)
			var out bytes.Buffer
			err := withIO(h, strings.NewReader(tt.in), &out).Get()
			if !errors.Is(err, errkind.BadInput) || out.Len() != 0 {
				t.Fatalf("Get = %v, wrote %q; want bad input and nothing written", err, out.String())
			}
			msg := err.Error()
			if tt.named != "" && !strings.Contains(msg, tt.named) {
				t.Errorf("error %q does not name %s", msg, tt.named)
			}
			if tt.named == "" && (strings.Contains(msg, token[:12]) || strings.Contains(msg, "kkkkkkkk")) {
				t.Errorf("error %q echoes the key", msg)
			}
			if len(msg) > 400 || stderr.Len() != 0 {
				t.Errorf("error of %d bytes, stderr %q: want one short line", len(msg), stderr)
			}
		})
	}
	h, stderr := newHelper(t, startFile)
	var out bytes.Buffer
	if err := withIO(h, strings.NewReader("protocol=https\nhost=cryosparc.example.com\nnewkey=x\nwwwauth[]=Basic\n"), &out).Get(); err != nil || stderr.Len() != 0 {
		t.Errorf("git request with unknown keys: %v, stderr %q; want an answer and nothing on stderr", err, stderr)
	}
}

func TestGetServesValidPartOfInvalidFile(t *testing.T) {
	content := `{"https://x": {"bad@x": {"token": {"access_token": "` + secret + `", "token_type": "bearer"}, "expires": "2099-01-01"},
	"ok@x": {"token": {"access_token": "good", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}}`
	h, stderr := newHelper(t, content)
	var out bytes.Buffer
	if err := withIO(h, strings.NewReader("url=https://x\n"), &out).Get(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "access_token=good\n") {
		t.Errorf("Get wrote %q, want the valid session", out.String())
	}
	if !strings.Contains(stderr.String(), "doctor") || strings.Contains(stderr.String(), secret) {
		t.Errorf("stderr = %q, want a warning pointing to doctor without the token", stderr)
	}
}

func TestStore(t *testing.T) {
	tests := []struct {
		name, in string
		find     [2]string
		want     string // the stored session as "email token expires"
	}{
		{"expires kept with its offset", "url=https://new.example.com\nemail=cy@x\naccess_token=tok\nexpires=2099-05-06T07:08:09.1234567-0330\n",
			[2]string{"https://new.example.com", "cy@x"}, "https://new.example.com cy@x tok 2099-05-06T07:08:09.123456-03:30"},
		{"expires_in from now, whole seconds, UTC", "url=https://new.example.com\nemail=cy@x\naccess_token=tok\nexpires_in=3600\n",
			[2]string{"https://new.example.com", "cy@x"}, "https://new.example.com cy@x tok 2026-03-04T06:06:07Z"},
		{"default lifetime 14 days", "url=https://new.example.com\nemail=cy@x\naccess_token=tok\ntoken_type=Bearer\n",
			[2]string{"https://new.example.com", "cy@x"}, "https://new.example.com cy@x tok 2026-03-18T05:06:07Z"},
		{"replace under canonical key", "url=https://CRYOSPARC.example.com/\nemail=bo@example.com\naccess_token=new\nexpires_in=60\n",
			[2]string{"https://cryosparc.example.com", "bo@example.com"}, "https://cryosparc.example.com bo@example.com new 2026-03-04T05:07:07Z"},
		{"new instance stored canonical", "url=HTTP://New.example.com:80/\nemail=cy@x\naccess_token=tok\nexpires_in=60\n",
			[2]string{"http://new.example.com", "cy@x"}, "http://new.example.com cy@x tok 2026-03-04T05:07:07Z"},
		{"git keys", "protocol=https\nhost=git.example.com:8443\npath=/cs/\nusername=cy@x\npassword=pw\npassword_expiry_utc=4102444800\n",
			[2]string{"https://git.example.com:8443/cs", "cy@x"}, "https://git.example.com:8443/cs cy@x pw 2100-01-01T00:00:00Z"},
		// git may store an empty password (its helpers' test suite does).
		{"git's empty password allowed", "protocol=https\nhost=new.example.com\nusername=cy@x\npassword=\n",
			[2]string{"https://new.example.com", "cy@x"}, "https://new.example.com cy@x  2026-03-18T05:06:07Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newHelper(t, startFile)
			if err := withIO(h, strings.NewReader(tt.in), nil).Store(); err != nil {
				t.Fatalf("Store: %v", err)
			}
			s, err := store.Load(h.Path, &h.Options)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := s.Find(tt.find[0], tt.find[1])
			if !ok {
				t.Fatalf("stored session not found")
			}
			if desc := got.URL + " " + got.Email + " " + got.Token + " " + got.Expires.String(); desc != tt.want {
				t.Errorf("stored %q, want %q", desc, tt.want)
			}
			if got := len(s.All()); got != 4 && !strings.Contains(tt.name, "replace") {
				t.Errorf("%d sessions after storing a new one, want 4", got)
			}
		})
	}
}

// TestBadInput feeds every class of bad input to each action: each must be
// refused with errkind.BadInput (or the protocol's), a one-line error without the
// token, and the file left byte for byte as it was.
func TestBadInput(t *testing.T) {
	long := strings.Repeat("x", protocol.MaxLine)
	tests := []struct {
		name, action, in string
	}{
		{"NUL", "get", "url=https://x\x00\n"},
		{"NUL in token", "store", "url=https://x\nemail=a\naccess_token=" + secret + "\x00\n"},
		{"over-long line", "store", "url=https://x\nemail=a\naccess_token=" + secret + long + "\n"},
		{"over-large input", "store", "access_token=" + secret + "\n" + strings.Repeat("k="+strings.Repeat("v", 60000)+"\n", 20)},
		{"line without =", "store", "url=https://x\nemail=a\n" + secret + "\n"},
		{"URL with user:password", "store", "url=https://ali:" + secret + "@x\nemail=a\naccess_token=t\n"},
		{"URL with user:password on get", "get", "url=https://ali:" + secret + "@x\n"},
		{"URL with query", "store", "url=https://x/?token=" + secret + "\nemail=a\naccess_token=t\n"},
		{"URL with fragment", "store", "url=https://x/#" + secret + "\nemail=a\naccess_token=t\n"},
		{"URL with no host", "store", "url=https://\nemail=a\naccess_token=" + secret + "\n"},
		{"URL not http", "store", "url=ftp://x\nemail=a\naccess_token=" + secret + "\n"},
		{"empty URL", "get", "url=\n"},
		{"token_type not bearer", "store", "url=https://x\nemail=a\naccess_token=" + secret + "\ntoken_type=mac\n"},
		{"expiry without zone", "store", "url=https://x\nemail=a\naccess_token=" + secret + "\nexpires=2099-01-01T00:00:00\n"},
		{"expiry date only", "store", "url=https://x\nemail=a\naccess_token=" + secret + "\nexpires=2099-01-01\n"},
		{"expiry unparsable", "store", "url=https://x\nemail=a\naccess_token=" + secret + "\nexpires=tomorrow\n"},
		{"expiry already past", "store", "url=https://x\nemail=a\naccess_token=" + secret + "\nexpires=2001-01-01T00:00:00Z\n"},
		{"expires_in negative", "store", "url=https://x\nemail=a\naccess_token=" + secret + "\nexpires_in=-5\n"},
		{"expires_in not a number", "store", "url=https://x\nemail=a\naccess_token=" + secret + "\nexpires_in=1h\n"},
		{"expires_in zero is already expired", "store", "url=https://x\nemail=a\naccess_token=" + secret + "\nexpires_in=0\n"},
		{"expired password_expiry_utc", "store", "protocol=https\nhost=x\nusername=a\npassword=" + secret + "\npassword_expiry_utc=1000\n"},
		{"two expiries", "store", "url=https://x\nemail=a\naccess_token=" + secret + "\nexpires_in=5\nexpires=2099-01-01T00:00:00Z\n"},
		{"store without url", "store", "email=a\naccess_token=" + secret + "\n"},
		{"store without email", "store", "url=https://x\naccess_token=" + secret + "\n"},
		{"store without token", "store", "url=https://x\nemail=a\n"},
		{"store with an empty token", "store", "url=https://x\nemail=a\naccess_token=\n"},
		{"store with an empty email", "store", "url=https://x\nemail=\naccess_token=" + secret + "\n"},
		{"get with an empty email", "get", "url=https://cryosparc.example.com\nemail=\n"},
		{"get with an empty username in url= keys", "get", "url=https://cryosparc.example.com\nusername=\n"},
		{"erase with an empty email", "erase", "url=https://cryosparc.example.com\nemail=\n"},
		{"an empty port", "get", "url=https://cryosparc.example.com:\n"},
		{"an empty port in git's host", "get", "protocol=https\nhost=cryosparc.example.com:\n"},
		{"invalid UTF-8", "store", "url=https://x\nemail=a\xff\naccess_token=" + secret + "\n"},
		{"erase with neither url nor email", "erase", "access_token=" + secret + "\n"},
		{"url and git keys together", "get", "url=https://x\nprotocol=https\nhost=x\n"},
		{"git keys without host", "store", "protocol=https\nusername=a\npassword=" + secret + "\n"},
		{"email and username together", "store", "url=https://x\nemail=a\nusername=b\naccess_token=" + secret + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, stderr := newHelper(t, startFile)
			var out bytes.Buffer
			var err error
			switch tt.action {
			case "get":
				err = withIO(h, strings.NewReader(tt.in), &out).Get()
			case "store":
				err = withIO(h, strings.NewReader(tt.in), nil).Store()
			case "erase":
				err = withIO(h, strings.NewReader(tt.in), nil).Erase()
			}
			if !errors.Is(err, errkind.BadInput) {
				t.Fatalf("%s error = %v, want bad input", tt.action, err)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || msg == "" {
				t.Errorf("error is not one line: %q", msg)
			}
			for _, s := range []string{msg, out.String(), stderr.String()} {
				if strings.Contains(s, secret) {
					t.Errorf("the token leaked: %q", s)
				}
			}
			if data, _ := os.ReadFile(h.Path); string(data) != startFile {
				t.Errorf("file changed:\n%s", data)
			}
		})
	}
}

func TestErase(t *testing.T) {
	tests := []struct {
		name, in string
		left     []string // url email of every session left, in order
	}{
		{"one email", "url=https://cryosparc.example.com\nemail=ali@example.com\n",
			[]string{"https://cryosparc.example.com bo@example.com", "http://lab:39000 ali@example.com"}},
		{"whole instance", "url=https://cryosparc.example.com\n",
			[]string{"http://lab:39000 ali@example.com"}},
		{"matching token only", "url=https://cryosparc.example.com\nemail=bo@example.com\naccess_token=bo-token\n",
			[]string{"https://cryosparc.example.com ali@example.com", "http://lab:39000 ali@example.com"}},
		{"other token: nothing", "url=https://cryosparc.example.com\nemail=bo@example.com\naccess_token=old-token\n",
			[]string{"https://cryosparc.example.com ali@example.com", "https://cryosparc.example.com bo@example.com", "http://lab:39000 ali@example.com"}},
		{"git: password differs: nothing", "protocol=http\nhost=lab:39000\nusername=ali@example.com\npassword=wrong\n",
			[]string{"https://cryosparc.example.com ali@example.com", "https://cryosparc.example.com bo@example.com", "http://lab:39000 ali@example.com"}},
		{"git: whole instance", "protocol=http\nhost=lab:39000\n",
			[]string{"https://cryosparc.example.com ali@example.com", "https://cryosparc.example.com bo@example.com"}},
		{"email everywhere", "email=ali@example.com\n",
			[]string{"https://cryosparc.example.com bo@example.com"}},
		{"unknown: nothing, no error", "url=https://nowhere\n",
			[]string{"https://cryosparc.example.com ali@example.com", "https://cryosparc.example.com bo@example.com", "http://lab:39000 ali@example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newHelper(t, startFile)
			if err := withIO(h, strings.NewReader(tt.in), nil).Erase(); err != nil {
				t.Fatalf("Erase: %v", err)
			}
			s, err := store.Load(h.Path, &h.Options)
			if err != nil {
				t.Fatal(err)
			}
			var left []string
			for _, sess := range s.All() {
				left = append(left, sess.URL+" "+sess.Email)
			}
			if strings.Join(left, "|") != strings.Join(tt.left, "|") {
				t.Errorf("left %q, want %q", left, tt.left)
			}
			if len(left) == 3 {
				if data, _ := os.ReadFile(h.Path); string(data) != startFile {
					t.Errorf("an erase of nothing rewrote the file")
				}
			}
		})
	}
}

func TestTerminalHint(t *testing.T) {
	h, stderr := newHelper(t, startFile)
	h.IO.InTTY = true
	withIO(h, strings.NewReader("url=https://cryosparc.example.com\n"), &bytes.Buffer{}).Get()
	if !strings.Contains(stderr.String(), "blank line") {
		t.Errorf("no hint on a terminal: %q", stderr)
	}
}

func TestInvalidFileRefusesStore(t *testing.T) {
	content := `{"https://x": {"a@x": {"token": {"access_token": "t", "token_type": "bearer"}, "expires": "2099-13-01T00:00:00Z"}}}`
	h, _ := newHelper(t, content)
	err := withIO(h, strings.NewReader("url=https://y\nemail=b\naccess_token=u\n"), nil).Store()
	if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), h.Path) || !strings.Contains(err.Error(), `"a@x"`) {
		t.Fatalf("Store error = %v, want ErrInvalid naming the file and entry", err)
	}
	if data, _ := os.ReadFile(h.Path); string(data) != content {
		t.Errorf("invalid file rewritten")
	}
}

func TestGetTokenWithLineBreak(t *testing.T) {
	content := `{"https://x": {"a@x": {"token": {"access_token": "SECRET\nline", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"}}}`
	h, _ := newHelper(t, content)
	var out bytes.Buffer
	err := withIO(h, strings.NewReader("url=https://x\n"), &out).Get()
	if !errors.Is(err, errkind.File) || out.Len() != 0 || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("Get = %v, wrote %q; want ErrUnsafe, nothing written, no token in the error", err, out.String())
	}
}

package helper

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// The variables cryosparc-tools' CryoSPARC() reads to choose its session.
const (
	EnvBaseURL  = "CRYOSPARC_BASE_URL"
	EnvHost     = "CRYOSPARC_MASTER_HOSTNAME"
	EnvPort     = "CRYOSPARC_BASE_PORT"
	EnvEmail    = "CRYOSPARC_EMAIL"
	EnvPassword = "CRYOSPARC_PASSWORD"
)

// Selection is the session a command means: an instance and an email, each
// "" when nothing names it (then cryosparc-tools' find decides: the first
// instance with a live session, the instance's first session), and where
// each came from ("" for the command's own value, else the environment
// variable that gave it), for messages.
type Selection struct {
	URL, Email         string
	URLFrom, EmailFrom string
}

// CheckGiven refuses a --url or --email (flag "url" or "email") given with
// an empty value: an unset variable in "--url $URL", which must never mean
// "the first session" as a flag left out does (Select takes "" for that).
func CheckGiven(flag string, given bool, value string) error {
	if !given || value != "" {
		return nil
	}
	what := map[string]string{"url": "instance", "email": "email"}[flag]
	return bad("--%s is empty (an unset variable?); give a value, or leave the flag out: an empty one never means any %s", flag, what)
}

// Select applies the one rule by which every command chooses its session,
// the same as cryosparc-tools' CryoSPARC() in the same environment. The
// instance is the command's own url (--url, url=), else CRYOSPARC_BASE_URL
// (http:// added when it does not start with http:// or https://), else
// http://$CRYOSPARC_MASTER_HOSTNAME:$CRYOSPARC_BASE_PORT (localhost and
// 61000 by default) when either is set; both kinds at once are refused, as
// cryosparc-tools refuses them. The email is the command's own, else
// CRYOSPARC_EMAIL. Blank variables count as unset, as in Python.
func (c *Commands) Select(rawURL, email string) (Selection, error) {
	sel := Selection{Email: email}
	if sel.Email == "" {
		if sel.Email = c.getenv(EnvEmail); sel.Email != "" {
			sel.EmailFrom = EnvEmail
		}
	}
	if rawURL != "" {
		u, err := InstanceURL(rawURL)
		sel.URL = u
		return sel, err
	}
	u, from, err := c.environmentURL()
	sel.URL, sel.URLFrom = u, from
	return sel, err
}

func (c *Commands) getenv(key string) string {
	if c.Env == nil {
		return ""
	}
	v, _ := c.Env(key)
	return v
}

// pythonScheme is cryosparc-tools' test for a URL that has a scheme,
// re.match(r"^https?://", url).
func pythonScheme(url string) bool {
	return strings.HasPrefix(url, "http://") || strings.HasPrefix(url, "https://")
}

// pythonDigits reports whether s is a number as Python's int() reads one
// with underscores: digits, single underscores between them.
func pythonDigits(s string) bool {
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return false
	}
	return strings.Trim(s, "0123456789_") == ""
}

// environmentURL is the instance cryosparc-tools' CryoSPARC() uses when
// given none, and the variable(s) it came from; "" when none is set.
func (c *Commands) environmentURL() (u, from string, err error) {
	base, host, port := c.getenv(EnvBaseURL), c.getenv(EnvHost), c.getenv(EnvPort)
	if host == "" && port == "" {
		if base == "" {
			return "", "", nil
		}
		if !pythonScheme(base) {
			base = "http://" + base
		}
		u, err := InstanceURL(base)
		if err != nil {
			return "", EnvBaseURL, fmt.Errorf("%s: %w", EnvBaseURL, err)
		}
		return u, EnvBaseURL, nil
	}
	from = EnvHost + "/" + EnvPort
	if base != "" {
		return "", from, bad("%s and %s/%s are both set; cryosparc-tools refuses that too: unset one", EnvBaseURL, EnvHost, EnvPort)
	}
	def, _ := url.Parse(store.DefaultURL)
	if host == "" {
		host = def.Hostname()
	}
	if port == "" {
		port = def.Port()
	}
	// As Python's int(): blanks around the digits, one sign and single
	// underscores between digits are allowed.
	digits := strings.TrimPrefix(strings.TrimSpace(port), "+")
	if pythonDigits(digits) {
		digits = strings.ReplaceAll(digits, "_", "")
	}
	n, perr := strconv.Atoi(digits)
	if perr != nil || n < 1 || n > 65535 {
		return "", from, bad("%s=%s is not a port number", EnvPort, text.Quote(port))
	}
	u, err = InstanceURL("http://" + host + ":" + strconv.Itoa(n))
	if err != nil {
		return "", from, fmt.Errorf("%s: %w", from, err)
	}
	return u, from, nil
}

// describe names what a selection asked for, for messages: " for bob@x at
// https://a (from CRYOSPARC_BASE_URL)".
func (s Selection) describe() string {
	from := func(v string) string {
		if v == "" {
			return ""
		}
		return " (from $" + v + ")"
	}
	switch {
	case s.URL != "" && s.Email != "":
		return " for " + text.Safe(s.Email) + from(s.EmailFrom) + " at " + text.URL(s.URL) + from(s.URLFrom)
	case s.URL != "":
		return " for " + text.URL(s.URL) + from(s.URLFrom)
	case s.Email != "":
		return " for " + text.Safe(s.Email) + from(s.EmailFrom)
	}
	return ""
}

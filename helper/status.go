package helper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/api"
	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// StatusQuery says which sessions to check, and how.
type StatusQuery struct {
	URL, Email string        // "" for every instance, every email
	JSON       bool          // print a JSON array instead of a table
	Timeout    time.Duration // for each instance's answers
	HTTP       *http.Client  // nil: the API client's default
	UserAgent  string
}

// Session states Status reports.
const (
	StatusValid       = "valid"
	StatusRejected    = "rejected"
	StatusUnreachable = "unreachable"
	StatusExpired     = "expired"
)

// Checked is one session as Status reports it: never a token.
type Checked struct {
	URL           string `json:"url"`
	Email         string `json:"email"`
	Name          string `json:"name,omitempty"`
	ServerVersion string `json:"server_version,omitempty"`
	Expires       string `json:"expires"`
	ExpiresUnix   int64  `json:"expires_unix"`
	Status        string `json:"status"`
	Detail        string `json:"detail,omitempty"`
}

// ErrNotValid is matched by the error Status returns when a session shown
// is not valid (exit 4, as a failed login).
var ErrNotValid = errkind.New(errkind.Login, "not every session is valid")

// Status asks each instance whether it still accepts its stored sessions
// (the users.me operation, and config.get_version for the server's
// version), and prints instance, email, the user's name, server version,
// expiry and valid / rejected / unreachable / expired for each; never a
// token. It returns an ErrNotValid error unless every session shown is
// valid, and an ErrNotFound error when none matches.
func (f *Commands) Status(out io.Writer, q StatusQuery) error {
	url, err := f.instance(q.URL)
	if err != nil {
		return err
	}
	s, err := f.load(true)
	if err != nil {
		return err
	}
	instance := "" // with a URL, the instance key cryosparc-tools' find would use
	if url != "" {
		first, ok := s.Find(url, "")
		if !ok {
			return f.notFound(url, q.Email, s)
		}
		instance = first.URL
	}
	var sessions []store.Session
	for _, sess := range s.All() {
		if (instance == "" || sess.URL == instance) && (q.Email == "" || sess.Email == q.Email) {
			sessions = append(sessions, sess)
		}
	}
	if len(sessions) == 0 {
		return f.notFound(url, q.Email, s)
	}
	timeout := q.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	clients := map[string]*api.Client{} // one schema read per instance
	now := f.now()
	var rows []Checked
	valid := 0
	for _, sess := range sessions {
		row := Checked{URL: sess.URL, Email: sess.Email, Expires: sess.Expires.String(), ExpiresUnix: sess.Expires.Unix()}
		if !sess.Expires.Live(now) {
			row.Status, row.Detail = StatusExpired, "log in again: "+loginCommand(sess.URL, sess.Email)
			rows = append(rows, row)
			continue
		}
		c := clients[sess.URL]
		if c == nil {
			c = &api.Client{URL: sess.URL, HTTP: q.HTTP, UserAgent: q.UserAgent}
			clients[sess.URL] = c
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		user, err := c.Me(ctx, sess.Token)
		if err == nil {
			row.Status, row.Name = StatusValid, user.Name
			if row.Name == "" {
				row.Name = user.FirstName + " " + user.LastName
			}
			if v, err := c.Version(ctx, sess.Token); err == nil {
				row.ServerVersion = v
			}
			valid++
		} else {
			var ae *api.Error
			detail := err.Error()
			if errors.As(err, &ae) {
				detail = ae.Msg
			}
			row.Status, row.Detail = StatusUnreachable, detail
			if errors.Is(err, api.ErrRejected) {
				row.Status, row.Detail = StatusRejected, "log in again: "+loginCommand(sess.URL, sess.Email)
			}
		}
		cancel()
		rows = append(rows, row)
	}
	if q.JSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := outputErr(enc.Encode(rows)); err != nil {
			return err
		}
	} else if err := printStatus(out, rows, now); err != nil {
		return err
	}
	if valid < len(rows) {
		return fmt.Errorf("%w: %d of %d session(s) valid", ErrNotValid, valid, len(rows))
	}
	return nil
}

func printStatus(out io.Writer, rows []Checked, now time.Time) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INSTANCE\tEMAIL\tNAME\tVERSION\tEXPIRES\tSTATUS")
	for _, r := range rows {
		t := time.Unix(r.ExpiresUnix, 0)
		status := r.Status
		switch r.Status {
		case StatusRejected:
			status = "rejected by the server (log in again)"
		case StatusExpired:
			status = "expired (log in again)"
		case StatusUnreachable:
			status = "unreachable: " + text.Safe(r.Detail)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", text.Safe(r.URL), text.Safe(r.Email), orDash(text.Safe(r.Name)),
			orDash(text.Safe(r.ServerVersion)), t.Local().Format("2006-01-02 15:04")+" ("+Relative(t, now)+")", status)
	}
	return outputErr(tw.Flush())
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

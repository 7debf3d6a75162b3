package helper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/api"
	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// StatusQuery says which sessions to check, and how.
type StatusQuery struct {
	URL, Email string        // the command's own filters; "" leaves them to Select's rule (else every session)
	JSON       bool          // print a JSON array instead of a table
	Timeout    time.Duration // for each instance's answers; 0 for none
	HTTP       *http.Client  // nil: the API client's default
	UserAgent  string
}

// Session states Status reports.
const (
	statusValid       = "valid"
	statusRejected    = "rejected"
	statusUnreachable = "unreachable"
	statusExpired     = "expired"
	statusOtherUser   = "other-user" // valid, but the server says it is another user's
)

// Checked is one session as Status reports it: never a token.
type Checked struct {
	URL           string `json:"url"`
	Email         string `json:"email"`
	Name          string `json:"name,omitempty"`
	ServerVersion string `json:"server_version,omitempty"`
	Expires       string `json:"expires"`
	ExpiresUnix   int64  `json:"expires_unix"`
	SecondsLeft   int64  `json:"seconds_left"` // 0 once expired
	Status        string `json:"status"`
	Detail        string `json:"detail,omitempty"`
}

// Errors Status returns when not every session shown is valid.
var (
	// ErrNotValid: a session was rejected by its server or has expired:
	// log in again (exit 4).
	ErrNotValid = errkind.New(errkind.Login, "not every session is valid")
	// ErrUnchecked: every session not valid is one whose server could not
	// be reached or did not answer as CryoSPARC: try again (exit 6).
	ErrUnchecked = errkind.New(errkind.Unreachable, "not every session could be checked")
)

// maxInstancesAtOnce bounds how many instances Status asks at the same
// time.
const maxInstancesAtOnce = 32

// Status asks each instance whether it still accepts its stored sessions
// (the users.me operation, and config.get_version for the server's
// version), every instance at once (at most maxInstancesAtOnce), and
// prints on IO.Out instance, email, the user's name, server version,
// expiry and valid / rejected / unreachable / expired for each, or "valid
// for X, stored as Y" when the server's users.me names another email than the
// stored one (status "other-user" in JSON); never a token. It returns an
// ErrNotValid error when a session shown was rejected, has expired or is
// another user's, else an ErrUnchecked error when one could not be checked, and
// an ErrNotFound error when none matches.
func (f *Commands) Status(q StatusQuery) error {
	out := f.out()
	sel, err := f.Select(q.URL, q.Email)
	if err != nil {
		return err
	}
	s, err := f.loadExisting()
	if err != nil {
		return err
	}
	if s == nil {
		return f.notFound(sel, nil)
	}
	sessions := f.filter(s, sel)
	if len(sessions) == 0 {
		return f.notFound(sel, s)
	}
	now := f.now()
	rows := make([]Checked, len(sessions))
	byInstance := map[string][]int{}
	var order []string
	for i, sess := range sessions {
		left := int64(0)
		if sess.Expires.Live(now) {
			// In microseconds, which hold any expiry (years 1 to 9999):
			// a Duration would stop at 292 years.
			left = (sess.Expires.Time().UnixMicro() - now.UnixMicro()) / 1e6
		}
		rows[i] = Checked{URL: sess.URL, Email: sess.Email, Expires: sess.Expires.String(), ExpiresUnix: sess.Expires.Unix(), SecondsLeft: left}
		if !sess.Expires.Live(now) {
			rows[i].Status, rows[i].Detail = statusExpired, "log in again: "+loginCommand(sess.URL, sess.Email)
			continue
		}
		if byInstance[sess.URL] == nil {
			order = append(order, sess.URL)
		}
		byInstance[sess.URL] = append(byInstance[sess.URL], i)
	}
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxInstancesAtOnce)
	for _, instance := range order {
		wg.Add(1)
		slots <- struct{}{}
		go func(instance string, which []int) {
			defer func() { <-slots; wg.Done() }()
			ctx := context.Background()
			if q.Timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, q.Timeout)
				defer cancel()
			}
			c := &api.Client{URL: instance, HTTP: q.HTTP, UserAgent: q.UserAgent} // one schema read per instance
			for _, i := range which {
				check(ctx, c, sessions[i], &rows[i])
			}
		}(instance, byInstance[instance])
	}
	wg.Wait()
	if q.JSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := outputErr(enc.Encode(rows)); err != nil {
			return err
		}
	} else if err := printStatus(out, rows, now); err != nil {
		return err
	}
	counts := map[string]int{}
	for _, r := range rows {
		counts[r.Status]++
	}
	switch {
	case counts[statusRejected]+counts[statusExpired]+counts[statusOtherUser] > 0:
		return fmt.Errorf("%w: %d of %d session(s) valid", ErrNotValid, counts[statusValid], len(rows))
	case counts[statusUnreachable] > 0:
		return fmt.Errorf("%w: %d of %d session(s) valid, %d unreachable", ErrUnchecked, counts[statusValid], len(rows), counts[statusUnreachable])
	}
	return nil
}

// check asks sess's server about it and fills row in.
func check(ctx context.Context, c *api.Client, sess store.Session, row *Checked) {
	user, err := c.Me(ctx, sess.Token)
	if err != nil {
		var ae *api.Error
		detail := err.Error()
		if errors.As(err, &ae) {
			detail = ae.Msg
		}
		row.Status, row.Detail = statusUnreachable, detail
		if errors.Is(err, api.ErrRejected) {
			row.Status, row.Detail = statusRejected, "log in again: "+loginCommand(sess.URL, sess.Email)
		}
		return
	}
	row.Status, row.Name = statusValid, user.Name
	if row.Name == "" {
		row.Name = strings.TrimSpace(user.FirstName + " " + user.LastName)
	}
	if !user.HasEmail(sess.Email) {
		row.Status = statusOtherUser
		row.Detail = fmt.Sprintf("valid for %s, stored as %s; log in again: %s", user.Emails[0].Address, sess.Email, loginCommand(sess.URL, sess.Email))
	}
	if v, err := c.Version(ctx, sess.Token); err == nil {
		row.ServerVersion = v
	}
}

func printStatus(out io.Writer, rows []Checked, now time.Time) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	say(tw, "INSTANCE\tEMAIL\tNAME\tVERSION\tEXPIRES\tSTATUS\n")
	for _, r := range rows {
		status := r.Status
		switch r.Status {
		case statusRejected:
			status = "rejected by the server (log in again)"
		case statusExpired:
			status = "expired (log in again)"
		case statusUnreachable, statusOtherUser:
			status = r.Detail
			if r.Status == statusUnreachable {
				status = "unreachable: " + r.Detail
			}
		}
		say(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", text.URL(r.URL), text.Safe(r.Email), orDash(text.Safe(r.Name)),
			orDash(text.Safe(r.ServerVersion)), when(time.Unix(r.ExpiresUnix, 0), now), text.Safe(status))
	}
	return outputErr(tw.Flush())
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

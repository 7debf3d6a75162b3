package helper

import (
	"io"
	"strings"
	"time"
)

// Ask asks a person for what a login is missing: label is the prompt
// ("CryoSPARC URL: ", "Email: ", "Password: "), secret that the answer is
// not to be echoed.
type Ask func(label string, secret bool) (string, error)

// LoginCommandQuery is the login command as it was given.
type LoginCommandQuery struct {
	// URL and Email are the command's own ("" leaves them to Select's
	// rule, then to Ask); Password is not used: it comes from the sources
	// below. Until is zero for the default lifetime.
	LoginQuery
	// UntilAs is how Until was given, for messages ("--expires 30d").
	UntilAs string
	// The password sources the command names, nil when not given; at most
	// one may be. PasswordStdin comes first, then PasswordCommand, then
	// $CRYOSPARC_PASSWORD (when not empty), then Ask.
	PasswordStdin, PasswordCommand func() (string, error)
	// Within > 0 renews (Renew): nothing is done while the session is
	// valid for longer. Force is Renew's.
	Within time.Duration
	Force  bool
	// Quiet prints nothing on out when nothing is due or the login
	// succeeded.
	Quiet bool
	// Ask asks for what is missing; it is called only for what is.
	Ask Ask
}

// LoginCommand carries out the login command: the password's sources and
// the expiry are checked before anything is asked; the session is the one
// Select's rule names, with the URL asked when there is none. With Within,
// it is Renew, which asks the email only when no stored session names one
// and the password only when it logs in; else the email is asked when
// missing, then the password, and Login logs in. It writes on IO.Out
// what they write, nothing with q.Quiet.
func (f *Commands) LoginCommand(q LoginCommandQuery) error {
	if q.PasswordStdin != nil && q.PasswordCommand != nil {
		return bad("give --password-stdin or --password-command, not both")
	}
	if err := f.CheckUntil(q.Until, q.UntilAs); err != nil {
		return err
	}
	sel, err := f.Select(q.URL, q.Email)
	if err != nil {
		return err
	}
	if sel.URL == "" {
		u, err := q.Ask("CryoSPARC URL: ", false)
		if err != nil {
			return err
		}
		if sel.URL, err = InstanceURL(strings.TrimSpace(u)); err != nil {
			return err
		}
	}
	q.URL, q.Email = sel.URL, sel.Email
	if q.Quiet {
		quiet := *f
		quiet.IO.Out = io.Discard
		f = &quiet
	}
	password := func() (string, error) {
		switch pw := f.getenv(EnvPassword); {
		case q.PasswordStdin != nil:
			return q.PasswordStdin()
		case q.PasswordCommand != nil:
			return q.PasswordCommand()
		case pw != "":
			return pw, nil
		}
		return q.Ask("Password: ", true)
	}
	if q.Within > 0 {
		return f.Renew(RenewQuery{LoginQuery: q.LoginQuery, Within: q.Within, Force: q.Force, Quiet: q.Quiet,
			AskEmail: func() (string, error) { return q.Ask("Email: ", false) },
			Password: password})
	}
	if q.Email == "" {
		if q.Email, err = q.Ask("Email: ", false); err != nil {
			return err
		}
	}
	if q.Password, err = password(); err != nil {
		return err
	}
	return f.Login(q.LoginQuery)
}

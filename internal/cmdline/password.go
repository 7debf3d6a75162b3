package cmdline

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
)

// passwordFromCommand runs cmd, split into words as a shell would split
// them (quotes keep words together; no variables, globs or pipes: for
// those, give `sh -c '…'` as the command), and returns the first line of
// what it prints on standard output (pass's convention: the password, then
// notes). Its standard input and error are the program's own, so that it
// can ask for a passphrase. With a timeout, a command still running then
// is ended, with every process it started (passwordCommand).
func passwordFromCommand(cmd string, stdin io.Reader, stderr io.Writer, timeout time.Duration) (string, error) {
	words, err := splitWords(cmd)
	if err != nil {
		return "", usagef("--password-command: %v", err)
	}
	if len(words) == 0 {
		return "", usagef("--password-command is empty")
	}
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var out bytes.Buffer
	c := passwordCommand(ctx, words)
	c.Stdin, c.Stdout, c.Stderr = stdin, &limitedWriter{w: &out, n: 1 << 20}, stderr
	err = c.Run()
	if ctx.Err() != nil {
		return "", usagef("--password-command %s did not end within --timeout %s; it was stopped and no login was tried", text.Quote(words[0]), timeout)
	}
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return "", usagef("--password-command %s failed (%s); no login was tried", text.Quote(words[0]), exit.ProcessState)
		}
		return "", usagef("--password-command: %v", err)
	}
	pw, _, _ := strings.Cut(out.String(), "\n")
	pw = strings.TrimSuffix(pw, "\r")
	if pw == "" {
		if strings.TrimSpace(out.String()) != "" {
			return "", usagef("--password-command %s printed nothing on its first line, where the password must be (as pass prints it: the password, then notes); no login was tried", text.Quote(words[0]))
		}
		return "", usagef("--password-command %s printed no password", text.Quote(words[0]))
	}
	return pw, nil
}

// limitedWriter keeps at most n bytes and drops the rest.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	keep := min(len(p), l.n)
	l.n -= keep
	if _, err := l.w.Write(p[:keep]); err != nil {
		return 0, err
	}
	return len(p), nil
}

// splitWords splits s into words at blanks, as a POSIX shell does for a
// simple command: single quotes keep everything, double quotes keep all
// but backslash before " and \, a backslash outside quotes keeps the next
// character.
func splitWords(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("a single quote is not closed")
			}
			w.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					i++
				}
				w.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New("a double quote is not closed")
			}
			inWord = true
		case c == '\\' && i+1 < len(s):
			i++
			w.WriteByte(s[i])
			inWord = true
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

package cmdline

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/text"
)

// durationFlag is a flag.Value for durations that also takes days: 30d,
// 1d12h, as well as Go's 90s, 10m, 2h.
type durationFlag struct{ d time.Duration }

// durationForms names what a duration flag takes, for error messages.
const durationForms = "a number with a unit: 90s, 10m, 2h, 30d or 1d12h (0 for none)"

// maxDuration bounds every duration given, far beyond any useful wait or
// lifetime and far below what a time.Duration holds, so that no sum or
// product of one overflows.
const maxDuration = 100 * 365 * 24 * time.Hour

// parseDuration reads a duration with an optional leading number of days.
// A negative duration, or one of more than 100 years, is refused.
func parseDuration(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	if s == "" {
		return 0, fmt.Errorf("the duration is empty: give %s", durationForms)
	}
	if strings.HasPrefix(strings.TrimSpace(s), "-") {
		return 0, fmt.Errorf("%s is negative: give %s", text.Quote(s), durationForms)
	}
	days := time.Duration(0)
	rest := s
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 || n > 100*365 || strings.HasPrefix(s, "+") {
			return 0, fmt.Errorf("%s is not a duration: give %s", text.Quote(s), durationForms)
		}
		days, rest = time.Duration(n)*24*time.Hour, s[i+1:]
	}
	var d time.Duration
	if rest != "" {
		var err error
		if d, err = time.ParseDuration(rest); err != nil || strings.HasPrefix(rest, "-") || strings.HasPrefix(rest, "+") && days > 0 {
			return 0, fmt.Errorf("%s is not a duration: give %s", text.Quote(s), durationForms)
		}
	}
	if d < 0 {
		return 0, fmt.Errorf("%s is negative: give %s", text.Quote(s), durationForms)
	}
	if d > maxDuration || days+d > maxDuration {
		return 0, fmt.Errorf("%s is more than 100 years: give %s", text.Quote(s), durationForms)
	}
	return days + d, nil
}

func (f *durationFlag) Set(s string) error {
	d, err := parseDuration(s)
	if err != nil {
		return err
	}
	f.d = d
	return nil
}

func (f *durationFlag) String() string {
	if f == nil {
		return ""
	}
	if f.d > 0 && f.d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", f.d/(24*time.Hour))
	}
	return f.d.String()
}

// duration returns the value of the duration flag called flag in c.
func duration(c interface{ Generic(string) any }, flag string) time.Duration {
	if f, ok := c.Generic(flag).(*durationFlag); ok {
		return f.d
	}
	return 0
}

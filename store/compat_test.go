package store

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
)

// pyBatch runs testdata/cstools.py, a pydantic 2 model of cryosparc-tools'
// session file, on many requests in one process.
type pyBatch struct {
	t   *testing.T
	cmd *exec.Cmd
	in  *json.Encoder
	out *bufio.Scanner
}

type pyResult struct {
	Valid bool      `json:"valid"`
	Dump  string    `json:"dump"`
	Found *[]string `json:"found"`
}

func startPython(t *testing.T) *pyBatch {
	t.Helper()
	cmd := testkit.CSTools(t, "batch")
	w, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	r, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(); cmd.Wait() })
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	return &pyBatch{t: t, cmd: cmd, in: json.NewEncoder(w), out: sc}
}

func (p *pyBatch) do(req map[string]string) pyResult {
	p.t.Helper()
	if err := p.in.Encode(req); err != nil {
		p.t.Fatal(err)
	}
	if !p.out.Scan() {
		p.t.Fatalf("python stopped: %v", p.out.Err())
	}
	var res pyResult
	if err := json.Unmarshal(p.out.Bytes(), &res); err != nil {
		p.t.Fatal(err)
	}
	return res
}

// randomFile writes a session file with the shapes that matter: duplicate
// instances and emails, expired and live sessions, every expiry form, extra
// fields, escapes, odd whitespace, and now and then an invalid entry.
func randomFile(r *rand.Rand, invalidRate float64) string {
	urls := []string{"https://a.example.com", "http://b.example.com:39000", "https://A.example.com/", "u\\u00e9", "http://localhost:61000", ""}
	emails := []string{"ali@example.com", "bo@example.com", "c\\\"d@x", "é@x", "\\ud83d\\ude00@x", ""}
	future := time.Now().Add(time.Duration(r.Intn(1000)+1) * time.Hour)
	past := time.Now().Add(-time.Duration(r.Intn(1000)+1) * time.Hour)
	expForms := func() string {
		t := future
		if r.Intn(3) == 0 {
			t = past
		}
		switch r.Intn(10) {
		case 0:
			return fmt.Sprint(t.Unix())
		case 1:
			return fmt.Sprintf("%q", fmt.Sprint(t.UnixMilli()))
		case 2:
			return fmt.Sprint(t.UnixMilli())
		case 3:
			return fmt.Sprintf(`"%s"`, t.In(time.FixedZone("", 5*3600+1800)).Format("2006-01-02T15:04:05.999999999-07:00"))
		case 4:
			return fmt.Sprintf(`"%s"`, t.UTC().Format("2006-01-02 15:04:05.000Z"))
		case 5:
			return fmt.Sprintf(`"%s"`, t.In(time.FixedZone("", -7*3600)).Format("2006-01-02t15:04-0700"))
		case 6:
			return fmt.Sprintf(`"%s"`, t.UTC().Format("2006-01-02T15:04:05+00:00"))
		case 7:
			return fmt.Sprintf(`"%s"`, t.In(time.FixedZone("", 3600)).Format("2006-01-02T15:04:05.123456789-07:00"))
		default:
			return fmt.Sprintf(`"%s"`, t.UTC().Format(time.RFC3339Nano))
		}
	}
	invalid := []string{`"2030-01-01T00:00:00"`, `"2030-01-01"`, `"2030-13-01T00:00:00Z"`, `"2030-01-01T00:00:00+05"`, `null`, `"soon"`, `1e400`}
	tokens := []string{"abc", "", "t\\n\\u0001/<>&\u2028\x7f", "ü€😀", "a\\\\b\\\"c", "x\\/y"}
	var b strings.Builder
	b.WriteString("{")
	ni := r.Intn(5)
	for i := 0; i < ni; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n  %q:", "")
		s := b.String()
		b.Reset()
		b.WriteString(s[:len(s)-3])
		fmt.Fprintf(&b, "\"%s\": ", urls[r.Intn(len(urls))])
		if r.Float64() < invalidRate/4 {
			b.WriteString(`[]`)
			continue
		}
		b.WriteString("{")
		ns := r.Intn(4)
		for j := 0; j < ns; j++ {
			if j > 0 {
				b.WriteString(",")
			}
			exp := expForms()
			if r.Float64() < invalidRate {
				exp = invalid[r.Intn(len(invalid))]
			}
			tt := `"bearer"`
			if r.Float64() < invalidRate/4 {
				tt = `"Bearer"`
			}
			extra := ""
			if r.Intn(4) == 0 {
				extra = `"x": [1, {"y": null}, NaN], `
			}
			tok := fmt.Sprintf(`{"access_token": "%s", "token_type": %s}`, tokens[r.Intn(len(tokens))], tt)
			if r.Intn(8) == 0 {
				tok = fmt.Sprintf(`{"token_type": %s, "extra": true, "access_token": "%s"}`, tt, tokens[r.Intn(len(tokens))])
			}
			fmt.Fprintf(&b, "\n\t\"%s\" : {%s\"token\": %s, \"expires\": %s}", emails[r.Intn(len(emails))], extra, tok, exp)
		}
		b.WriteString("}")
	}
	b.WriteString("\n}\n")
	return b.String()
}

// TestAgainstPython checks Parse, Marshal and Find against the pydantic model
// on thousands of random files: same validity, same bytes, same answers.
func TestAgainstPython(t *testing.T) {
	py := startPython(t)
	t.Log("seed 1")
	r := rand.New(rand.NewSource(1))
	n := 3000
	if testing.Short() {
		n = 300
	}
	dir := t.TempDir()
	queries := [][2]string{{"", ""}, {"https://a.example.com", ""}, {"HTTPS://A.EXAMPLE.COM:443", "bo@example.com"}, {"a.example.com", ""}, {"http://B.example.com:39000/", ""}, {"", "ali@example.com"}, {"https://a.example.com", "bo@example.com"}, {"http://localhost:61000", ""}, {"ué", "é@x"}}
	for i := 0; i < n; i++ {
		data := randomFile(r, 0.05)
		s, err := Parse([]byte(data), time.Now())
		res := py.do(map[string]string{"op": "dump", "data": data})
		if (err == nil) != res.Valid {
			t.Fatalf("file %d: Go valid=%v (%v), Python valid=%v\n%s", i, err == nil, err, res.Valid, data)
		}
		if err != nil {
			continue
		}
		if got := string(s.Marshal()); got != res.Dump {
			t.Fatalf("file %d: Marshal differs\ninput:\n%s\nGo:\n%s\nPython:\n%s", i, data, got, res.Dump)
		}
		path := filepath.Join(dir, "auth.json")
		os.WriteFile(path, []byte(data), 0o600)
		for _, q := range queries {
			res := py.do(map[string]string{"op": "find", "data": data, "url": q[0], "email": q[1]})
			got, ok := s.Find(q[0], q[1])
			// Lookup, which keeps only the instances the URL may name,
			// must give the same answer.
			if lgot, lok, err := Lookup(path, nil, q[0], q[1]); err != nil || lok != ok || lgot != got {
				t.Fatalf("file %d: Lookup(%q, %q) = %+v %v %v, Find gives %+v %v\n%s", i, q[0], q[1], lgot, lok, err, got, ok, data)
			}
			if ok && res.Found == nil && q[0] != "" && !containsString(s.Instances(), q[0]) {
				// Beyond cryosparc-tools: the canonical-URL fallback.
				c1, _ := CanonicalURL(q[0])
				c2, _ := CanonicalURL(got.URL)
				if c1 == c2 {
					continue
				}
			}
			if ok != (res.Found != nil) {
				t.Fatalf("file %d: Find(%q, %q) found=%v, Python %v\n%s", i, q[0], q[1], ok, res.Found, data)
			}
			if ok {
				want := *res.Found
				if got.URL != want[0] || got.Email != want[1] || got.Token != want[2] || got.Expires.String() != want[3] {
					t.Fatalf("file %d: Find(%q, %q) = %q %q %q %s, Python %q\n%s", i, q[0], q[1], got.URL, got.Email, got.Token, got.Expires, want, data)
				}
			}
		}
	}
}

// TestExpiryFormsAgainstPython checks each expiry form, valid or not, against
// pydantic's AwareDatetime.
func TestExpiryFormsAgainstPython(t *testing.T) {
	py := startPython(t)
	forms := []string{
		`"2030-01-31T12:00:00Z"`, `"2030-01-31T12:00:00z"`, `"2030-01-31t12:00:00Z"`, `"2030-01-31 12:00:00Z"`,
		`"2030-01-31T12:00Z"`, `"2030-01-31T12Z"`, `"2030-01-31T12:00:00.1234567890Z"`, `"2030-01-31T12:00:00+0530"`,
		`"2030-01-31T12:00:00+05"`, `"2030-01-31T12:00:00+24:00"`, `"2030-01-31T12:00:00+23:59"`, `"2030-01-31T24:00:00Z"`,
		`"2030-01-31T12:00:60Z"`, `"2030-01-31"`, `"2030-01-31T12:00:00"`, `1900000000`, `"1900000000"`, `1900000000000`,
		`1900000000.5`, `"1900000000.5"`, `"2030-02-30T12:00:00Z"`, `"2030-02-29T12:00:00Z"`, `"2032-02-29T12:00:00Z"`,
		`"2030-01-31T12:00:00-00:00"`, `"2030-01-31T12:00:00.000000+00:00"`, `"2030-01-31T12:00:00.Z"`, `"2030-01-31T12:00:00,5Z"`,
		`true`, `null`, `"20300131T120000Z"`, `" 2030-01-31T12:00:00Z"`, `"2030-01-31T12:00:00Z "`, `20000000000`, `2e9`, `"2e9"`,
		`"+1900000000"`, `1e10`, `"2030-1-31T12:00:00Z"`, `"2030-01-31T12:00:00+05:30:00"`, `"2030-01-31T12:00:00.5+05:30"`,
		`"9999-12-31T23:59:59Z"`, `"2030-01-31T12:00:00-23:59"`, `1900000000000.5`, `1900000000.0000006`, `1900000000.9999996`,
		`"1900000000.1234567"`, `"1900000000."`, `"01900000000"`, `1900000000e0`, `253402300799000`, `253402300800000`, `1e20`,
		`9007199254740993`, `"2030-01-31T12:00:00.123Z"`, `"2030-01-31T12:00:00.9999999Z"`, `"0000-01-01T00:00:00Z"`,
		`"2030-01-31T12:00:00+00:60"`, `"2030-01-31T12:00+01:00"`, `"2030-01-31T12:00:00ZZ"`, `"2030-01-31T1:00:00Z"`,
		`"2030-01-31T12:00:00 Z"`, `"2030-01-31T12:00:00+05:3"`, `"2030-01-31T12:00:00+053"`, `"2030-01-31T12:00:00\u005a"`,
		`[]`, `{}`, `"2100-12-31T23:59:59.999999-12:00"`, `"1900000000.1234565"`, `-1`, `"-1"`, `0`, `NaN`, `-Infinity`,
	}
	for _, f := range forms {
		data := `{"u": {"e": {"token": {"access_token": "a", "token_type": "bearer"}, "expires": ` + f + `}}}`
		res := py.do(map[string]string{"op": "dump", "data": data})
		s, err := Parse([]byte(data), time.Now())
		if (err == nil) != res.Valid {
			t.Errorf("expires %s: Go valid=%v (%v), Python valid=%v", f, err == nil, err, res.Valid)
			continue
		}
		if err == nil && string(s.Marshal()) != res.Dump {
			t.Errorf("expires %s: Go writes\n%s\nPython writes\n%s", f, s.Marshal(), res.Dump)
		}
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestRandomExpiriesAgainstPython mutates date-times and numbers at random
// and checks each against pydantic: same verdict, same text written.
func TestRandomExpiriesAgainstPython(t *testing.T) {
	py := startPython(t)
	seed := int64(7)
	if v := os.Getenv("EXPIRY_SEED"); v != "" {
		fmt.Sscan(v, &seed)
	}
	t.Logf("seed %d (EXPIRY_SEED=N to change)", seed)
	r := rand.New(rand.NewSource(seed))
	n := 3000
	if testing.Short() {
		n = 300
	}
	templates := []string{
		`"2031-02-28T23:59:59Z"`, `"2031-12-31 00:00:00.000001+05:30"`, `"2032-02-29t12:30-0800"`, `"2031-06-15T08:00:00,123456789Z"`,
		`1950000000`, `"1950000000"`, `1950000000.123456`, `"1950000000.5"`, `1950000000000`, `"1950000000000"`, `2e9`, `"+1950000000"`,
		`"1950000000.5e3"`, `"195000000000000.0"`, `"-1950000000000.5"`, `"253402300799999.0"`, `"9999-12-31T23:59:59.999999-23:59"`,
		`"0001-01-01T00:00:00+00:01"`, `1.95e14`, `-62135596800`, `"20000000001.0"`, `"2.00000001e10"`, `".5e5"`,
	}
	alphabet := []byte("0123456789-:.,+TtZz eE\"")
	for i := 0; i < n; i++ {
		v := []byte(templates[r.Intn(len(templates))])
		for m := r.Intn(3); m >= 0; m-- {
			// keep the quotes of a string in place
			lo, hi := 0, len(v)
			if v[0] == '"' {
				lo, hi = 1, len(v)-1
			}
			if hi <= lo {
				break
			}
			pos := lo + r.Intn(hi-lo)
			switch r.Intn(3) {
			case 0:
				v[pos] = alphabet[r.Intn(len(alphabet))]
			case 1:
				v = append(v[:pos], v[pos+1:]...)
			default:
				v = append(v[:pos], append([]byte{alphabet[r.Intn(len(alphabet)-1)]}, v[pos:]...)...)
			}
		}
		data := `{"u": {"e": {"token": {"access_token": "a", "token_type": "bearer"}, "expires": ` + string(v) + `}}}`
		res := py.do(map[string]string{"op": "dump", "data": data})
		s, err := Parse([]byte(data), time.Now())
		if (err == nil) != res.Valid {
			t.Errorf("expires %s: Go valid=%v (%v), Python valid=%v", v, err == nil, err, res.Valid)
			continue
		}
		if err == nil && string(s.Marshal()) != res.Dump {
			t.Errorf("expires %s: Go writes\n%s\nPython writes\n%s", v, s.Marshal(), res.Dump)
		}
	}
}

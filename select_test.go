package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/helper"
	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
	"github.com/cryosparc-credential/cryosparc-credential/store"
)

// choiceFile returns a random session file: 1-4 instances (sometimes
// cryosparc-tools' default http://localhost:61000), 1-3 users each from a
// small pool (so that emails recur across instances), some sessions
// expired, some instances left with none live.
func choiceFile(rng *rand.Rand) (content string, urls, emails []string) {
	pool := []string{"https://cs.example.com", "http://lab.example.org:39000", "http://localhost:61000", "https://cs.example.com:8443", "http://gpu01:61000"}
	users := []string{"ali@example.com", "bo@example.com", "cy@example.com"}
	rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	root := map[string]map[string]any{}
	var order []string
	for _, u := range pool[:1+rng.Intn(4)] {
		order = append(order, u)
		sessions := map[string]any{}
		root[u] = sessions
		for _, e := range users[:1+rng.Intn(3)] {
			exp := "2099-01-01T00:00:00Z"
			if rng.Intn(4) == 0 {
				exp = "2020-01-01T00:00:00Z"
			}
			sessions[e] = map[string]any{"token": map[string]string{"access_token": fmt.Sprintf("tok-%s-%s", u, e), "token_type": "bearer"}, "expires": exp}
		}
	}
	// Write in the chosen order (Go maps have none).
	var b strings.Builder
	b.WriteString("{")
	for i, u := range order {
		if i > 0 {
			b.WriteString(",")
		}
		k, _ := json.Marshal(u)
		fmt.Fprintf(&b, "%s: {", k)
		first := true
		for _, e := range users {
			if s, ok := root[u][e]; ok {
				if !first {
					b.WriteString(",")
				}
				first = false
				ek, _ := json.Marshal(e)
				v, _ := json.Marshal(s)
				fmt.Fprintf(&b, "%s: %s", ek, v)
			}
		}
		b.WriteString("}")
	}
	b.WriteString("}")
	return b.String(), order, users
}

// choiceEnv returns a random environment of cryosparc-tools' variables
// (each set, unset or blank; URLs stored, without scheme, in another
// spelling, or unknown; ports valid or not) and, sometimes, a command's
// own --url and --email.
func choiceEnv(rng *rand.Rand, urls, emails []string) (env map[string]string, url, email string) {
	pick := func(xs ...string) string { return xs[rng.Intn(len(xs))] }
	stored := urls[rng.Intn(len(urls))]
	bare := strings.TrimPrefix(strings.TrimPrefix(stored, "https://"), "http://")
	host, port, _ := strings.Cut(bare, ":")
	urlForms := []string{stored, bare, strings.ToUpper(stored[:5]) + stored[5:], stored + "/", "https://unknown.example.com", "localhost:61000", "HTTPS://" + bare}
	env = map[string]string{}
	set := func(k string, values ...string) {
		switch rng.Intn(3) {
		case 0: // unset
		case 1:
			env[k] = ""
		default:
			env[k] = pick(values...)
		}
	}
	set("CRYOSPARC_BASE_URL", urlForms...)
	if rng.Intn(2) == 0 {
		set("CRYOSPARC_MASTER_HOSTNAME", host, "localhost", "unknown")
		set("CRYOSPARC_BASE_PORT", port, "61000", " "+port, "abc", "39000")
	}
	set("CRYOSPARC_EMAIL", append(emails, "nobody@example.com")...)
	if rng.Intn(4) == 0 {
		url = pick(urlForms...)
	}
	if rng.Intn(4) == 0 {
		email = pick(append(emails, "nobody@example.com")...)
	}
	return env, url, email
}

// TestSessionChoiceMatchesCryoSPARC checks the one rule of which session a
// command means against a model of cryosparc-tools' CryoSPARC() choice
// (testdata/cstools.py choose: CryoSPARC.__init__ + find), on random files
// × random environments: token and get give the session CryoSPARC() would
// use, or both refuse.
func TestSessionChoiceMatchesCryoSPARC(t *testing.T) {
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewSource(seed))
	t.Logf("seed %d", seed)
	files, envs := 60, 25
	if testing.Short() {
		files = 20
	}
	model := testkit.CSTools(t, "batch")
	stdin, err := model.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := model.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := model.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); model.Wait() }()
	answers := bufio.NewScanner(stdout)
	answers.Buffer(nil, 1<<20)
	dir := t.TempDir()
	checked, found := 0, 0
	for i := 0; i < files; i++ {
		content, urls, emails := choiceFile(rng)
		file := filepath.Join(dir, fmt.Sprintf("auth%d.json", i))
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		for j := 0; j < envs; j++ {
			env, url, email := choiceEnv(rng, urls, emails)
			req, _ := json.Marshal(map[string]any{"op": "choose", "data": content, "env": env, "url": url, "email": email})
			fmt.Fprintf(stdin, "%s\n", req)
			if !answers.Scan() {
				t.Fatalf("the model stopped: %v", answers.Err())
			}
			var got struct{ Found []string }
			if err := json.Unmarshal(answers.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			want := ""
			if got.Found != nil {
				want, found = got.Found[2], found+1
			}
			lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
			args := []string{helper.Name, "--file", file, "token"}
			if url != "" {
				args = append(args, "--url", url)
			}
			if email != "" {
				args = append(args, "--email", email)
			}
			var out, errb bytes.Buffer
			code := run(args, strings.NewReader(""), &out, &errb, lookup, time.Now)
			tok := strings.TrimSuffix(out.String(), "\n")
			if tok != want || (want == "") != (code != 0) {
				t.Errorf("file %.300s\nenv %v --url %q --email %q:\ntoken gives %q (exit %d, %s), CryoSPARC() would use %q", content, env, url, email, tok, code, strings.TrimSpace(errb.String()), want)
			}
			// get, url-style, names the same session.
			var request string
			if url != "" {
				request += "url=" + url + "\n"
			}
			if email != "" {
				request += "email=" + email + "\n"
			}
			out.Reset()
			errb.Reset()
			code = run([]string{helper.Name, "--file", file, "get"}, strings.NewReader(request), &out, &errb, lookup, time.Now)
			gotTok := ""
			for _, line := range strings.Split(out.String(), "\n") {
				if v, ok := strings.CutPrefix(line, "access_token="); ok {
					gotTok = v
				}
			}
			if gotTok != want || (want == "") != (code != 0) {
				t.Errorf("env %v request %q: get gives %q (exit %d), CryoSPARC() would use %q", env, request, gotTok, code, want)
			}
			checked++
		}
	}
	t.Logf("%d choices checked, %d with a session, %d refused by both", checked, found, checked-found)
	if found == 0 || found == checked {
		t.Errorf("the generator made no variety: %d of %d found", found, checked)
	}
}

// TestCryoSPARCEnvironment: cryosparc-tools' own variables name the
// default instance; a flag or url= comes first.
func TestCryoSPARCEnvironment(t *testing.T) {
	now := time.Now()
	e, file := writeSessions(t, now,
		store.Session{URL: "https://first.example.com", Email: "a@x", Token: "tok-first", Expires: at(now.Add(time.Hour))},
		store.Session{URL: "http://cs-master:39000", Email: "a@x", Token: "tok-master", Expires: at(now.Add(time.Hour))},
		store.Session{URL: "http://localhost:61000", Email: "a@x", Token: "tok-local", Expires: at(now.Add(time.Hour))},
	)
	tests := []struct {
		env   map[string]string
		stdin string
		args  []string
		want  string
		code  int
	}{
		{nil, "", []string{"token"}, "tok-first\n", 0},
		{map[string]string{"CRYOSPARC_BASE_URL": "cs-master:39000"}, "", []string{"token"}, "tok-master\n", 0},
		{map[string]string{"CRYOSPARC_MASTER_HOSTNAME": "cs-master", "CRYOSPARC_BASE_PORT": "39000"}, "", []string{"token"}, "tok-master\n", 0},
		{map[string]string{"CRYOSPARC_BASE_PORT": "61000"}, "", []string{"token"}, "tok-local\n", 0},
		{map[string]string{"CRYOSPARC_BASE_URL": "cs-master:39000"}, "", []string{"token", "--url", "https://first.example.com"}, "tok-first\n", 0},
		{map[string]string{"CRYOSPARC_BASE_URL": "cs-master:39000"}, "email=a@x\n", []string{"get"}, "access_token=tok-master\n", 0},
		{map[string]string{"CRYOSPARC_BASE_URL": "cs-master:39000"}, "url=https://first.example.com\n", []string{"get"}, "access_token=tok-first\n", 0},
		{map[string]string{"CRYOSPARC_BASE_URL": "x", "CRYOSPARC_MASTER_HOSTNAME": "y"}, "", []string{"token"}, "", 2},
	}
	for _, tt := range tests {
		e2 := *e
		e2.Stdin = strings.NewReader(tt.stdin)
		e2.Lookup = func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
		r := runWith(t, &e2, append([]string{"--file", file}, tt.args...)...)
		if r.code != tt.code || !strings.Contains(r.stdout, tt.want) {
			t.Errorf("%v %v: exit %d %q %s; want %d %q", tt.env, tt.args, r.code, r.stdout, r.stderr, tt.code, tt.want)
		}
	}
}

// Command bench measures cryosparc-credential against git credential-store,
// a floor (a Go program that only reads stdin) and cryosparc-tools' own
// load + find in Python, in paired runs (A B A B …) on the same machine. It
// prints a table of medians and ratios and peak RSS, and writes an SVG plot
// of time against the number of sessions. Run it through bench/run.sh.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/sessiongen"
)

type command struct {
	name    string
	argv    []string
	stdin   string
	prepare func() // untimed, before each run (e.g. restore the file)
}

// paired runs a and b alternately n times and returns their times.
func paired(a, b command, n int) (ta, tb []time.Duration) {
	ta, tb, _, _ = pairedFaults(a, b, n)
	return ta, tb
}

// pairedFaults is paired, also returning each run's page faults.
func pairedFaults(a, b command, n int) (ta, tb []time.Duration, fa, fb []int64) {
	for i := 0; i < n; i++ {
		d, f := timeOne(a)
		ta, fa = append(ta, d), append(fa, f)
		d, f = timeOne(b)
		tb, fb = append(tb, d), append(fb, f)
	}
	return ta, tb, fa, fb
}

// pairedCopies is pairedFaults over copies: a[k] and b[k] alternate, k
// going round, n times, and the times and faults of every copy are pooled.
func pairedCopies(a, b []command, n int) (ta, tb []time.Duration, fa, fb []int64) {
	for i := 0; i < n; i++ {
		for k := range a {
			d, f := timeOne(a[k])
			ta, fa = append(ta, d), append(fa, f)
			d, f = timeOne(b[k])
			tb, fb = append(tb, d), append(fb, f)
		}
	}
	return ta, tb, fa, fb
}

// copies returns n fresh copies of the binary path in dir. How a binary's
// file lies in the page cache (as the linker wrote it, or copied, and which
// copy) moves its start-up by up to 10-25% on this machine, as much as
// what is measured: the start-up comparison pools copies of both sides.
func copies(path, dir string, n int) []string {
	data, err := os.ReadFile(path)
	must(err)
	var paths []string
	for k := 0; k < n; k++ {
		p := filepath.Join(dir, fmt.Sprintf("%s.copy%d", filepath.Base(path), k))
		must(os.WriteFile(p, data, 0o755))
		paths = append(paths, p)
	}
	return paths
}

func timeOne(c command) (time.Duration, int64) {
	if c.prepare != nil {
		c.prepare()
	}
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	cmd.Stdin = strings.NewReader(c.stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s failed: %v %s\n", c.name, err, stderr.String())
		os.Exit(1)
	}
	return d, pageFaults(cmd.ProcessState)
}

func medianFaults(fs []int64) int64 {
	s := append([]int64(nil), fs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// peakRSS runs c once under GNU time and returns its maximum resident set
// size in KiB.
func peakRSS(c command) int {
	if c.prepare != nil {
		c.prepare()
	}
	out, err := os.CreateTemp("", "rss")
	if err != nil {
		panic(err)
	}
	out.Close()
	defer os.Remove(out.Name())
	cmd := exec.Command("/usr/bin/time", append([]string{"-f", "%M", "-o", out.Name()}, c.argv...)...)
	cmd.Stdin = strings.NewReader(c.stdin)
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "GNU time on %s: %v (apt-get install time)\n", c.name, err)
		return -1
	}
	b, _ := os.ReadFile(out.Name())
	kb, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return kb
}

// fixture is one size of test data: the same credentials as a session file
// and as a git-credentials file.
type fixture struct {
	n                  int
	json, git          string
	lastURL, lastEmail string
	lastHost           string
}

func makeFixture(dir string, n int) fixture {
	instances := 100
	if n < instances {
		instances = 1
	}
	f := fixture{n: n, json: filepath.Join(dir, fmt.Sprintf("auth-%d.json", n)), git: filepath.Join(dir, fmt.Sprintf("git-credentials-%d", n))}
	must(os.WriteFile(f.json, sessiongen.SessionFile(n, instances, time.Now().Add(30*24*time.Hour)), 0o600))
	must(os.WriteFile(f.git, sessiongen.GitCredentials(n, instances), 0o600))
	f.lastURL, f.lastEmail, _ = sessiongen.Credential(n-1, instances)
	f.lastHost = strings.TrimPrefix(f.lastURL, "https://")
	return f
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func copyFile(src, dst string) func() {
	data, err := os.ReadFile(src)
	must(err)
	return func() { must(os.WriteFile(dst, data, 0o600)) }
}

type row struct {
	what, a, b     string
	ma, mb         time.Duration
	fa, fb         int64 // median page faults
	target, result string
}

func main() {
	bin := flag.String("bin", "", "cryosparc-credential binary, as go build makes it")
	tuned := flag.String("tuned", "", "cryosparc-credential binary, as the recommended build makes it")
	floor := flag.String("floor", "", "floor binary")
	stackFloor := flag.String("stackfloor", "", "stack floor binary (bench/stackfloor), built as the recommended build")
	work := flag.String("work", "", "scratch folder")
	runs := flag.Int("runs", 41, "paired runs per comparison")
	pyRuns := flag.Int("py-runs", 11, "paired runs against Python")
	svg := flag.String("svg", "docs/performance.svg", "plot to write")
	nCopies := flag.Int("copies", 4, "fresh copies of each binary the stack-floor comparison goes round (page-cache placement)")
	startupOnly := flag.Bool("startup", false, "only the start-up comparison: get of 1 session against the stack floor")
	flag.Parse()

	sizes := []int{1, 100, 1000, 10000, 100000}
	if *startupOnly {
		sizes = []int{1}
	}
	fx := map[int]fixture{}
	for _, n := range sizes {
		fx[n] = makeFixture(*work, n)
	}
	// A session file is normally read long after its last change; one
	// changed in the last few seconds is read twice (store's one-version
	// rule), which the "recently changed" rows below measure on their own.
	time.Sleep(5 * time.Second)
	oursWith := func(binary, label string) func(f fixture, file string) command {
		return func(f fixture, file string) command {
			return command{name: label, argv: []string{binary, "--file", file, "get"},
				stdin: fmt.Sprintf("url=%s\nemail=%s\n", f.lastURL, f.lastEmail)}
		}
	}
	ours := oursWith(*bin, "get (go build)")
	oursTuned := oursWith(*tuned, "get (recommended build)")
	git := func(f fixture, file string) command {
		return command{name: "git credential-store get", argv: []string{"git", "credential-store", "--file", file, "get"},
			stdin: fmt.Sprintf("protocol=https\nhost=%s\nusername=%s\n\n", f.lastHost, f.lastEmail)}
	}
	floorCmd := func(f fixture) command {
		return command{name: "floor", argv: []string{*floor}, stdin: fmt.Sprintf("url=%s\nemail=%s\n", f.lastURL, f.lastEmail)}
	}
	stackFloorCmd := func(f fixture) command {
		return command{name: "stack floor", argv: []string{*stackFloor, "--file", f.json, "get"}, stdin: fmt.Sprintf("url=%s\nemail=%s\n", f.lastURL, f.lastEmail)}
	}
	python := func(f fixture) command {
		return command{name: "python load+find", argv: []string{"python3", "testdata/cstools.py", "find", f.json, f.lastURL, f.lastEmail}}
	}

	var rows []row
	addTimes := func(what string, a, b command, ta, tb []time.Duration, fa, fb []int64, check func(ra, rb time.Duration) (string, string)) {
		ma, mb := median(ta), median(tb)
		target, result := check(ma, mb)
		rows = append(rows, row{what, a.name, b.name, ma, mb, medianFaults(fa), medianFaults(fb), target, result})
		fmt.Fprintf(os.Stderr, "%-34s %10s  %-26s %10s  ratio %.2f  faults %d / %d  %s\n", what, ms(ma), b.name, ms(mb), ratio(ma, mb), medianFaults(fa), medianFaults(fb), result)
	}
	add := func(what string, a, b command, n int, check func(ra, rb time.Duration) (string, string)) {
		ta, tb, fa, fb := pairedFaults(a, b, n)
		addTimes(what, a, b, ta, tb, fa, fb, check)
	}
	noSlower := func(ra, rb time.Duration) (string, string) { return "≤ 1.00", verdict(ratio(ra, rb) <= 1.0) }
	within := func(x float64) func(ra, rb time.Duration) (string, string) {
		return func(ra, rb time.Duration) (string, string) {
			return fmt.Sprintf("≤ %.2f", x), verdict(ratio(ra, rb) <= x)
		}
	}

	// Our own share of a 1-session get: the same stack, built the same way,
	// doing nothing but read stdin; each side from several copies of its
	// binary (copies).
	startup := func() {
		var a, b []command
		floors := copies(*stackFloor, *work, *nCopies)
		for k, p := range copies(*tuned, *work, *nCopies) {
			c := oursTuned(fx[1], fx[1].json)
			c.argv[0] = p
			a = append(a, c)
			c = stackFloorCmd(fx[1])
			c.argv[0] = floors[k]
			b = append(b, c)
		}
		ta, tb, fa, fb := pairedCopies(a, b, max(*runs / *nCopies, 1))
		addTimes(fmt.Sprintf("get, 1 session, recommended build, vs stack floor (%d copies each)", *nCopies), a[0], b[0], ta, tb, fa, fb, within(1.05))
	}
	if *startupOnly {
		startup()
		printRows(rows)
		return
	}

	for _, v := range []struct {
		label string
		get   func(fixture, string) command
	}{{"go build", ours}, {"recommended build", oursTuned}} {
		add("get last of 10,000, "+v.label, v.get(fx[10000], fx[10000].json), git(fx[10000], fx[10000].git), *runs, noSlower)
		add("get last of 100,000, "+v.label, v.get(fx[100000], fx[100000].json), git(fx[100000], fx[100000].git), *runs, noSlower)
		add("get, 1 session, "+v.label, v.get(fx[1], fx[1].json), floorCmd(fx[1]), *runs, within(1.3))
	}

	startup()

	storeJSON := filepath.Join(*work, "store.json")
	storeGit := filepath.Join(*work, "store-git")
	f := fx[10000]
	oursStore := command{name: "store (go build)", argv: []string{*bin, "--file", storeJSON, "store"},
		stdin:   "url=https://cs7.example.com\nemail=new@example.com\naccess_token=" + strings.Repeat("ab", 32) + "\nexpires_in=86400\n",
		prepare: copyFile(f.json, storeJSON)}
	gitStore := command{name: "git credential-store store", argv: []string{"git", "credential-store", "--file", storeGit, "store"},
		stdin:   "protocol=https\nhost=cs7.example.com\nusername=new@example.com\npassword=" + strings.Repeat("ab", 32) + "\n\n",
		prepare: copyFile(f.git, storeGit)}
	add("store into 10,000, go build", oursStore, gitStore, *runs, within(1.5))
	oursStore.argv[0], oursStore.name = *tuned, "store (recommended build)"
	add("store into 10,000, recommended build", oursStore, gitStore, *runs, within(1.5))

	add("get last of 10,000 vs Python, go build", ours(fx[10000], fx[10000].json), python(fx[10000]), *pyRuns,
		func(ra, rb time.Duration) (string, string) {
			return "≥ 50× faster", verdict(float64(rb) >= 50*float64(ra))
		})

	// Memory.
	fi, _ := os.Stat(fx[100000].json)
	rss := peakRSS(ours(fx[100000], fx[100000].json))
	rssTuned := peakRSS(oursTuned(fx[100000], fx[100000].json))
	limit := 2*int(fi.Size())/1024 + 10*1024
	gitRSS := peakRSS(git(fx[100000], fx[100000].git))
	floorRSS := peakRSS(floorCmd(fx[1]))

	// Growth: medians at each size, for the plot.
	curves := map[string][]time.Duration{}
	for _, n := range sizes {
		f := fx[n]
		to, tg := paired(oursTuned(f, f.json), git(f, f.git), *runs/2+1)
		tf, _ := paired(floorCmd(f), floorCmd(f), *runs/4+1)
		curves["cryosparc-credential get (recommended build)"] = append(curves["cryosparc-credential get (recommended build)"], median(to))
		curves["git credential-store get"] = append(curves["git credential-store get"], median(tg))
		curves["floor (reads stdin, exits)"] = append(curves["floor (reads stdin, exits)"], median(tf))
		if n <= 10000 {
			tp, _ := paired(python(f), python(f), 3)
			curves["Python load + find"] = append(curves["Python load + find"], median(tp))
		}
	}

	printRows(rows)
	fmt.Println()
	fmt.Println("| what | peak RSS | against | result |")
	fmt.Println("|---|---|---|---|")
	fmt.Printf("| get at 100,000 sessions, go build | %d KiB | file %d KiB; limit 2× file + 10 MiB = %d KiB | %s |\n", rss, fi.Size()/1024, limit, verdict(rss >= 0 && rss <= limit))
	fmt.Printf("| get at 100,000 sessions, recommended build | %d KiB | same limit | %s |\n", rssTuned, verdict(rssTuned >= 0 && rssTuned <= limit))
	fmt.Printf("| peak RSS, git credential-store get at 100,000 | %d KiB | | |\n", gitRSS)
	fmt.Printf("| peak RSS, floor | %d KiB | | |\n", floorRSS)
	fmt.Println()
	fmt.Println("| sessions | file (bytes) | cryosparc-credential get (recommended build) | git credential-store get | floor | Python load + find |")
	fmt.Println("|---|---|---|---|---|---|")
	for i, n := range sizes {
		fi, _ := os.Stat(fx[n].json)
		py := "–"
		if i < len(curves["Python load + find"]) {
			py = ms(curves["Python load + find"][i])
		}
		fmt.Printf("| %d | %d | %s | %s | %s | %s |\n", n, fi.Size(), ms(curves["cryosparc-credential get (recommended build)"][i]),
			ms(curves["git credential-store get"][i]), ms(curves["floor (reads stdin, exits)"][i]), py)
	}
	must(os.WriteFile(*svg, plot(sizes, curves), 0o644))
}

func printRows(rows []row) {
	fmt.Println("| comparison | cryosparc-credential median | other | other's median | ratio (ours/other) | page faults (ours / other) | target | result |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Printf("| %s | %s | %s | %s | %.2f | %d / %d | %s | %s |\n", r.what, ms(r.ma), r.b, ms(r.mb), ratio(r.ma, r.mb), r.fa, r.fb, r.target, r.result)
	}
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// plot draws time against sessions twice: on log scales (every size
// shows), and on linear scales (a straight line is linear growth).
func plot(sizes []int, curves map[string][]time.Duration) []byte {
	const panelW, h, top, bottom, legendH = 420, 470, 40, 50, 90
	names := []string{"cryosparc-credential get (recommended build)", "git credential-store get", "floor (reads stdin, exits)", "Python load + find"}
	colors := []string{"#d62728", "#1f77b4", "#7f7f7f", "#2ca02c"}
	var b strings.Builder
	w := 2*panelW + 40
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", w, h+legendH)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h+legendH)
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	maxN := float64(sizes[len(sizes)-1])

	// Left: log-log, every curve.
	{
		left, right := 70.0, float64(panelW)-10
		minT, maxT := math.Inf(1), math.Inf(-1)
		for _, c := range curves {
			for _, d := range c {
				minT, maxT = math.Min(minT, ms(d)), math.Max(maxT, ms(d))
			}
		}
		lo, hi := math.Floor(math.Log10(minT)), math.Ceil(math.Log10(maxT))
		x := func(n int) float64 { return left + math.Log10(float64(n))/math.Log10(maxN)*(right-left) }
		y := func(v float64) float64 { return top + (hi-math.Log10(v))/(hi-lo)*(h-top-bottom) }
		fmt.Fprintf(&b, `<text x="%.0f" y="20" font-weight="bold">log scales</text>`+"\n", left)
		for e := lo; e <= hi; e++ {
			v := math.Pow(10, e)
			fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%.0f" y="%.1f" text-anchor="end">%g ms</text>`+"\n", left, right, y(v), y(v), left-6, y(v)+4, v)
		}
		for _, n := range sizes {
			fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#ddd"/><text x="%.1f" y="%d" text-anchor="middle">%d</text>`+"\n", x(n), x(n), top, h-bottom, x(n), h-bottom+16, n)
		}
		fmt.Fprintf(&b, `<text x="%.0f" y="%d" text-anchor="middle">sessions in the file</text>`+"\n", (left+right)/2, h-14)
		for i, name := range names {
			var pts []string
			for j, d := range curves[name] {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(sizes[j]), y(ms(d))))
			}
			polyline(&b, pts, colors[i])
		}
	}
	// Right: linear scales, the two helpers.
	{
		left, right := float64(panelW)+90, float64(w)-40
		maxT := 0.0
		for _, name := range names[:2] {
			for _, d := range curves[name] {
				maxT = math.Max(maxT, ms(d))
			}
		}
		step := math.Pow(10, math.Floor(math.Log10(maxT)))
		if maxT/step < 3 {
			step /= 2
		}
		top2 := math.Ceil(maxT/step) * step
		x := func(n int) float64 { return left + float64(n)/maxN*(right-left) }
		y := func(v float64) float64 { return top + (top2-v)/top2*(h-top-bottom) }
		fmt.Fprintf(&b, `<text x="%.0f" y="20" font-weight="bold">linear scales</text>`+"\n", left)
		for v := 0.0; v <= top2+1e-9; v += step {
			fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%.0f" y="%.1f" text-anchor="end">%g ms</text>`+"\n", left, right, y(v), y(v), left-6, y(v)+4, v)
		}
		for n := 0; n <= int(maxN); n += int(maxN) / 4 {
			fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#ddd"/><text x="%.1f" y="%d" text-anchor="middle">%d</text>`+"\n", x(n), x(n), top, h-bottom, x(n), h-bottom+16, n)
		}
		fmt.Fprintf(&b, `<text x="%.0f" y="%d" text-anchor="middle">sessions in the file</text>`+"\n", (left+right)/2, h-14)
		for i, name := range names[:2] {
			var pts []string
			for j, d := range curves[name] {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(sizes[j]), y(ms(d))))
			}
			polyline(&b, pts, colors[i])
		}
	}
	for i, name := range names {
		ly := h + 10 + 20*i
		fmt.Fprintf(&b, `<line x1="70" x2="100" y1="%d" y2="%d" stroke="%s" stroke-width="2"/><text x="108" y="%d">%s</text>`+"\n", ly, ly, colors[i], ly+4, name)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" fill="#555">median wall time of one call, paired runs</text>`+"\n", w-20, h+14)
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

func polyline(b *strings.Builder, pts []string, color string) {
	fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", color, strings.Join(pts, " "))
	for _, p := range pts {
		xy := strings.Split(p, ",")
		fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="3" fill="%s"/>`+"\n", xy[0], xy[1], color)
	}
}

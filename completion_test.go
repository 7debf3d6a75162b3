package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cryosparc-credential/cryosparc-credential/internal/cmdline"
	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
)

var updateCompletion = flag.Bool("update-completion", false, "rewrite the completion scripts under completion/")

// checkGenerated fails the test when the committed file at path is not
// content, a file generated from the command line; with update it writes
// content there first. regenerate is the command that does.
func checkGenerated(t *testing.T, path, content string, update bool, regenerate string) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(committed) != content {
		t.Errorf("%s is out of date; regenerate it: %s", path, regenerate)
	}
}

// quietApp is the command line with an empty environment, for generating
// files from its definition.
func quietApp() *cli.App {
	return cmdline.App(env{Stdin: strings.NewReader(""), Stdout: os.Stdout, Stderr: os.Stderr, Now: time.Now,
		Lookup: func(string) (string, bool) { return "", false }})
}

// bashCompletion writes the bash completion script from the command line
// definition: every command, every command's flags (the global ones
// included, since they are accepted after the command too), file names
// after --file.
func bashCompletion(app *cli.App) string {
	names := func(flags []cli.Flag) (all, valued []string) {
		for _, f := range flags {
			if v, ok := f.(cli.VisibleFlag); ok && !v.IsVisible() {
				continue
			}
			n := "--" + f.Names()[0]
			all = append(all, n)
			if df, ok := f.(cli.DocGenerationFlag); ok && df.TakesValue() {
				valued = append(valued, n)
			}
		}
		sort.Strings(all)
		return all, valued
	}
	var cmds []string
	for _, c := range app.Commands {
		if !c.Hidden {
			cmds = append(cmds, c.Name)
		}
	}
	global, globalValued := names(app.Flags)
	var b strings.Builder
	b.WriteString(`# bash completion for cryosparc-credential, generated from its command line
# (go test -run Completion -update-completion .): source it from ~/.bashrc,
# or copy it to ~/.local/share/bash-completion/completions/cryosparc-credential.
# zsh: autoload -U compinit bashcompinit && compinit && bashcompinit, then source it.
_cryosparc_credential() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd="" i
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
`)
	valued := map[string]bool{}
	for _, n := range globalValued {
		valued[n] = true
	}
	for _, c := range app.Commands {
		_, v := names(c.Flags)
		for _, n := range v {
			valued[n] = true
		}
	}
	var vs []string
	for n := range valued {
		vs = append(vs, n)
	}
	sort.Strings(vs)
	fmt.Fprintf(&b, "\t\t%s) ((i++)) ;;\n", strings.Join(vs, " | "))
	b.WriteString("\t\t-*) ;;\n\t\t*) [ -z \"$cmd\" ] && cmd=${COMP_WORDS[i]} ;;\n\t\tesac\n\tdone\n")
	b.WriteString(storedValues)
	b.WriteString("\tcase $prev in\n\t--file) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n")
	fmt.Fprintf(&b, "\t%s) COMPREPLY=(); return ;;\n\tesac\n", strings.Join(without(without(without(vs, "--file"), "--url"), "--email"), " | "))
	b.WriteString("\tlocal words\n\tcase $cmd in\n")
	fmt.Fprintf(&b, "\t\"\") words=%q ;;\n", strings.Join(append(append(cmds, "help"), append(global, "--help", "--version")...), " "))
	fmt.Fprintf(&b, "\thelp) words=%q ;;\n", strings.Join(cmds, " "))
	for _, c := range app.Commands {
		if c.Hidden {
			continue
		}
		all, _ := names(c.Flags)
		fmt.Fprintf(&b, "\t%s) words=%q ;;\n", c.Name, strings.Join(append(all, "--help"), " "))
	}
	b.WriteString("\t*) words=\"\" ;;\n\tesac\n\tCOMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n}\n")
	b.WriteString("complete -o bashdefault -o default -F _cryosparc_credential cryosparc-credential\n")
	return b.String()
}

// storedValues completes the value of --url and --email from the stored
// sessions (the hidden command __complete prints them; never a token). A
// URL's ':' splits words in bash, so the word and the one before it are
// taken from the line itself, and bash is given only what follows the
// last ':' of the word, as it replaces no more.
const storedValues = `	local word=$cur before=$prev
	if [ -n "${BASH_VERSION-}" ] && [ -n "${COMP_LINE-}" ]; then
		local line=${COMP_LINE:0:COMP_POINT}
		word=${line##* }
		line=${line% *}
		before=${line##* }
	fi
	case $before in
	--url | --email)
		local file="" url="" j
		for ((j = 1; j < COMP_CWORD; j++)); do
			[ "${COMP_WORDS[j]}" = --file ] && file=${COMP_WORDS[j+1]}
			[ "${COMP_WORDS[j]}" = --url ] && url=${COMP_WORDS[j+1]}
		done
		if [ -n "${BASH_VERSION-}" ] && [ -n "${COMP_LINE-}" ]; then
			# bash splits a URL at ':': take --url's value from the line.
			case " ${COMP_LINE:0:COMP_POINT}" in
			*" --url "*) url=" ${COMP_LINE:0:COMP_POINT}" url=${url##*" --url "} url=${url%% *} ;;
			esac
		fi
		[ "$before" = --email ] || url=""
		COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" ${file:+--file "$file"} __complete ${url:+--url "$url"} "${before#--}" 2>/dev/null)" -- "$word"))
		if [ -n "${BASH_VERSION-}" ] && [[ $word == *:* && $COMP_WORDBREAKS == *:* ]]; then
			local pre=${word%"${word##*:}"}
			COMPREPLY=("${COMPREPLY[@]#"$pre"}")
		fi
		return ;;
	esac
`

func without(list []string, drop string) []string {
	var out []string
	for _, s := range list {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}

// TestCompletionUpToDate fails when completion/cryosparc-credential.bash no
// longer matches the command line; regenerate it with
// go test -run Completion -update-completion .
func TestCompletionUpToDate(t *testing.T) {
	script := bashCompletion(quietApp())
	checkGenerated(t, "completion/cryosparc-credential.bash", script, *updateCompletion, "go test -run Completion -update-completion .")
	for _, want := range []string{"token) words=\"--email --file --header --lock-timeout --min-ttl --url --help\"", "help) words=\"get store erase"} {
		if !strings.Contains(script, want) {
			t.Errorf("the script lacks %q", want)
		}
	}
}

// zshFunction is the completion function zsh loads from its fpath (the
// file _cryosparc-credential that the packages install in the system's
// completion folder): the bash completion, run through zsh's bashcompinit.
// The first call defines it and registers it with complete, which binds
// the command to bashcompinit's _bash_complete for every later call, then
// completes once itself.
func zshFunction(bash string) string {
	return `#compdef cryosparc-credential
# zsh completion for cryosparc-credential, generated from its command line
# (go test -run Completion -update-completion .): for a folder on zsh's
# $fpath (the packages install it in the system's). It is the bash
# completion, run through zsh's bashcompinit.
autoload -U +X bashcompinit && bashcompinit
` + bash + "_bash_complete -o bashdefault -o default -F _cryosparc_credential\n"
}

// TestZshFunctionUpToDate fails when completion/_cryosparc-credential no
// longer matches the bash completion it embeds; regenerate it with
// go test -run Completion -update-completion .
func TestZshFunctionUpToDate(t *testing.T) {
	bash := bashCompletion(quietApp())
	fn := zshFunction(bash)
	checkGenerated(t, "completion/_cryosparc-credential", fn, *updateCompletion, "go test -run Completion -update-completion .")
	if !strings.HasPrefix(fn, "#compdef cryosparc-credential\n") {
		t.Error("the first line must be #compdef cryosparc-credential, or compinit does not load the file")
	}
	if !strings.Contains(fn, bash) {
		t.Error("the zsh function does not hold the bash completion")
	}
}

// TestCompletionEmailsOfURL: completing --email after --url offers that
// instance's emails only (as find() matches the URL), in bash as it splits
// the line (a URL's ':' makes words of its own).
func TestCompletionEmailsOfURL(t *testing.T) {
	testkit.Need(t, "bash", "-c", "true")
	file := filepath.Join(t.TempDir(), "auth.json")
	for _, s := range [][2]string{{"https://a.example.com", "ali@a"}, {"https://a.example.com", "bo@a"}, {"https://b.example.com", "cy@b"}} {
		req := "url=" + s[0] + "\nemail=" + s[1] + "\naccess_token=t\nexpires_in=86400\n"
		if _, errs, code := runBinary(t, req, "--file", file, "store"); code != 0 {
			t.Fatal(errs)
		}
	}
	tests := []struct {
		line  string
		words []string // as bash splits the line
		want  string
	}{
		{"token --url https://a.example.com --email ", []string{"token", "--url", "https", ":", "//a.example.com", "--email", ""}, "ali@a bo@a"},
		{"token --url https://b.example.com/ --email ", []string{"token", "--url", "https", ":", "//b.example.com/", "--email", ""}, "cy@b"},
		{"token --email ", []string{"token", "--email", ""}, "ali@a bo@a cy@b"},
		{"token --url ", []string{"token", "--url", ""}, "https://a.example.com https://b.example.com"},
	}
	for _, tt := range tests {
		words := append([]string{binary(t), "--file", file}, tt.words...)
		line := binary(t) + " --file " + file + " " + tt.line
		script := `source completion/cryosparc-credential.bash
COMP_WORDBREAKS=$' \t\n"'"'"'><=;|&(:'
COMP_LINE=$1 COMP_POINT=${#1}
shift
COMP_WORDS=("$@") COMP_CWORD=$(($# - 1))
_cryosparc_credential
echo "${COMPREPLY[*]}"`
		out, errs, code := runCmd(t, exec.Command("bash", append([]string{"-c", script, "bash", line}, words...)...))
		got := strings.TrimSpace(out)
		if code != 0 || got != tt.want {
			t.Errorf("%q: %q (exit %d, %s), want %q", tt.line, out, code, errs, tt.want)
		}
	}
}

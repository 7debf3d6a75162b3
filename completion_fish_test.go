//go:build !urfave_cli_no_docs

package main

import (
	"strings"
	"testing"
)

// TestCompletionFishUpToDate fails when completion/cryosparc-credential.fish
// no longer matches the command line (urfave/cli writes it, so it is built
// without the urfave_cli_no_docs tag, like the man page); regenerate it
// with go test -run Completion -update-completion .
func TestCompletionFishUpToDate(t *testing.T) {
	script, err := quietApp().ToFishCompletion()
	if err != nil {
		t.Fatal(err)
	}
	checkGenerated(t, "completion/cryosparc-credential.fish", script, *updateCompletion, "go test -run Completion -update-completion .")
	for _, want := range []string{
		"-n '__fish_cryosparc-credential_no_subcommand' -a 'token'",
		"-n '__fish_seen_subcommand_from token' -f -l min-ttl -r",
		"-n '__fish_seen_subcommand_from list' -f -l json",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("the script lacks %q", want)
		}
	}
	if strings.Contains(script, "__complete") {
		t.Error("the script offers the hidden command __complete")
	}
}

//go:build !urfave_cli_no_docs

package main

import (
	"flag"
	"strings"
	"testing"
)

var updateMan = flag.Bool("update-man", false, "rewrite docs/cryosparc-credential.1")

// manPage renders the man page from the command line definition.
func manPage(t *testing.T) string {
	app := quietApp()
	app.Version = "" // the page must not depend on the build
	man, err := app.ToManWithSection(1)
	if err != nil {
		t.Fatal(err)
	}
	return finishMan(t, man)
}

// finishMan gives urfave/cli's page a real synopsis and the sections a man
// page has that it does not write.
func finishMan(t *testing.T, man string) string {
	start := strings.Index(man, ".SH SYNOPSIS")
	end := strings.Index(man, ".SH DESCRIPTION")
	if start < 0 || end < start {
		t.Fatal("urfave/cli's man page has no SYNOPSIS before DESCRIPTION")
	}
	synopsis := `.SH SYNOPSIS
\fBcryosparc-credential\fP [\fB--file\fP \fIPATH\fP] [\fB--lock-timeout\fP \fIDURATION\fP] \fICOMMAND\fP [\fIOPTIONS\fP]
.br
\fBprintf\fP 'url=\fIURL\fP\\n' | \fBcryosparc-credential get\fP

`
	return man[:start] + synopsis + man[end:] + manSections
}

const manSections = `
.SH EXIT STATUS
.TP
0
done
.TP
1
nothing found (no session, an expired session, or one that does not last --min-ttl)
.TP
2
bad usage or bad input; the session file is left untouched
.TP
3
the session file cannot be read or written safely: invalid for cryosparc-tools, not a session file, not a regular file or larger than 256 MiB, read-only, still being written by another program, permissions, or the lock not obtained in time
.TP
4
the server refused: login credentials rejected, or status found a session rejected or expired (log in again)
.TP
5
the output could not be written: a closed standard output, a full disk, a broken pipe (never killed by SIGPIPE)
.TP
6
the server could not be reached or did not answer as CryoSPARC: network, TLS, timeout, a redirect (never followed), a 5xx answer (retry)
.PP
exec returns its command's status once the command has started.

.SH ENVIRONMENT
.TP
\fBCRYOSPARC_AUTH_FILE\fP
the session file, when --file is not given
.TP
\fBXDG_CONFIG_HOME\fP, \fBAPPDATA\fP
where cryosparc-tools' session file is by default (see FILES)
.TP
\fBCRYOSPARC_BASE_URL\fP
the instance every command means when given no URL (get's url= requests, token, exec, status, list, logout, login), as cryosparc-tools' CryoSPARC() does
.TP
\fBCRYOSPARC_MASTER_HOSTNAME\fP, \fBCRYOSPARC_BASE_PORT\fP
instead of CRYOSPARC_BASE_URL: http://HOST:PORT (host localhost, port 61000 by default); both kinds at once are refused
.TP
\fBCRYOSPARC_EMAIL\fP
the email every command means when given none, as CryoSPARC() does
.TP
\fBCRYOSPARC_PASSWORD\fP
login's password when not given otherwise (the name cryosparc-tools reads); exec removes it, and \fBCRYOSPARC_LICENSE_ID\fP, from its command's environment, so that CryoSPARC() there uses the chosen session instead of logging in
.TP
\fBCRYOSPARC_SESSION_EXPIRES\fP
set by exec for its command: when the session expires (RFC 3339, UTC)
.TP
\fBSLURM_JOB_END_TIME\fP, \fBSLURM_JOB_START_TIME\fP
exec --min-ttl job: when the Slurm job ends (epoch seconds); 0, a year or more ahead, or a year after the start is Slurm's mark for a job without a time limit, refused (exit 2): give --min-ttl DURATION
.TP
\fBSSL_CERT_FILE\fP
a certificate authority to trust for https instances

.SH FILES
.TP
\fI$XDG_CONFIG_HOME/cryosparc-tools/auth.json\fP, else \fI~/.config/cryosparc-tools/auth.json\fP (macOS too); \fI%APPDATA%\\cryosparc-tools\\auth.json\fP on Windows
the session file shared with cryosparc-tools
.TP
\fIauth.json.lock\fP, \fIauth.json.lock.held\fP
the lock beside it, taken by every change (flock where the file system allows it, and an exclusively created file everywhere)
.TP
\fIauth.json.recent\fP
this program's writes of the last 15 minutes (owner-only; it holds tokens, like the session file): a write that a cryosparc-tools save, which loaded the file before it, then dropped is restored from it by the next command
.TP
\fIauth.json.bak-YYYYMMDDTHHMMSSZ\fP (then \fI-2\fP, \fI-3\fP…)
the copy doctor --fix keeps

.SH EXAMPLES
.EX
# log in, then a token for a job, never in a process's arguments
cryosparc-credential login --url https://cryosparc.example.com --email ali@example.com
cryosparc-credential token --header --url https://cryosparc.example.com | curl -H @- https://cryosparc.example.com/api/...

# the protocol, as a git credential helper speaks it
printf 'url=https://cryosparc.example.com\\n' | cryosparc-credential get

# are the stored sessions still accepted?
cryosparc-credential status

# a Slurm job whose CryoSPARC() uses the session, refused if it ends first
cryosparc-credential exec --min-ttl job -- python job.py

# renew from cron when less than 3 days are left
cryosparc-credential login --url https://cryosparc.example.com --email ali@example.com \\
    --password-command 'pass show cryosparc' --renew-within 3d
.EE

.SH SEE ALSO
git-credential(1), https://tools.cryosparc.com
`

// TestManPageUpToDate fails when docs/cryosparc-credential.1 no longer
// matches the commands; regenerate it with go test -run ManPage -update-man.
func TestManPageUpToDate(t *testing.T) {
	man := manPage(t)
	checkGenerated(t, "docs/cryosparc-credential.1", man, *updateMan, "go test -run ManPage -update-man .")
	for _, cmd := range []string{"login", "logout", "token", "list", "doctor", "get", "store", "erase"} {
		if !strings.Contains(man, cmd) {
			t.Errorf("man page lacks %s", cmd)
		}
	}
}

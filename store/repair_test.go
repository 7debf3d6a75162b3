package store

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

const repairable = `{"https://x": {"a@x": {"token": {"access_token": "t", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00"}}}`

// TestRepairBackupsNeverCollide: repairs within the same second each keep
// their own backup, and Backups lists them oldest first, leaving out
// other names.
func TestRepairBackupsNeverCollide(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "auth.json")
	now := fixedNow
	opt := testOptions(t)
	opt.Now = func() time.Time { return now }
	var made []string
	for i, at := range []time.Duration{0, 0, 0, time.Second} {
		now = fixedNow.Add(at)
		content := strings.Replace(repairable, `"t"`, `"t`+string(rune('0'+i))+`"`, 1)
		os.WriteFile(path, []byte(content), 0o600)
		backup, err := Repair(path, opt, false)
		if err != nil {
			t.Fatalf("repair %d: %v", i, err)
		}
		if data, _ := os.ReadFile(backup); string(data) != content {
			t.Errorf("backup %s holds %q, want repair %d's original", backup, data, i)
		}
		made = append(made, backup)
	}
	stem := path + ".bak-20260102T030405Z"
	want := []string{stem, stem + "-2", stem + "-3", path + ".bak-20260102T030406Z"}
	if strings.Join(made, " ") != strings.Join(want, " ") {
		t.Errorf("backups made %q, want %q", made, want)
	}
	for _, other := range []string{"auth.json.bak-junk", "auth.json.bak-20260102T030405Z-01", "auth.json.bak-20260102T030405Z-1", "other.json.bak-20260102T030405Z", "auth.json.bak-20260102T030405Z-2x"} {
		os.WriteFile(filepath.Join(dir, other), nil, 0o600)
	}
	os.Mkdir(filepath.Join(dir, "auth.json.bak-20260102T030407Z"), 0o700)
	// -10 sorts after -3, by number.
	os.WriteFile(stem+"-10", nil, 0o600)
	want = []string{stem, stem + "-2", stem + "-3", stem + "-10", path + ".bak-20260102T030406Z"}
	got, err := Backups(path)
	if err != nil || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Backups = %q, %v; want %q", got, err, want)
	}
}

func TestBackupsWithoutFolder(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{filepath.Join(dir, "none", "auth.json"), filepath.Join(dir, "auth.json")} {
		if got, err := Backups(path); err != nil || len(got) != 0 {
			t.Errorf("Backups(%s) = %q, %v; want none", path, got, err)
		}
	}
	if runtime.GOOS == "windows" {
		return
	}
	os.Symlink(filepath.Join(dir, "gone", "deep"), filepath.Join(dir, "link"))
	if got, err := Backups(filepath.Join(dir, "link", "auth.json")); err != nil || len(got) != 0 {
		t.Errorf("Backups through a dangling link = %q, %v; want none", got, err)
	}
}

// TestRepairRefusalNamesNoFlag: a repair that must be forced says so in
// its own words (the command line adds the flag), as ErrNotRepaired.
func TestRepairRefusalNamesNoFlag(t *testing.T) {
	for name, content := range map[string]string{
		"not JSON":               "not json at all",
		"not a session file":     `{"editor": {"theme": "dark"}}`,
		"no session file at all": "root:x:0:0:root:/root:/bin/bash\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "auth.json")
			os.WriteFile(path, []byte(content), 0o600)
			backup, err := Repair(path, testOptions(t), false)
			if !errors.Is(err, ErrNotRepaired) || backup != "" {
				t.Fatalf("Repair = %q, %v; want ErrNotRepaired", backup, err)
			}
			// (The *InvalidError it wraps names --file: invalid.go's.)
			if strings.Contains(err.Error(), "--force") || !strings.Contains(err.Error(), "forced repair") {
				t.Errorf("message %q names a flag, or not what to do", err)
			}
			if data, _ := os.ReadFile(path); string(data) != content {
				t.Error("the file changed")
			}
		})
	}
}

// TestRepairReadGivesTheFileAfter: RepairRead's sessions are what the file
// holds after the repair, as a Load keeping expired sessions reads it
// then: what it wrote, or, when it left the file as it was, what it read;
// none when it read nothing (no file, an empty one).
func TestRepairReadGivesTheFileAfter(t *testing.T) {
	const expired = `{"https://x": {"a@x": {"token": {"access_token": "t", "token_type": "bearer"}, "expires": "2099-01-01T00:00:00Z"},
 "old@x": {"token": {"access_token": "o", "token_type": "bearer"}, "expires": "2020-01-01T00:00:00Z"}}}`
	for _, tt := range []struct {
		name    string
		content string // "-" for no file
		twice   bool   // repaired once before: nothing left to repair
		backup  bool
		read    bool
		left    int // sessions after
	}{
		{name: "no file", content: "-"},
		{name: "empty", content: ""},
		{name: "a rejected entry", content: repairable, backup: true, read: true},
		{name: "an expired session", content: expired, backup: true, read: true, left: 1},
		{name: "nothing to repair", content: expired, twice: true, read: true, left: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "auth.json")
			if tt.content != "-" {
				os.WriteFile(path, []byte(tt.content), 0o600)
			}
			if tt.twice {
				if _, err := Repair(path, testOptions(t), false); err != nil {
					t.Fatal(err)
				}
			}
			r, err := RepairRead(path, testOptions(t), false)
			if err != nil || (r.Backup != "") != tt.backup || (r.Sessions != nil) != tt.read {
				t.Fatalf("RepairRead = %+v, %v; want a backup %v, sessions %v", r, err, tt.backup, tt.read)
			}
			if !tt.read {
				return
			}
			o := testOptions(t)
			o.KeepExpired = true
			after, err := Load(path, o)
			if err != nil || string(r.Sessions.Marshal()) != string(after.Marshal()) || after.Len() != tt.left {
				t.Errorf("RepairRead's sessions\n%s\nthe file after (%v)\n%s", r.Sessions.Marshal(), err, after.Marshal())
			}
		})
	}
}

// TestRepairNilOptions: Repair and RepairRead take nil Options as every
// other entry point does (the defaults).
func TestRepairNilOptions(t *testing.T) {
	for _, force := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "auth.json")
		if err := os.WriteFile(path, []byte(repairable), 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := RepairRead(path, nil, force)
		if err != nil || r.Backup == "" {
			t.Errorf("force %v: RepairRead(nil options) = %+v, %v; want a repair with a backup", force, r, err)
		}
	}
}

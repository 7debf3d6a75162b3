package testkit

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// CoarseMount mounts a new ext4 file system of size bytes with 128-byte
// inodes, whose timestamps have a resolution of 1 second (as on NFS
// exports of ext3), and returns its folder; it is unmounted when the test
// ends. It needs root and loop devices: without them the test is skipped,
// with the reason (under CI too when the machine cannot loop-mount at all,
// e.g. a container without loop devices: nothing the test could install
// helps).
func CoarseMount(t *testing.T, size int64) string {
	t.Helper()
	Require(t, os.Geteuid() == 0, "needs root, to loop-mount a file system with 1-second timestamps")
	Need(t, "mkfs.ext4", "-V")
	dir := t.TempDir()
	img, mnt := filepath.Join(dir, "img"), filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, size); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", "-I", "128", img).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v %s", err, out)
	}
	if out, err := exec.Command("mount", "-o", "loop", img, mnt).CombinedOutput(); err != nil {
		t.Skipf("this machine cannot loop-mount a file system (%v: %s)", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount: %v %s", err, out)
		}
	})
	// The premise: times on it are whole seconds.
	probe := filepath.Join(mnt, "probe")
	if err := os.WriteFile(probe, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(probe, &st); err != nil {
		t.Fatal(err)
	}
	if st.Ctim.Nsec != 0 {
		t.Fatalf("ext4 with 128-byte inodes gave a change time with %d ns, not whole seconds", st.Ctim.Nsec)
	}
	os.Remove(probe)
	return mnt
}

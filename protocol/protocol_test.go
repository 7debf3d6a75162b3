package protocol

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/cryosparc-credential/cryosparc-credential/internal/errkind"
	"github.com/cryosparc-credential/cryosparc-credential/internal/testkit"
)

func TestRead(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want [][2]string // keys and values in order
	}{
		{"empty input", "", nil},
		{"blank line only", "\n", nil},
		{"one pair at EOF, no newline", "url=http://x", [][2]string{{"url", "http://x"}}},
		{"ended by blank line", "url=a\nemail=b\n\nignored=1\n", [][2]string{{"url", "a"}, {"email", "b"}}},
		{"value may hold =", "access_token=a=b==\n", [][2]string{{"access_token", "a=b=="}}},
		{"empty value", "email=\n", [][2]string{{"email", ""}}},
		{"CRLF: one trailing CR dropped", "url=a\r\nemail=b\r\r\n\r\n", [][2]string{{"url", "a"}, {"email", "b\r"}}},
		{"later value replaces earlier, first place kept", "a=1\nb=2\na=3\n", [][2]string{{"a", "3"}, {"b", "2"}}},
		{"unicode", "email=ü@例え.jp\n", [][2]string{{"email", "ü@例え.jp"}}},
		{"spaces kept", "url= x \n", [][2]string{{"url", " x "}}},
		{"longest line allowed", "k=" + strings.Repeat("v", MaxLine-2) + "\n", [][2]string{{"k", strings.Repeat("v", MaxLine-2)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Read(strings.NewReader(tt.in))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			keys := a.Keys()
			if len(keys) != len(tt.want) {
				t.Fatalf("keys %q, want %d pairs %q", keys, len(tt.want), tt.want)
			}
			for i, kv := range tt.want {
				if keys[i] != kv[0] || a.Value(kv[0]) != kv[1] {
					t.Errorf("pair %d = %q=%q, want %q=%q", i, keys[i], a.Value(keys[i]), kv[0], kv[1])
				}
			}
		})
	}
}

func TestReadRejects(t *testing.T) {
	const secret = "SECRETTOKEN123"
	tests := []struct {
		name, in, wantMsg string
	}{
		{"line without =", "url=a\n" + secret + "\n", "line 2"},
		{"NUL byte", "access_token=" + secret + "\x00\n", "NUL"},
		{"empty key", "=" + secret + "\n", "empty key"},
		{"line too long", "access_token=" + secret + strings.Repeat("x", MaxLine) + "\n", "longer than"},
		{"line too long at EOF", "access_token=" + strings.Repeat("x", MaxLine) + secret, "longer than"},
		{"input too large", strings.Repeat("k="+strings.Repeat("x", 1000)+"\n", 1100) + secret, "larger than"},
		{"invalid UTF-8", "access_token=" + secret + "\xff\xfe\n", "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.in))
			if !errors.Is(err, ErrBadInput) {
				t.Fatalf("Read error = %v, want ErrBadInput", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not say %q", err, tt.wantMsg)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q leaks the value or spans lines", err)
			}
		})
	}
}

type failingIO struct{}

func (failingIO) Read([]byte) (int, error)  { return 0, syscall.EIO }
func (failingIO) Write([]byte) (int, error) { return 0, syscall.EPIPE }

// TestErrorsHaveKinds: every error protocol returns, and each exported
// sentinel, has an errkind kind; a read that fails (a folder or
// /proc/self/mem as stdin, an I/O error) is bad input (exit 2) and keeps
// its cause.
func TestErrorsHaveKinds(t *testing.T) {
	open := func(path string) io.Reader {
		f, err := os.Open(path)
		if err != nil {
			testkit.Require(t, false, fmt.Sprintf("cannot open %s: %v", path, err))
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	readErr := func(r io.Reader) error {
		_, err := Read(r)
		if err == nil {
			t.Fatalf("Read succeeded")
		}
		return err
	}
	var unwritable Attributes
	unwritable.Set("k", "v\n")
	var ok Attributes
	ok.Set("k", "v")
	tests := []struct {
		name  string
		err   error
		kind  errkind.Kind
		cause error // what the error must wrap, if anything
	}{
		{"ErrBadInput", ErrBadInput, errkind.BadInput, nil},
		{"ErrUnwritable", ErrUnwritable, errkind.BadInput, nil},
		{"read of a folder", readErr(open("/")), errkind.BadInput, syscall.EISDIR},
		{"read of /proc/self/mem", readErr(open("/proc/self/mem")), errkind.BadInput, syscall.EIO},
		{"read failing", readErr(failingIO{}), errkind.BadInput, syscall.EIO},
		{"line without =", readErr(strings.NewReader("x\n")), errkind.BadInput, nil},
		{"unwritable value", Write(io.Discard, &unwritable, "k"), errkind.BadInput, nil},
		{"write failing", Write(failingIO{}, &ok, "k"), errkind.Output, syscall.EPIPE},
	}
	for _, tt := range tests {
		if got := errkind.Of(tt.err); got != tt.kind {
			t.Errorf("%s: errkind.Of(%v) = %v, want %v", tt.name, tt.err, got, tt.kind)
		}
		if tt.cause != nil && !errors.Is(tt.err, tt.cause) {
			t.Errorf("%s: %v does not wrap %v", tt.name, tt.err, tt.cause)
		}
		if tt.kind == errkind.BadInput && !errors.Is(tt.err, ErrBadInput) && !errors.Is(tt.err, ErrUnwritable) {
			t.Errorf("%s: %v matches neither ErrBadInput nor ErrUnwritable", tt.name, tt.err)
		}
		if strings.ContainsAny(tt.err.Error(), "\n\x00") {
			t.Errorf("%s: %q spans lines", tt.name, tt.err)
		}
	}
}

func TestWrite(t *testing.T) {
	var a Attributes
	a.Set("password", "p=w")
	a.Set("username", "ali@example.com")
	a.Set("protocol", "https")
	var b bytes.Buffer
	if err := Write(&b, &a, "protocol", "host", "username", "password"); err != nil {
		t.Fatal(err)
	}
	want := "protocol=https\nusername=ali@example.com\npassword=p=w\n"
	if b.String() != want {
		t.Errorf("Write = %q, want %q (given order, missing keys skipped)", b.String(), want)
	}
	a.Set("password", "SECRET\nx")
	b.Reset()
	err := Write(&b, &a, "password")
	if !errors.Is(err, ErrUnwritable) || errors.Is(err, ErrBadInput) || strings.Contains(err.Error(), "SECRET") || b.Len() != 0 {
		t.Errorf("Write of a value with a newline = %v, wrote %q; want ErrUnwritable, nothing written, no value in the error", err, b.String())
	}
}

func ExampleRead() {
	a, _ := Read(strings.NewReader("url=https://cryosparc.example.com\nemail=ali@example.com\n\n"))
	fmt.Println(a.Value("url"), a.Value("email"))
	// Output: https://cryosparc.example.com ali@example.com
}

// FuzzRead checks that Read never panics, that what it accepts writes back
// and reads again to the same attributes, and that errors never carry input.
func FuzzRead(f *testing.F) {
	for _, s := range []string{"", "url=a\nemail=b\n\n", "a=1\r\nb=2", "=x", "x", "k=\x00", "a=b=c\n\nd=e", "k=\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		a, err := Read(bytes.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrBadInput) {
				t.Fatalf("error not ErrBadInput: %v", err)
			}
			return
		}
		var b bytes.Buffer
		if err := Write(&b, &a, a.Keys()...); err != nil {
			for _, k := range a.Keys() {
				if strings.HasSuffix(a.Value(k), "\r") {
					return // "k=v\r\r": read as v\r, which no line can carry back
				}
			}
			t.Fatalf("cannot write back what was read: %v", err)
		}
		a2, err := Read(&b)
		if err != nil {
			t.Fatalf("reading what Write wrote: %v", err)
		}
		if strings.Join(a.Keys(), "\n") != strings.Join(a2.Keys(), "\n") {
			t.Fatalf("keys changed: %q -> %q", a.Keys(), a2.Keys())
		}
		for _, k := range a.Keys() {
			if a.Value(k) != a2.Value(k) {
				t.Fatalf("value of %q changed", k)
			}
		}
	})
}

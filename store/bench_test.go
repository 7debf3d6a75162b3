package store

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cryosparc-credential/cryosparc-credential/internal/sessiongen"
)

var benchSizes = []int{1, 100, 10000, 100000}

// benchFile returns a valid file of n sessions over max(1, n/1000)
// instances, as cryosparc-tools writes it (internal/sessiongen, the
// generator every test, benchmark and script uses), and what it parses to.
func benchFile(n int) (*Sessions, []byte) {
	data := sessiongen.SessionFile(n, max(1, n/1000), time.Now().Add(30*24*time.Hour))
	s, err := parse(data, time.Now(), nil)
	if err != nil {
		panic(err)
	}
	return s, data
}

func BenchmarkParse(b *testing.B) {
	for _, n := range benchSizes {
		_, data := benchFile(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			now := time.Now()
			for i := 0; i < b.N; i++ {
				if _, err := Parse(data, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkLoad(b *testing.B) {
	for _, n := range benchSizes {
		_, data := benchFile(n)
		path := benchPath(b, data)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for i := 0; i < b.N; i++ {
				if _, err := Load(path, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkFind(b *testing.B) {
	for _, n := range benchSizes {
		s, _ := benchFile(n)
		last := s.All()[n-1]
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, ok := s.Find(last.URL, last.Email); !ok {
					b.Fatal("not found")
				}
			}
		})
	}
}

func BenchmarkMarshal(b *testing.B) {
	for _, n := range benchSizes {
		s, data := benchFile(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for i := 0; i < b.N; i++ {
				s.Marshal()
			}
		})
	}
}

func BenchmarkLookup(b *testing.B) {
	for _, n := range benchSizes {
		s, data := benchFile(n)
		last := s.All()[n-1]
		path := benchPath(b, data)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for i := 0; i < b.N; i++ {
				if _, ok, err := Lookup(path, nil, last.URL, last.Email); !ok || err != nil {
					b.Fatal("not found", err)
				}
			}
		})
	}
}

// benchPath writes data to a session file for a benchmark.
func benchPath(b *testing.B, data []byte) string {
	path := filepath.Join(b.TempDir(), "auth.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

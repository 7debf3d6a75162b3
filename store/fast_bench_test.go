package store

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// settledFiles writes the files of benchSizes and waits until none counts
// as changed recently (2 s of clock difference and their resolution have
// passed): the everyday case, a file last written minutes or days ago.
func settledFiles(b *testing.B) (paths []string, last []Session) {
	for _, n := range benchSizes {
		s, data := benchFile(n)
		paths = append(paths, benchPath(b, data))
		last = append(last, s.All()[n-1])
	}
	time.Sleep(2500 * time.Millisecond)
	return paths, last
}

// BenchmarkLookupSettled: Lookup of a file not changed in the last
// seconds, which is mapped and read once.
func BenchmarkLookupSettled(b *testing.B) {
	paths, last := settledFiles(b)
	for i, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for j := 0; j < b.N; j++ {
				if _, ok, err := Lookup(paths[i], nil, last[i].URL, last[i].Email); !ok || err != nil {
					b.Fatal("not found", err)
				}
			}
		})
	}
}

// BenchmarkLoadSettled: Load of a file not changed in the last seconds,
// which is copied once.
func BenchmarkLoadSettled(b *testing.B) {
	paths, _ := settledFiles(b)
	for i, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for j := 0; j < b.N; j++ {
				if _, err := Load(paths[i], nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLookupRecent: Lookup of a file changed within the last second,
// which is copied and read twice (the clock is held there).
func BenchmarkLookupRecent(b *testing.B) {
	for _, n := range benchSizes {
		s, data := benchFile(n)
		last := s.All()[n-1]
		path := benchPath(b, data)
		fi, _ := os.Stat(path)
		opt := &Options{clock: func() time.Time { return fi.ModTime().Add(500 * time.Millisecond) }}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for j := 0; j < b.N; j++ {
				if _, ok, err := Lookup(path, opt, last.URL, last.Email); !ok || err != nil {
					b.Fatal("not found", err)
				}
			}
		})
	}
}

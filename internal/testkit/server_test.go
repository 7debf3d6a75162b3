package testkit

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestServerCounts: Requests, InFlight, MaxInFlight and Conns count what
// the stand-in receives; SetDelay holds requests so that they overlap.
func TestServerCounts(t *testing.T) {
	s := NewServer(t)
	s.SetDelay(300 * time.Millisecond)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := client.Get(s.URL + "/api/cmd/openapi.json")
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.InFlight() < 4 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := s.InFlight(); got != 4 {
		t.Errorf("InFlight = %d while 4 requests wait", got)
	}
	wg.Wait()
	if s.Requests() != 4 || s.InFlight() != 0 || s.MaxInFlight() != 4 || s.Conns() != 4 {
		t.Errorf("Requests %d, InFlight %d, MaxInFlight %d, Conns %d; want 4, 0, 4, 4", s.Requests(), s.InFlight(), s.MaxInFlight(), s.Conns())
	}
}

// TestServerFailAndRedirect: Fail and Redirect answer the operation named,
// or every request, and can be removed.
func TestServerFailAndRedirect(t *testing.T) {
	s := NewServer(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (int, string, string) {
		res, err := client.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res.Header.Get("Location")
	}
	s.Fail(OpSchema, 503, `{"detail": "down"}`)
	if code, body, _ := get("/api/cmd/openapi.json"); code != 503 || body != `{"detail": "down"}` {
		t.Errorf("schema: %d %q", code, body)
	}
	s.Redirect("", 308, "https://elsewhere/")
	if code, _, loc := get("/anything"); code != 308 || loc != "https://elsewhere/" {
		t.Errorf("any request: %d %q", code, loc)
	}
	if code, _, _ := get("/api/cmd/openapi.json"); code != 503 {
		t.Errorf("schema: %d; the answer set for the operation comes first", code)
	}
	s.Fail(OpSchema, 0, "")
	s.Redirect("", 0, "")
	if code, body, _ := get("/api/cmd/openapi.json"); code != 200 || !strings.Contains(body, `"paths"`) {
		t.Errorf("schema after removal: %d %q", code, body)
	}
}

// TestHanging: a Hanging server accepts connections, never answers, and
// counts them while they are open.
func TestHanging(t *testing.T) {
	h := NewHanging(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.URL+"/api/cmd/openapi.json", nil)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	if res, err := (&http.Client{Transport: tr}).Do(req); err == nil {
		res.Body.Close()
		t.Fatal("a hanging server answered")
	}
	if h.Accepted() != 1 {
		t.Errorf("Accepted = %d, want 1", h.Accepted())
	}
	c, err := net.Dial("tcp", strings.TrimPrefix(h.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for (h.Accepted() != 2 || h.Open() != 1) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // the timed-out request's connection closes, this one opens
	}
	if h.Accepted() != 2 || h.Open() != 1 {
		t.Errorf("Accepted %d, Open %d; want 2, 1", h.Accepted(), h.Open())
	}
	c.Close()
	for h.Open() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if h.Open() != 0 {
		t.Errorf("Open = %d after the client closed", h.Open())
	}
}

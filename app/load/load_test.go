package load

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRateKeepsItsSchedule: an open-loop run starts its requests on schedule even when each
// takes longer than the interval between them, and reports that time as latency.
func TestRateKeepsItsSchedule(t *testing.T) {
	r := Rate(context.Background(), 200, 500*time.Millisecond, func() error { time.Sleep(20 * time.Millisecond); return nil })
	if r.Requests < 90 || r.Requests > 110 || r.P50 < 20*time.Millisecond {
		t.Errorf("200/s for 0.5 s of 20 ms calls: %+v", r)
	}
}

// TestConcurrentCountsErrors: a closed-loop run counts the calls that fail.
func TestConcurrentCountsErrors(t *testing.T) {
	n := 0
	r := Concurrent(context.Background(), 1, 50*time.Millisecond, func() error {
		n++
		time.Sleep(time.Millisecond)
		if n%2 == 0 {
			return errors.New("no")
		}
		return nil
	})
	if r.Requests == 0 || r.Errors != r.Requests/2 {
		t.Errorf("every second call fails: %+v", r)
	}
}

// TestClient: the lean client reads fixed-length and chunked bodies, reuses its connections,
// and reports a status other than 200 as an error.
func TestClient(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fixed":
			io.WriteString(w, `{"id":1}`)
		case "/chunked":
			io.WriteString(w, strings.Repeat("x", 100))
			w.(http.Flusher).Flush()
			io.WriteString(w, strings.Repeat("y", 100))
		case "/close":
			w.Header().Set("Connection", "close")
			io.WriteString(w, "bye")
		default:
			http.NotFound(w, r)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c, err := NewClient(srv.URL, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 50; i++ {
		for _, p := range []string{"/fixed", "/chunked"} {
			if err := c.Get(p); err != nil {
				t.Fatalf("GET %s: %v", p, err)
			}
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("100 sequential requests opened %d connections, want 1", n)
	}
	if err := c.Get("/close"); err != nil {
		t.Errorf("GET /close: %v", err)
	}
	if err := c.Get("/missing"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("a 404 is not an error: %v", err)
	}
	if _, err := NewClient("https://example.com", 1); err == nil {
		t.Error("an https URL is accepted")
	}
}

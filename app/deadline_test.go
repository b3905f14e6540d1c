package app

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestDeadline: a handler that hangs past the deadline, ignoring its context as a driver
// waiting on a hung server does, is answered 503 at the deadline; one that answers in time is
// answered as it wrote; what a late handler writes goes nowhere.
func TestDeadline(t *testing.T) {
	release := make(chan struct{})
	late := make(chan error, 1)
	h := withDeadline(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hang":
			<-release // deaf to r.Context()
			_, err := io.WriteString(w, "too late")
			late <- err
		default:
			w.Header().Set("X-Answer", "yes")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, "in time")
		}
	}), 200*time.Millisecond)
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer close(release)

	start := time.Now()
	res, err := http.Get(srv.URL + "/hang")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if took := time.Since(start); res.StatusCode != 503 || took > 2*time.Second || !strings.Contains(string(body), "did not complete in time") {
		t.Errorf("a hung handler: %d %q after %v, want 503 at the deadline", res.StatusCode, body, took)
	}
	res, err = http.Get(srv.URL + "/quick")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 201 || string(body) != "in time" || res.Header.Get("X-Answer") != "yes" {
		t.Errorf("a quick handler: %d %q %v", res.StatusCode, body, res.Header)
	}
	release <- struct{}{}
	if err := <-late; err != http.ErrHandlerTimeout {
		t.Errorf("a write after the deadline answered: %v, want http.ErrHandlerTimeout", err)
	}
}

package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// fakeS3 answers path-style GetObject for one bucket's objects, as S3 does: the object with
// its type, ETag and Cache-Control, 304 on a matching If-None-Match, NoSuchKey otherwise. It
// returns the AWS configuration that reaches it.
func fakeS3(t *testing.T, bucket string, objects map[string]string) aws.Config {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := strings.CutPrefix(r.URL.Path, "/"+bucket+"/")
		body, found := objects[key]
		if !ok || !found {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>%s</Key></Error>`, key)
			return
		}
		etag := fmt.Sprintf(`"%x"`, len(body))
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Content-Type", "binary/octet-stream")
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	t.Setenv("AWS_ENDPOINT_URL_S3", s.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "local")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestStaticFilesFromTheBucket: from load-balanced on, GET /static/... (the path a browser
// takes, which the fleet's nginx passes to the app) answers from the private static bucket
// through the app's role, with the file's type and caching headers.
func TestStaticFilesFromTheBucket(t *testing.T) {
	e := need(t, true, false, false)
	cfg := fakeS3(t, "llama-static", map[string]string{"css/app.css": "body { color: #333 }", "index.html": "<h1>llama</h1>"})
	params := rungParams(e, false, false, false, false)
	params["static/bucket"] = "llama-static"
	_, base := serveApp(t, LocalFile(writeLocal(t, params)), Options{Env: Env{AWS: cfg, Region: "us-east-1"}, Refresh: -1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	res, err := http.Get(base + "/static/css/app.css")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "body { color: #333 }" || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") ||
		res.Header.Get("Cache-Control") == "" || res.Header.Get("ETag") == "" {
		t.Errorf("GET /static/css/app.css: %d %q %v", res.StatusCode, body, res.Header)
	}
	req, _ := http.NewRequest("GET", base+"/static/css/app.css", nil)
	req.Header.Set("If-None-Match", res.Header.Get("ETag"))
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusNotModified {
		t.Errorf("a conditional GET: %v %v, want 304", res, err)
	}
	if res, err := http.Get(base + "/static/nope.js"); err != nil || res.StatusCode != 404 {
		t.Errorf("a file the bucket lacks: %v %v, want 404", res, err)
	}
	// A path that climbs out never reaches the bucket (the client or the mux cleans it, and
	// the handler refuses what is left unclean).
	for _, p := range []string{"/static/../secret", "/static/a/../../b"} {
		if res, err := http.Get(base + p); err != nil || res.StatusCode == 200 {
			t.Errorf("GET %s: %v %v", p, res, err)
		}
	}
}

// TestTheFunctionServesTheSPA: at the SPA's hostname the app answers from the SPA's bucket
// (index.html for / and for the app's client-side routes, revalidated; files as they are), so
// Cloudflare reaches the SPA through the API's custom domain on every plan; at any other
// hostname the API answers as before.
func TestTheFunctionServesTheSPA(t *testing.T) {
	e := need(t, true, false, false)
	cfg := fakeS3(t, "llama-spa", map[string]string{"index.html": "<h1>spa</h1>", "assets/app.js": "console.log(1)"})
	params := rungParams(e, false, false, false, false)
	params["spa/domain"], params["spa/bucket"] = "app.example.com", "llama-spa"
	_, base := serveApp(t, LocalFile(writeLocal(t, params)), Options{Env: Env{AWS: cfg, Region: "us-east-1"}, Refresh: -1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	get := func(host, p string) (int, string, http.Header) {
		req, _ := http.NewRequest("GET", base+p, nil)
		req.Host = host
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body), res.Header
	}
	for _, p := range []string{"/", "/users/42", "/settings/profile"} {
		if code, body, h := get("app.example.com", p); code != 200 || body != "<h1>spa</h1>" || h.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET app.example.com%s: %d %q %v, want the SPA's index.html, revalidated", p, code, body, h.Get("Cache-Control"))
		}
	}
	if code, body, h := get("app.example.com", "/assets/app.js"); code != 200 || body != "console.log(1)" || !strings.Contains(h.Get("Content-Type"), "javascript") {
		t.Errorf("GET app.example.com/assets/app.js: %d %q %v", code, body, h)
	}
	if code, _, _ := get("app.example.com", "/assets/missing.js"); code != 404 {
		t.Errorf("a file the SPA lacks: %d, want 404", code)
	}
	if code, body, _ := get("api.example.com", "/health/live"); code != 200 || !strings.Contains(body, "live") {
		t.Errorf("the API at its own hostname: %d %q", code, body)
	}
}

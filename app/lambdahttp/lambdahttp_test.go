package lambdahttp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestRoundTrip: an HTTP API event reaches the handler as the request it describes, and the
// handler's answer returns as the HTTP API's response.
func TestRoundTrip(t *testing.T) {
	var got *http.Request
	var body string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		w.Header().Set("Content-Type", "application/json")
		http.SetCookie(w, &http.Cookie{Name: "a", Value: "1"})
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"id":1}`))
	})
	ev := events.APIGatewayV2HTTPRequest{RawPath: "/users/7/posts", RawQueryString: "consistent=true",
		Headers: map[string]string{"x-llama-origin-verify": "s"}, Body: base64.StdEncoding.EncodeToString([]byte(`{"body":"hi"}`)), IsBase64Encoded: true}
	ev.RequestContext.HTTP.Method = "POST"
	ev.RequestContext.DomainName = "api.example.com"
	res, err := Handler(h)(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if got.Method != "POST" || got.URL.Path != "/users/7/posts" || got.URL.Query().Get("consistent") != "true" ||
		got.Header.Get("X-Llama-Origin-Verify") != "s" || body != `{"body":"hi"}` || got.Host != "api.example.com" {
		t.Errorf("request %s %s host %s headers %v body %q", got.Method, got.URL, got.Host, got.Header, body)
	}
	if res.StatusCode != 201 || res.Body != `{"id":1}` || res.Headers["Content-Type"] != "application/json" || len(res.Cookies) != 1 || res.IsBase64Encoded {
		t.Errorf("response %+v", res)
	}
	h2 := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte{0xff, 0xfe}) })
	ev.Body, ev.IsBase64Encoded = "", false
	if res, _ := Handler(h2)(context.Background(), ev); !res.IsBase64Encoded || res.Body != base64.StdEncoding.EncodeToString([]byte{0xff, 0xfe}) {
		t.Errorf("binary body: %+v", res)
	}
}

// TestBootstrapOnly: the deploy's own function prepares the database and answers nothing else.
func TestBootstrapOnly(t *testing.T) {
	h := BootstrapOnly(func(_ context.Context, args json.RawMessage) (any, error) { return string(args), nil })
	if out, err := h(context.Background(), json.RawMessage(`{"llamaBootstrap": {"appUser": "a"}}`)); err != nil || out != `{"appUser": "a"}` {
		t.Errorf("bootstrap: %v %v", out, err)
	}
	for _, ev := range []string{`{"llamaMove": ["shards"]}`, `{"version":"2.0","rawPath":"/"}`, `[]`} {
		if _, err := h(context.Background(), json.RawMessage(ev)); err == nil {
			t.Errorf("%s was answered", ev)
		}
	}
}

// TestMux: a one-off invocation runs the command; an HTTP API event is served as a request.
func TestMux(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	var ran []string
	var booted string
	mux := Mux(h, func(_ context.Context, args []string) ([]string, int) {
		ran = args
		return []string{`{"move":"shards","verified":true}`}, 0
	}, func(_ context.Context, args json.RawMessage) (any, error) {
		booted = string(args)
		return map[string]int{"schemaVersion": 2}, nil
	})
	if _, err := mux(context.Background(), json.RawMessage(`{"llamaBootstrap": {"appUser": "llama_app"}}`)); err != nil || booted != `{"appUser": "llama_app"}` {
		t.Fatalf("bootstrap: %v, ran with %s", err, booted)
	}
	out, err := mux(context.Background(), json.RawMessage(`{"llamaMove": ["shards", "--back"]}`))
	if res, ok := out.(InvocationResult); err != nil || !ok || res.Status != 0 || strings.Join(ran, " ") != "shards --back" {
		t.Fatalf("invocation: %v %v, ran %v", out, err, ran)
	}
	ran = nil
	out, err = mux(context.Background(), json.RawMessage(`{"version":"2.0","rawPath":"/health","requestContext":{"http":{"method":"GET","path":"/health"}}}`))
	if res, ok := out.(events.APIGatewayV2HTTPResponse); err != nil || !ok || res.StatusCode != http.StatusTeapot || ran != nil {
		t.Fatalf("HTTP event: %v %v, ran %v", out, err, ran)
	}
}

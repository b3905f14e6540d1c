package lambdahttp

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
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

// Package lambdahttp serves an http.Handler as an AWS Lambda function behind an API Gateway HTTP
// API (payload format 2.0), so one build of an app runs on servers and on Lambda.
package lambdahttp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// OnLambda reports whether the process runs as a Lambda function.
func OnLambda() bool { return os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" }

// Start serves h on Lambda's runtime API; it does not return.
func Start(h http.Handler) { lambda.Start(Handler(h)) }

// Command runs a one-off command of the app (`llama-app move shards`) and returns its output
// lines and exit status.
type Command func(ctx context.Context, args []string) (lines []string, status int)

// Invocation is the event of a one-off invocation of the function, not an HTTP request:
// {"llamaMove": ["shards", "--back"]} runs `llama-app move shards --back`. Only a caller
// allowed lambda:InvokeFunction sends one: API Gateway builds its own events, which never
// carry the key.
type Invocation struct {
	Move []string `json:"llamaMove"`
	// Bootstrap is the deploy's one-off preparation of the database, {"llamaBootstrap": {...}}
	// (app.BootstrapArgs); its failure fails the invocation, and so the deploy.
	Bootstrap json.RawMessage `json:"llamaBootstrap"`
}

// Bootstrapper runs the deploy's preparation and returns what to answer.
type Bootstrapper func(ctx context.Context, args json.RawMessage) (any, error)

// InvocationResult answers an Invocation: the command's lines (its JSON result last) and its
// exit status.
type InvocationResult struct {
	Lines  []string `json:"lines"`
	Status int      `json:"status"`
}

// StartWith serves h, and runs move and boot for one-off invocations; it does not return.
func StartWith(h http.Handler, move Command, boot Bootstrapper) { lambda.Start(Mux(h, move, boot)) }

// StartBootstrap runs boot for {"llamaBootstrap": {...}} and refuses any other event: the
// deploy's own function, which serves nothing; it does not return.
func StartBootstrap(boot Bootstrapper) { lambda.Start(BootstrapOnly(boot)) }

// BootstrapOnly is the handler of the deploy's own function.
func BootstrapOnly(boot Bootstrapper) func(context.Context, json.RawMessage) (any, error) {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var inv Invocation
		if err := json.Unmarshal(raw, &inv); err != nil || len(inv.Bootstrap) == 0 {
			return nil, errors.New(`this function only prepares the database: {"llamaBootstrap": {...}}`)
		}
		return boot(ctx, inv.Bootstrap)
	}
}

// Mux tells one-off invocations from HTTP API events.
func Mux(h http.Handler, move Command, boot Bootstrapper) func(context.Context, json.RawMessage) (any, error) {
	serve := Handler(h)
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var inv Invocation
		if json.Unmarshal(raw, &inv) == nil && len(inv.Move) > 0 {
			lines, status := move(ctx, inv.Move)
			return InvocationResult{Lines: lines, Status: status}, nil
		}
		if len(inv.Bootstrap) > 0 && boot != nil {
			return boot(ctx, inv.Bootstrap)
		}
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, err
		}
		return serve(ctx, ev)
	}
}

// Handler turns h into a Lambda handler of HTTP API events.
func Handler(h http.Handler) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		r, err := Request(ctx, ev)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusBadRequest, Body: `{"error":"bad request"}`,
				Headers: map[string]string{"content-type": "application/json"}}, nil
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return Response(rec), nil
	}
}

// Request builds the http.Request an HTTP API event describes.
func Request(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (*http.Request, error) {
	body := ev.Body
	if ev.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return nil, err
		}
		body = string(b)
	}
	path := ev.RawPath
	if path == "" {
		path = "/"
	}
	if ev.RawQueryString != "" {
		path += "?" + ev.RawQueryString
	}
	r, err := http.NewRequestWithContext(ctx, ev.RequestContext.HTTP.Method, path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range ev.Headers {
		// HTTP APIs join repeated headers with commas.
		r.Header.Set(k, v)
	}
	if len(ev.Cookies) > 0 {
		r.Header.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	r.Host = ev.RequestContext.DomainName
	r.RemoteAddr = ev.RequestContext.HTTP.SourceIP
	return r, nil
}

// Response turns a recorded response into the HTTP API's response; bodies that are not UTF-8
// text travel base64-encoded.
func Response(rec *httptest.ResponseRecorder) events.APIGatewayV2HTTPResponse {
	out := events.APIGatewayV2HTTPResponse{StatusCode: rec.Code, Headers: map[string]string{}}
	for k, vs := range rec.Header() {
		if strings.EqualFold(k, "Set-Cookie") {
			out.Cookies = append(out.Cookies, vs...)
			continue
		}
		out.Headers[k] = strings.Join(vs, ", ")
	}
	b := rec.Body.Bytes()
	if utf8.Valid(b) {
		out.Body = string(b)
	} else {
		out.Body, out.IsBase64Encoded = base64.StdEncoding.EncodeToString(b), true
	}
	return out
}

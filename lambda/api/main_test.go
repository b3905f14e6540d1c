package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRoutes(t *testing.T) {
	ok := func(context.Context) ([]string, error) { return []string{"users"}, nil }
	down := func(context.Context) ([]string, error) { return nil, errors.New("refused") }
	cases := []struct {
		method, path string
		read         reader
		code         int
		body         string
	}{
		{"GET", "/health", down, 200, `"ok"`},
		{"GET", "/items", ok, 200, `"users"`},
		{"GET", "/items", down, 503, "database unavailable"},
		{"POST", "/health", ok, 405, "only GET"},
		{"GET", "/nope", ok, 404, "no route"},
	}
	for _, c := range cases {
		var req request
		req.RawPath, req.RequestContext.HTTP.Method = c.path, c.method
		got := handle(context.Background(), req, c.read, "")
		if got.StatusCode != c.code || !strings.Contains(got.Body, c.body) {
			t.Errorf("%s %s: got %d %s, want %d containing %s", c.method, c.path, got.StatusCode, got.Body, c.code, c.body)
		}
	}
}

func TestOriginVerify(t *testing.T) {
	ok := func(context.Context) ([]string, error) { return nil, nil }
	var req request
	req.RawPath, req.RequestContext.HTTP.Method = "/health", "GET"
	for _, c := range []struct {
		header string
		code   int
	}{{"", 403}, {"wrong", 403}, {"s3cret", 200}} {
		req.Headers = map[string]string{OriginHeader: c.header}
		if got := handle(context.Background(), req, ok, "s3cret"); got.StatusCode != c.code {
			t.Errorf("header %q: %d, want %d", c.header, got.StatusCode, c.code)
		}
	}
}

func TestAuthTokenIsPresignedConnect(t *testing.T) {
	tok, err := authToken("db.proxy.example:5432", "us-east-1", "llama_admin", creds{"AKIDEXAMPLE", "secret", "session"}, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"db.proxy.example:5432/?Action=connect", "DBUser=llama_admin", "X-Amz-Credential=AKIDEXAMPLE%2F20260102%2Fus-east-1%2Frds-db%2Faws4_request", "X-Amz-Expires=900", "X-Amz-Security-Token=session", "X-Amz-Signature="} {
		if !strings.Contains(tok, want) {
			t.Errorf("token %s lacks %s", tok, want)
		}
	}
	if _, err := authToken("h:5432", "us-east-1", "u", creds{}, time.Now()); err == nil {
		t.Error("a token without credentials was signed")
	}
}

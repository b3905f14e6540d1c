// Command api is the Llama serverless API: a Go function on Lambda's provided.al2023 runtime
// behind an API Gateway HTTP API (payload format 2.0). GET /health answers without touching
// the database; GET /items reads through RDS Proxy, signing in with an IAM token, so no
// password lives in the function.
package main

import (
	"bytes"
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"time"

	_ "github.com/lib/pq"
)

// OriginHeader carries the secret Cloudflare adds to every API request it forwards; with
// ORIGIN_VERIFY set, a request without it came around the CDN and is refused.
const OriginHeader = "x-llama-origin-verify"

// request is the part of an HTTP API payload 2.0 event the handler reads.
type request struct {
	RawPath        string            `json:"rawPath"`
	Headers        map[string]string `json:"headers"`
	RequestContext struct {
		HTTP struct {
			Method string `json:"method"`
		} `json:"http"`
	} `json:"requestContext"`
}

// response is an HTTP API payload 2.0 response.
type response struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

// reader reads rows for /items.
type reader func(ctx context.Context) ([]string, error)

func handle(ctx context.Context, req request, read reader, originSecret string) response {
	reply := func(code int, v any) response {
		b, _ := json.Marshal(v)
		return response{StatusCode: code, Headers: map[string]string{"content-type": "application/json"}, Body: string(b)}
	}
	if originSecret != "" && subtle.ConstantTimeCompare([]byte(req.Headers[OriginHeader]), []byte(originSecret)) != 1 {
		return reply(http.StatusForbidden, map[string]string{"error": "use the public hostname"})
	}
	if req.RequestContext.HTTP.Method != http.MethodGet {
		return reply(http.StatusMethodNotAllowed, map[string]string{"error": "only GET"})
	}
	switch req.RawPath {
	case "/health":
		return reply(http.StatusOK, map[string]string{"status": "ok"})
	case "/items":
		items, err := read(ctx)
		if err != nil {
			log.Printf("items: %v", err)
			return reply(http.StatusServiceUnavailable, map[string]string{"error": "database unavailable"})
		}
		return reply(http.StatusOK, map[string]any{"items": items})
	}
	return reply(http.StatusNotFound, map[string]string{"error": "no route " + req.RawPath})
}

// dbReader reads through RDS Proxy with an IAM token as the password.
func dbReader() reader {
	host, user, name := os.Getenv("DB_PROXY_ENDPOINT"), os.Getenv("DB_USER"), os.Getenv("DB_NAME")
	region := os.Getenv("AWS_REGION")
	return func(ctx context.Context) ([]string, error) {
		token, err := authToken(host+":5432", region, user, credsFromEnv(), time.Now())
		if err != nil {
			return nil, err
		}
		dsn := fmt.Sprintf("host=%s port=5432 user=%s dbname=%s sslmode=require password=%s connect_timeout=5",
			host, user, name, url.QueryEscape(token))
		db, err := sql.Open("postgres", dsn)
		if err != nil {
			return nil, err
		}
		defer db.Close()
		rows, err := db.QueryContext(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1 LIMIT 50")
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, rows.Err()
	}
}

// main runs the Lambda runtime API loop.
func main() {
	base := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/invocation/"
	read, secret := dbReader(), os.Getenv("ORIGIN_VERIFY")
	for {
		res, err := http.Get(base + "next")
		if err != nil {
			log.Fatalf("runtime API: %v", err)
		}
		id := res.Header.Get("Lambda-Runtime-Aws-Request-Id")
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var req request
		out := response{StatusCode: http.StatusBadRequest, Body: `{"error":"bad event"}`}
		if json.Unmarshal(body, &req) == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
			out = handle(ctx, req, read, secret)
			cancel()
		}
		b, _ := json.Marshal(out)
		if r, err := http.Post(base+id+"/response", "application/json", bytes.NewReader(b)); err == nil {
			r.Body.Close()
		}
	}
}

package app

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on what clients send.
const (
	maxBody     = 64 << 10 // bytes of a request body
	maxName     = 200      // characters of a user's name
	maxPostBody = 10000    // characters of a post
	maxKind     = 64       // characters of an activity kind
	postsLimit  = 50       // posts a listing returns
)

// Handler returns the HTTP API:
//
//	GET  /health                       200 when every database the rung uses answers and has
//	                                   the schema, else 503 naming what does not
//	GET  /health/live                  200 while the app serves, whatever its dependencies
//	POST /users {"name"}               201 {"id"}
//	GET  /users/{id}                   {"id", "name"}, read through the cache
//	POST /users/{id}/posts {"body"}    201 {"id"}, on the user's writer
//	GET  /users/{id}/posts             newest first, lag-tolerant; ?consistent=true: the writer
//	POST /users/{id}/activity {"kind"} 202 {"id"}, DynamoDB when the rung has it
//	GET  /stats                        counters since start
//	GET  /static/{path}                a static file from the static bucket (load-balanced on)
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", s.only(http.MethodGet, s.health))
	// The load balancer's check: shallow, so an outage of the database does not make the
	// Auto Scaling group replace every instance (which would not bring the database back).
	mux.HandleFunc("/health/live", s.only(http.MethodGet, func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, map[string]string{"status": "live"})
	}))
	mux.HandleFunc("/stats", s.only(http.MethodGet, func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, s.stats.View())
	}))
	mux.HandleFunc("/users", s.only(http.MethodPost, s.postUser))
	mux.HandleFunc("/users/{id}", s.only(http.MethodGet, s.withUser(s.getUserHandler)))
	mux.HandleFunc("/users/{id}/posts", s.withUser(func(w http.ResponseWriter, r *http.Request, id int64) {
		switch r.Method {
		case http.MethodGet:
			s.getPosts(w, r, id)
		case http.MethodPost:
			s.postPost(w, r, id)
		default:
			notAllowed(w, "GET, POST")
		}
	}))
	mux.HandleFunc("/users/{id}/activity", s.only(http.MethodPost, s.withUser(s.postActivity)))
	mux.HandleFunc("/static/{path...}", s.only(http.MethodGet, s.serveStatic))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fail(w, http.StatusNotFound, "no route "+r.URL.Path)
	})
	return s.deadline(s.siteOr(mux))
}

// siteOr answers the requests for the single-page app's hostname from its bucket, and hands
// every other to next: the function serves the SPA and the API at their own hostnames.
func (s *Server) siteOr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := s.tiers.Load()
		if t.site != nil {
			host := r.Host
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
			if strings.EqualFold(host, t.siteDomain) {
				s.serveSite(w, r, t.site)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// RequestTimeout is the deadline of every request's work: a database that hangs costs a
// request this long at most (statement_timeout bounds the statement on the server too).
const RequestTimeout = 8 * time.Second

// requestTimeout is the deadline of every request's work.
func (s *Server) requestTimeout() time.Duration {
	if s.opts.RequestTimeout > 0 {
		return s.opts.RequestTimeout
	}
	return RequestTimeout
}

// deadline gives every request a deadline, answered 503 when it passes whether or not the work
// returns (a hung database answers neither a query nor its cancellation), and, while a store
// lacks the schema, answers the API's requests 503 (health says which store): the app serves
// from no unmigrated store.
func (s *Server) deadline(next http.Handler) http.Handler {
	timed := withDeadline(next, s.requestTimeout())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/users") {
			if db := s.unmigrated(); db != "" {
				w.Header().Set("Retry-After", "5")
				fail(w, http.StatusServiceUnavailable, "the schema is not applied on "+db+" yet")
				return
			}
		}
		timed.ServeHTTP(w, r)
	})
}

// RequireHeader refuses, with 403, requests that do not carry the header with the value: an
// origin behind a CDN that adds it answers only requests that came through the CDN. An empty
// value turns the check off.
func RequireHeader(name, value string, next http.Handler) http.Handler {
	if value == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get(name)), []byte(value)) != 1 {
			fail(w, http.StatusForbidden, "use the public hostname")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, code int, msg string) {
	reply(w, code, map[string]string{"error": msg})
}

func notAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	fail(w, http.StatusMethodNotAllowed, "method not allowed; use "+allow)
}

// only serves one method (and HEAD where it is GET).
func (s *Server) only(method string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
			notAllowed(w, method)
			return
		}
		h(w, r)
	}
}

// withUser parses the {id} path segment: a positive 64-bit integer, else 400.
func (s *Server) withUser(h func(http.ResponseWriter, *http.Request, int64)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		raw := r.PathValue("id")
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 || strings.TrimLeft(raw, "0123456789") != "" {
			fail(w, http.StatusBadRequest, "user id must be a positive 64-bit integer, got "+strconv.Quote(r.PathValue("id")))
			return
		}
		h(w, r, id)
	}
}

// serverError answers a failed call: 404 for an unknown user, 503 when a tier is unavailable.
func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errNotFound):
		fail(w, http.StatusNotFound, "no such user")
	case errors.Is(err, context.Canceled):
		// The client went away.
	case errors.Is(err, errMoving):
		w.Header().Set("Retry-After", "1")
		fail(w, http.StatusServiceUnavailable, "moving to a new store: retry in a second")
	default:
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		fail(w, http.StatusServiceUnavailable, "temporarily unavailable")
	}
}

// decode reads a JSON object with one required, non-empty string field of at most max
// characters.
func decode(w http.ResponseWriter, r *http.Request, field string, max int) (string, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		fail(w, http.StatusRequestEntityTooLarge, "request body larger than "+strconv.Itoa(maxBody)+" bytes")
		return "", false
	case err != nil:
		fail(w, http.StatusBadRequest, "request body unreadable")
		return "", false
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil || doc == nil {
		fail(w, http.StatusBadRequest, `request body must be a JSON object such as {"`+field+`": "..."}`)
		return "", false
	}
	raw, ok := doc[field]
	var v string
	if !ok || json.Unmarshal(raw, &v) != nil {
		fail(w, http.StatusBadRequest, field+" must be a string")
		return "", false
	}
	v = strings.TrimSpace(v)
	switch n := utf8.RuneCountInString(v); {
	case strings.ContainsRune(v, 0):
		fail(w, http.StatusBadRequest, field+" must not contain a NUL character")
		return "", false
	case n == 0:
		fail(w, http.StatusBadRequest, field+" must not be empty")
		return "", false
	case n > max:
		fail(w, http.StatusBadRequest, field+" is longer than "+strconv.Itoa(max)+" characters")
		return "", false
	}
	return v, true
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if problems := s.healthy(ctx); len(problems) > 0 {
		reply(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "error": strings.Join(problems, "; "), "problems": problems})
		return
	}
	reply(w, http.StatusOK, map[string]string{"status": "ok"})
}

// create answers a POST whose body carries one string field: it runs do with the field's
// value and replies code with {"id"}.
func (s *Server) create(w http.ResponseWriter, r *http.Request, field string, max, code int, do func(context.Context, string) (int64, error)) {
	v, ok := decode(w, r, field, max)
	if !ok {
		return
	}
	id, err := do(r.Context(), v)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	reply(w, code, map[string]int64{"id": id})
}

func (s *Server) postUser(w http.ResponseWriter, r *http.Request) {
	s.create(w, r, "name", maxName, http.StatusCreated, s.createUser)
}

func (s *Server) getUserHandler(w http.ResponseWriter, r *http.Request, id int64) {
	b, err := s.userJSON(r.Context(), id)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(append(b, '\n'))
}

func (s *Server) postPost(w http.ResponseWriter, r *http.Request, id int64) {
	s.create(w, r, "body", maxPostBody, http.StatusCreated, func(ctx context.Context, body string) (int64, error) {
		return s.createPost(ctx, id, body)
	})
}

func (s *Server) getPosts(w http.ResponseWriter, r *http.Request, id int64) {
	consistent := false
	if v := r.URL.Query().Get("consistent"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			fail(w, http.StatusBadRequest, "consistent must be true or false")
			return
		}
		consistent = b
	}
	posts, err := s.listPosts(r.Context(), id, consistent, postsLimit)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	reply(w, http.StatusOK, map[string]any{"posts": posts})
}

func (s *Server) postActivity(w http.ResponseWriter, r *http.Request, id int64) {
	s.create(w, r, "kind", maxKind, http.StatusAccepted, func(ctx context.Context, kind string) (int64, error) {
		return s.recordActivity(ctx, id, kind)
	})
}

package app

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// timeoutBody is what a request that missed its deadline is answered.
const timeoutBody = `{"error":"the request did not complete in time: retry"}` + "\n"

// withDeadline runs every request with a deadline in the goroutine that serves it, and answers
// 503 when the deadline passes before the handler has answered, whether or not the handler
// returns (a hung database answers neither a query nor its cancellation). It keeps
// http.TimeoutHandler's promise without its cost: no goroutine and no buffered copy of each
// response; a timer answers from its own goroutine only when one fires.
func withDeadline(next http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		g := &guarded{w: w, header: make(http.Header)}
		// The context's own timer answers: no second timer, and a goroutine only when it fires.
		stop := context.AfterFunc(ctx, func() {
			if ctx.Err() == context.DeadlineExceeded {
				g.expire()
			}
		})
		next.ServeHTTP(g, r.WithContext(ctx))
		stop()
		g.mu.Lock()
		g.done = true // the timer may not answer once this returns
		g.mu.Unlock()
	})
}

// guarded is the response writer the handler sees: its header is its own until it answers,
// and once the deadline has answered for it, what it writes goes nowhere.
type guarded struct {
	mu       sync.Mutex
	w        http.ResponseWriter
	header   http.Header
	answered bool // the handler has written the status
	expired  bool // the deadline answered, or passed after the handler had begun answering
	done     bool // the handler returned
}

func (g *guarded) Header() http.Header { return g.header }

func (g *guarded) WriteHeader(code int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.writeHeader(code)
}

func (g *guarded) writeHeader(code int) {
	if g.expired || g.answered {
		return
	}
	g.answered = true
	dst := g.w.Header()
	for k, v := range g.header {
		dst[k] = v
	}
	g.w.WriteHeader(code)
}

func (g *guarded) Write(b []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.expired {
		return 0, http.ErrHandlerTimeout
	}
	g.writeHeader(http.StatusOK)
	return g.w.Write(b)
}

// expire answers 503 for a handler that has not answered by the deadline. The connection
// closes after it: the handler may still hold the request.
func (g *guarded) expire() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.done || g.expired {
		return
	}
	g.expired = true
	if g.answered {
		return // too late to change the status: the handler's context is cancelled already
	}
	h := g.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(timeoutBody)))
	h.Set("Connection", "close")
	h.Set("Retry-After", "1")
	g.w.WriteHeader(http.StatusServiceUnavailable)
	g.w.Write([]byte(timeoutBody))
	if f, ok := g.w.(http.Flusher); ok {
		f.Flush()
	}
}

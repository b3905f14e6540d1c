package app

import (
	"sync"
	"time"
)

// breaker keeps a sick dependency (a hung replica, a dead cache) from costing every request:
// after a failure it stays open for a period, during which callers skip the dependency and go
// where they would have fallen back to; the first call after the period tries it again.
type breaker struct {
	period time.Duration

	mu        sync.Mutex
	openUntil time.Time
}

// closed reports whether the dependency may be tried.
func (b *breaker) closed() bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return time.Now().After(b.openUntil)
}

// fail opens the breaker for its period.
func (b *breaker) fail() {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.openUntil = time.Now().Add(b.period)
	b.mu.Unlock()
}

// limiter lets one event through a period: warnings about a dependency that is down are
// logged once a period, not once a request.
type limiter struct {
	period time.Duration

	mu   sync.Mutex
	last time.Time
}

// allow reports whether an event may pass now.
func (l *limiter) allow() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if time.Since(l.last) < l.period {
		return false
	}
	l.last = time.Now()
	return true
}

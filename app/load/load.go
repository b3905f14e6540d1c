// Package load generates HTTP load for the app's benchmarks: a fixed number of concurrent
// clients (closed loop: each sends its next request when the last is answered) or a fixed
// arrival rate (open loop: requests start on schedule whether or not earlier ones are done, so
// a slow server shows as latency, not as a lower rate). Both report latency percentiles.
package load

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Result is what a run measured.
type Result struct {
	Requests int           // requests completed
	Errors   int           // requests whose function returned an error
	Elapsed  time.Duration // the run's length
	P50      time.Duration
	P95      time.Duration
	P99      time.Duration
}

// PerSecond is the requests completed a second.
func (r Result) PerSecond() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// recorder collects latencies from many goroutines.
type recorder struct {
	mu     sync.Mutex
	lat    []time.Duration
	errors int
}

func (r *recorder) do(f func() error) {
	start := time.Now()
	err := f()
	took := time.Since(start)
	r.mu.Lock()
	r.lat = append(r.lat, took)
	if err != nil {
		r.errors++
	}
	r.mu.Unlock()
}

func (r *recorder) result(elapsed time.Duration) Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	slices.Sort(r.lat)
	at := func(q float64) time.Duration {
		if len(r.lat) == 0 {
			return 0
		}
		return r.lat[min(len(r.lat)-1, int(q*float64(len(r.lat))))]
	}
	return Result{Requests: len(r.lat), Errors: r.errors, Elapsed: elapsed, P50: at(0.50), P95: at(0.95), P99: at(0.99)}
}

// Concurrent runs f from n clients at once, each calling again as soon as the last call
// returns, for d. Each client keeps its own latencies until the end: no lock between calls.
func Concurrent(ctx context.Context, n int, d time.Duration, f func() error) Result {
	var r recorder
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			errs := 0
			for ctx.Err() == nil {
				t := time.Now()
				if f() != nil {
					errs++
				}
				lat = append(lat, time.Since(t))
			}
			r.mu.Lock()
			r.lat, r.errors = append(r.lat, lat...), r.errors+errs
			r.mu.Unlock()
		}()
	}
	wg.Wait()
	return r.result(time.Since(start))
}

// Rate starts f perSecond times a second, on schedule, for d, and waits for the calls under
// way to finish.
func Rate(ctx context.Context, perSecond float64, d time.Duration, f func() error) Result {
	var r recorder
	every := time.Duration(float64(time.Second) / perSecond)
	start := time.Now()
	var wg sync.WaitGroup
	for next := start; next.Sub(start) < d && ctx.Err() == nil; next = next.Add(every) {
		if wait := time.Until(next); wait > 0 {
			time.Sleep(wait)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.do(f)
		}()
	}
	wg.Wait()
	return r.result(time.Since(start))
}

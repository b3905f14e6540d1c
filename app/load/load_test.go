package load

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestRateKeepsItsSchedule: an open-loop run starts its requests on schedule even when each
// takes longer than the interval between them, and reports that time as latency.
func TestRateKeepsItsSchedule(t *testing.T) {
	r := Rate(context.Background(), 200, 500*time.Millisecond, func() error { time.Sleep(20 * time.Millisecond); return nil })
	if r.Requests < 90 || r.Requests > 110 || r.P50 < 20*time.Millisecond {
		t.Errorf("200/s for 0.5 s of 20 ms calls: %+v", r)
	}
}

// TestConcurrentCountsErrors: a closed-loop run counts the calls that fail.
func TestConcurrentCountsErrors(t *testing.T) {
	n := 0
	r := Concurrent(context.Background(), 1, 50*time.Millisecond, func() error {
		n++
		time.Sleep(time.Millisecond)
		if n%2 == 0 {
			return errors.New("no")
		}
		return nil
	})
	if r.Requests == 0 || r.Errors != r.Requests/2 {
		t.Errorf("every second call fails: %+v", r)
	}
}

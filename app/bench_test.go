package app

import (
	"fmt"
	"net/http"
	"sort"
	"testing"
	"time"
)

// BenchmarkGetUser measures GET /users/{id} over HTTP on loopback, reading one user again and
// again: through the cache (every read a hit) and from PostgreSQL alone. It reports requests
// per second and the median and p95 latency.
//
//	go test ./app -run '^$' -bench GetUser -benchtime 2000x
func BenchmarkGetUser(b *testing.B) {
	for _, bc := range []struct {
		name  string
		cache bool
	}{{"postgres", false}, {"cache", true}} {
		b.Run(bc.name, func(b *testing.B) {
			e := need(b, true, bc.cache, false)
			_, base := startApp(b, rungParams(e, false, bc.cache, false, false))
			id := mustCreateUser(b, base, "benchmark")
			url := fmt.Sprintf("%s/users/%d", base, id)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			get := func() {
				res, err := client.Get(url)
				if err != nil || res.StatusCode != 200 {
					b.Fatalf("GET %s: %v %v", url, res, err)
				}
				res.Body.Close()
			}
			get() // warm: the first read fills the cache
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				get()
				lat = append(lat, time.Since(t0))
			}
			elapsed := time.Since(start)
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds()), "p95-µs")
		})
	}
}

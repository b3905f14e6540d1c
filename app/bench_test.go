package app

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
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

// BenchmarkMoves measures the live moves on loopback with about 1,000 writes a second going
// through the app the whole time: the copy rate, the mover's write pause (from the fence to
// the recorded switch), the longest acknowledged write a client saw, and the writes a second
// the load achieved. Targets (issue: live promotions): write pause under 1 s for db and each
// shard move, copy at 20,000 rows/s or more.
//
//	go test ./app -run '^$' -bench Moves -benchtime 1x
func BenchmarkMoves(b *testing.B) {
	report := func(b *testing.B, res MoveResult, l *load, took time.Duration) {
		l.halt()
		l.mu.Lock()
		defer l.mu.Unlock()
		if res.CopyMs > 0 {
			b.ReportMetric(float64(res.Copied)/(float64(res.CopyMs)/1000), "copy-rows/s")
		}
		b.ReportMetric(float64(res.WritePauseMs), "pause-ms")
		b.ReportMetric(float64(l.maxWrite.Milliseconds()), "max-write-ms")
		b.ReportMetric(float64(l.acked)/took.Seconds(), "writes/s")
		if len(l.readErrors) > 0 {
			b.Errorf("%d reads failed: %s", len(l.readErrors), l.readErrors[0])
		}
	}
	run := func(b *testing.B, path, base string, users []int64, tier string, back bool) {
		l := startLoad(b, base, users, 1000, tier == TierActivity)
		start := time.Now()
		time.Sleep(time.Second)
		res := move(b, path, tier, back)
		time.Sleep(time.Second)
		report(b, res, l, time.Since(start))
	}
	b.Run("db", func(b *testing.B) {
		box, rds := freshPG(b, "box"), freshPG(b, "rds")
		path := writeLocal(b, dbParams("db/", box))
		base := liveApp(b, path)
		seed(b, sqlOn(b, box), 100000, 3)
		expand(b, path, dbParams("next/db/", rds))
		b.Run("forward", func(b *testing.B) { run(b, path, base, usersOf(b, sqlOn(b, box)), TierDB, false) })
		b.Run("back", func(b *testing.B) { run(b, path, base, usersOf(b, sqlOn(b, rds)), TierDB, true) })
	})
	b.Run("shards", func(b *testing.B) {
		primary, s0, s1, s2, s3 := freshPG(b, "primary"), freshPG(b, "s0"), freshPG(b, "s1"), freshPG(b, "s2"), freshPG(b, "s3")
		path := writeLocal(b, dbParams("db/", primary))
		base := liveApp(b, path)
		seed(b, sqlOn(b, primary), 100000, 3)
		expand(b, path, shardParams("next/shards/", s0, s1))
		b.Run("0-2", func(b *testing.B) { run(b, path, base, usersOf(b, sqlOn(b, primary)), TierShards, false) })
		// The retire pulumi up: the two shards become the current map; then they grow to four.
		ps, _ := LocalFile(path).Params(context.Background())
		cur := map[string]string{}
		for k, v := range ps {
			if rest, ok := strings.CutPrefix(k, NextPrefix); ok {
				cur[rest] = v
			} else if !strings.HasPrefix(k, "shards/") {
				cur[k] = v
			}
		}
		rewrite(b, path, cur)
		time.Sleep(1500 * time.Millisecond) // the app follows the retire
		if _, err := Move(context.Background(), LocalFile(path), LocalFile(path), moveEnv(b), TierShards, MoveOptions{Retire: true, Grace: time.Second}); err != nil {
			b.Fatal(err)
		}
		expand(b, path, shardParams("next/shards/", s0, s1, s2, s3))
		b.Run("2-4", func(b *testing.B) { run(b, path, base, usersOf(b, sqlOn(b, s0)), TierShards, false) })
	})
}

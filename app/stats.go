package app

import (
	"maps"
	"sync"
)

// Stats counts, since start, cache hits and misses and the reads and writes each target
// served: primary, replica-<i>, shard-<i>-writer, shard-<i>-reader, dynamodb.
type Stats struct {
	mu           sync.Mutex
	hits, misses int64
	reads        map[string]int64
	writes       map[string]int64
}

func newStats() *Stats { return &Stats{reads: map[string]int64{}, writes: map[string]int64{}} }

func (s *Stats) hit()  { s.mu.Lock(); s.hits++; s.mu.Unlock() }
func (s *Stats) miss() { s.mu.Lock(); s.misses++; s.mu.Unlock() }

func (s *Stats) read(target string)  { s.mu.Lock(); s.reads[target]++; s.mu.Unlock() }
func (s *Stats) write(target string) { s.mu.Lock(); s.writes[target]++; s.mu.Unlock() }

// StatsView is the /stats document.
type StatsView struct {
	Cache  CacheStats       `json:"cache"`
	Reads  map[string]int64 `json:"reads"`
	Writes map[string]int64 `json:"writes"`
}

// CacheStats are the cache's counters.
type CacheStats struct {
	Hits   int64 `json:"hits"`
	Misses int64 `json:"misses"`
}

// View returns a copy of the counters.
func (s *Stats) View() StatsView {
	s.mu.Lock()
	defer s.mu.Unlock()
	return StatsView{Cache: CacheStats{Hits: s.hits, Misses: s.misses}, Reads: maps.Clone(s.reads), Writes: maps.Clone(s.writes)}
}

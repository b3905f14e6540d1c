package suggest

import "testing"

func TestNearest(t *testing.T) {
	cands := []string{"replicas", "shards", "stage", "platform", "shardReaders", "requests", "cache", "json"}
	for _, c := range []struct{ word, want string }{
		{"replica", "replicas"}, {"stge", "stage"}, {"Shards", "shards"}, {"platfrom", "platform"},
		{"requets", "requests"}, {"zzz", ""}, {"region", ""}, {"cahce", "cache"}, {"jsno", "json"},
	} {
		if got := Nearest(c.word, cands); got != c.want {
			t.Errorf("Nearest(%q) = %q, want %q", c.word, got, c.want)
		}
	}
	if got := DidYouMean("replica", cands); got != " (did you mean replicas?)" {
		t.Errorf("DidYouMean: %q", got)
	}
}

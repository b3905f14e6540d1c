package database

import "testing"

// TestMaxConnections: the estimate follows PostgreSQL's default on RDS,
// LEAST(DBInstanceClassMemory/9531392, 5000), within the published ranges.
func TestMaxConnections(t *testing.T) {
	cases := []struct {
		class  string
		lo, hi int
	}{
		{"db.t4g.micro", 80, 115},
		{"db.t4g.medium", 350, 450},
		{"db.m6g.large", 700, 901},
		{"db.r6g.large", 1500, 1802},
		{"db.r6g.2xlarge", 5000, 5000},
		{"db.serverless", 350, 450}, // unknown shape: a medium's memory
	}
	for _, c := range cases {
		if got := MaxConnections(c.class); got < c.lo || got > c.hi {
			t.Errorf("%s: %d connections, want %d..%d", c.class, got, c.lo, c.hi)
		}
	}
}

func TestMajorOf(t *testing.T) {
	for in, want := range map[string]string{"16": "16", "16.4": "16", "17.2": "17"} {
		if got := majorOf(in); got != want {
			t.Errorf("majorOf(%s) = %s", in, got)
		}
	}
}

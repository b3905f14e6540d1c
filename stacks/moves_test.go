package stacks

import (
	"errors"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TestRetireNeedsTheMoversRecord: the retire pulumi up (llama:moved naming a tier) goes ahead
// only when the mover recorded that tier's switch; offline, without records, the key decides.
func TestRetireNeedsTheMoversRecord(t *testing.T) {
	cfgOf := func(kv map[string]string) *Config {
		c, err := ParseConfig(func(k string) (string, bool) { v, ok := kv[strings.TrimPrefix(k, "llama:")]; return v, ok })
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	records := func(rs map[string]string) RecordReader {
		return func(_ *pulumi.Context, name string) (string, error) {
			if v, ok := rs[name]; ok {
				return v, nil
			}
			return "", errors.New("ParameterNotFound")
		}
	}
	db := cfgOf(map[string]string{"stage": "separate-db", "moved": "db"})
	shards := cfgOf(map[string]string{"stage": "sharded", "moved": "db,traffic,shards", "shards": "4", "cloudflareZoneId": "0123456789abcdef0123456789abcdef", "domain": "app.example.com", "cloudflareCertificate": "advanced"})
	for _, c := range []struct {
		name    string
		cfg     *Config
		read    RecordReader
		refused string
	}{
		{"offline: the key decides", db, nil, ""},
		{"no record", db, records(nil), "not recorded"},
		{"switched", db, records(map[string]string{"/llama/dev/moves/db": `{"state":"switched","gen":1}`}), ""},
		{"retired", db, records(map[string]string{"/llama/dev/moves/db": `{"state":"retired","gen":1}`}), ""},
		{"switched back", db, records(map[string]string{"/llama/dev/moves/db": `{"state":"back","gen":2}`}), "the db move is back"},
		{"still copying", db, records(map[string]string{"/llama/dev/moves/db": `{"state":"copying"}`}), "the db move is copying"},
		{"shards switched to the count", shards, records(map[string]string{"/llama/dev/moves/db": `{"state":"retired"}`, "/llama/dev/moves/shards": `{"state":"switched","shards":4}`}), ""},
		{"shards switched to another count", shards, records(map[string]string{"/llama/dev/moves/db": `{"state":"retired"}`, "/llama/dev/moves/shards": `{"state":"retired","shards":2}`}), "not 4"},
	} {
		err := checkMoves(nil, c.cfg, "/llama/dev", c.read)
		switch {
		case c.refused == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.refused != "" && (err == nil || !strings.Contains(err.Error(), c.refused) || !strings.Contains(err.Error(), "llama:moved")):
			t.Errorf("%s: %v, want a refusal naming llama:moved and %q", c.name, err, c.refused)
		}
	}
}

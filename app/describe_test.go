package app

import (
	"strings"
	"testing"
	"time"
)

// TestDescribe: what the app makes of each shape of parameters, without connecting.
func TestDescribe(t *testing.T) {
	base := func(extra map[string]string) map[string]string {
		p := map[string]string{"db/primary/endpoint": "db.example", "db/port": "5432", "db/name": "llama", "db/user": "u", "db/secretArn": "arn:s"}
		for k, v := range extra {
			p[k] = v
		}
		return p
	}
	cases := []struct {
		name   string
		params map[string]string
		check  func(*Layout) string
		err    string
	}{
		{"an endpoint's own port wins over db/port", base(map[string]string{"db/primary/endpoint": "127.0.0.1:55433"}), func(l *Layout) string {
			if l.Primary.Endpoint.String() != "127.0.0.1:55433" || l.Primary.SSLMode != "disable" {
				return "primary " + l.Primary.Endpoint.String() + " sslmode " + l.Primary.SSLMode
			}
			return ""
		}, ""},
		{"TLS required off loopback", base(nil), func(l *Layout) string {
			if l.Primary.Endpoint.String() != "db.example:5432" || l.Primary.SSLMode != "require" || l.Cache != nil || l.Table != nil || len(l.Replicas) != 0 {
				return "unexpected layout"
			}
			return ""
		}, ""},
		{"the serverless start: the writer, directly, with IAM", map[string]string{"db/primary/endpoint": "w.cluster-c1.us-east-1.rds.amazonaws.com", "db/port": "5432",
			"db/name": "llama", "db/user": "llama_app", "db/auth": "iam", "db/sslmode": "verify-full"}, func(l *Layout) string {
			if p := l.Primary; !p.IAM || p.Proxy || p.SecretArn != "" || p.User != "llama_app" || len(l.Replicas) != 0 {
				return "primary " + p.Name + " " + p.User
			}
			return ""
		}, ""},
		{"through RDS Proxy", map[string]string{"db/proxy/endpoint": "p.proxy-c1.us-east-1.rds.amazonaws.com", "db/proxy/readEndpoint": "r.endpoint.proxy-c1.us-east-1.rds.amazonaws.com",
			"db/port": "5432", "db/name": "llama", "db/user": "llama_admin", "db/sslmode": "verify-full"}, func(l *Layout) string {
			if p := l.Primary; !p.IAM || !p.Proxy || len(l.Replicas) != 1 || !l.Replicas[0].Proxy {
				return "primary " + p.Name
			}
			return ""
		}, ""},
		{"replicas in order", base(map[string]string{"db/replicas/0/endpoint": "r0", "db/replicas/1/endpoint": "r1"}), func(l *Layout) string {
			if len(l.Replicas) != 2 || l.Replicas[1].Name != "replica-1" || l.Replicas[1].SecretArn != "arn:s" {
				return "replicas wrong"
			}
			return ""
		}, ""},
		{"RDS Proxy signs in with IAM", map[string]string{"db/proxy/endpoint": "p.proxy", "db/proxy/readEndpoint": "ro.proxy", "db/user": "llama_admin"}, func(l *Layout) string {
			if !l.Primary.IAM || l.Primary.SecretArn != "" || len(l.Replicas) != 1 || !l.Replicas[0].IAM || l.Primary.User != "llama_admin" {
				return "proxy layout wrong"
			}
			return ""
		}, ""},
		{"shards with and without readers", base(map[string]string{"shards/count": "2", "shards/0/writer": "w0", "shards/0/reader": "r0", "shards/1/writer": "w1", "shards/1/secretArn": "arn:s1"}), func(l *Layout) string {
			if len(l.Shards) != 2 || l.Shards[0].Reader == nil || l.Shards[1].Reader != nil || l.Shards[1].Writer.SecretArn != "arn:s1" || l.Shards[0].Writer.SecretArn != "arn:s" {
				return "shards wrong"
			}
			return ""
		}, ""},
		{"cache with TLS by default", base(map[string]string{"cache/primary/endpoint": "master.c", "cache/port": "6379", "cache/authSecretArn": "arn:c"}), func(l *Layout) string {
			if l.Cache == nil || !l.Cache.TLS || l.Cache.Endpoint.String() != "master.c:6379" || l.Cache.AuthSecretArn != "arn:c" {
				return "cache wrong"
			}
			return ""
		}, ""},
		{"the published table schema", base(map[string]string{"tables/names": "x-a,x-activity", "tables/activity/name": "x-activity", "tables/activity/partitionKey": "uid"}), func(l *Layout) string {
			if l.Table == nil || *l.Table != (Table{Name: "x-activity", PartitionKey: "uid"}) {
				return "table wrong"
			}
			return ""
		}, ""},
		{"a bare table list", base(map[string]string{"tables/names": "x-a,x-activity"}), func(l *Layout) string {
			if l.Table == nil || l.Table.Name != "x-activity" || l.Table.SortKey != "createdAt" {
				return "table wrong"
			}
			return ""
		}, ""},
		{"no primary", map[string]string{"db/secretArn": "arn:s"}, nil, "db/primary/endpoint"},
		{"no credentials", map[string]string{"db/primary/endpoint": "db"}, nil, "secretArn"},
		{"a shard without a writer", base(map[string]string{"shards/count": "1"}), nil, "shard-0-writer"},
		{"a bad port", base(map[string]string{"db/port": "five"}), nil, "db/port"},
		{"a bad cache/tls", base(map[string]string{"cache/primary/endpoint": "c", "cache/tls": "maybe"}), nil, "cache/tls"},
	}
	for _, c := range cases {
		l, err := Describe(c.params)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want one naming %s", c.name, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if msg := c.check(l); msg != "" {
			t.Errorf("%s: %s: %+v", c.name, msg, l)
		}
	}
}

// TestNewIDs: IDs are positive, JavaScript-safe for 69 years, and rarely collide within one
// millisecond (12 random bits: 100 draws collide about once; the owning shard's primary key
// catches a collision and the writer draws again).
func TestNewIDs(t *testing.T) {
	seen := map[int64]bool{}
	for i := 0; i < 100; i++ {
		id := newID(idEpoch.AddDate(69, 0, 0))
		if id <= 0 || id >= 1<<53 {
			t.Fatalf("id %d outside 1..2^53", id)
		}
		seen[id] = true
	}
	if len(seen) < 95 {
		t.Errorf("%d distinct ids in 100 draws within one millisecond", len(seen))
	}
	if a, b := newID(idEpoch.Add(time.Millisecond)), newID(idEpoch.Add(2*time.Millisecond)); a >= b {
		t.Errorf("ids do not grow with time: %d then %d", a, b)
	}
}

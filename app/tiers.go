package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/redis/go-redis/v9"
)

// home is where one user's rows live: the primary and its replicas before sharding, one
// shard's writer and reader after.
type home struct {
	writer  *pg
	readers []*pg // lag-tolerant reads; empty means the writer
	next    atomic.Uint32
}

// reader picks a lag-tolerant reader, round robin, or the writer when there is none.
func (h *home) reader() *pg {
	if len(h.readers) == 0 {
		return h.writer
	}
	return h.readers[int(h.next.Add(1))%len(h.readers)]
}

// table is the DynamoDB table of the high-write subset and its key schema.
type table struct {
	client                     *dynamodb.Client
	name, partition, sort, ttl string
}

// tiers is what one rung gives the app, built from the published parameters.
type tiers struct {
	params  map[string]string
	primary *home   // the RDS primary (or the box's PostgreSQL, or the serverless writer)
	shards  []*home // empty before the sharded rung
	cache   *redis.Client
	table   *table
}

// homeOf returns where a user's rows live: shard userId mod shardCount, or the primary.
func (t *tiers) homeOf(userID int64) *home {
	if len(t.shards) == 0 {
		return t.primary
	}
	return t.shards[uint64(userID)%uint64(len(t.shards))]
}

// writers lists every database the schema is applied to: the primary and each shard.
func (t *tiers) writers() []*pg {
	out := []*pg{t.primary.writer}
	for _, s := range t.shards {
		out = append(out, s.writer)
	}
	return out
}

func (t *tiers) close() {
	for _, h := range append([]*home{t.primary}, t.shards...) {
		h.writer.close()
		for _, r := range h.readers {
			r.close()
		}
	}
	if t.cache != nil {
		t.cache.Close()
	}
}

// Env is what the app knows of its environment beyond the parameters.
type Env struct {
	AWS    aws.Config // credentials and region, for IAM tokens and DynamoDB
	Region string
}

// params reads parameters with their documented defaults.
type paramReader map[string]string

func (p paramReader) get(key, def string) string {
	if v := strings.TrimSpace(p[key]); v != "" {
		return v
	}
	return def
}

func (p paramReader) flag(key string, def bool) bool {
	b, err := strconv.ParseBool(p.get(key, strconv.FormatBool(def)))
	return err == nil && b
}

// buildTiers connects (lazily) to what the parameters name. Missing optional keys mean the
// rung does not have that tier: no cache keys, no cache; no replicas, reads go to the primary.
func buildTiers(ctx context.Context, src Source, env Env, params map[string]string) (*tiers, error) {
	p := paramReader(params)
	t := &tiers{params: params}
	ok := false
	defer func() {
		if !ok {
			t.close()
		}
	}()
	port, err := strconv.Atoi(p.get("db/port", "5432"))
	if err != nil {
		return nil, fmt.Errorf("db/port %q: %w", p["db/port"], err)
	}
	base := func(name, ep, secretArn string, iam bool) (pgTarget, error) {
		e, err := parseEndpoint(ep, port)
		if err != nil {
			return pgTarget{}, fmt.Errorf("%s: %w", name, err)
		}
		tg := pgTarget{Name: name, Endpoint: e, Database: p.get("db/name", "llama"), User: p.get("db/user", "llama"),
			SSLMode: p.get("db/sslmode", "require"), IAM: iam, Region: env.Region, AWS: env.AWS}
		if e.loopback() && p["db/sslmode"] == "" {
			tg.SSLMode = "disable" // nothing to encrypt on loopback
		}
		if !iam {
			if secretArn == "" {
				return pgTarget{}, fmt.Errorf("%s: no secretArn parameter names its credentials", name)
			}
			c, err := src.Secret(ctx, secretArn)
			if err != nil {
				return pgTarget{}, fmt.Errorf("%s: %w", name, err)
			}
			tg.Password = c.Password
			if c.Username != "" {
				tg.User = c.Username
			}
		}
		return tg, nil
	}
	open := func(name, ep, secretArn string, iam bool) (*pg, error) {
		tg, err := base(name, ep, secretArn, iam)
		if err != nil {
			return nil, err
		}
		return openPG(tg), nil
	}

	// The primary: through RDS Proxy where the stack has one (serverless: IAM required),
	// else directly.
	t.primary = &home{}
	secret := p["db/secretArn"]
	if proxy := p["db/proxy/endpoint"]; proxy != "" {
		if t.primary.writer, err = open("primary", proxy, "", true); err != nil {
			return nil, err
		}
		if ro := p["db/proxy/readEndpoint"]; ro != "" {
			r, err := open("replica-0", ro, "", true)
			if err != nil {
				return nil, err
			}
			t.primary.readers = append(t.primary.readers, r)
		}
	} else {
		ep := p["db/primary/endpoint"]
		if ep == "" {
			return nil, fmt.Errorf("no db/primary/endpoint parameter: the stack publishes one on every rung")
		}
		if t.primary.writer, err = open("primary", ep, secret, false); err != nil {
			return nil, err
		}
		for i := 0; ; i++ {
			ep := p[fmt.Sprintf("db/replicas/%d/endpoint", i)]
			if ep == "" {
				break
			}
			r, err := open(fmt.Sprintf("replica-%d", i), ep, secret, false)
			if err != nil {
				return nil, err
			}
			t.primary.readers = append(t.primary.readers, r)
		}
	}

	// Shards: shard i holds the users whose id mod count is i.
	if n, _ := strconv.Atoi(p.get("shards/count", "0")); n > 0 {
		for i := 0; i < n; i++ {
			key := fmt.Sprintf("shards/%d/", i)
			ss := p.get(key+"secretArn", secret)
			w, err := open(fmt.Sprintf("shard-%d-writer", i), p[key+"writer"], ss, false)
			if err != nil {
				return nil, err
			}
			h := &home{writer: w}
			t.shards = append(t.shards, h)
			if ep := p[key+"reader"]; ep != "" {
				r, err := open(fmt.Sprintf("shard-%d-reader", i), ep, ss, false)
				if err != nil {
					return nil, err
				}
				h.readers = []*pg{r}
			}
		}
	}

	if ep := p["cache/primary/endpoint"]; ep != "" {
		cport, err := strconv.Atoi(p.get("cache/port", "6379"))
		if err != nil {
			return nil, fmt.Errorf("cache/port %q: %w", p["cache/port"], err)
		}
		e, err := parseEndpoint(ep, cport)
		if err != nil {
			return nil, fmt.Errorf("cache: %w", err)
		}
		opts := &redis.Options{Addr: e.String(), DialTimeout: 300 * time.Millisecond,
			ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond, MaxRetries: -1, PoolSize: 20}
		if p.flag("cache/tls", !e.loopback()) {
			opts.TLSConfig = &tls.Config{ServerName: e.Host, MinVersion: tls.VersionTLS12}
		}
		if arn := p["cache/authSecretArn"]; arn != "" {
			c, err := src.Secret(ctx, arn)
			if err != nil {
				return nil, fmt.Errorf("cache: %w", err)
			}
			opts.Password = c.Password
		}
		t.cache = redis.NewClient(opts)
	}

	if tb := activityTable(p); tb != nil {
		tb.client = dynamodb.NewFromConfig(env.AWS)
		t.table = tb
	}
	ok = true
	return t, nil
}

// activityTable finds the high-write table: tables/activity/name (with its key schema under
// tables/activity/), else the name in tables/names ending in "activity", else the first.
func activityTable(p paramReader) *table {
	name := p["tables/activity/name"]
	if name == "" {
		names := strings.Split(p["tables/names"], ",")
		for _, n := range names {
			if n = strings.TrimSpace(n); strings.HasSuffix(n, "activity") {
				name = n
				break
			}
		}
		if name == "" {
			name = strings.TrimSpace(names[0])
		}
	}
	if name == "" {
		return nil
	}
	if p["tables/activity/name"] != "" {
		// The stack published the key schema: an empty sort key or TTL attribute means none.
		return &table{name: name, partition: p.get("tables/activity/partitionKey", "userId"),
			sort: p["tables/activity/sortKey"], ttl: p["tables/activity/ttlAttribute"]}
	}
	return &table{name: name, partition: "userId", sort: "createdAt", ttl: "expiresAt"}
}

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

	"github.com/llama-stages/llama/contract"
)

// home is where one user's rows live: the primary and its replicas before sharding, one
// shard's writer and reader after.
type home struct {
	writer  *pg
	readers []*pg // lag-tolerant reads; empty means the writer
	next    atomic.Uint32
}

// reader picks a lag-tolerant reader, round robin among those whose breaker is closed, or
// the writer when there is none.
func (h *home) reader() *pg {
	n := len(h.readers)
	start := int(h.next.Add(1))
	for i := 0; i < n; i++ {
		if r := h.readers[(start+i)%n]; r.down.closed() {
			return r
		}
	}
	return h.writer
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
	cache   *cache
	// cacheDown skips the cache for a while after it failed.
	cacheDown  *breaker
	table      *table
	static     *staticFiles // the static bucket, from load-balanced on
	site       *staticFiles // the SPA's bucket, served at siteDomain (serverless, with a zone)
	siteDomain string
	view       view // the parameters as the app serves them, and the moves under way
}

// homeOf returns where a user's rows live: shard userId mod shardCount, or the primary.
func (t *tiers) homeOf(userID int64) *home {
	if len(t.shards) == 0 {
		return t.primary
	}
	return t.shards[uint64(userID)%uint64(len(t.shards))]
}

// writers lists the databases the rung writes users to, which must have the schema and answer
// for the app to serve: each shard's writer on a sharded rung (no user lives on the primary
// there), else the primary.
func (t *tiers) writers() []*pg {
	if len(t.shards) == 0 {
		return []*pg{t.primary.writer}
	}
	out := make([]*pg, len(t.shards))
	for i, s := range t.shards {
		out[i] = s.writer
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
		t.cache.close()
	}
}

// Env is what the app knows of its environment beyond the parameters.
type Env struct {
	AWS    aws.Config // credentials and region, for IAM tokens and DynamoDB
	Region string
	// PoolSize is the connections kept open to each database; default DefaultPoolSize.
	PoolSize int
	// StatementTimeout bounds each of the app's statements on the server; default five
	// seconds, negative none. (The mover's statements have none.)
	StatementTimeout time.Duration
}

func (e Env) statementTimeout() time.Duration {
	switch {
	case e.StatementTimeout < 0:
		return 0
	case e.StatementTimeout == 0:
		return 5 * time.Second
	}
	return e.StatementTimeout
}

// params reads parameters with their documented defaults.
type paramReader map[string]string

func (p paramReader) get(key, def string) string {
	if v := strings.TrimSpace(p[key]); v != "" {
		return v
	}
	return def
}

// Layout is what the app makes of a rung's parameters: which databases, cache and table it
// uses, and how it signs in to each. Describe computes it without connecting to anything.
type Layout struct {
	Primary  DB
	Replicas []DB    // lag-tolerant readers of the primary
	Shards   []Shard // shard i holds the users whose id mod len(Shards) is i
	Cache    *Cache
	Table    *Table
	// StaticBucket holds the static files the app serves under /static/; "" before
	// load-balanced, where the box's nginx serves them from its disk.
	StaticBucket string
	// Site is the single-page app the function serves at its own hostname (serverless, with
	// a zone); nil without one.
	Site *Site
}

// Site is a single-page app the app serves from a bucket to the requests for a hostname.
type Site struct {
	Domain, Bucket string
}

// DB is one PostgreSQL endpoint and how the app signs in.
type DB struct {
	Name     string   // the stats target: primary, replica-0, shard-1-writer
	Endpoint Endpoint // host and port
	Database string
	User     string
	SSLMode  string
	IAM      bool // an RDS IAM token per connection
	Proxy    bool // the endpoint is RDS Proxy's (its certificate is ACM's; it takes few startup parameters)
	// ConnectTimeout bounds opening a connection; 0: 3 s. Longer where the writer may be
	// paused and answers once it has resumed.
	ConnectTimeout time.Duration
	SecretArn      string // the credentials' secret, without IAM
}

// Shard is one shard's writer and, when it has one, its reader.
type Shard struct {
	Writer DB
	Reader *DB
}

// Cache is the read-through cache.
type Cache struct {
	Endpoint      Endpoint
	TLS           bool
	AuthSecretArn string
}

// Table is the DynamoDB table of the high-write subset and its key schema.
type Table struct {
	Name, PartitionKey, SortKey, TTLAttribute string
}

// Describe reads a rung's parameters. Missing optional keys mean the rung does not have that
// tier: no cache keys, no cache; no replicas, reads go to the primary.
func Describe(params map[string]string) (*Layout, error) {
	p := paramReader(params)
	port, err := strconv.Atoi(p.get(contract.DBPort, "5432"))
	if err != nil {
		return nil, fmt.Errorf("db/port %q: %w", p[contract.DBPort], err)
	}
	d := describer{p: p, port: port}
	l := &Layout{}
	if l.Primary, l.Replicas, err = d.databases(); err != nil {
		return nil, err
	}
	if l.Shards, err = d.shards(); err != nil {
		return nil, err
	}
	if l.Cache, err = d.cache(); err != nil {
		return nil, err
	}
	l.Table = activityTable(p)
	l.StaticBucket = p[contract.StaticBucket]
	if d, b := p[contract.SPADomain], p[contract.SPABucket]; d != "" && b != "" {
		l.Site = &Site{Domain: d, Bucket: b}
	}
	return l, nil
}

// describer reads the parameters' tiers.
type describer struct {
	p    paramReader
	port int
}

// db describes one database endpoint; with iam it signs in with IAM, else with the secret.
func (d describer) db(name, ep, secretArn string, iam bool) (DB, error) {
	p := d.p
	e, err := parseEndpoint(ep, d.port)
	if err != nil {
		return DB{}, fmt.Errorf("%s: %w", name, err)
	}
	out := DB{Name: name, Endpoint: e, Database: p.get(contract.DBName, "llama"), User: p.get(contract.DBUser, "llama"),
		SSLMode: p.get(contract.DBSSLMode, "require"), IAM: iam, SecretArn: secretArn}
	if e.loopback() && p[contract.DBSSLMode] == "" {
		out.SSLMode = "disable" // nothing to encrypt on loopback
	}
	if !iam && secretArn == "" {
		return DB{}, fmt.Errorf("%s: no secretArn parameter names its credentials", name)
	}
	return out, nil
}

// databases describes the primary and its replicas: through RDS Proxy where the stack has
// one (it requires IAM), else directly.
func (d describer) databases() (primary DB, replicas []DB, err error) {
	p := d.p
	if proxy := p[contract.DBProxyEndpoint]; proxy != "" {
		if primary, err = d.db("primary", proxy, "", true); err != nil {
			return primary, nil, err
		}
		primary.Proxy = true
		if ro := p[contract.DBProxyReadEndpoint]; ro != "" {
			r, err := d.db("replica-0", ro, "", true)
			if err != nil {
				return primary, nil, err
			}
			r.Proxy = true
			replicas = append(replicas, r)
		}
		return primary, replicas, nil
	}
	ep, secret := p[contract.DBPrimaryEndpoint], p[contract.DBSecretArn]
	if ep == "" {
		return primary, nil, fmt.Errorf("no db/primary/endpoint parameter: the stack publishes one on every rung")
	}
	if p[contract.DBAuth] == "iam" {
		// The serverless start: the Aurora writer, directly, with an IAM token.
		if primary, err = d.db("primary", ep, "", true); err != nil {
			return primary, nil, err
		}
		if s := p[contract.DBConnectTimeout]; s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				return primary, nil, fmt.Errorf("%s %q: want whole seconds", contract.DBConnectTimeout, s)
			}
			primary.ConnectTimeout = time.Duration(n) * time.Second
		}
		return primary, nil, nil
	}
	if primary, err = d.db("primary", ep, secret, false); err != nil {
		return primary, nil, err
	}
	for i := 0; p[contract.DBReplica(i)] != ""; i++ {
		r, err := d.db(fmt.Sprintf("replica-%d", i), p[contract.DBReplica(i)], secret, false)
		if err != nil {
			return primary, nil, err
		}
		replicas = append(replicas, r)
	}
	return primary, replicas, nil
}

// shards describes the shard map: each shard's writer and, where it has one, its reader.
func (d describer) shards() ([]Shard, error) {
	p := d.p
	n := p.get(contract.ShardsCount, "0")
	count, err := strconv.Atoi(n)
	if err != nil || count < 0 {
		return nil, fmt.Errorf("shards/count %q is not a count", n)
	}
	var out []Shard
	for i := 0; i < count; i++ {
		ss := p.get(contract.Shard(i, "secretArn"), p[contract.DBSecretArn])
		w, err := d.db(fmt.Sprintf("shard-%d-writer", i), p[contract.Shard(i, "writer")], ss, false)
		if err != nil {
			return nil, err
		}
		sh := Shard{Writer: w}
		if ep := p[contract.Shard(i, "reader")]; ep != "" {
			r, err := d.db(fmt.Sprintf("shard-%d-reader", i), ep, ss, false)
			if err != nil {
				return nil, err
			}
			sh.Reader = &r
		}
		out = append(out, sh)
	}
	return out, nil
}

// cache describes the cache, where the stack has one.
func (d describer) cache() (*Cache, error) {
	p := d.p
	ep := p[contract.CachePrimaryEndpoint]
	if ep == "" {
		return nil, nil
	}
	cport, err := strconv.Atoi(p.get(contract.CachePort, "6379"))
	if err != nil {
		return nil, fmt.Errorf("cache/port %q: %w", p[contract.CachePort], err)
	}
	e, err := parseEndpoint(ep, cport)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	tlsOn, err := strconv.ParseBool(p.get(contract.CacheTLS, strconv.FormatBool(!e.loopback())))
	if err != nil {
		return nil, fmt.Errorf("cache/tls %q: want true or false", p[contract.CacheTLS])
	}
	return &Cache{Endpoint: e, TLS: tlsOn, AuthSecretArn: p[contract.CacheAuthSecretArn]}, nil
}

// buildTiers opens (lazily) what the parameters name, reading the secrets they point to.
func buildTiers(ctx context.Context, src Source, env Env, params map[string]string) (*tiers, error) {
	v, err := resolve(params)
	if err != nil {
		return nil, err
	}
	l, err := Describe(v.params)
	if err != nil {
		return nil, err
	}
	t := &tiers{params: params, view: v}
	open := func(d DB) (*pg, error) {
		return openDB(ctx, src, env, d, session{name: appName(v.gens), pool: env.PoolSize, timeout: env.statementTimeout()})
	}
	if err := t.openDatabases(l, open); err != nil {
		t.close()
		return nil, err
	}
	if c := l.Cache; c != nil {
		if err := t.openCache(ctx, src, c); err != nil {
			t.close()
			return nil, err
		}
	}
	t.static = newStaticFiles(env, l.StaticBucket)
	if l.Site != nil {
		t.site, t.siteDomain = newStaticFiles(env, l.Site.Bucket), l.Site.Domain
	}
	if tb := l.Table; tb != nil {
		t.table = &table{client: dynamodb.NewFromConfig(env.AWS), name: tb.Name, partition: tb.PartitionKey, sort: tb.SortKey, ttl: tb.TTLAttribute}
	}
	return t, nil
}

// openDatabases opens the primary and its replicas, and each shard's writer and reader.
func (t *tiers) openDatabases(l *Layout, open func(DB) (*pg, error)) error {
	var err error
	t.primary = &home{}
	if t.primary.writer, err = open(l.Primary); err != nil {
		return err
	}
	for _, r := range l.Replicas {
		db, err := open(r)
		if err != nil {
			return err
		}
		t.primary.readers = append(t.primary.readers, db)
	}
	for _, s := range l.Shards {
		w, err := open(s.Writer)
		if err != nil {
			return err
		}
		h := &home{writer: w}
		t.shards = append(t.shards, h)
		if s.Reader != nil {
			r, err := open(*s.Reader)
			if err != nil {
				return err
			}
			h.readers = []*pg{r}
		}
	}
	return nil
}

// openCache opens the cache client with its auth token. One dial attempt with a short timeout
// and no retries: a dead cache must cost a read little, and the cache's breaker skips it for a
// while after a failure.
func (t *tiers) openCache(ctx context.Context, src Source, c *Cache) error {
	var tlsConfig *tls.Config
	if c.TLS {
		tlsConfig = &tls.Config{ServerName: c.Endpoint.Host, MinVersion: tls.VersionTLS12}
	}
	password := ""
	if c.AuthSecretArn != "" {
		cred, err := src.Secret(ctx, c.AuthSecretArn)
		if err != nil {
			return fmt.Errorf("cache: %w", err)
		}
		password = cred.Password
	}
	var err error
	if t.cache, err = newCache(c.Endpoint.String(), tlsConfig, password); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	t.cacheDown = &breaker{period: 5 * time.Second}
	return nil
}

// session is how a process uses a database: the application_name its sessions carry, its
// pool's size and the statements' time limit.
type session struct {
	name    string
	pool    int
	timeout time.Duration
}

// openDB opens (lazily) one database the parameters describe, reading its secret.
func openDB(ctx context.Context, src Source, env Env, d DB, sess session) (*pg, error) {
	tg := pgTarget{Name: d.Name, Endpoint: d.Endpoint, Database: d.Database, User: d.User, SSLMode: d.SSLMode,
		IAM: d.IAM, Proxy: d.Proxy, Region: env.Region, AWS: env.AWS, AppName: sess.name, StatementTimeout: sess.timeout, ConnectTimeout: d.ConnectTimeout}
	if !d.IAM {
		c, err := src.Secret(ctx, d.SecretArn)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.Name, err)
		}
		tg.Password = c.Password
		if c.Username != "" {
			tg.User = c.Username
		}
	}
	return openPG(tg, sess.pool), nil
}

// activityTable finds the high-write table: tables/activity/name (with its key schema under
// tables/activity/), else the name in tables/names ending in "activity", else the first.
func activityTable(p paramReader) *Table {
	name := p[contract.TableKey("activity", "name")]
	if name == "" {
		names := strings.Split(p[contract.TablesNames], ",")
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
	if p[contract.TableKey("activity", "name")] != "" {
		// The stack published the key schema: an empty sort key or TTL attribute means none.
		return &Table{Name: name, PartitionKey: p.get(contract.TableKey("activity", "partitionKey"), "userId"),
			SortKey: p[contract.TableKey("activity", "sortKey")], TTLAttribute: p[contract.TableKey("activity", "ttlAttribute")]}
	}
	return &Table{Name: name, PartitionKey: "userId", SortKey: "createdAt", TTLAttribute: "expiresAt"}
}

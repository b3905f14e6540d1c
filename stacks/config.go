package stacks

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/contract"
	"github.com/llama-stages/llama/suggest"
)

// Namespace is the config namespace and the Pulumi project name.
const Namespace = contract.Project

// Table is one DynamoDB table of llama:tables.
type Table struct {
	Name         string
	PartitionKey string
	SortKey      string // optional
	TTLAttribute string // optional
}

// Config is the stack's validated configuration, grouped as the components take it. Every field
// is set: defaults are applied.
type Config struct {
	Stage    string
	Platform Platform
	Layers   Layers // what the stage has: the ladder's layers, and those config allows
	// Retired are the layers a rung at or below the stage retired: their stateful parts stay
	// in the stack.
	Retired Layers

	Protect          bool
	LogRetentionDays int
	AppPackage       string
	CertificateArn   string

	Network    NetworkConfig
	Servers    ServersConfig
	Database   DatabaseConfig
	Cache      CacheConfig
	Edge       EdgeConfig
	Shards     ShardsConfig
	Tables     []Table
	Serverless ServerlessConfig
	Quotas     QuotaConfig
	Alarms     AlarmConfig
	Moves      MovesConfig
}

// MovesConfig is where the live moves of data and traffic stand (llama:moved, llama:shardsFrom).
type MovesConfig struct {
	Moved      map[string]bool // the tiers whose move is done: their old tier may retire
	ShardsFrom int             // the shard count the app serves from while shards grow; 0: none
}

// The move tiers (llama:moved).
const (
	MoveDB       = "db"
	MoveTraffic  = "traffic"
	MoveEdge     = "edge"
	MoveShards   = "shards"
	MoveActivity = "activity"
)

// Pending reports whether a tier's move is under way: the stage has the new tier and the move
// is not recorded done. Until it is, the old tier stays and the new one is published under
// next/.
func (c *Config) Pending(tier string) bool {
	m := c.Moves
	if m.Moved[tier] && !(tier == MoveShards && m.ShardsFrom > 0 && m.ShardsFrom != c.Shards.Count) {
		return false // done (a shard count that grows again is a new move)
	}
	if !slices.Contains(MovesOf(c.Platform, c.Stage), tier) {
		return false
	}
	switch tier {
	case MoveShards:
		return c.Shards.Count > 0
	case MoveActivity:
		return slices.ContainsFunc(c.Tables, func(t Table) bool { return t.Name == "activity" })
	}
	// Until its move is listed, the old tier stays: the edge's too, where the load balancer (or
	// the API's execute-api endpoint) stays reachable directly until clients moved.
	return true
}

// LiveShards is the shard count the app serves from: 0 before the first shard move is done,
// llama:shardsFrom while shards grow.
func (c *Config) LiveShards() int {
	if !c.Pending(MoveShards) {
		return c.Shards.Count
	}
	return c.Moves.ShardsFrom
}

// NetworkConfig is the VPC's.
type NetworkConfig struct {
	Cidr     netip.Prefix
	AZCount  int
	NatPerAz bool
}

// ServersConfig is the box's and the fleet's.
type ServersConfig struct {
	InstanceType      string
	Min, Desired, Max int
}

// DatabaseConfig is the RDS primary's and its replicas'; SlowQueryMs and BackupRetentionDays
// hold for every database.
type DatabaseConfig struct {
	EngineVersion       string
	InstanceClass       string
	StorageGb           int
	MaxStorageGb        int
	MultiAz             bool
	BackupRetentionDays int
	SlowQueryMs         int
	Replicas            int

	multiAz string // as given: "" follows Protect
}

// CacheConfig is ElastiCache's.
type CacheConfig struct {
	Engine   string
	NodeType string
	Nodes    int
}

// EdgeConfig is Cloudflare's, and the app's hostname's.
type EdgeConfig struct {
	ZoneID string
	Domain string
	Zone   string // the zone's name where it is not the domain's registrable domain; "" otherwise
	// ACMEDirectory is the CA the box obtains its certificate from.
	ACMEDirectory string
	// Certificate is the zone's edge certificate: universal or advanced.
	Certificate string
	// Plan is the zone's Cloudflare plan (free, pro, business, enterprise).
	Plan string
}

// LetsEncrypt is Let's Encrypt's production ACME directory, llama:acmeDirectory's default.
const LetsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"

// ShardsConfig is the Aurora shards'.
type ShardsConfig struct {
	Count         int
	Readers       int
	InstanceClass string
}

// ServerlessConfig is Aurora Serverless v2's and Lambda's.
type ServerlessConfig struct {
	MinAcu, MaxAcu float64
	LambdaMemory   int
	LambdaTimeout  int
	MaxConcurrency int    // llama:maxFunctionConcurrency
	Proxy          string // llama:dbProxy: auto or always
}

// DefaultRDSQuota is RDS's default quota of DB clusters, and of DB instances, an account and
// region (RDS User Guide, "Quotas in Amazon RDS").
const DefaultRDSQuota = 40

// QuotaConfig is the region's RDS quotas as declared.
type QuotaConfig struct {
	DBClusters, DBInstances int
}

// AlarmConfig is the alarms' subscriber and thresholds.
type AlarmConfig struct {
	Email                string
	LatencyP95Ms         int
	ErrorRatePercent     int
	DBConnectionsPercent int
	DBLatencyP95Ms       int
	ReplicaLagSeconds    int
	CacheMemoryPercent   int
}

// Has reports whether the stage has a layer.
func (c *Config) Has(l Layer) bool { return c.Layers[l] }

// Keeps reports whether the stage has a layer or keeps its retired stateful parts.
func (c *Config) Keeps(l Layer) bool { return c.Layers[l] || c.Retired[l] }

// ConfigError is a configuration mistake: the key, the value given and what is allowed.
type ConfigError struct {
	Key     string // with namespace, llama:replicas
	Value   string
	Allowed string
}

// Error names the key, the value and what is allowed, and says how to set the key.
func (e *ConfigError) Error() string {
	name := strings.TrimPrefix(e.Key, Namespace+":")
	how := fmt.Sprintf(" (set it with: pulumi config set %s <value>; offline: -c %s=<value>)", e.Key, name)
	if name == "cloudflareZoneId" || name == "domain" {
		how += "; the stack also needs a Cloudflare API token: pulumi config set --secret cloudflare:apiToken <token> (its permissions: docs/deploying.md)"
	}
	if e.Value == "" {
		return fmt.Sprintf("%s is not set; allowed: %s%s", e.Key, e.Allowed, how)
	}
	return fmt.Sprintf("%s: %q is not valid; allowed: %s%s", e.Key, e.Value, e.Allowed, how)
}

// ParseConfig reads and validates the stack's configuration. get returns a raw value by its
// namespaced key (llama:stage) and whether it is set; unset keys take the declared defaults.
// Every mistake is reported, each naming its key.
func ParseConfig(get func(key string) (string, bool)) (*Config, error) {
	c, raw, bad := &Config{}, map[string]string{}, map[string]bool{}
	var errs []error
	fail := func(name, allowed string) {
		bad[name] = true
		errs = append(errs, &ConfigError{Key: Namespace + ":" + name, Value: raw[name], Allowed: allowed})
	}
	for _, k := range Keys {
		v, ok := get(Namespace + ":" + k.Name)
		if !ok {
			v = k.Default
		}
		raw[k.Name] = strings.TrimSpace(v)
		if val, allowed := k.Parse(raw[k.Name]); allowed != "" {
			fail(k.Name, allowed)
		} else {
			k.Set(c, val)
		}
	}
	for _, rule := range crossRules {
		// A rule over a key that did not parse would judge a zero value.
		if !slices.ContainsFunc(rule.reads, func(k string) bool { return bad[k] }) {
			if name, allowed := rule.check(c); allowed != "" {
				fail(name, allowed)
			}
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid configuration: %w", errors.Join(errs...))
	}
	return c, nil
}

// crossRules relate keys to each other and to the ladder; each returns the key at fault and
// what it allows, or "" when the config holds. They run once every key has parsed, in order:
// the stage rule sets the layers the later rules read.
var crossRules = []struct {
	reads []string // the keys the rule reads
	check func(c *Config) (key, allowed string)
}{
	{[]string{"platform", "stage", "cloudflareZoneId", "domain"}, stageRule},
	{[]string{"protect", "dbMultiAz"}, func(c *Config) (string, string) {
		c.Database.MultiAz = c.Database.multiAz == "true" || (c.Database.multiAz == "" && c.Protect)
		return "", ""
	}},
	{[]string{"minServers", "desiredServers", "maxServers"}, func(c *Config) (string, string) {
		if s := c.Servers; s.Desired < s.Min || s.Desired > s.Max {
			return "desiredServers", fmt.Sprintf("between llama:minServers (%d) and llama:maxServers (%d)", s.Min, s.Max)
		}
		return "", ""
	}},
	{[]string{"dbStorageGb"}, func(c *Config) (string, string) {
		if d := c.Database; d.MaxStorageGb <= d.StorageGb {
			return "dbMaxStorageGb", fmt.Sprintf("more than llama:dbStorageGb (%d)", d.StorageGb)
		}
		return "", ""
	}},
	{[]string{"platform", "stage", "cloudflareZoneId", "domain", "cloudflareZone", "cloudflareCertificate"}, func(c *Config) (string, string) {
		if c.Has(CDN) && c.Edge.ZoneID == "" {
			return "cloudflareZoneId", fmt.Sprintf("a Cloudflare zone ID (32 hex characters): required from the cdn rung on (stage %s)", c.Stage)
		}
		if c.Has(CDN) && c.Edge.Domain == "" {
			return "domain", fmt.Sprintf("the app's hostname in the Cloudflare zone: required from the cdn rung on (stage %s)", c.Stage)
		}
		if deep := c.UncoveredHostnames(); len(deep) > 0 {
			return "domain", fmt.Sprintf("a hostname the zone's certificate covers: %s is two labels below its zone %s, past Cloudflare's free Universal SSL (the apex and one label below it). "+
				"Set llama:domain to the zone's apex or one label below it (llama:cloudflareZone names a zone below the registrable domain), "+
				"or order Advanced Certificate Manager on the zone and set llama:cloudflareCertificate advanced", strings.Join(deep, ", "), ZoneOf(deep[0], c.Edge.Zone))
		}
		// A hostname without its zone, or a zone without a hostname, is half a setting: the
		// stack could not own the record, and a certificate could not be validated.
		if c.Edge.Domain != "" && c.Edge.ZoneID == "" {
			return "cloudflareZoneId", "a Cloudflare zone ID (32 hex characters) whenever llama:domain is set: the zone holding the hostname's record, on any rung"
		}
		if c.Edge.ZoneID != "" && c.Edge.Domain == "" {
			return "domain", "the app's hostname in the zone whenever llama:cloudflareZoneId is set, on any rung"
		}
		return "", ""
	}},
	{[]string{"stage", "shards"}, func(c *Config) (string, string) {
		if c.Shards.Count == 0 && c.Stage == "sharded" {
			return "shards", "a whole number from 1 to 64 on the sharded rung (0 shards is the nosql rung without sharding)"
		}
		return "", ""
	}},
	{[]string{"minAcu", "maxAcu"}, func(c *Config) (string, string) {
		if c.Serverless.MinAcu > c.Serverless.MaxAcu {
			return "minAcu", fmt.Sprintf("at most llama:maxAcu (%g)", c.Serverless.MaxAcu)
		}
		return "", ""
	}},
	{[]string{"platform", "minAcu", "lambdaTimeout", "dbProxy"}, resumeRule},
	{[]string{"platform", "stage", "replicas", "shards", "shardReaders", "dbClusterQuota", "dbInstanceQuota"}, quotaRule},
	{[]string{"platform", "stage", "moved", "shards", "shardsFrom", "tables"}, movedRule},
	{[]string{"tables"}, func(c *Config) (string, string) {
		// The app writes every activity of a user as its own item: without a sort key each
		// would replace the user's last one.
		for _, t := range c.Tables {
			if t.Name == "activity" && t.SortKey == "" {
				return "tables", "an activity table with a sort key (activity:userId:createdAt[:expiresAt]): the app writes each activity as its own item, and without a sort key each would replace the user's previous one"
			}
		}
		return "", ""
	}},
}

// movedRule: llama:moved names only moves the stage has, in an order that can happen, and
// llama:shardsFrom only grows the shards.
func movedRule(c *Config) (string, string) {
	has := map[string]bool{}
	for _, t := range MovesOf(c.Platform, c.Stage) {
		has[t] = true
	}
	for _, t := range MoveTiers {
		if c.Moves.Moved[t] && !has[t] {
			return "moved", fmt.Sprintf("only moves stage %s/%s has: %s has no %s move (it comes with a later rung, or not on this ladder)", c.Platform, c.Stage, c.Stage, t)
		}
	}
	if c.Moves.Moved[MoveTraffic] && c.Pending(MoveDB) {
		return "moved", "db before traffic: the fleet reaches RDS, not the box's PostgreSQL, so move the data (llama-app move db) and list db first"
	}
	if f := c.Moves.ShardsFrom; f > 0 && (!has[MoveShards] || c.Shards.Count == 0 || f >= c.Shards.Count) {
		return "shardsFrom", fmt.Sprintf("empty, or a shard count below llama:shards (%d) on a stage with shards: a shard move only grows the count", c.Shards.Count)
	}
	return "", ""
}

// ResumeSeconds is how long a request may wait for a paused Aurora Serverless v2 writer to
// resume: about 15 s, longer after a day's pause (Aurora User Guide, "Scaling to Zero ACUs with
// automatic pause and resume", "How auto-pause works").
const ResumeSeconds = 20

// Pauses reports whether the serverless writer can pause: llama:minAcu 0 where no RDS Proxy
// holds connections open to it (Aurora User Guide, auto-pause: RDS Proxy keeps the instance
// from pausing).
func (c *Config) Pauses() bool {
	return c.Platform == Serverless && c.Serverless.MinAcu == 0 && !c.Proxied()
}

// Proxied reports whether RDS Proxy stands in front of the serverless writer: from the
// replicas rung on, where readers share its read-only endpoint and the traffic pays for its
// floor (8 ACUs of proxy; RDS Proxy pricing), or from the start with llama:dbProxy always.
// Below it the functions sign in to the writer themselves, their connections bounded
// (functionPool, functionConcurrency), and the writer can pause at llama:minAcu 0, which a
// proxy's open connections would prevent.
func (c *Config) Proxied() bool {
	return c.Platform == Serverless && (c.Has(Replicas) || c.Serverless.Proxy == "always")
}

// resumeRule: a writer that pauses answers its first request after a pause in about 15 s, so
// the function must wait that long: lambdaTimeout of at least ResumeSeconds.
func resumeRule(c *Config) (string, string) {
	if c.Pauses() && c.Serverless.LambdaTimeout < ResumeSeconds {
		return "lambdaTimeout", fmt.Sprintf("at least %d with llama:minAcu 0: the first request after the writer paused waits for it to resume (about 15 s, longer after a day), and a function that gives up sooner answers 5xx until it has", ResumeSeconds)
	}
	return "", ""
}

// stageRule: the stage is a rung of the platform's ladder; it decides the layers.
func stageRule(c *Config) (string, string) {
	if _, ok := Find(c.Platform, c.Stage); ok {
		c.Layers, c.Retired = layersFor(c)
		// The box keeps serving until both its data and its traffic have moved: no up retires
		// a tier that holds live data or takes traffic before its move is recorded.
		if c.Layers[Fleet] && c.Retired[Box] && (c.Pending(MoveDB) || c.Pending(MoveTraffic)) {
			c.Layers[Box] = true
		}
		return "", ""
	}
	allowed := fmt.Sprintf("a rung of the %s ladder: %s", c.Platform, strings.Join(StageNames(c.Platform), ", "))
	if other := otherLadder(c.Platform, c.Stage); other != "" {
		return "stage", fmt.Sprintf("%s (%q is a rung of the %s ladder only; on the %s ladder, %s takes its place; or set llama:platform to %s)",
			allowed, c.Stage, other, c.Platform, counterpart(c.Platform), other)
	}
	var all []string
	for _, r := range Ladder {
		all = append(all, r.Stage)
	}
	return "stage", allowed + suggest.DidYouMean(c.Stage, all)
}

// quotaRule: the stage fits the region's RDS quotas. RDS's defaults are 40 DB clusters and 40
// DB instances a region (RDS User Guide, "Quotas in Amazon RDS"); past them pulumi up fails
// midway.
func quotaRule(c *Config) (string, string) {
	clusters, instances := c.RDSNeeds()
	why := fmt.Sprintf("stage %s needs %d DB clusters and %d DB instances; raise the region's RDS quotas in Service Quotas, then declare them", c.Stage, clusters, instances)
	if clusters > c.Quotas.DBClusters {
		return "dbClusterQuota", fmt.Sprintf("at least %d: %s", clusters, why)
	}
	if instances > c.Quotas.DBInstances {
		return "dbInstanceQuota", fmt.Sprintf("at least %d: %s", instances, why)
	}
	return "", ""
}

// counterpart is the stage to pick on a ladder for a rung of the other ladder that it lacks:
// the serverless start stands for the servers ladder's first three rungs, and the other way.
func counterpart(p Platform) string {
	if p == Serverless {
		return "serverless (the start: compute, a managed database and HTTPS without servers)"
	}
	return "single-box (the start)"
}

// otherLadder names the other platform when a stage exists only there.
func otherLadder(p Platform, stage string) Platform {
	for _, o := range Platforms {
		if o == p {
			continue
		}
		if _, ok := Find(o, stage); ok {
			return o
		}
	}
	return ""
}

// allowedBy are the layers a rung adds only where config allows them.
var allowedBy = map[Layer]func(*Config) bool{
	// The SPA is served through Cloudflare wherever a zone and a hostname are configured,
	// below the cdn rung too.
	SPAEdge: func(c *Config) bool { return c.Edge.ZoneID != "" && c.Edge.Domain != "" },
	// The servers ladder owns the app's hostname from the first rung wherever one is
	// configured: a DNS-only record and certificates for the box and the load balancer, the
	// same record proxied from the cdn rung on.
	Hostname: func(c *Config) bool { return c.Edge.ZoneID != "" && c.Edge.Domain != "" },
}

// layersFor returns the layers a configured stage has (its ladder's, less those config does
// not allow) and those it retired.
func layersFor(c *Config) (present, retired Layers) {
	present, _ = LayersOf(c.Platform, c.Stage)
	for l, allowed := range allowedBy {
		if present[l] && !allowed(c) {
			present[l] = false
		}
	}
	return present, RetiredOf(c.Platform, c.Stage)
}

// LoadConfig reads the stack's configuration from the Pulumi context.
func LoadConfig(ctx *pulumi.Context) (*Config, error) {
	return ParseConfig(ctx.GetConfig)
}

// RDSNeeds counts the DB clusters and DB instances (Aurora's included) the stage creates, for
// the region's RDS quotas.
func (c *Config) RDSNeeds() (clusters, instances int) {
	if c.Has(Database) {
		instances++
	}
	if c.Has(ServerlessD) {
		clusters, instances = clusters+1, instances+1
	}
	if c.Has(Replicas) {
		instances += c.Database.Replicas
	}
	if c.Has(Shards) {
		clusters += c.Shards.Count
		instances += c.Shards.Count * (1 + c.Shards.Readers)
	}
	return clusters, instances
}

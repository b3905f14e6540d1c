package stacks

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/release"
	"github.com/llama-stages/llama/suggest"
)

// Namespace is the config namespace and the Pulumi project name.
const Namespace = "llama"

// Table is one DynamoDB table of llama:tables.
type Table struct {
	Name         string
	PartitionKey string
	SortKey      string // optional
	TTLAttribute string // optional
}

// Config is the stack's validated configuration. Every field is set: defaults are applied.
type Config struct {
	Stage    string
	Platform Platform
	Layers   Layers // what the stage has, derived from the ladder

	Protect          bool
	VpcCidr          netip.Prefix
	AzCount          int
	NatPerAz         bool
	InstanceType     string
	AppPackage       string
	LogRetentionDays int
	CertificateArn   string

	MinServers, DesiredServers, MaxServers int

	DBEngineVersion     string
	DBInstanceClass     string
	DBStorageGb         int
	DBMaxStorageGb      int
	DBMultiAz           bool
	BackupRetentionDays int
	SlowQueryMs         int
	Replicas            int

	CacheEngine   string
	CacheNodeType string
	CacheNodes    int

	CloudflareZoneID string
	Domain           string

	Shards             int
	ShardReaders       int
	ShardInstanceClass string
	Tables             []Table

	MinAcu, MaxAcu float64
	LambdaMemory   int
	LambdaTimeout  int

	DBClusterQuota, DBInstanceQuota int

	AlertEmail           string
	LatencyP95Ms         int
	ErrorRatePercent     int
	DBConnectionsPercent int
	DBLatencyP95Ms       int
	ReplicaLagSeconds    int
	CacheMemoryPercent   int
}

// Has reports whether the stage has a layer.
func (c *Config) Has(l Layer) bool { return c.Layers[l] }

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

// LogRetentions are the retention periods CloudWatch Logs accepts, in days.
var LogRetentions = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

var (
	reInstanceType = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
	reDBClass      = regexp.MustCompile(`^db\.[a-z][a-z0-9-]*\.[a-z0-9]+$`)
	reCacheClass   = regexp.MustCompile(`^cache\.[a-z][a-z0-9-]*\.[a-z0-9]+$`)
	reEngineVer    = regexp.MustCompile(`^[0-9]{2}$`)
	reCertArn      = regexp.MustCompile(`^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]{36}$`)
	reZoneID       = regexp.MustCompile(`^[0-9a-f]{32}$`)
	reHostname     = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	reEmail        = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	reTableName    = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,200}$`)
	reAttrName     = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,255}$`)
)

// reader reads raw config values and collects every mistake.
type reader struct {
	get  func(key string) (string, bool)
	errs []error
}

func (r *reader) raw(name string) string {
	k, declared := KeyNamed(name)
	if !declared {
		r.errs = append(r.errs, fmt.Errorf("%s:%s is read but not declared in stacks.Keys", Namespace, name))
	}
	if v, ok := r.get(Namespace + ":" + name); ok {
		return v
	}
	return k.Default
}

func (r *reader) fail(name, value, allowed string) {
	r.errs = append(r.errs, &ConfigError{Key: Namespace + ":" + name, Value: value, Allowed: allowed})
}

func (r *reader) str(name string) string { return strings.TrimSpace(r.raw(name)) }

func (r *reader) oneOf(name string, allowed ...string) string {
	v := r.str(name)
	if !slices.Contains(allowed, v) {
		r.fail(name, v, strings.Join(allowed, ", "))
	}
	return v
}

func (r *reader) match(name string, re *regexp.Regexp, allowed string) string {
	v := r.str(name)
	if v != "" && !re.MatchString(v) {
		r.fail(name, v, allowed)
	}
	return v
}

// intIn reads a whole number in lo..hi; why, when given, says why the range is what it is.
func (r *reader) intIn(name string, lo, hi int, why ...string) int {
	v := r.str(name)
	allowed := fmt.Sprintf("a whole number from %d to %d", lo, hi)
	if len(why) > 0 {
		allowed += ": " + strings.Join(why, "; ")
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		r.fail(name, v, allowed)
		return lo
	}
	if n < lo || n > hi {
		r.fail(name, v, allowed)
	}
	return n
}

func (r *reader) boolean(name string, def bool) bool {
	v := r.str(name)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, v, "true or false")
		return def
	}
	return b
}

func (r *reader) acu(name string, lo float64) float64 {
	v := r.str(name)
	f, err := strconv.ParseFloat(v, 64)
	allowed := fmt.Sprintf("a number from %g to 256 in steps of 0.5", lo)
	if err != nil || math.IsNaN(f) || f < lo || f > 256 || math.Mod(f*2, 1) != 0 {
		r.fail(name, v, allowed)
		return lo
	}
	return f
}

// ParseConfig reads and validates the stack's configuration. get returns a raw value by its
// namespaced key (llama:stage) and whether it is set; unset keys take the declared defaults.
// Every mistake is reported, each naming its key.
func ParseConfig(get func(key string) (string, bool)) (*Config, error) {
	r := &reader{get: get}
	c := &Config{}

	c.Platform = Platform(r.oneOf("platform", string(Servers), string(Serverless)))
	c.Stage = r.str("stage")
	if _, ok := Find(c.Platform, c.Stage); !ok && slices.Contains(Platforms, c.Platform) {
		allowed := fmt.Sprintf("a rung of the %s ladder: %s", c.Platform, strings.Join(StageNames(c.Platform), ", "))
		if other := otherLadder(c.Platform, c.Stage); other != "" {
			allowed = fmt.Sprintf("%s (%q is a rung of the %s ladder only; on the %s ladder, %s takes its place; or set llama:platform to %s)",
				allowed, c.Stage, other, c.Platform, counterpart(c.Platform), other)
		} else {
			var all []string
			for _, r := range Ladder {
				all = append(all, r.Stage)
			}
			allowed += suggest.DidYouMean(c.Stage, all)
		}
		r.fail("stage", c.Stage, allowed)
	} else if ok {
		c.Layers, _ = LayersOf(c.Platform, c.Stage)
	}

	c.Protect = r.boolean("protect", true)
	cidr := r.str("vpcCidr")
	if p, err := netip.ParsePrefix(cidr); err != nil || !p.Addr().Is4() || p.Bits() != 16 || p.Masked() != p {
		r.fail("vpcCidr", cidr, "an IPv4 /16 network such as 10.0.0.0/16")
	} else {
		c.VpcCidr = p
	}
	c.AzCount = r.intIn("azCount", 2, 6)
	c.NatPerAz = r.oneOf("natMode", "per-az", "single") == "per-az"
	c.InstanceType = r.match("instanceType", reInstanceType, "an EC2 instance type such as t3.small")
	if c.InstanceType == "" {
		r.fail("instanceType", "", "an EC2 instance type such as t3.small")
	}
	c.AppPackage = r.str("appPackage")
	if !release.ValidPackage(c.AppPackage) {
		r.fail("appPackage", c.AppPackage, "a Go package path inside this module, such as ./cmd/llama-app")
	}
	c.LogRetentionDays = r.intIn("logRetentionDays", 1, 3653)
	if !slices.Contains(LogRetentions, c.LogRetentionDays) {
		r.fail("logRetentionDays", r.str("logRetentionDays"), fmt.Sprint("one of ", LogRetentions))
	}
	c.CertificateArn = r.match("certificateArn", reCertArn, "an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<uuid>) or empty")

	c.MinServers = r.intIn("minServers", 1, 100)
	c.DesiredServers = r.intIn("desiredServers", 1, 100)
	c.MaxServers = r.intIn("maxServers", 2, 100)
	if c.DesiredServers < c.MinServers || c.DesiredServers > c.MaxServers {
		r.fail("desiredServers", r.str("desiredServers"), fmt.Sprintf("between llama:minServers (%d) and llama:maxServers (%d)", c.MinServers, c.MaxServers))
	}

	// A major version only: minor versions upgrade automatically, and a pinned minor would ask
	// RDS for a downgrade once AWS has upgraded past it (the engine-version-pin rule).
	c.DBEngineVersion = r.match("dbEngineVersion", reEngineVer, "a PostgreSQL major version (13 or later) such as 16, without a minor: minor versions upgrade automatically, and a pinned minor would later be a downgrade RDS refuses")
	if major, _ := strconv.Atoi(strings.Split(c.DBEngineVersion, ".")[0]); major < 13 {
		r.fail("dbEngineVersion", c.DBEngineVersion, "a PostgreSQL major version 13 or later, such as 16")
	}
	c.DBInstanceClass = r.match("dbInstanceClass", reDBClass, "an RDS instance class such as db.t4g.medium")
	c.DBStorageGb = r.intIn("dbStorageGb", 20, 65536)
	c.DBMaxStorageGb = r.intIn("dbMaxStorageGb", 21, 65536)
	if c.DBMaxStorageGb <= c.DBStorageGb {
		r.fail("dbMaxStorageGb", r.str("dbMaxStorageGb"), fmt.Sprintf("more than llama:dbStorageGb (%d)", c.DBStorageGb))
	}
	c.DBMultiAz = r.boolean("dbMultiAz", c.Protect)
	c.Replicas = r.intIn("replicas", 0, 15)
	var backupsWhy []string
	if c.Has(Replicas) {
		backupsWhy = append(backupsWhy, "read replicas need automated backups on their source")
	}
	c.BackupRetentionDays = r.intIn("backupRetentionDays", 1, 35, backupsWhy...)
	c.SlowQueryMs = r.intIn("slowQueryMs", 1, 600000)

	c.CacheEngine = r.oneOf("cacheEngine", "valkey", "redis")
	c.CacheNodeType = r.match("cacheNodeType", reCacheClass, "an ElastiCache node type such as cache.t4g.small")
	c.CacheNodes = r.intIn("cacheNodes", 2, 6)

	c.CloudflareZoneID = r.match("cloudflareZoneId", reZoneID, "a Cloudflare zone ID: 32 lowercase hex characters")
	c.Domain = r.match("domain", reHostname, "a lowercase hostname inside the Cloudflare zone, such as app.example.com")
	if c.Has(CDN) {
		if r.str("cloudflareZoneId") == "" {
			r.fail("cloudflareZoneId", "", fmt.Sprintf("a Cloudflare zone ID (32 hex characters): required from the cdn rung on (stage %s)", c.Stage))
		}
		if r.str("domain") == "" {
			r.fail("domain", "", fmt.Sprintf("the app's hostname in the Cloudflare zone: required from the cdn rung on (stage %s)", c.Stage))
		}
	}

	// The sharded rung needs a shard; past it, 0 takes the NoSQL offload without sharding
	// (the guide: "instead of sharding, migrate a subset of data to NoSQL").
	c.Shards = r.intIn("shards", 0, 64, "0 only past the sharded rung: the NoSQL offload without shards")
	if c.Shards == 0 && c.Stage == "sharded" {
		r.fail("shards", "0", "a whole number from 1 to 64 on the sharded rung (0 shards is the nosql rung without sharding)")
	}
	c.ShardReaders = r.intIn("shardReaders", 0, 15)
	c.ShardInstanceClass = r.match("shardInstanceClass", reDBClass, "an Aurora instance class such as db.r6g.large")
	c.Tables = r.tables()

	c.MinAcu = r.acu("minAcu", 0)
	c.MaxAcu = r.acu("maxAcu", 1)
	if c.MinAcu > c.MaxAcu {
		r.fail("minAcu", r.str("minAcu"), fmt.Sprintf("at most llama:maxAcu (%g)", c.MaxAcu))
	}
	c.LambdaMemory = r.intIn("lambdaMemory", 128, 10240)
	c.LambdaTimeout = r.intIn("lambdaTimeout", 1, 29)

	c.DBClusterQuota = r.intIn("dbClusterQuota", 1, 10000)
	c.DBInstanceQuota = r.intIn("dbInstanceQuota", 1, 10000)
	if clusters, instances := c.RDSNeeds(); clusters > c.DBClusterQuota || instances > c.DBInstanceQuota {
		// RDS's default quotas are 40 DB clusters and 40 DB instances a region (RDS User
		// Guide, "Quotas in Amazon RDS"); past them pulumi up fails midway.
		why := fmt.Sprintf("stage %s needs %d DB clusters and %d DB instances; raise the region's RDS quotas in Service Quotas, then declare them", c.Stage, clusters, instances)
		if clusters > c.DBClusterQuota {
			r.fail("dbClusterQuota", r.str("dbClusterQuota"), fmt.Sprintf("at least %d: %s", clusters, why))
		}
		if instances > c.DBInstanceQuota {
			r.fail("dbInstanceQuota", r.str("dbInstanceQuota"), fmt.Sprintf("at least %d: %s", instances, why))
		}
	}
	c.AlertEmail = r.match("alertEmail", reEmail, "an email address or empty")
	c.LatencyP95Ms = r.intIn("latencyP95Ms", 10, 60000)
	c.ErrorRatePercent = r.intIn("errorRatePercent", 1, 100)
	c.DBConnectionsPercent = r.intIn("dbConnectionsPercent", 10, 100)
	c.DBLatencyP95Ms = r.intIn("dbLatencyP95Ms", 1, 60000)
	c.ReplicaLagSeconds = r.intIn("replicaLagSeconds", 1, 86400)
	c.CacheMemoryPercent = r.intIn("cacheMemoryPercent", 10, 100)

	if len(r.errs) > 0 {
		return nil, fmt.Errorf("invalid configuration: %w", errors.Join(r.errs...))
	}
	return c, nil
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

func (r *reader) tables() []Table {
	v := r.str("tables")
	const allowed = "comma-separated name:partitionKey[:sortKey[:ttlAttribute]], table names 3..200 of A-Z a-z 0-9 _ . -, attribute names 1..255 of the same, no table twice"
	var out []Table
	seen := map[string]bool{}
	for _, spec := range strings.Split(v, ",") {
		parts := strings.Split(strings.TrimSpace(spec), ":")
		if len(parts) < 2 || len(parts) > 4 || !reTableName.MatchString(parts[0]) || seen[parts[0]] {
			r.fail("tables", v, allowed)
			return nil
		}
		for i, a := range parts[1:] {
			if (i == 0 || a != "") && !reAttrName.MatchString(a) {
				r.fail("tables", v, allowed)
				return nil
			}
		}
		seen[parts[0]] = true
		t := Table{Name: parts[0], PartitionKey: parts[1]}
		if len(parts) > 2 {
			t.SortKey = parts[2]
		}
		if len(parts) > 3 {
			t.TTLAttribute = parts[3]
		}
		out = append(out, t)
	}
	return out
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
		instances += c.Replicas
	}
	if c.Has(Shards) {
		clusters += c.Shards
		instances += c.Shards * (1 + c.ShardReaders)
	}
	return clusters, instances
}

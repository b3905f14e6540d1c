package stacks

import (
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/llama-stages/llama/components/release"
)

// Key declares one `llama:` config key, the one place each fact about it lives: its Pulumi
// type, default, what it allows, what it is for, the Config field it fills and the layers
// that use it. Pulumi.yaml's config block is generated from this table (ConfigYAML; a test
// holds them together and rewrites Pulumi.yaml with -update).
type Key struct {
	Name        string // without the llama: namespace
	Type        string // Pulumi.yaml type: string, integer or boolean
	Default     string // "" means no default (the key is optional or follows another)
	Description string
	// Parse checks a raw value (defaults applied, spaces trimmed) and converts it; when the
	// value is not valid it returns what is allowed instead.
	Parse func(raw string) (value any, allowed string)
	// Set stores the parsed value in its Config field.
	Set func(c *Config, v any)
	// UsedBy are the layers that read the key: it takes effect on a stage that has any of
	// them. Nil means every stage.
	UsedBy []Layer
	// Only names the one ladder that reads the key; "" means both.
	Only Platform
}

// Keys is every config key the program reads, in Pulumi.yaml's order.
var Keys = []Key{
	{"stage", "string", Ladder[0].Stage, stageDescription(),
		text(), func(c *Config, v any) { c.Stage = v.(string) }, nil, ""},
	{"platform", "string", "servers", "Which ladder: servers (traditional build-out) or serverless (Lambda + API Gateway + Aurora Serverless v2).",
		oneOf(string(Servers), string(Serverless)), func(c *Config, v any) { c.Platform = Platform(v.(string)) }, nil, ""},
	{"protect", "boolean", "true", "Protect stateful resources (pulumi protect, deletion protection). Turn off only on throwaway dev stacks.",
		boolean(), func(c *Config, v any) { c.Protect = v.(bool) }, nil, ""},
	{"vpcCidr", "string", "10.0.0.0/16", "The VPC's IPv4 range; must be a /16.",
		cidr16, func(c *Config, v any) { c.Network.Cidr = v.(netip.Prefix) }, nil, ""},
	{"azCount", "integer", "2", "Availability zones to spread over: at least 2, at most what the region offers.",
		intIn(2, 6), func(c *Config, v any) { c.Network.AZCount = v.(int) }, nil, ""},
	{"natMode", "string", "per-az", "NAT gateways for the private subnets: per-az (one per AZ, survives an AZ outage) or single (cheaper).",
		oneOf("per-az", "single"), func(c *Config, v any) { c.Network.NatPerAz = v.(string) == "per-az" }, []Layer{Fleet, Functions}, ""},
	{"instanceType", "string", "t3.small", "EC2 instance type of the box and of the fleet; its architecture (Graviton families such as t4g are arm64) picks the AMI and the app's build.",
		required(reInstanceType, "an EC2 instance type built on the Nitro System, such as t3.small or m7g.large: the box needs EBS as NVMe and EBS optimisation, which t2, m4, c4, r4 and other Xen types lack"), func(c *Config, v any) { c.Servers.InstanceType = v.(string) }, []Layer{Box, Fleet}, Servers},
	{"appPackage", "string", "./cmd/llama-app", "Go package of this repository the stack builds and runs on every rung: under systemd behind nginx on the box and the fleet, as the Lambda function on the serverless ladder.",
		goPackage, func(c *Config, v any) { c.AppPackage = v.(string) }, nil, ""},
	{"logRetentionDays", "integer", "90", "Retention of every log group the stack creates (a value CloudWatch accepts).",
		logRetention, func(c *Config, v any) { c.LogRetentionDays = v.(int) }, nil, ""},
	{"certificateArn", "string", "", "ACM certificate for the load balancer's HTTPS listener (HTTP then redirects to HTTPS). Empty: with llama:domain one is issued and validated through Cloudflare; this wins when set.",
		optional(reCertArn, "an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<uuid>) or empty"), func(c *Config, v any) { c.CertificateArn = v.(string) }, []Layer{Fleet, CDN}, ""},
	{"minServers", "integer", "2", "Fleet minimum size (load-balanced on).",
		intIn(1, 100), func(c *Config, v any) { c.Servers.Min = v.(int) }, []Layer{Fleet}, ""},
	{"desiredServers", "integer", "2", "Fleet desired size when the group is created: min <= desired <= max. After that, target tracking owns it (an up leaves it alone).",
		intIn(1, 100), func(c *Config, v any) { c.Servers.Desired = v.(int) }, []Layer{Fleet}, ""},
	{"maxServers", "integer", "6", "Fleet maximum size: at least 2.",
		intIn(2, 100), func(c *Config, v any) { c.Servers.Max = v.(int) }, []Layer{Fleet}, ""},
	// A major version only: minor versions upgrade automatically, and a pinned minor would ask
	// RDS for a downgrade once AWS has upgraded past it (the engine-version-pin rule).
	{"dbEngineVersion", "string", "16", "RDS PostgreSQL major version; minor versions upgrade automatically in the maintenance window.",
		engineMajor, func(c *Config, v any) { c.Database.EngineVersion = v.(string) }, []Layer{Database}, ""},
	{"dbInstanceClass", "string", "db.t4g.medium", "RDS instance class of the primary and its replicas.",
		required(reDBClass, "an RDS for PostgreSQL instance class such as db.t4g.medium or db.m7g.large"), func(c *Config, v any) { c.Database.InstanceClass = v.(string) }, []Layer{Database}, ""},
	{"dbStorageGb", "integer", "20", "Initial gp3 storage of the primary in GiB (20..65536).",
		intIn(20, 65536), func(c *Config, v any) { c.Database.StorageGb = v.(int) }, []Layer{Database}, ""},
	{"dbMaxStorageGb", "integer", "200", "Storage autoscaling ceiling in GiB (above dbStorageGb).",
		intIn(21, 65536), func(c *Config, v any) { c.Database.MaxStorageGb = v.(int) }, []Layer{Database}, ""},
	{"dbMultiAz", "string", "", "Multi-AZ primary: true or false; empty follows llama:protect (on outside dev).",
		oneOf("", "true", "false"), func(c *Config, v any) { c.Database.multiAz = v.(string) }, []Layer{Database}, ""},
	{"backupRetentionDays", "integer", "7", "Automated backup retention of databases, 1..35 days (replicas need backups on).",
		intIn(1, 35, "read replicas need automated backups on their source"), func(c *Config, v any) { c.Database.BackupRetentionDays = v.(int) }, []Layer{Database, ServerlessD, Shards}, ""},
	{"slowQueryMs", "integer", "500", "Statements slower than this many milliseconds are logged (log_min_duration_statement) and counted as slow queries.",
		intIn(1, 600000), func(c *Config, v any) { c.Database.SlowQueryMs = v.(int) }, nil, ""},
	{"replicas", "integer", "2", "RDS read replicas (servers) or Aurora readers (serverless) from the replicas rung on, 0..15.",
		intIn(0, 15), func(c *Config, v any) { c.Database.Replicas = v.(int) }, []Layer{Replicas}, ""},
	{"cacheEngine", "string", "valkey", "ElastiCache engine: valkey or redis.",
		oneOf("valkey", "redis"), func(c *Config, v any) { c.Cache.Engine = v.(string) }, []Layer{Cache}, ""},
	{"cacheNodeType", "string", "cache.t4g.small", "ElastiCache node type.",
		required(reCacheClass, "an ElastiCache node type such as cache.t4g.small"), func(c *Config, v any) { c.Cache.NodeType = v.(string) }, []Layer{Cache}, ""},
	{"cacheNodes", "integer", "2", "Cache nodes (primary plus replicas), 2..6: failover needs at least 2.",
		intIn(2, 6), func(c *Config, v any) { c.Cache.Nodes = v.(int) }, []Layer{Cache}, ""},
	{"cloudflareZoneId", "string", "", "Cloudflare zone ID (32 hex characters) holding llama:domain: set both on any rung (the stack then owns the hostname's record and serves HTTPS from the first rung); required from the cdn rung on.",
		optional(reZoneID, "a Cloudflare zone ID: 32 lowercase hex characters"), func(c *Config, v any) { c.Edge.ZoneID = v.(string) }, []Layer{CDN, SPAEdge, Hostname}, ""},
	{"domain", "string", "", "The app's hostname inside the Cloudflare zone, e.g. app.example.com: set it with llama:cloudflareZoneId on any rung (the stack then owns its record and serves HTTPS from the first rung); required from the cdn rung on.",
		optional(reHostname, "a lowercase hostname inside the Cloudflare zone, such as app.example.com"), func(c *Config, v any) { c.Edge.Domain = v.(string) }, []Layer{CDN, SPAEdge, Hostname}, ""},
	{"cloudflareZone", "string", "", "The Cloudflare zone's name, where it is not the registrable domain of llama:domain (a subdomain zone such as dev.example.com); empty: the registrable domain, by the Public Suffix List.",
		optional(reHostname, "a lowercase zone name such as dev.example.com, or empty"), func(c *Config, v any) { c.Edge.Zone = v.(string) }, []Layer{CDN, SPAEdge, Hostname}, ""},
	{"cloudflarePlan", "string", "free", "The Cloudflare zone's plan: free, pro, business or enterprise. The edge uses what every plan offers; the plan refuses a rule setting its plan lacks (Origin Rules' Host header, SNI and DNS record overrides are Enterprise only).",
		oneOf("free", "pro", "business", "enterprise"), func(c *Config, v any) { c.Edge.Plan = v.(string) }, []Layer{CDN, SPAEdge}, ""},
	{"cloudflareCertificate", "string", "universal", "The edge certificate the Cloudflare zone has: universal (the free Universal SSL, which covers the zone's apex and one label below it) or advanced (Advanced Certificate Manager, ordered on the zone, covering deeper names such as static.app.example.com; llama cost prices it). A hostname the declared certificate does not cover is refused.",
		oneOf("universal", "advanced"), func(c *Config, v any) { c.Edge.Certificate = v.(string) }, []Layer{CDN, SPAEdge}, ""},
	{"acmeDirectory", "string", LetsEncrypt, "The ACME directory the box obtains its certificate from (llama:domain set): Let's Encrypt by default; a staging CA, or a team's own, by its directory URL.",
		required(reHTTPSURL, "an https:// URL of an ACME directory, such as https://acme-staging-v02.api.letsencrypt.org/directory"), func(c *Config, v any) { c.Edge.ACMEDirectory = v.(string) }, []Layer{Box}, Servers},
	// The sharded rung needs a shard; past it, 0 takes the NoSQL offload without sharding
	// (the guide: "instead of sharding, migrate a subset of data to NoSQL").
	{"shards", "integer", "2", "Aurora clusters, one per shard, from the sharded rung on: 1..64; 0 on the nosql rung takes the NoSQL offload without sharding. Lowering it deletes shards (refused while protected).",
		intIn(0, 64, "0 only past the sharded rung: the NoSQL offload without shards"), func(c *Config, v any) { c.Shards.Count = v.(int) }, []Layer{Shards}, ""},
	{"shardReaders", "integer", "1", "Reader instances per shard, 0..15.",
		intIn(0, 15), func(c *Config, v any) { c.Shards.Readers = v.(int) }, []Layer{Shards}, ""},
	{"shardInstanceClass", "string", "db.r6g.large", "Instance class of the provisioned Aurora shards (servers ladder).",
		required(reAuroraClass, "an Aurora PostgreSQL instance class such as db.r6g.large (db.t3 and db.t4g from medium)"), func(c *Config, v any) { c.Shards.InstanceClass = v.(string) }, []Layer{Shards}, Servers},
	{"tables", "string", "activity:userId:createdAt:expiresAt", "DynamoDB tables, comma-separated, each name:partitionKey[:sortKey[:ttlAttribute]].",
		tables, func(c *Config, v any) { c.Tables = v.([]Table) }, []Layer{Tables}, ""},
	{"moved", "string", "", "Live moves done, comma-separated: db (the box's PostgreSQL to RDS), traffic (DNS from the box to the load balancer), edge (clients from the load balancer or the API's own URL to Cloudflare), shards, activity. Each data move is recorded by `llama-app move <tier>` (traffic and edge are yours to declare once DNS has moved); listing it lets the next pulumi up retire the old tier. Until then the old tier stays and takes the app's traffic.",
		movedList, func(c *Config, v any) { c.Moves.Moved = v.(map[string]bool) }, []Layer{Database, Fleet, Shards, Tables}, ""},
	{"shardsFrom", "string", "", "The shard count the app serves from while a shard move to llama:shards runs (set it to the old count when raising llama:shards; remove it, with shards in llama:moved, once the move is recorded). Empty: no shard growth under way.",
		optionalInt(1, 64), func(c *Config, v any) { c.Moves.ShardsFrom = v.(int) }, []Layer{Shards}, ""},
	{"minAcu", "string", "0.5", "Aurora Serverless v2 minimum capacity in ACUs: 0..256 in 0.5 steps.",
		acu(0), func(c *Config, v any) { c.Serverless.MinAcu = v.(float64) }, []Layer{ServerlessD}, ""},
	{"maxAcu", "string", "8", "Aurora Serverless v2 maximum capacity in ACUs: 1..256 in 0.5 steps, at least minAcu.",
		acu(1), func(c *Config, v any) { c.Serverless.MaxAcu = v.(float64) }, []Layer{ServerlessD}, ""},
	{"lambdaMemory", "integer", "512", "Lambda memory in MB: 128..10240.",
		intIn(128, 10240), func(c *Config, v any) { c.Serverless.LambdaMemory = v.(int) }, []Layer{Functions}, ""},
	{"lambdaTimeout", "integer", "10", "Lambda timeout in seconds: 1..29 (the HTTP API's integration limit is 30).",
		intIn(1, 29), func(c *Config, v any) { c.Serverless.LambdaTimeout = v.(int) }, []Layer{Functions}, ""},
	{"maxFunctionConcurrency", "integer", "900", "The most sandboxes of the function the sharded rung lets run at once: its reserved concurrency is this or what the shard writers' connections allow, the lower. 900 is an account's default 1,000 less the 100 Lambda keeps unreserved; raise it after raising the account's limit.",
		intIn(1, 100000), func(c *Config, v any) { c.Serverless.MaxConcurrency = v.(int) }, []Layer{Shards}, Serverless},
	{"dbClusterQuota", "integer", "40", "The region's RDS quota of DB clusters for the account (40 by default; raise it in Service Quotas first): the plan refuses a stage that needs more.",
		intIn(1, 10000), func(c *Config, v any) { c.Quotas.DBClusters = v.(int) }, nil, ""},
	{"dbInstanceQuota", "integer", "40", "The region's RDS quota of DB instances for the account, Aurora's included (40 by default; raise it in Service Quotas first): the plan refuses a stage that needs more.",
		intIn(1, 10000), func(c *Config, v any) { c.Quotas.DBInstances = v.(int) }, nil, ""},
	{"alertEmail", "string", "", "Email address subscribed to the alarm topic; none when empty.",
		optional(reEmail, "an email address or empty"), func(c *Config, v any) { c.Alarms.Email = v.(string) }, nil, ""},
	{"latencyP95Ms", "integer", "1000", "Alarm when the app's p95 response time stays above this many milliseconds.",
		intIn(10, 60000), func(c *Config, v any) { c.Alarms.LatencyP95Ms = v.(int) }, nil, ""},
	{"errorRatePercent", "integer", "5", "Alarm when the app's 5xx error rate stays above this percentage.",
		intIn(1, 100), func(c *Config, v any) { c.Alarms.ErrorRatePercent = v.(int) }, nil, ""},
	{"dbLatencyP95Ms", "integer", "50", "Alarm when a database's p95 read or write latency stays above this many milliseconds.",
		intIn(1, 60000), func(c *Config, v any) { c.Alarms.DBLatencyP95Ms = v.(int) }, nil, ""},
	{"dbConnectionsPercent", "integer", "80", "Alarm when database connections exceed this percentage of the instance's limit.",
		intIn(10, 100), func(c *Config, v any) { c.Alarms.DBConnectionsPercent = v.(int) }, nil, ""},
	{"replicaLagSeconds", "integer", "30", "Alarm when a replica lags the primary by more than this many seconds.",
		intIn(1, 86400), func(c *Config, v any) { c.Alarms.ReplicaLagSeconds = v.(int) }, []Layer{Replicas, Shards}, ""},
	{"cacheMemoryPercent", "integer", "80", "Alarm when cache memory use exceeds this percentage.",
		intIn(10, 100), func(c *Config, v any) { c.Alarms.CacheMemoryPercent = v.(int) }, []Layer{Cache}, ""},
}

// stageDescription lists the rungs of each ladder, from the ladder table.
func stageDescription() string {
	var parts []string
	for _, p := range Platforms {
		parts = append(parts, string(p)+": "+strings.Join(StageNames(p), ", "))
	}
	return "Rung of the ladder: " + strings.Join(parts, "; ") + "."
}

// KeyNamed returns the declaration of a key.
func KeyNamed(name string) (Key, bool) {
	for _, k := range Keys {
		if k.Name == name {
			return k, true
		}
	}
	return Key{}, false
}

// ConfigYAML renders Pulumi.yaml's config block from the key table.
func ConfigYAML() string {
	var b strings.Builder
	b.WriteString("config:\n")
	for _, k := range Keys {
		def := strconv.Quote(k.Default)
		if k.Type != "string" {
			def = k.Default
		}
		fmt.Fprintf(&b, "  %s:%s:\n    type: %s\n    description: %s\n    default: %s\n", Namespace, k.Name, k.Type, strconv.Quote(k.Description), def)
	}
	return b.String()
}

// The parsers of the key table.

// LogRetentions are the retention periods CloudWatch Logs accepts, in days.
var LogRetentions = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

var (
	// EC2 instance types built on the Nitro System (EC2 User Guide, "Instances built on the
	// AWS Nitro System"): the box's boot script finds its data volume as an NVMe device and the
	// instance is EBS-optimised, which Xen types (t2, m4, c4, r4, i3, x1 and older) are not.
	reInstanceType = regexp.MustCompile(`^(t3a?|t4g|[mcr][5-8][a-z0-9-]*|x2[a-z0-9]*|z1d|i[3-8][a-z0-9]+|d3[a-z]*|[gp][4-6][a-z0-9]*|inf[12]|trn[12][a-z]*|hpc[67][a-z0-9]*|im4gn|is4gen|a1)\.(nano|micro|small|medium|large|[0-9]*xlarge|metal(-[0-9]+xl)?)$`)
	// RDS for PostgreSQL's instance classes (RDS User Guide, "Supported DB engines for DB
	// instance classes"): burstable t3/t4g, general purpose m5 to m8, memory optimised r5 to
	// r8 and x2, in the sizes RDS sells.
	reDBClass = regexp.MustCompile(`^db\.(t3|t4g|[mr][5-8][a-z0-9]*|x2[a-z0-9]*|c6gd)\.(micro|small|medium|large|[0-9]*xlarge)$`)
	// Aurora PostgreSQL's provisioned classes (Aurora User Guide, "Supported DB engines for DB
	// instance classes"): t3/t4g from medium, r5 to r8, x2g.
	reAuroraClass = regexp.MustCompile(`^db\.(t3|t4g|r[5-8][a-z0-9]*|x2g)\.(medium|large|[0-9]*xlarge)$`)
	reCacheClass  = regexp.MustCompile(`^cache\.[a-z][a-z0-9-]*\.[a-z0-9]+$`)
	reEngineVer   = regexp.MustCompile(`^[0-9]{2}$`)
	reCertArn     = regexp.MustCompile(`^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]{36}$`)
	reZoneID      = regexp.MustCompile(`^[0-9a-f]{32}$`)
	reHostname    = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	reHTTPSURL    = regexp.MustCompile(`^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s]*)?$`)
	reEmail       = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	reTableName   = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,200}$`)
	reAttrName    = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,255}$`)
)

type parser = func(string) (any, string)

// text accepts any value.
// MoveTiers are what llama:moved may name, in the order a promotion meets them: the Moves
// table's.
var MoveTiers = func() []string {
	out := make([]string, len(Moves))
	for i, m := range Moves {
		out[i] = m.Tier
	}
	return out
}()

// movedList accepts a comma-separated set of move tiers.
func movedList(v string) (any, string) {
	out := map[string]bool{}
	for _, t := range strings.Split(v, ",") {
		if t = strings.TrimSpace(t); t == "" {
			continue
		}
		if !slices.Contains(MoveTiers, t) || out[t] {
			return nil, "comma-separated, each once: " + strings.Join(MoveTiers, ", ")
		}
		out[t] = true
	}
	return out, ""
}

// optionalInt accepts an empty value (0) or a whole number from lo to hi.
func optionalInt(lo, hi int) parser {
	return func(v string) (any, string) {
		if v == "" {
			return 0, ""
		}
		return intIn(lo, hi, "or empty")(v)
	}
}

func text() parser { return func(v string) (any, string) { return v, "" } }

func oneOf(allowed ...string) parser {
	return func(v string) (any, string) {
		if !slices.Contains(allowed, v) {
			return nil, strings.Join(allowed, ", ")
		}
		return v, ""
	}
}

func boolean() parser {
	return func(v string) (any, string) {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, "true or false"
		}
		return b, ""
	}
}

// intIn accepts a whole number in lo..hi; why, when given, says why the range is what it is.
func intIn(lo, hi int, why ...string) parser {
	return func(v string) (any, string) {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			allowed := fmt.Sprintf("a whole number from %d to %d", lo, hi)
			if len(why) > 0 {
				allowed += ": " + strings.Join(why, "; ")
			}
			return nil, allowed
		}
		return n, ""
	}
}

// optional accepts an empty value or one matching re.
func optional(re *regexp.Regexp, allowed string) parser {
	return func(v string) (any, string) {
		if v != "" && !re.MatchString(v) {
			return nil, allowed
		}
		return v, ""
	}
}

// required accepts a value matching re.
func required(re *regexp.Regexp, allowed string) parser {
	return func(v string) (any, string) {
		if !re.MatchString(v) {
			return nil, allowed
		}
		return v, ""
	}
}

// acu accepts Aurora capacity units: lo..256 in steps of 0.5.
func acu(lo float64) parser {
	return func(v string) (any, string) {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || f < lo || f > 256 || math.Mod(f*2, 1) != 0 {
			return nil, fmt.Sprintf("a number from %g to 256 in steps of 0.5", lo)
		}
		return f, ""
	}
}

func cidr16(v string) (any, string) {
	p, err := netip.ParsePrefix(v)
	if err != nil || !p.Addr().Is4() || p.Bits() != 16 || p.Masked() != p {
		return nil, "an IPv4 /16 network such as 10.0.0.0/16"
	}
	return p, ""
}

func goPackage(v string) (any, string) {
	if !release.ValidPackage(v) {
		return nil, "a Go package path inside this module, such as ./cmd/llama-app"
	}
	return v, ""
}

func logRetention(v string) (any, string) {
	n, err := strconv.Atoi(v)
	if err != nil || !slices.Contains(LogRetentions, n) {
		return nil, fmt.Sprint("one of ", LogRetentions)
	}
	return n, ""
}

// MinPostgresMajor is the oldest PostgreSQL the app's driver supports (lib/pq 1.11 and later
// support PostgreSQL 14 and newer; RDS's standard support for 13 has ended as well).
const MinPostgresMajor = 14

func engineMajor(v string) (any, string) {
	allowed := fmt.Sprintf("a PostgreSQL major version (%d or later: the app's driver, lib/pq, supports no older one) such as 16, without a minor: minor versions upgrade automatically, and a pinned minor would later be a downgrade RDS refuses", MinPostgresMajor)
	if major, err := strconv.Atoi(v); err != nil || !reEngineVer.MatchString(v) || major < MinPostgresMajor {
		return nil, allowed
	}
	return v, ""
}

func tables(v string) (any, string) {
	const allowed = "comma-separated name:partitionKey[:sortKey[:ttlAttribute]], table names 3..200 of A-Z a-z 0-9 _ . -, attribute names 1..255 of the same, no table twice"
	var out []Table
	seen := map[string]bool{}
	for _, spec := range strings.Split(v, ",") {
		parts := strings.Split(strings.TrimSpace(spec), ":")
		if len(parts) < 2 || len(parts) > 4 || !reTableName.MatchString(parts[0]) || seen[parts[0]] {
			return nil, allowed
		}
		for i, a := range parts[1:] {
			if (i == 0 || a != "") && !reAttrName.MatchString(a) {
				return nil, allowed
			}
		}
		seen[parts[0]] = true
		parts = append(parts, "", "")
		out = append(out, Table{Name: parts[0], PartitionKey: parts[1], SortKey: parts[2], TTLAttribute: parts[3]})
	}
	return out, ""
}

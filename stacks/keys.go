package stacks

import (
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/llama-stages/llama/components/cache"
	"github.com/llama-stages/llama/components/compute"
	"github.com/llama-stages/llama/components/monitor"
	"github.com/llama-stages/llama/components/network"
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
	{Name: "stage", Type: "string", Default: Ladder[0].Stage, Description: stageDescription(),
		Parse: text(), Set: func(c *Config, v any) { c.Stage = v.(string) }},
	{Name: "platform", Type: "string", Default: "servers", Description: "Which ladder: servers (traditional build-out) or serverless (Lambda + API Gateway + Aurora Serverless v2).",
		Parse: oneOf(string(Servers), string(Serverless)), Set: func(c *Config, v any) { c.Platform = Platform(v.(string)) }},
	{Name: "protect", Type: "boolean", Default: "true", Description: "Protect stateful resources (pulumi protect, deletion protection). Turn off only on throwaway dev stacks.",
		Parse: boolean(), Set: func(c *Config, v any) { c.Protect = v.(bool) }},
	{Name: "vpcCidr", Type: "string", Default: "10.0.0.0/16", Description: "The VPC's IPv4 range; must be a /16.",
		Parse: cidr16, Set: func(c *Config, v any) { c.Network.Cidr = v.(netip.Prefix) }},
	{Name: "azCount", Type: "integer", Default: itoa(network.MinAZs), Description: fmt.Sprintf("Availability zones to spread over: %d to %d, and at most what the region offers.", network.MinAZs, network.MaxAZs),
		Parse: intIn(network.MinAZs, network.MaxAZs), Set: func(c *Config, v any) { c.Network.AZCount = v.(int) }},
	{Name: "natMode", Type: "string", Default: "per-az", Description: "NAT gateways for the fleet's private subnets: per-az (one per AZ, survives an AZ outage) or single (cheaper). The serverless ladder has none: its functions reach AWS's APIs through VPC endpoints.",
		Parse: oneOf("per-az", "single"), Set: func(c *Config, v any) { c.Network.NatPerAz = v.(string) == "per-az" }, UsedBy: []Layer{Fleet}, Only: Servers},
	{Name: "instanceType", Type: "string", Default: "t3.small", Description: "EC2 instance type of the box and of the fleet; its architecture (Graviton families such as t4g are arm64) picks the AMI and the app's build.",
		Parse: required(reInstanceType, "an EC2 instance type built on the Nitro System, such as t3.small or m7g.large: the box needs EBS as NVMe and EBS optimisation, which t2, m4, c4, r4 and other Xen types lack"), Set: func(c *Config, v any) { c.Servers.InstanceType = v.(string) }, UsedBy: []Layer{Box, Fleet}, Only: Servers},
	{Name: "appPackage", Type: "string", Default: release.DefaultPackage, Description: "Go package of this repository the stack builds and runs on every rung: under systemd behind nginx on the box and the fleet, as the Lambda function on the serverless ladder.",
		Parse: goPackage, Set: func(c *Config, v any) { c.AppPackage = v.(string) }},
	{Name: "logRetentionDays", Type: "integer", Default: itoa(monitor.DefaultLogRetentionDays), Description: "Retention of every log group the stack creates, in days (a value CloudWatch accepts; none keeps logs forever).",
		Parse: logRetention, Set: func(c *Config, v any) { c.LogRetentionDays = v.(int) }},
	{Name: "certificateArn", Type: "string", Default: "", Description: "ACM certificate for the load balancer's HTTPS listener (HTTP then redirects to HTTPS). Empty: with llama:domain one is issued and validated through Cloudflare; this wins when set.",
		Parse: optional(reCertArn, "an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<uuid>) or empty"), Set: func(c *Config, v any) { c.CertificateArn = v.(string) }, UsedBy: []Layer{Fleet, CDN}},
	{Name: "minServers", Type: "integer", Default: "2", Description: "Fleet minimum size (load-balanced on).",
		Parse: intIn(1, compute.MaxFleetSize), Set: func(c *Config, v any) { c.Servers.Min = v.(int) }, UsedBy: []Layer{Fleet}},
	{Name: "desiredServers", Type: "integer", Default: "2", Description: "Fleet desired size when the group is created: min <= desired <= max. After that, target tracking owns it (an up leaves it alone).",
		Parse: intIn(1, compute.MaxFleetSize), Set: func(c *Config, v any) { c.Servers.Desired = v.(int) }, UsedBy: []Layer{Fleet}},
	{Name: "maxServers", Type: "integer", Default: "6", Description: fmt.Sprintf("Fleet maximum size: %d to %d.", compute.MinFleetMax, compute.MaxFleetSize),
		Parse: intIn(compute.MinFleetMax, compute.MaxFleetSize), Set: func(c *Config, v any) { c.Servers.Max = v.(int) }, UsedBy: []Layer{Fleet}},
	// A major version only: minor versions upgrade automatically, and a pinned minor would ask
	// RDS for a downgrade once AWS has upgraded past it (the engine-version-pin rule).
	{Name: "dbEngineVersion", Type: "string", Default: "16", Description: "RDS PostgreSQL major version; minor versions upgrade automatically in the maintenance window.",
		Parse: engineMajor, Set: func(c *Config, v any) { c.Database.EngineVersion = v.(string) }, UsedBy: []Layer{Database}},
	{Name: "dbInstanceClass", Type: "string", Default: "db.t4g.medium", Description: "RDS instance class of the primary and its replicas.",
		Parse: required(reDBClass, "an RDS for PostgreSQL instance class such as db.t4g.medium or db.m7g.large"), Set: func(c *Config, v any) { c.Database.InstanceClass = v.(string) }, UsedBy: []Layer{Database}},
	{Name: "dbStorageGb", Type: "integer", Default: "20", Description: "Initial gp3 storage of the primary in GiB (20..65536).",
		Parse: intIn(20, 65536), Set: func(c *Config, v any) { c.Database.StorageGb = v.(int) }, UsedBy: []Layer{Database}},
	{Name: "dbMaxStorageGb", Type: "integer", Default: "200", Description: "Storage autoscaling ceiling in GiB (above dbStorageGb).",
		Parse: intIn(21, 65536), Set: func(c *Config, v any) { c.Database.MaxStorageGb = v.(int) }, UsedBy: []Layer{Database}},
	{Name: "dbMultiAz", Type: "string", Default: "", Description: "Multi-AZ primary: true or false; empty follows llama:protect (on outside dev).",
		Parse: oneOf("", "true", "false"), Set: func(c *Config, v any) { c.Database.multiAz = v.(string) }, UsedBy: []Layer{Database}},
	{Name: "backupRetentionDays", Type: "integer", Default: "7", Description: "Automated backup retention of databases, 1..35 days (replicas need backups on).",
		Parse: intIn(1, 35, "read replicas need automated backups on their source"), Set: func(c *Config, v any) { c.Database.BackupRetentionDays = v.(int) }, UsedBy: []Layer{Database, ServerlessD, Shards}},
	{Name: "slowQueryMs", Type: "integer", Default: "500", Description: "Statements slower than this many milliseconds are logged (log_min_duration_statement) and counted as slow queries.",
		Parse: intIn(1, 600000), Set: func(c *Config, v any) { c.Database.SlowQueryMs = v.(int) }},
	{Name: "replicas", Type: "integer", Default: "2", Description: "RDS read replicas (servers) or Aurora readers (serverless) from the replicas rung on, 0..15.",
		Parse: intIn(0, 15), Set: func(c *Config, v any) { c.Database.Replicas = v.(int) }, UsedBy: []Layer{Replicas}},
	{Name: "cacheEngine", Type: "string", Default: "valkey", Description: "ElastiCache engine: valkey or redis.",
		Parse: oneOf("valkey", "redis"), Set: func(c *Config, v any) { c.Cache.Engine = v.(string) }, UsedBy: []Layer{Cache}},
	{Name: "cacheNodeType", Type: "string", Default: "cache.t4g.small", Description: "ElastiCache node type.",
		Parse: required(reCacheClass, "an ElastiCache node type such as cache.t4g.small"), Set: func(c *Config, v any) { c.Cache.NodeType = v.(string) }, UsedBy: []Layer{Cache}},
	{Name: "cacheNodes", Type: "integer", Default: itoa(cache.MinNodes), Description: fmt.Sprintf("Cache nodes (primary plus replicas), %d..%d: failover needs a replica.", cache.MinNodes, cache.MaxNodes),
		Parse: intIn(cache.MinNodes, cache.MaxNodes), Set: func(c *Config, v any) { c.Cache.Nodes = v.(int) }, UsedBy: []Layer{Cache}},
	{Name: "cloudflareZoneId", Type: "string", Default: "", Description: "Cloudflare zone ID (32 hex characters) holding llama:domain: set both on any rung (the stack then owns the hostname's record and serves HTTPS from the first rung); required from the cdn rung on.",
		Parse: optional(reZoneID, "a Cloudflare zone ID: 32 lowercase hex characters"), Set: func(c *Config, v any) { c.Edge.ZoneID = v.(string) }, UsedBy: []Layer{CDN, SPAEdge, Hostname}},
	{Name: "domain", Type: "string", Default: "", Description: "The app's hostname inside the Cloudflare zone, e.g. app.example.com: set it with llama:cloudflareZoneId on any rung (the stack then owns its record and serves HTTPS from the first rung); required from the cdn rung on.",
		Parse: optional(reHostname, "a lowercase hostname inside the Cloudflare zone, such as app.example.com"), Set: func(c *Config, v any) { c.Edge.Domain = v.(string) }, UsedBy: []Layer{CDN, SPAEdge, Hostname}},
	{Name: "cloudflareZone", Type: "string", Default: "", Description: "The Cloudflare zone's name, where it is not the registrable domain of llama:domain (a subdomain zone such as dev.example.com); empty: the registrable domain, by the Public Suffix List.",
		Parse: optional(reHostname, "a lowercase zone name such as dev.example.com, or empty"), Set: func(c *Config, v any) { c.Edge.Zone = v.(string) }, UsedBy: []Layer{CDN, SPAEdge, Hostname}},
	{Name: "cloudflarePlan", Type: "string", Default: "free", Description: "The Cloudflare zone's plan: free, pro, business or enterprise. The edge uses what every plan offers; the plan refuses a rule setting its plan lacks (Origin Rules' Host header, SNI and DNS record overrides are Enterprise only).",
		Parse: oneOf("free", "pro", "business", "enterprise"), Set: func(c *Config, v any) { c.Edge.Plan = v.(string) }, UsedBy: []Layer{CDN, SPAEdge}},
	{Name: "cloudflareCertificate", Type: "string", Default: "universal", Description: "The edge certificate the Cloudflare zone has: universal (the free Universal SSL, which covers the zone's apex and one label below it) or advanced (Advanced Certificate Manager, ordered on the zone, covering deeper names such as static.app.example.com; llama cost prices it). A hostname the declared certificate does not cover is refused.",
		Parse: oneOf("universal", "advanced"), Set: func(c *Config, v any) { c.Edge.Certificate = v.(string) }, UsedBy: []Layer{CDN, SPAEdge}},
	{Name: "acmeDirectory", Type: "string", Default: LetsEncrypt, Description: "The ACME directory the box obtains its certificate from (llama:domain set): Let's Encrypt by default; a staging CA, or a team's own, by its directory URL.",
		Parse: required(reHTTPSURL, "an https:// URL of an ACME directory, such as https://acme-staging-v02.api.letsencrypt.org/directory"), Set: func(c *Config, v any) { c.Edge.ACMEDirectory = v.(string) }, UsedBy: []Layer{Box}, Only: Servers},
	// The sharded rung needs a shard; past it, 0 takes the NoSQL offload without sharding
	// (the guide: "instead of sharding, migrate a subset of data to NoSQL").
	{Name: "shards", Type: "integer", Default: "2", Description: "Aurora clusters, one per shard, from the sharded rung on: 1..64; 0 on the nosql rung takes the NoSQL offload without sharding. Lowering it deletes shards (refused while protected).",
		Parse: intIn(0, 64, "0 only past the sharded rung: the NoSQL offload without shards"), Set: func(c *Config, v any) { c.Shards.Count = v.(int) }, UsedBy: []Layer{Shards}},
	{Name: "shardReaders", Type: "integer", Default: "1", Description: "Reader instances per shard, 0..15.",
		Parse: intIn(0, 15), Set: func(c *Config, v any) { c.Shards.Readers = v.(int) }, UsedBy: []Layer{Shards}},
	{Name: "shardInstanceClass", Type: "string", Default: "db.r6g.large", Description: "Instance class of the provisioned Aurora shards (servers ladder).",
		Parse: required(reAuroraClass, "an Aurora PostgreSQL instance class such as db.r6g.large (db.t3 and db.t4g from medium)"), Set: func(c *Config, v any) { c.Shards.InstanceClass = v.(string) }, UsedBy: []Layer{Shards}, Only: Servers},
	{Name: "tables", Type: "string", Default: "activity:userId:createdAt:expiresAt", Description: "DynamoDB tables, comma-separated, each name:partitionKey[:sortKey[:ttlAttribute]].",
		Parse: tables, Set: func(c *Config, v any) { c.Tables = v.([]Table) }, UsedBy: []Layer{Tables}},
	{Name: "moved", Type: "string", Default: "", Description: "Live moves done, comma-separated: db (the box's PostgreSQL to RDS), traffic (DNS from the box to the load balancer), edge (clients from the load balancer or the API's own URL to Cloudflare), shards, activity. Each data move is recorded by `llama-app move <tier>` (traffic and edge are yours to declare once DNS has moved); listing it lets the next pulumi up retire the old tier. Until then the old tier stays and takes the app's traffic.",
		Parse: movedList, Set: func(c *Config, v any) { c.Moves.Moved = v.(map[string]bool) }, UsedBy: []Layer{Database, Fleet, Shards, Tables}},
	{Name: "shardsFrom", Type: "string", Default: "", Description: "The shard count the app serves from while a shard move to llama:shards runs (set it to the old count when raising llama:shards; remove it, with shards in llama:moved, once the move is recorded). Empty: no shard growth under way.",
		Parse: optionalInt(1, 64), Set: func(c *Config, v any) { c.Moves.ShardsFrom = v.(int) }, UsedBy: []Layer{Shards}},
	{Name: "minAcu", Type: "string", Default: "0.5", Description: "Aurora Serverless v2 minimum capacity in ACUs: 0..256 in 0.5 steps.",
		Parse: acu(0), Set: func(c *Config, v any) { c.Serverless.MinAcu = v.(float64) }, UsedBy: []Layer{ServerlessD}},
	{Name: "maxAcu", Type: "string", Default: "8", Description: "Aurora Serverless v2 maximum capacity in ACUs: 1..256 in 0.5 steps, at least minAcu.",
		Parse: acu(1), Set: func(c *Config, v any) { c.Serverless.MaxAcu = v.(float64) }, UsedBy: []Layer{ServerlessD}},
	{Name: "lambdaMemory", Type: "integer", Default: "512", Description: "Lambda memory in MB: 128..10240.",
		Parse: intIn(128, 10240), Set: func(c *Config, v any) { c.Serverless.LambdaMemory = v.(int) }, UsedBy: []Layer{Functions}},
	{Name: "lambdaTimeout", Type: "integer", Default: "10", Description: "Lambda timeout in seconds: 1..29 (the HTTP API's integration limit is 30).",
		Parse: intIn(1, 29), Set: func(c *Config, v any) { c.Serverless.LambdaTimeout = v.(int) }, UsedBy: []Layer{Functions}},
	{Name: "dbProxy", Type: "string", Default: "auto", Description: "RDS Proxy in front of the serverless writer: auto (from the replicas rung on, where readers share it and the traffic pays for its 8-ACU floor; below it the functions sign in to the writer themselves, their connections bounded) or always (from the serverless start, for functions whose concurrency outgrows the writer's connections sooner; it keeps a writer at llama:minAcu 0 from pausing).",
		Parse: oneOf("auto", "always"), Set: func(c *Config, v any) { c.Serverless.Proxy = v.(string) }, UsedBy: []Layer{ServerlessD}, Only: Serverless},
	{Name: "maxFunctionConcurrency", Type: "integer", Default: "900", Description: "The most sandboxes of the function run at once where it signs in to writers without RDS Proxy (the serverless start, the shards): its reserved concurrency is this or what the writers' connections allow, the lower, and none where even the account's default 1,000 fit. 900 is an account's default 1,000 less the 100 Lambda keeps unreserved; raise it after raising the account's limit.",
		Parse: intIn(1, 100000), Set: func(c *Config, v any) { c.Serverless.MaxConcurrency = v.(int) }, UsedBy: []Layer{Functions}, Only: Serverless},
	{Name: "dbClusterQuota", Type: "integer", Default: itoa(DefaultRDSQuota), Description: fmt.Sprintf("The region's RDS quota of DB clusters for the account (%d by default; raise it in Service Quotas first): the plan refuses a stage that needs more.", DefaultRDSQuota),
		Parse: intIn(1, 10000), Set: func(c *Config, v any) { c.Quotas.DBClusters = v.(int) }},
	{Name: "dbInstanceQuota", Type: "integer", Default: itoa(DefaultRDSQuota), Description: fmt.Sprintf("The region's RDS quota of DB instances for the account, Aurora's included (%d by default; raise it in Service Quotas first): the plan refuses a stage that needs more.", DefaultRDSQuota),
		Parse: intIn(1, 10000), Set: func(c *Config, v any) { c.Quotas.DBInstances = v.(int) }},
	{Name: "alertEmail", Type: "string", Default: "", Description: "Email address subscribed to the alarm topic; none when empty.",
		Parse: optional(reEmail, "an email address or empty"), Set: func(c *Config, v any) { c.Alarms.Email = v.(string) }},
	{Name: "latencyP95Ms", Type: "integer", Default: itoa(monitor.DefaultAppAlarms.LatencyP95Ms), Description: "Alarm when the app's p95 response time stays above this many milliseconds.",
		Parse: intIn(10, 60000), Set: func(c *Config, v any) { c.Alarms.LatencyP95Ms = v.(int) }},
	{Name: "errorRatePercent", Type: "integer", Default: itoa(monitor.DefaultAppAlarms.ErrorRatePercent), Description: "Alarm when the app's 5xx error rate stays above this percentage.",
		Parse: intIn(1, 100), Set: func(c *Config, v any) { c.Alarms.ErrorRatePercent = v.(int) }},
	{Name: "dbLatencyP95Ms", Type: "integer", Default: itoa(monitor.DefaultDBAlarms.LatencyP95Ms), Description: "Alarm when a database's p95 read or write latency stays above this many milliseconds.",
		Parse: intIn(1, 60000), Set: func(c *Config, v any) { c.Alarms.DBLatencyP95Ms = v.(int) }},
	{Name: "dbConnectionsPercent", Type: "integer", Default: itoa(monitor.DefaultDBAlarms.ConnectionsPercent), Description: "Alarm when database connections exceed this percentage of the instance's limit.",
		Parse: intIn(10, 100), Set: func(c *Config, v any) { c.Alarms.DBConnectionsPercent = v.(int) }},
	{Name: "replicaLagSeconds", Type: "integer", Default: itoa(monitor.DefaultDBAlarms.ReplicaLagSeconds), Description: "Alarm when a replica lags the primary by more than this many seconds.",
		Parse: intIn(1, 86400), Set: func(c *Config, v any) { c.Alarms.ReplicaLagSeconds = v.(int) }, UsedBy: []Layer{Replicas, Shards}},
	{Name: "cacheMemoryPercent", Type: "integer", Default: itoa(cache.DefaultMemoryAlarmPercent), Description: "Alarm when cache memory use exceeds this percentage.",
		Parse: intIn(10, 100), Set: func(c *Config, v any) { c.Alarms.CacheMemoryPercent = v.(int) }, UsedBy: []Layer{Cache}},
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

// itoa renders a component's default for the key table.
func itoa(n int) string { return strconv.Itoa(n) }

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
	if err != nil || !slices.Contains(monitor.LogRetentions, n) {
		return nil, fmt.Sprint("one of ", monitor.LogRetentions)
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

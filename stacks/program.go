package stacks

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/access"
	"github.com/llama-stages/llama/components/cache"
	"github.com/llama-stages/llama/components/cdn"
	"github.com/llama-stages/llama/components/compute"
	"github.com/llama-stages/llama/components/database"
	"github.com/llama-stages/llama/components/functions"
	"github.com/llama-stages/llama/components/monitor"
	"github.com/llama-stages/llama/components/network"
	"github.com/llama-stages/llama/components/nosql"
	"github.com/llama-stages/llama/components/params"
	"github.com/llama-stages/llama/components/release"
	"github.com/llama-stages/llama/components/storage"
)

// Options are what the program needs beyond the stack's config.
type Options struct {
	// Build builds the app (llama:appPackage) for an architecture. Nil compiles it with the
	// Go toolchain in the working directory, where `pulumi up` runs (release.GoBuild).
	Build release.Builder
	// Warn reports what the run found worth saying but not refusing. Nil logs it as a Pulumi
	// warning.
	Warn func(string)
}

// warn reports a warning the way the options say.
func (b *builder) warn(msg string) {
	if b.opts.Warn != nil {
		b.opts.Warn(msg)
		return
	}
	b.ctx.Log.Warn(msg, nil)
}

// build builds the app for an architecture.
func (b *builder) build(arch string) (*release.Artifact, error) {
	build := b.opts.Build
	if build == nil {
		build = release.GoBuild(".")
	}
	art, err := build(b.cfg.AppPackage, arch)
	if err != nil {
		return nil, fmt.Errorf("llama:appPackage %s: %w", b.cfg.AppPackage, err)
	}
	return art, nil
}

// Program is the Pulumi program main.go runs.
func Program(ctx *pulumi.Context) error {
	outs, err := Build(ctx, Options{})
	for k, v := range outs {
		ctx.Export(k, v)
	}
	return err
}

// env is what the program looks up once about the account and region.
type env struct {
	region, account string
	partition       string // aws, aws-cn, aws-us-gov
	azs             []string
	prefix          string // SSM parameter and log prefix: /llama/<stack>
	base            string // physical name base: llama-<stack>
}

func lookup(ctx *pulumi.Context, cfg *Config) (*env, error) {
	region, err := aws.GetRegion(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("looking up the region: %w", err)
	}
	who, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("looking up the account: %w", err)
	}
	part, err := aws.GetPartition(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("looking up the partition: %w", err)
	}
	zones, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{State: pulumi.StringRef("available")})
	if err != nil {
		return nil, fmt.Errorf("looking up availability zones: %w", err)
	}
	if cfg.Network.AZCount > len(zones.Names) {
		return nil, &ConfigError{Key: "llama:azCount", Value: fmt.Sprint(cfg.Network.AZCount),
			Allowed: fmt.Sprintf("2..%d: region %s offers %d availability zones", len(zones.Names), region.Name, len(zones.Names))}
	}
	return &env{region: region.Name, account: who.AccountId, partition: part.Partition, azs: zones.Names[:cfg.Network.AZCount],
		prefix: fmt.Sprintf("/%s/%s", ctx.Project(), ctx.Stack()), base: fmt.Sprintf("%s-%s", ctx.Project(), ctx.Stack())}, nil
}

// builder assembles one stage. Each step adds the layers it owns when the stage has them.
type builder struct {
	ctx  *pulumi.Context
	cfg  *Config
	env  *env
	opts Options

	mon      *monitor.Monitor
	net      *network.Network
	settings params.Values // published as SSM parameters for the app
	outs     pulumi.Map    // the stack outputs

	app      access.Grantee     // the identity the app runs as: the app role or the function's role
	secrets  pulumi.StringArray // credentials the app is pointed at, and so may read
	grants   []grant            // further access the app needs
	cert     pulumi.StringInput // the origin certificate, when there is one
	cfRanges []string           // Cloudflare's ranges, when Cloudflare fronts a bucket
}

type grant struct {
	name  string
	stmts []access.Statement
}

// Build assembles the stage the config names and returns the stack outputs.
func Build(ctx *pulumi.Context, opts Options) (pulumi.Map, error) {
	if err := CheckEnvironment(); err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	cfg, err := LoadConfig(ctx)
	if err != nil {
		return nil, err
	}
	e, err := lookup(ctx, cfg)
	if err != nil {
		return nil, err
	}
	b := &builder{ctx: ctx, cfg: cfg, env: e, opts: opts, settings: params.Values{},
		outs: pulumi.Map{"stage": pulumi.String(cfg.Stage), "platform": pulumi.String(string(cfg.Platform))}}
	for _, note := range EdgeNotes(cfg) {
		b.warn(note)
	}
	ladder := b.servers
	if cfg.Platform == Serverless {
		ladder = b.serverless
	}
	for _, step := range []func() error{b.foundation, b.edgeInputs, ladder, b.cache, b.shards, b.tables, b.finish} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return b.outs, nil
}

// foundation: monitoring and the network every stage has.
func (b *builder) foundation() error {
	cfg, e := b.cfg, b.env
	mon, err := monitor.NewMonitor(b.ctx, "monitor", &monitor.MonitorArgs{
		Region: e.region, AccountID: e.account, Partition: e.partition, AlertEmail: cfg.Alarms.Email,
		Thresholds: monitor.Thresholds{LatencyP95Ms: cfg.Alarms.LatencyP95Ms, ErrorRatePercent: cfg.Alarms.ErrorRatePercent,
			DBConnectionsPercent: cfg.Alarms.DBConnectionsPercent, DBLatencyP95Ms: cfg.Alarms.DBLatencyP95Ms,
			ReplicaLagSeconds: cfg.Alarms.ReplicaLagSeconds, CacheMemoryPercent: cfg.Alarms.CacheMemoryPercent},
	})
	if err != nil {
		return err
	}
	b.mon, b.outs["alarmTopicArn"] = mon, mon.TopicArn
	b.net, err = network.NewNetwork(b.ctx, "network", &network.NetworkArgs{
		Cidr: cfg.Network.Cidr, AZs: e.azs, Region: e.region, LogRetentionDays: cfg.LogRetentionDays,
		// Only the fleet and the functions run in the private subnets and need a way out;
		// the box is public and the databases and the cache need none.
		Nat: cfg.Has(Fleet) || cfg.Platform == Serverless, NatPerAz: cfg.Network.NatPerAz,
	})
	if err != nil {
		return err
	}
	b.outs["vpcId"] = b.net.VpcID
	return nil
}

// zoneSet reports whether the stack has a Cloudflare zone and hostname.
func (b *builder) zoneSet() bool { return b.cfg.Edge.ZoneID != "" && b.cfg.Edge.Domain != "" }

// edgeInputs: the origin certificate (from cdn on, unless one is configured) and Cloudflare's
// ranges (wherever Cloudflare fronts a bucket).
func (b *builder) edgeInputs() error {
	cfg := b.cfg
	if cfg.CertificateArn != "" {
		b.cert = pulumi.String(cfg.CertificateArn)
	} else if cfg.Has(CDN) {
		c, err := cdn.NewCertificate(b.ctx, "certificate", &cdn.CertificateArgs{ZoneID: cfg.Edge.ZoneID, Domain: cfg.Edge.Domain, Platform: string(cfg.Platform)})
		if err != nil {
			return err
		}
		b.cert = c.Arn
	}
	if cfg.Has(CDN) || (cfg.Platform == Serverless && b.zoneSet()) {
		var err error
		if b.cfRanges, err = cdn.IPRanges(b.ctx); err != nil {
			return err
		}
	}
	return nil
}

// servers: Llama 1.0 to 5.0's CDN, the traditional build-out.
func (b *builder) servers() error {
	ctx, cfg, e, net := b.ctx, b.cfg, b.env, b.net
	// The instance type decides the architecture: the AMI and the app's build follow it.
	arch := compute.Arch(cfg.Servers.InstanceType)
	ami, err := compute.LatestAL2023(ctx, arch)
	if err != nil {
		return err
	}
	role, err := compute.NewAppRole(ctx, "app-role", &compute.AppRoleArgs{ParamPrefix: e.prefix, Region: e.region, AccountID: e.account, Partition: e.partition})
	if err != nil {
		return err
	}
	b.app = role
	art, err := b.build(arch)
	if err != nil {
		return err
	}
	rel, err := release.NewRelease(ctx, "release", &release.ReleaseArgs{Artifact: art, Protect: cfg.Protect})
	if err != nil {
		return err
	}
	b.grants = append(b.grants, grant{"release", rel.ReadAccess()})
	// The box deploys the build published here; the fleet's launch template names it.
	b.settings["app/release/bucket"], b.settings["app/release/key"], b.settings["app/release/sha256"] = rel.Bucket, rel.Key, rel.SHA256
	b.outs["appRelease"] = pulumi.Sprintf("s3://%s/%s", rel.Bucket, rel.Key)
	box, err := compute.NewBox(ctx, "box", &compute.BoxArgs{
		VpcID: net.VpcID, SubnetID: net.Public[0].ID(), AZ: e.azs[0], AppSecurityGroupID: net.AppSecurityGroupID,
		AMI: ami, InstanceType: cfg.Servers.InstanceType, InstanceProfile: role.InstanceProfile, ParamPrefix: e.prefix, Region: e.region,
		SlowQueryMs: cfg.Database.SlowQueryMs, LogRetentionDays: cfg.LogRetentionDays, Protect: cfg.Protect,
		LocalDatabase: !cfg.Has(Database), Retired: !cfg.Has(Box), Monitor: b.mon,
	})
	if err != nil {
		return err
	}
	b.outs["boxDataVolumeId"] = box.DataVolumeID
	if cfg.Has(Box) {
		b.outs["boxInstanceId"], b.outs["boxPublicIp"], b.outs["boxPublicDns"] = box.InstanceID, box.PublicIP, box.PublicDNS
		if !cfg.Has(Database) {
			// Llama 1.0: the app's database is the box's own PostgreSQL.
			box.Publish(b.settings)
			b.secrets = append(b.secrets, box.DBSecretArn)
		}
	}
	if cfg.Has(Database) {
		db, err := database.NewPostgres(ctx, "database", &database.PostgresArgs{
			Identifier: e.base + "-db", VpcID: net.VpcID, SubnetIDs: net.DatabaseSubnetIDs, AZs: e.azs,
			AllowFrom:     []database.Source{{Name: "app", Group: net.AppSecurityGroupID}},
			EngineVersion: cfg.Database.EngineVersion, InstanceClass: cfg.Database.InstanceClass, StorageGb: cfg.Database.StorageGb,
			MaxStorageGb: cfg.Database.MaxStorageGb, MultiAz: cfg.Database.MultiAz, BackupRetentionDays: cfg.Database.BackupRetentionDays,
			SlowQueryMs: cfg.Database.SlowQueryMs, Replicas: b.replicas(), Protect: cfg.Protect,
			LogRetentionDays: cfg.LogRetentionDays, Monitor: b.mon,
		})
		if err != nil {
			return err
		}
		db.Publish(b.settings, b.outs)
		b.secrets = append(b.secrets, db.SecretArn)
	}
	if !cfg.Has(Fleet) {
		return nil
	}
	fleet, err := compute.NewFleet(ctx, "fleet", &compute.FleetArgs{
		VpcID: net.VpcID, PublicSubnetIDs: net.PublicSubnetIDs, PrivateSubnetIDs: net.PrivateSubnetIDs,
		AppSecurityGroupID: net.AppSecurityGroupID, AMI: ami, InstanceType: cfg.Servers.InstanceType,
		InstanceProfile: role.InstanceProfile, ParamPrefix: e.prefix,
		ReleaseBucket: rel.Bucket, ReleaseKey: rel.Key, ReleaseSHA256: art.SHA256,
		MinSize: cfg.Servers.Min, DesiredSize: cfg.Servers.Desired, MaxSize: cfg.Servers.Max,
		CertificateArn: b.cert, OriginCidrs: ipv4(b.cfRanges), Protect: cfg.Protect, LogRetentionDays: cfg.LogRetentionDays,
		Region: e.region, AccountID: e.account, Monitor: b.mon,
	})
	if err != nil {
		return err
	}
	b.outs["loadBalancerDns"] = fleet.LoadBalancerDNS
	// Cloudflare reads the static assets anonymously from the cdn rung on: SSE-S3 from the start.
	static, err := storage.NewBucket(ctx, "static", &storage.BucketArgs{Protect: cfg.Protect, ReadFromCidrs: b.cfRanges, S3ManagedKeys: true})
	if err != nil {
		return err
	}
	b.outs["staticBucket"], b.settings["static/bucket"] = static.Name, static.Name
	b.grants = append(b.grants, grant{"static", static.ReadWrite()})
	if !cfg.Has(CDN) {
		return nil
	}
	return b.edge([]cdn.Host{
		{Name: cfg.Edge.Domain, Origin: fleet.LoadBalancerDNS, Kind: cdn.App},
		{Name: "static." + cfg.Edge.Domain, Origin: static.BucketRegionalDomainName, Kind: cdn.Static},
	})
}

// serverless: the modern stack of the guide's part 3.
func (b *builder) serverless() error {
	ctx, cfg, e, net := b.ctx, b.cfg, b.env, b.net
	// Cloudflare reads the SPA anonymously wherever a zone is set: SSE-S3 from the start.
	spa, err := storage.NewBucket(ctx, "spa", &storage.BucketArgs{Protect: cfg.Protect, ReadFromCidrs: b.cfRanges, S3ManagedKeys: true})
	if err != nil {
		return err
	}
	b.outs["spaBucket"] = spa.Name
	db, err := database.NewAurora(ctx, "database", &database.AuroraArgs{
		Identifier: e.base + "-db", VpcID: net.VpcID, SubnetIDs: net.DatabaseSubnetIDs, AZs: e.azs,
		// The functions reach the writer through RDS Proxy only.
		Serverless: true, MinAcu: cfg.Serverless.MinAcu, MaxAcu: cfg.Serverless.MaxAcu, Readers: b.replicas(),
		Proxy:               &database.ProxyArgs{SubnetIDs: net.PrivateSubnetIDs, ClientGroup: net.AppSecurityGroupID},
		BackupRetentionDays: cfg.Database.BackupRetentionDays, SlowQueryMs: cfg.Database.SlowQueryMs, Protect: cfg.Protect,
		LogRetentionDays: cfg.LogRetentionDays, Monitor: b.mon,
	})
	if err != nil {
		return err
	}
	db.Publish("db", b.settings, b.outs)
	// Lambda runs the app on Graviton (arm64): the same code base, its Lambda entry point.
	art, err := b.build("arm64")
	if err != nil {
		return err
	}
	var domain string
	if cfg.Has(CDN) {
		domain = "api." + cfg.Edge.Domain
	}
	api, err := functions.NewAPI(ctx, "api", &functions.APIArgs{
		Code: art.Lambda, SubnetIDs: net.PrivateSubnetIDs, SecurityGroupID: net.AppSecurityGroupID,
		MemoryMb: cfg.Serverless.LambdaMemory, TimeoutSeconds: cfg.Serverless.LambdaTimeout, FunctionPrefix: e.base, ParamPrefix: e.prefix,
		// The app signs in to RDS Proxy with IAM as the master user the proxy's secret names.
		DBConnect:        pulumi.Sprintf("arn:%s:rds-db:%s:%s:dbuser:%s/%s", e.partition, e.region, e.account, db.ProxyResourceID, database.MasterUser),
		LogRetentionDays: cfg.LogRetentionDays, Region: e.region, AccountID: e.account, Partition: e.partition,
		Domain: domain, CertificateArn: b.cert, Monitor: b.mon,
	})
	if err != nil {
		return err
	}
	b.app, b.outs["apiUrl"] = api, api.URL
	// Cloudflare serves the SPA wherever a zone is configured; from the cdn rung on it fronts
	// the API too.
	if !b.zoneSet() {
		return nil
	}
	hosts := []cdn.Host{{Name: cfg.Edge.Domain, Origin: spa.BucketRegionalDomainName, Kind: cdn.Static, SPA: true}}
	if cfg.Has(CDN) {
		hosts = append(hosts, cdn.Host{Name: domain, Origin: api.DomainTarget, Kind: cdn.API,
			OriginHeader: &cdn.Header{Name: functions.OriginHeader, Value: api.OriginSecret}})
	}
	return b.edge(hosts)
}

// ipv4 keeps the IPv4 ranges: the load balancer is IPv4 only.
func ipv4(cidrs []string) []string {
	var out []string
	for _, c := range cidrs {
		if !strings.Contains(c, ":") {
			out = append(out, c)
		}
	}
	return out
}

func (b *builder) edge(hosts []cdn.Host) error {
	ctx, zoneID := b.ctx, b.cfg.Edge.ZoneID
	zone, err := cdn.ReadZone(ctx, zoneID)
	if err != nil {
		return err
	}
	const name = "cdn"
	edge, err := cdn.NewEdge(ctx, name, &cdn.EdgeArgs{ZoneID: zoneID, Hosts: hosts, Owner: ctx.Project() + "/" + ctx.Stack(), Zone: zone})
	if err != nil {
		return err
	}
	for _, a := range edge.Adoptions {
		b.warn(fmt.Sprintf("Cloudflare zone %s: the %s entry point already holds %d rules of other Llama stacks (%s). "+
			"This stack keeps them and adds its own; Pulumi must take the entry point into this stack once, "+
			"or `pulumi up` fails with \"inputs to import do not match\": pulumi import cloudflare:index/ruleset:Ruleset %s %s --parent %s=urn:pulumi:%s::%s::llama:cdn:Edge::%s --yes",
			zoneID, a.Phase, a.RulesKept, strings.Join(a.SharedBy, ", "), a.Resource, a.ImportID, name, ctx.Stack(), ctx.Project(), name))
	}
	b.outs["hostnames"] = edge.Hostnames
	return nil
}

func (b *builder) replicas() int {
	if b.cfg.Has(Replicas) {
		return b.cfg.Database.Replicas
	}
	return 0
}

// cache: Llama 5.0's read-through cache, on either ladder.
func (b *builder) cache() error {
	if !b.cfg.Has(Cache) {
		return nil
	}
	cfg, e, net := b.cfg, b.env, b.net
	c, err := cache.NewCache(b.ctx, "cache", &cache.CacheArgs{
		ID: e.base + "-cache", VpcID: net.VpcID, SubnetIDs: net.PrivateSubnetIDs, AZs: e.azs,
		ClientGroup: net.AppSecurityGroupID, Engine: cfg.Cache.Engine, NodeType: cfg.Cache.NodeType, Nodes: cfg.Cache.Nodes,
		Protect: cfg.Protect, LogRetentionDays: cfg.LogRetentionDays, Monitor: b.mon,
	})
	if err != nil {
		return err
	}
	c.Publish(b.settings, b.outs)
	b.secrets = append(b.secrets, c.SecretArn)
	return nil
}

// ShardRule is how the app maps a user to a shard.
const ShardRule = "shard = userId mod shardCount (userId as a 64-bit integer); growing shardCount means moving the rows whose shard changes"

// shards: Llama 6.0. One Aurora cluster a shard, each its own component named shard-<i> so that
// growing the count only creates; the shard map is published for the app, as a stack output
// and as parameters under shards/.
func (b *builder) shards() error {
	if !b.cfg.Has(Shards) || b.cfg.Shards.Count == 0 {
		return nil
	}
	cfg, e, net := b.cfg, b.env, b.net
	type entry struct {
		Index  int    `json:"index"`
		Writer string `json:"writer"`
		Reader string `json:"reader"`
		Secret string `json:"secretArn"`
	}
	shared, err := database.NewShardBase(b.ctx, "shards", &database.ShardBaseArgs{
		VpcID: net.VpcID, SubnetIDs: net.DatabaseSubnetIDs, SlowQueryMs: cfg.Database.SlowQueryMs,
		AllowFrom: []database.Source{{Name: "app", Group: net.AppSecurityGroupID}},
	})
	if err != nil {
		return err
	}
	var ends []any
	for i := 0; i < cfg.Shards.Count; i++ {
		args := &database.AuroraArgs{
			Identifier: fmt.Sprintf("%s-shard-%d", e.base, i), AZs: e.azs, Base: shared, Readers: cfg.Shards.Readers,
			BackupRetentionDays: cfg.Database.BackupRetentionDays, Protect: cfg.Protect,
			LogRetentionDays: cfg.LogRetentionDays, Monitor: b.mon, FirstAZ: i,
		}
		if cfg.Platform == Serverless {
			args.Serverless, args.MinAcu, args.MaxAcu = true, cfg.Serverless.MinAcu, cfg.Serverless.MaxAcu
		} else {
			args.InstanceClass = cfg.Shards.InstanceClass
		}
		s, err := database.NewAurora(b.ctx, fmt.Sprintf("shard-%d", i), args)
		if err != nil {
			return err
		}
		ends = append(ends, s.Endpoint, s.ReaderEndpoint, s.SecretArn)
		b.secrets = append(b.secrets, s.SecretArn)
		// One parameter per entry: the whole map outgrows SSM's 8 KB past about 30 shards.
		b.settings[fmt.Sprintf("shards/%d/writer", i)] = s.Endpoint
		b.settings[fmt.Sprintf("shards/%d/reader", i)] = s.ReaderEndpoint
		b.settings[fmt.Sprintf("shards/%d/secretArn", i)] = s.SecretArn
	}
	b.settings["shards/count"] = pulumi.String(fmt.Sprint(cfg.Shards.Count))
	b.settings["shards/rule"] = pulumi.String(ShardRule)
	shardMap := pulumi.All(ends...).ApplyT(func(v []any) (string, error) {
		m := struct {
			Rule   string  `json:"rule"`
			Count  int     `json:"shardCount"`
			Shards []entry `json:"shards"`
		}{Rule: ShardRule, Count: len(v) / 3}
		for i := 0; i < len(v); i += 3 {
			m.Shards = append(m.Shards, entry{Index: i / 3, Writer: fmt.Sprint(v[i]), Reader: fmt.Sprint(v[i+1]), Secret: fmt.Sprint(v[i+2])})
		}
		out, err := json.Marshal(m)
		return string(out), err
	}).(pulumi.StringOutput)
	b.outs["shardMap"] = shardMap
	return nil
}

// tables: the final part's DynamoDB offload; the app may use these tables and no others.
func (b *builder) tables() error {
	if !b.cfg.Has(Tables) {
		return nil
	}
	specs := make([]nosql.Table, len(b.cfg.Tables))
	for i, t := range b.cfg.Tables {
		specs[i] = nosql.Table(t)
	}
	t, err := nosql.NewTables(b.ctx, "tables", &nosql.TablesArgs{Prefix: b.env.base, Tables: specs, Protect: b.cfg.Protect, Monitor: b.mon})
	if err != nil {
		return err
	}
	t.Publish(b.settings, b.outs)
	b.grants = append(b.grants, grant{"tables", t.Access()})
	return nil
}

// finish grants the app what it was pointed at, publishes the parameters and writes the
// dashboard.
func (b *builder) finish() error {
	if len(b.secrets) > 0 {
		b.grants = append(b.grants, grant{"secrets", access.ReadSecrets(b.secrets)})
	}
	for _, g := range b.grants {
		if err := b.app.Grant(b.ctx, g.name, g.stmts); err != nil {
			return err
		}
	}
	if _, err := params.NewParameters(b.ctx, "params", &params.ParametersArgs{Prefix: b.env.prefix, Values: b.settings}); err != nil {
		return err
	}
	b.outs["parameterPrefix"] = pulumi.String(b.env.prefix)
	if err := b.mon.Finish(b.ctx); err != nil {
		return err
	}
	b.outs["dashboard"] = b.mon.DashboardName
	return nil
}

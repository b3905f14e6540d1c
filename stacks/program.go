package stacks

import (
	"encoding/json"
	"fmt"

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
	"github.com/llama-stages/llama/components/storage"
)

// Options are what the program needs beyond the stack's config.
type Options struct {
	// LambdaCode returns the API's deployment package. Nil builds it from lambda/api with the
	// Go toolchain (see functions.Build).
	LambdaCode func() (pulumi.Archive, error)
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
	zones, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{State: pulumi.StringRef("available")})
	if err != nil {
		return nil, fmt.Errorf("looking up availability zones: %w", err)
	}
	if cfg.AzCount > len(zones.Names) {
		return nil, &ConfigError{Key: "llama:azCount", Value: fmt.Sprint(cfg.AzCount),
			Allowed: fmt.Sprintf("2..%d: region %s offers %d availability zones", len(zones.Names), region.Name, len(zones.Names))}
	}
	return &env{region: region.Name, account: who.AccountId, azs: zones.Names[:cfg.AzCount],
		prefix: fmt.Sprintf("/%s/%s", ctx.Project(), ctx.Stack()), base: fmt.Sprintf("%s-%s", ctx.Project(), ctx.Stack())}, nil
}

// Build assembles the stage the config names and returns the stack outputs.
func Build(ctx *pulumi.Context, opts Options) (pulumi.Map, error) {
	cfg, err := LoadConfig(ctx)
	if err != nil {
		return nil, err
	}
	e, err := lookup(ctx, cfg)
	if err != nil {
		return nil, err
	}
	outs := pulumi.Map{"stage": pulumi.String(cfg.Stage), "platform": pulumi.String(string(cfg.Platform))}

	mon, err := monitor.NewMonitor(ctx, "monitor", &monitor.MonitorArgs{
		Region: e.region, AccountID: e.account, AlertEmail: cfg.AlertEmail,
		Thresholds: monitor.Thresholds{LatencyP95Ms: cfg.LatencyP95Ms, ErrorRatePercent: cfg.ErrorRatePercent,
			DBConnectionsPercent: cfg.DBConnectionsPercent, DBLatencyP95Ms: cfg.DBLatencyP95Ms, ReplicaLagSeconds: cfg.ReplicaLagSeconds, CacheMemoryPercent: cfg.CacheMemoryPercent},
	})
	if err != nil {
		return nil, err
	}
	outs["alarmTopicArn"] = mon.TopicArn

	net, err := network.NewNetwork(ctx, "network", &network.NetworkArgs{
		Cidr: cfg.VpcCidr, AZs: e.azs, Region: e.region, NatPerAz: cfg.NatPerAz, LogRetentionDays: cfg.LogRetentionDays,
	})
	if err != nil {
		return nil, err
	}
	outs["vpcId"] = net.VpcID
	settings := params.Values{}

	var appRoles []pulumi.StringInput // roles the app runs as: granted access to tables
	var app access.Grantee            // the identity the app runs as
	var secrets pulumi.StringArray    // secrets the app reads: database and cache credentials
	var cert pulumi.StringInput
	if cfg.CertificateArn != "" {
		cert = pulumi.String(cfg.CertificateArn)
	}
	if cfg.Has(CDN) && cert == nil {
		c, err := cdn.NewCertificate(ctx, "certificate", &cdn.CertificateArgs{ZoneID: cfg.CloudflareZoneID, Domain: cfg.Domain, Platform: string(cfg.Platform)})
		if err != nil {
			return nil, err
		}
		cert = c.Arn
	}
	var cfRanges []string
	if cfg.Has(CDN) || (cfg.Platform == Serverless && cfg.CloudflareZoneID != "" && cfg.Domain != "") {
		if cfRanges, err = cdn.IPRanges(ctx); err != nil {
			return nil, err
		}
	}

	// The servers ladder.
	if cfg.Platform == Servers {
		ami, err := compute.LatestAL2023(ctx, "x86_64")
		if err != nil {
			return nil, err
		}
		role, err := compute.NewAppRole(ctx, "app-role", &compute.AppRoleArgs{ParamPrefix: e.prefix, Region: e.region, AccountID: e.account})
		if err != nil {
			return nil, err
		}
		appRoles, app = append(appRoles, role.RoleName), role
		box, err := compute.NewBox(ctx, "box", &compute.BoxArgs{
			VpcID: net.VpcID, SubnetID: net.Public[0].ID(), AZ: e.azs[0], AppSecurityGroupID: net.AppSecurityGroupID,
			AMI: ami, InstanceType: cfg.InstanceType, InstanceProfile: role.InstanceProfile, ParamPrefix: e.prefix,
			LogRetentionDays: cfg.LogRetentionDays, Protect: cfg.Protect, Retired: !cfg.Has(Box), Monitor: mon,
			SlowQueryMs: cfg.SlowQueryMs,
		})
		if err != nil {
			return nil, err
		}
		outs["boxDataVolumeId"] = box.DataVolumeID
		if cfg.Has(Box) {
			outs["boxInstanceId"], outs["boxPublicIp"], outs["boxPublicDns"] = box.InstanceID, box.PublicIP, box.PublicDNS
		}
		if cfg.Has(Database) {
			db, err := database.NewPostgres(ctx, "database", &database.PostgresArgs{
				Identifier: e.base + "-db", VpcID: net.VpcID, SubnetIDs: net.DatabaseSubnetIDs, AZs: e.azs,
				AllowFrom:     []database.Source{{Name: "app", Group: net.AppSecurityGroupID}},
				EngineVersion: cfg.DBEngineVersion, InstanceClass: cfg.DBInstanceClass, StorageGb: cfg.DBStorageGb,
				MaxStorageGb: cfg.DBMaxStorageGb, MultiAz: cfg.DBMultiAz, BackupRetentionDays: cfg.BackupRetentionDays,
				SlowQueryMs: cfg.SlowQueryMs, Replicas: replicas(cfg), Protect: cfg.Protect,
				LogRetentionDays: cfg.LogRetentionDays, Monitor: mon,
			})
			if err != nil {
				return nil, err
			}
			db.Publish(settings, outs)
			secrets = append(secrets, db.SecretArn)
		}
		if cfg.Has(Fleet) {
			fleet, err := compute.NewFleet(ctx, "fleet", &compute.FleetArgs{
				VpcID: net.VpcID, PublicSubnetIDs: net.PublicSubnetIDs, PrivateSubnetIDs: net.PrivateSubnetIDs,
				AppSecurityGroupID: net.AppSecurityGroupID, AMI: ami, InstanceType: cfg.InstanceType,
				InstanceProfile: role.InstanceProfile, ParamPrefix: e.prefix,
				MinSize: cfg.MinServers, DesiredSize: cfg.DesiredServers, MaxSize: cfg.MaxServers,
				CertificateArn: cert, Protect: cfg.Protect, LogRetentionDays: cfg.LogRetentionDays,
				Region: e.region, AccountID: e.account, Monitor: mon,
			})
			if err != nil {
				return nil, err
			}
			outs["loadBalancerDns"] = fleet.LoadBalancerDNS
			static, err := storage.NewBucket(ctx, "static", &storage.BucketArgs{Protect: cfg.Protect, ReadFromCidrs: cfRanges})
			if err != nil {
				return nil, err
			}
			outs["staticBucket"] = static.Name
			settings["static/bucket"] = static.Name
			if cfg.Has(CDN) {
				edge, err := cdn.NewEdge(ctx, "cdn", &cdn.EdgeArgs{ZoneID: cfg.CloudflareZoneID, Hosts: []cdn.Host{
					{Name: cfg.Domain, Origin: fleet.LoadBalancerDNS, Kind: cdn.App},
					{Name: "static." + cfg.Domain, Origin: static.BucketRegionalDomainName, Kind: cdn.Static},
				}})
				if err != nil {
					return nil, err
				}
				edge.Publish(outs)
			}
		}
	}

	// The serverless ladder.
	if cfg.Platform == Serverless {
		spa, err := storage.NewBucket(ctx, "spa", &storage.BucketArgs{Protect: cfg.Protect, ReadFromCidrs: cfRanges})
		if err != nil {
			return nil, err
		}
		outs["spaBucket"] = spa.Name
		db, err := database.NewAurora(ctx, "database", &database.AuroraArgs{
			Identifier: e.base + "-db", VpcID: net.VpcID, SubnetIDs: net.DatabaseSubnetIDs, AZs: e.azs,
			// The functions reach the writer through RDS Proxy only.
			Serverless: true, MinAcu: cfg.MinAcu, MaxAcu: cfg.MaxAcu, Readers: replicas(cfg),
			Proxy:               &database.ProxyArgs{SubnetIDs: net.PrivateSubnetIDs, ClientGroup: net.AppSecurityGroupID},
			BackupRetentionDays: cfg.BackupRetentionDays, SlowQueryMs: cfg.SlowQueryMs, Protect: cfg.Protect,
			LogRetentionDays: cfg.LogRetentionDays, Monitor: mon,
		})
		if err != nil {
			return nil, err
		}
		db.Publish("db", settings, outs)
		code := opts.LambdaCode
		if code == nil {
			code = functions.Build
		}
		archive, err := code()
		if err != nil {
			return nil, err
		}
		var domain string
		if cfg.Has(CDN) {
			domain = "api." + cfg.Domain
		}
		api, err := functions.NewAPI(ctx, "api", &functions.APIArgs{
			Code: archive, SubnetIDs: net.PrivateSubnetIDs, SecurityGroupID: net.AppSecurityGroupID,
			MemoryMb: cfg.LambdaMemory, TimeoutSeconds: cfg.LambdaTimeout, FunctionPrefix: e.base, ParamPrefix: e.prefix,
			Database: db, LogRetentionDays: cfg.LogRetentionDays, Region: e.region, AccountID: e.account,
			Domain: domain, CertificateArn: cert, Monitor: mon,
		})
		if err != nil {
			return nil, err
		}
		appRoles, app = append(appRoles, api.RoleName), api
		outs["apiUrl"] = api.URL
		// Cloudflare serves the SPA wherever a zone is configured; from the cdn rung on it
		// fronts the API too.
		if cfg.CloudflareZoneID != "" && cfg.Domain != "" {
			hosts := []cdn.Host{{Name: cfg.Domain, Origin: spa.BucketRegionalDomainName, Kind: cdn.Static, SPA: true}}
			if cfg.Has(CDN) {
				hosts = append(hosts, cdn.Host{Name: domain, Origin: api.DomainTarget, Kind: cdn.API})
			}
			edge, err := cdn.NewEdge(ctx, "cdn", &cdn.EdgeArgs{ZoneID: cfg.CloudflareZoneID, Hosts: hosts})
			if err != nil {
				return nil, err
			}
			edge.Publish(outs)
		}
	}

	// Rungs both ladders share.
	if cfg.Has(Cache) {
		c, err := cache.NewCache(ctx, "cache", &cache.CacheArgs{
			ID: e.base + "-cache", VpcID: net.VpcID, SubnetIDs: net.PrivateSubnetIDs, AZs: e.azs,
			ClientGroup: net.AppSecurityGroupID, Engine: cfg.CacheEngine, NodeType: cfg.CacheNodeType, Nodes: cfg.CacheNodes,
			Protect: cfg.Protect, LogRetentionDays: cfg.LogRetentionDays, Monitor: mon,
		})
		if err != nil {
			return nil, err
		}
		c.Publish(settings, outs)
		secrets = append(secrets, c.SecretArn)
	}
	if cfg.Has(Shards) {
		arns, err := shards(ctx, cfg, e, net, mon, settings, outs)
		if err != nil {
			return nil, err
		}
		secrets = append(secrets, arns...)
	}
	if cfg.Has(Tables) {
		t, err := nosql.NewTables(ctx, "tables", &nosql.TablesArgs{
			Prefix: e.base, Tables: toTables(cfg.Tables), Protect: cfg.Protect, Roles: appRoles, Monitor: mon,
		})
		if err != nil {
			return nil, err
		}
		t.Publish(settings, outs)
	}

	if len(secrets) > 0 {
		if err := app.Grant(ctx, "secrets", access.ReadSecrets(secrets)); err != nil {
			return nil, err
		}
	}
	if _, err := params.NewParameters(ctx, "params", &params.ParametersArgs{Prefix: e.prefix, Values: settings}); err != nil {
		return nil, err
	}
	outs["parameterPrefix"] = pulumi.String(e.prefix)
	if err := mon.Finish(ctx); err != nil {
		return nil, err
	}
	outs["dashboard"] = mon.DashboardName
	return outs, nil
}

func replicas(cfg *Config) int {
	if cfg.Has(Replicas) {
		return cfg.Replicas
	}
	return 0
}

func toTables(ts []Table) []nosql.Table {
	out := make([]nosql.Table, len(ts))
	for i, t := range ts {
		out[i] = nosql.Table(t)
	}
	return out
}

// ShardRule is how the app maps a user to a shard.
const ShardRule = "shard = userId mod shardCount (userId as a 64-bit integer); growing shardCount means moving the rows whose shard changes"

// shards creates one Aurora cluster a shard, each its own component named shard-<i> so that
// growing the count only creates, and publishes the shard map.
func shards(ctx *pulumi.Context, cfg *Config, e *env, net *network.Network, mon *monitor.Monitor, settings params.Values, outs pulumi.Map) (pulumi.StringArray, error) {
	type entry struct {
		Index  int    `json:"index"`
		Writer string `json:"writer"`
		Reader string `json:"reader"`
		Secret string `json:"secretArn"`
	}
	var ends []any
	var secrets pulumi.StringArray
	for i := 0; i < cfg.Shards; i++ {
		args := &database.AuroraArgs{
			Identifier: fmt.Sprintf("%s-shard-%d", e.base, i), VpcID: net.VpcID, SubnetIDs: net.DatabaseSubnetIDs, AZs: e.azs,
			AllowFrom: []database.Source{{Name: "app", Group: net.AppSecurityGroupID}}, Readers: cfg.ShardReaders,
			BackupRetentionDays: cfg.BackupRetentionDays, SlowQueryMs: cfg.SlowQueryMs, Protect: cfg.Protect,
			LogRetentionDays: cfg.LogRetentionDays, Monitor: mon, FirstAZ: i,
		}
		if cfg.Platform == Serverless {
			args.Serverless, args.MinAcu, args.MaxAcu = true, cfg.MinAcu, cfg.MaxAcu
		} else {
			args.InstanceClass = cfg.ShardInstanceClass
		}
		s, err := database.NewAurora(ctx, fmt.Sprintf("shard-%d", i), args)
		if err != nil {
			return nil, err
		}
		ends = append(ends, s.Endpoint, s.ReaderEndpoint, s.SecretArn)
		secrets = append(secrets, s.SecretArn)
	}
	shardMap := pulumi.All(ends...).ApplyT(func(v []any) (string, error) {
		m := struct {
			Rule   string  `json:"rule"`
			Count  int     `json:"shardCount"`
			Shards []entry `json:"shards"`
		}{Rule: ShardRule, Count: len(v) / 3}
		for i := 0; i < len(v); i += 3 {
			m.Shards = append(m.Shards, entry{Index: i / 3, Writer: fmt.Sprint(v[i]), Reader: fmt.Sprint(v[i+1]), Secret: fmt.Sprint(v[i+2])})
		}
		b, err := json.Marshal(m)
		return string(b), err
	}).(pulumi.StringOutput)
	outs["shardMap"] = shardMap
	settings["shards/map"] = shardMap
	return secrets, nil
}

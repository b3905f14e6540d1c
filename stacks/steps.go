package stacks

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/app/rdsca"
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
	"github.com/llama-stages/llama/contract"
)

// foundation is what every stage has and every later step reads: monitoring, the network,
// the origin certificate and Cloudflare's ranges.
type foundation struct {
	mon      *monitor.Monitor
	net      *network.Network
	cert     pulumi.StringInput // the origin certificate; nil when there is none
	cfRanges []string           // Cloudflare's ranges, wherever Cloudflare fronts the stack
}

// foundation builds the Monitoring and Network layers and looks up what the edge needs.
func (s *stage) foundation() (foundation, published, error) {
	cfg, e, out := s.cfg, s.env, newPublished()
	var f foundation
	var err error
	if s.has(Monitoring) {
		f.mon, err = monitor.NewMonitor(s.ctx, "monitor", &monitor.MonitorArgs{AlertEmail: cfg.Alarms.Email, Account: e.account()})
		if err != nil {
			return f, out, err
		}
		out.outs["alarmTopicArn"] = f.mon.TopicArn
	}
	if !s.has(Network) {
		// Every later step runs in the VPC: a rung without it is a mistake in the ladder table.
		return f, out, fmt.Errorf("stage %s/%s has no %s layer: every rung needs it (stacks.Ladder)", cfg.Platform, cfg.Stage, Network)
	}
	nat, interfaces := s.egress()
	f.net, err = network.NewNetwork(s.ctx, "network", &network.NetworkArgs{
		Cidr: cfg.Network.Cidr, AZs: e.azs,
		// Only the fleet and the functions run in the private subnets and may need a way out;
		// the box is public and the databases and the cache need none.
		Nat: nat, NatPerAz: cfg.Network.NatPerAz, InterfaceEndpoints: interfaces, Account: e.account(), Ops: s.ops(f),
	})
	if err != nil {
		return f, out, err
	}
	out.outs["vpcId"] = f.net.VpcID
	if cfg.CertificateArn != "" {
		f.cert = pulumi.String(cfg.CertificateArn)
	} else if names := cfg.CertificateNames(); len(names) > 0 {
		c, err := cdn.NewCertificate(s.ctx, "certificate", &cdn.CertificateArgs{ZoneID: cfg.Edge.ZoneID, Names: names})
		if err != nil {
			return f, out, err
		}
		f.cert = c.Arn
	}
	if s.has(CDN) || s.has(SPAEdge) {
		f.cfRanges, err = cdn.IPRanges(s.ctx)
	}
	return f, out, err
}

// ops is what every component takes the same way: protection, log retention, the monitor.
func (s *stage) ops(f foundation) monitor.Ops {
	return monitor.Ops{Protect: s.cfg.Protect, LogRetentionDays: s.cfg.LogRetentionDays, Monitor: f.mon}
}

// host is what the servers' app tier shares: the AMI, the role and the release of the app.
type host struct {
	ami  string
	role *compute.AppRole
	rel  *release.Release
	art  *release.Artifact
}

// appHost builds the app for the instance type's architecture and publishes the release the
// box and the fleet run.
func (s *stage) appHost() (host, published, error) {
	cfg, e, out := s.cfg, s.env, newPublished()
	// The instance type decides the architecture: the AMI and the app's build follow it.
	arch := compute.Arch(cfg.Servers.InstanceType)
	var h host
	var err error
	if h.ami, err = compute.LatestAL2023(s.ctx, arch); err != nil {
		return h, out, err
	}
	if h.role, err = compute.NewAppRole(s.ctx, "app-role", &compute.AppRoleArgs{ParamPrefix: e.prefix, Account: e.account()}); err != nil {
		return h, out, err
	}
	if h.art, err = s.buildApp(arch); err != nil {
		return h, out, err
	}
	if h.rel, err = release.NewRelease(s.ctx, "release", &release.ReleaseArgs{Artifact: h.art, Protect: cfg.Protect}); err != nil {
		return h, out, err
	}
	out.grants = append(out.grants, grant{"release", h.rel.ReadAccess()})
	// The box deploys the build published here; the fleet's launch template names it.
	out.settings[contract.AppReleaseBucket], out.settings[contract.AppReleaseKey], out.settings[contract.AppReleaseSHA256] = h.rel.Bucket, h.rel.Key, h.rel.SHA256
	out.outs["appRelease"] = pulumi.Sprintf("s3://%s/%s", h.rel.Bucket, h.rel.Key)
	return h, out, nil
}

// buildApp builds the app for an architecture.
func (s *stage) buildApp(arch string) (*release.Artifact, error) {
	build := s.opts.Build
	if build == nil {
		build = release.GoBuild(".")
	}
	art, err := build(s.cfg.AppPackage, arch)
	if err != nil {
		return nil, fmt.Errorf("llama:appPackage %s: %w", s.cfg.AppPackage, err)
	}
	return art, nil
}

// box: Llama 1.0's single box; retired from load-balanced on, when only its data volume stays.
func (s *stage) box(f foundation, h host) (published, error) {
	cfg, e, out := s.cfg, s.env, newPublished()
	if !s.keeps(Box) {
		return out, nil
	}
	// The box retiring waits, before its address and instance go, for resolvers to stop
	// sending clients there: twice the TTL of the record that pointed at it. The engine runs
	// the hook of a resource the program no longer declares by its name, so the name is
	// registered on every run that keeps the box's data.
	drain, err := s.ctx.RegisterResourceHook("llama-box-dns-drain", func(*pulumi.ResourceHookArgs) error {
		time.Sleep(2 * cdn.DNSOnlyTTL * time.Second)
		return nil
	}, nil)
	if err != nil {
		return out, fmt.Errorf("box drain hook: %w", err)
	}
	var hooks []*pulumi.ResourceHook
	if s.has(Hostname) {
		hooks = append(hooks, drain)
	}
	box, err := compute.NewBox(s.ctx, "box", &compute.BoxArgs{
		VpcID: f.net.VpcID, SubnetID: f.net.Public[0].ID(), AZ: e.azs[0], AppSecurityGroupID: f.net.AppSecurityGroupID,
		AMI: h.ami, InstanceType: cfg.Servers.InstanceType, InstanceProfile: h.role.InstanceProfile, RoleName: h.role.RoleName, ParamPrefix: e.prefix,
		SlowQueryMs:   cfg.Database.SlowQueryMs,
		LocalDatabase: !s.has(Database) || cfg.Pending(MoveDB), Retired: !s.has(Box), Alarms: cfg.appAlarms(),
		HTTPS: s.has(Hostname), BeforeDelete: hooks, Account: e.account(), Ops: s.ops(f),
	})
	if err != nil {
		return out, err
	}
	out.outs["boxDataVolumeId"] = box.DataVolumeID
	if s.has(Box) {
		out.outs["boxInstanceId"], out.outs["boxPublicIp"], out.outs["boxPublicDns"] = box.InstanceID, box.PublicIP, box.PublicDNS
		if s.has(Hostname) {
			// The box obtains its own certificate for the hostname (llama-app tls): the key
			// never leaves it.
			out.settings[contract.TLSDomain], out.settings[contract.TLSACMEDirectory] = pulumi.String(cfg.Edge.Domain), pulumi.String(cfg.Edge.ACMEDirectory)
			if s.servesTraffic(Box) {
				out.hosts = append(out.hosts, s.hostname(box.PublicDNS))
			}
		}
		if !s.has(Database) || cfg.Pending(MoveDB) {
			// Llama 1.0, and until its data has moved to RDS: the box's own PostgreSQL.
			publishLocalDB(&out, box)
		}
	}
	return out, nil
}

// postgres: Llama 2.0's managed database, with Llama 4.0's read replicas.
func (s *stage) postgres(f foundation) (published, error) {
	cfg, e, out := s.cfg, s.env, newPublished()
	if !s.has(Database) {
		return out, nil
	}
	d := cfg.Database
	db, err := database.NewPostgres(s.ctx, "database", &database.PostgresArgs{
		Identifier: e.base + "-db", VpcID: f.net.VpcID, SubnetIDs: f.net.DatabaseSubnetIDs, AZs: e.azs,
		AllowFrom:     []database.Source{{Name: "app", Group: f.net.AppSecurityGroupID}},
		EngineVersion: d.EngineVersion, InstanceClass: d.InstanceClass, StorageGb: d.StorageGb,
		MaxStorageGb: d.MaxStorageGb, MultiAz: d.MultiAz, BackupRetentionDays: d.BackupRetentionDays,
		SlowQueryMs: d.SlowQueryMs, Replicas: s.replicas(), Alarms: cfg.dbAlarms(), Ops: s.ops(f),
	})
	if err != nil {
		return out, err
	}
	publishPostgres(&out, db, nextIf(cfg.Pending(MoveDB)), s.sslMode())
	return out, nil
}

// fleet: Llama 3.0's load-balanced fleet and the bucket static assets move to.
func (s *stage) fleet(f foundation, h host) (published, error) {
	cfg, e, out := s.cfg, s.env, newPublished()
	if !s.has(Fleet) {
		return out, nil
	}
	fleet, err := compute.NewFleet(s.ctx, "fleet", &compute.FleetArgs{
		VpcID: f.net.VpcID, PublicSubnetIDs: f.net.PublicSubnetIDs, PrivateSubnetIDs: f.net.PrivateSubnetIDs,
		AppSecurityGroupID: f.net.AppSecurityGroupID, AMI: h.ami, InstanceType: cfg.Servers.InstanceType,
		InstanceProfile: h.role.InstanceProfile, ParamPrefix: e.prefix,
		ReleaseBucket: h.rel.Bucket, ReleaseKey: h.rel.Key, ReleaseSHA256: h.art.SHA256,
		MinSize: cfg.Servers.Min, DesiredSize: cfg.Servers.Desired, MaxSize: cfg.Servers.Max,
		CertificateArn: f.cert, OriginCidrs: s.originCidrs(f), Alarms: cfg.appAlarms(), Account: e.account(), Ops: s.ops(f),
	})
	if err != nil {
		return out, err
	}
	out.outs["loadBalancerDns"] = fleet.LoadBalancerDNS
	// The app serves the static assets from the bucket through its role (/static/), behind the
	// load balancer, and from the cdn rung on Cloudflare caches them at static.<domain>. The
	// bucket admits anonymous reads from Cloudflare's ranges alone from the cdn rung on (the
	// ladder's contract), encrypted with SSE-S3 from the start so that such reads can decrypt.
	static, err := storage.NewBucket(s.ctx, "static", &storage.BucketArgs{Protect: cfg.Protect, ReadFromCidrs: f.cfRanges, S3ManagedKeys: true})
	if err != nil {
		return out, err
	}
	out.outs["staticBucket"], out.settings[contract.StaticBucket] = static.Name, static.Name
	// The app reads the static files; uploads are the team's (or their CI's), never the app's.
	out.grants = append(out.grants, grant{"static", static.Read()})
	if s.has(Hostname) && s.servesTraffic(Fleet) {
		out.hosts = append(out.hosts, s.hostname(fleet.LoadBalancerDNS))
	}
	if s.has(CDN) {
		// static.<domain> goes to the load balancer like the app's hostname, its paths under
		// /static/ by a URL rewrite: a bucket origin would need a Host header override, which
		// Cloudflare's Origin Rules offer on the Enterprise plan only.
		out.hosts = append(out.hosts, cdn.Host{Name: cfg.staticHostname(), Origin: fleet.LoadBalancerDNS, Kind: cdn.Static, PathPrefix: "/static"})
	}
	return out, nil
}

// servesTraffic says which of the box and the fleet the app's hostname points at: the box
// until llama:moved holds traffic, then the load balancer.
func (s *stage) servesTraffic(l Layer) bool {
	onFleet := s.has(Fleet) && !s.cfg.Pending(MoveTraffic)
	return (l == Fleet) == onFleet
}

// hostname is the app's hostname pointing at an origin: DNS only below the cdn rung, where the
// origin terminates TLS itself, proxied from it on. The same record throughout.
func (s *stage) hostname(origin pulumi.StringInput) cdn.Host {
	return cdn.Host{Name: s.cfg.Edge.Domain, Origin: origin, Kind: cdn.App, DNSOnly: !s.has(CDN)}
}

// spa: the serverless ladder's single-page app bucket, private: wherever a zone is configured
// the function serves it at the SPA's hostname, through Cloudflare (functions).
func (s *stage) spa(f foundation) (*storage.Bucket, published, error) {
	cfg, out := s.cfg, newPublished()
	if !s.has(SPA) {
		return nil, out, nil
	}
	// SSE-S3 from the start, as a bucket Cloudflare once read anonymously needed.
	spa, err := storage.NewBucket(s.ctx, "spa", &storage.BucketArgs{Protect: cfg.Protect, S3ManagedKeys: true})
	if err != nil {
		return nil, out, err
	}
	out.outs["spaBucket"] = spa.Name
	return spa, out, nil
}

// serverlessDB: Aurora Serverless v2, which the functions reach directly with IAM on the
// serverless start and through RDS Proxy from the replicas rung on (proxied).
func (s *stage) serverlessDB(f foundation) (*database.Aurora, published, error) {
	cfg, e, out := s.cfg, s.env, newPublished()
	var proxy *database.ProxyArgs
	if s.cfg.Proxied() {
		proxy = &database.ProxyArgs{SubnetIDs: f.net.PrivateSubnetIDs, ClientGroup: f.net.AppSecurityGroupID}
	}
	db, err := database.NewAurora(s.ctx, "database", &database.AuroraArgs{
		Identifier: e.base + "-db", VpcID: f.net.VpcID, SubnetIDs: f.net.DatabaseSubnetIDs, AZs: e.azs,
		// The app reaches the writer itself on the serverless start, and keeps the way while a
		// promotion brings the proxy: sandboxes started before it still sign in directly.
		AllowFrom:  []database.Source{{Name: "app", Group: f.net.AppSecurityGroupID}},
		Serverless: true, MinAcu: cfg.Serverless.MinAcu, MaxAcu: cfg.Serverless.MaxAcu, Readers: s.replicas(), Proxy: proxy,
		BackupRetentionDays: cfg.Database.BackupRetentionDays, SlowQueryMs: cfg.Database.SlowQueryMs, Alarms: cfg.dbAlarms(), Ops: s.ops(f),
	})
	if err != nil {
		return nil, out, err
	}
	iamUser := ""
	if proxy == nil {
		iamUser = database.AppUser
	}
	publishAurora(&out, "", db, s.sslMode(), iamUser)
	if cfg.Pauses() {
		// A paused writer answers the first connection once it has resumed: wait for it,
		// within the function's time.
		out.settings[contract.DBConnectTimeout] = pulumi.String(fmt.Sprint(cfg.Serverless.LambdaTimeout - 2))
	}
	return db, out, nil
}

// functions: the app as a Lambda function behind an HTTP API, signing in to the database with
// IAM; from the cdn rung on, behind Cloudflare at api.<domain>. Where it reads nothing at run
// time (readsAtRunTime) it is given known, the settings published so far, with its own.
func (s *stage) functions(f foundation, db *database.Aurora, site *storage.Bucket, known params.Values) (*functions.API, published, error) {
	cfg, e, out := s.cfg, s.env, newPublished()
	// Lambda runs the app on Graviton (arm64): the same code base, its Lambda entry point.
	art, err := s.buildApp("arm64")
	if err != nil {
		return nil, out, err
	}
	var domain string
	if s.has(CDN) {
		domain = cfg.apiHostname()
	}
	d := s.siteDomain()
	if d != "" && site != nil {
		out.settings[contract.SPADomain], out.settings[contract.SPABucket] = pulumi.String(d), site.Name
	}
	var settings pulumi.StringMap
	if !s.readsAtRunTime() {
		settings = pulumi.StringMap{}
		maps.Copy(settings, known)
		maps.Copy(settings, out.settings)
	}
	// The function changes once what its new settings need is there: the endpoints it reads
	// SSM and Secrets Manager through, the database whole (a new proxy with its target
	// registered), and the database prepared where it signs in to it itself.
	ready := append([]pulumi.Resource{db}, f.net.Interfaces...)
	if !db.Proxied {
		boot, err := s.bootstrap(f, db, art)
		if err != nil {
			return nil, out, err
		}
		ready = append(ready, boot.Done)
	}
	api, err := functions.NewAPI(s.ctx, "api", &functions.APIArgs{
		Code: art.Lambda, SubnetIDs: f.net.PrivateSubnetIDs, SecurityGroupID: f.net.AppSecurityGroupID,
		MemoryMb: cfg.Serverless.LambdaMemory, TimeoutSeconds: cfg.Serverless.LambdaTimeout, FunctionPrefix: e.base, ParamPrefix: e.prefix,
		DBConnect: s.dbConnect(db), Ready: ready,
		Domain: domain, SiteDomain: s.siteDomain(), SiteBucketArn: siteArn(site), CertificateArn: f.cert, KeepDirect: cfg.Pending(MoveEdge), CorsOrigins: s.spaOrigins(),
		Settings: settings, DBPool: s.functionPool(), ReservedConcurrency: s.functionConcurrency(), Alarms: cfg.appAlarms(), Account: e.account(), Ops: s.ops(f),
	})
	if err != nil {
		return nil, out, err
	}
	out.outs["apiUrl"], out.outs["functionName"] = api.URL, api.FunctionName
	if domain != "" {
		out.hosts = append(out.hosts, cdn.Host{Name: domain, Origin: api.DomainTarget, Kind: cdn.API,
			OriginHeader: &cdn.Header{Name: functions.OriginHeader, Value: api.OriginSecret}})
	}
	if d != "" && site != nil {
		// The SPA goes through the function at its own hostname (the API's second custom
		// domain), which the app answers from the bucket: Cloudflare reaches it with the Host
		// it was asked for, with strict TLS, on every plan (a bucket origin would need Origin
		// Rules' Host header override: Enterprise only).
		host := cdn.Host{Name: d, Origin: api.SiteTarget, Kind: cdn.Static, SPA: true}
		if domain != "" {
			host.OriginHeader = &cdn.Header{Name: functions.OriginHeader, Value: api.OriginSecret}
		}
		out.hosts = append(out.hosts, host)
	}
	return api, out, nil
}

// readsAtRunTime reports whether the function reads AWS APIs beyond S3 and DynamoDB (whose
// gateway endpoints are free) while it serves: SSM for settings later steps publish (the cache,
// shards and tables come after it) and for the mover's records, and Secrets Manager for the
// cache's token and the shards' credentials. Below those rungs it is given its settings at
// deploy time and needs no network path out of the VPC: no NAT gateway, no interface endpoint.
func (s *stage) readsAtRunTime() bool {
	return s.has(Cache) || s.has(Shards) || s.has(Tables)
}

// egress is how the private subnets reach AWS's APIs: the fleet through NAT gateways (it also
// installs packages and ships logs with the agent); the functions, where they read at run
// time, through interface endpoints of the two services they call, which cost less than NAT
// and keep the traffic on AWS's network.
func (s *stage) egress() (nat bool, interfaces []string) {
	if s.has(Fleet) {
		return true, nil
	}
	if s.has(Functions) && s.readsAtRunTime() {
		return false, []string{"ssm", "secretsmanager"}
	}
	return false, nil
}

// bootstrap prepares the serverless start's database before the app's function changes: the
// schema, and the user the app signs in as with IAM (functions.Bootstrap). It runs again with
// every release, for its migrations, and with a new cluster.
func (s *stage) bootstrap(f foundation, db *database.Aurora, art *release.Artifact) (*functions.Bootstrap, error) {
	input := pulumi.All(db.Endpoint, db.MasterPassword).ApplyT(func(v []any) (string, error) {
		b, err := json.Marshal(map[string]any{"llamaBootstrap": map[string]any{
			"endpoint": fmt.Sprintf("%s:%d", v[0], database.Port), "database": database.DatabaseName, "user": database.MasterUser,
			"password": v[1], "sslmode": s.sslMode(), "appUser": database.AppUser, "idleSessionSeconds": s.idleSessionSeconds(),
		}})
		return string(b), err
	}).(pulumi.StringOutput)
	return functions.NewBootstrap(s.ctx, "bootstrap", &functions.BootstrapArgs{
		Code: art.Lambda, SubnetIDs: f.net.PrivateSubnetIDs, SecurityGroupID: f.net.AppSecurityGroupID, FunctionPrefix: s.env.base,
		Input: input, Triggers: pulumi.StringMap{"release": pulumi.String(art.SHA256), "cluster": db.ResourceID}, Ops: s.ops(f),
	}, pulumi.DependsOn([]pulumi.Resource{db}))
}

// idleSessionSeconds is how long the app's sessions may sit idle where the writer may pause:
// a minute, so that frozen sandboxes' connections do not keep it awake; 0 elsewhere.
func (s *stage) idleSessionSeconds() int {
	if s.cfg.Pauses() {
		return 60
	}
	return 0
}

// dbConnect are the database users the function signs in as with IAM: the app's user on the
// writer itself, and, through RDS Proxy, the master user the proxy's secret names. Where the
// proxy stands both stay granted: sandboxes started before it still sign in directly.
func (s *stage) dbConnect(db *database.Aurora) pulumi.StringArray {
	e := s.env
	arn := func(resource pulumi.StringOutput, user string) pulumi.StringInput {
		return pulumi.Sprintf("arn:%s:rds-db:%s:%s:dbuser:%s/%s", e.partition, e.region, e.accountID, resource, user)
	}
	out := pulumi.StringArray{arn(db.ResourceID, database.AppUser)}
	if db.Proxied {
		out = append(out, arn(db.ProxyResourceID, database.MasterUser))
	}
	return out
}

// functionPool is the connections a function sandbox keeps to each database. A sandbox serves
// one request at a time: one connection on the serverless start, where no move or migration
// runs beside it (the deploy applies the schema); two from the replicas rung on, where a
// move's catch-up or a migration may.
func (s *stage) functionPool() int {
	if !s.cfg.Proxied() {
		return 1
	}
	return 2
}

// lambdaAccountConcurrency is an account's default concurrency a region (Lambda quotas,
// "Concurrent executions"): unreserved, the function never runs more sandboxes than this.
const lambdaAccountConcurrency = 1000

// functionConcurrency bounds the function where it reaches databases without RDS Proxy: the
// serverless start's writer and the shards. A proxy in front of each would pool the
// sandboxes' connections, but costs its 8-ACU floor (RDS Proxy pricing, "Aurora Serverless
// v2"), more than a small writer itself. Instead each sandbox keeps functionPool connections
// and the sandboxes are capped so that they use at most 90% of a writer's max_connections at
// its maximum capacity (and no more than llama:maxFunctionConcurrency). 0: unreserved, where
// even the account's whole default concurrency fits (a reservation would also fail in an
// account whose limit is still a new account's).
func (s *stage) functionConcurrency() int {
	shards := s.has(Shards) && s.cfg.Shards.Count > 0
	if !shards && s.cfg.Proxied() {
		return 0
	}
	fit := database.ServerlessMaxConnections(s.cfg.Serverless.MaxAcu) * 9 / 10 / s.functionPool()
	if !shards && fit >= lambdaAccountConcurrency {
		return 0
	}
	return max(1, min(fit, s.cfg.Serverless.MaxConcurrency))
}

// siteArn is the SPA bucket's ARN where the function serves it; nil otherwise.
func siteArn(site *storage.Bucket) pulumi.StringInput {
	if site == nil {
		return nil
	}
	return site.Arn
}

// siteDomain is the SPA's hostname, wherever Cloudflare serves it; "" otherwise.
func (s *stage) siteDomain() string {
	if s.has(SPAEdge) {
		return s.cfg.Edge.Domain
	}
	return ""
}

// spaOrigins are the origins the SPA is served from, which call the API from browsers: its
// hostname wherever Cloudflare serves it (the API answers on another, api.<domain>, or on its
// own execute-api URL).
func (s *stage) spaOrigins() []string {
	if s.has(SPAEdge) {
		return []string{"https://" + s.cfg.Edge.Domain}
	}
	return nil
}

// originCidrs are the ranges the load balancer admits: Cloudflare's once the edge move is
// done, anyone's before.
func (s *stage) originCidrs(f foundation) []string {
	if s.cfg.Pending(MoveEdge) {
		return nil
	}
	return ipv4(f.cfRanges)
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

// sslMode is how the app checks the managed databases' certificates: verify-full, against the
// RDS certificate authorities the app carries (app/rdsca), where they hold the region's roots;
// else require, encrypted but unverified, which the plan warns of (RDSCANotes).
func (s *stage) sslMode() string {
	if rdsca.Covers(s.env.region, time.Now()) {
		return "verify-full"
	}
	return "require"
}

// replicas is the replica count the stage has: none below the replicas rung.
func (s *stage) replicas() int {
	if s.has(Replicas) {
		return s.cfg.Database.Replicas
	}
	return 0
}

// cache: Llama 5.0's read-through cache, on either ladder.
func (s *stage) cache(f foundation) (published, error) {
	cfg, e, out := s.cfg, s.env, newPublished()
	if !s.has(Cache) {
		return out, nil
	}
	c, err := cache.NewCache(s.ctx, "cache", &cache.CacheArgs{
		ID: e.base + "-cache", VpcID: f.net.VpcID, SubnetIDs: f.net.PrivateSubnetIDs, AZs: e.azs,
		ClientGroup: f.net.AppSecurityGroupID, Engine: cfg.Cache.Engine, NodeType: cfg.Cache.NodeType, Nodes: cfg.Cache.Nodes, MemoryAlarmPercent: cfg.Alarms.CacheMemoryPercent, Ops: s.ops(f),
	})
	if err != nil {
		return out, err
	}
	publishCache(&out, c)
	return out, nil
}

// shards: Llama 6.0. One Aurora cluster a shard, each its own component named shard-<i> so that
// growing the count only creates; the shard map is published for the app.
func (s *stage) shards(f foundation) (published, error) {
	cfg, e, out := s.cfg, s.env, newPublished()
	if !s.has(Shards) || cfg.Shards.Count == 0 {
		return out, nil
	}
	shared, err := database.NewShardBase(s.ctx, "shards", &database.ShardBaseArgs{
		VpcID: f.net.VpcID, SubnetIDs: f.net.DatabaseSubnetIDs, SlowQueryMs: cfg.Database.SlowQueryMs,
		AllowFrom: []database.Source{{Name: "app", Group: f.net.AppSecurityGroupID}},
	})
	if err != nil {
		return out, err
	}
	// One lookup of the version for every shard created in this run.
	version, err := database.AuroraVersion(s.ctx, database.AuroraMajor)
	if err != nil {
		return out, err
	}
	var shards []*database.Aurora
	for i := 0; i < cfg.Shards.Count; i++ {
		args := &database.AuroraArgs{
			Identifier: fmt.Sprintf("%s-shard-%d", e.base, i), AZs: e.azs, Base: shared, Readers: cfg.Shards.Readers, EngineVersion: version,
			BackupRetentionDays: cfg.Database.BackupRetentionDays, Alarms: cfg.dbAlarms(), FirstAZ: i, Ops: s.ops(f),
		}
		// The shards are of the kind the stage's database is: serverless on that ladder.
		if s.has(ServerlessD) {
			args.Serverless, args.MinAcu, args.MaxAcu = true, cfg.Serverless.MinAcu, cfg.Serverless.MaxAcu
		} else {
			args.InstanceClass = cfg.Shards.InstanceClass
		}
		sh, err := database.NewAurora(s.ctx, fmt.Sprintf("shard-%d", i), args)
		if err != nil {
			return out, err
		}
		shards = append(shards, sh)
	}
	publishShards(&out, shards, cfg.LiveShards())
	return out, nil
}

// tables: the final part's DynamoDB offload; the app may use these tables and no others.
func (s *stage) tables(f foundation) (published, error) {
	out := newPublished()
	if !s.has(Tables) {
		return out, nil
	}
	specs := make([]nosql.Table, len(s.cfg.Tables))
	for i, t := range s.cfg.Tables {
		specs[i] = nosql.Table(t)
	}
	t, err := nosql.NewTables(s.ctx, "tables", &nosql.TablesArgs{Prefix: s.env.base, Tables: specs, Ops: s.ops(f)})
	if err != nil {
		return out, err
	}
	publishTables(&out, t, nextIf(s.cfg.Pending(MoveActivity)))
	out.grants = append(out.grants, grant{"tables", t.Access()})
	return out, nil
}

// edge: Cloudflare in front of the hosts the other steps asked it to serve, sharing the zone's
// rules with the other Llama stacks in it.
func (s *stage) edge(hosts []cdn.Host) (published, error) {
	ctx, zoneID, out := s.ctx, s.cfg.Edge.ZoneID, newPublished()
	if len(hosts) == 0 {
		return out, nil
	}
	// Below the cdn rung the stack owns a DNS-only record and writes no rules: the zone's
	// entry points are not its concern yet.
	var zone cdn.ZoneRules
	if cdn.Proxied(hosts) {
		var err error
		if zone, err = cdn.ReadZone(ctx, zoneID, hosts); err != nil {
			return out, err
		}
	}
	const name = "cdn"
	edge, err := cdn.NewEdge(ctx, name, &cdn.EdgeArgs{ZoneID: zoneID, Hosts: hosts, Owner: ctx.Project() + "/" + ctx.Stack(), Zone: zone})
	if err != nil {
		return out, err
	}
	for _, a := range edge.Adoptions {
		s.warn(fmt.Sprintf("Cloudflare zone %s: the %s entry point exists with no rules; this up takes it into the stack by import (%s)", zoneID, a.Phase, a.ImportID))
	}
	out.outs["hostnames"] = edge.Hostnames
	out.outs["cloudflareZone"] = pulumi.String(ZoneOf(s.cfg.Edge.Domain, s.cfg.Edge.Zone))
	return out, nil
}

// finish grants the app what it was pointed at, publishes the parameters and writes the
// dashboard.
func (s *stage) finish(f foundation, app access.Grantee, out published) (pulumi.Map, error) {
	grants := out.grants
	if len(out.secrets) > 0 {
		grants = append(grants, grant{"secrets", access.ReadSecrets(out.secrets)})
	}
	if app == nil && len(grants) > 0 {
		return nil, fmt.Errorf("stage %s/%s grants access to an app it does not run: its ladder row lacks an app layer", s.cfg.Platform, s.cfg.Stage)
	}
	for _, g := range grants {
		if err := app.Grant(s.ctx, g.name, g.stmts); err != nil {
			return nil, err
		}
	}
	if _, err := params.NewParameters(s.ctx, "params", &params.ParametersArgs{Prefix: s.env.prefix, Values: out.settings}); err != nil {
		return nil, err
	}
	out.outs["parameterPrefix"] = pulumi.String(s.env.prefix)
	if err := f.mon.Finish(s.ctx); err != nil {
		return nil, err
	}
	if f.mon != nil {
		out.outs["dashboard"] = f.mon.DashboardName
	}
	out.outs["stage"], out.outs["platform"] = pulumi.String(s.cfg.Stage), pulumi.String(string(s.cfg.Platform))
	return out.outs, nil
}

// appAlarms and dbAlarms are the alarm thresholds config sets for the app tier and the
// databases.
func (c *Config) appAlarms() monitor.AppAlarms {
	return monitor.AppAlarms{LatencyP95Ms: c.Alarms.LatencyP95Ms, ErrorRatePercent: c.Alarms.ErrorRatePercent}
}

func (c *Config) dbAlarms() monitor.DBAlarms {
	return monitor.DBAlarms{ConnectionsPercent: c.Alarms.DBConnectionsPercent, LatencyP95Ms: c.Alarms.DBLatencyP95Ms, ReplicaLagSeconds: c.Alarms.ReplicaLagSeconds}
}

package database

import (
	"fmt"
	"github.com/llama-stages/llama/components/snapshot"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/access"
	"github.com/llama-stages/llama/components/monitor"
	"github.com/llama-stages/llama/components/network"
)

// AuroraMajor is the Aurora PostgreSQL major version of new clusters; the minor is the region's
// latest of it when the cluster is created (AuroraVersion), which supports Serverless v2
// scaling down to 0 ACU (16.3 and later do). AWS upgrades minors from there.
const AuroraMajor = "16"

// AuroraVersion resolves a major to the region's latest Aurora PostgreSQL minor of it
// (rds.getEngineVersion), rather than a pinned minor that AWS retires.
func AuroraVersion(ctx *pulumi.Context, major string) (string, error) {
	v, err := rds.GetEngineVersion(ctx, &rds.GetEngineVersionArgs{Engine: "aurora-postgresql", Version: pulumi.StringRef(major), Latest: pulumi.BoolRef(true)})
	if err != nil {
		return "", fmt.Errorf("looking up Aurora PostgreSQL %s: %w", major, err)
	}
	if v.VersionActual != "" {
		return v.VersionActual, nil
	}
	return v.Version, nil
}

// ProxyArgs puts an RDS Proxy in front of the cluster's writer (and, with readers, a read-only
// endpoint): pooled connections for clients that open many short ones, such as Lambda.
type ProxyArgs struct {
	SubnetIDs   pulumi.StringArrayInput // required: where the proxy's endpoints live (the clients' subnets)
	ClientGroup pulumi.StringInput      // required: the security group admitted to the proxy
}

// AuroraArgs configures an Aurora PostgreSQL cluster.
type AuroraArgs struct {
	Identifier string // required: cluster identifier; instances are <identifier>-<i>
	// EngineVersion is the cluster's version at creation (later minors are AWS's); default the
	// region's latest AuroraMajor, looked up (pass one looked up once to many clusters).
	EngineVersion  string
	VpcID          pulumi.StringInput      // required without Base
	SubnetIDs      pulumi.StringArrayInput // required without Base
	AZs            []string                // required: the instances spread over these
	FirstAZ        int                     // index into AZs of the writer's AZ, so shards spread their writers; default 0
	AllowFrom      []Source                // security groups admitted on 5432, without Base; default none
	Serverless     bool                    // db.serverless instances scaled between MinAcu and MaxAcu
	MinAcu, MaxAcu float64                 // Serverless v2 capacity bounds: 0 <= min <= max, 1 <= max <= 256
	// AutoPauseSeconds, with MinAcu 0, is how long the instances are idle (no user
	// connection) before they pause: 300..86400; default 300. Ignored otherwise.
	AutoPauseSeconds int
	InstanceClass    string     // the provisioned instance class; required unless Serverless
	Readers          int        // reader instances, each in another AZ than the writer, 0..15
	Proxy            *ProxyArgs // an RDS Proxy, which clients then reach alone; default none
	// Base, when set, is the security group, subnet group, parameter group and monitoring role
	// the cluster shares with others (shards); VpcID, SubnetIDs, AllowFrom and SlowQueryMs are
	// then the base's and must be left unset.
	Base                *ShardBase
	BackupRetentionDays int // required: 1..35
	SlowQueryMs         int // log_min_duration_statement, without Base; 0 logs every statement
	// Ops: Protect sets deletion protection; the log retention; the monitor that receives alarms and widgets.
	monitor.Ops
	Alarms monitor.DBAlarms // thresholds; zero fields take their defaults
}

// Aurora is an encrypted Aurora PostgreSQL cluster with deletion protection, a final snapshot,
// TLS forced, logs exported, a writer and readers.
type Aurora struct {
	pulumi.ResourceState

	Identifier        pulumi.StringOutput `pulumi:"identifier"`
	Endpoint          pulumi.StringOutput `pulumi:"endpoint"`
	ReaderEndpoint    pulumi.StringOutput `pulumi:"readerEndpoint"`
	SecretArn         pulumi.StringOutput `pulumi:"secretArn"`
	ProxyEndpoint     pulumi.StringOutput `pulumi:"proxyEndpoint"`
	ProxyReadEndpoint pulumi.StringOutput `pulumi:"proxyReadEndpoint"`
	ProxyArn          pulumi.StringOutput `pulumi:"proxyArn"`
	// ProxyResourceID is the last part of the proxy's ARN, for rds-db:connect policies.
	ProxyResourceID pulumi.StringOutput `pulumi:"proxyResourceId"`
	// ResourceID is the cluster's resource ID (cluster-...), for rds-db:connect policies of
	// users that sign in to the cluster with IAM.
	ResourceID pulumi.StringOutput `pulumi:"resourceId"`
	// MasterPassword is the master user's password, secret: for the deploy's preparation of
	// the database (functions.Bootstrap) alone.
	MasterPassword pulumi.StringOutput
	// Readers is how many reader instances the cluster has; Proxied whether clients reach
	// it through RDS Proxy.
	Readers int
	Proxied bool
}

func (a *AuroraArgs) validate() error {
	switch {
	case a == nil:
		return fmt.Errorf("database: NewAurora needs AuroraArgs")
	case a.Identifier == "" || len(a.AZs) == 0:
		return fmt.Errorf("database: AuroraArgs needs Identifier and AZs")
	case a.Base != nil && (a.VpcID != nil || a.SubnetIDs != nil || len(a.AllowFrom) > 0 || a.SlowQueryMs != 0):
		return fmt.Errorf("database: AuroraArgs %s: with Base, the network, AllowFrom and SlowQueryMs are the base's: leave VpcID, SubnetIDs, AllowFrom and SlowQueryMs unset", a.Identifier)
	case a.Base != nil && a.Proxy != nil:
		return fmt.Errorf("database: AuroraArgs %s: a proxy needs the cluster's own security group, not a Base's", a.Identifier)
	case a.Base == nil && (a.VpcID == nil || a.SubnetIDs == nil):
		return fmt.Errorf("database: AuroraArgs %s needs VpcID and SubnetIDs, or a Base", a.Identifier)
	case a.Serverless && a.MinAcu == 0 && a.AutoPauseSeconds != 0 && (a.AutoPauseSeconds < 300 || a.AutoPauseSeconds > 86400):
		return fmt.Errorf("database: AuroraArgs %s: auto-pause after %d s: Aurora takes 300 to 86400", a.Identifier, a.AutoPauseSeconds)
	case a.Serverless && (a.MinAcu < 0 || a.MaxAcu < 1 || a.MinAcu > a.MaxAcu || a.MaxAcu > 256):
		return fmt.Errorf("database: AuroraArgs %s: capacity %g..%g ACUs: want 0 <= min <= max, 1 <= max <= 256", a.Identifier, a.MinAcu, a.MaxAcu)
	case !a.Serverless && a.InstanceClass == "":
		return fmt.Errorf("database: AuroraArgs %s needs InstanceClass, or Serverless", a.Identifier)
	case a.Readers < 0 || a.Readers > 15:
		return fmt.Errorf("database: AuroraArgs %s: %d readers: Aurora allows 0 to 15", a.Identifier, a.Readers)
	case a.BackupRetentionDays < 1 || a.BackupRetentionDays > 35:
		return fmt.Errorf("database: AuroraArgs %s: backups kept %d days: Aurora keeps 1 to 35", a.Identifier, a.BackupRetentionDays)
	}
	return nil
}

// NewAurora creates the cluster, its instances and optionally its proxy.
func NewAurora(ctx *pulumi.Context, name string, args *AuroraArgs, opts ...pulumi.ResourceOption) (*Aurora, error) {
	if err := args.validate(); err != nil {
		return nil, err
	}
	a := &Aurora{Readers: args.Readers, Proxied: args.Proxy != nil}
	if err := ctx.RegisterComponentResource("llama:database:Aurora", name, a, opts...); err != nil {
		return nil, err
	}
	pl, cpg, proxySG, err := a.placement(ctx, name, args)
	if err != nil {
		return nil, err
	}
	own, err := newOwn(ctx, name, "cluster", args.Identifier, args.LogRetentionDays, a)
	if err != nil {
		return nil, err
	}
	cluster, err := a.cluster(ctx, name, args, pl, cpg, own)
	if err != nil {
		return nil, err
	}
	class, err := a.instances(ctx, name, args, pl, cluster)
	if err != nil {
		return nil, err
	}
	a.Identifier, a.Endpoint, a.ReaderEndpoint, a.SecretArn = cluster.ClusterIdentifier, cluster.Endpoint, cluster.ReaderEndpoint, own.creds.Arn
	a.ResourceID, a.MasterPassword = cluster.ClusterResourceId, own.creds.Password
	maxConn := MaxConnections(class)
	if args.Serverless {
		maxConn = ServerlessMaxConnections(args.MaxAcu)
	}
	w := &watcher{m: args.Monitor, th: args.Alarms, parent: a, name: name}
	if err := w.cluster(ctx, name, args.Identifier, maxConn, own.logs, args.Readers, args.Serverless); err != nil {
		return nil, err
	}
	outs := pulumi.Map{"identifier": a.Identifier, "endpoint": a.Endpoint, "readerEndpoint": a.ReaderEndpoint, "secretArn": a.SecretArn}
	if args.Proxy != nil {
		if err := a.proxy(ctx, name, args, cluster, own.creds, proxySG); err != nil {
			return nil, err
		}
		outs["proxyEndpoint"], outs["proxyArn"] = a.ProxyEndpoint, a.ProxyArn
	}
	return a, ctx.RegisterResourceOutputs(a, outs)
}

// placement returns where the cluster lives: its base's security group, subnet group and
// parameter group, or its own; with a proxy, the proxy's security group, which the
// cluster admits.
func (a *Aurora) placement(ctx *pulumi.Context, name string, args *AuroraArgs) (*placement, *rds.ClusterParameterGroup, pulumi.IDOutput, error) {
	pl, cpg := args.Base.parts()
	var proxySG pulumi.IDOutput
	if args.Base != nil {
		return pl, cpg, proxySG, nil
	}
	sources := args.AllowFrom
	if args.Proxy != nil {
		psg, err := network.NewSecurityGroup(ctx, name+"-proxy-sg", &network.SecurityGroupArgs{
			VpcID: args.VpcID, Description: "RDS Proxy: admits the app only",
			Ingress:   []network.Ingress{{Name: "app", Port: Port, SourceGroup: args.Proxy.ClientGroup, Description: "PostgreSQL from the app"}},
			EgressAll: true,
		}, pulumi.Parent(a))
		if err != nil {
			return nil, nil, proxySG, err
		}
		proxySG = psg.ID()
		sources = append(append([]Source{}, sources...), Source{Name: "proxy", Group: proxySG})
	}
	pl, err := newPlacement(ctx, name, args.VpcID, args.SubnetIDs, sources, a)
	if err != nil {
		return nil, nil, proxySG, err
	}
	cpg, err = clusterParams(ctx, name, args.SlowQueryMs, a)
	return pl, cpg, proxySG, err
}

// cluster creates the encrypted, backed-up, deletion-protected cluster.
func (a *Aurora) cluster(ctx *pulumi.Context, name string, args *AuroraArgs, pl *placement, cpg *rds.ClusterParameterGroup, own *own) (*rds.Cluster, error) {
	final, err := snapshot.FinalName(ctx, name+"-final-snapshot", args.Identifier, a)
	if err != nil {
		return nil, err
	}
	version := args.EngineVersion
	if version == "" {
		if version, err = AuroraVersion(ctx, AuroraMajor); err != nil {
			return nil, err
		}
	}
	clusterArgs := &rds.ClusterArgs{
		ClusterIdentifier: pulumi.String(args.Identifier), Engine: pulumi.String("aurora-postgresql"),
		EngineVersion: pulumi.String(version), DatabaseName: pulumi.String(DatabaseName),
		MasterUsername: pulumi.String(MasterUser), MasterPassword: own.creds.Password, Port: pulumi.Int(Port),
		DbSubnetGroupName: pl.subnets.Name, DbClusterParameterGroupName: cpg.Name, VpcSecurityGroupIds: pulumi.StringArray{pl.sg},
		StorageEncrypted: pulumi.Bool(true), IamDatabaseAuthenticationEnabled: pulumi.Bool(true),
		BackupRetentionPeriod: pulumi.Int(args.BackupRetentionDays), PreferredBackupWindow: pulumi.String(backupWindow),
		PreferredMaintenanceWindow: pulumi.String(maintenanceWindow), DeletionProtection: pulumi.Bool(args.Protect),
		SkipFinalSnapshot: pulumi.Bool(false), FinalSnapshotIdentifier: final,
		CopyTagsToSnapshot: pulumi.Bool(true), EnabledCloudwatchLogsExports: exportList("cluster"),
	}
	if args.Serverless {
		scaling := rds.ClusterServerlessv2ScalingConfigurationArgs{
			MinCapacity: pulumi.Float64(args.MinAcu), MaxCapacity: pulumi.Float64(args.MaxAcu),
		}
		if args.MinAcu == 0 {
			// Scaling to zero: the instances pause after this long without a user connection
			// (Aurora User Guide, "Scaling to Zero ACUs with automatic pause and resume").
			scaling.SecondsUntilAutoPause = pulumi.Int(max(args.AutoPauseSeconds, 300))
		}
		clusterArgs.Serverlessv2ScalingConfiguration = scaling
	}
	// Minor versions upgrade automatically (the instances' autoMinorVersionUpgrade): the
	// version new clusters start on must not be applied again once AWS has moved past it, or
	// the next update asks RDS for a downgrade, which it refuses.
	cluster, err := rds.NewCluster(ctx, name+"-cluster", clusterArgs, pulumi.Parent(a), pulumi.Protect(args.Protect),
		pulumi.DependsOn(own.logDeps), pulumi.IgnoreChanges([]string{"engineVersion"}))
	if err != nil {
		return nil, fmt.Errorf("aurora cluster: %w", err)
	}
	return cluster, own.creds.store(ctx, cluster.Endpoint, "postgres")
}

// instances creates the writer and the readers, each in the next AZ; it returns their class.
func (a *Aurora) instances(ctx *pulumi.Context, name string, args *AuroraArgs, pl *placement, cluster *rds.Cluster) (string, error) {
	class := args.InstanceClass
	if args.Serverless {
		class = "db.serverless"
	}
	for i := 0; i <= args.Readers; i++ {
		// Instance 0 is the writer (promotion tier 0); readers follow in the next AZs. An
		// instance sends no engine version: it runs the cluster's. A pinned one would be
		// refused (InvalidParameterCombination) once AWS has upgraded the cluster's minor and a
		// reader or a shard's instance is added later; IgnoreChanges skips updates only.
		if _, err := rds.NewClusterInstance(ctx, fmt.Sprintf("%s-instance-%d", name, i), &rds.ClusterInstanceArgs{
			Identifier: pulumi.Sprintf("%s-%d", args.Identifier, i), ClusterIdentifier: cluster.ID(),
			InstanceClass: pulumi.String(class), Engine: pulumi.String("aurora-postgresql"),
			AvailabilityZone:  pulumi.String(args.AZs[(args.FirstAZ+i)%len(args.AZs)]),
			DbSubnetGroupName: pl.subnets.Name, PubliclyAccessible: pulumi.Bool(false),
			PerformanceInsightsEnabled: pulumi.Bool(true), PerformanceInsightsRetentionPeriod: pulumi.Int(insightsRetention),
			MonitoringInterval: pulumi.Int(monitoringInterval), MonitoringRoleArn: pl.role.Arn,
			AutoMinorVersionUpgrade: pulumi.Bool(true), CaCertIdentifier: pulumi.String("rds-ca-rsa2048-g1"),
			PromotionTier: pulumi.Int(min(i, 15)), CopyTagsToSnapshot: pulumi.Bool(true),
		}, pulumi.Parent(a), pulumi.IgnoreChanges([]string{"engineVersion"})); err != nil {
			return "", fmt.Errorf("aurora instance %d: %w", i, err)
		}
	}
	return class, nil
}

// proxy creates the RDS Proxy: TLS required, IAM authentication required of clients, the
// master credentials read from Secrets Manager by the proxy alone.
func (a *Aurora) proxy(ctx *pulumi.Context, name string, args *AuroraArgs, cluster *rds.Cluster, creds *credentials, sg pulumi.IDOutput) error {
	child := pulumi.Parent(a)
	role, err := access.NewServiceRole(ctx, name+"-proxy-role", "rds.amazonaws.com", nil, child)
	if err != nil {
		return err
	}
	if _, err := access.NewRolePolicy(ctx, name+"-proxy-secret", role.Name, []access.Statement{{
		Sid: "ReadMasterSecret", Actions: []string{"secretsmanager:GetSecretValue"},
		Resources: pulumi.StringArray{creds.Arn},
	}}, child); err != nil {
		return err
	}
	proxy, err := rds.NewProxy(ctx, name+"-proxy", &rds.ProxyArgs{
		Name:                pulumi.String(args.Identifier + "-proxy"),
		EngineFamily:        pulumi.String("POSTGRESQL"),
		RequireTls:          pulumi.Bool(true),
		IdleClientTimeout:   pulumi.Int(1800),
		RoleArn:             role.Arn,
		VpcSubnetIds:        args.Proxy.SubnetIDs,
		VpcSecurityGroupIds: pulumi.StringArray{sg},
		Auths: rds.ProxyAuthArray{rds.ProxyAuthArgs{
			AuthScheme: pulumi.String("SECRETS"), SecretArn: creds.Arn, IamAuth: pulumi.String("REQUIRED"),
			Description: pulumi.String("master credentials; clients authenticate with IAM"),
		}},
	}, child)
	if err != nil {
		return fmt.Errorf("rds proxy: %w", err)
	}
	if err := a.proxyTargets(ctx, name, proxy, cluster); err != nil {
		return err
	}
	a.ProxyEndpoint, a.ProxyArn = proxy.Endpoint, proxy.Arn
	a.ProxyResourceID = proxy.Arn.ApplyT(func(arn string) string {
		for i := len(arn) - 1; i >= 0; i-- {
			if arn[i] == ':' {
				return arn[i+1:]
			}
		}
		return arn
	}).(pulumi.StringOutput)
	a.ProxyReadEndpoint = a.ProxyEndpoint
	if args.Readers > 0 {
		ro, err := rds.NewProxyEndpoint(ctx, name+"-proxy-read", &rds.ProxyEndpointArgs{
			DbProxyName: proxy.Name, DbProxyEndpointName: pulumi.String(args.Identifier + "-proxy-ro"),
			VpcSubnetIds: args.Proxy.SubnetIDs, VpcSecurityGroupIds: pulumi.StringArray{sg}, TargetRole: pulumi.String("READ_ONLY"),
		}, child)
		if err != nil {
			return fmt.Errorf("rds proxy read endpoint: %w", err)
		}
		a.ProxyReadEndpoint = ro.Endpoint
	}
	return nil
}

// proxyTargets: the proxy's connection pool and its target, the cluster.
func (a *Aurora) proxyTargets(ctx *pulumi.Context, name string, proxy *rds.Proxy, cluster *rds.Cluster) error {
	child := pulumi.Parent(a)
	if _, err := rds.NewProxyDefaultTargetGroup(ctx, name+"-proxy-targets", &rds.ProxyDefaultTargetGroupArgs{
		DbProxyName: proxy.Name,
		ConnectionPoolConfig: rds.ProxyDefaultTargetGroupConnectionPoolConfigArgs{
			MaxConnectionsPercent: pulumi.Int(90), MaxIdleConnectionsPercent: pulumi.Int(50), ConnectionBorrowTimeout: pulumi.Int(120),
		},
	}, child); err != nil {
		return fmt.Errorf("rds proxy target group: %w", err)
	}
	if _, err := rds.NewProxyTarget(ctx, name+"-proxy-target", &rds.ProxyTargetArgs{
		DbProxyName: proxy.Name, TargetGroupName: pulumi.String("default"), DbClusterIdentifier: cluster.ClusterIdentifier,
	}, child); err != nil {
		return fmt.Errorf("rds proxy target: %w", err)
	}
	return nil
}

// clusterParams creates a cluster parameter group with the settings every database carries.
func clusterParams(ctx *pulumi.Context, name string, slowQueryMs int, parent pulumi.Resource) (*rds.ClusterParameterGroup, error) {
	var cps rds.ClusterParameterGroupParameterArray
	for _, p := range pgParameters(slowQueryMs) {
		cps = append(cps, rds.ClusterParameterGroupParameterArgs{Name: pulumi.String(p.name), Value: pulumi.String(p.value), ApplyMethod: pulumi.String("immediate")})
	}
	cpg, err := rds.NewClusterParameterGroup(ctx, name+"-params", &rds.ClusterParameterGroupArgs{
		Family:      pulumi.String("aurora-postgresql" + AuroraMajor),
		Description: pulumi.String("Llama: TLS forced, slow statements and lock waits logged"),
		Parameters:  cps,
	}, pulumi.Parent(parent))
	if err != nil {
		return nil, fmt.Errorf("cluster parameter group: %w", err)
	}
	return cpg, nil
}

// ShardBaseArgs configures what the shards share.
type ShardBaseArgs struct {
	VpcID       pulumi.StringInput      // required
	SubnetIDs   pulumi.StringArrayInput // required: isolated database subnets
	AllowFrom   []Source                // security groups admitted on 5432; default none
	SlowQueryMs int                     // log_min_duration_statement; 0 logs every statement
}

// ShardBase is what every shard shares: one security group, subnet group, cluster parameter
// group and monitoring role. Shared, 64 shards stay within RDS's per-region quotas of subnet
// and parameter groups (50 each by default), and a setting changes once for all.
type ShardBase struct {
	pulumi.ResourceState

	place  *placement
	params *rds.ClusterParameterGroup
}

// NewShardBase creates the shared parts.
func NewShardBase(ctx *pulumi.Context, name string, args *ShardBaseArgs, opts ...pulumi.ResourceOption) (*ShardBase, error) {
	if args == nil || args.VpcID == nil || args.SubnetIDs == nil {
		return nil, fmt.Errorf("database: ShardBaseArgs needs VpcID and SubnetIDs")
	}
	s := &ShardBase{}
	if err := ctx.RegisterComponentResource("llama:database:ShardBase", name, s, opts...); err != nil {
		return nil, err
	}
	var err error
	if s.place, err = newPlacement(ctx, name, args.VpcID, args.SubnetIDs, args.AllowFrom, s); err != nil {
		return nil, err
	}
	if s.params, err = clusterParams(ctx, name, args.SlowQueryMs, s); err != nil {
		return nil, err
	}
	return s, ctx.RegisterResourceOutputs(s, pulumi.Map{"subnetGroup": s.place.subnets.Name, "parameterGroup": s.params.Name})
}

func (s *ShardBase) parts() (*placement, *rds.ClusterParameterGroup) {
	if s == nil {
		return nil, nil
	}
	return s.place, s.params
}

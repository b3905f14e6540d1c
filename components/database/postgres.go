package database

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/monitor"
)

// PostgresArgs configures an RDS for PostgreSQL primary and its read replicas.
type PostgresArgs struct {
	Identifier          string // DB instance identifier; replicas are <identifier>-replica-<i>
	VpcID               pulumi.StringInput
	SubnetIDs           pulumi.StringArrayInput // isolated database subnets
	AZs                 []string                // replicas spread over these, starting after the primary's
	AllowFrom           []Source                // security groups admitted on 5432
	EngineVersion       string                  // "16" or "16.4"
	InstanceClass       string
	StorageGb           int
	MaxStorageGb        int  // storage autoscaling ceiling
	MultiAz             bool // a standby in another AZ
	BackupRetentionDays int  // 1..35
	SlowQueryMs         int  // log_min_duration_statement
	Replicas            int  // read replicas, 0..15
	Protect             bool // pulumi protect and deletion protection on the primary
	LogRetentionDays    int
	// Monitor receives the database's alarms and widgets; nil: none.
	Monitor *monitor.Monitor
	Alarms  monitor.DBAlarms // thresholds; zero fields take their defaults
}

// Postgres is an RDS for PostgreSQL primary with TLS forced, encrypted gp3 storage, backups,
// a final snapshot, Performance Insights, Enhanced Monitoring and IAM authentication, and its
// read replicas.
type Postgres struct {
	pulumi.ResourceState

	Address         pulumi.StringOutput      `pulumi:"address"`
	Port            pulumi.IntOutput         `pulumi:"port"`
	SecretArn       pulumi.StringOutput      `pulumi:"secretArn"`
	ReaderEndpoints pulumi.StringArrayOutput `pulumi:"readerEndpoints"`

	// ReplicaEndpoints are the read replicas' addresses, one per replica.
	ReplicaEndpoints []pulumi.StringOutput

	identifier string
}

// NewPostgres creates the primary and its replicas.
func NewPostgres(ctx *pulumi.Context, name string, args *PostgresArgs, opts ...pulumi.ResourceOption) (*Postgres, error) {
	p := &Postgres{identifier: args.Identifier}
	if err := ctx.RegisterComponentResource("llama:database:Postgres", name, p, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(p)
	pl, err := newPlacement(ctx, name, args.VpcID, args.SubnetIDs, args.AllowFrom, p)
	if err != nil {
		return nil, err
	}
	b, err := newOwn(ctx, name, "instance", args.Identifier, args.LogRetentionDays, p)
	if err != nil {
		return nil, err
	}
	pg, err := rds.NewParameterGroup(ctx, name+"-params", &rds.ParameterGroupArgs{
		Family:      pulumi.String("postgres" + majorOf(args.EngineVersion)),
		Description: pulumi.String("Llama: TLS forced, slow statements and lock waits logged"),
		Parameters:  parameterList(args.SlowQueryMs),
	}, child)
	if err != nil {
		return nil, fmt.Errorf("db parameter group: %w", err)
	}
	sg, subnets, role, creds, logs := pl.sg, pl.subnets, pl.role, b.creds, b.logs
	common := func(a *rds.InstanceArgs) *rds.InstanceArgs {
		a.InstanceClass = pulumi.String(args.InstanceClass)
		a.StorageEncrypted = pulumi.Bool(true)
		a.StorageType = pulumi.String("gp3")
		a.MaxAllocatedStorage = pulumi.Int(args.MaxStorageGb)
		a.ParameterGroupName = pg.Name
		a.VpcSecurityGroupIds = pulumi.StringArray{sg}
		a.PubliclyAccessible = pulumi.Bool(false)
		a.IamDatabaseAuthenticationEnabled = pulumi.Bool(true)
		a.PerformanceInsightsEnabled = pulumi.Bool(true)
		a.PerformanceInsightsRetentionPeriod = pulumi.Int(insightsRetention)
		a.MonitoringInterval = pulumi.Int(monitoringInterval)
		a.MonitoringRoleArn = role.Arn
		a.EnabledCloudwatchLogsExports = exportList("instance")
		a.AutoMinorVersionUpgrade = pulumi.Bool(true)
		a.CopyTagsToSnapshot = pulumi.Bool(true)
		a.CaCertIdentifier = pulumi.String("rds-ca-rsa2048-g1")
		a.MaintenanceWindow = pulumi.String(maintenanceWindow)
		return a
	}
	primaryArgs := common(&rds.InstanceArgs{
		Identifier:              pulumi.String(args.Identifier),
		Engine:                  pulumi.String("postgres"),
		EngineVersion:           pulumi.String(args.EngineVersion),
		AllocatedStorage:        pulumi.Int(args.StorageGb),
		DbName:                  pulumi.String(DatabaseName),
		Username:                pulumi.String(MasterUser),
		Password:                creds.Password,
		Port:                    pulumi.Int(Port),
		DbSubnetGroupName:       subnets.Name,
		MultiAz:                 pulumi.Bool(args.MultiAz),
		BackupRetentionPeriod:   pulumi.Int(args.BackupRetentionDays),
		BackupWindow:            pulumi.String(backupWindow),
		DeletionProtection:      pulumi.Bool(args.Protect),
		SkipFinalSnapshot:       pulumi.Bool(false),
		FinalSnapshotIdentifier: pulumi.String(args.Identifier + "-final"),
		DeleteAutomatedBackups:  pulumi.Bool(false),
		// A new major version in llama:dbEngineVersion upgrades in place (in the maintenance
		// window): RDS refuses a major change without this, and the parameter group's family
		// moves with it (a new group; the instance and its replicas switch to it).
		AllowMajorVersionUpgrade: pulumi.Bool(true),
	})
	if !args.MultiAz {
		primaryArgs.AvailabilityZone = pulumi.String(args.AZs[0])
	}
	primary, err := rds.NewInstance(ctx, name+"-primary", primaryArgs, child, pulumi.Protect(args.Protect),
		pulumi.DependsOn(b.logDeps))
	if err != nil {
		return nil, fmt.Errorf("db primary: %w", err)
	}
	if err := creds.store(ctx, primary.Address, "postgres"); err != nil {
		return nil, err
	}
	p.Address, p.Port, p.SecretArn = primary.Address, primary.Port, creds.Arn
	w := &watcher{m: args.Monitor, th: args.Alarms, parent: p, name: name}
	if err := w.instance(ctx, name+"-primary", args.Identifier, MaxConnections(args.InstanceClass), logs, false); err != nil {
		return nil, err
	}

	var readers pulumi.StringArray
	for i := 0; i < args.Replicas; i++ {
		id := fmt.Sprintf("%s-replica-%d", args.Identifier, i)
		rlogs, rdeps, err := logGroups(ctx, fmt.Sprintf("%s-replica-%d", name, i), "instance", id, args.LogRetentionDays, p)
		if err != nil {
			return nil, err
		}
		replica, err := rds.NewInstance(ctx, fmt.Sprintf("%s-replica-%d", name, i), common(&rds.InstanceArgs{
			Identifier:        pulumi.String(id),
			ReplicateSourceDb: primary.Identifier,
			AvailabilityZone:  pulumi.String(args.AZs[(i+1)%len(args.AZs)]),
			SkipFinalSnapshot: pulumi.Bool(true), // a replica holds a copy: its source keeps the data
		}), child, pulumi.DependsOn(rdeps))
		if err != nil {
			return nil, fmt.Errorf("db replica %d: %w", i, err)
		}
		readers = append(readers, replica.Address)
		p.ReplicaEndpoints = append(p.ReplicaEndpoints, replica.Address)
		if err := w.instance(ctx, fmt.Sprintf("%s-replica-%d", name, i), id, MaxConnections(args.InstanceClass), rlogs, true); err != nil {
			return nil, err
		}
	}
	p.ReaderEndpoints = readers.ToStringArrayOutput()
	return p, ctx.RegisterResourceOutputs(p, pulumi.Map{
		"address": p.Address, "port": p.Port, "secretArn": p.SecretArn, "readerEndpoints": p.ReaderEndpoints,
	})
}

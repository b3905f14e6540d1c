package database

import (
	"fmt"
	"github.com/llama-stages/llama/components/snapshot"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/monitor"
)

// PostgresArgs configures an RDS for PostgreSQL primary and its read replicas.
type PostgresArgs struct {
	Identifier          string                  // required: DB instance identifier; replicas are <identifier>-replica-<i>
	VpcID               pulumi.StringInput      // required
	SubnetIDs           pulumi.StringArrayInput // required: isolated database subnets
	AZs                 []string                // required: replicas spread over these, starting after the primary's
	AllowFrom           []Source                // security groups admitted on 5432; default none
	EngineVersion       string                  // required: a major version ("16"); minors upgrade automatically
	InstanceClass       string                  // required
	StorageGb           int                     // required: at least 20
	MaxStorageGb        int                     // required: storage autoscaling ceiling, above StorageGb
	MultiAz             bool                    // a standby in another AZ; default false
	BackupRetentionDays int                     // required: 1..35
	SlowQueryMs         int                     // log_min_duration_statement; 0 logs every statement
	Replicas            int                     // read replicas, 0..15; default 0
	// Ops: Protect sets deletion protection on the primary; the log retention; the monitor that receives alarms and widgets.
	monitor.Ops
	Alarms monitor.DBAlarms // thresholds; zero fields take their defaults
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

func (a *PostgresArgs) validate() error {
	switch {
	case a == nil:
		return fmt.Errorf("database: NewPostgres needs PostgresArgs")
	case a.Identifier == "" || a.VpcID == nil || a.SubnetIDs == nil || len(a.AZs) == 0:
		return fmt.Errorf("database: PostgresArgs needs Identifier, VpcID, SubnetIDs and AZs")
	case a.EngineVersion == "" || a.InstanceClass == "":
		return fmt.Errorf("database: PostgresArgs %s needs EngineVersion and InstanceClass", a.Identifier)
	case a.StorageGb < 20 || a.MaxStorageGb <= a.StorageGb:
		return fmt.Errorf("database: PostgresArgs %s: storage %d GiB growing to %d: want at least 20, and a larger ceiling", a.Identifier, a.StorageGb, a.MaxStorageGb)
	case a.BackupRetentionDays < 1 || a.BackupRetentionDays > 35:
		return fmt.Errorf("database: PostgresArgs %s: backups kept %d days: RDS keeps 1 to 35 (replicas need backups)", a.Identifier, a.BackupRetentionDays)
	case a.Replicas < 0 || a.Replicas > 15:
		return fmt.Errorf("database: PostgresArgs %s: %d replicas: RDS allows 0 to 15", a.Identifier, a.Replicas)
	}
	return nil
}

// NewPostgres creates the primary and its replicas.
func NewPostgres(ctx *pulumi.Context, name string, args *PostgresArgs, opts ...pulumi.ResourceOption) (*Postgres, error) {
	if err := args.validate(); err != nil {
		return nil, err
	}
	p := &Postgres{identifier: args.Identifier}
	if err := ctx.RegisterComponentResource("llama:database:Postgres", name, p, opts...); err != nil {
		return nil, err
	}
	pl, err := newPlacement(ctx, name, args.VpcID, args.SubnetIDs, args.AllowFrom, p)
	if err != nil {
		return nil, err
	}
	own, err := newOwn(ctx, name, "instance", args.Identifier, args.LogRetentionDays, p)
	if err != nil {
		return nil, err
	}
	pg, err := rds.NewParameterGroup(ctx, name+"-params", &rds.ParameterGroupArgs{
		Family:      pulumi.String("postgres" + majorOf(args.EngineVersion)),
		Description: pulumi.String("Llama: TLS forced, slow statements and lock waits logged"),
		Parameters:  parameterList(args.SlowQueryMs),
	}, pulumi.Parent(p))
	if err != nil {
		return nil, fmt.Errorf("db parameter group: %w", err)
	}
	common := instanceSettings(args, pl, pg)
	primary, err := p.primary(ctx, name, args, pl, own, common)
	if err != nil {
		return nil, err
	}
	w := &watcher{m: args.Monitor, th: args.Alarms, parent: p, name: name}
	if err := w.instance(ctx, name+"-primary", args.Identifier, MaxConnections(args.InstanceClass), own.logs, false); err != nil {
		return nil, err
	}
	if err := p.replicas(ctx, name, args, primary, common, w); err != nil {
		return nil, err
	}
	return p, ctx.RegisterResourceOutputs(p, pulumi.Map{
		"address": p.Address, "port": p.Port, "secretArn": p.SecretArn, "readerEndpoints": p.ReaderEndpoints,
	})
}

// instanceSettings returns what the primary and its replicas share: encrypted gp3 storage
// that grows, the parameter group, private, IAM authentication, Performance Insights,
// enhanced monitoring, log exports and automatic minor upgrades.
func instanceSettings(args *PostgresArgs, pl *placement, pg *rds.ParameterGroup) func(*rds.InstanceArgs) *rds.InstanceArgs {
	return func(a *rds.InstanceArgs) *rds.InstanceArgs {
		a.InstanceClass, a.StorageEncrypted, a.StorageType = pulumi.String(args.InstanceClass), pulumi.Bool(true), pulumi.String("gp3")
		a.MaxAllocatedStorage, a.ParameterGroupName = pulumi.Int(args.MaxStorageGb), pg.Name
		a.VpcSecurityGroupIds, a.PubliclyAccessible = pulumi.StringArray{pl.sg}, pulumi.Bool(false)
		a.IamDatabaseAuthenticationEnabled = pulumi.Bool(true)
		a.PerformanceInsightsEnabled, a.PerformanceInsightsRetentionPeriod = pulumi.Bool(true), pulumi.Int(insightsRetention)
		a.MonitoringInterval, a.MonitoringRoleArn = pulumi.Int(monitoringInterval), pl.role.Arn
		a.EnabledCloudwatchLogsExports = exportList("instance")
		a.AutoMinorVersionUpgrade, a.CopyTagsToSnapshot = pulumi.Bool(true), pulumi.Bool(true)
		a.CaCertIdentifier, a.MaintenanceWindow = pulumi.String("rds-ca-rsa2048-g1"), pulumi.String(maintenanceWindow)
		return a
	}
}

// primary creates the primary: Multi-AZ where asked, backed up, deletion-protected, a final
// snapshot on delete.
func (p *Postgres) primary(ctx *pulumi.Context, name string, args *PostgresArgs, pl *placement, own *own, common func(*rds.InstanceArgs) *rds.InstanceArgs) (*rds.Instance, error) {
	final, err := snapshot.FinalName(ctx, name+"-final-snapshot", args.Identifier, p)
	if err != nil {
		return nil, err
	}
	primaryArgs := common(&rds.InstanceArgs{
		Identifier: pulumi.String(args.Identifier), Engine: pulumi.String("postgres"), EngineVersion: pulumi.String(args.EngineVersion),
		AllocatedStorage: pulumi.Int(args.StorageGb), DbName: pulumi.String(DatabaseName),
		Username: pulumi.String(MasterUser), Password: own.creds.Password, Port: pulumi.Int(Port),
		DbSubnetGroupName: pl.subnets.Name, MultiAz: pulumi.Bool(args.MultiAz),
		BackupRetentionPeriod: pulumi.Int(args.BackupRetentionDays), BackupWindow: pulumi.String(backupWindow),
		DeletionProtection: pulumi.Bool(args.Protect), SkipFinalSnapshot: pulumi.Bool(false),
		FinalSnapshotIdentifier: final, DeleteAutomatedBackups: pulumi.Bool(false),
		// A new major version in llama:dbEngineVersion upgrades in place (in the maintenance
		// window): RDS refuses a major change without this, and the parameter group's family
		// moves with it (a new group; the instance and its replicas switch to it).
		AllowMajorVersionUpgrade: pulumi.Bool(true),
	})
	if !args.MultiAz {
		primaryArgs.AvailabilityZone = pulumi.String(args.AZs[0])
	}
	// The AZ is ForceNew (terraform-provider-aws, aws_db_instance: availability_zone) and a
	// Multi-AZ instance may not name one: turning Multi-AZ on or off (llama:dbMultiAz, or
	// llama:protect while it is unset) must convert the instance in place, not replace it, so
	// the AZ counts at creation only.
	primary, err := rds.NewInstance(ctx, name+"-primary", primaryArgs, pulumi.Parent(p), pulumi.Protect(args.Protect),
		pulumi.DependsOn(own.logDeps), pulumi.IgnoreChanges([]string{"availabilityZone"}))
	if err != nil {
		return nil, fmt.Errorf("db primary: %w", err)
	}
	if err := own.creds.store(ctx, primary.Address, "postgres"); err != nil {
		return nil, err
	}
	p.Address, p.Port, p.SecretArn = primary.Address, primary.Port, own.creds.Arn
	return primary, nil
}

// replicas creates the read replicas, each in the next AZ after the primary's, each watched.
func (p *Postgres) replicas(ctx *pulumi.Context, name string, args *PostgresArgs, primary *rds.Instance, common func(*rds.InstanceArgs) *rds.InstanceArgs, w *watcher) error {
	var readers pulumi.StringArray
	for i := 0; i < args.Replicas; i++ {
		id, rname := fmt.Sprintf("%s-replica-%d", args.Identifier, i), fmt.Sprintf("%s-replica-%d", name, i)
		rlogs, rdeps, err := logGroups(ctx, rname, "instance", id, args.LogRetentionDays, p)
		if err != nil {
			return err
		}
		replica, err := rds.NewInstance(ctx, rname, common(&rds.InstanceArgs{
			Identifier: pulumi.String(id), ReplicateSourceDb: primary.Identifier,
			AvailabilityZone:  pulumi.String(args.AZs[(i+1)%len(args.AZs)]),
			SkipFinalSnapshot: pulumi.Bool(true), // a replica holds a copy: its source keeps the data
		}), pulumi.Parent(p), pulumi.DependsOn(rdeps))
		if err != nil {
			return fmt.Errorf("db replica %d: %w", i, err)
		}
		readers = append(readers, replica.Address)
		p.ReplicaEndpoints = append(p.ReplicaEndpoints, replica.Address)
		if err := w.instance(ctx, rname, id, MaxConnections(args.InstanceClass), rlogs, true); err != nil {
			return err
		}
	}
	p.ReaderEndpoints = readers.ToStringArrayOutput()
	return nil
}

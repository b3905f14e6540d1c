// Package cache holds the read-through cache of Llama 5.0: an ElastiCache replication group.
package cache

import (
	"fmt"
	"github.com/llama-stages/llama/components/snapshot"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elasticache"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/monitor"
	"github.com/llama-stages/llama/components/network"
	"github.com/llama-stages/llama/components/secret"
)

// Port is the cache's port.
const Port = 6379

// engineVersions are the engine versions new groups start on.
var engineVersions = map[string]string{"valkey": "8.0", "redis": "7.1"}

// The replication group's size: automatic failover needs a replica, and a replication group
// without cluster mode holds a primary and at most five replicas (ElastiCache User Guide,
// "Replication: Valkey and Redis OSS Cluster Mode Disabled vs. Enabled").
const (
	MinNodes = 2
	MaxNodes = 6
)

// DefaultMemoryAlarmPercent is the memory use a node alarms at where none is given.
const DefaultMemoryAlarmPercent = 80

// CacheArgs configures the cache.
type CacheArgs struct {
	ID          string                  // required: replication group ID, 1..40 characters
	VpcID       pulumi.StringInput      // required
	SubnetIDs   pulumi.StringArrayInput // required: private subnets
	AZs         []string                // required: the nodes spread over these
	ClientGroup pulumi.StringInput      // required: the app's security group, the only one admitted
	Engine      string                  // valkey (default) or redis
	NodeType    string                  // required
	Nodes       int                     // required: primary plus replicas, MinNodes..MaxNodes
	// Ops: Protect (a final snapshot is always taken); the log retention; the monitor that receives alarms and widgets.
	monitor.Ops
	// MemoryAlarmPercent alarms when a node's memory use passes it; default
	// DefaultMemoryAlarmPercent.
	MemoryAlarmPercent int
}

// Cache is a Multi-AZ replication group with automatic failover, encryption in transit and at
// rest, an auth token kept in Secrets Manager, daily snapshots and its logs in CloudWatch.
type Cache struct {
	pulumi.ResourceState

	PrimaryEndpoint pulumi.StringOutput `pulumi:"primaryEndpoint"`
	ReaderEndpoint  pulumi.StringOutput `pulumi:"readerEndpoint"`
	SecretArn       pulumi.StringOutput `pulumi:"secretArn"`
}

func (a *CacheArgs) validate() error {
	switch {
	case a == nil:
		return fmt.Errorf("cache: NewCache needs CacheArgs")
	case a.ID == "" || len(a.ID) > 40:
		return fmt.Errorf("cache: ID %q: 1 to 40 characters", a.ID)
	case a.VpcID == nil || a.SubnetIDs == nil || a.ClientGroup == nil || len(a.AZs) == 0 || a.NodeType == "":
		return fmt.Errorf("cache: CacheArgs needs VpcID, SubnetIDs, ClientGroup, AZs and NodeType")
	case a.Nodes < MinNodes || a.Nodes > MaxNodes:
		return fmt.Errorf("cache: automatic failover needs at least %d nodes, got %d (at most %d)", MinNodes, a.Nodes, MaxNodes)
	case a.Engine != "" && engineVersions[a.Engine] == "":
		return fmt.Errorf("cache: engine %q: valkey or redis", a.Engine)
	}
	return nil
}

// NewCache creates the cache.
func NewCache(ctx *pulumi.Context, name string, args *CacheArgs, opts ...pulumi.ResourceOption) (*Cache, error) {
	if err := args.validate(); err != nil {
		return nil, err
	}
	c := &Cache{}
	if err := ctx.RegisterComponentResource("llama:cache:Cache", name, c, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(c)
	sg, err := network.NewSecurityGroup(ctx, name+"-sg", &network.SecurityGroupArgs{
		VpcID: args.VpcID, Description: "Cache: admits the app only",
		Ingress: []network.Ingress{{Name: "app", Port: Port, SourceGroup: args.ClientGroup, Description: "cache from the app"}},
	}, child)
	if err != nil {
		return nil, err
	}
	subnets, err := elasticache.NewSubnetGroup(ctx, name+"-subnets", &elasticache.SubnetGroupArgs{
		SubnetIds: args.SubnetIDs, Description: pulumi.String("Private subnets of the cache"),
	}, child)
	if err != nil {
		return nil, fmt.Errorf("cache subnet group: %w", err)
	}
	token, err := secret.New(ctx, name+"-auth", secret.Args{Description: fmt.Sprintf("Auth token of the %s cache", args.ID), Length: 64}, c)
	if err != nil {
		return nil, err
	}
	if _, err := token.Store(ctx, token.Password); err != nil {
		return nil, err
	}
	logs, err := c.logDelivery(ctx, name, args)
	if err != nil {
		return nil, err
	}
	rg, err := c.group(ctx, name, args, sg.ID(), subnets.Name, token.Password, logs)
	if err != nil {
		return nil, err
	}
	c.PrimaryEndpoint, c.ReaderEndpoint, c.SecretArn = rg.PrimaryEndpointAddress, rg.ReaderEndpointAddress, token.Arn
	if err := c.watch(ctx, name, args); err != nil {
		return nil, err
	}
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"primaryEndpoint": c.PrimaryEndpoint, "readerEndpoint": c.ReaderEndpoint, "secretArn": c.SecretArn})
}

// logDelivery creates the slow and engine log groups the group delivers to.
func (c *Cache) logDelivery(ctx *pulumi.Context, name string, args *CacheArgs) (elasticache.ReplicationGroupLogDeliveryConfigurationArray, error) {
	var logs elasticache.ReplicationGroupLogDeliveryConfigurationArray
	for _, kind := range []string{"slow-log", "engine-log"} {
		g, err := monitor.NewLogGroup(ctx, name+"-"+kind, monitor.LogGroupArgs{
			Name: fmt.Sprintf("/aws/elasticache/%s/%s", args.ID, kind), RetentionDays: args.LogRetentionDays,
		}, pulumi.Parent(c))
		if err != nil {
			return nil, err
		}
		logs = append(logs, elasticache.ReplicationGroupLogDeliveryConfigurationArgs{
			Destination: g.Name, DestinationType: pulumi.String("cloudwatch-logs"), LogFormat: pulumi.String("json"), LogType: pulumi.String(kind),
		})
	}
	return logs, nil
}

// group creates the replication group: nodes spread over the AZs, Multi-AZ with automatic
// failover, encrypted in transit and at rest, an auth token, daily snapshots and a final one.
func (c *Cache) group(ctx *pulumi.Context, name string, args *CacheArgs, sg pulumi.IDOutput, subnets pulumi.StringOutput,
	token pulumi.StringOutput, logs elasticache.ReplicationGroupLogDeliveryConfigurationArray) (*elasticache.ReplicationGroup, error) {
	var azs pulumi.StringArray
	for i := 0; i < args.Nodes; i++ {
		azs = append(azs, pulumi.String(args.AZs[i%len(args.AZs)]))
	}
	engine := args.Engine
	if engine == "" {
		engine = "valkey"
	}
	final, err := snapshot.FinalName(ctx, name+"-final-snapshot", args.ID, c)
	if err != nil {
		return nil, err
	}
	rg, err := elasticache.NewReplicationGroup(ctx, name+"-group", &elasticache.ReplicationGroupArgs{
		ReplicationGroupId: pulumi.String(args.ID), Description: pulumi.String("Llama read-through cache"),
		Engine: pulumi.String(engine), EngineVersion: pulumi.String(engineVersions[engine]),
		NodeType: pulumi.String(args.NodeType), NumCacheClusters: pulumi.Int(args.Nodes), PreferredCacheClusterAzs: azs,
		Port: pulumi.Int(Port), SubnetGroupName: subnets, SecurityGroupIds: pulumi.StringArray{sg},
		AutomaticFailoverEnabled: pulumi.Bool(true), MultiAzEnabled: pulumi.Bool(true),
		AtRestEncryptionEnabled: pulumi.Bool(true), TransitEncryptionEnabled: pulumi.Bool(true), AuthToken: token,
		SnapshotRetentionLimit: pulumi.Int(7), SnapshotWindow: pulumi.String("02:00-03:00"),
		MaintenanceWindow: pulumi.String("sun:05:30-sun:06:30"), FinalSnapshotIdentifier: final,
		AutoMinorVersionUpgrade: pulumi.Bool(true), LogDeliveryConfigurations: logs,
	}, pulumi.Parent(c), pulumi.Protect(args.Protect))
	if err != nil {
		return nil, fmt.Errorf("cache replication group: %w", err)
	}
	return rg, nil
}

// watch adds the cache's CPU, memory, evictions and hit rate to the dashboard, per node, and
// alarms on memory, evictions and CPU.
func (c *Cache) watch(ctx *pulumi.Context, name string, args *CacheArgs) error {
	m := args.Monitor
	if m == nil {
		return nil
	}
	memory := args.MemoryAlarmPercent
	if memory == 0 {
		memory = DefaultMemoryAlarmPercent
	}
	section := "Cache: " + args.ID
	for i := 1; i <= args.Nodes; i++ {
		node := fmt.Sprintf("%s-%03d", args.ID, i) // ElastiCache names member clusters so
		d := map[string]pulumi.StringInput{"CacheClusterId": pulumi.String(node)}
		ec := func(metric, stat string) monitor.Metric {
			return monitor.Metric{Namespace: "AWS/ElastiCache", Name: metric, Dimensions: d, Stat: stat, Label: node + " " + metric}
		}
		m.AddWidgets(
			monitor.Widget{Section: section, Title: node + ": CPU and memory (%)", Metrics: []monitor.Metric{ec("EngineCPUUtilization", "Average"), ec("DatabaseMemoryUsagePercentage", "Maximum")}},
			monitor.Widget{Section: section, Title: node + ": hit rate (%) and evictions", Metrics: []monitor.Metric{ec("CacheHitRate", "Average"), ec("Evictions", "Sum")}},
		)
		alarms := []monitor.NamedAlarm{
			{Key: "memory", Alarm: monitor.Alarm{Description: fmt.Sprintf("%s: memory above %d%%", node, memory), Metric: ec("DatabaseMemoryUsagePercentage", "Maximum"), Threshold: float64(memory)}},
			{Key: "evictions", Alarm: monitor.Alarm{Description: node + ": evicting keys (memory pressure)", Metric: ec("Evictions", "Sum"), Threshold: 100}},
			{Key: "cpu", Alarm: monitor.Alarm{Description: node + ": engine CPU above 80%", Metric: ec("EngineCPUUtilization", "Average"), Threshold: 80}},
		}
		if err := m.NewAlarms(ctx, c, fmt.Sprintf("%s-node-%d", name, i), alarms); err != nil {
			return err
		}
	}
	return nil
}

// Package cache holds the read-through cache of Llama 5.0: an ElastiCache replication group.
package cache

import (
	"fmt"

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

// CacheArgs configures the cache.
type CacheArgs struct {
	ID               string // replication group ID, 1..40 characters
	VpcID            pulumi.StringInput
	SubnetIDs        pulumi.StringArrayInput // private subnets
	AZs              []string
	ClientGroup      pulumi.StringInput // the app's security group: the only one admitted
	Engine           string             // valkey (default) or redis
	NodeType         string
	Nodes            int  // primary plus replicas: at least 2 for failover
	Protect          bool // pulumi protect; a final snapshot is always taken
	LogRetentionDays int
	// Monitor receives the cache's alarms and widgets; nil: none.
	Monitor *monitor.Monitor
	// MemoryAlarmPercent alarms when a node's memory use passes it; default 80.
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

// NewCache creates the cache.
func NewCache(ctx *pulumi.Context, name string, args *CacheArgs, opts ...pulumi.ResourceOption) (*Cache, error) {
	if args.Nodes < 2 {
		return nil, fmt.Errorf("cache: automatic failover needs at least 2 nodes, got %d", args.Nodes)
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
	if err := token.Store(ctx, token.Password); err != nil {
		return nil, err
	}
	var logs elasticache.ReplicationGroupLogDeliveryConfigurationArray
	for _, kind := range []string{"slow-log", "engine-log"} {
		g, err := monitor.NewLogGroup(ctx, name+"-"+kind, monitor.LogGroupArgs{
			Name: fmt.Sprintf("/aws/elasticache/%s/%s", args.ID, kind), RetentionDays: args.LogRetentionDays,
		}, child)
		if err != nil {
			return nil, err
		}
		logs = append(logs, elasticache.ReplicationGroupLogDeliveryConfigurationArgs{
			Destination: g.Name, DestinationType: pulumi.String("cloudwatch-logs"), LogFormat: pulumi.String("json"), LogType: pulumi.String(kind),
		})
	}
	var azs pulumi.StringArray
	for i := 0; i < args.Nodes; i++ {
		azs = append(azs, pulumi.String(args.AZs[i%len(args.AZs)]))
	}
	engine := args.Engine
	if engine == "" {
		engine = "valkey"
	}
	rg, err := elasticache.NewReplicationGroup(ctx, name+"-group", &elasticache.ReplicationGroupArgs{
		ReplicationGroupId:        pulumi.String(args.ID),
		Description:               pulumi.String("Llama read-through cache"),
		Engine:                    pulumi.String(engine),
		EngineVersion:             pulumi.String(engineVersions[engine]),
		NodeType:                  pulumi.String(args.NodeType),
		NumCacheClusters:          pulumi.Int(args.Nodes),
		PreferredCacheClusterAzs:  azs,
		Port:                      pulumi.Int(Port),
		SubnetGroupName:           subnets.Name,
		SecurityGroupIds:          pulumi.StringArray{sg.ID()},
		AutomaticFailoverEnabled:  pulumi.Bool(true),
		MultiAzEnabled:            pulumi.Bool(true),
		AtRestEncryptionEnabled:   pulumi.Bool(true),
		TransitEncryptionEnabled:  pulumi.Bool(true),
		AuthToken:                 token.Password,
		SnapshotRetentionLimit:    pulumi.Int(7),
		SnapshotWindow:            pulumi.String("02:00-03:00"),
		MaintenanceWindow:         pulumi.String("sun:05:30-sun:06:30"),
		FinalSnapshotIdentifier:   pulumi.String(args.ID + "-final"),
		AutoMinorVersionUpgrade:   pulumi.Bool(true),
		LogDeliveryConfigurations: logs,
	}, child, pulumi.Protect(args.Protect))
	if err != nil {
		return nil, fmt.Errorf("cache replication group: %w", err)
	}
	c.PrimaryEndpoint, c.ReaderEndpoint, c.SecretArn = rg.PrimaryEndpointAddress, rg.ReaderEndpointAddress, token.Arn
	if err := c.watch(ctx, name, args); err != nil {
		return nil, err
	}
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"primaryEndpoint": c.PrimaryEndpoint, "readerEndpoint": c.ReaderEndpoint, "secretArn": c.SecretArn})
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
		memory = 80
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

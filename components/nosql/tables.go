// Package nosql holds the DynamoDB tables the high-write, non-relational subset of the data
// moves to.
package nosql

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/access"
	"github.com/llama-stages/llama/components/monitor"
)

// Table is one table's key schema.
type Table struct {
	Name         string // short name; the physical name is <prefix>-<name>
	PartitionKey string
	SortKey      string // optional
	TTLAttribute string // optional: items expire at this epoch-seconds attribute
}

// TablesArgs configures the tables.
type TablesArgs struct {
	Prefix string  // required: physical name prefix, llama-<stack>
	Tables []Table // required: at least one, each with a name and a partition key
	// Ops: Protect sets deletion protection; the log retention; the monitor that receives alarms and widgets.
	monitor.Ops
}

// Tables are on-demand DynamoDB tables with point-in-time recovery, encryption and deletion
// protection.
type Tables struct {
	pulumi.ResourceState

	Names pulumi.StringArrayOutput `pulumi:"names"`
	// TableNames are the physical names, one per table of Specs.
	TableNames []pulumi.StringOutput
	// Specs are the tables as declared.
	Specs []Table

	arns pulumi.StringArray
}

// NewTables creates the tables.
func NewTables(ctx *pulumi.Context, name string, args *TablesArgs, opts ...pulumi.ResourceOption) (*Tables, error) {
	if args == nil || args.Prefix == "" || len(args.Tables) == 0 {
		return nil, fmt.Errorf("nosql: TablesArgs needs a Prefix and at least one table")
	}
	for _, t := range args.Tables {
		if t.Name == "" || t.PartitionKey == "" {
			return nil, fmt.Errorf("nosql: table %q needs a name and a partition key", t.Name)
		}
	}
	t := &Tables{}
	if err := ctx.RegisterComponentResource("llama:nosql:Tables", name, t, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(t)
	var names, arns pulumi.StringArray
	for _, spec := range args.Tables {
		attrs := dynamodb.TableAttributeArray{dynamodb.TableAttributeArgs{Name: pulumi.String(spec.PartitionKey), Type: pulumi.String("S")}}
		ta := &dynamodb.TableArgs{
			Name:                      pulumi.String(args.Prefix + "-" + spec.Name),
			BillingMode:               pulumi.String("PAY_PER_REQUEST"),
			HashKey:                   pulumi.String(spec.PartitionKey),
			PointInTimeRecovery:       dynamodb.TablePointInTimeRecoveryArgs{Enabled: pulumi.Bool(true)},
			ServerSideEncryption:      dynamodb.TableServerSideEncryptionArgs{Enabled: pulumi.Bool(true)},
			DeletionProtectionEnabled: pulumi.Bool(args.Protect),
			TableClass:                pulumi.String("STANDARD"),
		}
		if spec.SortKey != "" {
			ta.RangeKey = pulumi.String(spec.SortKey)
			attrs = append(attrs, dynamodb.TableAttributeArgs{Name: pulumi.String(spec.SortKey), Type: pulumi.String("S")})
		}
		ta.Attributes = attrs
		if spec.TTLAttribute != "" {
			ta.Ttl = dynamodb.TableTtlArgs{AttributeName: pulumi.String(spec.TTLAttribute), Enabled: pulumi.Bool(true)}
		}
		table, err := dynamodb.NewTable(ctx, name+"-"+spec.Name, ta, child, pulumi.Protect(args.Protect))
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", spec.Name, err)
		}
		names = append(names, table.Name)
		t.TableNames = append(t.TableNames, table.Name)
		arns = append(arns, table.Arn, pulumi.Sprintf("%s/index/*", table.Arn))
		if err := watch(ctx, t, name+"-"+spec.Name, args.Prefix+"-"+spec.Name, args.Monitor); err != nil {
			return nil, err
		}
	}
	t.Names, t.arns, t.Specs = names.ToStringArrayOutput(), arns, args.Tables
	return t, ctx.RegisterResourceOutputs(t, pulumi.Map{"names": t.Names})
}

// Access is the item access the app needs to these tables and their indexes, and to no
// other table.
// The app and its mover call these and no others: PutItem (an activity, conditional), Query
// (a user's items), and, moving activity in and back, BatchWriteItem (the copy), DeleteItem (a
// row deleted meanwhile) and Scan (the verification). UpdateItem, GetItem and the rest are not
// granted.
func (t *Tables) Access() []access.Statement {
	return []access.Statement{{Sid: "LlamaTablesItems", Resources: t.arns, Actions: []string{
		"dynamodb:PutItem", "dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:Scan"}}}
}

// operations are the item operations DynamoDB publishes per-operation metrics for that the
// app uses.
var operations = []string{"GetItem", "PutItem", "Query", "UpdateItem", "DeleteItem", "BatchGetItem", "BatchWriteItem"}

// watch adds a table's signals. DynamoDB publishes ReadThrottleEvents and WriteThrottleEvents
// per TableName, but ThrottledRequests, SystemErrors and SuccessfulRequestLatency per TableName
// and Operation (an alarm on TableName alone watches nothing), UserErrors per account only, and
// no percentiles of latency (DynamoDB Developer Guide, "DynamoDB Metrics and dimensions").
func watch(ctx *pulumi.Context, parent pulumi.Resource, key, table string, m *monitor.Monitor) error {
	if m == nil {
		return nil
	}
	d := map[string]pulumi.StringInput{"TableName": pulumi.String(table)}
	ddb := func(metric, stat string) monitor.Metric {
		return monitor.Metric{Namespace: "AWS/DynamoDB", Name: metric, Dimensions: d, Stat: stat, Label: metric}
	}
	perOp := func(metric, op, stat string) monitor.Metric {
		return monitor.Metric{Namespace: "AWS/DynamoDB", Name: metric, Stat: stat, Label: op + " " + metric,
			Dimensions: map[string]pulumi.StringInput{"TableName": pulumi.String(table), "Operation": pulumi.String(op)}}
	}
	var systemErrors []monitor.Metric
	var terms []string
	for i, op := range operations {
		systemErrors = append(systemErrors, perOp("SystemErrors", op, "Sum"))
		terms = append(terms, fmt.Sprintf("FILL(m%d, 0)", i))
	}
	sumErrors := strings.Join(terms, "+")
	section := "DynamoDB: " + table
	m.AddWidgets(
		monitor.Widget{Section: section, Title: "Consumed capacity", Metrics: []monitor.Metric{ddb("ConsumedReadCapacityUnits", "Sum"), ddb("ConsumedWriteCapacityUnits", "Sum")}},
		monitor.Widget{Section: section, Title: "Read and write throttle events", Metrics: []monitor.Metric{ddb("ReadThrottleEvents", "Sum"), ddb("WriteThrottleEvents", "Sum")}},
		monitor.Widget{Section: section, Title: "System errors (all operations)", Metrics: systemErrors, Expression: sumErrors},
		monitor.Widget{Section: section, Title: "Latency (ms)", Metrics: []monitor.Metric{
			perOp("SuccessfulRequestLatency", "GetItem", "Average"), perOp("SuccessfulRequestLatency", "PutItem", "Average"),
			perOp("SuccessfulRequestLatency", "PutItem", "Maximum")}},
	)
	alarms := []monitor.NamedAlarm{
		{Key: "read-throttles", Alarm: monitor.Alarm{Description: table + ": reads throttled", Metric: ddb("ReadThrottleEvents", "Sum"), Threshold: 0}},
		{Key: "write-throttles", Alarm: monitor.Alarm{Description: table + ": writes throttled", Metric: ddb("WriteThrottleEvents", "Sum"), Threshold: 0}},
		{Key: "system-errors", Alarm: monitor.Alarm{Description: table + ": DynamoDB system errors", Metrics: systemErrors, Expression: sumErrors, Threshold: 0}},
	}
	return m.NewAlarms(ctx, parent, key, alarms)
}

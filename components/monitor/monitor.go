// Package monitor holds the stack's observability: the alarm topic, the dashboard that grows with
// the stage, the alarms every component raises on its own resources, and log groups with a
// retention.
package monitor

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/access"
)

// Ops is what every component with state, logs or alarms takes the same way; its Args embed it.
type Ops struct {
	// Protect sets pulumi protect and the services' deletion protection on the component's
	// stateful resources; default false.
	Protect bool
	// LogRetentionDays is the retention of the component's logs, one of LogRetentions;
	// 0 takes DefaultLogRetentionDays. No log group the stack creates keeps logs forever.
	LogRetentionDays int
	// Monitor receives the component's alarms and widgets; nil: none.
	Monitor *Monitor
}

// Retention is the log retention the component applies: LogRetentionDays, or the default.
func (o Ops) Retention() int { return or(o.LogRetentionDays, DefaultLogRetentionDays) }

// DefaultLogRetentionDays is how long the stack's log groups keep logs unless told otherwise.
const DefaultLogRetentionDays = 90

// LogRetentions are the retention periods CloudWatch Logs accepts, in days (CloudWatch Logs
// API reference, PutRetentionPolicy, retentionInDays), "never expire" left out.
var LogRetentions = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// AppAlarms are the thresholds of an app tier's alarms (the box, the fleet, the API).
type AppAlarms struct {
	LatencyP95Ms     int // p95 response time; default DefaultAppAlarms'
	ErrorRatePercent int // 5xx share of requests; default DefaultAppAlarms'
}

// DefaultAppAlarms are the app tier's thresholds where none is given.
var DefaultAppAlarms = AppAlarms{LatencyP95Ms: 1000, ErrorRatePercent: 5}

// WithDefaults fills the thresholds left zero.
func (a AppAlarms) WithDefaults() AppAlarms {
	d := DefaultAppAlarms
	return AppAlarms{LatencyP95Ms: or(a.LatencyP95Ms, d.LatencyP95Ms), ErrorRatePercent: or(a.ErrorRatePercent, d.ErrorRatePercent)}
}

// DBAlarms are the thresholds of a database's alarms.
type DBAlarms struct {
	ConnectionsPercent int // share of the connection limit; default DefaultDBAlarms'
	LatencyP95Ms       int // p95 read and write latency; default DefaultDBAlarms'
	ReplicaLagSeconds  int // default DefaultDBAlarms'
}

// DefaultDBAlarms are a database's thresholds where none is given.
var DefaultDBAlarms = DBAlarms{ConnectionsPercent: 80, LatencyP95Ms: 50, ReplicaLagSeconds: 30}

// WithDefaults fills the thresholds left zero.
func (a DBAlarms) WithDefaults() DBAlarms {
	d := DefaultDBAlarms
	return DBAlarms{ConnectionsPercent: or(a.ConnectionsPercent, d.ConnectionsPercent), LatencyP95Ms: or(a.LatencyP95Ms, d.LatencyP95Ms),
		ReplicaLagSeconds: or(a.ReplicaLagSeconds, d.ReplicaLagSeconds)}
}

func or(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// MonitorArgs configures the monitor.
type MonitorArgs struct {
	// Account is where the stack runs: the dashboard's widgets read the region, and the
	// account owns the topic's key. Region and AccountID are required.
	access.Account
	AlertEmail string // subscribed to the topic when set; default none
}

// Monitor is the alarm topic and the dashboard. Components add alarms and widgets to it while the
// program runs; Finish writes the dashboard. A nil *Monitor is no monitoring: its methods do
// nothing, so a component given none raises no alarms.
type Monitor struct {
	pulumi.ResourceState

	TopicArn pulumi.StringOutput `pulumi:"topicArn"`
	// DashboardName is set by Finish: the first dashboard's name.
	DashboardName pulumi.StringOutput `pulumi:"dashboardName"`

	region  string
	name    string
	widgets []Widget
}

// NewMonitor creates the alarm topic, encrypted with a key CloudWatch may use.
func NewMonitor(ctx *pulumi.Context, name string, args *MonitorArgs, opts ...pulumi.ResourceOption) (*Monitor, error) {
	if args == nil || args.Region == "" || args.AccountID == "" {
		return nil, fmt.Errorf("monitor: MonitorArgs needs Region and AccountID")
	}
	m := &Monitor{region: args.Region, name: name}
	if err := ctx.RegisterComponentResource("llama:monitor:Monitor", name, m, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(m)
	// CloudWatch alarms cannot publish to a topic under the AWS-managed SNS key: a customer
	// key whose policy lets CloudWatch use it is needed.
	keyPolicy, _ := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{
			map[string]any{"Sid": "AccountAdmin", "Effect": "Allow", "Action": "kms:*", "Resource": "*",
				"Principal": map[string]any{"AWS": fmt.Sprintf("arn:%s:iam::%s:root", access.PartitionOr(args.Partition), args.AccountID)}},
			map[string]any{"Sid": "CloudWatchAlarms", "Effect": "Allow", "Resource": "*",
				"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
				"Action":    []string{"kms:Decrypt", "kms:GenerateDataKey*"}},
		},
	})
	key, err := kms.NewKey(ctx, name+"-topic-key", &kms.KeyArgs{
		Description:          pulumi.String("Encrypts the Llama alarm topic"),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30),
		Policy:               pulumi.String(string(keyPolicy)),
	}, child)
	if err != nil {
		return nil, fmt.Errorf("alarm topic key: %w", err)
	}
	topic, err := sns.NewTopic(ctx, name+"-alarms", &sns.TopicArgs{
		KmsMasterKeyId: key.Arn,
	}, child)
	if err != nil {
		return nil, fmt.Errorf("alarm topic: %w", err)
	}
	m.TopicArn = topic.Arn
	if args.AlertEmail != "" {
		if _, err := sns.NewTopicSubscription(ctx, name+"-email", &sns.TopicSubscriptionArgs{
			Topic: topic.Arn, Protocol: pulumi.String("email"), Endpoint: pulumi.String(args.AlertEmail),
		}, child); err != nil {
			return nil, fmt.Errorf("alarm email subscription: %w", err)
		}
	}
	return m, nil
}

// Metric is one CloudWatch metric on a widget or an alarm.
type Metric struct {
	Namespace  string
	Name       string
	Dimensions map[string]pulumi.StringInput
	Stat       string // Average, Sum, Maximum, p95, p50 ...
	Label      string
}

// Widget is one graph on the dashboard.
type Widget struct {
	Section string // what it watches: "Database llama-dev-db"
	Title   string
	Metrics []Metric
	// Expression, when set, graphs a metric-math expression over Metrics (ids m0, m1, ...).
	Expression string
}

// AddWidgets adds graphs to the dashboard.
func (m *Monitor) AddWidgets(ws ...Widget) {
	if m != nil {
		m.widgets = append(m.widgets, ws...)
	}
}

// Alarm describes one alarm. Either Metric or (Expression over Metrics) is set.
type Alarm struct {
	Description string
	Metric      Metric
	Metrics     []Metric // with Expression
	Expression  string
	Comparison  string  // default GreaterThanThreshold
	Threshold   float64 //
	Period      int     // seconds, default 60
	Evaluation  int     // N of M-of-N, default 5
	Datapoints  int     // M of M-of-N, default 3
	Missing     string  // treatMissingData, default notBreaching
}

// NamedAlarm is an alarm and the suffix of its resource name.
type NamedAlarm struct {
	Key   string
	Alarm Alarm
}

// NewAlarms creates alarms named <prefix>-<key> under parent.
func (m *Monitor) NewAlarms(ctx *pulumi.Context, parent pulumi.Resource, prefix string, alarms []NamedAlarm) error {
	if m == nil {
		return nil
	}
	for _, a := range alarms {
		if _, err := m.NewAlarm(ctx, parent, prefix+"-"+a.Key, a.Alarm); err != nil {
			return err
		}
	}
	return nil
}

// NewAlarm creates an alarm under parent, acting on the topic on alarm and on OK.
func (m *Monitor) NewAlarm(ctx *pulumi.Context, parent pulumi.Resource, name string, a Alarm) (*cloudwatch.MetricAlarm, error) {
	if m == nil {
		return nil, nil
	}
	if a.Comparison == "" {
		a.Comparison = "GreaterThanThreshold"
	}
	if a.Period == 0 {
		a.Period = 60
	}
	if a.Evaluation == 0 {
		a.Evaluation = 5
	}
	if a.Datapoints == 0 {
		a.Datapoints = 3
	}
	if a.Missing == "" {
		a.Missing = "notBreaching"
	}
	args := &cloudwatch.MetricAlarmArgs{
		AlarmDescription:   pulumi.String(a.Description),
		ComparisonOperator: pulumi.String(a.Comparison),
		Threshold:          pulumi.Float64(a.Threshold),
		EvaluationPeriods:  pulumi.Int(a.Evaluation),
		DatapointsToAlarm:  pulumi.Int(a.Datapoints),
		TreatMissingData:   pulumi.String(a.Missing),
		AlarmActions:       pulumi.Array{m.TopicArn},
		OkActions:          pulumi.Array{m.TopicArn},
	}
	if a.Expression == "" {
		args.Namespace = pulumi.String(a.Metric.Namespace)
		args.MetricName = pulumi.String(a.Metric.Name)
		args.Dimensions = dims(a.Metric.Dimensions)
		args.Period = pulumi.Int(a.Period)
		if isPercentile(a.Metric.Stat) {
			args.ExtendedStatistic = pulumi.String(a.Metric.Stat)
		} else {
			args.Statistic = pulumi.String(a.Metric.Stat)
		}
	} else {
		queries := cloudwatch.MetricAlarmMetricQueryArray{cloudwatch.MetricAlarmMetricQueryArgs{
			Id: pulumi.String("e1"), Expression: pulumi.String(a.Expression), Label: pulumi.String(a.Description), ReturnData: pulumi.Bool(true),
		}}
		for i, q := range a.Metrics {
			queries = append(queries, cloudwatch.MetricAlarmMetricQueryArgs{
				Id: pulumi.String(fmt.Sprintf("m%d", i)),
				Metric: cloudwatch.MetricAlarmMetricQueryMetricArgs{
					Namespace: pulumi.String(q.Namespace), MetricName: pulumi.String(q.Name),
					Dimensions: dims(q.Dimensions), Period: pulumi.Int(a.Period), Stat: pulumi.String(q.Stat),
				},
			})
		}
		args.MetricQueries = queries
	}
	alarm, err := cloudwatch.NewMetricAlarm(ctx, name, args, pulumi.Parent(parent))
	if err != nil {
		return nil, fmt.Errorf("alarm %s: %w", name, err)
	}
	return alarm, nil
}

func isPercentile(stat string) bool {
	return len(stat) > 1 && stat[0] == 'p' && stat[1] >= '0' && stat[1] <= '9'
}

func dims(d map[string]pulumi.StringInput) pulumi.StringMap {
	out := pulumi.StringMap{}
	for k, v := range d {
		out[k] = v
	}
	return out
}

// MaxWidgets is how many widgets one dashboard holds here; CloudWatch allows 500. Larger
// stages (many shards) get more dashboards, split between sections.
const MaxWidgets = 400

// pages splits the widgets into dashboards of at most MaxWidgets widgets (section headers
// included), breaking only between sections.
func pages(ws []Widget) [][]Widget {
	var out [][]Widget
	var page []Widget
	count := 0
	for start := 0; start < len(ws); {
		end := start
		for end < len(ws) && ws[end].Section == ws[start].Section {
			end++
		}
		size := end - start + 1 // the section's widgets and its header
		if count > 0 && count+size > MaxWidgets {
			out, page, count = append(out, page), nil, 0
		}
		page, count = append(page, ws[start:end]...), count+size
		start = end
	}
	if len(page) > 0 || len(out) == 0 {
		out = append(out, page)
	}
	return out
}

// Finish writes the dashboards from the widgets the components added and registers the
// monitor's outputs. Call it once, after every component.
func (m *Monitor) Finish(ctx *pulumi.Context) error {
	if m == nil {
		return nil
	}
	var first pulumi.StringOutput
	for i, page := range pages(m.widgets) {
		name, title := m.name+"-dashboard", fmt.Sprintf("%s-%s", ctx.Project(), ctx.Stack())
		if i > 0 {
			name, title = fmt.Sprintf("%s-%d", name, i+1), fmt.Sprintf("%s-%d", title, i+1)
		}
		dash, err := cloudwatch.NewDashboard(ctx, name, &cloudwatch.DashboardArgs{
			DashboardName: pulumi.String(title),
			DashboardBody: render(page, m.region),
		}, pulumi.Parent(m))
		if err != nil {
			return fmt.Errorf("dashboard: %w", err)
		}
		if i == 0 {
			first = dash.DashboardName
		}
	}
	m.DashboardName = first
	return ctx.RegisterResourceOutputs(m, pulumi.Map{"topicArn": m.TopicArn, "dashboardName": first})
}

// render lays widgets out two to a row under a header per section, once every dimension
// value is known.
func render(widgets []Widget, region string) pulumi.StringOutput {
	var inputs []any
	for _, w := range widgets {
		for _, mt := range w.Metrics {
			for _, k := range sortedKeys(mt.Dimensions) {
				inputs = append(inputs, mt.Dimensions[k])
			}
		}
	}
	return pulumi.All(inputs...).ApplyT(func(vals []any) (string, error) {
		i, y, col := 0, 0, 0
		section := ""
		var out []any
		for n, w := range widgets {
			if n == 0 || w.Section != section {
				if col == 1 {
					y += 6
				}
				section, col = w.Section, 0
				out = append(out, map[string]any{"type": "text", "x": 0, "y": y, "width": 24, "height": 1,
					"properties": map[string]any{"markdown": "## " + section}})
				y++
			}
			var metrics []any
			for j, mt := range w.Metrics {
				row := []any{mt.Namespace, mt.Name}
				for _, k := range sortedKeys(mt.Dimensions) {
					row = append(row, k, fmt.Sprint(vals[i]))
					i++
				}
				opts := map[string]any{"stat": mt.Stat}
				if mt.Label != "" {
					opts["label"] = mt.Label
				}
				if w.Expression != "" {
					opts["id"] = fmt.Sprintf("m%d", j)
					opts["visible"] = false
				}
				metrics = append(metrics, append(row, opts))
			}
			if w.Expression != "" {
				metrics = append(metrics, []any{map[string]any{"expression": w.Expression, "label": w.Title, "id": "e1"}})
			}
			out = append(out, map[string]any{"type": "metric", "x": col * 12, "y": y, "width": 12, "height": 6,
				"properties": map[string]any{"title": w.Title, "region": region, "view": "timeSeries", "period": 60, "metrics": metrics}})
			if col == 1 {
				y += 6
			}
			col = 1 - col
		}
		b, err := json.Marshal(map[string]any{"widgets": out})
		return string(b), err
	}).(pulumi.StringOutput)
}

func sortedKeys(m map[string]pulumi.StringInput) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// LogGroupArgs configures a log group.
type LogGroupArgs struct {
	Name string // the log group's name; AWS services that create their own need it exact
	// RetentionDays is one of LogRetentions; 0 takes DefaultLogRetentionDays. Every log group
	// the stack makes has a retention.
	RetentionDays int
}

// NewLogGroup creates a log group with a retention. Create it before the service that writes to
// it, so the service does not create one that keeps logs forever.
func NewLogGroup(ctx *pulumi.Context, name string, args LogGroupArgs, opts ...pulumi.ResourceOption) (*cloudwatch.LogGroup, error) {
	days := or(args.RetentionDays, DefaultLogRetentionDays)
	if !slices.Contains(LogRetentions, days) {
		return nil, fmt.Errorf("log group %s: retention %d days: want one of %v", name, days, LogRetentions)
	}
	lg := &cloudwatch.LogGroupArgs{RetentionInDays: pulumi.Int(days)}
	if args.Name != "" {
		lg.Name = pulumi.String(args.Name)
	}
	g, err := cloudwatch.NewLogGroup(ctx, name, lg, opts...)
	if err != nil {
		return nil, fmt.Errorf("log group %s: %w", name, err)
	}
	return g, nil
}

// Filter turns matching log lines into a metric in the Llama namespace.
type Filter struct {
	Pattern string // CloudWatch Logs filter pattern
	Metric  string // metric name, unique in the account and region: include the resource's name
	Value   string // metric value per line: "1" (a count) by default, or a field such as $.request_time
	Unit    string // default Count
}

// NewFilter adds a metric filter to a log group and returns the metric for alarms and widgets.
func NewFilter(ctx *pulumi.Context, name string, group *cloudwatch.LogGroup, f Filter, opts ...pulumi.ResourceOption) (Metric, error) {
	value, unit, stat := f.Value, f.Unit, "Average"
	if value == "" {
		value, stat = "1", "Sum"
	}
	if unit == "" {
		unit = "Count"
	}
	t := cloudwatch.LogMetricFilterMetricTransformationArgs{
		Namespace: pulumi.String(Namespace(ctx)), Name: pulumi.String(f.Metric), Value: pulumi.String(value),
		Unit: pulumi.String(unit),
	}
	if f.Value == "" {
		t.DefaultValue = pulumi.String("0")
	}
	if _, err := cloudwatch.NewLogMetricFilter(ctx, name, &cloudwatch.LogMetricFilterArgs{
		LogGroupName: group.Name, Pattern: pulumi.String(f.Pattern), MetricTransformation: t,
	}, opts...); err != nil {
		return Metric{}, fmt.Errorf("metric filter %s: %w", name, err)
	}
	return Metric{Namespace: Namespace(ctx), Name: f.Metric, Stat: stat, Label: f.Metric}, nil
}

// Namespace is the CloudWatch namespace of the metrics the stack derives from logs: one per
// stack, so that two stacks' filters never feed one metric.
func Namespace(ctx *pulumi.Context) string { return "Llama/" + ctx.Stack() }

package database

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/monitor"
)

// watcher adds the guide's database signals for one database to the dashboard and raises its
// alarms: read and write rate, read and write latency (p95 and median), connections against
// the limit, replica lag, slow queries and lock waits (from the exported log, since
// log_min_duration_statement and log_lock_waits are set), and CPU.
type watcher struct {
	m      *monitor.Monitor
	th     monitor.DBAlarms
	parent pulumi.Resource
	name   string
}

// signals are the metric names of one kind of database.
type signals struct {
	dimension   string // DBInstanceIdentifier or DBClusterIdentifier
	reads       string
	writes      string
	replicaLag  string // "" when the database has no lag metric
	lagSeconds  float64
	section     string
	extraWidget *monitor.Widget
}

func (w *watcher) instance(ctx *pulumi.Context, key, identifier string, maxConn int, logs *cloudwatch.LogGroup, replica bool) error {
	s := signals{dimension: "DBInstanceIdentifier", reads: "ReadIOPS", writes: "WriteIOPS", lagSeconds: 1,
		section: "Database: RDS PostgreSQL " + identifier}
	if replica {
		s.replicaLag, s.section = "ReplicaLag", "Database: read replica "+identifier
	}
	return w.watch(ctx, key, identifier, maxConn, logs, s)
}

func (w *watcher) cluster(ctx *pulumi.Context, key, identifier string, maxConn int, logs *cloudwatch.LogGroup, readers int, serverless bool) error {
	s := signals{dimension: "DBClusterIdentifier", reads: "VolumeReadIOPs", writes: "VolumeWriteIOPs",
		section: "Database: Aurora cluster " + identifier}
	if readers > 0 {
		// Aurora reports lag in milliseconds.
		s.replicaLag, s.lagSeconds = "AuroraReplicaLagMaximum", 1000
	}
	if serverless {
		s.extraWidget = &monitor.Widget{Title: "Capacity (ACU) and utilisation (%)", Metrics: []monitor.Metric{
			{Namespace: "AWS/RDS", Name: "ServerlessDatabaseCapacity", Dimensions: dim(s.dimension, identifier), Stat: "Average", Label: "ACU"},
			{Namespace: "AWS/RDS", Name: "ACUUtilization", Dimensions: dim(s.dimension, identifier), Stat: "Average", Label: "ACU %"}}}
	}
	return w.watch(ctx, key, identifier, maxConn, logs, s)
}

func dim(k, v string) map[string]pulumi.StringInput {
	return map[string]pulumi.StringInput{k: pulumi.String(v)}
}

func (w *watcher) watch(ctx *pulumi.Context, key, identifier string, maxConn int, logs *cloudwatch.LogGroup, s signals) error {
	m, child := w.m, pulumi.Parent(w.parent)
	if m == nil {
		return nil
	}
	d := dim(s.dimension, identifier)
	rds := func(metric, stat, label string) monitor.Metric {
		return monitor.Metric{Namespace: "AWS/RDS", Name: metric, Dimensions: d, Stat: stat, Label: label}
	}
	cpu, load, cpuWidget := cpuMetrics(identifier, s, rds)
	slow, err := monitor.NewFilter(ctx, key+"-slow-queries", logs, monitor.Filter{Pattern: `"duration:"`, Metric: "SlowQueries-" + identifier}, child)
	if err != nil {
		return err
	}
	locks, err := monitor.NewFilter(ctx, key+"-lock-waits", logs, monitor.Filter{Pattern: `"still waiting for"`, Metric: "LockWaits-" + identifier}, child)
	if err != nil {
		return err
	}
	widgets := []monitor.Widget{
		{Title: "Reads and writes (IOPS)", Metrics: []monitor.Metric{rds(s.reads, "Average", "reads"), rds(s.writes, "Average", "writes")}},
		{Title: "Read and write latency (s)", Metrics: []monitor.Metric{
			rds("ReadLatency", "p95", "read p95"), rds("ReadLatency", "p50", "read median"),
			rds("WriteLatency", "p95", "write p95"), rds("WriteLatency", "p50", "write median")}},
		{Title: fmt.Sprintf("Connections (limit about %d)", maxConn), Metrics: []monitor.Metric{rds("DatabaseConnections", "Maximum", "connections")}},
		{Title: "Slow queries and lock waits", Metrics: []monitor.Metric{slow, locks, load}},
		{Title: "CPU (%)", Metrics: cpuWidget},
	}
	if s.replicaLag != "" {
		widgets = append(widgets, monitor.Widget{Title: "Replica lag", Metrics: []monitor.Metric{rds(s.replicaLag, "Maximum", "lag")}})
	}
	if s.extraWidget != nil {
		widgets = append(widgets, *s.extraWidget)
	}
	for i := range widgets {
		widgets[i].Section = s.section
	}
	m.AddWidgets(widgets...)

	th := w.th.WithDefaults()
	latency := float64(th.LatencyP95Ms) / 1000
	alarms := []monitor.NamedAlarm{
		{Key: "cpu", Alarm: monitor.Alarm{Description: identifier + ": CPU above 80%", Metric: cpu, Threshold: 80, Period: 300, Evaluation: 3, Datapoints: 3}},
		{Key: "connections", Alarm: monitor.Alarm{Description: fmt.Sprintf("%s: connections above %d%% of about %d", identifier, th.ConnectionsPercent, maxConn),
			Metric: rds("DatabaseConnections", "Maximum", ""), Threshold: float64(maxConn * th.ConnectionsPercent / 100)}},
		{Key: "read-latency", Alarm: monitor.Alarm{Description: fmt.Sprintf("%s: p95 read latency above %d ms", identifier, th.LatencyP95Ms), Metric: rds("ReadLatency", "p95", ""), Threshold: latency}},
		{Key: "write-latency", Alarm: monitor.Alarm{Description: fmt.Sprintf("%s: p95 write latency above %d ms", identifier, th.LatencyP95Ms), Metric: rds("WriteLatency", "p95", ""), Threshold: latency}},
		{Key: "slow-queries", Alarm: monitor.Alarm{Description: identifier + ": more than 10 slow statements a minute", Metric: slow, Threshold: 10}},
	}
	if s.replicaLag != "" {
		alarms = append(alarms, monitor.NamedAlarm{Key: "replica-lag", Alarm: monitor.Alarm{Description: fmt.Sprintf("%s: replica lag above %d s", identifier, th.ReplicaLagSeconds),
			Metric: rds(s.replicaLag, "Maximum", ""), Threshold: float64(th.ReplicaLagSeconds) * s.lagSeconds}})
	}
	return m.NewAlarms(ctx, w.parent, key, alarms)
}

// cpuMetrics returns the CPU metric to alarm on, the Performance Insights load, and the CPU
// widget's metrics. A cluster's CPU by the cluster alone averages the writer with its readers
// (a writer at 100% beside an idle reader reads about 55%): watch the writer by Role (RDS
// User Guide, "Amazon CloudWatch metrics for Amazon Aurora", dimensions DBClusterIdentifier,
// Role).
func cpuMetrics(identifier string, s signals, rds func(metric, stat, label string) monitor.Metric) (cpu, load monitor.Metric, widget []monitor.Metric) {
	cpu = rds("CPUUtilization", "Average", "CPU")
	load = rds("DBLoadNonCPU", "Average", "load waiting (Performance Insights)")
	widget = []monitor.Metric{cpu}
	if s.dimension == "DBClusterIdentifier" {
		role := func(r string) monitor.Metric {
			return monitor.Metric{Namespace: "AWS/RDS", Name: "CPUUtilization", Stat: "Average", Label: "CPU " + strings.ToLower(r),
				Dimensions: map[string]pulumi.StringInput{"DBClusterIdentifier": pulumi.String(identifier), "Role": pulumi.String(r)}}
		}
		cpu, widget = role("WRITER"), []monitor.Metric{role("WRITER")}
		// Performance Insights publishes per instance only: the writer's (instance 0).
		load = monitor.Metric{Namespace: "AWS/RDS", Name: "DBLoadNonCPU", Stat: "Average", Label: "writer load waiting (Performance Insights)",
			Dimensions: dim("DBInstanceIdentifier", identifier+"-0")}
		if s.replicaLag != "" {
			widget = append(widget, role("READER"))
		}
	}
	return cpu, load, widget
}

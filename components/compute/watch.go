package compute

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ebs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/monitor"
)

// watch gives the box its widgets and alarms: the app tier from nginx's access log and, while
// the app uses the box's own PostgreSQL (LocalDatabase), the database from PostgreSQL's log and
// the data volume's I/O.
func (b *Box) watch(ctx *pulumi.Context, name string, args *BoxArgs, inst *ec2.Instance, vol *ebs.Volume, nginx, pg *cloudwatch.LogGroup) error {
	m := args.Monitor
	if m == nil {
		return nil
	}
	mt, err := b.filters(ctx, name, args.LocalDatabase, nginx, pg)
	if err != nil {
		return err
	}
	instDim := map[string]pulumi.StringInput{"InstanceId": inst.ID().ToStringOutput()}
	volDim := map[string]pulumi.StringInput{"VolumeId": vol.ID().ToStringOutput()}
	ec2m := func(metric, stat string) monitor.Metric {
		return monitor.Metric{Namespace: "AWS/EC2", Name: metric, Dimensions: instDim, Stat: stat, Label: metric}
	}
	p95, p50 := mt["latency"], mt["latency"]
	p95.Stat, p95.Label, p50.Stat, p50.Label = "p95", "p95", "p50", "median"
	app, db := "App tier: "+name, "Database: PostgreSQL on "+name
	m.AddWidgets(
		monitor.Widget{Section: app, Title: "Requests", Metrics: []monitor.Metric{mt["requests"]}},
		monitor.Widget{Section: app, Title: "Response time (s)", Metrics: []monitor.Metric{p95, p50}},
		monitor.Widget{Section: app, Title: "5xx error rate (%)", Metrics: []monitor.Metric{mt["errors"], mt["requests"]}, Expression: "100*m0/m1"},
		monitor.Widget{Section: app, Title: "Network throughput (bytes)", Metrics: []monitor.Metric{ec2m("NetworkIn", "Sum"), ec2m("NetworkOut", "Sum")}},
		monitor.Widget{Section: app, Title: "CPU (%)", Metrics: []monitor.Metric{ec2m("CPUUtilization", "Average")}},
	)
	if args.LocalDatabase {
		m.AddWidgets(
			monitor.Widget{Section: db, Title: "Reads and writes (data volume ops)", Metrics: []monitor.Metric{
				{Namespace: "AWS/EBS", Name: "VolumeReadOps", Dimensions: volDim, Stat: "Sum", Label: "reads"},
				{Namespace: "AWS/EBS", Name: "VolumeWriteOps", Dimensions: volDim, Stat: "Sum", Label: "writes"}}},
			monitor.Widget{Section: db, Title: "Slow queries, lock waits, new connections", Metrics: []monitor.Metric{mt["slow-queries"], mt["lock-waits"], mt["connections"]}},
		)
	}
	th := args.Alarms.WithDefaults()
	alarms := []monitor.NamedAlarm{
		{Key: "status-check", Alarm: monitor.Alarm{Description: "The box fails its status checks", Metric: ec2m("StatusCheckFailed", "Maximum"),
			Comparison: "GreaterThanOrEqualToThreshold", Threshold: 1, Evaluation: 2, Datapoints: 2, Missing: "breaching"}},
		{Key: "cpu", Alarm: monitor.Alarm{Description: "The box's CPU stays above 80%: time for the next rung", Metric: ec2m("CPUUtilization", "Average"), Threshold: 80, Period: 300, Evaluation: 3, Datapoints: 3}},
		{Key: "latency-p95", Alarm: monitor.Alarm{Description: fmt.Sprintf("App p95 response time above %d ms", th.LatencyP95Ms), Metric: p95, Threshold: float64(th.LatencyP95Ms) / 1000}},
		{Key: "error-rate", Alarm: monitor.Alarm{Description: fmt.Sprintf("App 5xx error rate above %d%%", th.ErrorRatePercent),
			Metrics: []monitor.Metric{mt["errors"], mt["requests"]}, Expression: "IF(m1 > 0, 100*m0/m1, 0)", Threshold: float64(th.ErrorRatePercent)}},
	}
	if args.LocalDatabase {
		alarms = append(alarms, monitor.NamedAlarm{Key: "slow-queries", Alarm: monitor.Alarm{Description: "PostgreSQL on the box logs more than 10 slow statements a minute", Metric: mt["slow-queries"], Threshold: 10}})
	}
	return m.NewAlarms(ctx, b, name, alarms)
}

// filters turns the box's logs into metrics: requests, 5xx and response times from nginx's
// access log and, with the local database, slow statements, lock waits and connections from
// PostgreSQL's.
func (b *Box) filters(ctx *pulumi.Context, name string, localDB bool, nginx, pg *cloudwatch.LogGroup) (map[string]monitor.Metric, error) {
	type filter struct {
		key string
		f   monitor.Filter
		lg  *cloudwatch.LogGroup
	}
	filters := []filter{
		{"requests", monitor.Filter{Pattern: "{ $.status = * }", Metric: "BoxRequests"}, nginx},
		{"errors", monitor.Filter{Pattern: "{ $.status >= 500 }", Metric: "Box5xx"}, nginx},
		{"latency", monitor.Filter{Pattern: "{ $.request_time = * }", Metric: "BoxResponseTime", Value: "$.request_time", Unit: "Seconds"}, nginx},
	}
	if localDB {
		filters = append(filters,
			filter{"slow-queries", monitor.Filter{Pattern: `"duration:"`, Metric: "BoxSlowQueries"}, pg},
			filter{"lock-waits", monitor.Filter{Pattern: `"still waiting for"`, Metric: "BoxLockWaits"}, pg},
			filter{"connections", monitor.Filter{Pattern: `"connection authorized"`, Metric: "BoxConnections"}, pg})
	}
	mt := map[string]monitor.Metric{}
	for _, f := range filters {
		metric, err := monitor.NewFilter(ctx, name+"-"+f.key+"-filter", f.lg, f.f, pulumi.Parent(b))
		if err != nil {
			return nil, err
		}
		mt[f.key] = metric
	}
	return mt, nil
}

// watch gives the fleet its widgets and alarms from the load balancer's and the group's metrics.
func (f *Fleet) watch(ctx *pulumi.Context, name string, m *monitor.Monitor, th monitor.AppAlarms, alb *lb.LoadBalancer, tg *lb.TargetGroup, asgName pulumi.StringOutput) error {
	if m == nil {
		return nil
	}
	th = th.WithDefaults()
	lbDim := map[string]pulumi.StringInput{"LoadBalancer": alb.ArnSuffix}
	tgDim := map[string]pulumi.StringInput{"LoadBalancer": alb.ArnSuffix, "TargetGroup": tg.ArnSuffix}
	elb := func(metric, stat string) monitor.Metric {
		return monitor.Metric{Namespace: "AWS/ApplicationELB", Name: metric, Dimensions: lbDim, Stat: stat, Label: metric + " " + stat}
	}
	requests, errors := elb("RequestCount", "Sum"), elb("HTTPCode_Target_5XX_Count", "Sum")
	elb5xx := elb("HTTPCode_ELB_5XX_Count", "Sum")
	p95 := elb("TargetResponseTime", "p95")
	app := "App tier: load balancer " + name
	m.AddWidgets(
		monitor.Widget{Section: app, Title: "Requests", Metrics: []monitor.Metric{requests}},
		monitor.Widget{Section: app, Title: "Response time (s)", Metrics: []monitor.Metric{p95, elb("TargetResponseTime", "p50")}},
		monitor.Widget{Section: app, Title: "5xx error rate (%)", Metrics: []monitor.Metric{errors, elb5xx, requests}, Expression: "100*(m0+m1)/m2"},
		monitor.Widget{Section: app, Title: "Network throughput (bytes)", Metrics: []monitor.Metric{elb("ProcessedBytes", "Sum")}},
		monitor.Widget{Section: app, Title: "Healthy and unhealthy hosts", Metrics: []monitor.Metric{
			{Namespace: "AWS/ApplicationELB", Name: "HealthyHostCount", Dimensions: tgDim, Stat: "Minimum", Label: "healthy"},
			{Namespace: "AWS/ApplicationELB", Name: "UnHealthyHostCount", Dimensions: tgDim, Stat: "Maximum", Label: "unhealthy"}}},
		monitor.Widget{Section: app, Title: "Fleet CPU (%)", Metrics: []monitor.Metric{
			{Namespace: "AWS/EC2", Name: "CPUUtilization", Dimensions: map[string]pulumi.StringInput{"AutoScalingGroupName": asgName}, Stat: "Average", Label: "CPU"}}},
	)
	alarms := []monitor.NamedAlarm{
		{Key: "latency-p95", Alarm: monitor.Alarm{Description: fmt.Sprintf("App p95 response time above %d ms", th.LatencyP95Ms), Metric: p95, Threshold: float64(th.LatencyP95Ms) / 1000}},
		{Key: "error-rate", Alarm: monitor.Alarm{Description: fmt.Sprintf("App 5xx error rate above %d%%", th.ErrorRatePercent),
			Metrics: []monitor.Metric{errors, elb5xx, requests}, Expression: "IF(m2 > 0, 100*(m0+m1)/m2, 0)", Threshold: float64(th.ErrorRatePercent)}},
		{Key: "unhealthy-hosts", Alarm: monitor.Alarm{Description: "Instances fail the load balancer's health check",
			Metric:    monitor.Metric{Namespace: "AWS/ApplicationELB", Name: "UnHealthyHostCount", Dimensions: tgDim, Stat: "Maximum"},
			Threshold: 0}},
		// AWS/EC2 publishes StatusCheckFailed per InstanceId, not per group: the group's own
		// metrics say when fewer instances serve than it wants (EC2 Auto Scaling User Guide,
		// "Monitor CloudWatch metrics for your Auto Scaling groups"; the group enables them).
		{Key: "in-service", Alarm: monitor.Alarm{Description: "Fewer fleet instances in service than desired (failing checks, or not replaced)",
			Metrics: []monitor.Metric{
				{Namespace: "AWS/AutoScaling", Name: "GroupInServiceInstances", Dimensions: map[string]pulumi.StringInput{"AutoScalingGroupName": asgName}, Stat: "Minimum"},
				{Namespace: "AWS/AutoScaling", Name: "GroupDesiredCapacity", Dimensions: map[string]pulumi.StringInput{"AutoScalingGroupName": asgName}, Stat: "Maximum"}},
			Expression: "m1 - m0", Threshold: 0, Period: 60, Evaluation: 5, Datapoints: 5}},
	}
	if err := m.NewAlarms(ctx, f, name, alarms); err != nil {
		return err
	}
	return nil
}

package monitor

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/access"
	"github.com/llama-stages/llama/offline"
)

// TestNilMonitor: no monitor means no monitoring, not a panic.
func TestNilMonitor(t *testing.T) {
	var m *Monitor
	m.AddWidgets(Widget{Title: "nothing"})
	p, err := offline.Run(func(ctx *pulumi.Context) (pulumi.Map, error) {
		if err := m.NewAlarms(ctx, nil, "x", []NamedAlarm{{Key: "k", Alarm: Alarm{Description: "d"}}}); err != nil {
			return nil, err
		}
		return nil, m.Finish(ctx)
	}, offline.Options{})
	if err != nil || len(p.Resources) != 0 {
		t.Errorf("a nil monitor made %d resources (%v)", len(p.Resources), err)
	}
}

// TestMonitor: the topic is encrypted with a key of the stack's; alarms act on it on alarm and
// on OK, M of N, and percentiles go to the extended statistic.
func TestMonitor(t *testing.T) {
	p, err := offline.Run(func(ctx *pulumi.Context) (pulumi.Map, error) {
		m, err := NewMonitor(ctx, "monitor", &MonitorArgs{AlertEmail: "ops@example.com", Account: access.Account{Region: "us-east-1", AccountID: offline.Account}})
		if err != nil {
			return nil, err
		}
		if _, err := m.NewAlarm(ctx, m, "monitor-latency", Alarm{Description: "p95", Metric: Metric{Namespace: "AWS/ApiGateway", Name: "Latency", Stat: "p95",
			Dimensions: map[string]pulumi.StringInput{"ApiId": pulumi.String("a1b2c3"), "Stage": pulumi.String("$default")}}, Threshold: 1000}); err != nil {
			return nil, err
		}
		return nil, m.Finish(ctx)
	}, offline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	topic := p.OfType("aws:sns/topic:Topic")[0]
	if topic.Input("kmsMasterKeyId") == nil {
		t.Error("the alarm topic is not encrypted")
	}
	a := p.OfType("aws:cloudwatch/metricAlarm:MetricAlarm")[0]
	if a.Input("extendedStatistic") != "p95" || a.Input("statistic") != nil || a.Input("datapointsToAlarm") != int64(3) || a.Input("evaluationPeriods") != int64(5) ||
		len(a.Input("alarmActions").([]any)) != 1 || len(a.Input("okActions").([]any)) != 1 {
		t.Errorf("alarm %v", a.Inputs)
	}
	if _, err := NewMonitor(nil, "m", &MonitorArgs{}); err == nil {
		t.Error("a monitor without a region and an account was accepted")
	}
}

// TestLogRetention: no log group keeps its logs forever: an unset retention takes the default,
// and one CloudWatch does not accept is refused before the engine sees it.
func TestLogRetention(t *testing.T) {
	for _, c := range []struct {
		days, want int
	}{{0, DefaultLogRetentionDays}, {30, 30}, {2, -1}} {
		p, err := offline.Run(func(ctx *pulumi.Context) (pulumi.Map, error) {
			_, err := NewLogGroup(ctx, "logs", LogGroupArgs{RetentionDays: c.days})
			return nil, err
		}, offline.Options{})
		switch {
		case c.want < 0 && err == nil:
			t.Errorf("retention %d days was accepted", c.days)
		case c.want >= 0 && err != nil:
			t.Errorf("retention %d days: %v", c.days, err)
		case c.want >= 0 && p.OfType("aws:cloudwatch/logGroup:LogGroup")[0].Input("retentionInDays") != int64(c.want):
			t.Errorf("retention %d days: the log group keeps logs %v days, want %d", c.days, p.OfType("aws:cloudwatch/logGroup:LogGroup")[0].Input("retentionInDays"), c.want)
		}
	}
}

package tests

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/llama-stages/llama/offline"
	"github.com/llama-stages/llama/stacks"
)

// alarmMetrics returns, per alarm, the metric names and dimension values it watches.
func alarmMetrics(a *offline.Resource) (metrics, dims []string) {
	add := func(name any, d any) {
		metrics = append(metrics, str(name))
		if m, ok := d.(map[string]any); ok {
			for _, v := range m {
				dims = append(dims, fmt.Sprint(v))
			}
		}
	}
	add(in(a, "metricName"), in(a, "dimensions"))
	if qs, ok := in(a, "metricQueries").([]any); ok {
		for _, q := range qs {
			if m, ok := q.(map[string]any)["metric"].(map[string]any); ok {
				add(m["metricName"], m["dimensions"])
			}
		}
	}
	return
}

// TestEveryResourceIsMonitored checks generically from the graph: every database, cache,
// table, load balancer, function, API and box has dashboard widgets and its alarms, and every
// alarm acts on the stack's topic, on alarm and on OK, with M-of-N datapoints.
func TestEveryResourceIsMonitored(t *testing.T) {
	for _, r := range allRungs() {
		t.Run(r.String(), func(t *testing.T) {
			p := plan(t, r.platform, r.stage, map[string]string{"alertEmail": "ops@example.com", "replicas": "2"})
			topics := ofType(p, "aws:sns/topic:Topic")
			if len(topics) != 1 || byID(p, str(in(topics[0], "kmsMasterKeyId"))) == nil {
				t.Fatal("no alarm topic encrypted with the stack's key")
			}
			topic := str(topics[0].Outputs["arn"])
			subs := ofType(p, "aws:sns/topicSubscription:TopicSubscription")
			if len(subs) != 1 || in(subs[0], "endpoint") != "ops@example.com" || in(subs[0], "topic") != topic {
				t.Error("llama:alertEmail is not subscribed to the topic")
			}
			body := dashboards(t, p)
			alarms := ofType(p, "aws:cloudwatch/metricAlarm:MetricAlarm")
			for _, a := range alarms {
				if strs(in(a, "alarmActions"))[0] != topic || strs(in(a, "okActions"))[0] != topic {
					t.Errorf("alarm %s does not act on the topic", a.Name)
				}
				if m, n := num(in(a, "datapointsToAlarm")), num(in(a, "evaluationPeriods")); m < 1 || m > n {
					t.Errorf("alarm %s is not M-of-N: %d of %d", a.Name, m, n)
				}
			}
			for typ, k := range offline.Catalog {
				w := k.Watch
				if w == nil {
					continue
				}
				for _, res := range ofType(p, typ) {
					if offline.Unwatched(res) {
						continue
					}
					id := w.Name(res)
					if id == "" || !strings.Contains(body, id) {
						t.Errorf("%s %s (%q) has no dashboard widget", typ, res.Name, id)
					}
					have := map[string]bool{}
					for _, a := range alarms {
						metrics, dims := alarmMetrics(a)
						for _, d := range dims {
							if strings.HasPrefix(d, id) {
								for _, m := range metrics {
									have[m] = true
								}
							}
						}
					}
					for _, m := range w.Alarms {
						if !have[m] {
							t.Errorf("%s %s has no %s alarm", typ, res.Name, m)
						}
					}
					if typ == typRDS && in(res, "replicateSourceDb") != nil && !have["ReplicaLag"] {
						t.Errorf("replica %s has no ReplicaLag alarm", res.Name)
					}
				}
			}
			// The guide's database signals are on the dashboard wherever there is a database.
			if len(ofType(p, typRDS))+len(ofType(p, typCluster))+len(ofType(p, typInstance)) > 0 {
				for _, s := range []string{"Slow queries", "lock waits", "p95", "median", "Connections"} {
					if !strings.Contains(body, s) {
						t.Errorf("dashboard lacks %q", s)
					}
				}
			}
			for _, s := range []string{"Requests", "Response time", "5xx error rate", "Network throughput"} {
				if !strings.Contains(body, s) {
					t.Errorf("dashboard lacks the app tier's %q", s)
				}
			}
		})
	}
}

func TestThresholdsComeFromConfig(t *testing.T) {
	p := plan(t, "servers", "load-balanced", map[string]string{"latencyP95Ms": "750", "errorRatePercent": "3"})
	var latency, errors float64 = -1, -1
	for _, a := range ofType(p, "aws:cloudwatch/metricAlarm:MetricAlarm") {
		switch a.Name {
		case "fleet-latency-p95":
			latency, _ = in(a, "threshold").(float64)
			if in(a, "extendedStatistic") != "p95" {
				t.Error("latency alarm is not on p95")
			}
		case "fleet-error-rate":
			errors = float64(num(in(a, "threshold")))
		}
	}
	if latency != 0.75 || errors != 3 {
		t.Errorf("thresholds: latency %v s, error rate %v%%", latency, errors)
	}
}

// dashboards returns the stage's dashboard bodies, joined, after checking each is within
// CloudWatch's limits and lays its widgets out without overlap.
func dashboards(t *testing.T, p *offline.Plan) string {
	t.Helper()
	dashes := ofType(p, "aws:cloudwatch/dashboard:Dashboard")
	if len(dashes) == 0 {
		t.Fatal("no dashboard")
	}
	var all strings.Builder
	for _, d := range dashes {
		body := str(in(d, "dashboardBody"))
		var doc struct {
			Widgets []struct{ X, Y, Width, Height int }
		}
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatalf("dashboard %s: %v", d.Name, err)
		}
		if len(doc.Widgets) > 500 || len(body) > 1<<20 {
			t.Errorf("dashboard %s has %d widgets, %d bytes: over CloudWatch's limits", d.Name, len(doc.Widgets), len(body))
		}
		taken := map[[2]int]bool{}
		for _, w := range doc.Widgets {
			for x := w.X; x < w.X+w.Width; x++ {
				for y := w.Y; y < w.Y+w.Height; y++ {
					if taken[[2]int{x, y}] {
						t.Fatalf("dashboard %s: widgets overlap at %d,%d", d.Name, x, y)
					}
					taken[[2]int{x, y}] = true
				}
			}
		}
		all.WriteString(body)
	}
	return all.String()
}

// TestLargeStageSplitsItsDashboard: 64 shards do not overflow one dashboard.
func TestLargeStageSplitsItsDashboard(t *testing.T) {
	p := plan(t, "servers", "sharded", map[string]string{"shards": "64", "shardReaders": "2", "replicas": "15", "dbClusterQuota": "64", "dbInstanceQuota": "208"})
	if n := len(ofType(p, "aws:cloudwatch/dashboard:Dashboard")); n < 2 {
		t.Errorf("64 shards fit %d dashboard", n)
	}
	body := dashboards(t, p)
	for i := 0; i < 64; i++ {
		if !strings.Contains(body, fmt.Sprintf("llama-dev-shard-%d", i)) {
			t.Errorf("shard %d is on no dashboard", i)
		}
	}
	if named(t, p, "aws:cloudwatch/dashboard:Dashboard", "monitor-dashboard").URN == "" {
		t.Error("the first dashboard changed its name")
	}
}

// TestAlarmsWatchWhatAWSPublishes: alarms name metrics by the dimensions AWS publishes them
// under: DynamoDB's errors per operation, Aurora's CPU per role, the fleet's health by the
// group's own metrics; the box stops watching its PostgreSQL once the app has moved to RDS.
func TestAlarmsWatchWhatAWSPublishes(t *testing.T) {
	nosql := plan(t, stacks.Servers, "nosql", nil)
	for _, a := range ofType(nosql, "aws:cloudwatch/metricAlarm:MetricAlarm") {
		metrics, _ := alarmMetrics(a)
		for _, m := range metrics {
			if m == "ThrottledRequests" || m == "UserErrors" {
				t.Errorf("alarm %s watches %s, which DynamoDB publishes per operation or per account only", a.Name, m)
			}
		}
		if a.Name == "tables-activity-system-errors" {
			qs := in(a, "metricQueries").([]any)
			ops := 0
			for _, q := range qs {
				if m, ok := q.(map[string]any)["metric"].(map[string]any); ok && m["dimensions"].(map[string]any)["Operation"] != nil {
					ops++
				}
			}
			if ops < 5 {
				t.Errorf("system errors are summed over %d operations", ops)
			}
		}
		if in(a, "metricName") == "CPUUtilization" && in(a, "dimensions", "DBClusterIdentifier") != nil && in(a, "dimensions", "Role") != "WRITER" {
			t.Errorf("alarm %s averages the cluster's writer with its readers", a.Name)
		}
		if in(a, "metricName") == "StatusCheckFailed" && in(a, "dimensions", "AutoScalingGroupName") != nil {
			t.Errorf("alarm %s watches StatusCheckFailed by group, which EC2 does not publish", a.Name)
		}
	}
	for _, w := range []string{"SuccessfulRequestLatency"} {
		if body := dashboards(t, nosql); strings.Contains(body, `"SuccessfulRequestLatency","Operation","GetItem","TableName","llama-dev-activity",{"label":"GetItem SuccessfulRequestLatency","stat":"p95"`) {
			t.Errorf("the dashboard asks DynamoDB for a percentile of %s", w)
		}
	}
	for _, a := range ofType(plan(t, stacks.Servers, "load-balanced", nil), "aws:cloudwatch/metricAlarm:MetricAlarm") {
		if a.Name == "fleet-in-service" {
			metrics, _ := alarmMetrics(a)
			if strings.Join(metrics, ",") != ",GroupInServiceInstances,GroupDesiredCapacity" {
				t.Errorf("the fleet's health alarm watches %v", metrics)
			}
		}
	}
	local, moved := plan(t, stacks.Servers, "single-box", nil), plan(t, stacks.Servers, "separate-db", nil)
	if !contains(alarmNames(local), "box-slow-queries") || contains(alarmNames(moved), "box-slow-queries") {
		t.Error("the box's database alarms do not follow where the app's database is")
	}
	if ud := str(in(ofType(moved, typInstance)[0], "userData")); !strings.Contains(ud, `systemctl disable --now postgresql`) ||
		ud != str(in(ofType(local, typInstance)[0], "userData")) {
		t.Error("the box does not stop its PostgreSQL once the app moves, or its boot script changes with the stage")
	}
}

func alarmNames(p *offline.Plan) []string {
	var out []string
	for _, a := range ofType(p, "aws:cloudwatch/metricAlarm:MetricAlarm") {
		out = append(out, a.Name)
	}
	return out
}

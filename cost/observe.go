package cost

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/llama-stages/llama/components/compute"
	"github.com/llama-stages/llama/offline"
)

// secondsPerMonth is AWS's month (730 hours) in seconds.
const secondsPerMonth = hoursPerMonth * 3600

// Observability the stack turns on and the services bill by the metric, trace or byte
// (CloudWatch pricing, "Paid tier"; X-Ray pricing), priced where it is turned on.
const (
	// ec2DetailedMetrics are the metrics EC2's detailed monitoring publishes each minute an
	// instance, billed as custom metrics (CloudWatch pricing, example "EC2 detailed
	// monitoring": 7 metrics, $2.10 an instance a month).
	ec2DetailedMetrics = 7
	// httpAPIRouteMetrics are the metrics an HTTP API's detailed metrics publish per route:
	// Count, 4xx, 5xx, Latency, IntegrationLatency and DataProcessed (API Gateway Developer
	// Guide, "Monitor HTTP API metrics"), billed as custom metrics.
	httpAPIRouteMetrics = 6
	// enhancedMonitoringSampleKB is what one Enhanced Monitoring sample of an instance's OS
	// metrics weighs in CloudWatch Logs (RDSOSMetrics), about.
	enhancedMonitoringSampleKB = 1.5
)

// observability adds what watching the stack costs beyond its alarms: detailed monitoring of
// the instances, the API's per-route metrics, the function's traces and the databases'
// Enhanced Monitoring.
func (pr *pricer) observability() {
	g := pr.g
	for _, inst := range pr.ofType("aws:ec2/instance:Instance") {
		pr.instanceMetrics(inst, in(inst, "monitoring") == true, 1, compute.AgentMetrics(true))
	}
	for _, st := range pr.ofType("aws:apigatewayv2/stage:Stage") {
		if in(st, "defaultRouteSettings", "detailedMetricsEnabled") == true {
			routes := float64(len(pr.ofType("aws:apigatewayv2/route:Route")))
			pr.add(st, "fixed", routes*httpAPIRouteMetrics*g["customMetricMonth"], "detailed metrics: %g route(s) x %d metrics x $%g/month", routes, httpAPIRouteMetrics, g["customMetricMonth"])
		}
	}
	pr.crossAZ()
	pr.cacheBackups()
	for _, fn := range pr.ofType("aws:lambda/function:Function") {
		if in(fn, "tracingConfig", "mode") == "Active" && !offline.KindOf(fn.Type).IsFree(fn.Inputs) {
			traces := sampledTraces(pr.functionRequests())
			pay, note := pr.billable("xrayTraceMillion", traces/1e6)
			pr.add(fn, "usage", pay*g["xrayTraceMillion"], "X-Ray: %.3g M traces recorded (1 a second and 5%% of the rest) x $%g/M%s", traces/1e6, g["xrayTraceMillion"], note)
		}
	}
	for _, typ := range []string{"aws:rds/instance:Instance", "aws:rds/clusterInstance:ClusterInstance"} {
		for _, db := range pr.ofType(typ) {
			interval := num(in(db, "monitoringInterval"))
			if interval <= 0 {
				continue
			}
			gb := secondsPerMonth / interval * enhancedMonitoringSampleKB / 1e6
			pr.add(db, "usage", gb*pr.r.LogsIngestGb, "Enhanced Monitoring: %.2f GB of OS metrics (a sample every %g s) ingested x $%g/GB", gb, interval, pr.r.LogsIngestGb)
		}
	}
}

// flowRecordsPerConnection are the flow log records one connection's minute makes: the
// interfaces at both ends each record it, and each direction is a flow (VPC User Guide, "Flow
// log records").
const flowRecordsPerConnection = 4

// exportedLog reports whether a log group holds a database's or the cache's own logs: RDS and
// Aurora's exported PostgreSQL log, ElastiCache's engine and slow logs, the box's PostgreSQL.
func exportedLog(name string) bool {
	return strings.HasPrefix(name, "/aws/rds/") && strings.HasSuffix(name, "/postgresql") ||
		strings.HasPrefix(name, "/aws/elasticache/") || strings.HasSuffix(name, "/box/postgresql")
}

// fleetLogGB is what the fleet's CloudWatch agent ships through NAT a month: its nginx and app
// logs.
func (pr *pricer) fleetLogGB() float64 {
	n, fleet := 0, 0
	for _, g := range pr.ofType("aws:cloudwatch/logGroup:LogGroup") {
		if pr.requestLog(g.Name) {
			n++
			if strings.HasPrefix(g.Name, "fleet-") {
				fleet++
			}
		}
	}
	if n == 0 {
		return 0
	}
	return pr.originRequests() * pr.u["logBytesPerRequest"] / 1e9 * float64(fleet) / float64(n)
}

// dashboardMetrics counts the metrics a dashboard's widgets draw.
func dashboardMetrics(body string) int {
	n := 0
	for _, metrics := range offline.DashboardWidgets(body) {
		n += len(metrics)
	}
	return n
}

// instanceMetrics prices what n instances of the box or the fleet publish besides the free
// basic metrics: detailed monitoring where it is on, and the CloudWatch agent's metrics
// (agent of them an instance), each billed as a custom metric.
func (pr *pricer) instanceMetrics(res *offlineResource, detailed bool, n float64, agent int) {
	price := pr.g["customMetricMonth"]
	if detailed {
		pr.add(res, "fixed", n*ec2DetailedMetrics*price, "detailed monitoring of %g instance(s): %d metrics a minute each x $%g/month", n, ec2DetailedMetrics, price)
	}
	pr.add(res, "fixed", n*float64(agent)*price, "CloudWatch agent: %g instance(s) x %d custom metrics (memory, each disk) x $%g/month", n, agent, price)
}

// crossAZ prices what the app and its database and cache send each other between AZs: the app
// runs in every AZ, a writer in one, so all but one AZ's share of the bytes cross, billed in
// each direction (EC2 pricing, "Data Transfer within the same AWS Region").
func (pr *pricer) crossAZ() {
	if len(pr.ofType("aws:lb/loadBalancer:LoadBalancer")) == 0 && len(pr.ofType("aws:lambda/function:Function")) == 0 {
		return // the box's database is on the box
	}
	var primary *offlineResource
	for _, typ := range []string{"aws:rds/instance:Instance", "aws:rds/cluster:Cluster"} {
		for _, r := range pr.ofType(typ) {
			if primary == nil && str(in(r, "replicateSourceDb")) == "" {
				primary = r
			}
		}
	}
	subnets := pr.ofType("aws:ec2/subnet:Subnet")
	azs := map[string]bool{}
	for _, s := range subnets {
		azs[str(in(s, "availabilityZone"))] = true
	}
	if primary == nil || len(azs) < 2 {
		return
	}
	crossing := 1 - 1/float64(len(azs))
	gb := pr.dynamicRequests() * pr.u["responseKB"] / 1e6 * crossing
	pr.add(primary, "usage", gb*2*pr.g["crossAzGb"], "%.0f GB between the app and its data across AZs (%.0f%% of the app's bytes) x $%g/GB each way", gb, 100*crossing, pr.g["crossAzGb"])
}

// cacheBackups prices the cache's daily snapshots beyond the one ElastiCache keeps free
// (ElastiCache pricing, "Backup storage").
func (pr *pricer) cacheBackups() {
	for _, rg := range pr.ofType("aws:elasticache/replicationGroup:ReplicationGroup") {
		days := num(in(rg, "snapshotRetentionLimit"))
		if days <= 1 {
			continue
		}
		gb := (days - 1) * pr.u["cacheDataGB"]
		pr.add(rg, "usage", gb*pr.g["elasticacheBackupGbMonth"], "%g daily snapshots beyond the free one x %g GB x $%g/GB-month", days-1, pr.u["cacheDataGB"], pr.g["elasticacheBackupGbMonth"])
	}
}

// sampledTraces is how many requests of a month X-Ray records under Lambda's default sampling
// rule: the first request each second, and 5% of the others (X-Ray Developer Guide, "Sampling
// rules": reservoir 1, rate 0.05).
func sampledTraces(requests float64) float64 {
	if requests <= secondsPerMonth {
		return requests
	}
	return secondsPerMonth + 0.05*(requests-secondsPerMonth)
}

// logStorage is what a log group keeps at its retention: ingested bytes stay compressed for
// the retention (CloudWatch stores logs compressed; "Storage (Archival)").
func (pr *pricer) logStorage(res *offlineResource, ingestedGB float64) {
	days := num(in(res, "retentionInDays"))
	if days <= 0 || ingestedGB <= 0 {
		return
	}
	months := days / 30.4
	gb := ingestedGB * months * pr.u["logCompression"]
	pr.add(res, "usage", gb*pr.g["logsStorageGbMonth"], "%.2f GB kept (%g days of logs, compressed to %.0f%%) x $%g/GB-month", gb, days, 100*pr.u["logCompression"], pr.g["logsStorageGbMonth"])
}

// unpriced lists the usage-based prices the profile does not model, for the services the
// stage has (each service's pricing page; cost/prices.json's sources).
func (pr *pricer) unpriced() []string {
	out := []string{"CloudWatch Logs Insights queries: $0.005 per GB scanned"}
	has := func(typ string) bool { return len(pr.ofType(typ)) > 0 }
	if has("aws:kms/key:Key") {
		out = append(out, "KMS requests: $0.03 per 10,000 (the alarm topic's messages, encrypted volumes' and buckets' data keys)")
	}
	if has("aws:secretsmanager/secret:Secret") {
		out = append(out, "Secrets Manager API calls: $0.05 per 10,000 (the app reads each secret once a process)")
	}
	if has("aws:lambda/function:Function") {
		out = append(out, "X-Ray trace retrieval and scans: $0.50 per million beyond the free tier (when traces are read)")
	}
	if has("aws:rds/cluster:Cluster") || has("aws:rds/instance:Instance") {
		out = append(out, "backup storage beyond the databases' size, and final snapshots kept after a delete: $0.021-0.095 per GB-month")
	}
	return out
}

// fleetSize is how many instances the fleet runs on average: as many as the month's average
// load needs at requestsPerInstanceSecond, within the group's minimum and maximum (target
// tracking follows the load). Where its busiest hour needs more than the maximum, a risk says
// so.
func (pr *pricer) fleetSize(asg *offlineResource) float64 {
	lo, hi := num(in(asg, "minSize")), num(in(asg, "maxSize"))
	per := pr.u["requestsPerInstanceSecond"]
	avg := pr.originRequests() / secondsPerMonth
	if peak := math.Ceil(avg * pr.u["peakToAverage"] / per); peak > hi && hi > 0 {
		pr.capacity = append(pr.capacity, fmt.Sprintf("the fleet's busiest hour (%.0f requests a second) needs %g instances at %g a second each; llama:maxServers is %g: raise it, or requests queue and fail", avg*pr.u["peakToAverage"], peak, per, hi))
	}
	return min(max(math.Ceil(avg/per), lo), hi)
}

// withinAcu is a serverless instance's average capacity within its cluster's bounds; where the
// busiest hour needs more than llama:maxAcu, a risk says so.
func (pr *pricer) withinAcu(inst *offlineResource, role string, avg float64) float64 {
	c := pr.byID(str(in(inst, "clusterIdentifier")))
	if c == nil {
		return avg
	}
	hi := num(in(c, "serverlessv2ScalingConfiguration", "maxCapacity"))
	if hi > 0 && avg*pr.u["peakToAverage"] > hi {
		pr.capacity = append(pr.capacity, fmt.Sprintf("%s's %s averages %g ACU, %g in the busiest hour, past llama:maxAcu %g: raise it (or add readers, the cache, shards), or queries queue", pr.component(inst), role, avg, avg*pr.u["peakToAverage"], hi))
	}
	if hi > 0 {
		return min(avg, hi)
	}
	return avg
}

// risks says what could make the bill larger than the estimate: burstable classes' surplus
// credits, the free allowances that are the account's (not the stack's), and the tiers the
// profile does not cross.
func (pr *pricer) risks() []string {
	out := slices.Clone(pr.capacity)
	burst := func(class string) bool {
		c := strings.TrimPrefix(strings.TrimPrefix(class, "db."), "cache.")
		return strings.HasPrefix(c, "t2.") || strings.HasPrefix(c, "t3.") || strings.HasPrefix(c, "t3a.") || strings.HasPrefix(c, "t4g.")
	}
	var classes []string
	for _, r := range pr.p.Resources {
		for _, k := range []string{"instanceType", "instanceClass", "nodeType"} {
			if c := str(in(r, k)); burst(c) && !slices.Contains(classes, c) {
				classes = append(classes, c)
			}
		}
	}
	if len(classes) > 0 {
		sort.Strings(classes)
		out = append(out, "burstable classes ("+strings.Join(classes, ", ")+") run in unlimited mode: CPU above the baseline for long bills surplus credits ($0.05 a vCPU-hour on EC2, $0.075 on RDS), unpriced here")
	}
	if len(pr.ofType("aws:cloudwatch/dashboard:Dashboard")) > 0 {
		out = append(out, fmt.Sprintf("the first %g dashboards are free per account, not per stack: a second stack in the account pays $%g a month for each of its own", pr.g["freeDashboards"], pr.g["dashboardMonth"]))
	}
	out = append(out, "data transfer out, HTTP API requests and flow logs are priced through their tiers; Lambda's compute tiers (past 6 billion GB-s a month) are not modelled: past them a profile costs a little less than shown")
	return out
}

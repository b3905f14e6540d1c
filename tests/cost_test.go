package tests

import (
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/llama-stages/llama/cost"
	"github.com/llama-stages/llama/offline"
	"github.com/llama-stages/llama/preview"
	"github.com/llama-stages/llama/stacks"
)

// defaultPlan plans a rung of a new stack at Pulumi.yaml's defaults.
func defaultPlan(t testing.TB, platform stacks.Platform, stage string, over map[string]string) *offline.Plan {
	t.Helper()
	// The rung's steady state: its moves done.
	cfg := map[string]string{"moved": strings.Join(stacks.MovesOf(platform, stage), ",")}
	maps.Copy(cfg, over)
	p, err := preview.Plan(preview.Request{Dir: "..", Stack: "prod", Defaults: true, Stage: stage, Platform: string(platform), Overrides: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEveryTypePricedOrFree: every resource type the program can create, on every rung and in
// every configuration the tests plan, is priced or declared free; an unknown type is an error.
func TestEveryTypePricedOrFree(t *testing.T) {
	for _, r := range allRungs() {
		for _, over := range []map[string]string{nil, {"protect": "true", "natMode": "per-az"}, cdnConfig} {
			p := plan(t, r.platform, r.stage, over)
			if _, err := cost.Price(p, "us-east-1", preview.DefaultUsage(string(r.platform), r.stage)); err != nil {
				t.Errorf("%s %v: %v", r, over, err)
			}
		}
	}
	p := plan(t, stacks.Servers, "single-box", nil)
	odd := *p
	odd.Resources = append(append([]*offline.Resource{}, p.Resources...), &offline.Resource{URN: "urn:q", Type: "aws:sqs/queue:Queue", Name: "q", Custom: true})
	if _, err := cost.Price(&odd, "us-east-1", preview.DefaultUsage("servers", "single-box")); err == nil || !strings.Contains(err.Error(), "aws:sqs/queue:Queue") {
		t.Errorf("an unpriced type: %v", err)
	}
}

// handChecked are prices read off their source pages (us-east-1, 2026-11-01); the table must
// agree with them.
var handChecked = []struct {
	what   string
	source string
	got    func(*cost.Table) float64
	want   float64
}{
	{"t3.small, per hour", "https://aws.amazon.com/ec2/pricing/on-demand/", func(t *cost.Table) float64 { return t.Regions["us-east-1"].EC2["t3.small"] }, 0.0208},
	{"NAT gateway, per hour", "https://aws.amazon.com/vpc/pricing/", func(t *cost.Table) float64 { return t.Regions["us-east-1"].NATHour }, 0.045},
	{"Application Load Balancer, per hour", "https://aws.amazon.com/elasticloadbalancing/pricing/", func(t *cost.Table) float64 { return t.Regions["us-east-1"].ALBHour }, 0.0225},
	{"db.t4g.medium PostgreSQL Multi-AZ, per hour (twice Single-AZ's)", "https://aws.amazon.com/rds/postgresql/pricing/", func(t *cost.Table) float64 { return 2 * t.Regions["us-east-1"].RDS["db.t4g.medium"] }, 0.130},
	{"cache.t4g.small Valkey, per hour (Redis OSS's less 20%)", "https://aws.amazon.com/elasticache/pricing/", func(t *cost.Table) float64 {
		return t.Regions["us-east-1"].ElastiCacheRedis["cache.t4g.small"] * (1 - t.Global["valkeyDiscount"])
	}, 0.0256},
	{"Aurora Serverless v2, per ACU-hour", "https://aws.amazon.com/rds/aurora/pricing/", func(t *cost.Table) float64 { return t.Regions["us-east-1"].AuroraAcuHour }, 0.12},
	{"Lambda arm64, per GB-second", "https://aws.amazon.com/lambda/pricing/", func(t *cost.Table) float64 { return t.Global["lambdaArmGbSecond"] }, 0.0000133334},
	{"DynamoDB on-demand writes, per million", "https://aws.amazon.com/dynamodb/pricing/on-demand/", func(t *cost.Table) float64 { return t.Regions["us-east-1"].DynamoWriteMillion }, 0.625},
	{"public IPv4 address, per hour", "https://aws.amazon.com/vpc/pricing/", func(t *cost.Table) float64 { return t.Global["publicIpv4Hour"] }, 0.005},
	{"RDS Proxy for Aurora Serverless v2, per ACU-hour (8 ACU minimum)", "https://aws.amazon.com/rds/proxy/pricing/", func(t *cost.Table) float64 {
		return t.Regions["us-east-1"].RDSProxyAcuHour * t.Global["rdsProxyMinAcu"]
	}, 0.12},
}

func near(a, b float64) bool { return math.Abs(a-b) < 0.0051 }

// TestHandCheckedPrices holds the table to prices checked by hand against their sources, and
// the monthly cost of two rungs to a computation from them.
func TestHandCheckedPrices(t *testing.T) {
	tbl, err := cost.Prices()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range handChecked {
		if got := c.got(tbl); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: the table says %g, %s says %g", c.what, got, c.source, c.want)
		}
	}
	for _, r := range []string{"us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1"} {
		if _, ok := tbl.Regions[r]; !ok {
			t.Errorf("the table lacks %s", r)
		}
	}

	// Llama 1.0 at the default config (a t3.small box), at its 3M requests a month.
	p := defaultPlan(t, stacks.Servers, "single-box", nil)
	e, err := cost.Price(p, "us-east-1", preview.DefaultUsage("servers", "single-box"))
	if err != nil {
		t.Fatal(err)
	}
	// kept is what a log group's storage costs at the default 90 days: compressed to 15%, at
	// $0.03 a GB-month, each item rounded to the cent as the estimate rounds it.
	kept := func(gbIngested float64) float64 { return math.Round(gbIngested*90/30.4*0.15*0.03*100) / 100 }
	flow := func(requests float64) float64 { return requests / 10 * 4 * 150 / 1e9 }
	// Enhanced Monitoring: a 1.5 KB sample a minute, ingested at $0.50 a GB.
	enhanced := math.Round(730*3600/60*1.5/1e6*0.50*100) / 100
	box := 730*0.0208 + // the box
		(20+50)*0.08 + // its root and data volumes, gp3
		730*0.005 + // its Elastic IP
		1.0 + 0.40 + // the alarm topic's KMS key, the box's database secret
		6*0.30 + // six log metric filters (custom metrics)
		6*0.10 + // six alarm metrics (the error rate's alarm reads two)
		7*0.30 + // the box's detailed monitoring: seven metrics a minute
		3*0.30 // the CloudWatch agent's memory and two disks
	usage := 3e6*20/1e6*0.09 + // 60 GB out to the internet
		2*(3e6*800/1e9/2)*0.50 + // 2.4 GB of nginx and app logs
		flow(3e6)*0.50 + // flow logs: a connection per 10 requests, four 150-byte records each
		1*0.50 + // the box's PostgreSQL log, 1 GB
		2*kept(1.2) + kept(flow(3e6)) + kept(1) // and what their groups keep
	if !near(e.Fixed, box) || !near(e.Usage, usage) || !near(e.Monthly, box+usage) {
		t.Errorf("single-box: fixed %.2f, usage %.2f; by hand %.2f and %.2f", e.Fixed, e.Usage, box, usage)
	}

	// Llama 2.0 at the default config: the same box, and a Multi-AZ db.t4g.medium primary
	// with 20 GB, at 10M requests a month.
	p = defaultPlan(t, stacks.Servers, "separate-db", nil)
	e, err = cost.Price(p, "us-east-1", preview.DefaultUsage("servers", "separate-db"))
	if err != nil {
		t.Fatal(err)
	}
	db := 2*730*0.065 + // primary and standby
		2*20*0.115 + // their gp3 storage
		0.40 + // the master credentials' secret
		2*0.30 + // slow-query and lock-wait filters
		5*0.10 // CPU, connections, read and write latency, slow queries
	usage = 10e6*20/1e6*0.09 + 10e6*800/1e9*0.50 + flow(10e6)*0.50 + 2*kept(4) + kept(flow(10e6)) + enhanced +
		2*(1*0.50+kept(1)) // the box's PostgreSQL log and RDS's, 1 GB each
	box -= 3*0.30 + 0.10 // the box's own database is watched no more: three filters and an alarm go
	if !near(e.Fixed, box+db) || !near(e.Usage, usage) || !near(e.Monthly, box+db+usage) {
		t.Errorf("separate-db: fixed %.2f, usage %.2f; by hand %.2f and %.2f", e.Fixed, e.Usage, box+db, usage)
	}

	// The serverless start: what the hand-checked prices give its largest items.
	p = defaultPlan(t, stacks.Serverless, "serverless", nil)
	e, err = cost.Price(p, "us-east-1", preview.DefaultUsage("serverless", "serverless"))
	if err != nil {
		t.Fatal(err)
	}
	items := map[string]float64{}
	for _, it := range e.Items {
		items[it.Name+"/"+it.Kind] += it.Monthly
	}
	for key, want := range map[string]float64{
		"database-proxy/fixed":      0,                       // no RDS Proxy before the replicas rung
		"database-instance-0/fixed": 730 * 0.5 * 0.12,        // the writer's 0.5 ACU minimum
		"database-instance-0/usage": 730*0.5*0.12 + enhanced, // its average above it (1 ACU), and Enhanced Monitoring
		"network-nat-0/fixed":       0,                       // no NAT: nothing in the VPC needs the internet
		"network-nat-0-eip/fixed":   0,                       // nor its address
		"api-function/usage": 12e6*0.06*0.5*0.0000133334 + 12*0.20 + // 12M API calls, 60 ms at 512 MB
			(730*3600+0.05*(12e6-730*3600))/1e6*5.0, // and X-Ray's traces: one a second and 5% of the rest
	} {
		if !near(items[key], want) {
			t.Errorf("serverless %s: %.2f, by hand %.2f", key, items[key], want)
		}
	}
	sum := 0.0
	for _, it := range e.Items {
		sum += it.Monthly
	}
	if !near(sum, e.Monthly) {
		t.Errorf("serverless items add up to %.2f, the total says %.2f", sum, e.Monthly)
	}
}

// TestCostAlongTheServersLadder: what a rung carries (its fixed cost) never falls as the stack
// climbs; at the same traffic, the total falls only where something leaves (the CDN takes the
// static files' egress), and the diff says why.
func TestCostAlongTheServersLadder(t *testing.T) {
	rungs := stacks.Rungs(stacks.Servers)
	prev := 0.0
	for _, r := range rungs {
		e, err := preview.RungCost("..", "prod", true, stacks.Servers, r.Stage)
		if err != nil {
			t.Fatal(err)
		}
		if e.Fixed < prev-0.01 {
			t.Errorf("%s: fixed cost falls from %.2f to %.2f", r.Stage, prev, e.Fixed)
		}
		prev = e.Fixed
	}
	for i := 1; i < len(rungs); i++ {
		a, b := plan(t, stacks.Servers, rungs[i-1].Stage, nil), plan(t, stacks.Servers, rungs[i].Stage, nil)
		c, err := preview.CompareCost(a, b, "")
		if err != nil {
			t.Fatal(err)
		}
		if c.Delta >= 0 {
			continue
		}
		why := strings.Join(c.Changes, "; ")
		if rungs[i].Stage != "cdn" || !strings.Contains(why, "static changes") || !strings.Contains(c.Text(), "It falls because") {
			t.Errorf("%s -> %s: the cost falls by %.2f: %s", rungs[i-1].Stage, rungs[i].Stage, -c.Delta, why)
		}
	}
	// Retiring the box is a change the diff names.
	c, err := preview.CompareCost(plan(t, stacks.Servers, "separate-db", nil), plan(t, stacks.Servers, "load-balanced", nil), "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(c.Changes, ";"), "box-instance goes") {
		t.Errorf("the box's retirement is not among the changes: %v", c.Changes)
	}
}

// TestUsageFiles: a usage file (YAML or JSON) overrides figures; mistakes are named.
func TestUsageFiles(t *testing.T) {
	base := preview.DefaultUsage("servers", "cache")
	for _, good := range []string{"requests: 5000000\ncdnHitRatio: 0.5\n", `{"requests": 5e6, "cdnHitRatio": 0.5}`} {
		u, err := cost.ParseUsage([]byte(good), base)
		if err != nil || u["requests"] != 5e6 || u["cdnHitRatio"] != 0.5 || u["responseKB"] != base["responseKB"] {
			t.Errorf("%q: %v %v", good, u, err)
		}
	}
	for _, c := range []struct{ file, want string }{
		{"requets: 5\n", "requets: unknown figure (did you mean requests?)"},
		{"requests: -5\n", "requests: -5 is negative"},
		{"requests: 1e30\n", "requests: 1e+30 is more than 1e+12"},
		{"writerAcu: 300\n", "writerAcu: 300 is more than 256"},
		{"requests: lots\n", `requests: "lots" is not a number`},
		{"requests: [1, 2]\n", "requests: [1,2] is not a number"},
		{"cdnHitRatio: 1.5\n", "cdnHitRatio: 1.5 is a share, from 0 to 1"},
		{"", "usage file is empty"},
		{"requests: [1\n", "usage file is not YAML or JSON"},
	} {
		if _, err := cost.ParseUsage([]byte(c.file), base); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.file, err, c.want)
		}
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "usage.yaml")
	os.WriteFile(f, []byte("requests: 30000000\n"), 0o600)
	_, e, err := preview.Cost(preview.Request{Dir: "..", Stage: "single-box"}, f)
	if err != nil {
		t.Fatal(err)
	}
	if e.Assumptions["usage"].(map[string]float64)["requests"] != 3e7 {
		t.Error("the usage file's figure is not among the assumptions")
	}
}

// TestCostInEveryRegion: every region the table covers prices every rung; another region is
// an error that names them.
func TestCostInEveryRegion(t *testing.T) {
	tbl, _ := cost.Prices()
	for _, region := range tbl.RegionNames() {
		for _, r := range allRungs() {
			p := plan(t, r.platform, r.stage, map[string]string{"aws:region": region})
			e, err := cost.Price(p, p.Region, preview.DefaultUsage(string(r.platform), r.stage))
			if err != nil || e.Region != region || e.Monthly <= 0 {
				t.Errorf("%s in %s: %v", r, region, err)
			}
		}
	}
	p := plan(t, stacks.Servers, "single-box", map[string]string{"aws:region": "sa-east-1"})
	if _, err := cost.Price(p, p.Region, preview.DefaultUsage("servers", "single-box")); err == nil || !strings.Contains(err.Error(), "us-east-1") {
		t.Errorf("sa-east-1: %v", err)
	}
}

// TestReadmeCostTable: docs/cost.md's tables are what the pricer prints (go test ./tests
// -run TestReadmeCostTable -update rewrites them).
func TestReadmeCostTable(t *testing.T) {
	table, err := preview.CostTable("..")
	if err != nil {
		t.Fatal(err)
	}
	checkReadmeBlock(t, "cost", table)
}

// TestServerlessStartCost holds the serverless start to the guide's promise, "very little
// upfront investment", at Pulumi.yaml's defaults and the rung's own traffic: at most $60 a
// month before the first request, at most $10 with llama:minAcu 0 (the writer paused when
// idle), and less than the load-balanced fleet at the same traffic.
func TestServerlessStartCost(t *testing.T) {
	price := func(platform stacks.Platform, stage string, over map[string]string) *cost.Estimate {
		t.Helper()
		_, e, err := preview.Cost(preview.Request{Dir: "..", Stack: "prod", Defaults: true, Platform: string(platform), Stage: stage, Overrides: over}, "")
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	start := price(stacks.Serverless, "serverless", nil)
	if start.Fixed > 60 {
		t.Errorf("the serverless start holds at $%.2f a month fixed, over $60", start.Fixed)
	}
	if paused := price(stacks.Serverless, "serverless", map[string]string{"minAcu": "0", "lambdaTimeout": "20"}); paused.Fixed > 10 {
		t.Errorf("the serverless start at llama:minAcu 0 holds at $%.2f a month fixed, over $10", paused.Fixed)
	}
	// The fleet priced at the serverless start's traffic (the same profile: 30M requests).
	fleet := price(stacks.Servers, "load-balanced", map[string]string{"moved": "db,traffic"})
	if a, b := start.Assumptions["usage"].(map[string]float64)["requests"], fleet.Assumptions["usage"].(map[string]float64)["requests"]; a != b {
		t.Fatalf("priced at %g and %g requests a month", a, b)
	}
	if start.Monthly >= fleet.Monthly {
		t.Errorf("the serverless start ($%.2f) costs no less than the load-balanced fleet ($%.2f) at the same traffic", start.Monthly, fleet.Monthly)
	}
}

// TestCapacityFollowsTraffic: the fleet is priced at the instances its traffic needs, within
// its bounds, and the estimate says where the declared capacity cannot carry the busiest
// hour: the fleet's maximum, the serverless writer's maximum ACUs.
func TestCapacityFollowsTraffic(t *testing.T) {
	fleet := defaultPlan(t, stacks.Servers, "load-balanced", map[string]string{"moved": "db,traffic"})
	u := preview.DefaultUsage("servers", "load-balanced").Scaled(100) // 3 billion requests: 1,140 a second
	e, err := cost.Price(fleet, "us-east-1", u)
	if err != nil {
		t.Fatal(err)
	}
	var instances string
	for _, it := range e.Items {
		if it.Name == "fleet-asg" && strings.Contains(it.Basis, "instances (") {
			instances = it.Basis
		}
	}
	if !strings.HasPrefix(instances, "6 t3.small instances") || !slices.ContainsFunc(e.Risks, func(r string) bool { return strings.Contains(r, "llama:maxServers") }) {
		t.Errorf("at 3 billion requests the fleet is priced %q with risks %v; want its maximum, and a word of it", instances, e.Risks)
	}
	quiet, _ := cost.Price(fleet, "us-east-1", preview.DefaultUsage("servers", "load-balanced"))
	if slices.ContainsFunc(quiet.Risks, func(r string) bool { return strings.Contains(r, "llama:maxServers") }) {
		t.Errorf("the rung's own traffic overflows the fleet: %v", quiet.Risks)
	}
	small := defaultPlan(t, stacks.Serverless, "serverless", map[string]string{"maxAcu": "2"})
	e, err = cost.Price(small, "us-east-1", preview.DefaultUsage("serverless", "serverless").Scaled(10))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(e.Risks, func(r string) bool { return strings.Contains(r, "llama:maxAcu 2") }) {
		t.Errorf("a 2-ACU writer at 300 million requests: risks %v", e.Risks)
	}
}

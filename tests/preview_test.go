package tests

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/llama-stages/llama/offline"
	"github.com/llama-stages/llama/preview"
	"github.com/llama-stages/llama/stacks"
)

var update = flag.Bool("update", false, "rewrite the generated sections of the README and docs/")

// usedTypes returns every custom resource type some rung of either ladder registers, with an
// example resource.
func usedTypes(t *testing.T) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, r := range allRungs() {
		// With an alert address, so the optional email subscription is covered too.
		for _, res := range plan(t, r.platform, r.stage, map[string]string{"alertEmail": "ops@example.com"}).Resources {
			if res.Custom {
				out[res.Type] = res.Inputs
			}
		}
	}
	return out
}

// TestCatalogCoversEveryType: the offline engine refuses a type with no catalog entry, so
// every type the program registers has one; here, every entry is a type some rung uses, and a
// tag change (never ForceNew) replaces nothing.
func TestCatalogCoversEveryType(t *testing.T) {
	types := usedTypes(t)
	for typ, k := range offline.Catalog {
		base, used := types[typ]
		if !used {
			t.Errorf("the catalog holds %s, which no rung uses", typ)
			continue
		}
		if k.ForceNew == nil {
			t.Errorf("%s: no ForceNew list (an empty one says the type has none)", typ)
		}
		tagged := clone(base)
		tagged["tags"] = map[string]any{"changed": "yes"}
		if preview.Replaces(typ, base, tagged) {
			t.Errorf("%s: a tag change replaces", typ)
		}
	}
}

// TestProviderReplacements holds the diff to what the providers do, each case read from the
// provider's schema at the version pinned here (terraform-provider-aws v5.x as bridged by
// pulumi-aws v6, terraform-provider-cloudflare v4): a replace where the argument is ForceNew,
// an update where the API changes it in place.
func TestProviderReplacements(t *testing.T) {
	types := usedTypes(t)
	cases := []struct {
		typ, input string
		replaces   bool
		source     string
	}{
		{"aws:rds/instance:Instance", "engine", true, "rds/instance.go: engine ForceNew"},
		{"aws:rds/instance:Instance", "identifier", false, "ModifyDBInstance NewDBInstanceIdentifier"},
		{"aws:rds/instance:Instance", "instanceClass", false, "ModifyDBInstance DBInstanceClass"},
		{"aws:rds/instance:Instance", "identifierPrefix", false, "rds/instance.go: identifier_prefix not ForceNew"},
		{"aws:rds/clusterInstance:ClusterInstance", "identifierPrefix", true, "rds/cluster_instance.go: identifier_prefix ForceNew"},
		{"aws:apigatewayv2/apiMapping:ApiMapping", "apiId", true, "apigatewayv2/api_mapping.go: api_id ForceNew"},
		{"aws:apigatewayv2/apiMapping:ApiMapping", "stage", false, "apigatewayv2/api_mapping.go: UpdateApiMapping Stage"},
		{"aws:secretsmanager/secretVersion:SecretVersion", "secretString", true, "secretsmanager/secret_version.go: secret_string ForceNew"},
		{"cloudflare:index/record:Record", "type", true, "sdkv2provider/schema_cloudflare_record.go: type ForceNew"},
		{"cloudflare:index/record:Record", "content", false, "schema_cloudflare_record.go: the value updates in place"},
		{"cloudflare:index/record:Record", "proxied", false, "schema_cloudflare_record.go: proxied updates in place"},
		{"cloudflare:index/record:Record", "ttl", false, "schema_cloudflare_record.go: ttl updates in place"},
		{"aws:rds/instance:Instance", "storageEncrypted", true, "rds/instance.go: storage_encrypted ForceNew"},
		{"aws:rds/cluster:Cluster", "clusterIdentifier", true, "rds/cluster.go: cluster_identifier ForceNew"},
		{"aws:rds/cluster:Cluster", "backupRetentionPeriod", false, "ModifyDBCluster BackupRetentionPeriod"},
		{"aws:rds/proxy:Proxy", "name", false, "rds/proxy.go: name updated by ModifyDBProxy NewDBProxyName"},
		{"aws:ec2/instance:Instance", "ami", true, "ec2/ec2_instance.go: ami ForceNew"},
		{"aws:ec2/instance:Instance", "ebsOptimized", true, "ec2/ec2_instance.go: ebs_optimized ForceNew"},
		{"aws:ec2/instance:Instance", "instanceType", false, "ModifyInstanceAttribute InstanceType (stop, change, start)"},
		{"aws:ec2/vpc:Vpc", "cidrBlock", true, "ec2/vpc.go: cidr_block ForceNew"},
		{"aws:dynamodb/table:Table", "rangeKey", true, "dynamodb/table.go: range_key ForceNew"},
		{"aws:dynamodb/table:Table", "billingMode", false, "UpdateTable BillingMode"},
		{"aws:elasticache/replicationGroup:ReplicationGroup", "nodeType", false, "ModifyReplicationGroup CacheNodeType"},
		{"aws:elasticache/replicationGroup:ReplicationGroup", "port", true, "elasticache/replication_group.go: port ForceNew"},
		{"aws:lambda/function:Function", "memorySize", false, "UpdateFunctionConfiguration MemorySize"},
		{"aws:lambda/function:Function", "name", true, "lambda/function.go: function_name ForceNew"},
		{"aws:s3/bucketV2:BucketV2", "bucket", true, "s3/bucket.go: bucket ForceNew"},
		{"cloudflare:index/ruleset:Ruleset", "phase", true, "rulesets/schema.go: phase RequiresReplace"},
		{"cloudflare:index/ruleset:Ruleset", "name", true, "rulesets/schema.go: name RequiresReplace"},
		{"cloudflare:index/ruleset:Ruleset", "description", false, "rulesets/schema.go: description updatable"},
	}
	for _, c := range cases {
		base, ok := types[c.typ]
		if !ok {
			t.Errorf("%s: no rung uses it", c.typ)
			continue
		}
		changed := clone(base)
		changed[c.input] = "changed"
		if got := preview.Replaces(c.typ, base, changed); got != c.replaces {
			t.Errorf("%s %s: replaces %v, want %v (%s)", c.typ, c.input, got, c.replaces, c.source)
		}
	}
}

func clone(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestDemotionsThatDropDataAreDataLoss: moving down past the rung that added a database (or
// other store) reports its loss.
func TestDemotionsThatDropDataAreDataLoss(t *testing.T) {
	cases := []struct {
		platform stacks.Platform
		from, to string
		lost     string // a resource that must be reported
	}{
		{stacks.Servers, "separate-db", "single-box", "database-primary"},
		{stacks.Servers, "cache", "replicas", "cache-group"},
		{stacks.Servers, "sharded", "separate-db", "shard-0-cluster"},
		{stacks.Servers, "nosql", "sharded", "tables-activity"},
		{stacks.Servers, "load-balanced", "separate-db", "static"},
		{stacks.Serverless, "nosql", "serverless", "shard-1-cluster"},
	}
	for _, c := range cases {
		d := preview.Diff(plan(t, c.platform, c.from, nil), plan(t, c.platform, c.to, nil))
		found := false
		for _, l := range d.DataLoss {
			found = found || l.Name == c.lost
		}
		if !found {
			t.Errorf("%s %s -> %s does not report %s lost (loses %v)", c.platform, c.from, c.to, c.lost, names(d.DataLoss))
		}
	}
	// The retired box's volume never shows as lost going up, and replicas dropping is no loss.
	d := preview.Diff(plan(t, stacks.Servers, "replicas", nil), plan(t, stacks.Servers, "load-balanced", nil))
	if len(d.DataLoss) != 0 {
		t.Errorf("dropping replicas reports data loss: %v", names(d.DataLoss))
	}
}

func TestUpdatesShowOldAndNew(t *testing.T) {
	a := plan(t, stacks.Servers, "replicas", map[string]string{"replicas": "2"})
	b := plan(t, stacks.Servers, "replicas", map[string]string{"replicas": "2", "dbInstanceClass": "db.r6g.large"})
	d := preview.Diff(a, b)
	for _, u := range d.Updates {
		if u.Name == "database-primary" {
			if u.Old["instanceClass"] != "db.t4g.medium" || u.New["instanceClass"] != "db.r6g.large" {
				t.Errorf("primary update %v -> %v", u.Old, u.New)
			}
			return
		}
	}
	t.Error("a new instance class is not an in-place update of the primary")
}

// TestReadmeDiagrams: docs/architecture.md shows each rung's diagram as the command prints it.
func TestReadmeDiagrams(t *testing.T) {
	var b strings.Builder
	for _, p := range stacks.Platforms {
		fmt.Fprintf(&b, "### The %s ladder\n\n", p)
		for _, r := range stacks.Rungs(p) {
			fmt.Fprintf(&b, "**%s** (%s)\n\n```mermaid\n%s```\n\n", r.Stage, r.Guide, preview.Mermaid(plan(t, p, r.Stage, nil)))
		}
	}
	checkReadmeBlock(t, "diagrams", b.String())
}

// TestReadmeLadders: the README's ladder tables are the ladder table (stacks.Ladder), generated.
func TestReadmeLadders(t *testing.T) {
	checkReadmeBlock(t, "ladders", preview.LadderTables())
}

// checkReadmeBlock holds a generated block of the README or a page under docs/ between <!-- name:begin --> and
// <!-- name:end --> to body; with -update it rewrites the block.
func checkReadmeBlock(t *testing.T, name, body string) {
	t.Helper()
	block := regexp.MustCompile("(?s)<!-- " + name + ":begin -->.*<!-- " + name + ":end -->")
	path, doc := docHolding(t, "<!-- "+name+":begin -->")
	want := block.ReplaceAllLiteralString(doc, "<!-- "+name+":begin -->\n"+body+"<!-- "+name+":end -->")
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want != doc {
		t.Errorf("%s's %s block differs from what the code prints; run go test ./tests -run TestReadme -update", path, name)
	}
}

// docHolding finds the page (README.md or docs/*.md) holding a marker.
func docHolding(t *testing.T, marker string) (string, string) {
	t.Helper()
	pages, _ := filepath.Glob("../docs/*.md")
	for _, p := range append([]string{"../README.md"}, pages...) {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), marker) {
			return p, string(raw)
		}
	}
	t.Fatalf("no page holds %s ... : the README or a page under docs/ must", marker)
	return "", ""
}

// TestDayTwoChanges: changes a team makes on a running stage keep its data.
func TestDayTwoChanges(t *testing.T) {
	cases := []struct {
		name     string
		platform stacks.Platform
		stage    string
		from, to map[string]string
		touches  string // a resource the change must create or update: an override the program ignored would pass unnoticed
	}{
		{"Multi-AZ on", stacks.Servers, "replicas", map[string]string{"dbMultiAz": "false"}, map[string]string{"dbMultiAz": "true"}, "database-primary"},
		{"Multi-AZ off with protection", stacks.Servers, "replicas", map[string]string{"protect": "true"}, map[string]string{"protect": "false"}, "database-primary"},
		{"a third AZ", stacks.Servers, "nosql", map[string]string{"azCount": "2"}, map[string]string{"azCount": "3"}, "network-private-2"},
		{"NAT per AZ", stacks.Servers, "cache", map[string]string{"natMode": "single"}, map[string]string{"natMode": "per-az"}, "network-nat-1"},
		{"bigger database", stacks.Servers, "sharded", map[string]string{"dbInstanceClass": "db.t4g.micro"}, map[string]string{"dbInstanceClass": "db.r6g.large"}, "database-primary"},
		{"more replicas and readers", stacks.Servers, "sharded", map[string]string{"replicas": "2", "shardReaders": "1"}, map[string]string{"replicas": "5", "shardReaders": "2"}, "database-replica-4"},
		{"more cache nodes", stacks.Servers, "cache", map[string]string{"cacheNodes": "2"}, map[string]string{"cacheNodes": "3"}, "cache-group"},
		{"another table", stacks.Servers, "nosql", map[string]string{"tables": "activity:userId:createdAt"}, map[string]string{"tables": "activity:userId:createdAt,feed:id"}, "tables-feed"},
		{"serverless capacity", stacks.Serverless, "nosql", map[string]string{"maxAcu": "2"}, map[string]string{"maxAcu": "16"}, "database-cluster"},
	}
	for _, c := range cases {
		d := preview.Diff(plan(t, c.platform, c.stage, c.from), plan(t, c.platform, c.stage, c.to))
		if len(d.DataLoss) > 0 {
			t.Errorf("%s loses %v", c.name, names(d.DataLoss))
		}
		for _, r := range d.Replaces {
			if r.Stateful {
				t.Errorf("%s replaces %s", c.name, r.Name)
			}
		}
		if !slices.ContainsFunc(slices.Concat(d.Creates, d.Updates), func(ch preview.Change) bool { return ch.Name == c.touches }) {
			t.Errorf("%s changes nothing of %s: creates %v, updates %v", c.name, c.touches, names(d.Creates), names(d.Updates))
		}
	}
}

// TestDayTwoChangesAWSRefuses: shrinking the database's storage and going down a major version
// fail offline, naming why; turning protection off says at the changed input that it also
// drops the standby.
func TestDayTwoChangesAWSRefuses(t *testing.T) {
	for _, c := range []struct {
		name, want string
		from, to   map[string]string
	}{
		{"smaller storage", "cannot shrink", map[string]string{"dbStorageGb": "100", "dbMaxStorageGb": "1000"}, map[string]string{"dbStorageGb": "50", "dbMaxStorageGb": "1000"}},
		{"older major", "never downgrades", map[string]string{"dbEngineVersion": "17"}, map[string]string{"dbEngineVersion": "16"}},
	} {
		d := preview.Diff(plan(t, stacks.Servers, "separate-db", c.from), plan(t, stacks.Servers, "separate-db", c.to))
		if !slices.ContainsFunc(d.Refused, func(r string) bool { return strings.Contains(r, c.want) }) {
			t.Errorf("%s: refused %q, want a line saying %q", c.name, d.Refused, c.want)
		}
	}
	d := preview.Diff(plan(t, stacks.Servers, "replicas", map[string]string{"protect": "true"}), plan(t, stacks.Servers, "replicas", map[string]string{"protect": "false"}))
	for _, u := range d.Updates {
		if u.Name == "database-primary" && !strings.Contains(u.Note, "llama:protect") {
			t.Errorf("Multi-AZ goes with protection, and the diff does not say why: %+v", u)
		}
	}
}

// TestReplacementsTheProviderMakes: day-2 changes the provider carries out by replacing show as
// replaces, and as data loss where the resource holds data: dropping a table's sort key (an
// unset ForceNew input), and moving the cache from Valkey to Redis (a change of engine).
func TestReplacementsTheProviderMakes(t *testing.T) {
	for _, c := range []struct {
		name     string
		stage    string
		from, to map[string]string
		replaced string
	}{
		{"a table loses its sort key", "nosql", map[string]string{"tables": "activity:userId:createdAt,events:id:at"}, map[string]string{"tables": "activity:userId:createdAt,events:id"}, "tables-events"},
		{"the cache changes engine", "cache", nil, map[string]string{"cacheEngine": "redis"}, "cache-group"},
	} {
		from := map[string]string{}
		for k, v := range cdnConfig {
			from[k] = v
		}
		for k, v := range c.from {
			from[k] = v
		}
		to := map[string]string{}
		for k, v := range from {
			to[k] = v
		}
		for k, v := range c.to {
			to[k] = v
		}
		d := preview.Diff(plan(t, stacks.Servers, c.stage, from), plan(t, stacks.Servers, c.stage, to))
		found := false
		for _, l := range d.DataLoss {
			found = found || l.Name == c.replaced
		}
		if !found {
			t.Errorf("%s: %s is not reported replaced with its data (replaces %v)", c.name, c.replaced, d.Replaces)
		}
	}
}

// TestReplacementCascades: a replaced resource gets a new identity, so what refers to it
// through a ForceNew input is replaced too, down to the databases a new VPC takes with it; a
// change of region replaces everything. The data-loss guard counts what the cascade reaches.
func TestReplacementCascades(t *testing.T) {
	a := plan(t, stacks.Servers, "cache", nil)
	d := preview.Diff(a, plan(t, stacks.Servers, "cache", map[string]string{"vpcCidr": "10.1.0.0/16"}))
	byName := map[string]preview.Change{}
	for _, c := range d.Replaces {
		byName[c.Name] = c
	}
	for _, n := range []string{"network-vpc", "network-public-0", "network-app-sg", "database-subnets", "database-primary", "database-replica-0", "cache-subnets", "cache-group"} {
		if _, ok := byName[n]; !ok {
			t.Errorf("a new VPC does not replace %s", n)
		}
	}
	if c := byName["network-app-sg"]; !strings.Contains(c.Cause, "vpcId refers to network-vpc") {
		t.Errorf("the app's group is replaced for %q", c.Cause)
	}
	lost := map[string]bool{}
	for _, c := range d.DataLoss {
		lost[c.Name] = true
	}
	if !lost["database-primary"] || !lost["cache-group"] {
		t.Errorf("a new VPC's data loss: %v", lost)
	}
	r := preview.Diff(a, plan(t, stacks.Servers, "cache", map[string]string{"aws:region": "eu-west-1"}))
	custom := 0
	for _, res := range a.Resources {
		if res.Custom {
			custom++
		}
	}
	if len(r.Replaces) != custom || len(r.DataLoss) < 4 {
		t.Errorf("a new region replaces %d of %d resources, %d with data", len(r.Replaces), custom, len(r.DataLoss))
	}
	// A promotion still replaces nothing.
	if p := preview.Diff(plan(t, stacks.Servers, "replicas", nil), a); len(p.Replaces) != 0 {
		t.Errorf("replicas -> cache replaces %v", p.Replaces)
	}
}

// TestMajorEngineUpgrade: a new major version upgrades the primary in place (RDS allows it),
// with a parameter group of the new family, and loses nothing.
func TestMajorEngineUpgrade(t *testing.T) {
	up := plan(t, stacks.Servers, "replicas", map[string]string{"dbEngineVersion": "17"})
	d := preview.Diff(plan(t, stacks.Servers, "replicas", nil), up)
	if len(d.DataLoss) != 0 {
		t.Errorf("a major upgrade loses %v", d.DataLoss)
	}
	var primary *preview.Change
	for i, c := range d.Updates {
		if c.Name == "database-primary" {
			primary = &d.Updates[i]
		}
	}
	if primary == nil || primary.New["engineVersion"] != "17" || in(named(t, up, typRDS, "database-primary"), "allowMajorVersionUpgrade") != true {
		t.Fatalf("the primary's upgrade: %+v", primary)
	}
	replaced := false
	for _, c := range d.Replaces {
		replaced = replaced || (c.Type == "aws:rds/parameterGroup:ParameterGroup" && c.New["family"] == "postgres17")
	}
	if !replaced {
		t.Error("the parameter group does not move to the postgres17 family")
	}
}

// TestTheDevStackPlansQuietly: the dev stack file, as committed, plans without a warning, so
// that a warning always means something.
func TestTheDevStackPlansQuietly(t *testing.T) {
	p, err := preview.Plan(preview.Request{Dir: "..", Stack: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) > 0 {
		t.Errorf("the dev stack plans with warnings: %q", p.Warnings)
	}
}

package tests

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/llama-stages/llama/offline"
	"github.com/llama-stages/llama/preview"
	"github.com/llama-stages/llama/stacks"
)

func primaries(p *offline.Plan) []*offline.Resource {
	var out []*offline.Resource
	for _, r := range ofType(p, typRDS) {
		if in(r, "replicateSourceDb") == nil {
			out = append(out, r)
		}
	}
	return out
}

func replicasOf(p *offline.Plan) []*offline.Resource {
	var out []*offline.Resource
	for _, r := range ofType(p, typRDS) {
		if in(r, "replicateSourceDb") != nil {
			out = append(out, r)
		}
	}
	return out
}

// sourcesOf returns what a security group admits: CIDRs and the names of referenced groups.
func sourcesOf(p *offline.Plan, sgID string) (ports []int64, from []string) {
	for _, r := range ofType(p, typIngress) {
		if in(r, "securityGroupId") != sgID {
			continue
		}
		ports = append(ports, num(in(r, "fromPort")))
		if ref := str(in(r, "referencedSecurityGroupId")); ref != "" {
			if g := byID(p, ref); g != nil {
				from = append(from, g.Name)
			}
		} else {
			from = append(from, str(in(r, "cidrIpv4"))+str(in(r, "cidrIpv6")))
		}
	}
	return
}

func TestSeparateDB(t *testing.T) {
	p := plan(t, stacks.Servers, "separate-db", map[string]string{"protect": "true"})
	dbs := primaries(p)
	if len(dbs) != 1 {
		t.Fatalf("%d RDS primaries", len(dbs))
	}
	db := dbs[0]
	want := map[string]any{
		"engine": "postgres", "engineVersion": "16", "storageType": "gp3", "storageEncrypted": true, "multiAz": true,
		"backupRetentionPeriod": int64(7), "deletionProtection": true, "skipFinalSnapshot": false,
		"performanceInsightsEnabled": true, "monitoringInterval": int64(60),
		"iamDatabaseAuthenticationEnabled": true, "publiclyAccessible": false, "maxAllocatedStorage": int64(200),
		"password": "[secret]",
	}
	for k, v := range want {
		if got := in(db, k); fmt.Sprint(got) != fmt.Sprint(v) {
			t.Errorf("primary %s = %v, want %v", k, got, v)
		}
	}
	// A final snapshot name unique to this life of the database: a second delete of one of
	// the same identifier would fail on the first's snapshot.
	if !regexp.MustCompile(`^llama-dev-db-final-[0-9a-f]{8}$`).MatchString(str(in(db, "finalSnapshotIdentifier"))) {
		t.Errorf("primary finalSnapshotIdentifier = %v, want llama-dev-db-final-<8 hex>", in(db, "finalSnapshotIdentifier"))
	}
	if !db.Protect || !db.Stateful {
		t.Error("primary is not protected")
	}
	if strs(in(db, "enabledCloudwatchLogsExports"))[0] != "postgresql" {
		t.Error("PostgreSQL log not exported")
	}
	lg := named(t, p, "aws:cloudwatch/logGroup:LogGroup", "database-log")
	if in(lg, "name") != "/aws/rds/instance/llama-dev-db/postgresql" || num(in(lg, "retentionInDays")) != 14 {
		t.Errorf("database log group %v retention %v", in(lg, "name"), in(lg, "retentionInDays"))
	}
	if !contains(db.DependsOn, lg.URN) {
		t.Error("the log group is not created before the database")
	}
	// Isolated subnets, admitted from the app's group only, on 5432.
	sub := byID(p, str(in(db, "dbSubnetGroupName")))
	for _, id := range strs(in(sub, "subnetIds")) {
		if s := byID(p, id); s == nil || in(s, "tags", "llama:tier") != "database" {
			t.Errorf("database subnet %s is not an isolated database subnet", id)
		}
	}
	sgs := strs(in(db, "vpcSecurityGroupIds"))
	ports, from := sourcesOf(p, sgs[0])
	if len(ports) != 1 || ports[0] != 5432 || from[0] != "network-app-sg" {
		t.Errorf("database admits %v from %v, want 5432 from the app's group", ports, from)
	}
	// The parameter group forces TLS and logs slow statements.
	pg := byID(p, str(in(db, "parameterGroupName")))
	params := map[string]string{}
	for _, prm := range in(pg, "parameters").([]any) {
		m := prm.(map[string]any)
		params[str(m["name"])] = str(m["value"])
	}
	if params["rds.force_ssl"] != "1" || params["log_min_duration_statement"] != "500" || in(pg, "family") != "postgres16" {
		t.Errorf("parameter group %v %v", in(pg, "family"), params)
	}
	// The password never appears in plain text: not in outputs, not in any input.
	blob, _ := json.Marshal(p)
	for _, pw := range ofType(p, "random:index/randomPassword:RandomPassword") {
		if in(pw, "result") != nil || pw.Outputs["result"] != "[secret]" {
			t.Errorf("password %s result is not secret", pw.Name)
		}
	}
	if strings.Contains(string(blob), "offline-") {
		t.Error("a generated password appears in plain text in the plan")
	}
	sv := named(t, p, "aws:secretsmanager/secretVersion:SecretVersion", "database-credentials-value")
	if in(sv, "secretString") != "[secret]" {
		t.Error("the credentials secret's value is not secret")
	}
	// The box keeps serving and learns the endpoint through parameters.
	if len(ofType(p, typInstance)) != 1 {
		t.Error("separate-db lost the box")
	}
	found := false
	for _, prm := range ofType(p, "aws:ssm/parameter:Parameter") {
		if in(prm, "name") == "/llama/dev/db/primary/endpoint" {
			found = true
		}
	}
	if !found || p.Outputs["dbEndpoint"] == nil || p.Outputs["dbSecretArn"] == nil {
		t.Error("the database endpoint is not published as a parameter and outputs")
	}
	// Multi-AZ follows protect unless set.
	dev := plan(t, stacks.Servers, "separate-db", nil)
	if in(primaries(dev)[0], "multiAz") != false || in(primaries(dev)[0], "availabilityZone") != "us-east-1a" {
		t.Error("the dev primary is Multi-AZ or floats; dev stacks are single-AZ")
	}
}

func TestLoadBalanced(t *testing.T) {
	p := plan(t, stacks.Servers, "load-balanced", map[string]string{"protect": "true", "azCount": "3"})
	lbs := ofType(p, "aws:lb/loadBalancer:LoadBalancer")
	if len(lbs) != 1 {
		t.Fatalf("%d load balancers", len(lbs))
	}
	lb := lbs[0]
	if in(lb, "dropInvalidHeaderFields") != true || in(lb, "enableDeletionProtection") != true || in(lb, "internal") != false {
		t.Error("load balancer keeps invalid headers, lacks deletion protection or is internal")
	}
	for _, id := range strs(in(lb, "subnets")) {
		if s := byID(p, id); s == nil || in(s, "tags", "llama:tier") != "public" {
			t.Errorf("load balancer subnet %s is not public", id)
		}
	}
	if logs := byID(p, str(in(lb, "accessLogs", "bucket"))); logs == nil || in(lb, "accessLogs", "enabled") != true {
		t.Error("no access logs to a bucket of the stack")
	}
	asg := ofType(p, "aws:autoscaling/group:Group")[0]
	azs := map[string]bool{}
	for _, id := range strs(in(asg, "vpcZoneIdentifiers")) {
		s := byID(p, id)
		if s == nil || in(s, "tags", "llama:tier") != "private" {
			t.Errorf("fleet subnet %s is not private", id)
			continue
		}
		azs[str(in(s, "availabilityZone"))] = true
	}
	if len(azs) != 3 {
		t.Errorf("fleet spans %d AZs, want all 3", len(azs))
	}
	if in(asg, "healthCheckType") != "ELB" || num(in(asg, "healthCheckGracePeriod")) <= 0 || in(asg, "instanceRefresh", "strategy") != "Rolling" {
		t.Error("group lacks ELB health checks, a grace period or instance refresh")
	}
	if num(in(asg, "minSize")) != 2 || num(in(asg, "desiredCapacity")) != 2 || num(in(asg, "maxSize")) != 6 {
		t.Errorf("group size %v/%v/%v", in(asg, "minSize"), in(asg, "desiredCapacity"), in(asg, "maxSize"))
	}
	pol := ofType(p, "aws:autoscaling/policy:Policy")
	if len(pol) != 1 || in(pol[0], "policyType") != "TargetTrackingScaling" {
		t.Error("no target-tracking scaling policy")
	}
	lt := ofType(p, typLT)[0]
	if in(lt, "metadataOptions", "httpTokens") != "required" || in(lt, "keyName") != nil {
		t.Error("launch template allows IMDSv1 or SSH")
	}
	bdm := in(lt, "blockDeviceMappings").([]any)[0].(map[string]any)["ebs"].(map[string]any)
	if bdm["encrypted"] != "true" {
		t.Error("launch template volumes are not encrypted")
	}
	ni := in(lt, "networkInterfaces").([]any)[0].(map[string]any)
	if ni["associatePublicIpAddress"] != "false" {
		t.Error("fleet instances get public addresses")
	}
	// Instances accept traffic only from the load balancer's group.
	for _, sg := range strs(ni["securityGroups"]) {
		ports, from := sourcesOf(p, sg)
		for i := range ports {
			if from[i] != "fleet-lb-sg" {
				t.Errorf("fleet instances admit %v on %d", from[i], ports[i])
			}
		}
	}
	// Without a certificate: HTTP forwards. With one: HTTPS forwards, HTTP redirects.
	if n := len(ofType(p, "aws:lb/listener:Listener")); n != 1 {
		t.Errorf("%d listeners without a certificate, want HTTP only", n)
	}
	arn := "arn:aws:acm:us-east-1:123456789012:certificate/0f3b2c7e-1d2a-4b5c-8d9e-0a1b2c3d4e5f"
	tls := plan(t, stacks.Servers, "load-balanced", map[string]string{"certificateArn": arn})
	for _, l := range ofType(tls, "aws:lb/listener:Listener") {
		action := in(l, "defaultActions").([]any)[0].(map[string]any)
		switch num(in(l, "port")) {
		case 443:
			if in(l, "certificateArn") != arn || !strings.HasPrefix(str(in(l, "sslPolicy")), "ELBSecurityPolicy-TLS13") || action["type"] != "forward" {
				t.Error("HTTPS listener misconfigured")
			}
		case 80:
			if action["type"] != "redirect" {
				t.Error("HTTP does not redirect to HTTPS when a certificate is set")
			}
		}
	}
	// The static bucket exists; the box retired, its data volume stays.
	if len(ofType(p, typBucket)) != 3 {
		t.Errorf("%d buckets, want the app's releases, static assets and access logs", len(ofType(p, typBucket)))
	}
	static := named(t, p, typBucket, "static")
	grant := named(t, p, "aws:iam/rolePolicy:RolePolicy", "app-role-static")
	// Least privilege: the app reads the static files; it never writes them.
	if pol := str(in(grant, "policy")); !strings.Contains(pol, str(static.Outputs["arn"])+"/*") || !strings.Contains(pol, "s3:GetObject") ||
		strings.Contains(pol, "s3:PutObject") || strings.Contains(pol, "s3:DeleteObject") {
		t.Errorf("the app's grant on the static bucket is not read-only: %s", pol)
	}
	if len(ofType(p, typInstance)) != 0 {
		t.Error("the box still runs at load-balanced")
	}
	vol := named(t, p, typVolume, "box-data")
	if !vol.RetainOnDelete || !vol.Protect {
		t.Error("the retired box's data volume is not retained and protected")
	}
	if !strings.Contains(preview.Tree(p), "The box is retired at this stage") || !strings.Contains(preview.Tree(p), "Volume box-data") {
		t.Error("the plan does not say that the box retired and its volume stays")
	}
}

func TestReplicas(t *testing.T) {
	p := plan(t, stacks.Servers, "replicas", map[string]string{"azCount": "3"})
	reps := replicasOf(p)
	if len(reps) != 2 {
		t.Fatalf("%d replicas, want the default 2", len(reps))
	}
	primary := primaries(p)[0]
	zones := map[string]bool{str(in(primary, "availabilityZone")): true}
	for _, r := range reps {
		if in(r, "replicateSourceDb") != in(primary, "identifier") || !strings.HasPrefix(primary.ID, "db-") {
			t.Errorf("replica %s replicates %v, not the primary", r.Name, in(r, "replicateSourceDb"))
		}
		az := str(in(r, "availabilityZone"))
		if zones[az] {
			t.Errorf("replica %s shares AZ %s", r.Name, az)
		}
		zones[az] = true
		if in(r, "storageEncrypted") != true || in(r, "publiclyAccessible") != false {
			t.Errorf("replica %s not encrypted or public", r.Name)
		}
		if !alarmOn(p, "ReplicaLag", str(in(r, "identifier"))) {
			t.Errorf("replica %s has no lag alarm", r.Name)
		}
	}
	if eps := strs(p.Outputs["dbReaderEndpoints"]); len(eps) != 2 || !strings.Contains(eps[1], "llama-dev-db-replica-1") {
		t.Errorf("reader endpoints output %v", p.Outputs["dbReaderEndpoints"])
	}
	if n := len(replicasOf(plan(t, stacks.Servers, "replicas", map[string]string{"replicas": "15"}))); n != 15 {
		t.Errorf("replicas=15 gives %d", n)
	}
	// The primary is the same resource as in 2.0.
	if primaries(plan(t, stacks.Servers, "separate-db", nil))[0].URN != primaries(plan(t, stacks.Servers, "replicas", nil))[0].URN {
		t.Error("the replicas rung has another primary than separate-db")
	}
}

func alarmOn(p *offline.Plan, metric, dimValue string) bool {
	for _, a := range ofType(p, "aws:cloudwatch/metricAlarm:MetricAlarm") {
		if in(a, "metricName") != metric {
			continue
		}
		for _, v := range in(a, "dimensions").(map[string]any) {
			if v == dimValue {
				return true
			}
		}
	}
	return false
}

func TestCache(t *testing.T) {
	p := plan(t, stacks.Servers, "cache", map[string]string{"protect": "true"})
	rg := ofType(p, typCache)
	if len(rg) != 1 {
		t.Fatalf("%d replication groups", len(rg))
	}
	g := rg[0]
	for k, v := range map[string]any{"automaticFailoverEnabled": true, "multiAzEnabled": true, "atRestEncryptionEnabled": true,
		"transitEncryptionEnabled": true, "authToken": "[secret]", "numCacheClusters": int64(2), "engine": "valkey"} {
		if fmt.Sprint(in(g, k)) != fmt.Sprint(v) {
			t.Errorf("cache %s = %v, want %v", k, in(g, k), v)
		}
	}
	if num(in(g, "snapshotRetentionLimit")) < 1 || !g.Protect {
		t.Error("cache keeps no snapshots or is not protected")
	}
	var kinds []string
	for _, l := range in(g, "logDeliveryConfigurations").([]any) {
		m := l.(map[string]any)
		kinds = append(kinds, str(m["logType"]))
		lg := byID(p, str(m["destination"]))
		if lg == nil || num(in(lg, "retentionInDays")) <= 0 {
			t.Errorf("%s goes to %v, not a log group with a retention", m["logType"], m["destination"])
		}
	}
	if strings.Join(kinds, ",") != "slow-log,engine-log" {
		t.Errorf("cache logs %v", kinds)
	}
	ports, from := sourcesOf(p, strs(in(g, "securityGroupIds"))[0])
	if len(ports) != 1 || ports[0] != 6379 || from[0] != "network-app-sg" {
		t.Errorf("cache admits %v from %v", ports, from)
	}
	sub := byID(p, str(in(g, "subnetGroupName")))
	for _, id := range strs(in(sub, "subnetIds")) {
		if in(byID(p, id), "tags", "llama:tier") != "private" {
			t.Error("cache outside the private subnets")
		}
	}
	if p.Outputs["cachePrimaryEndpoint"] == nil || p.Outputs["cacheReaderEndpoint"] == nil {
		t.Error("cache endpoints are not stack outputs")
	}
}

func resourceNames(rs []*offline.Resource) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

func TestCDN(t *testing.T) {
	p := plan(t, stacks.Servers, "cdn", nil)
	lb := ofType(p, "aws:lb/loadBalancer:LoadBalancer")[0]
	recs := ofType(p, "cloudflare:index/record:Record")
	proxied := map[string]string{}
	for _, r := range recs {
		if in(r, "proxied") == true {
			proxied[str(in(r, "name"))] = str(in(r, "content"))
		}
	}
	if proxied["llama.example.com"] != lb.Outputs["dnsName"] {
		t.Errorf("the app record points at %q, not the load balancer", proxied["llama.example.com"])
	}
	// The static host goes to the load balancer too, where the app serves /static/ from the
	// private bucket: a bucket origin would need Origin Rules' Host header override, an
	// Enterprise-plan feature.
	if proxied["static.llama.example.com"] != lb.Outputs["dnsName"] {
		t.Errorf("the static record points at %q, not the load balancer", proxied["static.llama.example.com"])
	}
	phases := map[string]*offline.Resource{}
	for _, rs := range ofType(p, "cloudflare:index/ruleset:Ruleset") {
		phases[str(in(rs, "phase"))] = rs
		if in(rs, "zoneId") != cdnConfig["cloudflareZoneId"] || in(rs, "kind") != "zone" {
			t.Errorf("ruleset %s is not the stack's zone ruleset", rs.Name)
		}
	}
	cache := phases["http_request_cache_settings"]
	if cache == nil {
		t.Fatal("no cache ruleset")
	}
	rules := in(cache, "rules").([]any)
	cacheRule, bypass := rules[0].(map[string]any), rules[1].(map[string]any)
	if cacheRule["action"] != "set_cache_settings" || !strings.Contains(str(cacheRule["expression"]), "static.llama.example.com") {
		t.Errorf("first cache rule %v", cacheRule)
	}
	if ttl := num(cacheRule["actionParameters"].(map[string]any)["edgeTtl"].(map[string]any)["default"]); ttl < 86400 {
		t.Errorf("static edge TTL %d s is short", ttl)
	}
	if bypass["actionParameters"].(map[string]any)["cache"] != false || !strings.Contains(str(bypass["expression"]), "/api/") {
		t.Errorf("API is not bypassed: %v", bypass)
	}
	tls := phases["http_config_settings"]
	if tls == nil || in(tls, "rules").([]any)[0].(map[string]any)["actionParameters"].(map[string]any)["ssl"] != "strict" ||
		!strings.Contains(str(in(tls, "rules").([]any)[0].(map[string]any)["expression"]), "http.host in") {
		t.Error("strict TLS is not set for the stack's hostnames")
	}
	// static.<domain>'s paths reach the app under /static/ by a URL rewrite (every plan), and
	// no rule overrides a Host header (Enterprise only).
	transform := phases["http_request_transform"]
	if transform == nil || !strings.Contains(fmt.Sprint(in(transform, "rules")), `concat("/static", http.request.uri.path)`) {
		t.Errorf("static.<domain>'s paths are not rewritten under /static/: %v", transform)
	}
	if origin := phases["http_request_origin"]; origin != nil {
		t.Errorf("the servers edge overrides a Host header (Enterprise only): %v", in(origin, "rules"))
	}
	// The static bucket admits anonymous reads from Cloudflare's ranges only (the ladder's
	// contract): never from the internet at large.
	static := named(t, p, typBucket, "static")
	limited := false
	for _, r := range ofType(p, "aws:s3/bucketPolicy:BucketPolicy") {
		if in(r, "bucket") == static.ID {
			limited = strings.Contains(str(in(r, "policy")), "aws:SourceIp") && strings.Contains(str(in(r, "policy")), offline.CloudflareIPv4[0])
		}
	}
	if !limited {
		t.Error("the static bucket's anonymous reads are not limited to Cloudflare's ranges")
	}
	// The load balancer admits Cloudflare only: the CDN cannot be bypassed.
	if open := openIngress(p); len(open) != 0 {
		t.Errorf("open to the internet behind Cloudflare: %v", resourceNames(open))
	}
	lbSG := strs(in(lb, "securityGroups"))[0]
	pls := ofType(p, "aws:ec2/managedPrefixList:ManagedPrefixList")
	if len(pls) != 1 || len(in(pls[0], "entries").([]any)) != len(offline.CloudflareIPv4) {
		t.Fatal("no prefix list of Cloudflare's IPv4 ranges")
	}
	for _, r := range ofType(p, typIngress) {
		if in(r, "securityGroupId") == lbSG && in(r, "prefixListId") != pls[0].ID {
			t.Errorf("load balancer rule %s admits more than Cloudflare", r.Name)
		}
	}
	// An origin certificate is issued and validated through the zone.
	if len(ofType(p, "aws:acm/certificate:Certificate")) != 1 || len(ofType(p, "aws:acm/certificateValidation:CertificateValidation")) != 1 {
		t.Error("no validated origin certificate")
	}
	for _, l := range ofType(p, "aws:lb/listener:Listener") {
		if num(in(l, "port")) == 443 && byID(p, str(in(l, "certificateArn"))) == nil {
			t.Error("the HTTPS listener does not present the stack's certificate")
		}
	}
}

func TestSharded(t *testing.T) {
	p := plan(t, stacks.Servers, "sharded", map[string]string{"protect": "true", "azCount": "3"})
	clusters := ofType(p, typCluster)
	if len(clusters) != 2 {
		t.Fatalf("%d shards, want the default 2", len(clusters))
	}
	for i, c := range clusters {
		for k, v := range map[string]any{"engine": "aurora-postgresql", "storageEncrypted": true, "deletionProtection": true,
			"skipFinalSnapshot": false, "iamDatabaseAuthenticationEnabled": true, "masterPassword": "[secret]"} {
			if fmt.Sprint(in(c, k)) != fmt.Sprint(v) {
				t.Errorf("shard %d %s = %v", i, k, in(c, k))
			}
		}
		if !c.Protect || !regexp.MustCompile(fmt.Sprintf(`^llama-dev-shard-%d-final-[0-9a-f]{8}$`, i)).MatchString(str(in(c, "finalSnapshotIdentifier"))) {
			t.Errorf("shard %d protect=%v final snapshot %v", i, c.Protect, in(c, "finalSnapshotIdentifier"))
		}
		cpg := byID(p, str(in(c, "dbClusterParameterGroupName")))
		if !strings.Contains(fmt.Sprint(in(cpg, "parameters")), "rds.force_ssl") {
			t.Errorf("shard %d does not force TLS", i)
		}
		var azs []string
		for _, inst := range ofType(p, typClusterI) {
			if in(inst, "clusterIdentifier") == c.ID {
				azs = append(azs, str(in(inst, "availabilityZone")))
				if in(inst, "performanceInsightsEnabled") != true {
					t.Errorf("shard %d instance without Performance Insights", i)
				}
			}
		}
		if len(azs) != 2 || azs[0] == azs[1] {
			t.Errorf("shard %d instances in %v: want a writer and a reader in another AZ", i, azs)
		}
	}
	if len(primaries(p)) != 1 || len(replicasOf(p)) != 2 {
		t.Error("the RDS primary and its replicas did not stay for the unsharded tables")
	}
	var m struct {
		Rule   string `json:"rule"`
		Count  int    `json:"shardCount"`
		Shards []struct {
			Index          int
			Writer, Reader string
		} `json:"shards"`
	}
	if err := json.Unmarshal([]byte(str(p.Outputs["shardMap"])), &m); err != nil {
		t.Fatalf("shard map: %v", err)
	}
	if m.Count != 2 || len(m.Shards) != 2 || !strings.Contains(m.Rule, "userId") || m.Shards[1].Writer != clusters[1].Outputs["endpoint"] {
		t.Errorf("shard map %+v", m)
	}
	params := map[string]bool{}
	for _, prm := range ofType(p, "aws:ssm/parameter:Parameter") {
		params[str(in(prm, "name"))] = true
	}
	for _, k := range []string{"count", "rule", "0/writer", "0/reader", "0/secretArn", "1/writer", "1/reader", "1/secretArn"} {
		if !params["/llama/dev/shards/"+k] {
			t.Errorf("the shard map's %s is not a parameter", k)
		}
	}
}

// TestShardGrowthAndShrink: growing only creates; shrinking deletes protected shards and is
// data loss.
func TestShardGrowthAndShrink(t *testing.T) {
	two := plan(t, stacks.Servers, "sharded", map[string]string{"protect": "true", "shards": "2"})
	five := plan(t, stacks.Servers, "sharded", map[string]string{"protect": "true", "shards": "5"})
	grow := preview.Diff(two, five)
	if len(grow.Deletes) != 0 || len(grow.Replaces) != 0 || len(grow.DataLoss) != 0 {
		t.Errorf("2 -> 5 shards deletes %d, replaces %d", len(grow.Deletes), len(grow.Replaces))
	}
	newClusters := 0
	for _, c := range grow.Creates {
		if c.Type == typCluster {
			newClusters++
		}
	}
	if newClusters != 3 {
		t.Errorf("2 -> 5 shards creates %d clusters", newClusters)
	}
	for _, u := range grow.Updates {
		// The dashboard, the shard map and the app's secret grant take in the new shards.
		if u.Type != "aws:cloudwatch/dashboard:Dashboard" && u.Type != "aws:ssm/parameter:Parameter" && u.Name != "app-role-secrets" {
			t.Errorf("growing shards updates %s %s %v", u.Type, u.Name, u.Keys)
		}
	}
	shrink := preview.Diff(five, two)
	lost := map[string]bool{}
	for _, c := range shrink.DataLoss {
		if c.Type != typCluster || !c.Protected {
			t.Errorf("shrink loses %s %s (protected %v)", c.Type, c.Name, c.Protected)
		}
		lost[c.Name] = true
	}
	if len(lost) != 3 || !lost["shard-2-cluster"] || !lost["shard-4-cluster"] {
		t.Errorf("5 -> 2 shards loses %v, want shards 2, 3 and 4", lost)
	}
	for _, r := range ofType(five, typCluster) {
		if in(r, "deletionProtection") != true {
			t.Error("a shard without deletion protection")
		}
	}
}

func TestNoSQL(t *testing.T) {
	p := plan(t, stacks.Servers, "nosql", map[string]string{"protect": "true",
		"tables": "activity:userId:createdAt:expiresAt,sessions:sessionId::expiresAt,events:id"})
	tables := ofType(p, typTable)
	if len(tables) != 3 {
		t.Fatalf("%d tables", len(tables))
	}
	var arns []string
	for _, tb := range tables {
		if in(tb, "billingMode") != "PAY_PER_REQUEST" || in(tb, "pointInTimeRecovery", "enabled") != true ||
			in(tb, "serverSideEncryption", "enabled") != true || in(tb, "deletionProtectionEnabled") != true || !tb.Protect {
			t.Errorf("table %s is not on-demand, recoverable, encrypted and protected", tb.Name)
		}
		arns = append(arns, str(tb.Outputs["arn"]))
	}
	act := named(t, p, typTable, "tables-activity")
	if in(act, "hashKey") != "userId" || in(act, "rangeKey") != "createdAt" || in(act, "ttl", "attributeName") != "expiresAt" {
		t.Errorf("activity table keys %v/%v ttl %v", in(act, "hashKey"), in(act, "rangeKey"), in(act, "ttl"))
	}
	if ev := named(t, p, typTable, "tables-events"); in(ev, "rangeKey") != nil || in(ev, "ttl") != nil {
		t.Error("events table has a sort key or TTL it was not given")
	}
	// The app's role may use these tables and nothing else.
	role := named(t, p, "aws:iam/role:Role", "app-role-role")
	granted := false
	for _, rp := range ofType(p, "aws:iam/rolePolicy:RolePolicy") {
		if rp.Name != "app-role-tables" {
			continue
		}
		granted = granted || in(rp, "role") == role.ID
		for _, st := range policyDoc(t, in(rp, "policy"))["Statement"].([]any) {
			for _, res := range strs(st.(map[string]any)["Resource"]) {
				if !contains(arns, strings.TrimSuffix(res, "/index/*")) {
					t.Errorf("table access reaches %s", res)
				}
			}
			if strings.Contains(fmt.Sprint(st), "dynamodb:*") {
				t.Error("table access grants dynamodb:*")
			}
		}
	}
	if !granted {
		t.Error("the app's role is not granted the tables")
	}
}

// TestServersPromotionChain: each step up the servers ladder keeps every resource the next rung
// still has under its URN, and deletes or replaces nothing that holds data.
func TestServersPromotionChain(t *testing.T) {
	promotionChain(t, stacks.Servers, map[string]string{"protect": "true"}, map[string]bool{
		// What a rung may leave behind: the box retires at load-balanced (its data volume stays);
		// at cdn the load balancer stops admitting the internet, Cloudflare only.
		"box": true, "fleet-lb-sg-in-http": true, "fleet-lb-sg-in-https": true,
	})
}

func promotionChain(t *testing.T, platform stacks.Platform, over map[string]string, mayGo map[string]bool) {
	t.Helper()
	stages := stacks.StageNames(platform)
	for i := 0; i+1 < len(stages); i++ {
		a, b := plan(t, platform, stages[i], over), plan(t, platform, stages[i+1], over)
		d := preview.Diff(a, b)
		if len(d.DataLoss) > 0 || len(d.Replaces) > 0 {
			t.Errorf("%s -> %s replaces %v, loses %v", stages[i], stages[i+1], names(d.Replaces), names(d.DataLoss))
		}
		for _, del := range d.Deletes {
			if del.Stateful {
				t.Errorf("%s -> %s deletes %s", stages[i], stages[i+1], del.Name)
			}
			if !mayGo[del.Component] && !mayGo[del.Name] {
				t.Errorf("%s -> %s deletes %s %s", stages[i], stages[i+1], del.Type, del.Name)
			}
		}
		for _, s := range d.Kept {
			if !s.Stateful {
				t.Errorf("kept %s is not stateful", s.Name)
			}
		}
		if len(d.Creates) == 0 {
			t.Errorf("%s -> %s creates nothing", stages[i], stages[i+1])
		}
	}
}

func names(cs []preview.Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func TestServersBadConfig(t *testing.T) {
	runBadConfigs(t, []badConfig{
		{"16 replicas", stacks.Servers, "replicas", map[string]string{"replicas": "16"}, "llama:replicas", "0 to 15"},
		{"-1 replicas", stacks.Servers, "replicas", map[string]string{"replicas": "-1"}, "llama:replicas", "0 to 15"},
		{"no backups with replicas", stacks.Servers, "replicas", map[string]string{"backupRetentionDays": "0"}, "llama:backupRetentionDays", "1 to 35"},
		{"36 days of backups", stacks.Servers, "separate-db", map[string]string{"backupRetentionDays": "36"}, "llama:backupRetentionDays", "1 to 35"},
		{"desired above max", stacks.Servers, "load-balanced", map[string]string{"desiredServers": "8", "maxServers": "6"}, "llama:desiredServers", "llama:maxServers"},
		{"desired below min", stacks.Servers, "load-balanced", map[string]string{"minServers": "3", "desiredServers": "2"}, "llama:desiredServers", "llama:minServers"},
		{"max of 1", stacks.Servers, "load-balanced", map[string]string{"maxServers": "1", "desiredServers": "1", "minServers": "1"}, "llama:maxServers", "2 to 100"},
		{"engine 9.6", stacks.Servers, "separate-db", map[string]string{"dbEngineVersion": "9.6"}, "llama:dbEngineVersion", "14 or later"},
		{"activity without a sort key", stacks.Servers, "nosql", map[string]string{"tables": "activity:userId"}, "llama:tables", "sort key"},
		{"engine 13, older than the driver supports", stacks.Servers, "separate-db", map[string]string{"dbEngineVersion": "13"}, "llama:dbEngineVersion", "lib/pq"},
		{"autoscaling ceiling below storage", stacks.Servers, "separate-db", map[string]string{"dbMaxStorageGb": "20"}, "llama:dbMaxStorageGb", "more than"},
		{"no zone at cdn", stacks.Servers, "cdn", map[string]string{"cloudflareZoneId": ""}, "llama:cloudflareZoneId", "required from the cdn rung"},
		{"no domain at cdn", stacks.Servers, "cdn", map[string]string{"domain": ""}, "llama:domain", "required from the cdn rung"},
		{"a domain without its zone", stacks.Servers, "single-box", map[string]string{"domain": "llama.example.com"}, "llama:cloudflareZoneId", "whenever llama:domain is set"},
		{"a zone without a domain", stacks.Servers, "replicas", map[string]string{"cloudflareZoneId": "0123456789abcdef0123456789abcdef"}, "llama:domain", "whenever llama:cloudflareZoneId is set"},
		{"a Xen instance type the box cannot boot", stacks.Servers, "single-box", map[string]string{"instanceType": "t2.micro"}, "llama:instanceType", "Nitro"},
		{"a mistyped instance size", stacks.Servers, "single-box", map[string]string{"instanceType": "t3.smal"}, "llama:instanceType", "Nitro"},
		{"an RDS class PostgreSQL does not run on", stacks.Servers, "separate-db", map[string]string{"dbInstanceClass": "db.t2.micro"}, "llama:dbInstanceClass", "RDS for PostgreSQL"},
		{"an Aurora class too small", stacks.Servers, "sharded", map[string]string{"shardInstanceClass": "db.t4g.micro"}, "llama:shardInstanceClass", "Aurora PostgreSQL"},
		{"a static hostname past Universal SSL", stacks.Servers, "cdn", map[string]string{"domain": "app.example.com", "cloudflareCertificate": "universal"}, "llama:domain", "Advanced Certificate Manager"},
		{"a CA that is not https", stacks.Servers, "single-box", map[string]string{"acmeDirectory": "http://ca.example.com/dir"}, "llama:acmeDirectory", "https://"},
		{"malformed zone", stacks.Servers, "cdn", map[string]string{"cloudflareZoneId": "my-zone"}, "llama:cloudflareZoneId", "32 lowercase hex"},
		{"malformed domain", stacks.Servers, "cdn", map[string]string{"domain": "https://app.example.com"}, "llama:domain", "hostname"},
		{"0 shards", stacks.Servers, "sharded", map[string]string{"shards": "0"}, "llama:shards", "1 to 64 on the sharded rung"},
		{"65 shards", stacks.Servers, "sharded", map[string]string{"shards": "65"}, "llama:shards", "0 to 64"},
		{"2.5 shards", stacks.Servers, "sharded", map[string]string{"shards": "2.5"}, "llama:shards", "whole number"},
		{"table name too short", stacks.Servers, "nosql", map[string]string{"tables": "ab:id"}, "llama:tables", "table names 3..200"},
		{"table name with a space", stacks.Servers, "nosql", map[string]string{"tables": "my table:id"}, "llama:tables", "name:partitionKey"},
		{"table without a key", stacks.Servers, "nosql", map[string]string{"tables": "activity"}, "llama:tables", "name:partitionKey"},
		{"table twice", stacks.Servers, "nosql", map[string]string{"tables": "a1b:id,a1b:id"}, "llama:tables", "no table twice"},
		{"one cache node with failover", stacks.Servers, "cache", map[string]string{"cacheNodes": "1"}, "llama:cacheNodes", "2 to 6"},
		{"cache engine memcached", stacks.Servers, "cache", map[string]string{"cacheEngine": "memcached"}, "llama:cacheEngine", "valkey"},
	})
}

// TestInlinePoliciesFitIAM: IAM caps a role's inline policies at 10,240 characters in all; the
// app's grants grow with the shards, so the largest stage must still fit.
func TestInlinePoliciesFitIAM(t *testing.T) {
	for _, platform := range []stacks.Platform{stacks.Servers, stacks.Serverless} {
		p := plan(t, platform, "nosql", map[string]string{"shards": "64", "dbClusterQuota": "65", "dbInstanceQuota": "200"})
		size := map[string]int{}
		for _, rp := range ofType(p, "aws:iam/rolePolicy:RolePolicy") {
			size[str(in(rp, "role"))] += len(str(in(rp, "policy")))
		}
		for role, n := range size {
			if n > 10240-1024 { // a margin for longer region names and ARNs
				t.Errorf("%s: role %s carries %d characters of inline policy", platform, role, n)
			}
		}
	}
}

// TestShardsShareTheirBase: shards share one security group, subnet group, parameter group and
// monitoring role, so their count does not run into RDS's per-region group quotas.
func TestShardsShareTheirBase(t *testing.T) {
	for _, n := range []string{"2", "64"} {
		p := plan(t, stacks.Servers, "sharded", map[string]string{"shards": n, "dbClusterQuota": "64", "dbInstanceQuota": "200"})
		if got := len(ofType(p, "aws:rds/subnetGroup:SubnetGroup")); got != 2 {
			t.Errorf("%s shards: %d DB subnet groups, want the primary's and the shards'", n, got)
		}
		if got := len(ofType(p, "aws:rds/clusterParameterGroup:ClusterParameterGroup")); got != 1 {
			t.Errorf("%s shards: %d cluster parameter groups, want one", n, got)
		}
		groups := map[any]bool{}
		for _, c := range ofType(p, typCluster) {
			groups[in(c, "dbSubnetGroupName")] = true
			groups[strs(in(c, "vpcSecurityGroupIds"))[0]] = true
		}
		if len(groups) != 2 {
			t.Errorf("%s shards use %d subnet and security groups, want one of each", n, len(groups))
		}
	}
}

// TestNoSQLWithoutShards: a team takes the NoSQL offload without sharding, on either ladder
// (the guide: "instead of sharding"), and promotes to it in place; shards can come later.
func TestNoSQLWithoutShards(t *testing.T) {
	for _, platform := range []stacks.Platform{stacks.Servers, stacks.Serverless} {
		p := plan(t, platform, "nosql", map[string]string{"shards": "0"})
		if n := len(ofType(p, typCluster)); (platform == stacks.Servers && n != 0) || (platform == stacks.Serverless && n != 1) {
			t.Errorf("%s/nosql with shards=0 has %d Aurora clusters", platform, n)
		}
		if len(ofType(p, typTable)) != 1 {
			t.Errorf("%s/nosql with shards=0 has no table", platform)
		}
		l := published(p)
		if _, ok := l["shards/count"]; ok {
			t.Errorf("%s/nosql with shards=0 publishes a shard map", platform)
		}
		d := preview.Diff(plan(t, platform, "cdn", nil), p)
		if len(d.DataLoss) != 0 || len(d.Replaces) != 0 {
			t.Errorf("%s: cdn -> nosql without shards loses %v, replaces %v", platform, d.DataLoss, d.Replaces)
		}
		later := preview.Diff(p, plan(t, platform, "nosql", map[string]string{"shards": "2"}))
		if len(later.DataLoss) != 0 || len(later.Replaces) != 0 || len(later.Creates) == 0 {
			t.Errorf("%s: adding shards to nosql later loses %v, replaces %v", platform, later.DataLoss, later.Replaces)
		}
	}
}

// TestRDSQuotas: a stage that needs more DB clusters or instances than the region's quotas
// allow is refused before anything is deployed, naming the counts; declared raised quotas pass.
func TestRDSQuotas(t *testing.T) {
	_, err := tryPlan(stacks.Servers, "sharded", map[string]string{"shards": "40", "shardReaders": "1"}, false)
	if err == nil || !strings.Contains(err.Error(), "llama:dbInstanceQuota") || !strings.Contains(err.Error(), "needs 40 DB clusters and 83 DB instances") {
		t.Errorf("40 shards with a reader each under the default quotas: %v", err)
	}
	if _, err := tryPlan(stacks.Serverless, "sharded", map[string]string{"shards": "40"}, false); err == nil || !strings.Contains(err.Error(), "llama:dbClusterQuota") {
		t.Errorf("41 serverless clusters under the default quota: %v", err)
	}
	if _, err := tryPlan(stacks.Servers, "sharded", map[string]string{"shards": "40", "shardReaders": "1", "dbInstanceQuota": "100"}, false); err != nil {
		t.Errorf("a declared quota: %v", err)
	}
}

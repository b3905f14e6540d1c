package tests

import (
	"archive/zip"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/llama-stages/llama/components/database"
	"github.com/llama-stages/llama/components/functions"
	"github.com/llama-stages/llama/components/release"
	"github.com/llama-stages/llama/offline"
	"github.com/llama-stages/llama/stacks"
)

const typFunction = "aws:lambda/function:Function"

func TestServerlessStarter(t *testing.T) {
	p := plan(t, stacks.Serverless, "serverless", map[string]string{"protect": "true", "maxAcu": "2"})
	if len(ofType(p, typInstance)) != 0 || len(ofType(p, typLT)) != 0 {
		t.Error("the serverless stack runs servers")
	}
	fn := named(t, p, typFunction, "api-function")
	for k, v := range map[string]any{"runtime": "provided.al2023", "handler": "bootstrap", "timeout": int64(10), "memorySize": int64(512)} {
		if fmt.Sprint(in(fn, k)) != fmt.Sprint(v) {
			t.Errorf("function %s = %v, want %v", k, in(fn, k), v)
		}
	}
	if strs(in(fn, "architectures"))[0] != "arm64" || in(fn, "tracingConfig", "mode") != "Active" {
		t.Error("function not on arm64 or without active tracing")
	}
	for _, id := range strs(in(fn, "vpcConfig", "subnetIds")) {
		if in(byID(p, id), "tags", "llama:tier") != "private" {
			t.Error("function outside the private subnets")
		}
	}
	if sg := byID(p, strs(in(fn, "vpcConfig", "securityGroupIds"))[0]); sg == nil || sg.Name != "network-app-sg" {
		t.Error("function does not run as the app's security group")
	}
	logs := named(t, p, "aws:cloudwatch/logGroup:LogGroup", "api-logs")
	if in(logs, "name") != "/aws/lambda/llama-dev-api" || !contains(fn.DependsOn, logs.URN) || num(in(logs, "retentionInDays")) <= 0 {
		t.Error("the function's log group is not created first with a retention")
	}
	// The role may connect to the database through the proxy and read the stack's parameters.
	for _, rp := range ofType(p, "aws:iam/rolePolicy:RolePolicy") {
		if rp.Name != "api-access" {
			continue
		}
		pol := str(in(rp, "policy"))
		if !strings.Contains(pol, `"rds-db:connect"`) || !strings.Contains(pol, "dbuser:cluster-") || !strings.Contains(pol, "/llama_app") || strings.Contains(pol, "dbuser:prx-") || strings.Contains(pol, `"*"`) {
			t.Errorf("function policy is not least privilege: %s", pol)
		}
	}
	// The HTTP API: access logs, throttling, detailed metrics, both routes.
	apis := ofType(p, "aws:apigatewayv2/api:Api")
	if len(apis) != 1 || in(apis[0], "protocolType") != "HTTP" {
		t.Fatal("no HTTP API")
	}
	st := ofType(p, "aws:apigatewayv2/stage:Stage")[0]
	if byID(p, str(in(st, "accessLogSettings", "destinationArn"))) == nil || in(st, "defaultRouteSettings", "detailedMetricsEnabled") != true ||
		num(in(st, "defaultRouteSettings", "throttlingBurstLimit")) <= 0 {
		t.Error("API stage lacks access logs, detailed metrics or throttling")
	}
	var routes []string
	for _, r := range ofType(p, "aws:apigatewayv2/route:Route") {
		routes = append(routes, str(in(r, "routeKey")))
	}
	// Every request goes to the app, which routes it.
	if strings.Join(routes, ",") != "$default" {
		t.Errorf("routes %v, want the $default route to the app", routes)
	}
	// Aurora Serverless v2 behind RDS Proxy.
	cl := ofType(p, typCluster)
	if len(cl) != 1 {
		t.Fatalf("%d clusters", len(cl))
	}
	c := cl[0]
	if in(c, "serverlessv2ScalingConfiguration", "minCapacity") != 0.5 || num(in(c, "serverlessv2ScalingConfiguration", "maxCapacity")) != 2 {
		t.Errorf("scaling %v", in(c, "serverlessv2ScalingConfiguration"))
	}
	if in(c, "storageEncrypted") != true || in(c, "deletionProtection") != true || in(c, "skipFinalSnapshot") != false || !c.Protect {
		t.Error("serverless cluster not encrypted, protected and snapshotted")
	}
	insts := ofType(p, typClusterI)
	if len(insts) != 1 || in(insts[0], "instanceClass") != "db.serverless" {
		t.Error("want one db.serverless writer")
	}
	// No RDS Proxy on the serverless start: the function signs in to the writer itself,
	// which admits the app alone.
	if len(ofType(p, "aws:rds/proxy:Proxy")) != 0 {
		t.Error("an RDS Proxy on the serverless start")
	}
	_, from := sourcesOf(p, strs(in(c, "vpcSecurityGroupIds"))[0])
	if strings.Join(from, ",") != "network-app-sg" {
		t.Errorf("the writer admits %v; it should admit the app only", from)
	}
	// The deploy prepares the database before the function changes: the deploy's own function
	// (the same build, answering nothing but the preparation, unwatched and unpriced), invoked
	// with the master password kept secret, again with each release.
	boot := named(t, p, typFunction, "bootstrap-function")
	inv := named(t, p, "aws:lambda/invocation:Invocation", "bootstrap-invocation")
	if in(boot, "environment", "variables", "LLAMA_BOOTSTRAP") != "1" || in(boot, "tags", "llama:invokedBy") == nil || in(inv, "functionName") != boot.ID {
		t.Error("the bootstrap function is not the deploy's own, or is not the one invoked")
	}
	if !strings.Contains(fmt.Sprint(inv.Inputs["input"]), "secret") || in(inv, "triggers", "release") == nil {
		t.Errorf("the bootstrap's input is not secret, or a release does not run it again: %v", inv.Inputs)
	}
	if !contains(fn.DependsOn, inv.URN) {
		t.Error("the app's function does not wait for the bootstrap")
	}
	// Without a proxy each sandbox keeps one connection, and the sandboxes are capped to 90%
	// of what a 2-ACU writer admits; at 8 ACUs even the account's default 1,000 fit, and a
	// reservation (which a new account's limit would refuse) is left off.
	if in(fn, "environment", "variables", "LLAMA_DB_POOL") != "1" || num(in(fn, "reservedConcurrentExecutions")) != int64(database.ServerlessMaxConnections(2)*9/10) {
		t.Errorf("pool %v, reserved concurrency %v", in(fn, "environment", "variables", "LLAMA_DB_POOL"), in(fn, "reservedConcurrentExecutions"))
	}
	if r := in(named(t, plan(t, stacks.Serverless, "serverless", nil), typFunction, "api-function"), "reservedConcurrentExecutions"); r != nil {
		t.Errorf("reserved concurrency %v at 8 ACUs", r)
	}
	// llama:dbProxy always brings the proxy from the start, and with it neither the deploy's
	// preparation nor a bound on the sandboxes.
	always := plan(t, stacks.Serverless, "serverless", map[string]string{"dbProxy": "always", "maxAcu": "2"})
	if len(ofType(always, "aws:rds/proxy:Proxy")) != 1 || len(ofType(always, "aws:lambda/invocation:Invocation")) != 0 ||
		in(named(t, always, typFunction, "api-function"), "reservedConcurrentExecutions") != nil {
		t.Error("llama:dbProxy always: no proxy, or still a bootstrap or a bound")
	}
	if len(ofType(p, typBucket)) != 1 {
		t.Error("no SPA bucket")
	}
}

func TestServerlessRungs(t *testing.T) {
	rep := plan(t, stacks.Serverless, "replicas", map[string]string{"azCount": "3"})
	insts := ofType(rep, typClusterI)
	if len(insts) != 3 {
		t.Fatalf("replicas rung has %d instances, want a writer and 2 readers", len(insts))
	}
	zones := map[string]bool{}
	for _, i := range insts {
		zones[str(in(i, "availabilityZone"))] = true
	}
	if len(zones) != 3 {
		t.Errorf("writer and readers share AZs: %v", zones)
	}
	// RDS Proxy from the replicas rung on, requiring TLS and IAM of clients; the writer admits
	// the proxy and, for sandboxes started before it, the app.
	px := ofType(rep, "aws:rds/proxy:Proxy")
	if len(px) != 1 || in(px[0], "requireTls") != true {
		t.Fatal("no RDS Proxy requiring TLS")
	}
	auth := in(px[0], "auths").([]any)[0].(map[string]any)
	if auth["iamAuth"] != "REQUIRED" || byID(rep, str(auth["secretArn"])) == nil {
		t.Errorf("proxy auth %v", auth)
	}
	c := ofType(rep, typCluster)[0]
	if tgt := ofType(rep, "aws:rds/proxyTarget:ProxyTarget"); len(tgt) != 1 || in(tgt[0], "dbClusterIdentifier") != c.ID {
		t.Error("the proxy does not target the cluster")
	}
	if _, from := sourcesOf(rep, strs(in(c, "vpcSecurityGroupIds"))[0]); strings.Join(slices.Sorted(slices.Values(from)), ",") != "database-proxy-sg,network-app-sg" {
		t.Errorf("the writer admits %v; it should admit the proxy and the app", from)
	}
	// The function turns to the proxy once its target is registered.
	tgts := ofType(rep, "aws:rds/proxyTarget:ProxyTarget")
	if fn := named(t, rep, typFunction, "api-function"); len(tgts) != 1 || !contains(fn.DependsOn, tgts[0].URN) {
		t.Error("the function may name the proxy before its target is registered")
	}
	if len(ofType(rep, "aws:rds/proxyEndpoint:ProxyEndpoint")) != 1 {
		t.Error("no read-only proxy endpoint for the readers")
	}
	if !alarmOn(rep, "AuroraReplicaLagMaximum", "llama-dev-db") {
		t.Error("no replica lag alarm on the serverless cluster")
	}

	cache := plan(t, stacks.Serverless, "cache", nil)
	g := ofType(cache, typCache)
	if len(g) != 1 {
		t.Fatal("no cache on the serverless cache rung")
	}
	_, from := sourcesOf(cache, strs(in(g[0], "securityGroupIds"))[0])
	fnSG := strs(in(ofType(cache, typFunction)[0], "vpcConfig", "securityGroupIds"))[0]
	if len(from) != 1 || byID(cache, fnSG).Name != from[0] {
		t.Errorf("cache admits %v, not the functions' group", from)
	}

	cdn := plan(t, stacks.Serverless, "cdn", nil)
	records := map[string]string{}
	for _, r := range ofType(cdn, "cloudflare:index/record:Record") {
		if in(r, "proxied") == true {
			records[str(in(r, "name"))] = str(in(r, "content"))
		}
	}
	// The API and the SPA each at their own custom domain of the API: Cloudflare reaches both
	// with the Host it was asked for.
	target := func(name string) string {
		for _, d := range ofType(cdn, "aws:apigatewayv2/domainName:DomainName") {
			if str(in(d, "domainName")) == name {
				return str(d.Outputs["domainNameConfiguration"].(map[string]any)["targetDomainName"])
			}
		}
		return "none"
	}
	for _, host := range []string{"api.llama.example.com", "llama.example.com"} {
		if records[host] == "" || records[host] != target(host) {
			t.Errorf("%s's record %q does not point at its custom domain of the API (%q)", host, records[host], target(host))
		}
	}
	if in(ofType(cdn, "aws:apigatewayv2/api:Api")[0], "disableExecuteApiEndpoint") != true {
		t.Error("the API stays reachable around Cloudflare")
	}

	sh := plan(t, stacks.Serverless, "sharded", map[string]string{"shards": "3"})
	shards := 0
	for _, c := range ofType(sh, typCluster) {
		if strings.HasPrefix(c.Name, "shard-") {
			shards++
			if in(c, "serverlessv2ScalingConfiguration") == nil {
				t.Errorf("shard %s is not Aurora Serverless v2", c.Name)
			}
		}
	}
	if shards != 3 || !strings.Contains(str(sh.Outputs["shardMap"]), `"shardCount":3`) {
		t.Errorf("%d serverless shards, map %v", shards, sh.Outputs["shardMap"])
	}

	ns := plan(t, stacks.Serverless, "nosql", nil)
	role := named(t, ns, "aws:iam/role:Role", "api-role")
	granted := false
	for _, rp := range ofType(ns, "aws:iam/rolePolicy:RolePolicy") {
		if rp.Name == "api-tables" && in(rp, "role") == role.ID {
			granted = strings.Contains(str(in(rp, "policy")), "table/llama-dev-activity")
		}
	}
	if !granted {
		t.Error("the function's role is not granted the tables")
	}
}

func TestServerlessPromotionChain(t *testing.T) {
	promotionChain(t, stacks.Serverless, map[string]string{"protect": "true"}, map[string]bool{
		// At replicas the proxy arrives: the deploy's preparation and the writer's own
		// parameters go (the database and the app's user stay).
		"bootstrap": true, "params-db-auth": true, "params-db-primary-endpoint": true, "params-db-reader-endpoint": true,
	})
}

func TestServerlessBadConfig(t *testing.T) {
	runBadConfigs(t, []badConfig{
		{"single-box on serverless", stacks.Serverless, "single-box", nil, "llama:stage", "serverless, replicas"},
		{"separate-db on serverless", stacks.Serverless, "separate-db", nil, "llama:stage", "servers ladder only"},
		{"min ACU above max", stacks.Serverless, "serverless", map[string]string{"minAcu": "8", "maxAcu": "4"}, "llama:minAcu", "at most llama:maxAcu"},
		{"0.3 ACU", stacks.Serverless, "serverless", map[string]string{"minAcu": "0.3"}, "llama:minAcu", "steps of 0.5"},
		{"a pausing writer behind a 10 s function", stacks.Serverless, "serverless", map[string]string{"minAcu": "0"}, "llama:lambdaTimeout", "resume"},
		{"257 ACU", stacks.Serverless, "serverless", map[string]string{"maxAcu": "257"}, "llama:maxAcu", "to 256"},
		{"ACU not a number", stacks.Serverless, "serverless", map[string]string{"maxAcu": "lots"}, "llama:maxAcu", "a number"},
		{"64 MB", stacks.Serverless, "serverless", map[string]string{"lambdaMemory": "64"}, "llama:lambdaMemory", "128 to 10240"},
		{"20 GB", stacks.Serverless, "serverless", map[string]string{"lambdaMemory": "20480"}, "llama:lambdaMemory", "128 to 10240"},
		{"timeout past the API's limit", stacks.Serverless, "serverless", map[string]string{"lambdaTimeout": "30"}, "llama:lambdaTimeout", "1 to 29"},
		{"timeout 0", stacks.Serverless, "serverless", map[string]string{"lambdaTimeout": "0"}, "llama:lambdaTimeout", "1 to 29"},
	})
}

// TestLambdaBuild: the deployment builds the app from this repository with Go alone, as an
// arm64 bootstrap for Lambda.
func TestLambdaBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the app")
	}
	art, err := release.GoBuild("..")(release.DefaultPackage, "arm64")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(art.Dir)
	dir := t.TempDir()
	zipPath := filepath.Join(art.Dir, "lambda.zip")
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode().Perm()&0o111 == 0 {
		t.Fatalf("package holds %v; want one executable bootstrap", zr.File)
	}
	rc, _ := zr.File[0].Open()
	bin := filepath.Join(dir, "unzipped")
	out, _ := os.Create(bin)
	io.Copy(out, rc)
	out.Close()
	rc.Close()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("bootstrap is not an ELF binary: %v", err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 {
		t.Errorf("bootstrap is built for %v, want arm64", f.Machine)
	}
}

// TestSPABehindCloudflareWhenZoneSet: with a zone configured, Cloudflare serves the SPA from the
// first serverless rung, through the function at the SPA's own custom domain of the API (a
// certificate validated through the zone, strict TLS, no Host header override), its bucket
// private and readable by the function; client-side routes load /index.html; the API joins at
// the cdn rung without touching the SPA's record.
func TestSPABehindCloudflareWhenZoneSet(t *testing.T) {
	p := plan(t, stacks.Serverless, "serverless", cdnConfig)
	var recs []*offline.Resource
	for _, r := range ofType(p, "cloudflare:index/record:Record") {
		if in(r, "proxied") == true {
			recs = append(recs, r)
		}
	}
	if len(recs) != 1 || in(recs[0], "name") != "llama.example.com" {
		t.Fatalf("SPA records %v", resourceNames(recs))
	}
	var rewrite *offline.Resource
	for _, rs := range ofType(p, "cloudflare:index/ruleset:Ruleset") {
		if in(rs, "phase") == "http_request_transform" {
			rewrite = rs
		}
	}
	if rewrite == nil || !strings.Contains(fmt.Sprint(in(rewrite, "rules")), "/index.html") {
		t.Error("no rewrite of client-side routes to /index.html")
	}
	for _, pol := range ofType(p, "aws:s3/bucketPolicy:BucketPolicy") {
		if strings.Contains(str(in(pol, "policy")), "aws:SourceIp") {
			t.Errorf("a bucket admits anonymous reads: %v", in(pol, "policy"))
		}
	}
	cert := named(t, p, "aws:acm/certificate:Certificate", "certificate-cert")
	if str(in(cert, "domainName")) != "llama.example.com" {
		t.Errorf("the SPA's custom domain has no certificate for it: %v", in(cert, "domainName"))
	}
	if str(in(named(t, p, "aws:apigatewayv2/domainName:DomainName", "api-site-domain"), "domainName")) != "llama.example.com" {
		t.Error("no custom domain of the API for the SPA")
	}
	if s := published(p); s["spa/domain"] != "llama.example.com" || s["spa/bucket"] == "" || !strings.Contains(appPolicies(p), "s3:GetObject") {
		t.Errorf("the function is not told, or may not read, the SPA: %v", s)
	}
	for _, rs := range ofType(p, "cloudflare:index/ruleset:Ruleset") {
		if in(rs, "phase") == "http_request_origin" {
			t.Errorf("a Host header override (Enterprise only): %v", in(rs, "rules"))
		}
	}
	bare := plan(t, stacks.Serverless, "serverless", nil)
	if len(ofType(bare, "cloudflare:index/record:Record")) != 0 {
		t.Error("Cloudflare records without a zone")
	}
	cdn := plan(t, stacks.Serverless, "cdn", nil)
	if named(t, cdn, "cloudflare:index/record:Record", "cdn-static").URN != recs[0].URN {
		t.Error("the SPA's record changes URN at the cdn rung")
	}
}

// TestAPIOnlyThroughCloudflare: behind the CDN the function refuses requests without the secret
// header Cloudflare adds, so the custom domain cannot be used around Cloudflare.
func TestAPIOnlyThroughCloudflare(t *testing.T) {
	p := plan(t, stacks.Serverless, "cdn", nil)
	var rs *offline.Resource
	for _, r := range ofType(p, "cloudflare:index/ruleset:Ruleset") {
		if in(r, "phase") == "http_request_late_transform" {
			rs = r
		}
	}
	if rs == nil {
		t.Fatal("no origin header rule")
	}
	// Both hostnames the function answers carry the header: the API's and the SPA's.
	rules := in(rs, "rules").([]any)
	var hosts []string
	for _, x := range rules {
		rule := x.(map[string]any)
		header := rule["actionParameters"].(map[string]any)["headers"].([]any)[0].(map[string]any)
		if header["name"] != functions.OriginHeader || header["operation"] != "set" || header["value"] != "[secret]" {
			t.Errorf("origin header rule %v", rule)
		}
		hosts = append(hosts, str(rule["expression"]))
	}
	if got := strings.Join(hosts, " | "); !strings.Contains(got, `"api.llama.example.com"`) || !strings.Contains(got, `"llama.example.com"`) || len(rules) != 2 {
		t.Errorf("origin header rules for %s", got)
	}
	if in(ofType(p, typFunction)[0], "environment", "variables", "ORIGIN_VERIFY") != "[secret]" {
		t.Error("the function's origin secret is missing or not secret")
	}
	src, err := os.ReadFile("../cmd/llama-app/main.go")
	if err != nil || !strings.Contains(string(src), fmt.Sprintf("OriginHeader = %q", functions.OriginHeader)) {
		t.Error("the app checks another header than the one Cloudflare sets")
	}
	if len(ofType(plan(t, stacks.Serverless, "cache", nil), "random:index/randomPassword:RandomPassword")) != 2 {
		t.Error("an origin secret exists before the API is behind Cloudflare")
	}
}

// TestAPIMappingWaitsForItsStage: the custom domain's mapping takes the stage's name from the
// stage, so it is created after the stage ("Invalid stage identifier" otherwise).
func TestAPIMappingWaitsForItsStage(t *testing.T) {
	p := plan(t, stacks.Serverless, "cdn", cdnConfig)
	m := ofType(p, "aws:apigatewayv2/apiMapping:ApiMapping")[0]
	st := ofType(p, "aws:apigatewayv2/stage:Stage")[0]
	if !contains(m.From["stage"], st.URN) {
		t.Errorf("the mapping's stage comes from %v, not the stage %s", m.From["stage"], st.URN)
	}
}

// TestServerlessPublishesWhatTheFunctionsReach: on the serverless start the app signs in to
// the writer with IAM and holds no secret; from the replicas rung on it reaches RDS Proxy, and
// the cluster's own endpoints are not published for it.
func TestServerlessPublishesWhatTheFunctionsReach(t *testing.T) {
	for _, stage := range stacks.StageNames(stacks.Serverless) {
		params := published(plan(t, stacks.Serverless, stage, nil))
		if stage == "serverless" {
			if params["db/auth"] != "iam" || params["db/user"] != "llama_app" || params["db/primary/endpoint"] == "" || params["db/secretArn"] != "" || params["db/proxy/endpoint"] != "" {
				t.Errorf("the serverless start publishes %v", params)
			}
			continue
		}
		for _, k := range []string{"db/primary/endpoint", "db/reader/endpoint", "db/auth"} {
			if _, ok := params[k]; ok {
				t.Errorf("%s publishes %s, which the functions do not use", stage, k)
			}
		}
		if params["db/proxy/endpoint"] == "" {
			t.Errorf("%s does not publish the proxy", stage)
		}
	}
}

// TestSPAHTMLRevalidates: the SPA's HTML (every client-side route) leaves the edge within a
// minute of a deploy, while its fingerprinted bundles stay cached long.
func TestSPAHTMLRevalidates(t *testing.T) {
	p := plan(t, stacks.Serverless, "serverless", cdnConfig)
	var rules []any
	for _, rs := range ofType(p, "cloudflare:index/ruleset:Ruleset") {
		if in(rs, "phase") == "http_request_cache_settings" {
			rules = in(rs, "rules").([]any)
		}
	}
	refs := []string{}
	var html map[string]any
	for _, r := range rules {
		m := r.(map[string]any)
		ref := ruleName(str(m["ref"]))
		refs = append(refs, ref)
		if ref == "spa_html" {
			html = m
		}
	}
	if html == nil || refs[len(refs)-1] != "spa_html" || refs[0] != "cache_static" {
		t.Fatalf("cache rules %v: the HTML rule must follow (and so override) the static one", refs)
	}
	ap := html["actionParameters"].(map[string]any)
	if !strings.Contains(str(html["expression"]), `http.request.uri.path.extension eq "html"`) ||
		num(ap["edgeTtl"].(map[string]any)["default"]) > 60 || ap["browserTtl"].(map[string]any)["mode"] != "bypass" {
		t.Errorf("the SPA's HTML rule %v", html)
	}
}

// TestShardConnectionsAreBounded: the serverless shards have no RDS Proxy in front (its floor
// would cost more than a small shard), so the function keeps two connections a sandbox and runs
// at most as many sandboxes as 90% of a shard writer's max_connections allows, or
// llama:maxFunctionConcurrency, the lower; below the shards it is unreserved.
func TestShardConnectionsAreBounded(t *testing.T) {
	fn := func(p *offline.Plan) *offline.Resource {
		return named(t, p, "aws:lambda/function:Function", "api-function")
	}
	p := plan(t, stacks.Serverless, "sharded", map[string]string{"maxAcu": "8"})
	want := database.ServerlessMaxConnections(8) * 9 / 10 / 2
	if got := num(in(fn(p), "reservedConcurrentExecutions")); got != int64(want) || want < 100 {
		t.Errorf("sharded: reserved concurrency %d, want %d", got, want)
	}
	if pool := str(in(fn(p), "environment", "variables", "LLAMA_DB_POOL")); pool != "2" {
		t.Errorf("sharded: LLAMA_DB_POOL %q, want 2 a sandbox", pool)
	}
	if got := num(in(fn(plan(t, stacks.Serverless, "sharded", map[string]string{"maxAcu": "8", "maxFunctionConcurrency": "100"})), "reservedConcurrentExecutions")); got != 100 {
		t.Errorf("llama:maxFunctionConcurrency 100: reserved %d", got)
	}
	if r := in(fn(plan(t, stacks.Serverless, "cache", nil)), "reservedConcurrentExecutions"); r != nil {
		t.Errorf("without shards the function is reserved %v", r)
	}
}

// TestTheSPARecordWaitsForTheFunction: the record that sends the SPA's hostname to the API
// waits for the function's code and its right to read the SPA's bucket, so that no page is
// answered by a function that cannot serve it.
func TestTheSPARecordWaitsForTheFunction(t *testing.T) {
	p := plan(t, stacks.Serverless, "serverless", cdnConfig)
	rec := named(t, p, "cloudflare:index/record:Record", "cdn-static")
	from := rec.From["content"]
	for _, want := range []struct{ typ, name string }{{typFunction, "api-function"}, {"aws:iam/rolePolicy:RolePolicy", "api-site-read"}} {
		if !contains(from, named(t, p, want.typ, want.name).URN) {
			t.Errorf("the SPA's record does not wait for %s: its content comes from %v", want.name, from)
		}
	}
}

// TestServerlessPauses: at llama:minAcu 0 the serverless start's writer scales to zero and
// pauses after five idle minutes; the app waits for it to resume within the function's time.
// Behind RDS Proxy (from the replicas rung) it would never pause, and the plan says so.
func TestServerlessPauses(t *testing.T) {
	p := plan(t, stacks.Serverless, "serverless", map[string]string{"minAcu": "0", "lambdaTimeout": "25"})
	c := ofType(p, typCluster)[0]
	if fmt.Sprint(in(c, "serverlessv2ScalingConfiguration", "minCapacity")) != "0" || num(in(c, "serverlessv2ScalingConfiguration", "secondsUntilAutoPause")) != 300 {
		t.Errorf("scaling %v", in(c, "serverlessv2ScalingConfiguration"))
	}
	if got := published(p)["db/connectTimeout"]; got != "23" {
		t.Errorf("db/connectTimeout %q, want 23 (the function's 25 s less 2)", got)
	}
	if !slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.Contains(w, "first request after a pause") }) {
		t.Errorf("no word of the first request after a pause: %v", p.Warnings)
	}
	rep := plan(t, stacks.Serverless, "replicas", map[string]string{"minAcu": "0"})
	if _, ok := published(rep)["db/connectTimeout"]; ok || !slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.Contains(w, "keeps it from pausing") }) {
		t.Errorf("behind the proxy: %v", rep.Warnings)
	}
}

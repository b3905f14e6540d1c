package tests

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/llama-stages/llama/app"
	"github.com/llama-stages/llama/components/compute"
	"github.com/llama-stages/llama/contract"
	"github.com/llama-stages/llama/offline"
	"github.com/llama-stages/llama/preview"
	"github.com/llama-stages/llama/stacks"
)

// published returns the SSM parameters a plan publishes for the app, relative to the prefix.
func published(p *offline.Plan) map[string]string {
	out := map[string]string{}
	for _, r := range ofType(p, "aws:ssm/parameter:Parameter") {
		out[strings.TrimPrefix(str(in(r, "name")), "/llama/"+p.Stack+"/")] = fmt.Sprint(in(r, "insecureValue"))
	}
	return out
}

// appPolicies is every inline policy of the identity the app runs as.
func appPolicies(p *offline.Plan) string {
	var b strings.Builder
	for _, r := range ofType(p, "aws:iam/rolePolicy:RolePolicy") {
		// The app role's and the function role's, and the grant the box makes to the app role.
		if strings.HasPrefix(r.Name, "app-role-") || strings.HasPrefix(r.Name, "api-") || r.Name == "box-db-secret-read" {
			b.WriteString(str(in(r, "policy")))
		}
	}
	return b.String()
}

func outputOf(p *offline.Plan, typ, name, key string) string {
	for _, r := range ofType(p, typ) {
		if r.Name == name {
			return str(r.Outputs[key])
		}
	}
	return ""
}

// TestAppReadsEveryRung reads each rung's published parameters the way the app does
// (app.Describe) and checks that they name the databases, cache and table the rung built, and
// that every credential they point to exists and is the app's to read.
func TestAppReadsEveryRung(t *testing.T) {
	for _, r := range allRungs() {
		t.Run(r.String(), func(t *testing.T) {
			p := plan(t, r.platform, r.stage, nil)
			l, err := app.Describe(published(p))
			if err != nil {
				t.Fatalf("the app cannot read the rung's parameters: %v", err)
			}
			layers, _ := stacks.LayersOf(r.platform, r.stage)
			policies := appPolicies(p)
			var secrets []string
			switch {
			case r.platform == stacks.Serverless && !layers[stacks.Replicas]:
				// The serverless start: the writer itself, with IAM, as the app's user, whom
				// the function may sign in as; no secret.
				cluster := ofType(p, typCluster)[0]
				if !l.Primary.IAM || l.Primary.Proxy || l.Primary.SecretArn != "" || l.Primary.Endpoint.Host != str(cluster.Outputs["endpoint"]) || l.Primary.User != "llama_app" {
					t.Errorf("the function does not reach the writer directly with IAM: %+v", l.Primary)
				}
				if want := "dbuser:" + str(cluster.Outputs["clusterResourceId"]) + "/llama_app"; !strings.Contains(policies, want) {
					t.Errorf("the function may not rds-db:connect as %s", want)
				}
			case r.platform == stacks.Serverless:
				if !l.Primary.IAM || !l.Primary.Proxy || l.Primary.Endpoint.Host != outputOf(p, "aws:rds/proxy:Proxy", "database-proxy", "endpoint") {
					t.Errorf("the function does not reach the writer through RDS Proxy with IAM: %+v", l.Primary)
				}
				if !strings.Contains(policies, "rds-db:connect") {
					t.Error("the function may not rds-db:connect")
				}
				if got, want := len(l.Replicas) > 0, layers[stacks.Replicas]; got != want {
					t.Errorf("lag-tolerant reader through the proxy: %v, want %v", got, want)
				}
			case layers[stacks.Database]:
				if l.Primary.Endpoint.Host != outputOf(p, typRDS, "database-primary", "address") || l.Primary.SSLMode != "verify-full" {
					t.Errorf("primary %+v is not the RDS primary over verified TLS", l.Primary)
				}
				secrets = append(secrets, l.Primary.SecretArn)
			default: // Llama 1.0: the box's own PostgreSQL
				if l.Primary.Endpoint.String() != "127.0.0.1:5432" || l.Primary.SSLMode != "disable" || l.Primary.SecretArn != outputOf(p, "aws:secretsmanager/secret:Secret", "box-db-credentials", "arn") {
					t.Errorf("primary %+v is not the box's PostgreSQL with its credentials", l.Primary)
				}
				secrets = append(secrets, l.Primary.SecretArn)
			}
			if r.platform == stacks.Servers {
				want := 0
				if layers[stacks.Replicas] {
					want = 2
				}
				if len(l.Replicas) != want {
					t.Errorf("%d replicas, want %d", len(l.Replicas), want)
				}
				for i, rep := range l.Replicas {
					if rep.Endpoint.Host != outputOf(p, typRDS, fmt.Sprintf("database-replica-%d", i), "address") {
						t.Errorf("replica %d endpoint %s is not the replica's", i, rep.Endpoint)
					}
				}
			}
			if (l.Cache != nil) != layers[stacks.Cache] {
				t.Fatalf("cache %+v at a rung with cache=%v", l.Cache, layers[stacks.Cache])
			}
			if l.Cache != nil {
				if l.Cache.Endpoint.Host != outputOf(p, typCache, "cache-group", "primaryEndpointAddress") || !l.Cache.TLS {
					t.Errorf("cache %+v is not the replication group over TLS", l.Cache)
				}
				secrets = append(secrets, l.Cache.AuthSecretArn)
			}
			if (len(l.Shards) > 0) != layers[stacks.Shards] || layers[stacks.Shards] && len(l.Shards) != 2 {
				t.Fatalf("%d shards at a rung with shards=%v", len(l.Shards), layers[stacks.Shards])
			}
			for i, s := range l.Shards {
				if s.Writer.Endpoint.Host != outputOf(p, typCluster, fmt.Sprintf("shard-%d-cluster", i), "endpoint") || s.Reader == nil {
					t.Errorf("shard %d: %+v", i, s)
				}
				secrets = append(secrets, s.Writer.SecretArn)
			}
			if (l.Table != nil) != layers[stacks.Tables] {
				t.Fatalf("table %+v at a rung with tables=%v", l.Table, layers[stacks.Tables])
			}
			if l.Table != nil {
				tbl := ofType(p, typTable)[0]
				if l.Table.Name != in(tbl, "name") || l.Table.PartitionKey != in(tbl, "hashKey") || l.Table.SortKey != in(tbl, "rangeKey") ||
					l.Table.TTLAttribute != in(tbl, "ttl", "attributeName") {
					t.Errorf("the app would write %+v to a table keyed %v/%v with TTL %v", l.Table, in(tbl, "hashKey"), in(tbl, "rangeKey"), in(tbl, "ttl", "attributeName"))
				}
				if !strings.Contains(policies, "dynamodb:PutItem") || !strings.Contains(policies, str(tbl.Outputs["arn"])) {
					t.Error("the app may not write the table")
				}
			}
			for _, s := range secrets {
				if byID(p, s) == nil || byID(p, s).Type != "aws:secretsmanager/secret:Secret" {
					t.Errorf("credentials %q are not a secret of the stack", s)
				} else if !strings.Contains(policies, s) {
					t.Errorf("the app may not read its credentials %s", s)
				}
			}
		})
	}
}

// TestEveryRungShipsTheApp: the servers rungs keep the build in S3 and run it under systemd
// behind nginx; the serverless rungs run it as the function.
func TestEveryRungShipsTheApp(t *testing.T) {
	key := regexp.MustCompile(`^releases/amd64/[0-9a-f]{64}/app$`)
	for _, r := range allRungs() {
		p := plan(t, r.platform, r.stage, nil)
		if r.platform == stacks.Serverless {
			fn := ofType(p, typFunction)[0]
			if in(fn, "handler") != "bootstrap" || in(fn, "runtime") != "provided.al2023" || strs(in(fn, "architectures"))[0] != "arm64" ||
				in(fn, "environment", "variables", "LLAMA_PARAMS") != "/llama/dev" {
				t.Errorf("%s: the function does not run the app: %v", r, fn.Inputs)
			}
			continue
		}
		obj := ofType(p, "aws:s3/bucketObjectv2:BucketObjectv2")
		if len(obj) != 1 || !key.MatchString(str(in(obj[0], "key"))) {
			t.Fatalf("%s: the app's build is not in the release bucket: %v", r, obj)
		}
		bucket, k := str(in(obj[0], "bucket")), str(in(obj[0], "key"))
		sha := strings.Split(k, "/")[2]
		params := published(p)
		if params["app/release/bucket"] != bucket || params["app/release/key"] != k || params["app/release/sha256"] != sha {
			t.Errorf("%s: app/release/ parameters %v do not name the build", r, params)
		}
		if pol := appPolicies(p); !strings.Contains(pol, "arn:aws:s3:::"+bucket+"/releases/*") || !strings.Contains(pol, "s3:GetObject") {
			t.Errorf("%s: the instances may not download the build", r)
		}
		layers, _ := stacks.LayersOf(r.platform, r.stage)
		var script string
		if layers[stacks.Box] {
			script = str(in(ofType(p, typInstance)[0], "userData"))
			if !strings.Contains(script, "llama-release.timer") {
				t.Errorf("%s: the box does not follow new builds", r)
			}
		} else {
			b, err := base64.StdEncoding.DecodeString(str(in(ofType(p, typLT)[0], "userData")))
			if err != nil {
				t.Fatal(err)
			}
			script = string(b)
			if !strings.Contains(script, fmt.Sprintf("llama-deploy %q %q %q", bucket, k, sha)) {
				t.Errorf("%s: the launch template does not name the build, so a new build would not roll the fleet", r)
			}
			tg := ofType(p, "aws:lb/targetGroup:TargetGroup")[0]
			if in(tg, "healthCheck", "path") != "/health/live" {
				t.Errorf("%s: health check path %v", r, in(tg, "healthCheck", "path"))
			}
			asg := ofType(p, "aws:autoscaling/group:Group")[0]
			if num(in(asg, "instanceRefresh", "preferences", "minHealthyPercentage")) != 100 || num(in(asg, "instanceRefresh", "preferences", "maxHealthyPercentage")) != 200 {
				t.Errorf("%s: instance refresh may drop below the desired capacity", r)
			}
		}
		for _, want := range []string{"User=llama", "Restart=on-failure", "ExecStart=/opt/llama/bin/llama-app", "proxy_pass http://127.0.0.1:8080",
			"LLAMA_PARAMS=/llama/dev", "sha256sum --check", "/var/log/llama/app.log"} {
			if !strings.Contains(script, want) {
				t.Errorf("%s: the boot script lacks %q", r, want)
			}
		}
		if strings.Contains(script, "return 200") {
			t.Errorf("%s: nginx answers /health itself, so the health check does not reach the app", r)
		}
	}
}

// TestArchitectureFollowsTheInstanceType: a Graviton instance type gets an arm64 build.
func TestArchitectureFollowsTheInstanceType(t *testing.T) {
	for typ, want := range map[string]string{"t3.small": "amd64", "t4g.small": "arm64", "m7gd.large": "arm64", "c6gn.xlarge": "arm64",
		"a1.medium": "arm64", "g4dn.xlarge": "amd64", "m7i-flex.large": "amd64", "c6a.large": "amd64", "g5g.xlarge": "arm64"} {
		if got := compute.Arch(typ); got != want {
			t.Errorf("%s: %s, want %s", typ, got, want)
		}
	}
	p := plan(t, stacks.Servers, "single-box", map[string]string{"instanceType": "t4g.small"})
	if k := str(in(ofType(p, "aws:s3/bucketObjectv2:BucketObjectv2")[0], "key")); !strings.HasPrefix(k, "releases/arm64/") {
		t.Errorf("a t4g box runs build %s", k)
	}
}

// TestPromotionNeedsNoRebuild: moving from the box's database to RDS changes the published
// endpoint in place; the box and its boot script stay as they are.
func TestPromotionNeedsNoRebuild(t *testing.T) {
	a, b := plan(t, stacks.Servers, "single-box", nil), plan(t, stacks.Servers, "separate-db", nil)
	d := preview.Diff(a, b)
	var endpoint bool
	for _, c := range d.Updates {
		if c.Name == "params-db-primary-endpoint" {
			endpoint = true
		}
		if c.Type == typInstance || c.Type == "aws:s3/bucketObjectv2:BucketObjectv2" {
			t.Errorf("the promotion changes %s %s (%v)", c.Type, c.Name, c.Keys)
		}
	}
	for _, c := range d.Replaces {
		t.Errorf("the promotion replaces %s %s", c.Type, c.Name)
	}
	if !endpoint {
		t.Error("the promotion does not point db/primary/endpoint at RDS")
	}
}

// TestNothingAdvertisedThatNoOneMayUse: the stack publishes no IAM database authentication
// for the servers ladder (no role may rds-db:connect there; the app signs in with the
// secret), and the box's PostgreSQL writes the log files its metrics read.
func TestNothingAdvertisedThatNoOneMayUse(t *testing.T) {
	for _, r := range allRungs() {
		if _, ok := published(plan(t, r.platform, r.stage, nil))["db/iamAuth"]; ok {
			t.Errorf("%s publishes db/iamAuth", r)
		}
	}
	ud := str(in(ofType(plan(t, stacks.Servers, "single-box", nil), typInstance)[0], "userData"))
	for _, want := range []string{"logging_collector = on", "log_directory = 'log'", "log_filename = 'postgresql-%a.log'", `"file_path":"/var/lib/pgsql/data/log/postgresql-*.log"`} {
		if !strings.Contains(ud, want) {
			t.Errorf("the box's PostgreSQL logging lacks %s", want)
		}
	}
}

// TestTheAppVerifiesItsDatabases: in a region whose RDS certificate authorities the app carries
// it verifies the database's certificate and hostname (verify-full), on both ladders; where it
// carries none (another partition), it encrypts without verifying and the plan says so.
func TestTheAppVerifiesItsDatabases(t *testing.T) {
	for _, r := range []rung{{stacks.Servers, "replicas"}, {stacks.Serverless, "serverless"}} {
		if got := published(plan(t, r.platform, r.stage, nil))["db/sslmode"]; got != "verify-full" {
			t.Errorf("%s: db/sslmode %q, want verify-full", r, got)
		}
	}
	p := plan(t, stacks.Servers, "separate-db", map[string]string{"aws:region": "cn-north-1"})
	if got := published(p)["db/sslmode"]; got != "require" {
		t.Errorf("cn-north-1: db/sslmode %q, want require (the global bundle has no root there)", got)
	}
	if !slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.Contains(w, "cannot verify the server's certificate") }) {
		t.Errorf("cn-north-1: no warning that the database's certificate goes unverified: %q", p.Warnings)
	}
	if w := plan(t, stacks.Servers, "single-box", map[string]string{"aws:region": "cn-north-1"}).Warnings; slices.ContainsFunc(w, func(w string) bool { return strings.Contains(w, "RDS certificate") }) {
		t.Errorf("a stage without a managed database is warned about its certificate: %q", w)
	}
}

// TestTheBoxBootsAfterItsSecret: the box's boot script reads its database's credentials once,
// at first boot; the instance is created only after the secret's value and the role's right to
// read it, so the read does not depend on retries alone.
func TestTheBoxBootsAfterItsSecret(t *testing.T) {
	p := plan(t, stacks.Servers, "single-box", nil)
	inst := named(t, p, "aws:ec2/instance:Instance", "box-instance")
	for _, want := range []struct{ typ, name string }{
		{"aws:secretsmanager/secretVersion:SecretVersion", "box-db-credentials-value"},
		{"aws:iam/rolePolicy:RolePolicy", "box-db-secret-read"},
	} {
		if !contains(inst.DependsOn, named(t, p, want.typ, want.name).URN) {
			t.Errorf("the box boots without waiting for %s: depends on %v", want.name, inst.DependsOn)
		}
	}
}

// TestReadmeParams: docs/app.md's parameter table is the contract's (package contract).
func TestReadmeParams(t *testing.T) {
	checkReadmeBlock(t, "params", contract.Table())
}

// TestEveryPublishedKeyIsInTheContract: on every rung, with and without a zone and with every
// move pending, each parameter the stack publishes is a key the contract names: the stack and
// the app take their names from one place, and the docs show them all.
func TestEveryPublishedKeyIsInTheContract(t *testing.T) {
	known := map[string]bool{}
	for _, k := range contract.Keys {
		dir := ""
		for _, n := range k.Names {
			if !strings.Contains(n, "/") {
				n = dir + n // a field of the key before it (tables/<table>/name, partitionKey)
			}
			known[n] = true
			dir = n[:strings.LastIndex(n, "/")+1]
		}
	}
	digits, table := regexp.MustCompile(`/[0-9]+/`), regexp.MustCompile(`^tables/[^/]+/`)
	for _, r := range allRungs() {
		for _, over := range []map[string]string{nil, cdnConfig, {"moved": ""}} {
			p, err := tryPlan(r.platform, r.stage, over, false)
			if err != nil {
				continue // a combination the config refuses
			}
			for k := range published(p) {
				name := strings.TrimPrefix(k, contract.Next)
				name = digits.ReplaceAllString(name, "/<i>/")
				if name != contract.TablesNames {
					name = table.ReplaceAllString(name, "tables/<table>/")
				}
				if !known[name] {
					t.Errorf("%s: %s publishes %s, which the contract does not name", r, over, k)
				}
			}
		}
	}
}

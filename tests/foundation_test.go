package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/llama-stages/llama/offline"
	"github.com/llama-stages/llama/preview"
	"github.com/llama-stages/llama/stacks"
)

const (
	typInstance = "aws:ec2/instance:Instance"
	typVolume   = "aws:ebs/volume:Volume"
	typIngress  = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	typSG       = "aws:ec2/securityGroup:SecurityGroup"
	typRDS      = "aws:rds/instance:Instance"
	typCluster  = "aws:rds/cluster:Cluster"
	typClusterI = "aws:rds/clusterInstance:ClusterInstance"
	typBucket   = "aws:s3/bucketV2:BucketV2"
	typCache    = "aws:elasticache/replicationGroup:ReplicationGroup"
	typTable    = "aws:dynamodb/table:Table"
	typLT       = "aws:ec2/launchTemplate:LaunchTemplate"
)

func TestLadderTableIsComplete(t *testing.T) {
	want := map[stacks.Platform][]string{
		stacks.Servers:    {"single-box", "separate-db", "load-balanced", "replicas", "cache", "cdn", "sharded", "nosql"},
		stacks.Serverless: {"serverless", "replicas", "cache", "cdn", "sharded", "nosql"},
	}
	for p, stages := range want {
		if got := stacks.StageNames(p); strings.Join(got, ",") != strings.Join(stages, ",") {
			t.Errorf("%s ladder is %v, want %v", p, got, stages)
		}
		for i, r := range stacks.Rungs(p) {
			if r.Order != i+1 || r.Guide == "" || r.Adds == "" || r.Promote == "" || len(r.Layers) == 0 {
				t.Errorf("%s rung %s is incomplete: %+v", p, r.Stage, r)
			}
		}
	}
}

func TestSingleBox(t *testing.T) {
	p := plan(t, stacks.Servers, "single-box", nil)
	inst := ofType(p, typInstance)
	if len(inst) != 1 {
		t.Fatalf("single-box runs %d instances, want 1", len(inst))
	}
	box := inst[0]
	if got := in(box, "metadataOptions", "httpTokens"); got != "required" {
		t.Errorf("box metadata httpTokens = %v, want required (IMDSv2)", got)
	}
	if in(box, "rootBlockDevice", "encrypted") != true || in(box, "monitoring") != true {
		t.Errorf("box root volume encrypted=%v, detailed monitoring=%v", in(box, "rootBlockDevice", "encrypted"), in(box, "monitoring"))
	}
	if in(box, "keyName") != nil {
		t.Error("box has an SSH key pair; access is through Session Manager")
	}
	if !strings.HasPrefix(str(in(box, "ami")), "ami-") {
		t.Errorf("box AMI %v was not looked up", in(box, "ami"))
	}
	if !contains(box.IgnoreChanges, "ami") {
		t.Error("a newer AMI would replace the box: its ami input is not ignored")
	}
	if slow := plan(t, stacks.Servers, "single-box", map[string]string{"slowQueryMs": "250"}); !strings.Contains(str(in(ofType(slow, typInstance)[0], "userData")), "log_min_duration_statement = 250") {
		t.Error("the box's PostgreSQL does not log statements slower than llama:slowQueryMs")
	}
	for _, want := range []string{"postgresql16-server", "/health", "/var/lib/pgsql", "log_lock_waits = on"} {
		if !strings.Contains(str(in(box, "userData")), want) {
			t.Errorf("box user data does not set up %s", want)
		}
	}
	if prof := byID(p, str(in(box, "iamInstanceProfile"))); prof == nil {
		t.Error("box instance profile is not one of the stack's")
	}
	eips := ofType(p, "aws:ec2/eip:Eip")
	found := false
	for _, e := range eips {
		found = found || in(e, "instance") == box.ID
	}
	if !found {
		t.Error("no Elastic IP is attached to the box")
	}
	vols := ofType(p, typVolume)
	if len(vols) != 1 {
		t.Fatalf("single-box has %d EBS volumes, want 1 data volume", len(vols))
	}
	v := vols[0]
	if in(v, "encrypted") != true || !v.RetainOnDelete || in(v, "availabilityZone") != in(box, "availabilityZone") {
		t.Errorf("data volume encrypted=%v retained=%v az=%v (box %v)", in(v, "encrypted"), v.RetainOnDelete, in(v, "availabilityZone"), in(box, "availabilityZone"))
	}
	att := ofType(p, "aws:ec2/volumeAttachment:VolumeAttachment")
	if len(att) != 1 || in(att[0], "volumeId") != v.ID || in(att[0], "instanceId") != box.ID {
		t.Error("the data volume is not attached to the box")
	}
	// nginx listens on 80 only: 443 stays closed until something serves it.
	open := openIngress(p)
	if len(open) != 1 || num(in(open[0], "fromPort")) != 80 || num(in(open[0], "toPort")) != 80 {
		var ports []string
		for _, r := range open {
			ports = append(ports, fmt.Sprintf("%v-%v", in(r, "fromPort"), in(r, "toPort")))
		}
		t.Errorf("single-box opens %v to the internet, want port 80 alone", ports)
	}
	for _, k := range []string{"boxPublicIp", "boxPublicDns", "boxInstanceId"} {
		if s, _ := p.Outputs[k].(string); s == "" {
			t.Errorf("stack output %s is missing", k)
		}
	}
}

func openIngress(p *offline.Plan) []*offline.Resource {
	var out []*offline.Resource
	for _, r := range ofType(p, typIngress) {
		if c := str(in(r, "cidrIpv4")); c == "0.0.0.0/0" || str(in(r, "cidrIpv6")) == "::/0" {
			out = append(out, r)
		}
	}
	return out
}

func TestNetwork(t *testing.T) {
	for _, azs := range []int{2, 3} {
		p := plan(t, stacks.Servers, "single-box", map[string]string{"azCount": fmt.Sprint(azs), "natMode": "per-az"})
		tiers := map[string]map[string]bool{}
		for _, s := range ofType(p, "aws:ec2/subnet:Subnet") {
			tier := str(in(s, "tags", "llama:tier"))
			if tiers[tier] == nil {
				tiers[tier] = map[string]bool{}
			}
			tiers[tier][str(in(s, "availabilityZone"))] = true
		}
		for _, tier := range []string{"public", "private", "database"} {
			if len(tiers[tier]) != azs {
				t.Errorf("azCount=%d: %s subnets span %d AZs", azs, tier, len(tiers[tier]))
			}
		}
		fleet := plan(t, stacks.Servers, "load-balanced", map[string]string{"azCount": fmt.Sprint(azs), "natMode": "per-az"})
		if n := len(ofType(fleet, "aws:ec2/natGateway:NatGateway")); n != azs {
			t.Errorf("natMode per-az over %d AZs has %d NAT gateways", azs, n)
		}
		if len(ofType(p, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")) != 1 {
			t.Error("the default security group is not locked down")
		}
		fl := ofType(p, "aws:ec2/flowLog:FlowLog")
		if len(fl) != 1 || byID(p, str(in(fl[0], "logDestination"))) == nil {
			t.Error("no VPC flow log to a log group of the stack")
		}
		var services []string
		for _, e := range ofType(p, "aws:ec2/vpcEndpoint:VpcEndpoint") {
			services = append(services, str(in(e, "serviceName")))
		}
		sort.Strings(services)
		if strings.Join(services, ",") != "com.amazonaws.us-east-1.dynamodb,com.amazonaws.us-east-1.s3" {
			t.Errorf("gateway endpoints %v", services)
		}
	}
	p := plan(t, stacks.Servers, "load-balanced", map[string]string{"natMode": "single"})
	if n := len(ofType(p, "aws:ec2/natGateway:NatGateway")); n != 1 {
		t.Errorf("natMode single has %d NAT gateways", n)
	}
}

// TestNatOnlyWhereSomethingUsesIt: nothing runs in the private subnets before the fleet, and
// the functions reach AWS's APIs without the internet, so only the fleet's rungs pay for NAT
// gateways and their addresses; the rung that needs one creates it and updates the private
// routes in place.
func TestNatOnlyWhereSomethingUsesIt(t *testing.T) {
	for _, r := range allRungs() {
		p := plan(t, r.platform, r.stage, nil)
		layers, _ := stacks.LayersOf(r.platform, r.stage)
		want := layers[stacks.Fleet]
		if got := len(ofType(p, "aws:ec2/natGateway:NatGateway")) > 0; got != want {
			t.Errorf("%s: NAT gateway %v, want %v", r, got, want)
		}
	}
	d := preview.Diff(plan(t, stacks.Servers, "separate-db", nil), plan(t, stacks.Servers, "load-balanced", nil))
	if len(d.Replaces) != 0 {
		t.Errorf("adding NAT at load-balanced replaces %v", d.Replaces)
	}
	for _, c := range d.Deletes {
		if c.Component == "network" {
			t.Errorf("adding NAT at load-balanced deletes %s", c.Name)
		}
	}
	routes := 0
	for _, c := range d.Updates {
		if c.Type == "aws:ec2/routeTable:RouteTable" && strings.HasPrefix(c.Name, "network-private-rt") {
			routes++
		}
	}
	if routes != 2 {
		t.Errorf("%d private route tables gain the NAT route in place, want 2", routes)
	}
}

// TestInvariants holds every rung of both ladders to what every stage must keep.
func TestInvariants(t *testing.T) {
	for _, r := range allRungs() {
		for _, protect := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/protect=%v", r, protect), func(t *testing.T) {
				p := plan(t, r.platform, r.stage, map[string]string{"protect": fmt.Sprint(protect)})
				checkInvariants(t, p, protect)
			})
		}
	}
}

func checkInvariants(t *testing.T, p *offline.Plan, protect bool) {
	t.Helper()
	all := urns(p)
	for _, r := range p.Resources {
		if r.Custom {
			parent, ok := all[r.Parent]
			if !ok || parent.Custom {
				t.Errorf("%s is not under a component (parent %q)", r.URN, r.Parent)
			}
		}
		// URNs carry the parent's type, not its name: children are prefixed with their
		// component's name so two components of one type cannot collide.
		if parent, ok := all[r.Parent]; ok && !strings.HasPrefix(r.Name, parent.Name) {
			t.Errorf("%s is not prefixed with its component's name %s", r.URN, parent.Name)
		}
		if r.Stateful && r.Protect != protect {
			t.Errorf("%s holds data: protect=%v with llama:protect=%v", r.URN, r.Protect, protect)
		}
		if parent := all[r.Parent]; r.Stateful && (parent == nil || parent.Custom || !strings.HasPrefix(parent.Type, "llama:")) {
			t.Errorf("%s holds data outside a Llama component (parent %q)", r.URN, r.Parent)
		}
	}
	// Encryption at rest and in transit wherever the resource has the setting.
	for _, v := range ofType(p, typVolume) {
		if in(v, "encrypted") != true {
			t.Errorf("volume %s not encrypted", v.Name)
		}
	}
	for _, db := range ofType(p, typRDS) {
		if in(db, "storageEncrypted") != true || in(db, "publiclyAccessible") != false {
			t.Errorf("RDS %s encrypted=%v public=%v", db.Name, in(db, "storageEncrypted"), in(db, "publiclyAccessible"))
		}
	}
	for _, c := range ofType(p, typCluster) {
		if in(c, "storageEncrypted") != true || in(c, "deletionProtection") != protect || in(c, "skipFinalSnapshot") != false {
			t.Errorf("cluster %s encrypted=%v deletionProtection=%v skipFinalSnapshot=%v", c.Name, in(c, "storageEncrypted"), in(c, "deletionProtection"), in(c, "skipFinalSnapshot"))
		}
	}
	for _, i := range ofType(p, typClusterI) {
		if in(i, "publiclyAccessible") != false {
			t.Errorf("cluster instance %s may be public", i.Name)
		}
	}
	for _, c := range ofType(p, typCache) {
		if in(c, "atRestEncryptionEnabled") != true || in(c, "transitEncryptionEnabled") != true || in(c, "authToken") != "[secret]" {
			t.Errorf("cache %s not encrypted or without a secret auth token", c.Name)
		}
	}
	for _, tb := range ofType(p, typTable) {
		if in(tb, "serverSideEncryption", "enabled") != true || in(tb, "pointInTimeRecovery", "enabled") != true {
			t.Errorf("table %s not encrypted or without point-in-time recovery", tb.Name)
		}
		if in(tb, "deletionProtectionEnabled") != protect {
			t.Errorf("table %s deletion protection %v with llama:protect=%v", tb.Name, in(tb, "deletionProtectionEnabled"), protect)
		}
	}
	for _, db := range ofType(p, typRDS) {
		if in(db, "replicateSourceDb") == nil && (in(db, "deletionProtection") != protect || in(db, "skipFinalSnapshot") != false) {
			t.Errorf("RDS %s deletion protection %v, skip final snapshot %v", db.Name, in(db, "deletionProtection"), in(db, "skipFinalSnapshot"))
		}
	}
	checkBuckets(t, p)
	// Nothing that holds data is reachable from the internet: only the box's and the load
	// balancer's groups admit the internet, on 80 and 443.
	for _, r := range openIngress(p) {
		port := num(in(r, "fromPort"))
		sg := byID(p, str(in(r, "securityGroupId")))
		if port != 80 && port != 443 || sg == nil || !hasPrefixAny(sg.Name, "box-web-sg", "fleet-lb-sg") {
			t.Errorf("open ingress %s on %d to %v", r.Name, port, sg)
		}
	}
	for _, r := range ofType(p, typIngress) {
		sg := byID(p, str(in(r, "securityGroupId")))
		if sg != nil && hasPrefixAny(sg.Name, "database", "shards-", "cache") && in(r, "referencedSecurityGroupId") == nil {
			t.Errorf("data store rule %s admits a CIDR, not the app's group", r.Name)
		}
	}
	// IMDSv2 on every instance and launch template.
	for _, i := range ofType(p, typInstance) {
		if in(i, "metadataOptions", "httpTokens") != "required" {
			t.Errorf("instance %s allows IMDSv1", i.Name)
		}
	}
	for _, lt := range ofType(p, typLT) {
		if in(lt, "metadataOptions", "httpTokens") != "required" {
			t.Errorf("launch template %s allows IMDSv1", lt.Name)
		}
	}
	// Every log RDS exports goes to a group the stack created first, with a retention.
	groups := map[string]bool{}
	for _, lg := range ofType(p, "aws:cloudwatch/logGroup:LogGroup") {
		groups[str(in(lg, "name"))] = true
	}
	for _, db := range append(ofType(p, typRDS), ofType(p, typCluster)...) {
		kind, id := "instance", str(in(db, "identifier"))
		if db.Type == typCluster {
			kind, id = "cluster", str(in(db, "clusterIdentifier"))
		}
		for _, log := range strs(in(db, "enabledCloudwatchLogsExports")) {
			if !groups[fmt.Sprintf("/aws/rds/%s/%s/%s", kind, id, log)] {
				t.Errorf("%s exports its %s log to a group the stack does not create", db.Name, log)
			}
		}
	}
	// Every log group has a retention.
	for _, lg := range ofType(p, "aws:cloudwatch/logGroup:LogGroup") {
		if num(in(lg, "retentionInDays")) <= 0 {
			t.Errorf("log group %s keeps logs forever", lg.Name)
		}
	}
}

// checkBuckets: every bucket private, encrypted, versioned, TLS-only.
func checkBuckets(t *testing.T, p *offline.Plan) {
	t.Helper()
	for _, b := range ofType(p, typBucket) {
		cfg := map[string]*offline.Resource{}
		for _, r := range p.Resources {
			if r.Parent == b.Parent && r.URN != b.URN && in(r, "bucket") == b.ID {
				cfg[r.Type] = r
			}
		}
		pab := cfg["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"]
		for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
			if pab == nil || in(pab, k) != true {
				t.Errorf("bucket %s: public access block %s off", b.Name, k)
			}
		}
		sse := cfg["aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"]
		if sse == nil || in(sse, "rules") == nil {
			t.Errorf("bucket %s: no default encryption", b.Name)
		}
		ver := cfg["aws:s3/bucketVersioningV2:BucketVersioningV2"]
		if ver == nil || in(ver, "versioningConfiguration", "status") != "Enabled" {
			t.Errorf("bucket %s: not versioned", b.Name)
		}
		pol := cfg["aws:s3/bucketPolicy:BucketPolicy"]
		if pol == nil || !strings.Contains(str(in(pol, "policy")), `"aws:SecureTransport":"false"`) {
			t.Errorf("bucket %s: no TLS-only policy", b.Name)
		}
		if cfg["aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"] == nil {
			t.Errorf("bucket %s: no lifecycle for old versions", b.Name)
		}
	}
}

// TestDryRunAndNormal: every rung plans as a preview and as an update, to the same graph.
func TestDryRunAndNormal(t *testing.T) {
	for _, r := range allRungs() {
		normal, err := tryPlan(r.platform, r.stage, nil, false)
		if err != nil {
			t.Fatalf("%s normal run: %v", r, err)
		}
		dry, err := tryPlan(r.platform, r.stage, nil, true)
		if err != nil {
			t.Fatalf("%s dry run: %v", r, err)
		}
		if len(dry.Resources) != len(normal.Resources) {
			t.Errorf("%s: dry run registers %d resources, normal run %d", r, len(dry.Resources), len(normal.Resources))
		}
		nu := urns(normal)
		for _, d := range dry.Resources {
			if nu[d.URN] == nil {
				t.Errorf("%s: %s only in the dry run", r, d.URN)
			}
		}
	}
}

func TestBadConfig(t *testing.T) {
	cases := []struct {
		name     string
		platform stacks.Platform
		stage    string
		over     map[string]string
		key      string // the key the error must name
		also     string // and a word of what is allowed
	}{
		{"unknown stage", stacks.Servers, "bogus", nil, "llama:stage", "single-box"},
		{"servers-only rung on serverless", stacks.Serverless, "single-box", nil, "llama:stage", "serverless"},
		{"load-balanced on serverless", stacks.Serverless, "load-balanced", nil, "llama:stage", "servers ladder only"},
		{"unknown platform", "mainframe", "single-box", nil, "llama:platform", "serverless"},
		{"one AZ", stacks.Servers, "single-box", map[string]string{"azCount": "1"}, "llama:azCount", "2 to 6"},
		{"more AZs than the config allows", stacks.Servers, "single-box", map[string]string{"azCount": "7"}, "llama:azCount", "6"},
		// The range allows 6; eu-west-1 offers 3, us-west-1 two: the region decides.
		{"more AZs than the region offers", stacks.Servers, "single-box", map[string]string{"azCount": "4", "aws:region": "eu-west-1"}, "llama:azCount", "region eu-west-1 offers 3"},
		{"three AZs where there are two", stacks.Servers, "load-balanced", map[string]string{"azCount": "3", "aws:region": "us-west-1"}, "llama:azCount", "offers 2"},
		{"AZs not a number", stacks.Servers, "single-box", map[string]string{"azCount": "two"}, "llama:azCount", "whole number"},
		{"bad NAT mode", stacks.Servers, "single-box", map[string]string{"natMode": "none"}, "llama:natMode", "per-az"},
		{"bad instance type", stacks.Servers, "single-box", map[string]string{"instanceType": "large"}, "llama:instanceType", "t3.small"},
		{"protect not a bool", stacks.Servers, "single-box", map[string]string{"protect": "yes please"}, "llama:protect", "true or false"},
		{"vpc not a /16", stacks.Servers, "single-box", map[string]string{"vpcCidr": "10.0.0.0/24"}, "llama:vpcCidr", "/16"},
		{"log retention CloudWatch refuses", stacks.Servers, "single-box", map[string]string{"logRetentionDays": "10"}, "llama:logRetentionDays", "one of"},
		{"malformed certificate", stacks.Servers, "load-balanced", map[string]string{"certificateArn": "my-cert"}, "llama:certificateArn", "ACM"},
		{"malformed email", stacks.Servers, "single-box", map[string]string{"alertEmail": "ops"}, "llama:alertEmail", "email"},
	}
	runBadConfigs(t, cases)
}

type badConfig = struct {
	name     string
	platform stacks.Platform
	stage    string
	over     map[string]string
	key      string
	also     string
}

func runBadConfigs(t *testing.T, cases []badConfig) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := tryPlan(c.platform, c.stage, c.over, false)
			if err == nil {
				t.Fatalf("%v was accepted", c.over)
			}
			if !strings.Contains(err.Error(), c.key) || !strings.Contains(err.Error(), c.also) {
				t.Errorf("error does not name %s and %q: %v", c.key, c.also, err)
			}
		})
	}
}

// TestPulumiYAML: the project and every stack file load with Pulumi's own loader, every key
// the program reads is declared with the same type and default, and stack files set only
// declared keys.
func TestPulumiYAML(t *testing.T) {
	proj, err := workspace.LoadProject(filepath.Join("..", "Pulumi.yaml"))
	if err != nil {
		t.Fatalf("Pulumi.yaml: %v", err)
	}
	if proj.Name != "llama" || proj.Runtime.Name() != "go" {
		t.Errorf("project %s runtime %s, want llama on go", proj.Name, proj.Runtime.Name())
	}
	read := map[string]bool{}
	if _, err := stacks.ParseConfig(func(k string) (string, bool) { read[k] = true; return "", false }); err != nil {
		t.Fatalf("defaults alone do not validate: %v", err)
	}
	for k := range read {
		decl, ok := proj.Config[k]
		if !ok {
			t.Errorf("the program reads %s, which Pulumi.yaml does not declare", k)
			continue
		}
		key, _ := stacks.KeyNamed(strings.TrimPrefix(k, "llama:"))
		if decl.TypeName() != key.Type || decl.Description == "" {
			t.Errorf("%s: Pulumi.yaml type %q (code %q), description %q", k, decl.TypeName(), key.Type, decl.Description)
		}
		if fmt.Sprint(decl.Default) != key.Default {
			t.Errorf("%s: Pulumi.yaml default %v, code default %q", k, decl.Default, key.Default)
		}
	}
	if len(read) != len(stacks.Keys) || len(proj.Config) != len(stacks.Keys) {
		t.Errorf("the program reads %d keys, declares %d, Pulumi.yaml has %d", len(read), len(stacks.Keys), len(proj.Config))
	}
	files, _ := filepath.Glob(filepath.Join("..", "Pulumi.*.yaml"))
	if len(files) == 0 {
		t.Fatal("no stack files")
	}
	for _, f := range files {
		ps, err := workspace.LoadProjectStack(diag.DefaultSink(os.Stderr, os.Stderr, diag.FormatOptions{Color: "never"}), proj, f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		for k := range ps.Config {
			if k.Namespace() == "llama" {
				if _, ok := proj.Config[k.String()]; !ok {
					t.Errorf("%s sets undeclared %s", f, k)
				}
			}
		}
	}
	// The dev stack is cheap and unprotected, and plans.
	dev := plan(t, stacks.Servers, "single-box", nil)
	for _, v := range ofType(dev, typVolume) {
		if v.Protect {
			t.Error("the dev stack protects its data volume; it sets llama:protect false")
		}
	}
	if got := str(in(ofType(dev, typInstance)[0], "instanceType")); got != "t3.micro" {
		t.Errorf("dev box is %s, want the dev stack's t3.micro", got)
	}
}

// TestDuplicateURNFails: the strict engine refuses what the real engine refuses.
func TestStrictEngine(t *testing.T) {
	// A program that registers one name twice under the same parent type.
	_, err := offline.Run(dupProgram, offline.Options{Config: map[string]string{}})
	if err == nil || !strings.Contains(err.Error(), "duplicate URN") {
		t.Errorf("duplicate URN not refused: %v", err)
	}
	_, err = offline.Run(unmockedInvoke, offline.Options{Config: map[string]string{}})
	if err == nil || !strings.Contains(err.Error(), "no mock for invoke") {
		t.Errorf("unmocked invoke not refused: %v", err)
	}
	_, err = offline.Run(emptyOutput, offline.Options{Config: map[string]string{}})
	if err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("an input fed by an output the mocks left empty was not refused: %v", err)
	}
}

// TestFunctionsReachAWSWithoutNAT: the functions are given their settings at deploy time where
// they read nothing else at run time (no interface endpoint, no NAT: the S3 and DynamoDB
// gateway endpoints are free); from the rung where they read SSM and Secrets Manager (the
// cache's token, the shards' credentials, the mover's records) they reach both through
// interface endpoints in every AZ that admit the app alone, and read SSM as before.
func TestFunctionsReachAWSWithoutNAT(t *testing.T) {
	for _, stage := range stacks.StageNames(stacks.Serverless) {
		p := plan(t, stacks.Serverless, stage, nil)
		layers, _ := stacks.LayersOf(stacks.Serverless, stage)
		reads := layers[stacks.Cache] || layers[stacks.Shards] || layers[stacks.Tables]
		var interfaces []string
		for _, e := range ofType(p, "aws:ec2/vpcEndpoint:VpcEndpoint") {
			if in(e, "vpcEndpointType") != "Interface" {
				continue
			}
			interfaces = append(interfaces, str(in(e, "serviceName")))
			if n := len(in(e, "subnetIds").([]any)); n != 2 || in(e, "privateDnsEnabled") != true {
				t.Errorf("%s: endpoint %s in %d subnets, private DNS %v", stage, str(in(e, "serviceName")), n, in(e, "privateDnsEnabled"))
			}
		}
		sort.Strings(interfaces)
		want := ""
		if reads {
			want = "com.amazonaws.us-east-1.secretsmanager,com.amazonaws.us-east-1.ssm"
		}
		if got := strings.Join(interfaces, ","); got != want {
			t.Errorf("%s: interface endpoints %q, want %q", stage, got, want)
		}
		fn := ofType(p, "aws:lambda/function:Function")[0]
		vars := in(fn, "environment", "variables").(map[string]any)
		settings, given := vars["LLAMA_SETTINGS"].(string)
		if given == reads {
			t.Errorf("%s: settings given at deploy time %v, though the function reads at run time %v", stage, given, reads)
		}
		if given {
			var m map[string]string
			if err := json.Unmarshal([]byte(settings), &m); err != nil || m["db/name"] == "" {
				t.Errorf("%s: LLAMA_SETTINGS %s (%v)", stage, settings, err)
			}
		}
		if len(ofType(p, "aws:ec2/natGateway:NatGateway")) > 0 {
			t.Errorf("%s: a NAT gateway", stage)
		}
		// A function that reads SSM at run time changes only once its way there exists.
		for _, e := range ofType(p, "aws:ec2/vpcEndpoint:VpcEndpoint") {
			if in(e, "vpcEndpointType") == "Interface" && !contains(fn.DependsOn, e.URN) {
				t.Errorf("%s: the function does not wait for %s", stage, e.Name)
			}
		}
	}
}

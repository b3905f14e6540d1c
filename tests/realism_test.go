package tests

import (
	"fmt"
	"strings"
	"testing"

	"github.com/llama-stages/llama/preview"
	"github.com/llama-stages/llama/stacks"
)

// What the providers would refuse, or do, that the offline engine alone would not show.

// TestLocalZonesAreNotAZs: an account opted into a Local Zone (listed first by AWS unless
// filtered) still spreads the stack over the region's own AZs.
func TestLocalZonesAreNotAZs(t *testing.T) {
	p := plan(t, stacks.Servers, "replicas", nil)
	for _, r := range p.Resources {
		for _, k := range []string{"availabilityZone", "availabilityZones"} {
			if strings.Contains(fmt.Sprint(r.Inputs[k]), "bos-1a") {
				t.Errorf("%s %s is placed in a Local Zone: %v", r.Type, r.Name, r.Inputs[k])
			}
		}
	}
}

// TestTargetTrackingOwnsDesiredCapacity: once the group exists, an up leaves its desired
// capacity to target tracking, so a scaled-out fleet is not reset to its floor.
func TestTargetTrackingOwnsDesiredCapacity(t *testing.T) {
	a := plan(t, stacks.Servers, "load-balanced", nil)
	b := plan(t, stacks.Servers, "load-balanced", map[string]string{"desiredServers": "4"})
	for _, u := range preview.Diff(a, b).Updates {
		if u.Name == "fleet-asg" {
			t.Errorf("a new llama:desiredServers updates the group: %+v", u)
		}
	}
}

// TestTableGrantIsWhatTheAppCalls: the app's role may call on the tables what the app and its
// mover call (PutItem, Query; BatchWriteItem, DeleteItem and Scan for the activity move), and
// nothing else.
func TestTableGrantIsWhatTheAppCalls(t *testing.T) {
	p := plan(t, stacks.Servers, "nosql", nil)
	pol := str(in(named(t, p, "aws:iam/rolePolicy:RolePolicy", "app-role-tables"), "policy"))
	for _, a := range []string{"dynamodb:PutItem", "dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:Scan"} {
		if !strings.Contains(pol, `"`+a+`"`) {
			t.Errorf("the app may not %s: %s", a, pol)
		}
	}
	for _, a := range []string{"dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:*"} {
		if strings.Contains(pol, `"`+a+`"`) {
			t.Errorf("the app may %s, which it never calls: %s", a, pol)
		}
	}
}

// TestClusterInstancesSendNoEngineVersion: Aurora instances run their cluster's version; one
// pinned at create is refused once AWS has upgraded the cluster's minor.
func TestClusterInstancesSendNoEngineVersion(t *testing.T) {
	for _, pl := range stacks.Platforms {
		p := plan(t, pl, "sharded", map[string]string{"shards": "2"})
		for _, r := range ofType(p, "aws:rds/clusterInstance:ClusterInstance") {
			if v, ok := r.Inputs["engineVersion"]; ok && v != nil {
				t.Errorf("%s: %s sends engineVersion %v", pl, r.Name, v)
			}
		}
	}
}

// TestTheSPACanCallTheAPI: the SPA on its hostname calls the API on another origin; the API
// answers browsers' CORS preflights for that origin, and no other.
func TestTheSPACanCallTheAPI(t *testing.T) {
	for _, stage := range []string{"serverless", "cdn"} {
		p := plan(t, stacks.Serverless, stage, cdnConfig)
		api := named(t, p, "aws:apigatewayv2/api:Api", "api-http")
		origins := strs(in(api, "corsConfiguration", "allowOrigins"))
		if len(origins) != 1 || origins[0] != "https://"+cdnConfig["domain"] {
			t.Errorf("serverless/%s: the API allows origins %v, want the SPA's", stage, origins)
		}
	}
	p := plan(t, stacks.Serverless, "serverless", nil)
	if c := in(named(t, p, "aws:apigatewayv2/api:Api", "api-http"), "corsConfiguration"); c != nil {
		t.Errorf("with no hostname for the SPA the API allows %v", c)
	}
}

// TestABootScriptChangeIsNotQuiet: a change of the box's user data stops and starts it and is
// not run by cloud-init again: the diff says so.
func TestABootScriptChangeIsNotQuiet(t *testing.T) {
	a := plan(t, stacks.Servers, "single-box", nil)
	b := plan(t, stacks.Servers, "single-box", map[string]string{"slowQueryMs": "250"})
	d := preview.Diff(a, b)
	found := false
	for _, s := range d.Steps {
		found = found || (s.ID == "user-data/box-instance" && strings.Contains(s.Text, "stops and starts"))
	}
	if !found {
		t.Errorf("a boot script change of the box is a quiet update; steps %+v", d.Steps)
	}
}

// TestSecurityChangesComeFirst: the diff lists what the internet newly reaches and every policy
// change before everything else, as cdk diff's security tables do.
func TestSecurityChangesComeFirst(t *testing.T) {
	d := preview.Diff(plan(t, stacks.Servers, "separate-db", map[string]string{"moved": "db"}), plan(t, stacks.Servers, "load-balanced", map[string]string{"moved": "db"}))
	all := strings.Join(d.Security, "\n")
	for _, want := range []string{"SecurityGroupIngressRule fleet-lb-sg-in-http (port 80 from anywhere)", "LoadBalancer fleet-alb", "+ RolePolicy app-role-static", "+ BucketPolicy static-policy"} {
		if !strings.Contains(all, want) {
			t.Errorf("security lines lack %q:\n%s", want, all)
		}
	}
	text := d.Summary()
	if i, j := strings.Index(text, "Security ("), strings.Index(text, "What matters:"); i < 0 || i > j {
		t.Errorf("the security section does not come first:\n%s", text)
	}
}

// TestValuesOfNewResourcesReadKnownAfterApply: a changed input that takes a value from a
// resource the change creates reads "known after apply", as pulumi preview and terraform plan
// say, not the offline engine's made-up value.
func TestValuesOfNewResourcesReadKnownAfterApply(t *testing.T) {
	d := preview.Diff(plan(t, stacks.Servers, "replicas", nil), plan(t, stacks.Servers, "cache", nil))
	for _, u := range d.Updates {
		if u.Name != "app-role-secrets" {
			continue
		}
		for _, p := range u.Paths {
			if strings.Contains(fmt.Sprint(p.New), "cache-auth") && !p.Unknown {
				t.Errorf("the new cache secret's ARN is shown as known: %+v", p)
			}
		}
	}
	if !strings.Contains(d.Summary(), "(known after apply)") {
		t.Error("the summary shows no value as known after apply")
	}
}

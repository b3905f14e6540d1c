package tests

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/llama-stages/llama/cost"
	"github.com/llama-stages/llama/offline"
	"github.com/llama-stages/llama/preview"
	"github.com/llama-stages/llama/stacks"
)

// withDomain is cdnConfig over other overrides: a hostname on any rung.
func withDomain(over map[string]string) map[string]string {
	out := maps.Clone(cdnConfig)
	maps.Copy(out, over)
	return out
}

// appRecord is the app hostname's record in the zone.
func appRecord(t *testing.T, p *offline.Plan) *offline.Resource {
	t.Helper()
	return named(t, p, "cloudflare:index/record:Record", "cdn-app")
}

// ingressPorts lists the ports a security group's ingress rules open, by rule name.
func ingressRules(p *offline.Plan, group string) []string {
	var out []string
	for _, r := range ofType(p, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
		if strings.HasPrefix(r.Name, group+"-in-") {
			out = append(out, strings.TrimPrefix(r.Name, group+"-in-"))
		}
	}
	slices.Sort(out)
	return out
}

// TestHostnameFromTheFirstRung: with a domain, every rung of the servers ladder owns the app's
// record: DNS only with a short TTL below cdn, pointing at the box until traffic has moved and
// at the load balancer after; the box serves HTTPS with its own certificate, the load balancer
// with an ACM certificate validated through the zone, HTTP redirecting.
func TestHostnameFromTheFirstRung(t *testing.T) {
	cases := []struct {
		stage, moved string
		box, fleet   bool   // what the stage runs
		target       string // what the record points at
	}{
		{"single-box", "", true, false, "box"},
		{"separate-db", "db", true, false, "box"},
		{"load-balanced", "db", true, true, "box"},
		{"load-balanced", "db,traffic", false, true, "fleet"},
		{"replicas", "db,traffic", false, true, "fleet"},
		{"cache", "db,traffic", false, true, "fleet"},
	}
	for _, c := range cases {
		t.Run(c.stage+"/"+c.moved, func(t *testing.T) {
			p := plan(t, stacks.Servers, c.stage, withDomain(map[string]string{"moved": c.moved}))
			rec := appRecord(t, p)
			if str(in(rec, "type")) != "CNAME" || in(rec, "proxied") != false || num(in(rec, "ttl")) != 60 || str(in(rec, "name")) != cdnConfig["domain"] {
				t.Errorf("record: type %v proxied %v ttl %v name %v; want a DNS-only CNAME of %s, TTL 60", in(rec, "type"), in(rec, "proxied"), in(rec, "ttl"), in(rec, "name"), cdnConfig["domain"])
			}
			want := outputOf(p, "aws:ec2/eip:Eip", "box-eip", "publicDns")
			if c.target == "fleet" {
				want = outputOf(p, "aws:lb/loadBalancer:LoadBalancer", "fleet-alb", "dnsName")
			}
			if got := str(in(rec, "content")); got == "" || got != want {
				t.Errorf("the record points at %q, want the %s (%q)", got, c.target, want)
			}
			if n := len(ofType(p, "cloudflare:index/ruleset:Ruleset")); n != 0 {
				t.Errorf("below cdn the stack writes %d rulesets into the zone; want none", n)
			}
			if c.box {
				if got := ingressRules(p, "box-web-sg"); !slices.Equal(got, []string{"http", "https"}) {
					t.Errorf("box ingress %v, want http and https", got)
				}
				s := published(p)
				if s["tls/domain"] != cdnConfig["domain"] || s["tls/acmeDirectory"] != stacks.LetsEncrypt {
					t.Errorf("the box is told tls/domain %q and tls/acmeDirectory %q", s["tls/domain"], s["tls/acmeDirectory"])
				}
				if inst := named(t, p, "aws:ec2/instance:Instance", "box-instance"); !contains(inst.BeforeDelete, "llama-box-dns-drain") {
					t.Errorf("the box's instance is deleted without waiting out the record's TTL: hooks %v", inst.BeforeDelete)
				}
			}
			if !c.fleet {
				if len(ofType(p, "aws:acm/certificate:Certificate")) != 0 {
					t.Errorf("an ACM certificate without a load balancer to use it")
				}
				return
			}
			cert := named(t, p, "aws:acm/certificate:Certificate", "certificate-cert")
			if str(in(cert, "domainName")) != cdnConfig["domain"] || str(in(cert, "validationMethod")) != "DNS" {
				t.Errorf("certificate for %v by %v", in(cert, "domainName"), in(cert, "validationMethod"))
			}
			v := named(t, p, "cloudflare:index/record:Record", "certificate-validation-0")
			if in(v, "proxied") != false {
				t.Errorf("the validation record is proxied")
			}
			https := named(t, p, "aws:lb/listener:Listener", "fleet-https")
			if str(in(https, "sslPolicy")) != "ELBSecurityPolicy-TLS13-1-2-2021-06" || str(in(https, "certificateArn")) == "" {
				t.Errorf("HTTPS listener: policy %v certificate %v", in(https, "sslPolicy"), in(https, "certificateArn"))
			}
			http := named(t, p, "aws:lb/listener:Listener", "fleet-http")
			if acts, _ := in(http, "defaultActions").([]any); len(acts) != 1 || str(acts[0].(map[string]any)["type"]) != "redirect" {
				t.Errorf("HTTP does not redirect: %v", in(http, "defaultActions"))
			}
			if got := ingressRules(p, "fleet-lb-sg"); !slices.Equal(got, []string{"http", "https"}) {
				t.Errorf("load balancer ingress %v, want http and https", got)
			}
			for _, w := range p.Warnings {
				if strings.Contains(w, "plain HTTP") {
					t.Errorf("a stack with a domain is warned: %s", w)
				}
			}
		})
	}
}

// TestCertificateArnWins: a certificate of the team's own serves the load balancer; the stack
// issues none.
func TestCertificateArnWins(t *testing.T) {
	arn := "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
	p := plan(t, stacks.Servers, "replicas", withDomain(map[string]string{"certificateArn": arn}))
	if n := len(ofType(p, "aws:acm/certificate:Certificate")); n != 0 {
		t.Errorf("%d ACM certificates issued beside llama:certificateArn", n)
	}
	if got := str(in(named(t, p, "aws:lb/listener:Listener", "fleet-https"), "certificateArn")); got != arn {
		t.Errorf("the HTTPS listener uses %q", got)
	}
}

// TestPort443OnlyWhereSomethingListens: without a hostname or a certificate, neither the box
// nor the load balancer opens 443.
func TestPort443OnlyWhereSomethingListens(t *testing.T) {
	for _, c := range []struct{ stage, moved, group string }{
		{"single-box", "", "box-web-sg"}, {"load-balanced", "db,traffic", "fleet-lb-sg"},
	} {
		p := plan(t, stacks.Servers, c.stage, map[string]string{"moved": c.moved})
		if got := ingressRules(p, c.group); !slices.Equal(got, []string{"http"}) {
			t.Errorf("%s: %s opens %v; want http alone (nothing listens on 443)", c.stage, c.group, got)
		}
		if len(ofType(p, "aws:lb/listener:Listener")) > 1 {
			t.Errorf("%s: an HTTPS listener without a certificate", c.stage)
		}
	}
}

// TestPlainHTTPIsNeverSilent: a protected stack that serves plain HTTP only is warned, naming
// the fix, on every servers rung that has no hostname; a dev stack and the serverless ladder are
// not.
func TestPlainHTTPIsNeverSilent(t *testing.T) {
	warned := func(p *offline.Plan) string {
		for _, w := range p.Warnings {
			if strings.Contains(w, "plain HTTP") {
				return w
			}
		}
		return ""
	}
	for _, stage := range []string{"single-box", "separate-db", "load-balanced", "replicas", "cache"} {
		w := warned(plan(t, stacks.Servers, stage, map[string]string{"protect": "true"}))
		for _, want := range []string{"llama:domain", "llama:cloudflareZoneId", "llama:certificateArn"} {
			if !strings.Contains(w, want) {
				t.Errorf("%s, protected, no domain: the plain HTTP warning %q does not name %s", stage, w, want)
			}
		}
		if w := warned(plan(t, stacks.Servers, stage, map[string]string{"protect": "false"})); w != "" {
			t.Errorf("%s: a dev stack is warned: %s", stage, w)
		}
	}
	arn := "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
	if w := warned(plan(t, stacks.Servers, "replicas", map[string]string{"protect": "true", "certificateArn": arn})); w != "" {
		t.Errorf("a load balancer with a certificate is warned: %s", w)
	}
	for _, stage := range stacks.StageNames(stacks.Serverless) {
		over := map[string]string{"protect": "true"}
		if w := warned(plan(t, stacks.Serverless, stage, over)); w != "" {
			t.Errorf("serverless %s is warned: %s", stage, w)
		}
	}
}

// TestTheRecordBecomesProxiedInPlace: promoting cache -> cdn with a domain updates the record
// the stack owned from the first rung: no delete and create, no gap in DNS.
func TestTheRecordBecomesProxiedInPlace(t *testing.T) {
	a := plan(t, stacks.Servers, "cache", cdnConfig)
	b := plan(t, stacks.Servers, "cdn", cdnConfig)
	d := preview.Diff(a, b)
	var updated *preview.Change
	for i, u := range d.Updates {
		if u.Name == "cdn-app" {
			updated = &d.Updates[i]
		}
	}
	for _, c := range slices.Concat(d.Creates, d.Deletes, d.Replaces) {
		if c.Name == "cdn-app" {
			t.Fatalf("the app's record is not updated in place: %+v", c)
		}
	}
	if updated == nil || !contains(updated.Keys, "proxied") {
		t.Fatalf("the record does not become proxied: %+v", updated)
	}
	if rec := appRecord(t, b); in(rec, "proxied") != true || num(in(rec, "ttl")) != 1 {
		t.Errorf("at cdn the record is proxied %v with TTL %v", in(rec, "proxied"), in(rec, "ttl"))
	}
}

// TestTheStackSwitchesTraffic: with the record the stack's, listing traffic in llama:moved
// points the hostname at the load balancer in the same up that retires the box, and the steps
// ask for nothing by hand in DNS.
func TestTheStackSwitchesTraffic(t *testing.T) {
	a := plan(t, stacks.Servers, "load-balanced", withDomain(map[string]string{"moved": "db"}))
	b := plan(t, stacks.Servers, "load-balanced", withDomain(map[string]string{"moved": "db,traffic"}))
	d := preview.Diff(a, b)
	switched := false
	for _, u := range d.Updates {
		switched = switched || (u.Name == "cdn-app" && contains(u.Keys, "content"))
	}
	if !switched {
		t.Errorf("moving traffic does not repoint the record; updates %+v", d.Updates)
	}
	for _, diff := range []*preview.Result{preview.Diff(plan(t, stacks.Servers, "separate-db", withDomain(map[string]string{"moved": "db"})), a), d} {
		for _, s := range diff.Steps {
			if strings.HasPrefix(s.ID, "move/traffic/") && (strings.Contains(s.Text, "lower") || strings.Contains(s.Text, "point the hostname")) {
				t.Errorf("step %s asks for DNS work the stack does: %s", s.ID, s.Text)
			}
		}
	}
}

// TestHTTPSCostsNothing: a hostname with its certificates leaves each rung's monthly cost as it
// was, and the estimate says why.
func TestHTTPSCostsNothing(t *testing.T) {
	for _, c := range []struct{ stage, moved string }{{"single-box", ""}, {"load-balanced", "db,traffic"}, {"cache", "db,traffic"}} {
		u := preview.DefaultUsage("servers", c.stage)
		plain, err := cost.Price(defaultPlan(t, stacks.Servers, c.stage, map[string]string{"moved": c.moved}), "us-east-1", u)
		if err != nil {
			t.Fatal(err)
		}
		https, err := cost.Price(defaultPlan(t, stacks.Servers, c.stage, withDomain(map[string]string{"moved": c.moved})), "us-east-1", u)
		if err != nil {
			t.Fatal(err)
		}
		if https.Monthly != plain.Monthly {
			t.Errorf("%s: HTTPS changes the monthly cost from $%.2f to $%.2f", c.stage, plain.Monthly, https.Monthly)
		}
		notes, _ := https.Assumptions["notes"].(map[string]string)
		if !strings.Contains(notes["tls"], "nothing") {
			t.Errorf("%s: the estimate does not say HTTPS is free: %v", c.stage, notes)
		}
	}
}

// TestTheDiffCarriesThePlainHTTPWarning: llama diff --json holds the target's warnings.
func TestTheDiffCarriesThePlainHTTPWarning(t *testing.T) {
	d := preview.Diff(plan(t, stacks.Servers, "single-box", map[string]string{"protect": "true"}), plan(t, stacks.Servers, "separate-db", map[string]string{"protect": "true", "moved": ""}))
	if !slices.ContainsFunc(d.Warnings, func(w string) bool { return strings.Contains(w, "plain HTTP") }) {
		t.Errorf("the diff's warnings %q lack the plain HTTP warning", d.Warnings)
	}
}

// TestTheEdgeServesWhatTheCertificateCovers: on every rung with a zone, the hostnames that get
// proxied records are the ones the stack names (EdgeHostnames), which the certificate and the
// two-label check read: one list, not two that can drift.
func TestTheEdgeServesWhatTheCertificateCovers(t *testing.T) {
	for _, r := range allRungs() {
		p := plan(t, r.platform, r.stage, cdnConfig)
		var proxied []string
		for _, rec := range ofType(p, "cloudflare:index/record:Record") {
			if in(rec, "proxied") == true {
				proxied = append(proxied, str(in(rec, "name")))
			}
		}
		cfg := map[string]string{}
		for k, v := range p.Config {
			cfg[k] = v
		}
		c, err := stacks.ParseConfig(func(k string) (string, bool) { v, ok := cfg[k]; return v, ok })
		if err != nil {
			t.Fatal(err)
		}
		want := c.EdgeHostnames()
		slices.Sort(proxied)
		slices.Sort(want)
		if !slices.Equal(proxied, want) {
			t.Errorf("%s: proxied records %v, the stack's edge hostnames %v", r, proxied, want)
		}
	}
}

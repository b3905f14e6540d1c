package tests

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/cdn"
	"github.com/llama-stages/llama/offline"
	"github.com/llama-stages/llama/preview"
	"github.com/llama-stages/llama/stacks"
)

const sharedZone = "0123456789abcdef0123456789abcdef"

// planIn plans a new stack with default config but its domain, in a zone holding what zones
// says.
func planIn(t *testing.T, stack string, platform stacks.Platform, stage, domain string, zones map[string][]map[string]any) (*offline.Plan, error) {
	t.Helper()
	return preview.Plan(preview.Request{Dir: "..", Stack: stack, Defaults: true, Stage: stage, Platform: string(platform),
		Overrides: map[string]string{"cloudflareZoneId": sharedZone, "domain": domain, "cloudflareCertificate": "advanced"}, Zones: zones})
}

// rulesets returns a plan's zone rulesets by phase.
func rulesets(p *offline.Plan) map[string]*offline.Resource {
	out := map[string]*offline.Resource{}
	for _, r := range ofType(p, "cloudflare:index/ruleset:Ruleset") {
		out[str(in(r, "phase"))] = r
	}
	return out
}

// refs lists a ruleset's rule refs.
func refs(r *offline.Resource) []string {
	var out []string
	for _, x := range in(r, "rules").([]any) {
		out = append(out, str(x.(map[string]any)["ref"]))
	}
	return out
}

// TestOneStackOwnsAZone: prod owns the entry points of the phases it writes; its next run
// updates them in place (no import, no replace); a second stack in the same zone is refused
// before anything is planned, naming the two sound ways out, whatever its ladder.
func TestOneStackOwnsAZone(t *testing.T) {
	cases := []struct {
		name         string
		prodPlatform stacks.Platform
		prodStage    string
		devPlatform  stacks.Platform
		devStage     string
	}{
		{"servers beside servers", stacks.Servers, "cdn", stacks.Servers, "cdn"},
		{"serverless beside servers", stacks.Servers, "cdn", stacks.Serverless, "serverless"},
		{"servers beside serverless", stacks.Serverless, "serverless", stacks.Servers, "sharded"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			prod, err := planIn(t, "prod", c.prodPlatform, c.prodStage, "app.example.com", nil)
			if err != nil {
				t.Fatal(err)
			}
			for phase, r := range rulesets(prod) {
				if r.ImportID != "" || r.RetainOnDelete {
					t.Errorf("prod alone in the zone: %s ruleset imports %q / retained %v", phase, r.ImportID, r.RetainOnDelete)
				}
			}
			again, err := planIn(t, "prod", c.prodPlatform, c.prodStage, "app.example.com", offline.ZoneAfter(prod))
			if err != nil {
				t.Fatalf("prod's next run: %v", err)
			}
			for phase, r := range rulesets(again) {
				if r.ImportID != "" || in(r, "name") != in(rulesets(prod)[phase], "name") {
					t.Errorf("%s: prod's next run imports %q or renames its entry point", phase, r.ImportID)
				}
			}
			_, err = planIn(t, "dev", c.devPlatform, c.devStage, "dev.example.com", offline.ZoneAfter(prod))
			if err == nil {
				t.Fatal("a second stack writes the entry points prod owns")
			}
			for _, want := range []string{"another Llama stack wrote", "tag " + cdn.Tag("llama/prod"), "one stack owns a zone's entry points", "zone of its own", "stack references"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the refusal does not say %q: %v", want, err)
				}
			}
		})
	}
}

// TestTheZoneIsReadPhaseByPhase: the plan reads only the entry points of the phases it writes,
// each by its own filtered read, never the zone's WAF or redirect phases (other token
// permissions).
func TestTheZoneIsReadPhaseByPhase(t *testing.T) {
	waf := map[string][]map[string]any{sharedZone: {{
		"id": "3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a", "kind": "zone", "name": "default", "phase": "http_request_firewall_custom", "version": "1",
		"rules": []any{map[string]any{"id": "w1", "ref": "w1", "description": "Block bots", "expression": "cf.client.bot", "action": "block", "enabled": true}},
	}}}
	if _, err := planIn(t, "prod", stacks.Servers, "cdn", "app.example.com", waf); err != nil {
		t.Errorf("a zone whose WAF phase holds rules refuses a stack that writes no WAF rule: %v", err)
	}
	api := []cdn.Host{{Name: "api.example.com", Origin: pulumi.String("x"), Kind: cdn.API}}
	if got, want := cdn.UsedPhases(api), []string{"http_config_settings", "http_request_cache_settings"}; !slices.Equal(got, want) {
		t.Errorf("an API host alone reads phases %v, want %v", got, want)
	}
}

// TestZoneWithOthersRulesIsRefused: a phase holding a rule no Llama stack wrote would lose it;
// the plan refuses, naming the zone, the phase, the rule and what to do.
func TestZoneWithOthersRulesIsRefused(t *testing.T) {
	zone := map[string][]map[string]any{sharedZone: {{
		"id": "5e1f00d5e1f00d5e1f00d5e1f00d5e1f", "kind": "zone", "name": "default", "phase": "http_request_cache_settings", "version": "3",
		"rules": []any{map[string]any{"id": "9a", "ref": "9a", "description": "Cache the blog", "expression": `http.host eq "blog.example.com"`,
			"action": "set_cache_settings", "enabled": true, "actionParameters": map[string]any{"cache": true}}},
	}}}
	_, err := planIn(t, "dev", stacks.Servers, "cdn", "dev.example.com", zone)
	if err == nil {
		t.Fatal("a plan that would delete the zone's own cache rule passed")
	}
	for _, want := range []string{sharedZone, "http_request_cache_settings", "no Llama stack wrote", "Cache the blog", "zone of its own"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %q", err, want)
		}
	}
}

// TestUntaggedRulesOfThisStack: a stack deployed before rules carried its tag holds its
// entry points already; it rewrites its own rules and imports nothing.
func TestUntaggedRulesOfThisStack(t *testing.T) {
	zone := map[string][]map[string]any{sharedZone: {{
		"id": "0ddba11c0ddba11c0ddba11c0ddba11c", "heldBy": map[string]any{"llama/prod": ""}, "kind": "zone", "name": "Llama TLS", "phase": "http_config_settings", "version": "2",
		"rules": []any{map[string]any{"id": "1", "ref": "strict_tls", "expression": `http.host in {"app.example.com" "static.app.example.com"}`,
			"action": "set_config", "actionParameters": map[string]any{"ssl": "strict"}}},
	}}}
	p, err := planIn(t, "prod", stacks.Servers, "cdn", "app.example.com", zone)
	if err != nil {
		t.Fatal(err)
	}
	tls := rulesets(p)["http_config_settings"]
	if tls.ImportID != "" || fmt.Sprint(refs(tls)) != fmt.Sprintf("[llama_%s_strict_tls]", cdn.Tag("llama/prod")) {
		t.Errorf("prod's own untagged TLS rule: import %q, rules %v", tls.ImportID, refs(tls))
	}
}

package tests

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

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

// TestTwoStacksShareOneZone: prod, then dev beside it in the same zone with default config.
// dev takes each entry point into its state by import, keeps prod's rules unchanged and adds
// its own; prod's next run keeps dev's; neither stack's destroy deletes a shared entry point.
func TestTwoStacksShareOneZone(t *testing.T) {
	cases := []struct {
		name         string
		prodPlatform stacks.Platform
		prodStage    string
		devPlatform  stacks.Platform
		devStage     string
		sharedPhases int
	}{
		{"servers beside servers", stacks.Servers, "cdn", stacks.Servers, "cdn", 3},
		{"serverless beside servers", stacks.Servers, "cdn", stacks.Serverless, "serverless", 3},
		{"servers beside serverless", stacks.Serverless, "serverless", stacks.Servers, "sharded", 3},
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
			zone := offline.ZoneAfter(prod)
			dev, err := planIn(t, "dev", c.devPlatform, c.devStage, "dev.example.com", zone)
			if err != nil {
				t.Fatalf("dev beside prod: %v", err)
			}
			prodSets, shared := rulesets(prod), 0
			for phase, d := range rulesets(dev) {
				p, ok := prodSets[phase]
				if !ok {
					if d.ImportID != "" {
						t.Errorf("%s: dev imports %s though prod holds no entry point there", phase, d.ImportID)
					}
					continue
				}
				shared++
				if want := "zone/" + sharedZone + "/" + p.ID; d.ImportID != want || !d.RetainOnDelete || d.ID != p.ID {
					t.Errorf("%s: dev's ruleset imports %q (want %q), retained %v, id %s", phase, d.ImportID, want, d.RetainOnDelete, d.ID)
				}
				if in(d, "name") != in(p, "name") {
					t.Errorf("%s: dev renames the entry point %v → %v (name is ForceNew: a replace)", phase, in(p, "name"), in(d, "name"))
				}
				prodRules, devRules := in(p, "rules").([]any), in(d, "rules").([]any)
				if len(devRules) <= len(prodRules) {
					t.Fatalf("%s: dev writes %d rules over prod's %d: its own are missing", phase, len(devRules), len(prodRules))
				}
				for i, pr := range prodRules {
					if !sameRule(pr.(map[string]any), devRules[i].(map[string]any)) {
						t.Errorf("%s: prod's rule %d changes under dev:\n prod %v\n dev  %v", phase, i, pr, devRules[i])
					}
				}
				devTag, prodTag := cdn.Tag("llama/dev"), cdn.Tag("llama/prod")
				for _, x := range devRules[len(prodRules):] {
					r := x.(map[string]any)
					if !strings.HasPrefix(str(r["ref"]), "llama_"+devTag+"_") || strings.Contains(str(r["expression"]), "app.example.com") {
						t.Errorf("%s: dev's rule %v is not tagged as dev's or reaches prod's hosts", phase, r)
					}
				}
				for _, x := range prodRules {
					if r := x.(map[string]any); !strings.HasPrefix(str(r["ref"]), "llama_"+prodTag+"_") || strings.Contains(str(r["expression"]), "dev.example.com") {
						t.Errorf("%s: prod's rule %v", phase, r)
					}
				}
			}
			if shared < c.sharedPhases {
				t.Errorf("dev shares %d phases with prod, want at least %d", shared, c.sharedPhases)
			}
			if w := strings.Join(dev.Warnings, "\n"); !strings.Contains(w, "pulumi import cloudflare:index/ruleset:Ruleset cdn-") ||
				!strings.Contains(w, "--parent cdn=urn:pulumi:dev::llama::llama:cdn:Edge::cdn") {
				t.Errorf("dev's plan does not say how to take the shared entry points in:\n%s", w)
			}

			// prod's next run, once dev is up: it keeps dev's rules and needs no import.
			again, err := planIn(t, "prod", c.prodPlatform, c.prodStage, "app.example.com", offline.ZoneAfter(dev))
			if err != nil {
				t.Fatalf("prod after dev: %v", err)
			}
			devSets := rulesets(dev)
			for phase, r := range rulesets(again) {
				d, ok := devSets[phase]
				if !ok {
					continue
				}
				kept := map[string]bool{}
				for _, ref := range refs(r) {
					kept[ref] = true
				}
				for _, ref := range refs(d) {
					if !kept[ref] {
						t.Errorf("%s: prod's next run drops rule %s", phase, ref)
					}
				}
				if !r.RetainOnDelete {
					t.Errorf("%s: prod would delete the entry point dev shares on destroy", phase)
				}
			}
			if w := strings.Join(again.Warnings, "\n"); strings.Contains(w, "pulumi import") {
				t.Errorf("prod holds its entry points, yet is told to import them:\n%s", w)
			}
			for phase, r := range rulesets(again) {
				if r.ImportID != "" {
					t.Errorf("%s: prod imports the entry point it holds (%s): the engine would replace it", phase, r.ImportID)
				}
			}

			// dev's second run: it holds the entry points it took in; no import, no warning.
			devAgain, err := planIn(t, "dev", c.devPlatform, c.devStage, "dev.example.com", offline.ZoneAfter(again))
			if err != nil {
				t.Fatalf("dev's second run: %v", err)
			}
			for phase, r := range rulesets(devAgain) {
				if r.ImportID != "" {
					t.Errorf("%s: dev imports again (%s)", phase, r.ImportID)
				}
			}
		})
	}
}

// sameRule compares a rule as written by one stack with the copy another writes back. Secret
// values read "[secret]" in both.
func sameRule(a, b map[string]any) bool {
	for _, k := range []string{"ref", "expression", "action", "description", "actionParameters"} {
		if !reflect.DeepEqual(a[k], b[k]) {
			return false
		}
	}
	return true
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

package cdn

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi-cloudflare/sdk/v5/go/cloudflare"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/offline"
)

// ranges answers Cloudflare's IP ranges invoke with the given lists.
type ranges struct{ v4, v6 []any }

func (r ranges) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	return args.Name, args.Inputs, nil
}

func (r ranges) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return resource.NewPropertyMapFromMap(map[string]any{"ipv4CidrBlocks": r.v4, "ipv6CidrBlocks": r.v6, "cidrBlocks": append(r.v4, r.v6...)}), nil
}

func TestIPRanges(t *testing.T) {
	cases := []struct {
		name    string
		r       ranges
		want    int
		errWord string
	}{
		{"both families", ranges{[]any{"173.245.48.0/20"}, []any{"2400:cb00::/32"}}, 2, ""},
		{"no IPv4", ranges{[]any{}, []any{"2400:cb00::/32"}}, 0, "empty"},
		{"nothing", ranges{[]any{}, []any{}}, 0, "empty"},
	}
	for _, c := range cases {
		var got []string
		err := pulumi.RunErr(func(ctx *pulumi.Context) error {
			var err error
			got, err = IPRanges(ctx)
			return err
		}, pulumi.WithMocks("llama", "dev", c.r))
		if c.errWord != "" {
			if err == nil || !strings.Contains(err.Error(), c.errWord) {
				t.Errorf("%s: err %v, want one saying %q", c.name, err, c.errWord)
			}
			continue
		}
		if err != nil || len(got) != c.want {
			t.Errorf("%s: %v, %v", c.name, got, err)
		}
	}
}

// TestRuleOwner: whose a rule in a zone's entry point is decides whether a stack keeps it,
// rewrites it or refuses the phase.
func TestRuleOwner(t *testing.T) {
	llama := cloudflare.GetRulesetsRuleset{Name: "Llama cache rules"}
	other := cloudflare.GetRulesetsRuleset{Name: "default"}
	tag := Tag("llama/prod")
	cases := []struct {
		name string
		rs   cloudflare.GetRulesetsRuleset
		ref  string
		want string
	}{
		{"tagged", other, "llama_" + tag + "_cache_static", tag},
		{"tagged by another stack", llama, "llama_" + Tag("llama/dev") + "_strict_tls", Tag("llama/dev")},
		{"untagged, in a Llama ruleset", llama, "cache_static", "legacy"},
		{"someone else's", other, "9f2c", ""},
		{"a lookalike ref", other, "llama_cache_static", ""},
	}
	for _, c := range cases {
		if got := ruleOwner(c.rs, cloudflare.GetRulesetsRulesetRule{Ref: c.ref}); got != c.want {
			t.Errorf("%s: owner %q, want %q", c.name, got, c.want)
		}
	}
	if len(tag) != 8 || tag == Tag("llama/dev") {
		t.Errorf("tags %s, %s: eight hex digits, one per stack", tag, Tag("llama/dev"))
	}
}

// TestEdge: a stack's hostnames are proxied, and each rule the edge writes carries the stack's
// tag; an edge without an owner is refused, since its rules could not be told apart.
func TestEdge(t *testing.T) {
	zone := "0123456789abcdef0123456789abcdef"
	hosts := []Host{{Name: "app.example.com", Origin: pulumi.String("lb.example"), Kind: App}}
	p, err := offline.Run(func(ctx *pulumi.Context) (pulumi.Map, error) {
		_, err := NewEdge(ctx, "cdn", &EdgeArgs{ZoneID: zone, Hosts: hosts, Owner: "llama/dev"})
		return nil, err
	}, offline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rec := p.OfType("cloudflare:index/record:Record")[0]; rec.Input("proxied") != true || rec.Input("content") != "lb.example" {
		t.Errorf("record %v", rec.Inputs)
	}
	for _, rs := range p.OfType("cloudflare:index/ruleset:Ruleset") {
		for _, r := range rs.Input("rules").([]any) {
			if ref := r.(map[string]any)["ref"].(string); !strings.HasPrefix(ref, "llama_"+Tag("llama/dev")+"_") {
				t.Errorf("%s: rule %s is not tagged", rs.Name, ref)
			}
		}
	}
	if _, err := offline.Run(func(ctx *pulumi.Context) (pulumi.Map, error) {
		_, err := NewEdge(ctx, "cdn", &EdgeArgs{ZoneID: zone, Hosts: hosts})
		return nil, err
	}, offline.Options{}); err == nil {
		t.Error("an edge without an owner was accepted")
	}
}

package cdn

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-cloudflare/sdk/v5/go/cloudflare"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// One owner per zone. Cloudflare keeps one entry-point ruleset per phase per zone (Ruleset
// Engine, "Entry point ruleset"), written whole: a stack that writes a phase replaces every rule
// in it. Two stacks cannot share one safely: the provider's cloudflare_rulesets data source
// never sets a rule's action_parameters when it reads (terraform-provider-cloudflare v4,
// rulesets data source read function), so a stack could not write another's rules back as
// they were, and two `pulumi up`s would race. So a stack owns the entry points of the phases
// it writes: one that holds a rule this stack did not write is refused, with the two sound
// ways out (a zone per environment, or one edge stack that owns the zone and takes the other
// stacks' origins through stack references).

// ZoneRules is what a zone's entry points hold, by phase.
type ZoneRules map[string]cloudflare.GetRulesetsRuleset

// UsedPhases are the phases the edge writes for the hosts: the only entry points it reads.
func UsedPhases(hosts []Host) []string {
	var proxied []Host
	for _, h := range hosts {
		if !h.DNSOnly {
			proxied = append(proxied, h)
		}
	}
	var out []string
	for _, p := range phases {
		if len(p.rules(proxied)) > 0 {
			out = append(out, p.phase)
		}
	}
	return out
}

// ReadZone lists the zone's entry-point rulesets of the phases the edge writes for the hosts,
// with their rules. Each phase is its own read, filtered by phase, so that the rules of phases
// the edge does not use (WAF, redirects: other token permissions) are never fetched.
func ReadZone(ctx *pulumi.Context, zoneID string, hosts []Host) (ZoneRules, error) {
	out := ZoneRules{}
	for _, phase := range UsedPhases(hosts) {
		r, err := cloudflare.GetRulesets(ctx, &cloudflare.GetRulesetsArgs{
			ZoneId: pulumi.StringRef(zoneID), IncludeRules: pulumi.BoolRef(true),
			Filter: &cloudflare.GetRulesetsFilter{Kind: pulumi.StringRef("zone"), Phase: pulumi.StringRef(phase)},
		})
		if err != nil {
			return nil, fmt.Errorf("reading the %s entry point of Cloudflare zone %s: %w", phase, zoneID, err)
		}
		for _, rs := range r.Rulesets {
			if rs.Kind == "zone" && rs.Phase == phase {
				out[rs.Phase] = rs
			}
		}
	}
	return out, nil
}

// Adoption is an empty entry point that already exists in the zone, which the edge takes into
// its state by import (the provider does not create an entry point the phase already has).
type Adoption struct {
	Phase    string
	Resource string // the ruleset's Pulumi name, under the edge
	ImportID string // zone/<zone>/<ruleset>
}

// Tag is the label a stack's rules carry in their refs: eight hex digits of its name.
func Tag(owner string) string {
	h := sha256.Sum256([]byte(owner))
	return hex.EncodeToString(h[:4])
}

const refPrefix = "llama_"

// ref is the ref a stack's rule takes in the zone: llama_<tag>_<name>.
func ref(owner, name string) string { return refPrefix + Tag(owner) + "_" + name }

// Owns reports whether a rule in a zone, by its ref, is one the owner's edge wrote.
func Owns(owner, ruleRef string) bool { return strings.HasPrefix(ruleRef, ref(owner, "")) }

// ruleOwner says whose a rule in the zone is: a tag, "legacy" for a Llama rule from before
// rules were tagged, or "" for a rule no Llama stack wrote.
func ruleOwner(rs cloudflare.GetRulesetsRuleset, r cloudflare.GetRulesetsRulesetRule) string {
	if rest, ok := strings.CutPrefix(r.Ref, refPrefix); ok {
		if tag, _, ok := strings.Cut(rest, "_"); ok && len(tag) == 8 {
			if _, err := hex.DecodeString(tag); err == nil {
				return tag
			}
		}
	}
	if strings.HasPrefix(rs.Name, "Llama ") {
		return "legacy"
	}
	return ""
}

// zoneWriter writes the edge's entry points.
type zoneWriter struct {
	ctx       *pulumi.Context
	name      string
	parent    pulumi.Resource
	args      *EdgeArgs
	adoptions []Adoption
}

// write declares one phase's entry point with this stack's rules. A phase this stack has no
// rules for is left alone; one that holds rules of anyone else is refused.
func (z *zoneWriter) write(p phase, own []rule) error {
	if len(own) == 0 {
		return nil
	}
	existing, found := z.args.Zone[p.phase]
	if found {
		if err := z.owned(p, existing); err != nil {
			return err
		}
	}
	var rules cloudflare.RulesetRuleArray
	for _, r := range own {
		rules = append(rules, cloudflare.RulesetRuleArgs{
			Ref: pulumi.String(ref(z.args.Owner, r.ref)), Description: pulumi.String(z.args.Owner + ": " + r.description),
			Expression: pulumi.String(r.expression), Action: pulumi.String(r.action), ActionParameters: r.params,
			Enabled: pulumi.Bool(true),
		})
	}
	name, opts := p.name, []pulumi.ResourceOption{pulumi.Parent(z.parent)}
	if found {
		name = existing.Name // ForceNew: a new name would replace the entry point
	}
	// An existing entry point with no rules is not in this stack's state yet (one holding its
	// rules is, and is updated): the provider will not create the phase's entry point again, so
	// it is taken in by import.
	if found && len(existing.Rules) == 0 {
		id := "zone/" + z.args.ZoneID + "/" + existing.Id
		opts = append(opts, pulumi.Import(pulumi.ID(id)))
		z.adoptions = append(z.adoptions, Adoption{Phase: p.phase, Resource: z.name + "-" + p.suffix, ImportID: id})
	}
	if _, err := cloudflare.NewRuleset(z.ctx, z.name+"-"+p.suffix, &cloudflare.RulesetArgs{
		ZoneId: pulumi.String(z.args.ZoneID), Name: pulumi.String(name), Kind: pulumi.String("zone"),
		Phase: pulumi.String(p.phase), Description: pulumi.String(p.description), Rules: rules,
	}, opts...); err != nil {
		return fmt.Errorf("%s ruleset: %w", p.phase, err)
	}
	return nil
}

// owned refuses an entry point that holds a rule this stack did not write: writing the phase
// would delete it.
func (z *zoneWriter) owned(p phase, rs cloudflare.GetRulesetsRuleset) error {
	tag := Tag(z.args.Owner)
	for _, r := range rs.Rules {
		o := ruleOwner(rs, r)
		if o == tag || (o == "legacy" && mentionsAny(r.Expression, z.args.Hosts)) {
			continue // this stack's own, tagged or from before rules were tagged
		}
		whose := "no Llama stack wrote"
		if o != "" {
			whose = "another Llama stack wrote (tag " + o + ")"
		}
		return fmt.Errorf("Cloudflare zone %s: the %s entry point (ruleset %s) holds a rule %s (%q: %s). "+
			"A zone has one rule list per phase and this stack would replace it, deleting that rule: one stack owns a zone's entry points. "+
			"Give this stack a zone of its own (a zone per environment: dev.example.com as its own Cloudflare zone, named with llama:cloudflareZone), "+
			"or run one edge stack that owns the zone and serves the other stacks' origins (pulumi stack references); "+
			"a rule written by hand belongs in another phase or an account ruleset",
			z.args.ZoneID, p.phase, rs.Id, whose, deref(r.Description), r.Expression)
	}
	return nil
}

// mentionsAny reports whether an expression names one of the hosts.
func mentionsAny(expr string, hosts []Host) bool {
	for _, h := range hosts {
		if strings.Contains(expr, fmt.Sprintf("%q", h.Name)) {
			return true
		}
	}
	return false
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

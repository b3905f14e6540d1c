package cdn

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi-cloudflare/sdk/v5/go/cloudflare"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Sharing a zone. Cloudflare keeps one entry-point ruleset per phase per zone (Ruleset
// Engine, "Entry point ruleset"), and the provider refuses to create one where the phase
// already holds rules ("A similar configuration with rules already exists",
// terraform-provider-cloudflare v4 internal/framework/service/rulesets/resource.go, Create).
// So stacks in one zone share each phase's entry point: every rule carries its stack's tag
// in its ref, and a stack writes the rules of the other Llama stacks it finds there back
// unchanged beside its own. Rules no Llama stack wrote are refused: the stack cannot carry
// settings it does not model, and writing the phase without them would delete them.

// ZoneRules is what a zone's entry points hold, by phase.
type ZoneRules map[string]cloudflare.GetRulesetsRuleset

// ReadZone lists the zone's entry-point rulesets and their rules.
func ReadZone(ctx *pulumi.Context, zoneID string) (ZoneRules, error) {
	r, err := cloudflare.GetRulesets(ctx, &cloudflare.GetRulesetsArgs{
		ZoneId: pulumi.StringRef(zoneID), IncludeRules: pulumi.BoolRef(true),
		Filter: &cloudflare.GetRulesetsFilter{Kind: pulumi.StringRef("zone")},
	})
	if err != nil {
		return nil, fmt.Errorf("reading the rulesets of Cloudflare zone %s: %w", zoneID, err)
	}
	out := ZoneRules{}
	for _, rs := range r.Rulesets {
		if rs.Kind == "zone" {
			out[rs.Phase] = rs
		}
	}
	return out, nil
}

// Adoption is an entry point that holds other stacks' rules and none of this stack's: this
// stack takes it in and writes it from now on, keeping theirs. Pulumi takes an existing
// resource into a stack only by an import whose inputs match it exactly, so before the
// stack's first `pulumi up` the entry point needs `pulumi import` once.
type Adoption struct {
	Phase     string
	Resource  string   // the ruleset's Pulumi name, under the edge
	ImportID  string   // zone/<zone>/<ruleset>, as `pulumi import` takes it
	SharedBy  []string // the tags of the other stacks whose rules it holds ("legacy": untagged)
	RulesKept int      // how many of their rules it keeps
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

// write declares one phase's entry point: the rules of other Llama stacks found there, then
// this stack's. A phase this stack has no rules for is left alone.
func (z *zoneWriter) write(p phase, own []rule) error {
	if len(own) == 0 {
		return nil
	}
	tag := Tag(z.args.Owner)
	existing, found := z.args.Zone[p.phase]
	kept, shared, holdsOwn, err := z.keep(p, existing, tag)
	if err != nil {
		return err
	}
	rules := kept
	for _, r := range own {
		rules = append(rules, cloudflare.RulesetRuleArgs{
			Ref: pulumi.String(ref(z.args.Owner, r.ref)), Description: pulumi.String(z.args.Owner + ": " + r.description),
			Expression: pulumi.String(r.expression), Action: pulumi.String(r.action), ActionParameters: r.params,
			Enabled: pulumi.Bool(true),
		})
	}
	name, opts := p.name, []pulumi.ResourceOption{pulumi.Parent(z.parent)}
	// An entry point left empty with a description is not one the provider replaces on
	// create: it is taken in like a shared one.
	emptyNamed := found && len(existing.Rules) == 0 && deref(existing.Description) != ""
	if found && (holdsOwn || len(shared) > 0 || emptyNamed) {
		name = existing.Name // ForceNew: a new name would replace the entry point
	}
	// An entry point holding this stack's rules is in its state already, and is updated:
	// Pulumi would import it again (and so replace it) under an import ID other than the
	// one it was taken in with. One holding none is taken in by import.
	if found && !holdsOwn && (len(shared) > 0 || emptyNamed) {
		id := "zone/" + z.args.ZoneID + "/" + existing.Id
		opts = append(opts, pulumi.Import(pulumi.ID(id)))
		z.adoptions = append(z.adoptions, Adoption{Phase: p.phase, Resource: z.name + "-" + p.suffix, ImportID: id,
			SharedBy: shared, RulesKept: len(kept)})
	}
	// Destroying this stack must not delete the other stacks' rules: a shared entry point stays.
	if len(shared) > 0 {
		opts = append(opts, pulumi.RetainOnDelete(true))
	}
	if _, err := cloudflare.NewRuleset(z.ctx, z.name+"-"+p.suffix, &cloudflare.RulesetArgs{
		ZoneId: pulumi.String(z.args.ZoneID), Name: pulumi.String(name), Kind: pulumi.String("zone"),
		Phase: pulumi.String(p.phase), Description: pulumi.String(p.description), Rules: rules,
	}, opts...); err != nil {
		return fmt.Errorf("%s ruleset: %w", p.phase, err)
	}
	return nil
}

// keep returns the rules of other Llama stacks in an entry point, to write back unchanged,
// and the stacks they belong to; a rule no Llama stack wrote is refused.
func (z *zoneWriter) keep(p phase, rs cloudflare.GetRulesetsRuleset, tag string) (cloudflare.RulesetRuleArray, []string, bool, error) {
	var kept cloudflare.RulesetRuleArray
	owners := map[string]bool{}
	holdsOwn := false
	for _, r := range rs.Rules {
		switch o := ruleOwner(rs, r); {
		case o == tag:
			holdsOwn = true
		case o == "legacy" && mentionsAny(r.Expression, z.args.Hosts):
			holdsOwn = true // this stack's own rules, written before rules were tagged
		case o == "":
			return nil, nil, false, fmt.Errorf("Cloudflare zone %s: the %s entry point (ruleset %s) holds a rule no Llama stack wrote (%q: %s). "+
				"A zone has one rule list per phase and this stack would replace it, deleting that rule. "+
				"Move the rule out of the phase (into a Cloudflare account ruleset, or rewrite it in the dashboard's rules for another phase), "+
				"or give this stack's llama:domain a zone of its own",
				z.args.ZoneID, p.phase, rs.Id, deref(r.Description), r.Expression)
		default:
			owners[o] = true
			kept = append(kept, keptRule(r))
		}
	}
	var shared []string
	for o := range owners {
		shared = append(shared, o)
	}
	sort.Strings(shared)
	return kept, shared, holdsOwn, nil
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

// keptRule writes another stack's rule back as Cloudflare lists it. Llama rules use the
// action parameters below and no others; header values stay secret in this stack's state.
func keptRule(r cloudflare.GetRulesetsRulesetRule) cloudflare.RulesetRuleArgs {
	out := cloudflare.RulesetRuleArgs{
		Ref: pulumi.String(r.Ref), Description: pulumi.StringPtrFromPtr(r.Description),
		Expression: pulumi.String(r.Expression), Action: pulumi.StringPtrFromPtr(r.Action),
		Enabled: pulumi.BoolPtrFromPtr(r.Enabled),
	}
	p := r.ActionParameters
	if p == nil {
		return out
	}
	a := cloudflare.RulesetRuleActionParametersArgs{
		Cache: pulumi.BoolPtrFromPtr(p.Cache), Ssl: pulumi.StringPtrFromPtr(p.Ssl),
		AutomaticHttpsRewrites: pulumi.BoolPtrFromPtr(p.AutomaticHttpsRewrites), HostHeader: pulumi.StringPtrFromPtr(p.HostHeader),
	}
	if t := p.EdgeTtl; t != nil {
		a.EdgeTtl = cloudflare.RulesetRuleActionParametersEdgeTtlArgs{Mode: pulumi.String(t.Mode), Default: pulumi.IntPtrFromPtr(t.Default)}
	}
	if t := p.BrowserTtl; t != nil {
		a.BrowserTtl = cloudflare.RulesetRuleActionParametersBrowserTtlArgs{Mode: pulumi.String(t.Mode), Default: pulumi.IntPtrFromPtr(t.Default)}
	}
	if u := p.Uri; u != nil && u.Path != nil {
		a.Uri = cloudflare.RulesetRuleActionParametersUriArgs{Path: cloudflare.RulesetRuleActionParametersUriPathArgs{
			Value: pulumi.StringPtrFromPtr(u.Path.Value), Expression: pulumi.StringPtrFromPtr(u.Path.Expression)}}
	}
	var headers cloudflare.RulesetRuleActionParametersHeaderArray
	for _, h := range p.Headers {
		v := pulumi.StringPtrFromPtr(h.Value)
		if v != nil {
			v = pulumi.ToSecret(v).(pulumi.StringPtrOutput)
		}
		headers = append(headers, cloudflare.RulesetRuleActionParametersHeaderArgs{
			Name: pulumi.StringPtrFromPtr(h.Name), Operation: pulumi.StringPtrFromPtr(h.Operation),
			Value: v, Expression: pulumi.StringPtrFromPtr(h.Expression)})
	}
	if len(headers) > 0 {
		a.Headers = headers
	}
	out.ActionParameters = a
	return out
}

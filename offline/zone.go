package offline

import (
	"fmt"
	"sort"
)

// ZoneAfter returns what the Cloudflare zones hold once a plan is applied: the zones the plan
// started from, with each of its entry-point rulesets in place of the phase's old one. Feed it
// to another stack's run to plan two stacks in one zone.
//
// Each entry point also says which stacks hold it in their state ("heldBy": project/stack to
// the import ID it was taken in with, "" when the stack created it): the part of Pulumi's
// state the provider rules need.
func ZoneAfter(p *Plan) map[string][]map[string]any {
	self := p.Project + "/" + p.Stack
	byPhase := map[string]map[string]map[string]any{}
	put := func(zone string, rs map[string]any) {
		if byPhase[zone] == nil {
			byPhase[zone] = map[string]map[string]any{}
		}
		byPhase[zone][fmt.Sprint(rs["phase"])] = rs
	}
	for zone, sets := range p.Zones {
		for _, rs := range sets {
			put(zone, rs)
		}
	}
	for _, r := range p.Resources {
		if r.Type != "cloudflare:index/ruleset:Ruleset" || r.Inputs["kind"] != "zone" {
			continue
		}
		var rules []any
		rs, _ := r.Inputs["rules"].([]any)
		for i, x := range rs {
			rule, _ := x.(map[string]any)
			out := map[string]any{"id": fmt.Sprintf("%s%04d", r.ID[:28], i), "version": "1"}
			for k, v := range rule {
				out[k] = v
			}
			rules = append(rules, out)
		}
		zone := fmt.Sprint(r.Inputs["zoneId"])
		held := map[string]any{}
		if old := entryPoint(p.Zones, zone, fmt.Sprint(r.Inputs["phase"])); old != nil {
			if h, ok := old["heldBy"].(map[string]any); ok {
				for k, v := range h {
					held[k] = v
				}
			}
		}
		if _, ok := held[self]; !ok {
			held[self] = r.ImportID
		}
		put(zone, map[string]any{"id": r.ID, "kind": "zone", "name": r.Inputs["name"], "phase": r.Inputs["phase"],
			"description": r.Inputs["description"], "version": "1", "rules": rules, "heldBy": held})
	}
	out := map[string][]map[string]any{}
	for zone, phases := range byPhase {
		keys := make([]string, 0, len(phases))
		for k := range phases {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out[zone] = append(out[zone], phases[k])
		}
	}
	return out
}

// entryPoint returns a zone's entry point of a phase, or nil.
func entryPoint(zones map[string][]map[string]any, zone, phase string) map[string]any {
	for _, rs := range zones[zone] {
		if rs["phase"] == phase {
			return rs
		}
	}
	return nil
}

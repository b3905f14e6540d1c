// Package preview answers, offline, what a stage is and what a promotion will do: it plans a
// stage with the offline engine, renders the graph as a tree or a Mermaid diagram, and diffs two
// plans the way `pulumi preview --diff` would.
package preview

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/release"
	"github.com/llama-stages/llama/offline"
	"github.com/llama-stages/llama/stacks"
)

// Request names a stage to plan.
type Request struct {
	Dir       string            // the project directory (Pulumi.yaml); default "."
	Stack     string            // default dev
	Stage     string            // overrides llama:stage when set
	Platform  string            // overrides llama:platform when set
	Overrides map[string]string // -c key=value
	DryRun    bool              // run as a preview (unknowns stay unknown)
	// Defaults plans a new stack named Stack with Pulumi.yaml's defaults alone, reading no
	// Pulumi.<stack>.yaml.
	Defaults bool
	// Zones are what Cloudflare zones hold before the run, by zone ID (offline.ZoneAfter);
	// nil means empty zones.
	Zones map[string][]map[string]any
	// Zone is what the stack's own zone (llama:cloudflareZoneId) holds before the run: its
	// entry-point rulesets with their rules (ReadZoneFile).
	Zone []map[string]any
}

// Plan runs the program offline for the requested stage.
func Plan(req Request) (*offline.Plan, error) {
	var err error
	if req.Dir, req.Stack, err = offline.Locate(req.Dir, req.Stack); err != nil {
		return nil, err
	}
	over := map[string]string{}
	for k, v := range req.Overrides {
		over[k] = v
	}
	if req.Stage != "" {
		over["llama:stage"] = req.Stage
	}
	if req.Platform != "" {
		over["llama:platform"] = req.Platform
	}
	file := req.Stack
	if req.Defaults {
		file = ""
	}
	cfg, set, err := offline.StackConfig(req.Dir, file, over)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	if err := stacks.CheckKeys(keys); err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	var warnings []string
	if c, err := stacks.ParseConfig(func(k string) (string, bool) { v, ok := cfg[k]; return v, ok }); err == nil {
		warnings = stacks.Unused(c, set)
	}
	if !req.Defaults {
		// A stack file that sets neither plans on Pulumi.yaml's defaults, silently: say so.
		for _, k := range []string{"llama:stage", "aws:region"} {
			if !slices.Contains(set, k) {
				warnings = append(warnings, fmt.Sprintf("Pulumi.%s.yaml sets no %s: planning with %q, the default (pulumi config set %s <value> --stack %s)", req.Stack, k, cfg[k], k, req.Stack))
			}
		}
	}
	zones := req.Zones
	if len(req.Zone) > 0 {
		// A copy: the request's map stays as the caller gave it.
		zones = maps.Clone(req.Zones)
		if zones == nil {
			zones = map[string][]map[string]any{}
		}
		zones[cfg["llama:cloudflareZoneId"]] = heldBy(req.Zone, offline.Project+"/"+req.Stack)
	}
	plan, err := offline.Run(func(ctx *pulumi.Context) (pulumi.Map, error) {
		return stacks.Build(ctx, stacks.Options{Build: release.Placeholder, Warn: func(w string) { warnings = append(warnings, w) }})
	}, offline.Options{Stack: req.Stack, Config: cfg, DryRun: req.DryRun, Zones: zones})
	if err != nil {
		return nil, err
	}
	plan.Stage, plan.Platform = cfg["llama:stage"], cfg["llama:platform"]
	plan.Config, plan.Set = cfg, set
	plan.Warnings = append(plan.Warnings, warnings...)
	return plan, nil
}

// Tree renders the plan as a tree of components and their resources, then counts.
func Tree(p *offline.Plan) string {
	children := map[string][]*offline.Resource{}
	byURN := map[string]*offline.Resource{}
	for _, r := range p.Resources {
		byURN[r.URN] = r
	}
	var roots []*offline.Resource
	for _, r := range p.Resources {
		if _, ok := byURN[r.Parent]; ok {
			children[r.Parent] = append(children[r.Parent], r)
		} else {
			roots = append(roots, r)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%s: stage %s on the %s ladder\n", p.Project, p.Stack, p.Stage, p.Platform)
	var walk func(r *offline.Resource, depth int)
	walk = func(r *offline.Resource, depth int) {
		fmt.Fprintf(&b, "%s%s %s%s\n", strings.Repeat("  ", depth), shortType(r.Type), r.Name, annotate(r))
		kids := children[r.URN]
		sort.SliceStable(kids, func(i, j int) bool { return !kids[i].Custom && kids[j].Custom })
		for _, c := range kids {
			walk(c, depth+1)
		}
	}
	sort.SliceStable(roots, func(i, j int) bool { return roots[i].Name < roots[j].Name })
	for _, r := range roots {
		walk(r, 0)
	}
	counts := map[string]int{}
	custom, stateful := 0, 0
	for _, r := range p.Resources {
		if r.Custom {
			custom++
			counts[r.Type]++
		}
		if r.Stateful {
			stateful++
		}
	}
	for _, l := range []stacks.Layer{stacks.Box} {
		if stacks.Retired(stacks.Platform(p.Platform), p.Stage, l) {
			fmt.Fprintf(&b, "\nThe %s is retired at this stage: its instance, address and rules are gone; its stateful parts stay, retained on delete:\n", l)
			for _, r := range p.Resources {
				if r.Stateful && r.RetainOnDelete {
					fmt.Fprintf(&b, "  %s %s\n", shortType(r.Type), r.Name)
				}
			}
		}
	}
	fmt.Fprintf(&b, "\n%d resources (%d components), %d stateful\n", len(p.Resources), len(p.Resources)-custom, stateful)
	types := make([]string, 0, len(counts))
	for t := range counts {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		fmt.Fprintf(&b, "  %3d %s\n", counts[t], t)
	}
	b.WriteString(outputsText(p))
	return b.String()
}

func shortType(t string) string {
	parts := strings.Split(t, ":")
	return parts[len(parts)-1]
}

func annotate(r *offline.Resource) string {
	var bits []string
	for _, k := range offline.KindOf(r.Type).Labels {
		if v, ok := r.Inputs[k]; ok && v != nil {
			bits = append(bits, fmt.Sprintf("%s=%v", k, v))
		}
	}
	var flags []string
	if r.Stateful {
		flags = append(flags, "stateful")
	}
	flags = append(flags, keeping(r)...)
	out := ""
	if len(bits) > 0 {
		out += " (" + strings.Join(bits, ", ") + ")"
	}
	if len(flags) > 0 {
		out += " [" + strings.Join(flags, ", ") + "]"
	}
	return out
}

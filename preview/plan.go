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

// Plan runs the program offline for the requested stage. The program parses the config once
// and reports it resolved; the plan keeps it (Plan.Resolved, read through Stage).
func Plan(req Request) (*offline.Plan, error) {
	cfg, set, err := req.config()
	if err != nil {
		return nil, err
	}
	var resolved *stacks.Config
	var warnings []string
	plan, err := offline.Run(func(ctx *pulumi.Context) (pulumi.Map, error) {
		return stacks.Build(ctx, stacks.Options{Build: release.Placeholder,
			Loaded: func(c *stacks.Config) { resolved = c },
			Warn:   func(w string) { warnings = append(warnings, w) }})
	}, offline.Options{Stack: req.Stack, Config: cfg, DryRun: req.DryRun, Zones: req.zones(cfg)})
	if err != nil {
		return nil, err
	}
	plan.Config, plan.Set, plan.Resolved = cfg, set, resolved
	plan.Stage, plan.Platform = resolved.Stage, string(resolved.Platform)
	plan.Layers, plan.Retired = layerNames(resolved.Layers), layerNames(resolved.Retired)
	plan.Warnings = slices.Concat(plan.Warnings, stacks.Unused(resolved, set), req.unsetWarnings(cfg, set), warnings)
	return plan, nil
}

// config settles the project and the stack and reads the stack's config with the request's
// overrides; the keys' names are checked before the program runs.
func (req *Request) config() (cfg map[string]string, set []string, err error) {
	if req.Dir, req.Stack, err = offline.Locate(req.Dir, req.Stack); err != nil {
		return nil, nil, err
	}
	over := maps.Clone(req.Overrides)
	if over == nil {
		over = map[string]string{}
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
	if cfg, set, err = offline.StackConfig(req.Dir, file, over); err != nil {
		return nil, nil, err
	}
	if err := stacks.CheckKeys(slices.Collect(maps.Keys(cfg))); err != nil {
		return nil, nil, fmt.Errorf("invalid configuration: %w", err)
	}
	return cfg, set, nil
}

// unsetWarnings: a stack file that sets neither the stage nor the region plans on
// Pulumi.yaml's defaults, silently: say so.
func (req *Request) unsetWarnings(cfg map[string]string, set []string) []string {
	if req.Defaults {
		return nil
	}
	var out []string
	for _, k := range []string{"llama:stage", "aws:region"} {
		if !slices.Contains(set, k) {
			out = append(out, fmt.Sprintf("Pulumi.%s.yaml sets no %s: planning with %q, the default (pulumi config set %s <value> --stack %s)", req.Stack, k, cfg[k], k, req.Stack))
		}
	}
	return out
}

// zones are what the Cloudflare zones hold before the run: the request's, with the stack's
// own zone as --zone read it.
func (req *Request) zones(cfg map[string]string) map[string][]map[string]any {
	if len(req.Zone) == 0 {
		return req.Zones
	}
	// A copy: the request's map stays as the caller gave it.
	zones := maps.Clone(req.Zones)
	if zones == nil {
		zones = map[string][]map[string]any{}
	}
	zones[cfg["llama:cloudflareZoneId"]] = heldBy(req.Zone, offline.Project+"/"+req.Stack)
	return zones
}

// layerNames lists a set of layers by name, sorted.
func layerNames(ls stacks.Layers) []string {
	out := []string{}
	for l, on := range ls {
		if on {
			out = append(out, string(l))
		}
	}
	sort.Strings(out)
	return out
}

// Stage is the configuration a plan's program resolved; a plan built by hand, which has none,
// reads as a stage without layers.
func Stage(p *offline.Plan) *stacks.Config {
	if c, ok := p.Resolved.(*stacks.Config); ok && c != nil {
		return c
	}
	return &stacks.Config{Stage: p.Stage, Platform: stacks.Platform(p.Platform), Layers: stacks.Layers{}, Retired: stacks.Layers{}}
}

// Tree renders the plan as a tree of components and their resources, then counts.
func Tree(p *offline.Plan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%s: stage %s on the %s ladder\n", p.Project, p.Stack, p.Stage, p.Platform)
	writeTree(&b, p)
	if Stage(p).Retired[stacks.Box] {
		fmt.Fprintf(&b, "\nThe %s is retired at this stage: its instance, address and rules are gone; its stateful parts stay, retained on delete:\n", stacks.Box)
		for _, r := range p.Resources {
			if r.Stateful && r.RetainOnDelete {
				fmt.Fprintf(&b, "  %s %s\n", shortType(r.Type), r.Name)
			}
		}
	}
	writeCounts(&b, p)
	b.WriteString(outputsText(p))
	return b.String()
}

// writeTree writes the resources under their parents, components first, roots by name.
func writeTree(b *strings.Builder, p *offline.Plan) {
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
	var walk func(r *offline.Resource, depth int)
	walk = func(r *offline.Resource, depth int) {
		fmt.Fprintf(b, "%s%s %s%s\n", strings.Repeat("  ", depth), shortType(r.Type), r.Name, annotate(r))
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
}

// writeCounts writes how many resources, components and stateful resources the plan has, and
// how many of each type.
func writeCounts(b *strings.Builder, p *offline.Plan) {
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
	fmt.Fprintf(b, "\n%d resources (%d components), %d stateful\n", len(p.Resources), len(p.Resources)-custom, stateful)
	for _, t := range slices.Sorted(maps.Keys(counts)) {
		fmt.Fprintf(b, "  %3d %s\n", counts[t], t)
	}
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

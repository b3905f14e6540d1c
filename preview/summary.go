package preview

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/llama-stages/llama/offline"
	"github.com/llama-stages/llama/stacks"
)

// Summary renders a plan for one screen: counts by component (families of like components,
// such as 64 shards, folded into one line), the resources that hold data and those the
// internet reaches, and the stack outputs, with the offline engine's made-up values marked as
// placeholders. Tree shows every resource.
func Summary(p *offline.Plan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%s: stage %s on the %s ladder, %s\n", p.Project, p.Stack, p.Stage, p.Platform, p.Region)
	families(&b, p)
	fold(&b, p, "Holds data", func(r *offline.Resource) (bool, string) {
		note := ""
		if flags := keeping(r); len(flags) > 0 {
			note = " [" + strings.Join(flags, ", ") + "]"
		}
		return r.Stateful, note
	})
	fold(&b, p, "Reached from the internet", reached)
	clusters, instances := 0, 0
	for _, r := range p.Resources {
		switch r.Type {
		case "aws:rds/cluster:Cluster":
			clusters++
		case "aws:rds/instance:Instance", "aws:rds/clusterInstance:ClusterInstance":
			instances++
		}
	}
	if clusters+instances > 0 {
		q := Stage(p).Quotas
		fmt.Fprintf(&b, "\nRDS quotas: the stage needs %d DB clusters and %d DB instances of the region's (declared: %d and %d, RDS's default %d; declare raised ones with llama:dbClusterQuota and llama:dbInstanceQuota).\n",
			clusters, instances, q.DBClusters, q.DBInstances, stacks.DefaultRDSQuota)
	}
	if Stage(p).Retired[stacks.Box] {
		b.WriteString("\nThe box is retired at this stage: its instance, address and rules are gone; its data volume and credentials stay.\n")
	}
	b.WriteString(outputsText(p))
	b.WriteString("\n--full lists every resource; --json gives the whole graph.\n")
	return b.String()
}

// families writes one line per family of top-level components (64 shards are one line):
// how many resources they hold, and how many of those hold data.
func families(b *strings.Builder, p *offline.Plan) {
	byURN := map[string]*offline.Resource{}
	for _, r := range p.Resources {
		byURN[r.URN] = r
	}
	top := func(r *offline.Resource) *offline.Resource {
		for byURN[r.Parent] != nil {
			r = byURN[r.Parent]
		}
		return r
	}
	type family struct {
		typ, name        string
		components       map[string]bool
		resources, state int
	}
	fams := map[string]*family{}
	var order []string
	stateful := 0
	for _, r := range p.Resources {
		t := top(r)
		k := t.Type + " " + stem(t.Name)
		if fams[k] == nil {
			fams[k] = &family{typ: t.Type, name: stem(t.Name), components: map[string]bool{}}
			order = append(order, k)
		}
		f := fams[k]
		f.components[t.Name] = true
		if r.Custom {
			f.resources++
		}
		if r.Stateful {
			f.state++
			stateful++
		}
	}
	sort.Strings(order)
	fmt.Fprintf(b, "%d resources, %d stateful\n\n", len(p.Resources), stateful)
	tw := table(b)
	fmt.Fprintf(tw, "  component\ttype\tresources\tstateful\n")
	for _, k := range order {
		f := fams[k]
		name := f.name
		if n := len(f.components); n > 1 {
			name = fmt.Sprintf("%s (x%d)", f.name, n)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\n", name, shortType(f.typ), f.resources, f.state)
	}
	tw.Flush()
}

// fold writes the resources keep picks under a title, one line per family with a count.
func fold(b *strings.Builder, p *offline.Plan, title string, keep func(*offline.Resource) (bool, string)) {
	type line struct {
		text  string
		count int
	}
	var lines []*line
	seen := map[string]*line{}
	for _, r := range p.Resources {
		ok, note := keep(r)
		if !ok {
			continue
		}
		k := shortType(r.Type) + " " + stem(r.Name) + note
		if seen[k] == nil {
			seen[k] = &line{text: k}
			lines = append(lines, seen[k])
		}
		seen[k].count++
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s:\n", title)
	for _, l := range lines {
		if l.count > 1 {
			fmt.Fprintf(b, "  %s (x%d)\n", l.text, l.count)
		} else {
			fmt.Fprintf(b, "  %s\n", strings.ReplaceAll(l.text, "<i>", "0"))
		}
	}
}

// reached picks what the internet reaches: public endpoints, proxied records, and rules that
// admit a port from anywhere.
func reached(r *offline.Resource) (bool, string) {
	if offline.KindOf(r.Type).Public && (r.Type != "cloudflare:index/record:Record" || r.Inputs["proxied"] == true) {
		return true, ""
	}
	if r.Type == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule" {
		if c, _ := r.Inputs["cidrIpv4"].(string); c == "0.0.0.0/0" {
			return true, fmt.Sprintf(" (port %v from anywhere)", r.Inputs["fromPort"])
		}
		if c, _ := r.Inputs["cidrIpv6"].(string); c == "::/0" {
			return true, fmt.Sprintf(" (port %v from anywhere)", r.Inputs["fromPort"])
		}
	}
	return false, ""
}

// outputsText lists the stack outputs, marking the values the offline engine made up.
func outputsText(p *offline.Plan) string {
	made := placeholders(p)
	keys := slices.Sorted(maps.Keys(p.Outputs))
	var b strings.Builder
	b.WriteString("\nOutputs (~ marks a placeholder the offline engine made up; pulumi up gives the real value):\n")
	tw := table(&b)
	for _, k := range keys {
		v := brief(p.Outputs[k])
		mark := " "
		if isPlaceholder(p.Outputs[k], made) {
			mark = "~"
		}
		fmt.Fprintf(tw, "  %s %s\t%s\n", mark, k, v)
	}
	tw.Flush()
	return b.String()
}

// placeholders are the values the offline engine computed: every id, and every output a
// resource's inputs did not give.
func placeholders(p *offline.Plan) []string {
	var out []string
	for _, r := range p.Resources {
		given := map[string]bool{}
		for _, v := range r.Inputs {
			if s, ok := v.(string); ok {
				given[s] = true
			}
		}
		for _, v := range append([]any{r.ID}, values(r.Outputs)...) {
			if s, ok := v.(string); ok && len(s) >= 6 && s != "[secret]" && !given[s] {
				out = append(out, s)
			}
		}
	}
	return out
}

func isPlaceholder(v any, made []string) bool {
	s, ok := v.(string)
	if !ok {
		b, _ := json.Marshal(v)
		s = string(b)
	}
	for _, m := range made {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

func values(m map[string]any) []any {
	out := make([]any, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// keeping lists what keeps a resource: protection, retention on delete.
func keeping(r *offline.Resource) []string {
	var out []string
	if r.Protect {
		out = append(out, "protected")
	}
	if r.RetainOnDelete {
		out = append(out, "retained on delete")
	}
	return out
}

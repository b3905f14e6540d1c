package preview

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/llama-stages/llama/offline"
	"github.com/llama-stages/llama/stacks"
)

// kindOf names the kind of change between two plans and the rungs it skips.
func kindOf(a, b *offline.Plan) (string, []string) {
	skipped := []string{}
	if a.Platform != b.Platform {
		return "migration between ladders", skipped
	}
	sa, sb := Stage(a), Stage(b)
	ra, okA := stacks.Find(sa.Platform, sa.Stage)
	rb, okB := stacks.Find(sb.Platform, sb.Stage)
	if !okA || !okB {
		return "change", skipped
	}
	kind := "promotion"
	lo, hi := ra.Order, rb.Order
	switch {
	case ra.Order == rb.Order:
		return "day-2 config change", skipped
	case ra.Order > rb.Order:
		kind, lo, hi = "demotion", rb.Order, ra.Order
	}
	for _, r := range stacks.Rungs(sb.Platform) {
		if r.Order > lo && r.Order < hi {
			skipped = append(skipped, r.Stage)
		}
	}
	return kind, skipped
}

func (r *Result) header() string {
	h := fmt.Sprintf("%s %s -> %s", strings.ToUpper(r.Kind[:1])+r.Kind[1:], r.From, r.To)
	if r.Stack != "" {
		// Which stack, in which region: the first thing an operator must not get wrong.
		h = fmt.Sprintf("%s %s (%s): %s -> %s", strings.ToUpper(r.Kind[:1])+r.Kind[1:], r.Stack, r.Region, r.From, r.To)
	}
	if len(r.Skipped) > 0 {
		h += fmt.Sprintf(" (skips %s: their steps are listed below, in order)", strings.Join(r.Skipped, ", "))
	}
	return h + "\n"
}

// stepsText lists the steps in order, each with the rung that brings it.
func (r *Result) stepsText() string {
	if len(r.Steps) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\nWhat the infrastructure cannot do for you, in order:\n")
	for i, s := range r.Steps {
		rung := ""
		if s.Rung != "" {
			rung = "[" + s.Rung
			for _, sk := range r.Skipped {
				if sk == s.Rung {
					rung += ", skipped"
				}
			}
			rung += "] "
		}
		if s.When != "" {
			rung += "(" + s.When + ") "
		}
		fmt.Fprintf(&b, "  %d. %s%s\n", i+1, rung, s.Text)
	}
	return b.String()
}

// PathChange is one changed leaf of a structured input.
type PathChange struct {
	Path string `json:"path"`
	Old  any    `json:"old"`
	New  any    `json:"new"`
	// Unknown marks a new value that comes from a resource this change creates or replaces:
	// the offline engine made it up, and pulumi up knows it only after apply.
	Unknown bool `json:"unknown,omitempty"`
}

// Paths lists the changed leaves between two values of an input; a string holding JSON (a
// policy, a dashboard body) is compared as the document it holds. A plain value that changed
// has no paths: its old and new value say it all.
func Paths(key string, a, b any) []PathChange {
	da, okA := structured(a)
	db, okB := structured(b)
	if !okA && !okB {
		return nil
	}
	if !okA {
		da = a
	}
	if !okB {
		db = b
	}
	var out []PathChange
	walk(key, da, db, &out)
	return out
}

func structured(v any) (any, bool) {
	switch x := v.(type) {
	case map[string]any, []any:
		return x, true
	case string:
		t := strings.TrimSpace(x)
		if strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
			var doc any
			if json.Unmarshal([]byte(t), &doc) == nil {
				return doc, true
			}
		}
	}
	return nil, false
}

func walk(path string, a, b any, out *[]PathChange) {
	if reflect.DeepEqual(a, b) {
		return
	}
	ma, okA := a.(map[string]any)
	mb, okB := b.(map[string]any)
	if okA && okB {
		keys := map[string]bool{}
		for k := range ma {
			keys[k] = true
		}
		for k := range mb {
			keys[k] = true
		}
		names := make([]string, 0, len(keys))
		for k := range keys {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			walk(path+"."+k, ma[k], mb[k], out)
		}
		return
	}
	la, okA := a.([]any)
	lb, okB := b.([]any)
	if okA && okB {
		for i := 0; i < max(len(la), len(lb)); i++ {
			var x, y any
			if i < len(la) {
				x = la[i]
			}
			if i < len(lb) {
				y = lb[i]
			}
			walk(fmt.Sprintf("%s[%d]", path, i), x, y, out)
		}
		return
	}
	*out = append(*out, PathChange{Path: path, Old: a, New: b})
}

// maxPaths is how many changed paths the text shows per resource.
const maxPaths = 12

// writeChanges prints a changed resource's inputs: plain ones old -> new, structured ones
// path by path.
func writeChanges(b *strings.Builder, c Change) {
	shown := map[string]bool{}
	if c.Type == "aws:cloudwatch/dashboard:Dashboard" {
		// A dashboard's body is hundreds of JSON paths that say little one by one: one line.
		if line := dashboardLine(c.Paths); line != "" {
			fmt.Fprintf(b, "        %s\n", line)
			shown["dashboardBody"] = true
		}
		c.Paths = nil
	}
	for i, p := range c.Paths {
		top, _, _ := strings.Cut(strings.SplitN(p.Path, "[", 2)[0], ".")
		shown[top] = true
		if i == maxPaths {
			fmt.Fprintf(b, "        ... and %d more changed paths (--json lists them all)\n", len(c.Paths)-maxPaths)
			break
		}
		to := brief(p.New)
		if p.Unknown {
			to = "(known after apply)"
		}
		fmt.Fprintf(b, "        %s: %s -> %s%s\n", p.Path, brief(p.Old), to, noteOf(c, top))
	}
	for _, k := range c.Keys {
		if !shown[k] {
			fmt.Fprintf(b, "        %s: %s -> %s%s\n", k, brief(c.Old[k]), brief(c.New[k]), noteOf(c, k))
		}
	}
}

// dashboardLine folds a dashboard body's changed paths into one line: how many widgets come,
// go and change.
func dashboardLine(paths []PathChange) string {
	added, removed, changed := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, p := range paths {
		w, ok := strings.CutPrefix(p.Path, "dashboardBody.widgets[")
		if !ok {
			changed[p.Path] = true
			continue
		}
		w, _, _ = strings.Cut(w, "]")
		switch {
		case p.Old == nil:
			added[w] = true
		case p.New == nil && !p.Unknown:
			removed[w] = true
		default:
			changed[w] = true
		}
	}
	for w := range added {
		delete(changed, w)
	}
	if len(added)+len(removed)+len(changed) == 0 {
		return ""
	}
	return fmt.Sprintf("dashboardBody: %d widget(s) added, %d removed, %d changed (--json lists the paths)", len(added), len(removed), len(changed))
}

// noteOf is the change's note, at the input it explains.
func noteOf(c Change, key string) string {
	if c.Note != "" && key == "multiAz" {
		return "  (" + c.Note + ")"
	}
	return ""
}

var reNumber = regexp.MustCompile(`[0-9]+`)

// stem names a family of resources: shard-12-cluster and shard-3-cluster are shard-<i>-cluster.
func stem(name string) string { return reNumber.ReplaceAllString(name, "<i>") }

// matters reports whether a created resource deserves a line of its own in a summary: it
// holds data or the internet reaches it.
func matters(c Change) bool { return c.Stateful || offline.KindOf(c.Type).Public }

// Summary renders the change for one screen: its kind, counts by component, and the
// resources that matter (what changes, replaces, goes or holds data, and what the internet
// reaches), families of like resources folded into one line; --full shows every resource.
func (r *Result) Summary() string {
	var b strings.Builder
	b.WriteString(r.header())
	r.byComponent(&b)
	all := func(Change) bool { return true }
	if len(r.Security) > 0 {
		b.WriteString("\nSecurity (what the internet newly reaches, and access granted or taken away):\n")
		for _, l := range r.Security {
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	b.WriteString("\nWhat matters:\n")
	changeLines(&b, "+", r.Creates, false, matters)
	changeLines(&b, "~", r.Updates, true, all)
	changeLines(&b, "+-", r.Replaces, true, all)
	changeLines(&b, "-", r.Deletes, false, all)
	changeLines(&b, "~", r.Retained, false, all)
	if len(r.Kept) > 0 {
		b.WriteString("\nKept, holding data:\n")
		changeLines(&b, "=", r.Kept, false, all)
	}
	fmt.Fprintf(&b, "\n%d to create, %d to update, %d to replace, %d to delete, %d retained, %d unchanged (--full lists every resource)\n",
		len(r.Creates), len(r.Updates), len(r.Replaces), len(r.Deletes), len(r.Retained), r.Unchanged)
	b.WriteString(r.lossText())
	b.WriteString(r.stepsText())
	return b.String()
}

// byComponent writes the counts of each kind of change per component family.
func (r *Result) byComponent(b *strings.Builder) {
	type counts struct{ create, update, replace, delete, retain int }
	byComp := map[string]*counts{}
	for _, kind := range []struct {
		cs  []Change
		add func(*counts)
	}{
		{r.Creates, func(n *counts) { n.create++ }}, {r.Updates, func(n *counts) { n.update++ }},
		{r.Replaces, func(n *counts) { n.replace++ }}, {r.Deletes, func(n *counts) { n.delete++ }},
		{r.Retained, func(n *counts) { n.retain++ }},
	} {
		for _, c := range kind.cs {
			comp := c.Component
			if comp == "" {
				comp = "(stack)"
			}
			if byComp[stem(comp)] == nil {
				byComp[stem(comp)] = &counts{}
			}
			kind.add(byComp[stem(comp)])
		}
	}
	comps := slices.Sorted(maps.Keys(byComp))
	if len(comps) > 0 {
		b.WriteString("\nBy component (+ create, ~ update, +- replace, - delete, retained):\n")
		tw := table(b)
		for _, c := range comps {
			n := byComp[c]
			fmt.Fprintf(tw, "  %s\t+%d\t~%d\t+-%d\t-%d\t%d\n", c, n.create, n.update, n.replace, n.delete, n.retain)
		}
		tw.Flush()
	}
}

// changeLines writes one line per family of the changes keep picks, marked sym; with details,
// a lone change's changed inputs under it.
func changeLines(b *strings.Builder, sym string, cs []Change, details bool, keep func(Change) bool) {
	type fam struct {
		c     Change
		count int
	}
	var order []string
	fams := map[string]*fam{}
	for _, c := range cs {
		if !keep(c) {
			continue
		}
		k := c.Type + " " + stem(c.Name)
		if fams[k] == nil {
			fams[k] = &fam{c: c}
			order = append(order, k)
		}
		fams[k].count++
	}
	for _, k := range order {
		f := fams[k]
		name := f.c.Name
		if f.count > 1 {
			name = fmt.Sprintf("%s (x%d)", stem(f.c.Name), f.count)
		}
		note := ""
		if f.c.Stateful {
			note = " [holds data]"
		}
		if f.c.Protected && (sym == "-" || sym == "+-") {
			note += " [protected: pulumi up refuses until unprotected]"
		}
		fmt.Fprintf(b, "  %s %s %s%s\n", sym, shortType(f.c.Type), name, note)
		if details && f.count == 1 {
			writeChanges(b, f.c)
		}
	}
}

// lossText says what AWS would refuse, whether the change loses data, and whether it takes
// traffic away.
func (r *Result) lossText() string {
	var b strings.Builder
	if len(r.Refused) > 0 {
		fmt.Fprintf(&b, "\nREFUSED: AWS would refuse %d change(s) at pulumi up:\n", len(r.Refused))
		for _, why := range r.Refused {
			fmt.Fprintf(&b, "  ! %s\n", why)
		}
	}
	if len(r.Outage) > 0 {
		fmt.Fprintf(&b, "\nOUTAGE: %d resource(s) clients reach the app through would be deleted or replaced:\n", len(r.Outage))
		for _, c := range r.Outage {
			fmt.Fprintf(&b, "  ! %s %s\n", shortType(c.Type), c.Name)
		}
	}
	if len(r.DataLoss) == 0 {
		return b.String() + "\nNo resource that holds data is deleted or replaced.\n"
	}
	fmt.Fprintf(&b, "\nDATA LOSS: %d resource(s) holding data would be deleted or replaced:\n", len(r.DataLoss))
	for _, c := range r.DataLoss {
		fmt.Fprintf(&b, "  ! %s %s\n", shortType(c.Type), c.Name)
	}
	return b.String()
}

package preview

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/llama-stages/llama/offline"
)

// Change is one resource in a diff.
type Change struct {
	URN       string         `json:"urn"`
	Type      string         `json:"type"`
	Name      string         `json:"name"`
	Component string         `json:"component"`
	Keys      []string       `json:"keys,omitempty"` // changed inputs (updates and replaces)
	Old       map[string]any `json:"old,omitempty"`
	New       map[string]any `json:"new,omitempty"`
	// Paths are the changed leaves of structured inputs (policies, dashboard bodies, rules),
	// each with its old and new value.
	Paths     []PathChange `json:"paths,omitempty"`
	Stateful  bool         `json:"stateful"`
	Protected bool         `json:"protected"`
	Retained  bool         `json:"retained"`
}

// SchemaVersion is the version of the diff's JSON: 2 made steps objects and added kind,
// skipped and the changed paths.
const SchemaVersion = 2

// Result is what a change of stage or config does.
type Result struct {
	SchemaVersion int    `json:"schemaVersion"`
	From          string `json:"from"`
	To            string `json:"to"`
	// Kind is promotion, demotion, day-2 config change, or migration between ladders.
	Kind string `json:"kind"`
	// Skipped are the rungs a promotion or demotion passes over, in order.
	Skipped  []string `json:"skipped"`
	Creates  []Change `json:"creates"`
	Updates  []Change `json:"updates"`
	Replaces []Change `json:"replaces"`
	Deletes  []Change `json:"deletes"`
	// Retained are stateful resources retained on delete: they leave the stack, the data stays.
	Retained []Change `json:"retained"`
	// DataLoss are the stateful deletes and replaces: the data goes with them.
	DataLoss []Change `json:"dataLoss"`
	// Kept are the stateful resources the promotion keeps, unchanged or updated in place.
	Kept []Change `json:"kept"`
	// Steps are what the infrastructure cannot do by itself, in order.
	Steps []Step `json:"steps"`
	// Unchanged counts the resources the promotion leaves alone.
	Unchanged int `json:"unchanged"`
}

// Diff compares the plan of the stage a stack is on with the plan of the stage it moves to.
func Diff(a, b *offline.Plan) *Result {
	r := &Result{SchemaVersion: SchemaVersion, From: a.Platform + "/" + a.Stage, To: b.Platform + "/" + b.Stage,
		Creates: []Change{}, Updates: []Change{}, Replaces: []Change{}, Deletes: []Change{}, Retained: []Change{}, DataLoss: []Change{}, Kept: []Change{}}
	r.Kind, r.Skipped = kindOf(a, b)
	old := index(a)
	now := index(b)
	comp := components(a, b)
	change := func(res *offline.Resource) Change {
		return Change{URN: res.URN, Type: res.Type, Name: res.Name, Component: comp[res.Parent],
			Stateful: res.Stateful, Protected: res.Protect, Retained: res.RetainOnDelete}
	}
	for _, res := range b.Resources {
		prev, ok := old[res.URN]
		if !ok {
			r.Creates = append(r.Creates, change(res))
			continue
		}
		keys := changedKeys(prev.Inputs, res.Inputs, res.IgnoreChanges)
		replaced := Replaces(res.Type, prev.Inputs, res.Inputs, res.IgnoreChanges...)
		if res.Stateful && !replaced {
			r.Kept = append(r.Kept, change(res))
		}
		if len(keys) == 0 {
			r.Unchanged++
			continue
		}
		c := change(res)
		c.Keys, c.Old, c.New = keys, map[string]any{}, map[string]any{}
		for _, k := range keys {
			c.Old[k], c.New[k] = prev.Inputs[k], res.Inputs[k]
			c.Paths = append(c.Paths, Paths(k, prev.Inputs[k], res.Inputs[k])...)
		}
		c.Stateful = c.Stateful || prev.Stateful
		if replaced {
			r.Replaces = append(r.Replaces, c)
			switch {
			case c.Stateful && prev.RetainOnDelete:
				// The old one is retained: its data stays in the account, outside the stack.
				r.Retained = append(r.Retained, c)
			case c.Stateful:
				r.DataLoss = append(r.DataLoss, c)
			}
		} else {
			r.Updates = append(r.Updates, c)
		}
	}
	for _, res := range a.Resources {
		if _, ok := now[res.URN]; ok {
			continue
		}
		c := change(res)
		switch {
		case res.Stateful && res.RetainOnDelete:
			r.Retained = append(r.Retained, c)
		case res.Stateful:
			r.Deletes = append(r.Deletes, c)
			r.DataLoss = append(r.DataLoss, c)
		default:
			r.Deletes = append(r.Deletes, c)
		}
	}
	r.Steps = Steps(a, b)
	for _, c := range r.DataLoss {
		step := fmt.Sprintf("Move the data out of %s %s (component %s) before this change: it would be deleted with it.", shortType(c.Type), c.Name, c.Component)
		if c.Protected {
			step += " It is protected, so pulumi up refuses until it is unprotected on purpose."
		}
		r.Steps = append(r.Steps, Step{ID: "data-loss/" + c.Name, Text: step})
	}
	return r
}

func index(p *offline.Plan) map[string]*offline.Resource {
	m := make(map[string]*offline.Resource, len(p.Resources))
	for _, r := range p.Resources {
		m[r.URN] = r
	}
	return m
}

// components maps every component URN to the name of the top-level component it sits in,
// for grouping: a bucket inside the fleet groups with the fleet.
func components(ps ...*offline.Plan) map[string]string {
	parent, name := map[string]string{}, map[string]string{}
	for _, p := range ps {
		for _, r := range p.Resources {
			parent[r.URN] = r.Parent
			if !r.Custom {
				name[r.URN] = r.Name
			}
		}
	}
	m := map[string]string{}
	for urn := range name {
		top := urn
		for name[parent[top]] != "" {
			top = parent[top]
		}
		m[urn] = name[top]
	}
	return m
}

// changedKeys lists the top-level inputs that differ, less those the resource ignores.
func changedKeys(a, b map[string]any, ignore []string) []string {
	var keys []string
	seen := map[string]bool{}
	for k := range a {
		seen[k] = true
	}
	for k := range b {
		seen[k] = true
	}
	for _, k := range ignore {
		delete(seen, k)
	}
	for k := range seen {
		if !reflect.DeepEqual(a[k], b[k]) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// Replaces reports whether changing a resource's inputs from a to b needs a new resource: one
// of its ForceNew inputs (or nested input, as a.b) changed, and is not among those ignored, or
// a condition of the type's (ReplacesWhen) holds. A ForceNew input the program stops setting
// replaces too (a DynamoDB table's sort key), unless the provider computes it when unset
// (Computed: an RDS instance's availabilityZone once it is Multi-AZ), and keeps the value.
func Replaces(typ string, a, b map[string]any, ignore ...string) bool {
	for _, key := range ForceNew[typ] {
		top, sub, nested := strings.Cut(key, ".")
		if contains(ignore, top) {
			continue
		}
		va, vb := a[top], b[top]
		if nested {
			va, vb = field(va, sub), field(vb, sub)
		}
		if vb == nil && contains(Computed[typ], key) {
			continue
		}
		if !reflect.DeepEqual(va, vb) {
			return true
		}
	}
	if when := ReplacesWhen[typ]; when != nil {
		return when(a, b)
	}
	return false
}

func field(v any, k string) any {
	if m, ok := v.(map[string]any); ok {
		return m[k]
	}
	return nil
}

// Text renders the diff like `pulumi preview --diff`, grouped by component.
func (r *Result) Text() string {
	var b strings.Builder
	b.WriteString(r.header())
	section := func(sym, title string, cs []Change, details bool) {
		if len(cs) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n%s (%d)\n", title, len(cs))
		groups := map[string][]Change{}
		var order []string
		for _, c := range cs {
			if _, ok := groups[c.Component]; !ok {
				order = append(order, c.Component)
			}
			groups[c.Component] = append(groups[c.Component], c)
		}
		sort.Strings(order)
		for _, g := range order {
			name := g
			if name == "" {
				name = "(stack)"
			}
			fmt.Fprintf(&b, "  %s\n", name)
			for _, c := range groups[g] {
				note := ""
				if c.Stateful {
					note = " [holds data]"
				}
				if c.Protected && (sym == "-" || sym == "+-") {
					note += " [protected: pulumi up refuses until unprotected]"
				}
				fmt.Fprintf(&b, "    %s %s %s%s\n", sym, shortType(c.Type), c.Name, note)
				if details {
					writeChanges(&b, c)
				}
			}
		}
	}
	section("+", "create", r.Creates, false)
	section("~", "update", r.Updates, true)
	section("+-", "replace", r.Replaces, true)
	section("-", "delete", r.Deletes, false)
	section("~", "retained, leaves the stack (the data stays in the account)", r.Retained, false)
	section("=", "kept: holds data, stays where it is", r.Kept, false)
	fmt.Fprintf(&b, "\n%d to create, %d to update, %d to replace, %d to delete, %d retained, %d unchanged\n",
		len(r.Creates), len(r.Updates), len(r.Replaces), len(r.Deletes), len(r.Retained), r.Unchanged)
	b.WriteString(r.lossText())
	b.WriteString(r.stepsText())
	return b.String()
}

func brief(v any) string {
	b, _ := json.Marshal(v)
	s := string(b)
	if len(s) > 100 {
		s = s[:97] + "..."
	}
	return s
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

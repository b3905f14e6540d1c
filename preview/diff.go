package preview

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
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
	Paths []PathChange `json:"paths,omitempty"`
	// Note says what drove a changed input that no key of its own changed (llama:protect
	// turning Multi-AZ on or off while llama:dbMultiAz is unset).
	Note string `json:"note,omitempty"`
	// Cause says why a resource whose own inputs did not change is replaced or updated: a
	// resource it refers to is replaced, or the region changed.
	Cause     string `json:"cause,omitempty"`
	Stateful  bool   `json:"stateful"`
	Protected bool   `json:"protected"`
	Retained  bool   `json:"retained"`
}

// SchemaVersion is the version of the diff's JSON: 2 made steps objects and added kind,
// skipped and the changed paths; 3 made cost.traffic an object.
const SchemaVersion = 3

// Result is what a change of stage or config does.
type Result struct {
	SchemaVersion int    `json:"schemaVersion"`
	Stack         string `json:"stack"`
	Region        string `json:"region"`
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
	// Refused are the changes AWS would refuse at pulumi up, each with why: the command exits 1.
	Refused []string `json:"refused"`
	// Outage are the deletes and replaces that take traffic away from a published hostname or
	// endpoint: its DNS record, the load balancer or its listeners, the API's domain or stage.
	Outage []Change `json:"outage"`
	// Kept are the stateful resources the promotion keeps, unchanged or updated in place.
	Kept []Change `json:"kept"`
	// Steps are what the infrastructure cannot do by itself, in order.
	Steps []Step `json:"steps"`
	// Security are the changes a reviewer reads first, as cdk diff's security tables: what the
	// internet newly reaches (public ingress, addresses, load balancers, proxied records), and
	// every change to an IAM policy or a bucket policy.
	Security []string `json:"security"`
	// Unchanged counts the resources the promotion leaves alone.
	Unchanged int `json:"unchanged"`
	// Warnings are what the target's plan found worth saying but not refusing (plain HTTP,
	// keys the stage does not use), as llama plan reports them.
	Warnings []string `json:"warnings"`
}

// Diff compares the plan of the stage a stack is on with the plan of the stage it moves to.
func Diff(a, b *offline.Plan) *Result {
	r := &Result{SchemaVersion: SchemaVersion, Stack: b.Stack, Region: b.Region, From: a.Platform + "/" + a.Stage, To: b.Platform + "/" + b.Stage,
		Creates: []Change{}, Updates: []Change{}, Replaces: []Change{}, Deletes: []Change{}, Retained: []Change{}, DataLoss: []Change{}, Outage: []Change{}, Refused: []string{}, Kept: []Change{},
		Warnings: append([]string{}, b.Warnings...)}
	r.Kind, r.Skipped = kindOf(a, b)
	old, now, comp := index(a), index(b), components(a, b)
	change := func(res *offline.Resource) Change {
		return Change{URN: res.URN, Type: res.Type, Name: res.Name, Component: comp[res.Parent],
			Stateful: res.Stateful, Protected: res.Protect, Retained: res.RetainOnDelete}
	}
	cascade := cascades(a, b)
	for _, res := range b.Resources {
		if prev, ok := old[res.URN]; ok {
			r.compare(prev, res, change(res), cascade)
		} else {
			r.Creates = append(r.Creates, change(res))
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
	r.Outage = outages(slices.Concat(r.Deletes, r.Replaces))
	r.Refused = refused(r.Updates)
	drivenBy(r.Updates, a, b)
	r.Steps = Steps(a, b)
	r.Steps = append(r.Steps, userDataSteps(r.Updates)...)
	r.Security = security(r, now, old)
	markUnknown(r, now)
	for _, c := range r.DataLoss {
		step := fmt.Sprintf("Move the data out of %s %s (component %s) before this change: it would be deleted with it.", shortType(c.Type), c.Name, c.Component)
		if c.Protected {
			step += " It is protected, so pulumi up refuses until it is unprotected on purpose."
		}
		r.Steps = append(r.Steps, Step{ID: "data-loss/" + c.Name, Text: step})
	}
	return r
}

// refused lists the updates RDS refuses: shrinking an instance's storage ("You can't reduce the
// amount of storage for a DB instance", RDS User Guide, "Increasing DB instance storage
// capacity") and going down a major version (RDS upgrades engines, never downgrades: restore a
// snapshot into a new instance instead, RDS User Guide, "Upgrading the PostgreSQL DB engine").
func refused(updates []Change) []string {
	out := []string{}
	for _, c := range updates {
		if c.Type != "aws:rds/instance:Instance" {
			continue
		}
		if o, n := number(c.Old["allocatedStorage"]), number(c.New["allocatedStorage"]); n < o {
			out = append(out, fmt.Sprintf("%s: storage %g GB -> %g GB: RDS cannot shrink an instance's storage (llama:dbStorageGb only grows; move the data to a new, smaller instance instead)", c.Name, o, n))
		}
		o, _ := c.Old["engineVersion"].(string)
		n, _ := c.New["engineVersion"].(string)
		if major(n) > 0 && major(n) < major(o) {
			out = append(out, fmt.Sprintf("%s: PostgreSQL %s -> %s: RDS upgrades major versions but never downgrades them (restore a snapshot into a new instance of the older version instead)", c.Name, o, n))
		}
	}
	return out
}

func number(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case int:
		return float64(n)
	case int64:
		return float64(n)
	}
	return 0
}

// major is a PostgreSQL version's major number: 16 of "16" or "16.6"; 0 when there is none.
func major(v string) int {
	m, _, _ := strings.Cut(v, ".")
	n, _ := strconv.Atoi(m)
	return n
}

// drivenBy notes, at the changed input, a key that drives another: Multi-AZ follows
// llama:protect while llama:dbMultiAz is unset, so turning protection off also drops the
// standby.
func drivenBy(updates []Change, a, b *offline.Plan) {
	pa, pb := Stage(a).Protect, Stage(b).Protect
	if pa == pb || slices.Contains(b.Set, "llama:dbMultiAz") {
		return
	}
	for i, c := range updates {
		if c.Type == "aws:rds/instance:Instance" && slices.Contains(c.Keys, "multiAz") {
			updates[i].Note = fmt.Sprintf("multiAz follows llama:protect (%t -> %t) while llama:dbMultiAz is unset: set llama:dbMultiAz to keep the standby as it is",
				pa, pb)
		}
	}
}

// outages are the changes that take traffic away from a published name. A certificate's
// validation record serves no client.
func outages(changes []Change) []Change {
	out := []Change{}
	for _, c := range changes {
		if offline.KindOf(c.Type).Serves && !strings.HasPrefix(c.Name, "certificate-validation") {
			out = append(out, c)
		}
	}
	return out
}

// compare files a resource both plans hold as unchanged, updated or replaced (its own inputs,
// or a replaced resource it refers to), keeping the stateful ones in view.
func (r *Result) compare(prev, res *offline.Resource, c Change, cascade cascade) {
	keys := changedKeys(prev.Inputs, res.Inputs, res.IgnoreChanges)
	replaced := Replaces(res.Type, prev.Inputs, res.Inputs, res.IgnoreChanges...)
	why, touched := cascade.replaced[res.URN], cascade.touched[res.URN]
	replaced = replaced || why != ""
	if why == "" {
		why = touched.cause
	}
	for _, k := range touched.keys {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	if res.Stateful && !replaced {
		r.Kept = append(r.Kept, c)
	}
	if len(keys) == 0 && !replaced {
		r.Unchanged++
		return
	}
	c.Keys, c.Old, c.New, c.Cause = keys, map[string]any{}, map[string]any{}, why
	for _, k := range keys {
		c.Old[k], c.New[k] = prev.Inputs[k], res.Inputs[k]
		c.Paths = append(c.Paths, Paths(k, prev.Inputs[k], res.Inputs[k])...)
	}
	c.Stateful = c.Stateful || prev.Stateful
	if !replaced {
		r.Updates = append(r.Updates, c)
		return
	}
	r.Replaces = append(r.Replaces, c)
	switch {
	case c.Stateful && prev.RetainOnDelete:
		// The old one is retained: its data stays in the account, outside the stack.
		r.Retained = append(r.Retained, c)
	case c.Stateful:
		r.DataLoss = append(r.DataLoss, c)
	}
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
	for _, key := range offline.KindOf(typ).ForceNew {
		top, sub, nested := strings.Cut(key, ".")
		if slices.Contains(ignore, top) {
			continue
		}
		va, vb := a[top], b[top]
		if nested {
			va, vb = field(va, sub), field(vb, sub)
		}
		if vb == nil && slices.Contains(offline.KindOf(typ).Computed, key) {
			continue
		}
		if !reflect.DeepEqual(va, vb) {
			return true
		}
	}
	if when := offline.KindOf(typ).ReplacesWhen; when != nil {
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

// cascade is what replacing resources does to the resources that refer to them.
type cascade struct {
	replaced map[string]string // URN: why it is replaced though its inputs may not change
	touched  map[string]touch  // URN: inputs that refer to a replaced resource (updates)
}

type touch struct {
	keys  []string
	cause string
}

// cascades models identity: a replaced resource gets a new id, ARN and endpoints, so every
// input that refers to it changes at deployment, though both offline plans show the same
// value. A ForceNew input that refers to a replaced resource replaces its resource too (a
// security group's vpcId when the VPC goes; AWS cannot move a DB subnet group to another VPC),
// and so on, to a fixpoint; other such inputs update. A change of region replaces everything.
func cascades(a, b *offline.Plan) cascade {
	c := cascade{replaced: map[string]string{}, touched: map[string]touch{}}
	old, now := index(a), index(b)
	if a.Region != "" && b.Region != "" && a.Region != b.Region {
		for urn, res := range now {
			if _, ok := old[urn]; ok && res.Custom {
				c.replaced[urn] = fmt.Sprintf("the region changes from %s to %s: every resource is created anew there", a.Region, b.Region)
			}
		}
		return c
	}
	replaced := map[string]bool{}
	for urn, res := range now {
		if prev, ok := old[urn]; ok && res.Custom && Replaces(res.Type, prev.Inputs, res.Inputs, res.IgnoreChanges...) {
			replaced[urn] = true
		}
	}
	for changed := true; changed; {
		changed = c.spread(old, now, replaced)
	}
	return c
}

// spread takes one step of the cascade: every resource that refers to a replaced one is
// replaced too where the input is ForceNew (or follows its referent), else touched. It reports
// whether it replaced any.
func (c *cascade) spread(old, now map[string]*offline.Resource, replaced map[string]bool) bool {
	changed := false
	tokens := map[string]string{} // identity value: the replaced resource's name
	for urn := range replaced {
		for _, v := range identity(old[urn]) {
			tokens[v] = old[urn].Name
		}
	}
	for urn, res := range now {
		prev, ok := old[urn]
		if !ok || replaced[urn] || !res.Custom {
			continue
		}
		keys, cause := referring(prev, res, tokens)
		if len(keys) == 0 {
			continue
		}
		if forced := forcedKey(res.Type, keys); forced != "" {
			replaced[urn], changed = true, true
			c.replaced[urn] = fmt.Sprintf("its %s refers to %s, which is replaced", forced, refersTo(prev.Inputs[forced], tokens))
			delete(c.touched, urn)
			continue
		}
		c.touched[urn] = touch{keys: keys, cause: "refers to " + cause + ", which is replaced"}
	}
	return changed
}

// referring lists, sorted, the inputs of a resource that refer to a replaced resource (its
// ignored inputs aside), and names one such referent.
func referring(prev, res *offline.Resource, tokens map[string]string) (keys []string, cause string) {
	for k, v := range prev.Inputs {
		if slices.Contains(res.IgnoreChanges, k) {
			continue
		}
		if by := refersTo(v, tokens); by != "" {
			keys, cause = append(keys, k), by
		}
	}
	sort.Strings(keys)
	return keys, cause
}

// forcedKey is the last of keys whose change replaces a resource of the type: a ForceNew
// input, or one that follows its referent; "" when none.
func forcedKey(typ string, keys []string) string {
	forced := ""
	kind := offline.KindOf(typ)
	for _, k := range keys {
		for _, f := range slices.Concat(kind.ForceNew, kind.FollowsReferent) {
			if top, _, _ := strings.Cut(f, "."); top == k {
				forced = k
			}
		}
	}
	return forced
}

// identityOutputs are the outputs that name one resource to others.
var identityOutputs = []string{"arn", "arnSuffix", "endpoint", "address", "readerEndpoint", "primaryEndpointAddress",
	"readerEndpointAddress", "bucketRegionalDomainName", "bucketDomainName", "dnsName", "invokeArn", "executionArn",
	"apiEndpoint", "publicIp", "privateIp", "publicDns", "keyId", "clusterResourceId", "resourceId", "dbiResourceId"}

// identity is what names a resource to others: its id and the identity outputs the provider
// computes (ARN, endpoints, addresses), not what its inputs gave.
func identity(r *offline.Resource) []string {
	given := map[string]bool{}
	for _, v := range r.Inputs {
		if s, ok := v.(string); ok {
			given[s] = true
		}
	}
	out := []string{r.ID}
	// Databases are referred to by the identifiers the program gives them.
	if k := offline.KindOf(r.Type).NamedBy; k != "" {
		if s, ok := r.Inputs[k].(string); ok && s != "" {
			out = append(out, s)
		}
	}
	for _, k := range identityOutputs {
		if s, ok := r.Outputs[k].(string); ok && len(s) >= 8 && s != "[secret]" && !given[s] {
			out = append(out, s)
		}
	}
	return out
}

// refersTo names the replaced resource a value refers to, or "": a string equal to one of its
// identities, or holding one of its ARNs or endpoints (a policy document, a dashboard body).
func refersTo(v any, tokens map[string]string) string {
	best := ""
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			for t, name := range tokens {
				if (x == t || (len(t) >= 20 && strings.ContainsAny(t, ":.") && strings.Contains(x, t))) && (best == "" || name < best) {
					best = name
				}
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return best
}

// userDataSteps warn of an instance whose user data changes in place: AWS applies it by
// stopping and starting the instance (minutes without the box; its Elastic IP stays), and
// cloud-init runs a boot script on the first boot only, so the new script does not run
// (terraform-provider-aws, aws_instance: "Updates to this field will trigger a stop/start of
// the EC2 instance"; cloud-init, "per-instance" modules).
func userDataSteps(updates []Change) []Step {
	var out []Step
	for _, c := range updates {
		if c.Type == "aws:ec2/instance:Instance" && slices.Contains(c.Keys, "userData") {
			out = append(out, Step{ID: "user-data/" + c.Name, When: WhenUp, Text: fmt.Sprintf(
				"%s's boot script changes: pulumi up stops and starts the instance to apply it (minutes without it; its address and data volume stay), and cloud-init does not run the new script on that boot. Apply the change on the instance by hand (Session Manager), or replace the instance on purpose once its data has moved.", c.Name)})
		}
	}
	return out
}

// policyTypes are the resources that grant or take away access.
var policyTypes = map[string]bool{
	"aws:iam/rolePolicy:RolePolicy": true, "aws:iam/policy:Policy": true, "aws:iam/rolePolicyAttachment:RolePolicyAttachment": true,
	"aws:iam/role:Role": true, "aws:s3/bucketPolicy:BucketPolicy": true, "aws:kms/key:Key": true,
	"aws:lambda/permission:Permission": true, "aws:secretsmanager/secretPolicy:SecretPolicy": true,
}

// security lists the security-relevant changes, newly public first.
func security(r *Result, now, old map[string]*offline.Resource) []string {
	out := []string{}
	for _, c := range r.Creates {
		if res := now[c.URN]; res != nil {
			if ok, detail := reached(res); ok {
				out = append(out, fmt.Sprintf("+ reached from the internet: %s %s%s", shortType(c.Type), c.Name, detail))
			}
		}
	}
	for _, c := range r.Replaces {
		if res := now[c.URN]; res != nil {
			if ok, detail := reached(res); ok {
				out = append(out, fmt.Sprintf("+- reached from the internet, replaced: %s %s%s", shortType(c.Type), c.Name, detail))
			}
		}
	}
	for _, set := range []struct {
		sym string
		cs  []Change
	}{{"+", r.Creates}, {"~", r.Updates}, {"+-", r.Replaces}, {"-", r.Deletes}} {
		for _, c := range set.cs {
			if policyTypes[c.Type] {
				line := fmt.Sprintf("%s %s %s", set.sym, shortType(c.Type), c.Name)
				if len(c.Keys) > 0 {
					line += " (" + strings.Join(c.Keys, ", ") + ")"
				}
				out = append(out, line)
			}
		}
	}
	return out
}

// markUnknown marks the changed values that come from what this change creates or replaces:
// their offline values are made up (a replaced resource's made-up ID can even equal the old
// one), and pulumi up learns them only when it applies.
func markUnknown(r *Result, now map[string]*offline.Resource) {
	var made []string
	for _, cs := range [][]Change{r.Creates, r.Replaces} {
		for _, c := range cs {
			res := now[c.URN]
			if res == nil {
				continue
			}
			for _, v := range append([]any{res.ID}, values(res.Outputs)...) {
				if s, ok := v.(string); ok && len(s) >= 6 && s != "[secret]" {
					made = append(made, s)
				}
			}
		}
	}
	if len(made) == 0 {
		return
	}
	for _, cs := range [][]Change{r.Updates, r.Replaces} {
		for i := range cs {
			for j := range cs[i].Paths {
				if isPlaceholder(cs[i].Paths[j].New, made) {
					cs[i].Paths[j].Unknown = true
				}
			}
		}
	}
}

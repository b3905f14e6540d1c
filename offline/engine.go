// Package offline runs the Llama program in-process under the Pulumi SDK's mock engine and records
// the resource graph it registers. It is stricter than the SDK's mocks: a duplicate URN, an invoke
// nobody mocked, or an input left empty by an output nobody gave a value all fail the run.
package offline

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"github.com/llama-stages/llama/contract"
)

// Project is the Pulumi project name: the config namespace and the URNs' project.
const Project = contract.Project

// Resource is one registered resource as the offline engine saw it.
type Resource struct {
	URN            string         `json:"urn"`
	Type           string         `json:"type"`
	Name           string         `json:"name"`
	ID             string         `json:"id"`
	Parent         string         `json:"parent"`
	Custom         bool           `json:"custom"`
	Inputs         map[string]any `json:"inputs"`
	Outputs        map[string]any `json:"outputs"`
	Protect        bool           `json:"protect"`
	RetainOnDelete bool           `json:"retainOnDelete"`
	DependsOn      []string       `json:"dependsOn"`
	Aliases        []string       `json:"aliases"`
	Stateful       bool           `json:"stateful"`
	// ImportID is the existing resource the engine takes into the stack (import option).
	ImportID string `json:"importId,omitempty"`

	// IgnoreChanges are the inputs whose changes the engine ignores (ignoreChanges option).
	IgnoreChanges []string `json:"-"`
	// BeforeDelete names the resource hooks the engine runs before deleting it.
	BeforeDelete []string `json:"-"`
	// From maps each input fed by other resources' outputs to those resources' URNs: the
	// resource waits for them.
	From map[string][]string `json:"-"`
}

// Input reads a nested input: r.Input("metadataOptions", "httpTokens"); nil when absent.
func (r *Resource) Input(path ...string) any {
	var v any = r.Inputs
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// Plan is the recorded graph of one run.
type Plan struct {
	// SchemaVersion is the version of this JSON (docs/json.md): a field that changes meaning
	// or goes raises it; a new field does not.
	SchemaVersion int    `json:"schemaVersion"`
	Project       string `json:"project"`
	Stack         string `json:"stack"`
	Stage         string `json:"stage"`
	Platform      string `json:"platform"`
	Region        string `json:"region"`
	// Layers are the building blocks the stage has, and Retired those a rung at or below it
	// retired (their stateful parts stay), as the program resolved them.
	Layers    []string       `json:"layers"`
	Retired   []string       `json:"retired"`
	Resources []*Resource    `json:"resources"`
	Outputs   map[string]any `json:"outputs"`
	// Warnings are what the plan found worth saying but not refusing: config keys the stage
	// does not use yet.
	Warnings []string `json:"warnings"`

	// Zones are what the Cloudflare zones held before the run (Options.Zones).
	Zones map[string][]map[string]any `json:"-"`
	// Config is the namespaced config the program ran with, and Set the keys a stack file or
	// an override set (the others took Pulumi.yaml's defaults).
	Config map[string]string `json:"-"`
	Set    []string          `json:"-"`
	// Resolved is the configuration as the program resolved it (for this project, the
	// stacks package's *Config), which the plan's renderers read instead of parsing Config
	// again; nil when the program reported none.
	Resolved any `json:"-"`
}

// PlanSchemaVersion is the version of the plan's JSON.
const PlanSchemaVersion = 1

// Options says how to run the program.
type Options struct {
	Stack  string            // stack name, "dev" when empty
	Config map[string]string // namespaced config (llama:stage, aws:region), defaults applied
	DryRun bool              // preview (true) or update (false)
	// Zones are what Cloudflare zones hold before the run, by zone ID: their entry-point
	// rulesets as getRulesets lists them (ZoneAfter builds one from a plan). Nil: empty zones.
	Zones map[string][]map[string]any
}

// Program is a Pulumi program that returns the stack outputs it exports.
type Program func(ctx *pulumi.Context) (pulumi.Map, error)

// Run runs the program under the strict mocks and returns what it registered.
func Run(program Program, opts Options) (*Plan, error) {
	stack := opts.Stack
	if stack == "" {
		stack = "dev"
	}
	region := opts.Config["aws:region"]
	if region == "" {
		region = "us-east-1"
	}
	m := &mocks{project: Project, stack: stack, region: region, dryRun: opts.DryRun, zones: opts.Zones, byURN: map[string]*Resource{}}
	var exports pulumi.Map
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		outs, err := program(ctx)
		for k, v := range outs {
			ctx.Export(k, v)
		}
		exports = outs
		return err
	}, pulumi.WithMocks(Project, stack, m), func(info *pulumi.RunInfo) {
		info.Config = opts.Config
		info.DryRun = opts.DryRun
	})
	if err != nil {
		return nil, unwrapProgramError(err)
	}
	if err := m.failure(); err != nil {
		return nil, err
	}
	plan := &Plan{SchemaVersion: PlanSchemaVersion, Project: Project, Stack: stack, Region: region, Outputs: map[string]any{}, Warnings: []string{}, Zones: opts.Zones, Config: opts.Config}
	for k, o := range exports {
		res, err := internals.UnsafeAwaitOutput(context.Background(), pulumi.ToOutput(o))
		if err != nil {
			return nil, fmt.Errorf("stack output %s: %w", k, err)
		}
		switch {
		case res.Secret:
			plan.Outputs[k] = secretMark
		case !res.Known:
			plan.Outputs[k] = nil
		default:
			plan.Outputs[k] = res.Value
		}
	}
	plan.Resources = m.resources()
	if err := CheckRules(plan); err != nil {
		return nil, fmt.Errorf("a real pulumi up would fail:\n%w", err)
	}
	if !opts.DryRun {
		if err := checkNoEmptyInputs(plan.Resources); err != nil {
			return nil, err
		}
	}
	return plan, nil
}

// unwrapProgramError strips the SDK's multierror framing so a config error reads as one line
// per mistake.
func unwrapProgramError(err error) error {
	msg := strings.ReplaceAll(err.Error(), "\n\t* ", "\n")
	msg = errorsOccurred.ReplaceAllString(strings.TrimSpace(msg), "")
	return errors.New(strings.TrimSpace(msg))
}

var errorsOccurred = regexp.MustCompile(`^[0-9]+ errors? occurred:`)

const secretMark = "[secret]"

type mocks struct {
	project, stack, region string
	dryRun                 bool
	zones                  map[string][]map[string]any

	mu    sync.Mutex
	byURN map[string]*Resource
	order []*Resource
	errs  []error
}

func (m *mocks) failure() error { m.mu.Lock(); defer m.mu.Unlock(); return errors.Join(m.errs...) }

func (m *mocks) resources() []*Resource {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := append([]*Resource(nil), m.order...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].URN < out[j].URN })
	return out
}

// urn computes the URN the engine gives a resource: its parent's type, not the parent's name.
func (m *mocks) urn(parent, typ, name string) string {
	parentType := tokens.Type("")
	if p := resource.URN(parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(m.stack), tokens.PackageName(m.project), parentType, tokens.Type(typ), name))
}

// NewResource records a registered resource and fabricates its id and outputs; a duplicate
// URN fails.
func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	rec := options(args.RegisterRPC)
	urn := m.urn(rec.Parent, args.TypeToken, args.Name)
	rec.URN, rec.Type, rec.Name, rec.Custom = urn, args.TypeToken, args.Name, args.Custom

	if !m.dryRun {
		// In an update every input is known; an unknown one was fed by an output the mocks
		// did not give.
		for k, v := range args.Inputs {
			for _, path := range unknownPaths(string(k), v) {
				m.mu.Lock()
				m.errs = append(m.errs, fmt.Errorf("%s: input %s is empty (unknown in a normal run: an output read downstream has no offline value)", urn, path))
				m.mu.Unlock()
			}
		}
	}
	id, state := "", resource.PropertyMap{}
	if args.Custom && Catalog[args.TypeToken] == nil {
		m.mu.Lock()
		m.errs = append(m.errs, fmt.Errorf("%s: type %s has no entry in the offline catalog: add its outputs, ForceNew inputs and whether it holds data to offline/catalog.go", urn, args.TypeToken))
		m.mu.Unlock()
	}
	if args.Custom {
		id, state = fabricate(m, urn, args.TypeToken, args.Name, args.Inputs)
		if rec.ImportID != "" {
			// An imported resource keeps its ID: the last part of an import ID such as
			// zone/<zone>/<ruleset>.
			id = rec.ImportID[strings.LastIndex(rec.ImportID, "/")+1:]
			state["id"] = resource.NewStringProperty(id)
		}
	}
	rec.ID = id
	rec.Inputs = plain(args.Inputs)
	rec.Outputs = plain(state)
	rec.Stateful = Stateful(rec.Type, rec.Inputs)

	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.byURN[urn]; dup {
		err := fmt.Errorf("duplicate URN %s: two resources of one type share a name under parents of one type", urn)
		m.errs = append(m.errs, err)
		return "", nil, err
	}
	m.byURN[urn] = rec
	m.order = append(m.order, rec)
	return id, state, nil
}

// options records what the engine is told beside the inputs: the parent, protect, retain on
// delete, dependencies, ignored changes, aliases, the import ID and which inputs other
// resources feed.
func options(req *pulumirpc.RegisterResourceRequest) *Resource {
	// Lists print as [], never null.
	rec := &Resource{DependsOn: []string{}, Aliases: []string{}}
	if req == nil {
		return rec
	}
	rec.Parent, rec.Protect, rec.RetainOnDelete, rec.ImportID = req.GetParent(), req.GetProtect(), req.GetRetainOnDelete(), req.GetImportId()
	rec.DependsOn = append(rec.DependsOn, req.GetDependencies()...)
	rec.IgnoreChanges = append([]string(nil), req.GetIgnoreChanges()...)
	if h := req.GetHooks(); h != nil {
		rec.BeforeDelete = append([]string(nil), h.GetBeforeDelete()...)
	}
	rec.Aliases = append(rec.Aliases, req.GetAliasURNs()...)
	for _, a := range req.GetAliases() {
		if u := a.GetUrn(); u != "" {
			rec.Aliases = append(rec.Aliases, u)
		} else if s := a.GetSpec(); s != nil {
			rec.Aliases = append(rec.Aliases, "name="+s.GetName()+" parent="+s.GetParentUrn())
		}
	}
	rec.From = map[string][]string{}
	for key, deps := range req.GetPropertyDependencies() {
		if len(deps.GetUrns()) > 0 {
			rec.From[key] = append([]string(nil), deps.GetUrns()...)
		}
	}
	return rec
}

// Call answers an invoke the program makes; one nobody mocked fails the run.
func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	out, err := invoke(m, args.Token, args.Args)
	if err != nil {
		m.mu.Lock()
		m.errs = append(m.errs, err)
		m.mu.Unlock()
	}
	return out, err
}

// plain turns a property map into JSON-ready values; secrets print as "[secret]" and unknowns
// as null.
func plain(pm resource.PropertyMap) map[string]any {
	out := make(map[string]any, len(pm))
	for k, v := range pm {
		if strings.HasPrefix(string(k), "__") {
			continue
		}
		out[string(k)] = plainValue(v)
	}
	return out
}

func plainValue(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return secretMark
	case v.IsComputed():
		return nil
	case v.IsOutput():
		o := v.OutputValue()
		if o.Secret {
			return secretMark
		}
		if !o.Known {
			return nil
		}
		return plainValue(o.Element)
	case v.IsNull():
		return nil
	case v.IsBool():
		return v.BoolValue()
	case v.IsNumber():
		f := v.NumberValue()
		if f == float64(int64(f)) {
			return int64(f)
		}
		return f
	case v.IsString():
		return v.StringValue()
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]any, len(arr))
		for i, e := range arr {
			out[i] = plainValue(e)
		}
		return out
	case v.IsObject():
		return plain(v.ObjectValue())
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	case v.IsAsset():
		a := v.AssetValue()
		return map[string]any{"asset": a.Path + a.URI}
	case v.IsArchive():
		a := v.ArchiveValue()
		out := map[string]any{"archive": a.Path + a.URI}
		if len(a.Assets) > 0 {
			names := make([]string, 0, len(a.Assets))
			for n := range a.Assets {
				names = append(names, n)
			}
			sort.Strings(names)
			out["archive"] = "assets: " + strings.Join(names, ", ")
		}
		return out
	}
	return nil
}

func unknownPaths(prefix string, v resource.PropertyValue) []string {
	switch {
	case v.IsComputed():
		return []string{prefix}
	case v.IsOutput():
		if !v.OutputValue().Known {
			return []string{prefix}
		}
		return unknownPaths(prefix, v.OutputValue().Element)
	case v.IsSecret():
		return unknownPaths(prefix, v.SecretValue().Element)
	case v.IsArray():
		var out []string
		for i, e := range v.ArrayValue() {
			out = append(out, unknownPaths(fmt.Sprintf("%s[%d]", prefix, i), e)...)
		}
		return out
	case v.IsObject():
		var out []string
		for k, e := range v.ObjectValue() {
			out = append(out, unknownPaths(prefix+"."+string(k), e)...)
		}
		return out
	}
	return nil
}

// checkNoEmptyInputs fails when an input that takes its value from another resource's output
// holds an empty string: in a normal run every such value must be realistic, and an output
// the mocks did not give becomes "".
func checkNoEmptyInputs(rs []*Resource) error {
	var errs []error
	for _, r := range rs {
		for key := range r.From {
			for _, path := range emptyPaths(key, r.Inputs[key]) {
				errs = append(errs, fmt.Errorf("%s: input %s is empty (an output read downstream has no offline value)", r.URN, path))
			}
		}
	}
	return errors.Join(errs...)
}

func emptyPaths(prefix string, v any) []string {
	var out []string
	switch x := v.(type) {
	case string:
		if x == "" {
			out = append(out, prefix)
		}
	case []any:
		for i, e := range x {
			out = append(out, emptyPaths(fmt.Sprintf("%s[%d]", prefix, i), e)...)
		}
	case map[string]any:
		for k, e := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			out = append(out, emptyPaths(p, e)...)
		}
	}
	return out
}

// OfType returns the plan's resources of a type, in URN order.
func (p *Plan) OfType(typ string) []*Resource {
	var out []*Resource
	for _, r := range p.Resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// Named returns the plan's resource of a type and name, or nil.
func (p *Plan) Named(typ, name string) *Resource {
	for _, r := range p.OfType(typ) {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Try plans a program that exports nothing, such as a component under test, with default
// options: us-east-1, stack dev, an update (every input known).
func Try(program func(ctx *pulumi.Context) error) (*Plan, error) {
	return Run(func(ctx *pulumi.Context) (pulumi.Map, error) { return nil, program(ctx) }, Options{})
}

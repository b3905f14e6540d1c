// Package tests runs the Llama program offline for every stage and asserts what a user cares
// about: what each stage builds, that promotions keep what holds data, that bad config is
// named, and that everything is monitored.
package tests

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/llama-stages/llama/offline"
	"github.com/llama-stages/llama/preview"
	"github.com/llama-stages/llama/stacks"
)

// cdnConfig is what a stack needs from the cdn rung on.
var cdnConfig = map[string]string{"cloudflareZoneId": "0123456789abcdef0123456789abcdef", "domain": "llama.example.com", "cloudflareCertificate": "advanced"}

type rung struct {
	platform stacks.Platform
	stage    string
}

func (r rung) String() string { return string(r.platform) + "/" + r.stage }

// allRungs lists every rung of both ladders.
func allRungs() []rung {
	var out []rung
	for _, r := range stacks.Ladder {
		out = append(out, rung{r.Platform, r.Stage})
	}
	return out
}

var (
	planMu sync.Mutex
	plans  = map[string]*offline.Plan{}
)

// plan plans a stage of the dev stack with the overrides (bare keys), cached.
func plan(t testing.TB, platform stacks.Platform, stage string, over map[string]string) *offline.Plan {
	t.Helper()
	p, err := tryPlan(platform, stage, over, false)
	if err != nil {
		t.Fatalf("plan %s/%s %v: %v", platform, stage, over, err)
	}
	return p
}

func tryPlan(platform stacks.Platform, stage string, over map[string]string, dryRun bool) (*offline.Plan, error) {
	cfg := map[string]string{}
	if layers, err := stacks.LayersOf(platform, stage); err == nil && layers[stacks.CDN] {
		for k, v := range cdnConfig {
			cfg[k] = v
		}
	}
	// A rung's steady state: every live move it has is done (tests of a move in flight set
	// llama:moved themselves).
	cfg["moved"] = strings.Join(stacks.MovesOf(platform, stage), ",")
	for k, v := range over {
		cfg[k] = v
	}
	key := fmt.Sprint(platform, stage, sortedPairs(cfg), dryRun)
	planMu.Lock()
	p, ok := plans[key]
	planMu.Unlock()
	if ok {
		return p, nil
	}
	p, err := preview.Plan(preview.Request{Dir: "..", Stage: stage, Platform: string(platform), Overrides: cfg, DryRun: dryRun})
	if err != nil {
		return nil, err
	}
	planMu.Lock()
	plans[key] = p
	planMu.Unlock()
	return p, nil
}

func sortedPairs(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func ofType(p *offline.Plan, typ string) []*offline.Resource {
	var out []*offline.Resource
	for _, r := range p.Resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

func named(t testing.TB, p *offline.Plan, typ, name string) *offline.Resource {
	t.Helper()
	for _, r := range ofType(p, typ) {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("%s/%s has no %s named %s", p.Platform, p.Stage, typ, name)
	return nil
}

// in reads a nested input: in(r, "metadataOptions", "httpTokens").
func in(r *offline.Resource, path ...string) any { return r.Input(path...) }

func str(v any) string {
	s, _ := v.(string)
	return s
}

func strs(v any) []string {
	var out []string
	if a, ok := v.([]string); ok {
		return a
	}
	if a, ok := v.([]any); ok {
		for _, e := range a {
			out = append(out, fmt.Sprint(e))
		}
	}
	return out
}

func num(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	}
	return -1
}

// byID finds the resource whose id (or arn) a value names.
func byID(p *offline.Plan, id string) *offline.Resource {
	for _, r := range p.Resources {
		if r.ID == id || str(r.Outputs["arn"]) == id {
			return r
		}
	}
	return nil
}

func urns(p *offline.Plan) map[string]*offline.Resource {
	m := map[string]*offline.Resource{}
	for _, r := range p.Resources {
		m[r.URN] = r
	}
	return m
}

// policyDoc parses a JSON policy input.
func policyDoc(t testing.TB, v any) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(str(v)), &doc); err != nil {
		t.Fatalf("policy %q: %v", v, err)
	}
	return doc
}

func contains(ss []string, s string) bool { return slices.Contains(ss, s) }

func hasPrefixAny(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// ruleName strips the stack's tag from a Cloudflare rule's ref: llama_<tag>_<rule> → <rule>.
func ruleName(ref string) string {
	rest, ok := strings.CutPrefix(ref, "llama_")
	if !ok || len(rest) < 10 || rest[8] != '_' {
		return ref
	}
	return rest[9:]
}

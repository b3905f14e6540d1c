package preview

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/llama-stages/llama/components/cdn"
)

// ReadZoneFile reads what a Cloudflare zone holds, so a plan can start from it: the zone's
// entry-point rulesets with their rules, as Cloudflare's API returns them (a list, or the API's
// {"result": ...} envelope; one ruleset per phase, from GET
// /zones/<zone>/rulesets/phases/<phase>/entrypoint). The API's snake_case keys are read as the
// provider's camelCase ones.
func ReadZoneFile(path string) ([]map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("zone file: %w", err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("zone file %s: %w", path, err)
	}
	if env, ok := v.(map[string]any); ok {
		if r, ok := env["result"]; ok {
			v = r
		} else {
			v = []any{env}
		}
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("zone file %s: want a list of rulesets", path)
	}
	var out []map[string]any
	for _, x := range list {
		rs, ok := camel(x).(map[string]any)
		if !ok || rs["phase"] == nil || rs["id"] == nil {
			return nil, fmt.Errorf("zone file %s: a ruleset needs an id and a phase: %.80v", path, x)
		}
		if rs["kind"] == nil {
			rs["kind"] = "zone"
		}
		out = append(out, rs)
	}
	return out, nil
}

// heldBy marks the entry points that hold the stack's own rules as in its state: the stack
// wrote them, so it updates them rather than creating or importing them.
func heldBy(zone []map[string]any, stack string) []map[string]any {
	out := make([]map[string]any, len(zone))
	for i, rs := range zone {
		out[i] = rs
		rules, _ := rs["rules"].([]any)
		for _, r := range rules {
			if ref, _ := r.(map[string]any)["ref"].(string); cdn.Owns(stack, ref) {
				cp := map[string]any{}
				for k, v := range rs {
					cp[k] = v
				}
				cp["heldBy"] = map[string]any{stack: ""}
				out[i] = cp
				break
			}
		}
	}
	return out
}

// camel renames snake_case keys camelCase, all the way down.
func camel(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			parts := strings.Split(k, "_")
			for i := 1; i < len(parts); i++ {
				if parts[i] != "" {
					parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
				}
			}
			out[strings.Join(parts, "")] = camel(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = camel(e)
		}
		return out
	}
	return v
}

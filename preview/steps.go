package preview

import (
	"fmt"
	"sort"
	"strings"

	"github.com/llama-stages/llama/offline"
	"github.com/llama-stages/llama/stacks"
)

// StagesWithCost renders both ladders, each rung with its monthly cost at its traffic profile,
// for the dev stack and for a new stack at Pulumi.yaml's defaults (protected, Multi-AZ).
func StagesWithCost(dir string) (string, error) {
	var b strings.Builder
	for _, p := range stacks.Platforms {
		fmt.Fprintf(&b, "%s ladder (llama:platform=%s)\n", strings.ToUpper(string(p[:1]))+string(p[1:]), p)
		for _, r := range stacks.Rungs(p) {
			fmt.Fprintf(&b, "  %d. %-14s %s\n", r.Order, r.Stage, r.Guide)
			fmt.Fprintf(&b, "       adds: %s\n", r.Adds)
			fmt.Fprintf(&b, "       when: %s\n", r.Promote)
			dev, err := RungCost(dir, "dev", false, p, r.Stage)
			if err != nil {
				return "", fmt.Errorf("pricing %s/%s: %w", p, r.Stage, err)
			}
			def, err := RungCost(dir, "prod", true, p, r.Stage)
			if err != nil {
				return "", fmt.Errorf("pricing %s/%s: %w", p, r.Stage, err)
			}
			u := dev.Assumptions["usage"].(map[string]float64)
			fmt.Fprintf(&b, "       cost: %s a month on the dev stack, %s at the default config (%s), at %s requests a month\n",
				dollars(dev.Monthly), dollars(def.Monthly), def.Region, millions(u["requests"]))
		}
		b.WriteString("\n")
	}
	b.WriteString("Promote in place: pulumi config set llama:stage <stage> && pulumi up\n")
	b.WriteString("Preview offline first: go run ./cmd/llama diff --from <current> --to <next>\n")
	b.WriteString("Price a rung: go run ./cmd/llama cost --stage <stage> [--usage FILE]\n")
	return b.String(), nil
}

func millions(f float64) string {
	if f >= 1e9 {
		return fmt.Sprintf("%gB", f/1e9)
	}
	return fmt.Sprintf("%gM", f/1e6)
}

// Step is one thing a change asks of the team, in order.
type Step struct {
	ID   string `json:"id"`   // stable: <rung>/<layer>, leave/<layer>, migration, data-loss/<resource>
	Rung string `json:"rung"` // the rung that brings it; "" when no rung does
	Text string `json:"text"`
}

// Steps lists what a move from plan a to plan b asks of the team: each rung's step in the
// ladder's order, skipped rungs included.
func Steps(a, b *offline.Plan) []Step {
	if a.Platform != b.Platform {
		return []Step{{ID: "migration", Text: fmt.Sprintf("The %s and %s ladders are separate architectures: moving between them is a data migration (export, import, cut over), not a promotion. Plan it as one.", a.Platform, b.Platform)}}
	}
	la, errA := stacks.LayersOf(stacks.Platform(a.Platform), a.Stage)
	lb, errB := stacks.LayersOf(stacks.Platform(b.Platform), b.Stage)
	if errA != nil || errB != nil {
		return []Step{}
	}
	out := []Step{}
	for _, r := range stacks.Rungs(stacks.Platform(b.Platform)) {
		if r.Step == "" || len(r.Layers) == 0 {
			continue
		}
		if l := r.Layers[0]; lb[l] && !la[l] {
			out = append(out, Step{ID: r.Stage + "/" + string(l), Rung: r.Stage, Text: r.Step})
		}
	}
	var left []string
	for l, had := range la {
		if had && !lb[l] && !stacks.Retired(stacks.Platform(b.Platform), b.Stage, l) {
			left = append(left, string(l))
		}
	}
	sort.Strings(left)
	for _, l := range left {
		out = append(out, Step{ID: "leave/" + l, Text: fmt.Sprintf("The stage leaves %s behind: move what it holds before removing it; protected resources make pulumi up refuse until then.", l)})
	}
	return out
}

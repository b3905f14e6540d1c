package preview

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/llama-stages/llama/components/cdn"
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
			fmt.Fprintf(&b, "  %d. %s  %s\n", r.Order, r.Stage, r.Guide)
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
	ID   string `json:"id"`   // stable: <rung>/<layer>, move/<tier>/<step>, leave/<layer>, migration, data-loss/<resource>
	Rung string `json:"rung"` // the rung that brings it; "" when no rung does
	// When places the step against the pulumi ups: "this pulumi up" (what the up itself
	// does), "after this pulumi up", "the retire pulumi up" (llama:moved), "after the retire
	// pulumi up"; "" for the rung's own notes.
	When string `json:"when"`
	Text string `json:"text"`
}

// The places a step takes against the pulumi ups.
const (
	WhenUp          = "this pulumi up"
	WhenAfterUp     = "after this pulumi up"
	WhenRetireUp    = "the retire pulumi up"
	WhenAfterRetire = "after the retire pulumi up"
)

// Steps lists what a move from plan a to plan b asks of the team: each rung's step in the
// ladder's order, skipped rungs included.
func Steps(a, b *offline.Plan) []Step {
	if a.Platform != b.Platform {
		return []Step{{ID: "migration", Text: fmt.Sprintf("The %s and %s ladders are separate architectures: moving between them is a data migration (export, import, cut over), not a promotion, and llama-app move does not cross ladders. Plan it as one.", a.Platform, b.Platform)}}
	}
	sa, sb := Stage(a), Stage(b)
	la, lb := sa.Layers, sb.Layers
	out := moveSteps(a, b)
	for _, r := range stacks.Rungs(sb.Platform) {
		if r.Step == "" || len(r.Layers) == 0 {
			continue
		}
		if l := r.Layers[0]; lb[l] && !la[l] {
			out = append(out, Step{ID: r.Stage + "/" + string(l), Rung: r.Stage, Text: r.Step})
		}
	}
	var left []string
	for l, had := range la {
		if had && !lb[l] && !sb.Retired[l] {
			left = append(left, string(l))
		}
	}
	sort.Strings(left)
	for _, l := range left {
		out = append(out, Step{ID: "leave/" + l, Text: fmt.Sprintf("The stage leaves %s behind: move what it holds before removing it; protected resources make pulumi up refuse until then.", l)})
	}
	return out
}

// pending lists the moves a plan has under way, as its program resolved them.
func pending(p *offline.Plan) map[string]bool {
	c := Stage(p)
	out := map[string]bool{}
	for _, t := range stacks.MoveTiers {
		out[t] = c.Pending(t)
	}
	return out
}

// moveSteps are the live moves' steps: for each move the target plan has under way, the
// expand (this up), the move itself (after it), the retire up and what follows it; for each
// move this diff completes, its retire.
func moveSteps(a, b *offline.Plan) []Step {
	pa, pb := pending(a), pending(b)
	owned := ownsHostname(b)
	var out []Step
	var moved []string
	for _, m := range stacks.Moves {
		if !slices.Contains(stacks.MovesOf(Stage(b).Platform, Stage(b).Stage), m.Tier) {
			continue
		}
		moved = append(moved, m.Tier)
		id := "move/" + m.Tier + "/"
		retire := fmt.Sprintf("pulumi config set llama:moved %s && pulumi up, the point of no return: %s.", strings.Join(moved, ","), m.Retires)
		switch {
		case pb[m.Tier] && !pa[m.Tier]:
			out = append(out, Step{ID: id + "expand", When: WhenUp, Text: m.Expand})
			out = append(out, moveStep(m, id, owned))
			out = append(out, Step{ID: id + "retire", When: WhenRetireUp, Text: retire + retireGuard(m, owned)})
			if m.Cleanup != "" {
				out = append(out, Step{ID: id + "cleanup", When: WhenAfterRetire, Text: fmt.Sprintf("llama-app move %s --retire removes %s, once every instance has followed the switch (state retired).", m.Tier, m.Cleanup)})
			}
		case pb[m.Tier]:
			out = append(out, moveStep(m, id, owned))
			out = append(out, Step{ID: id + "retire", When: WhenRetireUp, Text: retire + retireGuard(m, owned)})
		case pa[m.Tier]:
			out = append(out, Step{ID: id + "retire", When: WhenUp, Text: fmt.Sprintf("This is the retire pulumi up of the %s move, the point of no return: %s.%s", m.Tier, m.Retires, retireGuard(m, owned))})
			if m.Cleanup != "" {
				out = append(out, Step{ID: id + "cleanup", When: WhenAfterUp, Text: fmt.Sprintf("llama-app move %s --retire removes %s, once every instance has followed the switch (state retired).", m.Tier, m.Cleanup)})
			}
		}
	}
	return out
}

// ownsHostname reports whether a plan holds the app hostname's record as a DNS-only record:
// the stack, not the team, then points it at the box or the load balancer.
func ownsHostname(p *offline.Plan) bool {
	for _, r := range p.Resources {
		if r.Type == "cloudflare:index/record:Record" && r.Name == "cdn-app" && r.Inputs["proxied"] == false {
			return true
		}
	}
	return false
}

// moveStep is the move itself, after the expand up. owned says the stack owns the hostname's
// record.
func moveStep(m stacks.Move, id string, owned bool) Step {
	if m.Tier == "edge" {
		return Step{ID: id + "dns", When: WhenAfterUp, Text: "This up creates the hostname's proxied records: wait out the old records' TTL so every resolver answers with Cloudflare's addresses, and move clients that call the load balancer (or the API's execute-api URL) directly to the domain; both keep answering meanwhile."}
	}
	if m.Tier == "traffic" && owned {
		return Step{ID: id + "dns", When: WhenAfterUp, Text: "Nothing to do in DNS: the stack owns the hostname's record (TTL 60 s) and points it at the box until llama:moved lists traffic, then at the load balancer. Meanwhile, check the load balancer serves the app (curl -H 'Host: <domain>' https://<loadBalancerDns>/health/live -k)."}
	}
	if m.Tier == "traffic" {
		return Step{ID: id + "dns", When: WhenAfterUp, Text: "Once the db move has switched: lower the app hostname's DNS TTL to 60 s and wait out the old TTL; point the hostname at the load balancer (the loadBalancerDns output); wait out the old TTL again while the box still serves."}
	}
	return Step{ID: id + "move", When: WhenAfterUp, Text: fmt.Sprintf("llama-app move %s, %s: copies to %s while the app serves, catches up, verifies counts and checksums, fences %s and switches (move states copying, catching-up, switched); the app follows within seconds and no acknowledged write is lost. It resumes if stopped; llama-app move status shows its state and the next command; llama-app move %s --back returns with nothing lost until the retire pulumi up (state back).",
		m.Tier, m.Where, m.New, m.Old, m.Tier)}
}

// retireGuard says what pulumi up checks before it retires a tier.
func retireGuard(m stacks.Move, owned bool) string {
	if m.Tier == "traffic" && owned {
		return fmt.Sprintf(" The same up points the hostname at the load balancer and the box keeps serving %d s (twice the record's TTL) before it leaves, while resolvers follow.", 2*cdn.DNSOnlyTTL)
	}
	if m.Tier == "traffic" {
		return " Nothing can check DNS for you: list traffic only once the hostname resolves to the load balancer everywhere."
	}
	if m.Tier == "edge" {
		return " Nothing can check your clients for you: list edge only once none calls the origin directly."
	}
	return fmt.Sprintf(" pulumi up refuses it unless the mover recorded the switch (moves/%s).", m.Tier)
}

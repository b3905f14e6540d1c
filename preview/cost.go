package preview

import (
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/llama-stages/llama/cost"
	"github.com/llama-stages/llama/offline"
	"github.com/llama-stages/llama/stacks"
)

// DefaultUsage is a rung's documented traffic profile: the cost model's profile at the
// requests the ladder gives the rung.
func DefaultUsage(platform, stage string) cost.Usage {
	r, _ := stacks.Find(stacks.Platform(platform), stage)
	return cost.Profile(r.Requests)
}

// Usage is a rung's default traffic profile, with a usage file's figures over it when one is
// named.
func Usage(platform, stage, file string) (cost.Usage, error) {
	u := DefaultUsage(platform, stage)
	if file == "" {
		return u, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--usage: %w", err)
	}
	return cost.ParseUsage(b, u)
}

// Cost plans a stage and prices it under the rung's traffic profile (and the usage file).
func Cost(req Request, usageFile string) (*offline.Plan, *cost.Estimate, error) {
	return CostWith(req, usageFile, cost.Options{})
}

// CostWith is Cost with pricing options (the free tier).
func CostWith(req Request, usageFile string, opts cost.Options) (*offline.Plan, *cost.Estimate, error) {
	p, err := Plan(req)
	if err != nil {
		return nil, nil, err
	}
	u, err := Usage(p.Platform, p.Stage, usageFile)
	if err != nil {
		return nil, nil, err
	}
	e, err := cost.PriceWith(p, p.Region, u, opts)
	if err != nil {
		return nil, nil, err
	}
	return p, e, nil
}

func dollars(f float64) string {
	s := fmt.Sprintf("%.2f", f)
	whole, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(whole, "-")
	whole = strings.TrimPrefix(whole, "-")
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	if neg {
		return "-$" + whole + "." + frac
	}
	return "$" + whole + "." + frac
}

// CostText renders an estimate: one line per item, grouped by component, then the totals,
// the price table's date and region, and the assumptions.
func CostText(p *offline.Plan, e *cost.Estimate) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%s: stage %s on the %s ladder, %s, prices of %s (%s)\n", p.Project, p.Stack, p.Stage, p.Platform, e.Region, e.PriceDate, e.Currency)
	comp := ""
	tw := table(&b)
	for _, it := range e.Items {
		if it.Component != comp {
			comp = it.Component
			sub := 0.0
			for _, x := range e.Items {
				if x.Component == comp {
					sub += x.Monthly
				}
			}
			fmt.Fprintf(tw, "\n  %s\t\t%s\n", comp, dollars(sub))
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\n", it.Name, dollars(it.Monthly), it.Kind, it.Basis)
	}
	tw.Flush()
	fmt.Fprintf(&b, "\nMonthly: %s (fixed %s, usage %s)\n", dollars(e.Monthly), dollars(e.Fixed), dollars(e.Usage))
	b.WriteString("\nAssumptions (a usage file given with --usage overrides any figure):\n")
	u := e.Assumptions["usage"].(map[string]float64)
	tw = table(&b)
	for _, f := range cost.Figures {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", f.Key, strconv.FormatFloat(u[f.Key], 'f', -1, 64), f.Unit, f.Description)
	}
	tw.Flush()
	fmt.Fprintf(&b, "  %s\n", e.Assumptions["prices"])
	if notes, ok := e.Assumptions["notes"].(map[string]string); ok {
		for _, k := range slices.Sorted(maps.Keys(notes)) {
			fmt.Fprintf(&b, "  %s\n", notes[k])
		}
	}
	if len(e.Unpriced) > 0 {
		b.WriteString("\nNot priced (by use, beyond the profile):\n")
		for _, u := range e.Unpriced {
			fmt.Fprintf(&b, "  %s\n", u)
		}
	}
	if len(e.Risks) > 0 {
		b.WriteString("\nRisks (what could make the bill larger):\n")
		for _, r := range e.Risks {
			fmt.Fprintf(&b, "  %s\n", r)
		}
	}
	return b.String()
}

// CostChange is what a move costs a month: both sides priced at the same traffic.
type CostChange struct {
	From    float64  `json:"from"`
	To      float64  `json:"to"`
	Delta   float64  `json:"delta"`
	Traffic Traffic  `json:"traffic"` // the traffic both sides are priced at
	Changes []string `json:"changes"` // the largest differences, resource by resource
}

// Traffic is what a cost comparison prices both sides at: a rung's default profile, with a
// usage file's figures over it when one is given.
type Traffic struct {
	Profile   string  `json:"profile"`   // platform/stage whose profile it is
	Requests  float64 `json:"requests"`  // requests a month
	UsageFile string  `json:"usageFile"` // the usage file over the profile; "" when none
}

// String says it as the text output does.
func (t Traffic) String() string {
	s := fmt.Sprintf("%s's profile: %s requests a month", t.Profile, millions(t.Requests))
	if t.UsageFile != "" {
		s = "the usage file over " + s
	}
	return s
}

// CompareCost prices both plans at the target rung's traffic (or the usage file's), so the
// change is what the move itself costs, and names the largest differences.
func CompareCost(a, b *offline.Plan, usageFile string) (*CostChange, error) {
	u, err := Usage(b.Platform, b.Stage, usageFile)
	if err != nil {
		return nil, err
	}
	ea, err := cost.Price(a, a.Region, u)
	if err != nil {
		return nil, fmt.Errorf("pricing --from: %w", err)
	}
	eb, err := cost.Price(b, b.Region, u)
	if err != nil {
		return nil, fmt.Errorf("pricing --to: %w", err)
	}
	c := &CostChange{From: ea.Monthly, To: eb.Monthly, Delta: math.Round((eb.Monthly-ea.Monthly)*100) / 100,
		Traffic: Traffic{Profile: b.Platform + "/" + b.Stage, Requests: u["requests"], UsageFile: usageFile}, Changes: []string{}}
	byName := map[string][2]float64{}
	for _, it := range ea.Items {
		v := byName[it.Name]
		v[0] += it.Monthly
		byName[it.Name] = v
	}
	for _, it := range eb.Items {
		v := byName[it.Name]
		v[1] += it.Monthly
		byName[it.Name] = v
	}
	type diff struct {
		name     string
		from, to float64
	}
	var ds []diff
	for n, v := range byName {
		if d := v[1] - v[0]; d > 0.005 || d < -0.005 {
			ds = append(ds, diff{n, v[0], v[1]})
		}
	}
	sort.Slice(ds, func(i, j int) bool {
		di, dj := math.Abs(ds[i].to-ds[i].from), math.Abs(ds[j].to-ds[j].from)
		if di != dj {
			return di > dj
		}
		return ds[i].name < ds[j].name
	})
	for i, d := range ds {
		if i == 5 {
			break
		}
		what := "changes"
		switch {
		case d.from == 0:
			what = "arrives"
		case d.to == 0:
			what = "goes (retired or removed)"
		}
		c.Changes = append(c.Changes, fmt.Sprintf("%s %s: %s -> %s (%s)", d.name, what, dollars(d.from), dollars(d.to), signed(d.to-d.from)))
	}
	return c, nil
}

func signed(f float64) string {
	if f >= 0 {
		return "+" + dollars(f)
	}
	return dollars(f)
}

// Text renders the change.
func (c *CostChange) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nMonthly cost, both sides at %s: %s -> %s (%s)\n", c.Traffic, dollars(c.From), dollars(c.To), signed(c.Delta))
	if c.Delta < 0 {
		b.WriteString("It falls because:\n")
	}
	for _, ch := range c.Changes {
		fmt.Fprintf(&b, "  %s\n", ch)
	}
	return b.String()
}

// exampleZone is what plans of the cdn rungs at default config use for the zone and domain.
var exampleZone = map[string]string{"cloudflareZoneId": "0123456789abcdef0123456789abcdef", "domain": "app.example.com", "cloudflareCertificate": "advanced"}

// RungCost prices a rung of a stack (or, with defaults, of a new stack with Pulumi.yaml's
// defaults) at its own traffic profile.
func RungCost(dir, stack string, defaults bool, platform stacks.Platform, stage string) (*cost.Estimate, error) {
	// A rung's price is its steady state's: the moves it brings are done. The cdn rungs need
	// a zone; so does the serverless ladder's SPA on every rung, which only a zone's hostname
	// serves (the function answers it from the bucket).
	over := map[string]string{"moved": strings.Join(stacks.MovesOf(platform, stage), ",")}
	if layers, err := stacks.LayersOf(platform, stage); err == nil && (layers[stacks.CDN] || platform == stacks.Serverless) {
		for k, v := range exampleZone {
			over[k] = v
		}
	}
	_, e, err := Cost(Request{Dir: dir, Stack: stack, Stage: stage, Platform: string(platform), Overrides: over, Defaults: defaults}, "")
	return e, err
}

// LadderTables renders the README's tables of both ladders from the ladder table: the rung's
// number, stage, guide version and what it adds.
func LadderTables() string {
	var b strings.Builder
	for i, p := range stacks.Platforms {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "**%s** (%s)\n\n| # | stage | guide | adds |\n|---|---|---|---|\n", p, ladderBlurb[p])
		for _, r := range stacks.Rungs(p) {
			fmt.Fprintf(&b, "| %d | `%s` | %s | %s |\n", r.Order, r.Stage, r.Guide, r.Adds)
		}
	}
	return b.String()
}

// ladderBlurb says where each ladder comes from in the guide.
var ladderBlurb = map[stacks.Platform]string{
	stacks.Servers:    "the guide's traditional build-out",
	stacks.Serverless: "the guide's modern startup stack and its scaling playbook",
}

// CostTable renders docs/cost.md's tables: every rung of both ladders at its traffic
// profile, on the dev stack and at the default config; then the two ladders' starts side by
// side at the same traffic and at ten and a hundred times that traffic.
func CostTable(dir string) (string, error) {
	var b strings.Builder
	b.WriteString("| ladder | rung | requests a month | dev stack | default config: fixed | usage | total |\n|---|---|---|---|---|---|---|\n")
	for _, p := range stacks.Platforms {
		for _, r := range stacks.Rungs(p) {
			dev, err := RungCost(dir, "dev", false, p, r.Stage)
			if err != nil {
				return "", err
			}
			def, err := RungCost(dir, "prod", true, p, r.Stage)
			if err != nil {
				return "", err
			}
			u := def.Assumptions["usage"].(map[string]float64)
			fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s | %s | **%s** |\n", p, r.Stage, millions(u["requests"]),
				dollars(dev.Monthly), dollars(def.Fixed), dollars(def.Usage), dollars(def.Monthly))
		}
	}
	b.WriteString("\nThe two starts at the same traffic (default config, the single-box profile's other figures):\n\n")
	b.WriteString("| requests a month | servers `single-box` | servers `load-balanced` | serverless `serverless` |\n|---|---|---|---|\n")
	base := DefaultUsage("servers", "single-box")
	for _, k := range []float64{1, 10, 100} {
		u := base.Scaled(k)
		fmt.Fprintf(&b, "| %s |", millions(u["requests"]))
		for _, rung := range []struct {
			platform stacks.Platform
			stage    string
		}{{stacks.Servers, "single-box"}, {stacks.Servers, "load-balanced"}, {stacks.Serverless, "serverless"}} {
			p, err := Plan(Request{Dir: dir, Stack: "prod", Defaults: true, Stage: rung.stage, Platform: string(rung.platform),
				Overrides: map[string]string{"moved": strings.Join(stacks.MovesOf(rung.platform, rung.stage), ",")}})
			if err != nil {
				return "", err
			}
			e, err := cost.Price(p, p.Region, u)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&b, " %s (fixed %s) |", dollars(e.Monthly), dollars(e.Fixed))
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}

// table lays out tab-separated columns sized to their content (text/tabwriter), two spaces
// apart; the caller flushes it.
func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

package cost

import (
	"fmt"
	"maps"
	"math"
	"sort"
	"strings"

	"github.com/llama-stages/llama/offline"
)

// hoursPerMonth is AWS's month for hourly prices.
const hoursPerMonth = 730

// Item is what one resource costs a month, or one part of it.
type Item struct {
	URN       string  `json:"urn"`
	Type      string  `json:"type"`
	Name      string  `json:"name"`
	Component string  `json:"component"`
	Monthly   float64 `json:"monthly"`
	Basis     string  `json:"basis"` // how it was priced: 730 h x $0.0208/h
	Kind      string  `json:"kind"`  // fixed or usage
}

// Estimate is a stage's monthly cost.
type Estimate struct {
	// SchemaVersion is the version of this JSON (docs/json.md).
	SchemaVersion int            `json:"schemaVersion"`
	Region        string         `json:"region"`
	PriceDate     string         `json:"priceDate"`
	Currency      string         `json:"currency"`
	Monthly       float64        `json:"monthly"`
	Fixed         float64        `json:"fixed"`
	Usage         float64        `json:"usage"`
	Items         []Item         `json:"items"`
	Assumptions   map[string]any `json:"assumptions"`
	// Unpriced are what the stack may pay for by use that the profile does not price, each
	// with its price ("KMS requests: $0.03 per 10,000"), as Infracost lists usage-based costs.
	Unpriced []string `json:"unpriced"`
	// Risks are what could make the bill larger than the estimate on this stage.
	Risks []string `json:"risks"`
}

// EstimateSchemaVersion is the version of the estimate's JSON.
const EstimateSchemaVersion = 1

// pricer prices one plan.
type pricer struct {
	p      *offline.Plan
	g      map[string]float64
	tiers  map[string][]Tier
	free   map[string]float64 // what is left of each free allowance; empty without the free tier
	r      Region
	region string
	u      Usage
	byURN  map[string]*offline.Resource
	items  []Item
	notes  map[string]string
	// capacity are what the declared capacity cannot carry at this traffic (Estimate.Risks).
	capacity []string
}

// Options change how a plan is priced.
type Options struct {
	// FreeTier subtracts the account's always-free allowances (Lambda's requests and compute,
	// CloudWatch's metrics, alarms and logs, X-Ray's traces, DynamoDB's storage, 100 GB out),
	// as if the stack were the account's only use of them.
	FreeTier bool
}

// Price estimates a plan's monthly cost in a region under a usage profile, without the free
// tier (PriceWith).
func Price(p *offline.Plan, region string, u Usage) (*Estimate, error) {
	return PriceWith(p, region, u, Options{})
}

// PriceWith estimates a plan's monthly cost in a region under a usage profile. A resource type
// that is neither priced nor declared free is an error: nothing is left out silently.
func PriceWith(p *offline.Plan, region string, u Usage, opts Options) (*Estimate, error) {
	t, err := Prices()
	if err != nil {
		return nil, err
	}
	r, err := t.region(region)
	if err != nil {
		return nil, err
	}
	pr := &pricer{p: p, g: t.Global, tiers: t.Tiers, free: map[string]float64{}, r: r, region: region, u: u, byURN: map[string]*offline.Resource{}, notes: map[string]string{}}
	if opts.FreeTier {
		maps.Copy(pr.free, t.FreeTier)
	}
	if err := pr.resources(); err != nil {
		return nil, err
	}
	pr.edge()
	pr.certificates()
	pr.dataOut()
	pr.observability()
	e := &Estimate{SchemaVersion: EstimateSchemaVersion, Region: region, PriceDate: t.PriceDate, Currency: t.Currency, Items: []Item{}, Assumptions: map[string]any{},
		Unpriced: pr.unpriced(), Risks: pr.risks()}
	e.total(pr.items)
	usage := map[string]float64{}
	maps.Copy(usage, u)
	e.Assumptions["usage"] = usage
	e.Assumptions["hoursPerMonth"] = hoursPerMonth
	free := "no free tier (the account's first three dashboards aside)"
	if opts.FreeTier {
		free = "less the account's always-free allowances (as if the stack were the account's only use of them)"
	}
	e.Assumptions["prices"] = "on-demand list prices of " + t.PriceDate + ", " + free + ", no savings plans; sources in cost/prices.json"
	if len(pr.notes) > 0 {
		e.Assumptions["notes"] = pr.notes
	}
	return e, nil
}

// resources prices every resource the plan holds that is not free; a type with no price is
// an error, so that nothing the stack pays for goes unpriced.
func (pr *pricer) resources() error {
	for _, res := range pr.p.Resources {
		pr.byURN[res.URN] = res
	}
	var unpriced []string
	for _, res := range pr.p.Resources {
		if !res.Custom || offline.KindOf(res.Type).IsFree(res.Inputs) {
			continue
		}
		ok, err := pr.price(res)
		if err != nil {
			return err
		}
		if !ok {
			unpriced = append(unpriced, res.Type)
		}
	}
	if len(unpriced) > 0 {
		return fmt.Errorf("no price for %s: price the type in cost/types.go or declare it free", strings.Join(dedupe(unpriced), ", "))
	}
	return nil
}

// total keeps the items that cost something at this usage, sorted by component and then
// largest first, and sums them as fixed and usage.
func (e *Estimate) total(items []Item) {
	for _, it := range items {
		if it.Monthly = round(it.Monthly); it.Monthly <= 0 {
			continue // free at this usage
		}
		e.Items = append(e.Items, it)
		if it.Kind == "usage" {
			e.Usage += it.Monthly
		} else {
			e.Fixed += it.Monthly
		}
	}
	sort.SliceStable(e.Items, func(i, j int) bool {
		if e.Items[i].Component != e.Items[j].Component {
			return e.Items[i].Component < e.Items[j].Component
		}
		return e.Items[i].Monthly > e.Items[j].Monthly
	})
	e.Fixed, e.Usage = round(e.Fixed), round(e.Usage)
	e.Monthly = round(e.Fixed + e.Usage)
}

func round(f float64) float64 { return math.Round(f*100) / 100 }

func dedupe(ss []string) []string {
	sort.Strings(ss)
	var out []string
	for i, s := range ss {
		if i == 0 || s != ss[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// component is the top-level component a resource belongs to.
func (pr *pricer) component(res *offline.Resource) string {
	name := ""
	for cur := res; cur != nil; cur = pr.byURN[cur.Parent] {
		if !cur.Custom {
			name = cur.Name
		}
	}
	return name
}

func (pr *pricer) add(res *offline.Resource, kind string, monthly float64, basis string, args ...any) {
	pr.items = append(pr.items, Item{URN: res.URN, Type: res.Type, Name: res.Name, Component: pr.component(res),
		Monthly: monthly, Basis: fmt.Sprintf(basis, args...), Kind: kind})
}

// hourly adds a resource that bills by the hour, count of it.
func (pr *pricer) hourly(res *offline.Resource, count float64, what string, perHour float64) {
	basis := fmt.Sprintf("%d h x $%g/h", hoursPerMonth, perHour)
	if count != 1 {
		basis = fmt.Sprintf("%g %s x %d h x $%g/h", count, what, hoursPerMonth, perHour)
	} else if what != "" {
		basis = fmt.Sprintf("%s: %s", what, basis)
	}
	pr.add(res, "fixed", count*hoursPerMonth*perHour, "%s", basis)
}

func in(r *offline.Resource, path ...string) any { return r.Input(path...) }

func str(v any) string { s, _ := v.(string); return s }

func num(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	case int:
		return float64(x)
	}
	return 0
}

func (pr *pricer) ofType(typ string) []*offline.Resource {
	var out []*offline.Resource
	for _, r := range pr.p.Resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// byID finds the resource whose id or one of whose named outputs is v.
func (pr *pricer) byID(v string, outputs ...string) *offline.Resource {
	for _, r := range pr.p.Resources {
		if r.ID == v {
			return r
		}
		for _, o := range outputs {
			if str(r.Outputs[o]) == v {
				return r
			}
		}
	}
	return nil
}

// billable draws amount on the free allowance named pool and returns what is left to pay, and
// a note for the basis when the allowance took some.
func (pr *pricer) billable(pool string, amount float64) (float64, string) {
	left := pr.free[pool]
	if left <= 0 || amount <= 0 {
		return amount, ""
	}
	use := min(left, amount)
	pr.free[pool] = left - use
	return amount - use, fmt.Sprintf(" (less %.4g of the free tier)", use)
}

// responseGB is the bytes the app's responses add up to a month, in GB.
func (pr *pricer) responseGB() float64 { return pr.u["requests"] * pr.u["responseKB"] / 1e6 }

// The traffic's path. Static files leave through the box (before the fleet), the load balancer
// (the app answers /static/ and static.<domain> from the bucket), or, on the serverless ladder,
// the API (the function answers the SPA's hostname from its bucket, wherever a zone serves it;
// without one nothing serves the SPA). Cloudflare answers its cache hits without the origin.

// dynamicRequests are the app's own requests, which reach the origin whatever the cache holds.
func (pr *pricer) dynamicRequests() float64 {
	return pr.u["requests"] * (1 - pr.u["staticRequestShare"])
}

// staticServed reports whether anything in the stack serves the static files.
func (pr *pricer) staticServed() bool {
	if len(pr.ofType("aws:ec2/instance:Instance")) > 0 || len(pr.ofType("aws:lb/loadBalancer:LoadBalancer")) > 0 {
		return true
	}
	for _, r := range pr.ofType("aws:ssm/parameter:Parameter") {
		if strings.HasSuffix(str(in(r, "name")), "/spa/domain") {
			return true
		}
	}
	return false
}

// staticOriginRequests are the static files' requests the origin answers: Cloudflare's misses.
func (pr *pricer) staticOriginRequests() float64 {
	if !pr.staticServed() {
		return 0
	}
	return pr.u["requests"] * pr.u["staticRequestShare"] * (1 - pr.cdnHit())
}

// originRequests are the requests the origin answers, its logs record and its network carries.
func (pr *pricer) originRequests() float64 { return pr.dynamicRequests() + pr.staticOriginRequests() }

// functionRequests are the requests the API and its function answer: the app's, and the SPA's
// files wherever the function serves them.
func (pr *pricer) functionRequests() float64 { return pr.originRequests() }

// originGB are the bytes the origin sends to the internet (or to Cloudflare): the app's
// responses and the static files Cloudflare does not serve from its cache.
func (pr *pricer) originGB() (dynamic, static float64) {
	total := pr.responseGB()
	dynamic = total * (1 - pr.u["staticShare"])
	if pr.staticServed() {
		static = total * pr.u["staticShare"] * (1 - pr.cdnHit())
	}
	return dynamic, static
}

// offlineResource is a planned resource.
type offlineResource = offline.Resource

// Package cost prices a planned stage per month: every resource the plan holds at its
// on-demand list price, plus the usage a rung's traffic profile implies, from a dated price
// table kept as data (prices.json) with each price's source.
package cost

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
)

//go:embed prices.json
var pricesJSON []byte

// Table is the price table.
type Table struct {
	PriceDate string            `json:"priceDate"`
	Currency  string            `json:"currency"`
	Notes     string            `json:"notes"`
	Sources   map[string]string `json:"sources"`
	// PriceSources say, for every price (a global key, a region's field, "tiers.<name>",
	// "freeTier"), the page it was read from and the date it took effect there.
	PriceSources map[string]PriceSource `json:"priceSources"`
	Global       map[string]float64     `json:"global"`
	Regions      map[string]Region      `json:"regions"`
	// Tiers are the volume tiers of prices that fall with use, by name: each tier's upper
	// bound and its price as a share of the region's first-tier price.
	Tiers map[string][]Tier `json:"tiers"`
	// FreeTier are the account's always-free allowances a month (not the first year's), in
	// the units their keys name; --free-tier subtracts them.
	FreeTier map[string]float64 `json:"freeTier"`
}

// PriceSource is where one price was read and since when it holds.
type PriceSource struct {
	Page      string `json:"page"`
	Effective string `json:"effective"` // YYYY-MM-DD
}

// Tier is one volume tier: up to UpTo units a month (0: no bound) at Share of the first
// tier's price.
type Tier struct {
	UpTo  float64 `json:"upTo"`
	Share float64 `json:"share"`
}

// tiered prices amount at a first-tier price over a tier table: what it costs, and how many
// tiers it crossed into.
func tiered(amount, first float64, tiers []Tier) (cost float64, crossed int) {
	from := 0.0
	for i, t := range tiers {
		upTo := t.UpTo
		if upTo == 0 || amount <= upTo {
			return cost + (amount-from)*first*t.Share, i
		}
		cost += (upTo - from) * first * t.Share
		from = upTo
	}
	return cost + (amount-from)*first, len(tiers)
}

// Region holds one region's prices: hourly prices per hour, storage per GB-month, requests
// per million.
type Region struct {
	EC2                     map[string]float64 `json:"ec2"`
	EBSGp3GbMonth           float64            `json:"ebsGp3GbMonth"`
	NATHour                 float64            `json:"natHour"`
	NATGb                   float64            `json:"natGb"`
	ALBHour                 float64            `json:"albHour"`
	ALBLcuHour              float64            `json:"albLcuHour"`
	RDS                     map[string]float64 `json:"rds"`
	RDSGp3GbMonth           float64            `json:"rdsGp3GbMonth"`
	Aurora                  map[string]float64 `json:"aurora"`
	AuroraAcuHour           float64            `json:"auroraAcuHour"`
	AuroraStorageGbMonth    float64            `json:"auroraStorageGbMonth"`
	AuroraIoMillion         float64            `json:"auroraIoMillion"`
	ElastiCacheRedis        map[string]float64 `json:"elasticacheRedis"`
	LogsIngestGb            float64            `json:"logsIngestGb"`
	HTTPAPIMillion          float64            `json:"httpApiMillion"`
	DynamoWriteMillion      float64            `json:"dynamoWriteMillion"`
	DynamoReadMillion       float64            `json:"dynamoReadMillion"`
	DynamoStorageGbMonth    float64            `json:"dynamoStorageGbMonth"`
	DynamoPitrGbMonth       float64            `json:"dynamoPitrGbMonth"`
	S3GbMonth               float64            `json:"s3GbMonth"`
	DataOutGb               float64            `json:"dataOutGb"`
	S3GetThousand           float64            `json:"s3GetThousand"`
	S3PutThousand           float64            `json:"s3PutThousand"`
	RDSProxyAcuHour         float64            `json:"rdsProxyAcuHour"`
	InterfaceEndpointAzHour float64            `json:"interfaceEndpointAzHour"`
}

// Prices returns the price table the repository keeps, read once.
var Prices = sync.OnceValues(func() (*Table, error) {
	var t Table
	if err := json.Unmarshal(pricesJSON, &t); err != nil {
		return nil, fmt.Errorf("cost/prices.json: %w", err)
	}
	return &t, nil
})

// RegionNames lists the regions the table prices.
func (t *Table) RegionNames() []string {
	out := make([]string, 0, len(t.Regions))
	for r := range t.Regions {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// region returns a region's prices, or an error naming the regions the table has.
func (t *Table) region(name string) (Region, error) {
	r, ok := t.Regions[name]
	if !ok {
		return Region{}, fmt.Errorf("the price table (cost/prices.json, %s) has no prices for region %q; it has %s",
			t.PriceDate, name, strings.Join(t.RegionNames(), ", "))
	}
	return r, nil
}

// lookup reads one instance class's hourly price, or says which classes the table has.
func lookup(kind, region string, m map[string]float64, class string) (float64, error) {
	if p, ok := m[class]; ok {
		return p, nil
	}
	known := make([]string, 0, len(m))
	for k := range m {
		known = append(known, k)
	}
	sort.Strings(known)
	return 0, fmt.Errorf("the price table has no %s price for %s in %s; it has %s (add the class to cost/prices.json with its source)",
		kind, class, region, strings.Join(known, ", "))
}

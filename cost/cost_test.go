package cost

import (
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/llama-stages/llama/offline"
)

// plan is a plan of the given resources, the way the offline engine records them.
func plan(rs ...*offline.Resource) *offline.Plan {
	return &offline.Plan{Project: "llama", Stack: "dev", Region: "us-east-1", Resources: rs, Outputs: map[string]any{}}
}

func resource(typ, name string, inputs map[string]any) *offline.Resource {
	return &offline.Resource{URN: "urn:pulumi:dev::llama::" + typ + "::" + name, Type: typ, Name: name, Custom: true, Inputs: inputs, Outputs: map[string]any{}}
}

// TestPriceOfOneBox: an instance is priced at its hourly rate for 730 hours plus its root
// volume, an Elastic IP at the public IPv4 rate, each line saying how, from the price table.
func TestPriceOfOneBox(t *testing.T) {
	tbl, err := Prices()
	if err != nil {
		t.Fatal(err)
	}
	r := tbl.Regions["us-east-1"]
	e, err := Price(plan(
		resource("aws:ec2/instance:Instance", "box-instance", map[string]any{"instanceType": "t3.small", "rootBlockDevice": map[string]any{"volumeSize": 20.0}}),
		resource("aws:ec2/eip:Eip", "box-eip", map[string]any{}),
	), "us-east-1", Usage{})
	if err != nil {
		t.Fatal(err)
	}
	want := 730*r.EC2["t3.small"] + 20*r.EBSGp3GbMonth + 730*tbl.Global["publicIpv4Hour"] +
		3*tbl.Global["customMetricMonth"] // the CloudWatch agent's memory and two disks
	if math.Abs(e.Fixed-want) > 0.02 || e.Usage != 0 || e.Monthly != e.Fixed {
		t.Errorf("one box: fixed $%.2f usage $%.2f, want $%.2f fixed", e.Fixed, e.Usage, want)
	}
	for _, it := range e.Items {
		if it.Basis == "" || it.Kind != "fixed" {
			t.Errorf("%s: basis %q kind %q", it.Name, it.Basis, it.Kind)
		}
	}
}

// TestNothingIsLeftOutSilently: a type neither priced nor declared free is an error, and a
// free one costs nothing.
func TestNothingIsLeftOutSilently(t *testing.T) {
	if _, err := Price(plan(resource("aws:sqs/queue:Queue", "q", map[string]any{})), "us-east-1", Usage{}); err == nil || !strings.Contains(err.Error(), "aws:sqs/queue:Queue") {
		t.Errorf("an unpriced type: %v", err)
	}
	e, err := Price(plan(resource("aws:iam/role:Role", "r", map[string]any{})), "us-east-1", Usage{})
	if err != nil || e.Monthly != 0 || len(e.Items) != 0 {
		t.Errorf("a free type: %+v, %v", e, err)
	}
	if _, err := Price(plan(), "xx-nowhere-1", Usage{}); err == nil {
		t.Error("a region without prices is priced")
	}
}

// TestTiered: volume tiers price each part of the amount at its own tier.
func TestTiered(t *testing.T) {
	tiers := []Tier{{UpTo: 10, Share: 1}, {UpTo: 50, Share: 0.5}, {UpTo: 0, Share: 0.25}}
	for _, c := range []struct {
		amount, want float64
		crossed      int
	}{
		{5, 5, 0},
		{10, 10, 0},
		{30, 10 + 20*0.5, 1},
		{100, 10 + 40*0.5 + 50*0.25, 2},
	} {
		got, crossed := tiered(c.amount, 1, tiers)
		if math.Abs(got-c.want) > 1e-9 || crossed != c.crossed {
			t.Errorf("%g: %g across %d tiers, want %g across %d", c.amount, got, crossed, c.want, c.crossed)
		}
	}
}

// TestWriterAcuFollowsTraffic: the writer's capacity is the rungs' at their traffic, between
// them on the line, and follows a usage file's requests unless the file sets it.
func TestWriterAcuFollowsTraffic(t *testing.T) {
	for _, c := range []struct{ requests, want float64 }{{3e6, 0.5}, {30e6, 1}, {65e6, 1.5}, {300e6, 2}, {1000e6, 4}, {2000e6, 7}} {
		if got := WriterAcu(c.requests); got != c.want {
			t.Errorf("%g requests: %g ACU, want %g", c.requests, got, c.want)
		}
	}
	u, err := ParseUsage([]byte("requests: 1000000000"), Profile(30e6))
	if err != nil || u["writerAcu"] != 4 || u["readerAcu"] != 2 {
		t.Errorf("a usage file's requests leave the writer at %g ACU, the reader at %g (%v)", u["writerAcu"], u["readerAcu"], err)
	}
	if u, _ := ParseUsage([]byte("requests: 1000000000\nwriterAcu: 3"), Profile(30e6)); u["writerAcu"] != 3 {
		t.Errorf("a usage file's own writerAcu was replaced: %g", u["writerAcu"])
	}
}

// TestEveryPriceHasItsSource: each price in the table names the page it was read from and the
// date it took effect, no later than the table's.
func TestEveryPriceHasItsSource(t *testing.T) {
	tbl, err := Prices()
	if err != nil {
		t.Fatal(err)
	}
	keys := slices.Collect(maps.Keys(tbl.Global))
	rt := reflect.TypeOf(Region{})
	for i := range rt.NumField() {
		keys = append(keys, strings.Split(rt.Field(i).Tag.Get("json"), ",")[0])
	}
	for name := range tbl.Tiers {
		keys = append(keys, "tiers."+name)
	}
	keys = append(keys, "freeTier")
	for _, k := range keys {
		s, ok := tbl.PriceSources[k]
		if !ok || !strings.HasPrefix(s.Page, "https://") {
			t.Errorf("price %s names no source page", k)
			continue
		}
		if d, err := time.Parse(time.DateOnly, s.Effective); err != nil || s.Effective > tbl.PriceDate {
			t.Errorf("price %s: effective %q (%v), after the table's %s or not a date", k, s.Effective, d, tbl.PriceDate)
		}
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/llama-stages/llama/stacks"
)

var cdn = []string{"-c", "cloudflareZoneId=0123456789abcdef0123456789abcdef", "-c", "domain=llama.example.com", "-c", "cloudflareCertificate=advanced"}

func llama(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errs bytes.Buffer
	code := run(append(args[:1:1], append([]string{"--project-dir", "../.."}, args[1:]...)...), &out, &errs)
	return code, out.String(), errs.String()
}

func keys(m map[string]any) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

func TestStages(t *testing.T) {
	code, out, errs := llama(t, "stages")
	if code != 0 {
		t.Fatalf("stages exited %d: %s", code, errs)
	}
	for _, r := range stacks.Ladder {
		if !strings.Contains(out, r.Stage) || !strings.Contains(out, r.Promote) {
			t.Errorf("stages does not show %s with when to promote", r.Stage)
		}
	}
	if n := strings.Count(out, "a month on the dev stack, $"); n != len(stacks.Ladder) {
		t.Errorf("stages prices %d rungs at the dev stack and the default config, want %d", n, len(stacks.Ladder))
	}
}

// TestCostJSONShape fixes the cost command's JSON contract and the diff's cost block.
func TestCostJSONShape(t *testing.T) {
	code, out, errs := llama(t, "cost", "--stage", "cache", "--json")
	if code != 0 {
		t.Fatalf("cost exited %d: %s", code, errs)
	}
	var c map[string]any
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatal(err)
	}
	if got := keys(c); got != "assumptions,currency,fixed,items,monthly,priceDate,region,risks,schemaVersion,unpriced,usage" || c["schemaVersion"] != float64(1) {
		t.Errorf("cost keys %s", got)
	}
	items := c["items"].([]any)
	if got := keys(items[0].(map[string]any)); got != "basis,component,kind,monthly,name,type,urn" {
		t.Errorf("item keys %s", got)
	}
	sum := 0.0
	for _, it := range items {
		sum += it.(map[string]any)["monthly"].(float64)
	}
	if d := sum - c["monthly"].(float64); d > 0.05 || d < -0.05 || c["fixed"].(float64)+c["usage"].(float64)-c["monthly"].(float64) > 0.01 {
		t.Errorf("items add up to %.2f, monthly %v = fixed %v + usage %v", sum, c["monthly"], c["fixed"], c["usage"])
	}
	code, out, _ = llama(t, "diff", "--from", "replicas", "--to", "cache", "--json")
	var d map[string]any
	if err := json.Unmarshal([]byte(out), &d); code != 0 || err != nil {
		t.Fatalf("diff: %d %v", code, err)
	}
	cd, _ := d["cost"].(map[string]any)
	if cd == nil || cd["from"].(float64) <= 0 || cd["to"].(float64) <= cd["from"].(float64) || cd["delta"].(float64) <= 0 {
		t.Errorf("diff cost block %v: adding the cache costs money", cd)
	}
	code, out, _ = llama(t, "diff", "--from", "replicas", "--to", "cache")
	if code != 0 || !strings.Contains(out, "Monthly cost, both sides at servers/cache's profile") || !strings.Contains(out, "cache-group arrives") {
		t.Errorf("diff text lacks the monthly change and what causes it:\n%s", out)
	}
}

// TestCostText: one line per item by component, the totals, the price date and region, the
// assumptions; a region the table lacks, or a bad usage file, is a named error.
func TestCostText(t *testing.T) {
	code, out, errs := llama(t, "cost", "--stage", "single-box")
	if code != 0 {
		t.Fatalf("cost exited %d: %s", code, errs)
	}
	for _, want := range []string{"us-east-1, prices of 2026-11-01 (USD)", "box-instance", "t3.micro: 730 h x $0.0104/h", "Monthly: $", "fixed $", "usage $",
		"Assumptions", "requests", "3000000"} {
		if !strings.Contains(out, want) {
			t.Errorf("cost text lacks %q", want)
		}
	}
	code, _, errs = llama(t, "cost", "-c", "aws:region=sa-east-1")
	if code == 0 || !strings.Contains(errs, `"sa-east-1"`) || !strings.Contains(errs, "ap-southeast-1, eu-central-1, eu-west-1, us-east-1, us-west-2") {
		t.Errorf("an unpriced region: exit %d, %s", code, errs)
	}
	code, _, errs = llama(t, "cost", "--usage", "/nonexistent/usage.yaml")
	if code == 0 || !strings.Contains(errs, "--usage") {
		t.Errorf("a missing usage file: exit %d, %s", code, errs)
	}
}

// TestPlanJSONShape fixes the plan's JSON contract.
func TestPlanJSONShape(t *testing.T) {
	code, out, errs := llama(t, "plan", "--stage", "separate-db", "--json")
	if code != 0 {
		t.Fatalf("plan exited %d: %s", code, errs)
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	if got := keys(p); got != "layers,outputs,platform,project,region,resources,retired,schemaVersion,stack,stage,warnings" || p["schemaVersion"] != float64(1) {
		t.Errorf("plan keys %s", got)
	}
	if got := fmt.Sprint(p["layers"], p["retired"]); got != "[box database monitoring network] []" {
		t.Errorf("separate-db layers and retired layers: %s", got)
	}
	if p["project"] != "llama" || p["stack"] != "dev" || p["stage"] != "separate-db" || p["platform"] != "servers" {
		t.Errorf("plan header %v %v %v %v", p["project"], p["stack"], p["stage"], p["platform"])
	}
	res := p["resources"].([]any)
	want := "aliases,custom,dependsOn,id,inputs,name,outputs,parent,protect,retainOnDelete,stateful,type,urn"
	for _, r := range res {
		if got := keys(r.(map[string]any)); got != want {
			t.Fatalf("resource keys %s, want %s", got, want)
		}
	}
	if strings.Contains(out, "offline-") {
		t.Error("a secret value is printed in plain text")
	}
	if !strings.Contains(out, `"password": "[secret]"`) {
		t.Error("the database password does not print as [secret]")
	}
}

func TestPlanErrors(t *testing.T) {
	code, _, errs := llama(t, "plan", "--stage", "bogus", "--json")
	if code == 0 || !strings.Contains(errs, "llama:stage") || !strings.Contains(errs, "single-box") {
		t.Errorf("unknown stage: exit %d, %s", code, errs)
	}
	code, _, errs = llama(t, "plan", "--stage", "replicas", "-c", "replicas=16")
	if code == 0 || !strings.Contains(errs, "llama:replicas") {
		t.Errorf("16 replicas: exit %d, %s", code, errs)
	}
	code, _, errs = llama(t, "plan", "--stack", "nosuchstack")
	if code == 0 || !strings.Contains(errs, "Pulumi.nosuchstack.yaml") {
		t.Errorf("missing stack file: exit %d, %s", code, errs)
	}
}

func TestPlanFormats(t *testing.T) {
	code, out, _ := llama(t, "plan", "--stage", "cache", "--format", "mermaid")
	if code != 0 || !strings.HasPrefix(out, "flowchart") || !strings.Contains(out, "ElastiCache") {
		t.Errorf("mermaid: exit %d\n%s", code, out)
	}
	code, out, _ = llama(t, "plan", "--stage", "single-box", "--full")
	if code != 0 || !strings.Contains(out, "Instance box-instance") || !strings.Contains(out, "retained on delete") {
		t.Errorf("tree: exit %d\n%s", code, out)
	}
}

// TestDiffJSONShape fixes the diff's JSON contract and that promotions pass.
func TestDiffJSONShape(t *testing.T) {
	code, out, errs := llama(t, append([]string{"diff", "--from", "cache", "--to", "cdn", "--json"}, cdn...)...)
	if code != 0 {
		t.Fatalf("cache -> cdn exited %d: %s", code, errs)
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	if got := keys(d); got != "cost,creates,dataLoss,deletes,from,kept,kind,outage,refused,region,replaces,retained,schemaVersion,security,skipped,stack,steps,to,unchanged,updates,warnings" {
		t.Errorf("diff keys %s", got)
	}
	for _, c := range d["creates"].([]any) {
		if c.(map[string]any)["urn"] == "" {
			t.Error("a create without a URN")
		}
	}
	for _, u := range d["updates"].([]any) {
		if len(u.(map[string]any)["keys"].([]any)) == 0 {
			t.Error("an update without its changed keys")
		}
	}
}

func TestDiffRefusesDataLoss(t *testing.T) {
	code, out, errs := llama(t, "diff", "--from", "sharded", "--to", "separate-db", "--json", "-c", "cloudflareZoneId=0123456789abcdef0123456789abcdef", "-c", "domain=llama.example.com", "-c", "cloudflareCertificate=advanced")
	if code != exitDataLoss || !strings.Contains(errs, "--allow-data-loss") {
		t.Fatalf("sharded -> separate-db exited %d: %s", code, errs)
	}
	var d struct {
		DataLoss []struct{ URN, Type string } `json:"dataLoss"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil || len(d.DataLoss) == 0 {
		t.Fatalf("no data loss reported: %v", err)
	}
	// Going down to separate-db takes the load balancer and static.<domain> away too: an
	// outage, which its own flag allows.
	code, _, _ = llama(t, "diff", "--from", "sharded", "--to", "separate-db", "--allow-data-loss", "--allow-outage", "-c", "cloudflareZoneId=0123456789abcdef0123456789abcdef", "-c", "domain=llama.example.com", "-c", "cloudflareCertificate=advanced")
	if code != 0 {
		t.Errorf("--allow-data-loss still exits %d", code)
	}
	// A change of platform is a migration: both databases differ.
	code, out, _ = llama(t, "diff", "--from", "replicas", "--from-platform", "servers", "--to", "replicas", "--to-platform", "serverless")
	if code != exitDataLoss || !strings.Contains(out, "separate architectures") {
		t.Errorf("servers -> serverless exited %d\n%s", code, out)
	}
	// Shrinking shards shows them protected and deleted.
	code, out, _ = llama(t, append([]string{"diff", "--from", "sharded", "--to", "sharded", "-c", "shards=5", "--to-c", "shards=2", "-c", "protect=true", "--full"}, cdn...)...)
	if code != exitDataLoss || strings.Count(out, "[protected: pulumi up refuses until unprotected]") < 3 || !strings.Contains(out, "shard-4-cluster") {
		t.Errorf("5 -> 2 shards exited %d\n%s", code, out)
	}
}

func TestDiffText(t *testing.T) {
	code, out, _ := llama(t, "diff", "--from", "single-box", "--to", "separate-db")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"to create", "+ Instance database-primary [holds data]", "No resource that holds data is deleted or replaced",
		"(after this pulumi up) llama-app move db", "(the retire pulumi up) pulumi config set llama:moved db && pulumi up", "dashboardBody: ", "Promotion dev (us-east-1): servers/single-box -> servers/separate-db"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff text lacks %q", want)
		}
	}
	if strings.Contains(out, "dashboardBody.widgets[") {
		t.Error("the dashboard's changed paths are listed one by one, not folded into a line")
	}
	// The expand up keeps the box serving beside the fleet; the retire up lets it go.
	_, out, _ = llama(t, "diff", "--from", "separate-db", "--to", "load-balanced", "-c", "moved=db")
	if strings.Contains(out, "- Instance box-instance") || strings.Contains(out, "- Eip box-eip") || !strings.Contains(out, "lower the app hostname's DNS TTL") {
		t.Errorf("the load-balanced expand up retires the box before its traffic moved:\n%s", out)
	}
	_, out, _ = llama(t, "diff", "--from", "load-balanced", "--to", "load-balanced", "-c", "moved=db", "--to-c", "moved=db,traffic")
	if !strings.Contains(out, "- Instance box-instance") || !strings.Contains(out, "= Volume box-data [holds data]") || !strings.Contains(out, "point of no return") {
		t.Errorf("the traffic retire up does not show the box going and its volume staying:\n%s", out)
	}
}

// TestAnOutageHasItsOwnExitStatus: a demotion that takes a published hostname away (cdn ->
// cache drops static.<domain>'s record) exits 4, naming the flag; --allow-outage exits 0; and
// only diff's help lists the statuses only diff returns.
func TestAnOutageHasItsOwnExitStatus(t *testing.T) {
	code, out, errs := llama(t, append([]string{"diff", "--from", "cdn", "--to", "cache"}, cdn...)...)
	if code != exitOutage || !strings.Contains(errs, "--allow-outage") || !strings.Contains(out, "OUTAGE") || !strings.Contains(out, "cdn-static") {
		t.Errorf("cdn -> cache exited %d:\n%s\n%s", code, out, errs)
	}
	if code, _, errs := llama(t, append([]string{"diff", "--from", "cdn", "--to", "cache", "--allow-outage"}, cdn...)...); code != exitOK {
		t.Errorf("--allow-outage exited %d: %s", code, errs)
	}
	if code, _, _ := llama(t, append([]string{"diff", "--from", "cache", "--to", "cdn"}, cdn...)...); code != exitOK {
		t.Errorf("cache -> cdn, which takes nothing away, exited %d", code)
	}
	_, planHelp, _ := llama(t, "plan", "--help")
	_, diffHelp, _ := llama(t, "diff", "--help")
	if strings.Contains(planHelp, "  3  ") || strings.Contains(planHelp, "  4  ") || !strings.Contains(diffHelp, "  3  ") || !strings.Contains(diffHelp, "  4  ") {
		t.Errorf("exit statuses in help: plan\n%s\ndiff\n%s", planHelp, diffHelp)
	}
}

// TestFailOnCostIncrease: a CI guardrail, as Infracost's: the diff exits 5 when the change
// raises the monthly cost by more than the limit, in USD or in percent; under it, 0.
func TestFailOnCostIncrease(t *testing.T) {
	for _, c := range []struct {
		limit string
		code  int
	}{{"1", exitCost}, {"100000", exitOK}, {"10%", exitCost}, {"100000%", exitOK}, {"ten", exitUsage}, {"-5", exitUsage}} {
		code, _, errs := llama(t, "diff", "--from", "single-box", "--to", "separate-db", "--fail-on-cost-increase", c.limit)
		if code != c.code {
			t.Errorf("--fail-on-cost-increase %s: exit %d, want %d: %s", c.limit, code, c.code, errs)
		}
		if c.code == exitCost && !strings.Contains(errs, "raises the monthly cost") {
			t.Errorf("--fail-on-cost-increase %s: %s", c.limit, errs)
		}
	}
}

// TestPlanLayers: the plan reports the layers as the program resolved them: the box stays at
// load-balanced until its data and traffic have moved, and is retired either way.
func TestPlanLayers(t *testing.T) {
	for _, c := range []struct {
		moved, want string
	}{
		{"", "[box database fleet monitoring network] [box]"},
		{"db,traffic", "[database fleet monitoring network] [box]"},
	} {
		args := []string{"plan", "--stage", "load-balanced", "--json"}
		if c.moved != "" {
			args = append(args, "-c", "moved="+c.moved)
		}
		code, out, errs := llama(t, args...)
		if code != 0 {
			t.Fatalf("plan exited %d: %s", code, errs)
		}
		var p struct{ Layers, Retired []string }
		if err := json.Unmarshal([]byte(out), &p); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(p.Layers, p.Retired); got != c.want {
			t.Errorf("moved %q: layers and retired %s, want %s", c.moved, got, c.want)
		}
	}
}

// TestCostFreeTier: --free-tier takes the account's always-free allowances off, and says where.
func TestCostFreeTier(t *testing.T) {
	price := func(args ...string) map[string]any {
		t.Helper()
		code, out, errs := llama(t, append([]string{"cost", "--platform", "serverless", "--stage", "serverless", "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("cost exited %d: %s", code, errs)
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(out), &e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	full, free := price(), price("--free-tier")
	if free["monthly"].(float64) >= full["monthly"].(float64) {
		t.Errorf("with the free tier $%v, without $%v", free["monthly"], full["monthly"])
	}
	noted := false
	for _, it := range free["items"].([]any) {
		if strings.Contains(it.(map[string]any)["basis"].(string), "free tier") {
			noted = true
		}
	}
	if !noted || !strings.Contains(fmt.Sprint(free["assumptions"]), "always-free") {
		t.Error("the estimate does not say what the free tier took off")
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/llama-stages/llama/stacks"
)

var cdn = []string{"-c", "cloudflareZoneId=0123456789abcdef0123456789abcdef", "-c", "domain=llama.example.com"}

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
	var out bytes.Buffer
	if code := run([]string{"stages"}, &out, &out); code != 0 {
		t.Fatalf("stages exited %d", code)
	}
	for _, r := range stacks.Ladder {
		if !strings.Contains(out.String(), r.Stage) || !strings.Contains(out.String(), r.Promote) {
			t.Errorf("stages does not show %s with when to promote", r.Stage)
		}
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
	if got := keys(p); got != "outputs,platform,project,resources,stack,stage" {
		t.Errorf("plan keys %s", got)
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
	code, out, _ = llama(t, "plan", "--stage", "single-box")
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
	if got := keys(d); got != "creates,dataLoss,deletes,from,kept,replaces,retained,steps,to,unchanged,updates" {
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
	code, out, errs := llama(t, "diff", "--from", "sharded", "--to", "separate-db", "--json", "-c", "cloudflareZoneId=0123456789abcdef0123456789abcdef", "-c", "domain=llama.example.com")
	if code != exitDataLoss || !strings.Contains(errs, "--allow-data-loss") {
		t.Fatalf("sharded -> separate-db exited %d: %s", code, errs)
	}
	var d struct {
		DataLoss []struct{ URN, Type string } `json:"dataLoss"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil || len(d.DataLoss) == 0 {
		t.Fatalf("no data loss reported: %v", err)
	}
	code, _, _ = llama(t, "diff", "--from", "sharded", "--to", "separate-db", "--allow-data-loss", "-c", "cloudflareZoneId=0123456789abcdef0123456789abcdef", "-c", "domain=llama.example.com")
	if code != 0 {
		t.Errorf("--allow-data-loss still exits %d", code)
	}
	// A change of platform is a migration: both databases differ.
	code, out, _ = llama(t, "diff", "--from", "replicas", "--from-platform", "servers", "--to", "replicas", "--to-platform", "serverless")
	if code != exitDataLoss || !strings.Contains(out, "separate architectures") {
		t.Errorf("servers -> serverless exited %d\n%s", code, out)
	}
	// Shrinking shards shows them protected and deleted.
	code, out, _ = llama(t, append([]string{"diff", "--from", "sharded", "--to", "sharded", "-c", "shards=5", "--to-c", "shards=2", "-c", "protect=true"}, cdn...)...)
	if code != exitDataLoss || strings.Count(out, "[protected: pulumi up refuses until unprotected]") < 3 || !strings.Contains(out, "shard-4-cluster") {
		t.Errorf("5 -> 2 shards exited %d\n%s", code, out)
	}
}

func TestDiffText(t *testing.T) {
	code, out, _ := llama(t, "diff", "--from", "single-box", "--to", "separate-db")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"create (", "+ Instance database-primary [holds data]", "No resource that holds data is deleted or replaced",
		"copy PostgreSQL's data from the box into RDS", "dashboardBody:"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff text lacks %q", want)
		}
	}
	_, out, _ = llama(t, "diff", "--from", "separate-db", "--to", "load-balanced")
	if !strings.Contains(out, "- Instance box-instance") || !strings.Contains(out, "= Volume box-data [holds data]") {
		t.Errorf("load-balanced diff does not show the box going and its volume staying:\n%s", out)
	}
}

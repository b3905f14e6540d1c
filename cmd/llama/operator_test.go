package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	edge "github.com/llama-stages/llama/components/cdn"
)

// TestConfigMistakesAreRefused: each silent mistake a tired operator makes is refused with
// exit 1 and what to write instead.
func TestConfigMistakesAreRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"unknown key", []string{"plan", "-c", "replica=3"}, []string{"llama:replica is not a config key", "did you mean replicas?"}},
		{"bare provider key", []string{"plan", "-c", "region=eu-west-1"}, []string{"llama:region", "write aws:region"}},
		{"positional stage", []string{"plan", "cache"}, []string{`unexpected argument "cache"`, "--stage cache"}},
		{"positional key=value", []string{"plan", "stage=cache"}, []string{`unexpected argument "stage=cache"`, "--stage cache"}},
		{"positional other", []string{"plan", "--stage", "cache", "x=1"}, []string{`unexpected argument "x=1"`, "-c x=1"}},
		{"mistyped flag", []string{"plan", "--stge", "cache"}, []string{"unknown flag --stge", "did you mean --stage?"}},
		{"mistyped stage", []string{"plan", "--stage", "cahce"}, []string{"llama:stage", "did you mean cache?"}},
		{"servers stage on serverless", []string{"plan", "--platform", "serverless", "--stage", "load-balanced"}, []string{"on the serverless ladder, serverless (the start", "takes its place"}},
		{"how to set a key", []string{"plan", "--stage", "replicas", "-c", "replicas=16"}, []string{"pulumi config set llama:replicas <value>", "-c replicas=<value>"}},
		{"the Cloudflare token at cdn", []string{"plan", "--stage", "cdn"}, []string{"llama:cloudflareZoneId", "cloudflare:apiToken"}},
		{"conflicting formats", []string{"plan", "--json", "--format", "mermaid"}, []string{"--json and --format mermaid conflict"}},
		{"diff conflicting formats", []string{"diff", "--from", "single-box", "--to", "separate-db", "--json", "--format", "text"}, []string{"conflict"}},
		{"diff bad format", []string{"diff", "--from", "single-box", "--to", "separate-db", "--format", "jsno"}, []string{`unknown --format "jsno" (did you mean json?)`}},
		{"unknown command", []string{"plna"}, []string{`unknown command "plna" (did you mean plan?)`}},
	} {
		code, _, errs := llama(t, c.args...)
		if c.name == "unknown command" {
			code, _, errs = runCapture(c.args...)
		}
		if code != exitUsage {
			t.Errorf("%s: exit %d, want %d", c.name, code, exitUsage)
		}
		for _, w := range c.want {
			if !strings.Contains(errs, w) {
				t.Errorf("%s: %q lacks %q", c.name, errs, w)
			}
		}
		if strings.Count(errs, "llama:") > 1 && !strings.Contains(errs, "llama:replica") && !strings.Contains(errs, "llama:stage") &&
			!strings.Contains(errs, "llama:region") && !strings.Contains(errs, "llama:replicas") && !strings.Contains(errs, "llama:cloudflareZoneId") {
			t.Errorf("%s: the error prints more than once: %q", c.name, errs)
		}
		if strings.Contains(errs, "Usage of") || strings.Contains(errs, "  -stack") {
			t.Errorf("%s: Go's flag list is dumped: %q", c.name, errs)
		}
	}
}

func runCapture(args ...string) (int, string, string) {
	var out, errs strings.Builder
	code := run(args, &out, &errs)
	return code, out.String(), errs.String()
}

// TestUnknownKeyInAStackFile: a typo in a stack file is refused like one on the command line.
func TestUnknownKeyInAStackFile(t *testing.T) {
	dir := t.TempDir()
	proj, _ := os.ReadFile("../../Pulumi.yaml")
	os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), proj, 0o644)
	os.WriteFile(filepath.Join(dir, "Pulumi.typo.yaml"), []byte("config:\n  llama:replica: 3\n"), 0o644)
	var out, errs strings.Builder
	code := run([]string{"plan", "--project-dir", dir, "--stack", "typo"}, &out, &errs)
	if code != exitUsage || !strings.Contains(errs.String(), "llama:replica is not a config key") || !strings.Contains(errs.String(), "replicas") {
		t.Errorf("exit %d: %s", code, errs.String())
	}
}

// TestUnusedKeysWarn: keys the stage does not use yet are a warning naming the rung they take
// effect from, not an error.
func TestUnusedKeysWarn(t *testing.T) {
	code, _, errs := llama(t, "plan", "--stage", "cache", "-c", "shards=3")
	if code != exitOK || !strings.Contains(errs, "warning: llama:shards is set, but the cache rung does not use it: it takes effect from the sharded rung on") {
		t.Errorf("exit %d: %s", code, errs)
	}
	code, _, errs = llama(t, "plan", "--stage", "single-box", "-c", "certificateArn=arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000000")
	if code != exitOK || !strings.Contains(errs, "llama:certificateArn is set, but the single-box rung does not use it: it takes effect from the load-balanced rung on") {
		t.Errorf("exit %d: %s", code, errs)
	}
	code, _, errs = llama(t, "diff", "--from", "replicas", "--to", "cache", "--to-c", "shards=3")
	if code != exitOK || !strings.Contains(errs, "llama:shards is set") {
		t.Errorf("diff: exit %d: %s", code, errs)
	}
	code, _, errs = llama(t, "plan", "--stage", "cache", "-c", "replicas=3")
	if strings.Contains(errs, "llama:replicas is set") {
		t.Errorf("a key the stage uses warns: %s", errs)
	}
}

// TestHelp: help goes to stdout with exit 0, at the top and for every command, and lists the
// exit statuses the command can return (3 and 4 only at the top and for diff).
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}, {"-h"}, {"help", "diff"}, {"plan", "--help"}, {"plan", "-h"}, {"diff", "--help"}, {"cost", "--help"}, {"stages", "--help"}} {
		code, out, errs := runCapture(args...)
		onlyDiff := len(args) == 0 || args[0] == "diff" || args[len(args)-1] == "diff" || args[0] == "help" || args[0] == "--help" || args[0] == "-h"
		if code != exitOK || errs != "" || !strings.Contains(out, "Exit status:") || strings.Contains(out, "3  the diff would delete") != onlyDiff {
			t.Errorf("%v: exit %d, stderr %q, stdout %q", args, code, errs, out)
		}
	}
	_, out, _ := runCapture("plan", "--help")
	for _, w := range []string{"usage: llama plan", "--stage", "--format", "--full"} {
		if !strings.Contains(out, w) {
			t.Errorf("plan --help lacks %s", w)
		}
	}
	if code, _, errs := runCapture(); code != exitUsage || !strings.Contains(errs, "Commands:") {
		t.Errorf("no arguments: exit %d, %s", code, errs)
	}
}

// TestDiffReview: the diff names its kind and skipped rungs, lists steps in ladder order as
// objects, shows structured inputs path by path, and keeps lists [] with a schema version.
func TestDiffReview(t *testing.T) {
	code, out, _ := llama(t, "diff", "--from", "separate-db", "--to", "cache", "--json")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var d struct {
		SchemaVersion int      `json:"schemaVersion"`
		Kind          string   `json:"kind"`
		Skipped       []string `json:"skipped"`
		Deletes       []any    `json:"deletes"`
		DataLoss      []any    `json:"dataLoss"`
		Steps         []struct{ ID, Rung, Text string }
		Updates       []struct {
			Name  string
			Paths []struct{ Path string }
		}
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	if d.SchemaVersion != 3 || d.Kind != "promotion" || strings.Join(d.Skipped, ",") != "load-balanced,replicas" || d.DataLoss == nil {
		t.Errorf("schema %d kind %q skipped %v dataLoss %v", d.SchemaVersion, d.Kind, d.Skipped, d.DataLoss)
	}
	var rungs []string
	for _, s := range d.Steps {
		if s.ID == "" || s.Text == "" {
			t.Errorf("step %+v lacks an id or text", s)
		}
		if s.Rung != "" {
			rungs = append(rungs, s.Rung)
		}
	}
	if strings.Join(rungs, ",") != "load-balanced,replicas,cache" {
		t.Errorf("steps by rung %v, want load-balanced, replicas, cache in order", rungs)
	}
	found := false
	for _, u := range d.Updates {
		for _, p := range u.Paths {
			found = found || strings.HasPrefix(p.Path, "dashboardBody.widgets[")
		}
	}
	if !found {
		t.Error("the dashboard's change is not shown path by path")
	}
	_, text, _ := llama(t, "diff", "--from", "separate-db", "--to", "cache")
	for _, w := range []string{"Promotion dev (us-east-1): servers/separate-db -> servers/cache (skips load-balanced, replicas", "[load-balanced, skipped]", "[cache] "} {
		if !strings.Contains(text, w) {
			t.Errorf("diff text lacks %q", w)
		}
	}
	for _, c := range []struct {
		args []string
		kind string
	}{
		{[]string{"--from", "cache", "--to", "replicas"}, "Demotion"},
		{[]string{"--from", "cache", "--to", "cache", "--to-c", "replicas=3"}, "Day-2 config change"},
		{[]string{"--from", "cache", "--to", "cache", "--from-platform", "servers", "--to-platform", "serverless"}, "Migration between ladders"},
	} {
		_, text, _ := llama(t, append([]string{"diff"}, c.args...)...)
		if !strings.HasPrefix(text, c.kind) {
			t.Errorf("%v: %q", c.args, strings.SplitN(text, "\n", 2)[0])
		}
	}
	// A policy change names the statement's path and both values, not a truncated prefix.
	_, text, _ = llama(t, append([]string{"diff", "--from", "nosql", "--to", "nosql", "--to-c", "tables=events:userId", "--full", "--allow-data-loss"}, cdn...)...)
	// The new table's ARN is known only after apply, as pulumi preview says.
	if !strings.Contains(text, "policy.Statement[0].Resource[0]: \"arn:aws:dynamodb:us-east-1:123456789012:table/llama-dev-activity\" -> (known after apply)") {
		t.Errorf("the table grant's change is not shown by path:\n%s", text)
	}
}

// TestLargePlansFitOneScreen: 64 shards summarise in a screenful; --full lists everything.
func TestLargePlansFitOneScreen(t *testing.T) {
	args := append([]string{"plan", "--stage", "sharded", "-c", "shards=64", "-c", "dbClusterQuota=64", "-c", "dbInstanceQuota=200"}, cdn...)
	_, out, _ := llama(t, args...)
	if n := strings.Count(out, "\n"); n > 70 || !strings.Contains(out, "shard-<i> (x64)") {
		t.Errorf("the summary of 64 shards is %d lines:\n%s", n, out)
	}
	_, full, _ := llama(t, append(args, "--full")...)
	if strings.Count(full, "\n") < 1000 {
		t.Error("--full does not list every resource")
	}
	_, diff, _ := llama(t, append([]string{"diff", "--from", "cache", "--to", "sharded", "--to-c", "shards=64", "-c", "dbClusterQuota=64", "-c", "dbInstanceQuota=200"}, cdn...)...)
	if n := strings.Count(diff, "\n"); n > 100 { // 80, the shard move's four steps and the security section
		t.Errorf("the diff to 64 shards is %d lines", n)
	}
}

// TestPlaceholdersAreMarked: the offline engine's made-up outputs read as placeholders.
func TestPlaceholdersAreMarked(t *testing.T) {
	_, out, _ := llama(t, "plan", "--stage", "single-box")
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.Contains(line, "boxPublicIp"), strings.Contains(line, "vpcId"):
			if !strings.HasPrefix(strings.TrimSpace(line), "~") {
				t.Errorf("a made-up output is not marked: %q", line)
			}
		case strings.Contains(line, "parameterPrefix"), strings.Contains(line, " stage "):
			if strings.HasPrefix(strings.TrimSpace(line), "~") {
				t.Errorf("a real output is marked a placeholder: %q", line)
			}
		}
	}
}

// TestEdgeCertificateNote: a hostname two labels below its zone is refused, naming both ways
// out, unless the zone's Advanced Certificate Manager is declared, when the plan notes it; one
// label below says nothing. The zone is the registrable domain by the Public Suffix List.
func TestEdgeCertificateNote(t *testing.T) {
	zone := []string{"-c", "cloudflareZoneId=0123456789abcdef0123456789abcdef"}
	code, _, errs := llama(t, append([]string{"plan", "--stage", "cdn", "-c", "domain=app.example.com"}, zone...)...)
	if code != exitUsage || !strings.Contains(errs, "static.app.example.com is two labels below its zone example.com") || !strings.Contains(errs, "llama:cloudflareCertificate advanced") {
		t.Errorf("static.app.example.com is not refused: exit %d, %s", code, errs)
	}
	code, _, errs = llama(t, append([]string{"plan", "--stage", "cdn", "-c", "domain=app.example.com", "-c", "cloudflareCertificate=advanced"}, zone...)...)
	if code != exitOK || !strings.Contains(errs, "relies on the Advanced Certificate Manager") {
		t.Errorf("with Advanced Certificate Manager declared: exit %d, %s", code, errs)
	}
	_, _, errs = llama(t, append([]string{"plan", "--stage", "cdn", "-c", "domain=example.com"}, zone...)...)
	if strings.Contains(errs, "Universal SSL") || strings.Contains(errs, "Advanced Certificate") {
		t.Errorf("a note for static.example.com: %s", errs)
	}
	code, _, errs = llama(t, append([]string{"plan", "--platform", "serverless", "--stage", "cdn", "-c", "domain=shop.example.co.uk"}, zone...)...)
	if code != exitUsage || !strings.Contains(errs, "api.shop.example.co.uk is two labels below its zone example.co.uk") {
		t.Errorf("api.shop.example.co.uk is not refused: exit %d, %s", code, errs)
	}
}

// TestPlanAgainstAZone: `llama plan --zone` starts from what the zone holds, as Cloudflare's API
// lists it (a transform rule's headers a map keyed by header name): another Llama stack's
// rules, or a rule no Llama stack wrote, are refused with what to do; the stack's own rules
// need nothing.
func TestPlanAgainstAZone(t *testing.T) {
	dir := t.TempDir()
	write := func(name, ref, rulesetName string) string {
		p := filepath.Join(dir, name)
		body := fmt.Sprintf(`{"result": [{"id": "f00dfeedf00dfeedf00dfeedf00dfeed", "kind": "zone", "name": %q, "phase": "http_config_settings",
			"rules": [{"id": "r1", "ref": %q, "expression": "http.host eq \"other.example.com\"", "action": "set_config",
			"action_parameters": {"ssl": "strict", "automatic_https_rewrites": true}, "enabled": true}]},
			{"id": "beadbeadbeadbeadbeadbeadbeadbead", "kind": "zone", "name": "Llama origin verification", "phase": "http_request_late_transform",
			"rules": [{"id": "r2", "ref": %q, "expression": "http.host eq \"api.other.example.com\"", "action": "rewrite",
			"action_parameters": {"headers": {"x-llama-origin-verify": {"operation": "set", "value": "s3cret"}}}, "enabled": true}]}]}`, rulesetName, ref, ref)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	other := write("other.json", "llama_"+edge.Tag("llama/prod")+"_strict_tls", "Llama TLS")
	code, _, errs := llama(t, append([]string{"plan", "--stage", "cdn", "--zone", other}, cdn...)...)
	if code != 1 || !strings.Contains(errs, "another Llama stack wrote") || !strings.Contains(errs, "zone of its own") {
		t.Errorf("beside another stack: exit %d\n%s", code, errs)
	}
	foreign := write("foreign.json", "9f2c", "default")
	code, _, errs = llama(t, append([]string{"plan", "--stage", "cdn", "--zone", foreign}, cdn...)...)
	if code != 1 || !strings.Contains(errs, "no Llama stack wrote") || !strings.Contains(errs, "zone of its own") {
		t.Errorf("beside a rule of the zone's own: exit %d\n%s", code, errs)
	}
	own := write("own.json", "llama_"+edge.Tag("llama/dev")+"_strict_tls", "Llama TLS")
	code, _, errs = llama(t, append([]string{"plan", "--stage", "cdn", "--zone", own}, cdn...)...)
	if code != 0 || strings.Contains(errs, "import") {
		t.Errorf("the stack's own zone: exit %d\n%s", code, errs)
	}
}

// TestOneAnswer: a key given twice, in any spelling, on the command line or in the stack file,
// is refused, and so is -c for what a flag names: which value wins is not left to a map's order.
func TestOneAnswer(t *testing.T) {
	for _, args := range [][]string{
		{"plan", "--stage", "replicas", "-c", "replicas=1", "-c", "llama:replicas=5"},
		{"diff", "--from", "replicas", "--to", "cache", "-c", "stage=load-balanced"},
		{"diff", "--from", "replicas", "--to", "cache", "-c", "llama:platform=serverless"},
		{"diff", "--from", "replicas", "--to", "replicas", "--to-c", "replicas=1", "--to-c", "llama:replicas=3"},
	} {
		code, _, errs := llama(t, args...)
		if code != 1 || !strings.Contains(errs, "-c") && !strings.Contains(errs, "twice") {
			t.Errorf("%v: exit %d, %s", args, code, errs)
		}
	}
	dir := projectWith(t, map[string]string{"twice": "config:\n  llama:stage: replicas\n  replicas: 1\n  llama:replicas: 3\n"})
	var out, errs bytes.Buffer
	if code := run([]string{"plan", "--project-dir", dir, "--stack", "twice"}, &out, &errs); code != 1 || !strings.Contains(errs.String(), "llama:replicas twice") {
		t.Errorf("a stack file giving llama:replicas twice: exit %d, %s", code, errs.String())
	}
}

// TestVersionAndHelpFor: llama --version names the build; help for a mistyped command says
// what was meant instead of printing the top-level help.
func TestVersionAndHelpFor(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"--version"}, &out, &errs); code != 0 || !strings.HasPrefix(out.String(), "llama ") {
		t.Errorf("--version: exit %d, %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"help", "dif"}, &out, &errs); code != 1 || out.Len() != 0 || !strings.Contains(errs.String(), "did you mean diff") {
		t.Errorf("help dif: exit %d, %q, %q", code, out.String(), errs.String())
	}
}

// TestTheStacksOwnStartingPoint: diff starts from the stack file's stage unless told
// otherwise, and says so when told; a stack file that sets no stage or region is named in a
// warning; a mistyped stack lists the stacks there are.
func TestTheStacksOwnStartingPoint(t *testing.T) {
	dir := projectWith(t, map[string]string{
		"prod": "config:\n  aws:region: eu-west-1\n  llama:stage: replicas\n",
		"bare": "config:\n  llama:protect: false\n",
	})
	runIn := func(args ...string) (int, string, string) {
		var out, errs bytes.Buffer
		code := run(append(args[:1:1], append([]string{"--project-dir", dir}, args[1:]...)...), &out, &errs)
		return code, out.String(), errs.String()
	}
	if code, out, _ := runIn("diff", "--stack", "prod", "--to", "cache", "--json"); code != 0 || !strings.Contains(out, `"from": "servers/replicas"`) {
		t.Errorf("diff --to cache on prod (at replicas): exit %d\n%.300s", code, out)
	}
	if _, _, errs := runIn("diff", "--stack", "prod", "--from", "separate-db", "--to", "cache"); !strings.Contains(errs, "prod is at replicas; previewing separate-db -> cache as if it were at separate-db") {
		t.Errorf("a --from other than the stack's stage is not called out: %s", errs)
	}
	if _, _, errs := runIn("plan", "--stack", "bare"); !strings.Contains(errs, "Pulumi.bare.yaml sets no llama:stage") || !strings.Contains(errs, "Pulumi.bare.yaml sets no aws:region") {
		t.Errorf("a stack file that sets no stage or region plans silently: %s", errs)
	}
	if code, _, errs := runIn("plan", "--stack", "prdo"); code != 1 || !strings.Contains(errs, "did you mean prod") {
		t.Errorf("a mistyped stack: exit %d, %s", code, errs)
	}
}

// projectWith is a project directory of the project's Pulumi.yaml and the given stack files
// (stack name -> Pulumi.<stack>.yaml's text).
func projectWith(t *testing.T, stacks map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	proj, err := os.ReadFile("../../Pulumi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"Pulumi.yaml": string(proj)}
	for name, text := range stacks {
		files["Pulumi."+name+".yaml"] = text
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

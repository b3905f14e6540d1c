// Command llama shows, offline, what the Llama stages are and what each builds or changes. It
// runs the real Pulumi program in-process under the SDK's mock engine: no credentials, no cloud.
//
//	llama stages
//	llama plan [--stack dev] [--stage S] [--platform P] [-c key=value ...] [--json | --format mermaid]
//	llama diff --from S1 --to S2 [--platform P] [--from-platform P] [--to-platform P] [--stack dev]
//	           [-c key=value ...] [--to-c key=value ...] [--usage FILE] [--json] [--allow-data-loss]
//	llama cost [--stack dev] [--stage S] [--platform P] [-c key=value ...] [--usage FILE] [--json]
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/llama-stages/llama/preview"
)

// exitDataLoss is the exit status of a diff that would lose data.
const exitDataLoss = 3

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: llama stages | plan [flags] | diff --from S1 --to S2 [flags] | cost [flags]")
		return 2
	}
	var err error
	code := 0
	switch args[0] {
	case "stages":
		err = stages(args[1:], stdout)
	case "cost":
		err = costCmd(args[1:], stdout)
	case "plan":
		err = plan(args[1:], stdout)
	case "diff":
		code, err = diff(args[1:], stdout, stderr)
	default:
		err = fmt.Errorf("unknown command %q: want stages, plan, diff or cost", args[0])
		code = 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "llama:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// kv collects repeated -c key=value flags.
type kv map[string]string

// String renders the overrides (flag.Value).
func (m kv) String() string { return fmt.Sprint(map[string]string(m)) }

// Set records one key=value override (flag.Value).
func (m kv) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	m[k] = v
	return nil
}

func plan(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	req := preview.Request{Overrides: kv{}}
	fs.StringVar(&req.Stack, "stack", "dev", "stack whose Pulumi.<stack>.yaml to read")
	fs.StringVar(&req.Dir, "project-dir", ".", "directory of Pulumi.yaml")
	fs.StringVar(&req.Stage, "stage", "", "stage to plan (default: the stack's llama:stage)")
	fs.StringVar(&req.Platform, "platform", "", "ladder: servers or serverless (default: the stack's)")
	fs.Var(kv(req.Overrides), "c", "config override key=value (repeatable)")
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	format := fs.String("format", "tree", "tree, json or mermaid")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *asJSON {
		*format = "json"
	}
	p, err := preview.Plan(req)
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	case "mermaid":
		fmt.Fprint(stdout, preview.Mermaid(p))
		return nil
	case "tree":
		fmt.Fprint(stdout, preview.Tree(p))
		return nil
	}
	return fmt.Errorf("unknown --format %q: want tree, json or mermaid", *format)
}

func diff(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	over := kv{}
	from, to := fs.String("from", "", "stage the stack is on"), fs.String("to", "", "stage to promote to")
	platform := fs.String("platform", "", "ladder of both stages (default: the stack's)")
	fromPlatform, toPlatform := fs.String("from-platform", "", "ladder of --from"), fs.String("to-platform", "", "ladder of --to")
	stack := fs.String("stack", "dev", "stack whose Pulumi.<stack>.yaml to read")
	dir := fs.String("project-dir", ".", "directory of Pulumi.yaml")
	fs.Var(over, "c", "config override key=value (repeatable), applied to both sides")
	toOver := kv{}
	fs.Var(toOver, "to-c", "config override key=value (repeatable) for the --to side only")
	asJSON := fs.Bool("json", false, "print the diff as JSON")
	usage := fs.String("usage", "", "YAML or JSON file of usage figures pricing both sides (default: the --to rung's profile)")
	allow := fs.Bool("allow-data-loss", false, "exit 0 even when the promotion deletes or replaces data")
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	if *from == "" || *to == "" {
		return 2, errors.New("diff needs --from and --to")
	}
	fp, tp := *platform, *platform
	if *fromPlatform != "" {
		fp = *fromPlatform
	}
	if *toPlatform != "" {
		tp = *toPlatform
	}
	a, err := preview.Plan(preview.Request{Dir: *dir, Stack: *stack, Stage: *from, Platform: fp, Overrides: over})
	if err != nil {
		return 1, fmt.Errorf("planning --from %s: %w", *from, err)
	}
	target := kv{}
	for k, v := range over {
		target[k] = v
	}
	for k, v := range toOver {
		target[k] = v
	}
	b, err := preview.Plan(preview.Request{Dir: *dir, Stack: *stack, Stage: *to, Platform: tp, Overrides: target})
	if err != nil {
		return 1, fmt.Errorf("planning --to %s: %w", *to, err)
	}
	d := preview.Diff(a, b)
	c, err := preview.CompareCost(a, b, *usage)
	if err != nil {
		return 1, err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			*preview.Result
			Cost *preview.CostChange `json:"cost"`
		}{d, c}); err != nil {
			return 1, err
		}
	} else {
		fmt.Fprint(stdout, d.Text())
		fmt.Fprint(stdout, c.Text())
	}
	if len(d.DataLoss) > 0 && !*allow {
		fmt.Fprintf(stderr, "llama: this promotion deletes or replaces %d resource(s) that hold data; move the data first, or pass --allow-data-loss\n", len(d.DataLoss))
		return exitDataLoss, nil
	}
	return 0, nil
}

func costCmd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("cost", flag.ContinueOnError)
	req := preview.Request{Overrides: kv{}}
	fs.StringVar(&req.Stack, "stack", "dev", "stack whose Pulumi.<stack>.yaml to read")
	fs.StringVar(&req.Dir, "project-dir", ".", "directory of Pulumi.yaml")
	fs.StringVar(&req.Stage, "stage", "", "stage to price (default: the stack's llama:stage)")
	fs.StringVar(&req.Platform, "platform", "", "ladder: servers or serverless (default: the stack's)")
	fs.Var(kv(req.Overrides), "c", "config override key=value (repeatable)")
	usage := fs.String("usage", "", "YAML or JSON file of usage figures over the rung's default profile")
	asJSON := fs.Bool("json", false, "print the estimate as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	p, e, err := preview.Cost(req, *usage)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(e)
	}
	fmt.Fprint(stdout, preview.CostText(p, e))
	return nil
}

func stages(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("stages", flag.ContinueOnError)
	dir := fs.String("project-dir", ".", "directory of Pulumi.yaml")
	if err := fs.Parse(args); err != nil {
		return err
	}
	out, err := preview.StagesWithCost(*dir)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, out)
	return nil
}

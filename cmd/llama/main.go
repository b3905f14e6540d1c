// Command llama shows, offline, what the Llama stages are, what each builds or changes and what
// it costs. It runs the real Pulumi program in-process under the SDK's mock engine: no
// credentials, no cloud. `llama --help` lists the commands; `llama <command> --help` their flags.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/llama-stages/llama/cost"
	"github.com/llama-stages/llama/offline"
	"github.com/llama-stages/llama/preview"
	"github.com/llama-stages/llama/stacks"
	"github.com/llama-stages/llama/suggest"
)

// Exit statuses, the same for every command.
const (
	exitOK       = 0
	exitUsage    = 1 // bad usage or config: nothing was planned
	exitDataLoss = 3 // the diff deletes or replaces a resource that holds data
	exitOutage   = 4 // the diff takes traffic away from a published hostname or endpoint
	exitCost     = 5 // the diff raises the monthly cost past --fail-on-cost-increase
)

// costLimit is --fail-on-cost-increase: an increase in USD a month, or in percent of the
// current cost; the zero value allows any.
type costLimit struct {
	amount  float64
	percent bool // amount is a percentage of the current cost
	set     bool
}

func parseCostLimit(v string) (costLimit, error) {
	if v == "" {
		return costLimit{}, nil
	}
	pct := strings.HasSuffix(v, "%")
	n, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(v, "$"), "%")), 64)
	if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return costLimit{}, fmt.Errorf("--fail-on-cost-increase %q: want USD a month (50) or a percentage (10%%)", v)
	}
	return costLimit{amount: n, percent: pct, set: true}, nil
}

// exceeded reports whether going from one monthly cost to another passes the limit, and by
// how much.
func (l costLimit) exceeded(from, to float64) (bool, string) {
	delta := to - from
	if !l.set || delta <= 0 {
		return false, ""
	}
	if !l.percent {
		return delta > l.amount, fmt.Sprintf("by $%.2f (from $%.2f to $%.2f)", delta, from, to)
	}
	if from <= 0 {
		return true, fmt.Sprintf("from nothing to $%.2f", to)
	}
	return delta/from*100 > l.amount, fmt.Sprintf("by %.1f%% (from $%.2f to $%.2f)", delta/from*100, from, to)
}

// exitHelp says what each exit status means; diffHelp adds those only llama diff returns.
const (
	exitHelp = `Exit status:
  0  done
  1  bad usage or configuration (a mistyped flag, an unknown key, a value out of range): nothing planned
`
	diffHelp = `  3  the diff would delete or replace a resource that holds data (see --allow-data-loss)
  4  the diff would take traffic away from a published hostname or endpoint: an outage (see --allow-outage)
  5  the diff would raise the monthly cost past --fail-on-cost-increase
`
)

// exitCodes is a command's exit statuses: all of them for the top-level help.
func exitCodes(command string) string {
	if command == "" || command == "diff" {
		return exitHelp + diffHelp
	}
	return exitHelp
}

// command is one of llama's commands.
type command struct {
	name    string
	summary string
	usage   string
	run     func(c *cli, args []string) (int, error)
}

// commands are llama's commands, in the order --help lists them (set in init: their
// handlers read the table back for help).
var commands []command

func init() {
	commands = []command{
		{"stages", "list both ladders with when to take each rung and what it costs", "llama stages [--project-dir DIR]", (*cli).stages},
		{"plan", "show the resource graph of a stage", "llama plan [--stack dev] [--stage S] [--platform P] [-c key=value ...] [--json | --format tree|json|mermaid] [--full]", (*cli).plan},
		{"diff", "show what a promotion (or any change) creates, updates, replaces and deletes, and what it costs", "llama diff --from S1 --to S2 [--platform P] [--from-platform P] [--to-platform P] [--stack dev]\n           [-c key=value ...] [--to-c key=value ...] [--usage FILE] [--json | --format text|json] [--full] [--allow-data-loss]", (*cli).diff},
		{"cost", "price a planned stage a month", "llama cost [--stack dev] [--stage S] [--platform P] [-c key=value ...] [--usage FILE] [--json]", (*cli).cost},
	}
}

// cli carries the output streams.
type cli struct{ stdout, stderr io.Writer }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	c := &cli{stdout, stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, topHelp())
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 {
			if cmd, ok := find(args[1]); ok {
				return c.report(cmd.run(c, []string{"--help"}))
			}
			names := make([]string, len(commands))
			for i, cm := range commands {
				names[i] = cm.name
			}
			fmt.Fprintf(stderr, "llama: no command %q to help with%s; the commands are %s\n", args[1], suggest.DidYouMean(args[1], names), strings.Join(names, ", "))
			return exitUsage
		}
		fmt.Fprint(stdout, topHelp())
		return exitOK
	case "-version", "--version", "version":
		fmt.Fprintln(stdout, version())
		return exitOK
	}
	cmd, ok := find(name)
	if !ok {
		names := make([]string, len(commands))
		for i, cm := range commands {
			names[i] = cm.name
		}
		fmt.Fprintf(stderr, "llama: unknown command %q%s; the commands are %s (llama --help)\n", name, suggest.DidYouMean(name, names), strings.Join(names, ", "))
		return exitUsage
	}
	return c.report(cmd.run(c, args[1:]))
}

func find(name string) (command, bool) {
	for _, cm := range commands {
		if cm.name == name {
			return cm, true
		}
	}
	return command{}, false
}

// report prints an error once and returns the exit status.
func (c *cli) report(code int, err error) int {
	if err != nil {
		fmt.Fprintln(c.stderr, "llama:", err)
		if code == exitOK {
			code = exitUsage
		}
	}
	return code
}

func topHelp() string {
	var b strings.Builder
	b.WriteString("llama: the Llama stages, offline: what each rung builds, changes and costs, without credentials or a cloud.\n\nCommands:\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, cm := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", cm.name, cm.summary)
	}
	tw.Flush()
	b.WriteString("\nllama <command> --help shows a command's flags.\n\n")
	b.WriteString(exitCodes(""))
	return b.String()
}

// version names the build: the module's version, or its VCS revision when built from a
// checkout.
func version() string {
	v, rev := "(devel)", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = " " + s.Value[:12]
			}
		}
	}
	return "llama " + v + rev
}

// kv collects repeated -c key=value flags.
type kv map[string]string

// String renders the overrides (flag.Value).
func (m kv) String() string { return fmt.Sprint(map[string]string(m)) }

// Set records one key=value override (flag.Value). A key given twice, in any spelling
// (replicas and llama:replicas), is refused: which would win is not for a map's order to say.
// The stage and the platform have flags of their own.
func (m kv) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	q := offline.QualifyKey(k)
	switch q {
	case "llama:stage":
		return fmt.Errorf("%s: name the stage with --stage (plan, cost) or --from and --to (diff), not -c", s)
	case "llama:platform":
		return fmt.Errorf("%s: name the ladder with --platform (or --from-platform and --to-platform), not -c", s)
	}
	for other := range m {
		if offline.QualifyKey(other) == q {
			return fmt.Errorf("%s is given twice (%s=%s and %s): give it once", q, other, m[other], s)
		}
	}
	m[k] = v
	return nil
}

var reUnknownFlag = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)

// parse parses a command's flags. It prints the command's help on stdout for -h and --help
// (done is then true), names a mistyped flag with what was probably meant, and refuses
// positional arguments.
func (c *cli) parse(name string, fs *flag.FlagSet, args []string) (done bool, err error) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err = fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		cm, _ := find(name)
		fmt.Fprintf(c.stdout, "usage: %s\n\n%s.\n\nFlags:\n", cm.usage, strings.ToUpper(cm.summary[:1])+cm.summary[1:])
		tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
		fs.VisitAll(func(f *flag.Flag) {
			def := ""
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "map[]" {
				def = fmt.Sprintf(" (default %s)", f.DefValue)
			}
			dash := "--"
			if len(f.Name) == 1 {
				dash = "-" // -c, as the usage line and the README write it
			}
			fmt.Fprintf(tw, "  %s%s\t%s%s\n", dash, f.Name, f.Usage, def)
		})
		tw.Flush()
		fmt.Fprint(c.stdout, "\n"+exitCodes(name))
		return true, nil
	}
	if err != nil {
		if m := reUnknownFlag.FindStringSubmatch(err.Error()); m != nil {
			var names []string
			fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
			return false, fmt.Errorf("unknown flag --%s%s (llama %s --help lists the flags)", m[1], dashed(suggest.DidYouMean(m[1], names)), name)
		}
		return false, fmt.Errorf("%v (llama %s --help lists the flags)", err, name)
	}
	if fs.NArg() > 0 {
		return false, positional(fs.Arg(0))
	}
	return false, nil
}

// dashed turns " (did you mean stage?)" into " (did you mean --stage?)".
func dashed(hint string) string { return strings.Replace(hint, "mean ", "mean --", 1) }

// positional explains an argument that is not a flag.
func positional(arg string) error {
	if k, v, ok := strings.Cut(arg, "="); ok {
		if k == "stage" || k == "llama:stage" {
			return fmt.Errorf("unexpected argument %q: name the stage with --stage %s", arg, v)
		}
		return fmt.Errorf("unexpected argument %q: set config with -c %s", arg, arg)
	}
	for _, r := range stacks.Ladder {
		if r.Stage == arg {
			return fmt.Errorf("unexpected argument %q: name the stage with --stage %s", arg, arg)
		}
	}
	return fmt.Errorf("unexpected argument %q: llama takes flags only (--stage, -c key=value, ...)", arg)
}

// warn prints what a plan found worth saying.
func (c *cli) warn(p *offline.Plan) {
	for _, w := range p.Warnings {
		if colourful(c.stderr) {
			w = yellow + w + reset
		}
		fmt.Fprintln(c.stderr, "llama: warning:", w)
	}
}

func (c *cli) encode(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// format settles --json against --format: they may agree, not conflict.
func format(asJSON bool, f string, allowed ...string) (string, error) {
	if asJSON {
		if f != "" && f != "json" {
			return "", fmt.Errorf("--json and --format %s conflict: pass one", f)
		}
		return "json", nil
	}
	if f == "" {
		return allowed[0], nil
	}
	for _, a := range allowed {
		if f == a {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown --format %q%s: want %s", f, suggest.DidYouMean(f, allowed), strings.Join(allowed, ", "))
}

func (c *cli) stages(args []string) (int, error) {
	fs := flag.NewFlagSet("stages", flag.ContinueOnError)
	dir := fs.String("project-dir", "", "directory of Pulumi.yaml (default: the working directory or its nearest parent holding one)")
	if done, err := c.parse("stages", fs, args); done || err != nil {
		return exitOK, err
	}
	root, _, err := offline.Locate(*dir, offline.DefaultStack)
	if err != nil {
		return exitUsage, err
	}
	out, err := preview.StagesWithCost(root)
	if err != nil {
		return exitUsage, err
	}
	fmt.Fprint(c.stdout, out)
	return exitOK, nil
}

// requestFlags declares the flags that name a stage of a stack.
func requestFlags(fs *flag.FlagSet, req *preview.Request) {
	req.Overrides = kv{}
	fs.StringVar(&req.Stack, "stack", "", "stack whose Pulumi.<stack>.yaml to read (default: the stack pulumi stack select selected, else dev)")
	fs.StringVar(&req.Dir, "project-dir", "", "directory of Pulumi.yaml (default: the working directory or its nearest parent holding one)")
	fs.StringVar(&req.Stage, "stage", "", "stage to plan (default: the stack's llama:stage)")
	fs.StringVar(&req.Platform, "platform", "", "ladder: servers or serverless (default: the stack's)")
	fs.Var(kv(req.Overrides), "c", "config override key=value, bare keys meaning llama: (repeatable)")
}

func (c *cli) plan(args []string) (int, error) {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	var req preview.Request
	requestFlags(fs, &req)
	asJSON := fs.Bool("json", false, "print the plan as JSON (same as --format json)")
	f := fs.String("format", "", "tree (a summary by component), json or mermaid")
	full := fs.Bool("full", false, "with the tree: every resource, not the summary")
	zone := fs.String("zone", "", "JSON file of the Cloudflare zone's entry-point rulesets, as its API returns them: plan as if the zone held them")
	if done, err := c.parse("plan", fs, args); done || err != nil {
		return exitOK, err
	}
	form, err := format(*asJSON, *f, "tree", "json", "mermaid")
	if err != nil {
		return exitUsage, err
	}
	if *zone != "" {
		if req.Zone, err = preview.ReadZoneFile(*zone); err != nil {
			return exitUsage, err
		}
	}
	p, err := preview.Plan(req)
	if err != nil {
		return exitUsage, err
	}
	c.warn(p)
	switch form {
	case "json":
		return exitOK, c.encode(p)
	case "mermaid":
		fmt.Fprint(c.stdout, preview.Mermaid(p))
	default:
		if *full {
			fmt.Fprint(c.stdout, preview.Tree(p))
		} else {
			fmt.Fprint(c.stdout, preview.Summary(p))
		}
	}
	return exitOK, nil
}

// diffArgs are llama diff's flags.
type diffArgs struct {
	over, toOver                                 kv
	from, to, platform, fromPlatform, toPlatform *string
	stack, dir, format, usage, costLimit         *string
	asJSON, full, allowOutage, allowDataLoss     *bool
}

// diffFlags declares llama diff's flags.
func diffFlags(fs *flag.FlagSet) *diffArgs {
	d := &diffArgs{over: kv{}, toOver: kv{}}
	d.from, d.to = fs.String("from", "", "stage the stack is on (default: the stack file's llama:stage)"), fs.String("to", "", "stage to move to")
	d.platform = fs.String("platform", "", "ladder of both stages (default: the stack's)")
	d.fromPlatform, d.toPlatform = fs.String("from-platform", "", "ladder of --from"), fs.String("to-platform", "", "ladder of --to")
	d.stack = fs.String("stack", "", "stack whose Pulumi.<stack>.yaml to read (default: the stack pulumi stack select selected, else dev)")
	d.dir = fs.String("project-dir", "", "directory of Pulumi.yaml (default: the working directory or its nearest parent holding one)")
	fs.Var(d.over, "c", "config override key=value (repeatable), applied to both sides")
	fs.Var(d.toOver, "to-c", "config override key=value (repeatable) for the --to side only")
	d.asJSON = fs.Bool("json", false, "print the diff as JSON (same as --format json)")
	d.format = fs.String("format", "", "text (a summary by component) or json")
	d.full = fs.Bool("full", false, "with text: every resource, not the summary")
	d.usage = fs.String("usage", "", "YAML or JSON file of usage figures pricing both sides (default: the --to rung's profile)")
	d.costLimit = fs.String("fail-on-cost-increase", "", "exit 5 when the change raises the monthly cost by more than this: USD (50) or a percentage (10%), as a CI guardrail")
	d.allowOutage = fs.Bool("allow-outage", false, "exit 0 even when the change takes traffic away from a published hostname or endpoint: it changes only this command's exit status, never what pulumi up deletes")
	d.allowDataLoss = fs.Bool("allow-data-loss", false, "exit 0 even when the change deletes or replaces data: it changes only this command's exit status, never what pulumi up does to the data")
	return d
}

func (c *cli) diff(args []string) (int, error) {
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	d := diffFlags(fs)
	if done, err := c.parse("diff", fs, args); done || err != nil {
		return exitOK, err
	}
	form, err := format(*d.asJSON, *d.format, "text", "json")
	if err != nil {
		return exitUsage, err
	}
	limit, err := parseCostLimit(*d.costLimit)
	if err != nil {
		return exitUsage, err
	}
	if err := c.startingPoint(d); err != nil {
		return exitUsage, err
	}
	a, b, err := d.plans()
	if err != nil {
		return exitUsage, err
	}
	c.warn(b)
	r := preview.Diff(a, b)
	cost, err := preview.CompareCost(a, b, *d.usage)
	if err != nil {
		return exitUsage, err
	}
	if err := c.show(form, *d.full, r, cost); err != nil {
		return exitUsage, err
	}
	return c.verdict(d, limit, r, cost), nil
}

// startingPoint settles the project, the stack and --from: the stack file's stage unless
// --from says otherwise, which is then a hypothetical and says so.
func (c *cli) startingPoint(d *diffArgs) error {
	if *d.to == "" {
		return errors.New("diff needs --to (llama diff --help)")
	}
	var err error
	if *d.dir, *d.stack, err = offline.Locate(*d.dir, *d.stack); err != nil {
		return err
	}
	if cfg, set, err := offline.StackConfig(*d.dir, *d.stack, nil); err == nil {
		at := cfg["llama:stage"]
		switch {
		case *d.from == "" && slices.Contains(set, "llama:stage"):
			*d.from = at
		case *d.from != "" && slices.Contains(set, "llama:stage") && *d.from != at:
			fmt.Fprintf(c.stderr, "llama: warning: %s is at %s; previewing %s -> %s as if it were at %s\n", *d.stack, at, *d.from, *d.to, *d.from)
		}
	}
	if *d.from == "" {
		return fmt.Errorf("diff needs --from: Pulumi.%s.yaml sets no llama:stage (llama diff --help)", *d.stack)
	}
	return nil
}

// plans plans both sides: -c on both, --to-c on the target only.
func (d *diffArgs) plans() (a, b *offline.Plan, err error) {
	fp, tp := *d.platform, *d.platform
	if *d.fromPlatform != "" {
		fp = *d.fromPlatform
	}
	if *d.toPlatform != "" {
		tp = *d.toPlatform
	}
	if a, err = preview.Plan(preview.Request{Dir: *d.dir, Stack: *d.stack, Stage: *d.from, Platform: fp, Overrides: d.over}); err != nil {
		return nil, nil, fmt.Errorf("planning --from %s: %w", *d.from, err)
	}
	target := kv{}
	maps.Copy(target, d.over)
	maps.Copy(target, d.toOver)
	if b, err = preview.Plan(preview.Request{Dir: *d.dir, Stack: *d.stack, Stage: *d.to, Platform: tp, Overrides: target}); err != nil {
		return nil, nil, fmt.Errorf("planning --to %s: %w", *d.to, err)
	}
	return a, b, nil
}

// show prints the diff and its cost, as JSON or text.
func (c *cli) show(form string, full bool, r *preview.Result, cost *preview.CostChange) error {
	if form == "json" {
		return c.encode(struct {
			*preview.Result
			Cost *preview.CostChange `json:"cost"`
		}{r, cost})
	}
	if full {
		c.write(r.Text())
	} else {
		c.write(r.Summary())
	}
	fmt.Fprint(c.stdout, cost.Text())
	return nil
}

// verdict is the diff's exit status: what AWS would refuse, then data loss, an outage, and the
// cost guardrail, each with the line that says why.
func (c *cli) verdict(d *diffArgs, limit costLimit, r *preview.Result, cost *preview.CostChange) int {
	switch {
	case len(r.Refused) > 0:
		fmt.Fprintf(c.stderr, "llama: AWS would refuse this change at pulumi up: %s\n", strings.Join(r.Refused, "; "))
		return exitUsage
	case len(r.DataLoss) > 0 && !*d.allowDataLoss:
		fmt.Fprintf(c.stderr, "llama: this change deletes or replaces %d resource(s) that hold data: move the data first (the steps above say how). --allow-data-loss would change only this exit status, not what pulumi up deletes\n", len(r.DataLoss))
		return exitDataLoss
	case len(r.Outage) > 0 && !*d.allowOutage:
		fmt.Fprintf(c.stderr, "llama: this change takes traffic away from a published hostname or endpoint (%d resource(s) clients reach the app through are deleted or replaced): an outage. Move clients first (the steps above say how); --allow-outage would change only this exit status\n", len(r.Outage))
		return exitOutage
	}
	if over, why := limit.exceeded(cost.From, cost.To); over {
		fmt.Fprintf(c.stderr, "llama: this change raises the monthly cost %s, past --fail-on-cost-increase %s\n", why, *d.costLimit)
		return exitCost
	}
	return exitOK
}

func (c *cli) cost(args []string) (int, error) {
	fs := flag.NewFlagSet("cost", flag.ContinueOnError)
	var req preview.Request
	requestFlags(fs, &req)
	usage := fs.String("usage", "", "YAML or JSON file of usage figures over the rung's default profile")
	asJSON := fs.Bool("json", false, "print the estimate as JSON")
	freeTier := fs.Bool("free-tier", false, "subtract the account's always-free allowances (Lambda, CloudWatch, X-Ray, DynamoDB storage, 100 GB out), as if the stack were the account's only use of them")
	if done, err := c.parse("cost", fs, args); done || err != nil {
		return exitOK, err
	}
	p, e, err := preview.CostWith(req, *usage, cost.Options{FreeTier: *freeTier})
	if err != nil {
		return exitUsage, err
	}
	c.warn(p)
	if *asJSON {
		return exitOK, c.encode(e)
	}
	fmt.Fprint(c.stdout, preview.CostText(p, e))
	return exitOK, nil
}

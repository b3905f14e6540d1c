package stacks

import (
	"fmt"
	"slices"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/access"
	"github.com/llama-stages/llama/components/release"
)

// Options are what the program needs beyond the stack's config.
type Options struct {
	// Build builds the app (llama:appPackage) for an architecture. Nil compiles it with the
	// Go toolchain in the working directory, where `pulumi up` runs (release.GoBuild).
	Build release.Builder
	// Warn reports what the run found worth saying but not refusing. Nil logs it as a Pulumi
	// warning.
	Warn func(string)
	// Records reads the mover's records, which the retire `up` checks (checkMoves). Nil, as
	// offline: llama:moved alone decides.
	Records RecordReader
	// Loaded receives the configuration the program resolved (defaults applied, layers
	// decided) before it builds anything: the offline plan keeps it so that its renderers
	// read the stage as the program saw it. Nil: nobody is told.
	Loaded func(*Config)
}

// Program is the Pulumi program main.go runs.
func Program(ctx *pulumi.Context) error {
	outs, err := Build(ctx, Options{Records: SSMRecords})
	for k, v := range outs {
		ctx.Export(k, v)
	}
	return err
}

// Build assembles the stage the config names and returns the stack outputs.
func Build(ctx *pulumi.Context, opts Options) (pulumi.Map, error) {
	if err := CheckEnvironment(); err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	cfg, err := LoadConfig(ctx)
	if err != nil {
		return nil, err
	}
	if opts.Loaded != nil {
		opts.Loaded(cfg)
	}
	e, err := lookup(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := checkMoves(ctx, cfg, e.prefix, opts.Records); err != nil {
		return nil, err
	}
	s := &stage{ctx: ctx, cfg: cfg, env: e, opts: opts}
	notes := slices.Concat(PlainHTTPNotes(cfg), RDSCANotes(cfg, e.region, time.Now()), EdgeNotes(cfg), PauseNotes(cfg))
	for _, note := range notes {
		s.warn(note)
	}
	return s.build()
}

// stage is what every step reads: the context, the config, the account and region, and the
// options. Steps share nothing else: each takes the values it needs and returns what it makes.
type stage struct {
	ctx  *pulumi.Context
	cfg  *Config
	env  *env
	opts Options
}

// has reports whether the stage has a layer; keeps whether it has it or keeps its retired
// stateful parts.
func (s *stage) has(l Layer) bool   { return s.cfg.Has(l) }
func (s *stage) keeps(l Layer) bool { return s.cfg.Keeps(l) }

// warn reports a warning the way the options say.
func (s *stage) warn(msg string) {
	if s.opts.Warn != nil {
		s.opts.Warn(msg)
		return
	}
	s.ctx.Log.Warn(msg, nil)
}

// env is what the program looks up once about the account and region.
type env struct {
	region, accountID string
	partition         string // aws, aws-cn, aws-us-gov
	azs               []string
	prefix            string // SSM parameter and log prefix: /llama/<stack>
	base              string // physical name base: llama-<stack>
}

// account is where the stack runs, as the components take it.
func (e *env) account() access.Account {
	return access.Account{Region: e.region, AccountID: e.accountID, Partition: e.partition}
}

func lookup(ctx *pulumi.Context, cfg *Config) (*env, error) {
	region, err := aws.GetRegion(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("looking up the region: %w", err)
	}
	who, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("looking up the account: %w", err)
	}
	part, err := aws.GetPartition(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("looking up the partition: %w", err)
	}
	// Local Zones and Wavelength Zones an account opted into are listed too, and sort first
	// (us-east-1-bos-1a): keep the region's own AZs, which need no opt-in (EC2 API reference,
	// DescribeAvailabilityZones, filter opt-in-status).
	zones, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{State: pulumi.StringRef("available"),
		Filters: []aws.GetAvailabilityZonesFilter{{Name: "opt-in-status", Values: []string{"opt-in-not-required"}}}})
	if err != nil {
		return nil, fmt.Errorf("looking up availability zones: %w", err)
	}
	if n := cfg.Network.AZCount; n > len(zones.Names) {
		return nil, &ConfigError{Key: "llama:azCount", Value: fmt.Sprint(n),
			Allowed: fmt.Sprintf("2..%d: region %s offers %d availability zones", len(zones.Names), region.Name, len(zones.Names))}
	}
	return &env{region: region.Name, accountID: who.AccountId, partition: part.Partition, azs: zones.Names[:cfg.Network.AZCount],
		prefix: fmt.Sprintf("/%s/%s", ctx.Project(), ctx.Stack()), base: fmt.Sprintf("%s-%s", ctx.Project(), ctx.Stack())}, nil
}

// Package params publishes what the app needs to find its data as SSM parameters under a
// per-stack prefix: endpoints, ports, names and where credentials live, never the credentials.
package params

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/contract"
)

// RevisionKey is the parameter that names the revision of all the others: a digest of every
// key and value, written after them. A reader that finds it unchanged need not read the rest
// again (a refresh is one call, not a page of ten parameters after another).
const RevisionKey = contract.Revision

// Values maps a key under the prefix (db/primary/endpoint) to its value.
type Values map[string]pulumi.StringInput

// ParametersArgs configures the parameters.
type ParametersArgs struct {
	Prefix string // required: the path every parameter is under, /llama/<stack>
	Values Values // the keys under Prefix and their values; SSM refuses an empty value
}

// Parameters is one SSM parameter a key. Each key is its own resource, named for the key, so a
// rung that adds keys only creates parameters.
type Parameters struct {
	pulumi.ResourceState

	Names pulumi.StringArrayOutput `pulumi:"names"`
}

// NewParameters creates the parameters.
func NewParameters(ctx *pulumi.Context, name string, args *ParametersArgs, opts ...pulumi.ResourceOption) (*Parameters, error) {
	if args == nil || !strings.HasPrefix(args.Prefix, "/") || strings.HasSuffix(args.Prefix, "/") {
		return nil, fmt.Errorf("params: a Prefix such as /llama/dev (leading slash, none trailing)")
	}
	for k, v := range args.Values {
		if k == "" || strings.HasPrefix(k, "/") || v == nil || k == RevisionKey {
			return nil, fmt.Errorf("params: key %q: a relative path with a value, not %s", k, RevisionKey)
		}
	}
	p := &Parameters{}
	if err := ctx.RegisterComponentResource("llama:params:Parameters", name, p, opts...); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(args.Values))
	for k := range args.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var names pulumi.StringArray
	var written []pulumi.Resource
	var lines []any
	parameter := func(rname, key string, value pulumi.StringInput, opts ...pulumi.ResourceOption) (*ssm.Parameter, error) {
		full := args.Prefix + "/" + key
		prm, err := ssm.NewParameter(ctx, rname, &ssm.ParameterArgs{
			// Nothing published is secret (credentials stay in Secrets Manager): insecureValue
			// keeps values readable in previews, so a promotion's new endpoint shows in the diff.
			Name: pulumi.String(full), Type: pulumi.String("String"), InsecureValue: value.ToStringOutput().ToStringPtrOutput(),
			Tier:        pulumi.String("Intelligent-Tiering"),
			Description: pulumi.String("Published by the Llama stack for the app"),
		}, append([]pulumi.ResourceOption{pulumi.Parent(p)}, opts...)...)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", full, err)
		}
		names = append(names, pulumi.String(full))
		return prm, nil
	}
	for _, k := range keys {
		prm, err := parameter(name+"-"+strings.ReplaceAll(k, "/", "-"), k, args.Values[k])
		if err != nil {
			return nil, err
		}
		written = append(written, prm)
		lines = append(lines, pulumi.Sprintf("%s=%s\n", k, args.Values[k]))
	}
	// The revision comes last: a reader that sees it change finds every other value written.
	revision := pulumi.All(lines...).ApplyT(func(ls []any) string {
		h := sha256.New()
		for _, l := range ls {
			fmt.Fprint(h, l)
		}
		return hex.EncodeToString(h.Sum(nil))[:32]
	}).(pulumi.StringOutput)
	if _, err := parameter(name+"-revision", RevisionKey, revision, pulumi.DependsOn(written)); err != nil {
		return nil, err
	}
	p.Names = names.ToStringArrayOutput()
	return p, ctx.RegisterResourceOutputs(p, pulumi.Map{"names": p.Names})
}

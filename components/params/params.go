// Package params publishes what the app needs to find its data as SSM parameters under a
// per-stack prefix: endpoints, ports, names and where credentials live, never the credentials.
package params

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

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
		if k == "" || strings.HasPrefix(k, "/") || v == nil {
			return nil, fmt.Errorf("params: key %q: a relative path with a value", k)
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
	for _, k := range keys {
		full := args.Prefix + "/" + k
		if _, err := ssm.NewParameter(ctx, name+"-"+strings.ReplaceAll(k, "/", "-"), &ssm.ParameterArgs{
			// Nothing published is secret (credentials stay in Secrets Manager): insecureValue
			// keeps values readable in previews, so a promotion's new endpoint shows in the diff.
			Name: pulumi.String(full), Type: pulumi.String("String"), InsecureValue: args.Values[k].ToStringOutput().ToStringPtrOutput(),
			Tier:        pulumi.String("Intelligent-Tiering"),
			Description: pulumi.String("Published by the Llama stack for the app"),
		}, pulumi.Parent(p)); err != nil {
			return nil, fmt.Errorf("parameter %s: %w", full, err)
		}
		names = append(names, pulumi.String(full))
	}
	p.Names = names.ToStringArrayOutput()
	return p, ctx.RegisterResourceOutputs(p, pulumi.Map{"names": p.Names})
}

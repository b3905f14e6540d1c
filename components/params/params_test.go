package params

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/offline"
)

// TestParameters: one plain String parameter a key, under the prefix; nothing published is
// secret, so a changed value shows in a preview.
func TestParameters(t *testing.T) {
	p, err := offline.Run(func(ctx *pulumi.Context) (pulumi.Map, error) {
		_, err := NewParameters(ctx, "params", &ParametersArgs{Prefix: "/llama/dev", Values: Values{
			"db/primary/endpoint": pulumi.String("db.example"), "db/port": pulumi.String("5432")}})
		return nil, err
	}, offline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, r := range p.OfType("aws:ssm/parameter:Parameter") {
		if r.Input("type") != "String" {
			t.Errorf("%s is %v", r.Name, r.Input("type"))
		}
		got[r.Input("name").(string)] = r.Input("insecureValue")
	}
	if got["/llama/dev/db/primary/endpoint"] != "db.example" || got["/llama/dev/db/port"] != "5432" || len(got) != 3 {
		t.Errorf("parameters %v", got)
	}
	// The revision is written after every other parameter, and changes with any value.
	rev := p.Named("aws:ssm/parameter:Parameter", "params-revision")
	if rev == nil || len(rev.DependsOn) != 2 {
		t.Fatalf("the revision does not wait for the parameters: %+v", rev)
	}
	again, err := offline.Run(func(ctx *pulumi.Context) (pulumi.Map, error) {
		_, err := NewParameters(ctx, "params", &ParametersArgs{Prefix: "/llama/dev", Values: Values{
			"db/primary/endpoint": pulumi.String("db2.example"), "db/port": pulumi.String("5432")}})
		return nil, err
	}, offline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := rev.Input("insecureValue"), again.Named("aws:ssm/parameter:Parameter", "params-revision").Input("insecureValue"); a == b || a == "" {
		t.Errorf("revision %v, then %v after a value changed", a, b)
	}
	for _, bad := range []*ParametersArgs{{Prefix: "llama/dev"}, {Prefix: "/llama/dev", Values: Values{"/abs": pulumi.String("x")}},
		{Prefix: "/llama/dev", Values: Values{RevisionKey: pulumi.String("x")}}} {
		if _, err := offline.Run(func(ctx *pulumi.Context) (pulumi.Map, error) {
			_, err := NewParameters(ctx, "params", bad)
			return nil, err
		}, offline.Options{}); err == nil {
			t.Errorf("%+v was accepted", bad)
		}
	}
}

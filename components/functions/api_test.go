package functions

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/access"
	"github.com/llama-stages/llama/offline"
)

func args() *APIArgs {
	return &APIArgs{Code: pulumi.NewAssetArchive(map[string]any{"bootstrap": pulumi.NewStringAsset("app")}),
		SubnetIDs: pulumi.ToStringArray([]string{"subnet-1", "subnet-2"}), SecurityGroupID: pulumi.String("sg-1"),
		MemoryMb: 512, TimeoutSeconds: 10, FunctionPrefix: "llama-dev", ParamPrefix: "/llama/dev", Account: access.Account{Region: "us-east-1", AccountID: offline.Account}}
}

func run(t *testing.T, a *APIArgs) (*offline.Plan, error) {
	t.Helper()
	return offline.Run(func(ctx *pulumi.Context) (pulumi.Map, error) { _, err := NewAPI(ctx, "api", a); return nil, err }, offline.Options{})
}

// TestAPI: the function runs on arm64 in the private subnets, traced, its logs kept; behind
// a custom domain, the execute-api endpoint is off and the function needs the CDN's secret.
func TestAPI(t *testing.T) {
	p, err := run(t, args())
	if err != nil {
		t.Fatal(err)
	}
	fn := p.OfType("aws:lambda/function:Function")[0]
	if fn.Input("architectures").([]any)[0] != "arm64" || fn.Input("vpcConfig", "subnetIds") == nil || fn.Input("tracingConfig", "mode") != "Active" {
		t.Errorf("function %v", fn.Inputs)
	}
	if api := p.OfType("aws:apigatewayv2/api:Api")[0]; api.Input("disableExecuteApiEndpoint") != false {
		t.Error("without a domain, the execute-api endpoint is the API's only address")
	}
	a := args()
	a.Domain, a.CertificateArn = "api.app.example.com", pulumi.String("arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000000")
	if p, err = run(t, a); err != nil {
		t.Fatal(err)
	}
	fn = p.OfType("aws:lambda/function:Function")[0]
	if p.OfType("aws:apigatewayv2/api:Api")[0].Input("disableExecuteApiEndpoint") != true || fn.Input("environment", "variables", "ORIGIN_VERIFY") == nil {
		t.Errorf("behind a domain: %v", fn.Inputs["environment"])
	}
	a.CertificateArn = nil
	if _, err := run(t, a); err == nil {
		t.Error("a domain without a certificate was accepted")
	}
	a = args()
	a.TimeoutSeconds = 30
	if _, err := run(t, a); err == nil {
		t.Error("a 30 s timeout (the HTTP API gives up at 30 s) was accepted")
	}
}

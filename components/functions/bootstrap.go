package functions

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/access"
	"github.com/llama-stages/llama/components/monitor"
	"github.com/llama-stages/llama/contract"
)

// BootstrapTimeoutSeconds is how long the deploy's function may take: a paused Aurora
// Serverless v2 writer resumes in seconds to about half a minute, and the schema's migrations
// run after it.
const BootstrapTimeoutSeconds = 300

// BootstrapArgs configures the deploy's preparation of a database.
type BootstrapArgs struct {
	Code            pulumi.Archive          // required: the app's build (arm64), as the API's
	SubnetIDs       pulumi.StringArrayInput // required: where it reaches the database
	SecurityGroupID pulumi.StringInput      // required: the app's group, which the database admits
	FunctionPrefix  string                  // required: the function is <prefix>-bootstrap
	// Input is the invocation's JSON, {"llamaBootstrap": {...}}: it carries the master
	// user's password, and is kept secret in the state. Required.
	Input pulumi.StringInput
	// Triggers run it again when one changes: the release (new migrations), the cluster.
	Triggers pulumi.StringMap
	// Ops: the function's log retention (Protect and Monitor unused: it holds no state and
	// serves nothing).
	monitor.Ops
}

// Bootstrap is a function the deploy alone invokes, once per release, before the app's
// function is updated: it applies the schema and creates the user the app signs in as with
// IAM, so that the app holds no secret. It runs the app's build with LLAMA_BOOTSTRAP=1, which
// answers nothing but {"llamaBootstrap": {...}}.
type Bootstrap struct {
	pulumi.ResourceState

	// Done is the invocation: what the app's function waits for.
	Done pulumi.Resource
	// Result is what the function answered (the schema version it left).
	Result pulumi.StringOutput `pulumi:"result"`
}

// NewBootstrap creates the function and invokes it.
func NewBootstrap(ctx *pulumi.Context, name string, args *BootstrapArgs, opts ...pulumi.ResourceOption) (*Bootstrap, error) {
	if args == nil || args.Code == nil || args.SubnetIDs == nil || args.SecurityGroupID == nil || args.FunctionPrefix == "" || args.Input == nil {
		return nil, fmt.Errorf("functions: NewBootstrap needs Code, SubnetIDs, SecurityGroupID, FunctionPrefix and Input")
	}
	b := &Bootstrap{}
	if err := ctx.RegisterComponentResource("llama:functions:Bootstrap", name, b, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(b)
	fnName := args.FunctionPrefix + "-bootstrap"
	role, err := access.NewServiceRole(ctx, name+"-role", "lambda.amazonaws.com", []string{"service-role/AWSLambdaVPCAccessExecutionRole"}, child)
	if err != nil {
		return nil, err
	}
	logs, err := monitor.NewLogGroup(ctx, name+"-logs", monitor.LogGroupArgs{Name: "/aws/lambda/" + fnName, RetentionDays: args.LogRetentionDays}, child)
	if err != nil {
		return nil, err
	}
	fn, err := lambda.NewFunction(ctx, name+"-function", &lambda.FunctionArgs{
		Name: pulumi.String(fnName), Runtime: pulumi.String("provided.al2023"), Handler: pulumi.String("bootstrap"),
		Architectures: pulumi.StringArray{pulumi.String("arm64")}, Code: args.Code,
		MemorySize: pulumi.Int(256), Timeout: pulumi.Int(BootstrapTimeoutSeconds), Role: role.Arn,
		VpcConfig:     lambda.FunctionVpcConfigArgs{SubnetIds: args.SubnetIDs, SecurityGroupIds: pulumi.StringArray{args.SecurityGroupID}},
		LoggingConfig: lambda.FunctionLoggingConfigArgs{LogFormat: pulumi.String("JSON"), LogGroup: logs.Name},
		Environment:   lambda.FunctionEnvironmentArgs{Variables: pulumi.StringMap{"LLAMA_BOOTSTRAP": pulumi.String("1")}},
		// Invoked by the deploy alone, once a release: priced as nothing (offline.Catalog).
		Tags: pulumi.StringMap{contract.DeployTag: pulumi.String("bootstrap")},
	}, child, pulumi.DependsOn([]pulumi.Resource{logs}))
	if err != nil {
		return nil, fmt.Errorf("bootstrap function: %w", err)
	}
	inv, err := lambda.NewInvocation(ctx, name+"-invocation", &lambda.InvocationArgs{
		FunctionName: fn.Name, Input: pulumi.ToSecret(args.Input.ToStringOutput()).(pulumi.StringOutput), Triggers: args.Triggers,
	}, child)
	if err != nil {
		return nil, fmt.Errorf("bootstrap invocation: %w", err)
	}
	b.Done, b.Result = inv, inv.Result
	return b, ctx.RegisterResourceOutputs(b, pulumi.Map{"result": inv.Result})
}

// Package functions holds the serverless API: the app as a Go Lambda function behind an API
// Gateway HTTP API, every route sent to it.
package functions

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigatewayv2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/access"
	"github.com/llama-stages/llama/components/monitor"
)

// Routes are the API's routes: every request goes to the function, which routes it (and
// answers 404 for what it does not serve).
var Routes = []string{"$default"}

// OriginHeader is the request header the function checks when it sits behind a CDN; the app
// (cmd/llama-app) reads its value from ORIGIN_VERIFY.
const OriginHeader = "x-llama-origin-verify"

// APIArgs configures the API.
type APIArgs struct {
	Code            pulumi.Archive          // required: a zip holding an executable bootstrap (arm64)
	SubnetIDs       pulumi.StringArrayInput // required: the private subnets the function runs in
	SecurityGroupID pulumi.StringInput      // required: the app's group, admitted by the proxy and the cache
	MemoryMb        int                     // required: 128..10240
	TimeoutSeconds  int                     // required: 1..29 (the HTTP API gives up after 30 s)
	FunctionPrefix  string                  // required: the function is <prefix>-api
	ParamPrefix     string                  // required: the parameters the function may read
	// DBConnect are the rds-db:connect resources the function signs in to with IAM (a
	// cluster's or RDS Proxy's database users); none: no database.
	DBConnect pulumi.StringArray
	// Ready are what the function waits for before it is created or changed: the database
	// its new settings name, prepared (Bootstrap). Default none.
	Ready          []pulumi.Resource
	access.Account // Region and AccountID required
	// Ops: Protect (the function holds no state); the log retention; the monitor that receives alarms and widgets.
	monitor.Ops
	// Domain and CertificateArn give the API a custom domain (for Cloudflare in front);
	// empty: the execute-api endpoint only.
	Domain         string
	CertificateArn pulumi.StringInput
	// SiteDomain is a second custom domain of the API, the single-page app's hostname: the
	// app answers it from the SPA's bucket, so Cloudflare reaches the SPA with the Host it
	// was asked for (a bucket origin would need a Host header override: Enterprise only).
	// CertificateArn must cover it, and SiteBucketArn names the bucket. Empty: none.
	SiteDomain    string
	SiteBucketArn pulumi.StringInput
	// CorsOrigins are the web origins whose pages may call the API from a browser (the SPA's,
	// https://app.example.com, when it is served from another hostname than the API); none:
	// no CORS headers, so browsers refuse cross-origin calls.
	CorsOrigins []string
	// KeepDirect keeps the execute-api endpoint open to clients that call it directly, and the
	// function answering requests without the CDN's header, while clients move to Domain
	// (the edge move); default false: behind the CDN only.
	KeepDirect bool
	// Settings, when set, are the parameters the app reads, given to the function at deploy
	// time (LLAMA_SETTINGS): on a rung where it reads nothing else at run time it then needs
	// no network path to SSM. Nil: the app reads the parameters under ParamPrefix.
	Settings pulumi.StringMap
	// DBPool is the connections each sandbox keeps to each database (LLAMA_DB_POOL): a sandbox
	// serves one request at a time. Default the app's own default.
	DBPool int
	// ReservedConcurrency caps the sandboxes running at once (and reserves them from the
	// account's concurrency); 0 leaves the function unreserved.
	ReservedConcurrency int
	Alarms              monitor.AppAlarms // thresholds; zero fields take their defaults
}

// API is an HTTP API in front of a Go function in the private subnets.
type API struct {
	pulumi.ResourceState

	URL          pulumi.StringOutput `pulumi:"url"`
	role         *iam.Role
	name         string
	RoleName     pulumi.StringOutput `pulumi:"roleName"`
	FunctionName pulumi.StringOutput `pulumi:"functionName"`
	// DomainTarget is the custom domain's regional target, for a CNAME; empty without Domain.
	DomainTarget pulumi.StringOutput `pulumi:"domainTarget"`
	// SiteTarget is SiteDomain's regional target; empty without SiteDomain.
	SiteTarget pulumi.StringOutput `pulumi:"siteTarget"`
	// OriginSecret is the value the CDN must send in OriginHeader; without Domain, none.
	OriginSecret pulumi.StringOutput `pulumi:"originSecret"`
}

func (a *APIArgs) validate() error {
	switch {
	case a == nil:
		return fmt.Errorf("functions: NewAPI needs APIArgs")
	case a.Code == nil || a.SubnetIDs == nil || a.SecurityGroupID == nil:
		return fmt.Errorf("functions: APIArgs needs Code, SubnetIDs and SecurityGroupID")
	case a.FunctionPrefix == "" || a.ParamPrefix == "" || a.Region == "" || a.AccountID == "":
		return fmt.Errorf("functions: APIArgs needs FunctionPrefix, ParamPrefix, Region and AccountID")
	case a.TimeoutSeconds < 1 || a.TimeoutSeconds > 29:
		return fmt.Errorf("api: timeout %d s is outside 1..29 (the HTTP API waits 30 s)", a.TimeoutSeconds)
	case a.MemoryMb < 128 || a.MemoryMb > 10240:
		return fmt.Errorf("functions: memory %d MB is outside Lambda's 128..10240", a.MemoryMb)
	case a.SiteDomain != "" && a.SiteBucketArn == nil:
		return fmt.Errorf("functions: the site %s needs SiteBucketArn", a.SiteDomain)
	case (a.Domain != "" || a.SiteDomain != "") && a.CertificateArn == nil:
		return fmt.Errorf("functions: a custom domain (%s%s) needs CertificateArn", a.Domain, a.SiteDomain)
	}
	return nil
}

// NewAPI creates the function, the API and their logs.
func NewAPI(ctx *pulumi.Context, name string, args *APIArgs, opts ...pulumi.ResourceOption) (*API, error) {
	if err := args.validate(); err != nil {
		return nil, err
	}
	a := &API{name: name}
	if err := ctx.RegisterComponentResource("llama:functions:API", name, a, opts...); err != nil {
		return nil, err
	}
	b := apiBuild{ctx: ctx, name: name, args: args, child: pulumi.Parent(a), fnName: args.FunctionPrefix + "-api"}
	fn, role, origin, err := b.function()
	if err != nil {
		return nil, err
	}
	api, stage, err := b.httpAPI(fn)
	if err != nil {
		return nil, err
	}
	a.URL, a.RoleName, a.FunctionName, a.role, a.OriginSecret = api.ApiEndpoint, role.Name, fn.Name, role, origin
	a.DomainTarget, a.SiteTarget = pulumi.String("").ToStringOutput(), pulumi.String("").ToStringOutput()
	if args.SiteDomain != "" {
		// The function reads the site's bucket, and only that, through its role.
		read, err := access.NewRolePolicy(ctx, name+"-site-read", role.Name, []access.Statement{
			{Sid: "ListSite", Actions: []string{"s3:ListBucket"}, Resources: pulumi.StringArray{args.SiteBucketArn}},
			{Sid: "ReadSite", Actions: []string{"s3:GetObject"}, Resources: pulumi.StringArray{pulumi.Sprintf("%s/*", args.SiteBucketArn)}},
		}, b.child)
		if err != nil {
			return nil, fmt.Errorf("site read: %w", err)
		}
		target, err := b.domain(api, stage, args.SiteDomain, "-site")
		if err != nil {
			return nil, err
		}
		// The record that sends the site's hostname here waits for the function's code and its
		// right to read the bucket: a function deployed before this one would answer the SPA's
		// pages as API routes.
		a.SiteTarget = pulumi.All(target, fn.Arn, read.ID()).ApplyT(func(v []any) string { return v[0].(string) }).(pulumi.StringOutput)
	}
	if args.Domain != "" {
		if a.DomainTarget, err = b.domain(api, stage, args.Domain, ""); err != nil {
			return nil, err
		}
		a.URL = pulumi.Sprintf("https://%s", args.Domain)
	}
	if err := a.watch(ctx, name, args, b.fnName, api.ID().ToStringOutput()); err != nil {
		return nil, err
	}
	return a, ctx.RegisterResourceOutputs(a, pulumi.Map{"url": a.URL, "roleName": a.RoleName, "functionName": a.FunctionName})
}

// apiBuild creates the API's parts, each step a method.
type apiBuild struct {
	ctx    *pulumi.Context
	name   string
	args   *APIArgs
	child  pulumi.ResourceOption
	fnName string
}

// function: the role (parameters, and rds-db:connect where given), the secret the CDN proves
// itself with, the log group and the function in the private subnets.
func (b apiBuild) function() (*lambda.Function, *iam.Role, pulumi.StringOutput, error) {
	ctx, name, args := b.ctx, b.name, b.args
	origin := pulumi.String("").ToStringOutput()
	role, err := access.NewServiceRole(ctx, name+"-role", "lambda.amazonaws.com",
		[]string{"service-role/AWSLambdaVPCAccessExecutionRole", "AWSXRayDaemonWriteAccess"}, b.child)
	if err != nil {
		return nil, nil, origin, err
	}
	stmts := []access.Statement{access.ReadParameters(args.Partition, args.Region, args.AccountID, args.ParamPrefix),
		access.RecordMoves(args.Partition, args.Region, args.AccountID, args.ParamPrefix)}
	if len(args.DBConnect) > 0 {
		stmts = append(stmts, access.Statement{Sid: "ConnectWithIAM", Actions: []string{"rds-db:connect"}, Resources: args.DBConnect})
	}
	policy, err := access.NewRolePolicy(ctx, name+"-access", role.Name, stmts, b.child)
	if err != nil {
		return nil, nil, origin, err
	}
	env, origin, err := b.environment()
	if err != nil {
		return nil, nil, origin, err
	}
	var reserved pulumi.IntPtrInput
	if args.ReservedConcurrency > 0 {
		reserved = pulumi.Int(args.ReservedConcurrency)
	}
	logs, err := monitor.NewLogGroup(ctx, name+"-logs", monitor.LogGroupArgs{Name: "/aws/lambda/" + b.fnName, RetentionDays: args.LogRetentionDays}, b.child)
	if err != nil {
		return nil, nil, origin, err
	}
	fn, err := lambda.NewFunction(ctx, name+"-function", &lambda.FunctionArgs{
		Name: pulumi.String(b.fnName), Runtime: pulumi.String("provided.al2023"), Handler: pulumi.String("bootstrap"),
		Architectures: pulumi.StringArray{pulumi.String("arm64")}, Code: args.Code,
		MemorySize: pulumi.Int(args.MemoryMb), Timeout: pulumi.Int(args.TimeoutSeconds), Role: role.Arn,
		VpcConfig:     lambda.FunctionVpcConfigArgs{SubnetIds: args.SubnetIDs, SecurityGroupIds: pulumi.StringArray{args.SecurityGroupID}},
		TracingConfig: lambda.FunctionTracingConfigArgs{Mode: pulumi.String("Active")},
		LoggingConfig: lambda.FunctionLoggingConfigArgs{LogFormat: pulumi.String("JSON"), LogGroup: logs.Name},
		Environment:   lambda.FunctionEnvironmentArgs{Variables: env}, ReservedConcurrentExecutions: reserved,
	}, b.child, pulumi.DependsOn(append([]pulumi.Resource{logs, policy}, args.Ready...)))
	if err != nil {
		return nil, nil, origin, fmt.Errorf("function: %w", err)
	}
	return fn, role, origin, nil
}

// environment is the function's: where the app reads its settings (the parameters under
// LLAMA_PARAMS, or the settings it is given), its pool, and behind the CDN the secret the CDN
// adds, which it returns: the custom domain cannot be used around the CDN. Until the edge move
// is done, the secret exists but is not required.
func (b apiBuild) environment() (pulumi.StringMap, pulumi.StringOutput, error) {
	args := b.args
	origin := pulumi.String("").ToStringOutput()
	env := pulumi.StringMap{"LLAMA_PARAMS": pulumi.String(args.ParamPrefix)}
	if args.Settings != nil {
		env["LLAMA_SETTINGS"] = args.Settings.ToStringMapOutput().ApplyT(func(m map[string]string) (string, error) {
			b, err := json.Marshal(m)
			return string(b), err
		}).(pulumi.StringOutput)
	}
	if args.DBPool > 0 {
		env["LLAMA_DB_POOL"] = pulumi.String(fmt.Sprint(args.DBPool))
	}
	if args.Domain == "" {
		return env, origin, nil
	}
	secret, err := random.NewRandomPassword(b.ctx, b.name+"-origin-secret", &random.RandomPasswordArgs{
		Length: pulumi.Int(48), Special: pulumi.Bool(false),
	}, b.child)
	if err != nil {
		return nil, origin, fmt.Errorf("origin secret: %w", err)
	}
	if !args.KeepDirect {
		env["ORIGIN_VERIFY"] = secret.Result
	}
	return env, secret.Result, nil
}

// httpAPI: the HTTP API with its access logs, its $default stage and every route to the
// function.
func (b apiBuild) httpAPI(fn *lambda.Function) (*apigatewayv2.Api, *apigatewayv2.Stage, error) {
	ctx, name, args := b.ctx, b.name, b.args
	accessLogs, err := monitor.NewLogGroup(ctx, name+"-access-logs", monitor.LogGroupArgs{RetentionDays: args.LogRetentionDays}, b.child)
	if err != nil {
		return nil, nil, err
	}
	apiArgs := &apigatewayv2.ApiArgs{
		ProtocolType: pulumi.String("HTTP"), Description: pulumi.String("Llama API"),
		DisableExecuteApiEndpoint: pulumi.Bool(args.Domain != "" && !args.KeepDirect),
	}
	if len(args.CorsOrigins) > 0 {
		// API Gateway answers the preflight and adds the headers (HTTP API developer guide,
		// "Configuring CORS for an HTTP API"): the SPA's origin, the methods and the JSON body.
		apiArgs.CorsConfiguration = apigatewayv2.ApiCorsConfigurationArgs{
			AllowOrigins: pulumi.ToStringArray(args.CorsOrigins),
			AllowMethods: pulumi.ToStringArray([]string{"GET", "POST", "HEAD", "OPTIONS"}),
			AllowHeaders: pulumi.ToStringArray([]string{"content-type"}),
			MaxAge:       pulumi.Int(3600),
		}
	}
	api, err := apigatewayv2.NewApi(ctx, name+"-http", apiArgs, b.child)
	if err != nil {
		return nil, nil, fmt.Errorf("http api: %w", err)
	}
	format, _ := json.Marshal(map[string]string{
		"requestId": "$context.requestId", "ip": "$context.identity.sourceIp", "method": "$context.httpMethod",
		"path": "$context.path", "status": "$context.status", "latency": "$context.responseLatency",
		"integrationLatency": "$context.integrationLatency", "error": "$context.integrationErrorMessage",
	})
	stage, err := apigatewayv2.NewStage(ctx, name+"-stage", &apigatewayv2.StageArgs{
		ApiId: api.ID(), Name: pulumi.String("$default"), AutoDeploy: pulumi.Bool(true),
		AccessLogSettings: apigatewayv2.StageAccessLogSettingsArgs{DestinationArn: accessLogs.Arn, Format: pulumi.String(string(format))},
		DefaultRouteSettings: apigatewayv2.StageDefaultRouteSettingsArgs{
			ThrottlingBurstLimit: pulumi.Int(500), ThrottlingRateLimit: pulumi.Float64(1000), DetailedMetricsEnabled: pulumi.Bool(true),
		},
	}, b.child)
	if err != nil {
		return nil, nil, fmt.Errorf("api stage: %w", err)
	}
	return api, stage, b.routes(api, fn)
}

// routes: every route to the function, and the API's right to invoke it.
func (b apiBuild) routes(api *apigatewayv2.Api, fn *lambda.Function) error {
	integration, err := apigatewayv2.NewIntegration(b.ctx, b.name+"-integration", &apigatewayv2.IntegrationArgs{
		ApiId: api.ID(), IntegrationType: pulumi.String("AWS_PROXY"), IntegrationUri: fn.InvokeArn,
		PayloadFormatVersion: pulumi.String("2.0"), TimeoutMilliseconds: pulumi.Int(30000),
	}, b.child)
	if err != nil {
		return fmt.Errorf("api integration: %w", err)
	}
	for i, r := range Routes {
		if _, err := apigatewayv2.NewRoute(b.ctx, fmt.Sprintf("%s-route-%d", b.name, i), &apigatewayv2.RouteArgs{
			ApiId: api.ID(), RouteKey: pulumi.String(r), Target: pulumi.Sprintf("integrations/%s", integration.ID()),
		}, b.child); err != nil {
			return fmt.Errorf("api route %s: %w", r, err)
		}
	}
	if _, err := lambda.NewPermission(b.ctx, b.name+"-invoke", &lambda.PermissionArgs{
		Action: pulumi.String("lambda:InvokeFunction"), Function: fn.Name, Principal: pulumi.String("apigateway.amazonaws.com"),
		SourceArn: pulumi.Sprintf("%s/*/*", api.ExecutionArn),
	}, b.child); err != nil {
		return fmt.Errorf("api permission: %w", err)
	}
	return nil
}

// domain: a custom domain and its mapping to the stage; returns the regional target the
// CDN's record points at. suffix tells the domains' resources apart.
func (b apiBuild) domain(api *apigatewayv2.Api, stage *apigatewayv2.Stage, name, suffix string) (pulumi.StringOutput, error) {
	dn, err := apigatewayv2.NewDomainName(b.ctx, b.name+suffix+"-domain", &apigatewayv2.DomainNameArgs{
		DomainName: pulumi.String(name),
		DomainNameConfiguration: apigatewayv2.DomainNameDomainNameConfigurationArgs{
			CertificateArn: b.args.CertificateArn, EndpointType: pulumi.String("REGIONAL"), SecurityPolicy: pulumi.String("TLS_1_2"),
		},
	}, b.child)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("api domain: %w", err)
	}
	if _, err := apigatewayv2.NewApiMapping(b.ctx, b.name+suffix+"-mapping", &apigatewayv2.ApiMappingArgs{
		// The stage's name as its output, so the mapping waits for the stage: a literal
		// "$default" lets it race the stage's creation ("Invalid stage identifier").
		ApiId: api.ID(), DomainName: dn.ID(), Stage: stage.Name,
	}, b.child); err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("api mapping: %w", err)
	}
	return dn.DomainNameConfiguration.TargetDomainName().Elem(), nil
}

// watch adds the app tier's signals: the API's request rate, latency, 5xx rate and bytes, and
// the function's duration, errors, throttles and concurrency.
func (a *API) watch(ctx *pulumi.Context, name string, args *APIArgs, fnName string, apiID pulumi.StringOutput) error {
	m := args.Monitor
	if m == nil {
		return nil
	}
	apiDim := map[string]pulumi.StringInput{"ApiId": apiID, "Stage": pulumi.String("$default")}
	fnDim := map[string]pulumi.StringInput{"FunctionName": pulumi.String(fnName)}
	api := func(metric, stat string) monitor.Metric {
		return monitor.Metric{Namespace: "AWS/ApiGateway", Name: metric, Dimensions: apiDim, Stat: stat, Label: metric + " " + stat}
	}
	fn := func(metric, stat string) monitor.Metric {
		return monitor.Metric{Namespace: "AWS/Lambda", Name: metric, Dimensions: fnDim, Stat: stat, Label: metric + " " + stat}
	}
	section := "App tier: HTTP API and function " + fnName
	m.AddWidgets(
		monitor.Widget{Section: section, Title: "Requests", Metrics: []monitor.Metric{api("Count", "Sum")}},
		monitor.Widget{Section: section, Title: "Response time (ms)", Metrics: []monitor.Metric{api("Latency", "p95"), api("Latency", "p50")}},
		monitor.Widget{Section: section, Title: "5xx error rate (%)", Metrics: []monitor.Metric{api("5xx", "Sum"), api("Count", "Sum")}, Expression: "100*m0/m1"},
		monitor.Widget{Section: section, Title: "Network throughput (bytes)", Metrics: []monitor.Metric{api("DataProcessed", "Sum")}},
		monitor.Widget{Section: section, Title: "Function duration (ms)", Metrics: []monitor.Metric{fn("Duration", "p95"), fn("Duration", "p50")}},
		monitor.Widget{Section: section, Title: "Function errors, throttles, concurrency", Metrics: []monitor.Metric{fn("Errors", "Sum"), fn("Throttles", "Sum"), fn("ConcurrentExecutions", "Maximum")}},
	)
	th := args.Alarms.WithDefaults()
	alarms := []monitor.NamedAlarm{
		{Key: "latency-p95", Alarm: monitor.Alarm{Description: fmt.Sprintf("API p95 response time above %d ms", th.LatencyP95Ms), Metric: api("Latency", "p95"), Threshold: float64(th.LatencyP95Ms)}},
		{Key: "error-rate", Alarm: monitor.Alarm{Description: fmt.Sprintf("API 5xx error rate above %d%%", th.ErrorRatePercent),
			Metrics: []monitor.Metric{api("5xx", "Sum"), api("Count", "Sum")}, Expression: "IF(m1 > 0, 100*m0/m1, 0)", Threshold: float64(th.ErrorRatePercent)}},
		{Key: "function-errors", Alarm: monitor.Alarm{Description: fnName + ": function errors", Metric: fn("Errors", "Sum"), Threshold: 5}},
		{Key: "throttles", Alarm: monitor.Alarm{Description: fnName + ": invocations throttled", Metric: fn("Throttles", "Sum"), Threshold: 0}},
		{Key: "duration-p95", Alarm: monitor.Alarm{Description: fnName + ": p95 duration above 80% of the timeout", Metric: fn("Duration", "p95"), Threshold: float64(args.TimeoutSeconds) * 800}},
	}
	if err := m.NewAlarms(ctx, a, name, alarms); err != nil {
		return err
	}
	return nil
}

// Grant attaches an inline policy of statements, named <api>-<name>, to the function's role.
func (a *API) Grant(ctx *pulumi.Context, name string, stmts []access.Statement) error {
	_, err := access.NewRolePolicy(ctx, a.name+"-"+name, a.role.Name, stmts, pulumi.Parent(a))
	return err
}

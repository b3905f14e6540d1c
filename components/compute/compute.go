// Package compute holds the app's EC2 building blocks: the app role, the single box of Llama 1.0
// and the load-balanced fleet of Llama 3.0, which share one hardening and one boot script.
package compute

import (
	"fmt"
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/access"
)

// Hardening every app instance gets, box or fleet.
const (
	metadataTokens   = "required" // IMDSv2 only
	metadataHopLimit = 1          // no container on the host reaches the metadata service
	rootVolumeGb     = 20
	volumeType       = "gp3"
)

// reGraviton matches the instance families of AWS's Arm (Graviton) processors: a "g" among the
// attribute letters after the generation digit (t4g, m7gd, c6gn, r8g, g5g), or a1. Every other
// family is x86_64 (m7i-flex, c6a, g4dn).
var reGraviton = regexp.MustCompile(`^(a1|[a-z]+[0-9]+[a-z]*g[a-z]*)\.`)

// Arch returns the Go architecture (amd64 or arm64) of an instance type: the AMI and the app's
// build follow it, since an arm64 instance cannot boot an x86_64 image.
func Arch(instanceType string) string {
	if reGraviton.MatchString(instanceType) {
		return "arm64"
	}
	return "amd64"
}

// amiArch is an AMI's name for a Go architecture.
func amiArch(goarch string) string {
	if goarch == "arm64" {
		return "arm64"
	}
	return "x86_64"
}

// LatestAL2023 looks up the newest Amazon Linux 2023 AMI for a Go architecture (amd64, arm64).
func LatestAL2023(ctx *pulumi.Context, goarch string) (string, error) {
	arch := amiArch(goarch)
	ami, err := ec2.LookupAmi(ctx, &ec2.LookupAmiArgs{
		Owners:     []string{"amazon"},
		MostRecent: pulumi.BoolRef(true),
		Filters: []ec2.GetAmiFilter{
			{Name: "name", Values: []string{"al2023-ami-2023.*-kernel-6.1-" + arch}},
			{Name: "state", Values: []string{"available"}},
		},
	})
	if err != nil {
		return "", fmt.Errorf("looking up the Amazon Linux 2023 AMI: %w", err)
	}
	return ami.Id, nil
}

// AppRoleArgs configures the app's instance role.
type AppRoleArgs struct {
	ParamPrefix    string // required: the SSM parameter path the app reads its settings from, /llama/<stack>
	access.Account        // Region and AccountID required
}

// AppRole is the IAM role and instance profile the app's instances run as: Session Manager
// access (no SSH), the CloudWatch agent, and read access to the stack's parameters.
type AppRole struct {
	pulumi.ResourceState

	Role            *iam.Role
	RoleName        pulumi.StringOutput `pulumi:"roleName"`
	name            string
	InstanceProfile pulumi.StringOutput `pulumi:"instanceProfile"`
}

// NewAppRole creates the app role.
func NewAppRole(ctx *pulumi.Context, name string, args *AppRoleArgs, opts ...pulumi.ResourceOption) (*AppRole, error) {
	if args == nil || args.ParamPrefix == "" || args.Region == "" || args.AccountID == "" {
		return nil, fmt.Errorf("compute: AppRoleArgs needs ParamPrefix, Region and AccountID")
	}
	a := &AppRole{name: name}
	if err := ctx.RegisterComponentResource("llama:compute:AppRole", name, a, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(a)
	role, err := access.NewServiceRole(ctx, name+"-role", "ec2.amazonaws.com",
		[]string{"AmazonSSMManagedInstanceCore", "CloudWatchAgentServerPolicy"}, child)
	if err != nil {
		return nil, err
	}
	if _, err := access.NewRolePolicy(ctx, name+"-params", role.Name, []access.Statement{
		access.ReadParameters(args.Partition, args.Region, args.AccountID, args.ParamPrefix),
		access.RecordMoves(args.Partition, args.Region, args.AccountID, args.ParamPrefix)}, child); err != nil {
		return nil, err
	}
	profile, err := iam.NewInstanceProfile(ctx, name+"-profile", &iam.InstanceProfileArgs{Role: role.Name}, child)
	if err != nil {
		return nil, fmt.Errorf("instance profile: %w", err)
	}
	a.Role, a.RoleName, a.InstanceProfile = role, role.Name, profile.Name
	if err := ctx.RegisterResourceOutputs(a, pulumi.Map{"roleName": role.Name, "instanceProfile": profile.Name}); err != nil {
		return nil, err
	}
	return a, nil
}

// Grant attaches an inline policy of statements, named <role>-<name>, to the app role.
func (a *AppRole) Grant(ctx *pulumi.Context, name string, stmts []access.Statement) error {
	_, err := access.NewRolePolicy(ctx, a.name+"-"+name, a.Role.Name, stmts, pulumi.Parent(a))
	return err
}

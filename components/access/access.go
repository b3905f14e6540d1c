// Package access holds IAM building blocks: service roles and least-privilege inline policies.
package access

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Account is where the stack runs, as ARNs and regional service names need it. Components whose
// Args embed it say which fields they require.
type Account struct {
	Region    string
	AccountID string
	Partition string // aws (default), aws-cn or aws-us-gov
}

// Statement allows actions on resources.
type Statement struct {
	Sid       string
	Actions   []string
	Resources pulumi.StringArrayInput
}

// Trust returns the assume-role policy for an AWS service principal.
func Trust(service string) string {
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": map[string]any{"Service": service},
	}}})
	return string(b)
}

// Document renders an identity policy from statements whose resources may be outputs.
func Document(stmts []Statement) pulumi.StringOutput {
	var res []any
	for _, s := range stmts {
		res = append(res, s.Resources)
	}
	return pulumi.All(res...).ApplyT(func(vals []any) (string, error) {
		var out []any
		for i, s := range stmts {
			st := map[string]any{"Effect": "Allow", "Action": s.Actions, "Resource": vals[i]}
			if s.Sid != "" {
				st["Sid"] = s.Sid
			}
			out = append(out, st)
		}
		b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": out})
		return string(b), err
	}).(pulumi.StringOutput)
}

// NewRolePolicy attaches an inline policy of statements to a role.
func NewRolePolicy(ctx *pulumi.Context, name string, role pulumi.StringInput, stmts []Statement, opts ...pulumi.ResourceOption) (*iam.RolePolicy, error) {
	p, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{Role: role, Policy: Document(stmts)}, opts...)
	if err != nil {
		return nil, fmt.Errorf("role policy %s: %w", name, err)
	}
	return p, nil
}

// NewServiceRole creates a role a service assumes, with AWS managed policies attached by ARN
// suffix (service-role/AmazonRDSEnhancedMonitoringRole).
func NewServiceRole(ctx *pulumi.Context, name, service string, managed []string, opts ...pulumi.ResourceOption) (*iam.Role, error) {
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{AssumeRolePolicy: pulumi.String(Trust(service))}, opts...)
	if err != nil {
		return nil, fmt.Errorf("role %s: %w", name, err)
	}
	for i, m := range managed {
		if _, err := iam.NewRolePolicyAttachment(ctx, fmt.Sprintf("%s-managed-%d", name, i), &iam.RolePolicyAttachmentArgs{
			// In the role's own partition (aws, aws-cn, aws-us-gov).
			Role: role.Name, PolicyArn: pulumi.Sprintf("arn:%s:iam::aws:policy/%s", Partition(role.Arn), m),
		}, opts...); err != nil {
			return nil, fmt.Errorf("role %s policy %s: %w", name, m, err)
		}
	}
	return role, nil
}

// Grantee is an identity the app runs as that can be granted access. Grant names the policy
// after the grantee, so the name passed is a suffix.
type Grantee interface {
	Grant(ctx *pulumi.Context, name string, stmts []Statement) error
}

// ReadSecrets allows reading the values of the given secrets.
func ReadSecrets(arns pulumi.StringArray) []Statement {
	return []Statement{{Sid: "ReadStackSecrets", Actions: []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}, Resources: arns}}
}

// Partition reads the partition (aws, aws-cn, aws-us-gov) from an ARN.
func Partition(arn pulumi.StringOutput) pulumi.StringOutput {
	return arn.ApplyT(func(a string) string {
		if parts := strings.SplitN(a, ":", 3); len(parts) == 3 && parts[0] == "arn" {
			return parts[1]
		}
		return "aws"
	}).(pulumi.StringOutput)
}

// PartitionOr is a partition, aws when empty.
func PartitionOr(p string) string {
	if p == "" {
		return "aws"
	}
	return p
}

// RecordMoves allows writing the move records under a prefix (/llama/<stack>/moves/*): what
// `llama-app move` writes, where the app follows it and `pulumi up` reads it. The stack
// manages every other parameter under the prefix; the app writes none of those.
func RecordMoves(partition, region, account, prefix string) Statement {
	arn := fmt.Sprintf("arn:%s:ssm:%s:%s:parameter%s/moves/*", PartitionOr(partition), region, account, prefix)
	return Statement{Sid: "RecordMoves", Actions: []string{"ssm:PutParameter"}, Resources: pulumi.StringArray{pulumi.String(arn)}}
}

// ReadParameters allows reading the SSM parameters under a prefix (/llama/<stack>), in a
// partition (aws when empty), region and account.
func ReadParameters(partition, region, account, prefix string) Statement {
	arn := fmt.Sprintf("arn:%s:ssm:%s:%s:parameter%s", PartitionOr(partition), region, account, prefix)
	return Statement{Sid: "ReadStackParameters", Actions: []string{"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"},
		Resources: pulumi.StringArray{pulumi.String(arn), pulumi.String(arn + "/*")}}
}

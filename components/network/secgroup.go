package network

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Ingress admits TCP traffic on one port, from a CIDR, another security group or a prefix list.
type Ingress struct {
	Name        string // part of the rule's resource name: stable, so adding rules only creates
	Port        int
	Cidr        string             // IPv4 CIDR, or
	CidrV6      string             // IPv6 CIDR, or
	PrefixList  pulumi.StringInput // a managed prefix list ID, or
	SourceGroup pulumi.StringInput // a security group ID
	Description string
}

// SecurityGroupArgs configures a security group.
type SecurityGroupArgs struct {
	VpcID       pulumi.StringInput // required
	Description string             // required: what the group admits and why (ForceNew: a change replaces the group)
	Ingress     []Ingress          // what it admits; default nothing
	EgressAll   bool               // allow all outbound traffic (default: none)
}

// NewSecurityGroup creates a security group and one rule resource per rule, so that rules can
// be added and removed without touching the group.
func NewSecurityGroup(ctx *pulumi.Context, name string, args *SecurityGroupArgs, opts ...pulumi.ResourceOption) (*ec2.SecurityGroup, error) {
	if args == nil || args.VpcID == nil || args.Description == "" {
		return nil, fmt.Errorf("security group %s: a VpcID and a description", name)
	}
	sg, err := ec2.NewSecurityGroup(ctx, name, &ec2.SecurityGroupArgs{
		VpcId: args.VpcID, Description: pulumi.String(args.Description),
		Tags: pulumi.StringMap{"Name": pulumi.String(name)},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("security group %s: %w", name, err)
	}
	for _, in := range args.Ingress {
		if err := AddIngress(ctx, name, sg, in, opts...); err != nil {
			return nil, err
		}
	}
	if args.EgressAll {
		if _, err := vpc.NewSecurityGroupEgressRule(ctx, name+"-egress-all", &vpc.SecurityGroupEgressRuleArgs{
			SecurityGroupId: sg.ID(), IpProtocol: pulumi.String("-1"), CidrIpv4: pulumi.String("0.0.0.0/0"),
			Description: pulumi.String("all outbound"),
		}, opts...); err != nil {
			return nil, fmt.Errorf("security group %s egress: %w", name, err)
		}
	}
	return sg, nil
}

// AddIngress adds one ingress rule to a group.
func AddIngress(ctx *pulumi.Context, name string, sg *ec2.SecurityGroup, in Ingress, opts ...pulumi.ResourceOption) error {
	args := &vpc.SecurityGroupIngressRuleArgs{
		SecurityGroupId: sg.ID(), IpProtocol: pulumi.String("tcp"),
		FromPort: pulumi.Int(in.Port), ToPort: pulumi.Int(in.Port), Description: pulumi.String(in.Description),
	}
	switch {
	case in.Cidr != "":
		args.CidrIpv4 = pulumi.String(in.Cidr)
	case in.CidrV6 != "":
		args.CidrIpv6 = pulumi.String(in.CidrV6)
	case in.PrefixList != nil:
		args.PrefixListId = in.PrefixList
	default:
		args.ReferencedSecurityGroupId = in.SourceGroup
	}
	if _, err := vpc.NewSecurityGroupIngressRule(ctx, fmt.Sprintf("%s-in-%s", name, in.Name), args, opts...); err != nil {
		return fmt.Errorf("security group %s ingress %s: %w", name, in.Name, err)
	}
	return nil
}

package tests

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Programs the strict engine must refuse.

func dupProgram(ctx *pulumi.Context) (pulumi.Map, error) {
	for i := 0; i < 2; i++ {
		if _, err := ssm.NewParameter(ctx, "same", &ssm.ParameterArgs{Type: pulumi.String("String"), Value: pulumi.String("x")}); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

func unmockedInvoke(ctx *pulumi.Context) (pulumi.Map, error) {
	_, err := ec2.LookupVpc(ctx, &ec2.LookupVpcArgs{Default: pulumi.BoolRef(true)})
	return nil, err
}

// emptyOutput reads an output the offline engine gives no value (a VPC's IPv6 association)
// into another resource's input.
func emptyOutput(ctx *pulumi.Context) (pulumi.Map, error) {
	vpc, err := ec2.NewVpc(ctx, "v", &ec2.VpcArgs{CidrBlock: pulumi.String("10.0.0.0/16")})
	if err != nil {
		return nil, err
	}
	_, err = ssm.NewParameter(ctx, "p", &ssm.ParameterArgs{Type: pulumi.String("String"), Value: pulumi.String("v"),
		Description: vpc.Ipv6AssociationId.ApplyT(func(s string) string { return s }).(pulumi.StringOutput)})
	return nil, err
}

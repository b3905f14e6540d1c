// Package network holds the stack's one VPC and the security-group helper every component uses.
package network

import (
	"encoding/json"
	"fmt"
	"net/netip"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/monitor"
)

// NetworkArgs configures the VPC.
type NetworkArgs struct {
	Cidr   netip.Prefix // an IPv4 /16
	AZs    []string     // the availability zones to span, at least 2
	Region string       // for the gateway endpoints' service names
	// Nat gives the private subnets a way out to the internet (AWS APIs, package updates)
	// through NAT gateways; default false: the private subnets have no route out. A rung
	// that puts compute in them turns it on, which creates the gateways and updates the
	// private route tables in place.
	Nat              bool
	NatPerAz         bool // with Nat: one NAT gateway per AZ (survives an AZ outage); default a single one
	LogRetentionDays int  // flow log retention
}

// Network is a VPC with public, private and isolated database subnets in every AZ.
type Network struct {
	pulumi.ResourceState

	VpcID             pulumi.IDOutput          `pulumi:"vpcId"`
	PublicSubnetIDs   pulumi.StringArrayOutput `pulumi:"publicSubnetIds"`
	PrivateSubnetIDs  pulumi.StringArrayOutput `pulumi:"privateSubnetIds"`
	DatabaseSubnetIDs pulumi.StringArrayOutput `pulumi:"databaseSubnetIds"`
	// AppSecurityGroupID identifies the app wherever it runs (box, fleet, functions): data
	// stores admit it and nothing else.
	AppSecurityGroupID pulumi.IDOutput `pulumi:"appSecurityGroupId"`

	// Public are the public subnets, one per AZ in order (the box takes the first).
	Public []*ec2.Subnet
}

// Subnet tiers and their offsets inside the /16: private /19s from 0, public /22s from
// 192, database /22s from 224 (room for six AZs each).
func subnetCidr(base netip.Prefix, tier string, i int) string {
	b := base.Addr().As4()
	switch tier {
	case "private":
		return fmt.Sprintf("%d.%d.%d.0/19", b[0], b[1], i*32)
	case "public":
		return fmt.Sprintf("%d.%d.%d.0/22", b[0], b[1], 192+i*4)
	default:
		return fmt.Sprintf("%d.%d.%d.0/22", b[0], b[1], 224+i*4)
	}
}

// NewNetwork creates the VPC.
func NewNetwork(ctx *pulumi.Context, name string, args *NetworkArgs, opts ...pulumi.ResourceOption) (*Network, error) {
	if len(args.AZs) < 2 || len(args.AZs) > 6 {
		return nil, fmt.Errorf("network needs 2 to 6 availability zones, got %d", len(args.AZs))
	}
	n := &Network{}
	if err := ctx.RegisterComponentResource("llama:network:Network", name, n, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(n)
	vpc, err := ec2.NewVpc(ctx, name+"-vpc", &ec2.VpcArgs{
		CidrBlock:          pulumi.String(args.Cidr.String()),
		EnableDnsHostnames: pulumi.Bool(true),
		EnableDnsSupport:   pulumi.Bool(true),
		Tags:               pulumi.StringMap{"Name": pulumi.String(name)},
	}, child)
	if err != nil {
		return nil, fmt.Errorf("vpc: %w", err)
	}
	n.VpcID = vpc.ID()

	// The default security group admits nothing and lets nothing out: every resource gets
	// a group of its own.
	if _, err := ec2.NewDefaultSecurityGroup(ctx, name+"-default-sg", &ec2.DefaultSecurityGroupArgs{
		VpcId: vpc.ID(), Tags: pulumi.StringMap{"Name": pulumi.String(name + "-default-locked")},
	}, child); err != nil {
		return nil, fmt.Errorf("default security group: %w", err)
	}

	igw, err := ec2.NewInternetGateway(ctx, name+"-igw", &ec2.InternetGatewayArgs{VpcId: vpc.ID()}, child)
	if err != nil {
		return nil, fmt.Errorf("internet gateway: %w", err)
	}
	publicRT, err := ec2.NewRouteTable(ctx, name+"-public-rt", &ec2.RouteTableArgs{
		VpcId:  vpc.ID(),
		Routes: ec2.RouteTableRouteArray{ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), GatewayId: igw.ID()}},
		Tags:   pulumi.StringMap{"Name": pulumi.String(name + "-public")},
	}, child)
	if err != nil {
		return nil, fmt.Errorf("public route table: %w", err)
	}
	dbRT, err := ec2.NewRouteTable(ctx, name+"-database-rt", &ec2.RouteTableArgs{
		VpcId: vpc.ID(), Tags: pulumi.StringMap{"Name": pulumi.String(name + "-database")},
	}, child)
	if err != nil {
		return nil, fmt.Errorf("database route table: %w", err)
	}

	var public, private, database pulumi.StringArray
	routeTables := pulumi.StringArray{publicRT.ID(), dbRT.ID()}
	var nat *ec2.NatGateway
	for i, az := range args.AZs {
		// No subnet maps public addresses on launch: the box gets an Elastic IP, and
		// nothing else is public.
		sub := func(tier string) (*ec2.Subnet, error) {
			s, err := ec2.NewSubnet(ctx, fmt.Sprintf("%s-%s-%d", name, tier, i), &ec2.SubnetArgs{
				VpcId: vpc.ID(), AvailabilityZone: pulumi.String(az), CidrBlock: pulumi.String(subnetCidr(args.Cidr, tier, i)),
				MapPublicIpOnLaunch: pulumi.Bool(false),
				Tags:                pulumi.StringMap{"Name": pulumi.Sprintf("%s-%s-%s", name, tier, az), "llama:tier": pulumi.String(tier)},
			}, child)
			if err != nil {
				return nil, fmt.Errorf("%s subnet in %s: %w", tier, az, err)
			}
			return s, nil
		}
		pub, err := sub("public")
		if err != nil {
			return nil, err
		}
		priv, err := sub("private")
		if err != nil {
			return nil, err
		}
		db, err := sub("database")
		if err != nil {
			return nil, err
		}
		n.Public = append(n.Public, pub)
		public, private, database = append(public, pub.ID()), append(private, priv.ID()), append(database, db.ID())
		for tier, pair := range map[string][2]pulumi.IDOutput{"public": {pub.ID(), publicRT.ID()}, "database": {db.ID(), dbRT.ID()}} {
			if _, err := ec2.NewRouteTableAssociation(ctx, fmt.Sprintf("%s-%s-rta-%d", name, tier, i), &ec2.RouteTableAssociationArgs{
				SubnetId: pair[0], RouteTableId: pair[1],
			}, child); err != nil {
				return nil, fmt.Errorf("%s route table association: %w", tier, err)
			}
		}

		if args.Nat && (nat == nil || args.NatPerAz) {
			natName := fmt.Sprintf("%s-nat-%d", name, i)
			eip, err := ec2.NewEip(ctx, natName+"-eip", &ec2.EipArgs{Domain: pulumi.String("vpc")}, child)
			if err != nil {
				return nil, fmt.Errorf("NAT address: %w", err)
			}
			nat, err = ec2.NewNatGateway(ctx, natName, &ec2.NatGatewayArgs{
				AllocationId: eip.ID(), SubnetId: pub.ID(), Tags: pulumi.StringMap{"Name": pulumi.String(natName)},
			}, child, pulumi.DependsOn([]pulumi.Resource{igw}))
			if err != nil {
				return nil, fmt.Errorf("NAT gateway: %w", err)
			}
		}
		routes := ec2.RouteTableRouteArray{}
		if nat != nil {
			routes = append(routes, ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), NatGatewayId: nat.ID()})
		}
		privRT, err := ec2.NewRouteTable(ctx, fmt.Sprintf("%s-private-rt-%d", name, i), &ec2.RouteTableArgs{
			VpcId:  vpc.ID(),
			Routes: routes,
			Tags:   pulumi.StringMap{"Name": pulumi.Sprintf("%s-private-%s", name, az)},
		}, child)
		if err != nil {
			return nil, fmt.Errorf("private route table: %w", err)
		}
		if _, err := ec2.NewRouteTableAssociation(ctx, fmt.Sprintf("%s-private-rta-%d", name, i), &ec2.RouteTableAssociationArgs{
			SubnetId: priv.ID(), RouteTableId: privRT.ID(),
		}, child); err != nil {
			return nil, fmt.Errorf("private route table association: %w", err)
		}
		routeTables = append(routeTables, privRT.ID())
	}
	n.PublicSubnetIDs, n.PrivateSubnetIDs, n.DatabaseSubnetIDs = public.ToStringArrayOutput(), private.ToStringArrayOutput(), database.ToStringArrayOutput()

	// S3 and DynamoDB traffic stays on AWS's network and costs no NAT processing.
	for _, svc := range []string{"s3", "dynamodb"} {
		if _, err := ec2.NewVpcEndpoint(ctx, name+"-"+svc+"-endpoint", &ec2.VpcEndpointArgs{
			VpcId: vpc.ID(), ServiceName: pulumi.Sprintf("com.amazonaws.%s.%s", args.Region, svc),
			VpcEndpointType: pulumi.String("Gateway"), RouteTableIds: routeTables,
		}, child); err != nil {
			return nil, fmt.Errorf("%s endpoint: %w", svc, err)
		}
	}

	if err := flowLogs(ctx, name, vpc, args.LogRetentionDays, child); err != nil {
		return nil, err
	}

	app, err := NewSecurityGroup(ctx, name+"-app-sg", &SecurityGroupArgs{
		VpcID: vpc.ID(), Description: "Identifies the app (box, fleet or functions); data stores admit this group",
		EgressAll: true,
	}, child)
	if err != nil {
		return nil, err
	}
	n.AppSecurityGroupID = app.ID()

	if err := ctx.RegisterResourceOutputs(n, pulumi.Map{
		"vpcId": n.VpcID, "publicSubnetIds": n.PublicSubnetIDs, "privateSubnetIds": n.PrivateSubnetIDs,
		"databaseSubnetIds": n.DatabaseSubnetIDs, "appSecurityGroupId": n.AppSecurityGroupID,
	}); err != nil {
		return nil, err
	}
	return n, nil
}

func flowLogs(ctx *pulumi.Context, name string, vpc *ec2.Vpc, retention int, child pulumi.ResourceOption) error {
	group, err := monitor.NewLogGroup(ctx, name+"-flow-logs", monitor.LogGroupArgs{RetentionDays: retention}, child)
	if err != nil {
		return err
	}
	trust, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": map[string]any{"Service": "vpc-flow-logs.amazonaws.com"},
	}}})
	role, err := iam.NewRole(ctx, name+"-flow-logs-role", &iam.RoleArgs{AssumeRolePolicy: pulumi.String(string(trust))}, child)
	if err != nil {
		return fmt.Errorf("flow log role: %w", err)
	}
	policy := group.Arn.ApplyT(func(arn string) (string, error) {
		b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
			"Effect": "Allow", "Resource": []string{arn, arn + ":*"},
			"Action": []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
		}}})
		return string(b), err
	}).(pulumi.StringOutput)
	if _, err := iam.NewRolePolicy(ctx, name+"-flow-logs-policy", &iam.RolePolicyArgs{Role: role.Name, Policy: policy}, child); err != nil {
		return fmt.Errorf("flow log policy: %w", err)
	}
	if _, err := ec2.NewFlowLog(ctx, name+"-flow-log", &ec2.FlowLogArgs{
		VpcId: vpc.ID(), TrafficType: pulumi.String("ALL"), LogDestinationType: pulumi.String("cloud-watch-logs"),
		LogDestination: group.Arn, IamRoleArn: role.Arn, MaxAggregationInterval: pulumi.Int(60),
	}, child); err != nil {
		return fmt.Errorf("flow log: %w", err)
	}
	return nil
}

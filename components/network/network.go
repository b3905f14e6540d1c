// Package network holds the stack's one VPC and the security-group helper every component uses.
package network

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/access"
	"github.com/llama-stages/llama/components/monitor"
)

// The availability zones a network spans: two for anything that fails over, at most six, the
// subnet plan's room (six /19s, /22s and /22s in a /16).
const (
	MinAZs = 2
	MaxAZs = 6
)

// NetworkArgs configures the VPC.
type NetworkArgs struct {
	Cidr netip.Prefix // required: an IPv4 /16
	AZs  []string     // required: the availability zones to span, MinAZs to MaxAZs
	// Account: Region is required, the gateway endpoints' service names name it.
	access.Account
	// Ops: the flow logs' retention (Protect and Monitor unused).
	monitor.Ops
	// Nat gives the private subnets a way out to the internet (AWS APIs, package updates)
	// through NAT gateways; default false: the private subnets have no route out. A rung
	// that puts compute in them turns it on, which creates the gateways and updates the
	// private route tables in place.
	Nat      bool
	NatPerAz bool // with Nat: one NAT gateway per AZ (survives an AZ outage); default a single one
	// InterfaceEndpoints are the AWS services ("ssm", "secretsmanager") the private subnets
	// reach through interface endpoints, in every AZ, with private DNS, admitting HTTPS from
	// the app alone: a way to those APIs without NAT. Default none. Each costs by the hour
	// and AZ (unlike the S3 and DynamoDB gateway endpoints every network has).
	InterfaceEndpoints []string
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
	// Interfaces are the interface endpoints (NetworkArgs.InterfaceEndpoints): what a client
	// that reads those services waits for.
	Interfaces []pulumi.Resource
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

func (a *NetworkArgs) validate() error {
	switch {
	case a == nil:
		return fmt.Errorf("network: NewNetwork needs NetworkArgs")
	case !a.Cidr.IsValid() || !a.Cidr.Addr().Is4() || a.Cidr.Bits() != 16:
		return fmt.Errorf("network: Cidr %v: want an IPv4 /16", a.Cidr)
	case len(a.AZs) < MinAZs || len(a.AZs) > MaxAZs:
		return fmt.Errorf("network needs %d to %d availability zones, got %d", MinAZs, MaxAZs, len(a.AZs))
	case a.Region == "":
		return fmt.Errorf("network: NetworkArgs needs Region")
	}
	return nil
}

// NewNetwork creates the VPC.
func NewNetwork(ctx *pulumi.Context, name string, args *NetworkArgs, opts ...pulumi.ResourceOption) (*Network, error) {
	if err := args.validate(); err != nil {
		return nil, err
	}
	n := &Network{}
	if err := ctx.RegisterComponentResource("llama:network:Network", name, n, opts...); err != nil {
		return nil, err
	}
	b := &netBuild{ctx: ctx, name: name, args: args, child: pulumi.Parent(n)}
	if err := b.core(); err != nil {
		return nil, err
	}
	var public, private, database pulumi.StringArray
	for i, az := range args.AZs {
		pub, priv, db, err := b.zone(i, az)
		if err != nil {
			return nil, err
		}
		n.Public = append(n.Public, pub)
		public, private, database = append(public, pub.ID()), append(private, priv.ID()), append(database, db.ID())
	}
	if err := b.endpoints(); err != nil {
		return nil, err
	}
	if err := flowLogs(ctx, name, b.vpc, args.LogRetentionDays, b.child); err != nil {
		return nil, err
	}
	app, err := NewSecurityGroup(ctx, name+"-app-sg", &SecurityGroupArgs{
		VpcID: b.vpc.ID(), Description: "Identifies the app (box, fleet or functions); data stores admit this group",
		EgressAll: true,
	}, b.child)
	if err != nil {
		return nil, err
	}
	if n.Interfaces, err = b.interfaceEndpoints(private, app.ID()); err != nil {
		return nil, err
	}
	n.VpcID, n.AppSecurityGroupID = b.vpc.ID(), app.ID()
	n.PublicSubnetIDs, n.PrivateSubnetIDs, n.DatabaseSubnetIDs = public.ToStringArrayOutput(), private.ToStringArrayOutput(), database.ToStringArrayOutput()
	return n, ctx.RegisterResourceOutputs(n, pulumi.Map{
		"vpcId": n.VpcID, "publicSubnetIds": n.PublicSubnetIDs, "privateSubnetIds": n.PrivateSubnetIDs,
		"databaseSubnetIds": n.DatabaseSubnetIDs, "appSecurityGroupId": n.AppSecurityGroupID,
	})
}

// netBuild creates the network's parts; core sets what the zones share.
type netBuild struct {
	ctx   *pulumi.Context
	name  string
	args  *NetworkArgs
	child pulumi.ResourceOption

	vpc            *ec2.Vpc
	igw            *ec2.InternetGateway
	publicRT, dbRT *ec2.RouteTable
	nat            *ec2.NatGateway // the last NAT gateway created
	routeTables    pulumi.StringArray
}

// core: the VPC, its locked default security group, the internet gateway, and the public and
// database route tables every zone shares.
func (b *netBuild) core() error {
	ctx, name, child := b.ctx, b.name, b.child
	var err error
	b.vpc, err = ec2.NewVpc(ctx, name+"-vpc", &ec2.VpcArgs{
		CidrBlock: pulumi.String(b.args.Cidr.String()), EnableDnsHostnames: pulumi.Bool(true), EnableDnsSupport: pulumi.Bool(true),
		Tags: pulumi.StringMap{"Name": pulumi.String(name)},
	}, child)
	if err != nil {
		return fmt.Errorf("vpc: %w", err)
	}
	// The default security group admits nothing and lets nothing out: every resource gets
	// a group of its own.
	if _, err := ec2.NewDefaultSecurityGroup(ctx, name+"-default-sg", &ec2.DefaultSecurityGroupArgs{
		VpcId: b.vpc.ID(), Tags: pulumi.StringMap{"Name": pulumi.String(name + "-default-locked")},
	}, child); err != nil {
		return fmt.Errorf("default security group: %w", err)
	}
	if b.igw, err = ec2.NewInternetGateway(ctx, name+"-igw", &ec2.InternetGatewayArgs{VpcId: b.vpc.ID()}, child); err != nil {
		return fmt.Errorf("internet gateway: %w", err)
	}
	b.publicRT, err = ec2.NewRouteTable(ctx, name+"-public-rt", &ec2.RouteTableArgs{
		VpcId:  b.vpc.ID(),
		Routes: ec2.RouteTableRouteArray{ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), GatewayId: b.igw.ID()}},
		Tags:   pulumi.StringMap{"Name": pulumi.String(name + "-public")},
	}, child)
	if err != nil {
		return fmt.Errorf("public route table: %w", err)
	}
	b.dbRT, err = ec2.NewRouteTable(ctx, name+"-database-rt", &ec2.RouteTableArgs{
		VpcId: b.vpc.ID(), Tags: pulumi.StringMap{"Name": pulumi.String(name + "-database")},
	}, child)
	if err != nil {
		return fmt.Errorf("database route table: %w", err)
	}
	b.routeTables = pulumi.StringArray{b.publicRT.ID(), b.dbRT.ID()}
	return nil
}

// subnet creates one tier's subnet in a zone. No subnet maps public addresses on launch: the
// box gets an Elastic IP, and nothing else is public.
func (b *netBuild) subnet(tier string, i int, az string) (*ec2.Subnet, error) {
	s, err := ec2.NewSubnet(b.ctx, fmt.Sprintf("%s-%s-%d", b.name, tier, i), &ec2.SubnetArgs{
		VpcId: b.vpc.ID(), AvailabilityZone: pulumi.String(az), CidrBlock: pulumi.String(subnetCidr(b.args.Cidr, tier, i)),
		MapPublicIpOnLaunch: pulumi.Bool(false),
		Tags:                pulumi.StringMap{"Name": pulumi.Sprintf("%s-%s-%s", b.name, tier, az), "llama:tier": pulumi.String(tier)},
	}, b.child)
	if err != nil {
		return nil, fmt.Errorf("%s subnet in %s: %w", tier, az, err)
	}
	return s, nil
}

// zone creates a zone's public, private and database subnets and their routes: the private
// subnet routes out through a NAT gateway where the args ask for one.
func (b *netBuild) zone(i int, az string) (pub, priv, db *ec2.Subnet, err error) {
	ctx, name, child := b.ctx, b.name, b.child
	if pub, err = b.subnet("public", i, az); err != nil {
		return
	}
	if priv, err = b.subnet("private", i, az); err != nil {
		return
	}
	if db, err = b.subnet("database", i, az); err != nil {
		return
	}
	for _, t := range []struct {
		tier   string
		subnet *ec2.Subnet
		rt     *ec2.RouteTable
	}{{"public", pub, b.publicRT}, {"database", db, b.dbRT}} {
		if _, err = ec2.NewRouteTableAssociation(ctx, fmt.Sprintf("%s-%s-rta-%d", name, t.tier, i), &ec2.RouteTableAssociationArgs{
			SubnetId: t.subnet.ID(), RouteTableId: t.rt.ID(),
		}, child); err != nil {
			return nil, nil, nil, fmt.Errorf("%s route table association: %w", t.tier, err)
		}
	}
	if b.args.Nat && (b.nat == nil || b.args.NatPerAz) {
		if err = b.natGateway(i, pub); err != nil {
			return
		}
	}
	routes := ec2.RouteTableRouteArray{}
	if b.nat != nil {
		routes = append(routes, ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), NatGatewayId: b.nat.ID()})
	}
	privRT, err := ec2.NewRouteTable(ctx, fmt.Sprintf("%s-private-rt-%d", name, i), &ec2.RouteTableArgs{
		VpcId: b.vpc.ID(), Routes: routes, Tags: pulumi.StringMap{"Name": pulumi.Sprintf("%s-private-%s", name, az)},
	}, child)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("private route table: %w", err)
	}
	if _, err = ec2.NewRouteTableAssociation(ctx, fmt.Sprintf("%s-private-rta-%d", name, i), &ec2.RouteTableAssociationArgs{
		SubnetId: priv.ID(), RouteTableId: privRT.ID(),
	}, child); err != nil {
		return nil, nil, nil, fmt.Errorf("private route table association: %w", err)
	}
	b.routeTables = append(b.routeTables, privRT.ID())
	return pub, priv, db, nil
}

// natGateway creates a NAT gateway and its address in a zone's public subnet.
func (b *netBuild) natGateway(i int, pub *ec2.Subnet) error {
	natName := fmt.Sprintf("%s-nat-%d", b.name, i)
	eip, err := ec2.NewEip(b.ctx, natName+"-eip", &ec2.EipArgs{Domain: pulumi.String("vpc")}, b.child)
	if err != nil {
		return fmt.Errorf("NAT address: %w", err)
	}
	b.nat, err = ec2.NewNatGateway(b.ctx, natName, &ec2.NatGatewayArgs{
		AllocationId: eip.ID(), SubnetId: pub.ID(), Tags: pulumi.StringMap{"Name": pulumi.String(natName)},
	}, b.child, pulumi.DependsOn([]pulumi.Resource{b.igw}))
	if err != nil {
		return fmt.Errorf("NAT gateway: %w", err)
	}
	return nil
}

// endpoints: S3 and DynamoDB traffic stays on AWS's network and costs no NAT processing.
func (b *netBuild) endpoints() error {
	for _, svc := range []string{"s3", "dynamodb"} {
		if _, err := ec2.NewVpcEndpoint(b.ctx, b.name+"-"+svc+"-endpoint", &ec2.VpcEndpointArgs{
			VpcId: b.vpc.ID(), ServiceName: pulumi.String(ServiceName(b.args.Region, svc)),
			VpcEndpointType: pulumi.String("Gateway"), RouteTableIds: b.routeTables,
		}, b.child); err != nil {
			return fmt.Errorf("%s endpoint: %w", svc, err)
		}
	}
	return nil
}

// interfaceEndpoints: an interface endpoint of each service the args name, in the private
// subnets, with private DNS (the SDKs' default endpoints resolve to it), admitting HTTPS from
// the app's group alone.
func (b *netBuild) interfaceEndpoints(private pulumi.StringArray, app pulumi.IDOutput) ([]pulumi.Resource, error) {
	if len(b.args.InterfaceEndpoints) == 0 {
		return nil, nil
	}
	sg, err := NewSecurityGroup(b.ctx, b.name+"-endpoints-sg", &SecurityGroupArgs{
		VpcID: b.vpc.ID(), Description: "Interface endpoints: HTTPS from the app",
		Ingress: []Ingress{{Name: "app", Port: 443, SourceGroup: app, Description: "HTTPS from the app"}},
	}, b.child)
	if err != nil {
		return nil, err
	}
	var out []pulumi.Resource
	for _, svc := range b.args.InterfaceEndpoints {
		e, err := ec2.NewVpcEndpoint(b.ctx, b.name+"-"+svc+"-endpoint", &ec2.VpcEndpointArgs{
			VpcId: b.vpc.ID(), ServiceName: pulumi.String(ServiceName(b.args.Region, svc)),
			VpcEndpointType: pulumi.String("Interface"), SubnetIds: private, PrivateDnsEnabled: pulumi.Bool(true),
			SecurityGroupIds: pulumi.StringArray{sg.ID()},
		}, b.child)
		if err != nil {
			return nil, fmt.Errorf("%s endpoint: %w", svc, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// ServiceName is a VPC endpoint's service name in a region: com.amazonaws.<region>.<service>,
// under cn.com.amazonaws in the China regions (VPC User Guide, "AWS services that integrate
// with AWS PrivateLink"; Amazon VPC in the China regions).
func ServiceName(region, service string) string {
	prefix := "com.amazonaws"
	if strings.HasPrefix(region, "cn-") {
		prefix = "cn.com.amazonaws"
	}
	return prefix + "." + region + "." + service
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

// Command cache-in-a-vpc is a small Pulumi program built from two of the Llama components
// without the stage ladder: a VPC over two zones and a Multi-AZ Valkey cache that only the
// VPC's app security group can reach. Run it with `pulumi up` from this directory; it reads
// no config and creates no monitoring (a nil monitor raises no alarms).
package main

import (
	"net/netip"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/access"
	"github.com/llama-stages/llama/components/cache"
	"github.com/llama-stages/llama/components/monitor"
	"github.com/llama-stages/llama/components/network"
)

func main() { pulumi.Run(program) }

// program lays down the network, then the cache in its private subnets.
func program(ctx *pulumi.Context) error {
	region, err := aws.GetRegion(ctx, nil)
	if err != nil {
		return err
	}
	zones, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{State: pulumi.StringRef("available")})
	if err != nil {
		return err
	}
	azs := zones.Names[:2]
	net, err := network.NewNetwork(ctx, "example", &network.NetworkArgs{
		Cidr: netip.MustParsePrefix("10.42.0.0/16"), AZs: azs, Account: access.Account{Region: region.Name}, Ops: monitor.Ops{LogRetentionDays: 30},
	})
	if err != nil {
		return err
	}
	c, err := cache.NewCache(ctx, "sessions", &cache.CacheArgs{
		ID: "example-sessions", VpcID: net.VpcID, SubnetIDs: net.PrivateSubnetIDs, AZs: azs,
		ClientGroup: net.AppSecurityGroupID, NodeType: "cache.t4g.micro", Nodes: 2, Ops: monitor.Ops{LogRetentionDays: 30},
	})
	if err != nil {
		return err
	}
	ctx.Export("vpcId", net.VpcID)
	ctx.Export("appSecurityGroupId", net.AppSecurityGroupID)
	ctx.Export("cacheEndpoint", c.PrimaryEndpoint)
	ctx.Export("cacheAuthSecretArn", c.SecretArn)
	return nil
}

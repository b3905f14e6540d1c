package network

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/access"
	"github.com/llama-stages/llama/components/monitor"
	"github.com/llama-stages/llama/offline"
)

func plan(t *testing.T, args *NetworkArgs) (*offline.Plan, error) {
	t.Helper()
	return offline.Run(func(ctx *pulumi.Context) (pulumi.Map, error) {
		_, err := NewNetwork(ctx, "net", args)
		return nil, err
	}, offline.Options{})
}

// TestNetwork: three tiers in every zone, nothing public on launch, NAT only when asked, one
// gateway per zone when asked per zone; bad args are refused before anything is created.
func TestNetwork(t *testing.T) {
	azs := []string{"us-east-1a", "us-east-1b", "us-east-1c"}
	cases := []struct {
		name          string
		nat, natPerAz bool
		wantGateways  int
	}{{"no NAT", false, false, 0}, {"one NAT", true, false, 1}, {"NAT per zone", true, true, 3}}
	for _, c := range cases {
		p, err := plan(t, &NetworkArgs{Cidr: netip.MustParsePrefix("10.1.0.0/16"), AZs: azs, Nat: c.nat, NatPerAz: c.natPerAz, Account: access.Account{Region: "us-east-1"}, Ops: monitor.Ops{LogRetentionDays: 30}})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		zones := map[string]int{}
		for _, s := range p.OfType("aws:ec2/subnet:Subnet") {
			zones[s.Input("availabilityZone").(string)]++
			if s.Input("mapPublicIpOnLaunch") != false || !strings.HasPrefix(s.Input("cidrBlock").(string), "10.1.") {
				t.Errorf("%s: subnet %s %v", c.name, s.Name, s.Inputs)
			}
		}
		for _, az := range azs {
			if zones[az] != 3 {
				t.Errorf("%s: %s has %d subnets, want public, private and database", c.name, az, zones[az])
			}
		}
		if n := len(p.OfType("aws:ec2/natGateway:NatGateway")); n != c.wantGateways {
			t.Errorf("%s: %d NAT gateways, want %d", c.name, n, c.wantGateways)
		}
	}
	if _, err := plan(t, &NetworkArgs{Cidr: netip.MustParsePrefix("10.1.0.0/16"), AZs: azs[:1], Account: access.Account{Region: "us-east-1"}}); err == nil {
		t.Error("one availability zone was accepted")
	}
	if _, err := plan(t, &NetworkArgs{Cidr: netip.MustParsePrefix("10.1.0.0/24"), AZs: azs, Account: access.Account{Region: "us-east-1"}}); err == nil {
		t.Error("a /24 was accepted")
	}
}

func TestServiceName(t *testing.T) {
	for region, want := range map[string]string{"eu-west-1": "com.amazonaws.eu-west-1.s3", "cn-north-1": "cn.com.amazonaws.cn-north-1.s3"} {
		if got := ServiceName(region, "s3"); got != want {
			t.Errorf("%s: %s, want %s", region, got, want)
		}
	}
}

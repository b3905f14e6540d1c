package cache

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/access"
	"github.com/llama-stages/llama/components/monitor"
	"github.com/llama-stages/llama/offline"
)

func args() *CacheArgs {
	return &CacheArgs{ID: "llama-dev-cache", VpcID: pulumi.String("vpc-0a1b2c3d4e5f60718"), SubnetIDs: pulumi.ToStringArray([]string{"subnet-1", "subnet-2"}),
		AZs: []string{"us-east-1a", "us-east-1b"}, ClientGroup: pulumi.String("sg-0a1b2c3d4e5f60718"), NodeType: "cache.t4g.small", Nodes: 2}
}

func plan(t *testing.T, a *CacheArgs, withMonitor bool) (*offline.Plan, error) {
	t.Helper()
	return offline.Run(func(ctx *pulumi.Context) (pulumi.Map, error) {
		if withMonitor {
			m, err := monitor.NewMonitor(ctx, "monitor", &monitor.MonitorArgs{Account: access.Account{Region: "us-east-1", AccountID: offline.Account}})
			if err != nil {
				return nil, err
			}
			a.Monitor = m
		}
		_, err := NewCache(ctx, "cache", a)
		return nil, err
	}, offline.Options{})
}

// TestCache: Multi-AZ with failover, encrypted both ways, nodes in different zones, the app's
// group alone admitted; alarms only with a monitor; fewer than two nodes refused.
func TestCache(t *testing.T) {
	p, err := plan(t, args(), false)
	if err != nil {
		t.Fatal(err)
	}
	rg := p.OfType("aws:elasticache/replicationGroup:ReplicationGroup")[0]
	for _, k := range []string{"multiAzEnabled", "automaticFailoverEnabled", "atRestEncryptionEnabled", "transitEncryptionEnabled"} {
		if rg.Input(k) != true {
			t.Errorf("%s is %v", k, rg.Input(k))
		}
	}
	if azs := rg.Input("preferredCacheClusterAzs").([]any); len(azs) != 2 || azs[0] == azs[1] {
		t.Errorf("nodes in %v", azs)
	}
	if rules := p.OfType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"); len(rules) != 1 || rules[0].Input("referencedSecurityGroupId") != "sg-0a1b2c3d4e5f60718" {
		t.Errorf("ingress %v", rules)
	}
	if n := len(p.OfType("aws:cloudwatch/metricAlarm:MetricAlarm")); n != 0 {
		t.Errorf("%d alarms without a monitor", n)
	}
	if p, err = plan(t, args(), true); err != nil || len(p.OfType("aws:cloudwatch/metricAlarm:MetricAlarm")) == 0 {
		t.Errorf("no alarms with a monitor (%v)", err)
	}
	one := args()
	one.Nodes = 1
	if _, err := plan(t, one, false); err == nil {
		t.Error("one node was accepted")
	}
}

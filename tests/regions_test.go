package tests

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/llama-stages/llama/stacks"
)

// TestRegionsAndPartitions plans every rung of both ladders in several regions and in the
// aws-cn partition: every plan passes the provider rules, the load balancer's access logs are
// delivered by the region's own deliverer, and no ARN names another partition.
func TestRegionsAndPartitions(t *testing.T) {
	deliverer := map[string]string{
		"us-east-1":      `"AWS":"arn:aws:iam::127311923021:root"`,
		"eu-west-1":      `"AWS":"arn:aws:iam::156460612806:root"`,
		"af-south-1":     `"AWS":"arn:aws:iam::098369216593:root"`,
		"ap-southeast-1": `"AWS":"arn:aws:iam::114774131450:root"`,
		"cn-north-1":     `"AWS":"arn:aws-cn:iam::638102146993:root"`,
		"eu-central-2":   `"Service":"logdelivery.elasticloadbalancing.amazonaws.com"`,
	}
	for region, want := range deliverer {
		for _, r := range allRungs() {
			p, err := tryPlan(r.platform, r.stage, map[string]string{"aws:region": region}, false)
			if err != nil {
				t.Errorf("%s in %s: %v", r, region, err)
				continue
			}
			if r.platform == stacks.Servers && r.stage == "load-balanced" {
				pol := str(in(named(t, p, "aws:s3/bucketPolicy:BucketPolicy", "fleet-access-logs-policy"), "policy"))
				if !strings.Contains(pol, want) {
					t.Errorf("%s: access logs are delivered by %s", region, pol)
				}
			}
			if region == "cn-north-1" {
				for _, res := range p.Resources {
					for k, v := range res.Inputs {
						if s := str(v); strings.Contains(s, "arn:aws:") {
							t.Errorf("%s in cn-north-1: %s input %s names the aws partition: %.120s", r, res.Name, k, s)
						}
						// Endpoint services live under cn.com.amazonaws in the China regions.
						if s := str(v); res.Type == "aws:ec2/vpcEndpoint:VpcEndpoint" && k == "serviceName" && !strings.HasPrefix(s, "cn.com.amazonaws.cn-north-1.") {
							t.Errorf("%s in cn-north-1: endpoint service %s", r, s)
						}
					}
				}
			}
		}
	}
}

// TestFabricatedShapes: the offline engine's made-up outputs take the real forms: RDS ids are
// DBI resource ids, endpoints name the planned region, listener ARNs name their load balancer,
// associations and proxy targets have their ids' shapes, and the box's address lies in its
// subnet.
func TestFabricatedShapes(t *testing.T) {
	p := plan(t, stacks.Servers, "cache", map[string]string{"aws:region": "eu-west-1"})
	for _, r := range ofType(p, typRDS) {
		if !strings.HasPrefix(r.ID, "db-") || !strings.Contains(str(r.Outputs["address"]), ".eu-west-1.rds.amazonaws.com") {
			t.Errorf("RDS instance %s: id %s, address %v", r.Name, r.ID, r.Outputs["address"])
		}
	}
	if ep := str(ofType(p, typCache)[0].Outputs["primaryEndpointAddress"]); !strings.HasSuffix(ep, ".euw1.cache.amazonaws.com") {
		t.Errorf("cache endpoint %s", ep)
	}
	alb := ofType(p, "aws:lb/loadBalancer:LoadBalancer")[0]
	for _, l := range ofType(p, "aws:lb/listener:Listener") {
		if !strings.HasPrefix(l.ID, "arn:aws:elasticloadbalancing:eu-west-1:") || !strings.Contains(l.ID, ":listener/"+str(alb.Outputs["arnSuffix"])+"/") {
			t.Errorf("listener id %s does not name its load balancer %v", l.ID, alb.Outputs["arnSuffix"])
		}
	}
	for _, a := range ofType(p, "aws:ec2/routeTableAssociation:RouteTableAssociation") {
		if !strings.HasPrefix(a.ID, "rtbassoc-") {
			t.Errorf("route table association id %s", a.ID)
		}
	}
	box := plan(t, stacks.Servers, "single-box", nil)
	inst := ofType(box, typInstance)[0]
	subnet := byID(box, str(in(inst, "subnetId")))
	if subnet == nil || !netip.MustParsePrefix(str(in(subnet, "cidrBlock"))).Contains(netip.MustParseAddr(str(inst.Outputs["privateIp"]))) {
		t.Errorf("the box's address %v is not in its subnet %v", inst.Outputs["privateIp"], in(subnet, "cidrBlock"))
	}
	sl := plan(t, stacks.Serverless, "replicas", nil)
	if id := ofType(sl, "aws:rds/proxyTarget:ProxyTarget")[0].ID; !strings.Contains(id, "/default/TRACKED_CLUSTER/") {
		t.Errorf("proxy target id %s", id)
	}
}

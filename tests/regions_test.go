package tests

import (
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
					}
				}
			}
		}
	}
}

package main

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/offline"
)

// TestProgram plans the example under the strict offline engine, as a preview and as an
// update: it builds, passes the provider rules, and puts the cache where only the app group
// reaches it.
func TestProgram(t *testing.T) {
	for _, dry := range []bool{true, false} {
		p, err := offline.Run(func(ctx *pulumi.Context) (pulumi.Map, error) { return nil, program(ctx) }, offline.Options{DryRun: dry, Config: map[string]string{"aws:region": "eu-west-1"}})
		if err != nil {
			t.Fatalf("dry run %v: %v", dry, err)
		}
		if len(p.OfType("aws:ec2/vpc:Vpc")) != 1 || len(p.OfType("aws:elasticache/replicationGroup:ReplicationGroup")) != 1 {
			t.Errorf("dry run %v: %d resources, not a VPC and a cache", dry, len(p.Resources))
		}
		sg := p.Named("aws:ec2/securityGroup:SecurityGroup", "example-app-sg")
		rules := p.OfType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
		if sg == nil || len(rules) != 1 || (!dry && rules[0].Input("referencedSecurityGroupId") != sg.ID) {
			t.Errorf("dry run %v: the cache admits %v", dry, rules)
		}
	}
}

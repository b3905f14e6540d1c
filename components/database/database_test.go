package database

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/monitor"
	"github.com/llama-stages/llama/offline"
)

var azs = []string{"us-east-1a", "us-east-1b", "us-east-1c"}

// TestPostgres: the primary is protected and encrypted and keeps a final snapshot; each
// replica sits in another zone than the primary's and than each other's, and holds no data
// of its own.
func TestPostgres(t *testing.T) {
	p, err := offline.Try(func(ctx *pulumi.Context) error {
		_, err := NewPostgres(ctx, "db", &PostgresArgs{Identifier: "llama-dev-db", VpcID: pulumi.String("vpc-1"), SubnetIDs: pulumi.ToStringArray([]string{"subnet-1", "subnet-2"}),
			AZs: azs, EngineVersion: "16", InstanceClass: "db.t4g.medium", StorageGb: 20, MaxStorageGb: 100, BackupRetentionDays: 7, Replicas: 2, Ops: monitor.Ops{Protect: true}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	zones := map[any]bool{}
	for _, r := range p.OfType("aws:rds/instance:Instance") {
		zones[r.Input("availabilityZone")] = true
		if strings.Contains(r.Name, "primary") {
			if !r.Protect || !r.Stateful || r.Input("storageEncrypted") != true || r.Input("skipFinalSnapshot") != false {
				t.Errorf("primary: protect %v, inputs %v", r.Protect, r.Inputs)
			}
		} else if r.Stateful {
			t.Errorf("replica %s counted as holding data", r.Name)
		}
	}
	if len(zones) != 3 {
		t.Errorf("the primary and two replicas span %d zones", len(zones))
	}
}

// TestAuroraArgs: a shard sharing a base takes the base's network; a VpcID beside it would be
// dropped silently, so it is refused, as is a reader count Aurora does not allow.
func TestAuroraArgs(t *testing.T) {
	_, err := offline.Try(func(ctx *pulumi.Context) error {
		base, err := NewShardBase(ctx, "shards", &ShardBaseArgs{VpcID: pulumi.String("vpc-1"), SubnetIDs: pulumi.ToStringArray([]string{"subnet-1", "subnet-2"})})
		if err != nil {
			return err
		}
		_, err = NewAurora(ctx, "shard-0", &AuroraArgs{Identifier: "llama-dev-shard-0", AZs: azs, Base: base, VpcID: pulumi.String("vpc-2"),
			InstanceClass: "db.r6g.large", BackupRetentionDays: 7})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "Base") {
		t.Errorf("a VpcID beside a Base: %v", err)
	}
	_, err = offline.Try(func(ctx *pulumi.Context) error {
		_, err := NewAurora(ctx, "db", &AuroraArgs{Identifier: "llama-dev-db", AZs: azs, VpcID: pulumi.String("vpc-1"), SubnetIDs: pulumi.ToStringArray([]string{"subnet-1"}),
			Serverless: true, MinAcu: 0.5, MaxAcu: 8, Readers: 16, BackupRetentionDays: 7})
		return err
	})
	if err == nil {
		t.Error("16 readers were accepted")
	}
}

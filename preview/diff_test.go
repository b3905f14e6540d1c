package preview

import (
	"testing"

	"github.com/llama-stages/llama/offline"
)

func res(typ, name string, retain bool, inputs map[string]any) *offline.Resource {
	return &offline.Resource{URN: "urn:" + typ + "::" + name, Type: typ, Name: name, Custom: true, Inputs: inputs,
		RetainOnDelete: retain, Stateful: offline.Stateful(typ, inputs)}
}

func ignoring(r *offline.Resource) *offline.Resource { r.IgnoreChanges = []string{"ami"}; return r }

func TestDiffClassifies(t *testing.T) {
	vol := "aws:ebs/volume:Volume"
	db := "aws:rds/instance:Instance"
	tbl := "aws:dynamodb/table:Table"
	rg := "aws:elasticache/replicationGroup:ReplicationGroup"
	cases := []struct {
		name                                      string
		before, after                             *offline.Resource // nil: absent
		creates, updates, replaces, deletes, kept int
		retained, dataLoss                        int
	}{
		{"create", nil, res(db, "d", false, map[string]any{"identifier": "a"}), 1, 0, 0, 0, 0, 0, 0},
		{"in-place update", res(db, "d", false, map[string]any{"identifier": "a", "instanceClass": "x"}),
			res(db, "d", false, map[string]any{"identifier": "a", "instanceClass": "y"}), 0, 1, 0, 0, 1, 0, 0},
		{"replace a database", res(db, "d", false, map[string]any{"identifier": "a", "dbName": "x"}),
			res(db, "d", false, map[string]any{"identifier": "a", "dbName": "y"}), 0, 0, 1, 0, 0, 0, 1},
		{"rename a database in place", res(db, "d", false, map[string]any{"identifier": "a"}),
			res(db, "d", false, map[string]any{"identifier": "b"}), 0, 1, 0, 0, 1, 0, 0},
		{"drop a table's sort key", res(tbl, "t", false, map[string]any{"hashKey": "u", "rangeKey": "c"}),
			res(tbl, "t", false, map[string]any{"hashKey": "u"}), 0, 0, 1, 0, 0, 0, 1},
		{"valkey to redis", res(rg, "c", false, map[string]any{"engine": "valkey", "engineVersion": "8.0"}),
			res(rg, "c", false, map[string]any{"engine": "redis", "engineVersion": "7.1"}), 0, 0, 1, 0, 0, 0, 1},
		{"redis to valkey", res(rg, "c", false, map[string]any{"engine": "redis", "engineVersion": "7.1"}),
			res(rg, "c", false, map[string]any{"engine": "valkey", "engineVersion": "8.0"}), 0, 1, 0, 0, 1, 0, 0},
		{"a cache version down", res(rg, "c", false, map[string]any{"engine": "valkey", "engineVersion": "8.0"}),
			res(rg, "c", false, map[string]any{"engine": "valkey", "engineVersion": "7.2"}), 0, 0, 1, 0, 0, 0, 1},
		{"a cache version up", res(rg, "c", false, map[string]any{"engine": "valkey", "engineVersion": "7.2"}),
			res(rg, "c", false, map[string]any{"engine": "valkey", "engineVersion": "8.0"}), 0, 1, 0, 0, 1, 0, 0},
		{"ebsOptimized off", res("aws:ec2/instance:Instance", "box", false, map[string]any{"ebsOptimized": true}),
			res("aws:ec2/instance:Instance", "box", false, map[string]any{"ebsOptimized": false}), 0, 0, 1, 0, 0, 0, 0},
		{"replace a retained volume", res(vol, "v", true, map[string]any{"availabilityZone": "a"}),
			res(vol, "v", true, map[string]any{"availabilityZone": "b"}), 0, 0, 1, 0, 0, 1, 0},
		{"delete a database", res(db, "d", false, map[string]any{"identifier": "a"}), nil, 0, 0, 0, 1, 0, 0, 1},
		{"delete a retained volume", res(vol, "v", true, map[string]any{}), nil, 0, 0, 0, 0, 0, 1, 0},
		{"delete a replica", res(db, "r", false, map[string]any{"replicateSourceDb": "a"}), nil, 0, 0, 0, 1, 0, 0, 0},
		{"ignored AMI change", ignoring(res("aws:ec2/instance:Instance", "box", false, map[string]any{"ami": "ami-1"})),
			ignoring(res("aws:ec2/instance:Instance", "box", false, map[string]any{"ami": "ami-2"})), 0, 0, 0, 0, 0, 0, 0},
		{"Multi-AZ leaves the AZ to AWS", res(db, "d", false, map[string]any{"availabilityZone": "a", "multiAz": false}),
			res(db, "d", false, map[string]any{"multiAz": true}), 0, 1, 0, 0, 1, 0, 0},
		{"unchanged", res(db, "d", false, map[string]any{"identifier": "a"}), res(db, "d", false, map[string]any{"identifier": "a"}), 0, 0, 0, 0, 1, 0, 0},
	}
	for _, c := range cases {
		a, b := &offline.Plan{}, &offline.Plan{}
		if c.before != nil {
			a.Resources = append(a.Resources, c.before)
		}
		if c.after != nil {
			b.Resources = append(b.Resources, c.after)
		}
		d := Diff(a, b)
		got := []int{len(d.Creates), len(d.Updates), len(d.Replaces), len(d.Deletes), len(d.Kept), len(d.Retained), len(d.DataLoss)}
		want := []int{c.creates, c.updates, c.replaces, c.deletes, c.kept, c.retained, c.dataLoss}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: creates/updates/replaces/deletes/kept/retained/dataLoss = %v, want %v", c.name, got, want)
				break
			}
		}
	}
}

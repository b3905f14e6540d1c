package nosql

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/llama-stages/llama/components/monitor"
	"github.com/llama-stages/llama/offline"
)

// TestTables: each table is on-demand, encrypted, recoverable to any second of the last 35
// days and, protected, refuses deletion; the app may touch these tables and no others.
func TestTables(t *testing.T) {
	var access string
	p, err := offline.Run(func(ctx *pulumi.Context) (pulumi.Map, error) {
		tb, err := NewTables(ctx, "tables", &TablesArgs{Prefix: "llama-dev",
			Tables: []Table{{Name: "activity", PartitionKey: "userId", SortKey: "createdAt", TTLAttribute: "expiresAt"}, {Name: "feed", PartitionKey: "id"}}, Ops: monitor.Ops{Protect: true}})
		if err != nil {
			return nil, err
		}
		for _, s := range tb.Access() {
			access += strings.Join(s.Actions, ",")
		}
		return nil, nil
	}, offline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tables := p.OfType("aws:dynamodb/table:Table")
	if len(tables) != 2 {
		t.Fatalf("%d tables", len(tables))
	}
	for _, tb := range tables {
		if tb.Input("billingMode") != "PAY_PER_REQUEST" || tb.Input("pointInTimeRecovery", "enabled") != true ||
			tb.Input("deletionProtectionEnabled") != true || !tb.Protect || !tb.Stateful {
			t.Errorf("table %s: %v", tb.Name, tb.Inputs)
		}
	}
	if a := p.Named("aws:dynamodb/table:Table", "tables-activity"); a.Input("rangeKey") != "createdAt" || a.Input("ttl", "attributeName") != "expiresAt" {
		t.Errorf("activity's keys %v", a.Inputs)
	}
	if strings.Contains(access, "dynamodb:*") || strings.Contains(access, "DeleteTable") {
		t.Errorf("the app may %s", access)
	}
	if _, err := offline.Run(func(ctx *pulumi.Context) (pulumi.Map, error) {
		_, err := NewTables(ctx, "tables", &TablesArgs{Prefix: "llama-dev", Tables: []Table{{Name: "x"}}})
		return nil, err
	}, offline.Options{}); err == nil {
		t.Error("a table without a partition key was accepted")
	}
}

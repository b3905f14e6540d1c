package contract

import (
	"strings"
	"testing"
)

// TestKeys: the key builders name what the app and the stack agree on, and the table shows
// every row.
func TestKeys(t *testing.T) {
	for got, want := range map[string]string{
		DBReplica(2): "db/replicas/2/endpoint", Shard(3, "writer"): "shards/3/writer",
		TableKey("activity", "sortKey"): "tables/activity/sortKey", Move("db"): "moves/db", Next + DBPrimaryEndpoint: "next/db/primary/endpoint",
	} {
		if got != want {
			t.Errorf("%s, want %s", got, want)
		}
	}
	table := Table()
	if rows := strings.Count(table, "\n") - 2; rows != len(Keys) {
		t.Errorf("the table has %d rows for %d keys", rows, len(Keys))
	}
	for _, k := range Keys {
		if !strings.Contains(table, "`"+k.Names[0]+"`") || k.Rungs == "" || k.Meaning == "" {
			t.Errorf("row %v is incomplete or missing", k.Names)
		}
	}
}

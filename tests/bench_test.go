package tests

import (
	"fmt"
	"testing"

	"github.com/llama-stages/llama/preview"
	"github.com/llama-stages/llama/stacks"
)

func benchPlan(b *testing.B, platform stacks.Platform, stage string, over map[string]string) {
	b.Helper()
	cfg := map[string]string{}
	for k, v := range cdnConfig {
		cfg[k] = v
	}
	for k, v := range over {
		cfg[k] = v
	}
	for i := 0; i < b.N; i++ {
		if _, err := preview.Plan(preview.Request{Dir: "..", Stage: stage, Platform: string(platform), Overrides: cfg}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlan plans each stage of both ladders in-process.
func BenchmarkPlan(b *testing.B) {
	for _, r := range allRungs() {
		b.Run(r.String(), func(b *testing.B) { benchPlan(b, r.platform, r.stage, nil) })
	}
}

// BenchmarkPlanShards plans the sharded stage with 4, 16 and 64 shards: growth should be linear.
func BenchmarkPlanShards(b *testing.B) {
	for _, n := range []int{4, 16, 64} {
		b.Run(fmt.Sprintf("shards=%d", n), func(b *testing.B) {
			benchPlan(b, stacks.Servers, "sharded", map[string]string{"shards": fmt.Sprint(n), "dbClusterQuota": "64", "dbInstanceQuota": "200"})
		})
	}
}

// BenchmarkDiffAdjacent plans and diffs every adjacent promotion of both ladders.
func BenchmarkDiffAdjacent(b *testing.B) {
	for i := 0; i < b.N; i++ {
		for _, p := range stacks.Platforms {
			stages := stacks.StageNames(p)
			for j := 0; j+1 < len(stages); j++ {
				x, err := preview.Plan(preview.Request{Dir: "..", Stage: stages[j], Platform: string(p), Overrides: cdnConfig})
				if err != nil {
					b.Fatal(err)
				}
				y, err := preview.Plan(preview.Request{Dir: "..", Stage: stages[j+1], Platform: string(p), Overrides: cdnConfig})
				if err != nil {
					b.Fatal(err)
				}
				if d := preview.Diff(x, y); len(d.DataLoss) > 0 {
					b.Fatalf("%s -> %s loses data", stages[j], stages[j+1])
				}
			}
		}
	}
}
